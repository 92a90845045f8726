//! Units and money: a unit after a number (5 km, 10 USD, 95%), composite
//! units (km/h, 100₫/kg, 75 triệu đồng/người/năm), a scale letter after the
//! degree word (30 độ C), cents (10,5$) and a currency sign before the
//! amount ($5). The tables are `units.tsv` and the `currency`, `degree` and
//! `time-unit` rows of triggers.tsv.

use std::ops::Range;

use super::numeric::{numeric_prefix_len, read_number};
use super::{emit, token};
use crate::normalize::context::Around;
use crate::normalize::number;
use crate::normalize::triggers::ends_with_any;
use crate::normalize::words::{Word, is_vietnamese_syllable};
use crate::normalize::{Expansion, Kind, Normalizer, Token};
use crate::text::is_vietnamese_letter;

/// N-UNIT: the scale letter after "độ" (30 độ C → độ xê).
pub(super) fn read_degree_word(
    n: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    _: bool,
    out: &mut Expansion,
) -> bool {
    let Some(spoken) = read_degree_scale(n, word.core_text, around) else {
        return false;
    };
    out.tokens
        .push(token(word.core.clone(), spoken, Kind::Unit, "N-UNIT"));
    true
}

/// N-UNIT: a unit after a number (10 USD, 5 km); strict, so a unit that
/// needs context (A, B, s) is not read without it.
pub(super) fn read_after_number(
    n: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    after_number: bool,
    out: &mut Expansion,
) -> bool {
    if !after_number {
        return false;
    }
    emit(out, read_unit(n, word.core.start, word.core_text, around))
}

/// N-UNIT: the kilometre of a road's chainage, written before it (Km
/// 15+300 → ki lô mét mười lăm cộng ba trăm).
pub(super) fn read_chainage(
    n: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    _: bool,
    out: &mut Expansion,
) -> bool {
    if !matches!(word.core_text, "Km" | "km" | "KM") {
        return false;
    }
    let chainage = around.next_raw.is_some_and(|next| {
        next.split_once('+').is_some_and(|(km, m)| {
            !km.is_empty()
                && !m.is_empty()
                && km.bytes().all(|b| b.is_ascii_digit())
                && m.bytes().all(|b| b.is_ascii_digit())
        })
    });
    if chainage && let Some(spoken) = n.units.get("km") {
        out.tokens
            .push(token(word.core.clone(), spoken, Kind::Unit, "N-UNIT"));
        return true;
    }
    false
}

/// N-UNIT: a composite unit without a number (năng suất tính bằng tạ/ha)
/// when every part after the slash is a known unit.
pub(super) fn read_alone(
    n: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    _: bool,
    out: &mut Expansion,
) -> bool {
    emit(
        out,
        read_unit_alone(n, word.core.start, word.core_text, around),
    )
}

/// How many words before a noun/noun rate its number may stand: the noun
/// before the slash is the counted one, of one or two syllables (17 tiêu
/// chí/xã), so the number is one or two words back; further back it is
/// another clause's (500 mm/đợt; các tỉnh/thành).
const RATE_NUMBER_WINDOW: usize = 2;

/// N-PER: a rate of counted things written noun/noun after a number (17
/// tiêu chí/xã, 35 học sinh/lớp) says the slash as "mỗi" (`signs.tsv`).
/// Not "trên", which in this reader says a count out of a total (12/15
/// xã), nor "một", which after a count is heard as a second count; a
/// price per unit keeps its own reading (đồng/kg → đồng một ki lô gam).
/// Only Vietnamese syllables in small letters on both sides: names and
/// units are read by their own rules.
pub(super) fn read_rate(
    n: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    _: bool,
    out: &mut Expansion,
) -> bool {
    let Some((thing, per)) = word.core_text.split_once('/') else {
        return false;
    };
    let syllable = |w: &str| {
        !w.is_empty()
            && w.chars()
                .all(|c| is_vietnamese_letter(c) && !c.is_uppercase())
            && is_vietnamese_syllable(w)
    };
    let number_before = around
        .before
        .iter()
        .rev()
        .take(RATE_NUMBER_WINDOW)
        .any(|w| w.starts_with(|c: char| c.is_ascii_digit()));
    if !syllable(thing) || !syllable(per) || !number_before {
        return false;
    }
    let start = word.core.start;
    let slash = start + thing.len();
    out.tokens
        .push(token(start..slash, thing, Kind::Word, "W-WORD"));
    out.tokens.push(token(
        slash..slash + 1,
        n.signs.per.as_str(),
        Kind::Symbol,
        "N-PER",
    ));
    out.tokens
        .push(token(slash + 1..word.core.end, per, Kind::Word, "W-WORD"));
    true
}

/// N-UNIT: a temperature scale written as a letter after the degree word
/// (30-32 độ C → độ xê, 98 độ F → độ ép), read by its letter name.
fn read_degree_scale<'n>(n: &'n Normalizer, core: &str, around: &Around<'_>) -> Option<&'n str> {
    if !matches!(core, "C" | "F" | "K") || !ends_with_any(around.before, &n.triggers.degree) {
        return None;
    }
    n.letters.get(core)
}

