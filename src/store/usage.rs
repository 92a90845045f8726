//! Cloud-voice usage of a station: characters billed per voice and station
//! day, and each render job's bill (estimated when asked for, then what the
//! vendor really received). The cap itself is decided by
//! [`crate::billing::check_cap`]; here it is applied inside one write
//! transaction, so two renders racing for the last characters of a day
//! cannot both pass.
//!
//! Station-scoped: usage rows carry the store's station, and a job's bill is
//! reached through its render job, so another station's job has none.

use serde::Serialize;

use super::db::{Db, params};
use super::{Store, StoreError, now};
use crate::billing::{Cost, OverCap, check_cap};

/// A render job's bill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct JobCost {
    /// As estimated when the render was asked for.
    #[serde(flatten)]
    pub estimate: Cost,
    /// Characters the vendor really received; `None` until the render spoke.
    pub billed_chars: Option<u64>,
}

impl Store {
    /// Characters `voice` was billed on `day`.
    ///
    /// # Errors
    /// SQL errors.
    pub fn voice_usage(&self, voice: &str, day: &str) -> Result<u64, StoreError> {
        self.read(|db| self.used(db, voice, day))
    }

    /// Counts `chars` for `voice` on `day` unless that passes `daily_chars`:
    /// the check and the count are one transaction. Returns the day's total,
    /// or the refusal.
    ///
    /// # Errors
    /// SQL errors.
    pub fn charge_voice(
        &self,
        voice: &str,
        day: &str,
        chars: u64,
        daily_chars: Option<u64>,
    ) -> Result<Result<u64, OverCap>, StoreError> {
        self.write(|db| {
            let used = self.used(db, voice, day)?;
            if let Err(refused) = check_cap(voice, day, daily_chars, used, chars) {
                return Ok(Err(refused));
            }
            self.add_usage(db, voice, day, to_i64(chars))?;
            Ok(Ok(used + chars))
        })
    }

    /// Corrects the day's count by `delta` (a render that spoke less than it
    /// reserved gives the rest back; never below zero).
    ///
    /// # Errors
    /// SQL errors.
    pub fn adjust_voice_usage(&self, voice: &str, day: &str, delta: i64) -> Result<(), StoreError> {
        if delta == 0 {
            return Ok(());
        }
        self.write(|db| self.add_usage(db, voice, day, delta))
    }

    /// Stores a job's estimated bill.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a job the station does not have; SQL errors.
    pub fn set_job_cost(&self, job: i64, cost: &Cost) -> Result<(), StoreError> {
        let changed = self.write(|db| {
            db.execute(
                "INSERT INTO job_costs (job_id, billable_chars, cached_chars, to_bill_chars,
                    breath_groups, cached_breath_groups)
                 SELECT id, ?2, ?3, ?4, ?5, ?6 FROM render_jobs WHERE id = ?1 AND station_id = ?7
                 ON CONFLICT (job_id) DO UPDATE SET billable_chars = excluded.billable_chars,
                    cached_chars = excluded.cached_chars, to_bill_chars = excluded.to_bill_chars,
                    breath_groups = excluded.breath_groups,
                    cached_breath_groups = excluded.cached_breath_groups",
                params![
                    job,
                    to_i64(cost.billable_chars),
                    to_i64(cost.cached_chars),
                    to_i64(cost.to_bill_chars),
                    to_i64(cost.breath_groups),
                    to_i64(cost.cached_breath_groups),
                    self.station()
                ],
            )
        })?;
        if changed == 0 {
            return Err(job_not_found(job));
        }
        Ok(())
    }

    /// Records what a job's render really sent to the vendor (nothing for a
    /// job without an estimated bill: its voice is not billed per character).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a job the station does not have; SQL errors.
    pub fn set_job_billed(&self, job: i64, billed_chars: u64) -> Result<(), StoreError> {
        self.write(|db| {
            let jobs: i64 = db.query_row(
                "SELECT count(*) FROM render_jobs WHERE id = ?1 AND station_id = ?2",
                [job, self.station()],
                |r| r.get(0),
            )?;
            if jobs == 0 {
                return Err(job_not_found(job));
            }
            db.execute(
                "UPDATE job_costs SET billed_chars = ?2 WHERE job_id = ?1",
                params![job, to_i64(billed_chars)],
            )?;
            Ok(())
        })
    }

    /// A job's bill, `None` for a voice not billed per character (or a job
    /// the station does not have).
    ///
    /// # Errors
    /// SQL errors.
    pub fn job_cost(&self, job: i64) -> Result<Option<JobCost>, StoreError> {
        self.read(|db| {
            db.query_opt(
                "SELECT c.billable_chars, c.cached_chars, c.to_bill_chars, c.breath_groups,
                    c.cached_breath_groups, c.billed_chars
                 FROM job_costs c JOIN render_jobs j ON j.id = c.job_id
                 WHERE c.job_id = ?1 AND j.station_id = ?2",
                [job, self.station()],
                |row| {
                    Ok(JobCost {
                        estimate: Cost {
                            billable_chars: row.get(0)?,
                            cached_chars: row.get(1)?,
                            to_bill_chars: row.get(2)?,
                            breath_groups: row.get(3)?,
                            cached_breath_groups: row.get(4)?,
                        },
                        billed_chars: row.get(5)?,
                    })
                },
            )
        })
    }

    fn used(&self, db: &Db<'_>, voice: &str, day: &str) -> Result<u64, StoreError> {
        let chars: Option<u64> = db.query_opt(
            "SELECT chars FROM voice_usage WHERE station_id = ?1 AND voice = ?2 AND day = ?3",
            params![self.station(), voice, day],
            |row| row.get(0),
        )?;
        Ok(chars.unwrap_or(0))
    }

    fn add_usage(&self, db: &Db<'_>, voice: &str, day: &str, delta: i64) -> Result<(), StoreError> {
        db.execute(
            "INSERT INTO voice_usage (station_id, voice, day, chars, updated_at)
             VALUES (?1, ?2, ?3, CASE WHEN CAST(?4 AS BIGINT) > 0 THEN CAST(?4 AS BIGINT) ELSE 0 END, ?5)
             ON CONFLICT (station_id, voice, day) DO UPDATE
                SET chars = CASE WHEN voice_usage.chars + CAST(?4 AS BIGINT) > 0
                                 THEN voice_usage.chars + CAST(?4 AS BIGINT) ELSE 0 END,
                    updated_at = excluded.updated_at",
            params![self.station(), voice, day, delta, now()],
        )?;
        Ok(())
    }
}

