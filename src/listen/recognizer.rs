//! Speech recognizers the listen check can use: a program that prints a
//! transcript (the `vietasr` shape: one JSON line with `"text"`, or plain
//! text), and a recognizer server over HTTP (a WAV body in, `{"text": …}`
//! out). Clips reach them as 16 kHz 16-bit mono WAV.

use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::audio::{Pcm, resample, wav};
use crate::tts::{ProcessError, run, temp_dir};

/// The sample rate clips are sent at: what speech recognizers are trained on.
pub const RECOGNIZER_RATE_HZ: u32 = 16_000;

/// Turns clips of speech into what was heard, one transcript per clip.
pub trait Recognizer: Send + Sync {
    /// Its name in messages (`vietasr`, the server's address).
    fn name(&self) -> &str;
    /// One transcript per clip, in order.
    ///
    /// # Errors
    /// The recognizer cannot be run, fails, hangs past its deadline or
    /// prints something that is not a transcript.
    fn transcribe(&self, clips: &[Pcm]) -> Result<Vec<String>, RecognizeError>;
}

#[derive(Debug, thiserror::Error)]
pub enum RecognizeError {
    #[error("the recognizer {name} is not set up right: {reason}")]
    Settings { name: String, reason: String },
    #[error("the recognizer {name} failed: {reason}")]
    Failed { name: String, reason: String },
    #[error("the recognizer {name} printed no transcript: {reason}")]
    Garbage { name: String, reason: String },
}

/// Which recognizer to use, from `[listen]` in bantin.toml or the command line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecognizerSettings {
    /// A program and its arguments; `{wav}` is one clip (the program runs
    /// once per clip), `{wavs}` stands for all the clips of a batch (the
    /// program runs once and prints one JSON line per clip, in order).
    #[serde(default = "default_command")]
    pub command: Vec<String>,
    /// A recognizer server; when set, it is used instead of `command`.
    #[serde(default)]
    pub url: Option<String>,
    /// Seconds one clip may take.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

fn default_command() -> Vec<String> {
    vec!["vietasr".into(), "{wav}".into()]
}

fn default_timeout() -> u64 {
    60
}

impl Default for RecognizerSettings {
    fn default() -> Self {
        RecognizerSettings {
            command: default_command(),
            url: None,
            timeout_seconds: default_timeout(),
        }
    }
}

impl RecognizerSettings {
    /// The recognizer these settings describe.
    ///
    /// # Errors
    /// A command without exactly one `{wav}` or `{wavs}` argument, or an
    /// address that is not `http://` or `https://`.
    pub fn recognizer(&self) -> Result<Box<dyn Recognizer>, RecognizeError> {
        let timeout = Duration::from_secs(self.timeout_seconds.max(1));
        if let Some(url) = &self.url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(RecognizeError::Settings {
                    name: url.clone(),
                    reason: "the address must start with http:// or https://".into(),
                });
            }
            return Ok(Box::new(HttpRecognizer {
                url: url.clone(),
                timeout,
            }));
        }
        Ok(Box::new(CommandRecognizer::new(
            self.command.clone(),
            timeout,
        )?))
    }
}

/// A program run on temporary WAV files.
#[derive(Debug, Clone)]
pub struct CommandRecognizer {
    program: String,
    args: Vec<String>,
    batch: bool,
    timeout: Duration,
}

impl CommandRecognizer {
    /// # Errors
    /// An empty command, or not exactly one `{wav}`/`{wavs}` argument.
    pub fn new(command: Vec<String>, timeout: Duration) -> Result<Self, RecognizeError> {
        let Some((program, args)) = command.split_first() else {
            return Err(RecognizeError::Settings {
                name: String::new(),
                reason: "the command is empty".into(),
            });
        };
        let singles = args.iter().filter(|a| *a == "{wav}").count();
        let batches = args.iter().filter(|a| *a == "{wavs}").count();
        if singles + batches != 1 {
            return Err(RecognizeError::Settings {
                name: program.clone(),
                reason: "its arguments need exactly one {wav} (one clip per run) or {wavs} \
                         (all clips in one run)"
                    .into(),
            });
        }
        Ok(CommandRecognizer {
            program: program.clone(),
            args: args.to_vec(),
            batch: batches == 1,
            timeout,
        })
    }

