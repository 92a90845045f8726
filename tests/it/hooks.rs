//! Webhooks through the real service and a real receiver on loopback: the
//! server in this process with a temporary data directory and SQLite store,
//! a receiver (axum on 127.0.0.1) that records each call and answers what
//! the test tells it. Every call's signature is checked with the secret the
//! registration showed; a receiver answering 500, or not listening at all
//! (across a restart of the service), still gets each event exactly once.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use bantin::config::Config;
use bantin::store::Scope;
use bantin::tts::{Fake, SynthError, Synthesizer};
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

use crate::util::{TestServer, bantin, request, run_ok, upload_text as upload};

/// One call the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) event: String,
    delivery: String,
    signature: String,
    body: Vec<u8>,
}

impl Call {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// The signature is the HMAC-SHA256 of the exact body with `secret`.
    fn assert_signed_with(&self, secret: &str) {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(&self.body);
        let hex = self
            .signature
            .strip_prefix("sha256=")
            .expect(&self.signature);
        mac.verify_slice(&hex::decode(hex).unwrap())
            .unwrap_or_else(|_| panic!("bad signature on {self:?}"));
    }
}

/// A webhook receiver on loopback: records calls, answers 500 to the first
/// `failures` of them, 204 after (also the platform test's receiver).
pub(crate) struct Receiver {
    pub(crate) addr: SocketAddr,
    calls: Arc<Mutex<Vec<Call>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    pub(crate) fn start(listener: std::net::TcpListener, failures: usize) -> Receiver {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(AtomicUsize::new(failures));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = {
            let calls = Arc::clone(&calls);
            let failures = Arc::clone(&failures);
            axum::Router::new().route(
                "/hook",
                axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                    let calls = Arc::clone(&calls);
                    let failures = Arc::clone(&failures);
                    async move {
                        let header = |name: &str| {
                            headers
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("")
                                .to_string()
                        };
                        assert_eq!(header("content-type"), "application/json");
                        calls.lock().unwrap().push(Call {
                            event: header("x-bantin-event"),
                            delivery: header("x-bantin-delivery"),
                            signature: header("x-bantin-signature"),
                            body: body.to_vec(),
                        });
                        let fail = failures
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                            .is_ok();
                        if fail {
                            (StatusCode::INTERNAL_SERVER_ERROR, "not now")
                        } else {
                            (StatusCode::NO_CONTENT, "")
                        }
                    }
                }),
            )
        };
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Receiver {
            addr,
            calls,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub(crate) fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// Waits (bounded) until `ok` holds for the calls so far.
    pub(crate) fn wait_for(&self, what: &str, ok: impl Fn(&[Call]) -> bool) -> Vec<Call> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let calls = self.calls();
            if ok(&calls) {
                return calls;
            }
            assert!(Instant::now() < deadline, "{what}: {calls:#?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub(crate) fn loopback() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap()
}

/// A free loopback port nothing listens on (yet).
fn closed_port() -> SocketAddr {
    loopback().local_addr().unwrap()
}

/// The service in this process; webhooks retried after 0.2 s, then 0.4 s…
fn start(data: &Path, synthesizer: Arc<dyn Synthesizer>) -> TestServer {
    let mut config = Config::parse(
        "test",
        "[webhooks]\ntimeout_seconds = 2\nfirst_retry_seconds = 0.2\nmax_retry_seconds = 0.5\nmax_attempts = 200\n",
    )
    .unwrap();
    config.data_dir = data.to_path_buf();
    config.config_dir = Some(data.to_path_buf());
    config.validate().unwrap();
    TestServer::start(data, config, Some(synthesizer))
}

fn token(data: &Path, name: &str, scope: Scope) -> String {
    crate::util::open_store(data)
        .add_token(name, scope)
        .unwrap()
        .1
}

fn call(method: &str, url: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let bytes = body.map(|b| serde_json::to_vec(&b).unwrap());
    let headers: &[(&str, &str)] = if bytes.is_some() {
        &[("Content-Type", "application/json")]
    } else {
        &[]
    };
    let reply = request(method, url, Some(token), headers, bytes.as_deref());
    let value = if reply.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&reply.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&reply.body)))
    };
    (reply.status, value)
}

/// Queues a render of `article`; the job's id.
fn start_render(url: &str, token: &str, article: i64) -> i64 {
    let (status, body) = call(
        "POST",
        &format!("{url}/api/articles/{article}/render"),
        token,
        Some(json!({})),
    );
    assert_eq!(status, 202, "{body}");
    body["job"]["id"].as_i64().unwrap()
}

