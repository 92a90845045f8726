//! Word DOCX: a zip holding WordprocessingML. Reads the main document part
//! only (headers, footers, footnotes, endnotes and comments live in other
//! parts and are never read), joins runs split mid-word, takes headings from
//! paragraph styles (`styles.xml` names them, also in localized Word), reads
//! tables row by row, skips deleted text, field codes and drawings.
//!
//! Zip input is untrusted: the entry count and each part's size are limited,
//! checking both the size the zip declares and the bytes actually inflated
//! (a zip bomb lies in its header). The XML is read as a stream of events
//! with depth counters, never built into a tree: linear in the part and
//! indifferent to how deep its elements nest.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::blocks::{Hint, Meta, SourceBlock, article_from_blocks};
use super::clean::clean_text;
use super::decode::refuse_font_encodings;
use super::{Article, BoilerplateRules, Format, IngestError};

/// Largest part (inflated) read from a DOCX. A long article's document.xml is
/// well under a megabyte.
pub const MAX_PART_BYTES: u64 = 16 * 1024 * 1024;

/// Most entries a DOCX may hold; Word writes a dozen or two.
pub const MAX_ZIP_ENTRIES: usize = 2000;

/// Reads a DOCX into an article.
///
/// # Errors
/// [`IngestError::NotDocx`] for a file that is not a zip or has no document
/// part, [`IngestError::ZipBomb`] for a part past [`MAX_PART_BYTES`], and the
/// errors of [`article_from_blocks`].
pub(crate) fn read(bytes: &[u8], rules: &BoilerplateRules) -> Result<Article, IngestError> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| IngestError::NotDocx {
            reason: format!("not a zip archive ({e})"),
        })?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(IngestError::NotDocx {
            reason: format!(
                "{} entries in the zip; a Word file has far fewer than {MAX_ZIP_ENTRIES}",
                archive.len()
            ),
        });
    }
    let main = main_part(&mut archive)?;
    let document = part(&mut archive, &main)?.ok_or_else(|| IngestError::NotDocx {
        reason: format!("the zip has no {main} (is it a Word document?)"),
    })?;
    let styles = match part(&mut archive, "word/styles.xml")? {
        Some(xml) => heading_styles(&xml),
        None => HashMap::new(),
    };
    let mut paragraphs = paragraphs(&document, &styles)?;
    // A short right-aligned last paragraph is the reporter's name.
    if let Some(last) = paragraphs.last_mut()
        && last.right
        && last.text.split_whitespace().count() <= 12
    {
        last.hint = Hint::Byline;
    }
    let all: String = paragraphs
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    refuse_font_encodings(&all)?;
    let blocks = paragraphs
        .into_iter()
        .enumerate()
        .map(|(index, p)| SourceBlock::new(index + 1, &clean_text(&p.text), p.hint))
        .collect();
    article_from_blocks(blocks, rules, Format::Docx, Meta::default())
}

type Archive<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

/// The main document part named by the package relationships (Word always
/// writes `word/document.xml`, other writers may not).
fn main_part(archive: &mut Archive<'_>) -> Result<String, IngestError> {
    let Some(rels) = part(archive, "_rels/.rels")? else {
        return Ok("word/document.xml".to_string());
    };
    let mut reader = Reader::from_str(&rels);
    loop {
        match reader.read_event() {
            Ok(Event::Empty(e) | Event::Start(e)) if e.local_name().as_ref() == "Relationship" => {
                let kind = attr(&e, "Type").unwrap_or_default();
                if kind.ends_with("/officeDocument")
                    && let Some(target) = attr(&e, "Target")
                {
                    return Ok(target.trim_start_matches('/').to_string());
                }
            }
            Ok(Event::Eof) | Err(_) => return Ok("word/document.xml".to_string()),
            _ => {}
        }
    }
}

