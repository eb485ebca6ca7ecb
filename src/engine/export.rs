//! Export stored tables to CSV or XLSX.
//!
//! CSV cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) get a
//! leading `'`, the OWASP advice against CSV injection. XLSX cells are written as typed string
//! cells, which spreadsheets never evaluate, and get the same prefix so both exports agree.
//! A regular file is written to a temporary name and renamed, so a failed export leaves no half
//! file; a device or FIFO is written in place (`crate::files::OutputFile`).
//! A CSV is comma-separated UTF-8 unless [`CsvOptions`] say otherwise: Excel in a French (or
//! other European) locale splits a file on `;`, and reads it as UTF-8 only after a BOM.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::engine::import::columns::{COMPANY_KEY_COLUMN, EMAIL_SOURCE_COLUMN, unique_name};
use crate::engine::import::normalize::strip_formula_guard;
use crate::store::outbox::{self, Status};
use crate::store::{Store, StoreError, bounces, messages, prospects, suggestions};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ExportTable {
    Prospects,
    Messages,
    Outbox,
    Suggestions,
    Bounces,
    /// Replies, auto-replies and unsubscribe emails read from the watched folders: who
    /// answered, to which row, how it was matched, and a snippet of what they wrote.
    Replies,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
        }
    }
}

/// How a CSV export is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvOptions {
    /// `,` by default; `;`, tab or `|` on request.
    pub delimiter: u8,
    /// Start with the UTF-8 byte order mark.
    pub bom: bool,
}

impl Default for CsvOptions {
    fn default() -> CsvOptions {
        CsvOptions {
            delimiter: b',',
            bom: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot write {path}: {cause}")]
    Write { path: PathBuf, cause: String },
    #[error("XLSX cannot go to standard output; give --output FILE.xlsx")]
    XlsxToStdout,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    pub table: ExportTable,
    pub format: ExportFormat,
    pub output: String,
    pub rows: u64,
}

impl std::fmt::Display for ExportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} exported to {}",
            crate::text::count(self.rows, "row", "rows"),
            self.output
        )
    }
}

