//! Reading an input file into rows of cleaned text cells, whatever its format.
//!
//! The format is detected from the content, never from the extension: ZIP magic means XLSX or
//! ODS (the ODS `mimetype` entry tells them apart), the OLE2 magic means XLS, anything else must
//! be text: CSV/TSV in UTF-8 (BOM or not), UTF-16 (BOM or not), Windows-1252, or lines of
//! both UTF-8 and Windows-1252.

use std::borrow::Cow;
use std::cell::Cell;
use std::io::Cursor;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use std::collections::HashMap;

use calamine::{Data, DataRef, Dimensions, Ods, Reader, Sheets, Xls, Xlsx};

use super::normalize::clean_cell;
use super::number_format::Shown;

/// One row as read, with its 1-based row (spreadsheet) or line (CSV) number.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SourceRow {
    pub number: i64,
    pub cells: Vec<String>,
    /// Its cells that hold a formula with no computed value (XLSX written by a program that
    /// does not calculate formulas): empty in `cells`, never a value.
    pub uncomputed: Vec<Uncomputed>,
}

/// A formula cell without a computed value.
#[derive(Debug, Clone, PartialEq)]
pub struct Uncomputed {
    /// Index into the row's cells.
    pub column: usize,
    /// As a spreadsheet names it: `Prospects!C3`.
    pub cell: String,
    /// As typed: `=C2`.
    pub formula: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    Csv {
        delimiter: u8,
        encoding: &'static str,
    },
    Xlsx,
    Xls,
    Ods,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Format::Csv {
                delimiter,
                encoding,
            } => {
                let d = match delimiter {
                    b'\t' => "tab".to_string(),
                    other => format!("'{}'", *other as char),
                };
                write!(f, "CSV ({encoding}, delimiter {d})")
            }
            Format::Xlsx => f.write_str("XLSX"),
            Format::Xls => f.write_str("XLS"),
            Format::Ods => f.write_str("ODS"),
        }
    }
}

/// An opened file: a CSV is one sheet named after the file.
pub enum Source {
    Csv { name: String, rows: Vec<SourceRow> },
    Book(Box<Sheets<Cursor<Vec<u8>>>>, Box<Layouts>),
}

/// What the reader library does not give about a workbook's sheets, read from the file
/// itself, by sheet name: ODS merged cells, XLS and ODS numbers as shown (XLSX gives both),
/// ODS formulas stored without a value (XLSX ones are read in [`xlsx_uncomputed`]).
#[derive(Debug, Default)]
pub struct Layouts {
    merged: HashMap<String, Vec<Dimensions>>,
    shown: super::xls_formats::ShownCells,
    uncomputed: HashMap<String, SheetCells>,
}

/// A sheet's non-empty cells as (row, column, text), 0-based.
type SheetCells = Vec<(u32, u32, String)>;

pub struct Opened {
    pub format: Format,
    pub source: Source,
    /// What the summary should tell about the file as a whole (a CSV mixing encodings).
    pub warnings: Vec<String>,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const ODS_MIME: &[u8] = b"application/vnd.oasis.opendocument.spreadsheet";

/// The cause given for a file that is neither text nor a spreadsheet.
pub const BINARY: &str = "not a CSV or spreadsheet file (binary content)";

/// Binary files (images, archives, executables) hold NUL bytes in their first 64 KiB; text
/// without a UTF-16 BOM never does.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(64 * 1024).any(|&b| b == 0)
}

/// A ZIP file is an ODS document when its first entry, `mimetype`, stored uncompressed within
/// the first 200 bytes, names the ODS type; any other ZIP is taken for XLSX.
fn is_ods(zip: &[u8]) -> bool {
    zip.get(..200)
        .is_some_and(|head| head.windows(ODS_MIME.len()).any(|w| w == ODS_MIME))
}

/// What a file starting with `head` is when it is not text: the spreadsheet its signature
/// names (as [`open`] tells them apart), or binary content. `None` for text, UTF-16 included.
pub fn non_text(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(ZIP_MAGIC) {
        return Some(if is_ods(head) {
            "an ODS spreadsheet"
        } else {
            "an XLSX spreadsheet (or another ZIP archive)"
        });
    }
    if head.starts_with(OLE_MAGIC) {
        return Some("an XLS spreadsheet (or another OLE document)");
    }
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return None;
    }
    is_binary(head).then_some(BINARY)
}

/// What a file of markup is when it is no CSV: a web page or an Excel 2003 XML workbook, told
/// by its first kilobyte (after a BOM and blank space).
fn markup_kind(bytes: &[u8]) -> Option<&'static str> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    let head = body[start..body.len().min(start + 1024)].to_ascii_lowercase();
    let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    if [&b"<!doctype html"[..], b"<html", b"<table"]
        .iter()
        .any(|tag| head.starts_with(tag))
        || (head.starts_with(b"<?xml") && has(b"<html"))
    {
        Some("an HTML page")
    } else if head.starts_with(b"<?xml") && has(b"urn:schemas-microsoft-com:office:spreadsheet") {
        Some("an Excel 2003 XML workbook")
    } else {
        None
    }
}

/// Open `path`; the error string is the cause, the caller adds the file name.
pub fn open(path: &Path, bytes: Vec<u8>) -> Result<Opened, String> {
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    if bytes.starts_with(ZIP_MAGIC) {
        let ods = is_ods(&bytes);
        let layouts = if ods {
            let mut layouts = Layouts::default();
            for (sheet, layout) in super::ods_layout::read(&bytes) {
                layouts.merged.insert(sheet.clone(), layout.merged);
                layouts.shown.insert(sheet.clone(), layout.shown);
                layouts.uncomputed.insert(sheet, layout.uncomputed);
            }
            layouts
        } else {
            Layouts::default()
        };
        let cursor = Cursor::new(bytes);
        return if ods {
            let book = catching_panics(|| Ods::new(cursor), "not a readable ODS file (damaged?)")?
                .map_err(|e| format!("not a readable ODS file: {e}"))?;
            Ok(Opened {
                format: Format::Ods,
                source: Source::Book(Box::new(Sheets::Ods(book)), Box::new(layouts)),
                warnings: Vec::new(),
            })
        } else {
            let book =
                catching_panics(|| Xlsx::new(cursor), "not a readable XLSX file (damaged?)")?
                    .map_err(|e| {
                        format!("not a readable XLSX file (truncated or damaged?): {e}")
                    })?;
            Ok(Opened {
                format: Format::Xlsx,
                source: Source::Book(Box::new(Sheets::Xlsx(book)), Box::default()),
                warnings: Vec::new(),
            })
        };
    }
    if bytes.starts_with(OLE_MAGIC) {
        super::xls_guard::check(&bytes)?;
        let layouts = Layouts {
            shown: super::xls_formats::shown_numbers(&bytes),
            ..Layouts::default()
        };
        let book = catching_panics(
            || Xls::new(Cursor::new(bytes)),
            "not a readable XLS file (damaged?)",
        )?
        .map_err(|e| format!("not a readable XLS file (truncated or damaged?): {e}"))?;
        return Ok(Opened {
            format: Format::Xls,
            source: Source::Book(Box::new(Sheets::Xls(book)), Box::new(layouts)),
            warnings: Vec::new(),
        });
    }
    if let Some(kind) = markup_kind(&bytes) {
        // Web apps' "Export to Excel" often writes one of these under an .xls name.
        return Err(format!(
            "{kind}, not a spreadsheet or CSV (what some \"Export to Excel\" buttons write): \
             open it in a spreadsheet program and save it as XLSX or CSV"
        ));
    }
    let decoded = decode_text(&bytes)?;
    let text = lone_cr_to_lf(decoded.text);
    let delimiter = sniff_delimiter(&String::from_utf8_lossy(&text));
    let rows = parse_csv(&text, delimiter)?;
    // `-` is standard input: its "sheet" in the import log is said so, not `-` (which the
    // log's formula guard wrote as `'-`).
    let name = if path.as_os_str() == "-" {
        "standard input".into()
    } else {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "csv".into())
    };
    Ok(Opened {
        format: Format::Csv {
            delimiter,
            encoding: decoded.encoding,
        },
        source: Source::Csv { name, rows },
        warnings: decoded.mixed.into_iter().collect(),
    })
}

