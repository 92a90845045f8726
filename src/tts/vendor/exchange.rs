//! One cue's HTTP conversation with a cloud vendor: requests built by the
//! protocol files, retries on 5xx and failed connections, a 429's
//! `Retry-After` honoured within the cue's deadline, refusals (bad key,
//! quota, text too long) in the vendor's own words, and polling an address
//! or a job until its audio is ready. Knows no vendor's shapes.

use std::fmt;
use std::time::{Duration, Instant};

use crate::tts::SynthError;

/// Longest wait between two looks at audio that is not ready.
const MAX_POLL_WAIT: Duration = Duration::from_secs(8);
/// Largest answer accepted (MP3 of a long breath group is far smaller).
const MAX_ANSWER_BYTES: u64 = 50 * 1024 * 1024;

/// A request to a vendor, built by its protocol file.
pub struct Request {
    post: bool,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    pub fn get(url: &str) -> Request {
        Request {
            post: false,
            url: url.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn post(url: &str) -> Request {
        Request {
            post: true,
            ..Request::get(url)
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Request {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn json(self, body: &serde_json::Value) -> Request {
        let mut request = self.header("Content-Type", "application/json");
        request.body = serde_json::to_vec(body).expect("a JSON value serializes");
        request
    }

    pub fn form(self, fields: &[(&str, &str)]) -> Request {
        let mut request = self.header("Content-Type", "application/x-www-form-urlencoded");
        request.body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish()
            .into_bytes();
        request
    }

    pub fn text(self, body: &str) -> Request {
        let mut request = self.header("Content-Type", "text/plain; charset=utf-8");
        request.body = body.as_bytes().to_vec();
        request
    }
}

/// A vendor's answer with a 2xx status.
pub struct Answer {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Answer {
    /// Whether the answer is JSON rather than audio.
    pub fn is_json(&self) -> bool {
        self.content_type.contains("json")
            || self
                .bytes
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                .is_some_and(|&b| b == b'{')
    }
}

/// What one request came to.
enum Once {
    Answer {
        status: u16,
        retry_after: Option<Duration>,
        content_type: String,
        bytes: Vec<u8>,
    },
    Unreachable(String),
    TimedOut,
}

/// The context of one cue's requests: key, settings, deadline.
pub struct Exchange {
    /// `FPT.AI voice banmai`: what every error names.
    pub backend: String,
    pub(super) agent: ureq::Agent,
    pub(super) key: String,
    pub(super) app_id: Option<String>,
    pub(super) key_env: String,
    pub(super) voice: String,
    pub(super) speed: f64,
    pub(super) base_url: String,
    pub(super) callback_url: String,
    pub(super) timeout: Duration,
    pub(super) deadline: Duration,
    pub(super) until: Instant,
    pub(super) retries: u32,
    pub(super) backoff: Duration,
    pub(super) poll_interval: Duration,
}

impl Exchange {
    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn app_id(&self) -> &str {
        self.app_id.as_deref().unwrap_or_default()
    }

    pub fn voice(&self) -> &str {
        &self.voice
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    pub fn callback_url(&self) -> &str {
        &self.callback_url
    }

    /// `path` under the profile's base address.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A refusal in the vendor's own words.
    pub fn refused(&self, reason: impl fmt::Display) -> SynthError {
        SynthError::Failed {
            backend: self.backend.clone(),
            reason: reason.to_string(),
        }
    }

    /// The answer as JSON.
    ///
    /// # Errors
    /// [`SynthError::Failed`] quoting what came instead.
    pub fn json(&self, answer: &Answer) -> Result<serde_json::Value, SynthError> {
        serde_json::from_slice(&answer.bytes).map_err(|_| {
            self.refused(format!(
                "answered with something that is not JSON: {}",
                quote(&answer.bytes)
            ))
        })
    }

    fn once(&self, request: &Request) -> Once {
        let sent = if request.post {
            let mut builder = self.agent.post(&request.url);
            for (name, value) in &request.headers {
                builder = builder.header(name, value);
            }
            builder.send(&request.body[..])
        } else {
            let mut builder = self.agent.get(&request.url);
            for (name, value) in &request.headers {
                builder = builder.header(name, value);
            }
            builder.call()
        };
        let mut response = match sent {
            Ok(response) => response,
            Err(ureq::Error::Timeout(_)) => return Once::TimedOut,
            Err(e) => return Once::Unreachable(format!("cannot reach {}: {e}", request.url)),
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let retry_after = header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let content_type = header("content-type").unwrap_or_default();
        match response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_vec()
        {
            Ok(bytes) => Once::Answer {
                status,
                retry_after,
                content_type,
                bytes,
            },
            Err(ureq::Error::Timeout(_)) => Once::TimedOut,
            Err(e) => Once::Unreachable(format!("reading the answer from {}: {e}", request.url)),
        }
    }

    fn timed_out(&self) -> SynthError {
        SynthError::Timeout {
            backend: self.backend.clone(),
            timeout: self.timeout,
        }
    }

    /// Sends `request` until it gets a 2xx answer: 5xx answers and failed
    /// connections are retried with doubling waits, a 429 after the wait its
    /// `Retry-After` asks for, all within the cue's deadline.
    ///
    /// # Errors
    /// [`SynthError::Timeout`] when a request gets no answer in time;
    /// [`SynthError::Failed`] for a refusal (bad key, quota, text too long)
    /// or when retries or the deadline run out.
    pub fn send(&self, request: &Request) -> Result<Answer, SynthError> {
        let mut wait = self.backoff;
        let mut attempt = 0;
        loop {
            let (reason, pause) = match self.once(request) {
                Once::TimedOut => return Err(self.timed_out()),
                Once::Unreachable(reason) => (reason, wait),
                Once::Answer {
                    status: 200..=299,
                    content_type,
                    bytes,
                    ..
                } => {
                    return Ok(Answer {
                        content_type,
                        bytes,
                    });
                }
                Once::Answer {
                    status: 429,
                    retry_after,
                    bytes,
                    ..
                } => {
                    let asked = retry_after.unwrap_or(wait);
                    (
                        format!(
                            "rate limited (HTTP 429, asked to wait {} s): {}",
                            asked.as_secs_f64(),
                            quote(&bytes)
                        ),
                        asked,
                    )
                }
                Once::Answer {
                    status: status @ 500..=599,
                    bytes,
                    ..
                } => (format!("HTTP {status}: {}", quote(&bytes)), wait),
                Once::Answer { status, bytes, .. } => {
                    return Err(self.refused(self.refusal(status, &bytes)));
                }
            };
            if attempt >= self.retries {
                return Err(self.refused(format!("{reason} (after {} attempts)", attempt + 1)));
            }
            if Instant::now() + pause > self.until {
                return Err(self.refused(format!(
                    "{reason}; waiting {} s more would pass the cue's deadline of {} s",
                    pause.as_secs_f64(),
                    self.deadline.as_secs_f64()
                )));
            }
            tracing::warn!(backend = %self.backend, %reason, "retrying in {pause:?}");
            std::thread::sleep(pause);
            wait *= 2;
            attempt += 1;
        }
    }

    fn refusal(&self, status: u16, bytes: &[u8]) -> String {
        let what = match status {
            401 | 403 => format!(
                "the API key in {} was refused (HTTP {status})",
                self.key_env
            ),
            402 => format!("the account's quota is used up (HTTP {status})"),
            413 => format!("the text is too long for one request (HTTP {status})"),
            _ => format!("the request was refused (HTTP {status})"),
        };
        format!("{what}: {}", quote(bytes))
    }

    /// Asks `probe` until it has a result, waiting `poll_interval`, then
    /// twice as long each time (at most 8 s), until the cue's deadline.
    ///
    /// # Errors
    /// The probe's own error, or [`SynthError::Timeout`] naming what was
    /// not ready.
    pub fn poll<T>(
        &self,
        what: &str,
        mut probe: impl FnMut() -> Result<Option<T>, SynthError>,
    ) -> Result<T, SynthError> {
        let mut wait = self.poll_interval;
        loop {
            if let Some(found) = probe()? {
                return Ok(found);
            }
            if Instant::now() + wait > self.until {
                return Err(self.refused(format!(
                    "{what} was not ready within the cue's deadline of {} s",
                    self.deadline.as_secs_f64()
                )));
            }
            std::thread::sleep(wait);
            wait = (wait * 2).min(MAX_POLL_WAIT);
        }
    }

    /// Downloads audio from an address that answers "not found" (or with
    /// nothing) until the vendor has made it.
    ///
    /// # Errors
    /// As [`Exchange::poll`]; a refusal other than "not yet" fails at once.
    pub fn fetch_when_ready(&self, url: &str) -> Result<Vec<u8>, SynthError> {
        let request = Request::get(url);
        self.poll(&format!("the audio at {url}"), || {
            match self.once(&request) {
                Once::TimedOut => Err(self.timed_out()),
                Once::Answer {
                    status: 200..=299,
                    bytes,
                    ..
                } if !bytes.is_empty() => Ok(Some(bytes)),
                // Not there yet (404, or 403 from a storage bucket), busy,
                // or briefly unreachable: look again later.
                Once::Answer {
                    status: 200..=299 | 403 | 404 | 425 | 429 | 500..=599,
                    ..
                }
                | Once::Unreachable(_) => Ok(None),
                Once::Answer { status, bytes, .. } => Err(self.refused(format!(
                    "fetching the audio at {url}: {}",
                    self.refusal(status, &bytes)
                ))),
            }
        })
    }
}

/// At most 300 characters of an answer, for an error message.
fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if text.is_empty() {
        return "(empty answer)".to_string();
    }
    let mut said: String = text.chars().take(300).collect();
    if said.len() < text.len() {
        said.push('…');
    }
    said
}
