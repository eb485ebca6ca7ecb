//! Reading addresses to verify from a file or standard input, in constant memory.
//!
//! Encoding: UTF-8 (a BOM ignored), or UTF-16LE/BE ("Unicode text" from Excel) told by its BOM
//! or, without one, by its NUL bytes as import tells it; UTF-16 is decoded a chunk at a time
//! as it is read ([`Utf16Reader`]), so memory stays constant.
//!
//! Framing: when the first line is a CSV header with an email column (named as the import
//! accepts it: `email`, `E-mail`, `Courriel`, …; any of `,` `;` tab `|` as delimiter, a UTF-8
//! BOM ignored), the input is CSV and each record gives the value of that column. A first line
//! without such a header that splits on one of those delimiters into several fields, exactly
//! one of them shaped like an address (`Jane,Doe,jane@acme.test`), makes the input a CSV
//! without a header: every record, the first included, gives the value of that column. A
//! first line of several fields without any `@` is a header naming its address column
//! otherwise: the one header field named like an address column (`Work Email`), or else the
//! one field shaped like an address in the first of the next [`SCAN_ROWS`] non-blank rows
//! that has exactly one (those rows are held and replayed); without either the input is
//! refused before any output (every row would be INVALID_SYNTAX). `--column` names it.
//! Otherwise each line is one address, with no CSV unquoting. Spaces and tabs around an address are
//! dropped (as import does with cells); only the line end (`\n` or `\r\n`) is removed
//! otherwise. Every line or record gives exactly one item, except blank ones, which are
//! skipped and counted ([`Source::skipped`]); a CSV with a header gives each item its row's
//! fields, so the output can keep the input's columns ([`Source::columns`]):
//! - a value that is not valid UTF-8 is read as Windows-1252, as import reads such a line (a
//!   row saved by a Windows program); one that is not valid UTF-16 in UTF-16 input gives an
//!   item with a problem (the result is INVALID_SYNTAX);
//! - a line or record longer than [`MAX_RECORD`] bytes is cut off (the rest is skipped, never
//!   held in memory) and gives an item with a problem;
//! - an empty line, or a blank CSV row, is skipped: it is no address, and counting it as an
//!   INVALID_SYNTAX verdict would make the summary lie.

use std::io::{self, BufRead, Read};

use encoding_rs::{DecoderResult, Encoding};
use tokio::sync::mpsc;

use super::InputItem;
use crate::engine::import::source;

/// Longest line or CSV record kept; the rest is skipped.
pub const MAX_RECORD: usize = 64 * 1024;
/// How much of an unusable line is echoed back in the `email` column.
const ECHO: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framing {
    Lines,
    /// `header`: the first record names the columns (and is no item).
    Csv {
        delimiter: u8,
        column: usize,
        header: bool,
    },
    /// The first line is a header naming no address column, and the rows after it do not
    /// show one either: the input is refused with this text rather than every row being
    /// judged an invalid address.
    NoAddressColumn(String),
}

/// Why input starting with `head` cannot be read as addresses: a spreadsheet or binary
/// content (told apart as import does); `None` when it is fine (UTF-16 text included). Such
/// input would otherwise give one INVALID_SYNTAX row per chunk of bytes.
pub fn unusable(head: &[u8]) -> Option<String> {
    match source::non_text(head)? {
        // UTF-16 without a BOM has NUL bytes too.
        source::BINARY if utf16(head).is_some() => None,
        source::BINARY => Some(source::BINARY.into()),
        kind => Some(format!(
            "{kind}, not text: verify reads one address per line or a CSV with an email \
             column (save the sheet as CSV, or `hailer import` it and run `hailer verify`)"
        )),
    }
}

/// The UTF-16 encoding of input starting with `head`: by its BOM, or without one by the NUL
/// bytes of its first pairs (as import tells it) when `head` decodes to plain text. `None`:
/// read as UTF-8.
pub fn utf16(head: &[u8]) -> Option<&'static Encoding> {
    if head.starts_with(b"\xFF\xFE") {
        return Some(encoding_rs::UTF_16LE);
    }
    if head.starts_with(b"\xFE\xFF") {
        return Some(encoding_rs::UTF_16BE);
    }
    let (enc, _) = source::utf16_without_bom(head)?;
    let mut decoder = enc.new_decoder_without_bom_handling();
    let mut text =
        String::with_capacity(decoder.max_utf8_buffer_length_without_replacement(head.len())?);
    // Not the last of the input: half a character at the end of `head` is no error.
    let (result, _) = decoder.decode_to_string_without_replacement(head, &mut text, false);
    (result == DecoderResult::InputEmpty && source::is_plain_text(&text)).then_some(enc)
}

/// UTF-16 input read as UTF-8, one chunk of the inner reader's buffer at a time (constant
/// memory). A BOM is dropped. What is not valid UTF-16 (a lone surrogate, an odd last byte)
/// becomes a byte that is not valid UTF-8, so the line it is in gives an item with a problem,
/// as a bad line of UTF-8 does, and the rest is read on.
pub struct Utf16Reader<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    /// Decoded, from `pos` on not yet consumed.
    out: Vec<u8>,
    pos: usize,
    /// The end of the input was decoded.
    done: bool,
}

impl<R: BufRead> Utf16Reader<R> {
    pub fn new(inner: R, encoding: &'static Encoding) -> Utf16Reader<R> {
        Utf16Reader {
            inner,
            decoder: encoding.new_decoder_with_bom_removal(),
            out: Vec::new(),
            pos: 0,
            done: false,
        }
    }

