//! What the Vietnamese cloud voices (FPT.AI, Viettel AI, Zalo AI, Vbee)
//! share: the profile table (`[fpt]`, `[viettel]`, `[zalo]`, `[vbee]`), the
//! vendors' voice list with region and gender (`vendor_voices.tsv`), keys
//! read from the environment, splitting a text over the vendor's limit at
//! breath-group boundaries, and one HTTP exchange with retries, `429
//! Retry-After`, a deadline per cue and polling an address until its audio
//! is ready (`exchange.rs`; the voice list is read in `listing.rs`). Each
//! vendor's own request and answer shapes live in its file
//! (`fpt.rs`, `viettel.rs`, `zalo.rs`, `vbee.rs`), behind [`Protocol`].
//! Every error names the vendor and the voice; the caller adds the cue.

use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{SynthError, Synthesizer, decode_answer};
use crate::audio::Pcm;

mod exchange;
mod listing;

pub use exchange::{Exchange, Request};
pub use listing::{Gender, Listing, Region, listings};

/// One vendor's protocol: its constants and how one request of at most
/// [`Protocol::MAX_CHARS`] characters becomes audio bytes (MP3 or WAV).
pub trait Protocol {
    /// The profile table and the vendor column of `vendor_voices.tsv`.
    const NAME: &'static str;
    /// The vendor as staff know it, in errors.
    const TITLE: &'static str;
    /// The vendor's production address; profiles may point elsewhere.
    const BASE_URL: &'static str;
    /// The longest text one request may carry, in characters.
    const MAX_CHARS: usize;
    /// Allowed `speed` values in the vendor's own unit, and its default.
    const SPEED: (f64, f64);
    const DEFAULT_SPEED: f64;
    /// Whether `speed` must be a whole number (FPT.AI's −3…3 steps).
    const WHOLE_SPEED: bool = false;
    /// Whether the vendor needs an application id (`app_id_env`) and a
    /// `callback_url` besides the key (Vbee).
    const NEEDS_APP: bool = false;

    /// Speaks one piece of text.
    ///
    /// # Errors
    /// [`SynthError`] naming the vendor and voice ([`Exchange::backend`]).
    fn speak(exchange: &Exchange, text: &str) -> Result<Vec<u8>, SynthError>;
}

/// A cloud voice from a profile's vendor table.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
pub struct VendorVoice<P> {
    /// The vendor's voice id (`banmai`, `hcm-diemmy`, `2`, …), listed with
    /// region and gender in `src/tts/vendor_voices.tsv`.
    pub voice: String,
    /// Speed in the vendor's own unit; absent for its default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
    /// Name of the environment variable holding the API key or token. The
    /// key itself never goes into a profile.
    pub api_key_env: String,
    /// Vbee only: the environment variable holding the application id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id_env: Option<String>,
    /// Vbee only: the address Vbee posts its result to (required by Vbee;
    /// bantin polls for the result and does not need the callback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// The service's address; the vendor's own when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Longest text per request, in characters (at most the vendor's limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_chars: Option<usize>,
    /// Deadline of each HTTP request.
    #[serde(default = "default_timeout", with = "crate::voice::seconds")]
    pub timeout: Duration,
    #[serde(default = "default_connect", with = "crate::voice::seconds")]
    pub connect_timeout: Duration,
    /// Deadline of one cue, polling included.
    #[serde(default = "default_deadline", with = "crate::voice::seconds")]
    pub deadline: Duration,
    /// Further attempts after a 5xx, a 429 or a failed connection.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Wait before the first retry; doubles each time.
    #[serde(default = "default_backoff", with = "crate::voice::seconds")]
    pub backoff: Duration,
    /// First wait between two looks at audio that is not ready yet;
    /// doubles up to 8 s.
    #[serde(default = "default_poll", with = "crate::voice::seconds")]
    pub poll_interval: Duration,
    /// Requests allowed at once.
    #[serde(default = "default_parallel")]
    pub max_parallel: usize,
    #[serde(skip)]
    protocol: PhantomData<fn() -> P>,
}

