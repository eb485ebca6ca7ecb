//! The terminal UI: terminal setup and restore, and the one `select!` loop that feeds keys,
//! job messages, loaded data and ticks to the App, runs the effects it asks for, and draws
//! when something changed.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio_util::sync::CancellationToken;

pub mod app;
pub mod bounces;
pub mod data;
pub mod keymap;
pub mod sending;
pub mod table;
pub mod ui;

mod inbox_jobs;
pub mod sending_jobs;

use app::{App, Effect, LogLine, Pane, Settings};
use table::TableRow;

use crate::cli::{Context, exit};
use crate::config::{Config, LoadedConfig};
use crate::engine::import::{self, ImportRequest};
use crate::engine::jobs::{JobKind, Level, Supervisor};
use crate::store::Store;

/// The CLI's `errln!` (its macros are local to `cli`): `hailer: …` on stderr, followed by the
/// database's name and what to do when the error says it stayed locked. Never while raw mode
/// is on.
macro_rules! errln {
    ($($arg:tt)*) => {
        crate::cli::write_error(format_args!($($arg)*))
    };
}

/// At most ~60 frames a second, and only when something changed (cheap over SSH).
const FRAME: Duration = Duration::from_millis(16);

pub fn run(ctx: Context) -> u8 {
    run_with_log(ctx, Vec::new(), None)
}

/// [`run`], with lines to show on the Activity log from the start (what `hailer demo`
/// imported and rejected just before, which its stderr would otherwise lose under the TUI),
/// and a hint for the first step.
pub fn run_with_log(ctx: Context, log: Vec<LogLine>, hint: Option<&str>) -> u8 {
    // Everything that can fail plainly fails before raw mode, through the same `errln!` as the
    // headless commands: the same message and exit code for the same problem (a database
    // locked by another process gets its hint and exits 1).
    if let Err(e) = ctx.open_store() {
        errln!("{e:#}");
        return exit::FAILURE;
    }
    // Without a terminal there is nothing to draw on (and raw mode cannot be set up): say so
    // instead of failing inside the terminal setup, or drawing into a file. (Keys come from
    // /dev/tty when standard input is not one.)
    if !std::io::stdout().is_terminal() {
        errln!(
            "the terminal UI needs a terminal, and standard output is not one; the headless \
             subcommands work without (hailer --help)"
        );
        return exit::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            errln!("cannot start the async runtime: {e}");
            return exit::FAILURE;
        }
    };
    let result = runtime.block_on(run_async(ctx, log, hint));
    // ratatui's panic hook restores on panic; restore here on every other path where raw mode
    // was entered (only then: leaving the alternate screen writes to standard output).
    if crossterm::terminal::is_raw_mode_enabled().unwrap_or(false) {
        ratatui::restore();
    }
    match result {
        // The error goes out once the terminal is back, never while raw mode is on.
        Ok(None) => exit::OK,
        Ok(Some(waiting)) => {
            crate::cli::write_stderr(format_args!("hailer: {waiting}\n"));
            // Dropping the runtime waits for its blocking tasks.
            drop(runtime);
            crate::cli::write_stderr(format_args!("hailer: stopped\n"));
            exit::OK
        }
        Err(e) => {
            errln!("{e:#}");
            exit::FAILURE
        }
    }
}

enum Loaded {
    Rows(Pane, Vec<TableRow>),
    Bounces(bounces::BouncesData),
    Error(String),
    Toast(String),
    Text(String, String),
    OutboxStats(data::OutboxStats),
    /// `None`: the check failed (a busy database); the next tick tries again.
    Stamp(Option<data::Poll>),
    SendPlan(crate::engine::send::SendPlan),
    Capacity(Vec<crate::engine::send::MailboxOut>),
    MailboxCheck(crate::engine::send::MailboxCheck),
    /// `u`'s resend refused: forcing it is offered when that would send it.
    ResendRefused(crate::store::sending::ResendRefusal),
    /// A change that needs the user's yes first (an address at a domain taking no mail).
    Ask(app::Mode),
}

/// What a change to suggestions tells the user: a status line, or a question.
enum Reply {
    Toast(String),
    Ask(app::Mode),
}

impl From<String> for Reply {
    fn from(text: String) -> Self {
        Reply::Toast(text)
    }
}

fn spawn_load(pane: Pane, data_dir: PathBuf, tx: UnboundedSender<Loaded>) {
    tokio::task::spawn_blocking(move || {
        if pane == Pane::Bounces {
            let _ = tx.send(match bounces::load(&data_dir) {
                Ok(data) => Loaded::Bounces(data),
                Err(e) => Loaded::Error(format!("cannot load bounces: {e}")),
            });
            return;
        }
        let result = match pane {
            Pane::Bounces => unreachable!("loaded above"),
            Pane::Prospects => data::load_prospects(&data_dir),
            Pane::Messages => data::load_messages(&data_dir),
            Pane::Outbox => data::load_outbox(&data_dir),
            Pane::Suggestions => data::load_suggestions(&data_dir),
        };
        let _ = tx.send(match result {
            Ok(rows) => Loaded::Rows(pane, rows),
            Err(e) => Loaded::Error(format!("cannot load {pane:?}: {e}")),
        });
        if pane == Pane::Outbox {
            spawn_outbox_stats(data_dir, tx);
        }
    });
}

/// Tracking figures only (summary line and O/C/R cells), without reloading the rows.
fn spawn_outbox_stats(data_dir: PathBuf, tx: UnboundedSender<Loaded>) {
    tokio::task::spawn_blocking(move || {
        let _ = tx.send(match data::load_outbox_stats(&data_dir) {
            Ok(stats) => Loaded::OutboxStats(stats),
            Err(e) => Loaded::Error(format!("cannot load tracking figures: {e}")),
        });
    });
}

/// How often the Outbox checks for new tracking events and row changes (from this TUI's
/// server, a `hailer serve` elsewhere, or another process).
const OUTBOX_POLL: Duration = Duration::from_secs(2);

