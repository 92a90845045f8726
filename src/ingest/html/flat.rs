//! The page below `<body>` laid out flat in document order, with what each
//! element's subtree holds, so no question about the page recurses on its
//! depth.

use scraper::{ElementRef, Node};

/// The page below `<body>` as a flat list in document order (pre-order), so
/// that the walk and every question about an element's descendants is a loop
/// over an array, never a recursion on the page's depth: a page of 100,000
/// nested elements costs what 100,000 siblings cost.
pub(super) struct FlatTree<'a> {
    pub(super) nodes: Vec<FlatNode<'a>>,
}

pub(super) struct FlatNode<'a> {
    pub(super) kind: FlatKind<'a>,
    /// Index of the parent, `usize::MAX` for the first node.
    pub(super) parent: usize,
    /// One past the last descendant: the subtree is `index..end`.
    pub(super) end: usize,
    /// Bytes of text in the subtree (scripts and styles included, as
    /// `ElementRef::text` counts them).
    pub(super) text_len: usize,
    /// An `h1` in the subtree, this element included.
    pub(super) has_h1: bool,
    /// An `img` in the subtree, this element included.
    pub(super) has_img: bool,
    /// A block element below this one (not itself) holding over 80 bytes of
    /// text: with it a table row is page layout, not data.
    pub(super) block_text_below: bool,
}

pub(super) enum FlatKind<'a> {
    Element(ElementRef<'a>),
    Text(&'a str),
    Other,
}

impl<'a> FlatTree<'a> {
    pub(super) fn new(root: ElementRef<'a>) -> Self {
        let mut index = std::collections::HashMap::new();
        let mut nodes = Vec::new();
        for node in root.descendants() {
            let parent = node
                .parent()
                .and_then(|p| index.get(&p.id()).copied())
                .unwrap_or(usize::MAX);
            index.insert(node.id(), nodes.len());
            let kind = match node.value() {
                Node::Element(_) => {
                    ElementRef::wrap(node).map_or(FlatKind::Other, FlatKind::Element)
                }
                Node::Text(text) => FlatKind::Text(text),
                _ => FlatKind::Other,
            };
            let name = match &kind {
                FlatKind::Element(e) => e.value().name(),
                _ => "",
            };
            nodes.push(FlatNode {
                text_len: match &kind {
                    FlatKind::Text(text) => text.len(),
                    _ => 0,
                },
                has_h1: name == "h1",
                has_img: name == "img",
                block_text_below: false,
                kind,
                parent,
                end: 0,
            });
        }
        // Children come after their parent: one backward pass folds every
        // subtree into its parent.
        for i in (0..nodes.len()).rev() {
            nodes[i].end = nodes[i].end.max(i + 1);
            let parent = nodes[i].parent;
            if parent == usize::MAX {
                continue;
            }
            let child = &nodes[i];
            let layout_block = matches!(
                &child.kind,
                FlatKind::Element(e) if matches!(
                    e.value().name(),
                    "table" | "p" | "div" | "ul" | "ol" | "h1" | "h2" | "h3" | "article"
                )
            ) && child.text_len > 80;
            let (end, text_len, has_h1, has_img, below) = (
                child.end,
                child.text_len,
                child.has_h1,
                child.has_img,
                child.block_text_below || layout_block,
            );
            let parent = &mut nodes[parent];
            parent.end = parent.end.max(end);
            parent.text_len += text_len;
            parent.has_h1 |= has_h1;
            parent.has_img |= has_img;
            parent.block_text_below |= below;
        }
        Self { nodes }
    }

    /// True when `ancestor` is `node` or encloses it.
    pub(super) fn encloses(&self, ancestor: usize, node: usize) -> bool {
        ancestor <= node && node < self.nodes[ancestor].end
    }

    pub(super) fn parent(&self, node: usize) -> Option<usize> {
        self.nodes
            .get(node)
            .map(|n| n.parent)
            .filter(|&p| p != usize::MAX)
    }
}
