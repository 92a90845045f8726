//! Turns the bytes staff upload (plain text, portal HTML, Word DOCX) into an
//! [`Article`]: the title, the publication date, the byline and the
//! blocks that are read on air, with every line that is not read kept in
//! [`Article::dropped`] together with the reason it was dropped.
//!
//! Owns format detection, decoding (BOMs, UTF-16, Windows-1258, refusing
//! binary files and legacy font encodings), the text clean-up every later
//! stage relies on (NFC, one tone placement; [`clean_text`]), the readers of
//! each format (`plain`, `html`, `docx`) and the boilerplate rules
//! (`boilerplate.tsv`). Knows nothing of sentences, readings or audio.
//!
//! Cost: every step is linear in the input and none recurses on its shape.
//! HTML is walked over a flat copy of the parsed page with an explicit stack
//! (see `html`), and a page nested past [`MAX_HTML_DEPTH`] is refused before
//! the parser sees it (the parser's own checks grow with the depth); DOCX XML
//! is read as a stream of events with counters, never a tree; decoding and
//! clean-up are single passes. What comes out is bounded where it is echoed:
//! the title ([`MAX_TITLE_CHARS`]), the byline ([`MAX_BYLINE_CHARS`]) and
//! each dropped line's text ([`MAX_ECHO_CHARS`]). Bidirectional controls
//! (right-to-left overrides, isolates, marks) are removed with the other
//! invisible characters and never spoken (CL-BIDI in `clean`).

mod blocks;
mod boilerplate;
mod clean;
mod decode;
mod docx;
mod html;
mod plain;

use std::ops::Range;

use serde::Serialize;

pub use boilerplate::{BoilerplateRules, RulesError};
pub use clean::clean_text;
pub use docx::{MAX_PART_BYTES, MAX_ZIP_ENTRIES};
pub use html::MAX_HTML_DEPTH;

/// Largest upload accepted, in bytes. Articles are a few kilobytes (a portal
/// page with its scripts a few hundred); anything this large is a wrong file,
/// not news, and parsing it would only tie up the server.
pub const MAX_INPUT_BYTES: usize = 10 * 1024 * 1024;

/// Longest headline, in characters. Vietnamese headlines run 60 to 150
/// characters; a first line longer than this is a paragraph (or a whole
/// article pasted as one line), not a title: the article then has no title
/// block and [`Article::title`] is the start of its first block, cut.
pub const MAX_TITLE_CHARS: usize = 250;

/// Longest byline kept, in characters; a longer one is cut and marked `…`.
pub const MAX_BYLINE_CHARS: usize = 200;

/// Most characters of a dropped line echoed back in [`Dropped::text`]; the
/// rest is cut and marked `…` (the reason still says what the line was).
pub const MAX_ECHO_CHARS: usize = 200;

/// An article as read on air, plus what was left out and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Article {
    /// The headline (the first block), at most [`MAX_TITLE_CHARS`]; for an
    /// article without one, the start of its first block cut to that length.
    pub title: String,
    /// Publication date as `YYYY-MM-DD`, when the source states one.
    pub published: Option<String>,
    pub byline: Option<String>,
    /// The text that is read: kept blocks in order, separated by blank lines.
    /// The title is the first block. Every span in later stages points here.
    pub text: String,
    pub blocks: Vec<Block>,
    pub dropped: Vec<Dropped>,
    pub format: Format,
}

/// One kept block of [`Article::text`]; a paragraph of the script.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Block {
    pub kind: BlockKind,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    Title,
    Heading,
    Paragraph,
    /// An item of a bulleted or numbered list.
    ListItem,
    /// One row of a table, its cells joined by commas.
    TableRow,
}

