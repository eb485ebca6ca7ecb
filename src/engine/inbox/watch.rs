//! `hailer watch`: one thread per mailbox that reads its folders, then waits for news (IMAP
//! IDLE on the folder when the server offers it and the mailbox watches one folder; otherwise
//! a poll every `[inbox] poll_secs`), until the observer says stop. A lost connection or a
//! failed login is retried with exponential backoff (2 s doubling up to 5 minutes).

use std::path::Path;
use std::time::{Duration, Instant};

use super::{InboxError, Level, Observer, SyncSummary, Target, sync};
use crate::config::Config;
use crate::net::imap;
use crate::store::Store;

const BACKOFF_START: Duration = Duration::from_secs(2);
const BACKOFF_MAX: Duration = Duration::from_secs(300);
/// A session that stayed up this long resets the reconnect backoff.
const HEALTHY_SESSION: Duration = Duration::from_secs(60);
/// IDLE is re-issued this often so a stop request is noticed.
const IDLE_SLICE: Duration = Duration::from_secs(5);

/// Sleep up to `d`, waking early when cancelled; returns false when cancelled.
fn nap(d: Duration, obs: &dyn Observer) -> bool {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if obs.cancelled() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200).min(end - Instant::now()));
    }
    !obs.cancelled()
}

/// Watch every target until cancelled; `on_pass` gets each pass's result (from any thread).
pub fn watch(
    config: &Config,
    db: &Path,
    obs: &dyn Observer,
    on_pass: &(dyn Fn(&SyncSummary) + Sync),
) -> Result<(), InboxError> {
    let (targets, errors) = super::targets(config);
    for e in &errors {
        obs.log(Level::Error, e);
    }
    // Fail early on a database that cannot be opened, before any thread starts.
    drop(Store::open(db)?);
    std::thread::scope(|s| {
        for t in &targets {
            s.spawn(move || watch_target(t, config, db, obs, on_pass));
        }
    });
    Ok(())
}

