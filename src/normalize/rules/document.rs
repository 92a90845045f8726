//! Document numbers (N-DOC): 35-NQ/TW, 1234/QĐ-UBND, 15/2021/NĐ-CP,
//! 2345/UBND-VX: the number, a year part with "năm", the type code left out
//! when the words before already name the type, issuer codes from the
//! lexicon (two codes joined by a hyphen may be one entry: DS-ST; a code
//! with a term number: QH15), a code missing from it left unsaid with a
//! warning in a document's number and spelled elsewhere (mã 12-CD).

use std::ops::Range;

use super::letters::spelled;
use super::numeric::read_number;
use super::{silent, token};
use crate::normalize::context::Around;
use crate::normalize::number;
use crate::normalize::triggers::{ends_with_any, is_one_of};
use crate::normalize::{Expansion, Kind, Normalizer, Token, Warning};
use crate::text::is_vietnamese_letter;

/// The number rule for document numbers (see `numeric::NUMERIC_RULES`).
pub(super) fn read_word(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    around: &Around<'_>,
    out: &mut Expansion,
) -> bool {
    let Some((tokens, unknown)) = read_document(n, span.start, core, around) else {
        return false;
    };
    for part in unknown {
        out.warnings.push(Warning {
            text: core.to_string(),
            message: format!(
                "the code {:?} of {core} is not in the lexicon; it is left unsaid",
                &out_text(core, span.start, &part)
            ),
            span: part,
            rule: "N-DOC",
        });
    }
    out.tokens.extend(tokens);
    true
}

/// The piece of `core` (which starts at byte `start`) at the absolute `part`.
fn out_text<'a>(core: &'a str, start: usize, part: &Range<usize>) -> &'a str {
    &core[part.start - start..part.end - start]
}

/// N-DOC: a document number (35-NQ/TW, 1234/QĐ-UBND, 15/2021/NĐ-CP). The
/// number is read, a year part says "năm", the type code is left out when
/// the words before already name the type (Nghị quyết 35-NQ/TW), and the
/// issuer codes are read from the lexicon; a code it lacks is left unsaid
/// and returned with the tokens, for a warning.
fn read_document(
    n: &Normalizer,
    start: usize,
    core: &str,
    around: &Around<'_>,
) -> Option<(Vec<Token>, Vec<Range<usize>>)> {
    let is_letters = |p: &str| {
        !p.is_empty() && p.chars().all(is_vietnamese_letter) && p.chars().any(char::is_uppercase)
    };
    let is_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    // A code with the number of a term (QH15: Quốc hội khóa XV).
    let numbered = |p: &str| {
        let letters = p.trim_end_matches(|c: char| c.is_ascii_digit());
        letters.len() < p.len() && p.len() - letters.len() <= 2 && is_letters(letters)
    };
    let parts: Vec<&str> = core.split(['-', '/']).collect();
    if parts.len() < 2
        || !is_digits(parts[0])
        || !parts.iter().any(|p| is_letters(p) || numbered(p))
        || !parts
            .iter()
            .all(|p| is_letters(p) || is_digits(p) || numbered(p))
    {
        return None;
    }
    let style = &n.style;
    let window = around.window();
    let named = {
        let skip = usize::from(
            around
                .before_last()
                .is_some_and(|w| is_one_of(w, &n.triggers.number_word)),
        );
        &around.before[..around.before.len() - skip]
    };
    let named_before = named.join(" ");
    // The type may be named by its own abbreviation (QĐ số 512/QĐ-UBND).
    let named_abbreviated = named
        .last()
        .and_then(|w| n.abbreviations.reading_any_case(w, ""))
        .map(|e| e.spoken.to_lowercase());
    // An unknown code is left unsaid only in what is surely a document's
    // number (a slash in it, or a document word before it: 1277/BGDĐT-QLCL,
    // Công văn 12-CV); elsewhere (mã 12-CD) it is spelled.
    let document = core.contains('/') || {
        let skip = usize::from(
            around
                .before_last()
                .is_some_and(|w| is_one_of(w, &n.triggers.number_word)),
        );
        ends_with_any(
            &around.before[..around.before.len() - skip],
            &n.triggers.document,
        )
    };
    let mut tokens = Vec::new();
    let mut unknown = Vec::new();
    let mut at = 0;
    let mut seen_type = false;
    let mut index = 0;
    while index < parts.len() {
        let part = parts[index];
        if index > 0 {
            tokens.push(silent(start + at - 1..start + at));
        }
        let mut written = part.len();
        let spoken = if is_digits(part) {
            if index > 0 && part.len() == 4 {
                format!("năm {}", number::cardinal(part, style))
            } else {
                read_number(part, n).0
            }
        } else {
            // A code of two parts joined by a hyphen may be one entry
            // (DS-ST: dân sự sơ thẩm); codes are often typed in the wrong
            // case (QĐ-TTG, NĐ-Cp).
            let joined = parts
                .get(index + 1)
                .filter(|next| is_letters(next) && core.as_bytes()[at + part.len()] == b'-')
                .and_then(|next| {
                    let key = &core[at..at + part.len() + 1 + next.len()];
                    n.abbreviations.reading_any_case(key, &window)
                });
            let term = numbered(part).then(|| {
                let letters = part.trim_end_matches(|c: char| c.is_ascii_digit());
                (letters, &part[letters.len()..])
            });
            if let Some(entry) = joined {
                written += 1 + parts[index + 1].len();
                index += 1;
                entry.spoken.clone()
            } else if let Some((letters, term)) = term {
                match n.abbreviations.reading_any_case(letters, &window) {
                    Some(entry) => format!("{} {}", entry.spoken, number::cardinal(term, style)),
                    None if document => {
                        unknown.push(start + at..start + at + part.len());
                        String::new()
                    }
                    None => format!("{} {}", spelled(n, letters), number::cardinal(term, style)),
                }
            } else if let Some(entry) = n.abbreviations.reading_any_case(part, &window) {
                entry.spoken.clone()
            } else if document {
                // N-DOC: an issuer or department code nobody here knows is
                // left unsaid, as announcers do, rather than spelled.
                unknown.push(start + at..start + at + part.len());
                String::new()
            } else {
                spelled(n, part)
            }
        };
        let spoken = if is_digits(part) || spoken.is_empty() {
            spoken
        } else {
            let lower = spoken.to_lowercase();
            let restates_type = !seen_type
                && (named_before.ends_with(&lower) || named_abbreviated.as_deref() == Some(&lower));
            seen_type = true;
            if restates_type { String::new() } else { spoken }
        };
        let span = start + at..start + at + written;
        tokens.push(token(span, spoken, Kind::Abbreviation, "N-DOC"));
        at += written + 1;
        index += 1;
    }
    Some((tokens, unknown))
}
