//! Stores for tests, on the engine the test run names: SQLite in the
//! test's directory by default, or a fresh database on the PostgreSQL
//! server named by `BANTIN_TEST_DATABASE` (`scripts/postgres-test start`
//! prints one), so the same tests run against both engines.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use super::{Store, StoreError, db::params, now};

/// The variable naming a PostgreSQL server (a `postgres://` URL whose
/// database the tests may create databases from).
pub const DATABASE_VARIABLE: &str = "BANTIN_TEST_DATABASE";

/// A fresh database for one test: `None` for SQLite, or the URL of a new,
/// empty PostgreSQL database.
///
/// # Panics
/// When the PostgreSQL server named by [`DATABASE_VARIABLE`] refuses.
pub fn fresh_database() -> Option<String> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let server = std::env::var(DATABASE_VARIABLE)
        .ok()
        .filter(|u| !u.is_empty())?;
    let name = format!(
        "bantin_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        jiff::Timestamp::now().as_millisecond()
    );
    let mut client = postgres::Client::connect(&server, postgres::NoTls)
        .unwrap_or_else(|e| panic!("{DATABASE_VARIABLE}={server}: {e}"));
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("creating {name} on {server}: {e}"));
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (server.as_str(), String::new()),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    Some(format!("{base}/{name}{query}"))
}

/// Opens a store for a test in `dir`, on the engine of the test run.
///
/// # Panics
/// When the store cannot be opened.
pub fn open(dir: &Path) -> Store {
    Store::open_with(dir, fresh_database().as_deref()).expect("the test store opens")
}

/// Adds a station with `slug` and returns the store scoped to it.
///
/// # Errors
/// SQL errors (a slug taken twice).
pub fn add_station(store: &Store, slug: &str) -> Result<Store, StoreError> {
    let id: i64 = store.write_queue(|db| {
        db.query_row(
            "INSERT INTO stations (slug, name, created_at) VALUES (?1, ?2, ?3) RETURNING id",
            params![slug, format!("Đài {slug}"), now()],
            |r| r.get(0),
        )
    })?;
    Ok(store.for_station(id))
}

/// Adds an article with one revision to `store`'s station, written
/// directly so a test of another table does not depend on the article
/// queries; returns its id.
///
/// # Errors
/// SQL errors.
pub fn add_article(store: &Store, title: &str) -> Result<i64, StoreError> {
    store.write(|db| {
        let at = now();
        let id: i64 = db.query_row(
            "INSERT INTO articles (station_id, title, latest_revision, created_at, updated_at) \
             VALUES (?1, ?2, 1, ?3, ?3) RETURNING id",
            params![store.station(), title, at],
            |r| r.get(0),
        )?;
        db.execute(
            "INSERT INTO article_revisions (article_id, revision, title, content_type, body, \
             body_sha256, author, created_at) VALUES (?1, 1, ?2, 'text/plain', ?3, ?4, 'test', ?5)",
            params![
                id,
                title,
                title.as_bytes(),
                super::sha256_hex(title.as_bytes()),
                at
            ],
        )?;
        Ok(id)
    })
}

/// Adds an entry to the audio cache under `cache_key` (no file behind it),
/// so a test can finish a render job with it.
///
/// # Errors
/// SQL errors (a key taken twice).
pub fn add_audio(store: &Store, cache_key: &str) -> Result<(), StoreError> {
    store.write(|db| {
        db.execute(
            "INSERT INTO audio (cache_key, file_sha256, bytes, duration_ms, loudness_lufs, \
             true_peak_dbtp, script_json, created_at) \
             VALUES (?1, ?2, 1, 1, -23.0, -1.0, '{}', ?3)",
            params![cache_key, super::sha256_hex(cache_key.as_bytes()), now()],
        )?;
        Ok(())
    })
}
