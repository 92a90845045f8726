//! Lexicons: abbreviation, letter-name, unit and symbol tables loaded from TSV
//! (`key<TAB>spoken<TAB>context<TAB>comment`), validated row by row, with
//! readings chosen by the words around a key. Station entries go through the
//! same parser and replace the built-in readings of the keys they name.
//! Every field has a length limit and may hold no control character, so a
//! station entry cannot turn a short article into hours of speech.

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::text::is_vietnamese_letter;

/// Where an entry comes from, shown to editors beside the reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Builtin,
    Station,
}

/// One reading of a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub key: String,
    pub spoken: String,
    /// Trigger phrases (lowercase); empty for the default reading.
    pub context: Vec<String>,
    pub comment: String,
    pub source: Source,
    /// Table name and 1-based line, for review and error messages.
    pub file: String,
    pub line: usize,
}

/// A table of readings keyed by the written form.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    /// Looked up once for nearly every word of every article, so the hash is
    /// the fast FxHash: the keys are our own tables and the station's, not
    /// input an outsider can choose to collide.
    entries: FxHashMap<String, Vec<Entry>>,
    /// Longest key in characters, so tokenizers know how far to look.
    longest_key_chars: usize,
    /// A one-hash Bloom filter over the keys' shapes (see [`KeyShapes`]):
    /// most words of an article are no key, and this answers "no" for
    /// nearly all of them from one cache line instead of a hash-table probe.
    shapes: KeyShapes,
    /// Each key in capitals, pointing at the key as written (TTG → TTg), for
    /// codes typed with the wrong case; the first key of a folded form wins.
    folded: FxHashMap<String, String>,
}

/// Bits set for the shape of every key: its first two bytes, last byte and
/// length. A clear bit proves a word is no key; a set bit means "look it up".
#[derive(Debug, Clone)]
struct KeyShapes(Box<[u64; KeyShapes::WORDS]>);

impl Default for KeyShapes {
    fn default() -> Self {
        Self(Box::new([0; Self::WORDS]))
    }
}

impl KeyShapes {
    const WORDS: usize = 128;
    const BITS: usize = Self::WORDS * 64;

    #[inline]
    fn bit(key: &str) -> usize {
        let bytes = key.as_bytes();
        let byte = |i: usize| bytes.get(i).map_or(0, |&b| usize::from(b));
        let last = bytes.last().map_or(0, |&b| usize::from(b));
        let mixed = ((byte(0) * 257 + byte(1)) * 263 + last) * 269 + bytes.len();
        mixed.wrapping_mul(0x9E37_79B9) % Self::BITS
    }

    fn insert(&mut self, key: &str) {
        let bit = Self::bit(key);
        self.0[bit / 64] |= 1 << (bit % 64);
    }

