//! Import prospects and messages from CSV, TSV, XLSX, XLS or ODS into the store.
//!
//! The whole file is read and validated before anything is written, then every row goes in
//! through one transaction: a file that cannot be read, or an import cancelled halfway, leaves
//! the database exactly as it was. Bad rows are skipped with their row number and a reason;
//! good rows are imported.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::store::{self, Store, StoreError, companies, messages, prospects};
use crate::text::count;

pub mod columns;
pub mod normalize;
mod number_format;
mod ods_layout;
pub mod source;
mod xls_formats;
mod xls_guard;

pub use columns::{ColumnOverride, Field};

use columns::{ColumnMap, closest_header, find_header};
use normalize::{checked_email, company_key, normalize_domain, person_key, platform_host};
use source::{Format, SourceRow};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ImportKind {
    Prospects,
    Messages,
}

impl ImportKind {
    pub fn required(self) -> &'static [Field] {
        match self {
            ImportKind::Prospects => &[Field::Firstname, Field::Lastname, Field::Company],
            ImportKind::Messages => &[Field::Company, Field::Subject, Field::Body],
        }
    }

    pub fn optional(self) -> &'static [Field] {
        match self {
            ImportKind::Prospects => &[Field::Email, Field::Title, Field::Domain],
            ImportKind::Messages => &[],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ImportKind::Prospects => "prospects",
            ImportKind::Messages => "messages",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub kind: ImportKind,
    pub file: PathBuf,
    pub sheet: Option<String>,
    pub overrides: Vec<ColumnOverride>,
    /// The bundled sample data (`hailer demo`): its companies are marked fictional
    /// (`companies.sample`), so find keeps them off the real web.
    pub sample: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    // Causes are in the messages, not `source`s: printed with its chain ({:#}) an error
    // would say them twice.
    #[error("{file}: cannot read: {cause}")]
    Read {
        file: PathBuf,
        cause: std::io::Error,
    },
    #[error("{file}: {cause}")]
    Unreadable { file: PathBuf, cause: String },
    #[error("{file}: sheet {sheet:?} not found (sheets: {available})")]
    NoSuchSheet {
        file: PathBuf,
        sheet: String,
        available: String,
    },
    #[error(
        "{file}: no header row in the first {} rows of {where_}: need columns {needed}{hint}",
        columns::HEADER_SEARCH_ROWS
    )]
    NoHeader {
        file: PathBuf,
        where_: String,
        needed: String,
        hint: String,
    },
    /// `--map` overrides that do not fit the row closest to a header.
    #[error("{file}: {problems} (header on {where_}: {headers})")]
    BadMapping {
        file: PathBuf,
        problems: String,
        where_: String,
        headers: String,
    },
    /// `--map` options that contradict each other.
    #[error("{file}: {problem}")]
    ConflictingMaps { file: PathBuf, problem: String },
    #[error("{file}: {cause}")]
    Store { file: PathBuf, cause: StoreError },
    #[error("{file}: import cancelled; nothing was written")]
    Cancelled { file: PathBuf },
}

