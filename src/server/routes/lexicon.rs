//! Station lexicon entries over HTTP: list, add (validated like every
//! lexicon row), remove. The next review reads with the change; every
//! change is recorded in the audit trail with its person.

use crate::server::StationState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Query, id, json_body};
use crate::server::error::{ApiError, ErrorBody};
use crate::server::{AppState, Editor, Reader};
use crate::store::{AuditAction, NewLexiconEntry, StationEntry};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/lexicon", get(list).post(add).delete(remove_by_key))
        .route("/api/lexicon/{id}", delete(remove))
}

/// Station entries, by key.
#[utoipa::path(get, path = "/api/lexicon", tag = "lexicon",
    responses((status = 200, body = Vec<StationEntry>), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    StationState(state): StationState,
    _: Reader,
) -> Result<axum::Json<Vec<StationEntry>>, ApiError> {
    Ok(axum::Json(
        state.blocking(|s| Ok(s.store.lexicon_entries()?)).await?,
    ))
}

/// Add a station entry (replaces the built-in reading of its key).
#[utoipa::path(post, path = "/api/lexicon", tag = "lexicon",
    request_body = NewLexiconEntry,
    responses(
        (status = 201, body = StationEntry),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 409, description = "The key already has a reading for this context", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "The row fails validation", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn add(
    StationState(state): StationState,
    Editor(token): Editor,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, axum::Json<StationEntry>), ApiError> {
    let new: NewLexiconEntry = json_body(&headers, &body)?;
    let entry = state
        .blocking(move |s| {
            let entry = s.store.add_lexicon_entry(&new, &token.name)?;
            super::audit(s, &token, AuditAction::LexiconAdded, None, describe(&entry))?;
            Ok(entry)
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(entry)))
}

/// Remove one entry by id.
#[utoipa::path(delete, path = "/api/lexicon/{id}", tag = "lexicon",
    params(("id" = i64, Path, description = "Entry id")),
    responses((status = 200, body = StationEntry), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn remove(
    StationState(state): StationState,
    Editor(token): Editor,
    Path(raw): Path<String>,
) -> Result<axum::Json<StationEntry>, ApiError> {
    let id = id("lexicon entry", &raw)?;
    Ok(axum::Json(
        state
            .blocking(move |s| {
                let entry = s.store.remove_lexicon_entry(id)?;
                super::audit(
                    s,
                    &token,
                    AuditAction::LexiconRemoved,
                    None,
                    describe(&entry),
                )?;
                Ok(entry)
            })
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct KeyQuery {
    pub key: String,
    /// Only the entry with this context (normalized, `|`-separated).
    pub context: Option<String>,
}

/// Remove the entries of a key.
#[utoipa::path(delete, path = "/api/lexicon", tag = "lexicon", params(KeyQuery),
    responses((status = 200, body = Vec<StationEntry>), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn remove_by_key(
    StationState(state): StationState,
    Editor(token): Editor,
    Query(query): Query<KeyQuery>,
) -> Result<axum::Json<Vec<StationEntry>>, ApiError> {
    Ok(axum::Json(
        state
            .blocking(move |s| {
                let removed = s
                    .store
                    .remove_lexicon_key(&query.key, query.context.as_deref())?;
                for entry in &removed {
                    super::audit(
                        s,
                        &token,
                        AuditAction::LexiconRemoved,
                        None,
                        describe(entry),
                    )?;
                }
                Ok(removed)
            })
            .await?,
    ))
}

/// An entry as the trail says it: `BTV → Ban Thường vụ (Thành ủy)`.
fn describe(entry: &StationEntry) -> String {
    if entry.context.is_empty() {
        format!("{} → {}", entry.key, entry.spoken)
    } else {
        format!("{} → {} ({})", entry.key, entry.spoken, entry.context)
    }
}
