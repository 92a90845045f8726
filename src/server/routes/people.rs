//! Who is signed in, and the station admin's tokens: issue one for a
//! person with a role, list them, revoke one. Issuing and revoking are
//! recorded in the audit trail.

use crate::server::StationState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::json_body;
use crate::server::error::{ApiError, ErrorBody};
use crate::server::{Admin, AppState, Reader};
use crate::store::{Actor, ApiToken, AuditAction, NewAuditEvent, Scope};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/me", get(me))
        .route("/api/tokens", get(list).post(create))
        .route("/api/tokens/{name}", delete(revoke))
}

/// A token as the page shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Person {
    /// The token's name.
    pub name: String,
    /// The person, or "Chưa ghi tên (name)" for a token made before persons.
    pub person: String,
    /// `read`, `editor`, `approver` or `admin`.
    pub scope: String,
    /// The role in Vietnamese.
    pub role: String,
    pub may_edit: bool,
    pub may_approve: bool,
    pub may_admin: bool,
    pub created_at: String,
}

impl From<&ApiToken> for Person {
    fn from(token: &ApiToken) -> Person {
        Person {
            name: token.name.clone(),
            person: token.who(),
            scope: token.scope.as_str().into(),
            role: token.scope.label().into(),
            may_edit: token.scope >= Scope::Editor,
            may_approve: token.scope >= Scope::Approver,
            may_admin: token.scope >= Scope::Admin,
            created_at: token.created_at.clone(),
        }
    }
}

/// A token to issue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    /// `read`, `editor`, `approver` or `admin`.
    pub scope: String,
    pub person: String,
}

/// An issued token with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct Issued {
    pub token: Person,
    pub secret: String,
}

/// The signed-in token: person, role and what it may do.
#[utoipa::path(get, path = "/api/me", tag = "workflow",
    responses((status = 200, body = Person), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn me(Reader(token): Reader) -> axum::Json<Person> {
    axum::Json(Person::from(&token))
}

/// Active tokens (admin only; never secrets).
#[utoipa::path(get, path = "/api/tokens", tag = "workflow",
    responses((status = 200, body = Vec<Person>), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    StationState(state): StationState,
    _: Admin,
) -> Result<axum::Json<Vec<Person>>, ApiError> {
    let tokens = state.blocking(|s| Ok(s.store.tokens()?)).await?;
    Ok(axum::Json(tokens.iter().map(Person::from).collect()))
}

/// Issue a token for a person (admin only); the secret is shown once.
#[utoipa::path(post, path = "/api/tokens", tag = "workflow", request_body = NewToken,
    responses((status = 201, body = Issued), (status = 403, body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 422, description = "A bad name, role or person", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    StationState(state): StationState,
    Admin(admin): Admin,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, axum::Json<Issued>), ApiError> {
    let new: NewToken = json_body(&headers, &body)?;
    let issued = state
        .blocking(move |s| {
            let scope = Scope::parse(&new.scope)?;
            let (token, secret) = s.store.add_token_for(&new.name, scope, &new.person)?;
            s.store.record_audit(&NewAuditEvent {
                actor: Actor::from(&admin),
                action: AuditAction::TokenCreated,
                article_id: None,
                revision: None,
                detail: format!("{} — {} ({})", token.name, token.who(), scope.label()),
            })?;
            Ok(Issued {
                token: Person::from(&token),
                secret,
            })
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(issued)))
}

/// Revoke a token by name (admin only); it stops working at once.
#[utoipa::path(delete, path = "/api/tokens/{name}", tag = "workflow",
    params(("name" = String, Path, description = "Token name")),
    responses((status = 204, description = "Revoked"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke(
    StationState(state): StationState,
    Admin(admin): Admin,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .blocking(move |s| {
            s.store.revoke_token(&name)?;
            s.store.record_audit(&NewAuditEvent {
                actor: Actor::from(&admin),
                action: AuditAction::TokenRevoked,
                article_id: None,
                revision: None,
                detail: name,
            })?;
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
