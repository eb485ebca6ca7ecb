//! Loading table rows from the store (run on the blocking pool, never on the UI thread).

use std::path::Path;

use std::collections::HashMap;

use super::table::TableRow;
use crate::engine::notify::summary::{self, Bucket, Campaign};
use crate::store::{Store, StoreError};

pub fn load_prospects(data_dir: &Path) -> Result<Vec<TableRow>, StoreError> {
    use crate::store::prospects::{ADDRESS_IN_USE, ADDRESS_SOURCE};
    let store = Store::open_in(data_dir)?;
    // The address shown is the one a message would go to (an accepted suggestion before the
    // imported address), and its verdict is that address's.
    let mut stmt = store.conn().prepare(&format!(
        "SELECT id, firstname, lastname, company, COALESCE(address, ''), COALESCE(v.status, ''),
                domain, title, extra, source,
                CASE WHEN lower(imported) <> lower(address) THEN imported END
         FROM (SELECT p.id, p.firstname, p.lastname, p.company, {ADDRESS_IN_USE} AS address,
                      COALESCE(p.domain, c.domain, '') AS domain, COALESCE(p.title, '') AS title,
                      p.extra, {ADDRESS_SOURCE} AS source, p.email AS imported
               FROM prospects p LEFT JOIN companies c ON c.key = p.company_key)
         LEFT JOIN verifications v ON v.email = address
         ORDER BY id"
    ))?;
    let rows = stmt.query_map([], |r| {
        let cells = (1..=7)
            .map(|i| r.get::<_, String>(i))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let extra: String = r.get(8)?;
        let source: Option<String> = r.get(9)?;
        let imported: Option<String> = r.get(10)?;
        Ok(
            TableRow::new(r.get(0)?, cells).with_extra(&with_address_origin(
                &extra,
                source.as_deref(),
                imported.as_deref(),
            )),
        )
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The prospect's extra columns, plus where its address comes from when that is a
/// suggestion, and the imported address it stands in for, if any: the detail view then says
/// why the table shows an address the file did not have.
fn with_address_origin(extra: &str, source: Option<&str>, imported: Option<&str>) -> String {
    let origin = match source {
        Some("accepted") => "accepted suggestion",
        Some("edited") => "suggestion edited by hand",
        _ => return extra.to_string(),
    };
    let mut map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(extra).unwrap_or_default();
    map.insert("Address from".into(), origin.into());
    if let Some(imported) = imported {
        map.insert("Imported address".into(), imported.into());
    }
    serde_json::Value::Object(map).to_string()
}

/// Enter on an Outbox row: its status and reason, the suppression entry that blocks its
/// address (the list blocks it whatever the row's status says, e.g. an unsubscribe after a
/// soft bounce), then the message as it will be (or was) sent. `None`: no such row.
pub fn preview(
    data_dir: &Path,
    id: i64,
    config: &crate::config::Config,
) -> Result<Option<String>, StoreError> {
    let store = Store::open_in(data_dir)?;
    let Some(row) = crate::store::outbox::get(store.conn(), id)? else {
        return Ok(None);
    };
    let mut text = format!(
        "[{}{}] {}\n",
        row.status,
        if row.approved { ", approved" } else { "" },
        row.reason.as_deref().unwrap_or("")
    );
    if let Some(email) = row.email.as_deref()
        && let Some(l) = crate::store::suppressions::blocking(store.conn(), email)?
    {
        text.push_str(&format!(
            "suppressed: {}: never mailed again\n",
            l.describe()
        ));
    }
    text.push('\n');
    text.push_str(&crate::engine::outbox::compose::preview(&row, config));
    Ok(Some(text))
}

pub fn load_messages(data_dir: &Path) -> Result<Vec<TableRow>, StoreError> {
    let store = Store::open_in(data_dir)?;
    let mut stmt = store
        .conn()
        .prepare("SELECT id, company, subject, body, extra FROM messages ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        let cells = (1..=3)
            .map(|i| r.get::<_, String>(i))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let extra: String = r.get(4)?;
        Ok(TableRow::new(r.get(0)?, cells).with_extra(&extra))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn load_outbox(data_dir: &Path) -> Result<Vec<TableRow>, StoreError> {
    let store = Store::open_in(data_dir)?;
    let rows = crate::store::outbox::list(store.conn(), None)?;
    let stats = outbox_stats(store.conn())?;
    let snippets = crate::store::inbox::latest_snippets(store.conn())?;
    Ok(rows
        .into_iter()
        .map(|o| {
            let mut note = o
                .reason
                .clone()
                .or_else(|| o.smtp_reply.clone())
                .unwrap_or_default();
            // What the person wrote, on one line (`r` shows it whole).
            if let Some(s) = snippets.get(&o.id) {
                let line = s.split_whitespace().collect::<Vec<_>>().join(" ");
                note = if note.is_empty() {
                    line
                } else {
                    format!("{note}: {line}")
                };
            }
            let extra = serde_json::json!({
                "Name": format!("{} {}", o.firstname, o.lastname),
                "Mailbox": o.mailbox.clone().unwrap_or_default(),
                "Message-ID": o.header_message_id.clone().unwrap_or_default(),
                "Attempts": o.attempts.to_string(),
            });
            TableRow::new(
                o.id,
                vec![
                    o.status.to_string(),
                    if o.approved {
                        "✓".into()
                    } else {
                        String::new()
                    },
                    o.email.unwrap_or_default(),
                    o.company,
                    o.subject,
                    counts_cell(o.status.as_str(), stats.per_row.get(&o.id)),
                    note,
                ],
            )
            .with_extra(&extra.to_string())
        })
        .collect())
}

/// The replies read for Outbox row `id` (newest last), for `r`: when, what, who, how it
/// was matched, and what they wrote. `None` when none was read.
pub fn replies_text(data_dir: &Path, id: i64) -> Result<Option<String>, StoreError> {
    let store = Store::open_in(data_dir)?;
    let replies = crate::store::inbox::replies_to(store.conn(), id)?;
    if replies.is_empty() {
        return Ok(None);
    }
    let blocks: Vec<String> = replies
        .iter()
        .map(|r| {
            let when = chrono::DateTime::from_timestamp(r.processed_at, 0)
                .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default();
            let mut text = format!(
                "{when} · {} from {}\nSubject: {}\n",
                r.kind,
                r.from_addr.as_deref().unwrap_or("?"),
                r.subject
            );
            if !r.matched_by.is_empty() {
                text.push_str(&format!("Matched {}\n", r.matched_by));
            }
            text.push('\n');
            text.push_str(if r.snippet.is_empty() {
                "(no text kept: read before hailer kept what replies say)"
            } else {
                &r.snippet
            });
            text
        })
        .collect();
    Ok(Some(blocks.join("\n\n────────\n\n")))
}

/// Suggestions tab: one row per prospect (id = prospect id); evidence, alternatives and the
/// reason go to the detail view (Enter).
pub fn load_suggestions(data_dir: &Path) -> Result<Vec<TableRow>, StoreError> {
    let store = Store::open_in(data_dir)?;
    let rows = crate::store::suggestions::list(store.conn())?;
    Ok(rows
        .into_iter()
        .map(|s| {
            // Rounded, not up: 1% is no block, 81% four of five, 97% five.
            let filled = ((s.confidence.clamp(0, 100) as usize + 10) / 20).min(5);
            let bar = if s.email.is_some() {
                format!(
                    "{:>3} {}{}",
                    s.confidence,
                    "█".repeat(filled),
                    "·".repeat(5 - filled)
                )
            } else {
                String::new()
            };
            let mut extra = serde_json::Map::new();
            extra.insert("company key".into(), s.company_key.clone().into());
            if !s.alternatives.is_empty() {
                extra.insert("alternatives".into(), s.alternatives.join(", ").into());
            }
            if let Some(imported) = &s.imported_email {
                extra.insert(
                    crate::tui::app::IMPORTED_ADDRESS.into(),
                    imported.clone().into(),
                );
            }
            // The verdict itself is the Verified column: the record adds only what decided it.
            if let (Some(_), Some(d)) = (&s.verified, &s.verified_detail) {
                extra.insert("verdict detail".into(), d.clone().into());
            }
            for (i, e) in s.evidence.iter().enumerate() {
                extra.insert(format!("evidence {:02}", i + 1), e.clone().into());
            }
            // Shown in place of a missing address (and in the record): why there is none,
            // and the address the import gave, which `e` starts from.
            let note = [
                s.imported_email.as_ref().map(|e| format!("imported {e}")),
                s.reason.as_ref().map(|r| format!("{}: {r}", s.status)),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("; ");
            TableRow::new(
                s.prospect_id,
                vec![
                    format!("{} {}", s.firstname, s.lastname),
                    s.company,
                    s.domain.unwrap_or_default(),
                    s.email.unwrap_or_default(),
                    bar,
                    s.pattern.unwrap_or_default(),
                    s.status,
                    s.verified.unwrap_or_default(),
                    note,
                ],
            )
            .with_extra(&serde_json::Value::Object(extra).to_string())
        })
        .collect())
}

/// Tracking figures for the Outbox tab: per-row opens, clicks and replies, and the campaign
/// summary line. Aggregate queries only (one pass over tracking_events grouped by row), so a
/// refresh stays cheap with 100k rows and does not reload the rows themselves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutboxStats {
    pub per_row: HashMap<i64, RowCounts>,
    pub campaign: Campaign,
}

pub use crate::store::engagement::RowCounts;

pub fn load_outbox_stats(data_dir: &Path) -> Result<OutboxStats, StoreError> {
    let store = Store::open_in(data_dir)?;
    outbox_stats(store.conn())
}

pub fn outbox_stats(conn: &rusqlite::Connection) -> Result<OutboxStats, StoreError> {
    Ok(OutboxStats {
        per_row: crate::store::engagement::per_row(conn)?,
        campaign: summary::campaign(conn)?,
    })
}

/// The Outbox's "O/C/R" cell: empty for rows never sent; a status in the Replied bucket
/// counts as one reply when no reply message was recorded (replies marked by hand).
pub fn counts_cell(status: &str, c: Option<&RowCounts>) -> String {
    let c = c.copied().unwrap_or_default();
    let replied = summary::buckets(status).contains(&Bucket::Replied);
    let replies = if replied { c.replies.max(1) } else { c.replies };
    let sent = summary::buckets(status).contains(&Bucket::Sent);
    if !sent && c == RowCounts::default() {
        return String::new();
    }
    format!("{}/{}/{}", c.opens, c.clicks, replies)
}

/// What the poll reads every few seconds, so another process (`hailer serve`, a send or a
/// `mailbox pause` from a shell) shows up: the outbox's [`outbox_stamp`], and the paused
/// mailboxes (a handful of rows), which Settings and Bounces show.
pub struct Poll {
    pub stamp: (i64, (i64, i64, i64)),
    pub paused: Vec<crate::store::pauses::Pause>,
}

/// One store opened for both reads (the poll runs every two seconds).
pub fn poll(data_dir: &Path) -> Result<Poll, StoreError> {
    let store = Store::open_in(data_dir)?;
    Ok(Poll {
        stamp: outbox_stamp(store.conn())?,
        paused: crate::store::pauses::list(store.conn())?,
    })
}

/// What changes when the Outbox must be refreshed: the newest tracking event (an index
/// lookup) and the rows' update times (one pass over a column; milliseconds at 100k rows).
fn outbox_stamp(c: &rusqlite::Connection) -> Result<(i64, (i64, i64, i64)), StoreError> {
    let events: i64 = c.query_row(
        "SELECT COALESCE(MAX(id), 0) FROM tracking_events",
        [],
        |r| r.get(0),
    )?;
    let rows: (i64, i64, i64) = c.query_row(
        "SELECT COALESCE(MAX(updated_at), 0), COALESCE(SUM(updated_at), 0), COUNT(*) FROM outbox",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    Ok((events, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suggestions;

    /// The Prospects tab shows the address a message would go to: an accepted suggestion
    /// before the imported address, and says so in the detail view, with the imported one.
    #[test]
    fn prospects_show_the_address_in_use_and_where_it_comes_from() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        store
            .conn()
            .execute_batch(
                "INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'Acme', 0);
                 INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key,
                                        email, extra, created_at)
                 VALUES (1, 'Ann', 'Doe', 'Acme', 'acme', 'ann doe', 'ann@old.test', '{}', 0),
                        (2, 'Bob', 'Roe', 'Acme', 'acme', 'bob roe', 'bob@acme.test', '{}', 0);",
            )
            .unwrap();
        suggestions::upsert(
            store.conn(),
            &suggestions::NewSuggestion {
                prospect_id: 1,
                email: Some("ann.doe@acme.test"),
                alternatives: &[],
                pattern: Some("first.last"),
                confidence: 90,
                evidence: &[],
                status: "suggested",
                reason: None,
            },
            true,
            0,
        )
        .unwrap();
        let email = |rows: &[TableRow], i: usize| rows[i].cells[3].clone();
        let rows = load_prospects(dir.path()).unwrap();
        // Suggested only: the imported address is still the one in use.
        assert_eq!(email(&rows, 0), "ann@old.test");
        assert_eq!(rows[0].extra, None);

        assert!(suggestions::accept(store.conn(), 1, 1).unwrap());
        let rows = load_prospects(dir.path()).unwrap();
        assert_eq!(email(&rows, 0), "ann.doe@acme.test");
        let extra: serde_json::Value =
            serde_json::from_str(rows[0].extra.as_deref().unwrap()).unwrap();
        assert_eq!(extra["Address from"], "accepted suggestion");
        assert_eq!(extra["Imported address"], "ann@old.test");
        assert_eq!(email(&rows, 1), "bob@acme.test");
        assert_eq!(rows[1].extra, None);
    }

    /// The record gives the verdict once (the Verified column) and what decided it beside
    /// it, not the verdict again in another case.
    #[test]
    fn a_suggestions_record_gives_the_verdict_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        store
            .conn()
            .execute_batch(
                "INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'Acme', 0);
                 INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key,
                                        extra, created_at)
                 VALUES (1, 'Ann', 'Doe', 'Acme', 'acme', 'ann doe', '{}', 0);
                 INSERT INTO verifications (email, status, mx, code, enhanced, detail, checked_at)
                 VALUES ('ann.doe@acme.test', 'VALID', 'mx.acme.test', 250, '2.1.5', 'Ok', 0);",
            )
            .unwrap();
        suggestions::upsert(
            store.conn(),
            &suggestions::NewSuggestion {
                prospect_id: 1,
                email: Some("ann.doe@acme.test"),
                alternatives: &[],
                pattern: Some("first.last"),
                confidence: 90,
                evidence: &[],
                status: "suggested",
                reason: None,
            },
            true,
            0,
        )
        .unwrap();
        let rows = load_suggestions(dir.path()).unwrap();
        assert_eq!(rows[0].cells[7], "VALID");
        let extra: serde_json::Value =
            serde_json::from_str(rows[0].extra.as_deref().unwrap()).unwrap();
        assert_eq!(extra.get("verified"), None);
        assert_eq!(extra["verdict detail"], "MX mx.acme.test 250 2.1.5 Ok");
    }

    /// The preview says when the row's address is on the suppression list, with the cause:
    /// an unsubscribe after a soft bounce is seen on the row, not only in `suppress list`.
    #[test]
    fn the_preview_names_the_suppression_that_blocks_the_address() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        store
            .conn()
            .execute_batch(
                "INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'Acme', 0);
                 INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key,
                                        created_at)
                 VALUES (1, 'Ann', 'Doe', 'Acme', 'acme', 'ann doe', 0);
                 INSERT INTO outbox (id, prospect_id, email, company_key, subject, body, status,
                                     reason, created_at, updated_at)
                 VALUES (1, 1, 'ann@acme.test', 'acme', 'Hi', 'Hello', 'BOUNCED',
                         'soft: mailboxfull 4.2.2', 0, 0);",
            )
            .unwrap();
        let config = crate::config::Config::default();
        let before = preview(dir.path(), 1, &config).unwrap().unwrap();
        assert!(
            before.starts_with("[BOUNCED] soft: mailboxfull 4.2.2\n\n"),
            "{before}"
        );
        crate::store::suppressions::add(
            store.conn(),
            "ann@acme.test",
            "unsubscribed",
            Some("one-click, outbox row 1"),
            86_400,
        )
        .unwrap();
        let after = preview(dir.path(), 1, &config).unwrap().unwrap();
        assert!(
            after.contains(
                "suppressed: ann@acme.test (unsubscribed: one-click, outbox row 1) since \
                 1970-01-02: never mailed again\n"
            ),
            "{after}"
        );
        assert_eq!(preview(dir.path(), 9, &config).unwrap(), None);
    }
}
