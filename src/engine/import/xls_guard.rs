//! A look at an XLS file's cell positions before calamine parses it.
//!
//! calamine lays each XLS sheet out as one dense block when it opens the file, sized by the
//! sheet's DIMENSIONS record and by the farthest cell: a tiny damaged or hostile file that
//! places a cell at column 65535 asks for a block of billions of cells, and a failed
//! allocation aborts the process (no panic to catch). The XLS format itself stops at 65,536
//! rows and 256 columns (IV65536), so a record beyond that is refused here as damage, and the
//! largest block calamine is then asked for is bounded by the format.
//!
//! Only the part of the compound file (CFB) needed to find the workbook stream is read, with
//! every offset checked; a file this reader cannot follow is left for calamine to report.

/// Columns in an XLS sheet (A to IV).
const MAX_COLUMNS: u64 = 256;
/// Rows in an XLS sheet.
const MAX_ROWS: u64 = 65_536;

const END_OF_CHAIN: u32 = 0xFFFF_FFFE;

/// `Err` with the cause when the file's workbook stream holds a cell or a sheet dimension
/// beyond IV65536.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    let Some(stream) = workbook_stream(bytes) else {
        return Ok(());
    };
    let mut pos = 0usize;
    while let (Some(typ), Some(len)) = (u16_at(&stream, pos), u16_at(&stream, pos + 2)) {
        let start = pos + 4;
        let Some(data) = stream.get(start..start + usize::from(len)) else {
            break;
        };
        pos = start + usize::from(len);
        let beyond = match typ {
            // DIMENSIONS: first row, last row + 1, first column, last column + 1.
            0x0200 => {
                dimensions(data).is_some_and(|(rows, cols)| rows > MAX_ROWS || cols > MAX_COLUMNS)
            }
            // NUMBER, LABEL, RSTRING, BOOLERR, RK, LABELSST, FORMULA: row, column.
            0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 => {
                u16_at(data, 2).is_some_and(|col| u64::from(col) >= MAX_COLUMNS)
            }
            // MULRK: row, first column, …, last column.
            0x00BD => {
                data.len() >= 6
                    && [u16_at(data, 2), u16_at(data, data.len() - 2)]
                        .into_iter()
                        .flatten()
                        .any(|col| u64::from(col) >= MAX_COLUMNS)
            }
            _ => false,
        };
        if beyond {
            return Err(
                "not a readable XLS file (damaged?): a sheet claims cells beyond IV65536, the \
                 format's last cell"
                    .into(),
            );
        }
    }
    Ok(())
}

/// Rows and columns a DIMENSIONS record declares, counted as calamine does.
fn dimensions(data: &[u8]) -> Option<(u64, u64)> {
    let (first_row, last_row, first_col, last_col) = match data.len() {
        10 => (
            u64::from(u16_at(data, 0)?),
            u64::from(u16_at(data, 2)?),
            u64::from(u16_at(data, 4)?),
            u64::from(u16_at(data, 6)?),
        ),
        14 | 16 => (
            u64::from(u32_at(data, 0)?),
            u64::from(u32_at(data, 4)?),
            u64::from(u16_at(data, 8)?),
            u64::from(u16_at(data, 10)?),
        ),
        _ => return None,
    };
    let first_col = if first_col > 0xFF || last_col < first_col {
        0
    } else {
        first_col
    };
    if last_row == 0 || last_col == 0 {
        return Some((1, 1));
    }
    // calamine computes these in u32 arithmetic: a first row past the last wraps around.
    let rows = u64::from(
        (last_row as u32 - 1)
            .wrapping_sub(first_row as u32)
            .wrapping_add(1),
    );
    let cols = u64::from(
        (last_col as u32 - 1)
            .wrapping_sub(first_col as u32)
            .wrapping_add(1),
    );
    Some((rows, cols))
}

pub(super) fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

