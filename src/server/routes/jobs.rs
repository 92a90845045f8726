//! Render jobs and their audio: start a render (202 with the job; done at
//! once when identical input + voice is cached), follow its progress, cancel
//! it, download the audio with Range, HEAD and ETag: the WAV as rendered,
//! or MP3 / Ogg Opus (`?format=` or `Accept`) encoded with the station's
//! `[mp3]` / `[opus]` settings and tagged with the article's title.

use crate::server::StationState;
use std::io::SeekFrom;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use utoipa::ToSchema;

use super::{Query, id, json_body};
use crate::audio::format::{
    AudioFormat, Encoders, Labels, ascii_file_name, encoded_copy, encoded_folder,
};
use crate::server::error::{ApiError, ErrorBody};
use crate::server::jobs::cache_key;
use crate::server::{AppState, Editor, Reader};
use crate::store::{AudioEntry, Job, JobCost, JobState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/articles/{id}/render", post(render))
        .route("/api/articles/{id}/jobs", get(list_for_article))
        .route("/api/articles/{id}/audio", get(article_audio))
        .route("/api/jobs/{id}", get(show))
        .route("/api/jobs/{id}/cancel", post(cancel))
        .route("/api/jobs/{id}/audio", get(job_audio))
        .route("/api/jobs/{id}/script", get(job_script))
        .route("/api/jobs/{id}/check", get(job_check))
}

/// What to render; every field is optional and the body may be empty.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderRequest {
    /// Voice name; the station default when absent.
    pub voice: Option<String>,
    /// Pick the voice by accent instead: `bac`, `trung` or `nam`.
    pub region: Option<String>,
    /// Pick the voice by gender: `nu` or `nam`.
    pub gender: Option<String>,
    /// Revision; the latest when absent.
    pub revision: Option<i64>,
    /// Hear the render back with the station's recognizer and flag the cues
    /// the voice got wrong; the station's `[listen] enabled` when absent.
    pub check: Option<bool>,
}

/// Answer to a render request.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub job: Job,
    /// A billed voice's characters, and how many the speech cache holds.
    pub cost: Option<JobCost>,
}

/// A job with its bill (a billed voice's).
#[derive(Debug, Serialize, ToSchema)]
pub struct JobStatus {
    #[serde(flatten)]
    pub job: Job,
    pub cost: Option<JobCost>,
}

