//! Voice profiles: TOML files in `voices/` naming a backend and its
//! parameters (exactly one of `[espeak]`, `[command]`, `[http]`), the
//! measured speaking rate used for estimates, the breath-group limit and
//! optional `[lexicon]` overrides (words this backend mispronounces, read as
//! station lexicon entries). The shipped profiles are embedded in the
//! binary; a station's own folder adds to or replaces them. `calibrate`
//! rewrites a profile's rate in place, keeping its comments.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::normalize::{Lexicon, Normalizer, Source};
use crate::tts::{CommandVoice, Espeak, HttpVoice, Synthesizer};

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

/// The text of an embedded profile, by file name (`vi.toml`).
pub fn builtin_text(file: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(f, _)| *f == file).map(|(_, t)| *t)
}

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandVoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpVoice>,
    /// Written form → spoken form, for words this backend mispronounces.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lexicon: BTreeMap<String, String>,
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
        let sections = usize::from(voice.espeak.is_some())
            + usize::from(voice.command.is_some())
            + usize::from(voice.http.is_some());
        if sections != 1 {
            return Err(invalid(format!(
                "needs exactly one backend section ([espeak], [command] or [http]), found {sections}"
            )));
        }
        if let Some(command) = &voice.command {
            command.validate().map_err(invalid)?;
        }
        if let Some(http) = &voice.http {
            http.validate().map_err(invalid)?;
        }
        voice.parse_lexicon().map_err(|e| invalid(e.to_string()))?;
        Ok(voice)
    }

    fn parse_lexicon(&self) -> Result<Lexicon, crate::normalize::LexiconError> {
        let mut tsv = String::new();
        for (key, spoken) in &self.lexicon {
            // Tabs or newlines inside a value would forge extra fields; the
            // row parser then rejects the row with its reason.
            tsv.push_str(&format!("{key}\t{spoken}\t\tvoice {}\n", self.name));
        }
        Lexicon::parse(&format!("{} [lexicon]", self.origin), &tsv, Source::Station)
    }

    /// The voice's lexicon overrides as station entries.
    pub fn lexicon(&self) -> Lexicon {
        self.parse_lexicon()
            .expect("Voice::parse validated the lexicon")
    }

    /// `base` with this voice's lexicon overrides applied on top.
    pub fn normalizer(&self, base: &Normalizer) -> Normalizer {
        if self.lexicon.is_empty() {
            return base.clone();
        }
        base.clone().with_station(&self.lexicon())
    }

    /// The backend this profile describes.
    pub fn synthesizer(&self) -> Arc<dyn Synthesizer> {
        match (&self.espeak, &self.command, &self.http) {
            (Some(espeak), _, _) => Arc::new(espeak.clone()),
            (_, Some(command), _) => Arc::new(command.clone()),
            (_, _, Some(http)) => Arc::new(http.clone()),
            _ => unreachable!("Voice::parse requires one backend section"),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match (&self.espeak, &self.command, &self.http) {
            (Some(_), _, _) => "espeak",
            (_, Some(_), _) => "command",
            _ => "http",
        }
    }

    /// The profile's file when it is a station file (not an embedded one).
    pub fn path(&self) -> Option<&Path> {
        (!self.origin.starts_with("builtin:")).then(|| Path::new(&self.origin))
    }
}

/// Replaces `syllables_per_minute` in a profile's TOML text, keeping every
/// comment and the layout of the rest.
///
/// # Errors
/// [`VoiceError::Invalid`] when the text is not TOML.
pub fn set_rate(origin: &str, text: &str, syllables_per_minute: f64) -> Result<String, VoiceError> {
    let mut doc: toml_edit::DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| VoiceError::Invalid {
                origin: origin.to_string(),
                reason: e.to_string(),
            })?;
    let rounded = (syllables_per_minute * 10.0).round() / 10.0;
    let decor = doc
        .get("syllables_per_minute")
        .and_then(|item| item.as_value())
        .map(|v| v.decor().clone());
    let mut value = toml_edit::Value::from(rounded);
    if let Some(decor) = decor {
        *value.decor_mut() = decor;
    }
    doc["syllables_per_minute"] = toml_edit::Item::Value(value);
    Ok(doc.to_string())
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
    fn calibration_rewrites_the_rate_and_keeps_comments() {
        let text = include_str!("../voices/vi.toml");
        let out = set_rate("vi.toml", text, 251.26).unwrap();
        assert!(out.contains("syllables_per_minute = 251.3"), "{out}");
        assert_eq!(
            out.lines().filter(|l| l.starts_with('#')).count(),
            text.lines().filter(|l| l.starts_with('#')).count()
        );
        assert_eq!(
            Voice::parse("vi.toml", &out).unwrap().syllables_per_minute,
            251.3
        );
    }

    #[test]
    fn lexicon_overrides_become_station_readings() {
        let voice = Voice::parse(
            "x.toml",
            "name = \"x\"\nsyllables_per_minute = 200\n[espeak]\nvoice = \"vi\"\n[lexicon]\nBTV = \"bê tê vê\"\n",
        )
        .unwrap();
        let normalizer = voice.normalizer(&Normalizer::builtin().unwrap());
        assert_eq!(
            normalizer.expand_str("Ủy viên BTV Thành ủy").spoken(),
            "Ủy viên bê tê vê Thành ủy"
        );
    }

    #[test]
    fn shipped_examples_parse() {
        for (file, text) in [
            (
                "piper-vi.toml.example",
                include_str!("../voices/piper-vi.toml.example"),
            ),
            (
                "http-openai.toml.example",
                include_str!("../voices/http-openai.toml.example"),
            ),
        ] {
            let voice = Voice::parse(file, text).unwrap();
            assert_ne!(voice.backend_name(), "espeak", "{file}");
        }
    }

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
        assert!(err.to_string().contains("exactly one backend"), "{err}");
        let err = Voice::parse(
            "x.toml",
            "name = \"x\"\nsyllables_per_minute = 200\n[http]\nkind = \"openai\"\nurl = \"http://h/v1/audio/speech\"\nmodel = \"m\"\napi_key_env = \"sk-123 456\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("never the key"), "{err}");
        let err = Voice::parse(
            "x.toml",
            "name = \"x\"\nsyllables_per_minute = 200\n[espeak]\nvoice = \"vi\"\n[lexicon]\n\"Covid\" = \"co-vid 19\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("[lexicon]"), "{err}");
        assert!(
            Voices::builtin()
                .get("nobody")
                .unwrap_err()
                .to_string()
                .contains("known: vi")
        );
    }
}
