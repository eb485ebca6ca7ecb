//! `hailer suggestions list|accept|next|set|reset`: the Suggestions tab, headless. Each
//! change calls the store function the TUI's key calls (`a` accept, `c` next alternative,
//! `e` type an address, `u` back to suggested), so a row ends the same whichever way it was decided; `r` (re-run find for a
//! company) is `hailer find --company KEY --refresh`.
//!
//! The ids are prospect ids (the `prospect_id` column of `list`): one suggestion per prospect.
//! Ids typed by hand must all be usable, or each unusable one is named, nothing changes and the
//! exit code is 4, as with `hailer outbox approve`.

use clap::{Args, Subcommand};
use serde::Serialize;

use super::{Context, exit};
use crate::engine::find::choice;
use crate::store::{self, suggestions};

/// Every status a suggestion can have (`pending`: find has made none yet).
pub const STATUSES: [&str; 7] = [
    "pending",
    "suggested",
    "accepted",
    "edited",
    "no-domain",
    "no-mail",
    "failed",
];

#[derive(Debug, Subcommand)]
pub enum SuggestionsCommand {
    /// List every prospect's suggestion as CSV, or JSON with --json
    ///
    /// CSV columns: prospect_id,firstname,lastname,company,domain,email,alternatives,pattern,
    /// confidence,status,reason,verified,evidence (one line per evidence line, as in
    /// `hailer export suggestions`). As in `hailer export`, a cell that starts with
    /// = + - @, tab or CR gets a leading ' so no spreadsheet runs it as a formula. The JSON
    /// gives every value as stored, unguarded, with the evidence lines. Status is pending
    /// (find made no suggestion yet), suggested, accepted, edited (an alternative taken or an
    /// address typed: used as accepted), no-domain, no-mail or failed.
    List {
        /// Print a JSON array instead of CSV
        #[arg(long)]
        json: bool,
        /// Only rows with this status (repeat it, or separate with commas, for several)
        #[arg(
            long,
            value_delimiter = ',',
            ignore_case = true,
            value_parser = clap::builder::TypedValueParser::map(
                clap::builder::PossibleValuesParser::new(STATUSES),
                |s: String| s.to_lowercase()
            )
        )]
        status: Vec<String>,
        /// Only rows whose confidence is at least N (0-100)
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(0..=100))]
        min_confidence: Option<i64>,
        #[command(flatten)]
        out: super::ListOutput,
    },
    /// Accept suggested addresses (`a` on the Suggestions tab): the outbox build then uses them
    ///
    /// Give prospect ids, or a filter: --min-confidence N accepts every suggested (not yet
    /// accepted or edited) address of at least that confidence, --all every one. A filter
    /// skips addresses verified undeliverable (MAILBOX_NOT_FOUND, INVALID_SYNTAX, NO_MX,
    /// DISABLED) and names them. An id with no suggested address, or no such prospect, or
    /// an address verified undeliverable (unless --force), is named and nothing is accepted
    /// (exit 4); one already accepted or edited is counted as such.
    Accept(AcceptArgs),
    /// Show the next alternative address instead of the suggested one (`c` on the
    /// Suggestions tab); it is NOT accepted: the row is `suggested` until `accept`
    ///
    /// The address replaced goes to the end of the alternatives, so repeating cycles through
    /// them. The pattern and confidence shown become those of the address shown. A row that
    /// was accepted goes back to suggested.
    Next {
        /// Prospect ids
        #[arg(required = true)]
        ids: Vec<i64>,
        /// Print what changed as JSON
        #[arg(long)]
        json: bool,
    },
    /// Set the address by hand (`e` on the Suggestions tab); it counts as accepted (status
    /// edited), with the pattern and confidence that address has
    Set {
        /// Prospect id
        id: i64,
        /// The address
        email: String,
        /// Take an address at a domain known to accept no mail (null MX, no such domain)
        #[arg(long)]
        force: bool,
        /// Print what changed as JSON
        #[arg(long)]
        json: bool,
    },
    /// Return accepted or edited rows to `suggested` (`u` on the Suggestions tab): the
    /// outbox build no longer uses their address until it is accepted again
    ///
    /// The address stays (a typed one is not lost). An id that is not accepted or edited is
    /// counted as such; no such prospect is named and nothing changes (exit 4).
    Reset {
        /// Prospect ids
        #[arg(required = true)]
        ids: Vec<i64>,
        /// Print what changed as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct AcceptArgs {
    /// Prospect ids
    #[arg(
        required_unless_present_any = ["min_confidence", "all"],
        conflicts_with_all = ["min_confidence", "all"]
    )]
    pub ids: Vec<i64>,
    /// Every suggested address whose confidence is at least N (0-100)
    #[arg(long, value_name = "N", conflicts_with = "all",
          value_parser = clap::value_parser!(i64).range(0..=100))]
    pub min_confidence: Option<i64>,
    /// Every suggested address, whatever its confidence
    #[arg(long)]
    pub all: bool,
    /// Accept the ids given even when their address was verified undeliverable
    #[arg(long, conflicts_with_all = ["min_confidence", "all"])]
    pub force: bool,
    /// Print what changed as JSON
    #[arg(long)]
    pub json: bool,
}

