//! `hailer demo`: import the sample data from `assets/` (duplicates are skipped, so running it
//! twice is harmless), then open the TUI. The newcomer's first command.

use std::path::PathBuf;

use clap::Args;

use super::{Context, exit};
use crate::engine::import::{self, ImportKind, ImportRequest};
use crate::engine::jobs::Level;
use crate::tui::app::LogLine;

/// The sample files, in the order they are imported.
const SAMPLES: [(ImportKind, &str); 2] = [
    (ImportKind::Prospects, "prospects.xlsx"),
    (ImportKind::Messages, "messages.xlsx"),
];

/// On the status line when the TUI opens: where to go from the imported sample.
/// `b` works on the Outbox tab only, so the hint names the way there.
const FIRST_STEPS: &str =
    "Sample loaded: f finds addresses, 3 then b builds the Outbox, ? all keys";

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
        // Checked before the store is opened: run from the wrong directory, the demo must not
        // leave an empty database (and a logs/ directory) behind before failing.
        if let Some(missing) = SAMPLES
            .iter()
            .map(|(_, file)| self.assets.join(file))
            .find(|path| !path.is_file())
        {
            errln!(
                "{}: no such sample file (run the demo from the repository root, or pass \
                 --assets DIR)",
                missing.display()
            );
            return exit::INPUT;
        }
        let Some(mut store) = ctx.store_or_report() else {
            return exit::FAILURE;
        };
        let mut log = Vec::new();
        for (kind, file) in SAMPLES {
            let req = ImportRequest {
                kind,
                file: self.assets.join(file),
                sheet: None,
                overrides: Vec::new(),
                sample: true,
            };
            match import::run(&mut store, &req, &mut |_| true) {
                Ok(summary) => {
                    let text = summary.to_string();
                    stderr!("{text}");
                    // The TUI covers stderr at once: the same lines open its Activity log.
                    log.extend(text.lines().map(|line| LogLine {
                        task: None,
                        level: if line.starts_with(' ') {
                            Level::Warn
                        } else {
                            Level::Info
                        },
                        text: line.trim().to_string(),
                    }));
                }
                Err(e) => {
                    stderrln!(
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
        crate::tui::run_with_log(ctx, log, Some(FIRST_STEPS))
    }
}
