//! Bulletins: editors approve articles for a (date, slot) in order, see the
//! bulletin with its estimated length and every run, build it now, and
//! download what was delivered into the drop folder (the audio with Range
//! and ETag — the WAV, or MP3 / Ogg Opus by `?format=` or `Accept`: the
//! delivered file when the station delivers that form, else a copy encoded
//! from the WAV —, script, manifest).

use crate::server::StationState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::jobs::{AudioQuery, download_format, encoders};
use super::{Query, json_body};
use crate::audio::format::{AudioFormat, Labels, encoded_copy, encoded_folder};
use crate::bulletin::FileNames;
use crate::bulletin::schedule::{Outcome, RunKey, RunRecord, Trigger};
use crate::server::error::{ApiError, ErrorBody};
use crate::server::{AppState, Editor, Reader};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/bulletins/{date}/{slot}", get(show).put(approve))
        .route("/api/bulletins/{date}/{slot}/build", post(build))
        .route("/api/bulletins/{date}/{slot}/audio", get(audio))
        .route("/api/bulletins/{date}/{slot}/script", get(script))
        .route("/api/bulletins/{date}/{slot}/manifest", get(manifest))
}

/// The articles of a bulletin, in order (the first is the top story).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    pub items: Vec<i64>,
}

/// A bulletin: its items, length, runs and whether its audio was delivered.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulletinView {
    pub date: String,
    pub slot: String,
    pub slot_label: String,
    pub items: Vec<ItemView>,
    /// Measured when built from exactly these items, else estimated.
    pub total_ms: u64,
    pub target_ms: u64,
    pub tolerance_ms: u64,
    /// Newest first.
    pub runs: Vec<RunView>,
    /// A built WAV is in the drop folder.
    pub audio: bool,
    /// The WAV's file name in the drop folder.
    pub file: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemView {
    pub article_id: i64,
    pub title: String,
    pub revision: i64,
    pub estimated_duration_ms: u64,
    pub approved_by: String,
    pub approved_at: String,
    /// The article was deleted after approval: the bulletin cannot be built.
    pub deleted: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunView {
    /// `built`, `reused` or `failed`.
    pub status: &'static str,
    /// `schedule`, `catch_up` or `manual`.
    pub trigger: &'static str,
    pub attempt: u32,
    pub started_at: String,
    pub finished_at: String,
    /// The reason of a failure.
    pub error: Option<String>,
    /// Where a built run delivered.
    pub summary: Option<String>,
    /// The measured length of the delivered bulletin this run built or reused.
    pub total_ms: Option<u64>,
    pub fingerprint: String,
}

fn key_of(state: &AppState, date: &str, slot: &str) -> Result<RunKey, ApiError> {
    let date: Date = date
        .parse()
        .map_err(|_| ApiError::Unprocessable(format!("{date:?} is not a date (YYYY-MM-DD)")))?;
    let bulletins = state.bulletins()?;
    bulletins
        .config
        .slot(slot)
        .map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    Ok(RunKey {
        date,
        slot: slot.to_string(),
    })
}

fn run_view(record: &RunRecord, delivered: Option<&Delivered>) -> RunView {
    let (status, error, summary) = match &record.outcome {
        Outcome::Built { summary } => ("built", None, Some(summary.clone())),
        Outcome::Reused => ("reused", None, None),
        Outcome::Failed { reason } => ("failed", Some(reason.clone()), None),
    };
    let total_ms = delivered
        .filter(|d| record.succeeded() && d.fingerprint == record.fingerprint)
        .map(|d| d.total_ms);
    RunView {
        status,
        trigger: match record.trigger {
            Trigger::Schedule => "schedule",
            Trigger::CatchUp => "catch_up",
            Trigger::Manual => "manual",
        },
        attempt: record.attempt,
        started_at: record.started_at.to_string(),
        finished_at: record.finished_at.to_string(),
        error,
        summary,
        total_ms,
        fingerprint: record.fingerprint.clone(),
    }
}

/// What the manifest in the drop folder says about the delivered bulletin.
struct Delivered {
    fingerprint: String,
    total_ms: u64,
}

fn delivered(files: &FileNames) -> Option<Delivered> {
    if !files.folder.join(&files.wav).is_file() {
        return None;
    }
    let text = std::fs::read(files.folder.join(&files.manifest)).ok()?;
    let json: serde_json::Value = serde_json::from_slice(&text).ok()?;
    Some(Delivered {
        fingerprint: json.get("items_fingerprint")?.as_str()?.to_string(),
        total_ms: json.get("total_ms")?.as_u64()?,
    })
}

fn view(state: &AppState, key: &RunKey) -> Result<BulletinView, ApiError> {
    let bulletins = state.bulletins()?;
    let slot = bulletins
        .config
        .slot(&key.slot)
        .map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    let approved = state.store.approved_items(key.date, &key.slot)?;
    let voice = state.voices.get(&slot.voice).ok();
    let mut items = Vec::with_capacity(approved.len());
    for item in &approved {
        // An estimate only: an article that cannot be read shows 0 here and
        // fails the build with its reason.
        let estimated_duration_ms = voice
            .and_then(|voice| {
                state
                    .prepared(
                        item.article_id,
                        Some(item.latest_revision),
                        Some(&voice.name),
                    )
                    .ok()
            })
            .map_or(0, |p| p.script.total.as_millis() as u64);
        items.push(ItemView {
            article_id: item.article_id,
            title: item.title.clone(),
            revision: item.latest_revision,
            estimated_duration_ms,
            approved_by: item.approved_by.clone(),
            approved_at: item.approved_at.clone(),
            deleted: item.deleted_at.is_some(),
        });
    }
    let files = bulletins.files(key);
    let delivered = delivered(&files);
    let runs = state.store.bulletin_runs(key)?;
    let current = crate::bulletin::schedule::items_fingerprint(
        &approved
            .iter()
            .map(|i| (i.article_id.to_string(), i.latest_revision.to_string()))
            .collect::<Vec<_>>()
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect::<Vec<_>>(),
    );
    let estimated: u64 = items.iter().map(|i| i.estimated_duration_ms).sum();
    let total_ms = delivered
        .as_ref()
        .filter(|d| d.fingerprint == current)
        .map_or(estimated, |d| d.total_ms);
    Ok(BulletinView {
        date: key.date.to_string(),
        slot: key.slot.clone(),
        slot_label: slot.label.clone(),
        items,
        total_ms,
        target_ms: slot.target.as_millis() as u64,
        tolerance_ms: slot.tolerance.as_millis() as u64,
        runs: runs
            .iter()
            .map(|r| run_view(r, delivered.as_ref()))
            .collect(),
        audio: delivered.is_some(),
        file: files.wav,
    })
}

/// Approve articles for a bulletin: replaces its list, in this order.
#[utoipa::path(put, path = "/api/bulletins/{date}/{slot}", tag = "bulletins",
    params(("date" = String, Path, description = "YYYY-MM-DD"), ("slot" = String, Path, description = "Slot name")),
    request_body = Approval,
    responses((status = 200, body = BulletinView),
        (status = 404, description = "An unknown article", body = ErrorBody),
        (status = 409, description = "Bulletins are not configured, or an article is not approved for air", body = ErrorBody),
        (status = 422, description = "A bad date or an unknown slot", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn approve(
    StationState(state): StationState,
    Editor(token): Editor,
    Path((date, slot)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<BulletinView>, ApiError> {
    let key = key_of(&state, &date, &slot)?;
    let approval: Approval = json_body(&headers, &body)?;
    let view = state
        .blocking(move |s| {
            // Only articles approved for air enter a bulletin, unless the
            // station delivers unapproved items anyway.
            if !s.bulletins()?.config.deliver_unapproved {
                s.store.require_approved(&approval.items)?;
            }
            s.store
                .approve_bulletin(key.date, &key.slot, &approval.items, &token.name)?;
            let view = view(s, &key)?;
            let titles: Vec<String> = view
                .items
                .iter()
                .map(|i| format!("«{}»", i.title))
                .collect();
            let detail = format!(
                "{}: {}",
                super::audit::bulletin_title(&s.bulletins()?.config, &key),
                if titles.is_empty() {
                    "không bài nào".to_string()
                } else {
                    titles.join(", ")
                }
            );
            super::audit(
                s,
                &token,
                crate::store::AuditAction::BulletinArranged,
                None,
                detail,
            )?;
            Ok(view)
        })
        .await?;
    Ok(axum::Json(view))
}

/// A bulletin: approved items with estimated lengths, total and target,
/// every run (newest first), whether its audio was delivered.
#[utoipa::path(get, path = "/api/bulletins/{date}/{slot}", tag = "bulletins",
    params(("date" = String, Path, description = "YYYY-MM-DD"), ("slot" = String, Path, description = "Slot name")),
    responses((status = 200, body = BulletinView),
        (status = 409, description = "Bulletins are not configured", body = ErrorBody),
        (status = 422, description = "A bad date or an unknown slot", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    StationState(state): StationState,
    _: Reader,
    Path((date, slot)): Path<(String, String)>,
) -> Result<axum::Json<BulletinView>, ApiError> {
    let key = key_of(&state, &date, &slot)?;
    let view = state.blocking(move |s| view(s, &key)).await?;
    Ok(axum::Json(view))
}

/// Build the bulletin now (reuses the delivered one when no item changed);
/// answers when done with the run.
#[utoipa::path(post, path = "/api/bulletins/{date}/{slot}/build", tag = "bulletins",
    params(("date" = String, Path, description = "YYYY-MM-DD"), ("slot" = String, Path, description = "Slot name")),
    responses((status = 200, description = "Built or reused", body = RunView),
        (status = 409, description = "Bulletins are not configured", body = ErrorBody),
        (status = 422, description = "The build failed (the reason), a bad date or an unknown slot", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn build(
    StationState(state): StationState,
    Editor(token): Editor,
    Path((date, slot)): Path<(String, String)>,
) -> Result<axum::Json<RunView>, ApiError> {
    let key = key_of(&state, &date, &slot)?;
    let detail = super::audit::bulletin_title(&state.bulletins()?.config, &key);
    state
        .blocking(move |s| {
            super::audit(
                s,
                &token,
                crate::store::AuditAction::BulletinBuildRequested,
                None,
                detail,
            )
        })
        .await?;
    let bulletins = std::sync::Arc::clone(state.bulletins()?);
    let record = bulletins
        .scheduler
        .trigger(key.clone(), Trigger::Manual)
        .await;
    if let Outcome::Failed { reason } = &record.outcome {
        return Err(ApiError::Unprocessable(reason.clone()));
    }
    let files = bulletins.files(&key);
    let delivered = tokio::task::spawn_blocking(move || delivered(&files))
        .await
        .map_err(|e| ApiError::Internal(format!("task failed: {e}")))?;
    Ok(axum::Json(run_view(&record, delivered.as_ref())))
}

fn delivered_file(
    state: &AppState,
    date: &str,
    slot: &str,
    pick: impl Fn(&FileNames) -> &String,
) -> Result<std::path::PathBuf, ApiError> {
    let key = key_of(state, date, slot)?;
    let files = state.bulletins()?.files(&key);
    let path = files.folder.join(pick(&files));
    if !path.is_file() {
        return Err(ApiError::NotFound(format!(
            "the {} bulletin of {} has not been built (no {} in the drop folder)",
            key.slot,
            key.date,
            pick(&files)
        )));
    }
    Ok(path)
}

/// A delivered bulletin's audio in `format`, ready to send.
pub(super) struct BulletinAudio {
    pub path: std::path::PathBuf,
    pub etag: String,
    /// The ASCII file name a download is saved as.
    pub name: String,
}

/// The audio of the delivered bulletin `key` in `format`: the delivered
/// file of that form, else (MP3 or Opus the station does not deliver) a copy
/// encoded from the WAV with the station's settings and the bulletin's
/// title. 404 until the bulletin is built.
pub(super) fn bulletin_audio(
    state: &AppState,
    key: &RunKey,
    format: AudioFormat,
) -> Result<BulletinAudio, ApiError> {
    let bulletins = state.bulletins()?;
    let files = bulletins.files(key);
    let not_built = |name: &str| {
        ApiError::NotFound(format!(
            "the {} bulletin of {} has not been built (no {name} in the drop folder)",
            key.slot, key.date
        ))
    };
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| ApiError::Internal(format!("{}: {e}", path.display())))
    };
    let wav = files.folder.join(&files.wav);
    if !wav.is_file() {
        return Err(not_built(&files.wav));
    }
    let name = format!("{}.{}", files.stem, format.name());
    let delivered = if format == AudioFormat::Wav {
        Some(wav.clone())
    } else {
        files
            .sidecars
            .iter()
            .find(|k| **k == format.name())
            .and_then(|k| crate::bulletin::deliver::sidecar(k))
            .map(|output| files.folder.join(files.of(output)))
    };
    if let Some(delivered) = delivered {
        if !delivered.is_file() {
            return Err(not_built(&name));
        }
        let etag = format!("\"{}\"", crate::store::sha256_hex(&read(&delivered)?));
        return Ok(BulletinAudio {
            path: delivered,
            etag,
            name,
        });
    }
    let wav_sha256 = crate::store::sha256_hex(&read(&wav)?);
    let config = &bulletins.config;
    let slot = config
        .slot(&key.slot)
        .map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    let labels = Labels {
        title: crate::bulletin::build::title(&config.station, &slot.label, key.date),
        artist: config.station.clone(),
        album: Some(format!("Bản tin {}", slot.label)),
        date: Some(key.date.to_string()),
    };
    let path = encoded_copy(
        &wav,
        &wav_sha256,
        format,
        &encoders(state),
        &labels,
        &encoded_folder(&state.config.data_dir),
    )
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(BulletinAudio {
        path,
        etag: format!("\"{stem}.{}\"", format.name()),
        name,
    })
}

/// Sends `audio` (Range, HEAD, ETag) as an attachment.
pub(super) async fn send_bulletin_audio(
    audio: BulletinAudio,
    format: AudioFormat,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let mut common = HeaderMap::new();
    for (name, value) in [
        (header::ETAG, audio.etag.clone()),
        (header::ACCEPT_RANGES, "bytes".into()),
        (header::CACHE_CONTROL, "no-cache".into()),
        (
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}\"",
                crate::audio::format::ascii_file_name(&audio.name)
            ),
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            common.insert(name, v);
        }
    }
    super::jobs::send_file(method, headers, &audio.path, &audio.etag, format, common).await
}

/// The delivered bulletin's audio: the Broadcast WAV, or MP3 / Ogg Opus
/// (`?format=` or `Accept`; Range, HEAD, ETag).
#[utoipa::path(get, path = "/api/bulletins/{date}/{slot}/audio", tag = "bulletins",
    params(("date" = String, Path, description = "YYYY-MM-DD"), ("slot" = String, Path, description = "Slot name"), AudioQuery),
    responses(
        (status = 200, description = "The audio: audio/wav, audio/mpeg or audio/ogg as asked", content_type = "audio/wav"),
        (status = 206, description = "Part of the file"),
        (status = 304, description = "Unchanged (If-None-Match)"),
        (status = 400, description = "A format there is none of", body = ErrorBody),
        (status = 404, description = "Not built yet", body = ErrorBody),
        (status = 416, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn audio(
    StationState(state): StationState,
    _: Reader,
    Path((date, slot)): Path<(String, String)>,
    Query(query): Query<AudioQuery>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let format = download_format(&query, &headers)?;
    let key = key_of(&state, &date, &slot)?;
    let audio = state
        .blocking(move |s| bulletin_audio(s, &key, format))
        .await?;
    send_bulletin_audio(audio, format, &method, &headers).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ScriptQuery {
    /// `json` (default) or `txt`.
    pub format: Option<String>,
}

/// The delivered script (json or txt).
#[utoipa::path(get, path = "/api/bulletins/{date}/{slot}/script", tag = "bulletins",
    params(("date" = String, Path, description = "YYYY-MM-DD"), ("slot" = String, Path, description = "Slot name"), ScriptQuery),
    responses((status = 200, description = "The script"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn script(
    StationState(state): StationState,
    _: Reader,
    Path((date, slot)): Path<(String, String)>,
    Query(query): Query<ScriptQuery>,
) -> Result<Response, ApiError> {
    let txt = match query.format.as_deref() {
        None | Some("json") => false,
        Some("txt") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "format {other:?}: ask for json or txt"
            )));
        }
    };
    let bytes = state
        .blocking(move |s| {
            let path = delivered_file(s, &date, &slot, |f| {
                if txt { &f.script_txt } else { &f.script_json }
            })?;
            std::fs::read(&path).map_err(|e| ApiError::Internal(format!("{}: {e}", path.display())))
        })
        .await?;
    let kind = if txt {
        "text/plain; charset=utf-8"
    } else {
        "application/json"
    };
    Ok(([(header::CONTENT_TYPE, kind)], bytes).into_response())
}

/// The delivered manifest (items, revisions, durations, loudness, how made).
#[utoipa::path(get, path = "/api/bulletins/{date}/{slot}/manifest", tag = "bulletins",
    params(("date" = String, Path, description = "YYYY-MM-DD"), ("slot" = String, Path, description = "Slot name")),
    responses((status = 200, description = "The manifest JSON"), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn manifest(
    StationState(state): StationState,
    _: Reader,
    Path((date, slot)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let bytes = state
        .blocking(move |s| {
            let path = delivered_file(s, &date, &slot, |f| &f.manifest)?;
            std::fs::read(&path).map_err(|e| ApiError::Internal(format!("{}: {e}", path.display())))
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes).into_response())
}
