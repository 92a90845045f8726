//! The listen check of one render: each cue's audio is transcribed, aligned
//! with the cue's spoken text, and flagged when it was clearly heard worse
//! than its voice usually is, or when a number was heard as another.
//!
//! Why these rules: on natural Vietnamese speech the recognizer (`vietasr`)
//! gets about one word in ten wrong, and a single clean sentence may reach
//! three words in ten (a name, a rare word). A cue the voice skipped,
//! repeated or garbled, or one that is another sentence, is heard at five in
//! ten or worse. So a cue is flagged above its voice's baseline plus
//! [`DEFAULT_MARGIN`] (never above [`FLAG_CEILING`], so silence and the wrong
//! sentence are flagged for any voice). A changed number costs one word in a
//! sentence, within the noise of a good voice, yet it is another fact: when
//! the voice is good enough for single words to count ([`NUMBER_TRUST`]),
//! any number word missed, inserted or heard as another flags the cue.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::align::{Alignment, align};
use super::fold::{fold_word, heard_as_spoken, words};
use super::recognizer::{RecognizeError, Recognizer};
use crate::audio::Pcm;
use crate::normalize::Normalizer;

/// How much worse than its voice's baseline a cue may be heard before it is
/// flagged, in word error rate.
pub const DEFAULT_MARGIN: f64 = 0.3;
/// Word error rate at which a cue is flagged whatever its voice's baseline.
pub const FLAG_CEILING: f64 = 0.95;
/// Baselines up to this trust single words: a number heard as another flags.
pub const NUMBER_TRUST: f64 = 0.35;
/// The baseline of a voice not yet calibrated: the recognizer's error on
/// natural Vietnamese speech.
pub const DEFAULT_BASELINE: f64 = 0.1;

/// One cue to check: what it should say and its audio.
#[derive(Debug, Clone)]
pub struct Clip {
    pub id: usize,
    pub spoken: String,
    pub audio: Pcm,
}

/// What the check found in one cue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CueCheck {
    pub id: usize,
    /// What the recognizer heard, as it wrote it.
    pub heard: String,
    pub word_error_rate: f64,
    #[serde(flatten)]
    pub alignment: Alignment,
    /// Number words missed, inserted or heard as others.
    pub wrong_numbers: Vec<String>,
    pub flagged: bool,
    /// Why it is flagged, for the editor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The check of a whole render.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckReport {
    pub recognizer: String,
    pub baseline: f64,
    pub margin: f64,
    pub flagged: usize,
    /// Word error rate over all cues (edits over expected words).
    pub word_error_rate: f64,
    pub cues: Vec<CueCheck>,
}

impl CheckReport {
    /// One line for a job status or a log: "checked, 2 cues flagged".
    pub fn summary(&self) -> String {
        match self.flagged {
            0 => format!("checked, no cue flagged ({} cues)", self.cues.len()),
            1 => "checked, 1 cue flagged".to_string(),
            n => format!("checked, {n} cues flagged"),
        }
    }

    /// The report as an editor reads it: the summary, then each flagged cue
    /// with why, what it should say and what was heard.
    pub fn to_text(&self, script: &[(usize, String)]) -> String {
        let mut out = format!(
            "{} — {:.0}% of words heard wrong overall (recognizer: {}; this voice: about {:.0}%)\n",
            self.summary(),
            self.word_error_rate * 100.0,
            self.recognizer,
            self.baseline * 100.0
        );
        for cue in self.cues.iter().filter(|c| c.flagged) {
            let said = script
                .iter()
                .find(|(id, _)| *id == cue.id)
                .map_or("", |(_, s)| s.as_str());
            out.push_str(&format!(
                "\ncue {}: {}\n  script: {said}\n  heard:  {}\n",
                cue.id,
                cue.reason.as_deref().unwrap_or_default(),
                cue.heard
            ));
        }
        out
    }
}

/// A recognizer with the rules to judge what it heard.
pub struct Listener {
    recognizer: Box<dyn Recognizer>,
    normalizer: Normalizer,
    /// The voice's usual word error rate under this recognizer.
    pub baseline: f64,
    pub margin: f64,
    /// The recognizer's name in reports, when not its own.
    label: Option<String>,
}

