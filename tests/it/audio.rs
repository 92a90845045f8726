//! Broadcast audio end to end with the real binary and the real espeak-ng:
//! loudness and `bext` of the rendered example, 44.1 kHz / 24-bit output,
//! SRT and VTT that parse back to the script's cues, the cue cache
//! (re-rendering an edited article speaks one cue), calibration, and failed
//! or killed renders that leave no output and no bad cache entry.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use bantin::audio::wav;
use bantin::cache::{Cache, Key};
use bantin::normalize::Normalizer;
use bantin::pipeline;
use bantin::settings::AudioSettings;
use bantin::speak;
use bantin::voice::Voices;

use crate::util::{bantin, example_article, run_ok};

fn loudness(samples: &[f32], rate: u32) -> (f64, f64) {
    let mut meter =
        ebur128::EbuR128::new(1, rate, ebur128::Mode::I | ebur128::Mode::TRUE_PEAK).unwrap();
    meter.add_frames_f32(samples).unwrap();
    (
        meter.loudness_global().unwrap(),
        20.0 * meter.true_peak(0).unwrap().log10(),
    )
}

fn read_samples(path: &Path) -> (hound::WavSpec, Vec<f32>) {
    let reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    let scale = f32::powi(2.0, i32::from(spec.bits_per_sample) - 1);
    let samples = reader
        .into_samples::<i32>()
        .map(|s| s.unwrap() as f32 / scale)
        .collect();
    (spec, samples)
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_in(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn example_renders_as_broadcast_wav_at_r128_with_bext() {
    let dir = tempfile::tempdir().unwrap();
    let wav_path = dir.path().join("tin.wav");
    run_ok(
        bantin()
            .arg("render")
            .arg(example_article())
            .arg("--data")
            .arg(dir.path())
            .args(["--originator", "Dai TT TP Hung Yen", "-o"])
            .arg(&wav_path)
            .arg("--script")
            .arg(dir.path().join("tin.srt")),
    );
    let (spec, samples) = read_samples(&wav_path);
    assert_eq!(
        (spec.sample_rate, spec.bits_per_sample, spec.channels),
        (48_000, 16, 1)
    );
    let (lufs, peak) = loudness(&samples, 48_000);
    assert!((lufs + 23.0).abs() <= 0.5, "integrated {lufs} LUFS");
    assert!(peak <= -1.0, "true peak {peak} dBTP");

    let bext = wav::read_bext(&std::fs::read(&wav_path).unwrap()).expect("a bext chunk");
    assert_eq!(
        bext.description,
        "So ket cong tac Tuyen giao 6 thang dau nam, trien khai nhiem vu 6 thang cuoi nam 2021"
    );
    assert_eq!(bext.originator, "Dai TT TP Hung Yen");
    assert!(
        regex::Regex::new(r"^\d{4}-\d{2}-\d{2}$")
            .unwrap()
            .is_match(&bext.origination_date)
    );
    assert!(
        regex::Regex::new(r"^\d{2}:\d{2}:\d{2}$")
            .unwrap()
            .is_match(&bext.origination_time)
    );
    let stored = bext.loudness_lufs.expect("LoudnessValue");
    assert!(
        (stored - lufs).abs() < 0.05,
        "bext says {stored}, measured {lufs}"
    );
    let stored_peak = bext.max_true_peak_dbtp.expect("MaxTruePeakLevel");
    assert!(stored_peak <= -1.0 && (stored_peak - peak).abs() < 0.1);
    assert!(bext.coding_history.starts_with("A=PCM,F=48000,W=16,M=mono"));

    // The measured SRT ends where the audio ends.
    let cues = parse_srt(&std::fs::read_to_string(dir.path().join("tin.srt")).unwrap());
    let seconds = samples.len() as f64 / 48_000.0;
    let last_end = cues.last().unwrap().end_ms as f64 / 1000.0;
    assert!((last_end - seconds).abs() < 0.01, "{last_end} vs {seconds}");
}

#[test]
fn renders_44_1_khz_24_bit_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let article = dir.path().join("ngan.txt");
    std::fs::write(
        &article,
        "Tin ngắn\n\nSáng nay trời nắng đẹp. Chiều có mưa rào.\n",
    )
    .unwrap();
    let wav_path = dir.path().join("ngan.wav");
    run_ok(
        bantin()
            .arg("render")
            .arg(&article)
            .args(["--rate", "44100", "--bits", "24", "--no-cache", "-o"])
            .arg(&wav_path),
    );
    let (spec, samples) = read_samples(&wav_path);
    assert_eq!((spec.sample_rate, spec.bits_per_sample), (44_100, 24));
    let (lufs, peak) = loudness(&samples, 44_100);
    assert!((lufs + 23.0).abs() <= 0.5 && peak <= -1.0, "{lufs} {peak}");
    let output = bantin()
        .arg("render")
        .arg(&article)
        .args(["--rate", "22050", "-o"])
        .arg(&wav_path)
        .output()
        .unwrap();
    assert!(!output.status.success());
}

#[derive(Debug, Clone, PartialEq)]
struct ParsedCue {
    start_ms: u64,
    end_ms: u64,
    text: String,
}

fn parse_time(t: &str, separator: char) -> u64 {
    let (hms, ms) = t
        .split_once(separator)
        .unwrap_or_else(|| panic!("bad time {t:?}"));
    let parts: Vec<u64> = hms.split(':').map(|p| p.parse().unwrap()).collect();
    assert_eq!(parts.len(), 3, "{t}");
    assert_eq!(ms.len(), 3, "{t}");
    ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1000 + ms.parse::<u64>().unwrap()
}

fn timing_line(line: &str, separator: char) -> (u64, u64) {
    let (a, b) = line
        .split_once(" --> ")
        .unwrap_or_else(|| panic!("bad timing {line:?}"));
    (
        parse_time(a, separator),
        parse_time(b.split(' ').next().unwrap(), separator),
    )
}

/// SubRip as players read it: blocks separated by blank lines; index line,
/// timing line, text lines.
fn parse_srt(text: &str) -> Vec<ParsedCue> {
    let mut cues = Vec::new();
    for (n, block) in text
        .split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .enumerate()
    {
        let mut lines = block.lines();
        assert_eq!(lines.next().unwrap().parse::<usize>().unwrap(), n + 1);
        let (start_ms, end_ms) = timing_line(lines.next().unwrap(), ',');
        let text = lines.collect::<Vec<_>>().join("\n");
        assert!(!text.is_empty(), "cue {} has no text", n + 1);
        cues.push(ParsedCue {
            start_ms,
            end_ms,
            text,
        });
    }
    cues
}

/// WebVTT per the spec's parsing rules for what we write: the `WEBVTT`
/// signature, blocks separated by blank lines, an optional id line, the
/// timing line, text with `&amp;`/`&lt;`/`&gt;` unescaped.
fn parse_vtt(text: &str) -> Vec<ParsedCue> {
    let mut blocks = text.split("\n\n");
    let header = blocks.next().unwrap();
    assert!(header == "WEBVTT" || header.starts_with("WEBVTT ") || header.starts_with("WEBVTT\n"));
    let mut cues = Vec::new();
    for block in blocks.filter(|b| !b.trim().is_empty()) {
        let mut lines: Vec<&str> = block.lines().collect();
        if !lines[0].contains("-->") {
            lines.remove(0);
        }
        let (start_ms, end_ms) = timing_line(lines[0], '.');
        let text = lines[1..]
            .join("\n")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        assert!(!text.contains("-->"));
        cues.push(ParsedCue {
            start_ms,
            end_ms,
            text,
        });
    }
    cues
}

fn json_cues(json: &str) -> Vec<ParsedCue> {
    let doc: serde_json::Value = serde_json::from_str(json).unwrap();
    doc["cues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| ParsedCue {
            start_ms: c["start_ms"].as_u64().unwrap(),
            end_ms: c["end_ms"].as_u64().unwrap(),
            text: c["text"].as_str().unwrap().to_string(),
        })
        .collect()
}

