//! Reading an uploaded article: the body in any accepted form (text/plain,
//! text/html, DOCX, multipart with a `file` field) within the body limit,
//! then validated as an article within the article limits and shaped as a
//! new revision for the store.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, StatusCode, header};

use super::articles::DOCX;
use super::{file_name, media_type};
use crate::ingest;
use crate::limits::Limits;
use crate::server::AppState;
use crate::server::error::ApiError;
use crate::store::NewRevision;

/// An uploaded article, before it is stored.
pub(super) struct Upload {
    pub bytes: Vec<u8>,
    pub file_name: Option<String>,
}

fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the body is larger than the limit of {limit} bytes"
    ))
}

/// Reads the body of an upload in any accepted form.
pub(super) async fn read_upload(state: &AppState, request: Request) -> Result<Upload, ApiError> {
    let limit = state.config.limits.max_body_bytes;
    let headers = request.headers().clone();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let media = media_type(&headers).ok_or_else(|| {
        ApiError::UnsupportedMediaType(format!(
            "name the Content-Type: text/plain, text/html, {DOCX} or multipart/form-data"
        ))
    })?;
    match media.as_str() {
        "text/plain" | "text/html" | DOCX => {
            let bytes = axum::body::to_bytes(request.into_body(), limit)
                .await
                .map_err(|_| too_large(limit))?;
            Ok(Upload {
                bytes: bytes.to_vec(),
                file_name: disposition_file_name(&headers)?,
            })
        }
        "multipart/form-data" => {
            let mut multipart = Multipart::from_request(request, state)
                .await
                .map_err(|e| ApiError::BadRequest(e.body_text()))?;
            let multipart_error = |e: axum::extract::multipart::MultipartError| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large(limit)
                } else {
                    ApiError::BadRequest(format!("malformed multipart body: {}", e.body_text()))
                }
            };
            while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
                let is_file = field.file_name().is_some() || field.name() == Some("file");
                if !is_file {
                    continue;
                }
                let name = field.file_name().map(file_name).transpose()?;
                if let Some(kind) = field.content_type() {
                    let kind = kind
                        .split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase();
                    if !["text/plain", "text/html", DOCX, "application/octet-stream"]
                        .contains(&kind.as_str())
                    {
                        return Err(ApiError::UnsupportedMediaType(format!(
                            "the file is {kind}; send text/plain, text/html or DOCX"
                        )));
                    }
                }
                let bytes = field.bytes().await.map_err(multipart_error)?;
                return Ok(Upload {
                    bytes: bytes.to_vec(),
                    file_name: name,
                });
            }
            Err(ApiError::BadRequest(
                "the multipart body has no file field (name it `file`)".into(),
            ))
        }
        other => Err(ApiError::UnsupportedMediaType(format!(
            "{other} is not an article; send text/plain, text/html, {DOCX} or multipart/form-data"
        ))),
    }
}

/// `Content-Disposition: attachment; filename="x.docx"` on a raw upload.
fn disposition_file_name(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(header::CONTENT_DISPOSITION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::BadRequest("Content-Disposition is not text".into()))?;
    let Some(name) = value
        .split(';')
        .filter_map(|part| part.trim().strip_prefix("filename="))
        .next()
    else {
        return Ok(None);
    };
    file_name(name.trim_matches('"')).map(Some)
}

/// Validates an upload as an article and shapes it for the store.
pub(super) fn new_revision(
    upload: Upload,
    author: &str,
    limits: &Limits,
) -> Result<NewRevision, ApiError> {
    let article = ingest::read(&upload.bytes, upload.file_name.as_deref())?;
    // Refused here, so no stored revision is beyond what a later read handles.
    limits.check(&article)?;
    let content_type = match article.format {
        ingest::Format::Text => "text/plain; charset=utf-8",
        ingest::Format::Html => "text/html",
        ingest::Format::Docx => DOCX,
    };
    Ok(NewRevision {
        title: article.title,
        file_name: upload.file_name,
        content_type: content_type.into(),
        body: upload.bytes,
        author: author.to_string(),
    })
}
