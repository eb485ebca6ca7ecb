//! `hailer outbox build`: one row per prospect, READY or ERROR with the reason.
//!
//! The address is the prospect's accepted (or hand-edited) suggestion, else the imported one.
//! Checks, in order: an address; a message for the company key; address syntax; suppression
//! (the address or its domain); a duplicate address (the first prospect keeps it; rows already
//! sent count too; only a row that will be READY takes an address); every placeholder resolved,
//! and no placeholder-like `{…}` left in the text. Rows that are SENDING, SENT, RETRY or
//! UNCERTAIN are never touched, nor is a row a server refused while its address is the same
//! (a rebuild must not make a 550 sendable again). Rows edited by hand keep their text (and
//! are checked like the others); rows skipped by hand stay skipped, with the reason they would
//! have; an approval survives a rebuild only when the row's address, text and reason did not
//! change.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::template::{
    Escape, Vars, edited_text_problem, extra_columns, literal_placeholder, render, render_partial,
};
use crate::engine::import::normalize::normalize_email;
use crate::engine::verify::syntax;
use crate::store::outbox::{Built, SERVER_REFUSED, Status, upsert_built};
use crate::store::{self, Store, StoreError, suppressions, verifications};

#[derive(Debug, Clone, Default, Serialize)]
pub struct BuildSummary {
    pub ready: u64,
    pub error: u64,
    pub skipped: u64,
    /// Rows left alone because they were sent or are being sent.
    pub locked: u64,
    /// ERROR reasons by kind (the text before the first colon), with counts.
    pub reasons: BTreeMap<String, u64>,
}

impl std::fmt::Display for BuildSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "outbox: {} READY, {} ERROR, {} SKIPPED, {} sent or in flight (untouched)",
            self.ready, self.error, self.skipped, self.locked
        )?;
        for (reason, n) in &self.reasons {
            writeln!(f, "  {n:>6}  {reason}")?;
        }
        Ok(())
    }
}

struct Prospect {
    id: i64,
    firstname: String,
    lastname: String,
    company: String,
    company_key: String,
    email: Option<String>,
    title: Option<String>,
    domain: Option<String>,
    extra: String,
}

struct Message {
    id: i64,
    subject: String,
    body: String,
    extra: String,
}

struct Existing {
    status: Status,
    approved: bool,
    edited: bool,
    email: Option<String>,
    subject: String,
    body: String,
    reason: Option<String>,
    /// ERROR because the server refused it (5xx, or 4xx until the last attempt).
    server_refused: bool,
}

impl Existing {
    /// Left alone by this build: sent or in flight, or refused by a server at this address.
    fn keeps(&self, email: Option<&str>) -> bool {
        self.status.is_locked()
            || (self.server_refused
                && self.email.as_deref().map(str::to_lowercase) == email.map(str::to_lowercase))
    }
}