/// Start rendering an article.
#[utoipa::path(post, path = "/api/articles/{id}/render", tag = "jobs",
    params(("id" = i64, Path, description = "Article id")),
    request_body(content = Option<RenderRequest>, description = "Optional; an empty body renders the latest revision with the default voice"),
    responses(
        (status = 202, description = "Queued, or done at once from the cache", body = Accepted),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "The voice's daily character cap would be passed; Retry-After says when the station's next day starts", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn render(
    StationState(state): StationState,
    Editor(token): Editor,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = id("article", &raw)?;
    let request: RenderRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RenderRequest::default()
    } else {
        json_body(&headers, &body)?
    };
    let (job, cost) = state
        .blocking(move |s| {
            let voice = super::system::pick_voice(
                s,
                request.voice.as_deref(),
                request.region.as_deref(),
                request.gender.as_deref(),
            )?;
            if let Some(problem) = super::system::voice_problem(s, voice) {
                return Err(ApiError::Unprocessable(format!(
                    "voice {} cannot speak on this server ({problem}); choose another voice or ask the technician to install it",
                    voice.name
                )));
            }
            let prepared = s.prepared(id, request.revision, Some(&voice.name))?;
            let settings = s.config.audio;
            let key = cache_key(
                &prepared.script,
                &voice.name,
                &s.synthesizer_for(voice).fingerprint(),
                &settings,
            );
            let check = request.check.unwrap_or(s.config.listen.enabled);
            let mut cached = s.store.cached_audio(&key)?.map(|_| key);
            // Cached audio never checked is checked by the runner.
            let earlier_check = match &cached {
                Some(key) if check => s.store.check_of_audio(key)?,
                _ => None,
            };
            if check && earlier_check.is_none() {
                cached = None;
            }
            let cost = super::system::script_cost(s, &prepared.script, voice);
            if let Some(cost) = cost.as_ref().filter(|_| cached.is_none()) {
                super::system::check_daily_cap(s, voice, cost)?;
            }
            let job = s.store.add_job(
                id,
                prepared.revision.revision,
                &voice.name,
                &token.name,
                cached.as_deref(),
                check,
            )?;
            if let Some(cost) = &cost {
                s.store.set_job_cost(job.id, cost)?;
            }
            super::audit(
                s,
                &token,
                crate::store::AuditAction::RenderRequested,
                Some((id, Some(prepared.revision.revision))),
                format!("giọng {}", voice.name),
            )?;
            let job = match earlier_check {
                Some((state, flagged, summary, report)) => {
                    s.store
                        .set_job_check(job.id, &state, flagged, &summary, &report)?;
                    s.store.job(job.id)?
                }
                None => job,
            };
            let cost = s.store.job_cost(job.id)?;
            Ok((job, cost))
        })
        .await?;
    if job.state == JobState::Queued {
        state.jobs.notify();
    }
    let location = format!("/api/jobs/{}", job.id);
    let mut response = (StatusCode::ACCEPTED, axum::Json(Accepted { job, cost })).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// The listen check of a job: every cue's word error rate, what was heard,
/// the words missed, inserted and substituted, and which cues are flagged
/// (`status` is `checked` or `unavailable` with its `reason`).
#[utoipa::path(get, path = "/api/jobs/{id}/check", tag = "jobs",
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, description = "The check report (JSON)"),
        (status = 404, body = ErrorBody, description = "No such job, or it was not checked (yet)")),
    security(("bearer" = [])))]
pub async fn job_check(
    StationState(state): StationState,
    _reader: Reader,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let id = id("job", &raw)?;
    let report = state
        .blocking(move |s| Ok(s.store.job_check_report(id)?))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("job {id} has no listen check")))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], report).into_response())
}

/// An article's render jobs, newest first.
#[utoipa::path(get, path = "/api/articles/{id}/jobs", tag = "jobs",
    params(("id" = i64, Path, description = "Article id")),
    responses((status = 200, body = Vec<Job>), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_for_article(
    StationState(state): StationState,
    _: Reader,
    Path(raw): Path<String>,
) -> Result<axum::Json<Vec<Job>>, ApiError> {
    let id = id("article", &raw)?;
    let jobs = state
        .blocking(move |s| {
            s.store.article(id)?;
            Ok(s.store.jobs_of_article(id)?)
        })
        .await?;
    Ok(axum::Json(jobs))
}

/// A job: state, progress (cues done of total), the error of a failed
/// one, and a billed voice's cost (estimated, then really billed).
#[utoipa::path(get, path = "/api/jobs/{id}", tag = "jobs",
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, body = JobStatus), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    StationState(state): StationState,
    _: Reader,
    Path(raw): Path<String>,
) -> Result<axum::Json<JobStatus>, ApiError> {
    let id = id("job", &raw)?;
    Ok(axum::Json(
        state
            .blocking(move |s| {
                Ok(JobStatus {
                    job: s.store.job(id)?,
                    cost: s.store.job_cost(id)?,
                })
            })
            .await?,
    ))
}

/// Cancel a job: a queued one at once, a running one at its next cue.
#[utoipa::path(post, path = "/api/jobs/{id}/cancel", tag = "jobs",
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 202, body = Job), (status = 404, body = ErrorBody),
        (status = 409, description = "The job has finished", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn cancel(
    StationState(state): StationState,
    _: Editor,
    Path(raw): Path<String>,
) -> Result<(StatusCode, axum::Json<Job>), ApiError> {
    let id = id("job", &raw)?;
    let job = state.blocking(move |s| Ok(s.store.cancel_job(id)?)).await?;
    state.jobs.cancel(id);
    Ok((StatusCode::ACCEPTED, axum::Json(job)))
}

/// The form of a download (`?format=`; without it, `Accept` decides).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AudioQuery {
    /// `wav`, `mp3` or `opus`; without it the `Accept` header decides, and
    /// the WAV is sent when it names none of them.
    pub format: Option<String>,
}

