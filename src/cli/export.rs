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
        match export::run(&store, self.table, self.format, &self.output) {
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
