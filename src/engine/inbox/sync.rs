//! Reading one folder over an open IMAP session: only the UIDs above the last one read (the
//! cost follows the number of new messages), their sizes first, then fetched in batches with
//! `BODY.PEEK[]<0.cap>` (nothing is marked \Seen; a message is read up to `[inbox]
//! max_message_kb`, a batch up to 16 times that), each batch committed with its new high-water
//! mark, then the optional moves.
//!
//! A stop (the observer's `cancelled`) is seen between two messages: the messages handled so
//! far are committed whole with the high-water mark at the last of them, and the rest of the
//! batch is left for the next run. A command that only reads (the greeting, LOGIN, CAPABILITY,
//! SELECT/EXAMINE, UID SEARCH, FETCH) is cut short through a [`SessionCut`] when a stop comes
//! while the server is answering it: nothing has been recorded of what it was asked for, so
//! nothing of it is lost.

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::process::{self, Disposition, Effects, Location};
use super::{InboxError, Observer};
use crate::config::InboxConfig;
use crate::net::imap::Session;
use crate::net::mutf7;
use crate::store::inbox::{self, FolderState};
use crate::store::{self, Store};

/// What reading one folder did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FolderSummary {
    pub mailbox: String,
    pub folder: String,
    /// UIDVALIDITY changed since the last read: the folder was read again from the start.
    pub resynced: bool,
    /// Messages fetched and handled this time.
    pub read: u32,
    /// By kind: bounce autoreply feedback reply other duplicate.
    pub kinds: BTreeMap<String, u32>,
    pub effects: Effects,
    pub moved: u32,
    /// Messages larger than `[inbox] max_message_kb`, read only up to it.
    pub truncated: u32,
}

/// What the server offers that changes how we work.
#[derive(Debug, Clone, Copy, Default)]
pub struct Caps {
    pub idle: bool,
    pub mv: bool,
    pub uidplus: bool,
}

pub fn capabilities(session: &mut Session) -> Result<Caps, imap::Error> {
    let caps = session.capabilities()?;
    Ok(Caps {
        idle: caps.has_str("IDLE"),
        mv: caps.has_str("MOVE"),
        uidplus: caps.has_str("UIDPLUS"),
    })
}