/// The form a download asks for; 400 for a `?format=` there is none of.
pub(super) fn download_format(
    query: &AudioQuery,
    headers: &HeaderMap,
) -> Result<AudioFormat, ApiError> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    AudioFormat::negotiate(query.format.as_deref(), accept)
        .map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// The station's `[mp3]` and `[opus]` settings.
pub(super) fn encoders(state: &AppState) -> Encoders {
    Encoders {
        mp3: state.config.mp3,
        opus: state.config.opus,
    }
}

/// The WAV at `wav` in the compressed `format` (see [`encoded_copy`]),
/// encoded off the async threads; the ETag of the copy names the WAV and
/// the recipe.
async fn encoded(
    state: &AppState,
    wav: std::path::PathBuf,
    wav_sha256: String,
    format: AudioFormat,
    labels: Labels,
) -> Result<(std::path::PathBuf, String), ApiError> {
    let encoders = encoders(state);
    let folder = encoded_folder(&state.config.data_dir);
    let path = tokio::task::spawn_blocking(move || {
        encoded_copy(&wav, &wav_sha256, format, &encoders, &labels, &folder)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("task failed: {e}")))?
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((path, format!("\"{stem}.{}\"", format.name())))
}

/// The newest rendered audio of an article (WAV, MP3 or Opus; Range, HEAD, ETag).
/// `X-Bantin-Revision` names the revision it was rendered from and
/// `X-Bantin-Current-Revision` the article's newest: when they differ, the
/// article was edited after this audio was made.
#[utoipa::path(get, path = "/api/articles/{id}/audio", tag = "jobs",
    params(("id" = i64, Path, description = "Article id"), AudioQuery),
    responses(
        (status = 200, description = "The audio: audio/wav, audio/mpeg or audio/ogg as asked", content_type = "audio/wav"),
        (status = 400, description = "A format there is none of", body = ErrorBody),
        (status = 206, description = "Part of the WAV"),
        (status = 304, description = "Unchanged (If-None-Match)"),
        (status = 404, description = "No such article, or not rendered yet", body = ErrorBody),
        (status = 416, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn article_audio(
    StationState(state): StationState,
    _: Reader,
    Path(raw): Path<String>,
    Query(query): Query<AudioQuery>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let format = download_format(&query, &headers)?;
    let id = id("article", &raw)?;
    let (job, entry, current) = state
        .blocking(move |s| {
            let article = s.store.article(id)?;
            let job = s.store.latest_done_job(id)?.ok_or_else(|| {
                ApiError::NotFound(format!("article {id} has no rendered audio yet"))
            })?;
            let entry = audio_of(s, &job)?;
            Ok((job, entry, Some(article.latest_revision)))
        })
        .await?;
    send_audio(&state, &method, &headers, &job, &entry, current, format).await
}

/// The audio of one job (WAV, MP3 or Opus; Range, HEAD, ETag).
#[utoipa::path(get, path = "/api/jobs/{id}/audio", tag = "jobs",
    params(("id" = i64, Path, description = "Job id"), AudioQuery),
    responses(
        (status = 200, description = "The audio: audio/wav, audio/mpeg or audio/ogg as asked", content_type = "audio/wav"),
        (status = 400, description = "A format there is none of", body = ErrorBody),
        (status = 206, description = "Part of the WAV"),
        (status = 304, description = "Unchanged (If-None-Match)"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The job is not done", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn job_audio(
    StationState(state): StationState,
    _: Reader,
    Path(raw): Path<String>,
    Query(query): Query<AudioQuery>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let format = download_format(&query, &headers)?;
    let id = id("job", &raw)?;
    let (job, entry, current) = state
        .blocking(move |s| {
            let job = s.store.job(id)?;
            if job.state != JobState::Done {
                return Err(ApiError::Conflict(format!(
                    "job {id} is {}, not done",
                    job.state.as_str()
                )));
            }
            let entry = audio_of(s, &job)?;
            // A deleted article's jobs keep their audio, without a current revision.
            let current = s
                .store
                .article(job.article_id)
                .ok()
                .map(|a| a.latest_revision);
            Ok((job, entry, current))
        })
        .await?;
    send_audio(&state, &method, &headers, &job, &entry, current, format).await
}

/// The script of a done job with the times measured in its audio (JSON).
#[utoipa::path(get, path = "/api/jobs/{id}/script", tag = "jobs",
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, description = "The measured script (JSON script format)"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The job is not done", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn job_script(
    StationState(state): StationState,
    _: Reader,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let id = id("job", &raw)?;
    let entry = state
        .blocking(move |s| {
            let job = s.store.job(id)?;
            if job.state != JobState::Done {
                return Err(ApiError::Conflict(format!(
                    "job {id} is {}, not done",
                    job.state.as_str()
                )));
            }
            audio_of(s, &job)
        })
        .await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        entry.script_json,
    )
        .into_response())
}

