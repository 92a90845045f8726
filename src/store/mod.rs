//! Every station's persistent state: its rows in one database, and rendered
//! audio in `audio/` beside it, each file named by the SHA-256 of its bytes
//! and written atomically.
//!
//! The database is SQLite in the data directory (`bantin.sqlite3`, WAL: the
//! embedded default, one station, one process) or PostgreSQL (`--database
//! postgres://…`: a platform of many stations, several `serve` nodes and
//! `bantin worker` processes, with the data directory shared between them).
//! Every query goes through [`Db`] and is written once for both engines.
//!
//! Owns the schema (numbered migrations per engine: `migrations/NNN_name.sql`
//! for SQLite, the version in `PRAGMA user_version`; `migrations/postgres/`
//! for PostgreSQL, recorded in `schema_migrations`; a database newer than
//! this binary is refused), stations, articles and their revisions, render
//! jobs and the queue workers share (claimed with `FOR UPDATE SKIP LOCKED`
//! and a lease on PostgreSQL), the audio cache, station lexicon entries and
//! API tokens (hashed), webhooks and what is owed to them. Knows nothing of
//! HTTP; the server, the workers and the CLI all go through [`Store`].
//!
//! A [`Store`] is scoped to one station ([`Store::for_station`]): its
//! queries see and change only that station's rows. Methods documented as
//! platform-wide (stations, the job queue's claim, authentication by
//! secret, the webhook sender) see every station.
//!
//! Adding a table: write the next migration for each engine, add them to
//! [`MIGRATIONS`] and [`POSTGRES_MIGRATIONS`], and put its queries in a new
//! file of this module as `impl Store { ... }` methods that go through
//! [`Store::read`] and [`Store::write`], filtering by [`Store::station`].

mod approvals;
mod articles;
mod audio;
mod audit;
mod bulletins;
pub mod db;
mod jobs;
mod lexicon;
mod stations;
#[doc(hidden)]
pub mod testing;
mod tokens;
mod usage;
mod webhooks;
mod workers;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

pub use approvals::{Approval, ApprovalState};
pub use articles::{ArticleSummary, NewRevision, Revision, RevisionBody};
pub use audio::{AudioEntry, NewAudio};
pub use audit::{Actor, AuditAction, AuditEvent, AuditFilter, NewAuditEvent};
pub use bulletins::ApprovedItem;
pub use db::{Db, Engine, Row};
pub use jobs::{Job, JobCheck, JobState};
pub use lexicon::{NewLexiconEntry, StationEntry};
pub use stations::{Station, validate_slug};
pub use tokens::{ApiToken, Scope, UNNAMED_PERSON};
pub use usage::JobCost;
pub use webhooks::{
    AttemptOutcome, Delivery, DeliveryState, DueDelivery, Event, Webhook, now_ms, validate_url,
};
pub use workers::{QueueStats, Worker};

use db::PgConnection;

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "bantin.sqlite3";
/// The audio folder inside the data directory.
pub const AUDIO_DIR: &str = "audio";
/// Prefix and suffix of temporary files written by [`crate::output::write_atomic`];
/// left over only by a killed process, removed when the store opens.
const PARTIAL_PREFIX: &str = ".bantin-";
const PARTIAL_SUFFIX: &str = ".part";

/// A station's id. Station [`DEFAULT_STATION`] is the single-station install.
pub type StationId = i64;
/// The station a single-station install (and every row from before stations) belongs to.
pub const DEFAULT_STATION: StationId = 1;

/// SQLite migrations in order; the schema version is the number of those applied.
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
    ("006_workflow", include_str!("migrations/006_workflow.sql")),
    ("007_stations", include_str!("migrations/007_stations.sql")),
];

/// PostgreSQL migrations in order, recorded in `schema_migrations`. The
/// platform began on PostgreSQL with stations, so its first migration is
/// the schema SQLite reaches after all of [`MIGRATIONS`].
pub const POSTGRES_MIGRATIONS: &[(&str, &str)] = &[(
    "001_platform",
    include_str!("migrations/postgres/001_platform.sql"),
)];

