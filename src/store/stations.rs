//! Stations: the newsrooms one platform serves, each owning its articles,
//! jobs, lexicon, bulletins, tokens, webhooks and audit trail. Station
//! [`DEFAULT_STATION`](super::DEFAULT_STATION) (`default`) is the
//! single-station install.
//!
//! Every method here is platform-wide: it reads or changes the `stations`
//! table whatever station the store is scoped to. Only a platform token may
//! reach them through the server; a station's own store sees its rows
//! through the station-scoped files of this module.

use serde::Serialize;

use super::db::{Row, params};
use super::{StationId, Store, StoreError, now};

/// A station as stored.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Station {
    pub id: StationId,
    /// Short name in URLs and commands: lowercase ASCII letters, digits and
    /// '-', 2 to 40 characters.
    pub slug: String,
    /// The station's name as listeners know it.
    pub name: String,
    /// The station's own settings (TOML, `bantin.toml` sections); empty for
    /// the default station, whose settings are the install's `bantin.toml`.
    pub settings: String,
    pub created_at: String,
}

const STATION_COLUMNS: &str = "id, slug, name, settings, created_at";

/// Longest station name accepted, in characters.
const MAX_NAME_CHARS: usize = 120;

fn station_row(row: &Row) -> Result<Station, StoreError> {
    Ok(Station {
        id: row.get(0)?,
        slug: row.get(1)?,
        name: row.get(2)?,
        settings: row.get(3)?,
        created_at: row.get(4)?,
    })
}

/// Checks a slug: 2 to 40 of lowercase ASCII letters, digits and '-'.
///
/// # Errors
/// [`StoreError::Invalid`] saying what a slug may hold.
pub fn validate_slug(slug: &str) -> Result<(), StoreError> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if (2..=40).contains(&slug.len()) && slug.chars().all(allowed) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "the station slug {slug:?} must be 2–40 lowercase ASCII letters, digits or '-'"
        )))
    }
}

/// Checks a station's name: 1–120 characters, no control characters;
/// returns it trimmed, in NFC.
fn valid_name(name: &str) -> Result<String, StoreError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(StoreError::Invalid(format!(
            "the station name {name:?} must be 1–{MAX_NAME_CHARS} characters without control characters"
        )));
    }
    Ok(crate::text::nfc(name).into_owned())
}

impl Store {
    /// Platform-wide: creates a station. Its first token is made through
    /// the store scoped to it (`for_station(station.id).add_token_for(…)`).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a bad slug or name;
    /// [`StoreError::Conflict`] when the slug is taken.
    pub fn create_station(&self, slug: &str, name: &str) -> Result<Station, StoreError> {
        validate_slug(slug)?;
        let name = valid_name(name)?;
        // Stations are not a station's rows: no station lock, and the
        // unique slug decides between two creators racing.
        self.write_queue(|db| {
            db.query_opt(
                &format!(
                    "INSERT INTO stations (slug, name, created_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (slug) DO NOTHING RETURNING {STATION_COLUMNS}"
                ),
                params![slug, name, now()],
                station_row,
            )?
            .ok_or_else(|| StoreError::Conflict(format!("a station {slug:?} exists already")))
        })
    }

    /// Platform-wide: every station, by slug.
    ///
    /// # Errors
    /// SQL errors.
    pub fn stations(&self) -> Result<Vec<Station>, StoreError> {
        self.read(|db| {
            db.query_map(
                &format!("SELECT {STATION_COLUMNS} FROM stations ORDER BY slug"),
                params![],
                station_row,
            )
        })
    }

