//! Bulletins through the real service: the server in this process on
//! 127.0.0.1:0 with a temporary data directory, the real SQLite store and
//! the real espeak-ng. Three approved articles are built by the scheduler at
//! the slot's time into the drop folder; a second build reuses the result;
//! an empty day, an article deleted after approval and a missing jingle are
//! recorded failures with their reason and leave the drop folder empty.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bantin::store::Scope;
use serde_json::{Value, json};

use crate::util::{request, spawn_serve, start_configured as start};

const ARTICLES: [&str; 3] = [
    "Lúa mùa tốt\n\nNăm nay, lúa mùa ở Hưng Yên phát triển tốt trên 30 nghìn ha.",
    "Nhân đạo\n\nHội Chữ thập đỏ trao 200 suất quà cho hộ nghèo ngày 28/7/2021.",
    "Giao thông\n\nCầu Hưng Hà thông xe, rút ngắn đường đi tới Thái Bình 15 km.",
];

/// A request with a JSON body, or a text body for a JSON string.
fn call(method: &str, url: &str, token: &str, body: Option<Value>) -> (u16, Vec<u8>) {
    let (headers, bytes): (&[(&str, &str)], Vec<u8>) = match body {
        Some(Value::String(text)) => (
            &[("Content-Type", "text/plain; charset=utf-8")],
            text.into_bytes(),
        ),
        Some(value) => (
            &[("Content-Type", "application/json")],
            serde_json::to_vec(&value).unwrap(),
        ),
        None => (&[], Vec::new()),
    };
    let reply = request(method, url, Some(token), headers, Some(&bytes));
    (reply.status, reply.body)
}

fn call_json(method: &str, url: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let (status, bytes) = call(method, url, token, body);
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{e}: {status} {}", String::from_utf8_lossy(&bytes)));
    (status, value)
}

/// An approver's token: uploads, approves for air and arranges bulletins.
fn approver(data: &Path) -> String {
    crate::util::open_store(data)
        .add_token_for("approver", Scope::Approver, "Trần Thị B")
        .unwrap()
        .1
}

/// Uploads an article and approves it for air (only approved articles
/// enter a bulletin).
fn upload(url: &str, token: &str, text: &str) -> i64 {
    let (status, body) = call_json(
        "POST",
        &format!("{url}/api/articles"),
        token,
        Some(Value::String(text.into())),
    );
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    let (status, body) = call_json(
        "POST",
        &format!("{url}/api/articles/{id}/approve"),
        token,
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "approved", "{body}");
    id
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
    let server = start(
        dir.path(),
        &toml(
            &drop,
            "[bulletin.slots.moi]\nlabel = \"mới\"\nschedule = \"* * * * *\"\ntarget_minutes = 1\n",
        ),
    );
    let url = &server.url;
    let token = approver(dir.path());
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

    // An editor revises the last item: the next build speaks only its new
    // text; the rest comes from the service's cue cache.
    let (status, _) = call(
        "PUT",
        &format!("{url}/api/articles/{}", ids[2]),
        &token,
        Some(Value::String(ARTICLES[2].replace("15 km", "20 km"))),
    );
    assert_eq!(status, 201);
    // The edit cleared the approval: no delivery until it is approved again.
    let (status, run) = call_json("POST", &format!("{path}/build"), &token, None);
    assert_eq!(status, 422, "{run}");
    let reason = run["detail"].as_str().unwrap();
    assert!(reason.contains("đã sửa sau khi duyệt"), "{reason}");
    let (status, approval) = call_json(
        "POST",
        &format!("{url}/api/articles/{}/approve", ids[2]),
        &token,
        None,
    );
    assert_eq!(status, 200, "{approval}");
    let (status, run) = call_json("POST", &format!("{path}/build"), &token, None);
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["status"], "built", "{run}");
    let summary = run["summary"].as_str().unwrap();
    let counts: Vec<usize> = summary
        .rsplit_once("; ")
        .and_then(|(_, tail)| tail.strip_suffix(" cues from the cache)"))
        .map(|counts| counts.split(" of ").map(|n| n.parse().unwrap()).collect())
        .unwrap_or_else(|| panic!("no cache figures in {summary:?}"));
    let (cached, cues) = (counts[0], counts[1]);
    assert!(cached > 0 && cached < cues, "{summary}");
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
    let server = start(dir.path(), &toml(&drop, slots));
    std::fs::remove_file(dir.path().join("jingles/missing.wav")).unwrap();
    let url = &server.url;
    let token = approver(dir.path());
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
    let (config, _) = approved_station(dir.path(), &drop);
    let store = crate::util::open_store(&data);
    let date: jiff::civil::Date = "2021-07-29".parse().unwrap();
    let run = || {
        crate::util::on_database(&mut crate::util::bantin(), &data)
            .args(crate::util::bulletin_args(&config))
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

/// A data directory with the three articles approved for the sáng bulletin
/// of 29 July 2021, an editor token, and a bantin.toml delivering into
/// `drop`; returns (bantin.toml, token).
fn approved_station(dir: &Path, drop: &Path) -> (PathBuf, String) {
    let data = dir.join("data");
    let store = crate::util::open_store(&data);
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
    let approver = bantin::store::Actor::named("test");
    for &id in &ids {
        store.approve_article(id, &approver).unwrap();
    }
    store.approve_bulletin(date, "sang", &ids, "test").unwrap();
    let token = store.add_token("editor", Scope::Editor).unwrap().1;
    std::fs::create_dir_all(drop).unwrap();
    let config = dir.join("bantin.toml");
    std::fs::write(
        &config,
        toml(
            drop,
            "[bulletin.slots.sang]\nlabel = \"sáng\"\nschedule = \"0 6 1 1 *\"\ntarget_minutes = 1\n",
        ),
    )
    .unwrap();
    (config, token)
}

/// `bantin serve` of `dir/data` with the station's bantin.toml; a wrapper
/// (`program` and its arguments) may exec it.
fn serve_command(dir: &Path, config: &Path, wrapper: &[&str]) -> std::process::Command {
    let bin = env!("CARGO_BIN_EXE_bantin");
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = std::process::Command::new(program);
            c.args(args).arg(bin);
            c
        }
        None => std::process::Command::new(bin),
    };
    command
        .args(["serve", "--addr", "127.0.0.1:0", "--config"])
        .arg(config)
        .arg("--data")
        .arg(dir.join("data"))
        .env("BANTIN_REQUEST_TIMEOUT", "300");
    crate::util::on_database(&mut command, &dir.join("data"));
    command
}

