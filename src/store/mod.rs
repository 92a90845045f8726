//! The station's persistent state: one SQLite database (`bantin.sqlite3`,
//! WAL) in the data directory and rendered audio beside it in `audio/`,
//! each file named by the SHA-256 of its bytes and written atomically.
//!
//! Owns the schema (numbered migrations in `migrations/NNN_name.sql`, one
//! transaction each, the version in `PRAGMA user_version`; a database newer
//! than this binary is refused), articles and their revisions, render jobs
//! (claimed atomically), the audio cache, station lexicon entries and API
//! tokens (hashed), webhooks and what is owed to them. Knows nothing of HTTP; the server and the CLI both go
//! through [`Store`].
//!
//! The SQL stays close to what PostgreSQL runs (see the notes in the
//! migrations), so a shared queue for several stations can move there: the
//! job claim becomes `... FOR UPDATE SKIP LOCKED`.
//!
//! Adding a table: write `migrations/NNN_name.sql` with the next number, add
//! it to [`MIGRATIONS`], and put its queries in a new file of this module as
//! `impl Store { ... }` methods that go through [`Store::read`] and
//! [`Store::write`].

mod articles;
mod audio;
mod bulletins;
mod jobs;
mod lexicon;
mod tokens;
mod usage;
mod webhooks;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

pub use articles::{ArticleSummary, NewRevision, Revision, RevisionBody};
pub use audio::{AudioEntry, NewAudio};
pub use bulletins::ApprovedItem;
pub use jobs::{Job, JobCheck, JobState};
pub use lexicon::{NewLexiconEntry, StationEntry};
pub use tokens::{ApiToken, Scope};
pub use usage::JobCost;
pub use webhooks::{
    AttemptOutcome, Delivery, DeliveryState, DueDelivery, Event, Webhook, now_ms, validate_url,
};

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "bantin.sqlite3";
/// The audio folder inside the data directory.
pub const AUDIO_DIR: &str = "audio";
/// Prefix and suffix of temporary files written by [`crate::output::write_atomic`];
/// left over only by a killed process, removed when the store opens.
const PARTIAL_PREFIX: &str = ".bantin-";
const PARTIAL_SUFFIX: &str = ".part";

/// Migrations in order; the schema version is the number of those applied.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("001_initial", include_str!("migrations/001_initial.sql")),
    (
        "002_bulletins",
        include_str!("migrations/002_bulletins.sql"),
    ),
    (
        "003_listen_check",
        include_str!("migrations/003_listen_check.sql"),
    ),
    ("004_usage", include_str!("migrations/004_usage.sql")),
    ("005_webhooks", include_str!("migrations/005_webhooks.sql")),
];

/// Connections kept open. SQLite serializes writers anyway; a few readers
/// run in parallel under WAL.
const MAX_CONNECTIONS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store in {path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the database {path} has schema version {found}, newer than this bantin knows ({known}); run a newer bantin"
    )]
    NewerSchema {
        path: String,
        found: i64,
        known: usize,
    },
    #[error("migration {name} failed: {source}")]
    Migration {
        name: &'static str,
        source: rusqlite::Error,
    },
    #[error("database error: {0}")]
    Sql(rusqlite::Error),
    /// Another program holds the database longer than [`BUSY_TIMEOUT`]:
    /// worth trying again shortly.
    #[error(
        "the database is busy: another program has held it for more than {waited:?}; try again in a moment"
    )]
    Busy { waited: Duration },
    /// The disk holding the data directory is full.
    #[error("the disk holding the data directory is full ({what}); free some space and try again")]
    DiskFull { what: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("no {what} {id}")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the store task stopped: {0}")]
    Task(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Busy {
                    waited: BUSY_TIMEOUT,
                }
            }
            Some(rusqlite::ErrorCode::DiskFull) => StoreError::DiskFull {
                what: "the database cannot grow".into(),
            },
            _ => StoreError::Sql(error),
        }
    }
}

impl StoreError {
    /// An I/O error on `path`; a full disk becomes [`StoreError::DiskFull`].
    pub fn io(path: &Path, source: std::io::Error) -> StoreError {
        if source.kind() == std::io::ErrorKind::StorageFull {
            StoreError::DiskFull {
                what: format!("writing {}", path.display()),
            }
        } else {
            StoreError::Io {
                path: path.display().to_string(),
                source,
            }
        }
    }
}

/// How long a write waits for another writer before [`StoreError::Busy`].
/// Our own writes hold the database for milliseconds; waiting longer only
/// delays the answer when another program (a backup, a manual `sqlite3`
/// session) holds it.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// Handle to the data directory's database and audio files. Cheap to clone;
/// every clone shares one small connection pool.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    database: PathBuf,
    pool: Mutex<Pool>,
    returned: Condvar,
}