impl Listener {
    pub fn new(recognizer: Box<dyn Recognizer>, normalizer: Normalizer) -> Listener {
        Listener {
            recognizer,
            normalizer,
            baseline: DEFAULT_BASELINE,
            margin: DEFAULT_MARGIN,
            label: None,
        }
    }

    /// The same listener naming its recognizer `label` in reports.
    pub fn named(mut self, label: String) -> Listener {
        self.label = Some(label);
        self
    }

    /// The same listener judging against `baseline`.
    pub fn with_baseline(mut self, baseline: f64) -> Listener {
        self.baseline = baseline.clamp(0.0, 1.0);
        self
    }

    /// Transcribes and judges `clips`.
    ///
    /// # Errors
    /// The recognizer fails; the render itself is untouched.
    pub fn check(&self, clips: &[Clip]) -> Result<CheckReport, RecognizeError> {
        let audio: Vec<Pcm> = clips.iter().map(|c| c.audio.clone()).collect();
        let heard = self.transcribe(&audio)?;
        let cues: Vec<CueCheck> = clips
            .iter()
            .zip(heard)
            .map(|(clip, heard)| self.judge(clip, heard))
            .collect();
        Ok(self.report(cues))
    }

    /// What the recognizer hears in each clip.
    ///
    /// # Errors
    /// The recognizer fails.
    pub fn transcribe(&self, audio: &[Pcm]) -> Result<Vec<String>, RecognizeError> {
        self.recognizer.transcribe(audio)
    }

    /// The report of cues judged one by one.
    pub fn report(&self, cues: Vec<CueCheck>) -> CheckReport {
        let words: usize = cues.iter().map(|c| c.alignment.words).sum();
        let edits: usize = cues.iter().map(|c| c.alignment.edits()).sum();
        CheckReport {
            recognizer: self
                .label
                .clone()
                .unwrap_or_else(|| self.recognizer.name().to_string()),
            baseline: self.baseline,
            margin: self.margin,
            flagged: cues.iter().filter(|c| c.flagged).count(),
            word_error_rate: if words == 0 {
                0.0
            } else {
                edits as f64 / words as f64
            },
            cues,
        }
    }

    /// Judges one cue from what was heard.
    pub fn judge(&self, clip: &Clip, heard: String) -> CueCheck {
        let shown_expected = words(&clip.spoken);
        let expected: Vec<String> = shown_expected.iter().map(|w| fold_word(w)).collect();
        let heard_spoken = heard_as_spoken(&heard, &self.normalizer);
        let shown_heard = words(&heard_spoken);
        let folded_heard: Vec<String> = shown_heard.iter().map(|w| fold_word(w)).collect();
        let alignment = align(&expected, &folded_heard, &shown_expected, &shown_heard);
        let rate = alignment.word_error_rate();
        let wrong_numbers = number_words_in(&alignment);
        let threshold = (self.baseline + self.margin).min(FLAG_CEILING);
        let reason = if rate >= threshold {
            Some(format!(
                "heard {:.0}% of the words wrong (this voice: about {:.0}%)",
                rate * 100.0,
                self.baseline * 100.0
            ))
        } else if self.baseline <= NUMBER_TRUST && !wrong_numbers.is_empty() {
            Some(format!(
                "a number was heard differently: {}",
                wrong_numbers.join(", ")
            ))
        } else {
            None
        };
        CueCheck {
            id: clip.id,
            heard,
            word_error_rate: rate,
            alignment,
            wrong_numbers,
            flagged: reason.is_some(),
            reason,
        }
    }
}

/// Words that carry numbers (`number_words.txt`), folded.
fn number_words() -> &'static [String] {
    static WORDS: OnceLock<Vec<String>> = OnceLock::new();
    WORDS.get_or_init(|| {
        parse_number_words(include_str!("number_words.txt"))
            .unwrap_or_else(|e| panic!("src/listen/number_words.txt: {e}"))
    })
}

fn parse_number_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.split_whitespace().count() != 1 || line.to_lowercase() != line {
            return Err(format!(
                "line {}: {line:?} is not one lower-case word",
                index + 1
            ));
        }
        words.push(fold_word(line));
    }
    Ok(words)
}