/// One part as text, `None` when absent. Refuses parts that inflate past the
/// limit, whatever their header says.
fn part(archive: &mut Archive<'_>, name: &str) -> Result<Option<String>, IngestError> {
    let file = match archive.by_name(name) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => {
            return Err(IngestError::NotDocx {
                reason: format!("cannot open {name} ({e})"),
            });
        }
    };
    let declared = file.size();
    let bomb = || IngestError::ZipBomb {
        part: name.to_string(),
        declared,
        limit: MAX_PART_BYTES,
    };
    if declared > MAX_PART_BYTES {
        return Err(bomb());
    }
    let mut bytes = Vec::new();
    file.take(MAX_PART_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| IngestError::NotDocx {
            reason: format!("cannot inflate {name} ({e})"),
        })?;
    if bytes.len() as u64 > MAX_PART_BYTES {
        return Err(bomb());
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| IngestError::NotDocx {
            reason: format!("{name} is not UTF-8 XML"),
        })
}

fn attr(e: &BytesStart<'_>, local: &str) -> Option<String> {
    e.attributes().flatten().find_map(|a| {
        (a.key.local_name().as_ref() == local)
            .then(|| {
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .ok()
                    .map(|v| v.into_owned())
            })
            .flatten()
    })
}

/// What a paragraph style makes of its paragraphs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StyleKind {
    Title,
    Heading,
    ListItem,
    Caption,
}

