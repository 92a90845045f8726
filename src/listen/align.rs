//! Aligns the words a cue should say with the words a recognizer heard
//! (edit distance over words, quadratic in a cue's length, which a breath
//! group bounds) and counts what was missed, inserted and substituted.

use serde::{Deserialize, Serialize};

/// How the heard words differ from the expected ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Alignment {
    /// Expected words.
    pub words: usize,
    /// Expected words not heard.
    pub missed: Vec<String>,
    /// Heard words that were not expected.
    pub inserted: Vec<String>,
    /// (expected, heard) pairs.
    pub substituted: Vec<(String, String)>,
}

impl Alignment {
    /// Word error rate: edits over expected words (1.0 when nothing was
    /// expected but something was heard, 0.0 when both are empty).
    pub fn word_error_rate(&self) -> f64 {
        let edits = self.edits();
        if self.words == 0 {
            return if edits == 0 { 0.0 } else { 1.0 };
        }
        edits as f64 / self.words as f64
    }

    /// Number of edits.
    pub fn edits(&self) -> usize {
        self.missed.len() + self.inserted.len() + self.substituted.len()
    }
}

/// Aligns `expected` with `heard` (both folded words), keeping the words as
/// `shown_expected` and `shown_heard` spell them for the editor.
pub fn align(
    expected: &[String],
    heard: &[String],
    shown_expected: &[String],
    shown_heard: &[String],
) -> Alignment {
    let (n, m) = (expected.len(), heard.len());
    // cost[i][j]: edits between expected[..i] and heard[..j].
    let width = m + 1;
    let mut cost = vec![0usize; (n + 1) * width];
    for i in 0..=n {
        cost[i * width] = i;
    }
    for (j, cell) in cost.iter_mut().enumerate().take(m + 1) {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let same = usize::from(expected[i - 1] != heard[j - 1]);
            let diagonal = cost[(i - 1) * width + j - 1] + same;
            let up = cost[(i - 1) * width + j] + 1;
            let left = cost[i * width + j - 1] + 1;
            cost[i * width + j] = diagonal.min(up).min(left);
        }
    }
    let mut alignment = Alignment {
        words: n,
        ..Alignment::default()
    };
    let (mut i, mut j) = (n, m);
    while i > 0 || j > 0 {
        let here = cost[i * width + j];
        if i > 0 && j > 0 {
            let same = expected[i - 1] == heard[j - 1];
            if here == cost[(i - 1) * width + j - 1] + usize::from(!same) {
                if !same {
                    alignment
                        .substituted
                        .push((shown_expected[i - 1].clone(), shown_heard[j - 1].clone()));
                }
                i -= 1;
                j -= 1;
                continue;
            }
        }
        if i > 0 && here == cost[(i - 1) * width + j] + 1 {
            alignment.missed.push(shown_expected[i - 1].clone());
            i -= 1;
        } else {
            alignment.inserted.push(shown_heard[j - 1].clone());
            j -= 1;
        }
    }
    alignment.missed.reverse();
    alignment.inserted.reverse();
    alignment.substituted.reverse();
    alignment
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    fn run(expected: &str, heard: &str) -> Alignment {
        let (e, h) = (words(expected), words(heard));
        align(&e, &h, &e, &h)
    }

    #[test]
    fn identical_words_have_no_error() {
        let a = run("mười chín giờ", "mười chín giờ");
        assert_eq!(a.edits(), 0);
        assert_eq!(a.word_error_rate(), 0.0);
    }

    #[test]
    fn counts_each_kind_of_edit() {
        assert_eq!(run("một hai ba", "một ba").missed, ["hai"]);
        assert_eq!(run("một ba", "một hai ba").inserted, ["hai"]);
        assert_eq!(
            run("một hai ba", "một bốn ba").substituted,
            [("hai".to_string(), "bốn".to_string())]
        );
        let a = run("ngày hai mươi ba tháng bảy", "ngày mươi ba tháng tám nay");
        assert_eq!((a.missed.len(), a.edits()), (1, 3), "{a:?}");
        assert!((a.word_error_rate() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn silence_misses_every_word_and_noise_for_nothing_is_total() {
        let a = run("một hai ba", "");
        assert_eq!(a.missed.len(), 3);
        assert_eq!(a.word_error_rate(), 1.0);
        assert_eq!(run("", "ờ").word_error_rate(), 1.0);
        assert_eq!(run("", "").word_error_rate(), 0.0);
    }
}
