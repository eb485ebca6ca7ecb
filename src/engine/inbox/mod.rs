//! The IMAP watcher: reads the watched folders of every mailbox that has `imap_host`, and turns
//! what comes back into effects (issue #8).
//!
//! - `sync`: one folder, incrementally (UIDVALIDITY + last UID kept in `inbox_folders`), batched
//!   `UID FETCH BODY.PEEK[]`, optional moves (MOVE, else COPY + \Deleted + UID EXPUNGE of those
//!   UIDs only).
//! - `process`: one message: bounce, auto-reply, complaint, reply or other (the parser in
//!   `engine::bounces` does the reading), matched to the sent row by Message-ID (then by
//!   recipient), and its effects: BOUNCED / INVALID / REPLIED, suppression entries, `bounces` rows.
//! - `watch`: keeps going (IDLE when offered, else polling), reconnecting with backoff.
//!
//! [`sync_once`] is `hailer bounces sync` and the TUI's sync task; [`watch::watch`] is `hailer watch`.

pub mod process;
pub mod sync;
pub mod watch;

use std::path::{Path, PathBuf};

use crate::config::Config;
pub use crate::engine::jobs::Level;
use crate::net::imap::{self, ImapEndpoint};
use crate::store::{self, Store};
pub use process::Effects;
pub use sync::FolderSummary;

#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("{0}")]
    Connect(#[from] imap::ImapError),
    #[error("{mailbox}: IMAP {what} failed: {cause}")]
    Imap {
        mailbox: String,
        what: String,
        cause: String,
    },
    #[error("{0}")]
    Store(#[from] store::StoreError),
    /// Moving read messages got no answer in time (`sync::MOVE_LIMIT`): what the folder read
    /// is stored and summed in `summary`; the session was cut.
    #[error("{line}")]
    MoveStalled {
        line: String,
        summary: Box<sync::FolderSummary>,
    },
    /// The session failed part-way through a folder (the connection dropped, a FETCH timed
    /// out): the batches read before are stored with their effects, and summed in `summary`.
    #[error("{error}")]
    PartlyRead {
        error: Box<InboxError>,
        summary: Box<sync::FolderSummary>,
    },
}

impl InboxError {
    fn imap(mailbox: &str, what: &str, e: ::imap::Error) -> InboxError {
        InboxError::Imap {
            mailbox: mailbox.into(),
            what: what.into(),
            cause: imap_cause(&e),
        }
    }
}

/// An IMAP error in the user's words: a dropped connection says so, not the TLS library's
/// wording with a link to its manual ("peer closed connection without sending TLS
/// close_notify: https://docs.rs/rustls/…").
fn imap_cause(e: &::imap::Error) -> String {
    use std::io::ErrorKind;
    match e {
        ::imap::Error::Io(io) => match io.kind() {
            ErrorKind::UnexpectedEof
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe => "the server closed the connection".into(),
            ErrorKind::TimedOut | ErrorKind::WouldBlock => "no answer in time".into(),
            _ => e.to_string(),
        },
        _ => e.to_string(),
    }
}

/// Where progress and warnings go (a TUI job's Reporter, or stderr), and how a run is stopped.
pub trait Observer: Sync {
    fn log(&self, level: Level, text: &str);
    fn progress(&self, _done: u64, _total: Option<u64>, _note: &str) {}
    fn cancelled(&self) -> bool {
        false
    }
}

impl Observer for crate::engine::jobs::Reporter {
    fn log(&self, level: Level, text: &str) {
        crate::engine::jobs::Reporter::log(self, level, text.to_string());
    }
    fn progress(&self, done: u64, total: Option<u64>, note: &str) {
        crate::engine::jobs::Reporter::progress(self, done, total, note.to_string());
    }
    fn cancelled(&self) -> bool {
        self.is_cancelled()
    }
}

/// One mailbox to read: its name, how to log in, its folders.
#[derive(Debug, Clone)]
pub struct Target {
    pub mailbox: String,
    pub endpoint: ImapEndpoint,
    pub folders: Vec<String>,
}

/// The mailboxes with `imap_host`, each with its folders; a mailbox whose password cannot be
/// read is returned as an error line instead.
pub fn targets(config: &Config) -> (Vec<Target>, Vec<String>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (name, mb) in &config.mailboxes {
        if mb.imap_host.is_none() {
            continue;
        }
        match ImapEndpoint::for_mailbox(name, mb, config.tls.ca_file.clone()) {
            Ok(endpoint) => out.push(Target {
                mailbox: name.clone(),
                endpoint,
                folders: mb
                    .watch_folders
                    .clone()
                    .unwrap_or_else(|| config.inbox.folders.clone()),
            }),
            Err(e) => errors.push(e.to_string()),
        }
    }
    (out, errors)
}

/// The result of one pass over every target.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SyncSummary {
    pub folders: Vec<FolderSummary>,
    /// Mailboxes (or folders) that could not be read, one line each.
    pub errors: Vec<String>,
    /// Mailboxes the auto-pause rule paused after what this pass read.
    pub paused: Vec<crate::engine::autopause::NewPause>,
}

