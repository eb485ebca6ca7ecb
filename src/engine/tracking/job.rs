//! The tracking server as a background job (the TUI's `[tracking] serve_in_tui = true`): it
//! runs on its own small runtime on the job's thread, shows on Activity while it listens, and
//! stops (flushing its pending events) when the job is cancelled or the TUI quits.

use super::server::{ServeConfig, serve};
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
    rt.block_on(async move {
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            if let Ok(addr) = rx.await {
                let note = format!(
                    "listening on http://{addr}{}",
                    if api { " (API on)" } else { "" }
                );
                rep.log(Level::Info, note.clone());
                rep.progress(0, None, note);
            }
        });
        serve(cfg, stop, Some(tx)).await
    })
    .map_err(|e| format!("tracking server on {listen}: {e:#}"))?;
    Ok(format!(
        "tracking server on {listen} stopped; events flushed"
    ))
}
