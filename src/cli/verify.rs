//! `hailer verify [--input FILE|- --output FILE|-] [--retries N] [--json] …`
//!
//! Without `--input`: verify the distinct addresses of the database (prospects) and store the
//! verdicts in `verifications`. With `--input`: stream addresses from a file or standard input
//! to a CSV of results (`email,status,mx,code,enhanced,detail` for a list of addresses; for a
//! CSV with a header, its own columns then `status,mx,code,enhanced,detail`; in input order,
//! flushed per row) in constant memory; blank lines are skipped and counted. Both reuse verdicts stored less than `--max-age` days ago.
//! An output file is written beside its target under a temporary name and renamed over it
//! only when the run succeeds, so a failed run never wipes earlier results (rows it did write
//! are kept as `FILE.partial`).
//! Exit 0 when the input was read to the end, whatever the verdicts.

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use clap::Args;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Context, exit};
use crate::engine::verify::database::{self, AlternativesOut};
use crate::engine::verify::results::DbResults;
use crate::engine::verify::{
    self, InputItem, MAX_WAIT_SECS, ResultCache, VerifyEvent, VerifyIn, VerifyOptions, VerifyOut,
    VerifyProg, VerifySummary,
};
use crate::files::OutputFile;
use crate::store;
use crate::store::verifications::Scope;

/// The header of a result file for a list of addresses.
pub const HEADER: [&str; 6] = ["email", "status", "mx", "code", "enhanced", "detail"];

/// The verdict's columns, appended to a CSV input's own.
const VERDICT_HEADER: [&str; 5] = ["status", "mx", "code", "enhanced", "detail"];

#[derive(Debug, Args)]
pub struct VerifyCommand {
    /// Only these prospects' addresses (their imported and suggested ones); without ids,
    /// --company or --status, every prospect's
    #[arg(value_name = "PROSPECT_ID", conflicts_with = "input")]
    pub ids: Vec<i64>,
    /// Only the prospects of this company (its name as imported; case, accents and legal
    /// form ignored)
    #[arg(long, value_name = "NAME", conflicts_with = "input")]
    pub company: Option<String>,
    /// Only the prospects whose suggestion has this status (pending, suggested, accepted,
    /// edited, no-domain, no-mail, failed)
    #[arg(
        long,
        conflicts_with = "input",
        ignore_case = true,
        value_parser = clap::builder::TypedValueParser::map(
            clap::builder::PossibleValuesParser::new(super::suggestions::STATUSES),
            |s: String| s.to_lowercase()
        )
    )]
    pub status: Option<String>,
    /// Addresses to verify: one per line, a CSV with an `email` column, or a CSV without a
    /// header with one address-shaped column; `-` for standard input. Without it, the database's prospect addresses are verified and stored
    #[arg(long, value_name = "FILE|-")]
    pub input: Option<String>,
    /// The input's address column, by its header name, when the header does not name it
    /// `email` (or E-mail, Courriel, …) and its first rows do not show it
    #[arg(long, value_name = "NAME", requires = "input")]
    pub column: Option<String>,
    /// Results as CSV: email,status,mx,code,enhanced,detail for a list of addresses; a CSV input with a header keeps its columns, with status,mx,code,enhanced,detail appended; `-` for standard output
    /// [default with --input: -]
    #[arg(short, long, value_name = "FILE|-")]
    pub output: Option<String>,
    /// Retries of TEMPORARY results (greylisting, 4xx) after a growing pause
    /// [default: 0 with --input, 2 otherwise]
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
    /// First pause before a retry, doubled each time [default: 60]
    #[arg(long, value_name = "SECONDS")]
    pub retry_delay: Option<f64>,
    /// Minimum seconds between two sessions to one MX host; 0 turns it off [default: [verify] rate_limit]
    #[arg(long, value_name = "SECONDS")]
    pub rate_limit: Option<f64>,
    /// SMTP sessions at once over all hosts [default: [verify] concurrency]
    #[arg(long, value_name = "N")]
    pub concurrency: Option<u32>,
    /// SMTP sessions at once to one MX host [default: [verify] per_host]
    #[arg(long, value_name = "N")]
    pub per_host: Option<u32>,
    /// Seconds to wait for each SMTP reply [default: 12]
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// Seconds to wait for a TCP connection [default: 8]
    #[arg(long, value_name = "SECONDS")]
    pub connect_timeout: Option<f64>,
    /// Seconds to wait for each DNS query attempt [default: 3]
    #[arg(long, value_name = "SECONDS")]
    pub dns_timeout: Option<f64>,
    /// Reuse a stored definitive verdict younger than this many days; 0 verifies again [default: 7]
    #[arg(long, value_name = "DAYS")]
    pub max_age: Option<f64>,
    /// Never try STARTTLS (diagnostics, and like-for-like benchmarks with tools that do not)
    #[arg(long)]
    pub no_starttls: bool,
    /// Do not open the database at all (no cached verdicts, nothing stored); --input only
    #[arg(long, requires = "input")]
    pub no_store: bool,
    /// Print the summary as JSON (on stderr when the results CSV takes standard output)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Report {
    #[serde(flatten)]
    summary: VerifySummary,
    input: String,
    output: Option<String>,
    stored: u64,
    /// The database's addresses taken (all, or the prospects named).
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<Scope>,
    /// Alternatives of dead first choices (database only).
    #[serde(skip_serializing_if = "Option::is_none")]
    alternatives: Option<AlternativesOut>,
    /// Why the alternatives pass failed: the main pass's verdicts are stored all the same.
    #[serde(skip_serializing_if = "Option::is_none")]
    alternatives_error: Option<String>,
    /// Blank input lines or rows: no address, so not verified (and no output row).
    skipped_blank: u64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(scope) = self.scope.as_ref().filter(|s| !s.is_all()) {
            writeln!(f, "verifying the addresses of {scope}")?;
        }
        write!(f, "{}", self.summary)?;
        if self.skipped_blank > 0 {
            writeln!(
                f,
                "{} blank line(s) or row(s) skipped (no address)",
                self.skipped_blank
            )?;
        }
        if let Some(alt) = &self.alternatives {
            write!(f, "{alt}")?;
        }
        if let Some(e) = &self.alternatives_error {
            writeln!(
                f,
                "alternatives of dead first choices not verified: {e} (the verdicts above are stored)"
            )?;
        }
        if let Some(out) = self.output.as_deref().filter(|o| *o != "-") {
            writeln!(f, "results written to {out}")?;
        }
        Ok(())
    }
}

