//! Loudness per EBU R128 / ITU-R BS.1770 (integrated loudness with gating and
//! true peak, read by [`super::meter`]), and levelling a programme to a
//! target with a look-ahead limiter that keeps the true peak under its ceiling.

use std::collections::VecDeque;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Pcm, meter};

/// The station's loudness settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoudnessTarget {
    /// Integrated loudness, LUFS (EBU R128: −23).
    pub integrated_lufs: f64,
    /// Maximum true peak, dBTP (EBU R128: −1).
    pub max_true_peak_dbtp: f64,
}

impl Default for LoudnessTarget {
    fn default() -> Self {
        Self {
            integrated_lufs: -23.0,
            max_true_peak_dbtp: -1.0,
        }
    }
}

/// Measured loudness of a programme.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Loudness {
    pub integrated_lufs: f64,
    pub true_peak_dbtp: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum LoudnessError {
    #[error("the programme is silent; there is nothing to level")]
    Silent,
}

/// Measures integrated loudness and true peak.
pub fn measure(pcm: &Pcm) -> Loudness {
    let analysis = meter::analyse(&pcm.samples, pcm.sample_rate_hz, true);
    Loudness {
        integrated_lufs: analysis.integrated_lufs(),
        true_peak_dbtp: analysis.true_peak_dbtp(),
    }
}

/// Every loudness figure a Broadcast WAV `bext` chunk carries.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LoudnessReport {
    pub integrated_lufs: f64,
    pub range_lu: f64,
    pub true_peak_dbtp: f64,
    pub max_momentary_lufs: f64,
    pub max_short_term_lufs: f64,
}

/// Completes `loudness` (integrated loudness and true peak, already
/// measured on `pcm` by [`normalize`] or [`measure`]) with the loudness
/// range and the largest momentary (400 ms) and short-term (3 s) loudness,
/// read every 100 ms. Skips the true-peak oversampling, the costly part.
pub fn report(pcm: &Pcm, loudness: Loudness) -> LoudnessReport {
    let analysis = meter::analyse(&pcm.samples, pcm.sample_rate_hz, false);
    LoudnessReport {
        integrated_lufs: loudness.integrated_lufs,
        true_peak_dbtp: loudness.true_peak_dbtp,
        ..full_report(&analysis)
    }
}

