//! Voices, the station (name, day, bulletin slots as the page shows them),
//! health, metrics and the OpenAPI document. Health, metrics and the
//! document need no token (monitoring and tooling read them).

use crate::server::StationState;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::billing::Cost;
use crate::script::Script;
use crate::server::error::{ApiError, ErrorBody};
use crate::server::{ApiDoc, AppState, Reader};
use crate::voice::{Voice, gender_code, parse_gender, parse_region, region_code};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/voices", get(voices))
        .route("/api/station", get(station))
        .route("/api/openapi.json", get(openapi))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VoiceInfo {
    pub name: String,
    pub description: String,
    pub backend: String,
    /// `bac`, `trung` or `nam` (Northern, Central, Southern accent).
    pub region: Option<&'static str>,
    /// `nu` (female) or `nam` (male).
    pub gender: Option<&'static str>,
    /// Whether a vendor bills this voice per character.
    pub billable: bool,
    /// The station's daily character cap of a billed voice.
    pub daily_chars: Option<u64>,
    /// Characters billed today (the station's day) for a billed voice.
    pub used_today_chars: Option<u64>,
    pub syllables_per_minute: f64,
    /// Whether the backend can run on this machine, or why not.
    pub available: bool,
    pub problem: Option<String>,
    pub default: bool,
}

/// A bulletin slot as the page offers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotInfo {
    /// ASCII name used in the API (`sang`).
    pub name: String,
    /// As the station writes it (`sáng`).
    pub label: String,
    /// The slot's title on the page (`Bản tin sáng`).
    pub title: String,
}

/// What the page needs to speak the station's language.
#[derive(Debug, Serialize, ToSchema)]
pub struct StationInfo {
    /// The station's name ('' when not configured).
    pub station: String,
    /// Today in the station's time zone (`YYYY-MM-DD`).
    pub today: String,
    /// The bulletin slots in the configuration's order (none without bulletins).
    pub slots: Vec<SlotInfo>,
    /// Whether bulletins take items not approved for air (`[bulletin] deliver_unapproved`).
    pub deliver_unapproved: bool,
}

