//! A TTS server over HTTP, from blocking code (ureq). Two request shapes:
//! the OpenAI-compatible `POST /v1/audio/speech` (LocalAI, Kokoro-FastAPI,
//! openedai-speech; JSON `{model, input, voice, response_format, speed}`,
//! bearer token) and Piper's `POST /synthesize` (JSON `{text, voice?,
//! length_scale?}`). Both answer with WAV bytes; the `Content-Type` is not
//! trusted (Piper's server says `text/html`), the bytes are decoded and
//! checked. 5xx answers and connection failures are retried with doubling
//! back-off; 4xx answers fail at once with the server's own words; a
//! server that does not answer within the timeout fails the call.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{SynthError, Synthesizer, decode_answer};
use crate::audio::Pcm;

/// Which request shape the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HttpKind {
    /// `POST /v1/audio/speech`.
    Openai,
    /// Piper's `POST /synthesize`.
    Piper,
}

/// An HTTP backend, from a voice profile's `[http]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpVoice {
    pub kind: HttpKind,
    /// The full endpoint, e.g. `http://127.0.0.1:8880/v1/audio/speech`.
    pub url: String,
    /// OpenAI `model` (e.g. `tts-1`, `kokoro`); unused by Piper.
    #[serde(default)]
    pub model: String,
    /// Server voice (OpenAI `voice`, Piper `voice`); empty for the server's default.
    #[serde(default)]
    pub voice: String,
    /// Speaking speed, 1.0 = the voice's own (Piper: `length_scale = 1/speed`).
    #[serde(default = "default_speed")]
    pub speed: f64,
    /// Name of the environment variable holding the bearer token. The token
    /// itself never goes into a profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Whole-request deadline.
    #[serde(default = "default_timeout", with = "crate::voice::seconds")]
    pub timeout: Duration,
    #[serde(default = "default_connect", with = "crate::voice::seconds")]
    pub connect_timeout: Duration,
    /// Further attempts after a 5xx answer or a failed connection.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Wait before the first retry; doubles each time.
    #[serde(default = "default_backoff", with = "crate::voice::seconds")]
    pub backoff: Duration,
    /// Requests allowed at once.
    #[serde(default = "default_parallel")]
    pub max_parallel: usize,
}

fn default_speed() -> f64 {
    1.0
}
fn default_timeout() -> Duration {
    Duration::from_secs(60)
}
fn default_connect() -> Duration {
    Duration::from_secs(5)
}
fn default_retries() -> u32 {
    3
}
fn default_backoff() -> Duration {
    Duration::from_millis(500)
}
fn default_parallel() -> usize {
    2
}

/// Largest answer accepted (about 9 minutes of 48 kHz 16-bit mono).
const MAX_ANSWER_BYTES: u64 = 50 * 1024 * 1024;

/// What one attempt came to.
enum Attempt {
    Done(Vec<u8>),
    /// Worth another try (5xx, connection failure).
    Retry(String),
    Fail(SynthError),
}