/// Registers `hook_url` for `events`; returns (id, secret).
fn register(url: &str, token: &str, hook_url: &str, events: &[&str]) -> (i64, String) {
    let (status, body) = call(
        "POST",
        &format!("{url}/api/webhooks"),
        token,
        Some(json!({ "url": hook_url, "events": events, "description": "cổng thông tin" })),
    );
    assert_eq!(status, 201, "{body}");
    (
        body["id"].as_i64().unwrap(),
        body["secret"].as_str().unwrap().to_string(),
    )
}

fn deliveries(url: &str, token: &str) -> Vec<Value> {
    let (status, body) = call(
        "GET",
        &format!("{url}/api/webhooks/deliveries"),
        token,
        None,
    );
    assert_eq!(status, 200, "{body}");
    body.as_array().unwrap().clone()
}

/// Waits (bounded) until every delivery the service lists is delivered.
fn wait_delivered(url: &str, token: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let listed = deliveries(url, token);
        if listed.len() == count && listed.iter().all(|d| d["state"] == "delivered") {
            return listed;
        }
        assert!(Instant::now() < deadline, "{listed:#?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_render_is_told_signed_and_retried_until_the_receiver_takes_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), Arc::new(Fake::default()));
    let url = &server.url;
    let admin = token(dir.path(), "admin", Scope::Admin);
    let receiver = Receiver::start(loopback(), 2);
    let hook = format!("http://{}/hook", receiver.addr);
    let (id, secret) = register(url, &admin, &hook, &["render.done", "render.failed"]);

    let article = upload(url, &admin, "Tin ngắn\n\nHôm nay trời nắng đẹp.");
    let job = start_render(url, &admin, article);

    // 500, 500, then taken: three calls of one delivery, each signed.
    let calls = receiver.wait_for("three calls", |c| c.len() >= 3);
    assert_eq!(calls.len(), 3, "{calls:#?}");
    for call in &calls {
        call.assert_signed_with(&secret);
        assert_eq!(call.event, "render.done");
        assert_eq!(call.delivery, calls[0].delivery, "one delivery, retried");
        assert_eq!(call.body, calls[0].body, "the same bytes each time");
    }
    let body = calls[0].json();
    assert_eq!(body["event"], "render.done");
    assert_eq!(body["data"]["job"], job);
    assert_eq!(body["data"]["article"], article);
    assert_eq!(body["data"]["voice"], "vi");
    // The receiver can fetch what it was told of, with its own token.
    let audio = request(
        "GET",
        &format!("{url}{}", body["data"]["audio"].as_str().unwrap()),
        Some(&admin),
        &[],
        None,
    );
    assert_eq!(audio.status, 200);
    assert_eq!(&audio.body[..4], b"RIFF");

    let listed = wait_delivered(url, &admin, 1);
    assert_eq!(listed[0]["webhook_id"], id);
    assert_eq!(listed[0]["attempts"], 3);
    assert_eq!(listed[0]["last_status"], 204);
    assert_eq!(listed[0]["event"], "render.done");
    // A tampered body fails the check a receiver makes.
    let mut forged = calls[0].clone();
    forged.body = body
        .to_string()
        .replace("render.done", "render.failed")
        .into_bytes();
    assert!(std::panic::catch_unwind(|| forged.assert_signed_with(&secret)).is_err());
}

#[derive(Debug)]
struct Failing;

impl Synthesizer for Failing {
    fn fingerprint(&self) -> String {
        "failing".into()
    }
    fn synthesize(&self, _: &str) -> Result<bantin::audio::Pcm, SynthError> {
        Err(SynthError::Failed {
            backend: "test".into(),
            reason: "the voice server is down".into(),
        })
    }
    fn check(&self) -> Result<(), SynthError> {
        Ok(())
    }
}

#[test]
fn a_receiver_down_across_a_restart_still_gets_every_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let hook = format!("http://{port}/hook");
    let admin = token(dir.path(), "admin", Scope::Admin);
    let server = start(dir.path(), Arc::new(Failing));
    let url = server.url.clone();
    let (_, secret) = register(&url, &admin, &hook, &["render.failed"]);
    let mut articles = Vec::new();
    for n in 0..2 {
        let article = upload(&url, &admin, &format!("Tin {n}\n\nCâu số {n}."));
        start_render(&url, &admin, article);
        articles.push(article);
    }
    // Nobody listens: both deliveries are tried and kept.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let listed = deliveries(&url, &admin);
        if listed.len() == 2
            && listed
                .iter()
                .all(|d| d["attempts"].as_i64().unwrap() >= 2 && d["state"] == "pending")
        {
            assert!(
                listed[0]["last_error"]
                    .as_str()
                    .unwrap()
                    .contains("cannot call the receiver"),
                "{listed:#?}"
            );
            assert!(listed[0]["next_attempt_at"].is_string());
            break;
        }
        assert!(Instant::now() < deadline, "{listed:#?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    server.stop();

    // The service comes back, then the receiver: each event arrives once.
    let server = start(dir.path(), Arc::new(Fake::default()));
    let receiver = Receiver::start(std::net::TcpListener::bind(port).unwrap(), 0);
    let calls = receiver.wait_for("both events", |c| c.len() >= 2);
    wait_delivered(&server.url, &admin, 2);
    std::thread::sleep(Duration::from_millis(700));
    let calls_after = receiver.calls();
    assert_eq!(calls_after.len(), 2, "no event twice: {calls_after:#?}");
    let mut told: Vec<i64> = calls
        .iter()
        .map(|c| {
            c.assert_signed_with(&secret);
            let body = c.json();
            assert_eq!(body["event"], "render.failed");
            assert!(
                body["data"]["error"]
                    .as_str()
                    .unwrap()
                    .contains("the voice server is down"),
                "{body}"
            );
            body["data"]["article"].as_i64().unwrap()
        })
        .collect();
    told.sort_unstable();
    assert_eq!(told, articles);
}

#[test]
fn a_bulletin_delivered_is_told_with_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let drop = dir.path().join("drop");
    let mut config = Config::parse(
        "test",
        &format!(
            "station = \"Đài truyền thanh thành phố Hưng Yên\"\n[webhooks]\nfirst_retry_seconds = 0.2\n\
             [bulletin]\nstation = \"Đài truyền thanh thành phố Hưng Yên\"\ndrop_folder = \"{}\"\n\
             catch_up_minutes = 0\ngreeting = \"Xin chào.\"\nsign_off = \"Hết.\"\n\
             [bulletin.slots.sang]\nlabel = \"sáng\"\nschedule = \"0 6 * * *\"\ntarget_minutes = 1\n",
            drop.display()
        ),
    )
    .unwrap();
    config.data_dir = dir.path().to_path_buf();
    config.config_dir = Some(dir.path().to_path_buf());
    config.limits.request_timeout = Duration::from_secs(300);
    config.validate().unwrap();
    let server = TestServer::start(dir.path(), config, Some(Arc::new(Fake::default())));
    let url = &server.url;
    let admin = token(dir.path(), "admin", Scope::Admin);
    let receiver = Receiver::start(loopback(), 0);
    let hook = format!("http://{}/hook", receiver.addr);
    let (_, secret) = register(url, &admin, &hook, &["bulletin.delivered"]);
    let article = upload(url, &admin, "Lúa mùa\n\nLúa mùa năm nay tốt.");
    let approve = format!("{url}/api/articles/{article}/approve");
    let (status, body) = call("POST", &approve, &admin, None);
    assert_eq!(status, 200, "{body}");
    let path = format!("{url}/api/bulletins/2026-12-05/sang");
    let (status, body) = call("PUT", &path, &admin, Some(json!({ "items": [article] })));
    assert_eq!(status, 200, "{body}");
    let (status, run) = call("POST", &format!("{path}/build"), &admin, None);
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["status"], "built", "{run}");

    let calls = receiver.wait_for("the delivery", |c| !c.is_empty());
    calls[0].assert_signed_with(&secret);
    let body = calls[0].json();
    assert_eq!(body["event"], "bulletin.delivered");
    assert_eq!(body["station"], "Đài truyền thanh thành phố Hưng Yên");
    assert_eq!(
        body["data"]["bulletin"],
        json!({ "date": "2026-12-05", "slot": "sang" })
    );
    assert_eq!(body["data"]["items"], 1);
    let files: Vec<&str> = body["data"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(files.contains(&"BANTIN_2026-12-05_sang.wav"), "{files:?}");
    for file in files {
        assert!(drop.join(file).is_file(), "{file} is in the drop folder");
    }
}

