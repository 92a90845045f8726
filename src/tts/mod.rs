//! Text-to-speech backends behind one trait: NFC text in, PCM out. The
//! embedded default is espeak-ng, run as a subprocess (its GPL-3 code stays a
//! separate program); `command` runs any program that writes WAV (Piper's
//! CLI), `http` speaks to a TTS server (OpenAI-compatible or Piper's own),
//! `piper` keeps Piper's program running with the model loaded
//! (`resident.rs` keeps such programs alive),
//! and the Vietnamese cloud voices (FPT.AI, Viettel AI, Zalo AI, Vbee) each
//! speak their vendor's published protocol through `vendor.rs`.
//! Knows nothing of scripts, caching or loudness: callers level and place
//! the audio.

mod command;
mod espeak;
mod fake;
mod fpt;
mod http;
pub mod mp3;
mod piper;
mod process;
mod resident;
mod vbee;
mod vendor;
mod viettel;
mod zalo;

use std::time::Duration;

pub use command::CommandVoice;
pub use espeak::Espeak;
pub use fake::Fake;
pub use fpt::Fpt;
pub use http::{HttpKind, HttpVoice};
pub use piper::{Piper, PiperVoice};
pub use process::{Interrupt, ProcessError, remove_leftovers, run, temp_dir};
pub use vbee::Vbee;
pub use vendor::{
    Gender, Listing, Protocol, Region, VendorVoice, billable_chars, listings, split_for_limit,
};
pub use viettel::Viettel;
pub use zalo::Zalo;

use std::sync::Arc;

use crate::audio::Pcm;

/// A speech backend. Implementations must be safe to call from several
/// threads; those that are not (one global engine) serialize inside.
pub trait Synthesizer: Send + Sync {
    /// Identifies the backend and every parameter that changes its audio;
    /// part of the cache key of synthesized cues.
    fn fingerprint(&self) -> String;

    /// Speaks `text` (NFC, already normalized).
    ///
    /// # Errors
    /// [`SynthError`] naming what failed.
    fn synthesize(&self, text: &str) -> Result<Pcm, SynthError>;

    /// Speaks several texts, one result per text in order. Backends with a
    /// costly start (a program run per call) speak them in one go; the
    /// default speaks them one by one. An error may stand for the whole
    /// batch: callers speak the texts one by one to find the one at fault.
    /// Callers send at most [`Synthesizer::batch_size`] texts.
    ///
    /// # Errors
    /// [`SynthError`] naming what failed.
    fn synthesize_batch(&self, texts: &[&str]) -> Result<Vec<Pcm>, SynthError> {
        texts.iter().map(|t| self.synthesize(t)).collect()
    }

    /// Whether the backend can run on this machine (binary present, …).
    ///
    /// # Errors
    /// [`SynthError::Unavailable`] saying what is missing.
    fn check(&self) -> Result<(), SynthError>;

    /// How many texts one [`Synthesizer::synthesize_batch`] call should
    /// take: more than one only where a batch saves a costly start.
    fn batch_size(&self) -> usize {
        1
    }

    /// How many calls may run at once (a process per call is cheap for
    /// espeak-ng; a neural model per call is not).
    fn max_parallel(&self) -> usize {
        1
    }
}

/// Checks a backend's answer (WAV, or MP3 as cloud voices send it):
/// decodable, with samples when there was something to say, and finite. A
/// result that fails here never reaches the cache.
///
/// # Errors
/// [`SynthError::BadAudio`] naming the backend.
pub fn decode_answer(backend: &str, bytes: &[u8], text: &str) -> Result<Pcm, SynthError> {
    let bad = |reason: String| SynthError::BadAudio {
        backend: backend.to_string(),
        reason,
    };
    let pcm = if mp3::looks_like_mp3(bytes) {
        mp3::decode(bytes).map_err(bad)?
    } else {
        crate::audio::wav::decode(bytes).map_err(|e| bad(e.to_string()))?
    };
    if pcm.samples.is_empty() && !text.trim().is_empty() {
        return Err(bad("no samples".into()));
    }
    if pcm.samples.iter().any(|s| !s.is_finite()) {
        return Err(bad("samples that are not numbers".into()));
    }
    if !(8_000..=192_000).contains(&pcm.sample_rate_hz) {
        return Err(bad(format!("a sample rate of {} Hz", pcm.sample_rate_hz)));
    }
    Ok(pcm)
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("{backend} is not available: {reason}")]
    Unavailable { backend: String, reason: String },
    #[error("{backend} failed: {reason}")]
    Failed { backend: String, reason: String },
    #[error("{backend} did not answer within {timeout:?}")]
    Timeout { backend: String, timeout: Duration },
    #[error("{backend} returned audio that cannot be used: {reason}")]
    BadAudio { backend: String, reason: String },
    /// Stopped by an [`Interrupt`]: the work was cancelled, not at fault.
    #[error("{backend} was stopped: the render was cancelled")]
    Interrupted { backend: String },
}

/// A backend whose programs stop when `interrupt` does: every call runs
/// under it ([`Interrupt::enter`]) on whichever thread makes it, and none
/// starts once it has stopped.
pub struct Interruptible {
    inner: Arc<dyn Synthesizer>,
    interrupt: Arc<Interrupt>,
}

impl Interruptible {
    pub fn new(inner: Arc<dyn Synthesizer>, interrupt: Arc<Interrupt>) -> Interruptible {
        Interruptible { inner, interrupt }
    }

    fn guard<T>(&self, f: impl FnOnce() -> Result<T, SynthError>) -> Result<T, SynthError> {
        let stopped = || SynthError::Interrupted {
            backend: self.inner.fingerprint(),
        };
        if self.interrupt.is_stopped() {
            return Err(stopped());
        }
        let result = self.interrupt.enter(f);
        match result {
            Err(_) if self.interrupt.is_stopped() => Err(stopped()),
            result => result,
        }
    }
}

impl Synthesizer for Interruptible {
    fn fingerprint(&self) -> String {
        self.inner.fingerprint()
    }

    fn synthesize(&self, text: &str) -> Result<Pcm, SynthError> {
        self.guard(|| self.inner.synthesize(text))
    }

    fn synthesize_batch(&self, texts: &[&str]) -> Result<Vec<Pcm>, SynthError> {
        self.guard(|| self.inner.synthesize_batch(texts))
    }

    fn check(&self) -> Result<(), SynthError> {
        self.inner.check()
    }

    fn batch_size(&self) -> usize {
        self.inner.batch_size()
    }

    fn max_parallel(&self) -> usize {
        self.inner.max_parallel()
    }
}
