//! Plain text (as pasted, or as the station's portal exports it): one
//! paragraph per line, title first, boilerplate lines in between.

use super::{ArticleBuilder, BlockKind, BoilerplateRules, Format, IngestError, find_date};

/// A run of source lines read as one block.
struct SourceBlock {
    line: usize,
    text: String,
}

/// Reads decoded, NFC plain text into an article.
///
/// # Errors
/// [`IngestError::Empty`] when there is no text, [`IngestError::NothingToRead`]
/// when only boilerplate is left.
pub(crate) fn read(text: &str, rules: &BoilerplateRules) -> Result<super::Article, IngestError> {
    let blocks = source_blocks(text);
    if blocks.is_empty() {
        return Err(IngestError::Empty);
    }
    classify(blocks, rules, Format::Text)
}

/// Splits text into blocks: each non-blank line, joined with the next line when
/// a sentence visibly runs on (no closing mark, next line starts lowercase).
fn source_blocks(text: &str) -> Vec<SourceBlock> {
    let mut blocks: Vec<SourceBlock> = Vec::new();
    let mut open = false;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        if trimmed.is_empty() {
            open = false;
            continue;
        }
        let runs_on = open
            && trimmed.chars().next().is_some_and(char::is_lowercase)
            && blocks.last().is_some_and(|b| !ends_sentence(&b.text));
        match blocks.last_mut() {
            Some(last) if runs_on => {
                last.text.push(' ');
                last.text.push_str(trimmed);
            }
            _ => blocks.push(SourceBlock {
                line: index + 1,
                text: trimmed.to_string(),
            }),
        }
        open = true;
    }
    blocks
}

fn ends_sentence(text: &str) -> bool {
    text.trim_end()
        .ends_with(['.', '!', '?', '…', ':', ';', '"', '”', ')', '»'])
}

/// Words in a block, for the "short line" tests.
fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// A byline: the last short line naming the reporters, e.g.
/// `Thu Trang – Công Hiếu (Đài truyền thanh thành phố)` or `Tin, ảnh: Minh Anh`.
fn looks_like_byline(text: &str) -> bool {
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
        "pv:",
        "nhóm pv",
    ];
    if lead.iter().any(|l| lower.starts_with(l)) {
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
    ]
    .iter()
    .any(|o| lower.contains(o));
    let joins_names = text.split([' ']).any(|w| w == "–" || w == "-" || w == "—");
    let capitalized = text
        .split_whitespace()
        .filter(|w| w.chars().all(char::is_alphabetic))
        .all(|w| w.chars().next().is_some_and(char::is_uppercase));
    names_org || (joins_names && capitalized)
}

fn classify(
    blocks: Vec<SourceBlock>,
    rules: &BoilerplateRules,
    format: Format,
) -> Result<super::Article, IngestError> {
    let mut article = ArticleBuilder::new(format);
    let mut kept: Vec<SourceBlock> = Vec::new();
    for block in blocks {
        if let Some(rule) = rules.classify(&block.text) {
            if rule.reason == "date-views" {
                article.published(find_date(&block.text));
            }
            article.drop_line(block.line, &block.text, &rule.reason, &rule.description);
        } else {
            kept.push(block);
        }
    }
    if kept.len() > 1 && kept.last().is_some_and(|b| looks_like_byline(&b.text)) {
        let byline = kept.pop().expect("checked non-empty");
        article.byline(&byline.text);
        article.drop_line(
            byline.line,
            &byline.text,
            "byline",
            "reporters' byline, kept as metadata",
        );
    }
    for (index, block) in kept.iter().enumerate() {
        let kind = if index == 0 {
            BlockKind::Title
        } else if word_count(&block.text) <= 15 && !ends_sentence(&block.text) {
            BlockKind::Heading
        } else {
            BlockKind::Paragraph
        };
        article.keep(kind, &block.text);
    }
    article.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(text: &str) -> Result<super::super::Article, IngestError> {
        read(text, BoilerplateRules::builtin())
    }

    #[test]
    fn reads_the_portal_layout() {
        let article = read_str(
            "Tiêu đề bài\n\n29/07/2021 | 70\n\nĐoạn một có câu.\n\nToàn cảnh Hội nghị\n\nĐoạn hai có câu.\n\nThu Trang – Công Hiếu (Đài truyền thanh thành phố)\n\n \n© 2016 Copyright by VNPT Hưng Yên.\n",
        )
        .unwrap();
        assert_eq!(article.title, "Tiêu đề bài");
        assert_eq!(article.published.as_deref(), Some("2021-07-29"));
        assert_eq!(
            article.byline.as_deref(),
            Some("Thu Trang – Công Hiếu (Đài truyền thanh thành phố)")
        );
        assert_eq!(
            article.text,
            "Tiêu đề bài\n\nĐoạn một có câu.\n\nĐoạn hai có câu."
        );
        let reasons: Vec<_> = article.dropped.iter().map(|d| d.reason.as_str()).collect();
        assert_eq!(
            reasons,
            ["date-views", "photo-caption", "copyright-footer", "byline"]
        );
        assert_eq!(article.dropped[1].line, 7);
    }

    #[test]
    fn joins_hard_wrapped_lines() {
        let article =
            read_str("Tiêu đề\n\nMột câu dài bị\nngắt dòng giữa chừng.\nCâu mới.").unwrap();
        assert_eq!(
            article.text,
            "Tiêu đề\n\nMột câu dài bị ngắt dòng giữa chừng.\n\nCâu mới."
        );
    }

    #[test]
    fn refuses_empty_and_boilerplate_only() {
        assert!(matches!(read_str(" \n\n \n"), Err(IngestError::Empty)));
        assert!(matches!(
            read_str("© 2016 Copyright by VNPT.\n29/07/2021 | 70"),
            Err(IngestError::NothingToRead { dropped: 2 })
        ));
    }
}
