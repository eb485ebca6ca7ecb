//! The sending loop. Per message the crash-safety steps are those described in the module
//! above; what this file adds is the order of work, chosen for throughput:
//!
//! - the next message of a lane is fetched, checked and rendered (Markdown, MIME, DKIM) while
//!   the lane's current message is still in its SMTP transaction, without claiming it; the
//!   claim (READY → SENDING, counter bumped, committed) happens right before it is handed to
//!   the session, so a crash never leaves a row SENDING that was not being transmitted;
//! - the claim's commit is synced to disk (the write-ahead log's `sync_data`, on a blocking
//!   thread) while MAIL, RCPT and DATA travel, and the body waits for it: after a power cut a
//!   row is SENDING (then UNCERTAIN) or its transaction never ended, never READY and
//!   delivered. Syncing inside the commit (`synchronous = FULL`) put the fsync, 0.2-0.7 ms
//!   here, in series with every message;
//! - a prepared message that waited (pause, window, a lane that failed) is checked again
//!   before its claim: the address may have been suppressed or the row unapproved meanwhile;
//! - each lane's day counter is read from SQLite once (and again when its day changes), then
//!   kept in memory alongside every claim and give-back; the lock file guarantees no other
//!   sender moves it meanwhile, and the stored counter is the one that survives a restart;
//! - hot statements are prepared once per connection (`prepare_cached` in store::sending).

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use chrono::Utc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::message::{self, Outgoing};
use super::transport::{ClaimSync, SmtpEndpoint, SmtpError, SmtpSession};
use super::{
    Lane, LiveMailbox, LiveStatus, RowOutcome, SendError, SendIn, SendOut, WAIT_AT_MOST, backoff,
    check_row, throttle,
};
use crate::engine::jobs::{Level, Reporter};
use crate::engine::tracking::links::Tracker;
use crate::store::outbox::Status;
use crate::store::{self, Store, StoreError, pauses, sending};

/// A row checked and rendered for one lane, not yet claimed.
pub(super) struct Prepared {
    id: i64,
    email: String,
    attempts: i64,
    message_id: String,
    raw: Vec<u8>,
    from: lettre::Address,
    to: lettre::Address,
    at: Instant,
}

/// A prepared message older than this is checked again before its claim.
const STALE: Duration = Duration::from_secs(1);

pub(super) struct Job {
    lane: usize,
    id: i64,
    email: String,
    prev: Status,
    day: String,
    attempts: i64,
    raw: Vec<u8>,
    from: lettre::Address,
    to: lettre::Address,
    /// The claim's disk sync; the body waits for it.
    claim: ClaimSync,
}

pub(super) struct Done {
    job: Job,
    result: Result<String, SmtpError>,
    session: Option<SmtpSession>,
}

/// Today's counter of one lane, cached (see the module comment).
#[derive(Debug, Clone, Default)]
pub(super) struct Counter {
    pub day: String,
    pub cap: u32,
    pub sent: u32,
}

/// Today's key, cap and count for a lane, from the cache unless the lane's day changed.
pub(super) fn counter(store: &Store, lane: &mut Lane) -> Result<(String, u32, u32), StoreError> {
    let t = lane
        .throttle
        .as_ref()
        .expect("usable lanes have a throttle");
    let day = t.day(Utc::now()).to_string();
    if lane.counter.day != day {
        let (key, cap, sent) = super::capacity(store, lane)?;
        lane.counter = Counter {
            day: key,
            cap,
            sent,
        };
    }
    let c = &lane.counter;
    Ok((c.day.clone(), c.cap, c.sent))
}

/// The counter given back in the database for `day`: mirror it in the cache.
fn give_back(lane: &mut Lane, day: &str) {
    if lane.counter.day == day {
        lane.counter.sent = lane.counter.sent.saturating_sub(1);
    }
}

struct Runner<'a> {
    input: &'a SendIn,
    reporter: &'a Reporter,
    store: Store,
    lanes: Vec<Lane>,
    out: SendOut,
    queue: VecDeque<i64>,
    inflight: JoinSet<Done>,
    copies: JoinSet<()>,
    /// Messages the server accepted whose SENT is not written yet: it goes into the next
    /// claim's transaction, or is written on its own before the loop waits for anything.
    accepted: Vec<sending::Accepted>,
    /// Rows whose Sent copy the copy threads appended: their kept copy is dropped with the
    /// next write, as `accepted` is.
    copied: std::sync::Arc<std::sync::Mutex<Vec<i64>>>,
    /// Every address that may have gone out (lowercased): loaded once, grown with each claim.
    /// A superset of what the duplicate query finds, since only this process claims rows
    /// (the lock file), so a miss here skips that query and a hit runs it.
    taken: std::collections::HashSet<String>,
    /// Rows claimed this run (`--limit` counts these).
    handed: u64,
    done: u64,
    total: u64,
    max_attempts: i64,
    retry_base: u64,
    /// Signs pixel, click and unsubscribe URLs; built once per run (it reads the secret).
    tracker: Option<Tracker>,
    /// The store's write-ahead log, synced after each claim (see the module comment).
    wal: std::sync::Arc<WalSync>,
    /// Set when a claim could not be synced: every lane stops and the run fails.
    disk_failure: Option<String>,
}

