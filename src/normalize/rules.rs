//! The reading rules: splits text into words, classifies each one (number,
//! date, time, abbreviation, unit, …) with the words around it, and emits
//! tokens with spans. Rule ids are listed in the module doc of `normalize`.

use std::ops::Range;

use super::number::{self, NumberStyle};
use super::{Expansion, Kind, Normalizer, Source, Token, Warning};
use crate::text::is_vietnamese_letter;

/// Trigger phrases from `triggers.tsv`, by class.
#[derive(Debug, Clone, Default)]
pub(super) struct Triggers {
    roman: Vec<Vec<String>>,
    date: Vec<Vec<String>>,
    ordinal: Vec<Vec<String>>,
    quantity: Vec<Vec<String>>,
}

impl Triggers {
    pub(super) fn parse(text: &str) -> Self {
        let mut triggers = Triggers::default();
        for row in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let mut fields = row.split('\t');
            let (Some(class), Some(phrase)) = (fields.next(), fields.next()) else {
                continue;
            };
            let words: Vec<String> = phrase.split_whitespace().map(str::to_lowercase).collect();
            match class {
                "roman" => triggers.roman.push(words),
                "date" => triggers.date.push(words),
                "ordinal" => triggers.ordinal.push(words),
                "quantity" => triggers.quantity.push(words),
                _ => {}
            }
        }
        triggers
    }
}

/// Whether the lowercase words before a number end with one of `phrases`.
fn ends_with_any(before: &[String], phrases: &[Vec<String>]) -> bool {
    phrases
        .iter()
        .any(|p| before.len() >= p.len() && before[before.len() - p.len()..] == p[..])
}

/// A white-space separated piece of text split into leading punctuation, the
/// core and trailing punctuation; all ranges absolute.
struct Word<'a> {
    lead: Vec<(Range<usize>, char)>,
    core: Range<usize>,
    core_text: &'a str,
    trail: Vec<(Range<usize>, char)>,
}

fn is_opening(c: char) -> bool {
    matches!(
        c,
        '“' | '"' | '‘' | '\'' | '(' | '[' | '«' | '{' | '–' | '—' | '-' | '•' | '*' | '…'
    )
}

fn is_trailing(c: char) -> bool {
    matches!(
        c,
        ',' | '.'
            | ';'
            | ':'
            | '!'
            | '?'
            | '…'
            | '”'
            | '"'
            | '’'
            | '\''
            | ')'
            | ']'
            | '»'
            | '}'
            | '–'
            | '—'
    )
}

/// The pause a punctuation mark stands for.
fn pause_mark(c: char) -> &'static str {
    match c {
        '.' | '…' => ".",
        '!' => "!",
        '?' => "?",
        ';' => ";",
        ':' => ":",
        ',' | '–' | '—' | '-' | '(' | ')' | '[' | ']' | '•' => ",",
        // Quotes: a breath at most, which the neighbouring marks usually give.
        _ => "",
    }
}

fn split_words<'a>(text: &'a str, span: Range<usize>, normalizer: &Normalizer) -> Vec<Word<'a>> {
    let mut words = Vec::new();
    let part = &text[span.clone()];
    for piece in part.split(char::is_whitespace).filter(|p| !p.is_empty()) {
        // `piece` borrows from `part`, so its offset is the pointer distance.
        let start = span.start + (piece.as_ptr() as usize - part.as_ptr() as usize);
        words.push(split_punctuation(start, piece, normalizer));
    }
    words
}

