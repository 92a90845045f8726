//! Words of letters: ordinary words, unknown acronyms spelled with letter
//! names (A-SPELL), a person's initials (A-INITIAL), and mixed runs of
//! letters, digits and symbols (COVID-19, F0, 5G, a+b).

use std::ops::Range;

use super::{lexicon_rule, numeric, pause, roman, silent, token};
use crate::normalize::context::Around;
use crate::normalize::triggers::{ends_with_any, is_one_of};
use crate::normalize::words::{Word, is_caps_word, is_opening, is_trailing, is_vowel, nfc};
use crate::normalize::{Expansion, Kind, Normalizer, Token, Warning};
use crate::text::is_vietnamese_letter;

/// W-CAPS: a capitalised syllable of a headline is a word (ĐẦU TƯ).
pub(super) fn read_headline(
    _: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    _: bool,
    out: &mut Expansion,
) -> bool {
    if around.headline {
        out.tokens.push(token(
            word.core.clone(),
            nfc(word.core_text),
            Kind::Word,
            "W-CAPS",
        ));
    }
    around.headline
}

/// A-INITIAL: H., P., Q., X. are huyện, phường, quận, xã only before a
/// name or a number; after a title or a name they are initials (ông H.).
pub(super) fn read_dotted_initial(
    n: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    _: bool,
    out: &mut Expansion,
) -> bool {
    let span = word.core.clone();
    let Some(letter) = word.core_text.strip_suffix('.') else {
        return false;
    };
    if letter.chars().count() != 1
        || !letter.chars().all(char::is_uppercase)
        || is_place_prefix(n, around)
    {
        return false;
    }
    let letter_end = span.start + letter.len();
    let name = n.letters.get(letter).unwrap_or(letter);
    out.tokens.push(token(
        span.start..letter_end,
        name,
        Kind::Spelled,
        "A-INITIAL",
    ));
    // The dot ends the sentence only after its last word.
    if around.next_raw.is_some() {
        out.tokens.push(silent(letter_end..span.end));
    } else {
        out.tokens.push(pause(letter_end..span.end, '.'));
    }
    true
}

/// A-INITIAL: a run of capitals each with a dot (T.H.D., V.N.) is a
/// person's or a place's initials, each said by its letter name; the dots
/// say nothing, the last one ends the sentence only after its last word.
/// Without this, H. inside the run would be read as the huyện it
/// abbreviates before a name.
pub(super) fn read_initials(
    n: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    _: bool,
    out: &mut Expansion,
) -> bool {
    let core = word.core_text;
    // Most words fail here: initials start with a capital and a dot.
    let after_first = if core.starts_with('Đ') { 2 } else { 1 };
    if core.as_bytes().get(after_first) != Some(&b'.') {
        return false;
    }
    let is_initial = |c: char| c.is_ascii_uppercase() || c == 'Đ';
    let mut letters = 0;
    let mut chars = core.chars().peekable();
    while let Some(c) = chars.next() {
        if !is_initial(c) {
            return false;
        }
        letters += 1;
        match chars.next() {
            Some('.') => {}
            None => break,
            Some(_) => return false,
        }
    }
    if letters < 2 || !core.contains('.') {
        return false;
    }
    let start = word.core.start;
    for (i, c) in core.char_indices() {
        let span = start + i..start + i + c.len_utf8();
        if c == '.' {
            let last = i + 1 == core.len();
            if last && around.next_raw.is_none() && word.trail.is_empty() {
                out.tokens.push(pause(span, '.'));
            } else {
                out.tokens.push(silent(span));
            }
        } else {
            let letter = &core[i..i + c.len_utf8()];
            let name = n.letters.get(letter).unwrap_or(letter);
            out.tokens
                .push(token(span, name, Kind::Spelled, "A-INITIAL"));
        }
    }
    true
}

/// A-LETTER: a letter standing alone is said by its name: a label after a
/// word such as điểm, bảng, hạng, nhóm (điểm b, bảng C, hạng B), a person
/// named by one letter (ông P), a hospital or a school known by a letter
/// (Bệnh viện K). A consonant alone is never a Vietnamese word, so it needs
/// no trigger; a vowel (a, e, o, y) may be one (y tế, e rằng) and is a
/// letter only after a label word or a title. After a number a letter is
/// a unit (5 m), which the unit rules read first; beside a figure without
/// a label it is left alone (100cm x 50cm).
pub(super) fn read_lone_letter(
    n: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    after_number: bool,
    out: &mut Expansion,
) -> bool {
    let core = word.core_text;
    // One letter is at most two bytes (đ).
    if core.len() > 2 {
        return false;
    }
    let mut chars = core.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        return false;
    };
    if after_number || !(c.is_ascii_alphabetic() || matches!(c, 'đ' | 'Đ')) {
        return false;
    }
    let Some(name) = n.letters.get(core) else {
        return false;
    };
    let labelled = || {
        ends_with_any(around.before, &n.triggers.letter_label)
            || ends_with_any(around.before, &n.triggers.person_title)
    };
    // Between figures a letter is a sign (100cm x 50cm), not a label.
    let digit =
        |raw: Option<&str>| raw.is_some_and(|w| w.starts_with(|d: char| d.is_ascii_digit()));
    let beside_figure = digit(around.prev_raw) || word.trail.is_empty() && digit(around.next_raw);
    if (c.to_lowercase().any(is_vowel) || beside_figure) && !labelled() {
        return false;
    }
    out.tokens
        .push(token(word.core.clone(), name, Kind::Spelled, "A-LETTER"));
    true
}

