//! The reading rules: splits text into words, classifies each one (number,
//! date, time, abbreviation, unit, …) with the words around it, and emits
//! tokens with spans. Rule ids are listed in the module doc of `normalize`.

use std::borrow::Cow;
use std::ops::Range;

mod date;
mod numeric;
mod phone;
mod web;

use super::number;
use super::{Expansion, Kind, Normalizer, Source, Token, Warning};
use crate::text::is_vietnamese_letter;

/// Trigger phrases from `triggers.tsv`, by class.
#[derive(Debug, Clone, Default)]
pub(super) struct Triggers {
    roman: Vec<Vec<String>>,
    date: Vec<Vec<String>>,
    date_weak: Vec<Vec<String>>,
    date_after: Vec<Vec<String>>,
    counted: Vec<Vec<String>>,
    phone: Vec<Vec<String>>,
    emergency: Vec<Vec<String>>,
    service: Vec<Vec<String>>,
    document: Vec<Vec<String>>,
    degree: Vec<Vec<String>>,
    ordinal: Vec<Vec<String>>,
    quantity: Vec<Vec<String>>,
    score: Vec<Vec<String>>,
    currency: Vec<Vec<String>>,
    time_units: Vec<Vec<String>>,
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
                "date-weak" => triggers.date_weak.push(words),
                "date-after" => triggers.date_after.push(words),
                "counted" => triggers.counted.push(words),
                "phone" => triggers.phone.push(words),
                "emergency" => triggers.emergency.push(words),
                "service" => triggers.service.push(words),
                "document" => triggers.document.push(words),
                "degree" => triggers.degree.push(words),
                "ordinal" => triggers.ordinal.push(words),
                "quantity" => triggers.quantity.push(words),
                "score" => triggers.score.push(words),
                "currency" => triggers.currency.push(words),
                "time-unit" => triggers.time_units.push(words),
                _ => {}
            }
        }
        triggers
    }
}

/// Whether the lowercase words before a number end with one of `phrases`.
fn ends_with_any(before: &[&str], phrases: &[Vec<String>]) -> bool {
    phrases.iter().any(|p| {
        before.len() >= p.len()
            && before[before.len() - p.len()..]
                .iter()
                .zip(p)
                .all(|(word, phrase_word)| *word == phrase_word)
    })
}

/// A white-space separated piece of text split into leading punctuation, the
/// core and trailing punctuation. Punctuation is kept as the slices it came
/// in (read mark by mark with [`marks`]), so splitting allocates nothing.
struct Word<'a> {
    /// Opening marks before the core, starting at `lead_start`.
    lead: &'a str,
    lead_start: usize,
    /// Absolute byte range of the core.
    core: Range<usize>,
    core_text: &'a str,
    /// Closing marks after the core, starting at `core.end`.
    trail: &'a str,
    /// Where the lowercase core sits in the sentence's buffer of lowered
    /// words; `None` when the core has no capital (most words), so it is
    /// its own lowercase and nothing is copied.
    lowered: Option<Range<usize>>,
    /// The core is a capitalised Vietnamese syllable (ĐẦU, TƯ).
    syllable_caps: bool,
}

impl Word<'_> {
    fn lead_marks(&self) -> impl Iterator<Item = (Range<usize>, char)> + '_ {
        marks(self.lead_start, self.lead)
    }

    fn trail_marks(&self) -> impl Iterator<Item = (Range<usize>, char)> + '_ {
        marks(self.core.end, self.trail)
    }
}

/// Each character of `text` with its absolute range, `text` starting at byte `start`.
fn marks(start: usize, text: &str) -> impl Iterator<Item = (Range<usize>, char)> + '_ {
    text.char_indices()
        .map(move |(i, c)| (start + i..start + i + c.len_utf8(), c))
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

/// Splits `text[span]` into words; the lowercase forms of capitalised cores
/// go into `lowered`.
fn split_words<'a>(
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

