//! When bulletins are built: each slot's cron schedule in the station's time
//! zone, catching up runs missed while the process was down, and exactly one
//! result per (date, slot).
//!
//! Storage and the building itself are behind two traits: [`RunLog`] records
//! every run and answers whether a (date, slot) already has a result for the
//! current items ([`MemoryRunLog`] here; the service's SQLite store implements
//! it too), and [`Job`] reads the approved items and builds. The scheduler
//! runs on tokio and measures time with `tokio::time` through a [`Clock`], so
//! tests drive it with `tokio::time::pause()`.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use croner::errors::CronError;
use croner::{CivilDate, CivilDateTime, CivilTime, Cron, CronDateTime, Resolution};
use jiff::civil::Date;
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp, ZonedDateTime};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::config::{BulletinConfig, Retry};

/// One bulletin: a date (in the station's time zone) and a slot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunKey {
    pub date: Date,
    pub slot: String,
}

impl std::fmt::Display for RunKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.date, self.slot)
    }
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The slot's time came.
    Schedule,
    /// Missed while the process was down, run at start.
    CatchUp,
    /// Asked for (API "build now", CLI).
    Manual,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Built and delivered; `summary` says where (the job decides).
    Built {
        summary: String,
    },
    /// An earlier result for the same items stands.
    Reused,
    Failed {
        reason: String,
    },
}

/// One recorded attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub key: RunKey,
    pub trigger: Trigger,
    /// 1-based attempt of this trigger.
    pub attempt: u32,
    /// The items the run saw (see [`items_fingerprint`]); empty when they
    /// could not be read.
    pub fingerprint: String,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub outcome: Outcome,
}

impl RunRecord {
    pub fn succeeded(&self) -> bool {
        !matches!(self.outcome, Outcome::Failed { .. })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("run log: {0}")]
pub struct RunLogError(pub String);

/// Where runs are recorded. Implementations must be cheap to call from async
/// code (the SQLite one does short queries).
pub trait RunLog: Send + Sync + 'static {
    /// Claims the scheduled run of `key` for `owner` among every process
    /// sharing this log: false when another has it (or finished it). A log
    /// only one process writes claims every run.
    ///
    /// # Errors
    /// [`RunLogError`] when the log cannot be read.
    fn claim_scheduled(&self, _key: &RunKey, _owner: &str) -> Result<bool, RunLogError> {
        Ok(true)
    }

    /// Records that `owner` is done with the scheduled run of `key`: with
    /// a result (`succeeded`) no process runs it again; after a failure the
    /// claim is let go, so a later catch-up may try again.
    ///
    /// # Errors
    /// [`RunLogError`] when the log cannot be written.
    fn finish_scheduled(
        &self,
        _key: &RunKey,
        _owner: &str,
        _succeeded: bool,
    ) -> Result<(), RunLogError> {
        Ok(())
    }

    /// # Errors
    /// [`RunLogError`] when the record cannot be stored.
    fn record_run(&self, record: &RunRecord) -> Result<(), RunLogError>;

    /// The latest successful run (built or reused) of `key`.
    ///
    /// # Errors
    /// [`RunLogError`] when the log cannot be read.
    fn last_success(&self, key: &RunKey) -> Result<Option<RunRecord>, RunLogError>;

    /// Whether `key` already has a result for exactly these items.
    ///
    /// # Errors
    /// [`RunLogError`] when the log cannot be read.
    fn has_result(&self, key: &RunKey, fingerprint: &str) -> Result<bool, RunLogError> {
        Ok(self
            .last_success(key)?
            .is_some_and(|r| r.fingerprint == fingerprint))
    }
}

/// A run log in memory (tests, and the CLI until the store is wired in).
#[derive(Debug, Default)]
pub struct MemoryRunLog {
    records: Mutex<Vec<RunRecord>>,
}

impl MemoryRunLog {
    /// Every record, in the order written.
    pub fn records(&self) -> Vec<RunRecord> {
        self.records
            .lock()
            .expect("no panics under the lock")
            .clone()
    }
}

impl RunLog for MemoryRunLog {
    fn record_run(&self, record: &RunRecord) -> Result<(), RunLogError> {
        self.records
            .lock()
            .expect("no panics under the lock")
            .push(record.clone());
        Ok(())
    }

    fn last_success(&self, key: &RunKey) -> Result<Option<RunRecord>, RunLogError> {
        Ok(self
            .records
            .lock()
            .expect("no panics under the lock")
            .iter()
            .rev()
            .find(|r| &r.key == key && r.succeeded())
            .cloned())
    }
}

