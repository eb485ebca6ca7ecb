//! Changing one row's subject or body by hand: the TUI's `e` (in `$EDITOR`) and `hailer
//! outbox edit` (in `$EDITOR`, or from `--subject` / `--body-file`) both go through
//! [`edit_row`], so the checks and the wording are the same.

use crate::store::outbox::{self, OutboxRow, Status};
use crate::store::{self, Store};

/// Why an edit did not happen; nothing changed either way.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The row (missing, sent or in flight) or the new text (no subject line, an empty
    /// subject, a placeholder where none is allowed) cannot be used.
    #[error("{0}")]
    Refused(String),
    /// The editor or the database failed.
    #[error("{0}")]
    Failed(String),
}

fn failed(e: impl std::fmt::Display) -> EditError {
    EditError::Failed(e.to_string())
}

/// What an edit did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Unchanged,
    /// Stored; with what still keeps the row from going out (a placeholder left in).
    Saved(Option<String>),
    /// The row went out (or started to) before the edit could be stored.
    Locked(Status),
}

impl Outcome {
    /// The line the TUI's status bar and the CLI print: `Ok` when the row can go out (after
    /// approval), `Err` when the edit left it unable to (or was not applied).
    pub fn describe(&self, id: i64) -> Result<String, String> {
        match self {
            Outcome::Unchanged => Ok(format!("row {id} unchanged")),
            Outcome::Saved(None) => Ok(format!("row {id} edited; it needs approval again")),
            Outcome::Saved(Some(problem)) => {
                Err(format!("row {id} edited, but it is ERROR: {problem}"))
            }
            Outcome::Locked(status) => Err(format!(
                "row {id} became {status} while it was being edited; the edit was not applied"
            )),
        }
    }
}

/// Edit row `id`: `change` gets the row as stored and returns its new subject and body. A row
/// sent or in flight is refused before `change` runs. A READY or RETRY row is withdrawn
/// (SKIPPED) for the time of `change` (it may take minutes in an editor), so a send running
/// meanwhile does not take it half-edited, approval required or not; it comes back as it was
/// when nothing changed, and a changed row must be approved again. Text left with a
/// placeholder in it makes the row ERROR, naming it.
pub fn edit_row(
    store: &Store,
    id: i64,
    change: impl FnOnce(&OutboxRow) -> Result<(String, String), EditError>,
) -> Result<Outcome, EditError> {
    let row = outbox::get(store.conn(), id)
        .map_err(failed)?
        .ok_or_else(|| EditError::Refused(format!("no outbox row {id}")))?;
    // A RETRY row never reached anyone: it can still change, withdrawn first (below).
    if row.status.is_locked() && row.status != Status::Retry {
        return Err(EditError::Refused(format!(
            "row {id} is {} and can no longer be edited",
            row.status
        )));
    }
    // Nothing was rendered for it (no message for its company, or a reason found before
    // the message was rendered): an edit would be stored and then ignored, since the row
    // stays ERROR for its reason, and a rebuild renders again.
    if row.subject.is_empty() && row.body.is_empty() {
        let reason = row.reason.as_deref().unwrap_or("no message");
        let todo = if reason.starts_with("no message") {
            format!(
                "import a message for company {:?}, then rebuild the outbox",
                row.company
            )
        } else {
            "its reason keeps it from being sent; fix that, then rebuild the outbox".into()
        };
        return Err(EditError::Refused(format!(
            "row {id} has no message to edit ({reason}): {todo}"
        )));
    }
    // A row the sender could take is withdrawn for the edit (SKIPPED): a RETRY row goes out
    // whatever its approval, and so does a READY one with `require_approval = false`, so
    // unapproving holds neither. It is put back as it was when nothing changed (a RETRY row
    // with its attempts and due time).
    let next_at = outbox::next_attempt_at(store.conn(), id).map_err(failed)?;
    let withdrawn_at = store::now_ts();
    let withdrawn = matches!(row.status, Status::Retry | Status::Ready)
        && outbox::set_skipped(store.conn(), &[id], true, withdrawn_at).map_err(failed)? == 1;
    let held = !withdrawn
        && row.approved
        && outbox::set_approved(store.conn(), &[id], false, store::now_ts()).map_err(failed)? == 1;
    let result = change(&row).and_then(|(subject, body)| store_edit(store, &row, &subject, &body));
    if matches!(result, Ok(Outcome::Unchanged) | Err(_)) {
        if withdrawn {
            outbox::restore_withdrawn(store.conn(), &row, next_at, withdrawn_at, store::now_ts())
                .map_err(failed)?;
        } else if held {
            outbox::set_approved(store.conn(), &[id], true, store::now_ts()).map_err(failed)?;
        }
    }
    if withdrawn && let Ok(Outcome::Saved(problem)) = &result {
        // Edited: back where an edit leaves a row, READY and unapproved, or ERROR when the
        // new text has a problem.
        outbox::return_edited(store.conn(), id, problem.as_deref(), store::now_ts())
            .map_err(failed)?;
    }
    result
}