    fn failed(&self, reason: impl Into<String>) -> RecognizeError {
        RecognizeError::Failed {
            name: self.program.clone(),
            reason: reason.into(),
        }
    }

    fn run_on(&self, paths: &[String], timeout: Duration) -> Result<String, RecognizeError> {
        let mut command = Command::new(&self.program);
        for arg in &self.args {
            match arg.as_str() {
                "{wav}" | "{wavs}" => {
                    command.args(paths);
                }
                _ => {
                    command.arg(arg);
                }
            }
        }
        let stdout = run(command, &[], timeout).map_err(|e| match e {
            ProcessError::Spawn { .. } => RecognizeError::Settings {
                name: self.program.clone(),
                reason: format!("{e} (is it installed? ./scripts/setup-listen installs vietasr)"),
            },
            other => self.failed(other.to_string()),
        })?;
        String::from_utf8(stdout).map_err(|_| RecognizeError::Garbage {
            name: self.program.clone(),
            reason: "its output is not UTF-8 text".into(),
        })
    }
}

impl Recognizer for CommandRecognizer {
    fn name(&self) -> &str {
        &self.program
    }

    fn transcribe(&self, clips: &[Pcm]) -> Result<Vec<String>, RecognizeError> {
        if clips.is_empty() {
            return Ok(Vec::new());
        }
        let dir = temp_dir().map_err(|e| self.failed(format!("temporary folder: {e}")))?;
        let mut files = Vec::with_capacity(clips.len());
        for clip in clips {
            let file = tempfile::Builder::new()
                .prefix("listen-")
                .suffix(".wav")
                .tempfile_in(dir)
                .map_err(|e| self.failed(format!("temporary file: {e}")))?;
            std::fs::write(file.path(), clip_wav(clip).map_err(|e| self.failed(e))?)
                .map_err(|e| self.failed(format!("temporary file: {e}")))?;
            files.push(file);
        }
        let paths: Vec<String> = files
            .iter()
            .map(|f| f.path().to_string_lossy().into_owned())
            .collect();
        if self.batch {
            let out = self.run_on(&paths, self.timeout * clips.len() as u32)?;
            let heard = json_transcripts(&out).map_err(|reason| RecognizeError::Garbage {
                name: self.program.clone(),
                reason,
            })?;
            if heard.len() != clips.len() {
                return Err(RecognizeError::Garbage {
                    name: self.program.clone(),
                    reason: format!("{} transcripts for {} clips", heard.len(), clips.len()),
                });
            }
            return Ok(heard);
        }
        paths
            .iter()
            .map(|path| {
                let out = self.run_on(std::slice::from_ref(path), self.timeout)?;
                one_transcript(&out).map_err(|reason| RecognizeError::Garbage {
                    name: self.program.clone(),
                    reason,
                })
            })
            .collect()
    }
}

/// A clip as the WAV a recognizer reads: 16 kHz, 16-bit, mono.
fn clip_wav(clip: &Pcm) -> Result<Vec<u8>, String> {
    let at_rate = if clip.sample_rate_hz == RECOGNIZER_RATE_HZ {
        clip.clone()
    } else {
        resample(clip.clone(), RECOGNIZER_RATE_HZ).map_err(|e| e.to_string())?
    };
    wav::encode(&at_rate, wav::BitDepth::Sixteen).map_err(|e| e.to_string())
}

