//! The platform of many stations end to end: two `bantin serve` nodes
//! (serving, not rendering) and three `bantin worker` processes on one
//! PostgreSQL database and one shared data directory; two stations; thirty
//! articles uploaded through both nodes and rendered with a voice of fixed
//! latency; one worker killed with SIGKILL while it holds a job. Then every
//! job is done once, with one audio file and one `render.done` webhook call
//! to its own station's receiver, no half file is left, neither station
//! sees the other's articles, jobs or lexicon, each node's `/metrics` shows
//! every station's queue empty and its renders done, and the surviving
//! workers drain on SIGTERM.
//!
//! Always on PostgreSQL: the server named by `BANTIN_TEST_DATABASE`, or a
//! throwaway cluster this test starts with `scripts/postgres-test` (and
//! stops when it started it). Without PostgreSQL's binaries it fails and
//! says how to install them; it is never skipped.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::hooks::{Receiver, loopback};
use crate::util::{Running, bantin, files_below, repo, request, run_ok, spawn_serve};

/// The platform tests share one PostgreSQL server, which the first starts
/// (and stops) when none is named: one test at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Seconds the test voice waits before each breath group.
const LATENCY_SECONDS: &str = "0.15";
const ARTICLES_PER_STATION: usize = 15;
const WORKERS: usize = 3;

/// The PostgreSQL server of this test: the one `BANTIN_TEST_DATABASE`
/// names, or the throwaway cluster of `scripts/postgres-test`, stopped on
/// drop when this test started it.
struct PostgresServer {
    url: String,
    started_here: bool,
}

impl PostgresServer {
    fn get() -> PostgresServer {
        let variable = bantin::store::testing::DATABASE_VARIABLE;
        if let Some(url) = std::env::var(variable).ok().filter(|u| !u.is_empty()) {
            return PostgresServer {
                url,
                started_here: false,
            };
        }
        let installed = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .any(|version| version.path().join("bin/initdb").exists());
        assert!(
            installed,
            "the platform test needs PostgreSQL's server (initdb under /usr/lib/postgresql): \
             run scripts/ensure-deps test, or name a server in {variable}"
        );
        let script = repo().join("scripts/postgres-test");
        let running = Command::new(&script)
            .arg("url")
            .stderr(Stdio::null())
            .output();
        if let Ok(output) = running
            && output.status.success()
        {
            return PostgresServer {
                url: String::from_utf8(output.stdout).unwrap().trim().to_string(),
                started_here: false,
            };
        }
        let output = Command::new(&script).arg("start").output().unwrap();
        assert!(
            output.status.success(),
            "scripts/postgres-test start failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        PostgresServer {
            url: String::from_utf8(output.stdout).unwrap().trim().to_string(),
            started_here: true,
        }
    }

    /// A new, empty database on this server named `name`; its URL.
    fn create_database(&self, name: &str) -> String {
        let mut client = postgres::Client::connect(&self.url, postgres::NoTls)
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", self.url));
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let (base, query) = self.url.split_once('?').unwrap_or((&self.url, ""));
        let scheme_end = base.find("://").map_or(0, |at| at + 3);
        let server = match base[scheme_end..].find('/') {
            Some(slash) => &base[..scheme_end + slash],
            None => base,
        };
        match query {
            "" => format!("{server}/{name}"),
            query => format!("{server}/{name}?{query}"),
        }
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        if self.started_here {
            let _ = Command::new(repo().join("scripts/postgres-test"))
                .arg("stop")
                .status();
        }
    }
}

/// One station as a test client sees it: its token and what it made.
struct Station {
    slug: &'static str,
    token: String,
    articles: Vec<i64>,
    jobs: Vec<i64>,
}

/// `bantin` on the platform: rows in `database`, files in `data`.
fn platform_command(database: &str, data: &Path) -> Command {
    let mut command = bantin();
    command
        .arg("--database")
        .arg(database)
        .arg("--data")
        .arg(data);
    command
}

/// The secret a `bantin` command printed: its last line on stdout.
fn printed_secret(command: &mut Command) -> String {
    let output = run_ok(command);
    let stdout = String::from_utf8(output.stdout).unwrap();
    stdout
        .lines()
        .map(str::trim)
        .rfind(|line| !line.is_empty())
        .unwrap_or_else(|| panic!("no secret printed: {stdout:?}"))
        .to_string()
}