/// The initial consonants written with two letters that a name's initial
/// may keep (Võ Hoàng Minh Tr., chị Nguyễn Thị Th.).
const TWO_LETTER_INITIALS: [&str; 10] =
    ["Ch", "Gh", "Gi", "Kh", "Ng", "Nh", "Ph", "Qu", "Th", "Tr"];

/// A-INITIAL: a lone capital with a dot after a name (Nguyễn Văn V.), a
/// title (anh N. T. H) or before another lone capital (N. T. H); also a
/// two-letter initial (Minh Tr., anh Th.) after a name or a title, which is
/// no abbreviation (Tr. is "trang" only after a word about pages).
pub(super) fn read_initial_after_name(
    n: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    _: bool,
    out: &mut Expansion,
) -> bool {
    let core = word.core_text;
    // A capital that only starts the sentence (Theo Tr. 15) is no name.
    let after_name = || {
        around.index >= 2
            && around
                .prev_raw
                .is_some_and(|raw| raw.starts_with(char::is_uppercase))
            || ends_with_any(around.before, &n.triggers.person_title)
    };
    let (letters, dot_in_core) = match core.strip_suffix('.') {
        Some(letters) => (letters, true),
        None => (core, false),
    };
    // Most words fail on the length and the capital before the table.
    if letters.len() == 2
        && letters.starts_with(|c: char| c.is_ascii_uppercase())
        && TWO_LETTER_INITIALS.contains(&letters)
        && (dot_in_core || word.trail.starts_with('.'))
        && after_name()
    {
        let letters_end = word.core.start + letters.len();
        out.tokens.push(token(
            word.core.start..letters_end,
            spelled(n, letters),
            Kind::Spelled,
            "A-INITIAL",
        ));
        if dot_in_core {
            // The dot of an initial inside a sentence is no full stop.
            let dot = letters_end..word.core.end;
            out.tokens.push(if around.after.is_empty() {
                pause(dot, '.')
            } else {
                silent(dot)
            });
        }
        return true;
    }
    let initial = core.len() == 1
        && core.chars().all(|c| c.is_ascii_uppercase())
        && word.trail.starts_with('.')
        && (around
            .prev_raw
            .is_some_and(|raw| raw.starts_with(char::is_uppercase))
            || ends_with_any(around.before, &n.triggers.person_title)
            || around.next_raw.is_some_and(is_lone_capital));
    if initial {
        let name = n.letters.get(core).unwrap_or(core);
        out.tokens
            .push(token(word.core.clone(), name, Kind::Spelled, "A-INITIAL"));
    }
    initial
}

/// A capital letter alone, with or without its dot (T, T.).
fn is_lone_capital(raw: &str) -> bool {
    let letter = raw.strip_suffix('.').unwrap_or(raw);
    let mut chars = letter.chars();
    matches!((chars.next(), chars.next()), (Some(c), None) if c.is_ascii_uppercase() || c == 'Đ')
}

/// Letters only: the common case, and never a web address (which needs a dot).
pub(super) fn read_word_of_letters(
    n: &Normalizer,
    word: &Word<'_>,
    _: &Around<'_>,
    _: bool,
    out: &mut Expansion,
) -> bool {
    let letters_only = word.core_text.chars().all(is_vietnamese_letter);
    if letters_only {
        read_letters(n, word.core.clone(), word.core_text, out);
    }
    letters_only
}

/// The last resort: whatever no other rule read, run by run.
pub(super) fn read_mixed_word(
    n: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    _: bool,
    out: &mut Expansion,
) -> bool {
    read_mixed(n, word.core.clone(), word.core_text, around, out);
    true
}

/// Whether a one-letter key with a dot (H. P. Q. X.) stands for a place
/// here: a name or number follows, and no title or name comes before.
fn is_place_prefix(n: &Normalizer, around: &Around<'_>) -> bool {
    let next_is_name = around
        .next_raw
        .is_some_and(|w| w.starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit()));
    let after_person = around.before_last().is_some_and(|w| {
        is_one_of(w, &n.triggers.person_title)
            || around
                .prev_raw
                .is_some_and(|raw| raw.starts_with(char::is_uppercase))
    });
    next_is_name && !after_person
}

/// A word made only of letters.
fn read_letters(n: &Normalizer, span: Range<usize>, core: &str, out: &mut Expansion) {
    let upper = is_caps_word(core);
    if upper && core.chars().all(|c| c.is_ascii() || c == 'Đ') {
        spell(n, span, core, out);
    } else {
        out.tokens
            .push(token(span, nfc(core), Kind::Word, "W-WORD"));
    }
}

