//! Small text helpers shared by every stage: Unicode NFC and syllable counts.
//! Knows nothing of articles, sentences or audio.

use unicode_normalization::{UnicodeNormalization, is_nfc_quick};

/// Returns `text` in Unicode NFC, borrowing when it already is.
pub fn nfc(text: &str) -> std::borrow::Cow<'_, str> {
    match is_nfc_quick(text.chars()) {
        unicode_normalization::IsNormalized::Yes => std::borrow::Cow::Borrowed(text),
        _ => std::borrow::Cow::Owned(text.nfc().collect()),
    }
}

/// Counts spoken syllables: in Vietnamese each space-separated word of the
/// spoken form is one syllable (loanwords are written syllable by syllable,
/// sometimes hyphenated, so hyphens separate syllables too).
pub fn syllables(spoken: &str) -> usize {
    spoken
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

/// True for letters that may appear in a Vietnamese word (Latin letters with
/// Vietnamese diacritics, in NFC).
/// Combining diacritics (U+0300..U+036F) count as letters so that text
/// typed in decomposed form stays one word.
pub fn is_vietnamese_letter(c: char) -> bool {
    // Cheap range tests first: this runs on every character of every word.
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    // Every assigned character of Latin-1 letters, Latin Extended-A/B and
    // Latin Extended Additional is a letter except × and ÷.
    matches!(c as u32, 0x0300..=0x036F | 0x00C0..=0x024F | 0x1E00..=0x1EFF) && c != '×' && c != '÷'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_syllables_of_spoken_vietnamese() {
        assert_eq!(syllables("hai mươi ba tháng bảy"), 5);
        assert_eq!(syllables("Ban Thường vụ, Thành ủy."), 5);
        assert_eq!(syllables("A-xê-an"), 3);
        assert_eq!(syllables(""), 0);
    }

    #[test]
    fn nfc_composes_decomposed_input() {
        let decomposed = "Thu\u{0309}y";
        assert_eq!(nfc(decomposed), "Thủy");
        assert!(matches!(nfc("Thủy"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn vietnamese_letters() {
        assert!(is_vietnamese_letter('ư'));
        assert!(is_vietnamese_letter('Đ'));
        assert!(is_vietnamese_letter('ệ'));
        assert!(!is_vietnamese_letter('1'));
        assert!(!is_vietnamese_letter('中'));
        assert!(is_vietnamese_letter('\u{0309}'), "combining hook above");
        assert!(!is_vietnamese_letter('×'));
        assert!(!is_vietnamese_letter('÷'));
    }
}
