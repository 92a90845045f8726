//! Hostile and careless input through the real CLI (`bantin script FILE`):
//! deep nesting, zips with odd entries, long runs without punctuation, huge
//! tokens, control and bidi characters, NULs and every encoding edge. Each
//! case must end without a signal, either with exit 0 or with one line of
//! error naming what is wrong (the class of error is checked).
//!
//! Small cases live in `tests/fixtures/hostile/` (made by `make_hostile.py`),
//! large ones are built here at run time; inputs stay near 1 MB or under so
//! the test is quick. Inputs saved by the fuzzers are replayed from
//! `tests/fixtures/hostile/crashes/`. A seeded mutation run over the same
//! corpus calls the fuzz targets' entry functions directly, bounded in count.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;

use bantin::ingest;

use bantin::config::Config;
use bantin::store::{Scope, Store};

use crate::util::{TestServer, bantin, repo, request};

#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Exit 0 with a script on stdout.
    Read,
    /// A one-line error containing this text.
    Refused(&'static str),
    /// Either, as long as it ends cleanly (fuzz finds, mutations).
    Either,
}

struct Case {
    name: String,
    bytes: Vec<u8>,
    expect: Expect,
}

fn case(name: &str, bytes: impl Into<Vec<u8>>, expect: Expect) -> Case {
    Case {
        name: name.to_string(),
        bytes: bytes.into(),
        expect,
    }
}

fn hostile_dir() -> PathBuf {
    repo().join("tests/fixtures/hostile")
}

const PARAGRAPH: &str =
    "Chiều 28/7, UBND xã đã tổ chức buổi hòa giải, có đại diện các bên tham dự.";

fn html(body: &str) -> Vec<u8> {
    format!("<!DOCTYPE html><html><head><title>Tin</title></head><body><h1>Tin thử</h1>{body}</body></html>").into_bytes()
}

fn nested(open: &str, close: &str, depth: usize) -> Vec<u8> {
    html(&format!(
        "{}<p>{PARAGRAPH}</p>{}",
        open.repeat(depth),
        close.repeat(depth)
    ))
}

