//! App state and its pure update functions: keys and job messages in, state changes and
//! effects (things for the event loop to run) out. No IO here, so it is tested without a
//! terminal.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::keymap::{Action, Keymap};
use super::table::{Column, TableRow, TableView};
use crate::config::LoadedConfig;
use crate::engine::import::ImportKind;
use crate::engine::jobs::{JobId, JobKind, JobMsg, Level};

/// The title of the TUI's continuous IMAP watcher task (`w` on Bounces) on Activity.
pub const WATCH_TITLE: &str = "watch mailboxes";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    Prospects,
    Suggestions,
    Outbox,
    Bounces,
    Activity,
    Settings,
}

impl Tab {
    pub const ALL: [Tab; 6] = [
        Tab::Prospects,
        Tab::Suggestions,
        Tab::Outbox,
        Tab::Bounces,
        Tab::Activity,
        Tab::Settings,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Prospects => "Prospects",
            Tab::Suggestions => "Suggestions",
            Tab::Outbox => "Outbox",
            Tab::Bounces => "Bounces",
            Tab::Activity => "Activity",
            Tab::Settings => "Settings",
        }
    }

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    pub fn has_table(self) -> bool {
        matches!(
            self,
            Tab::Prospects | Tab::Suggestions | Tab::Outbox | Tab::Bounces
        )
    }
}

/// Which data table a load fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Prospects,
    Messages,
    Outbox,
    Suggestions,
    /// The Bounces tab (loaded with its chart and rates: `tui::bounces::load`).
    Bounces,
}

/// A change the user makes to one suggestion.
#[derive(Debug, Clone, PartialEq)]
pub enum SuggestionOp {
    /// `force`: the user confirmed an address verified undeliverable.
    Accept {
        force: bool,
    },
    NextAlternative,
    /// `force`: the user confirmed an address at a domain that takes no mail.
    Set {
        email: String,
        force: bool,
    },
}

/// The Prospects table. Narrow, Domain goes first (the address and the company say it),
/// then Title; Verified shows once an address was verified.
pub const PROSPECT_COLUMNS: [Column; 7] = [
    Column::new("First name", 7, 2).short("First").max(14),
    Column::new("Last name", 8, 2).short("Last").max(16),
    Column::new("Company", 14, 3).max(30),
    Column::new("Email", 14, 4).max(36),
    Column::new("Verified", 9, 1).max(17).drops(2).sparse(),
    Column::new("Domain", 10, 2).max(24).drops(3),
    Column::new("Title", 10, 3).drops(1),
];

pub const MESSAGE_COLUMNS: [Column; 3] = [
    Column::new("Company", 12, 2).max(28),
    Column::new("Subject", 14, 3).max(44),
    Column::new("Body", 16, 5),
];

/// The Suggestions table (evidence and alternatives are in the detail view). Narrow, Domain
/// goes first (the suggested address says it), then Pattern, Company, Verified.
///
/// The address and its verdict are what a review reads, so they are whole at 80 columns
/// (ordinary addresses; MAILBOX_NOT_FOUND, CONNECTION_REFUSED): the Company gives way
/// before them (the address's domain names it), and the confidence bar shrinks to its
/// number. A row without an address shows in its place why (the Note: no domain found, the
/// address imported for the prospect).
pub const SUGGESTION_COLUMNS: [Column; 9] = [
    Column::new("Name", 12, 1).max(20),
    Column::new("Company", 10, 1).max(20).drops(4).gives_way(),
    Column::new("Domain", 10, 1).max(20).drops(6).gives_way(),
    Column::new("Suggested", 24, 4)
        .max(40)
        .keep_whole()
        .or_show(SUGGESTION_NOTE),
    // " 40 ██···": nine cells; "40" when narrow.
    Column::new("Confidence", 5, 1)
        .short("Conf.")
        .max(10)
        .first_word_when_narrow()
        .grows_last(),
    Column::new("Pattern", 10, 1).max(12).drops(5).gives_way(),
    Column::fixed("Status", 9),
    Column::new("Verified", 18, 1).max(18).drops(3).sparse(),
    Column::new("Note", 0, 0).hidden(),
];

/// The Suggestions cell saying why a row has no address, or which address was imported.
pub const SUGGESTION_NOTE: usize = 8;

/// The Outbox table. The reason (or the server's reply) gets the room left; O/C/R shows
/// once something was sent, and gives way first when the width is tight.
pub const OUTBOX_COLUMNS: [Column; 7] = [
    Column::fixed("Status", 9),
    Column::fixed("OK", 2),
    Column::new("Email", 14, 1).max(32),
    Column::new("Company", 10, 1).max(24).drops(2),
    Column::new("Subject", 12, 1).max(36).drops(1),
    Column::new("O/C/R", 5, 1).max(9).drops(3).sparse(),
    // Hidden while every row is without one (a fresh outbox of READY rows): the subject
    // gets the room then.
    Column::new("Reason / reply", 24, 8)
        .short("Reason")
        .sparse(),
];

/// Outbox table columns (the status filter and actions read them by index).
pub const OUTBOX_STATUS: usize = 0;
pub const OUTBOX_APPROVED: usize = 1;
pub const OUTBOX_EMAIL: usize = 2;
/// Opens/clicks/replies, refreshed from tracking events without reloading the rows.
pub const OUTBOX_COUNTS: usize = 5;
/// The reason (or the server's reply).
pub const OUTBOX_NOTE: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    Running,
    Paused,
    Done,
    /// Finished, but some of its targets failed (one mailbox of two could not be read).
    DoneWithErrors,
    Failed,
    Cancelled,
}

