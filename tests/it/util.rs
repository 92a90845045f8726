//! Helpers shared by the integration tests.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bantin::config::Config;
use bantin::server::AppState;
use bantin::store::Store;
use bantin::tts::Synthesizer;
use bantin::voice::Voices;
use serde_json::Value;

pub fn bantin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bantin"))
}

/// Where the rows of the data directory `data` live on the engine of this
/// test run: `None` (SQLite in `data`) without `BANTIN_TEST_DATABASE`, or a
/// fresh PostgreSQL database made for `data` on its first call and the same
/// one for every later call, so the stores a test opens, the `bantin`
/// commands it runs and the servers it starts on `data` meet in one
/// database.
pub fn database_for(data: &Path) -> Option<String> {
    static DATABASES: Mutex<Option<HashMap<PathBuf, String>>> = Mutex::new(None);
    std::env::var_os(bantin::store::testing::DATABASE_VARIABLE)?;
    let key = std::path::absolute(data).unwrap();
    // A test that failed while holding the lock left the map whole.
    let mut databases = DATABASES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let databases = databases.get_or_insert_with(HashMap::new);
    if let Some(url) = databases.get(&key) {
        return Some(url.clone());
    }
    let url = off_async(bantin::store::testing::fresh_database)?;
    databases.insert(key, url.clone());
    Some(url)
}

/// Runs `work` on a thread of its own: PostgreSQL's blocking client may not
/// run on the thread of an async test's runtime.
fn off_async<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| scope.spawn(work).join().unwrap())
}

/// The store of the data directory `data` on the engine of this test run
/// (see [`database_for`]).
pub fn open_store(data: &Path) -> Store {
    let database = database_for(data);
    off_async(|| Store::open_with(data, database.as_deref())).expect("the test store opens")
}

/// Adds `--database URL` to a `bantin` command working on `data` when this
/// test run is on PostgreSQL (see [`database_for`]).
pub fn on_database<'a>(command: &'a mut Command, data: &Path) -> &'a mut Command {
    if let Some(url) = database_for(data) {
        command.arg("--database").arg(url);
    }
    command
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn example_article() -> PathBuf {
    repo().join("examples/articles/hung-yen-tuyen-giao-2021-07-29.txt")
}

pub fn run_ok(command: &mut Command) -> Output {
    let output = command.output().expect("bantin runs");
    assert!(
        output.status.success(),
        "bantin failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Compares `actual` with the golden file, or rewrites it when
/// `GOLDEN_UPDATE=1` (then review the diff).
pub fn assert_golden(path: &Path, actual: &str) {
    if std::env::var_os("GOLDEN_UPDATE").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with GOLDEN_UPDATE=1 to create it)",
            path.display()
        )
    });
    if expected != actual {
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .filter(|(_, (e, a))| e != a)
            .take(10)
            .map(|(i, (e, a))| format!("line {}:\n  expected: {e}\n  actual:   {a}", i + 1))
            .collect();
        panic!(
            "{} differs from the output ({} vs {} lines):\n{}\n(GOLDEN_UPDATE=1 rewrites it; review the diff)",
            path.display(),
            expected.lines().count(),
            actual.lines().count(),
            diff.join("\n")
        );
    }
}

/// The arguments of `bantin bulletin` for the sáng slot of 29 July 2021
/// with the station configuration `config` (callers add `--article`,
/// `--data`, …).
pub fn bulletin_args(config: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = ["bulletin", "--date", "2021-07-29", "--slot", "sang"]
        .iter()
        .map(OsString::from)
        .collect();
    args.push("--config".into());
    args.push(config.into());
    args
}

/// The service in this process on 127.0.0.1:0 (its own runtime thread),
/// stopped gracefully when dropped.
pub struct TestServer {
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// Opens the store of `data` (on the engine of the test run, see
    /// [`database_for`]) and serves it with `config`; `synthesizer` replaces
    /// every voice's backend when given.
    pub fn start(
        data: &Path,
        config: Config,
        synthesizer: Option<Arc<dyn Synthesizer>>,
    ) -> TestServer {
        let store = open_store(data);
        let mut state = AppState::new(store, config, Voices::builtin()).unwrap();
        if let Some(synthesizer) = synthesizer {
            state = state.with_synthesizer(synthesizer);
        }
        TestServer::serve(state)
    }

    /// Serves `state` (its own store, voices and configuration).
    pub fn serve(state: AppState) -> TestServer {
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
        TestServer {
            url: format!("http://{addr}"),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Graceful shutdown: returns when the server and its jobs have stopped.
    pub fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.thread.take().unwrap().join().unwrap();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A child process killed when the test ends, pass or fail.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `bantin serve` on a free loopback port with the data directory `data`
/// (and its PostgreSQL database when the test run names a server, see
/// [`database_for`]).
pub fn serve_command(data: &Path) -> Command {
    let mut command = bantin();
    command
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(data);
    on_database(&mut command, data);
    command
}

/// Starts a `bantin serve` command (as built by [`serve_command`], or a
/// wrapper that execs it) and waits until it listens; returns it and its
/// base URL. Its stderr is drained, so it never blocks on a full pipe.
pub fn spawn_serve(mut command: Command) -> (Running, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut announced = false;
        for line in stderr.lines().map_while(Result::ok) {
            if !announced {
                if let Some(at) = line.find("listening on http://") {
                    let url = line[at + "listening on ".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap()
                        .to_string();
                    announced = tx.send(Ok(url)).is_ok();
                } else {
                    seen.push(line);
                }
            }
        }
        if !announced {
            let _ = tx.send(Err(seen.join("\n")));
        }
    });
    let url = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(Ok(url)) => url,
        Ok(Err(stderr)) => panic!("bantin serve ended before listening: {stderr}"),
        Err(e) => panic!("bantin serve did not announce its address: {e}"),
    };
    (Running(child), url)
}

/// Status, headers and body of one HTTP answer.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{e}: {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts the status and the `{error, detail}` body of an error.
    pub fn assert_error(&self, status: u16, context: &str) {
        assert_eq!(
            self.status,
            status,
            "{context}: {}",
            String::from_utf8_lossy(&self.body)
        );
        let body = self.json();
        assert!(
            body["error"].is_string() && body["detail"].is_string(),
            "{context}: {body}"
        );
    }
}

/// One HTTP request (any status is an answer, not an error; five minutes
/// at most, enough for a bulletin built while the client waits).
pub fn request(
    method: &str,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Reply {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(300)))
            .build(),
    );
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    if let Some(token) = token {
        builder = builder.header("Authorization", format!("Bearer {token}"));
    }
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(body.map(<[u8]>::to_vec).unwrap_or_default())
        .unwrap();
    let mut response = agent.run(request).unwrap();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(200 * 1024 * 1024)
        .read_to_vec()
        .unwrap();
    Reply {
        status,
        headers,
        body,
    }
}

/// The service in this process with the station configuration `toml`, its
/// data (and relative paths) in `data`, patient with bulletins built while
/// the client waits.
pub fn start_configured(data: &Path, toml: &str) -> TestServer {
    let mut config = Config::parse("test", toml).unwrap();
    config.data_dir = data.to_path_buf();
    config.config_dir = Some(data.to_path_buf());
    config.limits.request_timeout = Duration::from_secs(300);
    config.validate().unwrap();
    TestServer::start(data, config, None)
}

/// Uploads `text` as a plain-text article; its id.
pub fn upload_text(url: &str, token: &str, text: &str) -> i64 {
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
    reply.json()["id"].as_i64().unwrap()
}

/// The names of the files in `dir`, sorted.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every file below `dir`.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}