struct Pool {
    idle: Vec<Connection>,
    open: usize,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.inner.dir)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating when missing) the store in `dir`: migrates the schema,
    /// removes temporary files a killed process left behind and imports
    /// `dir/lexicon.tsv` when it changed since the last import.
    ///
    /// # Errors
    /// [`StoreError::NewerSchema`] for a database written by a newer bantin;
    /// I/O and SQL errors; [`StoreError::Invalid`] for a bad `lexicon.tsv`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let io = |source| StoreError::Open {
            path: dir.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir.join(AUDIO_DIR)).map_err(io)?;
        let database = dir.join(DATABASE_FILE);
        let mut conn = open_connection(&database)?;
        // WAL lets readers run beside the writer; it is a property of the file.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        migrate(&mut conn, &database)?;
        let store = Store {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                database,
                pool: Mutex::new(Pool {
                    idle: vec![conn],
                    open: 1,
                }),
                returned: Condvar::new(),
            }),
        };
        store.remove_partial_files()?;
        store.import_lexicon_file()?;
        Ok(store)
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Runs `f` with a connection (reads, or writes that need no transaction).
    ///
    /// # Errors
    /// Whatever `f` returns.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self.checkout()?;
        let result = f(&conn);
        self.checkin(conn);
        result
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed when `f`
    /// returns `Ok`. Immediate, so two writers never deadlock upgrading locks.
    ///
    /// # Errors
    /// Whatever `f` returns, or the commit's error.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.checkout()?;
        let result = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })();
        self.checkin(conn);
        result
    }

    /// Runs blocking store work off the async runtime.
    ///
    /// # Errors
    /// Whatever `f` returns; [`StoreError::Task`] if the task panicked.
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    fn checkout(&self) -> Result<Connection, StoreError> {
        let mut pool = self.inner.pool.lock().expect("pool lock is never poisoned");
        loop {
            if let Some(conn) = pool.idle.pop() {
                return Ok(conn);
            }
            if pool.open < MAX_CONNECTIONS {
                pool.open += 1;
                drop(pool);
                return open_connection(&self.inner.database).inspect_err(|_| {
                    self.inner
                        .pool
                        .lock()
                        .expect("pool lock is never poisoned")
                        .open -= 1;
                });
            }
            pool = self
                .inner
                .returned
                .wait(pool)
                .expect("pool lock is never poisoned");
        }
    }

    fn checkin(&self, conn: Connection) {
        self.inner
            .pool
            .lock()
            .expect("pool lock is never poisoned")
            .idle
            .push(conn);
        self.inner.returned.notify_one();
    }

    /// Removes temporary files left by a process killed while writing.
    fn remove_partial_files(&self) -> Result<(), StoreError> {
        for dir in [self.inner.dir.clone(), self.inner.dir.join(AUDIO_DIR)] {
            let entries = std::fs::read_dir(&dir).map_err(|source| StoreError::Io {
                path: dir.display().to_string(),
                source,
            })?;
            for entry in entries.filter_map(Result::ok) {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.starts_with(PARTIAL_PREFIX) && name.ends_with(PARTIAL_SUFFIX) {
                    tracing::info!(file = %entry.path().display(), "removing a partial file");
                    std::fs::remove_file(entry.path()).map_err(|source| StoreError::Io {
                        path: entry.path().display().to_string(),
                        source,
                    })?;
                }
            }
        }
        Ok(())
    }
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // Writers wait for each other instead of failing with SQLITE_BUSY.
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // In WAL mode NORMAL is durable across process crashes (only a power
    // loss can lose the last commits), and much faster than FULL.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(conn)
}

/// Applies the migrations the database lacks, each in its own transaction
/// together with the version bump.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > MIGRATIONS.len() as i64 {
        return Err(StoreError::NewerSchema {
            path: path.display().to_string(),
            found: version,
            known: MIGRATIONS.len(),
        });
    }
    for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let migration = |source| StoreError::Migration { name, source };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Exclusive)
            .map_err(migration)?;
        tx.execute_batch(sql).map_err(migration)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)
            .map_err(migration)?;
        tx.commit().map_err(migration)?;
        tracing::info!(migration = name, "applied");
    }
    Ok(())
}

/// Now, as RFC 3339 UTC text (sorts as time, portable across databases).
pub(crate) fn now() -> String {
    jiff::Timestamp::now().to_string()
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let store = Store::open(dir.path()).unwrap();
        let version: i64 = store
            .read(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        store
            .read(|c| Ok(c.pragma_update(None, "user_version", 99)?))
            .unwrap();
        drop(store);
        let err = Store::open(dir.path()).unwrap_err();
        assert!(
            matches!(err, StoreError::NewerSchema { found: 99, .. }),
            "{err}"
        );
    }

    #[test]
    fn removes_partial_files_on_open() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let partial = dir.path().join(AUDIO_DIR).join(".bantin-abc.part");
        std::fs::write(&partial, b"half").unwrap();
        drop(Store::open(dir.path()).unwrap());
        assert!(!partial.exists());
    }

    #[test]
    fn a_write_to_a_database_another_connection_holds_is_busy() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let holder = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let err = store
            .write(|tx| Ok(tx.execute("INSERT INTO meta (name, value) VALUES ('x', 'y')", [])?))
            .unwrap_err();
        assert!(matches!(err, StoreError::Busy { .. }), "{err}");
        holder.execute_batch("ROLLBACK").unwrap();
        store
            .write(|tx| Ok(tx.execute("INSERT INTO meta (name, value) VALUES ('x', 'y')", [])?))
            .unwrap();
    }

    #[test]
    fn a_full_disk_is_named() {
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let err = StoreError::io(Path::new("/data/audio/x.wav"), full);
        assert!(matches!(err, StoreError::DiskFull { .. }), "{err}");
        assert!(err.to_string().contains("full"), "{err}");
    }
}
