//! Under pressure: a voice program that hangs (cancel, SIGTERM, `kill -9`
//! of the real `bantin serve`), a database another process holds, a full
//! disk, and voices whose program is missing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{Running, TestServer, request, serve_command};
use bantin::config::Config;
use bantin::store::{Scope, Store};

fn tokens(data: &Path) -> (String, String) {
    let store = Store::open(data).unwrap();
    let (_, editor) = store.add_token("editor", Scope::Editor).unwrap();
    let (_, reader) = store.add_token("reader", Scope::Read).unwrap();
    (editor, reader)
}

fn upload(url: &str, token: &str, text: &str) -> crate::util::Reply {
    request(
        "POST",
        &format!("{url}/api/articles"),
        Some(token),
        &[("content-type", "text/plain; charset=utf-8")],
        Some(text.as_bytes()),
    )
}

const ARTICLE: &str = "Tin thử\n\nSáng nay, Ủy ban nhân dân xã họp bàn việc làm đường.";

/// A voice whose program hangs behind a shell script: the script starts
/// `sleep 1000` as a child of its own (not `exec`), so killing the script
/// alone would leave the sleep behind. Both write their pid into `pids/`.
fn hung_voice(data: &Path) -> PathBuf {
    let pids = data.join("pids");
    std::fs::create_dir_all(&pids).unwrap();
    let script = data.join("hung.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho $$ > {p}/sh.tmp && mv {p}/sh.tmp {p}/sh\n\
             sleep 1000 &\necho $! > {p}/sleep.tmp && mv {p}/sleep.tmp {p}/sleep\nwait\n",
            p = pids.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::create_dir_all(data.join("voices")).unwrap();
    std::fs::write(
        data.join("voices/hung.toml"),
        format!(
            "name = \"hung\"\nsyllables_per_minute = 233\n[command]\nprogram = \"{}\"\n\
             args = [\"{{output}}\"]\n",
            script.display()
        ),
    )
    .unwrap();
    pids
}

/// The pids of the voice program and its sleep, once both have started.
fn wait_for_pids(pids: &Path) -> [i32; 2] {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let read = |name: &str| {
            std::fs::read_to_string(pids.join(name))
                .ok()
                .and_then(|s| s.trim().parse::<i32>().ok())
        };
        if let (Some(sh), Some(sleep)) = (read("sh"), read("sleep")) {
            return [sh, sleep];
        }
        assert!(Instant::now() < deadline, "the voice program never started");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Running, not a zombie (an orphan's zombie waits for init to reap it).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat.rsplit(')').next().unwrap_or("").trim_start();
        !state.starts_with('Z') && !state.starts_with('X')
    })
}

