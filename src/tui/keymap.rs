//! One table of key bindings. It drives dispatch and the `?` help overlay, so the two can
//! never disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::Tab;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    ForceQuit,
    NextTab,
    PrevTab,
    GoTab(usize),
    Help,
    Down,
    Up,
    PageDown,
    PageUp,
    HalfDown,
    HalfUp,
    Top,
    Bottom,
    Mark,
    MarkAll,
    CycleSort,
    ReverseSort,
    Filter,
    Detail,
    Back,
    CancelTask,
    PauseTask,
    Import,
    ToggleMessages,
    EditConfig,
    Reload,
    BuildOutbox,
    Approve,
    Skip,
    Suppress,
    EditRow,
    CycleStatus,
    Accept,
    NextAlternative,
    EditAddress,
    ResetSuggestion,
    RerunCompany,
    RunFind,
    Verify,
    ConfidenceFilter,
    ConfidenceFilterDown,
    SyncInbox,
    WatchInbox,
    BounceDates,
    BounceDateRange,
    BounceDomain,
    BounceReason,
    Send,
    ResolveUncertain,
    ReadReplies,
    TestMailboxes,
    ResumeMailboxes,
    SelectMailbox,
    ToggleMailboxPause,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Global,
    /// Every tab that shows a data table (Prospects, Suggestions, Outbox, Bounces).
    Tables,
    Tab(Tab),
}

#[derive(Debug, Clone)]
pub struct Binding {
    pub scope: Scope,
    /// As shown in help, e.g. "g g" or "C-d".
    pub keys: &'static str,
    pub action: Action,
    pub desc: &'static str,
}

type Key = (KeyCode, KeyModifiers);

/// Keys of the one-line inputs (`/` filter, `i` path, `e` address, `T` dates), which take
/// keys before the table above does: listed at the end of `?` on the tabs that have inputs.
pub const INPUT_KEYS: &[(&str, &str)] = &[
    ("Enter", "apply the input"),
    ("Esc", "cancel it"),
    ("Backspace", "delete the last character"),
    ("C-u", "clear the line"),
    ("C-w", "delete the last word"),
];