/// The IMAP watcher as a background task (`w` on Bounces, `[inbox] watch_in_tui`): after each
/// pass that read something, the Bounces and Outbox tabs are reloaded from this thread.
fn start_watcher(ctx: &Context, supervisor: &mut Supervisor, tx: UnboundedSender<Loaded>) {
    let db = crate::engine::inbox::db_path(&ctx.data_dir);
    let data_dir = ctx.data_dir.clone();
    let config = ctx.config.config.clone();
    supervisor.spawn_blocking(JobKind::Watch, app::WATCH_TITLE, false, move |rep| {
        if crate::engine::inbox::targets(&config).0.is_empty() {
            return Err("no mailbox has imap_host: nothing to watch".into());
        }
        let passes = std::sync::atomic::AtomicU64::new(0);
        let on_pass = |s: &crate::engine::inbox::SyncSummary| {
            let n = passes.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            rep.progress(n, None, format!("pass {n}: {} read", s.read()));
            if s.read() == 0 && s.paused.is_empty() {
                return;
            }
            rep.log(Level::Info, s.line());
            let _ = tx.send(match bounces::load(&data_dir) {
                Ok(data) => Loaded::Bounces(data),
                Err(e) => Loaded::Error(format!("cannot load bounces: {e}")),
            });
            if let Ok(rows) = data::load_outbox(&data_dir) {
                let _ = tx.send(Loaded::Rows(Pane::Outbox, rows));
            }
        };
        crate::engine::inbox::watch::watch(&config, &db, rep, &on_pass)
            .map_err(|e| e.to_string())?;
        Ok(format!(
            "stopped after {} passes",
            passes.load(std::sync::atomic::Ordering::Relaxed)
        ))
    });
}

/// `[tracking] serve_in_tui = true`: the tracking server as a background job on Activity.
fn start_tracking_server(ctx: &Context, supervisor: &mut Supervisor, app: &mut App) {
    let config = &ctx.config.config;
    if !config.tracking.serve_in_tui {
        return;
    }
    let listen = match config.tracking.listen_addr() {
        Ok(a) => a,
        Err(e) => return app.toast(format!("tracking server not started: {e}"), true),
    };
    match crate::engine::tracking::server::ServeConfig::from_config(
        config,
        ctx.data_dir.clone(),
        listen,
    ) {
        Ok((cfg, warning)) => {
            let id = supervisor.spawn_blocking(
                JobKind::Serve,
                format!("tracking server {listen}"),
                false,
                move |rep| crate::engine::tracking::job::run(cfg, rep),
            );
            if let Some(w) = warning {
                app.on_job(crate::engine::jobs::JobMsg::Log {
                    id,
                    level: Level::Warn,
                    text: w,
                });
            }
        }
        Err(e) => app.toast(format!("tracking server not started: {e}"), true),
    }
}