/// SQLite connections kept open. SQLite serializes writers anyway; a few
/// readers run in parallel under WAL.
const MAX_SQLITE_CONNECTIONS: usize = 8;
/// PostgreSQL connections per process. Each serve node and worker holds its
/// own; PostgreSQL's default `max_connections` (100) fits a dozen nodes.
const MAX_POSTGRES_CONNECTIONS: usize = 8;

/// Advisory-lock keys (the first of two 32-bit keys) bantin takes on PostgreSQL.
const LOCK_MIGRATIONS: i32 = 0x6261_6e00; // "ban\0"
const LOCK_STATION_WRITES: i32 = 0x6261_6e01;

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
    #[error("migration {name} failed: {detail}")]
    Migration { name: &'static str, detail: String },
    #[error("database error: {0}")]
    Sql(String),
    /// Another program holds the database longer than [`BUSY_TIMEOUT`]:
    /// worth trying again shortly.
    #[error(
        "the database is busy: another program has held it for more than {waited:?}; try again in a moment"
    )]
    Busy { waited: Duration },
    /// The database server cannot be reached (PostgreSQL down or restarting).
    #[error("the database is unreachable: {0}")]
    Unavailable(String),
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
            _ => StoreError::Sql(error.to_string()),
        }
    }
}

impl From<postgres::Error> for StoreError {
    fn from(error: postgres::Error) -> Self {
        use postgres::error::SqlState;
        match error.code() {
            Some(code)
                if *code == SqlState::T_R_SERIALIZATION_FAILURE
                    || *code == SqlState::T_R_DEADLOCK_DETECTED
                    || *code == SqlState::LOCK_NOT_AVAILABLE =>
            {
                StoreError::Busy {
                    waited: BUSY_TIMEOUT,
                }
            }
            Some(code) if *code == SqlState::DISK_FULL => StoreError::DiskFull {
                what: "the database server's disk".into(),
            },
            Some(_) => match error.as_db_error() {
                Some(db) => StoreError::Sql(db.message().to_owned()),
                None => StoreError::Sql(error.to_string()),
            },
            None if error.is_closed() => StoreError::Unavailable(error.to_string()),
            None => StoreError::Unavailable(error.to_string()),
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

/// Handle to the station's rows and the audio files. Cheap to clone; every
/// clone shares one small connection pool. A store is scoped to one station
/// ([`Store::for_station`]): its queries see only that station's rows.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
    station: StationId,
}

struct Inner {
    dir: PathBuf,
    backend: Backend,
}

enum Backend {
    Sqlite {
        path: PathBuf,
        pool: Pool<Connection>,
    },
    Postgres {
        config: Box<postgres::Config>,
        /// The URL without its password, for messages.
        shown: String,
        pool: Pool<PgConnection>,
    },
}

/// A few connections, opened on demand and reused.
struct Pool<C> {
    state: Mutex<PoolState<C>>,
    returned: Condvar,
    max: usize,
}

struct PoolState<C> {
    idle: Vec<C>,
    open: usize,
}

impl<C> Pool<C> {
    fn new(first: C, max: usize) -> Pool<C> {
        Pool {
            state: Mutex::new(PoolState {
                idle: vec![first],
                open: 1,
            }),
            returned: Condvar::new(),
            max,
        }
    }

    fn checkout(&self, open: impl FnOnce() -> Result<C, StoreError>) -> Result<C, StoreError> {
        let mut state = self.state.lock().expect("pool lock is never poisoned");
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(conn);
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                return open().inspect_err(|_| self.forget());
            }
            state = self
                .returned
                .wait(state)
                .expect("pool lock is never poisoned");
        }
    }

    fn checkin(&self, conn: C) {
        self.state
            .lock()
            .expect("pool lock is never poisoned")
            .idle
            .push(conn);
        self.returned.notify_one();
    }