impl TaskState {
    pub fn label(self) -> &'static str {
        match self {
            TaskState::Running => "running",
            TaskState::Paused => "paused",
            TaskState::Done => "done",
            TaskState::DoneWithErrors => "done with errors",
            TaskState::Failed => "failed",
            TaskState::Cancelled => "cancelled",
        }
    }

    /// The label in the task list's 9-column state column.
    pub fn short_label(self) -> &'static str {
        match self {
            TaskState::DoneWithErrors => "w/ errors",
            other => other.label(),
        }
    }

    pub fn is_active(self) -> bool {
        matches!(self, TaskState::Running | TaskState::Paused)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskView {
    pub id: JobId,
    pub kind: JobKind,
    pub title: String,
    pub state: TaskState,
    pub pausable: bool,
    pub done: u64,
    pub total: Option<u64>,
    pub note: String,
    /// Time spent running (paused time excluded), advanced by ticks.
    pub elapsed: Duration,
    /// The least time left whatever the rate (the last greylisting retry of a verify run is
    /// not due before), counted down by ticks.
    pub eta_floor: Option<Duration>,
    pub summary: Option<String>,
    /// The `done` count at which the tables this task writes were last reloaded.
    pub reloaded_at: u64,
}

impl TaskView {
    pub fn ratio(&self) -> f64 {
        match self.total {
            Some(t) if t > 0 => (self.done as f64 / t as f64).clamp(0.0, 1.0),
            _ if matches!(self.state, TaskState::Done | TaskState::DoneWithErrors) => 1.0,
            _ => 0.0,
        }
    }

    /// The share done in percent; `None` for a task without a total (a build, a watch),
    /// which has no share to show.
    pub fn percent(&self) -> Option<f64> {
        self.total.map(|_| self.ratio() * 100.0)
    }

    /// Items per second over the running time.
    pub fn rate(&self) -> Option<f64> {
        let secs = self.elapsed.as_secs_f64();
        (secs >= 0.5 && self.done > 0).then(|| self.done as f64 / secs)
    }

    pub fn eta(&self) -> Option<Duration> {
        // Not while paused: the estimate would stand still.
        if self.state != TaskState::Running {
            return None;
        }
        let by_rate = match (self.rate(), self.total) {
            (Some(rate), Some(total)) if rate > 0.0 => Some(Duration::from_secs_f64(
                total.saturating_sub(self.done) as f64 / rate,
            )),
            _ => None,
        };
        // Addresses waiting minutes for a retry: the rate of the others says nothing of them.
        match (by_rate, self.eta_floor) {
            (Some(eta), Some(floor)) => Some(eta.max(floor)),
            (eta, floor) => eta.or(floor),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub task: Option<JobId>,
    pub level: Level,
    pub text: String,
}

/// A task's note from x until it stops.
const CANCELLING: &str = "cancelling…";

/// Log lines kept for the Activity tab; the file log keeps everything.
pub const LOG_CAPACITY: usize = 2000;

#[derive(Debug, Default)]
pub struct Activity {
    pub tasks: Vec<TaskView>,
    pub selected: usize,
    pub log: VecDeque<LogLine>,
    /// Lines scrolled back from the end (0 = follow the end).
    pub log_back: usize,
}

impl Activity {
    pub fn push_log(&mut self, line: LogLine) {
        // What the pane shows also goes to DATA_DIR/logs/hailer.log (src/logging.rs), so a
        // session's sends, refusals and failed imports outlive it, as the CLI's do.
        let (task, text) = (line.task, line.text.as_str());
        match line.level {
            Level::Info => tracing::info!(target: "hailer::tui", ?task, "{text}"),
            Level::Warn => tracing::warn!(target: "hailer::tui", ?task, "{text}"),
            Level::Error => tracing::error!(target: "hailer::tui", ?task, "{text}"),
        }
        if self.log.len() == LOG_CAPACITY {
            self.log.pop_front();
        }
        self.log.push_back(line);
    }

    pub fn running(&self) -> impl Iterator<Item = &TaskView> {
        self.tasks.iter().filter(|t| t.state.is_active())
    }

    pub fn selected_task(&self) -> Option<&TaskView> {
        self.tasks.get(self.selected)
    }

    /// The selected task in full, for Enter: its columns are cut at 80 columns, and its
    /// log lines are mixed with every other task's.
    pub fn task_report(&self) -> Option<(String, String)> {
        let t = self.selected_task()?;
        // A share only for a task that counts toward a total (see `TaskView::percent`).
        let progress = match (t.percent(), t.total) {
            (Some(p), Some(total)) => format!(", {p:.0}% ({} of {total})", t.done),
            _ if t.done > 0 => format!(", {} done", t.done),
            _ => String::new(),
        };
        let mut text = format!(
            "{}\nstate: {}{progress}\ntime: {} s running\n",
            t.title,
            t.state.label(),
            t.elapsed.as_secs()
        );
        if let Some(summary) = &t.summary {
            text.push_str(&format!("result: {summary}\n"));
        } else if !t.note.is_empty() {
            text.push_str(&format!("now: {}\n", t.note));
        }
        let own: Vec<&LogLine> = self.log.iter().filter(|l| l.task == Some(t.id)).collect();
        text.push_str(&format!(
            "\nlog ({}):\n",
            crate::text::count(own.len() as u64, "line", "lines")
        ));
        for l in own {
            let level = match l.level {
                Level::Error => "error: ",
                Level::Warn => "warning: ",
                Level::Info => "",
            };
            text.push_str(&format!("{level}{}\n", l.text));
        }
        Some((format!("Task #{}", t.id), text))
    }
}

#[derive(Debug, Default)]
pub struct Settings {
    pub path: Option<PathBuf>,
    pub lines: Vec<String>,
    pub errors: Vec<String>,
    pub scroll: usize,
    /// Configured mailboxes, in config order, with their last connection test.
    pub mailboxes: Vec<String>,
    pub checks: Vec<crate::engine::send::MailboxCheck>,
    pub checking: bool,
    /// Each mailbox's day as the sender sees it (read when Settings is shown and after a
    /// send): sent today out of today's cap, warm-up applied.
    pub capacity: Vec<crate::engine::send::MailboxOut>,
    /// Paused mailboxes and why (read with the Bounces tab's data).
    pub paused: Vec<crate::store::pauses::Pause>,
    /// The mailbox `p` pauses or resumes: an index into `mailboxes` (`m` moves it).
    pub selected: usize,
}

impl Settings {
    /// The mailbox `p` acts on, if any is configured.
    pub fn selected_mailbox(&self) -> Option<&str> {
        self.mailboxes
            .get(self.selected.min(self.mailboxes.len().saturating_sub(1)))
            .map(String::as_str)
    }
}

impl Settings {
    pub fn from_config(loaded: &LoadedConfig, data_dir: &Path) -> Settings {
        let mut lines = vec![
            format!(
                "config file: {}",
                loaded.path.as_ref().map_or(
                    "(none: built-in defaults; `e` creates config.toml)".into(),
                    |p| p.display().to_string()
                )
            ),
            format!("data dir:    {}", data_dir.display()),
        ];
        for (name, state) in loaded.config.secret_status() {
            lines.push(format!("{name}: {state}"));
        }
        lines.push(String::new());
        lines.extend(loaded.config.redacted_toml().lines().map(str::to_string));
        Settings {
            path: loaded.path.clone(),
            lines,
            errors: Vec::new(),
            scroll: 0,
            mailboxes: loaded.config.mailboxes.keys().cloned().collect(),
            checks: Vec::new(),
            checking: false,
            paused: Vec::new(),
            capacity: Vec::new(),
            selected: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub kind: ImportKind,
    pub input: String,
    /// Completions offered by the last Tab.
    pub candidates: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Normal,
    /// Typing a filter: every key re-filters; Enter keeps it, Esc clears it.
    Filter,
    Prompt(Prompt),
    Help {
        scroll: usize,
    },
    Detail {
        scroll: usize,
    },
    /// A text popup (the Outbox preview).
    Text {
        title: String,
        text: String,
        scroll: usize,
    },
    /// Typing an address for one suggestion (Suggestions tab, `e`).
    EditEmail {
        prospect_id: i64,
        /// Whose address: "Name · Company", shown in the box (the table is hidden under it).
        who: String,
        input: String,
    },
    /// Typing a date range for the Bounces tab (`T`).
    BounceDates {
        input: String,
    },
    ConfirmQuit,
    /// `a` on one Suggestions row whose address was verified undeliverable: y accepts it.
    ConfirmAcceptDead {
        prospect_id: i64,
        email: String,
        verdict: String,
    },
    /// `e` on Suggestions typed an address at a domain known to take no mail: y sets it.
    ConfirmSetNoMail {
        prospect_id: i64,
        email: String,
        why: String,
    },
    /// `D` on Outbox: suppressing an address is permanent from the TUI, so it asks first.
    ConfirmSuppress {
        email: String,
    },
    /// `R` on Settings: resuming undoes pauses made by hand too, and `R` reloads on the
    /// other tabs, so it asks first, naming each paused mailbox and why.
    ConfirmResume,
    /// `S` on Outbox: what a send would do now; y/Enter starts it.
    ConfirmSend(Box<crate::engine::send::SendPlan>),
    /// `u` on an UNCERTAIN Outbox row: the user decides whether it went out.
    ResolveUncertain {
        id: i64,
        email: String,
    },
    /// `u` on a soft-bounced Outbox row: send it again (READY, to approve again)?
    ResendBounced {
        id: i64,
        email: String,
        /// The row's reason: `soft: mailboxfull 4.2.2`.
        reason: String,
    },
    /// The resend was refused because the row's messages soft-bounced the same way twice:
    /// `f` sends it once more anyway (as `outbox resend --force`).
    ConfirmForceResend {
        id: i64,
        /// Why it was refused (a [`ResendRefusal::RepeatedSoftBounce`]).
        refusal: crate::store::sending::ResendRefusal,
    },
}

impl Mode {
    /// The user is typing or answering a question: a result arriving late must not replace
    /// this mode (a read-only popup may be replaced).
    pub fn takes_input(&self) -> bool {
        !matches!(
            self,
            Mode::Normal | Mode::Help { .. } | Mode::Detail { .. } | Mode::Text { .. }
        )
    }
}

/// Work for the event loop.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Import {
        kind: ImportKind,
        path: PathBuf,
    },
    Load(Pane),
    Cancel(JobId),
    TogglePause(JobId),
    EditConfig,
    BuildOutbox,
    /// Verify the database's addresses as a background task: every prospect's, or those of
    /// the rows marked on Suggestions.
    Verify(crate::store::verifications::Scope),
    Approve {
        ids: Vec<i64>,
        approve: bool,
    },
    Skip {
        ids: Vec<i64>,
        skip: bool,
    },
    Suppress {
        email: String,
    },
    EditRow(i64),
    Preview(i64),
    /// Run the find engine as a background task (one company, or all).
    Find {
        company: Option<String>,
        refresh: bool,
    },
    Suggestion {
        prospect_id: i64,
        op: SuggestionOp,
    },
    /// `a` with rows marked on Suggestions: accept each one's suggested address (those
    /// verified undeliverable are skipped and named).
    AcceptSuggestions(Vec<i64>),
    /// `u` on Suggestions: accepted or edited rows back to suggested.
    ResetSuggestions(Vec<i64>),
    /// Read the mailboxes' watched folders once (bounces, replies) as a background task.
    SyncInbox,
    /// Keep watching them (IDLE or polling) until the task is cancelled.
    WatchInbox,
    /// Ask the engine what a send would do now (for the confirmation popup).
    PlanSend,
    /// Read each mailbox's day (sent today, today's cap, window) for the Settings tab.
    LoadCapacity,
    /// Run the send as a background task (after the confirmation).
    Send,
    /// UNCERTAIN row: `sent` marks it SENT, else it goes back to READY (unapproved).
    ResolveUncertain {
        id: i64,
        sent: bool,
    },
    /// A soft-bounced row back to READY (`outbox resend`; `force` as `--force`).
    ResendBounced {
        id: i64,
        force: bool,
    },
    /// Show the replies read for an Outbox row.
    Replies(i64),
    /// Settings tab: SMTP login, IMAP login and Sent folder of every mailbox, as a task.
    TestMailboxes,
    /// Settings tab: resume every paused mailbox.
    ResumeMailboxes,
    /// Settings tab, `p`: pause one mailbox by hand (`pause`), or resume it.
    SetMailboxPause {
        name: String,
        pause: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub text: String,
    pub error: bool,
    /// Ticks left before it disappears.
    pub ttl: u32,
    /// About the input of the dialog open when it was shown (a date range that does not
    /// parse): it goes when the dialog closes.
    pub dialog: bool,
    /// The Activity log holds the whole text (an error, a task's outcome): a cut status line
    /// points there.
    pub logged: bool,
    /// A task's outcome: it arrives while the user works on a tab, so it keeps to one line
    /// (cut) instead of pushing the tab up; Activity holds it whole.
    pub task_result: bool,
}

pub struct App {
    pub tab: Tab,
    pub prospects: TableView,
    pub messages: TableView,
    pub show_messages: bool,
    pub suggestions: TableView,
    /// Every suggestion row, before the minimum-confidence filter (`+`).
    pub suggestion_rows: Vec<TableRow>,
    pub min_confidence: i64,
    pub outbox: TableView,
    /// The campaign summary line above the Outbox table (None until loaded).
    pub outbox_summary: Option<crate::engine::notify::summary::Campaign>,
    pub bounces: TableView,
    /// The Bounces tab's rows, filters, chart and rates.
    pub bounce_pane: super::bounces::BouncesPane,
    pub activity: Activity,
    pub settings: Settings,
    pub mode: Mode,
    pub keymap: Keymap,
    pub toast: Option<Toast>,
    pub quit: bool,
    pub dirty: bool,
    /// Rows in the table viewport, set by the last render (for paging).
    pub page_height: usize,
    /// Directory the import prompt completes relative paths in.
    pub cwd: PathBuf,
    pub color: bool,
    /// The live figures of the last send run (Activity tab).
    pub send_live: Option<super::sending::SendLive>,
    effects: Vec<Effect>,
}

pub const TICK: Duration = Duration::from_millis(250);
/// How long a first-step hint stays on the status line: a minute.
const HINT_TICKS: u32 = 240;

impl App {
    pub fn new(settings: Settings, cwd: PathBuf, color: bool) -> App {
        App {
            tab: Tab::Prospects,
            prospects: TableView::new(
                PROSPECT_COLUMNS.to_vec(),
                "No prospects yet: press i to import a CSV/XLSX/ODS file (or run `hailer import prospects FILE`).",
            ),
            messages: TableView::new(
                MESSAGE_COLUMNS.to_vec(),
                "No messages yet: press i to import a file with company, subject and body columns.",
            ),
            show_messages: false,
            suggestion_rows: Vec::new(),
            min_confidence: 0,
            suggestions: TableView::new(
                SUGGESTION_COLUMNS.to_vec(),
                "No suggestions yet: press f to find emails (or run `hailer find`).",
            ),
            outbox: TableView::new(
                OUTBOX_COLUMNS.to_vec(),
                "The outbox is empty: press b to build it from prospects with an address and a message for their company.",
            ),
            outbox_summary: None,
            bounces: TableView::new(
                super::bounces::COLUMNS.to_vec(),
                "No bounces: press s to read the mailboxes' IMAP folders (or run `hailer bounces sync`).",
            ),
            bounce_pane: Default::default(),
            activity: Activity::default(),
            settings,
            mode: Mode::Normal,
            keymap: Keymap::new(),
            toast: None,
            quit: false,
            dirty: true,
            page_height: 20,
            cwd,
            color,
            send_live: None,
            effects: Vec::new(),
        }
    }

    /// Bounces arrive with their chart and rates; filters are kept across reloads.
    pub fn on_bounces_loaded(&mut self, data: super::bounces::BouncesData) {
        self.settings.paused = data.paused.clone();
        self.bounce_pane.data = data;
        self.bounce_pane.apply(&mut self.bounces);
        self.dirty = true;
    }

    /// The paused mailboxes as the poll read them (a pause or resume from a shell, or by
    /// another process): Settings and the Bounces rates show them.
    pub fn on_pauses(&mut self, paused: Vec<crate::store::pauses::Pause>) {
        if self.settings.paused != paused {
            self.settings.paused = paused.clone();
            self.bounce_pane.data.paused = paused;
            self.dirty = true;
        }
    }

    pub fn push_effect(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// A message on the status line for a few seconds; an error also goes to the Activity
    /// log, where it can still be read after it left the status line.
    pub fn toast(&mut self, text: impl Into<String>, error: bool) {
        let text = text.into();
        if error {
            self.activity.push_log(LogLine {
                task: None,
                level: Level::Error,
                text: text.clone(),
            });
        }
        self.show_toast(text, error, error);
    }

    /// A first-step hint: on the status line for a minute (or until another message) and on
    /// the Activity log for good.
    pub fn hint(&mut self, text: impl Into<String>) {
        let text = text.into();
        self.activity.push_log(LogLine {
            task: None,
            level: Level::Info,
            text: text.clone(),
        });
        self.show_toast(text, false, true);
        if let Some(t) = &mut self.toast {
            t.ttl = HINT_TICKS;
        }
    }

    /// The status line only: `logged` when the message is in the Activity log already (a
    /// task's outcome).
    fn show_toast(&mut self, text: String, error: bool, logged: bool) {
        self.toast = Some(Toast {
            text,
            error,
            ttl: if error { 32 } else { 16 },
            dialog: false,
            logged,
            task_result: false,
        });
    }

    /// Switch to `tab`; Settings reads each mailbox's day afresh (counters move with every
    /// send, from this process or another).
    fn show_tab(&mut self, tab: Tab) {
        if tab == Tab::Settings && self.tab != Tab::Settings && !self.settings.mailboxes.is_empty()
        {
            self.effects.push(Effect::LoadCapacity);
        }
        self.tab = tab;
    }

    /// An error about what is typed in the open dialog: shown until the dialog closes, not
    /// logged (a typo is no event).
    fn dialog_error(&mut self, text: String) {
        self.show_toast(text, true, false);
        if let Some(t) = &mut self.toast {
            t.dialog = true;
        }
    }

    /// The dialog closed: its input error has nothing left to refer to.
    fn close_dialog(&mut self) {
        self.mode = Mode::Normal;
        if self.toast.as_ref().is_some_and(|t| t.dialog) {
            self.toast = None;
        }
    }

    /// The data table of the current tab.
    pub fn table_mut(&mut self) -> Option<&mut TableView> {
        match self.tab {
            Tab::Prospects if self.show_messages => Some(&mut self.messages),
            Tab::Prospects => Some(&mut self.prospects),
            Tab::Suggestions => Some(&mut self.suggestions),
            Tab::Outbox => Some(&mut self.outbox),
            Tab::Bounces => Some(&mut self.bounces),
            Tab::Activity | Tab::Settings => None,
        }
    }

    pub fn table(&self) -> Option<&TableView> {
        match self.tab {
            Tab::Prospects if self.show_messages => Some(&self.messages),
            Tab::Prospects => Some(&self.prospects),
            Tab::Suggestions => Some(&self.suggestions),
            Tab::Outbox => Some(&self.outbox),
            Tab::Bounces => Some(&self.bounces),
            Tab::Activity | Tab::Settings => None,
        }
    }

    /// New tracking figures: the summary line, and each row's O/C/R cell patched in place.
    pub fn on_outbox_stats(&mut self, stats: &super::data::OutboxStats) {
        if self.outbox_summary.as_ref() != Some(&stats.campaign) {
            self.outbox_summary = Some(stats.campaign.clone());
            self.dirty = true;
        }
        let mut changed = false;
        for row in &mut self.outbox.rows {
            let status = row.cells.get(OUTBOX_STATUS).cloned().unwrap_or_default();
            let cell = super::data::counts_cell(&status, stats.per_row.get(&row.id));
            if row.cells.get(OUTBOX_COUNTS) != Some(&cell) && row.cells.len() > OUTBOX_COUNTS {
                row.folded[OUTBOX_COUNTS] = super::table::fold(&cell);
                row.cells[OUTBOX_COUNTS] = cell;
                changed = true;
            }
        }
        if changed {
            // Re-apply filter and sort (they may read the column); the selection is kept.
            self.outbox.refresh();
            self.dirty = true;
        }
    }

    pub fn on_loaded(&mut self, pane: Pane, rows: Vec<TableRow>) {
        match pane {
            Pane::Prospects => self.prospects.set_rows(rows),
            Pane::Messages => self.messages.set_rows(rows),
            Pane::Outbox => self.outbox.set_rows(rows),
            Pane::Bounces => self.bounces.set_rows(rows),
            Pane::Suggestions => {
                self.suggestion_rows = rows;
                self.apply_confidence_filter();
            }
        }
        self.dirty = true;
    }

    pub fn on_tick(&mut self) {
        self.send_tick();
        for t in &mut self.activity.tasks {
            if t.state == TaskState::Running {
                t.elapsed += TICK;
                t.eta_floor = t.eta_floor.map(|f| f.saturating_sub(TICK));
                self.dirty = true;
            }
        }
        if let Some(toast) = &mut self.toast {
            toast.ttl = toast.ttl.saturating_sub(1);
            if toast.ttl == 0 {
                self.toast = None;
            }
            self.dirty = true;
        }
    }

    pub fn on_job(&mut self, msg: JobMsg) {
        self.dirty = true;
        match msg {
            JobMsg::Started {
                id,
                kind,
                title,
                pausable,
            } => {
                self.activity.push_log(LogLine {
                    task: Some(id),
                    level: Level::Info,
                    text: format!("started: {title}"),
                });
                self.activity.tasks.push(TaskView {
                    id,
                    kind,
                    title,
                    state: TaskState::Running,
                    pausable,
                    done: 0,
                    total: None,
                    note: String::new(),
                    elapsed: Duration::ZERO,
                    eta_floor: None,
                    summary: None,
                    reloaded_at: 0,
                });
                // The new task is the one to watch; selecting it also scrolls the task list
                // to it when the list is longer than its box.
                self.activity.selected = self.activity.tasks.len() - 1;
            }
            JobMsg::Progress {
                id,
                done,
                total,
                note,
            } => {
                let mut reload = false;
                if let Some(t) = self.task_mut(id) {
                    t.done = done;
                    t.total = total;
                    if t.note != CANCELLING {
                        t.note = note;
                    }
                    // Verdicts are stored as they come: show them while the run goes on (it
                    // may wait minutes for a retry), in about twenty reloads per run.
                    let step = total.map_or(50, |t| (t / 20).max(1));
                    if t.kind == JobKind::Verify && done >= t.reloaded_at + step {
                        t.reloaded_at = done;
                        reload = true;
                    }
                }
                if reload {
                    self.effects.push(Effect::Load(Pane::Suggestions));
                    self.effects.push(Effect::Load(Pane::Prospects));
                }
            }
            JobMsg::Paused { id, paused } => {
                if let Some(t) = self.task_mut(id)
                    && t.state.is_active()
                {
                    t.state = if paused {
                        TaskState::Paused
                    } else {
                        TaskState::Running
                    };
                }
            }
            JobMsg::EtaFloor { id, left } => {
                if let Some(t) = self.task_mut(id) {
                    t.eta_floor = left;
                }
            }
            JobMsg::SendStatus { id, status } => self.on_send_status(id, *status),
            JobMsg::Log { id, level, text } => self.activity.push_log(LogLine {
                task: Some(id),
                level,
                text,
            }),
            JobMsg::Finished {
                id,
                outcome,
                cancelled,
            } => {
                use crate::engine::jobs::Outcome;
                let (state, text, error) = match (outcome, cancelled) {
                    // What a cancelled job did before it stopped (a send's counts) is kept.
                    (Outcome::Done(s) | Outcome::DoneWithErrors(s), true)
                        if !s.trim().is_empty() =>
                    {
                        (TaskState::Cancelled, s.trim_end().to_string(), false)
                    }
                    (_, true) => (TaskState::Cancelled, "cancelled".to_string(), false),
                    (Outcome::Done(s), false) => (TaskState::Done, s, false),
                    (Outcome::DoneWithErrors(s), false) => (TaskState::DoneWithErrors, s, true),
                    (Outcome::Failed(e), false) => (TaskState::Failed, e, true),
                };
                // The count stays what the job last reported: a send stopped by the daily
                // caps is done at 9 of 26, not 100% (the last figure always gets through).
                let kind = self.task_mut(id).map(|t| {
                    t.state = state;
                    t.summary = Some(text.clone());
                    (t.kind, t.title.clone())
                });
                // The one log line for the outcome: the toast below is not logged again.
                self.activity.push_log(LogLine {
                    task: Some(id),
                    level: match state {
                        TaskState::Failed => Level::Error,
                        TaskState::DoneWithErrors => Level::Warn,
                        _ => Level::Info,
                    },
                    text: outcome_text(state, ": ", &text),
                });
                if let Some((kind, title)) = kind {
                    self.show_toast(
                        format!("{title}: {}", outcome_text(state, " — ", &text)),
                        error,
                        true,
                    );
                    if let Some(t) = &mut self.toast {
                        t.task_result = true;
                    }
                    if kind == JobKind::Import && state == TaskState::Done {
                        self.effects.push(Effect::Load(Pane::Prospects));
                        self.effects.push(Effect::Load(Pane::Messages));
                    }
                    if kind == JobKind::Verify {
                        // Verdicts show on Prospects and Suggestions; the Outbox shows them
                        // once rebuilt (b), which the toast reminds of.
                        self.effects.push(Effect::Load(Pane::Prospects));
                        self.effects.push(Effect::Load(Pane::Suggestions));
                        self.effects.push(Effect::Load(Pane::Outbox));
                    }
                    if kind == JobKind::Outbox || kind == JobKind::Send {
                        self.effects.push(Effect::Load(Pane::Outbox));
                    }
                    if kind == JobKind::Send {
                        // A run may have paused a mailbox: Settings and Bounces show it.
                        self.effects.push(Effect::Load(Pane::Bounces));
                        if !self.settings.mailboxes.is_empty() {
                            self.effects.push(Effect::LoadCapacity);
                        }
                    }
                    if kind == JobKind::Watch {
                        self.effects.push(Effect::Load(Pane::Bounces));
                        self.effects.push(Effect::Load(Pane::Outbox));
                    }
                    if kind == JobKind::MailboxTest {
                        self.settings.checking = false;
                    }
                    if kind == JobKind::Find {
                        // Cancelled runs keep what they finished: show it too.
                        self.effects.push(Effect::Load(Pane::Suggestions));
                        self.effects.push(Effect::Load(Pane::Prospects));
                    }
                }
            }
        }
    }

    fn task_mut(&mut self, id: JobId) -> Option<&mut TaskView> {
        self.activity.tasks.iter_mut().find(|t| t.id == id)
    }

    pub fn on_key(&mut self, key: KeyEvent) {
        self.dirty = true;
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return;
        }
        // No key is bound with Alt; a terminal reports Esc and the key typed right after it
        // (in one read, as over SSH) as Alt+key. Taken as the two keys they were, so Esc
        // closes the filter instead of its next key being typed into it.
        if key.modifiers.contains(KeyModifiers::ALT) {
            let mut plain = key;
            plain.modifiers.remove(KeyModifiers::ALT);
            self.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
            self.on_key(plain);
            return;
        }
        match self.mode.clone() {
            Mode::Normal => {
                if let Some(action) = self.keymap.on_key(&key, self.tab) {
                    self.apply(action);
                }
            }
            Mode::Filter => self.on_filter_key(key),
            Mode::Prompt(prompt) => self.on_prompt_key(key, prompt),
            Mode::Text {
                title,
                text,
                scroll,
            } => {
                self.mode = popup_scroll(key, scroll).map_or(Mode::Normal, |scroll| Mode::Text {
                    title,
                    text,
                    scroll,
                });
            }
            Mode::EditEmail {
                prospect_id,
                who,
                mut input,
            } => match key.code {
                KeyCode::Esc => self.close_dialog(),
                KeyCode::Enter => {
                    // Stored as read ("Jane <jane@acme.test>" is jane@acme.test).
                    if let Some(address) =
                        crate::engine::import::normalize::normalize_email(input.trim())
                    {
                        self.close_dialog();
                        self.effects.push(Effect::Suggestion {
                            prospect_id,
                            op: SuggestionOp::Set {
                                email: address,
                                force: false,
                            },
                        });
                    } else {
                        // The box stays open with the text to fix: closed, the next keys
                        // would act on the table (an `e` there opens a fresh box).
                        self.dialog_error(format!("{:?} is not an email address", input.trim()));
                        self.mode = Mode::EditEmail {
                            prospect_id,
                            who,
                            input,
                        };
                    }
                }
                // Only Esc and Enter close the box; any other key stays in it.
                _ => {
                    edit_line(&mut input, &key);
                    self.mode = Mode::EditEmail {
                        prospect_id,
                        who,
                        input,
                    };
                }
            },
            Mode::BounceDates { mut input } => match key.code {
                KeyCode::Esc => self.close_dialog(),
                KeyCode::Enter => match self.bounce_pane.set_custom(&input, &mut self.bounces) {
                    Ok(()) => self.close_dialog(),
                    Err(e) => {
                        self.dialog_error(e);
                        self.mode = Mode::BounceDates { input };
                    }
                },
                _ => {
                    edit_line(&mut input, &key);
                    self.mode = Mode::BounceDates { input };
                }
            },
            Mode::Help { scroll } => {
                self.mode =
                    popup_scroll(key, scroll).map_or(Mode::Normal, |scroll| Mode::Help { scroll });
            }
            Mode::Detail { scroll } => {
                self.mode = popup_scroll(key, scroll)
                    .map_or(Mode::Normal, |scroll| Mode::Detail { scroll });
            }
            Mode::ConfirmSend(plan) => self.on_confirm_send_key(key, &plan),
            Mode::ResolveUncertain { id, .. } => self.on_uncertain_key(key, id),
            Mode::ResendBounced { id, .. } => {
                self.mode = Mode::Normal;
                if matches!(key.code, KeyCode::Char('r' | 'R' | 'y' | 'Y')) {
                    self.push_effect(Effect::ResendBounced { id, force: false });
                } else {
                    self.toast("left BOUNCED", false);
                }
            }
            Mode::ConfirmForceResend { id, .. } => {
                self.mode = Mode::Normal;
                if matches!(key.code, KeyCode::Char('f' | 'F')) {
                    self.push_effect(Effect::ResendBounced { id, force: true });
                } else {
                    self.toast("left BOUNCED", false);
                }
            }
            Mode::ConfirmResume => {
                self.mode = Mode::Normal;
                if matches!(key.code, KeyCode::Char('y' | 'Y')) {
                    self.effects.push(Effect::ResumeMailboxes);
                } else {
                    self.toast("nothing resumed", false);
                }
            }
            Mode::ConfirmAcceptDead { prospect_id, .. } => {
                self.mode = Mode::Normal;
                if matches!(key.code, KeyCode::Char('y' | 'Y')) {
                    self.effects.push(Effect::Suggestion {
                        prospect_id,
                        op: SuggestionOp::Accept { force: true },
                    });
                } else {
                    self.toast("not accepted", false);
                }
            }
            Mode::ConfirmSetNoMail {
                prospect_id, email, ..
            } => {
                self.mode = Mode::Normal;
                if matches!(key.code, KeyCode::Char('y' | 'Y')) {
                    self.effects.push(Effect::Suggestion {
                        prospect_id,
                        op: SuggestionOp::Set { email, force: true },
                    });
                } else {
                    self.toast("address not set", false);
                }
            }
            Mode::ConfirmSuppress { email } => {
                self.mode = Mode::Normal;
                if matches!(key.code, KeyCode::Char('y' | 'Y')) {
                    self.effects.push(Effect::Suppress { email });
                } else {
                    self.toast("not suppressed", false);
                }
            }
            Mode::ConfirmQuit => match key.code {
                KeyCode::Char('y' | 'Y' | 'q') => self.quit = true,
                _ => {
                    self.mode = Mode::Normal;
                    self.toast("quit cancelled", false);
                }
            },
        }
    }

    fn on_filter_key(&mut self, key: KeyEvent) {
        let Some(table) = self.table_mut() else {
            self.mode = Mode::Normal;
            return;
        };
        let mut filter = table.filter.clone();
        match key.code {
            KeyCode::Esc => {
                table.set_filter("");
                self.mode = Mode::Normal;
                return;
            }
            KeyCode::Enter => {
                self.mode = Mode::Normal;
                return;
            }
            _ => {
                if !edit_line(&mut filter, &key) {
                    return;
                }
            }
        }
        table.set_filter(&filter);
    }

    fn on_prompt_key(&mut self, key: KeyEvent, mut prompt: Prompt) {
        match key.code {
            KeyCode::Esc => {
                self.mode = Mode::Normal;
                return;
            }
            KeyCode::Enter => {
                let path = expand_path(&prompt.input, &self.cwd);
                self.mode = Mode::Normal;
                if prompt.input.trim().is_empty() {
                    return;
                }
                self.effects.push(Effect::Import {
                    kind: prompt.kind,
                    path,
                });
                return;
            }
            KeyCode::Tab => {
                let (completed, candidates) = complete_path(&prompt.input, &self.cwd);
                prompt.input = completed;
                prompt.candidates = candidates;
            }
            _ => {
                if edit_line(&mut prompt.input, &key) {
                    prompt.candidates.clear();
                }
            }
        }
        self.mode = Mode::Prompt(prompt);
    }

    pub fn apply(&mut self, action: Action) {
        let page = self.page_height.max(1) as isize;
        match action {
            Action::Quit => {
                if self.activity.running().next().is_some() {
                    self.mode = Mode::ConfirmQuit;
                } else {
                    self.quit = true;
                }
            }
            Action::ForceQuit => self.quit = true,
            Action::NextTab => {
                self.show_tab(Tab::ALL[(self.tab.index() + 1) % Tab::ALL.len()]);
            }
            Action::PrevTab => {
                self.show_tab(Tab::ALL[(self.tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]);
            }
            Action::GoTab(i) => self.show_tab(Tab::ALL[i.min(Tab::ALL.len() - 1)]),
            Action::Help => self.mode = Mode::Help { scroll: 0 },
            Action::Back => {
                // Every filter: the search, the Outbox status (`t`), which otherwise took a
                // full cycle of `t` to undo, and those applied at load (Suggestions `+`,
                // Bounces dates, domain and reason).
                if let Some(t) = self.table_mut() {
                    t.set_filter("");
                    if t.column_filter.is_some() {
                        t.set_column_filter(None);
                    }
                }
                match self.tab {
                    Tab::Suggestions if self.min_confidence != 0 => {
                        self.min_confidence = 0;
                        self.apply_confidence_filter();
                    }
                    Tab::Bounces => self.bounce_pane.clear_filters(&mut self.bounces),
                    _ => {}
                }
            }
            Action::Down | Action::Up | Action::PageDown | Action::PageUp => {
                let delta = match action {
                    Action::Down => 1,
                    Action::Up => -1,
                    Action::PageDown => page,
                    _ => -page,
                };
                match self.tab {
                    Tab::Activity => self.activity_move(action, delta),
                    Tab::Settings => {
                        self.settings.scroll = self.settings.scroll.saturating_add_signed(delta)
                    }
                    _ => {
                        if let Some(t) = self.table_mut() {
                            t.move_by(delta);
                        }
                    }
                }
            }
            Action::HalfDown | Action::HalfUp => {
                let delta = if action == Action::HalfDown {
                    page / 2
                } else {
                    -page / 2
                };
                let delta = delta.signum() * delta.abs().max(1);
                if self.tab == Tab::Settings {
                    self.settings.scroll = self.settings.scroll.saturating_add_signed(delta);
                } else if let Some(t) = self.table_mut() {
                    t.move_by(delta);
                }
            }
            Action::Top => {
                if self.tab == Tab::Settings {
                    self.settings.scroll = 0;
                } else if let Some(t) = self.table_mut() {
                    t.top();
                }
            }
            Action::Bottom => match self.tab {
                Tab::Activity => self.activity.log_back = 0,
                // The render clamps it to the last screenful.
                Tab::Settings => self.settings.scroll = usize::MAX,
                _ => {
                    if let Some(t) = self.table_mut() {
                        t.bottom();
                    }
                }
            },
            Action::Mark => {
                if let Some(t) = self.table_mut() {
                    t.toggle_mark();
                    t.move_by(1);
                }
            }
            Action::MarkAll => {
                if let Some(t) = self.table_mut() {
                    t.mark_all_filtered();
                }
            }
            Action::CycleSort => {
                if let Some(t) = self.table_mut() {
                    t.cycle_sort();
                }
            }
            Action::ReverseSort => {
                if let Some(t) = self.table_mut() {
                    t.reverse_sort();
                }
            }
            Action::Filter => {
                if self.table().is_some() {
                    self.mode = Mode::Filter;
                }
            }
            Action::Detail if self.tab == Tab::Outbox => {
                if let Some(row) = self.outbox.selected_row() {
                    self.effects.push(Effect::Preview(row.id));
                }
            }
            Action::Detail if self.tab == Tab::Activity => {
                if let Some(text) = self.activity.task_report() {
                    self.show_text(text.0, text.1);
                }
            }
            Action::Detail => {
                if self.table().and_then(|t| t.selected_row()).is_some() {
                    self.mode = Mode::Detail { scroll: 0 };
                }
            }
            Action::CancelTask => match self.activity.tasks.get_mut(self.activity.selected) {
                Some(t) if t.state.is_active() => {
                    // A task stops at its next check (an import at its next batch): say so
                    // until it does.
                    t.note = CANCELLING.into();
                    self.effects.push(Effect::Cancel(t.id));
                }
                Some(_) => self.toast("that task is not running", false),
                None => {}
            },
            Action::PauseTask => match self.activity.selected_task() {
                Some(t) if t.state.is_active() && t.pausable => {
                    self.effects.push(Effect::TogglePause(t.id))
                }
                Some(t) if t.state.is_active() => {
                    self.toast(format!("a {} task cannot pause", t.kind.name()), false)
                }
                Some(_) => self.toast("that task is not running", false),
                None => {}
            },
            Action::Import => {
                let kind = if self.show_messages {
                    ImportKind::Messages
                } else {
                    ImportKind::Prospects
                };
                self.mode = Mode::Prompt(Prompt {
                    kind,
                    input: String::new(),
                    candidates: Vec::new(),
                });
            }
            Action::ToggleMessages => self.show_messages = !self.show_messages,
            Action::EditConfig => self.effects.push(Effect::EditConfig),
            Action::Reload => {
                self.effects.push(Effect::Load(Pane::Prospects));
                self.effects.push(Effect::Load(Pane::Messages));
                self.effects.push(Effect::Load(Pane::Suggestions));
                self.effects.push(Effect::Load(Pane::Outbox));
                self.effects.push(Effect::Load(Pane::Bounces));
            }
            Action::SyncInbox => {
                if self.activity.running().any(|t| t.kind == JobKind::Watch) {
                    self.toast("the mailboxes are already being read (see Activity)", false);
                } else {
                    self.effects.push(Effect::SyncInbox);
                }
            }
            Action::WatchInbox => {
                let watcher = self
                    .activity
                    .running()
                    .find(|t| t.kind == JobKind::Watch && t.title == WATCH_TITLE)
                    .map(|t| t.id);
                if let Some(id) = watcher {
                    self.effects.push(Effect::Cancel(id));
                    self.toast("stopping the mailbox watcher", false);
                } else if self.activity.running().any(|t| t.kind == JobKind::Watch) {
                    self.toast("a mailbox sync is running: w again when it ends", false);
                } else {
                    self.effects.push(Effect::WatchInbox);
                }
            }
            Action::BounceDates => self.bounce_pane.cycle_range(&mut self.bounces),
            Action::BounceDateRange => {
                self.mode = Mode::BounceDates {
                    input: self
                        .bounce_pane
                        .custom
                        .map_or(String::new(), |_| self.bounce_pane.custom_text.clone()),
                }
            }
            Action::BounceDomain => self.bounce_pane.toggle_domain(&mut self.bounces),
            Action::BounceReason => self.bounce_pane.toggle_reason(&mut self.bounces),
            Action::BuildOutbox => self.effects.push(Effect::BuildOutbox),
            Action::Verify => {
                if self.activity.running().any(|t| t.kind == JobKind::Verify) {
                    self.toast("a verification is already running (see Activity)", false);
                } else {
                    // Marked rows on Suggestions: just those prospects (after `e` on one row,
                    // space then V checks it without the whole database).
                    let marked = if self.tab == Tab::Suggestions {
                        self.suggestions.marked_targets()
                    } else {
                        Vec::new()
                    };
                    if !marked.is_empty() {
                        self.suggestions.marked.retain(|id| !marked.contains(id));
                    }
                    self.effects
                        .push(Effect::Verify(crate::store::verifications::Scope {
                            ids: marked,
                            ..Default::default()
                        }));
                }
            }
            Action::Approve => {
                let ids = self.outbox.targets();
                // Only READY rows can be approved: other rows marked alongside them must not
                // turn `a` into "approve" forever.
                let ready: Vec<&TableRow> = self
                    .outbox_rows(&ids)
                    .filter(|r| cell(r, OUTBOX_STATUS) == "READY")
                    .collect();
                // A RETRY row goes out whatever its approval: `a` on it withdraws it (READY,
                // unapproved, attempts kept).
                let retry = self
                    .outbox_rows(&ids)
                    .any(|r| cell(r, OUTBOX_STATUS) == "RETRY");
                if ready.is_empty() && retry {
                    self.effects.push(Effect::Approve {
                        ids,
                        approve: false,
                    });
                } else if ready.is_empty() {
                    if !ids.is_empty() {
                        self.toast("only READY rows can be approved", false);
                    }
                } else {
                    let all_approved = ready.iter().all(|r| cell(r, OUTBOX_APPROVED) == "✓");
                    self.effects.push(Effect::Approve {
                        ids,
                        approve: !all_approved,
                    });
                }
            }
            Action::Skip => {
                let ids = self.outbox.targets();
                let all_skipped = self
                    .outbox_rows(&ids)
                    .all(|r| cell(r, OUTBOX_STATUS) == "SKIPPED");
                if !ids.is_empty() {
                    self.effects.push(Effect::Skip {
                        ids,
                        skip: !all_skipped,
                    });
                }
            }
            Action::Suppress => {
                if let Some(email) = self
                    .outbox
                    .selected_row()
                    .map(|r| r.cells[OUTBOX_EMAIL].clone())
                    .filter(|e| !e.is_empty())
                {
                    self.mode = Mode::ConfirmSuppress { email };
                } else {
                    self.toast("this row has no address", false);
                }
            }
            Action::EditRow => {
                if let Some(row) = self.outbox.selected_row() {
                    self.effects.push(Effect::EditRow(row.id));
                }
            }
            Action::ReadReplies => {
                if let Some(row) = self.outbox.selected_row() {
                    self.effects.push(Effect::Replies(row.id));
                }
            }
            Action::CycleStatus => {
                use crate::store::outbox::Status;
                let next = match &self.outbox.column_filter {
                    None => Some(Status::ALL[0]),
                    Some((_, current)) => Status::ALL
                        .iter()
                        .position(|s| s.as_str() == current)
                        .and_then(|i| Status::ALL.get(i + 1))
                        .copied(),
                };
                self.outbox
                    .set_column_filter(next.map(|s| (OUTBOX_STATUS, s.as_str().to_string())));
            }
            Action::RunFind => {
                if self.activity.running().any(|t| t.kind == JobKind::Find) {
                    self.toast("find is already running (see Activity)", false);
                } else {
                    self.effects.push(Effect::Find {
                        company: None,
                        refresh: false,
                    });
                }
            }
            Action::ConfidenceFilter | Action::ConfidenceFilterDown => {
                const STEPS: [i64; 4] = [0, 40, 70, 90];
                let at = STEPS
                    .iter()
                    .position(|s| *s == self.min_confidence)
                    .unwrap_or(0);
                let next = if action == Action::ConfidenceFilter {
                    (at + 1) % STEPS.len()
                } else {
                    (at + STEPS.len() - 1) % STEPS.len()
                };
                self.min_confidence = STEPS[next];
                self.apply_confidence_filter();
                let n = self.suggestions.rows.len();
                self.toast(
                    if self.min_confidence == 0 {
                        format!("all suggestions ({n})")
                    } else {
                        format!("confidence ≥ {}: {n} rows", self.min_confidence)
                    },
                    false,
                );
            }
            Action::Send
            | Action::ResolveUncertain
            | Action::TestMailboxes
            | Action::ResumeMailboxes
            | Action::SelectMailbox
            | Action::ToggleMailboxPause => self.on_send_action(action),
            Action::Accept
            | Action::NextAlternative
            | Action::EditAddress
            | Action::ResetSuggestion
            | Action::RerunCompany => self.on_suggestion_action(action),
        }
    }

    fn apply_confidence_filter(&mut self) {
        let min = self.min_confidence;
        let rows = self
            .suggestion_rows
            .iter()
            .filter(|r| {
                min == 0
                    || r.cells
                        .get(4)
                        .and_then(|c| c.split_whitespace().next())
                        .and_then(|n| n.parse::<i64>().ok())
                        .is_some_and(|c| c >= min)
            })
            .cloned()
            .collect();
        self.suggestions.set_rows(rows);
        self.suggestions.all_rows = Some(self.suggestion_rows.len());
    }

    fn on_suggestion_action(&mut self, action: Action) {
        if action == Action::Accept && !self.suggestions.marked.is_empty() {
            let ids = self.suggestions.targets();
            if !ids.is_empty() {
                // Acted on: unmarked, so a mark left over (hidden later by `+`) never rides
                // along with the next bulk key.
                self.suggestions.marked.retain(|id| !ids.contains(id));
                self.effects.push(Effect::AcceptSuggestions(ids));
                return;
            }
        }
        if action == Action::ResetSuggestion {
            let ids = self.suggestions.targets();
            if !ids.is_empty() {
                self.suggestions.marked.retain(|id| !ids.contains(id));
                self.effects.push(Effect::ResetSuggestions(ids));
            }
            return;
        }
        let Some(row) = self.suggestions.selected_row() else {
            return;
        };
        let prospect_id = row.id;
        let company_key = row.extra.as_deref().and_then(|e| {
            serde_json::from_str::<serde_json::Value>(e)
                .ok()?
                .get("company key")?
                .as_str()
                .map(str::to_string)
        });
        let suggested = row.cells.get(3).cloned().unwrap_or_default();
        let verdict = row
            .cells
            .get(7)
            .filter(|v| crate::store::suggestions::undeliverable_verdict(v))
            .cloned();
        let accepted = row_is_accepted(row);
        let imported = extra_field(row, IMPORTED_ADDRESS);
        let who = row
            .cells
            .iter()
            .take(2)
            .filter(|c| !c.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(" · ");
        match action {
            Action::Accept if suggested.is_empty() => self.toast("no address to accept", false),
            Action::Accept => match verdict {
                Some(verdict) if !accepted => {
                    self.mode = Mode::ConfirmAcceptDead {
                        prospect_id,
                        email: suggested,
                        verdict,
                    }
                }
                _ => self.effects.push(Effect::Suggestion {
                    prospect_id,
                    op: SuggestionOp::Accept { force: false },
                }),
            },
            Action::NextAlternative => self.effects.push(Effect::Suggestion {
                prospect_id,
                op: SuggestionOp::NextAlternative,
            }),
            Action::EditAddress => {
                // No suggestion yet: start from the address the import gave, if any.
                let input = if suggested.is_empty() {
                    imported.unwrap_or_default()
                } else {
                    suggested
                };
                self.mode = Mode::EditEmail {
                    prospect_id,
                    who,
                    input,
                }
            }
            Action::RerunCompany => self.effects.push(Effect::Find {
                company: company_key,
                refresh: true,
            }),
            _ => {}
        }
    }

    /// The loaded Outbox rows whose id is in `ids`, in one pass over the rows (a lookup per
    /// id was quadratic: 8 s of frozen screen for 100k marked rows).
    fn outbox_rows<'a>(&'a self, ids: &[i64]) -> impl Iterator<Item = &'a TableRow> + 'a {
        let wanted: std::collections::HashSet<i64> = ids.iter().copied().collect();
        self.outbox
            .rows
            .iter()
            .filter(move |r| wanted.contains(&r.id))
    }

    /// A question a background change asks (see `Mode::ConfirmSetNoMail`), unless the user is
    /// typing or answering something else by then.
    pub fn ask(&mut self, mode: Mode) {
        if self.mode.takes_input() {
            self.toast(
                "a change needs your answer: do it again to see the question",
                true,
            );
            return;
        }
        self.mode = mode;
        self.dirty = true;
    }

    /// Show a text popup (used for the outbox preview), unless the user is typing or answering
    /// something else by the time it arrives.
    /// `u`'s resend was refused. When forcing it would send it (two same-way soft bounces),
    /// ask whether to, unless the user moved on to typing or answering something else; any
    /// other refusal is an error toast.
    pub fn on_resend_refused(&mut self, refusal: crate::store::sending::ResendRefusal) {
        if !refusal.forcible() || self.mode.takes_input() {
            self.toast(refusal.to_string(), true);
            return;
        }
        self.mode = Mode::ConfirmForceResend {
            id: refusal.id(),
            refusal,
        };
        self.dirty = true;
    }

    pub fn show_text(&mut self, title: impl Into<String>, text: impl Into<String>) {
        let title = title.into();
        if self.mode.takes_input() {
            self.toast(format!("{title} is ready: ask again to see it"), false);
            return;
        }
        self.mode = Mode::Text {
            title,
            text: text.into(),
            scroll: 0,
        };
        self.dirty = true;
    }

    fn activity_move(&mut self, action: Action, delta: isize) {
        match action {
            Action::Down | Action::Up => {
                let last = self.activity.tasks.len().saturating_sub(1) as isize;
                self.activity.selected =
                    (self.activity.selected as isize + delta).clamp(0, last.max(0)) as usize;
            }
            _ => {
                // PageUp scrolls back (delta < 0), PageDown towards the end.
                let back = self.activity.log_back as isize - delta;
                self.activity.log_back = back.clamp(0, self.activity.log.len() as isize) as usize;
            }
        }
    }
}

/// A Suggestions row already used by the outbox build (accepted, or an address typed in).
/// The Suggestions record field holding the prospect's imported address.
pub const IMPORTED_ADDRESS: &str = "imported address";

/// A text field of a row's detail extras.
fn extra_field(row: &TableRow, key: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(row.extra.as_deref()?)
        .ok()?
        .get(key)?
        .as_str()
        .map(str::to_string)
}

fn row_is_accepted(row: &TableRow) -> bool {
    matches!(
        row.cells.get(6).map(String::as_str),
        Some("accepted" | "edited")
    )
}

/// A task's outcome as the log and the status line say it: its state, then its summary,
/// unless the summary already ends with the state ("2 SENT, 1 ERROR · cancelled").
fn outcome_text(state: TaskState, sep: &str, summary: &str) -> String {
    let label = state.label();
    if summary == label || summary.ends_with(&format!("· {label}")) {
        summary.to_string()
    } else {
        format!("{label}{sep}{summary}")
    }
}

/// Keys inside a scrolling popup (help, record, preview): the new scroll offset, or `None`
/// when the key closes the popup.
fn popup_scroll(key: KeyEvent, scroll: usize) -> Option<usize> {
    match key.code {
        KeyCode::Char('j') | KeyCode::Down => Some(scroll + 1),
        KeyCode::Char('k') | KeyCode::Up => Some(scroll.saturating_sub(1)),
        KeyCode::PageDown | KeyCode::Char(' ') => Some(scroll + 10),
        KeyCode::PageUp => Some(scroll.saturating_sub(10)),
        KeyCode::Char('g') | KeyCode::Home => Some(0),
        // The render clamps it to the last line.
        KeyCode::Char('G') | KeyCode::End => Some(usize::MAX / 2),
        _ => None,
    }
}

/// Backspace and typed characters edit a one-line input (filter, path, address, dates);
/// `true` when the key did.
/// One key in a one-line input (filter, path, address), with the shell's line keys:
/// Ctrl-U clears the line, Ctrl-W deletes the last word. Returns whether the text changed.
fn edit_line(input: &mut String, key: &KeyEvent) -> bool {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Backspace => {
            input.pop();
            true
        }
        KeyCode::Char('u') if ctrl => {
            input.clear();
            true
        }
        KeyCode::Char('w') if ctrl => {
            let kept = input.trim_end().len();
            input.truncate(kept);
            let cut = input
                .rfind(|c: char| c.is_whitespace() || c == '/')
                .map_or(0, |i| i + 1);
            input.truncate(cut);
            true
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            input.push(c);
            true
        }
        _ => false,
    }
}

/// `~/x` and relative paths against `cwd`.
pub fn expand_path(input: &str, cwd: &Path) -> PathBuf {
    let input = input.trim();
    if let Some(rest) = input.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return PathBuf::from(home).join(rest);
    }
    let p = PathBuf::from(input);
    if p.is_absolute() { p } else { cwd.join(p) }
}

/// Complete the last path component: a unique match is completed (directories get a `/`),
/// several matches complete to their common prefix and are returned as candidates.
pub fn complete_path(input: &str, cwd: &Path) -> (String, Vec<String>) {
    let (dir_part, prefix) = match input.rfind('/') {
        Some(i) => (&input[..=i], &input[i + 1..]),
        None => ("", input),
    };
    let dir = if dir_part.is_empty() {
        cwd.to_path_buf()
    } else {
        expand_path(dir_part, cwd)
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return (input.to_string(), Vec::new());
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with(prefix) || (name.starts_with('.') && !prefix.starts_with('.')) {
                return None;
            }
            let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
            Some(if is_dir { format!("{name}/") } else { name })
        })
        .collect();
    names.sort();
    match names.len() {
        0 => (input.to_string(), Vec::new()),
        1 => (format!("{dir_part}{}", names[0]), Vec::new()),
        _ => {
            let mut common = names[0].clone();
            for n in &names[1..] {
                let len = common
                    .chars()
                    .zip(n.chars())
                    .take_while(|(a, b)| a == b)
                    .count();
                common = common.chars().take(len).collect();
            }
            (format!("{dir_part}{common}"), names)
        }
    }
}

/// One cell of a loaded row, empty when the row has no such column.
fn cell(row: &TableRow, col: usize) -> &str {
    row.cells.get(col).map_or("", String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every Activity line also reaches the log file's subscriber, at its level, once.
    #[test]
    fn activity_lines_go_to_the_log_file_too() {
        #[derive(Clone, Default)]
        struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let mut a = app();
            a.toast("import p.csv failed: row 3: no company", true);
            a.activity.push_log(LogLine {
                task: Some(4),
                level: Level::Warn,
                text: "mailbox m: 421 try later".into(),
            });
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].contains("ERROR") && lines[0].contains("row 3: no company"),
            "{text}"
        );
        assert!(
            lines[1].contains("WARN") && lines[1].contains("task=Some(4)"),
            "{text}"
        );
    }

    fn app() -> App {
        App::new(Settings::default(), PathBuf::from("/"), false)
    }

    fn press(app: &mut App, code: KeyCode) {
        app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
    }

    #[test]
    fn a_date_range_error_lasts_as_long_as_its_dialog() {
        let mut a = app();
        a.apply(Action::BounceDateRange);
        for c in "2026-13-01".chars() {
            press(&mut a, KeyCode::Char(c));
        }
        press(&mut a, KeyCode::Enter);
        assert!(
            matches!(a.mode, Mode::BounceDates { .. }),
            "kept open to fix"
        );
        assert!(a.toast.as_ref().is_some_and(|t| t.error && t.dialog));
        assert!(a.activity.log.is_empty(), "a typo is not logged");
        press(&mut a, KeyCode::Esc);
        assert_eq!(a.mode, Mode::Normal);
        assert!(a.toast.is_none(), "the error left with its dialog");
        // Any other message stays when a dialog closes.
        a.toast("sync done", false);
        a.apply(Action::BounceDateRange);
        press(&mut a, KeyCode::Esc);
        assert!(a.toast.is_some());
    }

    fn rows(n: i64) -> Vec<TableRow> {
        (1..=n)
            .map(|i| {
                TableRow::new(
                    i,
                    vec![
                        format!("First{i}"),
                        format!("Last{i}"),
                        "Acme".into(),
                        String::new(),
                        String::new(),
                        String::new(),
                    ],
                )
            })
            .collect()
    }

    #[test]
    fn tabs_switch_by_number_and_tab_keys() {
        let mut a = app();
        press(&mut a, KeyCode::Char('4'));
        assert_eq!(a.tab, Tab::Bounces);
        press(&mut a, KeyCode::Tab);
        assert_eq!(a.tab, Tab::Activity);
        press(&mut a, KeyCode::Tab);
        press(&mut a, KeyCode::Tab);
        assert_eq!(a.tab, Tab::Prospects);
        a.on_key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
        assert_eq!(a.tab, Tab::Settings);
    }

    /// Settings reads each mailbox's day when it is shown (counters move with every send),
    /// and only when there are mailboxes; staying on it reads nothing more.
    #[test]
    fn showing_settings_reads_the_mailboxes_day() {
        let mut a = app();
        a.take_effects();
        press(&mut a, KeyCode::Char('6'));
        assert_eq!(a.tab, Tab::Settings);
        assert!(
            !a.take_effects().contains(&Effect::LoadCapacity),
            "no mailbox"
        );
        press(&mut a, KeyCode::Char('1'));
        a.settings.mailboxes = vec!["sender".into()];
        press(&mut a, KeyCode::Char('6'));
        assert_eq!(a.take_effects(), vec![Effect::LoadCapacity]);
        press(&mut a, KeyCode::Char('6'));
        assert!(a.take_effects().is_empty());
    }

    #[test]
    fn filter_mode_types_into_the_filter_and_esc_clears() {
        let mut a = app();
        a.on_loaded(Pane::Prospects, rows(30));
        press(&mut a, KeyCode::Char('/'));
        assert_eq!(a.mode, Mode::Filter);
        for c in "first2".chars() {
            press(&mut a, KeyCode::Char(c));
        }
        // q is typed, not quit, while the filter has focus.
        assert!(!a.quit);
        assert_eq!(a.prospects.view.len(), 11); // First2, First20..29
        press(&mut a, KeyCode::Enter);
        assert_eq!(a.mode, Mode::Normal);
        assert_eq!(a.prospects.filter, "first2");
        press(&mut a, KeyCode::Esc);
        assert_eq!(a.prospects.filter, "");
        assert_eq!(a.prospects.view.len(), 30);
    }

    /// Esc then `4` typed quickly arrive as Alt+4: the filter closes (cleared, as Esc does)
    /// and the 4 switches tab, instead of "4" being typed into the filter.
    #[test]
    fn esc_and_a_key_read_together_are_two_keys() {
        let mut a = app();
        a.on_loaded(Pane::Prospects, rows(30));
        press(&mut a, KeyCode::Char('/'));
        press(&mut a, KeyCode::Char('x'));
        a.on_key(KeyEvent::new(KeyCode::Char('4'), KeyModifiers::ALT));
        assert_eq!(a.mode, Mode::Normal);
        assert_eq!(a.prospects.filter, "");
        assert_eq!(a.tab, Tab::Bounces);
    }

    #[test]
    fn paging_and_marking() {
        let mut a = app();
        a.page_height = 10;
        a.on_loaded(Pane::Outbox, rows(100));
        press(&mut a, KeyCode::Char('3'));
        press(&mut a, KeyCode::PageDown);
        assert_eq!(a.outbox.selected, 10);
        a.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert_eq!(a.outbox.selected, 5);
        press(&mut a, KeyCode::Char(' '));
        assert!(a.outbox.marked.contains(&6));
        assert_eq!(a.outbox.selected, 6, "space marks and moves on");
        press(&mut a, KeyCode::Char('G'));
        assert_eq!(a.outbox.selected, 99);
        press(&mut a, KeyCode::Char('v'));
        assert_eq!(a.outbox.marked.len(), 100);
    }

    /// A cancelled send still says what went out before it stopped.
    #[test]
    fn a_cancelled_task_keeps_its_summary() {
        let mut a = app();
        a.on_job(JobMsg::Started {
            id: 1,
            kind: JobKind::Send,
            title: "send".into(),
            pausable: true,
        });
        a.on_job(JobMsg::Finished {
            id: 1,
            outcome: crate::engine::jobs::Outcome::Done("3 SENT, 0 ERROR · cancelled".into()),
            cancelled: true,
        });
        let t = a.activity.selected_task().unwrap();
        assert_eq!(t.state, TaskState::Cancelled);
        // Said once: the summary already ends with "cancelled".
        assert_eq!(
            a.activity.log.back().unwrap().text,
            "3 SENT, 0 ERROR · cancelled"
        );
        assert_eq!(
            a.toast.as_ref().unwrap().text,
            "send: 3 SENT, 0 ERROR · cancelled"
        );
    }

    /// A send that stopped at the daily caps is done, but sent 9 of 26: the task list shows
    /// that count, as the send panel does, not 100% 26/26.
    #[test]
    fn a_task_done_short_of_its_total_keeps_its_true_count() {
        let mut a = app();
        a.on_job(JobMsg::Started {
            id: 1,
            kind: JobKind::Send,
            title: "send".into(),
            pausable: true,
        });
        a.on_job(JobMsg::Progress {
            id: 1,
            done: 9,
            total: Some(26),
            note: "daily caps reached".into(),
        });
        a.on_job(JobMsg::Finished {
            id: 1,
            outcome: crate::engine::jobs::Outcome::Done(
                "9 SENT, 0 ERROR · daily caps reached: the rest waits for tomorrow".into(),
            ),
            cancelled: false,
        });
        let t = a.activity.selected_task().unwrap();
        assert_eq!((t.state, t.done, t.total), (TaskState::Done, 9, Some(26)));
        a.tab = Tab::Activity;
        let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 24)).unwrap();
        term.draw(|f| super::super::ui::render(f, &mut a)).unwrap();
        let text = format!("{}", term.backend());
        assert!(text.contains("35% 9/26"), "{text}");
        assert!(!text.contains("100%"), "{text}");
    }

    /// Enter's report gives a share only to a task that counts toward a total: a watch or an
    /// outbox build has none, and "0%" would read as nothing done.
    #[test]
    fn the_task_report_has_no_share_without_a_total() {
        let mut a = app();
        for (id, total) in [(1, None), (2, Some(4))] {
            a.on_job(JobMsg::Started {
                id,
                kind: JobKind::Watch,
                title: format!("task {id}"),
                pausable: false,
            });
            a.on_job(JobMsg::Progress {
                id,
                done: 2,
                total,
                note: String::new(),
            });
        }
        let report = |a: &mut App, id| {
            a.activity.selected = a.activity.tasks.iter().position(|t| t.id == id).unwrap();
            a.activity.task_report().unwrap().1
        };
        let without = report(&mut a, 1);
        assert!(without.contains("state: running, 2 done\n"), "{without}");
        assert!(!without.contains('%'), "{without}");
        let with = report(&mut a, 2);
        assert!(with.contains("state: running, 50% (2 of 4)\n"), "{with}");
    }

    /// Esc clears the filters applied at load too (Suggestions `+`, Bounces domain and
    /// reason); while `+` hides every row, counts still say how many rows exist.
    #[test]
    fn esc_clears_load_filters_and_counts_say_what_exists() {
        let mut a = app();
        press(&mut a, KeyCode::Char('2'));
        let row = |id: i64, confidence: &str| {
            TableRow::new(
                id,
                vec![
                    format!("P{id}"),
                    "Acme".into(),
                    "acme.test".into(),
                    format!("p{id}@acme.test"),
                    confidence.into(),
                    "first.last".into(),
                    "suggested".into(),
                ],
            )
        };
        a.on_loaded(Pane::Suggestions, vec![row(1, " 30"), row(2, " 35")]);
        press(&mut a, KeyCode::Char('+'));
        assert_eq!(a.suggestions.view.len(), 0);
        let pos = a.suggestions.position_text();
        assert!(pos.contains("2 total"), "{pos}");
        press(&mut a, KeyCode::Esc);
        assert_eq!(a.min_confidence, 0);
        assert_eq!(a.suggestions.view.len(), 2);

        press(&mut a, KeyCode::Char('4'));
        a.bounce_pane.domain = Some("acme.test".into());
        a.bounce_pane.reason = Some("userunknown".into());
        a.bounce_pane.range = 2;
        press(&mut a, KeyCode::Esc);
        assert_eq!(
            (
                &a.bounce_pane.domain,
                &a.bounce_pane.reason,
                a.bounce_pane.range
            ),
            (&None, &None, 0)
        );
    }

    /// With more tasks than the list shows, a task just started is selected (and so scrolled
    /// into view) instead of running off-screen behind the old selection.
    #[test]
    fn a_started_task_is_selected() {
        let mut a = app();
        for id in 1..=8 {
            a.on_job(JobMsg::Started {
                id,
                kind: JobKind::Import,
                title: format!("import {id}"),
                pausable: false,
            });
        }
        assert_eq!(a.activity.selected_task().unwrap().id, 8);
    }

    #[test]
    fn quit_asks_while_a_task_runs() {
        let mut a = app();
        a.on_job(JobMsg::Started {
            id: 1,
            kind: JobKind::Import,
            title: "import x".into(),
            pausable: false,
        });
        press(&mut a, KeyCode::Char('q'));
        assert_eq!(a.mode, Mode::ConfirmQuit);
        assert!(!a.quit);
        press(&mut a, KeyCode::Char('n'));
        assert_eq!(a.mode, Mode::Normal);
        press(&mut a, KeyCode::Char('q'));
        press(&mut a, KeyCode::Char('y'));
        assert!(a.quit);
    }

    #[test]
    fn ctrl_c_quits_from_any_mode() {
        let mut a = app();
        press(&mut a, KeyCode::Char('?'));
        a.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
        assert!(a.quit);
    }

    /// One address waiting three minutes for its greylisting retry: the ETA is not the
    /// 0m00s the others' rate gives, and it counts down.
    #[test]
    fn verdicts_show_on_suggestions_while_a_verify_task_runs() {
        let mut a = app();
        a.on_job(JobMsg::Started {
            id: 4,
            kind: JobKind::Verify,
            title: "verify".into(),
            pausable: false,
        });
        a.take_effects();
        let progress = |done| JobMsg::Progress {
            id: 4,
            done,
            total: Some(17),
            note: String::new(),
        };
        a.on_job(progress(0));
        assert!(a.take_effects().is_empty(), "nothing stored yet");
        // 16 of 17 done, one waiting for a retry: the 16 verdicts show now, not at the end.
        a.on_job(progress(16));
        assert_eq!(
            a.take_effects(),
            vec![
                Effect::Load(Pane::Suggestions),
                Effect::Load(Pane::Prospects)
            ]
        );
        // The tick-driven reports while it waits change nothing: no reload.
        a.on_job(progress(16));
        assert!(a.take_effects().is_empty());
    }

    #[test]
    fn a_verify_eta_is_never_shorter_than_the_last_retry_wait() {
        let mut a = app();
        a.on_job(JobMsg::Started {
            id: 3,
            kind: JobKind::Verify,
            title: "verify".into(),
            pausable: false,
        });
        a.on_job(JobMsg::Progress {
            id: 3,
            done: 99,
            total: Some(100),
            note: String::new(),
        });
        for _ in 0..8 {
            a.on_tick();
        }
        assert_eq!(
            a.activity.tasks[0].eta(),
            Some(Duration::from_secs_f64(1.0 / 49.5))
        );
        a.on_job(JobMsg::EtaFloor {
            id: 3,
            left: Some(Duration::from_secs(180)),
        });
        assert_eq!(a.activity.tasks[0].eta(), Some(Duration::from_secs(180)));
        for _ in 0..4 {
            a.on_tick();
        }
        assert_eq!(a.activity.tasks[0].eta(), Some(Duration::from_secs(179)));
        a.on_job(JobMsg::EtaFloor { id: 3, left: None });
        assert!(a.activity.tasks[0].eta().unwrap() < Duration::from_secs(1));
    }

    #[test]
    fn task_lifecycle_updates_activity_and_reloads_after_import() {
        let mut a = app();
        a.on_job(JobMsg::Started {
            id: 7,
            kind: JobKind::Import,
            title: "import p.csv".into(),
            pausable: false,
        });
        a.on_job(JobMsg::Progress {
            id: 7,
            done: 50,
            total: Some(200),
            note: String::new(),
        });
        for _ in 0..8 {
            a.on_tick();
        }
        let t = &a.activity.tasks[0];
        assert_eq!(t.ratio(), 0.25);
        assert_eq!(t.rate(), Some(25.0));
        assert_eq!(t.eta(), Some(Duration::from_secs(6)));
        a.on_job(JobMsg::Finished {
            id: 7,
            outcome: crate::engine::jobs::Outcome::Done("200 imported".into()),
            cancelled: false,
        });
        assert_eq!(a.activity.tasks[0].state, TaskState::Done);
        assert_eq!(
            a.take_effects(),
            vec![Effect::Load(Pane::Prospects), Effect::Load(Pane::Messages)]
        );
        assert!(a.toast.as_ref().unwrap().text.contains("200 imported"));
    }

    #[test]
    fn cancel_and_pause_keys_on_activity() {
        let mut a = app();
        a.on_job(JobMsg::Started {
            id: 3,
            kind: JobKind::Verify,
            title: "verify".into(),
            pausable: true,
        });
        press(&mut a, KeyCode::Char('5'));
        press(&mut a, KeyCode::Char('p'));
        press(&mut a, KeyCode::Char('x'));
        assert_eq!(
            a.take_effects(),
            vec![Effect::TogglePause(3), Effect::Cancel(3)]
        );
        // A finished task says why `p` does nothing, as `x` does.
        a.on_job(JobMsg::Finished {
            id: 3,
            outcome: crate::engine::jobs::Outcome::Done("ok".into()),
            cancelled: false,
        });
        a.take_effects();
        press(&mut a, KeyCode::Char('p'));
        assert!(a.take_effects().is_empty());
        assert_eq!(
            a.toast.as_ref().map(|t| t.text.as_str()),
            Some("that task is not running")
        );
    }

    #[test]
    fn import_prompt_with_tab_completion() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("prospects.csv"), "x").unwrap();
        std::fs::write(dir.path().join("prospects.xlsx"), "x").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let mut a = App::new(Settings::default(), dir.path().to_path_buf(), false);
        press(&mut a, KeyCode::Char('i'));
        press(&mut a, KeyCode::Char('p'));
        press(&mut a, KeyCode::Tab);
        match &a.mode {
            Mode::Prompt(p) => {
                assert_eq!(p.input, "prospects.");
                assert_eq!(p.candidates, ["prospects.csv", "prospects.xlsx"]);
            }
            m => panic!("{m:?}"),
        }
        press(&mut a, KeyCode::Char('c'));
        press(&mut a, KeyCode::Tab);
        press(&mut a, KeyCode::Enter);
        assert_eq!(
            a.take_effects(),
            vec![Effect::Import {
                kind: ImportKind::Prospects,
                path: dir.path().join("prospects.csv")
            }]
        );
        assert_eq!(complete_path("s", dir.path()).0, "sub/");
    }

    /// x on a running task says "cancelling…" until it stops; its progress does not
    /// overwrite that.
    #[test]
    fn a_cancelled_task_says_cancelling_until_it_stops() {
        let mut a = app();
        a.on_job(JobMsg::Started {
            id: 3,
            kind: JobKind::Import,
            title: "import".into(),
            pausable: false,
        });
        a.tab = Tab::Activity;
        press(&mut a, KeyCode::Char('x'));
        assert_eq!(a.take_effects(), vec![Effect::Cancel(3)]);
        a.on_job(JobMsg::Progress {
            id: 3,
            done: 10,
            total: Some(100),
            note: "rows".into(),
        });
        let t = a.activity.selected_task().unwrap();
        assert_eq!((t.note.as_str(), t.done), (CANCELLING, 10));
    }

    /// The shell's line keys in the one-line inputs: Ctrl-W drops the last path part or
    /// word, Ctrl-U the whole line.
    #[test]
    fn ctrl_w_and_ctrl_u_edit_the_input_line() {
        let mut a = app();
        press(&mut a, KeyCode::Char('i'));
        for c in "/tmp/qa/old name.csv".chars() {
            press(&mut a, KeyCode::Char(c));
        }
        let ctrl =
            |a: &mut App, c: char| a.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
        let input = |a: &App| match &a.mode {
            Mode::Prompt(p) => p.input.clone(),
            m => panic!("{m:?}"),
        };
        ctrl(&mut a, 'w');
        assert_eq!(input(&a), "/tmp/qa/old ");
        ctrl(&mut a, 'w');
        assert_eq!(input(&a), "/tmp/qa/");
        ctrl(&mut a, 'u');
        assert_eq!(input(&a), "");
        press(&mut a, KeyCode::Char('x'));
        assert_eq!(input(&a), "x");
    }

    /// A RETRY row goes out at its retry whatever its approval: `a` on it withdraws it
    /// (an unapprove), where it used to say only READY rows can be approved.
    #[test]
    fn a_on_a_retry_row_withdraws_it() {
        let mut a = app();
        a.on_loaded(
            Pane::Outbox,
            vec![TableRow::new(
                4,
                vec![
                    "RETRY".into(),
                    "✓".into(),
                    "p4@acme.test".into(),
                    "Acme".into(),
                    "Hi".into(),
                    "421 try later".into(),
                ],
            )],
        );
        press(&mut a, KeyCode::Char('3'));
        press(&mut a, KeyCode::Char('a'));
        assert_eq!(
            a.take_effects(),
            vec![Effect::Approve {
                ids: vec![4],
                approve: false
            }]
        );
        press(&mut a, KeyCode::Char('s'));
        assert_eq!(
            a.take_effects(),
            vec![Effect::Skip {
                ids: vec![4],
                skip: true
            }]
        );
    }

    #[test]
    fn outbox_keys_act_on_marked_rows_or_the_selected_one() {
        let mut a = app();
        let row = |id: i64, status: &str, ok: &str| {
            TableRow::new(
                id,
                vec![
                    status.into(),
                    ok.into(),
                    format!("p{id}@acme.test"),
                    "Acme".into(),
                    "Hi".into(),
                    String::new(),
                ],
            )
        };
        a.on_loaded(
            Pane::Outbox,
            vec![
                row(1, "READY", ""),
                row(2, "READY", "✓"),
                row(3, "ERROR", ""),
            ],
        );
        press(&mut a, KeyCode::Char('3'));
        press(&mut a, KeyCode::Char('a'));
        assert_eq!(
            a.take_effects(),
            vec![Effect::Approve {
                ids: vec![1],
                approve: true
            }]
        );
        press(&mut a, KeyCode::Char('j'));
        press(&mut a, KeyCode::Char('a'));
        assert_eq!(
            a.take_effects(),
            vec![Effect::Approve {
                ids: vec![2],
                approve: false
            }]
        );
        // On a row that is not READY, `a` can do nothing and says so (it used to send an
        // "unapprove" reported as "nothing to unapprove").
        press(&mut a, KeyCode::Char('j'));
        press(&mut a, KeyCode::Char('a'));
        assert!(a.take_effects().is_empty());
        assert_eq!(
            a.toast.as_ref().map(|t| t.text.as_str()),
            Some("only READY rows can be approved")
        );
        press(&mut a, KeyCode::Char('k'));
        press(&mut a, KeyCode::Char('v'));
        press(&mut a, KeyCode::Char('s'));
        assert_eq!(
            a.take_effects(),
            vec![Effect::Skip {
                ids: vec![1, 2, 3],
                skip: true
            }]
        );
        a.on_key(KeyEvent::new(KeyCode::Char('D'), KeyModifiers::SHIFT));
        assert!(a.take_effects().is_empty(), "D asks first");
        press(&mut a, KeyCode::Char('n'));
        assert!(a.take_effects().is_empty(), "n keeps the address");
        a.on_key(KeyEvent::new(KeyCode::Char('D'), KeyModifiers::SHIFT));
        press(&mut a, KeyCode::Char('y'));
        assert_eq!(
            a.take_effects(),
            vec![Effect::Suppress {
                email: "p2@acme.test".into()
            }]
        );
        press(&mut a, KeyCode::Enter);
        assert_eq!(a.take_effects(), vec![Effect::Preview(2)]);
        press(&mut a, KeyCode::Char('t'));
        assert_eq!(a.outbox.view.len(), 2, "READY only");
        press(&mut a, KeyCode::Char('t'));
        assert_eq!(a.outbox.view.len(), 1, "ERROR only");
        assert!(a.outbox.position_text().contains("Status = ERROR"));
        // Esc clears the status filter too, not only a search.
        press(&mut a, KeyCode::Esc);
        assert_eq!(a.outbox.view.len(), 3, "every status again");
        press(&mut a, KeyCode::Char('b'));
        assert_eq!(a.take_effects(), vec![Effect::BuildOutbox]);
        a.on_key(KeyEvent::new(KeyCode::Char('V'), KeyModifiers::SHIFT));
        assert_eq!(
            a.take_effects(),
            vec![Effect::Verify(crate::store::verifications::Scope::default())]
        );
        a.on_job(JobMsg::Started {
            id: 9,
            kind: JobKind::Verify,
            title: "verify".into(),
            pausable: false,
        });
        a.on_key(KeyEvent::new(KeyCode::Char('V'), KeyModifiers::SHIFT));
        assert!(a.take_effects().is_empty(), "one verification at a time");
    }

    #[test]
    fn messages_view_imports_messages() {
        let mut a = app();
        press(&mut a, KeyCode::Char('m'));
        press(&mut a, KeyCode::Char('i'));
        assert!(matches!(&a.mode, Mode::Prompt(p) if p.kind == ImportKind::Messages));
    }

    #[test]
    fn a_accepts_every_marked_suggestion_at_once() {
        let mut a = app();
        press(&mut a, KeyCode::Char('2'));
        let row = |id: i64| {
            TableRow::new(
                id,
                vec![
                    format!("P{id}"),
                    "Acme".into(),
                    "acme.test".into(),
                    format!("p{id}@acme.test"),
                    " 80".into(),
                    "first.last".into(),
                    "suggested".into(),
                ],
            )
        };
        a.on_loaded(Pane::Suggestions, vec![row(1), row(2), row(3)]);
        a.take_effects();
        // Space marks and moves on.
        press(&mut a, KeyCode::Char(' '));
        press(&mut a, KeyCode::Char(' '));
        press(&mut a, KeyCode::Char('a'));
        let effects = a.take_effects();
        let [Effect::AcceptSuggestions(ids)] = effects.as_slice() else {
            panic!("{effects:?}")
        };
        let mut ids = ids.clone();
        ids.sort();
        assert_eq!(ids, [1, 2]);
        assert!(
            a.suggestions.marked.is_empty(),
            "the rows acted on are unmarked"
        );
        // Marks are offered in help where a key uses them, and not on Prospects.
        let keys = |tab| {
            a.keymap
                .help(tab)
                .iter()
                .map(|b| b.keys)
                .collect::<Vec<_>>()
        };
        assert!(keys(Tab::Suggestions).contains(&"space"));
        assert!(!keys(Tab::Prospects).contains(&"space"));
    }

    /// `V` on Suggestions verifies the marked rows' prospects only, and every prospect when
    /// none is marked.
    #[test]
    fn v_on_suggestions_verifies_the_marked_rows_only() {
        use crate::store::verifications::Scope;
        let mut a = app();
        press(&mut a, KeyCode::Char('2'));
        let row = |id: i64| TableRow::new(id, vec![format!("P{id}"), "Acme".into()]);
        a.on_loaded(Pane::Suggestions, vec![row(1), row(2), row(3)]);
        a.take_effects();
        press(&mut a, KeyCode::Char('j'));
        press(&mut a, KeyCode::Char(' '));
        press(&mut a, KeyCode::Char(' '));
        a.on_key(KeyEvent::new(KeyCode::Char('V'), KeyModifiers::SHIFT));
        assert_eq!(
            a.take_effects(),
            vec![Effect::Verify(Scope {
                ids: vec![2, 3],
                ..Scope::default()
            })]
        );
        assert!(a.suggestions.marked.is_empty(), "acted on: unmarked");
        a.on_key(KeyEvent::new(KeyCode::Char('V'), KeyModifiers::SHIFT));
        assert_eq!(a.take_effects(), vec![Effect::Verify(Scope::default())]);
    }

    #[test]
    fn a_on_a_dead_address_asks_and_u_resets() {
        let mut a = app();
        press(&mut a, KeyCode::Char('2'));
        let row = |id: i64, status: &str, verdict: &str| {
            TableRow::new(
                id,
                vec![
                    "Marie Curie".into(),
                    "Acme".into(),
                    "acme.test".into(),
                    format!("m{id}@acme.test"),
                    "  0 ·····".into(),
                    "first.last".into(),
                    status.into(),
                    verdict.into(),
                ],
            )
            .with_extra(r#"{"company key":"acme"}"#)
        };
        a.on_loaded(
            Pane::Suggestions,
            vec![
                row(3, "suggested", "MAILBOX_NOT_FOUND"),
                row(4, "accepted", "VALID"),
            ],
        );
        press(&mut a, KeyCode::Char('a'));
        assert!(
            matches!(&a.mode, Mode::ConfirmAcceptDead { prospect_id: 3, verdict, .. } if verdict == "MAILBOX_NOT_FOUND"),
            "{:?}",
            a.mode
        );
        assert!(
            a.take_effects().is_empty(),
            "nothing accepted before the answer"
        );
        press(&mut a, KeyCode::Char('n'));
        assert!(a.take_effects().is_empty());
        press(&mut a, KeyCode::Char('a'));
        press(&mut a, KeyCode::Char('y'));
        assert_eq!(
            a.take_effects(),
            vec![Effect::Suggestion {
                prospect_id: 3,
                op: SuggestionOp::Accept { force: true }
            }]
        );
        press(&mut a, KeyCode::Char('u'));
        press(&mut a, KeyCode::Char('v'));
        press(&mut a, KeyCode::Char('u'));
        assert_eq!(
            a.take_effects(),
            vec![
                Effect::ResetSuggestions(vec![3]),
                Effect::ResetSuggestions(vec![3, 4])
            ]
        );
        assert!(
            a.keymap
                .help(Tab::Suggestions)
                .iter()
                .any(|b| b.keys == "u" && b.desc.contains("back to suggested"))
        );
    }

    #[test]
    fn suggestions_keys_produce_effects() {
        let mut a = app();
        press(&mut a, KeyCode::Char('2'));
        assert_eq!(a.tab, Tab::Suggestions);
        let row = TableRow::new(
            7,
            vec![
                "Jean Dupont".into(),
                "Acme".into(),
                "acme.test".into(),
                "jean.dupont@acme.test".into(),
                " 80 ████·".into(),
                "first.last".into(),
                "suggested".into(),
            ],
        )
        .with_extra(r#"{"company key":"acme","evidence 01":"x"}"#);
        a.on_loaded(Pane::Suggestions, vec![row]);
        press(&mut a, KeyCode::Char('a'));
        press(&mut a, KeyCode::Char('c'));
        press(&mut a, KeyCode::Char('r'));
        press(&mut a, KeyCode::Char('f'));
        assert_eq!(
            a.take_effects(),
            vec![
                Effect::Suggestion {
                    prospect_id: 7,
                    op: SuggestionOp::Accept { force: false }
                },
                Effect::Suggestion {
                    prospect_id: 7,
                    op: SuggestionOp::NextAlternative
                },
                Effect::Find {
                    company: Some("acme".into()),
                    refresh: true
                },
                Effect::Find {
                    company: None,
                    refresh: false
                },
            ]
        );
        press(&mut a, KeyCode::Char('e'));
        assert!(
            matches!(&a.mode, Mode::EditEmail { prospect_id: 7, input, who } if input == "jean.dupont@acme.test" && who == "Jean Dupont · Acme")
        );
        for _ in 0.."jean.dupont@acme.test".len() {
            press(&mut a, KeyCode::Backspace);
        }
        for c in "jd@acme.test".chars() {
            press(&mut a, KeyCode::Char(c));
        }
        press(&mut a, KeyCode::Enter);
        assert_eq!(
            a.take_effects(),
            vec![Effect::Suggestion {
                prospect_id: 7,
                op: SuggestionOp::Set {
                    email: "jd@acme.test".into(),
                    force: false
                }
            }]
        );
        press(&mut a, KeyCode::Char('e'));
        press(&mut a, KeyCode::Char(' '));
        press(&mut a, KeyCode::Char('x'));
        press(&mut a, KeyCode::Enter);
        assert!(a.take_effects().is_empty(), "an invalid address is refused");
        // ...and the box stays open with the text, so the next keys fix it, even a key the
        // line does not use.
        assert!(
            matches!(&a.mode, Mode::EditEmail { input, .. } if input.ends_with(" x")),
            "{:?}",
            a.mode
        );
        assert!(a.toast.as_ref().is_some_and(|t| t.error));
        press(&mut a, KeyCode::Left);
        assert!(matches!(a.mode, Mode::EditEmail { .. }));
        press(&mut a, KeyCode::Esc);
        assert_eq!(a.mode, Mode::Normal);
        assert!(a.toast.is_none(), "its error left with it");
        press(&mut a, KeyCode::Enter);
        assert!(matches!(a.mode, Mode::Detail { .. }));
        press(&mut a, KeyCode::Esc);
        press(&mut a, KeyCode::Char('+'));
        assert_eq!(a.min_confidence, 40);
        assert_eq!(a.suggestions.rows.len(), 1);
        press(&mut a, KeyCode::Char('+'));
        press(&mut a, KeyCode::Char('+'));
        assert_eq!(a.min_confidence, 90);
        assert_eq!(a.suggestions.rows.len(), 0, "80 < 90");
        press(&mut a, KeyCode::Char('+'));
        assert_eq!(a.suggestions.rows.len(), 1);
        press(&mut a, KeyCode::Enter);
        let detail = a.suggestions.detail();
        assert!(detail.iter().any(|(k, v)| k == "evidence 01" && v == "x"));
    }

    #[test]
    fn find_on_prospects_and_reload_after_find() {
        let mut a = app();
        press(&mut a, KeyCode::Char('f'));
        assert_eq!(
            a.take_effects(),
            vec![Effect::Find {
                company: None,
                refresh: false
            }]
        );
        a.on_job(JobMsg::Started {
            id: 1,
            kind: JobKind::Find,
            title: "find emails".into(),
            pausable: false,
        });
        press(&mut a, KeyCode::Char('f'));
        assert!(a.take_effects().is_empty(), "one find at a time");
        a.on_job(JobMsg::Finished {
            id: 1,
            outcome: crate::engine::jobs::Outcome::Done("done".into()),
            cancelled: false,
        });
        assert!(a.take_effects().contains(&Effect::Load(Pane::Suggestions)));
    }
}
