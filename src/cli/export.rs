//! `hailer export prospects|messages|suggestions --format csv|xlsx --output PATH`

use std::path::PathBuf;

use clap::Args;

use super::{Context, exit};
use crate::engine::export::{self, ExportFormat, ExportTable};

#[derive(Debug, Args)]
pub struct ExportCommand {
    /// Which table
    #[arg(value_enum)]
    pub table: ExportTable,
    /// Output format
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,
    /// Output file; `-` is standard output (CSV only)
    #[arg(long, short, default_value = "-")]
    pub output: PathBuf,
    /// Outbox only: rows with this status
    #[arg(long, value_enum)]
    pub status: Option<crate::store::outbox::Status>,
}

impl ExportCommand {
    pub fn execute(self, ctx: &Context) -> u8 {
        let store = match ctx.open_store() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("hailer: {e:#}");
                return exit::FAILURE;
            }
        };
        if self.status.is_some() && self.table != ExportTable::Outbox {
            eprintln!("hailer: --status applies to the outbox export only");
            return exit::USAGE;
        }
        match export::run(&store, self.table, self.format, &self.output, self.status) {
            Ok(summary) => {
                eprintln!("{summary}");
                exit::OK
            }
            Err(e) => {
                eprintln!("hailer: {e}");
                match e {
                    export::ExportError::XlsxToStdout => exit::USAGE,
                    _ => exit::FAILURE,
                }
            }
        }
    }
}