impl HttpVoice {
    /// # Errors
    /// A sentence naming the bad field.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(format!(
                "http.url {:?} must start with http(s)://",
                self.url
            ));
        }
        if self.kind == HttpKind::Openai && self.model.is_empty() {
            return Err("http.model is required for kind = \"openai\"".into());
        }
        if !(0.25..=4.0).contains(&self.speed) {
            return Err(format!("http.speed {} is outside 0.25–4", self.speed));
        }
        if self.max_parallel == 0 {
            return Err("http.max_parallel must be at least 1".into());
        }
        if let Some(var) = &self.api_key_env
            && (var.is_empty() || var.contains(char::is_whitespace))
        {
            return Err(format!(
                "http.api_key_env {var:?} must name an environment variable (never the key)"
            ));
        }
        Ok(())
    }

    fn backend(&self) -> String {
        let kind = match self.kind {
            HttpKind::Openai => "openai",
            HttpKind::Piper => "piper",
        };
        format!("http {kind} {}", self.url)
    }

    fn body(&self, text: &str) -> serde_json::Value {
        match self.kind {
            HttpKind::Openai => serde_json::json!({
                "model": self.model,
                "input": text,
                "voice": self.voice,
                "response_format": "wav",
                "speed": self.speed,
            }),
            HttpKind::Piper => {
                let mut body = serde_json::json!({ "text": text });
                if !self.voice.is_empty() {
                    body["voice"] = self.voice.clone().into();
                }
                if self.speed != 1.0 {
                    body["length_scale"] = (1.0 / self.speed).into();
                }
                body
            }
        }
    }

    fn api_key(&self) -> Result<Option<String>, SynthError> {
        let Some(var) = &self.api_key_env else {
            return Ok(None);
        };
        match std::env::var(var) {
            Ok(key) if !key.is_empty() => Ok(Some(key)),
            _ => Err(SynthError::Unavailable {
                backend: self.backend(),
                reason: format!("the environment variable {var} (its API key) is not set"),
            }),
        }
    }

    fn agent(&self) -> ureq::Agent {
        ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .timeout_connect(Some(self.connect_timeout))
            .http_status_as_error(false)
            .build()
            .into()
    }

    fn attempt(&self, agent: &ureq::Agent, key: Option<&str>, body: &[u8]) -> Attempt {
        let mut request = agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("Accept", "audio/wav");
        if let Some(key) = key {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        let mut response = match request.send(body) {
            Ok(response) => response,
            Err(ureq::Error::Timeout(_)) => {
                return Attempt::Fail(SynthError::Timeout {
                    backend: self.backend(),
                    timeout: self.timeout,
                });
            }
            Err(
                e
                @ (ureq::Error::Io(_) | ureq::Error::ConnectionFailed | ureq::Error::HostNotFound),
            ) => return Attempt::Retry(format!("cannot connect: {e}")),
            Err(e) => {
                return Attempt::Fail(SynthError::Failed {
                    backend: self.backend(),
                    reason: e.to_string(),
                });
            }
        };
        let status = response.status().as_u16();
        let read = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_vec();
        let bytes = match read {
            Ok(bytes) => bytes,
            Err(ureq::Error::Timeout(_)) => {
                return Attempt::Fail(SynthError::Timeout {
                    backend: self.backend(),
                    timeout: self.timeout,
                });
            }
            Err(e) if status < 300 => return Attempt::Retry(format!("reading the answer: {e}")),
            Err(_) => Vec::new(),
        };
        let said = || {
            let text = String::from_utf8_lossy(&bytes);
            let text = text.trim();
            let mut said: String = text.chars().take(300).collect();
            if said.len() < text.len() {
                said.push('…');
            }
            said
        };
        match status {
            200..=299 => Attempt::Done(bytes),
            500..=599 => Attempt::Retry(format!("HTTP {status}: {}", said())),
            400..=499 => {
                let hint = match status {
                    401 | 403 => " (check the API key and its environment variable)",
                    404 => " (check http.url and the model/voice names)",
                    _ => "",
                };
                Attempt::Fail(SynthError::Failed {
                    backend: self.backend(),
                    reason: format!(
                        "the server refused the request, HTTP {status}{hint}: {}",
                        said()
                    ),
                })
            }
            _ => Attempt::Fail(SynthError::Failed {
                backend: self.backend(),
                reason: format!("unexpected HTTP {status}"),
            }),
        }
    }
}

impl Synthesizer for HttpVoice {
    fn fingerprint(&self) -> String {
        format!(
            "http kind={:?} url={} model={:?} voice={:?} speed={}",
            self.kind, self.url, self.model, self.voice, self.speed
        )
    }

    fn synthesize(&self, text: &str) -> Result<Pcm, SynthError> {
        let text = crate::text::nfc(text);
        let key = self.api_key()?;
        let body = serde_json::to_vec(&self.body(&text)).expect("a JSON value serializes");
        let agent = self.agent();
        let mut wait = self.backoff;
        let mut attempt = 0;
        loop {
            match self.attempt(&agent, key.as_deref(), &body) {
                Attempt::Done(bytes) => return decode_answer(&self.backend(), &bytes, &text),
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry(reason) if attempt >= self.retries => {
                    return Err(SynthError::Failed {
                        backend: self.backend(),
                        reason: format!("{reason} (after {} attempts)", attempt + 1),
                    });
                }
                Attempt::Retry(reason) => {
                    tracing::warn!(backend = %self.backend(), %reason, "retrying in {wait:?}");
                    std::thread::sleep(wait);
                    wait *= 2;
                    attempt += 1;
                }
            }
        }
    }

    /// A server is available when its port accepts a connection (any HTTP
    /// answer will do: not every server has a health route).
    fn check(&self) -> Result<(), SynthError> {
        self.api_key()?;
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.connect_timeout))
            .http_status_as_error(false)
            .build()
            .new_agent();
        match agent.get(&self.url).call() {
            Ok(_) => Ok(()),
            Err(e) => Err(SynthError::Unavailable {
                backend: self.backend(),
                reason: e.to_string(),
            }),
        }
    }

    fn max_parallel(&self) -> usize {
        self.max_parallel
    }
}
