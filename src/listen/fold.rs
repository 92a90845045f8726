//! Words as a comparison sees them: what the script says and what a
//! recognizer heard are folded to the same form before they are aligned.
//!
//! Folding lower-cases, drops punctuation, and writes each syllable's tone
//! apart from its letters, so the old and the new tone placement (`hoà` and
//! `hòa`, `thuý` and `thúy`, `khoẻ` and `khỏe`) are one word. Digits a
//! recognizer writes (`mười chín` heard as `19`) are first read with bantin's
//! own normalizer, so a number is compared as the words an announcer says.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

use crate::normalize::Normalizer;

/// The five Vietnamese tone marks as combining characters, in the order of
/// the digit that stands for them in a folded word (1 = huyền … 5 = nặng).
const TONES: [char; 5] = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];

/// One folded word: letters without their tone, then the tone's digit when
/// the syllable has one (`hòa` → `hoa1`, `hoà` → `hoa1`).
pub fn fold_word(word: &str) -> String {
    let mut letters = String::with_capacity(word.len());
    let mut tone = None;
    for c in word.nfd().flat_map(char::to_lowercase) {
        if let Some(index) = TONES.iter().position(|&t| t == c) {
            tone = Some(index + 1);
        } else if c.is_alphanumeric() || is_vowel_mark(c) {
            letters.push(c);
        }
    }
    let mut folded: String = letters.nfc().collect();
    if let Some(tone) = tone {
        folded.push(char::from(b'0' + tone as u8));
    }
    folded
}

/// The marks that make a letter (ơ, ư, â, ê, ô, ă) rather than a tone.
fn is_vowel_mark(c: char) -> bool {
    matches!(c, '\u{302}' | '\u{306}' | '\u{31b}')
}

/// The words of a spoken text as an editor reads them: lower-cased,
/// without punctuation; [`fold_word`] makes each comparable.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !is_word_char(c))
        .filter(|w| !fold_word(w).is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// What a recognizer heard, as spoken words: digits and other written
/// forms it may print are read with `normalizer`.
pub fn heard_as_spoken<'a>(text: &'a str, normalizer: &Normalizer) -> Cow<'a, str> {
    if text.chars().any(|c| c.is_ascii_digit()) {
        Cow::Owned(normalizer.expand_str(text).spoken())
    } else {
        Cow::Borrowed(text)
    }
}

/// Letters, digits and combining marks: what words are made of.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || ('\u{300}'..='\u{36f}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold_spoken(text: &str) -> Vec<String> {
        words(text).iter().map(|w| fold_word(w)).collect()
    }

    #[test]
    fn tone_placement_and_case_do_not_matter() {
        assert_eq!(fold_word("hoà"), fold_word("hòa"));
        assert_eq!(fold_word("Thuý"), fold_word("thúy"));
        assert_eq!(fold_word("KHOẺ"), fold_word("khỏe"));
        assert_eq!(fold_word("hòa"), "hoa1");
        assert_eq!(fold_word("nặng"), "năng5");
    }

    #[test]
    fn letters_with_marks_stay_apart() {
        assert_ne!(fold_word("mơ"), fold_word("mo"));
        assert_ne!(fold_word("đá"), fold_word("dá"));
        assert_ne!(fold_word("mười"), fold_word("muối"));
        assert_eq!(fold_word("mười"), "mươi1");
    }

    #[test]
    fn punctuation_goes_and_decomposed_input_folds_alike() {
        let composed = fold_spoken("Ngày hai mươi, tháng bảy.");
        let decomposed = fold_spoken(&"Ngày hai mươi, tháng bảy.".nfd().collect::<String>());
        assert_eq!(composed, decomposed);
        assert_eq!(composed, ["ngay1", "hai", "mươi", "thang2", "bay4"]);
    }

    #[test]
    fn digits_heard_are_read_as_words() {
        let normalizer = Normalizer::builtin().unwrap();
        assert_eq!(
            fold_spoken(&heard_as_spoken("thế kỷ 19", &normalizer)),
            fold_spoken("thế kỷ mười chín")
        );
        assert_eq!(heard_as_spoken("không số", &normalizer), "không số");
    }
}
