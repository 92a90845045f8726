//! The station's `[listen]` settings: whether renders are checked, which
//! recognizer hears them, the margin a cue may be heard worse than its
//! voice, and whether a bulletin with a flagged cue is held back. Also where
//! each voice's baseline (its word error under the recognizer, measured by
//! `bantin voices calibrate`) is kept: `DATA/listen-baselines.tsv`.
//!
//! ```toml
//! [listen]
//! enabled = true                 # check every render and bulletin
//! command = ["vietasr", "{wav}"] # or url = "http://127.0.0.1:9000/transcribe"
//! timeout_seconds = 60           # one clip
//! margin = 0.3                   # flagged above the voice's baseline + this
//! hold_bulletin_on_flag = false  # keep a bulletin with a flagged cue out of the drop folder
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::check::{DEFAULT_BASELINE, DEFAULT_MARGIN};
use super::recognizer::{RecognizeError, Recognizer, RecognizerSettings};

/// The `[listen]` table of bantin.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ListenSettings {
    /// Check every render (CLI, jobs) and bulletin unless told otherwise.
    pub enabled: bool,
    /// A recognizer program and its arguments (`{wav}` or `{wavs}`);
    /// without it and without `url`, the venv of `scripts/setup-listen`
    /// when it is there, else `vietasr {wav}` from the PATH.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// A recognizer server (WAV in, `{"text": …}` out); wins over `command`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Seconds one clip may take before the recognizer is stopped.
    pub timeout_seconds: u64,
    /// How much worse than its voice's baseline (word error rate) a cue may
    /// be heard before it is flagged.
    pub margin: f64,
    /// A bulletin with a flagged cue is built and recorded but not delivered.
    pub hold_bulletin_on_flag: bool,
}

impl Default for ListenSettings {
    fn default() -> Self {
        ListenSettings {
            enabled: false,
            command: None,
            url: None,
            timeout_seconds: 60,
            margin: DEFAULT_MARGIN,
            hold_bulletin_on_flag: false,
        }
    }
}

/// Where `scripts/setup-listen` installs its venv and the wrapper that loads
/// the model once for all clips, relative to the repository.
const SETUP_VENV_PYTHON: &str = "target/listen-venv/bin/python";
const SETUP_WRAPPER: &str = "scripts/listen-vietasr";

impl ListenSettings {
    /// Every problem with the settings, for [`crate::config::Config::validate`].
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(0.0..=1.0).contains(&self.margin) {
            problems.push(format!("listen.margin {} is outside 0–1", self.margin));
        }
        if !(1..=3600).contains(&self.timeout_seconds) {
            problems.push(format!(
                "listen.timeout_seconds {} is outside 1–3600",
                self.timeout_seconds
            ));
        }
        if let Err(e) = self.recognizer_settings().recognizer() {
            problems.push(format!("listen: {e}"));
        }
        problems
    }

    /// Whether the station set up a recognizer: the check is on, or a
    /// command or address is named.
    pub fn configured(&self) -> bool {
        self.enabled || self.command.is_some() || self.url.is_some()
    }

    /// The recognizer as configured, or the default one.
    pub fn recognizer_settings(&self) -> RecognizerSettings {
        RecognizerSettings {
            command: self.command.clone().unwrap_or_else(default_command),
            url: self.url.clone(),
            timeout_seconds: self.timeout_seconds,
        }
    }

    /// The recognizer's name in the baselines file: its address, or its
    /// program and arguments by file name (`python listen-vietasr`), so the
    /// same recognizer installed elsewhere keeps its baselines.
    pub fn recognizer_label(&self) -> String {
        let settings = self.recognizer_settings();
        if let Some(url) = settings.url {
            return url;
        }
        settings
            .command
            .iter()
            .filter(|a| *a != "{wav}" && *a != "{wavs}")
            .map(|a| {
                Path::new(a)
                    .file_name()
                    .map_or_else(|| a.clone(), |n| n.to_string_lossy().into_owned())
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A listener with this recognizer and margin, judging `voice` against
    /// its baseline in `baselines`.
    ///
    /// # Errors
    /// A malformed command or address.
    pub fn listener(
        &self,
        normalizer: crate::normalize::Normalizer,
        baselines: &Baselines,
        voice: &str,
    ) -> Result<super::Listener, RecognizeError> {
        let mut listener = super::Listener::new(self.recognizer()?, normalizer)
            .with_baseline(baselines.of(voice, &self.recognizer_label()))
            .named(self.recognizer_label());
        listener.margin = self.margin;
        Ok(listener)
    }

    /// The recognizer these settings describe.
    ///
    /// # Errors
    /// A malformed command or address.
    pub fn recognizer(&self) -> Result<Box<dyn Recognizer>, RecognizeError> {
        self.recognizer_settings().recognizer()
    }
}

/// The recognizer used when the station names none: the wrapper of
/// `scripts/setup-listen`'s venv (found from the working folder or from
/// the folder the `bantin` binary was built in), else `vietasr` on the PATH.
fn default_command() -> Vec<String> {
    let mut roots: Vec<PathBuf> = vec![PathBuf::from(".")];
    if let Ok(exe) = std::env::current_exe() {
        // target/debug/bantin → the repository.
        roots.extend(exe.ancestors().nth(3).map(Path::to_path_buf));
    }
    for root in roots {
        let python = root.join(SETUP_VENV_PYTHON);
        let wrapper = root.join(SETUP_WRAPPER);
        if python.exists() && wrapper.exists() {
            let absolute = |p: PathBuf| {
                std::path::absolute(&p)
                    .unwrap_or(p)
                    .to_string_lossy()
                    .into_owned()
            };
            return vec![absolute(python), absolute(wrapper), "{wavs}".into()];
        }
    }
    RecognizerSettings::default().command
}

/// The file of voice baselines in a data directory.
pub fn baselines_path(data_dir: &Path) -> PathBuf {
    data_dir.join("listen-baselines.tsv")
}

/// Each voice's word error rate under a recognizer, as calibrated:
/// `voice<TAB>recognizer<TAB>word_error_rate` lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Baselines {
    rows: Vec<(String, String, f64)>,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("{file} line {line}: {reason}")]
    Row {
        file: String,
        line: usize,
        reason: String,
    },
    #[error("cannot read or write {file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
}