// Written by hand: derives would ask the protocol marker for the traits.
impl<P> Clone for VendorVoice<P> {
    fn clone(&self) -> Self {
        VendorVoice {
            voice: self.voice.clone(),
            speed: self.speed,
            api_key_env: self.api_key_env.clone(),
            app_id_env: self.app_id_env.clone(),
            callback_url: self.callback_url.clone(),
            base_url: self.base_url.clone(),
            max_chars: self.max_chars,
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            deadline: self.deadline,
            retries: self.retries,
            backoff: self.backoff,
            poll_interval: self.poll_interval,
            max_parallel: self.max_parallel,
            protocol: PhantomData,
        }
    }
}

impl<P: Protocol> fmt::Debug for VendorVoice<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(P::NAME)
            .field("voice", &self.voice)
            .field("speed", &self.speed())
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl<P> PartialEq for VendorVoice<P> {
    fn eq(&self, other: &Self) -> bool {
        // Every field but the marker, by way of the serialized form.
        toml::to_string(self).ok() == toml::to_string(other).ok()
    }
}

fn default_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_connect() -> Duration {
    Duration::from_secs(5)
}
fn default_deadline() -> Duration {
    Duration::from_secs(120)
}
fn default_retries() -> u32 {
    3
}
fn default_backoff() -> Duration {
    Duration::from_millis(500)
}
fn default_poll() -> Duration {
    Duration::from_secs(1)
}
fn default_parallel() -> usize {
    2
}

impl<P: Protocol> VendorVoice<P> {
    /// A voice with the vendor's defaults.
    pub fn new(voice: &str, api_key_env: &str) -> Self {
        VendorVoice {
            voice: voice.to_string(),
            speed: None,
            api_key_env: api_key_env.to_string(),
            app_id_env: None,
            callback_url: None,
            base_url: None,
            max_chars: None,
            timeout: default_timeout(),
            connect_timeout: default_connect(),
            deadline: default_deadline(),
            retries: default_retries(),
            backoff: default_backoff(),
            poll_interval: default_poll(),
            max_parallel: default_parallel(),
            protocol: PhantomData,
        }
    }

    pub fn speed(&self) -> f64 {
        self.speed.unwrap_or(P::DEFAULT_SPEED)
    }

    pub fn base_url(&self) -> &str {
        self.base_url
            .as_deref()
            .unwrap_or(P::BASE_URL)
            .trim_end_matches('/')
    }

    pub fn max_chars(&self) -> usize {
        self.max_chars.unwrap_or(P::MAX_CHARS)
    }

