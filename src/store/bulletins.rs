//! Bulletins: the articles approved for a (date, slot) in editor order, and
//! the record of every scheduler run (the store is the scheduler's
//! [`RunLog`]).

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{OptionalExtension, Row, params};

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

fn timestamp(text: &str, column: usize) -> rusqlite::Result<Timestamp> {
    text.parse().map_err(|e: jiff::Error| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(e))
    })
}

const RUN_COLUMNS: &str =
    "date, slot, run_trigger, attempt, fingerprint, started_at, finished_at, status, detail";

fn run_row(row: &Row<'_>) -> rusqlite::Result<RunRecord> {
    let date: String = row.get(0)?;
    let date: Date = date.parse().map_err(|e: jiff::Error| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })?;
    let trigger: String = row.get(2)?;
    let started: String = row.get(5)?;
    let finished: String = row.get(6)?;
    let status: String = row.get(7)?;
    let detail: Option<String> = row.get(8)?;
    let detail = detail.unwrap_or_default();
    Ok(RunRecord {
        key: RunKey {
            date,
            slot: row.get(1)?,
        },
        trigger: trigger_of(&trigger),
        attempt: row.get(3)?,
        fingerprint: row.get(4)?,
        started_at: timestamp(&started, 5)?,
        finished_at: timestamp(&finished, 6)?,
        outcome: match status.as_str() {
            "built" => Outcome::Built { summary: detail },
            "reused" => Outcome::Reused,
            _ => Outcome::Failed { reason: detail },
        },
    })
}

impl Store {
    /// Replaces the approved articles of a (date, slot) with `article_ids`,
    /// in that order. Every article must exist (and not be deleted), once.
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
        self.write_sqlite(|tx| {
            for id in article_ids {
                let exists: Option<i64> = tx
                    .query_row(
                        "SELECT id FROM articles WHERE id = ?1 AND deleted_at IS NULL",
                        [id],
                        |r| r.get(0),
                    )
                    .optional()?;
                if exists.is_none() {
                    return Err(StoreError::NotFound {
                        what: "article",
                        id: id.to_string(),
                    });
                }
            }
            // Keep who approved an article first and when, across reorders.
            let mut earlier = std::collections::HashMap::new();
            {
                let mut stmt = tx.prepare(
                    "SELECT article_id, approved_by, approved_at FROM bulletin_items \
                     WHERE date = ?1 AND slot = ?2",
                )?;
                let rows = stmt.query_map(params![date, slot], |r| {
                    Ok((r.get::<_, i64>(0)?, (r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
                })?;
                for row in rows {
                    let (id, who) = row?;
                    earlier.insert(id, who);
                }
            }
            tx.execute(
                "DELETE FROM bulletin_items WHERE date = ?1 AND slot = ?2",
                params![date, slot],
            )?;
            let at = now();
            for (index, id) in article_ids.iter().enumerate() {
                let (by, when) = earlier
                    .remove(id)
                    .unwrap_or_else(|| (approved_by.to_string(), at.clone()));
                tx.execute(
                    "INSERT INTO bulletin_items (date, slot, position, article_id, approved_by, approved_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![date, slot, index as i64 + 1, id, by, when],
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
        self.read_sqlite(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT b.position, b.article_id, b.approved_by, b.approved_at, a.title, \
                 a.latest_revision, a.deleted_at FROM bulletin_items b \
                 JOIN articles a ON a.id = b.article_id \
                 WHERE b.date = ?1 AND b.slot = ?2 ORDER BY b.position",
            )?;
            let rows = stmt.query_map(params![date.to_string(), slot], |r| {
                Ok(ApprovedItem {
                    position: r.get(0)?,
                    article_id: r.get(1)?,
                    approved_by: r.get(2)?,
                    approved_at: r.get(3)?,
                    title: r.get(4)?,
                    latest_revision: r.get(5)?,
                    deleted_at: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Every run of a (date, slot), newest first.
    ///
    /// # Errors
    /// SQL errors.
    pub fn bulletin_runs(&self, key: &RunKey) -> Result<Vec<RunRecord>, StoreError> {
        self.read_sqlite(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {RUN_COLUMNS} FROM bulletin_runs WHERE date = ?1 AND slot = ?2 \
                 ORDER BY id DESC"
            ))?;
            let rows = stmt.query_map(params![key.date.to_string(), key.slot], run_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
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
        self.write_sqlite(|tx| {
            tx.execute(
                &format!(
                    "INSERT INTO bulletin_runs ({RUN_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ),
                params![
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
        self.read_sqlite(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT date, slot FROM bulletin_runs WHERE status = 'built' \
                 GROUP BY date, slot ORDER BY MAX(id) DESC LIMIT ?1",
            )?;
            let rows =
                stmt.query_map(params![i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
                    let date: String = row.get(0)?;
                    let date: Date = date.parse().map_err(|e: jiff::Error| {
                        rusqlite::Error::FromSqlConversionFailure(
                            0,
                            rusqlite::types::Type::Text,
                            Box::new(e),
                        )
                    })?;
                    Ok(RunKey {
                        date,
                        slot: row.get(1)?,
                    })
                })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// The latest built or reused run of a (date, slot).
    ///
    /// # Errors
    /// SQL errors.
    pub fn last_bulletin_success(&self, key: &RunKey) -> Result<Option<RunRecord>, StoreError> {
        self.read_sqlite(|c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {RUN_COLUMNS} FROM bulletin_runs WHERE date = ?1 AND slot = ?2 \
                 AND status IN ('built', 'reused') ORDER BY id DESC LIMIT 1"
            ))?
            .query_row(params![key.date.to_string(), key.slot], run_row)
            .optional()?)
        })
    }
}

impl RunLog for Store {
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
    use crate::store::NewRevision;

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
        let store = Store::open(dir.path()).unwrap();
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
}