impl ImportError {
    fn store(file: &Path) -> impl FnOnce(StoreError) -> ImportError + '_ {
        move |cause| ImportError::Store {
            file: file.to_path_buf(),
            cause,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowReject {
    pub row: i64,
    pub reason: String,
    /// The field at fault, when one is (`email` for an invalid address), so a script need
    /// not read the sentence; with `value`, the cell as it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl RowReject {
    /// A note or a rejection about the row as a whole.
    fn about_row(row: i64, reason: String) -> RowReject {
        RowReject {
            row,
            reason,
            field: None,
            value: None,
        }
    }
}

/// Why a row is rejected, with the field and value at fault when there is one.
#[derive(Debug)]
struct Rejection {
    reason: String,
    field: Option<&'static str>,
    value: Option<String>,
}

impl Rejection {
    fn of(field: Field, value: &str, reason: String) -> Rejection {
        Rejection {
            reason,
            field: Some(field.name()),
            value: Some(value.to_string()),
        }
    }
}

impl From<String> for Rejection {
    fn from(reason: String) -> Rejection {
        Rejection {
            reason,
            field: None,
            value: None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    pub kind: ImportKind,
    pub file: PathBuf,
    pub format: String,
    pub sheet: String,
    pub header_row: i64,
    /// "line" for CSV (numbers are text-editor lines; quoted fields may span several),
    /// "row" for spreadsheets.
    pub row_unit: &'static str,
    /// field -> header as written in the file.
    pub columns: BTreeMap<String, String>,
    /// The other columns, kept by header (a template's `{City}`), in file order.
    pub extra_columns: Vec<String>,
    pub imported: u64,
    /// Prospects already stored whose empty fields (email, title, domain, extra columns)
    /// the file filled; stored values are never overwritten.
    pub updated: u64,
    pub duplicates: u64,
    /// Messages only: an existing company's message replaced by the newer text.
    pub replaced: u64,
    pub rejected: u64,
    /// The first rejects (at most `MAX_REJECTS_KEPT`), in file order.
    pub rejects: Vec<RowReject>,
    /// Rows imported with part of them set aside, e.g. a LinkedIn profile given as the
    /// company's website.
    pub noted: u64,
    /// The first such notes (at most `MAX_REJECTS_KEPT`), in file order.
    pub notes: Vec<RowReject>,
    /// Other visible sheets whose header also fits, not imported (each needs `--sheet`).
    pub other_sheets: Vec<String>,
    /// About the file as a whole, e.g. a CSV whose lines mix UTF-8 and Windows-1252, or the
    /// merged cells of a sheet filled down.
    pub warnings: Vec<String>,
}

/// Enough reasons to fix a file, bounded so a 1M-row file of garbage stays small in memory.
pub const MAX_REJECTS_KEPT: usize = 1000;

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = self.kind.name();
        write!(
            f,
            "{}: {} imported, {} skipped",
            self.file.display(),
            count(self.imported, kind.trim_end_matches('s'), kind),
            count(self.duplicates, "duplicate", "duplicates")
        )?;
        if self.updated > 0 {
            write!(f, ", {} updated with new details", self.updated)?;
        }
        if self.kind == ImportKind::Messages {
            write!(f, ", {} replaced", self.replaced)?;
        }
        // A CSV has no sheets: its one "sheet" is only the file's name again.
        let sheet = if self.row_unit == "line" {
            String::new()
        } else {
            format!(", sheet {:?}", self.sheet)
        };
        writeln!(
            f,
            ", {} rejected ({}{sheet}, header on {} {})",
            self.rejected, self.format, self.row_unit, self.header_row
        )?;
        // Which column each field was read from: a wrong guess shows here, not weeks later.
        let columns: Vec<String> = self
            .columns
            .iter()
            .map(|(field, header)| format!("{field} = {header:?}"))
            .collect();
        writeln!(f, "  columns: {}", columns.join(", "))?;
        if !self.extra_columns.is_empty() {
            let kept: Vec<String> = self
                .extra_columns
                .iter()
                .map(|h| format!("{h:?}"))
                .collect();
            writeln!(
                f,
                "  also kept (placeholders in templates): {}",
                kept.join(", ")
            )?;
        }
        for w in &self.warnings {
            writeln!(f, "  {w}")?;
        }
        for r in self.rejects.iter().take(10) {
            writeln!(f, "  {} {}: {}", self.row_unit, r.row, r.reason)?;
        }
        if self.rejected > 10 {
            writeln!(f, "  … and {} more rejected rows", self.rejected - 10)?;
        }
        if !self.other_sheets.is_empty() {
            writeln!(
                f,
                "  not imported, though their header fits too: {} (import each with --sheet NAME)",
                self.other_sheets.join(", ")
            )?;
        }
        if self.noted > 0 {
            writeln!(f, "{} with a note:", count(self.noted, "row", "rows"))?;
            for n in self.notes.iter().take(10) {
                writeln!(f, "  {} {}: {}", self.row_unit, n.row, n.reason)?;
            }
            if self.noted > 10 {
                writeln!(f, "  … and {} more", self.noted - 10)?;
            }
        }
        Ok(())
    }
}

/// The file as the imports log keeps it: a whole path (the log is read later, from anywhere),
/// and standard input named as such rather than `-`.
fn logged_name(file: &std::path::Path) -> String {
    if file.as_os_str() == "-" {
        return "(standard input)".into();
    }
    std::path::absolute(file)
        .unwrap_or_else(|_| file.to_path_buf())
        .display()
        .to_string()
}

/// Progress of an import: rows handled so far out of the rows in the sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportProgress {
    pub done: u64,
    pub total: u64,
}

/// Read, validate and store one file. `progress` is called now and then; returning `false`
/// cancels the import, which then writes nothing.
pub fn run(
    store: &mut Store,
    req: &ImportRequest,
    progress: &mut dyn FnMut(ImportProgress) -> bool,
) -> Result<ImportSummary, ImportError> {
    let file = req.file.as_path();
    let started = std::time::Instant::now();
    if let Some(problem) = columns::conflicting_overrides(&req.overrides) {
        return Err(ImportError::ConflictingMaps {
            file: file.to_path_buf(),
            problem,
        });
    }
    // `-` is standard input (`curl … | hailer import prospects -`); the format is sniffed
    // from the bytes either way.
    let bytes = if file.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut buf).map(|_| buf)
    } else {
        std::fs::read(file)
    }
    .map_err(|cause| ImportError::Read {
        file: file.to_path_buf(),
        cause,
    })?;
    let opened = source::open(file, bytes).map_err(|cause| ImportError::Unreadable {
        file: file.to_path_buf(),
        cause,
    })?;
    let format = opened.format.clone();
    let mut warnings = opened.warnings;
    let mut src = opened.source;
    let (sheet, loaded, map, other_sheets) = choose_sheet(&mut src, req, &format)?;
    let rows = loaded.rows;
    warnings.extend(loaded.warnings);
    warnings.extend(columns::fallback_notes(&rows[map.header_index].cells, &map));
    warnings.extend(columns::guessed_notes(&rows[map.header_index].cells, &map));

    let header_row = map.header_row_number;
    let columns = map
        .fields
        .iter()
        .map(|(f, c)| {
            let header = rows[map.header_index]
                .cells
                .get(*c)
                .cloned()
                .unwrap_or_default();
            (f.name().to_string(), header)
        })
        .collect();
    let mut summary = ImportSummary {
        kind: req.kind,
        file: file.to_path_buf(),
        format: format.to_string(),
        sheet,
        header_row,
        row_unit: if matches!(format, Format::Csv { .. }) {
            "line"
        } else {
            "row"
        },
        columns,
        extra_columns: map.extra.iter().map(|(_, h)| h.clone()).collect(),
        imported: 0,
        updated: 0,
        duplicates: 0,
        replaced: 0,
        rejected: 0,
        rejects: Vec::new(),
        noted: 0,
        notes: Vec::new(),
        other_sheets,
        warnings,
    };
    let data = &rows[map.header_index + 1..];
    let total = data.len() as u64;
    let parsed = started.elapsed();
    if !progress(ImportProgress { done: 0, total }) {
        return Err(ImportError::Cancelled {
            file: file.to_path_buf(),
        });
    }

    let now = store::now_ts();
    // The importer writes each company before its first prospect, so the per-row foreign-key
    // lookup only costs time; it is back on as soon as the import ends, whatever the outcome.
    store
        .conn()
        .pragma_update(None, "foreign_keys", false)
        .map_err(|e| ImportError::store(file)(e.into()))?;
    let written = write_rows(store, req, data, &map, now, &mut summary, progress);
    let restored = store.conn().pragma_update(None, "foreign_keys", true);
    written?;
    restored.map_err(|e| ImportError::store(file)(e.into()))?;
    let stored = started.elapsed();
    // Where the time goes, for benchmarks (HAILER_LOG=hailer=debug).
    tracing::debug!(
        rows = total,
        read_ms = parsed.as_millis() as u64,
        store_and_commit_ms = (stored - parsed).as_millis() as u64,
        "import timings"
    );
    progress(ImportProgress { done: total, total });
    Ok(summary)
}