    /// Decode what the inner reader has buffered into `out` (nothing, for half a character).
    fn refill(&mut self) -> io::Result<()> {
        let src = loop {
            match self.inner.fill_buf() {
                Ok(c) => break c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        let last = src.is_empty();
        let room = self
            .decoder
            .max_utf8_buffer_length_without_replacement(src.len())
            .unwrap_or(64 * 1024);
        self.out.clear();
        self.out.resize(room, 0);
        self.pos = 0;
        let (result, read, written) =
            self.decoder
                .decode_to_utf8_without_replacement(src, &mut self.out, last);
        self.inner.consume(read);
        self.out.truncate(written);
        match result {
            DecoderResult::InputEmpty => self.done = last,
            DecoderResult::OutputFull => {}
            DecoderResult::Malformed(..) => self.out.push(0xFF),
        }
        Ok(())
    }
}

impl<R: BufRead> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_through_buffer(self, buf)
    }
}

impl<R: BufRead> BufRead for Utf16Reader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.out.len() && !self.done {
            self.refill()?;
        }
        Ok(&self.out[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.out.len());
    }
}

/// At most this many non-blank rows after a header naming no address column are read (and
/// held, to be replayed) to find the column holding the addresses.
pub const SCAN_ROWS: usize = 100;
/// ... and at most this many bytes of them (blank rows included).
const SCAN_BYTES: usize = 1 << 20;

/// Input whose framing is decided, ready to be read: [`open`] reads only its first lines, so
/// an input refused for its shape is refused before any output exists.
pub struct Source {
    /// The rows read to decide, then the rest.
    reader: Box<dyn BufRead + Send>,
    framing: Framing,
    /// The first line (its BOM dropped), and whether it was cut.
    first: Vec<u8>,
    first_truncated: bool,
    /// The input has no line at all.
    empty: bool,
    encoding: &'static str,
    /// Blank lines and rows skipped so far.
    skipped: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// The columns of a CSV input with a header, which the output keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    pub header: Vec<String>,
    /// The address column.
    pub address: usize,
    pub delimiter: u8,
}

/// Read every item of `reader` into `tx` (blocking: run it on its own thread); see
/// [`open`] and [`Source::read_into`].
pub fn read_into(
    reader: impl BufRead + Send + 'static,
    tx: &mpsc::Sender<InputItem>,
) -> io::Result<u64> {
    open(reader, None)?.read_into(tx)
}

