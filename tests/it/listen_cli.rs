//! The listen check through the `bantin` command: the example article
//! rendered with espeak-ng, the voice calibrated and the render checked
//! with the real recognizer (`scripts/setup-listen`); `bantin check` on the
//! same files with a silenced cue; and a recognizer that is missing,
//! crashes, hangs or prints garbage after a render, which stays written.

use std::path::{Path, PathBuf};
use std::process::Output;

use bantin::audio::wav;
use serde_json::Value;

use crate::util::{bantin, example_article, repo, run_ok};

fn recognizer_installed(test: &str) -> bool {
    let ok = repo().join("target/listen-venv/bin/python").exists()
        && repo().join("target/listen-venv/bin/vietasr").exists();
    if !ok {
        eprintln!("SKIPPED {test}: the recognizer is not installed (run scripts/setup-listen)");
    }
    ok
}

/// A station configuration with `listen` as its `[listen]` table.
fn station(dir: &Path, listen: &str) -> PathBuf {
    let path = dir.join("bantin.toml");
    std::fs::write(&path, format!("[listen]\n{listen}\n")).unwrap();
    path
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `bantin --config CONFIG --data DIR/data ARGS…`.
fn run(config: &Path, dir: &Path, args: &[&str]) -> Output {
    // One cue cache for every case of a test: the same article is rendered
    // again and again.
    let cache = dir.parent().unwrap().join("listen-cli-cache");
    bantin()
        .arg("--config")
        .arg(config)
        .arg("--data")
        .arg(dir.join("data"))
        .env("BANTIN_CACHE", cache)
        .args(args)
        .output()
        .unwrap()
}

fn render_example(config: &Path, dir: &Path, extra: &[&str]) -> Output {
    let wav = dir.join("a.wav");
    let article = example_article();
    let mut args = vec![
        "render",
        article.to_str().unwrap(),
        "-o",
        wav.to_str().unwrap(),
    ];
    args.extend(extra);
    run(config, dir, &args)
}

#[test]
fn the_example_article_is_rendered_calibrated_and_checked_end_to_end() {
    if !recognizer_installed("the_example_article…") {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let d = &root.path().join("station");
    std::fs::create_dir(d).unwrap();
    let config = station(d, "enabled = true");

    // Not calibrated yet: espeak-ng is judged as natural speech, which it
    // is far from, so cues are flagged (exit 2) and the files are written.
    let first = render_example(&config, d, &[]);
    assert_eq!(first.status.code(), Some(2), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("cues flagged"),
        "{}",
        stderr(&first)
    );
    assert!(d.join("a.wav").exists() && d.join("a.json").exists());

    // Calibration hears the voice back and stores its baseline.
    let calibrated = run(&config, d, &["voices", "calibrate", "vi"]);
    assert!(calibrated.status.success(), "{}", stderr(&calibrated));
    let baselines = std::fs::read_to_string(d.join("data/listen-baselines.tsv")).unwrap();
    let row = baselines
        .lines()
        .find(|l| l.starts_with("vi\t"))
        .unwrap_or_else(|| panic!("{baselines}"));
    let baseline: f64 = row.rsplit('\t').next().unwrap().parse().unwrap();
    assert!(
        (0.4..0.95).contains(&baseline),
        "espeak-ng is heard badly but not as silence: {baseline}"
    );

    // Against its own baseline the voice passes: exit 0.
    let checked = render_example(&config, d, &[]);
    assert!(checked.status.success(), "{}", stderr(&checked));
    assert!(
        stderr(&checked).contains("checked, no cue flagged"),
        "{}",
        stderr(&checked)
    );

    // `bantin check` on the files, as JSON.
    let a_wav = d.join("a.wav");
    let a_json = d.join("a.json");
    let out = run_ok(
        bantin()
            .arg("--config")
            .arg(&config)
            .arg("--data")
            .arg(d.join("data"))
            .arg("check")
            .args([&a_wav, &a_json])
            .arg("--json"),
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let script: Value = serde_json::from_slice(&std::fs::read(&a_json).unwrap()).unwrap();
    let cues = script["cues"].as_array().unwrap();
    assert_eq!(report["flagged"], 0, "{report}");
    assert_eq!(report["cues"].as_array().unwrap().len(), cues.len());
    assert_eq!(report["baseline"].as_f64().unwrap(), baseline);

    // The voice answered one cue with silence: that cue, and no other, is
    // flagged, and the check exits 2.
    let mut pcm = wav::decode(&std::fs::read(&a_wav).unwrap()).unwrap();
    let silenced = &cues[2];
    let rate = u64::from(pcm.sample_rate_hz);
    let start = (silenced["start_ms"].as_u64().unwrap() * rate / 1000) as usize;
    let end = (silenced["end_ms"].as_u64().unwrap() * rate / 1000) as usize;
    pcm.samples[start..end].fill(0.0);
    let b_wav = d.join("b.wav");
    std::fs::write(&b_wav, wav::encode(&pcm, wav::BitDepth::Sixteen).unwrap()).unwrap();
    let out = run(
        &config,
        d,
        &["check", b_wav.to_str().unwrap(), a_json.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("checked, 1 cue flagged"), "{text}");
    assert!(text.contains(&format!("cue {}:", silenced["id"])), "{text}");
}

/// Renders the example with a `[listen]` whose recognizer is `command`
/// (JSON array) and returns the output of `render --check`.
fn render_with_recognizer(dir: &Path, listen: &str) -> Output {
    let config = station(dir, listen);
    render_example(&config, dir, &["--check"])
}

#[test]
fn a_failing_recognizer_is_a_clear_error_and_the_render_is_kept() {
    let cases = [
        (
            "missing",
            r#"command = ["bantin-no-such-recognizer", "{wav}"]"#,
            "setup-listen",
        ),
        (
            "crashing",
            r#"command = ["sh", "-c", "echo 'model file missing' >&2; exit 3", "sh", "{wav}"]"#,
            "model file missing",
        ),
        (
            "hanging",
            "command = [\"sh\", \"-c\", \"sleep 60\", \"sh\", \"{wav}\"]\ntimeout_seconds = 1",
            "stopped after",
        ),
        (
            "garbage",
            r#"command = ["sh", "-c", "printf '{\"partial\": 1}\\n'", "sh", "{wav}"]"#,
            "no transcript",
        ),
    ];
    let root = tempfile::tempdir().unwrap();
    for (name, listen, says) in cases {
        let dir = root.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        let started = std::time::Instant::now();
        let out = render_with_recognizer(&dir, listen);
        let message = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {message}");
        assert!(
            message.contains("could not be checked") && message.contains(says),
            "{name}: {message}"
        );
        assert!(
            dir.join("a.wav").exists() && dir.join("a.json").exists(),
            "{name}: the render is kept"
        );
        assert!(started.elapsed().as_secs() < 90, "{name}");
    }
}

#[test]
fn check_refuses_a_script_that_is_not_the_audios() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = station(d, r#"command = ["true", "{wav}"]"#);
    let short = bantin::audio::Pcm::silence(16_000, std::time::Duration::from_secs(1));
    std::fs::write(
        d.join("s.wav"),
        wav::encode(&short, wav::BitDepth::Sixteen).unwrap(),
    )
    .unwrap();
    std::fs::write(
        d.join("s.json"),
        r#"{"measured": true, "cues": [{"id": 1, "spoken": "xin chào", "start_ms": 0, "end_ms": 5000}]}"#,
    )
    .unwrap();
    let out = bantin()
        .current_dir(d)
        .arg("--config")
        .arg(&config)
        .args(["check", "s.wav", "s.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("after the audio"), "{}", stderr(&out));
}