fn from_db(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// Levels `pcm` to the target: gain to the integrated loudness, then the
/// limiter wherever the true peak would pass its ceiling. Returns the
/// loudness of the result.
///
/// # Errors
/// [`LoudnessError::Silent`] for a programme with no measurable loudness.
pub fn normalize(pcm: &mut Pcm, target: LoudnessTarget) -> Result<Loudness, LoudnessError> {
    level(pcm, target).map(|r| Loudness {
        integrated_lufs: r.integrated_lufs,
        true_peak_dbtp: r.true_peak_dbtp,
    })
}

/// [`normalize`], returning every figure of the result a `bext` chunk
/// carries. When no limiting is needed the figures are the first
/// measurement's shifted by the gain (every one of them scales exactly with
/// a constant gain, so a second pass would only repeat it); after limiting
/// the programme is measured again.
///
/// # Errors
/// [`LoudnessError::Silent`] for a programme with no measurable loudness.
pub fn level(pcm: &mut Pcm, target: LoudnessTarget) -> Result<LoudnessReport, LoudnessError> {
    let rate = pcm.sample_rate_hz;
    let mut analysis = meter::analyse(&pcm.samples, rate, true);
    let integrated = analysis.integrated_lufs();
    if !integrated.is_finite() {
        return Err(LoudnessError::Silent);
    }
    let gain_db = target.integrated_lufs - integrated;
    if analysis.true_peak_dbtp() + gain_db <= target.max_true_peak_dbtp {
        let gain = from_db(gain_db);
        apply_gain(&mut pcm.samples, gain as f32);
        return Ok(full_report(&analysis.scaled(gain)));
    }
    // Gain, limit, re-measure: the limiter lowers loudness a little, so a few
    // rounds converge on the target within a few hundredths of a LU.
    let mut ceiling_db = target.max_true_peak_dbtp - 0.3;
    for _ in 0..6 {
        let gain = from_db(target.integrated_lufs - analysis.integrated_lufs()) as f32;
        apply_gain(&mut pcm.samples, gain);
        limit(pcm, from_db(ceiling_db) as f32);
        analysis = meter::analyse(&pcm.samples, rate, true);
        let loud_ok = (analysis.integrated_lufs() - target.integrated_lufs).abs() < 0.05;
        if analysis.true_peak_dbtp() > target.max_true_peak_dbtp {
            ceiling_db -= analysis.true_peak_dbtp() - target.max_true_peak_dbtp + 0.1;
        } else if loud_ok {
            break;
        }
    }
    Ok(full_report(&analysis))
}

/// Multiplies every sample by `gain`, the programme shared out among the
/// cores (a stretch of at least a million samples each).
fn apply_gain(samples: &mut [f32], gain: f32) {
    let per = samples.len().div_ceil(super::cores()).max(1 << 20);
    samples
        .par_chunks_mut(per)
        .for_each(|stretch| stretch.iter_mut().for_each(|s| *s *= gain));
}

fn full_report(analysis: &meter::Analysis) -> LoudnessReport {
    LoudnessReport {
        integrated_lufs: analysis.integrated_lufs(),
        range_lu: analysis.range_lu(),
        true_peak_dbtp: analysis.true_peak_dbtp(),
        max_momentary_lufs: analysis.max_momentary_lufs(),
        max_short_term_lufs: analysis.max_short_term_lufs(),
    }
}

/// Look-ahead peak limiter: the gain falls smoothly over 1.5 ms before a
/// sample that would pass `ceiling` and recovers over about 50 ms after it.
fn limit(pcm: &mut Pcm, ceiling: f32) {
    let n = pcm.samples.len();
    if n == 0 || pcm.peak() <= ceiling {
        return;
    }
    let look = ((pcm.sample_rate_hz as usize * 3) / 2000).max(1);
    let needed: Vec<f32> = pcm
        .samples
        .iter()
        .map(|s| {
            if s.abs() > ceiling {
                ceiling / s.abs()
            } else {
                1.0
            }
        })
        .collect();
    // Minimum of `needed` over [i - look, i + look] with a monotonic deque.
    let mut minimum = vec![1.0f32; n];
    let mut window: VecDeque<usize> = VecDeque::new();
    for j in 0..n + look {
        if j < n {
            while window.back().is_some_and(|&b| needed[b] >= needed[j]) {
                window.pop_back();
            }
            window.push_back(j);
        }
        if j >= look {
            let i = j - look;
            while window.front().is_some_and(|&f| f + 2 * look < j) {
                window.pop_front();
            }
            minimum[i] = window.front().map_or(1.0, |&f| needed[f]);
        }
    }
    // Moving average over [i - look/2, i + look/2]: every value averaged near a
    // peak is already at or below that peak's need, so the peak stays capped.
    let half = look / 2;
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0f64);
    for &m in &minimum {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + f64::from(m));
    }
    let release = 1.0 - (-1.0 / (0.05 * pcm.sample_rate_hz as f32)).exp();
    let mut gain = 1.0f32;
    for (i, sample) in pcm.samples.iter_mut().enumerate() {
        let (lo, hi) = (i.saturating_sub(half), (i + half + 1).min(n));
        let smooth = ((prefix[hi] - prefix[lo]) / (hi - lo) as f64) as f32;
        gain = smooth.min(gain + (1.0 - gain) * release);
        *sample *= gain;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, seconds: f32, amplitude: f32) -> Pcm {
        let n = (rate as f32 * seconds) as usize;
        Pcm::new(
            rate,
            (0..n)
                .map(|i| (i as f32 * 997.0 * std::f32::consts::TAU / rate as f32).sin() * amplitude)
                .collect(),
        )
    }

    #[test]
    fn levels_a_tone_to_the_target() {
        let mut pcm = tone(48_000, 5.0, 0.9);
        let result = normalize(&mut pcm, LoudnessTarget::default()).unwrap();
        assert!((result.integrated_lufs + 23.0).abs() < 0.1, "{result:?}");
        assert!(result.true_peak_dbtp <= -1.0, "{result:?}");
    }

    #[test]
    fn limits_peaks_of_a_quiet_programme_with_spikes() {
        let mut pcm = tone(48_000, 5.0, 0.02);
        for i in (0..pcm.samples.len()).step_by(4_800) {
            pcm.samples[i] = 0.9;
        }
        let result = normalize(
            &mut pcm,
            LoudnessTarget {
                integrated_lufs: -16.0,
                max_true_peak_dbtp: -1.0,
            },
        )
        .unwrap();
        assert!(result.true_peak_dbtp <= -1.0, "{result:?}");
        assert!((result.integrated_lufs + 16.0).abs() < 0.5, "{result:?}");
    }

    #[test]
    fn the_reported_loudness_is_what_a_new_measurement_finds() {
        let mut pcm = tone(48_000, 5.0, 0.05);
        let reported = normalize(&mut pcm, LoudnessTarget::default()).unwrap();
        let again = measure(&pcm);
        assert!((reported.integrated_lufs - again.integrated_lufs).abs() < 0.01);
        assert!((reported.true_peak_dbtp - again.true_peak_dbtp).abs() < 0.01);
    }

    #[test]
    fn the_levelled_report_is_what_a_new_reading_finds() {
        let mut pcm = tone(44_100, 8.0, 0.05);
        for (i, s) in pcm.samples.iter_mut().enumerate() {
            // Louder and softer stretches, so the range is not zero.
            *s *= if (i / 44_100) % 2 == 0 { 1.0 } else { 0.3 };
        }
        let reported = level(&mut pcm, LoudnessTarget::default()).unwrap();
        let again = report(&pcm, measure(&pcm));
        for (a, b) in [
            (reported.integrated_lufs, again.integrated_lufs),
            (reported.true_peak_dbtp, again.true_peak_dbtp),
            (reported.range_lu, again.range_lu),
            (reported.max_momentary_lufs, again.max_momentary_lufs),
            (reported.max_short_term_lufs, again.max_short_term_lufs),
        ] {
            assert!((a - b).abs() < 0.01, "{reported:?} vs {again:?}");
        }
        assert!(reported.range_lu > 1.0, "{reported:?}");
    }

    #[test]
    fn refuses_silence() {
        let mut pcm = Pcm::new(48_000, vec![0.0; 48_000]);
        assert!(matches!(
            normalize(&mut pcm, LoudnessTarget::default()),
            Err(LoudnessError::Silent)
        ));
    }
}
