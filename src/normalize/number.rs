//! Reading numbers aloud: cardinals of any size, decimals, digit strings and
//! ordinals, by the rules of Vietnamese (mốt, lăm, tư after mươi; mười vs
//! mươi; linh/lẻ for an empty tens digit; không trăm inside thousands;
//! grouping by nghìn, triệu, tỷ). Pure functions over digit strings.
//!
//! Every function here is linear in the length of its input and none
//! recurses: a cardinal is read group by group in one loop. A number of more
//! than [`MAX_CARDINAL_DIGITS`] significant digits is no quantity anyone
//! says aloud, and [`cardinal`] reads it digit by digit instead (the rules
//! mark it `N-LONG` and warn).

use serde::{Deserialize, Serialize};

/// Regional and house-style choices for reading numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NumberStyle {
    /// `nghìn` (Northern, default) or `ngàn` (Southern).
    pub thousand: String,
    /// `linh` (Northern, default) or `lẻ` (Southern), for an empty tens digit.
    pub zero_tens: String,
    /// Read empty hundreds inside a number (`2021` → hai nghìn *không trăm* hai mươi mốt).
    pub empty_hundreds: bool,
}

impl Default for NumberStyle {
    fn default() -> Self {
        Self {
            thousand: "nghìn".into(),
            zero_tens: "linh".into(),
            empty_hundreds: true,
        }
    }
}

const DIGITS: [&str; 10] = [
    "không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín",
];

/// The word for one digit read alone (`0` → không).
pub fn digit_word(d: u8) -> &'static str {
    DIGITS[usize::from(d)]
}

/// Spoken words joined by single spaces, written straight into one string
/// (numbers are read for every figure of every article).
struct Words(String);

impl Words {
    fn push(&mut self, word: &str) {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        self.0.push_str(word);
    }
}

/// Reads a string of ASCII digits one by one: `05` → không năm.
pub fn digits(text: &str) -> String {
    let mut words = Words(String::with_capacity(text.len() * 4));
    for b in text.bytes().filter(u8::is_ascii_digit) {
        words.push(digit_word(b - b'0'));
    }
    words.0
}

/// The most significant digits a number may have to be read as a quantity:
/// 18, up to 999 999 999 999 999 999 (chín trăm chín mươi chín triệu … tỷ,
/// one step short of "một tỷ tỷ"). Announcers say "nghìn tỷ" for state
/// budgets and "triệu tỷ" rarely; beyond that a figure is a code, an
/// identifier or noise, better read digit by digit than as a string of tỷ.
pub const MAX_CARDINAL_DIGITS: usize = 18;

/// Number of significant digits of `text` (ASCII digits after leading
/// zeros; other bytes ignored, as [`cardinal`] does).
pub fn significant_digits(text: &str) -> usize {
    text.bytes()
        .filter(u8::is_ascii_digit)
        .skip_while(|&b| b == b'0')
        .count()
}

/// Whether [`cardinal`] reads `text` as a quantity (at most
/// [`MAX_CARDINAL_DIGITS`] significant digits) rather than digit by digit.
pub fn is_quantity(text: &str) -> bool {
    significant_digits(text) <= MAX_CARDINAL_DIGITS
}

/// Reads an unsigned integer given as ASCII digits (leading zeros ignored).
/// Non-digit bytes are ignored, so `1.250.000` reads as 1250000. A number
/// longer than [`MAX_CARDINAL_DIGITS`] is read digit by digit ([`digits`]).
pub fn cardinal(text: &str, style: &NumberStyle) -> String {
    if !is_quantity(text) {
        return digits(text);
    }
    let digits: Vec<u8> = text
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .skip_while(|&d| d == 0)
        .collect();
    if digits.is_empty() {
        return "không".to_string();
    }
    let mut words = Words(String::with_capacity(digits.len() * 12));
    read_integer(&digits, style, &mut words);
    words.0
}

/// Reads a value that fits in `u128` (for computed amounts such as 1tr2).
pub fn cardinal_value(value: u128, style: &NumberStyle) -> String {
    cardinal(&value.to_string(), style)
}

