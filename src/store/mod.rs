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

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "database {path} was written by a newer hailer (schema version {found}, this build knows {known})"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
}

pub type Result<T> = std::result::Result<T, StoreError>;

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Open (creating the directory and the file when missing) and migrate `DATA_DIR/hailer.db`.
    pub fn open_in(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        Self::open(&data_dir.join(DB_FILE))
    }

    pub fn open(path: &Path) -> Result<Store> {
        let wrap = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(wrap)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(wrap)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
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

/// Seconds since the Unix epoch, the one time format stored in every table.
pub fn now_ts() -> i64 {
    chrono::Utc::now().timestamp()
}
