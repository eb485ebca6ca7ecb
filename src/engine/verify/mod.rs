//! Address verification: syntax, DNS, an SMTP RCPT probe, catch-all and greylisting detection,
//! throttling per MX host, and streaming at scale.
//!
//! [`run`] takes addresses from a bounded channel, verifies up to `window` of them at once and
//! reports each result in input order, so memory stays flat whatever the input size. The CLI
//! (`hailer verify`) and the TUI call the same function; only the reporter differs.
//!
//! Politeness: one session per address with at most two RCPTs (Postfix slows down after 10
//! errors in a session and drops it at 20), at most `per_host` sessions per MX host at once and
//! `rate_limit` between their starts, `concurrency` sessions overall; never DATA; always QUIT.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::Config;

pub mod cache;
pub mod classify;
pub mod dns;
pub mod input;
pub mod probe;
pub mod results;
pub mod smtp;
pub mod syntax;
pub mod throttle;

use cache::TtlCache;
use dns::{Dns, DnsError, DnsSettings, MxAnswer};
use throttle::Throttle;

/// The verdict classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Valid,
    CatchAll,
    MailboxNotFound,
    MailboxFull,
    Disabled,
    InvalidSyntax,
    NoMx,
    Timeout,
    ConnectionRefused,
    /// Greylisting, 4xx, DNS SERVFAIL or timeout: try again later.
    Temporary,
    Unknown,
}

impl Status {
    pub const ALL: [Status; 11] = [
        Status::Valid,
        Status::CatchAll,
        Status::MailboxNotFound,
        Status::MailboxFull,
        Status::Disabled,
        Status::InvalidSyntax,
        Status::NoMx,
        Status::Timeout,
        Status::ConnectionRefused,
        Status::Temporary,
        Status::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "VALID",
            Status::CatchAll => "CATCH_ALL",
            Status::MailboxNotFound => "MAILBOX_NOT_FOUND",
            Status::MailboxFull => "MAILBOX_FULL",
            Status::Disabled => "DISABLED",
            Status::InvalidSyntax => "INVALID_SYNTAX",
            Status::NoMx => "NO_MX",
            Status::Timeout => "TIMEOUT",
            Status::ConnectionRefused => "CONNECTION_REFUSED",
            Status::Temporary => "TEMPORARY",
            Status::Unknown => "UNKNOWN",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The outbox never sends to these.
    pub fn blocks_sending(self) -> bool {
        matches!(
            self,
            Status::MailboxNotFound | Status::NoMx | Status::InvalidSyntax | Status::Disabled
        )
    }

    /// Sendable, but flagged as risky in the outbox.
    pub fn is_risky(self) -> bool {
        matches!(self, Status::CatchAll | Status::Unknown)
    }

    /// A verdict worth reusing until the cache TTL expires (others are retried next run).
    pub fn is_definitive(self) -> bool {
        matches!(
            self,
            Status::Valid
                | Status::CatchAll
                | Status::MailboxNotFound
                | Status::Disabled
                | Status::NoMx
                | Status::InvalidSyntax
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result for one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub status: Status,
    /// The MX host whose answer decided (or the last one tried).
    pub mx: Option<String>,
    pub code: Option<u16>,
    pub enhanced: Option<String>,
    pub detail: String,
    /// Seconds since the Unix epoch.
    pub checked_at: i64,
}

impl Verdict {
    pub fn new(status: Status, detail: impl Into<String>) -> Verdict {
        Verdict {
            status,
            mx: None,
            code: None,
            enhanced: None,
            detail: detail.into(),
            checked_at: crate::store::now_ts(),
        }
    }
}

/// The longest wait in seconds a verification setting may ask for (a timeout, a delay between
/// retries, `[verify] rate_limit`): a day. A larger figure is a typo, and it would overflow
/// the time arithmetic.
pub const MAX_WAIT_SECS: f64 = 86_400.0;

/// Everything a run needs to know; [`VerifyOptions::from_config`] fills it from `[verify]`
/// and `[dns]`, and the CLI overrides what its flags say.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub port: u16,
    pub helo_name: String,
    /// MAIL FROM; empty means the null reverse-path `<>`.
    pub from: String,
    pub allow_special_use: Vec<String>,
    /// Minimum time between the starts of two sessions to one MX host; zero turns it off.
    pub rate_limit: Duration,
    pub per_host: usize,
    /// SMTP sessions at once, over all hosts.
    pub concurrency: usize,
    pub connect_timeout: Duration,
    /// For each reply, however slowly it arrives.
    pub command_timeout: Duration,
    pub dns: DnsSettings,
    /// How many times a TEMPORARY result is tried again.
    pub retries: u32,
    /// The first pause before a retry; it doubles each time.
    pub retry_delay: Duration,
    /// A stored definitive result younger than this is reused; zero never reuses.
    pub cache_ttl: Duration,
    pub catch_all_ttl: Duration,
    pub starttls: bool,
    /// Addresses in flight at once (results still come out in input order).
    pub window: usize,
    /// Also store INVALID_SYNTAX verdicts in the cache (the database mode does, so the tables
    /// show them; a streamed file of garbage does not fill the database).
    pub store_invalid: bool,
    /// Report results in input order (the streamed CSV needs it). The database mode does not:
    /// there, an address waiting minutes for a greylisting retry must not hold back the
    /// results behind it.
    pub ordered: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions::from_config(&Config::default())
    }
}

impl VerifyOptions {
    pub fn from_config(config: &Config) -> VerifyOptions {
        let v = &config.verify;
        VerifyOptions {
            port: v.port,
            helo_name: v.helo_name.clone(),
            from: v.from.clone(),
            allow_special_use: v.allow_special_use.clone(),
            // The config check bounds it; an unchecked config must not panic either.
            rate_limit: Duration::try_from_secs_f64(v.rate_limit.max(0.0)).unwrap_or(Duration::MAX),
            per_host: v.per_host.max(1) as usize,
            concurrency: v.concurrency.max(1) as usize,
            connect_timeout: Duration::from_secs(8),
            command_timeout: Duration::from_secs(12),
            dns: DnsSettings {
                nameservers: config
                    .dns
                    .nameservers
                    .iter()
                    .filter_map(|ns| crate::config::parse_nameserver(ns))
                    .collect(),
                ..DnsSettings::default()
            },
            retries: 2,
            retry_delay: Duration::from_secs(60),
            cache_ttl: Duration::from_secs(7 * 24 * 3600),
            catch_all_ttl: Duration::from_secs(6 * 3600),
            starttls: true,
            window: 256,
            store_invalid: false,
            ordered: true,
        }
    }
}

/// Where verdicts are kept between runs (the `verifications` table): looked up before a
/// probe, written after. Implemented by [`results::DbResults`].
pub trait ResultCache: Send + Sync {
    /// The stored verdict for `email`, if any (the caller checks its age and status).
    fn lookup<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Option<Verdict>>;
    fn record(&self, email: &str, verdict: &Verdict);
}

/// One address to verify, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputItem {
    /// The address as given (lossily decoded when the input was not UTF-8).
    pub email: String,
    /// Set when the input itself is unusable (not UTF-8, line too long, bad CSV record):
    /// the result is INVALID_SYNTAX with this text.
    pub problem: Option<String>,
}