/// The station's name, today and its bulletin slots.
#[utoipa::path(get, path = "/api/station", tag = "system",
    responses((status = 200, body = StationInfo), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn station(StationState(state): StationState, _: Reader) -> axum::Json<StationInfo> {
    let (station, slots, deliver_unapproved) = match state.bulletins() {
        Ok(bulletins) => (
            bulletins.config.station.clone(),
            bulletins
                .config
                .slots
                .iter()
                .map(|slot| SlotInfo {
                    name: slot.name.clone(),
                    label: slot.label.clone(),
                    title: format!("Bản tin {}", slot.label),
                })
                .collect(),
            bulletins.config.deliver_unapproved,
        ),
        Err(_) => (state.config.station.clone(), Vec::new(), false),
    };
    axum::Json(StationInfo {
        station,
        today: station_day(&state),
        slots,
        deliver_unapproved,
    })
}

/// The voices with region, gender and bill, and whether each backend is available.
#[utoipa::path(get, path = "/api/voices", tag = "system",
    responses((status = 200, body = Vec<VoiceInfo>), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn voices(
    StationState(state): StationState,
    _: Reader,
) -> Result<axum::Json<Vec<VoiceInfo>>, ApiError> {
    let list = state
        .blocking(|s| {
            let day = station_day(s);
            s.voices
                .all()
                .iter()
                .map(|voice| {
                    let problem = s
                        .synthesizer_for(voice)
                        .check()
                        .err()
                        .map(|e| e.to_string());
                    let billable = voice.billable_chars("").is_some();
                    let used_today_chars = if billable {
                        Some(s.store.voice_usage(&voice.name, &day)?)
                    } else {
                        None
                    };
                    Ok(VoiceInfo {
                        name: voice.name.clone(),
                        description: voice.description.clone(),
                        backend: voice.backend_name().to_string(),
                        region: voice.region.map(region_code),
                        gender: voice.gender.map(gender_code),
                        billable,
                        daily_chars: s.config.daily_chars(&voice.name).filter(|_| billable),
                        used_today_chars,
                        syllables_per_minute: voice.syllables_per_minute,
                        available: problem.is_none(),
                        problem,
                        default: voice.name == s.config.default_voice,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()
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

/// The station's time zone (the bulletin's), where a day of billed
/// characters starts and ends.
pub(crate) fn station_zone(state: &AppState) -> jiff::tz::TimeZone {
    // The configuration was validated at start, so this does not fail.
    state
        .config
        .bulletin()
        .map(|b| b.time_zone)
        .unwrap_or(jiff::tz::TimeZone::UTC)
}

/// Today in the station's time zone (`YYYY-MM-DD`).
pub(crate) fn station_day(state: &AppState) -> String {
    crate::billing::day(jiff::Timestamp::now(), &station_zone(state))
}

/// What speaking `script` with `voice` costs now, looking each breath
/// group up in the speech cache; `None` for a voice not billed.
pub(crate) fn script_cost(state: &AppState, script: &Script, voice: &Voice) -> Option<Cost> {
    let fingerprint = state.synthesizer_for(voice).fingerprint();
    crate::billing::estimate(script, voice, &fingerprint, state.cache.as_ref())
}

/// Refuses a render that would pass `voice`'s daily cap (429 with the
/// seconds until the station's next day).
///
/// # Errors
/// [`ApiError::OverCap`]; store errors.
pub(crate) fn check_daily_cap(
    state: &AppState,
    voice: &Voice,
    cost: &Cost,
) -> Result<(), ApiError> {
    let Some(cap) = state.config.daily_chars(&voice.name) else {
        return Ok(());
    };
    let now = jiff::Timestamp::now();
    let zone = station_zone(state);
    let day = crate::billing::day(now, &zone);
    let used = state.store.voice_usage(&voice.name, &day)?;
    crate::billing::check_cap(&voice.name, &day, Some(cap), used, cost.to_bill_chars).map_err(
        |refused| ApiError::OverCap {
            detail: refused.to_string(),
            retry_after: crate::billing::until_next_day(now, &zone).as_secs().max(1) as u32,
        },
    )
}

/// Characters a render counted against its voice's day before speaking.
#[derive(Debug)]
pub(crate) struct Reservation {
    voice: String,
    day: String,
    reserved_chars: u64,
}

/// Counts what speaking `script` will send to `voice`'s vendor (the breath
/// groups not in the speech cache) against today's cap, in one
/// transaction, before any vendor call; `None` for a voice not billed.
///
/// # Errors
/// [`ApiError::OverCap`] when the render would pass the cap; store errors.
pub(crate) fn reserve(
    state: &AppState,
    voice: &Voice,
    script: &Script,
) -> Result<Option<Reservation>, ApiError> {
    let Some(cost) = script_cost(state, script, voice) else {
        return Ok(None);
    };
    let now = jiff::Timestamp::now();
    let zone = station_zone(state);
    let day = crate::billing::day(now, &zone);
    let cap = state.config.daily_chars(&voice.name);
    match state
        .store
        .charge_voice(&voice.name, &day, cost.to_bill_chars, cap)?
    {
        Ok(_) => Ok(Some(Reservation {
            voice: voice.name.clone(),
            day,
            reserved_chars: cost.to_bill_chars,
        })),
        Err(refused) => Err(ApiError::OverCap {
            detail: refused.to_string(),
            retry_after: crate::billing::until_next_day(now, &zone).as_secs().max(1) as u32,
        }),
    }
}

/// After a render spoke `billed_chars` (what the vendor really received):
/// the day's count is corrected to it and the job records it.
pub(crate) fn settle(state: &AppState, job: i64, reservation: &Reservation, billed_chars: u64) {
    let delta = billed_chars as i64 - reservation.reserved_chars as i64;
    let result = state
        .store
        .adjust_voice_usage(&reservation.voice, &reservation.day, delta)
        .and_then(|()| state.store.set_job_billed(job, billed_chars));
    if let Err(e) = result {
        tracing::error!(job, error = %e, "cannot record the characters a render was billed");
    }
}

/// The voice a request names, or the one it describes by `region` and
/// `gender` (the station default when it fits, else the first that can
/// speak here, by name), or the station default.
///
/// # Errors
/// 422 for an unknown voice, an unknown region or gender code, a named
/// voice that does not fit them, or no voice that fits.
pub(crate) fn pick_voice<'a>(
    state: &'a AppState,
    name: Option<&str>,
    region: Option<&str>,
    gender: Option<&str>,
) -> Result<&'a Voice, ApiError> {
    let region = region.map(parse_region).transpose();
    let gender = gender.map(parse_gender).transpose();
    let (region, gender) = match (region, gender) {
        (Ok(r), Ok(g)) => (r, g),
        (Err(e), _) | (_, Err(e)) => return Err(ApiError::Unprocessable(e)),
    };
    let fits = |v: &Voice| {
        region.is_none_or(|r| v.region == Some(r)) && gender.is_none_or(|g| v.gender == Some(g))
    };
    let wanted = || {
        let mut words = Vec::new();
        words.extend(region.map(|r| format!("region {}", region_code(r))));
        words.extend(gender.map(|g| format!("gender {}", gender_code(g))));
        words.join(" and ")
    };
    if name.is_some() || (region.is_none() && gender.is_none()) {
        let voice = state.voice(name)?;
        if !fits(voice) {
            return Err(ApiError::Unprocessable(format!(
                "voice {} is not of {}",
                voice.name,
                wanted()
            )));
        }
        return Ok(voice);
    }
    let default = state.voice(None)?;
    if fits(default) {
        return Ok(default);
    }
    let mut candidates: Vec<&Voice> = state.voices.all().iter().filter(|v| fits(v)).collect();
    candidates.sort_by(|a, b| a.name.cmp(&b.name));
    candidates
        .iter()
        .find(|v| voice_problem(state, v).is_none())
        .or(candidates.first())
        .copied()
        .ok_or_else(|| {
            ApiError::Unprocessable(format!(
                "no voice of {} (GET /api/voices lists each voice's region and gender)",
                wanted()
            ))
        })
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