impl Source {
    pub fn sheet_names(&self) -> Vec<String> {
        match self {
            Source::Csv { name, .. } => vec![name.clone()],
            Source::Book(book, _) => book.sheet_names(),
        }
    }

    /// The sheets a person sees in the spreadsheet: hidden ones left out.
    pub fn visible_sheet_names(&self) -> Vec<String> {
        match self {
            Source::Csv { name, .. } => vec![name.clone()],
            Source::Book(book, _) => book
                .sheets_metadata()
                .iter()
                .filter(|s| s.visible == calamine::SheetVisible::Visible)
                .map(|s| s.name.clone())
                .collect(),
        }
    }

    /// The rows of one sheet, cleaned (trimmed, NFC), with their original row numbers.
    ///
    /// Only rows holding a value are returned, each as wide as its last value (a CSV reader
    /// skips blank lines the same way). A sheet is never laid out as one dense block: a single
    /// stray value in XFD1048576 would make that block 17 billion cells, an allocation that
    /// aborts the process. XLSX cells are read one by one; XLS and ODS sheets come parsed by
    /// the reader library, and are walked by their used cells.
    ///
    /// Vertically merged cells are filled down: see [`fill_merged_down`]. The warnings say
    /// which were, and name the formulas without a computed value (see [`Uncomputed`]).
    pub fn load(&mut self, sheet: &str) -> Result<SheetRows, String> {
        let damaged = format!("cannot read sheet {sheet:?}: the file is damaged");
        let (mut cells, merged, uncomputed) = match self {
            Source::Csv { rows, .. } => {
                return Ok(SheetRows {
                    rows: std::mem::take(rows),
                    warnings: Vec::new(),
                });
            }
            Source::Book(book, layouts) => match book.as_mut() {
                Sheets::Xlsx(xlsx) => {
                    let (cells, saw_empty) =
                        catching_panics(|| xlsx_cells(xlsx, sheet, None), &damaged)??;
                    // Only an empty cell can be a formula without its value: a second look at
                    // the sheet is paid for by the files that have some.
                    let uncomputed = if saw_empty {
                        catching_panics(|| xlsx_uncomputed(xlsx, sheet), &damaged)??
                    } else {
                        Vec::new()
                    };
                    let merged =
                        catching_panics(|| xlsx.merge_cells_by_sheet_name(sheet), &damaged)?
                            .map_err(|e| format!("cannot read sheet {sheet:?}: {e}"))?;
                    (cells, merged, uncomputed)
                }
                other => {
                    let range = catching_panics(|| other.worksheet_range(sheet), &damaged)?
                        .map_err(|e| format!("cannot read sheet {sheet:?}: {e}"))?;
                    let merged = match other {
                        Sheets::Xls(xls) => {
                            xls.merge_cells_by_sheet_name(sheet).unwrap_or_default()
                        }
                        _ => layouts.merged.get(sheet).cloned().unwrap_or_default(),
                    };
                    let shown: HashMap<(u32, u32), &String> = layouts
                        .shown
                        .get(sheet)
                        .into_iter()
                        .flatten()
                        .map(|(at, text)| (*at, text))
                        .collect();
                    let (top, left) = range.start().unwrap_or((0, 0));
                    let cells = range
                        .used_cells()
                        .map(|(r, c, cell)| {
                            let at = (top + r as u32, left + c as u32);
                            let text = match (cell, shown.get(&at)) {
                                (Data::Float(_) | Data::Int(_), Some(text)) => (*text).clone(),
                                _ => cell_text(cell),
                            };
                            (at.0, at.1, text)
                        })
                        .filter(|(_, _, text)| !text.is_empty())
                        .collect::<SheetCells>();
                    // A formula noted without a value counts only where the reader found
                    // nothing either.
                    let uncomputed = match layouts.uncomputed.get(sheet) {
                        Some(formulas) if !formulas.is_empty() => {
                            let read: std::collections::HashSet<(u32, u32)> =
                                cells.iter().map(|(r, c, _)| (*r, *c)).collect();
                            formulas
                                .iter()
                                .filter(|(r, c, _)| !read.contains(&(*r, *c)))
                                .cloned()
                                .collect()
                        }
                        _ => Vec::new(),
                    };
                    (cells, merged, uncomputed)
                }
            },
        };
        let mut warnings: Vec<String> = fill_merged_down(sheet, &mut cells, &merged)?
            .into_iter()
            .collect();
        warnings.extend(uncomputed_warning(sheet, &uncomputed));
        Ok(SheetRows {
            rows: rows_from_cells(sheet, cells, uncomputed)?,
            warnings,
        })
    }

    /// The first `rows` rows of a sheet that hold a value, as [`Source::load`] gives them: enough
    /// to look for its header. An XLSX sheet is read only that far, so a look at a large sheet
    /// costs next to nothing; XLS and ODS sheets come parsed whole from the reader library
    /// anyway, and are cut after loading. A CSV keeps its rows for a later `load`.
    ///
    /// An XLSX sheet's merged cells are listed after its cells, so they are not looked at here:
    /// these rows only tell whether a header fits, and `load` fills them.
    pub fn head(&mut self, sheet: &str, rows: usize) -> Result<Vec<SourceRow>, String> {
        if let Source::Book(book, _) = self
            && let Sheets::Xlsx(xlsx) = book.as_mut()
        {
            let damaged = format!("cannot read sheet {sheet:?}: the file is damaged");
            let (cells, _) = catching_panics(|| xlsx_cells(xlsx, sheet, Some(rows)), &damaged)??;
            return rows_from_cells(sheet, cells, Vec::new());
        }
        if let Source::Csv { rows: all, .. } = self {
            return Ok(all.iter().take(rows).cloned().collect());
        }
        let mut all = self.load(sheet)?.rows;
        all.truncate(rows);
        Ok(all)
    }
}

/// A sheet's rows as [`Source::load`] gives them, and what the summary should say about them
/// (merged cells filled down).
#[derive(Debug)]
pub struct SheetRows {
    pub rows: Vec<SourceRow>,
    pub warnings: Vec<String>,
}

/// Merged regions named in the warning of [`fill_merged_down`].
const MERGES_NAMED: usize = 3;

