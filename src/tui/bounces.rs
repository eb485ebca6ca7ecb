//! The Bounces tab's state: every bounce and complaint loaded once, the date/domain/reason
//! filters applied in memory, the top bouncing domains and the per-mailbox rates the panel
//! above the table shows. Loading runs on the blocking pool ([`load`]); the rest is pure.

use std::path::Path;

use super::table::{Column, TableRow, TableView};
use crate::store::bounces::{self, MailboxRate};
use crate::store::{Store, StoreError};

/// The Bounces table. The server's message gets the room left; narrow, Domain goes first (the
/// recipient says it), then Mailbox, then the status code and H/S (the reason says most).
pub const COLUMNS: [Column; 8] = [
    Column::fixed("Date", 11),
    Column::new("Recipient", 15, 2).max(32),
    Column::new("Domain", 10, 1).max(22).drops(5),
    Column::fixed("Status", 6).drops(3),
    Column::fixed("Reason", 11),
    Column::fixed("H/S", 4).drops(2),
    Column::new("Mailbox", 7, 1).max(12).drops(4),
    Column::new("Message", 16, 8),
];
pub const DOMAIN: usize = 2;
pub const REASON: usize = 4;

/// Date ranges `t` cycles through, in days (0: all).
pub const RANGES: [u32; 5] = [0, 1, 7, 30, 90];

#[derive(Debug, Clone, PartialEq)]
pub struct BounceItem {
    pub row: TableRow,
    pub date: i64,
    /// Matched to a message hailer sent (by Message-ID, recipient, …): only those are the
    /// campaign's bounces in the chart; a shared inbox holds others too.
    pub matched: bool,
}

/// What [`load`] reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BouncesData {
    pub items: Vec<BounceItem>,
    pub rates: Vec<MailboxRate>,
    /// Paused mailboxes (auto-pause or by hand), with why.
    pub paused: Vec<crate::store::pauses::Pause>,
    /// When it was read: date ranges count back from here.
    pub now: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BouncesPane {
    pub data: BouncesData,
    /// Index into [`RANGES`].
    pub range: usize,
    /// A typed range (`T`): from (inclusive) and to (exclusive), Unix seconds, either open.
    /// Takes precedence over `range` while set.
    pub custom: Option<(Option<i64>, Option<i64>)>,
    /// How `custom` was typed (the title shows it, `T` offers it again).
    pub custom_text: String,
    pub domain: Option<String>,
    pub reason: Option<String>,
    /// Top 5 domains among the filtered bounces matched to a send (complaints excluded).
    pub top: Vec<(String, u64)>,
    /// Filtered bounces matched to no send, left out of `top`.
    pub unmatched: u64,
}

impl BouncesPane {
    pub fn days(&self) -> u32 {
        RANGES[self.range % RANGES.len()]
    }