const BINDINGS: &[(Scope, &str, Action, &str)] = &[
    (Scope::Global, "?", Action::Help, "show or hide this help"),
    (
        Scope::Global,
        "q",
        Action::Quit,
        "quit (asks first while a task runs)",
    ),
    (
        Scope::Global,
        "C-c",
        Action::ForceQuit,
        "quit now, restoring the terminal",
    ),
    (Scope::Global, "Tab", Action::NextTab, "next tab"),
    (Scope::Global, "S-Tab", Action::PrevTab, "previous tab"),
    (Scope::Global, "1", Action::GoTab(0), "Prospects tab"),
    (Scope::Global, "2", Action::GoTab(1), "Suggestions tab"),
    (Scope::Global, "3", Action::GoTab(2), "Outbox tab"),
    (Scope::Global, "4", Action::GoTab(3), "Bounces tab"),
    (Scope::Global, "5", Action::GoTab(4), "Activity tab"),
    (Scope::Global, "6", Action::GoTab(5), "Settings tab"),
    (
        Scope::Global,
        "Esc",
        Action::Back,
        "close a popup, clear every filter of the tab",
    ),
    (Scope::Tables, "j", Action::Down, "move down"),
    (Scope::Tables, "Down", Action::Down, "move down"),
    (Scope::Tables, "k", Action::Up, "move up"),
    (Scope::Tables, "Up", Action::Up, "move up"),
    (Scope::Tables, "PageDown", Action::PageDown, "page down"),
    (Scope::Tables, "PageUp", Action::PageUp, "page up"),
    (Scope::Tables, "C-d", Action::HalfDown, "half a page down"),
    (Scope::Tables, "C-u", Action::HalfUp, "half a page up"),
    (
        Scope::Tab(Tab::Outbox),
        "b",
        Action::BuildOutbox,
        "build or rebuild the outbox (sent rows untouched)",
    ),
    (
        Scope::Tab(Tab::Outbox),
        "Enter",
        Action::Detail,
        "preview the message exactly as it will be sent",
    ),
    (
        Scope::Tab(Tab::Outbox),
        "a",
        Action::Approve,
        "approve / unapprove the marked rows (or this row)",
    ),
    (
        Scope::Tab(Tab::Outbox),
        "s",
        Action::Skip,
        "skip / unskip the marked rows (or this row)",
    ),
    (
        Scope::Tab(Tab::Outbox),
        "e",
        Action::EditRow,
        "edit this row's subject and body in $EDITOR",
    ),
    (
        Scope::Tab(Tab::Outbox),
        "D",
        Action::Suppress,
        "suppress this row's address (never mailed; asks first)",
    ),
    (
        Scope::Tab(Tab::Outbox),
        "t",
        Action::CycleStatus,
        "filter by status: all, READY, ERROR, …",
    ),
    (
        Scope::Tab(Tab::Bounces),
        "s",
        Action::SyncInbox,
        "read the mailboxes' IMAP folders now (background task)",
    ),
    (
        Scope::Tab(Tab::Bounces),
        "w",
        Action::WatchInbox,
        "keep watching the mailboxes (IDLE or polling) as a task; again: stop",
    ),
    (
        Scope::Tab(Tab::Bounces),
        "t",
        Action::BounceDates,
        "date range: all, 24 h, 7, 30, 90 days (cycles)",
    ),
    (
        Scope::Tab(Tab::Bounces),
        "T",
        Action::BounceDateRange,
        "type a date range: 2026-11-01..2026-11-30, 2026-11-01.., ..2026-11-30 or one day",
    ),
    (
        Scope::Tab(Tab::Bounces),
        "d",
        Action::BounceDomain,
        "only this row's domain (again: all domains)",
    ),
    (
        Scope::Tab(Tab::Bounces),
        "r",
        Action::BounceReason,
        "only this row's reason (again: all reasons)",
    ),
    (
        Scope::Tab(Tab::Bounces),
        "Enter",
        Action::Detail,
        "show the diagnostic and the raw DSN part",
    ),
    (
        Scope::Tab(Tab::Outbox),
        "S",
        Action::Send,
        "send: shows how many, from which mailboxes, today's capacity; y starts",
    ),
    (
        Scope::Tab(Tab::Outbox),
        "u",
        Action::ResolveUncertain,
        "UNCERTAIN row: mark it SENT or requeue it; soft-bounced row: send it again \
         (refused after two same-way bounces: f in the dialog forces it)",
    ),
    (
        Scope::Tab(Tab::Outbox),
        "r",
        Action::ReadReplies,
        "read the replies to this row (what they wrote, without the quoted text)",
    ),
    (
        Scope::Tab(Tab::Prospects),
        "V",
        Action::Verify,
        "verify the addresses (syntax, MX, SMTP probe) as a task",
    ),
    (
        Scope::Tab(Tab::Suggestions),
        "V",
        Action::Verify,
        "verify the marked rows' addresses (none marked: every prospect's) as a task; a \
         first choice verified dead gets its next two alternatives verified, a VALID one \
         suggested instead",
    ),
    (
        Scope::Tab(Tab::Outbox),
        "V",
        Action::Verify,
        "verify the addresses, then rebuild (b) to apply verdicts",
    ),
    (Scope::Tables, "g", Action::Top, "first row"),
    (Scope::Tables, "g g", Action::Top, "first row"),
    (Scope::Tables, "Home", Action::Top, "first row"),
    (Scope::Tables, "G", Action::Bottom, "last row"),
    (Scope::Tables, "End", Action::Bottom, "last row"),
    // Marks only where a key acts on the marked rows (Outbox: a, s; Suggestions: a, u, V).
    (
        Scope::Tab(Tab::Outbox),
        "space",
        Action::Mark,
        "mark or unmark the row, then go to the next",
    ),
    (
        Scope::Tab(Tab::Outbox),
        "v",
        Action::MarkAll,
        "mark all filtered rows (again: unmark)",
    ),
    (
        Scope::Tab(Tab::Suggestions),
        "space",
        Action::Mark,
        "mark or unmark the row, then go to the next",
    ),
    (
        Scope::Tab(Tab::Suggestions),
        "v",
        Action::MarkAll,
        "mark all filtered rows (again: unmark)",
    ),
    (
        Scope::Tables,
        "o",
        Action::CycleSort,
        "sort by the next column",
    ),
    (
        Scope::Tables,
        "O",
        Action::ReverseSort,
        "reverse the sort order",
    ),
    (
        Scope::Tables,
        "/",
        Action::Filter,
        "filter rows (accents and case ignored)",
    ),
    (
        Scope::Tables,
        "Enter",
        Action::Detail,
        "show the whole record",
    ),
    (
        Scope::Tables,
        "R",
        Action::Reload,
        "reload from the database",
    ),
    (
        Scope::Tab(Tab::Prospects),
        "i",
        Action::Import,
        "import a file (prospects or messages view)",
    ),
    (
        Scope::Tab(Tab::Prospects),
        "f",
        Action::RunFind,
        "find emails for every company (background task)",
    ),
    (
        Scope::Tab(Tab::Suggestions),
        "f",
        Action::RunFind,
        "find emails for every company (background task)",
    ),
    (
        Scope::Tab(Tab::Suggestions),
        "a",
        Action::Accept,
        "accept the address (marked rows, else this one; verified dead ones are skipped)",
    ),
    (
        Scope::Tab(Tab::Suggestions),
        "c",
        Action::NextAlternative,
        "show the next alternative address (not accepted: a accepts it)",
    ),
    (
        Scope::Tab(Tab::Suggestions),
        "u",
        Action::ResetSuggestion,
        "back to suggested: undo a (marked rows, else this one)",
    ),
    (
        Scope::Tab(Tab::Suggestions),
        "e",
        Action::EditAddress,
        "edit the address by hand",
    ),
    (
        Scope::Tab(Tab::Suggestions),
        "+",
        Action::ConfidenceFilter,
        "minimum confidence: all, 40, 70, 90 (cycles)",
    ),
    (
        Scope::Tab(Tab::Suggestions),
        "-",
        Action::ConfidenceFilterDown,
        "minimum confidence the other way: 90, 70, 40, all",
    ),
    (
        Scope::Tab(Tab::Suggestions),
        "r",
        Action::RerunCompany,
        "re-run find for this row's company, ignoring caches",
    ),
    (
        Scope::Tab(Tab::Prospects),
        "m",
        Action::ToggleMessages,
        "switch prospects / messages view",
    ),
    (
        Scope::Tab(Tab::Activity),
        "j",
        Action::Down,
        "select the next task",
    ),
    (
        Scope::Tab(Tab::Activity),
        "Down",
        Action::Down,
        "select the next task",
    ),
    (
        Scope::Tab(Tab::Activity),
        "k",
        Action::Up,
        "select the previous task",
    ),
    (
        Scope::Tab(Tab::Activity),
        "Up",
        Action::Up,
        "select the previous task",
    ),
    (
        Scope::Tab(Tab::Activity),
        "PageUp",
        Action::PageUp,
        "scroll the log back",
    ),
    (
        Scope::Tab(Tab::Activity),
        "Enter",
        Action::Detail,
        "the selected task in full: state, summary and its own log lines",
    ),
    (
        Scope::Tab(Tab::Activity),
        "PageDown",
        Action::PageDown,
        "scroll the log forward",
    ),
    (
        Scope::Tab(Tab::Activity),
        "G",
        Action::Bottom,
        "follow the end of the log",
    ),
    (
        Scope::Tab(Tab::Activity),
        "x",
        Action::CancelTask,
        "cancel the selected task",
    ),
    (
        Scope::Tab(Tab::Activity),
        "p",
        Action::PauseTask,
        "pause or resume the selected task",
    ),
    (
        Scope::Tab(Tab::Settings),
        "e",
        Action::EditConfig,
        "edit config.toml in $EDITOR, then reload",
    ),
    (
        Scope::Tab(Tab::Settings),
        "t",
        Action::TestMailboxes,
        "test every mailbox: SMTP login, IMAP login, Sent folder",
    ),
    (
        Scope::Tab(Tab::Settings),
        "R",
        Action::ResumeMailboxes,
        "resume the paused mailboxes, by hand or auto-paused (asks first)",
    ),
    (
        Scope::Tab(Tab::Settings),
        "m",
        Action::SelectMailbox,
        "select the next mailbox (▸ in the Mailboxes list)",
    ),
    (
        Scope::Tab(Tab::Settings),
        "p",
        Action::ToggleMailboxPause,
        "pause the selected mailbox by hand, or resume it (a running send skips it at once)",
    ),
    (Scope::Tab(Tab::Settings), "j", Action::Down, "scroll down"),
    (Scope::Tab(Tab::Settings), "k", Action::Up, "scroll up"),
    (
        Scope::Tab(Tab::Settings),
        "Down",
        Action::Down,
        "scroll down",
    ),
    (Scope::Tab(Tab::Settings), "Up", Action::Up, "scroll up"),
    (
        Scope::Tab(Tab::Settings),
        "PageDown",
        Action::PageDown,
        "page down",
    ),
    (
        Scope::Tab(Tab::Settings),
        "PageUp",
        Action::PageUp,
        "page up",
    ),
    (
        Scope::Tab(Tab::Settings),
        "C-d",
        Action::HalfDown,
        "half a page down",
    ),
    (
        Scope::Tab(Tab::Settings),
        "C-u",
        Action::HalfUp,
        "half a page up",
    ),
    (Scope::Tab(Tab::Settings), "g", Action::Top, "top"),
    (Scope::Tab(Tab::Settings), "g g", Action::Top, "top"),
    (Scope::Tab(Tab::Settings), "Home", Action::Top, "top"),
    (Scope::Tab(Tab::Settings), "G", Action::Bottom, "end"),
    (Scope::Tab(Tab::Settings), "End", Action::Bottom, "end"),
];