fn split_punctuation<'a>(start: usize, piece: &'a str, normalizer: &Normalizer) -> Word<'a> {
    let mut core_start = 0;
    for (i, c) in piece.char_indices() {
        // A minus sign glued to a number is part of it (-3,5).
        let sign = c == '-' && piece[i + 1..].starts_with(|d: char| d.is_ascii_digit()) && i == 0;
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

/// Context handed to the readers of one core.
struct Around<'a> {
    /// Lowercase cores of every word of the text; this word is `index`.
    lowered: &'a [&'a str],
    index: usize,
    /// Lowercase cores of the words before this one (nearest last).
    before: &'a [&'a str],
    /// Lowercase cores of the words after this one (nearest first).
    after: &'a [&'a str],
    /// The written cores of the neighbouring words.
    prev_raw: Option<&'a str>,
    next_raw: Option<&'a str>,
    /// This word is a capitalised Vietnamese syllable beside another one
    /// (a headline: ĐẦU TƯ), so it is a word, not an acronym (W-CAPS).
    headline: bool,
    /// The word opens with a bracket: (15/5) is a date aside.
    bracketed: bool,
    /// Rule of the last token of the previous word when nothing (no
    /// punctuation) stands between the two words.
    joined_to: Option<&'static str>,
    /// A date was read within the last three words.
    recent_date: bool,
    /// Index of the word read as the first day of a pair (N-DATE-D: the 15
    /// of "ngày 15 và 16/11"), when it is the previous word or the one
    /// before a connector.
    first_day: Option<usize>,
}

impl Around<'_> {
    /// Lowercase words within the context window, joined by spaces.
    fn window(&self) -> String {
        let lo = self.index.saturating_sub(super::CONTEXT_WINDOW_WORDS);
        let hi = (self.index + 1 + super::CONTEXT_WINDOW_WORDS).min(self.lowered.len());
        let mut window = String::new();
        for word in self.lowered[lo..self.index]
            .iter()
            .chain(&self.lowered[self.index + 1..hi])
        {
            if !window.is_empty() {
                window.push(' ');
            }
            window.push_str(word);
        }
        window
    }

    fn before_last(&self) -> Option<&str> {
        self.before.last().copied()
    }
}

