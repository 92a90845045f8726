//! Station lexicon entries: the readings a station's staff correct. Each
//! entry passes the same validation as the shipped tables
//! (`normalize::Lexicon::parse`), and every change bumps the station's
//! `stations.lexicon_version`, so readers rebuild their normalizer and the
//! next review uses it. Station-scoped: every query sees and changes only
//! the entries of the store's station. `DATA/lexicon.tsv`, the file
//! stations used before the store, is the default station's: it is
//! imported into that station whenever its content changes.

use serde::{Deserialize, Serialize};

use super::db::{Db, Row, params};
use super::{DEFAULT_STATION, StationId, Store, StoreError, now, sha256_hex};
use crate::normalize::{Lexicon, LexiconError, Source};

/// The file imported into the store when it changes.
pub const LEXICON_FILE: &str = "lexicon.tsv";

/// A station entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StationEntry {
    pub id: i64,
    pub key: String,
    pub spoken: String,
    /// Trigger phrases (lowercase), joined by `|`; empty for the default reading.
    pub context: String,
    pub comment: String,
    pub author: String,
    pub created_at: String,
}

/// An entry to add, as staff type it.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLexiconEntry {
    pub key: String,
    pub spoken: String,
    /// Trigger phrases separated by `|`; absent for the default reading.
    #[serde(default)]
    pub context: String,
    #[serde(default)]
    pub comment: String,
}

fn entry_row(row: &Row) -> Result<StationEntry, StoreError> {
    Ok(StationEntry {
        id: row.get(0)?,
        key: row.get(1)?,
        spoken: row.get(2)?,
        context: row.get(3)?,
        comment: row.get(4)?,
        author: row.get(5)?,
        created_at: row.get(6)?,
    })
}

const ENTRY_COLUMNS: &str = "id, key, spoken, context, comment, author, created_at";

impl NewLexiconEntry {
    /// Validates the entry as a lexicon row and returns it with its context
    /// normalized the way the lexicon reads it.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] with the reason in words.
    pub fn validated(&self) -> Result<NewLexiconEntry, StoreError> {
        for (field, value) in [
            ("key", &self.key),
            ("spoken", &self.spoken),
            ("context", &self.context),
            ("comment", &self.comment),
        ] {
            if value.contains(['\t', '\n', '\r']) {
                return Err(StoreError::Invalid(format!(
                    "the {field} contains a tab or a line break"
                )));
            }
        }
        let row = format!(
            "{}\t{}\t{}\t{}",
            self.key, self.spoken, self.context, self.comment
        );
        let lexicon = Lexicon::parse("entry", &row, Source::Station).map_err(invalid)?;
        let entry = lexicon
            .entries()
            .into_iter()
            .next()
            .cloned()
            .ok_or_else(|| StoreError::Invalid("the entry is empty".into()))?;
        Ok(NewLexiconEntry {
            key: entry.key,
            spoken: entry.spoken,
            context: entry.context.join("|"),
            comment: entry.comment,
        })
    }
}

/// The reasons of a lexicon error, without the synthetic file name.
fn invalid(error: LexiconError) -> StoreError {
    fn reasons(error: LexiconError, out: &mut Vec<String>) {
        match error {
            LexiconError::Row { file, line, reason } => {
                out.push(if file == "entry" {
                    reason
                } else {
                    format!("{file}:{line}: {reason}")
                });
            }
            LexiconError::Rows(rows) => rows.into_iter().for_each(|r| reasons(r, out)),
        }
    }
    let mut out = Vec::new();
    reasons(error, &mut out);
    StoreError::Invalid(out.join("; "))
}

