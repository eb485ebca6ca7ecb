//! Logs go to `DATA_DIR/logs/hailer.log`, never to the terminal (the TUI owns it).

use std::path::Path;
use std::sync::Mutex;

/// Keeps the log file open; drop it last.
pub struct LogGuard;

pub fn init(data_dir: &Path) -> Option<LogGuard> {
    let dir = data_dir.join("logs");
    std::fs::create_dir_all(&dir).ok()?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("hailer.log"))
        .ok()?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("HAILER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init()
        .ok()?;
    Some(LogGuard)
}
