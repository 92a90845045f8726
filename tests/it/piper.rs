//! Piper kept loaded (`[piper]` profiles) through the real Piper program
//! and the English test voice that `scripts/setup-piper` installs into
//! target/piper-venv (tests that need it say SKIPPED when it is absent):
//! one program for many breath groups, a program killed mid-render started
//! again, a hung program stopped at its deadline, and `bantin voices add`
//! end to end.
//!
//! Programs of one `[piper]` table are shared by the whole process, and the
//! tests here run at once: each test's table differs (its `timeout`), so
//! each counts only its own programs.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bantin::normalize::Normalizer;
use bantin::pipeline;
use bantin::settings::AudioSettings;
use bantin::speak::Progress;
use bantin::tts::{PiperVoice, Synthesizer};
use bantin::voice::Voice;

use crate::util::{bantin, repo, run_ok};

/// An English article of several paragraphs (the test voice is English):
/// many breath groups, a few seconds of speech each.
const ARTICLE: &str = "The morning bulletin opens with the weather.\n\n\
    Rain is expected over the northern provinces this afternoon, with strong wind along the coast.\n\n\
    The city council met on Monday to discuss the new bridge, which will open next spring.\n\n\
    Farmers in the delta report a good harvest, and prices at the market stayed steady.\n\n\
    The football team won its match on Sunday evening in front of a large crowd.\n\n\
    That is the end of the morning bulletin.\n";

/// Piper's program and the test model, or `None` (with a SKIPPED line).
fn installed(test: &str) -> Option<(PathBuf, PathBuf)> {
    let venv = repo().join("target/piper-venv");
    let Ok(model) = std::fs::read_to_string(venv.join("model-path")) else {
        eprintln!(
            "SKIPPED {test}: Piper is not installed (run scripts/setup-piper to create {})",
            venv.display()
        );
        return None;
    };
    let model = repo().join(model.trim());
    Some((venv.join("bin/piper"), model))
}

fn profile(name: &str, voice: &PiperVoice) -> Voice {
    let table = toml::to_string(voice).unwrap();
    Voice::parse(
        &format!("{name}.toml"),
        &format!(
            "name = \"{name}\"\nsyllables_per_minute = 180\nbreath_group_syllables = 12\n[piper]\n{table}"
        ),
    )
    .unwrap()
}

fn render(voice: &Voice, progress: &dyn Progress) -> Result<pipeline::Rendered, String> {
    let settings = AudioSettings::default();
    let normalizer = Normalizer::builtin().unwrap();
    let (_, script) = pipeline::prepare(
        ARTICLE.as_bytes(),
        Some("bulletin.txt"),
        &normalizer,
        voice,
        &settings,
    )
    .unwrap();
    assert!(
        script.cues.iter().map(|c| c.parts.len()).sum::<usize>() >= 8,
        "too few breath groups to show anything"
    );
    pipeline::render(&script, voice.synthesizer().as_ref(), &settings, progress)
        .map_err(|e| e.to_string())
}

fn pid_alive(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat.rsplit(')').next().unwrap_or("").trim_start();
    !state.is_empty() && !state.starts_with('Z')
}

#[test]
fn a_render_of_many_breath_groups_starts_piper_once() {
    let Some((program, model)) = installed("a_render_of_many_breath_groups_starts_piper_once")
    else {
        return;
    };
    let mut piper = PiperVoice::new(&program.display().to_string(), &model, None);
    piper.timeout = Duration::from_secs(61);
    let voice = profile("joe-once", &piper);
    let watch = piper.synthesizer("joe-once");
    watch.check().unwrap();
    assert!(watch.pids().is_empty(), "Piper started before it was asked");

    let rendered = render(&voice, &()).unwrap();
    assert!(rendered.stats.synthesized >= 4);
    assert!(rendered.pcm.duration() > Duration::from_secs(10));
    assert_eq!(watch.starts(), 1, "Piper was started more than once");
    let pids = watch.pids();
    assert_eq!(pids.len(), 1);
    assert!(pid_alive(pids[0]), "Piper did not stay loaded");

    // A second render (another job) reuses the loaded program.
    render(&voice, &()).unwrap();
    assert_eq!(watch.starts(), 1);
    assert_eq!(watch.pids(), pids);
}

/// Kills Piper as soon as the first cue is done: the rest of the render
/// needs a new program.
struct KillAfterFirstCue {
    piper: std::sync::Arc<bantin::tts::Piper>,
    killed: AtomicBool,
}

impl Progress for KillAfterFirstCue {
    fn cue_done(&self, _: usize, _: usize) {
        if !self.killed.swap(true, Ordering::SeqCst) {
            let pid = self.piper.pids()[0];
            // SAFETY: kill has no memory effects; the pid is our child's.
            unsafe {
                libc::kill(pid as i32, libc::SIGKILL);
            }
        }
    }
}