/// One suggestion after a change, as `--json` gives it.
#[derive(Debug, Serialize)]
struct Changed {
    prospect_id: i64,
    email: Option<String>,
    pattern: Option<String>,
    confidence: u8,
    status: String,
}

/// What `accept`, `next` or `set` did.
#[derive(Debug, Serialize)]
struct ChangeOut {
    changed: Vec<Changed>,
    /// Ids given (or matched) that were accepted already: left as they were.
    already_accepted: Vec<i64>,
    /// Matched by a filter but verified undeliverable: not accepted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skipped_undeliverable: Vec<Skipped>,
    /// Outbox rows built for the address replaced: ERROR until the outbox is rebuilt.
    outbox_held: Vec<i64>,
}

/// A row a bulk accept left alone, and why.
#[derive(Debug, Serialize)]
struct Skipped {
    prospect_id: i64,
    email: Option<String>,
    verified: Option<String>,
}

impl SuggestionsCommand {
    pub fn execute(self, ctx: &Context) -> u8 {
        let Some(mut store) = ctx.store_or_report() else {
            return exit::FAILURE;
        };
        match self {
            SuggestionsCommand::List {
                json,
                status,
                min_confidence,
                out,
            } => list(&store, json, &out, &status, min_confidence),
            SuggestionsCommand::Accept(args) => accept(&mut store, &args),
            SuggestionsCommand::Next { ids, json } => next(&mut store, &ids, json),
            SuggestionsCommand::Set {
                id,
                email,
                force,
                json,
            } => set(&mut store, id, &email, force, json),
            SuggestionsCommand::Reset { ids, json } => reset(&mut store, &ids, json),
        }
    }
}

fn list(
    store: &store::Store,
    json: bool,
    out: &super::ListOutput,
    status: &[String],
    min: Option<i64>,
) -> u8 {
    let rows = match suggestions::list(store.conn()) {
        Ok(rows) => rows,
        Err(e) => {
            errln!("{e}");
            return exit::FAILURE;
        }
    };
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| status.is_empty() || status.contains(&r.status))
        .filter(|r| min.is_none_or(|m| r.confidence >= m))
        .collect();
    let header = [
        "prospect_id",
        "firstname",
        "lastname",
        "company",
        "domain",
        "email",
        "alternatives",
        "pattern",
        "confidence",
        "status",
        "reason",
        "verified",
        "evidence",
    ];
    super::print_table("the suggestions list", &rows, json, out, header, |r| {
        [
            r.prospect_id.to_string(),
            r.firstname.clone(),
            r.lastname.clone(),
            r.company.clone(),
            r.domain.clone().unwrap_or_default(),
            r.email.clone().unwrap_or_default(),
            r.alternatives.join(" "),
            r.pattern.clone().unwrap_or_default(),
            r.confidence.to_string(),
            r.status.clone(),
            r.reason.clone().unwrap_or_default(),
            r.verified.clone().unwrap_or_default(),
            r.evidence.join("\n"),
        ]
    })
}

/// "no prospect 999", "prospect 12 has no suggested address (no-domain: …)".
fn problem(cur: Option<&suggestions::SuggestionRow>, id: i64) -> Option<String> {
    match cur {
        None => Some(format!("no prospect {id}")),
        Some(r) if r.email.is_none() => Some(format!(
            "prospect {id} has no suggested address ({}{})",
            r.status,
            r.reason
                .as_deref()
                .map(|why| format!(": {why}"))
                .unwrap_or_default()
        )),
        Some(_) => None,
    }
}