    /// The voice's entry in the vendor list (validated profiles have one).
    pub fn listing(&self) -> Option<&'static Listing> {
        listings()
            .iter()
            .find(|l| l.vendor == P::NAME && l.voice == self.voice)
    }

    /// Characters the vendor bills for speaking `text`: every character of
    /// each request (NFC, so a tone mark is not counted twice), as all four
    /// price per character of input.
    pub fn billable_chars(&self, text: &str) -> usize {
        billable_chars(text, self.max_chars())
    }

    /// # Errors
    /// A sentence naming the bad field.
    pub fn validate(&self) -> Result<(), String> {
        let table = P::NAME;
        if self.listing().is_none() {
            let known: Vec<&str> = listings()
                .iter()
                .filter(|l| l.vendor == P::NAME)
                .map(|l| l.voice.as_str())
                .collect();
            return Err(format!(
                "{table}.voice {:?} is not a {} voice (known: {})",
                self.voice,
                P::TITLE,
                known.join(", ")
            ));
        }
        let speed = self.speed();
        let (low, high) = P::SPEED;
        if !(low..=high).contains(&speed) || (P::WHOLE_SPEED && speed.fract() != 0.0) {
            let whole = if P::WHOLE_SPEED { " (whole steps)" } else { "" };
            return Err(format!(
                "{table}.speed {speed} is outside {low}…{high}{whole}"
            ));
        }
        env_name(table, "api_key_env", &self.api_key_env)?;
        match (&self.app_id_env, &self.callback_url, P::NEEDS_APP) {
            (Some(app), Some(callback), true) => {
                env_name(table, "app_id_env", app)?;
                http_url(table, "callback_url", callback)?;
            }
            (_, _, true) => {
                return Err(format!(
                    "{table} needs app_id_env (the variable holding the application id) and callback_url"
                ));
            }
            (None, None, false) => {}
            (_, _, false) => {
                return Err(format!(
                    "{table} takes no app_id_env or callback_url (only [vbee] does)"
                ));
            }
        }
        if let Some(url) = &self.base_url {
            http_url(table, "base_url", url)?;
        }
        if !(1..=P::MAX_CHARS).contains(&self.max_chars()) {
            return Err(format!(
                "{table}.max_chars {} is outside 1…{} ({}'s limit per request)",
                self.max_chars(),
                P::MAX_CHARS,
                P::TITLE
            ));
        }
        if self.timeout.is_zero() || self.deadline < self.timeout {
            return Err(format!(
                "{table}.timeout must be above 0 and {table}.deadline at least the timeout"
            ));
        }
        if self.max_parallel == 0 {
            return Err(format!("{table}.max_parallel must be at least 1"));
        }
        Ok(())
    }

    fn backend(&self) -> String {
        format!("{} voice {}", P::TITLE, self.voice)
    }

    fn secret(&self, var: &str, what: &str) -> Result<String, SynthError> {
        match std::env::var(var) {
            Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_string()),
            _ => Err(SynthError::Unavailable {
                backend: self.backend(),
                reason: format!("the environment variable {var} ({what}) is not set"),
            }),
        }
    }

    fn exchange(&self) -> Result<Exchange, SynthError> {
        let key = self.secret(&self.api_key_env, "its API key")?;
        let app_id = match &self.app_id_env {
            Some(var) => Some(self.secret(var, "its application id")?),
            None => None,
        };
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .timeout_connect(Some(self.connect_timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(Exchange {
            backend: self.backend(),
            agent,
            key,
            app_id,
            key_env: self.api_key_env.clone(),
            voice: self.voice.clone(),
            speed: self.speed(),
            base_url: self.base_url().to_string(),
            callback_url: self.callback_url.clone().unwrap_or_default(),
            timeout: self.timeout,
            deadline: self.deadline,
            until: Instant::now() + self.deadline,
            retries: self.retries,
            backoff: self.backoff,
            poll_interval: self.poll_interval,
        })
    }
}

fn env_name(table: &str, field: &str, var: &str) -> Result<(), String> {
    if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "{table}.{field} {var:?} must name an environment variable (never the key itself)"
        ));
    }
    Ok(())
}

fn http_url(table: &str, field: &str, url: &str) -> Result<(), String> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!(
            "{table}.{field} {url:?} must start with http(s)://"
        ));
    }
    Ok(())
}

impl<P: Protocol> Synthesizer for VendorVoice<P> {
    fn fingerprint(&self) -> String {
        format!(
            "{} voice={:?} speed={} url={}",
            P::NAME,
            self.voice,
            self.speed(),
            self.base_url()
        )
    }

