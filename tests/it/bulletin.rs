//! The daily bulletin: the scheduler under paused tokio time (local slot
//! times, catch-up, single flight, retries) and `bantin bulletin` end to end
//! with the real espeak-ng, including the failures that must leave the drop
//! folder untouched.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bantin::bulletin::BulletinConfig;
use bantin::bulletin::schedule::{
    Built, Clock, Job, MemoryRunLog, Outcome, RunKey, RunLog, Scheduler, TokioClock, Trigger,
};
use jiff::Timestamp;
use jiff::civil::Date;

use crate::util::{bantin, bulletin_args, repo, run_ok};

// ---------------------------------------------------------------- scheduler

fn config(slots: &str, catch_up_minutes: u64) -> BulletinConfig {
    let text = format!(
        r#"[bulletin]
station = "Đài truyền thanh thành phố Hưng Yên"
drop_folder = "drop"
greeting = "Xin chào. Hôm nay, {{weekday}}, {{date}}."
sign_off = "Hết."
catch_up_minutes = {catch_up_minutes}
retry_attempts = 3
retry_backoff_seconds = 60
{slots}"#
    );
    BulletinConfig::parse("test", &text, Path::new("/")).unwrap()
}

const SANG: &str = "[bulletin.slots.sang]\nschedule = \"0 6 * * *\"\ntarget_minutes = 15\n";
const KHUYA: &str = "[bulletin.slots.khuya]\nschedule = \"5 0 * * *\"\ntarget_minutes = 5\n";

/// A job that takes ten (paused) seconds to build, records when it was
/// called, and can be told to fail a number of times.
struct TestJob {
    clock: Arc<TokioClock>,
    fingerprint: Mutex<String>,
    builds: Mutex<Vec<(RunKey, Timestamp)>>,
    failures_left: AtomicU32,
}

impl TestJob {
    fn new(clock: Arc<TokioClock>) -> Self {
        Self {
            clock,
            fingerprint: Mutex::new("items-v1".into()),
            builds: Mutex::new(Vec::new()),
            failures_left: AtomicU32::new(0),
        }
    }

    fn builds(&self) -> Vec<(RunKey, Timestamp)> {
        self.builds.lock().unwrap().clone()
    }
}

impl Job for TestJob {
    async fn fingerprint(&self, _: &RunKey) -> Result<String, String> {
        Ok(self.fingerprint.lock().unwrap().clone())
    }

    async fn build(&self, key: &RunKey) -> Result<Built, String> {
        self.builds
            .lock()
            .unwrap()
            .push((key.clone(), self.clock.now()));
        tokio::time::sleep(Duration::from_secs(10)).await;
        if self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err("the drop folder is full".into());
        }
        Ok(Built {
            fingerprint: self.fingerprint.lock().unwrap().clone(),
            summary: format!("BANTIN_{}_{}.wav", key.date, key.slot),
        })
    }
}

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn key(date: &str, slot: &str) -> RunKey {
    RunKey {
        date: date.parse::<Date>().unwrap(),
        slot: slot.into(),
    }
}

type TestScheduler = Scheduler<TestJob, MemoryRunLog>;

fn scheduler(config: &BulletinConfig, start: &str) -> Arc<TestScheduler> {
    let clock = Arc::new(TokioClock::starting_at(ts(start)));
    let job = TestJob::new(Arc::clone(&clock));
    Arc::new(Scheduler::new(config, job, MemoryRunLog::default(), clock))
}

/// Runs the scheduler for `hours` of paused time.
async fn run_for(scheduler: &Arc<TestScheduler>, hours: u64) {
    let shutdown = tokio::time::sleep(Duration::from_secs(hours * 3600));
    Arc::clone(scheduler).run(shutdown).await;
}

