//! Chains the stages the way the CLI and the service use them: bytes to a
//! timed script (`prepare`), a script to levelled audio with measured times
//! (`render`), the speech of cues (`speak_cues`: synthesized in parallel up
//! to a bound, each looked up in and added to the cue cache; article renders
//! and bulletins both speak through it), and atomic file output.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::audio::{self, Loudness, LoudnessTarget, Pcm, Segment, wav::BitDepth};
use crate::cache::{Cache, Key};
use crate::ingest::{self, Article, IngestError};
use crate::normalize::Normalizer;
use crate::script::{self, Cue, Pauses, Script, Timing};
use crate::tts::{SynthError, Synthesizer};
use crate::voice::Voice;

/// Output audio settings (station settings).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AudioSettings {
    pub sample_rate_hz: u32,
    pub bit_depth: BitDepth,
    pub loudness: LoudnessTarget,
    pub pauses: Pauses,
}

impl Default for AudioSettings {
    fn default() -> Self {
        Self {
            sample_rate_hz: 48_000,
            bit_depth: BitDepth::Sixteen,
            loudness: LoudnessTarget::default(),
            pauses: Pauses::default(),
        }
    }
}

/// Timing parameters of a voice under the station's pause settings.
pub fn timing(voice: &Voice, settings: &AudioSettings) -> Timing {
    Timing {
        syllables_per_minute: voice.syllables_per_minute,
        breath_group_syllables: voice.breath_group_syllables,
        pauses: settings.pauses,
    }
}

/// Reads an upload and builds its estimated script.
///
/// # Errors
/// [`IngestError`] for input that is not an article.
pub fn prepare(
    bytes: &[u8],
    name: Option<&str>,
    normalizer: &Normalizer,
    voice: &Voice,
    settings: &AudioSettings,
) -> Result<(Article, Script), IngestError> {
    let article = ingest::read(bytes, name)?;
    let normalizer = voice.normalizer(normalizer);
    let script = script::build(&article, &normalizer, &voice.name, &timing(voice, settings));
    Ok((article, script))
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cue {cue} ({text:?}): {source}")]
    Synth {
        cue: usize,
        text: String,
        source: SynthError,
    },
    #[error("cue {cue}: {source}")]
    Resample {
        cue: usize,
        source: audio::ResampleError,
    },
    #[error(transparent)]
    Loudness(#[from] audio::LoudnessError),
    #[error("the script has no cue to speak")]
    Empty,
    #[error(transparent)]
    Wav(#[from] audio::wav::WavError),
    #[error("cancelled")]
    Cancelled,
}

/// Levelled programme audio and its script with measured times.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub pcm: Pcm,
    pub loudness: Loudness,
    pub script: Script,
    pub stats: RenderStats,
}

/// Where each cue's audio came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderStats {
    pub cues: usize,
    /// Cues read from the cache.
    pub cached: usize,
    /// Cues the backend spoke.
    pub synthesized: usize,
}

/// Progress of a render: cues done out of total.
pub trait Progress: Sync {
    /// Called once per finished cue (from the worker that finished it).
    fn cue_done(&self, done: usize, total: usize);
    /// Checked before each cue; true stops the render with [`RenderError::Cancelled`].
    fn cancelled(&self) -> bool {
        false
    }
}

impl Progress for () {
    fn cue_done(&self, _: usize, _: usize) {}
}

/// How a render may use the machine.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions<'a> {
    /// Cue audio cache; `None` synthesizes every cue.
    pub cache: Option<&'a Cache>,
    /// Upper bound on backend calls at once (the backend's own bound also applies).
    pub max_parallel: usize,
}

