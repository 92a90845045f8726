//! Approval for air and what changed: an approver approves an article's
//! latest revision; the page asks where an article stands and, when it was
//! edited after approval, sees the word-level changes since (original and
//! spoken text). Bulletins refuse unapproved items elsewhere
//! ([`crate::store::Store::require_approved`]).

use crate::server::StationState;
use axum::Router;
use axum::extract::Path;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Query, id};
use crate::diff::{self, Run};
use crate::server::error::{ApiError, ErrorBody};
use crate::server::{AppState, Approver, Reader};
use crate::store::{Actor, ApprovalState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/articles/{id}/approve", post(approve))
        .route("/api/articles/{id}/approval", get(approval))
        .route("/api/articles/{id}/diff", get(changes))
}

/// Word-level changes between two revisions.
#[derive(Debug, Serialize, ToSchema)]
pub struct Changes {
    pub from: i64,
    pub to: i64,
    /// The text as written.
    pub original: Vec<Run>,
    /// The text as it will be spoken (the station's default voice).
    pub spoken: Vec<Run>,
    /// Whether the spoken text differs at all.
    pub spoken_changed: bool,
}

/// Where an article stands with approval, and, when it was edited after
/// approval, what changed since.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalView {
    #[serde(flatten)]
    pub state: ApprovalState,
    pub changes_since_approval: Option<Changes>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    /// The older revision; the one before `to` when absent.
    pub from: Option<i64>,
    /// The newer revision; the latest when absent.
    pub to: Option<i64>,
}

fn texts(state: &AppState, article: i64, revision: i64) -> Result<(String, String), ApiError> {
    let prepared = state.prepared(article, Some(revision), None)?;
    let spoken: Vec<&str> = prepared
        .script
        .cues
        .iter()
        .map(|c| c.spoken.as_str())
        .collect();
    Ok((prepared.article.text.clone(), spoken.join(" ")))
}

/// The word-level changes from revision `from` to `to` of an article.
///
/// # Errors
/// [`ApiError::NotFound`] for an unknown revision; a revision that cannot be read.
pub fn compare(state: &AppState, article: i64, from: i64, to: i64) -> Result<Changes, ApiError> {
    let (old_text, old_spoken) = texts(state, article, from)?;
    let (new_text, new_spoken) = texts(state, article, to)?;
    let spoken = diff::words(&old_spoken, &new_spoken);
    Ok(Changes {
        from,
        to,
        original: diff::words(&old_text, &new_text),
        spoken_changed: diff::changed(&spoken),
        spoken,
    })
}

fn view(state: &AppState, article: i64, approval: ApprovalState) -> Result<ApprovalView, ApiError> {
    let changes_since_approval = match (&approval.last, approval.is_approved()) {
        (Some(last), false) => Some(compare(
            state,
            article,
            last.revision,
            approval.latest_revision,
        )?),
        _ => None,
    };
    Ok(ApprovalView {
        state: approval,
        changes_since_approval,
    })
}

/// Approve the article's latest revision for air (approver or admin).
#[utoipa::path(post, path = "/api/articles/{id}/approve", tag = "workflow",
    params(("id" = i64, Path, description = "Article id")),
    responses((status = 200, body = ApprovalView),
        (status = 403, description = "Not an approver", body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn approve(
    StationState(state): StationState,
    Approver(token): Approver,
    Path(raw): Path<String>,
) -> Result<axum::Json<ApprovalView>, ApiError> {
    let article = id("article", &raw)?;
    let view = state
        .blocking(move |s| {
            let approval = s.store.approve_article(article, &Actor::from(&token))?;
            view(s, article, approval)
        })
        .await?;
    Ok(axum::Json(view))
}

/// Where the article stands with approval; after an edit, what changed since.
#[utoipa::path(get, path = "/api/articles/{id}/approval", tag = "workflow",
    params(("id" = i64, Path, description = "Article id")),
    responses((status = 200, body = ApprovalView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn approval(
    StationState(state): StationState,
    _: Reader,
    Path(raw): Path<String>,
) -> Result<axum::Json<ApprovalView>, ApiError> {
    let article = id("article", &raw)?;
    let view = state
        .blocking(move |s| {
            let approval = s.store.approval_state(article)?;
            view(s, article, approval)
        })
        .await?;
    Ok(axum::Json(view))
}

/// Word-level changes between two revisions (original and spoken text).
#[utoipa::path(get, path = "/api/articles/{id}/diff", tag = "workflow",
    params(("id" = i64, Path, description = "Article id"), DiffQuery),
    responses((status = 200, body = Changes), (status = 404, body = ErrorBody),
        (status = 422, description = "`from` is not older than `to`", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn changes(
    StationState(state): StationState,
    _: Reader,
    Path(raw): Path<String>,
    Query(query): Query<DiffQuery>,
) -> Result<axum::Json<Changes>, ApiError> {
    let article = id("article", &raw)?;
    let changes = state
        .blocking(move |s| {
            let to = s.store.revision_number(article, query.to)?;
            let from = query.from.unwrap_or(to - 1);
            if from < 1 || from >= to {
                return Err(ApiError::Unprocessable(format!(
                    "compare an older revision with a newer one (from {from} to {to})"
                )));
            }
            s.store.revision_number(article, Some(from))?;
            compare(s, article, from, to)
        })
        .await?;
    Ok(axum::Json(changes))
}
