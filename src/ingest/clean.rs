//! Text clean-up every format goes through before anything is classified:
//! Unicode NFC, one tone placement (`hoà` → `hòa`, `thuỷ` → `thủy`),
//! invisible characters and bidirectional controls removed, line ends
//! unified. One pass over the text (two when a tone may move).
//!
//! Vietnamese has two tone placements in open syllables with the glides
//! `oa`, `oe`, `uy`: the one newsrooms and dictionaries use today puts the
//! mark on the first vowel (`hòa`, `khỏe`, `thủy`); the other puts it on the
//! second (`hoà`, `khoẻ`, `thuỷ`). Both are common in the wild, so lexicon
//! look-ups and syllable caches would see two words; one form is chosen here
//! (rule CL-TONE). A closed syllable keeps the mark on the second vowel in
//! both styles (`hoàng`, `thuyết`), and `qu` + `y` is not the glide `uy`
//! (`quý`), so neither is touched.

use unicode_normalization::char::{compose, decompose_canonical};

use crate::text::nfc;

/// Combining tone marks, in NFD (grave, acute, tilde, hook above, dot below).
const TONES: [char; 5] = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];

/// Cleans decoded text: NFC, one tone placement (CL-TONE), no zero-width or
/// control characters (CL-INVISIBLE), no bidirectional controls (CL-BIDI),
/// `\r\n` and `\r` as `\n`, no-break and other Unicode spaces as a plain
/// space (CL-SPACE).
pub fn clean_text(text: &str) -> String {
    let text = nfc(text);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                out.push('\n');
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
            }
            '\n' | '\t' => out.push(c),
            // Zero-width characters, BOMs and soft hyphens are invisible in
            // the source and would split words for every later stage.
            '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' => {}
            // CL-BIDI: direction marks, embeddings, overrides and isolates
            // are never spoken; a right-to-left override in a title would
            // show staff one text while the voice reads another.
            c if is_bidi_control(c) => {}
            '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => {
                out.push(' ');
            }
            '\u{2028}' | '\u{2029}' => out.push('\n'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    place_tones(&out)
}

/// Bidirectional formatting characters (CL-BIDI): the marks U+200E, U+200F
/// and U+061C, the embeddings and overrides U+202A–U+202E and the isolates
/// U+2066–U+2069.
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// CL-TONE: moves the tone of an open `oa`/`oe`/`uy` syllable to its first vowel.
fn place_tones(text: &str) -> String {
    if !text.chars().any(movable_tone_vowel) {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    for (i, &c) in chars.iter().enumerate() {
        out.push(c);
        if !movable_tone_vowel(c) || chars.get(i + 1).is_some_and(|n| n.is_alphabetic()) {
            continue;
        }
        let Some((base, tone)) = split_tone(c) else {
            continue;
        };
        let Some(&glide) = i.checked_sub(1).and_then(|p| chars.get(p)) else {
            continue;
        };
        let pair = (glide.to_ascii_lowercase(), base.to_ascii_lowercase());
        if !matches!(pair, ('o', 'a') | ('o', 'e') | ('u', 'y')) {
            continue;
        }
        let before = i.checked_sub(2).and_then(|p| chars.get(p)).copied();
        // `qu` + vowel: the `u` belongs to the consonant (quý, quả).
        if glide.eq_ignore_ascii_case(&'u') && before.is_some_and(|b| b.eq_ignore_ascii_case(&'q'))
        {
            continue;
        }
        // A vowel before the glide means it is not a glide (`ngoáy` is not
        // reached since `y` follows; `hoà` after `k` etc. is fine).
        if before.is_some_and(is_vowel) {
            continue;
        }
        let Some(toned_glide) = compose(glide, tone) else {
            continue;
        };
        let len = out.len();
        out[len - 2] = toned_glide;
        out[len - 1] = base;
    }
    // Every character written is precomposed, so the text stays NFC.
    out.into_iter().collect()
}

/// `à á ả ã ạ`, `è …`, `ỳ …` in either case: the vowels CL-TONE may move from.
fn movable_tone_vowel(c: char) -> bool {
    const VOWELS: &str = "àáảãạÀÁẢÃẠèéẻẽẹÈÉẺẼẸỳýỷỹỵỲÝỶỸỴ";
    !c.is_ascii() && VOWELS.contains(c)
}

/// A precomposed vowel with a tone as its plain base and the tone mark.
fn split_tone(c: char) -> Option<(char, char)> {
    if c.is_ascii() {
        return None;
    }
    let mut parts = Vec::with_capacity(3);
    decompose_canonical(c, |d| parts.push(d));
    match parts[..] {
        [base, tone] if base.is_ascii_alphabetic() && TONES.contains(&tone) => Some((base, tone)),
        _ => None,
    }
}

fn is_vowel(c: char) -> bool {
    let mut base = c;
    decompose_canonical(c, |d| {
        if d.is_alphabetic() {
            base = d;
        }
    });
    matches!(base.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u' | 'y')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_tones_of_open_glide_syllables() {
        assert_eq!(clean_text("hoà bình"), "hòa bình");
        assert_eq!(clean_text("Thuỷ lợi, khoẻ mạnh"), "Thủy lợi, khỏe mạnh");
        assert_eq!(clean_text("Uỷ ban HOÀ"), "Ủy ban HÒA");
        assert_eq!(clean_text("tuỳ theo, hoá học."), "tùy theo, hóa học.");
    }

    #[test]
    fn leaves_closed_syllables_and_qu_alone() {
        for word in [
            "hoàng", "thuyết", "quý", "quả", "Quỳnh", "toán", "khuya", "hòa",
        ] {
            assert_eq!(clean_text(word), word);
        }
    }

    #[test]
    fn decomposed_and_old_style_come_out_identical() {
        use unicode_normalization::UnicodeNormalization;
        let nfd: String = "Hoà bình, thuỷ điện".nfd().collect();
        assert_eq!(clean_text(&nfd), clean_text("Hòa bình, thủy điện"));
        assert_eq!(clean_text(&nfd), "Hòa bình, thủy điện");
    }

    #[test]
    fn removes_bidi_controls() {
        assert_eq!(
            clean_text(
                "Tin \u{202E}mới\u{202C} \u{2067}x\u{2069}\u{200E}\u{200F}\u{202A}\u{202B}\u{202D}\u{2066}\u{2068}\u{061C}"
            ),
            "Tin mới x"
        );
    }

    #[test]
    fn removes_invisible_characters_and_unifies_line_ends() {
        assert_eq!(
            clean_text("a\u{200B}b\u{00A0}c\r\nd\re\u{0007}"),
            "ab c\nd\ne"
        );
    }
}