impl Store {
    /// Every station entry, by key then context.
    ///
    /// # Errors
    /// SQL errors.
    pub fn lexicon_entries(&self) -> Result<Vec<StationEntry>, StoreError> {
        self.read(|db| {
            db.query_map(
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM lexicon_entries WHERE station_id = ?1 \
                     ORDER BY key, context"
                ),
                [self.station()],
                entry_row,
            )
        })
    }

    /// The station's lexicon version, bumped on every change of its entries.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the store's station does not exist;
    /// SQL errors.
    pub fn lexicon_version(&self) -> Result<i64, StoreError> {
        self.read(|db| {
            db.query_opt(
                "SELECT lexicon_version FROM stations WHERE id = ?1",
                [self.station()],
                |r| r.get(0),
            )
        })?
        .ok_or_else(|| StoreError::NotFound {
            what: "station",
            id: self.station().to_string(),
        })
    }

    /// The station entries as a lexicon for `Normalizer::with_station`.
    ///
    /// # Errors
    /// SQL errors; [`StoreError::Invalid`] if stored rows no longer validate.
    pub fn station_lexicon(&self) -> Result<Lexicon, StoreError> {
        let text: String = self
            .lexicon_entries()?
            .iter()
            .map(|e| format!("{}\t{}\t{}\t{}\n", e.key, e.spoken, e.context, e.comment))
            .collect();
        Lexicon::parse("station lexicon", &text, Source::Station).map_err(invalid)
    }

    /// Adds a validated entry.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a row the lexicon refuses;
    /// [`StoreError::Conflict`] when the key already has this context.
    pub fn add_lexicon_entry(
        &self,
        new: &NewLexiconEntry,
        author: &str,
    ) -> Result<StationEntry, StoreError> {
        let entry = new.validated()?;
        let station = self.station();
        self.write(|db| {
            let twin: Option<i64> = db.query_opt(
                "SELECT id FROM lexicon_entries WHERE station_id = ?1 AND key = ?2 AND context = ?3",
                params![station, entry.key, entry.context],
                |r| r.get(0),
            )?;
            if let Some(twin) = twin {
                return Err(StoreError::Conflict(format!(
                    "{:?} already has a reading {} (entry {twin}); remove it first",
                    entry.key,
                    if entry.context.is_empty() {
                        "without context".to_string()
                    } else {
                        format!("for context {:?}", entry.context)
                    }
                )));
            }
            let added = db.query_row(
                &format!(
                    "INSERT INTO lexicon_entries \
                     (station_id, key, spoken, context, comment, author, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING {ENTRY_COLUMNS}"
                ),
                params![
                    station,
                    entry.key,
                    entry.spoken,
                    entry.context,
                    entry.comment,
                    author,
                    now()
                ],
                entry_row,
            )?;
            bump_version(db, station)?;
            Ok(added)
        })
    }

    /// Removes one entry by id.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn remove_lexicon_entry(&self, id: i64) -> Result<StationEntry, StoreError> {
        let station = self.station();
        self.write(|db| {
            let entry = db
                .query_opt(
                    &format!(
                        "DELETE FROM lexicon_entries WHERE station_id = ?1 AND id = ?2 \
                         RETURNING {ENTRY_COLUMNS}"
                    ),
                    [station, id],
                    entry_row,
                )?
                .ok_or_else(|| StoreError::NotFound {
                    what: "lexicon entry",
                    id: id.to_string(),
                })?;
            bump_version(db, station)?;
            Ok(entry)
        })
    }

    /// Removes every entry of `key` (only the one with `context`, when given).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when nothing matched; SQL errors.
    pub fn remove_lexicon_key(
        &self,
        key: &str,
        context: Option<&str>,
    ) -> Result<Vec<StationEntry>, StoreError> {
        let station = self.station();
        self.write(|db| {
            let mut removed = db.query_map(
                &format!(
                    "DELETE FROM lexicon_entries WHERE station_id = ?1 AND key = ?2 \
                     AND (CAST(?3 AS TEXT) IS NULL OR context = ?3) RETURNING {ENTRY_COLUMNS}"
                ),
                params![station, key, context],
                entry_row,
            )?;
            if removed.is_empty() {
                return Err(StoreError::NotFound {
                    what: "lexicon entry for",
                    id: format!("{key:?}"),
                });
            }
            removed.sort_by(|a, b| a.context.cmp(&b.context));
            bump_version(db, station)?;
            Ok(removed)
        })
    }

    /// Imports a TSV table (`key<TAB>spoken<TAB>context<TAB>comment`): every
    /// row is validated first and nothing is written if any is bad; a row
    /// replaces the stored entry with the same key and context.
    /// Returns the number of rows imported.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] listing every bad row; SQL errors.
    pub fn import_lexicon(
        &self,
        origin: &str,
        text: &str,
        author: &str,
    ) -> Result<usize, StoreError> {
        let lexicon = Lexicon::parse(origin, text, Source::Station).map_err(invalid)?;
        let station = self.station();
        self.write(|db| {
            let at = now();
            let entries = lexicon.entries();
            for e in &entries {
                db.execute(
                    "INSERT INTO lexicon_entries \
                     (station_id, key, spoken, context, comment, author, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                     ON CONFLICT (station_id, key, context) DO UPDATE SET \
                     spoken = excluded.spoken, comment = excluded.comment, \
                     author = excluded.author, created_at = excluded.created_at",
                    params![
                        station,
                        e.key,
                        e.spoken,
                        e.context.join("|"),
                        e.comment,
                        author,
                        at
                    ],
                )?;
            }
            bump_version(db, station)?;
            Ok(entries.len())
        })
    }

    /// Imports `DATA/lexicon.tsv` into the default station when its content
    /// differs from the last import (its hash is meta `lexicon_file_sha256`).
    pub(super) fn import_lexicon_file(&self) -> Result<(), StoreError> {
        let default = self.for_station(DEFAULT_STATION);
        let path = self.dir().join(LEXICON_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => {
                return Err(StoreError::Io {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        let hash = sha256_hex(text.as_bytes());
        let last: Option<String> = default.read(|db| {
            db.query_opt(
                "SELECT value FROM meta WHERE name = 'lexicon_file_sha256'",
                params![],
                |r| r.get(0),
            )
        })?;
        if last.as_deref() == Some(hash.as_str()) {
            return Ok(());
        }
        let count = default.import_lexicon(&path.display().to_string(), &text, LEXICON_FILE)?;
        default.write(|db| {
            db.execute(
                "INSERT INTO meta (name, value) VALUES ('lexicon_file_sha256', ?1) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                [&hash],
            )
        })?;
        tracing::info!(file = %path.display(), entries = count, "imported station lexicon");
        Ok(())
    }
}

fn bump_version(db: &Db<'_>, station: StationId) -> Result<(), StoreError> {
    db.execute(
        "UPDATE stations SET lexicon_version = lexicon_version + 1 WHERE id = ?1",
        [station],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing;

    fn entry(key: &str, spoken: &str, context: &str) -> NewLexiconEntry {
        NewLexiconEntry {
            key: key.into(),
            spoken: spoken.into(),
            context: context.into(),
            comment: String::new(),
        }
    }

    #[test]
    fn validates_adds_and_removes_entries() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let v0 = store.lexicon_version().unwrap();
        let added = store
            .add_lexicon_entry(&entry("UBND", "Ủy ban nhân dân", "Tỉnh | Huyện"), "t")
            .unwrap();
        assert_eq!(added.context, "tỉnh|huyện");
        assert_eq!(added.author, "t");
        assert_eq!(store.lexicon_version().unwrap(), v0 + 1);
        assert!(matches!(
            store.add_lexicon_entry(&entry("UBND", "x", "tỉnh|huyện"), "t"),
            Err(StoreError::Conflict(_))
        ));
        for bad in [
            entry("A B", "a", ""),
            entry("X", "x2", ""),
            entry("X", "", ""),
            entry("X", "x\tinjected\t\t", ""),
        ] {
            assert!(
                matches!(
                    store.add_lexicon_entry(&bad, "t"),
                    Err(StoreError::Invalid(_))
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            store.lexicon_entries().unwrap(),
            std::slice::from_ref(&added)
        );
        assert_eq!(
            store.station_lexicon().unwrap().get("UBND"),
            Some("Ủy ban nhân dân")
        );
        assert_eq!(store.remove_lexicon_entry(added.id).unwrap(), added);
        assert_eq!(store.lexicon_version().unwrap(), v0 + 2);
        assert!(store.lexicon_entries().unwrap().is_empty());
        assert!(matches!(
            store.remove_lexicon_entry(added.id),
            Err(StoreError::NotFound { .. })
        ));
    }

    #[test]
    fn removes_a_key_with_one_context_or_all() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let imported = store
            .import_lexicon(
                "test.tsv",
                "TP\tthành phố\t\t\nTP\ttrung phong\tbóng đá\t\nQL\tquốc lộ\t\t\n",
                "t",
            )
            .unwrap();
        assert_eq!(imported, 3);
        // A row imported again replaces the stored one.
        store
            .import_lexicon("again.tsv", "QL\tquản lý\t\tsửa\n", "t2")
            .unwrap();
        let listed = store.lexicon_entries().unwrap();
        assert_eq!(listed.len(), 3);
        assert_eq!(
            (listed[0].key.as_str(), listed[0].spoken.as_str()),
            ("QL", "quản lý")
        );
        let one = store.remove_lexicon_key("TP", Some("bóng đá")).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].spoken, "trung phong");
        assert!(matches!(
            store.remove_lexicon_key("TP", Some("bóng đá")),
            Err(StoreError::NotFound { .. })
        ));
        store
            .import_lexicon("x.tsv", "TP\ttrung phong\tbóng đá\t\n", "t")
            .unwrap();
        let both = store.remove_lexicon_key("TP", None).unwrap();
        assert_eq!(
            both.iter().map(|e| e.context.as_str()).collect::<Vec<_>>(),
            ["", "bóng đá"]
        );
        assert_eq!(store.lexicon_entries().unwrap().len(), 1);
    }

    #[test]
    fn a_station_sees_and_changes_only_its_own_entries() {
        let dir = tempfile::tempdir().unwrap();
        let first = testing::open(dir.path());
        let second = testing::add_station(&first, "huyen-b").unwrap();
        let ours = first
            .add_lexicon_entry(&entry("UBND", "Ủy ban nhân dân", ""), "a")
            .unwrap();
        first
            .import_lexicon("a.tsv", "HY\tHưng Yên\t\t\n", "a")
            .unwrap();
        let first_entries = first.lexicon_entries().unwrap();
        let first_version = first.lexicon_version().unwrap();

        assert!(second.lexicon_entries().unwrap().is_empty());
        assert_eq!(second.lexicon_version().unwrap(), 0);
        assert_eq!(second.station_lexicon().unwrap().get("UBND"), None);
        assert!(matches!(
            second.remove_lexicon_entry(ours.id),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            second.remove_lexicon_key("HY", None),
            Err(StoreError::NotFound { .. })
        ));
        // The same key and context is the second station's own entry, no conflict.
        let theirs = second
            .add_lexicon_entry(&entry("UBND", "U bê en đê", ""), "b")
            .unwrap();
        second
            .import_lexicon("b.tsv", "HY\thát ý\t\t\n", "b")
            .unwrap();
        assert_eq!(second.lexicon_entries().unwrap().len(), 2);
        assert_eq!(second.lexicon_version().unwrap(), 2);
        assert_eq!(
            second.station_lexicon().unwrap().get("UBND"),
            Some("U bê en đê")
        );
        second.remove_lexicon_entry(theirs.id).unwrap();
        second.remove_lexicon_key("HY", None).unwrap();

        assert_eq!(first.lexicon_entries().unwrap(), first_entries);
        assert_eq!(first.lexicon_version().unwrap(), first_version);
        assert_eq!(
            first.station_lexicon().unwrap().get("UBND"),
            Some("Ủy ban nhân dân")
        );
        assert!(matches!(
            first.remove_lexicon_entry(theirs.id),
            Err(StoreError::NotFound { .. })
        ));
        // A store of a station that does not exist has no version to read.
        assert!(matches!(
            first.for_station(9999).lexicon_version(),
            Err(StoreError::NotFound {
                what: "station",
                ..
            })
        ));
    }

    #[test]
    fn imports_the_lexicon_file_into_the_default_station_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let database = testing::fresh_database();
        let open = || Store::open_with(dir.path(), database.as_deref());
        std::fs::write(dir.path().join(LEXICON_FILE), "HY\tHưng Yên\t\t\n").unwrap();
        let store = open().unwrap();
        assert_eq!(store.lexicon_entries().unwrap()[0].spoken, "Hưng Yên");
        let other = testing::add_station(&store, "huyen-c").unwrap();
        assert!(other.lexicon_entries().unwrap().is_empty());
        let removed = store.remove_lexicon_key("HY", None).unwrap();
        assert_eq!(removed.len(), 1);
        drop(store);
        // Unchanged file: not imported again, the removal stands.
        let store = open().unwrap();
        assert!(store.lexicon_entries().unwrap().is_empty());
        drop(store);
        std::fs::write(
            dir.path().join(LEXICON_FILE),
            "HY\tHưng Yên\t\t\nX\tbad 2\t\t\n",
        )
        .unwrap();
        let err = open().unwrap_err();
        assert!(err.to_string().contains(":2:"), "{err}");
        std::fs::write(dir.path().join(LEXICON_FILE), "HY\thưng yên\t\t\n").unwrap();
        let store = open().unwrap();
        assert_eq!(store.lexicon_entries().unwrap()[0].spoken, "hưng yên");
        assert!(
            store
                .for_station(other.station())
                .lexicon_entries()
                .unwrap()
                .is_empty()
        );
    }
}
