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

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use tokio::sync::{Notify, Semaphore, watch};

use super::error::ApiError;
use super::metrics::PrepareGauges;
use crate::config;
use crate::ingest::{Article, IngestError};
use crate::limits::{LimitError, Limits};
use crate::normalize::{LexiconError, Normalizer};
use crate::pipeline::{self, AudioSettings, PrepareError, Reading};
use crate::script::Script;
use crate::store::{Revision, Store, StoreError};
use crate::voice::{Voice, Voices};

/// Seconds a refused client is asked to wait: a script takes about that long.
const RETRY_AFTER_SECONDS: u32 = 1;

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
    fn new(body: Vec<u8>) -> Answer {
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
    pub render: fn(&Prepared) -> Vec<u8>,
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

/// The built-in tables parsed once, and the normalizer with the station
/// entries of the lexicon version it was built for.
struct Normalizers {
    builtin: Normalizer,
    current: Mutex<Option<(i64, Arc<Normalizer>)>>,
}

/// Least recently used first out, by estimated bytes.
#[derive(Default)]
struct Lru {
    entries: HashMap<Key, (Arc<Prepared>, u64)>,
    /// Use tick → key, oldest first.
    order: BTreeMap<u64, Key>,
    tick: u64,
    bytes: usize,
}

impl Lru {
    fn get(&mut self, key: &Key) -> Option<Arc<Prepared>> {
        self.tick += 1;
        let tick = self.tick;
        let (entry, used) = self.entries.get_mut(key)?;
        self.order.remove(used);
        *used = tick;
        self.order.insert(tick, key.clone());
        Some(Arc::clone(entry))
    }

    fn insert(&mut self, key: Key, entry: Arc<Prepared>, capacity: usize) {
        let cost = entry.cost.load(Ordering::Relaxed);
        if cost > capacity {
            return;
        }
        self.tick += 1;
        if let Some((old, used)) = self.entries.insert(key.clone(), (entry, self.tick)) {
            self.order.remove(&used);
            self.bytes -= old.cost.load(Ordering::Relaxed);
        }
        self.order.insert(self.tick, key);
        self.bytes += cost;
        self.evict(capacity);
    }

    /// Counts `bytes` more for `entry` when it is the one cached under `key`.
    fn charge(&mut self, key: &Key, entry: &Arc<Prepared>, bytes: usize, capacity: usize) {
        entry.cost.fetch_add(bytes, Ordering::Relaxed);
        if self
            .entries
            .get(key)
            .is_some_and(|(cached, _)| Arc::ptr_eq(cached, entry))
        {
            self.bytes += bytes;
            self.evict(capacity);
        }
    }

    fn evict(&mut self, capacity: usize) {
        while self.bytes > capacity {
            let Some((_, key)) = self.order.pop_first() else {
                break;
            };
            if let Some((entry, _)) = self.entries.remove(&key) {
                self.bytes -= entry.cost.load(Ordering::Relaxed);
            }
        }
    }
}

/// One answer being prepared for the requests waiting on it.
struct InFlight {
    /// Requests waiting; changed only under the `in_flight` lock.
    waiters: AtomicUsize,
    cancel: AtomicBool,
    /// Wakes a preparation still queued for a worker when it is cancelled.
    cancelled: Notify,
    result: watch::Sender<Option<Result<Answer, ApiError>>>,
}

type FlightKey = (Key, &'static str);

/// Prepares revisions for the service: the cache, the normalizer of the
/// current lexicon version and the pool. Shared by every handler.
pub struct Preparer {
    store: Store,
    voices: Arc<Voices>,
    default_voice: String,
    settings: AudioSettings,
    /// What an article may hold, checked again when a revision is read.
    article_limits: Limits,
    normalizers: Normalizers,
    cache: Mutex<Lru>,
    capacity_bytes: usize,
    in_flight: Mutex<HashMap<FlightKey, Arc<InFlight>>>,
    workers: Arc<Semaphore>,
    /// Preparations admitted and not finished (waiting or running).
    admitted: AtomicUsize,
    admit_limit: usize,
    gauges: Arc<PrepareGauges>,
}

/// Decrements a gauge when dropped (also when the work panics).
struct Held<'a>(&'a std::sync::atomic::AtomicU64);

impl<'a> Held<'a> {
    fn new(gauge: &'a std::sync::atomic::AtomicU64) -> Held<'a> {
        gauge.fetch_add(1, Ordering::Relaxed);
        Held(gauge)
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Preparer {
    /// # Errors
    /// A shipped lexicon that fails validation (a unit test guards it).
    pub fn new(
        store: Store,
        voices: Arc<Voices>,
        default_voice: String,
        settings: AudioSettings,
        limits: &config::RequestLimits,
        gauges: Arc<PrepareGauges>,
    ) -> Result<Preparer, LexiconError> {
        let workers = limits.prepare_workers.max(1);
        Ok(Preparer {
            store,
            voices,
            default_voice,
            settings,
            article_limits: limits.article,
            normalizers: Normalizers {
                builtin: Normalizer::builtin()?,
                current: Mutex::new(None),
            },
            cache: Mutex::new(Lru::default()),
            capacity_bytes: limits.prepared_cache_bytes,
            in_flight: Mutex::new(HashMap::new()),
            workers: Arc::new(Semaphore::new(workers)),
            admitted: AtomicUsize::new(0),
            admit_limit: workers + limits.prepare_queue,
            gauges,
        })
    }

    /// The normalizer with the station lexicon as it is now and the lexicon
    /// version it holds: rebuilt when the version changed (also when another
    /// process changed it).
    ///
    /// # Errors
    /// Store errors.
    pub fn normalizer(&self) -> Result<(i64, Arc<Normalizer>), StoreError> {
        let version = self.store.lexicon_version()?;
        let current = &self.normalizers.current;
        if let Some((v, n)) = &*current.lock().expect("never poisoned")
            && *v == version
        {
            return Ok((version, Arc::clone(n)));
        }
        let station = self.store.station_lexicon()?;
        let built = Arc::new(self.normalizers.builtin.clone().with_station(&station));
        *current.lock().expect("never poisoned") = Some((version, Arc::clone(&built)));
        Ok((version, built))
    }

    /// A voice by name, or the station default.
    ///
    /// # Errors
    /// [`ApiError::Unprocessable`] for an unknown voice.
    pub fn voice(&self, name: Option<&str>) -> Result<&Voice, ApiError> {
        Ok(self.voices.get(name.unwrap_or(&self.default_voice))?)
    }

    /// The cache key of a request: the revision asked for (the latest when
    /// `None`), the current lexicon version, the voice (the default when `None`).
    ///
    /// # Errors
    /// 404 for an unknown article or revision, 422 for an unknown voice.
    pub fn key(
        &self,
        article: i64,
        revision: Option<i64>,
        voice: Option<&str>,
    ) -> Result<Key, ApiError> {
        let voice = self.voice(voice)?.name.clone();
        let revision = self.store.revision_number(article, revision)?;
        let lexicon_version = self.store.lexicon_version()?;
        Ok(Key {
            article,
            revision,
            lexicon_version,
            voice,
        })
    }

    fn cached(&self, key: &Key) -> Option<Arc<Prepared>> {
        let found = self.cache.lock().expect("never poisoned").get(key);
        let counter = if found.is_some() {
            &self.gauges.hits
        } else {
            &self.gauges.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    fn remember(&self, key: Key, entry: &Arc<Prepared>) {
        let mut cache = self.cache.lock().expect("never poisoned");
        cache.insert(key, Arc::clone(entry), self.capacity_bytes);
        self.update_cache_gauges(&cache);
    }

    fn update_cache_gauges(&self, cache: &Lru) {
        self.gauges
            .cache_bytes
            .store(cache.bytes as u64, Ordering::Relaxed);
        self.gauges
            .cache_entries
            .store(cache.entries.len() as u64, Ordering::Relaxed);
    }

    /// Prepares `key` (never from the cache), the voice and normalizer of
    /// the key, stopping when `cancelled` says so; the normalizer may hold a
    /// newer lexicon than the key, then the returned key says so.
    fn prepare_key(
        &self,
        key: &Key,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<(Key, Arc<Prepared>), ApiError> {
        let voice = self.voice(Some(&key.voice))?;
        let (lexicon_version, normalizer) = self.normalizer()?;
        let prepared = prepare_revision(
            &self.store,
            key.article,
            Some(key.revision),
            &Reading {
                normalizer: &normalizer,
                voice,
                settings: &self.settings,
                limits: &self.article_limits,
            },
            cancelled,
        )
        .inspect_err(|e| {
            if matches!(e, Failure::Cancelled) {
                self.gauges.cancelled.fetch_add(1, Ordering::Relaxed);
            }
        })?;
        let key = Key {
            lexicon_version,
            ..key.clone()
        };
        let prepared = Arc::new(prepared);
        self.remember(key.clone(), &prepared);
        Ok((key, prepared))
    }

    /// A revision's prepared script, from the cache or prepared on the
    /// calling thread (renders and bulletin estimates: blocking, never
    /// cancelled, not counted against the request pool).
    ///
    /// # Errors
    /// 404 for an unknown article or revision, 422 for an unknown voice or
    /// an unreadable article, store errors.
    pub fn prepare_blocking(
        &self,
        article: i64,
        revision: Option<i64>,
        voice: Option<&str>,
    ) -> Result<Arc<Prepared>, ApiError> {
        let key = self.key(article, revision, voice)?;
        if let Some(found) = self.cached(&key) {
            return Ok(found);
        }
        Ok(self.prepare_key(&key, &|| false)?.1)
    }

    /// The answer `representation` of `entry`, rendered now when it is not
    /// yet (blocking).
    fn answer_of(
        &self,
        key: &Key,
        entry: &Arc<Prepared>,
        representation: Representation,
    ) -> Answer {
        let mut answers = entry.answers.lock().expect("never poisoned");
        if let Some((_, answer)) = answers.iter().find(|(n, _)| *n == representation.name) {
            return answer.clone();
        }
        let answer = Answer::new((representation.render)(entry));
        answers.push((representation.name, answer.clone()));
        drop(answers);
        let mut cache = self.cache.lock().expect("never poisoned");
        cache.charge(key, entry, answer.body.len(), self.capacity_bytes);
        self.update_cache_gauges(&cache);
        answer
    }

    /// The answer `representation` for a request: from the cache when it is
    /// there, otherwise prepared on the pool (shared with other requests
    /// for the same answer). Dropping the returned future gives up this
    /// request's interest; the last one gone stops the preparation.
    ///
    /// # Errors
    /// [`ApiError::Busy`] when the pool and its queue are full; as
    /// [`Preparer::prepare_blocking`].
    pub async fn answer(
        self: &Arc<Self>,
        article: i64,
        revision: Option<i64>,
        voice: Option<String>,
        representation: Representation,
    ) -> Result<(Key, Answer), ApiError> {
        let this = Arc::clone(self);
        let (key, hit) = tokio::task::spawn_blocking(move || {
            let key = this.key(article, revision, voice.as_deref())?;
            let hit = this
                .cached(&key)
                .map(|entry| this.answer_of(&key, &entry, representation));
            Ok::<_, ApiError>((key, hit))
        })
        .await
        .map_err(|e| ApiError::Internal(format!("task failed: {e}")))??;
        if let Some(answer) = hit {
            return Ok((key, answer));
        }
        let waiter = self.join_or_start(&key, representation)?;
        let answer = waiter.wait().await?;
        Ok((key, answer))
    }

    /// Waits on the preparation of (key, representation), starting it when
    /// none runs.
    fn join_or_start(
        self: &Arc<Self>,
        key: &Key,
        representation: Representation,
    ) -> Result<Waiter, ApiError> {
        let flight_key = (key.clone(), representation.name);
        let mut in_flight = self.in_flight.lock().expect("never poisoned");
        if let Some(flight) = in_flight.get(&flight_key) {
            flight.waiters.fetch_add(1, Ordering::Relaxed);
            return Ok(Waiter {
                preparer: Arc::clone(self),
                key: flight_key,
                result: flight.result.subscribe(),
                flight: Arc::clone(flight),
            });
        }
        if self.admitted.load(Ordering::Relaxed) >= self.admit_limit {
            self.gauges.rejected.fetch_add(1, Ordering::Relaxed);
            return Err(ApiError::Busy {
                detail: "the server is busy preparing other scripts; try again in a moment".into(),
                retry_after: RETRY_AFTER_SECONDS,
            });
        }
        self.admitted.fetch_add(1, Ordering::Relaxed);
        let flight = Arc::new(InFlight {
            waiters: AtomicUsize::new(1),
            cancel: AtomicBool::new(false),
            cancelled: Notify::new(),
            result: watch::channel(None).0,
        });
        in_flight.insert(flight_key.clone(), Arc::clone(&flight));
        let waiter = Waiter {
            preparer: Arc::clone(self),
            key: flight_key.clone(),
            result: flight.result.subscribe(),
            flight: Arc::clone(&flight),
        };
        tokio::spawn(Arc::clone(self).run(flight_key, representation, flight));
        Ok(waiter)
    }

    /// Runs one admitted preparation: waits for a worker (unless cancelled
    /// first), prepares on it, hands the answer to whoever still waits.
    async fn run(
        self: Arc<Self>,
        flight_key: FlightKey,
        representation: Representation,
        flight: Arc<InFlight>,
    ) {
        let queued = Held::new(&self.gauges.queued);
        let permit = tokio::select! {
            permit = Arc::clone(&self.workers).acquire_owned() => permit.ok(),
            () = flight.cancelled.notified() => None,
        };
        drop(queued);
        let result = match permit {
            Some(permit) if !flight.cancel.load(Ordering::Relaxed) => {
                let this = Arc::clone(&self);
                let key = flight_key.0.clone();
                let flight = Arc::clone(&flight);
                tokio::task::spawn_blocking(move || {
                    let _permit = permit;
                    let _busy = Held::new(&this.gauges.busy);
                    let cancelled = || flight.cancel.load(Ordering::Relaxed);
                    let (key, entry) = match this.cached(&key) {
                        Some(entry) => (key, entry),
                        None => this.prepare_key(&key, &cancelled)?,
                    };
                    if cancelled() {
                        this.gauges.cancelled.fetch_add(1, Ordering::Relaxed);
                        return Err(Failure::Cancelled.into());
                    }
                    Ok(this.answer_of(&key, &entry, representation))
                })
                .await
                .unwrap_or_else(|e| Err(ApiError::Internal(format!("task failed: {e}"))))
            }
            _ => {
                self.gauges.cancelled.fetch_add(1, Ordering::Relaxed);
                Err(Failure::Cancelled.into())
            }
        };
        self.admitted.fetch_sub(1, Ordering::Relaxed);
        let mut in_flight = self.in_flight.lock().expect("never poisoned");
        if in_flight
            .get(&flight_key)
            .is_some_and(|f| Arc::ptr_eq(f, &flight))
        {
            in_flight.remove(&flight_key);
        }
        flight.result.send_replace(Some(result));
    }
}

/// A request's interest in a preparation.
struct Waiter {
    preparer: Arc<Preparer>,
    key: FlightKey,
    flight: Arc<InFlight>,
    result: watch::Receiver<Option<Result<Answer, ApiError>>>,
}

impl Waiter {
    async fn wait(mut self) -> Result<Answer, ApiError> {
        let result =
            self.result.wait_for(Option::is_some).await.map_err(|_| {
                ApiError::Internal("the preparation ended without an answer".into())
            })?;
        result
            .clone()
            .expect("wait_for returned only once the result is there")
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        let mut in_flight = self.preparer.in_flight.lock().expect("never poisoned");
        if self.flight.waiters.fetch_sub(1, Ordering::Relaxed) == 1
            && self.flight.result.borrow().is_none()
        {
            // The last request is gone before the answer: stop the work, and
            // let the next request for it start afresh.
            self.flight.cancel.store(true, Ordering::Relaxed);
            self.flight.cancelled.notify_one();
            if in_flight
                .get(&self.key)
                .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
            {
                in_flight.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(cost: usize) -> Arc<Prepared> {
        let article = crate::ingest::read(b"Tin.\n\nMot cau.", None).unwrap();
        let script = Script {
            title: String::new(),
            published: None,
            voice: "vi".into(),
            measured: false,
            cues: Vec::new(),
            total: std::time::Duration::ZERO,
        };
        Arc::new(Prepared {
            revision: Revision {
                article_id: 1,
                revision: 1,
                title: String::new(),
                file_name: None,
                content_type: "text/plain".into(),
                bytes: 0,
                body_sha256: String::new(),
                author: "t".into(),
                created_at: String::new(),
            },
            article,
            script,
            answers: Mutex::new(Vec::new()),
            cost: AtomicUsize::new(cost),
        })
    }

    fn key(article: i64) -> Key {
        Key {
            article,
            revision: 1,
            lexicon_version: 0,
            voice: "vi".into(),
        }
    }

    #[test]
    fn the_least_recently_used_leave_first_by_bytes() {
        let mut lru = Lru::default();
        lru.insert(key(1), entry(40), 100);
        lru.insert(key(2), entry(40), 100);
        assert!(lru.get(&key(1)).is_some());
        lru.insert(key(3), entry(40), 100);
        assert!(lru.get(&key(2)).is_none(), "2 was used least recently");
        assert!(lru.get(&key(1)).is_some() && lru.get(&key(3)).is_some());
        assert_eq!(lru.bytes, 80);
        // An answer rendered later counts too and can push others out.
        let three = lru.get(&key(3)).unwrap();
        lru.charge(&key(3), &three, 30, 100);
        assert!(lru.get(&key(1)).is_none());
        assert_eq!(lru.bytes, 70);
        // Larger than the whole cache: never kept, nothing evicted for it.
        lru.insert(key(4), entry(101), 100);
        assert!(lru.get(&key(4)).is_none());
        assert_eq!(lru.entries.len(), 1);
        // A capacity of 0 keeps nothing.
        let mut off = Lru::default();
        off.insert(key(1), entry(1), 0);
        assert!(off.entries.is_empty() && off.bytes == 0);
    }

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
