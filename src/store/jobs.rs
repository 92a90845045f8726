//! Render jobs of a station: queued → running → done | failed | cancelled,
//! and the queue that render workers share across stations.
//!
//! Every method but [`Store::claim_next_job`] and [`Store::renew_lease`]
//! sees only the store's station ([`Store::station`]): another station's
//! job is [`StoreError::NotFound`]. A job is claimed by one atomic
//! `UPDATE … RETURNING` whose inner select takes the oldest claimable job
//! (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so claimers skip each
//! other's rows instead of waiting), so two claimers never take the same job.
//!
//! A claimed job is held by a lease: the worker's name (`lease_owner`) and,
//! for a platform worker, when the lease ends (`lease_until_ms`). A worker
//! renews its lease while rendering; a job whose lease ran out goes to the
//! next claimer, and every later write of the old holder (progress, result,
//! requeue) is refused, so no job is completed twice. The single-node
//! runner's claims ([`Store::claim_job`]) hold a lease without an end: its
//! jobs end with its process, and [`Store::requeue_interrupted_jobs`] puts
//! them back when it starts again. The worker registry and the queue's
//! figures live in `workers.rs`.

use std::sync::OnceLock;
use std::time::Duration;

use serde::Serialize;

use super::db::{Db, Engine, Param, Row, params};
use super::{StationId, Store, StoreError, now, now_ms};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Failed,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    fn parse(text: &str) -> Result<JobState, StoreError> {
        JobState::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| StoreError::Sql(format!("unknown job state {text:?}")))
    }

    /// Whether the job will not change any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::Done | JobState::Failed | JobState::Cancelled
        )
    }
}

/// A render job as stored.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Job {
    pub id: i64,
    /// The station the job renders for (a platform worker serves many).
    pub station_id: StationId,
    pub article_id: i64,
    pub revision: i64,
    pub voice: String,
    pub state: JobState,
    /// Cues synthesized so far, out of `cue_total`.
    pub cue_done: i64,
    pub cue_total: i64,
    pub cancel_requested: bool,
    /// Times the job was started (more than one after a restart or a lost lease).
    pub attempts: i64,
    pub error: Option<String>,
    pub cache_key: Option<String>,
    /// True when the audio came from the cache without rendering.
    pub cached: bool,
    pub requested_by: String,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// The render is heard back by the station's recognizer when done.
    pub check_requested: bool,
    /// The listen check's outcome, once there is one.
    pub check: Option<JobCheck>,
}

/// The listen check of a job as its status shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct JobCheck {
    /// `checked` or `unavailable` (the recognizer failed; the render is kept).
    pub state: String,
    /// Cues flagged (0 when unavailable).
    pub flagged: i64,
    /// "checked, 2 cues flagged", or why the check is unavailable.
    pub summary: String,
}

const JOB_COLUMNS: &str = "id, article_id, revision, voice, state, cue_done, cue_total, \
     cancel_requested, attempts, error, cache_key, cached, requested_by, created_at, \
     started_at, finished_at, check_requested, check_state, check_flagged, check_summary, \
     station_id";

fn job_row(row: &Row) -> Result<Job, StoreError> {
    Ok(Job {
        id: row.get(0)?,
        article_id: row.get(1)?,
        revision: row.get(2)?,
        voice: row.get(3)?,
        state: JobState::parse(&row.get::<String>(4)?)?,
        cue_done: row.get(5)?,
        cue_total: row.get(6)?,
        cancel_requested: row.get(7)?,
        attempts: row.get(8)?,
        error: row.get(9)?,
        cache_key: row.get(10)?,
        cached: row.get(11)?,
        requested_by: row.get(12)?,
        created_at: row.get(13)?,
        started_at: row.get(14)?,
        finished_at: row.get(15)?,
        check_requested: row.get(16)?,
        check: match row.get::<Option<String>>(17)? {
            Some(state) => Some(JobCheck {
                state,
                flagged: row.get::<Option<i64>>(18)?.unwrap_or(0),
                summary: row.get::<Option<String>>(19)?.unwrap_or_default(),
            }),
            None => None,
        },
        station_id: row.get(20)?,
    })
}

