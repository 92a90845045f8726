//! Phone numbers, hotlines and service numbers, read digit by digit:
//! 0912 345 678, 0912.345.678, 1900 1234, the national service numbers
//! (112, 113, 114, 115) after a word about calling or emergencies, and a
//! switchboard number after "tổng đài" (tổng đài 1022). The words that decide
//! are the `phone`, `emergency` and `service` rows of triggers.tsv.
//! Rule ids are listed in the module doc of `normalize`.

use std::ops::Range;

use super::date::counted_after;
use super::{emit, token};
use crate::normalize::context::Around;
use crate::normalize::number;
use crate::normalize::triggers::ends_with_any;
use crate::normalize::{Expansion, Kind, Normalizer, Token};

/// The number rule for phone and service numbers (see `numeric::NUMERIC_RULES`).
pub(super) fn read_word(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    around: &Around<'_>,
    out: &mut Expansion,
) -> bool {
    emit(out, read(n, span, core, around))
}

/// How far back a word about calling or emergencies is looked for.
const LOOK_BACK_WORDS: usize = 5;

/// N-PHONE-SERVICE: a service number (113) after a word about calling or
/// emergencies within five words, or right after another service number
/// (các số khẩn cấp như 113, 114, 115); N-PHONE: a three- to five-digit
/// switchboard number right after a phone word (tổng đài 1022). A count
/// after the number (115 người) keeps it a number.
fn service_number(n: &Normalizer, core: &str, around: &Around<'_>) -> Option<&'static str> {
    if !(3..=5).contains(&core.len()) || !core.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if counted_after(around, n) {
        return None;
    }
    let service = n
        .triggers
        .service
        .iter()
        .any(|s| s.len() == 1 && s[0] == core);
    let before = around.before;
    let window = &before[before.len().saturating_sub(LOOK_BACK_WORDS)..];
    let named_near = (0..window.len()).any(|cut| {
        let upto = &before[..before.len() - cut];
        ends_with_any(upto, &n.triggers.phone) || ends_with_any(upto, &n.triggers.emergency)
    });
    let after_service = around
        .before_last()
        .is_some_and(|w| n.triggers.service.iter().any(|s| s.len() == 1 && s[0] == w));
    if service && (named_near || after_service) {
        return Some("N-PHONE-SERVICE");
    }
    // A switchboard of four digits (tổng đài 1022); not a year after "hệ thống".
    (core.len() == 4 && ends_with_any(before, &n.triggers.phone)).then_some("N-PHONE")
}

/// N-PHONE: a phone number read digit by digit in its groups, with a short
/// pause between groups: 0912 345 678, 0912.345.678, 0912345678, 1900 1234.
fn read(n: &Normalizer, span: Range<usize>, core: &str, around: &Around<'_>) -> Option<Vec<Token>> {
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    // A later group of a number written with spaces.
    if around.joined_to == Some("N-PHONE") && all_digits(core) && (2..=4).contains(&core.len()) {
        return Some(vec![
            token(span.start..span.start, ",", Kind::Pause, "P-PAUSE"),
            token(span, number::digits(core), Kind::Number, "N-PHONE"),
        ]);
    }
    if let Some(rule) = service_number(n, core, around) {
        return Some(vec![token(span, number::digits(core), Kind::Number, rule)]);
    }
    // The first group of a number written with spaces.
    let hotline = core == "1800" || core == "1900";
    if all_digits(core) && (core.starts_with('0') && (2..=4).contains(&core.len()) || hotline) {
        let mut total = core.len();
        for word in around.after {
            if !all_digits(word) || !(2..=4).contains(&word.len()) || total >= 11 {
                break;
            }
            total += word.len();
        }
        let enough = if hotline {
            total >= 7
        } else {
            (9..=11).contains(&total)
        };
        if enough && total > core.len() {
            return Some(vec![token(
                span,
                number::digits(core),
                Kind::Number,
                "N-PHONE",
            )]);
        }
    }
    // One word: 0912345678, 0912.345.678, 024-3825-1234, 19001234.
    let digit_count = core.bytes().filter(u8::is_ascii_digit).count();
    let is_phone = core
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        && core.starts_with(|c: char| c.is_ascii_digit())
        && core.ends_with(|c: char| c.is_ascii_digit())
        && (core.starts_with('0') && (10..=11).contains(&digit_count)
            || (core.starts_with("1800") || core.starts_with("1900")) && digit_count == 8);
    if !is_phone {
        return None;
    }
    let mut groups: Vec<Range<usize>> = Vec::new();
    if core.bytes().all(|b| b.is_ascii_digit()) {
        let sizes: &[usize] = match digit_count {
            8 => &[4, 4],
            10 => &[4, 3, 3],
            _ => &[3, 4, 4],
        };
        let mut at = 0;
        for size in sizes {
            groups.push(at..at + size);
            at += size;
        }
    } else {
        let mut at = 0;
        for part in core.split(['.', '-']) {
            groups.push(at..at + part.len());
            at += part.len() + 1;
        }
        if groups.iter().any(|g| g.is_empty()) {
            return None;
        }
    }
    let mut tokens = Vec::new();
    let mut end = 0;
    for group in groups {
        if !tokens.is_empty() {
            tokens.push(token(
                span.start + end..span.start + group.start,
                ",",
                Kind::Pause,
                "P-PAUSE",
            ));
        }
        tokens.push(token(
            span.start + group.start..span.start + group.end,
            number::digits(&core[group.clone()]),
            Kind::Number,
            "N-PHONE",
        ));
        end = group.end;
    }
    Some(tokens)
}

#[cfg(test)]
mod tests {
    use crate::normalize::Normalizer;

    fn say(text: &str) -> String {
        Normalizer::builtin().unwrap().expand_str(text).spoken()
    }

    #[test]
    fn service_numbers_after_a_word_about_calling() {
        assert_eq!(
            say("gọi ngay tổng đài 112 để"),
            "gọi ngay tổng đài một một hai để"
        );
        assert_eq!(
            say("Trung tâm Cấp cứu 115 Hà Nội"),
            "Trung tâm Cấp cứu một một năm Hà Nội"
        );
        assert_eq!(
            say("các số khẩn cấp như 113, 114, 115."),
            "các số khẩn cấp như một một ba, một một bốn, một một năm."
        );
        assert_eq!(
            say("tổng đài 1022 tiếp nhận"),
            "tổng đài một không hai hai tiếp nhận"
        );
    }

    #[test]
    fn counts_and_bare_numbers_stay_numbers() {
        assert_eq!(say("cấp cứu 115 người"), "cấp cứu một trăm mười lăm người");
        assert_eq!(say("có 113 thành viên"), "có một trăm mười ba thành viên");
        assert_eq!(
            say("hệ thống 2025 mới"),
            "hệ thống hai nghìn không trăm hai mươi lăm mới"
        );
    }

    #[test]
    fn phone_numbers_in_groups() {
        assert_eq!(
            say("gọi 0912.345.678"),
            "gọi không chín một hai, ba bốn năm, sáu bảy tám"
        );
        assert_eq!(
            say("Hotline 1900 1234"),
            "Hotline một chín không không, một hai ba bốn"
        );
    }
}
