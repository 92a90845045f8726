//! An ITU-R BS.1770-4 / EBU R128 meter that reads a whole programme once:
//! the K-weighted mean square of every 100 ms sub-block, from which
//! integrated loudness (with both gates), momentary (400 ms) and short-term
//! (3 s) loudness and the loudness range (EBU Tech 3342) all follow without
//! another pass; and the true peak by 4× oversampling (BS.1770 annex 2) of
//! the few stretches loud enough to hold it. The work is shared out among
//! the cores, and the filters run in AVX2 where the processor has it.
//!
//! Levelling only multiplies samples by a constant, which multiplies every
//! sub-block energy by the gain squared and the true peak by the gain, so an
//! [`Analysis`] of the unlevelled programme also describes the levelled one.
//! The `ebur128` crate (libebur128's port) stays in the tests as the
//! independent reference this meter is checked against.

use std::f64::consts::PI;

use rayon::prelude::*;

use super::true_peak::Oversampler;
#[cfg(test)]
use super::true_peak::true_peak;
#[cfg(test)]
use super::true_peak::{TAPS_PER_PHASE, interpolation_phases};

/// BS.1770: the loudness of a block is −0.691 + 10·log10(mean square).
const OFFSET_DB: f64 = -0.691;
/// Absolute gate for integrated loudness and loudness range, LUFS.
const ABSOLUTE_GATE_LUFS: f64 = -70.0;
/// Relative gate below the absolutely gated mean, LU: integrated loudness…
const RELATIVE_GATE_LU: f64 = -10.0;
/// …and loudness range.
const RANGE_RELATIVE_GATE_LU: f64 = -20.0;

/// What the meter read off one programme.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// K-weighted mean square of each whole 100 ms sub-block.
    sub_blocks: Vec<f64>,
    /// Largest absolute value of the 4× oversampled signal (linear).
    true_peak: f64,
}

/// Reads `samples` at `rate_hz`. `true_peak` false skips the oversampling
/// (the costly part) and reports the sample peak instead.
/// The work is shared out among the cores: each K-weights a stretch of the
/// programme and finds the largest sample of each of its chunks; then each
/// oversamples a share of the few chunks loud enough to hold the true peak.
pub fn analyse(samples: &[f32], rate_hz: u32, true_peak: bool) -> Analysis {
    let per = sub_block_len(rate_hz);
    let blocks = samples.len() / per;
    let threads = super::cores().min(blocks / MIN_BLOCKS_PER_THREAD).max(1);
    let coefficients = &KWeighting::new(rate_hz);
    let oversampler = &Oversampler::new(samples.len(), rate_hz);
    // LANES lanes per thread; thread t owns lanes t·LANES to (t + 1)·LANES,
    // and chunks chunk_bounds[t] to chunk_bounds[t + 1].
    let lanes = threads * LANES;
    let bounds: Vec<usize> = (0..=lanes).map(|l| blocks * l / lanes).collect();
    let chunks = oversampler.chunks();
    let chunk_bounds: Vec<usize> = (0..=threads).map(|t| chunks * t / threads).collect();
    let mut sub_blocks = vec![0.0; blocks];
    let mut chunk_peaks = vec![0.0f32; chunks];
    split_at_offsets(
        &mut sub_blocks,
        &bounds.iter().step_by(LANES).copied().collect::<Vec<_>>(),
    )
    .into_par_iter()
    .zip(split_at_offsets(&mut chunk_peaks, &chunk_bounds))
    .enumerate()
    .for_each(|(t, (energies, peaks))| {
        let lane_bounds: [usize; LANES + 1] = std::array::from_fn(|i| bounds[t * LANES + i]);
        lane_energies(samples, per, coefficients, lane_bounds, energies);
        oversampler.chunk_peaks(samples, chunk_bounds[t], peaks);
    });
    let sample_peak = chunk_peaks.iter().fold(0.0f32, |m, &p| m.max(p));
    let peak = if true_peak {
        let loudest = oversampler.candidates(&chunk_peaks, sample_peak);
        let loudest = &loudest;
        let mut peaks = vec![f64::from(sample_peak); threads];
        peaks.par_iter_mut().enumerate().for_each(|(t, peak)| {
            // Share t takes every threads-th candidate, loudest first.
            *peak = oversampler.peak_of(
                samples,
                loudest.iter().skip(t).step_by(threads).copied(),
                *peak,
            );
        });
        peaks.into_iter().fold(0.0, f64::max)
    } else {
        f64::from(sample_peak)
    };
    Analysis {
        sub_blocks,
        true_peak: peak,
    }
}

