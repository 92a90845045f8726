//! The true peak of BS.1770 annex 2 for [`super::meter`]: the signal
//! oversampled through a windowed sinc, only where it can hold the peak.
//! The filters run in AVX2 where the processor has it.

use std::f64::consts::PI;

/// Taps of each oversampling phase.
pub(super) const TAPS_PER_PHASE: usize = 12;
/// Output positions interpolated together (fits in L1 with its input).
const CHUNK: usize = 128;

/// The true peak of BS.1770 annex 2: the largest absolute value of the
/// signal oversampled 4× (2× from 96 kHz, none from 192 kHz) through a
/// 48-tap Hann-windowed sinc. Output positions go in chunks of [`CHUNK`];
/// a chunk whose largest input sample, times the largest gain the
/// interpolator can give, cannot beat the sample peak need not be
/// oversampled, and the others are oversampled loudest first, until the
/// same test against the peak found so far rules out the rest. The result
/// is exact, and only the few loudest stretches of speech are oversampled.
pub(super) struct Oversampler {
    /// The interpolation phases between two input samples (none at 192 kHz).
    phases: Vec<[f32; TAPS_PER_PHASE]>,
    /// The largest sum of absolute taps of a phase.
    gain_bound: f64,
    /// Input samples.
    len: usize,
}

/// Inputs before an output that its window reaches.
const HISTORY: usize = TAPS_PER_PHASE - 1;

impl Oversampler {
    pub(super) fn new(len: usize, rate_hz: u32) -> Self {
        let factor = match rate_hz {
            0..96_000 => 4,
            96_000..192_000 => 2,
            _ => 1,
        };
        let phases = interpolation_phases(factor);
        let gain_bound = phases
            .iter()
            .map(|taps| taps.iter().map(|t| f64::from(t.abs())).sum::<f64>())
            .fold(0.0, f64::max);
        Oversampler {
            phases,
            gain_bound,
            len,
        }
    }

    /// Output positions: the input with HISTORY zeros before the start and
    /// after the end, so every output sees a full window.
    pub(super) fn outputs(&self) -> usize {
        if self.len == 0 { 0 } else { self.len + HISTORY }
    }

    pub(super) fn chunks(&self) -> usize {
        self.outputs().div_ceil(CHUNK)
    }

    /// Chunk c's outputs, `start..start + len`; they read inputs
    /// `start − HISTORY..start + len`.
    pub(super) fn chunk(&self, chunk: usize) -> (usize, usize) {
        let start = chunk * CHUNK;
        (start, CHUNK.min(self.outputs() - start))
    }

    /// The largest absolute input sample each chunk reads, for the chunks
    /// from `first` on, one per element of `peaks`.
    pub(super) fn chunk_peaks(&self, samples: &[f32], first: usize, peaks: &mut [f32]) {
        for (i, peak) in peaks.iter_mut().enumerate() {
            let (start, len) = self.chunk(first + i);
            let lo = start.saturating_sub(HISTORY);
            let hi = (start + len).min(samples.len());
            *peak = samples[lo..hi.max(lo)]
                .iter()
                .fold(0.0f32, |m, s| m.max(s.abs()));
        }
    }

    /// The chunks that could hold a peak above `sample_peak`, loudest first.
    pub(super) fn candidates(&self, chunk_peaks: &[f32], sample_peak: f32) -> Vec<(f32, usize)> {
        if self.phases.is_empty() {
            return Vec::new();
        }
        let mut loud: Vec<(f32, usize)> = chunk_peaks
            .iter()
            .enumerate()
            .filter(|&(_, &p)| f64::from(p) * self.gain_bound > f64::from(sample_peak))
            .map(|(c, &p)| (p, c))
            .collect();
        loud.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        loud
    }