#[tokio::test(start_paused = true)]
async fn fires_at_local_slot_times_even_just_after_local_midnight() {
    let config = config(&format!("{SANG}{KHUYA}"), 0);
    // 23:00 on 28 July in Hanoi (UTC+7) is 16:00 UTC.
    let scheduler = scheduler(&config, "2021-07-28T16:00:00Z");
    run_for(&scheduler, 15).await;
    let builds = scheduler.job().builds();
    assert_eq!(
        builds,
        [
            // 00:05 local on the 29th is 17:05 UTC on the 28th: the bulletin
            // date is the local one.
            (key("2021-07-29", "khuya"), ts("2021-07-28T17:05:00Z")),
            (key("2021-07-29", "sang"), ts("2021-07-28T23:00:00Z")),
        ]
    );
    let records = scheduler.log().records();
    assert!(
        records
            .iter()
            .all(|r| r.trigger == Trigger::Schedule && matches!(r.outcome, Outcome::Built { .. })),
        "{records:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn catches_up_runs_missed_within_the_window() {
    let config = config(&format!("{SANG}{KHUYA}"), 180);
    // Up again at 08:30 local on the 29th: sáng (06:00) was missed, within
    // three hours; khuya (00:05) is older than the window.
    let scheduler = scheduler(&config, "2021-07-29T01:30:00Z");
    assert_eq!(
        scheduler.missed(ts("2021-07-29T01:30:00Z")).unwrap(),
        [(key("2021-07-29", "sang"), ts("2021-07-28T23:00:00Z"))]
    );
    run_for(&scheduler, 1).await;
    assert_eq!(
        scheduler.job().builds(),
        [(key("2021-07-29", "sang"), ts("2021-07-29T01:30:00Z"))]
    );
    assert_eq!(scheduler.log().records()[0].trigger, Trigger::CatchUp);
    // A second start finds the result and has nothing to catch up.
    assert!(
        scheduler
            .missed(ts("2021-07-29T02:30:00Z"))
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(start_paused = true)]
async fn two_triggers_at_once_build_once_and_a_changed_item_rebuilds() {
    let config = config(SANG, 0);
    let scheduler = scheduler(&config, "2021-07-28T23:00:00Z");
    let k = key("2021-07-29", "sang");
    let (first, second) = tokio::join!(
        scheduler.trigger(k.clone(), Trigger::Schedule),
        scheduler.trigger(k.clone(), Trigger::Manual),
    );
    assert_eq!(scheduler.job().builds().len(), 1);
    let outcomes = [first.outcome.clone(), second.outcome.clone()];
    assert!(
        outcomes.iter().any(|o| matches!(o, Outcome::Built { .. })),
        "{outcomes:?}"
    );
    assert!(outcomes.contains(&Outcome::Reused), "{outcomes:?}");
    assert!(scheduler.log().has_result(&k, "items-v1").unwrap());

    // An editor changes an item: the next trigger builds again.
    *scheduler.job().fingerprint.lock().unwrap() = "items-v2".into();
    let third = scheduler.trigger(k.clone(), Trigger::Manual).await;
    assert!(matches!(third.outcome, Outcome::Built { .. }), "{third:?}");
    assert_eq!(third.fingerprint, "items-v2");
    assert_eq!(scheduler.job().builds().len(), 2);
}

/// The sáng slot at its time, with a job whose first two builds fail.
fn failing_twice() -> Arc<TestScheduler> {
    let scheduler = scheduler(&config(SANG, 0), "2021-07-28T23:00:00Z");
    scheduler.job().failures_left.store(2, Ordering::SeqCst);
    scheduler
}

#[tokio::test(start_paused = true)]
async fn failures_are_recorded_and_retried_with_doubling_backoff() {
    let scheduler = failing_twice();
    let last = scheduler
        .trigger(key("2021-07-29", "sang"), Trigger::Schedule)
        .await;
    assert!(matches!(last.outcome, Outcome::Built { .. }), "{last:?}");
    let records = scheduler.log().records();
    let attempts: Vec<_> = records.iter().map(|r| (r.attempt, r.started_at)).collect();
    // Each build takes 10 s; backoff 60 s, then 120 s.
    assert_eq!(
        attempts,
        [
            (1, ts("2021-07-28T23:00:00Z")),
            (2, ts("2021-07-28T23:01:10Z")),
            (3, ts("2021-07-28T23:03:20Z")),
        ]
    );
    assert_eq!(
        records[0].outcome,
        Outcome::Failed {
            reason: "the drop folder is full".into()
        }
    );
}

#[tokio::test(start_paused = true)]
async fn a_manual_run_is_tried_once() {
    let scheduler = failing_twice();
    let last = scheduler
        .trigger(key("2021-07-29", "sang"), Trigger::Manual)
        .await;
    assert!(matches!(last.outcome, Outcome::Failed { .. }), "{last:?}");
    assert_eq!(scheduler.log().records().len(), 1);
}

// ---------------------------------------------------------------- end to end

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/it/fixtures/bulletin").join(name)
}

pub(crate) const ARTICLES: [&str; 3] = ["1-lua-mua.txt", "2-nhan-dao.txt", "3-giao-thong.txt"];

/// A station folder: bantin.toml (the example's bulletin settings, with the
/// drop folder inside the temporary folder) and the example jingles.
pub(crate) fn station(dir: &Path) -> PathBuf {
    let example = std::fs::read_to_string(repo().join("examples/bantin.toml")).unwrap();
    let jingles = repo().join("examples/jingles");
    let text = example
        .replace("/srv/playout/drop", &dir.join("drop").display().to_string())
        .replace("jingles/", &format!("{}/", jingles.display()));
    let path = dir.join("bantin.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::create_dir(dir.join("drop")).unwrap();
    path
}

/// `bantin bulletin` of the station in `config`'s folder with `articles`,
/// caching cues in that folder (not in the user's cache).
pub(crate) fn bulletin_command(config: &Path, articles: &[&str]) -> std::process::Command {
    let mut command = bantin();
    command.args(bulletin_args(config));
    with_articles(&mut command, config, articles);
    command
}

fn with_articles(command: &mut std::process::Command, config: &Path, articles: &[&str]) {
    command.env("BANTIN_CACHE", config.parent().unwrap().join("cache"));
    for article in articles {
        command.arg("--article").arg(fixture(article));
    }
}

fn drop_listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("drop"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn builds_a_bulletin_from_three_articles_with_espeak() {
    let dir = tempfile::tempdir().unwrap();
    let config = station(dir.path());
    let output = run_ok(&mut bulletin_command(&config, &ARTICLES));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("BANTIN_2021-07-29_sang.wav"), "{stderr}");
    assert_eq!(
        drop_listing(dir.path()),
        [
            "BANTIN_2021-07-29_sang.json",
            "BANTIN_2021-07-29_sang.manifest.json",
            "BANTIN_2021-07-29_sang.mp3",
            "BANTIN_2021-07-29_sang.txt",
            "BANTIN_2021-07-29_sang.wav"
        ]
    );
    let drop = dir.path().join("drop");

    // Broadcast WAV: bext chunk first, 48 kHz 16-bit mono, −23 LUFS.
    let wav_path = drop.join("BANTIN_2021-07-29_sang.wav");
    let bytes = std::fs::read(&wav_path).unwrap();
    assert_eq!(&bytes[12..16], b"bext");
    let reader = hound::WavReader::open(&wav_path).unwrap();
    let spec = reader.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (48_000, 1, 16)
    );
    let samples: Vec<f32> = reader
        .into_samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect();
    let audio_ms = samples.len() as f64 * 1000.0 / 48_000.0;
    let mut meter =
        ebur128::EbuR128::new(1, 48_000, ebur128::Mode::I | ebur128::Mode::TRUE_PEAK).unwrap();
    meter.add_frames_f32(&samples).unwrap();
    let lufs = meter.loudness_global().unwrap();
    assert!((lufs + 23.0).abs() <= 0.5, "integrated loudness {lufs}");
    assert!(20.0 * meter.true_peak(0).unwrap().log10() <= -1.0);

    // The script opens with the greeting and the spoken date.
    let script = json(&drop.join("BANTIN_2021-07-29_sang.json"));
    let cues = script["cues"].as_array().unwrap();
    let opening = format!(
        "{} {}",
        cues[0]["spoken"].as_str().unwrap(),
        cues[1]["spoken"].as_str().unwrap()
    );
    assert!(
        opening.starts_with(
            "Đài truyền thanh thành phố Hưng Yên xin kính chào quý vị và các bạn. Hôm nay, thứ năm, \
             ngày hai mươi chín tháng bảy năm hai nghìn không trăm hai mươi mốt"
        ),
        "{opening}"
    );
    let txt = std::fs::read_to_string(drop.join("BANTIN_2021-07-29_sang.txt")).unwrap();
    assert!(
        txt.contains("Đài truyền thanh thành phố Hưng Yên xin kính chào"),
        "{txt}"
    );

    // The manifest matches the audio.
    let manifest = json(&drop.join("BANTIN_2021-07-29_sang.manifest.json"));
    let total_ms = manifest["total_ms"].as_u64().unwrap();
    assert!(
        (total_ms as f64 - audio_ms).abs() <= 1.0,
        "{total_ms} vs {audio_ms}"
    );
    assert_eq!(script["total_ms"].as_u64().unwrap(), total_ms);
    let items = manifest["items"].as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["1-lua-mua", "2-nhan-dao", "3-giao-thong"]);
    assert!(
        items
            .iter()
            .all(|i| i["revision"].as_str().is_some_and(|r| r.len() == 12))
    );
    assert!((manifest["loudness"]["integrated_lufs"].as_f64().unwrap() - lufs).abs() < 0.1);
    assert_eq!(manifest["made"]["voice"], "vi");
    assert_eq!(manifest["target_ms"], 900_000);
    assert_eq!(
        manifest["difference_ms"].as_i64().unwrap(),
        i64::try_from(total_ms).unwrap() - 900_000
    );
    // Parts and items tile the programme: each starts where the previous
    // ended plus the configured gap, and the last ends with the audio.
    let mut spans: Vec<(u64, u64)> = manifest["parts"]
        .as_array()
        .unwrap()
        .iter()
        .chain(items)
        .map(|p| {
            (
                p["start_ms"].as_u64().unwrap(),
                p["duration_ms"].as_u64().unwrap(),
            )
        })
        .collect();
    spans.sort();
    for pair in spans.windows(2) {
        let gap = pair[1].0 as i64 - (pair[0].0 + pair[0].1) as i64;
        assert!(
            [500, 2000].iter().any(|g| (gap - g).abs() <= 2),
            "gap {gap} ms in {spans:?}"
        );
    }
    let (start, length) = spans.last().unwrap();
    assert!(((start + length) as i64 - total_ms as i64).abs() <= 2);
    let cue_count = cues.len();
    assert!(
        stderr.contains(&format!("0 of {cue_count} cues from the cache")),
        "{stderr}"
    );
    assert_eq!(manifest["made"]["cues"], cue_count);

    // Again: every cue comes from the cache and the audio is the same.
    let again = run_ok(&mut bulletin_command(&config, &ARTICLES));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains(&format!("{cue_count} of {cue_count} cues from the cache")),
        "{stderr}"
    );
    let rebuilt = hound::WavReader::open(&wav_path)
        .unwrap()
        .into_samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect::<Vec<f32>>();
    assert_eq!(rebuilt, samples);
    // Each item's span covers exactly its cues in the script.
    for item in items {
        let start = item["start_ms"].as_u64().unwrap();
        let end = start + item["duration_ms"].as_u64().unwrap();
        let inside: Vec<_> = cues
            .iter()
            .filter(|c| {
                c["start_ms"].as_u64().unwrap() >= start && c["end_ms"].as_u64().unwrap() <= end + 1
            })
            .collect();
        assert_eq!(
            inside.len() as u64,
            item["cues"].as_u64().unwrap(),
            "{item}"
        );
    }
}