/// The largest `--max-age`, in days (a century).
const MAX_AGE_DAYS: f64 = 36_500.0;

fn seconds(flag: &str, value: Option<f64>) -> Result<Option<Duration>, String> {
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && (0.0..=MAX_WAIT_SECS).contains(&v) => {
            Ok(Some(Duration::from_secs_f64(v)))
        }
        Some(v) => Err(format!(
            "--{flag} {v}: expected a number of seconds from 0 to {MAX_WAIT_SECS}"
        )),
    }
}

impl VerifyCommand {
    fn options(&self, ctx: &Context) -> Result<VerifyOptions, String> {
        let mut o = VerifyOptions::from_config(&ctx.config.config);
        let streaming = self.input.is_some();
        o.retries = self.retries.unwrap_or(if streaming { 0 } else { 2 });
        if let Some(d) = seconds("retry-delay", self.retry_delay)? {
            o.retry_delay = d;
        }
        if let Some(d) = seconds("rate-limit", self.rate_limit)? {
            o.rate_limit = d;
        }
        if let Some(n) = self.concurrency {
            if n == 0 {
                return Err("--concurrency must be at least 1".into());
            }
            o.concurrency = n as usize;
        }
        if let Some(n) = self.per_host {
            if n == 0 {
                return Err("--per-host must be at least 1".into());
            }
            o.per_host = n as usize;
        }
        if let Some(d) = seconds("timeout", self.timeout)? {
            o.command_timeout = d.max(Duration::from_millis(100));
        }
        if let Some(d) = seconds("connect-timeout", self.connect_timeout)? {
            o.connect_timeout = d.max(Duration::from_millis(100));
        }
        if let Some(d) = seconds("dns-timeout", self.dns_timeout)? {
            o.dns.timeout = d.max(Duration::from_millis(100));
        }
        if let Some(days) = self.max_age {
            if !(days.is_finite() && (0.0..=MAX_AGE_DAYS).contains(&days)) {
                return Err(format!(
                    "--max-age {days}: expected a number of days from 0 to {MAX_AGE_DAYS}"
                ));
            }
            o.cache_ttl = Duration::from_secs_f64(days * 86_400.0);
        }
        o.store_invalid = !streaming;
        // The database has no order to keep; the streamed CSV does.
        o.ordered = streaming;
        o.starttls = !self.no_starttls;
        Ok(o)
    }

