//! Bearer-token access: extractors a handler names to require a scope.
//! `Reader` lets any valid token in; `Editor` answers 403 to a read-only
//! token. No token, a malformed header or an unknown token is 401.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use crate::store::{ApiToken, Scope};

/// A request made with any valid token.
#[derive(Debug, Clone)]
pub struct Reader(pub ApiToken);

/// A request made with an editor token.
#[derive(Debug, Clone)]
pub struct Editor(pub ApiToken);

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
    state
        .store
        .call(move |store| store.authenticate(&secret))
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the token is not valid".into()))
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Reader(token(parts, state).await?))
    }
}

impl FromRequestParts<AppState> for Editor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = token(parts, state).await?;
        match token.scope {
            Scope::Editor => Ok(Editor(token)),
            Scope::Read => Err(ApiError::Forbidden(format!(
                "the token {:?} is read-only; this needs an editor token",
                token.name
            ))),
        }
    }
}
