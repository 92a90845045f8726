//! Render workers that share one queue, and the queue's figures.
//!
//! Owns the `workers` table: a worker registers when it starts, beats
//! while it runs (learning whether it was asked to drain), and is forgotten
//! when it stops, its running jobs going back to the queue at once instead
//! of when their leases run out. The worker registry is platform-wide
//! (workers serve every station); [`Store::queue_stats`] reports the
//! store's station's queue beside the platform's live workers, for
//! `/metrics`. Claims and leases themselves live in `jobs.rs`.

use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

use super::db::{Row, params};
use super::{StationId, Store, StoreError, now, now_ms};

/// A render worker as registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Worker {
    /// The name it claims jobs under (the lease owner).
    pub id: String,
    pub host: String,
    pub pid: u32,
    pub started_at: String,
    /// Its last heartbeat, in milliseconds since the epoch.
    pub seen_at_ms: i64,
    /// Asked to finish its running jobs and take no more.
    pub draining: bool,
}

/// A station's render queue at one moment, and the platform's workers.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QueueStats {
    pub station_id: StationId,
    pub queued: i64,
    pub running: i64,
    /// How long the oldest queued job has waited; `None` with none queued.
    #[schema(value_type = Option<f64>)]
    pub oldest_queued_age: Option<Duration>,
    /// Renders finished in the last hour (cache hits, never queued, are left out).
    pub done_last_hour: i64,
    /// Mean time from asking to finishing over those renders.
    #[schema(value_type = Option<f64>)]
    pub latency_mean: Option<Duration>,
    /// 95th percentile (nearest rank) of the same.
    #[schema(value_type = Option<f64>)]
    pub latency_p95: Option<Duration>,
    /// Platform-wide: workers seen within three leases.
    pub live_workers: i64,
    /// Platform-wide: of those, the ones draining.
    pub draining_workers: i64,
}

/// How many leases a worker may miss heartbeats for and still count as live.
const LIVE_LEASES: u32 = 3;
const HOUR: Duration = Duration::from_secs(3600);

fn worker_row(row: &Row) -> Result<Worker, StoreError> {
    Ok(Worker {
        id: row.get(0)?,
        host: row.get(1)?,
        pid: row.get(2)?,
        started_at: row.get(3)?,
        seen_at_ms: row.get(4)?,
        draining: row.get(5)?,
    })
}

fn worker_not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "worker",
        id: id.to_owned(),
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn parse_time(text: &str) -> Result<jiff::Timestamp, StoreError> {
    jiff::Timestamp::from_str(text)
        .map_err(|e| StoreError::Sql(format!("a stored time {text:?} does not parse: {e}")))
}

/// Time from `from` to `to`; zero when the clock went back.
fn elapsed(from: jiff::Timestamp, to: jiff::Timestamp) -> Duration {
    Duration::try_from(to.duration_since(from)).unwrap_or(Duration::ZERO)
}

/// The nearest-rank percentile `p` (0 < p ≤ 100) of sorted `values`.
fn nearest_rank(sorted: &[Duration], p: u32) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() * p as usize).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

impl Store {
    /// Platform-wide: records a worker starting (again) under `id`, live
    /// now and not draining.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for an empty name; SQL errors.
    pub fn register_worker(&self, id: &str, host: &str, pid: u32) -> Result<Worker, StoreError> {
        if id.trim().is_empty() {
            return Err(StoreError::Invalid("a worker needs a name".into()));
        }
        self.write_queue(|db| {
            db.query_row(
                "INSERT INTO workers (id, host, pid, started_at, seen_at_ms, draining)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0)
                 ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid,
                    started_at = excluded.started_at, seen_at_ms = excluded.seen_at_ms,
                    draining = 0
                 RETURNING id, host, pid, started_at, seen_at_ms, draining",
                params![id, host, pid, now(), now_ms()],
                worker_row,
            )
        })
    }

