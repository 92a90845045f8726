//! Roman numerals (N-ROMAN): after a trigger word of `triggers.tsv`
//! (khóa XIII, Đại hội XIII, thế kỷ xix, quý II/2021), in ranges (thế kỷ
//! XVIII – XIX, XVIII-XIX), in lists after one trigger (khóa XI, XII,
//! XIII), as years (năm MMXXI), ordinals (thứ II) and heading numbers at the
//! start of a line (I. Lịch thi).

use super::{pause, token};
use crate::normalize::context::Around;
use crate::normalize::number;
use crate::normalize::triggers::{ends_with_any, is_one_of};
use crate::normalize::words::{Word, is_caps_word, is_vietnamese_syllable, nfc};
use crate::normalize::{Expansion, Kind, Normalizer};

/// N-ROMAN first: khóa XIII, thế kỷ xix, quý II/2021, năm MMXXI, and the
/// number of a heading (I. Lịch thi).
pub(super) fn read_word(
    n: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    after_number: bool,
    out: &mut Expansion,
) -> bool {
    let Some((spoken, rule)) = read_roman(n, word.core_text, around) else {
        return around.index == 0 && read_heading(n, word, around, after_number, out);
    };
    out.tokens
        .push(token(word.core.clone(), spoken, Kind::Roman, rule));
    true
}

/// N-ROMAN: a numeral that ends the sentence keeps its dot with it when
/// the dotted form is also an abbreviation (khóa X. is not "X." = xã).
pub(super) fn read_before_dot(
    n: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    _: bool,
    out: &mut Expansion,
) -> bool {
    let span = word.core.clone();
    let Some(numeral) = word.core_text.strip_suffix('.') else {
        return false;
    };
    let Some((spoken, rule)) = read_roman(n, numeral, around) else {
        return false;
    };
    let dot = span.end - 1;
    out.tokens
        .push(token(span.start..dot, spoken, Kind::Roman, rule));
    out.tokens.push(pause(dot..span.end, '.'));
    true
}

/// Roman numerals after a trigger word. Lower case is accepted too (thế kỷ
/// xix), but a single lowercase c, d or m stays a letter (mục c).
fn read_roman(n: &Normalizer, core: &str, around: &Around<'_>) -> Option<(String, &'static str)> {
    // Both forms start with numeral letters; one pass over the bytes rules
    // out nearly every word (các, lại, việc).
    let numeral_len = core.bytes().take_while(is_numeral_letter).count();
    if numeral_len == 0 {
        return None;
    }
    let style = &n.style;
    if numeral_len < core.len() {
        // N-ROMAN: a range of numerals (thế kỷ XVIII-XIX).
        if let Some(second) = core[numeral_len..].strip_prefix(['-', '–'])
            && let (Some(a), Some(b)) = (roman_numeral(&core[..numeral_len]), roman_numeral(second))
            && a < b
            && ends_with_any(around.before, &n.triggers.roman)
        {
            let say = |v: u32| number::cardinal(&v.to_string(), style);
            return Some((format!("{} đến {}", say(a), say(b)), "N-ROMAN"));
        }
        // quý II/2021, quý I-2008: a Roman quarter with its year.
        let year = core[numeral_len..].strip_prefix(['/', '-'])?;
        if year.len() == 4
            && year.bytes().all(|b| b.is_ascii_digit())
            && let Some(value) = roman_numeral(&core[..numeral_len])
            && ends_with_any(around.before, &n.triggers.roman)
        {
            return Some((
                format!(
                    "{} năm {}",
                    number::cardinal(&value.to_string(), style),
                    number::cardinal(year, style)
                ),
                "N-ROMAN",
            ));
        }
        return None;
    }
    let value = roman_numeral(core)?;
    // After a label word a single L, C, D or M is a letter (hạng C, khu D):
    // classes and zones go by letters, and none is numbered fifty or more
    // with one Roman letter (hạng II stays a number).
    if core.len() == 1 && value >= 50 && ends_with_any(around.before, &n.triggers.letter_label) {
        return None;
    }
    if around
        .before_last()
        .is_some_and(|w| is_one_of(w, &n.triggers.year_word))
        && value >= 1000
    {
        return Some((number::cardinal(&value.to_string(), style), "N-ROMAN"));
    }
    // The second numeral of a range (thế kỷ XVIII – XIX) shares the trigger
    // of the first.
    let second_of_range = match around.before {
        [.., trigger_end, first, dash] if matches!(*dash, "" | "-" | "–") => {
            roman_numeral(first).is_some_and(|f| f < value)
                && ends_with_any(&around.before[..around.before.len() - 2], &n.triggers.roman)
                && !trigger_end.is_empty()
        }
        _ => false,
    };
    if !second_of_range
        && !in_list(n, core, around)
        && !ends_with_any(around.before, &n.triggers.roman)
    {
        return None;
    }
    let ordinal = around
        .before_last()
        .is_some_and(|w| is_one_of(w, &n.triggers.roman_ordinal));
    let digits = value.to_string();
    let spoken = if ordinal {
        number::ordinal(&digits, style)
    } else {
        number::cardinal(&digits, style)
    };
    Some((spoken, "N-ROMAN"))
}

