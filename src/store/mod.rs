//! SQLite storage: the only module that talks to rusqlite.
//!
//! One file per table group. The database lives at `DATA_DIR/hailer.db`, in WAL mode so the TUI,
//! the CLI and `hailer serve` can share it, with foreign keys on and a busy timeout so a writer
//! waits instead of failing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

pub mod bounces;
pub mod companies;
pub mod engagement;
pub mod imports;
pub mod inbox;
pub mod messages;
pub mod outbox;
pub mod pauses;
pub mod prospects;
pub mod schema;
pub mod sending;
pub mod suggestions;
pub mod suppressions;
pub mod verifications;

pub use companies::Company;
pub use messages::MessageRow;
pub use prospects::ProspectRow;

pub const DB_FILE: &str = "hailer.db";

/// How long a connection waits for another one's write lock before failing with "database is
/// locked".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    // The cause is in the message and not a `source`: a CLI error printed with its chain
    // ({:#}) would say it twice.
    #[error("cannot create data directory {path}: {cause}")]
    DataDir {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("database {path}: {cause}")]
    Open {
        path: PathBuf,
        cause: rusqlite::Error,
    },
    #[error(
        "database {path} was written by a newer hailer (schema version {found}, this build knows {known})"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error(
        "{path} is not a hailer database (it holds another program's tables): give hailer a data directory of its own (--data-dir)"
    )]
    NotHailer { path: PathBuf },
    #[error("cannot open the database's write-ahead log {path}: {cause}")]
    WalFile {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("database error: {0}")]
    Sql(#[source] rusqlite::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        note_lock(&e);
        StoreError::Sql(e)
    }
}

