//! The listen check: a render is heard back by a speech recognizer and each
//! cue the voice got wrong is flagged before air.
//!
//! This module owns the recognizers ([`recognizer`]: a program or an HTTP
//! server behind [`Recognizer`]), the folding of both sides into comparable
//! words ([`fold`]), their alignment ([`align`]) and the rules that flag a
//! cue ([`check`]). It reads audio and a script's cue times; it never
//! changes a render.

pub mod align;
pub mod beside;
pub mod check;
pub mod fold;
pub mod recognizer;
pub mod settings;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use beside::Beside;
pub use check::{CheckReport, Clip, CueCheck, Listener};
pub use recognizer::{RecognizeError, Recognizer, RecognizerSettings};
pub use settings::{BaselineError, Baselines, ListenSettings};

use crate::audio::{Pcm, samples_for};
use crate::script::Script;

/// Audio kept after a cue's end when it is cut out of a render, so a last
/// syllable that fades out is whole. None is kept before its start: a cue's
/// audio starts where its speech does, and `vietasr` hears the first words
/// of a clip worse after leading silence (measured on the natural speech
/// clips of `scripts/setup-listen`: 3 of 6 clips lost words to 150 ms of it,
/// none to 150 ms after).
const CLIP_TAIL: Duration = Duration::from_millis(150);

/// The cues of a script JSON (`bantin script --format json` or a render's
/// `--script`), as far as the check reads them.
#[derive(Debug, Clone, Deserialize)]
pub struct ScriptCues {
    /// True when the times were measured on the rendered audio.
    #[serde(default)]
    pub measured: bool,
    /// The voice that spoke it, whose baseline applies.
    #[serde(default)]
    pub voice: Option<String>,
    pub cues: Vec<CueTimes>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CueTimes {
    pub id: usize,
    pub spoken: String,
    pub start_ms: u64,
    pub end_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ClipError {
    #[error("the script is not a bantin script JSON: {0}")]
    Script(String),
    #[error(
        "the script's times are estimates, not measured on audio: give the script written with the render (bantin render --script)"
    )]
    Estimated,
    #[error(
        "cue {id} ends at {end_ms} ms, after the audio ({audio_ms} ms): is it the script of this audio?"
    )]
    OutOfAudio {
        id: usize,
        end_ms: u64,
        audio_ms: u64,
    },
}

/// Why a render could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error(transparent)]
    Clip(#[from] ClipError),
    #[error(transparent)]
    Recognize(#[from] RecognizeError),
}

/// What the check of a render came to: a report, or why there is none.
/// A render is kept either way; only its check is missing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CheckOutcome {
    Checked(CheckReport),
    Unavailable { reason: String },
}

impl CheckOutcome {
    /// The outcome of `check`, a recognizer failure kept as its reason.
    pub fn of(check: Result<CheckReport, ListenError>) -> CheckOutcome {
        match check {
            Ok(report) => CheckOutcome::Checked(report),
            Err(e) => CheckOutcome::Unavailable {
                reason: e.to_string(),
            },
        }
    }

    /// "checked, 2 cues flagged" or "check unavailable: …".
    pub fn summary(&self) -> String {
        match self {
            CheckOutcome::Checked(report) => report.summary(),
            CheckOutcome::Unavailable { reason } => format!("check unavailable: {reason}"),
        }
    }

    /// Cues flagged (none when the check was unavailable).
    pub fn flagged(&self) -> usize {
        match self {
            CheckOutcome::Checked(report) => report.flagged,
            CheckOutcome::Unavailable { .. } => 0,
        }
    }
}

impl Listener {
    /// Cuts `audio` into the cues of `script` and checks each.
    ///
    /// # Errors
    /// The script does not fit the audio, or the recognizer fails.
    pub fn check_render(
        &self,
        audio: &Pcm,
        script: &ScriptCues,
    ) -> Result<CheckReport, ListenError> {
        let clips = script.clips(audio)?;
        Ok(self.check(&clips)?)
    }
}

/// The listen check of bulletins: the station's `[listen]` settings and
/// the data directory holding the voice baselines. Set in the bulletin
/// settings when `[listen] enabled` is on.
#[derive(Debug, Clone, PartialEq)]
pub struct BulletinListen {
    pub settings: ListenSettings,
    pub data_dir: std::path::PathBuf,
}