impl SyncSummary {
    pub fn read(&self) -> u32 {
        self.folders.iter().map(|f| f.read).sum()
    }

    pub fn effects(&self) -> Effects {
        let mut e = Effects::default();
        for f in &self.folders {
            e.add(&f.effects);
        }
        e
    }

    pub fn kind(&self, kind: &str) -> u32 {
        self.folders.iter().filter_map(|f| f.kinds.get(kind)).sum()
    }

    /// One line for humans.
    pub fn line(&self) -> String {
        let e = self.effects();
        format!(
            "{} read ({} bounce, {} delayed, {} auto-reply, {} feedback report, {} reply, {} unsubscribe, \
             {} other, {} already seen); {} complaint, {} BOUNCED, {} INVALID, {} REPLIED, \
             {} suppressed, {} moved",
            self.read(),
            self.kind("bounce"),
            self.kind("delayed"),
            self.kind("autoreply"),
            self.kind("feedback"),
            self.kind("reply"),
            self.kind("unsubscribe"),
            self.kind("other"),
            self.kind("duplicate"),
            e.complaints,
            e.bounced,
            e.invalid,
            e.replied,
            e.suppressed,
            self.folders.iter().map(|f| f.moved).sum::<u32>(),
        )
    }
}

/// Read every watched folder of one mailbox once, on a fresh session, adding what each read
/// to `out` (a folder the session failed in part-way too). A folder that cannot be opened (a
/// typo in the config) is reported in `errors` and the next folder is read.
/// Once `obs` is cancelled, the run ends after the message being handled, or at once when the
/// server is answering a command that only reads (login, SELECT, SEARCH, FETCH: it is cut
/// short, see [`sync::SessionCut`]).
pub fn sync_target(
    target: &Target,
    store: &mut Store,
    config: &Config,
    obs: &dyn Observer,
    errors: &mut Vec<String>,
    out: &mut Vec<FolderSummary>,
) -> Result<(), InboxError> {
    let ep = &target.endpoint;
    let tcp = imap::connect(ep)?;
    let socket = tcp.try_clone().map_err(|e| imap::ImapError::Connect {
        host: ep.host.clone(),
        port: ep.port,
        cause: e.to_string(),
    })?;
    let cut = sync::SessionCut::new(socket);
    sync::with_cut(&cut, obs, || {
        let Some(mut session) = sync::cuttable(Some(&cut), || imap::login_on(ep, tcp))? else {
            return Ok(());
        };
        let Some(caps) = sync::cuttable(Some(&cut), || sync::capabilities(&mut session))
            .map_err(|e| InboxError::imap(&target.mailbox, "CAPABILITY", e))?
        else {
            return Ok(());
        };
        for folder in &target.folders {
            if obs.cancelled() {
                break;
            }
            match sync::sync_folder(
                &mut session,
                caps,
                store,
                &target.mailbox,
                folder,
                &config.inbox,
                obs,
                Some(&cut),
            ) {
                Ok(s) => out.push(s),
                Err(InboxError::Imap { what, cause, .. }) if what.starts_with("open folder") => {
                    let line = format!("{}: cannot {what}: {cause}", target.mailbox);
                    obs.log(Level::Error, &line);
                    errors.push(line);
                }
                // The session was cut: the mailbox's other folders wait for the next run.
                Err(InboxError::MoveStalled { line, summary }) => {
                    obs.log(Level::Error, &line);
                    errors.push(line);
                    out.push(*summary);
                    break;
                }
                // What the folder read before the failure was stored: it is counted.
                Err(InboxError::PartlyRead { error, summary }) => {
                    out.push(*summary);
                    return Err(*error);
                }
                Err(e) => return Err(e),
            }
        }
        if !cut.was_cut() {
            // A server slow to say goodbye is cut short too once the run is stopped.
            let _ = sync::cuttable(Some(&cut), || session.logout());
        }
        Ok(())
    })
}

/// Progress over a whole sync: each folder counts from zero ([`sync::sync_folder`] reports
/// "n of its new messages"), so the folders read before are added, and the count a sync ends
/// on is the messages it read in all, as its summary says (not the last folder's).
struct RunningCount<'a> {
    inner: &'a dyn Observer,
    /// The folder being read (its progress note), the messages of the folders read before
    /// it, and its own count so far.
    state: std::sync::Mutex<(String, u64, u64)>,
}

impl Observer for RunningCount<'_> {
    fn log(&self, level: Level, text: &str) {
        self.inner.log(level, text)
    }
    fn progress(&self, done: u64, total: Option<u64>, note: &str) {
        let (before, done) = {
            let mut state = self
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let (folder, before, current) = &mut *state;
            if folder != note {
                *before += *current;
                *folder = note.to_string();
            }
            *current = done;
            (*before, done)
        };
        self.inner
            .progress(before + done, total.map(|t| before + t), note)
    }
    fn cancelled(&self) -> bool {
        self.inner.cancelled()
    }
}