#[test]
fn piper_killed_mid_render_is_started_again_and_the_render_completes() {
    let Some((program, model)) =
        installed("piper_killed_mid_render_is_started_again_and_the_render_completes")
    else {
        return;
    };
    let mut piper = PiperVoice::new(&program.display().to_string(), &model, None);
    piper.timeout = Duration::from_secs(62);
    let voice = profile("joe-killed", &piper);
    let killer = KillAfterFirstCue {
        piper: piper.synthesizer("joe-killed"),
        killed: AtomicBool::new(false),
    };
    let rendered = render(&voice, &killer).unwrap();
    assert!(killer.killed.load(Ordering::SeqCst));
    assert_eq!(killer.piper.starts(), 2, "Piper was not started again");
    let cues = rendered.script.cues.len();
    assert_eq!(rendered.stats.synthesized, cues, "a cue is missing");
    // Every cue has speech, the ones after the kill included.
    for cue in &rendered.script.cues {
        assert!(cue.end > cue.start, "cue {} is empty", cue.id);
    }
}

#[test]
fn a_hung_voice_program_times_out_naming_voice_and_cue() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let program = dir.path().join("hung-piper");
    std::fs::write(
        &program,
        format!(
            "#!/bin/sh\necho $$ > {}\nexec sleep 600\n",
            pid_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &program,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let model = dir.path().join("voice.onnx");
    std::fs::write(&model, b"not loaded").unwrap();
    let mut piper = PiperVoice::new(&program.display().to_string(), &model, None);
    piper.timeout = Duration::from_secs(1);
    let voice = profile("hung-voice", &piper);
    let started = Instant::now();
    let err = render(&voice, &()).unwrap_err();
    assert!(
        err.contains("piper voice hung-voice")
            && err.contains("did not answer within 1s")
            && err.contains("cue 1"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while pid_alive(pid) {
        assert!(
            Instant::now() < deadline,
            "the hung program {pid} still runs"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn english_reference(dir: &Path) -> PathBuf {
    let path = dir.join("reference-en.txt");
    std::fs::write(&path, ARTICLE).unwrap();
    path
}

#[test]
fn voices_add_writes_a_calibrated_piper_profile_that_speaks() {
    let Some((program, model)) =
        installed("voices_add_writes_a_calibrated_piper_profile_that_speaks")
    else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let reference = english_reference(data.path());
    // The technician's copy: a folder of their own.
    let models = tempfile::tempdir().unwrap();
    let copied = models.path().join("en_US-joe-medium.onnx");
    std::fs::copy(&model, &copied).unwrap();
    let mut config = copied.clone().into_os_string();
    config.push(".json");
    let mut original_config = model.clone().into_os_string();
    original_config.push(".json");
    std::fs::copy(&original_config, &config).unwrap();

    let add = |name: &str, extra: &[&str]| {
        let mut command = bantin();
        command
            .arg("--data")
            .arg(data.path())
            .args(["voices", "add", name])
            .arg(&copied)
            .arg("--program")
            .arg(&program)
            .arg("--text")
            .arg(&reference)
            .args(extra);
        command
    };
    let output = run_ok(&mut add("joe", &[]));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("joe: speaks"), "{said}");
    let path = data.path().join("voices/joe.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let voice = Voice::parse("joe.toml", &text).unwrap();
    assert_eq!(voice.backend_name(), "piper");
    assert!(text.contains("# A self-hosted Piper voice"), "{text}");
    // Calibrated: not the placeholder, and an English reader's pace.
    assert_ne!(voice.syllables_per_minute, 233.0, "{text}");
    assert!(
        (120.0..400.0).contains(&voice.syllables_per_minute),
        "{}",
        voice.syllables_per_minute
    );
    assert!(said.contains(&format!(
        "{:.1} syllables per minute",
        voice.syllables_per_minute
    )));

    // The profile is listed and renders.
    let listed = run_ok(bantin().arg("--data").arg(data.path()).arg("voices"));
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("joe\tpiper\t") && l.contains("available")),
        "{listed}"
    );

    // It is not replaced without --force.
    let refused = add("joe", &[]).output().unwrap();
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

    // A model that cannot speak writes nothing.
    let broken = models.path().join("broken.onnx");
    std::fs::write(&broken, b"this is not a model").unwrap();
    std::fs::copy(&original_config, models.path().join("broken.onnx.json")).unwrap();
    let failed = bantin()
        .arg("--data")
        .arg(data.path())
        .args(["voices", "add", "broken"])
        .arg(&broken)
        .arg("--program")
        .arg(&program)
        .output()
        .unwrap();
    assert!(!failed.status.success());
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(
        err.contains("broken does not speak") && err.contains("piper voice broken"),
        "{err}"
    );
    assert!(!data.path().join("voices/broken.toml").exists());
}

#[test]
fn voices_add_names_a_missing_configuration() {
    let data = tempfile::tempdir().unwrap();
    let model = data.path().join("vi_VN-test-medium.onnx");
    std::fs::write(&model, b"onnx").unwrap();
    let output = bantin()
        .arg("--data")
        .arg(data.path())
        .args(["voices", "add", "vi-test"])
        .arg(&model)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("vi_VN-test-medium.onnx.json") && err.contains("--config"),
        "{err}"
    );
    assert!(!data.path().join("voices/vi-test.toml").exists());
}
