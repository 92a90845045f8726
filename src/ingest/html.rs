//! Portal HTML: finds the article in a news page (VnExpress, Tuổi Trẻ, Dân
//! trí, the government and provincial portals share one shape: menus and
//! breadcrumbs, a headline, a date line, a lead, the body, figures with
//! captions, the author, then related news, comments and a footer) and turns it
//! into source blocks.
//!
//! How (rule ids in comments):
//! - H-SKIP: scripts, styles, forms, menus, breadcrumbs, share bars, ads,
//!   sidebars, page headers and footers are never read and never listed.
//! - H-BODY: the body is the element holding the most paragraph text (a
//!   readability-style score: paragraphs count for their parent and half for
//!   their grandparent); the article runs from the headline (`h1`) to the end
//!   of that element.
//! - H-DROP: inside the article, figures and captions (`photo-caption`),
//!   related-news boxes (`see-also`), comments (`comments`), tag lists
//!   (`tag-list`), date elements (`date-line`) and view counters
//!   (`view-counter`) are listed as dropped.
//! - H-CAPTION: a short, wholly italic paragraph right after an image is its
//!   caption.
//! - H-BYLINE: an author element, or a short right-aligned bold paragraph at
//!   the end (how VnExpress prints its reporters), is the byline.
//!
//! The boilerplate rules then run over every kept block, as for plain text.

use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};

use super::assemble::{Hint, Meta, SourceBlock, assemble};
use super::clean::clean_text;
use super::decode::decode_with;
use super::{Article, BoilerplateRules, Format, IngestError, collapse_spaces, find_date};

/// Reads a portal page into an article.
///
/// # Errors
/// Decoding errors (see [`super::decode`]), [`IngestError::Empty`] when the
/// page has no text and [`IngestError::NothingToRead`] when only boilerplate
/// is left.
pub(crate) fn read(bytes: &[u8], rules: &BoilerplateRules) -> Result<Article, IngestError> {
    let text = decode_with(bytes, declared_charset(bytes).as_deref())?;
    let document = Html::parse_document(&text);
    let mut walker = Walker::default();
    if let Some(body) = document
        .select(&selector("body"))
        .next()
        .or(Some(document.root_element()))
    {
        walker.walk(body, &Context::default());
        walker.flush();
    }
    let meta = page_meta(&document);
    let blocks = article_blocks(walker.blocks, &document);
    if blocks.iter().all(|b| b.text.is_empty()) {
        return Err(IngestError::Empty);
    }
    assemble(blocks, rules, Format::Html, meta)
}

/// The charset a page declares in its first bytes (`<meta charset=…>` or the
/// `http-equiv` form), before it can be decoded.
fn declared_charset(bytes: &[u8]) -> Option<String> {
    static CHARSET: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
        regex::bytes::Regex::new(r#"(?i)<meta[^>]*charset\s*=\s*["']?([a-z0-9_:.-]+)"#)
            .expect("constant pattern")
    });
    let head = &bytes[..bytes.len().min(4096)];
    let caps = CHARSET.captures(head)?;
    Some(String::from_utf8_lossy(&caps[1]).into_owned())
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("constant selector")
}

/// What a block of the page is, as far as its markup tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Title,
    Heading,
    Paragraph,
    ListItem,
    Row,
}

#[derive(Debug)]
struct RawBlock {
    /// Ordinals of the elements enclosing the block, outermost first.
    path: Vec<usize>,
    tag: Tag,
    text: String,
    drop: Option<(&'static str, &'static str)>,
    byline: bool,
    date: bool,
    italic: bool,
    after_image: bool,
    right_bold: bool,
}

#[derive(Default, Clone)]
struct Context {
    path: Vec<usize>,
    drop: Option<(&'static str, &'static str)>,
    byline: bool,
    date: bool,
    italic: bool,
    bold: bool,
    right: bool,
}

/// Non-space characters of the buffered block under each kind of markup.
#[derive(Default)]
struct Marked {
    italic: usize,
    bold: usize,
    right: usize,
    date: usize,
    byline: usize,
    drop: usize,
    drop_reason: Option<(&'static str, &'static str)>,
}

#[derive(Default)]
struct Walker {
    blocks: Vec<RawBlock>,
    buf: String,
    marked: Marked,
    context: Option<(Context, Tag)>,
    next_ordinal: usize,
    image_pending: bool,
}

/// What H-SKIP and H-DROP decide for an element.
enum Verdict {
    Skip,
    Drop(&'static str, &'static str),
    Read,
}

const CAPTION: (&str, &str) = ("photo-caption", "photo or its caption");
const RELATED: (&str, &str) = ("see-also", "related-news box");
const COMMENTS: (&str, &str) = ("comments", "readers' comments");
const TAGS: (&str, &str) = ("tag-list", "keyword tag list");
const DATE: (&str, &str) = ("date-line", "publication date line");
const VIEWS: (&str, &str) = ("view-counter", "view counter");