fn assert_fails_cleanly(command: &mut std::process::Command, dir: &Path, reason: &str) {
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "expected a failure; stderr: {stderr}"
    );
    assert!(stderr.contains(reason), "stderr lacks {reason:?}: {stderr}");
    assert_eq!(
        drop_listing(dir),
        Vec::<String>::new(),
        "the drop folder must stay empty"
    );
}

#[test]
fn a_missing_jingle_is_a_clear_failure() {
    let dir = tempfile::tempdir().unwrap();
    let config = station(dir.path());
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("intro.wav", "intro-missing.wav");
    std::fs::write(&config, text).unwrap();
    assert_fails_cleanly(
        &mut bulletin_command(&config, &ARTICLES),
        dir.path(),
        "intro-missing.wav does not exist",
    );
}

#[test]
fn an_empty_day_is_a_clear_failure() {
    let dir = tempfile::tempdir().unwrap();
    let config = station(dir.path());
    assert_fails_cleanly(
        &mut bulletin_command(&config, &[]),
        dir.path(),
        "no items for the sang bulletin of 2021-07-29",
    );
}

#[test]
fn a_full_drop_folder_leaves_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let config = station(dir.path());
    // A file-size limit makes the disk "full" once the small sidecars are
    // staged and the WAV is being written (this works as root too, where a
    // read-only folder does not stop writes). SIGXFSZ is ignored so the
    // write fails with EFBIG instead of killing the process.
    let mut command = std::process::Command::new("bash");
    command
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 300; exec \"$@\"")
        .arg("bash")
        .arg(env!("CARGO_BIN_EXE_bantin"))
        .args(bulletin_args(&config));
    with_articles(&mut command, &config, &ARTICLES);
    assert_fails_cleanly(
        &mut command,
        dir.path(),
        "cannot write into the drop folder",
    );
}

