//! Text-to-speech backends behind one trait: NFC text in, PCM out. The
//! embedded default is espeak-ng, run as a subprocess (its GPL-3 code stays a
//! separate program). Knows nothing of scripts or loudness: callers level
//! and place the audio.

mod espeak;
mod fake;
mod process;

use std::time::Duration;

pub use espeak::Espeak;
pub use fake::Fake;
pub use process::{ProcessError, run};

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

    /// Whether the backend can run on this machine (binary present, …).
    fn check(&self) -> Result<(), SynthError>;
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
}
