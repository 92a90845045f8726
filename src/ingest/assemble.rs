//! The step every format shares: source blocks (with what the format already
//! knows about each) to an [`Article`]. Applies the boilerplate rules, finds
//! the title, the publication date and the byline, and names the kind of each
//! kept block.

use super::{
    Article, ArticleBuilder, BlockKind, BoilerplateRules, Format, IngestError, MAX_TITLE_CHARS,
    collapse_spaces, find_date, fits,
};

/// What the reader of a format already knows about a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Hint {
    /// Plain text: decide from the text alone.
    Auto,
    Title,
    Heading,
    Paragraph,
    ListItem,
    TableRow,
    /// Marked up as the byline (an author element).
    Byline,
    /// Left out by the reader, with the reason id and the reason in words.
    Drop {
        reason: &'static str,
        detail: &'static str,
    },
}

/// A block of the source, cleaned and with its white space collapsed.
#[derive(Debug, Clone)]
pub(crate) struct SourceBlock {
    /// 1-based line (plain text) or block number (HTML, DOCX) in the source.
    pub line: usize,
    pub text: String,
    pub hint: Hint,
}

impl SourceBlock {
    pub(crate) fn new(line: usize, text: &str, hint: Hint) -> Self {
        Self {
            line,
            text: collapse_spaces(text),
            hint,
        }
    }
}

/// Metadata a format states outside its text (HTML `<meta>`, `<time>`).
#[derive(Debug, Default)]
pub(crate) struct Meta {
    pub published: Option<String>,
    pub byline: Option<String>,
}

/// Reasons whose lines carry the publication date.
const DATED_REASONS: [&str; 2] = ["date-views", "date-line"];

/// Builds the article from its source blocks.
///
/// # Errors
/// [`IngestError::Empty`] when there are no blocks, and
/// [`IngestError::NothingToRead`] when every block is boilerplate.
pub(crate) fn assemble(
    blocks: Vec<SourceBlock>,
    rules: &BoilerplateRules,
    format: Format,
    meta: Meta,
) -> Result<Article, IngestError> {
    let blocks: Vec<SourceBlock> = blocks.into_iter().filter(|b| !b.text.is_empty()).collect();
    if blocks.is_empty() {
        return Err(IngestError::Empty);
    }
    let mut article = ArticleBuilder::new(format);
    article.published(meta.published);
    let mut kept: Vec<SourceBlock> = Vec::new();
    let mut byline: Option<SourceBlock> = None;
    for block in blocks {
        match &block.hint {
            Hint::Drop { reason, detail } => {
                if DATED_REASONS.contains(reason) {
                    article.published(find_date(&block.text));
                }
                article.drop_line(block.line, &block.text, reason, detail);
                continue;
            }
            Hint::Byline => {
                if byline.is_none() {
                    byline = Some(block);
                } else {
                    article.drop_line(block.line, &block.text, "byline", BYLINE_DETAIL);
                }
                continue;
            }
            _ => {}
        }
        // A title is never boilerplate: headlines like "Toàn cảnh …" are news.
        if block.hint != Hint::Title
            && let Some(rule) = rules.classify(&block.text)
        {
            if DATED_REASONS.contains(&rule.reason.as_str()) {
                article.published(find_date(&block.text));
            }
            article.drop_line(block.line, &block.text, &rule.reason, &rule.description);
            continue;
        }
        kept.push(block);
    }
    if byline.is_none()
        && kept.len() > 1
        && kept.last().is_some_and(|b| {
            matches!(b.hint, Hint::Auto | Hint::Paragraph) && looks_like_byline(&b.text)
        })
    {
        byline = kept.pop();
    }
    if let Some(block) = &byline {
        article.drop_line(block.line, &block.text, "byline", BYLINE_DETAIL);
    }
    match (byline, meta.byline) {
        (Some(block), _) => article.byline(&block.text),
        (None, Some(stated)) => article.byline(&stated),
        (None, None) => {}
    }
    // A line too long to be a headline is not one (MAX_TITLE_CHARS).
    let headline = |b: &SourceBlock| fits(&b.text, MAX_TITLE_CHARS);
    let title_at = kept
        .iter()
        .position(|b| b.hint == Hint::Title && headline(b))
        .or_else(|| kept.first().filter(|b| headline(b)).map(|_| 0));
    if let Some(at) = title_at
        && at > 0
    {
        let title = kept.remove(at);
        kept.insert(0, title);
    }
    for (index, block) in kept.iter().enumerate() {
        let kind = match block.hint {
            _ if index == 0 && title_at.is_some() => BlockKind::Title,
            Hint::Title | Hint::Heading if headline(block) => BlockKind::Heading,
            Hint::ListItem => BlockKind::ListItem,
            Hint::TableRow => BlockKind::TableRow,
            Hint::Paragraph => BlockKind::Paragraph,
            _ if looks_like_heading(&block.text) => BlockKind::Heading,
            _ => BlockKind::Paragraph,
        };
        article.keep(kind, &block.text);
    }
    if title_at.is_none() {
        article.untitled();
    }
    article.finish()
}

