//! `hailer send [--dry-run] [--limit N] [--mailbox NAME]`.
//!
//! `send` runs the same engine job as the TUI's `S`; only the reporter differs: a progress bar
//! and log lines on stderr (when stderr is a terminal), the summary on stdout. Exit 0 when the
//! run went through the outbox (rows ending in ERROR are normal outcomes, listed in the
//! summary, as is a mailbox that failed while others went on: the summary and a line on stderr
//! name it, and `--json` gives its `error` with `paused: false`); 1 when the run could not
//! start, no usable mailbox included (with `--json`, stdout still gets `{"error",
//! "exit_code", "mailboxes"}`), or stopped with rows left because every mailbox was paused
//! or failed on the way (the summary is printed as usual), 3 with no mailbox configured,
//! and 130 when Ctrl-C or SIGTERM stopped it before the end (the summary still says what
//! was sent).

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

use clap::Args;
use tokio_util::sync::CancellationToken;

use super::{Context, exit};
use crate::engine::jobs::{JobKind, JobMsg, Level, Supervisor};
use crate::engine::send::{self, SendError, SendIn, SendOut};

#[derive(Debug, Args)]
pub struct SendCommand {
    /// Render and check every message, write each as an .eml file, send nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Send at most N messages in this run (at least 1: a dry run with 0 would only clear
    /// the folder of the previous one)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
    /// Send only through this mailbox
    #[arg(long, value_name = "NAME")]
    pub mailbox: Option<String>,
    /// Print the summary as JSON
    #[arg(long)]
    pub json: bool,
}

/// The exit codes `hailer send --help` ends with.
pub const EXIT_CODES: &str = "Exit codes: 0 the run went through the outbox (rows ending ERROR \
and a mailbox that failed while others went on included); 1 the run could not start (no usable \
mailbox), or stopped with rows left because every mailbox was paused or failed on the way (the \
next run would not start either); 2 a usage error (an unknown --mailbox); 3 no mailbox \
configured or a configuration problem; 130 stopped by Ctrl-C or SIGTERM.";

fn bar(done: u64, total: Option<u64>) -> String {
    match total {
        Some(t) if t > 0 => {
            let width = 24;
            let filled = ((done.min(t) * width) / t) as usize;
            format!(
                "[{}{}] {done}/{t}",
                "#".repeat(filled),
                ".".repeat(width as usize - filled)
            )
        }
        _ => format!("{done}"),
    }
}

/// The "next send in 8 s" progress note as it reads at `now`, when the run waits between two
/// sends (`due` holds when the send is due); `None` while it waits for something else (a
/// window that opens, a retry), whose note is drawn once as it came.
fn counted_down(due: Option<&Due>, now: std::time::Instant) -> Option<String> {
    let Due { at, wait } = due?;
    (*wait == send::Wait::Delay).then(|| send::next_send_text(at.saturating_duration_since(now)))
}

/// How a run that has a summary exits: 130 when a signal stopped it, 1 when no mailbox was
/// left to send the rest (the next run could not start), else 0.
fn summary_exit_code(out: &SendOut, interrupted: bool) -> u8 {
    if interrupted {
        exit::INTERRUPTED
    } else if out.out_of_mailboxes {
        exit::FAILURE
    } else {
        exit::OK
    }
}

