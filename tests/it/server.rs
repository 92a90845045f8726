//! The newsroom service end to end: the real server on 127.0.0.1:0 with a
//! temporary data directory and the real SQLite file, spoken to over HTTP;
//! the real `bantin serve` binary killed with SIGKILL mid-render; per-route
//! checks through `app(state).oneshot(req)`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use bantin::audio::Pcm;
use bantin::config::Config;
use bantin::server::{AppState, app};
use bantin::store::{Scope, Store};
use bantin::tts::{Fake, SynthError, Synthesizer};
use bantin::voice::Voices;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::util::{
    Running, TestServer, bantin, example_article, files_below, request, serve_command,
};

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

fn config(data: &Path) -> Config {
    Config {
        data_dir: data.to_path_buf(),
        ..Config::default()
    }
}

fn tokens(data: &Path) -> (String, String) {
    let store = crate::util::open_store(data);
    let (_, editor) = store.add_token("editor", Scope::Editor).unwrap();
    let (_, reader) = store.add_token("reader", Scope::Read).unwrap();
    (editor, reader)
}

fn upload(url: &str, token: &str, text: &str) -> Value {
    let reply = request(
        "POST",
        &format!("{url}/api/articles"),
        Some(token),
        &[("Content-Type", "text/plain; charset=utf-8")],
        Some(text.as_bytes()),
    );
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

fn wait_for_job(url: &str, token: &str, job: i64, until: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let reply = request(
            "GET",
            &format!("{url}/api/jobs/{job}"),
            Some(token),
            &[],
            None,
        );
        assert_eq!(reply.status, 200);
        let job = reply.json();
        if until(&job) {
            return job;
        }
        assert!(job["state"] != "failed", "the job failed: {}", job["error"]);
        assert!(Instant::now() < deadline, "job never got there: {job}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Decodes a WAV and returns (sample rate, channels, bits, seconds).
fn wav_facts(bytes: &[u8]) -> (u32, u16, u16, f64) {
    let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).expect("a valid WAV");
    let spec = reader.spec();
    let frames = reader.duration();
    (
        spec.sample_rate,
        spec.channels,
        spec.bits_per_sample,
        f64::from(frames) / f64::from(spec.sample_rate),
    )
}

/// Every file in the data directory is the database, a voice profile the
/// test wrote, a whole audio file whose name is the SHA-256 of its bytes,
/// or a whole cue cache entry (no temporary entry file: those a killed
/// render left are gone after a restart).
fn assert_no_half_files(data: &Path) {
    for file in files_below(data) {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("bantin.sqlite3") || file.starts_with(data.join("voices")) {
            continue;
        }
        if file.starts_with(data.join("cache")) {
            assert_whole_cache_entry(&file);
            continue;
        }
        assert_eq!(
            file.parent().unwrap().file_name().unwrap(),
            "audio",
            "unexpected file {}",
            file.display()
        );
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(
            name,
            format!("{}.wav", bantin::store::sha256_hex(&bytes)),
            "{} is not named by its content",
            file.display()
        );
        wav_facts(&bytes);
    }
}

/// A cue cache entry: `cache/<2 hex>/<64 hex>.wav`, a float WAV whose
/// header sizes match its length.
fn assert_whole_cache_entry(file: &Path) {
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    let folder = file
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy();
    let hash = name.strip_suffix(".wav").unwrap_or_else(|| {
        panic!("{} is not a cache entry", file.display());
    });
    assert!(
        hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()) && hash[..2] == *folder,
        "{} is not a cache entry",
        file.display()
    );
    let bytes = std::fs::read(file).unwrap();
    let size = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    assert!(
        bytes.len() >= 44 && size(4) + 8 == bytes.len() && size(40) + 44 == bytes.len(),
        "{} is not whole",
        file.display()
    );
    let reader = hound::WavReader::new(std::io::Cursor::new(&bytes)).unwrap();
    assert_eq!(reader.spec().sample_format, hound::SampleFormat::Float);
}

#[test]
fn upload_review_script_render_with_espeak_then_restart_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (editor, reader) = tokens(data);
    let server = TestServer::start(data, config(data), None);
    let url = server.url.clone();

    let text = std::fs::read_to_string(example_article()).unwrap();
    let created = upload(&url, &editor, &text);
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["revision"], 1);

    let review = request(
        "GET",
        &format!("{url}/api/articles/{id}/review"),
        Some(&reader),
        &[],
        None,
    )
    .json();
    let tokens: Vec<&Value> = review["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["tokens"].as_array().unwrap())
        .collect();
    let btv = tokens
        .iter()
        .find(|t| t["original"] == "BTV")
        .expect("BTV in the review");
    assert_eq!(btv["spoken"], "Ban Thường vụ");
    assert_eq!(btv["expansion"], true);
    assert!(btv["rule"].as_str().unwrap().starts_with("A-LEX"));
    assert!(
        tokens
            .iter()
            .any(|t| t["rule"].as_str().unwrap().starts_with("N-DATE"))
    );
    let dropped = review["dropped"].as_array().unwrap();
    assert!(!dropped.is_empty(), "{review}");
    assert!(
        dropped
            .iter()
            .all(|d| !d["reason"].as_str().unwrap().is_empty())
    );
    assert!(review["estimated_duration_ms"].as_u64().unwrap() > 10_000);

    // Announcer formats carry the spoken forms; captions the written text.
    for (format, content_type, expected) in [
        ("json", "application/json", "Ban Thường vụ"),
        ("txt", "text/plain", "Ban Thường vụ"),
        ("srt", "application/x-subrip", "00:00:00,000 --> "),
        ("vtt", "text/vtt", "WEBVTT"),
    ] {
        let reply = request(
            "GET",
            &format!("{url}/api/articles/{id}/script?format={format}"),
            Some(&reader),
            &[],
            None,
        );
        assert_eq!(reply.status, 200, "{format}");
        assert!(
            reply
                .header("content-type")
                .unwrap()
                .starts_with(content_type)
        );
        let body = String::from_utf8(reply.body).unwrap();
        assert!(body.contains(expected), "{format}: {body}");
        assert!(body.contains("Ban tuyên giáo Thành ủy"), "{format}");
    }

    let accepted = request(
        "POST",
        &format!("{url}/api/articles/{id}/render"),
        Some(&editor),
        &[("Content-Type", "application/json")],
        Some(br#"{"voice": "vi"}"#),
    );
    assert_eq!(accepted.status, 202);
    let job_id = accepted.json()["job"]["id"].as_i64().unwrap();
    let job = wait_for_job(&url, &reader, job_id, |j| j["state"] == "done");
    assert_eq!(job["cue_done"], job["cue_total"]);
    assert!(job["cue_total"].as_i64().unwrap() > 5);

    let audio = request(
        "GET",
        &format!("{url}/api/articles/{id}/audio"),
        Some(&reader),
        &[],
        None,
    );
    assert_eq!(audio.status, 200);
    assert_eq!(audio.header("content-type"), Some("audio/wav"));
    assert_eq!(audio.header("x-bantin-revision"), Some("1"));
    assert_eq!(audio.header("x-bantin-current-revision"), Some("1"));
    let (rate, channels, bits, seconds) = wav_facts(&audio.body);
    assert_eq!((rate, channels, bits), (48_000, 1, 16));
    let measured = request(
        "GET",
        &format!("{url}/api/jobs/{job_id}/script"),
        Some(&reader),
        &[],
        None,
    )
    .json();
    assert_eq!(measured["measured"], true);
    let total = measured["total_ms"].as_f64().unwrap() / 1000.0;
    assert!(
        (total - seconds).abs() < 0.01,
        "script says {total}s, audio lasts {seconds}s"
    );
    assert!(seconds > 10.0, "{seconds}s");
    let etag = audio.header("etag").unwrap().to_string();

    // Range, HEAD and ETag.
    let part = request(
        "GET",
        &format!("{url}/api/articles/{id}/audio"),
        Some(&reader),
        &[("Range", "bytes=0-11")],
        None,
    );
    assert_eq!(part.status, 206);
    assert_eq!(&part.body[..4], b"RIFF");
    assert_eq!(part.body.len(), 12);
    assert_eq!(
        part.header("content-range").unwrap(),
        format!("bytes 0-11/{}", audio.body.len())
    );
    let tail = request(
        "GET",
        &format!("{url}/api/articles/{id}/audio"),
        Some(&reader),
        &[("Range", "bytes=-100")],
        None,
    );
    assert_eq!(tail.body, audio.body[audio.body.len() - 100..]);
    let outside = request(
        "GET",
        &format!("{url}/api/articles/{id}/audio"),
        Some(&reader),
        &[("Range", &format!("bytes={}-", audio.body.len()))],
        None,
    );
    outside.assert_error(416, "range past the end");
    let head = request(
        "HEAD",
        &format!("{url}/api/articles/{id}/audio"),
        Some(&reader),
        &[],
        None,
    );
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-length").unwrap(),
        audio.body.len().to_string()
    );
    assert!(head.body.is_empty());
    let unchanged = request(
        "GET",
        &format!("{url}/api/articles/{id}/audio"),
        Some(&reader),
        &[("If-None-Match", &etag)],
        None,
    );
    assert_eq!(unchanged.status, 304);

    // Identical input + voice: done at once from the cache.
    let again = request(
        "POST",
        &format!("{url}/api/articles/{id}/render"),
        Some(&editor),
        &[],
        None,
    );
    assert_eq!(again.status, 202);
    let again = again.json();
    assert_eq!(again["job"]["state"], "done");
    assert_eq!(again["job"]["cached"], true);

    // A new revision keeps the old one.
    let revised = request(
        "PUT",
        &format!("{url}/api/articles/{id}"),
        Some(&editor),
        &[("Content-Type", "text/plain")],
        Some(text.replace("Hưng Yên", "Hải Dương").as_bytes()),
    );
    assert_eq!(revised.status, 201);
    assert_eq!(revised.json()["revision"], 2);
    let before_restart = request(
        "GET",
        &format!("{url}/api/articles/{id}"),
        Some(&reader),
        &[],
        None,
    )
    .json();
    assert_eq!(before_restart["revisions"].as_array().unwrap().len(), 2);
    server.stop();

    let server = TestServer::start(data, config(data), None);
    let url = server.url.clone();
    let after = request(
        "GET",
        &format!("{url}/api/articles/{id}"),
        Some(&reader),
        &[],
        None,
    )
    .json();
    assert_eq!(after, before_restart);
    let first = request(
        "GET",
        &format!("{url}/api/articles/{id}/source?revision=1"),
        Some(&reader),
        &[],
        None,
    );
    assert_eq!(first.body, text.as_bytes());
    let audio_after = request(
        "GET",
        &format!("{url}/api/articles/{id}/audio"),
        Some(&reader),
        &[],
        None,
    );
    assert_eq!(audio_after.header("etag"), Some(etag.as_str()));
    assert_eq!(audio_after.body, audio.body);
    // Rendered from revision 1; the article has moved on to revision 2.
    assert_eq!(audio_after.header("x-bantin-revision"), Some("1"));
    assert_eq!(audio_after.header("x-bantin-current-revision"), Some("2"));
    server.stop();
    assert_no_half_files(data);
}

