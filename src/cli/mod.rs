//! Headless subcommands. Each one is a struct with `execute`, printing a human summary on
//! stdout (or JSON with `--json`) and returning an exit code that means something.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, LoadedConfig};

/// `println!` for command output. `println!` panics when stdout is a pipe whose reader has gone
/// (`hailer send | head -1`), and by then the work is done: the line nobody reads is dropped, and
/// the exit code still says how the command went. Other write errors (a full disk behind `>`)
/// are reported once on stderr.
macro_rules! outln {
    () => {
        $crate::cli::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` for command output; see `outln!`.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!($($arg)*))
    };
}

/// `eprint!` / `eprintln!` that never panic: the std ones panic when stderr is a closed pipe
/// (`hailer export … 2>&1 | head`), which turned a clean exit 1 into a crash (101).
macro_rules! stderr {
    ($($arg:tt)*) => {
        $crate::cli::write_stderr(format_args!($($arg)*))
    };
}

macro_rules! stderrln {
    () => {
        $crate::cli::write_stderr(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::write_stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!("hailer: …")` for errors and notes on stderr, never panicking; see [`write_error`].
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::write_error(format_args!($($arg)*))
    };
}

pub mod bounces;
pub mod config_cmd;
pub mod demo;
pub mod export;
pub mod find;
pub mod guess;
pub mod import;
pub mod inbox;
pub mod mailbox;
pub mod notify;
pub mod outbox;
pub mod send;
pub mod serve;
pub mod suggestions;
pub mod suppress;
pub mod verify;

/// Exit codes, documented in README.md and at the end of `hailer --help` (both from [`exit::TABLE`]).
pub mod exit {
    pub const OK: u8 = 0;
    /// Something failed while running (database, network, writing a file), also the database
    /// staying locked by another hailer process past the busy timeout.
    pub const FAILURE: u8 = 1;
    /// Bad command line (clap uses 2 as well).
    pub const USAGE: u8 = 2;
    /// The configuration file is missing, unreadable or invalid, or has nothing the command
    /// needs (no mailbox, no `imap_host`).
    pub const CONFIG: u8 = 3;
    /// An input file cannot be used (unreadable, not a spreadsheet, no header), an outbox
    /// row id does not exist or is in the wrong status, a prospect id has no suggestion to
    /// act on, or an entry to remove from the suppression list is not on it.
    pub const INPUT: u8 = 4;
    /// Stopped by Ctrl-C or SIGTERM before the end (128 + SIGINT, as shells report it).
    pub const INTERRUPTED: u8 = 130;

    /// Every code and what it means, as `hailer --help` lists them; README.md's table has
    /// these rows word for word (a test checks both).
    pub const TABLE: [(u8, &str); 6] = [
        (OK, "success"),
        (
            FAILURE,
            "a failure while running (database, network, a file), also a locked database",
        ),
        (USAGE, "bad command line"),
        (
            CONFIG,
            "invalid configuration, or nothing configured to work with (no mailbox, no imap_host)",
        ),
        (
            INPUT,
            "an input file, outbox row or prospect id, or suppression entry that cannot be used (nothing changes then)",
        ),
        (
            INTERRUPTED,
            "stopped by Ctrl-C or SIGTERM (send, verify, find, bounces sync); what was done is kept",
        ),
    ];

