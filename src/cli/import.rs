//! `hailer import prospects|messages FILE [--sheet NAME] [--map field=Header …]`

use std::path::PathBuf;

use clap::Args;

use super::{Context, exit};
use crate::engine::import::{self, ColumnOverride, ImportError, ImportKind, ImportRequest};

#[derive(Debug, Args)]
pub struct ImportCommand {
    /// What the file holds
    #[arg(value_enum)]
    pub kind: ImportKind,
    /// CSV/TSV (any of , ; tab |), XLSX, XLS or ODS
    pub file: PathBuf,
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

impl ImportCommand {
    pub fn execute(self, ctx: &Context) -> u8 {
        // A failed import into a data directory that had no database leaves none behind:
        // the database this command created is removed again (the log keeps the failure).
        let db_file = ctx.data_dir.join(crate::store::DB_FILE);
        let db_was_there = db_file.exists();
        let mut store = match ctx.open_store() {
            Ok(s) => s,
            Err(e) => {
                errln!("{e:#}");
                return exit::FAILURE;
            }
        };
        let req = ImportRequest {
            kind: self.kind,
            file: self.file,
            sheet: self.sheet,
            overrides: self.overrides,
        };
        let mut last_shown = std::time::Instant::now();
        let interactive = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let result = import::run(&mut store, &req, &mut |p| {
            if interactive && last_shown.elapsed().as_millis() > 200 {
                eprint!("\rimporting… {}/{} rows", p.done, p.total);
                last_shown = std::time::Instant::now();
            }
            true
        });
        if interactive {
            eprint!("\r\x1b[K");
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
