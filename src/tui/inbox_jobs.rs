//! The IO behind the Bounces tab's `s`: one pass over the mailboxes' watched folders, as a
//! task whose outcome says how many mailboxes failed.

use std::collections::HashSet;
use std::path::Path;

use crate::config::Config;
use crate::engine::inbox::{Observer, SyncSummary};
use crate::engine::jobs::{Level, Outcome, Reporter};

/// `s` on Bounces: read every watched folder once. The engine logs a failed mailbox as it
/// goes; here each failure is logged once, with the outcome: every mailbox failed ends the
/// task failed with the first error, some failed ends it "done with errors".
pub(super) fn sync_job(config: &Config, db: &Path, rep: &Reporter) -> Outcome {
    let summary = match crate::engine::inbox::sync_once(config, db, &WithoutErrors(rep)) {
        Ok(s) => s,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    // (Stopped before the first folder was opened, at the login say, is not "nothing to read".)
    if summary.folders.is_empty() && summary.errors.is_empty() && !rep.is_cancelled() {
        return Outcome::Failed("no mailbox has imap_host: nothing to read".into());
    }
    let mailboxes: Vec<&str> = config
        .mailboxes
        .iter()
        .filter(|(_, mb)| mb.imap_host.is_some())
        .map(|(name, _)| name.as_str())
        .collect();
    let (to_log, outcome) = sync_outcome(&summary, &mailboxes);
    for e in to_log {
        rep.log(Level::Error, e);
    }
    outcome
}

/// Passes the engine's progress and warnings on, but not its error lines: each of those is
/// also in the summary's `errors`, which the task reports itself.
struct WithoutErrors<'a>(&'a Reporter);

impl Observer for WithoutErrors<'_> {
    fn log(&self, level: Level, text: &str) {
        if level != Level::Error {
            Observer::log(self.0, level, text);
        }
    }
    fn progress(&self, done: u64, total: Option<u64>, note: &str) {
        Observer::progress(self.0, done, total, note);
    }
    fn cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

/// The error lines to log and the task's outcome, from a pass over `mailboxes` (those with
/// `imap_host`). Nothing read and errors: failed with the first error (not logged again).
fn sync_outcome(summary: &SyncSummary, mailboxes: &[&str]) -> (Vec<String>, Outcome) {
    let errors = &summary.errors;
    if errors.is_empty() {
        return (Vec::new(), Outcome::Done(summary.line()));
    }
    let read: HashSet<&str> = summary.folders.iter().map(|f| f.mailbox.as_str()).collect();
    let failed = mailboxes.iter().filter(|m| !read.contains(*m)).count();
    if summary.folders.is_empty() {
        let first = errors[0].clone();
        let text = if mailboxes.len() > 1 {
            format!("{failed} of {} mailboxes failed: {first}", mailboxes.len())
        } else {
            first
        };
        return (errors[1..].to_vec(), Outcome::Failed(text));
    }
    let what = match failed {
        0 => format!(
            "{} folder{} could not be read",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        ),
        n => format!("{n} of {} mailboxes failed", mailboxes.len()),
    };
    (
        errors.clone(),
        Outcome::DoneWithErrors(format!("{what} (see the log); {}", summary.line())),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::engine::jobs::{JobKind, JobMsg, Supervisor};
    use crate::tui::app::{App, Settings, TaskState};

    /// Runs `work` as a task and feeds every message it sends to a fresh App.
    pub(crate) async fn run_task(
        kind: JobKind,
        work: impl FnOnce(&Reporter) -> Outcome + Send + 'static,
    ) -> App {
        let (mut supervisor, mut rx) = Supervisor::new(tokio_util::sync::CancellationToken::new());
        supervisor.spawn_blocking(kind, "task", false, work);
        let mut app = App::new(Settings::default(), PathBuf::from("/"), false);
        while let Some(msg) = rx.recv().await {
            let done = matches!(msg, JobMsg::Finished { .. });
            app.on_job(msg);
            if done {
                break;
            }
        }
        app
    }

    /// How many Activity log entries mention `needle`.
    pub(crate) fn logged(app: &App, needle: &str) -> usize {
        app.activity
            .log
            .iter()
            .filter(|l| l.text.contains(needle))
            .count()
    }

    fn folder(mailbox: &str) -> crate::engine::inbox::FolderSummary {
        crate::engine::inbox::FolderSummary {
            mailbox: mailbox.into(),
            folder: "INBOX".into(),
            read: 3,
            ..Default::default()
        }
    }

    #[test]
    fn a_sync_outcome_says_how_many_mailboxes_failed() {
        let refused = "second: IMAP 127.0.0.1:993 connect: Connection refused".to_string();
        let ok = SyncSummary {
            folders: vec![folder("main")],
            ..Default::default()
        };
        assert_eq!(
            sync_outcome(&ok, &["main"]),
            (vec![], Outcome::Done(ok.line()))
        );
        let partial = SyncSummary {
            errors: vec![refused.clone()],
            ..ok.clone()
        };
        let (log, outcome) = sync_outcome(&partial, &["main", "second"]);
        assert_eq!(log, std::slice::from_ref(&refused));
        let Outcome::DoneWithErrors(text) = outcome else {
            panic!("{outcome:?}")
        };
        assert!(
            text.starts_with("1 of 2 mailboxes failed (see the log); 3 read"),
            "{text}"
        );
        let none = SyncSummary {
            errors: vec![refused.clone(), "main: IMAP login failed".into()],
            ..Default::default()
        };
        assert_eq!(
            sync_outcome(&none, &["main", "second"]),
            (
                vec!["main: IMAP login failed".to_string()],
                Outcome::Failed(format!("2 of 2 mailboxes failed: {refused}"))
            )
        );
        let folder_typo = SyncSummary {
            errors: vec!["main: cannot open folder \"Bounce\": no such folder".into()],
            ..ok.clone()
        };
        let outcome = sync_outcome(&folder_typo, &["main"]).1;
        assert!(
            matches!(&outcome, Outcome::DoneWithErrors(t) if t.starts_with("1 folder could not be read")),
            "{outcome:?}"
        );
    }

    /// IMAP refused or, here, a password that cannot be read: nothing was read, so the
    /// task failed, the toast says why, and the error is in the log once.
    #[tokio::test]
    async fn a_sync_where_every_mailbox_failed_ends_failed_with_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::from_toml(
            "[mailboxes.main]\nfrom = \"me@sender.test\"\nsmtp_host = \"127.0.0.1\"\n\
             imap_host = \"127.0.0.1\"\npassword_env = \"HAILER_TEST_UNSET_SYNC_PW\"\n",
            Path::new("config.toml"),
        )
        .unwrap();
        let db = dir.path().join("hailer.db");
        crate::store::Store::open(&db).unwrap();
        let app = run_task(JobKind::Watch, move |rep| sync_job(&config, &db, rep)).await;
        let task = &app.activity.tasks[0];
        assert_eq!(task.state, TaskState::Failed, "{:?}", task.summary);
        let toast = app.toast.as_ref().unwrap();
        assert!(toast.error, "{toast:?}");
        assert!(
            toast.text.contains("HAILER_TEST_UNSET_SYNC_PW"),
            "{toast:?}"
        );
        assert!(!toast.text.contains("0 read"), "{toast:?}");
        assert_eq!(
            logged(&app, "HAILER_TEST_UNSET_SYNC_PW"),
            1,
            "{:#?}",
            app.activity.log
        );
    }
}
