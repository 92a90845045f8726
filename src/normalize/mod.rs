//! Turns written Vietnamese into what an announcer says: numbers, dates,
//! times, Roman numerals, money, units, abbreviations and symbols become
//! words. Every spoken token keeps the byte span it came from, its kind and
//! the id of the rule that made it; what is not understood is read literally
//! and reported in [`Expansion::warnings`]. `expand` never fails.
//! Knows nothing of sentences (the caller passes spans) or of audio.
//!
//! Cost: linear in the length of the span. Words are split once; each rule
//! looks at its own word and a bounded window of neighbours
//! ([`CONTEXT_WINDOW_WORDS`], trigger phrases of a few words); nothing
//! recurses on the input or rescans the text before a word.
//!
//! Rule ids (they appear at the code, in golden rows and in warnings):
//! - `W-WORD` an ordinary word, read as written; `W-CAPS` a capitalised
//!   syllable of a headline (ĐẦU TƯ), a word and not an acronym.
//! - `P-PAUSE` punctuation: a pause, never a word. `P-ASIDE` a bracket
//!   pointing at a photo or a clip, or crediting one ((ảnh), (ảnh: TTXVN)):
//!   not said.
//! - `N-CARD` cardinal number; `N-DEC` decimal; `N-NEG` negative;
//!   `N-DIGITS` a number with a leading zero, read digit by digit (Chỉ thị 05);
//!   `N-LONG` a number of more than [`number::MAX_CARDINAL_DIGITS`] digits,
//!   no quantity but a code or noise: read digit by digit, with a warning;
//!   `N-PCT` percentage; `N-ORD` ordinal; `N-FRAC` fraction; `N-RANGE` a range;
//!   `N-RANGE` also two consecutive years written a/b (2024/25, 2023/2024);
//!   `N-SCORE` a score (thắng 2-1); `N-SHORT` the k/tr/t shorthand (500k,
//!   1tr2); `N-PHONE` a phone number, digit by digit in groups; `N-DOC` a
//!   document number (35-NQ/TW, 1234/QĐ-UBND; in a document's number a code
//!   missing from the lexicon is left unsaid with a warning, elsewhere
//!   spelled); `N-MONEY` money with cents, or
//!   a currency sign before the amount ($5 triệu → năm triệu đô la).
//! - `N-PHONE-SERVICE` a service number (112, 113, 114, 115) after a word
//!   about calling or emergencies, digit by digit; `N-PLUS` a plus sign
//!   before a change (+0,73% → cộng …); `N-TIMES` a count times an amount
//!   (4x400m); `N-PER` the slash of a rate of counted things (17 tiêu
//!   chí/xã → mỗi xã). `N-FRAC` also reads a count out of a total with "trên"
//!   (12/15 xã) and a part of a measured total (20/288 mét vuông);
//!   `N-DOC` also a document's number and year (Nghị định
//!   200/2025). Leading zeros of counts, days and hours are not said (07 hộ).
//! - `N-DATE-DMY`, `N-DATE-DM`, `N-DATE-MY` dates (d/m, d-m, d.m, decided by
//!   the words around: `rules/date.rs`); `N-DATE-RANGE` two dates joined by
//!   a dash (13-14/11, 28.5-3.6); `N-DATE-D` the first of
//!   two days sharing the month written after the second (ngày 15 và 16/11);
//!   warnings `N-DATE-GUESS` and `N-FRAC-GUESS` mark a date or fraction
//!   chosen on weak evidence;
//!   `N-ALLDAY` round the clock (24/24, 24/7 outside a date) read with "trên";
//!   `N-TIME` clock times, and minutes written after "giờ" (8 giờ 00).
//! - `N-ROMAN` a Roman numeral after a trigger word (khóa XIII), each
//!   numeral of a list after one trigger (khóa XI, XII, XIII), the number
//!   of a heading at the start of a line (I. Lịch thi) and the grade of a
//!   product code (RON95-III).
//! - `N-MASKED` digits hidden in a plate or phone number (133xx): the
//!   letter's name for each hidden digit.
//! - `N-UNIT` a unit or currency after a number, or a composite unit (km/h),
//!   or the kilometre before a road's chainage (Km 15+300).
//! - `A-LEX` an abbreviation's default reading; `A-LEX-CTX` a reading chosen by
//!   context; `A-STATION` a station lexicon entry.
//! - `A-SPELL` an unknown all-caps word spelled with letter names;
//!   `A-INITIAL` a capital with a dot that is a person's initial (ông H.),
//!   not the administrative unit it also abbreviates, and a run of dotted
//!   capitals (T.H.D.); `A-LETTER` a letter standing alone, said by its name
//!   (điểm b, bảng C, ông P, Bệnh viện K); `A-DEFINED` a bracketed acronym
//!   repeating the words just before it (nông thôn mới (NTM)): not said.
//! - `W-LOAN` a foreign word or name said the settled Vietnamese way
//!   (Olympic → ô-lim-pích, SEA Games → xi ghêm), from `loanwords.tsv`;
//!   `W-FOREIGN` a foreign name missing from it, read by its syllables when
//!   they fit Vietnamese ones (Ragasa → ra-ga-sa) or else left as written,
//!   with a warning either way (`rules/foreign.rs`).
//! - `S-SYM` a symbol read as a word; `S-URL` a web address and `S-EMAIL`
//!   an e-mail address, read piece by piece. `X-LITERAL` not understood, read as is.

