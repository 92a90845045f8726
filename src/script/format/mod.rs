//! Script writers, one per format, each writing to `impl io::Write`.

pub mod announcer;
pub mod json;
pub mod srt;
pub mod vtt;

use std::io;

use super::Script;

/// The script formats bantin writes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Txt,
    Srt,
    Vtt,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Txt => "txt",
            Format::Srt => "srt",
            Format::Vtt => "vtt",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Txt => "text/plain; charset=utf-8",
            Format::Srt => "application/x-subrip; charset=utf-8",
            Format::Vtt => "text/vtt; charset=utf-8",
        }
    }

    /// # Errors
    /// I/O errors of `out`.
    pub fn write(self, script: &Script, out: &mut impl io::Write) -> io::Result<()> {
        match self {
            Format::Json => json::write(script, out),
            Format::Txt => announcer::write(script, out),
            Format::Srt => srt::write(script, out),
            Format::Vtt => vtt::write(script, out),
        }
    }

    /// The script rendered to a string.
    pub fn text(self, script: &Script) -> String {
        let mut out = Vec::new();
        self.write(script, &mut out)
            .expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("writers emit UTF-8")
    }
}

/// `HH:MM:SS` + separator + milliseconds.
pub(crate) fn timestamp(d: std::time::Duration, separator: char) -> String {
    let ms = d.as_millis();
    format!(
        "{:02}:{:02}:{:02}{separator}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}
