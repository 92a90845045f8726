//! Audio as broadcast needs it: f32 mono programmes assembled from per-cue
//! speech with pauses, resampled to the output rate, levelled to EBU R128 and
//! written as WAV. Knows nothing of text; the script says where cues go.

pub mod cart;
pub mod format;
mod loudness;
pub mod meter;
mod mix;
pub mod mp3;
pub mod opus;
mod resample;
mod true_peak;
pub mod wav;

use std::time::Duration;

pub use loudness::{
    Loudness, LoudnessError, LoudnessReport, LoudnessTarget, level, measure, normalize, report,
};
pub use mix::{MixError, Program, Segment, mix};
pub use resample::{ResampleError, resample, resample_into, resampled_len};

/// Mono PCM samples in [-1, 1] at a sample rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Pcm {
    pub sample_rate_hz: u32,
    pub samples: Vec<f32>,
}

impl Pcm {
    pub fn new(sample_rate_hz: u32, samples: Vec<f32>) -> Self {
        Self {
            sample_rate_hz,
            samples,
        }
    }

    pub fn silence(sample_rate_hz: u32, duration: Duration) -> Self {
        Self {
            sample_rate_hz,
            samples: vec![0.0; samples_for(sample_rate_hz, duration)],
        }
    }

    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(self.sample_rate_hz.max(1)))
    }

    /// Largest absolute sample value.
    pub fn peak(&self) -> f32 {
        self.samples.iter().fold(0.0, |m, s| m.max(s.abs()))
    }
}

/// Drops the near-silence a backend adds before and after speech, so the
/// pauses heard are the ones the script places (articles and bulletins alike).
pub fn trim_silence(samples: &[f32]) -> &[f32] {
    &samples[sound_bounds(samples)]
}

/// [`trim_silence`] on an owned buffer, keeping it (no copy to a new one).
pub fn trim_silence_in_place(samples: &mut Vec<f32>) {
    let sound = sound_bounds(samples);
    samples.truncate(sound.end);
    samples.drain(..sound.start);
}

/// From the first to the last sample above the noise floor (empty when
/// none is).
fn sound_bounds(samples: &[f32]) -> std::ops::Range<usize> {
    const FLOOR: f32 = 0.002;
    let start = samples
        .iter()
        .position(|s| s.abs() > FLOOR)
        .unwrap_or(samples.len());
    let end = samples
        .iter()
        .rposition(|s| s.abs() > FLOOR)
        .map_or(start, |e| e + 1);
    start..end.max(start)
}

/// Number of samples lasting `duration` at `rate` Hz (rounded).
pub fn samples_for(rate: u32, duration: Duration) -> usize {
    (duration.as_secs_f64() * f64::from(rate)).round() as usize
}

/// The cores this process may use (1 when unknown).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