/// Syncs of the write-ahead log. The first failure is final: Linux reports a lost write once
/// per open file, so a later sync could succeed over a hole in the log, and recovery after a
/// power cut stops at the first missing frame, taking every later claim with it.
/// Syncs run one at a time under the lock, so two overlapping syncs cannot split one error
/// between them (one failing, the other succeeding before the flag is set).
///
/// Group commit: claims are numbered once committed, and a sync covers every claim numbered
/// before it started. A lane whose claim an earlier sync already covered skips its own: with
/// several mailboxes, claims made while one sync runs share the next one.
pub(super) struct WalSync {
    file: std::fs::File,
    /// Claims committed so far.
    committed: std::sync::atomic::AtomicU64,
    state: std::sync::Mutex<SyncState>,
}

#[derive(Default)]
struct SyncState {
    broken: bool,
    /// Every claim numbered up to this one is on disk.
    synced: u64,
    /// Syncs done (the disk's work).
    syncs: u64,
}

impl WalSync {
    fn new(file: std::fs::File) -> WalSync {
        WalSync {
            file,
            committed: std::sync::atomic::AtomicU64::new(0),
            state: std::sync::Mutex::new(SyncState::default()),
        }
    }

    /// Number a claim whose commit has returned (its frames are written to the log).
    fn committed(&self) -> u64 {
        self.committed
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1
    }

    /// Make claim number `claim` durable.
    fn sync(&self, claim: u64) -> std::io::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.broken {
            return Err(std::io::Error::other(
                "an earlier sync of the database failed",
            ));
        }
        if state.synced >= claim {
            return Ok(());
        }
        // Read before the sync starts: every claim numbered so far was written before it.
        let covers = self.committed.load(std::sync::atomic::Ordering::SeqCst);
        self.file.sync_data().inspect_err(|_| state.broken = true)?;
        state.synced = covers;
        state.syncs += 1;
        Ok(())
    }
}

pub(super) async fn execute(
    input: &SendIn,
    store: Store,
    lanes: Vec<Lane>,
    out: SendOut,
    reporter: &Reporter,
) -> Result<(Store, Vec<Lane>, SendOut), SendError> {
    let require_approval = input.config.sending.require_approval;
    let queue: VecDeque<i64> =
        sending::eligible_ids(store.conn(), require_approval, store::now_ts())?.into();
    let total = match input.limit {
        Some(l) => (queue.len() as u64).min(l),
        None => queue.len() as u64,
    };
    let taken = sending::taken_addresses(store.conn())?
        .into_iter()
        .collect();
    let tracker = Tracker::from_config(&input.config).map_err(SendError::Tracking)?;
    let wal = std::sync::Arc::new(WalSync::new(store.wal_file()?));
    let mut r = Runner {
        tracker,
        wal,
        disk_failure: None,
        input,
        reporter,
        store,
        lanes,
        out,
        queue,
        inflight: JoinSet::new(),
        copies: JoinSet::new(),
        accepted: Vec::new(),
        copied: Default::default(),
        taken,
        handed: 0,
        done: 0,
        total,
        max_attempts: input.config.sending.max_attempts.max(1) as i64,
        retry_base: input.config.sending.retry_base,
    };
    for i in 0..r.lanes.len() {
        if r.lanes[i].usable() {
            counter(&r.store, &mut r.lanes[i])?;
        }
    }
    r.status(None, None, true);
    let checkpoint = r.store.checkpoint_in_background()?;
    let result = r.run().await;
    // Whatever stopped the loop, messages already handed to a server finish and their
    // outcome is recorded: no row is left SENDING by a cancel or an error.
    let drained = r.drain().await;
    // Sent copies still being appended finish before the run returns, whatever stopped it:
    // the next run (the TUI may start one at once) must not find their rows still pending and
    // append them again. Then the kept bytes of the copies made are dropped.
    while r.copies.join_next().await.is_some() {}
    let forgotten = r.record_accepted();
    r.store.checkpoint_in_foreground(checkpoint)?;
    drained?;
    forgotten?;
    let stopped = (!r.out.stopped.is_empty()).then(|| super::Wait::Stopped(r.out.stopped.clone()));
    // The last count, as the closing status has it: while the run goes, progress is sent
    // only when due, so a run that stops short (a cap, a window, --limit, a cancel) left its
    // task's row and the CLI's bar at an older count than what went out.
    r.progress();
    r.status(None, stopped, true);
    result?;
    // Rows are safe (unclaimed, or SENT/ERROR as the server said), but the run could not
    // go on: a scripted caller must see a failure, not a short run.
    if let Some(why) = r.disk_failure.take() {
        return Err(SendError::NotDurable {
            why,
            sent: r.out.sent,
        });
    }
    Ok((r.store, r.lanes, r.out))
}

