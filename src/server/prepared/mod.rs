//! Prepared scripts: the one place in the service where a stored revision
//! becomes its script ([`prepare_revision`]: revision → voice → normalizer
//! with the station lexicon → `pipeline::prepare_until`), the bounded cache
//! of the results, and the bounded pool on which requests prepare.
//!
//! Cache: keyed by (article, revision, lexicon version, voice); the least
//! recently used entries leave first once their estimated bytes pass
//! `limits.prepared_cache_bytes` (0 keeps none). An entry keeps each answer
//! made from it (the review, each script format) rendered once, with a
//! strong ETag: the SHA-256 of its bytes.
//!
//! Pool: a request's preparation runs on one of at most
//! `limits.prepare_workers` blocking threads; at most `limits.prepare_queue`
//! more wait for one, and the next is refused at once ([`ApiError::Busy`],
//! 503 with Retry-After). Requests for the same answer share one
//! preparation. When the last request waiting for it is gone (the client
//! went away, or the timeout answered 408 and dropped the handler), the
//! preparation stops before its next sentence and frees its worker.
//!
//! Renders ask through [`Preparer::prepare_blocking`] on their own threads
//! (they are bounded by the job runner), sharing the cache. Knows nothing of
//! HTTP beyond the error it returns and the ETag it computes.

use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;

use axum::body::Bytes;

use super::error::ApiError;
use crate::ingest::{Article, IngestError};
use crate::limits::LimitError;
use crate::pipeline::{self, PrepareError, Reading};
use crate::script::Script;
use crate::store::{Revision, Store, StoreError};

/// What a prepared script is cached under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub article: i64,
    pub revision: i64,
    pub lexicon_version: i64,
    pub voice: String,
}

/// A revision read and prepared for one voice.
#[derive(Debug)]
pub struct Prepared {
    pub revision: Revision,
    pub article: Article,
    pub script: Script,
    /// Answers rendered from it, by representation name.
    answers: Mutex<Vec<(&'static str, Answer)>>,
    /// Estimated bytes held (the script, the article, the answers).
    cost: AtomicUsize,
}

/// A response body rendered once and its strong ETag (quoted).
#[derive(Debug, Clone)]
pub struct Answer {
    pub body: Bytes,
    pub etag: String,
}

impl Answer {
    pub fn new(body: Vec<u8>) -> Answer {
        let hash = crate::store::sha256_hex(&body);
        Answer {
            etag: format!("\"{}\"", &hash[..32]),
            body: Bytes::from(body),
        }
    }

    /// True when `If-None-Match` names this answer (weak comparison, as
    /// RFC 9110 asks for this header; `*` matches any).
    pub fn matches(&self, if_none_match: Option<&str>) -> bool {
        if_none_match.is_some_and(|value| {
            value
                .split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == self.etag)
        })
    }
}

/// One kind of answer made from a prepared script: a name unique among
/// representations and how to render it.
#[derive(Clone, Copy)]
pub struct Representation {
    pub name: &'static str,
    pub encode: fn(&Prepared) -> Vec<u8>,
}

/// Why a revision could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// A revision stored before the article limits, beyond one of them.
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// The cancellation check answered true.
    #[error("the preparation was stopped: nobody waits for it any more")]
    Cancelled,
}

impl From<Failure> for ApiError {
    fn from(failure: Failure) -> ApiError {
        match failure {
            Failure::Store(e) => e.into(),
            Failure::Ingest(e) => e.into(),
            Failure::Limit(e) => e.into(),
            Failure::Cancelled => ApiError::Unavailable(failure.to_string()),
        }
    }
}

/// The chain from a stored revision to its script, for every part of the
/// service (requests, renders, bulletins): reads the revision's bytes and
/// prepares them as `reading` says, asking `cancelled` before each sentence.
///
/// # Errors
/// [`Failure::Store`] (unknown article or revision, SQL),
/// [`Failure::Ingest`], [`Failure::Cancelled`].
pub fn prepare_revision(
    store: &Store,
    article: i64,
    revision: Option<i64>,
    reading: &Reading,
    cancelled: &dyn Fn() -> bool,
) -> Result<Prepared, Failure> {
    let body = store.revision_body(article, revision)?;
    let (article, script) = pipeline::prepare_until(
        &body.body,
        body.revision.file_name.as_deref(),
        reading,
        cancelled,
    )
    .map_err(|e| match e {
        PrepareError::Ingest(e) => Failure::Ingest(e),
        PrepareError::Limit(e) => Failure::Limit(e),
        PrepareError::Cancelled => Failure::Cancelled,
    })?;
    let cost = estimated_bytes(&article, &script);
    Ok(Prepared {
        revision: body.revision,
        article,
        script,
        answers: Mutex::new(Vec::new()),
        cost: AtomicUsize::new(cost),
    })
}

/// A rough count of the heap bytes a prepared script holds: every string
/// and token, the article text twice (its text and its blocks).
fn estimated_bytes(article: &Article, script: &Script) -> usize {
    let token = std::mem::size_of::<crate::normalize::Token>();
    let cues: usize = script
        .cues
        .iter()
        .map(|cue| {
            std::mem::size_of_val(cue)
                + cue.text.len()
                + cue.spoken.len()
                + cue.parts.iter().map(|p| p.len() + 24).sum::<usize>()
                + cue
                    .tokens
                    .iter()
                    .map(|t| token + t.spoken.len())
                    .sum::<usize>()
                + cue
                    .warnings
                    .iter()
                    .map(|w| 96 + w.text.len() + w.message.len())
                    .sum::<usize>()
        })
        .sum();
    2 * article.text.len()
        + article
            .dropped
            .iter()
            .map(|d| 64 + d.text.len() + d.detail.len())
            .sum::<usize>()
        + cues
        + 1024
}

mod lru;
mod preparer;

pub use preparer::Preparer;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists_and_star() {
        let answer = Answer::new(b"{\"cues\":[]}".to_vec());
        assert!(answer.etag.starts_with('"') && answer.etag.len() == 34);
        let tag = answer.etag.clone();
        assert!(answer.matches(Some(&tag)));
        assert!(answer.matches(Some(&format!("W/{tag}"))));
        assert!(answer.matches(Some(&format!("\"other\", {tag}"))));
        assert!(answer.matches(Some("*")));
        assert!(!answer.matches(Some("\"other\"")));
        assert!(!answer.matches(None));
        assert_ne!(Answer::new(b"x".to_vec()).etag, tag);
    }
}
