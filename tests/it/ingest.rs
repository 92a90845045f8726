//! Ingest end to end: every fixture in `tests/fixtures/ingest` against its
//! golden rendering (title, date, byline, kept blocks with kinds, dropped
//! lines with reasons), the bad inputs, and the real binary reading .txt,
//! .html and .docx files and stdin.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use bantin::ingest::{self, Article, IngestError};

use crate::util::{assert_golden, bantin, repo, run_ok};

fn fixtures() -> PathBuf {
    repo().join("tests/fixtures/ingest")
}

/// The article as editors review it: metadata, kept blocks, dropped lines.
fn render(article: &Article) -> String {
    let mut out = String::new();
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_string());
    writeln!(out, "format: {:?}", article.format).unwrap();
    writeln!(out, "title: {}", article.title).unwrap();
    writeln!(out, "published: {}", show(&article.published)).unwrap();
    writeln!(out, "byline: {}", show(&article.byline)).unwrap();
    writeln!(out, "== kept").unwrap();
    for block in &article.blocks {
        writeln!(out, "[{:?}] {}", block.kind, block.text(article)).unwrap();
    }
    writeln!(out, "== dropped").unwrap();
    for dropped in &article.dropped {
        writeln!(out, "{} {}: {}", dropped.line, dropped.reason, dropped.text).unwrap();
    }
    out
}

fn read_fixture(path: &Path) -> Result<Article, IngestError> {
    let bytes = std::fs::read(path).unwrap();
    ingest::read(&bytes, path.file_name().and_then(|n| n.to_str()))
}

#[test]
fn every_fixture_matches_its_golden() {
    let mut names: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "html" || e == "docx" || e == "txt")
                && !p
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("paragraphs")
        })
        .collect();
    names.sort();
    let html = names
        .iter()
        .filter(|p| p.extension().unwrap() == "html")
        .count();
    let docx = names
        .iter()
        .filter(|p| p.extension().unwrap() == "docx")
        .count();
    assert!(
        html >= 10 && docx >= 5,
        "{html} HTML and {docx} DOCX fixtures"
    );
    let mut failures = Vec::new();
    for path in &names {
        let article = read_fixture(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let golden = repo()
            .join("tests/golden/ingest")
            .join(path.file_name().unwrap())
            .with_extension(format!(
                "{}.txt",
                path.extension().unwrap().to_string_lossy()
            ));
        let result = std::panic::catch_unwind(|| assert_golden(&golden, &render(&article)));
        if let Err(e) = result {
            failures.push(
                e.downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| path.display().to_string()),
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn portal_pages_never_read_chrome() {
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "html") {
            continue;
        }
        let article = read_fixture(&path).unwrap();
        // Page chrome is never a block of its own …
        for block in &article.blocks {
            let text = block.text(&article);
            for chrome in [
                "Trang chủ",
                "Chia sẻ",
                "Tin liên quan",
                "Bình luận",
                "Facebook",
            ] {
                assert!(
                    !text.starts_with(chrome) || text.len() > chrome.len() + 40,
                    "{}: {text:?} is read on air",
                    path.display()
                );
            }
        }
        // … and these never appear in what is read.
        for chrome in ["©", "Copyright", "window.", "lượt xem", "Ảnh:", "Tags"] {
            assert!(
                !article.text.contains(chrome),
                "{}: {chrome:?} is read on air:\n{}",
                path.display(),
                article.text
            );
        }
        assert!(
            article.blocks.len() >= 3,
            "{}: too little kept",
            path.display()
        );
    }
}

#[test]
fn docx_leaves_out_headers_footers_footnotes_and_deletions() {
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "docx") {
            continue;
        }
        let article = read_fixture(&path).unwrap();
        for absent in [
            "ĐÀI TRUYỀN THANH THÀNH PHỐ",
            "Trang 1",
            "Cục Thống kê",
            "chưa chính xác",
            "PAGE",
            "hộp văn bản",
        ] {
            assert!(
                !article.text.contains(absent),
                "{}: {absent:?} read:\n{}",
                path.display(),
                article.text
            );
        }
    }
}

#[test]
fn old_style_tones_and_nfd_read_like_the_usual_form() {
    let old = "Tin\n\nUỷ ban hoà giải thuỷ lợi, khoẻ.";
    let nfd: String =
        unicode_normalization::UnicodeNormalization::nfd("Tin\n\nỦy ban hòa giải thủy lợi, khỏe.")
            .collect();
    let usual = "Tin\n\nỦy ban hòa giải thủy lợi, khỏe.";
    let read = |s: &str| ingest::read(s.as_bytes(), None).unwrap().text;
    assert_eq!(read(old), read(usual));
    assert_eq!(read(&nfd), read(usual));
    assert_eq!(read(usual), usual);
}

