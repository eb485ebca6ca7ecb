//! Address verification: syntax, DNS, an SMTP RCPT probe, catch-all and greylisting detection,
//! throttling per MX host, and streaming at scale.
//!
//! [`run`] takes addresses from a bounded channel, verifies up to `window` of them at once and
//! reports each result in input order, so memory stays flat whatever the input size. An
//! address waiting minutes for a greylisting retry is parked outside the window, so the
//! others go on meanwhile; `backlog` bounds what is taken and not yet reported. The CLI
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
pub mod database;
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

    /// What the status means for the campaign, for logs that list counts per status.
    pub fn meaning(self) -> &'static str {
        match self {
            Status::Valid => "the server accepts the address",
            Status::CatchAll => {
                "the domain accepts any address, so this one is unproven (sent, flagged risky)"
            }
            Status::MailboxNotFound => "the server says there is no such mailbox (never sent)",
            Status::MailboxFull => "the mailbox is full (sent; it may bounce)",
            Status::Disabled => "the mailbox is disabled (never sent)",
            Status::InvalidSyntax => "not a valid address (never sent)",
            Status::NoMx => {
                "the domain takes no mail: no MX, null MX or no such domain (never sent)"
            }
            Status::Timeout => "the server did not answer in time (asked again next run)",
            Status::ConnectionRefused => "no MX host took the connection (asked again next run)",
            Status::Temporary => {
                "greylisting or a 4xx answer, still after the retries (asked again next run)"
            }
            Status::Unknown => "nothing settled it, e.g. a resolver problem (sent, flagged risky)",
        }
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
    /// Addresses worked on at once (results still come out in input order). One waiting
    /// for a retry does not count: it is parked until its retry is due.
    pub window: usize,
    /// Addresses taken from the input and not yet reported, at most: worked on, waiting
    /// for a retry, or (ordered) done and held back behind an earlier one. Bounds memory
    /// however long a retry waits; reading pauses when it is reached.
    pub backlog: usize,
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
            backlog: 16_384,
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
    /// The address as given (lossily decoded when the input was not UTF-8), without the
    /// wrapping people paste around one: `Jane Doe <jane@acme.test>`, `mailto:`.
    pub email: String,
    /// Set when the input itself is unusable (not UTF-8, line too long, bad CSV record):
    /// the result is INVALID_SYNTAX with this text.
    pub problem: Option<String>,
    /// Set when the address must not be probed (it is on the suppression list): the result is
    /// its stored verdict, whatever its age, or UNKNOWN with this text.
    pub not_probed: Option<String>,
    /// The input row's fields (a CSV with a header), given back with the result so the output
    /// keeps the input's columns.
    pub row: Option<Vec<String>>,
}

impl InputItem {
    pub fn new(email: impl AsRef<str>) -> InputItem {
        InputItem {
            email: crate::engine::import::normalize::bare_address(email.as_ref()).to_string(),
            problem: None,
            not_probed: None,
            row: None,
        }
    }

    /// An input that is not an address at all (not UTF-8, too long, a broken CSV record).
    pub fn unusable(echo: String, problem: String) -> InputItem {
        InputItem {
            email: echo,
            problem: Some(problem),
            not_probed: None,
            row: None,
        }
    }

    pub fn with_row(mut self, row: Option<Vec<String>>) -> InputItem {
        self.row = row;
        self
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
    /// The input row's fields, when the input is a CSV with a header.
    #[serde(skip)]
    pub row: Option<Vec<String>>,
}

/// Cumulative counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VerifyProg {
    pub done: u64,
    pub cached: u64,
    /// Addresses that got a TEMPORARY answer and are waiting for their retry.
    pub waiting: u64,
    /// The first few of them, soonest first, with the answer: "a@x.test (450 4.7.1 …)".
    pub waiting_for: Vec<String>,
    /// When the next and the last of those retries are due, from now (`None`: none waits).
    /// The run cannot end before the last.
    pub next_retry_in: Option<Duration>,
    pub last_retry_in: Option<Duration>,
    pub by_status: BTreeMap<Status, u64>,
}

impl VerifyProg {
    /// The waiting addresses and what they wait on, for the progress lines: "a@x.test (450
    /// 4.7.1 Greylisted), b@y.test (…) and 2 more"; empty when none waits.
    pub fn waiting_names(&self) -> String {
        let more = (self.waiting as usize).saturating_sub(self.waiting_for.len());
        let mut text = self.waiting_for.join(", ");
        if more > 0 && !text.is_empty() {
            text += &format!(" and {more} more");
        }
        text
    }
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
}