/// The stretches `at[i]..at[i + 1]` of `slice` (`at` ascending from 0 to
/// the slice's length).
fn split_at_offsets<'a, T>(mut slice: &'a mut [T], at: &[usize]) -> Vec<&'a mut [T]> {
    at.windows(2)
        .map(|w| {
            let (head, tail) = std::mem::take(&mut slice).split_at_mut(w[1] - w[0]);
            slice = tail;
            head
        })
        .collect()
}

/// Fewest sub-blocks (10 s of audio) worth a thread of their own.
const MIN_BLOCKS_PER_THREAD: usize = 100;

/// Independent stretches of the programme filtered side by side: one
/// filter's samples depend on each other, so a single stream waits on its
/// own arithmetic; four streams keep the core busy.
const LANES: usize = 4;
/// Each stretch but the programme's first starts its filter this many
/// sub-blocks early. The K-weighting forgets its past within a few tens of
/// milliseconds (its slowest pole, the 38 Hz high-pass, decays by e^-100 in
/// 500 ms at any rate), so the energies equal those of one serial pass to
/// within rounding.
const WARM_UP_SUB_BLOCKS: usize = 5;

/// K-weighted mean square of every whole 100 ms sub-block, in one thread.
#[cfg(test)]
fn sub_block_energies(samples: &[f32], rate_hz: u32) -> Vec<f64> {
    let per = sub_block_len(rate_hz);
    let blocks = samples.len() / per;
    let mut energies = vec![0.0; blocks];
    let bounds: [usize; LANES + 1] = std::array::from_fn(|l| blocks * l / LANES);
    lane_energies(
        samples,
        per,
        &KWeighting::new(rate_hz),
        bounds,
        &mut energies,
    );
    energies
}

/// K-weighted mean square of sub-blocks `bounds[0]` to `bounds[LANES]`
/// (of `per` samples each) into `energies`, lane `l` taking sub-blocks
/// `bounds[l]..bounds[l + 1]`; in AVX2 instructions where the processor has
/// them (the same operations in the same order: the same results).
fn lane_energies(
    samples: &[f32],
    per: usize,
    coefficients: &KWeighting,
    bounds: [usize; LANES + 1],
    energies: &mut [f64],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, checked just above.
        return unsafe { lane_energies_avx2(samples, per, coefficients, bounds, energies) };
    }
    lane_energies_portable(samples, per, coefficients, bounds, energies);
}

/// [`lane_energies`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn lane_energies_avx2(
    samples: &[f32],
    per: usize,
    coefficients: &KWeighting,
    bounds: [usize; LANES + 1],
    energies: &mut [f64],
) {
    lane_energies_portable(samples, per, coefficients, bounds, energies);
}

/// [`lane_energies`] for any processor.
#[inline(always)]
fn lane_energies_portable(
    samples: &[f32],
    per: usize,
    coefficients: &KWeighting,
    bounds: [usize; LANES + 1],
    energies: &mut [f64],
) {
    let base = bounds[0];
    let mut filters = [coefficients.state(); LANES];
    for (l, filter) in filters.iter_mut().enumerate() {
        let first = bounds[l] * per;
        for &x in &samples[first.saturating_sub(WARM_UP_SUB_BLOCKS * per)..first] {
            filter.process(coefficients, f64::from(x));
        }
    }
    let common = (0..LANES)
        .map(|l| bounds[l + 1] - bounds[l])
        .min()
        .unwrap_or(0);
    let mut lanes = KLanes::from(filters);
    for b in 0..common {
        let mut sums = [0.0f64; LANES];
        let starts: [usize; LANES] = std::array::from_fn(|l| (bounds[l] + b) * per);
        for s in 0..per {
            let x = std::array::from_fn(|l| f64::from(samples[starts[l] + s]));
            let y = lanes.process(coefficients, x);
            for l in 0..LANES {
                sums[l] += y[l] * y[l];
            }
        }
        for l in 0..LANES {
            energies[bounds[l] + b - base] = sums[l] / per as f64;
        }
    }
    let mut filters = lanes.into_states();
    for l in 0..LANES {
        for block in bounds[l] + common..bounds[l + 1] {
            let sum: f64 = samples[block * per..(block + 1) * per]
                .iter()
                .map(|&x| {
                    let y = filters[l].process(coefficients, f64::from(x));
                    y * y
                })
                .sum();
            energies[block - base] = sum / per as f64;
        }
    }
}

