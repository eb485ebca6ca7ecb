//! Background jobs: each runs off the UI thread and reports over one channel.
//!
//! A job is a blocking closure (rusqlite and the sync IMAP client are blocking) run on tokio's
//! blocking pool. It gets a `Reporter` to send progress and log lines, to check cancellation
//! between items, and to wait while paused. The supervisor turns a panic inside a job into a
//! failed job instead of a dead UI.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio_util::sync::CancellationToken;

pub type JobId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Import,
    Find,
    Verify,
    Send,
    Watch,
    Outbox,
    Serve,
    /// The Settings tab's mailbox connection test.
    MailboxTest,
}

impl JobKind {
    pub fn name(self) -> &'static str {
        match self {
            JobKind::Import => "import",
            JobKind::Find => "find",
            JobKind::Verify => "verify",
            JobKind::Send => "send",
            JobKind::Watch => "watch",
            JobKind::Outbox => "outbox",
            JobKind::Serve => "serve",
            JobKind::MailboxTest => "mailbox test",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JobMsg {
    Started {
        id: JobId,
        kind: JobKind,
        title: String,
        pausable: bool,
    },
    Progress {
        id: JobId,
        done: u64,
        total: Option<u64>,
        note: String,
    },
    Paused {
        id: JobId,
        paused: bool,
    },
    /// The job cannot end sooner than this from now, whatever its rate says (a verify run
    /// with addresses waiting for a greylisting retry); `None` lifts it.
    EtaFloor {
        id: JobId,
        left: Option<Duration>,
    },
    Log {
        id: JobId,
        level: Level,
        text: String,
    },
    /// A send run's live figures (per-mailbox counters, next send time) for the Activity tab.
    SendStatus {
        id: JobId,
        status: Box<crate::engine::send::LiveStatus>,
    },
    /// How it ended; `cancelled` when it stopped because it was asked to.
    Finished {
        id: JobId,
        outcome: Outcome,
        cancelled: bool,
    },
}

/// How a job ended, with its closing line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done(String),
    /// It went through, but some of its targets failed (one mailbox of two): "done with
    /// errors". A job whose every target failed is `Failed`.
    DoneWithErrors(String),
    Failed(String),
}

impl Outcome {
    pub fn text(&self) -> &str {
        match self {
            Outcome::Done(t) | Outcome::DoneWithErrors(t) | Outcome::Failed(t) => t,
        }
    }
}

/// A job's `Ok(summary)` is done, its `Err(reason)` failed.
impl From<Result<String, String>> for Outcome {
    fn from(r: Result<String, String>) -> Outcome {
        match r {
            Ok(t) => Outcome::Done(t),
            Err(e) => Outcome::Failed(e),
        }
    }
}

/// The job's side of the channel.
#[derive(Clone)]
pub struct Reporter {
    id: JobId,
    tx: UnboundedSender<JobMsg>,
    cancel: CancellationToken,
    paused: Arc<AtomicBool>,
    last_progress: Arc<std::sync::Mutex<Option<Instant>>>,
    last_status: Arc<std::sync::Mutex<Option<Instant>>>,
    /// Set by `ran_to_completion`: a cancel that arrived after the work's last check.
    completed: Arc<AtomicBool>,
}

/// Progress is rate-limited here so a tight loop cannot flood the UI.
const PROGRESS_EVERY: Duration = Duration::from_millis(50);

impl Reporter {
    pub fn id(&self) -> JobId {
        self.id
    }

    pub fn progress(&self, done: u64, total: Option<u64>, note: impl Into<String>) {
        self.progress_if(false, done, total, note);
    }

    /// Progress that is not rate-limited: a state change (paused, waiting) that must not be
    /// dropped, or a figure that goes out with a `send_status` carrying the same count, so
    /// the task's row and the send panel never disagree.
    pub fn progress_now(&self, done: u64, total: Option<u64>, note: impl Into<String>) {
        self.progress_if(true, done, total, note);
    }