fn assert_gone_soon(pids: &[i32], context: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|&p| alive(p)) {
        assert!(
            Instant::now() < deadline,
            "{context}: voice processes {pids:?} are still running"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn render(url: &str, editor: &str, article: i64, voice: &str) -> crate::util::Reply {
    request(
        "POST",
        &format!("{url}/api/articles/{article}/render"),
        Some(editor),
        &[("content-type", "application/json")],
        Some(format!(r#"{{"voice": "{voice}"}}"#).as_bytes()),
    )
}

fn job_state(url: &str, reader: &str, job: i64) -> Value {
    request(
        "GET",
        &format!("{url}/api/jobs/{job}"),
        Some(reader),
        &[],
        None,
    )
    .json()
}

fn spawn_serve(data: &Path, grace_seconds: u64) -> (Running, String) {
    let mut command = serve_command(data);
    command
        .env("BANTIN_JOB_CONCURRENCY", "1")
        .env("BANTIN_SHUTDOWN_GRACE", grace_seconds.to_string());
    crate::util::spawn_serve(command)
}

/// Uploads an article and starts a render with the hung voice; returns
/// the job id and the pids of the hung program once it runs.
fn start_hung_render(url: &str, editor: &str, pids: &Path) -> (i64, [i32; 2]) {
    let created = upload(url, editor, ARTICLE);
    assert_eq!(created.status, 201);
    let article = created.json()["id"].as_i64().unwrap();
    let reply = render(url, editor, article, "hung");
    assert_eq!(
        reply.status,
        202,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let job = reply.json()["job"]["id"].as_i64().unwrap();
    (job, wait_for_pids(pids))
}

#[test]
fn cancelling_a_job_whose_voice_hangs_ends_it_cancelled_and_kills_the_program() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (editor, reader) = tokens(data);
    let pids = hung_voice(data);
    let (_server, url) = spawn_serve(data, 20);
    let (job, running) = start_hung_render(&url, &editor, &pids);
    assert!(running.iter().all(|&p| alive(p)));

    let cancel = request(
        "POST",
        &format!("{url}/api/jobs/{job}/cancel"),
        Some(&editor),
        &[],
        None,
    );
    assert_eq!(
        cancel.status,
        202,
        "{}",
        String::from_utf8_lossy(&cancel.body)
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let ended = loop {
        let state = job_state(&url, &reader, job);
        if state["state"] != "running" && state["state"] != "queued" {
            break state;
        }
        assert!(
            Instant::now() < deadline,
            "still running after cancel: {state}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(ended["state"], "cancelled", "{ended}");
    assert_gone_soon(&running, "after cancel");
}

#[test]
fn sigterm_requeues_a_hung_render_within_the_grace_and_kill_9_leaves_no_voice_program() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (editor, reader) = tokens(data);
    let pids = hung_voice(data);
    let grace = 2;
    let (mut server, url) = spawn_serve(data, grace);
    let (job, running) = start_hung_render(&url, &editor, &pids);

    let asked = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = loop {
        if let Some(exit) = server.0.try_wait().unwrap() {
            break exit;
        }
        assert!(
            asked.elapsed() < Duration::from_secs(grace + 10),
            "bantin serve still running {:?} after SIGTERM (grace {grace} s)",
            asked.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit}");
    assert_gone_soon(&running, "after SIGTERM");
    let db = rusqlite::Connection::open(data.join(bantin::store::DATABASE_FILE)).unwrap();
    let state: String = db
        .query_row("SELECT state FROM render_jobs WHERE id = ?1", [job], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(
        state, "queued",
        "the interrupted job goes back to the queue"
    );
    drop(db);

    // The restart resumes it (its voice hangs again), then a kill -9.
    std::fs::remove_dir_all(&pids).unwrap();
    std::fs::create_dir_all(&pids).unwrap();
    let (mut server, url) = spawn_serve(data, grace);
    let again = wait_for_pids(&pids);
    let resumed = job_state(&url, &reader, job);
    assert_eq!(resumed["state"], "running", "{resumed}");
    assert_eq!(resumed["attempts"], 2, "{resumed}");
    server.0.kill().unwrap(); // SIGKILL: nothing of bantin runs after this
    server.0.wait().unwrap();
    assert_gone_soon(&again, "after kill -9 of bantin serve");
}

#[test]
fn writes_to_a_database_another_process_holds_get_503_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (editor, reader) = tokens(data);
    let server = TestServer::start(
        data,
        Config {
            data_dir: data.to_path_buf(),
            ..Config::default()
        },
        None,
    );
    let url = server.url.clone();
    assert_eq!(upload(&url, &editor, ARTICLE).status, 201);

    let holder = rusqlite::Connection::open(data.join(bantin::store::DATABASE_FILE)).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let refused = upload(&url, &editor, ARTICLE);
    refused.assert_error(503, "upload while the database is held");
    assert_eq!(refused.header("retry-after"), Some("2"));
    let detail = refused.json()["detail"].as_str().unwrap().to_string();
    assert!(
        detail.contains("busy") && detail.contains("try again"),
        "{detail}"
    );
    // Readers are not held up (WAL).
    let list = request(
        "GET",
        &format!("{url}/api/articles"),
        Some(&reader),
        &[],
        None,
    );
    assert_eq!(list.status, 200);
    holder.execute_batch("ROLLBACK").unwrap();
    assert_eq!(upload(&url, &editor, ARTICLE).status, 201);
}

/// A small tmpfs mounted for the test, unmounted when dropped.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn uploads_to_a_full_disk_get_507() {
    let dir = tempfile::tempdir().unwrap();
    let point = dir.path().join("disk");
    std::fs::create_dir_all(&point).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(&point)
        .output();
    match mounted {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            eprintln!(
                "skipped: cannot mount a tmpfs here: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return;
        }
        Err(e) => {
            eprintln!("skipped: cannot run mount: {e}");
            return;
        }
    }
    let mount = Mount(point.clone());
    let data = point.join("data");
    let (editor, reader) = tokens(&data);
    let server = TestServer::start(
        &data,
        Config {
            data_dir: data.clone(),
            ..Config::default()
        },
        None,
    );
    let url = server.url.clone();
    assert_eq!(upload(&url, &editor, ARTICLE).status, 201);
    // Fill the disk to the last byte.
    {
        use std::io::Write;
        let mut filler = std::fs::File::create(point.join("filler")).unwrap();
        let block = vec![0u8; 64 * 1024];
        loop {
            match filler.write(&block) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    assert_eq!(e.kind(), std::io::ErrorKind::StorageFull, "{e}");
                    break;
                }
            }
        }
    }
    let body = format!(
        "Tin dài\n\n{}",
        "Ủy ban nhân dân xã họp bàn việc làm đường. ".repeat(2000)
    );
    let refused = upload(&url, &editor, &body);
    refused.assert_error(507, "upload to a full disk");
    let detail = refused.json()["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("full"), "{detail}");
    // Reading still works, and space freed is used again.
    let list = request(
        "GET",
        &format!("{url}/api/articles"),
        Some(&reader),
        &[],
        None,
    );
    assert_eq!(list.status, 200);
    std::fs::remove_file(point.join("filler")).unwrap();
    assert_eq!(upload(&url, &editor, &body).status, 201);
    server.stop();
    drop(mount);
}

#[test]
fn healthz_reports_each_voice_and_a_render_for_a_missing_program_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (editor, _) = tokens(data);
    std::fs::create_dir_all(data.join("voices")).unwrap();
    std::fs::write(
        data.join("voices/missing.toml"),
        "name = \"missing\"\nsyllables_per_minute = 233\n[command]\n\
         program = \"/nonexistent/bantin-voice\"\nargs = [\"{output}\"]\n",
    )
    .unwrap();
    let (_server, url) = spawn_serve(data, 20);
    let health = request("GET", &format!("{url}/healthz"), None, &[], None);
    assert_eq!(health.status, 200);
    let body = health.json();
    assert_eq!(body["status"], "degraded", "{body}");
    let voices = body["voices"].as_array().unwrap();
    let voice = |name: &str| {
        voices
            .iter()
            .find(|v| v["voice"] == name)
            .unwrap_or_else(|| panic!("{name} missing from {body}"))
    };
    assert_eq!(
        voice("vi")["available"],
        true,
        "espeak-ng is installed here"
    );
    assert_eq!(voice("vi")["default"], true);
    assert_eq!(voice("missing")["available"], false);
    assert!(
        voice("missing")["problem"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/bantin-voice"),
        "{body}"
    );

    let article = upload(&url, &editor, ARTICLE).json()["id"]
        .as_i64()
        .unwrap();
    let refused = render(&url, &editor, article, "missing");
    refused.assert_error(422, "render with a missing program");
    let detail = refused.json()["detail"].as_str().unwrap().to_string();
    assert!(
        detail.contains("missing") && detail.contains("/nonexistent/bantin-voice"),
        "{detail}"
    );
    drop(_server);

    // The default voice cannot speak: not ok.
    let mut command = serve_command(data);
    command.env("BANTIN_DEFAULT_VOICE", "missing");
    let (_server, url) = crate::util::spawn_serve(command);
    let health = request("GET", &format!("{url}/healthz"), None, &[], None);
    assert_eq!(health.status, 503);
    assert_eq!(health.json()["status"], "unavailable");
}