fn parse_key(s: &str) -> Key {
    let (mods, name) = if let Some(rest) = s.strip_prefix("C-") {
        (KeyModifiers::CONTROL, rest)
    } else if let Some(rest) = s.strip_prefix("S-") {
        (KeyModifiers::SHIFT, rest)
    } else {
        (KeyModifiers::NONE, s)
    };
    let code = match name {
        "Tab" if mods == KeyModifiers::SHIFT => return (KeyCode::BackTab, KeyModifiers::SHIFT),
        "Tab" => KeyCode::Tab,
        "Esc" => KeyCode::Esc,
        "Enter" => KeyCode::Enter,
        "Down" => KeyCode::Down,
        "Up" => KeyCode::Up,
        "PageDown" => KeyCode::PageDown,
        "PageUp" => KeyCode::PageUp,
        "Home" => KeyCode::Home,
        "End" => KeyCode::End,
        "space" => KeyCode::Char(' '),
        other => {
            let mut chars = other.chars();
            let c = chars.next().expect("empty key name");
            assert!(chars.next().is_none(), "unknown key name {other}");
            KeyCode::Char(c)
        }
    };
    (code, mods)
}

/// Normalise a terminal key event: shifted letters arrive as uppercase chars with SHIFT.
fn normalize(ev: &KeyEvent) -> Key {
    let mut mods = ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::SHIFT | KeyModifiers::ALT);
    if let KeyCode::Char(_) = ev.code {
        mods.remove(KeyModifiers::SHIFT);
    }
    if ev.code == KeyCode::BackTab {
        mods = KeyModifiers::SHIFT;
    }
    (ev.code, mods)
}

