//! `hailer find [--company KEY] [--concurrency N] [--refresh]` (filled in below).

use clap::Args;

use super::{Context, exit};

#[derive(Debug, Args)]
pub struct FindCommand {
    /// Only this company (its key, as `hailer export prospects` shows it)
    #[arg(long)]
    pub company: Option<String>,
    /// Companies worked on at once
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Ignore cached domains, pages and patterns
    #[arg(long)]
    pub refresh: bool,
}

impl FindCommand {
    pub fn execute(self, _ctx: &Context) -> u8 {
        exit::FAILURE
    }
}