fn not_found(id: i64) -> StoreError {
    StoreError::NotFound {
        what: "job",
        id: id.to_string(),
    }
}

/// The lease owner of the jobs this process claims with [`Store::claim_job`]:
/// unique per process, so a restarted runner never mistakes an interrupted
/// job for one of its own.
fn local_owner() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        format!(
            "local-{}-{}",
            std::process::id(),
            jiff::Timestamp::now().as_millisecond()
        )
    })
}

fn lease_end_ms(lease: Duration) -> i64 {
    now_ms().saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
}

/// Which jobs a claim may take.
#[derive(Clone, Copy)]
enum ClaimScope {
    Station(StationId),
    AnyStation,
}

/// Takes the oldest claimable job in `scope` — queued, or running with a
/// lease that ran out — and marks it running, held by `owner` until
/// `lease_until_ms` (`None`: until the owner's process ends).
fn claim(
    db: &Db<'_>,
    scope: ClaimScope,
    owner: &str,
    lease_until_ms: Option<i64>,
) -> Result<Option<Job>, StoreError> {
    // SQLite has one writer at a time, so the select and the update cannot
    // interleave with another claim; PostgreSQL locks the row it picks and
    // lets other claimers skip it.
    let lock = match db.engine() {
        Engine::Sqlite => "",
        Engine::Postgres => "FOR UPDATE SKIP LOCKED",
    };
    let started_at = now();
    let lapsed_before_ms = now_ms();
    let mut values = params![started_at, owner, lease_until_ms, lapsed_before_ms];
    let station_filter = match scope {
        ClaimScope::Station(station) => {
            values.push(Param::Int(station));
            "AND station_id = ?5"
        }
        ClaimScope::AnyStation => "",
    };
    let sql = format!(
        "UPDATE render_jobs SET state = 'running', started_at = ?1, attempts = attempts + 1, \
         cue_done = 0, lease_owner = ?2, lease_until_ms = ?3 \
         WHERE id = (SELECT id FROM render_jobs \
                     WHERE (state = 'queued' OR (state = 'running' AND lease_until_ms < ?4)) \
                     {station_filter} \
                     ORDER BY id LIMIT 1 {lock}) \
         RETURNING {JOB_COLUMNS}"
    );
    db.query_opt(&sql, values, job_row)
}

/// The refusal of a write by a runner that no longer holds its job.
fn lease_lost(id: i64) -> StoreError {
    StoreError::Conflict(format!(
        "job {id} is no longer held by this process (requeued or taken over by another worker)"
    ))
}

fn held(id: i64, changed: bool) -> Result<(), StoreError> {
    if changed { Ok(()) } else { Err(lease_lost(id)) }
}

impl Store {
    /// Queues a render of an article revision, or — when `cached` names audio
    /// already rendered from identical input — records a job that is done at once.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an article revision the station does not
    /// have; SQL errors.
    pub fn add_job(
        &self,
        article_id: i64,
        revision: i64,
        voice: &str,
        requested_by: &str,
        cached: Option<&str>,
        check: bool,
    ) -> Result<Job, StoreError> {
        self.write(|db| {
            let revisions: i64 = db.query_row(
                "SELECT count(*) FROM article_revisions r JOIN articles a ON a.id = r.article_id \
                 WHERE r.article_id = ?1 AND r.revision = ?2 AND a.station_id = ?3",
                params![article_id, revision, self.station()],
                |r| r.get(0),
            )?;
            if revisions == 0 {
                return Err(StoreError::NotFound {
                    what: "revision",
                    id: format!("{revision} of article {article_id}"),
                });
            }
            let at = now();
            let (state, finished) = match cached {
                Some(_) => (JobState::Done, Some(at.clone())),
                None => (JobState::Queued, None),
            };
            db.query_row(
                &format!(
                    "INSERT INTO render_jobs (station_id, article_id, revision, voice, state, \
                     cache_key, cached, requested_by, created_at, finished_at, check_requested) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
                     RETURNING {JOB_COLUMNS}"
                ),
                params![
                    self.station(),
                    article_id,
                    revision,
                    voice,
                    state.as_str(),
                    cached,
                    cached.is_some(),
                    requested_by,
                    at,
                    finished,
                    check
                ],
                job_row,
            )
        })
    }

