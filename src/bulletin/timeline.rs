//! The bulletin's timeline: samples laid end to end at one rate, silence
//! between them, where each piece landed, and the raised-cosine fades of the
//! jingles. Knows nothing of what the pieces are: [`super::layout`] decides
//! the order, the gains and the gaps.

use std::time::Duration;

use super::speak::Spoken;
use crate::audio;
use crate::script::Cue;

/// The programme being laid out, and where each piece landed.
pub(super) struct Timeline {
    pub rate: u32,
    pub samples: Vec<f32>,
}

impl Timeline {
    pub fn new(rate: u32) -> Timeline {
        Timeline {
            rate,
            samples: Vec::new(),
        }
    }

    fn at(&self, n: usize) -> Duration {
        Duration::from_secs_f64(n as f64 / f64::from(self.rate))
    }

    /// Appends `samples` times `gain`; returns where they start and end.
    pub fn push(&mut self, samples: &[f32], gain: f32) -> (Duration, Duration) {
        let start = self.samples.len();
        self.samples.extend(samples.iter().map(|s| s * gain));
        (self.at(start), self.at(self.samples.len()))
    }

    pub fn silence(&mut self, length: Duration) {
        let n = audio::samples_for(self.rate, length);
        self.samples.resize(self.samples.len() + n, 0.0);
    }

    /// Lays out spoken cues; returns the span they cover and the cues with
    /// measured times, their paragraphs renumbered to start at `first_paragraph`.
    pub fn speak(
        &mut self,
        spoken: Spoken,
        gain: f32,
        first_paragraph: usize,
    ) -> ((Duration, Duration), Vec<Cue>) {
        let start = self.at(self.samples.len());
        let own_first = spoken.cues.first().map_or(0, |c| c.paragraph);
        let last = spoken.cues.len().saturating_sub(1);
        let mut cues = Vec::with_capacity(spoken.cues.len());
        for (index, (mut cue, audio)) in spoken.cues.into_iter().zip(spoken.audio).enumerate() {
            let (cue_start, cue_end) = self.push(&audio, gain);
            cue.start = cue_start;
            cue.end = cue_end;
            cue.paragraph = cue.paragraph.saturating_sub(own_first) + first_paragraph;
            if index < last {
                self.silence(cue.pause_after);
            } else {
                // The gap after an item's last cue is the bulletin's, not the article's.
                cue.pause_after = Duration::ZERO;
            }
            cues.push(cue);
        }
        ((start, self.at(self.samples.len())), cues)
    }
}

#[derive(Clone, Copy)]
pub(super) enum Fade {
    In,
    Out,
}

/// A raised-cosine fade over `length` at the start (in) or end (out).
pub(super) fn fade(samples: &mut [f32], rate: u32, length: Duration, direction: Fade) {
    let n = audio::samples_for(rate, length).min(samples.len());
    if n == 0 {
        return;
    }
    let total = samples.len();
    for i in 0..n {
        let x = (i as f32 + 0.5) / n as f32;
        let gain = 0.5 - 0.5 * (std::f32::consts::PI * x).cos();
        match direction {
            Fade::In => samples[i] *= gain,
            Fade::Out => samples[total - 1 - i] *= gain,
        }
    }
}
