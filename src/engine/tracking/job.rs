//! The tracking server as a background job (the TUI's `[tracking] serve_in_tui = true`): it
//! runs on its own small runtime on the job's thread, shows on Activity while it listens, and
//! stops (flushing its pending events) when the job is cancelled or the TUI quits.

use super::server::{ServeConfig, Stored, serve_with};
use crate::engine::jobs::{Level, Reporter};

pub fn run(cfg: ServeConfig, reporter: &Reporter) -> Result<String, String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("tracking")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the tracking server's runtime: {e}"))?;
    let stop = reporter.token().clone();
    let listen = cfg.listen;
    let api = cfg.api_token.is_some();
    let rep = reporter.clone();
    // The address, once bound, heads the task's note; what was stored since follows it.
    let listening = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let on_stored = {
        let (rep, listening) = (reporter.clone(), listening.clone());
        let mut since_start = Stored::default();
        Box::new(move |batch: Stored| {
            if batch.total() == 0 {
                return;
            }
            since_start += batch;
            if batch.unsubscribes > 0 {
                // Each one is someone leaving the campaign: worth a line of its own.
                rep.log(
                    Level::Info,
                    format!(
                        "{} recorded (the address is suppressed)",
                        crate::text::count(
                            batch.unsubscribes,
                            "one-click unsubscribe",
                            "one-click unsubscribes"
                        )
                    ),
                );
            }
            let head = listening.lock().map(|l| l.clone()).unwrap_or_default();
            // Batches are 100 ms apart at least: none of them is worth dropping.
            rep.progress_now(
                since_start.total(),
                None,
                format!("{head} · since start: {}", since_start.line()),
            );
        }) as super::server::OnStored
    };
    rt.block_on(async move {
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            if let Ok(addr) = rx.await {
                let note = format!(
                    "listening on http://{addr}{}",
                    if api { " (API on)" } else { "" }
                );
                if let Ok(mut l) = listening.lock() {
                    *l = note.clone();
                }
                rep.log(Level::Info, note.clone());
                rep.progress(0, None, note);
            }
        });
        serve_with(cfg, stop, Some(tx), Some(on_stored)).await
    })
    .map_err(|e| format!("tracking server on {listen}: {e:#}"))?;
    Ok(format!(
        "tracking server on {listen} stopped; events flushed"
    ))
}