/// SQLite's own code, not its wording, says the database was locked: SQLITE_BUSY (another
/// connection held the write lock past the busy timeout) or SQLITE_LOCKED (a conflict on
/// the same connection).
pub fn is_locked(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Set once a database call of this process failed on a lock ([`is_locked`]).
static LOCK_SEEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Every rusqlite error becomes a [`StoreError`] on its way out of the store, so the CLI
/// learns here that one was a lock: by the time it prints the error, the error is often text
/// (a job's outcome, a row's note), and text from elsewhere may say "database is locked".
/// Only SQLITE_BUSY, another connection's lock: SQLITE_LOCKED is a conflict within one
/// connection, which "another hailer process holds it" would misname.
fn note_lock(e: &rusqlite::Error) {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) {
        LOCK_SEEN.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A lock [`lock_seen`] noted was waited out (a retry loop got through): it is no cause of
/// an error printed later.
pub fn forget_lock() {
    LOCK_SEEN.store(false, std::sync::atomic::Ordering::Relaxed);
}

/// Whether a database call of this process failed because the database stayed locked.
pub fn lock_seen() -> bool {
    LOCK_SEEN.load(std::sync::atomic::Ordering::Relaxed)
}

pub type Result<T> = std::result::Result<T, StoreError>;

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// `journal_mode = WAL`, tried again while another connection holds the lock: on a database
/// being created by several connections at once, SQLite reports that change busy at once
/// instead of calling the busy handler, so the busy timeout does not cover it.
fn set_wal(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(())) {
            Err(e) if is_locked(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

impl Store {
    /// Open (creating the directory and the file when missing) and migrate `DATA_DIR/hailer.db`.
    pub fn open_in(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|cause| StoreError::DataDir {
            path: data_dir.to_path_buf(),
            cause,
        })?;
        Self::open(&data_dir.join(DB_FILE))
    }

    pub fn open(path: &Path) -> Result<Store> {
        let wrap = |cause| {
            note_lock(&cause);
            StoreError::Open {
                path: path.to_path_buf(),
                cause,
            }
        };
        let conn = Connection::open(path).map_err(wrap)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(wrap)?;
        set_wal(&conn).map_err(wrap)?;
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA cache_size = -32000;",
        )
        .map_err(wrap)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        schema::migrate(&mut store.conn, path)?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The write-ahead log, opened for `sync_data`: with `synchronous = NORMAL` a commit is in
    /// the log but not yet on the disk, and syncing this file makes it durable (the sender does
    /// it on another thread while the SMTP commands travel; see engine::send::run).
    pub fn wal_file(&self) -> Result<std::fs::File> {
        // SQLite puts the log beside the database file a symlink points to.
        let db = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        let mut wal = db.into_os_string();
        wal.push("-wal");
        std::fs::File::open(&wal).map_err(|cause| StoreError::WalFile {
            path: wal.into(),
            cause,
        })
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// `BEGIN IMMEDIATE`: take the write lock now, so a concurrent writer waits at the start
    /// rather than failing halfway through.
    pub fn write_tx(&mut self) -> Result<rusqlite::Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)
    }
}

/// Checkpoints the WAL from a thread of its own while a write-heavy job (the sender) runs.
/// With SQLite's automatic checkpoint, the commit that crosses the threshold copies the WAL
/// into the database and fsyncs both files before it returns: a stall of several
/// milliseconds, every hundred messages or so, between a server's reply and the next
/// message. While this lives, the job's connection leaves checkpoints to this thread, which
/// runs a passive one (it never blocks a writer) every quarter of a second.
pub struct BackgroundCheckpoint {
    /// The connection's own threshold before, restored by `checkpoint_in_foreground`.
    autocheckpoint: i64,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Store {
    /// Start checkpointing in the background; this connection's automatic checkpoint is
    /// off until [`Store::checkpoint_in_foreground`].
    pub fn checkpoint_in_background(&self) -> Result<BackgroundCheckpoint> {
        let conn = Connection::open(&self.path).map_err(|cause| StoreError::Open {
            path: self.path.clone(),
            cause,
        })?;
        // No waiting on this connection: the restart below is only worth it when it finds the
        // writer idle and no reader on the log; otherwise it acts as a passive one.
        conn.busy_timeout(Duration::ZERO)?;
        let autocheckpoint: i64 = self
            .conn
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))?;
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let checkpoint = || {
                // Busy (a reader holds old frames) only means: again next time.
                let _ = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)");
                // A passive checkpoint never lets the log start over while the writer keeps
                // appending (SQLite rewinds it only for a writer that finds every frame
                // copied), so it grew by every commit of a run: ~45 MB per 1,000 messages,
                // each commit extending the file, and each claim's sync then also writing
                // the file's size. A restart right after copies the few frames committed
                // meanwhile, holding the write lock that briefly, and the next commit
                // writes from the start of the log again.
                let _ = conn.execute_batch("PRAGMA wal_checkpoint(RESTART)");
            };
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(Duration::from_millis(250))
            {
                checkpoint();
            }
            checkpoint();
        });
        Ok(BackgroundCheckpoint {
            autocheckpoint,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Back to the connection's automatic checkpoint, at the threshold it had before.
    pub fn checkpoint_in_foreground(&self, background: BackgroundCheckpoint) -> Result<()> {
        let autocheckpoint = background.autocheckpoint;
        drop(background);
        self.conn
            .pragma_update(None, "wal_autocheckpoint", autocheckpoint)?;
        Ok(())
    }
}

impl Drop for BackgroundCheckpoint {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Seconds since the Unix epoch, the one time format stored in every table.
pub fn now_ts() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn autocheckpoint(store: &Store) -> i64 {
        store
            .conn()
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn background_checkpoints_copy_the_wal_into_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        let db = dir.path().join(DB_FILE);
        let before = std::fs::metadata(&db).unwrap().len();
        let background = store.checkpoint_in_background().unwrap();
        assert_eq!(autocheckpoint(&store), 0);
        store
            .conn()
            .execute_batch(
                "CREATE TABLE filler (x BLOB);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
                 INSERT INTO filler SELECT randomblob(4000) FROM n;",
            )
            .unwrap();
        // With its own checkpoint off, only the background thread can grow the database
        // file; wait (bounded) for one of its passes.
        let grown = (0..200).any(|_| {
            std::thread::sleep(Duration::from_millis(25));
            std::fs::metadata(&db).unwrap().len() > before + 4_000_000
        });
        assert!(
            grown,
            "no checkpoint copied the 8 MB written into the database"
        );
        store.checkpoint_in_foreground(background).unwrap();
        assert_eq!(autocheckpoint(&store), 1000);
    }

    /// A sender commits all the time; the log must start over after the background
    /// checkpoints instead of growing by every commit of the run.
    #[test]
    fn the_log_starts_over_while_a_writer_keeps_committing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        let wal = dir.path().join(format!("{DB_FILE}-wal"));
        let wal_len = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        store
            .conn()
            .execute_batch("CREATE TABLE filler (x BLOB)")
            .unwrap();
        let background = store.checkpoint_in_background().unwrap();
        let insert = || {
            store
                .conn()
                .execute("INSERT INTO filler VALUES (randomblob(8000))", [])
                .unwrap();
        };
        // What one commit adds to the log (frames of 4 kB pages), measured from the first.
        let start = wal_len();
        insert();
        let per_commit = wal_len() - start;
        assert!(per_commit > 8000, "one commit wrote {per_commit} bytes");
        // Commits for about three seconds (twelve background passes), with the short gaps a
        // sender leaves between two claims. Without restarts the log holds every commit;
        // with them, the commits since the last pass that found the writer idle.
        let (mut commits, mut largest) = (1u64, 0u64);
        let until = std::time::Instant::now() + Duration::from_secs(3);
        while std::time::Instant::now() < until {
            insert();
            commits += 1;
            largest = largest.max(wal_len());
            std::thread::sleep(Duration::from_millis(1));
        }
        let written = commits * per_commit;
        store.checkpoint_in_foreground(background).unwrap();
        assert!(
            largest < written * 3 / 4,
            "the log grew to {largest} bytes for {written} bytes of {commits} commits"
        );
    }
}
