//! Loading table rows from the store (run on the blocking pool, never on the UI thread).

use std::path::Path;

use super::table::TableRow;
use crate::store::{Store, StoreError};

pub fn load_prospects(data_dir: &Path) -> Result<Vec<TableRow>, StoreError> {
    let store = Store::open_in(data_dir)?;
    let mut stmt = store.conn().prepare(
        "SELECT p.id, p.firstname, p.lastname, p.company, COALESCE(p.email, ''),
                COALESCE(v.status, ''), COALESCE(p.domain, c.domain, ''), COALESCE(p.title, ''),
                p.extra
         FROM prospects p LEFT JOIN companies c ON c.key = p.company_key
         LEFT JOIN verifications v ON v.email = p.email
         ORDER BY p.id",
    )?;
    let rows = stmt.query_map([], |r| {
        let cells = (1..=7)
            .map(|i| r.get::<_, String>(i))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let extra: String = r.get(8)?;
        Ok(TableRow::new(r.get(0)?, cells).with_extra(&extra))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
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
    Ok(rows
        .into_iter()
        .map(|o| {
            let note = o
                .reason
                .clone()
                .or_else(|| o.smtp_reply.clone())
                .unwrap_or_default();
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
                    note,
                ],
            )
            .with_extra(&extra.to_string())
        })
        .collect())
}

/// Suggestions tab: one row per prospect (id = prospect id); evidence, alternatives and the
/// reason go to the detail view (Enter).
pub fn load_suggestions(data_dir: &Path) -> Result<Vec<TableRow>, StoreError> {
    let store = Store::open_in(data_dir)?;
    let rows = crate::store::suggestions::list(store.conn())?;
    Ok(rows
        .into_iter()
        .map(|s| {
            let filled = (s.confidence.clamp(0, 100) as usize).div_ceil(20);
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
            if let Some(r) = &s.reason {
                extra.insert("reason".into(), r.clone().into());
            }
            for (i, e) in s.evidence.iter().enumerate() {
                extra.insert(format!("evidence {:02}", i + 1), e.clone().into());
            }
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
                ],
            )
            .with_extra(&serde_json::Value::Object(extra).to_string())
        })
        .collect())
}
