//! Foreign names missing from `loanwords.tsv` (W-FOREIGN): a name that fits
//! Vietnamese syllables letter for letter is read by them, the way
//! announcers say storm names and players they meet for the first time
//! (Ragasa → ra-ga-sa, LINFA → lin-pha, Lucao → lu-cao); f, j, z and w
//! take the Vietnamese letters for their sounds (ph, gi, d, u). A
//! capitalised name that does not fit (Sebastian, Online) is left as
//! written for the voice to sound out: spelled letter by letter it would be
//! nine letter names no listener can put together. An all-caps word that
//! does not fit is an acronym and is spelled by the letters rule (the last
//! resort, A-SPELL), as are all-caps words shorter than
//! [`MIN_CAPS_NAME_LETTERS`]. Every such word gets a warning that asks the
//! editor to confirm it or add a loanword entry.

use super::token;
use crate::normalize::context::Around;
use crate::normalize::words::{Word, is_lowercase_syllable, nfc};
use crate::normalize::{Expansion, Kind, Normalizer, Warning};

/// An all-caps word this long or longer may be a name (LINFA), shorter
/// ones are acronyms (IMO, VIC).
const MIN_CAPS_NAME_LETTERS: usize = 4;

/// Onsets a foreign syllable may start with, longest first, with the
/// Vietnamese letters that spell their sound.
const ONSETS: [(&str, &str); 31] = [
    ("ngh", "ngh"),
    ("ng", "ng"),
    ("nh", "nh"),
    ("ch", "ch"),
    ("gh", "gh"),
    ("gi", "gi"),
    ("kh", "kh"),
    ("ph", "ph"),
    ("th", "th"),
    ("tr", "tr"),
    ("qu", "qu"),
    ("b", "b"),
    ("c", "c"),
    ("d", "d"),
    ("g", "g"),
    ("h", "h"),
    ("k", "k"),
    ("l", "l"),
    ("m", "m"),
    ("n", "n"),
    ("p", "p"),
    ("r", "r"),
    ("s", "s"),
    ("t", "t"),
    ("v", "v"),
    ("x", "x"),
    ("f", "ph"),
    ("j", "gi"),
    ("z", "d"),
    ("w", "u"),
    ("", ""),
];

/// Finals a Vietnamese syllable may end with.
const FINALS: [&str; 9] = ["", "c", "ch", "m", "n", "ng", "nh", "p", "t"];

/// W-FOREIGN: a foreign name read by syllables, or left as written.
pub(super) fn read_name(
    _: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    _: bool,
    out: &mut Expansion,
) -> bool {
    let core = word.core_text;
    // Most words fail here: a name starts with a Latin capital.
    if !core.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        || !core.bytes().all(|b| b.is_ascii_alphabetic())
    {
        return false;
    }
    let mut rest = core.bytes().skip(1);
    let capitalised = core.len() >= 3
        && core.as_bytes()[0].is_ascii_uppercase()
        && rest.all(|b| b.is_ascii_lowercase());
    let caps = core.len() >= MIN_CAPS_NAME_LETTERS && core.bytes().all(|b| b.is_ascii_uppercase());
    let lower = around.lowered[around.index];
    if !capitalised && !caps || is_lowercase_syllable(lower) {
        return false;
    }
    match syllables(lower) {
        Some(spoken) => {
            out.warnings.push(Warning {
                span: word.core.clone(),
                text: core.to_string(),
                rule: "W-FOREIGN",
                message: format!(
                    "{core} is not in the loanword table; it is read by its syllables as {spoken}"
                ),
            });
            out.tokens.push(token(
                word.core.clone(),
                spoken,
                Kind::Loanword,
                "W-FOREIGN",
            ));
            true
        }
        None if capitalised => {
            out.warnings.push(Warning {
                span: word.core.clone(),
                text: core.to_string(),
                rule: "W-FOREIGN",
                message: format!(
                    "{core} is not in the loanword table and fits no Vietnamese syllables; \
                     it is left as written"
                ),
            });
            out.tokens
                .push(token(word.core.clone(), nfc(core), Kind::Word, "W-FOREIGN"));
            true
        }
        None => false,
    }
}