    /// The filters in words, for the table title ("" when none).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        match (self.custom.is_some(), self.days()) {
            (true, _) => {
                // "2026-11-01..2026-11-30", "2026-11-01..", "..2026-11-30".
                let text = self.custom_text.trim();
                parts.push(match text.split_once("..") {
                    Some(("", to)) => format!("until {}", to.trim()),
                    Some((from, "")) => format!("since {}", from.trim()),
                    Some((from, to)) => format!("{} to {}", from.trim(), to.trim()),
                    None => text.to_string(),
                });
            }
            (false, 0) => {}
            (false, 1) => parts.push("last 24 h".to_string()),
            (false, d) => parts.push(format!("last {d} days")),
        }
        if let Some(d) = &self.domain {
            parts.push(format!("domain {d}"));
        }
        if let Some(r) = &self.reason {
            parts.push(format!("reason {r}"));
        }
        parts.join(" · ")
    }

    /// Put the filtered rows in `table` and recompute the chart.
    pub fn apply(&mut self, table: &mut TableView) {
        let days = self.days() as i64;
        let (since, until) = match self.custom {
            Some(range) => range,
            None => ((days > 0).then(|| self.data.now - days * 86_400), None),
        };
        let items: Vec<&BounceItem> = self
            .data
            .items
            .iter()
            .filter(|i| since.is_none_or(|s| i.date >= s) && until.is_none_or(|u| i.date < u))
            .filter(|i| {
                self.domain
                    .as_ref()
                    .is_none_or(|d| i.row.cells[DOMAIN] == *d)
            })
            .filter(|i| {
                self.reason
                    .as_ref()
                    .is_none_or(|r| i.row.cells[REASON] == *r)
            })
            .collect();
        let mut counts: std::collections::BTreeMap<&str, u64> = Default::default();
        let mut unmatched = 0;
        for i in &items {
            // Failures only: complaints and delay warnings are not bounces.
            let r = &i.row;
            if r.cells[5] == "hard" || r.cells[5] == "soft" {
                if i.matched {
                    *counts.entry(r.cells[DOMAIN].as_str()).or_default() += 1;
                } else {
                    unmatched += 1;
                }
            }
        }
        self.unmatched = unmatched;
        let rows: Vec<TableRow> = items.iter().map(|i| i.row.clone()).collect();
        let mut top: Vec<(String, u64)> = counts
            .into_iter()
            .map(|(d, n)| (d.to_string(), n))
            .collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        // Five rows in the panel: the last says how many are not ours, when some are not.
        top.truncate(if unmatched > 0 { 4 } else { 5 });
        self.top = top;
        table.set_rows(rows);
        table.all_rows = Some(self.data.items.len());
    }

    /// Esc: every date, domain and reason again.
    pub fn clear_filters(&mut self, table: &mut TableView) {
        let any = self.custom.is_some()
            || self.range != 0
            || self.domain.is_some()
            || self.reason.is_some();
        if any {
            (self.custom, self.range, self.domain, self.reason) = (None, 0, None, None);
            self.apply(table);
        }
    }

    pub fn cycle_range(&mut self, table: &mut TableView) {
        if self.custom.take().is_none() {
            self.range = (self.range + 1) % RANGES.len();
        }
        self.apply(table);
    }

    /// Filter on a typed range (see [`parse_range`]); an empty text clears it.
    pub fn set_custom(&mut self, text: &str, table: &mut TableView) -> Result<(), String> {
        let text = text.trim();
        if text.is_empty() {
            self.custom = None;
        } else {
            self.custom = Some(parse_range(text)?);
            self.custom_text = text.to_string();
        }
        self.apply(table);
        Ok(())
    }

    /// Filter on the selected row's domain; again (or on an empty table): clear.
    pub fn toggle_domain(&mut self, table: &mut TableView) {
        self.domain = match (&self.domain, table.selected_row()) {
            (None, Some(r)) => Some(r.cells[DOMAIN].clone()),
            _ => None,
        };
        self.apply(table);
    }

    pub fn toggle_reason(&mut self, table: &mut TableView) {
        self.reason = match (&self.reason, table.selected_row()) {
            (None, Some(r)) => Some(r.cells[REASON].clone()),
            _ => None,
        };
        self.apply(table);
    }
}

/// `FROM..TO`, `FROM..`, `..TO` or one `DAY` (dates YYYY-MM-DD, UTC as the table shows them):
/// from the start of FROM to the end of TO, as (from inclusive, to exclusive).
pub fn parse_range(text: &str) -> Result<(Option<i64>, Option<i64>), String> {
    let day = |s: &str| -> Result<Option<i64>, String> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(|d| {
                Some(
                    d.and_hms_opt(0, 0, 0)
                        .unwrap_or_default()
                        .and_utc()
                        .timestamp(),
                )
            })
            .map_err(|_| format!("{s:?} is not a date such as 2026-11-30"))
    };
    let (from, to) = match text.split_once("..") {
        Some((a, b)) => (day(a)?, day(b)?.map(|t| t + 86_400)),
        None => {
            let d = day(text)?;
            (d, d.map(|t| t + 86_400))
        }
    };
    if from.is_none() && to.is_none() {
        return Err("give a date on at least one side of ..".into());
    }
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(format!("{text}: the range ends before it starts"));
    }
    Ok((from, to))
}