/// Builds the sáng bulletin of 29 July 2021 through the API and checks the
/// failure: the answer and the recorded run both give `reason`, no bulletin
/// audio is offered, and the drop folder holds nothing, not even a hidden
/// temporary file.
fn assert_recorded_failure(url: &str, token: &str, drop: &Path, reason: &str) {
    let path = format!("{url}/api/bulletins/2021-07-29/sang");
    let (status, body) = call_json("POST", &format!("{path}/build"), token, None);
    assert_eq!(status, 422, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("cannot write into the drop folder") && detail.contains(reason),
        "{detail}"
    );
    let (_, view) = call_json("GET", &path, token, None);
    let run = &view["runs"][0];
    assert_eq!(run["status"], "failed", "{view}");
    assert!(run["error"].as_str().unwrap().contains(reason), "{view}");
    assert_eq!(view["audio"], false, "{view}");
    assert!(files_in(drop).is_empty(), "{:?}", files_in(drop));
}

#[test]
fn a_full_drop_folder_is_a_recorded_failure_of_the_server_and_the_next_build_delivers() {
    let dir = tempfile::tempdir().unwrap();
    let drop = dir.path().join("drop");
    let (config, token) = approved_station(dir.path(), &drop);
    // A "full disk": a file-size limit on the server process stops the
    // bulletin's WAV (a few MB) while it is staged in the drop folder. This
    // works as root too, where a read-only folder does not stop writes.
    // SIGXFSZ is ignored so the write fails with EFBIG instead of killing
    // the server; the database and the small sidecars stay under the limit.
    let limited = serve_command(
        dir.path(),
        &config,
        &[
            "bash",
            "-c",
            "trap '' XFSZ; ulimit -f 500; exec \"$@\"",
            "bash",
        ],
    );
    let (server, url) = spawn_serve(limited);
    assert_recorded_failure(&url, &token, &drop, "File too large");
    // SIGKILL is enough: the failed run is recorded.
    std::mem::drop(server);

    // Room again: the next build delivers the four files.
    let (_server, url) = spawn_serve(serve_command(dir.path(), &config, &[]));
    let (status, run) = call_json(
        "POST",
        &format!("{url}/api/bulletins/2021-07-29/sang/build"),
        &token,
        None,
    );
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["status"], "built", "{run}");
    let names: Vec<String> = files_in(&drop)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "BANTIN_2021-07-29_sang.json",
            "BANTIN_2021-07-29_sang.manifest.json",
            "BANTIN_2021-07-29_sang.txt",
            "BANTIN_2021-07-29_sang.wav"
        ]
    );
}

#[test]
fn a_read_only_drop_folder_is_a_recorded_failure_of_the_server() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let drop = dir.path().join("drop");
    let (config, token) = approved_station(dir.path(), &drop);
    std::fs::set_permissions(&drop, std::fs::Permissions::from_mode(0o555)).unwrap();
    let mut command = serve_command(dir.path(), &config, &[]);
    if is_root() {
        // Root writes into a read-only folder regardless; the service runs
        // as an unprivileged user instead, owning its data directory but not
        // the drop folder (as a playout folder it may only read).
        const NOBODY: u32 = 65_534;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        chown_all(&dir.path().join("data"), NOBODY);
        command.uid(NOBODY).gid(NOBODY);
    }
    let (_server, url) = spawn_serve(command);
    assert_recorded_failure(&url, &token, &drop, "Permission denied");
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // A file this process makes is owned by its effective user.
    let probe = tempfile::NamedTempFile::new().unwrap();
    probe.as_file().metadata().unwrap().uid() == 0
}

fn chown_all(path: &Path, owner: u32) {
    std::os::unix::fs::chown(path, Some(owner), Some(owner)).unwrap();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_all(&entry.unwrap().path(), owner);
        }
    }
}
