//! Sending from the TUI, as pure state updates: `S` on Outbox asks for a plan and shows it
//! for confirmation, y/Enter starts the send task; the task's live figures feed the Activity
//! tab; `u` resolves an UNCERTAIN row; `t` on Settings tests the mailboxes.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent};

use super::app::{App, Effect, Mode, OUTBOX_EMAIL, OUTBOX_NOTE, OUTBOX_STATUS, TICK};
use super::keymap::Action;
use crate::engine::jobs::{JobId, JobKind};
use crate::engine::send::{LiveStatus, MailboxCheck, SendPlan};
use crate::store::sending::SOFT_BOUNCE_PREFIX;

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

/// What a send started now would do, from its plan: the engine sends through the mailboxes
/// whose window is open; with none open it waits for a window that opens within
/// `WAIT_AT_MOST`, and otherwise stops at once, sending nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum SendNow {
    /// No row to send (no approved READY row, no retry due).
    Nothing,
    /// Every mailbox is paused, failed or misconfigured.
    NoMailbox,
    /// No usable mailbox's window is open. `opens`: the first opening as shown ("Mon
    /// 09:00"); `waits`: soon enough that a run started now waits for it.
    Closed { opens: String, waits: bool },
    /// `now` messages fit in the open windows' `capacity`; `rest` are left for later, for
    /// tomorrow unless a mailbox's window is `closed` now.
    Open {
        capacity: u64,
        now: u64,
        rest: u64,
        closed: bool,
    },
}

