//! Stopping `hailer bounces sync` (Ctrl-C, SIGTERM, a cancelled TUI task) in the middle of a
//! batch, against a scripted IMAP server on loopback: a stop is seen between two messages or
//! during a command the server is slow to answer (LOGIN, SELECT, UID SEARCH, FETCH), never
//! leaves a message half handled, and the next run reads on.

mod common;
#[path = "common/fake_imap.rs"]
mod fake_imap;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fake_imap::{FakeImap, Stall};
use hailer::config::Config;
use hailer::engine::inbox::{self, Level, Observer};
use hailer::store::Store;

/// Mail that is neither a bounce nor a reply ("other"), `extra` bytes of body past the text.
fn newsletter(i: u32, extra: usize) -> Vec<u8> {
    let mut m = format!(
        "From: news@shop.test\r\nTo: sam@sender.test\r\nSubject: Offer {i}\r\n\
         Message-ID: <offer{i}@shop.test>\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\n\
         Content-Type: text/plain\r\n\r\nBuy now.\r\n"
    )
    .into_bytes();
    m.extend(std::iter::repeat_n(b'x', extra));
    m.extend_from_slice(b"\r\n");
    m
}

/// A data dir with a config whose one mailbox reads the fake server's INBOX.
fn setup(server: &FakeImap, inbox: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[mailboxes.m]\nfrom = \"Sam <sam@sender.test>\"\nsmtp_host = \"127.0.0.1\"\n\
             imap_host = \"127.0.0.1\"\nimap_port = {}\nimap_security = \"plain\"\n\
             password_cmd = \"echo secret\"\n\n[inbox]\n{inbox}\n",
            server.port()
        ),
    )
    .unwrap();
    dir
}

/// (kinds of the messages read, the folder's last UID read).
fn read_so_far(dir: &Path) -> (Vec<(String, i64)>, u32) {
    let store = Store::open_in(&dir.join("data")).unwrap();
    let kinds = hailer::store::inbox::kind_counts(store.conn()).unwrap();
    let last = hailer::store::inbox::folder_state(store.conn(), "m", "INBOX")
        .unwrap()
        .map_or(0, |s| s.last_uid);
    (kinds, last)
}

/// A MOVE the server never answers: the step is given up after `MOVE_LIMIT` (not the 30 s
/// read timeout) and reported as that step's error (exit 1, naming the folder), and the
/// messages read before it are stored and counted.
#[test]
fn a_stalled_move_is_an_error_for_that_step_and_keeps_what_was_read() {
    let server = FakeImap::stalling((1..=3).map(|i| newsletter(i, 0)).collect(), Stall::Move);
    let dir = setup(&server, "skipped_folder = \"Skipped\"");
    let out = sync(dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        server.wait_for("STALLED", Duration::from_secs(1)),
        "{:?}\n{stdout}\n{stderr}",
        server.log.lock().unwrap()
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains(&format!(
            "m/INBOX: cannot move to Skipped: no answer within {} s; the 3 messages read are \
             stored, and stay in INBOX unless the server finished the move",
            hailer::engine::inbox::sync::MOVE_LIMIT.as_secs()
        )),
        "{stdout}\n{stderr}"
    );
    assert!(stdout.contains("3 read"), "{stdout}");
    assert_eq!(read_so_far(dir.path()), (vec![("other".to_string(), 3)], 3));
}