/// Prefix a cell that would start a formula. The import takes one `'` off a cell that is
/// `'`s then a formula sign (`strip_formula_guard`), so such a value gets one more here and
/// comes back whole.
pub fn neutralize(cell: &str) -> std::borrow::Cow<'_, str> {
    let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula || strip_formula_guard(cell) != cell {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// A table as a header and rows of text, built from the store.
struct Grid {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn extras_in_order(extras: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for e in extras {
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(e) {
            for k in map.keys() {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
    }
    keys
}

fn extra_values(extra: &str, keys: &[String]) -> Vec<String> {
    let map = match serde_json::from_str::<serde_json::Value>(extra) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    keys.iter()
        .map(|k| {
            map.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// Add the extra columns' names to a header, numbered where one repeats a name already in it
/// (data imported before the import numbered them, e.g. a second `company`).
fn extend_header(header: &mut Vec<String>, extra_keys: &[String]) {
    let mut taken: Vec<String> = header.iter().map(|h| h.to_lowercase()).collect();
    for key in extra_keys {
        header.push(unique_name(key, &mut taken));
    }
}

fn grid(
    store: &Store,
    table: ExportTable,
    status: Option<Status>,
    bounce_filter: &bounces::Filter,
) -> Result<Grid, StoreError> {
    match table {
        ExportTable::Bounces => {
            let header = [
                "date",
                "kind",
                "mailbox",
                "recipient",
                "domain",
                "action",
                "status",
                "reply_code",
                "reason",
                "hard",
                "diagnostic",
                "remote_mta",
                "subject",
                "outbox_id",
                "matched_by",
            ]
            .map(String::from)
            .to_vec();
            let rows = bounces::list(store.conn(), bounce_filter)?
                .into_iter()
                .map(|b| {
                    vec![
                        // With its zone, as the outbox's sent_at: a bare time read in
                        // another zone is off by hours.
                        chrono::DateTime::from_timestamp(b.date, 0)
                            .map(|d| d.to_rfc3339())
                            .unwrap_or_default(),
                        b.kind,
                        b.mailbox,
                        b.recipient,
                        b.domain,
                        b.action.unwrap_or_default(),
                        b.status_code.unwrap_or_default(),
                        b.reply_code.map(|c| c.to_string()).unwrap_or_default(),
                        b.reason,
                        b.hard.to_string(),
                        b.diagnostic,
                        b.remote_mta.unwrap_or_default(),
                        b.subject.unwrap_or_default(),
                        b.outbox_id.map(|c| c.to_string()).unwrap_or_default(),
                        b.matched_by,
                    ]
                })
                .collect();
            Ok(Grid { header, rows })
        }
        ExportTable::Replies => {
            let header = [
                "date",
                "kind",
                "mailbox",
                "folder",
                "from",
                "subject",
                "outbox_id",
                "email",
                "company",
                "row_status",
                "matched_by",
                "snippet",
            ]
            .map(String::from)
            .to_vec();
            let mut stmt = store.conn().prepare(
                "SELECT m.processed_at, m.kind, m.mailbox, m.folder, COALESCE(m.from_addr, ''),
                        m.subject, m.outbox_id, COALESCE(o.email, ''),
                        COALESCE(p.company, c.name, ''), COALESCE(o.status, ''), m.matched_by,
                        m.snippet
                 FROM inbox_messages m
                 LEFT JOIN outbox o ON o.id = m.outbox_id
                 -- The company as the prospect's row (and export outbox) spells it.
                 LEFT JOIN prospects p ON p.id = o.prospect_id
                 LEFT JOIN companies c ON c.key = o.company_key
                 WHERE m.kind IN ('reply', 'autoreply', 'unsubscribe')
                 ORDER BY m.id",
            )?;
            let rows = stmt
                .query_map([], |r| {
                    let at: i64 = r.get(0)?;
                    let outbox_id: Option<i64> = r.get(6)?;
                    Ok(vec![
                        chrono::DateTime::from_timestamp(at, 0)
                            .map(|d| d.to_rfc3339())
                            .unwrap_or_default(),
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        outbox_id.map(|i| i.to_string()).unwrap_or_default(),
                        r.get(7)?,
                        r.get(8)?,
                        r.get(9)?,
                        r.get(10)?,
                        r.get(11)?,
                    ])
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Grid { header, rows })
        }
        ExportTable::Outbox => {
            let header = [
                "firstname",
                "lastname",
                "company",
                "email",
                "status",
                "reason",
                "approved",
                "subject",
                "body",
                "mailbox",
                "message_id",
                "sent_at",
                "smtp_reply",
                "id",
                "opens",
                "clicks",
                "replies",
                // Without machines' (Apple's privacy proxy, link scanners): a spreadsheet
                // reading `opens` alone takes every Apple Mail recipient for a reader.
                "opens_human",
                "clicks_human",
            ]
            .map(String::from)
            .to_vec();
            let engagement = crate::store::engagement::per_row(store.conn())?;
            let rows = outbox::list(store.conn(), status)?
                .into_iter()
                .map(|o| {
                    // Counted for a row that went out; blank for one never sent.
                    let counts = engagement.get(&o.id).copied().unwrap_or_default();
                    let count = |n: i64| {
                        if o.sent_at.is_some() || n > 0 {
                            n.to_string()
                        } else {
                            String::new()
                        }
                    };
                    let (opens, clicks, replies) = (
                        count(counts.opens),
                        count(counts.clicks),
                        count(counts.replies),
                    );
                    let (opens_human, clicks_human) =
                        (count(counts.opens_human), count(counts.clicks_human));
                    vec![
                        o.firstname,
                        o.lastname,
                        o.company,
                        o.email.unwrap_or_default(),
                        o.status.to_string(),
                        o.reason.unwrap_or_default(),
                        o.approved.to_string(),
                        o.subject,
                        o.body,
                        o.mailbox.unwrap_or_default(),
                        o.header_message_id.unwrap_or_default(),
                        o.sent_at
                            .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                            .map(|d| d.to_rfc3339())
                            .unwrap_or_default(),
                        o.smtp_reply.unwrap_or_default(),
                        o.id.to_string(),
                        opens,
                        clicks,
                        replies,
                        opens_human,
                        clicks_human,
                    ]
                })
                .collect();
            Ok(Grid { header, rows })
        }
        ExportTable::Prospects => {
            let all = prospects::list(store.conn())?;
            let extra_keys =
                extras_in_order(&all.iter().map(|p| p.extra.clone()).collect::<Vec<_>>());
            let mut header: Vec<String> = [
                "firstname",
                "lastname",
                "company",
                "title",
                "email",
                "domain",
                COMPANY_KEY_COLUMN,
                EMAIL_SOURCE_COLUMN,
            ]
            .map(String::from)
            .to_vec();
            extend_header(&mut header, &extra_keys);
            let rows = all
                .into_iter()
                .map(|p| {
                    let mut r = vec![
                        p.firstname,
                        p.lastname,
                        p.company,
                        p.title.unwrap_or_default(),
                        // The address a message goes to, as the Prospects tab shows it.
                        p.address.unwrap_or_default(),
                        p.domain.unwrap_or_default(),
                        p.company_key,
                        p.address_source.unwrap_or_default(),
                    ];
                    r.extend(extra_values(&p.extra, &extra_keys));
                    r
                })
                .collect();
            Ok(Grid { header, rows })
        }
        ExportTable::Messages => {
            let all = messages::list(store.conn())?;
            let extra_keys =
                extras_in_order(&all.iter().map(|m| m.extra.clone()).collect::<Vec<_>>());
            let mut header: Vec<String> = ["company", "subject", "body", COMPANY_KEY_COLUMN]
                .map(String::from)
                .to_vec();
            extend_header(&mut header, &extra_keys);
            let rows = all
                .into_iter()
                .map(|m| {
                    let mut r = vec![m.company, m.subject, m.body, m.company_key];
                    r.extend(extra_values(&m.extra, &extra_keys));
                    r
                })
                .collect();
            Ok(Grid { header, rows })
        }
        ExportTable::Suggestions => {
            // As `suggestions list` names them: the id to act on a row (`suggestions accept`),
            // and `email`, the column name import reads an address from. One file for a
            // spreadsheet review: the verdict beside the evidence.
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
            ]
            .map(String::from)
            .to_vec();
            let rows = suggestions::list(store.conn())?
                .into_iter()
                .map(|s| {
                    vec![
                        s.prospect_id.to_string(),
                        s.firstname,
                        s.lastname,
                        s.company,
                        s.domain.unwrap_or_default(),
                        s.email.unwrap_or_default(),
                        s.alternatives.join(" "),
                        s.pattern.unwrap_or_default(),
                        s.confidence.to_string(),
                        s.status,
                        s.reason.unwrap_or_default(),
                        s.verified.unwrap_or_default(),
                        s.evidence.join("\n"),
                    ]
                })
                .collect();
            Ok(Grid { header, rows })
        }
    }
}

/// Export `table` to `output` (`-` is standard output, CSV only).
pub fn run(
    store: &Store,
    table: ExportTable,
    format: ExportFormat,
    output: &Path,
    status: Option<Status>,
) -> Result<ExportSummary, ExportError> {
    run_filtered(
        store,
        table,
        format,
        output,
        status,
        &bounces::Filter::default(),
        CsvOptions::default(),
    )
}

/// [`run`], with the date/domain/reason filter the bounces export takes and the CSV's
/// delimiter and BOM (ignored for XLSX).
pub fn run_filtered(
    store: &Store,
    table: ExportTable,
    format: ExportFormat,
    output: &Path,
    status: Option<Status>,
    bounce_filter: &bounces::Filter,
    csv: CsvOptions,
) -> Result<ExportSummary, ExportError> {
    let to_stdout = output.as_os_str() == "-";
    if to_stdout && format == ExportFormat::Xlsx {
        return Err(ExportError::XlsxToStdout);
    }
    let grid = grid(store, table, status, bounce_filter)?;
    let write_err = |cause: String| ExportError::Write {
        path: output.to_path_buf(),
        cause,
    };
    if to_stdout {
        let stdout = std::io::stdout();
        write_csv(&grid, stdout.lock(), csv).map_err(write_err)?;
    } else {
        // A regular file is replaced through a temporary one; a device or FIFO is written in
        // place (see `OutputFile`), so a write error there is the export's error.
        let result = crate::files::OutputFile::create(output)
            .map_err(|e| e.to_string())
            .and_then(|mut file| {
                match format {
                    ExportFormat::Csv => {
                        write_csv(&grid, std::io::BufWriter::new(&mut file), csv)?;
                    }
                    ExportFormat::Xlsx => {
                        let bytes = xlsx_bytes(&grid, table)?;
                        file.write_all(&bytes).map_err(|e| e.to_string())?;
                    }
                }
                file.commit().map_err(|e| e.to_string())
            });
        result.map_err(write_err)?;
    }
    Ok(ExportSummary {
        table,
        format,
        output: if to_stdout {
            "standard output".into()
        } else {
            output.display().to_string()
        },
        rows: grid.rows.len() as u64,
    })
}

/// A CSV writer on `out` as `options` say: the BOM written first when asked, then records
/// split on the delimiter (cells holding it are quoted, whichever it is). Exports and the
/// CLI's lists write through it.
pub fn csv_writer<W: Write>(mut out: W, options: CsvOptions) -> std::io::Result<csv::Writer<W>> {
    if options.bom {
        out.write_all(b"\xEF\xBB\xBF")?;
    }
    Ok(csv::WriterBuilder::new()
        .delimiter(options.delimiter)
        .from_writer(out))
}

fn write_csv(grid: &Grid, out: impl Write, options: CsvOptions) -> Result<(), String> {
    let mut w = csv_writer(out, options).map_err(|e| e.to_string())?;
    // Extra columns are named after imported headers: as untrusted as any cell.
    w.write_record(grid.header.iter().map(|h| neutralize(h).into_owned()))
        .map_err(|e| e.to_string())?;
    for row in &grid.rows {
        w.write_record(row.iter().map(|c| neutralize(c).into_owned()))
            .map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())
}

#[derive(Debug, Clone, Copy)]
enum CellType {
    Number,
    Boolean,
}

fn xlsx_bytes(grid: &Grid, table: ExportTable) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let name = match table {
        ExportTable::Prospects => "Prospects",
        ExportTable::Messages => "Messages",
        ExportTable::Outbox => "Outbox",
        ExportTable::Suggestions => "Suggestions",
        ExportTable::Bounces => "Bounces",
        ExportTable::Replies => "Replies",
    };
    sheet.set_name(name).map_err(|e| e.to_string())?;
    let bold = Format::new().set_bold();
    for (c, h) in grid.header.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, neutralize(h).as_ref(), &bold)
            .map_err(|e| e.to_string())?;
    }
    // Columns hailer fills with numbers or true/false: typed cells, so a spreadsheet sorts
    // and sums them (as text, `10` sorts before `9`). Imported columns stay text.
    // Prospects and messages carry imported columns, named as imported ("id" of a CRM):
    // those stay text, and their fixed columns hold no number.
    let imported_columns = matches!(table, ExportTable::Prospects | ExportTable::Messages);
    let typed: Vec<Option<CellType>> = grid
        .header
        .iter()
        .map(|h| match h.as_str() {
            _ if imported_columns => None,
            "id" | "prospect_id" | "outbox_id" | "confidence" | "opens" | "clicks" | "replies"
            | "opens_human" | "clicks_human" | "reply_code" => Some(CellType::Number),
            "approved" | "hard" => Some(CellType::Boolean),
            _ => None,
        })
        .collect();
    for (r, row) in grid.rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (at_row, at_col) = ((r + 1) as u32, c as u16);
            let written = match typed.get(c).copied().flatten() {
                Some(CellType::Number) => cell
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .map(|n| sheet.write_number(at_row, at_col, n).map(|_| ())),
                Some(CellType::Boolean) => match cell.as_str() {
                    "true" => Some(sheet.write_boolean(at_row, at_col, true).map(|_| ())),
                    "false" => Some(sheet.write_boolean(at_row, at_col, false).map(|_| ())),
                    _ => None,
                },
                None => None,
            };
            if let Some(result) = written {
                result.map_err(|e| e.to_string())?;
                continue;
            }
            if !cell.is_empty() {
                sheet
                    .write_string(at_row, at_col, neutralize(cell).as_ref())
                    .map_err(|e| {
                        // Which cell: a body over Excel's 32,767 characters is refused.
                        let column = grid.header.get(c).map_or("?", String::as_str);
                        format!("row {}, column {column}: {e} (CSV keeps it whole)", r + 2)
                    })?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(|e| e.to_string())?;
    book.save_to_buffer().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cell over Excel's limit fails the XLSX export with the row and column named.
    #[test]
    fn an_over_long_cell_is_named_in_the_xlsx_error() {
        let grid = Grid {
            header: vec!["company".into(), "body".into()],
            rows: vec![
                vec!["Acme".into(), "short".into()],
                vec!["Acme".into(), "x".repeat(40_000)],
            ],
        };
        let e = xlsx_bytes(&grid, ExportTable::Messages).unwrap_err();
        assert!(e.starts_with("row 3, column body: "), "{e}");
    }

    /// hailer's own number and true/false columns are typed cells in XLSX (a spreadsheet
    /// sorts `10` after `9`); imported text that looks like a number stays text.
    #[test]
    fn xlsx_types_the_number_and_boolean_columns() {
        use calamine::{Data, Reader, Xlsx};
        let grid = Grid {
            header: ["id", "approved", "opens", "title", "reply_code"]
                .map(String::from)
                .to_vec(),
            rows: vec![
                ["10", "true", "", "007", "550"].map(String::from).to_vec(),
                ["9", "false", "2", "CEO", ""].map(String::from).to_vec(),
            ],
        };
        let bytes = xlsx_bytes(&grid, ExportTable::Outbox).unwrap();
        let mut book = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range("Outbox").unwrap();
        let cell = |r: usize, c: usize| range.get((r, c)).cloned().unwrap_or(Data::Empty);
        assert_eq!(cell(1, 0), Data::Float(10.0));
        assert_eq!(cell(1, 1), Data::Bool(true));
        assert_eq!(cell(1, 2), Data::Empty);
        assert_eq!(cell(1, 3), Data::String("007".into()));
        assert_eq!(cell(1, 4), Data::Float(550.0));
        assert_eq!(cell(2, 1), Data::Bool(false));
        assert_eq!(cell(2, 2), Data::Float(2.0));
        // An imported column named like one of hailer's stays text (a CRM's "id" 00123).
        let grid = Grid {
            header: ["firstname", "id"].map(String::from).to_vec(),
            rows: vec![["Ann", "00123"].map(String::from).to_vec()],
        };
        let bytes = xlsx_bytes(&grid, ExportTable::Prospects).unwrap();
        let mut book = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range("Prospects").unwrap();
        assert_eq!(range.get((1, 1)), Some(&Data::String("00123".into())));
    }

    #[test]
    fn formula_starts_are_neutralized() {
        for bad in ["=1+1", "+33 6", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralize(bad).starts_with('\''), "{bad:?}");
        }
        for good in ["Acme", "jane@acme.test", "1+1", "", "it's", "'til"] {
            assert_eq!(neutralize(good), good);
        }
        assert_eq!(neutralize("'=x"), "''=x");
    }

    #[test]
    fn extra_columns_never_repeat_a_header_name() {
        let mut header = vec!["company".to_string(), "company_key".to_string()];
        let extras = ["Company", "Notes", "company_key"].map(String::from);
        extend_header(&mut header, &extras);
        assert_eq!(
            header,
            [
                "company",
                "company_key",
                "Company (2)",
                "Notes",
                "company_key (2)"
            ]
        );
    }

    #[test]
    fn import_reads_back_what_export_wrote() {
        use crate::engine::import::normalize::clean_cell;
        for value in [
            "=1+1", "+33 6", "-2", "@x", "'=x", "''+x", "'til", "plain", "'",
        ] {
            assert_eq!(clean_cell(&neutralize(value)), value, "{value:?}");
        }
    }
}
