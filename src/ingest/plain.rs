//! Plain text (as pasted, or as the station's portal exports it): one
//! paragraph per line, title first, boilerplate lines in between.

use super::blocks::{Hint, Meta, SourceBlock, article_from_blocks, ends_sentence};
use super::{BoilerplateRules, Format, IngestError};

/// Reads decoded, clean plain text into an article.
///
/// # Errors
/// [`IngestError::Empty`] when there is no text, [`IngestError::NothingToRead`]
/// when only boilerplate is left.
pub(crate) fn read(text: &str, rules: &BoilerplateRules) -> Result<super::Article, IngestError> {
    article_from_blocks(source_blocks(text), rules, Format::Text, Meta::default())
}

/// Splits text into blocks: each non-blank line, joined with the next line when
/// a sentence visibly runs on (no closing mark, next line starts lowercase).
fn source_blocks(text: &str) -> Vec<SourceBlock> {
    let mut blocks: Vec<SourceBlock> = Vec::new();
    let mut open = false;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
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
                last.text.push_str(&super::collapse_spaces(trimmed));
            }
            _ => blocks.push(SourceBlock::new(index + 1, trimmed, Hint::Auto)),
        }
        open = true;
    }
    blocks
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
    fn a_line_too_long_for_a_headline_is_not_the_title() {
        let long = "chữ ".repeat(2000);
        let article = read_str(&format!("{long}\n\nĐoạn hai có câu.")).unwrap();
        assert_eq!(article.blocks[0].kind, crate::ingest::BlockKind::Paragraph);
        assert!(article.title.chars().count() <= crate::ingest::MAX_TITLE_CHARS);
        assert!(article.title.starts_with("chữ chữ") && article.title.ends_with('…'));
        // A short first line still is.
        let article = read_str(&format!("Tiêu đề\n\n{long}")).unwrap();
        assert_eq!(article.title, "Tiêu đề");
    }

    #[test]
    fn echoes_of_dropped_lines_are_bounded() {
        let footer = format!("© 2016 Copyright by VNPT {}", "x".repeat(5000));
        let article = read_str(&format!("Tiêu đề\n\nĐoạn có câu.\n\n{footer}")).unwrap();
        let echoed = &article.dropped[0].text;
        assert!(
            echoed.chars().count() <= crate::ingest::MAX_ECHO_CHARS,
            "{echoed}"
        );
        assert!(echoed.starts_with("© 2016") && echoed.ends_with('…'));
    }

    #[test]
    fn bidi_controls_never_reach_the_title() {
        let text = "Tin \u{202E}mới\u{202C} hôm nay\n\nĐoạn \u{2066}có\u{2069} câu.";
        let article = crate::ingest::read(text.as_bytes(), None).unwrap();
        assert_eq!(article.title, "Tin mới hôm nay");
        assert_eq!(article.text, "Tin mới hôm nay\n\nĐoạn có câu.");
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
