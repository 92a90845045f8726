//! API tokens and the roles they carry. Each token names the person who
//! uses it, so revisions, approvals and the audit trail say who acted. The secret is shown once when made; only its SHA-256 is
//! stored. Secrets are 256 random bits, so a fast hash suffices (nothing to
//! brute-force), and checking one compares the hash with every active token in
//! constant time, never stopping at the first match.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use subtle::ConstantTimeEq;

use super::{Store, StoreError, now, sha256_hex};

/// What a token may do; each role may do everything the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Read articles, reviews, scripts, jobs, audio.
    Read,
    /// Everything `Read` may, and upload, edit, render and change the lexicon.
    Editor,
    /// Everything `Editor` may, and approve articles for air.
    Approver,
    /// Everything `Approver` may, and issue and revoke tokens.
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Editor => "editor",
            Scope::Approver => "approver",
            Scope::Admin => "admin",
        }
    }

    /// The role as the newsroom says it.
    pub fn label(self) -> &'static str {
        match self {
            Scope::Read => "Chỉ xem",
            Scope::Editor => "Biên tập viên",
            Scope::Approver => "Người duyệt",
            Scope::Admin => "Quản trị",
        }
    }

    /// Every role, lowest first.
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Editor, Scope::Approver, Scope::Admin];

    /// # Errors
    /// [`StoreError::Invalid`] naming the accepted values.
    pub fn parse(text: &str) -> Result<Scope, StoreError> {
        match text {
            "read" => Ok(Scope::Read),
            "editor" => Ok(Scope::Editor),
            "approver" => Ok(Scope::Approver),
            "admin" => Ok(Scope::Admin),
            other => Err(StoreError::Invalid(format!(
                "unknown scope {other:?} (read, editor, approver or admin)"
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
    /// The person who uses the token ('' for tokens made before roles).
    pub person: String,
    pub created_at: String,
}

/// Shown where a token made before persons were recorded acted.
pub const UNNAMED_PERSON: &str = "Chưa ghi tên";

impl ApiToken {
    /// The person to record and show: the token's person, or for an older
    /// token without one, "Chưa ghi tên (name)".
    pub fn who(&self) -> String {
        if self.person.is_empty() {
            format!("{UNNAMED_PERSON} ({})", self.name)
        } else {
            self.person.clone()
        }
    }
}

/// Checks a person's name: 1–80 characters, no control characters, trimmed.
fn valid_person(person: &str) -> Result<String, StoreError> {
    let person = person.trim();
    if person.is_empty() || person.chars().count() > 80 || person.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "the person's name {person:?} must be 1–80 characters without control characters"
        )));
    }
    Ok(crate::text::nfc(person).into_owned())
}

/// Prefix of every secret, so a leaked one is recognizable in logs and scanners.
const SECRET_PREFIX: &str = "bantin_";

impl Store {
    /// Makes a token with no person named (kept for scripts and tests; the
    /// trail shows its name). See [`Store::add_token_for`].
    ///
    /// # Errors
    /// As [`Store::add_token_for`].
    pub fn add_token(&self, name: &str, scope: Scope) -> Result<(ApiToken, String), StoreError> {
        self.insert_token(name, scope, String::new())
    }

    /// Makes a token for a person and returns it with its secret (shown
    /// once, stored hashed).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a bad name or person;
    /// [`StoreError::Conflict`] when the name is taken.
    pub fn add_token_for(
        &self,
        name: &str,
        scope: Scope,
        person: &str,
    ) -> Result<(ApiToken, String), StoreError> {
        let person = valid_person(person)?;
        self.insert_token(name, scope, person)
    }

    fn insert_token(
        &self,
        name: &str,
        scope: Scope,
        person: String,
    ) -> Result<(ApiToken, String), StoreError> {
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
        let token = self.write_sqlite(|tx| {
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
                "INSERT INTO api_tokens (name, scope, person, secret_sha256, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    name,
                    scope.as_str(),
                    person,
                    sha256_hex(secret.as_bytes()),
                    at
                ],
            )?;
            Ok(ApiToken {
                id: tx.last_insert_rowid(),
                name: name.to_string(),
                scope,
                person,
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
        type Row = (i64, String, String, String, String, String);
        let rows: Vec<Row> = self.read_sqlite(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, name, scope, secret_sha256, created_at, person FROM api_tokens \
                 WHERE revoked_at IS NULL",
            )?;
            Ok(stmt
                .query_map([], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })?
                .collect::<Result<_, _>>()?)
        })?;
        let mut found = None;
        for (id, name, scope, hash, created_at, person) in rows {
            // Compare with every token; no early exit, no data-dependent branch in the compare.
            if bool::from(hash.as_bytes().ct_eq(presented.as_bytes())) {
                found = Some(ApiToken {
                    id,
                    name,
                    scope: Scope::parse(&scope)?,
                    person,
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
        type Row = (i64, String, String, String, String);
        let rows: Vec<Row> = self.read_sqlite(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, name, scope, created_at, person FROM api_tokens \
                 WHERE revoked_at IS NULL ORDER BY name",
            )?;
            Ok(stmt
                .query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<Result<_, _>>()?)
        })?;
        rows.into_iter()
            .map(|(id, name, scope, created_at, person)| {
                Ok(ApiToken {
                    id,
                    name,
                    scope: Scope::parse(&scope)?,
                    person,
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
        self.write_sqlite(|tx| {
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
            .read_sqlite(|c| {
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

    #[test]
    fn roles_are_ordered_and_tokens_name_a_person() {
        assert!(Scope::Read < Scope::Editor);
        assert!(Scope::Editor < Scope::Approver);
        assert!(Scope::Approver < Scope::Admin);
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()).unwrap(), scope);
        }
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (token, secret) = store
            .add_token_for("truc", Scope::Approver, " Nguyễn Văn A ")
            .unwrap();
        assert_eq!(token.person, "Nguyễn Văn A");
        let found = store.authenticate(&secret).unwrap().unwrap();
        assert_eq!(
            (found.scope, found.who()),
            (Scope::Approver, "Nguyễn Văn A".to_string())
        );
        let (old, _) = store.add_token("cu", Scope::Editor).unwrap();
        assert_eq!(old.who(), "Chưa ghi tên (cu)");
        assert!(matches!(
            store.add_token_for("x", Scope::Read, "  "),
            Err(StoreError::Invalid(_))
        ));
    }
}
