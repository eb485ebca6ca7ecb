//! `hailer suppress add|remove|list [ADDRESS|@DOMAIN …]`: the never-mail list.

use clap::Subcommand;

use super::{Context, exit};
use crate::engine::import::normalize::suppression_entry;
use crate::store::{self, suppressions};

#[derive(Debug, Subcommand)]
pub enum SuppressCommand {
    /// Add addresses or whole domains (@domain, which covers its subdomains too)
    Add {
        #[arg(required = true)]
        entries: Vec<String>,
        /// Why (kept with each entry)
        #[arg(long, default_value = "manual")]
        cause: String,
        /// A note kept with each entry
        #[arg(long)]
        note: Option<String>,
    },
    /// Remove entries
    Remove {
        #[arg(required = true)]
        entries: Vec<String>,
    },
    /// List every entry as CSV (entry,cause,note,created_at), or JSON with --json
    List {
        /// Print a JSON array of {entry, cause, note, created_at} (a Unix time) instead of CSV
        #[arg(long)]
        json: bool,
    },
}

impl SuppressCommand {
    pub fn execute(self, ctx: &Context) -> u8 {
        let store = match ctx.open_store() {
            Ok(s) => s,
            Err(e) => {
                errln!("{e:#}");
                return exit::FAILURE;
            }
        };
        let conn = store.conn();
        match self {
            SuppressCommand::Add {
                entries,
                cause,
                note,
            } => {
                let mut parsed = Vec::new();
                for raw in &entries {
                    match suppression_entry(raw) {
                        Ok(e) => parsed.push(e),
                        Err(why) => {
                            errln!("{raw:?}: {why}; nothing added");
                            return exit::USAGE;
                        }
                    }
                }
                let now = store::now_ts();
                for e in parsed {
                    match suppressions::add(conn, &e, &cause, note.as_deref(), now) {
                        Ok(true) => outln!("added {e}"),
                        // Perhaps in the other spelling of its domain: name the entry kept.
                        Ok(false) => match suppressions::existing(conn, &e) {
                            Ok(Some(s)) if s.entry != e => {
                                outln!("already suppressed {e} (as {})", s.entry)
                            }
                            _ => outln!("already suppressed {e}"),
                        },
                        Err(err) => {
                            errln!("{err}");
                            return exit::FAILURE;
                        }
                    }
                }
                exit::OK
            }
            SuppressCommand::Remove { entries } => {
                let mut missing = false;
                for raw in &entries {
                    let e = suppression_entry(raw).unwrap_or_else(|_| raw.to_lowercase());
                    match suppressions::remove(conn, &e) {
                        Ok(true) => outln!("removed {e}"),
                        Ok(false) => {
                            eprintln!("not on the list: {e}");
                            missing = true;
                        }
                        Err(err) => {
                            errln!("{err}");
                            return exit::FAILURE;
                        }
                    }
                }
                if missing { exit::INPUT } else { exit::OK }
            }
            SuppressCommand::List { json } => match suppressions::list(conn) {
                // The list is data a script keeps (`> backup.csv`): like an export, a list
                // that could not be written whole (a full disk, a closed pipe) exits 1.
                Ok(list) => match write_list(&list, json) {
                    Ok(()) => exit::OK,
                    Err(e) => {
                        errln!("cannot write the list to standard output: {e}");
                        exit::FAILURE
                    }
                },
                Err(e) => {
                    errln!("{e}");
                    exit::FAILURE
                }
            },
        }
    }
}

/// The list on standard output: CSV (`entry,cause,note,created_at`, the date in RFC 3339) or
/// a JSON array.
fn write_list(list: &[suppressions::Suppression], json: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, list)?;
        writeln!(out)?;
        return out.flush();
    }
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["entry", "cause", "note", "created_at"])?;
    for s in list {
        let date = chrono::DateTime::from_timestamp(s.created_at, 0)
            .map(|d| d.to_rfc3339())
            .unwrap_or_default();
        w.write_record([
            s.entry.as_str(),
            s.cause.as_str(),
            s.note.as_deref().unwrap_or_default(),
            date.as_str(),
        ])?;
    }
    w.flush()
}
