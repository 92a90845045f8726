//! Bulletins: the articles approved for a (date, slot) in editor order, and
//! the record of every scheduler run (the store is the scheduler's
//! [`RunLog`]).
//!
//! Station-scoped: a station's bulletin items and runs are its own (two
//! stations may both have a `sang` bulletin on one date), and only the
//! station's own live articles can be approved into its bulletins.

use jiff::civil::Date;

use super::db::{Row, params};
use super::{Store, StoreError, now};
use crate::bulletin::schedule::{Outcome, RunKey, RunLog, RunLogError, RunRecord, Trigger};

/// One approved article of a bulletin, with its current state.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovedItem {
    /// 1 = the top story.
    pub position: i64,
    pub article_id: i64,
    pub approved_by: String,
    pub approved_at: String,
    /// The article's title and latest revision now.
    pub title: String,
    pub latest_revision: i64,
    /// Set when the article was deleted after it was approved.
    pub deleted_at: Option<String>,
}

fn trigger_text(trigger: Trigger) -> &'static str {
    match trigger {
        Trigger::Schedule => "schedule",
        Trigger::CatchUp => "catch_up",
        Trigger::Manual => "manual",
    }
}

fn trigger_of(text: &str) -> Trigger {
    match text {
        "schedule" => Trigger::Schedule,
        "catch_up" => Trigger::CatchUp,
        _ => Trigger::Manual,
    }
}

/// A stored instant or date, read back; a bad one is a corrupt row.
fn parsed<T>(text: &str, column: usize) -> Result<T, StoreError>
where
    T: std::str::FromStr<Err = jiff::Error>,
{
    text.parse()
        .map_err(|e: jiff::Error| StoreError::Sql(format!("column {column}: {text:?}: {e}")))
}

const RUN_COLUMNS: &str =
    "date, slot, run_trigger, attempt, fingerprint, started_at, finished_at, status, detail";

fn run_row(row: &Row) -> Result<RunRecord, StoreError> {
    let date: String = row.get(0)?;
    let trigger: String = row.get(2)?;
    let started: String = row.get(5)?;
    let finished: String = row.get(6)?;
    let status: String = row.get(7)?;
    let detail: Option<String> = row.get(8)?;
    let detail = detail.unwrap_or_default();
    Ok(RunRecord {
        key: RunKey {
            date: parsed(&date, 0)?,
            slot: row.get(1)?,
        },
        trigger: trigger_of(&trigger),
        attempt: row.get(3)?,
        fingerprint: row.get(4)?,
        started_at: parsed(&started, 5)?,
        finished_at: parsed(&finished, 6)?,
        outcome: match status.as_str() {
            "built" => Outcome::Built { summary: detail },
            "reused" => Outcome::Reused,
            _ => Outcome::Failed { reason: detail },
        },
    })
}