/// `1,2,3,7,8` → `1:3,7:8`: short UID sets for FETCH and MOVE.
pub fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end + 1 {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// How many messages at the size cap one FETCH may hold.
const FETCH_BUDGET: u32 = 16;

/// The longest moving one batch's messages to a folder may take (finding or creating the
/// folder, then MOVE, or COPY, STORE and EXPUNGE) before the step is given up as stalled.
pub const MOVE_LIMIT: Duration = Duration::from_secs(10);

/// `chunk` cut, in order, into runs whose bytes to read (each message's size, at most `cap`;
/// `cap` when the size is unknown) add up to at most `budget`; a run holds at least one UID.
fn byte_bounded<'a>(
    chunk: &'a [u32],
    sizes: &BTreeMap<u32, u32>,
    cap: u32,
    budget: u32,
) -> Vec<&'a [u32]> {
    let mut runs = Vec::new();
    let (mut start, mut bytes) = (0usize, 0u64);
    for (i, uid) in chunk.iter().enumerate() {
        let size = u64::from(sizes.get(uid).copied().unwrap_or(cap).min(cap));
        if i > start && bytes + size > u64::from(budget) {
            runs.push(&chunk[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < chunk.len() {
        runs.push(&chunk[start..]);
    }
    runs
}

/// Cuts the command in flight short when the run is stopped, by shutting down the session's
/// socket (the `imap` crate blocks in a read until the whole answer is in, up to the read
/// timeout). Only commands run through [`cuttable`] are cut: those that change nothing on the
/// server nor in the store (greeting and LOGIN, CAPABILITY, SELECT/EXAMINE, UID SEARCH,
/// FETCH). A stop at any other moment waits for the step under way (a commit, a move), and
/// the session is dead after a cut, which every caller handles by ending the run.
pub struct SessionCut {
    socket: TcpStream,
    /// (a command is in flight, the socket was shut down, a stop may not cut the command)
    state: Mutex<(bool, bool, bool)>,
}

impl SessionCut {
    /// `socket` is the session's (see `net::imap::connect`).
    pub fn new(socket: TcpStream) -> SessionCut {
        SessionCut {
            socket,
            state: Mutex::new((false, false, false)),
        }
    }

    /// Run `command` so that [`SessionCut::cut`] may interrupt it.
    fn during<T>(&self, command: impl FnOnce() -> T) -> T {
        self.lock().0 = true;
        let out = command();
        self.lock().0 = false;
        out
    }

    /// Run `command` (a step that changes the server: a MOVE, or COPY and EXPUNGE), cut short
    /// when it has not ended after `limit`: a server that stalls then costs `limit`, not the
    /// socket's read timeout (which a trickle of bytes can stretch without end). A stop does
    /// not cut it (a move is a step under way: it ends, or stalls). Returns the command's
    /// result and whether it stalled and was cut (the session is unusable then).
    pub fn within<T>(&self, limit: Duration, command: impl FnOnce() -> T) -> (T, bool) {
        let done = AtomicBool::new(false);
        let stalled = AtomicBool::new(false);
        let out = std::thread::scope(|scope| {
            let watcher = scope.spawn(|| {
                let deadline = std::time::Instant::now() + limit;
                while !done.load(Ordering::Acquire) {
                    let now = std::time::Instant::now();
                    if now >= deadline {
                        if self.shut_down() {
                            stalled.store(true, Ordering::Release);
                        }
                        break;
                    }
                    std::thread::park_timeout(deadline - now);
                }
            });
            let out = self.during_uncut(command);
            done.store(true, Ordering::Release);
            watcher.thread().unpark();
            out
        });
        (out, stalled.load(Ordering::Acquire))
    }

    /// [`SessionCut::during`], with a stop's [`SessionCut::cut`] holding off until it ends.
    fn during_uncut<T>(&self, command: impl FnOnce() -> T) -> T {
        self.lock().2 = true;
        let out = self.during(command);
        self.lock().2 = false;
        out
    }

    /// Shut the socket down if a command is in flight (one a stop may cut).
    fn cut(&self) {
        if !self.lock().2 {
            self.shut_down();
        }
    }

    /// Shut the socket down if a command is in flight; whether this call did.
    fn shut_down(&self) -> bool {
        let mut state = self.lock();
        if state.0 && !state.1 {
            let _ = self.socket.shutdown(std::net::Shutdown::Both);
            state.1 = true;
            return true;
        }
        false
    }

    /// Whether a command was cut short (the session is then unusable).
    pub fn was_cut(&self) -> bool {
        self.lock().1
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (bool, bool, bool)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Run `command` (one that only reads: see [`SessionCut`]), cut short by `cut` when the run is
/// stopped: `Ok(None)` then, whatever error the shut socket gave.
pub fn cuttable<T, E>(
    cut: Option<&SessionCut>,
    command: impl FnOnce() -> Result<T, E>,
) -> Result<Option<T>, E> {
    let result = match cut {
        Some(c) => c.during(command),
        None => command(),
    };
    match result {
        Ok(v) => Ok(Some(v)),
        Err(_) if cut.is_some_and(SessionCut::was_cut) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Run `body` while a thread watches `obs` and, once it is cancelled, cuts any command in
/// flight (checked every 50 ms; the thread ends with `body`).
pub fn with_cut<R>(cut: &SessionCut, obs: &dyn Observer, body: impl FnOnce() -> R) -> R {
    /// Ends the watcher however `body` ends (a panic too, or the scope would wait forever).
    struct Done<'a>(&'a AtomicBool, std::thread::Thread);
    impl Drop for Done<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Release);
            self.1.unpark();
        }
    }
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            while !done.load(Ordering::Acquire) {
                // A stop stays set: a command that starts after it was seen is cut too.
                if obs.cancelled() {
                    cut.cut();
                }
                std::thread::park_timeout(Duration::from_millis(50));
            }
        });
        let _done = Done(&done, watcher.thread().clone());
        body()
    })
}