impl Analysis {
    /// The same programme multiplied by `gain`.
    pub fn scaled(&self, gain: f64) -> Analysis {
        let power = gain * gain;
        Analysis {
            sub_blocks: self.sub_blocks.iter().map(|e| e * power).collect(),
            true_peak: self.true_peak * gain.abs(),
        }
    }

    /// Gated integrated loudness, LUFS (−∞ when no block passes the gates).
    pub fn integrated_lufs(&self) -> f64 {
        gated_mean_lufs(&self.windows(4), RELATIVE_GATE_LU)
    }

    /// True peak, dBTP.
    pub fn true_peak_dbtp(&self) -> f64 {
        to_db(self.true_peak)
    }

    /// Largest momentary (400 ms) loudness, LUFS, read every 100 ms.
    pub fn max_momentary_lufs(&self) -> f64 {
        self.windows(4)
            .into_iter()
            .fold(f64::NEG_INFINITY, |m, e| m.max(lufs(e)))
    }

    /// Largest short-term (3 s) loudness, LUFS, read every 100 ms.
    pub fn max_short_term_lufs(&self) -> f64 {
        self.windows(30)
            .into_iter()
            .fold(f64::NEG_INFINITY, |m, e| m.max(lufs(e)))
    }

    /// Loudness range, LU (EBU Tech 3342): the spread between the 10th and
    /// the 95th percentile of the gated short-term loudness.
    pub fn range_lu(&self) -> f64 {
        let short_term = self.windows(30);
        let Some(gate) = relative_gate(&short_term, RANGE_RELATIVE_GATE_LU) else {
            return 0.0;
        };
        let mut kept: Vec<f64> = short_term
            .into_iter()
            .map(lufs)
            .filter(|&l| l > ABSOLUTE_GATE_LUFS && l > gate)
            .collect();
        if kept.is_empty() {
            return 0.0;
        }
        kept.sort_by(f64::total_cmp);
        let at = |p: f64| kept[((kept.len() - 1) as f64 * p).round() as usize];
        at(0.95) - at(0.10)
    }

    /// Mean energy of every window of `len` sub-blocks, one every 100 ms.
    fn windows(&self, len: usize) -> Vec<f64> {
        if self.sub_blocks.len() < len {
            return Vec::new();
        }
        let mut sum: f64 = self.sub_blocks[..len].iter().sum();
        let mut out = Vec::with_capacity(self.sub_blocks.len() - len + 1);
        out.push(sum / len as f64);
        for i in len..self.sub_blocks.len() {
            sum += self.sub_blocks[i] - self.sub_blocks[i - len];
            out.push(sum.max(0.0) / len as f64);
        }
        out
    }
}

fn lufs(energy: f64) -> f64 {
    if energy <= 0.0 {
        f64::NEG_INFINITY
    } else {
        OFFSET_DB + 10.0 * energy.log10()
    }
}

fn to_db(linear: f64) -> f64 {
    if linear <= 0.0 {
        f64::NEG_INFINITY
    } else {
        20.0 * linear.log10()
    }
}

/// The relative gate (LUFS) `below` LU under the power mean of the blocks
/// that pass the absolute gate; `None` when none does.
fn relative_gate(blocks: &[f64], below: f64) -> Option<f64> {
    let (sum, count) = blocks
        .iter()
        .filter(|&&e| lufs(e) > ABSOLUTE_GATE_LUFS)
        .fold((0.0, 0usize), |(s, n), &e| (s + e, n + 1));
    (count > 0).then(|| lufs(sum / count as f64) + below)
}