/// Character counts fit a 64-bit column long before they fit a vendor's bill.
fn to_i64(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

fn job_not_found(job: i64) -> StoreError {
    StoreError::NotFound {
        what: "job",
        id: job.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing;

    fn cost(to_bill_chars: u64) -> Cost {
        Cost {
            billable_chars: to_bill_chars + 10,
            cached_chars: 10,
            to_bill_chars,
            breath_groups: 3,
            cached_breath_groups: 1,
        }
    }

    #[test]
    fn charges_count_per_voice_and_day_and_stop_at_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        assert_eq!(
            store
                .charge_voice("a", "2026-03-01", 60, Some(100))
                .unwrap(),
            Ok(60)
        );
        let refused = store
            .charge_voice("a", "2026-03-01", 41, Some(100))
            .unwrap()
            .unwrap_err();
        assert_eq!((refused.used_chars, refused.needed_chars), (60, 41));
        // A refusal counts nothing; another day and another voice start at 0.
        assert_eq!(store.voice_usage("a", "2026-03-01").unwrap(), 60);
        assert_eq!(
            store
                .charge_voice("a", "2026-03-02", 41, Some(100))
                .unwrap(),
            Ok(41)
        );
        assert_eq!(
            store.charge_voice("b", "2026-03-01", 500, None).unwrap(),
            Ok(500)
        );
        store.adjust_voice_usage("a", "2026-03-01", -70).unwrap();
        assert_eq!(store.voice_usage("a", "2026-03-01").unwrap(), 0);
        // A correction of a day never charged starts it at zero, not below.
        store.adjust_voice_usage("c", "2026-03-01", -5).unwrap();
        assert_eq!(store.voice_usage("c", "2026-03-01").unwrap(), 0);
    }

    #[test]
    fn a_job_bill_is_estimated_then_billed() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let article = testing::add_article(&store, "Tin").unwrap();
        let job = store.add_job(article, 1, "fpt", "a", None, false).unwrap();
        assert_eq!(store.job_cost(job.id).unwrap(), None);
        store.set_job_cost(job.id, &cost(100)).unwrap();
        store.set_job_cost(job.id, &cost(90)).unwrap();
        assert_eq!(
            store.job_cost(job.id).unwrap(),
            Some(JobCost {
                estimate: cost(90),
                billed_chars: None
            })
        );
        store.set_job_billed(job.id, 85).unwrap();
        assert_eq!(
            store.job_cost(job.id).unwrap().unwrap().billed_chars,
            Some(85)
        );
        assert!(matches!(
            store.set_job_cost(job.id + 1, &cost(1)),
            Err(StoreError::NotFound { .. })
        ));
    }

    #[test]
    fn another_station_sees_and_changes_none_of_the_usage() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let other = testing::add_station(&store, "hue").unwrap();
        let article = testing::add_article(&store, "Tin").unwrap();
        let job = store.add_job(article, 1, "fpt", "a", None, false).unwrap();
        store.set_job_cost(job.id, &cost(100)).unwrap();
        store.set_job_billed(job.id, 95).unwrap();
        store
            .charge_voice("fpt", "2026-03-01", 95, Some(100))
            .unwrap()
            .unwrap();

        // The same voice and day are counted apart for each station.
        assert_eq!(other.voice_usage("fpt", "2026-03-01").unwrap(), 0);
        assert_eq!(
            other
                .charge_voice("fpt", "2026-03-01", 80, Some(100))
                .unwrap(),
            Ok(80)
        );
        other.adjust_voice_usage("fpt", "2026-03-01", -80).unwrap();
        assert_eq!(other.voice_usage("fpt", "2026-03-01").unwrap(), 0);
        assert_eq!(store.voice_usage("fpt", "2026-03-01").unwrap(), 95);

        // Another station's job has no bill, and its bill cannot be set.
        assert_eq!(other.job_cost(job.id).unwrap(), None);
        assert!(matches!(
            other.set_job_cost(job.id, &cost(1)),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            other.set_job_billed(job.id, 1),
            Err(StoreError::NotFound { .. })
        ));
        assert_eq!(
            store.job_cost(job.id).unwrap(),
            Some(JobCost {
                estimate: cost(100),
                billed_chars: Some(95)
            })
        );
    }
}
