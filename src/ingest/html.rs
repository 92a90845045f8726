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
//! - H-DEPTH: a page nesting more than [`MAX_HTML_DEPTH`] elements is refused
//!   before it is parsed (see `depth::check_depth`).
//!
//! The boilerplate rules then run over every kept block, as for plain text.
//!
//! Cost: linear in the page, whatever its shape. The parsed page is laid out
//! flat in document order ([`FlatTree`]); the walk keeps its own stack of open
//! elements and every question about an element's descendants (does it hold
//! an `h1`, an image, how much text) is answered from one backward pass, so
//! nothing recurses on the page's depth and nothing is copied per level.

use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Html, Selector};

mod depth;
mod flat;
mod meta;
mod verdict;

pub use depth::MAX_HTML_DEPTH;

use depth::check_depth;
use flat::{FlatKind, FlatNode, FlatTree};
use meta::{head_title, page_meta};
use verdict::{CAPTION, DATE, Verdict, block_tag, verdict};

use super::blocks::{Hint, SourceBlock, article_from_blocks};
use super::clean::clean_text;
use super::decode::decode_with;
use super::{Article, BoilerplateRules, Format, IngestError, collapse_spaces};

/// Reads a portal page into an article.
///
/// # Errors
/// Decoding errors (see [`super::decode`]), [`IngestError::Empty`] when the
/// page has no text and [`IngestError::NothingToRead`] when only boilerplate
/// is left.
pub(crate) fn read(bytes: &[u8], rules: &BoilerplateRules) -> Result<Article, IngestError> {
    let text = decode_with(bytes, declared_charset(bytes).as_deref())?;
    check_depth(&text)?;
    let document = Html::parse_document(&text);
    let body = document
        .select(&selector("body"))
        .next()
        .unwrap_or(document.root_element());
    let tree = FlatTree::new(body);
    let mut walker = Walker::default();
    walker.walk(&tree);
    walker.flush();
    let meta = page_meta(&document);
    let blocks = article_blocks(walker.blocks, &tree, &document);
    if blocks.iter().all(|b| b.text.is_empty()) {
        return Err(IngestError::Empty);
    }
    article_from_blocks(blocks, rules, Format::Html, meta)
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
    /// The element whose text the block is ([`FlatTree`] index).
    element: usize,
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
    /// The innermost element read ([`FlatTree`] index).
    element: usize,
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
    image_pending: bool,
}

/// An element being read, until the walk passes its `end`.
struct Open {
    end: usize,
    context: Context,
    tag: Option<Tag>,
}

impl Walker {
    /// Reads the blocks of the page in document order with an explicit stack
    /// of open elements (H-SKIP, H-DROP, H-BYLINE marks): linear in the
    /// number of nodes, whatever their depth.
    fn walk(&mut self, tree: &FlatTree<'_>) {
        let mut open: Vec<Open> = Vec::new();
        let mut i = 0;
        while i < tree.nodes.len() {
            while open.last().is_some_and(|o| i >= o.end) {
                let closed = open.pop().expect("checked non-empty");
                self.close(closed.tag);
            }
            let node = &tree.nodes[i];
            match &node.kind {
                FlatKind::Text(text) => {
                    if let Some(outer) = open.last() {
                        self.text(text, &outer.context.clone());
                    }
                    i += 1;
                }
                FlatKind::Other => i = node.end,
                FlatKind::Element(element) => {
                    let outer = open.last().map(|o| o.context.clone()).unwrap_or_default();
                    match self.open(*element, i, node, outer) {
                        Some((context, tag)) => {
                            open.push(Open {
                                end: node.end,
                                context,
                                tag,
                            });
                            i += 1;
                        }
                        None => i = node.end,
                    }
                }
            }
        }
        while let Some(closed) = open.pop() {
            self.close(closed.tag);
        }
    }

    /// Enters an element: its context and block tag when its children are
    /// to be read, `None` when it is skipped or already read whole.
    fn open(
        &mut self,
        element: ElementRef<'_>,
        index: usize,
        node: &FlatNode<'_>,
        outer: Context,
    ) -> Option<(Context, Option<Tag>)> {
        let mut context = outer;
        context.element = index;
        match verdict(element, node.has_h1) {
            Verdict::Skip => return None,
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
                return None;
            }
            "img" | "picture" => {
                self.image_pending = true;
                return None;
            }
            _ => {}
        }
        if name == "tr" && !is_layout_row(node) {
            // A data row is read whole from its cells; the walk does not
            // enter it, so each node is read by at most one row.
            self.flush();
            let cells: Vec<String> = element
                .child_elements()
                .filter(|c| matches!(c.value().name(), "td" | "th"))
                .map(|c| collapse_spaces(&c.text().collect::<String>()))
                .filter(|t| !t.is_empty())
                .collect();
            if node.has_img {
                self.image_pending = true;
            }
            self.context = Some((context, Tag::Row));
            self.buf = cells.join(", ");
            self.flush();
            return None;
        }
        let tag = block_tag(name);
        if let Some(tag) = tag {
            self.flush();
            self.context = Some((context.clone(), tag));
        }
        Some((context, tag))
    }

    /// A text node of the element whose context is `context`.
    fn text(&mut self, text: &str, context: &Context) {
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

    /// Leaves an element read with [`Walker::open`].
    fn close(&mut self, tag: Option<Tag>) {
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
                element: context.element,
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
fn is_layout_row(row: &FlatNode<'_>) -> bool {
    row.block_text_below || row.text_len > 600
}

/// H-BODY: picks the article's blocks out of every block of the page.
fn article_blocks(raw: Vec<RawBlock>, tree: &FlatTree<'_>, document: &Html) -> Vec<SourceBlock> {
    if raw.is_empty() {
        return head_title(document)
            .map(|title| vec![SourceBlock::new(0, &title, Hint::Title)])
            .unwrap_or_default();
    }
    let body = body_element(&raw, tree);
    let in_body = |b: &RawBlock| body.is_some_and(|e| tree.encloses(e, b.element));
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
fn body_element(raw: &[RawBlock], tree: &FlatTree<'_>) -> Option<usize> {
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
        // The block's own element when it is a paragraph, else its container.
        let parent = tree.parent(block.element);
        let grandparent = parent.and_then(|p| tree.parent(p));
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