impl Store {
    /// Replaces the approved articles of a (date, slot) with `article_ids`,
    /// in that order. Every article must be the station's, exist (and not
    /// be deleted), once.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] naming an unknown article,
    /// [`StoreError::Invalid`] for an article listed twice; SQL errors.
    pub fn approve_bulletin(
        &self,
        date: Date,
        slot: &str,
        article_ids: &[i64],
        approved_by: &str,
    ) -> Result<(), StoreError> {
        for (i, id) in article_ids.iter().enumerate() {
            if article_ids[..i].contains(id) {
                return Err(StoreError::Invalid(format!(
                    "article {id} is listed twice in the {slot} bulletin of {date}"
                )));
            }
        }
        let date = date.to_string();
        let station = self.station();
        self.write(|db| {
            for &id in article_ids {
                let exists = db.query_opt(
                    "SELECT id FROM articles WHERE id = ?1 AND station_id = ?2 \
                     AND deleted_at IS NULL",
                    [id, station],
                    |r| r.get::<i64>(0),
                )?;
                if exists.is_none() {
                    return Err(StoreError::NotFound {
                        what: "article",
                        id: id.to_string(),
                    });
                }
            }
            // Keep who approved an article first and when, across reorders.
            let mut earlier: std::collections::HashMap<i64, (String, String)> = db
                .query_map(
                    "SELECT article_id, approved_by, approved_at FROM bulletin_items \
                     WHERE station_id = ?1 AND date = ?2 AND slot = ?3",
                    params![station, date, slot],
                    |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))),
                )?
                .into_iter()
                .collect();
            db.execute(
                "DELETE FROM bulletin_items WHERE station_id = ?1 AND date = ?2 AND slot = ?3",
                params![station, date, slot],
            )?;
            let at = now();
            for (index, id) in article_ids.iter().enumerate() {
                let (by, when) = earlier
                    .remove(id)
                    .unwrap_or_else(|| (approved_by.to_string(), at.clone()));
                db.execute(
                    "INSERT INTO bulletin_items (station_id, date, slot, position, article_id, \
                     approved_by, approved_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![station, date, slot, index as i64 + 1, id, by, when],
                )?;
            }
            Ok(())
        })
    }

    /// The approved articles of a (date, slot) in order, deleted ones included
    /// (marked), so a run can name them.
    ///
    /// # Errors
    /// SQL errors.
    pub fn approved_items(&self, date: Date, slot: &str) -> Result<Vec<ApprovedItem>, StoreError> {
        let station = self.station();
        self.read(|db| {
            db.query_map(
                "SELECT b.position, b.article_id, b.approved_by, b.approved_at, a.title, \
                 a.latest_revision, a.deleted_at FROM bulletin_items b \
                 JOIN articles a ON a.id = b.article_id AND a.station_id = b.station_id \
                 WHERE b.station_id = ?1 AND b.date = ?2 AND b.slot = ?3 ORDER BY b.position",
                params![station, date.to_string(), slot],
                |r| {
                    Ok(ApprovedItem {
                        position: r.get(0)?,
                        article_id: r.get(1)?,
                        approved_by: r.get(2)?,
                        approved_at: r.get(3)?,
                        title: r.get(4)?,
                        latest_revision: r.get(5)?,
                        deleted_at: r.get(6)?,
                    })
                },
            )
        })
    }

    /// Every run of a (date, slot), newest first.
    ///
    /// # Errors
    /// SQL errors.
    pub fn bulletin_runs(&self, key: &RunKey) -> Result<Vec<RunRecord>, StoreError> {
        let station = self.station();
        self.read(|db| {
            db.query_map(
                &format!(
                    "SELECT {RUN_COLUMNS} FROM bulletin_runs \
                     WHERE station_id = ?1 AND date = ?2 AND slot = ?3 ORDER BY id DESC"
                ),
                params![station, key.date.to_string(), key.slot],
                run_row,
            )
        })
    }

    /// Records one run.
    ///
    /// # Errors
    /// SQL errors.
    pub fn record_bulletin_run(&self, record: &RunRecord) -> Result<(), StoreError> {
        let (status, detail) = match &record.outcome {
            Outcome::Built { summary } => ("built", Some(summary.as_str())),
            Outcome::Reused => ("reused", None),
            Outcome::Failed { reason } => ("failed", Some(reason.as_str())),
        };
        let station = self.station();
        self.write(|db| {
            db.execute(
                &format!(
                    "INSERT INTO bulletin_runs (station_id, {RUN_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                ),
                params![
                    station,
                    record.key.date.to_string(),
                    record.key.slot,
                    trigger_text(record.trigger),
                    record.attempt,
                    record.fingerprint,
                    record.started_at.to_string(),
                    record.finished_at.to_string(),
                    status,
                    detail
                ],
            )?;
            Ok(())
        })
    }

    /// The bulletins built at least once, the latest build first, at most
    /// `limit` (the podcast feed's episodes).
    ///
    /// # Errors
    /// SQL errors.
    pub fn built_bulletins(&self, limit: usize) -> Result<Vec<RunKey>, StoreError> {
        let station = self.station();
        self.read(|db| {
            db.query_map(
                "SELECT date, slot FROM bulletin_runs WHERE station_id = ?1 AND status = 'built' \
                 GROUP BY date, slot ORDER BY MAX(id) DESC LIMIT ?2",
                params![station, i64::try_from(limit).unwrap_or(i64::MAX)],
                |row| {
                    Ok(RunKey {
                        date: parsed(&row.get::<String>(0)?, 0)?,
                        slot: row.get(1)?,
                    })
                },
            )
        })
    }

    /// The latest built or reused run of a (date, slot).
    ///
    /// # Errors
    /// SQL errors.
    pub fn last_bulletin_success(&self, key: &RunKey) -> Result<Option<RunRecord>, StoreError> {
        let station = self.station();
        self.read(|db| {
            db.query_opt(
                &format!(
                    "SELECT {RUN_COLUMNS} FROM bulletin_runs \
                     WHERE station_id = ?1 AND date = ?2 AND slot = ?3 \
                       AND status IN ('built', 'reused') ORDER BY id DESC LIMIT 1"
                ),
                params![station, key.date.to_string(), key.slot],
                run_row,
            )
        })
    }
}

/// How long a node holds a scheduled bulletin it is building before another
/// node may take it up (the node died mid-build). Longer than any build.
pub const SLOT_LEASE_MS: i64 = 60 * 60 * 1000;

