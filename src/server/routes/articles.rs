//! Articles: uploads (text/plain, text/html, DOCX, multipart), revisions,
//! the original bytes, the review (every sentence as spoken, each expansion
//! with its rule, dropped lines with reasons, warnings) and scripts in every
//! format.

use crate::server::StationState;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::upload::{new_revision, read_upload};
use super::{Query, id};
use crate::script::format::Format;
use crate::server::error::{ApiError, ErrorBody};
use crate::server::prepared::{Answer, Prepared, Representation};
use crate::server::{AppState, Editor, Reader};
use crate::store::{Actor, ArticleSummary, AuditAction, Job, Revision};

/// The DOCX media type.
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/articles", get(list).post(create))
        .route("/api/articles/{id}", get(show).put(revise).delete(delete))
        .route("/api/articles/{id}/source", get(source))
        .route("/api/articles/{id}/review", get(review))
        .route("/api/articles/{id}/script", get(script))
}

/// Answer to an upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
    pub revision: i64,
    pub title: String,
}

/// An article with its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleDetail {
    pub article: ArticleSummary,
    pub revisions: Vec<Revision>,
    /// Render jobs, newest first.
    pub jobs: Vec<Job>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// At most this many (default 50, at most 500).
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RevisionQuery {
    /// Revision number; the latest when absent.
    pub revision: Option<i64>,
    /// Voice whose speaking rate times the script; the station default when absent.
    pub voice: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ScriptQuery {
    /// `json` (default), `txt` (announcer), `srt` or `vtt`.
    #[param(value_type = Option<String>)]
    pub format: Option<Format>,
    pub revision: Option<i64>,
    pub voice: Option<String>,
}

/// Upload a new article.
#[utoipa::path(post, path = "/api/articles", tag = "articles",
    request_body(description = "The article: text/plain, text/html, DOCX, or multipart/form-data with a `file` field", content_type = "text/plain"),
    responses(
        (status = 201, description = "Stored", body = Created),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, description = "Not an article (empty, binary, nothing to read), or beyond a limit of `limits::Limits` (named in the message)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn create(
    StationState(state): StationState,
    Editor(token): Editor,
    request: Request,
) -> Result<Response, ApiError> {
    let upload = read_upload(&state, request).await?;
    let (id, revision, title) = state
        .blocking(move |s| {
            let new = new_revision(upload, &token.name, &s.config.limits.article)?;
            let (id, revision) = s.store.create_article_as(&new, &Actor::from(&token))?;
            Ok((id, revision, new.title))
        })
        .await?;
    let mut response = (
        StatusCode::CREATED,
        axum::Json(Created {
            id,
            revision,
            title,
        }),
    )
        .into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/articles/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Upload a new revision of an article (older revisions are kept).
#[utoipa::path(put, path = "/api/articles/{id}", tag = "articles",
    params(("id" = i64, Path, description = "Article id")),
    request_body(description = "The article, as for POST /api/articles", content_type = "text/plain"),
    responses(
        (status = 201, description = "Revision stored", body = Created),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn revise(
    StationState(state): StationState,
    Editor(token): Editor,
    Path(raw): Path<String>,
    request: Request,
) -> Result<(StatusCode, axum::Json<Created>), ApiError> {
    let id = id("article", &raw)?;
    // An unknown article is 404 before its body is read.
    state.blocking(move |s| Ok(s.store.article(id)?)).await?;
    let upload = read_upload(&state, request).await?;
    let created = state
        .blocking(move |s| {
            let new = new_revision(upload, &token.name, &s.config.limits.article)?;
            let revision = s.store.add_revision_as(id, &new, &Actor::from(&token))?;
            Ok(Created {
                id,
                revision,
                title: new.title,
            })
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

/// List articles, most recently changed first.
#[utoipa::path(get, path = "/api/articles", tag = "articles", params(ListQuery),
    responses((status = 200, body = Vec<ArticleSummary>), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    StationState(state): StationState,
    _: Reader,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<Vec<ArticleSummary>>, ApiError> {
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let offset = query.offset.unwrap_or(0).max(0);
    let rows = state
        .blocking(move |s| Ok(s.store.articles(limit, offset)?))
        .await?;
    Ok(axum::Json(rows))
}

/// An article, its revisions and its render jobs.
#[utoipa::path(get, path = "/api/articles/{id}", tag = "articles",
    params(("id" = i64, Path, description = "Article id")),
    responses((status = 200, body = ArticleDetail), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    StationState(state): StationState,
    _: Reader,
    Path(raw): Path<String>,
) -> Result<axum::Json<ArticleDetail>, ApiError> {
    let id = id("article", &raw)?;
    let detail = state
        .blocking(move |s| {
            Ok(ArticleDetail {
                article: s.store.article(id)?,
                revisions: s.store.revisions(id)?,
                jobs: s.store.jobs_of_article(id)?,
            })
        })
        .await?;
    Ok(axum::Json(detail))
}

/// Delete an article: it leaves lists and lookups; its revisions are kept,
/// and a bulletin it was approved for fails with its name until it is taken out.
#[utoipa::path(delete, path = "/api/articles/{id}", tag = "articles",
    params(("id" = i64, Path, description = "Article id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    StationState(state): StationState,
    Editor(token): Editor,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = id("article", &raw)?;
    state
        .blocking(move |s| {
            let title = s.store.article(id)?.title;
            s.store.delete_article(id)?;
            super::audit(
                s,
                &token,
                AuditAction::ArticleDeleted,
                Some((id, None)),
                title,
            )
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The bytes of a revision as uploaded.
#[utoipa::path(get, path = "/api/articles/{id}/source", tag = "articles",
    params(("id" = i64, Path, description = "Article id"), RevisionQuery),
    responses((status = 200, description = "The uploaded bytes"), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn source(
    StationState(state): StationState,
    _: Reader,
    Path(raw): Path<String>,
    Query(query): Query<RevisionQuery>,
) -> Result<Response, ApiError> {
    let id = id("article", &raw)?;
    let body = state
        .blocking(move |s| Ok(s.store.revision_body(id, query.revision)?))
        .await?;
    // An attachment, never rendered by the browser: uploaded HTML must not
    // run on the service's origin.
    let disposition = format!(
        "attachment; filename=\"article-{id}-r{}.{}\"",
        body.revision.revision,
        match body.revision.content_type.as_str() {
            DOCX => "docx",
            "text/html" => "html",
            _ => "txt",
        }
    );
    Ok((
        [
            (header::CONTENT_TYPE, body.revision.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        Body::from(body.body),
    )
        .into_response())
}

/// Every sentence as it will be spoken.
#[derive(Debug, Serialize, ToSchema)]
pub struct Review {
    pub article_id: i64,
    pub revision: i64,
    pub title: String,
    pub published: Option<String>,
    pub byline: Option<String>,
    pub voice: String,
    /// Estimated from syllables and the voice's speaking rate.
    pub estimated_duration_ms: u64,
    pub sentences: Vec<ReviewSentence>,
    /// Lines of the source that are not read, with the reason.
    pub dropped: Vec<ReviewDropped>,
    /// Everything the editor should look at (unknown words read literally or spelled).
    pub warnings: Vec<ReviewWarning>,
    /// What a render with this voice costs now, for a voice billed per
    /// character; `null` for the others.
    pub bill: Option<ReviewBill>,
}

/// A billed voice's cost before speaking.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewBill {
    #[serde(flatten)]
    pub cost: crate::billing::Cost,
    /// The station's cap per day, if any.
    pub daily_chars: Option<u64>,
    /// Characters billed today (the station's day).
    pub used_today_chars: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewSentence {
    /// Cue id in the script.
    pub id: usize,
    pub paragraph: usize,
    pub text: String,
    pub spoken: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub tokens: Vec<ReviewToken>,
}

/// One piece of the sentence: what is written → what is said.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewToken {
    /// The written text of the span.
    pub original: String,
    pub spoken: String,
    /// `word`, `pause`, `number`, `date`, `abbreviation`, …
    pub kind: String,
    /// The rule that made it (`N-DATE-DM`, `A-LEX-CTX`, `A-STATION`, …).
    pub rule: String,
    /// True when the reading differs from the written word (what editors check).
    pub expansion: bool,
    /// Byte range in the article text.
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewDropped {
    pub line: usize,
    pub text: String,
    pub reason: String,
    pub detail: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewWarning {
    pub sentence: usize,
    pub text: String,
    pub rule: String,
    pub message: String,
    pub start: usize,
    pub end: usize,
}

fn kind_name(kind: crate::normalize::Kind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn build_review(prepared: &Prepared) -> Review {
    let (revision, article, script) = (&prepared.revision, &prepared.article, &prepared.script);
    let text = &article.text;
    let slice = |span: &std::ops::Range<usize>| text.get(span.clone()).unwrap_or("").to_string();
    let sentences = script
        .cues
        .iter()
        .map(|cue| ReviewSentence {
            id: cue.id,
            paragraph: cue.paragraph,
            text: cue.text.clone(),
            spoken: cue.spoken.clone(),
            start_ms: cue.start.as_millis() as u64,
            end_ms: cue.end.as_millis() as u64,
            tokens: cue
                .tokens
                .iter()
                .map(|t| ReviewToken {
                    original: slice(&t.span),
                    spoken: t.spoken.to_string(),
                    kind: kind_name(t.kind),
                    rule: t.rule.to_string(),
                    expansion: t.is_expansion(),
                    start: t.span.start,
                    end: t.span.end,
                })
                .collect(),
        })
        .collect();
    let warnings = script
        .cues
        .iter()
        .flat_map(|cue| {
            cue.warnings.iter().map(|w| ReviewWarning {
                sentence: cue.id,
                text: w.text.clone(),
                rule: w.rule.to_string(),
                message: w.message.clone(),
                start: w.span.start,
                end: w.span.end,
            })
        })
        .collect();
    Review {
        article_id: revision.article_id,
        revision: revision.revision,
        title: article.title.clone(),
        published: article.published.clone(),
        byline: article.byline.clone(),
        voice: script.voice.clone(),
        estimated_duration_ms: script.total.as_millis() as u64,
        sentences,
        dropped: article
            .dropped
            .iter()
            .map(|d| ReviewDropped {
                line: d.line,
                text: d.text.clone(),
                reason: d.reason.clone(),
                detail: d.detail.clone(),
            })
            .collect(),
        warnings,
        // Depends on the speech cache, not only on the script: filled in
        // per request by [`with_bill`].
        bill: None,
    }
}

/// The review answer with the voice's bill as it stands now (what the
/// speech cache holds changes without the script changing); the ETag is
/// that of the whole answer.
fn with_bill(
    state: &AppState,
    key: &crate::server::prepared::Key,
    answer: Answer,
) -> Result<Answer, ApiError> {
    let voice = state.voice(Some(&key.voice))?;
    if voice.billable_chars("").is_none() {
        return Ok(answer);
    }
    let prepared = state.prepared(key.article, Some(key.revision), Some(&key.voice))?;
    let Some(cost) = super::system::script_cost(state, &prepared.script, voice) else {
        return Ok(answer);
    };
    let bill = ReviewBill {
        cost,
        daily_chars: state.config.daily_chars(&voice.name),
        used_today_chars: state
            .store
            .voice_usage(&voice.name, &super::system::station_day(state))?,
    };
    let mut review: serde_json::Value = serde_json::from_slice(&answer.body)
        .map_err(|e| ApiError::Internal(format!("the cached review does not parse: {e}")))?;
    review["bill"] = serde_json::to_value(&bill).expect("the bill serializes");
    Ok(Answer::new(
        serde_json::to_vec(&review).expect("the review serializes"),
    ))
}

/// The review as a cached answer.
const REVIEW: Representation = Representation {
    name: "review",
    encode: |prepared| serde_json::to_vec(&build_review(prepared)).expect("the review serializes"),
};

/// A script format as a cached answer.
fn script_answer(format: Format) -> Representation {
    fn script_bytes(format: Format, prepared: &Prepared) -> Vec<u8> {
        format.text(&prepared.script).into_bytes()
    }
    match format {
        Format::Json => Representation {
            name: "script.json",
            encode: |p| script_bytes(Format::Json, p),
        },
        Format::Txt => Representation {
            name: "script.txt",
            encode: |p| script_bytes(Format::Txt, p),
        },
        Format::Srt => Representation {
            name: "script.srt",
            encode: |p| script_bytes(Format::Srt, p),
        },
        Format::Vtt => Representation {
            name: "script.vtt",
            encode: |p| script_bytes(Format::Vtt, p),
        },
    }
}

/// A cached answer as a response: 304 when `If-None-Match` names it.
/// `no-cache`: a client revalidates each time, since the answer changes
/// with the station lexicon.
fn cached_response(headers: &HeaderMap, answer: Answer, content_type: &str) -> Response {
    let if_none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    let not_modified = answer.matches(if_none_match);
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, content_type.to_string())],
            Body::from(answer.body),
        )
            .into_response()
    };
    let out = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&answer.etag) {
        out.insert(header::ETAG, etag);
    }
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    response
}

/// The review: sentences as spoken, expansions with their rules, dropped
/// lines, warnings, and a billed voice's characters with those the speech
/// cache already holds.
#[utoipa::path(get, path = "/api/articles/{id}/review", tag = "articles",
    params(("id" = i64, Path, description = "Article id"), RevisionQuery,
        ("If-None-Match" = Option<String>, Header, description = "An ETag of an earlier answer: 304 when it still holds")),
    responses((status = 200, body = Review, headers(("ETag" = String, description = "Strong validator of the answer"))),
        (status = 304, description = "Unchanged since the ETag sent"),
        (status = 404, body = ErrorBody),
        (status = 422, description = "Unknown voice", body = ErrorBody),
        (status = 503, description = "Busy: try again after Retry-After seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn review(
    StationState(state): StationState,
    _: Reader,
    Path(raw): Path<String>,
    Query(query): Query<RevisionQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = id("article", &raw)?;
    let (key, answer) = state
        .answer(id, query.revision, query.voice, REVIEW)
        .await?;
    let answer = state.blocking(move |s| with_bill(s, &key, answer)).await?;
    Ok(cached_response(&headers, answer, "application/json"))
}

/// The estimated script in any format.
#[utoipa::path(get, path = "/api/articles/{id}/script", tag = "articles",
    params(("id" = i64, Path, description = "Article id"), ScriptQuery,
        ("If-None-Match" = Option<String>, Header, description = "An ETag of an earlier answer: 304 when it still holds")),
    responses((status = 200, description = "The script (JSON, announcer text, SRT or WebVTT)",
            headers(("ETag" = String, description = "Strong validator of the answer"))),
        (status = 304, description = "Unchanged since the ETag sent"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, description = "Busy: try again after Retry-After seconds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn script(
    StationState(state): StationState,
    _: Reader,
    Path(raw): Path<String>,
    Query(query): Query<ScriptQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = id("article", &raw)?;
    let format = query.format.unwrap_or(Format::Json);
    let (key, answer) = state
        .answer(id, query.revision, query.voice, script_answer(format))
        .await?;
    let mut response = cached_response(&headers, answer, format.content_type());
    let disposition = format!(
        "inline; filename=\"article-{id}-r{}.{}\"",
        key.revision,
        format.extension()
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