/// Reads `digits` (no leading zero) into `words`.
fn read_integer(digits: &[u8], style: &NumberStyle, words: &mut Words) {
    // Above nine digits Vietnamese nests the groups under tỷ: each block of
    // nine digits is read on its own and followed by one "tỷ" per block
    // after it (1 000 000 000 000 = một nghìn tỷ; 10^18 = một tỷ tỷ). An
    // empty block still says its tỷ, an empty last block says nothing.
    let blocks = digits.len().div_ceil(9);
    let first = digits.len() - (blocks - 1) * 9;
    for block in 0..blocks {
        let (from, to) = if block == 0 {
            (0, first)
        } else {
            (first + (block - 1) * 9, first + block * 9)
        };
        let part = &digits[from..to];
        if block == 0 || part.iter().any(|&d| d != 0) {
            read_block(part, style, block == 0, words);
        }
        if block + 1 < blocks {
            words.push("tỷ");
        }
    }
}

/// Reads at most nine digits (no leading zero when `leading`) into `words`.
fn read_block(digits: &[u8], style: &NumberStyle, leading: bool, words: &mut Words) {
    let names: [&'static str; 3] = ["triệu", thousand_word(style), ""];
    let mut padded = [0u8; 9];
    padded[9 - digits.len()..].copy_from_slice(digits);
    let mut leading = leading;
    for (index, (group, name)) in padded.chunks(3).zip(names).enumerate() {
        let value = u16::from(group[0]) * 100 + u16::from(group[1]) * 10 + u16::from(group[2]);
        if value == 0 {
            continue;
        }
        let last = index == 2;
        read_group([group[0], group[1], group[2]], style, leading, last, words);
        if !name.is_empty() {
            words.push(name);
        }
        leading = false;
    }
}

fn thousand_word(style: &NumberStyle) -> &'static str {
    if style.thousand == "ngàn" {
        "ngàn"
    } else {
        "nghìn"
    }
}

fn zero_tens_word(style: &NumberStyle) -> &'static str {
    if style.zero_tens == "lẻ" {
        "lẻ"
    } else {
        "linh"
    }
}

/// Reads one group of three digits. A group that is not the first of its
/// number says its empty hundreds (`không trăm`) when the style asks for it.
/// Without them, only the last group takes the zero-tens connector:
/// 1 001 001 → một triệu một nghìn linh một.
fn read_group(
    [h, t, u]: [u8; 3],
    style: &NumberStyle,
    leading: bool,
    last: bool,
    words: &mut Words,
) {
    let has_hundreds = h > 0 || (!leading && style.empty_hundreds);
    if has_hundreds {
        words.push(digit_word(h));
        words.push("trăm");
    }
    match (t, u) {
        (0, 0) => {}
        (0, u) if has_hundreds || (!leading && last) => {
            // The zero-tens connector stands between the hundreds (spoken or
            // left out inside a larger number) and the unit: 101, 1 001.
            words.push(zero_tens_word(style));
            words.push(digit_word(u));
        }
        (0, u) => words.push(digit_word(u)),
        (1, u) => {
            words.push("mười");
            match u {
                0 => {}
                5 => words.push("lăm"),
                u => words.push(digit_word(u)),
            }
        }
        (t, u) => {
            words.push(digit_word(t));
            words.push("mươi");
            match u {
                0 => {}
                1 => words.push("mốt"),
                4 => words.push("tư"),
                5 => words.push("lăm"),
                u => words.push(digit_word(u)),
            }
        }
    }
}

/// Reads a decimal written with `,` as the decimal mark and `.` between
/// thousands: `3,5` → ba phẩy năm; the fraction is read digit by digit.
pub fn decimal(integer: &str, fraction: &str, style: &NumberStyle) -> String {
    format!("{} phẩy {}", cardinal(integer, style), digits(fraction))
}

/// Ordinal after `thứ`: 1 → nhất, 4 → tư, otherwise the cardinal.
pub fn ordinal(text: &str, style: &NumberStyle) -> String {
    match text.trim_start_matches('0') {
        "1" => "nhất".to_string(),
        "4" => "tư".to_string(),
        _ => cardinal(text, style),
    }
}

