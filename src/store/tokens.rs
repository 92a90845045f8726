//! API tokens. The secret is shown once when made; only its SHA-256 is
//! stored. Secrets are 256 random bits, so a fast hash suffices (nothing to
//! brute-force), and checking one compares the hash with every active token in
//! constant time, never stopping at the first match.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use subtle::ConstantTimeEq;

use super::{Store, StoreError, now, sha256_hex};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Read articles, reviews, scripts, jobs, audio.
    Read,
    /// Everything `Read` may, and upload, edit, render and change the lexicon.
    Editor,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Editor => "editor",
        }
    }

    /// # Errors
    /// [`StoreError::Invalid`] naming the accepted values.
    pub fn parse(text: &str) -> Result<Scope, StoreError> {
        match text {
            "read" => Ok(Scope::Read),
            "editor" => Ok(Scope::Editor),
            other => Err(StoreError::Invalid(format!(
                "unknown scope {other:?} (read or editor)"
            ))),
        }
    }
}

/// A token as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub scope: Scope,
    pub created_at: String,
}

/// Prefix of every secret, so a leaked one is recognizable in logs and scanners.
const SECRET_PREFIX: &str = "bantin_";

impl Store {
    /// Makes a token and returns it with its secret (shown once, stored hashed).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a bad name; [`StoreError::Conflict`] when
    /// the name is taken.
    pub fn add_token(&self, name: &str, scope: Scope) -> Result<(ApiToken, String), StoreError> {
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
        {
            return Err(StoreError::Invalid(format!(
                "token name {name:?} must be 1–64 ASCII letters, digits, '-', '_', '.' or '@'"
            )));
        }
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        let secret = format!("{SECRET_PREFIX}{}", hex::encode(bytes));
        let token = self.write(|tx| {
            let taken: bool = tx.query_row(
                "SELECT count(*) > 0 FROM api_tokens WHERE name = ?1",
                [name],
                |r| r.get(0),
            )?;
            if taken {
                return Err(StoreError::Conflict(format!(
                    "a token named {name:?} exists already"
                )));
            }
            let at = now();
            tx.execute(
                "INSERT INTO api_tokens (name, scope, secret_sha256, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![name, scope.as_str(), sha256_hex(secret.as_bytes()), at],
            )?;
            Ok(ApiToken {
                id: tx.last_insert_rowid(),
                name: name.to_string(),
                scope,
                created_at: at,
            })
        })?;
        Ok((token, secret))
    }

    /// The active token whose secret this is.
    ///
    /// # Errors
    /// SQL errors.
    pub fn authenticate(&self, secret: &str) -> Result<Option<ApiToken>, StoreError> {
        let presented = sha256_hex(secret.as_bytes());
        let rows: Vec<(i64, String, String, String, String)> = self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, name, scope, secret_sha256, created_at FROM api_tokens \
                 WHERE revoked_at IS NULL",
            )?;
            Ok(stmt
                .query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<Result<_, _>>()?)
        })?;
        let mut found = None;
        for (id, name, scope, hash, created_at) in rows {
            // Compare with every token; no early exit, no data-dependent branch in the compare.
            if bool::from(hash.as_bytes().ct_eq(presented.as_bytes())) {
                found = Some(ApiToken {
                    id,
                    name,
                    scope: Scope::parse(&scope)?,
                    created_at,
                });
            }
        }
        Ok(found)
    }

    /// Active tokens, by name.
    ///
    /// # Errors
    /// SQL errors.
    pub fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let rows: Vec<(i64, String, String, String)> = self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, name, scope, created_at FROM api_tokens WHERE revoked_at IS NULL ORDER BY name",
            )?;
            Ok(stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<Result<_, _>>()?)
        })?;
        rows.into_iter()
            .map(|(id, name, scope, created_at)| {
                Ok(ApiToken {
                    id,
                    name,
                    scope: Scope::parse(&scope)?,
                    created_at,
                })
            })
            .collect()
    }

    /// Revokes a token by name; it stops working at once.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn revoke_token(&self, name: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            let id: Option<i64> = tx
                .query_row(
                    "SELECT id FROM api_tokens WHERE name = ?1 AND revoked_at IS NULL",
                    [name],
                    |r| r.get(0),
                )
                .optional()?;
            let id = id.ok_or_else(|| StoreError::NotFound {
                what: "token",
                id: format!("{name:?}"),
            })?;
            tx.execute(
                "UPDATE api_tokens SET revoked_at = ?1 WHERE id = ?2",
                params![now(), id],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_only_the_hash_and_checks_scope() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (token, secret) = store.add_token("an", Scope::Editor).unwrap();
        let (_, reader) = store.add_token("bich", Scope::Read).unwrap();
        assert!(secret.starts_with("bantin_") && secret.len() == 7 + 64);
        assert_eq!(store.authenticate(&secret).unwrap(), Some(token));
        assert_eq!(
            store.authenticate(&reader).unwrap().unwrap().scope,
            Scope::Read
        );
        assert_eq!(store.authenticate("bantin_nope").unwrap(), None);
        let stored: Vec<String> = store
            .read(|c| {
                let mut s = c.prepare("SELECT secret_sha256 FROM api_tokens")?;
                Ok(s.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?)
            })
            .unwrap();
        assert!(stored.iter().all(|h| !h.contains(&secret[7..])));
        assert!(matches!(
            store.add_token("an", Scope::Read),
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            store.add_token("../x", Scope::Read),
            Err(StoreError::Invalid(_))
        ));
        store.revoke_token("an").unwrap();
        assert_eq!(store.authenticate(&secret).unwrap(), None);
    }
}
