//! Bearer-token access: extractors a handler names to require a role.
//! Roles are ordered read < editor < approver < admin, and each extractor
//! lets in its role and every higher one: `Reader` any valid token,
//! `Editor` editors and up, `Approver` approvers and admins, `Admin` only
//! the station admin. A lower role is 403 naming what is needed; no token,
//! a malformed header or an unknown token is 401.
//!
//! Every token belongs to one station (a platform token to none), and
//! [`StationState`] gives a handler the state of the request's station, so
//! a request never sees another station's rows. A platform token names the
//! station it works on with the `X-Bantin-Station: <slug>` header (the
//! default station without it). [`authenticate`] checks the token once per
//! request; the extractors read what it found.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use super::error::ApiError;
use crate::store::{ApiToken, DEFAULT_STATION, Scope};

/// The header a platform token names its station with.
pub const STATION_HEADER: &str = "x-bantin-station";

/// What [`authenticate`] found for a request with an Authorization header.
#[derive(Debug, Clone)]
struct Authenticated(Result<ApiToken, ApiError>);

/// Checks the request's token, when it has one, and keeps the outcome for
/// the extractors.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.headers().contains_key(header::AUTHORIZATION) {
        let found = token(request.headers(), &state).await;
        request.extensions_mut().insert(Authenticated(found));
    }
    next.run(request).await
}

/// The state of the station the request's token belongs to. Without a
/// valid token it is the default station's; the role extractor beside it
/// refuses the request anyway.
pub struct StationState(pub AppState);

impl FromRequestParts<AppState> for StationState {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = match parts.extensions.get::<Authenticated>() {
            Some(Authenticated(Ok(token))) => Some(token.clone()),
            _ => None,
        };
        let named = parts
            .headers
            .get(STATION_HEADER)
            .map(|v| {
                v.to_str()
                    .map(str::to_owned)
                    .map_err(|_| ApiError::BadRequest(format!("{STATION_HEADER} is not text")))
            })
            .transpose()?;
        let state = state.clone();
        let scoped = state
            .blocking(move |state| {
                let station = match token.as_ref().and_then(|t| t.station_id) {
                    Some(id) => id,
                    // A platform token works on the station it names.
                    None => match (&token, named) {
                        (Some(_), Some(slug)) => state.store.station_by_slug(&slug)?.id,
                        _ => DEFAULT_STATION,
                    },
                };
                state.for_station(station)
            })
            .await?;
        Ok(StationState(scoped))
    }
}

/// A request made with any valid token.
#[derive(Debug, Clone)]
pub struct Reader(pub ApiToken);

/// A request made with an editor token (or higher).
#[derive(Debug, Clone)]
pub struct Editor(pub ApiToken);

/// A request made with an approver token (or admin).
#[derive(Debug, Clone)]
pub struct Approver(pub ApiToken);

/// A request made with the station admin's token.
#[derive(Debug, Clone)]
pub struct Admin(pub ApiToken);

async fn token(headers: &HeaderMap, state: &AppState) -> Result<ApiToken, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::Unauthorized("send a token: Authorization: Bearer <token>".into())
        })?
        .to_str()
        .map_err(|_| ApiError::Unauthorized("the Authorization header is not text".into()))?;
    let secret = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into())
        })?
        .to_string();
    state
        .store
        .call(move |store| store.authenticate_any_station(&secret))
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the token is not valid".into()))
}

/// The role each extractor requires, and the 403 a lower token gets.
fn require(token: ApiToken, needed: Scope) -> Result<ApiToken, ApiError> {
    if token.scope >= needed {
        return Ok(token);
    }
    Err(ApiError::Forbidden(format!(
        "the token {:?} is {} ({}); this needs {} ({}) or higher",
        token.name,
        token.scope.as_str(),
        token.scope.label(),
        needed.as_str(),
        needed.label()
    )))
}

macro_rules! role_extractor {
    ($name:ident, $scope:expr) => {
        impl FromRequestParts<AppState> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &AppState,
            ) -> Result<Self, ApiError> {
                let _ = state;
                let token = match parts.extensions.get::<Authenticated>() {
                    Some(Authenticated(found)) => found.clone()?,
                    None => {
                        return Err(ApiError::Unauthorized(
                            "send a token: Authorization: Bearer <token>".into(),
                        ));
                    }
                };
                Ok($name(require(token, $scope)?))
            }
        }
    };
}

role_extractor!(Reader, Scope::Read);
role_extractor!(Editor, Scope::Editor);
role_extractor!(Approver, Scope::Approver);
role_extractor!(Admin, Scope::Admin);