pub struct Keymap {
    entries: Vec<(Scope, Vec<Key>, Binding)>,
    pending: Vec<Key>,
}

impl Default for Keymap {
    fn default() -> Self {
        Self::new()
    }
}

impl Keymap {
    pub fn new() -> Keymap {
        let entries = BINDINGS
            .iter()
            .map(|&(scope, keys, action, desc)| {
                let seq = keys.split(' ').map(parse_key).collect();
                (
                    scope,
                    seq,
                    Binding {
                        scope,
                        keys,
                        action,
                        desc,
                    },
                )
            })
            .collect();
        Keymap {
            entries,
            pending: Vec::new(),
        }
    }

    fn applies(scope: Scope, tab: Tab) -> bool {
        match scope {
            Scope::Global => true,
            Scope::Tables => tab.has_table(),
            Scope::Tab(t) => t == tab,
        }
    }

    /// Feed one key press; returns the action it completes, if any. A key that starts a longer
    /// sequence is remembered; any key that does not continue it clears it.
    pub fn on_key(&mut self, ev: &KeyEvent, tab: Tab) -> Option<Action> {
        let key = normalize(ev);
        let mut seq = self.pending.clone();
        seq.push(key);
        let matches_seq = |candidate: &[Key]| {
            self.entries
                .iter()
                .filter(|(scope, keys, _)| {
                    Self::applies(*scope, tab) && keys.starts_with(candidate)
                })
                .map(|(scope, keys, b)| (*scope, keys.len(), b.action))
                .collect::<Vec<_>>()
        };
        let mut found = matches_seq(&seq);
        if found.is_empty() && !self.pending.is_empty() {
            // Not a continuation: start over with this key alone.
            seq = vec![key];
            found = matches_seq(&seq);
        }
        let longer = found.iter().any(|(_, len, _)| *len > seq.len());
        // Tab-specific bindings win over table-wide ones, which win over global ones.
        let complete = found
            .iter()
            .filter(|(_, len, _)| *len == seq.len())
            .min_by_key(|(scope, _, _)| match scope {
                Scope::Tab(_) => 0,
                Scope::Tables => 1,
                Scope::Global => 2,
            })
            .map(|(_, _, a)| *a);
        self.pending = if longer { seq } else { Vec::new() };
        complete
    }

