//! The prepared-script cache's bookkeeping: least recently used first
//! out, by estimated bytes. Knows nothing of how entries are made.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{Key, Prepared};

/// Least recently used first out, by estimated bytes.
#[derive(Default)]
pub(super) struct Lru {
    pub(super) entries: HashMap<Key, (Arc<Prepared>, u64)>,
    /// Use tick → key, oldest first.
    order: BTreeMap<u64, Key>,
    tick: u64,
    pub(super) bytes: usize,
}

impl Lru {
    pub(super) fn get(&mut self, key: &Key) -> Option<Arc<Prepared>> {
        self.tick += 1;
        let tick = self.tick;
        let (entry, used) = self.entries.get_mut(key)?;
        self.order.remove(used);
        *used = tick;
        self.order.insert(tick, key.clone());
        Some(Arc::clone(entry))
    }

    pub(super) fn insert(&mut self, key: Key, entry: Arc<Prepared>, capacity: usize) {
        let cost = entry.cost.load(Ordering::Relaxed);
        if cost > capacity {
            return;
        }
        self.tick += 1;
        if let Some((old, used)) = self.entries.insert(key.clone(), (entry, self.tick)) {
            self.order.remove(&used);
            self.bytes -= old.cost.load(Ordering::Relaxed);
        }
        self.order.insert(self.tick, key);
        self.bytes += cost;
        self.evict(capacity);
    }

    /// Counts `bytes` more for `entry` when it is the one cached under `key`.
    pub(super) fn charge(
        &mut self,
        key: &Key,
        entry: &Arc<Prepared>,
        bytes: usize,
        capacity: usize,
    ) {
        entry.cost.fetch_add(bytes, Ordering::Relaxed);
        if self
            .entries
            .get(key)
            .is_some_and(|(cached, _)| Arc::ptr_eq(cached, entry))
        {
            self.bytes += bytes;
            self.evict(capacity);
        }
    }

    fn evict(&mut self, capacity: usize) {
        while self.bytes > capacity {
            let Some((_, key)) = self.order.pop_first() else {
                break;
            };
            if let Some((entry, _)) = self.entries.remove(&key) {
                self.bytes -= entry.cost.load(Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::script::Script;
    use crate::store::Revision;

    fn entry(cost: usize) -> Arc<Prepared> {
        let article = crate::ingest::read(b"Tin.\n\nMot cau.", None).unwrap();
        let script = Script {
            title: String::new(),
            published: None,
            voice: "vi".into(),
            measured: false,
            cues: Vec::new(),
            total: std::time::Duration::ZERO,
        };
        Arc::new(Prepared {
            revision: Revision {
                article_id: 1,
                revision: 1,
                title: String::new(),
                file_name: None,
                content_type: "text/plain".into(),
                bytes: 0,
                body_sha256: String::new(),
                author: "t".into(),
                person: String::new(),
                created_at: String::new(),
            },
            article,
            script,
            answers: Mutex::new(Vec::new()),
            cost: AtomicUsize::new(cost),
        })
    }

    fn key(article: i64) -> Key {
        Key {
            article,
            revision: 1,
            lexicon_version: 0,
            voice: "vi".into(),
        }
    }

    #[test]
    fn the_least_recently_used_leave_first_by_bytes() {
        let mut lru = Lru::default();
        lru.insert(key(1), entry(40), 100);
        lru.insert(key(2), entry(40), 100);
        assert!(lru.get(&key(1)).is_some());
        lru.insert(key(3), entry(40), 100);
        assert!(lru.get(&key(2)).is_none(), "2 was used least recently");
        assert!(lru.get(&key(1)).is_some() && lru.get(&key(3)).is_some());
        assert_eq!(lru.bytes, 80);
        // An answer rendered later counts too and can push others out.
        let three = lru.get(&key(3)).unwrap();
        lru.charge(&key(3), &three, 30, 100);
        assert!(lru.get(&key(1)).is_none());
        assert_eq!(lru.bytes, 70);
        // Larger than the whole cache: never kept, nothing evicted for it.
        lru.insert(key(4), entry(101), 100);
        assert!(lru.get(&key(4)).is_none());
        assert_eq!(lru.entries.len(), 1);
        // A capacity of 0 keeps nothing.
        let mut off = Lru::default();
        off.insert(key(1), entry(1), 0);
        assert!(off.entries.is_empty() && off.bytes == 0);
    }
}
