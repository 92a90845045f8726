//! The CLI end to end with the real espeak-ng: the README's first command,
//! the `--lines` contracts, and bad input.

use std::path::Path;

use crate::util::{bantin, example_article, run_ok};

fn spoken_text(script: &serde_json::Value) -> String {
    script["cues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["spoken"].as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn renders_the_example_to_broadcast_wav_with_measured_script() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("bulletin.wav");
    let output = run_ok(
        bantin()
            .env("BANTIN_CACHE", dir.path().join("cache"))
            .arg("render")
            .arg(example_article())
            .arg("-o")
            .arg(&wav),
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("LUFS"));

    let reader = hound::WavReader::open(&wav).unwrap();
    let spec = reader.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (48_000, 1, 16)
    );
    let samples: Vec<f32> = reader
        .into_samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect();
    let seconds = samples.len() as f64 / 48_000.0;
    let mut meter =
        ebur128::EbuR128::new(1, 48_000, ebur128::Mode::I | ebur128::Mode::TRUE_PEAK).unwrap();
    meter.add_frames_f32(&samples).unwrap();
    let lufs = meter.loudness_global().unwrap();
    assert!((lufs + 23.0).abs() <= 0.5, "integrated loudness {lufs}");
    assert!(20.0 * meter.true_peak(0).unwrap().log10() <= -1.0);

    let script: serde_json::Value =
        serde_json::from_slice(&std::fs::read(wav.with_extension("json")).unwrap()).unwrap();
    assert_eq!(script["measured"], true);
    let last_end = script["cues"].as_array().unwrap().last().unwrap()["end_ms"]
        .as_f64()
        .unwrap()
        / 1000.0;
    assert!(
        (last_end - seconds).abs() <= seconds * 0.01,
        "last cue ends at {last_end}s, audio lasts {seconds}s"
    );

    let spoken = spoken_text(&script);
    for absent in ["BTV", "HCM", "©", "Copyright", "|"] {
        assert!(!spoken.contains(absent), "{absent} in spoken text");
    }
    assert!(
        !spoken.chars().any(|c| c.is_ascii_digit()),
        "digit in spoken text"
    );
    for present in [
        "Ban Thường vụ",
        "Hồ Chí Minh",
        "ngày hai mươi ba tháng bảy",
        "khóa mười ba",
        "Chỉ thị không năm",
    ] {
        assert!(
            spoken.contains(present),
            "{present} missing from spoken text"
        );
    }
    assert!(!spoken.contains("ngày ngày"));
}

#[test]
fn normalize_lines_keeps_one_line_per_input_line() {
    let input = "Chiều ngày 23/7\n\nnăm 2021 có 3,5 triệu\nỦy viên BTV Thành ủy\n";
    let output = run_ok(
        bantin()
            .args(["normalize", "--lines"])
            .stdin(std::process::Stdio::piped())
            .tap_stdin(input),
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "Chiều ngày hai mươi ba tháng bảy",
            "",
            "năm hai nghìn không trăm hai mươi mốt có ba phẩy năm triệu",
            "Ủy viên Ban Thường vụ Thành ủy"
        ]
    );
}

#[test]
fn segment_lines_ends_each_paragraph_with_a_blank_line() {
    let input = "Câu một. Câu hai!\nMột câu thôi.\n";
    let output = run_ok(
        bantin()
            .args(["segment", "--lines"])
            .stdin(std::process::Stdio::piped())
            .tap_stdin(input),
    );
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "Câu một.\nCâu hai!\n\nMột câu thôi.\n\n"
    );
}

/// Runs a command with `input` on stdin.
trait TapStdin {
    fn tap_stdin(&mut self, input: &str) -> &mut Self;
}

impl TapStdin for std::process::Command {
    fn tap_stdin(&mut self, input: &str) -> &mut Self {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), input).unwrap();
        let (handle, _) = file.keep().unwrap();
        self.stdin(handle)
    }
}

