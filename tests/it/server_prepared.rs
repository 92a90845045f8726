//! Prepared scripts over HTTP: the cache with its ETags and 304, the
//! request pool (503 when full) and work that stops with its request
//! (dropped by the client, or answered 408 by the timeout), observed through
//! `/metrics`; error answers that axum makes itself, given JSON bodies.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use bantin::config::Config;
use bantin::store::Scope;
use serde_json::json;

use crate::util::{Reply, TestServer, request, upload_text as upload};

fn config(data: &Path) -> Config {
    Config {
        data_dir: data.to_path_buf(),
        ..Config::default()
    }
}

fn editor_token(data: &Path) -> String {
    crate::util::open_store(data)
        .add_token("editor", Scope::Editor)
        .unwrap()
        .1
}

fn get(url: &str, token: &str, headers: &[(&str, &str)]) -> Reply {
    request("GET", url, Some(token), headers, None)
}

/// A long article of many ordinary sentences with numbers and dates, so
/// that preparing it takes a while in a test build.
fn long_article(sentences: usize) -> String {
    let mut text = String::from("Tin dài về dịch bệnh\n\n");
    for i in 0..sentences {
        text.push_str(&format!(
            "Ngày {}/7/2021, tỉnh Hưng Yên ghi nhận {} ca mắc mới và {} ca khỏi bệnh. ",
            1 + i % 28,
            1_000 + i,
            i % 97
        ));
        if i % 20 == 19 {
            text.push_str("\n\n");
        }
    }
    text
}

