//! API tokens and the roles they carry. A token belongs to one station and
//! acts only on it, except a platform token (scope [`Scope::Platform`], no
//! station), which creates stations and their first token. Each token names
//! the person who uses it, so revisions, approvals and the audit trail say
//! who acted. The secret is shown once when made; only its SHA-256 is
//! stored. Secrets are 256 random bits, so a fast hash suffices (nothing to
//! brute-force), and checking one compares the hash with every active token
//! in constant time, never stopping at the first match.
//!
//! Station-scoped: a store's token methods see and change only its
//! station's tokens; the platform-wide ones ([`Store::authenticate_any_station`]
//! and the platform token methods) say so.

use serde::Serialize;
use subtle::ConstantTimeEq;

use super::db::{Db, Row, params};
use super::{StationId, Store, StoreError, now, sha256_hex};

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
    /// The platform's operator: creates stations and their first token.
    /// Belongs to no station.
    Platform,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Editor => "editor",
            Scope::Approver => "approver",
            Scope::Admin => "admin",
            Scope::Platform => "platform",
        }
    }

    /// The role as the newsroom says it.
    pub fn label(self) -> &'static str {
        match self {
            Scope::Read => "Chỉ xem",
            Scope::Editor => "Biên tập viên",
            Scope::Approver => "Người duyệt",
            Scope::Admin => "Quản trị",
            Scope::Platform => "Quản trị nền tảng",
        }
    }

    /// Every role, lowest first.
    pub const ALL: [Scope; 5] = [
        Scope::Read,
        Scope::Editor,
        Scope::Approver,
        Scope::Admin,
        Scope::Platform,
    ];

    /// # Errors
    /// [`StoreError::Invalid`] naming the accepted values.
    pub fn parse(text: &str) -> Result<Scope, StoreError> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == text)
            .ok_or_else(|| {
                StoreError::Invalid(format!(
                    "unknown scope {text:?} (read, editor, approver, admin or platform)"
                ))
            })
    }
}

/// A token as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    /// The station the token acts on; `None` for a platform token.
    pub station_id: Option<StationId>,
    /// That station's slug; `None` for a platform token.
    pub station_slug: Option<String>,
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

/// Checks a token name: 1–64 ASCII letters, digits, '-', '_', '.' or '@'.
fn valid_name(name: &str) -> Result<(), StoreError> {
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
    Ok(())
}

/// Prefix of every secret, so a leaked one is recognizable in logs and scanners.
const SECRET_PREFIX: &str = "bantin_";

/// Who owns a token in queries: its station's id, or 0 for the platform
/// (no station has id 0), as the unique name index keys it.
const PLATFORM_OWNER: StationId = 0;

const TOKEN_COLUMNS: &str = "t.id, t.station_id, s.slug, t.name, t.scope, t.person, t.created_at";
const TOKEN_COLUMN_COUNT: usize = 7;
const TOKEN_FROM: &str = "api_tokens t LEFT JOIN stations s ON s.id = t.station_id";

fn token_row(row: &Row) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: row.get(0)?,
        station_id: row.get(1)?,
        station_slug: row.get(2)?,
        name: row.get(3)?,
        scope: Scope::parse(&row.get::<String>(4)?)?,
        person: row.get(5)?,
        created_at: row.get(6)?,
    })
}

impl Store {
    /// Makes a token of this station with no person named (kept for scripts
    /// and tests; the trail shows its name). See [`Store::add_token_for`].
    ///
    /// # Errors
    /// As [`Store::add_token_for`].
    pub fn add_token(&self, name: &str, scope: Scope) -> Result<(ApiToken, String), StoreError> {
        self.insert_token(Some(self.station()), name, scope, String::new())
    }

    /// Makes a token of this station for a person and returns it with its
    /// secret (shown once, stored hashed).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a bad name or person, or the platform
    /// scope (see [`Store::add_platform_token`]); [`StoreError::Conflict`]
    /// when the station has a token of that name.
    pub fn add_token_for(
        &self,
        name: &str,
        scope: Scope,
        person: &str,
    ) -> Result<(ApiToken, String), StoreError> {
        let person = valid_person(person)?;
        self.insert_token(Some(self.station()), name, scope, person)
    }

    /// Platform-wide: makes a platform token (no station), for a person when
    /// one is named, and returns it with its secret (shown once).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a bad name or person;
    /// [`StoreError::Conflict`] when a platform token has that name.
    pub fn add_platform_token(
        &self,
        name: &str,
        person: Option<&str>,
    ) -> Result<(ApiToken, String), StoreError> {
        let person = person.map(valid_person).transpose()?.unwrap_or_default();
        self.insert_token(None, name, Scope::Platform, person)
    }