    pub fn execute(self, ctx: &Context) -> u8 {
        let options = match self.options(ctx) {
            Ok(o) => o,
            Err(e) => {
                errln!("{e}");
                return exit::USAGE;
            }
        };
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                errln!("cannot start the async runtime: {e}");
                return exit::FAILURE;
            }
        };
        runtime.block_on(self.run(ctx, options))
    }

    async fn run(self, ctx: &Context, options: VerifyOptions) -> u8 {
        // Ctrl-C and SIGTERM are caught from the start: reading the input's first rows may
        // wait on a pipe, and a stop then must still exit 130, not die by the signal.
        let mut stop_signal = Box::pin(super::stop_signal());
        // The input first: a missing file is the user's error, reported before anything else.
        // Its shape is decided (its first rows read) before any output exists, so an input
        // refused for it leaves no header on stdout and no file behind. Opened on a thread of
        // its own (not the runtime's blocking pool, which the runtime waits for on exit): a
        // FIFO without a writer, or a pipe with nothing written yet, keeps it waiting.
        let bytes_read = Arc::new(AtomicU64::new(0));
        let input_name = self.input.clone().unwrap_or_else(|| "database".into());
        let opened = match self.input.clone() {
            None => None,
            Some(path) => {
                let column = self.column.clone();
                let counter = bytes_read.clone();
                let (opened_tx, opened) = tokio::sync::oneshot::channel();
                std::thread::spawn(move || {
                    let _ = opened_tx.send(open_input(&path, column.as_deref(), counter));
                });
                tokio::select! {
                    opened = opened => match opened {
                        Ok(Ok(opened)) => Some(opened),
                        Ok(Err(e)) => {
                            errln!("{e}");
                            return exit::INPUT;
                        }
                        Err(_) => {
                            errln!("reading {input_name}: the reader stopped");
                            return exit::FAILURE;
                        }
                    },
                    _ = &mut stop_signal => {
                        errln!(
                            "stopped before the first addresses of {input_name} were read: \
                             nothing verified, nothing written"
                        );
                        return exit::INTERRUPTED;
                    }
                }
            }
        };
        let input_size = opened.as_ref().and_then(|(_, size)| *size);
        let source = opened.map(|(source, _)| source);
        let skipped_blank = source.as_ref().map(verify::input::Source::skipped);
        let columns = source.as_ref().and_then(verify::input::Source::columns);
        let output_name = self
            .output
            .clone()
            .or_else(|| self.input.as_ref().map(|_| "-".to_string()));
        // Creating the output truncates it: with the input's own path that wipes the list
        // before a line is read.
        if let (Some(input), Some(output)) = (self.input.as_deref(), output_name.as_deref())
            && input != "-"
            && output != "-"
            && same_file(input, output)
        {
            errln!("--output {output} is the input file; write the results elsewhere");
            return exit::USAGE;
        }
        let mut output = match output_name.as_deref() {
            None => None,
            Some(name) => match ResultWriter::create(name, columns) {
                Ok(w) => {
                    // The results only take their name at the end: say where to follow them.
                    if let Some(tmp) = w.in_progress() {
                        stderrln!(
                            "hailer: results are written to {} during the run, renamed to {name} when it ends",
                            tmp.display()
                        );
                    }
                    Some(w)
                }
                Err(e) => {
                    errln!("cannot write {name}: {e}");
                    return exit::FAILURE;
                }
            },
        };
        let db_path = ctx.data_dir.join(store::DB_FILE);
        let results = if self.no_store {
            None
        } else {
            if let Err(e) = std::fs::create_dir_all(&ctx.data_dir) {
                errln!("cannot create {}: {e}", ctx.data_dir.display());
                return exit::FAILURE;
            }
            match DbResults::open(&db_path) {
                Ok(db) => Some(Arc::new(db)),
                Err(e) => {
                    errln!("{e}");
                    return exit::FAILURE;
                }
            }
        };

        let (tx, rx) = mpsc::channel::<InputItem>(1024);
        let scope = Scope {
            ids: self.ids.clone(),
            company: self.company.clone(),
            status: self.status.clone(),
        };
        // An id or company that names nothing is a mistake, as `suggestions` and `find` say.
        if source.is_none() && !scope.is_all() {
            let unknown = store::Store::open(&db_path)
                .and_then(|s| store::verifications::unknown_in_scope(s.conn(), &scope));
            match unknown {
                Ok(unknown) if unknown.is_empty() => {}
                Ok(unknown) => {
                    for u in &unknown {
                        errln!("{u}; nothing verified");
                    }
                    return exit::INPUT;
                }
                Err(e) => {
                    errln!("{e}");
                    return exit::FAILURE;
                }
            }
        }
        let total = match &source {
            Some(_) => None,
            None => database::count(&db_path, &scope).ok(),
        };
        if total == Some(0) && !scope.is_all() {
            stderrln!("hailer: no address to verify for {scope}");
        }
        let feeder = match source {
            Some(source) => {
                std::thread::spawn(move || source.read_into(&tx).map_err(|e| e.to_string()))
            }
            None => database::feed(&db_path, &scope, tx),
        };
        let alternatives_options = options.clone();

        // SIGTERM (`timeout`, a service manager, `kill`) stops the run as Ctrl-C does, as it
        // does `send`: its default action would end the process there and then, leaving the
        // rows written so far in the hidden temporary file instead of FILE.partial.
        let cancel = CancellationToken::new();
        let on_signal = cancel.clone();
        tokio::spawn(async move {
            stop_signal.await;
            on_signal.cancel();
        });

        let retry_delay = options.retry_delay;
        let input = VerifyIn {
            items: rx,
            options,
            cache: results.clone().map(|r| r as Arc<dyn ResultCache>),
        };
        let interactive = io::stderr().is_terminal();
        let started = Instant::now();
        let mut last_shown = Instant::now();
        let mut last_waiting = 0;
        let mut write_error: Option<String> = None;
        let stop = cancel.clone();
        // The alternatives pass counts from 0 again, of its own total.
        let total = std::cell::Cell::new(total);
        let mut on_event = |event| match event {
            VerifyEvent::Result(out) => {
                if let Some(w) = output.as_mut()
                    && write_error.is_none()
                    && let Err(e) = w.write(&out)
                {
                    write_error = Some(e.to_string());
                    stop.cancel();
                }
            }
            VerifyEvent::Progress(p) => {
                // Without a terminal there is no progress line: say once per change why
                // the run is waiting, so a greylisted address does not look like a hang.
                if !interactive && p.waiting > 0 && p.waiting != last_waiting {
                    stderrln!(
                        "hailer: {} address(es) waiting to retry (greylisting or 4xx; first retry after {} s, doubling; --retries 0 reports them at once): {}",
                        p.waiting,
                        retry_delay.as_secs(),
                        p.waiting_names()
                    );
                }
                last_waiting = p.waiting;
                if interactive && last_shown.elapsed() > Duration::from_millis(200) {
                    let read = input_size.map(|size| (bytes_read.load(Relaxed), size));
                    let line = progress_line(&p, total.get(), started.elapsed(), read);
                    stderr!("\r\x1b[K{line}");
                    last_shown = Instant::now();
                }
            }
        };
        let summary = verify::run(input, &mut on_event, cancel.clone()).await;
        let stored = results.as_ref().map(|r| r.close());
        // The database's dead first choices: their alternatives next (stored verdicts only).
        let mut alternatives = None;
        let mut alternatives_error = None;
        if self.input.is_none()
            && matches!(&summary, Ok(s) if !s.cancelled)
            && matches!(stored, Some(Ok(_)))
        {
            let outcome = database::verify_alternatives(
                &db_path,
                &scope,
                alternatives_options,
                |n| total.set(Some(n)),
                &mut on_event,
                cancel.clone(),
            )
            .await;
            // A failure here comes after the main pass's verdicts are stored: its summary
            // is still printed, with the failure, and the exit code says it.
            match outcome {
                Ok(out) => alternatives = Some(out),
                Err(e) => alternatives_error = Some(e),
            }
        }
        if interactive {
            stderr!("\r\x1b[K");
        }
        let summary = match summary {
            Ok(s) => s,
            Err(e) => {
                errln!("{e}");
                return exit::FAILURE;
            }
        };
        // After a complete run the feeder has finished (it closed the channel). After an
        // interruption it may be blocked reading a terminal: leave it to the process exit.
        let fed = if summary.cancelled {
            Ok(summary.total)
        } else {
            feeder
                .join()
                .unwrap_or_else(|_| Err("input reader panicked".into()))
        };
        if let Some(e) = write_error {
            stderrln!(
                "hailer: cannot write results to {}: {e}",
                output_name.as_deref().unwrap_or("-")
            );
            return exit::FAILURE;
        }
        // A read error ends the input early: no summary that looks like success, and the
        // results file is not replaced by a partial one.
        if let Err(e) = &fed {
            errln!("reading {input_name}: {e}");
            return exit::INPUT;
        }
        let stored = match stored {
            Some(Err(e)) => {
                errln!("storing results: {e}");
                return exit::FAILURE;
            }
            Some(Ok(n)) => n,
            None => 0,
        };
        tracing::info!(
            input = %input_name,
            total = summary.total,
            cached = summary.cached,
            cancelled = summary.cancelled,
            "verify finished"
        );
        let cancelled = summary.cancelled || alternatives.as_ref().is_some_and(|a| a.cancelled);
        if cancelled && let Some(w) = output.as_mut() {
            w.interrupted = true;
        }
        if !cancelled
            && let Some(w) = output.take()
            && let Err(e) = w.finish()
        {
            stderrln!(
                "hailer: cannot write results to {}: {e}",
                output_name.as_deref().unwrap_or("-")
            );
            return exit::FAILURE;
        }
        let report = Report {
            summary,
            input: input_name,
            // Interrupted, the results are not at that name (see ResultWriter's drop);
            // standard output ("-") has what was written before the stop.
            output: output_name.filter(|o| o == "-" || !cancelled),
            stored,
            scope: self.input.is_none().then_some(scope),
            alternatives,
            alternatives_error,
            skipped_blank: skipped_blank.map_or(0, |n| n.load(Relaxed)),
        };
        // With the results on standard output, the summary goes to standard error.
        let text = if self.json {
            serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
        } else {
            report.to_string()
        };
        if self
            .output
            .as_deref()
            .unwrap_or(if self.input.is_some() { "-" } else { "" })
            == "-"
        {
            stderr!("{text}");
        } else {
            out!("{text}");
        }
        if cancelled {
            errln!("interrupted before the end of the input");
            return exit::INTERRUPTED;
        }
        if let Some(e) = &report.alternatives_error {
            errln!("verifying alternatives: {e}");
            return exit::FAILURE;
        }
        exit::OK
    }
}

