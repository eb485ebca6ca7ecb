//! The number formats of an XLS file's cells, which calamine does not give: a postcode typed
//! as a number in format `00000` shows `01234`, a percentage `15%` (see [`Shown`]).
//!
//! The BIFF8 workbook stream is walked once: FORMAT records give the custom format codes, XF
//! records the format of each cell style, BOUNDSHEET records where each sheet's records
//! start; then each sheet's NUMBER, RK, MULRK and FORMULA records give its numbers and their
//! style. Only the cells whose format shows them otherwise than the plain number are
//! returned. A file this reader cannot follow (BIFF5, damage) gives none: its cells are read
//! as plain numbers, as before.

use std::collections::HashMap;

use super::number_format::Shown;
use super::xls_guard::{u16_at, u32_at, workbook_stream};

/// Per sheet name, the numbers whose format shows them otherwise: (row, column) 0-based, and
/// the text shown.
pub type ShownCells = HashMap<String, Vec<((u32, u32), String)>>;

pub fn shown_numbers(bytes: &[u8]) -> ShownCells {
    workbook_stream(bytes)
        .and_then(|stream| read(&stream))
        .unwrap_or_default()
}

/// One BIFF record: its type and data.
fn records(stream: &[u8], from: usize) -> impl Iterator<Item = (u16, &[u8])> {
    let mut pos = from;
    std::iter::from_fn(move || {
        let typ = u16_at(stream, pos)?;
        let len = usize::from(u16_at(stream, pos + 2)?);
        let data = stream.get(pos + 4..pos + 4 + len)?;
        pos += 4 + len;
        Some((typ, data))
    })
}

const BOF: u16 = 0x0809;
const EOF: u16 = 0x000A;
const FORMAT: u16 = 0x041E;
const XF: u16 = 0x00E0;
const BOUNDSHEET: u16 = 0x0085;
const NUMBER: u16 = 0x0203;
const RK: u16 = 0x027E;
const MULRK: u16 = 0x00BD;
const FORMULA: u16 = 0x0006;

fn read(stream: &[u8]) -> Option<ShownCells> {
    let mut globals = records(stream, 0);
    let (typ, bof) = globals.next()?;
    // BIFF8 only (version 0x0600): older files store strings otherwise.
    if typ != BOF || u16_at(bof, 0)? != 0x0600 {
        return None;
    }
    let mut codes: HashMap<u16, String> = HashMap::new();
    let mut xf_formats: Vec<u16> = Vec::new();
    let mut sheets: Vec<(String, usize)> = Vec::new();
    for (typ, data) in globals {
        match typ {
            FORMAT => {
                if let (Some(id), Some(code)) = (u16_at(data, 0), unicode_string(data, 2)) {
                    codes.insert(id, code);
                }
            }
            XF => xf_formats.push(u16_at(data, 2).unwrap_or(0)),
            // Worksheets only (sheet type 0): charts and macros hold no cells.
            BOUNDSHEET if data.get(5) == Some(&0) => {
                if let (Some(at), Some(name)) = (u32_at(data, 0), short_string(data, 6)) {
                    sheets.push((name, at as usize));
                }
            }
            EOF => break,
            _ => {}
        }
    }
    // The layout of each XF's format, when it changes what the number shows.
    let shown: Vec<Option<Shown>> = xf_formats
        .iter()
        .map(|id| {
            codes
                .get(id)
                .map(String::as_str)
                .or_else(|| builtin_code(*id))
                .and_then(Shown::parse)
        })
        .collect();
    if shown.iter().all(Option::is_none) {
        return Some(HashMap::new());
    }
    let mut out = ShownCells::new();
    // A sheet's records are read once: sheets of a sound file do not overlap, so the walks
    // together read the stream at most once. A crafted sheet list (thousands of sheets at
    // one offset, or overlapping ones) would otherwise read it again per sheet; past the
    // stream's own size the rest is read as plain numbers.
    let mut budget = stream.len();
    let mut walked = std::collections::HashSet::new();
    for (name, at) in sheets {
        if !walked.insert(at) || budget == 0 {
            continue;
        }
        let mut cells = Vec::new();
        let mut push = |row: Option<u16>, col: Option<u16>, xf: Option<u16>, value: f64| {
            if let (Some(row), Some(col), Some(Some(layout))) =
                (row, col, xf.and_then(|x| shown.get(usize::from(x))))
                && let Some(text) = layout.apply(value)
            {
                cells.push(((u32::from(row), u32::from(col)), text));
            }
        };
        let mut sheet = records(stream, at);
        if sheet.next().map(|(typ, _)| typ) != Some(BOF) {
            continue;
        }
        for (typ, data) in sheet {
            budget = budget.saturating_sub(data.len() + 4);
            if budget == 0 {
                break;
            }
            let (row, col, xf) = (u16_at(data, 0), u16_at(data, 2), u16_at(data, 4));
            match typ {
                NUMBER => {
                    if let Some(v) = f64_at(data, 6) {
                        push(row, col, xf, v);
                    }
                }
                RK => {
                    if let Some(rk) = u32_at(data, 6) {
                        push(row, col, xf, rk_value(rk));
                    }
                }
                MULRK => {
                    // Row, first column, then (XF, RK) pairs, then the last column.
                    let pairs = data.len().saturating_sub(6) / 6;
                    for i in 0..pairs {
                        let at = 4 + 6 * i;
                        if let (Some(first), Some(rk)) = (col, u32_at(data, at + 2)) {
                            let col = first.checked_add(i as u16);
                            push(row, col, u16_at(data, at), rk_value(rk));
                        }
                    }
                }
                // A formula's cached number; its other results (text, errors) say so in
                // their last two bytes.
                FORMULA if u16_at(data, 12) != Some(0xFFFF) => {
                    if let Some(v) = f64_at(data, 6) {
                        push(row, col, xf, v);
                    }
                }
                EOF => break,
                _ => {}
            }
        }
        if !cells.is_empty() {
            out.insert(name, cells);
        }
    }
    Some(out)
}

