//! Voice profiles: TOML files in `voices/` naming a backend and its
//! parameters (exactly one table: `[espeak]`, `[command]`, `[http]`,
//! `[piper]` or a
//! vendor's `[fpt]`, `[viettel]`, `[zalo]`, `[vbee]`), the
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
use crate::tts::{
    CommandVoice, Espeak, Fpt, Gender, HttpVoice, Listing, PiperVoice, Region, Synthesizer, Vbee,
    Viettel, Zalo,
};

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
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(into = "ProfileFile")]
pub struct Voice {
    pub name: String,
    pub description: String,
    /// Measured speaking rate, syllables per minute.
    pub syllables_per_minute: f64,
    /// Longest breath group, in syllables.
    pub breath_group_syllables: usize,
    /// What speaks: one backend and its parameters.
    pub backend: Backend,
    /// Written form → spoken form, for words this backend mispronounces.
    pub lexicon: BTreeMap<String, String>,
    /// Where the profile was loaded from (`builtin:vi.toml` or a path).
    pub origin: String,
    /// The accent editors choose by (`region = "bac" | "trung" | "nam"`);
    /// a cloud voice's comes from the vendors' list when the profile
    /// names none.
    pub region: Option<Region>,
    /// `gender = "nu" | "nam"`; a cloud voice's comes from the list too.
    pub gender: Option<Gender>,
}

/// A region as profiles and the API write it: `bac`, `trung`, `nam`.
pub fn region_code(region: Region) -> &'static str {
    match region {
        Region::North => "bac",
        Region::Central => "trung",
        Region::South => "nam",
    }
}

/// A gender as profiles and the API write it: `nu`, `nam`.
pub fn gender_code(gender: Gender) -> &'static str {
    match gender {
        Gender::Female => "nu",
        Gender::Male => "nam",
    }
}

/// # Errors
/// A sentence naming the accepted codes.
pub fn parse_region(code: &str) -> Result<Region, String> {
    match code {
        "bac" | "bắc" => Ok(Region::North),
        "trung" => Ok(Region::Central),
        "nam" => Ok(Region::South),
        other => Err(format!("region {other:?} is not bac, trung or nam")),
    }
}

/// # Errors
/// A sentence naming the accepted codes.
pub fn parse_gender(code: &str) -> Result<Gender, String> {
    match code {
        "nu" | "nữ" => Ok(Gender::Female),
        "nam" => Ok(Gender::Male),
        other => Err(format!("gender {other:?} is not nu or nam")),
    }
}

/// The backend a profile names, one variant per kind: a new backend is a
/// new variant, and every `match` on it says what the backend needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Backend {
    Espeak(Espeak),
    Command(CommandVoice),
    Http(HttpVoice),
    Piper(PiperVoice),
    Fpt(Fpt),
    Viettel(Viettel),
    Zalo(Zalo),
    Vbee(Vbee),
}

impl Backend {
    /// The profile table that holds it (`espeak`, `fpt`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Espeak(_) => "espeak",
            Backend::Command(_) => "command",
            Backend::Http(_) => "http",
            Backend::Piper(_) => "piper",
            Backend::Fpt(_) => "fpt",
            Backend::Viettel(_) => "viettel",
            Backend::Zalo(_) => "zalo",
            Backend::Vbee(_) => "vbee",
        }
    }

    /// Whether its availability check calls a server (not worth a round
    /// trip on every health check). The vendors' checks only read the
    /// environment.
    pub fn check_calls_network(&self) -> bool {
        match self {
            Backend::Http(_) => true,
            Backend::Espeak(_)
            | Backend::Command(_)
            | Backend::Piper(_)
            | Backend::Fpt(_)
            | Backend::Viettel(_)
            | Backend::Zalo(_)
            | Backend::Vbee(_) => false,
        }
    }

    /// The backend speaking for the voice `name`.
    fn synthesizer(&self, name: &str) -> Arc<dyn Synthesizer> {
        match self {
            Backend::Espeak(b) => Arc::new(b.clone()),
            Backend::Command(b) => Arc::new(b.clone()),
            Backend::Http(b) => Arc::new(b.clone()),
            Backend::Piper(b) => b.synthesizer(name),
            Backend::Fpt(b) => Arc::new(b.clone()),
            Backend::Viettel(b) => Arc::new(b.clone()),
            Backend::Zalo(b) => Arc::new(b.clone()),
            Backend::Vbee(b) => Arc::new(b.clone()),
        }
    }

    fn validate(&self) -> Result<(), String> {
        match self {
            Backend::Espeak(_) => Ok(()),
            Backend::Command(b) => b.validate(),
            Backend::Http(b) => b.validate(),
            Backend::Piper(b) => b.validate(),
            Backend::Fpt(b) => b.validate(),
            Backend::Viettel(b) => b.validate(),
            Backend::Zalo(b) => b.validate(),
            Backend::Vbee(b) => b.validate(),
        }
    }
}

