//! `hailer import prospects|messages FILE [--sheet NAME] [--map field=Header …]`, and
//! `hailer import log [--json]`, the imports done so far.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{Context, exit};
use crate::engine::import::{self, ColumnOverride, ImportError, ImportKind, ImportRequest};
use crate::store::imports;

#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true,
    subcommand_negates_reqs = true,
    override_usage = "hailer import [OPTIONS] <KIND> <FILE>\n       hailer import log [--json] [-o FILE]"
)]
pub struct ImportCommand {
    #[command(subcommand)]
    pub log: Option<ImportLogCommand>,
    /// What the file holds
    #[arg(value_enum, required = true)]
    pub kind: Option<ImportKind>,
    /// CSV/TSV (any of , ; tab |), XLSX, XLS or ODS; `-` reads standard input
    #[arg(required = true)]
    pub file: Option<PathBuf>,
    /// Sheet to read (default: the first sheet whose header has the required columns)
    #[arg(long)]
    pub sheet: Option<String>,
    /// Map a field to a header explicitly, e.g. --map firstname="Given"; repeatable
    #[arg(long = "map", value_name = "FIELD=HEADER")]
    pub overrides: Vec<ColumnOverride>,
    /// Print the summary as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ImportLogCommand {
    /// List the imports done so far as CSV
    /// (id,created_at,kind,file,sheet,imported,updated,duplicates,replaced,rejected), oldest
    /// first, or JSON with --json
    Log {
        /// Print a JSON array of the same fields (created_at a Unix time, updated null for
        /// imports logged before it was counted) instead of CSV
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        out: super::ListOutput,
    },
}

impl ImportCommand {
    pub fn execute(self, ctx: &Context) -> u8 {
        let (kind, file) = match (self.log, self.kind, self.file) {
            (Some(ImportLogCommand::Log { json, out }), _, _) => return list_log(ctx, json, &out),
            (None, Some(kind), Some(file)) => (kind, file),
            // clap requires both when there is no subcommand.
            _ => return exit::USAGE,
        };
        // A failed import into a data directory that had no database leaves none behind:
        // the database this command created is removed again (the log keeps the failure).
        let db_file = ctx.data_dir.join(crate::store::DB_FILE);
        let db_was_there = db_file.exists();
        let Some(mut store) = ctx.store_or_report() else {
            return exit::FAILURE;
        };
        let req = ImportRequest {
            kind,
            file,
            sheet: self.sheet,
            overrides: self.overrides,
            sample: false,
        };
        let mut last_shown = std::time::Instant::now();
        let interactive = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let result = import::run(&mut store, &req, &mut |p| {
            if interactive && last_shown.elapsed().as_millis() > 200 {
                stderr!("\rimporting… {}/{} rows", p.done, p.total);
                last_shown = std::time::Instant::now();
            }
            true
        });
        if interactive {
            stderr!("\r\x1b[K");
        }
        match result {
            Ok(summary) => {
                tracing::info!(
                    file = %summary.file.display(),
                    imported = summary.imported,
                    duplicates = summary.duplicates,
                    rejected = summary.rejected,
                    "import finished"
                );
                if self.json {
                    outln!(
                        "{}",
                        serde_json::to_string_pretty(&summary).unwrap_or_default()
                    );
                } else {
                    out!("{summary}");
                }
                exit::OK
            }
            Err(e) => {
                tracing::warn!("import failed: {e}");
                errln!("{e}");
                if !db_was_there {
                    drop(store);
                    for suffix in ["", "-wal", "-shm"] {
                        let mut name = db_file.clone().into_os_string();
                        name.push(suffix);
                        let _ = std::fs::remove_file(name);
                    }
                }
                match e {
                    ImportError::Store { .. } => exit::FAILURE,
                    _ => exit::INPUT,
                }
            }
        }
    }
}

/// `hailer import log`: like `suppress list`, data a script keeps, so a list that could not
/// be written whole (a full disk, a closed pipe) exits 1.
fn list_log(ctx: &Context, json: bool, out: &super::ListOutput) -> u8 {
    let Some(store) = ctx.store_or_report() else {
        return exit::FAILURE;
    };
    match imports::list(store.conn()) {
        Ok(log) => print_log(&log, json, out),
        Err(e) => {
            errln!("{e}");
            exit::FAILURE
        }
    }
}

/// The log on standard output: CSV (dates in RFC 3339, an unknown count empty, names guarded
/// against formula injection) or a JSON array.
fn print_log(log: &[imports::ImportLogEntry], json: bool, out: &super::ListOutput) -> u8 {
    let header = [
        "id",
        "created_at",
        "kind",
        "file",
        "sheet",
        "imported",
        "updated",
        "duplicates",
        "replaced",
        "rejected",
    ];
    // File and sheet names are the user's text: guarded (as every cell is), so a name that
    // starts with = + - @ is never run as a formula by a spreadsheet.
    super::print_table("the imports log", log, json, out, header, |e| {
        [
            e.id.to_string(),
            super::rfc3339(e.created_at),
            e.kind.clone(),
            e.file.clone(),
            e.sheet.clone().unwrap_or_default(),
            e.imported.to_string(),
            e.updated.map(|u| u.to_string()).unwrap_or_default(),
            e.duplicates.to_string(),
            e.replaced.to_string(),
            e.rejected.to_string(),
        ]
    })
}