/// A zip holding `entries` (name, bytes), stored uncompressed unless `deflate`.
fn zip(entries: &[(String, Vec<u8>)], deflate: bool) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(if deflate {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        })
        .large_file(false);
    for (name, bytes) in entries {
        writer.start_file(name.as_str(), options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn docx(document_xml: String) -> Vec<u8> {
    zip(
        &[("word/document.xml".to_string(), document_xml.into_bytes())],
        true,
    )
}

fn word_paragraph(text: &str) -> String {
    format!("<w:p><w:r><w:t>{text}</w:t></w:r></w:p>")
}

fn word_document(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{}{body}</w:body></w:document>"#,
        word_paragraph("Tin thử")
    )
}

fn article(body: &str) -> Vec<u8> {
    format!("Tin thử\n\n{body}\n").into_bytes()
}

/// Every case built at run time, near 1 MB at most.
fn built_cases() -> Vec<Case> {
    use Expect::*;
    let deep = "nests its elements";
    let limit = "more than the limit";
    let mut cases = vec![
        // Nesting.
        case("deep-div-5000.html", nested("<div>", "</div>", 5_000), Refused(deep)),
        case("deep-div-100000.html", nested("<div>", "</div>", 100_000), Refused(deep)),
        case("deep-div-unclosed-100000.html", html(&format!("{}<p>{PARAGRAPH}</p>", "<div>".repeat(100_000))), Refused(deep)),
        case("deep-span-div-200.html", nested("<div><span>", "</span></div>", 100), Read),
        case("deep-b-unclosed-100000.html", html(&format!("{}{PARAGRAPH}", "<b>".repeat(100_000))), Refused(deep)),
        case("deep-table-20000.html", nested("<table><tr><td>", "</td></tr></table>", 20_000), Refused(deep)),
        case("deep-list-30000.html", nested("<ul><li>", "</li></ul>", 30_000), Refused(deep)),
        case("deep-header-30000.html", nested("<header>", "</header>", 30_000), Refused(deep)),
        case("deep-svg-self-closing.html", html(&format!("<svg>{}</svg><p>{PARAGRAPH}</p>", "<path d=\"M0 0\"/>".repeat(20_000))), Read),
        case("siblings-p-unclosed-50000.html", html(&format!("<p>{PARAGRAPH}").repeat(12_000)), Read),
        case("siblings-div-100000.html", html(&format!("{}<p>{PARAGRAPH}</p>", "<div></div>".repeat(80_000))), Read),
        case("formatting-misnested-50000.html", html(&format!("{}<p>{PARAGRAPH}</p>", "<b><i></b></i>".repeat(50_000))), Read),
        case("anchors-unclosed-50000.html", html(&format!("{}<p>{PARAGRAPH}</p>", "<a href=x>a".repeat(50_000))), Refused(limit)),
        case("comment-unclosed.html", html(&format!("<p>{PARAGRAPH}</p><!-- {}", "x".repeat(500_000))), Read),
        case("attribute-quote-unclosed.html", html(&format!("<p>{PARAGRAPH}</p><div class=\"{}", "y".repeat(500_000))), Read),
        case("og-title-huge.html", format!("<html><head><meta property=\"og:title\" content=\"{}\"></head><body><div><p>{PARAGRAPH}</p></div></body></html>", "Tiêu đề ".repeat(60_000)).into_bytes(), Read),
        case("deep-docx-sdt-100000.docx", docx(word_document(&format!("{}{}{}", "<w:sdt><w:sdtContent>".repeat(100_000), word_paragraph(PARAGRAPH), "</w:sdtContent></w:sdt>".repeat(100_000)))), Read),
        case("deep-docx-table-50000.docx", docx(word_document(&format!("{}{}{}", "<w:tbl><w:tr><w:tc>".repeat(50_000), word_paragraph(PARAGRAPH), "</w:tc></w:tr></w:tbl>".repeat(50_000)))), Either),
        case("deep-docx-unclosed.docx", docx(word_document(&"<w:p><w:r>".repeat(100_000))), Refused("not a valid DOCX")),
        case("docx-many-paragraphs.docx", docx(word_document(&word_paragraph(PARAGRAPH).repeat(5_000))), Read),
        // Zips.
        case("zip-many-entries.docx", zip(&(0..2_100).map(|i| (format!("f{i}"), Vec::new())).collect::<Vec<_>>(), false), Refused("entries")),
        case("zip-deep-entry-name.docx", zip(&[("a/".repeat(30_000), b"x".to_vec())], false), Refused("not a valid DOCX")),
        case("zip-huge-entry.docx", zip(&[("word/document.xml".to_string(), vec![b' '; 20 * 1024 * 1024])], true), Refused("zip bomb")),
        case("zip-document-binary.docx", zip(&[("word/document.xml".to_string(), vec![0xFF; 1000])], true), Refused("not a valid DOCX")),
        // Long runs and huge tokens.
        case("digits-128k.txt", article(&"1".repeat(128 * 1024)), Refused(limit)),
        case("digits-1m.txt", article(&"9".repeat(1024 * 1024)), Refused(limit)),
        case("no-punctuation-1m.txt", article(&"tin tức hôm nay ".repeat(1024 * 1024 / 20)), Refused(limit)),
        case("btv-800k.txt", article(&"BTV ".repeat(200_000)), Refused(limit)),
        case("one-line-1m.txt", "chữ ".repeat(1024 * 1024 / 6).into_bytes(), Refused(limit)),
        case("huge-token-500k.txt", article(&"a".repeat(500_000)), Either),
        case("huge-token-vietnamese-500k.txt", article(&"ờ".repeat(160_000)), Either),
        // Repeats of one line are dropped as duplicates: only the title is left.
        case("many-short-lines.txt", article(&"Câu.\n".repeat(150_000)), Read),
        // Just under the limits, every stage must stay linear.
        case("digits-under-limit.txt", article(&format!("{}\n\n", "1".repeat(999)).repeat(150)), Read),
        case("no-punctuation-under-limit.txt", article(&format!("{}\n\n", "tin tức hôm nay ".repeat(2_400)).repeat(5)), Read),
        case("btv-under-limit.txt", article(&format!("{}\n\n", "BTV ".repeat(9_000)).repeat(5)), Read),
        case("many-short-lines-under-limit.txt", article(&(1..4_900).map(|i| format!("Câu {i}.\n\n")).collect::<String>()), Read),
        case("many-blank-lines.txt", article(&format!("{}{PARAGRAPH}", "\n \n".repeat(300_000))), Read),
        case("many-dropped-lines.txt", article(&format!("{PARAGRAPH}\n{}", "© 2016 Copyright by VNPT.\n".repeat(30_000))), Read),
    ];
    cases.retain(|c| c.bytes.len() <= 1_300_000 || c.name.starts_with("zip-huge"));
    cases
}

/// Small cases, kept as files under `tests/fixtures/hostile/` (see
/// `make_hostile.py`), with what each must give.
const FIXTURES: &[(&str, Expect)] = &[
    ("bidi-controls.txt", Expect::Read),
    ("bidi-controls.html", Expect::Read),
    ("c0-controls.txt", Expect::Refused("binary")),
    ("c1-controls.txt", Expect::Read),
    ("nul-bytes.txt", Expect::Refused("binary")),
    ("nul-only.txt", Expect::Refused("binary")),
    ("empty.txt", Expect::Refused("empty")),
    ("spaces-only.txt", Expect::Refused("empty")),
    ("utf8-bom.txt", Expect::Read),
    ("utf8-bom-only.txt", Expect::Refused("empty")),
    ("utf16le-bom.txt", Expect::Read),
    ("utf16be-bom.txt", Expect::Read),
    ("utf16le-no-bom.txt", Expect::Read),
    ("utf16be-no-bom.txt", Expect::Read),
    ("utf16le-bom.html", Expect::Read),
    (
        "utf16-bom-odd-length.txt",
        Expect::Refused("byte-order mark"),
    ),
    (
        "utf16-bom-lone-surrogate.txt",
        Expect::Refused("byte-order mark"),
    ),
    (
        "utf16-bom-then-8bit.txt",
        Expect::Refused("byte-order mark"),
    ),
    ("utf8-overlong.txt", Expect::Refused("UTF-8")),
    ("utf8-surrogate.txt", Expect::Refused("UTF-8")),
    ("utf8-truncated.txt", Expect::Refused("UTF-8")),
    ("windows-1258.txt", Expect::Read),
    ("vni-as-utf8.txt", Expect::Refused("VNI")),
    ("tcvn3-as-utf8.txt", Expect::Refused("TCVN3")),
    ("pdf-signature.txt", Expect::Refused("PDF")),
    ("html-charset-utf16.html", Expect::Either),
    ("html-charset-bogus.html", Expect::Read),
    ("zero-width-only.txt", Expect::Refused("empty")),
    (
        "combining-marks-run.txt",
        Expect::Refused("more than the limit"),
    ),
];

fn run_script(dir: &Path, name: &str, bytes: &[u8]) -> Output {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let output = bantin()
        .args(["script", "--format", "json"])
        .arg(&path)
        .output()
        .expect("bantin runs");
    std::fs::remove_file(&path).unwrap();
    output
}

/// What is wrong with the run of one case, if anything.
fn check(name: &str, expect: Expect, output: &Output) -> Option<String> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let Some(code) = output.status.code() else {
        return Some(format!("{name}: killed by a signal ({})", output.status));
    };
    let one_line = stderr.trim().lines().count() == 1;
    let short = stderr.len() <= 1000;
    match (expect, code) {
        (Expect::Read | Expect::Either, 0) => {
            let script: serde_json::Value = match serde_json::from_slice(&output.stdout) {
                Ok(script) => script,
                Err(e) => return Some(format!("{name}: exit 0 without a JSON script ({e})")),
            };
            let title = script["title"].as_str().unwrap_or_default();
            if title.chars().count() > ingest::MAX_TITLE_CHARS {
                return Some(format!("{name}: title of {} chars", title.chars().count()));
            }
            let text = String::from_utf8_lossy(&output.stdout);
            if let Some(c) = text.chars().find(|&c| is_bidi(c)) {
                return Some(format!("{name}: U+{:04X} left in the script", c as u32));
            }
            None
        }
        (Expect::Refused(_), 0) => Some(format!("{name}: read, expected a refusal")),
        (Expect::Read, _) => Some(format!("{name}: refused (exit {code}): {stderr}")),
        (_, _) if !one_line || !short => Some(format!(
            "{name}: exit {code} without one short line of error: {}",
            &stderr[..stderr.len().min(500)]
        )),
        (Expect::Refused(needle), _) if !stderr.contains(needle) => {
            Some(format!("{name}: error lacks {needle:?}: {}", stderr.trim()))
        }
        _ => None,
    }
}

