//! Splits an article's blocks into sentences, and sentences that are too long
//! for one breath into breath groups. Works on byte spans of the article text
//! and never changes the text. Knows nothing of readings or audio.
//!
//! Rule ids (used in comments and tests):
//! - SB1: a paragraph (block) boundary always ends a sentence.
//! - SB2: `.` `!` `?` `…` (and `...`), with any closing quotes or brackets
//!   after them, end a sentence when white space and a non-lowercase start follow.
//! - SB3: no break after a dotted abbreviation from `nonfinal.txt` or a single
//!   capital initial (`ông H.`) followed by a capitalised word.
//! - SB4: no break inside numbers (`1.250.000`, `23.7.2021`, `3.5`): a dot
//!   without white space after it never ends a sentence.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::LazyLock;

use serde::Serialize;

use crate::ingest::Article;
use crate::text::syllables;

const NONFINAL: &str = include_str!("nonfinal.txt");

/// A sentence of an article: its byte span in [`Article::text`] and the index
/// of the block it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sentence {
    pub span: Range<usize>,
    pub paragraph: usize,
}

fn nonfinal() -> &'static HashSet<&'static str> {
    static SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
        NONFINAL
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    });
    &SET
}

/// Splits every block of the article into sentences (SB1).
pub fn split(article: &Article) -> Vec<Sentence> {
    article
        .blocks
        .iter()
        .enumerate()
        .flat_map(|(paragraph, block)| {
            sentences(&article.text, block.span.clone())
                .into_iter()
                .map(move |span| Sentence { span, paragraph })
        })
        .collect()
}

/// Splits `text[span]` into sentence spans (absolute, trimmed of white space).
pub fn sentences(text: &str, span: Range<usize>) -> Vec<Range<usize>> {
    let part = &text[span.clone()];
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = part.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        if !matches!(c, '.' | '!' | '?' | '…') {
            i += 1;
            continue;
        }
        // Take the whole run of final marks and closing quotes/brackets (SB2).
        let mut j = i + 1;
        while j < chars.len() && is_final_or_closing(chars[j].1) {
            j += 1;
        }
        let end = chars.get(j).map_or(part.len(), |&(b, _)| b);
        // SB4: a mark glued to the next word is not a boundary.
        let followed_by_space = j >= chars.len() || chars[j].1.is_whitespace();
        let next_start = chars[j..]
            .iter()
            .find(|(_, ch)| !ch.is_whitespace())
            .map(|&(_, ch)| ch);
        let breaks = followed_by_space
            && next_start.is_none_or(|n| !n.is_lowercase())
            && !(c == '.' && j == i + 1 && abbreviation_before(part, at, next_start));
        if breaks {
            push_trimmed(&mut out, part, start..end, span.start);
            start = end;
        }
        i = j;
    }
    push_trimmed(&mut out, part, start..part.len(), span.start);
    out
}

fn is_final_or_closing(c: char) -> bool {
    matches!(
        c,
        '.' | '!' | '?' | '…' | '"' | '”' | '’' | '\'' | ')' | ']' | '»'
    )
}

/// SB3: the word ending at the dot at `dot` is a dotted abbreviation or an initial.
fn abbreviation_before(part: &str, dot: usize, next: Option<char>) -> bool {
    let word_start = part[..dot]
        .rfind(|c: char| c.is_whitespace() || c == '(')
        .map_or(0, |p| p + 1);
    let word = &part[word_start..=dot];
    if nonfinal().contains(word) {
        return true;
    }
    let stem = &part[word_start..dot];
    let mut letters = stem.chars();
    let single_initial =
        matches!((letters.next(), letters.next()), (Some(l), None) if l.is_uppercase());
    single_initial && next.is_some_and(char::is_uppercase)
}

fn push_trimmed(out: &mut Vec<Range<usize>>, part: &str, range: Range<usize>, base: usize) {
    let piece = &part[range.clone()];
    let lead = piece.len() - piece.trim_start().len();
    let trail = piece.len() - piece.trim_end().len();
    if lead + trail < piece.len() {
        out.push(base + range.start + lead..base + range.end - trail);
    }
}

/// Conjunctions before which a long sentence may take a breath when it has no
/// punctuation to pause at.
const CONJUNCTIONS: [&str; 8] = [
    "và",
    "nhưng",
    "đồng thời",
    "hoặc",
    "song",
    "tuy nhiên",
    "trong khi",
    "nhằm",
];

