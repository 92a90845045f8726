//! The listen check with the real recognizer (`viet-asr`, installed with
//! natural speech clips by `scripts/setup-listen` into target/): natural
//! speech passes, the same audio under a changed script is flagged at the
//! changed cue only, and a recognizer that is missing, crashes, hangs or
//! prints garbage is a clear error.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bantin::audio::{Pcm, wav};
use bantin::listen::{CheckReport, Listener, RecognizeError, RecognizerSettings, ScriptCues};
use bantin::normalize::Normalizer;

use crate::util::repo;

/// The natural speech clips and their transcripts, when installed.
fn samples() -> Option<Vec<(PathBuf, String)>> {
    let dir = repo().join("target/listen-samples");
    let manifest = std::fs::read_to_string(dir.join("manifest.tsv")).ok()?;
    let rows = manifest
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let file = fields.next()?;
            let text = fields.nth(1)?;
            Some((dir.join(file), text.to_string()))
        })
        .collect();
    Some(rows)
}

fn venv() -> Option<PathBuf> {
    let venv = repo().join("target/listen-venv");
    venv.join("bin/vietasr").exists().then_some(venv)
}

fn installed(test: &str) -> Option<(PathBuf, Vec<(PathBuf, String)>)> {
    match (venv(), samples()) {
        (Some(venv), Some(samples)) => Some((venv, samples)),
        _ => {
            eprintln!("SKIPPED {test}: the recognizer is not installed (run scripts/setup-listen)");
            None
        }
    }
}

/// The clips one after another with half a second between, as a render,
/// and a measured script whose cues say `texts`.
fn render_of(clips: &[PathBuf], texts: &[String]) -> (Pcm, ScriptCues) {
    let normalizer = Normalizer::builtin().unwrap();
    let gap = Duration::from_millis(500);
    let mut rate = 0;
    let mut samples = Vec::new();
    let mut cues = Vec::new();
    for (index, (path, text)) in clips.iter().zip(texts).enumerate() {
        let clip = wav::decode(&std::fs::read(path).unwrap()).unwrap();
        rate = clip.sample_rate_hz;
        samples.extend(Pcm::silence(rate, gap).samples);
        let start_ms = samples.len() as u64 * 1000 / u64::from(rate);
        samples.extend(&clip.samples);
        let end_ms = samples.len() as u64 * 1000 / u64::from(rate);
        cues.push(serde_json::json!({
            "id": index + 1,
            "spoken": normalizer.expand_str(text).spoken(),
            "start_ms": start_ms,
            "end_ms": end_ms,
        }));
    }
    samples.extend(Pcm::silence(rate, gap).samples);
    let script = serde_json::json!({ "measured": true, "cues": cues });
    let script = ScriptCues::from_json(script.to_string().as_bytes()).unwrap();
    (Pcm::new(rate, samples), script)
}

fn check(venv: &Path, audio: &Pcm, script: &ScriptCues) -> CheckReport {
    let settings = RecognizerSettings {
        command: vec![
            venv.join("bin/python").to_string_lossy().into_owned(),
            repo()
                .join("scripts/listen-vietasr")
                .to_string_lossy()
                .into_owned(),
            "{wavs}".into(),
        ],
        ..RecognizerSettings::default()
    };
    let listener = Listener::new(
        settings.recognizer().unwrap(),
        Normalizer::builtin().unwrap(),
    );
    listener.check(&script.clips(audio).unwrap()).unwrap()
}

fn flagged(report: &CheckReport) -> Vec<usize> {
    report
        .cues
        .iter()
        .filter(|c| c.flagged)
        .map(|c| c.id)
        .collect()
}

#[test]
fn natural_speech_passes_and_a_changed_cue_is_flagged_there_only() {
    let Some((venv, samples)) = installed("natural_speech_passes…") else {
        return;
    };
    let clips: Vec<PathBuf> = samples.iter().map(|(p, _)| p.clone()).collect();
    let texts: Vec<String> = samples.iter().map(|(_, t)| t.clone()).collect();
    let (audio, script) = render_of(&clips, &texts);
    let report = check(&venv, &audio, &script);
    assert_eq!(flagged(&report), Vec::<usize>::new(), "{report:#?}");
    assert!(report.word_error_rate < 0.2, "{report:#?}");

    // The clip says "thế kỷ 19"; the script now says 18: another fact.
    let number = texts
        .iter()
        .position(|t| t.contains("19"))
        .expect("a clip with a number");
    let mut changed = texts.clone();
    changed[number] = changed[number].replace("19", "18");
    let (audio, script) = render_of(&clips, &changed);
    let report = check(&venv, &audio, &script);
    assert_eq!(flagged(&report), [number + 1], "{report:#?}");
    assert!(
        report.cues[number]
            .wrong_numbers
            .iter()
            .any(|w| w.contains("tám")),
        "{:?}",
        report.cues[number]
    );

    // Another sentence in place of the second cue.
    let mut swapped = texts.clone();
    swapped[1] = texts[3].clone();
    let (audio, script) = render_of(&clips, &swapped);
    let report = check(&venv, &audio, &script);
    assert_eq!(flagged(&report), [2], "{report:#?}");
    assert!(report.cues[1].word_error_rate > 0.5);
}

#[test]
fn the_vietasr_command_is_run_once_per_clip() {
    let Some((venv, samples)) = installed("the_vietasr_command…") else {
        return;
    };
    let settings = RecognizerSettings {
        command: vec![
            venv.join("bin/vietasr").to_string_lossy().into_owned(),
            "{wav}".into(),
        ],
        ..RecognizerSettings::default()
    };
    let clip = wav::decode(&std::fs::read(&samples[1].0).unwrap()).unwrap();
    let heard = settings.recognizer().unwrap().transcribe(&[clip]).unwrap();
    assert_eq!(heard.len(), 1);
    assert!(heard[0].contains("áp dụng"), "{heard:?}");
}

/// A recognizer that is a shell script.
fn shell(script: &str, timeout_seconds: u64) -> Result<Vec<String>, RecognizeError> {
    let settings = RecognizerSettings {
        command: vec![
            "sh".into(),
            "-c".into(),
            script.into(),
            "sh".into(),
            "{wav}".into(),
        ],
        timeout_seconds,
        ..RecognizerSettings::default()
    };
    let clip = Pcm::silence(16_000, Duration::from_millis(200));
    settings.recognizer().unwrap().transcribe(&[clip])
}

#[test]
fn a_failing_recognizer_is_a_clear_error() {
    let crashed = shell("echo 'model file missing' >&2; exit 3", 10)
        .unwrap_err()
        .to_string();
    assert!(
        crashed.contains("failed") && crashed.contains("model file missing"),
        "{crashed}"
    );

    let started = std::time::Instant::now();
    let hung = shell("sleep 30", 1).unwrap_err().to_string();
    assert!(hung.contains("stopped after"), "{hung}");
    assert!(started.elapsed() < Duration::from_secs(20));

    let garbage = shell("printf '{\"partial\": 1}\\n'", 10)
        .unwrap_err()
        .to_string();
    assert!(garbage.contains("no transcript"), "{garbage}");

    let binary = shell("printf '\\377\\376'", 10).unwrap_err().to_string();
    assert!(binary.contains("UTF-8"), "{binary}");

    // The clip reached the program as a 16 kHz mono WAV file.
    let heard = shell(
        "head -c 36 \"$1\" | tail -c 12 | od -An -tu4 | tr -s ' ' | cut -d' ' -f2",
        10,
    )
    .unwrap();
    assert_eq!(heard, ["16000"]);
}