fn accept(store: &mut store::Store, args: &AcceptArgs) -> u8 {
    let now = store::now_ts();
    type Done = (ChangeOut, String);
    let result = (|| -> Result<Result<Done, Vec<String>>, store::StoreError> {
        let tx = store.write_tx()?;
        let rows = suggestions::list(&tx)?;
        let ids: Vec<i64> = if args.ids.is_empty() {
            // A filter: suggested addresses only (an accepted one stays as it is; an edited
            // one is the user's own choice, which `accept` would relabel), by the confidence
            // find gave, so a dead address of that confidence is named as skipped.
            let min = if args.all {
                0
            } else {
                args.min_confidence.unwrap_or(0)
            };
            rows.iter()
                .filter(|r| r.email.is_some() && r.found_confidence >= min)
                .filter(|r| matches!(r.status.as_str(), "suggested" | "accepted"))
                .map(|r| r.prospect_id)
                .collect()
        } else {
            let mut problems = Vec::new();
            for &id in &args.ids {
                let cur = rows.iter().find(|r| r.prospect_id == id);
                if let Some(p) = problem(cur, id) {
                    problems.push(p);
                } else if let Some(r) = cur.filter(|r| {
                    !args.force
                        && r.undeliverable().is_some()
                        && !matches!(r.status.as_str(), "accepted" | "edited")
                }) {
                    problems.push(format!(
                        "prospect {id}: {} was verified undeliverable; accept it with --force",
                        r.address_and_verdict()
                    ));
                }
            }
            if !problems.is_empty() {
                // Dropping the transaction rolls it back: nothing was written yet anyway.
                return Ok(Err(problems));
            }
            args.ids.clone()
        };
        let report = suggestions::accept_many(&tx, &ids, args.force, now)?;
        let accepted: Vec<i64> = report.accepted.iter().map(|r| r.prospect_id).collect();
        let changed = changed(&tx, &accepted)?;
        tx.commit()?;
        let out = ChangeOut {
            changed,
            already_accepted: report.already.clone(),
            skipped_undeliverable: report
                .undeliverable
                .iter()
                .map(|r| Skipped {
                    prospect_id: r.prospect_id,
                    email: r.email.clone(),
                    verified: r.verified.clone(),
                })
                .collect(),
            outbox_held: report.held.clone(),
        };
        Ok(Ok((out, report.summary())))
    })();
    match result {
        Ok(Ok((out, summary))) => {
            if args.json {
                print_json(&out);
            } else {
                for c in &out.changed {
                    outln!(
                        "accepted {} for prospect {}",
                        c.email.as_deref().unwrap_or_default(),
                        c.prospect_id
                    );
                }
                for s in &out.skipped_undeliverable {
                    outln!(
                        "skipped {} for prospect {}: verified {} (accept it alone with --force)",
                        s.email.as_deref().unwrap_or_default(),
                        s.prospect_id,
                        s.verified.as_deref().unwrap_or_default()
                    );
                }
                outln!("{summary}");
                if let Some(line) = held_line(&out.outbox_held) {
                    outln!("{line}");
                }
            }
            exit::OK
        }
        Ok(Err(problems)) => super::refuse(&problems),
        Err(e) => {
            errln!("{e}");
            exit::FAILURE
        }
    }
}

/// The suggestions of `ids` as they are now.
fn changed(conn: &rusqlite::Connection, ids: &[i64]) -> Result<Vec<Changed>, store::StoreError> {
    let mut rows = Vec::with_capacity(ids.len());
    for &id in ids {
        rows.extend(suggestions::get(conn, id)?);
    }
    Ok(rows
        .iter()
        .map(|r| Changed {
            prospect_id: r.prospect_id,
            email: r.email.clone(),
            pattern: r.pattern.clone(),
            confidence: r.confidence.clamp(0, 100) as u8,
            status: r.status.clone(),
        })
        .collect())
}

fn print_json(out: &ChangeOut) {
    outln!("{}", serde_json::to_string_pretty(out).unwrap_or_default());
}

/// "now jd@acme.test for prospect 3: first.last, 80%", as the TUI's status line says it; a
/// row left `suggested` says how to accept it.
fn print_changed(out: &ChangeOut, json: bool) {
    if json {
        print_json(out);
        return;
    }
    for c in &out.changed {
        let hint = if c.status == "suggested" {
            format!(
                " (not accepted: hailer suggestions accept {})",
                c.prospect_id
            )
        } else {
            String::new()
        };
        outln!(
            "now {} for prospect {}: {}, {}%{hint}",
            c.email.as_deref().unwrap_or_default(),
            c.prospect_id,
            c.pattern.as_deref().unwrap_or("no known pattern"),
            c.confidence
        );
    }
    if let Some(line) = held_line(&out.outbox_held) {
        outln!("{line}");
    }
}

/// What the CLI says of outbox rows a change of address held, if any.
fn held_line(held: &[i64]) -> Option<String> {
    let ids: Vec<String> = held.iter().map(|id| format!("#{id}")).collect();
    (!held.is_empty()).then(|| {
        format!(
            "outbox row{} {} built for the old address: ERROR until `hailer outbox build` \
             makes {} for the new one",
            if held.len() == 1 { "" } else { "s" },
            ids.join(", "),
            if held.len() == 1 { "it" } else { "them" }
        )
    })
}

