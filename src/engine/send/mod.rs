//! The sender: approved READY rows (and due RETRY rows) go out through the configured
//! mailboxes, within each mailbox's cap, warm-up, window and delays, one pooled SMTP session
//! per mailbox.
//!
//! Crash safety, row by row:
//! 1. checks right before sending: an address, not suppressed (the list may have grown since
//!    the build), no other row to the same address handed to a server, no `{placeholder}` left;
//! 2. READY/RETRY → SENDING, with the mailbox's daily counter bumped, COMMITTED before the SMTP
//!    transaction starts;
//! 3. then SENT (with the server's reply) | ERROR (5xx, with the server's text) | RETRY (4xx, or
//!    the connection lost before the end of DATA; exponential backoff, `max_attempts`) |
//!    UNCERTAIN (the connection lost after the message was handed over: never resent).
//!
//! At start-up, rows still SENDING (the process died mid-transaction) become UNCERTAIN, and
//! each is resolved to SENT when its Message-ID is found in the mailbox's Sent folder (not
//! finding it proves nothing: the copy is appended after the server accepts). The message as
//! sent is kept from its claim until its Sent copy is made, so the copies a stopped run did
//! not make are appended by the next one. A lock file in the data directory keeps two
//! senders (CLI and TUI) from running at once.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use chrono::Utc;
use serde::Serialize;
use tokio::time::Instant;

use crate::config::{Config, MailboxConfig};
use crate::engine::jobs::{Level, Reporter};
use crate::engine::outbox::build::{Verification, verification};
use crate::net::imap::ImapEndpoint;
use crate::store::outbox::{OutboxRow, Status};
use crate::store::{self, Store, StoreError, outbox, pauses, sending, suppressions};

mod check;
pub mod message;
mod run;

pub use check::{MailboxCheck, check_mailbox};
pub mod sent_copy;
pub mod throttle;
pub mod transport;

use sent_copy::SentFolder;
use throttle::Throttle;
use transport::{SmtpEndpoint, SmtpSession};

/// What to run.
#[derive(Debug, Clone)]
pub struct SendIn {
    pub config: Config,
    pub data_dir: PathBuf,
    pub dry_run: bool,
    pub limit: Option<u64>,
    /// Only this mailbox.
    pub mailbox: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MailboxOut {
    pub name: String,
    pub sent_this_run: u64,
    /// A dry run: the messages rendered to .eml files for this mailbox.
    pub written_this_run: u64,
    pub sent_today: u32,
    pub cap_today: u32,
    pub error: Option<String>,
    /// `error` says the mailbox is paused (on purpose), not that it failed.
    pub paused: bool,
    /// When the sending window is closed now: when it opens next.
    pub window_opens: Option<String>,
}

/// What a mailbox can do now, in the one order `mailbox status` and the TUI (Settings, the
/// S confirmation) tell it: paused, unusable, window closed, at its cap, ready. A capped
/// mailbox whose window is closed says the window, which tells when it may send again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailboxState<'a> {
    /// Paused by hand or by the auto-pause rule: the lane's text, with how to resume.
    Paused(&'a str),
    /// It cannot send (a password that cannot be read, a bad setting): why.
    Unusable(&'a str),
    /// Its sending window is closed: when it opens next (RFC 3339, the mailbox's zone).
    WindowClosed(&'a str),
    /// Today's cap (warm-up applied) is reached.
    AtCap,
    Ready,
}

impl MailboxState<'_> {
    /// As `mailbox status --json` names it.
    pub fn key(self) -> &'static str {
        match self {
            MailboxState::Paused(_) => "paused",
            MailboxState::Unusable(_) => "unusable",
            MailboxState::WindowClosed(_) => "window_closed",
            MailboxState::AtCap => "at_cap",
            MailboxState::Ready => "ready",
        }
    }
}

impl MailboxOut {
    pub fn state(&self) -> MailboxState<'_> {
        match (&self.error, &self.window_opens) {
            (Some(e), _) if self.paused => MailboxState::Paused(e),
            (Some(e), _) => MailboxState::Unusable(e),
            (None, Some(at)) => MailboxState::WindowClosed(at),
            _ if self.sent_today >= self.cap_today => MailboxState::AtCap,
            _ => MailboxState::Ready,
        }
    }
}

/// A send run as the Activity tab shows it live.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LiveStatus {
    /// Rows handled this run (any outcome) out of the rows it set out to handle.
    pub done: u64,
    pub total: u64,
    pub sent: u64,
    /// ERROR, RETRY, UNCERTAIN and refused rows this run.
    pub not_sent: u64,
    pub mailboxes: Vec<LiveMailbox>,
    /// When the next message is due to start, counted from this status (delays, a closed
    /// window, a retry); `None` while messages go out back to back.
    pub next_send_in: Option<Duration>,
    /// What the run waits for, when it waits; once over, why it stopped.
    pub waiting: Option<Wait>,
}

/// What a run waits for: the live status says it, typed, so a reader (the CLI's countdown)
/// needs no text to recognise it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wait {
    /// The delay between two sends of a mailbox.
    Delay,
    /// A retry that falls due within the run's wait.
    Retry,
    /// Every open mailbox's sending window is closed.
    WindowClosed,
    /// The task is paused (TUI).
    Paused,
    /// The run is over: why it stopped (the summary's `stopped`).
    Stopped(String),
}