/// Starts `bantin serve` running one job at a time.
fn spawn_serve(data: &Path) -> (Running, String) {
    let mut command = serve_command(data);
    command.env("BANTIN_JOB_CONCURRENCY", "1");
    crate::util::spawn_serve(command)
}

#[test]
fn kill_9_mid_render_then_restart_completes_the_job_without_half_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (editor, reader) = tokens(data);
    // A voice that takes a while over every breath group (espeak-ng behind
    // a pause, one breath group per call), so the render is surely still
    // speaking when killed: espeak-ng alone speaks a whole article in a
    // couple of batches, faster than the job can be watched.
    std::fs::create_dir_all(data.join("voices")).unwrap();
    std::fs::write(
        data.join("voices/slow.toml"),
        "name = \"slow\"\nsyllables_per_minute = 233\n[command]\nprogram = \"sh\"\n\
         args = [\"-c\", \"sleep 0.2; espeak-ng -v vi -w {output} -f {input}\"]\n\
         max_parallel = 2\n",
    )
    .unwrap();
    let (mut child, url) = spawn_serve(data);

    let text = std::fs::read_to_string(example_article()).unwrap();
    let body: String = text
        .split("\n\n")
        .skip(1)
        .take(6)
        .collect::<Vec<_>>()
        .join("\n\n");
    let id = upload(&url, &editor, &format!("Bài để thử\n\n{body}"))["id"]
        .as_i64()
        .unwrap();
    let job = request(
        "POST",
        &format!("{url}/api/articles/{id}/render"),
        Some(&editor),
        &[("content-type", "application/json")],
        Some(br#"{"voice": "slow"}"#),
    )
    .json()["job"]["id"]
        .as_i64()
        .unwrap();
    let running = wait_for_job(&url, &reader, job, |j| {
        j["state"] == "running" && j["cue_done"].as_i64().unwrap() >= 2
    });
    assert!(running["cue_done"].as_i64() < running["cue_total"].as_i64());
    child.0.kill().unwrap(); // SIGKILL
    child.0.wait().unwrap();

    // A killed render may leave temporary cue cache files; the next start
    // removes those clearly abandoned (older than a minute: a writer in
    // another process is not disturbed). Age the ones this kill left (there
    // may be none) and plant one, as if the restart came two minutes later.
    let cache = data.join("cache");
    assert!(
        files_below(&cache).len() >= 2,
        "the first attempt cached its finished cues"
    );
    let planted = cache.join("00/.entry-planted.part");
    std::fs::create_dir_all(planted.parent().unwrap()).unwrap();
    std::fs::write(&planted, b"RIFF and half an entry").unwrap();
    let left: Vec<PathBuf> = files_below(&cache)
        .into_iter()
        .filter(|p| bantin::cache::is_temporary(p))
        .collect();
    let two_minutes_ago = std::time::SystemTime::now() - Duration::from_secs(120);
    for file in &left {
        std::fs::File::options()
            .write(true)
            .open(file)
            .unwrap()
            .set_modified(two_minutes_ago)
            .unwrap();
    }

    let (mut child, url) = spawn_serve(data);
    for file in &left {
        assert!(!file.exists(), "{} survived the restart", file.display());
    }
    let done = wait_for_job(&url, &reader, job, |j| j["state"] == "done");
    assert_eq!(done["attempts"], 2, "{done}");
    let audio = request(
        "GET",
        &format!("{url}/api/articles/{id}/audio"),
        Some(&reader),
        &[],
        None,
    );
    assert_eq!(audio.status, 200);
    let (_, _, _, seconds) = wav_facts(&audio.body);
    let measured = request(
        "GET",
        &format!("{url}/api/jobs/{job}/script"),
        Some(&reader),
        &[],
        None,
    )
    .json();
    let total = measured["total_ms"].as_f64().unwrap() / 1000.0;
    assert!((total - seconds).abs() < 0.01, "{total} vs {seconds}");

    // SIGTERM: a graceful stop with a zero exit status.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.0.wait().unwrap().success());
    assert_no_half_files(data);
}

