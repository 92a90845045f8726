//! Bearer-token access: extractors a handler names to require a role.
//! Roles are ordered read < editor < approver < admin, and each extractor
//! lets in its role and every higher one: `Reader` any valid token,
//! `Editor` editors and up, `Approver` approvers and admins, `Admin` only
//! the station admin. A lower role is 403 naming what is needed; no token,
//! a malformed header or an unknown token is 401.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use crate::store::{ApiToken, Scope};

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

async fn token(parts: &Parts, state: &AppState) -> Result<ApiToken, ApiError> {
    let value = parts
        .headers
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
    let station = state.store.station();
    state
        .store
        .call(move |store| store.authenticate_any_station(&secret))
        .await?
        // Until requests are scoped by their token's station, a token of
        // another station (or of the platform) is not valid here.
        .filter(|token| token.station_id == Some(station))
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
                Ok($name(require(token(parts, state).await?, $scope)?))
            }
        }
    };
}

role_extractor!(Reader, Scope::Read);
role_extractor!(Editor, Scope::Editor);
role_extractor!(Approver, Scope::Approver);
role_extractor!(Admin, Scope::Admin);
