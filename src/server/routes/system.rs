//! Voices, health, metrics and the OpenAPI document. Health, metrics and
//! the document need no token (monitoring and tooling read them).

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::server::error::{ApiError, ErrorBody};
use crate::server::{ApiDoc, AppState, Reader};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/voices", get(voices))
        .route("/api/openapi.json", get(openapi))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VoiceInfo {
    pub name: String,
    pub description: String,
    pub backend: String,
    pub syllables_per_minute: f64,
    /// Whether the backend can run on this machine, or why not.
    pub available: bool,
    pub problem: Option<String>,
    pub default: bool,
}

/// The voices and whether each backend is available.
#[utoipa::path(get, path = "/api/voices", tag = "system",
    responses((status = 200, body = Vec<VoiceInfo>), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn voices(
    State(state): State<AppState>,
    _: Reader,
) -> Result<axum::Json<Vec<VoiceInfo>>, ApiError> {
    let list = state
        .blocking(|s| {
            Ok(s.voices
                .all()
                .iter()
                .map(|voice| {
                    let problem = s
                        .synthesizer_for(voice)
                        .check()
                        .err()
                        .map(|e| e.to_string());
                    VoiceInfo {
                        name: voice.name.clone(),
                        description: voice.description.clone(),
                        backend: voice.backend_name().to_string(),
                        syllables_per_minute: voice.syllables_per_minute,
                        available: problem.is_none(),
                        problem,
                        default: voice.name == s.config.default_voice,
                    }
                })
                .collect())
        })
        .await?;
    Ok(axum::Json(list))
}

async fn openapi() -> Response {
    match ApiDoc::openapi().to_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => ApiError::Internal(format!("OpenAPI document: {e}")).into_response(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub articles: i64,
}

/// Whether the service and its database answer.
#[utoipa::path(get, path = "/healthz", tag = "system",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn healthz(State(state): State<AppState>) -> Result<axum::Json<Health>, ApiError> {
    let articles = state
        .blocking(|s| {
            s.store
                .article_count()
                .map_err(|e| ApiError::Unavailable(format!("the database does not answer: {e}")))
        })
        .await?;
    Ok(axum::Json(Health {
        status: "ok",
        articles,
    }))
}

/// Prometheus metrics: requests, latencies, job durations, queue depth.
#[utoipa::path(get, path = "/metrics", tag = "system",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let counts = state.blocking(|s| Ok(s.store.job_counts()?)).await?;
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(&counts),
    )
        .into_response())
}