    /// The exit-code table for the end of `hailer --help`.
    pub fn help() -> String {
        let mut text = String::from("Exit codes:\n");
        for (code, meaning) in TABLE {
            text.push_str(&format!("  {code:<4} {meaning}\n"));
        }
        text
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "hailer",
    version,
    about = "Run a B2B cold-email campaign from your terminal, on your own mailboxes.",
    long_about = "Run a B2B cold-email campaign from your terminal, on your own mailboxes.\n\n\
                  Without a subcommand, hailer opens the terminal UI.",
    after_help = exit::help()
)]
pub struct Cli {
    /// Directory for the database and logs [default: ./data, or [storage] data_dir]
    #[arg(long, global = true, env = "HAILER_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Configuration file [default: ./config.toml when present, else built-in defaults]
    #[arg(long, global = true, env = "HAILER_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the terminal UI (the default)
    Tui,
    /// Import the sample data from assets/ and open the terminal UI
    Demo(demo::DemoCommand),
    /// Import prospects or messages from CSV, TSV, XLSX, XLS or ODS; `import log` lists the imports
    Import(import::ImportCommand),
    /// Export prospects, messages, the outbox, suggestions, bounces or replies as CSV or XLSX
    Export(export::ExportCommand),
    /// Build and review the outbox
    #[command(subcommand)]
    Outbox(outbox::OutboxCommand),
    /// List found addresses and accept them, take an alternative or type one (the Suggestions tab)
    #[command(subcommand)]
    Suggestions(suggestions::SuggestionsCommand),
    /// Send approved messages through the configured mailboxes
    #[command(after_help = send::EXIT_CODES)]
    Send(send::SendCommand),
    /// Mailboxes: connection test, sending or paused, pause and resume
    #[command(subcommand)]
    Mailbox(mailbox::MailboxCommand),
    /// Manage the suppression list (addresses and @domains never mailed)
    #[command(subcommand)]
    Suppress(suppress::SuppressCommand),
    /// Run the tracking server: open pixel, click redirects, one-click unsubscribe, REST API
    Serve(serve::ServeCommand),
    /// Verify addresses: syntax, DNS, SMTP RCPT probe (the database's, or --input FILE|-)
    Verify(verify::VerifyCommand),
    /// Find company domains, published addresses and address patterns; suggest an address per prospect
    Find(find::FindCommand),
    /// Suggest an address for one person (no database, no network)
    Guess(guess::GuessCommand),
    /// Inspect the configuration
    #[command(subcommand)]
    Config(config_cmd::ConfigCommand),
    /// Read bounces, auto-replies and complaints
    #[command(subcommand)]
    Bounces(bounces::BouncesCommand),
    /// Keep reading the mailboxes' IMAP folders (IDLE or polling) until Ctrl-C
    Watch(inbox::WatchCommand),
    /// Telegram alerts: the daily summary
    #[command(subcommand)]
    Notify(notify::NotifyCommand),
}

/// A future that resolves at the first SIGINT (Ctrl-C) or SIGTERM, for the long-running
/// commands (send, verify, find, bounces sync), which then stop cleanly, keep what is done and
/// exit [`exit::INTERRUPTED`]. The handlers are installed when this is called (inside a tokio
/// runtime), not when the future is first polled, so a signal from then on is never fatal.
pub(crate) fn stop_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt()).ok();
    let mut term = signal(SignalKind::terminate()).ok();
    async move {
        tokio::select! {
            Some(_) = async { int.as_mut()?.recv().await } => {}
            Some(_) = async { term.as_mut()?.recv().await } => {}
            // Neither could be installed: the signals keep their default action.
            else => std::future::pending().await,
        }
    }
}

/// The database of this run, for [`write_error`]; set once the data directory is known.
static DATABASE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
/// Set when an error said the database stayed locked: the command then exits 1.
static DATABASE_LOCKED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The line that follows an error saying the database stayed locked: which file, why, and
/// what to do.
pub fn locked_hint(db: &Path) -> String {
    format!(
        "{} stayed locked for {} s by another hailer process writing to it (a send, an import, \
         a find or verify run, the TUI, hailer serve…): run this again when it is done",
        db.display(),
        crate::store::BUSY_TIMEOUT.as_secs()
    )
}

