//! Speaking a bulletin: every part of the programme (greeting, items,
//! sign-off) in one pass through [`speak::speak_cues`], the loop article
//! renders use, so the cue cache, the parallelism and the progress count
//! span the whole bulletin. A failure names the part and the cue's own
//! number in it.
//!
//! Knows nothing of the slot or the timeline: it returns each part's cues
//! with their audio at the output rate.

use super::build::BulletinError;
use crate::audio;
use crate::script::Cue;
use crate::settings::AudioSettings;
use crate::speak::{self, Progress, SpeakError};
use crate::tts::Synthesizer;

/// Speech of one part of the programme: cues and their audio.
pub(super) struct Spoken {
    pub cues: Vec<Cue>,
    pub audio: Vec<Vec<f32>>,
}

impl Spoken {
    /// Length in samples: the cues and the pauses between them.
    pub fn samples(&self, rate: u32) -> usize {
        let last = self.cues.len().saturating_sub(1);
        self.audio
            .iter()
            .zip(&self.cues)
            .enumerate()
            .map(|(i, (a, c))| {
                a.len()
                    + if i < last {
                        audio::samples_for(rate, c.pause_after)
                    } else {
                        0
                    }
            })
            .sum()
    }
}

/// Speaks every part (named, with its cues) in one pass; returns each
/// part's speech in order. The cues are numbered through for the pass.
///
/// # Errors
/// [`BulletinError::Synth`] and [`BulletinError::Resample`] naming the part
/// and the cue's own number, [`BulletinError::Cancelled`].
pub(super) fn speak(
    parts: Vec<(String, Vec<Cue>)>,
    synthesizer: &dyn Synthesizer,
    settings: &AudioSettings,
    options: &speak::Options<'_>,
    progress: &dyn Progress,
) -> Result<(Vec<Spoken>, speak::Stats), BulletinError> {
    let all: Vec<Cue> = parts
        .iter()
        .flat_map(|(_, cues)| cues.iter().cloned())
        .enumerate()
        .map(|(index, mut cue)| {
            cue.id = index + 1;
            cue
        })
        .collect();
    // The part and own number of the cue numbered `id` in the pass.
    let locate = |id: usize| -> (String, usize) {
        let mut index = id.saturating_sub(1);
        for (name, cues) in &parts {
            match cues.get(index) {
                Some(cue) => return (name.clone(), cue.id),
                None => index -= cues.len(),
            }
        }
        ("bulletin".to_string(), id)
    };
    let (speech, stats) = speak::speak_cues(
        &all,
        synthesizer,
        settings.sample_rate_hz,
        settings.pauses.between_breath_groups,
        options,
        progress,
    )
    .map_err(|e| match e {
        SpeakError::Synth { cue, text, source } => {
            let (part, cue) = locate(cue);
            BulletinError::Synth {
                part,
                cue,
                text,
                source,
            }
        }
        SpeakError::Resample { cue, source } => {
            let (part, cue) = locate(cue);
            BulletinError::Resample { part, cue, source }
        }
        SpeakError::Cancelled => BulletinError::Cancelled,
    })?;
    let mut speech = speech.into_iter();
    let spoken = parts
        .into_iter()
        .map(|(_, cues)| Spoken {
            audio: speech
                .by_ref()
                .take(cues.len())
                .map(|p| p.samples)
                .collect(),
            cues,
        })
        .collect();
    Ok((spoken, stats))
}
