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
    /// `ok`; `degraded` when a voice other than the default cannot speak;
    /// `unavailable` (answered with 503) when the default voice cannot.
    pub status: &'static str,
    pub articles: i64,
    /// Each voice's backend and whether it can speak here.
    pub voices: Vec<BackendHealth>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BackendHealth {
    pub voice: String,
    /// `espeak`, `command` or `http`.
    pub backend: String,
    pub default: bool,
    /// espeak-ng or the voice's program found; for `http` voices, that
    /// one is configured (its server is not called by a health check).
    pub available: bool,
    pub problem: Option<String>,
}

/// Why `voice` cannot speak on this machine, or `None`. Program backends
/// are looked up on disk (cheap); an `http` voice counts as able when
/// configured, so a health check or a render request never waits for a
/// remote server.
pub(crate) fn voice_problem(state: &AppState, voice: &crate::voice::Voice) -> Option<String> {
    if state.synthesizer.is_none() && voice.check_calls_network() {
        return None;
    }
    state
        .synthesizer_for(voice)
        .check()
        .err()
        .map(|e| e.to_string())
}

/// Whether the service, its database and its voices work: 503 when the
/// database does not answer or the default voice cannot speak.
#[utoipa::path(get, path = "/healthz", tag = "system",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> Result<Response, ApiError> {
    let (articles, voices) = state
        .blocking(|s| {
            let articles = s
                .store
                .article_count()
                .map_err(|e| ApiError::Unavailable(format!("the database does not answer: {e}")))?;
            let voices = s
                .voices
                .all()
                .iter()
                .map(|voice| {
                    let problem = voice_problem(s, voice);
                    BackendHealth {
                        voice: voice.name.clone(),
                        backend: voice.backend_name().to_string(),
                        default: voice.name == s.config.default_voice,
                        available: problem.is_none(),
                        problem,
                    }
                })
                .collect::<Vec<_>>();
            Ok((articles, voices))
        })
        .await?;
    let default_speaks = voices.iter().any(|v| v.default && v.available);
    let (code, status) = if !default_speaks {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    } else if voices.iter().all(|v| v.available) {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::OK, "degraded")
    };
    Ok((
        code,
        axum::Json(Health {
            status,
            articles,
            voices,
        }),
    )
        .into_response())
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
        state.metrics.exposition(&counts),
    )
        .into_response())
}
