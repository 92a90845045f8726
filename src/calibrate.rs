//! Voice calibration: renders a reference text with a voice (no cache: the
//! point is to time the backend as it is now), measures its speaking rate
//! and stores that rate in the voice's profile, so that estimated scripts
//! match rendered length. A built-in voice gets a calibrated copy in the
//! data directory's `voices/`.
//!
//! Voices themselves (profiles, backends) are [`crate::voice`]'s; this
//! module only measures one and rewrites its `syllables_per_minute`.

use std::path::{Path, PathBuf};

use crate::ingest::IngestError;
use crate::normalize::Normalizer;
use crate::pipeline::{self, RenderError};
use crate::script::Script;
use crate::settings::AudioSettings;
use crate::voice::{self, Voice, VoiceError};

/// The reference text used when the caller names none: Vietnamese news.
pub const REFERENCE_TEXT: &[u8] = include_bytes!("../voices/calibration-vi.txt");
/// The name [`REFERENCE_TEXT`] is read under.
pub const REFERENCE_NAME: &str = "calibration-vi.txt";

/// Why a voice could not be calibrated.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    #[error("cannot read the reference text: {0}")]
    Reference(#[from] IngestError),
    #[error("cannot render the reference text with {voice}: {source}")]
    Render { voice: String, source: RenderError },
    #[error("{0} is a built-in voice: pass --data DIR to store a calibrated copy in DIR/voices/")]
    BuiltinWithoutData(String),
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Voice(#[from] VoiceError),
}

/// What a calibration measured and where it stored it.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// The measured speaking rate…
    pub syllables_per_minute: f64,
    /// …and the profile it was written to.
    pub profile: PathBuf,
}

/// Renders `reference` (read as the file `name`) with `voice` and returns
/// its speaking rate, in syllables per minute of speech.
///
/// # Errors
/// [`CalibrateError::Reference`] for a reference that is not an article,
/// [`CalibrateError::Render`] when the voice cannot speak it.
pub fn measure(
    voice: &Voice,
    normalizer: &Normalizer,
    reference: &[u8],
    name: Option<&str>,
) -> Result<f64, CalibrateError> {
    Ok(measure_rendered(voice, normalizer, reference, name)?.0)
}

/// [`measure`], also returning the rendered reference, which the listen
/// check hears back for the voice's baseline.
///
/// # Errors
/// As [`measure`].
pub fn measure_rendered(
    voice: &Voice,
    normalizer: &Normalizer,
    reference: &[u8],
    name: Option<&str>,
) -> Result<(f64, pipeline::Rendered), CalibrateError> {
    let settings = AudioSettings::default();
    let (_, script) = pipeline::prepare(reference, name, normalizer, voice, &settings)?;
    let synthesizer = voice.synthesizer();
    let rendered =
        pipeline::render(&script, synthesizer.as_ref(), &settings, &()).map_err(|source| {
            CalibrateError::Render {
                voice: voice.name.clone(),
                source,
            }
        })?;
    Ok((measured_rate(&rendered.script, &settings), rendered))
}

/// Writes `syllables_per_minute` into `voice`'s profile: its own file, or
/// for a built-in voice a copy in `data/voices/` (made when missing).
/// The profile is checked before it is written, and written atomically.
///
/// # Errors
/// [`CalibrateError::BuiltinWithoutData`] for a built-in voice without a
/// data directory, [`CalibrateError::Io`], [`CalibrateError::Voice`].
pub fn store(
    voice: &Voice,
    data: Option<&Path>,
    syllables_per_minute: f64,
) -> Result<Calibration, CalibrateError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| CalibrateError::Io { path, source }
    };
    let (path, text) = match voice.path() {
        Some(path) => (
            path.to_path_buf(),
            std::fs::read_to_string(path).map_err(io(path))?,
        ),
        None => {
            let data =
                data.ok_or_else(|| CalibrateError::BuiltinWithoutData(voice.name.clone()))?;
            let dir = data.join("voices");
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            (
                dir.join(format!("{}.toml", voice.name)),
                builtin_text(voice)?,
            )
        }
    };
    let origin = path.display().to_string();
    let updated = voice::set_rate(&origin, &text, syllables_per_minute)?;
    Voice::parse(&origin, &updated)?;
    crate::output::write_atomic(&path, updated.as_bytes()).map_err(io(&path))?;
    Ok(Calibration {
        syllables_per_minute,
        profile: path,
    })
}

/// Syllables per minute of speech in a rendered script: cue lengths minus
/// the breath pauses inside cues (estimates add those back).
fn measured_rate(script: &Script, settings: &AudioSettings) -> f64 {
    let speech: f64 = script
        .cues
        .iter()
        .map(|c| {
            let breaths = settings.pauses.between_breath_groups.as_secs_f64()
                * c.parts.len().saturating_sub(1) as f64;
            (c.end - c.start).as_secs_f64() - breaths
        })
        .sum();
    script.syllables() as f64 * 60.0 / speech.max(1e-3)
}

/// The shipped profile text of a built-in voice.
fn builtin_text(voice: &Voice) -> Result<String, CalibrateError> {
    let invalid = |reason: &str| VoiceError::Invalid {
        origin: voice.origin.clone(),
        reason: reason.to_string(),
    };
    let file = voice
        .origin
        .strip_prefix("builtin:")
        .ok_or_else(|| invalid("not a built-in voice"))?;
    voice::builtin_text(file)
        .map(str::to_string)
        .ok_or_else(|| invalid("no built-in profile of that name").into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voice::Voices;

    #[test]
    fn a_built_in_voice_needs_a_data_folder_and_gets_a_copy_there() {
        let voices = Voices::builtin();
        let voice = voices.get("vi").unwrap();
        let err = store(voice, None, 300.0).unwrap_err();
        assert!(
            matches!(err, CalibrateError::BuiltinWithoutData(_)),
            "{err}"
        );
        let data = tempfile::tempdir().unwrap();
        let done = store(voice, Some(data.path()), 312.5).unwrap();
        assert_eq!(done.profile, data.path().join("voices/vi.toml"));
        let copy = std::fs::read_to_string(&done.profile).unwrap();
        let parsed = Voice::parse("copy", &copy).unwrap();
        assert_eq!(parsed.syllables_per_minute, 312.5);
        assert_eq!(parsed.name, voice.name);
    }
}
