//! `hailer notify summary [--print]`: the daily summary (counts by status, opens, clicks,
//! bounces, top bouncing domains), sent to Telegram; run it from cron once a day.

use clap::Subcommand;

use super::{Context, exit};
use crate::engine::notify::telegram::{self, Outcome};
use crate::engine::notify::{self, summary};

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Send the daily summary to Telegram ([notify.telegram]); --print shows it instead
    Summary {
        /// Print the summary on stdout and send nothing
        #[arg(long)]
        print: bool,
    },
}

impl NotifyCommand {
    pub fn execute(self, ctx: &Context) -> u8 {
        let NotifyCommand::Summary { print } = self;
        let text = match ctx
            .open_store()
            .and_then(|s| Ok(summary::daily_text(s.conn(), crate::store::now_ts())?))
        {
            Ok(t) => t,
            Err(e) => {
                errln!("{e:#}");
                return exit::FAILURE;
            }
        };
        if print {
            out!("{text}");
            return exit::OK;
        }
        let client = match notify::telegram(&ctx.config.config) {
            Ok(Some(c)) => c,
            Ok(None) => {
                errln!("no [notify.telegram] section in the config");
                return exit::CONFIG;
            }
            Err(e) => {
                errln!("{e}");
                return exit::CONFIG;
            }
        };
        // Each of the 3 retries may wait a retry_after of up to 300 s (more than any backoff),
        // and each of the 4 attempts may take the 20 s request timeout: wait that long.
        match notify::enqueue_with(client, text).and_then(|p| p.wait(telegram::WORST_CASE)) {
            Some(d) if d.outcome == Outcome::Sent => {
                outln!("daily summary {}", notify::describe(&d));
                exit::OK
            }
            Some(d) => {
                errln!("daily summary {}", notify::describe(&d));
                exit::FAILURE
            }
            None => {
                errln!("the daily summary could not be queued or timed out");
                exit::FAILURE
            }
        }
    }
}
