//! Render jobs: queued → running → done | failed | cancelled. A job is claimed
//! by one atomic `UPDATE … RETURNING`, so two workers never take the same one
//! (on PostgreSQL the inner select adds `FOR UPDATE SKIP LOCKED`). Jobs found
//! running when the store opens for serving were interrupted and go back to
//! the queue.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::{Store, StoreError, now};

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

    fn parse(text: &str) -> rusqlite::Result<JobState> {
        JobState::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    4,
                    rusqlite::types::Type::Text,
                    format!("unknown job state {text:?}").into(),
                )
            })
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
    pub article_id: i64,
    pub revision: i64,
    pub voice: String,
    pub state: JobState,
    /// Cues synthesized so far, out of `cue_total`.
    pub cue_done: i64,
    pub cue_total: i64,
    pub cancel_requested: bool,
    /// Times the job was started (more than one after a restart).
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
     started_at, finished_at, check_requested, check_state, check_flagged, check_summary";

fn job_row(row: &Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job {
        id: row.get(0)?,
        article_id: row.get(1)?,
        revision: row.get(2)?,
        voice: row.get(3)?,
        state: JobState::parse(&row.get::<_, String>(4)?)?,
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
        check: match row.get::<_, Option<String>>(17)? {
            Some(state) => Some(JobCheck {
                state,
                flagged: row.get::<_, Option<i64>>(18)?.unwrap_or(0),
                summary: row.get::<_, Option<String>>(19)?.unwrap_or_default(),
            }),
            None => None,
        },
    })
}

fn not_found(id: i64) -> StoreError {
    StoreError::NotFound {
        what: "job",
        id: id.to_string(),
    }
}