fn reset(store: &mut store::Store, ids: &[i64], json: bool) -> u8 {
    let now = store::now_ts();
    let result = (|| -> Result<Result<_, Vec<String>>, store::StoreError> {
        let tx = store.write_tx()?;
        let mut unknown = Vec::new();
        for &id in ids {
            if suggestions::get(&tx, id)?.is_none() {
                unknown.push(format!("no prospect {id}"));
            }
        }
        if !unknown.is_empty() {
            return Ok(Err(unknown));
        }
        let report = suggestions::reset_many(&tx, ids, now)?;
        let changed = changed(&tx, &report.reset)?;
        tx.commit()?;
        Ok(Ok((changed, report)))
    })();
    match result {
        Ok(Ok((changed, report))) => {
            if json {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "changed": changed,
                        "not_accepted": report.untouched,
                        "outbox_held": report.held,
                    }))
                    .unwrap_or_default()
                );
            } else {
                for c in &changed {
                    outln!(
                        "{} for prospect {} is suggested again",
                        c.email.as_deref().unwrap_or_default(),
                        c.prospect_id
                    );
                }
                let n = changed.len();
                let mut line = format!("reset {n} suggestion{}", if n == 1 { "" } else { "s" });
                if report.untouched > 0 {
                    line.push_str(&format!("; {} not accepted or edited", report.untouched));
                }
                outln!("{line}");
                if let Some(line) = held_line(&report.held) {
                    outln!("{line}");
                }
            }
            exit::OK
        }
        Ok(Err(problems)) => super::refuse(&problems),
        Err(e) => {
            errln!("{e}");
            exit::FAILURE
        }
    }
}

fn next(store: &mut store::Store, ids: &[i64], json: bool) -> u8 {
    let now = store::now_ts();
    let result = (|| -> Result<Result<ChangeOut, Vec<String>>, store::StoreError> {
        let tx = store.write_tx()?;
        let rows = suggestions::list(&tx)?;
        let mut problems = Vec::new();
        let mut targets: Vec<i64> = Vec::new();
        for &id in ids {
            let cur = rows.iter().find(|r| r.prospect_id == id);
            if let Some(p) = problem(cur, id) {
                problems.push(p);
            } else if cur.is_some_and(|r| r.alternatives.is_empty()) {
                problems.push(format!("prospect {id} has no other address to try"));
            } else if !targets.contains(&id) {
                targets.push(id);
            }
        }
        if !problems.is_empty() {
            return Ok(Err(problems));
        }
        let mut outbox_held = Vec::new();
        for &id in &targets {
            outbox_held.extend(choice::next_alternative(&tx, id, now)?.unwrap_or_default());
        }
        let changed = changed(&tx, &targets)?;
        tx.commit()?;
        Ok(Ok(ChangeOut {
            changed,
            already_accepted: Vec::new(),
            skipped_undeliverable: Vec::new(),
            outbox_held,
        }))
    })();
    match result {
        Ok(Ok(out)) => {
            print_changed(&out, json);
            exit::OK
        }
        Ok(Err(problems)) => super::refuse(&problems),
        Err(e) => {
            errln!("{e}");
            exit::FAILURE
        }
    }
}

fn set(store: &mut store::Store, id: i64, email: &str, force: bool, json: bool) -> u8 {
    // As the TUI's `e`: the address typed, trimmed, must read as one.
    // Stored as read ("Jane <jane@acme.test>" is jane@acme.test), never as typed.
    let Some(email) = crate::engine::import::normalize::normalize_email(email) else {
        errln!(
            "{:?} is not an email address; nothing changed",
            email.trim()
        );
        return exit::USAGE;
    };
    let email = email.as_str();
    let now = store::now_ts();
    let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
    let result = (|| -> Result<Result<(ChangeOut, bool), String>, store::StoreError> {
        let tx = store.write_tx()?;
        let (adopted, outbox_held) = match choice::set_typed(&tx, id, email, force, now)? {
            choice::Typed::TakesNoMail(why) => {
                return Ok(Err(format!(
                    "{email} is at a domain that takes no mail ({why}); give --force to set it anyway"
                )));
            }
            choice::Typed::NoProspect => return Ok(Err(format!("no prospect {id}"))),
            choice::Typed::Set { adopted, held } => (adopted, held),
        };
        let changed = changed(&tx, &[id])?;
        tx.commit()?;
        Ok(Ok((
            ChangeOut {
                changed,
                already_accepted: Vec::new(),
                skipped_undeliverable: Vec::new(),
                outbox_held,
            },
            adopted,
        )))
    })();
    match result {
        Ok(Ok((out, adopted))) => {
            print_changed(&out, json);
            if adopted {
                errln!(
                    "the company of prospect {id} had no domain: it is now {domain} \
                     (run hailer find to guess its other prospects' addresses)"
                );
            }
            exit::OK
        }
        Ok(Err(problem)) => super::refuse(&[problem]),
        Err(e) => {
            errln!("{e}");
            exit::FAILURE
        }
    }
}