/// Month names: `4` → tư; others are the cardinal.
pub fn month(value: u32, style: &NumberStyle) -> String {
    match value {
        4 => "tư".to_string(),
        v => cardinal(&v.to_string(), style),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(n: &str) -> String {
        cardinal(n, &NumberStyle::default())
    }

    #[test]
    fn small_numbers_follow_vietnamese_rules() {
        let cases = [
            ("0", "không"),
            ("5", "năm"),
            ("10", "mười"),
            ("11", "mười một"),
            ("14", "mười bốn"),
            ("15", "mười lăm"),
            ("21", "hai mươi mốt"),
            ("24", "hai mươi tư"),
            ("25", "hai mươi lăm"),
            ("35", "ba mươi lăm"),
            ("100", "một trăm"),
            ("101", "một trăm linh một"),
            ("110", "một trăm mười"),
            ("115", "một trăm mười lăm"),
            ("999", "chín trăm chín mươi chín"),
        ];
        for (n, want) in cases {
            assert_eq!(read(n), want, "{n}");
        }
    }

    #[test]
    fn large_numbers_say_empty_hundreds() {
        assert_eq!(read("2021"), "hai nghìn không trăm hai mươi mốt");
        assert_eq!(read("1001"), "một nghìn không trăm linh một");
        assert_eq!(read("1000"), "một nghìn");
        assert_eq!(read("100000"), "một trăm nghìn");
        assert_eq!(read("1250000"), "một triệu hai trăm năm mươi nghìn");
        assert_eq!(read("1.250.000"), "một triệu hai trăm năm mươi nghìn");
        assert_eq!(read("1000000000"), "một tỷ");
        assert_eq!(read("1000000000000"), "một nghìn tỷ");
        assert_eq!(read("15000000000"), "mười lăm tỷ");
        assert_eq!(read("100000000000000000"), "một trăm triệu tỷ");
    }

    #[test]
    fn blocks_of_nine_digits_nest_under_ty() {
        // Beyond the quantity bound, so only through the block reader.
        let nested = |n: &str| {
            let digits: Vec<u8> = n.bytes().map(|b| b - b'0').collect();
            let mut words = Words(String::new());
            read_integer(&digits, &NumberStyle::default(), &mut words);
            words.0
        };
        assert_eq!(nested("1000000000000000000"), "một tỷ tỷ");
        assert_eq!(
            nested("1000000001000000000"),
            "một tỷ không trăm linh một tỷ"
        );
        assert_eq!(
            nested("1000000000000000001"),
            "một tỷ tỷ không trăm linh một"
        );
    }

    #[test]
    fn quantities_stop_at_eighteen_digits() {
        assert_eq!(
            read("999999999999999999"),
            "chín trăm chín mươi chín triệu chín trăm chín mươi chín nghìn \
             chín trăm chín mươi chín tỷ chín trăm chín mươi chín triệu \
             chín trăm chín mươi chín nghìn chín trăm chín mươi chín"
        );
        assert!(is_quantity("000999999999999999999"));
        assert!(!is_quantity("1000000000000000000"));
        assert_eq!(read("1234567890123456789"), digits("1234567890123456789"));
        // Three hundred thousand digits: no recursion, one word per digit.
        let long = "7".repeat(300_000);
        let spoken = read(&long);
        assert_eq!(spoken.split(' ').count(), 300_000);
        assert!(spoken.split(' ').all(|w| w == "bảy"));
    }

    #[test]
    fn southern_style() {
        let style = NumberStyle {
            thousand: "ngàn".into(),
            zero_tens: "lẻ".into(),
            empty_hundreds: false,
        };
        assert_eq!(cardinal("1001", &style), "một ngàn lẻ một");
        assert_eq!(cardinal("105", &style), "một trăm lẻ năm");
        assert_eq!(cardinal("2021", &style), "hai ngàn hai mươi mốt");
        assert_eq!(cardinal("1001001", &style), "một triệu một ngàn lẻ một");
        assert_eq!(
            cardinal("1001001101", &style),
            "một tỷ một triệu một ngàn một trăm lẻ một"
        );
    }

    #[test]
    fn digits_decimals_ordinals_months() {
        assert_eq!(digits("05"), "không năm");
        assert_eq!(decimal("3", "5", &NumberStyle::default()), "ba phẩy năm");
        assert_eq!(
            decimal("0", "007", &NumberStyle::default()),
            "không phẩy không không bảy"
        );
        assert_eq!(ordinal("1", &NumberStyle::default()), "nhất");
        assert_eq!(ordinal("4", &NumberStyle::default()), "tư");
        assert_eq!(ordinal("13", &NumberStyle::default()), "mười ba");
        assert_eq!(month(4, &NumberStyle::default()), "tư");
        assert_eq!(month(7, &NumberStyle::default()), "bảy");
    }
}