    /// # Errors
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn job(&self, id: i64) -> Result<Job, StoreError> {
        self.read(|db| {
            db.query_opt(
                &format!("SELECT {JOB_COLUMNS} FROM render_jobs WHERE id = ?1 AND station_id = ?2"),
                [id, self.station()],
                job_row,
            )?
            .ok_or_else(|| not_found(id))
        })
    }

    /// An article's jobs, newest first.
    ///
    /// # Errors
    /// SQL errors.
    pub fn jobs_of_article(&self, article_id: i64) -> Result<Vec<Job>, StoreError> {
        self.read(|db| {
            db.query_map(
                &format!(
                    "SELECT {JOB_COLUMNS} FROM render_jobs WHERE article_id = ?1 \
                     AND station_id = ?2 ORDER BY id DESC"
                ),
                [article_id, self.station()],
                job_row,
            )
        })
    }

    /// The newest finished render of an article (any revision), with its audio.
    ///
    /// # Errors
    /// SQL errors.
    pub fn latest_done_job(&self, article_id: i64) -> Result<Option<Job>, StoreError> {
        self.read(|db| {
            db.query_opt(
                &format!(
                    "SELECT {JOB_COLUMNS} FROM render_jobs WHERE article_id = ?1 \
                     AND station_id = ?2 AND state = 'done' \
                     ORDER BY revision DESC, id DESC LIMIT 1"
                ),
                [article_id, self.station()],
                job_row,
            )
        })
    }

    /// Takes the station's oldest queued job and marks it running, held by
    /// this process (the single-node runner) until it ends or the process
    /// stops.
    ///
    /// # Errors
    /// SQL errors.
    pub fn claim_job(&self) -> Result<Option<Job>, StoreError> {
        self.write_queue(|db| claim(db, ClaimScope::Station(self.station()), local_owner(), None))
    }

    /// Platform-wide: takes the oldest job of any station that is queued,
    /// or running under a lease that ran out, and marks it running, held by
    /// `worker` for `lease`. The job's [`Job::station_id`] says which
    /// station's store ([`Store::for_station`]) renders it.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for an empty worker name; SQL errors.
    pub fn claim_next_job(&self, worker: &str, lease: Duration) -> Result<Option<Job>, StoreError> {
        if worker.trim().is_empty() {
            return Err(StoreError::Invalid("a worker needs a name".into()));
        }
        let until = lease_end_ms(lease);
        self.write_queue(|db| claim(db, ClaimScope::AnyStation, worker, Some(until)))
    }

    /// Platform-wide: extends `worker`'s lease on a running job to `lease`
    /// from now. `false` when the worker no longer holds the job (it was
    /// taken over, requeued or ended): the worker must stop without writing
    /// its result.
    ///
    /// # Errors
    /// SQL errors.
    pub fn renew_lease(
        &self,
        job_id: i64,
        worker: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let until = lease_end_ms(lease);
        self.write_queue(|db| {
            Ok(db.execute(
                "UPDATE render_jobs SET lease_until_ms = ?3 \
                 WHERE id = ?1 AND state = 'running' AND lease_owner = ?2",
                params![job_id, worker, until],
            )? == 1)
        })
    }

    /// Records render progress of a job this process holds.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the process no longer holds the job; SQL errors.
    pub fn set_job_progress(&self, id: i64, done: i64, total: i64) -> Result<(), StoreError> {
        held(
            id,
            self.set_job_progress_by(id, local_owner(), done, total)?,
        )
    }

    /// Records render progress of a job `worker` holds; `false` (nothing
    /// written) when it no longer does.
    ///
    /// # Errors
    /// SQL errors.
    pub fn set_job_progress_by(
        &self,
        id: i64,
        worker: &str,
        done: i64,
        total: i64,
    ) -> Result<bool, StoreError> {
        self.write_queue(|db| {
            Ok(db.execute(
                "UPDATE render_jobs SET cue_done = ?1, cue_total = ?2 \
                 WHERE id = ?3 AND station_id = ?4 AND state = 'running' AND lease_owner = ?5",
                params![done, total, id, self.station(), worker],
            )? == 1)
        })
    }