const BYLINE_DETAIL: &str = "reporters' byline, kept as metadata";

/// A short line with no closing mark: a heading in plain text.
fn looks_like_heading(text: &str) -> bool {
    word_count(text) <= 15 && !ends_sentence(text)
}

pub(crate) fn ends_sentence(text: &str) -> bool {
    text.trim_end()
        .ends_with(['.', '!', '?', '…', ':', ';', '"', '”', ')', '»'])
}

/// Words in a block, for the "short line" tests.
fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// A byline: the last short line naming the reporters, e.g.
/// `Thu Trang – Công Hiếu (Đài truyền thanh thành phố)`, `Tin, ảnh: Minh Anh`,
/// `Theo TTXVN`, `NGUYỄN VĂN A`.
pub(crate) fn looks_like_byline(text: &str) -> bool {
    if word_count(text) > 14 || text.ends_with('.') && !text.ends_with(").") {
        return false;
    }
    let lower = text.to_lowercase();
    let lead = [
        "tin:",
        "bài:",
        "tin, ảnh:",
        "tin và ảnh:",
        "bài, ảnh:",
        "bài và ảnh:",
        "bài và ảnh ",
        "pv:",
        "nhóm pv",
        "nhóm phóng viên",
        "theo ",
        "phóng viên:",
        "tác giả:",
    ];
    if lead.iter().any(|l| lower.starts_with(l)) && word_count(text) <= 10 {
        return true;
    }
    // The office that wrote it, as provincial portals sign: `Phòng Văn hóa - Thông tin`.
    let office = [
        "phòng ",
        "trung tâm ",
        "đài ",
        "ban tuyên giáo",
        "văn phòng ",
    ];
    if office.iter().any(|o| lower.starts_with(o)) && word_count(text) <= 8 && !ends_sentence(text)
    {
        return true;
    }
    let names_org = [
        "(đài",
        "(báo",
        "(trung tâm",
        "(ttxvn",
        "(vov",
        "(vtv",
        "(cổng",
        "(ttvh",
    ]
    .iter()
    .any(|o| lower.contains(o));
    let words: Vec<&str> = text
        .split_whitespace()
        .filter(|w| w.chars().all(char::is_alphabetic))
        .collect();
    let joins_names = text.split(' ').any(|w| w == "–" || w == "-" || w == "—");
    let capitalized = words
        .iter()
        .all(|w| w.chars().next().is_some_and(char::is_uppercase));
    // Portals print a single reporter's name in capitals: `MINH ANH`.
    let shouted_name = (2..=5).contains(&words.len())
        && words.len() == word_count(text)
        && text
            .chars()
            .filter(|c| c.is_alphabetic())
            .all(char::is_uppercase);
    names_org || (joins_names && capitalized) || shouted_name
}
