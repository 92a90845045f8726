//! SubRip (SRT): numbered cues, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, the cue's
//! written text, a blank line between cues.

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
        writeln!(out, "{}", cue.text.replace("\n\n", "\n"))?;
    }
    Ok(())
}
