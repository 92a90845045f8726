//! Splits an article's blocks into sentences, and sentences that are too long
//! for one breath into breath groups. Works on byte spans of the article text
//! and never changes the text. Knows nothing of readings or audio.
//!
//! Rule ids (used in comments and tests):
//! - SB1: a paragraph (block) boundary always ends a sentence.
//! - SB2: `.` `!` `?` `…` (and `...`), with any closing quotes or brackets
//!   after them, end a sentence when white space follows and the next word
//!   (after dashes) does not start lowercase: `hỏi?" - tòa nói` goes on.
//! - SB3: dotted abbreviations from `nonfinal.txt`, by kind: a title (`TS.`,
//!   `PGS.TS.`) never ends a sentence; a place (`TP.`, `Q.`) or a single
//!   initial (`ông H.`) ends one unless a name follows (two capitalised words,
//!   an all-caps word, a digit, another initial, a one-word place from
//!   `places.txt`); `v.v.` ends one like any dot.
//! - SB4: no break inside numbers (`1.250.000`, `23.7.2021`, `3.5`): a dot
//!   without white space after it never ends a sentence.
//! - SB5: an ellipsis followed by a number or a bracket goes on
//!   (`chờ đợi... 15 năm`, `số 91... (số thứ hai)`).
//! - SB6: an ellipsis opening a sentence (`. ... Rồi`) does not end it.
//! - SB7: a list number or letter (`1.`, `a.`) opening a sentence or after
//!   `:` or `;` does not end one (`gồm: 1. Tăng cường …`).
//! - SB8: a portal's date line with a view count (`03/01/2022 | 120`) run
//!   in between a headline and the lead, as text copied from a page comes,
//!   ends the headline and is a piece of its own; the lead starts after it.
//!   (Ingest drops that piece as furniture; here it only parts the sentences.)

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::LazyLock;

use serde::Serialize;

use crate::ingest::Article;

mod breath;

pub use breath::{LONG_SENTENCE_BYTES, LONG_SENTENCE_SYLLABLES, breath_groups};

const NONFINAL: &str = include_str!("nonfinal.txt");
const PLACES: &str = include_str!("places.txt");

/// A sentence of an article: its byte span in [`Article::text`] and the index
/// of the block it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sentence {
    pub span: Range<usize>,
    pub paragraph: usize,
}

/// How a sentence may end at a dotted abbreviation (SB3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbbreviationKind {
    Title,
    Place,
    Initial,
    List,
}

#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    #[error("{file}:{line}: {reason}")]
    Row {
        file: String,
        line: usize,
        reason: String,
    },
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Rows(Vec<SegmentError>),
}

/// Parses `nonfinal.txt`: `abbreviation<TAB>kind` rows, reporting every bad row.
///
/// # Errors
/// [`SegmentError::Rows`] for rows with a wrong field count, an abbreviation
/// without a final dot, an unknown kind or a duplicate.
pub fn parse_abbreviations(
    file: &str,
    text: &str,
) -> Result<HashMap<String, AbbreviationKind>, SegmentError> {
    let mut table = HashMap::new();
    let mut errors = Vec::new();
    for (index, row) in text.lines().enumerate() {
        if row.trim().is_empty() || row.starts_with('#') {
            continue;
        }
        let bad = |reason: String| SegmentError::Row {
            file: file.to_string(),
            line: index + 1,
            reason,
        };
        let fields: Vec<&str> = row.split('\t').collect();
        let [abbreviation, kind] = fields[..] else {
            errors.push(bad(format!(
                "expected 2 tab-separated fields, found {}",
                fields.len()
            )));
            continue;
        };
        let kind = match kind {
            "title" => AbbreviationKind::Title,
            "place" => AbbreviationKind::Place,
            "initial" => AbbreviationKind::Initial,
            "list" => AbbreviationKind::List,
            other => {
                errors.push(bad(format!("unknown kind {other:?}")));
                continue;
            }
        };
        if !abbreviation.ends_with('.') || abbreviation.contains(char::is_whitespace) {
            errors.push(bad(format!(
                "{abbreviation:?} must be one word ending in a dot"
            )));
            continue;
        }
        if table.insert(abbreviation.to_string(), kind).is_some() {
            errors.push(bad(format!("{abbreviation:?} is listed twice")));
        }
    }
    if errors.is_empty() {
        Ok(table)
    } else {
        Err(SegmentError::Rows(errors))
    }
}

fn abbreviations() -> &'static HashMap<String, AbbreviationKind> {
    static TABLE: LazyLock<HashMap<String, AbbreviationKind>> = LazyLock::new(|| {
        parse_abbreviations("nonfinal.txt", NONFINAL)
            .expect("the shipped nonfinal.txt is validated by a unit test")
    });
    &TABLE
}