mod context;
mod lexicon;
pub mod number;
mod rules;
mod triggers;
mod words;

use std::ops::Range;

use compact_str::CompactString;
use serde::Serialize;

pub use lexicon::{
    CONTEXT_WINDOW_WORDS, Entry, Lexicon, LexiconError, MAX_COMMENT_CHARS, MAX_CONTEXT_CHARS,
    MAX_KEY_CHARS, MAX_SPOKEN_CHARS, Source, validate_key, validate_spoken,
};
pub use number::NumberStyle;

const ABBREVIATIONS: &str = include_str!("lexicon/abbreviations.tsv");
const LETTERS: &str = include_str!("lexicon/letters.tsv");
const UNITS: &str = include_str!("lexicon/units.tsv");
const SYMBOLS: &str = include_str!("lexicon/symbols.tsv");
const LOANWORDS: &str = include_str!("lexicon/loanwords.tsv");
const TRIGGERS: &str = include_str!("lexicon/triggers.tsv");
const SIGNS: &str = include_str!("lexicon/signs.tsv");

/// One spoken piece of the text and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Token {
    /// Byte range in the text passed to [`Normalizer::expand`].
    pub span: Range<usize>,
    /// What is said; for a pause, the punctuation that stands for it
    /// (`,` `.` `?` `!` `;` `:`), or empty for a pause that adds nothing.
    pub spoken: CompactString,
    pub kind: Kind,
    pub rule: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Word,
    Pause,
    Number,
    Date,
    Time,
    Roman,
    Unit,
    Abbreviation,
    Spelled,
    Loanword,
    Symbol,
    Literal,
}

impl Token {
    /// Whether this token changed the written form (what editors review).
    pub fn is_expansion(&self) -> bool {
        !matches!(self.kind, Kind::Word | Kind::Pause)
    }
}

/// Something the editor should look at: an unknown word read literally or
/// spelled, with the span it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub span: Range<usize>,
    pub text: String,
    pub rule: &'static str,
    pub message: String,
}

/// The result of normalizing a piece of text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Expansion {
    pub tokens: Vec<Token>,
    pub warnings: Vec<Warning>,
}

impl Expansion {
    /// The spoken text: words joined by spaces, pauses as punctuation (a run
    /// of pauses keeps its strongest mark; none at the start).
    pub fn spoken(&self) -> String {
        spoken_text(&self.tokens)
    }
}

/// Renders tokens as one line of spoken text.
pub fn spoken_text(tokens: &[Token]) -> String {
    let mut out = String::new();
    let mut pending: Option<&str> = None;
    for token in tokens {
        if token.kind == Kind::Pause {
            if !out.is_empty() && pause_strength(&token.spoken) > pending.map_or(0, pause_strength)
            {
                pending = Some(token.spoken.as_str());
            }
            continue;
        }
        if token.spoken.is_empty() {
            continue;
        }
        if let Some(mark) = pending.take() {
            out.push_str(mark);
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&token.spoken);
    }
    if let Some(mark) = pending {
        out.push_str(mark);
    }
    out
}

fn pause_strength(mark: &str) -> u8 {
    match mark {
        "" => 0,
        "," => 1,
        ";" | ":" => 2,
        _ => 3,
    }
}