    /// Marks a running job this process holds done with the audio under `cache_key`.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the process no longer holds the job; SQL errors.
    pub fn finish_job(&self, id: i64, cache_key: &str) -> Result<(), StoreError> {
        held(id, self.finish_job_by(id, local_owner(), cache_key)?)
    }

    /// Marks a running job `worker` holds done with the audio under
    /// `cache_key`; `false` (nothing written) when it no longer holds it.
    ///
    /// # Errors
    /// SQL errors.
    pub fn finish_job_by(
        &self,
        id: i64,
        worker: &str,
        cache_key: &str,
    ) -> Result<bool, StoreError> {
        self.end_job(id, worker, JobState::Done, None, Some(cache_key))
    }

    /// Marks a job this process holds failed with the error staff see.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the process no longer holds the job; SQL errors.
    pub fn fail_job(&self, id: i64, error: &str) -> Result<(), StoreError> {
        held(id, self.fail_job_by(id, local_owner(), error)?)
    }

    /// Marks a job `worker` holds failed; `false` (nothing written) when it
    /// no longer holds it.
    ///
    /// # Errors
    /// SQL errors.
    pub fn fail_job_by(&self, id: i64, worker: &str, error: &str) -> Result<bool, StoreError> {
        self.end_job(id, worker, JobState::Failed, Some(error), None)
    }

    /// Marks a running job this process holds cancelled (it stopped at a
    /// cancel request).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the process no longer holds the job; SQL errors.
    pub fn mark_job_cancelled(&self, id: i64) -> Result<(), StoreError> {
        held(id, self.mark_job_cancelled_by(id, local_owner())?)
    }

    /// Marks a running job `worker` holds cancelled; `false` (nothing
    /// written) when it no longer holds it.
    ///
    /// # Errors
    /// SQL errors.
    pub fn mark_job_cancelled_by(&self, id: i64, worker: &str) -> Result<bool, StoreError> {
        self.end_job(id, worker, JobState::Cancelled, None, None)
    }

    fn end_job(
        &self,
        id: i64,
        worker: &str,
        state: JobState,
        error: Option<&str>,
        cache_key: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.write_queue(|db| {
            // The last holder stays in lease_owner: who rendered the job.
            Ok(db.execute(
                "UPDATE render_jobs SET state = ?1, error = ?2, \
                 cache_key = coalesce(?3, cache_key), finished_at = ?4, lease_until_ms = NULL \
                 WHERE id = ?5 AND station_id = ?6 AND state = 'running' AND lease_owner = ?7",
                params![
                    state.as_str(),
                    error,
                    cache_key,
                    now(),
                    id,
                    self.station(),
                    worker
                ],
            )? == 1)
        })
    }

    /// Records the listen check of a job: its state (`checked` or
    /// `unavailable`), flagged cues, summary line and the full report (JSON).
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn set_job_check(
        &self,
        id: i64,
        state: &str,
        flagged: i64,
        summary: &str,
        report_json: &str,
    ) -> Result<(), StoreError> {
        let changed = self.write(|db| {
            db.execute(
                "UPDATE render_jobs SET check_state = ?1, check_flagged = ?2, check_summary = ?3, \
                 check_report = ?4 WHERE id = ?5 AND station_id = ?6",
                params![state, flagged, summary, report_json, id, self.station()],
            )
        })?;
        if changed == 0 {
            return Err(not_found(id));
        }
        Ok(())
    }

