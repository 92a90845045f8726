//! WebVTT: the `WEBVTT` header, then cues with ids and `HH:MM:SS.mmm` times.
//! `-->` cannot appear in cue text, so it is written as `→`; `&`, `<` and
//! `>` are escaped; blank lines (which end a cue) are dropped.

use std::io;

use super::timestamp;
use crate::script::Script;

/// # Errors
/// I/O errors of `out`.
pub fn write(script: &Script, out: &mut impl io::Write) -> io::Result<()> {
    writeln!(out, "WEBVTT")?;
    for cue in &script.cues {
        writeln!(out)?;
        writeln!(out, "{}", cue.id)?;
        writeln!(
            out,
            "{} --> {}",
            timestamp(cue.start, '.'),
            timestamp(cue.end, '.')
        )?;
        let text = super::srt::text_lines(&cue.text)
            .replace("-->", "→")
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        writeln!(out, "{text}")?;
    }
    Ok(())
}