pub fn send_now(plan: &SendPlan, now: chrono::DateTime<chrono::Utc>) -> SendNow {
    if !plan.has_usable_mailbox() {
        return SendNow::NoMailbox;
    }
    if plan.eligible == 0 {
        return SendNow::Nothing;
    }
    let usable = || plan.mailboxes.iter().filter(|m| m.error.is_none());
    let capacity: u64 = usable()
        .filter(|m| m.window_opens.is_none())
        .map(|m| m.cap_today.saturating_sub(m.sent_today) as u64)
        .sum();
    let closed = usable().any(|m| m.window_opens.is_some());
    if usable().all(|m| m.window_opens.is_some()) {
        let first = usable()
            .filter_map(|m| m.window_opens.as_deref())
            .map(|at| (chrono::DateTime::parse_from_rfc3339(at).ok(), at))
            .min_by_key(|(t, _)| *t);
        let (opens, waits) = match first {
            Some((Some(t), _)) => (
                t.format("%a %H:%M").to_string(),
                (t.with_timezone(&chrono::Utc) - now)
                    .to_std()
                    .is_ok_and(|d| d <= crate::engine::send::WAIT_AT_MOST)
                    || t.with_timezone(&chrono::Utc) <= now,
            ),
            Some((None, at)) => (at.to_string(), false),
            None => (String::new(), false),
        };
        return SendNow::Closed { opens, waits };
    }
    let sent_now = plan.eligible.min(capacity);
    SendNow::Open {
        capacity,
        now: sent_now,
        rest: plan.eligible - sent_now,
        closed,
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
                let email = row.cells.get(OUTBOX_EMAIL).cloned().unwrap_or_default();
                let note = row.cells.get(OUTBOX_NOTE).cloned().unwrap_or_default();
                match row.cells.get(OUTBOX_STATUS).map(String::as_str) {
                    Some("UNCERTAIN") => self.mode = Mode::ResolveUncertain { id: row.id, email },
                    Some("BOUNCED") if note.starts_with(SOFT_BOUNCE_PREFIX) => {
                        self.mode = Mode::ResendBounced {
                            id: row.id,
                            email,
                            reason: note,
                        }
                    }
                    Some("BOUNCED" | "INVALID") => self.toast(
                        "a hard bounce does not clear: this address is not mailed again",
                        false,
                    ),
                    _ => self.toast(
                        "u decides UNCERTAIN and soft-bounced rows only (t filters by status)",
                        false,
                    ),
                }
            }
            Action::ResumeMailboxes => {
                if self.settings.paused.is_empty() {
                    self.toast("no mailbox is paused", false);
                } else {
                    self.mode = Mode::ConfirmResume;
                }
            }
            Action::SelectMailbox => {
                let n = self.settings.mailboxes.len();
                if n == 0 {
                    self.toast("no mailbox configured: e edits config.toml", true);
                    return;
                }
                self.settings.selected = (self.settings.selected.min(n - 1) + 1) % n;
                let name = self.settings.mailboxes[self.settings.selected].clone();
                self.toast(format!("{name} selected: p pauses or resumes it"), false);
            }
            Action::ToggleMailboxPause => {
                let Some(name) = self.settings.selected_mailbox().map(str::to_string) else {
                    self.toast("no mailbox configured: e edits config.toml", true);
                    return;
                };
                match self.settings.paused.iter().find(|p| p.mailbox == name) {
                    // The rule paused it for a reason: R resumes, after naming that reason.
                    Some(p) if p.auto => self.toast(
                        format!(
                            "{name} was auto-paused ({}): R resumes it, asking first",
                            p.reason
                        ),
                        false,
                    ),
                    Some(_) => self.push_effect(Effect::SetMailboxPause { name, pause: false }),
                    None => self.push_effect(Effect::SetMailboxPause { name, pause: true }),
                }
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

    /// The plan for `S` arrived: show it for confirmation, unless the user moved on to typing
    /// or answering something else meanwhile: their next `y` or Enter must not start a send.
    pub fn on_send_plan(&mut self, plan: SendPlan) {
        if self.mode.takes_input() {
            self.toast("send not started: press S again to see the plan", false);
            return;
        }
        self.mode = Mode::ConfirmSend(Box::new(plan));
        self.dirty = true;
    }

    pub(super) fn on_confirm_send_key(&mut self, key: KeyEvent, plan: &SendPlan) {
        self.mode = Mode::Normal;
        if !matches!(key.code, KeyCode::Char('y' | 'Y') | KeyCode::Enter) {
            self.toast("send cancelled", false);
            return;
        }
        match send_now(plan, chrono::Utc::now()) {
            SendNow::NoMailbox => self.toast(
                "no mailbox can send: see the notes (R on Settings resumes a paused one)",
                true,
            ),
            SendNow::Nothing => self.toast("nothing to send", false),
            // A run started now would stop at once: nothing is started.
            SendNow::Closed {
                opens,
                waits: false,
            } => self.toast(
                format!("no sending window is open: nothing goes out before {opens}"),
                false,
            ),
            SendNow::Closed { waits: true, .. } | SendNow::Open { .. } => {
                self.push_effect(Effect::Send);
                self.toast("sending: follow it on the Activity tab (5)", false);
            }
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

    /// The wait before the next send, and each mailbox's, count down between two status
    /// messages (a mailbox's "next in 6 s" stood still while the header counted down).
    pub(super) fn send_tick(&mut self) {
        let running = |id| {
            self.activity
                .tasks
                .iter()
                .any(|t| t.id == id && t.state == super::app::TaskState::Running)
        };
        if let Some(live) = &self.send_live
            && running(live.task)
            && let Some(live) = &mut self.send_live
        {
            if let Some(d) = &mut live.status.next_send_in {
                *d = d.saturating_sub(TICK);
                self.dirty = true;
            }
            for m in &mut live.status.mailboxes {
                if let Some(d) = &mut m.next_in {
                    *d = d.saturating_sub(TICK);
                    m.state = if d.is_zero() {
                        "ready".into()
                    } else {
                        crate::engine::send::next_in_text(*d)
                    };
                    self.dirty = true;
                }
            }
        }
    }

    /// One mailbox's connection test finished (Settings tab).
    pub fn on_mailbox_check(&mut self, check: MailboxCheck) {
        self.settings.checks.retain(|c| c.name != check.name);
        self.settings.checks.push(check);
        self.dirty = true;
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crossterm::event::KeyModifiers;

    use super::*;
    use crate::engine::jobs::JobMsg;
    use crate::engine::send::{LiveMailbox, MailboxOut};
    use crate::store::sending::ResendRefusal;
    use crate::tui::app::{Pane, Settings, Tab};
    use crate::tui::table::TableRow;

    fn press(app: &mut App, code: KeyCode) {
        app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
    }

    fn plan(eligible: u64) -> SendPlan {
        SendPlan {
            require_approval: true,
            eligible,
            refused: 0,
            awaiting_approval: 0,
            remaining_today: 20,
            mailboxes: vec![MailboxOut {
                name: "sender".into(),
                sent_today: 0,
                cap_today: 20,
                ..MailboxOut::default()
            }],
        }
    }

    #[test]
    fn s_asks_for_a_plan_and_only_y_or_enter_starts_the_send() {
        let mut a = App::new(Settings::default(), PathBuf::from("/"), false);
        a.tab = Tab::Outbox;
        a.on_key(KeyEvent::new(KeyCode::Char('S'), KeyModifiers::SHIFT));
        assert_eq!(a.take_effects(), vec![Effect::PlanSend]);
        a.on_send_plan(plan(5));
        assert!(matches!(a.mode, Mode::ConfirmSend(_)));
        press(&mut a, KeyCode::Char('n'));
        assert_eq!(a.mode, Mode::Normal);
        assert!(a.take_effects().is_empty(), "n cancels");
        a.on_send_plan(plan(5));
        press(&mut a, KeyCode::Char('x'));
        assert!(a.take_effects().is_empty(), "any other key cancels");
        a.on_send_plan(plan(5));
        press(&mut a, KeyCode::Enter);
        assert_eq!(a.take_effects(), vec![Effect::Send]);
        a.on_send_plan(plan(0));
        press(&mut a, KeyCode::Char('y'));
        assert!(a.take_effects().is_empty(), "nothing to send");
        let mut paused = plan(5);
        paused.mailboxes[0].error = Some("paused: 3 hard bounces".into());
        a.on_send_plan(paused);
        press(&mut a, KeyCode::Char('y'));
        assert!(a.take_effects().is_empty(), "every mailbox is paused");
        // One send at a time.
        a.on_job(JobMsg::Started {
            id: 4,
            kind: JobKind::Send,
            title: "send".into(),
            pausable: true,
        });
        a.on_key(KeyEvent::new(KeyCode::Char('S'), KeyModifiers::SHIFT));
        assert!(a.take_effects().is_empty());
        assert!(a.keymap.help(Tab::Outbox).iter().any(|b| b.keys == "S"));
    }

    fn mailbox(name: &str, window_opens: Option<&str>) -> MailboxOut {
        MailboxOut {
            name: name.into(),
            cap_today: 50,
            window_opens: window_opens.map(str::to_string),
            ..MailboxOut::default()
        }
    }

    fn render(a: &mut App) -> String {
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
        t.draw(|f| crate::tui::ui::render(f, a)).unwrap();
        format!("{}", t.backend())
    }

    /// Every window closed (a Sunday, "Mon-Fri 09:00-18:00"): the popup says nothing goes
    /// out now and when the first window opens, and y starts nothing (the engine would stop
    /// at once). No row to send: it says so and offers no send.
    #[test]
    fn the_send_popup_says_when_nothing_goes_out_now() {
        let mut a = App::new(Settings::default(), PathBuf::from("/"), false);
        a.tab = Tab::Outbox;
        let closed = SendPlan {
            require_approval: true,
            eligible: 12,
            refused: 0,
            awaiting_approval: 0,
            remaining_today: 50,
            mailboxes: vec![mailbox("sender", Some("2099-11-23T09:00:00+01:00"))],
        };
        a.on_send_plan(closed.clone());
        let text = render(&mut a);
        assert!(text.contains("nothing goes out now"), "{text}");
        assert!(text.contains("Mon 09:00"), "{text}");
        assert!(!text.contains("All of them fit"), "{text}");
        assert!(!text.contains("y/Enter"), "{text}");
        press(&mut a, KeyCode::Char('y'));
        assert!(a.take_effects().is_empty(), "a run would stop at once");
        assert!(a.toast.as_ref().unwrap().text.contains("Mon 09:00"));

        let mut nothing = plan(0);
        nothing.mailboxes.push(mailbox("other", None));
        a.on_send_plan(nothing);
        let text = render(&mut a);
        assert!(text.contains("Nothing to send"), "{text}");
        assert!(!text.contains("All of them fit"), "{text}");
        assert!(!text.contains("y/Enter"), "{text}");
    }

    #[test]
    fn send_now_counts_only_open_windows() {
        let now = chrono::Utc::now();
        let soon = (now + chrono::Duration::seconds(60)).to_rfc3339();
        let plan = |mailboxes| SendPlan {
            require_approval: true,
            eligible: 80,
            refused: 0,
            awaiting_approval: 0,
            remaining_today: 100,
            mailboxes,
        };
        assert_eq!(
            send_now(
                &plan(vec![
                    mailbox("open", None),
                    mailbox("shut", Some("2099-11-23T09:00:00+01:00"))
                ]),
                now
            ),
            SendNow::Open {
                capacity: 50,
                now: 50,
                rest: 30,
                closed: true
            }
        );
        // A window opening within two minutes: the run waits for it.
        assert!(matches!(
            send_now(&plan(vec![mailbox("shut", Some(&soon))]), now),
            SendNow::Closed { waits: true, .. }
        ));
        assert_eq!(
            send_now(
                &plan(vec![
                    mailbox("a", Some("2099-11-24T08:00:00+01:00")),
                    mailbox("b", Some("2099-11-23T09:00:00+01:00"))
                ]),
                now
            ),
            SendNow::Closed {
                opens: "Mon 09:00".into(),
                waits: false
            }
        );
    }

    /// A plan arriving while the user types a filter is not shown: the `y` or Enter they type
    /// next belongs to the filter, and must not start a send.
    #[test]
    fn a_late_plan_never_takes_over_what_the_user_is_typing() {
        let mut a = App::new(Settings::default(), PathBuf::from("/"), false);
        a.tab = Tab::Outbox;
        a.on_key(KeyEvent::new(KeyCode::Char('S'), KeyModifiers::SHIFT));
        a.take_effects();
        press(&mut a, KeyCode::Char('/'));
        assert_eq!(a.mode, Mode::Filter);
        a.on_send_plan(plan(5));
        a.show_text("Preview of row 1", "text");
        assert_eq!(a.mode, Mode::Filter);
        press(&mut a, KeyCode::Char('y'));
        press(&mut a, KeyCode::Enter);
        assert!(!a.take_effects().contains(&Effect::Send));
        assert_eq!(a.mode, Mode::Normal, "Enter kept the filter");
        // From a read-only popup, the plan is shown.
        a.show_text("Preview of row 1", "text");
        a.on_send_plan(plan(5));
        assert!(matches!(a.mode, Mode::ConfirmSend(_)));
    }

    /// An Outbox table row: status, approval, address, company, subject, counts, note.
    fn outbox_row(id: i64, status: &str, note: &str) -> TableRow {
        TableRow::new(
            id,
            vec![
                status.into(),
                String::new(),
                format!("p{id}@acme.test"),
                "Acme".into(),
                "Hi".into(),
                String::new(),
                note.into(),
            ],
        )
    }

    #[test]
    fn u_decides_an_uncertain_row_only() {
        let mut a = App::new(Settings::default(), PathBuf::from("/"), false);
        a.tab = Tab::Outbox;
        let row = |id: i64, status: &str| outbox_row(id, status, "");
        a.on_loaded(Pane::Outbox, vec![row(1, "READY"), row(2, "UNCERTAIN")]);
        press(&mut a, KeyCode::Char('u'));
        assert_eq!(a.mode, Mode::Normal, "READY rows are not UNCERTAIN");
        press(&mut a, KeyCode::Char('j'));
        press(&mut a, KeyCode::Char('u'));
        assert_eq!(
            a.mode,
            Mode::ResolveUncertain {
                id: 2,
                email: "p2@acme.test".into()
            }
        );
        press(&mut a, KeyCode::Esc);
        assert!(a.take_effects().is_empty());
        press(&mut a, KeyCode::Char('u'));
        press(&mut a, KeyCode::Char('r'));
        press(&mut a, KeyCode::Char('u'));
        press(&mut a, KeyCode::Char('s'));
        assert_eq!(
            a.take_effects(),
            vec![
                Effect::ResolveUncertain { id: 2, sent: false },
                Effect::ResolveUncertain { id: 2, sent: true }
            ]
        );
    }

    /// `u` on a BOUNCED row: a soft bounce asks whether to send it again (r does); a hard one
    /// only says why not.
    #[test]
    fn u_offers_to_send_a_soft_bounced_row_again() {
        let mut a = App::new(Settings::default(), PathBuf::from("/"), false);
        a.tab = Tab::Outbox;
        let row = outbox_row;
        a.on_loaded(
            Pane::Outbox,
            vec![
                row(1, "BOUNCED", "hard: blocked 5.7.1"),
                row(2, "BOUNCED", "soft: mailboxfull 4.2.2"),
            ],
        );
        press(&mut a, KeyCode::Char('u'));
        assert_eq!(a.mode, Mode::Normal);
        assert!(
            a.toast.as_ref().unwrap().text.contains("hard bounce"),
            "{:?}",
            a.toast
        );
        press(&mut a, KeyCode::Char('j'));
        press(&mut a, KeyCode::Char('u'));
        assert_eq!(
            a.mode,
            Mode::ResendBounced {
                id: 2,
                email: "p2@acme.test".into(),
                reason: "soft: mailboxfull 4.2.2".into()
            }
        );
        press(&mut a, KeyCode::Char('x'));
        assert_eq!(a.mode, Mode::Normal);
        assert!(a.take_effects().is_empty(), "any other key keeps the row");
        press(&mut a, KeyCode::Char('u'));
        press(&mut a, KeyCode::Char('r'));
        assert_eq!(
            a.take_effects(),
            vec![Effect::ResendBounced {
                id: 2,
                force: false
            }]
        );
        // Refused after two same-way bounces: a dialog offers to force it; f does.
        a.on_resend_refused(repeated(2));
        assert!(matches!(a.mode, Mode::ConfirmForceResend { id: 2, .. }));
        press(&mut a, KeyCode::Char('y'));
        assert_eq!(a.mode, Mode::Normal);
        assert!(a.take_effects().is_empty(), "only f forces");
        a.on_resend_refused(repeated(2));
        press(&mut a, KeyCode::Char('f'));
        assert_eq!(
            a.take_effects(),
            vec![Effect::ResendBounced { id: 2, force: true }]
        );
    }

    fn repeated(id: i64) -> ResendRefusal {
        ResendRefusal::RepeatedSoftBounce {
            id,
            count: 2,
            why: "norelaying 5.7.1".into(),
        }
    }

    /// The dialog that offers to force a resend is chosen by the refusal's type, not its
    /// wording: only a repeated soft bounce offers it, and says so without the CLI's
    /// `--force`; a refusal that forcing would not lift (suppressed, changed meanwhile) is
    /// an error toast.
    #[test]
    fn only_a_refusal_that_force_lifts_offers_the_force_dialog() {
        let mut a = App::new(Settings::default(), PathBuf::from("/"), false);
        a.tab = Tab::Outbox;
        for refusal in [
            ResendRefusal::ChangedMeanwhile { id: 2 },
            ResendRefusal::Suppressed {
                id: 2,
                what: "x@acme.test (manual)".into(),
                entry: "x@acme.test".into(),
            },
            ResendRefusal::NoRow { id: 2 },
        ] {
            let text = refusal.to_string();
            a.on_resend_refused(refusal);
            assert_eq!(a.mode, Mode::Normal, "{text}");
            let toast = a.toast.take().unwrap();
            assert!(toast.error && toast.text == text, "{toast:?}");
        }
        a.on_resend_refused(repeated(2));
        let Mode::ConfirmForceResend { id: 2, refusal } = &a.mode else {
            panic!("{:?}", a.mode)
        };
        let text = refusal.to_string();
        assert_eq!(
            text,
            "row 2: 2 of its messages soft-bounced the same way (norelaying 5.7.1): sent \
             again, it did not clear"
        );
    }

    #[test]
    fn t_tests_the_mailboxes_once_at_a_time() {
        let mut a = App::new(Settings::default(), PathBuf::from("/"), false);
        a.tab = Tab::Settings;
        press(&mut a, KeyCode::Char('t'));
        assert!(a.take_effects().is_empty(), "no mailbox configured");
        a.settings.mailboxes = vec!["sender".into()];
        press(&mut a, KeyCode::Char('t'));
        press(&mut a, KeyCode::Char('t'));
        assert_eq!(a.take_effects(), vec![Effect::TestMailboxes]);
        a.on_job(JobMsg::Started {
            id: 1,
            kind: JobKind::MailboxTest,
            title: "test mailboxes".into(),
            pausable: false,
        });
        a.on_mailbox_check(MailboxCheck {
            name: "sender".into(),
            smtp: Ok("ok".into()),
            imap: None,
        });
        a.on_job(JobMsg::Finished {
            id: 1,
            outcome: crate::engine::jobs::Outcome::Done("1 mailboxes OK, 0 failed".into()),
            cancelled: false,
        });
        assert!(!a.settings.checking);
        assert_eq!(a.settings.checks.len(), 1);
    }

    #[test]
    fn live_status_counts_down_and_gives_rate_and_eta() {
        let mut a = App::new(Settings::default(), PathBuf::from("/"), false);
        a.on_job(JobMsg::Started {
            id: 2,
            kind: JobKind::Send,
            title: "send".into(),
            pausable: true,
        });
        a.on_job(JobMsg::SendStatus {
            id: 2,
            status: Box::new(LiveStatus {
                done: 10,
                total: 40,
                sent: 10,
                mailboxes: vec![LiveMailbox {
                    state: "next in 6 s".into(),
                    next_in: Some(Duration::from_millis(5500)),
                    ..LiveMailbox::default()
                }],
                next_send_in: Some(Duration::from_secs(5)),
                ..LiveStatus::default()
            }),
        });
        for _ in 0..4 {
            a.on_tick();
        }
        let live = a.send_live.clone().unwrap();
        assert_eq!(live.status.next_send_in, Some(Duration::from_secs(4)));
        // Each mailbox's wait counts down with the header's.
        assert_eq!(live.status.mailboxes[0].state, "next in 5 s");
        let elapsed = Duration::from_secs(60);
        assert_eq!(live.per_minute(elapsed), Some(10.0));
        assert_eq!(live.eta(elapsed), Some(Duration::from_secs(180)));
        a.on_job(JobMsg::Finished {
            id: 2,
            outcome: crate::engine::jobs::Outcome::Done("done".into()),
            cancelled: false,
        });
        assert!(a.take_effects().contains(&Effect::Load(Pane::Outbox)));
    }
}