#[test]
fn fifty_parallel_uploads_are_stored_whole_and_apart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (editor, reader) = tokens(data);
    let server = TestServer::start(data, config(data), None);
    let url = server.url.clone();
    let text = |i: usize| {
        format!(
            "Tin số {i} của đài\n\nSáng {d}/7, Ủy ban nhân dân xã số {i} họp bàn việc số {i}. \
             Bài này là bài thứ {i}.\n\nĐoạn hai của bài {i}.",
            d = i % 28 + 1
        )
    };
    let uploads: Vec<_> = (0..50)
        .map(|i| {
            let url = url.clone();
            let editor = editor.clone();
            let body = text(i);
            std::thread::spawn(move || (i, upload(&url, &editor, &body)))
        })
        .collect();
    let mut ids = Vec::new();
    for handle in uploads {
        let (i, created) = handle.join().unwrap();
        assert_eq!(created["title"], format!("Tin số {i} của đài"));
        ids.push((i, created["id"].as_i64().unwrap()));
    }
    let mut distinct: Vec<i64> = ids.iter().map(|(_, id)| *id).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 50);
    for (i, id) in &ids {
        let source = request(
            "GET",
            &format!("{url}/api/articles/{id}/source"),
            Some(&reader),
            &[],
            None,
        );
        assert_eq!(String::from_utf8(source.body).unwrap(), text(*i));
    }
    let list = request(
        "GET",
        &format!("{url}/api/articles?limit=500"),
        Some(&reader),
        &[],
        None,
    )
    .json();
    assert_eq!(list.as_array().unwrap().len(), 50);
    server.stop();
}

