//! A self-hosted Piper voice kept loaded: the profile's `[piper]` table and
//! the backend that speaks through it. Each worker starts Piper once, on its
//! first breath group, and feeds it breath group after breath group; loading
//! the model (a second or two) is paid once per worker, not once per call as
//! through the `command` backend.
//!
//! Why Piper's command-line program with `--output-dir`, and not its HTTP
//! server or a JSON protocol: the Piper installed from PyPI (`piper-tts`
//! 1.8) has no `--json-input` (that was the older C++ program);
//! `--output-raw` streams audio with nothing marking where one text ends;
//! `piper.http_server` needs Flask, which `piper-tts` does not install, and
//! a port per worker. With `--output-dir`, Piper reads stdin line by line,
//! writes one WAV file per line into that folder and logs
//! `INFO:__main__:Wrote PATH` on stderr once the file is closed: one answer
//! per request, in order, from the program the station already installs for
//! the `command` backend. Process handling (restart, deadline, cancel) is
//! [`super::resident`]'s.
//!
//! The programs of a voice live as long as bantin: every backend made from
//! the same `[piper]` table shares one [`Pool`] (so render jobs of the
//! service reuse the loaded model), and they end with bantin.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::resident::{Pool, ResidentError, Spec};
use super::{SynthError, Synthesizer, decode_answer};
use crate::audio::Pcm;

/// A Piper voice, from a profile's `[piper]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PiperVoice {
    /// Piper's program (`piper` from `pip install piper-tts`): a path, or a
    /// name looked up in `PATH`.
    #[serde(default = "default_program")]
    pub program: String,
    /// The voice model (`vi_VN-….onnx`).
    pub model: PathBuf,
    /// Its configuration; `MODEL.json` beside the model when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<PathBuf>,
    /// Speaker id, for models with several speakers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<u32>,
    /// Phoneme length: above 1 speaks slower, below 1 faster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length_scale: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_scale: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_w_scale: Option<f64>,
    /// Programs kept running at once (each holds the model in memory,
    /// ~300 MB for a medium voice).
    #[serde(default = "default_workers")]
    pub workers: usize,
    /// Deadline for one breath group (a fresh program's model load included).
    #[serde(default = "default_timeout", with = "crate::voice::seconds")]
    pub timeout: Duration,
}

fn default_program() -> String {
    "piper".into()
}
fn default_workers() -> usize {
    1
}
fn default_timeout() -> Duration {
    Duration::from_secs(60)
}

/// What Piper logs once a line's WAV file is written.
const ANSWER_MARKER: &str = "Wrote ";

impl PiperVoice {
    /// A profile for `model`, every setting at its default.
    pub fn new(program: &str, model: &Path, config: Option<&Path>) -> PiperVoice {
        PiperVoice {
            program: program.to_string(),
            model: model.to_path_buf(),
            config: config.map(Path::to_path_buf),
            speaker: None,
            length_scale: None,
            noise_scale: None,
            noise_w_scale: None,
            workers: default_workers(),
            timeout: default_timeout(),
        }
    }

    /// Checks the values (files are checked by [`Synthesizer::check`]).
    ///
    /// # Errors
    /// A sentence naming the bad value.
    pub fn validate(&self) -> Result<(), String> {
        if self.program.trim().is_empty() {
            return Err("piper.program is empty".into());
        }
        if self.model.as_os_str().is_empty() {
            return Err("piper.model is empty".into());
        }
        if !(1..=16).contains(&self.workers) {
            return Err(format!("piper.workers {} is outside 1–16", self.workers));
        }
        for (name, value) in [
            ("length_scale", self.length_scale),
            ("noise_scale", self.noise_scale),
            ("noise_w_scale", self.noise_w_scale),
        ] {
            if let Some(v) = value
                && !(v > 0.0 && v <= 10.0)
            {
                return Err(format!("piper.{name} {v} is outside 0–10"));
            }
        }
        if self.timeout.is_zero() {
            return Err("piper.timeout must be more than 0 seconds".into());
        }
        Ok(())
    }

