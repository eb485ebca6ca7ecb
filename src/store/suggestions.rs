//! `suggestions` (one per prospect) and the find engine's caches (`find_domains`,
//! `find_sites`, `find_patterns`), each entry fresh for a TTL the caller gives.

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SuggestionRow {
    pub prospect_id: i64,
    pub firstname: String,
    pub lastname: String,
    pub company: String,
    pub company_key: String,
    pub domain: Option<String>,
    pub email: Option<String>,
    pub alternatives: Vec<String>,
    pub pattern: Option<String>,
    pub confidence: i64,
    pub evidence: Vec<String>,
    pub status: String,
    pub reason: Option<String>,
    /// The verification class of the suggested address (VALID, CATCH_ALL, ...), once verified.
    pub verified: Option<String>,
    /// What decided that verdict: MX host, reply code, enhanced code and text.
    pub verified_detail: Option<String>,
    /// The confidence find (or the user's choice) gave the address, before its verdict:
    /// `confidence` is 0 once the address is verified undeliverable.
    pub found_confidence: i64,
    /// The address the import gave the prospect, if any.
    pub imported_email: Option<String>,
}

impl SuggestionRow {
    /// The address was verified undeliverable (MAILBOX_NOT_FOUND, INVALID_SYNTAX, NO_MX,
    /// DISABLED): the outbox build blocks it, so bulk accepts skip it.
    pub fn undeliverable(&self) -> Option<&str> {
        self.verified
            .as_deref()
            .filter(|v| undeliverable_verdict(v))
    }

    /// "marie.curie@acme.test (MAILBOX_NOT_FOUND)", for messages naming a skipped row.
    pub fn address_and_verdict(&self) -> String {
        format!(
            "{} ({})",
            self.email.as_deref().unwrap_or_default(),
            self.verified.as_deref().unwrap_or_default()
        )
    }
}

/// A verdict the outbox build refuses to send to.
pub fn undeliverable_verdict(status: &str) -> bool {
    crate::engine::verify::Status::parse(status).is_some_and(|s| s.blocks_sending())
}

/// A dead verdict overrides the guess: confidence 0, and the first evidence line says why
/// (the reasoning for the guess stays below it).
fn apply_verdict(row: &mut SuggestionRow) {
    if row.undeliverable().is_none() {
        return;
    }
    row.evidence.insert(
        0,
        format!(
            "confidence 0: verified {} ({}); find gave {}%",
            row.verified.as_deref().unwrap_or_default(),
            row.verified_detail.as_deref().unwrap_or_default(),
            row.found_confidence
        ),
    );
    row.confidence = 0;
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewSuggestion<'a> {
    pub prospect_id: i64,
    pub email: Option<&'a str>,
    pub alternatives: &'a [String],
    pub pattern: Option<&'a str>,
    pub confidence: u8,
    pub evidence: &'a [String],
    pub status: &'a str,
    pub reason: Option<&'a str>,
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// Write a suggestion. A suggestion the user accepted or edited is kept unless `force`.
pub fn upsert(conn: &Connection, s: &NewSuggestion<'_>, force: bool, now: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO suggestions (prospect_id, email, alternatives, pattern, confidence, evidence,
                                  status, reason, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(prospect_id) DO UPDATE SET email = excluded.email,
             alternatives = excluded.alternatives, pattern = excluded.pattern,
             confidence = excluded.confidence, evidence = excluded.evidence,
             status = excluded.status, reason = excluded.reason, updated_at = excluded.updated_at
         WHERE ?10 OR suggestions.status NOT IN ('accepted', 'edited')",
    )?
    .execute(params![
        s.prospect_id,
        s.email,
        json(&s.alternatives),
        s.pattern,
        s.confidence as i64,
        json(&s.evidence),
        s.status,
        s.reason,
        now,
        force
    ])?;
    Ok(())
}