/// The Vietnamese syllables of a lowercase ASCII word, joined by hyphens,
/// when the whole word splits into at least two of them: each an onset,
/// vowels and a legal final, consonants between two vowels going to the
/// next syllable where they can start one (ra-ga-sa, lin-pha). English
/// spelling does not fit: a doubled letter (Keeling, Penn), a silent final
/// e (Online), three vowels together (Canoeing).
fn syllables(word: &str) -> Option<String> {
    let is_vowel = |b: u8| matches!(b, b'a' | b'e' | b'i' | b'o' | b'u' | b'y');
    let bytes = word.as_bytes();
    let doubled = bytes.windows(2).any(|pair| pair[0] == pair[1]);
    let silent_e = word.len() > 2
        && word.ends_with('e')
        && !is_vowel(bytes[bytes.len() - 2])
        && bytes[..bytes.len() - 2].iter().any(|&b| is_vowel(b));
    if doubled || silent_e {
        return None;
    }
    let mut spoken = String::with_capacity(word.len() + 8);
    let mut at = 0;
    let mut count = 0;
    // The onset of the next syllable, as written and as spelled.
    let (mut onset, mut onset_spelled) = longest_onset(word)?;
    at += onset.len();
    while at < bytes.len() || !onset.is_empty() {
        let vowels = bytes[at..].iter().take_while(|&&b| is_vowel(b)).count();
        if vowels == 0 || vowels > 2 {
            return None;
        }
        let nucleus = &word[at..at + vowels];
        at += vowels;
        let consonants = bytes[at..].iter().take_while(|&&b| !is_vowel(b)).count();
        let run = &word[at..at + consonants];
        let (final_part, next) = if at + consonants == bytes.len() {
            (run, ("", ""))
        } else {
            split_between(run)?
        };
        // j before i: gi + it is written git (Jujitsu → giu-git-su).
        let start = match onset_spelled {
            "gi" if nucleus.starts_with('i') => "g",
            other => other,
        };
        let syllable = format!("{start}{nucleus}{final_part}");
        if !FINALS.contains(&final_part) || !is_lowercase_syllable(&syllable) {
            return None;
        }
        if !spoken.is_empty() {
            spoken.push('-');
        }
        spoken.push_str(&syllable);
        count += 1;
        at += consonants;
        (onset, onset_spelled) = next;
        if at >= bytes.len() {
            break;
        }
    }
    (count >= 2).then_some(spoken)
}

/// The longest onset `text` starts with (possibly none).
fn longest_onset(text: &str) -> Option<(&'static str, &'static str)> {
    ONSETS
        .iter()
        .copied()
        .find(|(written, _)| text.starts_with(written))
}

/// Splits the consonants between two vowels into the final of one
/// syllable and the onset of the next, giving the next as many as it can
/// start with.
fn split_between(run: &str) -> Option<(&str, (&'static str, &'static str))> {
    (0..=run.len()).find_map(|cut| {
        let (final_part, onset) = run.split_at(cut);
        let spelled = ONSETS.iter().find(|(written, _)| *written == onset)?;
        (FINALS.contains(&final_part) && !onset.is_empty()).then_some((final_part, *spelled))
    })
}

#[cfg(test)]
mod tests {
    use super::syllables;

    #[test]
    fn splits_names_into_vietnamese_syllables() {
        assert_eq!(syllables("ragasa").as_deref(), Some("ra-ga-sa"));
        assert_eq!(syllables("linfa").as_deref(), Some("lin-pha"));
        assert_eq!(syllables("lucao").as_deref(), Some("lu-cao"));
        assert_eq!(syllables("noru").as_deref(), Some("no-ru"));
        // A cluster no syllable can hold, or one syllable only.
        assert_eq!(syllables("madrid"), None);
        assert_eq!(syllables("smith"), None);
        assert_eq!(syllables("penn"), None);
        assert_eq!(syllables("ban"), None);
        assert_eq!(syllables("jujitsu").as_deref(), Some("giu-git-su"));
        // English spelling: doubled letters, a silent e, three vowels.
        assert_eq!(syllables("keeling"), None);
        assert_eq!(syllables("online"), None);
        assert_eq!(syllables("canoeing"), None);
    }
}
