//! Hard limits on one article: what cannot be read sensibly at all (a
//! five-megabyte article, a title of a whole page, a "word" of a hundred
//! thousand digits). Checked when an article is read for a script in the
//! CLI and when it is uploaded to the service, so nothing stored can make a
//! later read crash or run for minutes. A long sentence is no reason to
//! refuse: it is read in breath groups; the sentence limits only stop what no
//! listener could follow.
//!
//! Owns the limits and their check; knows nothing of where the article came
//! from or how it is stored. [`Limits::check`] is linear in the article.

use serde::{Deserialize, Serialize};

use crate::ingest::Article;
use crate::segment;

/// The limits of one article. The defaults are generous for news: a long
/// feature is some 30 000 characters, a title under 200, a sentence under
/// 1 000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Characters of the article's text, title included: 200 000 (three
    /// hours of speech or so).
    pub article_chars: usize,
    /// Characters of the title: 500.
    pub title_chars: usize,
    /// Kept blocks (title, headings, paragraphs, list items): 5 000.
    pub paragraphs: usize,
    /// Characters of one sentence: 50 000 (an article pasted without full
    /// stops is still read, in breath groups, up to this).
    pub sentence_chars: usize,
    /// Words (runs without white space) of one sentence: 10 000.
    pub sentence_words: usize,
    /// Characters of one word: 1 000. A breath group breaks between words
    /// only, so this also bounds a breath group (long web addresses fit).
    pub word_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            article_chars: 200_000,
            title_chars: 500,
            paragraphs: 5_000,
            sentence_chars: 50_000,
            sentence_words: 10_000,
            word_chars: 1_000,
        }
    }
}

/// Which limit an article exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    ArticleChars,
    TitleChars,
    Paragraphs,
    SentenceChars,
    SentenceWords,
    WordChars,
}

impl Limit {
    /// The setting's name, as in [`Limits`].
    pub fn name(self) -> &'static str {
        match self {
            Limit::ArticleChars => "article_chars",
            Limit::TitleChars => "title_chars",
            Limit::Paragraphs => "paragraphs",
            Limit::SentenceChars => "sentence_chars",
            Limit::SentenceWords => "sentence_words",
            Limit::WordChars => "word_chars",
        }
    }

    fn what(self) -> (&'static str, &'static str) {
        match self {
            Limit::ArticleChars => ("the article", "characters"),
            Limit::TitleChars => ("the title", "characters"),
            Limit::Paragraphs => ("the article", "paragraphs"),
            Limit::SentenceChars => ("a sentence", "characters"),
            Limit::SentenceWords => ("a sentence", "words"),
            Limit::WordChars => ("a word", "characters"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// `found` is over `max` by `found - max`; `at` says where, with a short
    /// excerpt of the text (never the whole of it).
    #[error(
        "{} has {found} {}, {} more than the limit of {max} ({}){at}",
        .limit.what().0, .limit.what().1, .found - .max, .limit.name()
    )]
    Exceeded {
        limit: Limit,
        found: usize,
        max: usize,
        at: String,
    },
}

impl LimitError {
    pub fn limit(&self) -> Limit {
        match self {
            LimitError::Exceeded { limit, .. } => *limit,
        }
    }
}

impl Limits {
    /// Checks an article against every limit, the cheapest first; reports
    /// the first one exceeded.
    ///
    /// # Errors
    /// [`LimitError::Exceeded`] naming the limit, by how much, and where.
    pub fn check(&self, article: &Article) -> Result<(), LimitError> {
        let exceeded = |limit, found: usize, max: usize, at: String| {
            if found > max {
                Err(LimitError::Exceeded {
                    limit,
                    found,
                    max,
                    at,
                })
            } else {
                Ok(())
            }
        };
        let text = &article.text;
        exceeded(
            Limit::ArticleChars,
            text.chars().count(),
            self.article_chars,
            String::new(),
        )?;
        exceeded(
            Limit::TitleChars,
            article.title.chars().count(),
            self.title_chars,
            format!(": {}", excerpt(&article.title)),
        )?;
        exceeded(
            Limit::Paragraphs,
            article.blocks.len(),
            self.paragraphs,
            String::new(),
        )?;
        for word in text.split_whitespace() {
            // Bytes bound characters from above: most words end here.
            if word.len() > self.word_chars {
                exceeded(
                    Limit::WordChars,
                    word.chars().count(),
                    self.word_chars,
                    format!(" at byte {}: {}", offset(text, word), excerpt(word)),
                )?;
            }
        }
        for sentence in segment::split(article) {
            let piece = &text[sentence.span.clone()];
            let at = || {
                format!(
                    " in paragraph {} at byte {}: {}",
                    sentence.paragraph + 1,
                    sentence.span.start,
                    excerpt(piece)
                )
            };
            if piece.len() > self.sentence_chars {
                exceeded(
                    Limit::SentenceChars,
                    piece.chars().count(),
                    self.sentence_chars,
                    at(),
                )?;
            }
            let words = piece.split_whitespace().count();
            if words > self.sentence_words {
                exceeded(Limit::SentenceWords, words, self.sentence_words, at())?;
            }
        }
        Ok(())
    }
}

/// Byte offset of `part` (a slice of `text`) in `text`.
fn offset(text: &str, part: &str) -> usize {
    part.as_ptr() as usize - text.as_ptr() as usize
}

/// The first 40 characters of `text`, quoted, with an ellipsis when cut.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{:?}…", &text[..at]),
        None => format!("{text:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest;

    fn article(text: &str) -> Article {
        ingest::read(text.as_bytes(), Some("tin.txt")).unwrap()
    }

    fn check(text: &str) -> Result<(), LimitError> {
        Limits::default().check(&article(text))
    }

    #[test]
    fn an_ordinary_article_is_within_every_limit() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/articles/hung-yen-tuyen-giao-2021-07-29.txt"
        ))
        .unwrap();
        check(&text).unwrap();
    }

    #[test]
    fn each_limit_is_named_with_its_excess() {
        let long_article = article(&format!("Tin\n\n{}", "Người dân đi bầu. ".repeat(12_000)));
        let chars = long_article.text.chars().count();
        let err = Limits::default().check(&long_article).unwrap_err();
        assert_eq!(err.limit(), Limit::ArticleChars);
        let message = err.to_string();
        let want = format!(
            "the article has {chars} characters, {} more than the limit of 200000 (article_chars)",
            chars - 200_000
        );
        assert_eq!(message, want);

        let err = check(&format!("Tin\n\nSố {} là", "1".repeat(128_000))).unwrap_err();
        assert_eq!(err.limit(), Limit::WordChars);
        let message = err.to_string();
        assert!(message.contains("127000 more than the limit of 1000 (word_chars)"));
        assert!(message.contains("at byte 10: \"1111"), "{message}");
        assert!(
            message.len() < 300,
            "the message echoes the input: {message}"
        );

        let limits = Limits {
            sentence_words: 5,
            ..Limits::default()
        };
        let err = limits
            .check(&article("Tin\n\nMột hai ba. Một hai ba bốn năm sáu bảy."))
            .unwrap_err();
        assert_eq!(err.limit(), Limit::SentenceWords);
        assert!(
            err.to_string().contains("a sentence has 7 words, 2 more"),
            "{err}"
        );
        assert!(
            err.to_string().contains("in paragraph 2 at byte 19"),
            "{err}"
        );
    }

    #[test]
    fn a_long_sentence_without_full_stops_is_read_not_refused() {
        let text = format!("Tin\n\n{}", "người dân và cán bộ ".repeat(1_500));
        check(&text).unwrap();
    }
}
