//! The suppression list: addresses (and whole `@domain`s) hailer never mails, with the cause
//! and date of each entry. Bounces, unsubscribes and complaints add to it; so can the user.

use rusqlite::{Connection, params};

use super::Result;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Suppression {
    pub entry: String,
    pub cause: String,
    pub note: Option<String>,
    pub created_at: i64,
}

impl Suppression {
    /// `jane@acme.test (bounced: userunknown 5.1.1) since 2026-12-07`
    pub fn describe(&self) -> String {
        let since = chrono::DateTime::from_timestamp(self.created_at, 0)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        format!(
            "{} ({}{}) since {since}",
            self.entry,
            self.cause,
            self.note
                .as_deref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default()
        )
    }
}

/// Add an entry; returns `false` when it was already there, also in the other spelling of an
/// international domain (`@xn--caf-dma.test` for `@café.test`, which [`blocking`] and
/// [`remove`] treat as one entry): the first entry's cause, note and date are kept.
pub fn add(
    conn: &Connection,
    entry: &str,
    cause: &str,
    note: Option<&str>,
    now: i64,
) -> Result<bool> {
    let forms = spellings(entry);
    // One statement: the check and the insert cannot be split by another writer.
    let marks = (5..5 + forms.len())
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut values: Vec<&dyn rusqlite::ToSql> = vec![&entry, &cause, &note, &now];
    values.extend(forms.iter().map(|f| f as &dyn rusqlite::ToSql));
    let n = conn.execute(
        &format!(
            "INSERT INTO suppressions (entry, cause, note, created_at)
             SELECT ?1, ?2, ?3, ?4
             WHERE NOT EXISTS (SELECT 1 FROM suppressions WHERE entry IN ({marks}))
             ON CONFLICT(entry) DO NOTHING"
        ),
        values.as_slice(),
    )?;
    Ok(n == 1)
}

/// The person asked to be taken off the list (one-click, the unsubscribe mailto, "remove
/// me"): the address is suppressed as `unsubscribed`. An entry already there for another
/// cause (a reply, a bounce, by hand) takes this one, its old cause kept in the note: an
/// opt-out is the record that must show. A complaint stays a complaint. `true` when the
/// list changed.
pub fn unsubscribe(conn: &Connection, address: &str, note: &str, now: i64) -> Result<bool> {
    let address = address.to_lowercase();
    if add(conn, &address, "unsubscribed", Some(note), now)? {
        return Ok(true);
    }
    let Some(old) = existing(conn, &address)? else {
        return Ok(false);
    };
    if matches!(old.cause.as_str(), "unsubscribed" | "complained") {
        return Ok(false);
    }
    let was = match &old.note {
        Some(n) => format!("{note} (was: {}: {n})", old.cause),
        None => format!("{note} (was: {})", old.cause),
    };
    Ok(conn.execute(
        "UPDATE suppressions SET cause = 'unsubscribed', note = ?2 WHERE entry = ?1",
        params![old.entry, was],
    )? == 1)
}

/// The entry stored for `entry`, in whichever spelling of its domain it was added.
pub fn existing(conn: &Connection, entry: &str) -> Result<Option<Suppression>> {
    for form in spellings(entry) {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM suppressions WHERE entry = ?1"
        ))?;
        let mut rows = stmt.query_map([&form], from_row)?;
        if let Some(row) = rows.next() {
            return Ok(Some(row?));
        }
    }
    Ok(None)
}

/// Remove an entry; returns `false` when it was not there. An international domain is
/// removed in both spellings, as [`blocking`] matches both: `@café.test` also removes an
/// `@xn--caf-dma.test` entry that an unsubscribe or a bounce added, which would otherwise go
/// on blocking the domain after "removed".
pub fn remove(conn: &Connection, entry: &str) -> Result<bool> {
    let mut removed = 0;
    for form in &spellings(entry) {
        removed += conn.execute("DELETE FROM suppressions WHERE entry = ?1", [form])?;
    }
    Ok(removed > 0)
}

/// `entry` (an address or an `@domain`) in every spelling of its domain, as written first.
fn spellings(entry: &str) -> Vec<String> {
    let mut forms = vec![entry.to_string()];
    if let Some((local, domain)) = entry.rsplit_once('@') {
        forms.extend(
            domain_spellings(domain)
                .into_iter()
                .map(|d| format!("{local}@{d}"))
                .filter(|f| f != entry),
        );
    }
    forms
}

/// The columns every query here selects, in this order.
const COLUMNS: &str = "entry, cause, note, created_at";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Suppression> {
    Ok(Suppression {
        entry: r.get(0)?,
        cause: r.get(1)?,
        note: r.get(2)?,
        created_at: r.get(3)?,
    })
}