/// A FETCH, cut short by `cut` when the run is stopped: `Ok(None)` then.
fn fetch(
    session: &mut Session,
    cut: Option<&SessionCut>,
    set: &str,
    query: &str,
) -> Result<Option<imap::types::Fetches>, imap::Error> {
    cuttable(cut, || session.uid_fetch(set, query))
}

fn target(cfg: &InboxConfig, d: Disposition) -> Option<&str> {
    match d {
        Disposition::Processed => cfg.processed_folder.as_deref(),
        Disposition::Skipped => cfg.skipped_folder.as_deref(),
        Disposition::Problem => cfg.problem_folder.as_deref(),
        Disposition::Keep => None,
    }
}

/// Read `folder` of `mailbox` up to its newest message, or until `obs` is cancelled (see the
/// module's documentation; with `cut`, a command in flight is cut short too, and the session
/// is unusable when [`SessionCut::was_cut`]). Cut short before its first FETCH, it returns
/// the folder's summary with nothing read and nothing stored. An IMAP error after some
/// batches were stored is [`InboxError::PartlyRead`], with what they read.
#[allow(clippy::too_many_arguments)]
pub fn sync_folder(
    session: &mut Session,
    caps: Caps,
    store: &mut Store,
    mailbox: &str,
    folder: &str,
    cfg: &InboxConfig,
    obs: &dyn Observer,
    cut: Option<&SessionCut>,
) -> Result<FolderSummary, InboxError> {
    let mut summary = FolderSummary {
        mailbox: mailbox.into(),
        folder: folder.into(),
        ..Default::default()
    };
    match read_folder(session, caps, store, folder, cfg, obs, cut, &mut summary) {
        Ok(()) => Ok(summary),
        Err(e @ InboxError::Imap { .. }) if summary.read > 0 => Err(InboxError::PartlyRead {
            error: Box::new(e),
            summary: Box::new(summary),
        }),
        Err(e) => Err(e),
    }
}