/// Fill vertically merged cells down. People merge a company cell over the rows of its
/// several contacts; the file keeps the value in the region's top cell only, so each row
/// below it would lack its company. A region spanning several rows whose top-left cell holds
/// a value gives that value to the region's first column in every row it covers that holds
/// another value (a row with nothing else in it stays a blank row, not a row of a company
/// alone). Values are never copied sideways: a region over several columns is a title or a
/// group header (`Contact` over `Prénom` and `Nom`), and a copy would make headers up. A
/// covered cell that still holds its own value keeps it.
///
/// Returns the warning that says which regions were filled, or nothing when none was. The
/// cells added are counted first, so a file merging huge regions is refused like any sheet
/// too large, before anything is allocated.
fn fill_merged_down(
    sheet: &str,
    cells: &mut Vec<(u32, u32, String)>,
    merged: &[calamine::Dimensions],
) -> Result<Option<String>, String> {
    let mut tall: Vec<&calamine::Dimensions> = merged
        .iter()
        .filter(|d| d.end.0 > d.start.0 && d.end.1 >= d.start.1)
        .collect();
    // In sheet order, for the warning (XLS lists them in no particular order).
    tall.sort_by_key(|d| d.start);
    if tall.is_empty() || cells.is_empty() {
        return Ok(None);
    }
    cells.sort_by_key(|c| (c.0, c.1));
    let mut rows: Vec<u32> = cells.iter().map(|c| c.0).collect();
    rows.dedup();
    let value_at = |cells: &[(u32, u32, String)], at: (u32, u32)| {
        cells
            .binary_search_by_key(&at, |c| (c.0, c.1))
            .ok()
            .map(|i| cells[i].2.clone())
    };
    // Per region with a value: its value and the rows below its top that hold a value.
    let mut fills: Vec<(&calamine::Dimensions, String, &[u32])> = Vec::new();
    let mut added = 0u64;
    for d in tall {
        let Some(value) = value_at(cells, d.start) else {
            continue;
        };
        let from = rows.partition_point(|&r| r <= d.start.0);
        let to = rows.partition_point(|&r| r <= d.end.0);
        if from < to {
            added += (to - from) as u64;
            fills.push((d, value, &rows[from..to]));
        }
    }
    if cells.len() as u64 + added > MAX_SHEET_CELLS {
        return Err(format!(
            "sheet {sheet:?} is too large: filling its merged cells down would make more than \
             {MAX_SHEET_CELLS} cells"
        ));
    }
    let mut filled_cells = 0u64;
    let mut named: Vec<String> = Vec::new();
    let mut regions = 0u64;
    let mut new_cells: Vec<(u32, u32, String)> = Vec::new();
    for (d, value, covered) in &fills {
        let column = d.start.1;
        let mut filled_here = false;
        for &row in *covered {
            if value_at(cells, (row, column)).is_none() {
                new_cells.push((row, column, value.clone()));
                filled_cells += 1;
                filled_here = true;
            }
        }
        if filled_here {
            regions += 1;
            if named.len() < MERGES_NAMED {
                let shown: String = value.chars().take(40).collect();
                named.push(format!(
                    "{}{}:{}{} {shown:?}",
                    column_name(column),
                    d.start.0 + 1,
                    column_name(column),
                    d.end.0 + 1
                ));
            }
        }
    }
    if regions == 0 {
        return Ok(None);
    }
    cells.extend(new_cells);
    let more = regions - named.len() as u64;
    Ok(Some(format!(
        "merged cells filled down: {}{}; each row a vertically merged cell covers was read \
         with its value ({filled_cells} cells filled)",
        named.join(", "),
        if more > 0 {
            format!(
                " and {more} more region{}",
                if more == 1 { "" } else { "s" }
            )
        } else {
            String::new()
        }
    )))
}

/// The non-empty cells of an XLSX sheet as (row, column, text), 0-based, in file order: all
/// of them, or those of the first `max_rows` rows holding a value. A sheet's XML lists its rows
/// in order, so reading stops at the first value of the row after those. Also whether a cell
/// was read empty (a formatted blank, or a formula without a computed value).
fn xlsx_cells(
    xlsx: &mut Xlsx<Cursor<Vec<u8>>>,
    sheet: &str,
    max_rows: Option<usize>,
) -> Result<(SheetCells, bool), String> {
    let cannot = |e: calamine::XlsxError| format!("cannot read sheet {sheet:?}: {e}");
    let mut reader = xlsx.worksheet_cells_reader(sheet).map_err(cannot)?;
    // How each style's number format shows a number, by style id (most show it plainly).
    let layouts: Vec<Option<Shown>> = reader
        .styles()
        .iter()
        .map(|style| {
            style
                .number_format
                .as_ref()
                .and_then(|f| Shown::parse(&f.format_code))
        })
        .collect();
    let mut cells: Vec<(u32, u32, String)> = Vec::new();
    let mut rows_seen = 0usize;
    let mut saw_empty = false;
    while let Some((cell, style)) = reader.next_cell_with_style_id().map_err(cannot)? {
        let (row, column) = cell.get_position();
        let value = Data::from(cell.get_value().clone());
        let laid_out = match (&value, layouts.get(style)) {
            (Data::Float(f), Some(Some(layout))) => layout.apply(*f),
            (Data::Int(i), Some(Some(layout))) => layout.apply(*i as f64),
            _ => None,
        };
        let text = laid_out.unwrap_or_else(|| cell_text(&value));
        if text.is_empty() {
            saw_empty |= value == Data::Empty;
            continue;
        }
        if cells.last().is_none_or(|last| last.0 != row) {
            if max_rows.is_some_and(|max| rows_seen >= max) {
                break;
            }
            rows_seen += 1;
        }
        cells.push((row, column, text));
    }
    Ok((cells, saw_empty))
}

/// The formula cells of an XLSX sheet that hold no computed value, as (row, column, formula
/// as typed). A program that writes formulas without calculating them (openpyxl, many
/// exporters) leaves the value out; a spreadsheet program computes it on opening and saves it.
fn xlsx_uncomputed(
    xlsx: &mut Xlsx<Cursor<Vec<u8>>>,
    sheet: &str,
) -> Result<Vec<(u32, u32, String)>, String> {
    let cannot = |e: calamine::XlsxError| format!("cannot read sheet {sheet:?}: {e}");
    let mut reader = xlsx.worksheet_cells_reader(sheet).map_err(cannot)?;
    let mut out = Vec::new();
    while let Some(cell) = reader.next_cell_with_formula().map_err(cannot)? {
        if let Some(formula) = cell.formula
            && cell.value == DataRef::Empty
            && !formula.trim().is_empty()
        {
            out.push((cell.pos.0, cell.pos.1, format!("={}", formula.trim())));
        }
    }
    Ok(out)
}

/// Formula cells named in the warning of [`uncomputed_warning`].
const FORMULAS_NAMED: usize = 3;

/// The summary's line about a sheet's formulas without a computed value: they are never read
/// as values (each row says which of its cells are such), and how to get their values.
fn uncomputed_warning(sheet: &str, uncomputed: &[(u32, u32, String)]) -> Option<String> {
    if uncomputed.is_empty() {
        return None;
    }
    let named: Vec<String> = uncomputed
        .iter()
        .take(FORMULAS_NAMED)
        .map(|(row, column, formula)| {
            let shown: String = formula.chars().take(40).collect();
            format!("{}{} {shown}", column_name(*column), row + 1)
        })
        .collect();
    let more = uncomputed.len() - named.len();
    Some(format!(
        "{} formula cell{} of sheet {sheet:?} hold{} no computed value ({}{}): the file was \
         written by a program that does not calculate formulas, so they are read as no value; \
         open it in Excel or LibreOffice and save it to import their values",
        uncomputed.len(),
        if uncomputed.len() == 1 { "" } else { "s" },
        if uncomputed.len() == 1 { "s" } else { "" },
        named.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    ))
}