/// How many numerals of a list (khóa XI, XII, XIII, XIV) are walked back to
/// find the trigger word of the first.
const MAX_LIST_NUMERALS: usize = 8;

/// N-ROMAN: a numeral in capitals in a list after one trigger word (khóa
/// XI, XII, XIII, XIV; đại biểu Quốc hội hai khóa XIV, XV): the word before
/// is a numeral in capitals, and the numerals before it lead back to the
/// trigger.
fn in_list(n: &Normalizer, core: &str, around: &Around<'_>) -> bool {
    if !is_roman(core) || !around.prev_raw.is_some_and(is_roman) {
        return false;
    }
    let before = around.before;
    let numerals = before
        .iter()
        .rev()
        .take(MAX_LIST_NUMERALS)
        .take_while(|w| roman_numeral(w).is_some())
        .count();
    ends_with_any(&before[..before.len() - numerals], &n.triggers.roman)
}

/// N-ROMAN: the number of a heading at the start of a line (I. Lịch thi,
/// II. Nội dung): a numeral in capitals with a dot, first in the span, before
/// a capitalised Vietnamese word. A lone L, C, D or M there is more likely a
/// letter or an initial.
fn read_heading(
    n: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    _: bool,
    out: &mut Expansion,
) -> bool {
    let core = word.core_text;
    let heading = around.index == 0
        && word.trail.starts_with('.')
        && is_roman(core)
        && (core.len() > 1 || matches!(core, "I" | "V" | "X"))
        && around.next_raw.is_some_and(|next| {
            next.starts_with(char::is_uppercase) && is_vietnamese_syllable(&next.to_lowercase())
        });
    let Some(value) = roman_numeral(core).filter(|_| heading) else {
        return false;
    };
    let spoken = number::cardinal(&value.to_string(), &n.style);
    out.tokens
        .push(token(word.core.clone(), spoken, Kind::Roman, "N-ROMAN"));
    true
}

/// N-ROMAN: a heading typed without its space (CHƯƠNGI, MỤCII, PHẦNIV):
/// a capitalised one-word trigger glued to a Roman numeral in capitals is
/// the word, then the number.
pub(super) fn read_glued_heading(
    n: &Normalizer,
    word: &Word<'_>,
    _: &Around<'_>,
    _: bool,
    out: &mut Expansion,
) -> bool {
    let core = word.core_text;
    // Most words fail here: the word must end in a capital numeral letter.
    if !core
        .as_bytes()
        .last()
        .is_some_and(|b| b.is_ascii_uppercase() && is_numeral_letter(b))
    {
        return false;
    }
    let numerals = core
        .bytes()
        .rev()
        .take_while(|b| b.is_ascii_uppercase() && is_numeral_letter(b))
        .count();
    for suffix_len in (1..=numerals).rev() {
        let (heading, numeral) = core.split_at(core.len() - suffix_len);
        if heading.is_empty() || !is_caps_word(heading) || !is_roman(numeral) {
            continue;
        }
        if !is_one_of(&heading.to_lowercase(), &n.triggers.roman) {
            continue;
        }
        let Some(value) = roman_value(numeral) else {
            continue;
        };
        let split = word.core.start + heading.len();
        out.tokens.push(token(
            word.core.start..split,
            nfc(heading),
            Kind::Word,
            "W-CAPS",
        ));
        out.tokens.push(token(
            split..word.core.end,
            number::cardinal(&value.to_string(), &n.style),
            Kind::Roman,
            "N-ROMAN",
        ));
        return true;
    }
    false
}

pub(super) fn is_numeral_letter(b: &u8) -> bool {
    matches!(
        b,
        b'I' | b'V'
            | b'X'
            | b'L'
            | b'C'
            | b'D'
            | b'M'
            | b'i'
            | b'v'
            | b'x'
            | b'l'
            | b'c'
            | b'd'
            | b'm'
    )
}

/// The value of a Roman numeral written in capitals or in small letters.
pub(super) fn roman_numeral(core: &str) -> Option<u32> {
    if is_roman(core) {
        return roman_value(core);
    }
    if core
        .chars()
        .all(|c| matches!(c, 'i' | 'v' | 'x' | 'l' | 'c' | 'd' | 'm'))
        && (core.len() > 1 || matches!(core, "i" | "v" | "x" | "l"))
    {
        return roman_value(&core.to_uppercase());
    }
    None
}

pub(super) fn is_roman(core: &str) -> bool {
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

pub(super) fn to_roman(mut n: u32) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn say(text: &str) -> String {
        Normalizer::builtin().unwrap().expand_str(text).spoken()
    }

    #[test]
    fn numerals_need_a_trigger() {
        assert_eq!(say("Đại hội XIII của Đảng"), "Đại hội mười ba của Đảng");
        assert_eq!(say("quý II"), "quý hai");
        assert_eq!(say("thứ II"), "thứ hai");
        assert_eq!(say("năm MMXXI"), "năm hai nghìn không trăm hai mươi mốt");
        assert_eq!(say("khóa X."), "khóa mười.");
        assert_eq!(roman_value("IIII"), None);
        assert_eq!(roman_value("MMXXI"), Some(2021));
        assert_eq!(roman_value("IC"), None);
    }
}
