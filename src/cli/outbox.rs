//! `hailer outbox build|show|approve|unapprove|skip|unskip`: the outbox review, headless.

use clap::{Args, Subcommand};

use super::{Context, exit};
use crate::engine::outbox::{build, compose};
use crate::store::{self, outbox};

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// (Re)build the outbox: one READY or ERROR row per prospect; sent rows are never touched
    Build {
        #[arg(long)]
        json: bool,
    },
    /// Show a row exactly as it will be sent (headers and text part)
    Show { id: i64 },
    /// Approve READY rows for sending
    Approve(Ids),
    /// Withdraw approval
    Unapprove(Ids),
    /// Skip rows (they are not sent, and rebuilds keep them skipped)
    Skip(Ids),
    /// Put skipped rows back to READY
    Unskip(Ids),
}

#[derive(Debug, Args)]
pub struct Ids {
    /// Outbox row ids
    pub ids: Vec<i64>,
    /// Every READY row (approve/unapprove) or every row of the command's source status
    #[arg(long, conflicts_with = "ids")]
    pub all: bool,
}

impl OutboxCommand {
    pub fn execute(self, ctx: &Context) -> u8 {
        let mut store = match ctx.open_store() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("hailer: {e:#}");
                return exit::FAILURE;
            }
        };
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
        let result: Result<String, String> = match &self {
            OutboxCommand::Build { json } => build::build(&mut store)
                .map(|s| {
                    if *json {
                        serde_json::to_string_pretty(&s).unwrap_or_default() + "\n"
                    } else {
                        s.to_string()
                    }
                })
                .map_err(|e| e.to_string()),
            OutboxCommand::Show { id } => match outbox::get(store.conn(), *id) {
                Ok(Some(row)) => {
                    let mut text = format!(
                        "# row {} · {}{}{}\n",
                        row.id,
                        row.status,
                        if row.approved { " · approved" } else { "" },
                        row.reason
                            .as_deref()
                            .map(|r| format!(" · {r}"))
                            .unwrap_or_default()
                    );
                    text.push_str(&compose::preview(&row, &ctx.config.config));
                    Ok(text)
                }
                Ok(None) => {
                    eprintln!("hailer: no outbox row {id}");
                    return exit::INPUT;
                }
                Err(e) => Err(e.to_string()),
            },
            OutboxCommand::Approve(ids) | OutboxCommand::Unapprove(ids) => {
                let approve = matches!(self, OutboxCommand::Approve(_));
                ids_for(ids, outbox::Status::Ready).and_then(|ids| {
                    outbox::set_approved(store.conn(), &ids, approve, now)
                        .map(|n| {
                            format!(
                                "{n} rows {}\n",
                                if approve { "approved" } else { "unapproved" }
                            )
                        })
                        .map_err(|e| e.to_string())
                })
            }
            OutboxCommand::Skip(ids) => ids_for(ids, outbox::Status::Ready).and_then(|ids| {
                outbox::set_skipped(store.conn(), &ids, true, now)
                    .map(|n| format!("{n} rows skipped\n"))
                    .map_err(|e| e.to_string())
            }),
            OutboxCommand::Unskip(ids) => ids_for(ids, outbox::Status::Skipped).and_then(|ids| {
                outbox::set_skipped(store.conn(), &ids, false, now)
                    .map(|n| format!("{n} rows back to READY\n"))
                    .map_err(|e| e.to_string())
            }),
        };
        match result {
            Ok(text) => {
                out!("{text}");
                exit::OK
            }
            Err(e) => {
                eprintln!("hailer: {e}");
                exit::FAILURE
            }
        }
    }
}
