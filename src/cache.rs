//! The speech cache on disk: one file per breath group, named by a SHA-256
//! of the backend fingerprint (backend and every voice parameter) and the
//! spoken text, so editing one sentence speaks only its breath groups
//! again. Entries are 32-bit float WAV at the backend's own rate (every
//! output rate shares them, and they are a fraction of the size at 48 kHz),
//! trimmed of the backend's silence,
//! written to a temporary file and renamed into place: a killed render
//! leaves no truncated entry, only its temporary file, which the next
//! `Cache::open` removes once it is clearly abandoned. Only audio that passed
//! the backend's checks is stored; an entry that does not read back whole is
//! treated as absent and removed. Knows nothing of backends beyond their
//! fingerprint.
//!
//! The folder has a size cap ([`DEFAULT_MAX_BYTES`] unless the station sets
//! `[cache] max_bytes`): after a write takes it over the cap, the entries
//! used longest ago go first, down to nine tenths of it. Use is recorded in
//! each entry's modification time (a read touches it), so the order
//! survives restarts; the folder is scanned once per process, at the first
//! write, and kept as an index in memory after that. Entries another
//! process writes meanwhile are counted at this one's next start.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::audio::Pcm;

/// Bumped when the stored audio changes for the same key (trimming, format).
const LAYOUT: &str = "bantin-cue-cache-3";

/// A temporary entry file untouched for this long belongs to a writer that
/// died (a killed render). A live writer finishes an entry (one cue, a few
/// hundred kilobytes) in far less, so removing older ones never disturbs a
/// render running in parallel (another process sharing the folder).
pub const STALE_TEMPORARY: Duration = Duration::from_secs(60);