/// A line of the source that is not read on air.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Dropped {
    pub text: String,
    /// Reason id, e.g. `date-views`, `photo-caption`, `copyright-footer`, `byline`.
    pub reason: String,
    /// The reason in words, for the editor.
    pub detail: String,
    /// 1-based line (or block) number in the source.
    pub line: usize,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Text,
    Html,
    Docx,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("the article is empty")]
    Empty,
    #[error("nothing is left to read once the boilerplate is removed ({dropped} lines dropped)")]
    NothingToRead { dropped: usize },
    #[error("the input is {size} bytes; the limit is {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error(
        "the input is not UTF-8 text (invalid byte 0x{byte:02X} at offset {offset}); save it as UTF-8"
    )]
    NotUtf8 { offset: usize, byte: u8 },
    #[error("the input looks binary, not text (control byte at offset {offset})")]
    Binary { offset: usize },
    #[error(
        "the input starts with a UTF-16 byte-order mark but what follows is not UTF-16 text; save it as UTF-8"
    )]
    BadUtf16,
    #[error(
        "the input mixes UTF-8 with another encoding (invalid byte 0x{byte:02X} at offset {offset}); save the whole text as UTF-8"
    )]
    MixedEncoding { offset: usize, byte: u8 },
    #[error(
        "the text is in the legacy {encoding} font encoding, which reads as garbage; convert it to Unicode (e.g. with UniKey's converter) and try again"
    )]
    LegacyEncoding { encoding: &'static str },
    #[error("the page declares the charset {charset}, which is not supported; save it as UTF-8")]
    UnsupportedCharset { charset: String },
    #[error("the file is not a valid DOCX (Word) document: {reason}")]
    NotDocx { reason: String },
    #[error(
        "the DOCX part {part} expands to more than {limit} bytes (declared {declared}); refusing it as a zip bomb"
    )]
    ZipBomb {
        part: String,
        declared: u64,
        limit: u64,
    },
    #[error(
        "the page nests its elements more than {limit} deep, which no news page does; save the article's text and send that"
    )]
    TooDeep { limit: usize },
    #[error("the input is {format}, which cannot be read; send text, HTML or DOCX")]
    Unsupported { format: &'static str },
}

impl Block {
    pub fn text<'a>(&self, article: &'a Article) -> &'a str {
        &article.text[self.span.clone()]
    }
}

/// Reads an article from the bytes of an upload. `name` (a file name, when
/// there is one) only breaks ties: the format is detected from the content.
///
/// # Errors
/// Empty, oversized, binary or non-UTF-8 input, and input with nothing left to
/// read after boilerplate removal.
pub fn read(bytes: &[u8], name: Option<&str>) -> Result<Article, IngestError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(IngestError::TooLarge {
            size: bytes.len(),
            limit: MAX_INPUT_BYTES,
        });
    }
    let rules = BoilerplateRules::builtin();
    match detect(bytes, name) {
        Format::Text => {
            if let Some(format) = known_binary(bytes) {
                return Err(IngestError::Unsupported { format });
            }
            let text = decode::decode_text(bytes)?;
            plain::read(&text, rules)
        }
        Format::Html => html::read(bytes, rules),
        Format::Docx => docx::read(bytes, rules),
    }
}

/// Names well-known binary formats staff might upload by mistake, so the
/// error says what the file is rather than where its first odd byte sits.
fn known_binary(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: [(&[u8], &str); 8] = [
        (b"%PDF", "a PDF document"),
        (
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
            "an old Word (.doc) or Excel (.xls) file",
        ),
        (b"{\\rtf", "an RTF document"),
        (b"\x89PNG", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"\x1F\x8B", "a gzip archive"),
        (b"Rar!", "a RAR archive"),
    ];
    SIGNATURES
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|&(_, name)| name)
}

/// Detects the format from the first bytes, falling back to the file name.
pub fn detect(bytes: &[u8], name: Option<&str>) -> Format {
    if bytes.starts_with(b"PK\x03\x04") {
        return Format::Docx;
    }
    let head = &bytes[..bytes.len().min(4096)];
    let lowered = String::from_utf8_lossy(head).to_ascii_lowercase();
    let trimmed = lowered.trim_start_matches('\u{feff}').trim_start();
    // A page saved from a browser may start with a comment or an XML prolog.
    if trimmed.starts_with("<!doctype html")
        || trimmed.starts_with("<html")
        || (trimmed.starts_with('<')
            && ["<body", "<p>", "<p ", "<div", "<article", "<head"]
                .iter()
                .any(|tag| lowered.contains(tag)))
    {
        return Format::Html;
    }
    match name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase())
    {
        Some(ext) if ext == "html" || ext == "htm" => Format::Html,
        Some(ext) if ext == "docx" => Format::Docx,
        _ => Format::Text,
    }
}

/// Builds an [`Article`] from classified blocks; shared by every format.
pub(crate) struct ArticleBuilder {
    article: Article,
}

impl ArticleBuilder {
    pub(crate) fn new(format: Format) -> Self {
        Self {
            article: Article {
                title: String::new(),
                published: None,
                byline: None,
                text: String::new(),
                blocks: Vec::new(),
                dropped: Vec::new(),
                format,
            },
        }
    }