    /// The model's configuration file.
    pub fn config_path(&self) -> PathBuf {
        self.config.clone().unwrap_or_else(|| {
            let mut path = self.model.clone().into_os_string();
            path.push(".json");
            PathBuf::from(path)
        })
    }

    /// The backend for the voice `name`: its programs are shared with every
    /// other backend made from the same table.
    pub fn synthesizer(&self, name: &str) -> Arc<Piper> {
        static POOLS: OnceLock<Mutex<HashMap<String, Arc<Pool>>>> = OnceLock::new();
        let key = format!("{} timeout={:?}", self.fingerprint(), self.timeout);
        let pool = Arc::clone(
            POOLS
                .get_or_init(Mutex::default)
                .lock()
                .expect("never poisoned")
                .entry(key)
                .or_insert_with(|| Arc::new(Pool::new(self.spec()))),
        );
        Arc::new(Piper {
            voice: self.clone(),
            name: name.to_string(),
            pool,
        })
    }

    /// Every parameter that changes the audio (and the number of workers,
    /// which decides the programs shared).
    fn fingerprint(&self) -> String {
        format!(
            "piper program={:?} model={:?} config={:?} speaker={:?} length_scale={:?} noise_scale={:?} noise_w_scale={:?} workers={}",
            self.program,
            self.model,
            self.config_path(),
            self.speaker,
            self.length_scale,
            self.noise_scale,
            self.noise_w_scale,
            self.workers
        )
    }

    fn spec(&self) -> Spec {
        let mut args: Vec<String> = vec![
            "--model".into(),
            self.model.display().to_string(),
            "--config".into(),
            self.config_path().display().to_string(),
            "--sentence-silence".into(),
            "0".into(),
        ];
        let optional = [
            ("--speaker", self.speaker.map(|s| s.to_string())),
            ("--length-scale", self.length_scale.map(|v| v.to_string())),
            ("--noise-scale", self.noise_scale.map(|v| v.to_string())),
            ("--noise-w-scale", self.noise_w_scale.map(|v| v.to_string())),
        ];
        for (flag, value) in optional {
            if let Some(value) = value {
                args.push(flag.into());
                args.push(value);
            }
        }
        Spec {
            program: self.program.clone(),
            args,
            answer_marker: ANSWER_MARKER.into(),
            timeout: self.timeout,
            workers: self.workers,
            output_dir_flag: Some("--output-dir".into()),
        }
    }
}

/// The backend of a `[piper]` profile; see the module doc.
pub struct Piper {
    voice: PiperVoice,
    name: String,
    pool: Arc<Pool>,
}

impl Piper {
    /// The pids of the Piper programs running for this voice now.
    pub fn pids(&self) -> Vec<u32> {
        self.pool.pids()
    }

    /// How many Piper programs this voice has started, restarts included.
    pub fn starts(&self) -> usize {
        self.pool.starts()
    }

    fn backend(&self) -> String {
        format!("piper voice {}", self.name)
    }

    fn error(&self, e: ResidentError) -> SynthError {
        let backend = self.backend();
        match e {
            ResidentError::Spawn { source, .. }
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                SynthError::Unavailable {
                    backend,
                    reason: format!("{} is not installed or not in PATH", self.voice.program),
                }
            }
            ResidentError::Timeout { timeout, .. } => SynthError::Timeout { backend, timeout },
            ResidentError::Interrupted { .. } => SynthError::Interrupted { backend },
            e @ (ResidentError::Spawn { .. } | ResidentError::Died { .. }) => SynthError::Failed {
                backend,
                reason: e.to_string(),
            },
        }
    }
}

impl Synthesizer for Piper {
    fn fingerprint(&self) -> String {
        self.voice.fingerprint()
    }