/// Style ids whose names (or outline levels) make headings. Localized Word
/// gives styles ids like `u1` but keeps the English name `heading 1`.
fn heading_styles(xml: &str) -> HashMap<String, StyleKind> {
    let mut styles = HashMap::new();
    let mut reader = Reader::from_str(xml);
    let mut current: Option<String> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if e.local_name().as_ref() == "style" => {
                current = attr(&e, "styleId");
            }
            Ok(Event::End(e)) if e.local_name().as_ref() == "style" => current = None,
            Ok(Event::Empty(e)) => {
                let Some(id) = &current else { continue };
                match e.local_name().as_ref() {
                    "name" => {
                        if let Some(kind) = attr(&e, "val").and_then(|n| style_kind(&n)) {
                            styles.insert(id.clone(), kind);
                        }
                    }
                    "outlineLvl" => {
                        styles.entry(id.clone()).or_insert(StyleKind::Heading);
                    }
                    _ => {}
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    styles
}

fn style_kind(name: &str) -> Option<StyleKind> {
    let name = name.to_ascii_lowercase();
    if name == "title" {
        Some(StyleKind::Title)
    } else if name.starts_with("heading") || name == "subtitle" {
        Some(StyleKind::Heading)
    } else if name.starts_with("list") {
        Some(StyleKind::ListItem)
    } else if name == "caption" {
        Some(StyleKind::Caption)
    } else {
        None
    }
}

/// A paragraph (or table row) of the document body.
struct Paragraph {
    text: String,
    hint: Hint,
    /// Right-aligned: where Word users put the reporter's name.
    right: bool,
}

/// Parser state inside `w:body`.
#[derive(Default)]
struct State {
    text: String,
    style: Option<StyleKind>,
    numbered: bool,
    right: bool,
    /// Non-space characters in bold runs, and in all runs.
    bold_chars: usize,
    chars: usize,
    run_bold: bool,
    in_run_properties: bool,
    /// Inside `w:pPr`, whose `w:tabs/w:tab` are tab stops, not tabs.
    in_paragraph_properties: bool,
    in_text: bool,
    /// Depth inside content never read: deleted text, field codes, drawings,
    /// the fallback copy of alternate content.
    skip_depth: usize,
    table_depth: usize,
    row_cells: Vec<String>,
    cell: String,
}

const SKIPPED: [&str; 7] = [
    "del",
    "instrText",
    "drawing",
    "pict",
    "Fallback",
    "footnoteReference",
    "object",
];

fn paragraphs(
    xml: &str,
    styles: &HashMap<String, StyleKind>,
) -> Result<Vec<Paragraph>, IngestError> {
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    let mut s = State::default();
    loop {
        let event = reader.read_event().map_err(|e| IngestError::NotDocx {
            reason: format!("the document XML is broken ({e})"),
        })?;
        match event {
            Event::Start(e) => {
                let name = e.local_name();
                let name = name.as_ref();
                if s.skip_depth > 0 || SKIPPED.contains(&name) {
                    s.skip_depth += 1;
                    continue;
                }
                match name {
                    "p" => {
                        s.text.clear();
                        s.style = None;
                        s.numbered = false;
                        s.right = false;
                        s.bold_chars = 0;
                        s.chars = 0;
                    }
                    "r" => s.run_bold = false,
                    "rPr" => s.in_run_properties = true,
                    "pPr" => s.in_paragraph_properties = true,
                    "t" => s.in_text = true,
                    "tbl" => s.table_depth += 1,
                    "tr" if s.table_depth == 1 => s.row_cells.clear(),
                    "tc" if s.table_depth == 1 => s.cell.clear(),
                    _ => {}
                }
            }
            Event::Empty(e) => {
                if s.skip_depth > 0 {
                    continue;
                }
                match e.local_name().as_ref() {
                    "pStyle" => {
                        s.style = attr(&e, "val")
                            .and_then(|id| styles.get(&id).copied().or_else(|| style_kind(&id)));
                    }
                    "numPr" => s.numbered = true,
                    "jc" if s.in_paragraph_properties => {
                        s.right = matches!(attr(&e, "val").as_deref(), Some("right" | "end"));
                    }
                    "b" if s.in_run_properties => {
                        s.run_bold =
                            !matches!(attr(&e, "val").as_deref(), Some("0" | "false" | "off"));
                    }
                    "tab" if !s.in_run_properties && !s.in_paragraph_properties => {
                        s.text.push('\t')
                    }
                    "br" | "cr" => s.text.push('\n'),
                    "noBreakHyphen" => s.text.push('-'),
                    _ => {}
                }
            }
            Event::Text(t) if s.in_text && s.skip_depth == 0 => {
                push_text(&mut s, &t.xml_content(quick_xml::XmlVersion::Implicit1_0));
            }
            Event::GeneralRef(r) if s.in_text && s.skip_depth == 0 => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match &*r {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                };
                if let Some(c) = c {
                    push_text(&mut s, c.encode_utf8(&mut [0; 4]));
                }
            }
            Event::End(e) => {
                let name = e.local_name();
                let name = name.as_ref();
                if s.skip_depth > 0 {
                    s.skip_depth -= 1;
                    continue;
                }
                match name {
                    "t" => s.in_text = false,
                    "rPr" => s.in_run_properties = false,
                    "pPr" => s.in_paragraph_properties = false,
                    "p" if s.table_depth > 0 => {
                        if !s.cell.is_empty() {
                            s.cell.push(' ');
                        }
                        s.cell.push_str(&s.text);
                        s.text.clear();
                    }
                    "p" => finish_paragraph(&mut s, &mut out),
                    "tc" if s.table_depth == 1 => {
                        let cell = super::collapse_spaces(&s.cell);
                        if !cell.is_empty() {
                            s.row_cells.push(cell);
                        }
                    }
                    "tr" if s.table_depth == 1 && !s.row_cells.is_empty() => {
                        out.push(Paragraph {
                            text: s.row_cells.join(", "),
                            hint: Hint::TableRow,
                            right: false,
                        });
                    }
                    "tbl" => s.table_depth = s.table_depth.saturating_sub(1),
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

fn push_text(s: &mut State, text: &str) {
    let count = text.chars().filter(|c| !c.is_whitespace()).count();
    s.chars += count;
    if s.run_bold {
        s.bold_chars += count;
    }
    s.text.push_str(text);
}

/// Ends a body paragraph; line breaks inside it (Shift+Enter) become
/// separate blocks, as they are separate lines on the page.
fn finish_paragraph(s: &mut State, out: &mut Vec<Paragraph>) {
    let all_bold = s.chars > 0 && s.bold_chars == s.chars;
    for line in s.text.split('\n') {
        if line.trim().is_empty() {
            continue;
        }
        let hint = match s.style {
            Some(StyleKind::Title) => Hint::Title,
            Some(StyleKind::Heading) => Hint::Heading,
            Some(StyleKind::Caption) => Hint::Drop {
                reason: "photo-caption",
                detail: "photo or its caption",
            },
            Some(StyleKind::ListItem) => Hint::ListItem,
            None if s.numbered => Hint::ListItem,
            // A short paragraph set wholly in bold is a heading (reporters
            // rarely use heading styles); a long bold one is the lead.
            None if all_bold && line.split_whitespace().count() <= 15 => Hint::Auto,
            None => Hint::Paragraph,
        };
        out.push(Paragraph {
            text: line.to_string(),
            hint,
            right: s.right,
        });
    }
    s.text.clear();
}