    fn insert_token(
        &self,
        station: Option<StationId>,
        name: &str,
        scope: Scope,
        person: String,
    ) -> Result<(ApiToken, String), StoreError> {
        valid_name(name)?;
        if (scope == Scope::Platform) != station.is_none() {
            return Err(StoreError::Invalid(format!(
                "a {} token belongs to {}",
                scope.as_str(),
                if station.is_none() {
                    "a station"
                } else {
                    "no station; make it as a platform token"
                }
            )));
        }
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        let secret = format!("{SECRET_PREFIX}{}", hex::encode(bytes));
        let hash = sha256_hex(secret.as_bytes());
        let insert = |db: &Db<'_>| {
            let station_slug = match station {
                Some(id) => Some(station_slug(db, id)?),
                None => None,
            };
            let at = now();
            // The name is unique per owner (and the secret everywhere, 256
            // random bits); a taken name inserts nothing.
            let id: Option<i64> = db.query_opt(
                "INSERT INTO api_tokens (station_id, name, scope, person, secret_sha256, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING RETURNING id",
                params![station, name, scope.as_str(), person, hash, at],
                |r| r.get(0),
            )?;
            let id = id.ok_or_else(|| {
                StoreError::Conflict(format!("a token named {name:?} exists already"))
            })?;
            Ok(ApiToken {
                id,
                station_id: station,
                station_slug,
                name: name.to_string(),
                scope,
                person: person.clone(),
                created_at: at,
            })
        };
        let token = match station {
            Some(_) => self.write(insert)?,
            None => self.write_queue(insert)?,
        };
        Ok((token, secret))
    }

    /// Platform-wide: the active token whose secret this is, of whichever
    /// station (or a platform token). The caller scopes what the request
    /// may see to the token's station (`for_station`).
    ///
    /// # Errors
    /// SQL errors.
    pub fn authenticate_any_station(&self, secret: &str) -> Result<Option<ApiToken>, StoreError> {
        let presented = sha256_hex(secret.as_bytes());
        let rows: Vec<(String, ApiToken)> = self.read(|db| {
            db.query_map(
                &format!(
                    "SELECT {TOKEN_COLUMNS}, t.secret_sha256 FROM {TOKEN_FROM} \
                     WHERE t.revoked_at IS NULL"
                ),
                params![],
                |r| Ok((r.get(TOKEN_COLUMN_COUNT)?, token_row(r)?)),
            )
        })?;
        let mut found = None;
        for (hash, token) in rows {
            // Compare with every token; no early exit, no data-dependent branch in the compare.
            if bool::from(hash.as_bytes().ct_eq(presented.as_bytes())) {
                found = Some(token);
            }
        }
        Ok(found)
    }

    /// This station's active tokens, by name.
    ///
    /// # Errors
    /// SQL errors.
    pub fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.tokens_of(self.station())
    }

    /// Platform-wide: the active platform tokens, by name.
    ///
    /// # Errors
    /// SQL errors.
    pub fn platform_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.tokens_of(PLATFORM_OWNER)
    }

    fn tokens_of(&self, owner: StationId) -> Result<Vec<ApiToken>, StoreError> {
        self.read(|db| {
            db.query_map(
                &format!(
                    "SELECT {TOKEN_COLUMNS} FROM {TOKEN_FROM} \
                     WHERE COALESCE(t.station_id, 0) = ?1 AND t.revoked_at IS NULL \
                     ORDER BY t.name"
                ),
                [owner],
                token_row,
            )
        })
    }

    /// Revokes this station's token by name; it stops working at once.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn revoke_token(&self, name: &str) -> Result<(), StoreError> {
        self.write(|db| revoke(db, self.station(), name))
    }

    /// Platform-wide: revokes a platform token by name.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn revoke_platform_token(&self, name: &str) -> Result<(), StoreError> {
        self.write_queue(|db| revoke(db, PLATFORM_OWNER, name))
    }
}

/// The slug of station `id`.
fn station_slug(db: &Db<'_>, id: StationId) -> Result<String, StoreError> {
    db.query_opt("SELECT slug FROM stations WHERE id = ?1", [id], |r| {
        r.get(0)
    })?
    .ok_or_else(|| StoreError::NotFound {
        what: "station",
        id: id.to_string(),
    })
}