/// Decide how `reader` is framed from its first line (and, after a header naming no address
/// column, up to [`SCAN_ROWS`] more rows, held and replayed). Input that is [`unusable`], or a
/// header whose address column cannot be told, is an `InvalidData` error; UTF-16 input is
/// decoded. `column` names the header's address column (`--column`) instead.
pub fn open(mut reader: impl BufRead + Send + 'static, column: Option<&str>) -> io::Result<Source> {
    let head = loop {
        match reader.fill_buf() {
            Ok(c) => break c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    if let Some(why) = unusable(head) {
        return Err(io::Error::new(io::ErrorKind::InvalidData, why));
    }
    match utf16(head) {
        Some(enc) => open_text(Box::new(Utf16Reader::new(reader, enc)), enc.name(), column),
        None => open_text(Box::new(reader), "UTF-8", column),
    }
}

/// [`open`] over UTF-8 text (`encoding` names the input's: UTF-8, or UTF-16 decoded to
/// UTF-8); see [`decoded`] for a value that is not valid UTF-8.
fn open_text(
    mut reader: Box<dyn BufRead + Send>,
    encoding: &'static str,
    column: Option<&str>,
) -> io::Result<Source> {
    let mut first = Vec::new();
    let Some(first_truncated) = read_line(&mut reader, &mut first, MAX_RECORD)? else {
        return Ok(Source {
            reader,
            framing: Framing::Lines,
            first,
            first_truncated: false,
            empty: true,
            encoding,
            skipped: Default::default(),
        });
    };
    if first.starts_with(b"\xEF\xBB\xBF") {
        first.drain(..3);
    }
    let framing = match column {
        Some(name) => named_column(&first, name)?,
        None if first_truncated => Framing::Lines,
        None => detect(&first, None),
    };
    let framing = match framing {
        // A header naming no address column: the rows after it may show which column holds
        // them. They are read here, kept, and put back in front of the rest.
        Framing::NoAddressColumn(_) => {
            let delimiter = header_delimiter(&first);
            let mut kept = Recorder {
                inner: reader,
                kept: Vec::new(),
                limit: SCAN_BYTES,
            };
            let mut record = CsvRecord::default();
            let mut framing = detect(&first, None);
            let mut rows = 0;
            while rows < SCAN_ROWS && kept.kept.len() < SCAN_BYTES {
                let from = kept.kept.len();
                if !read_record(&mut kept, delimiter, &mut record)? {
                    break;
                }
                if record.is_blank() {
                    continue;
                }
                rows += 1;
                if let found @ Framing::Csv { .. } = detect(&first, Some(&kept.kept[from..])) {
                    framing = found;
                    break;
                }
            }
            reader = Box::new(io::Cursor::new(kept.kept).chain(kept.inner));
            framing
        }
        framing => framing,
    };
    if let Framing::NoAddressColumn(why) = framing {
        return Err(io::Error::new(io::ErrorKind::InvalidData, why));
    }
    Ok(Source {
        reader,
        framing,
        first,
        first_truncated,
        empty: false,
        encoding,
        skipped: Default::default(),
    })
}

impl Source {
    /// The counter of blank lines and rows skipped, read while or after [`Source::read_into`]
    /// runs.
    pub fn skipped(&self) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
        self.skipped.clone()
    }

    /// The header's columns of a CSV with a header (`None` for a list of addresses or a CSV
    /// without a header, whose output stays `email,status,…`).
    pub fn columns(&self) -> Option<Columns> {
        let Framing::Csv {
            delimiter,
            column,
            header: true,
        } = self.framing
        else {
            return None;
        };
        let mut record = CsvRecord::default();
        read_record(&mut io::Cursor::new(&self.first), delimiter, &mut record).ok()?;
        Some(Columns {
            header: record.texts(self.encoding),
            address: column,
            delimiter,
        })
    }

    /// Send every item into `tx` (blocking: run it on its own thread). Returns the number of
    /// items sent, or stops early without error when the receiver is gone.
    pub fn read_into(self, tx: &mpsc::Sender<InputItem>) -> io::Result<u64> {
        let Source {
            mut reader,
            framing,
            first,
            first_truncated,
            empty,
            encoding,
            skipped,
        } = self;
        let skip = || {
            skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        };
        let blank_line = |line: &[u8]| line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'));
        let mut sent = 0u64;
        let mut send = |item: InputItem| -> bool {
            sent += 1;
            tx.blocking_send(item).is_ok()
        };
        match framing {
            // Refused by `open`.
            Framing::NoAddressColumn(_) => {}
            Framing::Lines => {
                // Empty input has no first line.
                if !empty {
                    if blank_line(&first) && !first_truncated {
                        skip();
                    } else if !send(line_item(&first, first_truncated, encoding)) {
                        return Ok(sent);
                    }
                }
                let mut line = Vec::new();
                while let Some(truncated) = read_line(&mut reader, &mut line, MAX_RECORD)? {
                    if blank_line(&line) && !truncated {
                        skip();
                        continue;
                    }
                    if !send(line_item(&line, truncated, encoding)) {
                        break;
                    }
                }
            }
            Framing::Csv {
                delimiter,
                column,
                header,
            } => {
                let mut record = CsvRecord::default();
                if !header {
                    read_record(&mut io::Cursor::new(&first), delimiter, &mut record)?;
                    if !send(record.item(column, encoding)) {
                        return Ok(sent);
                    }
                }
                while read_record(&mut reader, delimiter, &mut record)? {
                    if record.is_blank() {
                        skip();
                        continue;
                    }
                    let mut item = record.item(column, encoding);
                    if header {
                        item = item.with_row(Some(record.texts(encoding)));
                    }
                    if !send(item) {
                        break;
                    }
                }
            }
        }
        Ok(sent)
    }
}

/// `Read` for a reader whose buffer does the work (`fill_buf`, `consume`).
fn read_through_buffer(r: &mut impl BufRead, buf: &mut [u8]) -> io::Result<usize> {
    let available = r.fill_buf()?;
    let n = available.len().min(buf.len());
    buf[..n].copy_from_slice(&available[..n]);
    r.consume(n);
    Ok(n)
}

/// A reader that keeps what is consumed from it, to be read again. It ends (reads as EOF)
/// once `limit` bytes are kept, also in the middle of a record: a quote never closed would
/// otherwise make the rest of the file one record, all of it kept. Nothing is lost: what
/// it did not pass on is still in `inner`.
struct Recorder {
    inner: Box<dyn BufRead + Send>,
    kept: Vec<u8>,
    limit: usize,
}

impl Read for Recorder {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_through_buffer(self, buf)
    }
}

impl BufRead for Recorder {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let room = self.limit.saturating_sub(self.kept.len());
        let buf = self.inner.fill_buf()?;
        Ok(&buf[..buf.len().min(room)])
    }

    fn consume(&mut self, n: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            self.kept.extend_from_slice(&buf[..n.min(buf.len())]);
        }
        self.inner.consume(n);
    }
}

/// The first line split on each delimiter, the splits with the most fields first (`email;;`
/// is a header of three columns, not one named "email;;").
fn splits(first: &[u8]) -> Vec<(u8, CsvRecord)> {
    let mut records: Vec<(u8, CsvRecord)> = [b',', b';', b'\t', b'|']
        .into_iter()
        .filter_map(|delimiter| {
            let mut record = CsvRecord::default();
            let read = read_record(&mut io::Cursor::new(first), delimiter, &mut record);
            (read.unwrap_or(false) && !record.truncated).then_some((delimiter, record))
        })
        .collect();
    records.sort_by_key(|(_, r)| std::cmp::Reverse(r.fields.len()));
    records
}

/// The delimiter of a header line: the one that splits it into the most fields.
fn header_delimiter(first: &[u8]) -> u8 {
    splits(first).first().map_or(b',', |(d, _)| *d)
}

/// `--column NAME`: the first line is a header, and `name` (spaces and case aside, or as
/// import compares header names) is its address column.
fn named_column(first: &[u8], name: &str) -> io::Result<Framing> {
    let wanted = crate::engine::import::normalize::header_key(name);
    let wanted_plain = name.trim().to_lowercase();
    for (delimiter, record) in splits(first) {
        let column = record.fields.iter().position(|f| {
            let f = String::from_utf8_lossy(f);
            f.trim().to_lowercase() == wanted_plain
                || (!wanted.is_empty()
                    && crate::engine::import::normalize::header_key(&f) == wanted)
        });
        if let Some(column) = column {
            return Ok(Framing::Csv {
                delimiter,
                column,
                header: true,
            });
        }
    }
    let fields = splits(first)
        .into_iter()
        .next()
        .map(|(_, r)| column_names(&r.fields))
        .unwrap_or_default();
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        format!("--column {name:?}: the first line has no such column ({fields})"),
    ))
}