/// Cells a sheet may spread over once laid out as rows (each row as wide as its last value):
/// far more than any prospect list, and about 1.2 GB of empty cells at worst.
pub const MAX_SHEET_CELLS: u64 = 50_000_000;

/// Lay out non-empty cells as rows: only rows with a value, numbered as in the sheet, their
/// columns counted from the sheet's leftmost value.
fn rows_from_cells(
    sheet: &str,
    mut cells: Vec<(u32, u32, String)>,
    uncomputed: Vec<(u32, u32, String)>,
) -> Result<Vec<SourceRow>, String> {
    let Some(left) = cells.iter().map(|c| c.1).min() else {
        return Ok(Vec::new());
    };
    cells.sort_by_key(|c| (c.0, c.1));
    // Row widths, to refuse before allocating a sheet laid out over too many cells.
    let mut spread = 0u64;
    let mut widest = (0u32, 0u32);
    for (i, (row, column, _)) in cells.iter().enumerate() {
        if cells.get(i + 1).is_none_or(|next| next.0 != *row) {
            spread += u64::from(column - left) + 1;
            widest = widest.max((*column, *row));
        }
    }
    if spread > MAX_SHEET_CELLS {
        let top = cells[0].0;
        let bottom = cells[cells.len() - 1].0;
        return Err(format!(
            "sheet {sheet:?} is too large: its values span {}{}:{}{} ({} rows, up to column {}), \
             more than {MAX_SHEET_CELLS} cells once laid out as rows; delete stray values far \
             from the data (Ctrl+End in the spreadsheet shows the last one)",
            column_name(left),
            top + 1,
            column_name(widest.0),
            bottom + 1,
            bottom - top + 1,
            column_name(widest.0),
        ));
    }
    let mut rows: Vec<SourceRow> = Vec::new();
    for (row, column, text) in cells {
        let number = i64::from(row) + 1;
        if rows.last().is_none_or(|r| r.number != number) {
            rows.push(SourceRow {
                number,
                cells: Vec::new(),
                uncomputed: Vec::new(),
            });
        }
        let last = rows.last_mut().expect("pushed above");
        let index = (column - left) as usize;
        if last.cells.len() <= index {
            last.cells.resize(index + 1, String::new());
        }
        last.cells[index] = text;
    }
    // A formula without its value joins its row; a row of such formulas alone (a formula
    // dragged below the data) is a blank row, as a row of formula errors is.
    for (row, column, formula) in uncomputed {
        let number = i64::from(row) + 1;
        if column < left {
            continue;
        }
        if let Ok(at) = rows.binary_search_by_key(&number, |r| r.number) {
            rows[at].uncomputed.push(Uncomputed {
                column: (column - left) as usize,
                cell: format!("{}!{}{number}", sheet_reference(sheet), column_name(column)),
                formula,
            });
        }
    }
    Ok(rows)
}

/// A sheet's name as a cell reference spells it: quoted when it is more than letters, digits
/// and `_` (`'Salon 2026'!C3`).
fn sheet_reference(sheet: &str) -> String {
    if sheet.chars().all(|c| c.is_alphanumeric() || c == '_') {
        sheet.to_string()
    } else {
        format!("'{}'", sheet.replace('\'', "''"))
    }
}

/// A 0-based column index as spreadsheets name it: 0 is A, 26 is AA, 16383 is XFD.
pub fn column_name(column: u32) -> String {
    let mut n = column + 1;
    let mut name = Vec::new();
    while n > 0 {
        let digit = (n - 1) % 26;
        name.push(b'A' + digit as u8);
        n = (n - 1) / 26;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

thread_local! {
    /// Set while this thread runs [`catching_panics`]: its panics are expected and reported
    /// as errors, so the panic hook stays quiet for them.
    static EXPECTING_PANIC: Cell<bool> = const { Cell::new(false) };
}

/// Serialises the hook swaps of [`catching_panics`] (two imports at once in the TUI).
static HOOK_SWAP: Mutex<()> = Mutex::new(());

type PanicHook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

/// Run a calamine call that may panic on a damaged file (it slices buffers with offsets read
/// from the file): a panic becomes `Err(cause)`, so the import fails with the file named
/// instead of crashing the CLI or, in the TUI, firing the panic hook that restores the
/// terminal while the app keeps running.
///
/// The panic hook is process-wide, so for the duration of `f` it is wrapped, not replaced:
/// the wrapper stays silent for this thread only and passes other threads' panics to the
/// hook it wraps; the same hook is put back afterwards. Swapping per call, rather than once,
/// keeps this right after the TUI installs its hook again (it does after `$EDITOR`).
fn catching_panics<T>(f: impl FnOnce() -> T, cause: &str) -> Result<T, String> {
    let _swap = HOOK_SWAP.lock().unwrap_or_else(PoisonError::into_inner);
    let previous: Arc<PanicHook> = Arc::new(std::panic::take_hook());
    let wrapped = Arc::clone(&previous);
    std::panic::set_hook(Box::new(move |info| {
        if !EXPECTING_PANIC.try_with(Cell::get).unwrap_or(false) {
            wrapped(info)
        }
    }));
    EXPECTING_PANIC.with(|e| e.set(true));
    let result = std::panic::catch_unwind(AssertUnwindSafe(f));
    EXPECTING_PANIC.with(|e| e.set(false));
    // Dropping the wrapper releases its handle on the previous hook.
    drop(std::panic::take_hook());
    let previous = Arc::try_unwrap(previous).unwrap_or_else(|shared| Box::new(move |i| shared(i)));
    std::panic::set_hook(previous);
    result.map_err(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::debug!("spreadsheet reader panicked: {what}");
        cause.to_string()
    })
}

/// A spreadsheet cell as the text a person sees: integers without `.0`, dates in ISO form, a
/// formula's error as the sheet shows it (`#N/A`, which the import then refuses to take as a
/// value, as it does when a CSV export wrote the same text).
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::Error(e) => e.to_string(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => clean_cell(s),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => float_text(*f),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.format("%Y-%m-%d").to_string(),
            Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => float_text(dt.as_f64()),
        },
    }
}

/// A number as a spreadsheet shows it: 15 significant digits at most (Excel's precision), so
/// `=0.1+0.2` reads `0.3`, not `0.30000000000000004`; integers without `.0`.
fn float_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        return format!("{}", f as i64);
    }
    if !f.is_finite() {
        return format!("{f}");
    }
    let rounded: f64 = format!("{f:.14e}").parse().unwrap_or(f);
    format!("{rounded}")
}

/// A text file decoded to UTF-8.
#[derive(Debug)]
struct Decoded<'a> {
    /// Valid UTF-8.
    text: Cow<'a, [u8]>,
    encoding: &'static str,
    /// Set when the file mixes UTF-8 and Windows-1252 lines: which ones, for the summary.
    mixed: Option<String>,
}