    /// A checked-out connection was dropped (broken): make room for a new one.
    fn forget(&self) {
        self.state.lock().expect("pool lock is never poisoned").open -= 1;
        self.returned.notify_one();
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.inner.dir)
            .field("engine", &self.engine())
            .field("station", &self.station)
            .finish_non_exhaustive()
    }
}

/// Whether a `--database` value names PostgreSQL.
pub fn is_postgres_url(database: &str) -> bool {
    database.starts_with("postgres://") || database.starts_with("postgresql://")
}

impl Store {
    /// Opens (creating when missing) the SQLite store in `dir`: migrates the
    /// schema, removes temporary files a killed process left behind and
    /// imports `dir/lexicon.tsv` when it changed since the last import.
    ///
    /// # Errors
    /// [`StoreError::NewerSchema`] for a database written by a newer bantin;
    /// I/O and SQL errors; [`StoreError::Invalid`] for a bad `lexicon.tsv`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, None)
    }

    /// Opens the store whose audio lives in `dir` and whose rows live in
    /// `database`: a `postgres://` URL, or `None` for SQLite in `dir`.
    /// On PostgreSQL `dir` is the shared directory every node reaches.
    ///
    /// # Errors
    /// As [`Store::open`]; [`StoreError::Unavailable`] when PostgreSQL
    /// cannot be reached.
    pub fn open_with(dir: &Path, database: Option<&str>) -> Result<Store, StoreError> {
        let io = |source| StoreError::Open {
            path: dir.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir.join(AUDIO_DIR)).map_err(io)?;
        let backend = match database {
            Some(url) if is_postgres_url(url) => open_postgres(url)?,
            Some(other) => {
                return Err(StoreError::Invalid(format!(
                    "--database {other:?} is not a postgres:// URL (leave it out for SQLite in the data directory)"
                )));
            }
            None => {
                let path = dir.join(DATABASE_FILE);
                let mut conn = open_connection(&path)?;
                // WAL lets readers run beside the writer; it is a property of the file.
                conn.pragma_update(None, "journal_mode", "WAL")?;
                migrate_sqlite(&mut conn, &path)?;
                Backend::Sqlite {
                    path,
                    pool: Pool::new(conn, MAX_SQLITE_CONNECTIONS),
                }
            }
        };
        let store = Store {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                backend,
            }),
            station: DEFAULT_STATION,
        };
        store.remove_partial_files()?;
        store.import_lexicon_file()?;
        Ok(store)
    }

    /// The same store, seeing only `station`'s rows.
    pub fn for_station(&self, station: StationId) -> Store {
        Store {
            inner: Arc::clone(&self.inner),
            station,
        }
    }

    /// The station this store's queries are scoped to.
    pub fn station(&self) -> StationId {
        self.station
    }

    /// The data directory (on PostgreSQL, the shared audio directory).
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub fn engine(&self) -> Engine {
        match self.inner.backend {
            Backend::Sqlite { .. } => Engine::Sqlite,
            Backend::Postgres { .. } => Engine::Postgres,
        }
    }

    /// Where the rows live, for messages: the SQLite file, or the
    /// PostgreSQL URL without its password.
    pub fn location(&self) -> String {
        match &self.inner.backend {
            Backend::Sqlite { path, .. } => path.display().to_string(),
            Backend::Postgres { shown, .. } => shown.clone(),
        }
    }

    /// Runs `f` with a connection: reads, or single statements. On
    /// PostgreSQL `f` runs in a transaction of its own.
    ///
    /// # Errors
    /// Whatever `f` returns.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Db<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.run(false, f)
    }

    /// Runs `f` in one transaction, committed when `f` returns `Ok`.
    /// Writers of one station never interleave: SQLite takes the database
    /// (`BEGIN IMMEDIATE`, so two writers never deadlock upgrading locks);
    /// PostgreSQL takes a lock on the station for the transaction, the same
    /// guarantee, while other stations write beside it.
    ///
    /// # Errors
    /// Whatever `f` returns, or the commit's error.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&Db<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.run(true, f)
    }

    fn run<T>(
        &self,
        station_lock: bool,
        f: impl FnOnce(&Db<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &self.inner.backend {
            Backend::Sqlite { path, pool } => {
                let mut conn = pool.checkout(|| open_connection(path))?;
                let result = if station_lock {
                    (|| {
                        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                        let value = f(&Db::sqlite(&tx))?;
                        tx.commit()?;
                        Ok(value)
                    })()
                } else {
                    f(&Db::sqlite(&conn))
                };
                pool.checkin(conn);
                result
            }
            Backend::Postgres { config, pool, .. } => outside_runtime(|| {
                let mut conn = pool.checkout(|| connect_postgres(config))?;
                let result = (|| {
                    let db = Db::postgres(conn.transaction()?);
                    let value = (|| {
                        if station_lock {
                            db.execute(
                                "SELECT pg_advisory_xact_lock(?1, ?2)",
                                [LOCK_STATION_WRITES, station_lock_key(self.station)],
                            )?;
                        }
                        f(&db)
                    })();
                    db.finish(value.is_ok())?;
                    value
                })();
                if conn.is_closed() {
                    pool.forget();
                } else {
                    pool.checkin(conn);
                }
                result
            }),
        }
    }

    /// Runs `f` in one transaction without taking the station: for the
    /// shared queue, whose rows are claimed one by one (`FOR UPDATE SKIP
    /// LOCKED` on PostgreSQL), so workers never wait for each other.
    ///
    /// # Errors
    /// Whatever `f` returns, or the commit's error.
    pub fn write_queue<T>(
        &self,
        f: impl FnOnce(&Db<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self.engine() {
            // SQLite has one writer at a time anyway.
            Engine::Sqlite => self.run(true, f),
            Engine::Postgres => self.run(false, f),
        }
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

/// Runs blocking PostgreSQL work where it may block: the `postgres`
/// client drives its own runtime, which cannot start on a thread that is
/// driving async tasks (a store call made from async code, such as the
/// bulletin scheduler's). On a multi-threaded runtime the work moves off the
/// worker thread for its duration; elsewhere it runs as it is.
fn outside_runtime<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Station ids fit the advisory lock's 32-bit key; larger ids share keys,
/// which only makes two stations wait for each other.
fn station_lock_key(station: StationId) -> i32 {
    (station & 0x7fff_ffff) as i32
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
fn migrate_sqlite(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > MIGRATIONS.len() as i64 {
        return Err(StoreError::NewerSchema {
            path: path.display().to_string(),
            found: version,
            known: MIGRATIONS.len(),
        });
    }
    for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let migration = |source: rusqlite::Error| StoreError::Migration {
            name,
            detail: source.to_string(),
        };
        // Copying a table that others reference needs the foreign keys off
        // (a pragma outside the transaction); they are checked before commit.
        conn.pragma_update(None, "foreign_keys", "OFF")
            .map_err(migration)?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Exclusive)
            .map_err(migration)?;
        tx.execute_batch(sql).map_err(migration)?;
        let broken: i64 = tx
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .map_err(migration)?;
        if broken > 0 {
            return Err(StoreError::Migration {
                name,
                detail: format!("{broken} rows would break a foreign key"),
            });
        }
        tx.pragma_update(None, "user_version", index as i64 + 1)
            .map_err(migration)?;
        tx.commit().map_err(migration)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(migration)?;
        tracing::info!(migration = name, "applied");
    }
    Ok(())
}

fn connect_postgres(config: &postgres::Config) -> Result<PgConnection, StoreError> {
    let client = config
        .connect(postgres::NoTls)
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    Ok(PgConnection::new(client))
}

/// The URL with its password replaced, for logs and messages.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn open_postgres(url: &str) -> Result<Backend, StoreError> {
    let shown = redact_url(url);
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e| StoreError::Invalid(format!("{shown} is not a PostgreSQL URL: {e}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.application_name("bantin");
    let mut conn =
        connect_postgres(&config).map_err(|e| StoreError::Unavailable(format!("{shown}: {e}")))?;
    migrate_postgres(conn.client(), &shown)?;
    Ok(Backend::Postgres {
        config: Box::new(config),
        shown,
        pool: Pool::new(conn, MAX_POSTGRES_CONNECTIONS),
    })
}

/// Applies the PostgreSQL migrations the database lacks, under a lock so
/// that nodes starting together migrate once.
fn migrate_postgres(client: &mut postgres::Client, shown: &str) -> Result<(), StoreError> {
    client.execute("SELECT pg_advisory_lock($1, 0)", &[&LOCK_MIGRATIONS])?;
    let result = (|| {
        client.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version INTEGER PRIMARY KEY,
                 name TEXT NOT NULL,
                 applied_at TEXT NOT NULL
             )",
        )?;
        let version: i32 = client
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )?
            .get(0);
        if version as usize > POSTGRES_MIGRATIONS.len() {
            return Err(StoreError::NewerSchema {
                path: shown.to_owned(),
                found: version.into(),
                known: POSTGRES_MIGRATIONS.len(),
            });
        }
        for (index, (name, sql)) in POSTGRES_MIGRATIONS
            .iter()
            .enumerate()
            .skip(version as usize)
        {
            let migration = |source: postgres::Error| StoreError::Migration {
                name,
                detail: source
                    .as_db_error()
                    .map_or_else(|| source.to_string(), |db| db.message().to_owned()),
            };
            let mut tx = client.transaction().map_err(migration)?;
            tx.batch_execute(sql).map_err(migration)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                &[&(index as i32 + 1), name, &now()],
            )
            .map_err(migration)?;
            tx.commit().map_err(migration)?;
            tracing::info!(migration = name, "applied");
        }
        Ok(())
    })();
    client.execute("SELECT pg_advisory_unlock($1, 0)", &[&LOCK_MIGRATIONS])?;
    result
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
    use super::db::params;
    use super::*;

    #[test]
    fn migrates_once_and_refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let store = Store::open(dir.path()).unwrap();
        let version: i64 = store
            .read(|c| c.query_row("PRAGMA user_version", params![], |r| r.get(0)))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        store
            .read(|c| c.execute_batch("PRAGMA user_version = 99"))
            .unwrap();
        drop(store);
        let err = Store::open(dir.path()).unwrap_err();
        assert!(
            matches!(err, StoreError::NewerSchema { found: 99, .. }),
            "{err}"
        );
    }

    #[test]
    fn opens_on_the_engine_of_the_test_run_with_the_default_station() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        assert_eq!(store.station(), DEFAULT_STATION);
        let slug: String = store
            .read(|db| {
                db.query_row(
                    "SELECT slug FROM stations WHERE id = ?1",
                    [DEFAULT_STATION],
                    |r| r.get(0),
                )
            })
            .unwrap();
        assert_eq!(slug, "default");
        let other = testing::add_station(&store, "quan-mot").unwrap();
        assert_ne!(other.station(), DEFAULT_STATION);
        assert!(
            testing::add_station(&store, "quan-mot").is_err(),
            "a slug is taken once"
        );
        if std::env::var(testing::DATABASE_VARIABLE).is_ok() {
            assert_eq!(store.engine(), Engine::Postgres);
        }
    }

    #[test]
    fn a_url_shows_without_its_password() {
        assert_eq!(
            redact_url("postgres://bantin:secret@db.tinh:5432/bantin"),
            "postgres://bantin:***@db.tinh:5432/bantin"
        );
        assert_eq!(
            redact_url("postgres://bantin@db/x"),
            "postgres://bantin@db/x"
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
            .write(|tx| {
                tx.execute(
                    "INSERT INTO meta (name, value) VALUES ('x', 'y')",
                    params![],
                )
            })
            .unwrap_err();
        assert!(matches!(err, StoreError::Busy { .. }), "{err}");
        holder.execute_batch("ROLLBACK").unwrap();
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO meta (name, value) VALUES ('x', 'y')",
                    params![],
                )
            })
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
