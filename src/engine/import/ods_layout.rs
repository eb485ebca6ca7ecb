//! What calamine does not say about an ODS sheet: its merged cells, the text its numbers
//! show, and its formulas stored without a value.
//!
//! A merged region's top-left cell carries `table:number-rows-spanned` and
//! `table:number-columns-spanned`; the cells it covers are `table:covered-table-cell`, empty.
//! A number's cell holds its value (`office:value`) and the text the spreadsheet shows for it
//! (`text:p`), which [`ods_shown`] judges: `01234` for a postcode in a zero-padding format,
//! `15%` for a percentage. Cells are counted as calamine counts them (repeated rows and
//! columns expanded), so the positions match its ranges.
//!
//! A formula cell (`table:formula`) holds its last computed value beside the formula, as every
//! spreadsheet program writes it; a generator that does not calculate (odfpy, some exports)
//! leaves out the value type and the text, and calamine reads the cell as empty.

use std::collections::HashMap;
use std::io::{BufReader, Cursor, Read};

use calamine::Dimensions;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::number_format::ods_shown;

/// One sheet's merged regions and the numbers shown otherwise than plainly.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SheetLayout {
    pub merged: Vec<Dimensions>,
    /// (row, column) 0-based, and the text shown.
    pub shown: Vec<((u32, u32), String)>,
    /// Formula cells with no value stored: (row, column) 0-based, and the formula as a
    /// spreadsheet shows it (`=SUM(A1:A2)`).
    pub uncomputed: Vec<(u32, u32, String)>,
}

/// Layouts by sheet name. A document this reader cannot follow gives none: calamine reports
/// the damage when it reads the sheet, and the cells are read plainly.
pub fn read(bytes: &[u8]) -> HashMap<String, SheetLayout> {
    content(bytes)
        .and_then(|xml| parse(&xml))
        .unwrap_or_default()
}

/// content.xml, bounded like the sheets calamine reads.
fn content(bytes: &[u8]) -> Option<Vec<u8>> {
    const MAX_CONTENT: u64 = 2 << 30;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let file = zip.by_name("content.xml").ok()?;
    let mut xml = Vec::new();
    file.take(MAX_CONTENT).read_to_end(&mut xml).ok()?;
    Some(xml)
}

/// Rows and columns past which repeats are not expanded: the format's own limits.
const MAX_ROWS: u64 = 1 << 20;
const MAX_COLUMNS: u64 = 1 << 14;
/// A row holding numbers repeated more than this is not expanded into shown cells (a
/// generator's filler, not typed data).
const MAX_SHOWN_REPEATS: u64 = 1000;
/// Shown cells kept for a whole file: past this, cells are read as plain numbers. Repeats
/// within the caps above still multiply (a thousand rows of a thousand columns per element),
/// so a few kilobytes of zipped XML could otherwise ask for gigabytes.
const MAX_SHOWN_CELLS: usize = 1_000_000;
/// Formula cells without a value noted for a whole file, and the characters kept of each
/// formula (the import names a formula, it never reads it): a repeated element copies its
/// formula into every cell it covers, so both bound the memory, not only the count.
const MAX_UNCOMPUTED_CELLS: usize = 100_000;
const MAX_FORMULA_CHARS: usize = 200;

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.try_get_attribute(name).ok().flatten().and_then(|a| {
        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .ok()
            .map(|v| v.into_owned())
    })
}

fn count(e: &BytesStart<'_>, name: &str) -> u64 {
    attr(e, name)
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(1)
}

