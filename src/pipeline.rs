//! Chains the stages the way the CLI, the service and the bulletin use
//! them: bytes to a timed script (`prepare`, or `prepare_within` the
//! article limits), and a script to levelled audio with measured times
//! (`render`: cues spoken by [`crate::speak`], put in place by
//! [`audio::mix`], levelled by [`audio::level`]), written as Broadcast
//! WAV through [`crate::output`]. Holds no stage of its own.
//!
//! Preparing a script is linear in the article (each stage is); rendering is
//! linear in the cues and the audio.

use std::path::Path;
use std::time::Duration;

use crate::audio::{self, LoudnessReport, Pcm};
use crate::ingest::{self, Article, IngestError};
use crate::limits::{LimitError, Limits};
use crate::normalize::Normalizer;
use crate::output;
use crate::script::{self, Script};
use crate::settings::AudioSettings;
use crate::speak::{self, Progress, SpeakError};
use crate::tts::Synthesizer;
use crate::voice::Voice;

/// Reads an upload and builds its estimated script, without limits (for
/// articles already checked, and for tests and benchmarks).
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
    let script = script::build(&article, &normalizer, &voice.name, &settings.timing(voice));
    Ok((article, script))
}

/// Why [`prepare_within`] or [`prepare_until`] gave no script.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// `cancelled` answered true between two sentences.
    #[error("cancelled")]
    Cancelled,
}

/// How an article is read into a script: the normalizer (with the station
/// lexicon), the voice, the audio settings its timing follows and the limits
/// the article must keep.
#[derive(Clone, Copy)]
pub struct Reading<'a> {
    pub normalizer: &'a Normalizer,
    pub voice: &'a Voice,
    pub settings: &'a AudioSettings,
    pub limits: &'a Limits,
}

/// Reads an upload within the reading's limits and builds its estimated
/// script: the entry point of the CLI's `script` and `render`.
///
/// # Errors
/// [`PrepareError::Ingest`] for input that is not an article,
/// [`PrepareError::Limit`] for an article beyond a limit.
pub fn prepare_within(
    bytes: &[u8],
    name: Option<&str>,
    reading: &Reading,
) -> Result<(Article, Script), PrepareError> {
    prepare_until(bytes, name, reading, &|| false)
}

/// [`prepare_within`] that asks `cancelled` before each sentence and stops
/// as soon as it answers true (the service stops the work of a request that
/// is gone).
///
/// # Errors
/// [`PrepareError::Ingest`], [`PrepareError::Limit`],
/// [`PrepareError::Cancelled`].
pub fn prepare_until(
    bytes: &[u8],
    name: Option<&str>,
    reading: &Reading,
    cancelled: &dyn Fn() -> bool,
) -> Result<(Article, Script), PrepareError> {
    let Reading {
        normalizer,
        voice,
        settings,
        limits,
    } = *reading;
    let article = ingest::read(bytes, name)?;
    limits.check(&article)?;
    if cancelled() {
        return Err(PrepareError::Cancelled);
    }
    let normalizer = voice.normalizer(normalizer);
    let timing = settings.timing(voice);
    let script = script::build_until(&article, &normalizer, &voice.name, &timing, cancelled)
        .ok_or(PrepareError::Cancelled)?;
    Ok((article, script))
}

/// Why a script gave no programme.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Speak(#[from] SpeakError),
    /// A cue's speech could not be converted into the programme.
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
}

/// Levelled programme audio and its script with measured times.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub pcm: Pcm,
    /// Every loudness figure of the levelled programme.
    pub loudness: LoudnessReport,
    pub script: Script,
    pub stats: speak::Stats,
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
        &speak::Options::default(),
        progress,
    )
}

