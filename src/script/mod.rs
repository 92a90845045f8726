//! The timed script: one cue per sentence, with the original text, what is
//! said (by breath group), the tokens behind it, and start/end times —
//! estimated from syllables and the voice's speaking rate before rendering,
//! measured after. Pauses follow punctuation and paragraphs. Writers for
//! each format live in `format/`. Knows nothing of synthesis.
//!
//! Cost: [`build`] is linear in the article. Segmenting and normalizing are
//! linear (see their modules); breath groups are paired with their tokens in
//! one walk, and syllables are counted once per cue.

pub mod format;

use std::ops::Range;
use std::time::Duration;

use serde::Serialize;

use crate::ingest::{Article, BlockKind};
use crate::normalize::{Expansion, Normalizer, Token, Warning, spoken_text};
use crate::segment::{self, Sentence};
use crate::text::syllables;

/// Pauses placed after cues and between breath groups.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Pauses {
    #[serde(with = "crate::voice::seconds")]
    pub after_title: Duration,
    #[serde(with = "crate::voice::seconds")]
    pub after_paragraph: Duration,
    #[serde(with = "crate::voice::seconds")]
    pub after_sentence: Duration,
    #[serde(with = "crate::voice::seconds")]
    pub between_breath_groups: Duration,
}

impl Default for Pauses {
    fn default() -> Self {
        Self {
            after_title: Duration::from_millis(1200),
            after_paragraph: Duration::from_millis(900),
            after_sentence: Duration::from_millis(450),
            between_breath_groups: Duration::from_millis(250),
        }
    }
}

/// How to time a script before it is rendered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    pub syllables_per_minute: f64,
    pub breath_group_syllables: usize,
    pub pauses: Pauses,
}

/// One cue: a sentence as spoken.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cue {
    /// 1-based, in reading order.
    pub id: usize,
    /// 0-based block index in the article (0 is the title).
    pub paragraph: usize,
    pub span: Range<usize>,
    pub text: String,
    pub spoken: String,
    /// Spoken breath groups; joined they make `spoken`.
    pub parts: Vec<String>,
    pub tokens: Vec<Token>,
    pub warnings: Vec<Warning>,
    pub start: Duration,
    pub end: Duration,
    pub pause_after: Duration,
}

/// A timed script of one article.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Script {
    pub title: String,
    pub published: Option<String>,
    pub voice: String,
    /// True once times come from rendered audio instead of estimates.
    pub measured: bool,
    pub cues: Vec<Cue>,
    pub total: Duration,
}

impl Script {
    /// Number of spoken syllables.
    pub fn syllables(&self) -> usize {
        self.cues.iter().map(|c| syllables(&c.spoken)).sum()
    }

    /// All warnings of all cues.
    pub fn warnings(&self) -> impl Iterator<Item = &Warning> {
        self.cues.iter().flat_map(|c| &c.warnings)
    }

    /// Replaces estimated times with measured placements (start, end of each cue's audio).
    pub fn apply_measured(&mut self, placements: &[(Duration, Duration)], total: Duration) {
        for (cue, &(start, end)) in self.cues.iter_mut().zip(placements) {
            cue.start = start;
            cue.end = end;
        }
        self.total = total;
        self.measured = true;
    }
}

/// Builds the estimated script of an article.
pub fn build(article: &Article, normalizer: &Normalizer, voice: &str, timing: &Timing) -> Script {
    build_until(article, normalizer, voice, timing, &|| false)
        .expect("never cancelled: the check always answers false")
}

/// [`build`] that asks `cancelled` before each sentence and gives up
/// (`None`) as soon as it answers true: a service stops the work of a
/// request that is gone.
pub fn build_until(
    article: &Article,
    normalizer: &Normalizer,
    voice: &str,
    timing: &Timing,
    cancelled: &dyn Fn() -> bool,
) -> Option<Script> {
    let sentences = segment::split(article);
    let cues = cues(
        &article.text,
        &sentences,
        normalizer,
        timing,
        |paragraph| {
            if article.blocks[paragraph].kind == BlockKind::Title {
                timing.pauses.after_title
            } else {
                timing.pauses.after_paragraph
            }
        },
        cancelled,
    )?;
    let mut script = Script {
        title: article.title.clone(),
        published: article.published.clone(),
        voice: voice.to_string(),
        measured: false,
        cues,
        total: Duration::ZERO,
    };
    estimate(&mut script, timing);
    Some(script)
}

/// The cues of a text that is no article (a bulletin's greeting or
/// sign-off): one paragraph, its sentences made into cues as an article's
/// are. Times are left at zero.
pub fn text_cues(text: &str, normalizer: &Normalizer, timing: &Timing) -> Vec<Cue> {
    let sentences: Vec<Sentence> = segment::sentences(text, 0..text.len())
        .into_iter()
        .map(|span| Sentence { span, paragraph: 0 })
        .collect();
    cues(
        text,
        &sentences,
        normalizer,
        timing,
        |_| timing.pauses.after_paragraph,
        &|| false,
    )
    .expect("never cancelled: the check always answers false")
}