#[test]
fn bad_inputs_get_clear_errors() {
    let bad = fixtures().join("bad");
    let err = |name: &str| read_fixture(&bad.join(name)).unwrap_err().to_string();
    assert!(
        err("not-a-zip.docx").contains("not a valid DOCX"),
        "{}",
        err("not-a-zip.docx")
    );
    let bomb = err("zip-bomb.docx");
    assert!(
        bomb.contains("zip bomb") && bomb.contains("word/document.xml"),
        "{bomb}"
    );
    assert!(
        err("binary-junk.txt").contains("binary"),
        "{}",
        err("binary-junk.txt")
    );
    assert!(err("tcvn3.txt").contains("TCVN3"), "{}", err("tcvn3.txt"));
    assert!(err("vni.txt").contains("VNI"), "{}", err("vni.txt"));
    assert!(
        err("mixed-encodings.txt").contains("mixes UTF-8"),
        "{}",
        err("mixed-encodings.txt")
    );
    assert!(
        err("boilerplate-only.html").contains("nothing is left to read"),
        "{}",
        err("boilerplate-only.html")
    );
    // A 50 MB page is refused by size before it is parsed.
    let mut page = b"<html><body>".to_vec();
    page.resize(50 * 1024 * 1024, b'a');
    let e = ingest::read(&page, Some("big.html")).unwrap_err();
    assert!(matches!(e, IngestError::TooLarge { .. }), "{e}");
    let e = ingest::read(b"%PDF-1.7\n...", Some("x.txt")).unwrap_err();
    assert!(e.to_string().contains("PDF"), "{e}");
}

#[test]
fn windows_1258_page_is_decoded() {
    let article = read_fixture(&fixtures().join("html-windows-1258-portal.html")).unwrap();
    assert_eq!(article.title, "Huyện tổ chức Hội khỏe Phù Đổng lần thứ X");
    assert_eq!(article.published.as_deref(), Some("2023-11-15"));
}

#[test]
fn cli_scripts_html_docx_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "html-vnexpress-layout.html",
        "docx-split-runs-bold-lead.docx",
        "paragraphs-hard-cases.txt",
    ] {
        let out = dir.path().join(format!("{name}.txt"));
        run_ok(
            bantin()
                .args(["script", "--format", "txt", "-o"])
                .arg(&out)
                .arg(fixtures().join(name)),
        );
        let script = std::fs::read_to_string(&out).unwrap();
        assert!(!script.trim().is_empty(), "{name}: empty script");
    }
    let html = std::fs::read_to_string(dir.path().join("html-vnexpress-layout.html.txt")).unwrap();
    assert!(html.contains("buýt điện"), "{html}");
    assert!(
        !html.contains("Võ Hải") && !html.contains("Ngọc Thành"),
        "{html}"
    );
    let docx =
        std::fs::read_to_string(dir.path().join("docx-split-runs-bold-lead.docx.txt")).unwrap();
    assert!(docx.contains("sốt xuất huyết"), "{docx}");

    // stdin: the format comes from the content, not a file name.
    let docx_bytes = std::fs::read(fixtures().join("docx-table.docx")).unwrap();
    let mut child = bantin()
        .args(["script", "--format", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&docx_bytes).unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let script: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        script["title"],
        "Kết quả bầu cử trưởng thôn nhiệm kỳ 2024-2027"
    );
}

#[test]
fn cli_refuses_bad_input_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["zip-bomb.docx", "tcvn3.txt", "not-a-zip.docx"] {
        let out = dir.path().join("out.txt");
        let output = bantin()
            .args(["script", "--format", "txt", "-o"])
            .arg(&out)
            .arg(fixtures().join("bad").join(name))
            .output()
            .unwrap();
        assert!(!output.status.success(), "{name} accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("cannot read the article"),
            "{name}: {stderr}"
        );
        assert!(!out.exists(), "{name}: output written");
    }
}

#[test]
fn cli_ingest_lists_kept_and_dropped_lines_with_reasons() {
    let output = run_ok(
        bantin()
            .args(["ingest", "--format", "json"])
            .arg(fixtures().join("paste-dateline-byline-captions-related.txt")),
    );
    let article: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(article["published"], "2024-03-10");
    assert_eq!(article["byline"], "Trần Kiên");
    let lead = article["blocks"][1]["text"].as_str().unwrap();
    assert!(lead.starts_with("Sáng 10/3, Công an"), "{lead}");
    let dropped: Vec<(&str, &str)> = article["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["reason"].as_str().unwrap(), d["text"].as_str().unwrap()))
        .collect();
    for expected in [
        ("dateline", "VOV.VN -"),
        ("date-line", "Thứ Hai, 10/3/2024, 14:35 (GMT+7)"),
        ("image-file", "IMG_1234.jpg"),
        ("video-prompt", "Mời quý vị cùng đón xem video dưới đây:"),
        ("view-counter", "Lượt xem: 1.234"),
    ] {
        assert!(
            dropped.contains(&expected),
            "{expected:?} not in {dropped:?}"
        );
    }
    // The text form: one line per kept block and per dropped line.
    let output = run_ok(
        bantin()
            .arg("ingest")
            .arg(fixtures().join("paste-headline-date-views-lead.txt")),
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("[title] Xã Tân Dân tổ chức Ngày hội Đại đoàn kết toàn dân tộc\n"),
        "{text}"
    );
    assert!(text.contains("1 date-views: 03/01/2022 | 120\n"), "{text}");
}
