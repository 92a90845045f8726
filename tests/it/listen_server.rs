//! The listen check of render jobs, through the real server on loopback:
//! a job asked to be checked says "checked, N cues flagged" in its status
//! and serves the report; a recognizer that crashes leaves the render done
//! and the check "unavailable" with its reason; `check: false` skips it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bantin::config::Config;
use bantin::listen::ListenSettings;
use bantin::store::{Scope, Store};
use bantin::tts::Fake;
use serde_json::Value;

use crate::util::{TestServer, request};

const ARTICLE: &str = "Bản tin sáng\n\nHội nghị khai mạc lúc tám giờ. Các đại biểu thảo luận về kế hoạch năm tới.\n\nBuổi chiều, hội nghị bế mạc.\n";

/// A server with the fake voice and `recognizer` as the `[listen]` command,
/// the check on for every render; returns it and an editor token.
fn start(data: &Path, recognizer: &str) -> (TestServer, String) {
    let config = Config {
        data_dir: data.to_path_buf(),
        listen: ListenSettings {
            enabled: true,
            command: Some(vec![
                "sh".into(),
                "-c".into(),
                recognizer.into(),
                "sh".into(),
                "{wav}".into(),
            ]),
            timeout_seconds: 10,
            ..ListenSettings::default()
        },
        ..Config::default()
    };
    let (_, token) = Store::open(data)
        .unwrap()
        .add_token("editor", Scope::Editor)
        .unwrap();
    let server = TestServer::start(data, config, Some(Arc::new(Fake::default())));
    (server, token)
}

fn post(url: &str, token: &str, body: &str) -> Value {
    let reply = request(
        "POST",
        url,
        Some(token),
        &[("Content-Type", "application/json")],
        Some(body.as_bytes()),
    );
    assert!(
        reply.status == 201 || reply.status == 202,
        "{} {}",
        reply.status,
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

fn upload(url: &str, token: &str) -> i64 {
    let reply = request(
        "POST",
        &format!("{url}/api/articles"),
        Some(token),
        &[("Content-Type", "text/plain; charset=utf-8")],
        Some(ARTICLE.as_bytes()),
    );
    assert_eq!(reply.status, 201);
    reply.json()["id"].as_i64().unwrap()
}

/// The job once it is done (or failed: the test then fails).
fn finished(url: &str, token: &str, job: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let job = request(
            "GET",
            &format!("{url}/api/jobs/{job}"),
            Some(token),
            &[],
            None,
        )
        .json();
        match job["state"].as_str().unwrap() {
            "done" => return job,
            "failed" | "cancelled" => panic!("the job did not finish: {job}"),
            _ => {}
        }
        assert!(Instant::now() < deadline, "the job never finished: {job}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_checked_job_says_how_many_cues_were_flagged_and_serves_the_report() {
    let dir = tempfile::tempdir().unwrap();
    // Hears nothing in any clip: every cue is flagged.
    let (server, token) = start(dir.path(), r#"echo '{"text": ""}'"#);
    let url = server.url.clone();
    let article = upload(&url, &token);

    let job = post(
        &format!("{url}/api/articles/{article}/render"),
        &token,
        "{}",
    )["job"]
        .clone();
    assert_eq!(job["check_requested"], true);
    let job = finished(&url, &token, job["id"].as_i64().unwrap());
    let cues = job["cue_total"].as_i64().unwrap();
    assert!(cues >= 2, "{job}");
    assert_eq!(job["check"]["state"], "checked", "{job}");
    assert_eq!(job["check"]["flagged"], cues);
    assert_eq!(
        job["check"]["summary"],
        format!("checked, {cues} cues flagged")
    );

    let report = request(
        "GET",
        &format!("{url}/api/jobs/{}/check", job["id"]),
        Some(&token),
        &[],
        None,
    )
    .json();
    assert_eq!(report["status"], "checked");
    let reported = report["cues"].as_array().unwrap();
    assert_eq!(reported.len() as i64, cues);
    assert!(
        reported
            .iter()
            .all(|c| c["flagged"] == true && c["heard"] == "")
    );

    // The same audio again, unchecked: done at once from the cache, no check.
    let unchecked = post(
        &format!("{url}/api/articles/{article}/render"),
        &token,
        r#"{"check": false}"#,
    )["job"]
        .clone();
    assert_eq!(unchecked["state"], "done");
    assert!(unchecked["check"].is_null(), "{unchecked}");
    let none = request(
        "GET",
        &format!("{url}/api/jobs/{}/check", unchecked["id"]),
        Some(&token),
        &[],
        None,
    );
    assert_eq!(none.status, 404);

    // And checked again: the earlier check of that audio is reused at once.
    let again = post(
        &format!("{url}/api/articles/{article}/render"),
        &token,
        "{}",
    )["job"]
        .clone();
    assert_eq!(again["state"], "done");
    assert_eq!(again["check"]["flagged"], cues, "{again}");
    server.stop();
}

#[test]
fn a_crashing_recognizer_leaves_the_render_done_and_the_check_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let (server, token) = start(dir.path(), "echo 'out of memory' >&2; exit 9");
    let url = server.url.clone();
    let article = upload(&url, &token);
    let job = post(
        &format!("{url}/api/articles/{article}/render"),
        &token,
        "{}",
    )["job"]
        .clone();
    let job = finished(&url, &token, job["id"].as_i64().unwrap());
    assert_eq!(job["check"]["state"], "unavailable", "{job}");
    assert_eq!(job["check"]["flagged"], 0);
    let summary = job["check"]["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("check unavailable") && summary.contains("out of memory"),
        "{summary}"
    );
    let audio = request(
        "GET",
        &format!("{url}/api/jobs/{}/audio", job["id"]),
        Some(&token),
        &[],
        None,
    );
    assert_eq!(audio.status, 200);
    assert!(audio.body.starts_with(b"RIFF"));
    server.stop();
}
