//! The cue audio cache on disk: one file per cue, named by a SHA-256 of the
//! backend fingerprint (backend and every voice parameter), the output rate,
//! the breath pause and the spoken text, so editing one sentence
//! re-synthesizes one cue. Entries are 32-bit float WAV at the output rate,
//! written to a temporary file and renamed into place: a killed render
//! leaves no truncated entry. Only audio that passed the backend's checks is
//! stored; an entry that does not read back whole is treated as absent and
//! removed. Knows nothing of backends beyond their fingerprint.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::audio::Pcm;

/// Bumped when the stored audio changes for the same key (trimming, format).
const LAYOUT: &str = "bantin-cue-cache-1";

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cue cache {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Identifies one cue's audio.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key(String);

impl Key {
    /// The key of a cue spoken as `parts` by the backend `fingerprint`,
    /// joined with `breath_pause`, at `rate_hz`.
    pub fn new(fingerprint: &str, rate_hz: u32, breath_pause: Duration, parts: &[String]) -> Key {
        let mut hash = Sha256::new();
        for field in [
            LAYOUT,
            fingerprint,
            &rate_hz.to_string(),
            &breath_pause.as_micros().to_string(),
        ] {
            hash.update(field.as_bytes());
            hash.update([0u8]);
        }
        for part in parts {
            hash.update(crate::text::nfc(part).as_bytes());
            hash.update([0x1e]);
        }
        Key(hex::encode(hash.finalize()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A folder of cue audio.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// Opens (creating it when missing) the cache folder.
    ///
    /// # Errors
    /// [`CacheError::Io`] when the folder cannot be made.
    pub fn open(dir: &Path) -> Result<Cache, CacheError> {
        std::fs::create_dir_all(dir).map_err(|source| CacheError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        Ok(Cache {
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the entry for `key` lives (two-level fan-out keeps folders small).
    pub fn path(&self, key: &Key) -> PathBuf {
        self.dir.join(&key.0[..2]).join(format!("{}.wav", key.0))
    }

    /// The cached audio, or `None` when absent or unreadable (then removed).
    pub fn get(&self, key: &Key) -> Option<Pcm> {
        let path = self.path(key);
        let bytes = std::fs::read(&path).ok()?;
        match read_entry(&bytes) {
            Some(pcm) => Some(pcm),
            None => {
                tracing::warn!(path = %path.display(), "dropping an unreadable cache entry");
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores `pcm` under `key` atomically.
    ///
    /// # Errors
    /// [`CacheError::Io`] naming the file.
    pub fn put(&self, key: &Key, pcm: &Pcm) -> Result<(), CacheError> {
        let path = self.path(key);
        let io = |source| CacheError::Io {
            path: path.display().to_string(),
            source,
        };
        let dir = path.parent().expect("entries live in a fan-out folder");
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut temp = tempfile::Builder::new()
            .prefix(".entry-")
            .suffix(".part")
            .tempfile_in(dir)
            .map_err(io)?;
        temp.write_all(&entry_bytes(pcm)).map_err(io)?;
        temp.as_file().sync_all().map_err(io)?;
        temp.persist(&path).map_err(|e| io(e.error))?;
        Ok(())
    }

    /// Number of entries (for tests and `bantin` reports).
    pub fn len(&self) -> usize {
        walk(&self.dir)
            .filter(|p| p.extension().is_some_and(|x| x == "wav"))
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn walk(dir: &Path) -> impl Iterator<Item = PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .flat_map(|e| {
            let path = e.path();
            if path.is_dir() {
                walk(&path).collect::<Vec<_>>()
            } else {
                vec![path]
            }
        })
}

/// A mono IEEE-float WAV: exact samples, readable by any tool.
fn entry_bytes(pcm: &Pcm) -> Vec<u8> {
    let data_len = pcm.samples.len() * 4;
    let mut out = Vec::with_capacity(44 + data_len);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&((36 + data_len) as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&3u16.to_le_bytes()); // IEEE float
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&pcm.sample_rate_hz.to_le_bytes());
    out.extend_from_slice(&(pcm.sample_rate_hz * 4).to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&32u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data_len as u32).to_le_bytes());
    for s in &pcm.samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// Reads an entry back only when its sizes say it is whole.
fn read_entry(bytes: &[u8]) -> Option<Pcm> {
    if bytes.len() < 44 || &bytes[0..4] != b"RIFF" || &bytes[36..40] != b"data" {
        return None;
    }
    let riff = u32::from_le_bytes(bytes[4..8].try_into().ok()?) as usize;
    let data = u32::from_le_bytes(bytes[40..44].try_into().ok()?) as usize;
    if riff + 8 != bytes.len() || data + 44 != bytes.len() {
        return None;
    }
    let pcm = crate::audio::wav::decode(bytes).ok()?;
    pcm.samples.iter().all(|s| s.is_finite()).then_some(pcm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_exact_samples_and_drops_truncated_entries() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let key = Key::new("fake", 48_000, Duration::ZERO, &["xin chào".into()]);
        assert!(cache.get(&key).is_none());
        let pcm = Pcm::new(48_000, vec![0.1, -0.25, 0.333_333]);
        cache.put(&key, &pcm).unwrap();
        assert_eq!(cache.get(&key).unwrap(), pcm);
        assert_eq!(cache.len(), 1);

        let path = cache.path(&key);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 2]).unwrap();
        assert!(cache.get(&key).is_none());
        assert!(!path.exists(), "a truncated entry is removed");
    }

    #[test]
    fn keys_change_with_every_input() {
        let parts = vec!["một".to_string()];
        let base = Key::new("espeak vi", 48_000, Duration::from_millis(250), &parts);
        assert_ne!(
            base,
            Key::new(
                "espeak vi-south",
                48_000,
                Duration::from_millis(250),
                &parts
            )
        );
        assert_ne!(
            base,
            Key::new("espeak vi", 44_100, Duration::from_millis(250), &parts)
        );
        assert_ne!(
            base,
            Key::new("espeak vi", 48_000, Duration::from_millis(300), &parts)
        );
        assert_ne!(
            base,
            Key::new(
                "espeak vi",
                48_000,
                Duration::from_millis(250),
                &["hai".into()]
            )
        );
        assert_ne!(
            Key::new("f", 1, Duration::ZERO, &["a b".into()]),
            Key::new("f", 1, Duration::ZERO, &["a".into(), "b".into()])
        );
    }
}
