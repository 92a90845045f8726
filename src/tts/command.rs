//! Any program that reads text and writes WAV (Piper's CLI is the typical
//! one), described by an argument template. The program gets the text on
//! stdin unless its arguments name `{text}` or `{input}`, and writes WAV to
//! `{output}` (a fresh temporary file) or, when the template has no
//! `{output}`, to stdout. A deadline stops it; its stderr goes into the error.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ProcessError, SynthError, Synthesizer, decode_answer, run};
use crate::audio::Pcm;

/// A command-line backend, from a voice profile's `[command]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandVoice {
    /// Program to run (a path, or a name looked up in `PATH`).
    pub program: String,
    /// Arguments; `{text}`, `{input}` (a file holding the text), `{output}`
    /// (the WAV file to write) and `{voice}` are replaced per call.
    #[serde(default)]
    pub args: Vec<String>,
    /// Value of `{voice}` (a model path, a speaker name…).
    #[serde(default)]
    pub voice: String,
    /// Extra environment variables for the program.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default = "default_timeout", with = "crate::voice::seconds")]
    pub timeout: Duration,
    /// Calls allowed at once (each may load a whole neural model).
    #[serde(default = "default_parallel")]
    pub max_parallel: usize,
}

fn default_timeout() -> Duration {
    Duration::from_secs(120)
}
fn default_parallel() -> usize {
    1
}

const PLACEHOLDERS: [&str; 4] = ["{text}", "{input}", "{output}", "{voice}"];

impl CommandVoice {
    /// Checks the template: every `{…}` is a known placeholder.
    ///
    /// # Errors
    /// A sentence naming the bad argument.
    pub fn validate(&self) -> Result<(), String> {
        if self.program.trim().is_empty() {
            return Err("command.program is empty".into());
        }
        for arg in &self.args {
            let mut rest = arg.as_str();
            while let Some(open) = rest.find('{') {
                let close = rest[open..]
                    .find('}')
                    .ok_or_else(|| format!("argument {arg:?} has an unclosed '{{'"))?;
                let name = &rest[open..open + close + 1];
                if !PLACEHOLDERS.contains(&name) {
                    return Err(format!(
                        "argument {arg:?} names {name}; known placeholders are {}",
                        PLACEHOLDERS.join(", ")
                    ));
                }
                rest = &rest[open + close + 1..];
            }
        }
        if self.max_parallel == 0 {
            return Err("command.max_parallel must be at least 1".into());
        }
        Ok(())
    }

    fn uses(&self, placeholder: &str) -> bool {
        self.args.iter().any(|a| a.contains(placeholder))
    }

    fn backend(&self) -> String {
        format!("command {}", self.program)
    }

    fn failed(&self, reason: impl Into<String>) -> SynthError {
        SynthError::Failed {
            backend: self.backend(),
            reason: reason.into(),
        }
    }

    fn error(&self, e: ProcessError) -> SynthError {
        match e {
            ProcessError::Spawn { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                SynthError::Unavailable {
                    backend: self.backend(),
                    reason: format!("{} is not installed or not in PATH", self.program),
                }
            }
            ProcessError::Timeout { timeout, .. } => SynthError::Timeout {
                backend: self.backend(),
                timeout,
            },
            ProcessError::Interrupted { .. } => SynthError::Interrupted {
                backend: self.backend(),
            },
            e => self.failed(e.to_string()),
        }
    }
}

impl Synthesizer for CommandVoice {
    fn fingerprint(&self) -> String {
        format!(
            "command program={:?} args={:?} voice={:?} env={:?}",
            self.program, self.args, self.voice, self.env
        )
    }

    fn synthesize(&self, text: &str) -> Result<Pcm, SynthError> {
        let text = crate::text::nfc(text);
        let temp = |suffix: &str| {
            super::temp_dir()
                .and_then(|dir| {
                    tempfile::Builder::new()
                        .prefix("command-")
                        .suffix(suffix)
                        .tempfile_in(dir)
                })
                .map_err(|e| self.failed(format!("temporary file: {e}")))
        };
        let output = temp(".wav")?;
        let input = temp(".txt")?;
        if self.uses("{input}") {
            std::fs::write(input.path(), text.as_bytes())
                .map_err(|e| self.failed(format!("temporary file: {e}")))?;
        }
        let mut command = Command::new(&self.program);
        command.envs(&self.env);
        for arg in &self.args {
            command.arg(
                arg.replace("{text}", &text)
                    .replace("{input}", &input.path().to_string_lossy())
                    .replace("{output}", &output.path().to_string_lossy())
                    .replace("{voice}", &self.voice),
            );
        }
        let stdin = if self.uses("{text}") || self.uses("{input}") {
            Vec::new()
        } else {
            // Many programs (Piper) read one utterance per line: one line.
            let mut line = text.replace(['\n', '\r'], " ");
            line.push('\n');
            line.into_bytes()
        };
        let stdout = run(command, &stdin, self.timeout).map_err(|e| self.error(e))?;
        let bytes = if self.uses("{output}") {
            std::fs::read(output.path())
                .map_err(|e| self.failed(format!("reading its output: {e}")))?
        } else {
            stdout
        };
        decode_answer(&self.backend(), &bytes, &text)
    }

    fn check(&self) -> Result<(), SynthError> {
        if super::process::installed(&self.program) {
            Ok(())
        } else {
            Err(SynthError::Unavailable {
                backend: self.backend(),
                reason: format!("{} is not installed or not in PATH", self.program),
            })
        }
    }

    fn max_parallel(&self) -> usize {
        self.max_parallel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voice(args: &[&str]) -> CommandVoice {
        CommandVoice {
            program: "sh".into(),
            args: args.iter().map(ToString::to_string).collect(),
            voice: String::new(),
            env: BTreeMap::new(),
            timeout: Duration::from_secs(5),
            max_parallel: 1,
        }
    }

    #[test]
    fn rejects_unknown_placeholders() {
        let err = voice(&["-c", "x {model}"]).validate().unwrap_err();
        assert!(err.contains("{model}"), "{err}");
        voice(&["-c", "x {text} {output}"]).validate().unwrap();
    }

    #[test]
    fn garbage_output_is_bad_audio_and_stderr_is_kept() {
        let err = voice(&["-c", "echo not a wav > {output}"])
            .synthesize("xin chào")
            .unwrap_err();
        assert!(matches!(err, SynthError::BadAudio { .. }), "{err}");
        let err = voice(&["-c", "echo model missing >&2; exit 2"])
            .synthesize("xin chào")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("model missing") && err.contains("command sh"),
            "{err}"
        );
    }
}