    /// Speaks `text`, in several requests when it is over the vendor's
    /// limit, and joins the pieces.
    fn synthesize(&self, text: &str) -> Result<Pcm, SynthError> {
        let text = crate::text::nfc(text);
        let exchange = self.exchange()?;
        let mut joined: Option<Pcm> = None;
        for piece in split_for_limit(&text, self.max_chars()) {
            let bytes = P::speak(&exchange, piece)?;
            let pcm = decode_answer(&exchange.backend, &bytes, piece)?;
            match &mut joined {
                None => joined = Some(pcm),
                Some(all) if all.sample_rate_hz == pcm.sample_rate_hz => {
                    all.samples.extend(pcm.samples);
                }
                Some(all) => {
                    return Err(SynthError::BadAudio {
                        backend: exchange.backend.clone(),
                        reason: format!(
                            "pieces of one text came back at {} Hz and {} Hz",
                            all.sample_rate_hz, pcm.sample_rate_hz
                        ),
                    });
                }
            }
        }
        Ok(joined.unwrap_or_else(|| Pcm::new(22_050, Vec::new())))
    }

    /// Available when the key (and Vbee's application id) is in the
    /// environment; the service itself is not called, so a health check
    /// costs nothing.
    fn check(&self) -> Result<(), SynthError> {
        self.exchange().map(|_| ())
    }

    fn max_parallel(&self) -> usize {
        self.max_parallel
    }
}

/// Splits `text` into pieces of at most `max_chars` characters, at the
/// last sentence or breath-group mark (`. ! ? ; : , –`) that fits, else at
/// the last space, else inside a word. Joining the pieces with single
/// spaces gives `text` with its spaces at the cuts folded.
pub fn split_for_limit(text: &str, max_chars: usize) -> Vec<&str> {
    let max_chars = max_chars.max(1);
    let mut pieces = Vec::new();
    let mut rest = text.trim();
    while rest.chars().count() > max_chars {
        let limit = rest
            .char_indices()
            .nth(max_chars)
            .map_or(rest.len(), |(i, _)| i);
        let window = &rest[..limit];
        let at_mark = window
            .char_indices()
            .filter(|&(i, c)| {
                matches!(c, '.' | '!' | '?' | ';' | ':' | ',' | '–')
                    && window[i + c.len_utf8()..].starts_with(' ')
            })
            .map(|(i, c)| i + c.len_utf8())
            .next_back();
        let cut = at_mark
            .or_else(|| window.rfind(' ').filter(|&i| i > 0))
            .unwrap_or(limit);
        pieces.push(rest[..cut].trim_end());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() {
        pieces.push(rest);
    }
    pieces
}

/// Characters billed for `text` split at `max_chars` (NFC characters of
/// every request, spaces included).
pub fn billable_chars(text: &str, max_chars: usize) -> usize {
    let text = crate::text::nfc(text);
    split_for_limit(&text, max_chars)
        .iter()
        .map(|p| p.chars().count())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn long_text_splits_at_the_last_mark_that_fits() {
        let text = "Sáng nay, Hà Nội mưa nhẹ; chiều nắng. Gió đông bắc cấp ba.";
        assert_eq!(
            split_for_limit(text, 30),
            [
                "Sáng nay, Hà Nội mưa nhẹ;",
                "chiều nắng.",
                "Gió đông bắc cấp ba."
            ]
        );
        assert_eq!(split_for_limit("một hai ba", 5), ["một", "hai", "ba"]);
        assert_eq!(split_for_limit("abcdefgh", 3), ["abc", "def", "gh"]);
        assert_eq!(split_for_limit("ngắn", 100), ["ngắn"]);
        assert_eq!(billable_chars("Sáng nay, Hà Nội mưa.", 5000), 21);
    }

    proptest! {
        #[test]
        fn pieces_fit_and_keep_every_word(
            words in proptest::collection::vec("[a-zà-ỹ]{1,9}[,.;]?", 1..40),
            max in 5usize..60,
        ) {
            let text = words.join(" ");
            let pieces = split_for_limit(&text, max);
            for piece in &pieces {
                prop_assert!(piece.chars().count() <= max, "{piece:?} over {max}");
                prop_assert!(!piece.is_empty());
            }
            let squeeze = |s: &str| s.split_whitespace().collect::<String>();
            prop_assert_eq!(squeeze(&pieces.join(" ")), squeeze(&text));
        }
    }
}