fn color_wanted() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `Some(text)`: tasks were still running when the TUI ended; the text says what waits.
async fn run_async(
    mut ctx: Context,
    log: Vec<LogLine>,
    hint: Option<&str>,
) -> anyhow::Result<Option<String>> {
    let settings = Settings::from_config(&ctx.config, &ctx.data_dir);
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut app = App::new(settings, cwd, color_wanted());
    for line in log {
        app.activity.push_log(line);
    }
    if let Some(hint) = hint {
        app.hint(hint);
    }
    let root = CancellationToken::new();
    let (mut supervisor, mut job_rx) = Supervisor::new(root.clone());
    let (load_tx, mut load_rx) = unbounded_channel::<Loaded>();
    spawn_load(Pane::Prospects, ctx.data_dir.clone(), load_tx.clone());
    spawn_load(Pane::Messages, ctx.data_dir.clone(), load_tx.clone());
    // Before the outbox is first read, off the UI thread: rows a dead run left SENDING are
    // UNCERTAIN from now on, for `u` to decide (a send running elsewhere keeps its own).
    let (data_dir, tx) = (ctx.data_dir.clone(), load_tx.clone());
    tokio::task::spawn_blocking(move || {
        let note = match crate::engine::send::recover_interrupted(&data_dir) {
            Ok(0) => None,
            Ok(n) => Some(format!(
                "{} SENDING when a run stopped: now UNCERTAIN (u on Outbox decides)",
                crate::text::count(n, "row was", "rows were")
            )),
            Err(e) => Some(format!("cannot check for interrupted sends: {e}")),
        };
        if let Some(note) = note {
            let _ = tx.send(Loaded::Error(note));
        }
        spawn_load(Pane::Outbox, data_dir, tx);
    });
    spawn_load(Pane::Suggestions, ctx.data_dir.clone(), load_tx.clone());
    spawn_load(Pane::Bounces, ctx.data_dir.clone(), load_tx.clone());

    use tokio::signal::unix::{SignalKind, signal};
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigquit = signal(SignalKind::quit())?;
    // In raw mode Ctrl-C is a key, not a signal; but while an editor has the terminal it is
    // SIGINT to the whole foreground group, hailer included, which it must outlive (a send or
    // an import may be running). A SIGINT from elsewhere quits like SIGTERM.
    let mut sigint = signal(SignalKind::interrupt())?;

    let mut terminal =
        ratatui::try_init().map_err(|e| anyhow::anyhow!("cannot set up the terminal: {e}"))?;
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(app::TICK);
    let mut last_draw = Instant::now() - FRAME;
    start_tracking_server(&ctx, &mut supervisor, &mut app);
    if ctx.config.config.inbox.watch_in_tui {
        start_watcher(&ctx, &mut supervisor, load_tx.clone());
    }
    let mut outbox_poll = tokio::time::interval(OUTBOX_POLL);
    let mut last_stamp: Option<(i64, (i64, i64, i64))> = None;
    let mut stamp_pending = false;
    tracing::info!(data_dir = %ctx.data_dir.display(), "tui started");

    loop {
        if app.dirty {
            let wait = FRAME.saturating_sub(last_draw.elapsed());
            if wait.is_zero() {
                terminal.draw(|f| ui::render(f, &mut app))?;
                app.dirty = false;
                last_draw = Instant::now();
            }
        }
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(key))) if key.kind == KeyEventKind::Press => app.on_key(key),
                Some(Ok(Event::Resize(_, _))) => app.dirty = true,
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => break,
            },
            Some(msg) = job_rx.recv() => {
                app.on_job(msg);
                while let Ok(m) = job_rx.try_recv() {
                    app.on_job(m);
                }
            }
            Some(loaded) = load_rx.recv() => match loaded {
                Loaded::Rows(pane, rows) => app.on_loaded(pane, rows),
                Loaded::Bounces(data) => app.on_bounces_loaded(data),
                Loaded::Error(e) => app.toast(e, true),
                Loaded::Toast(t) => app.toast(t, false),
                Loaded::Ask(mode) => app.ask(mode),
                Loaded::Text(title, text) => app.show_text(title, text),
                Loaded::OutboxStats(stats) => app.on_outbox_stats(&stats),
                Loaded::Stamp(None) => stamp_pending = false,
                Loaded::Stamp(Some(poll)) => {
                    stamp_pending = false;
                    app.on_pauses(poll.paused);
                    let stamp = poll.stamp;
                    match last_stamp {
                        Some((_, rows)) if rows != stamp.1 => {
                            spawn_load(Pane::Outbox, ctx.data_dir.clone(), load_tx.clone())
                        }
                        Some((events, _)) if events != stamp.0 => {
                            spawn_outbox_stats(ctx.data_dir.clone(), load_tx.clone())
                        }
                        _ => {}
                    }
                    last_stamp = Some(stamp);
                }
                Loaded::SendPlan(plan) => app.on_send_plan(plan),
                Loaded::Capacity(mailboxes) => {
                    app.settings.capacity = mailboxes;
                    app.dirty = true;
                }
                Loaded::MailboxCheck(check) => app.on_mailbox_check(check),
                Loaded::ResendRefused(refusal) => app.on_resend_refused(refusal),
            },
            _ = outbox_poll.tick(), if !stamp_pending => {
                stamp_pending = true;
                let (data_dir, tx) = (ctx.data_dir.clone(), load_tx.clone());
                tokio::task::spawn_blocking(move || {
                    let _ = tx.send(Loaded::Stamp(data::poll(&data_dir).ok()));
                });
            }
            _ = tick.tick() => app.on_tick(),
            // Wake up to draw a frame that pacing held back.
            _ = tokio::time::sleep(FRAME), if app.dirty => {}
            _ = sigterm.recv() => break,
            _ = sighup.recv() => break,
            _ = sigquit.recv() => break,
            _ = sigint.recv() => break,
        }
        for effect in app.take_effects() {
            match effect {
                Effect::Import { kind, path } => {
                    let data_dir = ctx.data_dir.clone();
                    let title = format!("import {} {}", kind.name(), path.display());
                    supervisor.spawn_blocking(JobKind::Import, title, false, move |rep| {
                        import_job(&data_dir, kind, path, rep)
                    });
                }
                Effect::Load(pane) => spawn_load(pane, ctx.data_dir.clone(), load_tx.clone()),
                Effect::BuildOutbox => {
                    let data_dir = ctx.data_dir.clone();
                    supervisor.spawn_blocking(JobKind::Outbox, "build outbox", false, move |rep| {
                        let mut store = Store::open_in(&data_dir).map_err(|e| e.to_string())?;
                        let summary = crate::engine::outbox::build::build(&mut store)
                            .map_err(|e| e.to_string())?;
                        for line in summary.to_string().lines().skip(1) {
                            rep.log(Level::Info, line.trim().to_string());
                        }
                        Ok(format!(
                            "{} READY, {} ERROR, {} SKIPPED, {} sent/in flight",
                            summary.ready, summary.error, summary.skipped, summary.locked
                        ))
                    });
                }
                Effect::Verify(scope) => {
                    let data_dir = ctx.data_dir.clone();
                    let config = ctx.config.config.clone();
                    let title = if scope.is_all() {
                        "verify addresses".to_string()
                    } else {
                        format!("verify {scope}")
                    };
                    supervisor.spawn_blocking(JobKind::Verify, title, false, move |rep| {
                        verify_job(&data_dir, &config, &scope, rep)
                    });
                }
                Effect::Approve { .. } | Effect::Skip { .. } | Effect::Suppress { .. } => {
                    spawn_outbox_write(
                        effect,
                        ctx.data_dir.clone(),
                        ctx.config.config.sending.require_approval,
                        load_tx.clone(),
                    );
                }
                Effect::Preview(id) => {
                    let (data_dir, config, tx) = (
                        ctx.data_dir.clone(),
                        ctx.config.config.clone(),
                        load_tx.clone(),
                    );
                    tokio::task::spawn_blocking(move || {
                        let msg = match data::preview(&data_dir, id, &config) {
                            Ok(Some(text)) => Loaded::Text(format!("Preview of row {id}"), text),
                            Ok(None) => Loaded::Error(format!("row {id} is gone")),
                            Err(e) => Loaded::Error(e.to_string()),
                        };
                        let _ = tx.send(msg);
                    });
                }
                Effect::Replies(id) => {
                    let (data_dir, tx) = (ctx.data_dir.clone(), load_tx.clone());
                    tokio::task::spawn_blocking(move || {
                        let msg = match data::replies_text(&data_dir, id) {
                            Ok(Some(text)) => Loaded::Text(format!("Replies to row {id}"), text),
                            Ok(None) => Loaded::Toast(format!("no reply read for row {id}")),
                            Err(e) => Loaded::Error(e.to_string()),
                        };
                        let _ = tx.send(msg);
                    });
                }
                Effect::EditRow(id) => {
                    let outcome;
                    (outcome, events) =
                        with_terminal_released(&mut terminal, events, &mut sigint, || {
                            edit_outbox_row(&ctx.data_dir, id)
                        })?;
                    match outcome {
                        Ok(msg) => app.toast(msg, false),
                        Err(e) => app.toast(e, true),
                    }
                    spawn_load(Pane::Outbox, ctx.data_dir.clone(), load_tx.clone());
                    app.dirty = true;
                }
                Effect::Find { company, refresh } => {
                    let data_dir = ctx.data_dir.clone();
                    let title = match &company {
                        Some(k) => format!("find emails: {k}"),
                        None => "find emails".to_string(),
                    };
                    match crate::engine::find::FindSettings::from_config(&ctx.config.config) {
                        Ok(settings) => {
                            supervisor.spawn_blocking(JobKind::Find, title, false, move |rep| {
                                find_job(&data_dir, company, refresh, settings, rep)
                            });
                        }
                        Err(e) => app.toast(format!("find: {e}"), true),
                    }
                }
                Effect::Suggestion { prospect_id, op } => {
                    change_suggestions(&ctx.data_dir, &load_tx, move |dir| {
                        suggestion_op(dir, prospect_id, op)
                    })
                }
                Effect::AcceptSuggestions(ids) => {
                    change_suggestions(&ctx.data_dir, &load_tx, move |dir| {
                        accept_suggestions(dir, &ids).map(Reply::from)
                    })
                }
                Effect::ResetSuggestions(ids) => {
                    change_suggestions(&ctx.data_dir, &load_tx, move |dir| {
                        reset_suggestions(dir, &ids).map(Reply::from)
                    })
                }
                Effect::SyncInbox => {
                    let db = crate::engine::inbox::db_path(&ctx.data_dir);
                    let config = ctx.config.config.clone();
                    supervisor.spawn_blocking(
                        JobKind::Watch,
                        "sync mailboxes",
                        false,
                        move |rep| inbox_jobs::sync_job(&config, &db, rep),
                    );
                }
                Effect::WatchInbox => {
                    start_watcher(&ctx, &mut supervisor, load_tx.clone());
                }
                Effect::PlanSend
                | Effect::LoadCapacity
                | Effect::ResolveUncertain { .. }
                | Effect::ResendBounced { .. }
                | Effect::ResumeMailboxes
                | Effect::SetMailboxPause { .. } => {
                    sending_jobs::spawn_quick(
                        effect,
                        ctx.data_dir.clone(),
                        ctx.config.config.clone(),
                        load_tx.clone(),
                    );
                }
                Effect::Send => {
                    let (data_dir, config) = (ctx.data_dir.clone(), ctx.config.config.clone());
                    supervisor.spawn_blocking(JobKind::Send, "send", true, move |rep| {
                        sending_jobs::send_job(data_dir, config, rep)
                    });
                }
                Effect::TestMailboxes => {
                    let (config, tx) = (ctx.config.config.clone(), load_tx.clone());
                    supervisor.spawn_blocking(
                        JobKind::MailboxTest,
                        "test mailboxes",
                        false,
                        move |rep| sending_jobs::test_mailboxes(config, tx, rep),
                    );
                }
                Effect::Cancel(id) => {
                    supervisor.cancel(id);
                }
                Effect::TogglePause(id) => {
                    supervisor.toggle_pause(id);
                }
                Effect::EditConfig => {
                    let outcome;
                    (outcome, events) =
                        with_terminal_released(&mut terminal, events, &mut sigint, || {
                            edit_config(&ctx.config)
                        })?;
                    match outcome {
                        Ok(None) => app.toast(
                            "config.toml not created: the example was left unchanged",
                            false,
                        ),
                        Ok(Some(loaded)) => {
                            let paused = std::mem::take(&mut app.settings.paused);
                            app.settings = Settings::from_config(&loaded, &ctx.data_dir);
                            app.settings.paused = paused;
                            ctx.config = loaded;
                            app.toast("configuration reloaded", false);
                        }
                        Err(errors) => {
                            app.settings.errors = errors;
                            let file = ctx
                                .config
                                .path
                                .as_deref()
                                .and_then(|p| p.file_name())
                                .map_or("config.toml".into(), |n| n.to_string_lossy());
                            app.toast(format!("{file} has errors (see Settings): this session keeps the previous configuration; e edits the file again"), true);
                        }
                    }
                    app.dirty = true;
                }
            }
        }
        if app.quit {
            break;
        }
    }
    tracing::info!("tui stopping");
    let active: Vec<String> = app
        .activity
        .tasks
        .iter()
        .filter(|t| t.state.is_active())
        .map(|t| t.title.clone())
        .collect();
    if supervisor.shutdown(Duration::from_secs(3)).await {
        return Ok(None);
    }
    // Still running: the process waits for it when the runtime ends, after the terminal is
    // restored. Said there, or the blank terminal looks like a hang.
    Ok(Some(format!(
        "waiting for {} to stop (a message in flight waits for the server's answer, at most \
         the SMTP timeout, so its status is recorded)…",
        if active.is_empty() {
            "a background task".to_string()
        } else {
            active.join(", ")
        }
    )))
}

