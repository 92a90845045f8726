//! Sample-rate conversion with rubato's synchronous FFT resampler (band-limited,
//! fixed ratio: TTS output at 22.05 or 24 kHz to 48 or 44.1 kHz).

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use super::Pcm;

#[derive(Debug, thiserror::Error)]
pub enum ResampleError {
    #[error("cannot resample from {from} Hz to {to} Hz: {reason}")]
    Rate { from: u32, to: u32, reason: String },
}

/// A resampler and the (from, to) rates it was planned for.
type KeptResampler = ((u32, u32), Fft<f32>);

/// Converts `pcm` to `rate_hz`; returns it unchanged when the rate matches.
///
/// # Errors
/// A zero rate, or a ratio the resampler refuses.
pub fn resample(pcm: Pcm, rate_hz: u32) -> Result<Pcm, ResampleError> {
    if pcm.sample_rate_hz == rate_hz || pcm.samples.is_empty() {
        return Ok(Pcm {
            sample_rate_hz: rate_hz,
            ..pcm
        });
    }
    let mut output = vec![0.0; resampled_len(pcm.samples.len(), pcm.sample_rate_hz, rate_hz)?];
    resample_into(&pcm.samples, pcm.sample_rate_hz, rate_hz, &mut output)?;
    Ok(Pcm::new(rate_hz, output))
}

/// How many samples `len` samples at `from_hz` become at `to_hz`: what
/// [`resample_into`] fills, known before converting, so a programme can be
/// laid out first and every piece converted straight into its place.
///
/// # Errors
/// A zero rate, or a ratio the resampler refuses.
pub fn resampled_len(len: usize, from_hz: u32, to_hz: u32) -> Result<usize, ResampleError> {
    if from_hz == to_hz || len == 0 {
        return Ok(len);
    }
    with_resampler(from_hz, to_hz, |resampler, _| {
        // The length rubato's `process_all` produces.
        Ok((resampler.resample_ratio() * len as f64).ceil() as usize)
    })
}

/// Converts `samples` at `from_hz` to `to_hz` into `out`, which holds
/// exactly [`resampled_len`] samples.
///
/// # Errors
/// A zero rate, or a ratio the resampler refuses.
///
/// # Panics
/// When `out` is not [`resampled_len`] long.
pub fn resample_into(
    samples: &[f32],
    from_hz: u32,
    to_hz: u32,
    out: &mut [f32],
) -> Result<(), ResampleError> {
    if from_hz == to_hz || samples.is_empty() {
        out.copy_from_slice(samples);
        return Ok(());
    }
    with_resampler(from_hz, to_hz, |resampler, scratch| {
        let input_len = samples.len();
        let input = InterleavedSlice::new(samples, 1, input_len).map_err(|e| e.to_string())?;
        // rubato wants room for a whole last chunk: convert into the
        // thread's scratch buffer (warm after the first breath group),
        // then copy what was produced into place.
        let capacity = resampler.process_all_needed_output_len(input_len);
        if scratch.len() < capacity {
            scratch.resize(capacity, 0.0);
        }
        let mut output = InterleavedSlice::new_mut(&mut scratch[..capacity], 1, capacity)
            .map_err(|e| e.to_string())?;
        let (_, produced) = resampler
            .process_all_into_buffer(&input, &mut output, input_len, None)
            .map_err(|e| e.to_string())?;
        assert_eq!(
            produced,
            out.len(),
            "the output is laid out by resampled_len"
        );
        out.copy_from_slice(&scratch[..produced]);
        Ok(())
    })
}

/// Runs `convert` with this thread's resampler for the pair of rates (reset
/// to a clean start) and its scratch buffer. Planning the FFTs costs about
/// as much as converting a sentence, and a render converts many sentences
/// at the same pair of rates: each thread keeps its last resampler.
fn with_resampler<T>(
    from_hz: u32,
    to_hz: u32,
    convert: impl FnOnce(&mut Fft<f32>, &mut Vec<f32>) -> Result<T, String>,
) -> Result<T, ResampleError> {
    let fail = |reason: String| ResampleError::Rate {
        from: from_hz,
        to: to_hz,
        reason,
    };
    if from_hz == 0 || to_hz == 0 {
        return Err(fail("a sample rate of zero".into()));
    }
    thread_local! {
        static LAST: std::cell::RefCell<Option<KeptResampler>> =
            const { std::cell::RefCell::new(None) };
        static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let rates = (from_hz, to_hz);
    LAST.with_borrow_mut(|last| {
        let resampler = match last {
            Some((r, resampler)) if *r == rates => {
                resampler.reset();
                resampler
            }
            _ => {
                let fresh =
                    Fft::<f32>::new(from_hz as usize, to_hz as usize, 1024, 1, FixedSync::Input)
                        .map_err(|e| fail(e.to_string()))?;
                &mut last.insert((rates, fresh)).1
            }
        };
        SCRATCH.with_borrow_mut(|scratch| convert(resampler, scratch).map_err(fail))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_resampler_starts_afresh() {
        let tone =
            |n: usize| -> Vec<f32> { (0..n).map(|i| (i as f32 * 0.05).sin() * 0.4).collect() };
        let first = resample(Pcm::new(22_050, tone(30_000)), 48_000).unwrap();
        let other = resample(Pcm::new(22_050, tone(7_000)), 48_000).unwrap();
        let again = resample(Pcm::new(22_050, tone(30_000)), 48_000).unwrap();
        assert_eq!(first, again);
        assert!(other.samples.len() < first.samples.len());
    }

    #[test]
    fn keeps_duration_and_frequency() {
        let rate = 22_050;
        let samples: Vec<f32> = (0..rate)
            .map(|i| (i as f32 * 440.0 * std::f32::consts::TAU / rate as f32).sin() * 0.5)
            .collect();
        let out = resample(Pcm::new(rate, samples), 48_000).unwrap();
        assert_eq!(out.sample_rate_hz, 48_000);
        assert!(
            (out.samples.len() as i64 - 48_000).abs() <= 2,
            "{}",
            out.samples.len()
        );
        // Zero crossings of a 440 Hz tone over one second: 880 ± a few.
        let crossings = out
            .samples
            .windows(2)
            .filter(|w| w[0] < 0.0 && w[1] >= 0.0)
            .count();
        assert!((438..=442).contains(&crossings), "{crossings}");
        assert!(out.peak() < 0.55 && out.peak() > 0.45);
    }
}
