//! Document numbers (N-DOC): 35-NQ/TW, 1234/QĐ-UBND, 15/2021/NĐ-CP,
//! 2345/UBND-VX: the number, a year part with "năm", the type code left out
//! when the words before already name the type, issuer codes from the
//! lexicon or spelled.

use std::ops::Range;

use super::letters::spelled;
use super::numeric::read_number;
use super::{emit, silent, token};
use crate::normalize::context::Around;
use crate::normalize::number;
use crate::normalize::triggers::is_one_of;
use crate::normalize::{Expansion, Kind, Normalizer, Token};
use crate::text::is_vietnamese_letter;

/// The number rule for document numbers (see `numeric::NUMERIC_RULES`).
pub(super) fn read_word(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    around: &Around<'_>,
    out: &mut Expansion,
) -> bool {
    emit(out, read_document(n, span.start, core, around))
}

/// N-DOC: a document number (35-NQ/TW, 1234/QĐ-UBND, 15/2021/NĐ-CP). The
/// number is read, a year part says "năm", the type code is left out when
/// the words before already name the type (Nghị quyết 35-NQ/TW), and the
/// issuer codes are read from the lexicon or spelled.
fn read_document(
    n: &Normalizer,
    start: usize,
    core: &str,
    around: &Around<'_>,
) -> Option<Vec<Token>> {
    let is_letters = |p: &str| {
        !p.is_empty() && p.chars().all(is_vietnamese_letter) && p.chars().any(char::is_uppercase)
    };
    let is_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = core.split(['-', '/']).collect();
    if parts.len() < 2
        || !is_digits(parts[0])
        || !parts.iter().any(|p| is_letters(p))
        || !parts.iter().all(|p| is_letters(p) || is_digits(p))
    {
        return None;
    }
    let style = &n.style;
    let window = around.window();
    let named_before = {
        let skip = usize::from(
            around
                .before_last()
                .is_some_and(|w| is_one_of(w, &n.triggers.number_word)),
        );
        around.before[..around.before.len() - skip].join(" ")
    };
    let mut tokens = Vec::new();
    let mut at = 0;
    let mut seen_type = false;
    for (index, part) in parts.iter().enumerate() {
        if index > 0 {
            tokens.push(silent(start + at - 1..start + at));
        }
        let span = start + at..start + at + part.len();
        let spoken = if is_digits(part) {
            if index > 0 && part.len() == 4 {
                format!("năm {}", number::cardinal(part, style))
            } else {
                read_number(part, n).0
            }
        } else {
            // Codes are often typed in the wrong case (QĐ-TTG, NĐ-Cp).
            let reading = n
                .abbreviations
                .reading_any_case(part, &window)
                .map_or_else(|| spelled(n, part), |e| e.spoken.clone());
            let restates_type = !seen_type && named_before.ends_with(&reading.to_lowercase());
            seen_type = true;
            if restates_type {
                String::new()
            } else {
                reading
            }
        };
        tokens.push(token(span, spoken, Kind::Abbreviation, "N-DOC"));
        at += part.len() + 1;
    }
    Some(tokens)
}