/// [`sync_folder`]'s work, summed in `summary` as it goes (so that what was stored before a
/// failure is still counted).
#[allow(clippy::too_many_arguments)]
fn read_folder(
    session: &mut Session,
    caps: Caps,
    store: &mut Store,
    folder: &str,
    cfg: &InboxConfig,
    obs: &dyn Observer,
    cut: Option<&SessionCut>,
    summary: &mut FolderSummary,
) -> Result<(), InboxError> {
    let mailbox = summary.mailbox.clone();
    let mailbox = mailbox.as_str();
    let moves = cfg.processed_folder.is_some()
        || cfg.skipped_folder.is_some()
        || cfg.problem_folder.is_some();
    // EXAMINE when nothing is moved: the folder is opened read-only, so nothing can change in it.
    let wire = mutf7::encode(folder);
    let opened = cuttable(cut, || {
        if moves {
            session.select(&wire)
        } else {
            session.examine(&wire)
        }
    })
    .map_err(|e| {
        // Only the server's NO or BAD says this folder cannot be opened (a typo, a folder
        // deleted meanwhile); a lost connection or a timeout ends the session, not the folder,
        // and the next folders must not be tried on it.
        let what = if matches!(e, imap::Error::No(_) | imap::Error::Bad(_)) {
            "open folder"
        } else {
            "select folder"
        };
        InboxError::imap(mailbox, &format!("{what} {folder}"), e)
    })?;
    let Some(info) = opened else {
        return Ok(());
    };
    let uidvalidity = info.uid_validity.unwrap_or(0);
    let now = store::now_ts();
    let previous = inbox::folder_state(store.conn(), mailbox, folder)?;
    let mut last_uid = match previous {
        Some(s) if s.uidvalidity == uidvalidity => s.last_uid,
        Some(s) => {
            // The UIDs we kept mean nothing now. Read everything again; Message-IDs keep the
            // effects from happening twice.
            obs.log(
                super::Level::Warn,
                &format!(
                    "{mailbox}/{folder}: UIDVALIDITY changed ({} → {uidvalidity}), reading the folder again",
                    s.uidvalidity
                ),
            );
            summary.resynced = true;
            0
        }
        None => 0,
    };
    let state = |last_uid| FolderState {
        uidvalidity,
        last_uid,
    };
    // Nothing new: UIDNEXT says so without a SEARCH.
    if info.exists == 0 || info.uid_next.is_some_and(|n| n <= last_uid + 1) {
        inbox::set_folder_state(store.conn(), mailbox, folder, state(last_uid), now)?;
        return Ok(());
    }
    let found = cuttable(cut, || {
        session.uid_search(format!("UID {}:*", last_uid + 1))
    })
    .map_err(|e| InboxError::imap(mailbox, &format!("search {folder}"), e))?;
    let Some(found) = found else {
        return Ok(());
    };
    let mut uids: Vec<u32> = found
        .into_iter()
        // `n:*` always includes the last message, even when its UID is below n.
        .filter(|&u| u > last_uid)
        .collect();
    uids.sort_unstable();
    let total = uids.len() as u64;
    let mut done = 0u64;
    let mut folders_made: Vec<String> = Vec::new();
    let cap = cfg.max_message_kb.max(1).saturating_mul(1024);
    let fetch_body = format!("(UID BODY.PEEK[]<0.{cap}>)");
    // Sizes first (one cheap FETCH per batch), so that one FETCH of bodies never holds more
    // than FETCH_BUDGET capped messages' worth of bytes, and a message above the cap is read
    // in part.
    let batch = cfg.batch.max(1) as usize;
    let mut sizes: BTreeMap<u32, u32> = BTreeMap::new();
    for chunk in uids.chunks(batch) {
        if obs.cancelled() {
            break;
        }
        let Some(fetched) = fetch(session, cut, &uid_set(chunk), "(UID RFC822.SIZE)")
            .map_err(|e| InboxError::imap(mailbox, &format!("fetch sizes from {folder}"), e))?
        else {
            return Ok(());
        };
        sizes.extend(fetched.iter().filter_map(|f| Some((f.uid?, f.size?))));
    }
    let budget = cap.saturating_mul(FETCH_BUDGET);
    let runs: Vec<&[u32]> = uids
        .chunks(batch)
        .flat_map(|chunk| byte_bounded(chunk, &sizes, cap, budget))
        .collect();
    for chunk in runs {
        if obs.cancelled() {
            break;
        }
        // Stopped during the FETCH: none of its messages was handled, the next run reads them.
        let Some(fetched) = fetch(session, cut, &uid_set(chunk), &fetch_body)
            .map_err(|e| InboxError::imap(mailbox, &format!("fetch from {folder}"), e))?
        else {
            break;
        };
        // A UID the server answered without a body is asked for once more before it is
        // passed over (expunged meanwhile, most likely), and that is said: last_uid moves
        // past it for good.
        let answered: Vec<u32> = fetched
            .iter()
            .filter(|f| f.body().is_some())
            .filter_map(|f| f.uid)
            .collect();
        let missing: Vec<u32> = chunk
            .iter()
            .copied()
            .filter(|u| !answered.contains(u))
            .collect();
        let refetched = if missing.is_empty() {
            None
        } else {
            match fetch(session, cut, &uid_set(&missing), &fetch_body)
                .map_err(|e| InboxError::imap(mailbox, &format!("fetch from {folder}"), e))?
            {
                Some(f) => Some(f),
                None => break,
            }
        };
        // Set when a stop is seen between two messages: the batch ends there.
        let mut stopped = false;
        let mut to_move: BTreeMap<String, Vec<(u32, i64)>> = BTreeMap::new();
        {
            let tx = store.write_tx()?;
            let mut bodies: Vec<(u32, &[u8])> = fetched
                .iter()
                .chain(refetched.iter().flat_map(|r| r.iter()))
                .filter_map(|f| Some((f.uid?, f.body()?)))
                .collect();
            bodies.sort_by_key(|(u, _)| *u);
            bodies.dedup_by_key(|(u, _)| *u);
            let lost: Vec<u32> = missing
                .iter()
                .copied()
                .filter(|u| bodies.binary_search_by_key(u, |(b, _)| *b).is_err())
                .collect();
            if !lost.is_empty() {
                obs.log(
                    super::Level::Warn,
                    &format!(
                        "{mailbox}/{folder}: the server gave no message for UID {} (expunged?); passed over",
                        lost.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
                    ),
                );
            }
            // The last UID of the batch handled (or passed over as read before).
            let mut last_done = last_uid;
            for (uid, body) in bodies {
                // Each message is handled whole inside the transaction, so a stop here leaves
                // none half done.
                if obs.cancelled() {
                    stopped = true;
                    break;
                }
                last_done = last_done.max(uid);
                if uid <= last_uid || inbox::seen_uid(&tx, mailbox, folder, uidvalidity, uid)? {
                    continue;
                }
                if let Some(size) = sizes.get(&uid).filter(|s| **s as usize > body.len()) {
                    summary.truncated += 1;
                    obs.log(
                        super::Level::Info,
                        &format!(
                            "{mailbox}/{folder}: UID {uid} is {} kB; read its first {} kB ([inbox] max_message_kb)",
                            size / 1024,
                            body.len() / 1024
                        ),
                    );
                }
                let at = Location {
                    mailbox,
                    folder,
                    uidvalidity,
                    uid,
                    own_addresses: &cfg.own_addresses,
                };
                let out = process::handle(&tx, at, body, now)?;
                *summary.kinds.entry(out.kind.to_string()).or_default() += 1;
                summary.effects.add(&out.effects);
                summary.read += 1;
                if let Some(t) = target(cfg, out.disposition) {
                    to_move
                        .entry(t.to_string())
                        .or_default()
                        .push((uid, out.inbox_message_id));
                }
            }
            // UIDs of the chunk that vanished meanwhile (expunged) are passed over too; after a
            // stop, only up to the last message handled.
            last_uid = if stopped {
                last_done
            } else {
                last_uid.max(*chunk.last().unwrap_or(&last_uid))
            };
            inbox::set_folder_state(&tx, mailbox, folder, state(last_uid), now)?;
            tx.commit().map_err(store::StoreError::from)?;
        }
        // Moves come after the commit: a crash in between leaves those messages where they
        // are (already read, so never handled twice), never moved without their effects.
        for (dest, items) in to_move {
            let (moved, stalled) = match cut {
                Some(c) => c.within(MOVE_LIMIT, || {
                    move_uids(session, caps, &dest, &items, &mut folders_made)
                }),
                None => (
                    move_uids(session, caps, &dest, &items, &mut folders_made),
                    false,
                ),
            };
            if stalled {
                // What was read is committed; the session is dead, so the mailbox's run ends
                // here, said as this step's error, with what this folder read so far.
                return Err(InboxError::MoveStalled {
                    line: format!(
                        "{mailbox}/{folder}: cannot move to {dest}: no answer within {} s; \
                         the {} read {} stored, and stay in {folder} unless the server \
                         finished the move",
                        MOVE_LIMIT.as_secs(),
                        crate::text::count(items.len() as u64, "message", "messages"),
                        if items.len() == 1 { "is" } else { "are" }
                    ),
                    summary: Box::new(std::mem::take(summary)),
                });
            }
            match moved {
                Ok(()) => {
                    for (_, id) in &items {
                        inbox::set_moved(store.conn(), *id, &dest)?;
                    }
                    summary.moved += items.len() as u32;
                }
                Err(e) => obs.log(
                    super::Level::Warn,
                    &format!("{mailbox}/{folder}: cannot move to {dest}: {e}"),
                ),
            }
        }
        if stopped {
            break;
        }
        done += chunk.len() as u64;
        obs.progress(done, Some(total), &format!("{mailbox}/{folder}"));
    }
    Ok(())
}

