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
/// sent or in flight is refused before `change` runs. An approved row is unapproved for the
/// time of `change` (it may take minutes in an editor), so a send running meanwhile does not
/// take it half-edited; the approval comes back when nothing changed, and a changed row must
/// be approved again. Text left with a placeholder in it makes the row ERROR, naming it.
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
    // A RETRY row goes out whatever its approval: it is withdrawn for the edit (SKIPPED,
    // its attempts kept: with approval off an unapproved READY row would still be sent),
    // and put back as it was when nothing changed.
    let next_at = outbox::next_attempt_at(store.conn(), id).map_err(failed)?;
    let withdrawn_at = store::now_ts();
    let retry = row.status == Status::Retry
        && outbox::withdraw_retries(store.conn(), &[id], withdrawn_at, outbox::Held::Skipped)
            .map_err(failed)?
            == 1;
    let held = row.approved
        && outbox::set_approved(store.conn(), &[id], false, store::now_ts()).map_err(failed)? == 1;
    let result = change(&row).and_then(|(subject, body)| store_edit(store, &row, &subject, &body));
    if matches!(result, Ok(Outcome::Unchanged) | Err(_)) {
        if retry {
            outbox::restore_retry(store.conn(), &row, next_at, withdrawn_at, store::now_ts())
                .map_err(failed)?;
        } else if held {
            outbox::set_approved(store.conn(), &[id], true, store::now_ts()).map_err(failed)?;
        }
    }
    if retry && let Ok(Outcome::Saved(problem)) = &result {
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
}