/// CSV rows of results, flushed one by one so the output can be consumed while it runs.
/// The input `path` (`-`: standard input) opened and its shape decided, with a regular
/// file's size (for the share read); `Err` is the message to print (exit 4).
fn open_input(
    path: &str,
    column: Option<&str>,
    read: Arc<AtomicU64>,
) -> Result<(verify::input::Source, Option<u64>), String> {
    let mut size = None;
    let reader: Box<dyn BufRead + Send> = if path == "-" {
        Box::new(BufReader::with_capacity(64 * 1024, io::stdin()))
    } else {
        // Opening is not enough (a directory opens): the first bytes are read too, and a
        // spreadsheet or a binary file is refused here, before any output exists.
        let opened = File::open(path).and_then(|f| {
            let meta = f.metadata()?;
            size = meta.is_file().then_some(meta.len()).filter(|&n| n > 0);
            let mut r = BufReader::with_capacity(64 * 1024, f);
            if let Some(why) = verify::input::unusable(r.fill_buf()?) {
                return Err(io::Error::new(io::ErrorKind::InvalidData, why));
            }
            Ok(Counted { inner: r, read })
        });
        Box::new(opened.map_err(|e| format!("cannot read {path}: {e}"))?)
    };
    verify::input::open(reader, column)
        .map(|source| (source, size))
        .map_err(|e| format!("reading {path}: {e}"))
}

