//! Words that start with a digit (or a sign and a digit): the order in
//! which the number rules are offered them ([`NUMERIC_RULES`]), scores,
//! ranges, fractions, the k/tr shorthand, decimals and plain numbers.
//! Phone numbers, times, dates, documents and units have their own files.
//! Rule ids are listed in the module doc of `normalize`.

use std::ops::Range;

use super::fraction::{fraction_could_be_date, read_fraction};
use super::letters::read_mixed;
use super::time::read_time;
use super::unit::{read_cents, read_unit};
use super::{date, document, emit, phone, time, token};
use crate::normalize::context::Around;
use crate::normalize::number::{self, NumberStyle};
use crate::normalize::triggers::{ends_with_any, is_one_of};
use crate::normalize::words::Word;
use crate::normalize::{Expansion, Kind, Normalizer, Token};

/// A number rule: reads `core` (at `span`) into `out` and returns true, or
/// returns false and leaves `out` as it was.
type NumericRule = fn(&Normalizer, Range<usize>, &str, &Around<'_>, &mut Expansion) -> bool;

/// The order in which the number rules are offered a core that starts
/// with a digit or a sign; the first that reads it wins.
const NUMERIC_RULES: [(&str, NumericRule); 14] = [
    ("plus-sign", read_plus_sign),
    ("seconds", time::read_seconds),
    ("minutes-after-hour", time::read_minutes_after_hour),
    ("phone", phone::read_word),
    ("clock-time", time::read_clock_word),
    ("date", date::read),
    ("all-day", time::read_all_day_word),
    ("year-after-month", date::read_year_after_month),
    ("score", read_score_word),
    ("range", read_range_word),
    ("document", document::read_word),
    ("amount", read_amount_word),
    ("times", read_times_word),
    ("number-then-rest", read_number_then_rest),
];

/// The core rule for numbers (see `rules::CORE_RULES`).
pub(super) fn read_word(
    n: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    _: bool,
    out: &mut Expansion,
) -> bool {
    let core = word.core_text;
    core.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+') && core.len() > 1)
        && read(n, word.core.clone(), core, around, out)
}

/// Reads a core that starts with a digit (or a sign and a digit).
/// Returns false when it is not numeric after all.
pub(super) fn read(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    around: &Around<'_>,
    out: &mut Expansion,
) -> bool {
    NUMERIC_RULES
        .iter()
        .any(|(_, rule)| rule(n, span.clone(), core, around, out))
}

/// N-NEG: the minus sign U+2212 of typeset text (−51 °C) reads like a
/// hyphen-minus; it is not a symbol to leave out.
pub(super) fn read_minus_sign(
    n: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    _: bool,
    out: &mut Expansion,
) -> bool {
    let span = word.core.clone();
    let Some(rest) = word.core_text.strip_prefix('−') else {
        return false;
    };
    read_after_sign(
        n,
        span,
        '−',
        rest,
        (&n.signs.typeset_minus, "N-NEG"),
        around,
        out,
    )
}

/// Reads a sign as `spoken` under `rule`, then the number after it as
/// usual; false (nothing read) when no digit follows the sign.
fn read_after_sign(
    n: &Normalizer,
    span: Range<usize>,
    sign: char,
    rest: &str,
    (spoken, rule): (&str, &'static str),
    around: &Around<'_>,
    out: &mut Expansion,
) -> bool {
    if !rest.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    let sign_end = span.start + sign.len_utf8();
    out.tokens
        .push(token(span.start..sign_end, spoken, Kind::Number, rule));
    if !read(n, sign_end..span.end, rest, around, out) {
        read_mixed(n, sign_end..span.end, rest, around, out);
    }
    true
}

/// N-PLUS: a sign written before a change in market news (+0,73%) says
/// "cộng"; the number after it is read as usual, its comma a decimal.
fn read_plus_sign(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    around: &Around<'_>,
    out: &mut Expansion,
) -> bool {
    let Some(rest) = core.strip_prefix('+') else {
        return false;
    };
    read_after_sign(n, span, '+', rest, (&n.signs.plus, "N-PLUS"), around, out)
}

fn read_score_word(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    around: &Around<'_>,
    out: &mut Expansion,
) -> bool {
    let Some(spoken) = read_score(core, around, n) else {
        return false;
    };
    out.tokens
        .push(token(span, spoken, Kind::Number, "N-SCORE"));
    true
}

fn read_range_word(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    around: &Around<'_>,
    out: &mut Expansion,
) -> bool {
    emit(out, read_range(n, span.start, core, around))
}

fn read_amount_word(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    around: &Around<'_>,
    out: &mut Expansion,
) -> bool {
    let Some(tokens) = read_amount(n, span.start, core, around) else {
        return false;
    };
    if tokens.first().is_some_and(|t| t.rule == "N-FRAC") && fraction_could_be_date(n, core, around)
    {
        date::warn(out, &span, core, "N-FRAC-GUESS", "a fraction");
    }
    out.tokens.extend(tokens);
    true
}

fn read_times_word(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    around: &Around<'_>,
    out: &mut Expansion,
) -> bool {
    emit(out, read_times(n, span.start, core, around))
}

/// A number followed by something else (12A, 5G): the number, then the rest.
fn read_number_then_rest(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    around: &Around<'_>,
    out: &mut Expansion,
) -> bool {
    let number_len = numeric_prefix_len(core);
    if number_len == 0 {
        return false;
    }
    let (digits, rest) = core.split_at(number_len);
    let (spoken, rule) = read_number(digits, n);
    out.tokens.push(token(
        span.start..span.start + number_len,
        spoken,
        Kind::Number,
        rule,
    ));
    let mut rest_start = span.start + number_len;
    let mut rest = rest;
    // A version or section number (1.0, 14.2): the dot says "chấm".
    while let Some(after) = rest.strip_prefix('.')
        && let part_len = after.bytes().take_while(u8::is_ascii_digit).count()
        && part_len > 0
    {
        out.tokens.push(token(
            rest_start..rest_start + 1,
            "chấm",
            Kind::Symbol,
            "S-SYM",
        ));
        let (spoken, rule) = read_number(&after[..part_len], n);
        out.tokens.push(token(
            rest_start + 1..rest_start + 1 + part_len,
            spoken,
            Kind::Number,
            rule,
        ));
        rest_start += 1 + part_len;
        rest = &after[part_len..];
    }
    if !rest.is_empty() {
        read_mixed(n, rest_start..span.end, rest, around, out);
    }
    true
}

/// N-SCORE: 2-1 after a word about a match (tỷ số, thắng, hòa) or when the
/// first number is larger, which a range never is: read "hai một".
fn read_score(core: &str, around: &Around<'_>, n: &Normalizer) -> Option<String> {
    let (a, b) = core.split_once(['-', '–'])?;
    let small = |s: &str| (1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    if !small(a) || !small(b) {
        return None;
    }
    let (x, y) = (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?);
    let context = (0..=3).any(|skip| {
        around.before.len() >= skip
            && ends_with_any(
                &around.before[..around.before.len() - skip],
                &n.triggers.score,
            )
    });
    if !context && x <= y {
        return None;
    }
    let style = &n.style;
    Some(format!(
        "{} {}",
        number::cardinal(a, style),
        number::cardinal(b, style)
    ))
}

/// N-RANGE: two amounts or times joined by a dash (6-7, 2020-2025,
/// 10:00-11:00, 3kg-6kg, 50.000đ-100.000đ) read with "đến".
fn read_range(n: &Normalizer, start: usize, core: &str, around: &Around<'_>) -> Option<Vec<Token>> {
    let dash = core[1..].find(['-', '–'])? + 1;
    let dash_len = core[dash..].chars().next()?.len_utf8();
    let (left, right) = (&core[..dash], &core[dash + dash_len..]);
    if !right.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let side = |at: usize, text: &str| -> Option<Vec<Token>> {
        if let Some(spoken) = read_time(text, &n.style) {
            return Some(vec![token(
                at..at + text.len(),
                spoken,
                Kind::Time,
                "N-TIME",
            )]);
        }
        read_amount(n, at, text, around)
    };
    let mut tokens = side(start, left)?;
    let right_tokens = side(start + dash + dash_len, right)?;
    tokens.push(token(
        start + dash..start + dash + dash_len,
        "đến",
        Kind::Symbol,
        "N-RANGE",
    ));
    tokens.extend(right_tokens);
    Some(tokens)
}

/// A number with what may follow it inside one word: the k/tr shorthand,
/// a fraction, money with cents, a unit or a composite unit (km/h,
/// 100₫/kg). `None` unless the whole text is understood.
fn read_amount(
    n: &Normalizer,
    start: usize,
    text: &str,
    around: &Around<'_>,
) -> Option<Vec<Token>> {
    let style = &n.style;
    if let Some(tokens) = read_fraction(n, start, text, around) {
        return Some(tokens);
    }
    if let Some(tokens) = read_dotted_decimal(n, start, text, around) {
        return Some(tokens);
    }
    let len = numeric_prefix_len(text);
    if len == 0 {
        return None;
    }
    // A unit wins over the shorthand: 12kg is kilograms, not 12 nghìn g.
    let unit_follows =
        len < text.len() && read_unit(n, start + len, &text[len..], around).is_some();
    if !unit_follows && let Some(tokens) = read_shorthand(n, start, text, around) {
        return Some(tokens);
    }
    let (digits, rest) = text.split_at(len);
    let span = start..start + text.len();
    if let Some(spoken) = read_cents(n, digits, rest) {
        return Some(vec![token(span, spoken, Kind::Unit, "N-MONEY")]);
    }
    let ordinal = rest.is_empty()
        && ends_with_any(around.before, &n.triggers.ordinal)
        && !digits.contains([',', '.', '-']);
    // A month after "tháng": tháng 4 → tháng tư.
    let after_month_word = around
        .before_last()
        .is_some_and(|w| is_one_of(w, &n.triggers.month_word));
    let month = (rest.is_empty() && after_month_word)
        .then(|| digits.parse::<u32>().ok())
        .flatten()
        .filter(|m| (1..=12).contains(m));
    // A leading zero in a count, a day or an hour is not said (07 hộ,
    // ngày 01, Hồi 04 giờ); a document number keeps it (Chỉ thị 05).
    let count = rest.is_empty()
        && digits.len() == 2
        && digits.starts_with('0')
        && digits != "00"
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (around.before_last().is_some_and(|w| {
            is_one_of(w, &n.triggers.day_said) || is_one_of(w, &n.triggers.clock_word)
        }) || date::counted_after(around, n));
    let (spoken, rule) = if let Some(month) = month {
        (number::month(month, style), "N-CARD")
    } else if count {
        (number::cardinal(digits, style), "N-CARD")
    } else if ordinal {
        (number::ordinal(digits, style), "N-ORD")
    } else {
        read_number(digits, n)
    };
    number_then_unit(n, start, text, len, spoken, rule, around)
}

/// The number read from `text[..number_len]` as `spoken`, then the unit
/// written right after it (12kg, 500k₫, 1/2kg), if any. `None` when that
/// tail is no unit, so the caller's reading does not apply.
pub(super) fn number_then_unit(
    n: &Normalizer,
    start: usize,
    text: &str,
    number_len: usize,
    spoken: String,
    rule: &'static str,
    around: &Around<'_>,
) -> Option<Vec<Token>> {
    let number_end = start + number_len;
    let mut tokens = vec![token(start..number_end, spoken, Kind::Number, rule)];
    let unit = &text[number_len..];
    if !unit.is_empty() {
        tokens.extend(read_unit(n, number_end, unit, around)?);
    }
    Some(tokens)
}

/// N-SHORT: 500k, 10tr, 1tr2 (1 200 000), 2t3 (2 300 000 000), 2k5.
fn read_shorthand(
    n: &Normalizer,
    start: usize,
    text: &str,
    around: &Around<'_>,
) -> Option<Vec<Token>> {
    let int_len = text.bytes().take_while(u8::is_ascii_digit).count();
    // After a road word the letter is the road's (quốc lộ 1K), not an amount.
    if int_len == 0 || int_len > 4 || ends_with_any(around.before, &n.triggers.road) {
        return None;
    }
    let after = &text[int_len..];
    let (magnitude, mark_len) = [
        ("tr", 1_000_000u128),
        ("tỷ", 1_000_000_000),
        ("tỉ", 1_000_000_000),
        ("k", 1_000),
        ("K", 1_000),
        ("t", 1_000_000_000),
    ]
    .into_iter()
    .find(|(mark, _)| after.starts_with(mark))
    .map(|(mark, value)| (value, mark.len()))?;
    let tail = &after[mark_len..];
    let frac_len = tail.bytes().take_while(u8::is_ascii_digit).count();
    if frac_len > 3 {
        return None;
    }
    let integer: u128 = text[..int_len].parse().ok()?;
    let mut value = integer * magnitude;
    if frac_len > 0 {
        let fraction: u128 = tail[..frac_len].parse().ok()?;
        value += fraction * magnitude / 10u128.pow(frac_len as u32);
    }
    number_then_unit(
        n,
        start,
        text,
        int_len + mark_len + frac_len,
        number::cardinal_value(value, &n.style),
        "N-SHORT",
        around,
    )
}

/// N-UNIT: a decimal written with a dot before a unit (97.6mm, 85.5 mm,
/// 20.9 độ) says "phẩy"; a dot before exactly three digits stays a
/// thousands mark.
fn read_dotted_decimal(
    n: &Normalizer,
    start: usize,
    text: &str,
    around: &Around<'_>,
) -> Option<Vec<Token>> {
    let int_len = text.bytes().take_while(u8::is_ascii_digit).count();
    let after = text[int_len..].strip_prefix('.')?;
    let frac_len = after.bytes().take_while(u8::is_ascii_digit).count();
    if int_len == 0 || frac_len == 0 || frac_len == 3 || frac_len > 4 {
        return None;
    }
    let unit = &after[frac_len..];
    // Before a unit written in words too (20.9 độ Vĩ Bắc, 1.5 tấn).
    let unit_next = unit.is_empty()
        && (around.next_raw.is_some_and(|w| n.units.contains(w))
            || around.after.first().is_some_and(|w| {
                is_one_of(w, &n.triggers.degree) || is_one_of(w, &n.triggers.measure)
            }));
    if !unit_next && (unit.is_empty() || !n.units.contains(unit)) {
        return None;
    }
    let spoken = number::decimal(&text[..int_len], &after[..frac_len], &n.style);
    number_then_unit(
        n,
        start,
        text,
        int_len + 1 + frac_len,
        spoken,
        "N-DEC",
        around,
    )
}

/// N-TIMES: a count times a distance or an amount (4x400m → bốn nhân bốn
/// trăm mét).
fn read_times(n: &Normalizer, start: usize, text: &str, around: &Around<'_>) -> Option<Vec<Token>> {
    let (a, b) = text.split_once(['x', '×'])?;
    if a.is_empty() || a.len() > 2 || !a.bytes().all(|d| d.is_ascii_digit()) {
        return None;
    }
    let sign_len = text[a.len()..].chars().next()?.len_utf8();
    let b_start = start + a.len() + sign_len;
    let right = read_amount(n, b_start, b, around)?;
    let mut tokens = vec![
        token(
            start..start + a.len(),
            number::cardinal(a, &n.style),
            Kind::Number,
            "N-TIMES",
        ),
        token(start + a.len()..b_start, "nhân", Kind::Symbol, "N-TIMES"),
    ];
    tokens.extend(right);
    Some(tokens)
}

/// Length of the leading number: optional minus, digits, `.` thousands
/// groups or `,` decimals.
pub(super) fn numeric_prefix_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut i = usize::from(bytes.first() == Some(&b'-'));
    let digits_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    if i == digits_start {
        return 0;
    }
    // Thousands groups: .ddd repeated.
    while i + 4 <= bytes.len()
        && bytes[i] == b'.'
        && bytes[i + 1..i + 4].iter().all(u8::is_ascii_digit)
        && bytes.get(i + 4).is_none_or(|b| !b.is_ascii_digit())
    {
        i += 4;
    }
    // Decimal part: ,d+
    if i + 1 < bytes.len() && bytes[i] == b',' && bytes[i + 1].is_ascii_digit() {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
    }
    i
}

/// A plain number (no unit): cardinal, decimal, negative, leading zero.
/// N-LONG: more digits than a quantity has ([`number::MAX_CARDINAL_DIGITS`])
/// are read digit by digit; `expand` warns about the token.
pub(super) fn read_number(text: &str, n: &Normalizer) -> (String, &'static str) {
    let style = &n.style;
    // Signs are counted, not recursed into: a run of them is input too.
    let body = text.trim_start_matches('-');
    let signs = text.len() - body.len();
    let (spoken, rule) = read_unsigned(body, style);
    if signs == 0 {
        return (spoken, rule);
    }
    let rule = if rule == "N-LONG" { rule } else { "N-NEG" };
    let mut said = String::with_capacity(signs * (n.signs.minus.len() + 1) + spoken.len());
    for _ in 0..signs {
        said.push_str(&n.signs.minus);
        said.push(' ');
    }
    said.push_str(&spoken);
    (said, rule)
}

fn read_unsigned(text: &str, style: &NumberStyle) -> (String, &'static str) {
    if let Some((integer, fraction)) = text.split_once(',') {
        let rule = if number::is_quantity(integer) {
            "N-DEC"
        } else {
            "N-LONG"
        };
        return (number::decimal(integer, fraction, style), rule);
    }
    if text.len() > 1 && text.starts_with('0') && !text.contains('.') {
        let rule = if text.len() > number::MAX_CARDINAL_DIGITS {
            "N-LONG"
        } else {
            "N-DIGITS"
        };
        return (number::digits(text), rule);
    }
    if !number::is_quantity(text) {
        return (number::digits(text), "N-LONG");
    }
    (number::cardinal(text, style), "N-CARD")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn say(text: &str) -> String {
        Normalizer::builtin().unwrap().expand_str(text).spoken()
    }

    #[test]
    fn plain_numbers_carry_their_rule() {
        let n = Normalizer::builtin().unwrap();
        assert_eq!(
            read_number("2024", &n),
            ("hai nghìn không trăm hai mươi tư".to_string(), "N-CARD")
        );
        assert_eq!(read_number("-7", &n), ("âm bảy".to_string(), "N-NEG"));
        assert_eq!(
            read_number("09", &n),
            ("không chín".to_string(), "N-DIGITS")
        );
        assert_eq!(
            read_number("12,75", &n),
            ("mười hai phẩy bảy năm".to_string(), "N-DEC")
        );
        assert_eq!(read_number("1234567890123456789012", &n).1, "N-LONG");
    }

    #[test]
    fn the_number_prefix_stops_where_the_number_does() {
        assert_eq!(numeric_prefix_len("1.500.000đ"), 9);
        assert_eq!(numeric_prefix_len("12,5kg"), 4);
        assert_eq!(numeric_prefix_len("-3x"), 2);
        assert_eq!(numeric_prefix_len("1.50"), 1);
        assert_eq!(numeric_prefix_len("kg"), 0);
    }

    #[test]
    fn scores_and_ranges() {
        assert_eq!(say("đội khách thua 4-2"), "đội khách thua bốn hai");
        assert_eq!(say("mất 3-5 ngày"), "mất ba đến năm ngày");
        assert_eq!(say("từ 8:00-9:30"), "từ tám giờ đến chín giờ ba mươi phút");
    }

    #[test]
    fn amounts_with_what_follows_them() {
        assert_eq!(say("giá 250k"), "giá hai trăm năm mươi nghìn");
        assert_eq!(say("lương 7tr5"), "lương bảy triệu năm trăm nghìn");
        assert_eq!(say("chạy 4x100m"), "chạy bốn nhân một trăm mét");
        assert_eq!(say("tăng +1,25%"), "tăng cộng một phẩy hai năm phần trăm");
        assert_eq!(say("mưa 42.5mm"), "mưa bốn mươi hai phẩy năm mi li mét");
    }

    #[test]
    fn fractions_shares_and_counts_out_of_a_total() {
        assert_eq!(say("chiếm 2/5 diện tích"), "chiếm hai phần năm diện tích");
        assert_eq!(say("đạt 9/10 tiêu chí"), "đạt chín trên mười tiêu chí");
        let n = Normalizer::builtin().unwrap();
        let guessed = n.expand_str("con số 5/6 này");
        assert!(
            guessed.warnings.iter().any(|w| w.rule == "N-FRAC-GUESS"),
            "{guessed:?}"
        );
    }

    #[test]
    fn a_leading_zero_is_said_only_in_a_code() {
        assert_eq!(say("có 06 hộ"), "có sáu hộ");
        assert_eq!(say("Quyết định 06 của"), "Quyết định không sáu của");
    }
}