/// The import's one transaction: its audit row, every data row, commit. Dropping the
/// transaction on an error or a cancel rolls everything back.
fn write_rows(
    store: &mut Store,
    req: &ImportRequest,
    data: &[SourceRow],
    map: &ColumnMap,
    now: i64,
    summary: &mut ImportSummary,
    progress: &mut dyn FnMut(ImportProgress) -> bool,
) -> Result<(), ImportError> {
    let file = req.file.as_path();
    let tx = store.write_tx().map_err(ImportError::store(file))?;
    tx.execute(
        "INSERT INTO imports (kind, file, sheet, imported, updated, duplicates, rejected,
                              created_at)
         VALUES (?1, ?2, ?3, 0, 0, 0, 0, ?4)",
        rusqlite::params![
            req.kind.name(),
            logged_name(file),
            // A CSV has no sheets: its one "sheet" would be the file's name again.
            (summary.row_unit != "line").then_some(&summary.sheet),
            now
        ],
    )
    .map_err(|e| ImportError::store(file)(e.into()))?;
    let import_id = tx.last_insert_rowid();

    let at = Stamp {
        import_id,
        now,
        sample: req.sample,
    };
    match req.kind {
        ImportKind::Prospects => store_prospects(&tx, data, map, at, summary, progress)?,
        ImportKind::Messages => store_messages(&tx, data, map, at, summary, progress)?,
    }
    tx.execute(
        "UPDATE imports SET imported = ?2, duplicates = ?3, rejected = ?4, replaced = ?5,
                            updated = ?6
         WHERE id = ?1",
        rusqlite::params![
            import_id,
            summary.imported as i64,
            summary.duplicates as i64,
            summary.rejected as i64,
            summary.replaced as i64,
            summary.updated as i64
        ],
    )
    .map_err(|e| ImportError::store(file)(e.into()))?;
    tx.commit()
        .map_err(|e| ImportError::store(file)(e.into()))?;
    Ok(())
}

/// What every row of one import is written with.
#[derive(Clone, Copy)]
struct Stamp {
    import_id: i64,
    now: i64,
    /// The bundled sample data: its companies are marked fictional.
    sample: bool,
}

enum Outcome {
    New,
    /// Prospects: already stored, empty fields filled from the row.
    Updated,
    Duplicate,
    Replaced,
}

enum RowError {
    Reject(Rejection),
    Store(StoreError),
}

impl Outcome {
    fn count(self, summary: &mut ImportSummary) {
        match self {
            Outcome::New => summary.imported += 1,
            Outcome::Updated => summary.updated += 1,
            Outcome::Duplicate => summary.duplicates += 1,
            Outcome::Replaced => summary.replaced += 1,
        }
    }
}