impl Store {
    /// Claims the scheduled run of this station's bulletin `key` for
    /// `owner`: true when no node has it, or the node that had it neither
    /// finished nor renewed it within [`SLOT_LEASE_MS`]. One row per
    /// (station, date, slot) decides, so however many nodes run the
    /// scheduler, each scheduled bulletin is built by one.
    ///
    /// # Errors
    /// SQL errors.
    pub fn claim_bulletin_slot(&self, key: &RunKey, owner: &str) -> Result<bool, StoreError> {
        let now_ms = super::now_ms();
        let claimed = self.write_queue(|db| {
            db.query_opt(
                "INSERT INTO bulletin_slots (station_id, date, slot, owner, lease_until_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (station_id, date, slot) DO UPDATE \
                 SET owner = excluded.owner, lease_until_ms = excluded.lease_until_ms \
                 WHERE bulletin_slots.finished_at IS NULL AND bulletin_slots.lease_until_ms < ?6 \
                 RETURNING owner",
                params![
                    self.station(),
                    key.date.to_string(),
                    key.slot,
                    owner,
                    now_ms + SLOT_LEASE_MS,
                    now_ms
                ],
                |r| r.get::<String>(0),
            )
        })?;
        Ok(claimed.as_deref() == Some(owner))
    }

    /// Records that `owner` finished the scheduled run of `key` (built,
    /// reused or failed after its retries): no node runs it again.
    ///
    /// # Errors
    /// SQL errors.
    pub fn finish_bulletin_slot(&self, key: &RunKey, owner: &str) -> Result<(), StoreError> {
        self.write_queue(|db| {
            db.execute(
                "UPDATE bulletin_slots SET finished_at = ?5 \
                 WHERE station_id = ?1 AND date = ?2 AND slot = ?3 AND owner = ?4",
                params![self.station(), key.date.to_string(), key.slot, owner, now()],
            )
        })?;
        Ok(())
    }
}

impl Store {
    /// Lets go of a claimed scheduled run that failed, so a later catch-up
    /// (on any node) may try it again.
    ///
    /// # Errors
    /// SQL errors.
    pub fn release_bulletin_slot(&self, key: &RunKey, owner: &str) -> Result<(), StoreError> {
        self.write_queue(|db| {
            db.execute(
                "UPDATE bulletin_slots SET lease_until_ms = 0 \
                 WHERE station_id = ?1 AND date = ?2 AND slot = ?3 AND owner = ?4 \
                 AND finished_at IS NULL",
                params![self.station(), key.date.to_string(), key.slot, owner],
            )
        })?;
        Ok(())
    }
}

impl RunLog for Store {
    fn claim_scheduled(&self, key: &RunKey, owner: &str) -> Result<bool, RunLogError> {
        self.claim_bulletin_slot(key, owner)
            .map_err(|e| RunLogError(e.to_string()))
    }

    fn finish_scheduled(
        &self,
        key: &RunKey,
        owner: &str,
        succeeded: bool,
    ) -> Result<(), RunLogError> {
        let done = if succeeded {
            self.finish_bulletin_slot(key, owner)
        } else {
            self.release_bulletin_slot(key, owner)
        };
        done.map_err(|e| RunLogError(e.to_string()))
    }

    fn record_run(&self, record: &RunRecord) -> Result<(), RunLogError> {
        self.record_bulletin_run(record)
            .map_err(|e| RunLogError(e.to_string()))
    }

