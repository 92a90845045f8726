//! `ApiError`: every failure a handler returns, with one exhaustive mapping
//! to an HTTP status and the JSON body `{error, detail}`. A 4xx says what to
//! fix; a 5xx body stays generic and the details go to the log, tagged with
//! the request id. No detail echoes more than a few hundred characters of
//! what was sent ([`excerpt`], [`MAX_DETAIL_CHARS`]). Answers that axum or
//! tower make themselves (405, 408, 413 of an extractor, …) are given the
//! same JSON body by [`json_errors`].

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::ingest::IngestError;
use crate::limits::LimitError;
use crate::store::StoreError;
use crate::voice::VoiceError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// No token, or a token that is not (or no longer) valid.
    #[error("{0}")]
    Unauthorized(String),
    /// A valid token whose scope does not allow this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// Well-formed, but not something bantin can take (an article with
    /// nothing to read, a lexicon row that fails validation, …).
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A byte range outside the file; carries the file length.
    #[error("the range is outside the {0} bytes of the file")]
    RangeNotSatisfiable(u64),
    #[error("{0}")]
    Unavailable(String),
    /// Too much work queued, or the database held by another program:
    /// 503 with `Retry-After` (seconds).
    #[error("{detail}")]
    Busy { detail: String, retry_after: u32 },
    /// A voice's daily character cap would be passed: 429 with
    /// `Retry-After` (seconds until the station's next day). Not 402: the
    /// cap is the station's own quota per day, which time lifts, not a
    /// payment.
    #[error("{detail}")]
    OverCap { detail: String, retry_after: u32 },
    /// The disk is full: 507.
    #[error("{0}")]
    InsufficientStorage(String),
    /// Logged in full; the client sees a generic message.
    #[error("{0}")]
    Internal(String),
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable code: `unauthorized`, `not_found`, `unprocessable`, …
    pub error: &'static str,
    /// What went wrong, in words.
    pub detail: String,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RangeNotSatisfiable(_) => StatusCode::RANGE_NOT_SATISFIABLE,
            ApiError::Unavailable(_) | ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::OverCap { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unprocessable(_) => "unprocessable",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::RangeNotSatisfiable(_) => "range_not_satisfiable",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Busy { .. } => "busy",
            ApiError::OverCap { .. } => "daily_cap",
            ApiError::InsufficientStorage(_) => "insufficient_storage",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let detail = match &self {
            ApiError::Internal(detail) => {
                // The span carries the request id.
                tracing::error!(%detail, "internal error");
                "the server failed; the details are in its log".to_string()
            }
            other => capped(&other.to_string()),
        };
        let mut response = (
            status,
            axum::Json(ErrorBody {
                error: self.code(),
                detail,
            }),
        )
            .into_response();
        match self {
            ApiError::Unauthorized(_) => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"bantin\""),
                );
            }
            ApiError::Busy { retry_after, .. } | ApiError::OverCap { retry_after, .. } => {
                if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
            }
            ApiError::RangeNotSatisfiable(length) => {
                if let Ok(value) = HeaderValue::from_str(&format!("bytes */{length}")) {
                    response.headers_mut().insert(header::CONTENT_RANGE, value);
                }
            }
            _ => {}
        }
        response
    }
}

/// Seconds a client waits before retrying a write when the database is
/// held by another program (writes wait 2 s for it before giving up).
const RETRY_DATABASE_BUSY_SECONDS: u32 = 2;

/// The longest `detail` sent; a longer one keeps its start and end.
pub const MAX_DETAIL_CHARS: usize = 400;

/// Input quoted in a message: at most `EXCERPT_CHARS` characters, cut with "…".
const EXCERPT_CHARS: usize = 200;

/// `text` as it may be quoted back in an error: its first 200 characters,
/// then "…" when there was more.
pub fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        None => text.to_string(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

/// `detail` cut to [`MAX_DETAIL_CHARS`]: the start and the end (where
/// parsers say the line and column) with "…" between.
fn capped(detail: &str) -> String {
    let chars = detail.chars().count();
    if chars <= MAX_DETAIL_CHARS {
        return detail.to_string();
    }
    let head = MAX_DETAIL_CHARS * 3 / 4;
    let tail = MAX_DETAIL_CHARS - head - 1;
    let start: String = detail.chars().take(head).collect();
    let end: String = detail.chars().skip(chars - tail).collect();
    format!("{start}…{end}")
}

/// The error code of an answer axum or tower made without a JSON body.
fn code_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal",
        _ => "error",
    }
}

