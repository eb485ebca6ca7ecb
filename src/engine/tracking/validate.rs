//! `POST /api/validate`: `{"emails": [...]}` → one JSON object per line (NDJSON), each written
//! as soon as its verification is done (in input order), so a large list streams instead of
//! waiting for the last address. The same engine as `hailer verify`, with its results stored
//! in the `verifications` table (and reused from it while fresh).

use std::path::Path;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::engine::verify::results::DbResults;
use crate::engine::verify::{
    self, InputItem, ResultCache, VerifyEvent, VerifyIn, VerifyOptions, VerifyOut,
};
use crate::store::Store;
use crate::store::suppressions::{self, Suppression};

/// The most addresses one request may carry.
pub const MAX_EMAILS: usize = 100_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    emails: Vec<String>,
}

fn bad_request(msg: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(serde_json::json!({ "error": msg })),
    )
        .into_response()
}

/// One result line: the address, the verdict's fields, whether it came from the cache, and
/// the suppression entry that blocks the address (`null` when none): a VALID address on the
/// list is still one hailer never mails, and a script checking before a send needs both.
pub fn line(out: &VerifyOut, suppressed: Option<&Suppression>) -> String {
    let v = &out.verdict;
    let mut s = serde_json::json!({
        "index": out.index,
        "email": out.email,
        "status": v.status.as_str(),
        "mx": v.mx,
        "code": v.code,
        "enhanced": v.enhanced,
        "detail": v.detail,
        "checked_at": v.checked_at,
        "cached": out.cached,
        "suppressed": suppressed.map(|s| serde_json::json!({
            "entry": s.entry,
            "cause": s.cause,
            "since": s.created_at,
        })),
    })
    .to_string();
    s.push('\n');
    s
}

/// Parse the body and start streaming results; the caller has checked the bearer token.
/// The probing waits for a permit of `turns`, held until the run ends: requests side by side
/// take turns, so the per-MX-host limits of `[verify]` hold across them (a caller's
/// answer starts at once, its lines come in its turn).
pub fn respond(
    body: &Bytes,
    options: &VerifyOptions,
    db_path: &Path,
    turns: Arc<tokio::sync::Semaphore>,
) -> Response {
    let req: Request = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return bad_request(format!("expected {{\"emails\": [\"…\"]}}: {e}")),
    };
    if req.emails.len() > MAX_EMAILS {
        return bad_request(format!(
            "{} addresses: at most {MAX_EMAILS} per request",
            req.emails.len()
        ));
    }
    let cache = match DbResults::open(db_path) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            tracing::error!("api validate: {e}");
            return super::server::api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the verification cache could not be opened: see hailer serve's log",
            );
        }
    };
    let (items_tx, items_rx) = mpsc::channel::<InputItem>(1024);
    // Unbounded because the engine's reporter cannot wait; lines are small and a client that
    // goes away cancels the run (the send fails), so the backlog stays bounded by the list.
    let (lines_tx, lines_rx) = mpsc::unbounded_channel::<String>();
    let cancel = CancellationToken::new();
    // A suppressed address is not probed: its person asked to be left alone or its mailbox
    // is known dead, and a probe is a connection to their server all the same (database
    // `verify` leaves them out for the same reason). Its stored verdict, if any, answers.
    // A list that cannot be read probes nothing rather than everything.
    let gate = match Store::open(db_path) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("api validate: {e}");
            return super::server::api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the suppression list could not be read: see hailer serve's log",
            );
        }
    };
    tokio::spawn(async move {
        for e in req.emails {
            let mut item = InputItem::new(e);
            match suppressions::blocking(gate.conn(), &item.email) {
                Ok(None) => {}
                Ok(Some(s)) => {
                    item.not_probed = Some(format!(
                        "not probed: {} is on the suppression list ({})",
                        s.entry, s.cause
                    ));
                }
                Err(e) => {
                    tracing::error!("api validate: {e}");
                    item.not_probed =
                        Some("not probed: the suppression list could not be read".into());
                }
            }
            if items_tx.send(item).await.is_err() {
                break;
            }
        }
    });
    let input = VerifyIn {
        items: items_rx,
        options: options.clone(),
        cache: Some(cache.clone() as Arc<dyn ResultCache>),
    };
    let stop = cancel.clone();
    // Behind a mutex: the task holds it across awaits, so it must be shareable.
    let list = Store::open(db_path).ok().map(std::sync::Mutex::new);
    tokio::spawn(async move {
        // A caller that goes away while it waits gives its turn up.
        let _turn = tokio::select! {
            turn = turns.acquire_owned() => match turn {
                Ok(turn) => turn,
                Err(_) => return,
            },
            _ = lines_tx.closed() => return,
        };
        // One indexed read per result (a handful of rows): cheap next to a verification.
        let suppressed = |email: &str| {
            let store = list.as_ref()?.lock().ok()?;
            suppressions::blocking(store.conn(), email).ok().flatten()
        };
        let run = verify::run(
            input,
            |event| {
                if let VerifyEvent::Result(out) = event
                    && lines_tx
                        .send(line(&out, suppressed(&out.email).as_ref()))
                        .is_err()
                {
                    // The client went away: stop probing for it.
                    stop.cancel();
                }
            },
            cancel,
        );
        tokio::pin!(run);
        // A client gone while no result comes (a greylisted host's retry waits minutes) is
        // seen here, not at the next result: the run stops and the next caller's turn comes.
        let summary = tokio::select! {
            summary = &mut run => summary,
            _ = lines_tx.closed() => {
                stop.cancel();
                run.await
            }
        };
        if let Err(e) = summary {
            tracing::error!("api validate: {e}");
            let _ = lines_tx.send(format!(
                "{}\n",
                serde_json::json!({ "error": e.to_string() })
            ));
        }
        let _ = tokio::task::spawn_blocking(move || cache.close()).await;
    });
    let stream = futures::stream::unfold(lines_rx, |mut rx| async {
        rx.recv()
            .await
            .map(|l| (Ok::<_, std::convert::Infallible>(Bytes::from(l)), rx))
    });
    (
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response()
}
