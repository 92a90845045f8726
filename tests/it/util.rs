//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bantin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bantin"))
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