/// CSV when the first line is a header naming an `email` column, or a record of several
/// fields exactly one of which looks like an address (a CSV without a header). A first line
/// of several fields with no `@` at all is a header whose address column has another name:
/// the one field named like an address column (`Work Email`) when there is exactly one, else
/// `second`, a later row, gives the column when exactly one of its fields looks like an
/// address; without it, or without such a field, [`Framing::NoAddressColumn`].
pub fn detect(first: &[u8], second: Option<&[u8]>) -> Framing {
    // A header anywhere wins over a headerless reading.
    let records = splits(first);
    let email_names = crate::engine::import::columns::Field::Email.synonyms();
    for (delimiter, record) in &records {
        let column = record.fields.iter().position(|f| {
            std::str::from_utf8(f).is_ok_and(|s| {
                email_names.contains(&crate::engine::import::normalize::header_key(s).as_str())
            })
        });
        if let Some(column) = column {
            return Framing::Csv {
                delimiter: *delimiter,
                column,
                header: true,
            };
        }
    }
    for (delimiter, record) in records.iter().filter(|(_, r)| r.fields.len() >= 2) {
        if let Some(column) = only_address_column(&record.fields) {
            return Framing::Csv {
                delimiter: *delimiter,
                column,
                header: false,
            };
        }
    }
    let header = records.first().filter(|(_, r)| r.fields.len() >= 2);
    match header {
        Some((delimiter, record)) if !first.contains(&b'@') => {
            let mut named = record
                .fields
                .iter()
                .enumerate()
                .filter(|(_, f)| std::str::from_utf8(f).is_ok_and(names_addresses));
            if let (Some((column, _)), None) = (named.next(), named.next()) {
                return Framing::Csv {
                    delimiter: *delimiter,
                    column,
                    header: true,
                };
            }
            let mut next = CsvRecord::default();
            let column = second.and_then(|line| {
                read_record(&mut io::Cursor::new(line), *delimiter, &mut next).ok()?;
                only_address_column(&next.fields)
            });
            match column {
                Some(column) => Framing::Csv {
                    delimiter: *delimiter,
                    column,
                    header: true,
                },
                None => Framing::NoAddressColumn(no_address_column(&record.fields)),
            }
        }
        _ => Framing::Lines,
    }
}

/// A header (`Work Email`) that names a column of addresses in other words than import's
/// (`WorkEmail`, `E-mail pro`, `Courriel professionnel`), not a fact about one (`Email
/// status`, `Email opt-out`, `Email domain`).
fn names_addresses(header: &str) -> bool {
    const ABOUT: [&str; 22] = [
        "status",
        "valid",
        "validity",
        "verified",
        "verification",
        "opt",
        "optout",
        "optin",
        "consent",
        "sent",
        "opened",
        "opens",
        "clicks",
        "bounce",
        "bounced",
        "count",
        "date",
        "type",
        "domain",
        "format",
        "score",
        "result",
    ];
    let lower = header.to_lowercase().replace("e-mail", "email");
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    // "Voicemail" ends with "email", and "Voice mail" has the word "mail": a phone column.
    words.iter().any(|w| {
        (w.ends_with("email") && !w.ends_with("voicemail"))
            || *w == "mail"
            || w.starts_with("courriel")
    }) && !words.iter().any(|w| ABOUT.contains(w) || *w == "voice")
}

/// The one field of `fields` shaped like an address; `None` for none or several (which one
/// is meant would be a guess).
fn only_address_column(fields: &[Vec<u8>]) -> Option<usize> {
    let mut shaped = fields.iter().enumerate().filter(|(_, f)| address_shaped(f));
    match (shaped.next(), shaped.next()) {
        (Some((column, _)), None) => Some(column),
        _ => None,
    }
}

/// The names of a header's first columns, quoted, for a message.
fn column_names(header: &[Vec<u8>]) -> String {
    let mut names: Vec<String> = header
        .iter()
        .take(8)
        .map(|f| format!("{:?}", String::from_utf8_lossy(f).trim()))
        .collect();
    if header.len() > 8 {
        names.push("…".into());
    }
    names.join(", ")
}

/// The refusal of a header without an address column, naming its columns.
fn no_address_column(header: &[Vec<u8>]) -> String {
    format!(
        "the first line reads as a header with no email column ({}), and none of the next \
         {SCAN_ROWS} non-blank rows has a single field shaped like an address: give the \
         addresses' column with --column NAME, or name it \"email\" (or E-mail, Courriel, …), \
         or give one address per line",
        column_names(header)
    )
}

/// A field that reads as one address: text with an `@` between other characters and no space
/// inside (spaces and tabs around it are dropped, as for any address read). A `Name <addr>`
/// line is one item, not a sign of CSV: a list mixing it with bare addresses reads whole.
fn address_shaped(field: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(field) else {
        return false;
    };
    let s = s.trim_matches([' ', '\t']);
    match s.rfind('@') {
        Some(at) => at > 0 && at + 1 < s.len() && !s.contains(char::is_whitespace),
        None => false,
    }
}