/// A row kept, with a note (kept in memory up to `MAX_REJECTS_KEPT`, counted beyond).
fn noted(summary: &mut ImportSummary, row: i64, note: String) {
    summary.noted += 1;
    if summary.notes.len() < MAX_REJECTS_KEPT {
        summary.notes.push(RowReject::about_row(row, note));
    }
}

fn reject(summary: &mut ImportSummary, row: i64, why: Rejection) {
    summary.rejected += 1;
    if summary.rejects.len() < MAX_REJECTS_KEPT {
        summary.rejects.push(RowReject {
            row,
            reason: why.reason,
            field: why.field,
            value: why.value,
        });
    }
}

/// Rows between two progress calls (each may cancel the import).
const PROGRESS_EVERY: usize = 1024;
/// Rows handed from the normalising thread to the writer at a time.
const BATCH: usize = 512;

/// Prospects: one thread cleans rows and computes their keys while this one writes the
/// previous batch to SQLite; the two halves cost about the same, so a large file imports in
/// about half the time. Rows are stored in file order either way.
fn store_prospects(
    tx: &rusqlite::Transaction<'_>,
    data: &[SourceRow],
    map: &ColumnMap,
    at: Stamp,
    summary: &mut ImportSummary,
    progress: &mut dyn FnMut(ImportProgress) -> bool,
) -> Result<(), ImportError> {
    let Stamp {
        import_id,
        now,
        sample,
    } = at;
    let file = summary.file.clone();
    let total = data.len() as u64;
    type Normalised = (
        i64,
        Result<(prospects::NewProspect, Option<String>), Rejection>,
    );
    std::thread::scope(|scope| {
        let (batches, received) = std::sync::mpsc::sync_channel::<Vec<Normalised>>(4);
        scope.spawn(move || {
            // Company keys repeat a lot (many people per company): compute each once.
            let mut keys: HashMap<String, String> = HashMap::new();
            for chunk in data.chunks(BATCH) {
                let batch = chunk
                    .iter()
                    .filter(|row| !is_blank(row))
                    .map(|row| {
                        let p = prospect_row(row, map, &mut keys).map_err(|e| match e {
                            RowError::Reject(why) => why,
                            RowError::Store(e) => Rejection::from(e.to_string()),
                        });
                        (row.number, p)
                    })
                    .collect();
                // The writer hung up: cancelled or failed; it reports why.
                if batches.send(batch).is_err() {
                    return;
                }
            }
        });
        let mut insert =
            prospects::Inserter::new(tx, import_id, now).map_err(ImportError::store(&file))?;
        // Each company row is written once per import: inserted the first time its key is
        // seen, given the import's domain the first time a row carries one (later rows cannot
        // change an import-provided domain anyway).
        let mut companies_seen: std::collections::HashSet<String> = Default::default();
        let mut domains_given: std::collections::HashSet<String> = Default::default();
        let mut next_progress = PROGRESS_EVERY as u64;
        let mut handled = 0u64;
        for batch in received {
            for (number, normalised) in batch {
                let p = match normalised {
                    Ok((p, note)) => {
                        if let Some(note) = note {
                            noted(summary, number, note);
                        }
                        p
                    }
                    Err(why) => {
                        reject(summary, number, why);
                        continue;
                    }
                };
                let new_company = !companies_seen.contains(&p.company_key);
                let new_domain = p.domain.is_some() && !domains_given.contains(&p.company_key);
                if new_company || new_domain {
                    companies::upsert(
                        tx,
                        &p.company_key,
                        &p.company,
                        p.domain.as_deref(),
                        sample,
                        now,
                    )
                    .map_err(ImportError::store(&file))?;
                    if new_company {
                        companies_seen.insert(p.company_key.clone());
                    }
                    if new_domain {
                        domains_given.insert(p.company_key.clone());
                    }
                }
                let outcome = match insert.insert(&p).map_err(ImportError::store(&file))? {
                    prospects::Stored::New => Outcome::New,
                    prospects::Stored::Updated => Outcome::Updated,
                    prospects::Stored::Duplicate => Outcome::Duplicate,
                };
                // Another address for a person already stored is not taken: said on the row,
                // so it is not lost without a word.
                if !matches!(outcome, Outcome::New)
                    && let Some(kept) = insert.kept_email(&p).map_err(ImportError::store(&file))?
                {
                    let note = format!(
                        "{} {} at {} is already stored with {kept}: {} not taken \
                         (hailer suggestions set, or edit the address, to change it)",
                        p.firstname,
                        p.lastname,
                        p.company,
                        p.email.as_deref().unwrap_or_default()
                    );
                    noted(summary, number, note);
                }
                outcome.count(summary);
            }
            handled += BATCH as u64;
            if handled >= next_progress {
                next_progress += PROGRESS_EVERY as u64;
                if !progress(ImportProgress {
                    done: handled.min(total),
                    total,
                }) {
                    // Dropping the transaction rolls every row back; dropping the receiver
                    // stops the normalising thread.
                    return Err(ImportError::Cancelled { file: file.clone() });
                }
            }
        }
        Ok(())
    })
}