/// A profile as written in TOML: the backend is whichever table is present.
/// Only [`Voice::parse`] and serialization see this shape.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    name: String,
    #[serde(default)]
    description: String,
    syllables_per_minute: f64,
    #[serde(default = "default_breath")]
    breath_group_syllables: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    espeak: Option<Espeak>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    command: Option<CommandVoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    http: Option<HttpVoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    piper: Option<PiperVoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fpt: Option<Fpt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    viettel: Option<Viettel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    zalo: Option<Zalo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vbee: Option<Vbee>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    lexicon: BTreeMap<String, String>,
}

const BACKEND_TABLES: &str =
    "[espeak], [command], [http], [piper], [fpt], [viettel], [zalo] or [vbee]";

impl ProfileFile {
    /// The one backend table, or a sentence saying how many there were.
    fn backend(&mut self) -> Result<Backend, String> {
        let mut found = Vec::new();
        found.extend(self.espeak.take().map(Backend::Espeak));
        found.extend(self.command.take().map(Backend::Command));
        found.extend(self.http.take().map(Backend::Http));
        found.extend(self.piper.take().map(Backend::Piper));
        found.extend(self.fpt.take().map(Backend::Fpt));
        found.extend(self.viettel.take().map(Backend::Viettel));
        found.extend(self.zalo.take().map(Backend::Zalo));
        found.extend(self.vbee.take().map(Backend::Vbee));
        match found.len() {
            1 => Ok(found.pop().expect("one element")),
            n => Err(format!(
                "needs exactly one backend table ({BACKEND_TABLES}), found {n}"
            )),
        }
    }
}

