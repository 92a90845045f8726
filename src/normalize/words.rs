//! The tokenizer of the normalizer: splits a span of text into words, each
//! a core with the punctuation before and after it, and the character tests
//! the readers share (capitals, lowercase, NFC, Vietnamese syllables).
//! Knows no reading rule.

use std::borrow::Cow;
use std::ops::Range;

use super::Normalizer;
use crate::text::is_vietnamese_letter;

/// A white-space separated piece of text split into leading punctuation, the
/// core and trailing punctuation. Punctuation is kept as the slices it came
/// in (read mark by mark with [`marks`]), so splitting allocates nothing.
pub(super) struct Word<'a> {
    /// Opening marks before the core, starting at `lead_start`.
    pub(super) lead: &'a str,
    pub(super) lead_start: usize,
    /// Absolute byte range of the core.
    pub(super) core: Range<usize>,
    pub(super) core_text: &'a str,
    /// Closing marks after the core, starting at `core.end`.
    pub(super) trail: &'a str,
    /// Where the lowercase core sits in the sentence's buffer of lowered
    /// words; `None` when the core has no capital (most words), so it is
    /// its own lowercase and nothing is copied.
    pub(super) lowered: Option<Range<usize>>,
    /// The core is a capitalised Vietnamese syllable (ĐẦU, TƯ).
    pub(super) syllable_caps: bool,
}

impl Word<'_> {
    pub(super) fn lead_marks(&self) -> impl Iterator<Item = (Range<usize>, char)> + '_ {
        marks(self.lead_start, self.lead)
    }

    pub(super) fn trail_marks(&self) -> impl Iterator<Item = (Range<usize>, char)> + '_ {
        marks(self.core.end, self.trail)
    }
}

/// Each character of `text` with its absolute range, `text` starting at byte `start`.
pub(super) fn marks(start: usize, text: &str) -> impl Iterator<Item = (Range<usize>, char)> + '_ {
    text.char_indices()
        .map(move |(i, c)| (start + i..start + i + c.len_utf8(), c))
}

pub(super) fn is_opening(c: char) -> bool {
    matches!(
        c,
        '“' | '"' | '‘' | '\'' | '(' | '[' | '«' | '{' | '–' | '—' | '-' | '•' | '*' | '…'
    )
}

pub(super) fn is_trailing(c: char) -> bool {
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
pub(super) fn pause_mark(c: char) -> &'static str {
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

/// Splits `text[span]` into words; the lowercase forms of capitalised cores
/// go into `lowered`.
pub(super) fn split_words<'a>(
    text: &'a str,
    span: Range<usize>,
    normalizer: &Normalizer,
    lowered: &mut String,
) -> Vec<Word<'a>> {
    let part = &text[span.clone()];
    // A word is at least two bytes with its space, so this rarely regrows.
    let mut words = Vec::with_capacity(part.len() / 4 + 1);
    for piece in part.split(char::is_whitespace).filter(|p| !p.is_empty()) {
        // `piece` borrows from `part`, so its offset is the pointer distance.
        let start = span.start + (piece.as_ptr() as usize - part.as_ptr() as usize);
        let mut word = split_punctuation(start, piece, normalizer);
        if !is_lowercase(word.core_text) {
            let at = lowered.len();
            push_lowercase(lowered, word.core_text);
            word.lowered = Some(at..lowered.len());
            word.syllable_caps =
                is_caps_word(word.core_text) && is_vietnamese_syllable(word.core_text);
        }
        words.push(word);
    }
    words
}

pub(super) fn split_punctuation<'a>(
    start: usize,
    piece: &'a str,
    normalizer: &Normalizer,
) -> Word<'a> {
    let mut core_start = 0;
    for (i, c) in piece.char_indices() {
        // A minus sign glued to a number is part of it (-3,5), also inside
        // an opening bracket or quote ((-4,02%), "-12"); after another dash
        // it stays a mark.
        let sign = c == '-'
            && piece[i + 1..].starts_with(|d: char| d.is_ascii_digit())
            && !piece[..i].ends_with(['-', '–', '—']);
        if !is_opening(c) || sign {
            break;
        }
        core_start = i + c.len_utf8();
    }
    let mut core_end = piece.len();
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
    }
    Word {
        lead: &piece[..core_start],
        lead_start: start,
        core: start + core_start..start + core_end,
        core_text: &piece[core_start..core_end],
        trail: &piece[core_end..],
        lowered: None,
        syllable_caps: false,
    }
}

/// A word of two or more letters, all capitals.
#[inline]
pub(super) fn is_caps_word(core: &str) -> bool {
    // Most words start with a small letter or a digit: one byte decides.
    if core
        .as_bytes()
        .first()
        .is_none_or(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        return false;
    }
    core.chars().nth(1).is_some() && core.chars().all(|c| c.is_uppercase())
}

/// `word` in Unicode NFC, borrowed when it already is. Every character of
/// U+0000..U+02FF (ASCII, Latin-1, Latin Extended-A/B: ă â đ ơ ư and their
/// capitals) and of Latin Extended Additional (U+1E00..U+1EFF: ạ ả ấ … ỹ) is
/// a starter that is NFC on its own and never the second half of a
/// composition, so a word made only of them is NFC; that covers nearly every
/// word of an article and decides on the bytes. Anything else (combining
/// marks, other scripts) takes the full check.
pub(super) fn nfc(word: &str) -> Cow<'_, str> {
    let bytes = word.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            0x00..=0x7F => i += 1,
            // Two-byte sequences up to U+02FF (0xCC starts U+0300, the
            // combining diacritics).
            0xC2..=0xCB => i += 2,
            // E1 B8 80 ..= E1 BB BF is U+1E00..=U+1EFF.
            0xE1 if (0xB8..=0xBB).contains(&bytes[i + 1]) => i += 3,
            _ => return crate::text::nfc(word),
        }
    }
    Cow::Borrowed(word)
}