fn watch_target(
    target: &Target,
    config: &Config,
    db: &Path,
    obs: &dyn Observer,
    on_pass: &(dyn Fn(&SyncSummary) + Sync),
) {
    let mut backoff = BACKOFF_START;
    let poll = Duration::from_secs(config.inbox.poll_secs.max(1));
    while !obs.cancelled() {
        let started = Instant::now();
        match session_loop(target, config, db, obs, on_pass, poll) {
            Ok(()) => return,
            Err(failed) => {
                let (e, mut pass) = *failed;
                // A connection that lived a while was healthy: its drop starts a new series
                // of retries rather than continuing an old one at its longest wait.
                if started.elapsed() >= HEALTHY_SESSION {
                    backoff = BACKOFF_START;
                }
                obs.log(
                    Level::Warn,
                    &format!(
                        "{}; reconnecting in {}s",
                        super::named(&target.mailbox, &e),
                        backoff.as_secs()
                    ),
                );
                // With what the pass read before the failure: it is stored, so it is counted.
                pass.errors.push(e.to_string());
                on_pass(&pass);
                if !nap(backoff, obs) {
                    return;
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

/// One connection's life: read, wait, read again. Returns Ok only when cancelled; an error
/// comes with what the pass under way read before it (stored, and run through the pause
/// rule: the mailbox must not go on sending until a pass gets through).
fn session_loop(
    target: &Target,
    config: &Config,
    db: &Path,
    obs: &dyn Observer,
    on_pass: &(dyn Fn(&SyncSummary) + Sync),
    poll: Duration,
) -> Result<(), Box<(InboxError, SyncSummary)>> {
    let mut store = Store::open(db).map_err(|e| Box::new((e.into(), SyncSummary::default())))?;
    let mut pass = SyncSummary::default();
    match watch_session(target, config, &mut store, obs, on_pass, poll, &mut pass) {
        Ok(()) => Ok(()),
        Err(e) => {
            let fx = pass.effects();
            if fx.bounces + fx.complaints > 0 {
                match super::check_pauses(&store, config, obs) {
                    Ok(paused) => pass.paused = paused,
                    Err(pause_error) => pass.errors.push(pause_error.to_string()),
                }
            }
            Err(Box::new((e, pass)))
        }
    }
}

/// [`session_loop`] on an open store; `pass` holds the pass under way.
fn watch_session(
    target: &Target,
    config: &Config,
    store: &mut Store,
    obs: &dyn Observer,
    on_pass: &(dyn Fn(&SyncSummary) + Sync),
    poll: Duration,
    pass: &mut SyncSummary,
) -> Result<(), InboxError> {
    let (mut session, socket) = imap::login_with_socket(&target.endpoint)?;
    // Bounds a folder move (sync::MOVE_LIMIT) as in `bounces sync`; nothing else cuts a
    // command here (a stop is seen between passes). A move that stalls ends the session,
    // and the watcher reconnects.
    let cut = socket.try_clone().ok().map(sync::SessionCut::new);
    let caps = sync::capabilities(&mut session)
        .map_err(|e| InboxError::imap(&target.mailbox, "CAPABILITY", e))?;
    let use_idle = config.inbox.idle && caps.idle && target.folders.len() == 1;
    obs.log(
        Level::Info,
        &format!(
            "{}: watching {} ({})",
            target.mailbox,
            target.folders.join(", "),
            if use_idle { "IDLE" } else { "polling" }
        ),
    );
    // Folders that could not be opened (a typo, a folder deleted meanwhile): reported once per
    // connection, tried again on every pass, and the mailbox's other folders are still read.
    let mut missing: Vec<String> = Vec::new();
    loop {
        *pass = SyncSummary::default();
        let mut opened = 0;
        for folder in &target.folders {
            match sync::sync_folder(
                &mut session,
                caps,
                store,
                &target.mailbox,
                folder,
                &config.inbox,
                obs,
                cut.as_ref(),
            ) {
                Ok(summary) => {
                    opened += 1;
                    missing.retain(|m| m != folder);
                    pass.folders.push(summary);
                }
                Err(InboxError::Imap { what, cause, .. })
                    if what.starts_with("open folder") && target.folders.len() > 1 =>
                {
                    let line = format!("{}: cannot {what}: {cause}", target.mailbox);
                    if !missing.contains(folder) {
                        obs.log(Level::Error, &line);
                        missing.push(folder.clone());
                    }
                    pass.errors.push(line);
                }
                Err(InboxError::PartlyRead { error, summary }) => {
                    pass.folders.push(*summary);
                    return Err(*error);
                }
                Err(InboxError::MoveStalled { line, summary }) => {
                    pass.folders.push(*summary);
                    return Err(InboxError::MoveStalled {
                        line,
                        summary: Box::default(),
                    });
                }
                Err(e) => return Err(e),
            }
        }
        if opened == 0 {
            // Nothing readable on this connection: the outer loop reconnects with backoff.
            return Err(InboxError::Imap {
                mailbox: target.mailbox.clone(),
                what: "open any watched folder".into(),
                cause: pass.errors.join("; "),
            });
        }
        let fx = pass.effects();
        if fx.bounces + fx.complaints > 0 {
            pass.paused = super::check_pauses(store, config, obs)?;
        }
        on_pass(pass);
        // Passed on: an error from here on belongs to the next pass.
        *pass = SyncSummary::default();
        if obs.cancelled() {
            let _ = session.logout();
            return Ok(());
        }
        if use_idle {
            // The folder is still selected after the read above. Wait for any untagged
            // response (EXISTS, EXPUNGE, ...), up to `poll`, in slices so a stop is seen.
            let start = Instant::now();
            while start.elapsed() < poll {
                if obs.cancelled() {
                    let _ = session.logout();
                    return Ok(());
                }
                let outcome = session
                    .idle()
                    .timeout(IDLE_SLICE.min(poll))
                    .keepalive(false)
                    .wait_while(::imap::extensions::idle::stop_on_any);
                // IDLE leaves the socket without a read timeout: put it back.
                let _ = socket.set_read_timeout(Some(target.endpoint.timeout));
                let outcome = outcome.map_err(|e| InboxError::imap(&target.mailbox, "IDLE", e))?;
                if outcome == ::imap::extensions::idle::WaitOutcome::MailboxChanged {
                    break;
                }
            }
        } else {
            if !nap(poll, obs) {
                let _ = session.logout();
                return Ok(());
            }
            // Keeps the connection alive and surfaces a dead one before the next read.
            session
                .noop()
                .map_err(|e| InboxError::imap(&target.mailbox, "NOOP", e))?;
        }
    }
}