/// Text encodings are detected, not assumed: BOMs first, then UTF-16 by its NUL bytes, then
/// UTF-8, else Windows-1252 (which decodes any byte sequence; the usual Excel "CSV" on Windows).
///
/// A file (with a UTF-8 BOM or not) that is not valid UTF-8 as a whole is decoded line by line
/// (see [`decode_lines`]): a UTF-8 file with a row saved or pasted from a Windows program
/// keeps both its accents and that row's, where reading it all as Windows-1252 would garble
/// every UTF-8 accent ("Hélène" as "HÃ©lÃ¨ne", and company keys with it).
fn decode_text(bytes: &[u8]) -> Result<Decoded<'_>, String> {
    let plain = |text, encoding| Decoded {
        text,
        encoding,
        mixed: None,
    };
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        if std::str::from_utf8(rest).is_ok() {
            return Ok(plain(Cow::Borrowed(rest), "UTF-8 with BOM"));
        }
        // The BOM declares UTF-8: a line that is not is one pasted from elsewhere.
        let (text, lines) = decode_lines(rest);
        return Ok(Decoded {
            text: Cow::Owned(text),
            encoding: "UTF-8 with BOM and Windows-1252",
            mixed: Some(lines.warning()),
        });
    }
    for (bom, enc, name) in [
        (&b"\xFF\xFE"[..], encoding_rs::UTF_16LE, "UTF-16LE"),
        (&b"\xFE\xFF"[..], encoding_rs::UTF_16BE, "UTF-16BE"),
    ] {
        if bytes.starts_with(bom) {
            let (text, _, had_errors) = enc.decode(bytes);
            if had_errors {
                return Err(format!("invalid {name} text"));
            }
            return Ok(plain(Cow::Owned(text.into_owned().into_bytes()), name));
        }
    }
    // UTF-16 saved without a BOM: its NUL bytes fall in one column of every pair.
    if let Some((enc, name)) = utf16_without_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(bytes);
        // A lone surrogate, an odd byte count or control characters: binary after all.
        if !had_errors && is_plain_text(&text) {
            return Ok(plain(Cow::Owned(text.into_owned().into_bytes()), name));
        }
    }
    if is_binary(bytes) {
        return Err(BINARY.into());
    }
    if std::str::from_utf8(bytes).is_ok() {
        return Ok(plain(Cow::Borrowed(bytes), "UTF-8"));
    }
    let (text, lines) = decode_lines(bytes);
    if lines.utf8.count == 0 {
        // Decoded line by line or whole, Windows-1252 text comes out the same.
        return Ok(plain(Cow::Owned(text), "Windows-1252"));
    }
    Ok(Decoded {
        text: Cow::Owned(text),
        encoding: "UTF-8 and Windows-1252",
        mixed: Some(lines.warning()),
    })
}

/// How far into a file [`utf16_without_bom`] looks.
const UTF16_SAMPLE: usize = 4096;

/// UTF-16 without a BOM (some exports, "Unicode text" from older tools): a table's text is
/// mostly ASCII and Latin letters (delimiters, line breaks, digits, names), so in UTF-16LE the
/// second byte of most pairs is NUL and the first almost never is (UTF-16BE the other way
/// round). Judged on the first [`UTF16_SAMPLE`] bytes: at least half the pairs must have the
/// NUL on the one side and at most one in twenty on the other (U+0100, U+2000… put theirs
/// there). Binary data seldom has that shape, and the caller still refuses a decoded text
/// with control characters in it.
pub(crate) fn utf16_without_bom(
    bytes: &[u8],
) -> Option<(&'static encoding_rs::Encoding, &'static str)> {
    let sample = &bytes[..bytes.len().min(UTF16_SAMPLE)];
    let pairs = sample.len() / 2;
    if pairs < 2 {
        return None;
    }
    let (mut nul_first, mut nul_second) = (0usize, 0usize);
    for pair in sample.chunks_exact(2) {
        nul_first += usize::from(pair[0] == 0);
        nul_second += usize::from(pair[1] == 0);
    }
    let fits = |nul_high: usize, nul_low: usize| nul_high * 2 >= pairs && nul_low * 20 <= pairs;
    if fits(nul_second, nul_first) {
        Some((encoding_rs::UTF_16LE, "UTF-16LE without BOM"))
    } else if fits(nul_first, nul_second) {
        Some((encoding_rs::UTF_16BE, "UTF-16BE without BOM"))
    } else {
        None
    }
}

/// Text a person could have typed in a table: no control character but tab and line breaks.
pub(crate) fn is_plain_text(text: &str) -> bool {
    !text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// Line numbers named in the mixed-encoding warning.
const LINES_NAMED: usize = 5;

/// Lines of one encoding: how many, and the first few numbers.
#[derive(Debug, Default)]
struct LineSet {
    count: u64,
    first: Vec<i64>,
}

impl LineSet {
    fn add(&mut self, number: i64) {
        self.count += 1;
        if self.first.len() < LINES_NAMED {
            self.first.push(number);
        }
    }

    /// "line 7", "lines 7, 12", "lines 3, 5, 7, 9, 11 and 4 more".
    fn named(&self) -> String {
        let numbers: Vec<String> = self.first.iter().map(ToString::to_string).collect();
        let more = self.count - self.first.len() as u64;
        format!(
            "line{} {}{}",
            if self.count == 1 { "" } else { "s" },
            numbers.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        )
    }
}

/// Which lines of a text decoded by [`decode_lines`] were read in which encoding. Lines of
/// ASCII only read the same in both and are in neither.
#[derive(Debug, Default)]
struct LineEncodings {
    utf8: LineSet,
    windows_1252: LineSet,
}

impl LineEncodings {
    /// Names the lines of the rarer encoding, the odd ones out (the Windows-1252 ones in a file
    /// whose BOM says UTF-8 though no line needs it).
    fn warning(&self) -> String {
        let fewer_1252 = self.windows_1252.count <= self.utf8.count;
        let (odd, odd_name, rest_name) = if fewer_1252 || self.utf8.count == 0 {
            (&self.windows_1252, "Windows-1252", "UTF-8")
        } else {
            (&self.utf8, "UTF-8", "Windows-1252")
        };
        format!(
            "the file mixes encodings: {} {} {odd_name}, the others {rest_name}; each line was \
             read in its own encoding",
            odd.named(),
            if odd.count == 1 { "is" } else { "are" },
        )
    }
}

/// Decode text line by line: a line that is valid UTF-8 as UTF-8, any other as Windows-1252
/// (which reads any byte). Windows-1252 text almost never forms valid UTF-8 (that takes a
/// capital among Â-ß followed by a symbol among €-¿, and every accent of the line to be such a
/// pair), so a line saved by a Windows program is read as one. A line ends at LF, CRLF or a
/// lone CR, numbered as [`parse_csv`] numbers them once lone CRs are LFs.
fn decode_lines(bytes: &[u8]) -> (Vec<u8>, LineEncodings) {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 8);
    let mut lines = LineEncodings::default();
    let mut number = 1i64;
    let mut rest = bytes;
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .unwrap_or(rest.len());
        let (line, after) = rest.split_at(end);
        match std::str::from_utf8(line) {
            Ok(text) => {
                out.extend_from_slice(line);
                if !text.is_ascii() {
                    lines.utf8.add(number);
                }
            }
            Err(_) => {
                let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(line);
                out.extend_from_slice(text.as_bytes());
                lines.windows_1252.add(number);
            }
        }
        let line_break = if after.starts_with(b"\r\n") {
            2
        } else {
            usize::from(!after.is_empty())
        };
        out.extend_from_slice(&after[..line_break]);
        number += 1;
        rest = &after[line_break..];
    }
    (out, lines)
}