fn audio_of(state: &AppState, job: &Job) -> Result<AudioEntry, ApiError> {
    let key = job
        .cache_key
        .as_deref()
        .ok_or_else(|| ApiError::Internal(format!("done job {} has no audio key", job.id)))?;
    state
        .store
        .cached_audio(key)?
        .ok_or_else(|| ApiError::Internal(format!("the audio of job {} is missing", job.id)))
}

/// A byte range of a file of `len` bytes: `Ok(None)` serves it whole.
fn parse_range(value: &str, len: u64) -> Result<Option<(u64, u64)>, ApiError> {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        // Several ranges: allowed to answer with the whole file.
        return Ok(None);
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (start, end) = match (first.trim(), last.trim()) {
        ("", "") => return Ok(None),
        ("", suffix) => {
            let Ok(n) = suffix.parse::<u64>() else {
                return Ok(None);
            };
            if n == 0 {
                return Err(ApiError::RangeNotSatisfiable(len));
            }
            (len.saturating_sub(n), len.saturating_sub(1))
        }
        (start, end) => {
            let Ok(start) = start.parse::<u64>() else {
                return Ok(None);
            };
            let end = match end {
                "" => len.saturating_sub(1),
                end => match end.parse::<u64>() {
                    Ok(end) if end >= start => end.min(len.saturating_sub(1)),
                    _ => return Ok(None),
                },
            };
            (start, end)
        }
    };
    if len == 0 || start >= len {
        return Err(ApiError::RangeNotSatisfiable(len));
    }
    Ok(Some((start, end)))
}

