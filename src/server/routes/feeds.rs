//! The podcast feed of delivered bulletins (`[bulletin.feed]`):
//! `GET /feeds/{station}/bulletins.xml` and the MP3 each episode encloses,
//! `GET /feeds/{station}/audio/{date}/{slot}.mp3`, both read from the
//! feed's own folder (`DATA/feed/<name>`, which every delivery fills), not
//! from the drop folder a playout system may empty. Open to anyone when the
//! station sets `public = true`, otherwise to read tokens only. The XML is
//! made by [`crate::feed`].

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::bulletins::{BulletinAudio, send_bulletin_audio};
use crate::audio::format::AudioFormat;
use crate::bulletin::FileNames;
use crate::bulletin::config::FeedSettings;
use crate::bulletin::schedule::RunKey;
use crate::feed::{Channel, Episode};
use crate::server::error::{ApiError, ErrorBody};
use crate::server::{AppState, Reader};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/feeds/{station}/bulletins.xml", get(feed))
        .route("/feeds/{station}/audio/{date}/{file}", get(enclosure))
}

/// The station's feed settings when `station` names its feed; a reader's
/// token is needed unless the feed is public.
fn feed_settings(
    state: &AppState,
    station: &str,
    reader: Result<Reader, ApiError>,
) -> Result<FeedSettings, ApiError> {
    let bulletins = state.bulletins().map_err(|_| no_feed(station))?;
    let settings = bulletins
        .config
        .feed
        .as_ref()
        .filter(|f| f.name == station)
        .ok_or_else(|| no_feed(station))?;
    if !settings.public {
        reader?;
    }
    Ok(settings.clone())
}

fn no_feed(station: &str) -> ApiError {
    ApiError::NotFound(format!(
        "no feed named {:?} ([bulletin.feed] name)",
        crate::server::error::excerpt(station)
    ))
}

/// The files of the bulletin `key` in the feed's folder.
fn kept_files(state: &AppState, key: &RunKey) -> Result<FileNames, ApiError> {
    let bulletins = state.bulletins()?;
    let folder = bulletins
        .config
        .feed_folder
        .clone()
        .ok_or_else(|| ApiError::Internal("the feed has no folder".into()))?;
    Ok(FileNames {
        folder,
        ..bulletins.files(key)
    })
}

/// Where this server is reached: the station's `base_url`, else the scheme
/// the proxy names (`X-Forwarded-Proto`, else http) and the request's `Host`.
fn base_url(settings: &FeedSettings, headers: &HeaderMap) -> Result<String, ApiError> {
    if let Some(base) = &settings.base_url {
        return Ok(base.trim_end_matches('/').to_string());
    }
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let host = text("host")
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .ok_or_else(|| {
            ApiError::BadRequest(
                "the request names no usable Host, and [bulletin.feed] sets no base_url".into(),
            )
        })?;
    let scheme = match text("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    Ok(format!("{scheme}://{host}"))
}

/// The podcast feed: RSS 2.0 with the itunes and podcast namespaces, the
/// newest delivered bulletins with their MP3.
#[utoipa::path(get, path = "/feeds/{station}/bulletins.xml", tag = "bulletins",
    params(("station" = String, Path, description = "The feed's name ([bulletin.feed] name)")),
    responses(
        (status = 200, description = "The feed", content_type = "application/rss+xml"),
        (status = 401, description = "The feed is not public and no read token was sent", body = ErrorBody),
        (status = 404, description = "No feed of that name", body = ErrorBody),
    ),
    security((), ("bearer" = [])))]
pub async fn feed(
    State(state): State<AppState>,
    reader: Result<Reader, ApiError>,
    Path(station): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let settings = feed_settings(&state, &station, reader)?;
    let base = base_url(&settings, &headers)?;
    let xml = state
        .blocking(move |s| {
            let bulletins = s.bulletins()?;
            let config = &bulletins.config;
            let mut episodes: Vec<Episode> = Vec::new();
            for key in s.store.built_bulletins(settings.items)? {
                let url = format!(
                    "{base}/feeds/{}/audio/{}/{}.mp3",
                    settings.name, key.date, key.slot
                );
                let files = kept_files(s, &key)?;
                match crate::feed::episode(&files, &settings.name, url) {
                    Ok(Some(episode)) => episodes.push(episode),
                    Ok(None) => {}
                    Err(e) => tracing::warn!("the feed leaves out {}: {e}", files.stem),
                }
            }
            let channel = Channel {
                title: settings
                    .title
                    .clone()
                    .unwrap_or_else(|| format!("Bản tin {}", config.station)),
                description: settings
                    .description
                    .clone()
                    .unwrap_or_else(|| format!("Các bản tin thời sự của {}.", config.station)),
                self_url: format!("{base}/feeds/{}/bulletins.xml", settings.name),
                link: settings
                    .link
                    .clone()
                    .unwrap_or_else(|| format!("{base}/feeds/{}/bulletins.xml", settings.name)),
                author: config.station.clone(),
                category: settings.category.clone(),
                image: settings.image.clone(),
                email: settings.email.clone(),
            };
            Ok(crate::feed::render(&channel, &episodes, &config.time_zone))
        })
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/rss+xml; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        xml,
    )
        .into_response())
}

/// The MP3 an episode encloses (Range, HEAD, ETag).
#[utoipa::path(get, path = "/feeds/{station}/audio/{date}/{file}", tag = "bulletins",
    params(("station" = String, Path, description = "The feed's name"),
        ("date" = String, Path, description = "YYYY-MM-DD"),
        ("file" = String, Path, description = "`<slot>.mp3`")),
    responses(
        (status = 200, description = "The MP3", content_type = "audio/mpeg"),
        (status = 206, description = "Part of the MP3"),
        (status = 401, description = "The feed is not public and no read token was sent", body = ErrorBody),
        (status = 404, description = "No such feed or bulletin", body = ErrorBody),
    ),
    security((), ("bearer" = [])))]
pub async fn enclosure(
    State(state): State<AppState>,
    reader: Result<Reader, ApiError>,
    Path((station, date, file)): Path<(String, String, String)>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    feed_settings(&state, &station, reader)?;
    let message = format!(
        "no bulletin {:?} of {:?} in the feed",
        crate::server::error::excerpt(&file),
        crate::server::error::excerpt(&date)
    );
    let not_found = move || ApiError::NotFound(message.clone());
    let slot = file
        .strip_suffix(".mp3")
        .ok_or_else(&not_found)?
        .to_string();
    let date = date.parse().map_err(|_| not_found())?;
    state
        .bulletins()?
        .config
        .slot(&slot)
        .map_err(|_| not_found())?;
    let key = RunKey { date, slot };
    let audio = state
        .blocking(move |s| {
            let files = kept_files(s, &key)?;
            let name = files.of(crate::bulletin::deliver::sidecar("mp3").expect("a known output"));
            let path = files.folder.join(&name);
            let bytes = std::fs::read(&path).map_err(|_| not_found())?;
            Ok(BulletinAudio {
                path,
                etag: format!("\"{}\"", crate::store::sha256_hex(&bytes)),
                name,
            })
        })
        .await?;
    send_bulletin_audio(audio, AudioFormat::Mp3, &method, &headers).await
}