impl BulletinListen {
    /// Hears a built programme back against `voice`'s baseline; a failing
    /// recognizer makes the check unavailable, never the bulletin.
    pub fn check(&self, voice: &str, audio: &Pcm, script: &Script) -> CheckOutcome {
        let listener = crate::normalize::Normalizer::builtin()
            .map_err(|e| e.to_string())
            .and_then(|normalizer| {
                let baselines = Baselines::load(&self.data_dir).map_err(|e| e.to_string())?;
                self.settings
                    .listener(normalizer, &baselines, voice)
                    .map_err(|e| e.to_string())
            });
        match listener {
            Ok(listener) => {
                CheckOutcome::of(listener.check_render(audio, &ScriptCues::from(script)))
            }
            Err(reason) => CheckOutcome::Unavailable { reason },
        }
    }
}

impl From<&Script> for ScriptCues {
    fn from(script: &Script) -> Self {
        ScriptCues {
            measured: script.measured,
            voice: Some(script.voice.clone()),
            cues: script
                .cues
                .iter()
                .map(|cue| CueTimes {
                    id: cue.id,
                    spoken: cue.spoken.clone(),
                    start_ms: cue.start.as_millis() as u64,
                    end_ms: cue.end.as_millis() as u64,
                })
                .collect(),
        }
    }
}

impl ScriptCues {
    /// Reads a script JSON.
    ///
    /// # Errors
    /// Not JSON, or without cues and their times.
    pub fn from_json(bytes: &[u8]) -> Result<ScriptCues, ClipError> {
        serde_json::from_slice(bytes).map_err(|e| ClipError::Script(e.to_string()))
    }

    /// Each cue's audio, cut from the render with a little of what follows.
    ///
    /// # Errors
    /// Estimated times, or a cue past the end of the audio.
    pub fn clips(&self, audio: &Pcm) -> Result<Vec<Clip>, ClipError> {
        if !self.measured {
            return Err(ClipError::Estimated);
        }
        let rate = audio.sample_rate_hz;
        let len = audio.samples.len();
        let audio_ms = audio.duration().as_millis() as u64;
        let tail = samples_for(rate, CLIP_TAIL);
        self.cues
            .iter()
            .map(|cue| {
                let start = samples_for(rate, Duration::from_millis(cue.start_ms));
                let end = samples_for(rate, Duration::from_millis(cue.end_ms));
                if end > len || start > end {
                    return Err(ClipError::OutOfAudio {
                        id: cue.id,
                        end_ms: cue.end_ms,
                        audio_ms,
                    });
                }
                let samples = audio.samples[start..(end + tail).min(len)].to_vec();
                Ok(Clip {
                    id: cue.id,
                    spoken: cue.spoken.clone(),
                    audio: Pcm::new(rate, samples),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(measured: bool, cues: &[(u64, u64)]) -> ScriptCues {
        ScriptCues {
            measured,
            voice: None,
            cues: cues
                .iter()
                .enumerate()
                .map(|(i, &(start_ms, end_ms))| CueTimes {
                    id: i + 1,
                    spoken: format!("câu {i}"),
                    start_ms,
                    end_ms,
                })
                .collect(),
        }
    }

    #[test]
    fn cuts_each_cue_with_a_margin_inside_the_audio() {
        let audio = Pcm::new(1000, (0..3000).map(|i| i as f32 / 3000.0).collect());
        let clips = script(true, &[(0, 1000), (1500, 3000)])
            .clips(&audio)
            .unwrap();
        assert_eq!(clips[0].audio.samples.len(), 1150);
        assert_eq!(clips[1].audio.samples.len(), 1500);
        assert_eq!(clips[1].audio.samples[0], audio.samples[1500]);
    }

    #[test]
    fn refuses_estimates_and_a_script_longer_than_the_audio() {
        let audio = Pcm::silence(1000, Duration::from_secs(1));
        assert!(matches!(
            script(false, &[(0, 500)]).clips(&audio),
            Err(ClipError::Estimated)
        ));
        let error = script(true, &[(0, 2000)])
            .clips(&audio)
            .unwrap_err()
            .to_string();
        assert!(error.contains("cue 1"), "{error}");
        assert!(ScriptCues::from_json(b"{\"cues\": 3}").is_err());
    }
}