/// `hailer bounces sync` in `d` (set up by `setup`).
/// `hailer watch` too: the stalled MOVE is given up after `MOVE_LIMIT`, said with the same
/// line, and the watcher reconnects (before, it waited for the read timeout).
#[test]
fn a_stalled_move_under_watch_is_given_up_and_said() {
    use std::io::BufRead;
    let server = FakeImap::stalling((1..=2).map(|i| newsletter(i, 0)).collect(), Stall::Move);
    let dir = setup(
        &server,
        "skipped_folder = \"Skipped\"\nidle = false\npoll_secs = 60",
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hailer"))
        .current_dir(dir.path())
        .args(["--config", "config.toml", "--data-dir", "data", "watch"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    // The line comes MOVE_LIMIT after the stall; the read timeout (30 s) would come later.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wanted = format!(
        "m/INBOX: cannot move to Skipped: no answer within {} s",
        hailer::engine::inbox::sync::MOVE_LIMIT.as_secs()
    );
    let mut said = Vec::new();
    let found = loop {
        match rx.recv_timeout(Duration::from_secs(25)) {
            Ok(line) if line.contains(&wanted) => break true,
            Ok(line) => said.push(line),
            Err(_) => break false,
        }
    };
    common::signal(child.id(), "TERM");
    let _ = child.wait();
    assert!(found, "{said:?}\n{:?}", server.log.lock().unwrap());
    let (kinds, _) = read_so_far(dir.path());
    assert_eq!(kinds, [("other".to_string(), 2)], "what was read is stored");
}

fn sync(d: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hailer"));
    cmd.current_dir(d)
        .args(["--config", "config.toml", "--data-dir", "data"])
        .args(["bounces", "sync"]);
    cmd
}

/// Runs `bounces sync` in `d`, sends it SIGTERM once `server` has stalled, and returns its
/// output and how long it took to end after the signal.
fn sync_terminated_at_the_stall(server: &FakeImap, d: &Path) -> (std::process::Output, Duration) {
    let child = sync(d)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        server.wait_for("STALLED", Duration::from_secs(20)),
        "{:?}",
        server.log.lock().unwrap()
    );
    let stopped = Instant::now();
    common::signal(child.id(), "TERM");
    let out = child.wait_with_output().unwrap();
    (out, stopped.elapsed())
}

/// SIGTERM while the server is in the middle of answering a FETCH: the run ends at once (not
/// after the 30 s read timeout) with 130, the batch before is kept, nothing of the cut one is
/// recorded, and the next run reads it.
#[test]
fn bounces_sync_stopped_during_a_fetch_exits_130_at_once_and_keeps_the_batches_before() {
    let messages = (1..=4).map(|i| newsletter(i, 100)).collect();
    // Batches of 2: the first body FETCH is answered, the second stalls halfway.
    let server = FakeImap::start(messages, Some(1));
    let dir = setup(&server, "batch = 2");
    let d = dir.path();
    let (out, waited) = sync_terminated_at_the_stall(&server, d);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    // Well under the 30 s read timeout it used to wait for; loose, so a loaded CI machine
    // cannot fail it (a bound, not a speed measurement).
    assert!(waited < Duration::from_secs(20), "{waited:?}: {stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(!stderr.contains("failed"), "{stderr}");
    assert_eq!(read_so_far(d), (vec![("other".into(), 2)], 2));

    // The stalled FETCH was the server's last: the next run reads the two left.
    let out = sync(d).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("m/INBOX: 2 read"), "{stdout}");
    assert_eq!(read_so_far(d), (vec![("other".into(), 4)], 4));
}

/// SIGTERM while the server stalls at `stall`, before any message was read: the run ends at
/// once with 130 and no error, nothing is stored (not even the folder's state), and the next
/// run reads the folder whole.
fn stopped_before_reading_exits_130_at_once_and_stores_nothing(stall: Stall) {
    let messages = (1..=4).map(|i| newsletter(i, 100)).collect();
    let server = FakeImap::stalling(messages, stall);
    let dir = setup(&server, "batch = 2");
    let d = dir.path();
    let (out, waited) = sync_terminated_at_the_stall(&server, d);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stall:?}: {stderr}");
    // Well under the 30 s read timeout (a bound, not a speed measurement).
    assert!(
        waited < Duration::from_secs(20),
        "{stall:?}: {waited:?}: {stderr}"
    );
    assert!(stderr.contains("interrupted"), "{stall:?}: {stderr}");
    assert!(!stderr.contains("failed"), "{stall:?}: {stderr}");
    assert!(!stderr.contains("cannot"), "{stall:?}: {stderr}");
    let store = Store::open_in(&d.join("data")).unwrap();
    let state = hailer::store::inbox::folder_state(store.conn(), "m", "INBOX").unwrap();
    assert!(state.is_none(), "{stall:?}: {state:?}");
    assert_eq!(read_so_far(d), (vec![], 0), "{stall:?}");

    // The server stalls once: the next run reads everything.
    let out = sync(d).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stall:?}: {stdout}");
    assert!(stdout.contains("m/INBOX: 4 read"), "{stall:?}: {stdout}");
    assert_eq!(read_so_far(d), (vec![("other".into(), 4)], 4), "{stall:?}");
}

#[test]
fn bounces_sync_stopped_during_a_select_exits_130_at_once_and_stores_nothing() {
    stopped_before_reading_exits_130_at_once_and_stores_nothing(Stall::Select);
}

#[test]
fn bounces_sync_stopped_during_a_search_exits_130_at_once_and_stores_nothing() {
    stopped_before_reading_exits_130_at_once_and_stores_nothing(Stall::Search);
}