/// The value of a metric without labels in the `/metrics` text.
fn metric(url: &str, name: &str) -> u64 {
    let reply = request("GET", &format!("{url}/metrics"), None, &[], None);
    assert_eq!(reply.status, 200);
    let text = String::from_utf8(reply.body).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

/// Polls `/metrics` until `name` is `value`; a deadline only bounds a
/// failing test, it is not what the test checks.
fn wait_for_metric(url: &str, name: &str, value: u64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while metric(url, name) != value {
        assert!(Instant::now() < deadline, "{name} never became {value}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sentences enough that preparing the article takes seconds in a test
/// build (about 900,000 characters).
const LONG: usize = 11_000;

/// Sends a GET of `path` and leaves the answer unread.
fn send_get(url: &str, path: &str, token: &str) -> TcpStream {
    let addr = url.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .unwrap();
    stream
}

#[test]
fn scripts_and_reviews_carry_strong_etags_and_answer_304_until_they_change() {
    let dir = tempfile::tempdir().unwrap();
    let token = editor_token(dir.path());
    let server = TestServer::start(dir.path(), config(dir.path()), None);
    let url = &server.url;
    let id = upload(url, &token, "Tin vắn\n\nSở Y tế tỉnh HY họp ngày 23/7.");
    let script = format!("{url}/api/articles/{id}/script");
    let first = get(&script, &token, &[]);
    assert_eq!(first.status, 200);
    let etag = first.header("ETag").expect("an ETag").to_string();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong: {etag}"
    );
    assert_eq!(first.header("Cache-Control"), Some("private, no-cache"));
    assert!(first.json()["cues"].is_array());

    // The same answer again, then 304 with no body for its ETag.
    let again = get(&script, &token, &[]);
    assert_eq!(
        (again.header("ETag"), &again.body),
        (Some(etag.as_str()), &first.body)
    );
    let unchanged = get(&script, &token, &[("If-None-Match", &etag)]);
    assert_eq!(unchanged.status, 304);
    assert!(unchanged.body.is_empty());
    assert_eq!(unchanged.header("ETag"), Some(etag.as_str()));
    assert!(metric(url, "bantin_prepared_cache_hits_total") >= 2);
    assert_eq!(metric(url, "bantin_prepared_cache_entries"), 1);

    // Each format and the review have their own ETag.
    let srt = get(
        &format!("{script}?format=srt"),
        &token,
        &[("If-None-Match", &etag)],
    );
    assert_eq!(srt.status, 200, "another format is another answer");
    let review = get(&format!("{url}/api/articles/{id}/review"), &token, &[]);
    assert_eq!(review.status, 200);
    let review_etag = review.header("ETag").unwrap().to_string();
    assert_ne!(review_etag, etag);
    assert!(review.json()["warnings"].is_array());

    // A station lexicon entry that changes the reading changes the answer.
    let added = request(
        "POST",
        &format!("{url}/api/lexicon"),
        Some(&token),
        &[("Content-Type", "application/json")],
        Some(
            json!({"key": "HY", "spoken": "Hưng Yên"})
                .to_string()
                .as_bytes(),
        ),
    );
    assert!(
        added.status < 300,
        "{}",
        String::from_utf8_lossy(&added.body)
    );
    let relexed = get(&script, &token, &[("If-None-Match", &etag)]);
    assert_eq!(relexed.status, 200);
    assert_ne!(relexed.header("ETag"), Some(etag.as_str()));
    assert!(String::from_utf8_lossy(&relexed.body).contains("Hưng Yên"));

    // A new revision is a new answer; the old revision keeps its own.
    let revised = request(
        "PUT",
        &format!("{url}/api/articles/{id}"),
        Some(&token),
        &[("Content-Type", "text/plain; charset=utf-8")],
        Some("Tin vắn\n\nBản sửa: trời mưa to.".as_bytes()),
    );
    assert_eq!(revised.status, 201);
    let latest = get(
        &format!("{url}/api/articles/{id}/review"),
        &token,
        &[("If-None-Match", &review_etag)],
    );
    assert_eq!(latest.status, 200);
    assert_eq!(latest.json()["revision"], 2);
    let old = get(
        &format!("{url}/api/articles/{id}/review?revision=1"),
        &token,
        &[],
    );
    assert_eq!(old.json()["revision"], 1);
    get(
        &format!("{url}/api/articles/{id}/review?revision=9"),
        &token,
        &[],
    )
    .assert_error(404, "unknown revision");
    get(
        &format!("{url}/api/articles/{id}/script?voice=nobody"),
        &token,
        &[],
    )
    .assert_error(422, "unknown voice");
}

#[test]
fn a_script_request_dropped_by_its_client_stops_its_work_and_a_full_pool_answers_503() {
    let dir = tempfile::tempdir().unwrap();
    let token = editor_token(dir.path());
    let mut config = config(dir.path());
    config.limits.prepare_workers = 1;
    config.limits.prepare_queue = 0;
    // The station allows the long article this test needs.
    config.limits.article.article_chars = 2_000_000;
    let server = TestServer::start(dir.path(), config, None);
    let url = &server.url;
    let long = upload(url, &token, &long_article(LONG));
    let other = upload(url, &token, "Tin vắn\n\nTrời mưa.");
    let client = send_get(url, &format!("/api/articles/{long}/script"), &token);
    wait_for_metric(url, "bantin_prepare_busy", 1);

    // The only worker is busy and no request may wait: 503, JSON, Retry-After.
    let refused = get(&format!("{url}/api/articles/{other}/review"), &token, &[]);
    refused.assert_error(503, "full pool");
    assert_eq!(refused.header("Retry-After"), Some("1"));
    assert_eq!(refused.json()["error"], "busy");
    assert_eq!(metric(url, "bantin_prepare_rejected_total"), 1);

    // The client goes away: the preparation stops at its next sentence
    // instead of running to its end.
    drop(client);
    wait_for_metric(url, "bantin_prepare_busy", 0);
    assert_eq!(metric(url, "bantin_prepare_cancelled_total"), 1);
    assert_eq!(metric(url, "bantin_prepared_cache_entries"), 0);

    // The worker is free again.
    assert_eq!(
        get(&format!("{url}/api/articles/{other}/review"), &token, &[]).status,
        200
    );
}

#[test]
fn a_script_request_answered_408_by_the_timeout_stops_its_work() {
    let dir = tempfile::tempdir().unwrap();
    let token = editor_token(dir.path());
    let mut config = config(dir.path());
    config.limits.article.article_chars = 2_000_000;
    // Twice as long: its preparation takes well over the timeout even on
    // a machine busy with other tests, and starts well within it. It is
    // uploaded under the usual timeout (the upload's own checks may take
    // longer than 2 s on a busy machine), then the server restarts with 2 s.
    let long = {
        let server = TestServer::start(dir.path(), config.clone(), None);
        upload(&server.url, &token, &long_article(2 * LONG))
    };
    config.limits.request_timeout = Duration::from_secs(2);
    let server = TestServer::start(dir.path(), config, None);
    let url = &server.url;
    let mut client = send_get(url, &format!("/api/articles/{long}/script"), &token);
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    // Read the whole 408 (the server closes or stops after it).
    client
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    while !String::from_utf8_lossy(&answer).contains("}") {
        let n = client.read(&mut buffer).unwrap();
        assert!(
            n > 0,
            "closed before an answer: {}",
            String::from_utf8_lossy(&answer)
        );
        answer.extend_from_slice(&buffer[..n]);
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("\"error\":\"timeout\""),
        "a JSON body: {answer}"
    );
    wait_for_metric(url, "bantin_prepare_busy", 0);
    assert_eq!(
        metric(url, "bantin_prepare_cancelled_total"),
        1,
        "the preparation ran on after the 408"
    );
}

#[test]
fn answers_axum_makes_itself_are_json_and_no_error_echoes_much_input() {
    let dir = tempfile::tempdir().unwrap();
    let token = editor_token(dir.path());
    let mut config = config(dir.path());
    config.limits.max_body_bytes = 4096;
    let server = TestServer::start(dir.path(), config, None);
    let url = &server.url;

    let wrong_method = request(
        "PATCH",
        &format!("{url}/api/articles"),
        Some(&token),
        &[],
        None,
    );
    wrong_method.assert_error(405, "PATCH on the article list");
    assert_eq!(wrong_method.json()["error"], "method_not_allowed");
    let allow = wrong_method.header("Allow").unwrap_or_default().to_string();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");

    // 413 on a JSON route, from the body limit of the extractor.
    let big = json!({"key": "HY", "spoken": "a".repeat(10_000)}).to_string();
    let too_large = request(
        "POST",
        &format!("{url}/api/lexicon"),
        Some(&token),
        &[("Content-Type", "application/json")],
        Some(big.as_bytes()),
    );
    too_large.assert_error(413, "JSON body over the limit");

    // Long input in a path or a body is quoted back cut short.
    let long_id = "9".repeat(3_000);
    let not_found = get(&format!("{url}/api/articles/{long_id}"), &token, &[]);
    not_found.assert_error(404, "a long id");
    let detail = not_found.json()["detail"].as_str().unwrap().to_string();
    assert!(
        detail.chars().count() < 400 && detail.contains('…'),
        "{detail}"
    );
    let long_key = json!({"key": "k".repeat(3_000), "spoken": 5}).to_string();
    let misshapen = request(
        "POST",
        &format!("{url}/api/lexicon"),
        Some(&token),
        &[("Content-Type", "application/json")],
        Some(long_key.as_bytes()),
    );
    assert!(misshapen.status >= 400 && misshapen.status < 500);
    let detail = misshapen.json()["detail"].as_str().unwrap().to_string();
    assert!(
        detail.chars().count() <= 400,
        "{} characters",
        detail.chars().count()
    );
}