/// The transcripts of JSON lines with a `"text"` string, in order; other
/// lines (log output) are skipped.
fn json_transcripts(out: &str) -> Result<Vec<String>, String> {
    let mut heard = Vec::new();
    for line in out.lines().map(str::trim).filter(|l| l.starts_with('{')) {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("a line is not JSON: {e}"))?;
        match value.get("text").and_then(|t| t.as_str()) {
            Some(text) => heard.push(text.trim().to_string()),
            None => return Err("a JSON line has no \"text\" string".into()),
        }
    }
    Ok(heard)
}

/// One clip's transcript: a JSON line with `"text"`, or else the last line
/// of plain text printed (earlier lines are the program's log).
fn one_transcript(out: &str) -> Result<String, String> {
    let heard = json_transcripts(out)?;
    match heard.len() {
        0 if out.chars().any(|c| c.is_control() && !c.is_whitespace()) => {
            Err("its output holds control characters".into())
        }
        0 => Ok(out
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")),
        1 => Ok(heard.into_iter().next().unwrap_or_default()),
        n => Err(format!("{n} transcripts for one clip")),
    }
}

/// A recognizer server: each clip is POSTed as `audio/wav`; the answer is
/// JSON with a `"text"` string.
#[derive(Debug, Clone)]
pub struct HttpRecognizer {
    url: String,
    timeout: Duration,
}

impl Recognizer for HttpRecognizer {
    fn name(&self) -> &str {
        &self.url
    }

    fn transcribe(&self, clips: &[Pcm]) -> Result<Vec<String>, RecognizeError> {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .build()
            .new_agent();
        let failed = |reason: String| RecognizeError::Failed {
            name: self.url.clone(),
            reason,
        };
        clips
            .iter()
            .map(|clip| {
                let body = clip_wav(clip).map_err(&failed)?;
                let mut response = agent
                    .post(&self.url)
                    .header("Content-Type", "audio/wav")
                    .send(&body[..])
                    .map_err(|e| failed(e.to_string()))?;
                let status = response.status().as_u16();
                let answer = response
                    .body_mut()
                    .with_config()
                    .limit(1 << 20)
                    .read_to_string()
                    .map_err(|e| failed(format!("reading the answer: {e}")))?;
                if status != 200 {
                    let said: String = answer.chars().take(200).collect();
                    return Err(failed(format!("HTTP {status}: {said}")));
                }
                json_transcripts(&answer)
                    .ok()
                    .filter(|h| h.len() == 1)
                    .and_then(|h| h.into_iter().next())
                    .ok_or_else(|| RecognizeError::Garbage {
                        name: self.url.clone(),
                        reason: "the answer is not JSON with a \"text\" string".into(),
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_vietasr_line_and_plain_text() {
        let line = r#"{"text": "xin chào", "partial": "xin", "is_final": true}"#;
        assert_eq!(one_transcript(line).unwrap(), "xin chào");
        assert_eq!(
            one_transcript("loading model\n  xin   chào \n").unwrap(),
            "xin chào"
        );
        assert!(one_transcript(r#"{"partial": "x"}"#).is_err());
        assert!(one_transcript("a\u{1}b").is_err());
    }

    #[test]
    fn a_command_needs_one_clip_placeholder() {
        let t = Duration::from_secs(1);
        assert!(CommandRecognizer::new(vec!["asr".into()], t).is_err());
        assert!(
            CommandRecognizer::new(vec!["asr".into(), "{wav}".into(), "{wavs}".into()], t).is_err()
        );
        assert!(CommandRecognizer::new(Vec::new(), t).is_err());
        assert!(CommandRecognizer::new(vec!["asr".into(), "{wavs}".into()], t).is_ok());
    }

    #[test]
    fn a_missing_program_says_how_to_install_it() {
        let settings = RecognizerSettings {
            command: vec!["bantin-no-such-recognizer".into(), "{wav}".into()],
            ..RecognizerSettings::default()
        };
        let clip = Pcm::silence(16_000, Duration::from_millis(100));
        let error = settings
            .recognizer()
            .unwrap()
            .transcribe(&[clip])
            .unwrap_err()
            .to_string();
        assert!(error.contains("setup-listen"), "{error}");
    }
}