    /// The largest of `peak` and the oversampled values of `chunks` (given
    /// loudest first with their largest input sample), stopping at the
    /// first chunk that cannot beat the peak found so far.
    pub(super) fn peak_of(
        &self,
        samples: &[f32],
        chunks: impl Iterator<Item = (f32, usize)>,
        mut peak: f64,
    ) -> f64 {
        let mut padded = Vec::new();
        let mut acc = [0.0f32; CHUNK];
        for (chunk_peak, chunk) in chunks {
            if f64::from(chunk_peak) * self.gain_bound <= peak {
                break;
            }
            let (start, len) = self.chunk(chunk);
            let window: &[f32] = if start >= HISTORY && start + len <= samples.len() {
                &samples[start - HISTORY..start + len]
            } else {
                padded.clear();
                padded.extend((0..len + HISTORY).map(|i| {
                    let at = (start + i).wrapping_sub(HISTORY);
                    samples.get(at).copied().unwrap_or(0.0)
                }));
                &padded
            };
            let found = interpolated_peak(window, &self.phases, &mut acc[..len]);
            peak = peak.max(f64::from(found));
        }
        peak
    }
}

/// [`Oversampler`]'s true peak of `samples`, on this thread alone.
#[cfg(test)]
pub(super) fn true_peak(samples: &[f32], rate_hz: u32) -> f64 {
    let oversampler = Oversampler::new(samples.len(), rate_hz);
    let mut chunk_peaks = vec![0.0; oversampler.chunks()];
    oversampler.chunk_peaks(samples, 0, &mut chunk_peaks);
    let sample_peak = chunk_peaks.iter().fold(0.0f32, |m, &p| m.max(p));
    let loudest = oversampler.candidates(&chunk_peaks, sample_peak);
    oversampler.peak_of(samples, loudest.into_iter(), f64::from(sample_peak))
}

/// The largest absolute value `phases` interpolate between the samples of
/// `window` (`TAPS_PER_PHASE − 1` samples of history, then one per output
/// in `acc`); in AVX2 instructions where the processor has them.
fn interpolated_peak(window: &[f32], phases: &[[f32; TAPS_PER_PHASE]], acc: &mut [f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, checked just above.
        return unsafe { interpolated_peak_avx2(window, phases, acc) };
    }
    interpolated_peak_portable(window, phases, acc)
}

/// [`interpolated_peak`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn interpolated_peak_avx2(
    window: &[f32],
    phases: &[[f32; TAPS_PER_PHASE]],
    acc: &mut [f32],
) -> f32 {
    interpolated_peak_portable(window, phases, acc)
}

/// [`interpolated_peak`] for any processor.
#[inline(always)]
fn interpolated_peak_portable(
    window: &[f32],
    phases: &[[f32; TAPS_PER_PHASE]],
    acc: &mut [f32],
) -> f32 {
    let history = HISTORY;
    let len = acc.len();
    let mut peak = 0.0f32;
    for taps in phases {
        acc.fill(0.0);
        for (k, &tap) in taps.iter().enumerate() {
            // Output j sums tap k times input j − k (window offset history − k).
            let src = &window[history - k..history - k + len];
            for (a, &s) in acc.iter_mut().zip(src) {
                *a += tap * s;
            }
        }
        peak = acc.iter().fold(peak, |m, s| m.max(s.abs()));
    }
    peak
}

/// The polyphase taps of a Hann-windowed sinc low-pass at the input's
/// Nyquist frequency, `TAPS_PER_PHASE · factor + 1` taps long and centred on
/// an input sample, split into the `factor − 1` phases between input samples
/// (phase 0 is the input itself: the sinc is zero at every other sample).
pub(super) fn interpolation_phases(factor: usize) -> Vec<[f32; TAPS_PER_PHASE]> {
    let length = TAPS_PER_PHASE * factor + 1;
    let centre = (length - 1) as f64 / 2.0;
    (1..factor)
        .map(|phase| {
            let mut taps = [0.0f32; TAPS_PER_PHASE];
            for (k, tap) in taps.iter_mut().enumerate() {
                let j = (phase + factor * k) as f64;
                let u = (j - centre) / factor as f64;
                let sinc = if u == 0.0 {
                    1.0
                } else {
                    (PI * u).sin() / (PI * u)
                };
                let window = 0.5 * (1.0 - (2.0 * PI * j / (length - 1) as f64).cos());
                *tap = (sinc * window) as f32;
            }
            taps
        })
        .collect()
}