fn is_bidi(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Runs every case; `HOSTILE_ONLY=name,…` runs just those, and each case's time is printed (seen
/// with `--nocapture`; speed is measured, never asserted).
fn run_all(cases: Vec<Case>) {
    let only = std::env::var("HOSTILE_ONLY").ok();
    let chosen = |name: &str| match &only {
        Some(list) => list.split(',').any(|n| n == name),
        None => true,
    };
    let dir = tempfile::tempdir().unwrap();
    let failures: Vec<String> = cases
        .into_iter()
        .filter(|c| chosen(&c.name))
        .filter_map(|c| {
            let start = std::time::Instant::now();
            let output = run_script(dir.path(), &c.name, &c.bytes);
            eprintln!(
                "{:>8.2} s  {} ({} bytes)",
                start.elapsed().as_secs_f64(),
                c.name,
                c.bytes.len()
            );
            check(&c.name, c.expect, &output)
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn hostile_built_inputs_end_cleanly_through_the_cli() {
    run_all(built_cases());
}

#[test]
fn hostile_fixtures_end_cleanly_through_the_cli() {
    run_all(fixture_cases());
}

fn fixture_cases() -> Vec<Case> {
    FIXTURES
        .iter()
        .map(|&(name, expect)| {
            let bytes = std::fs::read(hostile_dir().join(name))
                .unwrap_or_else(|e| panic!("{name}: {e} (run make_hostile.py)"));
            case(name, bytes, expect)
        })
        .collect()
}

/// Every hostile case uploaded to the real server: an article it reads is
/// stored (201) and its review and script are then served (200); one it
/// refuses gets a 4xx whose JSON detail names the same problem as the CLI.
/// No 5xx, and the server still answers at the end.
#[test]
fn hostile_inputs_uploaded_to_the_server_get_201_or_the_right_4xx() {
    let dir = tempfile::tempdir().unwrap();
    let token = Store::open(dir.path())
        .unwrap()
        .add_token("editor", Scope::Editor)
        .unwrap()
        .1;
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    // What is checked is the answer, not its speed: a loaded machine must
    // not turn a slow review into a 408.
    config.limits.request_timeout = std::time::Duration::from_secs(600);
    let server = TestServer::start(dir.path(), config, None);
    let url = &server.url;
    let mut cases = built_cases();
    cases.extend(fixture_cases());
    cases.extend(crash_inputs());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| upload_check(url, &token, c))
        .collect();
    assert_eq!(
        request("GET", &format!("{url}/healthz"), None, &[], None).status,
        200
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What is wrong with the server's answers to one case, if anything.
fn upload_check(url: &str, token: &str, c: &Case) -> Option<String> {
    let name = &c.name;
    let content_type = match name.rsplit('.').next() {
        Some("html") => "text/html",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => "text/plain",
    };
    let disposition = format!("attachment; filename=\"{name}\"");
    let reply = request(
        "POST",
        &format!("{url}/api/articles"),
        Some(token),
        &[
            ("Content-Type", content_type),
            ("Content-Disposition", &disposition),
        ],
        Some(&c.bytes),
    );
    let body = String::from_utf8_lossy(&reply.body);
    let excerpt: String = body.chars().take(300).collect();
    match (c.expect, reply.status) {
        (Expect::Read | Expect::Either, 201) => {
            let id = reply.json()["id"].as_i64()?;
            ["review", "script"].iter().find_map(|part| {
                let got = request(
                    "GET",
                    &format!("{url}/api/articles/{id}/{part}"),
                    Some(token),
                    &[],
                    None,
                );
                (got.status != 200).then(|| format!("{name}: {part} answered {}", got.status))
            })
        }
        (Expect::Refused(_), 201) => Some(format!("{name}: stored, expected a refusal")),
        (_, status) if !(400..500).contains(&status) => {
            Some(format!("{name}: answered {status}: {excerpt}"))
        }
        (Expect::Read, status) => Some(format!("{name}: refused ({status}): {excerpt}")),
        (Expect::Refused(needle), status) => {
            let detail = reply.json()["detail"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (!detail.contains(needle))
                .then(|| format!("{name}: {status} lacks {needle:?}: {detail}"))
        }
        (Expect::Either, _) => None,
    }
}

/// Inputs the fuzzers found (or that once crashed): each must end cleanly.
#[test]
fn saved_crashing_inputs_end_cleanly_through_the_cli() {
    run_all(crash_inputs());
}

fn crash_inputs() -> Vec<Case> {
    let Ok(entries) = std::fs::read_dir(hostile_dir().join("crashes")) else {
        return Vec::new();
    };
    let mut cases: Vec<Case> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_none_or(|e| e != "md"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            case(&name, std::fs::read(&p).unwrap(), Expect::Either)
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

/// The CI stand-in for the fuzzers: seeded mutations of every small corpus
/// file fed to the same entry functions as the fuzz targets (ingest as text,
/// HTML and DOCX, then normalize), a bounded number of times.
#[test]
fn seeded_mutations_of_the_corpus_never_panic() {
    let mut seeds: Vec<Vec<u8>> = FIXTURES
        .iter()
        .filter_map(|(name, _)| std::fs::read(hostile_dir().join(name)).ok())
        .collect();
    seeds.extend(crash_inputs().into_iter().map(|c| c.bytes));
    seeds.push(docx(word_document(&word_paragraph(PARAGRAPH))));
    seeds.push(nested("<div>", "</div>", 40));
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let normalizer = bantin::normalize::Normalizer::builtin().unwrap();
    for round in 0..400 {
        let seed = &seeds[round % seeds.len()];
        let mut bytes = seed.clone();
        for _ in 0..1 + next() % 8 {
            let at = (next() as usize) % bytes.len().max(1);
            match next() % 4 {
                0 if !bytes.is_empty() => bytes[at] = next() as u8,
                1 => bytes.insert(at.min(bytes.len()), next() as u8),
                2 if !bytes.is_empty() => {
                    bytes.remove(at);
                }
                _ => {
                    let from = (next() as usize) % bytes.len().max(1);
                    let len = (next() as usize % 64).min(bytes.len() - from);
                    let chunk = bytes[from..from + len].to_vec();
                    let at = at.min(bytes.len());
                    bytes.splice(at..at, chunk);
                }
            }
        }
        fuzz_entry(&normalizer, &bytes);
    }
}

/// What each fuzz target runs (see `fuzz/fuzz_targets/`).
fn fuzz_entry(normalizer: &bantin::normalize::Normalizer, bytes: &[u8]) {
    for name in [None, Some("x.html"), Some("x.docx")] {
        if let Ok(article) = ingest::read(bytes, name) {
            assert!(ingest::MAX_TITLE_CHARS >= article.title.chars().count());
            assert!(!article.text.chars().any(is_bidi));
        }
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        let text = &text[..text.floor_char_boundary(4096)];
        let _ = normalizer.expand_str(text);
    }
}
