//! The audit trail, read-only: events filtered by article, person and the
//! station's day (its time zone), newest first, with the persons who appear
//! in it for the page's filter.

use crate::server::StationState;
use axum::Router;
use axum::routing::get;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Query;
use crate::bulletin::BulletinConfig;
use crate::bulletin::schedule::RunKey;
use crate::server::error::{ApiError, ErrorBody};
use crate::server::{AppState, Reader};
use crate::store::{AuditEvent, AuditFilter};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/audit", get(list))
}

/// A bulletin as the trail names it: "Bản tin sáng 29/07/2021".
pub fn bulletin_title(config: &BulletinConfig, key: &RunKey) -> String {
    let label = config
        .slot(&key.slot)
        .map_or(key.slot.as_str(), |slot| slot.label.as_str());
    format!("Bản tin {label} {}", key.date.strftime("%d/%m/%Y"))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub article: Option<i64>,
    /// The exact person, as the trail shows them.
    pub person: Option<String>,
    /// `YYYY-MM-DD`, a day in the station's time zone.
    pub day: Option<String>,
    /// At most this many (default 200, at most 1000).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// Everyone who appears in the trail.
    pub persons: Vec<String>,
}

/// The audit trail: who did what and when.
#[utoipa::path(get, path = "/api/audit", tag = "workflow", params(AuditQuery),
    responses((status = 200, body = AuditPage),
        (status = 422, description = "A bad day", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    StationState(state): StationState,
    _: Reader,
    Query(query): Query<AuditQuery>,
) -> Result<axum::Json<AuditPage>, ApiError> {
    let (from, until) = match query.day.as_deref().filter(|d| !d.is_empty()) {
        None => (None, None),
        Some(text) => {
            let day: Date = text.parse().map_err(|_| {
                ApiError::Unprocessable(format!("{text:?} is not a day (YYYY-MM-DD)"))
            })?;
            let zone = super::system::station_zone(&state);
            let midnight =
                |d: Date| zone.to_timestamp(d.to_datetime(jiff::civil::Time::midnight()));
            let start = midnight(day).map_err(|e| ApiError::Unprocessable(e.to_string()))?;
            let end = day
                .tomorrow()
                .and_then(midnight)
                .map_err(|e| ApiError::Unprocessable(e.to_string()))?;
            (Some(start), Some(end))
        }
    };
    let filter = AuditFilter {
        article_id: query.article,
        person: query.person.filter(|p| !p.is_empty()),
        from,
        until,
        limit: query.limit.unwrap_or(200).clamp(1, 1000),
    };
    let page = state
        .blocking(move |s| {
            Ok(AuditPage {
                events: s.store.audit_events(&filter)?,
                persons: s.store.audit_persons()?,
            })
        })
        .await?;
    Ok(axum::Json(page))
}