    fn last_success(&self, key: &RunKey) -> Result<Option<RunRecord>, RunLogError> {
        self.last_bulletin_success(key)
            .map_err(|e| RunLogError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheduled_bulletin_is_claimed_by_one_node_per_station() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let other = testing::add_station(&store, "huyen-b").unwrap();
        let key = RunKey {
            date: "2026-12-06".parse().unwrap(),
            slot: "sang".into(),
        };
        assert!(store.claim_bulletin_slot(&key, "node-a").unwrap());
        assert!(
            !store.claim_bulletin_slot(&key, "node-b").unwrap(),
            "held by node-a"
        );
        assert!(
            other.claim_bulletin_slot(&key, "node-b").unwrap(),
            "another station's bulletin of the same date and slot is its own"
        );
        store.finish_bulletin_slot(&key, "node-a").unwrap();
        assert!(
            !store.claim_bulletin_slot(&key, "node-b").unwrap(),
            "finished: never again"
        );
        // A node that died mid-build: its lease runs out, another takes over.
        let later = RunKey {
            date: "2026-12-07".parse().unwrap(),
            slot: "sang".into(),
        };
        assert!(store.claim_bulletin_slot(&later, "node-a").unwrap());
        store
            .write_queue(|db| {
                db.execute(
                    "UPDATE bulletin_slots SET lease_until_ms = 0 WHERE date = '2026-12-07'",
                    params![],
                )
            })
            .unwrap();
        assert!(store.claim_bulletin_slot(&later, "node-b").unwrap());
    }
    use crate::store::{NewRevision, testing};
    use jiff::Timestamp;

    fn upload(store: &Store, title: &str) -> i64 {
        store
            .create_article(&NewRevision {
                title: title.into(),
                file_name: None,
                content_type: "text/plain".into(),
                body: title.as_bytes().to_vec(),
                author: "test".into(),
            })
            .unwrap()
            .0
    }

    #[test]
    fn approvals_keep_order_and_runs_are_logged() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let a = upload(&store, "Một");
        let b = upload(&store, "Hai");
        let date: Date = "2021-07-29".parse().unwrap();
        store.approve_bulletin(date, "sang", &[b, a], "ed").unwrap();
        let items = store.approved_items(date, "sang").unwrap();
        assert_eq!(
            items.iter().map(|i| i.article_id).collect::<Vec<_>>(),
            [b, a]
        );
        assert!(matches!(
            store.approve_bulletin(date, "sang", &[a, 999], "ed"),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            store.approve_bulletin(date, "sang", &[a, a], "ed"),
            Err(StoreError::Invalid(_))
        ));
        // The failed replacements changed nothing.
        assert_eq!(store.approved_items(date, "sang").unwrap().len(), 2);
        store.delete_article(a).unwrap();
        let items = store.approved_items(date, "sang").unwrap();
        assert!(items[1].deleted_at.is_some());

        let key = RunKey {
            date,
            slot: "sang".into(),
        };
        let at: Timestamp = "2021-07-28T23:00:00Z".parse().unwrap();
        let record = |outcome| RunRecord {
            key: key.clone(),
            trigger: Trigger::Schedule,
            attempt: 1,
            fingerprint: "f1".into(),
            started_at: at,
            finished_at: at,
            outcome,
        };
        store
            .record_run(&record(Outcome::Built {
                summary: "x.wav".into(),
            }))
            .unwrap();
        store
            .record_run(&record(Outcome::Failed {
                reason: "no".into(),
            }))
            .unwrap();
        assert!(store.has_result(&key, "f1").unwrap());
        assert!(!store.has_result(&key, "f2").unwrap());
        let runs = store.bulletin_runs(&key).unwrap();
        assert_eq!(runs.len(), 2);
        assert!(matches!(runs[0].outcome, Outcome::Failed { .. }));
        assert_eq!(
            runs[1],
            record(Outcome::Built {
                summary: "x.wav".into()
            })
        );
    }

    #[test]
    fn another_station_sees_and_changes_none_of_the_bulletins() {
        let dir = tempfile::tempdir().unwrap();
        let first = testing::open(dir.path());
        let second = testing::add_station(&first, "thu-hai").unwrap();
        let a = upload(&first, "Tin đài một");
        let date: Date = "2026-12-06".parse().unwrap();
        first.approve_bulletin(date, "sang", &[a], "ed").unwrap();
        let key = RunKey {
            date,
            slot: "sang".into(),
        };
        let at: Timestamp = "2026-12-05T23:00:00Z".parse().unwrap();
        let built = RunRecord {
            key: key.clone(),
            trigger: Trigger::Schedule,
            attempt: 1,
            fingerprint: "f1".into(),
            started_at: at,
            finished_at: at,
            outcome: Outcome::Built {
                summary: "sang.wav".into(),
            },
        };
        first.record_run(&built).unwrap();

        assert!(second.approved_items(date, "sang").unwrap().is_empty());
        assert!(second.bulletin_runs(&key).unwrap().is_empty());
        assert_eq!(second.last_bulletin_success(&key).unwrap(), None);
        assert!(!second.has_result(&key, "f1").unwrap());
        assert!(second.built_bulletins(10).unwrap().is_empty());
        assert!(matches!(
            second.approve_bulletin(date, "sang", &[a], "ed"),
            Err(StoreError::NotFound { .. })
        ));

        // The same (date, slot) at the second station is a bulletin of its own.
        let b = upload(&second, "Tin đài hai");
        second.approve_bulletin(date, "sang", &[b], "ed2").unwrap();
        second
            .record_run(&RunRecord {
                fingerprint: "f2".into(),
                outcome: Outcome::Failed {
                    reason: "no".into(),
                },
                ..built.clone()
            })
            .unwrap();
        let items = first.approved_items(date, "sang").unwrap();
        assert_eq!(
            items
                .iter()
                .map(|i| (i.article_id, i.approved_by.as_str()))
                .collect::<Vec<_>>(),
            [(a, "ed")]
        );
        assert_eq!(
            first.bulletin_runs(&key).unwrap(),
            std::slice::from_ref(&built)
        );
        assert_eq!(first.last_bulletin_success(&key).unwrap(), Some(built));
        assert_eq!(
            first.built_bulletins(10).unwrap(),
            std::slice::from_ref(&key)
        );
        assert_eq!(
            second.approved_items(date, "sang").unwrap()[0].article_id,
            b
        );
        assert_eq!(second.bulletin_runs(&key).unwrap().len(), 1);
    }
}