/// Revokes the active token `name` of `owner` (a station, or [`PLATFORM_OWNER`]).
fn revoke(db: &Db<'_>, owner: StationId, name: &str) -> Result<(), StoreError> {
    let changed = db.execute(
        "UPDATE api_tokens SET revoked_at = ?1 \
         WHERE COALESCE(station_id, 0) = ?2 AND name = ?3 AND revoked_at IS NULL",
        params![now(), owner, name],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound {
            what: "token",
            id: format!("{name:?}"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{DEFAULT_STATION, testing};

    #[test]
    fn stores_only_the_hash_and_checks_scope() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let (token, secret) = store.add_token("an", Scope::Editor).unwrap();
        assert_eq!(token.station_id, Some(DEFAULT_STATION));
        assert_eq!(token.station_slug.as_deref(), Some("default"));
        let (_, reader) = store.add_token("bich", Scope::Read).unwrap();
        assert!(secret.starts_with("bantin_") && secret.len() == 7 + 64);
        assert_eq!(
            store.authenticate_any_station(&secret).unwrap(),
            Some(token)
        );
        assert_eq!(
            store
                .authenticate_any_station(&reader)
                .unwrap()
                .unwrap()
                .scope,
            Scope::Read
        );
        assert_eq!(store.authenticate_any_station("bantin_nope").unwrap(), None);
        let stored: Vec<String> = store
            .read(|db| {
                db.query_map("SELECT secret_sha256 FROM api_tokens", params![], |r| {
                    r.get(0)
                })
            })
            .unwrap();
        assert_eq!(stored.len(), 2);
        assert!(stored.iter().all(|h| !h.contains(&secret[7..])));
        assert!(matches!(
            store.add_token("an", Scope::Read),
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            store.add_token("../x", Scope::Read),
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(
            store
                .tokens()
                .unwrap()
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>(),
            ["an", "bich"]
        );
        store.revoke_token("an").unwrap();
        assert_eq!(store.authenticate_any_station(&secret).unwrap(), None);
        assert_eq!(store.tokens().unwrap().len(), 1);
        assert!(matches!(
            store.revoke_token("an"),
            Err(StoreError::NotFound { .. })
        ));
    }

    #[test]
    fn roles_are_ordered_and_tokens_name_a_person() {
        assert!(Scope::Read < Scope::Editor);
        assert!(Scope::Editor < Scope::Approver);
        assert!(Scope::Approver < Scope::Admin);
        assert!(Scope::Admin < Scope::Platform);
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()).unwrap(), scope);
        }
        assert!(Scope::parse("root").is_err());
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let (token, secret) = store
            .add_token_for("truc", Scope::Approver, " Nguyễn Văn A ")
            .unwrap();
        assert_eq!(token.person, "Nguyễn Văn A");
        let found = store.authenticate_any_station(&secret).unwrap().unwrap();
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

    #[test]
    fn a_platform_token_belongs_to_no_station() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let err = store.add_token("op", Scope::Platform).unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
        let (platform, secret) = store.add_platform_token("op", Some("Lê Văn C")).unwrap();
        assert_eq!(
            (platform.station_id, platform.station_slug.as_deref()),
            (None, None)
        );
        assert_eq!(platform.scope, Scope::Platform);
        assert_eq!(
            store.authenticate_any_station(&secret).unwrap(),
            Some(platform.clone())
        );
        // A station token may share the platform token's name.
        store.add_token("op", Scope::Admin).unwrap();
        assert!(matches!(
            store.add_platform_token("op", None),
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(store.platform_tokens().unwrap(), [platform]);
        assert_eq!(store.tokens().unwrap()[0].scope, Scope::Admin);
        store.revoke_platform_token("op").unwrap();
        assert_eq!(store.authenticate_any_station(&secret).unwrap(), None);
        assert!(store.platform_tokens().unwrap().is_empty());
        assert_eq!(
            store.tokens().unwrap().len(),
            1,
            "the station's token stays"
        );
    }

    #[test]
    fn a_station_sees_and_changes_only_its_own_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let first = testing::open(dir.path());
        let second = testing::add_station(&first, "huyen-b").unwrap();
        let (ours, our_secret) = first.add_token_for("an", Scope::Admin, "An").unwrap();

        assert!(second.tokens().unwrap().is_empty());
        assert!(matches!(
            second.revoke_token("an"),
            Err(StoreError::NotFound { .. })
        ));
        // Names are the station's own: the same name is no conflict.
        let (theirs, their_secret) = second.add_token("an", Scope::Read).unwrap();
        assert_eq!(theirs.station_id, Some(second.station()));
        assert_eq!(theirs.station_slug.as_deref(), Some("huyen-b"));
        assert_eq!(second.tokens().unwrap(), std::slice::from_ref(&theirs));
        // Authentication finds either station's token, each with its station.
        assert_eq!(
            second.authenticate_any_station(&our_secret).unwrap(),
            Some(ours.clone())
        );
        assert_eq!(
            first.authenticate_any_station(&their_secret).unwrap(),
            Some(theirs.clone())
        );
        second.revoke_token("an").unwrap();
        assert_eq!(first.tokens().unwrap(), std::slice::from_ref(&ours));
        assert_eq!(
            first.authenticate_any_station(&our_secret).unwrap(),
            Some(ours)
        );
        assert_eq!(first.authenticate_any_station(&their_secret).unwrap(), None);
        // A store of a station that does not exist makes no token.
        let missing = first.for_station(9999);
        assert!(matches!(
            missing.add_token("x", Scope::Read),
            Err(StoreError::NotFound { .. })
        ));
    }
}