/// A finished build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// The items it was built from.
    pub fingerprint: String,
    pub summary: String,
}

/// Reads the items approved for a (date, slot) and builds the bulletin.
pub trait Job: Send + Sync + 'static {
    /// The fingerprint of the items approved now (ids and revisions, in order).
    fn fingerprint(&self, key: &RunKey) -> impl Future<Output = Result<String, String>> + Send;

    /// Builds and delivers; an error is the reason, in words, that is recorded.
    fn build(&self, key: &RunKey) -> impl Future<Output = Result<Built, String>> + Send;
}

/// Identifies a list of (id, revision) pairs in order.
pub fn items_fingerprint(items: &[(&str, &str)]) -> String {
    let mut hash = Sha256::new();
    for (id, revision) in items {
        hash.update(id.as_bytes());
        hash.update([0]);
        hash.update(revision.as_bytes());
        hash.update([b'\n']);
    }
    hex::encode(&hash.finalize()[..16])
}

/// The current time, as the scheduler sees it.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that starts at `origin` and follows tokio's time, which tests
/// pause and advance.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    origin: Timestamp,
    started: tokio::time::Instant,
}

impl TokioClock {
    pub fn starting_at(origin: Timestamp) -> Self {
        Self {
            origin,
            started: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Timestamp {
        let elapsed =
            SignedDuration::try_from(self.started.elapsed()).unwrap_or(SignedDuration::MAX);
        self.origin.checked_add(elapsed).unwrap_or(Timestamp::MAX)
    }
}

/// One slot's schedule.
#[derive(Debug, Clone)]
pub struct SlotSchedule {
    pub slot: String,
    pub cron: Cron,
}

/// Longest single sleep: wakes up now and then so a changed wall clock
/// (NTP, suspend) is noticed.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// The bulletin scheduler.
pub struct Scheduler<J, L> {
    slots: Vec<SlotSchedule>,
    time_zone: TimeZone,
    catch_up: Duration,
    retry: Retry,
    job: J,
    log: L,
    clock: Arc<dyn Clock>,
    /// This process among those sharing the run log (claims of scheduled runs).
    owner: String,
    /// One lock per (date, slot): a second trigger waits for the first and
    /// then finds its result (single flight).
    running: Mutex<HashMap<RunKey, Arc<tokio::sync::Mutex<()>>>>,
}

impl<J: Job, L: RunLog> Scheduler<J, L> {
    pub fn new(config: &BulletinConfig, job: J, log: L, clock: Arc<dyn Clock>) -> Self {
        Self {
            slots: config
                .slots
                .iter()
                .map(|s| SlotSchedule {
                    slot: s.name.clone(),
                    cron: s.schedule.clone(),
                })
                .collect(),
            time_zone: config.time_zone.clone(),
            catch_up: config.catch_up,
            retry: config.retry,
            job,
            log,
            clock,
            owner: format!(
                "scheduler-{}-{}",
                std::process::id(),
                Timestamp::now().as_millisecond()
            ),
            running: Mutex::new(HashMap::new()),
        }
    }

    pub fn log(&self) -> &L {
        &self.log
    }

    pub fn job(&self) -> &J {
        &self.job
    }

    /// The bulletin date of an instant: its date in the station's time zone.
    pub fn local_date(&self, at: Timestamp) -> Date {
        at.to_zoned_datetime(self.time_zone.clone()).date()
    }

    /// The first time after `after` (exclusive) that `slot` fires.
    pub fn next_fire(&self, slot: &SlotSchedule, after: Timestamp) -> Option<Timestamp> {
        let local = Local(after.to_zoned_datetime(self.time_zone.clone()));
        slot.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|l| l.0.timestamp())
    }

    /// Scheduled runs in the catch-up window before `now` (inclusive) that
    /// have no successful run recorded, oldest first.
    ///
    /// # Errors
    /// [`RunLogError`] when the log cannot be read.
    pub fn missed(&self, now: Timestamp) -> Result<Vec<(RunKey, Timestamp)>, RunLogError> {
        let window = SignedDuration::try_from(self.catch_up).unwrap_or(SignedDuration::MAX);
        let from = now.checked_sub(window).unwrap_or(Timestamp::MIN);
        let mut missed = Vec::new();
        for slot in &self.slots {
            let mut at = from;
            while let Some(fire) = self.next_fire(slot, at).filter(|f| *f <= now) {
                let key = RunKey {
                    date: self.local_date(fire),
                    slot: slot.slot.clone(),
                };
                if self.log.last_success(&key)?.is_none() {
                    missed.push((key, fire));
                }
                at = fire;
            }
        }
        missed.sort_by_key(|m| m.1);
        Ok(missed)
    }

    /// Runs `key` once: waits for a run of the same key already in progress,
    /// reuses the result when the items have not changed, otherwise builds,
    /// retrying failures of scheduled runs with doubling backoff (a manual
    /// run is tried once). Every attempt is recorded.
    /// Returns the final record.
    pub async fn trigger(&self, key: RunKey, trigger: Trigger) -> RunRecord {
        let lock = {
            let mut running = self.running.lock().expect("no panics under the lock");
            Arc::clone(running.entry(key.clone()).or_default())
        };
        let record = {
            let _guard = lock.lock().await;
            self.run_locked(&key, trigger).await
        };
        let mut running = self.running.lock().expect("no panics under the lock");
        // Only the map and this call hold it: nobody waits, forget the key.
        if Arc::strong_count(&lock) == 2 {
            running.remove(&key);
        }
        record
    }

    /// A scheduled or catch-up run of `key`, when this process claims it
    /// among every process sharing the log ([`RunLog::claim_scheduled`]);
    /// `None` when another has it.
    async fn trigger_claimed(&self, key: RunKey, trigger: Trigger) -> Option<RunRecord> {
        match self.log.claim_scheduled(&key, &self.owner) {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!(bulletin = %key, ?trigger, "another node runs this bulletin");
                return None;
            }
            Err(e) => {
                tracing::error!(bulletin = %key, "cannot claim the bulletin's run: {e}");
                return None;
            }
        }
        let record = self.trigger(key.clone(), trigger).await;
        if let Err(e) = self
            .log
            .finish_scheduled(&key, &self.owner, record.succeeded())
        {
            tracing::error!(bulletin = %key, "cannot record the end of the bulletin's run: {e}");
        }
        Some(record)
    }