/// What `a` did to `marked` rows, `changed` of which were approved (or unapproved): the
/// marked rows it passed over (ERROR, SENT, approved already) are counted, not left out.
fn approve_text(changed: usize, marked: usize, approve: bool) -> String {
    let others = match marked.saturating_sub(changed) {
        0 => String::new(),
        1 => "; 1 other row left as it was (not READY, or already so)".into(),
        m => format!("; {m} other rows left as they were (not READY, or already so)"),
    };
    match (changed, approve) {
        (0, true) => "nothing to approve: only READY rows not yet approved".into(),
        (0, false) => "nothing to unapprove: no approved READY row".into(),
        (n, true) => format!("{} approved{others}", crate::store::outbox::rows(n)),
        (n, false) => format!("{} unapproved{others}", crate::store::outbox::rows(n)),
    }
}

/// Approve, skip or suppress in the store, then reload the outbox table.
fn spawn_outbox_write(
    effect: Effect,
    data_dir: PathBuf,
    require_approval: bool,
    tx: UnboundedSender<Loaded>,
) {
    tokio::task::spawn_blocking(move || {
        use crate::store::{self, outbox, suppressions};
        let now = store::now_ts();
        let result = Store::open_in(&data_dir)
            .map_err(|e| e.to_string())
            .and_then(|mut s| {
                let text = match effect {
                    Effect::Approve { ids, approve: true } => {
                        outbox::set_approved(s.conn(), &ids, true, now)
                            .map(|n| approve_text(n, ids.len(), true))
                    }
                    // Unapproving withdraws RETRY rows too (they go out whatever approval).
                    Effect::Approve {
                        ids,
                        approve: false,
                    } => {
                        let held = outbox::Held::for_approval(require_approval);
                        outbox::unapprove(s.conn(), &ids, now, held).map(|(n, w)| {
                            let text = approve_text(n, ids.len(), false);
                            match (w, held) {
                                (0, _) => text,
                                (w, outbox::Held::Unapproved) => format!(
                                    "{text} ({} back to READY from RETRY, attempts kept)",
                                    outbox::rows(w)
                                ),
                                (w, outbox::Held::Skipped) => format!(
                                    "{text} ({} withdrawn from RETRY as SKIPPED: approval \
                                     is off, so only a skip holds it)",
                                    outbox::rows(w)
                                ),
                            }
                        })
                    }
                    Effect::Skip { ids, skip: true } => {
                        outbox::set_skipped(s.conn(), &ids, true, now).map(|n| match n {
                            0 => "nothing skipped: only READY, ERROR and RETRY rows can be".into(),
                            n => format!("{} skipped", outbox::rows(n)),
                        })
                    }
                    Effect::Skip { ids, skip: false } => {
                        outbox::unskip(s.conn(), &ids, now).map(outbox::unskip_summary)
                    }
                    Effect::Suppress { email } => {
                        let entry = crate::engine::import::normalize::suppression_entry(&email)
                            .unwrap_or(email);
                        suppressions::add(
                            s.conn(),
                            &entry,
                            "manual",
                            Some("from the Outbox tab"),
                            now,
                        )
                        .and_then(|_| crate::engine::outbox::build::build(&mut s).map(|_| ()))
                        .map(|_| format!("{entry} suppressed; outbox rebuilt"))
                    }
                    _ => return Ok(String::new()),
                };
                text.map_err(|e| e.to_string())
            });
        let _ = tx.send(match result {
            Ok(t) => Loaded::Toast(t),
            Err(e) => Loaded::Error(e),
        });
        let _ = tx.send(match data::load_outbox(&data_dir) {
            Ok(rows) => Loaded::Rows(Pane::Outbox, rows),
            Err(e) => Loaded::Error(e.to_string()),
        });
    });
}

