//! Word-level differences between two texts (two revisions of an article,
//! or their spoken forms), as runs of kept, removed and added words. Knows
//! nothing of articles or storage; the server feeds it text.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

/// What happened to a run of words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Kept,
    Removed,
    Added,
}

/// Consecutive words with the same [`Change`], with the spaces between them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Run {
    pub change: Change,
    pub text: String,
}

/// The runs that turn `old` into `new`, word by word (whitespace kept with
/// the word before it). Joining the kept and removed runs gives `old`; the
/// kept and added runs give `new`.
pub fn words(old: &str, new: &str) -> Vec<Run> {
    let diff = TextDiff::from_words(old, new);
    let mut runs: Vec<Run> = Vec::new();
    for change in diff.iter_all_changes() {
        let kind = match change.tag() {
            ChangeTag::Equal => Change::Kept,
            ChangeTag::Delete => Change::Removed,
            ChangeTag::Insert => Change::Added,
        };
        let text = change.value();
        match runs.last_mut() {
            Some(last) if last.change == kind => last.text.push_str(text),
            _ => runs.push(Run {
                change: kind,
                text: text.to_string(),
            }),
        }
    }
    runs
}

/// Whether any run is added or removed.
pub fn changed(runs: &[Run]) -> bool {
    runs.iter().any(|r| r.change != Change::Kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn side(runs: &[Run], skip: Change) -> String {
        runs.iter()
            .filter(|r| r.change != skip)
            .map(|r| r.text.as_str())
            .collect()
    }

    #[test]
    fn marks_the_changed_words_only() {
        let runs = words(
            "Sáng nay, 120 hộ dân nhận hỗ trợ.",
            "Sáng nay, 150 hộ dân nhận hỗ trợ.",
        );
        let removed: Vec<&str> = runs
            .iter()
            .filter(|r| r.change == Change::Removed)
            .map(|r| r.text.trim())
            .collect();
        let added: Vec<&str> = runs
            .iter()
            .filter(|r| r.change == Change::Added)
            .map(|r| r.text.trim())
            .collect();
        assert_eq!((removed, added), (vec!["120"], vec!["150"]));
        assert!(changed(&runs));
        assert!(!changed(&words("một hai", "một hai")));
    }

    proptest! {
        #[test]
        fn both_sides_are_rebuilt(old in "[a-cà ]{0,40}", new in "[a-cà ]{0,40}") {
            let runs = words(&old, &new);
            prop_assert_eq!(side(&runs, Change::Added), old);
            prop_assert_eq!(side(&runs, Change::Removed), new);
        }
    }
}