pub fn build(store: &mut Store) -> Result<BuildSummary, StoreError> {
    let conn = store.conn();
    let prospects: Vec<Prospect> = {
        let mut stmt = conn.prepare(&format!(
            "SELECT p.id, p.firstname, p.lastname, p.company, p.company_key,
                    {}, p.title, COALESCE(p.domain, c.domain), p.extra
             FROM prospects p LEFT JOIN companies c ON c.key = p.company_key ORDER BY p.id",
            crate::store::prospects::ADDRESS_IN_USE
        ))?;
        stmt.query_map([], |r| {
            Ok(Prospect {
                id: r.get(0)?,
                firstname: r.get(1)?,
                lastname: r.get(2)?,
                company: r.get(3)?,
                company_key: r.get(4)?,
                email: r.get(5)?,
                title: r.get(6)?,
                domain: r.get(7)?,
                extra: r.get(8)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?
    };
    let messages: HashMap<String, Message> = {
        let mut stmt =
            conn.prepare("SELECT company_key, id, subject, body, extra FROM messages")?;
        stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Message {
                    id: r.get(1)?,
                    subject: r.get(2)?,
                    body: r.get(3)?,
                    extra: r.get(4)?,
                },
            ))
        })?
        .collect::<rusqlite::Result<_>>()?
    };
    let existing: HashMap<i64, Existing> = {
        let mut stmt = conn.prepare(&format!(
            "SELECT prospect_id, status, approved, edited, email, subject, body, reason,
                        {SERVER_REFUSED} FROM outbox"
        ))?;
        stmt.query_map([], |r| {
            let status: String = r.get(1)?;
            Ok((
                r.get::<_, i64>(0)?,
                Existing {
                    status: Status::parse(&status).unwrap_or(Status::Error),
                    approved: r.get(2)?,
                    edited: r.get(3)?,
                    email: r.get(4)?,
                    subject: r.get(5)?,
                    body: r.get(6)?,
                    reason: r.get(7)?,
                    server_refused: r.get(8)?,
                },
            ))
        })?
        .collect::<rusqlite::Result<_>>()?
    };

    // Every imported column, so a cell left empty on one row is an empty placeholder there
    // (use a default), not an unknown one.
    let mut columns: HashSet<String> = HashSet::new();
    for extra in prospects
        .iter()
        .map(|p| &p.extra)
        .chain(messages.values().map(|m| &m.extra))
    {
        columns.extend(extra_columns(extra).into_iter().map(|(k, _)| k));
    }
    let ctx = Context {
        columns: &columns,
        allow_any_tld: syntax::any_special_use(),
    };

    let mut summary = BuildSummary::default();
    // address (lowercase) -> prospect id that owns it. Rows already handed to a server own
    // their address first, so a rebuild can never produce a second message to it.
    let mut owners: HashMap<String, i64> = HashMap::new();
    let emails: Vec<Option<String>> = prospects
        .iter()
        .map(|p| p.email.as_deref().and_then(normalize_email))
        .collect();
    for (p, email) in prospects.iter().zip(&emails) {
        if let Some(e) = existing.get(&p.id)
            && e.keeps(email.as_deref())
            && let Some(addr) = &e.email
        {
            owners.insert(address_key(addr), p.id);
        }
    }

    let mut decided: Vec<Built> = Vec::with_capacity(prospects.len());
    for (p, email) in prospects.iter().zip(&emails) {
        let old = existing.get(&p.id);
        let message = messages.get(&p.company_key);
        if old.is_some_and(|e| e.keeps(email.as_deref())) {
            summary.locked += 1;
            continue;
        }
        let mut built = Built {
            prospect_id: p.id,
            message_id: message.map(|m| m.id),
            email: email.clone(),
            company_key: p.company_key.clone(),
            subject: String::new(),
            body: String::new(),
            status: Status::Ready,
            reason: None,
            approved: false,
        };
        let reason = decide(
            store.conn(),
            &ctx,
            p,
            message,
            email.as_deref(),
            old,
            &owners,
            &mut built,
        )?;
        if let Some(reason) = reason {
            built.status = Status::Error;
            built.reason = Some(reason);
        }
        if old.is_some_and(|e| e.status == Status::Skipped) {
            // Skipped by hand stays skipped, whatever the checks say now (the reason is kept
            // so un-skipping knows where the row goes back to).
            built.status = Status::Skipped;
        } else if let Some(e) = old
            && built.status == Status::Ready
        {
            built.approved = e.approved
                && e.status == Status::Ready
                && e.email == built.email
                && e.subject == built.subject
                && e.body == built.body
                && e.reason == built.reason;
        }
        // Only a row that will go out owns its address: a prospect whose row has an error or
        // was skipped does not block another prospect at the same address.
        if built.status == Status::Ready
            && let Some(e) = &built.email
        {
            owners.insert(address_key(e), p.id);
        }
        match built.status {
            Status::Ready => summary.ready += 1,
            Status::Skipped => summary.skipped += 1,
            _ => {
                summary.error += 1;
                let kind = built
                    .reason
                    .as_deref()
                    .unwrap_or("")
                    .split(':')
                    .next()
                    .unwrap_or("")
                    .to_string();
                *summary.reasons.entry(kind).or_default() += 1;
            }
        }
        decided.push(built);
    }

    let now = store::now_ts();
    let tx = store.write_tx()?;
    for b in &decided {
        upsert_built(&tx, b, now)?;
    }
    tx.commit()?;
    Ok(summary)
}