/// Hand the terminal to `job` (an editor): the event stream stops reading stdin and the
/// screen is restored first; afterwards the TUI takes the terminal back on a cleared screen.
///
/// The screen is cleared with a plain escape sequence, not `Terminal::clear`: ratatui's clear
/// asks the terminal for its cursor position, and that reply never reaches crossterm's reader
/// once an event stream has been dropped, so the TUI died with "The cursor position could not
/// be read" after every edit.
///
/// The old stream is dropped before anything else: its reader thread then lets go of
/// crossterm's input lock, which a new stream needs.
///
/// A Ctrl-C typed meanwhile reaches hailer as SIGINT too: it is dropped here, so that it
/// stops only the editor.
fn with_terminal_released<T>(
    terminal: &mut ratatui::DefaultTerminal,
    events: EventStream,
    sigint: &mut tokio::signal::unix::Signal,
    job: impl FnOnce() -> T,
) -> std::io::Result<(T, EventStream)> {
    use futures::FutureExt;
    drop(events);
    ratatui::restore();
    let out = job();
    while let Some(Some(())) = sigint.recv().now_or_never() {}
    // Fallible: a terminal that cannot be set up again (gone with its SSH session) ends the
    // TUI with an error through run(), which restores what was set up; init() would panic.
    *terminal = ratatui::try_init()?;
    crossterm::execute!(
        terminal.backend_mut(),
        crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
    )?;
    // A fresh Terminal starts from an empty back buffer: the next draw paints every cell.
    Ok((out, EventStream::new()))
}

/// `$EDITOR` on one outbox row (the terminal already released).
fn edit_outbox_row(data_dir: &std::path::Path, id: i64) -> Result<String, String> {
    let store = Store::open_in(data_dir).map_err(|e| e.to_string())?;
    crate::engine::outbox::edit::edit_in_editor(&store, id)
        .map_err(|e| e.to_string())?
        .describe(id)
}

/// The find engine on a blocking thread with its own small runtime; the Reporter's token
/// cancels it, progress goes to the Activity tab.
fn find_job(
    data_dir: &std::path::Path,
    company: Option<String>,
    refresh: bool,
    settings: crate::engine::find::FindSettings,
    rep: &crate::engine::jobs::Reporter,
) -> Result<String, String> {
    let store = Store::open_in(data_dir).map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let input = crate::engine::find::FindIn {
        company,
        concurrency: 8,
        refresh,
    };
    let token = rep.token().clone();
    let out = rt
        .block_on(crate::engine::find::run(
            store.conn(),
            &input,
            settings,
            &token,
            |done, total, name| rep.progress(done, Some(total), name),
        ))
        .map_err(|e| e.to_string())?;
    Ok(out.to_string())
}

/// Applies `a`, `c` or `e` on Suggestions; returns what happened, for the status line.
fn suggestion_op(
    data_dir: &std::path::Path,
    prospect_id: i64,
    op: app::SuggestionOp,
) -> Result<Reply, crate::store::StoreError> {
    use crate::engine::find::choice;
    use crate::store::suggestions;
    let store = Store::open_in(data_dir)?;
    let now = crate::store::now_ts();
    let mut adopted = None;
    let mut held = Vec::new();
    let done = match op {
        app::SuggestionOp::Accept { force } => {
            // The same counting as `a` on marked rows and `hailer suggestions accept`.
            let tx = store.conn().unchecked_transaction()?;
            let report = suggestions::accept_many(&tx, &[prospect_id], force, now)?;
            tx.commit()?;
            return Ok(Reply::Toast(match report.accepted.first() {
                Some(r) => format!(
                    "accepted {}{}",
                    r.email.as_deref().unwrap_or_default(),
                    crate::store::outbox::held_note(&report.held)
                ),
                None if !report.undeliverable.is_empty() => format!(
                    "not accepted: {} was verified undeliverable",
                    report.undeliverable[0].address_and_verdict()
                ),
                None if !report.already.is_empty() => "already accepted".into(),
                None => "nothing to accept on this row".into(),
            }));
        }
        app::SuggestionOp::NextAlternative => {
            let tx = store.conn().unchecked_transaction()?;
            let chosen = choice::next_alternative(&tx, prospect_id, now)?;
            tx.commit()?;
            chosen.map(|h| held = h).is_some()
        }
        app::SuggestionOp::Set { ref email, force } => {
            let tx = store.conn().unchecked_transaction()?;
            let typed = choice::set_typed(&tx, prospect_id, email, force, now)?;
            tx.commit()?;
            match typed {
                choice::Typed::TakesNoMail(why) => {
                    return Ok(Reply::Ask(app::Mode::ConfirmSetNoMail {
                        prospect_id,
                        email: email.clone(),
                        why,
                    }));
                }
                choice::Typed::NoProspect => false,
                choice::Typed::Set {
                    adopted: learned,
                    held: h,
                } => {
                    held = h;
                    if learned {
                        adopted = email.rsplit_once('@').map(|(_, d)| d.to_string());
                    }
                    true
                }
            }
        }
    };
    let now = suggestions::current(store.conn(), prospect_id)?;
    let email = now
        .as_ref()
        .and_then(|c| c.email.clone())
        .unwrap_or_default();
    let reading = format!(
        "{}, {}%",
        now.as_ref()
            .and_then(|c| c.pattern.as_deref())
            .unwrap_or("no known pattern"),
        now.as_ref().map_or(0, |c| c.confidence)
    );
    let learned = adopted
        .map(|d| format!("; the company's domain is now {d} (f guesses its other prospects)"))
        .unwrap_or_default();
    let held = crate::store::outbox::held_note(&held);
    Ok(Reply::Toast(match (op, done) {
        (app::SuggestionOp::NextAlternative, false) => "no other address to try on this row".into(),
        (_, false) => "that prospect is gone (reload with R)".into(),
        // Browsing: say plainly that nothing was accepted.
        (app::SuggestionOp::NextAlternative, true) => {
            format!("showing {email}: {reading}; not accepted (a accepts, Enter for details){held}")
        }
        (_, true) => {
            format!("now {email} (accepted): {reading}{learned} (details on Enter){held}")
        }
    }))
}