/// Writes to stderr for `stderr!` and `stderrln!`; a failed write is dropped (there is no
/// one left to tell, and the exit code says the rest).
pub(crate) fn write_stderr(args: std::fmt::Arguments) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// Writes `hailer: MESSAGE` on stderr for `errln!`. An error said after a database call failed
/// on a lock (SQLite's code, [`crate::store::lock_seen`]: not the error's wording, which a
/// file name or a server's reply may share) is followed, once, by a line naming the database
/// file and saying what to do, and the command exits 1 (see [`main`]).
pub(crate) fn write_error(args: std::fmt::Arguments) {
    let text = args.to_string();
    // Each line goes to stderr and, with `--json`, to the JSON error, so a script reading
    // JSON gets the same text, the database's name and what to do included.
    let say = |line: &str| {
        stderrln!("hailer: {line}");
        if let Ok(mut json) = JSON_ERRORS.lock()
            && let Some(errors) = json.as_mut()
        {
            errors.push(line.to_string());
        }
    };
    say(&text);
    let db = || {
        DATABASE
            .get()
            .cloned()
            .unwrap_or_else(|| PathBuf::from(crate::store::DB_FILE))
    };
    if crate::store::lock_seen()
        && !DATABASE_LOCKED.swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        say(&locked_hint(&db()));
    }
    // SQLite's own words for these name no file: say which one, once.
    static NAMED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if let Some(hint) = database_hint(&text)
        && !NAMED.swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        say(&format!("the database {} {hint}", db().display()));
    }
}

/// What follows the database's path after an error SQLite words without one.
fn database_hint(error: &str) -> Option<&'static str> {
    if error.contains(SQLITE_READONLY) {
        Some("cannot be written (a read-only file, directory or file system)")
    } else if error.contains(SQLITE_FULL) {
        Some("cannot grow: the disk holding it is full")
    } else {
        None
    }
}

/// SQLite's text for SQLITE_READONLY and SQLITE_FULL, whichever error wraps it.
const SQLITE_READONLY: &str = "attempt to write a readonly database";
const SQLITE_FULL: &str = "database or disk is full";

/// Writes command output to stdout for `outln!` and `out!`.
pub(crate) fn write_stdout(args: std::fmt::Arguments) {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    static REPORTED: AtomicBool = AtomicBool::new(false);
    STDOUT_USED.store(true, Ordering::Relaxed);
    if let Err(e) = std::io::stdout().lock().write_fmt(args)
        && e.kind() != std::io::ErrorKind::BrokenPipe
        && !REPORTED.swap(true, Ordering::Relaxed)
    {
        errln!("cannot write to standard output: {e}");
    }
}

/// Ids or entries typed by hand that cannot be used: each problem named on stderr, then that
/// nothing changed; exit 4 (all-or-nothing, as `outbox` and `suggestions` apply them).
pub(crate) fn refuse(problems: &[String]) -> u8 {
    for p in problems {
        errln!("{p}");
    }
    errln!("nothing changed");
    exit::INPUT
}

/// A list on standard output, as `import log`, `suppress list` and `suggestions list` write theirs: with `json`, a
/// pretty JSON array of `items` as they serialize (values as stored, times in Unix seconds);
/// else CSV, `header` then `row(item)` for each, every cell guarded against formula injection
/// as exports guard theirs ([`neutralize`](crate::engine::export::neutralize)). The list is
/// data a script keeps (`> backup.csv`): like an export, one that could not be written whole
/// (a full disk, a closed pipe) is said on stderr, naming it `what`, and exits 1.
pub(crate) fn print_table<T: serde::Serialize, const N: usize>(
    what: &str,
    items: &[T],
    json: bool,
    out: &ListOutput,
    header: [&str; N],
    row: impl Fn(&T) -> [String; N],
) -> u8 {
    if json && out.csv.given() {
        errln!("--delimiter and --bom apply to the CSV output only (not with --json)");
        return exit::USAGE;
    }
    let result = match out.output.as_deref() {
        None | Some("-") => {
            mark_stdout_used();
            write_table(std::io::stdout().lock(), items, json, out, header, row)
        }
        .map_err(|e| format!("cannot write {what} to standard output: {e}")),
        // As an export: written whole to a temporary file, then renamed over the target.
        Some(path) => crate::files::OutputFile::create(std::path::Path::new(path))
            .and_then(|mut file| {
                write_table(
                    std::io::BufWriter::new(&mut file),
                    items,
                    json,
                    out,
                    header,
                    row,
                )?;
                file.commit()
            })
            .map_err(|e| format!("cannot write {what} to {path}: {e}")),
    };
    match result {
        Ok(()) => exit::OK,
        Err(e) => {
            errln!("{e}");
            exit::FAILURE
        }
    }
}