/// A word of two or more letters, all capitals.
#[inline]
fn is_caps_word(core: &str) -> bool {
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
fn nfc(word: &str) -> Cow<'_, str> {
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
    const ONSETS: [&str; 28] = [
        "ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "th", "tr", "qu", "b", "c", "d", "đ", "g",
        "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
    ];
    const FINALS: [&str; 9] = ["", "c", "ch", "m", "n", "ng", "nh", "p", "t"];
    let lower = word.to_lowercase();
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

fn is_vowel(c: char) -> bool {
    is_vietnamese_letter(c) && !"bcdđfghjklmnpqrstvwxz".contains(c)
}

pub(super) fn expand(normalizer: &Normalizer, text: &str, span: Range<usize>) -> Expansion {
    // Room for every word lowered: one allocation however many are capitalised.
    let mut capitalised = String::with_capacity(span.len());
    let words = split_words(text, span, normalizer, &mut capitalised);
    let capitalised = capitalised.as_str();
    let lowered: Vec<&str> = words
        .iter()
        .map(|word| {
            word.lowered
                .clone()
                .map_or(word.core_text, |range| &capitalised[range])
        })
        .collect();
    let syllable_caps = |index: usize| words.get(index).is_some_and(|w| w.syllable_caps);
    let mut out = Expansion {
        // About one token per word, plus the punctuation.
        tokens: Vec::with_capacity(words.len() + words.len() / 4 + 4),
        warnings: Vec::new(),
    };
    let mut previous_was_number = false;
    // A date or Roman numeral just before: a lone dash after it is a range
    // (22/9 - 23/9, thế kỷ XVIII – XIX).
    let mut previous_was_date = false;
    let mut joined_to: Option<&'static str> = None;
    let mut last_date_word: Option<usize> = None;
    let mut last_first_day: Option<usize> = None;
    let mut pending_currency: Option<&str> = None;
    for (index, word) in words.iter().enumerate() {
        // N-RANGE: a dash standing alone between two numbers (1866 – 1925)
        // says "đến"; after a word about a match (hòa 20 - 20) it is silent.
        let lone_dash = word.core.is_empty()
            && word.trail.is_empty()
            && matches!(word.lead, "-" | "–" | "—")
            && (previous_was_number || previous_was_date)
            && words.get(index + 1).is_some_and(|w| {
                w.lead.is_empty()
                    && (w.core_text.starts_with(|c: char| c.is_ascii_digit())
                        || previous_was_date && is_roman(w.core_text))
            });
        let after_score_word = || {
            (0..=3).any(|skip| {
                index >= skip && ends_with_any(&lowered[..index - skip], &normalizer.triggers.score)
            })
        };
        if lone_dash {
            let range = word.lead_start..word.lead_start + word.lead.len();
            let spoken = if after_score_word() { "" } else { "đến" };
            out.tokens
                .push(token(range, spoken, Kind::Symbol, "N-RANGE"));
            continue;
        }
        if !word.lead.is_empty() {
            joined_to = None;
            previous_was_number = false;
            previous_was_date = false;
        }
        for (range, c) in word.lead_marks() {
            out.tokens.push(pause(range, c));
        }
        if !word.core.is_empty() {
            let headline = syllable_caps(index)
                && (index > 0 && syllable_caps(index - 1) || syllable_caps(index + 1));
            let around = Around {
                lowered: &lowered,
                index,
                before: &lowered[..index],
                after: &lowered[index + 1..],
                prev_raw: index.checked_sub(1).map(|i| words[i].core_text),
                next_raw: words.get(index + 1).map(|w| w.core_text),
                headline,
                bracketed: word.lead.contains('('),
                joined_to,
                recent_date: last_date_word.is_some_and(|i| index - i <= 3),
                first_day: last_first_day.filter(|&i| index - i <= 2),
            };
            let start = out.tokens.len();
            let money = numeric::read_prefixed_money(
                normalizer,
                word.core.clone(),
                word.core_text,
                &mut out,
            );
            if money.is_none() {
                read_core(normalizer, word, &around, previous_was_number, &mut out);
            }
            // N-MONEY: the currency of "$5" is said after the amount, or
            // after the magnitude word that follows it ($5 triệu).
            let at_end = word.core.end..word.core.end;
            if let Some(currency) = pending_currency.take() {
                out.tokens
                    .push(token(at_end.clone(), currency, Kind::Unit, "N-MONEY"));
            }
            if let Some(currency) = money {
                let magnitude_next = word.trail.is_empty()
                    && lowered
                        .get(index + 1)
                        .is_some_and(|w| MAGNITUDES.contains(w));
                if magnitude_next {
                    pending_currency = Some(currency);
                } else {
                    out.tokens
                        .push(token(at_end, currency, Kind::Unit, "N-MONEY"));
                }
            }
            let last = out.tokens[start..].last();
            // A magnitude word keeps the number open: 80 triệu đồng/lượng.
            let magnitude = previous_was_number && MAGNITUDES.contains(&lowered[index]);
            previous_was_number = magnitude || last.is_some_and(|t| t.kind == Kind::Number);
            previous_was_date = last.is_some_and(|t| matches!(t.kind, Kind::Date | Kind::Roman));
            joined_to = last.map(|t| t.rule);
            if out.tokens[start..].iter().any(|t| t.kind == Kind::Date) {
                last_date_word = Some(index);
            }
            // N-LONG: a figure too long to be a quantity, read digit by digit.
            for long in out.tokens[start..].iter().filter(|t| t.rule == "N-LONG") {
                let digits = text[long.span.clone()]
                    .bytes()
                    .filter(u8::is_ascii_digit)
                    .count();
                out.warnings.push(Warning {
                    span: long.span.clone(),
                    text: excerpt(&text[long.span.clone()]),
                    rule: "N-LONG",
                    message: format!(
                        "a number of {digits} digits is longer than the {} a quantity may have; \
                         it is read digit by digit",
                        number::MAX_CARDINAL_DIGITS
                    ),
                });
            }
            if out.tokens[start..].iter().any(|t| t.rule == "N-DATE-D") {
                last_first_day = Some(index);
            }
        }
        // N-RANGE: a dash glued to the first number of a range (4– 5 kg)
        // says "đến" like a dash standing alone, and nothing in a score.
        let glued_dash = previous_was_number
            && matches!(word.trail, "–" | "—")
            && words.get(index + 1).is_some_and(|w| {
                w.lead.is_empty() && w.core_text.starts_with(|c: char| c.is_ascii_digit())
            });
        if glued_dash {
            let range = word.core.end..word.core.end + word.trail.len();
            let spoken = if after_score_word() { "" } else { "đến" };
            out.tokens
                .push(token(range, spoken, Kind::Symbol, "N-RANGE"));
            continue;
        }
        let initial = out.tokens.last().is_some_and(|t| t.rule == "A-INITIAL");
        for (i, (range, c)) in word.trail_marks().enumerate() {
            // The dot of an initial inside a sentence is not a full stop.
            let more_words = index + 1 < words.len();
            if initial && i == 0 && c == '.' && more_words {
                out.tokens.push(silent(range));
            } else {
                out.tokens.push(pause(range, c));
            }
        }
        if !word.trail.is_empty() {
            previous_was_number = false;
            previous_was_date = false;
            joined_to = None;
        }
    }
    out
}

/// At most the first 40 characters of `text`, with an ellipsis when cut: a
/// warning names what it is about without echoing a megabyte back.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Whether `text` is its own lowercase (`str::to_lowercase` would return it
/// unchanged). Checks the cheap cases first: ASCII, then the Lowercase
/// property; only other characters (capitals, symbols) take the full
/// mapping.
fn is_lowercase(text: &str) -> bool {
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
fn push_lowercase(buffer: &mut String, text: &str) {
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

/// Words that scale the number before them (80 triệu, 5 nghìn).
const MAGNITUDES: [&str; 6] = ["trăm", "nghìn", "ngàn", "triệu", "tỷ", "tỉ"];

fn pause(span: Range<usize>, c: char) -> Token {
    Token {
        span,
        spoken: pause_mark(c).to_string(),
        kind: Kind::Pause,
        rule: "P-PAUSE",
    }
}

/// A pause that says nothing: joiners inside codes, an initial's dot.
fn silent(span: Range<usize>) -> Token {
    token(span, "", Kind::Pause, "P-PAUSE")
}

fn token(span: Range<usize>, spoken: impl Into<String>, kind: Kind, rule: &'static str) -> Token {
    Token {
        span,
        spoken: spoken.into(),
        kind,
        rule,
    }
}

/// Words before a name that make a following single capital an initial.
const PERSON_TITLES: [&str; 14] = [
    "ông", "bà", "anh", "chị", "em", "cô", "chú", "bác", "cháu", "cụ", "bé", "chàng", "nữ", "nam",
];

fn read_core(
    n: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    after_number: bool,
    out: &mut Expansion,
) {
    let core = word.core_text;
    let span = word.core.clone();
    // N-ROMAN first: khóa XIII, thế kỷ xix, quý II/2021, năm MMXXI.
    if let Some((spoken, rule)) = read_roman(n, core, around) {
        out.tokens.push(token(span, spoken, Kind::Roman, rule));
        return;
    }
    // N-ROMAN: a numeral that ends the sentence keeps its dot with it when
    // the dotted form is also an abbreviation (khóa X. is not "X." = xã).
    if let Some(numeral) = core.strip_suffix('.')
        && let Some((spoken, rule)) = read_roman(n, numeral, around)
    {
        let dot = span.end - 1;
        out.tokens
            .push(token(span.start..dot, spoken, Kind::Roman, rule));
        out.tokens.push(pause(dot..span.end, '.'));
        return;
    }
    // N-UNIT: the scale letter after "độ" (30 độ C → độ xê).
    if let Some(spoken) = numeric::read_degree_scale(n, core, around) {
        out.tokens.push(token(span, spoken, Kind::Unit, "N-UNIT"));
        return;
    }
    // N-UNIT: a unit after a number (10 USD, 5 km); strict, so a unit that
    // needs context (A, B, s) is not read without it.
    if after_number && let Some(tokens) = numeric::read_unit(n, span.start, core, around) {
        out.tokens.extend(tokens);
        return;
    }
    // W-CAPS: a capitalised syllable of a headline is a word (ĐẦU TƯ).
    if around.headline {
        out.tokens
            .push(token(span, nfc(core), Kind::Word, "W-CAPS"));
        return;
    }
    // A-INITIAL: H., P., Q., X. are huyện, phường, quận, xã only before a
    // name or a number; after a title or a name they are initials (ông H.).
    if let Some(letter) = core.strip_suffix('.')
        && letter.chars().count() == 1
        && letter.chars().all(char::is_uppercase)
        && !is_place_prefix(around)
    {
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
        return;
    }
    // A-INITIAL: a lone capital with a dot after a name (Nguyễn Văn V.).
    if core.len() == 1
        && core.chars().all(|c| c.is_ascii_uppercase())
        && word.trail.starts_with('.')
        && around
            .prev_raw
            .is_some_and(|raw| raw.starts_with(char::is_uppercase))
    {
        let name = n.letters.get(core).unwrap_or(core);
        out.tokens
            .push(token(span, name, Kind::Spelled, "A-INITIAL"));
        return;
    }
    // Abbreviations: the lexicon knows best (TP.HCM, GD&ĐT, KT-XH).
    // The window is built only for a known key: most words are not one.
    if n.abbreviations.contains(core)
        && let Some(entry) = n.abbreviations.reading(core, &around.window())
    {
        out.tokens.push(token(
            span,
            entry.spoken.clone(),
            Kind::Abbreviation,
            lexicon_rule(entry),
        ));
        return;
    }
    // Letters only: the common case, and never a web address (which needs a dot).
    if core.chars().all(is_vietnamese_letter) {
        read_letters(n, span, core, out);
        return;
    }
    if let Some((spoken, rule)) = web::read(n, core) {
        out.tokens.push(token(span, spoken, Kind::Symbol, rule));
        return;
    }
    if core.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+') && core.len() > 1)
        && numeric::read(n, span.clone(), core, around, out)
    {
        return;
    }
    // N-NEG: the minus sign U+2212 of typeset text (−51 °C) reads like a
    // hyphen-minus; it is not a symbol to leave out.
    if let Some(rest) = core.strip_prefix('−')
        && rest.starts_with(|c: char| c.is_ascii_digit())
    {
        let sign_end = span.start + '−'.len_utf8();
        out.tokens
            .push(token(span.start..sign_end, "âm", Kind::Number, "N-NEG"));
        if !numeric::read(n, sign_end..span.end, rest, around, out) {
            read_mixed(n, sign_end..span.end, rest, around, out);
        }
        return;
    }
    // N-UNIT: a composite unit without a number (năng suất tính bằng tạ/ha)
    // when every part after the slash is a known unit.
    if let Some(tokens) = numeric::read_unit_alone(n, span.start, core, around) {
        out.tokens.extend(tokens);
        return;
    }
    read_mixed(n, span, core, around, out);
}

fn lexicon_rule(entry: &super::Entry) -> &'static str {
    match (entry.source, entry.context.is_empty()) {
        (Source::Station, _) => "A-STATION",
        (Source::Builtin, true) => "A-LEX",
        (Source::Builtin, false) => "A-LEX-CTX",
    }
}

/// Whether a one-letter key with a dot (H. P. Q. X.) stands for a place
/// here: a name or number follows, and no title or name comes before.
fn is_place_prefix(around: &Around<'_>) -> bool {
    let next_is_name = around
        .next_raw
        .is_some_and(|w| w.starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit()));
    let after_person = around.before_last().is_some_and(|w| {
        PERSON_TITLES.contains(&w)
            || around
                .prev_raw
                .is_some_and(|raw| raw.starts_with(char::is_uppercase))
    });
    next_is_name && !after_person
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
    if around.before_last() == Some("năm") && value >= 1000 {
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
    if !second_of_range && !ends_with_any(around.before, &n.triggers.roman) {
        return None;
    }
    let ordinal = around.before_last() == Some("thứ");
    let digits = value.to_string();
    let spoken = if ordinal {
        number::ordinal(&digits, style)
    } else {
        number::cardinal(&digits, style)
    };
    Some((spoken, "N-ROMAN"))
}

fn is_numeral_letter(b: &u8) -> bool {
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
fn roman_numeral(core: &str) -> Option<u32> {
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
                let (spoken, rule) = numeric::read_number(piece, &n.style);
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