/// The prospect already has a suggested (or accepted, or edited) address.
pub fn has_address(conn: &Connection, prospect_id: i64) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM suggestions WHERE prospect_id = ?1 AND email IS NOT NULL",
            [prospect_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The user keeps the suggested address (`a` on Suggestions, `hailer suggestions accept`).
/// A suggestion without an address is left alone (false): marked accepted, it would keep
/// the next find run from ever suggesting one.
pub fn accept(conn: &Connection, prospect_id: i64, now: i64) -> Result<bool> {
    let n = conn.execute(
        "UPDATE suggestions SET status = 'accepted', updated_at = ?2
         WHERE prospect_id = ?1 AND email IS NOT NULL",
        params![prospect_id, now],
    )?;
    Ok(n == 1)
}

/// What accepting a set of suggestions did, row by row (the CLI's `accept` and the TUI's
/// `a` count the same way).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AcceptReport {
    pub accepted: Vec<SuggestionRow>,
    /// Accepted or edited already: left as they were.
    pub already: Vec<i64>,
    /// Verified undeliverable, not accepted (only with `force`).
    pub undeliverable: Vec<SuggestionRow>,
    /// No such prospect, or no address to accept.
    pub no_address: Vec<i64>,
    /// Outbox rows built for the address the accepted one replaced (an imported address),
    /// now ERROR until a rebuild (see [`super::outbox::hold_changed_addresses`]).
    pub held: Vec<i64>,
}

impl AcceptReport {
    /// "accepted 3 suggestions; 1 already accepted; skipped 2 verified undeliverable: a@x.test
    /// (MAILBOX_NOT_FOUND), b@x.test (NO_MX)".
    pub fn summary(&self) -> String {
        let n = self.accepted.len();
        let mut line = format!("accepted {n} suggestion{}", if n == 1 { "" } else { "s" });
        if !self.already.is_empty() {
            line.push_str(&format!("; {} already accepted", self.already.len()));
        }
        if !self.no_address.is_empty() {
            line.push_str(&format!("; {} had no address", self.no_address.len()));
        }
        if !self.undeliverable.is_empty() {
            let names: Vec<String> = self
                .undeliverable
                .iter()
                .take(3)
                .map(SuggestionRow::address_and_verdict)
                .collect();
            let more = self.undeliverable.len().saturating_sub(names.len());
            line.push_str(&format!(
                "; skipped {} verified undeliverable: {}{}",
                self.undeliverable.len(),
                names.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ));
        }
        line
    }
}

/// Accept the suggested address of each of `ids`. An address verified undeliverable is
/// skipped unless `force` (the user asked for that one row explicitly).
pub fn accept_many(conn: &Connection, ids: &[i64], force: bool, now: i64) -> Result<AcceptReport> {
    let mut report = AcceptReport::default();
    let mut seen = std::collections::HashSet::new();
    for &id in ids {
        if !seen.insert(id) {
            continue;
        }
        // One row by its key, not the whole table: `a` on one row of 100k reads one.
        match get(conn, id)?.as_ref() {
            None => report.no_address.push(id),
            Some(r) if r.email.is_none() => report.no_address.push(id),
            Some(r) if matches!(r.status.as_str(), "accepted" | "edited") => {
                report.already.push(id)
            }
            Some(r) if r.undeliverable().is_some() && !force => {
                report.undeliverable.push(r.clone())
            }
            Some(r) => {
                if accept(conn, id, now)? {
                    let mut r = r.clone();
                    r.status = "accepted".into();
                    report.accepted.push(r);
                }
            }
        }
    }
    // An outbox row built for the imported address the accepted one replaces.
    let accepted: Vec<i64> = report.accepted.iter().map(|r| r.prospect_id).collect();
    report.held = super::outbox::hold_changed_addresses(conn, &accepted, now)?;
    Ok(report)
}