    #[inline]
    fn may_contain(&self, key: &str) -> bool {
        let bit = Self::bit(key);
        self.0[bit / 64] & (1 << (bit % 64)) != 0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LexiconError {
    #[error("{file}:{line}: {reason}")]
    Row {
        file: String,
        line: usize,
        reason: String,
    },
    #[error("{} bad rows:\n{}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Rows(Vec<LexiconError>),
}

/// How many words on each side of a key are searched for its context.
pub const CONTEXT_WINDOW_WORDS: usize = 6;

impl Lexicon {
    /// Parses a table, reporting every bad row (not only the first).
    ///
    /// # Errors
    /// [`LexiconError::Rows`] with one [`LexiconError::Row`] per bad row:
    /// wrong field count, empty or spaced key, key or spoken form not NFC,
    /// spoken form empty or not Vietnamese words, duplicate key + context,
    /// more than one default reading for a key, a field longer than its
    /// limit ([`MAX_KEY_CHARS`], [`MAX_SPOKEN_CHARS`], [`MAX_CONTEXT_CHARS`],
    /// [`MAX_COMMENT_CHARS`]), a control or bidi character in any field.
    pub fn parse(file: &str, text: &str, source: Source) -> Result<Self, LexiconError> {
        let mut lexicon = Lexicon::default();
        let mut errors = Vec::new();
        for (index, row) in text.lines().enumerate() {
            let line = index + 1;
            if row.trim().is_empty() || row.starts_with('#') {
                continue;
            }
            match parse_row(file, line, row, source) {
                Ok(entry) => {
                    if let Err(reason) = lexicon.check_new(&entry) {
                        errors.push(LexiconError::Row {
                            file: file.to_string(),
                            line,
                            reason,
                        });
                    } else {
                        lexicon.insert(entry);
                    }
                }
                Err(reason) => errors.push(LexiconError::Row {
                    file: file.to_string(),
                    line,
                    reason,
                }),
            }
        }
        if errors.is_empty() {
            Ok(lexicon)
        } else {
            Err(LexiconError::Rows(errors))
        }
    }

    fn check_new(&self, entry: &Entry) -> Result<(), String> {
        let Some(existing) = self.entries.get(&entry.key) else {
            return Ok(());
        };
        if let Some(twin) = existing.iter().find(|e| e.context == entry.context) {
            return Err(if entry.context.is_empty() {
                format!(
                    "{:?} has a second default reading (first at line {})",
                    entry.key, twin.line
                )
            } else {
                format!("{:?} repeats the context of line {}", entry.key, twin.line)
            });
        }
        Ok(())
    }

    fn insert(&mut self, entry: Entry) {
        self.longest_key_chars = self.longest_key_chars.max(entry.key.chars().count());
        self.shapes.insert(&entry.key);
        self.folded
            .entry(entry.key.to_uppercase())
            .or_insert_with(|| entry.key.clone());
        self.entries
            .entry(entry.key.clone())
            .or_default()
            .push(entry);
    }

    /// Returns this lexicon with `station`'s keys replacing its own: a key the
    /// station names is read only as the station says.
    pub fn overridden_by(mut self, station: &Lexicon) -> Self {
        for (key, entries) in &station.entries {
            self.entries.insert(key.clone(), entries.clone());
            self.shapes.insert(key);
            self.folded
                .entry(key.to_uppercase())
                .or_insert_with(|| key.clone());
            self.longest_key_chars = self.longest_key_chars.max(key.chars().count());
        }
        self
    }

    /// Whether the key has any reading.
    #[inline]
    pub fn contains(&self, key: &str) -> bool {
        self.lookup(key).is_some()
    }

    #[inline]
    fn lookup(&self, key: &str) -> Option<&Vec<Entry>> {
        if !self.shapes.may_contain(key) {
            return None;
        }
        self.entries.get(key)
    }

    /// The reading of `key` for the words around it (`window`: lowercase words
    /// joined by single spaces). A context row whose trigger occurs in the
    /// window wins; otherwise the default row; otherwise the first row.
    pub fn reading(&self, key: &str, window: &str) -> Option<&Entry> {
        let entries = self.lookup(key)?;
        entries
            .iter()
            .find(|e| e.context.iter().any(|t| has_phrase(window, t)))
            .or_else(|| entries.iter().find(|e| e.context.is_empty()))
            .or_else(|| entries.first())
    }

    /// Like [`Lexicon::reading`], but a key missing as written is tried in
    /// any case (QĐ-TTG, NĐ-Cp in document numbers mean TTg and CP).
    pub fn reading_any_case(&self, key: &str, window: &str) -> Option<&Entry> {
        self.reading(key, window).or_else(|| {
            let written = self.folded.get(&key.to_uppercase())?;
            self.reading(written, window)
        })
    }

    /// Like [`Lexicon::reading`], but a key whose rows all need context has no
    /// reading when none of its triggers is near (unit `A` is ampere only
    /// beside words about electricity, never the class in lớp 12A).
    pub fn reading_strict(&self, key: &str, window: &str) -> Option<&Entry> {
        let entries = self.lookup(key)?;
        entries
            .iter()
            .find(|e| e.context.iter().any(|t| has_phrase(window, t)))
            .or_else(|| entries.iter().find(|e| e.context.is_empty()))
    }

    /// The default (or only) reading of a key, for tables without context.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.reading(key, "").map(|e| e.spoken.as_str())
    }

    pub fn len(&self) -> usize {
        self.entries.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn longest_key_chars(&self) -> usize {
        self.longest_key_chars
    }

    /// Every entry, sorted by key then line.
    pub fn entries(&self) -> Vec<&Entry> {
        let mut all: Vec<&Entry> = self.entries.values().flatten().collect();
        all.sort_by(|a, b| a.key.cmp(&b.key).then(a.line.cmp(&b.line)));
        all
    }
}

/// Whether `phrase` occurs in `window` as whole words (space-separated on
/// both sides or at an end): "thành ủy" is in "ủy viên thành ủy" but "ủy" is
/// not in "thủy".
fn has_phrase(window: &str, phrase: &str) -> bool {
    window.match_indices(phrase).any(|(at, _)| {
        let end = at + phrase.len();
        (at == 0 || window.as_bytes()[at - 1] == b' ')
            && (end == window.len() || window.as_bytes()[end] == b' ')
    })
}

fn parse_row(file: &str, line: usize, row: &str, source: Source) -> Result<Entry, String> {
    let fields: Vec<&str> = row.split('\t').collect();
    let [key, spoken, context, comment] = fields[..] else {
        return Err(format!(
            "expected 4 tab-separated fields (key, spoken, context, comment), found {}",
            fields.len()
        ));
    };
    validate_key(key)?;
    validate_spoken(spoken)?;
    for (field, value, max) in [
        ("context", context, MAX_CONTEXT_CHARS),
        ("comment", comment, MAX_COMMENT_CHARS),
    ] {
        check_length(field, value, max)?;
        check_controls(field, value)?;
    }
    let context: Vec<String> = context
        .split('|')
        .map(|t| {
            t.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        })
        .filter(|t| !t.is_empty())
        .collect();
    Ok(Entry {
        key: key.to_string(),
        spoken: spoken.to_string(),
        context,
        comment: comment.to_string(),
        source,
        file: file.to_string(),
        line,
    })
}

/// The longest key, in characters: 40 (the longest shipped key has 9; a
/// document code such as `QĐ-UBND` fits many times over).
pub const MAX_KEY_CHARS: usize = 40;
/// The longest spoken form, in characters: 300 (some 60 words; the longest
/// shipped reading has 56 characters).
pub const MAX_SPOKEN_CHARS: usize = 300;
/// The longest context (trigger phrases joined by `|`), in characters.
pub const MAX_CONTEXT_CHARS: usize = 500;
/// The longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 500;

/// Refuses a field longer than `max` characters, saying by how much; the
/// value itself is not echoed (it may be a megabyte).
fn check_length(field: &str, value: &str, max: usize) -> Result<(), String> {
    // Bytes bound characters from above: counting is needed only past `max` bytes.
    if value.len() <= max {
        return Ok(());
    }
    let chars = value.chars().count();
    if chars <= max {
        return Ok(());
    }
    Err(format!(
        "the {field} has {chars} characters, {} more than the limit of {max}",
        chars - max
    ))
}

/// Refuses control characters (C0, C1, DEL) and the invisible marks that
/// reorder or hide text (bidi overrides and isolates, zero-width marks).
fn check_controls(field: &str, value: &str) -> Result<(), String> {
    let bad = value.chars().find(|&c| {
        c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
    });
    match bad {
        Some(c) => Err(format!(
            "the {field} contains the control character U+{:04X}",
            c as u32
        )),
        None => Ok(()),
    }
}

/// At most 40 characters of `text`, quoted, for messages.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{:?}…", &text[..at]),
        None => format!("{text:?}"),
    }
}