/// Splits a sentence into breath groups of at most `max_syllables` written
/// syllables where it can: at `, ; :` and dashes first (nearest the middle),
/// then before conjunctions, then at the word nearest the middle.
pub fn breath_groups(text: &str, span: Range<usize>, max_syllables: usize) -> Vec<Range<usize>> {
    let piece = &text[span.clone()];
    if syllables(piece) <= max_syllables.max(4) {
        return vec![span];
    }
    let Some(cut) = best_cut(piece) else {
        return vec![span];
    };
    let (left, right) = (span.start..span.start + cut, span.start + cut..span.end);
    let mut out = Vec::new();
    for half in [left, right] {
        let trimmed = trim_range(text, half);
        if !trimmed.is_empty() {
            out.extend(breath_groups(text, trimmed, max_syllables));
        }
    }
    out
}

fn trim_range(text: &str, range: Range<usize>) -> Range<usize> {
    let piece = &text[range.clone()];
    let lead = piece.len() - piece.trim_start().len();
    let trail = piece.len() - piece.trim_end().len();
    if lead + trail >= piece.len() {
        return range.start..range.start;
    }
    range.start + lead..range.end - trail
}

/// Byte offset in `piece` of the best place to break, or `None` for a single word.
fn best_cut(piece: &str) -> Option<usize> {
    let middle = piece.len() / 2;
    let nearest = |cuts: Vec<usize>| {
        cuts.into_iter()
            .filter(|&c| c > 0 && c < piece.len())
            .min_by_key(|&c| c.abs_diff(middle))
    };
    // After a pause mark followed by white space.
    let marks: Vec<usize> = piece
        .char_indices()
        .filter(|&(i, c)| {
            matches!(c, ',' | ';' | ':')
                && piece[i + c.len_utf8()..].starts_with(char::is_whitespace)
                || matches!(c, '–' | '—') && piece[..i].ends_with(' ')
        })
        .map(|(i, c)| {
            if matches!(c, '–' | '—') {
                i
            } else {
                i + c.len_utf8()
            }
        })
        .collect();
    if let Some(cut) = nearest(marks) {
        return Some(cut);
    }
    let lower = piece.to_lowercase();
    if lower.len() == piece.len() {
        let conjunctions: Vec<usize> = CONJUNCTIONS
            .iter()
            .flat_map(|conj| {
                let needle = format!(" {conj} ");
                lower
                    .match_indices(&needle)
                    .map(|(i, _)| i + 1)
                    .collect::<Vec<_>>()
            })
            .collect();
        if let Some(cut) = nearest(conjunctions) {
            return Some(cut);
        }
    }
    nearest(piece.match_indices(' ').map(|(i, _)| i).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_str(text: &str) -> Vec<&str> {
        sentences(text, 0..text.len())
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    #[test]
    fn splits_at_final_marks() {
        assert_eq!(
            split_str("Câu một. Câu hai! Câu ba?"),
            ["Câu một.", "Câu hai!", "Câu ba?"]
        );
    }

    #[test]
    fn keeps_closing_quotes_with_the_sentence() {
        assert_eq!(
            split_str("Ông nói: “Tốt lắm.” Sau đó về."),
            ["Ông nói: “Tốt lắm.”", "Sau đó về."]
        );
    }

    #[test]
    fn does_not_break_after_abbreviations_numbers_or_initials() {
        assert_eq!(
            split_str("Tại TP. Hưng Yên có 1.250.000 người."),
            ["Tại TP. Hưng Yên có 1.250.000 người."]
        );
        assert_eq!(
            split_str("Ông H. cho biết đã xong."),
            ["Ông H. cho biết đã xong."]
        );
        assert_eq!(split_str("Ngày 23.7.2021 họp."), ["Ngày 23.7.2021 họp."]);
    }

    #[test]
    fn does_not_break_before_lowercase() {
        assert_eq!(split_str("Có 3 người... chết."), ["Có 3 người... chết."]);
    }

    #[test]
    fn breath_groups_prefer_commas_near_the_middle() {
        let text = "Ban tuyên giáo Thành ủy đã tham mưu với cấp ủy chỉ đạo làm tốt công tác tuyên truyền, từ đó góp phần tạo sự thống nhất trong Đảng và đồng thuận trong nhân dân";
        let groups: Vec<&str> = breath_groups(text, 0..text.len(), 20)
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(
            groups[0],
            "Ban tuyên giáo Thành ủy đã tham mưu với cấp ủy chỉ đạo làm tốt công tác tuyên truyền,"
        );
        assert!(groups.len() >= 2);
        assert_eq!(groups.concat().replace(' ', ""), text.replace(' ', ""));
        assert!(groups.iter().all(|g| syllables(g) <= 20), "{groups:?}");
    }
}