/// What every row's decision shares.
struct Context<'a> {
    columns: &'a HashSet<String>,
    /// Special-use TLDs are a verification policy (`[verify] allow_special_use`); the build
    /// checks the address's shape only.
    allow_any_tld: &'a [String],
}

/// The address as duplicates are compared: lower-case, the domain in its ASCII form (as it
/// is mailed), so `jean@café.test` and `jean@xn--caf-dma.test` are one person.
fn address_key(email: &str) -> String {
    let email = email.to_lowercase();
    match email.rsplit_once('@') {
        // Already its ASCII form (nearly every address): no IDNA pass.
        Some((_, domain)) if domain.is_ascii() => email,
        Some((local, domain)) => match crate::engine::verify::syntax::ascii_domain(domain) {
            Some(ascii) => format!("{local}@{ascii}"),
            None => email,
        },
        None => email,
    }
}

/// What the last verification of an address says for sending it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verification {
    /// The mailbox cannot receive (not found, no MX, bad syntax, disabled): never sent.
    Blocks(String),
    /// Catch-all or unknown, or a verification that could not conclude (timeout, refused
    /// connection, temporary failure): sendable, flagged so review can decide.
    Risky(String),
    /// Deliverable, or never verified.
    Fine,
}

/// The verdict stored for the first of `spellings` (as imported, then normalised) that has
/// one. The outbox build and the sender's last check before each message both ask, so a
/// verification run after the build still keeps its bad addresses out.
pub(crate) fn verification(
    conn: &rusqlite::Connection,
    spellings: &[&str],
) -> Result<Verification, StoreError> {
    let mut verdict = None;
    for s in spellings {
        verdict = verifications::get(conn, s)?;
        if verdict.is_some() {
            break;
        }
    }
    let Some(v) = verdict else {
        return Ok(Verification::Fine);
    };
    let status = crate::engine::verify::Status::parse(&v.status);
    Ok(if status.is_some_and(|s| s.blocks_sending()) {
        Verification::Blocks(format!(
            "blocked by verification: {} ({})",
            v.status,
            crate::text::shorten(&v.detail, 120)
        ))
    } else if let Some(s) = status.filter(|s| s.is_risky() || !s.is_definitive()) {
        // Not definitive: the server could not be asked (timeout, refused connection, a 4xx).
        // The address is no more confirmed than a never-verified one, but review should know
        // it was tried.
        let what = if s.is_risky() {
            v.status.clone()
        } else {
            format!("unconfirmed, the last verification gave {}", v.status)
        };
        Verification::Risky(format!(
            "risky: {what} ({})",
            crate::text::shorten(&v.detail, 80)
        ))
    } else {
        Verification::Fine
    })
}

/// Why a prospect has no address, where the Outbox row is reviewed: a suggestion `find` made
/// that nobody accepted (on Suggestions), or one verified dead (another address is needed).
/// Short: the reason column shares the row with the address, company and subject.
fn no_address(conn: &rusqlite::Connection, prospect_id: i64) -> Result<String, StoreError> {
    const NONE: &str = "no address: no imported email or accepted suggestion";
    let Some(s) = crate::store::suggestions::get(conn, prospect_id)? else {
        return Ok(NONE.into());
    };
    let (Some(email), "suggested") = (s.email.as_deref(), s.status.as_str()) else {
        return Ok(NONE.into());
    };
    let verdict = s.verified.as_deref();
    let dead = verdict
        .and_then(crate::engine::verify::Status::parse)
        .is_some_and(|v| v.blocks_sending());
    Ok(match verdict {
        // Accepting it would only make the row ERROR again: another address is needed.
        Some(v) if dead => format!("no address: {email} is {v}"),
        _ => format!("no address: {email} not accepted"),
    })
}