/// Back to `suggested` (`hailer suggestions reset`, `u` on Suggestions): an accepted or
/// edited address is no longer used by the outbox build until accepted again. The address
/// stays, so a typed one is not lost; `c` still reaches hailer's guess. False when the row
/// was not accepted or edited.
fn reset(conn: &Connection, prospect_id: i64, now: i64) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE suggestions SET status = 'suggested', updated_at = ?2
             WHERE prospect_id = ?1 AND status IN ('accepted', 'edited') AND email IS NOT NULL",
        )?
        .execute(params![prospect_id, now])?;
    Ok(n == 1)
}

/// What resetting a set of suggestions did (the CLI's `reset` and the TUI's `u` alike).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ResetReport {
    /// Back to `suggested`, in the order given, each once.
    pub reset: Vec<i64>,
    /// Ids given (each counted once) that were not accepted or edited.
    pub untouched: usize,
    /// Outbox rows built for the address no longer in use, now ERROR until a rebuild.
    pub held: Vec<i64>,
}

/// [`reset`] each of `ids` (call it inside a transaction: all or none).
pub fn reset_many(conn: &Connection, ids: &[i64], now: i64) -> Result<ResetReport> {
    let mut report = ResetReport::default();
    let mut seen = std::collections::HashSet::new();
    for &id in ids {
        if !seen.insert(id) {
            continue;
        }
        if reset(conn, id, now)? {
            report.reset.push(id);
        } else {
            report.untouched += 1;
        }
    }
    report.held = super::outbox::hold_changed_addresses(conn, &report.reset, now)?;
    Ok(report)
}

/// One prospect's suggestion as a hand choice starts from: the names, the company's domain
/// and what is stored now (all empty when find has made no suggestion yet).
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    pub firstname: String,
    pub lastname: String,
    pub domain: Option<String>,
    pub email: Option<String>,
    pub alternatives: Vec<String>,
    pub pattern: Option<String>,
    pub confidence: u8,
    pub evidence: Vec<String>,
}

pub fn current(conn: &Connection, prospect_id: i64) -> Result<Option<Current>> {
    Ok(conn
        .query_row(
            "SELECT p.firstname, p.lastname, COALESCE(c.domain, p.domain), s.email,
                    s.alternatives, s.pattern, s.confidence, s.evidence
             FROM prospects p
             LEFT JOIN suggestions s ON s.prospect_id = p.id
             LEFT JOIN companies c ON c.key = p.company_key
             WHERE p.id = ?1",
            [prospect_id],
            |r| {
                let alts: Option<String> = r.get(4)?;
                let ev: Option<String> = r.get(7)?;
                let list = |j: Option<String>| {
                    j.and_then(|j| serde_json::from_str(&j).ok())
                        .unwrap_or_default()
                };
                Ok(Current {
                    firstname: r.get(0)?,
                    lastname: r.get(1)?,
                    domain: r.get(2)?,
                    email: r.get(3)?,
                    alternatives: list(alts),
                    pattern: r.get(5)?,
                    confidence: r.get::<_, Option<i64>>(6)?.unwrap_or(0).clamp(0, 100) as u8,
                    evidence: list(ev),
                })
            },
        )
        .optional()?)
}

/// How a hand choice leaves the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChoiceStatus {
    /// Typed in (`e`, `suggestions set`): the user's own address, used as accepted.
    Edited,
    /// Browsed to (`c`, `suggestions next`): shown, not used until accepted.
    Suggested,
}

/// The user's choice of address with the pattern, confidence and evidence that go with it;
/// the suggestion is created when find has not made one yet.
pub fn set_choice(
    conn: &Connection,
    prospect_id: i64,
    choice: &Current,
    status: ChoiceStatus,
    now: i64,
) -> Result<bool> {
    let status = match status {
        ChoiceStatus::Edited => "edited",
        ChoiceStatus::Suggested => "suggested",
    };
    let n = conn.execute(
        "INSERT INTO suggestions (prospect_id, email, alternatives, pattern, confidence,
                                  evidence, status, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8, ?7)
         ON CONFLICT(prospect_id) DO UPDATE SET email = excluded.email,
             alternatives = excluded.alternatives, pattern = excluded.pattern,
             confidence = excluded.confidence, evidence = excluded.evidence,
             status = excluded.status, reason = NULL, updated_at = excluded.updated_at",
        params![
            prospect_id,
            choice.email,
            json(&choice.alternatives),
            choice.pattern,
            choice.confidence as i64,
            json(&choice.evidence),
            now,
            status
        ],
    )?;
    Ok(n == 1)
}