#[test]
fn srt_and_vtt_parse_back_to_the_scripts_cues() {
    let script = |format: &str| {
        String::from_utf8(
            run_ok(
                bantin()
                    .args(["script", "--format", format])
                    .arg(example_article()),
            )
            .stdout,
        )
        .unwrap()
    };
    let expected = json_cues(&script("json"));
    assert!(expected.len() > 5);
    assert_eq!(parse_srt(&script("srt")), expected);
    assert_eq!(parse_vtt(&script("vtt")), expected);
    let txt = script("txt");
    assert!(txt.contains("Tổng thời lượng"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    #[test]
    fn any_cue_text_survives_srt_and_vtt(
        texts in proptest::collection::vec("[a-zA-Zàáạảãđ&<> \\-]{1,30}( \\n\\n?[a-zđ<>&]{1,8})?", 1..6),
        gaps in proptest::collection::vec(0u64..5_000, 6),
    ) {
        let mut script = bantin::Script {
            title: "t".into(), published: None, voice: "vi".into(), measured: true,
            cues: Vec::new(), total: Duration::ZERO,
        };
        let mut clock = 0;
        for (i, text) in texts.iter().enumerate() {
            let text = if text.trim().is_empty() { "x".to_string() } else { text.clone() };
            let start = clock + gaps[i];
            let end = start + 500 + gaps[i];
            clock = end;
            script.cues.push(bantin::Cue {
                id: i + 1, paragraph: 1, span: 0..0, text, spoken: "x".into(), parts: vec![],
                tokens: vec![], warnings: vec![],
                start: Duration::from_millis(start), end: Duration::from_millis(end),
                pause_after: Duration::ZERO,
            });
        }
        let expected: Vec<ParsedCue> = script.cues.iter().map(|c| ParsedCue {
            start_ms: c.start.as_millis() as u64,
            end_ms: c.end.as_millis() as u64,
            // What survives: lines without blank ones, and `-->` turned into an arrow in VTT.
            text: c.text.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join("\n"),
        }).collect();
        let srt = bantin::script::format::Format::Srt.text(&script);
        let vtt = bantin::script::format::Format::Vtt.text(&script);
        let vtt_expected: Vec<ParsedCue> = expected.iter().map(|c| ParsedCue {
            text: c.text.replace("-->", "→"), ..*c
        }).collect();
        proptest::prop_assert_eq!(parse_srt(&srt), expected);
        proptest::prop_assert_eq!(parse_vtt(&vtt), vtt_expected);
    }
}

fn prepare(text: &str) -> bantin::Script {
    let voices = Voices::builtin();
    let voice = voices.get("vi").unwrap();
    pipeline::prepare(
        text.as_bytes(),
        Some("tin.txt"),
        &Normalizer::builtin().unwrap(),
        voice,
        &AudioSettings::default(),
    )
    .unwrap()
    .1
}

#[test]
fn rerendering_an_edited_article_speaks_only_the_edited_cue() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let voices = Voices::builtin();
    let espeak = voices.get("vi").unwrap().synthesizer();
    let settings = AudioSettings::default();
    let options = speak::Options {
        cache: Some(&cache),
        max_parallel: 2,
    };
    let article = std::fs::read_to_string(example_article()).unwrap();
    let first = pipeline::render_with(
        &prepare(&article),
        espeak.as_ref(),
        &settings,
        &options,
        &(),
    )
    .unwrap();
    assert_eq!(first.stats.cached, 0);
    let breath_groups: usize = first.script.cues.iter().map(|c| c.parts.len()).sum();
    assert!(breath_groups > first.stats.cues);
    assert_eq!(cache.len(), breath_groups, "one entry per breath group");

    let edited = article.replacen("Chiều ngày 23/7", "Sáng ngày 24/7", 1);
    assert_ne!(edited, article);
    let second =
        pipeline::render_with(&prepare(&edited), espeak.as_ref(), &settings, &options, &())
            .unwrap();
    assert_eq!(second.stats.synthesized, 1, "{:?}", second.stats);
    let third = pipeline::render_with(&prepare(&edited), espeak.as_ref(), &settings, &options, &())
        .unwrap();
    assert_eq!(third.stats.synthesized, 0);
    // Cached audio is the speech of the same texts. Not sample for sample:
    // espeak-ng speaks a batch of breath groups in one run, and a breath
    // group's neighbours in its batch nudge its timing by a few milliseconds.
    let uncached = pipeline::render(&prepare(&edited), espeak.as_ref(), &settings, &()).unwrap();
    assert_eq!(third.script.cues.len(), uncached.script.cues.len());
    for (cached, fresh) in third.script.cues.iter().zip(&uncached.script.cues) {
        assert_eq!(cached.spoken, fresh.spoken);
        let (a, b) = (
            (cached.end - cached.start).as_secs_f64(),
            (fresh.end - fresh.start).as_secs_f64(),
        );
        assert!(
            (a - b).abs() < 0.05 * b + 0.05,
            "cue {}: {a} s vs {b} s",
            cached.id
        );
    }
}

/// A voice profile whose command backend speaks with espeak-ng but crashes
/// on any text containing `word`.
fn failing_voice(data: &Path, word: &str) {
    std::fs::create_dir_all(data.join("voices")).unwrap();
    std::fs::write(
        data.join("voices/flaky.toml"),
        format!(
            "name = \"flaky\"\nsyllables_per_minute = 233\n[command]\nprogram = \"sh\"\n\
             args = [\"-c\", \"if grep -q '{word}' {{input}}; then echo 'model crashed on this text' >&2; exit 3; fi; espeak-ng -v vi -w {{output}} -f {{input}}\"]\n\
             max_parallel = 2\n"
        ),
    )
    .unwrap();
}

#[test]
fn a_failed_backend_call_fails_the_render_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    failing_voice(&data, "Chỉ thị");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let output = bantin()
        .arg("render")
        .arg(example_article())
        .arg("--data")
        .arg(&data)
        .args(["--voice", "flaky", "-o"])
        .arg(out.join("tin.wav"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let script = prepare(&std::fs::read_to_string(example_article()).unwrap());
    let bad = script
        .cues
        .iter()
        .find(|c| c.spoken.contains("Chỉ thị"))
        .unwrap();
    assert!(
        stderr.contains(&format!("cue {}", bad.id))
            && stderr.contains("command sh")
            && stderr.contains("model crashed on this text"),
        "{stderr}"
    );
    assert!(
        files_in(&out).is_empty(),
        "nothing written: {:?}",
        files_in(&out)
    );

    // The cache holds whole entries only, and none for the failed cue.
    let cache = Cache::open(&data.join("cache")).unwrap();
    let voices = Voices::load(Some(&data.join("voices"))).unwrap();
    let fingerprint = voices.get("flaky").unwrap().synthesizer().fingerprint();
    let key = |text: &str| Key::new(&fingerprint, text);
    let bad_group = bad.parts.iter().find(|p| p.contains("Chỉ thị")).unwrap();
    assert!(cache.get(&key(bad_group)).is_none());
    let entries = files_in(cache.dir());
    assert!(
        entries
            .iter()
            .all(|p| p.extension().is_some_and(|x| x == "wav")),
        "{entries:?}"
    );
    for entry in &entries {
        assert!(
            script
                .cues
                .iter()
                .flat_map(|c| &c.parts)
                .any(|p| cache.path(&key(p)) == *entry && cache.get(&key(p)).is_some())
        );
    }
}

#[test]
fn a_killed_render_leaves_no_output_and_no_truncated_cache_entry() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("voices")).unwrap();
    // espeak-ng, slowed down so the render is still running when killed.
    std::fs::write(
        data.join("voices/slow.toml"),
        "name = \"slow\"\nsyllables_per_minute = 233\n[command]\nprogram = \"sh\"\n\
         args = [\"-c\", \"sleep 0.2; espeak-ng -v vi -w {output} -f {input}\"]\nmax_parallel = 2\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let mut child = bantin()
        .arg("render")
        .arg(example_article())
        .arg("--data")
        .arg(&data)
        .args(["--voice", "slow", "-o"])
        .arg(out.join("tin.wav"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let cache_dir = data.join("cache");
    let started = std::time::Instant::now();
    while Cache::open(&cache_dir).unwrap().len() < 3 && started.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(files_in(&out).is_empty());
    let cache = Cache::open(&cache_dir).unwrap();
    let wavs: Vec<_> = files_in(&cache_dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    assert!(wavs.len() >= 3);
    for path in wavs {
        let bytes = std::fs::read(&path).unwrap();
        let riff = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
        assert_eq!(riff + 8, bytes.len(), "{} is truncated", path.display());
    }
    assert!(!cache.is_empty());
}

#[test]
fn calibration_makes_estimates_match_the_rendered_length() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_ok(bantin().arg("--data").arg(dir.path()).args([
        "voices",
        "calibrate",
        "vi-vn-x-south",
    ]));
    assert!(String::from_utf8_lossy(&output.stderr).contains("syllables per minute"));
    let profile = std::fs::read_to_string(dir.path().join("voices/vi-vn-x-south.toml")).unwrap();
    assert!(
        profile.contains("[espeak]") && profile.contains("# espeak-ng, Southern"),
        "{profile}"
    );
    assert!(
        !profile.contains("syllables_per_minute = 233\n"),
        "{profile}"
    );

    // Estimate vs render of another text (the example article) with the calibrated voice.
    let voice = ["--voice", "vi-vn-x-south"];
    let estimated: serde_json::Value = serde_json::from_slice(
        &run_ok(
            bantin()
                .arg("--data")
                .arg(dir.path())
                .arg("script")
                .args(voice)
                .arg(example_article()),
        )
        .stdout,
    )
    .unwrap();
    let wav_path = dir.path().join("tin.wav");
    run_ok(
        bantin()
            .arg("--data")
            .arg(dir.path())
            .arg("render")
            .args(voice)
            .arg(example_article())
            .arg("-o")
            .arg(&wav_path),
    );
    let measured: serde_json::Value =
        serde_json::from_slice(&std::fs::read(wav_path.with_extension("json")).unwrap()).unwrap();
    let (e, m) = (
        estimated["total_ms"].as_f64().unwrap(),
        measured["total_ms"].as_f64().unwrap(),
    );
    assert!(
        (e - m).abs() / m <= 0.05,
        "estimated {e} ms, rendered {m} ms"
    );
    let listing =
        String::from_utf8(run_ok(bantin().arg("--data").arg(dir.path()).arg("voices")).stdout)
            .unwrap();
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("vi-vn-x-south\tespeak") && l.contains("\tavailable\t")),
        "{listing}"
    );
}
