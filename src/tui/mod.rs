//! The terminal UI.

use crate::cli::Context;

pub fn run(_ctx: Context) -> u8 {
    eprintln!("hailer: the terminal UI is not built yet; see `hailer --help`");
    crate::cli::exit::USAGE
}
