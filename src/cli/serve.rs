//! `hailer serve [--listen ADDR]`: the tracking server (pixel, clicks, unsubscribe, REST API),
//! and the daily Telegram summary when `[notify.telegram] daily_summary_at` is set.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use tokio_util::sync::CancellationToken;

use super::{Context, exit};
use crate::engine::tracking::server::{ServeConfig, serve};

/// How long the daily summary, then the runtime, get to stop after the server did.
const SHUTDOWN: Duration = Duration::from_secs(3);
/// Signals this close together are one stop, delivered twice (see the signal task).
const SAME_STOP: Duration = Duration::from_millis(300);

#[derive(Debug, Args)]
pub struct ServeCommand {
    /// Address to listen on: 127.0.0.1:8080, localhost:8080, [::1]:8080, or a port alone (on
    /// 127.0.0.1) [default: [tracking] listen, else 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Print the pixel path (/o/TOKEN.gif) for an outbox row and exit (benchmarks, debugging)
    #[arg(long, value_name = "OUTBOX_ID", hide = true)]
    pub print_open_token: Option<i64>,
}

impl ServeCommand {
    pub fn execute(self, ctx: &Context) -> u8 {
        let listen = match &self.listen {
            Some(text) => crate::config::resolve_listen(text).map_err(|e| {
                errln!("--listen {e}");
                exit::USAGE
            }),
            None => ctx.config.config.tracking.listen_addr().map_err(|e| {
                errln!("{e}");
                exit::CONFIG
            }),
        };
        let listen: SocketAddr = match listen {
            Ok(a) => a,
            Err(code) => return code,
        };
        let (serve_cfg, warning) =
            match ServeConfig::from_config(&ctx.config.config, ctx.data_dir.clone(), listen) {
                Ok(c) => c,
                Err(e) => {
                    errln!("{e}");
                    return exit::CONFIG;
                }
            };
        if let Some(id) = self.print_open_token {
            use crate::engine::tracking::token::{Claims, Signer, TokenKind};
            let Some(secret) = &serve_cfg.secret else {
                errln!("[tracking] secret_env is not set: there are no tracking links");
                return exit::CONFIG;
            };
            let token = Signer::new(secret).issue(&Claims {
                kind: TokenKind::Open,
                outbox_id: id,
                url: None,
                recipient: None,
            });
            outln!("/o/{token}.gif");
            return exit::OK;
        }
        if let Some(w) = warning {
            errln!("{w}");
        }
        let runtime = match tokio::runtime::Runtime::new() {
            Ok(r) => r,
            Err(e) => {
                errln!("{e}");
                return exit::FAILURE;
            }
        };
        let result = runtime.block_on(async {
            let stop = CancellationToken::new();
            let signal_stop = stop.clone();
            tokio::spawn(async move {
                use tokio::signal::unix::{SignalKind, signal};
                // SIGHUP (the SSH session or terminal went away) and SIGQUIT (Ctrl-\) stop it
                // as cleanly as Ctrl-C: left to their default action they kill the process with
                // the answered opens and clicks still waiting to be written.
                let (Ok(mut term), Ok(mut int), Ok(mut hup), Ok(mut quit)) = (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::hangup()),
                    signal(SignalKind::quit()),
                ) else {
                    return;
                };
                let mut any = async || {
                    tokio::select! {
                        _ = term.recv() => {}, _ = int.recv() => {},
                        _ = hup.recv() => {}, _ = quit.recv() => {},
                    }
                };
                any().await;
                let first = std::time::Instant::now();
                signal_stop.cancel();
                // A second signal while shutting down: leave at once. Not one that follows
                // the first within moments: that is the same stop said twice (GNU `timeout`
                // signals the server, then its whole process group; so does a `kill` of a
                // group), and a clean stop must still exit 0 for a service manager.
                loop {
                    any().await;
                    if first.elapsed() >= SAME_STOP {
                        break;
                    }
                }
                errln!("stopped by a second signal");
                std::process::exit(exit::INTERRUPTED.into());
            });
            // The daily summary rides along when [notify.telegram] daily_summary_at is set.
            let daily =
                match crate::engine::notify::daily::Schedule::from_config(&ctx.config.config) {
                    Ok(Some(schedule)) => {
                        // Said now, not only in the log every 15 minutes once the hour came.
                        let blocked = match crate::engine::notify::telegram(&ctx.config.config) {
                            Err(e) => format!(": it cannot go out, {e}"),
                            Ok(_) => String::new(),
                        };
                        stderrln!(
                            "hailer: daily summary at {} ({}){blocked}",
                            schedule.at.format("%H:%M"),
                            schedule.tz
                        );
                        Some(tokio::spawn(crate::engine::notify::daily::run(
                            ctx.config.config.clone(),
                            ctx.data_dir.clone(),
                            schedule,
                            stop.clone(),
                        )))
                    }
                    Ok(None) => None,
                    Err(e) => {
                        errln!("{e}");
                        None
                    }
                };
            let (tx, rx) = tokio::sync::oneshot::channel();
            tokio::spawn(async move {
                if let Ok(addr) = rx.await {
                    errln!("listening on http://{addr}");
                }
            });
            let served = serve(serve_cfg, stop.clone(), Some(tx)).await;
            // Stop the summary too (an error ended the server) and let it give its day back.
            stop.cancel();
            if let Some(daily) = daily {
                let _ = tokio::time::timeout(SHUTDOWN, daily).await;
            }
            served
        });
        // Nothing left running may hold the exit up for long (a blocking task finishing).
        runtime.shutdown_timeout(SHUTDOWN);
        match result {
            Ok(()) => exit::OK,
            Err(e) => {
                errln!("{e:#}");
                exit::FAILURE
            }
        }
    }
}