impl Baselines {
    /// Reads the baselines of a data directory (none when the file is absent).
    ///
    /// # Errors
    /// An unreadable file or a malformed row, naming file and line.
    pub fn load(data_dir: &Path) -> Result<Baselines, BaselineError> {
        let path = baselines_path(data_dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => Baselines::parse(&path.display().to_string(), &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Baselines::default()),
            Err(source) => Err(BaselineError::Io {
                file: path.display().to_string(),
                source,
            }),
        }
    }

    /// Parses the TSV text of `file`.
    ///
    /// # Errors
    /// The first malformed row.
    pub fn parse(file: &str, text: &str) -> Result<Baselines, BaselineError> {
        let mut rows = Vec::new();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |reason: &str| BaselineError::Row {
                file: file.to_string(),
                line: index + 1,
                reason: reason.to_string(),
            };
            let fields: Vec<&str> = line.split('\t').collect();
            let [voice, recognizer, rate] = fields[..] else {
                return Err(bad("expected voice, recognizer and word error rate"));
            };
            let rate: f64 = rate
                .trim()
                .parse()
                .map_err(|_| bad("the word error rate is not a number"))?;
            if !(0.0..=1.0).contains(&rate) {
                return Err(bad("the word error rate is outside 0–1"));
            }
            rows.push((voice.to_string(), recognizer.to_string(), rate));
        }
        Ok(Baselines { rows })
    }

    /// The baseline of `voice` under `recognizer`; the recognizer's error on
    /// natural speech when the voice was not calibrated with it.
    pub fn of(&self, voice: &str, recognizer: &str) -> f64 {
        self.get(voice, recognizer).unwrap_or(DEFAULT_BASELINE)
    }

    /// The calibrated baseline, if any.
    pub fn get(&self, voice: &str, recognizer: &str) -> Option<f64> {
        self.rows
            .iter()
            .find(|(v, r, _)| v == voice && r == recognizer)
            .map(|row| row.2)
    }

    /// Sets `voice`'s baseline and writes the file atomically.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn record(
        data_dir: &Path,
        voice: &str,
        recognizer: &str,
        rate: f64,
    ) -> Result<(), BaselineError> {
        let mut baselines = Baselines::load(data_dir)?;
        baselines
            .rows
            .retain(|(v, r, _)| !(v == voice && r == recognizer));
        baselines.rows.push((
            voice.to_string(),
            recognizer.to_string(),
            rate.clamp(0.0, 1.0),
        ));
        baselines
            .rows
            .sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        let mut text = String::from(
            "# voice\trecognizer\tword error rate on the calibration text (bantin voices calibrate)\n",
        );
        for (v, r, rate) in &baselines.rows {
            text.push_str(&format!("{v}\t{r}\t{rate:.4}\n"));
        }
        let path = baselines_path(data_dir);
        std::fs::create_dir_all(data_dir)
            .and_then(|()| crate::output::write_atomic(&path, text.as_bytes()))
            .map_err(|source| BaselineError::Io {
                file: path.display().to_string(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_baseline_is_read_back_per_voice_and_recognizer() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Baselines::load(dir.path()).unwrap(), Baselines::default());
        Baselines::record(dir.path(), "vi", "vietasr", 0.62).unwrap();
        Baselines::record(dir.path(), "piper", "vietasr", 0.2).unwrap();
        Baselines::record(dir.path(), "vi", "vietasr", 0.65).unwrap();
        let baselines = Baselines::load(dir.path()).unwrap();
        assert_eq!(baselines.get("vi", "vietasr"), Some(0.65));
        assert_eq!(baselines.of("vi", "other"), DEFAULT_BASELINE);
        assert_eq!(baselines.of("piper", "vietasr"), 0.2);
    }

    #[test]
    fn a_bad_row_names_file_and_line() {
        let error = Baselines::parse("b.tsv", "# x\nvi\tasr\t0.5\nvi\tasr\tmany\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("b.tsv line 3"), "{error}");
        assert!(Baselines::parse("b.tsv", "vi\t1.5\n").is_err());
        assert!(Baselines::parse("b.tsv", "vi\tasr\t1.5\n").is_err());
    }

    #[test]
    fn settings_are_checked() {
        let settings: ListenSettings = toml::from_str("enabled = true\nmargin = 2.0").unwrap();
        assert!(settings.problems()[0].contains("margin"));
        let settings: ListenSettings = toml::from_str("command = [\"asr\"]").unwrap();
        assert!(settings.problems()[0].contains("{wav}"));
        assert!(toml::from_str::<ListenSettings>("colour = 1").is_err());
        assert!(ListenSettings::default().problems().is_empty());
    }
}