    /// Platform-wide: records that worker `id` is alive; returns whether it
    /// was asked to drain (finish its running jobs, claim no more).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a worker never registered or forgotten
    /// (it should register again); SQL errors.
    pub fn worker_heartbeat(&self, id: &str) -> Result<bool, StoreError> {
        self.write_queue(|db| {
            db.query_opt(
                "UPDATE workers SET seen_at_ms = ?2 WHERE id = ?1 RETURNING draining",
                params![id, now_ms()],
                |r| r.get(0),
            )?
            .ok_or_else(|| worker_not_found(id))
        })
    }

    /// Platform-wide: asks worker `id` to drain (or to take jobs again); it
    /// learns at its next heartbeat.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn set_worker_draining(&self, id: &str, draining: bool) -> Result<(), StoreError> {
        let changed = self.write_queue(|db| {
            db.execute(
                "UPDATE workers SET draining = ?2 WHERE id = ?1",
                params![id, draining],
            )
        })?;
        if changed == 0 {
            return Err(worker_not_found(id));
        }
        Ok(())
    }

    /// Platform-wide: removes worker `id` (it stopped) and puts the jobs it
    /// still held back in the queue. Returns how many went back.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn forget_worker(&self, id: &str) -> Result<usize, StoreError> {
        self.write_queue(|db| {
            let requeued = db.execute(
                "UPDATE render_jobs SET state = 'queued', started_at = NULL, cue_done = 0, \
                 lease_owner = NULL, lease_until_ms = NULL \
                 WHERE state = 'running' AND lease_owner = ?1",
                [id],
            )?;
            if db.execute("DELETE FROM workers WHERE id = ?1", [id])? == 0 {
                return Err(worker_not_found(id));
            }
            Ok(requeued)
        })
    }

    /// Platform-wide: the registered workers, by name.
    ///
    /// # Errors
    /// SQL errors.
    pub fn workers(&self) -> Result<Vec<Worker>, StoreError> {
        self.read(|db| {
            db.query_map(
                "SELECT id, host, pid, started_at, seen_at_ms, draining FROM workers ORDER BY id",
                params![],
                worker_row,
            )
        })
    }

    /// The station's queue now: jobs queued and running, the oldest queued
    /// job's wait, renders done in the last hour with their mean and 95th
    /// percentile time from asking to finishing; and the platform's workers
    /// seen within three `lease`s.
    ///
    /// # Errors
    /// SQL errors; [`StoreError::Sql`] for a stored time that does not parse.
    pub fn queue_stats(&self, lease: Duration) -> Result<QueueStats, StoreError> {
        let now = jiff::Timestamp::now();
        // Stored times are RFC 3339 text with varying fractions of a second,
        // which sort as time only to the second: select with a second to
        // spare and keep the exact hour here.
        let since = now - HOUR;
        let select_since = (since - jiff::SignedDuration::from_secs(1)).to_string();
        let live_since = now.as_millisecond() - millis(lease * LIVE_LEASES);
        let station = self.station();
        let (counts, oldest, finished, workers) = self.read(|db| {
            let counts: Vec<(String, i64)> = db.query_map(
                "SELECT state, count(*) FROM render_jobs \
                 WHERE station_id = ?1 AND state IN ('queued', 'running') GROUP BY state",
                [station],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let oldest: Option<String> = db.query_opt(
                "SELECT created_at FROM render_jobs WHERE station_id = ?1 AND state = 'queued' \
                 ORDER BY id LIMIT 1",
                [station],
                |r| r.get(0),
            )?;
            let finished: Vec<(String, String)> = db.query_map(
                "SELECT created_at, finished_at FROM render_jobs \
                 WHERE station_id = ?1 AND state = 'done' AND cached = 0 AND finished_at >= ?2",
                params![station, select_since],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let workers: (i64, i64) = db.query_row(
                "SELECT count(*), \
                    CAST(COALESCE(SUM(CASE WHEN draining = 1 THEN 1 ELSE 0 END), 0) AS BIGINT) \
                 FROM workers WHERE seen_at_ms >= ?1",
                [live_since],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok((counts, oldest, finished, workers))
        })?;
        let count = |state: &str| {
            counts
                .iter()
                .find(|(name, _)| name == state)
                .map_or(0, |(_, n)| *n)
        };
        let oldest_queued_age = oldest
            .map(|created| parse_time(&created).map(|t| elapsed(t, now)))
            .transpose()?;
        let mut latencies = Vec::with_capacity(finished.len());
        for (created, done) in &finished {
            let done = parse_time(done)?;
            if done >= since {
                latencies.push(elapsed(parse_time(created)?, done));
            }
        }
        latencies.sort();
        let latency_mean = match u32::try_from(latencies.len()) {
            Ok(n) if n > 0 => Some(latencies.iter().sum::<Duration>() / n),
            _ => None,
        };
        Ok(QueueStats {
            station_id: station,
            queued: count("queued"),
            running: count("running"),
            oldest_queued_age,
            done_last_hour: latencies.len() as i64,
            latency_mean,
            latency_p95: nearest_rank(&latencies, 95),
            live_workers: workers.0,
            draining_workers: workers.1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{JobState, testing};

    const LEASE: Duration = Duration::from_secs(60);

    /// Sets when a job was asked for and when it finished, as times ago.
    fn set_times(store: &Store, id: i64, created_ago: Duration, finished_ago: Option<Duration>) {
        let ago = |d: Duration| {
            (jiff::Timestamp::now() - jiff::SignedDuration::try_from(d).unwrap()).to_string()
        };
        store
            .write_queue(|db| {
                db.execute(
                    "UPDATE render_jobs SET created_at = ?1, finished_at = ?2 WHERE id = ?3",
                    params![ago(created_ago), finished_ago.map(ago), id],
                )
            })
            .unwrap();
    }

    #[test]
    fn workers_register_beat_drain_and_are_forgotten_with_their_jobs_requeued() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let article = testing::add_article(&store, "Tin").unwrap();
        let job = store.add_job(article, 1, "vi", "a", None, false).unwrap();
        let worker = store.register_worker("w1", "render-1", 42).unwrap();
        assert_eq!((worker.host.as_str(), worker.pid), ("render-1", 42));
        assert!(!store.worker_heartbeat("w1").unwrap());
        store.set_worker_draining("w1", true).unwrap();
        assert!(store.worker_heartbeat("w1").unwrap(), "told to drain");
        assert!(store.workers().unwrap()[0].draining);
        // Registering again (a restart) clears the drain.
        store.register_worker("w1", "render-1", 43).unwrap();
        assert!(!store.worker_heartbeat("w1").unwrap());

        assert_eq!(
            store.claim_next_job("w1", LEASE).unwrap().unwrap().id,
            job.id
        );
        assert_eq!(store.forget_worker("w1").unwrap(), 1);
        assert_eq!(store.job(job.id).unwrap().state, JobState::Queued);
        assert!(!store.finish_job_by(job.id, "w1", "key").unwrap());
        assert_eq!(store.workers().unwrap(), vec![]);
        for result in [
            store.worker_heartbeat("w1").map(|_| ()),
            store.set_worker_draining("w1", false),
            store.forget_worker("w1").map(|_| ()),
        ] {
            assert!(
                matches!(result, Err(StoreError::NotFound { .. })),
                "{result:?}"
            );
        }
        assert!(matches!(
            store.register_worker(" ", "h", 1),
            Err(StoreError::Invalid(_))
        ));
    }

    #[test]
    fn queue_stats_count_each_station_apart() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let other = testing::add_station(&store, "hue").unwrap();
        let article = testing::add_article(&store, "Tin").unwrap();
        let other_article = testing::add_article(&other, "Tin Huế").unwrap();
        testing::add_audio(&store, "key").unwrap();

        let empty = store.queue_stats(LEASE).unwrap();
        assert_eq!(
            (empty.queued, empty.running, empty.done_last_hour),
            (0, 0, 0)
        );
        assert_eq!(
            (
                empty.oldest_queued_age,
                empty.latency_mean,
                empty.latency_p95
            ),
            (None, None, None)
        );

        // Twenty renders done in the last hour, waiting 1..=20 s; one done
        // two hours ago, which does not count.
        for waited in 1..=21_u64 {
            let job = store.add_job(article, 1, "vi", "a", None, false).unwrap();
            store.claim_next_job("w1", LEASE).unwrap().unwrap();
            assert!(store.finish_job_by(job.id, "w1", "key").unwrap());
            let ago = Duration::from_secs(if waited == 21 { 7200 } else { 60 });
            set_times(&store, job.id, ago + Duration::from_secs(waited), Some(ago));
        }
        let running = store.add_job(article, 1, "vi", "a", None, false).unwrap();
        store.claim_next_job("w1", LEASE).unwrap().unwrap();
        let queued = store.add_job(article, 1, "vi", "a", None, false).unwrap();
        store.add_job(article, 1, "vi", "a", None, false).unwrap();
        set_times(&store, queued.id, Duration::from_secs(300), None);
        other
            .add_job(other_article, 1, "vi", "a", None, false)
            .unwrap();
        store.register_worker("w1", "h", 1).unwrap();
        store.register_worker("w2", "h", 2).unwrap();
        store.set_worker_draining("w2", true).unwrap();
        store.register_worker("gone", "h", 3).unwrap();
        store
            .write_queue(|db| {
                db.execute(
                    "UPDATE workers SET seen_at_ms = ?1 WHERE id = 'gone'",
                    [now_ms() - millis(LEASE * 4)],
                )
            })
            .unwrap();

        let stats = store.queue_stats(LEASE).unwrap();
        assert_eq!(stats.station_id, store.station());
        assert_eq!((stats.queued, stats.running), (2, 1));
        let age = stats.oldest_queued_age.unwrap();
        assert!(
            age >= Duration::from_secs(300) && age < Duration::from_secs(330),
            "{age:?}"
        );
        assert_eq!(stats.done_last_hour, 20);
        // Mean of 1..=20 s is 10.5 s; the 95th percentile (rank 19) is 19 s.
        let within =
            |got: Option<Duration>, want: f64| (got.unwrap().as_secs_f64() - want).abs() < 0.01;
        assert!(within(stats.latency_mean, 10.5), "{stats:?}");
        assert!(within(stats.latency_p95, 19.0), "{stats:?}");
        assert_eq!((stats.live_workers, stats.draining_workers), (2, 1));
        assert_eq!(store.job(running.id).unwrap().state, JobState::Running);

        let theirs = other.queue_stats(LEASE).unwrap();
        assert_eq!(theirs.station_id, other.station());
        assert_eq!(
            (theirs.queued, theirs.running, theirs.done_last_hour),
            (1, 0, 0)
        );
        assert_eq!((theirs.latency_mean, theirs.latency_p95), (None, None));
        assert_eq!(theirs.live_workers, 2, "workers serve every station");
    }

    #[test]
    fn the_95th_percentile_is_the_nearest_rank() {
        let secs = |n: u64| Duration::from_secs(n);
        assert_eq!(nearest_rank(&[], 95), None);
        assert_eq!(nearest_rank(&[secs(4)], 95), Some(secs(4)));
        let hundred: Vec<_> = (1..=100).map(secs).collect();
        assert_eq!(nearest_rank(&hundred, 95), Some(secs(95)));
        let ten: Vec<_> = (1..=10).map(secs).collect();
        assert_eq!(nearest_rank(&ten, 95), Some(secs(10)));
    }
}
