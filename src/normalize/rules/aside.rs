//! Bracketed asides an announcer does not say: a pointer to a photo or a
//! video (`(ảnh)`, `(ảnh minh họa)`: P-ASIDE, phrases from the
//! `photo-aside` class of `triggers.tsv`) or a credit (`(ảnh: TTXVN)`,
//! `credit-aside`), and an acronym defined right
//! after the words it stands for (`nông thôn mới (NTM)`: A-DEFINED), which
//! would otherwise be heard twice.

use super::{silent, token};
use crate::normalize::triggers::is_one_of;
use crate::normalize::words::Word;
use crate::normalize::{Expansion, Kind, Normalizer};

/// The longest photo pointer, in words.
const MAX_ASIDE_WORDS: usize = 4;
/// The longest credit in brackets, in words after its label.
const MAX_CREDIT_WORDS: usize = 8;

/// P-ASIDE: when `words[index]` opens a bracket that holds only a photo or
/// video pointer, the index of the word that closes it.
pub(super) fn photo_aside(
    n: &Normalizer,
    words: &[Word<'_>],
    lowered: &[&str],
    index: usize,
) -> Option<usize> {
    if !words[index].lead.ends_with('(') {
        return None;
    }
    // A credit: (ảnh: TTXVN), (nguồn: Bộ Y tế), up to the closing bracket.
    if words[index].trail.starts_with(':') && is_one_of(lowered[index], &n.triggers.credit_aside) {
        return (index + 1..words.len().min(index + 1 + MAX_CREDIT_WORDS))
            .take_while(|&j| words[j].lead.is_empty())
            .find(|&j| words[j].trail.starts_with(')'));
    }
    let last = (index..words.len().min(index + MAX_ASIDE_WORDS))
        .find(|&j| !words[j].trail.is_empty() || j > index && !words[j].lead.is_empty())?;
    if !words[last].trail.starts_with(')') || last > index && !words[last].lead.is_empty() {
        return None;
    }
    let phrase = &lowered[index..=last];
    n.triggers
        .photo_aside
        .iter()
        .any(|p| p.len() == phrase.len() && p.iter().zip(phrase).all(|(a, b)| a == b))
        .then_some(last)
}

/// P-ASIDE: one silent token from the opening bracket to the closing one.
pub(super) fn push_photo_aside(out: &mut Expansion, first: &Word<'_>, last: &Word<'_>) {
    let open = first.lead_start + first.lead.len() - 1;
    let close = last.core.end + 1;
    out.tokens
        .push(token(open..close, "", Kind::Symbol, "P-ASIDE"));
}

/// A-DEFINED: the tokens from `core_at` read a bracketed acronym (`(NTM)`)
/// whose reading repeats the words just before it (nông thôn mới): it and
/// its brackets say nothing. Every later mention is read out in full too,
/// so the listener loses nothing. An acronym without an entry is spelled
/// and kept: its later mentions are spelled as well, and this is where the
/// listener learns what they stand for. Returns whether it was silenced.
pub(super) fn silence_defined_acronym(
    out: &mut Expansion,
    lead_at: usize,
    core_at: usize,
    word: &Word<'_>,
) -> bool {
    if !word.lead.ends_with('(')
        || !word.trail.starts_with(')')
        || out.tokens.len() != core_at + 1
        || out.tokens[core_at].kind != Kind::Abbreviation
    {
        return false;
    }
    let reading: Vec<String> = out.tokens[core_at]
        .spoken
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    // The spoken words before the bracket, nearest first.
    let mut before = out.tokens[..lead_at]
        .iter()
        .rev()
        .take_while(|t| t.kind != Kind::Pause || t.spoken.is_empty())
        .filter(|t| t.kind != Kind::Pause)
        .flat_map(|t| t.spoken.split_whitespace().rev());
    let defined = reading
        .iter()
        .rev()
        .all(|said| before.next().is_some_and(|w| w.to_lowercase() == *said));
    if !defined {
        return false;
    }
    let span = out.tokens[core_at].span.clone();
    out.tokens[core_at] = token(span, "", Kind::Abbreviation, "A-DEFINED");
    for t in &mut out.tokens[lead_at..core_at] {
        if t.kind == Kind::Pause {
            *t = silent(t.span.clone());
        }
    }
    true
}