/// The item of one line; `encoding` names the input's in the problem of a line that is not
/// valid UTF-8 once decoded.
fn line_item(line: &[u8], truncated: bool, encoding: &str) -> InputItem {
    let mut line = line;
    if line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    if truncated {
        return InputItem::unusable(echo(line), format!("line longer than {MAX_RECORD} bytes"));
    }
    match decoded(line, encoding) {
        Some(s) => InputItem::new(s.trim_matches([' ', '\t'])),
        None => InputItem::unusable(echo(line), format!("not valid {encoding}")),
    }
}

/// `value` as text: UTF-8, else (in UTF-8 input) Windows-1252, which reads any bytes and is
/// what a line saved by a Windows program is. `None` for what is not valid UTF-16 once
/// decoded from UTF-16 input: no other reading of it is likely.
fn decoded<'a>(value: &'a [u8], encoding: &str) -> Option<std::borrow::Cow<'a, str>> {
    match std::str::from_utf8(value) {
        Ok(s) => Some(s.into()),
        Err(_) if encoding == "UTF-8" => Some(
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(value)
                .0,
        ),
        Err(_) => None,
    }
}

/// The start of an unusable value, lossily decoded, for the `email` column.
fn echo(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(ECHO)];
    let mut s = String::from_utf8_lossy(head).into_owned();
    if bytes.len() > ECHO {
        s.push('…');
    }
    s
}

/// Read one line into `buf` (without `\n`), keeping at most `max` bytes and skipping the rest.
/// `None` at end of input; `Some(true)` when the line was cut.
fn read_line(reader: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<bool>> {
    buf.clear();
    let mut truncated = false;
    let mut any = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(any.then_some(truncated));
        }
        any = true;
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i, true),
            None => (chunk.len(), false),
        };
        let room = max.saturating_sub(buf.len());
        if take > room {
            truncated = true;
        }
        buf.extend_from_slice(&chunk[..take.min(room)]);
        reader.consume(if done { take + 1 } else { take });
        if done {
            return Ok(Some(truncated));
        }
    }
}

#[derive(Default)]
struct CsvRecord {
    fields: Vec<Vec<u8>>,
    size: usize,
    truncated: bool,
    /// A quote opened and never closed before the end of input.
    unterminated: bool,
}

impl CsvRecord {
    /// Every field as text (lossily, as an unusable value is echoed).
    fn texts(&self, encoding: &str) -> Vec<String> {
        self.fields
            .iter()
            .map(|f| decoded(f, encoding).map_or_else(|| echo(f), |s| s.into_owned()))
            .collect()
    }

    /// No value in any field: an empty line, or a spreadsheet's empty row saved as `;;;`.
    fn is_blank(&self) -> bool {
        !self.truncated
            && self
                .fields
                .iter()
                .all(|f| f.iter().all(|b| matches!(b, b' ' | b'\t')))
    }

    fn item(&self, column: usize, encoding: &str) -> InputItem {
        let value = self.fields.get(column).map(Vec::as_slice).unwrap_or(b"");
        let problem = if self.truncated {
            Some(format!("record longer than {MAX_RECORD} bytes"))
        } else if self.unterminated {
            Some("unterminated quoted field".into())
        } else if column >= self.fields.len() {
            Some(format!("record has no field {}", column + 1))
        } else {
            None
        };
        match (problem, decoded(value, encoding)) {
            (None, Some(s)) => InputItem::new(s.trim_matches([' ', '\t'])),
            (None, None) => InputItem::unusable(echo(value), format!("not valid {encoding}")),
            (Some(p), _) => InputItem::unusable(echo(value), p),
        }
    }
}

/// Read one RFC 4180 record (quotes, doubled quotes, delimiters and line breaks inside quotes;
/// `\r\n` or `\n` ends a record). Keeps at most [`MAX_RECORD`] bytes. `false` at end of input.
fn read_record(reader: &mut impl BufRead, delim: u8, rec: &mut CsvRecord) -> io::Result<bool> {
    rec.fields.clear();
    rec.fields.push(Vec::new());
    rec.size = 0;
    rec.truncated = false;
    rec.unterminated = false;
    #[derive(PartialEq)]
    enum St {
        Start,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut st = St::Start;
    let mut any = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            rec.unterminated = st == St::Quoted;
            trim_cr(rec);
            return Ok(any);
        }
        any = true;
        let mut used = 0;
        let mut ended = false;
        for &b in chunk {
            used += 1;
            match (&st, b) {
                (St::Quoted, b'"') => st = St::QuoteInQuoted,
                (St::Quoted, _) => push(rec, b),
                (St::QuoteInQuoted, b'"') => {
                    push(rec, b'"');
                    st = St::Quoted;
                }
                (_, b'\n') => {
                    ended = true;
                    break;
                }
                (_, d) if d == delim => {
                    // A delimiter costs a byte too, so a record of only delimiters stays bounded.
                    if rec.size >= MAX_RECORD {
                        rec.truncated = true;
                    } else {
                        rec.size += 1;
                        rec.fields.push(Vec::new());
                    }
                    st = St::Start;
                }
                (St::Start, b'"') => st = St::Quoted,
                (_, _) => {
                    push(rec, b);
                    st = St::Unquoted;
                }
            }
        }
        reader.consume(used);
        if ended {
            trim_cr(rec);
            return Ok(true);
        }
    }
}

