//! espeak-ng through its command-line program: text on stdin (`--stdin`, so
//! the whole text is one utterance), WAV into a temporary file (`-w`; its
//! header is complete, unlike `--stdout`). Running it as a separate program
//! keeps its GPL-3 code out of bantin's binary.

use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ProcessError, SynthError, Synthesizer, decode_answer, run};
use crate::audio::Pcm;

/// espeak-ng voice parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Espeak {
    /// espeak-ng voice: `vi`, `vi-vn-x-central`, `vi-vn-x-south`.
    pub voice: String,
    /// Words per minute (`-s`), espeak's default is 175.
    #[serde(default = "default_speed")]
    pub speed_wpm: u32,
    /// Pitch 0–99 (`-p`).
    #[serde(default = "default_pitch")]
    pub pitch: u32,
    /// Program to run.
    #[serde(default = "default_program")]
    pub program: String,
    #[serde(default = "default_timeout", with = "crate::voice::seconds")]
    pub timeout: Duration,
}

fn default_speed() -> u32 {
    175
}
fn default_pitch() -> u32 {
    50
}
fn default_program() -> String {
    "espeak-ng".into()
}
fn default_timeout() -> Duration {
    Duration::from_secs(60)
}

impl Espeak {
    pub fn new(voice: &str) -> Self {
        Self {
            voice: voice.into(),
            speed_wpm: default_speed(),
            pitch: default_pitch(),
            program: default_program(),
            timeout: default_timeout(),
        }
    }

    fn error(&self, e: ProcessError) -> SynthError {
        let backend = format!("espeak-ng (voice {})", self.voice);
        match e {
            ProcessError::Spawn { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                SynthError::Unavailable {
                    backend,
                    reason: format!(
                        "{} is not installed (Debian: apt-get install espeak-ng)",
                        self.program
                    ),
                }
            }
            ProcessError::Timeout { timeout, .. } => SynthError::Timeout { backend, timeout },
            e => SynthError::Failed {
                backend,
                reason: e.to_string(),
            },
        }
    }
}

impl Synthesizer for Espeak {
    fn fingerprint(&self) -> String {
        format!(
            "espeak-ng voice={} speed={} pitch={}",
            self.voice, self.speed_wpm, self.pitch
        )
    }

    fn synthesize(&self, text: &str) -> Result<Pcm, SynthError> {
        let backend = || format!("espeak-ng (voice {})", self.voice);
        let out = tempfile::Builder::new()
            .prefix("bantin-espeak-")
            .suffix(".wav")
            .tempfile()
            .map_err(|e| SynthError::Failed {
                backend: backend(),
                reason: format!("temporary file: {e}"),
            })?;
        let mut command = Command::new(&self.program);
        command
            .args([
                "-v",
                &self.voice,
                "-s",
                &self.speed_wpm.to_string(),
                "-p",
                &self.pitch.to_string(),
                "--stdin",
                "-w",
            ])
            .arg(out.path());
        // espeak-ng loses tones on decomposed text: always NFC.
        run(command, crate::text::nfc(text).as_bytes(), self.timeout).map_err(|e| self.error(e))?;
        let bytes = std::fs::read(out.path()).map_err(|e| SynthError::Failed {
            backend: backend(),
            reason: e.to_string(),
        })?;
        decode_answer(&backend(), &bytes, text)
    }

    fn max_parallel(&self) -> usize {
        // One short-lived process per call: as many as there are cores.
        std::thread::available_parallelism().map_or(2, |n| n.get())
    }

    fn check(&self) -> Result<(), SynthError> {
        let mut command = Command::new(&self.program);
        command.arg("--version");
        run(command, b"", Duration::from_secs(10))
            .map(|_| ())
            .map_err(|e| self.error(e))
    }
}