impl Default for RenderOptions<'_> {
    fn default() -> Self {
        Self {
            cache: None,
            max_parallel: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// [`render_with`] without a cache, as parallel as the machine and backend allow.
///
/// # Errors
/// [`RenderError`] naming the cue whose synthesis failed.
pub fn render(
    script: &Script,
    synthesizer: &dyn Synthesizer,
    settings: &AudioSettings,
    progress: &dyn Progress,
) -> Result<Rendered, RenderError> {
    render_with(
        script,
        synthesizer,
        settings,
        &RenderOptions::default(),
        progress,
    )
}

/// Synthesizes every breath group of every cue (cached cues are read back
/// instead), joins them with the script's pauses, levels the whole to the
/// loudness target and measures where each cue landed. The first failing
/// cue (in script order) fails the render; nothing of it reaches the cache.
///
/// # Errors
/// [`RenderError`] naming the cue whose synthesis failed.
pub fn render_with(
    script: &Script,
    synthesizer: &dyn Synthesizer,
    settings: &AudioSettings,
    options: &RenderOptions<'_>,
    progress: &dyn Progress,
) -> Result<Rendered, RenderError> {
    if script.cues.is_empty() {
        return Err(RenderError::Empty);
    }
    let (speech, stats) = speak_cues(&script.cues, synthesizer, settings, options, progress)?;
    let segments: Vec<Segment> = speech
        .into_iter()
        .zip(&script.cues)
        .map(|(pcm, cue)| Segment {
            pcm,
            pause_after: cue.pause_after,
        })
        .collect();
    let rate = settings.sample_rate_hz;
    let mut program = audio::assemble(&segments, rate);
    let loudness = audio::normalize(&mut program.pcm, settings.loudness)?;
    let mut script = script.clone();
    script.apply_measured(&program.placements, program.pcm.duration());
    Ok(Rendered {
        pcm: program.pcm,
        loudness,
        script,
        stats,
    })
}

/// The speech of each cue, in the order given, at the output rate: the one
/// place where cues become audio, for article renders and bulletins alike.
///
/// Cues are spoken in parallel, up to `options.max_parallel` and the
/// backend's own bound. Each cue is first looked up in `options.cache`; a
/// cue the backend speaks is added to it. Progress counts finished cues out
/// of `cues.len()`, and `progress.cancelled()` is checked before each cue.
/// The first failing cue in the given order fails the whole: later cues may
/// have been spoken (and cached), but no partial result is returned.
///
/// # Errors
/// [`RenderError::Synth`] or [`RenderError::Resample`] naming the cue by its
/// id, [`RenderError::Cancelled`].
pub fn speak_cues(
    cues: &[Cue],
    synthesizer: &dyn Synthesizer,
    settings: &AudioSettings,
    options: &RenderOptions<'_>,
    progress: &dyn Progress,
) -> Result<(Vec<Pcm>, RenderStats), RenderError> {
    let total = cues.len();
    if total == 0 {
        return Ok((Vec::new(), RenderStats::default()));
    }
    let workers = options
        .max_parallel
        .min(synthesizer.max_parallel())
        .clamp(1, total);
    let fingerprint = synthesizer.fingerprint();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let cached = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let cancelled = AtomicBool::new(false);
    let results: Vec<Mutex<Option<Result<Pcm, RenderError>>>> =
        (0..total).map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    if progress.cancelled() {
                        cancelled.store(true, Ordering::Relaxed);
                        stop.store(true, Ordering::Relaxed);
                        break;
                    }
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(cue) = cues.get(index) else {
                        break;
                    };
                    let key = Key::new(
                        &fingerprint,
                        settings.sample_rate_hz,
                        settings.pauses.between_breath_groups,
                        &cue.parts,
                    );
                    let result = match options.cache.and_then(|c| c.get(&key)) {
                        Some(pcm) => {
                            cached.fetch_add(1, Ordering::Relaxed);
                            Ok(pcm)
                        }
                        None => speak_cue(cue, synthesizer, settings).inspect(|pcm| {
                            if let Some(cache) = options.cache
                                && let Err(e) = cache.put(&key, pcm)
                            {
                                // A cache that cannot be written costs speed, not output.
                                tracing::warn!("{e}");
                            }
                        }),
                    };
                    let failed = result.is_err();
                    *results[index].lock().expect("no worker panics holding it") = Some(result);
                    if failed {
                        stop.store(true, Ordering::Relaxed);
                    } else {
                        progress.cue_done(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                    }
                }
            });
        }
    });
    let mut speech = Vec::with_capacity(total);
    for result in results {
        match result.into_inner().expect("no worker panicked") {
            Some(Ok(pcm)) => speech.push(pcm),
            Some(Err(e)) => return Err(e),
            // Not reached: a worker stopped because of a later failure or a cancel.
            None => {
                if cancelled.load(Ordering::Relaxed) {
                    return Err(RenderError::Cancelled);
                }
            }
        }
    }
    if speech.len() != total {
        // Every missing cue is explained by a failure or a cancel above.
        return Err(RenderError::Cancelled);
    }
    let cached = cached.into_inner();
    Ok((
        speech,
        RenderStats {
            cues: total,
            cached,
            synthesized: total - cached,
        },
    ))
}