/// Sends a job's audio, naming the job, the revision it was rendered from
/// and the article's `current_revision` (none once the article is deleted).
async fn send_audio(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    job: &Job,
    entry: &AudioEntry,
    current_revision: Option<i64>,
    format: AudioFormat,
) -> Result<Response, ApiError> {
    let wav = state
        .store
        .audio_path(&entry.file_sha256)
        .ok_or_else(|| ApiError::Internal("stored audio hash is not a digest".into()))?;
    let (path, etag) = if format == AudioFormat::Wav {
        (wav, format!("\"{}\"", entry.file_sha256))
    } else {
        let article_id = job.article_id;
        let title = state
            .blocking(move |s| Ok(s.store.article(article_id).ok().map(|a| a.title)))
            .await?
            .unwrap_or_else(|| format!("Tin {article_id}"));
        let labels = Labels {
            title,
            artist: state.config.station.clone(),
            album: None,
            date: job
                .finished_at
                .as_ref()
                .and_then(|t| t.get(..10))
                .map(str::to_string),
        };
        encoded(state, wav, entry.file_sha256.clone(), format, labels).await?
    };
    let file_name = format!(
        "attachment; filename=\"{}\"",
        ascii_file_name(&format!(
            "article-{}-r{}-{}.{}",
            job.article_id,
            job.revision,
            job.voice,
            format.name()
        ))
    );
    let mut common = HeaderMap::new();
    let mut put = |name: header::HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            common.insert(name, v);
        }
    };
    put(header::ETAG, &etag);
    put(header::ACCEPT_RANGES, "bytes");
    put(header::CACHE_CONTROL, "no-cache");
    put(header::CONTENT_DISPOSITION, &file_name);
    put(
        header::HeaderName::from_static("x-bantin-job"),
        &job.id.to_string(),
    );
    put(
        header::HeaderName::from_static("x-bantin-revision"),
        &job.revision.to_string(),
    );
    if let Some(current) = current_revision {
        put(
            header::HeaderName::from_static("x-bantin-current-revision"),
            &current.to_string(),
        );
    }
    send_file(method, headers, &path, &etag, format, common).await
}

/// Sends an audio file in `format` with `etag`: 304 for If-None-Match, a
/// single byte range (206/416, If-Range), HEAD; `common` headers go on every
/// answer, and `Vary: Accept` since `Accept` may choose the form.
pub(super) async fn send_file(
    method: &Method,
    headers: &HeaderMap,
    path: &std::path::Path,
    etag: &str,
    format: AudioFormat,
    mut common: HeaderMap,
) -> Result<Response, ApiError> {
    common.insert(header::VARY, HeaderValue::from_static("accept"));
    let matches = |value: &HeaderValue| {
        value
            .to_str()
            .map(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
            .unwrap_or(false)
    };
    if headers.get(header::IF_NONE_MATCH).is_some_and(matches) {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    let io = |e: std::io::Error| ApiError::Internal(format!("{}: {e}", path.display()));
    let mut file = tokio::fs::File::open(path).await.map_err(io)?;
    let len = file.metadata().await.map_err(io)?.len();
    // If-Range with another validator: the file changed, send it whole.
    let range_applies = headers
        .get(header::IF_RANGE)
        .is_none_or(|v| v.to_str().is_ok_and(|v| v.trim() == etag));
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(value) if range_applies => parse_range(value, len)?,
        _ => None,
    };
    let (status, start, end) = match range {
        Some((start, end)) => (StatusCode::PARTIAL_CONTENT, start, end),
        None => (StatusCode::OK, 0, len.saturating_sub(1)),
    };
    let count = if len == 0 { 0 } else { end - start + 1 };
    common.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    common.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}"))
    {
        common.insert(header::CONTENT_RANGE, v);
    }
    if method == Method::HEAD {
        return Ok((status, common).into_response());
    }
    file.seek(SeekFrom::Start(start)).await.map_err(io)?;
    let mut bytes = vec![0; count as usize];
    file.read_exact(&mut bytes).await.map_err(io)?;
    Ok((status, common, Body::from(bytes)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_byte_ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000).unwrap(), Some((0, 99)));
        assert_eq!(parse_range("bytes=900-", 1000).unwrap(), Some((900, 999)));
        assert_eq!(parse_range("bytes=-100", 1000).unwrap(), Some((900, 999)));
        assert_eq!(
            parse_range("bytes=990-2000", 1000).unwrap(),
            Some((990, 999))
        );
        assert_eq!(parse_range("bytes=0-1,5-9", 1000).unwrap(), None);
        assert_eq!(parse_range("items=0-1", 1000).unwrap(), None);
        assert_eq!(parse_range("bytes=5-1", 1000).unwrap(), None);
        assert!(matches!(
            parse_range("bytes=1000-", 1000),
            Err(ApiError::RangeNotSatisfiable(1000))
        ));
    }
}
