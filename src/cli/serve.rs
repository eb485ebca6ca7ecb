//! `hailer serve [--listen ADDR]`: the tracking server (pixel, clicks, unsubscribe, REST API).

use std::net::SocketAddr;

use clap::Args;
use tokio_util::sync::CancellationToken;

use super::{Context, exit};
use crate::engine::tracking::server::{ServeConfig, serve};

#[derive(Debug, Args)]
pub struct ServeCommand {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Print the pixel path (/o/TOKEN.gif) for an outbox row and exit (benchmarks, debugging)
    #[arg(long, value_name = "OUTBOX_ID", hide = true)]
    pub print_open_token: Option<i64>,
}

impl ServeCommand {
    pub fn execute(self, ctx: &Context) -> u8 {
        let cfg = &ctx.config.config;
        let Some(var) = cfg.tracking.secret_env.as_deref() else {
            eprintln!(
                "hailer: [tracking] secret_env is not set: tracking tokens need a signing key"
            );
            return exit::CONFIG;
        };
        let secret = match std::env::var(var) {
            Ok(s) if s.len() >= 16 => s,
            Ok(_) => {
                eprintln!("hailer: ${var} (tracking secret) must be at least 16 characters");
                return exit::CONFIG;
            }
            Err(_) => {
                eprintln!("hailer: ${var} (tracking secret) is not set");
                return exit::CONFIG;
            }
        };
        if let Some(id) = self.print_open_token {
            use crate::engine::tracking::token::{Claims, Signer, TokenKind};
            let token = Signer::new(secret.as_bytes()).issue(&Claims {
                kind: TokenKind::Open,
                outbox_id: id,
                url: None,
            });
            println!("/o/{token}.gif");
            return exit::OK;
        }
        let api_token = match cfg.api.token_env.as_deref() {
            None => None,
            Some(var) => match std::env::var(var) {
                Ok(t) if !t.is_empty() => Some(t),
                _ => {
                    eprintln!("hailer: ${var} (API token) is not set; the API stays off");
                    None
                }
            },
        };
        let runtime = match tokio::runtime::Runtime::new() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("hailer: {e}");
                return exit::FAILURE;
            }
        };
        let result = runtime.block_on(async {
            let stop = CancellationToken::new();
            let signal_stop = stop.clone();
            tokio::spawn(async move {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut term), Ok(mut int)) = (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::interrupt()),
                ) else {
                    return;
                };
                tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
                signal_stop.cancel();
            });
            let (tx, rx) = tokio::sync::oneshot::channel();
            tokio::spawn(async move {
                if let Ok(addr) = rx.await {
                    eprintln!("hailer: tracking server on http://{addr}");
                }
            });
            serve(
                ServeConfig {
                    listen: self.listen,
                    data_dir: ctx.data_dir.clone(),
                    secret: secret.into_bytes(),
                    api_token,
                },
                stop,
                Some(tx),
            )
            .await
        });
        match result {
            Ok(()) => exit::OK,
            Err(e) => {
                eprintln!("hailer: {e:#}");
                exit::FAILURE
            }
        }
    }
}