/// One cue's speech at the output rate: each breath group synthesized,
/// resampled, trimmed of the backend's own silence, joined by breath pauses.
fn speak_cue(
    cue: &Cue,
    synthesizer: &dyn Synthesizer,
    settings: &AudioSettings,
) -> Result<Pcm, RenderError> {
    let rate = settings.sample_rate_hz;
    let mut samples = Vec::new();
    for (part_index, part) in cue.parts.iter().enumerate() {
        let pcm = synthesizer
            .synthesize(part)
            .map_err(|source| RenderError::Synth {
                cue: cue.id,
                text: part.clone(),
                source,
            })?;
        let pcm = audio::resample(pcm, rate).map_err(|source| RenderError::Resample {
            cue: cue.id,
            source,
        })?;
        if part_index > 0 {
            samples.resize(
                samples.len() + audio::samples_for(rate, settings.pauses.between_breath_groups),
                0.0,
            );
        }
        samples.extend_from_slice(audio::trim_silence(&pcm.samples));
    }
    Ok(Pcm::new(rate, samples))
}

/// The rendered audio as Broadcast WAV: `bext` with the title folded to
/// ASCII, the originator, the origination date and time `at`, and the
/// loudness of the final samples.
///
/// # Errors
/// [`RenderError::Loudness`] or [`RenderError::Wav`].
pub fn broadcast_wav(
    rendered: &Rendered,
    settings: &AudioSettings,
    originator: &str,
    at: jiff::civil::DateTime,
) -> Result<Vec<u8>, RenderError> {
    let report = audio::report(&rendered.pcm, rendered.loudness)?;
    let finite = |v: f64| v.is_finite().then_some(v);
    let bext = audio::wav::Bext {
        description: rendered.script.title.clone(),
        originator: originator.to_string(),
        originator_reference: format!("bantin {}", rendered.script.voice),
        origination_date: at.strftime("%Y-%m-%d").to_string(),
        origination_time: at.strftime("%H:%M:%S").to_string(),
        loudness_lufs: finite(report.integrated_lufs),
        loudness_range_lu: finite(report.range_lu),
        max_true_peak_dbtp: finite(report.true_peak_dbtp),
        max_momentary_lufs: finite(report.max_momentary_lufs),
        max_short_term_lufs: finite(report.max_short_term_lufs),
        coding_history: format!(
            "A=PCM,F={},W={},M=mono,T=bantin {} voice {}",
            rendered.pcm.sample_rate_hz,
            settings.bit_depth.bits(),
            env!("CARGO_PKG_VERSION"),
            rendered.script.voice
        ),
    };
    Ok(audio::wav::encode_bwf(
        &rendered.pcm,
        settings.bit_depth,
        &bext,
    )?)
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder,
/// synced, then renamed over the target. A crash leaves the old file or none.
///
/// # Errors
/// I/O errors creating, writing or renaming.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".bantin-")
        .suffix(".part")
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A duration in whole milliseconds, for logs.
pub fn millis(d: Duration) -> u128 {
    d.as_millis()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tts::Fake;
    use crate::voice::Voices;

    #[test]
    fn renders_with_measured_times_at_the_target_loudness() {
        let voices = Voices::builtin();
        let voice = voices.get("vi").unwrap();
        let settings = AudioSettings::default();
        let normalizer = Normalizer::builtin().unwrap();
        let text =
            "Tin vắn\n\nSáng nay, trời mưa to. Chiều 23/7 trời nắng.\n\nĐoạn hai có một câu.";
        let (_, script) = prepare(text.as_bytes(), None, &normalizer, voice, &settings).unwrap();
        let rendered = render(&script, &Fake::default(), &settings, &()).unwrap();
        assert!(rendered.script.measured);
        assert_eq!(rendered.pcm.sample_rate_hz, 48_000);
        assert!(
            (rendered.loudness.integrated_lufs + 23.0).abs() < 0.2,
            "{:?}",
            rendered.loudness
        );
        let last = rendered.script.cues.last().unwrap();
        assert_eq!(last.end, rendered.pcm.duration());
        let starts: Vec<_> = rendered.script.cues.iter().map(|c| c.start).collect();
        assert!(starts.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.wav");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
