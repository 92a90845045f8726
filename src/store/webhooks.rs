//! Webhooks and their deliveries: the URLs a station registered, and every
//! call owed to them with its state, attempts and last answer. An event is
//! written here for each subscribed webhook before anything is sent, so a
//! receiver that is down loses nothing; [`crate::hooks`] sends and retries.
//!
//! Station-scoped: staff's methods (registering, listing, removing
//! webhooks, listing and retrying deliveries, recording events) see only
//! the store's station's webhooks, and deliveries through their webhook.
//! The sender's methods ([`Store::claim_due_deliveries`],
//! [`Store::next_delivery_due_ms`], [`Store::record_delivery_attempt`]) are
//! platform-wide: one dispatcher sends what every station is owed.

use serde::{Deserialize, Serialize};

use super::db::{Engine, Row, params};
use super::{StationId, Store, StoreError, now};

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
    /// The station whose webhook this is.
    pub station_id: StationId,
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

fn webhook_row(row: &Row) -> Result<Webhook, StoreError> {
    Ok(Webhook {
        id: row.get(0)?,
        url: row.get(1)?,
        events: parse_events(&row.get::<String>(2)?)?,
        description: row.get(3)?,
        created_at: row.get(4)?,
    })
}

fn delivery_row(row: &Row) -> Result<Delivery, StoreError> {
    let state = DeliveryState::parse(&row.get::<String>(4)?);
    let next_attempt_ms: i64 = row.get(7)?;
    Ok(Delivery {
        id: row.get(0)?,
        webhook_id: row.get(1)?,
        url: row.get(2)?,
        event: Event::parse(&row.get::<String>(3)?)?,
        state,
        attempts: row.get(5)?,
        created_at: row.get(6)?,
        next_attempt_at: (state == DeliveryState::Pending).then(|| ms_to_text(next_attempt_ms)),
        last_status: row.get(8)?,
        last_error: row.get(9)?,
        last_attempt_at: row.get(10)?,
        delivered_at: row.get(11)?,
    })
}