/// Whether `word` could be one Vietnamese syllable (onset, one to three
/// vowels, a legal final). Capitalised syllables in a headline are words
/// (ĐẦU TƯ), not the acronyms TU, HU, ĐU they collide with.
pub(super) fn is_vietnamese_syllable(word: &str) -> bool {
    if is_lowercase(word) {
        is_lowercase_syllable(word)
    } else {
        is_lowercase_syllable(&word.to_lowercase())
    }
}

/// [`is_vietnamese_syllable`] for a word already in small letters (no copy).
pub(super) fn is_lowercase_syllable(lower: &str) -> bool {
    const ONSETS: [&str; 28] = [
        "ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "th", "tr", "qu", "b", "c", "d", "đ", "g",
        "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
    ];
    const FINALS: [&str; 9] = ["", "c", "ch", "m", "n", "ng", "nh", "p", "t"];
    if lower.chars().count() > 7 || !lower.chars().all(is_vietnamese_letter) {
        return false;
    }
    ONSETS.iter().any(|onset| {
        let Some(rest) = lower.strip_prefix(onset) else {
            return false;
        };
        let vowels = rest.chars().take_while(|&c| is_vowel(c)).count();
        let final_start = rest
            .char_indices()
            .nth(vowels)
            .map_or(rest.len(), |(i, _)| i);
        (1..=3).contains(&vowels) && FINALS.contains(&&rest[final_start..])
    })
}

pub(super) fn is_vowel(c: char) -> bool {
    is_vietnamese_letter(c) && !"bcdđfghjklmnpqrstvwxz".contains(c)
}

/// Whether `text` is its own lowercase (`str::to_lowercase` would return it
/// unchanged). Checks the cheap cases first: ASCII, then the Lowercase
/// property; only other characters (capitals, symbols) take the full
/// mapping.
pub(super) fn is_lowercase(text: &str) -> bool {
    text.chars().all(|c| {
        if c.is_ascii() {
            return !c.is_ascii_uppercase();
        }
        match c as u32 {
            // The small letters of Latin-1 (à á â … ý) and of Latin Extended
            // Additional (ạ ả ấ … ỹ: odd code points) and ă đ ĩ ũ ơ ư.
            0xDF..=0xFF | 0x103 | 0x111 | 0x129 | 0x169 | 0x1A1 | 0x1B0 => true,
            code @ 0x1EA0..=0x1EF9 => code % 2 == 1,
            _ => c.is_lowercase() || c.to_lowercase().eq(std::iter::once(c)),
        }
    })
}

/// Appends `text.to_lowercase()` to `buffer` without an intermediate string.
pub(super) fn push_lowercase(buffer: &mut String, text: &str) {
    let start = buffer.len();
    for c in text.chars() {
        // Small letters map to themselves (the test below checks every
        // character), which spares the case table for most of a name.
        if c.is_ascii() {
            buffer.push(c.to_ascii_lowercase());
        } else if c.is_lowercase() {
            buffer.push(c);
        } else if c == 'Σ' {
            // A capital sigma lowers by its place in the word; leave it to std.
            buffer.truncate(start);
            buffer.push_str(&text.to_lowercase());
            return;
        } else {
            buffer.extend(c.to_lowercase());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowercase_fast_path_agrees_with_std() {
        // Every character the fast path keeps as it is must be its own
        // lowercase, and the buffer path must lower like `str::to_lowercase`.
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let text = c.to_string();
            if is_lowercase(&text) {
                assert_eq!(text.to_lowercase(), text, "U+{:04X}", c as u32);
            }
        }
        for word in ["ĐẦU", "Hà", "TP.HCM", "ΟΔΟΣ", "İstanbul", "COVID-19", "ǅ"] {
            let mut buffer = String::new();
            push_lowercase(&mut buffer, word);
            assert_eq!(buffer, word.to_lowercase(), "{word}");
            assert!(!is_lowercase(word), "{word}");
        }
        assert!(is_lowercase("người"));
        assert!(is_lowercase("5km/h"));
    }

    #[test]
    fn the_nfc_fast_path_agrees_with_the_full_check() {
        use unicode_normalization::UnicodeNormalization;
        let fast = (0..0x300).chain(0x1E00..0x1F00).filter_map(char::from_u32);
        for c in fast {
            let text = format!("a{c}b{c}");
            assert!(matches!(nfc(&text), Cow::Borrowed(_)), "U+{:04X}", c as u32);
            assert_eq!(text.nfc().collect::<String>(), text, "U+{:04X}", c as u32);
        }
        // Combining marks and other scripts take the full path and compose.
        assert_eq!(nfc("Thu\u{0309}y"), "Thủy");
        assert_eq!(nfc("A\u{030A}ngstro\u{0308}m"), "Ångström");
        assert_eq!(nfc("\u{212B}"), "\u{00C5}");
        assert_eq!(nfc("tiếng Việt"), "tiếng Việt");
    }
}