/// The reason this prospect cannot be sent, or `None` (then `built` holds the rendered text).
#[allow(clippy::too_many_arguments)]
fn decide(
    conn: &rusqlite::Connection,
    ctx: &Context<'_>,
    p: &Prospect,
    message: Option<&Message>,
    email: Option<&str>,
    old: Option<&Existing>,
    owners: &HashMap<String, i64>,
    built: &mut Built,
) -> Result<Option<String>, StoreError> {
    let Some(raw) = p.email.as_deref() else {
        return Ok(Some(no_address(conn, p.id)?));
    };
    let Some(email) = email else {
        return Ok(Some(format!("invalid syntax: {raw:?}")));
    };
    let address = match syntax::check(email, ctx.allow_any_tld) {
        Err(e) => return Ok(Some(format!("invalid syntax: {email:?}: {e}"))),
        Ok(a) => a,
    };
    // Before the reasons an edit or an import can fix: a suppressed address stays out
    // whatever else changes, and the review should not suggest fixing it.
    if let Some(s) = suppressions::blocking(conn, email)? {
        return Ok(Some(format!("suppressed: {} ({})", s.entry, s.cause)));
    }
    // An accented domain goes out in its ASCII (IDNA) form; an accented local part would
    // need SMTPUTF8, and a server without it refuses the RCPT as bad syntax.
    if address.smtputf8 {
        return Ok(Some(format!(
            "non-ASCII local part: {email:?} needs SMTPUTF8, which hailer does not send"
        )));
    }
    let Some(message) = message else {
        return Ok(Some(format!(
            "no message: nothing imported for company {:?} (key {:?})",
            p.company, p.company_key
        )));
    };
    let risky = match verification(conn, &[raw, email])? {
        Verification::Blocks(reason) => return Ok(Some(reason)),
        Verification::Risky(note) => Some(note),
        Verification::Fine => None,
    };
    built.reason = risky;
    let key = address_key(email);
    if let Some(&owner) = owners.get(&key)
        && owner != p.id
    {
        return Ok(Some(format!(
            "duplicate address: {email} already goes to prospect #{owner}"
        )));
    }
    // The name goes out in the To header, used by the template or not.
    if let Some(p) = literal_placeholder(&format!("{} {}", p.firstname, p.lastname)) {
        return Ok(Some(format!(
            "unresolved placeholder: {p} in the recipient's name (fix the prospect, then rebuild)"
        )));
    }
    if let Some(e) = old.filter(|e| e.edited) {
        built.subject = e.subject.clone();
        built.body = e.body.clone();
        return Ok(edited_text_problem(&e.subject, &e.body));
    }
    let mut vars = Vars::new();
    for c in ctx.columns {
        vars.declare(c);
    }
    vars.set_extra_json(&message.extra);
    vars.set_extra_json(&p.extra);
    vars.set("firstname", &p.firstname);
    vars.set("lastname", &p.lastname);
    vars.set("company", &p.company);
    vars.set("email", email);
    vars.set("title", p.title.as_deref().unwrap_or(""));
    vars.set("domain", p.domain.as_deref().unwrap_or(""));
    let subject = render(&message.subject, &vars, Escape::None);
    // The body is Markdown: values are escaped so they show as typed.
    let body = render(&message.body, &vars, Escape::Markdown);
    let mut problems: Vec<String> = Vec::new();
    for (part, result) in [("subject", &subject), ("body", &body)] {
        if let Err(errors) = result {
            for e in errors {
                problems.push(format!("{e} in {part}"));
            }
        }
    }
    if !problems.is_empty() {
        // The part that failed is rendered as far as it can be, its failed placeholders left
        // as written, so the user sees what to fix and an edit fixes only that; the other
        // part is rendered.
        built.subject =
            subject.unwrap_or_else(|_| render_partial(&message.subject, &vars, Escape::None));
        built.body =
            body.unwrap_or_else(|_| render_partial(&message.body, &vars, Escape::Markdown));
        return Ok(Some(format!(
            "unresolved placeholder: {}",
            problems.join("; ")
        )));
    }
    built.subject = subject.unwrap_or_default();
    built.body = body.unwrap_or_default();
    // Values that only together look like a placeholder (`Acme {` then `Lyon}`): the send-time
    // check would refuse the row, so the review shows it as ERROR now.
    for (part, text) in [("subject", &built.subject), ("body", &built.body)] {
        if let Some(p) = literal_placeholder(text) {
            return Ok(Some(format!(
                "unresolved placeholder: {p} in the rendered {part} (from the values)"
            )));
        }
    }
    Ok(None)
}
