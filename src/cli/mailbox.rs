//! `hailer mailbox test|status|pause|resume`: check a mailbox's connections, and see or change
//! whether it may send (the auto-pause rule pauses a mailbox on hard bounces or a complaint).

use clap::Subcommand;

use super::{Context, exit};
use crate::engine::send::MailboxState;
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
    /// Each mailbox: ready, at today's cap, outside its sending window, or paused (and why);
    /// sent today of its cap; hard bounces in its auto-pause window
    Status {
        /// Print JSON instead of a table (paused_at in Unix seconds)
        #[arg(long)]
        json: bool,
    },
    /// Stop sending through a mailbox until it is resumed
    Pause {
        name: String,
        /// Why (shown in the TUI and by `status`)
        #[arg(long, default_value = crate::store::pauses::BY_HAND)]
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
    /// What a send run would do with it now: `paused`, `unusable` (its password cannot be
    /// read, …), `at_cap` (today's cap or warm-up step reached), `window_closed`, `ready`, or
    /// `unknown` when today's counts could not be read.
    state: &'static str,
    sent_today: Option<u32>,
    cap_today: Option<u32>,
    /// When the sending window is closed now: when it opens next.
    window_opens: Option<String>,
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
                // Today's count, cap and window, as a send run reads them. Without them
                // (a mailbox the sender cannot plan) the pause state is still told.
                let capacity =
                    crate::engine::send::mailbox_capacity(&ctx.config.config, &ctx.data_dir);
                let (capacity, unknown) = match capacity {
                    Ok(c) => (c, None),
                    Err(e) => (Vec::new(), Some(format!("today's counts unreadable: {e}"))),
                };
                let mut rows = Vec::new();
                for name in ctx.config.config.mailboxes.keys() {
                    let since = pauses::resumed_at(conn, name)?;
                    let (sends, hard) =
                        bounces::hard_bounces_in_last_sends_since(conn, name, window, since)?;
                    let p = pauses::get(conn, name)?;
                    let today = capacity.iter().find(|m| m.name == *name);
                    let window_opens = today.and_then(|m| m.window_opens.clone());
                    // The order is MailboxOut::state's, the TUI's; the pause as stored here
                    // (its reason, without the lane's "resume: …" advice).
                    let (state, reason) = match (&p, today.map(|m| (m, m.state()))) {
                        (Some(p), _) => ("paused", p.reason.clone()),
                        (None, None) => (
                            "unknown",
                            unknown.clone().unwrap_or_else(|| "not planned".into()),
                        ),
                        (None, Some((m, s))) => (
                            s.key(),
                            match s {
                                MailboxState::Paused(e) | MailboxState::Unusable(e) => {
                                    e.to_string()
                                }
                                MailboxState::WindowClosed(at) => format!(
                                    "outside its sending window (opens {})",
                                    chrono::DateTime::parse_from_rfc3339(at)
                                        .map_or(at.to_string(), |t| t
                                            .format("%a %H:%M %:z")
                                            .to_string())
                                ),
                                MailboxState::AtCap => {
                                    format!("{} of {} sent today", m.sent_today, m.cap_today)
                                }
                                MailboxState::Ready => String::new(),
                            },
                        ),
                    };
                    rows.push(StatusRow {
                        mailbox: name.clone(),
                        paused: p.is_some(),
                        reason,
                        paused_at: p.map(|p| p.paused_at),
                        window_sends: sends,
                        window_hard_bounces: hard,
                        state,
                        sent_today: today.map(|m| m.sent_today),
                        cap_today: today.map(|m| m.cap_today),
                        window_opens,
                    });
                }
                if json {
                    outln!(
                        "{}",
                        serde_json::to_string_pretty(&rows).unwrap_or_default()
                    );
                } else {
                    let width = rows
                        .iter()
                        .map(|r| r.mailbox.chars().count())
                        .max()
                        .unwrap_or(0)
                        .max("mailbox".len());
                    outln!(
                        "{:<width$} {:<13} {:>9} {:>10}  reason",
                        "mailbox",
                        "state",
                        "today",
                        "hard/sends"
                    );
                    for r in &rows {
                        let today = match (r.sent_today, r.cap_today) {
                            (Some(sent), Some(cap)) => format!("{sent}/{cap}"),
                            _ => "-".into(),
                        };
                        outln!(
                            "{:<width$} {:<13} {:>9} {:>10}  {}",
                            r.mailbox,
                            r.state.replace('_', " "),
                            today,
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
