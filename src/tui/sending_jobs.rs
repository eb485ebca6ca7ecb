//! The IO behind the TUI's sending keys: the plan for the confirmation, the send task, the
//! UNCERTAIN decisions, and the mailbox connection test. Results go back as `Loaded` messages
//! or through the job's Reporter.

use std::path::PathBuf;

use tokio::sync::mpsc::UnboundedSender;

use super::Loaded;
use super::app::{Effect, Pane};
use crate::config::Config;
use crate::engine::jobs::{Level, Outcome, Reporter};
use crate::engine::send::{self, SendIn};
use crate::store::{self, Store, pauses, sending};

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
        Effect::LoadCapacity => {
            // Quietly: a busy database leaves the previous figures; the next visit reads again.
            if let Ok(mailboxes) = send::mailbox_capacity(&config, &data_dir) {
                let _ = tx.send(Loaded::Capacity(mailboxes));
            }
        }
        Effect::ResolveUncertain { id, sent } => {
            let result = Store::open_in(&data_dir).and_then(|s| {
                let now = store::now_ts();
                if sent {
                    sending::resolve_sent(s.conn(), id, "marked as sent by hand (TUI)", now)
                } else {
                    sending::requeue_uncertain(s.conn(), id, now)
                }
            });
            let _ = tx.send(match result {
                Ok(true) if sent => Loaded::Toast(format!("row {id} marked SENT")),
                Ok(true) => Loaded::Toast(back_to_ready(id, config.sending.require_approval)),
                // Settled meanwhile (a run found its copy in the Sent folder, `outbox settle`
                // from another shell): saying it was done would tell the user the opposite
                // of what will happen.
                Ok(false) => Loaded::Error(not_uncertain(id)),
                Err(e) => Loaded::Error(e.to_string()),
            });
            let _ = tx.send(match super::data::load_outbox(&data_dir) {
                Ok(rows) => Loaded::Rows(Pane::Outbox, rows),
                Err(e) => Loaded::Error(e.to_string()),
            });
        }
        Effect::ResendBounced { id, force } => {
            let result = Store::open_in(&data_dir).and_then(|mut s| {
                let tx = s.write_tx()?;
                let outcome = sending::resend(&tx, id, store::now_ts(), force)?;
                tx.commit()?;
                Ok(outcome)
            });
            let _ = tx.send(match result {
                Ok(None) => Loaded::Toast(back_to_ready(id, config.sending.require_approval)),
                Ok(Some(refusal)) => Loaded::ResendRefused(refusal),
                Err(e) => Loaded::Error(e.to_string()),
            });
            let _ = tx.send(match super::data::load_outbox(&data_dir) {
                Ok(rows) => Loaded::Rows(Pane::Outbox, rows),
                Err(e) => Loaded::Error(e.to_string()),
            });
        }
        Effect::SetMailboxPause { name, pause } => {
            let _ = tx.send(match set_mailbox_pause(&data_dir, &name, pause) {
                Ok(text) => Loaded::Toast(text),
                Err(e) => Loaded::Error(e.to_string()),
            });
            let _ = tx.send(match super::bounces::load(&data_dir) {
                Ok(data) => Loaded::Bounces(data),
                Err(e) => Loaded::Error(e.to_string()),
            });
            if let Ok(mailboxes) = send::mailbox_capacity(&config, &data_dir) {
                let _ = tx.send(Loaded::Capacity(mailboxes));
            }
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
                    "resumed {}: {} now",
                    names.join(", "),
                    if names.len() == 1 {
                        "its auto-pause window starts"
                    } else {
                        "their auto-pause windows start"
                    }
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

/// `p` on Settings: pause `name` by hand ([`pauses::BY_HAND`]), as `hailer mailbox pause`
/// does, or resume it. A send running now reads the pause before its next message for that
/// mailbox and takes nothing more through it. Returns what the status line says.
pub fn set_mailbox_pause(
    data_dir: &std::path::Path,
    name: &str,
    pause: bool,
) -> Result<String, store::StoreError> {
    let s = Store::open_in(data_dir)?;
    let now = store::now_ts();
    Ok(match pause {
        true if pauses::pause(s.conn(), name, pauses::BY_HAND, false, now)? => {
            format!("{name} paused by hand: nothing more goes out through it (p again resumes)")
        }
        true => format!("{name} was already paused"),
        false if pauses::resume(s.conn(), name, now)? => format!("{name} resumed"),
        false => format!("{name} was not paused"),
    })
}

/// `hailer send` as a TUI task: same engine, the Reporter carries pause, cancel and the
/// live figures.
pub(super) fn send_job(data_dir: PathBuf, config: Config, rep: &Reporter) -> Outcome {
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
    let out = match result {
        Ok(out) => out,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    for p in &out.problems {
        rep.log(
            Level::Warn,
            format!("#{} {} {}: {}", p.id, p.email, p.status, p.text),
        );
    }
    send_outcome(&out)
}

/// A run where one mailbox failed went on with the others: done, with errors.
fn send_outcome(out: &send::SendOut) -> Outcome {
    if out.mailboxes.iter().any(|m| m.error.is_some()) {
        Outcome::DoneWithErrors(send_summary(out))
    } else {
        Outcome::Done(send_summary(out))
    }
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

/// Every configured mailbox in turn; each result goes to the Settings tab as it arrives, and
/// to the log with the outcome: every mailbox failed ends the task failed.
pub(super) fn test_mailboxes(
    config: Config,
    tx: UnboundedSender<Loaded>,
    rep: &Reporter,
) -> Outcome {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let total = config.mailboxes.len() as u64;
    let mut checks = Vec::new();
    for (i, (name, mb)) in config.mailboxes.iter().enumerate() {
        if rep.is_cancelled() {
            break;
        }
        rep.progress(i as u64, Some(total), name.clone());
        let check = rt.block_on(send::check_mailbox(name, mb, config.tls.ca_file.clone()));
        let _ = tx.send(Loaded::MailboxCheck(check.clone()));
        checks.push(check);
        rep.progress(i as u64 + 1, Some(total), name.clone());
    }
    let (lines, outcome) = mailbox_test_outcome(&checks);
    for (level, line) in lines {
        rep.log(level, line);
    }
    outcome
}

/// The log lines (one per mailbox and protocol) and the outcome of a connection test. When
/// every mailbox failed, the first failure is the task's error and is not logged twice.
fn mailbox_test_outcome(checks: &[send::MailboxCheck]) -> (Vec<(Level, String)>, Outcome) {
    let mut lines = Vec::new();
    for c in checks {
        for (what, result) in [("smtp", Some(&c.smtp)), ("imap", c.imap.as_ref())] {
            lines.push(match result {
                Some(Ok(t)) => (Level::Info, format!("{}: {what} ok ({t})", c.name)),
                Some(Err(e)) => (Level::Error, format!("{}: {what} FAILED: {e}", c.name)),
                None => (
                    Level::Info,
                    format!(
                        "{}: imap not configured (no Sent copies, no UNCERTAIN resolution)",
                        c.name
                    ),
                ),
            });
        }
    }
    let total = checks.len();
    let failed = checks.iter().filter(|c| !c.ok()).count();
    if failed == 0 {
        let s = if total == 1 { "" } else { "es" };
        return (lines, Outcome::Done(format!("{total} mailbox{s} OK")));
    }
    if failed == total
        && let Some(i) = lines.iter().position(|(level, _)| *level == Level::Error)
    {
        let (_, first) = lines.remove(i);
        let text = if total == 1 {
            first
        } else {
            format!("{failed} of {total} mailboxes failed: {first}")
        };
        return (lines, Outcome::Failed(text));
    }
    (
        lines,
        Outcome::DoneWithErrors(format!(
            "{failed} of {total} mailboxes failed (see Settings), {} OK",
            total - failed
        )),
    )
}

/// The toast for row `id` put back to READY (an UNCERTAIN row requeued, a soft bounce sent
/// again); with approval off, READY alone is sendable.
/// What `u` says when the row it was for is no longer UNCERTAIN.
fn not_uncertain(id: i64) -> String {
    format!("row {id} is no longer UNCERTAIN (it was settled meanwhile): nothing changed")
}

fn back_to_ready(id: i64, require_approval: bool) -> String {
    if require_approval {
        format!("row {id} back to READY, unapproved: approve it (a) to send it again")
    } else {
        format!("row {id} back to READY: the next run sends it (require_approval is off)")
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::jobs::Outcome;
    use crate::engine::send::{MailboxOut, SendOut};

    /// `u` on a row settled meanwhile (a run found its copy, `outbox settle` from another
    /// shell) says nothing changed, whichever way the user decided; on an UNCERTAIN row it
    /// does what it says.
    #[tokio::test]
    async fn deciding_a_row_settled_meanwhile_says_nothing_changed() {
        use super::{Effect, Loaded, spawn_quick};
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open_in(dir.path()).unwrap();
        store
            .conn()
            .execute_batch(
                "INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'Acme', 0);
                 INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
                 VALUES (1, 'Jane', 'Doe', 'Acme', 'acme', 'jane|doe', 0),
                        (2, 'John', 'Roe', 'Acme', 'acme', 'john|roe', 0);
                 INSERT INTO outbox (id, prospect_id, email, company_key, status, created_at, updated_at)
                 VALUES (5, 1, 'jane.doe@acme.test', 'acme', 'SENT', 0, 0),
                        (6, 2, 'john.roe@acme.test', 'acme', 'UNCERTAIN', 0, 0);",
            )
            .unwrap();
        let first = |id: i64, sent: bool| {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            spawn_quick(
                Effect::ResolveUncertain { id, sent },
                dir.path().to_path_buf(),
                crate::config::Config::default(),
                tx,
            );
            async move { rx.recv().await.unwrap() }
        };
        for sent in [true, false] {
            match first(5, sent).await {
                Loaded::Error(e) => assert!(e.contains("no longer UNCERTAIN"), "{e}"),
                _ => panic!("expected an error message (sent: {sent})"),
            }
        }
        let status = |id: i64| -> String {
            store
                .conn()
                .query_row("SELECT status FROM outbox WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .unwrap()
        };
        assert_eq!(status(5), "SENT");
        match first(6, true).await {
            Loaded::Toast(t) => assert_eq!(t, "row 6 marked SENT"),
            _ => panic!("expected a toast"),
        }
        assert_eq!(status(6), "SENT");
    }

    #[test]
    fn a_mailbox_test_outcome_counts_the_failed_mailboxes() {
        use crate::engine::send::MailboxCheck;
        let ok = MailboxCheck {
            name: "main".into(),
            smtp: Ok("127.0.0.1:587 starttls, logged in as me@sender.test".into()),
            imap: None,
        };
        let bad = MailboxCheck {
            name: "second".into(),
            smtp: Err("STARTTLS: internal client error: STARTTLS refused".into()),
            imap: Some(Err("IMAP 127.0.0.1:993: connect: Connection refused".into())),
        };
        assert_eq!(
            super::mailbox_test_outcome(std::slice::from_ref(&ok)).1,
            Outcome::Done("1 mailbox OK".into())
        );
        let (lines, outcome) = super::mailbox_test_outcome(&[ok.clone(), bad.clone()]);
        assert_eq!(
            outcome,
            Outcome::DoneWithErrors("1 of 2 mailboxes failed (see Settings), 1 OK".into())
        );
        assert_eq!(lines.len(), 4, "{lines:?}");
        let (lines, outcome) = super::mailbox_test_outcome(&[bad.clone(), bad]);
        assert_eq!(
            outcome,
            Outcome::Failed(
                "2 of 2 mailboxes failed: second: smtp FAILED: STARTTLS: internal client error: \
                 STARTTLS refused"
                    .into()
            )
        );
        assert_eq!(
            lines.len(),
            3,
            "the first failure is the outcome, not a log line"
        );
    }

    /// Every mailbox failed (here: no password): the test task failed, with the error in the
    /// toast and once in the log.
    #[tokio::test]
    async fn a_mailbox_test_where_every_mailbox_failed_ends_failed() {
        use crate::engine::jobs::JobKind;
        use crate::tui::app::TaskState;
        use crate::tui::inbox_jobs::tests::{logged, run_task};
        let config = crate::config::Config::from_toml(
            "[mailboxes.main]\nfrom = \"me@sender.test\"\nsmtp_host = \"127.0.0.1\"\n\
             password_env = \"HAILER_TEST_UNSET_CHECK_PW\"\n",
            std::path::Path::new("config.toml"),
        )
        .unwrap();
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let app = run_task(JobKind::MailboxTest, move |rep| {
            super::test_mailboxes(config, tx, rep)
        })
        .await;
        let task = &app.activity.tasks[0];
        assert_eq!(task.state, TaskState::Failed, "{:?}", task.summary);
        let toast = app.toast.as_ref().unwrap();
        assert!(
            toast.error && toast.text.contains("HAILER_TEST_UNSET_CHECK_PW"),
            "{toast:?}"
        );
        assert_eq!(
            logged(&app, "HAILER_TEST_UNSET_CHECK_PW"),
            1,
            "{:#?}",
            app.activity.log
        );
    }

    #[test]
    fn a_failed_mailbox_is_named_in_the_summary_and_the_run_done_with_errors() {
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
            super::send_outcome(&out),
            Outcome::DoneWithErrors(
                "3 SENT, 0 ERROR, 0 RETRY, 0 UNCERTAIN, 0 refused · mailbox second failed: \
                 SMTP 127.0.0.1:2525 connect: Connection refused"
                    .into()
            )
        );
        let fine = SendOut {
            mailboxes: vec![out.mailboxes[0].clone()],
            ..out
        };
        assert!(matches!(super::send_outcome(&fine), Outcome::Done(_)));
    }
}