    async fn run_locked(&self, key: &RunKey, trigger: Trigger) -> RunRecord {
        let mut attempt = 1;
        loop {
            let started_at = self.clock.now();
            let (fingerprint, outcome) = self.attempt(key).await;
            let record = RunRecord {
                key: key.clone(),
                trigger,
                attempt,
                fingerprint,
                started_at,
                finished_at: self.clock.now(),
                outcome,
            };
            match &record.outcome {
                Outcome::Built { summary } => {
                    tracing::info!(bulletin = %key, ?trigger, attempt, "built: {summary}");
                }
                Outcome::Reused => {
                    tracing::info!(bulletin = %key, ?trigger, "items unchanged; result reused")
                }
                Outcome::Failed { reason } => {
                    tracing::warn!(bulletin = %key, ?trigger, attempt, "failed: {reason}");
                }
            }
            if let Err(e) = self.log.record_run(&record) {
                tracing::error!(bulletin = %key, "cannot record the run: {e}");
            }
            // A manual run answers someone waiting for it: the failure is
            // theirs to see at once, not after minutes of backoff.
            if record.succeeded() || attempt >= self.retry.attempts || trigger == Trigger::Manual {
                return record;
            }
            let backoff = self
                .retry
                .backoff
                .saturating_mul(1 << (attempt - 1).min(16));
            tokio::time::sleep(backoff).await;
            attempt += 1;
        }
    }

    async fn attempt(&self, key: &RunKey) -> (String, Outcome) {
        let current = match self.job.fingerprint(key).await {
            Ok(f) => f,
            Err(reason) => return (String::new(), Outcome::Failed { reason }),
        };
        match self.log.has_result(key, &current) {
            Ok(true) => return (current, Outcome::Reused),
            Ok(false) => {}
            Err(e) => {
                return (
                    current,
                    Outcome::Failed {
                        reason: e.to_string(),
                    },
                );
            }
        }
        match self.job.build(key).await {
            Ok(built) => (
                built.fingerprint,
                Outcome::Built {
                    summary: built.summary,
                },
            ),
            Err(reason) => (current, Outcome::Failed { reason }),
        }
    }