/// N-MONEY: dollars and euros with cents (10,5$ → mười đô la năm mươi xu).
pub(super) fn read_cents(n: &Normalizer, digits: &str, unit: &str) -> Option<String> {
    if !matches!(unit, "$" | "€") || digits.starts_with('-') {
        return None;
    }
    let (whole, cents) = digits.split_once(',')?;
    if cents.len() > 2 {
        return None;
    }
    let cents: u32 = format!("{cents:0<2}").parse().ok()?;
    let currency = n.units.get(unit)?;
    let style = &n.style;
    let whole_value = number::cardinal(whole, style);
    let mut parts = Vec::new();
    if whole_value != "không" {
        parts.push(format!("{whole_value} {currency}"));
    }
    if cents > 0 {
        parts.push(format!(
            "{} xu",
            number::cardinal(&cents.to_string(), style)
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// N-UNIT: a unit glued to a number (5km, 95%), or a composite unit
/// `x/y`: money per measured quantity says "một" (100₫/kg → đồng một ki lô
/// gam), anything else says "trên" (km/h, 200mg/ml, 50.000đ/ngày).
pub(super) fn read_unit(
    n: &Normalizer,
    start: usize,
    text: &str,
    around: &Around<'_>,
) -> Option<Vec<Token>> {
    if !n.units.contains(text) && !text.contains('/') {
        return None;
    }
    let window = around.window();
    let span = start..start + text.len();
    if let Some(unit) = n.units.reading_strict(text, &window) {
        return Some(vec![token(span, unit.spoken.clone(), Kind::Unit, "N-UNIT")]);
    }
    let (x, rest) = text.split_once('/')?;
    let is_word = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| is_vietnamese_letter(c) && c.is_lowercase())
    };
    let numerator = match n.units.reading_strict(x, &window) {
        Some(unit) => unit.spoken.clone(),
        None if is_word(x) => x.to_string(),
        None => return None,
    };
    let is_money = names_money(n, &numerator);
    let mut tokens = vec![token(
        start..start + x.len(),
        numerator,
        Kind::Unit,
        "N-UNIT",
    )];
    // Each further part is "per" something: 75 triệu đồng/người/năm.
    let mut at = start + x.len();
    let parts = rest.split('/').count();
    for (i, y) in rest.split('/').enumerate() {
        let denominator = if let Some(unit) = n.units.get(y) {
            unit.to_string()
        } else if is_word(y) {
            y.to_string()
        } else if i + 1 == parts
            && let Some(count) = span_count(n, y, around)
        {
            count
        } else {
            return None;
        };
        let measured = !n
            .triggers
            .time_units
            .iter()
            .any(|t| t.join(" ") == denominator);
        let per = if is_money && measured {
            "một"
        } else {
            "trên"
        };
        tokens.push(token(at..at + 1, per, Kind::Symbol, "N-UNIT"));
        tokens.push(token(
            at + 1..at + 1 + y.len(),
            denominator,
            Kind::Unit,
            "N-UNIT",
        ));
        at += 1 + y.len();
    }
    Some(tokens)
}

/// The count of a time span written after the slash of a measure, its
/// time unit the next word or written on (70 mm/3 giờ, 50 mm/24h → trên
/// ba giờ, trên hai mươi tư giờ): a measure over a span, never a date or
/// a fraction, since a unit stands before the slash.
fn span_count(n: &Normalizer, y: &str, around: &Around<'_>) -> Option<String> {
    let digits = y.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 3 {
        return None;
    }
    let (count, unit) = y.split_at(digits);
    let is_time_unit = |w: &str| n.triggers.time_units.iter().any(|t| t.join(" ") == w);
    let spoken_count = number::cardinal(count, &n.style);
    if unit.is_empty() {
        let next_is_time = around.after.first().is_some_and(|w| is_time_unit(w));
        return next_is_time.then_some(spoken_count);
    }
    let unit = n.units.get(unit).filter(|u| is_time_unit(u))?;
    Some(format!("{spoken_count} {unit}"))
}

/// Whether a unit's spoken form names a currency (đồng, đô la Mỹ, bảng Anh).
pub(super) fn names_money(n: &Normalizer, spoken: &str) -> bool {
    let spoken = spoken.to_lowercase();
    n.triggers
        .currency
        .iter()
        .any(|c| spoken.starts_with(&c.join(" ")))
}

/// N-MONEY: a currency sign written before a plain amount ($5, US$2,41,
/// £1, €300). The sign is silent where it stands; its name, returned here,
/// is said after the amount (by the caller, which knows whether a
/// magnitude word follows: $5 triệu → năm triệu đô la).
pub(super) fn read_prefixed_money<'n>(
    n: &'n Normalizer,
    span: Range<usize>,
    core: &str,
    out: &mut Expansion,
) -> Option<&'n str> {
    // Signs and codes start with a symbol or a capital: most words end here.
    if core.starts_with(|c: char| c.is_ascii_digit() || c.is_lowercase()) {
        return None;
    }
    let digit = core.find(|c: char| c.is_ascii_digit())?;
    let (sign, amount) = core.split_at(digit);
    if sign.is_empty() || numeric_prefix_len(amount) != amount.len() {
        return None;
    }
    let name = n.units.get(sign).filter(|name| names_money(n, name))?;
    let amount_start = span.start + digit;
    let (spoken, rule) = read_number(amount, n);
    out.tokens
        .push(token(span.start..amount_start, "", Kind::Unit, "N-MONEY"));
    out.tokens
        .push(token(amount_start..span.end, spoken, Kind::Number, rule));
    Some(name)
}

/// N-UNIT: a composite unit standing alone (tạ/ha, đồng/kg, km/h): the
/// numerator a unit or a word, every denominator a known unit, so that
/// "và/hoặc" or "nam/nữ" stay words.
fn read_unit_alone(
    n: &Normalizer,
    start: usize,
    core: &str,
    around: &Around<'_>,
) -> Option<Vec<Token>> {
    let (x, rest) = core.split_once('/')?;
    // A currency after the slash is an exchange rate (GBP/VND), not a unit.
    let is_measure = |unit: &str| n.units.get(unit).is_some_and(|s| !names_money(n, s));
    if x.is_empty() || !rest.split('/').all(is_measure) {
        return None;
    }
    read_unit(n, start, core, around)
}
