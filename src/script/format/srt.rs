//! SubRip (SRT): numbered cues, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, the cue's
//! written text, a blank line between cues. A blank line ends a cue, so
//! blank lines inside a cue's text are dropped.

use std::io;

use super::timestamp;
use crate::script::Script;

/// # Errors
/// I/O errors of `out`.
pub fn write(script: &Script, out: &mut impl io::Write) -> io::Result<()> {
    for (index, cue) in script.cues.iter().enumerate() {
        if index > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{}", index + 1)?;
        writeln!(
            out,
            "{} --> {}",
            timestamp(cue.start, ','),
            timestamp(cue.end, ',')
        )?;
        writeln!(out, "{}", text_lines(&cue.text))?;
    }
    Ok(())
}

/// The cue text without blank lines (they would end the cue early).
pub(crate) fn text_lines(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}
