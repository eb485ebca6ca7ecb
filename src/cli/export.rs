//! `hailer export prospects|messages|outbox|suggestions|bounces|replies --format csv|xlsx --output PATH
//! [--delimiter D] [--bom]`

use std::path::PathBuf;

use clap::Args;

use super::{Context, exit};
use crate::engine::export::{self, CsvOptions, ExportFormat, ExportTable};

#[derive(Debug, Args)]
pub struct ExportCommand {
    /// Which table
    #[arg(value_enum)]
    pub table: ExportTable,
    /// Output format [default: from the output file's extension (.xlsx), else csv]
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
    /// Output file; `-` is standard output (CSV only)
    #[arg(long, short, default_value = "-")]
    pub output: PathBuf,
    /// Outbox only: rows with this status (any case)
    #[arg(long, value_enum, ignore_case = true)]
    pub status: Option<crate::store::outbox::Status>,
    /// Bounces only: reports dated on or after this day (YYYY-MM-DD, UTC)
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub since: Option<chrono::NaiveDate>,
    /// Bounces only: recipients at this domain
    #[arg(long, value_name = "D")]
    pub domain: Option<String>,
    /// Bounces only: this reason (userunknown, mailboxfull, ..., or a complaint's feedback type)
    #[arg(long, value_name = "R")]
    pub reason: Option<String>,
    #[command(flatten)]
    pub csv: CsvArgs,
}

/// The CSV's shape, as `export` and the list commands take it.
#[derive(Debug, Default, Args)]
pub struct CsvArgs {
    /// CSV only: the field delimiter, `,` (default), `;`, `tab` or `|`. Excel in a French
    /// locale wants `;` (with --bom)
    #[arg(long, value_name = "D", value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
    /// CSV only: start with a UTF-8 byte order mark, without which Excel garbles accents
    #[arg(long)]
    pub bom: bool,
}

impl CsvArgs {
    /// Whether either flag was given (both apply to CSV only).
    pub fn given(&self) -> bool {
        self.delimiter.is_some() || self.bom
    }

    pub fn options(&self) -> CsvOptions {
        CsvOptions {
            delimiter: self.delimiter.unwrap_or(b','),
            bom: self.bom,
        }
    }
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "," | "comma" => Ok(b','),
        ";" | "semicolon" => Ok(b';'),
        // A tab typed as such ($'\t') or as the two characters `\t`.
        "tab" | "\t" | "\\t" => Ok(b'\t'),
        "|" | "pipe" => Ok(b'|'),
        _ => Err(format!(
            "{s:?} is not a delimiter: use ',', ';', 'tab' or '|'"
        )),
    }
}

/// Complaint feedback types (RFC 5965, RFC 6591), stored as a complaint's reason.
const FEEDBACK_TYPES: [&str; 6] = [
    "abuse",
    "fraud",
    "virus",
    "other",
    "not-spam",
    "auth-failure",
];

/// `--reason` in any case, checked: an unknown name would export nothing without a word.
fn bounce_reason(s: &str) -> Result<String, String> {
    use crate::engine::bounces::Reason;
    let r = s.trim().to_lowercase();
    if Reason::from_name(&r).is_some() || FEEDBACK_TYPES.contains(&r.as_str()) {
        return Ok(r);
    }
    let known: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
    Err(format!(
        "--reason {s:?} is no bounce reason: one of {}, or a complaint's feedback type ({})",
        known.join(", "),
        FEEDBACK_TYPES.join(", ")
    ))
}

fn parse_day(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("{s:?} is not a date such as 2026-11-23"))
}

impl ExportCommand {
    pub fn execute(self, ctx: &Context) -> u8 {
        let Some(store) = ctx.store_or_report() else {
            return exit::FAILURE;
        };
        if self.status.is_some() && self.table != ExportTable::Outbox {
            errln!("--status applies to the outbox export only");
            return exit::USAGE;
        }
        let format = match export_format(self.format, &self.output) {
            Ok(f) => f,
            Err(e) => {
                errln!("{e}");
                return exit::USAGE;
            }
        };
        if self.csv.given() && format != ExportFormat::Csv {
            errln!("--delimiter and --bom apply to the CSV format only");
            return exit::USAGE;
        }
        let bounce_only = self.since.is_some() || self.domain.is_some() || self.reason.is_some();
        if bounce_only && self.table != ExportTable::Bounces {
            errln!("--since, --domain and --reason apply to the bounces export only");
            return exit::USAGE;
        }
        let reason = match self.reason.as_deref().map(bounce_reason).transpose() {
            Ok(r) => r,
            Err(e) => {
                errln!("{e}");
                return exit::USAGE;
            }
        };
        let filter = crate::store::bounces::Filter {
            since: self
                .since
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc().timestamp()),
            // As the suppression list writes domains (`@acme.test`), in any case.
            domain: self
                .domain
                .as_deref()
                .map(|d| d.trim().trim_start_matches('@').to_lowercase()),
            reason,
            ..Default::default()
        };
        match export::run_filtered(
            &store,
            self.table,
            format,
            &self.output,
            self.status,
            &filter,
            self.csv.options(),
        ) {
            Ok(summary) => {
                stderrln!("{summary}");
                exit::OK
            }
            Err(e) => {
                errln!("{e}");
                match e {
                    export::ExportError::XlsxToStdout => exit::USAGE,
                    _ => exit::FAILURE,
                }
            }
        }
    }
}

/// The format asked for, else the one the file name says (`.xlsx`; anything else is CSV). A
/// `--format` the file name contradicts is refused: `-o list.xlsx --format csv` wrote CSV
/// text into a file no spreadsheet would open.
fn export_format(
    asked: Option<ExportFormat>,
    output: &std::path::Path,
) -> Result<ExportFormat, String> {
    let ext = output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let named = match ext.as_deref() {
        Some("xlsx") => Some(ExportFormat::Xlsx),
        Some("csv" | "txt" | "tsv") => Some(ExportFormat::Csv),
        _ => None,
    };
    match (asked, named) {
        (Some(a), Some(n)) if a != n => Err(format!(
            "--format {} but {} is named as {}: drop --format or rename the file",
            a.name(),
            output.display(),
            n.name()
        )),
        (Some(a), _) => Ok(a),
        (None, Some(n)) => Ok(n),
        (None, None) => Ok(ExportFormat::Csv),
    }
}
