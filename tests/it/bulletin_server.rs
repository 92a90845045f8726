//! Bulletins through the real service: the server in this process on
//! 127.0.0.1:0 with a temporary data directory, the real SQLite store and
//! the real espeak-ng. Three approved articles are built by the scheduler at
//! the slot's time into the drop folder; a second build reuses the result;
//! an empty day, an article deleted after approval and a missing jingle are
//! recorded failures with their reason and leave the drop folder empty.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bantin::config::Config;
use bantin::server::AppState;
use bantin::store::{Scope, Store};
use bantin::voice::Voices;
use serde_json::{Value, json};

const ARTICLES: [&str; 3] = [
    "Lúa mùa tốt\n\nNăm nay, lúa mùa ở Hưng Yên phát triển tốt trên 30 nghìn ha.",
    "Nhân đạo\n\nHội Chữ thập đỏ trao 200 suất quà cho hộ nghèo ngày 28/7/2021.",
    "Giao thông\n\nCầu Hưng Hà thông xe, rút ngắn đường đi tới Thái Bình 15 km.",
];

struct Server {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(data: &Path, bulletin_toml: &str) -> Server {
        let mut config = Config::parse("test", bulletin_toml).unwrap();
        config.data_dir = data.to_path_buf();
        config.config_dir = Some(data.to_path_buf());
        config.limits.request_timeout = Duration::from_secs(300);
        config.validate().unwrap();
        let store = Store::open(data).unwrap();
        let state = AppState::new(store, config, Voices::builtin()).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                bantin::server::serve(listener, state, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            });
        });
        let addr: SocketAddr = addr_rx.recv().unwrap();
        Server {
            url: format!("http://{addr}"),
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn call(method: &str, url: &str, token: &str, body: Option<Value>) -> (u16, Vec<u8>) {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(300)))
            .build(),
    );
    let mut builder = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("Authorization", format!("Bearer {token}"));
    let bytes = match body {
        Some(Value::String(text)) => {
            builder = builder.header("Content-Type", "text/plain; charset=utf-8");
            text.into_bytes()
        }
        Some(value) => {
            builder = builder.header("Content-Type", "application/json");
            serde_json::to_vec(&value).unwrap()
        }
        None => Vec::new(),
    };
    let mut response = agent.run(builder.body(bytes).unwrap()).unwrap();
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(200 * 1024 * 1024)
        .read_to_vec()
        .unwrap();
    (status, body)
}

fn call_json(method: &str, url: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let (status, bytes) = call(method, url, token, body);
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{e}: {status} {}", String::from_utf8_lossy(&bytes)));
    (status, value)
}

fn editor(data: &Path) -> String {
    Store::open(data)
        .unwrap()
        .add_token("editor", Scope::Editor)
        .unwrap()
        .1
}

