//! The platform's stations: a platform token lists them and creates a
//! station together with its first admin token, shown once.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::json_body;
use super::people::Person;
use crate::server::error::{ApiError, ErrorBody};
use crate::server::{AppState, PlatformAdmin};
use crate::store::{Scope, Station};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/stations", get(list).post(create))
}

/// A new station.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewStation {
    /// Short name in URLs and commands (lowercase letters, digits, '-').
    pub slug: String,
    /// The station's name as listeners know it.
    pub name: String,
    /// The person who holds the station's first admin token.
    #[serde(default)]
    pub person: Option<String>,
}

/// A station made, with its first admin token (the secret shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedStation {
    pub station: Station,
    pub token: Person,
    pub secret: String,
}

/// The name of a new station's first admin token.
pub const FIRST_TOKEN: &str = "quan-tri";

/// List the platform's stations (platform token only).
#[utoipa::path(get, path = "/api/stations", tag = "platform",
    responses((status = 200, body = [Station]), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    _: PlatformAdmin,
) -> Result<axum::Json<Vec<Station>>, ApiError> {
    Ok(axum::Json(
        state.blocking(|s| Ok(s.store.stations()?)).await?,
    ))
}

/// Create a station and its first admin token (platform token only).
#[utoipa::path(post, path = "/api/stations", tag = "platform", request_body = NewStation,
    responses((status = 201, body = CreatedStation), (status = 403, body = ErrorBody),
        (status = 409, description = "The slug is taken", body = ErrorBody),
        (status = 422, description = "A bad slug or name", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    _: PlatformAdmin,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, axum::Json<CreatedStation>), ApiError> {
    let new: NewStation = json_body(&headers, &body)?;
    let created = state
        .blocking(move |s| {
            let (station, token, secret) =
                create_station(&s.store, &new.slug, &new.name, new.person.as_deref())?;
            Ok(CreatedStation {
                station,
                token: Person::from(&token),
                secret,
            })
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

/// Makes a station and its first admin token (for `person`, or unnamed);
/// shared by the API and `bantin station create`.
///
/// # Errors
/// Store errors: a bad or taken slug, a bad name or person.
pub fn create_station(
    store: &crate::store::Store,
    slug: &str,
    name: &str,
    person: Option<&str>,
) -> Result<(Station, crate::store::ApiToken, String), crate::store::StoreError> {
    let station = store.create_station(slug, name)?;
    let scoped = store.for_station(station.id);
    let (token, secret) = match person {
        Some(person) => scoped.add_token_for(FIRST_TOKEN, Scope::Admin, person)?,
        None => scoped.add_token(FIRST_TOKEN, Scope::Admin)?,
    };
    Ok((station, token, secret))
}