    /// The full listen check report of a job (JSON), when it was checked.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn job_check_report(&self, id: i64) -> Result<Option<String>, StoreError> {
        self.read(|db| {
            db.query_opt(
                "SELECT check_report FROM render_jobs WHERE id = ?1 AND station_id = ?2",
                [id, self.station()],
                |r| r.get::<Option<String>>(0),
            )?
            .ok_or_else(|| not_found(id))
        })
    }

    /// A listen check the station already made of the audio under
    /// `cache_key` (JSON), so a render served from the cache reuses it.
    ///
    /// # Errors
    /// SQL errors.
    pub fn check_of_audio(
        &self,
        cache_key: &str,
    ) -> Result<Option<(String, i64, String, String)>, StoreError> {
        self.read(|db| {
            db.query_opt(
                "SELECT check_state, check_flagged, check_summary, check_report FROM render_jobs \
                 WHERE cache_key = ?1 AND station_id = ?2 AND check_state = 'checked' \
                 ORDER BY id DESC LIMIT 1",
                params![cache_key, self.station()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
        })
    }

    /// Puts a running job this process holds back in the queue (shutdown
    /// stopped it).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the process no longer holds the job; SQL errors.
    pub fn requeue_job(&self, id: i64) -> Result<(), StoreError> {
        held(id, self.requeue_job_by(id, local_owner())?)
    }

    /// Puts a running job `worker` holds back in the queue (the worker is
    /// stopping); `false` when it no longer holds it.
    ///
    /// # Errors
    /// SQL errors.
    pub fn requeue_job_by(&self, id: i64, worker: &str) -> Result<bool, StoreError> {
        self.write_queue(|db| {
            Ok(db.execute(
                "UPDATE render_jobs SET state = 'queued', started_at = NULL, cue_done = 0, \
                 lease_owner = NULL, lease_until_ms = NULL \
                 WHERE id = ?1 AND station_id = ?2 AND state = 'running' AND lease_owner = ?3",
                params![id, self.station(), worker],
            )? == 1)
        })
    }

    /// Requeues the station's jobs left running by a process that stopped
    /// without finishing them: those held without a lease end (a
    /// single-node runner's) or whose lease ran out. A job a live worker
    /// holds under its lease is left alone. Call once when the station's
    /// runner starts, before it claims.
    ///
    /// # Errors
    /// SQL errors.
    pub fn requeue_interrupted_jobs(&self) -> Result<usize, StoreError> {
        self.write_queue(|db| {
            db.execute(
                "UPDATE render_jobs SET state = 'queued', started_at = NULL, cue_done = 0, \
                 lease_owner = NULL, lease_until_ms = NULL \
                 WHERE station_id = ?1 AND state = 'running' \
                 AND (lease_until_ms IS NULL OR lease_until_ms < ?2)",
                [self.station(), now_ms()],
            )
        })
    }

    /// Cancels a job: a queued one at once, a running one at its next cue
    /// (the worker sees `cancel_requested`). Finished jobs are refused.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Conflict`] for a finished job.
    pub fn cancel_job(&self, id: i64) -> Result<Job, StoreError> {
        let select =
            format!("SELECT {JOB_COLUMNS} FROM render_jobs WHERE id = ?1 AND station_id = ?2");
        self.write_queue(|db| {
            // Claimers and holders do not take the station lock: on
            // PostgreSQL the row is locked so its state cannot move between
            // this read and the update (claimers skip it meanwhile).
            let locked = match db.engine() {
                Engine::Sqlite => select.clone(),
                Engine::Postgres => format!("{select} FOR UPDATE"),
            };
            let job = db
                .query_opt(&locked, [id, self.station()], job_row)?
                .ok_or_else(|| not_found(id))?;
            match job.state {
                JobState::Queued => {
                    db.execute(
                        "UPDATE render_jobs SET state = 'cancelled', cancel_requested = 1, \
                         finished_at = ?1 WHERE id = ?2",
                        params![now(), id],
                    )?;
                }
                JobState::Running => {
                    db.execute(
                        "UPDATE render_jobs SET cancel_requested = 1 WHERE id = ?1",
                        [id],
                    )?;
                }
                JobState::Done | JobState::Failed | JobState::Cancelled => {
                    return Err(StoreError::Conflict(format!(
                        "job {id} is already {}",
                        job.state.as_str()
                    )));
                }
            }
            db.query_row(&select, [id, self.station()], job_row)
        })
    }

    /// Whether someone asked to cancel this job.
    ///
    /// # Errors
    /// SQL errors.
    pub fn job_cancel_requested(&self, id: i64) -> Result<bool, StoreError> {
        self.read(|db| {
            Ok(db
                .query_opt(
                    "SELECT cancel_requested FROM render_jobs WHERE id = ?1 AND station_id = ?2",
                    [id, self.station()],
                    |r| r.get(0),
                )?
                .unwrap_or(false))
        })
    }

    /// Number of the station's jobs in each state (every state listed,
    /// zeros included).
    ///
    /// # Errors
    /// SQL errors.
    pub fn job_counts(&self) -> Result<Vec<(JobState, i64)>, StoreError> {
        let rows: Vec<(String, i64)> = self.read(|db| {
            db.query_map(
                "SELECT state, count(*) FROM render_jobs WHERE station_id = ?1 GROUP BY state",
                [self.station()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })?;
        Ok(JobState::ALL
            .into_iter()
            .map(|s| {
                let n = rows
                    .iter()
                    .find(|(name, _)| name == s.as_str())
                    .map_or(0, |r| r.1);
                (s, n)
            })
            .collect())
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing;

    fn add_article(store: &Store) -> i64 {
        testing::add_article(store, "Tin").unwrap()
    }

    fn store_with_article() -> (tempfile::TempDir, Store, i64) {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let id = add_article(&store);
        (dir, store, id)
    }

    const LEASE: Duration = Duration::from_secs(60);

    /// Makes `worker`'s lease on job `id` run out.
    fn expire_lease(store: &Store, id: i64) {
        store
            .write_queue(|db| {
                db.execute(
                    "UPDATE render_jobs SET lease_until_ms = ?1 WHERE id = ?2",
                    [now_ms() - 1, id],
                )
            })
            .unwrap();
    }

    #[test]
    fn claims_each_job_once_in_order() {
        let (_dir, store, id) = store_with_article();
        let a = store.add_job(id, 1, "vi", "a", None, false).unwrap();
        let b = store.add_job(id, 1, "vi", "a", None, false).unwrap();
        let claimers: Vec<_> = (0..4)
            .map(|_| {
                let store = store.clone();
                std::thread::spawn(move || store.claim_job().unwrap().map(|j| j.id))
            })
            .collect();
        let mut claimed: Vec<i64> = claimers
            .into_iter()
            .filter_map(|t| t.join().unwrap())
            .collect();
        claimed.sort();
        assert_eq!(claimed, vec![a.id, b.id]);
        assert_eq!(store.job(a.id).unwrap().state, JobState::Running);
        assert_eq!(store.requeue_interrupted_jobs().unwrap(), 2);
        assert_eq!(store.job(b.id).unwrap().state, JobState::Queued);
        assert!(matches!(
            store.add_job(id, 7, "vi", "a", None, false),
            Err(StoreError::NotFound { .. })
        ));
    }

    #[test]
    fn two_workers_never_claim_the_same_job_across_stations() {
        let (_dir, store, id) = store_with_article();
        let other = testing::add_station(&store, "hue").unwrap();
        let other_article = add_article(&other);
        let mut queued = Vec::new();
        for n in 0..40 {
            let (station, article) = if n % 3 == 0 {
                (&other, other_article)
            } else {
                (&store, id)
            };
            queued.push(
                station
                    .add_job(article, 1, "vi", "a", None, false)
                    .unwrap()
                    .id,
            );
        }
        const CLAIMERS: usize = 4;
        let start = std::sync::Arc::new(std::sync::Barrier::new(CLAIMERS));
        let claimers: Vec<_> = (0..CLAIMERS)
            .map(|n| {
                let store = store.clone();
                let start = start.clone();
                std::thread::spawn(move || {
                    let worker = format!("worker-{n}");
                    // Connections open before the claimers start together,
                    // so their claims overlap (without the row lock on
                    // PostgreSQL, jobs are then claimed twice).
                    store.read(|db| db.execute_batch("SELECT 1")).unwrap();
                    start.wait();
                    let mut mine = Vec::new();
                    while let Some(job) = store.claim_next_job(&worker, LEASE).unwrap() {
                        mine.push(job);
                    }
                    mine
                })
            })
            .collect();
        let mut claimed: Vec<i64> = claimers
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .map(|job| {
                assert_eq!(job.state, JobState::Running);
                assert_eq!(job.attempts, 1);
                let station = if job.article_id == other_article {
                    other.station()
                } else {
                    store.station()
                };
                assert_eq!(job.station_id, station, "the job says its station");
                job.id
            })
            .collect();
        claimed.sort();
        assert_eq!(claimed, queued, "every job claimed exactly once");
    }

    #[test]
    fn a_lapsed_lease_is_taken_over_and_the_old_holder_is_refused() {
        let (_dir, store, id) = store_with_article();
        let job = store.add_job(id, 1, "vi", "a", None, false).unwrap();
        assert_eq!(
            store.claim_next_job("old", LEASE).unwrap().unwrap().id,
            job.id
        );
        // A live lease is neither claimed nor requeued at start.
        assert_eq!(store.claim_next_job("new", LEASE).unwrap(), None);
        assert_eq!(store.requeue_interrupted_jobs().unwrap(), 0);
        assert!(store.renew_lease(job.id, "old", LEASE).unwrap());
        assert!(
            !store.renew_lease(job.id, "new", LEASE).unwrap(),
            "not the holder"
        );

        expire_lease(&store, job.id);
        let taken = store.claim_next_job("new", LEASE).unwrap().unwrap();
        assert_eq!((taken.id, taken.attempts), (job.id, 2));
        assert!(!store.renew_lease(job.id, "old", LEASE).unwrap());
        assert!(!store.set_job_progress_by(job.id, "old", 3, 4).unwrap());
        assert!(!store.finish_job_by(job.id, "old", "key").unwrap());
        assert!(!store.fail_job_by(job.id, "old", "late").unwrap());
        assert!(!store.mark_job_cancelled_by(job.id, "old").unwrap());
        assert!(!store.requeue_job_by(job.id, "old").unwrap());
        // The old holder wrote nothing; the new one finishes the job.
        let seen = store.job(job.id).unwrap();
        assert_eq!((seen.state, seen.cue_done), (JobState::Running, 0));
        assert!(store.set_job_progress_by(job.id, "new", 2, 4).unwrap());
        assert!(store.fail_job_by(job.id, "new", "hỏng").unwrap());
        let seen = store.job(job.id).unwrap();
        assert_eq!(seen.state, JobState::Failed);
        assert_eq!((seen.cue_done, seen.error.as_deref()), (2, Some("hỏng")));
        assert!(
            !store.finish_job_by(job.id, "new", "key").unwrap(),
            "ended once"
        );
    }

    #[test]
    fn the_local_runner_holds_its_jobs_until_it_restarts() {
        let (_dir, store, id) = store_with_article();
        let job = store.add_job(id, 1, "vi", "a", None, false).unwrap();
        assert_eq!(store.claim_job().unwrap().unwrap().id, job.id);
        // A platform worker never takes a job the runner holds.
        assert_eq!(store.claim_next_job("w", LEASE).unwrap(), None);
        store.set_job_progress(job.id, 1, 2).unwrap();
        assert!(!store.set_job_progress_by(job.id, "w", 2, 2).unwrap());
        store.requeue_job(job.id).unwrap();
        assert!(matches!(
            store.requeue_job(job.id),
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(store.job(job.id).unwrap().state, JobState::Queued);
        assert_eq!(
            store.claim_next_job("w", LEASE).unwrap().unwrap().id,
            job.id
        );
        assert!(matches!(
            store.fail_job(job.id, "x"),
            Err(StoreError::Conflict(_))
        ));
    }

    #[test]
    fn records_a_listen_check() {
        let (_dir, store, id) = store_with_article();
        let job = store.add_job(id, 1, "vi", "a", None, true).unwrap();
        assert!(job.check_requested && job.check.is_none());
        store.claim_job().unwrap();
        // Found by its audio once a render of it is done (the server tests
        // cover that); there is none yet.
        assert_eq!(store.check_of_audio("key").unwrap(), None);
        store
            .set_job_check(job.id, "checked", 2, "checked, 2 cues flagged", "{}")
            .unwrap();
        let check = store.job(job.id).unwrap().check.unwrap();
        assert_eq!((check.state.as_str(), check.flagged), ("checked", 2));
        assert_eq!(check.summary, "checked, 2 cues flagged");
        assert_eq!(
            store.job_check_report(job.id).unwrap().as_deref(),
            Some("{}")
        );
        assert!(store.job_check_report(job.id + 1).is_err());
    }

    #[test]
    fn cancels_queued_at_once_and_running_on_request() {
        let (_dir, store, id) = store_with_article();
        let queued = store.add_job(id, 1, "vi", "a", None, false).unwrap();
        let running = store.add_job(id, 1, "vi", "a", None, false).unwrap();
        assert_eq!(store.claim_job().unwrap().unwrap().id, queued.id);
        // queued.id is running now; running.id is still queued.
        assert_eq!(
            store.cancel_job(running.id).unwrap().state,
            JobState::Cancelled
        );
        let job = store.cancel_job(queued.id).unwrap();
        assert_eq!((job.state, job.cancel_requested), (JobState::Running, true));
        assert!(store.job_cancel_requested(queued.id).unwrap());
        store.mark_job_cancelled(queued.id).unwrap();
        assert!(matches!(
            store.cancel_job(queued.id),
            Err(StoreError::Conflict(_))
        ));
        let counts = store.job_counts().unwrap();
        assert!(counts.contains(&(JobState::Cancelled, 2)));
    }

    #[test]
    fn another_station_sees_and_changes_none_of_the_jobs() {
        let (_dir, store, id) = store_with_article();
        let other = testing::add_station(&store, "hue").unwrap();
        testing::add_audio(&store, "key").unwrap();
        let done = store.add_job(id, 1, "vi", "a", None, true).unwrap();
        store.claim_job().unwrap();
        store.finish_job(done.id, "key").unwrap();
        store
            .set_job_check(done.id, "checked", 1, "s", "{}")
            .unwrap();
        let running = store.add_job(id, 1, "vi", "a", None, false).unwrap();
        store.claim_job().unwrap();
        store.cancel_job(running.id).unwrap();
        let queued = store.add_job(id, 1, "vi", "a", None, false).unwrap();
        assert!(store.check_of_audio("key").unwrap().is_some());
        assert!(store.latest_done_job(id).unwrap().is_some());
        let missing =
            |result: Result<(), StoreError>| matches!(result, Err(StoreError::NotFound { .. }));
        let refused =
            |result: Result<(), StoreError>| matches!(result, Err(StoreError::Conflict(_)));

        // Reading: nothing of the first station's.
        assert!(missing(
            other.add_job(id, 1, "vi", "b", None, false).map(|_| ())
        ));
        for job in [done.id, running.id, queued.id] {
            assert!(missing(other.job(job).map(|_| ())));
            assert!(missing(other.job_check_report(job).map(|_| ())));
            assert!(!other.job_cancel_requested(job).unwrap());
        }
        assert_eq!(other.jobs_of_article(id).unwrap(), vec![]);
        assert_eq!(other.latest_done_job(id).unwrap(), None);
        assert_eq!(other.check_of_audio("key").unwrap(), None);
        assert!(other.job_counts().unwrap().iter().all(|(_, n)| *n == 0));

        // Writing: refused, and the first station's jobs are unchanged.
        let before = store.jobs_of_article(id).unwrap();
        assert_eq!(other.claim_job().unwrap(), None);
        assert!(missing(other.cancel_job(queued.id).map(|_| ())));
        assert!(missing(other.cancel_job(running.id).map(|_| ())));
        assert!(missing(other.set_job_check(
            done.id,
            "unavailable",
            0,
            "x",
            "{}"
        )));
        assert!(refused(other.set_job_progress(running.id, 5, 5)));
        assert!(refused(other.finish_job(running.id, "key")));
        assert!(refused(other.fail_job(running.id, "x")));
        assert!(refused(other.mark_job_cancelled(running.id)));
        assert!(refused(other.requeue_job(running.id)));
        assert_eq!(other.requeue_interrupted_jobs().unwrap(), 0);
        assert_eq!(store.jobs_of_article(id).unwrap(), before);
        // The platform-wide claim does take the station's queued job.
        let claimed = other.claim_next_job("w", LEASE).unwrap().unwrap();
        assert_eq!(
            (claimed.id, claimed.station_id),
            (queued.id, store.station())
        );
    }
}
