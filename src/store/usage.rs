//! Cloud-voice usage: characters billed per voice and station day, and each
//! render job's bill (estimated when asked for, then what the vendor really
//! received). The cap itself is decided by [`crate::billing::check_cap`];
//! here it is applied inside one write transaction, so two renders racing
//! for the last characters of a day cannot both pass.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

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
        self.read_sqlite(|conn| used(conn, voice, day))
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
        self.write_sqlite(|tx| {
            let used = used(tx, voice, day)?;
            if let Err(refused) = check_cap(voice, day, daily_chars, used, chars) {
                return Ok(Err(refused));
            }
            add(tx, voice, day, chars as i64)?;
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
        self.write_sqlite(|tx| add(tx, voice, day, delta))
    }

    /// Stores a job's estimated bill.
    ///
    /// # Errors
    /// SQL errors.
    pub fn set_job_cost(&self, job: i64, cost: &Cost) -> Result<(), StoreError> {
        let n = |v: u64| v as i64;
        self.write_sqlite(|tx| {
            tx.execute(
                "INSERT INTO job_costs (job_id, billable_chars, cached_chars, to_bill_chars,
                    breath_groups, cached_breath_groups) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (job_id) DO UPDATE SET billable_chars = excluded.billable_chars,
                    cached_chars = excluded.cached_chars, to_bill_chars = excluded.to_bill_chars,
                    breath_groups = excluded.breath_groups,
                    cached_breath_groups = excluded.cached_breath_groups",
                params![
                    job,
                    n(cost.billable_chars),
                    n(cost.cached_chars),
                    n(cost.to_bill_chars),
                    n(cost.breath_groups),
                    n(cost.cached_breath_groups)
                ],
            )?;
            Ok(())
        })
    }

    /// Records what a job's render really sent to the vendor.
    ///
    /// # Errors
    /// SQL errors.
    pub fn set_job_billed(&self, job: i64, billed_chars: u64) -> Result<(), StoreError> {
        self.write_sqlite(|tx| {
            tx.execute(
                "UPDATE job_costs SET billed_chars = ?2 WHERE job_id = ?1",
                params![job, billed_chars as i64],
            )?;
            Ok(())
        })
    }

    /// A job's bill, `None` for a voice not billed per character.
    ///
    /// # Errors
    /// SQL errors.
    pub fn job_cost(&self, job: i64) -> Result<Option<JobCost>, StoreError> {
        self.read_sqlite(|conn| {
            Ok(conn
                .query_row(
                    "SELECT billable_chars, cached_chars, to_bill_chars, breath_groups,
                        cached_breath_groups, billed_chars FROM job_costs WHERE job_id = ?1",
                    [job],
                    |row| {
                        let n = |i| row.get::<_, i64>(i).map(|v| v as u64);
                        Ok(JobCost {
                            estimate: Cost {
                                billable_chars: n(0)?,
                                cached_chars: n(1)?,
                                to_bill_chars: n(2)?,
                                breath_groups: n(3)?,
                                cached_breath_groups: n(4)?,
                            },
                            billed_chars: row.get::<_, Option<i64>>(5)?.map(|v| v as u64),
                        })
                    },
                )
                .optional()?)
        })
    }
}

fn used(conn: &rusqlite::Connection, voice: &str, day: &str) -> Result<u64, StoreError> {
    let chars: Option<i64> = conn
        .query_row(
            "SELECT chars FROM voice_usage WHERE voice = ?1 AND day = ?2",
            params![voice, day],
            |row| row.get(0),
        )
        .optional()?;
    Ok(chars.unwrap_or(0) as u64)
}

fn add(conn: &rusqlite::Connection, voice: &str, day: &str, delta: i64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO voice_usage (voice, day, chars, updated_at) VALUES (?1, ?2, MAX(?3, 0), ?4)
         ON CONFLICT (voice, day) DO UPDATE
            SET chars = MAX(voice_usage.chars + ?3, 0), updated_at = excluded.updated_at",
        params![voice, day, delta, now()],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_count_per_voice_and_day_and_stop_at_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
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
    }
}