/// A regular file is written under a temporary name beside it, and takes its name in
/// [`ResultWriter::finish`]; dropped unfinished, the temporary file is removed, or kept as
/// `FILE.partial` when it holds results or the run was interrupted. A device or FIFO is written in place
/// ([`OutputFile`]).
struct ResultWriter {
    csv: Option<csv::Writer<Box<dyn Write + Send>>>,
    /// A CSV input with a header: its columns come first, then the verdict's.
    columns: Option<verify::input::Columns>,
    /// The file, for a file (none for standard output).
    file: Option<OutputFile>,
    rows: u64,
    /// Stopped by Ctrl-C or SIGTERM: FILE.partial is kept even without a row, so an
    /// interrupted run always leaves one.
    interrupted: bool,
}

impl ResultWriter {
    fn create(name: &str, columns: Option<verify::input::Columns>) -> io::Result<ResultWriter> {
        let (sink, file): (Box<dyn Write + Send>, _) = if name == "-" {
            super::mark_stdout_used();
            (Box::new(io::stdout()), None)
        } else {
            // Found now, not by the rename after the whole run.
            let file = OutputFile::create(Path::new(name))?;
            (Box::new(file.file().try_clone()?), Some(file))
        };
        let header: Vec<String> = match &columns {
            None => HEADER.iter().map(|h| h.to_string()).collect(),
            Some(c) => {
                // The verdict's columns after the input's, as NeverBounce and ZeroBounce
                // append theirs; prefixed when the input already has a column of that name.
                let taken =
                    |name: &str| c.header.iter().any(|h| h.trim().eq_ignore_ascii_case(name));
                let clash = VERDICT_HEADER.iter().any(|h| taken(h));
                c.header
                    .iter()
                    .cloned()
                    .chain(VERDICT_HEADER.iter().map(|h| {
                        if clash {
                            format!("verify_{h}")
                        } else {
                            h.to_string()
                        }
                    }))
                    .collect()
            }
        };
        let mut w = ResultWriter {
            csv: Some(
                csv::WriterBuilder::new()
                    .buffer_capacity(8 * 1024)
                    // Rows as long as the input gave them (commas whatever the input's
                    // delimiter, as the results of a list are).
                    .flexible(true)
                    .from_writer(sink),
            ),
            columns,
            file,
            rows: 0,
            interrupted: false,
        };
        let csv = w.csv.as_mut().expect("just set");
        csv.write_record(&header)?;
        csv.flush()?;
        Ok(w)
    }