/// Synthesizes every breath group of every cue (cached ones are read back
/// instead), converts them straight into their places in the programme with
/// the script's pauses between, levels the whole to the loudness target and
/// measures where each cue landed. The first failing
/// cue (in script order) fails the render; nothing of it reaches the cache.
///
/// # Errors
/// [`RenderError`] naming the cue whose synthesis failed.
pub fn render_with(
    script: &Script,
    synthesizer: &dyn Synthesizer,
    settings: &AudioSettings,
    options: &speak::Options<'_>,
    progress: &dyn Progress,
) -> Result<Rendered, RenderError> {
    if script.cues.is_empty() {
        return Err(RenderError::Empty);
    }
    let started = std::time::Instant::now();
    let (speech, stats) = speak::speak_breath_groups(&script.cues, synthesizer, options, progress)?;
    let spoken = started.elapsed();
    let segments = speak::segments(&script.cues, speech, settings.pauses.between_breath_groups);
    let mut program = audio::mix(&segments, settings.sample_rate_hz, options.max_parallel)
        .map_err(|e| RenderError::Resample {
            cue: script.cues[e.segment].id,
            source: e.source,
        })?;
    // The speech at the backend's rate is in the programme now.
    drop(segments);
    let assembled = started.elapsed();
    let loudness = audio::level(&mut program.pcm, settings.loudness)?;
    tracing::debug!(
        spoken_ms = millis(spoken),
        assembled_ms = millis(assembled - spoken),
        levelled_ms = millis(started.elapsed() - assembled),
        "rendered"
    );
    let mut script = script.clone();
    script.apply_measured(&program.placements, program.pcm.duration());
    Ok(Rendered {
        pcm: program.pcm,
        loudness,
        script,
        stats,
    })
}

/// The rendered audio as Broadcast WAV in memory, its `bext` chunk made
/// by [`audio::wav::Bext::of`].
///
/// # Errors
/// [`RenderError::Wav`] when the audio is too long for a WAV file.
pub fn broadcast_wav(
    rendered: &Rendered,
    settings: &AudioSettings,
    originator: &str,
    at: jiff::civil::DateTime,
) -> Result<Vec<u8>, RenderError> {
    let bext = bext(rendered, settings, originator, at);
    Ok(audio::wav::encode_bwf(
        &rendered.pcm,
        settings.bit_depth,
        &bext,
    )?)
}

/// Writes the rendered audio as Broadcast WAV (`bext` by
/// [`audio::wav::Bext::of`]) to `path`
/// atomically, converting samples as it writes ([`output::write_with`]):
/// no second copy of the programme is made in memory.
///
/// # Errors
/// [`RenderError::Wav`] naming the path.
pub fn write_broadcast_wav(
    path: &Path,
    rendered: &Rendered,
    settings: &AudioSettings,
    originator: &str,
    at: jiff::civil::DateTime,
) -> Result<(), RenderError> {
    let bext = bext(rendered, settings, originator, at);
    audio::wav::check_bwf(&rendered.pcm, settings.bit_depth)?;
    output::write_with(path, |out| {
        audio::wav::write_bwf(&rendered.pcm, settings.bit_depth, &bext, out)
    })
    .map_err(|source| {
        RenderError::Wav(audio::wav::WavError::Write {
            path: path.display().to_string(),
            source,
        })
    })
}

/// The `bext` chunk of a render ([`audio::wav::Bext::of`]): the title,
/// the originator, the voice as reference, the origination date and time
/// `at`, and the loudness of the final samples.
fn bext(
    rendered: &Rendered,
    settings: &AudioSettings,
    originator: &str,
    at: jiff::civil::DateTime,
) -> audio::wav::Bext {
    let voice = &rendered.script.voice;
    audio::wav::Bext::of(
        &audio::wav::Origin {
            title: &rendered.script.title,
            originator,
            reference: &format!("bantin {voice}"),
            at,
            software: &format!("bantin {} voice {voice}", env!("CARGO_PKG_VERSION")),
        },
        &rendered.loudness,
        rendered.pcm.sample_rate_hz,
        settings.bit_depth,
    )
}

/// A duration in whole milliseconds, for logs.
fn millis(d: Duration) -> u128 {
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
}