/// What a bad request must not change.
fn snapshot(data: &Path) -> Value {
    let store = crate::util::open_store(data);
    let count = |sql: &str| -> i64 {
        store
            .read(|c| c.query_row(sql, bantin::store::db::params![], |r| r.get(0)))
            .unwrap()
    };
    json!({
        "articles": count("SELECT count(*) FROM articles"),
        "revisions": count("SELECT count(*) FROM article_revisions"),
        "jobs": count("SELECT count(*) FROM render_jobs"),
        "lexicon": count("SELECT count(*) FROM lexicon_entries"),
        "lexicon_version": store.lexicon_version().unwrap(),
        "audio_files": std::fs::read_dir(data.join("audio")).unwrap().count(),
    })
}

#[test]
fn bad_requests_get_the_right_4xx_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (editor, reader) = tokens(data);
    let server = TestServer::start(data, config(data), Some(Arc::new(Fake::default())));
    let url = server.url.clone();
    let id = upload(&url, &editor, "Tin thử\n\nMột câu để đọc.")["id"]
        .as_i64()
        .unwrap();
    let before = snapshot(data);
    let articles = format!("{url}/api/articles");
    let text = Some("Tin\n\nCâu.".as_bytes());
    let plain = ("Content-Type", "text/plain");

    // Tokens: missing, malformed, unknown → 401; read-only on a write → 403.
    let none = request("POST", &articles, None, &[plain], text);
    none.assert_error(401, "no token");
    assert!(
        none.header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
    let basic = request(
        "POST",
        &articles,
        None,
        &[plain, ("Authorization", "Basic YTpi")],
        text,
    );
    basic.assert_error(401, "basic auth");
    request("POST", &articles, Some("bantin_forged"), &[plain], text)
        .assert_error(401, "bad token");
    request("POST", &articles, Some(&reader), &[plain], text).assert_error(403, "read-only token");
    request(
        "POST",
        &format!("{url}/api/lexicon"),
        Some(&reader),
        &[("Content-Type", "application/json")],
        Some(r#"{"key":"HY","spoken":"Hưng Yên"}"#.as_bytes()),
    )
    .assert_error(403, "read-only lexicon write");
    request("GET", &articles, None, &[], None).assert_error(401, "read without token");
    assert_eq!(
        request("GET", &articles, Some(&reader), &[], None).status,
        200
    );

    // Content types and bodies that are not articles.
    for kind in ["application/pdf", "image/png", "application/json"] {
        request(
            "POST",
            &articles,
            Some(&editor),
            &[("Content-Type", kind)],
            text,
        )
        .assert_error(415, kind);
    }
    request("POST", &articles, Some(&editor), &[], text).assert_error(415, "no content type");
    request(
        "POST",
        &articles,
        Some(&editor),
        &[plain],
        Some(b"   \n\n "),
    )
    .assert_error(422, "empty");
    request(
        "POST",
        &articles,
        Some(&editor),
        &[plain],
        Some(b"Tin\0\x01\x02binary"),
    )
    .assert_error(422, "binary");
    request(
        "POST",
        &articles,
        Some(&editor),
        &[plain],
        Some(b"Tin \xff\xfe\xfd kh\xf4ng ph\xe1i UTF-8 \x80\x81"),
    )
    .assert_error(422, "not UTF-8");
    // Beyond an article limit: refused at upload, naming the limit and the excess.
    for (body, limit) in [
        (
            format!("Tin\n\nSố {} là", "1".repeat(128_000)),
            "word_chars",
        ),
        ("Tin mới. ".repeat(30_000), "article_chars"),
    ] {
        let answer = request(
            "POST",
            &articles,
            Some(&editor),
            &[plain],
            Some(body.as_bytes()),
        );
        answer.assert_error(422, limit);
        let detail = answer.json()["detail"].as_str().unwrap().to_string();
        assert!(
            detail.contains("more than the limit of") && detail.contains(limit),
            "{detail}"
        );
        assert!(detail.len() < 300, "the input is echoed: {detail}");
    }

    // Oversized: refused from Content-Length before the body is read.
    let mut stream = std::net::TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    write!(
        stream,
        "POST /api/articles HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {editor}\r\n\
         Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        10 * 1024 * 1024 + 1
    )
    .unwrap();
    stream.write_all(&[b'a'; 4096]).unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 413", "oversized body");
    drop(stream);

    // Malformed and misshapen JSON.
    let lexicon = format!("{url}/api/lexicon");
    let json = ("Content-Type", "application/json");
    request(
        "POST",
        &lexicon,
        Some(&editor),
        &[json],
        Some(b"{\"key\": \"HY\","),
    )
    .assert_error(400, "malformed JSON");
    request(
        "POST",
        &lexicon,
        Some(&editor),
        &[json],
        Some(br#"{"key": 5}"#),
    )
    .assert_error(422, "wrong JSON shape");
    request(
        "POST",
        &lexicon,
        Some(&editor),
        &[plain],
        Some(r#"{"key":"HY","spoken":"Hưng Yên"}"#.as_bytes()),
    )
    .assert_error(415, "lexicon as text/plain");
    request(
        "POST",
        &format!("{url}/api/articles/{id}/render"),
        Some(&editor),
        &[json],
        Some(b"{voice: vi}"),
    )
    .assert_error(400, "malformed render body");

    // Lexicon rows that fail validation.
    for (row, what) in [
        (
            json!({"key": "H Y", "spoken": "Hưng Yên"}),
            "key with a space",
        ),
        (
            json!({"key": "HY", "spoken": "Hưng Yên 2"}),
            "digit in spoken",
        ),
        (json!({"key": "HY", "spoken": ""}), "empty spoken"),
        (json!({"key": "", "spoken": "Hưng Yên"}), "empty key"),
        (
            json!({"key": "HY", "spoken": "Hưng\tYên\t\t\nX\tx"}),
            "tab injection",
        ),
        (
            json!({"key": "HY", "spoken": "Hung Yen <b>"}),
            "markup in spoken",
        ),
        (
            json!({"key": "HY", "spoken": "Hưng Yên", "extra": 1}),
            "unknown field",
        ),
        (
            json!({"key": "H\u{7}Y", "spoken": "Hưng Yên"}),
            "control character in the key",
        ),
        (
            json!({"key": "K".repeat(100_000), "spoken": "Hưng Yên"}),
            "key of 100 000 characters",
        ),
        (
            json!({"key": "HY", "spoken": vec!["một"; 250_000].join(" ")}),
            "spoken form of 1 MB",
        ),
    ] {
        let answer = request(
            "POST",
            &lexicon,
            Some(&editor),
            &[json],
            Some(row.to_string().as_bytes()),
        );
        answer.assert_error(422, what);
        let detail = answer.json()["detail"].to_string();
        assert!(detail.len() < 300, "{what}: the input is echoed: {detail}");
    }

    // Unknown ids.
    for (method, path) in [
        ("GET", "/api/articles/999".to_string()),
        ("GET", "/api/articles/abc".to_string()),
        ("GET", "/api/articles/-1/review".to_string()),
        ("GET", "/api/articles/999/script".to_string()),
        ("GET", "/api/articles/999/audio".to_string()),
        ("GET", format!("/api/articles/{id}/audio")),
        ("GET", format!("/api/articles/{id}/source?revision=9")),
        ("POST", "/api/articles/999/render".to_string()),
        ("GET", "/api/jobs/999".to_string()),
        ("POST", "/api/jobs/999/cancel".to_string()),
        ("DELETE", "/api/lexicon/999".to_string()),
        ("DELETE", "/api/lexicon?key=NOPE".to_string()),
        ("GET", "/api/nothing".to_string()),
    ] {
        request(method, &format!("{url}{path}"), Some(&editor), &[], None)
            .assert_error(404, &format!("{method} {path}"));
    }
    request(
        "PUT",
        &format!("{url}/api/articles/999"),
        Some(&editor),
        &[plain],
        text,
    )
    .assert_error(404, "PUT unknown article");

    // Path traversal in every name a client sends.
    let boundary = "XyZ";
    let multipart = |name: &str| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: text/plain\r\n\r\nTin\n\nCâu.\r\n--{boundary}--\r\n"
        )
    };
    let form = format!("multipart/form-data; boundary={boundary}");
    for name in [
        "../../etc/passwd",
        "..\\..\\boot.ini",
        "/etc/passwd",
        "a/../b.txt",
    ] {
        request(
            "POST",
            &articles,
            Some(&editor),
            &[("Content-Type", &form)],
            Some(multipart(name).as_bytes()),
        )
        .assert_error(400, name);
        request(
            "POST",
            &articles,
            Some(&editor),
            &[
                plain,
                (
                    "Content-Disposition",
                    &format!("attachment; filename=\"{name}\""),
                ),
            ],
            text,
        )
        .assert_error(400, name);
    }
    for path in [
        "/api/articles/..%2F..%2Fetc%2Fpasswd",
        "/api/articles/1%2F..%2F..%2Fbantin.sqlite3/source",
        "/api/jobs/..%2F1/audio",
    ] {
        request("GET", &format!("{url}{path}"), Some(&editor), &[], None).assert_error(404, path);
    }
    request(
        "POST",
        &format!("{url}/api/articles/{id}/render"),
        Some(&editor),
        &[json],
        Some(br#"{"voice": "../../../etc/passwd"}"#),
    )
    .assert_error(422, "voice traversal");
    request(
        "GET",
        &format!("{url}/api/articles/{id}/script?format=../../x"),
        Some(&editor),
        &[],
        None,
    )
    .assert_error(400, "format traversal");

    assert_eq!(snapshot(data), before);
    // A good multipart upload and a DOCX-typed one go through the same door.
    let ok = request(
        "POST",
        &articles,
        Some(&editor),
        &[("Content-Type", &form)],
        Some(multipart("tin-sang.txt").as_bytes()),
    );
    assert_eq!(ok.status, 201, "{}", String::from_utf8_lossy(&ok.body));
    let docx = request(
        "POST",
        &articles,
        Some(&editor),
        &[("Content-Type", DOCX)],
        Some(b"PK\x03\x04not really"),
    );
    assert!(
        docx.status == 201 || docx.status == 415 || docx.status == 422,
        "{}",
        docx.status
    );
    server.stop();
}

/// Per-route checks on the router alone.
fn oneshot_state(data: &Path, max_body_bytes: usize) -> (AppState, String) {
    let store = crate::util::open_store(data);
    let (_, editor) = store.add_token("ed", Scope::Editor).unwrap();
    let mut config = config(data);
    config.limits.max_body_bytes = max_body_bytes;
    let state = AppState::new(store, config, Voices::builtin())
        .unwrap()
        .with_synthesizer(Arc::new(Fake::default()));
    (state, editor)
}

async fn call(state: &AppState, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, body.to_vec())
}

// Multi-threaded: on PostgreSQL the store's blocking client steps off the
// runtime's thread (block_in_place), which a current-thread runtime cannot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_health_metrics_and_a_streamed_oversized_body() {
    let dir = tempfile::tempdir().unwrap();
    let (state, editor) = oneshot_state(dir.path(), 4096);

    let (status, body) = call(
        &state,
        Request::get("/api/openapi.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let doc: Value = serde_json::from_slice(&body).unwrap();
    for path in [
        "/api/articles",
        "/api/articles/{id}",
        "/api/articles/{id}/review",
        "/api/articles/{id}/script",
        "/api/articles/{id}/render",
        "/api/articles/{id}/audio",
        "/api/jobs/{id}",
        "/api/lexicon",
        "/api/voices",
        "/healthz",
        "/metrics",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from OpenAPI"
        );
    }
    assert!(doc["components"]["schemas"]["Review"].is_object());

    let (status, body) = call(
        &state,
        Request::get("/healthz").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["status"],
        "ok"
    );

    // No Content-Length header: the limit applies while the body is read.
    let (status, body) = call(
        &state,
        Request::post("/api/articles")
            .header("Authorization", format!("Bearer {editor}"))
            .header("Content-Type", "text/plain")
            .body(Body::from(vec![b'a'; 6000]))
            .unwrap(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(state.store.article_count().unwrap(), 0);

    let (_, metrics) = call(
        &state,
        Request::get("/metrics").body(Body::empty()).unwrap(),
    )
    .await;
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(
        metrics.contains(
            "bantin_http_requests_total{method=\"POST\",route=\"/api/articles\",status=\"413\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("bantin_render_queue_depth{station=\"default\"} 0"));
    assert!(metrics.contains("bantin_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"+Inf\"} 1"));
}

/// A backend that always fails, to see a job fail with its error.
struct Broken;

impl Synthesizer for Broken {
    fn fingerprint(&self) -> String {
        "broken".into()
    }
    fn synthesize(&self, _: &str) -> Result<Pcm, SynthError> {
        Err(SynthError::Failed {
            backend: "broken".into(),
            reason: "the engine is unplugged".into(),
        })
    }
    fn check(&self) -> Result<(), SynthError> {
        Ok(())
    }
}

fn slow_fake(delay_ms: u64) -> Option<Arc<dyn Synthesizer>> {
    Some(Arc::new(Fake {
        delay: Duration::from_millis(delay_ms),
        ..Fake::default()
    }))
}

fn job_state(data: &Path, job: i64) -> String {
    crate::util::open_store(data)
        .job(job)
        .unwrap()
        .state
        .as_str()
        .to_string()
}

#[test]
fn jobs_cancel_fail_requeue_on_shutdown_and_lexicon_applies_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (editor, reader) = tokens(data);
    let mut quick_stop = config(data);
    quick_stop.jobs.concurrency = 1;
    quick_stop.jobs.shutdown_grace = Duration::ZERO;
    let server = TestServer::start(data, quick_stop.clone(), slow_fake(150));
    let url = server.url.clone();
    let post = |path: &str, body: Option<&str>| {
        request(
            "POST",
            &format!("{url}{path}"),
            Some(&editor),
            &[("Content-Type", "application/json")],
            body.map(str::as_bytes),
        )
    };
    let article = "Tin HY\n\nSáng nay, HY họp. Chiều nay, HY nghỉ. Tối nay, HY đọc báo. \
                   Đêm nay, HY ngủ sớm. Mai HY đi làm.";
    let a = upload(&url, &editor, article)["id"].as_i64().unwrap();
    let b = upload(&url, &editor, "Tin khác\n\nMột câu. Hai câu. Ba câu.")["id"]
        .as_i64()
        .unwrap();

    // The station lexicon changes the very next review.
    let hy = |review: &Value| {
        review["sentences"][1]["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["original"] == "HY")
            .cloned()
            .unwrap()
    };
    let review = |id: i64| {
        request(
            "GET",
            &format!("{url}/api/articles/{id}/review"),
            Some(&reader),
            &[],
            None,
        )
        .json()
    };
    assert_eq!(hy(&review(a))["rule"], "A-SPELL");
    let added = post(
        "/api/lexicon",
        Some(r#"{"key": "HY", "spoken": "Hưng Yên"}"#),
    );
    assert_eq!(added.status, 201);
    let token = hy(&review(a));
    assert_eq!(
        (token["spoken"].as_str(), token["rule"].as_str()),
        (Some("Hưng Yên"), Some("A-STATION"))
    );

    // One at a time: the second job waits, and is cancelled while queued.
    let first = post(&format!("/api/articles/{a}/render"), None).json()["job"]["id"]
        .as_i64()
        .unwrap();
    let second = post(&format!("/api/articles/{b}/render"), None).json()["job"]["id"]
        .as_i64()
        .unwrap();
    wait_for_job(&url, &reader, first, |j| {
        j["cue_done"].as_i64().unwrap() >= 1
    });
    assert_eq!(
        request(
            "GET",
            &format!("{url}/api/jobs/{second}"),
            Some(&reader),
            &[],
            None
        )
        .json()["state"],
        "queued"
    );
    let cancelled = post(&format!("/api/jobs/{second}/cancel"), None);
    assert_eq!(cancelled.status, 202);
    assert_eq!(cancelled.json()["state"], "cancelled");
    post(&format!("/api/jobs/{second}/cancel"), None).assert_error(409, "cancel twice");

    // Shutdown with no grace: the running render goes back to the queue.
    server.stop();
    assert_eq!(job_state(data, first), "queued");
    assert_eq!(job_state(data, second), "cancelled");

    // After the restart it completes; a running job can be cancelled.
    let server = TestServer::start(data, quick_stop.clone(), slow_fake(150));
    let url = server.url.clone();
    let done = wait_for_job(&url, &reader, first, |j| j["state"] == "done");
    assert_eq!(done["attempts"], 2);
    // The first job cached every breath group of this article (the fake
    // backend sounds the same for every voice): empty the cache so the next
    // job has speaking to do when the cancel arrives.
    std::fs::remove_dir_all(data.join("cache")).unwrap();
    let third = request(
        "POST",
        &format!("{url}/api/articles/{a}/render"),
        Some(&editor),
        &[("Content-Type", "application/json")],
        Some(br#"{"voice": "vi-vn-x-south"}"#),
    )
    .json()["job"]["id"]
        .as_i64()
        .unwrap();
    wait_for_job(&url, &reader, third, |j| j["state"] == "running");
    let cancel = request(
        "POST",
        &format!("{url}/api/jobs/{third}/cancel"),
        Some(&editor),
        &[],
        None,
    );
    assert_eq!(cancel.status, 202);
    let ended = wait_for_job(&url, &reader, third, |j| j["state"] == "cancelled");
    assert!(
        ended["cue_done"].as_i64() < ended["cue_total"].as_i64(),
        "{ended}"
    );
    let metrics =
        String::from_utf8(request("GET", &format!("{url}/metrics"), None, &[], None).body).unwrap();
    assert!(
        metrics.contains("bantin_render_job_duration_seconds_count{state=\"done\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("bantin_render_jobs{station=\"default\",state=\"cancelled\"} 2"),
        "{metrics}"
    );
    server.stop();

    // A backend that fails: the job fails with the error, the server carries on.
    let server = TestServer::start(data, quick_stop, Some(Arc::new(Broken)));
    let url = server.url.clone();
    let job = request(
        "POST",
        &format!("{url}/api/articles/{b}/render"),
        Some(&editor),
        &[],
        None,
    )
    .json()["job"]["id"]
        .as_i64()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let failed = loop {
        let job = request(
            "GET",
            &format!("{url}/api/jobs/{job}"),
            Some(&reader),
            &[],
            None,
        )
        .json();
        if job["state"] == "failed" {
            break job;
        }
        assert!(Instant::now() < deadline, "{job}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("the engine is unplugged"),
        "{failed}"
    );
    request(
        "GET",
        &format!("{url}/api/jobs/{job}/audio"),
        Some(&reader),
        &[],
        None,
    )
    .assert_error(409, "audio of a failed job");
    assert_eq!(
        request("GET", &format!("{url}/healthz"), None, &[], None).status,
        200
    );
    server.stop();
}

#[test]
fn cli_tokens_and_lexicon_share_the_store_through_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("station");
    let output = crate::util::run_ok(
        bantin()
            .args(["token", "add", "bich", "--scope", "read", "--data"])
            .arg(&data),
    );
    let secret = String::from_utf8(output.stdout).unwrap().trim().to_string();
    let token = Store::open(&data)
        .unwrap()
        .authenticate_any_station(&secret)
        .unwrap();
    assert_eq!(token.map(|t| t.scope), Some(Scope::Read));
    let database = std::fs::read(data.join("bantin.sqlite3")).unwrap();
    assert!(
        !database
            .windows(secret.len())
            .any(|w| w == secret.as_bytes()),
        "the secret is stored in clear"
    );

    crate::util::run_ok(
        bantin()
            .args(["lexicon", "add", "HY", "Hưng Yên", "--data"])
            .arg(&data),
    );
    let bad = bantin()
        .args(["lexicon", "add", "HY2", "Hưng Yên 2", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("contains '2'"));
    let listed = crate::util::run_ok(bantin().args(["lexicon", "list", "--data"]).arg(&data));
    assert_eq!(
        String::from_utf8(listed.stdout).unwrap(),
        "HY\tHưng Yên\t\t\n"
    );

    let mut normalize = bantin()
        .args(["normalize", "--lines", "--data"])
        .arg(&data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    normalize
        .stdin
        .take()
        .unwrap()
        .write_all("Tỉnh HY\n".as_bytes())
        .unwrap();
    let spoken = normalize.wait_with_output().unwrap();
    assert_eq!(String::from_utf8(spoken.stdout).unwrap(), "Tỉnh Hưng Yên\n");

    crate::util::run_ok(
        bantin()
            .args(["lexicon", "remove", "HY", "--data"])
            .arg(&data),
    );
    assert!(
        Store::open(&data)
            .unwrap()
            .lexicon_entries()
            .unwrap()
            .is_empty()
    );
    let no_data = bantin()
        .args(["token", "add", "x"])
        .env_remove("BANTIN_DATA")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&no_data.stderr).contains("--data"));
}
