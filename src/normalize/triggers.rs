//! Trigger words: the table (`lexicon/triggers.tsv`) of words that decide how
//! the word next to them is read (khóa XIII, ngày 10-3, tổng đài 1022, ông
//! H.), parsed and validated like the lexicons: an unknown class or a row
//! without a phrase is an error naming the file and the line. The rules ask
//! it questions ("do the words before end with a date word?"); no rule
//! carries a trigger word of its own.

use super::LexiconError;

/// Trigger phrases from `triggers.tsv`, by class. Each phrase is its
/// lowercase words.
#[derive(Debug, Clone, Default)]
pub(super) struct Triggers {
    pub(super) roman: Vec<Vec<String>>,
    pub(super) roman_ordinal: Vec<Vec<String>>,
    pub(super) year_word: Vec<Vec<String>>,
    pub(super) date: Vec<Vec<String>>,
    pub(super) date_weak: Vec<Vec<String>>,
    pub(super) date_after: Vec<Vec<String>>,
    pub(super) day_said: Vec<Vec<String>>,
    pub(super) day_near: Vec<Vec<String>>,
    pub(super) day_pair: Vec<Vec<String>>,
    pub(super) day_range: Vec<Vec<String>>,
    pub(super) month_word: Vec<Vec<String>>,
    pub(super) quarter: Vec<Vec<String>>,
    pub(super) clock_word: Vec<Vec<String>>,
    pub(super) number_word: Vec<Vec<String>>,
    pub(super) counted: Vec<Vec<String>>,
    pub(super) phone: Vec<Vec<String>>,
    pub(super) emergency: Vec<Vec<String>>,
    pub(super) service: Vec<Vec<String>>,
    pub(super) document: Vec<Vec<String>>,
    pub(super) degree: Vec<Vec<String>>,
    pub(super) ordinal: Vec<Vec<String>>,
    pub(super) quantity: Vec<Vec<String>>,
    pub(super) score: Vec<Vec<String>>,
    pub(super) currency: Vec<Vec<String>>,
    pub(super) time_units: Vec<Vec<String>>,
    pub(super) magnitude: Vec<Vec<String>>,
    pub(super) person_title: Vec<Vec<String>>,
    pub(super) letter_label: Vec<Vec<String>>,
    pub(super) photo_aside: Vec<Vec<String>>,
    pub(super) credit_aside: Vec<Vec<String>>,
    pub(super) road: Vec<Vec<String>>,
    pub(super) measure: Vec<Vec<String>>,
}

impl Triggers {
    /// The class names a row may use, each with the list it fills.
    fn slot(&mut self, class: &str) -> Option<&mut Vec<Vec<String>>> {
        Some(match class {
            "roman" => &mut self.roman,
            "roman-ordinal" => &mut self.roman_ordinal,
            "year-word" => &mut self.year_word,
            "date" => &mut self.date,
            "date-weak" => &mut self.date_weak,
            "date-after" => &mut self.date_after,
            "day-said" => &mut self.day_said,
            "day-near" => &mut self.day_near,
            "day-pair" => &mut self.day_pair,
            "day-range" => &mut self.day_range,
            "month-word" => &mut self.month_word,
            "quarter" => &mut self.quarter,
            "clock-word" => &mut self.clock_word,
            "number-word" => &mut self.number_word,
            "counted" => &mut self.counted,
            "phone" => &mut self.phone,
            "emergency" => &mut self.emergency,
            "service" => &mut self.service,
            "document" => &mut self.document,
            "degree" => &mut self.degree,
            "ordinal" => &mut self.ordinal,
            "quantity" => &mut self.quantity,
            "score" => &mut self.score,
            "currency" => &mut self.currency,
            "time-unit" => &mut self.time_units,
            "magnitude" => &mut self.magnitude,
            "person-title" => &mut self.person_title,
            "letter-label" => &mut self.letter_label,
            "photo-aside" => &mut self.photo_aside,
            "credit-aside" => &mut self.credit_aside,
            "road" => &mut self.road,
            "measure" => &mut self.measure,
            _ => return None,
        })
    }

    /// Parses `text` (the contents of `file`): `class<TAB>phrase<TAB>comment`
    /// rows, `#` comments and blank lines.
    ///
    /// # Errors
    /// [`LexiconError::Rows`] with one [`LexiconError::Row`] per bad row (an
    /// unknown class, a missing or empty phrase).
    pub(super) fn parse(file: &str, text: &str) -> Result<Self, LexiconError> {
        let mut triggers = Triggers::default();
        let mut errors = Vec::new();
        for (index, row) in text.lines().enumerate() {
            if row.starts_with('#') || row.trim().is_empty() {
                continue;
            }
            let mut fields = row.split('\t');
            let class = fields.next().unwrap_or_default();
            let phrase = fields.next().unwrap_or_default();
            let words: Vec<String> = phrase.split_whitespace().map(str::to_lowercase).collect();
            let reason = match triggers.slot(class) {
                None => Some(format!("unknown trigger class {class:?}")),
                Some(_) if words.is_empty() => Some(format!("class {class:?} has no phrase")),
                Some(slot) => {
                    slot.push(words);
                    None
                }
            };
            if let Some(reason) = reason {
                errors.push(LexiconError::Row {
                    file: file.to_string(),
                    line: index + 1,
                    reason,
                });
            }
        }
        if errors.is_empty() {
            Ok(triggers)
        } else {
            Err(LexiconError::Rows(errors))
        }
    }
}

/// Whether the lowercase words before a number end with one of `phrases`.
pub(super) fn ends_with_any(before: &[&str], phrases: &[Vec<String>]) -> bool {
    phrases.iter().any(|p| {
        before.len() >= p.len()
            && before[before.len() - p.len()..]
                .iter()
                .zip(p)
                .all(|(word, phrase_word)| *word == phrase_word)
    })
}

/// Whether `after` starts with one of `phrases`.
pub(super) fn starts_with_any(after: &[&str], phrases: &[Vec<String>]) -> bool {
    phrases.iter().any(|p| {
        after.len() >= p.len() && after.iter().zip(p).all(|(word, phrase)| *word == phrase)
    })
}

/// Whether `word` is one of the one-word `phrases`.
pub(super) fn is_one_of(word: &str, phrases: &[Vec<String>]) -> bool {
    phrases
        .iter()
        .any(|p| matches!(&p[..], [only] if only == word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_parses() {
        let t = Triggers::parse("triggers.tsv", include_str!("lexicon/triggers.tsv")).unwrap();
        assert!(ends_with_any(&["đại", "hội"], &t.roman));
        assert!(is_one_of("triệu", &t.magnitude));
        assert!(!is_one_of("xã", &t.magnitude));
        assert!(starts_with_any(&["xã", "đạt"], &t.counted));
    }

    #[test]
    fn an_unknown_class_is_an_error_naming_file_and_line() {
        let text = "# comment\ndate\tngày\tday\ndaet\tsáng\ttypo\n\nroman\t\tno phrase\n";
        let Err(LexiconError::Rows(rows)) = Triggers::parse("triggers.tsv", text) else {
            panic!("bad rows accepted");
        };
        let lines: Vec<String> = rows.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "triggers.tsv:3: unknown trigger class \"daet\"",
                "triggers.tsv:5: class \"roman\" has no phrase",
            ]
        );
    }
}
