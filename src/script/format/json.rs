//! The script as JSON. Stable field names: `title`, `published`, `total_ms`,
//! `cues[].{id, paragraph, text, spoken, start_ms, end_ms}`; more may be added.

use std::io;

use serde::Serialize;

use crate::script::Script;

#[derive(Serialize)]
struct JsonScript<'a> {
    title: &'a str,
    published: Option<&'a str>,
    voice: &'a str,
    measured: bool,
    total_ms: u64,
    syllables: usize,
    cues: Vec<JsonCue<'a>>,
}

#[derive(Serialize)]
struct JsonCue<'a> {
    id: usize,
    paragraph: usize,
    text: &'a str,
    spoken: &'a str,
    parts: &'a [String],
    start_ms: u64,
    end_ms: u64,
    pause_after_ms: u64,
    warnings: Vec<&'a str>,
}

fn ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// # Errors
/// I/O errors of `out`.
pub fn write(script: &Script, out: &mut impl io::Write) -> io::Result<()> {
    let doc = JsonScript {
        title: &script.title,
        published: script.published.as_deref(),
        voice: &script.voice,
        measured: script.measured,
        total_ms: ms(script.total),
        syllables: script.syllables(),
        cues: script
            .cues
            .iter()
            .map(|c| JsonCue {
                id: c.id,
                paragraph: c.paragraph,
                text: &c.text,
                spoken: &c.spoken,
                parts: &c.parts,
                start_ms: ms(c.start),
                end_ms: ms(c.end),
                pause_after_ms: ms(c.pause_after),
                warnings: c.warnings.iter().map(|w| w.message.as_str()).collect(),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}