/// The tables and settings the normalizer reads with.
#[derive(Debug, Clone)]
pub struct Normalizer {
    abbreviations: Lexicon,
    letters: Lexicon,
    units: Lexicon,
    symbols: Lexicon,
    loanwords: Lexicon,
    triggers: triggers::Triggers,
    signs: Signs,
    style: NumberStyle,
}

/// What a sign beside a number says (`signs.tsv`): the minus of `-12` and
/// `−12`, the plus of `+0,73%`, the slash of a rate (17 tiêu chí/xã).
#[derive(Debug, Clone)]
struct Signs {
    minus: String,
    typeset_minus: String,
    plus: String,
    per: String,
}

impl Signs {
    /// The three signs from a parsed `signs.tsv`; a missing one is an error
    /// naming the file.
    fn from_table(file: &str, table: &Lexicon) -> Result<Self, LexiconError> {
        let need = |key: &str| {
            table
                .get(key)
                .map(str::to_string)
                .ok_or_else(|| LexiconError::Row {
                    file: file.to_string(),
                    line: 0,
                    reason: format!("no row for the sign {key:?}"),
                })
        };
        Ok(Self {
            minus: need("-")?,
            typeset_minus: need("−")?,
            plus: need("+")?,
            per: need("/")?,
        })
    }
}

impl Normalizer {
    /// The built-in tables with the default (Northern) number style.
    ///
    /// # Errors
    /// A shipped table that fails validation (a unit test guards against it).
    pub fn builtin() -> Result<Self, LexiconError> {
        Ok(Self {
            abbreviations: Lexicon::parse("abbreviations.tsv", ABBREVIATIONS, Source::Builtin)?,
            letters: Lexicon::parse("letters.tsv", LETTERS, Source::Builtin)?,
            units: Lexicon::parse("units.tsv", UNITS, Source::Builtin)?,
            symbols: Lexicon::parse("symbols.tsv", SYMBOLS, Source::Builtin)?,
            loanwords: Lexicon::parse("loanwords.tsv", LOANWORDS, Source::Builtin)?,
            triggers: triggers::Triggers::parse("triggers.tsv", TRIGGERS)?,
            signs: Signs::from_table(
                "signs.tsv",
                &Lexicon::parse("signs.tsv", SIGNS, Source::Builtin)?,
            )?,
            style: NumberStyle::default(),
        })
    }

    /// Applies station lexicon entries (they replace built-in keys).
    pub fn with_station(mut self, station: &Lexicon) -> Self {
        self.abbreviations = std::mem::take(&mut self.abbreviations).overridden_by(station);
        self
    }

    pub fn with_style(mut self, style: NumberStyle) -> Self {
        self.style = style;
        self
    }

    pub fn style(&self) -> &NumberStyle {
        &self.style
    }

    pub fn abbreviations(&self) -> &Lexicon {
        &self.abbreviations
    }

    /// Normalizes `text[span]`; token spans are absolute in `text`.
    pub fn expand(&self, text: &str, span: Range<usize>) -> Expansion {
        rules::expand(self, text, span)
    }

    /// Normalizes a whole string; convenience for one line.
    pub fn expand_str(&self, text: &str) -> Expansion {
        self.expand(text, 0..text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_tables_parse() {
        let n = Normalizer::builtin().unwrap();
        assert!(
            n.abbreviations.len() >= 400,
            "{} abbreviations",
            n.abbreviations.len()
        );
        assert!(n.letters.len() >= 26);
        assert!(n.units.len() >= 40);
        // Loanwords are looked up by the lowercase word: a key in capitals
        // would never match.
        for entry in n.loanwords.entries() {
            assert_eq!(
                entry.key,
                entry.key.to_lowercase(),
                "loanwords.tsv:{}",
                entry.line
            );
        }
    }

    #[test]
    fn spoken_text_merges_pauses() {
        let t = |spoken: &str, kind| Token {
            span: 0..0,
            spoken: spoken.into(),
            kind,
            rule: "T",
        };
        let tokens = [
            t(",", Kind::Pause),
            t("một", Kind::Word),
            t(",", Kind::Pause),
            t(".", Kind::Pause),
            t("hai", Kind::Word),
            t("", Kind::Pause),
            t(".", Kind::Pause),
        ];
        assert_eq!(spoken_text(&tokens), "một. hai.");
    }
}
