//! H-DEPTH: a page nesting too deep is refused before it is parsed.

use super::IngestError;

/// Most elements a page may hold open at once. News pages nest a few dozen
/// deep; the HTML parser checks its stack of open elements at every tag, so a
/// page nested thousands deep would take time in the square of its depth.
/// Chromium stops nesting at 512; a page past this limit is refused.
pub const MAX_HTML_DEPTH: usize = 256;

/// H-DEPTH: refuses a page nesting more than [`MAX_HTML_DEPTH`] elements, by
/// a scan of its tags that mirrors how the parser opens and closes them
/// (void elements, elements whose end tag is optional, raw text, comments,
/// self-closing tags inside SVG and MathML). One pass, and each end tag looks
/// at most [`MAX_HTML_DEPTH`] open elements: linear in the page.
pub(super) fn check_depth(text: &str) -> Result<(), IngestError> {
    const VOID: [&str; 16] = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "param", "keygen", "frame",
    ];
    // Closed by their next sibling or parent: never counted as open.
    const OPTIONAL_END: [&str; 17] = [
        "p", "li", "dt", "dd", "option", "optgroup", "rp", "rt", "tr", "td", "th", "tbody",
        "thead", "tfoot", "colgroup", "html", "body",
    ];
    const RAW: [&str; 9] = [
        "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
    ];
    let bytes = text.as_bytes();
    let find = |from: usize, needle: &[u8]| -> usize {
        bytes[from.min(bytes.len())..]
            .windows(needle.len())
            .position(|w| w.eq_ignore_ascii_case(needle))
            .map_or(bytes.len(), |p| from + p + needle.len())
    };
    let mut open: Vec<String> = Vec::new();
    let mut foreign = 0usize;
    let mut i = 0;
    while let Some(lt) = memchr_lt(bytes, i) {
        i = lt + 1;
        if bytes[i..].starts_with(b"!--") {
            i = find(i + 3, b"-->");
            continue;
        }
        let end_tag = bytes.get(i) == Some(&b'/');
        let name_start = i + usize::from(end_tag);
        if !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
            // `<!doctype`, `<?xml`, or a bare `<` in text.
            if matches!(bytes.get(i), Some(b'!' | b'?')) {
                i = find(i, b">");
            }
            continue;
        }
        let name_end = bytes[name_start..]
            .iter()
            .position(|b| b.is_ascii_whitespace() || matches!(b, b'/' | b'>'))
            .map_or(bytes.len(), |p| name_start + p);
        let name = text[name_start..name_end].to_ascii_lowercase();
        // The end of the tag, past quoted attribute values.
        let mut quote = None;
        let mut j = name_end;
        while j < bytes.len() {
            match (quote, bytes[j]) {
                (None, b'"' | b'\'') => quote = Some(bytes[j]),
                (Some(q), b) if b == q => quote = None,
                (None, b'>') => break,
                _ => {}
            }
            j += 1;
        }
        let self_closing = j > name_end && bytes[j - 1] == b'/';
        i = (j + 1).min(bytes.len());
        if end_tag {
            if let Some(at) = open.iter().rposition(|n| *n == name) {
                foreign -= open[at..]
                    .iter()
                    .filter(|n| matches!(n.as_str(), "svg" | "math"))
                    .count();
                open.truncate(at);
            }
            continue;
        }
        if RAW.contains(&name.as_str()) {
            if !self_closing || foreign == 0 {
                i = find(i, format!("</{name}").as_bytes());
            }
            continue;
        }
        if VOID.contains(&name.as_str())
            || OPTIONAL_END.contains(&name.as_str())
            || name == "head"
            || self_closing && foreign > 0
        {
            continue;
        }
        if matches!(name.as_str(), "svg" | "math") {
            foreign += 1;
        }
        // An `a` (`nobr`, `button`) inside another closes it.
        if matches!(name.as_str(), "a" | "nobr" | "button")
            && let Some(at) = open.iter().rposition(|n| *n == name)
        {
            foreign -= open[at..]
                .iter()
                .filter(|n| matches!(n.as_str(), "svg" | "math"))
                .count();
            open.truncate(at);
        }
        open.push(name);
        if open.len() > MAX_HTML_DEPTH {
            return Err(IngestError::TooDeep {
                limit: MAX_HTML_DEPTH,
            });
        }
    }
    Ok(())
}

pub(super) fn memchr_lt(bytes: &[u8], from: usize) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|&b| b == b'<')
        .map(|p| from + p)
}