pub fn list(conn: &Connection) -> Result<Vec<Suppression>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM suppressions ORDER BY entry"
    ))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The entry that blocks `address` (the address itself, its domain, or a parent domain: `@acme.test`
/// covers `eu.acme.test` too, since a company that asked not to be mailed meant all of it), if any.
///
/// An international domain matches in either spelling: `café.test` is mailed as
/// `xn--caf-dma.test`, and an unsubscribe or a bounce may give either form.
pub fn blocking(conn: &Connection, address: &str) -> Result<Option<Suppression>> {
    let address = address.to_lowercase();
    let mut candidates = vec![address.clone()];
    if let Some((local, domain)) = address.rsplit_once('@') {
        for domain in domain_spellings(domain) {
            candidates.push(format!("{local}@{domain}"));
            // `eu.acme.test` → `@eu.acme.test`, `@acme.test`; never a bare TLD (entries need
            // a dot).
            let mut d = domain.as_str();
            while d.contains('.') {
                candidates.push(format!("@{d}"));
                d = d.split_once('.').map_or("", |(_, rest)| rest);
            }
        }
    }
    candidates.sort();
    candidates.dedup();
    // A handful of rows at most; the most specific entry (the longest) wins here rather than
    // with ORDER BY, which SQLite runs through a temporary b-tree with a page cache of its own,
    // set up and freed on every call: most of the cost of this check, which the sender runs
    // once per message.
    let marks = vec!["?"; candidates.len()].join(", ");
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM suppressions WHERE entry IN ({marks})"
    ))?;
    let rows = stmt.query_map(rusqlite::params_from_iter(&candidates), from_row)?;
    let mut found: Option<Suppression> = None;
    for row in rows {
        let row = row?;
        if found
            .as_ref()
            .is_none_or(|f| row.entry.len() > f.entry.len())
        {
            found = Some(row);
        }
    }
    Ok(found)
}