fn upload(url: &str, token: &str, text: &str) -> i64 {
    let (status, body) = call_json(
        "POST",
        &format!("{url}/api/articles"),
        token,
        Some(Value::String(text.into())),
    );
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

fn toml(drop: &Path, extra_slot: &str) -> String {
    format!(
        r#"station = "Đài truyền thanh thành phố Hưng Yên"
[bulletin]
station = "Đài truyền thanh thành phố Hưng Yên"
drop_folder = "{}"
catch_up_minutes = 0
retry_attempts = 1
greeting = "{{station}} xin kính chào quý vị và các bạn. Hôm nay, {{weekday}}, {{date}}."
sign_off = "Bản tin {{slot}} đến đây là kết thúc."
{extra_slot}
"#,
        drop.display()
    )
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn the_scheduler_builds_approved_articles_at_the_slot_time_and_a_second_build_reuses() {
    let dir = tempfile::tempdir().unwrap();
    let drop = dir.path().join("drop");
    std::fs::create_dir_all(&drop).unwrap();
    // Fires every minute: the test waits for the next one.
    let server = Server::start(
        dir.path(),
        &toml(
            &drop,
            "[bulletin.slots.moi]\nlabel = \"mới\"\nschedule = \"* * * * *\"\ntarget_minutes = 1\n",
        ),
    );
    let url = &server.url;
    let token = editor(dir.path());
    let ids: Vec<i64> = ARTICLES.iter().map(|a| upload(url, &token, a)).collect();
    // The bulletin date of now, in the station's time zone.
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh").unwrap())
        .date();
    let path = format!("{url}/api/bulletins/{today}/moi");
    let (status, body) = call_json("PUT", &path, &token, Some(json!({ "items": ids })));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 3);
    assert!(body["items"][0]["estimated_duration_ms"].as_u64().unwrap() > 1000);

    // Bounded wait for the scheduled run (the next minute, then the build).
    let deadline = Instant::now() + Duration::from_secs(150);
    let view = loop {
        let (_, view) = call_json("GET", &path, &token, None);
        if !view["runs"].as_array().unwrap().is_empty() {
            break view;
        }
        assert!(Instant::now() < deadline, "no run within the wait: {view}");
        std::thread::sleep(Duration::from_millis(500));
    };
    let run = &view["runs"][0];
    assert_eq!(run["status"], "built", "{view}");
    assert_eq!(run["trigger"], "schedule", "{view}");
    assert_eq!(view["audio"], true, "{view}");

    // Broadcast WAV at −23 LUFS; the script opens with greeting and date.
    let (status, wav) = call("GET", &format!("{path}/audio"), &token, None);
    assert_eq!(status, 200);
    assert_eq!(&wav[12..16], b"bext");
    let reader = hound::WavReader::new(std::io::Cursor::new(&wav)).unwrap();
    let rate = reader.spec().sample_rate;
    let samples: Vec<f32> = reader
        .into_samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect();
    let mut meter = ebur128::EbuR128::new(1, rate, ebur128::Mode::I).unwrap();
    meter.add_frames_f32(&samples).unwrap();
    let lufs = meter.loudness_global().unwrap();
    assert!((lufs + 23.0).abs() <= 0.5, "integrated loudness {lufs}");
    let (_, txt) = call("GET", &format!("{path}/script?format=txt"), &token, None);
    let txt = String::from_utf8(txt).unwrap();
    let weekday = bantin::bulletin::spoken_date::weekday(today);
    let greeting = txt
        .find("] Đài truyền thanh thành phố Hưng Yên xin kính chào quý vị và các bạn.")
        .expect(&txt);
    let date = txt
        .find(&format!("] Hôm nay, {weekday}, ngày "))
        .expect(&txt);
    let first_item = txt.find("] Lúa mùa tốt").expect(&txt);
    assert!(greeting < date && date < first_item, "{txt}");
    let (_, manifest) = call_json("GET", &format!("{path}/manifest"), &token, None);
    let audio_ms = samples.len() as f64 * 1000.0 / f64::from(rate);
    let total_ms = manifest["total_ms"].as_u64().unwrap();
    assert!(
        (total_ms as f64 - audio_ms).abs() <= 1.0,
        "{total_ms} vs {audio_ms}"
    );
    let listed: Vec<String> = manifest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, ids.iter().map(i64::to_string).collect::<Vec<_>>());
    assert_eq!(view["total_ms"].as_u64().unwrap(), total_ms);

    // Building again with the same items reuses the delivered bulletin.
    for _ in 0..2 {
        let (status, run) = call_json("POST", &format!("{path}/build"), &token, None);
        assert_eq!(status, 200, "{run}");
        assert_eq!(run["status"], "reused", "{run}");
    }
    let (_, view) = call_json("GET", &path, &token, None);
    let statuses: Vec<&str> = view["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == "built").count(),
        1,
        "{statuses:?}"
    );
}