fn is_number_word(word: &str) -> bool {
    let folded = fold_word(word);
    number_words().contains(&folded)
}

fn number_words_in(alignment: &Alignment) -> Vec<String> {
    let mut wrong: Vec<String> = Vec::new();
    for word in alignment.missed.iter().chain(&alignment.inserted) {
        if is_number_word(word) {
            wrong.push(word.clone());
        }
    }
    for (expected, heard) in &alignment.substituted {
        if is_number_word(expected) || is_number_word(heard) {
            wrong.push(format!("{expected} → {heard}"));
        }
    }
    wrong
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listen::recognizer::RecognizeError;
    use std::time::Duration;

    /// Hears each clip as the text set for it.
    struct Scripted(Vec<String>);

    impl Recognizer for Scripted {
        fn name(&self) -> &str {
            "scripted"
        }
        fn transcribe(&self, clips: &[Pcm]) -> Result<Vec<String>, RecognizeError> {
            assert_eq!(clips.len(), self.0.len());
            Ok(self.0.clone())
        }
    }

    fn clip(id: usize, spoken: &str) -> Clip {
        Clip {
            id,
            spoken: spoken.into(),
            audio: Pcm::silence(16_000, Duration::from_millis(10)),
        }
    }

    fn listener(heard: &[&str]) -> Listener {
        Listener::new(
            Box::new(Scripted(heard.iter().map(|s| s.to_string()).collect())),
            Normalizer::builtin().unwrap(),
        )
    }

    #[test]
    fn the_data_file_loads_and_bad_lines_name_their_line() {
        assert!(number_words().len() > 20);
        assert!(is_number_word("Mười"));
        assert!(!is_number_word("tháng"));
        let error = parse_number_words("một\nhai ba\n").unwrap_err();
        assert!(error.contains("line 2"), "{error}");
        assert!(parse_number_words("Một\n").is_err());
    }

    #[test]
    fn a_slip_on_an_ordinary_word_passes_and_a_changed_number_is_flagged() {
        let report = listener(&[
            "đến cuối thời kỷ mười chín ngành đánh bắt cá được thương mại hóa",
            "ngày hai mươi ba tháng tám",
        ])
        .check(&[
            clip(
                1,
                "Đến cuối thế kỷ mười chín, ngành đánh bắt cá được thương mại hoá.",
            ),
            clip(2, "Ngày hai mươi ba tháng bảy."),
        ])
        .unwrap();
        assert!(!report.cues[0].flagged, "{:?}", report.cues[0]);
        assert_eq!(
            report.cues[0].alignment.substituted,
            [("thế".to_string(), "thời".to_string())]
        );
        assert!(report.cues[1].flagged);
        assert_eq!(report.cues[1].wrong_numbers, ["bảy → tám"]);
        assert_eq!(report.flagged, 1);
        assert_eq!(report.summary(), "checked, 1 cue flagged");
    }

    #[test]
    fn silence_and_another_sentence_are_flagged_for_any_voice() {
        let report = listener(&["", "hôm nay trời nắng đẹp quá"])
            .with_baseline(0.8)
            .check(&[
                clip(1, "Xin chào quý vị."),
                clip(2, "Hội nghị sơ kết công tác tuyên giáo."),
            ])
            .unwrap();
        assert!(report.cues.iter().all(|c| c.flagged), "{report:?}");
    }

    #[test]
    fn a_poor_voice_is_not_flagged_for_single_words() {
        let report = listener(&["ngày hai mươi ba tháng tám"])
            .with_baseline(0.7)
            .check(&[clip(1, "Ngày hai mươi ba tháng bảy.")])
            .unwrap();
        assert!(!report.cues[0].flagged);
    }

    #[test]
    fn digits_heard_are_compared_as_words() {
        let report = listener(&["năm 2021"])
            .check(&[clip(1, "Năm hai nghìn không trăm hai mươi mốt.")])
            .unwrap();
        assert_eq!(report.cues[0].alignment.edits(), 0, "{report:?}");
    }
}