fn places() -> &'static HashSet<&'static str> {
    static SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
        PLACES
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
    static DATE_VIEWS: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(
            r"(?:^|\s)(\d{1,2}/\d{1,2}/\d{4}(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?\s*\|\s*\d[\d.,]*(?:\s*lượt xem)?)(?:\s|$)",
        )
        .expect("constant pattern")
    });
    let part = &text[span.clone()];
    // SB8: the date line with its view count parts what is around it.
    if !part.contains('|') {
        return sentences_between(text, span);
    }
    let mut out = Vec::new();
    let mut from = span.start;
    for caps in DATE_VIEWS.captures_iter(part) {
        let piece = caps.get(1).expect("group 1 always takes part");
        let (start, end) = (span.start + piece.start(), span.start + piece.end());
        out.extend(sentences_between(text, from..start));
        out.push(start..end);
        from = end;
    }
    out.extend(sentences_between(text, from..span.end));
    out
}

/// SB1–SB7 over `text[span]`.
fn sentences_between(text: &str, span: Range<usize>) -> Vec<Range<usize>> {
    let part = &text[span.clone()];
    let bytes = part.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    // Marks are found byte by byte: `.`, `!`, `?` are ASCII and `…` starts
    // with 0xE2; nothing between marks needs decoding.
    while i < bytes.len() {
        let c = match bytes[i] {
            b'.' => '.',
            b'!' => '!',
            b'?' => '?',
            0xE2 if part[i..].starts_with('…') => '…',
            _ => {
                i += 1;
                continue;
            }
        };
        // Take the whole run of final marks and closing quotes/brackets (SB2).
        let mark_end = i + c.len_utf8();
        let end = part[mark_end..]
            .char_indices()
            .find(|&(_, c)| !is_final_or_closing(c))
            .map_or(part.len(), |(at, _)| mark_end + at);
        if ends_here(part, start, i, c, end) {
            push_trimmed(&mut out, part, start..end, span.start);
            start = end;
        }
        i = end;
    }
    push_trimmed(&mut out, part, start..part.len(), span.start);
    out
}

/// Whether the run of marks `part[at..end]`, the first of them `c`, ends
/// the sentence begun at byte `start`.
fn ends_here(part: &str, start: usize, at: usize, c: char, end: usize) -> bool {
    let rest = &part[end..];
    // SB4: a mark glued to the next word is not a boundary.
    if rest.chars().next().is_some_and(|n| !n.is_whitespace()) {
        return false;
    }
    let after = rest.trim_start();
    if after.is_empty() {
        return true;
    }
    // Dashes are skipped (`hỏi?" - tòa nói`), quotes are not: a quotation
    // may open a sentence in lowercase (`"hồi ấy …`).
    let next_word =
        after.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '-' | '–' | '—'));
    let Some(next) = next_word.chars().next() else {
        return true;
    };
    if next.is_lowercase() {
        return false;
    }
    let run = &part[at..end];
    let ellipsis = c == '…' || run.bytes().filter(|&b| b == b'.').count() >= 3;
    if ellipsis {
        // SB6
        if !part[start..at].chars().any(char::is_alphanumeric) {
            return false;
        }
        // SB5
        if next.is_ascii_digit() || after.starts_with('(') {
            return false;
        }
        return true;
    }
    if c == '.' && run.len() == 1 {
        return !keeps_sentence_open(part, start, at, next_word);
    }
    true
}

/// SB3 and SB7 for a single dot at byte `dot`.
fn keeps_sentence_open(part: &str, start: usize, dot: usize, next_word: &str) -> bool {
    let word_start = part[..dot]
        .rfind(|c: char| c.is_whitespace() || c == '(')
        .map_or(0, |p| p + 1);
    let word = &part[word_start..=dot];
    let stem = &part[word_start..dot];
    let next = next_word.chars().next().unwrap_or(' ');
    // SB7: `1.` or `a.` opening a sentence or after `:`/`;`.
    let list_marker = (1..=2).contains(&stem.len()) && stem.bytes().all(|b| b.is_ascii_digit())
        || stem.len() == 1 && stem.bytes().all(|b| b.is_ascii_lowercase());
    if list_marker {
        let before = part[start.min(word_start)..word_start].trim_end();
        if before.is_empty() || before.ends_with([':', ';']) {
            return true;
        }
    }
    let mut letters = stem.chars();
    let single_letter =
        matches!((letters.next(), letters.next()), (Some(l), None) if l.is_alphabetic());
    let kind = match abbreviations().get(word) {
        Some(kind) => *kind,
        None if single_letter && stem.chars().all(char::is_uppercase) => AbbreviationKind::Initial,
        // An anonymised name (`vụ h. 15 tuổi`) before a number.
        None if single_letter => return next.is_ascii_digit(),
        None => return false,
    };
    match kind {
        AbbreviationKind::Title => true,
        AbbreviationKind::List => false,
        AbbreviationKind::Place | AbbreviationKind::Initial => names_follow(next_word, kind),
    }
}