#[test]
fn a_read_only_drop_folder_is_a_clear_failure() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config = station(dir.path());
    let drop = dir.path().join("drop");
    std::fs::set_permissions(&drop, std::fs::Permissions::from_mode(0o555)).unwrap();
    let probe = drop.join("probe");
    if std::fs::write(&probe, b"x").is_ok() {
        // Root ignores permissions; the file-size test above covers the
        // failure path there.
        std::fs::remove_file(&probe).unwrap();
        eprintln!("running as root: a read-only folder is writable, skipped");
        return;
    }
    assert_fails_cleanly(
        &mut bulletin_command(&config, &ARTICLES[..1]),
        dir.path(),
        "Permission denied",
    );
}

/// `bantin bulletin --article …` with no bantin.toml reads the built-in
/// bulletin settings as the store path and `serve` do, and makes the drop
/// folder (`DATA/drop`) that is not there yet.
#[test]
fn articles_without_a_configuration_use_the_built_in_settings() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut command = bantin();
    command
        .current_dir(dir.path())
        .env("BANTIN_CACHE", dir.path().join("cache"))
        .args([
            "bulletin",
            "--date",
            "2021-07-29",
            "--slot",
            "sang",
            "--data",
        ])
        .arg(&data);
    for article in &ARTICLES[..1] {
        command.arg("--article").arg(fixture(article));
    }
    run_ok(&mut command);
    let delivered: Vec<String> = std::fs::read_dir(data.join("drop"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".wav"))
        .collect();
    assert_eq!(delivered.len(), 1, "{delivered:?}");
}