fn assert_fails_cleanly(args: &[&str], dir: &Path, expected: &str) {
    let output = bantin().args(args).current_dir(dir).output().unwrap();
    assert!(!output.status.success(), "{args:?} succeeded");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "not one line: {stderr}");
    assert!(stderr.contains(expected), "{stderr:?} lacks {expected:?}");
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        left.iter()
            .all(|n| !n.to_string_lossy().ends_with(".wav")
                && !n.to_string_lossy().ends_with(".json")),
        "left behind: {left:?}"
    );
}

#[test]
fn bad_input_is_one_line_error_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("empty.txt"), "").unwrap();
    std::fs::write(d.join("latin1.txt"), b"Tin t\xe9c\n\nH\xe0 N\xf4i.").unwrap();
    std::fs::write(d.join("footer.txt"), "© 2016 Copyright by VNPT Hưng Yên.\n").unwrap();
    assert_fails_cleanly(&["render", "empty.txt", "-o", "out.wav"], d, "empty");
    assert_fails_cleanly(&["render", "latin1.txt", "-o", "out.wav"], d, "not UTF-8");
    assert_fails_cleanly(
        &["render", "footer.txt", "-o", "out.wav"],
        d,
        "nothing is left to read",
    );
    assert_fails_cleanly(
        &["render", "missing.txt", "-o", "out.wav"],
        d,
        "cannot read missing.txt",
    );
    assert_fails_cleanly(&["script", "latin1.txt", "-o", "out.json"], d, "not UTF-8");
}

#[test]
fn missing_espeak_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let voices = dir.path().join("data/voices");
    std::fs::create_dir_all(&voices).unwrap();
    std::fs::write(
        voices.join("vi.toml"),
        "name = \"vi\"\nsyllables_per_minute = 233\n[espeak]\nvoice = \"vi\"\nprogram = \"/nonexistent/espeak-ng\"\n",
    )
    .unwrap();
    std::fs::copy(example_article(), dir.path().join("a.txt")).unwrap();
    assert_fails_cleanly(
        &["--data", "data", "render", "a.txt", "-o", "out.wav"],
        dir.path(),
        "apt-get install espeak-ng",
    );
}

/// `-o` names where the script goes; what is there decides how it is
/// written (regression: `-o /dev/null` run as root replaced the device with
/// a file, and a symbolic link was replaced instead of written through).
#[test]
fn output_paths_are_written_through_never_replaced() {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let script = |target: &Path| {
        bantin()
            .arg("script")
            .arg(example_article())
            .arg("--format")
            .arg("txt")
            .arg("-o")
            .arg(target)
            .output()
            .unwrap()
    };

    // The null device stays a device.
    let output = script(Path::new("/dev/null"));
    assert!(output.status.success(), "{output:?}");
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );

    // A link is written through; the file it names keeps its permissions.
    let real = dir.path().join("real.txt");
    std::fs::write(&real, "old").unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("today.txt");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    assert!(script(&link).status.success());
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let text = std::fs::read_to_string(&real).unwrap();
    assert!(text.contains("Ban Thường vụ"), "{text}");
    assert_eq!(
        std::fs::metadata(&real).unwrap().permissions().mode() & 0o777,
        0o640
    );

    // A folder is refused with a clear message, and stays a folder.
    let output = script(dir.path());
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a regular file"), "{stderr}");
    assert!(dir.path().is_dir());

    // `-o -` is standard output.
    let output = script(Path::new("-"));
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("Ban Thường vụ"));
}

#[test]
fn render_writes_the_wav_to_standard_output_with_o_dash() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script.json");
    let output = run_ok(
        bantin()
            .env("BANTIN_CACHE", dir.path().join("cache"))
            .arg("render")
            .arg(example_article())
            .arg("-o")
            .arg("-")
            .arg("--script")
            .arg(&script),
    );
    let reader = hound::WavReader::new(std::io::Cursor::new(output.stdout)).unwrap();
    assert_eq!(reader.spec().sample_rate, 48_000);
    assert!(reader.duration() > 48_000 * 10);
    let script: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&script).unwrap()).unwrap();
    assert_eq!(script["measured"], true);
    // Nothing was left beside the working folder's files.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}