/// Read every watched folder of every mailbox once. A mailbox that fails is reported in
/// `errors` and the others go on.
pub fn sync_once(
    config: &Config,
    db: &Path,
    obs: &dyn Observer,
) -> Result<SyncSummary, InboxError> {
    let obs = &RunningCount {
        inner: obs,
        state: Default::default(),
    };
    let mut store = Store::open(db)?;
    let (targets, mut errors) = targets(config);
    let mut summary = SyncSummary::default();
    for t in &targets {
        // Stopped: the mailboxes left are not even logged in to.
        if obs.cancelled() {
            break;
        }
        let read_before = summary.folders.len();
        let result = sync_target(
            t,
            &mut store,
            config,
            obs,
            &mut errors,
            &mut summary.folders,
        );
        if !matches!(result, Err(InboxError::Store(_))) {
            // Bounces read before a failure are stored: the pause rule looks at them now,
            // not at the next run that gets through (the mailbox would go on sending).
            let read = summary.folders[read_before..].iter().any(|f| f.read > 0);
            if result.is_ok() || read {
                summary.paused.extend(check_pauses(&store, config, obs)?);
            }
        }
        match result {
            Ok(()) => {}
            Err(e @ InboxError::Store(_)) => return Err(e),
            Err(e) => {
                let line = named(&t.mailbox, &e);
                obs.log(Level::Error, &line);
                errors.push(line);
            }
        }
    }
    summary.errors = errors;
    Ok(summary)
}

/// `e` named by mailbox, as the config names it (a login error names the user), once.
pub(crate) fn named(mailbox: &str, e: &InboxError) -> String {
    let text = e.to_string();
    if text.starts_with(&format!("{mailbox}: ")) {
        text
    } else {
        format!("{mailbox}: {text}")
    }
}

/// The auto-pause rule over what was just read; each new pause is logged and alerted.
pub(crate) fn check_pauses(
    store: &Store,
    config: &Config,
    obs: &dyn Observer,
) -> Result<Vec<crate::engine::autopause::NewPause>, InboxError> {
    Ok(crate::engine::autopause::apply_and_alert(
        store.conn(),
        config,
        store::now_ts(),
        &mut |line| obs.log(Level::Warn, &line),
    )?)
}

/// The database file under a data directory.
pub fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join(store::DB_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorded(std::sync::Mutex<Vec<(u64, Option<u64>)>>);

    impl Observer for Recorded {
        fn log(&self, _: Level, _: &str) {}
        fn progress(&self, done: u64, total: Option<u64>, _: &str) {
            self.0.lock().unwrap().push((done, total));
        }
    }

    /// A dropped TLS connection is said in plain words, without rustls' link to its manual.
    #[test]
    fn a_dropped_connection_is_said_plainly() {
        let eof = ::imap::Error::Io(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "peer closed connection without sending TLS close_notify: https://docs.rs/rustls/",
        ));
        assert_eq!(imap_cause(&eof), "the server closed the connection");
        let no = ::imap::Error::ConnectionLost;
        assert_eq!(imap_cause(&no), no.to_string());
    }

    /// The summary line names every kind a message was read as: the kinds add up to the
    /// messages read (unsubscribe emails were left out).
    #[test]
    fn the_summary_line_counts_every_kind() {
        let kinds = [
            ("bounce", 1),
            ("delayed", 1),
            ("reply", 1),
            ("unsubscribe", 1),
            ("other", 1),
        ];
        let summary = SyncSummary {
            folders: vec![sync::FolderSummary {
                mailbox: "sender".into(),
                folder: "INBOX".into(),
                resynced: false,
                read: 5,
                kinds: kinds.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
                effects: Default::default(),
                moved: 0,
                truncated: 0,
            }],
            errors: vec![],
            paused: vec![],
        };
        let line = summary.line();
        assert!(
            line.starts_with(
                "5 read (1 bounce, 1 delayed, 0 auto-reply, 0 feedback report, 1 reply, 1 unsubscribe, \
                 1 other, 0 already seen)"
            ),
            "{line}"
        );
    }

    /// A sync of two folders ends on the messages of both (as its summary counts them), not on
    /// the last folder's "1 of 1".
    #[test]
    fn progress_counts_across_folders() {
        let recorded = Recorded::default();
        let running = RunningCount {
            inner: &recorded,
            state: Default::default(),
        };
        running.progress(50, Some(78), "sender/INBOX");
        running.progress(78, Some(78), "sender/INBOX");
        running.progress(1, Some(1), "sender/Junk");
        running.progress(2, Some(3), "claire/INBOX");
        assert_eq!(
            *recorded.0.lock().unwrap(),
            [
                (50, Some(78)),
                (78, Some(78)),
                (79, Some(79)),
                (81, Some(82))
            ]
        );
    }
}
