//! Engines: the work itself (import, export, and later find, verify, send, bounces).
//! Nothing here knows about a terminal; the CLI and the TUI both call these functions.

pub mod autopause;
pub mod bounces;
pub mod export;
pub mod find;
pub mod import;
pub mod inbox;
pub mod jobs;
pub mod notify;
pub mod outbox;
pub mod send;
pub mod tracking;
pub mod verify;