impl Runner<'_> {
    /// The live figures for the TUI's Activity tab.
    fn status(&self, next_send_in: Option<Duration>, waiting: Option<super::Wait>, force: bool) {
        let now = Instant::now();
        let utc = Utc::now();
        let mailboxes = self
            .lanes
            .iter()
            .map(|l| {
                let mut next_in = None;
                let state = if let Some(f) = &l.failed {
                    format!("failed: {f}")
                } else if l.busy {
                    "sending".to_string()
                } else if l.counter.cap > 0 && l.counter.sent >= l.counter.cap {
                    "cap reached".to_string()
                } else if l.throttle.as_ref().is_some_and(|t| !t.window_open(utc)) {
                    "window closed".to_string()
                } else if l.next_at > now {
                    next_in = Some(l.next_at - now);
                    super::next_in_text(l.next_at - now)
                } else {
                    "ready".to_string()
                };
                LiveMailbox {
                    name: l.name.clone(),
                    sent_today: l.counter.sent,
                    cap_today: l.counter.cap,
                    sent_this_run: l.sent_this_run,
                    state,
                    next_in,
                }
            })
            .collect();
        let o = &self.out;
        self.reporter.send_status(
            LiveStatus {
                done: self.done,
                total: self.total,
                sent: o.sent,
                not_sent: o.error + o.retry + o.uncertain + o.refused,
                mailboxes,
                next_send_in,
                waiting,
            },
            force,
        );
    }

    /// The count so far on the task's row (`hailer send`'s bar): "3 sent · a 2/5, b 1/5".
    fn progress(&self) {
        let notes: Vec<String> = self
            .lanes
            .iter()
            .filter(|l| l.usable())
            .map(|l| format!("{} {}/{}", l.name, l.counter.sent, l.counter.cap))
            .collect();
        let mut note = format!("{} sent", self.out.sent);
        if !notes.is_empty() {
            note = format!("{note} · {}", notes.join(", "));
        }
        self.reporter
            .progress_now(self.done, Some(self.total), note);
    }

    /// The rows copied to a Sent folder since the last write, taken from the copy threads'
    /// list.
    fn copied_now(&self) -> Vec<i64> {
        std::mem::take(
            &mut *self
                .copied
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    fn require_approval(&self) -> bool {
        self.input.config.sending.require_approval
    }

    fn limit_reached(&self) -> bool {
        let prepared = self.lanes.iter().filter(|l| l.prepared.is_some()).count() as u64;
        self.input
            .limit
            .is_some_and(|l| self.handed + prepared >= l)
    }

    /// Give every prepared (unclaimed) message back to the front of the queue.
    fn unprepare(&mut self) {
        for lane in &mut self.lanes {
            if let Some(p) = lane.prepared.take() {
                self.queue.push_front(p.id);
            }
        }
    }

    async fn drain(&mut self) -> Result<(), SendError> {
        while let Some(res) = self.inflight.join_next().await {
            if let Ok(d) = res {
                self.done += 1;
                self.settle(d)?;
            }
        }
        self.record_accepted()?;
        Ok(())
    }

    /// Write the accepted messages not yet marked SENT (see `settle`), and drop the kept
    /// bytes of those now copied to a Sent folder.
    fn record_accepted(&mut self) -> Result<(), StoreError> {
        let copied = self.copied_now();
        sending::record_accepted(self.store.conn_mut(), &self.accepted, &copied)?;
        self.accepted.clear();
        Ok(())
    }

    fn refuse(&mut self, id: i64, email: String, reason: String) -> Result<(), StoreError> {
        sending::refuse(self.store.conn(), id, &reason, store::now_ts())?;
        self.reporter
            .log(Level::Warn, format!("#{id}: not sent: {reason}"));
        self.out.refused += 1;
        self.out.problems.push(RowOutcome {
            id,
            email,
            status: Status::Error,
            text: reason,
            would_be: None,
        });
        Ok(())
    }

    /// Fetch, check and render the next sendable row for lane `i`; `false` when the queue
    /// has nothing left for now.
    fn prepare(&mut self, i: usize) -> Result<bool, SendError> {
        if self.queue.is_empty() {
            self.queue =
                sending::eligible_ids(self.store.conn(), self.require_approval(), store::now_ts())?
                    .into();
            // Rows prepared for other lanes are not eligible twice.
            let taken: Vec<i64> = self
                .lanes
                .iter()
                .filter_map(|l| l.prepared.as_ref().map(|p| p.id))
                .collect();
            self.queue.retain(|id| !taken.contains(id));
        }
        while let Some(id) = self.queue.pop_front() {
            let Some(row) = sending::get(self.store.conn(), id)? else {
                continue;
            };
            if !matches!(row.status, Status::Ready | Status::Retry) {
                continue;
            }
            // Unapproved since the run started (the TUI can change it meanwhile).
            if row.status == Status::Ready && self.require_approval() && !row.approved {
                continue;
            }
            let email = match check_row(&self.store, &row, Some(&self.taken))? {
                Ok(e) => e,
                Err(reason) => {
                    self.refuse(id, row.email.clone().unwrap_or_default(), reason)?;
                    continue;
                }
            };
            let lane = &mut self.lanes[i];
            let message_id = message::new_message_id(id, &lane.cfg);
            let built: Outgoing = match message::build_with(
                &row,
                &lane.cfg,
                &self.input.config,
                self.tracker.as_ref(),
                &message_id,
                SystemTime::now(),
            ) {
                Ok(b) => b,
                Err(e) if e.is_mailbox_problem() => {
                    // The row is fine; this mailbox cannot build anything.
                    self.queue.push_front(id);
                    let why = e.to_string();
                    self.reporter
                        .log(Level::Error, format!("mailbox {}: {why}", lane.name));
                    lane.failed = Some(why);
                    return Ok(true);
                }
                Err(e) => {
                    self.refuse(id, email, format!("cannot build the message: {e}"))?;
                    continue;
                }
            };
            lane.prepared = Some(Prepared {
                id,
                email,
                attempts: row.attempts + 1,
                message_id,
                raw: built.formatted(),
                from: built.from,
                to: built.to,
                at: Instant::now(),
            });
            return Ok(true);
        }
        Ok(false)
    }

    /// Claim lane `i`'s prepared message and hand it to the lane's session.
    fn start(&mut self, i: usize) -> Result<(), SendError> {
        let Some(p) = self.lanes[i].prepared.take() else {
            return Ok(());
        };
        if p.at.elapsed() > STALE {
            // It waited: the row may have changed. Prepare it again from the database.
            self.queue.push_front(p.id);
            if !self.prepare(i)? {
                return Ok(());
            }
            return self.start_fresh(i);
        }
        self.lanes[i].prepared = Some(p);
        self.start_fresh(i)
    }

    fn start_fresh(&mut self, i: usize) -> Result<(), SendError> {
        let Some(p) = self.lanes[i].prepared.take() else {
            return Ok(());
        };
        // Another lane may have claimed a row to the same address since this one was checked
        // (two rows to one address only come from hand edits, but then both must not go).
        if let Some(reason) = super::duplicate(&self.store, p.id, &p.email, Some(&self.taken))? {
            self.refuse(p.id, p.email, reason)?;
            return Ok(());
        }
        let (day, _, _) = counter(&self.store, &mut self.lanes[i])?;
        let copied = self.copied_now();
        let lane = &mut self.lanes[i];
        let claimed = sending::claim(
            self.store.conn_mut(),
            &sending::Claim {
                id: p.id,
                mailbox: &lane.name,
                message_id: &p.message_id,
                day: &day,
                now: store::now_ts(),
                require_approval: self.input.config.sending.require_approval,
                // Kept until its Sent copy is made: a run stopped before then leaves it for
                // the next run to append.
                copy: lane.sent_folder.is_some().then_some(p.raw.as_slice()),
            },
            &self.accepted,
            &copied,
        )?;
        self.accepted.clear();
        let Some(prev) = claimed else {
            return Ok(());
        };
        lane.counter.sent += 1;
        self.taken.insert(p.email.to_lowercase());
        self.handed += 1;
        lane.busy = true;
        let session = lane.session.take();
        let ep = lane.smtp.clone().expect("usable lanes have SMTP settings");
        let wal = self.wal.clone();
        let number = wal.committed();
        let job = Job {
            lane: i,
            id: p.id,
            email: p.email,
            prev,
            day,
            attempts: p.attempts,
            raw: p.raw,
            from: p.from,
            to: p.to,
            claim: Some(tokio::task::spawn_blocking(move || wal.sync(number))),
        };
        self.inflight.spawn(deliver(job, ep, session));
        // The mailbox is in its SMTP transaction now: the panel says "sending" (its last
        // status, sent before the job started, said "ready" or "next in 0 s"). Forced only
        // when the mailbox waits between sends: back to back (delays off), a status per
        // message costs the sender hundreds a second, and the throttled one says as much.
        let paced = self.lanes[i]
            .throttle
            .as_ref()
            .is_some_and(|t| t.delay_max > 0);
        self.status(None, None, paced);
        Ok(())
    }

    /// Can lane `i` take a message now? `Err(Some(at))`: not before `at` (delay);
    /// `Err(None)`: not today or not now (cap, window, failed).
    fn lane_state(&mut self, i: usize) -> Result<LaneState, StoreError> {
        let lane = &self.lanes[i];
        if !lane.usable() {
            return Ok(LaneState::Off);
        }
        // Paused meanwhile (the watcher's auto-pause, or by hand): its prepared message, not
        // yet claimed, goes back for the other lanes.
        if let Some(p) = pauses::get(self.store.conn(), &lane.name)? {
            let why = super::paused_text(&p);
            self.reporter
                .log(Level::Warn, format!("mailbox {}: {why}", lane.name));
            let lane = &mut self.lanes[i];
            lane.failed = Some(why);
            lane.paused = true;
            if let Some(p) = lane.prepared.take() {
                self.queue.push_front(p.id);
            }
            return Ok(LaneState::Off);
        }
        let (_, cap, sent) = counter(&self.store, &mut self.lanes[i])?;
        let lane = &self.lanes[i];
        // The in-flight message is already counted in `sent`.
        if sent >= cap {
            return Ok(LaneState::Capped);
        }
        let t = lane.throttle.as_ref().expect("usable");
        let now = Utc::now();
        if !t.window_open(now) {
            return Ok(LaneState::Closed(t.next_open(now)));
        }
        if lane.busy {
            return Ok(LaneState::Busy);
        }
        if lane.next_at > Instant::now() {
            return Ok(LaneState::Delayed(lane.next_at));
        }
        Ok(LaneState::Ready)
    }

    async fn run(&mut self) -> Result<(), SendError> {
        let token = self.reporter.token().clone();
        loop {
            if token.is_cancelled() {
                self.out.stopped = "cancelled".into();
                return Ok(());
            }
            if self.reporter.is_paused() {
                // Record what is in flight before waiting, so a pause never leaves rows
                // SENDING; prepared messages go back to the queue unclaimed.
                self.drain().await?;
                self.unprepare();
                self.reporter
                    .progress_now(self.done, Some(self.total), "paused");
                self.status(None, Some(super::Wait::Paused), true);
                if !super::wait_paused(self.reporter).await {
                    self.out.stopped = "cancelled".into();
                    return Ok(());
                }
            }
            if self.lanes.iter().all(|l| !l.usable()) {
                return Ok(());
            }

            let mut states = Vec::with_capacity(self.lanes.len());
            for i in 0..self.lanes.len() {
                states.push(self.lane_state(i)?);
            }
            // Start the lanes that are free and already hold a prepared message.
            let mut started = false;
            for (i, s) in states.iter_mut().enumerate() {
                if *s == LaneState::Ready && self.lanes[i].prepared.is_some() {
                    self.start(i)?;
                    if self.lanes[i].busy {
                        *s = LaneState::Busy;
                        started = true;
                    }
                }
            }
            // Prepare for the lanes that will need a message next: free ones now, busy ones
            // while their transaction runs. Which lane gets the next row is drawn weighted
            // by remaining capacity.
            let mut wanting: Vec<(usize, u32)> = states
                .iter()
                .enumerate()
                .filter(|(i, s)| {
                    matches!(s, LaneState::Ready | LaneState::Busy)
                        && self.lanes[*i].prepared.is_none()
                        && self.lanes[*i].usable()
                })
                .map(|(i, _)| (i, self.lanes[i].counter.cap - self.lanes[i].counter.sent))
                .collect();
            while !wanting.is_empty() && !self.limit_reached() {
                if std::mem::take(&mut started) {
                    // The claim that started it also wrote every accepted message, so nothing
                    // is left unwritten across this await.
                    debug_assert!(self.accepted.is_empty());
                    // A session task was just spawned, most likely onto this worker: let it
                    // write its commands before rendering the next message here, or the
                    // rendering would delay the transaction it is meant to overlap.
                    tokio::task::yield_now().await;
                }
                let i =
                    throttle::pick_weighted(&wanting, fastrand::u64(..)).unwrap_or(wanting[0].0);
                wanting.retain(|(j, _)| *j != i);
                if !self.prepare(i)? {
                    break;
                }
                if states[i] == LaneState::Ready && self.lanes[i].usable() {
                    self.start(i)?;
                    let lane = &self.lanes[i];
                    if lane.busy {
                        // Started: its next message is prepared while this one is in its
                        // transaction, not after it (that would put rendering between two
                        // messages of the lane).
                        states[i] = LaneState::Busy;
                        started = true;
                        if lane.prepared.is_none() && lane.usable() {
                            wanting.push((i, lane.counter.cap.saturating_sub(lane.counter.sent)));
                        }
                    }
                }
            }

            // Nothing accepted stays unwritten while the loop waits.
            self.record_accepted()?;
            if self.inflight.is_empty() {
                // Nothing in flight and nothing could start: wait for something, or stop.
                match self.idle(&states).await? {
                    Idle::Again => continue,
                    Idle::Stop => return Ok(()),
                }
            }
            let wake = states
                .iter()
                .filter_map(|s| match s {
                    LaneState::Delayed(at) => Some(*at),
                    _ => None,
                })
                .min()
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                Some(res) = self.inflight.join_next() => {
                    let d = res.map_err(|e| SendError::Io(format!("send task failed: {e}")))?;
                    self.done += 1;
                    self.settle(d)?;
                    if !self.reporter.due() && self.done < self.total {
                        continue;
                    }
                    // Both or neither: the task's row and the send panel show the same count.
                    self.progress();
                    self.status(None, None, true);
                }
                _ = tokio::time::sleep_until(wake) => {}
                _ = token.cancelled() => {}
            }
        }
    }

    /// No message in flight and none could start now.
    async fn idle(&mut self, states: &[LaneState]) -> Result<Idle, SendError> {
        let token = self.reporter.token().clone();
        if self.input.limit.is_some_and(|l| self.handed >= l) {
            self.unprepare();
            self.out.stopped = format!("stopped at --limit {}", self.input.limit.unwrap_or(0));
            return Ok(Idle::Stop);
        }
        if states.contains(&LaneState::Ready) {
            // A lane is free: anything prepared elsewhere, or due now (a retry that fell due
            // since the queue was filled), goes to it on the next turn.
            self.unprepare();
            if self.queue.is_empty() {
                self.queue = sending::eligible_ids(
                    self.store.conn(),
                    self.require_approval(),
                    store::now_ts(),
                )?
                .into();
            }
            if !self.queue.is_empty() {
                return Ok(Idle::Again);
            }
            // Every sendable row is done; wait for a retry that falls due soon.
            return match sending::next_retry_at(self.store.conn())? {
                Some(at) if at - store::now_ts() <= WAIT_AT_MOST.as_secs() as i64 => {
                    let secs = (at - store::now_ts()).max(0) as u64;
                    self.reporter.progress_now(
                        self.done,
                        Some(self.total),
                        format!("next retry in {secs} s"),
                    );
                    self.status(
                        Some(Duration::from_secs(secs)),
                        Some(super::Wait::Retry),
                        true,
                    );
                    let d = Duration::from_secs(secs) + Duration::from_millis(200);
                    if !super::sleep_or_cancel(&token, d).await {
                        self.out.stopped = "cancelled".into();
                        return Ok(Idle::Stop);
                    }
                    Ok(Idle::Again)
                }
                Some(at) => {
                    let waiting = sending::retry_waiting(self.store.conn())?;
                    let when = chrono::DateTime::from_timestamp(at, 0).map_or_else(
                        || at.to_string(),
                        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
                    );
                    self.out.stopped = format!(
                        "outbox done; {waiting} row(s) wait for a retry, the next due {when} \
                         (a run then sends it)"
                    );
                    Ok(Idle::Stop)
                }
                None => {
                    self.out.stopped = "outbox done".into();
                    Ok(Idle::Stop)
                }
            };
        }
        let delayed = states
            .iter()
            .filter_map(|s| match s {
                LaneState::Delayed(at) => Some(*at),
                _ => None,
            })
            .min();
        if let Some(at) = delayed {
            // The same text as every later redraw (`hailer send`'s countdown).
            let wait = at.saturating_duration_since(Instant::now());
            self.reporter
                .progress_now(self.done, Some(self.total), super::next_send_text(wait));
            self.status(Some(wait), Some(super::Wait::Delay), true);
            if !super::sleep_until_or_cancel(&token, at).await {
                self.out.stopped = "cancelled".into();
                return Ok(Idle::Stop);
            }
            return Ok(Idle::Again);
        }
        // `states` is in the lanes' order: the lane whose window opens first.
        let closed = states
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                LaneState::Closed(Some(at)) => Some((*at, i)),
                _ => None,
            })
            .min();
        if let Some((at, lane)) = closed {
            let wait = (at - Utc::now()).to_std().unwrap_or_default();
            if wait <= WAIT_AT_MOST {
                self.reporter.progress_now(
                    self.done,
                    Some(self.total),
                    format!("window opens in {} s", wait.as_secs()),
                );
                self.status(Some(wait), Some(super::Wait::WindowClosed), true);
                if !super::sleep_or_cancel(&token, wait + Duration::from_millis(200)).await {
                    self.out.stopped = "cancelled".into();
                    return Ok(Idle::Stop);
                }
                return Ok(Idle::Again);
            }
            self.unprepare();
            // In the mailbox's own time zone, as its line in the summary and Settings say it.
            let lane = &self.lanes[lane];
            let local = lane.throttle.as_ref().map_or_else(
                || at.format("%Y-%m-%d %H:%M UTC").to_string(),
                |t| {
                    at.with_timezone(&t.tz)
                        .format("%Y-%m-%d %H:%M %Z")
                        .to_string()
                },
            );
            let mut stopped = format!(
                "sending window closed; next opening {local} ({})",
                lane.name
            );
            if states.contains(&LaneState::Capped) {
                stopped.push_str("; the other mailboxes are at their daily cap");
            }
            self.out.stopped = stopped;
            return Ok(Idle::Stop);
        }
        self.unprepare();
        if states.contains(&LaneState::Capped) {
            self.out.stopped = "daily caps reached: the rest waits for tomorrow".into();
            return Ok(Idle::Stop);
        }
        // Every mailbox paused (auto-pause) or failed during the run: rows may be left.
        if states.iter().all(|s| matches!(s, LaneState::Off))
            && !sending::eligible_ids(self.store.conn(), self.require_approval(), store::now_ts())?
                .is_empty()
        {
            self.out.stopped = "no usable mailbox left (paused or failed): the rest waits".into();
            self.out.out_of_mailboxes = true;
            return Ok(Idle::Stop);
        }
        self.out.stopped = "outbox done".into();
        Ok(Idle::Stop)
    }

    fn settle(&mut self, d: Done) -> Result<(), StoreError> {
        let Done {
            job,
            result,
            session,
        } = d;
        if result.is_err() {
            // Outcomes are written in the order they came: an accepted message before a
            // refusal (auto-pause counts refusals since the last send).
            self.record_accepted()?;
        }
        let now = store::now_ts();
        let conn = self.store.conn_mut();
        let lane = &mut self.lanes[job.lane];
        lane.busy = false;
        lane.session = session;
        // The pause follows every transaction the server saw, refused ones too: a burst of
        // refusals must not turn into a burst of sends.
        let reached_server = !matches!(
            result,
            Err(SmtpError::Connect { .. }
                | SmtpError::SenderRefused { .. }
                | SmtpError::NotDurable { .. })
        );
        if reached_server && let Some(t) = &lane.throttle {
            lane.next_at = Instant::now() + t.delay();
        }
        let out = &mut self.out;
        let problem = |status: Status, text: String, out: &mut SendOut| {
            out.problems.push(RowOutcome {
                id: job.id,
                email: job.email.clone(),
                status,
                text,
                would_be: None,
            });
        };
        match result {
            Ok(reply) => {
                // Written with the next claim, or before the loop waits (record_accepted):
                // one commit per message. Nothing awaits in between, so a crash here is a
                // crash during the transaction: the row stays SENDING, UNCERTAIN on restart.
                self.accepted.push(sending::Accepted {
                    id: job.id,
                    reply,
                    at: now,
                });
                out.sent += 1;
                lane.sent_this_run += 1;
                if let Some(folder) = lane.sent_folder.clone() {
                    // The copy goes on its own blocking thread; the next message does not
                    // wait for it.
                    let raw = job.raw;
                    let r = self.reporter.clone();
                    let (name, id) = (lane.name.clone(), job.id);
                    let copied = self.copied.clone();
                    self.copies.spawn_blocking(move || {
                        match folder.lock().map(|mut f| f.append(&raw)) {
                            Ok(Ok(())) => copied
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .push(id),
                            // The kept copy stays: the next run appends it.
                            Ok(Err(e)) => r.log(
                                Level::Warn,
                                format!(
                                    "#{id}: sent, but no copy in {name}'s Sent folder yet \
                                     (the next run tries again): {e}"
                                ),
                            ),
                            Err(_) => {}
                        }
                    });
                }
            }
            Err(
                e @ (SmtpError::Connect { .. }
                | SmtpError::SenderRefused { .. }
                | SmtpError::NotDurable { .. }),
            ) => {
                // Nothing about this recipient reached the server: the row goes back, and the
                // mailbox stops (a refused sender would be refused for every row).
                sending::unclaim(conn, job.id, job.prev, &lane.name, &job.day, now)?;
                give_back(lane, &job.day);
                self.handed = self.handed.saturating_sub(1);
                let disk = matches!(e, SmtpError::NotDurable { .. });
                let why = match e {
                    SmtpError::Connect { text, auth: true } => {
                        format!("{text} (check the password in password_env/password_cmd)")
                    }
                    SmtpError::SenderRefused { text } => {
                        format!("the server refuses this sender: {text}")
                    }
                    other => other.to_string(),
                };
                self.reporter
                    .log(Level::Error, format!("mailbox {}: {why}", lane.name));
                lane.failed = Some(why.clone());
                // Its prepared message goes back for the other lanes.
                if let Some(p) = lane.prepared.take() {
                    self.queue.push_front(p.id);
                }
                // The disk is every lane's: none may claim another row.
                if disk {
                    self.out.stopped = format!("stopped: {why}");
                    self.disk_failure.get_or_insert_with(|| why.clone());
                    for other in self.lanes.iter_mut().filter(|l| l.failed.is_none()) {
                        other.failed = Some(why.clone());
                        if let Some(p) = other.prepared.take() {
                            self.queue.push_front(p.id);
                        }
                    }
                }
            }
            Err(SmtpError::Permanent { text }) => {
                sending::mark_refused(conn, job.id, &text, (&lane.name, &job.day), now)?;
                give_back(lane, &job.day);
                // The row's line first: the pause it may cause comes after it.
                self.reporter.log(
                    Level::Warn,
                    format!("#{} {}: ERROR: {text}", job.id, job.email),
                );
                // Refusals count like hard bounces: enough of them pause the mailbox now, and
                // lane_state stops it before its next message.
                if !self.input.dry_run {
                    let reporter = self.reporter.clone();
                    crate::engine::autopause::apply_and_alert(
                        conn,
                        &self.input.config,
                        now,
                        &mut |line| reporter.log(Level::Warn, line),
                    )?;
                }
                out.error += 1;
                problem(Status::Error, text, out);
            }
            Err(SmtpError::Transient { text })
            | Err(SmtpError::Lost {
                text,
                after_data: false,
            }) => {
                if job.attempts >= self.max_attempts {
                    let text = format!("gave up after {} attempts: {text}", job.attempts);
                    sending::mark_error(conn, job.id, &text, Some((&lane.name, &job.day)), now)?;
                    give_back(lane, &job.day);
                    out.error += 1;
                    problem(Status::Error, text, out);
                } else {
                    let next = now + backoff(self.retry_base, job.attempts) as i64;
                    sending::mark_retry(conn, job.id, &text, next, (&lane.name, &job.day), now)?;
                    give_back(lane, &job.day);
                    self.reporter.log(
                        Level::Warn,
                        format!(
                            "#{} {}: RETRY (attempt {}): {text}",
                            job.id, job.email, job.attempts
                        ),
                    );
                    out.retry += 1;
                    problem(Status::Retry, text, out);
                }
            }
            Err(SmtpError::Lost {
                text,
                after_data: true,
            }) => {
                let text = format!("connection lost after the message was handed over: {text}");
                sending::mark_uncertain(conn, job.id, &text, now)?;
                self.reporter.log(
                    Level::Warn,
                    format!("#{} {}: UNCERTAIN: {text}", job.id, job.email),
                );
                out.uncertain += 1;
                problem(Status::Uncertain, text, out);
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LaneState {
    Off,
    Capped,
    Closed(Option<chrono::DateTime<Utc>>),
    Busy,
    Delayed(Instant),
    Ready,
}

enum Idle {
    Again,
    Stop,
}

/// One message over the lane's session (opened when missing). A kept session that the server
/// closed meanwhile fails before DATA; that is retried once on a fresh connection.
async fn deliver(mut job: Job, ep: SmtpEndpoint, session: Option<SmtpSession>) -> Done {
    let reused = session.is_some();
    let mut session = match session.filter(SmtpSession::is_usable) {
        Some(s) => s,
        None => match SmtpSession::connect(&ep).await {
            Ok(s) => s,
            Err(e) => {
                return Done {
                    job,
                    result: Err(e),
                    session: None,
                };
            }
        },
    };
    let mut result = session
        .send(&job.from, &job.to, &job.raw, &mut job.claim)
        .await;
    if reused
        && matches!(
            result,
            Err(SmtpError::Lost {
                after_data: false,
                ..
            })
        )
    {
        match SmtpSession::connect(&ep).await {
            Ok(s) => {
                session = s;
                result = session
                    .send(&job.from, &job.to, &job.raw, &mut job.claim)
                    .await;
            }
            Err(e) => {
                // Nothing was transmitted on either connection.
                return Done {
                    job,
                    result: Err(e),
                    session: None,
                };
            }
        }
    }
    // A refused message leaves the session usable (RSET); a lost one does not.
    let keep = session.is_usable();
    Done {
        job,
        result,
        session: keep.then_some(session),
    }
}

#[cfg(test)]
mod tests {
    use super::WalSync;

    fn syncs(w: &WalSync) -> u64 {
        w.state.lock().unwrap().syncs
    }

    /// Claims committed before a sync starts share it; a claim committed after it needs its
    /// own.
    #[test]
    fn a_sync_covers_every_claim_committed_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let w = WalSync::new(std::fs::File::create(dir.path().join("wal")).unwrap());
        let (a, b) = (w.committed(), w.committed());
        w.sync(b).unwrap();
        assert_eq!(syncs(&w), 1);
        w.sync(a).unwrap();
        assert_eq!(syncs(&w), 1, "a was committed before b's sync started");
        let c = w.committed();
        w.sync(c).unwrap();
        assert_eq!(syncs(&w), 2);
        // After a failure nothing is covered any more.
        w.state.lock().unwrap().broken = true;
        assert!(w.sync(c).is_err());
    }
}
