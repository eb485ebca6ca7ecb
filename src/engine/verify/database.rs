//! Verifying the database's addresses (`hailer verify` without `--input`, `V` in the TUI),
//! after the main pass: a suggested address verified dead (MAILBOX_NOT_FOUND, NO_MX,
//! INVALID_SYNTAX, DISABLED) has its next alternatives verified too, and the first that
//! verifies VALID becomes the suggestion, with evidence saying why. Hunter and lemlist do the
//! same with the permutations they guess; without it a dead first choice leaves the user to
//! press `c` and verify again by hand.

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::results::DbResults;
use super::{InputItem, ResultCache, VerifyEvent, VerifyIn, VerifyOptions, VerifySummary};
use crate::engine::find::choice;
use crate::store::verifications::{self, Scope};
use crate::store::{self, Store, suggestions};

/// Alternatives verified per dead first choice: the next two cover the usual second
/// guesses (flast, first) without probing a server once per permutation.
pub const MAX_ALTERNATIVES: usize = 2;

/// What the alternatives pass did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AlternativesOut {
    /// Alternatives verified (from the cache or probed).
    pub verified: u64,
    /// Rows whose suggestion changed: (prospect id, dead first choice, its verdict, the
    /// alternative now suggested).
    pub promoted: Vec<Promoted>,
    pub cancelled: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Promoted {
    pub prospect_id: i64,
    pub from: String,
    pub verdict: String,
    pub to: String,
}

impl std::fmt::Display for Promoted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "prospect {}: {} verified {}; now {} (verified VALID, not accepted until a)",
            self.prospect_id, self.from, self.verdict, self.to
        )
    }
}

impl std::fmt::Display for AlternativesOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.verified == 0 {
            return Ok(());
        }
        writeln!(
            f,
            "{} alternative(s) of dead first choices verified; {} suggestion(s) replaced by a VALID one{}",
            self.verified,
            self.promoted.len(),
            if self.cancelled {
                ", stopped before the end"
            } else {
                ""
            }
        )?;
        for p in &self.promoted {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

/// The addresses the main pass takes, fed into `tx` from a thread of its own; the count is
/// for the progress total.
pub fn count(db_path: &Path, scope: &Scope) -> Result<u64, String> {
    Store::open(db_path)
        .and_then(|s| verifications::count_candidates(s.conn(), scope))
        .map(|n| n as u64)
        .map_err(|e| e.to_string())
}

/// Feed the scope's candidate addresses into `tx` (on a thread: SQLite blocks).
pub fn feed(
    db_path: &Path,
    scope: &Scope,
    tx: tokio::sync::mpsc::Sender<InputItem>,
) -> std::thread::JoinHandle<Result<u64, String>> {
    let (path, scope) = (db_path.to_path_buf(), scope.clone());
    std::thread::spawn(move || -> Result<u64, String> {
        let store = Store::open(&path).map_err(|e| e.to_string())?;
        let mut n = 0u64;
        verifications::for_each_candidate(store.conn(), &scope, |email| {
            n += 1;
            tx.blocking_send(InputItem::new(email)).is_ok()
        })
        .map_err(|e| e.to_string())?;
        Ok(n)
    })
}

/// The alternatives pass, once the main pass's verdicts are stored (its `DbResults` closed):
/// verify up to [`MAX_ALTERNATIVES`] alternatives of each suggested address in `scope`
/// verified dead, then suggest the first alternative that verified VALID instead.
/// `report` gets the pass's events as the main pass's did, and `started` (the number of
/// alternatives to verify) before the first.
pub async fn verify_alternatives(
    db_path: &Path,
    scope: &Scope,
    options: VerifyOptions,
    mut started: impl FnMut(u64),
    report: impl FnMut(VerifyEvent),
    cancel: CancellationToken,
) -> Result<AlternativesOut, String> {
    let mut out = AlternativesOut::default();
    let dead = {
        let store = Store::open(db_path).map_err(|e| e.to_string())?;
        suggestions::dead_first_choices(store.conn(), scope, MAX_ALTERNATIVES)
            .map_err(|e| e.to_string())?
    };
    let mut addresses: Vec<String> = Vec::new();
    for d in &dead {
        for a in &d.alternatives {
            if !addresses.contains(a) {
                addresses.push(a.clone());
            }
        }
    }
    if addresses.is_empty() {
        return Ok(out);
    }
    started(addresses.len() as u64);
    let results = Arc::new(DbResults::open(db_path).map_err(|e| e.to_string())?);
    let (tx, rx) = tokio::sync::mpsc::channel::<InputItem>(addresses.len().max(1));
    for a in &addresses {
        // The channel holds them all: never full.
        let _ = tx.try_send(InputItem::new(a));
    }
    drop(tx);
    let input = VerifyIn {
        items: rx,
        options,
        cache: Some(results.clone() as Arc<dyn ResultCache>),
    };
    let summary: Result<VerifySummary, String> = super::run(input, report, cancel)
        .await
        .map_err(|e| e.to_string());
    results.close().map_err(|e| e.to_string())?;
    let summary = summary?;
    out.verified = summary.total;
    out.cancelled = summary.cancelled;
    let mut store = Store::open(db_path).map_err(|e| e.to_string())?;
    let now = store::now_ts();
    let tx = store.write_tx().map_err(|e| e.to_string())?;
    for d in &dead {
        for alt in &d.alternatives {
            let valid = verifications::get(&tx, alt)
                .map_err(|e| e.to_string())?
                .is_some_and(|v| v.status == "VALID");
            if !valid {
                continue;
            }
            if choice::promote_verified(&tx, d.prospect_id, &d.email, &d.verdict, alt, now)
                .map_err(|e| e.to_string())?
            {
                out.promoted.push(Promoted {
                    prospect_id: d.prospect_id,
                    from: d.email.clone(),
                    verdict: d.verdict.clone(),
                    to: alt.clone(),
                });
            }
            break;
        }
    }
    tx.commit().map_err(|e| e.to_string())?;
    Ok(out)
}