/// `domain` as written, in its ASCII (A-label) form and in its Unicode form, without
/// repeats; a form that cannot be made is left out.
fn domain_spellings(domain: &str) -> Vec<String> {
    let mut forms = vec![domain.to_string()];
    // Nearly every domain is plain ASCII with no A-label: it is its only spelling, and the
    // sender asks this once per message, so no IDNA pass.
    if domain.is_ascii() && !domain.contains("xn--") {
        return forms;
    }
    if let Ok(ascii) = idna::domain_to_ascii(domain) {
        forms.push(ascii);
    }
    let (unicode, errors) = idna::domain_to_unicode(domain);
    if errors.is_ok() {
        forms.push(unicode);
    }
    forms.sort();
    forms.dedup();
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An opt-out is the record that must show: an address suppressed because it replied
    /// becomes `unsubscribed` when the person unsubscribes, its old cause in the note; a
    /// complaint stays a complaint, and a second unsubscribe changes nothing.
    #[test]
    fn an_unsubscribe_takes_over_a_reply_but_not_a_complaint() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open_in(dir.path()).unwrap();
        let c = store.conn();
        assert!(add(c, "ann@acme.test", "replied", Some("Re: Hello"), 1).unwrap());
        assert!(add(c, "bob@acme.test", "complained", None, 1).unwrap());
        assert!(unsubscribe(c, "Ann@acme.test", "one-click, outbox row 4", 2).unwrap());
        let ann = existing(c, "ann@acme.test").unwrap().unwrap();
        assert_eq!(ann.cause, "unsubscribed");
        assert_eq!(
            ann.note.as_deref(),
            Some("one-click, outbox row 4 (was: replied: Re: Hello)")
        );
        assert_eq!(ann.created_at, 1, "suppressed since the reply");
        assert!(!unsubscribe(c, "ann@acme.test", "again", 3).unwrap());
        assert!(!unsubscribe(c, "bob@acme.test", "one-click", 3).unwrap());
        assert_eq!(
            existing(c, "bob@acme.test").unwrap().unwrap().cause,
            "complained"
        );
        assert!(unsubscribe(c, "cid@acme.test", "email: stop", 3).unwrap());
        assert_eq!(
            existing(c, "cid@acme.test").unwrap().unwrap().cause,
            "unsubscribed"
        );
    }

    /// An accented domain is mailed in its ASCII form: an entry in either spelling blocks
    /// an address in the other.
    #[test]
    fn an_international_domain_matches_in_both_spellings() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open_in(dir.path()).unwrap();
        let c = store.conn();
        assert!(add(c, "@xn--caf-dma.test", "manual", None, 1).unwrap());
        assert!(add(c, "léa@société.test", "unsubscribed", None, 1).unwrap());
        assert_eq!(
            blocking(c, "jean@café.test").unwrap().unwrap().entry,
            "@xn--caf-dma.test"
        );
        assert_eq!(
            blocking(c, "jean@eu.CAFÉ.test").unwrap().unwrap().entry,
            "@xn--caf-dma.test"
        );
        let ascii = format!("léa@{}", idna::domain_to_ascii("société.test").unwrap());
        assert_eq!(blocking(c, &ascii).unwrap().unwrap().cause, "unsubscribed");
        assert!(blocking(c, "other@société.test").unwrap().is_none());
        // Removed in the other spelling, the entry no longer blocks.
        assert!(remove(c, "@café.test").unwrap());
        assert!(blocking(c, "jean@café.test").unwrap().is_none());
        assert!(remove(c, &ascii).unwrap());
        assert!(blocking(c, "léa@société.test").unwrap().is_none());
        assert!(!remove(c, "@café.test").unwrap());
        assert!(list(c).unwrap().is_empty());
    }

    /// An entry in the other spelling of an international domain is the same entry: adding it
    /// again changes nothing, and the first one keeps its cause, note and date.
    #[test]
    fn adding_the_other_spelling_of_an_entry_keeps_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open_in(dir.path()).unwrap();
        let c = store.conn();
        assert!(add(c, "@café.test", "manual", Some("competitor"), 1).unwrap());
        assert!(!add(c, "@xn--caf-dma.test", "bounced", None, 2).unwrap());
        let ascii = format!("léa@{}", idna::domain_to_ascii("société.test").unwrap());
        assert!(add(c, &ascii, "unsubscribed", None, 3).unwrap());
        assert!(!add(c, "léa@société.test", "manual", Some("again"), 4).unwrap());
        assert_eq!(
            list(c).unwrap(),
            [
                Suppression {
                    entry: "@café.test".into(),
                    cause: "manual".into(),
                    note: Some("competitor".into()),
                    created_at: 1,
                },
                Suppression {
                    entry: ascii.clone(),
                    cause: "unsubscribed".into(),
                    note: None,
                    created_at: 3,
                },
            ]
        );
        assert_eq!(
            existing(c, "@xn--caf-dma.test").unwrap().unwrap().entry,
            "@café.test"
        );
        assert_eq!(
            existing(c, "léa@société.test").unwrap().unwrap().entry,
            ascii
        );
        assert!(existing(c, "@other.test").unwrap().is_none());
        // Another address at the domain is its own entry.
        assert!(add(c, "jean@xn--caf-dma.test", "manual", None, 5).unwrap());
    }

    #[test]
    fn address_and_domain_entries_block() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open_in(dir.path()).unwrap();
        let c = store.conn();
        assert!(add(c, "jane@acme.test", "manual", None, 1).unwrap());
        assert!(!add(c, "jane@acme.test", "bounced", None, 2).unwrap());
        assert!(add(c, "@blocked.test", "manual", Some("competitor"), 3).unwrap());
        assert_eq!(
            blocking(c, "JANE@acme.test").unwrap().unwrap().cause,
            "manual"
        );
        assert_eq!(
            blocking(c, "x@blocked.test").unwrap().unwrap().entry,
            "@blocked.test"
        );
        assert!(blocking(c, "john@acme.test").unwrap().is_none());
        // A domain entry covers its subdomains, not a domain that merely ends the same way.
        assert_eq!(
            blocking(c, "x@eu.mail.blocked.test")
                .unwrap()
                .unwrap()
                .entry,
            "@blocked.test"
        );
        assert!(blocking(c, "x@notblocked.test").unwrap().is_none());
        assert!(add(c, "@eu.blocked.test", "bounced", None, 3).unwrap());
        assert_eq!(
            blocking(c, "x@eu.blocked.test").unwrap().unwrap().cause,
            "bounced",
            "the most specific entry is the one reported"
        );
        assert!(remove(c, "@eu.blocked.test").unwrap());
        // Both the address and its domain: the address's own entry is the one reported,
        // whichever SQLite returns first.
        assert!(add(c, "ann@blocked.test", "unsubscribed", None, 4).unwrap());
        let both = blocking(c, "Ann@blocked.test").unwrap().unwrap();
        assert_eq!(
            (both.entry.as_str(), both.cause.as_str()),
            ("ann@blocked.test", "unsubscribed")
        );
        assert!(remove(c, "ann@blocked.test").unwrap());
        assert!(remove(c, "jane@acme.test").unwrap());
        assert!(blocking(c, "jane@acme.test").unwrap().is_none());
        assert_eq!(list(c).unwrap().len(), 1);
    }
}