impl Wait {
    pub fn as_str(&self) -> &str {
        match self {
            Wait::Delay => "delay between two sends",
            Wait::Retry => "a retry falls due",
            Wait::WindowClosed => "sending window closed",
            Wait::Paused => "paused",
            Wait::Stopped(why) => why,
        }
    }
}

impl std::fmt::Display for Wait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Wait {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LiveMailbox {
    pub name: String,
    pub sent_today: u32,
    pub cap_today: u32,
    pub sent_this_run: u64,
    /// "sending", "next in 12 s", "window closed", "cap reached", "failed: …".
    pub state: String,
    /// The wait behind a "next in 12 s" state, counted from this status: the TUI counts it
    /// down between two statuses, as it does the run's next send.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_in: Option<Duration>,
}

/// A wait as every countdown shows it: "in 3 s", in whole seconds rounded up, so a
/// countdown never ticks up between two redraws. The run's "next send in 3 s" (its first
/// draw, and `hailer send`'s redraws) and a mailbox's "next in 3 s" (TUI) are made here.
pub fn wait_text(wait: Duration) -> String {
    format!("in {:.0} s", wait.as_secs_f64().ceil())
}

/// The run's note while it waits between two sends: "next send in 3 s".
pub fn next_send_text(wait: Duration) -> String {
    format!("next send {}", wait_text(wait))
}

/// A mailbox's note while it waits: "next in 3 s".
pub fn next_in_text(wait: Duration) -> String {
    format!("next {}", wait_text(wait))
}

#[derive(Debug, Clone, Serialize)]
pub struct RowOutcome {
    pub id: i64,
    pub email: String,
    /// The row's status after the run (a dry run changes none: READY stays READY).
    pub status: Status,
    pub text: String,
    /// A dry run: the status a real run would give the row (ERROR for a row refused by the
    /// checks), which the dry run did not set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_be: Option<Status>,
}

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SendOut {
    pub dry_run: bool,
    pub sent: u64,
    /// Rows that ended ERROR. `errors` in JSON: `error` is the message of a run that exits
    /// non-zero, as in every `--json` error.
    #[serde(rename = "errors")]
    pub error: u64,
    pub retry: u64,
    pub uncertain: u64,
    /// Refused by the checks right before sending (suppressed, duplicate, placeholder).
    pub refused: u64,
    /// Rows found SENDING at start-up (now UNCERTAIN).
    pub interrupted: u64,
    /// UNCERTAIN rows found in a Sent folder (now SENT).
    pub resolved: u64,
    /// Sent copies an earlier run did not make (it stopped first), appended by this one.
    pub copies_made_late: u64,
    /// UNCERTAIN rows in the outbox once the run ended (this run's and earlier ones'): each
    /// waits for the user's decision.
    pub uncertain_waiting: u64,
    /// READY rows left unapproved once the run ended (`[sending] require_approval`): no run
    /// sends them until they are approved.
    pub awaiting_approval: u64,
    pub written: u64,
    pub dry_run_dir: Option<PathBuf>,
    pub mailboxes: Vec<MailboxOut>,
    /// Rows that did not end SENT, with why.
    pub problems: Vec<RowOutcome>,
    pub stopped: String,
    /// The run stopped with rows left because every mailbox was paused or failed on the
    /// way: `hailer send` exits as the next run would (it cannot start).
    #[serde(skip)]
    pub out_of_mailboxes: bool,
}

impl std::fmt::Display for SendOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.report(f, usize::MAX)
    }
}

impl SendOut {
    /// Rows this run took a decision on (sent, refused, failed, retried, left uncertain, or
    /// resolved from a Sent folder).
    pub fn handled(&self) -> u64 {
        self.sent + self.error + self.retry + self.uncertain + self.refused + self.resolved
    }

    /// Mailboxes that failed in this run (a refused login, no connection, a bad DKIM key),
    /// paused ones not counted: `hailer send` names them on stderr.
    pub fn failed_mailboxes(&self) -> impl Iterator<Item = &MailboxOut> {
        self.mailboxes
            .iter()
            .filter(|m| m.error.is_some() && !m.paused)
    }

