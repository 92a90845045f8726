//! Ingestion and segmentation throughput over the shared benchmark corpus
//! (811 Vietnamese Wikipedia articles, `../shared/corpus/articles.jsonl`).
//!
//!     cargo bench --bench ingest [-- CORPUS.jsonl]
//!
//! (without an argument: `shared/corpus/articles.jsonl` beside the repository
//! or two levels up, as in a worktree)
//!
//! Each article is ingested three ways — as plain text, as a portal-like
//! HTML page and as a DOCX built in memory — and the plain-text articles are
//! split into sentences and breath groups. Prints MB/s of input bytes per
//! stage (best of three passes).

use std::io::Write;
use std::time::{Duration, Instant};

use bantin::{ingest, segment};

fn main() {
    // shared/ sits beside the repository (CI) or two levels up (a worktree).
    let path = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .or_else(|| {
            ["../shared", "../../shared"]
                .iter()
                .map(|up| format!("{}/{up}/corpus/articles.jsonl", env!("CARGO_MANIFEST_DIR")))
                .find(|p| std::path::Path::new(p).exists())
        })
        .expect("pass the corpus path: cargo bench --bench ingest -- CORPUS.jsonl");
    let corpus = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let articles: Vec<(String, String)> = corpus
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            (
                v["title"].as_str().unwrap_or_default().to_string(),
                v["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let texts: Vec<Vec<u8>> = articles
        .iter()
        .map(|(t, body)| format!("{t}\n\n{body}\n").into_bytes())
        .collect();
    let pages: Vec<Vec<u8>> = articles.iter().map(|(t, b)| page(t, b)).collect();
    let docs: Vec<Vec<u8>> = articles.iter().map(|(t, b)| docx(t, b)).collect();
    println!("corpus: {path} ({} articles)", articles.len());

    let parsed: Vec<ingest::Article> = texts
        .iter()
        .filter_map(|b| ingest::read(b, None).ok())
        .collect();
    report("ingest text", bytes(&texts), || {
        for b in &texts {
            let _ = std::hint::black_box(ingest::read(b, None));
        }
    });
    report("ingest html", bytes(&pages), || {
        for b in &pages {
            let _ = std::hint::black_box(ingest::read(b, None));
        }
    });
    report("ingest docx", bytes(&docs), || {
        for b in &docs {
            let _ = std::hint::black_box(ingest::read(b, None));
        }
    });
    let text_bytes: usize = parsed.iter().map(|a| a.text.len()).sum();
    let mut sentences = 0;
    report("segment sentences", text_bytes, || {
        sentences = parsed.iter().map(|a| segment::split(a).len()).sum();
    });
    report("segment + breath groups (40)", text_bytes, || {
        for article in &parsed {
            for s in segment::split(article) {
                std::hint::black_box(segment::breath_groups(&article.text, s.span, 40));
            }
        }
    });
    println!("sentences: {sentences}");
}

fn bytes(items: &[Vec<u8>]) -> usize {
    items.iter().map(Vec::len).sum()
}

fn report(name: &str, size: usize, mut run: impl FnMut()) {
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        run();
        best = best.min(start.elapsed());
    }
    println!(
        "{name:32} {:8.1} MB/s  ({:.2} MB in {:.3} s)",
        size as f64 / 1e6 / best.as_secs_f64(),
        size as f64 / 1e6,
        best.as_secs_f64()
    );
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The article in a portal-like page: menu, headline, date, body, footer.
fn page(title: &str, body: &str) -> Vec<u8> {
    let mut html = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{t} - Báo</title><script>var a=1;</script></head><body><nav class=\"menu\"><a>Trang chủ</a><a>Thời sự</a></nav><h1>{t}</h1><div class=\"date\">Thứ năm, 29/7/2021</div><div class=\"content\">",
        t = escape(title)
    );
    for paragraph in body.split("\n\n") {
        html.push_str("<p>");
        html.push_str(&escape(paragraph));
        html.push_str("</p>\n");
    }
    html.push_str(
        "</div><div class=\"related\"><a>Tin khác</a></div><footer>© Báo</footer></body></html>",
    );
    html.into_bytes()
}

/// The article as a minimal Word document.
fn docx(title: &str, body: &str) -> Vec<u8> {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>",
    );
    for paragraph in std::iter::once(title).chain(body.split("\n\n")) {
        xml.push_str("<w:p><w:r><w:t xml:space=\"preserve\">");
        xml.push_str(&escape(paragraph));
        xml.push_str("</w:t></w:r></w:p>");
    }
    xml.push_str("</w:body></w:document>");
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("word/document.xml", options)
        .expect("zip entry");
    zip.write_all(xml.as_bytes()).expect("zip write");
    zip.finish().expect("zip finish");
    out.into_inner()
}
