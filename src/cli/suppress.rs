//! `hailer suppress add|remove|list [ADDRESS|@DOMAIN …]`: the never-mail list.

use clap::Subcommand;

use super::{Context, exit};
use crate::engine::import::normalize::{strip_formula_guard, suppression_entry};
use crate::store::{self, suppressions};

#[derive(Debug, Subcommand)]
pub enum SuppressCommand {
    /// Add addresses or whole domains (@domain, which covers its subdomains too)
    Add {
        /// Addresses (also `Name <addr>` or `mailto:addr`) or @domains; one ' before = + - @,
        /// as `suppress list` writes them, is taken off
        #[arg(required = true)]
        entries: Vec<String>,
        /// Why (kept with each entry)
        #[arg(long, default_value = "manual")]
        cause: String,
        /// A note kept with each entry
        #[arg(long)]
        note: Option<String>,
        /// Print {"added": [...], "already": [{"entry", "as"}]} instead of lines
        #[arg(long)]
        json: bool,
    },
    /// Remove entries: all of them, or none when one is not on the list (each such entry is
    /// named, exit 4)
    Remove {
        /// Entries as `add` takes them, also as `suppress list` writes them ('@domain.test)
        #[arg(required = true)]
        entries: Vec<String>,
        /// Remove the entries that are on the list and only note the others (exit 0): a script
        /// that makes sure addresses are not suppressed, whether or not they were
        #[arg(long)]
        ignore_missing: bool,
        /// Print {"removed": [...], "passed_over": [...]} instead of lines
        #[arg(long)]
        json: bool,
    },
    /// List every entry as CSV (entry,cause,note,created_at), or JSON with --json
    ///
    /// The CSV is for people and spreadsheets: as in `hailer export`, a cell that starts with
    /// = + - @ (every @domain entry), tab or CR gets a leading ' so no spreadsheet runs it as a
    /// formula. `suppress add` and `suppress remove` take that ' off again, so the entry column
    /// goes back to them as it is. The JSON is for programs: every value as stored, unguarded.
    List {
        /// Print a JSON array of {entry, cause, note, created_at} instead of CSV, created_at in
        /// Unix seconds like the other *_at times in hailer's JSON (the CSV gives RFC 3339)
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        out: super::ListOutput,
    },
}

impl SuppressCommand {
    pub fn execute(self, ctx: &Context) -> u8 {
        let Some(mut store) = ctx.store_or_report() else {
            return exit::FAILURE;
        };
        match self {
            SuppressCommand::Add {
                entries,
                cause,
                note,
                json,
            } => add(&mut store, &entries, &cause, note.as_deref(), json),
            SuppressCommand::Remove {
                entries,
                ignore_missing,
                json,
            } => remove(&mut store, &entries, ignore_missing, json),
            SuppressCommand::List { json, out } => match suppressions::list(store.conn()) {
                // Exit 1 when it could not be written whole: see `print_table`.
                Ok(list) => print_list(&list, json, &out),
                Err(e) => {
                    errln!("{e}");
                    exit::FAILURE
                }
            },
        }
    }
}

/// An entry as typed, pasted or taken from `suppress list`'s CSV, whose guard against formula
/// injection (`'@acme.test`, `'=x@acme.test`) is taken off as the import does it: one `'`
/// before `=` `+` `-` `@` (a stored entry that starts with `'` and one of those is listed with
/// one more, so it comes back whole).
fn typed_entry(raw: &str) -> Result<String, String> {
    suppression_entry(strip_formula_guard(raw.trim()))
}

/// An entry that was on the list already, and the spelling it is stored under.
#[derive(serde::Serialize)]
struct Already<'a> {
    entry: &'a str,
    #[serde(rename = "as")]
    stored_as: &'a str,
}

