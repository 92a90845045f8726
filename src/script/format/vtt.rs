//! WebVTT: the `WEBVTT` header, then cues with ids and `HH:MM:SS.mmm` times.
//! `-->` cannot appear in cue text, so it is written as `→`.

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
        let text = cue
            .text
            .replace("-->", "→")
            .replace('&', "&amp;")
            .replace('<', "&lt;");
        writeln!(out, "{text}")?;
    }
    Ok(())
}
