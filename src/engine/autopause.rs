//! Auto-pause: a mailbox whose recent hard bounces, or a complaint, put its sending
//! reputation at risk stops sending until the user resumes it.
//!
//! The rule (`[sending] auto_pause*`): hard bounces (and 5xx refusals during the SMTP
//! transaction, which the sender also checks the rule after) among the mailbox's last
//! `auto_pause_window` sends exceed `auto_pause_hard_bounce_percent` of the window, or a
//! complaint came back about a message it sent (or into its folders). The window is a fixed
//! count, so a young mailbox is judged as if its unsent slots were delivered: one early bounce
//! does not pause it, a third one in 50 does. Only what happened since the last resume counts.
//!
//! The IMAP watcher applies the rule after each folder it reads, the sender before a run; the
//! sender also re-reads the pause state between messages, so a pause written by a watcher in
//! another process stops the next message.

use rusqlite::{Connection, OptionalExtension};

use crate::config::{Config, SendingConfig};
use crate::store::{self, bounces, pauses};

/// A mailbox the rule just paused.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewPause {
    pub mailbox: String,
    pub reason: String,
}

/// Why `mailbox` should be paused now, or `None`. Reads only.
pub fn verdict(
    conn: &Connection,
    rule: &SendingConfig,
    mailbox: &str,
) -> store::Result<Option<String>> {
    let since = pauses::resumed_at(conn, mailbox)?;
    let complaint: Option<(String, String)> = conn
        .prepare_cached(
            "SELECT b.recipient, b.reason FROM bounces b LEFT JOIN outbox o ON o.id = b.outbox_id
             WHERE b.kind = 'complaint' AND b.created_at >= ?2
               AND (o.mailbox = ?1 OR (b.outbox_id IS NULL AND b.mailbox = ?1))
             ORDER BY b.id LIMIT 1",
        )?
        .query_row(rusqlite::params![mailbox, since], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if let Some((recipient, kind)) = complaint {
        return Ok(Some(format!("complaint ({kind}) from {recipient}")));
    }
    let window = i64::from(rule.auto_pause_window.max(1));
    let (sent, hard) = bounces::hard_bounces_in_last_sends_since(conn, mailbox, window, since)?;
    let limit = rule.auto_pause_hard_bounce_percent;
    if hard as f64 * 100.0 > limit * window as f64 {
        // The limit as a count: "over 5% of a 50-send window (6.0%)" left the reader to
        // work out that 3 was more than 2.5.
        let allowed = limit * window as f64 / 100.0;
        let allowed = if allowed.fract() == 0.0 {
            format!("{allowed:.0}")
        } else {
            format!("{allowed:.1}")
        };
        return Ok(Some(format!(
            "{hard} hard bounces or refusals in its last {sent} sends: more than the {allowed} \
             allowed ({limit}% of its {window}-send window)"
        )));
    }
    Ok(None)
}

/// Apply the rule to every configured mailbox not already paused; pause those it names and
/// return them. Nothing happens when `[sending] auto_pause = false`.
pub fn apply(conn: &Connection, config: &Config, now: i64) -> store::Result<Vec<NewPause>> {
    let mut out = Vec::new();
    if !config.sending.auto_pause {
        return Ok(out);
    }
    for name in config.mailboxes.keys() {
        if pauses::get(conn, name)?.is_some() {
            continue;
        }
        if let Some(reason) = verdict(conn, &config.sending, name)?
            && pauses::pause(conn, name, &reason, true, now)?
        {
            out.push(NewPause {
                mailbox: name.clone(),
                reason,
            });
        }
    }
    Ok(out)
}

/// [`apply`], then for each new pause a log line (through `log`) and a Telegram alert. The
/// alert is queued; a process about to exit waits with `notify::drain`.
pub fn apply_and_alert(
    conn: &Connection,
    config: &Config,
    now: i64,
    log: &mut dyn FnMut(String),
) -> store::Result<Vec<NewPause>> {
    let paused = apply(conn, config, now)?;
    for p in &paused {
        let line = format!(
            "mailbox {} auto-paused: {}; nothing more goes out through it until `hailer mailbox resume {}` (R on Settings)",
            p.mailbox, p.reason, p.mailbox
        );
        tracing::warn!("{line}");
        log(line);
        let _ = crate::engine::notify::mailbox_paused(config, &p.mailbox, &p.reason);
    }
    Ok(paused)
}