fn verdict(element: ElementRef<'_>) -> Verdict {
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
        "header" | "footer" if !contains_h1(element) => return Verdict::Skip,
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

fn contains_h1(element: ElementRef<'_>) -> bool {
    element
        .descendent_elements()
        .any(|e| e.value().name() == "h1")
}

fn block_tag(name: &str) -> Option<Tag> {
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

impl Walker {
    fn walk(&mut self, element: ElementRef<'_>, outer: &Context) {
        let ordinal = self.next_ordinal;
        self.next_ordinal += 1;
        let mut context = outer.clone();
        context.path.push(ordinal);
        match verdict(element) {
            Verdict::Skip => return,
            Verdict::Drop(reason, detail) => {
                if context.drop.is_none() {
                    context.drop = Some((reason, detail));
                }
            }
            Verdict::Read => {}
        }
        let el = element.value();
        let name = el.name();
        let names: Vec<String> = el
            .classes()
            .chain(el.id())
            .map(str::to_ascii_lowercase)
            .collect();
        let has = |needles: &[&str]| names.iter().any(|n| needles.iter().any(|x| n.contains(x)));
        if has(&["author", "byline", "tacgia", "tac-gia", "writer"])
            || el.attr("itemprop") == Some("author")
            || el.attr("rel") == Some("author")
        {
            context.byline = true;
        }
        if name == "time"
            || has(&["date", "time", "publish", "ngay-dang", "ngaydang"])
                && !has(&["update-content", "timeline"])
        {
            context.date = true;
        }
        match name {
            "em" | "i" => context.italic = true,
            "strong" | "b" => context.bold = true,
            _ => {}
        }
        if el
            .attr("align")
            .is_some_and(|a| a.eq_ignore_ascii_case("right"))
            || el.attr("style").is_some_and(|s| {
                s.replace(' ', "")
                    .to_ascii_lowercase()
                    .contains("text-align:right")
            })
        {
            context.right = true;
        }
        match name {
            "br" => {
                self.flush();
                return;
            }
            "img" | "picture" => {
                self.image_pending = true;
                return;
            }
            _ => {}
        }
        if name == "tr" && !is_layout_row(element) {
            self.flush();
            let cells: Vec<String> = element
                .child_elements()
                .filter(|c| matches!(c.value().name(), "td" | "th"))
                .map(|c| collapse_spaces(&c.text().collect::<String>()))
                .filter(|t| !t.is_empty())
                .collect();
            if element
                .descendent_elements()
                .any(|e| e.value().name() == "img")
            {
                self.image_pending = true;
            }
            self.context = Some((context, Tag::Row));
            self.buf = cells.join(", ");
            self.flush();
            return;
        }
        let tag = block_tag(name);
        if let Some(tag) = tag {
            self.flush();
            self.context = Some((context.clone(), tag));
        }
        for child in element.children() {
            match child.value() {
                Node::Text(text) => {
                    if self.context.is_none() {
                        self.context = Some((context.clone(), Tag::Paragraph));
                    }
                    let count = text.chars().filter(|c| !c.is_whitespace()).count();
                    let marked = &mut self.marked;
                    for (on, total) in [
                        (context.italic, &mut marked.italic),
                        (context.bold, &mut marked.bold),
                        (context.right, &mut marked.right),
                        (context.date, &mut marked.date),
                        (context.byline, &mut marked.byline),
                        (context.drop.is_some(), &mut marked.drop),
                    ] {
                        if on {
                            *total += count;
                        }
                    }
                    if marked.drop_reason.is_none() {
                        marked.drop_reason = context.drop;
                    }
                    self.buf.push_str(text);
                }
                Node::Element(_) => {
                    if let Some(child) = ElementRef::wrap(child) {
                        self.walk(child, &context);
                    }
                }
                _ => {}
            }
        }
        if tag.is_some() {
            self.flush();
            // Text after a nested block starts a new block of the enclosing
            // element (set by the next text node).
            self.context = None;
        }
    }

    fn flush(&mut self) {
        let text = collapse_spaces(&clean_text(&self.buf));
        let letters = text.chars().filter(|c| !c.is_whitespace()).count().max(1);
        let marked = std::mem::take(&mut self.marked);
        let mostly = |count: usize| count * 10 >= letters * 9;
        let half = |count: usize| count * 2 >= letters;
        if let Some((context, tag)) = &self.context
            && !text.is_empty()
        {
            // Rows are filled from their cells' text, not text nodes.
            let row = *tag == Tag::Row;
            let drop = if row || half(marked.drop) {
                context.drop.or(marked.drop_reason)
            } else {
                None
            };
            self.blocks.push(RawBlock {
                path: context.path.clone(),
                tag: *tag,
                text,
                drop,
                byline: context.byline || half(marked.byline),
                date: context.date || half(marked.date),
                italic: mostly(marked.italic),
                after_image: self.image_pending,
                right_bold: (context.right || mostly(marked.right)) && mostly(marked.bold),
            });
            self.image_pending = false;
        }
        self.buf.clear();
    }
}

/// A row of a table used for page layout (old portals lay pages out in
/// tables) rather than data: it holds other tables, paragraphs or long text.
fn is_layout_row(row: ElementRef<'_>) -> bool {
    row.descendent_elements().skip(1).any(|e| {
        matches!(
            e.value().name(),
            "table" | "p" | "div" | "ul" | "ol" | "h1" | "h2" | "h3" | "article"
        ) && e.text().map(str::len).sum::<usize>() > 80
    }) || row.text().map(str::len).sum::<usize>() > 600
}

/// Title, date and author the page states in its `<head>` and `<time>`.
fn page_meta(document: &Html) -> Meta {
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
fn iso_date(value: &str) -> Option<String> {
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
fn head_title(document: &Html) -> Option<String> {
    let og = document
        .select(&selector(r#"meta[property="og:title"]"#))
        .filter_map(|e| e.value().attr("content"))
        .map(|t| collapse_spaces(&clean_text(t)))
        .find(|t| !t.is_empty());
    og.or_else(|| {
        let title = document.select(&selector("title")).next()?;
        let text = collapse_spaces(&clean_text(&title.text().collect::<String>()));
        let cut = [" - ", " | ", " – "]
            .iter()
            .filter_map(|sep| text.rfind(sep))
            .max()
            .unwrap_or(text.len());
        Some(text[..cut].trim().to_string()).filter(|t| !t.is_empty())
    })
}

/// H-BODY: picks the article's blocks out of every block of the page.
fn article_blocks(raw: Vec<RawBlock>, document: &Html) -> Vec<SourceBlock> {
    if raw.is_empty() {
        return head_title(document)
            .map(|title| vec![SourceBlock::new(0, &title, Hint::Title)])
            .unwrap_or_default();
    }
    let body = body_element(&raw);
    let in_body = |b: &RawBlock| body.is_some_and(|e| b.path.contains(&e));
    let first = raw.iter().position(in_body).unwrap_or(0);
    let last = raw.iter().rposition(in_body).unwrap_or(raw.len() - 1);
    // The headline: the last h1 before the body (a logo may be an h1 too),
    // else one inside it.
    let title_at = raw[..first]
        .iter()
        .rposition(|b| b.tag == Tag::Title && b.drop.is_none())
        .or_else(|| {
            raw[first..=last]
                .iter()
                .position(|b| b.tag == Tag::Title)
                .map(|i| i + first)
        });
    let start = title_at.map_or(first, |t| t.min(first));
    let mut blocks = Vec::new();
    if title_at.is_none()
        && let Some(title) = head_title(document)
    {
        blocks.push(SourceBlock::new(0, &title, Hint::Title));
    }
    let title_text = title_at.map(|t| raw[t].text.clone());
    for (index, block) in raw.iter().enumerate() {
        let number = index + 1;
        if index < start {
            continue;
        }
        if index > last {
            // After the body only the author line still belongs to the article.
            if block.byline && block.drop.is_none() && block.text.split_whitespace().count() <= 12 {
                blocks.push(SourceBlock::new(number, &block.text, Hint::Byline));
            }
            continue;
        }
        let hint = if Some(index) == title_at {
            Hint::Title
        } else if let Some((reason, detail)) = block.drop {
            Hint::Drop { reason, detail }
        } else if block.date && block.text.chars().count() <= 80 && has_date_or_time(&block.text) {
            Hint::Drop {
                reason: DATE.0,
                detail: DATE.1,
            }
        } else if block.byline && block.text.split_whitespace().count() <= 12 {
            Hint::Byline
        } else if block.after_image && block.italic && block.text.split_whitespace().count() <= 60 {
            // H-CAPTION
            Hint::Drop {
                reason: CAPTION.0,
                detail: CAPTION.1,
            }
        } else if title_text.as_deref() == Some(block.text.as_str()) {
            Hint::Drop {
                reason: "duplicate-title",
                detail: "the headline repeated",
            }
        } else if index == last && block.right_bold && block.text.split_whitespace().count() <= 12 {
            Hint::Byline
        } else {
            match block.tag {
                // A lead set as h2 (Dân trí, Tuổi Trẻ) is a paragraph.
                Tag::Title | Tag::Heading if is_lead(&block.text) => Hint::Paragraph,
                Tag::Title | Tag::Heading => Hint::Heading,
                Tag::ListItem => Hint::ListItem,
                Tag::Row => Hint::TableRow,
                Tag::Paragraph => Hint::Paragraph,
            }
        };
        blocks.push(SourceBlock::new(number, &block.text, hint));
    }
    blocks
}

/// A heading element holding a whole sentence or more: a lead, not a heading.
fn is_lead(text: &str) -> bool {
    text.split_whitespace().count() > 15 || text.trim_end().ends_with(['.', '!', '?'])
}

fn has_date_or_time(text: &str) -> bool {
    static DATE_TIME: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\d{1,2}/\d{1,2}(/\d{2,4})?|\d{1,2}[:h]\d{2}|\d{4}-\d{2}-\d{2}")
            .expect("constant pattern")
    });
    DATE_TIME.is_match(text)
}

/// The element whose paragraphs hold the most text (H-BODY): each paragraph
/// scores for its parent and half for its grandparent.
fn body_element(raw: &[RawBlock]) -> Option<usize> {
    let mut scores: std::collections::HashMap<usize, f64> = std::collections::HashMap::new();
    for block in raw {
        if block.drop.is_some() || block.tag != Tag::Paragraph {
            continue;
        }
        let length = block.text.chars().count();
        if length < 25 {
            continue;
        }
        let score =
            1.0 + block.text.matches([',', '.']).count() as f64 + (length as f64 / 100.0).min(3.0);
        let n = block.path.len();
        // The block's own element when it is a paragraph, else its container.
        let parent = block.path.get(n.wrapping_sub(2)).copied();
        let grandparent = block.path.get(n.wrapping_sub(3)).copied();
        if let Some(p) = parent {
            *scores.entry(p).or_default() += score;
        }
        if let Some(g) = grandparent {
            *scores.entry(g).or_default() += score / 2.0;
        }
    }
    scores
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(element, _)| element)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(html: &str) -> Article {
        read(html.as_bytes(), BoilerplateRules::builtin()).unwrap()
    }

    #[test]
    fn finds_the_article_between_menus_and_footer() {
        let article = read_str(
            r#"<html><head><title>Tin - Báo</title><script>var x = "Không đọc.";</script></head><body>
            <nav><a>Thời sự</a><a>Thế giới</a></nav>
            <div class="breadcrumb"><a>Trang chủ</a> › <a>Xã hội</a></div>
            <h1>Hoà giải thành công vụ tranh chấp đất</h1>
            <div class="date">Thứ năm, 29/7/2021, 10:30 (GMT+7)</div>
            <div class="content">
              <p>Chiều 28/7, UBND xã đã tổ chức buổi hòa giải, có đại diện các bên tham dự.</p>
              <figure><img src="a.jpg"><figcaption>Quang cảnh buổi hòa giải.</figcaption></figure>
              <p>Sau hai giờ làm việc, hai gia đình đã thống nhất được ranh giới đất.</p>
              <p class="author">Minh Anh</p>
            </div>
            <div class="related"><h3>Tin liên quan</h3><ul><li><a>Bài khác về đất đai ở xã bên</a></li></ul></div>
            <footer>© 2021 Báo điện tử. Mọi quyền được bảo lưu.</footer>
            </body></html>"#,
        );
        assert_eq!(article.title, "Hòa giải thành công vụ tranh chấp đất");
        assert_eq!(article.published.as_deref(), Some("2021-07-29"));
        assert_eq!(article.byline.as_deref(), Some("Minh Anh"));
        assert_eq!(
            article.text,
            "Hòa giải thành công vụ tranh chấp đất\n\nChiều 28/7, UBND xã đã tổ chức buổi hòa giải, có đại diện các bên tham dự.\n\nSau hai giờ làm việc, hai gia đình đã thống nhất được ranh giới đất."
        );
        let reasons: Vec<&str> = article.dropped.iter().map(|d| d.reason.as_str()).collect();
        assert_eq!(reasons, ["date-line", "photo-caption", "byline"]);
    }

    #[test]
    fn reads_declared_legacy_charset() {
        let page = b"<html><head><meta charset=\"windows-1258\"></head><body><h1>Tin</h1><p>Ho\xE0 bi\xCCnh v\xE0 ph\xE1t tri\xEA\xD2n, \xF0\xFD\xF5\xF2c ng\xFD\xF5\xCCi d\xE2n \xF0\xF3n nh\xE2\xF2n.</p></body></html>";
        let article = read(page, BoilerplateRules::builtin()).unwrap();
        assert_eq!(
            article.blocks[1].text(&article),
            "Hòa bình và phát triển, được người dân đón nhận."
        );
    }
}
