//! Politeness towards each MX host: at most `per_host` sessions at once and at least
//! `interval` between the starts of two sessions, plus a global cap on concurrent sessions.
//!
//! Host state is dropped once a host is idle and its interval has passed, so a run over a
//! million domains keeps only the hosts it is talking to.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Keep at most this many idle hosts before pruning.
const PRUNE_ABOVE: usize = 1024;

pub struct Throttle {
    interval: Duration,
    per_host: usize,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

struct Host {
    slots: Arc<Semaphore>,
    /// When the last session to this host started.
    last_start: Mutex<Option<Instant>>,
}

/// Held for the length of one SMTP session.
pub struct Permit {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

impl Throttle {
    pub fn new(interval: Duration, per_host: usize, global: usize) -> Throttle {
        Throttle {
            interval,
            per_host: per_host.max(1),
            global: Arc::new(Semaphore::new(global.max(1))),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Wait until a session to `host` may start, then mark it started.
    pub async fn acquire(&self, host: &str) -> Permit {
        let state = self.host(host);
        let host_permit = state
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("throttle semaphores are never closed");
        // Wait out the interval before taking a global slot, so a host's pause never holds
        // one of the slots other hosts could use.
        self.wait_for_turn(&state, false).await;
        let global = self
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("throttle semaphores are never closed");
        self.wait_for_turn(&state, true).await;
        Permit {
            _host: host_permit,
            _global: global,
        }
    }

    async fn wait_for_turn(&self, state: &Host, mark: bool) {
        loop {
            let wait = {
                let mut last = state.last_start.lock().unwrap();
                let now = Instant::now();
                // No next start that an Instant can hold: wait as long as a timer can.
                let next = last.map(|t| t.checked_add(self.interval));
                match next {
                    Some(None) => Duration::MAX,
                    Some(Some(next)) if next > now => next - now,
                    _ => {
                        if mark {
                            *last = Some(now);
                        }
                        return;
                    }
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    fn host(&self, name: &str) -> Arc<Host> {
        let mut hosts = self.hosts.lock().unwrap();
        if hosts.len() > PRUNE_ABOVE {
            let now = Instant::now();
            let interval = self.interval;
            hosts.retain(|_, h| {
                let busy = Arc::strong_count(h) > 1;
                let recent = h
                    .last_start
                    .lock()
                    .unwrap()
                    .is_some_and(|t| t.checked_add(interval).is_none_or(|next| next > now));
                busy || recent
            });
        }
        hosts
            .entry(name.to_ascii_lowercase())
            .or_insert_with(|| {
                Arc::new(Host {
                    slots: Arc::new(Semaphore::new(self.per_host)),
                    last_start: Mutex::new(None),
                })
            })
            .clone()
    }

    #[cfg(test)]
    fn tracked_hosts(&self) -> usize {
        self.hosts.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn sessions_to_one_host_start_an_interval_apart() {
        let t = Arc::new(Throttle::new(Duration::from_secs(2), 1, 8));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let t = t.clone();
            tasks.push(tokio::spawn(async move {
                let _p = t.acquire("mx.example.com").await;
                let at = started.elapsed();
                tokio::time::sleep(Duration::from_millis(100)).await;
                at
            }));
        }
        let mut starts = Vec::new();
        for task in tasks {
            starts.push(task.await.unwrap());
        }
        starts.sort();
        for pair in starts.windows(2) {
            assert!(pair[1] - pair[0] >= Duration::from_secs(2), "{starts:?}");
        }
        assert!(starts[3] < Duration::from_millis(6200), "{starts:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_interval_beyond_any_instant_waits_instead_of_panicking() {
        let t = Arc::new(Throttle::new(Duration::MAX, 1, 8));
        drop(t.acquire("mx.example.com").await);
        let second = tokio::spawn({
            let t = t.clone();
            async move { drop(t.acquire("mx.example.com").await) }
        });
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert!(!second.is_finished());
        second.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn different_hosts_do_not_wait_for_each_other() {
        let t = Throttle::new(Duration::from_secs(2), 1, 8);
        let started = Instant::now();
        let _a = t.acquire("mx1.example.com").await;
        let _b = t.acquire("MX2.example.com").await;
        assert!(started.elapsed() < Duration::from_millis(10));
    }

    #[tokio::test(start_paused = true)]
    async fn per_host_limit_holds_even_without_interval() {
        let t = Arc::new(Throttle::new(Duration::ZERO, 1, 8));
        let first = t.acquire("mx.example.com").await;
        let t2 = t.clone();
        let second = tokio::spawn(async move {
            let _p = t2.acquire("mx.example.com").await;
        });
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(
            !second.is_finished(),
            "a second session started while the first ran"
        );
        drop(first);
        second.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn global_limit_caps_sessions_across_hosts() {
        let t = Arc::new(Throttle::new(Duration::ZERO, 1, 2));
        let _a = t.acquire("a.example.com").await;
        let _b = t.acquire("b.example.com").await;
        let t2 = t.clone();
        let third = tokio::spawn(async move {
            let _p = t2.acquire("c.example.com").await;
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!third.is_finished());
        drop(_a);
        third.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn idle_hosts_are_forgotten() {
        let t = Throttle::new(Duration::from_millis(10), 1, 8);
        for i in 0..3000 {
            drop(t.acquire(&format!("mx{i}.example.com")).await);
            if i % 500 == 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        assert!(
            t.tracked_hosts() <= PRUNE_ABOVE + 600,
            "{}",
            t.tracked_hosts()
        );
    }
}