/// Messages: a few hundred rows at most, written as they are read.
fn store_messages(
    tx: &rusqlite::Transaction<'_>,
    data: &[SourceRow],
    map: &ColumnMap,
    at: Stamp,
    summary: &mut ImportSummary,
    progress: &mut dyn FnMut(ImportProgress) -> bool,
) -> Result<(), ImportError> {
    let Stamp {
        import_id,
        now,
        sample,
    } = at;
    let file = summary.file.clone();
    let total = data.len() as u64;
    let mut keys: HashMap<String, String> = HashMap::new();
    // The first row per company key in this file, to refuse a conflicting second one.
    let mut message_rows: HashMap<String, (i64, String, String)> = HashMap::new();
    for (i, row) in data.iter().enumerate() {
        if i % PROGRESS_EVERY == 0
            && i > 0
            && !progress(ImportProgress {
                done: i as u64,
                total,
            })
        {
            return Err(ImportError::Cancelled { file });
        }
        if is_blank(row) {
            continue;
        }
        let mut row_note = None;
        let outcome = message_row(row, map, &mut keys).and_then(|(m, error_note)| {
            let syntax_note = template_syntax_note(&m.subject, &m.body);
            row_note = match (error_note, syntax_note) {
                (Some(a), Some(b)) => Some(format!("{a}; {b}")),
                (a, b) => a.or(b),
            };
            if let Some((first, subject, body)) = message_rows.get(&m.company_key) {
                return if *subject == m.subject && *body == m.body {
                    Ok(Outcome::Duplicate)
                } else {
                    Err(RowError::Reject(Rejection::from(format!(
                        "company {:?} already has a different message on {} {first} of this file",
                        m.company, summary.row_unit
                    ))))
                };
            }
            message_rows.insert(
                m.company_key.clone(),
                (m.source_row, m.subject.clone(), m.body.clone()),
            );
            companies::upsert(tx, &m.company_key, &m.company, None, sample, now)
                .and_then(|_| messages::upsert(tx, &m, import_id, now))
                .map(|stored| match stored {
                    messages::Stored::New => Outcome::New,
                    messages::Stored::Duplicate => Outcome::Duplicate,
                    messages::Stored::Replaced => Outcome::Replaced,
                })
                .map_err(RowError::Store)
        });
        match outcome {
            Ok(o) => {
                o.count(summary);
                if let Some(note) = row_note {
                    noted(summary, row.number, note);
                }
            }
            Err(RowError::Reject(why)) => reject(summary, row.number, why),
            Err(RowError::Store(e)) => return Err(ImportError::store(&file)(e)),
        }
    }
    Ok(())
}

/// A placeholder left open in a message (`Hi {firstname`): `outbox build` refuses every row of
/// its company until it is fixed, so the import says it at once. Unknown names are not judged
/// here: the prospects' columns may be imported later.
fn template_syntax_note(subject: &str, body: &str) -> Option<String> {
    use crate::engine::outbox::template::{Escape, TemplateError, Vars, render};
    let unclosed = |text: &str| {
        render(text, &Vars::new(), Escape::None)
            .err()?
            .into_iter()
            .find_map(|e| matches!(e, TemplateError::Unclosed(_)).then(|| e.to_string()))
    };
    let problems: Vec<String> = [("subject", subject), ("body", body)]
        .into_iter()
        .filter_map(|(part, text)| unclosed(text).map(|e| format!("{part}: {e}")))
        .collect();
    (!problems.is_empty()).then(|| {
        format!(
            "{}: outbox build refuses this message until it is fixed",
            problems.join("; ")
        )
    })
}

