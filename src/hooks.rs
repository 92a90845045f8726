//! Webhooks: telling other systems (the portal, a loudspeaker platform, a
//! chat bot of the newsroom) that a render or a bulletin is ready, without
//! polling.
//!
//! Owns the events' bodies, their signature, and the sending: an event is
//! first written to the store for every webhook that listens to it
//! ([`Outbox::emit`]), then sent by the dispatcher ([`dispatch`], run by
//! `bantin serve`; [`send_due`] once by the CLI) with
//!
//! - `Content-Type: application/json`, the body
//!   `{"event", "station", "occurred_at", "data": {…}}`;
//! - `X-Bantin-Event`, `X-Bantin-Delivery` (the delivery's id, the same on
//!   every retry, so a receiver can drop duplicates);
//! - `X-Bantin-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact body
//!   bytes with the webhook's secret.
//!
//! Any 2xx answer delivers; anything else (another status, a refused
//! connection, no answer within the timeout) is tried again after
//! `first_retry_seconds`, doubling up to `max_retry_seconds`, until
//! `max_attempts`; then the delivery is failed and staff can retry it. A
//! delivery is claimed for the length of an attempt before it is sent, so
//! two processes sharing the database never send it at once, and one killed
//! mid-send leaves it due again.

use std::sync::Arc;
use std::time::Duration;

use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};

use crate::store::{AttemptOutcome, DueDelivery, Event, Store, now_ms};

/// How often the dispatcher looks for deliveries it was not told about
/// (events written by another process, such as `bantin bulletin`).
const POLL: Duration = Duration::from_secs(2);
/// Deliveries sent at once.
const BATCH: usize = 8;
/// The most of a receiver's answer kept in the delivery record.
const MAX_ERROR_CHARS: usize = 200;

/// The `[webhooks]` table of bantin.toml: how calls are timed and retried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Seconds a receiver may take to answer.
    pub timeout_seconds: f64,
    /// Attempts before a delivery is given up (staff may retry it).
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled after each failure.
    pub first_retry_seconds: f64,
    /// The longest wait between two attempts.
    pub max_retry_seconds: f64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        // 30 attempts: 10 s, 20 s, … then hourly: a receiver down for a
        // day still gets everything.
        WebhookSettings {
            timeout_seconds: 10.0,
            max_attempts: 30,
            first_retry_seconds: 10.0,
            max_retry_seconds: 3600.0,
        }
    }
}

impl WebhookSettings {
    /// What is wrong with these settings, one sentence each.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(0.1..=300.0).contains(&self.timeout_seconds) {
            problems.push(format!(
                "webhooks.timeout_seconds {} is outside 0.1–300",
                self.timeout_seconds
            ));
        }
        if !(1..=1000).contains(&self.max_attempts) {
            problems.push(format!(
                "webhooks.max_attempts {} is outside 1–1000",
                self.max_attempts
            ));
        }
        if !(0.05..=86_400.0).contains(&self.first_retry_seconds) {
            problems.push(format!(
                "webhooks.first_retry_seconds {} is outside 0.05–86400",
                self.first_retry_seconds
            ));
        }
        if !(self.first_retry_seconds..=604_800.0).contains(&self.max_retry_seconds) {
            problems.push(format!(
                "webhooks.max_retry_seconds {} must be between first_retry_seconds and 604800",
                self.max_retry_seconds
            ));
        }
        problems
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_seconds)
    }

    /// The wait after the `failures`-th failed attempt (1 = the first).
    pub fn backoff(&self, failures: u32) -> Duration {
        let doubled =
            self.first_retry_seconds * 2f64.powi(failures.saturating_sub(1).min(40) as i32);
        Duration::from_secs_f64(doubled.min(self.max_retry_seconds))
    }
}

/// `sha256=<hex>`: the HMAC-SHA256 of `body` with `secret`, as sent in
/// `X-Bantin-Signature`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Where events are written; cheap to clone. Wakes the dispatcher of this
/// process when it writes.
#[derive(Clone, Debug)]
pub struct Outbox {
    store: Store,
    station: Arc<str>,
    wake: Arc<Notify>,
}

impl Outbox {
    pub fn new(store: Store, station: &str) -> Outbox {
        Outbox {
            store,
            station: station.into(),
            wake: Arc::new(Notify::new()),
        }
    }

    /// The outbox of another station of the platform, waking the same
    /// dispatcher.
    pub fn for_station(&self, store: Store, station: &str) -> Outbox {
        Outbox {
            store,
            station: station.into(),
            wake: Arc::clone(&self.wake),
        }
    }

    /// Records `event` with `data` for every webhook that listens to it
    /// (blocking: one short write). A failure is logged, never passed on:
    /// the render or bulletin it tells of stands.
    pub fn emit(&self, event: Event, data: serde_json::Value) {
        let body = serde_json::json!({
            "event": event.as_str(),
            "station": &*self.station,
            "occurred_at": jiff::Timestamp::now().to_string(),
            "data": data,
        });
        match self.store.enqueue_event(event, &body.to_string()) {
            Ok(ids) if !ids.is_empty() => {
                tracing::debug!(
                    event = event.as_str(),
                    deliveries = ids.len(),
                    "webhook event"
                );
                self.wake.notify_one();
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(event = event.as_str(), error = %e, "cannot record a webhook event");
            }
        }
    }