/// Why `domain` is known to take no mail (a null MX, no such domain), from find's domain
/// checks or a verification that found no MX; `None` when nothing says so.
pub fn takes_no_mail(conn: &Connection, domain: &str) -> Result<Option<String>> {
    let found: Option<String> = conn
        .query_row(
            "SELECT mail_dns FROM find_domains WHERE domain = ?1 COLLATE NOCASE
               AND accepts_mail = 0 AND mail_dns NOT LIKE 'DNS failed%' LIMIT 1",
            [domain],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(why) = found {
        return Ok(Some(format!("{domain}: {why}")));
    }
    let verified: Option<String> = conn
        .query_row(
            "SELECT detail FROM verifications WHERE status = 'NO_MX'
               AND lower(substr(email, instr(email, '@') + 1)) = lower(?1) LIMIT 1",
            [domain],
            |r| r.get(0),
        )
        .optional()?;
    Ok(verified.map(|why| format!("{domain}: verified NO_MX ({why})")))
}

/// A typed address teaches a company with no domain its domain (source `manual`, which
/// find keeps), so the next find guesses for its other prospects. True when it did.
pub fn adopt_company_domain(
    conn: &Connection,
    prospect_id: i64,
    domain: &str,
    now: i64,
) -> Result<bool> {
    if crate::engine::find::domain::is_personal_mail(domain) {
        return Ok(false);
    }
    let n = conn.execute(
        "UPDATE companies SET domain = ?2, domain_source = 'manual',
             domain_note = 'from the address typed for prospect ' || ?1, updated_at = ?3
         WHERE key = (SELECT company_key FROM prospects WHERE id = ?1) AND domain IS NULL",
        params![prospect_id, domain, now],
    )?;
    if n == 1 {
        // The cached "no domain found" answer would otherwise win for the cache's TTL.
        conn.execute(
            "DELETE FROM find_domains
             WHERE company_key = (SELECT company_key FROM prospects WHERE id = ?1)",
            [prospect_id],
        )?;
    }
    Ok(n == 1)
}

/// The addresses users typed in (`e`, `suggestions set`) by prospect id: find reads the
/// company's pattern from them as from imported ones. Not a row `c` chose before it stopped
/// accepting (status `edited` in older databases, its first evidence line naming `c`): that
/// is hailer's own guess,
/// and reading it as the user's would let hailer confirm itself.
pub fn typed_addresses(conn: &Connection) -> Result<std::collections::HashMap<i64, String>> {
    let mut stmt = conn.prepare(
        "SELECT prospect_id, email FROM suggestions WHERE status = 'edited' AND email IS NOT NULL
           AND COALESCE(json_extract(evidence, '$[0]'), '') NOT LIKE '%next alternative (c)%'",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The last inference (JSON) learned for `domain`, whatever its age and inputs.
pub fn last_inference(conn: &Connection, domain: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT inference FROM find_patterns WHERE domain = ?1 AND inference != ''",
            [domain],
            |r| r.get(0),
        )
        .optional()?)
}

/// A suggested (not yet accepted) address verified dead, with the alternatives to verify in
/// its place.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadChoice {
    pub prospect_id: i64,
    pub email: String,
    pub verdict: String,
    /// The first `max` alternatives worth a probe: at another domain than a first choice
    /// whose domain takes no mail (NO_MX), any for a dead mailbox.
    pub alternatives: Vec<String>,
}