/// Prefix and suffix of the temporary file an entry is written to.
const TEMP_PREFIX: &str = ".entry-";
const TEMP_SUFFIX: &str = ".part";

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
    /// The key of a breath group spoken as `text` by the backend
    /// `fingerprint` (backend and every voice parameter).
    pub fn new(fingerprint: &str, text: &str) -> Key {
        let mut hash = Sha256::new();
        for field in [LAYOUT, fingerprint] {
            hash.update(field.as_bytes());
            hash.update([0u8]);
        }
        hash.update(crate::text::nfc(text).as_bytes());
        Key(hex::encode(hash.finalize()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The cue cache folder of a data directory (`DATA/cache`), shared by
/// `bantin render --data`, `bantin bulletin` and the service.
pub fn folder_in(data: &Path) -> PathBuf {
    data.join("cache")
}

/// The size cap of a cache folder when the station sets none: 2 GiB, some
/// 70 hours of speech at espeak-ng's 22.05 kHz (32-bit samples).
pub const DEFAULT_MAX_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// A folder of cue audio.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    max_bytes: u64,
    /// Built at the first write; shared by every clone.
    index: Arc<Mutex<Option<Index>>>,
}

/// Every entry's size and last use, oldest first in `by_age`.
#[derive(Debug, Default)]
struct Index {
    total_bytes: u64,
    entries: HashMap<PathBuf, (SystemTime, u64)>,
    by_age: BTreeSet<(SystemTime, PathBuf)>,
}

impl Index {
    fn scan(dir: &Path) -> Index {
        let mut index = Index::default();
        for path in walk(dir).filter(|p| p.extension().is_some_and(|x| x == "wav")) {
            if let Ok(meta) = std::fs::metadata(&path) {
                let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                index.record(path, used, meta.len());
            }
        }
        index
    }

    fn record(&mut self, path: PathBuf, used: SystemTime, bytes: u64) {
        self.forget(&path);
        self.total_bytes += bytes;
        self.by_age.insert((used, path.clone()));
        self.entries.insert(path, (used, bytes));
    }

    fn forget(&mut self, path: &Path) {
        if let Some((used, bytes)) = self.entries.remove(path) {
            self.total_bytes -= bytes;
            self.by_age.remove(&(used, path.to_path_buf()));
        }
    }

    /// The entry used longest ago, taken out of the index.
    fn pop_oldest(&mut self) -> Option<PathBuf> {
        let (_, path) = self.by_age.pop_first()?;
        if let Some((_, bytes)) = self.entries.remove(&path) {
            self.total_bytes -= bytes;
        }
        Some(path)
    }
}

impl Cache {
    /// Opens (creating it when missing) the cache folder and removes the
    /// temporary entry files that writers left behind when they were killed
    /// (those older than [`STALE_TEMPORARY`]).
    ///
    /// # Errors
    /// [`CacheError::Io`] when the folder cannot be made.
    pub fn open(dir: &Path) -> Result<Cache, CacheError> {
        std::fs::create_dir_all(dir).map_err(|source| CacheError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let cache = Cache {
            dir: dir.to_path_buf(),
            max_bytes: DEFAULT_MAX_BYTES,
            index: Arc::new(Mutex::new(None)),
        };
        let removed = cache.remove_temporaries_older_than(STALE_TEMPORARY);
        if removed > 0 {
            tracing::info!(removed, dir = %dir.display(), "removed abandoned temporary cache files");
        }
        Ok(cache)
    }

    /// Removes temporary entry files not modified for `age`; returns how
    /// many. One that cannot be removed stays (and is logged): it costs
    /// disk space, not correctness.
    pub fn remove_temporaries_older_than(&self, age: Duration) -> usize {
        let now = std::time::SystemTime::now();
        let mut removed = 0;
        for path in walk(&self.dir).filter(|p| is_temporary(p)) {
            let stale = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .is_ok_and(|modified| now.duration_since(modified).is_ok_and(|d| d >= age));
            if !stale {
                continue;
            }
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %path.display(), "cannot remove a temporary cache file: {e}")
                }
            }
        }
        removed
    }

    /// The same folder with another size cap.
    #[must_use]
    pub fn with_max_bytes(mut self, max_bytes: u64) -> Cache {
        self.max_bytes = max_bytes;
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Notes that the entry at `path` was just used (its modification
    /// time, and the index when there is one).
    fn touch(&self, path: &Path, file: &std::fs::File) {
        let now = SystemTime::now();
        let _ = file.set_modified(now);
        if let Some(index) = self.index.lock().expect("never poisoned").as_mut()
            && let Some(&(_, bytes)) = index.entries.get(path)
        {
            index.record(path.to_path_buf(), now, bytes);
        }
    }

    /// Records a new entry and, when that takes the folder over its cap,
    /// removes the entries used longest ago down to nine tenths of it.
    fn admit(&self, path: &Path, bytes: u64) {
        let mut index = self.index.lock().expect("never poisoned");
        let index = index.get_or_insert_with(|| Index::scan(&self.dir));
        index.record(path.to_path_buf(), SystemTime::now(), bytes);
        if index.total_bytes <= self.max_bytes {
            return;
        }
        let low_water = self.max_bytes / 10 * 9;
        let mut evicted = 0;
        while index.total_bytes > low_water {
            let Some(oldest) = index.pop_oldest() else {
                break;
            };
            match std::fs::remove_file(&oldest) {
                Ok(()) => evicted += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %oldest.display(), "cannot evict a cache entry: {e}")
                }
            }
        }
        tracing::info!(
            evicted,
            bytes = index.total_bytes,
            cap = self.max_bytes,
            "cue cache over its cap"
        );
    }

    /// Bytes in the entries this process knows of (scanning once if needed).
    pub fn size_bytes(&self) -> u64 {
        let mut index = self.index.lock().expect("never poisoned");
        index
            .get_or_insert_with(|| Index::scan(&self.dir))
            .total_bytes
    }

    /// Where the entry for `key` lives (two-level fan-out keeps folders small).
    pub fn path(&self, key: &Key) -> PathBuf {
        self.dir.join(&key.0[..2]).join(format!("{}.wav", key.0))
    }

    /// The cached audio, or `None` when absent or unreadable (then removed).
    pub fn get(&self, key: &Key) -> Option<Pcm> {
        let path = self.path(key);
        let file = std::fs::File::open(&path).ok()?;
        match read_entry(&file) {
            Some(pcm) => {
                self.touch(&path, &file);
                Some(pcm)
            }
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
        let temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(TEMP_SUFFIX)
            .tempfile_in(dir)
            .map_err(io)?;
        let mut out = std::io::BufWriter::with_capacity(BLOCK, temp);
        write_entry(pcm, &mut out).map_err(io)?;
        let temp = out.into_inner().map_err(|e| io(e.into_error()))?;
        // No fsync: the rename makes a whole entry appear at once to every
        // reader, and what a power cut might leave (an empty or short file)
        // fails the size checks of `read_entry` and is spoken again. A sync
        // per breath group would cost more than speaking it with espeak-ng.
        let bytes = temp.as_file().metadata().map_err(io)?.len();
        temp.persist(&path).map_err(|e| io(e.error))?;
        self.admit(&path, bytes);
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

/// A temporary entry file (written by [`Cache::put`], not yet renamed).
pub fn is_temporary(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(TEMP_PREFIX) && n.ends_with(TEMP_SUFFIX))
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

/// Bytes read or written at a time: entries are streamed through a small
/// buffer, never held whole as bytes beside their samples.
const BLOCK: usize = 64 * 1024;
/// The header of an entry: RIFF, `fmt ` and the `data` chunk's head.
const HEADER: usize = 44;

/// Writes an entry: a mono IEEE-float WAV, exact samples, readable by any
/// tool.
fn write_entry(pcm: &Pcm, mut out: impl Write) -> std::io::Result<()> {
    let data_len = pcm.samples.len() * 4;
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(b"RIFF");
    header.extend_from_slice(&((36 + data_len) as u32).to_le_bytes());
    header.extend_from_slice(b"WAVEfmt ");
    header.extend_from_slice(&16u32.to_le_bytes());
    header.extend_from_slice(&3u16.to_le_bytes()); // IEEE float
    header.extend_from_slice(&1u16.to_le_bytes());
    header.extend_from_slice(&pcm.sample_rate_hz.to_le_bytes());
    header.extend_from_slice(&(pcm.sample_rate_hz * 4).to_le_bytes());
    header.extend_from_slice(&4u16.to_le_bytes());
    header.extend_from_slice(&32u16.to_le_bytes());
    header.extend_from_slice(b"data");
    header.extend_from_slice(&(data_len as u32).to_le_bytes());
    out.write_all(&header)?;
    let mut block = vec![0u8; BLOCK];
    for samples in pcm.samples.chunks(BLOCK / 4) {
        let bytes = &mut block[..samples.len() * 4];
        for (b, s) in bytes.chunks_exact_mut(4).zip(samples) {
            b.copy_from_slice(&s.to_le_bytes());
        }
        out.write_all(bytes)?;
    }
    Ok(())
}

/// Reads an entry back only when it is one [`write_entry`] wrote and its
/// sizes say it is whole (a power cut can leave a short file), with every
/// sample a number.
fn read_entry(mut file: &std::fs::File) -> Option<Pcm> {
    use std::io::Read;
    let len = usize::try_from(file.metadata().ok()?.len()).ok()?;
    let mut header = [0u8; HEADER];
    file.read_exact(&mut header).ok()?;
    let u16_at = |at: usize| u16::from_le_bytes([header[at], header[at + 1]]);
    let u32_at = |at: usize| {
        u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]]) as usize
    };
    let whole = &header[0..4] == b"RIFF"
        && &header[8..16] == b"WAVEfmt "
        && u32_at(16) == 16
        && u16_at(20) == 3
        && u16_at(22) == 1
        && u16_at(34) == 32
        && &header[36..40] == b"data"
        && u32_at(4) + 8 == len
        && u32_at(40) + HEADER == len
        && u32_at(40) % 4 == 0;
    let rate = u32::try_from(u32_at(24)).ok().filter(|&r| r > 0);
    let (true, Some(rate)) = (whole, rate) else {
        return None;
    };
    let mut remaining = len - HEADER;
    let mut samples = Vec::with_capacity(remaining / 4);
    let mut block = vec![0u8; BLOCK];
    while remaining > 0 {
        let bytes = &mut block[..remaining.min(BLOCK)];
        file.read_exact(bytes).ok()?;
        samples.extend(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
        remaining -= bytes.len();
    }
    samples
        .iter()
        .all(|s| s.is_finite())
        .then(|| Pcm::new(rate, samples))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_exact_samples_and_drops_truncated_entries() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let key = Key::new("fake", "xin chào");
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
    fn open_removes_abandoned_temporaries_and_keeps_fresh_ones_and_entries() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let key = Key::new("fake", "một");
        let pcm = Pcm::new(48_000, vec![0.5; 10]);
        cache.put(&key, &pcm).unwrap();
        let fan_out = cache.path(&key).parent().unwrap().to_path_buf();
        let abandoned = fan_out.join(".entry-abandoned.part");
        let fresh = fan_out.join(".entry-fresh.part");
        let other = fan_out.join("notes.part");
        for path in [&abandoned, &fresh, &other] {
            std::fs::write(path, b"RIFF half").unwrap();
        }
        let old = std::time::SystemTime::now() - STALE_TEMPORARY - Duration::from_secs(5);
        for path in [&abandoned, &other] {
            std::fs::File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        let reopened = Cache::open(dir.path()).unwrap();
        assert!(!abandoned.exists(), "an abandoned temporary is removed");
        assert!(fresh.exists(), "a writer still at work is not disturbed");
        assert!(
            other.exists(),
            "only the cache's own temporaries are touched"
        );
        assert_eq!(reopened.get(&key).unwrap(), pcm);
        assert_eq!(reopened.len(), 1);
    }

    #[test]
    fn keys_change_with_every_input() {
        let base = Key::new("espeak vi", "một");
        assert_eq!(base, Key::new("espeak vi", "một"));
        assert_ne!(base, Key::new("espeak vi-south", "một"));
        assert_ne!(base, Key::new("espeak vi", "hai"));
        // The same text however its marks are encoded (NFC and NFD).
        assert_eq!(base, Key::new("espeak vi", "mo\u{0302}\u{0323}t"));
        assert_ne!(Key::new("f a", "b"), Key::new("f", "a b"));
    }

    #[test]
    fn over_its_cap_the_entries_used_longest_ago_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let pcm = |value: f32| Pcm {
            sample_rate_hz: 22_050,
            samples: vec![value; 1000],
        };
        let entry_bytes = (HEADER + 4000) as u64;
        // Room for three entries.
        let cache = Cache::open(dir.path())
            .unwrap()
            .with_max_bytes(entry_bytes * 3 + 10);
        let keys: Vec<Key> = (0..4)
            .map(|i| Key::new("fake", &format!("câu {i}")))
            .collect();
        for (i, key) in keys.iter().take(3).enumerate() {
            cache.put(key, &pcm(i as f32 / 10.0)).unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
        // Reading the first makes the second the one used longest ago.
        assert!(cache.get(&keys[0]).is_some());
        std::thread::sleep(Duration::from_millis(20));
        cache.put(&keys[3], &pcm(0.3)).unwrap();
        assert!(cache.size_bytes() <= cache.max_bytes());
        assert!(cache.get(&keys[1]).is_none(), "the oldest went");
        for key in [&keys[0], &keys[3]] {
            assert!(cache.get(key).is_some());
        }
        // Another process counts the same entries from the folder.
        let reopened = Cache::open(dir.path()).unwrap();
        assert_eq!(reopened.size_bytes(), cache.size_bytes());
    }
}