fn split_punctuation<'a>(start: usize, piece: &'a str, normalizer: &Normalizer) -> Word<'a> {
    let mut lead = Vec::new();
    let mut core_start = 0;
    for (i, c) in piece.char_indices() {
        // A minus sign glued to a number is part of it (-3,5).
        let sign = c == '-' && piece[i + 1..].starts_with(|d: char| d.is_ascii_digit()) && i == 0;
        if !is_opening(c) || sign {
            break;
        }
        lead.push((start + i..start + i + c.len_utf8(), c));
        core_start = i + c.len_utf8();
    }
    let mut core_end = piece.len();
    let mut trail = Vec::new();
    while core_end > core_start {
        let c = piece[..core_end].chars().next_back().expect("non-empty");
        if !is_trailing(c) {
            break;
        }
        // Keep the dot of a dotted abbreviation (TP., v.v.) with its word.
        if c == '.'
            && normalizer
                .abbreviations
                .contains(&piece[core_start..core_end])
        {
            break;
        }
        core_end -= c.len_utf8();
        trail.push((start + core_end..start + core_end + c.len_utf8(), c));
    }
    trail.reverse();
    Word {
        lead,
        core: start + core_start..start + core_end,
        core_text: &piece[core_start..core_end],
        trail,
    }
}

/// Context handed to the readers of one core.
struct Around<'a> {
    /// Lowercase cores of the words before this one (nearest last).
    before: &'a [String],
    /// Lowercase words within the context window, for abbreviations.
    window: String,
    /// The sentence is written in capitals (a headline): capitalised words
    /// are words, not acronyms.
    shouting: bool,
}

pub(super) fn expand(normalizer: &Normalizer, text: &str, span: Range<usize>) -> Expansion {
    let words = split_words(text, span, normalizer);
    let lowered: Vec<String> = words.iter().map(|w| w.core_text.to_lowercase()).collect();
    let shouting = is_shouting(&words);
    let mut out = Expansion::default();
    let mut previous_was_number = false;
    for (index, word) in words.iter().enumerate() {
        for (range, c) in &word.lead {
            out.tokens.push(pause(range.clone(), *c));
        }
        if !word.core.is_empty() {
            let lo = index.saturating_sub(super::CONTEXT_WINDOW_WORDS);
            let hi = (index + 1 + super::CONTEXT_WINDOW_WORDS).min(words.len());
            let window = lowered[lo..index]
                .iter()
                .chain(&lowered[index + 1..hi])
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(" ");
            let around = Around {
                before: &lowered[..index],
                window,
                shouting,
            };
            let start = out.tokens.len();
            read_core(normalizer, word, &around, previous_was_number, &mut out);
            previous_was_number = out.tokens[start..]
                .last()
                .is_some_and(|t| t.kind == Kind::Number);
        }
        for (range, c) in &word.trail {
            out.tokens.push(pause(range.clone(), *c));
        }
        if !word.trail.is_empty() {
            previous_was_number = false;
        }
    }
    out
}

fn pause(span: Range<usize>, c: char) -> Token {
    Token {
        span,
        spoken: pause_mark(c).to_string(),
        kind: Kind::Pause,
        rule: "P-PAUSE",
    }
}