fn due_row(row: &Row) -> Result<DueDelivery, StoreError> {
    Ok(DueDelivery {
        id: row.get(0)?,
        station_id: row.get(1)?,
        url: row.get(2)?,
        secret: row.get(3)?,
        event: Event::parse(&row.get::<String>(4)?)?,
        body: row.get(5)?,
        attempts: row.get(6)?,
    })
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
        let station = self.station();
        let webhook = self.write(|db| {
            let at = now();
            let id = db.query_row(
                "INSERT INTO webhooks (station_id, url, events, secret, description, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                params![station, url, names, secret, description, at],
                |r| r.get(0),
            )?;
            Ok(Webhook {
                id,
                url: url.to_string(),
                events,
                description: description.to_string(),
                created_at: at,
            })
        })?;
        Ok((webhook, secret))
    }

    /// The station's active webhooks, oldest first.
    ///
    /// # Errors
    /// SQL errors.
    pub fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        self.read(|db| {
            db.query_map(
                "SELECT id, url, events, description, created_at FROM webhooks \
                 WHERE station_id = ?1 AND removed_at IS NULL ORDER BY id",
                [self.station()],
                webhook_row,
            )
        })
    }

    /// Removes a webhook: nothing more is sent to it, and its pending
    /// deliveries are marked failed. Its delivery record stays.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn remove_webhook(&self, id: i64) -> Result<(), StoreError> {
        let station = self.station();
        self.write(|db| {
            let at = now();
            let changed = db.execute(
                "UPDATE webhooks SET removed_at = ?1 \
                 WHERE station_id = ?2 AND id = ?3 AND removed_at IS NULL",
                params![at, station, id],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound {
                    what: "webhook",
                    id: id.to_string(),
                });
            }
            db.execute(
                "UPDATE webhook_deliveries SET state = 'failed', last_error = 'the webhook was removed' \
                 WHERE webhook_id = ?1 AND state = 'pending'",
                [id],
            )?;
            Ok(())
        })
    }

    /// Records `event` with its JSON `body` for every active webhook of the
    /// station that listens to it, due at once. Returns the new deliveries' ids.
    ///
    /// # Errors
    /// SQL errors.
    pub fn enqueue_event(&self, event: Event, body: &str) -> Result<Vec<i64>, StoreError> {
        let station = self.station();
        self.write(|db| {
            let hooks: Vec<(i64, String)> = db.query_map(
                "SELECT id, events FROM webhooks \
                 WHERE station_id = ?1 AND removed_at IS NULL ORDER BY id",
                [station],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let at = now();
            let due = now_ms();
            let mut ids = Vec::new();
            for (hook, events) in hooks {
                if !events.split_whitespace().any(|e| e == event.as_str()) {
                    continue;
                }
                ids.push(db.query_row(
                    "INSERT INTO webhook_deliveries (webhook_id, event, body, created_at, state, next_attempt_ms) \
                     VALUES (?1, ?2, ?3, ?4, 'pending', ?5) RETURNING id",
                    params![hook, event.as_str(), body, at, due],
                    |r| r.get(0),
                )?);
            }
            Ok(ids)
        })
    }

    /// Platform-wide: claims the pending deliveries of every station due by
    /// `now_ms`, oldest first, at most `limit`: each is due again only at
    /// `lease_until_ms`, so no other sender takes it meanwhile, and one
    /// killed mid-send leaves it due. On PostgreSQL senders skip the rows
    /// another sender is claiming, never waiting for it.
    ///
    /// # Errors
    /// SQL errors; an event name this binary does not know.
    pub fn claim_due_deliveries(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        self.write_queue(|db| {
            let lock = match db.engine() {
                Engine::Sqlite => "",
                Engine::Postgres => " FOR UPDATE OF d SKIP LOCKED",
            };
            let due = db.query_map(
                &format!(
                    "SELECT d.id, h.station_id, h.url, h.secret, d.event, d.body, d.attempts \
                     FROM webhook_deliveries d JOIN webhooks h ON h.id = d.webhook_id \
                     WHERE d.state = 'pending' AND d.next_attempt_ms <= ?1 AND h.removed_at IS NULL \
                     ORDER BY d.next_attempt_ms, d.id LIMIT ?2{lock}"
                ),
                params![now_ms, limit],
                due_row,
            )?;
            for delivery in &due {
                db.execute(
                    "UPDATE webhook_deliveries SET next_attempt_ms = ?1 WHERE id = ?2",
                    params![lease_until_ms, delivery.id],
                )?;
            }
            Ok(due)
        })
    }

    /// Platform-wide: when the next pending delivery of any station is due
    /// (Unix ms), if any.
    ///
    /// # Errors
    /// SQL errors.
    pub fn next_delivery_due_ms(&self) -> Result<Option<i64>, StoreError> {
        self.read(|db| {
            db.query_row(
                "SELECT min(d.next_attempt_ms) FROM webhook_deliveries d \
                 JOIN webhooks h ON h.id = d.webhook_id \
                 WHERE d.state = 'pending' AND h.removed_at IS NULL",
                params![],
                |r| r.get(0),
            )
        })
    }

    /// Platform-wide: records an attempt at delivery `id` (claimed by
    /// [`Store::claim_due_deliveries`], of whichever station).
    ///
    /// # Errors
    /// SQL errors.
    pub fn record_delivery_attempt(
        &self,
        id: i64,
        outcome: &AttemptOutcome,
    ) -> Result<(), StoreError> {
        self.write_queue(|db| {
            let at = now();
            let (state, next) = match (outcome.delivered, outcome.retry_at_ms) {
                (true, _) => ("delivered", None),
                (false, Some(next)) => ("pending", Some(next)),
                (false, None) => ("failed", None),
            };
            db.execute(
                "UPDATE webhook_deliveries SET state = ?1, attempts = attempts + 1, \
                 next_attempt_ms = coalesce(CAST(?2 AS BIGINT), next_attempt_ms), \
                 last_status = ?3, last_error = ?4, last_attempt_at = ?5, \
                 delivered_at = CASE WHEN ?1 = 'delivered' THEN ?5 END \
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

    /// The station's latest deliveries, newest first: all, or one webhook's.
    ///
    /// # Errors
    /// SQL errors.
    pub fn deliveries(
        &self,
        webhook: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.read(|db| {
            db.query_map(
                "SELECT d.id, d.webhook_id, h.url, d.event, d.state, d.attempts, d.created_at, \
                 d.next_attempt_ms, d.last_status, d.last_error, d.last_attempt_at, d.delivered_at \
                 FROM webhook_deliveries d JOIN webhooks h ON h.id = d.webhook_id \
                 WHERE h.station_id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR d.webhook_id = ?2) \
                 ORDER BY d.id DESC LIMIT ?3",
                params![self.station(), webhook, limit],
                delivery_row,
            )
        })
    }

    /// Sends a failed delivery again, at once, with a fresh schedule of
    /// attempts (its count starts over; the last answer stays until then).
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Conflict`] when it was
    /// delivered, or its webhook was removed.
    pub fn retry_delivery(&self, id: i64) -> Result<(), StoreError> {
        let station = self.station();
        self.write(|db| {
            let row: Option<(String, Option<String>)> = db.query_opt(
                "SELECT d.state, h.removed_at FROM webhook_deliveries d \
                 JOIN webhooks h ON h.id = d.webhook_id WHERE h.station_id = ?1 AND d.id = ?2",
                [station, id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
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
            db.execute(
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
    use crate::store::{DEFAULT_STATION, testing};

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
        let store = testing::open(dir.path());
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
        assert_eq!(due[0].station_id, DEFAULT_STATION);
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
        let store = testing::open(dir.path());
        assert!(store.add_webhook("http://x/", &[], "").is_err());
    }

    #[test]
    fn a_station_sees_and_changes_only_its_own_webhooks_and_deliveries() {
        let dir = tempfile::tempdir().unwrap();
        let first = testing::open(dir.path());
        let second = testing::add_station(&first, "huyen-b").unwrap();
        let (ours, _) = first
            .add_webhook("http://127.0.0.1:9/a", &[Event::RenderDone], "a")
            .unwrap();
        let owed = first.enqueue_event(Event::RenderDone, "{}").unwrap();
        assert_eq!(owed.len(), 1);
        first
            .record_delivery_attempt(owed[0], &outcome(false, None))
            .unwrap();
        let our_deliveries = first.deliveries(None, 10).unwrap();

        assert!(second.webhooks().unwrap().is_empty());
        assert!(second.deliveries(None, 10).unwrap().is_empty());
        assert!(second.deliveries(Some(ours.id), 10).unwrap().is_empty());
        // The first station's webhooks do not hear the second's events.
        assert!(
            second
                .enqueue_event(Event::RenderDone, "{}")
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            second.retry_delivery(owed[0]),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            second.remove_webhook(ours.id),
            Err(StoreError::NotFound { .. })
        ));
        let (theirs, _) = second
            .add_webhook("http://127.0.0.1:9/b", &[Event::RenderDone], "b")
            .unwrap();
        assert_eq!(second.webhooks().unwrap(), std::slice::from_ref(&theirs));
        let their_owed = second.enqueue_event(Event::RenderDone, "{}").unwrap();
        assert_eq!(second.deliveries(None, 10).unwrap().len(), 1);
        assert!(second.deliveries(Some(ours.id), 10).unwrap().is_empty());
        assert!(matches!(
            first.retry_delivery(their_owed[0]),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            first.remove_webhook(theirs.id),
            Err(StoreError::NotFound { .. })
        ));

        // The first station's rows are as they were.
        assert_eq!(first.webhooks().unwrap(), std::slice::from_ref(&ours));
        assert_eq!(first.deliveries(None, 10).unwrap(), our_deliveries);
        assert_eq!(our_deliveries[0].state, DeliveryState::Failed);

        // The sender is platform-wide: it sends what each station is owed.
        first.retry_delivery(owed[0]).unwrap();
        let due = second.claim_due_deliveries(now_ms(), 0, 10).unwrap();
        let mut sent: Vec<(i64, StationId)> = due.iter().map(|d| (d.id, d.station_id)).collect();
        sent.sort_unstable();
        assert_eq!(
            sent,
            [
                (owed[0], DEFAULT_STATION),
                (their_owed[0], second.station())
            ]
        );
        assert_eq!(first.next_delivery_due_ms().unwrap(), Some(0));
        second.remove_webhook(theirs.id).unwrap();
        assert_eq!(first.webhooks().unwrap(), [ours]);
    }

    #[test]
    fn senders_claiming_side_by_side_never_take_the_same_delivery() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let other = testing::add_station(&store, "huyen-b").unwrap();
        let mut owed = Vec::new();
        for station in [&store, &other] {
            station
                .add_webhook("http://127.0.0.1:9/x", &[Event::RenderDone], "")
                .unwrap();
            for _ in 0..15 {
                owed.extend(station.enqueue_event(Event::RenderDone, "{}").unwrap());
            }
        }
        let lease = now_ms() + 60_000;
        let mut claimed: Vec<i64> = std::thread::scope(|scope| {
            let senders: Vec<_> = (0..4)
                .map(|_| {
                    let store = store.clone();
                    scope.spawn(move || {
                        let mut mine = Vec::new();
                        loop {
                            let due = store.claim_due_deliveries(now_ms(), lease, 3).unwrap();
                            if due.is_empty() {
                                return mine;
                            }
                            mine.extend(due.iter().map(|d| d.id));
                        }
                    })
                })
                .collect();
            senders
                .into_iter()
                .flat_map(|s| s.join().unwrap())
                .collect()
        });
        claimed.sort_unstable();
        owed.sort_unstable();
        assert_eq!(claimed, owed, "each delivery claimed exactly once");
    }
}