/// `suppress add`: every entry is checked before any is added, and all are added in one
/// transaction, so a failure adds none.
fn add(
    store: &mut store::Store,
    raw: &[String],
    cause: &str,
    note: Option<&str>,
    json: bool,
) -> u8 {
    let mut parsed = Vec::new();
    for raw in raw {
        match typed_entry(raw) {
            Ok(e) => parsed.push(e),
            Err(why) => {
                errln!("{raw:?}: {why}; nothing added");
                return exit::USAGE;
            }
        }
    }
    let tx = match store.write_tx() {
        Ok(tx) => tx,
        Err(e) => {
            errln!("{e}");
            return exit::FAILURE;
        }
    };
    let now = store::now_ts();
    // Each entry in the order given: added (None), or already there under this spelling.
    let mut outcomes: Vec<(String, Option<String>)> = Vec::new();
    for e in parsed {
        match suppressions::add(&tx, &e, cause, note, now) {
            Ok(true) => outcomes.push((e, None)),
            // Perhaps in the other spelling of its domain: name the entry kept.
            Ok(false) => {
                let stored_as = match suppressions::existing(&tx, &e) {
                    Ok(Some(s)) => s.entry,
                    _ => e.clone(),
                };
                outcomes.push((e, Some(stored_as)));
            }
            Err(err) => {
                errln!("{err}; nothing added");
                return exit::FAILURE;
            }
        }
    }
    if let Err(e) = tx.commit() {
        errln!("{e}; nothing added");
        return exit::FAILURE;
    }
    if json {
        let added: Vec<&String> = outcomes
            .iter()
            .filter(|(_, kept)| kept.is_none())
            .map(|(e, _)| e)
            .collect();
        let already: Vec<Already> = outcomes
            .iter()
            .filter_map(|(entry, kept)| kept.as_ref().map(|stored_as| Already { entry, stored_as }))
            .collect();
        outln!(
            "{}",
            serde_json::json!({ "added": added, "already": already })
        );
        return exit::OK;
    }
    for (e, kept) in &outcomes {
        match kept {
            None => outln!("added {e}"),
            Some(k) if k == e => outln!("already suppressed {e}"),
            Some(k) => outln!("already suppressed {e} (as {k})"),
        }
    }
    exit::OK
}

/// `suppress remove`: every entry is looked up first, inside the one write transaction that
/// then removes them, so the list changes whole or not at all. An entry not on the list (also
/// one that names no address or domain, unless it is on the list as typed, from an older
/// version) is named on stderr, and nothing is removed (exit 4); with `ignore_missing`, only
/// an entry that names nothing stops the command, and the others are noted and passed over.
fn remove(store: &mut store::Store, raw: &[String], ignore_missing: bool, json: bool) -> u8 {
    let tx = match store.write_tx() {
        Ok(tx) => tx,
        Err(e) => {
            errln!("{e}");
            return exit::FAILURE;
        }
    };
    // (entry as given, entry as stored): one entry given twice, or in both spellings of its
    // domain, is removed and reported once.
    let mut found: Vec<(String, String)> = Vec::new();
    let mut passed_over = Vec::new();
    let mut problems = Vec::new();
    for raw in raw {
        let (entry, invalid) = match typed_entry(raw) {
            Ok(e) => (e, None),
            Err(why) => (strip_formula_guard(raw.trim()).to_lowercase(), Some(why)),
        };
        match suppressions::existing(&tx, &entry) {
            Ok(Some(stored)) => {
                if !found.iter().any(|(_, s)| *s == stored.entry) {
                    found.push((entry, stored.entry));
                }
            }
            Ok(None) => match invalid {
                Some(why) => problems.push(format!("{raw:?}: {why}, and not on the list")),
                None if ignore_missing => passed_over.push(entry),
                None => problems.push(format!("not on the list: {entry}")),
            },
            Err(e) => {
                errln!("{e}");
                return exit::FAILURE;
            }
        }
    }
    if !problems.is_empty() {
        // Dropping the transaction rolls it back: nothing was deleted yet anyway.
        for p in &problems {
            errln!("{p}");
        }
        errln!("nothing removed");
        return exit::INPUT;
    }
    for (entry, _) in &found {
        if let Err(e) = suppressions::remove(&tx, entry) {
            errln!("{e}; nothing removed");
            return exit::FAILURE;
        }
    }
    if let Err(e) = tx.commit() {
        errln!("{e}; nothing removed");
        return exit::FAILURE;
    }
    if json {
        let removed: Vec<&String> = found.iter().map(|(entry, _)| entry).collect();
        outln!(
            "{}",
            serde_json::json!({ "removed": removed, "passed_over": passed_over })
        );
        return exit::OK;
    }
    for (entry, _) in &found {
        outln!("removed {entry}");
    }
    for entry in &passed_over {
        errln!("not on the list: {entry} (passed over: --ignore-missing)");
    }
    exit::OK
}

/// The list on standard output: CSV (`entry,cause,note,created_at`, the date in RFC 3339 as
/// in exports, cells guarded against formula injection) or a JSON array of the values as
/// stored, `created_at` in Unix seconds like the other times in hailer's JSON (`mailbox status
/// --json`'s `paused_at`, `/api/validate`'s `checked_at`).
fn print_list(list: &[suppressions::Suppression], json: bool, out: &super::ListOutput) -> u8 {
    let header = ["entry", "cause", "note", "created_at"];
    super::print_table("the list", list, json, out, header, |s| {
        [
            s.entry.clone(),
            s.cause.clone(),
            s.note.clone().unwrap_or_default(),
            super::rfc3339(s.created_at),
        ]
    })
}