fn is_shouting(words: &[Word<'_>]) -> bool {
    let caps: Vec<&str> = words
        .iter()
        .map(|w| w.core_text)
        .filter(|t| t.chars().count() > 1 && t.chars().all(|c| c.is_uppercase()))
        .collect();
    caps.len() >= 3
        && caps
            .iter()
            .any(|t| t.chars().any(|c| !c.is_ascii() && c != 'Đ'))
}

fn token(span: Range<usize>, spoken: impl Into<String>, kind: Kind, rule: &'static str) -> Token {
    Token {
        span,
        spoken: spoken.into(),
        kind,
        rule,
    }
}

fn read_core(
    n: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    after_number: bool,
    out: &mut Expansion,
) {
    let core = word.core_text;
    let span = word.core.clone();
    // Abbreviations first: the lexicon knows best (TP.HCM, GD&ĐT, KT-XH).
    if let Some(entry) = n.abbreviations.reading(core, &around.window) {
        let rule = match (entry.source, entry.context.is_empty()) {
            (Source::Station, _) => "A-STATION",
            (Source::Builtin, true) => "A-LEX",
            (Source::Builtin, false) => "A-LEX-CTX",
        };
        out.tokens
            .push(token(span, entry.spoken.clone(), Kind::Abbreviation, rule));
        return;
    }
    if after_number && let Some(unit) = n.units.get(core) {
        out.tokens.push(token(span, unit, Kind::Unit, "N-UNIT"));
        return;
    }
    if core.chars().all(is_vietnamese_letter) {
        read_letters(n, span, core, around, out);
        return;
    }
    if core.starts_with(|c: char| c.is_ascii_digit() || c == '-' && core.len() > 1)
        && read_numeric(n, span.clone(), core, around, out)
    {
        return;
    }
    if is_roman(core) && ends_with_any(around.before, &n.triggers.roman) {
        let value = roman_value(core).expect("checked by is_roman");
        out.tokens.push(token(
            span,
            number::cardinal(&value.to_string(), &n.style),
            Kind::Roman,
            "N-ROMAN",
        ));
        return;
    }
    read_mixed(n, span, core, around, out);
}

/// A word made only of letters.
fn read_letters(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    around: &Around<'_>,
    out: &mut Expansion,
) {
    let upper = core.chars().count() > 1 && core.chars().all(char::is_uppercase);
    if is_roman(core) && ends_with_any(around.before, &n.triggers.roman) {
        let value = roman_value(core).expect("checked by is_roman");
        out.tokens.push(token(
            span,
            number::cardinal(&value.to_string(), &n.style),
            Kind::Roman,
            "N-ROMAN",
        ));
    } else if upper && !around.shouting && core.chars().all(|c| c.is_ascii() || c == 'Đ') {
        spell(n, span, core, out);
    } else {
        out.tokens.push(token(span, core, Kind::Word, "W-WORD"));
    }
}

/// Spells an unknown acronym with letter names (A-SPELL) and warns.
fn spell(n: &Normalizer, span: Range<usize>, core: &str, out: &mut Expansion) {
    let names: Vec<&str> = core
        .chars()
        .filter_map(|c| n.letters.get(c.encode_utf8(&mut [0; 4])))
        .collect();
    out.warnings.push(Warning {
        span: span.clone(),
        text: core.to_string(),
        rule: "A-SPELL",
        message: format!("{core} is not in the lexicon; it is spelled letter by letter"),
    });
    out.tokens
        .push(token(span, names.join(" "), Kind::Spelled, "A-SPELL"));
}

/// Numbers, dates, times, ranges and numbers with glued units. Returns false
/// when the core is not numeric after all.
fn read_numeric(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    around: &Around<'_>,
    out: &mut Expansion,
) -> bool {
    let style = &n.style;
    let before_last = around.before.last().map(String::as_str);
    // N-TIME: 14h, 14h30, 14:30, 23:59:59.
    if let Some(spoken) = read_time(core, style) {
        out.tokens.push(token(span, spoken, Kind::Time, "N-TIME"));
        return true;
    }
    // Dates: d/m/yyyy, d-m-yyyy, d.m.yyyy, d/m, m/yyyy.
    if let Some((spoken, rule)) = read_date(core, before_last, around, n) {
        out.tokens.push(token(span, spoken, Kind::Date, rule));
        return true;
    }
    // N-RANGE: 6-7, 2020-2025.
    if let Some((a, b)) = core.split_once(['-', '–'])
        && is_plain_number(a)
        && is_plain_number(b)
    {
        let spoken = format!("{} đến {}", read_plain(a, style), read_plain(b, style));
        out.tokens
            .push(token(span, spoken, Kind::Number, "N-RANGE"));
        return true;
    }
    // N-FRAC: 1/2 (dates were tried first).
    if let Some((a, b)) = core.split_once('/')
        && is_plain_number(a)
        && is_plain_number(b)
    {
        let denominator = if b == "4" {
            "tư".to_string()
        } else {
            read_plain(b, style)
        };
        let spoken = format!("{} phần {}", read_plain(a, style), denominator);
        out.tokens.push(token(span, spoken, Kind::Number, "N-FRAC"));
        return true;
    }
    // A number, maybe with a unit glued on (5km, 3,5%, 500k).
    let number_len = numeric_prefix_len(core);
    if number_len == 0 {
        return false;
    }
    let (digits, rest) = core.split_at(number_len);
    let ordinal = ends_with_any(around.before, &n.triggers.ordinal) && rest.is_empty();
    let (spoken, rule) = if ordinal && !digits.contains([',', '.']) {
        (number::ordinal(digits, style), "N-ORD")
    } else {
        read_number(digits, style)
    };
    out.tokens.push(token(
        span.start..span.start + number_len,
        spoken,
        Kind::Number,
        rule,
    ));
    if rest.is_empty() {
        return true;
    }
    let rest_span = span.start + number_len..span.end;
    if let Some(unit) = n.units.get(rest) {
        out.tokens
            .push(token(rest_span, unit, Kind::Unit, "N-UNIT"));
    } else if let Some(unit) = shorthand_unit(rest) {
        out.tokens
            .push(token(rest_span, unit, Kind::Unit, "N-UNIT"));
    } else {
        read_mixed(n, rest_span, rest, around, out);
    }
    true
}

/// `k` → nghìn, `tr` → triệu, `t`/`tỷ` → tỷ after a number (500k, 10tr).
fn shorthand_unit(rest: &str) -> Option<&'static str> {
    match rest {
        "k" | "K" => Some("nghìn"),
        "tr" => Some("triệu"),
        "t" | "tỷ" | "tỉ" => Some("tỷ"),
        _ => None,
    }
}