#[test]
fn failures_are_recorded_with_their_reason_and_leave_the_drop_folder_empty() {
    let dir = tempfile::tempdir().unwrap();
    let drop = dir.path().join("drop");
    let slots = "[bulletin.slots.sang]\nschedule = \"0 3 1 1 *\"\ntarget_minutes = 5\n\
                 [bulletin.slots.toi]\nschedule = \"0 3 1 1 *\"\ntarget_minutes = 5\n\
                 intro_jingle = \"jingles/missing.wav\"\n";
    // The jingle exists when the configuration is checked and is gone by
    // the time of the build.
    std::fs::create_dir_all(dir.path().join("jingles")).unwrap();
    std::fs::write(dir.path().join("jingles/missing.wav"), b"RIFF").unwrap();
    std::fs::create_dir_all(&drop).unwrap();
    let server = Server::start(dir.path(), &toml(&drop, slots));
    std::fs::remove_file(dir.path().join("jingles/missing.wav")).unwrap();
    let url = &server.url;
    let token = editor(dir.path());
    let base = format!("{url}/api/bulletins/2021-07-29");

    // Bad date, unknown slot, unknown article.
    let (status, _) = call_json(
        "PUT",
        &format!("{url}/api/bulletins/2021-13-40/sang"),
        &token,
        Some(json!({"items": []})),
    );
    assert_eq!(status, 422);
    let (status, _) = call_json(
        "PUT",
        &format!("{base}/nope"),
        &token,
        Some(json!({"items": []})),
    );
    assert_eq!(status, 422);
    let (status, _) = call_json(
        "PUT",
        &format!("{base}/sang"),
        &token,
        Some(json!({"items": [999]})),
    );
    assert_eq!(status, 404);

    // An empty day.
    let (status, body) = call_json("POST", &format!("{base}/sang/build"), &token, None);
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("no articles are approved"),
        "{body}"
    );

    // An article deleted after approval.
    let kept = upload(url, &token, ARTICLES[0]);
    let deleted = upload(url, &token, ARTICLES[1]);
    let (status, _) = call_json(
        "PUT",
        &format!("{base}/sang"),
        &token,
        Some(json!({"items": [kept, deleted]})),
    );
    assert_eq!(status, 200);
    let (status, _) = call(
        "DELETE",
        &format!("{url}/api/articles/{deleted}"),
        &token,
        None,
    );
    assert_eq!(status, 204);
    let (status, body) = call_json("POST", &format!("{base}/sang/build"), &token, None);
    assert_eq!(status, 422, "{body}");
    let reason = body["detail"].as_str().unwrap();
    assert!(
        reason.contains(&format!("article {deleted}")) && reason.contains("deleted"),
        "{reason}"
    );

    // A missing jingle.
    let (status, _) = call_json(
        "PUT",
        &format!("{base}/toi"),
        &token,
        Some(json!({"items": [kept]})),
    );
    assert_eq!(status, 200);
    let (status, body) = call_json("POST", &format!("{base}/toi/build"), &token, None);
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("missing.wav"),
        "{body}"
    );

    // Each failure is in the run history with its reason; nothing delivered.
    let (_, view) = call_json("GET", &format!("{base}/sang"), &token, None);
    let runs = view["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{view}");
    assert!(runs.iter().all(|r| r["status"] == "failed"));
    assert!(runs[0]["error"].as_str().unwrap().contains("deleted"));
    assert!(
        runs[1]["error"]
            .as_str()
            .unwrap()
            .contains("no articles are approved")
    );
    let (_, view) = call_json("GET", &format!("{base}/toi"), &token, None);
    assert!(
        view["runs"][0]["error"]
            .as_str()
            .unwrap()
            .contains("missing.wav"),
        "{view}"
    );
    assert_eq!(view["audio"], false);
    assert!(files_in(&drop).is_empty(), "{:?}", files_in(&drop));
}

#[test]
fn bantin_bulletin_builds_the_approved_items_of_the_store_and_records_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let drop = dir.path().join("drop");
    std::fs::create_dir_all(&drop).unwrap();
    let store = Store::open(&data).unwrap();
    let ids: Vec<i64> = ARTICLES
        .iter()
        .map(|text| {
            store
                .create_article(&bantin::store::NewRevision {
                    title: text.lines().next().unwrap().into(),
                    file_name: None,
                    content_type: "text/plain; charset=utf-8".into(),
                    body: text.as_bytes().to_vec(),
                    author: "test".into(),
                })
                .unwrap()
                .0
        })
        .collect();
    let date: jiff::civil::Date = "2021-07-29".parse().unwrap();
    store.approve_bulletin(date, "sang", &ids, "test").unwrap();
    let config = dir.path().join("bantin.toml");
    std::fs::write(
        &config,
        toml(
            &drop,
            "[bulletin.slots.sang]\nlabel = \"sáng\"\nschedule = \"0 6 * * *\"\ntarget_minutes = 1\n",
        ),
    )
    .unwrap();
    let run = || {
        crate::util::bantin()
            .args([
                "bulletin",
                "--date",
                "2021-07-29",
                "--slot",
                "sang",
                "--config",
            ])
            .arg(&config)
            .arg("--data")
            .arg(&data)
            .output()
            .unwrap()
    };
    let first = run();
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "{stderr}");
    assert!(stderr.contains("built"), "{stderr}");
    assert!(drop.join("BANTIN_2021-07-29_sang.wav").is_file());
    let second = run();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    assert!(stderr.contains("items unchanged"), "{stderr}");
    let key = bantin::bulletin::RunKey {
        date,
        slot: "sang".into(),
    };
    let runs = store.bulletin_runs(&key).unwrap();
    let outcomes: Vec<_> = runs.iter().map(|r| r.outcome.clone()).collect();
    assert_eq!(runs.len(), 2, "{outcomes:?}");
    assert_eq!(outcomes[0], bantin::bulletin::schedule::Outcome::Reused);
    assert!(matches!(
        outcomes[1],
        bantin::bulletin::schedule::Outcome::Built { .. }
    ));
}