    /// The report with at most `max_problems` problem rows listed, then how many more (an
    /// alert must stay short however many rows had problems).
    pub fn brief(&self, max_problems: usize) -> String {
        struct Brief<'a>(&'a SendOut, usize);
        impl std::fmt::Display for Brief<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.report(f, self.1)
            }
        }
        Brief(self, max_problems).to_string()
    }

    fn report(&self, f: &mut std::fmt::Formatter<'_>, max_problems: usize) -> std::fmt::Result {
        if self.dry_run {
            writeln!(
                f,
                "dry run: {} written to {} (nothing sent; caps, windows and delays are not applied)",
                crate::text::count(self.written, "message", "messages"),
                self.dry_run_dir
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            )?;
        } else {
            writeln!(
                f,
                "send: {} SENT, {} ERROR, {} RETRY, {} UNCERTAIN, {} refused before sending",
                self.sent, self.error, self.retry, self.uncertain, self.refused
            )?;
        }
        if self.interrupted > 0 || self.resolved > 0 {
            writeln!(
                f,
                "  {} rows interrupted by an earlier crash became UNCERTAIN; {} found in Sent folders (now SENT)",
                self.interrupted, self.resolved
            )?;
        }
        if self.copies_made_late > 0 {
            writeln!(
                f,
                "  {} Sent {} an earlier run did not make appended now",
                self.copies_made_late,
                if self.copies_made_late == 1 {
                    "copy"
                } else {
                    "copies"
                }
            )?;
        }
        if !self.dry_run && self.uncertain_waiting > 0 {
            writeln!(
                f,
                "  {} UNCERTAIN {} your decision (never resent by itself): `hailer outbox settle \
                 --sent|--requeue ID`, or u on the Outbox tab",
                self.uncertain_waiting,
                if self.uncertain_waiting == 1 {
                    "row waits for"
                } else {
                    "rows wait for"
                }
            )?;
        }
        if self.awaiting_approval > 0 {
            writeln!(
                f,
                "  {} not sent: approve {} (`hailer outbox approve ID…|--all`, or a on the \
                 Outbox tab), then send again",
                crate::text::count(
                    self.awaiting_approval,
                    "READY row waits for an approval,",
                    "READY rows wait for an approval,"
                ),
                if self.awaiting_approval == 1 {
                    "it"
                } else {
                    "them"
                }
            )?;
        }
        for m in &self.mailboxes {
            if self.dry_run {
                write!(
                    f,
                    "  mailbox {}: {} written this run, {}/{} sent today",
                    m.name, m.written_this_run, m.sent_today, m.cap_today
                )?;
            } else {
                write!(
                    f,
                    "  mailbox {}: {} this run, {}/{} today",
                    m.name, m.sent_this_run, m.sent_today, m.cap_today
                )?;
            }
            match &m.error {
                Some(e) => writeln!(f, " — FAILED: {e}")?,
                None => writeln!(f)?,
            }
        }
        for p in self.problems.iter().take(max_problems) {
            writeln!(f, "  #{} {} {}: {}", p.id, p.email, p.status, p.text)?;
        }
        if self.problems.len() > max_problems {
            writeln!(f, "  …and {} more", self.problems.len() - max_problems)?;
        }
        if !self.stopped.is_empty() {
            writeln!(f, "  {}", self.stopped)?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("no mailbox is configured: add a [mailboxes.NAME] section to the config")]
    NoMailbox,
    #[error("no mailbox named {name:?} in the config (configured: {})", known.join(", "))]
    UnknownMailbox { name: String, known: Vec<String> },
    /// The mailboxes as a run's summary gives them, each with its `error`: a script reads
    /// one shape whether the run sent or not.
    #[error("no usable mailbox: {}", unusable(.0))]
    NoUsableMailbox(Vec<MailboxOut>),
    #[error("another hailer send is running on {0} (lock held)")]
    AlreadyRunning(PathBuf),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(String),
    #[error("tracking: {0}")]
    Tracking(String),
    #[error("sending stopped after {sent} sent: {why}")]
    NotDurable { why: String, sent: u64 },
}

