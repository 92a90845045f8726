//! Rendered audio: WAV files in `audio/` named by the SHA-256 of their bytes,
//! written atomically before the row that points at them is committed (a crash
//! between the two leaves a whole, unreferenced file, never a half one), and
//! the cache row keyed by everything that changes the audio.
//!
//! Platform-wide by design, not scoped by station: the cache key is a hash
//! of everything that changes the audio (text, voice, settings), so two
//! stations that render the same text with the same voice share one file
//! and one row. Nothing in a row names a station or an article; what a
//! station may reach is decided by its render jobs, which are its own.

use std::path::PathBuf;

use serde::Serialize;

use super::db::{Row, params};

use super::{AUDIO_DIR, Store, StoreError, now, sha256_hex};

/// One rendered programme.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AudioEntry {
    pub cache_key: String,
    pub file_sha256: String,
    pub bytes: i64,
    pub duration_ms: i64,
    pub loudness_lufs: f64,
    pub true_peak_dbtp: f64,
    /// The script with measured times (JSON script format).
    pub script_json: String,
    pub created_at: String,
}

fn audio_row(row: &Row) -> Result<AudioEntry, StoreError> {
    Ok(AudioEntry {
        cache_key: row.get(0)?,
        file_sha256: row.get(1)?,
        bytes: row.get(2)?,
        duration_ms: row.get(3)?,
        loudness_lufs: row.get(4)?,
        true_peak_dbtp: row.get(5)?,
        script_json: row.get(6)?,
        created_at: row.get(7)?,
    })
}

const AUDIO_COLUMNS: &str = "cache_key, file_sha256, bytes, duration_ms, loudness_lufs, \
     true_peak_dbtp, script_json, created_at";

/// What a render produced, to be stored.
#[derive(Debug, Clone)]
pub struct NewAudio<'a> {
    pub cache_key: &'a str,
    pub wav: &'a [u8],
    pub duration_ms: i64,
    pub loudness_lufs: f64,
    pub true_peak_dbtp: f64,
    pub script_json: &'a str,
}

impl Store {
    /// The cached audio for a key, when its file is still there (of any
    /// station: the cache is platform-wide).
    ///
    /// # Errors
    /// SQL errors.
    pub fn cached_audio(&self, cache_key: &str) -> Result<Option<AudioEntry>, StoreError> {
        let entry = self.read(|db| {
            db.query_opt(
                &format!("SELECT {AUDIO_COLUMNS} FROM audio WHERE cache_key = ?1"),
                [cache_key],
                audio_row,
            )
        })?;
        Ok(entry.filter(|e| self.audio_path(&e.file_sha256).is_some_and(|p| p.is_file())))
    }

    /// Writes the WAV (atomically, once per content) and records it under its
    /// key, in the platform-wide cache.
    ///
    /// # Errors
    /// I/O errors writing the file; SQL errors.
    pub fn save_audio(&self, new: &NewAudio<'_>) -> Result<AudioEntry, StoreError> {
        let hash = sha256_hex(new.wav);
        let path = self
            .audio_path(&hash)
            .expect("a SHA-256 hex digest is a valid file name");
        if !path.is_file() {
            crate::output::write_atomic(&path, new.wav)
                .map_err(|source| StoreError::io(&path, source))?;
        }
        // No station lock: the cache is no station's, and the upsert is one statement.
        self.write_queue(|db| {
            db.execute(
                "INSERT INTO audio (cache_key, file_sha256, bytes, duration_ms, loudness_lufs, \
                 true_peak_dbtp, script_json, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT (cache_key) DO UPDATE SET file_sha256 = excluded.file_sha256, \
                 bytes = excluded.bytes, duration_ms = excluded.duration_ms, \
                 loudness_lufs = excluded.loudness_lufs, true_peak_dbtp = excluded.true_peak_dbtp, \
                 script_json = excluded.script_json, created_at = excluded.created_at",
                params![
                    new.cache_key,
                    hash,
                    new.wav.len() as i64,
                    new.duration_ms,
                    new.loudness_lufs,
                    new.true_peak_dbtp,
                    new.script_json,
                    now()
                ],
            )?;
            db.query_row(
                &format!("SELECT {AUDIO_COLUMNS} FROM audio WHERE cache_key = ?1"),
                [new.cache_key],
                audio_row,
            )
        })
    }

    /// Where the file with this content hash lives; `None` for anything that
    /// is not a SHA-256 hex digest (so no name can leave the audio folder).
    pub fn audio_path(&self, file_sha256: &str) -> Option<PathBuf> {
        let valid = file_sha256.len() == 64
            && file_sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| {
            self.dir()
                .join(AUDIO_DIR)
                .join(format!("{file_sha256}.wav"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing;

    #[test]
    fn stores_files_by_content_hash() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let new = NewAudio {
            cache_key: "k1",
            wav: b"RIFF....WAVE",
            duration_ms: 10,
            loudness_lufs: -23.0,
            true_peak_dbtp: -2.0,
            script_json: "{}",
        };
        let entry = store.save_audio(&new).unwrap();
        assert_eq!(entry.file_sha256, sha256_hex(b"RIFF....WAVE"));
        let path = store.audio_path(&entry.file_sha256).unwrap();
        assert_eq!(std::fs::read(path).unwrap(), b"RIFF....WAVE");
        assert_eq!(store.cached_audio("k1").unwrap(), Some(entry));
        assert_eq!(store.cached_audio("k2").unwrap(), None);
        assert!(store.audio_path("../../etc/passwd").is_none());
        assert!(store.audio_path(&"A".repeat(64)).is_none());
    }

    #[test]
    fn the_cache_is_shared_by_every_station() {
        let dir = tempfile::tempdir().unwrap();
        let first = testing::open(dir.path());
        let second = testing::add_station(&first, "thu-hai").unwrap();
        let new = NewAudio {
            cache_key: "same-text-same-voice",
            wav: b"RIFF....WAVE",
            duration_ms: 10,
            loudness_lufs: -23.0,
            true_peak_dbtp: -2.0,
            script_json: "{}",
        };
        let entry = first.save_audio(&new).unwrap();
        assert_eq!(second.cached_audio(new.cache_key).unwrap(), Some(entry));
    }
}