fn store_edit(
    store: &Store,
    row: &OutboxRow,
    subject: &str,
    body: &str,
) -> Result<Outcome, EditError> {
    let subject = subject.trim();
    let body = body.trim_end();
    if subject.is_empty() {
        return Err(EditError::Refused(format!(
            "row {}: the subject cannot be empty; row unchanged",
            row.id
        )));
    }
    if subject.contains(['\r', '\n']) {
        return Err(EditError::Refused(format!(
            "row {}: the subject must be one line; row unchanged",
            row.id
        )));
    }
    if subject == row.subject && body == row.body.trim_end() {
        return Ok(Outcome::Unchanged);
    }
    let problem = super::template::edited_text_problem(subject, body);
    let now = store::now_ts();
    if outbox::edit(store.conn(), row.id, subject, body, problem.as_deref(), now).map_err(failed)? {
        return Ok(Outcome::Saved(problem));
    }
    let status = outbox::get(store.conn(), row.id)
        .map_err(failed)?
        .map_or(Status::Sent, |r| r.status);
    Ok(Outcome::Locked(status))
}

/// The text an editor gets for a row: a `Subject:` line, a blank line, then the body, ending
/// with a line break as a text file does (a line a script appends would otherwise join the
/// last one; the body is saved without trailing blank space).
pub fn draft(row: &OutboxRow) -> String {
    let end = if row.body.ends_with('\n') { "" } else { "\n" };
    format!("Subject: {}\n\n{}{end}", row.subject, row.body)
}

/// Subject and body back from an edited [`draft`].
pub fn parse_draft(text: &str) -> Result<(String, String), EditError> {
    if text.trim().is_empty() {
        return Err(EditError::Refused(
            "the draft was emptied: edit cancelled, row unchanged".into(),
        ));
    }
    let (first, body) = text.split_once('\n').unwrap_or((text, ""));
    let subject = first
        .strip_prefix("Subject:")
        .ok_or_else(|| {
            EditError::Refused("the first line must stay \"Subject: …\"; row unchanged".into())
        })?
        .trim();
    let body = body.strip_prefix('\n').unwrap_or(body);
    Ok((subject.to_string(), body.to_string()))
}

/// Edit row `id` in `$EDITOR` (the terminal must be free: the TUI releases it first).
pub fn edit_in_editor(store: &Store, id: i64) -> Result<Outcome, EditError> {
    edit_row(store, id, |row| {
        let text = crate::editor::edit_text(&format!("hailer-row-{id}"), &draft(row))
            .map_err(|e| EditError::Failed(format!("{e}; row {id} unchanged")))?;
        parse_draft(&text)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_reads_back_as_it_was_written() {
        let text = "Subject: Hello {firstname}\n\nLine one\n\nLine two\n";
        let (subject, body) = parse_draft(text).unwrap();
        assert_eq!(subject, "Hello {firstname}");
        assert_eq!(body, "Line one\n\nLine two\n");
    }

    #[test]
    fn a_draft_without_its_subject_line_is_refused() {
        let err = parse_draft("Hello\n\nbody").unwrap_err();
        assert!(err.to_string().contains("Subject:"), "{err}");
        // An emptied draft is the usual way out of an editor: said as a cancel.
        let err = parse_draft("\n \n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the draft was emptied: edit cancelled, row unchanged"
        );
    }

    /// With `require_approval = false` the sender takes READY rows approved or not: a READY
    /// row is withdrawn for the time of an edit, then back as it was (approval included) when
    /// nothing changed, or READY and unapproved when it did.
    #[test]
    fn a_ready_row_is_withdrawn_while_it_is_edited() {
        use crate::store::sending::eligible_ids;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        store
            .conn()
            .execute_batch(
                "INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'Acme', 0);
                 INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
                 VALUES (1, 'Jane', 'Doe', 'Acme', 'acme', 'jane|doe', 0);
                 INSERT INTO outbox (id, prospect_id, email, company_key, subject, body, status, approved, created_at, updated_at)
                 VALUES (5, 1, 'jane.doe@acme.test', 'acme', 'Hello', 'Hi Jane', 'READY', 1, 0, 0);",
            )
            .unwrap();
        let taken = |store: &Store| eligible_ids(store.conn(), false, i64::MAX).unwrap();
        assert_eq!(taken(&store), [5]);
        // An edit that changes nothing: not takeable meanwhile, then READY and approved again.
        let out = edit_row(&store, 5, |row| {
            assert!(taken(&store).is_empty(), "taken while being edited");
            Ok((row.subject.clone(), row.body.clone()))
        })
        .unwrap();
        assert_eq!(out, Outcome::Unchanged);
        let row = outbox::get(store.conn(), 5).unwrap().unwrap();
        assert_eq!((row.status, row.approved), (Status::Ready, true));
        assert_eq!(taken(&store), [5]);
        // A cancelled edit gives it back too.
        let err = edit_row(&store, 5, |_| {
            assert!(taken(&store).is_empty(), "taken while being edited");
            Err(EditError::Refused("cancelled".into()))
        });
        assert!(err.is_err());
        assert_eq!(taken(&store), [5]);
        // A changed row is READY and needs approval again.
        let out = edit_row(&store, 5, |_| {
            assert!(taken(&store).is_empty(), "taken while being edited");
            Ok(("Hello again".into(), "Hi Jane".into()))
        })
        .unwrap();
        assert_eq!(out, Outcome::Saved(None));
        let row = outbox::get(store.conn(), 5).unwrap().unwrap();
        assert_eq!(
            (row.status, row.approved, row.subject.as_str()),
            (Status::Ready, false, "Hello again")
        );
        assert_eq!(
            eligible_ids(store.conn(), true, i64::MAX).unwrap(),
            Vec::<i64>::new()
        );
    }
}