fn gated_mean_lufs(blocks: &[f64], below: f64) -> f64 {
    let Some(gate) = relative_gate(blocks, below) else {
        return f64::NEG_INFINITY;
    };
    let (sum, count) = blocks
        .iter()
        .filter(|&&e| {
            let l = lufs(e);
            l > ABSOLUTE_GATE_LUFS && l > gate
        })
        .fold((0.0, 0usize), |(s, n), &e| (s + e, n + 1));
    if count == 0 {
        f64::NEG_INFINITY
    } else {
        lufs(sum / count as f64)
    }
}

/// Samples in 100 ms, rounded as libebur128 does.
fn sub_block_len(rate_hz: u32) -> usize {
    ((rate_hz as usize + 5) / 10).max(1)
}

/// The K-weighting of BS.1770: a high-shelf "pre-filter" then the RLB
/// high-pass, both biquads designed for the actual rate (the standard gives
/// coefficients for 48 kHz only; the analogue prototypes below reproduce
/// them, as libebur128 does).
struct KWeighting {
    shelf: Biquad,
    high_pass: Biquad,
}

impl KWeighting {
    fn new(rate_hz: u32) -> Self {
        let rate = f64::from(rate_hz.max(1));
        let shelf = {
            let f0 = 1_681.974_450_955_533;
            let gain_db = 3.999_843_853_973_347;
            let q = 0.707_175_236_955_419_6;
            let k = (PI * f0 / rate).tan();
            let vh = 10f64.powf(gain_db / 20.0);
            let vb = vh.powf(0.499_666_774_154_541_6);
            let a0 = 1.0 + k / q + k * k;
            Biquad {
                b: [
                    (vh + vb * k / q + k * k) / a0,
                    2.0 * (k * k - vh) / a0,
                    (vh - vb * k / q + k * k) / a0,
                ],
                a: [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
            }
        };
        let high_pass = {
            let f0 = 38.135_470_876_024_44;
            let q = 0.500_327_037_323_877_3;
            let k = (PI * f0 / rate).tan();
            let a0 = 1.0 + k / q + k * k;
            Biquad {
                b: [1.0, -2.0, 1.0],
                a: [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
            }
        };
        Self { shelf, high_pass }
    }

    fn state(&self) -> KState {
        KState::default()
    }
}

/// The memory of one stream through the K-weighting.
#[derive(Debug, Clone, Copy, Default)]
struct KState {
    shelf: [f64; 2],
    high_pass: [f64; 2],
}

/// A constant far below anything audible (−400 dBFS) added to the input so
/// the filter memory never decays into subnormal numbers in long silences:
/// arithmetic on those is tens of times slower. The high-pass removes it
/// from the output; its share of any energy is below 1e-36.
const ANTI_DENORMAL: f64 = 1e-20;

impl KState {
    #[inline]
    fn process(&mut self, k: &KWeighting, x: f64) -> f64 {
        let y = k.shelf.process(&mut self.shelf, x + ANTI_DENORMAL);
        k.high_pass.process(&mut self.high_pass, y)
    }
}

/// [`LANES`] streams through the K-weighting at once, each state variable
/// kept for all lanes side by side so the same arithmetic on every lane
/// compiles to vector instructions. Same operations, in the same order, as
/// [`KState::process`]: the results are identical.
struct KLanes {
    shelf: [[f64; LANES]; 2],
    high_pass: [[f64; LANES]; 2],
}

impl From<[KState; LANES]> for KLanes {
    fn from(states: [KState; LANES]) -> Self {
        KLanes {
            shelf: std::array::from_fn(|i| std::array::from_fn(|l| states[l].shelf[i])),
            high_pass: std::array::from_fn(|i| std::array::from_fn(|l| states[l].high_pass[i])),
        }
    }
}

impl KLanes {
    fn into_states(self) -> [KState; LANES] {
        std::array::from_fn(|l| KState {
            shelf: [self.shelf[0][l], self.shelf[1][l]],
            high_pass: [self.high_pass[0][l], self.high_pass[1][l]],
        })
    }

    #[inline]
    fn process(&mut self, k: &KWeighting, x: [f64; LANES]) -> [f64; LANES] {
        let x = x.map(|x| x + ANTI_DENORMAL);
        let y = k.shelf.process_lanes(&mut self.shelf, x);
        k.high_pass.process_lanes(&mut self.high_pass, y)
    }
}

/// Biquad coefficients (a0 = 1), run in direct form II transposed.
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
}

impl Biquad {
    #[inline]
    fn process(&self, z: &mut [f64; 2], x: f64) -> f64 {
        let y = self.b[0] * x + z[0];
        z[0] = self.b[1] * x - self.a[0] * y + z[1];
        z[1] = self.b[2] * x - self.a[1] * y;
        y
    }