    pub(crate) fn keep(&mut self, kind: BlockKind, text: &str) {
        let text = collapse_spaces(text);
        if text.is_empty() {
            return;
        }
        if kind == BlockKind::Title {
            self.article.title = text.clone();
        }
        if !self.article.text.is_empty() {
            self.article.text.push_str("\n\n");
        }
        let start = self.article.text.len();
        self.article.text.push_str(&text);
        self.article.blocks.push(Block {
            kind,
            span: start..self.article.text.len(),
        });
    }

    pub(crate) fn drop_line(&mut self, line: usize, text: &str, reason: &str, detail: &str) {
        self.article.dropped.push(Dropped {
            text: cut(text.trim(), MAX_ECHO_CHARS),
            reason: reason.to_string(),
            detail: detail.to_string(),
            line,
        });
    }

    pub(crate) fn published(&mut self, date: Option<String>) {
        if self.article.published.is_none() {
            self.article.published = date;
        }
    }

    pub(crate) fn byline(&mut self, byline: &str) {
        self.article.byline = Some(cut(&collapse_spaces(byline), MAX_BYLINE_CHARS));
    }

    /// Names an article whose source has no line short enough to be its
    /// headline after the start of its first block.
    pub(crate) fn untitled(&mut self) {
        if let Some(first) = self.article.blocks.first() {
            self.article.title = cut(&self.article.text[first.span.clone()], MAX_TITLE_CHARS);
        }
    }

    pub(crate) fn finish(self) -> Result<Article, IngestError> {
        if self
            .article
            .blocks
            .iter()
            .all(|b| b.kind == BlockKind::Title)
        {
            if self.article.blocks.is_empty() && self.article.dropped.is_empty() {
                return Err(IngestError::Empty);
            }
            if self.article.blocks.is_empty() {
                return Err(IngestError::NothingToRead {
                    dropped: self.article.dropped.len(),
                });
            }
        }
        Ok(self.article)
    }
}

/// True when `text` has at most `max` characters; looks at no more than that.
pub(crate) fn fits(text: &str, max: usize) -> bool {
    text.char_indices().nth(max).is_none()
}

/// `text` cut to at most `max` characters (the cut marked `…`), at a space
/// when one is near the end.
pub(crate) fn cut(text: &str, max: usize) -> String {
    let Some((end, _)) = text.char_indices().nth(max.saturating_sub(1)) else {
        return text.to_string();
    };
    if fits(text, max) {
        return text.to_string();
    }
    let head = &text[..end];
    let head = match head.rfind(' ') {
        Some(space) if head[space..].chars().count() <= 30 => &head[..space],
        _ => head,
    };
    format!("{}…", head.trim_end())
}

/// Collapses runs of white space (including no-break spaces) to one space.
pub(crate) fn collapse_spaces(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c == '\u{a0}')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Finds a `d/m/yyyy` date in a line and returns it as `YYYY-MM-DD`.
pub(crate) fn find_date(line: &str) -> Option<String> {
    static DATE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b").expect("constant pattern")
    });
    let caps = DATE.captures(line)?;
    let day: u8 = caps[1].parse().ok()?;
    let month: u8 = caps[2].parse().ok()?;
    let year: i16 = caps[3].parse().ok()?;
    let date = jiff::civil::Date::new(year, month as i8, day as i8).ok()?;
    Some(date.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats_from_content() {
        assert_eq!(detect(b"PK\x03\x04rest", Some("a.txt")), Format::Docx);
        assert_eq!(detect(b"<!DOCTYPE html><html>", None), Format::Html);
        assert_eq!(detect(b"Tin tuc\n\nDoan van.", Some("x.txt")), Format::Text);
        assert_eq!(detect(b"Tin tuc", Some("x.HTML")), Format::Html);
    }

    #[test]
    fn finds_publication_dates() {
        assert_eq!(find_date("29/07/2021 | 70").as_deref(), Some("2021-07-29"));
        assert_eq!(find_date("31/02/2021 | 70"), None);
        assert_eq!(find_date("no date"), None);
    }

    #[test]
    fn refuses_oversized_input() {
        let big = vec![b'a'; MAX_INPUT_BYTES + 1];
        assert!(matches!(
            read(&big, None),
            Err(IngestError::TooLarge { .. })
        ));
    }
}
