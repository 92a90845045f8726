//! Chains the stages the way the CLI and the service use them: bytes to a
//! timed script (`prepare`), a script to levelled audio with measured times
//! (`render`), and atomic file output.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::audio::{self, Loudness, LoudnessTarget, Pcm, Segment, wav::BitDepth};
use crate::ingest::{self, Article, IngestError};
use crate::normalize::Normalizer;
use crate::script::{self, Pauses, Script, Timing};
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
    let script = script::build(&article, normalizer, &voice.name, &timing(voice, settings));
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
    #[error("cancelled")]
    Cancelled,
}

/// Levelled programme audio and its script with measured times.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub pcm: Pcm,
    pub loudness: Loudness,
    pub script: Script,
}

/// Progress of a render: cues done out of total.
pub trait Progress: Sync {
    fn cue_done(&self, done: usize, total: usize);
    /// Checked between cues; true stops the render with [`RenderError::Cancelled`].
    fn cancelled(&self) -> bool {
        false
    }
}

impl Progress for () {
    fn cue_done(&self, _: usize, _: usize) {}
}

/// Synthesizes every breath group of every cue, joins them with the
/// script's pauses, levels the whole to the loudness target and measures
/// where each cue landed.
///
/// # Errors
/// [`RenderError`] naming the cue whose synthesis failed.
pub fn render(
    script: &Script,
    synthesizer: &dyn Synthesizer,
    settings: &AudioSettings,
    progress: &dyn Progress,
) -> Result<Rendered, RenderError> {
    if script.cues.is_empty() {
        return Err(RenderError::Empty);
    }
    let rate = settings.sample_rate_hz;
    let mut segments = Vec::with_capacity(script.cues.len());
    for (index, cue) in script.cues.iter().enumerate() {
        if progress.cancelled() {
            return Err(RenderError::Cancelled);
        }
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
            samples.extend_from_slice(trim_silence(&pcm.samples));
        }
        segments.push(Segment {
            pcm: Pcm::new(rate, samples),
            pause_after: cue.pause_after,
        });
        progress.cue_done(index + 1, script.cues.len());
    }
    let mut program = audio::assemble(&segments, rate);
    let loudness = audio::normalize(&mut program.pcm, settings.loudness)?;
    let mut script = script.clone();
    script.apply_measured(&program.placements, program.pcm.duration());
    Ok(Rendered {
        pcm: program.pcm,
        loudness,
        script,
    })
}

/// Drops leading and trailing near-silence a backend adds around speech, so
/// the script's pauses are the pauses heard.
fn trim_silence(samples: &[f32]) -> &[f32] {
    const FLOOR: f32 = 0.002;
    let start = samples
        .iter()
        .position(|s| s.abs() > FLOOR)
        .unwrap_or(samples.len());
    let end = samples
        .iter()
        .rposition(|s| s.abs() > FLOOR)
        .map_or(start, |e| e + 1);
    &samples[start..end.max(start)]
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