/// The rows in `scope` still `suggested` whose address was verified undeliverable and that
/// have alternatives worth verifying (at most `max` each). Accepted and typed rows are the
/// user's choice and are left alone.
pub fn dead_first_choices(
    conn: &Connection,
    scope: &super::verifications::Scope,
    max: usize,
) -> Result<Vec<DeadChoice>> {
    let (cond, params) = scope.sql();
    let mut stmt = conn.prepare(&format!(
        "SELECT p.id, s.email, v.status, s.alternatives FROM prospects p
         JOIN suggestions s ON s.prospect_id = p.id
         JOIN verifications v ON v.email = s.email
         WHERE s.status = 'suggested' AND s.alternatives <> '[]' AND {cond}
         ORDER BY p.id"
    ))?;
    let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (prospect_id, email, verdict, alts) = row?;
        if !undeliverable_verdict(&verdict) {
            continue;
        }
        let domain = |e: &str| e.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase());
        let dead_domain = (verdict == "NO_MX").then(|| domain(&email)).flatten();
        let mut alternatives: Vec<String> = Vec::new();
        for a in serde_json::from_str::<Vec<String>>(&alts).unwrap_or_default() {
            if alternatives.len() == max {
                break;
            }
            // Another address at a domain with no MX is as dead as the first; one on the
            // suppression list is never probed (nor suggested: it is never mailed).
            if (dead_domain.is_none() || domain(&a) != dead_domain)
                && super::suppressions::blocking(conn, &a)?.is_none()
            {
                alternatives.push(a);
            }
        }
        if !alternatives.is_empty() {
            out.push(DeadChoice {
                prospect_id,
                email,
                verdict,
                alternatives,
            });
        }
    }
    Ok(out)
}

/// Every prospect with its suggestion (or none yet), in prospect order.
pub fn list(conn: &Connection) -> Result<Vec<SuggestionRow>> {
    rows(conn, "", [])
}

/// One prospect with its suggestion (or none yet), as [`list`] gives it.
pub fn get(conn: &Connection, prospect_id: i64) -> Result<Option<SuggestionRow>> {
    Ok(rows(conn, "WHERE p.id = ?1", [prospect_id])?.pop())
}

/// The rows of [`list`] that `filter` (a WHERE clause on `p`, or nothing) keeps.
fn rows(
    conn: &Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<SuggestionRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT p.id, p.firstname, p.lastname, p.company, p.company_key,
                COALESCE(c.domain, p.domain), s.email, s.alternatives, s.pattern,
                s.confidence, s.evidence, s.status, s.reason, v.status,
                CASE WHEN v.status IS NULL THEN NULL ELSE
                  TRIM(COALESCE('MX ' || v.mx || ' ', '') || COALESCE(v.code || ' ', '')
                       || COALESCE(v.enhanced || ' ', '') || v.detail) END,
                NULLIF(trim(p.email), '')
         FROM prospects p
         LEFT JOIN companies c ON c.key = p.company_key
         LEFT JOIN suggestions s ON s.prospect_id = p.id
         LEFT JOIN verifications v ON v.email = s.email
         {filter}
         ORDER BY p.id"
    ))?;
    let rows = stmt.query_map(params, |r| {
        let alts: Option<String> = r.get(7)?;
        let ev: Option<String> = r.get(10)?;
        Ok(SuggestionRow {
            prospect_id: r.get(0)?,
            firstname: r.get(1)?,
            lastname: r.get(2)?,
            company: r.get(3)?,
            company_key: r.get(4)?,
            domain: r.get(5)?,
            email: r.get(6)?,
            alternatives: alts
                .and_then(|a| serde_json::from_str(&a).ok())
                .unwrap_or_default(),
            pattern: r.get(8)?,
            confidence: r.get::<_, Option<i64>>(9)?.unwrap_or(0),
            evidence: ev
                .and_then(|a| serde_json::from_str(&a).ok())
                .unwrap_or_default(),
            status: r
                .get::<_, Option<String>>(11)?
                .unwrap_or_else(|| "pending".into()),
            reason: r.get(12)?,
            verified: r.get(13)?,
            verified_detail: r.get(14)?,
            found_confidence: r.get::<_, Option<i64>>(9)?.unwrap_or(0),
            imported_email: r.get(15)?,
        })
    })?;
    let mut rows: Vec<SuggestionRow> = rows.collect::<rusqlite::Result<_>>()?;
    rows.iter_mut().for_each(apply_verdict);
    Ok(rows)
}