/// A summary in JSON, with the names a run refused at the start uses too: `exit_code`
/// always, and `error` (why it stopped, as `stopped` says) when the exit code is not 0; the
/// count of ERROR rows is `errors`.
fn summary_json(out: &SendOut, code: u8) -> String {
    let mut value = serde_json::to_value(out).unwrap_or_default();
    if let Some(obj) = value.as_object_mut() {
        obj.insert("exit_code".into(), code.into());
        if code != exit::OK {
            obj.insert("error".into(), out.stopped.clone().into());
        }
    }
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// How long `send` waits for its run alert before exiting (the alert dies with the process).
const ALERT_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The run alert's fate, said on stderr unless it went out: under cron nobody reads the log,
/// and an alert refused (a wrong chat_id) or still waiting out Telegram's retry_after when the
/// process exits is lost. `None`: not delivered within [`ALERT_WAIT`].
fn report_alert(delivery: Option<crate::engine::notify::telegram::Delivery>) {
    use crate::engine::notify::{describe, telegram::Outcome};
    match delivery {
        Some(d) if d.outcome == Outcome::Sent => {
            tracing::info!("send alert: {}", describe(&d));
        }
        Some(d) => {
            tracing::warn!("send alert: {}", describe(&d));
            stderrln!(
                "hailer: the Telegram alert for this run was {}",
                describe(&d)
            );
        }
        None => {
            let text = format!(
                "the Telegram alert for this run was not delivered within {} s (the API is slow \
                 or asked to wait); it is dropped",
                ALERT_WAIT.as_secs()
            );
            tracing::warn!("send alert: {text}");
            stderrln!("hailer: {text}");
        }
    }
}

/// When the run's next send is due, and what it waits for (from its last live status).
#[derive(Debug, Clone)]
struct Due {
    at: std::time::Instant,
    wait: send::Wait,
}

impl SendCommand {
    pub fn execute(self, ctx: &Context) -> u8 {
        // Tracking links need their signing key; say so before anything is claimed.
        if let Err(e) = crate::engine::tracking::links::Tracker::from_config(&ctx.config.config) {
            errln!("{e}");
            return exit::CONFIG;
        }
        let input = SendIn {
            config: ctx.config.config.clone(),
            data_dir: ctx.data_dir.clone(),
            dry_run: self.dry_run,
            limit: self.limit,
            mailbox: self.mailbox.clone(),
        };
        let rt = match tokio::runtime::Runtime::new() {
            Ok(rt) => rt,
            Err(e) => {
                errln!("{e}");
                return exit::FAILURE;
            }
        };
        let tty = std::io::stderr().is_terminal();
        let slot: Arc<Mutex<Option<Result<SendOut, SendError>>>> = Arc::new(Mutex::new(None));
        let job_slot = slot.clone();
        // Set by the signal handler only: the supervisor cancels its token on every shutdown.
        let interrupted = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let signalled = interrupted.clone();
        rt.block_on(async move {
            let root = CancellationToken::new();
            let on_signal = root.clone();
            let stop = super::stop_signal();
            tokio::spawn(async move {
                stop.await;
                stderrln!("\nhailer: stopping after the messages in flight…");
                signalled.store(true, std::sync::atomic::Ordering::SeqCst);
                on_signal.cancel();
            });
            let (mut sup, mut rx) = Supervisor::new(root);
            sup.spawn_blocking(JobKind::Send, "send", true, move |r| {
                let res = send::run(input, r);
                let outcome = match &res {
                    Ok(out) => Ok(out.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                if let Ok(mut s) = job_slot.lock() {
                    *s = Some(res);
                }
                outcome
            });
            let mut shown = false;
            // The last progress line, and when the next send is due: a "next send in 8 s"
            // is drawn again every second while the run waits, so it counts down.
            let mut line: Option<(u64, Option<u64>)> = None;
            let mut due: Option<Due> = None;
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                let msg = tokio::select! {
                    msg = rx.recv() => match msg {
                        Some(msg) => msg,
                        None => break,
                    },
                    _ = tick.tick() => {
                        if tty
                            && let Some((done, total)) = &line
                            && let Some(note) = counted_down(due.as_ref(), std::time::Instant::now())
                        {
                            stderr!("\r\x1b[2K{} {note}", bar(*done, *total));
                            let _ = std::io::stderr().flush();
                        }
                        continue;
                    }
                };
                match msg {
                    JobMsg::SendStatus { status, .. } => {
                        due = status
                            .next_send_in
                            .zip(status.waiting.clone())
                            .map(|(d, wait)| Due {
                                at: std::time::Instant::now() + d,
                                wait,
                            });
                    }
                    JobMsg::Progress {
                        done, total, note, ..
                    } if tty => {
                        stderr!("\r\x1b[2K{} {note}", bar(done, total));
                        let _ = std::io::stderr().flush();
                        shown = true;
                        line = Some((done, total));
                        // A new note ends the wait it counted down; the run's status after a
                        // "next send in" note says the next wait (it comes right after).
                        due = None;
                    }
                    JobMsg::Log { level, text, .. } => {
                        if shown {
                            stderr!("\r\x1b[2K");
                        }
                        let tag = match level {
                            Level::Info => "",
                            Level::Warn => "warning: ",
                            Level::Error => "error: ",
                        };
                        errln!("{tag}{text}");
                    }
                    JobMsg::Finished { .. } => break,
                    _ => {}
                }
            }
            if shown {
                stderrln!();
            }
            sup.shutdown(std::time::Duration::from_secs(1)).await;
        });
        let result = slot.lock().ok().and_then(|mut s| s.take());
        // The alert is queued now; the process waits a bounded time for it before exiting.
        let alert = result
            .as_ref()
            .and_then(|r| crate::engine::notify::send_run_ended(&ctx.config.config, r));
        let code = self.report(
            result,
            interrupted.load(std::sync::atomic::Ordering::SeqCst),
        );
        if let Some(alert) = alert {
            report_alert(alert.wait(ALERT_WAIT));
        }
        code
    }

    /// The summary (or the error) on stdout, and the exit code. `interrupted`: a signal
    /// stopped the run.
    fn report(&self, result: Option<Result<SendOut, SendError>>, interrupted: bool) -> u8 {
        match result {
            Some(Ok(out)) => {
                let code = summary_exit_code(&out, interrupted);
                if self.json {
                    outln!("{}", summary_json(&out, code));
                } else {
                    out!("{out}");
                }

                // The run went through the outbox with the other mailboxes: exit 0, as issue
                // #7 asks ("non-zero only when it could not run"). A failed one is still said
                // on stderr, and in JSON as its `error` with `paused: false`.
                // No mailbox was left to send the rest (all paused or failed on the way): the
                // next run could not start and exits 1; this one does too, or a script would
                // read the run as done.
                if out.out_of_mailboxes {
                    errln!("{} (see the summary)", out.stopped);
                    return code;
                }
                let failed: Vec<&str> = out.failed_mailboxes().map(|m| m.name.as_str()).collect();
                if !failed.is_empty() {
                    errln!(
                        "mailbox failed, the others went on: {} (see the summary)",
                        failed.join(", ")
                    );
                }
                // A script must not take a run stopped halfway by a signal for a finished one.
                code
            }
            Some(Err(e)) => {
                errln!("{e}");
                let code = match e {
                    SendError::UnknownMailbox { .. } => exit::USAGE,
                    SendError::NoMailbox => exit::CONFIG,
                    _ => exit::FAILURE,
                };
                if self.json {
                    // A script reading stdout gets an object whatever happened: `error` and
                    // `exit_code` as every `--json` error has, and `mailboxes` as a summary
                    // gives them (objects with `name`, `sent_today`, `error`…).
                    let error = e.to_string();
                    let mailboxes = match e {
                        SendError::NoUsableMailbox(m) => m,
                        _ => Vec::new(),
                    };
                    let body = serde_json::json!({
                        "error": error,
                        "exit_code": code,
                        "mailboxes": mailboxes,
                    });
                    outln!(
                        "{}",
                        serde_json::to_string_pretty(&body).unwrap_or_default()
                    );
                }
                code
            }
            None => {
                errln!("the send job stopped without a result");
                exit::FAILURE
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// The progress line's wait is drawn again as it goes down (it stood at "next send in
    /// 8 s" until the message went out), in the run's own words; other waits are left as
    /// they came. Told by the status's typed wait, not by the note's text.
    #[test]
    fn the_wait_before_the_next_send_counts_down() {
        let now = Instant::now();
        let due = |wait| {
            Some(Due {
                at: now + Duration::from_secs(8),
                wait,
            })
        };
        let delay = due(send::Wait::Delay);
        let delay = delay.as_ref();
        assert_eq!(
            counted_down(delay, now + Duration::from_millis(2500)).as_deref(),
            Some("next send in 6 s")
        );
        assert_eq!(
            counted_down(delay, now + Duration::from_secs(9)).as_deref(),
            Some("next send in 0 s")
        );
        // The first draw (the run's note) and every redraw are one text.
        assert_eq!(
            counted_down(delay, now + Duration::from_millis(500)),
            Some(send::next_send_text(Duration::from_millis(7500)))
        );
        assert_eq!(
            counted_down(due(send::Wait::WindowClosed).as_ref(), now),
            None
        );
        assert_eq!(counted_down(due(send::Wait::Retry).as_ref(), now), None);
        assert_eq!(counted_down(None, now), None);
    }
}
