//! Alerts to the user's phone (`[notify.telegram]`): a send run finished or failed, a mailbox
//! was auto-paused, the daily summary.
//!
//! Alerts never hold up sending: [`enqueue`] puts the message on a bounded queue served by one
//! background thread (its own small runtime, so it works from the CLI, the TUI and engine
//! threads alike) and returns at once; a full queue drops the alert with a warning. The caller
//! may keep the returned [`Pending`] to wait for the outcome (the CLI does before exiting).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::engine::send::{SendError, SendOut};

pub mod daily;
pub mod summary;
pub mod telegram;

use telegram::{Delivery, Outcome, Telegram};

/// Alerts waiting to go out at most; more are dropped (with a warning), never waited for.
const QUEUE: usize = 64;

/// Alerts queued and not yet delivered (or given up), for [`drain`].
static OUTSTANDING: AtomicUsize = AtomicUsize::new(0);

struct Job {
    client: Telegram,
    text: String,
    done: SyncSender<Delivery>,
}

fn queue() -> Option<SyncSender<Job>> {
    static TX: OnceLock<Mutex<Option<SyncSender<Job>>>> = OnceLock::new();
    let slot = TX.get_or_init(|| {
        let (tx, rx) = mpsc::sync_channel::<Job>(QUEUE);
        let started = std::thread::Builder::new()
            .name("notify".into())
            .spawn(move || worker(rx));
        Mutex::new(started.ok().map(|_| tx))
    });
    slot.lock().ok()?.clone()
}