    /// Runs until `shutdown` resolves: first catches up missed runs, then
    /// fires each slot at its time. Runs go in their own tasks, so a slow
    /// build does not delay another slot; at shutdown, runs in flight are
    /// dropped (the next start catches them up: they have no result).
    pub async fn run(self: Arc<Self>, shutdown: impl Future<Output = ()>) {
        let mut tasks = tokio::task::JoinSet::new();
        let now = self.clock.now();
        match self.missed(now) {
            Ok(missed) => {
                for (key, _) in missed {
                    let this = Arc::clone(&self);
                    tasks.spawn(async move { this.trigger_claimed(key, Trigger::CatchUp).await });
                }
            }
            Err(e) => tracing::error!("cannot look for missed bulletins: {e}"),
        }
        let mut next: Vec<Option<Timestamp>> =
            self.slots.iter().map(|s| self.next_fire(s, now)).collect();
        tokio::pin!(shutdown);
        while let Some((index, at)) = next
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.map(|t| (i, t)))
            .min_by_key(|(_, t)| *t)
        {
            let wait =
                Duration::try_from(at.duration_since(self.clock.now())).unwrap_or(Duration::ZERO);
            tokio::select! {
                () = tokio::time::sleep(wait.min(MAX_SLEEP)) => {}
                () = &mut shutdown => break,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            }
            if self.clock.now() < at {
                continue;
            }
            let slot = &self.slots[index];
            let key = RunKey {
                date: self.local_date(at),
                slot: slot.slot.clone(),
            };
            let this = Arc::clone(&self);
            tasks.spawn(async move { this.trigger_claimed(key, Trigger::Schedule).await });
            // Normally the next occurrence after this one; after a long
            // stall (suspend, clock jump) skip occurrences older than the
            // catch-up window instead of firing each of them in a burst.
            let window = SignedDuration::try_from(self.catch_up).unwrap_or(SignedDuration::MAX);
            let oldest = self
                .clock
                .now()
                .checked_sub(window)
                .unwrap_or(Timestamp::MIN);
            next[index] = self.next_fire(slot, at.max(oldest));
        }
        tasks.abort_all();
    }
}

/// A station-local time croner can search over (croner's own jiff support
/// is for an older jiff).
#[derive(Debug, Clone)]
struct Local(ZonedDateTime);

fn to_civil(dt: jiff::civil::DateTime) -> CivilDateTime {
    CivilDateTime::new(
        CivilDate::from_parts_unchecked(i32::from(dt.year()), dt.month() as u32, dt.day() as u32),
        CivilTime::from_parts_unchecked(dt.hour() as u32, dt.minute() as u32, dt.second() as u32),
    )
}

impl CronDateTime for Local {
    fn to_civil(&self) -> CivilDateTime {
        to_civil(self.0.datetime())
    }

    fn civil_weekday(&self) -> croner::Weekday {
        croner::Weekday::from_days_from_sunday(self.0.weekday().to_sunday_zero_offset() as u32)
    }

    fn resolve_civil(&self, civil: CivilDateTime) -> Result<Resolution<Self>, CronError> {
        let year = i16::try_from(civil.year()).map_err(|_| CronError::InvalidDate)?;
        let dt = jiff::civil::DateTime::new(
            year,
            civil.month() as i8,
            civil.day() as i8,
            civil.hour() as i8,
            civil.minute() as i8,
            civil.second() as i8,
            0,
        )
        .map_err(|_| CronError::InvalidDate)?;
        let ambiguous = self.0.time_zone().to_ambiguous_zoned_datetime(dt);
        Ok(match ambiguous.offset() {
            AmbiguousOffset::Unambiguous { .. } => Resolution::Single(Local(
                ambiguous
                    .unambiguous()
                    .map_err(|_| CronError::InvalidTime)?,
            )),
            AmbiguousOffset::Fold { .. } => {
                let earlier = ambiguous
                    .clone()
                    .earlier()
                    .map_err(|_| CronError::InvalidTime)?;
                let later = ambiguous.later().map_err(|_| CronError::InvalidTime)?;
                Resolution::Ambiguous(Local(earlier), Local(later))
            }
            AmbiguousOffset::Gap { .. } => Resolution::Gap,
        })
    }

    fn checked_add_seconds(&self, seconds: i64) -> Option<Self> {
        self.0
            .checked_add(SignedDuration::from_secs(seconds))
            .ok()
            .map(Local)
    }

    fn cmp_instant(&self, other: &Self) -> Ordering {
        self.0.timestamp().cmp(&other.0.timestamp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_follow_ids_revisions_and_order() {
        let a = items_fingerprint(&[("1", "1"), ("2", "1")]);
        assert_eq!(a, items_fingerprint(&[("1", "1"), ("2", "1")]));
        assert_ne!(a, items_fingerprint(&[("2", "1"), ("1", "1")]));
        assert_ne!(a, items_fingerprint(&[("1", "1"), ("2", "2")]));
        assert_ne!(
            items_fingerprint(&[("1", "12")]),
            items_fingerprint(&[("11", "2")])
        );
    }
}