/// Where one address stands after a step of its verification.
#[derive(Debug)]
pub enum Step {
    /// The verdict; the boolean says it came from the cache.
    Done(Verdict, bool),
    /// TEMPORARY with retries left: probe this address again after a pause; the text is the
    /// answer that asked for it.
    Retry(syntax::Address, String),
    /// Cancelled during the step.
    Cancelled,
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
        })
    }

    /// The first step for one input item: syntax, then the cache, then a first probe.
    pub async fn start(&self, item: &InputItem) -> Step {
        if let Some(problem) = &item.problem {
            return Step::Done(Verdict::new(Status::InvalidSyntax, problem.clone()), false);
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
                return Step::Done(verdict, false);
            }
        };
        if let Some(why) = &item.not_probed {
            let known = match &self.cache {
                Some(cache) => cache.lookup(&item.email).await,
                None => None,
            };
            return match known {
                Some(old) => Step::Done(old, true),
                None => Step::Done(Verdict::new(Status::Unknown, why.clone()), false),
            };
        }
        if let Some(cache) = &self.cache
            && !self.opts.cache_ttl.is_zero()
            && let Some(old) = cache.lookup(&item.email).await
        {
            let age = crate::store::now_ts().saturating_sub(old.checked_at);
            if old.status.is_definitive() && (age as u64) < self.opts.cache_ttl.as_secs() {
                return Step::Done(old, true);
            }
        }
        self.attempt(&item.email, addr, 0).await
    }

    /// Probe `addr` (attempt 0 is the first probe, 1 the first retry): a TEMPORARY answer
    /// with retries left asks for another attempt; any other verdict is stored.
    pub async fn attempt(&self, email: &str, addr: syntax::Address, attempt: u32) -> Step {
        let last = attempt >= self.opts.retries;
        let Some(mut verdict) = probe::probe(self, &addr, last).await else {
            return Step::Cancelled;
        };
        if verdict.status == Status::Temporary && !last {
            tracing::debug!(%email, attempt, "TEMPORARY; retrying");
            let why = match (verdict.code, &verdict.enhanced) {
                (Some(code), Some(enh)) => format!("{code} {enh} {}", verdict.detail),
                (Some(code), None) => format!("{code} {}", verdict.detail),
                _ => verdict.detail.clone(),
            };
            return Step::Retry(addr, crate::text::shorten(&why, 100));
        }
        if attempt > 0 {
            verdict.detail = format!("{} (after {attempt} retries)", verdict.detail);
        }
        if let Some(cache) = &self.cache {
            cache.record(email, &verdict);
        }
        Step::Done(verdict, false)
    }

    /// The pause before retry number `retry` (from 1): `retry_delay`, doubling each time,
    /// at most an hour.
    pub fn pause_before(&self, retry: u32) -> Duration {
        self.opts
            .retry_delay
            .saturating_mul(1 << retry.saturating_sub(1).min(8))
            .min(Duration::from_secs(3600))
    }
}

/// One address between its steps.
struct Task {
    /// Its input position.
    seq: u64,
    item: InputItem,
    /// The attempt that ran (0: the first probe).
    attempt: u32,
}

/// Run one step of `task` on its own task. A panic in one verification must not end the
/// run: it becomes that address's result.
fn spawn_step(
    v: &Arc<Verifier>,
    task: Task,
    retry: Option<syntax::Address>,
) -> tokio::task::JoinHandle<(Task, Step)> {
    let v = v.clone();
    tokio::spawn(async move {
        use futures::FutureExt;
        let step = match retry {
            None => {
                std::panic::AssertUnwindSafe(v.start(&task.item))
                    .catch_unwind()
                    .await
            }
            Some(addr) => {
                std::panic::AssertUnwindSafe(v.attempt(&task.item.email, addr, task.attempt))
                    .catch_unwind()
                    .await
            }
        };
        let step = step.unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(email = %task.item.email, "verification panicked: {what}");
            Step::Done(
                Verdict::new(Status::Unknown, format!("internal error: {what}")),
                false,
            )
        });
        (task, step)
    })
}

/// Verify every item of `input.items`, calling `report` with each result (in input order when
/// the run is `ordered`) and with progress. Stops early (and says so in the summary) when
/// `cancel` fires; results already reported stay reported.
///
/// Waiting addresses named in the progress (the count gives the rest).
const WAITING_NAMED: usize = 3;