    /// Platform-wide: the station with this slug.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn station_by_slug(&self, slug: &str) -> Result<Station, StoreError> {
        self.read(|db| {
            db.query_opt(
                &format!("SELECT {STATION_COLUMNS} FROM stations WHERE slug = ?1"),
                [slug],
                station_row,
            )
        })?
        .ok_or_else(|| StoreError::NotFound {
            what: "station",
            id: format!("{slug:?}"),
        })
    }

    /// Platform-wide: the station with this id.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn station_by_id(&self, id: StationId) -> Result<Station, StoreError> {
        self.read(|db| {
            db.query_opt(
                &format!("SELECT {STATION_COLUMNS} FROM stations WHERE id = ?1"),
                [id],
                station_row,
            )
        })?
        .ok_or_else(|| StoreError::NotFound {
            what: "station",
            id: id.to_string(),
        })
    }

    /// Platform-wide: replaces a station's settings with `toml_text`, which
    /// must parse as TOML; what the sections mean is the caller's to check.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] with the TOML parser's message;
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn set_station_settings(&self, id: StationId, toml_text: &str) -> Result<(), StoreError> {
        toml_text
            .parse::<toml::Table>()
            .map_err(|e| StoreError::Invalid(format!("the station settings are not TOML: {e}")))?;
        let changed = self.write_queue(|db| {
            db.execute(
                "UPDATE stations SET settings = ?1 WHERE id = ?2",
                params![toml_text, id],
            )
        })?;
        if changed == 0 {
            return Err(StoreError::NotFound {
                what: "station",
                id: id.to_string(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{DEFAULT_STATION, testing};

    #[test]
    fn the_default_station_exists_and_new_ones_get_checked_slugs() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let default = store.station_by_id(DEFAULT_STATION).unwrap();
        assert_eq!(default.slug, "default");
        assert_eq!(default.settings, "");

        let created = store.create_station("quan-3", "  Đài Quận 3 ").unwrap();
        assert_eq!(created.slug, "quan-3");
        assert_eq!(created.name, "Đài Quận 3");
        assert_ne!(created.id, DEFAULT_STATION);
        assert_eq!(store.station_by_slug("quan-3").unwrap(), created);
        assert_eq!(store.station_by_id(created.id).unwrap(), created);
        // Platform-wide: a store scoped to either station sees both.
        let scoped = store.for_station(created.id);
        assert_eq!(
            scoped
                .stations()
                .unwrap()
                .iter()
                .map(|s| s.slug.as_str())
                .collect::<Vec<_>>(),
            ["default", "quan-3"]
        );

        let taken = store.create_station("quan-3", "Khác").unwrap_err();
        assert!(matches!(taken, StoreError::Conflict(_)), "{taken}");
        for bad in ["", "x", "Quan3", "quận-3", "a b", "a_b", &"a".repeat(41)] {
            let err = store.create_station(bad, "Đài").unwrap_err();
            assert!(matches!(err, StoreError::Invalid(_)), "{bad:?}: {err}");
        }
        assert!(store.create_station(&"a".repeat(40), "Đài").is_ok());
        for bad_name in ["", "  ", "Đài\nmới"] {
            let err = store.create_station("moi", bad_name).unwrap_err();
            assert!(matches!(err, StoreError::Invalid(_)), "{bad_name:?}: {err}");
        }
        assert!(matches!(
            store.station_by_slug("khong-co"),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            store.station_by_id(9999),
            Err(StoreError::NotFound { .. })
        ));
        assert_eq!(store.stations().unwrap().len(), 3);
    }

    #[test]
    fn settings_are_stored_only_when_they_parse_as_toml() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let station = store.create_station("huyen-a", "Đài huyện A").unwrap();
        let settings = "[bulletins]\nslots = [\"06:00\", \"17:30\"]\n";
        store.set_station_settings(station.id, settings).unwrap();
        assert_eq!(store.station_by_id(station.id).unwrap().settings, settings);

        let err = store
            .set_station_settings(station.id, "[bulletins\nslots = ")
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Invalid(m) if m.contains("not TOML")),
            "{err}"
        );
        assert_eq!(store.station_by_id(station.id).unwrap().settings, settings);
        assert!(matches!(
            store.set_station_settings(9999, ""),
            Err(StoreError::NotFound { .. })
        ));
        // The other station's settings are untouched.
        assert_eq!(store.station_by_id(DEFAULT_STATION).unwrap().settings, "");
    }
}
