//! Voice profiles: TOML files in `voices/` naming a backend and its
//! parameters, the measured speaking rate used for estimates and the
//! breath-group limit. The shipped profiles are embedded in the binary; a
//! station's own folder adds to or replaces them.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::tts::{Espeak, Synthesizer};

const BUILTIN: [(&str, &str); 3] = [
    ("vi.toml", include_str!("../voices/vi.toml")),
    (
        "vi-vn-x-central.toml",
        include_str!("../voices/vi-vn-x-central.toml"),
    ),
    (
        "vi-vn-x-south.toml",
        include_str!("../voices/vi-vn-x-south.toml"),
    ),
];

/// The default voice name.
pub const DEFAULT_VOICE: &str = "vi";

/// One voice profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Voice {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Measured speaking rate, syllables per minute.
    pub syllables_per_minute: f64,
    /// Longest breath group, in syllables.
    #[serde(default = "default_breath")]
    pub breath_group_syllables: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub espeak: Option<Espeak>,
    /// Where the profile was loaded from (`builtin:vi.toml` or a path).
    #[serde(skip)]
    pub origin: String,
}

fn default_breath() -> usize {
    40
}

#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    #[error("{origin}: {reason}")]
    Invalid { origin: String, reason: String },
    #[error("no voice named {name:?} (known: {known})")]
    Unknown { name: String, known: String },
    #[error("cannot read voices from {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl Voice {
    /// Parses and validates one profile.
    ///
    /// # Errors
    /// [`VoiceError::Invalid`] for bad TOML, a missing backend or impossible values.
    pub fn parse(origin: &str, text: &str) -> Result<Voice, VoiceError> {
        let invalid = |reason: String| VoiceError::Invalid {
            origin: origin.to_string(),
            reason,
        };
        let mut voice: Voice = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        voice.origin = origin.to_string();
        if voice.name.is_empty()
            || !voice
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(format!(
                "name {:?} must be ASCII letters, digits, '-' or '_'",
                voice.name
            )));
        }
        if !(60.0..=600.0).contains(&voice.syllables_per_minute) {
            return Err(invalid(format!(
                "syllables_per_minute {} is outside 60–600",
                voice.syllables_per_minute
            )));
        }
        if !(8..=200).contains(&voice.breath_group_syllables) {
            return Err(invalid(format!(
                "breath_group_syllables {} is outside 8–200",
                voice.breath_group_syllables
            )));
        }
        if voice.espeak.is_none() {
            return Err(invalid("no backend section ([espeak])".into()));
        }
        Ok(voice)
    }

    /// The backend this profile describes.
    pub fn synthesizer(&self) -> Arc<dyn Synthesizer> {
        match &self.espeak {
            Some(espeak) => Arc::new(espeak.clone()),
            None => unreachable!("Voice::parse requires a backend section"),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        "espeak"
    }
}

/// The set of voices a process knows.
#[derive(Debug, Clone)]
pub struct Voices {
    voices: Vec<Voice>,
}

impl Voices {
    /// The embedded profiles.
    pub fn builtin() -> Voices {
        let voices = BUILTIN
            .iter()
            .map(|(file, text)| {
                Voice::parse(&format!("builtin:{file}"), text)
                    .expect("shipped voices are validated by a unit test")
            })
            .collect();
        Voices { voices }
    }

    /// The embedded profiles plus every `*.toml` in `dir` (a station profile
    /// with the same name replaces the embedded one). A missing folder is
    /// not an error.
    ///
    /// # Errors
    /// Unreadable folder, or any invalid profile (all are reported by name).
    pub fn load(dir: Option<&Path>) -> Result<Voices, VoiceError> {
        let mut voices = Voices::builtin();
        let Some(dir) = dir.filter(|d| d.is_dir()) else {
            return Ok(voices);
        };
        let io = |source| VoiceError::Io {
            path: dir.display().to_string(),
            source,
        };
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(io)?;
            let voice = Voice::parse(&path.display().to_string(), &text)?;
            voices.voices.retain(|v| v.name != voice.name);
            voices.voices.push(voice);
        }
        Ok(voices)
    }

    /// # Errors
    /// [`VoiceError::Unknown`] listing the known names.
    pub fn get(&self, name: &str) -> Result<&Voice, VoiceError> {
        self.voices
            .iter()
            .find(|v| v.name == name)
            .ok_or_else(|| VoiceError::Unknown {
                name: name.to_string(),
                known: self
                    .voices
                    .iter()
                    .map(|v| v.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    pub fn all(&self) -> &[Voice] {
        &self.voices
    }
}

/// Serde helper: a `Duration` written as seconds (float) in TOML.
pub mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_voices_parse() {
        let voices = Voices::builtin();
        assert_eq!(voices.all().len(), 3);
        assert_eq!(
            voices
                .get(DEFAULT_VOICE)
                .unwrap()
                .espeak
                .as_ref()
                .unwrap()
                .voice,
            "vi"
        );
    }

    #[test]
    fn rejects_bad_profiles() {
        let err = Voice::parse(
            "x.toml",
            "name = \"x\"\nsyllables_per_minute = 5\n[espeak]\nvoice = \"vi\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("outside 60–600"), "{err}");
        let err = Voice::parse("x.toml", "name = \"x\"\nsyllables_per_minute = 200\n").unwrap_err();
        assert!(err.to_string().contains("no backend"), "{err}");
        assert!(
            Voices::builtin()
                .get("nobody")
                .unwrap_err()
                .to_string()
                .contains("known: vi")
        );
    }
}