impl InputItem {
    pub fn new(email: impl Into<String>) -> InputItem {
        InputItem {
            email: email.into(),
            problem: None,
        }
    }
}

pub struct VerifyIn {
    /// Filled by a reader (a file, stdin, the database); bounded, so reading waits for results.
    pub items: mpsc::Receiver<InputItem>,
    pub options: VerifyOptions,
    pub cache: Option<Arc<dyn ResultCache>>,
}

/// One result. `index` counts results from 0: the input position when the run is `ordered`,
/// else the order of completion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyOut {
    pub index: u64,
    pub email: String,
    pub verdict: Verdict,
    /// Reused from the cache rather than probed now.
    pub cached: bool,
}

/// Cumulative counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VerifyProg {
    pub done: u64,
    pub cached: u64,
    /// Addresses that got a TEMPORARY answer and are waiting for their retry.
    pub waiting: u64,
    pub by_status: BTreeMap<Status, u64>,
}

pub enum VerifyEvent {
    Result(VerifyOut),
    Progress(VerifyProg),
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifySummary {
    pub total: u64,
    pub cached: u64,
    pub by_status: BTreeMap<Status, u64>,
    pub cancelled: bool,
    pub seconds: f64,
}

impl fmt::Display for VerifySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} verified in {:.1} s ({} from cache)",
            self.total,
            if self.total == 1 {
                "address"
            } else {
                "addresses"
            },
            self.seconds,
            self.cached
        )?;
        if self.cancelled {
            write!(f, ", stopped before the end")?;
        }
        writeln!(f)?;
        for (status, n) in &self.by_status {
            writeln!(f, "  {:<18} {n}", status.as_str())?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{0}")]
    Dns(#[from] DnsError),
}

/// The shared state of a run: resolver, throttle, caches.
pub struct Verifier {
    pub(crate) opts: VerifyOptions,
    pub(crate) dns: Dns,
    pub(crate) throttle: Throttle,
    pub(crate) mx_cache: TtlCache<String, Result<MxAnswer, DnsError>>,
    /// Addresses of MX hosts (`None`: the name does not exist).
    pub(crate) host_cache: TtlCache<String, Result<Option<Vec<std::net::IpAddr>>, DnsError>>,
    pub(crate) catch_all: TtlCache<String, bool>,
    /// The random local part of each domain's catch-all test, kept across retries so a
    /// greylisting server that deferred it lets it through on the retry, as it does the
    /// address itself.
    pub(crate) catch_all_local: TtlCache<String, String>,
    pub(crate) cache: Option<Arc<dyn ResultCache>>,
    pub(crate) cancel: CancellationToken,
    /// Addresses sleeping before a retry, for the progress line.
    waiting: std::sync::atomic::AtomicU64,
}

impl Verifier {
    pub fn new(
        opts: VerifyOptions,
        cache: Option<Arc<dyn ResultCache>>,
        cancel: CancellationToken,
    ) -> Result<Verifier, VerifyError> {
        Ok(Verifier {
            dns: Dns::new(&opts.dns)?,
            throttle: Throttle::new(opts.rate_limit, opts.per_host, opts.concurrency),
            mx_cache: TtlCache::new(10_000),
            host_cache: TtlCache::new(10_000),
            catch_all: TtlCache::new(10_000),
            catch_all_local: TtlCache::new(10_000),
            opts,
            cache,
            cancel,
            waiting: Default::default(),
        })
    }

    /// How many addresses are waiting for a retry right now.
    pub fn waiting(&self) -> u64 {
        self.waiting.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Verify one input item: syntax, then the cache, then DNS and SMTP with retries of
    /// TEMPORARY results. `None` when cancelled. The boolean says the verdict came from the cache.
    pub async fn verify(&self, item: &InputItem) -> Option<(Verdict, bool)> {
        if let Some(problem) = &item.problem {
            return Some((Verdict::new(Status::InvalidSyntax, problem.clone()), false));
        }
        let addr = match syntax::check(&item.email, &self.opts.allow_special_use) {
            Ok(a) => a,
            Err(e) => {
                let verdict = Verdict::new(Status::InvalidSyntax, e.to_string());
                if self.opts.store_invalid
                    && let Some(cache) = &self.cache
                {
                    cache.record(&item.email, &verdict);
                }
                return Some((verdict, false));
            }
        };
        if let Some(cache) = &self.cache
            && !self.opts.cache_ttl.is_zero()
            && let Some(old) = cache.lookup(&item.email).await
        {
            let age = crate::store::now_ts().saturating_sub(old.checked_at);
            if old.status.is_definitive() && (age as u64) < self.opts.cache_ttl.as_secs() {
                return Some((old, true));
            }
        }
        let mut attempt = 0;
        let verdict = loop {
            let last = attempt >= self.opts.retries;
            let mut verdict = probe::probe(self, &addr, last).await?;
            if verdict.status != Status::Temporary || attempt >= self.opts.retries {
                if attempt > 0 {
                    verdict.detail = format!("{} (after {attempt} retries)", verdict.detail);
                }
                break verdict;
            }
            let pause = self
                .opts
                .retry_delay
                .saturating_mul(1 << attempt.min(8))
                .min(Duration::from_secs(3600));
            attempt += 1;
            tracing::debug!(email = %item.email, ?pause, "TEMPORARY; retrying");
            use std::sync::atomic::Ordering::Relaxed;
            self.waiting.fetch_add(1, Relaxed);
            let cancelled = tokio::select! {
                _ = tokio::time::sleep(pause) => false,
                _ = self.cancel.cancelled() => true,
            };
            self.waiting.fetch_sub(1, Relaxed);
            if cancelled {
                return None;
            }
        };
        if let Some(cache) = &self.cache {
            cache.record(&item.email, &verdict);
        }
        Some((verdict, false))
    }
}

/// Verify every item of `input.items`, calling `report` with each result in input order and
/// with progress. Stops early (and says so in the summary) when `cancel` fires; results
/// already reported stay reported.
pub async fn run(
    input: VerifyIn,
    mut report: impl FnMut(VerifyEvent),
    cancel: CancellationToken,
) -> Result<VerifySummary, VerifyError> {
    let started = std::time::Instant::now();
    let window = input.options.window.max(1);
    let verifier = Arc::new(Verifier::new(
        input.options,
        input.cache,
        cancel.child_token(),
    )?);
    let items = futures::stream::unfold(input.items, |mut rx| async {
        rx.recv().await.map(|item| (item, rx))
    });
    let ordered = verifier.opts.ordered;
    let spawned = items.map(|item| {
        let v = verifier.clone();
        tokio::spawn(async move {
            use futures::FutureExt;
            // A panic in one verification must not end the run: it becomes that row's result.
            let verdict = std::panic::AssertUnwindSafe(v.verify(&item))
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    tracing::error!(email = %item.email, "verification panicked: {what}");
                    let detail = format!("internal error: {what}");
                    Some((Verdict::new(Status::Unknown, detail), false))
                });
            (item, verdict)
        })
    });
    let mut results: futures::stream::BoxStream<'_, _> = if ordered {
        spawned.buffered(window).boxed()
    } else {
        spawned.buffer_unordered(window).boxed()
    };
    let mut prog = VerifyProg::default();
    let mut cancelled = false;
    // While every address left is sleeping before a retry no result arrives for minutes:
    // the tick keeps the progress (and its waiting count) current meanwhile.
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let next = tokio::select! {
            biased;
            _ = cancel.cancelled() => { cancelled = true; break; }
            next = results.next() => next,
            _ = tick.tick() => {
                let waiting = verifier.waiting();
                if waiting != prog.waiting {
                    prog.waiting = waiting;
                    report(VerifyEvent::Progress(prog.clone()));
                }
                continue;
            }
        };
        let Some(joined) = next else { break };
        let (item, verdict) = match joined {
            Ok((item, Some(v))) => (item, v),
            // Cancelled inside, or the runtime is shutting down.
            Ok((_, None)) | Err(_) => {
                cancelled = true;
                break;
            }
        };
        let (verdict, cached) = verdict;
        *prog.by_status.entry(verdict.status).or_default() += 1;
        prog.cached += u64::from(cached);
        report(VerifyEvent::Result(VerifyOut {
            index: prog.done,
            email: item.email,
            verdict,
            cached,
        }));
        prog.done += 1;
        prog.waiting = verifier.waiting();
        report(VerifyEvent::Progress(prog.clone()));
    }
    drop(results);
    verifier.cancel.cancel();
    Ok(VerifySummary {
        total: prog.done,
        cached: prog.cached,
        by_status: prog.by_status,
        cancelled,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The TUI runs verification as a background task: `run` must be spawnable, report
    /// through a `Send` reporter and finish when its input ends.
    #[tokio::test]
    async fn run_works_as_a_spawned_background_task() {
        let (tx, rx) = mpsc::channel(4);
        let (events, mut seen) = mpsc::unbounded_channel();
        let input = VerifyIn {
            items: rx,
            options: VerifyOptions::default(),
            cache: None,
        };
        let job = tokio::spawn(run(
            input,
            move |ev| {
                if let VerifyEvent::Result(out) = ev {
                    let _ = events.send(out);
                }
            },
            CancellationToken::new(),
        ));
        tx.send(InputItem::new("not an address")).await.unwrap();
        tx.send(InputItem {
            email: "\u{fffd}@x".into(),
            problem: Some("not valid UTF-8".into()),
        })
        .await
        .unwrap();
        drop(tx);
        let summary = job.await.unwrap().unwrap();
        assert_eq!(summary.total, 2);
        assert!(!summary.cancelled);
        let first = seen.recv().await.unwrap();
        assert_eq!(
            (first.index, first.verdict.status),
            (0, Status::InvalidSyntax)
        );
        let second = seen.recv().await.unwrap();
        assert_eq!(second.verdict.detail, "not valid UTF-8");
    }

    #[test]
    fn status_names_round_trip_and_sending_rules() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::Value::String(s.as_str().into())
            );
        }
        let blocked: Vec<_> = Status::ALL
            .into_iter()
            .filter(|s| s.blocks_sending())
            .collect();
        assert_eq!(
            blocked,
            [
                Status::MailboxNotFound,
                Status::Disabled,
                Status::InvalidSyntax,
                Status::NoMx
            ]
        );
        let risky: Vec<_> = Status::ALL.into_iter().filter(|s| s.is_risky()).collect();
        assert_eq!(risky, [Status::CatchAll, Status::Unknown]);
    }
}
