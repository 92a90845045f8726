//! Words that start with a digit: phone numbers, times, dates, scores,
//! ranges, document numbers, fractions, the k/tr shorthand, money and
//! numbers with units. Rule ids are listed in the module doc of `normalize`.

use std::ops::Range;

use super::{Around, date, ends_with_any, phone, read_mixed, silent, spelled, token};
use crate::normalize::number::{self, NumberStyle};
use crate::normalize::{Expansion, Kind, Normalizer, Token};

/// Reads a core that starts with a digit (or a minus sign and a digit).
/// Returns false when it is not numeric after all.
pub(super) fn read(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    around: &Around<'_>,
    out: &mut Expansion,
) -> bool {
    let style = &n.style;
    // N-PLUS: a sign written before a change in market news (+0,73%) says
    // "cộng"; the number after it is read as usual, its comma a decimal.
    if let Some(rest) = core.strip_prefix('+')
        && rest.starts_with(|c: char| c.is_ascii_digit())
    {
        let sign_end = span.start + 1;
        out.tokens
            .push(token(span.start..sign_end, "cộng", Kind::Number, "N-PLUS"));
        if !read(n, sign_end..span.end, rest, around, out) {
            read_mixed(n, sign_end..span.end, rest, around, out);
        }
        return true;
    }
    // N-TIME: seconds glued to a number (30s), but not a model name (iPhone 6s).
    if let Some(seconds) = core.strip_suffix('s')
        && (1..=2).contains(&seconds.len())
        && seconds.bytes().all(|b| b.is_ascii_digit())
        && !around
            .prev_raw
            .is_some_and(|w| w.chars().skip(1).any(char::is_uppercase))
    {
        let spoken = format!("{} giây", number::cardinal(seconds, style));
        out.tokens.push(token(span, spoken, Kind::Time, "N-TIME"));
        return true;
    }
    if let Some(tokens) = phone::read(n, span.clone(), core, around) {
        out.tokens.extend(tokens);
        return true;
    }
    // N-TIME: 14h, 14h30, 14:30, 23:59:59, 3p20s.
    if let Some(spoken) = read_time(core, style) {
        out.tokens.push(token(span, spoken, Kind::Time, "N-TIME"));
        return true;
    }
    if date::read(n, span.clone(), core, around, out) {
        return true;
    }
    // N-ALLDAY: round the clock (mở cửa 24/24, phục vụ 24/7, trực 24/24h)
    // says "trên", never a fraction; "ngày 24/7" was read as a date above.
    if let Some(spoken) = read_all_day(core, style) {
        out.tokens
            .push(token(span, spoken, Kind::Number, "N-ALLDAY"));
        return true;
    }
    // N-DATE-MY: the year of "tháng 1 2024" takes its missing "năm".
    if core.len() == 4
        && core.bytes().all(|b| b.is_ascii_digit())
        && let [.., month_word, month] = around.before
        && *month_word == "tháng"
        && month.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
    {
        let spoken = format!("năm {}", number::cardinal(core, style));
        out.tokens
            .push(token(span, spoken, Kind::Date, "N-DATE-MY"));
        return true;
    }
    if let Some(spoken) = read_score(core, around, n) {
        out.tokens
            .push(token(span, spoken, Kind::Number, "N-SCORE"));
        return true;
    }
    if let Some(tokens) = read_range(n, span.start, core, around) {
        out.tokens.extend(tokens);
        return true;
    }
    if let Some(tokens) = read_document(n, span.start, core, around) {
        out.tokens.extend(tokens);
        return true;
    }
    if let Some(tokens) = read_amount(n, span.start, core, around) {
        if tokens.first().is_some_and(|t| t.rule == "N-FRAC")
            && fraction_could_be_date(n, core, around)
        {
            date::warn(out, &span, core, "N-FRAC-GUESS", "a fraction");
        }
        out.tokens.extend(tokens);
        return true;
    }
    if let Some(tokens) = read_times(n, span.start, core, around) {
        out.tokens.extend(tokens);
        return true;
    }
    // A number followed by something else (12A, 5G): the number, then the rest.
    let number_len = numeric_prefix_len(core);
    if number_len == 0 {
        return false;
    }
    let (digits, rest) = core.split_at(number_len);
    let (spoken, rule) = read_number(digits, style);
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
        let (spoken, rule) = read_number(&after[..part_len], style);
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

/// 14h, 14h30, 14g30, 14:30, 23:59:59, 3p20s → spoken time.
pub(super) fn read_time(core: &str, style: &NumberStyle) -> Option<String> {
    let parse = |s: &str| -> Option<u32> {
        if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let say = |v: u32| number::cardinal(&v.to_string(), style);
    let clock = |h: u32, m: u32, s: u32| {
        let mut spoken = format!("{} giờ", say(h));
        if m > 0 {
            spoken.push_str(&format!(" {} phút", say(m)));
        }
        if s > 0 {
            spoken.push_str(&format!(" {} giây", say(s)));
        }
        spoken
    };
    if let Some(i) = core.find(['h', 'g']) {
        let (h, m) = (&core[..i], &core[i + 1..]);
        let h = parse(h)?;
        if h > 24 {
            return None;
        }
        if m.is_empty() {
            return Some(clock(h, 0, 0));
        }
        let m = parse(m.strip_suffix('p').unwrap_or(m))?;
        return (m <= 59).then(|| clock(h, m, 0));
    }
    // A duration in minutes and seconds: 3p, 3p20s.
    if let Some((m, s)) = core.split_once('p') {
        let m = parse(m)?;
        let s = if s.is_empty() {
            0
        } else {
            parse(s.strip_suffix('s')?)?
        };
        if m > 59 || s > 59 {
            return None;
        }
        let mut spoken = format!("{} phút", say(m));
        if s > 0 {
            spoken.push_str(&format!(" {} giây", say(s)));
        }
        return Some(spoken);
    }
    let mut parts = core.split(':');
    let h = parse(parts.next()?)?;
    let minutes = parts.next()?;
    let m = parse(minutes)?;
    let s = parts.next().map_or(Some(0), parse)?;
    if parts.next().is_some() || h > 24 || m > 59 || s > 59 || minutes.len() != 2 {
        return None;
    }
    Some(clock(h, m, s))
}

/// N-ALLDAY: 24/24, 24/7, 24h/24h, 24/24h: "hai mươi tư trên hai mươi tư
/// (giờ)".
fn read_all_day(core: &str, style: &NumberStyle) -> Option<String> {
    let (hours, per) = core.split_once('/')?;
    let hours = hours.strip_suffix('h').unwrap_or(hours);
    let (per, unit) = match per.strip_suffix('h') {
        Some(per) => (per, " giờ"),
        None => (per, ""),
    };
    (hours == "24" && matches!(per, "24" | "7")).then(|| {
        format!(
            "{} trên {}{unit}",
            number::cardinal(hours, style),
            number::cardinal(per, style)
        )
    })
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
        !p.is_empty()
            && p.chars().all(super::is_vietnamese_letter)
            && p.chars().any(char::is_uppercase)
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
        let skip = usize::from(around.before_last() == Some("số"));
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
                read_number(part, style).0
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
    let month = (rest.is_empty() && around.before_last() == Some("tháng"))
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
        && (matches!(around.before_last(), Some("ngày" | "mùng" | "hồi" | "lúc"))
            || date::counted_after(around, n));
    let (spoken, rule) = if let Some(month) = month {
        (number::month(month, style), "N-CARD")
    } else if count {
        (number::cardinal(digits, style), "N-CARD")
    } else if ordinal {
        (number::ordinal(digits, style), "N-ORD")
    } else {
        read_number(digits, style)
    };
    number_then_unit(n, start, text, len, spoken, rule, around)
}

/// The number read from `text[..number_len]` as `spoken`, then the unit
/// written right after it (12kg, 500k₫, 1/2kg), if any. `None` when that
/// tail is no unit, so the caller's reading does not apply.
fn number_then_unit(
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
    if int_len == 0 || int_len > 4 {
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

/// N-FRAC: 1/2, 3/4 (phần tư), -3/4, 1/2kg; after a whole number it is a
/// mixed number joined by "và" (5 1/2 → năm và một phần hai). A count out
/// of a total says "trên": a rank after "thứ" (thứ 12/63), or a count
/// before a counted noun (12/15 xã, 19/19 tiêu chí, 97,5/100 điểm,
/// 5.775/8.227 xã). N-DOC: a number and a year after a document word
/// (Nghị định 200/2025) is the document's number and year.
fn read_fraction(
    n: &Normalizer,
    start: usize,
    text: &str,
    around: &Around<'_>,
) -> Option<Vec<Token>> {
    let style = &n.style;
    let (sign, body) = match text.strip_prefix('-') {
        Some(body) => ("âm ", body),
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
    let before = around.before;
    let named = &before[..before.len() - usize::from(around.before_last() == Some("số"))];
    let year = b.parse::<u32>().is_ok_and(|y| (1945..=2100).contains(&y));
    if sign.is_empty()
        && unit.is_empty()
        && year
        && plain(a)
        && ends_with_any(named, &n.triggers.document)
    {
        let spoken = format!(
            "{} năm {}",
            read_number(a, style).0,
            number::cardinal(b, style)
        );
        return Some(vec![token(
            start..start + number_len,
            spoken,
            Kind::Number,
            "N-DOC",
        )]);
    }
    let value = |s: &str| s.replace('.', "").replace(',', ".").parse::<f64>().ok();
    let out_of_total = unit.is_empty()
        && sign.is_empty()
        && (ends_with_any(before, &n.triggers.ordinal)
            || date::counted_after(around, n) && value(a)? <= value(b)?);
    let spoken = if out_of_total {
        format!(
            "{} trên {}",
            read_number(a, style).0,
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

/// N-FRAC-GUESS: whether a plain a/b read as a fraction could have been a
/// day and month, with nothing around to say which (no quantity word
/// before it, no unit or counted noun after it).
fn fraction_could_be_date(n: &Normalizer, text: &str, around: &Around<'_>) -> bool {
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

/// N-UNIT: a decimal written with a dot before a unit (97.6mm, 85.5 mm)
/// says "phẩy"; a dot before exactly three digits stays a thousands mark.
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
    let unit_next = unit.is_empty() && around.next_raw.is_some_and(|w| n.units.contains(w));
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

/// N-UNIT: a temperature scale written as a letter after the degree word
/// (30-32 độ C → độ xê, 98 độ F → độ ép), read by its letter name.
pub(super) fn read_degree_scale<'n>(
    n: &'n Normalizer,
    core: &str,
    around: &Around<'_>,
) -> Option<&'n str> {
    if !matches!(core, "C" | "F" | "K") || !ends_with_any(around.before, &n.triggers.degree) {
        return None;
    }
    n.letters.get(core)
}

/// N-MONEY: dollars and euros with cents (10,5$ → mười đô la năm mươi xu).
fn read_cents(n: &Normalizer, digits: &str, unit: &str) -> Option<String> {
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
                .all(|c| super::is_vietnamese_letter(c) && c.is_lowercase())
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
    for y in rest.split('/') {
        let denominator = if let Some(unit) = n.units.get(y) {
            unit.to_string()
        } else if is_word(y) {
            y.to_string()
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
    let (spoken, rule) = read_number(amount, &n.style);
    out.tokens
        .push(token(span.start..amount_start, "", Kind::Unit, "N-MONEY"));
    out.tokens
        .push(token(amount_start..span.end, spoken, Kind::Number, rule));
    Some(name)
}

/// N-UNIT: a composite unit standing alone (tạ/ha, đồng/kg, km/h): the
/// numerator a unit or a word, every denominator a known unit, so that
/// "và/hoặc" or "nam/nữ" stay words.
pub(super) fn read_unit_alone(
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
pub(super) fn read_number(text: &str, style: &NumberStyle) -> (String, &'static str) {
    // Signs are counted, not recursed into: a run of them is input too.
    let body = text.trim_start_matches('-');
    let signs = text.len() - body.len();
    let (spoken, rule) = read_unsigned(body, style);
    if signs == 0 {
        return (spoken, rule);
    }
    let rule = if rule == "N-LONG" { rule } else { "N-NEG" };
    (format!("{}{spoken}", "âm ".repeat(signs)), rule)
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