/// A change to suggestions off the UI thread; then the tab reloads and the status line says
/// what was done.
fn change_suggestions(
    data_dir: &std::path::Path,
    tx: &UnboundedSender<Loaded>,
    change: impl FnOnce(&std::path::Path) -> Result<Reply, crate::store::StoreError> + Send + 'static,
) {
    let (data_dir, tx) = (data_dir.to_path_buf(), tx.clone());
    tokio::task::spawn_blocking(move || {
        // Prospects show the accepted address too, so both tables are read again.
        let reload = |done| -> Result<_, crate::store::StoreError> {
            Ok((
                done,
                data::load_suggestions(&data_dir)?,
                data::load_prospects(&data_dir)?,
            ))
        };
        match change(&data_dir).and_then(reload) {
            Ok((done, suggestions, prospects)) => {
                let _ = tx.send(Loaded::Rows(Pane::Suggestions, suggestions));
                let _ = tx.send(Loaded::Rows(Pane::Prospects, prospects));
                let _ = tx.send(match done {
                    Reply::Toast(text) => Loaded::Toast(text),
                    Reply::Ask(mode) => Loaded::Ask(mode),
                });
            }
            Err(e) => {
                let _ = tx.send(Loaded::Error(format!("suggestion: {e}")));
            }
        }
    });
}

/// `a` on marked suggestions: every one accepted in one transaction (all or none).
fn accept_suggestions(
    data_dir: &std::path::Path,
    ids: &[i64],
) -> Result<String, crate::store::StoreError> {
    use crate::store::suggestions;
    let store = Store::open_in(data_dir)?;
    let now = crate::store::now_ts();
    let tx = store.conn().unchecked_transaction()?;
    let report = suggestions::accept_many(&tx, ids, false, now)?;
    tx.commit()?;
    Ok(report.summary() + &crate::store::outbox::held_note(&report.held))
}

/// `u` on Suggestions: accepted or edited rows back to suggested, in one transaction.
fn reset_suggestions(
    data_dir: &std::path::Path,
    ids: &[i64],
) -> Result<String, crate::store::StoreError> {
    use crate::store::suggestions;
    let store = Store::open_in(data_dir)?;
    let now = crate::store::now_ts();
    let tx = store.conn().unchecked_transaction()?;
    let report = suggestions::reset_many(&tx, ids, now)?;
    tx.commit()?;
    let mut text = format!("{} back to suggested (a accepts again)", report.reset.len());
    if report.untouched > 0 {
        text.push_str(&format!("; {} not accepted or edited", report.untouched));
    }
    text.push_str(&crate::store::outbox::held_note(&report.held));
    Ok(text)
}