    /// Tells the dispatcher to look now (a delivery was retried).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Sends due deliveries until `stop` turns true: when told of an event,
/// when the next retry is due, and every [`POLL`] for other processes'.
pub async fn dispatch(outbox: Outbox, settings: WebhookSettings, mut stop: watch::Receiver<bool>) {
    let agent = agent(&settings);
    loop {
        if *stop.borrow() {
            return;
        }
        let sent = {
            let store = outbox.store.clone();
            let settings = settings.clone();
            let agent = agent.clone();
            tokio::task::spawn_blocking(move || send_due_with(&store, &settings, &agent)).await
        };
        let sent = match sent {
            Ok(Ok(sent)) => sent,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot read the webhook deliveries");
                0
            }
            Err(e) => {
                tracing::error!(error = %e, "the webhook sender failed");
                0
            }
        };
        if sent == BATCH {
            continue; // more may be due
        }
        let store = outbox.store.clone();
        let next = store
            .call(|s| s.next_delivery_due_ms())
            .await
            .ok()
            .flatten();
        let wait = next
            .map(|at| Duration::from_millis((at - now_ms()).max(0) as u64))
            .unwrap_or(POLL)
            .min(POLL);
        tokio::select! {
            () = outbox.wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Sends what is due now, once, without waiting for retries (blocking):
/// `bantin bulletin` run from cron on a machine with no service. Returns
/// the deliveries attempted.
///
/// # Errors
/// Store errors.
pub fn send_due(
    store: &Store,
    settings: &WebhookSettings,
) -> Result<usize, crate::store::StoreError> {
    let agent = agent(settings);
    let mut total = 0;
    loop {
        let sent = send_due_with(store, settings, &agent)?;
        total += sent;
        if sent < BATCH {
            return Ok(total);
        }
    }
}

fn agent(settings: &WebhookSettings) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(settings.timeout()))
        .http_status_as_error(false)
        .user_agent(concat!("bantin/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Claims up to [`BATCH`] due deliveries and sends them side by side.
fn send_due_with(
    store: &Store,
    settings: &WebhookSettings,
    agent: &ureq::Agent,
) -> Result<usize, crate::store::StoreError> {
    // Held for one attempt (and a margin), so no other process sends it meanwhile.
    let lease = now_ms() + settings.timeout().as_millis() as i64 + 5_000;
    let due = store.claim_due_deliveries(now_ms(), lease, BATCH)?;
    let count = due.len();
    std::thread::scope(|scope| {
        for delivery in &due {
            scope.spawn(move || {
                let outcome = attempt(agent, settings, delivery);
                match &outcome.error {
                    None => tracing::info!(delivery = delivery.id, event = delivery.event.as_str(), "webhook delivered"),
                    Some(error) => tracing::warn!(delivery = delivery.id, %error, retry = outcome.retry_at_ms.is_some(), "webhook not delivered"),
                }
                if let Err(e) = store.record_delivery_attempt(delivery.id, &outcome) {
                    tracing::error!(delivery = delivery.id, error = %e, "cannot record a webhook attempt");
                }
            });
        }
    });
    Ok(count)
}

/// One call of one delivery, and when to try again if it failed.
fn attempt(
    agent: &ureq::Agent,
    settings: &WebhookSettings,
    delivery: &DueDelivery,
) -> AttemptOutcome {
    let body = delivery.body.as_bytes();
    let answer = agent
        .post(&delivery.url)
        .header("Content-Type", "application/json")
        .header("X-Bantin-Event", delivery.event.as_str())
        .header("X-Bantin-Delivery", delivery.id.to_string())
        .header("X-Bantin-Signature", sign(&delivery.secret, body))
        .send(body);
    let (status, error) = match answer {
        Ok(mut response) => {
            let status = response.status().as_u16();
            if (200..300).contains(&status) {
                (Some(status), None)
            } else {
                let said = response
                    .body_mut()
                    .with_config()
                    .limit(4096)
                    .read_to_string()
                    .unwrap_or_default();
                let said: String = said.trim().chars().take(MAX_ERROR_CHARS).collect();
                (
                    Some(status),
                    Some(format!("HTTP {status} {said}").trim_end().to_string()),
                )
            }
        }
        Err(ureq::Error::Timeout(_)) => (
            None,
            Some(format!("no answer within {:?}", settings.timeout())),
        ),
        Err(e) => (None, Some(format!("cannot call the receiver: {e}"))),
    };
    let delivered = error.is_none();
    let failures = delivery.attempts as u32 + 1;
    let retry_at_ms = (!delivered && failures < settings.max_attempts)
        .then(|| now_ms() + settings.backoff(failures).as_millis() as i64);
    AttemptOutcome {
        status,
        error,
        delivered,
        retry_at_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_the_published_hmac_sha256_vector() {
        // RFC 4231 test case 2: key "Jefe".
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn backs_off_by_doubling_up_to_the_longest_wait() {
        let settings = WebhookSettings::default();
        let waits: Vec<u64> = (1..=11).map(|n| settings.backoff(n).as_secs()).collect();
        assert_eq!(
            waits,
            [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert!(settings.problems().is_empty());
        let bad = WebhookSettings {
            max_attempts: 0,
            max_retry_seconds: 1.0,
            ..WebhookSettings::default()
        };
        assert_eq!(bad.problems().len(), 2, "{:?}", bad.problems());
    }
}
