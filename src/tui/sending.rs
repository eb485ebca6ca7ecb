//! Sending from the TUI, as pure state updates: `S` on Outbox asks for a plan and shows it
//! for confirmation, y/Enter starts the send task; the task's live figures feed the Activity
//! tab; `u` resolves an UNCERTAIN row; `t` on Settings tests the mailboxes.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent};

use super::app::{App, Effect, Mode, OUTBOX_EMAIL, OUTBOX_STATUS, TICK};
use super::keymap::Action;
use crate::engine::jobs::{JobId, JobKind};
use crate::engine::send::{LiveStatus, MailboxCheck, SendPlan};

/// The live figures of one send task.
#[derive(Debug, Clone, PartialEq)]
pub struct SendLive {
    pub task: JobId,
    pub status: LiveStatus,
}

impl SendLive {
    /// Messages handled per minute over the task's running time (pauses excluded).
    pub fn per_minute(&self, elapsed: Duration) -> Option<f64> {
        let secs = elapsed.as_secs_f64();
        (secs >= 1.0 && self.status.done > 0).then(|| self.status.done as f64 * 60.0 / secs)
    }

    /// Time left at the rate so far; at least the wait before the next send.
    pub fn eta(&self, elapsed: Duration) -> Option<Duration> {
        let left = self.status.total.saturating_sub(self.status.done);
        if left == 0 {
            return Some(Duration::ZERO);
        }
        let rate = self.per_minute(elapsed)? / 60.0;
        let eta = Duration::from_secs_f64(left as f64 / rate);
        Some(eta.max(self.status.next_send_in.unwrap_or_default()))
    }
}

impl App {
    pub(super) fn on_send_action(&mut self, action: Action) {
        match action {
            Action::Send => {
                if self.activity.running().any(|t| t.kind == JobKind::Send) {
                    self.toast("a send is already running (see Activity)", false);
                } else {
                    self.push_effect(Effect::PlanSend);
                }
            }
            Action::ResolveUncertain => {
                let Some(row) = self.outbox.selected_row() else {
                    return;
                };
                if row.cells.get(OUTBOX_STATUS).map(String::as_str) != Some("UNCERTAIN") {
                    self.toast(
                        "u resolves UNCERTAIN rows only (t filters by status)",
                        false,
                    );
                    return;
                }
                self.mode = Mode::ResolveUncertain {
                    id: row.id,
                    email: row.cells.get(OUTBOX_EMAIL).cloned().unwrap_or_default(),
                };
            }
            Action::TestMailboxes => {
                if self.settings.mailboxes.is_empty() {
                    self.toast("no mailbox configured: e edits config.toml", true);
                } else if self.settings.checking {
                    self.toast("the mailbox test is already running", false);
                } else {
                    self.settings.checking = true;
                    self.settings.checks.clear();
                    self.push_effect(Effect::TestMailboxes);
                }
            }
            _ => {}
        }
    }

    /// The plan for `S` arrived: show it for confirmation.
    pub fn on_send_plan(&mut self, plan: SendPlan) {
        self.mode = Mode::ConfirmSend(Box::new(plan));
        self.dirty = true;
    }

    pub(super) fn on_confirm_send_key(&mut self, key: KeyEvent, plan: &SendPlan) {
        self.mode = Mode::Normal;
        match key.code {
            KeyCode::Char('y' | 'Y') | KeyCode::Enter if plan.eligible > 0 => {
                self.push_effect(Effect::Send);
                self.toast("sending: follow it on the Activity tab (5)", false);
            }
            KeyCode::Char('y' | 'Y') | KeyCode::Enter => {
                self.toast("nothing to send", false);
            }
            _ => self.toast("send cancelled", false),
        }
    }

    pub(super) fn on_uncertain_key(&mut self, key: KeyEvent, id: i64) {
        match key.code {
            KeyCode::Char('s' | 'S') => {
                self.mode = Mode::Normal;
                self.push_effect(Effect::ResolveUncertain { id, sent: true });
            }
            KeyCode::Char('r' | 'R') => {
                self.mode = Mode::Normal;
                self.push_effect(Effect::ResolveUncertain { id, sent: false });
            }
            KeyCode::Esc | KeyCode::Char('q' | 'n') => self.mode = Mode::Normal,
            _ => {}
        }
    }

    pub(super) fn on_send_status(&mut self, id: JobId, status: LiveStatus) {
        self.send_live = Some(SendLive { task: id, status });
    }

    /// The wait before the next send counts down between two status messages.
    pub(super) fn send_tick(&mut self) {
        let running = |id| {
            self.activity
                .tasks
                .iter()
                .any(|t| t.id == id && t.state == super::app::TaskState::Running)
        };
        if let Some(live) = &self.send_live
            && running(live.task)
            && live.status.next_send_in.is_some()
            && let Some(live) = &mut self.send_live
            && let Some(d) = &mut live.status.next_send_in
        {
            *d = d.saturating_sub(TICK);
            self.dirty = true;
        }
    }

    /// One mailbox's connection test finished (Settings tab).
    pub fn on_mailbox_check(&mut self, check: MailboxCheck) {
        self.settings.checks.retain(|c| c.name != check.name);
        self.settings.checks.push(check);
        self.dirty = true;
    }
}