/// The built-in format codes that [`Shown`] lays out (the others show plain numbers, dates
/// or text): BIFF files do not store them.
fn builtin_code(id: u16) -> Option<&'static str> {
    match id {
        9 => Some("0%"),
        10 => Some("0.00%"),
        _ => None,
    }
}

fn f64_at(b: &[u8], at: usize) -> Option<f64> {
    Some(f64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// An RK number: 30 bits of an integer or of a float's high bits, maybe divided by 100.
fn rk_value(rk: u32) -> f64 {
    let v = if rk & 2 != 0 {
        f64::from((rk as i32) >> 2)
    } else {
        f64::from_bits(u64::from(rk & 0xFFFF_FFFC) << 32)
    };
    if rk & 1 != 0 { v / 100.0 } else { v }
}

/// An XLUnicodeString at `at`: a 16-bit length, flags, then the characters (one byte each,
/// or UTF-16 when the flags say so).
fn unicode_string(data: &[u8], at: usize) -> Option<String> {
    let len = usize::from(u16_at(data, at)?);
    let flags = *data.get(at + 2)?;
    let mut start = at + 3;
    if flags & 0x08 != 0 {
        start += 2;
    }
    if flags & 0x04 != 0 {
        start += 4;
    }
    chars(data, start, len, flags & 0x01 != 0)
}

/// A ShortXLUnicodeString at `at` (sheet names): an 8-bit length, flags, the characters.
fn short_string(data: &[u8], at: usize) -> Option<String> {
    let len = usize::from(*data.get(at)?);
    let wide = data.get(at + 1)? & 0x01 != 0;
    chars(data, at + 2, len, wide)
}

fn chars(data: &[u8], start: usize, len: usize, wide: bool) -> Option<String> {
    if wide {
        let bytes = data.get(start..start + 2 * len)?;
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        Some(String::from_utf16_lossy(&units))
    } else {
        // Compressed: the high byte of each UTF-16 unit is zero, so each byte is Latin-1.
        Some(
            data.get(start..start + len)?
                .iter()
                .map(|&b| char::from(b))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut r = typ.to_le_bytes().to_vec();
        r.extend_from_slice(&(data.len() as u16).to_le_bytes());
        r.extend_from_slice(data);
        r
    }

    /// A sheet list naming one sheet's records many times (or overlapping ones) reads them
    /// once: the walks together never read more than the stream.
    #[test]
    fn many_sheets_at_one_offset_read_its_records_once() {
        let bof = record(BOF, &[0x00, 0x06, 0, 0, 0, 0, 0, 0]);
        let xf = record(XF, &[0, 0, 10, 0]); // built-in format 10, 0.00%
        let sheets = 2000;
        let bound = |name: usize, at: u32| {
            let mut d = at.to_le_bytes().to_vec();
            d.extend_from_slice(&[0, 0]);
            let name = format!("S{name}");
            d.extend_from_slice(&[name.len() as u8, 0]);
            d.extend_from_slice(name.as_bytes());
            record(BOUNDSHEET, &d)
        };
        let globals_len = bof.len()
            + xf.len()
            + (0..sheets).map(|i| bound(i, 0).len()).sum::<usize>()
            + record(EOF, &[]).len();
        let mut stream = bof.clone();
        stream.extend(xf);
        for i in 0..sheets {
            stream.extend(bound(i, globals_len as u32));
        }
        stream.extend(record(EOF, &[]));
        assert_eq!(stream.len(), globals_len);
        stream.extend(bof);
        for row in 0..500u16 {
            let mut d = row.to_le_bytes().to_vec();
            d.extend_from_slice(&[0, 0, 0, 0]);
            d.extend_from_slice(&0.5f64.to_le_bytes());
            stream.extend(record(NUMBER, &d));
        }
        stream.extend(record(EOF, &[]));
        let shown = read(&stream).unwrap();
        assert_eq!(shown.len(), 1, "the records are read for one sheet only");
        assert_eq!(shown["S0"].len(), 500);
        assert_eq!(shown["S0"][0].1, "50.00%");
    }

    #[test]
    fn rk_numbers_decode() {
        // 75001 as an integer RK, 1.5 as a float RK, 12.34 as an integer RK divided by 100.
        assert_eq!(rk_value((75001 << 2) | 2), 75001.0);
        assert_eq!(rk_value((1.5f64.to_bits() >> 32) as u32), 1.5);
        assert_eq!(rk_value((1234 << 2) | 3), 12.34);
        assert_eq!(rk_value(((-5i32) << 2) as u32 | 2), -5.0);
    }

    #[test]
    fn the_formats_of_a_real_file_are_read() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/numbers.xls"
        ))
        .unwrap();
        let shown = shown_numbers(&bytes);
        let mut cells = shown["Prospects"].clone();
        cells.sort();
        let texts: Vec<&str> = cells.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "75001",
                "01234",
                "06 12 34 56 78",
                "552 100 554",
                "15%",
                "12.50%"
            ]
        );
        // prospects.xls has dates and plain numbers only: nothing to lay out.
        let plain = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/prospects.xls"
        ))
        .unwrap();
        assert!(shown_numbers(&plain).is_empty());
        assert!(shown_numbers(&plain[..600]).is_empty());
    }
}
