//! Station lexicon entries: the readings staff correct. Each entry passes the
//! same validation as the shipped tables (`normalize::Lexicon::parse`), and
//! every change bumps `lexicon_version`, so readers rebuild their normalizer
//! and the next review uses it. `DATA/lexicon.tsv`, the file stations used
//! before the store, is imported whenever its content changes.

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, now, sha256_hex};
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

fn entry_row(row: &Row<'_>) -> rusqlite::Result<StationEntry> {
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
        self.read_sqlite(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} FROM lexicon_entries ORDER BY key, context"
            ))?;
            Ok(stmt.query_map([], entry_row)?.collect::<Result<_, _>>()?)
        })
    }

    /// Bumped on every lexicon change.
    ///
    /// # Errors
    /// SQL errors.
    pub fn lexicon_version(&self) -> Result<i64, StoreError> {
        self.read_sqlite(|c| {
            let text: String = c
                .prepare_cached("SELECT value FROM meta WHERE name = 'lexicon_version'")?
                .query_row([], |r| r.get(0))?;
            Ok(text.parse().unwrap_or(0))
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
        self.write_sqlite(|tx| {
            let twin: Option<i64> = tx
                .query_row(
                    "SELECT id FROM lexicon_entries WHERE key = ?1 AND context = ?2",
                    params![entry.key, entry.context],
                    |r| r.get(0),
                )
                .optional()?;
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
            tx.execute(
                "INSERT INTO lexicon_entries (key, spoken, context, comment, author, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    entry.key,
                    entry.spoken,
                    entry.context,
                    entry.comment,
                    author,
                    now()
                ],
            )?;
            let id = tx.last_insert_rowid();
            bump_version(tx)?;
            Ok(tx.query_row(
                &format!("SELECT {ENTRY_COLUMNS} FROM lexicon_entries WHERE id = ?1"),
                [id],
                entry_row,
            )?)
        })
    }

    /// Removes one entry by id.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn remove_lexicon_entry(&self, id: i64) -> Result<StationEntry, StoreError> {
        self.write_sqlite(|tx| {
            let entry = tx
                .query_row(
                    &format!("SELECT {ENTRY_COLUMNS} FROM lexicon_entries WHERE id = ?1"),
                    [id],
                    entry_row,
                )
                .optional()?
                .ok_or_else(|| StoreError::NotFound {
                    what: "lexicon entry",
                    id: id.to_string(),
                })?;
            tx.execute("DELETE FROM lexicon_entries WHERE id = ?1", [id])?;
            bump_version(tx)?;
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
        self.write_sqlite(|tx| {
            let mut stmt = tx.prepare(&format!(
                "SELECT {ENTRY_COLUMNS} FROM lexicon_entries WHERE key = ?1 \
                 AND (?2 IS NULL OR context = ?2)"
            ))?;
            let removed: Vec<StationEntry> = stmt
                .query_map(params![key, context], entry_row)?
                .collect::<Result<_, _>>()?;
            if removed.is_empty() {
                return Err(StoreError::NotFound {
                    what: "lexicon entry for",
                    id: format!("{key:?}"),
                });
            }
            for entry in &removed {
                tx.execute("DELETE FROM lexicon_entries WHERE id = ?1", [entry.id])?;
            }
            bump_version(tx)?;
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
        self.write_sqlite(|tx| {
            let at = now();
            let entries = lexicon.entries();
            for e in &entries {
                tx.execute(
                    "INSERT INTO lexicon_entries (key, spoken, context, comment, author, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (key, context) DO UPDATE SET \
                     spoken = excluded.spoken, comment = excluded.comment, \
                     author = excluded.author, created_at = excluded.created_at",
                    params![e.key, e.spoken, e.context.join("|"), e.comment, author, at],
                )?;
            }
            bump_version(tx)?;
            Ok(entries.len())
        })
    }

    /// Imports `DATA/lexicon.tsv` when its content differs from the last import.
    pub(super) fn import_lexicon_file(&self) -> Result<(), StoreError> {
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
        let last: Option<String> = self.read_sqlite(|c| {
            Ok(c.query_row(
                "SELECT value FROM meta WHERE name = 'lexicon_file_sha256'",
                [],
                |r| r.get(0),
            )
            .optional()?)
        })?;
        if last.as_deref() == Some(hash.as_str()) {
            return Ok(());
        }
        let count = self.import_lexicon(&path.display().to_string(), &text, LEXICON_FILE)?;
        self.write_sqlite(|tx| {
            tx.execute(
                "INSERT INTO meta (name, value) VALUES ('lexicon_file_sha256', ?1) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                [&hash],
            )?;
            Ok(())
        })?;
        tracing::info!(file = %path.display(), entries = count, "imported station lexicon");
        Ok(())
    }
}

fn bump_version(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) \
         WHERE name = 'lexicon_version'",
        [],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let store = Store::open(dir.path()).unwrap();
        let v0 = store.lexicon_version().unwrap();
        let added = store
            .add_lexicon_entry(&entry("UBND", "Ủy ban nhân dân", "Tỉnh | Huyện"), "t")
            .unwrap();
        assert_eq!(added.context, "tỉnh|huyện");
        assert!(store.lexicon_version().unwrap() > v0);
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
        assert_eq!(store.lexicon_entries().unwrap().len(), 1);
        assert_eq!(
            store.station_lexicon().unwrap().get("UBND"),
            Some("Ủy ban nhân dân")
        );
        store.remove_lexicon_entry(added.id).unwrap();
        assert!(store.lexicon_entries().unwrap().is_empty());
    }

    #[test]
    fn imports_the_lexicon_file_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LEXICON_FILE), "HY\tHưng Yên\t\t\n").unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.lexicon_entries().unwrap()[0].spoken, "Hưng Yên");
        let removed = store.remove_lexicon_key("HY", None).unwrap();
        assert_eq!(removed.len(), 1);
        drop(store);
        // Unchanged file: not imported again, the removal stands.
        let store = Store::open(dir.path()).unwrap();
        assert!(store.lexicon_entries().unwrap().is_empty());
        drop(store);
        std::fs::write(
            dir.path().join(LEXICON_FILE),
            "HY\tHưng Yên\t\t\nX\tbad 2\t\t\n",
        )
        .unwrap();
        let err = Store::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains(":2:"), "{err}");
    }
}
