//! Joins per-cue speech (each cue one or more breath groups) and the pauses
//! between them into one programme, in one buffer allocated once, and
//! records where each cue landed.

use std::time::Duration;

use super::{Pcm, samples_for};

/// One piece of the programme: speech said in parts (breath groups) with a
/// gap between them, followed by silence.
#[derive(Debug, Clone)]
pub struct Segment {
    pub parts: Vec<Pcm>,
    /// Silence between two parts.
    pub gap: Duration,
    pub pause_after: Duration,
}

impl Segment {
    /// A segment of one piece of audio.
    pub fn whole(pcm: Pcm, pause_after: Duration) -> Segment {
        Segment {
            parts: vec![pcm],
            gap: Duration::ZERO,
            pause_after,
        }
    }
}

/// The assembled programme and the measured place of each segment.
#[derive(Debug, Clone)]
pub struct Program {
    pub pcm: Pcm,
    /// Start and end of each segment's audio (pauses after it excluded).
    pub placements: Vec<(Duration, Duration)>,
}

/// Concatenates segments at `rate_hz` (every part must already be at that
/// rate; the caller resamples). Each part's buffer is freed once copied, so
/// the speech is held about once, not twice, at the peak.
pub fn assemble(segments: Vec<Segment>, rate_hz: u32) -> Program {
    let gap_of = |s: &Segment| samples_for(rate_hz, s.gap);
    let total: usize = segments
        .iter()
        .map(|s| {
            s.parts.iter().map(|p| p.samples.len()).sum::<usize>()
                + gap_of(s) * s.parts.len().saturating_sub(1)
                + samples_for(rate_hz, s.pause_after)
        })
        .sum();
    let mut samples = Vec::with_capacity(total);
    let mut placements = Vec::with_capacity(segments.len());
    let at = |n: usize| Duration::from_secs_f64(n as f64 / f64::from(rate_hz));
    for segment in segments {
        let gap = gap_of(&segment);
        let start = samples.len();
        for (i, part) in segment.parts.into_iter().enumerate() {
            debug_assert_eq!(part.sample_rate_hz, rate_hz);
            if i > 0 {
                samples.resize(samples.len() + gap, 0.0);
            }
            samples.extend_from_slice(&part.samples);
        }
        placements.push((at(start), at(samples.len())));
        samples.resize(
            samples.len() + samples_for(rate_hz, segment.pause_after),
            0.0,
        );
    }
    debug_assert_eq!(samples.len(), total);
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
        let seg = |n: usize, pause_ms: u64| {
            Segment::whole(
                Pcm::new(rate, vec![0.5; n]),
                Duration::from_millis(pause_ms),
            )
        };
        let program = assemble(vec![seg(500, 250), seg(1000, 0)], rate);
        assert_eq!(program.pcm.samples.len(), 1750);
        assert_eq!(
            program.placements[1],
            (Duration::from_millis(750), Duration::from_millis(1750))
        );
        assert_eq!(program.pcm.samples[600], 0.0);
    }

    #[test]
    fn parts_of_a_segment_are_separated_by_its_gap() {
        let rate = 1000;
        let part = |n: usize| Pcm::new(rate, vec![0.5; n]);
        let program = assemble(
            vec![
                Segment {
                    parts: vec![part(100), part(200), part(300)],
                    gap: Duration::from_millis(50),
                    pause_after: Duration::from_millis(400),
                },
                Segment::whole(part(10), Duration::ZERO),
            ],
            rate,
        );
        assert_eq!(
            program.pcm.samples.len(),
            100 + 50 + 200 + 50 + 300 + 400 + 10
        );
        assert_eq!(
            program.placements,
            vec![
                (Duration::ZERO, Duration::from_millis(700)),
                (Duration::from_millis(1100), Duration::from_millis(1110)),
            ]
        );
        // Silence exactly in the gaps and the pause.
        let silent: Vec<usize> = (0..program.pcm.samples.len())
            .filter(|&i| program.pcm.samples[i] == 0.0)
            .collect();
        assert_eq!(silent.len(), 50 + 50 + 400);
        assert!(silent.contains(&100) && silent.contains(&149) && !silent.contains(&150));
    }
}