/// Move messages hailer read (and only those) to `dest`, creating it when missing.
fn move_uids(
    session: &mut Session,
    caps: Caps,
    dest: &str,
    items: &[(u32, i64)],
    made: &mut Vec<String>,
) -> Result<(), String> {
    let wire = mutf7::encode(dest);
    if !made.iter().any(|m| m == dest) {
        let exists = session
            .list(None, Some(&wire))
            .map_err(|e| e.to_string())?
            .iter()
            .any(|n| n.name() == wire);
        if !exists {
            session.create(&wire).map_err(|e| e.to_string())?;
        }
        made.push(dest.to_string());
    }
    let mut uids: Vec<u32> = items.iter().map(|(u, _)| *u).collect();
    uids.sort_unstable();
    let set = uid_set(&uids);
    if caps.mv {
        return session.uid_mv(&set, &wire).map_err(|e| e.to_string());
    }
    // Without MOVE: COPY, flag \Deleted, and UID EXPUNGE of exactly these UIDs. Plain EXPUNGE
    // would also remove messages someone else flagged, so without UIDPLUS nothing is moved.
    if !caps.uidplus {
        return Err("the server has neither MOVE nor UIDPLUS; messages left in place".into());
    }
    session.uid_copy(&set, &wire).map_err(|e| e.to_string())?;
    session
        .uid_store(&set, "+FLAGS.SILENT (\\Deleted)")
        .map_err(|e| e.to_string())?;
    session.uid_expunge(&set).map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{SessionCut, byte_bounded, uid_set};
    use std::collections::BTreeMap;
    use std::time::Duration;

    /// A session's socket (a loopback pair; nothing is read from it here).
    fn session_cut() -> (SessionCut, std::net::TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (SessionCut::new(client), server)
    }

    /// A stop during a move lets it end (it is a step under way, not a stall); only the move's
    /// own limit cuts it, and only then is it said to have stalled.
    #[test]
    fn a_stop_does_not_cut_a_move_its_limit_does() {
        let (cut, _server) = session_cut();
        let ((), stalled) = cut.within(Duration::from_secs(5), || {
            // A stop arrives while the move runs.
            cut.cut();
            std::thread::sleep(Duration::from_millis(50));
        });
        assert!(!stalled && !cut.was_cut());
        let ((), stalled) = cut.within(Duration::from_millis(20), || {
            std::thread::sleep(Duration::from_millis(300));
        });
        assert!(stalled && cut.was_cut());

        // Outside a move, a stop cuts the command in flight.
        let (cut, _server) = session_cut();
        cut.during(|| cut.cut());
        assert!(cut.was_cut());
    }

    #[test]
    fn batches_are_cut_by_bytes_and_large_messages_count_at_the_cap() {
        let uids = [1, 2, 3, 4, 5, 6];
        // 100 is the cap, 250 the budget; 4 has no known size (counts as the cap).
        let sizes = BTreeMap::from([(1, 50), (2, 120), (3, 90), (5, 10), (6, 300)]);
        let runs = byte_bounded(&uids, &sizes, 100, 250);
        // 50+100+90 = 240; then 100+10 = 110, +100 (6, at the cap) = 210.
        assert_eq!(runs, vec![&[1, 2, 3][..], &[4, 5, 6][..]]);
        // A budget below one message still moves forward one UID at a time.
        assert_eq!(byte_bounded(&[7, 8], &BTreeMap::new(), 100, 10).len(), 2);
        assert!(byte_bounded(&[], &sizes, 100, 250).is_empty());
    }

    #[test]
    fn uid_sets_are_compressed() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[]), "");
    }
}