    /// Bindings that apply on `tab` for the help overlay: the tab's own keys first (the ones
    /// a person is looking for), then table keys, then global ones.
    pub fn help(&self, tab: Tab) -> Vec<&Binding> {
        let rank = |scope: &Scope| match scope {
            Scope::Tab(_) => 0,
            Scope::Tables => 1,
            Scope::Global => 2,
        };
        let mut out: Vec<&(Scope, Vec<Key>, Binding)> = self
            .entries
            .iter()
            .filter(|(scope, _, _)| Self::applies(*scope, tab))
            .collect();
        out.sort_by_key(|(scope, _, _)| rank(scope));
        // A key the tab binds itself wins over the shared one (on Outbox, Enter previews):
        // help lists only what the key does here.
        let shadowed = |i: usize, keys: &Vec<Key>, scope: &Scope| {
            out[..i]
                .iter()
                .any(|(s, k, _)| rank(s) < rank(scope) && k == keys)
        };
        out.iter()
            .enumerate()
            .filter(|(i, (scope, keys, _))| !shadowed(*i, keys, scope))
            .map(|(_, (_, _, b))| b)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn help_lists_a_key_once_with_what_it_does_on_that_tab() {
        let k = Keymap::new();
        let enter: Vec<&str> = k
            .help(Tab::Outbox)
            .iter()
            .filter(|b| b.keys == "Enter")
            .map(|b| b.desc)
            .collect();
        assert_eq!(enter.len(), 1, "{enter:?}");
        assert!(enter[0].contains("preview"), "{enter:?}");
        let mut k = Keymap::new();
        assert_eq!(
            k.on_key(&key(KeyCode::Enter), Tab::Outbox),
            Some(
                k.help(Tab::Outbox)
                    .iter()
                    .find(|b| b.keys == "Enter")
                    .unwrap()
                    .action
            )
        );
    }

    #[test]
    fn single_keys_map_per_tab() {
        let mut k = Keymap::new();
        assert_eq!(
            k.on_key(&key(KeyCode::Char('j')), Tab::Prospects),
            Some(Action::Down)
        );
        assert_eq!(k.on_key(&key(KeyCode::Char('x')), Tab::Prospects), None);
        assert_eq!(
            k.on_key(&key(KeyCode::Char('x')), Tab::Activity),
            Some(Action::CancelTask)
        );
        assert_eq!(
            k.on_key(&key(KeyCode::Char('3')), Tab::Settings),
            Some(Action::GoTab(2))
        );
        assert_eq!(
            k.on_key(
                &KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL),
                Tab::Outbox
            ),
            Some(Action::HalfDown)
        );
        assert_eq!(
            k.on_key(
                &KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT),
                Tab::Outbox
            ),
            Some(Action::Bottom)
        );
        assert_eq!(
            k.on_key(
                &KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT),
                Tab::Outbox
            ),
            Some(Action::PrevTab)
        );
    }

    #[test]
    fn g_g_sequence_and_reset() {
        let mut k = Keymap::new();
        assert_eq!(
            k.on_key(&key(KeyCode::Char('g')), Tab::Prospects),
            Some(Action::Top)
        );
        assert_eq!(
            k.on_key(&key(KeyCode::Char('g')), Tab::Prospects),
            Some(Action::Top)
        );
        // After a completed sequence nothing is pending: j moves.
        assert_eq!(
            k.on_key(&key(KeyCode::Char('j')), Tab::Prospects),
            Some(Action::Down)
        );
        // g then j: the pending g is dropped and j still works.
        k.on_key(&key(KeyCode::Char('g')), Tab::Prospects);
        assert_eq!(
            k.on_key(&key(KeyCode::Char('j')), Tab::Prospects),
            Some(Action::Down)
        );
    }

    #[test]
    fn help_lists_only_what_applies() {
        let k = Keymap::new();
        let activity: Vec<&str> = k.help(Tab::Activity).iter().map(|b| b.keys).collect();
        assert!(activity.contains(&"x") && activity.contains(&"p") && activity.contains(&"?"));
        assert!(!activity.contains(&"e"));
        assert!(!activity.contains(&"/"));
        let settings: Vec<&str> = k.help(Tab::Settings).iter().map(|b| b.keys).collect();
        assert!(settings.contains(&"e") && !settings.contains(&"/"));
    }

    #[test]
    fn every_action_is_reachable() {
        let k = Keymap::new();
        for tab in Tab::ALL {
            for b in k.help(tab) {
                assert!(!b.desc.is_empty());
            }
        }
    }
}