#[derive(Debug, Clone, PartialEq)]
pub struct CachedDomain {
    pub domain: Option<String>,
    pub source: Option<String>,
    pub note: String,
    pub mail_dns: String,
    pub accepts_mail: bool,
}

pub fn cached_domain(
    conn: &Connection,
    key: &str,
    fresh_after: i64,
) -> Result<Option<CachedDomain>> {
    Ok(conn
        .query_row(
            "SELECT domain, source, note, mail_dns, accepts_mail FROM find_domains
             WHERE company_key = ?1 AND checked_at >= ?2",
            params![key, fresh_after],
            |r| {
                Ok(CachedDomain {
                    domain: r.get(0)?,
                    source: r.get(1)?,
                    note: r.get(2)?,
                    mail_dns: r.get(3)?,
                    accepts_mail: r.get(4)?,
                })
            },
        )
        .optional()?)
}

/// Cache the domain result ([`set_company_domain`] records it on the company).
pub fn put_domain(conn: &Connection, key: &str, d: &CachedDomain, now: i64) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO find_domains (company_key, domain, source, note, mail_dns,
                                              accepts_mail, checked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            key,
            d.domain,
            d.source,
            d.note,
            d.mail_dns,
            d.accepts_mail,
            now
        ],
    )?;
    Ok(())
}

/// The company's domain as found (a search or a guess), also when the answer is not cached
/// (the search failed: the next run asks again). A domain the user gave stays.
pub fn set_company_domain(conn: &Connection, key: &str, d: &CachedDomain, now: i64) -> Result<()> {
    if d.domain.is_some() {
        conn.execute(
            "UPDATE companies SET domain = ?2, domain_source = ?3, domain_note = ?4, updated_at = ?5
             WHERE key = ?1 AND (domain IS NULL OR domain_source NOT IN ('import', 'manual'))",
            params![key, d.domain, d.source, d.note, now],
        )?;
    }
    Ok(())
}

pub fn cached_site(conn: &Connection, domain: &str, fresh_after: i64) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT report FROM find_sites WHERE domain = ?1 AND fetched_at >= ?2",
            params![domain, fresh_after],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn put_site(conn: &Connection, domain: &str, report_json: &str, now: i64) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO find_sites (domain, report, fetched_at) VALUES (?1, ?2, ?3)",
        params![domain, report_json, now],
    )?;
    Ok(())
}

/// A learned pattern for `domain`: the summary columns for people and the full inference
/// (JSON) for reuse, keyed by a fingerprint of what it was learned from.
pub struct PatternRow<'a> {
    pub domain: &'a str,
    pub pattern: &'a str,
    pub confidence: u8,
    pub evidence: &'a [String],
    pub inputs: &'a str,
    pub inference_json: &'a str,
}

pub fn put_pattern(conn: &Connection, row: &PatternRow, now: i64) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO find_patterns
           (domain, pattern, confidence, evidence, updated_at, inputs, inference)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            row.domain,
            row.pattern,
            row.confidence as i64,
            json(&row.evidence),
            now,
            row.inputs,
            row.inference_json
        ],
    )?;
    Ok(())
}

/// The inference (JSON) cached for `domain`, when it is fresh and was learned from `inputs`.
pub fn cached_pattern(
    conn: &Connection,
    domain: &str,
    inputs: &str,
    fresh_after: i64,
) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT inference FROM find_patterns
             WHERE domain = ?1 AND inputs = ?2 AND updated_at >= ?3 AND inference != ''",
            params![domain, inputs, fresh_after],
            |r| r.get(0),
        )
        .optional()?)
}