/// `hailer verify` in database mode, on its own small runtime; verdicts go to the
/// `verifications` table (which the Prospects tab and the outbox build read). Then the
/// alternatives of the first choices verified dead, as the CLI does.
fn verify_job(
    data_dir: &std::path::Path,
    config: &Config,
    scope: &crate::store::verifications::Scope,
    rep: &crate::engine::jobs::Reporter,
) -> Result<String, String> {
    use crate::engine::verify::results::DbResults;
    use crate::engine::verify::{self, InputItem, ResultCache, VerifyIn, VerifyOptions, database};
    let db_path = data_dir.join(crate::store::DB_FILE);
    let results = std::sync::Arc::new(DbResults::open(&db_path).map_err(|e| e.to_string())?);
    let total = database::count(&db_path, scope)?;
    if !scope.is_all() {
        rep.log(
            Level::Info,
            format!("{total} address(es) to verify for {scope}"),
        );
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<InputItem>(1024);
    let feeder = database::feed(&db_path, scope, tx);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let options = VerifyOptions {
        // Rows go to the database: no order to keep, so a greylisted address waiting for
        // its retry does not hold back the others.
        ordered: false,
        store_invalid: true,
        ..VerifyOptions::from_config(config)
    };
    let input = VerifyIn {
        items: rx,
        options: options.clone(),
        cache: Some(results.clone() as std::sync::Arc<dyn ResultCache>),
    };
    let token = rep.token().clone();
    let mut progress = VerifyProgress::new(total);
    let summary = rt
        .block_on(verify::run(
            input,
            |event| progress.on_event(rep, &event),
            token.clone(),
        ))
        .map_err(|e| e.to_string());
    let _ = feeder.join();
    results.close().map_err(|e| e.to_string())?;
    let summary = summary?;
    log_verify_summary(rep, &summary);
    let mut headline = summary
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    if summary.cancelled {
        return Ok(headline);
    }
    // Second pass: its own count, after the first pass's addresses.
    let alt_base = summary.total;
    let alt_total = std::cell::Cell::new(0u64);
    let mut alt_progress = VerifyProgress::new(total);
    let alternatives = rt.block_on(database::verify_alternatives(
        &db_path,
        scope,
        options,
        |n| {
            alt_total.set(n);
            rep.log(
                Level::Info,
                format!("verifying {n} alternative(s) of first choices verified dead"),
            );
        },
        |event| {
            alt_progress.offset = alt_base;
            alt_progress.total = alt_base + alt_total.get();
            alt_progress.on_event(rep, &event)
        },
        token,
    ))?;
    for p in &alternatives.promoted {
        rep.log(Level::Info, p.to_string());
    }
    if alternatives.verified > 0 {
        headline += &format!(
            "; {} alternative(s) verified, {} suggestion(s) replaced by a VALID one",
            alternatives.verified,
            alternatives.promoted.len()
        );
    }
    Ok(headline)
}

/// The Activity task's progress of a verify run: count, cache hits, what waits to retry.
struct VerifyProgress {
    total: u64,
    /// Addresses done by an earlier pass (the alternatives pass counts after the main one).
    offset: u64,
    eta_floor: Option<Duration>,
    /// Tenths of the run already logged.
    logged_tenths: u64,
}

impl VerifyProgress {
    fn new(total: u64) -> VerifyProgress {
        VerifyProgress {
            total,
            offset: 0,
            eta_floor: None,
            logged_tenths: 0,
        }
    }

    fn on_event(
        &mut self,
        rep: &crate::engine::jobs::Reporter,
        event: &crate::engine::verify::VerifyEvent,
    ) {
        let crate::engine::verify::VerifyEvent::Progress(p) = event else {
            return;
        };
        let mut note = format!("{} from cache", p.cached);
        if p.waiting > 0 {
            note += &format!(", {} waiting to retry (greylisting or 4xx)", p.waiting);
            if let Some(next) = p.next_retry_in {
                note += &format!(", next in {} s", next.as_secs());
            }
            // Which addresses, and the answer they wait on (a 4xx, a DNS timeout).
            let names = p.waiting_names();
            if !names.is_empty() {
                note += &format!(": {names}");
            }
        }
        // The run cannot end before its last retry is due (in whole seconds, so it goes out
        // at most about once a second, not with every result).
        let floor = p.last_retry_in.map(|d| Duration::from_secs(d.as_secs()));
        if floor != self.eta_floor {
            self.eta_floor = floor;
            rep.eta_floor(floor);
        }
        rep.progress(self.offset + p.done, Some(self.total), note);
        // The log shows the run going too: a line at each tenth of a long run, with the
        // verdicts so far.
        let done = self.offset + p.done;
        let tenth = (self.total / 10).max(1);
        if self.total >= 20 && done / tenth > self.logged_tenths && done < self.total {
            self.logged_tenths = done / tenth;
            let counts: Vec<String> = p
                .by_status
                .iter()
                .map(|(s, n)| format!("{n} {}", s.as_str()))
                .collect();
            rep.log(
                Level::Info,
                format!(
                    "{done} of {} verified ({} from cache): {}",
                    self.total,
                    p.cached,
                    counts.join(", ")
                ),
            );
        }
    }
}

/// The counts of a finished verify in the Activity log, each status with what it means.
fn log_verify_summary(
    rep: &crate::engine::jobs::Reporter,
    summary: &crate::engine::verify::VerifySummary,
) {
    for (status, n) in &summary.by_status {
        rep.log(
            Level::Info,
            format!("{n:>6}  {}: {}", status.as_str(), status.meaning()),
        );
    }
}

fn import_job(
    data_dir: &std::path::Path,
    kind: import::ImportKind,
    file: PathBuf,
    rep: &crate::engine::jobs::Reporter,
) -> Result<String, String> {
    let mut store = Store::open_in(data_dir).map_err(|e| e.to_string())?;
    let req = ImportRequest {
        kind,
        file,
        sheet: None,
        overrides: Vec::new(),
        sample: false,
    };
    let summary = import::run(&mut store, &req, &mut |p| {
        rep.progress(p.done, Some(p.total), "rows");
        !rep.is_cancelled()
    })
    .map_err(|e| e.to_string())?;
    // Committed: an x pressed after the last progress check cannot undo it.
    rep.ran_to_completion();
    for line in summary.to_string().lines().skip(1) {
        rep.log(Level::Warn, line.trim().to_string());
    }
    tracing::info!(file = %summary.file.display(), imported = summary.imported, "tui import finished");
    Ok(import_outcome(&summary))
}

/// A TUI import's outcome line: what the CLI's summary counts, updates and replacements
/// included when there are any. Rejected rows come first when there are some: they need the
/// user, and the end of a toast at 80 columns is cut.
fn import_outcome(summary: &import::ImportSummary) -> String {
    let mut parts = Vec::new();
    if summary.rejected > 0 {
        parts.push(format!("{} rejected (see Activity)", summary.rejected));
    }
    parts.push(format!("{} imported", summary.imported));
    if summary.updated > 0 {
        parts.push(format!("{} updated with new details", summary.updated));
    }
    if summary.replaced > 0 {
        parts.push(format!("{} replaced", summary.replaced));
    }
    parts.push(crate::text::count(
        summary.duplicates,
        "duplicate",
        "duplicates",
    ));
    if summary.rejected == 0 {
        parts.push("0 rejected".to_string());
    }
    parts.join(", ")
}

/// Run `$EDITOR` on the config file (creating it from the example when there is none), then
/// parse it again: `None` when the example was left as it was, so no file was kept. On
/// errors the caller keeps the previous configuration.
fn edit_config(current: &LoadedConfig) -> Result<Option<LoadedConfig>, Vec<String>> {
    const EXAMPLE: &str = include_str!("../../config.toml.example");
    let path = current
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from("config.toml"));
    let created = !path.exists();
    if created {
        std::fs::write(&path, EXAMPLE)
            .map_err(|e| vec![format!("cannot create {}: {e}", path.display())])?;
    }
    let edited = crate::editor::run(&path).map_err(|e| vec![e]);
    // The example's mailbox and Telegram alerts are placeholders: a copy nobody edited
    // (a look at it, an editor that failed to start) would configure them, so it goes.
    if created && std::fs::read_to_string(&path).is_ok_and(|text| text == EXAMPLE) {
        let _ = std::fs::remove_file(&path);
        return edited.map(|()| None);
    }
    edited?;
    match Config::from_file(&path) {
        Ok(config) => Ok(Some(LoadedConfig {
            config,
            path: Some(path),
        })),
        Err(e) => Err(e.to_string().lines().map(str::to_string).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A verify task's log shows the run going (a line per tenth, with the verdicts so far)
    /// and ends with each count explained, not bare status names.
    #[tokio::test]
    async fn a_verify_log_shows_progress_and_explains_its_counts() {
        use crate::engine::jobs::{JobMsg, Supervisor};
        use crate::engine::verify::{Status, VerifyEvent, VerifyProg, VerifySummary};
        let (mut sup, mut rx) = Supervisor::new(tokio_util::sync::CancellationToken::new());
        sup.spawn_blocking(JobKind::Verify, "verify", false, |rep| {
            let mut progress = VerifyProgress::new(20);
            let mut p = VerifyProg::default();
            for done in 1..=20u64 {
                p.done = done;
                let status = if done % 4 == 0 {
                    Status::MailboxNotFound
                } else {
                    Status::Valid
                };
                *p.by_status.entry(status).or_default() += 1;
                progress.on_event(rep, &VerifyEvent::Progress(p.clone()));
            }
            let summary = VerifySummary {
                total: 20,
                cached: 0,
                by_status: p.by_status.clone(),
                cancelled: false,
                seconds: 1.0,
            };
            log_verify_summary(rep, &summary);
            Ok("done".into())
        });
        let mut logs = Vec::new();
        while let Some(m) = rx.recv().await {
            match m {
                JobMsg::Log { text, .. } => logs.push(text),
                JobMsg::Finished { .. } => break,
                _ => {}
            }
        }
        assert!(
            logs.contains(
                &"10 of 20 verified (0 from cache): 8 VALID, 2 MAILBOX_NOT_FOUND".to_string()
            ),
            "{logs:#?}"
        );
        assert_eq!(
            logs.iter()
                .filter(|l| l.contains(" of 20 verified"))
                .count(),
            9,
            "one line per tenth, none at the end (the summary says it): {logs:#?}"
        );
        assert!(
            logs.contains(
                &"     5  MAILBOX_NOT_FOUND: the server says there is no such mailbox (never sent)"
                    .to_string()
            ),
            "{logs:#?}"
        );
    }

    #[test]
    fn approving_marked_rows_counts_those_it_passed_over() {
        assert_eq!(
            approve_text(2, 3, true),
            "2 rows approved; 1 other row left as it was (not READY, or already so)"
        );
        assert_eq!(approve_text(1, 1, true), "1 row approved");
        assert_eq!(
            approve_text(1, 4, false),
            "1 row unapproved; 3 other rows left as they were (not READY, or already so)"
        );
        assert!(approve_text(0, 2, true).starts_with("nothing to approve"));
    }

    fn toast(reply: Reply) -> String {
        match reply {
            Reply::Toast(text) => text,
            Reply::Ask(_) => panic!("asked instead of doing it"),
        }
    }

    /// `a`, `e` and `u` on Suggestions hold an outbox row built (and approved) for the address
    /// they replace, and the status line says so.
    #[test]
    fn changing_an_address_on_suggestions_holds_its_outbox_row_and_says_so() {
        use crate::store::{outbox, suggestions};
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_in(dir.path()).unwrap();
        let mut run = |kind, name: &str, text: &str| {
            let file = dir.path().join(name);
            std::fs::write(&file, text).unwrap();
            let req = ImportRequest {
                kind,
                file,
                sheet: None,
                overrides: Vec::new(),
                sample: false,
            };
            import::run(&mut store, &req, &mut |_| true).unwrap();
        };
        run(
            import::ImportKind::Prospects,
            "p.csv",
            "first,last,company,email\nAnn,Doe,Acme,ann@acme.test\nBob,Roe,Acme,bob@acme.test\n",
        );
        run(
            import::ImportKind::Messages,
            "m.csv",
            "company,subject,body\nAcme,Hi,Hello {firstname}\n",
        );
        suggestions::upsert(
            store.conn(),
            &suggestions::NewSuggestion {
                prospect_id: 1,
                email: Some("ann.doe@acme.test"),
                alternatives: &[],
                pattern: Some("first.last"),
                confidence: 90,
                evidence: &[],
                status: "suggested",
                reason: None,
            },
            true,
            1,
        )
        .unwrap();
        let build = |store: &mut Store| {
            crate::engine::outbox::build::build(store).unwrap();
            outbox::set_approved(store.conn(), &[1, 2], true, 1).unwrap();
        };
        build(&mut store);
        let held = |store: &Store, id: i64| {
            let row = outbox::get(store.conn(), id).unwrap().unwrap();
            (row.status, row.approved)
        };

        let text = toast(
            suggestion_op(dir.path(), 1, app::SuggestionOp::Accept { force: false }).unwrap(),
        );
        assert_eq!(
            text,
            "accepted ann.doe@acme.test; outbox row #1 was built for the old address: ERROR \
             until the outbox is rebuilt"
        );
        assert_eq!(held(&store, 1), (outbox::Status::Error, false));
        assert_eq!(held(&store, 2), (outbox::Status::Ready, true));

        build(&mut store);
        let text = toast(
            suggestion_op(
                dir.path(),
                1,
                app::SuggestionOp::Set {
                    email: "a.doe@acme.test".into(),
                    force: false,
                },
            )
            .unwrap(),
        );
        assert!(
            text.ends_with(
                "; outbox row #1 was built for the old address: ERROR until the outbox is rebuilt"
            ),
            "{text}"
        );
        assert_eq!(held(&store, 1), (outbox::Status::Error, false));

        build(&mut store);
        assert_eq!(
            reset_suggestions(dir.path(), &[1, 1, 2]).unwrap(),
            "1 back to suggested (a accepts again); 1 not accepted or edited; outbox row #1 was \
             built for the old address: ERROR until the outbox is rebuilt"
        );
        assert_eq!(held(&store, 1), (outbox::Status::Error, false));
        assert_eq!(held(&store, 2), (outbox::Status::Ready, true));
    }

    /// The TUI says what the CLI says of an import that filled in a stored person.
    #[test]
    fn an_import_outcome_counts_updated_prospects() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_in(dir.path()).unwrap();
        let mut run = |name: &str, text: &str| {
            let file = dir.path().join(name);
            std::fs::write(&file, text).unwrap();
            let req = ImportRequest {
                kind: import::ImportKind::Prospects,
                file,
                sheet: None,
                overrides: Vec::new(),
                sample: false,
            };
            import::run(&mut store, &req, &mut |_| true).unwrap()
        };
        run("a.csv", "first,last,company\nZoé,Lefèvre,Acme\n");
        let second = run(
            "b.csv",
            "first,last,company,email\nZoé,Lefèvre,Acme,zl@acme.test\nBo,Ray,Acme,\n",
        );
        assert_eq!(
            import_outcome(&second),
            "1 imported, 1 updated with new details, 0 duplicates, 0 rejected"
        );
        let third = run("c.csv", "first,last,company\nAl,Bo,\nCy,Do,Acme\n");
        assert_eq!(
            import_outcome(&third),
            "1 rejected (see Activity), 1 imported, 0 duplicates"
        );
    }
}
