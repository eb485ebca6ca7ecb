//! `hailer outbox build|show|edit|approve|unapprove|skip|unskip|settle|resend`: the outbox
//! review, headless.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{Context, exit};
use crate::engine::outbox::{build, compose};
use crate::store::{self, outbox};

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// (Re)build the outbox: one READY or ERROR row per prospect; sent rows are never touched
    Build {
        /// Print the summary as JSON (READY, ERROR, skipped and untouched rows; ERROR reasons)
        #[arg(long)]
        json: bool,
    },
    /// Show a row exactly as it will be sent (headers and text part)
    Show {
        id: i64,
        /// Print JSON: the row as stored (status, reason, approval, address, mailbox, …)
        /// and `preview`, the message as `show` prints it
        #[arg(long)]
        json: bool,
    },
    /// Change a row's subject or body (`e` on the Outbox tab): in $EDITOR, or with --subject
    /// and/or --body-file; an edited row must be approved again
    ///
    /// In $EDITOR the draft is a "Subject:" line, a blank line, then the body; a placeholder
    /// left in makes the row ERROR (edit it again). With --subject or --body-file, text with
    /// a placeholder is refused and nothing changes (exit 4).
    Edit {
        id: i64,
        /// The new subject (one line)
        #[arg(long)]
        subject: Option<String>,
        /// The new body, read from FILE (UTF-8; `-` for standard input)
        #[arg(long, value_name = "FILE")]
        body_file: Option<PathBuf>,
    },
    /// Approve READY rows for sending
    Approve(Targets),
    /// Withdraw approval; a RETRY row given by id goes back to READY, unapproved, its
    /// attempts kept (it would go out at its retry whatever its approval)
    Unapprove(Targets),
    /// Skip READY, ERROR or RETRY rows (they are not sent, rebuilds keep them skipped, and
    /// their approval is withdrawn; a RETRY row un-skipped is READY with its attempts)
    Skip(Targets),
    /// Put skipped rows back: READY, or ERROR when a reason still blocks them
    Unskip(Targets),
    /// Decide UNCERTAIN rows (`u` on the Outbox tab): --sent marks them SENT; --requeue puts
    /// them back READY, unapproved, to be approved and sent again
    ///
    /// A row is UNCERTAIN when a run stopped, or the connection broke, during its SMTP
    /// transaction and no copy was found in the mailbox's Sent folder. That proves nothing:
    /// the copy is made after the server accepts, so a run killed in between leaves none.
    /// Ask the recipient, or read the SMTP server's log for the row's Message-ID, before you
    /// requeue it, or it may arrive twice.
    #[command(group = clap::ArgGroup::new("decision").required(true).multiple(false))]
    Settle {
        #[command(flatten)]
        ids: Ids,
        /// Print {"rows", "changed", "status"} instead of a line
        #[arg(long)]
        json: bool,
        /// The message went out: mark the rows SENT
        #[arg(long, group = "decision")]
        sent: bool,
        /// The message did not go out: READY again, unapproved, with its retries counted
        /// afresh
        #[arg(long, group = "decision")]
        requeue: bool,
    },
    /// Send soft-bounced rows again (`u` on the Outbox tab): READY, unapproved, to be approved
    /// and sent again
    ///
    /// A soft bounce may clear: a full mailbox is emptied, a server comes back. A hard bounce
    /// does not, and an address on the suppression list (a hard bounce, a reply, an
    /// unsubscribe, or soft bounces repeated until they suppressed it) is never mailed: such
    /// rows are refused, each named (exit 4). A row sent again that soft-bounced the same
    /// way once more (the same reason: a domain whose host refuses relay, a server down until
    /// the queue gave up) did not clear and is refused too, unless --force. With --all,
    /// every soft-bounced row that may be sent again; the others are counted.
    Resend {
        #[command(flatten)]
        targets: Targets,
        /// Send again even a row that already soft-bounced the same way after a resend
        #[arg(long)]
        force: bool,
    },
}

