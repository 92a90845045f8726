//! Fractions and counts out of a total (N-FRAC): 1/2, 3/4 (phần tư), a
//! mixed number (5 1/2), 12/15 xã (trên), a document's number and year
//! (Nghị định 200/2025), and the N-FRAC-GUESS warning when a fraction
//! could have been a date.

use super::numeric::{number_then_unit, numeric_prefix_len, read_number};
use super::{date, token};
use crate::normalize::context::Around;
use crate::normalize::number;
use crate::normalize::triggers::{ends_with_any, is_one_of, starts_with_any};
use crate::normalize::{Kind, Normalizer, Token};

/// N-FRAC: 1/2, 3/4 (phần tư), -3/4, 1/2kg; after a whole number it is a
/// mixed number joined by "và" (5 1/2 → năm và một phần hai). A count out
/// of a total says "trên": a rank after "thứ" (thứ 12/63), a count
/// before a counted noun (12/15 xã, 19/19 tiêu chí, 97,5/100 điểm,
/// 5.775/8.227 xã), or a part of a measured total, whose denominator is no
/// fraction's (20/288 mét vuông; 1/2 ha stays một phần hai). N-DOC: a number and a year after a document word
/// (Nghị định 200/2025) is the document's number and year.
pub(super) fn read_fraction(
    n: &Normalizer,
    start: usize,
    text: &str,
    around: &Around<'_>,
) -> Option<Vec<Token>> {
    let style = &n.style;
    let minus = format!("{} ", n.signs.minus);
    let (sign, body) = match text.strip_prefix('-') {
        Some(body) => (minus.as_str(), body),
        None => ("", text),
    };
    let (a, rest) = body.split_once('/')?;
    let b_len = numeric_prefix_len(rest);
    let (b, unit) = rest.split_at(b_len);
    let plain = |s: &str| !s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit());
    let grouped = |s: &str| numeric_prefix_len(s) == s.len() && !s.starts_with('-');
    if !grouped(a) || !grouped(b) || b.contains(',') || b.bytes().all(|d| matches!(d, b'0' | b'.'))
    {
        return None;
    }
    let number_len = text.len() - unit.len();
    // N-RANGE: a season or school year (2024/25, 2023/2024) is two years.
    if let Some(spoken) =
        consecutive_years(a, b, style).filter(|_| unit.is_empty() && sign.is_empty())
    {
        return Some(vec![token(
            start..start + number_len,
            spoken,
            Kind::Number,
            "N-RANGE",
        )]);
    }
    let before = around.before;
    let after_number_word = around
        .before_last()
        .is_some_and(|w| is_one_of(w, &n.triggers.number_word));
    let named = &before[..before.len() - usize::from(after_number_word)];
    let year = b.parse::<u32>().is_ok_and(|y| (1945..=2100).contains(&y));
    if sign.is_empty()
        && unit.is_empty()
        && year
        && plain(a)
        && ends_with_any(named, &n.triggers.document)
    {
        let spoken = format!("{} năm {}", read_number(a, n).0, number::cardinal(b, style));
        return Some(vec![token(
            start..start + number_len,
            spoken,
            Kind::Number,
            "N-DOC",
        )]);
    }
    let value = |s: &str| s.replace('.', "").replace(',', ".").parse::<f64>().ok();
    // A part of a measured total (20/288 mét vuông, 35/120 ha): a
    // denominator no one says as a fraction, before a unit.
    let measured = !common_denominator(b)
        && (!unit.is_empty()
            || around.next_raw.is_some_and(|w| n.units.contains(w))
            || around
                .after
                .first()
                .is_some_and(|w| is_one_of(w, &n.triggers.measure)));
    let counted = unit.is_empty() && starts_with_any(around.after, &n.triggers.counted);
    let out_of_total = sign.is_empty()
        && (unit.is_empty() && ends_with_any(before, &n.triggers.ordinal)
            || (counted || measured) && value(a)? <= value(b)?);
    let spoken = if out_of_total {
        format!(
            "{} trên {}",
            read_number(a, n).0,
            number::cardinal(b, style)
        )
    } else {
        if !plain(a) || !plain(b) {
            return None;
        }
        let denominator = if b.trim_start_matches('0') == "4" {
            "tư".to_string()
        } else {
            number::cardinal(b, style)
        };
        let mixed = sign.is_empty() && matches!(around.joined_to, Some("N-CARD" | "N-NEG"));
        let joiner = if mixed { "và " } else { "" };
        format!(
            "{joiner}{sign}{} phần {denominator}",
            number::cardinal(a, style)
        )
    };
    number_then_unit(n, start, text, number_len, spoken, "N-FRAC", around)
}

/// Two years that follow each other, the second written whole or by its
/// last two digits (2024/2025, 2024/25): "… đến …", the second said whole.
fn consecutive_years(a: &str, b: &str, style: &number::NumberStyle) -> Option<String> {
    let first: u32 = a.parse().ok().filter(|_| a.len() == 4)?;
    let second: u32 = b.parse().ok()?;
    let second = match b.len() {
        4 => second,
        2 => first - first % 100 + second,
        _ => return None,
    };
    ((1900..=2100).contains(&first) && second == first + 1).then(|| {
        format!(
            "{} đến {}",
            number::cardinal(a, style),
            number::cardinal(&second.to_string(), style)
        )
    })
}

/// Whether `b` is a denominator spoken as a fraction (một phần ba, ba phần
/// tư, năm phần trăm): up to ten, or a hundred or a thousand.
fn common_denominator(b: &str) -> bool {
    b.parse::<u32>()
        .is_ok_and(|b| b <= 10 || b == 100 || b == 1000)
}

/// N-FRAC-GUESS: whether a plain a/b read as a fraction could have been a
/// day and month, with nothing around to say which (no quantity word
/// before it, no unit or counted noun after it).
pub(super) fn fraction_could_be_date(n: &Normalizer, text: &str, around: &Around<'_>) -> bool {
    let Some((d, m)) = date::day_month(text) else {
        return false;
    };
    let quantity = (0..=1).any(|skip| {
        around.before.len() > skip
            && ends_with_any(
                &around.before[..around.before.len() - skip],
                &n.triggers.quantity,
            )
    });
    d <= 31
        && m <= 12
        && !text.contains(['.', '-'])
        && !quantity
        && !date::counted_after(around, n)
        && !ends_with_any(around.before, &n.triggers.ordinal)
}