    /// [`Biquad::process`] on every lane.
    #[inline]
    fn process_lanes(&self, z: &mut [[f64; LANES]; 2], x: [f64; LANES]) -> [f64; LANES] {
        let mut y = [0.0; LANES];
        for l in 0..LANES {
            y[l] = self.b[0] * x[l] + z[0][l];
            z[0][l] = self.b[1] * x[l] - self.a[0] * y[l] + z[1][l];
            z[1][l] = self.b[2] * x[l] - self.a[1] * y[l];
        }
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, seconds: f64, hz: f64, amplitude: f64, phase: f64) -> Vec<f32> {
        let n = (f64::from(rate) * seconds) as usize;
        (0..n)
            .map(|i| {
                ((i as f64 * hz * 2.0 * PI / f64::from(rate) + phase).sin() * amplitude) as f32
            })
            .collect()
    }

    #[test]
    fn a_full_scale_1khz_sine_reads_minus_3_01_lufs() {
        // BS.1770: a 0 dBFS 997 Hz sine on one channel reads −3.01 LKFS.
        let a = analyse(&tone(48_000, 10.0, 997.0, 1.0, 0.0), 48_000, true);
        assert!(
            (a.integrated_lufs() + 3.01).abs() < 0.02,
            "{}",
            a.integrated_lufs()
        );
        assert!(a.true_peak_dbtp().abs() < 0.05, "{}", a.true_peak_dbtp());
    }

    #[test]
    fn finds_the_peak_between_samples() {
        // fs/4 with a 45° phase: every sample is at 0.707, the wave reaches 1.
        let samples = tone(48_000, 1.0, 12_000.0, 1.0, PI / 4.0);
        assert!(sample_peak(&samples) < 0.71);
        let a = analyse(&samples, 48_000, true);
        assert!(a.true_peak_dbtp() > -0.6, "{}", a.true_peak_dbtp());
    }

    #[test]
    fn scaling_is_exact() {
        let a = analyse(&tone(44_100, 6.0, 440.0, 0.3, 0.0), 44_100, true);
        let b = a.scaled(0.5);
        let db = 20.0 * 0.5f64.log10();
        assert!((a.integrated_lufs() + db - b.integrated_lufs()).abs() < 1e-9);
        assert!((a.true_peak_dbtp() + db - b.true_peak_dbtp()).abs() < 1e-9);
    }

    #[test]
    fn silence_has_no_loudness() {
        let a = analyse(&vec![0.0; 96_000], 48_000, true);
        assert_eq!(a.integrated_lufs(), f64::NEG_INFINITY);
        assert_eq!(a.range_lu(), 0.0);
    }

    /// Speech-like test signal: bursts of filtered noise of varying level,
    /// separated by silences, from a seed.
    fn bursts(seed: u64, rate: u32, seconds: f64) -> Vec<f32> {
        let mut state = seed | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let n = (f64::from(rate) * seconds) as usize;
        let mut out = Vec::with_capacity(n);
        let mut smooth = 0.0;
        while out.len() < n {
            let level = 0.02 + 0.6 * next();
            let burst = (f64::from(rate) * (0.2 + 1.5 * next())) as usize;
            let colour = 0.05 + 0.9 * next();
            for _ in 0..burst {
                smooth += colour * ((next() * 2.0 - 1.0) - smooth);
                out.push((smooth * level) as f32);
            }
            let gap = (f64::from(rate) * 0.6 * next()) as usize;
            out.extend(std::iter::repeat_n(0.0, gap));
        }
        out.truncate(n);
        out
    }

    /// Asserts that `energies` are those of one serial K-weighting pass
    /// over `samples` at 48 kHz, to within rounding.
    fn assert_serial_energies(samples: &[f32], energies: &[f64]) {
        let k = KWeighting::new(48_000);
        let mut state = k.state();
        let per = sub_block_len(48_000);
        let serial: Vec<f64> = samples
            .chunks_exact(per)
            .map(|c| {
                c.iter()
                    .map(|&x| state.process(&k, f64::from(x)).powi(2))
                    .sum::<f64>()
                    / per as f64
            })
            .collect();
        assert_eq!(serial.len(), energies.len());
        for (a, b) in serial.iter().zip(energies) {
            assert!((a - b).abs() <= 1e-12 + 1e-9 * a.abs(), "{a} vs {b}");
        }
    }