impl Store {
    /// Queues a render of an article revision, or — when `cached` names audio
    /// already rendered from identical input — records a job that is done at once.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown article revision; SQL errors.
    pub fn add_job(
        &self,
        article_id: i64,
        revision: i64,
        voice: &str,
        requested_by: &str,
        cached: Option<&str>,
        check: bool,
    ) -> Result<Job, StoreError> {
        self.write_sqlite(|tx| {
            let exists: bool = tx.query_row(
                "SELECT count(*) > 0 FROM article_revisions WHERE article_id = ?1 AND revision = ?2",
                params![article_id, revision],
                |r| r.get(0),
            )?;
            if !exists {
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
            tx.execute(
                "INSERT INTO render_jobs (article_id, revision, voice, state, cache_key, cached, \
                 requested_by, created_at, finished_at, check_requested) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
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
            )?;
            let id = tx.last_insert_rowid();
            Ok(tx
                .prepare_cached(&format!("SELECT {JOB_COLUMNS} FROM render_jobs WHERE id = ?1"))?
                .query_row([id], job_row)?)
        })
    }

    /// # Errors
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn job(&self, id: i64) -> Result<Job, StoreError> {
        self.read_sqlite(|c| {
            c.prepare_cached(&format!(
                "SELECT {JOB_COLUMNS} FROM render_jobs WHERE id = ?1"
            ))?
            .query_row([id], job_row)
            .optional()?
            .ok_or_else(|| not_found(id))
        })
    }

    /// An article's jobs, newest first.
    ///
    /// # Errors
    /// SQL errors.
    pub fn jobs_of_article(&self, article_id: i64) -> Result<Vec<Job>, StoreError> {
        self.read_sqlite(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {JOB_COLUMNS} FROM render_jobs WHERE article_id = ?1 ORDER BY id DESC"
            ))?;
            Ok(stmt
                .query_map([article_id], job_row)?
                .collect::<Result<_, _>>()?)
        })
    }

    /// The newest finished render of an article (any revision), with its audio.
    ///
    /// # Errors
    /// SQL errors.
    pub fn latest_done_job(&self, article_id: i64) -> Result<Option<Job>, StoreError> {
        self.read_sqlite(|c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {JOB_COLUMNS} FROM render_jobs WHERE article_id = ?1 AND state = 'done' \
                 ORDER BY revision DESC, id DESC LIMIT 1"
            ))?
            .query_row([article_id], job_row)
            .optional()?)
        })
    }

    /// Takes the oldest queued job and marks it running, atomically.
    ///
    /// # Errors
    /// SQL errors.
    pub fn claim_job(&self) -> Result<Option<Job>, StoreError> {
        self.write_sqlite(|tx| {
            Ok(tx
                .prepare_cached(&format!(
                    "UPDATE render_jobs SET state = 'running', started_at = ?1, \
                     attempts = attempts + 1, cue_done = 0 \
                     WHERE id = (SELECT id FROM render_jobs WHERE state = 'queued' \
                                 ORDER BY id LIMIT 1) \
                     RETURNING {JOB_COLUMNS}"
                ))?
                .query_row([now()], job_row)
                .optional()?)
        })
    }

    /// Records render progress.
    ///
    /// # Errors
    /// SQL errors.
    pub fn set_job_progress(&self, id: i64, done: i64, total: i64) -> Result<(), StoreError> {
        self.write_sqlite(|tx| {
            tx.prepare_cached(
                "UPDATE render_jobs SET cue_done = ?1, cue_total = ?2 WHERE id = ?3",
            )?
            .execute(params![done, total, id])?;
            Ok(())
        })
    }

    /// Marks a running job done with the audio under `cache_key`.
    ///
    /// # Errors
    /// SQL errors.
    pub fn finish_job(&self, id: i64, cache_key: &str) -> Result<(), StoreError> {
        self.end_job(id, JobState::Done, None, Some(cache_key))
    }

    /// Marks a job failed with the error staff see.
    ///
    /// # Errors
    /// SQL errors.
    pub fn fail_job(&self, id: i64, error: &str) -> Result<(), StoreError> {
        self.end_job(id, JobState::Failed, Some(error), None)
    }

    /// Marks a running job cancelled (it stopped at a cancel request).
    ///
    /// # Errors
    /// SQL errors.
    pub fn mark_job_cancelled(&self, id: i64) -> Result<(), StoreError> {
        self.end_job(id, JobState::Cancelled, None, None)
    }

    fn end_job(
        &self,
        id: i64,
        state: JobState,
        error: Option<&str>,
        cache_key: Option<&str>,
    ) -> Result<(), StoreError> {
        self.write_sqlite(|tx| {
            tx.execute(
                "UPDATE render_jobs SET state = ?1, error = ?2, cache_key = coalesce(?3, cache_key), \
                 finished_at = ?4 WHERE id = ?5",
                params![state.as_str(), error, cache_key, now(), id],
            )?;
            Ok(())
        })
    }

    /// Records the listen check of a job: its state (`checked` or
    /// `unavailable`), flagged cues, summary line and the full report (JSON).
    ///
    /// # Errors
    /// SQL errors.
    pub fn set_job_check(
        &self,
        id: i64,
        state: &str,
        flagged: i64,
        summary: &str,
        report_json: &str,
    ) -> Result<(), StoreError> {
        self.write_sqlite(|tx| {
            tx.execute(
                "UPDATE render_jobs SET check_state = ?1, check_flagged = ?2, check_summary = ?3, \
                 check_report = ?4 WHERE id = ?5",
                params![state, flagged, summary, report_json, id],
            )?;
            Ok(())
        })
    }

    /// The full listen check report of a job (JSON), when it was checked.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn job_check_report(&self, id: i64) -> Result<Option<String>, StoreError> {
        self.read_sqlite(|c| {
            c.prepare_cached("SELECT check_report FROM render_jobs WHERE id = ?1")?
                .query_row([id], |r| r.get::<_, Option<String>>(0))
                .optional()?
                .ok_or_else(|| not_found(id))
        })
    }

    /// A listen check already made of the audio under `cache_key` (JSON),
    /// so a render served from the cache reuses it.
    ///
    /// # Errors
    /// SQL errors.
    pub fn check_of_audio(
        &self,
        cache_key: &str,
    ) -> Result<Option<(String, i64, String, String)>, StoreError> {
        self.read_sqlite(|c| {
            Ok(c.prepare_cached(
                "SELECT check_state, check_flagged, check_summary, check_report FROM render_jobs \
                 WHERE cache_key = ?1 AND check_state = 'checked' ORDER BY id DESC LIMIT 1",
            )?
            .query_row([cache_key], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?)
        })
    }

    /// Puts a running job back in the queue (shutdown stopped it).
    ///
    /// # Errors
    /// SQL errors.
    pub fn requeue_job(&self, id: i64) -> Result<(), StoreError> {
        self.write_sqlite(|tx| {
            tx.execute(
                "UPDATE render_jobs SET state = 'queued', started_at = NULL, cue_done = 0 \
                 WHERE id = ?1 AND state = 'running'",
                [id],
            )?;
            Ok(())
        })
    }

    /// Requeues every job left running by a process that stopped without
    /// finishing it. Call once when the only worker starts.
    ///
    /// # Errors
    /// SQL errors.
    pub fn requeue_interrupted_jobs(&self) -> Result<usize, StoreError> {
        self.write_sqlite(|tx| {
            Ok(tx.execute(
                "UPDATE render_jobs SET state = 'queued', started_at = NULL, cue_done = 0 \
                 WHERE state = 'running'",
                [],
            )?)
        })
    }

    /// Cancels a job: a queued one at once, a running one at its next cue
    /// (the worker sees `cancel_requested`). Finished jobs are refused.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Conflict`] for a finished job.
    pub fn cancel_job(&self, id: i64) -> Result<Job, StoreError> {
        self.write_sqlite(|tx| {
            let job = tx
                .prepare_cached(&format!(
                    "SELECT {JOB_COLUMNS} FROM render_jobs WHERE id = ?1"
                ))?
                .query_row([id], job_row)
                .optional()?
                .ok_or_else(|| not_found(id))?;
            match job.state {
                JobState::Queued => {
                    tx.execute(
                        "UPDATE render_jobs SET state = 'cancelled', cancel_requested = 1, \
                         finished_at = ?1 WHERE id = ?2",
                        params![now(), id],
                    )?;
                }
                JobState::Running => {
                    tx.execute(
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
            Ok(tx
                .prepare_cached(&format!(
                    "SELECT {JOB_COLUMNS} FROM render_jobs WHERE id = ?1"
                ))?
                .query_row([id], job_row)?)
        })
    }

    /// Whether someone asked to cancel this job.
    ///
    /// # Errors
    /// SQL errors.
    pub fn job_cancel_requested(&self, id: i64) -> Result<bool, StoreError> {
        self.read_sqlite(|c| {
            Ok(
                c.prepare_cached("SELECT cancel_requested FROM render_jobs WHERE id = ?1")?
                    .query_row([id], |r| r.get(0))
                    .optional()?
                    .unwrap_or(false),
            )
        })
    }

    /// Number of jobs in each state (every state listed, zeros included).
    ///
    /// # Errors
    /// SQL errors.
    pub fn job_counts(&self) -> Result<Vec<(JobState, i64)>, StoreError> {
        self.read_sqlite(|c| {
            let mut stmt =
                c.prepare_cached("SELECT state, count(*) FROM render_jobs GROUP BY state")?;
            let rows: Vec<(String, i64)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
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
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewRevision;

    fn store_with_article() -> (tempfile::TempDir, Store, i64) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (id, _) = store
            .create_article(&NewRevision {
                title: "t".into(),
                file_name: None,
                content_type: "text/plain".into(),
                body: b"t".to_vec(),
                author: "a".into(),
            })
            .unwrap();
        (dir, store, id)
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
        assert!(store.add_job(id, 7, "vi", "a", None, false).is_err());
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
}
