//! What a page states about itself outside its body: the published date and
//! author in `<meta>` and `<time>`, and the headline in `og:title` or
//! `<title>`.

use std::sync::LazyLock;

use regex::Regex;
use scraper::Html;

use super::selector;
use crate::ingest::blocks::Meta;
use crate::ingest::clean::clean_text;
use crate::ingest::{collapse_spaces, find_date};

/// Title, date and author the page states in its `<head>` and `<time>`.
pub(super) fn page_meta(document: &Html) -> Meta {
    let content = |css: &str| {
        document
            .select(&selector(css))
            .filter_map(|e| e.value().attr("content").or(e.value().attr("datetime")))
            .map(str::trim)
            .find(|c| !c.is_empty())
            .map(str::to_string)
    };
    let published = [
        r#"meta[property="article:published_time"]"#,
        r#"meta[itemprop="datePublished"]"#,
        r#"meta[name="pubdate"]"#,
        r#"meta[name="publishdate"]"#,
        "time[datetime]",
    ]
    .iter()
    .find_map(|css| content(css).and_then(|value| iso_date(&value)));
    let byline = [
        r#"meta[name="author"]"#,
        r#"meta[property="article:author"]"#,
    ]
    .iter()
    .find_map(|css| content(css))
    .map(|a| collapse_spaces(&clean_text(&a)))
    .filter(|a| !a.contains("://") && !a.is_empty());
    Meta { published, byline }
}

/// `2021-07-29T10:30:00+07:00` (or `29/07/2021`) as `2021-07-29`.
pub(super) fn iso_date(value: &str) -> Option<String> {
    static ISO: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(\d{4})-(\d{2})-(\d{2})").expect("constant pattern"));
    if let Some(caps) = ISO.captures(value.trim()) {
        let date = jiff::civil::Date::new(
            caps[1].parse().ok()?,
            caps[2].parse().ok()?,
            caps[3].parse().ok()?,
        )
        .ok()?;
        return Some(date.to_string());
    }
    find_date(value)
}

/// The headline a page states outside its body: `og:title`, else `<title>`
/// without the site name after ` - ` or ` | `.
pub(super) fn head_title(document: &Html) -> Option<String> {
    let og = document
        .select(&selector(r#"meta[property="og:title"]"#))
        .filter_map(|e| e.value().attr("content"))
        .map(|t| collapse_spaces(&clean_text(t)))
        .find(|t| !t.is_empty());
    og.filter(|t| crate::ingest::fits(t, crate::ingest::MAX_TITLE_CHARS))
        .or_else(|| {
            let title = document.select(&selector("title")).next()?;
            let text = collapse_spaces(&clean_text(&title.text().collect::<String>()));
            let cut = [" - ", " | ", " – "]
                .iter()
                .filter_map(|sep| text.rfind(sep))
                .max()
                .unwrap_or(text.len());
            Some(text[..cut].trim().to_string())
                .filter(|t| !t.is_empty() && crate::ingest::fits(t, crate::ingest::MAX_TITLE_CHARS))
        })
}