/// "NAME: why; NAME: why" for the mailboxes no run could use.
fn unusable(mailboxes: &[MailboxOut]) -> String {
    mailboxes
        .iter()
        .map(|m| format!("{}: {}", m.name, m.error.as_deref().unwrap_or("")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// How long a run waits for a retry that falls due, or a window that opens, before it stops
/// and leaves the rest for the next run.
pub const WAIT_AT_MOST: Duration = Duration::from_secs(120);

/// Retry backoff: `retry_base × 2^(attempts-1)` seconds.
pub fn backoff(base_secs: u64, attempts: i64) -> u64 {
    let exp = (attempts.max(1) - 1).min(16) as u32;
    base_secs.saturating_mul(1u64 << exp)
}

/// Blocking entry point for the CLI and the TUI's job runner: its own small runtime.
pub fn run(input: SendIn, reporter: &Reporter) -> Result<SendOut, SendError> {
    // Two workers: SMTP sessions keep talking while the scheduler thread writes to SQLite and
    // renders the next message (on one thread, that work stalled every session in turn;
    // measured again with the prepare-ahead loop: a current-thread runtime was 15-20% slower
    // on the MX port, one and four mailboxes).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| SendError::Io(e.to_string()))?;
    // The scheduler runs as a task on the runtime rather than on this thread: the sessions it
    // spawns then usually start on the same worker, and their completions wake it without a
    // cross-thread wake-up.
    let reporter = reporter.clone();
    rt.block_on(async move {
        tokio::spawn(async move { run_async(input, &reporter).await })
            .await
            .map_err(|e| SendError::Io(format!("send task failed: {e}")))?
    })
}

struct Lane {
    name: String,
    cfg: MailboxConfig,
    throttle: Option<Throttle>,
    smtp: Option<SmtpEndpoint>,
    sent_folder: Option<Arc<Mutex<SentFolder>>>,
    session: Option<SmtpSession>,
    busy: bool,
    next_at: Instant,
    /// The next message, checked and rendered while the current one is in flight.
    prepared: Option<run::Prepared>,
    /// Today's counter, cached during a run.
    counter: run::Counter,
    failed: Option<String>,
    /// `failed` says the mailbox is paused (by hand or by the bounce watcher): taken out on
    /// purpose, not a failure of this run.
    paused: bool,
    /// Set up went wrong in a way that does not stop the mailbox (no IMAP for Sent copies):
    /// said once at the start of the run.
    warning: Option<String>,
    sent_this_run: u64,
}

impl Lane {
    fn usable(&self) -> bool {
        self.failed.is_none()
    }
}

/// Today's key, cap and count for a lane.
fn capacity(store: &Store, lane: &Lane) -> Result<(String, u32, u32), StoreError> {
    let t = lane
        .throttle
        .as_ref()
        .expect("usable lanes have a throttle");
    let day = t.day(Utc::now());
    let first = sending::first_day(store.conn(), &lane.name)?.and_then(|d| d.parse().ok());
    let cap = t.cap_on(day, first);
    let key = day.to_string();
    let sent = sending::sent_on(store.conn(), &lane.name, &key)?;
    Ok((key, cap, sent))
}

/// Rows left SENDING by a run that died become UNCERTAIN now, when no run holds the send
/// lock (a live run's SENDING rows are its own). The TUI calls this at start-up so such rows
/// show up for `u` at once instead of at the next send. Returns how many rows changed.
pub fn recover_interrupted(data_dir: &std::path::Path) -> Result<u64, SendError> {
    let _lock = match lock_file(data_dir) {
        Ok(lock) => lock,
        Err(SendError::AlreadyRunning(_)) => return Ok(0),
        Err(e) => return Err(e),
    };
    let store = Store::open_in(data_dir)?;
    Ok(sending::mark_interrupted_uncertain(store.conn(), store::now_ts())? as u64)
}

fn lock_file(data_dir: &std::path::Path) -> Result<std::fs::File, SendError> {
    std::fs::create_dir_all(data_dir).map_err(|e| SendError::Io(e.to_string()))?;
    let path = data_dir.join("send.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| SendError::Io(format!("{}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(SendError::AlreadyRunning(path)),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(SendError::Io(format!("{}: {e}", path.display())))
        }
    }
}

fn build_lanes(input: &SendIn) -> Result<Vec<Lane>, SendError> {
    let config = &input.config;
    if config.mailboxes.is_empty() {
        return Err(SendError::NoMailbox);
    }
    if let Some(only) = &input.mailbox
        && !config.mailboxes.contains_key(only)
    {
        return Err(SendError::UnknownMailbox {
            name: only.clone(),
            known: config.mailboxes.keys().cloned().collect(),
        });
    }
    let ca = config.tls.ca_file.clone();
    let mut lanes = Vec::new();
    for (name, mb) in &config.mailboxes {
        if input.mailbox.as_ref().is_some_and(|only| only != name) {
            continue;
        }
        let mut failed = None;
        let throttle = Throttle::from_config(mb).map_err(|e| failed = Some(e)).ok();
        let smtp = if input.dry_run {
            None
        } else {
            SmtpEndpoint::for_mailbox(mb, ca.clone())
                .map_err(|e| failed = Some(format!("password: {e}")))
                .ok()
        };
        let mut warning = None;
        let sent_folder = if input.dry_run || mb.imap_host.is_none() {
            None
        } else {
            ImapEndpoint::for_mailbox(name, mb, ca.clone())
                .map_err(|e| {
                    warning = Some(format!(
                        "IMAP not usable ({e}): no copies in the Sent folder this run, and \
                         UNCERTAIN rows are left for you to decide"
                    ))
                })
                .ok()
                .map(|ep| Arc::new(Mutex::new(SentFolder::new(ep, mb.sent_folder.clone()))))
        };
        lanes.push(Lane {
            name: name.clone(),
            cfg: mb.clone(),
            throttle,
            smtp,
            sent_folder,
            session: None,
            busy: false,
            next_at: Instant::now(),
            prepared: None,
            counter: run::Counter::default(),
            failed,
            paused: false,
            warning,
            sent_this_run: 0,
        });
    }
    Ok(lanes)
}

/// The send-time checks; `Err(reason)` refuses the row.
///
/// `taken`, when given, holds (lowercased) every address that may already have gone out: the
/// exact duplicate query (a scan of the outbox) runs only for addresses found in it.
fn check_row(
    store: &Store,
    row: &OutboxRow,
    taken: Option<&std::collections::HashSet<String>>,
) -> Result<Result<String, String>, StoreError> {
    let Some(email) = row.email.clone() else {
        return Ok(Err("no address".into()));
    };
    if let Some(s) = suppressions::blocking(store.conn(), &email)? {
        return Ok(Err(format!("suppressed: {} ({})", s.entry, s.cause)));
    }
    // Verified after the build (or un-skipped since): a known-bad address is never mailed.
    let lower = email.to_lowercase();
    let spellings: &[&str] = if lower == email {
        &[&email]
    } else {
        &[&email, &lower]
    };
    if let Verification::Blocks(reason) = verification(store.conn(), spellings)? {
        return Ok(Err(reason));
    }
    // The user chose another address on Suggestions after the build (or approval): the row
    // and its text are for one they gave up.
    if let Some(reason) = outbox::address_changed(store.conn(), row.prospect_id, &email)? {
        return Ok(Err(reason));
    }
    if let Some(reason) = duplicate(store, row.id, &email, taken)? {
        return Ok(Err(reason));
    }
    // The name goes into the To header: a CRM's leftover merge field ("{FirstName}") would
    // reach the recipient there even when the template never uses it.
    let name = format!("{} {}", row.firstname, row.lastname);
    for (part, text) in [
        ("subject", &row.subject),
        ("body", &row.body),
        ("the recipient's name", &name),
    ] {
        if let Some(p) = crate::engine::outbox::template::literal_placeholder(text) {
            return Ok(Err(format!("unresolved placeholder: {p} in {part}")));
        }
    }
    Ok(Ok(email))
}

/// Why row `id` must not go to `email`: another row to that address may have gone out.
/// `taken` as in `check_row`; the sender asks again right before its claim, since another
/// lane may have claimed such a row after this one was checked.
pub(super) fn duplicate(
    store: &Store,
    id: i64,
    email: &str,
    taken: Option<&std::collections::HashSet<String>>,
) -> Result<Option<String>, StoreError> {
    if !taken.is_none_or(|t| t.contains(&email.to_lowercase())) {
        return Ok(None);
    }
    Ok(sending::already_sent_to(store.conn(), id, email)?
        .map(|other| format!("duplicate address: {email} already went out with row #{other}")))
}

/// What a paused mailbox's lane says (the send plan, the live status, the run's log).
pub(super) fn paused_text(p: &pauses::Pause) -> String {
    format!(
        "paused: {} (resume: hailer mailbox resume {})",
        p.reason, p.mailbox
    )
}

/// Paused mailboxes take no message.
fn mark_paused(store: &Store, lanes: &mut [Lane]) -> Result<(), StoreError> {
    for lane in lanes.iter_mut() {
        if let Some(p) = pauses::get(store.conn(), &lane.name)? {
            lane.failed = Some(paused_text(&p));
            lane.paused = true;
        }
    }
    Ok(())
}

/// The delay between two sends holds across runs: a run started right after another (a
/// cron job, S pressed again after a cancel) waits for what is left of it.
fn delay_from_last_run(store: &Store, lanes: &mut [Lane]) -> Result<(), StoreError> {
    let now = store::now_ts();
    for lane in lanes.iter_mut() {
        let Some(throttle) = &lane.throttle else {
            continue;
        };
        let Some(last) = sending::last_transaction_at(store.conn(), &lane.name)? else {
            continue;
        };
        let since = Duration::from_secs(now.saturating_sub(last).max(0) as u64);
        if let Some(left) = throttle.delay().checked_sub(since) {
            lane.next_at = Instant::now() + left;
        }
    }
    Ok(())
}

async fn run_async(input: SendIn, reporter: &Reporter) -> Result<SendOut, SendError> {
    let _lock = lock_file(&input.data_dir)?;
    let mut store = Store::open_in(&input.data_dir)?;
    let mut lanes = build_lanes(&input)?;
    if !input.dry_run {
        // Bounces read since the last run may already call for a pause.
        crate::engine::autopause::apply_and_alert(
            store.conn(),
            &input.config,
            store::now_ts(),
            &mut |line| reporter.log(Level::Warn, line),
        )?;
    }
    mark_paused(&store, &mut lanes)?;
    if !input.dry_run {
        delay_from_last_run(&store, &mut lanes)?;
    }
    let mut out = SendOut {
        dry_run: input.dry_run,
        ..SendOut::default()
    };
    for lane in lanes.iter().filter(|l| l.usable()) {
        if let Some(w) = &lane.warning {
            reporter.log(Level::Warn, format!("mailbox {}: {w}", lane.name));
        }
    }
    for lane in lanes.iter().filter(|l| !l.usable()) {
        reporter.log(
            Level::Error,
            format!(
                "mailbox {}: {}",
                lane.name,
                lane.failed.as_deref().unwrap_or("")
            ),
        );
    }
    if input.dry_run {
        let written = dry_run(&input, &store, &lanes, &mut out, reporter)?;
        finish_mailboxes(&store, &lanes, &mut out)?;
        if input.config.sending.require_approval {
            out.awaiting_approval = sending::awaiting_approval(store.conn())?;
        }
        for m in &mut out.mailboxes {
            m.written_this_run = written.get(&m.name).copied().unwrap_or(0);
        }
        return Ok(out);
    }

    out.interrupted = sending::mark_interrupted_uncertain(store.conn(), store::now_ts())? as u64;
    if out.interrupted > 0 {
        reporter.log(
            Level::Warn,
            format!(
                "{} SENDING when an earlier run stopped: now UNCERTAIN (never resent automatically)",
                crate::text::count(out.interrupted, "row was", "rows were")
            ),
        );
    }
    resolve_uncertain(&mut store, &lanes, &mut out, reporter).await?;
    append_pending_copies(&mut store, &lanes, &mut out, reporter).await?;
    report_gone_mailbox_copies(&store, &input.config, reporter)?;

    let (store, mut lanes, mut out) = run::execute(&input, store, lanes, out, reporter).await?;
    for lane in &mut lanes {
        if let Some(s) = lane.session.take() {
            s.quit().await;
        }
        if let Some(folder) = lane.sent_folder.take()
            && let Ok(m) = Arc::try_unwrap(folder)
            && let Ok(f) = m.into_inner()
        {
            let _ = tokio::task::spawn_blocking(move || f.logout()).await;
        }
    }
    finish_mailboxes(&store, &lanes, &mut out)?;
    out.uncertain_waiting = sending::uncertain(store.conn())?.len() as u64;
    if input.config.sending.require_approval {
        out.awaiting_approval = sending::awaiting_approval(store.conn())?;
    }
    // No mailbox could send at all. A run that handled rows before its mailboxes were
    // paused (refusals) or failed keeps its summary: those rows' outcomes are the report.
    if out.handled() == 0 && lanes.iter().all(|l| !l.usable()) {
        return Err(SendError::NoUsableMailbox(out.mailboxes));
    }
    Ok(out)
}

/// What a run would do now, for the TUI's confirmation: how many rows, through which
/// mailboxes, with how much capacity left today. Runs no password command, opens no connection.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SendPlan {
    /// Only approved READY rows count (`[sending] require_approval`), plus due RETRY rows.
    pub require_approval: bool,
    /// Rows the run would send: eligible, and passing the send-time checks.
    pub eligible: u64,
    /// Eligible rows the send-time checks would refuse (suppressed, verified bad or a
    /// duplicate since the outbox was built): they become ERROR when the run reaches them.
    pub refused: u64,
    /// READY rows that only wait for an approval (counted when approval is required).
    pub awaiting_approval: u64,
    pub remaining_today: u64,
    pub mailboxes: Vec<MailboxOut>,
}

impl SendPlan {
    /// Whether any mailbox could take a message: one not paused, failed or misconfigured.
    pub fn has_usable_mailbox(&self) -> bool {
        self.mailboxes.iter().any(|m| m.error.is_none())
    }
}

/// Each configured mailbox's day as the sender sees it: sent today, today's cap (warm-up
/// applied), paused or unusable and why, when a closed window opens. Runs no password
/// command and opens no connection (the Settings tab shows it).
pub fn mailbox_capacity(
    config: &Config,
    data_dir: &std::path::Path,
) -> Result<Vec<MailboxOut>, SendError> {
    let (store, lanes) = plan_lanes(config, data_dir, None)?;
    let mut out = SendOut::default();
    finish_mailboxes(&store, &lanes, &mut out)?;
    Ok(out.mailboxes)
}

/// The lanes a dry run would build, with paused mailboxes marked.
fn plan_lanes(
    config: &Config,
    data_dir: &std::path::Path,
    mailbox: Option<&str>,
) -> Result<(Store, Vec<Lane>), SendError> {
    let input = SendIn {
        config: config.clone(),
        data_dir: data_dir.to_path_buf(),
        dry_run: true,
        limit: None,
        mailbox: mailbox.map(str::to_string),
    };
    let mut lanes = build_lanes(&input)?;
    let store = Store::open_in(data_dir)?;
    mark_paused(&store, &mut lanes)?;
    Ok((store, lanes))
}

pub fn plan(
    config: &Config,
    data_dir: &std::path::Path,
    mailbox: Option<&str>,
) -> Result<SendPlan, SendError> {
    let (store, lanes) = plan_lanes(config, data_dir, mailbox)?;
    let mut p = SendPlan {
        require_approval: config.sending.require_approval,
        ..SendPlan::default()
    };
    // The send-time checks, as the run applies them: a row suppressed or blocked since the
    // build is refused then, so it is not counted as a message to send.
    for id in sending::eligible_ids(
        store.conn(),
        config.sending.require_approval,
        store::now_ts(),
    )? {
        let Some(row) = sending::get(store.conn(), id)? else {
            continue;
        };
        match check_row(&store, &row, None)? {
            Ok(_) => p.eligible += 1,
            Err(_) => p.refused += 1,
        }
    }
    if p.require_approval {
        p.awaiting_approval = sending::awaiting_approval(store.conn())?;
    }
    let mut out = SendOut::default();
    finish_mailboxes(&store, &lanes, &mut out)?;
    p.mailboxes = out.mailboxes;
    p.remaining_today = p
        .mailboxes
        .iter()
        .filter(|m| m.error.is_none())
        .map(|m| m.cap_today.saturating_sub(m.sent_today) as u64)
        .sum();
    Ok(p)
}

fn finish_mailboxes(store: &Store, lanes: &[Lane], out: &mut SendOut) -> Result<(), StoreError> {
    out.mailboxes = lanes
        .iter()
        .map(|l| {
            let (cap, sent) = match &l.throttle {
                Some(_) => capacity(store, l).map(|(_, c, s)| (c, s))?,
                None => (0, 0),
            };
            let now = Utc::now();
            let window_opens = l
                .throttle
                .as_ref()
                .filter(|t| !t.window_open(now))
                .and_then(|t| t.next_open(now))
                .map(|at| {
                    at.with_timezone(&l.throttle.as_ref().expect("some").tz)
                        .to_rfc3339()
                });
            Ok(MailboxOut {
                name: l.name.clone(),
                sent_this_run: l.sent_this_run,
                written_this_run: 0,
                sent_today: sent,
                cap_today: cap,
                error: l.failed.clone(),
                paused: l.paused,
                window_opens,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(())
}

async fn wait_paused(reporter: &Reporter) -> bool {
    let r = reporter.clone();
    tokio::task::spawn_blocking(move || r.wait_while_paused())
        .await
        .unwrap_or(false)
}

async fn sleep_or_cancel(token: &tokio_util::sync::CancellationToken, d: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => true,
        _ = token.cancelled() => false,
    }
}

async fn sleep_until_or_cancel(token: &tokio_util::sync::CancellationToken, at: Instant) -> bool {
    tokio::select! {
        _ = tokio::time::sleep_until(at) => true,
        _ = token.cancelled() => false,
    }
}

/// Look for each UNCERTAIN row's Message-ID in its mailbox's Sent folder.
async fn resolve_uncertain(
    store: &mut Store,
    lanes: &[Lane],
    out: &mut SendOut,
    reporter: &Reporter,
) -> Result<(), StoreError> {
    let rows = sending::uncertain(store.conn())?;
    for lane in lanes.iter().filter(|l| l.usable()) {
        let Some(folder) = lane.sent_folder.clone() else {
            continue;
        };
        let mine: Vec<(i64, String)> = rows
            .iter()
            .filter(|(_, mb, _)| mb.as_deref() == Some(lane.name.as_str()))
            .filter_map(|(id, _, mid)| mid.clone().map(|m| (*id, m)))
            .collect();
        if mine.is_empty() {
            continue;
        }
        let found = tokio::task::spawn_blocking(move || {
            let mut f = folder.lock().expect("sent folder lock");
            let mut found = Vec::new();
            for (id, mid) in mine {
                match f.contains(&mid) {
                    Ok(true) => found.push(Ok(id)),
                    Ok(false) => {}
                    Err(e) => {
                        found.push(Err(e.to_string()));
                        break;
                    }
                }
            }
            found
        })
        .await
        .unwrap_or_default();
        for f in found {
            match f {
                Ok(id) => {
                    sending::resolve_sent(
                        store.conn(),
                        id,
                        &format!(
                            "found in {}'s Sent folder after an interrupted run",
                            lane.name
                        ),
                        store::now_ts(),
                    )?;
                    out.resolved += 1;
                }
                Err(e) => reporter.log(
                    Level::Warn,
                    format!("mailbox {}: cannot search the Sent folder: {e}", lane.name),
                ),
            }
        }
    }
    Ok(())
}

/// Kept Sent copies of a mailbox removed from the config have no folder to go to: each such
/// mailbox is named once (the first run that finds them), and its copies are left as they
/// are, never retried and never failing a run (they are appended if the mailbox comes back).
fn report_gone_mailbox_copies(
    store: &Store,
    config: &Config,
    reporter: &Reporter,
) -> Result<(), StoreError> {
    let configured: Vec<&str> = config.mailboxes.keys().map(String::as_str).collect();
    for (mailbox, n) in sending::report_gone_mailbox_copies(store.conn(), &configured)? {
        reporter.log(
            Level::Warn,
            format!(
                "mailbox {mailbox} is no longer in the config: {} it kept for its Sent folder \
                 {} left unmade (appended if it comes back; said once)",
                crate::text::count(n as u64, "copy", "copies"),
                if n == 1 { "is" } else { "are" }
            ),
        );
    }
    Ok(())
}

/// Append the Sent copies an earlier run did not make (it stopped before; the server had
/// accepted the messages), each exactly as it was sent, then forget them. One already in the
/// folder (the run stopped after appending it, before it could say so) is not appended twice.
async fn append_pending_copies(
    store: &mut Store,
    lanes: &[Lane],
    out: &mut SendOut,
    reporter: &Reporter,
) -> Result<(), StoreError> {
    /// Copies read and appended at a time.
    const PAGE: usize = 100;
    sending::drop_unsent_copies(store.conn())?;
    for lane in lanes.iter().filter(|l| l.usable()) {
        let Some(folder) = lane.sent_folder.clone() else {
            continue;
        };
        let (mut after, mut appended, mut error) = (0, 0u64, None);
        while error.is_none() {
            let page = sending::pending_copies(store.conn(), &lane.name, after, PAGE)?;
            let Some(last) = page.last().map(|(id, _, _)| *id) else {
                break;
            };
            after = last;
            let folder = folder.clone();
            let (copied, made, failed) = tokio::task::spawn_blocking(move || {
                let mut f = folder.lock().expect("sent folder lock");
                let (mut copied, mut made) = (Vec::new(), 0u64);
                let mut copy = |message_id: Option<String>, raw: Vec<u8>| {
                    let there = match &message_id {
                        Some(mid) => f.contains(mid).map_err(|e| e.to_string())?,
                        None => false,
                    };
                    if !there {
                        f.append(&raw).map_err(|e| e.to_string())?;
                    }
                    Ok::<bool, String>(!there)
                };
                for (id, message_id, raw) in page {
                    match copy(message_id, raw) {
                        Ok(new) => {
                            made += u64::from(new);
                            copied.push(id);
                        }
                        Err(e) => return (copied, made, Some(e)),
                    }
                }
                (copied, made, None)
            })
            .await
            .unwrap_or_else(|e| (Vec::new(), 0, Some(e.to_string())));
            sending::record_accepted(store.conn_mut(), &[], &copied)?;
            appended += made;
            error = failed;
        }
        out.copies_made_late += appended;
        if appended > 0 {
            reporter.log(
                Level::Info,
                format!(
                    "mailbox {}: {appended} Sent {} an earlier run did not make, appended now",
                    lane.name,
                    if appended == 1 { "copy" } else { "copies" }
                ),
            );
        }
        if let Some(e) = error {
            reporter.log(
                Level::Warn,
                format!(
                    "mailbox {}: cannot append the Sent copies an earlier run left (kept; the \
                     next run tries again): {e}",
                    lane.name
                ),
            );
        }
    }
    Ok(())
}

/// Render every row the run would send and write it as an .eml file; nothing is sent and no
/// row or counter changes. Returns how many files each mailbox got.
fn dry_run(
    input: &SendIn,
    store: &Store,
    lanes: &[Lane],
    out: &mut SendOut,
    reporter: &Reporter,
) -> Result<std::collections::HashMap<String, u64>, SendError> {
    let mut per_mailbox = std::collections::HashMap::new();
    let dir = input
        .config
        .sending
        .dry_run_dir
        .clone()
        .unwrap_or_else(|| input.data_dir.join("dry-run"));
    std::fs::create_dir_all(&dir).map_err(|e| SendError::Io(format!("{}: {e}", dir.display())))?;
    out.dry_run_dir = Some(dir.clone());
    let usable: Vec<&Lane> = lanes.iter().filter(|l| l.usable()).collect();
    if usable.is_empty() {
        finish_mailboxes(store, lanes, out)?;
        return Err(SendError::NoUsableMailbox(std::mem::take(
            &mut out.mailboxes,
        )));
    }
    remove_old_dry_run_files(&dir)?;
    let ids = sending::eligible_ids(
        store.conn(),
        input.config.sending.require_approval,
        store::now_ts(),
    )?;
    let total = ids.len() as u64;
    for (n, id) in ids.into_iter().enumerate() {
        // As in a real run, --limit counts messages that would go out, not refused rows.
        if input.limit.is_some_and(|l| out.written >= l) {
            out.stopped = format!("stopped at --limit {}", input.limit.unwrap_or(0));
            break;
        }
        if reporter.is_cancelled() {
            out.stopped = "cancelled".into();
            break;
        }
        let Some(row) = sending::get(store.conn(), id)? else {
            continue;
        };
        if let Err(reason) = check_row(store, &row, None)? {
            out.refused += 1;
            out.problems.push(RowOutcome {
                id,
                email: row.email.clone().unwrap_or_default(),
                status: row.status,
                text: format!("would not be sent: {reason}"),
                would_be: Some(Status::Error),
            });
            continue;
        }
        let lane = usable[n % usable.len()];
        let mid = message::new_message_id(id, &lane.cfg);
        match message::build(&row, &lane.cfg, &input.config, &mid, SystemTime::now()) {
            Ok(m) => {
                let path = dir.join(format!("{id:06}.eml"));
                std::fs::write(&path, m.formatted())
                    .map_err(|e| SendError::Io(format!("{}: {e}", path.display())))?;
                out.written += 1;
                *per_mailbox.entry(lane.name.clone()).or_insert(0) += 1;
            }
            Err(e) => {
                out.refused += 1;
                out.problems.push(RowOutcome {
                    id,
                    email: row.email.clone().unwrap_or_default(),
                    status: row.status,
                    text: format!("would not be sent: {e}"),
                    would_be: Some(Status::Error),
                });
            }
        }
        reporter.progress(
            n as u64 + 1,
            Some(total),
            format!("{} written", out.written),
        );
    }
    Ok(per_mailbox)
}

/// The `.eml` files an earlier dry run wrote (`000042.eml`): the folder then holds exactly
/// this run's messages. Nothing else in the folder is touched.
fn remove_old_dry_run_files(dir: &std::path::Path) -> Result<(), SendError> {
    let io = |e: std::io::Error| SendError::Io(format!("{}: {e}", dir.display()));
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let ours = path.extension().is_some_and(|e| e == "eml")
            && path
                .file_stem()
                .and_then(|s| s.to_str())
                .is_some_and(|s| s.len() >= 6 && s.bytes().all(|b| b.is_ascii_digit()));
        if ours {
            std::fs::remove_file(&path).map_err(io)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts read in the singular for one ("1 messages written" before), and a mistyped
    /// `--mailbox` names the mailboxes there are.
    #[test]
    fn messages_count_in_words_and_name_the_mailboxes() {
        let out = SendOut {
            dry_run: true,
            written: 1,
            ..SendOut::default()
        };
        assert!(
            out.to_string().starts_with("dry run: 1 message written"),
            "{out}"
        );
        let e = SendError::UnknownMailbox {
            name: "nope".into(),
            known: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            e.to_string(),
            "no mailbox named \"nope\" in the config (configured: a, b)"
        );
    }

    #[test]
    fn backoff_doubles() {
        assert_eq!(backoff(300, 1), 300);
        assert_eq!(backoff(300, 2), 600);
        assert_eq!(backoff(300, 4), 2400);
        assert_eq!(backoff(1, 0), 1);
    }

    /// Every countdown rounds up: 2.1 s left reads "3 s", never "2 s" then "3 s" again.
    #[test]
    fn waits_read_in_whole_seconds_rounded_up() {
        let d = Duration::from_millis(2100);
        assert_eq!(next_send_text(d), "next send in 3 s");
        assert_eq!(next_in_text(d), "next in 3 s");
        assert_eq!(next_in_text(Duration::from_secs(3)), "next in 3 s");
        assert_eq!(next_send_text(Duration::ZERO), "next send in 0 s");
    }

    /// One order for every view: a capped mailbox whose window is closed says the window
    /// (`mailbox status` said at_cap, the TUI "window closed").
    #[test]
    fn a_mailbox_state_follows_one_order() {
        let m = |error: Option<&str>, paused, opens: Option<&str>, sent| MailboxOut {
            error: error.map(str::to_string),
            paused,
            window_opens: opens.map(str::to_string),
            sent_today: sent,
            cap_today: 5,
            ..MailboxOut::default()
        };
        let opens = Some("2026-12-08T09:00:00+01:00");
        assert_eq!(
            m(Some("paused: x"), true, opens, 5).state(),
            MailboxState::Paused("paused: x")
        );
        assert_eq!(
            m(Some("password: y"), false, opens, 5).state(),
            MailboxState::Unusable("password: y")
        );
        assert_eq!(
            m(None, false, opens, 5).state(),
            MailboxState::WindowClosed("2026-12-08T09:00:00+01:00")
        );
        assert_eq!(m(None, false, None, 5).state(), MailboxState::AtCap);
        assert_eq!(m(None, false, None, 4).state(), MailboxState::Ready);
        assert_eq!(m(None, false, opens, 5).state().key(), "window_closed");
    }
}
