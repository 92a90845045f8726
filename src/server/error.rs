//! `ApiError`: every failure a handler returns, with one exhaustive mapping
//! to an HTTP status and the JSON body `{error, detail}`. A 4xx says what to
//! fix; a 5xx body stays generic and the details go to the log, tagged with
//! the request id.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::ingest::IngestError;
use crate::limits::LimitError;
use crate::store::StoreError;
use crate::voice::VoiceError;

#[derive(Debug, thiserror::Error)]
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
    /// The database is held by another program: answered 503 with
    /// `Retry-After`.
    #[error("{0}")]
    Busy(String),
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
            ApiError::Unavailable(_) | ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
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
            ApiError::Busy(_) => "busy",
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
            other => other.to_string(),
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
            ApiError::Busy(_) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_BUSY));
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

/// Seconds a client waits before retrying when the database is busy.
const RETRY_BUSY: &str = "2";

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { .. } => ApiError::NotFound(error.to_string()),
            StoreError::Conflict(detail) => ApiError::Conflict(detail),
            StoreError::Invalid(detail) => ApiError::Unprocessable(detail),
            StoreError::Busy { .. } => ApiError::Busy(error.to_string()),
            StoreError::DiskFull { .. } => ApiError::InsufficientStorage(error.to_string()),
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
