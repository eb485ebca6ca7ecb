//! `hailer find [--company KEY] [--concurrency N] [--refresh]`: find domains, published
//! addresses and patterns, and store a suggestion per prospect. Progress on stderr when it is
//! a terminal; the summary on stdout (`--json` for JSON). Ctrl-C or SIGTERM stops cleanly,
//! keeping the companies done, and exits 130.

use std::io::{IsTerminal, Write};

use clap::Args;
use tokio_util::sync::CancellationToken;

use super::{Context, exit};
use crate::engine::find::{self, FindIn, FindSettings};

#[derive(Debug, Args)]
pub struct FindCommand {
    /// Only this company: its name as imported ("Acme Corp") or its key ("acme")
    #[arg(long)]
    pub company: Option<String>,
    /// Companies worked on at once
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// Ignore cached domains, pages and patterns (accepted or edited suggestions are kept)
    #[arg(long)]
    pub refresh: bool,
    /// Print the summary as JSON
    #[arg(long)]
    pub json: bool,
}

impl FindCommand {
    pub fn execute(self, ctx: &Context) -> u8 {
        let settings = match FindSettings::from_config(&ctx.config.config) {
            Ok(s) => s,
            Err(e) => {
                errln!("{e}");
                return exit::CONFIG;
            }
        };
        let Some(store) = ctx.store_or_report() else {
            return exit::FAILURE;
        };
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                errln!("{e}");
                return exit::FAILURE;
            }
        };
        let input = FindIn {
            company: self.company,
            concurrency: self.concurrency as usize,
            refresh: self.refresh,
        };
        let token = CancellationToken::new();
        let tty = std::io::stderr().is_terminal();
        let result = rt.block_on(async {
            // Ctrl-C or SIGTERM: the companies done so far are kept, the run stops.
            let t = token.clone();
            let stop = super::stop_signal();
            tokio::spawn(async move {
                stop.await;
                t.cancel();
            });
            find::run(
                store.conn(),
                &input,
                settings,
                &token,
                |done, total, name| {
                    if tty {
                        let width = 30usize;
                        let filled = (done as usize * width)
                            .checked_div(total as usize)
                            .unwrap_or(0);
                        stderr!(
                            "\r[{}{}] {done}/{total} {:<40.40}",
                            "#".repeat(filled),
                            " ".repeat(width - filled),
                            name
                        );
                        let _ = std::io::stderr().flush();
                    }
                },
            )
            .await
        });
        if tty {
            stderrln!();
        }
        match result {
            Ok(out) => {
                if self.json {
                    outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
                } else {
                    outln!("{out}");
                }
                // Only a signal cancels the run.
                if out.cancelled {
                    exit::INTERRUPTED
                } else {
                    exit::OK
                }
            }
            Err(e) => {
                errln!("{e}");
                match e {
                    // A well-formed argument the database cannot use, as for other ids.
                    find::FindError::NoCompany(_) => exit::INPUT,
                    _ => exit::FAILURE,
                }
            }
        }
    }
}