fn push(rec: &mut CsvRecord, b: u8) {
    if rec.size >= MAX_RECORD {
        rec.truncated = true;
        return;
    }
    rec.size += 1;
    if let Some(f) = rec.fields.last_mut() {
        f.push(b);
    }
}

/// The `\r` of a `\r\n` record end lands at the end of the last field.
fn trim_cr(rec: &mut CsvRecord) {
    if let Some(f) = rec.fields.last_mut()
        && f.last() == Some(&b'\r')
    {
        f.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &[u8]) -> Vec<InputItem> {
        let (tx, mut rx) = mpsc::channel(1 << 16);
        let n = read_into(io::Cursor::new(input.to_vec()), &tx).unwrap();
        drop(tx);
        let mut out = Vec::new();
        while let Ok(item) = rx.try_recv() {
            out.push(item);
        }
        assert_eq!(n as usize, out.len());
        out
    }

    fn emails(items: &[InputItem]) -> Vec<&str> {
        items.iter().map(|i| i.email.as_str()).collect()
    }

    #[test]
    fn binary_input_is_an_error_before_any_item() {
        let (tx, mut rx) = mpsc::channel(16);
        let e =
            read_into(io::Cursor::new(b"PK\x03\x04\x14\x00\x06\x00".to_vec()), &tx).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("XLSX"), "{e}");
        let e = read_into(io::Cursor::new(b"a@x.test\n\x00\x01".to_vec()), &tx).unwrap_err();
        assert!(e.to_string().contains("binary"), "{e}");
        drop(tx);
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn lines_are_taken_as_they_are_but_for_surrounding_spaces() {
        let items = read(b"a@x.com\r\n \"b\"@x.com,1\n\n\tc@x.com  ");
        // The blank line is skipped.
        assert_eq!(emails(&items), ["a@x.com", "\"b\"@x.com,1", "c@x.com"]);
        assert!(items.iter().all(|i| i.problem.is_none()));
    }

    #[test]
    fn a_csv_header_with_an_email_column_switches_to_csv() {
        // Header names as import knows them ("E-mail", "Courriel", …).
        let items = read(
            "\u{feff}Name;Notes;E-mail\r\n\"Doe; Jane\";x;jane@acme.test\r\n\r\nJo;y;\" jo\"\"x\"\"@acme.test\"\n"
                .as_bytes(),
        );
        assert_eq!(emails(&items), ["jane@acme.test", "jo\"x\"@acme.test"]);
        let items = read("Nom,Courriel\nDoe,jane@acme.test\n".as_bytes());
        assert_eq!(emails(&items), ["jane@acme.test"]);
        let items = read(b"email\njane@acme.test\n");
        assert_eq!(emails(&items), ["jane@acme.test"]);
        let items = read(b"id,email\n1,\"multi\nline@acme.test\"\n2\n");
        assert_eq!(emails(&items), ["multi\nline@acme.test", ""]);
        assert_eq!(items[1].problem.as_deref(), Some("record has no field 2"));
    }

    #[test]
    fn a_first_line_without_an_email_header_is_an_address() {
        assert_eq!(detect(b"jane@acme.test", None), Framing::Lines);
        assert!(matches!(
            detect(b"name,company", None),
            Framing::NoAddressColumn(why) if why.contains(r#"("name", "company")"#)
        ));
        assert_eq!(
            detect(b"name,mail", None),
            Framing::Csv {
                delimiter: b',',
                column: 1,
                header: true
            }
        );
        assert_eq!(
            detect(b"name\temail", None),
            Framing::Csv {
                delimiter: b'\t',
                column: 1,
                header: true
            }
        );
        // A quoted local part with a comma is one field: still one address per line.
        assert_eq!(detect(b"\"a,b\"@acme.test", None), Framing::Lines);
        // Two address-shaped fields: which one is meant is a guess, so no CSV.
        assert_eq!(detect(b"a@acme.test;b@acme.test", None), Framing::Lines);
        // A name with a comma does not make the list CSV (the lines after it are bare
        // addresses as often as not).
        assert_eq!(detect(b"Doe, Jane <jane@acme.test>", None), Framing::Lines);
    }

    /// A header whose address column has a name import does not know ("Work Email"): the
    /// next row shows the column. Without one, the input is refused, not judged row by row.
    #[test]
    fn a_header_with_an_unknown_address_column_name_is_read_by_its_next_row() {
        assert_eq!(
            detect(
                b"Prenom,Nom,Work Email",
                Some(b"Jane,Doe,jane.doe@acme.test")
            ),
            Framing::Csv {
                delimiter: b',',
                column: 2,
                header: true
            }
        );
        let items = read(
            "Prénom;Nom;Courriel professionnel\nJane;Doe;jane@acme.test\nJo;X;jo@acme.test\n"
                .as_bytes(),
        );
        assert_eq!(emails(&items), ["jane@acme.test", "jo@acme.test"]);
        let err = read_into(
            io::Cursor::new(b"Name,Company\nJane,Acme\n".to_vec()),
            &mpsc::channel(8).0,
        )
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(
            err.to_string()
                .contains("no email column (\"Name\", \"Company\")"),
            "{err}"
        );
        // A header alone says nothing more.
        assert!(matches!(
            detect(b"Name,Company", None),
            Framing::NoAddressColumn(_)
        ));
    }

    /// Rows with a blank address before the first one that shows the column do not refuse
    /// the input: the next rows are read (and replayed, in order) until one shows it.
    #[test]
    fn blank_first_rows_under_a_header_do_not_hide_the_address_column() {
        let items = read(b"Name,Contact\nJane,\n\nJo,  \nBob,bob@acme.test\nAl,al@acme.test\n");
        assert_eq!(
            emails(&items),
            // Jane's and Jo's rows have no address (INVALID_SYNTAX); the blank row is skipped.
            ["", "", "bob@acme.test", "al@acme.test"]
        );
        // Beyond SCAN_ROWS non-blank rows without an address, the input is refused.
        let mut input = b"Name,Contact\n".to_vec();
        for _ in 0..SCAN_ROWS {
            input.extend(b"Jane,\n");
        }
        input.extend(b"Bob,bob@acme.test\n");
        let err = read_into(io::Cursor::new(input), &mpsc::channel(8).0).unwrap_err();
        assert!(err.to_string().contains("--column"), "{err}");
    }

    /// The scan for the address column keeps at most its limit, also inside a quote that
    /// never closes (the rest of the file would be one record), and loses nothing: what it
    /// did not read is still there, after what it kept.
    #[test]
    fn the_column_scan_keeps_at_most_its_limit_and_loses_nothing() {
        let mut input = b"Name,Notes\nJane,\"6 ft\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 5000));
        let mut kept = Recorder {
            inner: Box::new(io::Cursor::new(input.clone())),
            kept: Vec::new(),
            limit: 100,
        };
        let mut record = CsvRecord::default();
        while read_record(&mut kept, b',', &mut record).unwrap() {}
        assert_eq!(kept.kept.len(), 100);
        let mut again = Vec::new();
        io::Cursor::new(kept.kept)
            .chain(kept.inner)
            .read_to_end(&mut again)
            .unwrap();
        assert_eq!(again, input);
    }

    /// A header that names its address column in other words decides alone: blank first rows
    /// do not matter, and a column about addresses (`Email status`) is not taken for one.
    #[test]
    fn a_header_named_like_an_email_column_decides_alone() {
        let items = read(b"Name,Work Email\nJane,\nBob,bob@acme.test\n");
        assert_eq!(emails(&items), ["", "bob@acme.test"]);
        for (header, delimiter, column) in [
            (&b"Name;E-mail pro;Company"[..], b';', 1),
            (b"Courriel professionnel,Nom", b',', 0),
            (b"Name,WorkEmail,Email status", b',', 1),
        ] {
            assert_eq!(
                detect(header, None),
                Framing::Csv {
                    delimiter,
                    column,
                    header: true
                },
                "{}",
                String::from_utf8_lossy(header)
            );
        }
        // Two such columns: the rows decide.
        assert!(matches!(
            detect(b"Name,Work Email,Personal Email", None),
            Framing::NoAddressColumn(_)
        ));
        assert!(matches!(
            detect(b"Name,Email status", None),
            Framing::NoAddressColumn(_)
        ));
        // A phone column is no address column, whatever its spelling.
        for header in ["Name,Voicemail", "Name,Voice mail"] {
            assert!(
                matches!(detect(header.as_bytes(), None), Framing::NoAddressColumn(_)),
                "{header}"
            );
        }
    }

    #[test]
    fn column_names_the_address_column_of_a_header() {
        let source = open(
            io::Cursor::new(b"Name,Contact,Other\nJane,jane@acme.test,x@y.test\n".to_vec()),
            Some("contact"),
        )
        .unwrap();
        let (tx, mut rx) = mpsc::channel(8);
        assert_eq!(source.read_into(&tx).unwrap(), 1);
        assert_eq!(rx.try_recv().unwrap().email, "jane@acme.test");
        let err = open(io::Cursor::new(b"Name,Contact\n".to_vec()), Some("Mail"))
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("no such column (\"Name\", \"Contact\")"),
            "{err}"
        );
    }

    /// Excel in a French locale ends a header with empty cells: `email;;` is three columns.
    #[test]
    fn a_header_ending_in_empty_cells_is_split_on_its_delimiter() {
        for header in [&b"email;;"[..], b"email;", b"Courriel;;"] {
            assert_eq!(
                detect(header, None),
                Framing::Csv {
                    delimiter: b';',
                    column: 0,
                    header: true
                },
                "{}",
                String::from_utf8_lossy(header)
            );
        }
        let items = read(b"email;;\njane.doe@acme.test;;\n");
        assert_eq!(emails(&items), ["jane.doe@acme.test"]);
    }

    #[test]
    fn a_headerless_csv_gives_its_address_column_from_the_first_row_on() {
        assert_eq!(
            detect(b"Jane;Doe; jane@acme.test ;Acme", None),
            Framing::Csv {
                delimiter: b';',
                column: 2,
                header: false
            }
        );
        let items = read(b"Jane,Doe,jane@acme.test\r\nJohn,Smith,john.smith@acme.test\r\n\nJo,X\n");
        assert_eq!(
            emails(&items),
            // The blank line skipped; Jo's row has no third field.
            ["jane@acme.test", "john.smith@acme.test", ""]
        );
        assert!(items[..2].iter().all(|i| i.problem.is_none()));
        assert_eq!(items[2].problem.as_deref(), Some("record has no field 3"));
        let items = read(b"jane@acme.test\t2024-01-02\nbad address\t2024-01-03\n");
        assert_eq!(emails(&items), ["jane@acme.test", "bad address"]);
    }

    #[test]
    fn windows_1252_lines_are_read_and_overlong_lines_are_items_with_problems() {
        let mut input = b"ok@acme.test\nh\xe9l\xe8ne@acme.test\n".to_vec();
        input.extend(std::iter::repeat_n(b'a', MAX_RECORD * 3));
        input.extend(b"@acme.test\nlast@acme.test\n");
        let items = read(&input);
        assert_eq!(items.len(), 4);
        assert_eq!(items[1].problem, None);
        assert_eq!(items[1].email, "hélène@acme.test");
        assert!(items[2].problem.as_deref().unwrap().contains("longer than"));
        assert!(items[2].email.chars().count() <= ECHO + 1);
        assert_eq!(items[3].email, "last@acme.test");
    }

    #[test]
    fn overlong_csv_records_are_skipped_to_their_end() {
        let mut input = b"email,note\n".to_vec();
        input.extend(b"big@acme.test,\"");
        input.extend(std::iter::repeat_n(b'z', MAX_RECORD * 2));
        input.extend(b"\"\nnext@acme.test,ok\n");
        let items = read(&input);
        assert_eq!(items.len(), 2);
        assert!(items[0].problem.as_deref().unwrap().contains("longer than"));
        assert_eq!(items[0].email, "big@acme.test");
        assert_eq!(items[1].email, "next@acme.test");
        assert!(items[1].problem.is_none());
    }

    #[test]
    fn blank_rows_and_lines_are_skipped_and_counted() {
        // No address there: skipped (counted), not an INVALID_SYNTAX verdict. A CSV with a
        // header gives each item its row, and the header for the output.
        let source = open(
            io::Cursor::new(
                b"name,email\nJane,jane@acme.test\n\n\r\n , \nJo,jo@acme.test\n".to_vec(),
            ),
            None,
        )
        .unwrap();
        let skipped = source.skipped();
        assert_eq!(
            source.columns(),
            Some(Columns {
                header: vec!["name".into(), "email".into()],
                address: 1,
                delimiter: b',',
            })
        );
        let (tx, mut rx) = mpsc::channel(16);
        source.read_into(&tx).unwrap();
        drop(tx);
        let mut items = Vec::new();
        while let Ok(i) = rx.try_recv() {
            items.push(i);
        }
        assert_eq!(emails(&items), ["jane@acme.test", "jo@acme.test"]);
        assert_eq!(
            items[1].row,
            Some(vec!["Jo".to_string(), "jo@acme.test".into()])
        );
        assert_eq!(skipped.load(std::sync::atomic::Ordering::Relaxed), 3);
        let source = open(
            io::Cursor::new(b"a@x.test\n\n  \nb@x.test\n".to_vec()),
            None,
        )
        .unwrap();
        assert_eq!(source.columns(), None, "a list keeps the plain output");
        let skipped = source.skipped();
        let (tx, mut rx) = mpsc::channel(16);
        source.read_into(&tx).unwrap();
        drop(tx);
        let mut n = 0;
        while rx.try_recv().is_ok() {
            n += 1;
        }
        assert_eq!(
            (n, skipped.load(std::sync::atomic::Ordering::Relaxed)),
            (2, 2)
        );
    }

    #[test]
    fn utf16_is_decoded_in_chunks_whatever_the_boundaries() {
        let text = "email\r\nrené@acme.test\r\n😀@acme.test\r\n\r\nlast@acme.test";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let want = ["rené@acme.test", "😀@acme.test", "last@acme.test"];
        for bytes in [[&b"\xFF\xFE"[..], &le].concat(), le.clone(), be.clone()] {
            assert_eq!(emails(&read(&bytes)), want);
            // 3-byte reads cut code units and surrogate pairs in two.
            let enc = utf16(&bytes).unwrap();
            let mut decoded = String::new();
            Utf16Reader::new(io::BufReader::with_capacity(3, &bytes[..]), enc)
                .read_to_string(&mut decoded)
                .unwrap();
            assert_eq!(decoded, text);
        }
        // An odd last byte and a lone surrogate: items with a problem, and the rest is read.
        let mut bad: Vec<u8> = "a@x.test\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        bad.extend(0xDC00u16.to_le_bytes());
        bad.extend(
            "b@x.test\nc@x.test\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        bad.push(b'd');
        let items = read(&[&b"\xFF\xFE"[..], &bad].concat());
        assert_eq!(items.len(), 4, "{items:?}");
        assert_eq!(emails(&items[..1]), ["a@x.test"]);
        assert_eq!(items[1].problem.as_deref(), Some("not valid UTF-16LE"));
        assert_eq!(emails(&items[2..3]), ["c@x.test"]);
        assert_eq!(items[3].problem.as_deref(), Some("not valid UTF-16LE"));
    }

    #[test]
    fn nul_bytes_that_do_not_make_utf16_text_are_still_binary() {
        // The UTF-16LE shape, but control characters once decoded.
        let bytes: Vec<u8> = "a\u{1}b\u{2}c\u{3}d\u{4}"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert!(utf16(&bytes).is_none());
        assert_eq!(unusable(&bytes).as_deref(), Some(source::BINARY));
        let text: Vec<u8> = "a@x.test\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(utf16(&text), Some(encoding_rs::UTF_16LE));
        assert_eq!(unusable(&text), None);
        assert_eq!(utf16(b"a@x.test\n"), None);
    }

    #[test]
    fn empty_input_has_no_items() {
        assert!(read(b"").is_empty());
        assert_eq!(read(b"\n").len(), 0, "a blank line is no address");
    }
}