fn parse(xml: &[u8]) -> Option<HashMap<String, SheetLayout>> {
    let mut reader = Reader::from_reader(BufReader::new(xml));
    let mut buf = Vec::new();
    let mut out: HashMap<String, SheetLayout> = HashMap::new();
    let mut sheet: Option<(String, SheetLayout)> = None;
    let (mut row, mut col, mut row_repeats) = (0u64, 0u64, 1u64);
    // The number cell being read: (value type, value, column, columns repeated, text).
    let mut number: Option<(String, f64, u64, u64, String)> = None;
    let mut paragraphs = 0usize;
    let mut in_annotation = 0usize;
    let mut shown_cells = 0usize;
    // The formula cell being read with no value type: (formula, column, columns repeated,
    // whether it shows any text).
    let mut formula_cell: Option<(String, u64, u64, bool)> = None;
    let mut uncomputed_cells = 0usize;
    loop {
        let event = reader.read_event_into(&mut buf).ok()?;
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                "table:table" if !empty => {
                    sheet = Some((attr(&e, "table:name")?, SheetLayout::default()));
                    row = 0;
                }
                "table:table-row" => {
                    row_repeats = count(&e, "table:number-rows-repeated");
                    col = 0;
                    if empty {
                        row = (row + row_repeats).min(MAX_ROWS);
                    }
                }
                name @ ("table:table-cell" | "table:covered-table-cell") => {
                    let repeats = count(&e, "table:number-columns-repeated");
                    if name == "table:table-cell"
                        && let Some((_, layout)) = sheet.as_mut()
                    {
                        let rows = count(&e, "table:number-rows-spanned");
                        let cols = count(&e, "table:number-columns-spanned");
                        if (rows > 1 || cols > 1) && row < MAX_ROWS && col < MAX_COLUMNS {
                            let end_row = (row + rows - 1).min(MAX_ROWS - 1);
                            let end_col = (col + cols - 1).min(MAX_COLUMNS - 1);
                            layout.merged.push(Dimensions {
                                start: (row as u32, col as u32),
                                end: (end_row as u32, end_col as u32),
                            });
                        }
                        let kind = attr(&e, "office:value-type").unwrap_or_default();
                        if kind.is_empty()
                            && let Some(formula) = attr(&e, "table:formula")
                        {
                            if empty {
                                uncomputed_cells += record_uncomputed(
                                    layout,
                                    &formula,
                                    (row, row_repeats),
                                    (col, repeats),
                                    MAX_UNCOMPUTED_CELLS.saturating_sub(uncomputed_cells),
                                );
                            } else {
                                formula_cell = Some((formula, col, repeats, false));
                            }
                        }
                        if !empty
                            && matches!(kind.as_str(), "float" | "percentage")
                            && let Some(value) =
                                attr(&e, "office:value").and_then(|v| v.parse::<f64>().ok())
                        {
                            number = Some((kind, value, col, repeats, String::new()));
                            paragraphs = 0;
                        }
                    }
                    col = (col + repeats).min(MAX_COLUMNS);
                }
                "office:annotation" if !empty => in_annotation += 1,
                "text:p" if number.is_some() && in_annotation == 0 => {
                    if let Some((.., text)) = number.as_mut()
                        && paragraphs > 0
                    {
                        text.push('\n');
                    }
                    paragraphs += 1;
                }
                "text:s" if number.is_some() && in_annotation == 0 => {
                    if let Some((.., text)) = number.as_mut() {
                        let spaces = count(&e, "text:c").min(100) as usize;
                        text.extend(std::iter::repeat_n(' ', spaces));
                    }
                }
                _ => {}
            },
            Event::Text(t) if in_annotation == 0 => {
                if let Some((.., text)) = number.as_mut() {
                    text.push_str(&t.xml10_content());
                }
                if let Some((.., shows_text)) = formula_cell.as_mut() {
                    *shows_text |= !t.xml10_content().trim().is_empty();
                }
            }
            Event::End(e) => match e.name().as_ref() {
                "table:table" => {
                    if let Some((name, layout)) = sheet.take() {
                        out.insert(name, layout);
                    }
                }
                "table:table-row" => row = (row + row_repeats).min(MAX_ROWS),
                "office:annotation" => in_annotation = in_annotation.saturating_sub(1),
                "table:table-cell" => {
                    if let (Some((formula, first, repeats, false)), Some((_, layout))) =
                        (formula_cell.take(), sheet.as_mut())
                    {
                        uncomputed_cells += record_uncomputed(
                            layout,
                            &formula,
                            (row, row_repeats),
                            (first, repeats),
                            MAX_UNCOMPUTED_CELLS.saturating_sub(uncomputed_cells),
                        );
                    }
                    if let (Some((kind, value, first, repeats, text)), Some((_, layout))) =
                        (number.take(), sheet.as_mut())
                        && let Some(shown) = ods_shown(&kind, value, &text)
                    {
                        let (rows, cols) = covered((row, row_repeats), (first, repeats));
                        let cells = (rows.end.saturating_sub(rows.start)
                            * cols.end.saturating_sub(cols.start))
                            as usize;
                        if shown_cells.saturating_add(cells) <= MAX_SHOWN_CELLS {
                            shown_cells += cells;
                            for r in rows {
                                for c in cols.clone() {
                                    layout.shown.push(((r as u32, c as u32), shown.clone()));
                                }
                            }
                        }
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Some(out)
}

/// The rows and columns a cell element covers, repeats expanded as calamine lays them out,
/// within the format's limits; nothing for a row repeated more than [`MAX_SHOWN_REPEATS`] and
/// at most that many columns (a generator's filler, not typed data).
fn covered(
    (row, row_repeats): (u64, u64),
    (col, repeats): (u64, u64),
) -> (std::ops::Range<u64>, std::ops::Range<u64>) {
    if row_repeats > MAX_SHOWN_REPEATS {
        return (row..row, col..col);
    }
    (
        row..(row + row_repeats).min(MAX_ROWS),
        col..(col + repeats.min(MAX_SHOWN_REPEATS)).min(MAX_COLUMNS),
    )
}

/// Notes a formula cell stored without a value, at each place its repeats put it, within
/// `budget` cells; returns how many were noted.
fn record_uncomputed(
    layout: &mut SheetLayout,
    formula: &str,
    (row, row_repeats): (u64, u64),
    (col, repeats): (u64, u64),
    budget: usize,
) -> usize {
    if formula.trim().is_empty() {
        return 0;
    }
    let shown = &shown_formula(formula);
    let (rows, cols) = covered((row, row_repeats), (col, repeats));
    let before = layout.uncomputed.len();
    layout.uncomputed.extend(
        rows.flat_map(|r| {
            cols.clone()
                .map(move |c| (r as u32, c as u32, shown.clone()))
        })
        .take(budget),
    );
    layout.uncomputed.len() - before
}

/// A formula as the file stores it (`of:=SUM([.A1:.A2])`) the way a spreadsheet shows it
/// (`=SUM(A1:A2)`): without the namespace prefix, references without their brackets and
/// dots. Text in quotes is left as it is.
fn shown_formula(stored: &str) -> String {
    let formula = match stored.split_once(':') {
        Some((prefix, rest))
            if !prefix.is_empty() && prefix.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            rest
        }
        _ => stored,
    };
    let mut out = String::with_capacity(formula.len());
    let mut quoted = false;
    let mut chars = formula.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                out.push(c);
            }
            '[' if !quoted && chars.peek() == Some(&'.') => {
                chars.next();
            }
            ':' if !quoted && chars.peek() == Some(&'.') => {
                chars.next();
                out.push(':');
            }
            ']' if !quoted => {}
            _ => out.push(c),
        }
    }
    let out = out.trim();
    match out.char_indices().nth(MAX_FORMULA_CHARS) {
        Some((cut, _)) => format!("{}…", &out[..cut]),
        None => out.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Repeated rows of repeated number cells stop being expanded at MAX_SHOWN_CELLS for the
    /// whole file, however many elements ask for more.
    #[test]
    fn shown_cells_are_bounded_for_the_whole_file() {
        let cell = "<table:table-cell office:value-type=\"float\" office:value=\"1\" \
                    table:number-columns-repeated=\"1000\"><text:p>01</text:p></table:table-cell>";
        let row = format!(
            "<table:table-row table:number-rows-repeated=\"1000\">{}</table:table-row>",
            cell.repeat(4)
        );
        let xml = format!(
            "<office:document-content><office:body><office:spreadsheet>\
             <table:table table:name=\"S\">{}</table:table>\
             </office:spreadsheet></office:body></office:document-content>",
            row.repeat(3)
        );
        let layouts = parse(xml.as_bytes()).unwrap();
        let shown = &layouts["S"].shown;
        assert_eq!(
            shown.len(),
            MAX_SHOWN_CELLS,
            "one element of a million each, then none"
        );
        assert_eq!(shown[0], ((0, 0), "01".to_string()));
    }

    /// A formula cell with no value type and no text is noted where its repeats put it; one
    /// with a value (as every spreadsheet program writes it) is not, nor one showing text.
    #[test]
    fn formulas_stored_without_a_value_are_noted() {
        let xml = "<office:document-content><office:body><office:spreadsheet>\
             <table:table table:name=\"S\">\
             <table:table-row>\
             <table:table-cell office:value-type=\"string\"><text:p>Ann</text:p></table:table-cell>\
             <table:table-cell table:formula=\"of:=UPPER(&quot;[.x]&quot;)\"/>\
             <table:table-cell table:formula=\"of:=[.A1]\" office:value-type=\"string\">\
             <text:p>Ann</text:p></table:table-cell>\
             </table:table-row>\
             <table:table-row table:number-rows-repeated=\"2\">\
             <table:table-cell/>\
             <table:table-cell table:formula=\"of:=SUM([.A1:.B1])\" \
             table:number-columns-repeated=\"2\"></table:table-cell>\
             <table:table-cell table:formula=\"of:=[.A1]\"><text:p>x</text:p></table:table-cell>\
             </table:table-row>\
             </table:table></office:spreadsheet></office:body></office:document-content>";
        let layouts = parse(xml.as_bytes()).unwrap();
        let at = |r, c, f: &str| (r, c, f.to_string());
        assert_eq!(
            layouts["S"].uncomputed,
            [
                at(0, 1, "=UPPER(\"[.x]\")"),
                at(1, 1, "=SUM(A1:B1)"),
                at(1, 2, "=SUM(A1:B1)"),
                at(2, 1, "=SUM(A1:B1)"),
                at(2, 2, "=SUM(A1:B1)"),
            ]
        );
    }

    /// A long formula repeated over a thousand rows of a thousand columns is noted within
    /// the file's bounds: a few hundred zipped bytes could otherwise ask for tens of GB.
    #[test]
    fn repeated_formulas_are_bounded_in_count_and_length() {
        let row = format!(
            "<table:table-row table:number-rows-repeated=\"1000\"><table:table-cell \
             table:formula=\"of:=&quot;{}&quot;\" table:number-columns-repeated=\"1000\"/>\
             </table:table-row>",
            "A".repeat(65_536)
        );
        let xml = format!(
            "<office:document-content><office:body><office:spreadsheet>\
             <table:table table:name=\"S\">{row}</table:table>\
             </office:spreadsheet></office:body></office:document-content>"
        );
        let noted = &parse(xml.as_bytes()).unwrap()["S"].uncomputed;
        assert_eq!(noted.len(), MAX_UNCOMPUTED_CELLS);
        assert!(
            noted
                .iter()
                .all(|(.., f)| f.chars().count() == MAX_FORMULA_CHARS + 1)
        );
        assert!(noted[0].2.starts_with("=\"AAA") && noted[0].2.ends_with('…'));
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn merged_regions_are_found_where_calamine_puts_the_cells() {
        let layouts = read(&fixture("merged.ods"));
        let merged: Vec<((u32, u32), (u32, u32))> = layouts["Prospects"]
            .merged
            .iter()
            .map(|d| (d.start, d.end))
            .collect();
        assert_eq!(
            merged,
            [((0, 0), (1, 3)), ((3, 2), (5, 2)), ((7, 2), (9, 2))]
        );
    }

    #[test]
    fn numbers_shown_otherwise_are_read_as_shown() {
        let layouts = read(&fixture("numbers.ods"));
        let texts: Vec<&str> = layouts["Prospects"]
            .shown
            .iter()
            .map(|(_, t)| t.as_str())
            .collect();
        assert_eq!(
            texts,
            ["01234", "06 12 34 56 78", "552 100 554", "15%", "12.50%"]
        );
        assert!(read(b"not a zip").is_empty());
    }
}