/// At most `window` addresses are being worked on (DNS, a session, or waiting for a session
/// slot) at once. An address waiting for a retry is parked outside that window, so the rest
/// of the input goes on meanwhile; what is taken from the input but not yet reported (being
/// worked on, parked, or done and held back for input order) is bounded by `backlog`, so
/// memory stays flat however long a retry waits: reading waits when it is full.
pub async fn run(
    mut input: VerifyIn,
    mut report: impl FnMut(VerifyEvent),
    cancel: CancellationToken,
) -> Result<VerifySummary, VerifyError> {
    use tokio::time::Instant;
    let started = std::time::Instant::now();
    let window = input.options.window.max(1);
    let backlog = input.options.backlog.max(window);
    let ordered = input.options.ordered;
    let verifier = Arc::new(Verifier::new(
        input.options,
        input.cache,
        cancel.child_token(),
    )?);
    let mut working = futures::stream::FuturesUnordered::new();
    // Addresses waiting for a retry, by when it is due (then input position, so keys differ).
    let mut parked: BTreeMap<(Instant, u64), (Task, syntax::Address, String)> = BTreeMap::new();
    // Ordered: results done but behind one still being worked on, by input position.
    let mut held: BTreeMap<u64, (InputItem, Verdict, bool)> = BTreeMap::new();
    let mut taken = 0u64;
    let mut input_open = true;
    let mut prog = VerifyProg::default();
    let mut cancelled = false;
    // While every address left waits for a retry no result arrives for minutes: the tick
    // keeps the progress (its waiting count and time to the retries) current meanwhile.
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let waits = |parked: &BTreeMap<(Instant, u64), _>, prog: &mut VerifyProg| {
        let now = Instant::now();
        prog.waiting = parked.len() as u64;
        prog.waiting_for = parked
            .values()
            .take(WAITING_NAMED)
            .map(|(task, _, why): &(Task, syntax::Address, String)| {
                format!("{} ({why})", task.item.email)
            })
            .collect();
        prog.next_retry_in = parked
            .keys()
            .next()
            .map(|(at, _)| at.saturating_duration_since(now));
        // The map is ordered by due time: the last key is the latest.
        prog.last_retry_in = parked
            .keys()
            .next_back()
            .map(|(at, _)| at.saturating_duration_since(now));
    };
    loop {
        if !input_open && working.is_empty() && parked.is_empty() {
            break;
        }
        let room = working.len() < window;
        let next_due = parked.keys().next().map(|(at, _)| *at);
        let joined = tokio::select! {
            biased;
            _ = cancel.cancelled() => { cancelled = true; break; }
            Some(joined) = working.next(), if !working.is_empty() => joined,
            _ = tokio::time::sleep_until(next_due.unwrap_or_else(Instant::now)),
                if room && next_due.is_some() =>
            {
                if let Some((_, (task, addr, _))) = parked.pop_first() {
                    working.push(spawn_step(&verifier, task, Some(addr)));
                }
                continue;
            }
            item = input.items.recv(), if input_open && room && taken - prog.done < backlog as u64 => {
                match item {
                    Some(item) => {
                        let task = Task { seq: taken, item, attempt: 0 };
                        taken += 1;
                        working.push(spawn_step(&verifier, task, None));
                    }
                    None => input_open = false,
                }
                continue;
            }
            _ = tick.tick() => {
                let before = prog.waiting;
                waits(&parked, &mut prog);
                if prog.waiting > 0 || before > 0 {
                    report(VerifyEvent::Progress(prog.clone()));
                }
                continue;
            }
        };
        let (mut task, step) = match joined {
            Ok(done) => done,
            // The runtime is shutting down.
            Err(_) => {
                cancelled = true;
                break;
            }
        };
        let (verdict, cached) = match step {
            Step::Done(verdict, cached) => (verdict, cached),
            Step::Cancelled => {
                cancelled = true;
                break;
            }
            Step::Retry(addr, why) => {
                task.attempt += 1;
                let due = Instant::now() + verifier.pause_before(task.attempt);
                parked.insert((due, task.seq), (task, addr, why));
                waits(&parked, &mut prog);
                report(VerifyEvent::Progress(prog.clone()));
                continue;
            }
        };
        if ordered {
            held.insert(task.seq, (task.item, verdict, cached));
            while let Some((item, verdict, cached)) = held.remove(&prog.done) {
                emit(&mut report, &mut prog, item, verdict, cached);
            }
        } else {
            emit(&mut report, &mut prog, task.item, verdict, cached);
        }
        waits(&parked, &mut prog);
        report(VerifyEvent::Progress(prog.clone()));
    }
    drop(working);
    verifier.cancel.cancel();
    Ok(VerifySummary {
        total: prog.done,
        cached: prog.cached,
        by_status: prog.by_status,
        cancelled,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Report one result; its index is the count reported before it.
fn emit(
    report: &mut impl FnMut(VerifyEvent),
    prog: &mut VerifyProg,
    item: InputItem,
    verdict: Verdict,
    cached: bool,
) {
    *prog.by_status.entry(verdict.status).or_default() += 1;
    prog.cached += u64::from(cached);
    report(VerifyEvent::Result(VerifyOut {
        index: prog.done,
        email: item.email,
        verdict,
        cached,
        row: item.row,
    }));
    prog.done += 1;
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
        tx.send(InputItem::unusable(
            "\u{fffd}@x".into(),
            "not valid UTF-8".into(),
        ))
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
