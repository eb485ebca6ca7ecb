//! `hailer demo`: import the sample data from `assets/` (duplicates are skipped, so running it
//! twice is harmless), then open the TUI. The newcomer's first command.

use std::path::PathBuf;

use clap::Args;

use super::{Context, exit};
use crate::engine::import::{self, ImportKind, ImportRequest};

#[derive(Debug, Args)]
pub struct DemoCommand {
    /// Directory holding prospects.xlsx and messages.xlsx
    #[arg(long, default_value = "assets")]
    pub assets: PathBuf,
    /// Import only; do not open the TUI
    #[arg(long)]
    pub no_tui: bool,
}

impl DemoCommand {
    pub fn execute(self, ctx: Context) -> u8 {
        let mut store = match ctx.open_store() {
            Ok(s) => s,
            Err(e) => {
                errln!("{e:#}");
                return exit::FAILURE;
            }
        };
        for (kind, file) in [
            (ImportKind::Prospects, "prospects.xlsx"),
            (ImportKind::Messages, "messages.xlsx"),
        ] {
            let req = ImportRequest {
                kind,
                file: self.assets.join(file),
                sheet: None,
                overrides: Vec::new(),
            };
            match import::run(&mut store, &req, &mut |_| true) {
                Ok(summary) => eprint!("{summary}"),
                Err(e) => {
                    eprintln!(
                        "hailer: {e} (run the demo from the repository root, or pass --assets DIR)"
                    );
                    return exit::INPUT;
                }
            }
        }
        drop(store);
        if self.no_tui {
            return exit::OK;
        }
        crate::tui::run(ctx)
    }
}