impl From<Voice> for ProfileFile {
    fn from(voice: Voice) -> ProfileFile {
        let mut file = ProfileFile {
            name: voice.name,
            description: voice.description,
            syllables_per_minute: voice.syllables_per_minute,
            breath_group_syllables: voice.breath_group_syllables,
            lexicon: voice.lexicon,
            region: voice.region.map(|r| region_code(r).to_string()),
            gender: voice.gender.map(|g| gender_code(g).to_string()),
            ..ProfileFile::default()
        };
        match voice.backend {
            Backend::Espeak(b) => file.espeak = Some(b),
            Backend::Command(b) => file.command = Some(b),
            Backend::Http(b) => file.http = Some(b),
            Backend::Piper(b) => file.piper = Some(b),
            Backend::Fpt(b) => file.fpt = Some(b),
            Backend::Viettel(b) => file.viettel = Some(b),
            Backend::Zalo(b) => file.zalo = Some(b),
            Backend::Vbee(b) => file.vbee = Some(b),
        }
        file
    }
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
        let mut file: ProfileFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let backend = file.backend().map_err(invalid)?;
        let region = file
            .region
            .as_deref()
            .map(parse_region)
            .transpose()
            .map_err(invalid)?;
        let gender = file
            .gender
            .as_deref()
            .map(parse_gender)
            .transpose()
            .map_err(invalid)?;
        let mut voice = Voice {
            name: file.name,
            description: file.description,
            syllables_per_minute: file.syllables_per_minute,
            breath_group_syllables: file.breath_group_syllables,
            backend,
            lexicon: file.lexicon,
            origin: origin.to_string(),
            region,
            gender,
        };
        if let Some(listing) = voice.listing() {
            voice.region = voice.region.or(Some(listing.region));
            voice.gender = voice.gender.or(Some(listing.gender));
        }
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
        voice.backend.validate().map_err(invalid)?;
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
        self.backend.synthesizer(&self.name)
    }

    /// The backend's table name (`espeak`, `http`, `fpt`, …).
    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    /// Characters the vendor bills for speaking `spoken` (the normalized
    /// text of a breath group), or `None` for a backend that is not billed
    /// per character (espeak-ng, a program, a station's own server).
    pub fn billable_chars(&self, spoken: &str) -> Option<usize> {
        match &self.backend {
            Backend::Fpt(b) => Some(b.billable_chars(spoken)),
            Backend::Viettel(b) => Some(b.billable_chars(spoken)),
            Backend::Zalo(b) => Some(b.billable_chars(spoken)),
            Backend::Vbee(b) => Some(b.billable_chars(spoken)),
            Backend::Espeak(_) | Backend::Command(_) | Backend::Http(_) | Backend::Piper(_) => None,
        }
    }

    /// A cloud voice's entry in the vendors' list (region, gender, name).
    pub fn listing(&self) -> Option<&'static Listing> {
        match &self.backend {
            Backend::Fpt(b) => b.listing(),
            Backend::Viettel(b) => b.listing(),
            Backend::Zalo(b) => b.listing(),
            Backend::Vbee(b) => b.listing(),
            Backend::Espeak(_) | Backend::Command(_) | Backend::Http(_) | Backend::Piper(_) => None,
        }
    }

    /// Whether checking the voice's availability calls a server.
    pub fn check_calls_network(&self) -> bool {
        self.backend.check_calls_network()
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
            (
                "fpt-banmai.toml.example",
                include_str!("../voices/fpt-banmai.toml.example"),
            ),
            (
                "viettel-diemmy.toml.example",
                include_str!("../voices/viettel-diemmy.toml.example"),
            ),
            (
                "zalo-nam-bac.toml.example",
                include_str!("../voices/zalo-nam-bac.toml.example"),
            ),
            (
                "vbee-ngochuyen.toml.example",
                include_str!("../voices/vbee-ngochuyen.toml.example"),
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
            voices.get(DEFAULT_VOICE).unwrap().backend,
            Backend::Espeak(Espeak::new("vi"))
        );
        let south = voices.get("vi-vn-x-south").unwrap();
        assert_eq!(
            (south.region, south.gender),
            (Some(Region::South), Some(Gender::Male))
        );
        let written = toml::to_string(south).unwrap();
        assert!(written.contains("region = \"nam\""), "{written}");
        let err = Voice::parse(
            "x.toml",
            "name = \"x\"\nsyllables_per_minute = 200\nregion = \"tay\"\n[espeak]\nvoice = \"vi\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("not bac, trung or nam"), "{err}");
    }

    fn vendor_profile(table: &str) -> String {
        format!("name = \"v\"\nsyllables_per_minute = 250\n{table}")
    }

    #[test]
    fn vendor_profiles_parse_into_their_variant_and_round_trip() {
        let voice = Voice::parse(
            "v.toml",
            &vendor_profile("[fpt]\nvoice = \"giahuy\"\nspeed = -1\napi_key_env = \"FPT_KEY\"\n"),
        )
        .unwrap();
        let Backend::Fpt(fpt) = &voice.backend else {
            panic!("{:?}", voice.backend);
        };
        assert_eq!(fpt.speed(), -1.0);
        assert_eq!(fpt.base_url(), "https://api.fpt.ai");
        let listing = fpt.listing().unwrap();
        assert_eq!(
            (listing.region, listing.gender),
            (crate::tts::Region::Central, crate::tts::Gender::Male)
        );
        assert_eq!(voice.listing().unwrap().display, "Gia Huy");
        // Region and gender come from the vendors' list unless the profile says.
        assert_eq!(
            (voice.region, voice.gender),
            (Some(Region::Central), Some(Gender::Male))
        );
        // Billed per character of NFC text: "Hà Nội." is 7 whether its tone
        // marks arrive composed or not.
        assert_eq!(
            voice.billable_chars("Ha\u{300} No\u{302}\u{323}i."),
            Some(7)
        );
        assert_eq!(
            Voices::builtin()
                .get("vi")
                .unwrap()
                .billable_chars("Hà Nội."),
            None
        );
        let written = toml::to_string(&voice).unwrap();
        assert!(written.contains("[fpt]"), "{written}");
        let again = Voice::parse("v.toml", &written).unwrap();
        assert_eq!(again.backend, voice.backend);
        assert_eq!(voice.backend_name(), "fpt");
    }

    #[test]
    fn rejects_bad_vendor_profiles() {
        for (table, expected) in [
            (
                "[fpt]\nvoice = \"nobody\"\napi_key_env = \"K\"\n",
                "not a FPT.AI voice (known: banmai",
            ),
            (
                "[fpt]\nvoice = \"banmai\"\nspeed = 1.5\napi_key_env = \"K\"\n",
                "outside -3…3 (whole steps)",
            ),
            (
                "[zalo]\nvoice = \"4\"\napi_key_env = \"abc def-123\"\n",
                "never the key itself",
            ),
            (
                "[vbee]\nvoice = \"hn_female_ngochuyen_full_48k-fhg\"\napi_key_env = \"T\"\n",
                "needs app_id_env",
            ),
            (
                "[viettel]\nvoice = \"hcm-diemmy\"\napi_key_env = \"T\"\napp_id_env = \"A\"\n",
                "only [vbee]",
            ),
            (
                "[viettel]\nvoice = \"hcm-diemmy\"\napi_key_env = \"T\"\nmax_chars = 9000\n",
                "outside 1…2000",
            ),
            (
                "[viettel]\nvoice = \"hcm-diemmy\"\napi_key_env = \"T\"\n[espeak]\nvoice = \"vi\"\n",
                "found 2",
            ),
            (
                "[viettel]\nvoice = \"hcm-diemmy\"\napi_key = \"secret\"\n",
                "unknown field",
            ),
        ] {
            let err = Voice::parse("v.toml", &vendor_profile(table)).unwrap_err();
            assert!(err.to_string().contains(expected), "{table}: {err}");
        }
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
        assert!(
            err.to_string().contains("exactly one backend table"),
            "{err}"
        );
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