/// Where a list command writes, and the CSV's shape (as `hailer export` takes them).
#[derive(Debug, Default, clap::Args)]
pub struct ListOutput {
    /// Write to this file instead of standard output (`-`); an existing file is replaced
    /// only once the list is written whole
    #[arg(long, short, value_name = "FILE|-")]
    pub output: Option<String>,
    #[command(flatten)]
    pub csv: export::CsvArgs,
}

fn write_table<T: serde::Serialize, const N: usize>(
    mut out: impl std::io::Write,
    items: &[T],
    json: bool,
    options: &ListOutput,
    header: [&str; N],
    row: impl Fn(&T) -> [String; N],
) -> std::io::Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut out, items)?;
        writeln!(out)?;
        return out.flush();
    }
    let mut w = crate::engine::export::csv_writer(out, options.csv.options())?;
    w.write_record(header)?;
    for item in items {
        w.write_record(row(item).map(|c| crate::engine::export::neutralize(&c).into_owned()))?;
    }
    w.flush()
}

/// A time in Unix seconds in RFC 3339, as the CSV lists write dates; empty when out of range.
pub(crate) fn rfc3339(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.to_rfc3339())
        .unwrap_or_default()
}

/// What every command gets: the loaded config and the data directory it resolves to.
pub struct Context {
    pub config: LoadedConfig,
    pub data_dir: PathBuf,
}

impl Context {
    pub fn load(cli: &Cli) -> Result<Context, crate::config::ConfigError> {
        let config = Config::load(cli.config.as_deref())?;
        let data_dir = resolve_data_dir(cli.data_dir.as_deref(), &config.config);
        Ok(Context { config, data_dir })
    }

    pub fn open_store(&self) -> anyhow::Result<crate::store::Store> {
        Ok(crate::store::Store::open_in(&self.data_dir)?)
    }

    /// [`Context::open_store`] for a command that cannot go on without the database: the
    /// error is said on stderr, and the caller exits with [`exit::FAILURE`].
    pub fn store_or_report(&self) -> Option<crate::store::Store> {
        self.open_store().map_err(|e| errln!("{e:#}")).ok()
    }
}

/// `--data-dir` wins, then `[storage] data_dir`, then `./data`.
pub fn resolve_data_dir(flag: Option<&Path>, config: &Config) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| config.storage.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from("data"))
}