    fn synthesize(&self, text: &str) -> Result<Pcm, SynthError> {
        // Piper reads one text per line and skips empty ones (no answer);
        // a line with nothing to say (`...`) makes it crash writing an empty
        // WAV file. Neither has speech: silence, without asking Piper.
        let line = crate::text::nfc(text).replace(['\n', '\r'], " ");
        let line = line.trim();
        if !line.chars().any(char::is_alphanumeric) {
            return Ok(Pcm::new(22_050, Vec::new()));
        }
        let path = self.pool.ask(line).map_err(|e| self.error(e))?;
        let bytes = std::fs::read(&path).map_err(|e| SynthError::Failed {
            backend: self.backend(),
            reason: format!("reading its output {path}: {e}"),
        });
        let _ = std::fs::remove_file(&path);
        decode_answer(&self.backend(), &bytes?, line)
    }

    fn check(&self) -> Result<(), SynthError> {
        let unavailable = |reason: String| SynthError::Unavailable {
            backend: self.backend(),
            reason,
        };
        if !super::process::installed(&self.voice.program) {
            return Err(unavailable(format!(
                "{} is not installed or not in PATH",
                self.voice.program
            )));
        }
        for (what, path) in [
            ("model", self.voice.model.clone()),
            ("model configuration", self.voice.config_path()),
        ] {
            if !path.is_file() {
                return Err(unavailable(format!(
                    "its {what} {} is missing",
                    path.display()
                )));
            }
        }
        Ok(())
    }

    fn max_parallel(&self) -> usize {
        self.voice.workers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_name_only_the_settings_given() {
        let mut voice = PiperVoice::new("piper", Path::new("/v/vi.onnx"), None);
        let spec = voice.spec();
        assert_eq!(
            spec.args,
            [
                "--model",
                "/v/vi.onnx",
                "--config",
                "/v/vi.onnx.json",
                "--sentence-silence",
                "0"
            ]
        );
        voice.speaker = Some(3);
        voice.length_scale = Some(1.1);
        let args = voice.spec().args.join(" ");
        assert!(args.ends_with("--speaker 3 --length-scale 1.1"), "{args}");
        assert_ne!(
            voice.fingerprint(),
            PiperVoice::new("piper", Path::new("/v/vi.onnx"), None).fingerprint()
        );
    }

    #[test]
    fn rejects_impossible_values() {
        let mut voice = PiperVoice::new("piper", Path::new("/v/vi.onnx"), None);
        voice.validate().unwrap();
        voice.workers = 0;
        assert!(voice.validate().unwrap_err().contains("workers"));
        voice.workers = 1;
        voice.length_scale = Some(-1.0);
        assert!(voice.validate().unwrap_err().contains("length_scale"));
    }

    #[test]
    fn the_shipped_example_parses() {
        let voice = crate::voice::Voice::parse(
            "piper-vi-loaded.toml.example",
            include_str!("../../voices/piper-vi-loaded.toml.example"),
        )
        .unwrap();
        assert_eq!(voice.backend_name(), "piper");
    }

    #[test]
    fn text_with_nothing_to_say_is_silence_without_piper() {
        let voice = PiperVoice::new("/nonexistent/piper", Path::new("/v/vi.onnx"), None);
        let piper = voice.synthesizer("vi-silent");
        for text in ["", "  ", "...", "– ,"] {
            assert!(
                piper.synthesize(text).unwrap().samples.is_empty(),
                "{text:?}"
            );
        }
        assert_eq!(piper.starts(), 0);
        // Anything else goes to Piper (here: not installed).
        let err = piper.synthesize("Xin chào.").unwrap_err();
        assert!(matches!(err, SynthError::Unavailable { .. }), "{err}");
    }

    #[test]
    fn a_missing_model_is_named_by_check() {
        let voice = PiperVoice::new("sh", Path::new("/nonexistent/vi.onnx"), None);
        let err = voice
            .synthesizer("vi-test")
            .check()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("piper voice vi-test") && err.contains("/nonexistent/vi.onnx"),
            "{err}"
        );
    }
}
