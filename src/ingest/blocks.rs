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
const DATED_REASONS: [&str; 3] = ["date-views", "date-line", "byline"];

/// A block printed twice in a row: an image's alt text and its caption.
const TWICE: (&str, &str) = (
    "photo-caption",
    "printed twice in a row: an image's text and its caption",
);
const DUPLICATE_TITLE: (&str, &str) = ("duplicate-title", "the headline repeated");

/// Builds the article from its source blocks.
///
/// # Errors
/// [`IngestError::Empty`] when there are no blocks, and
/// [`IngestError::NothingToRead`] when every block is boilerplate.
pub(crate) fn article_from_blocks(
    blocks: Vec<SourceBlock>,
    rules: &BoilerplateRules,
    format: Format,
    meta: Meta,
) -> Result<Article, IngestError> {
    let blocks: Vec<SourceBlock> = blocks.into_iter().filter(|b| !b.text.is_empty()).collect();
    if blocks.is_empty() {
        return Err(IngestError::Empty);
    }
    let blocks = split_inside(blocks, rules);
    let lead_at = lead_index(&blocks, rules);
    let mut article = ArticleBuilder::new(format);
    article.published(meta.published);
    let mut kept: Vec<SourceBlock> = Vec::new();
    let mut byline: Option<SourceBlock> = None;
    for (index, block) in blocks.into_iter().enumerate() {
        match &block.hint {
            Hint::Drop { reason, detail } => {
                if DATED_REASONS.contains(reason) {
                    article.published(line_date(&block.text));
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
        let rule = if block.hint == Hint::Title {
            None
        } else if index < lead_at {
            rules.classify_head(&block.text)
        } else {
            rules.classify(&block.text)
        };
        if let Some(rule) = rule {
            if DATED_REASONS.contains(&rule.reason.as_str()) {
                article.published(line_date(&block.text));
            }
            article.drop_line(block.line, &block.text, &rule.reason, &rule.description);
            continue;
        }
        kept.push(block);
    }
    drop_printed_twice(&mut kept, &mut article);
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
    drop_repeated_title(&mut kept, &mut article);
    cut_dateline(&mut kept, rules, &mut article);
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

/// Splits out `inside` pieces (a portal's date and view count run in between
/// the headline and the lead, a photo credit inside a paragraph) so that the
/// piece is dropped and the text around it kept, each part keeping the
/// block's line number. A block a `line` rule drops whole is left as it is.
fn split_inside(blocks: Vec<SourceBlock>, rules: &BoilerplateRules) -> Vec<SourceBlock> {
    let mut out = Vec::with_capacity(blocks.len());
    for block in blocks {
        if !matches!(block.hint, Hint::Auto | Hint::Paragraph)
            || rules.classify(&block.text).is_some()
        {
            out.push(block);
            continue;
        }
        let mut rest = block.text.as_str();
        let hint = block.hint.clone();
        while let Some(piece) = rules.inside(rest) {
            let before = rest[..piece.start].trim();
            if !before.is_empty() {
                out.push(SourceBlock::new(block.line, before, hint.clone()));
            }
            out.push(SourceBlock::new(
                block.line,
                &rest[piece.clone()],
                Hint::Auto,
            ));
            rest = rest[piece.end..].trim_start();
        }
        if !rest.trim().is_empty() {
            out.push(SourceBlock::new(block.line, rest, hint));
        }
    }
    out
}

/// Index of the lead: the first block that reads as a sentence of some
/// length. Blocks above it are the page head (`head` rules apply there).
fn lead_index(blocks: &[SourceBlock], rules: &BoilerplateRules) -> usize {
    blocks
        .iter()
        .position(|b| {
            matches!(b.hint, Hint::Auto | Hint::Paragraph)
                && ends_sentence(&b.text)
                && word_count(&b.text) >= 8
                && rules.classify(&b.text).is_none()
        })
        .unwrap_or(blocks.len())
}

/// Two identical blocks in a row are an image's alt text and its caption
/// (story paragraphs are not printed twice); both are dropped when short.
fn drop_printed_twice(kept: &mut Vec<SourceBlock>, article: &mut ArticleBuilder) {
    let mut index = 1;
    while index < kept.len() {
        let same = kept[index].text == kept[index - 1].text
            && kept[index].hint != Hint::Title
            && kept[index - 1].hint != Hint::Title
            && word_count(&kept[index].text) <= 40;
        if same && index > 1 {
            for block in kept.drain(index - 1..=index) {
                article.drop_line(block.line, &block.text, TWICE.0, TWICE.1);
            }
            index = index.saturating_sub(1).max(1);
        } else {
            index += 1;
        }
    }
}

/// A later block repeating the headline (above the body, or as an image
/// caption), letter case and closing marks aside, is dropped.
fn drop_repeated_title(kept: &mut Vec<SourceBlock>, article: &mut ArticleBuilder) {
    let Some(title) = kept.first().map(|b| fold(&b.text)) else {
        return;
    };
    let mut index = 1;
    while index < kept.len() {
        if fold(&kept[index].text) == title {
            let block = kept.remove(index);
            article.drop_line(
                block.line,
                &block.text,
                DUPLICATE_TITLE.0,
                DUPLICATE_TITLE.1,
            );
        } else {
            index += 1;
        }
    }
}

fn fold(text: &str) -> String {
    text.trim_end_matches(['.', ' ', '!', '?']).to_lowercase()
}

/// Cuts press datelines and coverage labels (`TPO - `, `(VTC News) - `,
/// `Hà Nội (TTXVN) - `, `Trực tiếp - `) off the start of the lead, the first
/// block after the title.
fn cut_dateline(kept: &mut [SourceBlock], rules: &BoilerplateRules, article: &mut ArticleBuilder) {
    let Some(lead) = kept.get_mut(1) else {
        return;
    };
    if !matches!(lead.hint, Hint::Auto | Hint::Paragraph) {
        return;
    }
    while let Some((rule, cut)) = rules.lead_prefix(&lead.text) {
        article.drop_line(
            lead.line,
            &lead.text[..cut],
            &rule.reason,
            &rule.description,
        );
        lead.text = lead.text[cut..].to_string();
    }
}

/// The publication date a dropped line states: `d/m/yyyy` (also with `-` or
/// `.`) or ISO `yyyy-mm-dd`, as `YYYY-MM-DD`.
fn line_date(line: &str) -> Option<String> {
    static DATE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"\b(?:(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})|(\d{4})-(\d{2})-(\d{2}))\b",
        )
        .expect("constant pattern")
    });
    if let Some(date) = find_date(line) {
        return Some(date);
    }
    let caps = DATE.captures(line)?;
    let number = |i: usize| caps.get(i).and_then(|m| m.as_str().parse::<i16>().ok());
    let (year, month, day) = match number(3) {
        Some(year) => (year, number(2)?, number(1)?),
        None => (number(4)?, number(5)?, number(6)?),
    };
    let date =
        jiff::civil::Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()?;
    Some(date.to_string())
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
        "biên tập viên",
        "btv:",
        "nhóm tác giả",
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
    names_org || (joins_names && capitalized) || shouted_name || signed_name(text)
}

/// A reporter's name alone as the last line: `Trần Kiên`, `Kim Chung (TH)`,
/// `HanoiTV`, `PV`, `V.Duẩn`, `T.T`: one to five capitalised words (no
/// digits, no closing mark; a word may be initials joined by dots to a
/// name), with an optional short bracketed note such as `(TH)` or `(tổng hợp)`.
fn signed_name(text: &str) -> bool {
    let name = match text.trim_end().strip_suffix(')') {
        Some(open) => match open.rsplit_once('(') {
            Some((name, note)) if note.chars().count() <= 20 && !note.contains(['(', ')']) => {
                name.trim_end()
            }
            _ => return false,
        },
        None => text.trim(),
    };
    let words: Vec<&str> = name.split_whitespace().collect();
    (1..=5).contains(&words.len())
        && words.iter().all(|w| {
            w.split('.').all(|part| {
                part.chars().next().is_some_and(char::is_uppercase)
                    && part.chars().all(char::is_alphabetic)
                    && part.chars().count() <= 12
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_lines(lines: &[&str]) -> Article {
        let blocks = lines
            .iter()
            .enumerate()
            .map(|(i, l)| SourceBlock::new(i + 1, l, Hint::Auto))
            .collect();
        article_from_blocks(
            blocks,
            BoilerplateRules::builtin(),
            Format::Text,
            Meta::default(),
        )
        .unwrap()
    }

    fn dropped(article: &Article) -> Vec<(&str, &str)> {
        article
            .dropped
            .iter()
            .map(|d| (d.reason.as_str(), d.text.as_str()))
            .collect()
    }

    const LEAD: &str = "Sáng 10/3, UBND tỉnh tổ chức hội nghị tổng kết công tác năm 2023.";

    #[test]
    fn a_line_printed_twice_in_a_row_is_an_image_and_its_caption() {
        let caption = "VN-Index đang được các trụ kéo lên.";
        let article = read_lines(&["Tin chứng khoán", LEAD, caption, caption, "Phiên sau giảm."]);
        assert_eq!(dropped(&article), [(TWICE.0, caption), (TWICE.0, caption)]);
        // The same sentence further apart is the story's own: both are kept.
        let article = read_lines(&["Tin", LEAD, caption, "Phiên sau giảm.", caption]);
        assert!(article.dropped.is_empty(), "{:?}", article.dropped);
    }

    #[test]
    fn the_headline_repeated_below_is_dropped() {
        let article = read_lines(&[
            "Xã tổ chức đại hội thể dục thể thao",
            "XÃ TỔ CHỨC ĐẠI HỘI THỂ DỤC THỂ THAO.",
            LEAD,
        ]);
        assert_eq!(
            dropped(&article),
            [(DUPLICATE_TITLE.0, "XÃ TỔ CHỨC ĐẠI HỘI THỂ DỤC THỂ THAO.")]
        );
    }

    #[test]
    fn labels_above_the_lead_are_dropped_and_kept_below_it() {
        let article = read_lines(&[
            "Thể thao",
            "Đội tuyển thắng trận mở màn",
            LEAD,
            "Thể thao",
            "Câu cuối.",
        ]);
        assert_eq!(article.title, "Đội tuyển thắng trận mở màn");
        assert_eq!(dropped(&article), [("section-label", "Thể thao")]);
        assert!(article.text.contains("\n\nThể thao\n\n"));
    }

    #[test]
    fn the_dateline_is_cut_off_the_lead() {
        let article = read_lines(&["Tin", &format!("(VTC News) - {LEAD}"), "Câu cuối."]);
        assert_eq!(article.blocks[1].text(&article), LEAD);
        assert_eq!(dropped(&article), [("dateline", "(VTC News) -")]);
        // Only the lead: a later paragraph keeps its opening words.
        let later = format!("HÀ NỘI - {LEAD}");
        let article = read_lines(&["Tin", LEAD, &later]);
        assert_eq!(article.blocks[2].text(&article), later);
    }

    #[test]
    fn a_date_and_view_count_part_headline_and_lead() {
        let article = read_lines(&[&format!("Tỉnh họp tổng kết 03/01/2022 | 120 {LEAD}")]);
        assert_eq!(article.title, "Tỉnh họp tổng kết");
        assert_eq!(article.blocks[1].text(&article), LEAD);
        assert_eq!(article.published.as_deref(), Some("2022-01-03"));
        assert_eq!(dropped(&article), [("date-views", "03/01/2022 | 120")]);
    }

    #[test]
    fn a_name_alone_at_the_end_is_the_byline() {
        for name in [
            "Trần Kiên",
            "Kim Chung (TH)",
            "HanoiTV",
            "ĐẶNG CƯỜNG",
            "V.Duẩn",
            "N.T.Hà",
            "T.T",
        ] {
            let article = read_lines(&["Tin", LEAD, name]);
            assert_eq!(article.byline.as_deref(), Some(name));
        }
        // A closing sentence or a heading with lowercase words is not.
        for last in [
            "Hội nghị kết thúc.",
            "Những việc cần làm ngay",
            "Năm 2024",
            "TP.HCM ngày mai",
            "T.T.",
        ] {
            let article = read_lines(&["Tin", LEAD, last]);
            assert_eq!(article.byline, None, "{last}");
        }
    }

    #[test]
    fn iso_and_dashed_dates_set_the_publication_date() {
        let article = read_lines(&["Tin", "date 2025-10-14", LEAD]);
        assert_eq!(article.published.as_deref(), Some("2025-10-14"));
        assert_eq!(
            line_date("Thứ sáu - 05-09-2025 08:53").as_deref(),
            Some("2025-09-05")
        );
    }
}