#[test]
fn webhooks_are_managed_by_the_admin_and_checked_before_they_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), Arc::new(Fake::default()));
    let url = &server.url;
    let admin = token(dir.path(), "admin", Scope::Admin);
    let reader = token(dir.path(), "reader", Scope::Read);
    let editor = token(dir.path(), "editor", Scope::Editor);
    let hooks = format!("{url}/api/webhooks");

    for (method, path) in [
        ("GET", hooks.clone()),
        ("POST", hooks.clone()),
        ("GET", format!("{hooks}/deliveries")),
        ("DELETE", format!("{hooks}/1")),
        ("POST", format!("{hooks}/deliveries/1/retry")),
    ] {
        for lower in [&reader, &editor] {
            let (status, body) = call(method, &path, lower, None);
            assert_eq!(status, 403, "{method} {path}: {body}");
        }
    }
    for (body, what) in [
        (
            json!({ "url": "ftp://x/y", "events": ["render.done"] }),
            "http",
        ),
        (
            json!({ "url": "http://127.0.0.1:9/x", "events": [] }),
            "at least one event",
        ),
        (
            json!({ "url": "http://127.0.0.1:9/x", "events": ["render.started"] }),
            "unknown variant",
        ),
    ] {
        let (status, answer) = call("POST", &hooks, &admin, Some(body));
        assert_eq!(status, 422, "{answer}");
        assert!(answer.to_string().contains(what), "{answer}");
    }

    let (id, secret) = register(url, &admin, "http://127.0.0.1:9/x", &["check.flagged"]);
    let (_, listed) = call("GET", &hooks, &admin, None);
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["events"], json!(["check.flagged"]));
    assert!(
        !listed.to_string().contains(&secret),
        "the secret is shown once"
    );
    let (status, _) = call("DELETE", &format!("{hooks}/{id}"), &admin, None);
    assert_eq!(status, 204);
    let (status, body) = call("DELETE", &format!("{hooks}/{id}"), &admin, None);
    assert_eq!(status, 404, "{body}");
    let (_, listed) = call("GET", &hooks, &admin, None);
    assert_eq!(listed, json!([]));
    let (status, body) = call(
        "POST",
        &format!("{hooks}/deliveries/99/retry"),
        &admin,
        None,
    );
    assert_eq!(status, 404, "{body}");
}

