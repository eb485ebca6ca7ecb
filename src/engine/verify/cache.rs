//! Small in-memory caches with a time to live, a size bound and single flight: concurrent
//! callers asking for the same key while it is being computed wait for that one computation
//! (a thousand addresses at one domain make one MX lookup, not a thousand).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio::time::Instant;

struct Entry<V> {
    cell: Arc<OnceCell<(V, Instant)>>,
}

pub struct TtlCache<K, V> {
    map: Mutex<HashMap<K, Entry<V>>>,
    capacity: usize,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// The fresh value for `key`, or compute it with `init`; `ttl` says how long a computed
    /// value stays fresh (`Duration::ZERO`: not kept).
    pub async fn get_or_compute<F, Fut>(&self, key: &K, ttl: impl Fn(&V) -> Duration, init: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let cell = {
            let mut map = self.map.lock().unwrap();
            let now = Instant::now();
            let stale = map
                .get(key)
                .is_some_and(|e| e.cell.get().is_some_and(|(_, expires)| *expires <= now));
            if stale {
                map.remove(key);
            }
            if !map.contains_key(key) && map.len() >= self.capacity {
                Self::evict(&mut map, self.capacity, now);
            }
            map.entry(key.clone())
                .or_insert_with(|| Entry {
                    cell: Arc::new(OnceCell::new()),
                })
                .cell
                .clone()
        };
        let (value, _) = cell
            .get_or_init(|| async {
                let v = init().await;
                let expires = Instant::now() + ttl(&v);
                (v, expires)
            })
            .await
            .clone();
        value
    }

    /// A fresh value, without computing one.
    pub fn get(&self, key: &K) -> Option<V> {
        let map = self.map.lock().unwrap();
        let (v, expires) = map.get(key)?.cell.get()?;
        (*expires > Instant::now()).then(|| v.clone())
    }

    pub fn insert(&self, key: K, value: V, ttl: Duration) {
        let mut map = self.map.lock().unwrap();
        let now = Instant::now();
        if !map.contains_key(&key) && map.len() >= self.capacity {
            Self::evict(&mut map, self.capacity, now);
        }
        let cell = OnceCell::new_with(Some((value, now + ttl)));
        map.insert(
            key,
            Entry {
                cell: Arc::new(cell),
            },
        );
    }

    pub fn len(&self) -> usize {
        self.map.lock().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drop expired entries; if that is not enough, drop computed entries until a quarter of
    /// the room is free. Entries still being computed stay (someone is waiting on them).
    fn evict(map: &mut HashMap<K, Entry<V>>, capacity: usize, now: Instant) {
        map.retain(|_, e| e.cell.get().is_none_or(|(_, expires)| *expires > now));
        if map.len() >= capacity {
            let target = capacity - capacity / 4;
            let mut excess = map.len().saturating_sub(target);
            map.retain(|_, e| {
                if excess > 0 && e.cell.initialized() {
                    excess -= 1;
                    false
                } else {
                    true
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_computation() {
        let cache = Arc::new(TtlCache::<String, u32>::new(16));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let (cache, calls) = (cache.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_compute(
                        &"acme.com".to_string(),
                        |_| Duration::from_secs(60),
                        || async {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            7
                        },
                    )
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), 7);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn values_expire_after_their_ttl() {
        let cache = TtlCache::<&str, u32>::new(16);
        let key = "k";
        let v = cache
            .get_or_compute(&key, |_| Duration::from_secs(10), || async { 1 })
            .await;
        assert_eq!(v, 1);
        assert_eq!(cache.get(&key), Some(1));
        tokio::time::sleep(Duration::from_secs(11)).await;
        assert_eq!(cache.get(&key), None);
        let v = cache
            .get_or_compute(&key, |_| Duration::from_secs(10), || async { 2 })
            .await;
        assert_eq!(v, 2);
        // A zero TTL is computed every time.
        let z = cache
            .get_or_compute(&"z", |_| Duration::ZERO, || async { 3 })
            .await;
        assert_eq!(z, 3);
        assert_eq!(cache.get(&"z"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn size_stays_bounded() {
        let cache = TtlCache::<u32, u32>::new(100);
        for i in 0..10_000 {
            cache.insert(i, i, Duration::from_secs(3600));
        }
        assert!(cache.len() <= 100, "{}", cache.len());
        assert_eq!(cache.get(&9_999), Some(9_999));
    }
}