/// The rows a command acts on, and how it reports.
#[derive(Debug, Args)]
pub struct Targets {
    #[command(flatten)]
    pub ids: Ids,
    /// Print {"rows", "changed", …} instead of a line: `rows` the ids acted on, `changed`
    /// how many of them changed
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Ids {
    /// Outbox row ids
    pub ids: Vec<i64>,
    /// Every READY row (approve/unapprove) or every row of the command's source status
    #[arg(long)]
    pub all: bool,
}

impl OutboxCommand {
    pub fn execute(self, ctx: &Context) -> u8 {
        let Some(mut store) = ctx.store_or_report() else {
            return exit::FAILURE;
        };
        if let OutboxCommand::Edit {
            id,
            subject,
            body_file,
        } = &self
        {
            return edit(&store, *id, subject.as_deref(), body_file.as_deref());
        }
        let now = store::now_ts();
        let ids_for = |ids: &Ids, status: outbox::Status| -> Result<Vec<i64>, String> {
            if ids.all {
                outbox::list(store.conn(), Some(status))
                    .map(|rows| rows.into_iter().map(|r| r.id).collect())
                    .map_err(|e| e.to_string())
            } else if ids.ids.is_empty() {
                Err("give row ids or --all".into())
            } else {
                Ok(ids.ids.clone())
            }
        };
        // Ids given by hand must all exist and be in a status the command applies to; if one
        // is not, each is named and nothing changes (a script learns it from the exit code).
        if let Some((ids, allowed)) = self.explicit_ids() {
            match unusable_ids(&store, ids, allowed) {
                Ok(problems) if problems.is_empty() => {
                    // A BOUNCED row given by hand must also be sendable again.
                    if let OutboxCommand::Resend { force, .. } = &self {
                        match resend_problems(&store, ids, *force) {
                            Ok(problems) if problems.is_empty() => {}
                            Ok(problems) => return super::refuse(&problems),
                            Err(e) => {
                                errln!("{e}");
                                return exit::FAILURE;
                            }
                        }
                    }
                }
                Ok(problems) => return super::refuse(&problems),
                Err(e) => {
                    errln!("{e}");
                    return exit::FAILURE;
                }
            }
        }
        let result: Result<String, String> = match &self {
            OutboxCommand::Edit { .. } => unreachable!("handled above"),
            OutboxCommand::Build { json } => build::build(&mut store)
                .map(|s| {
                    if *json {
                        serde_json::to_string_pretty(&s).unwrap_or_default() + "\n"
                    } else {
                        s.to_string()
                    }
                })
                .map_err(|e| e.to_string()),
            OutboxCommand::Show { id, json } => match outbox::get(store.conn(), *id) {
                Ok(Some(row)) => match compose::try_preview(&row, &ctx.config.config) {
                    // A message the configuration cannot build (a tracking secret not set):
                    // said on stderr, exit 3, as `send` would.
                    Err(e) => {
                        errln!("row {id}: {e}");
                        return exit::CONFIG;
                    }
                    Ok(preview) if *json => serde_json::to_string_pretty(
                        &serde_json::json!({ "row": row, "preview": preview }),
                    )
                    .map(|j| j + "\n")
                    .map_err(|e| e.to_string()),
                    Ok(preview) => Ok(format!(
                        "# row {} · {}{}{}\n{preview}",
                        row.id,
                        row.status,
                        if row.approved { " · approved" } else { "" },
                        row.reason
                            .as_deref()
                            .map(|r| format!(" · {r}"))
                            .unwrap_or_default()
                    )),
                },
                Ok(None) => {
                    errln!("no outbox row {id}");
                    return exit::INPUT;
                }
                Err(e) => Err(e.to_string()),
            },
            OutboxCommand::Approve(t) | OutboxCommand::Unapprove(t) => {
                let approve = matches!(self, OutboxCommand::Approve(_));
                ids_for(&t.ids, outbox::Status::Ready).and_then(|ids| {
                    let verb = if approve { "approved" } else { "unapproved" };
                    // "0 rows approved" alone read as a failure for a row approved before.
                    let given = ids.iter().collect::<std::collections::HashSet<_>>().len();
                    // Unapproving a RETRY row withdraws it (READY, its attempts kept): a
                    // RETRY row goes out whatever its approval. `--all` takes READY rows.
                    let require_approval = ctx.config.config.sending.require_approval;
                    let held = outbox::Held::for_approval(require_approval);
                    let changed = if approve {
                        outbox::set_approved(store.conn(), &ids, true, now).map(|n| (n, 0))
                    } else {
                        outbox::unapprove(store.conn(), &ids, now, held)
                    };
                    changed
                        .map(|(n, withdrawn)| {
                            let text = match given - n {
                                0 => format!("{} {verb}\n", outbox::rows(n)),
                                already => format!(
                                    "{} {verb} ({} already {verb})\n",
                                    outbox::rows(n),
                                    outbox::rows(already)
                                ),
                            };
                            let text = match (withdrawn, held) {
                                (0, _) => text,
                                (w, outbox::Held::Unapproved) => format!(
                                    "{text}{} back to READY from RETRY, attempts kept: \
                                     approve to send again\n",
                                    outbox::rows(w)
                                ),
                                // Approval off: an unapproved READY row would still go out.
                                (w, outbox::Held::Skipped) => format!(
                                    "{text}{} withdrawn from RETRY as SKIPPED, attempts kept \
                                     ([sending] require_approval = false holds nothing \
                                     unapproved): unskip to send again\n",
                                    outbox::rows(w)
                                ),
                            };
                            let mut json = serde_json::json!({
                                "rows": ids, "changed": n, "approved": approve
                            });
                            if withdrawn > 0 {
                                json["withdrawn_retries"] = withdrawn.into();
                            }
                            report(t.json, text, json)
                        })
                        .map_err(|e| e.to_string())
                })
            }
            OutboxCommand::Skip(t) => ids_for(&t.ids, outbox::Status::Ready).and_then(|ids| {
                outbox::set_skipped(store.conn(), &ids, true, now)
                    .map(|n| {
                        let json = serde_json::json!({ "rows": ids, "changed": n });
                        report(t.json, format!("{} skipped\n", outbox::rows(n)), json)
                    })
                    .map_err(|e| e.to_string())
            }),
            OutboxCommand::Settle {
                ids, sent, json, ..
            } => ids_for(ids, outbox::Status::Uncertain).and_then(|ids| {
                let approval = ctx.config.config.sending.require_approval;
                settle(&mut store, &ids, *sent, approval, now)
                    .map(|text| {
                        let status = if *sent { "SENT" } else { "READY" };
                        let value = serde_json::json!({
                            "rows": ids, "changed": ids.len(), "status": status
                        });
                        report(*json, text, value)
                    })
                    .map_err(|e| e.to_string())
            }),
            OutboxCommand::Resend { targets: t, force } => ids_for(&t.ids, outbox::Status::Bounced)
                .and_then(|ids| {
                    let approval = ctx.config.config.sending.require_approval;
                    resend(&mut store, &ids, t.json, approval, *force, now)
                        .map_err(|e| e.to_string())
                }),
            OutboxCommand::Unskip(t) => ids_for(&t.ids, outbox::Status::Skipped).and_then(|ids| {
                outbox::unskip(store.conn(), &ids, now)
                    .map(|(ready, error)| {
                        let json = serde_json::json!({
                            "rows": ids, "changed": ready + error, "ready": ready, "error": error
                        });
                        let text = outbox::unskip_summary((ready, error)) + "\n";
                        report(t.json, text, json)
                    })
                    .map_err(|e| e.to_string())
            }),
        };
        match result {
            Ok(text) => {
                out!("{text}");
                exit::OK
            }
            Err(e) => {
                errln!("{e}");
                exit::FAILURE
            }
        }
    }

