//! The preparer: the one object the service prepares revisions through.
//! It holds the normalizer of the current lexicon version, the cache of
//! prepared scripts ([`super::lru`]) and the bounded pool requests prepare
//! on, where requests for the same answer share one preparation and the
//! last one gone stops it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, Semaphore, watch};

use super::lru::Lru;
use super::{Answer, Failure, Key, Prepared, Representation, prepare_revision};
use crate::config;
use crate::limits::Limits;
use crate::normalize::{LexiconError, Normalizer};
use crate::pipeline::Reading;
use crate::server::error::ApiError;
use crate::server::metrics::PrepareGauges;
use crate::settings::AudioSettings;
use crate::store::{Store, StoreError};
use crate::voice::{Voice, Voices};

/// Seconds a refused client is asked to wait: a script takes about that long.
const RETRY_AFTER_SECONDS: u32 = 1;

/// The built-in tables parsed once, and the normalizer with the station
/// entries of the lexicon version it was built for.
struct Normalizers {
    builtin: Normalizer,
    current: Mutex<Option<(i64, Arc<Normalizer>)>>,
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
        let answer = Answer::new((representation.encode)(entry));
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
