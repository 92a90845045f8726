//! Joins per-cue speech and the pauses between cues into one programme and
//! records where each cue landed.

use std::time::Duration;

use super::{Pcm, samples_for};

/// One piece of the programme: speech (or music) followed by silence.
#[derive(Debug, Clone)]
pub struct Segment {
    pub pcm: Pcm,
    pub pause_after: Duration,
}

/// The assembled programme and the measured place of each segment.
#[derive(Debug, Clone)]
pub struct Program {
    pub pcm: Pcm,
    /// Start and end of each segment's audio (pauses excluded).
    pub placements: Vec<(Duration, Duration)>,
}

/// Concatenates segments at `rate_hz` (every segment must already be at that
/// rate; the caller resamples).
pub fn assemble(segments: &[Segment], rate_hz: u32) -> Program {
    let total: usize = segments
        .iter()
        .map(|s| s.pcm.samples.len() + samples_for(rate_hz, s.pause_after))
        .sum();
    let mut samples = Vec::with_capacity(total);
    let mut placements = Vec::with_capacity(segments.len());
    let at = |n: usize| Duration::from_secs_f64(n as f64 / f64::from(rate_hz));
    for segment in segments {
        debug_assert_eq!(segment.pcm.sample_rate_hz, rate_hz);
        let start = samples.len();
        samples.extend_from_slice(&segment.pcm.samples);
        placements.push((at(start), at(samples.len())));
        samples.resize(
            samples.len() + samples_for(rate_hz, segment.pause_after),
            0.0,
        );
    }
    Program {
        pcm: Pcm::new(rate_hz, samples),
        placements,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_segments_with_their_pauses() {
        let rate = 1000;
        let seg = |n: usize, pause_ms: u64| Segment {
            pcm: Pcm::new(rate, vec![0.5; n]),
            pause_after: Duration::from_millis(pause_ms),
        };
        let program = assemble(&[seg(500, 250), seg(1000, 0)], rate);
        assert_eq!(program.pcm.samples.len(), 1750);
        assert_eq!(
            program.placements[1],
            (Duration::from_millis(750), Duration::from_millis(1750))
        );
        assert_eq!(program.pcm.samples[600], 0.0);
    }
}