    /// The ids typed on the command line, with the statuses the command acts on.
    fn explicit_ids(&self) -> Option<(&[i64], &'static [outbox::Status])> {
        use outbox::Status::{Bounced, Error, Ready, Retry, Skipped, Uncertain};
        let (ids, allowed): (&Ids, &'static [outbox::Status]) = match self {
            OutboxCommand::Approve(t) => (&t.ids, &[Ready]),
            OutboxCommand::Unapprove(t) => (&t.ids, &[Ready, Retry]),
            OutboxCommand::Skip(t) => (&t.ids, &[Ready, Error, Retry]),
            OutboxCommand::Unskip(t) => (&t.ids, &[Skipped]),
            OutboxCommand::Settle { ids, .. } => (ids, &[Uncertain]),
            OutboxCommand::Resend { targets: t, .. } => (&t.ids, &[Bounced]),
            OutboxCommand::Build { .. }
            | OutboxCommand::Show { .. }
            | OutboxCommand::Edit { .. } => return None,
        };
        (!ids.all && !ids.ids.is_empty()).then_some((ids.ids.as_slice(), allowed))
    }
}

/// What a command that changes rows prints: its line, or with --json one JSON object.
fn report(json: bool, text: String, value: serde_json::Value) -> String {
    if json { format!("{value}\n") } else { text }
}

/// `outbox edit`: from the flags when one is given (a script), else in $EDITOR.
fn edit(
    store: &store::Store,
    id: i64,
    subject: Option<&str>,
    body_file: Option<&std::path::Path>,
) -> u8 {
    use crate::engine::outbox::edit::{self, EditError, Outcome};
    let result = if subject.is_none() && body_file.is_none() {
        if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
            errln!("no terminal for $EDITOR: give --subject and/or --body-file");
            return exit::USAGE;
        }
        edit::edit_in_editor(store, id)
    } else {
        let body = match body_file.map(read_body).transpose() {
            Ok(body) => body,
            Err(e) => {
                errln!("{e}");
                return exit::INPUT;
            }
        };
        edit::edit_row(store, id, |row| {
            let subject = subject.unwrap_or(&row.subject).to_string();
            let body = body.unwrap_or_else(|| row.body.clone());
            // The text is in the caller's file or command line, so nothing is lost by
            // refusing it: a script learns of a placeholder from the exit code.
            match crate::engine::outbox::template::edited_text_problem(&subject, &body) {
                Some(problem) => Err(EditError::Refused(format!(
                    "row {id}: {problem}; row unchanged"
                ))),
                None => Ok((subject, body)),
            }
        })
    };
    match result {
        Ok(outcome) => match outcome.describe(id) {
            Ok(line) => {
                out!("{line}\n");
                exit::OK
            }
            // Stored, as in the TUI, so the typing is not lost; the row shows its reason.
            Err(line) if matches!(outcome, Outcome::Saved(_)) => {
                errln!("{line}");
                exit::OK
            }
            Err(line) => {
                errln!("{line}");
                exit::INPUT
            }
        },
        Err(EditError::Refused(e)) => {
            errln!("{e}");
            exit::INPUT
        }
        Err(EditError::Failed(e)) => {
            errln!("{e}");
            exit::FAILURE
        }
    }
}