    /// The file rows go to until [`ResultWriter::finish`] (none for standard output, or a
    /// device or FIFO written in place).
    fn in_progress(&self) -> Option<&Path> {
        self.file.as_ref().and_then(OutputFile::temp_path)
    }

    /// The run succeeded: the results take the output's name (replacing an older file).
    fn finish(mut self) -> io::Result<()> {
        let Some(mut csv) = self.csv.take() else {
            return Ok(());
        };
        csv.flush()?;
        drop(csv);
        match self.file.take() {
            Some(file) => file.commit(),
            None => Ok(()),
        }
    }

    fn write(&mut self, out: &VerifyOut) -> io::Result<()> {
        let v = &out.verdict;
        let code = v.code.map(|c| c.to_string()).unwrap_or_default();
        let Some(csv) = self.csv.as_mut() else {
            return Ok(());
        };
        let verdict = [
            v.status.as_str(),
            v.mx.as_deref().unwrap_or(""),
            code.as_str(),
            v.enhanced.as_deref().unwrap_or(""),
            v.detail.as_str(),
        ];
        match &self.columns {
            None => {
                csv.write_record(std::iter::once(out.email.as_str()).chain(verdict))?;
            }
            Some(c) => {
                // A row shorter than the header is padded, so the verdict stays under its
                // own header; one unreadable (no fields) gives its address column only.
                let mut fields: Vec<&str> = match &out.row {
                    Some(row) => row.iter().map(String::as_str).collect(),
                    None => Vec::new(),
                };
                if fields.len() < c.header.len() {
                    fields.resize(c.header.len(), "");
                }
                if out.row.is_none()
                    && let Some(cell) = fields.get_mut(c.address)
                {
                    *cell = out.email.as_str();
                }
                // A row longer than the header (a spreadsheet's trailing `;`): its extra cells
                // go after the verdict, which stays under its own header; empty ones are
                // dropped.
                let extra = fields.split_off(c.header.len());
                let last = extra
                    .iter()
                    .rposition(|f| !f.is_empty())
                    .map_or(0, |i| i + 1);
                csv.write_record(
                    fields
                        .into_iter()
                        .chain(verdict)
                        .chain(extra.into_iter().take(last)),
                )?;
            }
        }
        self.rows += 1;
        csv.flush()
    }
}