/// `--sheet` names the sheet (hidden or not); otherwise the first visible sheet whose header
/// maps the required fields. Hidden sheets (old data, lookups) are never picked on their own.
/// The other visible sheets whose header also fits are returned so the summary can say they
/// were not imported.
fn choose_sheet(
    src: &mut source::Source,
    req: &ImportRequest,
    format: &Format,
) -> Result<(String, source::SheetRows, ColumnMap, Vec<String>), ImportError> {
    let file = req.file.as_path();
    let names = match &req.sheet {
        Some(_) => src.sheet_names(),
        None => src.visible_sheet_names(),
    };
    let candidates: Vec<String> = match &req.sheet {
        Some(wanted) => {
            let found = names
                .iter()
                .find(|n| *n == wanted)
                .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(wanted)));
            match found {
                Some(n) => vec![n.clone()],
                None => {
                    return Err(ImportError::NoSuchSheet {
                        file: file.to_path_buf(),
                        sheet: wanted.clone(),
                        available: names.join(", "),
                    });
                }
            }
        }
        None => names.clone(),
    };
    let required = req.kind.required();
    let mut first_rows_seen: Vec<String> = Vec::new();
    // With --map, the sheet and row closest to a header, to say which mapping does not fit.
    let mut closest: Option<(String, columns::HeaderMismatch)> = None;
    for name in &candidates {
        let loaded = src.load(name).map_err(|cause| ImportError::Unreadable {
            file: file.to_path_buf(),
            cause,
        })?;
        let rows = &loaded.rows;
        if let Some(map) = find_header(rows, required, req.kind.optional(), &req.overrides) {
            let mut others = Vec::new();
            for other in candidates.iter().skip_while(|n| *n != name).skip(1) {
                // Only its header matters: an XLSX sheet is read no further.
                let fits = src
                    .head(other, columns::HEADER_SEARCH_ROWS)
                    .is_ok_and(|rows| {
                        find_header(&rows, required, req.kind.optional(), &req.overrides).is_some()
                    });
                if fits {
                    others.push(other.clone());
                }
            }
            return Ok((name.clone(), loaded, map, others));
        }
        if let Some(m) = closest_header(rows, required, req.kind.optional(), &req.overrides)
            && closest.as_ref().is_none_or(|(_, c)| c.score < m.score)
        {
            closest = Some((name.clone(), m));
        }
        if let Some(first) = rows.iter().find(|r| r.cells.iter().any(|c| !c.is_empty())) {
            let shown: Vec<&str> = first
                .cells
                .iter()
                .filter(|c| !c.is_empty())
                .take(8)
                .map(String::as_str)
                .collect();
            // A CSV's one "sheet" is named after the file: no prefix then.
            first_rows_seen.push(match format {
                Format::Csv { .. } => shown.join(" | "),
                _ => format!("{name}: {}", shown.join(" | ")),
            });
        }
    }
    if let Some((sheet, m)) = closest {
        let problems: Vec<String> = m.problems.iter().map(ToString::to_string).collect();
        return Err(ImportError::BadMapping {
            file: file.to_path_buf(),
            problems: problems.join("; "),
            where_: match format {
                Format::Csv { .. } => format!("line {}", m.row_number),
                _ => format!("row {} of sheet {sheet:?}", m.row_number),
            },
            headers: m.headers.join(" | "),
        });
    }
    let where_ = match (format, &req.sheet) {
        (Format::Csv { .. }, _) => "the file".to_string(),
        (_, Some(s)) => format!("sheet {s:?}"),
        _ => format!("any sheet ({})", names.join(", ")),
    };
    let mut needed: Vec<String> = required.iter().map(|f| f.name().to_string()).collect();
    for o in &req.overrides {
        needed.push(format!("{}={:?}", o.field, o.header));
    }
    let hint = if first_rows_seen.is_empty() {
        " (the file has no data)".to_string()
    } else {
        format!(
            "; first non-empty row: {} (use --map field=Header)",
            first_rows_seen.join("; ")
        )
    };
    Err(ImportError::NoHeader {
        file: file.to_path_buf(),
        where_,
        needed: needed.join(", "),
        hint,
    })
}

/// The field's value in `row`: its column's, else the first non-empty column it falls back
/// to (see `ColumnMap::fallbacks`).
fn cell<'a>(row: &'a SourceRow, map: &ColumnMap, field: Field) -> &'a str {
    let value = |c: usize| row.cells.get(c).map_or("", String::as_str);
    let own = map.column(field).map_or("", value);
    if !own.is_empty() {
        return own;
    }
    map.fallbacks
        .iter()
        .filter(|(f, _)| *f == field)
        .map(|(_, c)| value(*c))
        .find(|v| !v.is_empty())
        .unwrap_or("")
}

/// The error values a spreadsheet shows for a formula without a result (Excel in English and
/// French, LibreOffice's `Err:NNN`). Exported to CSV they are plain text: a lookup that found
/// nothing would otherwise become a company called "#N/A", or a greeting "Hello #N/A".
fn is_sheet_error(value: &str) -> bool {
    const ERRORS: [&str; 20] = [
        "#N/A",
        "#DIV/0!",
        "#NAME?",
        "#NULL!",
        "#NUM!",
        "#REF!",
        "#VALUE!",
        "#DATA!",
        "#GETTING_DATA",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
        "#NOM?",
        "#NUL!",
        "#NOMBRE!",
        "#VALEUR!",
    ];
    let value = value.trim();
    ERRORS.iter().any(|e| value.eq_ignore_ascii_case(e))
        || value
            .strip_prefix("Err:")
            .is_some_and(|code| code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()))
}

/// A row with nothing in it: empty cells, or formula errors only (lookups dragged below the
/// data, each `#N/A`), skipped as a blank row is rather than rejected one by one.
fn is_blank(row: &SourceRow) -> bool {
    row.cells.iter().all(|c| c.is_empty() || is_sheet_error(c))
}