/// A short article of its own for `station` (three sentences, each one
/// breath group, none shared with another article, so every render speaks
/// all of them).
fn article_text(station: &str, number: usize) -> String {
    format!(
        "Tin số {number} của {station}\n\n\
         Sáng nay, tổ dân phố số {number} tổ chức buổi ra quân vệ sinh môi trường. \
         Hơn {} hộ dân đã cùng nhau dọn dẹp {} tuyến đường và khơi thông cống rãnh. \
         Ủy ban phường khen ngợi {} tình nguyện viên đã tham gia đầy đủ.\n",
        number * 10 + 20,
        number + 2,
        number * 3 + 5,
    )
}

/// Starts `bantin worker` writing its log to `log`.
fn spawn_worker(database: &str, data: &Path, log: &Path) -> Running {
    let mut command = platform_command(database, data);
    let child = command
        .args(["worker", "--concurrency", "1"])
        .env("FIXED_LATENCY_SECONDS", LATENCY_SECONDS)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    Running(child)
}

/// POSTs `body` as JSON to `path` on `node` with `token`, asserts the
/// answer's `status` and returns its body.
fn post_json(node: &str, token: &str, path: &str, body: &Value, status: u16) -> Value {
    let reply = request(
        "POST",
        &format!("{node}{path}"),
        Some(token),
        &[("Content-Type", "application/json")],
        Some(body.to_string().as_bytes()),
    );
    assert_eq!(
        reply.status,
        status,
        "POST {path}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

/// Asks `node` for `path` with `token`; the reply's status and body.
fn get(node: &str, token: &str, path: &str) -> (u16, Value) {
    let reply = request("GET", &format!("{node}{path}"), Some(token), &[], None);
    let body = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    (reply.status, body)
}

#[test]
fn two_nodes_three_workers_two_stations_one_worker_killed_every_job_done_once() {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let postgres = PostgresServer::get();
    let database = postgres.create_database(&format!(
        "bantin_platform_{}_{}",
        std::process::id(),
        jiff::Timestamp::now().as_millisecond()
    ));
    let shared = tempfile::tempdir().unwrap();
    let data = shared.path();
    let logs = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(data.join("voices")).unwrap();
    std::fs::copy(
        repo().join("tests/it/fixtures/platform/fixed-latency.toml"),
        data.join("voices/fixed-latency.toml"),
    )
    .unwrap();

    // Two stations: one made on the command line, one over HTTP with a
    // platform token.
    let first_token = printed_secret(platform_command(&database, data).args([
        "station",
        "create",
        "phuong-mot",
        "--name",
        "Đài phường Một",
    ]));
    let platform_token = printed_secret(
        platform_command(&database, data).args(["token", "add", "van-hanh", "--scope", "platform"]),
    );

    let mut nodes = Vec::new();
    for _ in 0..2 {
        let mut command = platform_command(&database, data);
        command.args(["serve", "--addr", "127.0.0.1:0", "--render-workers", "0"]);
        nodes.push(spawn_serve(command));
    }
    let urls: Vec<String> = nodes.iter().map(|(_, url)| url.clone()).collect();

    let created = post_json(
        &urls[1],
        &platform_token,
        "/api/stations",
        &json!({"slug": "phuong-hai", "name": "Đài phường Hai"}),
        201,
    );
    let second_token = created["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("no token secret in {created}"))
        .to_string();
    assert_eq!(created["token"]["scope"], "admin", "{created}");
    let mut stations = [
        Station {
            slug: "phuong-mot",
            token: first_token,
            articles: Vec::new(),
            jobs: Vec::new(),
        },
        Station {
            slug: "phuong-hai",
            token: second_token,
            articles: Vec::new(),
            jobs: Vec::new(),
        },
    ];

    // Each station tells its own receiver of every finished render.
    let receivers: Vec<Receiver> = stations
        .iter()
        .map(|station| {
            let receiver = Receiver::start(loopback(), 0);
            post_json(
                &urls[0],
                &station.token,
                "/api/webhooks",
                &json!({
                    "url": format!("http://{}/hook", receiver.addr),
                    "events": ["render.done"],
                    "description": station.slug,
                }),
                201,
            );
            receiver
        })
        .collect();

    let mut workers: Vec<Running> = (0..WORKERS)
        .map(|n| {
            spawn_worker(
                &database,
                data,
                &logs.path().join(format!("worker-{n}.log")),
            )
        })
        .collect();

    // Thirty articles, the stations taking turns, each uploaded through
    // one node and its render asked for through the other.
    for number in 0..ARTICLES_PER_STATION * 2 {
        let station = &mut stations[number % 2];
        let upload_node = &urls[(number / 2) % 2];
        let render_node = &urls[(number / 2 + 1) % 2];
        let id = crate::util::upload_text(
            upload_node,
            &station.token,
            &article_text(station.slug, number / 2 + 1),
        );
        let render = post_json(
            render_node,
            &station.token,
            &format!("/api/articles/{id}/render"),
            &json!({"voice": "fixed-latency"}),
            202,
        );
        station.articles.push(id);
        station.jobs.push(render["job"]["id"].as_i64().unwrap());
    }

    // A worker holding a job that has spoken at least one breath group:
    // the store's lease names it.
    let mut client = postgres::Client::connect(&database, postgres::NoTls).unwrap();
    let pids: Vec<u32> = workers.iter().map(|w| w.0.id()).collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    let (held_job, holder) = loop {
        let rows = client
            .query(
                "SELECT j.id, w.pid FROM render_jobs j JOIN workers w ON w.id = j.lease_owner \
                 WHERE j.state = 'running' AND j.cue_done >= 1 ORDER BY j.id",
                &[],
            )
            .unwrap();
        let held = rows.iter().find_map(|row| {
            let pid = u32::try_from(row.get::<_, i64>(1)).ok()?;
            pids.contains(&pid).then(|| (row.get::<_, i64>(0), pid))
        });
        if let Some(held) = held {
            break held;
        }
        if Instant::now() > deadline {
            let seen: Vec<String> = client
                .query(
                    "SELECT id::text || ' ' || state || ' owner ' || coalesce(lease_owner, '-') \
                     FROM render_jobs ORDER BY id",
                    &[],
                )
                .unwrap()
                .iter()
                .map(|row| row.get(0))
                .collect();
            panic!("no worker (pids {pids:?}) was seen holding a job half spoken: {seen:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let owner = stations
        .iter()
        .find(|s| s.jobs.contains(&held_job))
        .unwrap();
    let (status, job) = get(&urls[0], &owner.token, &format!("/api/jobs/{held_job}"));
    assert_eq!(status, 200);
    assert!(
        ["running", "done"].contains(&job["state"].as_str().unwrap()),
        "{job}"
    );
    let killed = workers.remove(pids.iter().position(|&pid| pid == holder).unwrap());
    drop(killed); // SIGKILL, then reaped

    // The survivors finish every job, the killed worker's too.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let rows = client
            .query(
                "SELECT state, count(*) FROM render_jobs GROUP BY state",
                &[],
            )
            .unwrap();
        let counts: Vec<(String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        assert!(
            counts
                .iter()
                .all(|(state, _)| state != "failed" && state != "cancelled"),
            "jobs failed: {counts:?}"
        );
        if counts == [("done".to_string(), 30)] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the jobs did not all finish: {counts:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Each job done once with its own audio; the killed one took a second
    // attempt, the others one.
    let mut audio_hashes = BTreeSet::new();
    for (number, station) in stations.iter().enumerate() {
        for (&article, &job_id) in station.articles.iter().zip(&station.jobs) {
            let node = &urls[number];
            let (status, job) = get(node, &station.token, &format!("/api/jobs/{job_id}"));
            assert_eq!(status, 200, "{job}");
            assert_eq!(job["state"], "done", "{job}");
            let attempts = if job_id == held_job { 2 } else { 1 };
            assert_eq!(job["attempts"], attempts, "job {job_id}: {job}");
            let audio = request(
                "GET",
                &format!("{node}/api/articles/{article}/audio"),
                Some(&station.token),
                &[],
                None,
            );
            assert_eq!(audio.status, 200, "article {article}");
            let wav =
                hound::WavReader::new(std::io::Cursor::new(&audio.body)).expect("a whole WAV");
            assert!(wav.duration() > 0);
            assert!(
                audio_hashes.insert(bantin::store::sha256_hex(&audio.body)),
                "article {article} has the audio of another"
            );
        }
    }
    let audio_rows: i64 = client
        .query_one("SELECT count(*) FROM audio", &[])
        .unwrap()
        .get(0);
    assert_eq!(audio_rows, 30, "one finished audio per job");

    // Each render was told once, to its own station's receiver only.
    for (station, receiver) in stations.iter().zip(&receivers) {
        let calls = receiver.wait_for("every render.done", |calls| {
            calls.len() >= ARTICLES_PER_STATION
        });
        let mut told: Vec<i64> = calls
            .iter()
            .map(|call| {
                assert_eq!(call.event, "render.done");
                call.json()["data"]["job"].as_i64().unwrap()
            })
            .collect();
        told.sort_unstable();
        let mut own = station.jobs.clone();
        own.sort_unstable();
        assert_eq!(
            told, own,
            "{}'s receiver heard each of its jobs once",
            station.slug
        );
    }
    let done_events: i64 = client
        .query_one(
            "SELECT count(*) FROM webhook_deliveries WHERE event = 'render.done'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(done_events, 30, "one render.done per job in the outbox");

    // No half file anywhere in the shared directory.
    let half: Vec<PathBuf> = files_below(data)
        .into_iter()
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.starts_with(".bantin-") && name.ends_with(".part")
        })
        .collect();
    assert!(half.is_empty(), "half files left: {half:?}");

    // Neither station sees the other's rows, through either node.
    let lexicon_keys = ["PMOT", "PHAI"];
    let mut lexicon_ids = Vec::new();
    for (station, key) in stations.iter().zip(lexicon_keys) {
        let added = post_json(
            &urls[0],
            &station.token,
            "/api/lexicon",
            &json!({"key": key, "spoken": station.slug}),
            201,
        );
        lexicon_ids.push(added["id"].as_i64().unwrap());
    }
    for (number, station) in stations.iter().enumerate() {
        let other = &stations[1 - number];
        for node in &urls {
            let (status, listed) = get(node, &station.token, "/api/articles?limit=500");
            assert_eq!(status, 200);
            let listed: BTreeSet<i64> = listed
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_i64().unwrap())
                .collect();
            let own: BTreeSet<i64> = station.articles.iter().copied().collect();
            assert_eq!(listed, own, "{} lists only its own articles", station.slug);

            let (status, entries) = get(node, &station.token, "/api/lexicon");
            assert_eq!(status, 200);
            let keys: Vec<&str> = entries
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["key"].as_str().unwrap())
                .collect();
            assert_eq!(keys, [lexicon_keys[number]], "{}'s lexicon", station.slug);

            for (&article, &job) in other.articles.iter().zip(&other.jobs) {
                for path in [
                    format!("/api/articles/{article}"),
                    format!("/api/articles/{article}/audio"),
                    format!("/api/articles/{article}/jobs"),
                    format!("/api/jobs/{job}"),
                    format!("/api/jobs/{job}/audio"),
                ] {
                    let (status, body) = get(node, &station.token, &path);
                    assert_eq!(status, 404, "{} sees {path}: {body}", station.slug);
                }
            }
        }
        let removed = request(
            "DELETE",
            &format!("{}/api/lexicon/{}", urls[1], lexicon_ids[1 - number]),
            Some(&station.token),
            &[],
            None,
        );
        assert_eq!(
            removed.status, 404,
            "{} removes the other's entry",
            station.slug
        );
    }

    // Each node reports the database and, per station, an empty queue and
    // its fifteen renders done.
    for node in &urls {
        let health = request("GET", &format!("{node}/healthz"), None, &[], None);
        assert_eq!(health.status, 200);
        assert!(
            String::from_utf8_lossy(&health.body).contains("database"),
            "{}",
            String::from_utf8_lossy(&health.body)
        );
        let metrics = request("GET", &format!("{node}/metrics"), None, &[], None);
        let metrics = String::from_utf8(metrics.body).unwrap();
        for station in &stations {
            let slug = format!("\"{}\"", station.slug);
            let has = |name: &str, labels: &str, value: &str| {
                metrics.lines().any(|line| {
                    line.starts_with(name)
                        && line.contains(&slug)
                        && line.contains(labels)
                        && line.ends_with(value)
                })
            };
            assert!(
                has("bantin_render_queue_depth{", "", " 0"),
                "{}'s queue depth: {metrics}",
                station.slug
            );
            assert!(
                has("bantin_render_jobs{", "state=\"done\"", " 15"),
                "{}'s renders done: {metrics}",
                station.slug
            );
        }
    }

    // The survivors drain on SIGTERM and exit cleanly.
    for worker in &mut workers {
        let pid = i32::try_from(worker.0.id()).unwrap();
        // SAFETY: a plain kill(2) of a child this test started.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    for worker in &mut workers {
        let status = loop {
            if let Some(status) = worker.0.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "a worker did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "a worker ended with {status}");
    }
}

/// A station's own bulletin: one slot at midnight, caught up all day, so a
/// node starting now builds today's at once.
const MIDNIGHT_BULLETIN: &str = "[bulletin]\n\
    station = \"Đài phường\"\n\
    drop_folder = \"drop\"\n\
    time_zone = \"Asia/Ho_Chi_Minh\"\n\
    catch_up_minutes = 1440\n\
    retry_attempts = 1\n\
    greeting = \"Xin chào.\"\n\
    sign_off = \"Hết.\"\n\
    [bulletin.slots.dem]\n\
    label = \"đêm\"\n\
    schedule = \"0 0 * * *\"\n\
    target_minutes = 1\n";

#[test]
fn two_nodes_build_each_stations_scheduled_bulletin_once() {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let postgres = PostgresServer::get();
    let database = postgres.create_database(&format!(
        "bantin_schedule_{}_{}",
        std::process::id(),
        jiff::Timestamp::now().as_millisecond()
    ));
    let shared = tempfile::tempdir().unwrap();
    let data = shared.path();
    let settings = data.join("bulletin.toml");
    std::fs::write(&settings, MIDNIGHT_BULLETIN).unwrap();
    let tz = jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
    let today = jiff::Timestamp::now().to_zoned_datetime(tz).date();
    let slugs = ["phuong-mot", "phuong-hai"];
    let store = bantin::store::Store::open_with(data, Some(&database)).unwrap();
    for slug in slugs {
        run_ok(platform_command(&database, data).args(["station", "create", slug, "--name", slug]));
        run_ok(
            platform_command(&database, data)
                .args(["station", "settings", slug])
                .arg(&settings),
        );
        // One approved article in tonight's bulletin, before any node starts.
        let station = store.station_by_slug(slug).unwrap();
        let scoped = store.for_station(station.id);
        let (article, _) = scoped
            .create_article(&bantin::store::NewRevision {
                title: format!("Tin của {slug}"),
                file_name: None,
                content_type: "text/plain".into(),
                body: format!("Tin của {slug}\n\nSáng nay phường tổ chức ra quân vệ sinh.\n")
                    .into_bytes(),
                author: "test".into(),
            })
            .unwrap();
        scoped
            .approve_article(article, &bantin::store::Actor::named("Trần Thị B"))
            .unwrap();
        scoped
            .approve_bulletin(today, "dem", &[article], "Trần Thị B")
            .unwrap();
    }
    // Two nodes start together; each catches up tonight's bulletin of both
    // stations.
    let nodes: Vec<_> = (0..2)
        .map(|_| {
            let mut command = platform_command(&database, data);
            command.args(["serve", "--addr", "127.0.0.1:0", "--render-workers", "0"]);
            spawn_serve(command)
        })
        .collect();
    let runs = |slug: &str| -> Vec<(String, String)> {
        let station = store.station_by_slug(slug).unwrap();
        store
            .read(|db| {
                db.query_map(
                    "SELECT run_trigger, status FROM bulletin_runs \
                     WHERE station_id = ?1 AND date = ?2 AND slot = 'dem' ORDER BY id",
                    bantin::store::db::params![station.id, today.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
            })
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    while slugs.iter().any(|slug| runs(slug).is_empty()) {
        assert!(
            Instant::now() < deadline,
            "no run of tonight's bulletins: {:?}",
            slugs.map(runs)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Time for a second node's run to show, had it made one.
    std::thread::sleep(Duration::from_secs(3));
    for slug in slugs {
        assert_eq!(
            runs(slug),
            [("catch_up".to_string(), "built".to_string())],
            "{slug}: one run, by one node"
        );
        let drop = data.join("stations").join(slug).join("drop");
        let wavs: Vec<PathBuf> = files_below(&drop)
            .into_iter()
            .filter(|f| f.extension().is_some_and(|e| e == "wav"))
            .collect();
        assert_eq!(wavs.len(), 1, "{slug}'s drop folder: {wavs:?}");
    }
    drop(nodes);
}