/// Parse, load the config, run. Config errors are reported before any terminal setup.
pub fn main() -> ExitCode {
    let json = std::env::args_os().any(|a| a == "--json");
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // A usage error said as clap says it, and with --json also as JSON on stdout, as
        // every other failure is: a script reading JSON gets JSON (help and --version are not
        // errors).
        Err(e) if json && e.use_stderr() => {
            let _ = e.print();
            let rendered = e.render().to_string();
            // The message up to the usage: "the following required arguments were not
            // provided:" goes on with the arguments on the lines below.
            let message: Vec<&str> = rendered
                .lines()
                .take_while(|l| !l.trim().is_empty() && !l.starts_with("Usage:"))
                .map(str::trim)
                .collect();
            let joined = message.join(" ");
            let error = joined.strip_prefix("error: ").unwrap_or(&joined);
            outln!(
                "{}",
                serde_json::json!({ "error": error, "exit_code": exit::USAGE })
            );
            return ExitCode::from(exit::USAGE);
        }
        Err(e) => e.exit(),
    };
    if json {
        JSON_ERRORS.lock().map(|mut e| *e = Some(Vec::new())).ok();
    }
    if let Some(Command::Config(cmd)) = &cli.command {
        return finish(cmd.execute(&cli));
    }
    let cli = match cli.command {
        // Parsing files needs neither the config nor the data directory.
        Some(Command::Bounces(bounces::BouncesCommand::Parse(cmd))) => {
            return finish(cmd.execute());
        }
        // Guessing one address needs no database and no network.
        Some(Command::Guess(cmd)) => return finish(cmd.execute()),
        _ => cli,
    };
    let ctx = match Context::load(&cli) {
        Ok(ctx) => ctx,
        Err(e) => {
            errln!("{e}");
            return finish(exit::CONFIG);
        }
    };
    let _ = DATABASE.set(ctx.data_dir.join(crate::store::DB_FILE));
    let _log_guard = crate::logging::init(&ctx.data_dir);
    let code = match cli.command {
        None | Some(Command::Tui) => crate::tui::run(ctx),
        Some(Command::Import(cmd)) => cmd.execute(&ctx),
        Some(Command::Export(cmd)) => cmd.execute(&ctx),
        Some(Command::Demo(cmd)) => cmd.execute(ctx),
        Some(Command::Outbox(cmd)) => cmd.execute(&ctx),
        Some(Command::Suggestions(cmd)) => cmd.execute(&ctx),
        Some(Command::Suppress(cmd)) => cmd.execute(&ctx),
        Some(Command::Serve(cmd)) => cmd.execute(&ctx),
        Some(Command::Bounces(bounces::BouncesCommand::Sync(cmd))) => cmd.execute(&ctx),
        Some(Command::Watch(cmd)) => cmd.execute(&ctx),
        Some(Command::Config(_))
        | Some(Command::Bounces(bounces::BouncesCommand::Parse(_)))
        | Some(Command::Guess(_)) => {
            unreachable!("handled above")
        }
        Some(Command::Verify(cmd)) => cmd.execute(&ctx),
        Some(Command::Send(cmd)) => cmd.execute(&ctx),
        Some(Command::Mailbox(cmd)) => cmd.execute(&ctx),
        Some(Command::Find(cmd)) => cmd.execute(&ctx),
        Some(Command::Notify(cmd)) => cmd.execute(&ctx),
    };
    // A database locked by another process is a failure while running, whatever the command
    // made of the error (an interrupted run still says so).
    let code = if DATABASE_LOCKED.load(std::sync::atomic::Ordering::Relaxed)
        && code != exit::INTERRUPTED
    {
        exit::FAILURE
    } else {
        code
    };
    finish(code)
}

/// With `--json`, the errors said on stderr, for [`finish`]; `None` without it.
static JSON_ERRORS: std::sync::Mutex<Option<Vec<String>>> = std::sync::Mutex::new(None);
/// Set once anything was written to standard output.
static STDOUT_USED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// For output written to standard output without [`write_stdout`] (CSV writers on its
/// lock): [`finish`] then adds nothing after it.
pub(crate) fn mark_stdout_used() {
    STDOUT_USED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// The exit code; with `--json`, a command that failed before writing anything to standard
/// output writes `{"error": …, "exit_code": …}` there, so a script reading JSON gets JSON
/// (the same text is on stderr).
fn finish(code: u8) -> ExitCode {
    let errors = JSON_ERRORS.lock().ok().and_then(|mut e| e.take());
    if code != exit::OK
        && !STDOUT_USED.load(std::sync::atomic::Ordering::Relaxed)
        && let Some(errors) = errors.filter(|e| !e.is_empty())
    {
        outln!(
            "{}",
            serde_json::json!({ "error": errors.join("\n"), "exit_code": code })
        );
    }
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hint is keyed to SQLite's own words: checked against an error SQLite gives.
    #[test]
    fn a_read_only_database_error_gets_its_hint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let ro = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let e = ro.execute("INSERT INTO t VALUES (1)", []).unwrap_err();
        let text = crate::store::StoreError::from(e).to_string();
        assert_eq!(
            database_hint(&text),
            Some("cannot be written (a read-only file, directory or file system)"),
            "{text}"
        );
        assert_eq!(database_hint("no such table: t"), None);
    }
}
