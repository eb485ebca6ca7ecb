//! Verdicts kept in the `verifications` table: a thread owns its own connection, answers
//! lookups and batches writes (a commit every 250 ms or 500 rows), so verification tasks never
//! wait on SQLite and the CLI, the TUI and other runs can share the database file (WAL).

use std::path::Path;
use std::sync::Mutex;
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tokio::sync::oneshot;

use super::{ResultCache, Status, Verdict};
use crate::store::verifications::{self, VerificationRow};
use crate::store::{Store, StoreError};

const COMMIT_EVERY: Duration = Duration::from_millis(250);
const COMMIT_ROWS: usize = 500;

enum Cmd {
    Lookup(String, oneshot::Sender<Option<Verdict>>),
    Record(VerificationRow),
}

pub struct DbResults {
    tx: Mutex<Option<SyncSender<Cmd>>>,
    worker: Mutex<Option<JoinHandle<Result<u64, StoreError>>>>,
}

impl DbResults {
    /// Open (and migrate) the database at `path` and start the writer thread.
    pub fn open(path: &Path) -> Result<DbResults, StoreError> {
        let store = Store::open(path)?;
        // Point lookups and upserts only: a small page cache keeps a million-line stream
        // within its memory budget (the store's default is sized for imports and the TUI).
        store.conn().execute_batch("PRAGMA cache_size = -4000")?;
        let (tx, rx) = mpsc::sync_channel::<Cmd>(4096);
        let worker = std::thread::Builder::new()
            .name("verify-db".into())
            .spawn(move || serve(store, rx))
            .map_err(|e| StoreError::DataDir {
                path: path.to_path_buf(),
                cause: e,
            })?;
        Ok(DbResults {
            tx: Mutex::new(Some(tx)),
            worker: Mutex::new(Some(worker)),
        })
    }

    /// Commit what is pending and stop the thread; returns the number of rows written.
    pub fn close(&self) -> Result<u64, StoreError> {
        self.tx.lock().unwrap().take();
        match self.worker.lock().unwrap().take() {
            Some(w) => w.join().unwrap_or(Ok(0)),
            None => Ok(0),
        }
    }

    fn send(&self, cmd: Cmd) {
        let tx = self.tx.lock().unwrap().clone();
        let Some(tx) = tx else { return };
        match tx.try_send(cmd) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            // The writer is behind: wait for room (rare; SQLite writes far faster than probes).
            Err(TrySendError::Full(cmd)) => {
                let _ = tx.send(cmd);
            }
        }
    }
}

impl Drop for DbResults {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

impl ResultCache for DbResults {
    fn lookup<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Option<Verdict>> {
        Box::pin(async move {
            let (reply, answer) = oneshot::channel();
            self.send(Cmd::Lookup(email.to_string(), reply));
            answer.await.ok().flatten()
        })
    }

    fn record(&self, email: &str, verdict: &Verdict) {
        self.send(Cmd::Record(to_row(email, verdict)));
    }
}

pub fn to_row(email: &str, v: &Verdict) -> VerificationRow {
    VerificationRow {
        email: email.to_string(),
        status: v.status.as_str().to_string(),
        mx: v.mx.clone(),
        code: v.code.map(i64::from),
        enhanced: v.enhanced.clone(),
        detail: v.detail.clone(),
        checked_at: v.checked_at,
    }
}

pub fn from_row(row: &VerificationRow) -> Option<Verdict> {
    Some(Verdict {
        status: Status::parse(&row.status)?,
        mx: row.mx.clone(),
        code: row.code.and_then(|c| u16::try_from(c).ok()),
        enhanced: row.enhanced.clone(),
        detail: row.detail.clone(),
        checked_at: row.checked_at,
    })
}

fn serve(store: Store, rx: mpsc::Receiver<Cmd>) -> Result<u64, StoreError> {
    let conn = store.conn();
    let mut in_tx = false;
    let mut pending = 0usize;
    let mut written = 0u64;
    let mut since = Instant::now();
    let mut first_error: Option<StoreError> = None;
    let commit = |in_tx: &mut bool, pending: &mut usize| -> Result<(), StoreError> {
        if *in_tx {
            *in_tx = false;
            *pending = 0;
            conn.execute_batch("COMMIT")?;
        }
        Ok(())
    };
    loop {
        let cmd = if in_tx {
            let left = COMMIT_EVERY.saturating_sub(since.elapsed());
            rx.recv_timeout(left)
        } else {
            rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
        };
        let result: Result<(), StoreError> = match cmd {
            Ok(Cmd::Lookup(email, reply)) => {
                let found =
                    verifications::get(conn, &email).map(|row| row.as_ref().and_then(from_row));
                let _ = reply.send(found.as_ref().ok().cloned().flatten());
                found.map(|_| ())
            }
            Ok(Cmd::Record(row)) => (|| {
                if !in_tx {
                    conn.execute_batch("BEGIN IMMEDIATE")?;
                    in_tx = true;
                    since = Instant::now();
                }
                verifications::upsert(conn, &row)?;
                pending += 1;
                written += 1;
                Ok(())
            })(),
            Err(RecvTimeoutError::Timeout) => Ok(()),
            Err(RecvTimeoutError::Disconnected) => {
                let last = commit(&mut in_tx, &mut pending);
                return match (first_error, last) {
                    (Some(e), _) | (None, Err(e)) => Err(e),
                    (None, Ok(())) => Ok(written),
                };
            }
        };
        if let Err(e) = result {
            tracing::error!("storing verification results: {e}");
            first_error.get_or_insert(e);
        }
        if in_tx
            && (pending >= COMMIT_ROWS || since.elapsed() >= COMMIT_EVERY)
            && let Err(e) = commit(&mut in_tx, &mut pending)
        {
            tracing::error!("committing verification results: {e}");
            first_error.get_or_insert(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn recorded_verdicts_are_found_again_and_survive_close() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hailer.db");
        let db = DbResults::open(&path).unwrap();
        assert_eq!(db.lookup("jane@acme.test").await, None);
        let mut v = Verdict::new(Status::Valid, "Ok");
        v.mx = Some("mx.acme.test".into());
        v.code = Some(250);
        v.enhanced = Some("2.1.5".into());
        db.record("jane@acme.test", &v);
        // Seen by the same connection before the batch commits.
        assert_eq!(db.lookup("jane@acme.test").await, Some(v.clone()));
        assert_eq!(db.close().unwrap(), 1);
        let store = Store::open(&path).unwrap();
        let rows = verifications::list(store.conn()).unwrap();
        assert_eq!(rows, [to_row("jane@acme.test", &v)]);
    }

    #[tokio::test]
    async fn many_rows_are_committed_in_batches() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hailer.db");
        let db = DbResults::open(&path).unwrap();
        for i in 0..1200 {
            db.record(&format!("u{i}@acme.test"), &Verdict::new(Status::NoMx, "x"));
        }
        // A second connection sees committed batches while the writer is still open.
        tokio::time::sleep(Duration::from_millis(600)).await;
        let reader = Store::open(&path).unwrap();
        assert_eq!(verifications::list(reader.conn()).unwrap().len(), 1200);
        assert_eq!(db.close().unwrap(), 1200);
    }
}
