//! Webhooks over HTTP: register a URL for events (its signing secret is in
//! the answer, once), list, remove, and the delivery record staff check
//! when a receiver says it heard nothing, with a retry for a failed one.
//! Webhook URLs may carry a receiver's own key, so even listing them takes
//! the station admin's token.

use crate::server::StationState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Query, id, json_body};
use crate::server::error::{ApiError, ErrorBody};
use crate::server::{Admin, AppState};
use crate::store::{Delivery, Event, Webhook};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/webhooks", get(list).post(add))
        .route("/api/webhooks/{id}", delete(remove))
        .route("/api/webhooks/deliveries", get(deliveries))
        .route("/api/webhooks/deliveries/{id}/retry", post(retry))
}

/// A webhook to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// `http://` or `https://`; called with POST.
    pub url: String,
    /// Events to send: `render.done`, `render.failed`, `bulletin.delivered`,
    /// `check.flagged`.
    pub events: Vec<Event>,
    /// What it is for ("cổng thông tin", "loa phường").
    #[serde(default)]
    pub description: String,
}

/// A registered webhook with its signing secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// Key of the `X-Bantin-Signature` HMAC-SHA256; not shown again.
    pub secret: String,
}

/// Registered webhooks (without secrets).
#[utoipa::path(get, path = "/api/webhooks", tag = "webhooks",
    responses((status = 200, body = Vec<Webhook>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    StationState(state): StationState,
    _: Admin,
) -> Result<axum::Json<Vec<Webhook>>, ApiError> {
    Ok(axum::Json(
        state.blocking(|s| Ok(s.store.webhooks()?)).await?,
    ))
}

/// Register a webhook; the answer holds its secret, once.
#[utoipa::path(post, path = "/api/webhooks", tag = "webhooks",
    request_body = NewWebhook,
    responses(
        (status = 201, body = CreatedWebhook),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "A bad URL, an unknown event or none", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn add(
    StationState(state): StationState,
    Admin(token): Admin,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, axum::Json<CreatedWebhook>), ApiError> {
    let new: NewWebhook = json_body(&headers, &body)?;
    let (webhook, secret) = state
        .blocking(move |s| {
            Ok(s.store
                .add_webhook(&new.url, &new.events, &new.description)?)
        })
        .await?;
    tracing::info!(webhook = webhook.id, url = %webhook.url, by = %token.name, "webhook registered");
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedWebhook { webhook, secret }),
    ))
}

/// Remove a webhook: nothing more is sent to it; its record stays.
#[utoipa::path(delete, path = "/api/webhooks/{id}", tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn remove(
    StationState(state): StationState,
    Admin(token): Admin,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = id("webhook", &raw)?;
    state
        .blocking(move |s| Ok(s.store.remove_webhook(id)?))
        .await?;
    tracing::info!(webhook = id, by = %token.name, "webhook removed");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    /// Only this webhook's deliveries.
    pub webhook: Option<i64>,
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<usize>,
}

/// The latest deliveries, newest first: state, attempts, last answer.
#[utoipa::path(get, path = "/api/webhooks/deliveries", tag = "webhooks", params(DeliveryQuery),
    responses((status = 200, body = Vec<Delivery>), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn deliveries(
    StationState(state): StationState,
    _: Admin,
    Query(query): Query<DeliveryQuery>,
) -> Result<axum::Json<Vec<Delivery>>, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    Ok(axum::Json(
        state
            .blocking(move |s| Ok(s.store.deliveries(query.webhook, limit)?))
            .await?,
    ))
}

/// Send a failed (or still pending) delivery again now, with a fresh count
/// of attempts.
#[utoipa::path(post, path = "/api/webhooks/deliveries/{id}/retry", tag = "webhooks",
    params(("id" = i64, Path, description = "Delivery id")),
    responses((status = 202), (status = 404, body = ErrorBody),
        (status = 409, description = "Delivered already, or its webhook was removed", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn retry(
    StationState(state): StationState,
    _: Admin,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = id("delivery", &raw)?;
    state
        .blocking(move |s| Ok(s.store.retry_delivery(id)?))
        .await?;
    state.outbox.wake();
    Ok(StatusCode::ACCEPTED)
}