/// A body from `path` (`-`: standard input), named in the error; Windows line ends become
/// `\n`, as a draft from $EDITOR has them.
fn read_body(path: &std::path::Path) -> Result<String, String> {
    let (name, bytes) = if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
            .map(|_| ("standard input".to_string(), buf))
    } else {
        std::fs::read(path).map(|b| (path.display().to_string(), b))
    }
    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    String::from_utf8(bytes)
        .map(|text| text.replace("\r\n", "\n"))
        .map_err(|e| {
            format!(
                "{name} is not UTF-8 (byte {} of the body); save it as UTF-8",
                e.utf8_error().valid_up_to() + 1
            )
        })
}

/// What `u` on the Outbox tab does, for every row in one transaction.
fn settle(
    store: &mut store::Store,
    ids: &[i64],
    sent: bool,
    require_approval: bool,
    now: i64,
) -> Result<String, store::StoreError> {
    use crate::store::sending;
    let tx = store.write_tx()?;
    for &id in ids {
        if sent {
            sending::resolve_sent(
                &tx,
                id,
                "marked as sent by hand (hailer outbox settle)",
                now,
            )?;
        } else {
            sending::requeue_uncertain(&tx, id, now)?;
        }
    }
    tx.commit()?;
    let n = outbox::rows(ids.len());
    Ok(if sent {
        format!("{n} marked SENT\n")
    } else {
        back_to_ready(&n, require_approval)
    })
}