pub(super) fn day_time(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format("%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// Every bounce and complaint, newest first, and the per-mailbox rates (counted as the
/// auto-pause rule and `mailbox status` count them: a 5xx refusal at send time is a hard
/// bounce; `store::bounces::BOUNCE_PER_ROW`).
pub fn load(data_dir: &Path) -> Result<BouncesData, StoreError> {
    let store = Store::open_in(data_dir)?;
    let rows = bounces::list(store.conn(), &bounces::Filter::default())?;
    let items = rows
        .into_iter()
        .map(|b| {
            let hs = if b.kind == bounces::KIND_COMPLAINT {
                "cmpl"
            } else if b.kind == bounces::KIND_FEEDBACK {
                "fbk"
            } else if b.action.as_deref() == Some("delayed") {
                "dly"
            } else if b.hard {
                "hard"
            } else {
                "soft"
            };
            let extra = serde_json::json!({
                "Kind": b.kind,
                "Action": b.action.clone().unwrap_or_default(),
                "Reply code": b.reply_code.map(|c| c.to_string()).unwrap_or_default(),
                "Remote MTA": b.remote_mta.clone().unwrap_or_default(),
                "Outbox row": b.outbox_id.map(|c| c.to_string()).unwrap_or_default(),
                "Matched": b.matched_by,
                "Diagnostic": b.diagnostic,
                "DSN part": b.raw.trim_end(),
            });
            BounceItem {
                date: b.date,
                matched: b.outbox_id.is_some(),
                row: TableRow::new(
                    b.id,
                    vec![
                        day_time(b.date),
                        b.recipient,
                        b.domain,
                        b.status_code.unwrap_or_default(),
                        b.reason,
                        hs.to_string(),
                        b.mailbox,
                        b.subject.unwrap_or_default(),
                    ],
                )
                .with_extra(&extra.to_string()),
            }
        })
        .collect();
    Ok(BouncesData {
        items,
        rates: bounces::rate_per_mailbox(store.conn())?,
        paused: crate::store::pauses::list(store.conn())?,
        now: crate::store::now_ts(),
    })
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    /// The chart counts the campaign's bounces: those matched to no send (a shared inbox's
    /// other mail) are said apart, not charted.
    #[test]
    fn the_chart_counts_only_bounces_matched_to_a_send() {
        use super::*;
        let item = |id: i64, domain: &str, matched: bool| BounceItem {
            row: TableRow::new(
                id,
                ["d", "r", domain, "5.1.1", "userunknown", "hard", "m", "s"]
                    .map(String::from)
                    .to_vec(),
            ),
            date: 100,
            matched,
        };
        let mut pane = BouncesPane {
            data: BouncesData {
                items: vec![
                    item(1, "a.test", true),
                    item(2, "a.test", true),
                    item(3, "b.test", false),
                ],
                now: 200,
                ..BouncesData::default()
            },
            ..BouncesPane::default()
        };
        let mut table = TableView::new(COLUMNS.to_vec(), "");
        pane.apply(&mut table);
        assert_eq!(pane.top, [("a.test".to_string(), 2)]);
        assert_eq!(pane.unmatched, 1);
        assert_eq!(table.rows.len(), 3, "the table keeps every row");
    }

    #[test]
    fn typed_date_ranges() {
        let nov1 = 1_793_491_200; // 2026-11-01T00:00:00Z
        assert_eq!(
            parse_range("2026-11-01..2026-11-30"),
            Ok((Some(nov1), Some(nov1 + 30 * 86_400)))
        );
        assert_eq!(parse_range("2026-11-01.."), Ok((Some(nov1), None)));
        assert_eq!(parse_range("..2026-11-01"), Ok((None, Some(nov1 + 86_400))));
        assert_eq!(
            parse_range(" 2026-11-01 "),
            Ok((Some(nov1), Some(nov1 + 86_400)))
        );
        assert!(parse_range("..").is_err());
        assert!(parse_range("2026-11-30..2026-11-01").is_err());
        assert!(parse_range("last week").unwrap_err().contains("not a date"));
    }
}
