//! Routers by area; each `router()` is merged in [`super::app`]. Helpers
//! shared by the handlers: ids from paths, JSON bodies, uploads.

pub mod approval;
pub mod articles;
pub mod audit;
pub mod bulletins;
pub mod feeds;
pub mod jobs;
pub mod lexicon;
pub mod people;
pub mod stations;
pub mod system;
mod upload;
pub mod webhooks;

use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;

use super::error::{ApiError, excerpt};

/// Records what `token`'s person just did in the audit trail.
///
/// # Errors
/// The store's, as an [`ApiError`].
pub fn audit(
    state: &crate::server::AppState,
    token: &crate::store::ApiToken,
    action: crate::store::AuditAction,
    article: Option<(i64, Option<i64>)>,
    detail: String,
) -> Result<(), ApiError> {
    state.store.record_audit(&crate::store::NewAuditEvent {
        actor: crate::store::Actor::from(token),
        action,
        article_id: article.map(|a| a.0),
        revision: article.and_then(|a| a.1),
        detail,
    })?;
    Ok(())
}

/// A numeric id from a path segment; anything else names nothing (404).
pub fn id(what: &str, text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::NotFound(format!("no {what} {:?}", excerpt(text))))
}

/// The media type of a request without parameters, lower-case.
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(
        value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

/// Parses a JSON body: 415 unless it is `application/json`, 400 for bytes
/// that are not JSON, 422 for JSON of the wrong shape.
pub fn json_body<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, ApiError> {
    match media_type(headers).as_deref() {
        Some("application/json") => {}
        Some(other) => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "send application/json, not {other}"
            )));
        }
        None => {
            return Err(ApiError::UnsupportedMediaType(
                "send application/json (the Content-Type header is missing)".into(),
            ));
        }
    }
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::Unprocessable(e.to_string()),
        serde_json::error::Category::Io
        | serde_json::error::Category::Syntax
        | serde_json::error::Category::Eof => {
            ApiError::BadRequest(format!("the body is not valid JSON: {e}"))
        }
    })
}

/// Checks a file name staff sent: a plain name, never a path.
pub fn file_name(name: &str) -> Result<String, ApiError> {
    let bad = name.is_empty()
        || name.len() > 255
        || name == "."
        || name.contains("..")
        || name.contains(['/', '\\', ':'])
        || name.chars().any(char::is_control);
    if bad {
        return Err(ApiError::BadRequest(format!(
            "the file name {:?} must be a plain name without a path",
            excerpt(name)
        )));
    }
    Ok(name.to_string())
}

/// Query parameters, with a JSON 400 instead of axum's plain-text rejection.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}
