//! Webhooks and their deliveries: the URLs a station registered, and every
//! call owed to them with its state, attempts and last answer. An event is
//! written here for each subscribed webhook before anything is sent, so a
//! receiver that is down loses nothing; [`crate::hooks`] sends and retries.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, now};

/// What a station can hear of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Event {
    /// A render job finished; its audio and script are ready.
    #[serde(rename = "render.done")]
    RenderDone,
    /// A render job failed (the error is in the body).
    #[serde(rename = "render.failed")]
    RenderFailed,
    /// A bulletin's files landed in the drop folder.
    #[serde(rename = "bulletin.delivered")]
    BulletinDelivered,
    /// The listen check flagged a render, or held a bulletin.
    #[serde(rename = "check.flagged")]
    CheckFlagged,
}

impl Event {
    pub const ALL: [Event; 4] = [
        Event::RenderDone,
        Event::RenderFailed,
        Event::BulletinDelivered,
        Event::CheckFlagged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::RenderDone => "render.done",
            Event::RenderFailed => "render.failed",
            Event::BulletinDelivered => "bulletin.delivered",
            Event::CheckFlagged => "check.flagged",
        }
    }

    /// # Errors
    /// [`StoreError::Invalid`] naming the accepted values.
    pub fn parse(text: &str) -> Result<Event, StoreError> {
        Event::ALL
            .into_iter()
            .find(|e| e.as_str() == text)
            .ok_or_else(|| {
                StoreError::Invalid(format!(
                    "unknown event {text:?} (one of {})",
                    Event::ALL.map(Event::as_str).join(", ")
                ))
            })
    }
}

/// A registered webhook, as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub events: Vec<Event>,
    pub description: String,
    pub created_at: String,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not yet answered with 2xx; tried again at `next_attempt_at`.
    Pending,
    Delivered,
    /// Given up after the last attempt (or the webhook was removed); staff
    /// may retry it.
    Failed,
}

impl DeliveryState {
    fn parse(text: &str) -> DeliveryState {
        match text {
            "delivered" => DeliveryState::Delivered,
            "failed" => DeliveryState::Failed,
            _ => DeliveryState::Pending,
        }
    }
}

/// One event owed to one webhook, as staff see it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub url: String,
    pub event: Event,
    pub state: DeliveryState,
    pub attempts: i64,
    pub created_at: String,
    /// When the next attempt is due (pending only), RFC 3339 UTC.
    pub next_attempt_at: Option<String>,
    /// The receiver's last HTTP status.
    pub last_status: Option<i64>,
    /// Why the last attempt failed (no answer, a timeout, a non-2xx status).
    pub last_error: Option<String>,
    pub last_attempt_at: Option<String>,
    pub delivered_at: Option<String>,
}

/// A delivery to send now, with what signing it needs.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: i64,
    pub url: String,
    pub secret: String,
    pub event: Event,
    pub body: String,
    /// Attempts made before this one.
    pub attempts: i64,
}

/// What became of one attempt.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub status: Option<u16>,
    pub error: Option<String>,
    /// The receiver answered 2xx.
    pub delivered: bool,
    /// When not delivered: when to try again (Unix ms), or `None` to give up.
    pub retry_at_ms: Option<i64>,
}

/// Longest URL accepted.
const MAX_URL_LEN: usize = 2048;
/// Prefix of every webhook secret, so a leaked one is recognizable.
const SECRET_PREFIX: &str = "whsec_";