impl Drop for ResultWriter {
    fn drop(&mut self) {
        drop(self.csv.take());
        let Some(file) = self.file.take() else {
            return;
        };
        if self.rows == 0 && !self.interrupted {
            // A run that failed before any row: nothing worth keeping; removed with `file`.
            return;
        }
        let mut partial = file.target().as_os_str().to_owned();
        partial.push(".partial");
        // Where the rows are: the .partial name, else the temporary file they were written
        // to (nothing to say when they were written in place).
        if let Some(kept) = file.keep_as(Path::new(&partial)) {
            stderrln!(
                "hailer: the {} result(s) written so far are in {}",
                self.rows,
                kept.display()
            );
        }
    }
}

/// The progress line on a terminal: the count (of the total, for the database), the rate
/// and, with a total, an ETA never shorter than the wait for the last retry; for a file, the
/// share of it read (a little ahead of the results). `read` is (bytes read, file size).
fn progress_line(
    p: &VerifyProg,
    total: Option<u64>,
    elapsed: Duration,
    read: Option<(u64, u64)>,
) -> String {
    let mut line = match total {
        // Rounded down: 100% only at the end.
        Some(t) if t > 0 => format!(
            "verifying… {}% ({} of {t})",
            (p.done.saturating_mul(100) / t).min(100),
            p.done
        ),
        _ => format!("verifying… {} addresses", p.done),
    };
    let secs = elapsed.as_secs_f64();
    let rate = (secs >= 1.0 && p.done > 0).then(|| p.done as f64 / secs);
    if let Some(rate) = rate {
        line += &format!(", {rate:.1}/s");
    }
    if let Some((read, size)) = read {
        line += &format!(
            ", {:.0}% of the input read",
            (read as f64 * 100.0 / size as f64).min(100.0)
        );
    }
    if let Some(t) = total {
        let left = t.saturating_sub(p.done);
        let by_rate = rate.map(|r| Duration::from_secs_f64(left as f64 / r));
        // The others' rate says nothing of an address waiting minutes for its retry.
        let eta = match (by_rate, p.last_retry_in) {
            (Some(eta), Some(wait)) => Some(eta.max(wait)),
            (eta, wait) => eta.or(wait),
        };
        if let Some(eta) = eta.filter(|_| left > 0) {
            line += &format!(", ETA {}", short_duration(eta));
        }
    }
    if p.waiting > 0 {
        line += &format!(", {} waiting to retry (greylisting or 4xx)", p.waiting);
        if let Some(next) = p.next_retry_in {
            line += &format!(", next in {}", short_duration(next));
        }
        let names = p.waiting_names();
        if !names.is_empty() {
            line += &format!(": {names}");
        }
    }
    line
}

/// `42s`, `5m12s`, `1h03m`.
fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// A reader that counts the bytes consumed from it, for the progress line.
struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: io::Read> io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Relaxed);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.read.fetch_add(n as u64, Relaxed);
        self.inner.consume(n);
    }
}

/// Whether two paths name one file (hard links and symlinks included); `false` when either
/// does not exist.
fn same_file(a: &str, b: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_gives_rate_eta_and_the_share_read() {
        let mut p = VerifyProg {
            done: 1791,
            ..VerifyProg::default()
        };
        let line = progress_line(&p, Some(12_000), Duration::from_secs(60), None);
        // 29.85/s, 10,209 left: 342 s.
        assert_eq!(line, "verifying… 14% (1791 of 12000), 29.9/s, ETA 5m42s");
        let line = progress_line(&p, None, Duration::from_secs(60), Some((250, 1000)));
        assert_eq!(
            line,
            "verifying… 1791 addresses, 29.9/s, 25% of the input read"
        );
        // One address left, waiting three minutes for its retry: not an ETA of 0s.
        p.done = 11_999;
        p.waiting = 1;
        p.next_retry_in = Some(Duration::from_secs(180));
        p.last_retry_in = Some(Duration::from_secs(180));
        let line = progress_line(&p, Some(12_000), Duration::from_secs(60), None);
        assert_eq!(
            line,
            "verifying… 99% (11999 of 12000), 200.0/s, ETA 3m00s, 1 waiting to retry \
             (greylisting or 4xx), next in 3m00s"
        );
    }
}