/// Checks a written key: non-empty, at most [`MAX_KEY_CHARS`], no white
/// space or control character, NFC.
///
/// # Errors
/// A reason in words.
pub fn validate_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("the key is empty".into());
    }
    check_length("key", key, MAX_KEY_CHARS)?;
    check_controls("key", key)?;
    if key.chars().any(char::is_whitespace) {
        return Err(format!("the key {key:?} contains white space"));
    }
    if crate::text::nfc(key) != key {
        return Err(format!("the key {key:?} is not in Unicode NFC"));
    }
    Ok(())
}

/// Checks a spoken form: at most [`MAX_SPOKEN_CHARS`], Vietnamese words
/// (letters, single spaces, hyphens inside a word), NFC, nothing else.
///
/// # Errors
/// A reason in words.
pub fn validate_spoken(spoken: &str) -> Result<(), String> {
    if spoken.trim().is_empty() {
        return Err("the spoken form is empty".into());
    }
    check_length("spoken form", spoken, MAX_SPOKEN_CHARS)?;
    check_controls("spoken form", spoken)?;
    if crate::text::nfc(spoken) != spoken {
        return Err(format!(
            "the spoken form {} is not in Unicode NFC",
            excerpt(spoken)
        ));
    }
    if spoken != spoken.trim() || spoken.contains("  ") {
        return Err(format!("the spoken form {spoken:?} has extra spaces"));
    }
    for word in spoken.split(' ') {
        if word.starts_with('-') || word.ends_with('-') || word.contains("--") {
            return Err(format!("the spoken form {spoken:?} has a stray hyphen"));
        }
        if let Some(bad) = word.chars().find(|&c| c != '-' && !is_vietnamese_letter(c)) {
            return Err(format!(
                "the spoken form {spoken:?} contains {bad:?}; write it as Vietnamese words"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "# test\nBTV\tBan Thường vụ\t\tparty\nBTV\tbiên tập viên\tĐài|bản tin\tnewsroom\nHCM\tHồ Chí Minh\t\t\n";

    #[test]
    fn refuses_control_characters_and_overlong_fields() {
        let row = |key: &str, spoken: &str, context: &str| {
            let text = format!("{key}\t{spoken}\t{context}\t\n");
            match Lexicon::parse("station.tsv", &text, Source::Station) {
                Err(LexiconError::Rows(rows)) => match &rows[..] {
                    [LexiconError::Row { file, line, reason }] => {
                        assert_eq!((file.as_str(), *line), ("station.tsv", 1));
                        reason.clone()
                    }
                    other => panic!("{other:?}"),
                },
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(
            row("B\u{7}TV", "Ban Thường vụ", ""),
            "the key contains the control character U+0007"
        );
        assert_eq!(
            row("BTV\u{202E}", "Ban Thường vụ", ""),
            "the key contains the control character U+202E"
        );
        assert_eq!(
            row(&"K".repeat(100_000), "ca", ""),
            "the key has 100000 characters, 99960 more than the limit of 40"
        );
        let huge = vec!["một"; 250_000].join(" ");
        assert_eq!(
            row("HY", &huge, ""),
            "the spoken form has 999999 characters, 999699 more than the limit of 300"
        );
        assert_eq!(
            row("HY", "Hưng Yên", &"đài ".repeat(200)),
            "the context has 800 characters, 300 more than the limit of 500"
        );
        assert_eq!(
            row("HY", "Hưng\u{85}Yên", ""),
            "the spoken form contains the control character U+0085"
        );
        // At the limits, accepted.
        let spoken = vec!["ba"; 100].join(" ");
        assert_eq!(spoken.chars().count(), 299);
        Lexicon::parse(
            "t.tsv",
            &format!("{}\t{spoken}\t\t\n", "K".repeat(40)),
            Source::Station,
        )
        .unwrap();
    }

    #[test]
    fn chooses_readings_by_context() {
        let lex = Lexicon::parse("t.tsv", TABLE, Source::Builtin).unwrap();
        assert_eq!(
            lex.reading("BTV", "ủy viên thành ủy").unwrap().spoken,
            "Ban Thường vụ"
        );
        assert_eq!(
            lex.reading("BTV", "là của đài phát thanh").unwrap().spoken,
            "biên tập viên"
        );
        assert_eq!(
            lex.reading("BTV", "người dẫn bản tin sáng").unwrap().spoken,
            "biên tập viên"
        );
        assert_eq!(lex.get("HCM"), Some("Hồ Chí Minh"));
        assert!(lex.reading("XYZ", "").is_none());
    }

    #[test]
    fn codes_in_the_wrong_case_find_their_key() {
        let lex = Lexicon::parse(
            "t.tsv",
            "TTg\tThủ tướng\t\t\nCP\tChính phủ\t\t\n",
            Source::Builtin,
        )
        .unwrap();
        assert_eq!(lex.reading_any_case("TTG", "").unwrap().spoken, "Thủ tướng");
        assert_eq!(lex.reading_any_case("Cp", "").unwrap().spoken, "Chính phủ");
        assert_eq!(lex.reading_any_case("ttg", "").unwrap().spoken, "Thủ tướng");
        assert!(lex.reading("TTG", "").is_none(), "exact lookups stay exact");
        assert!(lex.reading_any_case("XYZ", "").is_none());
    }

    #[test]
    fn the_key_filter_never_hides_a_key() {
        let lex = Lexicon::parse(
            "abbreviations.tsv",
            include_str!("lexicon/abbreviations.tsv"),
            Source::Builtin,
        )
        .unwrap();
        let station = Lexicon::parse("s.tsv", "xyz\tích xì dét\t\t\n", Source::Station).unwrap();
        let lex = lex.overridden_by(&station);
        for entry in lex.entries() {
            assert!(lex.contains(&entry.key), "{}", entry.key);
        }
        assert!(lex.contains("xyz"));
        // And it does its job: most ordinary words never reach the table.
        let words = "các đồng chí trong ban thường vụ thành ủy đã họp về việc \
                     xây dựng nông thôn mới của huyện năm nay và những năm tới";
        let passed = words
            .split(' ')
            .filter(|w| lex.shapes.may_contain(w))
            .count();
        assert!(passed <= 3, "{passed} ordinary words pass the filter");
    }

    #[test]
    fn context_phrases_match_whole_words() {
        assert!(has_phrase("ủy viên thành ủy", "thành ủy"));
        assert!(has_phrase("thành ủy họp", "thành ủy"));
        assert!(has_phrase("đài", "đài"));
        assert!(!has_phrase("thủy lợi", "ủy"));
        assert!(!has_phrase("đàilà", "đài"));
        assert!(!has_phrase("bản tính", "bản tin"));
        // A later occurrence counts when the first is inside a word.
        assert!(has_phrase("thủy ủy", "ủy"));
        assert!(!has_phrase("", "đài"));
    }

    #[test]
    fn reports_every_bad_row_with_file_and_line() {
        let bad = "A\ta\t\t\nA\tb\t\t\nB\tb2\t\t\nC\t\t\t\nD only\tx\t\t\nE\tx\n";
        let Err(LexiconError::Rows(rows)) = Lexicon::parse("station.tsv", bad, Source::Station)
        else {
            panic!()
        };
        let lines: Vec<String> = rows.iter().map(ToString::to_string).collect();
        assert_eq!(lines.len(), 5, "{lines:#?}");
        assert!(lines[0].starts_with("station.tsv:2: \"A\" has a second default reading"));
        assert!(lines[1].contains("contains '2'"));
        assert!(lines[2].contains("empty"));
        assert!(lines[3].contains("white space"));
        assert!(lines[4].contains("expected 4"));
    }

    #[test]
    fn station_entries_replace_builtin_keys() {
        let builtin = Lexicon::parse("t.tsv", TABLE, Source::Builtin).unwrap();
        let station = Lexicon::parse("s.tsv", "BTV\tbiên tập viên\t\t\n", Source::Station).unwrap();
        let lex = builtin.overridden_by(&station);
        let entry = lex.reading("BTV", "ủy viên thành ủy").unwrap();
        assert_eq!(
            (entry.spoken.as_str(), entry.source),
            ("biên tập viên", Source::Station)
        );
        assert_eq!(lex.get("HCM"), Some("Hồ Chí Minh"));
    }
}