/// Checks a webhook URL: absolute `http` or `https` with a host.
///
/// # Errors
/// [`StoreError::Invalid`] saying what is wrong.
pub fn validate_url(url: &str) -> Result<(), StoreError> {
    let bad = |why: &str| StoreError::Invalid(format!("the webhook URL {url:?} {why}"));
    if url.len() > MAX_URL_LEN {
        return Err(bad("is longer than 2048 characters"));
    }
    let uri: axum::http::Uri = url.parse().map_err(|_| bad("is not a URL"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(bad("must start with http:// or https://")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    Ok(())
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn ms_to_text(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn parse_events(text: &str) -> Result<Vec<Event>, StoreError> {
    text.split_whitespace().map(Event::parse).collect()
}

impl Store {
    /// Registers a webhook for `events` and returns it with its signing
    /// secret (shown once).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a bad URL, no events or a long description.
    pub fn add_webhook(
        &self,
        url: &str,
        events: &[Event],
        description: &str,
    ) -> Result<(Webhook, String), StoreError> {
        validate_url(url)?;
        if events.is_empty() {
            return Err(StoreError::Invalid(format!(
                "name at least one event ({})",
                Event::ALL.map(Event::as_str).join(", ")
            )));
        }
        if description.chars().count() > 200 {
            return Err(StoreError::Invalid(
                "the description is longer than 200 characters".into(),
            ));
        }
        let mut events = events.to_vec();
        events.sort_by_key(|e| Event::ALL.iter().position(|a| a == e));
        events.dedup();
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        let secret = format!("{SECRET_PREFIX}{}", hex::encode(bytes));
        let names = events
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let webhook = self.write_sqlite(|tx| {
            let at = now();
            tx.execute(
                "INSERT INTO webhooks (url, events, secret, description, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![url, names, secret, description, at],
            )?;
            Ok(Webhook {
                id: tx.last_insert_rowid(),
                url: url.to_string(),
                events,
                description: description.to_string(),
                created_at: at,
            })
        })?;
        Ok((webhook, secret))
    }

    /// Active webhooks, oldest first.
    ///
    /// # Errors
    /// SQL errors.
    pub fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        let rows: Vec<(i64, String, String, String, String)> = self.read_sqlite(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, url, events, description, created_at FROM webhooks \
                 WHERE removed_at IS NULL ORDER BY id",
            )?;
            Ok(stmt
                .query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<Result<_, _>>()?)
        })?;
        rows.into_iter()
            .map(|(id, url, events, description, created_at)| {
                Ok(Webhook {
                    id,
                    url,
                    events: parse_events(&events)?,
                    description,
                    created_at,
                })
            })
            .collect()
    }

    /// Removes a webhook: nothing more is sent to it, and its pending
    /// deliveries are marked failed. Its delivery record stays.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn remove_webhook(&self, id: i64) -> Result<(), StoreError> {
        self.write_sqlite(|tx| {
            let at = now();
            let changed = tx.execute(
                "UPDATE webhooks SET removed_at = ?1 WHERE id = ?2 AND removed_at IS NULL",
                params![at, id],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound {
                    what: "webhook",
                    id: id.to_string(),
                });
            }
            tx.execute(
                "UPDATE webhook_deliveries SET state = 'failed', last_error = 'the webhook was removed' \
                 WHERE webhook_id = ?1 AND state = 'pending'",
                [id],
            )?;
            Ok(())
        })
    }

    /// Records `event` with its JSON `body` for every active webhook that
    /// listens to it, due at once. Returns the new deliveries' ids.
    ///
    /// # Errors
    /// SQL errors.
    pub fn enqueue_event(&self, event: Event, body: &str) -> Result<Vec<i64>, StoreError> {
        self.write_sqlite(|tx| {
            let hooks: Vec<(i64, String)> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT id, events FROM webhooks WHERE removed_at IS NULL ORDER BY id",
                )?;
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()?
            };
            let at = now();
            let due = now_ms();
            let mut ids = Vec::new();
            for (hook, events) in hooks {
                if !events.split_whitespace().any(|e| e == event.as_str()) {
                    continue;
                }
                tx.execute(
                    "INSERT INTO webhook_deliveries (webhook_id, event, body, created_at, state, next_attempt_ms) \
                     VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
                    params![hook, event.as_str(), body, at, due],
                )?;
                ids.push(tx.last_insert_rowid());
            }
            Ok(ids)
        })
    }

    /// Claims the pending deliveries due by `now_ms`, oldest first, at most
    /// `limit`: each is due again only at `lease_until_ms`, so no other
    /// sender takes it meanwhile, and one killed mid-send leaves it due.
    ///
    /// # Errors
    /// SQL errors; an event name this binary does not know.
    pub fn claim_due_deliveries(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let rows: Vec<(i64, String, String, String, String, i64)> = self.write_sqlite(|tx| {
            let rows: Vec<(i64, String, String, String, String, i64)> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT d.id, h.url, h.secret, d.event, d.body, d.attempts \
                     FROM webhook_deliveries d JOIN webhooks h ON h.id = d.webhook_id \
                     WHERE d.state = 'pending' AND d.next_attempt_ms <= ?1 AND h.removed_at IS NULL \
                     ORDER BY d.next_attempt_ms, d.id LIMIT ?2",
                )?;
                stmt.query_map(params![now_ms, limit as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
                })?
                .collect::<Result<_, _>>()?
            };
            for row in &rows {
                tx.execute(
                    "UPDATE webhook_deliveries SET next_attempt_ms = ?1 WHERE id = ?2",
                    params![lease_until_ms, row.0],
                )?;
            }
            Ok(rows)
        })?;
        rows.into_iter()
            .map(|(id, url, secret, event, body, attempts)| {
                Ok(DueDelivery {
                    id,
                    url,
                    secret,
                    event: Event::parse(&event)?,
                    body,
                    attempts,
                })
            })
            .collect()
    }

    /// When the next pending delivery is due (Unix ms), if any.
    ///
    /// # Errors
    /// SQL errors.
    pub fn next_delivery_due_ms(&self) -> Result<Option<i64>, StoreError> {
        self.read_sqlite(|c| {
            Ok(c.query_row(
                "SELECT min(d.next_attempt_ms) FROM webhook_deliveries d \
                 JOIN webhooks h ON h.id = d.webhook_id \
                 WHERE d.state = 'pending' AND h.removed_at IS NULL",
                [],
                |r| r.get(0),
            )?)
        })
    }

    /// Records an attempt at delivery `id`.
    ///
    /// # Errors
    /// SQL errors.
    pub fn record_delivery_attempt(
        &self,
        id: i64,
        outcome: &AttemptOutcome,
    ) -> Result<(), StoreError> {
        self.write_sqlite(|tx| {
            let at = now();
            let (state, next) = match (outcome.delivered, outcome.retry_at_ms) {
                (true, _) => ("delivered", None),
                (false, Some(next)) => ("pending", Some(next)),
                (false, None) => ("failed", None),
            };
            tx.execute(
                "UPDATE webhook_deliveries SET state = ?1, attempts = attempts + 1, \
                 next_attempt_ms = coalesce(?2, next_attempt_ms), last_status = ?3, last_error = ?4, \
                 last_attempt_at = ?5, delivered_at = CASE WHEN ?1 = 'delivered' THEN ?5 END \
                 WHERE id = ?6 AND state = 'pending'",
                params![
                    state,
                    next,
                    outcome.status.map(i64::from),
                    outcome.error,
                    at,
                    id
                ],
            )?;
            Ok(())
        })
    }

    /// The latest deliveries, newest first: all, or one webhook's.
    ///
    /// # Errors
    /// SQL errors.
    pub fn deliveries(
        &self,
        webhook: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        type Row = (
            i64,
            i64,
            String,
            String,
            String,
            i64,
            String,
            i64,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = self.read_sqlite(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT d.id, d.webhook_id, h.url, d.event, d.state, d.attempts, d.created_at, \
                 d.next_attempt_ms, d.last_status, d.last_error, d.last_attempt_at, d.delivered_at \
                 FROM webhook_deliveries d JOIN webhooks h ON h.id = d.webhook_id \
                 WHERE ?1 IS NULL OR d.webhook_id = ?1 ORDER BY d.id DESC LIMIT ?2",
            )?;
            Ok(stmt
                .query_map(params![webhook, limit as i64], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                        r.get(9)?,
                        r.get(10)?,
                        r.get(11)?,
                    ))
                })?
                .collect::<Result<_, _>>()?)
        })?;
        rows.into_iter()
            .map(|row| {
                let state = DeliveryState::parse(&row.4);
                Ok(Delivery {
                    id: row.0,
                    webhook_id: row.1,
                    url: row.2,
                    event: Event::parse(&row.3)?,
                    state,
                    attempts: row.5,
                    created_at: row.6,
                    next_attempt_at: (state == DeliveryState::Pending).then(|| ms_to_text(row.7)),
                    last_status: row.8,
                    last_error: row.9,
                    last_attempt_at: row.10,
                    delivered_at: row.11,
                })
            })
            .collect()
    }

    /// Sends a failed delivery again, at once, with a fresh schedule of
    /// attempts (its count starts over; the last answer stays until then).
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Conflict`] when it was
    /// delivered, or its webhook was removed.
    pub fn retry_delivery(&self, id: i64) -> Result<(), StoreError> {
        self.write_sqlite(|tx| {
            let row: Option<(String, Option<String>)> = tx
                .query_row(
                    "SELECT d.state, h.removed_at FROM webhook_deliveries d \
                     JOIN webhooks h ON h.id = d.webhook_id WHERE d.id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let (state, removed) = row.ok_or_else(|| StoreError::NotFound {
                what: "delivery",
                id: id.to_string(),
            })?;
            if removed.is_some() {
                return Err(StoreError::Conflict(format!(
                    "delivery {id} belongs to a removed webhook"
                )));
            }
            if state == "delivered" {
                return Err(StoreError::Conflict(format!(
                    "delivery {id} was delivered already"
                )));
            }
            tx.execute(
                "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_ms = ?1 \
                 WHERE id = ?2",
                params![now_ms(), id],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(delivered: bool, retry_at_ms: Option<i64>) -> AttemptOutcome {
        AttemptOutcome {
            status: Some(if delivered { 200 } else { 500 }),
            error: (!delivered).then(|| "HTTP 500".to_string()),
            delivered,
            retry_at_ms,
        }
    }

    #[test]
    fn an_event_is_owed_to_each_subscribed_webhook_until_answered() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (done, secret) = store
            .add_webhook("http://127.0.0.1:9/hook", &[Event::RenderDone], "playout")
            .unwrap();
        assert!(secret.starts_with("whsec_") && secret.len() == 6 + 64);
        let (both, _) = store
            .add_webhook(
                "https://example.org/x",
                &[
                    Event::BulletinDelivered,
                    Event::RenderDone,
                    Event::RenderDone,
                ],
                "",
            )
            .unwrap();
        assert_eq!(both.events, [Event::RenderDone, Event::BulletinDelivered]);
        assert_eq!(store.webhooks().unwrap().len(), 2);

        let ids = store.enqueue_event(Event::RenderDone, "{}").unwrap();
        assert_eq!(ids.len(), 2);
        assert!(
            store
                .enqueue_event(Event::CheckFlagged, "{}")
                .unwrap()
                .is_empty()
        );
        let lease = now_ms() + 30_000;
        let due = store.claim_due_deliveries(now_ms(), lease, 10).unwrap();
        assert_eq!(due.len(), 2);
        assert_eq!(due[0].secret, secret);
        // Claimed: no other sender sees them until the lease ends.
        assert!(
            store
                .claim_due_deliveries(now_ms(), lease, 10)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.claim_due_deliveries(lease, lease, 10).unwrap().len(),
            2
        );

        // One fails and is due again later; the other is delivered.
        let later = now_ms() + 60_000;
        store
            .record_delivery_attempt(ids[0], &outcome(false, Some(later)))
            .unwrap();
        store
            .record_delivery_attempt(ids[1], &outcome(true, None))
            .unwrap();
        assert!(
            store
                .claim_due_deliveries(now_ms(), 0, 10)
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.next_delivery_due_ms().unwrap(), Some(later));
        assert_eq!(
            store.claim_due_deliveries(later, later, 10).unwrap()[0].attempts,
            1
        );

        // Given up, then retried by staff with a fresh count.
        store
            .record_delivery_attempt(ids[0], &outcome(false, None))
            .unwrap();
        let listed = store.deliveries(Some(done.id), 10).unwrap();
        assert_eq!(listed[0].state, DeliveryState::Failed);
        assert_eq!(listed[0].attempts, 2);
        assert_eq!(listed[0].last_status, Some(500));
        store.retry_delivery(ids[0]).unwrap();
        assert_eq!(
            store.claim_due_deliveries(now_ms(), 0, 10).unwrap()[0].attempts,
            0
        );
        assert!(matches!(
            store.retry_delivery(ids[1]),
            Err(StoreError::Conflict(_))
        ));

        // Removing a webhook fails what it was owed and sends it nothing more.
        store.remove_webhook(done.id).unwrap();
        assert!(
            store
                .claim_due_deliveries(i64::MAX, 0, 10)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.deliveries(Some(done.id), 10).unwrap()[0].state,
            DeliveryState::Failed
        );
        assert!(matches!(
            store.remove_webhook(done.id),
            Err(StoreError::NotFound { .. })
        ));
        assert_eq!(store.webhooks().unwrap(), [both]);
    }

    #[test]
    fn refuses_urls_that_cannot_be_called_and_unknown_events() {
        for bad in ["", "ftp://x/y", "/relative", "http://", "not a url"] {
            assert!(validate_url(bad).is_err(), "{bad}");
        }
        validate_url("http://127.0.0.1:8080/hooks?station=1").unwrap();
        assert!(Event::parse("render.started").is_err());
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(store.add_webhook("http://x/", &[], "").is_err());
    }
}