#[test]
fn bounces_sync_stopped_during_login_exits_130_at_once_and_stores_nothing() {
    stopped_before_reading_exits_130_at_once_and_stores_nothing(Stall::Login);
}

/// Stops the run when a log line contains `at`.
struct StopAt {
    at: &'static str,
    stop: AtomicBool,
}

impl Observer for StopAt {
    fn log(&self, _level: Level, text: &str) {
        if text.contains(self.at) {
            self.stop.store(true, Ordering::SeqCst);
        }
    }
    fn cancelled(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// A stop seen in the middle of a batch (here while UID 2, read in part, is being handled)
/// ends it after that message: UIDs 1 and 2 are committed whole, with the folder's high-water
/// mark at 2, and 3 and 4 are left to the next run, which reads them once.
#[test]
fn a_stop_between_two_messages_commits_those_handled_and_the_next_run_reads_on() {
    let messages = vec![
        newsletter(1, 10),
        newsletter(2, 3000),
        newsletter(3, 10),
        newsletter(4, 10),
    ];
    let server = FakeImap::start(messages, None);
    let dir = setup(&server, "batch = 10\nmax_message_kb = 1");
    let d = dir.path();
    let config = Config::from_file(&d.join("config.toml")).unwrap();
    let db = inbox::db_path(&d.join("data"));
    std::fs::create_dir_all(d.join("data")).unwrap();
    let obs = StopAt {
        at: "UID 2 is",
        stop: AtomicBool::new(false),
    };
    let summary = inbox::sync_once(&config, &db, &obs).unwrap();
    assert!(obs.cancelled());
    assert!(summary.errors.is_empty(), "{summary:?}");
    assert_eq!(summary.read(), 2, "{summary:?}");
    assert_eq!(summary.folders[0].truncated, 1, "{summary:?}");
    assert_eq!(read_so_far(d), (vec![("other".into(), 2)], 2));

    let obs = StopAt {
        at: "never logged",
        stop: AtomicBool::new(false),
    };
    let summary = inbox::sync_once(&config, &db, &obs).unwrap();
    assert_eq!(summary.read(), 2, "{summary:?}");
    assert_eq!(read_so_far(d), (vec![("other".into(), 4)], 4));
}

/// The connection drops while the server answers SELECT: that ends the mailbox's run with one
/// error about the session ("select folder"), and the next folder is not tried on the dead
/// session. Before, each folder got its own "cannot open folder" line, as if each name were a
/// typo in the config.
#[test]
fn a_connection_lost_at_select_is_the_sessions_error_not_each_folders() {
    let server = FakeImap::stalling(
        (1..=2).map(|i| newsletter(i, 0)).collect(),
        Stall::CloseAtSelect,
    );
    let dir = setup(&server, "folders = [\"INBOX\", \"Other\"]");
    let out = sync(dir.path()).arg("--json").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let summary: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    let errors = summary["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{summary}");
    let line = errors[0].as_str().unwrap();
    assert!(
        line.starts_with("m: IMAP select folder INBOX failed: "),
        "{line}"
    );
    let log = server.log.lock().unwrap().clone();
    assert!(log.iter().any(|l| l == "CLOSED"), "{log:?}");
    assert!(!log.iter().any(|l| l.contains("Other")), "{log:?}");
}

/// `hailer watch` says the same when it reconnects, naming the mailbox once.
#[test]
fn watch_says_a_connection_lost_at_select_once_and_reconnects() {
    use std::io::BufRead;
    let server = FakeImap::stalling(vec![newsletter(1, 0)], Stall::CloseAtSelect);
    let dir = setup(&server, "idle = false\npoll_secs = 60");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hailer"))
        .current_dir(dir.path())
        .args(["--config", "config.toml", "--data-dir", "data", "watch"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut said = Vec::new();
    let reconnect = loop {
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) if line.contains("reconnecting in") => break Some(line),
            Ok(line) => said.push(line),
            Err(_) => break None,
        }
    };
    // The second connection reads the message.
    let read = server.wait_for("BODY.PEEK", Duration::from_secs(20));
    common::signal(child.id(), "TERM");
    let _ = child.wait();
    let reconnect = reconnect.unwrap_or_else(|| panic!("{said:?}"));
    assert!(
        reconnect.starts_with("hailer: m: IMAP select folder INBOX failed: "),
        "{reconnect}"
    );
    assert!(read, "{:?}", server.log.lock().unwrap());
}