pub(super) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// The "Workbook" (BIFF8) or "Book" (BIFF5) stream of a compound file, if it can be followed.
pub(super) fn workbook_stream(bytes: &[u8]) -> Option<Vec<u8>> {
    // Sectors are 512 or 4096 bytes, mini sectors 64: anything else is no file to follow.
    let sector_size = match u16_at(bytes, 0x1E)? {
        9 => 512,
        12 => 4096,
        _ => return None,
    };
    let mini_size = 64;
    let mini_cutoff = u32_at(bytes, 0x38)? as usize;
    let sector = |id: u32| -> Option<&[u8]> {
        let start = (id as usize).checked_add(1)?.checked_mul(sector_size)?;
        bytes.get(start..start.checked_add(sector_size)?)
    };
    let sectors_in_file = bytes.len() / sector_size + 1;

    // FAT: the sectors listed in the header's DIFAT, then in the DIFAT chain.
    let mut fat_sectors: Vec<u32> = (0..109)
        .filter_map(|i| u32_at(bytes, 0x4C + 4 * i))
        .collect();
    let mut difat = u32_at(bytes, 0x44)?;
    for _ in 0..sectors_in_file {
        let Some(s) = sector(difat) else { break };
        let per = sector_size / 4 - 1;
        fat_sectors.extend((0..per).filter_map(|i| u32_at(s, 4 * i)));
        difat = u32_at(s, 4 * per)?;
    }
    let fat: Vec<u32> = fat_sectors
        .iter()
        .filter_map(|&id| sector(id))
        .flat_map(|s| {
            s.chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        })
        .collect();
    let chain = |start: u32, table: &[u32]| -> Vec<u32> {
        let mut ids = Vec::new();
        let mut id = start;
        while id < END_OF_CHAIN && ids.len() <= table.len() {
            ids.push(id);
            match table.get(id as usize) {
                Some(&next) => id = next,
                None => break,
            }
        }
        ids
    };
    let read = |start: u32| -> Vec<u8> {
        chain(start, &fat)
            .into_iter()
            .filter_map(sector)
            .flatten()
            .copied()
            .collect()
    };

    let directory = read(u32_at(bytes, 0x30)?);
    let entries: Vec<&[u8]> = directory.chunks_exact(128).collect();
    let name = |e: &[u8]| -> String {
        let len = (usize::from(u16_at(e, 0x40).unwrap_or(0)) / 2)
            .saturating_sub(1)
            .min(32);
        let units: Vec<u16> = (0..len).filter_map(|i| u16_at(e, 2 * i)).collect();
        String::from_utf16_lossy(&units)
    };
    let entry = ["Workbook", "Book"].iter().find_map(|wanted| {
        entries
            .iter()
            .find(|e| e.get(0x42) == Some(&2) && name(e) == *wanted)
    })?;
    let start = u32_at(entry, 0x74)?;
    let size = u32_at(entry, 0x78)? as usize;
    let mut stream = if size < mini_cutoff {
        let root = entries.first()?;
        let mini_stream = read(u32_at(root, 0x74)?);
        let mini_fat: Vec<u32> = read(u32_at(bytes, 0x3C)?)
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        chain(start, &mini_fat)
            .into_iter()
            .filter_map(|id| {
                let at = (id as usize).checked_mul(mini_size)?;
                mini_stream.get(at..at.checked_add(mini_size)?)
            })
            .flatten()
            .copied()
            .collect()
    } else {
        read(start)
    };
    stream.truncate(size);
    Some(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Vec<u8> {
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/prospects.xls"
        ))
        .unwrap()
    }

    #[test]
    fn finds_the_workbook_stream_of_a_real_file() {
        let stream = workbook_stream(&fixture()).unwrap();
        // A BIFF8 workbook starts with its BOF record.
        assert_eq!(&stream[..2], &[0x09, 0x08]);
        assert_eq!(check(&fixture()), Ok(()));
    }

    #[test]
    fn dimensions_are_counted_as_calamine_does() {
        let biff8 = |rf: u32, rl: u32, cf: u16, cl: u16| {
            let mut d = Vec::new();
            d.extend_from_slice(&rf.to_le_bytes());
            d.extend_from_slice(&rl.to_le_bytes());
            d.extend_from_slice(&cf.to_le_bytes());
            d.extend_from_slice(&cl.to_le_bytes());
            d.extend_from_slice(&[0, 0]);
            d
        };
        assert_eq!(dimensions(&biff8(0, 6, 0, 5)), Some((6, 5)));
        assert_eq!(dimensions(&biff8(0, 0, 0, 0)), Some((1, 1)));
        // A first row past the last wraps around in calamine's u32 arithmetic.
        assert!(dimensions(&biff8(2304, 2, 0, 3)).unwrap().0 > MAX_ROWS);
        assert_eq!(dimensions(&biff8(0, 70_000, 0, 3)), Some((70_000, 3)));
    }

    #[test]
    fn garbage_is_left_for_calamine_to_report() {
        let mut bytes = fixture();
        bytes.truncate(600);
        assert_eq!(check(&bytes), Ok(()));
        assert_eq!(check(&[0xD0, 0xCF]), Ok(()));
    }
}