fn is_plain_number(s: &str) -> bool {
    !s.is_empty() && numeric_prefix_len(s) == s.len() && !s.starts_with('-')
}

/// Length of the leading number: optional minus, digits, `.` thousands
/// groups or `,` decimals.
fn numeric_prefix_len(s: &str) -> usize {
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
    while i + 3 < bytes.len() + 1
        && bytes[i] == b'.'
        && bytes[i + 1..].len() >= 3
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
fn read_number(text: &str, style: &NumberStyle) -> (String, &'static str) {
    if let Some(rest) = text.strip_prefix('-') {
        let (spoken, _) = read_number(rest, style);
        return (format!("âm {spoken}"), "N-NEG");
    }
    if let Some((integer, fraction)) = text.split_once(',') {
        return (number::decimal(integer, fraction, style), "N-DEC");
    }
    if text.len() > 1 && text.starts_with('0') && !text.contains('.') {
        return (number::digits(text), "N-DIGITS");
    }
    (number::cardinal(text, style), "N-CARD")
}

fn read_plain(text: &str, style: &NumberStyle) -> String {
    read_number(text, style).0
}

/// 14h, 14h30, 14g30, 14:30, 23:59:59 → spoken time.
fn read_time(core: &str, style: &NumberStyle) -> Option<String> {
    let parse = |s: &str| -> Option<u32> {
        if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let say = |v: u32| number::cardinal(&v.to_string(), style);
    let (h, rest) = if let Some(i) = core.find(['h', 'g']) {
        let (h, m) = (&core[..i], &core[i + 1..]);
        let h = parse(h)?;
        if h > 24 {
            return None;
        }
        if m.is_empty() {
            return Some(format!("{} giờ", say(h)));
        }
        let m = parse(m.trim_end_matches('p'))?;
        if m > 59 {
            return None;
        }
        return Some(if m == 0 {
            format!("{} giờ", say(h))
        } else {
            format!("{} giờ {} phút", say(h), say(m))
        });
    } else {
        let mut parts = core.split(':');
        (parts.next()?, parts.collect::<Vec<_>>())
    };
    if rest.is_empty() || rest.len() > 2 {
        return None;
    }
    let h = parse(h)?;
    let m = parse(rest[0])?;
    let s = rest.get(1).map(|s| parse(s)).unwrap_or(Some(0))?;
    if h > 24 || m > 59 || s > 59 || rest[0].len() != 2 {
        return None;
    }
    let mut spoken = format!("{} giờ", say(h));
    if m > 0 {
        spoken.push_str(&format!(" {} phút", say(m)));
    }
    if s > 0 {
        spoken.push_str(&format!(" {} giây", say(s)));
    }
    Some(spoken)
}

/// Dates in d/m/yyyy, d-m-yyyy, d.m.yyyy, d/m and m/yyyy forms. The leading
/// `ngày`/`tháng` is left out when the text already says it.
fn read_date(
    core: &str,
    before_last: Option<&str>,
    around: &Around<'_>,
    n: &Normalizer,
) -> Option<(String, &'static str)> {
    let style = &n.style;
    let sep = ['/', '-', '.'].into_iter().find(|&s| core.contains(s))?;
    let parts: Vec<&str> = core.split(sep).collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let value = |s: &str| s.parse::<u32>().ok();
    let say = |v: u32| number::cardinal(&v.to_string(), style);
    let day_word = if matches!(before_last, Some("ngày" | "mùng" | "hôm")) {
        ""
    } else {
        "ngày "
    };
    let month_word = if before_last == Some("tháng") {
        ""
    } else {
        "tháng "
    };
    match parts[..] {
        [d, m, y] if y.len() == 4 && d.len() <= 2 && m.len() <= 2 => {
            let (d, m, y) = (value(d)?, value(m)?, value(y)?);
            if !(1..=31).contains(&d) || !(1..=12).contains(&m) {
                return None;
            }
            Some((
                format!(
                    "{day_word}{} tháng {} năm {}",
                    say(d),
                    number::month(m, style),
                    say(y)
                ),
                "N-DATE-DMY",
            ))
        }
        [m, y] if y.len() == 4 && m.len() <= 2 && sep != '.' => {
            let (m, y) = (value(m)?, value(y)?);
            if !(1..=12).contains(&m) || sep == '-' && !matches!(before_last, Some("tháng")) {
                return None;
            }
            Some((
                format!("{month_word}{} năm {}", number::month(m, style), say(y)),
                "N-DATE-MY",
            ))
        }
        [d, m] if d.len() <= 2 && m.len() <= 2 && sep == '/' => {
            let (d, m) = (value(d)?, value(m)?);
            if !(1..=31).contains(&d) || !(1..=12).contains(&m) {
                return None;
            }
            let date_context = ends_with_any(around.before, &n.triggers.date);
            let quantity_context = ends_with_any(around.before, &n.triggers.quantity);
            if quantity_context || !date_context && d < m {
                return None;
            }
            Some((
                format!("{day_word}{} tháng {}", say(d), number::month(m, style)),
                "N-DATE-DM",
            ))
        }
        _ => None,
    }
}

fn is_roman(core: &str) -> bool {
    !core.is_empty()
        && core
            .chars()
            .all(|c| matches!(c, 'I' | 'V' | 'X' | 'L' | 'C' | 'D' | 'M'))
        && roman_value(core).is_some()
}

/// The value of a well-formed Roman numeral (1..=3999), or `None`.
pub(super) fn roman_value(s: &str) -> Option<u32> {
    let value = |c: char| match c {
        'I' => Some(1),
        'V' => Some(5),
        'X' => Some(10),
        'L' => Some(50),
        'C' => Some(100),
        'D' => Some(500),
        'M' => Some(1000),
        _ => None,
    };
    let values: Vec<u32> = s.chars().map(value).collect::<Option<_>>()?;
    let mut total = 0;
    for (i, &v) in values.iter().enumerate() {
        if values.get(i + 1).is_some_and(|&next| next > v) {
            total -= v as i64;
        } else {
            total += v as i64;
        }
    }
    let total = u32::try_from(total)
        .ok()
        .filter(|&t| (1..4000).contains(&t))?;
    // Accept only the canonical spelling (rejects IIII, VV, IC…).
    (to_roman(total) == s).then_some(total)
}

fn to_roman(mut n: u32) -> String {
    const TABLE: [(u32, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for (value, letters) in TABLE {
        while n >= value {
            out.push_str(letters);
            n -= value;
        }
    }
    out
}

/// Mixed letters, digits and symbols (COVID-19, F0, 5G, 35-NQ/TW, a+b):
/// split into runs and read each; unknown symbols are read literally.
fn read_mixed(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    around: &Around<'_>,
    out: &mut Expansion,
) {
    let mut runs: Vec<(usize, usize, RunKind)> = Vec::new();
    for (i, c) in core.char_indices() {
        let kind = if c.is_ascii_digit() {
            RunKind::Digit
        } else if is_vietnamese_letter(c) {
            RunKind::Letter
        } else {
            RunKind::Other
        };
        match runs.last_mut() {
            Some(last) if last.2 == kind && kind != RunKind::Other => last.1 = i + c.len_utf8(),
            _ => runs.push((i, i + c.len_utf8(), kind)),
        }
    }
    for (start, end, kind) in runs {
        let piece = &core[start..end];
        let piece_span = span.start + start..span.start + end;
        match kind {
            RunKind::Digit => {
                let (spoken, rule) = read_number(piece, &n.style);
                out.tokens
                    .push(token(piece_span, spoken, Kind::Number, rule));
            }
            RunKind::Letter => {
                if let Some(entry) = n.abbreviations.reading(piece, &around.window) {
                    out.tokens.push(token(
                        piece_span,
                        entry.spoken.clone(),
                        Kind::Abbreviation,
                        "A-LEX",
                    ));
                } else if piece.chars().all(char::is_uppercase)
                    && piece.chars().all(|c| c.is_ascii() || c == 'Đ')
                {
                    if piece.chars().count() == 1 {
                        let name = n.letters.get(piece).unwrap_or(piece);
                        out.tokens
                            .push(token(piece_span, name, Kind::Spelled, "A-SPELL"));
                    } else {
                        spell(n, piece_span, piece, out);
                    }
                } else {
                    out.tokens
                        .push(token(piece_span, piece, Kind::Word, "W-WORD"));
                }
            }
            RunKind::Other => {
                let c = piece.chars().next().expect("non-empty run");
                if let Some(spoken) = n.symbols.get(piece) {
                    out.tokens
                        .push(token(piece_span, spoken, Kind::Symbol, "S-SYM"));
                } else if matches!(c, '-' | '/' | '.' | '_' | '–') {
                    // Joiners inside codes (35-NQ/TW): a short pause, not a word.
                    out.tokens.push(Token {
                        span: piece_span,
                        spoken: String::new(),
                        kind: Kind::Pause,
                        rule: "P-PAUSE",
                    });
                } else if is_trailing(c) || is_opening(c) {
                    out.tokens.push(pause(piece_span, c));
                } else {
                    out.warnings.push(Warning {
                        span: piece_span.clone(),
                        text: piece.to_string(),
                        rule: "X-LITERAL",
                        message: format!(
                            "{piece:?} has no reading; it is left out of the spoken text"
                        ),
                    });
                    out.tokens
                        .push(token(piece_span, "", Kind::Literal, "X-LITERAL"));
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunKind {
    Digit,
    Letter,
    Other,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn say(text: &str) -> String {
        Normalizer::builtin().unwrap().expand_str(text).spoken()
    }

    #[test]
    fn reads_the_station_article() {
        assert_eq!(
            say("Chiều ngày 23/7, Ban tuyên giáo"),
            "Chiều ngày hai mươi ba tháng bảy, Ban tuyên giáo"
        );
        assert_eq!(
            say("Ủy viên BTV Thành ủy"),
            "Ủy viên Ban Thường vụ Thành ủy"
        );
        assert_eq!(say("phong cách HCM”."), "phong cách Hồ Chí Minh.");
        assert_eq!(
            say("6 tháng cuối năm 2021."),
            "sáu tháng cuối năm hai nghìn không trăm hai mươi mốt."
        );
        assert_eq!(
            say("Bộ chính trị khóa XIII về"),
            "Bộ chính trị khóa mười ba về"
        );
        assert_eq!(say("Chỉ thị 05 của"), "Chỉ thị không năm của");
        assert_eq!(say("kết luận số 01 của"), "kết luận số không một của");
        assert_eq!(
            say("Ban chỉ đạo 35 Thành ủy"),
            "Ban chỉ đạo ba mươi lăm Thành ủy"
        );
        assert_eq!(
            say("Chỉ thị số 05 – “đẩy mạnh"),
            "Chỉ thị số không năm, đẩy mạnh"
        );
        assert_eq!(
            say("Nguyễn Minh Ngân - Ủy viên"),
            "Nguyễn Minh Ngân, Ủy viên"
        );
    }

    #[test]
    fn reads_numbers_dates_and_times() {
        assert_eq!(say("3,5 triệu"), "ba phẩy năm triệu");
        assert_eq!(say("-12"), "âm mười hai");
        assert_eq!(
            say("1.250.000 đồng"),
            "một triệu hai trăm năm mươi nghìn đồng"
        );
        assert_eq!(
            say("ngày 29/07/2021"),
            "ngày hai mươi chín tháng bảy năm hai nghìn không trăm hai mươi mốt"
        );
        assert_eq!(
            say("tháng 4/2021"),
            "tháng tư năm hai nghìn không trăm hai mươi mốt"
        );
        assert_eq!(say("lúc 14h30"), "lúc mười bốn giờ ba mươi phút");
        assert_eq!(say("lúc 14:30"), "lúc mười bốn giờ ba mươi phút");
        assert_eq!(say("từ 6-7 người"), "từ sáu đến bảy người");
        assert_eq!(say("khoảng 1/3 dân số"), "khoảng một phần ba dân số");
        assert_eq!(say("lần thứ 4"), "lần thứ tư");
        assert_eq!(say("đạt 95%"), "đạt chín mươi lăm phần trăm");
        assert_eq!(say("dài 5km"), "dài năm ki lô mét");
    }

    #[test]
    fn spells_unknown_acronyms_with_a_warning() {
        let n = Normalizer::builtin().unwrap();
        let e = n.expand_str("mạng VNPTX");
        assert_eq!(e.warnings.len(), 1);
        assert_eq!(e.warnings[0].rule, "A-SPELL");
        assert!(e.spoken().starts_with("mạng vê en pê tê"), "{}", e.spoken());
    }

    #[test]
    fn headlines_in_capitals_are_words() {
        assert_eq!(
            say("SƠ KẾT CÔNG TÁC TUYÊN GIÁO"),
            "SƠ KẾT CÔNG TÁC TUYÊN GIÁO"
        );
    }

    #[test]
    fn roman_numerals_need_a_trigger() {
        assert_eq!(say("Đại hội XIII của Đảng"), "Đại hội mười ba của Đảng");
        assert_eq!(say("quý II"), "quý hai");
        assert_eq!(roman_value("IIII"), None);
        assert_eq!(roman_value("MMXXI"), Some(2021));
    }

    #[test]
    fn spans_cover_the_source() {
        let n = Normalizer::builtin().unwrap();
        let text = "Ngày 23/7, (BTV) đạt 5km.";
        let e = n.expand_str(text);
        let mut last = 0;
        for t in &e.tokens {
            assert!(t.span.start >= last, "{t:?}");
            last = t.span.end;
        }
        let covered: String = e.tokens.iter().map(|t| &text[t.span.clone()]).collect();
        assert_eq!(covered, text.replace(' ', ""));
    }
}
