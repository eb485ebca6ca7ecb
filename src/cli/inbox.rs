//! `hailer bounces sync` (read every watched folder once, headless) and `hailer watch` (keep
//! reading until Ctrl-C). Both go through engine::inbox.
//!
//! Exit codes: 0 every mailbox was read; 1 a mailbox (or the database) failed; 3 no mailbox
//! has `imap_host` (nothing to read); `bounces sync` 130 when Ctrl-C or SIGTERM stopped it
//! (after the message being handled, or at once while the server answers the login, a SELECT,
//! a SEARCH or a fetch; what it read is kept, and the next run goes on from there). `watch`
//! runs until stopped, so a signal is its normal end: 0.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Args;

use super::{Context, exit};
use crate::engine::inbox::{self, Level, Observer, SyncSummary};

/// Warnings and errors on stderr; Ctrl-C (when armed) stops the run.
struct Stderr {
    stop: Arc<AtomicBool>,
    verbose: bool,
    /// Errors are printed with the summary (and in its JSON) at the end: not on stderr too.
    errors_in_summary: bool,
}

impl Observer for Stderr {
    fn log(&self, level: Level, text: &str) {
        if level >= Level::Error && self.errors_in_summary {
            return;
        }
        if level >= Level::Warn || self.verbose {
            errln!("{text}");
        }
    }
    fn cancelled(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Set `stop` on Ctrl-C (SIGINT) or SIGTERM, from a small runtime thread; returns once the
/// handlers are installed, so no signal from then on ends the process before it stops cleanly.
fn arm_ctrl_c(stop: Arc<AtomicBool>) {
    let (armed, is_armed) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        let signalled = {
            let _in_runtime = rt.enter();
            super::stop_signal()
        };
        let _ = armed.send(());
        rt.block_on(async {
            signalled.await;
            stop.store(true, Ordering::Relaxed);
        });
    });
    let _ = is_armed.recv();
}

fn no_targets(ctx: &Context) -> bool {
    !ctx.config
        .config
        .mailboxes
        .values()
        .any(|m| m.imap_host.is_some())
}

#[derive(Debug, Args)]
pub struct SyncCommand {
    /// Print the summary as JSON
    #[arg(long)]
    pub json: bool,
}

impl SyncCommand {
    pub fn execute(self, ctx: &Context) -> u8 {
        if no_targets(ctx) {
            errln!("no mailbox has imap_host: nothing to read");
            return exit::CONFIG;
        }
        let stop = Arc::new(AtomicBool::new(false));
        arm_ctrl_c(stop.clone());
        let obs = Stderr {
            stop: stop.clone(),
            verbose: false,
            errors_in_summary: true,
        };
        let summary =
            match inbox::sync_once(&ctx.config.config, &inbox::db_path(&ctx.data_dir), &obs) {
                Ok(s) => s,
                Err(e) => {
                    errln!("{e}");
                    return exit::FAILURE;
                }
            };
        if self.json {
            outln!(
                "{}",
                serde_json::to_string_pretty(&summary).unwrap_or_default()
            );
        } else {
            print_summary(&summary);
        }
        // An auto-pause alert was queued: give it a bounded time to go out with the process.
        drain_alerts(std::time::Duration::from_secs(30));
        if !summary.errors.is_empty() {
            exit::FAILURE
        } else if stop.load(Ordering::Relaxed) {
            // Stopped between two messages or during a command: a script must not take it for a
            // full read.
            errln!("interrupted before every folder was read");
            exit::INTERRUPTED
        } else {
            exit::OK
        }
    }
}

fn print_summary(s: &SyncSummary) {
    for f in &s.folders {
        let mut notes = Vec::new();
        if f.resynced {
            notes.push("UIDVALIDITY changed: read again from the start".to_string());
        }
        if f.truncated > 0 {
            notes.push(format!(
                "{} larger than [inbox] max_message_kb, read in part",
                f.truncated
            ));
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join("; "))
        };
        outln!("{}/{}: {} read{notes}", f.mailbox, f.folder, f.read);
    }
    for e in &s.errors {
        outln!("error: {e}");
    }
    for p in &s.paused {
        outln!("PAUSED mailbox {}: {}", p.mailbox, p.reason);
    }
    outln!("{}", s.line());
}

#[derive(Debug, Args)]
pub struct WatchCommand {
    /// Also print a line for passes that read nothing
    #[arg(long, short)]
    pub verbose: bool,
}

impl WatchCommand {
    pub fn execute(self, ctx: &Context) -> u8 {
        if no_targets(ctx) {
            errln!("no mailbox has imap_host: nothing to watch");
            return exit::CONFIG;
        }
        let stop = Arc::new(AtomicBool::new(false));
        arm_ctrl_c(stop.clone());
        let obs = Stderr {
            stop,
            verbose: true,
            errors_in_summary: false,
        };
        let verbose = self.verbose;
        let on_pass = move |s: &SyncSummary| {
            if s.read() > 0 || verbose {
                for f in s.folders.iter().filter(|f| f.read > 0 || verbose) {
                    outln!(
                        "{} {}/{}: {} read",
                        chrono::Utc::now().format("%Y-%m-%d %H:%M:%S"),
                        f.mailbox,
                        f.folder,
                        f.read
                    );
                }
                outln!("{}", s.line());
            }
        };
        errln!("watching; Ctrl-C stops");
        let result = inbox::watch::watch(
            &ctx.config.config,
            &inbox::db_path(&ctx.data_dir),
            &obs,
            &on_pass,
        );
        // Alerts queued just before Ctrl-C (an auto-pause) still go out.
        drain_alerts(std::time::Duration::from_secs(10));
        match result {
            Ok(()) => exit::OK,
            Err(e) => {
                errln!("{e}");
                exit::FAILURE
            }
        }
    }
}

/// Wait for queued alerts (an auto-pause) before the process exits; when they are not out by
/// then they die with it, and stderr says so (under cron nobody reads the log).
fn drain_alerts(timeout: std::time::Duration) {
    if !crate::engine::notify::drain(timeout) {
        tracing::warn!(
            "alerts not delivered within {} s; dropped",
            timeout.as_secs()
        );
        stderrln!(
            "hailer: a Telegram alert was not delivered within {} s (the API is slow or asked \
             to wait); it is dropped",
            timeout.as_secs()
        );
    }
}