#[test]
fn the_cli_registers_lists_and_removes_webhooks() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = run_ok(bantin().args([
        "--data",
        data,
        "webhook",
        "add",
        "https://portal.example/bantin",
        "--events",
        "render.done,bulletin.delivered",
        "--description",
        "cổng thông tin",
    ]));
    let secret = String::from_utf8(out.stdout).unwrap();
    assert!(secret.trim().starts_with("whsec_"), "{secret}");
    let out = run_ok(bantin().args(["--data", data, "webhook", "list"]));
    let listed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        listed,
        "1\thttps://portal.example/bantin\trender.done,bulletin.delivered\tcổng thông tin\n"
    );
    let bad = bantin()
        .args([
            "--data",
            data,
            "webhook",
            "add",
            "https://x/",
            "--events",
            "render.begun",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown event"));
    run_ok(bantin().args(["--data", data, "webhook", "remove", "1"]));
    let out = run_ok(bantin().args(["--data", data, "webhook", "list"]));
    assert!(out.stdout.is_empty());
}

#[test]
fn a_render_the_listen_check_flags_is_told_with_its_review() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        listen: bantin::listen::ListenSettings {
            enabled: true,
            // Hears nothing in any clip: every cue is flagged.
            command: Some(vec![
                "sh".into(),
                "-c".into(),
                r#"echo '{"text": ""}'"#.into(),
                "sh".into(),
                "{wav}".into(),
            ]),
            timeout_seconds: 10,
            ..bantin::listen::ListenSettings::default()
        },
        ..Config::default()
    };
    config.webhooks.first_retry_seconds = 0.2;
    config.validate().unwrap();
    let server = TestServer::start(dir.path(), config, Some(Arc::new(Fake::default())));
    let url = &server.url;
    let admin = token(dir.path(), "admin", Scope::Admin);
    let receiver = Receiver::start(loopback(), 0);
    let hook = format!("http://{}/hook", receiver.addr);
    let (_, secret) = register(url, &admin, &hook, &["check.flagged"]);
    let article = upload(url, &admin, "Tin ngắn\n\nHội nghị khai mạc lúc tám giờ.");
    let job = start_render(url, &admin, article);

    let calls = receiver.wait_for("the flag", |c| !c.is_empty());
    calls[0].assert_signed_with(&secret);
    let told = calls[0].json();
    assert_eq!(told["event"], "check.flagged");
    assert_eq!(told["data"]["job"], job);
    assert_eq!(told["data"]["article"], article);
    assert!(told["data"]["flagged"].as_i64().unwrap() >= 1, "{told}");
    assert!(
        told["data"]["summary"]
            .as_str()
            .unwrap()
            .contains("flagged"),
        "{told}"
    );
    let review = request(
        "GET",
        &format!("{url}{}", told["data"]["review"].as_str().unwrap()),
        Some(&admin),
        &[],
        None,
    );
    assert_eq!(review.status, 200);
    assert_eq!(review.json()["status"], "checked");
    // Only what it asked for: the render.done of the same job is not sent.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(receiver.calls().len(), 1);
}