/// Spells an unknown acronym with letter names (A-SPELL) and warns.
pub(super) fn spell(n: &Normalizer, span: Range<usize>, core: &str, out: &mut Expansion) {
    out.warnings.push(Warning {
        span: span.clone(),
        text: core.to_string(),
        rule: "A-SPELL",
        message: format!("{core} is not in the lexicon; it is spelled letter by letter"),
    });
    out.tokens
        .push(token(span, spelled(n, core), Kind::Spelled, "A-SPELL"));
}

/// Letter names of `core`, separated by spaces.
pub(super) fn spelled(n: &Normalizer, core: &str) -> String {
    let mut spoken = String::new();
    for c in core.chars() {
        if let Some(name) = n.letters.get(c.encode_utf8(&mut [0; 4])) {
            if !spoken.is_empty() {
                spoken.push(' ');
            }
            spoken.push_str(name);
        }
    }
    spoken
}

/// Mixed letters, digits and symbols (COVID-19, F0, 5G, 35-NQ/TW, a+b):
/// split into runs and read each; unknown symbols are read literally.
pub(super) fn read_mixed(
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
    let mut skip_dot = false;
    let window = std::cell::OnceCell::new();
    let window = || window.get_or_init(|| around.window()).as_str();
    for (index, &(start, end, kind)) in runs.iter().enumerate() {
        if std::mem::take(&mut skip_dot) {
            continue;
        }
        let piece = &core[start..end];
        let piece_span = span.start + start..span.start + end;
        match kind {
            RunKind::Digit => {
                let (spoken, rule) = numeric::read_number(piece, n);
                out.tokens
                    .push(token(piece_span, spoken, Kind::Number, rule));
            }
            RunKind::Letter => {
                // Q.1, P.5: the key with its dot (Q.) before a number.
                let dotted = runs
                    .get(index + 1)
                    .is_some_and(|&(s, e, _)| &core[s..e] == ".")
                    .then(|| format!("{piece}."))
                    .filter(|key| n.abbreviations.contains(key))
                    .and_then(|key| n.abbreviations.reading(&key, window()));
                if let Some(entry) = dotted {
                    out.tokens.push(token(
                        piece_span.start..piece_span.end + 1,
                        entry.spoken.clone(),
                        Kind::Abbreviation,
                        lexicon_rule(entry),
                    ));
                    skip_dot = true;
                } else if let Some(entry) = n
                    .abbreviations
                    .contains(piece)
                    .then(|| n.abbreviations.reading(piece, window()))
                    .flatten()
                {
                    out.tokens.push(token(
                        piece_span,
                        entry.spoken.clone(),
                        Kind::Abbreviation,
                        lexicon_rule(entry),
                    ));
                } else if piece.len() >= 2
                    && index >= 2
                    && &core[runs[index - 1].0..runs[index - 1].1] == "-"
                    && runs[index - 2].2 == RunKind::Digit
                    && roman::is_roman(piece)
                {
                    // N-ROMAN: the grade numeral of a product code (xăng
                    // RON95-III, Euro 5-IV) after a number and a hyphen.
                    let value = roman::roman_value(piece).unwrap_or_default();
                    out.tokens.push(token(
                        piece_span,
                        crate::normalize::number::cardinal(&value.to_string(), &n.style),
                        Kind::Roman,
                        "N-ROMAN",
                    ));
                } else if piece.len() >= 2
                    && piece.bytes().all(|b| matches!(b, b'x' | b'X'))
                    && index > 0
                    && runs[index - 1].2 == RunKind::Digit
                {
                    // N-MASKED: digits a paper hides (biển số 61D2-133xx)
                    // are said by the letter's name, not as a word "xx".
                    out.tokens.push(token(
                        piece_span,
                        spelled(n, piece),
                        Kind::Spelled,
                        "N-MASKED",
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
                        .push(token(piece_span, nfc(piece), Kind::Word, "W-WORD"));
                }
            }
            RunKind::Other => {
                let c = piece.chars().next().expect("non-empty run");
                if let Some(entry) = n.symbols.reading_strict(piece, "") {
                    out.tokens.push(token(
                        piece_span,
                        entry.spoken.clone(),
                        Kind::Symbol,
                        "S-SYM",
                    ));
                } else if c == '.'
                    && start > 0
                    && core[..start].ends_with(|d: char| d.is_ascii_digit())
                    && core[end..].starts_with(|d: char| d.is_ascii_digit())
                {
                    // A dot between digits that is no thousands mark: a
                    // version or section number (1.0, 14.2) says "chấm".
                    out.tokens
                        .push(token(piece_span, "chấm", Kind::Symbol, "S-SYM"));
                } else if matches!(c, '-' | '/' | '.' | '_' | '–') {
                    // Joiners inside codes (35-NQ/TW): a short pause, not a word.
                    out.tokens.push(Token {
                        span: piece_span,
                        spoken: compact_str::CompactString::default(),
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
pub(super) enum RunKind {
    Digit,
    Letter,
    Other,
}
