//! Lays out a programme, cue by cue (each one or more breath groups with a
//! gap between them, then a pause), and converts every piece of speech
//! from its own sample rate straight into its place in one buffer,
//! allocated once, on several threads; records where each cue landed.

use std::ops::Range;
use std::time::Duration;

use super::{Pcm, ResampleError, resample_into, resampled_len, samples_for};
use rayon::prelude::*;

/// One piece of the programme: speech said in parts (breath groups) with a
/// gap between them, followed by silence. Parts may be at any sample rate.
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

/// A part that could not be converted to the programme's rate.
#[derive(Debug, thiserror::Error)]
#[error("segment {segment}: {source}")]
pub struct MixError {
    /// Index of the segment in the list given.
    pub segment: usize,
    #[source]
    pub source: ResampleError,
}

/// Lays `segments` out at `rate_hz` and converts every part into its place
/// on up to `threads` threads, each taking an equal share of the samples.
/// Silence is the buffer's own zeros, never written.
///
/// # Errors
/// [`MixError`] naming the first segment (in order) with a part whose
/// rate cannot be converted.
pub fn mix(segments: &[Segment], rate_hz: u32, threads: usize) -> Result<Program, MixError> {
    // Where every part goes, and where every segment's speech lies.
    let mut places: Vec<(usize, &Pcm, Range<usize>)> = Vec::new();
    let mut placements = Vec::with_capacity(segments.len());
    let at = |n: usize| Duration::from_secs_f64(n as f64 / f64::from(rate_hz));
    let mut end = 0;
    for (index, segment) in segments.iter().enumerate() {
        let start = end;
        for (i, part) in segment.parts.iter().enumerate() {
            if i > 0 {
                end += samples_for(rate_hz, segment.gap);
            }
            let len = resampled_len(part.samples.len(), part.sample_rate_hz, rate_hz).map_err(
                |source| MixError {
                    segment: index,
                    source,
                },
            )?;
            places.push((index, part, end..end + len));
            end += len;
        }
        placements.push((at(start), at(end)));
        end += samples_for(rate_hz, segment.pause_after);
    }
    let mut samples = vec![0.0f32; end];
    // Each part's own stretch of the buffer, in order.
    let mut rest = samples.as_mut_slice();
    let mut consumed = 0;
    let mut jobs: Vec<(usize, &Pcm, &mut [f32])> = Vec::with_capacity(places.len());
    for (index, part, range) in places {
        let (_, tail) = std::mem::take(&mut rest).split_at_mut(range.start - consumed);
        let (place, tail) = tail.split_at_mut(range.len());
        jobs.push((index, part, place));
        rest = tail;
        consumed = range.end;
    }
    // Runs of neighbouring parts, about equal in samples, one per thread.
    let threads = threads.clamp(1, jobs.len().max(1));
    let share = end.div_ceil(threads).max(1);
    let mut runs: Vec<Vec<(usize, &Pcm, &mut [f32])>> = Vec::with_capacity(threads);
    let mut filled = 0;
    for job in jobs {
        if runs.is_empty() || filled >= share * runs.len() {
            runs.push(Vec::new());
        }
        filled += job.2.len();
        runs.last_mut().expect("pushed above").push(job);
    }
    let convert = |run: Vec<(usize, &Pcm, &mut [f32])>| -> Result<(), MixError> {
        for (segment, part, place) in run {
            resample_into(&part.samples, part.sample_rate_hz, rate_hz, place)
                .map_err(|source| MixError { segment, source })?;
        }
        Ok(())
    };
    let results: Vec<Result<(), MixError>> = if runs.len() <= 1 {
        runs.into_iter().map(convert).collect()
    } else {
        runs.into_par_iter().map(convert).collect()
    };
    // Runs are in programme order: the first error is the earliest segment's.
    results.into_iter().collect::<Result<(), _>>()?;
    Ok(Program {
        pcm: Pcm::new(rate_hz, samples),
        placements,
    })
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
        let program = mix(&[seg(500, 250), seg(1000, 0)], rate, 2).unwrap();
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
        let segments = [
            Segment {
                parts: vec![part(100), part(200), part(300)],
                gap: Duration::from_millis(50),
                pause_after: Duration::from_millis(400),
            },
            Segment::whole(part(10), Duration::ZERO),
        ];
        for threads in [1, 2, 3, 8] {
            let program = mix(&segments, rate, threads).unwrap();
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
            assert_eq!(silent.len(), 50 + 50 + 400, "{threads} threads");
            assert!(silent.contains(&100) && silent.contains(&149) && !silent.contains(&150));
        }
    }

    #[test]
    fn parts_at_other_rates_are_converted_into_place() {
        let tone = |rate: u32, seconds: f32| {
            let n = (rate as f32 * seconds) as usize;
            Pcm::new(
                rate,
                (0..n)
                    .map(|i| (i as f32 * 440.0 * std::f32::consts::TAU / rate as f32).sin() * 0.5)
                    .collect(),
            )
        };
        let segments = [
            Segment {
                parts: vec![tone(22_050, 0.5), tone(24_000, 0.25)],
                gap: Duration::from_millis(100),
                pause_after: Duration::from_millis(200),
            },
            Segment::whole(tone(48_000, 0.3), Duration::ZERO),
        ];
        let one = mix(&segments, 48_000, 1).unwrap();
        let many = mix(&segments, 48_000, 4).unwrap();
        assert_eq!(one.pcm, many.pcm, "threads do not change the result");
        let seconds = one.pcm.duration().as_secs_f64();
        assert!((seconds - 1.35).abs() < 0.002, "{seconds}");
        // The 48 kHz part is copied sample for sample at its place.
        let start = (one.placements[1].0.as_secs_f64() * 48_000.0).round() as usize;
        assert_eq!(one.pcm.samples[start..], segments[1].parts[0].samples[..]);
        // The converted parts keep their level.
        let first = &one.pcm.samples[1_000..20_000];
        let peak = first.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!((0.45..0.55).contains(&peak), "{peak}");
    }

    #[test]
    fn a_part_at_rate_zero_names_its_segment() {
        let segments = [
            Segment::whole(Pcm::new(48_000, vec![0.1; 10]), Duration::ZERO),
            Segment::whole(Pcm::new(0, vec![0.1; 10]), Duration::ZERO),
        ];
        let err = mix(&segments, 48_000, 2).unwrap_err();
        assert_eq!(err.segment, 1);
    }
}