/// `row` without its formula-error cells ([`is_sheet_error`]) and formulas without a computed
/// value ([`source::Uncomputed`]), and a note naming them. A required field whose own cell is
/// one rejects the row with the cell named: "missing company" would send the user looking
/// for an empty cell that is not there, and a formula's text is no value either.
fn without_sheet_errors<'a>(
    row: &'a SourceRow,
    map: &ColumnMap,
    required: &[Field],
) -> Result<(std::borrow::Cow<'a, SourceRow>, Option<String>), RowError> {
    if row.uncomputed.is_empty() && !row.cells.iter().any(|c| is_sheet_error(c)) {
        return Ok((std::borrow::Cow::Borrowed(row), None));
    }
    let mut cleaned = row.clone();
    let mut blanked = Vec::new();
    for (col, value) in cleaned.cells.iter_mut().enumerate() {
        if is_sheet_error(value) {
            blanked.push((col, std::mem::take(value)));
        }
    }
    let column_name = |col: usize| {
        map.fields
            .iter()
            .find(|(_, c)| *c == col)
            .map(|(f, _)| f.name().to_string())
            .or_else(|| {
                map.extra
                    .iter()
                    .find(|(c, _)| *c == col)
                    .map(|(_, h)| h.clone())
            })
            .unwrap_or_else(|| format!("column {}", col + 1))
    };
    for field in required {
        if cell(&cleaned, map, *field).is_empty() {
            if let Some((_, error)) = blanked
                .iter()
                .find(|(col, _)| map.column(*field) == Some(*col))
            {
                return Err(RowError::Reject(Rejection::of(
                    *field,
                    error,
                    format!(
                        "{} is the spreadsheet error {error} (a formula without a result), not \
                         a value",
                        field.name()
                    ),
                )));
            }
            if let Some(u) = row
                .uncomputed
                .iter()
                .find(|u| map.column(*field) == Some(u.column))
            {
                return Err(RowError::Reject(Rejection::of(
                    *field,
                    &u.formula,
                    format!(
                        "{}: cell {} holds the formula {} with no computed value (the file was \
                         written by a program that does not calculate formulas: open it in \
                         Excel or LibreOffice and save it again)",
                        field.name(),
                        u.cell,
                        u.formula
                    ),
                )));
            }
        }
    }
    let mut notes = Vec::new();
    if !blanked.is_empty() {
        let named: Vec<String> = blanked
            .iter()
            .map(|(col, error)| format!("{} ({error})", column_name(*col)))
            .collect();
        notes.push(format!(
            "spreadsheet error left empty in {}",
            named.join(", ")
        ));
    }
    if !row.uncomputed.is_empty() {
        let named: Vec<String> = row
            .uncomputed
            .iter()
            .map(|u| format!("{} ({} {})", column_name(u.column), u.cell, u.formula))
            .collect();
        notes.push(format!(
            "formula with no computed value left empty in {}",
            named.join(", ")
        ));
    }
    Ok((std::borrow::Cow::Owned(cleaned), Some(notes.join("; "))))
}

fn missing(row: &SourceRow, map: &ColumnMap, fields: &[Field]) -> Result<(), RowError> {
    if map.is_header_again(row) {
        return Err(RowError::Reject(
            "the header row again (files joined together?): not a person, skipped"
                .to_string()
                .into(),
        ));
    }
    let absent: Vec<&str> = fields
        .iter()
        .filter(|f| cell(row, map, **f).is_empty())
        .map(|f| f.name())
        .collect();
    if absent.is_empty() {
        Ok(())
    } else {
        let reason = format!("missing {}", absent.join(", "));
        Err(RowError::Reject(match absent[..] {
            [one] => Rejection {
                reason,
                field: Some(one),
                value: None,
            },
            _ => reason.into(),
        }))
    }
}

fn extra_json(row: &SourceRow, map: &ColumnMap) -> String {
    let mut extra = serde_json::Map::new();
    for (col, header) in &map.extra {
        if let Some(value) = row.cells.get(*col).filter(|v| !v.is_empty()) {
            extra.insert(header.clone(), serde_json::Value::String(value.clone()));
        }
    }
    // Cells past the header's last column (a ragged row) are kept under their position,
    // as a header cell left empty is, rather than dropped.
    for (col, value) in row.cells.iter().enumerate().skip(map.width) {
        if !value.is_empty() {
            extra.insert(
                format!("column {}", col + 1),
                serde_json::Value::String(value.clone()),
            );
        }
    }
    serde_json::Value::Object(extra).to_string()
}

/// The note for a row with values past the header's last column, kept as `column N`.
fn ragged_note(row: &SourceRow, map: &ColumnMap) -> Option<String> {
    let past: Vec<String> = row
        .cells
        .iter()
        .enumerate()
        .skip(map.width)
        .filter(|(_, v)| !v.is_empty())
        .map(|(i, _)| format!("column {}", i + 1))
        .collect();
    (!past.is_empty()).then(|| {
        format!(
            "{} past the header's {} columns, kept as {}",
            if past.len() == 1 { "a value" } else { "values" },
            map.width,
            past.join(", ")
        )
    })
}

