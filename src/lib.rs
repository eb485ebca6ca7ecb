//! hailer: a keyboard-driven terminal app that runs a B2B cold-email campaign end to end.
//!
//! Layout: `config` (config.toml), `store` (SQLite, the only rusqlite user), `engine` (the work,
//! no UI), `cli` (headless subcommands), `tui` (the terminal UI). See README.md.

pub mod cli;
pub mod config;
pub mod editor;
pub mod engine;
pub mod files;
pub mod logging;
pub mod net;
pub mod store;
pub mod text;
pub mod tui;
