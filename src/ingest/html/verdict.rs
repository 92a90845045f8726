//! H-SKIP and H-DROP: what an element of the page is (never read, listed as
//! dropped with its reason, or read), and which elements make blocks.

use scraper::ElementRef;

use super::Tag;

/// What H-SKIP and H-DROP decide for an element.
pub(super) enum Verdict {
    Skip,
    Drop(&'static str, &'static str),
    Read,
}

pub(super) const CAPTION: (&str, &str) = ("photo-caption", "photo or its caption");
pub(super) const RELATED: (&str, &str) = ("see-also", "related-news box");
pub(super) const COMMENTS: (&str, &str) = ("comments", "readers' comments");
pub(super) const TAGS: (&str, &str) = ("tag-list", "keyword tag list");
pub(super) const DATE: (&str, &str) = ("date-line", "publication date line");
pub(super) const VIEWS: (&str, &str) = ("view-counter", "view counter");

pub(super) fn verdict(element: ElementRef<'_>, contains_h1: bool) -> Verdict {
    let el = element.value();
    let name = el.name();
    match name {
        "script" | "style" | "noscript" | "template" | "svg" | "iframe" | "nav" | "form"
        | "button" | "select" | "input" | "textarea" | "object" | "embed" | "video" | "audio"
        | "canvas" | "head" | "link" | "meta" | "aside" | "dialog" | "map" => {
            return Verdict::Skip;
        }
        "figure" | "figcaption" => return Verdict::Drop(CAPTION.0, CAPTION.1),
        // A page header or footer; an article's own <header> holds its h1.
        "header" | "footer" if !contains_h1 => return Verdict::Skip,
        _ => {}
    }
    if el.attr("hidden").is_some()
        || el.attr("aria-hidden") == Some("true")
        || el.attr("style").is_some_and(|s| {
            s.replace(' ', "")
                .to_ascii_lowercase()
                .contains("display:none")
        })
    {
        return Verdict::Skip;
    }
    let names: Vec<String> = el
        .classes()
        .chain(el.id())
        .map(str::to_ascii_lowercase)
        .collect();
    let has = |needles: &[&str]| names.iter().any(|n| needles.iter().any(|x| n.contains(x)));
    let is = |words: &[&str]| names.iter().any(|n| words.contains(&n.as_str()));
    // H-DROP: a view counter (`<span class="post-views">1.234</span>`); short,
    // so that a wrapper named `…-views` is never taken for one.
    if has(&[
        "view-count",
        "viewcount",
        "views",
        "luot-xem",
        "luotxem",
        "count-view",
        "countview",
        "pageview",
        "page-view",
        "hit-count",
        "hitcount",
        "total-view",
    ]) && element.text().map(str::len).sum::<usize>() <= 60
    {
        return Verdict::Drop(VIEWS.0, VIEWS.1);
    }
    if has(&["comment", "binhluan", "binh-luan", "disqus"]) {
        return Verdict::Drop(COMMENTS.0, COMMENTS.1);
    }
    if has(&[
        "related",
        "relate",
        "lienquan",
        "lien-quan",
        "tinkhac",
        "tin-khac",
        "xemthem",
        "xem-them",
        "readmore",
        "read-more",
        "samecate",
        "same-cate",
        "more-news",
        "morenews",
        "box-news",
        "tin-cung",
        "cungchuyenmuc",
    ]) {
        return Verdict::Drop(RELATED.0, RELATED.1);
    }
    if has(&[
        "caption",
        "photo-desc",
        "img-desc",
        "image-desc",
        "pic-desc",
        "desc-img",
    ]) || is(&["image", "img", "photo", "pic", "tplcaption", "picture"])
    {
        return Verdict::Drop(CAPTION.0, CAPTION.1);
    }
    if has(&["tags", "keyword", "tukhoa", "tu-khoa"]) || is(&["tag"]) {
        return Verdict::Drop(TAGS.0, TAGS.1);
    }
    if has(&[
        "menu",
        "navbar",
        "breadcrumb",
        "share",
        "social",
        "banner",
        "advert",
        "quangcao",
        "quang-cao",
        "adsbygoogle",
        "toolbar",
        "login",
        "search",
        "popup",
        "widget",
        "mostview",
        "most-view",
        "xemnhieu",
        "xem-nhieu",
        "footer",
        "copyright",
        "print",
        "subscribe",
        "rating",
        "vote",
        "bookmark",
        "category",
        "chuyenmuc",
        "site-header",
        "page-header",
        "topbar",
        "top-bar",
        "hotline",
        "weather",
    ]) || is(&[
        "ads",
        "ad",
        "nav",
        "header",
        "top",
        "cate",
        "logo",
        "sidebar",
        "side-bar",
        "sidebar-right",
        "sidebar-left",
        "col-right",
        "right-col",
        "box-right",
    ]) {
        return Verdict::Skip;
    }
    Verdict::Read
}

pub(super) fn block_tag(name: &str) -> Option<Tag> {
    Some(match name {
        "h1" => Tag::Title,
        "h2" | "h3" | "h4" | "h5" | "h6" => Tag::Heading,
        "li" | "dt" | "dd" => Tag::ListItem,
        "tr" => Tag::Row,
        "p" | "div" | "section" | "article" | "main" | "blockquote" | "pre" | "table" | "tbody"
        | "thead" | "ul" | "ol" | "dl" | "td" | "th" | "body" | "center" | "address"
        | "summary" | "details" | "header" | "footer" | "hr" | "time" => Tag::Paragraph,
        _ => return None,
    })
}