    fn progress_if(&self, force: bool, done: u64, total: Option<u64>, note: impl Into<String>) {
        // The last figure of a task always goes out, like a forced one.
        let always = force || total.is_some_and(|t| done >= t);
        if let Ok(mut last) = self.last_progress.lock() {
            if !always && last.is_some_and(|t| t.elapsed() < PROGRESS_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        let _ = self.tx.send(JobMsg::Progress {
            id: self.id,
            done,
            total,
            note: note.into(),
        });
    }

    /// Whether a progress or status message sent now would get through the rate limit: lets a
    /// hot loop skip building one.
    pub fn due(&self) -> bool {
        let recent = |m: &std::sync::Mutex<Option<Instant>>| {
            m.lock()
                .map(|l| l.is_some_and(|t| t.elapsed() < PROGRESS_EVERY))
                .unwrap_or(false)
        };
        !(recent(&self.last_progress) && recent(&self.last_status))
    }

    /// A send run's live figures; rate-limited like progress unless `force` (a state change
    /// such as a wait starting, which must not be dropped).
    pub fn send_status(&self, status: crate::engine::send::LiveStatus, force: bool) {
        if let Ok(mut last) = self.last_status.lock() {
            if !force && last.is_some_and(|t| t.elapsed() < PROGRESS_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        let _ = self.tx.send(JobMsg::SendStatus {
            id: self.id,
            status: Box::new(status),
        });
    }

    /// The least time the job still needs (see [`JobMsg::EtaFloor`]).
    pub fn eta_floor(&self, left: Option<Duration>) {
        let _ = self.tx.send(JobMsg::EtaFloor { id: self.id, left });
    }

    pub fn log(&self, level: Level, text: impl Into<String>) {
        let _ = self.tx.send(JobMsg::Log {
            id: self.id,
            level,
            text: text.into(),
        });
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    pub fn token(&self) -> &CancellationToken {
        &self.cancel
    }

    /// The work did everything it was asked (an import committed all its rows): a cancel
    /// that arrived after its last check came too late, and the task is reported done, not
    /// cancelled, since its result stands.
    pub fn ran_to_completion(&self) {
        self.completed.store(true, Ordering::Relaxed);
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    /// Block (in a blocking job) while paused; returns `false` if cancelled meanwhile.
    pub fn wait_while_paused(&self) -> bool {
        while self.paused.load(Ordering::Relaxed) {
            if self.cancel.is_cancelled() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        !self.cancel.is_cancelled()
    }
}

struct JobHandle {
    cancel: CancellationToken,
    paused: Arc<AtomicBool>,
    pausable: bool,
}

/// Starts jobs, keeps their cancel and pause switches, and waits for them at shutdown.
pub struct Supervisor {
    next_id: JobId,
    tx: UnboundedSender<JobMsg>,
    root: CancellationToken,
    jobs: HashMap<JobId, JobHandle>,
    tracker: tokio_util::task::TaskTracker,
}

impl Supervisor {
    pub fn new(root: CancellationToken) -> (Supervisor, UnboundedReceiver<JobMsg>) {
        let (tx, rx) = unbounded_channel();
        (
            Supervisor {
                next_id: 1,
                tx,
                root,
                jobs: HashMap::new(),
                tracker: tokio_util::task::TaskTracker::new(),
            },
            rx,
        )
    }

    /// Run `work` on the blocking pool. Must be called inside a tokio runtime.
    pub fn spawn_blocking<F, R>(
        &mut self,
        kind: JobKind,
        title: impl Into<String>,
        pausable: bool,
        work: F,
    ) -> JobId
    where
        F: FnOnce(&Reporter) -> R + Send + 'static,
        R: Into<Outcome> + Send + 'static,
    {
        let id = self.next_id;
        self.next_id += 1;
        let cancel = self.root.child_token();
        let paused = Arc::new(AtomicBool::new(false));
        let completed = Arc::new(AtomicBool::new(false));
        let reporter = Reporter {
            completed: completed.clone(),
            id,
            tx: self.tx.clone(),
            cancel: cancel.clone(),
            paused: paused.clone(),
            last_progress: Arc::new(std::sync::Mutex::new(None)),
            last_status: Arc::new(std::sync::Mutex::new(None)),
        };
        let _ = self.tx.send(JobMsg::Started {
            id,
            kind,
            title: title.into(),
            pausable,
        });
        self.jobs.insert(
            id,
            JobHandle {
                cancel: cancel.clone(),
                paused,
                pausable,
            },
        );
        let tx = self.tx.clone();
        self.tracker.spawn(async move {
            let handle = tokio::task::spawn_blocking(move || work(&reporter));
            let outcome = match handle.await {
                Ok(result) => result.into(),
                Err(e) if e.is_panic() => {
                    Outcome::Failed(format!("the {} job crashed: {e}", kind.name()))
                }
                Err(e) => Outcome::Failed(e.to_string()),
            };
            let cancelled = cancel.is_cancelled() && !completed.load(Ordering::Relaxed);
            let _ = tx.send(JobMsg::Finished {
                id,
                outcome,
                cancelled,
            });
        });
        id
    }

    pub fn cancel(&mut self, id: JobId) -> bool {
        match self.jobs.get(&id) {
            Some(h) => {
                h.cancel.cancel();
                true
            }
            None => false,
        }
    }

    /// Toggle pause; `None` when the job cannot pause.
    pub fn toggle_pause(&mut self, id: JobId) -> Option<bool> {
        let h = self.jobs.get(&id).filter(|h| h.pausable)?;
        let now = !h.paused.load(Ordering::Relaxed);
        h.paused.store(now, Ordering::Relaxed);
        let _ = self.tx.send(JobMsg::Paused { id, paused: now });
        Some(now)
    }

    pub fn forget(&mut self, id: JobId) {
        self.jobs.remove(&id);
    }

    /// Cancel everything and wait up to `grace` for jobs to stop.
    /// Cancel every task and wait up to `grace` for them; `false` when some still run (a
    /// blocking one finishing its step, e.g. a message waiting for the server's answer).
    pub async fn shutdown(&mut self, grace: Duration) -> bool {
        self.root.cancel();
        self.tracker.close();
        tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn collect_until_finished(rx: &mut UnboundedReceiver<JobMsg>) -> Vec<JobMsg> {
        let mut out = Vec::new();
        while let Some(m) = rx.recv().await {
            let done = matches!(m, JobMsg::Finished { .. });
            out.push(m);
            if done {
                break;
            }
        }
        out
    }

    #[tokio::test]
    async fn job_reports_start_progress_and_result() {
        let (mut sup, mut rx) = Supervisor::new(CancellationToken::new());
        let id = sup.spawn_blocking(JobKind::Import, "t", false, |r| {
            r.progress(5, Some(5), "all");
            r.log(Level::Info, "hello");
            Ok("done".into())
        });
        let msgs = collect_until_finished(&mut rx).await;
        assert!(matches!(&msgs[0], JobMsg::Started { id: i, .. } if *i == id));
        assert!(
            msgs.iter()
                .any(|m| matches!(m, JobMsg::Progress { done: 5, .. }))
        );
        assert!(
            msgs.iter()
                .any(|m| matches!(m, JobMsg::Log { text, .. } if text == "hello"))
        );
        assert_eq!(
            msgs.last().unwrap(),
            &JobMsg::Finished {
                id,
                outcome: Outcome::Done("done".into()),
                cancelled: false
            }
        );
    }

    /// Progress is rate-limited, but a forced one (a pause, a wait, a figure sent with the
    /// send panel's status) always goes out.
    #[tokio::test]
    async fn forced_progress_is_never_dropped() {
        let (mut sup, mut rx) = Supervisor::new(CancellationToken::new());
        sup.spawn_blocking(JobKind::Send, "t", true, |r| {
            r.progress(1, Some(10), "one");
            r.progress(2, Some(10), "dropped: too soon");
            r.progress_now(3, Some(10), "paused");
            Ok("done".into())
        });
        let notes: Vec<String> = collect_until_finished(&mut rx)
            .await
            .into_iter()
            .filter_map(|m| match m {
                JobMsg::Progress { note, .. } => Some(note),
                _ => None,
            })
            .collect();
        assert_eq!(notes, ["one", "paused"]);
    }

    #[tokio::test]
    async fn cancel_is_seen_by_the_job() {
        let (mut sup, mut rx) = Supervisor::new(CancellationToken::new());
        let id = sup.spawn_blocking(JobKind::Verify, "t", true, |r| {
            while !r.is_cancelled() {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err("stopped".into())
        });
        assert_eq!(sup.toggle_pause(id), Some(true));
        assert!(sup.cancel(id));
        let msgs = collect_until_finished(&mut rx).await;
        assert!(
            msgs.iter()
                .any(|m| matches!(m, JobMsg::Paused { paused: true, .. }))
        );
        assert!(matches!(
            msgs.last().unwrap(),
            JobMsg::Finished {
                cancelled: true,
                ..
            }
        ));
    }

    /// A cancel that arrives after the work committed everything (the last second of an
    /// import) does not report the task cancelled: its result stands.
    #[tokio::test]
    async fn a_cancel_after_the_work_completed_reports_done() {
        let (mut sup, mut rx) = Supervisor::new(CancellationToken::new());
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let id = sup.spawn_blocking(JobKind::Import, "t", false, move |r| {
            r.ran_to_completion();
            let _ = go_rx.recv();
            Ok("200 imported".into())
        });
        assert!(sup.cancel(id));
        go_tx.send(()).unwrap();
        let msgs = collect_until_finished(&mut rx).await;
        assert!(matches!(
            msgs.last().unwrap(),
            JobMsg::Finished {
                cancelled: false,
                outcome: Outcome::Done(_),
                ..
            }
        ));
    }

    #[tokio::test]
    async fn a_panicking_job_fails_instead_of_killing_the_app() {
        let (mut sup, mut rx) = Supervisor::new(CancellationToken::new());
        sup.spawn_blocking(JobKind::Find, "t", false, |_| -> Outcome { panic!("boom") });
        let msgs = collect_until_finished(&mut rx).await;
        match msgs.last().unwrap() {
            JobMsg::Finished {
                outcome: Outcome::Failed(e),
                ..
            } => assert!(e.contains("crashed"), "{e}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(sup.toggle_pause(1), None, "not pausable");
    }
}
