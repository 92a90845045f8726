//! Golden scripts of the example article: the announcer text and the JSON
//! must not change unless a reviewed golden file changes with them.

use crate::util::{assert_golden, bantin, example_article, repo, run_ok};

#[test]
fn example_script_matches_golden_files() {
    for format in ["json", "txt", "srt", "vtt"] {
        let output = run_ok(
            bantin()
                .args(["script", "--format", format])
                .arg(example_article()),
        );
        let actual = String::from_utf8(output.stdout).unwrap();
        assert_golden(
            &repo().join(format!("tests/golden/script/hung-yen-tuyen-giao.{format}")),
            &actual,
        );
    }
}
