//! The IO behind the TUI's sending keys: the plan for the confirmation, the send task, the
//! UNCERTAIN decisions, and the mailbox connection test. Results go back as `Loaded` messages
//! or through the job's Reporter.

use std::path::PathBuf;

use tokio::sync::mpsc::UnboundedSender;

use super::Loaded;
use super::app::{Effect, Pane};
use crate::config::Config;
use crate::engine::jobs::{Level, Reporter};
use crate::engine::send::{self, SendIn};
use crate::store::{self, Store, sending};

/// Short store work off the UI thread: the send plan, or an UNCERTAIN decision (then the
/// outbox is reloaded).
pub(super) fn spawn_quick(
    effect: Effect,
    data_dir: PathBuf,
    config: Config,
    tx: UnboundedSender<Loaded>,
) {
    tokio::task::spawn_blocking(move || match effect {
        Effect::PlanSend => {
            let _ = tx.send(match send::plan(&config, &data_dir, None) {
                Ok(plan) => Loaded::SendPlan(plan),
                Err(e) => Loaded::Error(format!("send: {e}")),
            });
        }
        Effect::ResolveUncertain { id, sent } => {
            let result = Store::open_in(&data_dir).and_then(|s| {
                let now = store::now_ts();
                if sent {
                    sending::resolve_sent(s.conn(), id, "marked as sent by hand (TUI)", now)?;
                } else {
                    sending::requeue_uncertain(s.conn(), id, now)?;
                }
                Ok(())
            });
            let _ = tx.send(match result {
                Ok(()) if sent => Loaded::Toast(format!("row {id} marked SENT")),
                Ok(()) if config.sending.require_approval => Loaded::Toast(format!(
                    "row {id} back to READY, unapproved: approve it (a) to send it again"
                )),
                // Approval is off: READY alone is sendable.
                Ok(()) => Loaded::Toast(format!(
                    "row {id} back to READY: the next run sends it (require_approval is off)"
                )),
                Err(e) => Loaded::Error(e.to_string()),
            });
            let _ = tx.send(match super::data::load_outbox(&data_dir) {
                Ok(rows) => Loaded::Rows(Pane::Outbox, rows),
                Err(e) => Loaded::Error(e.to_string()),
            });
        }
        Effect::ResumeMailboxes => {
            let result = Store::open_in(&data_dir).and_then(|s| {
                let now = store::now_ts();
                let mut resumed = Vec::new();
                for p in crate::store::pauses::list(s.conn())? {
                    if crate::store::pauses::resume(s.conn(), &p.mailbox, now)? {
                        resumed.push(p.mailbox);
                    }
                }
                Ok(resumed)
            });
            let _ = tx.send(match result {
                Ok(names) => Loaded::Toast(format!(
                    "resumed {}: their auto-pause windows start now",
                    names.join(", ")
                )),
                Err(e) => Loaded::Error(e.to_string()),
            });
            let _ = tx.send(match super::bounces::load(&data_dir) {
                Ok(data) => Loaded::Bounces(data),
                Err(e) => Loaded::Error(e.to_string()),
            });
        }
        _ => {}
    });
}

/// `hailer send` as a TUI task: same engine, the Reporter carries pause, cancel and the
/// live figures.
pub(super) fn send_job(
    data_dir: PathBuf,
    config: Config,
    rep: &Reporter,
) -> Result<String, String> {
    let input = SendIn {
        config,
        data_dir,
        dry_run: false,
        limit: None,
        mailbox: None,
    };
    let config = input.config.clone();
    let result = send::run(input, rep);
    // The Telegram alert goes out on its own thread; the task does not wait for it.
    let _ = crate::engine::notify::send_run_ended(&config, &result);
    let out = result.map_err(|e| e.to_string())?;
    for p in &out.problems {
        rep.log(
            Level::Warn,
            format!("#{} {} {}: {}", p.id, p.email, p.status, p.text),
        );
    }
    Ok(send_summary(&out))
}

/// The task's closing line. A mailbox that failed (refused login, unreachable) is named in it:
/// the run went on with the others, so the counts alone would hide that its share was not sent.
fn send_summary(out: &send::SendOut) -> String {
    let mut summary = format!(
        "{} SENT, {} ERROR, {} RETRY, {} UNCERTAIN, {} refused",
        out.sent, out.error, out.retry, out.uncertain, out.refused
    );
    for m in &out.mailboxes {
        if let Some(e) = &m.error {
            summary.push_str(&format!(" · mailbox {} failed: {e}", m.name));
        }
    }
    if !out.stopped.is_empty() {
        summary.push_str(&format!(" · {}", out.stopped));
    }
    summary
}

/// Every configured mailbox in turn; each result goes to the Settings tab as it arrives.
pub(super) fn test_mailboxes(
    config: Config,
    tx: UnboundedSender<Loaded>,
    rep: &Reporter,
) -> Result<String, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let total = config.mailboxes.len() as u64;
    let (mut ok, mut failed) = (0, 0);
    for (i, (name, mb)) in config.mailboxes.iter().enumerate() {
        if rep.is_cancelled() {
            break;
        }
        rep.progress(i as u64, Some(total), name.clone());
        let check = rt.block_on(send::check_mailbox(name, mb, config.tls.ca_file.clone()));
        if check.ok() {
            ok += 1;
        } else {
            failed += 1;
        }
        for line in check.to_string().lines() {
            let level = if line.contains("FAILED") {
                Level::Error
            } else {
                Level::Info
            };
            rep.log(level, line.trim().to_string());
        }
        let _ = tx.send(Loaded::MailboxCheck(check));
        rep.progress(i as u64 + 1, Some(total), name.clone());
    }
    Ok(format!("{ok} mailboxes OK, {failed} failed"))
}

#[cfg(test)]
mod tests {
    use super::send_summary;
    use crate::engine::send::{MailboxOut, SendOut};

    #[test]
    fn a_failed_mailbox_is_named_in_the_summary() {
        let out = SendOut {
            sent: 3,
            mailboxes: vec![
                MailboxOut {
                    name: "main".into(),
                    sent_this_run: 3,
                    ..Default::default()
                },
                MailboxOut {
                    name: "second".into(),
                    error: Some("SMTP 127.0.0.1:2525 connect: Connection refused".into()),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        assert_eq!(
            send_summary(&out),
            "3 SENT, 0 ERROR, 0 RETRY, 0 UNCERTAIN, 0 refused · mailbox second failed: \
             SMTP 127.0.0.1:2525 connect: Connection refused"
        );
    }
}