    #[test]
    fn side_by_side_lanes_equal_one_serial_pass() {
        let samples = bursts(7, 48_000, 9.37);
        assert_serial_energies(&samples, &sub_block_energies(&samples, 48_000));
    }

    #[test]
    fn stretches_on_every_core_equal_one_serial_pass() {
        // Long enough for a thread per core on any machine with two or more.
        let samples = bursts(11, 48_000, 61.3);
        assert_serial_energies(&samples, &analyse(&samples, 48_000, false).sub_blocks);
    }

    fn sample_peak(samples: &[f32]) -> f64 {
        f64::from(samples.iter().fold(0.0f32, |m, s| m.max(s.abs())))
    }

    /// The true peak by interpolating every output, nothing skipped.
    fn exhaustive_true_peak(samples: &[f32]) -> f64 {
        let phases = interpolation_phases(4);
        let history = TAPS_PER_PHASE - 1;
        let at = |i: usize| {
            i.checked_sub(history)
                .and_then(|i| samples.get(i))
                .copied()
                .unwrap_or(0.0)
        };
        let mut peak = sample_peak(samples);
        for j in 0..samples.len() + history {
            for taps in &phases {
                let mut acc = 0.0f32;
                for (k, &tap) in taps.iter().enumerate() {
                    acc += tap * at(j + history - k);
                }
                peak = peak.max(f64::from(acc.abs()));
            }
        }
        peak
    }

    #[test]
    fn loudest_first_finds_the_same_true_peak_as_reading_everything() {
        for seed in [3, 5, 8] {
            let mut samples = bursts(seed, 48_000, 4.0);
            // An inter-sample peak in a quiet stretch, away from the loudest samples.
            samples.extend(tone(48_000, 0.05, 12_000.0, 0.3, PI / 4.0));
            samples.extend(bursts(seed + 1, 48_000, 2.0));
            assert_eq!(true_peak(&samples, 48_000), exhaustive_true_peak(&samples));
        }
        let quiet_wave = tone(48_000, 0.5, 12_000.0, 0.9, PI / 4.0);
        assert_eq!(
            true_peak(&quiet_wave, 48_000),
            exhaustive_true_peak(&quiet_wave)
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// libebur128's port is the reference: same gated loudness, the
        /// same true peak within its oversampling filter's difference.
        #[test]
        fn agrees_with_libebur128(seed in 1u64.., rate in proptest::sample::select(vec![22_050u32, 44_100, 48_000]), seconds in 1.0f64..12.0) {
            use ebur128::{EbuR128, Mode};
            let samples = bursts(seed, rate, seconds);
            let ours = analyse(&samples, rate, true);
            let mut reference = EbuR128::new(1, rate, Mode::I | Mode::TRUE_PEAK | Mode::M).unwrap();
            let step = (rate / 10) as usize;
            let mut max_momentary = f64::NEG_INFINITY;
            for (i, block) in samples.chunks(step).enumerate() {
                reference.add_frames_f32(block).unwrap();
                if i >= 3 && block.len() == step {
                    max_momentary = max_momentary.max(reference.loudness_momentary().unwrap());
                }
            }
            let integrated = reference.loudness_global().unwrap();
            if integrated.is_finite() {
                proptest::prop_assert!((ours.integrated_lufs() - integrated).abs() < 0.02, "{} vs {integrated}", ours.integrated_lufs());
            } else {
                proptest::prop_assert!(!ours.integrated_lufs().is_finite());
            }
            if max_momentary.is_finite() {
                proptest::prop_assert!((ours.max_momentary_lufs() - max_momentary).abs() < 0.02, "{} vs {max_momentary}", ours.max_momentary_lufs());
            }
            let peak = 20.0 * reference.true_peak(0).unwrap().log10();
            proptest::prop_assert!((ours.true_peak_dbtp() - peak).abs() < 0.2, "{} vs {peak}", ours.true_peak_dbtp());
        }
    }
}