/// What `settle --requeue` and `resend` say of the `rows` they put back to READY.
fn back_to_ready(rows: &str, require_approval: bool) -> String {
    if require_approval {
        format!("{rows} back to READY, unapproved: approve them to send them again\n")
    } else {
        format!("{rows} back to READY: the next run sends them (require_approval is off)\n")
    }
}

/// `outbox resend`: the soft-bounced rows among `ids` back to READY, in one transaction; the
/// others (a hard bounce, a suppressed address: only with --all, since ids given by hand were
/// checked first) are counted.
fn resend(
    store: &mut store::Store,
    ids: &[i64],
    json: bool,
    require_approval: bool,
    force: bool,
    now: i64,
) -> Result<String, store::StoreError> {
    use crate::store::sending;
    let tx = store.write_tx()?;
    let (mut requeued, mut left) = (Vec::new(), 0);
    for &id in ids {
        match sending::resend(&tx, id, now, force)? {
            None => requeued.push(id),
            Some(_) => left += 1,
        }
    }
    tx.commit()?;
    let n = outbox::rows(requeued.len());
    let mut text = if requeued.is_empty() {
        "no soft-bounced row to send again\n".to_string()
    } else {
        back_to_ready(&n, require_approval)
    };
    if left > 0 {
        text.push_str(&format!(
            "{} left BOUNCED: a hard bounce, a suppressed address, or a soft bounce that came \
             back the same way after a resend (`outbox resend ID` says which; --force sends \
             the last kind again)\n",
            outbox::rows(left)
        ));
    }
    let value = serde_json::json!({
        "rows": requeued, "changed": requeued.len(), "left": left, "status": "READY"
    });
    Ok(report(json, text, value))
}

/// Why rows given to `outbox resend` by hand cannot be sent again: a hard bounce, a
/// suppressed address.
fn resend_problems(
    store: &store::Store,
    ids: &[i64],
    force: bool,
) -> Result<Vec<String>, store::StoreError> {
    let mut problems = Vec::new();
    for &id in ids {
        if let Some(row) = outbox::get(store.conn(), id)?
            && let Some(p) = crate::store::sending::resend_problem(store.conn(), &row, force)?
        {
            problems.push(refusal_text(&p));
        }
    }
    Ok(problems)
}

/// A resend refusal as the CLI says it: one that `--force` lifts names the option.
fn refusal_text(refusal: &crate::store::sending::ResendRefusal) -> String {
    if refusal.forcible() {
        format!(
            "{refusal}; `outbox resend --force {}` to try once more",
            refusal.id()
        )
    } else {
        refusal.to_string()
    }
}

/// "no outbox row 999", "row 5 is ERROR (suppressed: …); this applies to READY rows".
fn unusable_ids(
    store: &store::Store,
    ids: &[i64],
    allowed: &[outbox::Status],
) -> Result<Vec<String>, store::StoreError> {
    let mut problems = Vec::new();
    for &id in ids {
        match outbox::get(store.conn(), id)? {
            None => problems.push(format!("no outbox row {id}")),
            Some(row) if !allowed.contains(&row.status) => {
                let wanted: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
                problems.push(format!(
                    "row {id} is {}{}; this applies to {} rows",
                    row.status,
                    row.reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default(),
                    wanted.join(" or ")
                ));
            }
            Some(_) => {}
        }
    }
    Ok(problems)
}