/// One cue per sentence of `text` that has something to speak, numbered
/// from 1: the pause after a sentence, the paragraph's (`after_paragraph`
/// of its index) after a paragraph's last, none after the last cue. `None`
/// when `cancelled`, asked before each sentence, answers true.
fn cues(
    text: &str,
    sentences: &[Sentence],
    normalizer: &Normalizer,
    timing: &Timing,
    after_paragraph: impl Fn(usize) -> Duration,
    cancelled: &dyn Fn() -> bool,
) -> Option<Vec<Cue>> {
    let mut cues: Vec<Cue> = Vec::with_capacity(sentences.len());
    for (index, sentence) in sentences.iter().enumerate() {
        if cancelled() {
            return None;
        }
        let expansion = normalizer.expand(text, sentence.span.clone());
        let parts = breath_parts(text, sentence, &expansion, timing.breath_group_syllables);
        let spoken = capitalize_first(&spoken_text(&expansion.tokens));
        if spoken.trim().is_empty() {
            continue;
        }
        let last_of_paragraph = sentences
            .get(index + 1)
            .is_none_or(|next| next.paragraph != sentence.paragraph);
        let pause_after = if last_of_paragraph {
            after_paragraph(sentence.paragraph)
        } else {
            timing.pauses.after_sentence
        };
        cues.push(Cue {
            id: cues.len() + 1,
            paragraph: sentence.paragraph,
            span: sentence.span.clone(),
            text: text[sentence.span.clone()].to_string(),
            spoken,
            parts,
            tokens: expansion.tokens,
            warnings: expansion.warnings,
            start: Duration::ZERO,
            end: Duration::ZERO,
            pause_after,
        });
    }
    if let Some(last) = cues.last_mut() {
        last.pause_after = Duration::ZERO;
    }
    Some(cues)
}

/// Spoken breath groups of one sentence: the sentence's spans split by
/// `segment::breath_groups`, each rendered from the tokens inside it. Tokens
/// and groups are both in text order, so one walk pairs them up.
fn breath_parts(
    text: &str,
    sentence: &Sentence,
    expansion: &Expansion,
    limit: usize,
) -> Vec<String> {
    let groups = segment::breath_groups(text, sentence.span.clone(), limit);
    let tokens = &expansion.tokens;
    let mut next = 0;
    groups
        .iter()
        .map(|group| {
            // Tokens before this group (between groups) belong to none.
            while next < tokens.len() && tokens[next].span.start < group.start {
                next += 1;
            }
            let first = next;
            while next < tokens.len() && tokens[next].span.start < group.end {
                next += 1;
            }
            spoken_text(&tokens[first..next])
        })
        .filter(|part| !part.trim().is_empty())
        .collect()
}

/// Capitalizes the first letter, as a sentence read from the script starts
/// (a sentence may begin with a number that became a lowercase word).
fn capitalize_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) if first.is_lowercase() => first.to_uppercase().chain(chars).collect(),
        _ => text.to_string(),
    }
}

/// Estimates cue times from syllables and the speaking rate.
pub fn estimate(script: &mut Script, timing: &Timing) {
    let mut clock = Duration::ZERO;
    for cue in &mut script.cues {
        let speech = Duration::from_secs_f64(
            syllables(&cue.spoken) as f64 * 60.0 / timing.syllables_per_minute,
        );
        let breaths =
            timing.pauses.between_breath_groups * cue.parts.len().saturating_sub(1) as u32;
        cue.start = clock;
        cue.end = clock + speech + breaths;
        clock = cue.end + cue.pause_after;
    }
    script.total = clock;
    script.measured = false;
}

/// Formats a duration as `m:ss` for people.
pub fn clock(d: Duration) -> String {
    let secs = d.as_secs();
    format!("{}:{:02}", secs / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cues_read_one_paragraph_as_an_article_reads_it() {
        let timing = Timing {
            syllables_per_minute: 240.0,
            breath_group_syllables: 12,
            pauses: Pauses::default(),
        };
        let normalizer = Normalizer::builtin().unwrap();
        let cues = text_cues("Xin chào. 3 giờ chiều nay.", &normalizer, &timing);
        assert_eq!(cues.len(), 2);
        assert_eq!((cues[0].id, cues[1].id), (1, 2));
        assert!(cues.iter().all(|c| c.paragraph == 0));
        assert_eq!(cues[0].pause_after, timing.pauses.after_sentence);
        assert_eq!(cues[1].pause_after, Duration::ZERO);
        // A sentence starting with a number starts with a capital, as in articles.
        assert!(cues[1].spoken.starts_with("Ba giờ"), "{}", cues[1].spoken);
        assert_eq!(
            cues[1].parts.concat().to_lowercase(),
            cues[1].spoken.to_lowercase()
        );
    }
}