/// Middleware around the whole service: an error answer without a JSON
/// (or HTML page) body, as axum and tower make them (405 with an empty
/// body, 408 of the timeout, 413 and 400 of extractors in plain text),
/// gets the `{error, detail}` body every other error has; its headers
/// (`Allow`, …) stay.
pub async fn json_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let kind = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if kind.starts_with("application/json") || kind.starts_with("text/html") {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let detail = if status.is_server_error() {
        "the server failed; the details are in its log".to_string()
    } else if !text.is_empty() {
        capped(&text)
    } else {
        match status {
            StatusCode::METHOD_NOT_ALLOWED => {
                let allowed = parts
                    .headers
                    .get(header::ALLOW)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                format!("this endpoint does not take that method; it takes {allowed}")
            }
            StatusCode::REQUEST_TIMEOUT => {
                "the request took too long and was stopped; try again later".to_string()
            }
            other => other
                .canonical_reason()
                .unwrap_or("the request failed")
                .to_string(),
        }
    };
    let body = serde_json::to_vec(&ErrorBody {
        error: code_of(status),
        detail,
    })
    .expect("a string map serializes");
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, axum::body::Body::from(body))
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { .. } => ApiError::NotFound(error.to_string()),
            StoreError::Conflict(detail) => ApiError::Conflict(detail),
            StoreError::Invalid(detail) => ApiError::Unprocessable(detail),
            StoreError::Busy { .. } => ApiError::Busy {
                detail: error.to_string(),
                retry_after: RETRY_DATABASE_BUSY_SECONDS,
            },
            StoreError::DiskFull { .. } => ApiError::InsufficientStorage(error.to_string()),
            StoreError::Unavailable(_) => ApiError::Unavailable(error.to_string()),
            StoreError::Open { .. }
            | StoreError::NewerSchema { .. }
            | StoreError::Migration { .. }
            | StoreError::Sql(_)
            | StoreError::Io { .. }
            | StoreError::Task(_) => ApiError::Internal(error.to_string()),
        }
    }
}

impl From<IngestError> for ApiError {
    fn from(error: IngestError) -> Self {
        match error {
            IngestError::TooLarge { .. } | IngestError::ZipBomb { .. } => {
                ApiError::PayloadTooLarge(error.to_string())
            }
            IngestError::Unsupported { .. } | IngestError::UnsupportedCharset { .. } => {
                ApiError::UnsupportedMediaType(error.to_string())
            }
            IngestError::Empty
            | IngestError::NothingToRead { .. }
            | IngestError::NotUtf8 { .. }
            | IngestError::Binary { .. }
            | IngestError::BadUtf16
            | IngestError::MixedEncoding { .. }
            | IngestError::LegacyEncoding { .. }
            | IngestError::NotDocx { .. }
            | IngestError::TooDeep { .. } => ApiError::Unprocessable(error.to_string()),
        }
    }
}

impl From<LimitError> for ApiError {
    fn from(error: LimitError) -> Self {
        match error {
            LimitError::Exceeded { .. } => ApiError::Unprocessable(error.to_string()),
        }
    }
}

impl From<VoiceError> for ApiError {
    fn from(error: VoiceError) -> Self {
        match error {
            VoiceError::Unknown { .. } => ApiError::Unprocessable(error.to_string()),
            VoiceError::Invalid { .. } | VoiceError::Io { .. } => {
                ApiError::Internal(error.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_and_details_stay_short_and_say_they_were_cut() {
        assert_eq!(excerpt("ngắn"), "ngắn");
        let long = "ă".repeat(10_000);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
        let detail = format!("bad key {long} at line 1 column 20001");
        let capped = capped(&detail);
        assert_eq!(capped.chars().count(), MAX_DETAIL_CHARS);
        assert!(capped.starts_with("bad key ă") && capped.ends_with("at line 1 column 20001"));
        assert!(capped.contains('…'));
    }
}
