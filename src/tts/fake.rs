//! A deterministic stand-in voice for tests of everything around speech: one
//! short tone per syllable, 22.05 kHz, so durations follow the text.

use std::time::Duration;

use super::{SynthError, Synthesizer};
use crate::audio::{Pcm, samples_for};

#[derive(Debug, Clone)]
pub struct Fake {
    pub sample_rate_hz: u32,
    pub syllable: Duration,
    /// Simulated work per call, to exercise progress and cancellation.
    pub delay: Duration,
}

impl Default for Fake {
    fn default() -> Self {
        Self {
            sample_rate_hz: 22_050,
            syllable: Duration::from_millis(250),
            delay: Duration::ZERO,
        }
    }
}

impl Synthesizer for Fake {
    fn fingerprint(&self) -> String {
        format!(
            "fake rate={} syllable_ms={}",
            self.sample_rate_hz,
            self.syllable.as_millis()
        )
    }

    fn synthesize(&self, text: &str) -> Result<Pcm, SynthError> {
        std::thread::sleep(self.delay);
        let count = crate::text::syllables(text);
        let per = samples_for(self.sample_rate_hz, self.syllable);
        let rate = self.sample_rate_hz as f32;
        let mut samples = Vec::with_capacity(per * count);
        for syllable in 0..count {
            let pitch = 180.0 + 20.0 * (syllable % 5) as f32;
            samples.extend((0..per).map(|i| {
                let fade = (i.min(per - i) as f32 / (per as f32 * 0.1)).min(1.0);
                (i as f32 * pitch * std::f32::consts::TAU / rate).sin() * 0.5 * fade
            }));
        }
        Ok(Pcm::new(self.sample_rate_hz, samples))
    }

    fn check(&self) -> Result<(), SynthError> {
        Ok(())
    }

    fn max_parallel(&self) -> usize {
        4
    }
}
