//! `hailer mailbox test|status|pause|resume`: check a mailbox's connections, and see or change
//! whether it may send (the auto-pause rule pauses a mailbox on hard bounces or a complaint).

use clap::Subcommand;

use super::{Context, exit};
use crate::engine::send::check_mailbox;
use crate::store::{self, Store, bounces, pauses};

#[derive(Debug, Subcommand)]
pub enum MailboxCommand {
    /// Check each mailbox: SMTP login, IMAP login, Sent folder exists
    Test {
        /// Only this mailbox
        name: Option<String>,
        /// Print JSON: per mailbox, ok, and smtp/imap each {ok, detail} (imap null when not
        /// configured)
        #[arg(long)]
        json: bool,
    },
    /// Each mailbox: sending or paused (and why), hard bounces in its auto-pause window
    Status {
        /// Print JSON instead of a table (paused_at in Unix seconds)
        #[arg(long)]
        json: bool,
    },
    /// Stop sending through a mailbox until it is resumed
    Pause {
        name: String,
        /// Why (shown in the TUI and by `status`)
        #[arg(long, default_value = "paused by hand")]
        reason: String,
        /// Print {"mailbox", "paused", "changed", "reason"} instead of a line
        #[arg(long)]
        json: bool,
    },
    /// Send through a paused mailbox again; its auto-pause window starts afresh
    Resume {
        name: String,
        /// Print {"mailbox", "paused", "changed"} instead of a line
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, serde::Serialize)]
struct StatusRow {
    mailbox: String,
    paused: bool,
    reason: String,
    paused_at: Option<i64>,
    /// Sends in the auto-pause window (since the last resume) and hard bounces among them.
    window_sends: i64,
    window_hard_bounces: i64,
}

impl MailboxCommand {
    pub fn execute(self, ctx: &Context) -> u8 {
        let config = &ctx.config.config;
        if config.mailboxes.is_empty() {
            errln!("no mailbox is configured");
            return exit::CONFIG;
        }
        let named = match &self {
            MailboxCommand::Test { name, .. } => name.as_deref(),
            MailboxCommand::Pause { name, .. } | MailboxCommand::Resume { name, .. } => {
                Some(&**name)
            }
            MailboxCommand::Status { .. } => None,
        };
        if let Some(n) = named
            && !config.mailboxes.contains_key(n)
        {
            errln!("no mailbox named {n:?} in the config");
            return exit::USAGE;
        }
        if let MailboxCommand::Test { name, json } = &self {
            return test(ctx, name.as_deref(), *json);
        }
        match self.change_or_show(ctx) {
            Ok(code) => code,
            Err(e) => {
                errln!("{e}");
                exit::FAILURE
            }
        }
    }

    fn change_or_show(self, ctx: &Context) -> store::Result<u8> {
        let store = Store::open_in(&ctx.data_dir)?;
        let conn = store.conn();
        let now = store::now_ts();
        match self {
            MailboxCommand::Pause { name, reason, json } => {
                let changed = pauses::pause(conn, &name, &reason, false, now)?;
                // Already paused: the reason it was paused for, not the one given now.
                let reason = match changed {
                    true => reason,
                    false => pauses::get(conn, &name)?.map_or(reason, |p| p.reason),
                };
                if json {
                    outln!(
                        "{}",
                        serde_json::json!({
                            "mailbox": name, "paused": true, "changed": changed, "reason": reason
                        })
                    );
                } else if changed {
                    outln!("{name}: paused ({reason})");
                } else {
                    outln!("{name}: already paused ({reason})");
                }
            }
            MailboxCommand::Resume { name, json } => {
                let changed = pauses::resume(conn, &name, now)?;
                if json {
                    outln!(
                        "{}",
                        serde_json::json!({ "mailbox": name, "paused": false, "changed": changed })
                    );
                } else if changed {
                    outln!("{name}: resumed; its auto-pause window starts now");
                } else {
                    outln!("{name}: was not paused");
                }
            }
            MailboxCommand::Status { json } => {
                let window = i64::from(ctx.config.config.sending.auto_pause_window.max(1));
                let mut rows = Vec::new();
                for name in ctx.config.config.mailboxes.keys() {
                    let since = pauses::resumed_at(conn, name)?;
                    let (sends, hard) =
                        bounces::hard_bounces_in_last_sends_since(conn, name, window, since)?;
                    let p = pauses::get(conn, name)?;
                    rows.push(StatusRow {
                        mailbox: name.clone(),
                        paused: p.is_some(),
                        reason: p.as_ref().map(|p| p.reason.clone()).unwrap_or_default(),
                        paused_at: p.map(|p| p.paused_at),
                        window_sends: sends,
                        window_hard_bounces: hard,
                    });
                }
                if json {
                    outln!(
                        "{}",
                        serde_json::to_string_pretty(&rows).unwrap_or_default()
                    );
                } else {
                    outln!(
                        "{:<16} {:<8} {:>14}  reason",
                        "mailbox",
                        "state",
                        "hard/sends"
                    );
                    for r in &rows {
                        outln!(
                            "{:<16} {:<8} {:>14}  {}",
                            r.mailbox,
                            if r.paused { "PAUSED" } else { "sending" },
                            format!("{}/{}", r.window_hard_bounces, r.window_sends),
                            r.reason
                        );
                    }
                }
            }
            MailboxCommand::Test { name, json } => return Ok(test(ctx, name.as_deref(), json)),
        }
        Ok(exit::OK)
    }
}

/// One protocol's result in `mailbox test --json`.
#[derive(Debug, serde::Serialize)]
struct CheckJson<'a> {
    ok: bool,
    /// What was checked (host, TLS, login, Sent folder), or why it failed.
    detail: &'a str,
}

impl<'a> CheckJson<'a> {
    fn of(r: &'a Result<String, String>) -> CheckJson<'a> {
        match r {
            Ok(d) => CheckJson {
                ok: true,
                detail: d,
            },
            Err(e) => CheckJson {
                ok: false,
                detail: e,
            },
        }
    }
}

fn test(ctx: &Context, name: Option<&str>, json: bool) -> u8 {
    let config = &ctx.config.config;
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            errln!("{e}");
            return exit::FAILURE;
        }
    };
    let mut all_ok = true;
    let mut checks = Vec::new();
    for (n, mb) in &config.mailboxes {
        if name.is_some_and(|only| only != n) {
            continue;
        }
        let check = rt.block_on(check_mailbox(n, mb, config.tls.ca_file.clone()));
        // Failures also go to DATA_DIR/logs/hailer.log, as the TUI's test logs them.
        for (what, result) in [("smtp", Some(&check.smtp)), ("imap", check.imap.as_ref())] {
            if let Some(Err(e)) = result {
                tracing::warn!("mailbox test {n}: {what} FAILED: {e}");
            }
        }
        all_ok &= check.ok();
        if json {
            checks.push(check);
        } else {
            out!("{check}");
        }
    }
    if json {
        let rows: Vec<_> = checks
            .iter()
            .map(|c| {
                serde_json::json!({
                    "mailbox": c.name,
                    "ok": c.ok(),
                    "smtp": CheckJson::of(&c.smtp),
                    "imap": c.imap.as_ref().map(CheckJson::of),
                })
            })
            .collect();
        outln!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
    }
    if all_ok { exit::OK } else { exit::FAILURE }
}