/// Old Mac files end lines with a lone CR: make each one LF, so that the sniffer, the
/// truncation check and the row numbers all see the same lines as the CSV reader (which
/// already splits on a lone CR). CRLF is left alone.
fn lone_cr_to_lf(text: Cow<'_, [u8]>) -> Cow<'_, [u8]> {
    let lone = |i: usize, t: &[u8]| t[i] == b'\r' && t.get(i + 1) != Some(&b'\n');
    if !(0..text.len()).any(|i| lone(i, &text)) {
        return text;
    }
    let mut out = text.into_owned();
    for i in 0..out.len() {
        if lone(i, &out) {
            out[i] = b'\n';
        }
    }
    Cow::Owned(out)
}

const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Pick the delimiter whose count per record is the most consistent (then the largest),
/// over the first records, counting only outside quotes.
pub fn sniff_delimiter(text: &str) -> u8 {
    let sample_end = text
        .char_indices()
        .nth(64 * 1024)
        .map_or(text.len(), |(i, _)| i);
    let sample = &text[..sample_end];
    let mut best = (0usize, 0usize, b',');
    for &d in &DELIMITERS {
        let mut counts: Vec<usize> = Vec::new();
        let (mut in_quotes, mut count, mut blank) = (false, 0usize, true);
        for c in sample.chars() {
            match c {
                '"' => {
                    in_quotes = !in_quotes;
                    blank = false
                }
                '\n' if !in_quotes => {
                    if !blank {
                        counts.push(count);
                    }
                    count = 0;
                    blank = true;
                    if counts.len() >= 50 {
                        break;
                    }
                }
                c if c as u32 == d as u32 && !in_quotes => {
                    count += 1;
                    blank = false
                }
                c if !c.is_whitespace() => blank = false,
                _ => {}
            }
        }
        if !blank && counts.len() < 50 {
            counts.push(count);
        }
        // Most frequent non-zero count and how many records have it.
        let mut freq: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
        for &c in counts.iter().filter(|&&c| c > 0) {
            *freq.entry(c).or_default() += 1;
        }
        if let Some((&mode, &n)) = freq.iter().max_by_key(|(c, n)| (**n, **c))
            && (n, mode) > (best.0, best.1)
        {
            best = (n, mode, d);
        }
    }
    best.2
}

/// Find a quoted field that never closes: the usual sign of a truncated file.
fn unterminated_quote_line(text: &str, delimiter: u8) -> Option<usize> {
    let d = delimiter as char;
    let (mut line, mut open_line) = (1usize, 0usize);
    let (mut in_quotes, mut field_start) = (false, true);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                }
                '"' => in_quotes = false,
                '\n' => line += 1,
                _ => {}
            }
            continue;
        }
        match c {
            '"' if field_start => {
                in_quotes = true;
                open_line = line;
                field_start = false;
            }
            '\n' => {
                line += 1;
                field_start = true;
            }
            c if c == d => field_start = true,
            '\r' => {}
            _ => field_start = false,
        }
    }
    in_quotes.then_some(open_line)
}

/// Split UTF-8 text (as [`decode_text`] gives it) into rows.
fn parse_csv(bytes: &[u8], delimiter: u8) -> Result<Vec<SourceRow>, String> {
    if let Some(line) = unterminated_quote_line(&String::from_utf8_lossy(bytes), delimiter) {
        return Err(format!(
            "a quoted field opened on line {line} is never closed (is the file truncated?)"
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bytes);
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                // Split at ASCII delimiters, the fields of valid UTF-8 are valid UTF-8: the
                // lossy decoding only borrows them.
                let cells = record
                    .iter()
                    .map(|field| clean_cell(&String::from_utf8_lossy(field)))
                    .collect();
                rows.push(SourceRow {
                    number: record.position().map_or(0, |p| record_line(bytes, p)),
                    cells,
                    uncomputed: Vec::new(),
                });
            }
            Err(e) => return Err(format!("CSV error: {e}")),
        }
    }
    Ok(rows)
}