fn worker(rx: Receiver<Job>) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        tracing::error!("notify: cannot start a runtime; alerts are off");
        return;
    };
    while let Ok(job) = rx.recv() {
        let delivery = rt.block_on(job.client.send(&job.text));
        let _ = job.done.send(delivery);
        OUTSTANDING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Wait, at most `timeout`, until every queued alert went out or was given up; `false` when
/// some are still on their way. A process about to exit calls it so its alerts are not lost
/// with it (alerts queued by engine code the caller holds no [`Pending`] for).
pub fn drain(timeout: Duration) -> bool {
    let start = Instant::now();
    while OUTSTANDING.load(Ordering::SeqCst) > 0 {
        if start.elapsed() >= timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// An alert on its way; dropping it does not cancel it.
pub struct Pending(Receiver<Delivery>);

impl Pending {
    /// The outcome, or `None` when it takes longer than `timeout` (or the alert was dropped).
    pub fn wait(self, timeout: Duration) -> Option<Delivery> {
        self.0.recv_timeout(timeout).ok()
    }

    /// Like [`Pending::wait`], but also returns soon after `stop` is cancelled: the wait goes
    /// in short slices, so a shutdown never waits out the client's retries.
    pub fn wait_or_stop(&self, timeout: Duration, stop: &CancellationToken) -> Waited {
        const SLICE: Duration = Duration::from_millis(100);
        let start = Instant::now();
        loop {
            if stop.is_cancelled() {
                return Waited::Stopped;
            }
            let left = timeout.saturating_sub(start.elapsed());
            if left.is_zero() {
                return Waited::TimedOut;
            }
            match self.0.recv_timeout(left.min(SLICE)) {
                Ok(d) => return Waited::Done(d),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return Waited::Lost,
            }
        }
    }
}

/// How [`Pending::wait_or_stop`] ended.
#[derive(Debug)]
pub enum Waited {
    Done(Delivery),
    /// Still on its way; the same [`Pending`] can be waited on again.
    TimedOut,
    /// `stop` was cancelled first.
    Stopped,
    /// The alert thread is gone; no outcome will come.
    Lost,
}

/// The client for `[notify.telegram]`, or why there is none (`Ok(None)`: alerts are off).
pub fn telegram(config: &Config) -> Result<Option<Telegram>, String> {
    let Some(tg) = &config.notify.telegram else {
        return Ok(None);
    };
    match std::env::var(&tg.bot_token_env) {
        Ok(t) if !t.trim().is_empty() => {
            let client = Telegram::new(&tg.api_url, t.trim(), &tg.chat_id);
            match &config.tls.ca_file {
                Some(path) => {
                    let certs = crate::net::tls::load_ca_file(path).map_err(|e| e.to_string())?;
                    client.with_extra_ca(&certs).map(Some)
                }
                None => Ok(Some(client)),
            }
        }
        _ => Err(format!(
            "${} (telegram bot token) is not set",
            tg.bot_token_env
        )),
    }
}

/// Queue `text` for Telegram. `None` when alerts are off, misconfigured or the queue is full
/// (each logged); never blocks.
pub fn enqueue_with(client: Telegram, text: String) -> Option<Pending> {
    let q = queue()?;
    let (done, rx) = mpsc::sync_channel(1);
    OUTSTANDING.fetch_add(1, Ordering::SeqCst);
    let sent = q.try_send(Job { client, text, done });
    if sent.is_err() {
        OUTSTANDING.fetch_sub(1, Ordering::SeqCst);
    }
    match sent {
        Ok(()) => Some(Pending(rx)),
        Err(TrySendError::Full(_)) => {
            tracing::warn!("notify: {QUEUE} alerts already waiting; this one is dropped");
            None
        }
        Err(TrySendError::Disconnected(_)) => {
            tracing::warn!("notify: the alert thread stopped; alert dropped");
            None
        }
    }
}

/// Queue `text` with the configured client (see [`enqueue_with`]).
pub fn enqueue(config: &Config, text: String) -> Option<Pending> {
    match telegram(config) {
        Ok(Some(client)) => enqueue_with(client, text),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!("notify: {e}; alert not sent");
            None
        }
    }
}

/// Problem rows listed in the send-run alert at most; the rest are counted.
const ALERT_PROBLEMS: usize = 10;

/// The alert text for the end of a send run. None for a dry run, for a run that sent nothing
/// and met no failure (a cron run with an empty outbox, mailboxes paused on purpose, a run
/// cancelled before its first send), and, when someone `watching` (a terminal) sees them at
/// once, for usage errors (a mistyped `--mailbox`, no mailbox configured, another run
/// holding the lock). Under cron nobody watches: a renamed mailbox or a hung run holding
/// the lock would fail every run in silence, so they alert.
pub fn send_run_text(result: &Result<SendOut, SendError>, watching: bool) -> Option<String> {
    match result {
        Ok(out) if out.dry_run => None,
        Ok(out) => {
            let failed = out.error + out.retry + out.uncertain + out.refused + out.interrupted > 0
                || out.failed_mailboxes().next().is_some()
                || out.out_of_mailboxes;
            if out.sent == 0 && !failed {
                return None;
            }
            // A run stopped by Ctrl-C or SIGTERM, or for want of a mailbox, did not finish:
            // the alert says so first.
            let how = if out.stopped == "cancelled" {
                "stopped before the end (cancelled)"
            } else if out.out_of_mailboxes {
                "stopped before the end (no usable mailbox left)"
            } else {
                "finished"
            };
            Some(format!(
                "hailer: send run {how}\n{}",
                out.brief(ALERT_PROBLEMS).trim_end()
            ))
        }
        Err(
            SendError::UnknownMailbox { .. } | SendError::NoMailbox | SendError::AlreadyRunning(_),
        ) if watching => None,
        // Mailboxes all paused on purpose: nothing failed; the pause had its own alert.
        Err(SendError::NoUsableMailbox(m)) if m.iter().all(|m| m.paused) => None,
        Err(e) => Some(format!("hailer: send run FAILED: {e}")),
    }
}

/// Call once when a send run ends (CLI and TUI): queues the alert and returns at once.
pub fn send_run_ended(config: &Config, result: &Result<SendOut, SendError>) -> Option<Pending> {
    use std::io::IsTerminal;
    enqueue(
        config,
        send_run_text(result, std::io::stderr().is_terminal())?,
    )
}

/// For the auto-pause work: a mailbox was paused, and why.
pub fn mailbox_paused(config: &Config, mailbox: &str, reason: &str) -> Option<Pending> {
    enqueue(
        config,
        format!("hailer: mailbox {mailbox} was auto-paused: {reason}"),
    )
}

/// How a delivery reads in a CLI message.
pub fn describe(d: &Delivery) -> String {
    match &d.outcome {
        Outcome::Sent => format!("sent ({} attempt(s))", d.attempts),
        Outcome::Rejected {
            status,
            description,
        } => format!("rejected by the Telegram API ({status}): {description}"),
        Outcome::GaveUp(p) => format!("not sent after {} attempts: {p}", d.attempts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::send::RowOutcome;

    /// As a run with someone at the terminal sees it.
    fn text_watched(result: &Result<SendOut, SendError>) -> Option<String> {
        send_run_text(result, true)
    }
    use crate::store::outbox::Status;

    /// The Telegram client is built with `[tls] ca_file`: a file that cannot be read is an
    /// error naming it, not a client that silently ignores it.
    #[test]
    fn the_telegram_client_reads_the_configured_ca_file() {
        let var = "HAILER_TEST_TELEGRAM_CA_TOKEN";
        // SAFETY: a variable only this test reads.
        unsafe { std::env::set_var(var, "1:token") };
        let mut config: Config = toml::from_str(&format!(
            "[notify.telegram]\nbot_token_env = \"{var}\"\nchat_id = \"1\"\n"
        ))
        .unwrap();
        assert!(telegram(&config).unwrap().is_some());
        config.tls.ca_file = Some("/nonexistent/ca.pem".into());
        let e = telegram(&config).unwrap_err();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
    }

    #[test]
    fn a_run_with_many_problems_still_fits_one_telegram_message() {
        let out = SendOut {
            sent: 3,
            error: 200,
            problems: (0..200)
                .map(|i| RowOutcome {
                    id: i,
                    email: format!("person{i}@example.test"),
                    status: Status::Error,
                    text: "550 5.1.1 mailbox unavailable: no such user here".into(),
                    would_be: None,
                })
                .collect(),
            ..SendOut::default()
        };
        let text = text_watched(&Ok(out)).unwrap();
        assert!(
            text.chars().count() <= 4096,
            "{} chars",
            text.chars().count()
        );
        assert!(text.contains("send: 3 SENT, 200 ERROR"), "{text}");
        assert!(text.contains("#9 person9@example.test"), "{text}");
        assert!(!text.contains("#10 person10@example.test"), "{text}");
        assert!(text.contains("…and 190 more"), "{text}");
    }

    /// Alerts for runs worth a look only: not for an empty run, a usage mistake or a held
    /// lock (each used to alert "send run finished … 0 SENT" or "send run FAILED"); a run
    /// stopped by Ctrl-C says it stopped.
    #[test]
    fn only_runs_that_sent_or_failed_alert() {
        use crate::engine::send::MailboxOut;
        let unwatched = SendError::NoMailbox;
        assert!(
            send_run_text(&Err(unwatched), false)
                .is_some_and(|t| t.starts_with("hailer: send run FAILED")),
            "under cron a usage error alerts"
        );
        assert_eq!(text_watched(&Ok(SendOut::default())), None);
        let cancelled = SendOut {
            stopped: "cancelled".into(),
            ..SendOut::default()
        };
        assert_eq!(text_watched(&Ok(cancelled.clone())), None);
        let text = text_watched(&Ok(SendOut {
            sent: 2,
            ..cancelled
        }))
        .unwrap();
        assert!(text.starts_with("hailer: send run stopped"), "{text}");
        let text = text_watched(&Ok(SendOut {
            error: 1,
            ..SendOut::default()
        }))
        .unwrap();
        assert!(text.starts_with("hailer: send run finished"), "{text}");
        let unknown = SendError::UnknownMailbox {
            name: "nope".into(),
            known: vec!["a".into()],
        };
        assert_eq!(text_watched(&Err(unknown)), None);
        assert_eq!(text_watched(&Err(SendError::NoMailbox)), None);
        assert_eq!(
            text_watched(&Err(SendError::AlreadyRunning("/x/send.lock".into()))),
            None
        );
        let mailbox = |paused| MailboxOut {
            name: "a".into(),
            error: Some("refused".into()),
            paused,
            ..MailboxOut::default()
        };
        assert_eq!(
            text_watched(&Err(SendError::NoUsableMailbox(vec![mailbox(true)]))),
            None
        );
        let text = text_watched(&Err(SendError::NoUsableMailbox(vec![mailbox(false)]))).unwrap();
        assert!(text.starts_with("hailer: send run FAILED"), "{text}");
    }
}