/// SB3: the words after a place abbreviation or an initial are a name.
fn names_follow(next_word: &str, kind: AbbreviationKind) -> bool {
    // `ông H. (xin giấu tên)`: a bracket after a name goes on.
    if next_word.starts_with('(') {
        return true;
    }
    let mut words = next_word.split_whitespace();
    let Some(first) = words.next() else {
        return false;
    };
    let first_trimmed = first.trim_end_matches(|c: char| !c.is_alphanumeric());
    if first.starts_with(|c: char| c.is_ascii_digit()) {
        return true;
    }
    let letters: Vec<char> = first_trimmed
        .chars()
        .filter(|c| c.is_alphabetic())
        .collect();
    if letters.len() >= 2 && letters.iter().all(|c| c.is_uppercase()) {
        return true;
    }
    // Another initial: `V. H.`
    if kind == AbbreviationKind::Initial && letters.len() == 1 && first.ends_with('.') {
        return true;
    }
    if places().contains(first_trimmed) {
        return true;
    }
    // The first word must run on into the name: `Hưng Yên`, not `Xây dựng`.
    if first_trimmed.len() < first.len() {
        return false;
    }
    words
        .next()
        .and_then(|w| w.chars().next())
        .is_some_and(char::is_uppercase)
}

fn is_final_or_closing(c: char) -> bool {
    matches!(
        c,
        '.' | '!' | '?' | '…' | '"' | '”' | '’' | '\'' | ')' | ']' | '»'
    )
}

pub(super) fn push_trimmed(
    out: &mut Vec<Range<usize>>,
    part: &str,
    range: Range<usize>,
    base: usize,
) {
    let piece = &part[range.clone()];
    let lead = piece.len() - piece.trim_start().len();
    let trail = piece.len() - piece.trim_end().len();
    if lead + trail < piece.len() {
        out.push(base + range.start + lead..base + range.end - trail);
    }
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
    fn shipped_tables_parse() {
        parse_abbreviations("nonfinal.txt", NONFINAL).unwrap();
        assert!(places().contains("Huế"));
    }

    #[test]
    fn reports_every_bad_abbreviation_row() {
        let err = parse_abbreviations("x.txt", "TP.\tplace\nTP.\ttitle\nQ\tplace\nA.\tfoo\nB.\n")
            .unwrap_err();
        let SegmentError::Rows(rows) = err else {
            panic!()
        };
        assert_eq!(rows.len(), 4, "{rows:?}");
    }

    #[test]
    fn place_abbreviations_end_a_sentence_unless_a_name_follows() {
        assert_eq!(
            split_str("Ông về TP. Hưng Yên. Kinh tế của TP. Vậy là tăng."),
            ["Ông về TP. Hưng Yên.", "Kinh tế của TP.", "Vậy là tăng."]
        );
        assert_eq!(split_str("Tại TP. Huế đã mưa."), ["Tại TP. Huế đã mưa."]);
        assert_eq!(split_str("Ở Q. 1 mất điện."), ["Ở Q. 1 mất điện."]);
        assert_eq!(split_str("Đến TP. HCM hôm qua."), ["Đến TP. HCM hôm qua."]);
    }

    #[test]
    fn titles_never_end_a_sentence() {
        assert_eq!(
            split_str("PGS.TS. Lan cho biết. ThS. Nguyễn Văn Bình nói."),
            ["PGS.TS. Lan cho biết.", "ThS. Nguyễn Văn Bình nói."]
        );
    }

    #[test]
    fn quotes_and_dashes_before_lowercase_go_on() {
        assert_eq!(
            split_str("\"Anh đi đâu vậy?\" - tòa hỏi. Bị cáo im lặng."),
            ["\"Anh đi đâu vậy?\" - tòa hỏi.", "Bị cáo im lặng."]
        );
    }

    #[test]
    fn ellipsis_before_numbers_and_lists_after_colons() {
        assert_eq!(
            split_str("Chờ đợi... 15 năm. Xong."),
            ["Chờ đợi... 15 năm.", "Xong."]
        );
        assert_eq!(
            split_str("Gồm: 1. Tăng cường; 2. Đẩy mạnh. Hết."),
            ["Gồm: 1. Tăng cường; 2. Đẩy mạnh.", "Hết."]
        );
        assert_eq!(
            split_str("Năm 2021. 80 hộ đã thoát nghèo."),
            ["Năm 2021.", "80 hộ đã thoát nghèo."]
        );
    }

    #[test]
    fn a_date_line_with_views_parts_headline_and_lead() {
        assert_eq!(
            split_str(
                "Ra quân tổng vệ sinh môi trường 12/06/2022 | 245 Sáng 11/6, thành phố ra quân. Đoàn viên tham gia."
            ),
            [
                "Ra quân tổng vệ sinh môi trường",
                "12/06/2022 | 245",
                "Sáng 11/6, thành phố ra quân.",
                "Đoàn viên tham gia."
            ]
        );
        assert_eq!(
            split_str("29/07/2021 10:30 | 1.070 lượt xem Chiều 28/7, xã họp."),
            ["29/07/2021 10:30 | 1.070 lượt xem", "Chiều 28/7, xã họp."]
        );
        // A pipe that is no date line changes nothing.
        assert_eq!(
            split_str("Tỷ số 2 | 1 sau hiệp một."),
            ["Tỷ số 2 | 1 sau hiệp một."]
        );
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
}
