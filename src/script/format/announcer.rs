//! The announcer's script (plain text, in Vietnamese): what to say, paragraph
//! by paragraph, each sentence with its cue time, and the total duration.

use std::io;

use crate::script::{Script, clock};

/// # Errors
/// I/O errors of `out`.
pub fn write(script: &Script, out: &mut impl io::Write) -> io::Result<()> {
    writeln!(out, "{}", script.title)?;
    if let Some(published) = &script.published {
        writeln!(out, "Ngày đăng: {published}")?;
    }
    let kind = if script.measured {
        "đo từ âm thanh"
    } else {
        "ước tính"
    };
    writeln!(
        out,
        "Giọng đọc: {} · Thời lượng: {} ({kind})",
        script.voice,
        clock(script.total)
    )?;
    let mut paragraph = None;
    for cue in &script.cues {
        if paragraph != Some(cue.paragraph) {
            writeln!(out)?;
            paragraph = Some(cue.paragraph);
        }
        writeln!(out, "[{}] {}", clock(cue.start), cue.spoken)?;
    }
    writeln!(out)?;
    writeln!(out, "Hết. Tổng thời lượng: {}", clock(script.total))
}