/// The csv crate reports a record at the end of the previous one, before any blank lines it
/// skipped; count those line breaks so row numbers match what an editor shows.
fn record_line(bytes: &[u8], pos: &csv::Position) -> i64 {
    let start = (pos.byte() as usize).min(bytes.len());
    let skipped_breaks = bytes[start..]
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .filter(|&&b| b == b'\n')
        .count();
    (pos.line() as usize + skipped_breaks) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A formula's error is read as the sheet shows it, so the import can name it; an empty
    /// cell stays empty.
    #[test]
    fn a_formula_error_reads_as_the_sheet_shows_it() {
        assert_eq!(cell_text(&Data::Error(calamine::CellErrorType::NA)), "#N/A");
        assert_eq!(
            cell_text(&Data::Error(calamine::CellErrorType::Ref)),
            "#REF!"
        );
        assert_eq!(cell_text(&Data::Empty), "");
    }

    #[test]
    fn sniffs_each_delimiter() {
        for d in DELIMITERS {
            let ds = (d as char).to_string();
            let text = ["a", "b", "c"].join(&ds)
                + "\n"
                + &["1", "\"x, y; z | w\"", "3"].join(&ds)
                + "\n"
                + &["4", "5", "6"].join(&ds)
                + "\n";
            assert_eq!(sniff_delimiter(&text), d, "delimiter {:?}", d as char);
        }
    }

    #[test]
    fn sniff_ignores_a_title_line() {
        let text = "Prospects, sample\n\nPrénom;Nom;Société\nA;B;C\nD;E;F\n";
        assert_eq!(sniff_delimiter(text), b';');
    }

    #[test]
    fn windows_1252_is_detected() {
        let bytes = b"pr\xe9nom;nom\nH\xe9l\xe8ne;Martin\n".to_vec();
        let decoded = decode_text(&bytes).unwrap();
        assert_eq!((decoded.encoding, decoded.mixed), ("Windows-1252", None));
        let text = std::str::from_utf8(&decoded.text).unwrap();
        assert_eq!(text, "prénom;nom\nHélène;Martin\n");
    }

    #[test]
    fn windows_1252_with_a_chance_utf8_sequence_stays_windows_1252() {
        // "Ç»" is C7 BB: also the valid UTF-8 for "ǻ". Its line holds other Windows-1252
        // accents, so it is not UTF-8.
        let bytes = b"pr\xe9nom;nom\nH\xe9l\xe8ne;\xc7\xbb\nZo\xe9;L\xe9a\n".to_vec();
        let decoded = decode_text(&bytes).unwrap();
        assert_eq!((decoded.encoding, decoded.mixed), ("Windows-1252", None));
        assert!(
            std::str::from_utf8(&decoded.text)
                .unwrap()
                .contains("Hélène;Ç»")
        );
    }

    #[test]
    fn a_windows_1252_line_in_a_utf8_file_is_read_as_windows_1252() {
        let mut bytes = "prénom;nom;société\nHélène;Lefèvre;Société Générale\n"
            .as_bytes()
            .to_vec();
        // Line 3 saved by a Windows program; the quoted field after it spans lines 4 and 5.
        bytes.extend_from_slice(
            b"Ana\xefs;L\x92H\xf4te;Caf\xe9\n\"Zo\xc3\xa9\nMarie\";Lef\xc3\xa8vre;x\n",
        );
        let decoded = decode_text(&bytes).unwrap();
        assert_eq!(decoded.encoding, "UTF-8 and Windows-1252");
        assert_eq!(
            decoded.mixed.as_deref(),
            Some(
                "the file mixes encodings: line 3 is Windows-1252, the others UTF-8; each line \
                 was read in its own encoding"
            )
        );
        let rows = parse_csv(&decoded.text, b';').unwrap();
        let cells: Vec<(i64, Vec<&str>)> = rows
            .iter()
            .map(|r| (r.number, r.cells.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            cells,
            [
                (1, vec!["prénom", "nom", "société"]),
                (2, vec!["Hélène", "Lefèvre", "Société Générale"]),
                (3, vec!["Anaïs", "L’Hôte", "Café"]),
                (4, vec!["Zoé\nMarie", "Lefèvre", "x"]),
            ]
        );
    }

    #[test]
    fn a_windows_1252_line_after_a_utf8_bom_is_read_as_windows_1252() {
        let decoded = decode_text(b"\xEF\xBB\xBFa,b\nx,\xe9\n").unwrap();
        assert_eq!(decoded.encoding, "UTF-8 with BOM and Windows-1252");
        assert_eq!(&decoded.text[..], "a,b\nx,é\n".as_bytes());
        assert!(decoded.mixed.unwrap().contains("line 2 is Windows-1252"));
    }

    /// The warning names the lines of the rarer encoding, a few of them, in the line numbers
    /// the rows get (a lone CR ends a line too).
    #[test]
    fn the_mixed_encoding_warning_names_the_odd_lines_out() {
        let mut bytes = b"nom\r\n".to_vec();
        for _ in 0..7 {
            bytes.extend_from_slice(b"\xc9lise\r");
        }
        bytes.extend_from_slice("Chloé\nJosé\n".as_bytes());
        let warning = decode_text(&bytes).unwrap().mixed.unwrap();
        assert!(
            warning.starts_with("the file mixes encodings: lines 9, 10 are UTF-8, the others "),
            "{warning}"
        );
        let mut bytes = b"nom\n".to_vec();
        for i in 0..8 {
            bytes.extend_from_slice(if i % 2 == 0 {
                "Zoé\n".as_bytes()
            } else {
                b"Zo\xe9\n"
            });
        }
        bytes.extend_from_slice("Léa\n".as_bytes());
        let warning = decode_text(&bytes).unwrap().mixed.unwrap();
        assert!(
            warning.starts_with("the file mixes encodings: lines 3, 5, 7, 9 are Windows-1252"),
            "{warning}"
        );
        let lines = LineSet {
            count: 9,
            first: vec![3, 5, 7, 9, 11],
        };
        assert_eq!(lines.named(), "lines 3, 5, 7, 9, 11 and 4 more");
    }

    #[test]
    fn bom_is_stripped() {
        let decoded = decode_text(b"\xEF\xBB\xBFfirstname\n").unwrap();
        assert_eq!(
            (&decoded.text[..], decoded.encoding),
            (&b"firstname\n"[..], "UTF-8 with BOM")
        );
    }

    #[test]
    fn utf16_without_bom_is_detected_by_its_nul_bytes() {
        let text = "prénom;nom\nAnaïs;Lefèvre\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for (bytes, name) in [(le, "UTF-16LE without BOM"), (be, "UTF-16BE without BOM")] {
            let decoded = decode_text(&bytes).unwrap();
            assert_eq!(
                (&decoded.text[..], decoded.encoding),
                (text.as_bytes(), name)
            );
        }
        // An odd byte count is not UTF-16: refused as binary, not cut short.
        let mut odd: Vec<u8> = "a;b\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        odd.push(b'x');
        assert!(decode_text(&odd).unwrap_err().contains("binary"));
        // Little-endian integers: NULs in both halves of the pairs.
        let ints: Vec<u8> = (1..200u32).flat_map(u32::to_le_bytes).collect();
        assert_eq!(utf16_without_bom(&ints), None);
    }

    #[test]
    fn non_text_names_spreadsheets_and_binary_but_not_text() {
        let xlsx =
            std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/prospects.xlsx"))
                .unwrap();
        assert!(non_text(&xlsx).unwrap().starts_with("an XLSX"));
        let ods =
            std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/prospects.ods"))
                .unwrap();
        assert_eq!(non_text(&ods), Some("an ODS spreadsheet"));
        let xls =
            std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/prospects.xls"))
                .unwrap();
        assert!(non_text(&xls).unwrap().starts_with("an XLS "));
        assert_eq!(non_text(b"\x7fELF\x02\x01\x00\x00"), Some(BINARY));
        assert_eq!(non_text(b"email\njane@acme.test\n"), None);
        assert_eq!(non_text("\u{feff}é;x\n".as_bytes()), None);
        assert_eq!(non_text(b"\xFF\xFEe\x00m\x00"), None);
    }

    #[test]
    fn binary_is_refused() {
        assert!(
            decode_text(b"\x89PNG\r\n\x1a\n\0\0\0")
                .unwrap_err()
                .contains("binary")
        );
    }

    #[test]
    fn unterminated_quote_is_found() {
        assert_eq!(
            unterminated_quote_line("a,b\n1,\"ok\"\n2,\"cut", b','),
            Some(3)
        );
        assert_eq!(unterminated_quote_line("a,\"multi\nline\"\n", b','), None);
        assert_eq!(unterminated_quote_line("a,b\"c\n", b','), None);
    }

    #[test]
    fn csv_row_numbers_are_line_numbers() {
        let rows = parse_csv(b"h1,h2\n\"multi\nline\",x\nlast,y\n", b',').unwrap();
        assert_eq!(rows.iter().map(|r| r.number).collect::<Vec<_>>(), [1, 2, 4]);
        assert_eq!(rows[1].cells[0], "multi\nline");
        let rows = parse_csv(b"title\n\n\r\nh1,h2\na,b\n\nc,d\n", b',').unwrap();
        assert_eq!(
            rows.iter().map(|r| r.number).collect::<Vec<_>>(),
            [1, 4, 5, 7]
        );
    }

    #[test]
    fn a_reader_panic_is_an_error_and_the_hook_is_kept_for_other_panics() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static HOOK_CALLS: AtomicUsize = AtomicUsize::new(0);
        let original = std::panic::take_hook();
        // Counts only this test's panics: other tests may panic on other threads meanwhile.
        std::panic::set_hook(Box::new(|info| {
            let payload = info.payload().downcast_ref::<&str>();
            if matches!(payload, Some(&"slice index" | &"elsewhere")) {
                HOOK_CALLS.fetch_add(1, Ordering::SeqCst);
            }
        }));
        let caught = catching_panics(|| -> u8 { panic!("slice index") }, "damaged");
        let after_caught = HOOK_CALLS.load(Ordering::SeqCst);
        assert_eq!(catching_panics(|| 7, "damaged"), Ok(7));
        // Another thread's panic still reaches the installed hook.
        let other = std::thread::spawn(|| panic!("elsewhere")).join();
        let after_other = HOOK_CALLS.load(Ordering::SeqCst);
        std::panic::set_hook(original);
        assert_eq!(caught, Err("damaged".to_string()));
        assert_eq!(after_caught, 0, "the expected panic fired the hook");
        assert!(other.is_err());
        assert_eq!(after_other, 1);
    }

    #[test]
    fn sparse_cells_become_rows_without_the_gaps() {
        let cells = vec![
            (4, 2, "c".to_string()),
            (1, 1, "a".to_string()),
            (1_048_575, 16_383, "far".to_string()),
            (4, 1, "b".to_string()),
        ];
        let rows = rows_from_cells("S", cells, Vec::new()).unwrap();
        assert_eq!(
            rows.iter().map(|r| r.number).collect::<Vec<_>>(),
            [2, 5, 1_048_576]
        );
        assert_eq!(rows[0].cells, ["a"]);
        assert_eq!(rows[1].cells, ["b", "c"]);
        assert_eq!(rows[2].cells.len(), 16_383);
        assert_eq!(rows[2].cells[16_382], "far");
    }

    #[test]
    fn a_sheet_spread_over_too_many_cells_is_refused_before_allocating() {
        // 4,000 rows each with one value in column XFD: 65 million cells laid out as rows.
        let cells = (0..4_000)
            .map(|r| (r, 16_383, "x".to_string()))
            .chain([(0, 0, "a".to_string())])
            .collect();
        let err = rows_from_cells("Data", cells, Vec::new()).unwrap_err();
        assert!(err.contains("sheet \"Data\" is too large"), "{err}");
        assert!(err.contains("A1:XFD4000"), "{err}");
    }

    /// `head` gives the first rows holding a value, numbered as in the sheet, as `load` does;
    /// a CSV's rows are still there for the `load` after it.
    #[test]
    fn head_gives_the_first_rows_with_values() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet().set_name("S").unwrap();
        for (r, v) in [(0, "title"), (2, "h1"), (3, "a"), (4, "b"), (5, "c")] {
            sheet.write_string(r, 1, v).unwrap();
        }
        sheet.write_string(3, 2, "a2").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let mut src = open(Path::new("s.xlsx"), bytes).unwrap().source;
        let head = src.head("S", 3).unwrap();
        assert_eq!(
            head.iter()
                .map(|r| (r.number, r.cells.clone()))
                .collect::<Vec<_>>(),
            [
                (1, vec!["title".to_string()]),
                (3, vec!["h1".to_string()]),
                (4, vec!["a".to_string(), "a2".to_string()]),
            ]
        );
        assert_eq!(src.load("S").unwrap().rows[..3], head[..]);

        let mut csv = open(Path::new("p.csv"), b"a,b\n1,2\n3,4\n".to_vec())
            .unwrap()
            .source;
        assert_eq!(csv.head("p", 1).unwrap().len(), 1);
        assert_eq!(csv.load("p").unwrap().rows.len(), 3);
    }

    #[test]
    fn merged_cells_fill_down_only_into_rows_with_values() {
        let dims = |start, end| calamine::Dimensions { start, end };
        let cell = |r: u32, c: u32, t: &str| (r, c, t.to_string());
        let mut cells = vec![
            cell(0, 0, "Title"),
            cell(2, 0, "a"),
            cell(2, 1, "Acme"),
            cell(3, 0, "b"),
            cell(4, 0, "c"),
            cell(4, 1, "own value"),
            cell(6, 0, "d"),
        ];
        let merged = [
            // Title over A1:C2: row 2 holds nothing else, so nothing is filled.
            dims((0, 0), (1, 2)),
            // B3:C6 over rows 3–6: B4 gets "Acme", B5 keeps its own value, row 6 is blank; C
            // is never filled.
            dims((2, 1), (5, 2)),
            // A one-row merge is not a vertical one.
            dims((6, 0), (6, 3)),
        ];
        let warning = fill_merged_down("S", &mut cells, &merged).unwrap().unwrap();
        assert!(
            warning.starts_with("merged cells filled down: B3:B6 \"Acme\";"),
            "{warning}"
        );
        assert!(warning.ends_with("(1 cells filled)"), "{warning}");
        let rows = rows_from_cells("S", cells, Vec::new()).unwrap();
        let laid_out: Vec<(i64, Vec<&str>)> = rows
            .iter()
            .map(|r| (r.number, r.cells.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            laid_out,
            [
                (1, vec!["Title"]),
                (3, vec!["a", "Acme"]),
                (4, vec!["b", "Acme"]),
                (5, vec!["c", "own value"]),
                (7, vec!["d"]),
            ]
        );
        // No merged region, or one without a value: no warning.
        let mut cells = vec![cell(0, 0, "a"), cell(1, 0, "b")];
        assert_eq!(fill_merged_down("S", &mut cells, &[]), Ok(None));
        assert_eq!(
            fill_merged_down("S", &mut cells, &[dims((0, 1), (1, 1))]),
            Ok(None)
        );
    }

    #[test]
    fn column_names() {
        let names: Vec<String> = [0, 25, 26, 255, 16_383].map(column_name).to_vec();
        assert_eq!(names, ["A", "Z", "AA", "IV", "XFD"]);
    }

    #[test]
    fn lone_cr_line_ends_are_lines() {
        let text = lone_cr_to_lf(Cow::Borrowed(b"h1,h2\rA,B\rC,D\r"));
        let rows = parse_csv(&text, b',').unwrap();
        assert_eq!(rows.iter().map(|r| r.number).collect::<Vec<_>>(), [1, 2, 3]);
        // CRLF stays as it is.
        assert_eq!(
            &lone_cr_to_lf(Cow::Borrowed(b"a\r\nb\r")).into_owned(),
            b"a\r\nb\n"
        );
        // Semicolons, with commas inside a few cells: only line breaks make the sniff right.
        let semi = lone_cr_to_lf(Cow::Borrowed(
            b"Prenom;Nom;Societe;Notes\rJean;Dupont;Acme;a, b, c, d, e, f\r\
              Marie;Curie;Radium;x, y, z, w, v, u\r",
        ));
        assert_eq!(sniff_delimiter(std::str::from_utf8(&semi).unwrap()), b';');
    }

    #[test]
    fn floats_read_as_text() {
        assert_eq!(float_text(42.0), "42");
        assert_eq!(float_text(0.5), "0.5");
        assert_eq!(float_text(1e20), "100000000000000000000");
    }

    #[test]
    fn numbers_read_as_a_spreadsheet_shows_them() {
        assert_eq!(float_text(0.1 + 0.2), "0.3");
        assert_eq!(float_text(1234.0), "1234");
        assert_eq!(float_text(-2.5), "-2.5");
        assert_eq!(float_text(1.0 / 3.0), "0.333333333333333");
        assert_eq!(float_text(33.33), "33.33");
        assert_eq!(float_text(1e20), "100000000000000000000");
    }

    #[test]
    fn an_html_or_xml_export_is_named_as_such() {
        let page = b"\xEF\xBB\xBF\n  <HTML><body><table><tr><td>firstname</td></tr></table>";
        let e = open(Path::new("p.xls"), page.to_vec()).err().unwrap();
        assert!(e.starts_with("an HTML page, not a spreadsheet"), "{e}");
        let xml = b"<?xml version=\"1.0\"?>\n<Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\">";
        let e = open(Path::new("p.xls"), xml.to_vec()).err().unwrap();
        assert!(e.starts_with("an Excel 2003 XML workbook"), "{e}");
        // A CSV whose first cell happens to hold markup further in is still a CSV.
        assert!(open(Path::new("p.csv"), b"name,html\nJo,<html>\n".to_vec()).is_ok());
    }
}