fn key_for(keys: &mut HashMap<String, String>, company: &str) -> Result<String, RowError> {
    let key = keys
        .entry(company.to_string())
        .or_insert_with(|| company_key(company))
        .clone();
    if key.is_empty() {
        return Err(RowError::Reject(Rejection::of(
            Field::Company,
            company,
            format!("company {company:?} has no letters or digits"),
        )));
    }
    Ok(key)
}

/// A prospect from one row, with a note when part of the row was set aside (see
/// [`ImportSummary::notes`]).
fn prospect_row(
    row: &SourceRow,
    map: &ColumnMap,
    keys: &mut HashMap<String, String>,
) -> Result<(prospects::NewProspect, Option<String>), RowError> {
    let (row, error_note) = without_sheet_errors(row, map, ImportKind::Prospects.required())?;
    let row = &*row;
    missing(row, map, ImportKind::Prospects.required())?;
    // A name is one line: in a greeting a line break would split "Hello Anne⏎Marie".
    let mut broken = Vec::new();
    let mut one_line = |field: Field| {
        let value = cell(row, map, field);
        if value.contains(['\n', '\r']) {
            broken.push(field.name());
            std::borrow::Cow::Owned(value.split_whitespace().collect::<Vec<_>>().join(" "))
        } else {
            std::borrow::Cow::Borrowed(value)
        }
    };
    let firstname = one_line(Field::Firstname);
    let lastname = one_line(Field::Lastname);
    let company = one_line(Field::Company);
    let title = one_line(Field::Title);
    let (firstname, lastname, company) = (&*firstname, &*lastname, &*company);
    // A number or a date in a name column (columns shifted, an id pasted) would greet
    // "Hello 10452": a name has at least one letter.
    for (field, value) in [(Field::Firstname, firstname), (Field::Lastname, lastname)] {
        if !value.chars().any(char::is_alphabetic) {
            return Err(RowError::Reject(Rejection::of(
                field,
                value,
                format!("{} {value:?} has no letters: not a name", field.name()),
            )));
        }
    }
    let mut notes: Vec<String> = error_note
        .into_iter()
        .chain(ragged_note(row, map))
        .collect();
    if !broken.is_empty() {
        notes.push(format!(
            "line break in {} replaced by a space",
            broken.join(", ")
        ));
    }
    // Email and website are optional, and `find` exists to fill them: a bad value in one
    // leaves that field empty with a note, as a spreadsheet error does, never drops the person.
    let email = match cell(row, map, Field::Email) {
        "" => None,
        raw => match checked_email(raw) {
            Ok(email) => Some(email),
            Err(why) => {
                notes.push(format!("invalid email {raw:?} ({why}): email left empty"));
                None
            }
        },
    };
    let domain = match cell(row, map, Field::Domain) {
        "" => None,
        raw => match normalize_domain(raw) {
            None => {
                notes.push(format!(
                    "invalid domain or website {raw:?}: domain left unset"
                ));
                None
            }
            // A profile or page address says nothing about the company's own domain; the
            // rest of the row is still good.
            Some(domain) => match platform_host(&domain) {
                Some(platform) => {
                    notes.push(format!(
                        "website {raw:?} is a page on {platform}, not the company's own site: \
                         domain left unset"
                    ));
                    None
                }
                // Mail for people (the list find uses for imported addresses): guessing
                // i.j@gmail.com or scraping gmail.com finds nothing about the company.
                None if crate::engine::find::domain::is_personal_mail(&domain) => {
                    notes.push(format!(
                        "website {raw:?} is a personal mail provider, not the company's own \
                         site: domain left unset"
                    ));
                    None
                }
                None => Some(domain),
            },
        },
    };
    let title = Some(title.into_owned()).filter(|t| !t.is_empty());
    let prospect = prospects::NewProspect {
        firstname: firstname.to_string(),
        lastname: lastname.to_string(),
        company: company.to_string(),
        company_key: key_for(keys, company)?,
        person_key: person_key(firstname, lastname),
        email,
        title,
        domain,
        extra: extra_json(row, map),
        source_row: row.number,
    };
    Ok((prospect, (!notes.is_empty()).then(|| notes.join("; "))))
}

fn message_row(
    row: &SourceRow,
    map: &ColumnMap,
    keys: &mut HashMap<String, String>,
) -> Result<(messages::NewMessage, Option<String>), RowError> {
    let (row, error_note) = without_sheet_errors(row, map, ImportKind::Messages.required())?;
    let row = &*row;
    missing(row, map, ImportKind::Messages.required())?;
    let company = cell(row, map, Field::Company);
    let message = messages::NewMessage {
        company: company.to_string(),
        company_key: key_for(keys, company)?,
        subject: cell(row, map, Field::Subject).to_string(),
        body: cell(row, map, Field::Body).replace("\r\n", "\n"),
        extra: extra_json(row, map),
        source_row: row.number,
    };
    Ok((message, error_note))
}
