//! Rendering: pure functions of the App state into a frame. No IO, no locks.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{
    Block, Borders, Cell, Clear, Gauge, Paragraph, Row, Scrollbar, ScrollbarOrientation,
    ScrollbarState, Table, TableState, Tabs, Wrap,
};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::app::{App, Mode, Tab, TaskState};
use super::keymap::INPUT_KEYS;
use super::table::{Column, TableView};
use crate::engine::jobs::Level;

/// Styles that degrade to modifiers only under NO_COLOR.
struct Theme {
    color: bool,
}

impl Theme {
    fn accent(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }
    fn selected(&self) -> Style {
        if self.color {
            Style::new().bg(Color::Blue).fg(Color::White)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }
    fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }
    fn error(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }
    fn warn(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Yellow)
        } else {
            Style::new()
        }
    }
    fn gauge(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Green)
        } else {
            Style::new()
        }
    }
}

/// Replace control characters from untrusted text (files, servers) before drawing.
pub fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' => '⏎',
            '\t' => ' ',
            c if c.is_control() => '�',
            c => c,
        })
        .collect()
}

pub fn render(f: &mut Frame, app: &mut App) {
    let theme = Theme { color: app.color };
    let [tabs_area, main, info, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(status_height(app, f.area().width)),
    ])
    .areas(f.area());
    DIALOG_AREA.with(|a| a.set(Some(main)));

    render_tabs(f, app, tabs_area, &theme);
    match app.tab {
        // Both clamp their scroll state to what they can show, so the way back is one key
        // press after scrolling past the end.
        Tab::Activity => {
            let max = render_activity(f, app, main, &theme);
            app.activity.log_back = app.activity.log_back.min(max);
        }
        Tab::Settings => {
            let max = render_settings(f, app, main, &theme);
            app.settings.scroll = app.settings.scroll.min(max);
            // PageDown and PageUp move by what the box shows.
            app.page_height = main.height.saturating_sub(2).max(1) as usize;
        }
        _ => {
            let title = table_title(app);
            // Bounces: the chart and the rates above the table, when there is room for both.
            let main = if app.tab == Tab::Bounces && main.height >= 14 {
                let [panel, rest] =
                    Layout::vertical([Constraint::Length(7), Constraint::Min(5)]).areas(main);
                render_bounce_panel(f, app, panel, &theme);
                rest
            } else {
                main
            };
            // The Outbox gets its campaign summary line above the table.
            let main = match (&app.outbox_summary, app.tab) {
                (Some(c), Tab::Outbox) if main.height > 4 => {
                    let line = cut(&c.line(main.width as usize), main.width as usize);
                    let [top, rest] =
                        Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(main);
                    f.render_widget(Paragraph::new(Line::styled(line, theme.dim())), top);
                    rest
                }
                _ => main,
            };
            // A filter applied when the rows are loaded (not the table's own `/` filter).
            let load_filter = match app.tab {
                Tab::Suggestions if app.min_confidence > 0 => {
                    Some(format!("confidence ≥ {} (+ cycles)", app.min_confidence))
                }
                Tab::Bounces if !app.bounce_pane.describe().is_empty() => {
                    Some(app.bounce_pane.describe())
                }
                _ => None,
            };
            let (color, page) = (app.color, &mut app.page_height);
            if let Some(table) = match app.tab {
                Tab::Prospects if app.show_messages => Some(&mut app.messages),
                Tab::Prospects => Some(&mut app.prospects),
                Tab::Suggestions => Some(&mut app.suggestions),
                Tab::Outbox => Some(&mut app.outbox),
                Tab::Bounces => Some(&mut app.bounces),
                _ => None,
            } {
                *page = render_table(
                    f,
                    table,
                    main,
                    &title,
                    load_filter.as_deref(),
                    &Theme { color },
                );
            }
        }
    }
    render_info(f, app, info, &theme);
    render_status(f, app, status, &theme);

    // Each scrolling popup returns its largest useful offset; the state is clamped to it so
    // k moves up at once after j was pressed past the end.
    let max_scroll = match &app.mode {
        Mode::Help { scroll } => Some(render_help(f, app, *scroll, &theme)),
        Mode::Detail { scroll } => Some(render_detail(f, app, *scroll, &theme)),
        Mode::Text {
            title,
            text,
            scroll,
        } => Some(render_text(f, title, text, *scroll)),
        _ => None,
    };
    if let (
        Some(max),
        Mode::Help { scroll } | Mode::Detail { scroll } | Mode::Text { scroll, .. },
    ) = (max_scroll, &mut app.mode)
    {
        *scroll = (*scroll).min(max);
    }
    match &app.mode {
        Mode::Help { .. } | Mode::Detail { .. } | Mode::Text { .. } => {}
        Mode::Prompt(p) => {
            let area = popup(dialog_area(f), 70, 6);
            f.render_widget(Clear, area);
            let mut lines = vec![Line::from(vec![
                Span::raw("path: "),
                Span::styled(format!("{}▏", p.input), theme.accent()),
            ])];
            if !p.candidates.is_empty() {
                lines.push(Line::styled(
                    sanitize(&p.candidates.join("  ")),
                    theme.dim(),
                ));
            }
            lines.push(Line::styled(
                "Tab completes · Enter imports · Esc cancels",
                theme.dim(),
            ));
            let block = Block::bordered().title(format!(" Import {} from ", p.kind.name()));
            f.render_widget(
                Paragraph::new(lines)
                    .block(block)
                    .wrap(Wrap { trim: false }),
                area,
            );
        }
        Mode::EditEmail { who, input, .. } => render_line_input(
            f,
            &theme,
            60,
            " Edit address ",
            "address: ",
            input,
            &[
                &format!("for {}", sanitize(who)),
                "Enter saves · Esc cancels",
            ],
        ),
        Mode::BounceDates { input } => render_line_input(
            f,
            &theme,
            70,
            " Bounces date range ",
            "dates: ",
            input,
            &[
                "2026-11-01..2026-11-30 · 2026-11-01.. · ..2026-11-30 · 2026-11-05 (UTC)",
                "Enter filters · empty clears · Esc cancels",
            ],
        ),
        Mode::ConfirmQuit => {
            let area = popup(dialog_area(f), 50, 5);
            f.render_widget(Clear, area);
            // Counted at each frame: tasks may end while the question is open.
            let (first, question) = match app.activity.running().count() {
                0 => ("Every task has finished.".to_string(), "Quit?"),
                1 => ("1 task still running.".to_string(), "Quit and cancel it?"),
                n => (format!("{n} tasks still running."), "Quit and cancel them?"),
            };
            f.render_widget(
                Paragraph::new(vec![
                    Line::from(first),
                    Line::styled(question, theme.accent()),
                    Line::styled("y or q: quit · any other key: stay", theme.accent()),
                ])
                .alignment(Alignment::Center)
                .block(Block::bordered().title(" Quit ")),
                area,
            );
        }
        Mode::ConfirmResume => {
            let paused = &app.settings.paused;
            let area = popup(dialog_area(f), 70, 5 + paused.len().min(8) as u16);
            f.render_widget(Clear, area);
            let mut lines: Vec<Line> = paused
                .iter()
                .take(8)
                .map(|p| {
                    let by = if p.auto { "auto" } else { "by hand" };
                    Line::from(cut(
                        &format!("{} · {by}: {}", p.mailbox, sanitize(&p.reason)),
                        area.width.saturating_sub(2) as usize,
                    ))
                })
                .collect();
            if paused.len() > 8 {
                lines.push(Line::from(format!("… and {} more", paused.len() - 8)));
            }
            lines.push(Line::styled(
                "y: resume them all · any other key: keep them paused",
                theme.accent(),
            ));
            f.render_widget(
                Paragraph::new(lines).block(Block::bordered().title(match paused.len() {
                    1 => " Resume 1 mailbox? ".to_string(),
                    n => format!(" Resume {n} mailboxes? "),
                })),
                area,
            );
        }
        Mode::ConfirmAcceptDead { email, verdict, .. } => {
            let area = popup(dialog_area(f), 70, 7);
            f.render_widget(Clear, area);
            f.render_widget(
                Paragraph::new(vec![
                    Line::from(format!(
                        "{} was verified {}.",
                        sanitize(email),
                        sanitize(verdict)
                    )),
                    Line::from("The outbox build will block it (ERROR row)."),
                    Line::styled("c shows an alternative; e types another", theme.dim()),
                    Line::styled("y: accept anyway · any other key: leave it", theme.accent()),
                ])
                .alignment(Alignment::Center)
                .block(Block::bordered().title(" Accept an undeliverable address? ")),
                area,
            );
        }
        Mode::ConfirmSetNoMail { email, why, .. } => {
            let area = popup(dialog_area(f), 70, 7);
            f.render_widget(Clear, area);
            f.render_widget(
                Paragraph::new(vec![
                    Line::from(format!(
                        "{} is at a domain that takes no mail:",
                        sanitize(email)
                    )),
                    Line::from(sanitize(why)),
                    Line::styled(
                        "y: set it anyway · any other key: leave the row",
                        theme.accent(),
                    ),
                ])
                .alignment(Alignment::Center)
                .block(Block::bordered().title(" Set an address that cannot receive? ")),
                area,
            );
        }
        Mode::ConfirmSuppress { email } => {
            let area = popup(dialog_area(f), 70, 7);
            f.render_widget(Clear, area);
            f.render_widget(
                Paragraph::new(vec![
                    Line::from(format!("Suppress {}?", sanitize(email))),
                    Line::from("It will never be mailed; rows to it become ERROR."),
                    Line::styled(
                        "(undo from a shell: hailer suppress remove ADDRESS)",
                        theme.dim(),
                    ),
                    Line::styled("y: suppress · any other key: keep", theme.accent()),
                ])
                .alignment(Alignment::Center)
                .block(Block::bordered().title(" Suppress ")),
                area,
            );
        }
        Mode::ConfirmSend(plan) => render_send_confirm(f, plan, &theme),
        Mode::ResolveUncertain { id, email } => {
            let area = popup(dialog_area(f), 66, 10);
            f.render_widget(Clear, area);
            f.render_widget(
                Paragraph::new(vec![
                    Line::from(format!("Row {id} to {} is UNCERTAIN:", sanitize(email))),
                    Line::from("the run stopped, or the connection broke, while the server was"),
                    Line::from("taking it: it may or may not have it. No copy in Sent proves"),
                    Line::from("nothing (copies follow acceptance): ask the recipient or read"),
                    Line::from("the server's log. hailer never resends it by itself."),
                    Line::styled(
                        "s: it went out (SENT) · r: requeue (READY, approve again) · Esc",
                        theme.accent(),
                    ),
                ])
                .wrap(Wrap { trim: false })
                .block(Block::bordered().title(" UNCERTAIN row ")),
                area,
            );
        }
        Mode::ResendBounced { id, email, reason } => {
            let area = popup(dialog_area(f), 66, 9);
            f.render_widget(Clear, area);
            f.render_widget(
                Paragraph::new(vec![
                    Line::from(format!("Row {id} to {} bounced:", sanitize(email))),
                    Line::from(sanitize(reason)),
                    Line::from("A soft bounce may clear (a full mailbox emptied, a server back"),
                    Line::from("up). The third soft bounce of an address suppresses it."),
                    Line::styled(
                        "r: send it again (READY, approve again) · any other key: keep",
                        theme.accent(),
                    ),
                ])
                .wrap(Wrap { trim: false })
                .block(Block::bordered().title(" Soft bounce ")),
                area,
            );
        }
        Mode::ConfirmForceResend { id, refusal } => {
            let area = popup(dialog_area(f), 66, 11);
            f.render_widget(Clear, area);
            f.render_widget(
                Paragraph::new(vec![
                    Line::from(sanitize(&refusal.to_string())),
                    Line::from(""),
                    Line::from(format!(
                        "Sending row {id} once more risks another bounce, which costs the"
                    )),
                    Line::from("mailbox's reputation; a third soft-bounced message suppresses"),
                    Line::from("the address for good."),
                    Line::styled(
                        "f: send it again anyway (READY) · any other key: keep it BOUNCED",
                        theme.accent(),
                    ),
                ])
                .wrap(Wrap { trim: false })
                .block(Block::bordered().title(" Bounced the same way twice ")),
                area,
            );
        }
        Mode::Normal | Mode::Filter => {}
    }
}

/// A text bar `width` cells wide (fast, and readable under NO_COLOR).
fn bar(ratio: f64, width: usize) -> String {
    let filled = ((ratio.clamp(0.0, 1.0) * width as f64).round() as usize).min(width);
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

/// `text` in at most `width` cells: a value that does not fit is cut and ends with `…`, so a
/// cut value never reads as a whole one (`Enter` shows it whole). Widths are display cells,
/// counted per grapheme as ratatui draws them (a CJK character or an emoji takes two); a wide
/// character is never split, so a cut value may end one cell short. Stops reading at the
/// first grapheme past the width: a long value costs no more than a short one.
pub fn cut(text: &str, width: usize) -> String {
    let mut used = 0;
    // Where the value is cut when it does not fit: the end of the graphemes that leave a cell
    // for the `…`.
    let mut keep = 0;
    for (at, g) in text.grapheme_indices(true) {
        let w = g.width();
        if used + w > width {
            if width == 0 {
                return String::new();
            }
            let mut out = String::with_capacity(keep + '…'.len_utf8());
            out.push_str(&text[..keep]);
            out.push('…');
            return out;
        }
        used += w;
        if used < width {
            keep = at + g.len();
        }
    }
    text.to_string()
}

/// `text` in exactly `width` cells: cut as [`cut`] does, then padded with spaces by display
/// width (`{:<12}` counts characters, so a CJK name, two cells a character, would push the
/// columns after it out of line).
pub fn pad(text: &str, width: usize) -> String {
    let mut out = cut(text, width);
    let used: usize = out.graphemes(true).map(|g| g.width()).sum();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
}

/// `text` in at most `width` cells, cut in the middle when it does not fit: names such as
/// `outreach-mailbox-number-1` and `-2` differ at their end, which a cut at the end loses.
/// The end keeps the larger half.
pub fn cut_middle(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    if width < 3 {
        return cut(text, width);
    }
    let room = width - 1;
    let head_w = room / 2;
    let mut head = String::new();
    let mut used = 0;
    for g in text.graphemes(true) {
        if used + g.width() > head_w {
            break;
        }
        used += g.width();
        head.push_str(g);
    }
    let mut tail: Vec<&str> = Vec::new();
    let mut tail_used = 0;
    for g in text.graphemes(true).rev() {
        if used + tail_used + g.width() > room {
            break;
        }
        tail_used += g.width();
        tail.push(g);
    }
    tail.reverse();
    format!("{head}…{}", tail.concat())
}

/// The width of a mailbox name column: the longest name, at least 12 cells (the columns
/// stay where they were for short names), at most `max`.
fn name_width<'a>(names: impl Iterator<Item = &'a str>, max: usize) -> usize {
    names
        .map(|n| sanitize(n).width())
        .max()
        .unwrap_or(0)
        .max(12)
        .min(max)
}

/// A column header with its sort arrow (`" ↑"`, `" ↓"` or none) in `width` cells. When the two
/// do not fit, the label is cut as a cell is (it ends with `…`) and the arrow kept: it is what
/// says the table is sorted by that column. Headers without an arrow are left as they are.
fn sorted_header(label: &str, arrow: &str, width: usize) -> String {
    let full = format!("{label}{arrow}");
    if arrow.is_empty() || full.width() <= width {
        return full;
    }
    let arrow_w = arrow.width();
    if width <= arrow_w {
        // Room for the arrow alone.
        return cut(arrow.trim_start(), width);
    }
    format!("{}{arrow}", cut(label, width - arrow_w))
}

/// `S` on Outbox: what the send would do, for a y/n.
/// A popup of `width` with one input line (`label`, the text, a cursor) and hint lines.
fn render_line_input(
    f: &mut Frame,
    theme: &Theme,
    width: u16,
    title: &str,
    label: &str,
    input: &str,
    hints: &[&str],
) {
    // A hint that does not fit breaks between its items, never inside one.
    let inner = width
        .min(f.area().width.saturating_sub(2))
        .saturating_sub(2) as usize;
    let hints: Vec<String> = hints.iter().flat_map(|h| wrap_hint(h, inner)).collect();
    let area = popup(dialog_area(f), width, 3 + hints.len() as u16);
    f.render_widget(Clear, area);
    let mut lines = vec![Line::from(vec![
        Span::raw(label.to_string()),
        Span::styled(format!("{}▏", sanitize(input)), theme.accent()),
    ])];
    lines.extend(hints.into_iter().map(|h| Line::styled(h, theme.dim())));
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(title.to_string())),
        area,
    );
}

fn render_send_confirm(f: &mut Frame, plan: &crate::engine::send::SendPlan, theme: &Theme) {
    let what = if plan.require_approval {
        "approved READY rows and due retries"
    } else {
        "READY rows (approval not required) and due retries"
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(
            match plan.eligible {
                1 => "1 message".to_string(),
                n => format!("{n} messages"),
            },
            theme.accent(),
        ),
        Span::raw(format!(" to send: {what}")),
    ])];
    let inner = popup(dialog_area(f), 72, 0).width.saturating_sub(2) as usize;
    if plan.refused > 0 {
        let refused = format!(
            "{} more {} not be sent: suppressed or blocked since the build (b rebuilds to \
             show why)",
            plan.refused,
            if plan.refused == 1 {
                "row will"
            } else {
                "rows will"
            }
        );
        lines.extend(
            wrap_words(&refused, inner)
                .into_iter()
                .map(|l| Line::styled(l, theme.error())),
        );
    }
    // The names are told apart: as wide as the longest, within what leaves the figures their
    // 21 cells and the note 16; a longer one is cut in the middle.
    let name_w = name_width(
        plan.mailboxes.iter().map(|m| m.name.as_str()),
        inner.saturating_sub(21 + 16),
    );
    lines.extend([
        Line::raw(""),
        Line::styled(
            format!(
                "{} {:>11} {:>6}  {}",
                pad("mailbox", name_w),
                "sent today",
                "left",
                "note"
            ),
            theme.dim(),
        ),
    ]);
    let mut rows: Vec<Vec<Line>> = Vec::new();
    for m in &plan.mailboxes {
        let mut row = Vec::new();
        let left = m.cap_today.saturating_sub(m.sent_today);
        let note = mailbox_day_note(m);
        let style = if m.error.is_some() {
            theme.error()
        } else {
            Style::new()
        };
        // The note wraps under its own column: a reason cut mid-word says nothing.
        let head = format!(
            "{} {:>11} {:>6}  ",
            pad(&cut_middle(&sanitize(&m.name), name_w), name_w),
            format!("{}/{}", m.sent_today, m.cap_today),
            left,
        );
        let room = inner.saturating_sub(head.width()).max(16);
        for (i, part) in wrap_words(&sanitize(&note), room).into_iter().enumerate() {
            let lead = if i == 0 {
                head.clone()
            } else {
                " ".repeat(head.width())
            };
            row.push(Line::styled(format!("{lead}{part}"), style));
        }
        rows.push(row);
    }
    use super::sending::SendNow;
    let (summary, hint) = match super::sending::send_now(plan, chrono::Utc::now()) {
        SendNow::NoMailbox => (
            "No mailbox can send now: see the notes above.".to_string(),
            "R on Settings resumes a paused mailbox · any key closes",
        ),
        SendNow::Nothing => (
            if plan.require_approval && plan.awaiting_approval > 0 {
                format!(
                    "Nothing to send: {} for an approval, and no retry is due.",
                    crate::text::count(
                        plan.awaiting_approval,
                        "READY row waits",
                        "READY rows wait"
                    )
                )
            } else if plan.require_approval {
                "Nothing to send: no approved READY row and no retry due.".to_string()
            } else {
                "Nothing to send: no READY row and no retry due.".to_string()
            },
            "approve rows with a, then S again · any key closes",
        ),
        SendNow::Closed {
            opens,
            waits: false,
        } => (
            format!(
                "No sending window is open: nothing goes out now. The first opens {opens}; \
                 a send started before then would stop at once: press S again then."
            ),
            "any key closes",
        ),
        SendNow::Closed { opens, waits: true } => (
            format!(
                "No sending window is open yet: the first opens {opens}, and a send \
                 started now waits for it."
            ),
            "y/Enter: send (pause, resume, cancel on Activity) · n/Esc: cancel",
        ),
        SendNow::Open {
            capacity,
            now,
            rest,
            closed,
        } => {
            let what = if closed {
                "Capacity in open windows"
            } else {
                "Capacity left today"
            };
            let summary = if rest == 0 {
                format!("{what}: {capacity}. All of them fit.")
            } else if closed {
                format!("{what}: {capacity}. {now} go out now; {rest} wait for a later run.")
            } else {
                format!("{what}: {capacity}. {now} go out now; {rest} wait for tomorrow.")
            };
            (
                summary,
                "y/Enter: send (pause, resume, cancel on Activity) · n/Esc: cancel",
            )
        }
    };
    // The popup grows with the mailbox notes and the summary, which wrap.
    let mut tail = vec![Line::raw("")];
    tail.extend(wrap_words(&summary, inner).into_iter().map(Line::from));
    tail.push(Line::styled(hint, theme.accent()));
    // Mailboxes that do not fit in the dialog are counted on one line, with what they sent
    // and have left today, so the figures still add up.
    let room = (dialog_area(f).height as usize).saturating_sub(lines.len() + tail.len() + 3);
    let needed: usize = rows.iter().map(Vec::len).sum();
    let mut shown = rows.len();
    if needed > room {
        let mut used = 1;
        shown = rows
            .iter()
            .take_while(|r| {
                used += r.len();
                used <= room
            })
            .count();
    }
    lines.extend(rows.drain(..shown).flatten());
    let rest = &plan.mailboxes[shown..];
    if !rest.is_empty() {
        let today: u32 = rest.iter().map(|m| m.sent_today).sum();
        let left: u32 = rest
            .iter()
            .map(|m| m.cap_today.saturating_sub(m.sent_today))
            .sum();
        lines.push(Line::styled(
            cut(
                &format!("+{} more ({today} sent today, {left} left)", rest.len()),
                inner,
            ),
            theme.dim(),
        ));
    }
    lines.extend(tail);
    let area = popup(dialog_area(f), 72, lines.len() as u16 + 3);
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Send ")),
        area,
    );
}

/// Rows the send panel needs on the Activity tab (0 when there is no send to show): a row
/// per mailbox, and the lines of a failure too long for its row, within `room` (what the
/// tasks and the log leave); at least one row, which says how many mailboxes did not fit.
fn send_panel_height(app: &App, room: u16, width: u16) -> u16 {
    match &app.send_live {
        Some(live) if show_send_panel(app, live.task) => {
            let state = app
                .activity
                .tasks
                .iter()
                .find(|t| t.id == live.task)
                .map(|t| t.state);
            let inner = width.saturating_sub(2) as usize;
            let (name_w, bar_w) = send_panel_widths(&live.status, inner);
            let rows: usize = live
                .status
                .mailboxes
                .iter()
                .map(|m| mailbox_lines(m, state, inner, name_w, bar_w).len())
                .sum();
            4 + (rows as u16).min(room.saturating_sub(4).max(1))
        }
        _ => 0,
    }
}

/// The send panel's mailbox name and bar widths, for `width` inner cells: the names as wide
/// as the longest, within what leaves the bar its 6 cells, the count its 18 and the note 14
/// (a longer one is cut in the middle); the bar shrinks on a narrow terminal so the note
/// keeps its 14 cells.
fn send_panel_widths(st: &crate::engine::send::LiveStatus, width: usize) -> (usize, usize) {
    let name_w = name_width(
        st.mailboxes.iter().map(|m| m.name.as_str()),
        width.saturating_sub(1 + 6 + 18 + 14),
    );
    let bar_w = width.saturating_sub(name_w + 1 + 18 + 14).clamp(6, 16);
    (name_w, bar_w)
}

/// A mailbox's row on the send panel (name, bar, count, note), and when its note is a
/// failure too long for the row (a server's answer to a refused login), the whole of it on
/// the lines below, indented: it is the only place the reason shows while the others send.
fn mailbox_lines(
    m: &crate::engine::send::LiveMailbox,
    state: Option<TaskState>,
    width: usize,
    name_w: usize,
    bar_w: usize,
) -> Vec<(String, String, String, String)> {
    let ratio = if m.cap_today > 0 {
        m.sent_today as f64 / m.cap_today as f64
    } else {
        0.0
    };
    let count = format!("{}/{}", m.sent_today, m.cap_today);
    let note = sanitize(&mailbox_note(m, state));
    let note_w = width.saturating_sub(name_w + 1 + bar_w + 18);
    let mut lines = vec![(
        format!("{} ", pad(&cut_middle(&sanitize(&m.name), name_w), name_w)),
        bar(ratio, bar_w),
        format!(" {count:>9} today  "),
        cut(&note, note_w),
    )];
    if m.state.starts_with("failed") && note.chars().count() > note_w {
        for line in wrap_words(&note, width.saturating_sub(2)) {
            lines.push((
                String::new(),
                String::new(),
                String::new(),
                format!("  {line}"),
            ));
        }
    }
    lines
}

/// The send panel replaces the selected-task gauge while the send task runs or is selected.
fn show_send_panel(app: &App, task: crate::engine::jobs::JobId) -> bool {
    app.activity.selected_task().is_some_and(|t| t.id == task)
        || app.activity.running().any(|t| t.id == task)
}

/// Per-mailbox "sent today / cap" gauges, overall progress, rate, next send, ETA.
fn render_send_panel(f: &mut Frame, app: &App, area: Rect, theme: &Theme) {
    let Some(live) = &app.send_live else { return };
    let st = &live.status;
    let task = app.activity.tasks.iter().find(|t| t.id == live.task);
    let (state, elapsed) = task.map_or(("", std::time::Duration::ZERO), |t| {
        (t.state.label(), t.elapsed)
    });
    let width = area.width.saturating_sub(2) as usize;
    let ratio = if st.total > 0 {
        st.done as f64 / st.total as f64
    } else {
        1.0
    };
    let head = format!("{}/{} {:>3.0}% ", st.done, st.total, ratio * 100.0);
    // A run that ended before the last row (cancelled, caps reached) says how many it left.
    let left = match st.total.saturating_sub(st.done) {
        n if n > 0 && !task.is_some_and(|t| t.state.is_active()) => format!(" · {n} left"),
        _ => String::new(),
    };
    let tail = format!(" {} sent · {} not sent{left}", st.sent, st.not_sent);
    let bar_w = width
        .saturating_sub(head.chars().count() + tail.chars().count())
        .min(40);
    let mut lines = vec![Line::from(vec![
        Span::raw(head),
        Span::styled(bar(ratio, bar_w), theme.gauge()),
        Span::raw(tail),
    ])];
    let rate = live
        .per_minute(elapsed)
        .map_or("— msg/min".to_string(), |r| format!("{r:.1} msg/min"));
    let paused = task.is_some_and(|t| t.state == TaskState::Paused);
    let next = match (st.next_send_in, &st.waiting) {
        _ if paused => "paused (p resumes)".into(),
        (Some(d), Some(why)) => format!("next send in {} ({why})", fmt_duration(d)),
        (Some(d), None) => format!("next send in {}", fmt_duration(d)),
        (None, Some(why)) => why.to_string(),
        (None, None) if task.is_some_and(|t| t.state.is_active()) => "sending now".into(),
        (None, None) => "stopped".into(),
    };
    // Paused, the ETA would stand still: it is shown only while the run goes on.
    let eta = if task.is_some_and(|t| t.state == TaskState::Running) {
        live.eta(elapsed).map_or("ETA —".to_string(), |d| {
            format!("ETA {}", fmt_duration(d))
        })
    } else {
        String::new()
    };
    let summary = [rate, next, eta]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" · ");
    lines.push(Line::raw(cut(&sanitize(&summary), width)));
    let state_now = task.map(|t| t.state);
    let (name_w, bar_w) = send_panel_widths(st, width);
    let per_mailbox: Vec<_> = st
        .mailboxes
        .iter()
        .map(|m| mailbox_lines(m, state_now, width, name_w, bar_w))
        .collect();
    // A row per mailbox while they fit; otherwise the last row counts the others, so the
    // rows still add up to the run's figures. The rows left over show the failures' lines.
    let rows = (area.height.saturating_sub(4) as usize).max(1);
    let shown = if st.mailboxes.len() > rows {
        rows - 1
    } else {
        st.mailboxes.len()
    };
    let mut spare = rows - shown - usize::from(shown < st.mailboxes.len());
    for (m, group) in st.mailboxes.iter().zip(&per_mailbox).take(shown) {
        let style = if m.state.starts_with("failed") {
            theme.error()
        } else if m.state == "cap reached" || m.state == "window closed" {
            theme.warn()
        } else {
            Style::new()
        };
        let more = (group.len() - 1).min(spare);
        spare -= more;
        for (name, gauge, count, note) in &group[..1 + more] {
            lines.push(Line::from(vec![
                Span::raw(name.clone()),
                Span::styled(gauge.clone(), theme.gauge()),
                Span::raw(count.clone()),
                Span::styled(note.clone(), style),
            ]));
        }
    }
    let rest = &st.mailboxes[shown..];
    if !rest.is_empty() {
        let sent: u64 = rest.iter().map(|m| m.sent_this_run).sum();
        let today: u32 = rest.iter().map(|m| m.sent_today).sum();
        let cap: u32 = rest.iter().map(|m| m.cap_today).sum();
        lines.push(Line::styled(
            cut(
                &format!(
                    "+{} more ({sent} sent this run, {today}/{cap} today)",
                    rest.len()
                ),
                width,
            ),
            theme.dim(),
        ));
    }
    let title = format!(" Send #{} {state} ", live.task);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(title)),
        area,
    );
}

/// A mailbox's note on the send panel. Unless the run is going on, its last live state
/// ("next in 2 s", "sending") would be stale: a paused run says paused, a finished one what
/// this run sent, unless the mailbox stopped for a reason worth keeping on screen (failed,
/// cap reached, window closed).
fn mailbox_note(m: &crate::engine::send::LiveMailbox, state: Option<TaskState>) -> String {
    let transient = m.state == "sending" || m.state == "ready" || m.state.starts_with("next in");
    match state {
        _ if !transient => m.state.clone(),
        Some(TaskState::Running) => m.state.clone(),
        Some(TaskState::Paused) => "paused".into(),
        _ => format!("{} sent this run", m.sent_this_run),
    }
}

fn table_title(app: &App) -> String {
    // "6 of 258" while a filter hides rows, so the count never reads as the view's size.
    let count = |t: &super::table::TableView| {
        if t.view.len() == t.total() {
            t.total().to_string()
        } else {
            format!("{} of {}", t.view.len(), t.total())
        }
    };
    match app.tab {
        Tab::Prospects if app.show_messages => format!(" Messages ({}) ", count(&app.messages)),
        Tab::Prospects => format!(" Prospects ({}) ", count(&app.prospects)),
        Tab::Bounces => {
            let filters = app.bounce_pane.describe();
            if filters.is_empty() {
                format!(" Bounces ({}) ", count(&app.bounces))
            } else {
                format!(" Bounces ({}) · {} ", count(&app.bounces), filters)
            }
        }
        // The confidence filter stays in sight while it is on, not only in its toast.
        Tab::Suggestions if app.min_confidence > 0 => format!(
            " Suggestions ({}) · confidence ≥ {} ",
            count(&app.suggestions),
            app.min_confidence
        ),
        Tab::Suggestions => format!(" Suggestions ({}) ", count(&app.suggestions)),
        t => format!(" {} ", t.title()),
    }
}

/// The tab bar. When the names do not all fit (under 67 columns), the other tabs show only
/// their number key, and the current one keeps its name.
fn render_tabs(f: &mut Frame, app: &App, area: Rect, theme: &Theme) {
    let full: Vec<String> = Tab::ALL
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{} {}", i + 1, t.title()))
        .collect();
    let width: usize = full.iter().map(|t| t.chars().count() + 1).sum::<usize>() - 1;
    let titles: Vec<Line> = if width <= area.width as usize {
        full.into_iter().map(Line::from).collect()
    } else {
        Tab::ALL
            .iter()
            .zip(full)
            .enumerate()
            .map(|(i, (t, name))| {
                Line::from(if *t == app.tab {
                    name
                } else {
                    (i + 1).to_string()
                })
            })
            .collect()
    };
    let tabs = Tabs::new(titles)
        .select(app.tab.index())
        .highlight_style(theme.selected())
        .divider("│")
        .padding("", "");
    f.render_widget(tabs, area);
}

/// Bounces tab, above the table: the top bouncing domains as bars (of the filtered rows
/// matched to a send; 4 and a line for the others when some are not),
/// and each mailbox's bounce rate (bounced / sent, hard in brackets).
fn render_bounce_panel(f: &mut Frame, app: &App, area: Rect, theme: &Theme) {
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
    let pane = &app.bounce_pane;
    let inner = left.width.saturating_sub(2) as usize;
    let max = pane.top.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let name_w = pane
        .top
        .iter()
        .map(|(d, _)| unicode_width::UnicodeWidthStr::width(d.as_str()))
        .max()
        .unwrap_or(0)
        .min(inner / 2);
    let count_w = max.to_string().len();
    let bar_w = inner.saturating_sub(name_w + count_w + 2);
    let mut lines: Vec<Line> = Vec::new();
    for (domain, n) in &pane.top {
        let filled = if max == 0 {
            0
        } else {
            ((*n as usize * bar_w).div_ceil(max as usize)).max(1)
        };
        lines.push(Line::from(vec![
            Span::raw(format!("{} ", pad(&sanitize(domain), name_w))),
            Span::styled("█".repeat(filled), theme.gauge()),
            Span::raw(format!(
                "{}{n:>count_w$}",
                " ".repeat(bar_w.saturating_sub(filled) + 1)
            )),
        ]));
    }
    if lines.is_empty() {
        lines.push(Line::styled("no bounces of our sends", theme.dim()));
    }
    if pane.unmatched > 0 {
        lines.push(Line::styled(
            format!("+ {} not matched to a send (in the table)", pane.unmatched),
            theme.dim(),
        ));
    }
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Top bouncing domains ")),
        left,
    );
    let rates_inner = right.width.saturating_sub(2) as usize;
    let name_w = pane
        .data
        .rates
        .iter()
        .map(|r| sanitize(&r.mailbox).width())
        .max()
        .unwrap_or(0)
        .min(10);
    let mut lines: Vec<Line> = pane
        .data
        .rates
        .iter()
        .map(|r| {
            let pct = format!("{:.1}%", r.percent());
            let style = if r.percent() >= 5.0 {
                theme.error()
            } else if r.percent() >= 2.0 {
                theme.warn()
            } else {
                Style::new()
            };
            let paused = pane.data.paused.iter().any(|p| p.mailbox == r.mailbox);
            let head = format!("{} ", pad(&sanitize(&r.mailbox), name_w));
            let flag = if paused { " PAUSED" } else { "" };
            // The counts in words when they fit, else in short ("(1h)"), else cut.
            let room = rates_inner.saturating_sub(head.width() + 6 + flag.len());
            let mut counts = format!("  {}/{} ({} hard)", r.bounced, r.sent, r.hard);
            if counts.width() > room {
                counts = format!(" {}/{} ({}h)", r.bounced, r.sent, r.hard);
            }
            Line::from(vec![
                Span::raw(head),
                Span::styled(format!("{pct:>6}"), style),
                Span::styled(flag, theme.error()),
                Span::styled(cut(&counts, room), theme.dim()),
            ])
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::styled("nothing sent yet", theme.dim()));
    }
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Bounce rate per mailbox ")),
        right,
    );
}

/// Draw only the visible window of the table; returns the number of visible rows.
fn render_table(
    f: &mut Frame,
    table: &mut TableView,
    area: Rect,
    title: &str,
    load_filter: Option<&str>,
    theme: &Theme,
) -> usize {
    let block = Block::new().borders(Borders::ALL).title(title.to_string());
    // An empty table says why: still loading, a filter applied at load, nothing yet (how to
    // fill it), or the view's own search and status filter.
    let empty = if table.rows.is_empty() {
        Some(match load_filter {
            _ if !table.loaded => "loading…".to_string(),
            Some(what) => format!("No row matches the filter: {what}"),
            None => table.empty_hint.to_string(),
        })
    } else if table.view.is_empty() {
        Some(format!(
            "No row matches {} ({} rows in all).",
            table.filter_text().unwrap_or_default(),
            table.rows.len()
        ))
    } else {
        None
    };
    if let Some(text) = empty {
        f.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .style(theme.dim())
                .block(block),
            area,
        );
        return area.height.saturating_sub(3) as usize;
    }
    // Inside the border, minus the header row.
    let height = area.height.saturating_sub(3) as usize;
    let range = table.window(height);
    let selected = table.selected;
    // The mark column first (one cell and a space), then the columns that fit.
    let sorted = table.sort.map(|(c, _)| c);
    let placed = super::table::layout(
        &table.columns,
        &table.filled,
        &table.widest,
        sorted,
        block.inner(area).width.saturating_sub(2),
        1,
    );
    let mut widths = vec![Constraint::Length(1)];
    widths.extend(placed.iter().map(|p| Constraint::Length(p.width)));
    let rows: Vec<Row> = table.view[range.clone()]
        .iter()
        .map(|&i| {
            let r = &table.rows[i as usize];
            let mark = if table.marked.contains(&r.id) {
                "●"
            } else {
                " "
            };
            let mut cells = vec![Cell::from(mark)];
            cells.extend(placed.iter().map(|p| {
                let column = &table.columns[p.index];
                let value = r.cells.get(p.index).map_or("", String::as_str);
                // An empty cell may show why it is empty (a no-domain row's reason), dimmed.
                if let Some(other) = column.fallback.filter(|_| value.is_empty()) {
                    let why = r.cells.get(other).map_or("", String::as_str);
                    return Cell::from(cut(&sanitize(why), p.width as usize)).style(theme.dim());
                }
                let value = column.fit(value, p.width);
                Cell::from(cut(&sanitize(value), p.width as usize))
            }));
            Row::new(cells)
        })
        .collect();
    let mut header: Vec<Cell> = vec![Cell::from(" ")];
    header.extend(placed.iter().map(|p| {
        let arrow = match table.sort {
            Some((col, true)) if col == p.index => " ↑",
            Some((col, false)) if col == p.index => " ↓",
            _ => "",
        };
        Cell::from(sorted_header(p.header, arrow, p.width as usize))
    }));
    let widget = Table::new(rows, widths)
        .header(Row::new(header).style(theme.accent()))
        .block(block)
        .row_highlight_style(theme.selected())
        .column_spacing(1);
    let mut state = TableState::default()
        .with_selected((!table.view.is_empty()).then(|| selected.saturating_sub(range.start)));
    f.render_stateful_widget(widget, area, &mut state);
    if table.view.len() > height {
        let mut sb = ScrollbarState::new(table.view.len()).position(selected);
        f.render_stateful_widget(
            Scrollbar::new(ScrollbarOrientation::VerticalRight),
            area.inner(ratatui::layout::Margin {
                vertical: 1,
                horizontal: 0,
            }),
            &mut sb,
        );
    }
    height
}

fn render_info(f: &mut Frame, app: &App, area: Rect, theme: &Theme) {
    let line = match (&app.mode, app.table()) {
        (Mode::Filter, Some(t)) => Line::from(vec![
            Span::styled("/", theme.accent()),
            Span::raw(format!("{}▏", t.filter)),
            Span::styled(
                format!("  {} matching · Enter keeps · Esc clears", t.view.len()),
                theme.dim(),
            ),
        ]),
        (_, Some(t)) => {
            let hint = if app.tab == Tab::Outbox {
                "  b build · a approve · S send · t status · Enter preview"
            } else if app.tab == Tab::Bounces {
                "  s sync · t dates · d domain · r reason · Enter DSN"
            } else if app.tab == Tab::Prospects {
                if app.show_messages {
                    "  m prospects · i import"
                } else {
                    "  m messages · i import"
                }
            } else {
                ""
            };
            let position = t.position_text_leaving(area.width as usize, hint.width());
            let room = (area.width as usize).saturating_sub(position.width());
            Line::from(vec![
                Span::raw(position),
                Span::styled(fit_hint(hint, room), theme.dim()),
            ])
        }
        (_, None) if app.tab == Tab::Activity => Line::styled(
            fit_hint(
                "j/k select task · x cancel · p pause/resume · PgUp/PgDn scroll log",
                area.width as usize,
            ),
            theme.dim(),
        ),
        (_, None) => Line::styled(
            fit_hint(
                "e edit · t test mailboxes · m/p pause a mailbox · R resume all · j/k scroll",
                area.width as usize,
            ),
            theme.dim(),
        ),
    };
    f.render_widget(Paragraph::new(line), area);
}

/// `hint` ("a x · b y · …") cut to its first items that fit in `width` columns: a key
/// whose description is cut off ("Ente") helps no one; `?` lists them all.
fn fit_hint(hint: &str, width: usize) -> String {
    if hint.width() <= width {
        return hint.to_string();
    }
    let mut out = String::new();
    for (i, item) in hint.split(" · ").enumerate() {
        let next = if i == 0 {
            item.to_string()
        } else {
            format!(" · {item}")
        };
        if out.width() + next.width() > width {
            break;
        }
        out.push_str(&next);
    }
    out
}

/// `hint` ("a x · b y · …") in lines of at most `width` cells, broken between its items; an
/// item wider than a line is wrapped at its spaces.
fn wrap_hint(hint: &str, width: usize) -> Vec<String> {
    wrap_items(hint, " · ", width, wrap_words)
}

/// The running tasks, then the last message. One line, or up to three for an error (it names
/// a file, then the reason, and a cut reason is useless) and two for anything else; a logged
/// message longer than that ends with a pointer to the Activity log, which holds it whole.
/// A task's outcome keeps to one line, cut with "…" (the Activity log holds it whole).
fn render_status(f: &mut Frame, app: &App, area: Rect, theme: &Theme) {
    let mut spans = status_tasks(app, theme);
    let Some(toast) = &app.toast else {
        render_status_line(f, spans, area, theme);
        return;
    };
    let style = if toast.error {
        theme.error()
    } else {
        Style::new()
    };
    let Some(lines) = status_message_lines(app, area.width) else {
        spans.push(Span::raw(" │ "));
        spans.push(Span::styled(sanitize(&toast.text), style));
        render_status_line(f, spans, area, theme);
        return;
    };
    // The first line starts with the tasks (when they fit on it), in their own style.
    let prefix = status_prefix(app);
    let rendered: Vec<Line> = lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| match line.strip_prefix(&prefix) {
            Some(rest) if i == 0 => {
                let mut first = spans.clone();
                first.push(Span::raw(" │ "));
                first.push(Span::styled(rest.to_string(), style));
                Line::from(first)
            }
            _ => Line::styled(line, style),
        })
        .collect();
    f.render_widget(Paragraph::new(rendered), area);
}

/// One status line: tasks and message on the left, the help hint on the right.
fn render_status_line(f: &mut Frame, spans: Vec<Span>, area: Rect, theme: &Theme) {
    let [left, right] = Layout::horizontal([
        Constraint::Min(10),
        Constraint::Length(HELP_HINT.width() as u16),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(Line::from(spans)), left);
    f.render_widget(
        Paragraph::new(HELP_HINT)
            .alignment(Alignment::Right)
            .style(theme.dim()),
        right,
    );
}

/// The tasks' text and the separator before the message.
fn status_prefix(app: &App) -> String {
    let tasks: String = status_tasks(app, &Theme { color: false })
        .iter()
        .map(|s| s.content.as_ref())
        .collect();
    format!("{tasks} │ ")
}

/// The status text (tasks, then the message) as the lines it takes at `width` columns when it
/// does not fit beside the help hint (`None` when it does): wrapped at spaces into at most
/// three for an error and two otherwise, the last cut and ending with where the whole message
/// is.
fn status_message_lines(app: &App, width: u16) -> Option<Vec<String>> {
    let toast = app.toast.as_ref()?;
    let width = (width as usize).max(1);
    let text = format!("{}{}", status_prefix(app), sanitize(&toast.text));
    if text.width() + HELP_HINT.width() <= width {
        return None;
    }
    if toast.task_result {
        return Some(vec![cut(&text, width)]);
    }
    let mut lines = wrap_words(&text, width);
    // An error gets three lines (a file, then the reason); anything else, such as a task's
    // summary, two: the table keeps its rows at 80x24.
    let most = if toast.error { 3 } else { 2 };
    if lines.len() > most {
        let more = if toast.logged {
            " …(whole text: Activity)"
        } else {
            " …"
        };
        lines.truncate(most);
        let last = most - 1;
        let room = width.saturating_sub(more.width());
        let mut kept = String::new();
        for word in lines[last].split(' ') {
            if kept.width() + 1 + word.width() > room {
                break;
            }
            if !kept.is_empty() {
                kept.push(' ');
            }
            kept.push_str(word);
        }
        if kept.is_empty() {
            // One word wider than the room (a path): cut it, marked.
            kept = cut(&lines[last], room).trim_end_matches('…').to_string();
        }
        lines[last] = format!("{kept}{more}");
    }
    Some(lines)
}

const HELP_HINT: &str = " ? help · q quit";

fn status_tasks<'a>(app: &App, theme: &Theme) -> Vec<Span<'a>> {
    let mut spans: Vec<Span> = Vec::new();
    let running: Vec<_> = app.activity.running().collect();
    if running.is_empty() {
        spans.push(Span::styled("idle", theme.dim()));
    } else {
        for t in running.iter().take(3) {
            let pct = t
                .percent()
                .map_or(String::new(), |p| format!(" {}%", p.round() as u32));
            let state = if t.state == TaskState::Paused {
                " paused"
            } else {
                ""
            };
            spans.push(Span::styled(
                format!("⟳ {}{pct}{state} ", t.kind.name()),
                theme.accent(),
            ));
        }
        if running.len() > 3 {
            spans.push(Span::raw(format!("+{} ", running.len() - 3)));
        }
    }
    spans
}

/// Rows the status line needs at `width` columns: 1, or up to 3 for a long message.
fn status_height(app: &App, width: u16) -> u16 {
    status_message_lines(app, width).map_or(1, |lines| lines.len() as u16)
}

fn fmt_duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

/// The Activity tab's task table. The note (what the task is on, or its summary) gets the
/// room left; narrow, the rate goes first, then the ETA.
const TASK_COLUMNS: [Column; 7] = [
    Column::new("id", 4, 0).max(6),
    Column::new("task", 12, 3).max(40),
    Column::fixed("state", 9),
    Column::new("progress", 13, 1).max(18),
    Column::new("rate", 6, 1).max(8).drops(2),
    Column::new("ETA", 6, 1).max(7).drops(1),
    Column::new("note", 12, 4),
];
const TASK_STATE: usize = 2;
const TASK_NOTE: usize = 6;
/// Lines the selected task's note may wrap to under its row: a find or verify note
/// ("acme.test: page 3 of 7, …") cut at one line says nothing; the last line ends with `…`
/// when more is left (Enter shows it whole).
const TASK_NOTE_LINES: usize = 3;

/// A task's note wrapped to its column, at most [`TASK_NOTE_LINES`] lines.
fn task_note_lines(note: &str, width: usize) -> Vec<String> {
    let mut lines = wrap_words(note, width.max(1));
    if lines.len() > TASK_NOTE_LINES {
        lines.truncate(TASK_NOTE_LINES);
        let last = lines.pop().unwrap_or_default();
        lines.push(cut(&format!("{last}…"), width));
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// Returns the largest useful log scroll-back, in entries.
fn render_activity(f: &mut Frame, app: &App, area: Rect, theme: &Theme) -> usize {
    let act = &app.activity;
    let placed = super::table::layout(
        &TASK_COLUMNS,
        &[],
        &[],
        None,
        area.width.saturating_sub(2),
        1,
    );
    let note_width = placed
        .iter()
        .find(|p| p.index == TASK_NOTE)
        .map_or(0, |p| p.width as usize);
    // The selected task's note wraps under its row; the others keep to one line, so the
    // table stays short and the send panel keeps its room. A running send's note is on the
    // send panel already.
    let live_send = app.send_live.as_ref().map(|l| l.task);
    let notes: Vec<Vec<String>> = act
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            // A paused task's last note ("next send in 4 s") would stand still; a running
            // send's wait counts down as the send panel's does.
            let note = match (&t.summary, t.state, app.send_live.as_ref()) {
                (Some(summary), _, _) => sanitize(summary),
                (None, TaskState::Paused, _) => "paused: p resumes".into(),
                (None, TaskState::Running, Some(live))
                    if live.task == t.id && live.status.next_send_in.is_some() =>
                {
                    format!(
                        "next send in {}",
                        fmt_duration(live.status.next_send_in.unwrap_or_default())
                    )
                }
                (None, _, _) => sanitize(&t.note),
            };
            if i == act.selected && live_send != Some(t.id) {
                task_note_lines(&note, note_width)
            } else {
                vec![cut(&note, note_width)]
            }
        })
        .collect();
    let note_lines: usize = notes.iter().map(Vec::len).sum();
    // At least 4 rows, at most half the tab: on a very short terminal half wins (a clamp
    // with min above max would panic).
    let task_rows = (note_lines as u16 + 3).max(4).min(area.height / 2);
    let send_rows = send_panel_height(app, area.height.saturating_sub(task_rows + 3), area.width);
    let [tasks_area, gauge_area, log_area] = Layout::vertical([
        Constraint::Length(task_rows),
        Constraint::Length(if send_rows > 0 { send_rows } else { 3 }),
        Constraint::Min(3),
    ])
    .areas(area);

    let block = Block::bordered().title(format!(" Tasks ({}) ", act.tasks.len()));
    if act.tasks.is_empty() {
        f.render_widget(
            Paragraph::new("No tasks yet: imports, finds, verifications and sends run here.")
                .style(theme.dim())
                .block(block),
            tasks_area,
        );
    } else {
        let widths: Vec<Constraint> = placed.iter().map(|p| Constraint::Length(p.width)).collect();
        let rows: Vec<Row> = act
            .tasks
            .iter()
            .zip(&notes)
            .map(|(t, note)| {
                // Without a total there is no share to show ("100% 0" read as nonsense).
                let progress = match t.total {
                    Some(total) => format!("{:>3.0}% {}/{}", t.ratio() * 100.0, t.done, total),
                    // Nothing counted (a build, a watch): no figure to show.
                    None if t.done == 0 => "—".into(),
                    None => t.done.to_string(),
                };
                // Sends with delays run at a few a minute: show those per minute.
                let rate = t.rate().map_or("—".into(), |r| {
                    if r < 1.0 {
                        format!("{:.0}/min", r * 60.0)
                    } else {
                        format!("{r:.0}/s")
                    }
                });
                let eta = t.eta().map_or("—".into(), fmt_duration);
                let state_style = match t.state {
                    TaskState::Failed => theme.error(),
                    TaskState::Paused | TaskState::Cancelled | TaskState::DoneWithErrors => {
                        theme.warn()
                    }
                    _ => Style::new(),
                };
                let values = [
                    format!("#{}", t.id),
                    sanitize(&t.title),
                    t.state.short_label().to_string(),
                    progress,
                    rate,
                    eta,
                ];
                // The note wraps under its own column, as the send panel's notes do.
                Row::new(placed.iter().map(|p| {
                    let cell = match values.get(p.index) {
                        Some(value) => Cell::from(cut(value, p.width as usize)),
                        None => Cell::from(Text::from(
                            note.iter().cloned().map(Line::from).collect::<Vec<_>>(),
                        )),
                    };
                    if p.index == TASK_STATE {
                        cell.style(state_style)
                    } else {
                        cell
                    }
                }))
                .height(note.len() as u16)
            })
            .collect();
        let table = Table::new(rows, widths)
            .header(Row::new(placed.iter().map(|p| p.header)).style(theme.accent()))
            .block(block)
            .row_highlight_style(theme.selected());
        let mut state = TableState::default().with_selected(Some(act.selected));
        f.render_stateful_widget(table, tasks_area, &mut state);
    }

    let gauge_block = Block::bordered().title(" Selected task ");
    match act.selected_task() {
        _ if send_rows > 0 => render_send_panel(f, app, gauge_area, theme),
        Some(t) => {
            let share = t.percent().map_or(String::new(), |p| format!(" {p:.0}%"));
            let mut label = format!("{}{share} · {}", t.state.label(), fmt_duration(t.elapsed));
            if let Some(summary) = &t.summary {
                label.push_str(&format!(" · {}", sanitize(summary)));
            }
            let title = format!(" #{} {} · Enter: details ", t.id, sanitize(&t.title));
            // One line: a summary that does not fit ends with `…` (Enter shows it whole).
            let label = cut(&label, gauge_area.width.saturating_sub(2) as usize);
            f.render_widget(
                Gauge::default()
                    .block(Block::bordered().title(title))
                    .gauge_style(theme.gauge())
                    .ratio(t.ratio())
                    .label(label),
                gauge_area,
            );
        }
        None => f.render_widget(gauge_block, gauge_area),
    }

    let inner_height = log_area.height.saturating_sub(2) as usize;
    let inner_width = log_area.width.saturating_sub(2) as usize;
    // Scrolling back stops when the oldest entry reaches the top of a full box.
    let mut filled = 0;
    let fit_from_start = act
        .log
        .iter()
        .take_while(|l| {
            let fits = filled < inner_height;
            filled += log_entry_lines(l, inner_width, theme).len();
            fits
        })
        .count();
    let max_back = act.log.len().saturating_sub(fit_from_start.max(1));
    let back = act.log_back.min(max_back);
    let end = act.log.len() - back;
    // Long entries wrap (an import error names the file, then the reason), so the newest
    // entries are laid out from the end until the box is full.
    let mut lines: Vec<Line> = Vec::new();
    for l in act.log.range(..end).rev() {
        if lines.len() >= inner_height {
            break;
        }
        lines.extend(log_entry_lines(l, inner_width, theme).into_iter().rev());
    }
    lines.reverse();
    let lines: Vec<Line> = lines.split_off(lines.len().saturating_sub(inner_height));
    let title = if back > 0 {
        format!(" Log (scrolled back {back} entries; G follows) ")
    } else {
        " Log ".to_string()
    };
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(title)),
        log_area,
    );
    max_back
}

/// One Activity log entry, wrapped at `width` under its text (the task number stays alone
/// in the left margin).
fn log_entry_lines<'a>(l: &super::app::LogLine, width: usize, theme: &Theme) -> Vec<Line<'a>> {
    let style = match l.level {
        Level::Error => theme.error(),
        Level::Warn => theme.warn(),
        Level::Info => Style::new(),
    };
    let who = l.task.map_or(String::new(), |id| format!("#{id} "));
    let indent = who.chars().count();
    wrap_words(&sanitize(&l.text), width.saturating_sub(indent).max(10))
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let lead = if i == 0 {
                who.clone()
            } else {
                " ".repeat(indent)
            };
            Line::from(vec![
                Span::styled(lead, theme.dim()),
                Span::styled(part, style),
            ])
        })
        .collect()
}

/// Returns the largest useful scroll offset.
fn render_settings(f: &mut Frame, app: &App, area: Rect, theme: &Theme) -> usize {
    let s = &app.settings;
    let mut lines: Vec<Line> = Vec::new();
    for e in &s.errors {
        lines.push(Line::styled(sanitize(e), theme.error()));
    }
    if !s.errors.is_empty() {
        // The file keeps what was saved (an edit is not thrown away), so say what that means:
        // commands run from a shell refuse it until it is fixed.
        lines.push(Line::styled(
            "This session goes on with the previous configuration. The file is kept as saved, \
             and hailer commands refuse it until it is fixed: press e to edit it again.",
            theme.warn(),
        ));
        lines.push(Line::raw(""));
    }
    if !s.paused.is_empty() {
        lines.push(Line::styled(
            "Paused mailboxes (nothing goes out through them; R resumes)",
            theme.error(),
        ));
        for p in &s.paused {
            lines.push(Line::styled(
                format!(
                    "  {}: {} ({}, {})",
                    sanitize(&p.mailbox),
                    sanitize(&p.reason),
                    if p.auto {
                        "auto-paused"
                    } else {
                        "paused by hand"
                    },
                    super::bounces::day_time(p.paused_at)
                ),
                theme.error(),
            ));
        }
        lines.push(Line::raw(""));
    }
    lines.extend(mailbox_check_lines(s, theme));
    lines.extend(s.lines.iter().map(|l| {
        if l.starts_with('[') {
            Line::styled(l.clone(), theme.accent())
        } else {
            Line::raw(l.clone())
        }
    }));
    // Long lines wrap (a config error names the expected keys at its end, a test result
    // its cause), keeping their indentation and style; the scroll counts wrapped lines.
    let width = (area.width.saturating_sub(2) as usize).max(10);
    let lines: Vec<Line> = lines
        .into_iter()
        .flat_map(|l| {
            let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
            let style = l
                .style
                .patch(l.spans.first().map_or(Style::new(), |s| s.style));
            // A continuation goes two columns right of the line's own indentation.
            let indent = text.len() - text.trim_start_matches(' ').len() + 2;
            let indent = if indent * 2 > width { 0 } else { indent };
            let mut parts = wrap_line(&text, width).into_iter();
            let mut out: Vec<String> = parts.next().into_iter().collect();
            let rest = parts.collect::<Vec<_>>().join(" ");
            if !rest.is_empty() {
                out.extend(
                    wrap_line(&rest, width - indent)
                        .into_iter()
                        .map(|p| format!("{}{p}", " ".repeat(indent))),
                );
            }
            out.into_iter().map(move |part| Line::styled(part, style))
        })
        .collect();
    let max_scroll = lines
        .len()
        .saturating_sub(area.height.saturating_sub(2) as usize);
    let scroll = s.scroll.min(max_scroll) as u16;
    f.render_widget(
        Paragraph::new(lines)
            .scroll((scroll, 0))
            .block(Block::bordered().title(" Settings (secrets redacted) ")),
        area,
    );
    max_scroll
}

/// Why a mailbox sends nothing more today, for the S confirmation and Settings: unusable
/// (paused, a password that cannot be read), its window closed (and when it opens), or its
/// cap reached; empty when it can send.
fn mailbox_day_note(m: &crate::engine::send::MailboxOut) -> String {
    use crate::engine::send::MailboxState;
    match m.state() {
        // The paused text says so itself ("paused: … (resume: …)").
        MailboxState::Paused(e) | MailboxState::Unusable(e) => format!("unusable: {e}"),
        MailboxState::WindowClosed(at) => {
            let at = chrono::DateTime::parse_from_rfc3339(at)
                .map_or(at.to_string(), |t| t.format("%a %H:%M").to_string());
            format!("window closed, opens {at}")
        }
        MailboxState::AtCap => "cap reached today".to_string(),
        MailboxState::Ready => String::new(),
    }
}

/// The Settings tab's connection test results, one block per configured mailbox. The texts
/// come from the engine's check, which never includes a password.
fn mailbox_check_lines<'a>(s: &super::app::Settings, theme: &Theme) -> Vec<Line<'a>> {
    if s.mailboxes.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![Line::styled(
        if s.checking {
            "Mailbox connection test (running…) · m selects, p pauses/resumes"
        } else {
            "Mailbox connection test (t runs it) · m selects, p pauses/resumes"
        },
        theme.accent(),
    )];
    let selected = s.selected_mailbox();
    for name in &s.mailboxes {
        // `p` acts on the marked one; a pause shows beside every name it applies to.
        let head = format!(
            "{}{}{}",
            if selected == Some(name.as_str()) {
                "▸ "
            } else {
                "  "
            },
            sanitize(name),
            if s.paused.iter().any(|p| &p.mailbox == name) {
                " (paused)"
            } else {
                ""
            }
        );
        let Some(c) = s.checks.iter().find(|c| &c.name == name) else {
            let what = if s.checking {
                "testing…"
            } else {
                "not tested"
            };
            lines.push(Line::styled(format!("{head}: {what}"), theme.dim()));
            continue;
        };
        let verdict = if c.ok() { "OK" } else { "FAILED" };
        lines.push(Line::styled(
            format!("{head}: {verdict}"),
            if c.ok() { Style::new() } else { theme.error() },
        ));
        let mut part = |what: &str, r: Option<&Result<String, String>>| {
            let (text, style) = match r {
                Some(Ok(t)) => (format!("ok · {t}"), Style::new()),
                Some(Err(e)) => (format!("FAILED · {e}"), theme.error()),
                None => ("not configured (no Sent copies)".to_string(), theme.dim()),
            };
            lines.push(Line::styled(
                format!("    {what:<5} {}", sanitize(&text)),
                style,
            ));
        };
        part("smtp", Some(&c.smtp));
        part("imap", c.imap.as_ref());
    }
    lines.push(Line::raw(""));
    if !s.capacity.is_empty() {
        lines.push(Line::styled(
            "Today (sent / today's cap, warm-up applied)",
            theme.accent(),
        ));
        for m in &s.capacity {
            let left = m.cap_today.saturating_sub(m.sent_today);
            let note = match mailbox_day_note(m) {
                n if n.is_empty() => n,
                n => format!(" · {n}"),
            };
            lines.push(Line::styled(
                format!(
                    "  {}: {}/{} sent, {left} left{}",
                    sanitize(&m.name),
                    m.sent_today,
                    m.cap_today,
                    sanitize(&note)
                ),
                if m.error.is_some() {
                    theme.error()
                } else {
                    Style::new()
                },
            ));
        }
        lines.push(Line::raw(""));
    }
    lines
}

/// Returns the largest useful scroll offset.
fn render_help(f: &mut Frame, app: &App, scroll: usize, theme: &Theme) -> usize {
    let area = popup(dialog_area(f), 78, dialog_area(f).height);
    f.render_widget(Clear, area);
    let lines = help_lines(app, area.width.saturating_sub(2) as usize, theme);
    scrolled_popup(
        f,
        area,
        lines,
        scroll,
        " Help · Esc closes · j/k g/G scroll ",
    )
}

/// The help of `app`'s tab in lines of at most `width` cells. The keys take a column of
/// their own, their description wrapping under itself; on a screen too narrow for a column
/// of keys beside a readable description, each description goes under its keys instead.
fn help_lines(app: &App, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    const KEYS_COLUMN: usize = 16;
    const MIN_DESCRIPTION: usize = 24;
    let side_by_side = width >= KEYS_COLUMN + 2 + MIN_DESCRIPTION;
    let indent = if side_by_side { KEYS_COLUMN + 2 } else { 2 };
    let desc_width = width.saturating_sub(indent).max(1);
    let mut lines: Vec<Line<'static>> =
        wrap_words(&format!("Keys on the {} tab", app.tab.title()), width)
            .into_iter()
            .map(|l| Line::styled(l, theme.accent()))
            .collect();
    // One line per action: every key with the same description is grouped on the line of
    // the first one, wherever the table lists it ("j, Down  scroll down").
    let mut merged: Vec<(Vec<&str>, &str)> = Vec::new();
    for b in app.keymap.help(app.tab) {
        match merged.iter_mut().find(|(_, desc)| *desc == b.desc) {
            Some((keys, _)) => keys.push(b.keys),
            None => merged.push((vec![b.keys], b.desc)),
        }
    }
    let push = |lines: &mut Vec<Line<'static>>, keys: &str, desc: &str| {
        let mut parts = wrap_words(desc, desc_width).into_iter();
        if side_by_side && keys.width() <= KEYS_COLUMN {
            let first = parts.next().unwrap_or_default();
            lines.push(Line::from(vec![
                Span::styled(format!("{keys:>KEYS_COLUMN$}  "), theme.accent()),
                Span::raw(first),
            ]));
        } else {
            // Keys wider than their column, or a narrow screen: the keys on a line of
            // their own, so neither they nor the description run past the box.
            for part in wrap_words(keys, width) {
                lines.push(Line::styled(part, theme.accent()));
            }
        }
        for part in parts {
            lines.push(Line::raw(format!("{:indent$}{part}", "")));
        }
    };
    for (keys, desc) in merged {
        push(&mut lines, &keys.join(", "), desc);
    }
    // The tabs with a table have one-line inputs, which take their own keys first.
    if app.tab.has_table() {
        lines.push(Line::raw(""));
        for part in wrap_words(
            "In a one-line input (/ filter, a path, an address, dates)",
            width,
        ) {
            lines.push(Line::styled(part, theme.accent()));
        }
        for (keys, desc) in INPUT_KEYS {
            push(&mut lines, keys, desc);
        }
        if app.tab == Tab::Prospects {
            push(&mut lines, "Tab", "complete the path (i)");
        }
    }
    lines
}

/// Splits `text` into lines of at most `width` cells at spaces; a word wider than that (a
/// path, a URL) is cut into pieces. Widths are display cells: a CJK character or an emoji
/// takes two, so counting characters would let such text run past the box, clipped unseen.
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    wrap_items(text, " ", width, wrap_line)
}

/// Greedy wrapping of `text`'s items (split at `sep`, joined with it again on a line) into
/// lines of at most `width` cells; an item wider than a line goes through `split_long`.
fn wrap_items(
    text: &str,
    sep: &str,
    width: usize,
    split_long: fn(&str, usize) -> Vec<String>,
) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for item in text.split(sep) {
        let len = item.width();
        if !line.is_empty() && line.width() + sep.width() + len > width {
            lines.push(std::mem::take(&mut line));
        }
        if len > width {
            let mut pieces = split_long(item, width);
            line = pieces.pop().unwrap_or_default();
            lines.extend(pieces);
            continue;
        }
        if !line.is_empty() {
            line.push_str(sep);
        }
        line.push_str(item);
    }
    lines.push(line);
    lines
}

/// The selected record, one field per line; a long value wraps under itself. Returns the
/// largest useful scroll offset.
fn render_detail(f: &mut Frame, app: &App, scroll: usize, theme: &Theme) -> usize {
    let Some(table) = app.table() else { return 0 };
    let area = popup(dialog_area(f), 76, dialog_area(f).height);
    clear_under_popup(f, area);
    let value_width = (area.width.saturating_sub(2 + 16) as usize).max(10);
    let mut lines = Vec::new();
    for (k, v) in table.detail() {
        let mut first = true;
        for part in v
            .split('\n')
            .flat_map(|l| wrap_line(&sanitize(l), value_width))
        {
            let label = if first {
                format!("{k:>14}: ")
            } else {
                " ".repeat(16)
            };
            first = false;
            lines.push(Line::from(vec![
                Span::styled(label, theme.accent()),
                Span::raw(part),
            ]));
        }
    }
    scrolled_popup(
        f,
        area,
        lines,
        scroll,
        " Record · Esc closes · j/k g/G scroll ",
    )
}

/// A text popup (message preview, a report): lines wrap at the box's width, keeping their
/// indentation. Returns the largest useful scroll offset.
fn render_text(f: &mut Frame, title: &str, text: &str, scroll: usize) -> usize {
    let area = popup(dialog_area(f), 100, dialog_area(f).height);
    clear_under_popup(f, area);
    let width = (area.width.saturating_sub(2) as usize).max(10);
    let lines: Vec<Line> = text
        .lines()
        .flat_map(|l| wrap_line(&sanitize(l), width))
        .map(Line::raw)
        .collect();
    let title = format!(" {} · Esc closes · j/k g/G scroll ", sanitize(title));
    scrolled_popup(f, area, lines, scroll, &title)
}

/// Draws already wrapped `lines` in a bordered box scrolled by `scroll`, stopping when the
/// last line reaches the bottom. Returns the largest useful offset.
fn scrolled_popup(
    f: &mut Frame,
    area: Rect,
    lines: Vec<Line>,
    scroll: usize,
    title: &str,
) -> usize {
    let max_scroll = lines
        .len()
        .saturating_sub(area.height.saturating_sub(2) as usize);
    let scroll = scroll.min(max_scroll);
    // The bottom border says which lines show and whether there is more either way.
    let mut block = Block::bordered().title(title.to_string());
    if max_scroll > 0 {
        let shown = area.height.saturating_sub(2) as usize;
        let more = match (scroll > 0, scroll < max_scroll) {
            (true, true) => " · ↑↓ more",
            (false, true) => " · more ↓",
            _ => " · ↑ more",
        };
        block = block.title_bottom(
            Line::from(format!(
                " {}-{} of {}{more} ",
                scroll + 1,
                (scroll + shown).min(lines.len()),
                lines.len()
            ))
            .right_aligned(),
        );
    }
    f.render_widget(
        Paragraph::new(lines)
            .scroll((scroll as u16, 0))
            .block(block),
        area,
    );
    max_scroll
}

/// Cuts one line into pieces of at most `width` cells (display width, as in `wrap_words`),
/// at the last space that fits when there is one; unlike `wrap_words`, spaces inside the line
/// (indentation) are kept. A piece holds at least one character, however wide.
fn wrap_line(line: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        // The longest run from `start` that fits.
        let (mut end, mut used) = (start, 0);
        while end < chars.len() {
            let w = chars[end].width().unwrap_or(0);
            if used + w > width && end > start {
                break;
            }
            used += w;
            end += 1;
        }
        if end == chars.len() {
            out.push(chars[start..].iter().collect());
            return out;
        }
        // A space just past the run counts too: the break goes there and the space is dropped.
        let cut = chars[start + 1..=end]
            .iter()
            .rposition(|&c| c == ' ')
            .map(|i| start + 1 + i);
        match cut {
            Some(at) => {
                out.push(chars[start..at].iter().collect());
                start = at + 1;
            }
            None => {
                out.push(chars[start..end].iter().collect());
                start = end;
            }
        }
    }
}

thread_local! {
    /// Where dialogs go: the main area of the frame being drawn, set by [`render`].
    static DIALOG_AREA: std::cell::Cell<Option<Rect>> = const { std::cell::Cell::new(None) };
}

/// The area dialogs are placed in: between the tab bar and the key-hint line, so a popup
/// never covers part of those lines (leaving stray characters beside it at 80x24).
fn dialog_area(f: &Frame) -> Rect {
    DIALOG_AREA.with(|a| a.get()).unwrap_or_else(|| f.area())
}

/// Clears `area`, and in the column either side of it (within the [`dialog_area`]) whatever
/// is not a border or the scrollbar: a popup two columns narrower than the table would
/// otherwise sit between the table's cut cells ("…") and its border.
fn clear_under_popup(f: &mut Frame, area: Rect) {
    f.render_widget(Clear, area);
    let bounds = dialog_area(f);
    let sides = [area.x.checked_sub(1), Some(area.x + area.width)];
    let buf = f.buffer_mut();
    for x in sides
        .into_iter()
        .flatten()
        .filter(|x| (bounds.x..bounds.x + bounds.width).contains(x))
    {
        for y in area.y..area.y + area.height {
            let cell = &mut buf[(x, y)];
            if !is_frame_glyph(cell.symbol()) {
                cell.reset();
            }
        }
    }
}

/// Box drawing, block elements (the scrollbar's thumb) and the scrollbar's arrows.
fn is_frame_glyph(symbol: &str) -> bool {
    !symbol.is_empty()
        && symbol
            .chars()
            .all(|c| ('\u{2500}'..='\u{259F}').contains(&c) || matches!(c, '▲' | '▼'))
}

/// A `width` x `height` box centred in `area` (the [`dialog_area`]), at most as high as it
/// and two columns narrower.
fn popup(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width.saturating_sub(2));
    let h = height.min(area.height).max(3);
    Rect {
        x: area.x + (area.width.saturating_sub(w)) / 2,
        y: area.y + (area.height.saturating_sub(h)) / 2,
        width: w,
        height: h.min(area.height),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_hint_breaks_between_items() {
        let hint = "2026-11-01..2026-11-30 · 2026-11-01.. · ..2026-11-30 · 2026-11-05 (UTC)";
        assert_eq!(wrap_hint(hint, 80), [hint]);
        assert_eq!(
            wrap_hint(hint, 68),
            [
                "2026-11-01..2026-11-30 · 2026-11-01.. · ..2026-11-30",
                "2026-11-05 (UTC)"
            ]
        );
        assert_eq!(
            wrap_hint("one long item · b", 5),
            ["one", "long", "item", "b"]
        );
    }

    #[test]
    fn a_hint_keeps_only_whole_items() {
        let hint = "  b build · a approve · S send · Enter preview";
        assert_eq!(fit_hint(hint, 80), hint);
        assert_eq!(fit_hint(hint, 40), "  b build · a approve · S send");
        assert_eq!(fit_hint(hint, 30), "  b build · a approve · S send");
        assert_eq!(fit_hint(hint, 29), "  b build · a approve");
        assert_eq!(fit_hint(hint, 5), "");
    }

    #[test]
    fn cut_ends_a_value_that_does_not_fit_with_an_ellipsis() {
        assert_eq!(cut("Abcdefgh", 8), "Abcdefgh", "an exact fit stays whole");
        assert_eq!(cut("Abcdefghi", 8), "Abcdefg…");
        assert_eq!(cut("", 3), "");
        assert_eq!(cut("abc", 0), "");
        assert_eq!(cut("abc", 1), "…");
        // Two cells per CJK character: never split, so the cut may be a cell short.
        assert_eq!(cut("東京製作所", 10), "東京製作所");
        assert_eq!(cut("東京製作所", 9), "東京製作…");
        assert_eq!(cut("東京製作所", 8), "東京製…");
        assert_eq!(cut("東京", 1), "…");
        // An emoji with its presentation selector is one 2-cell grapheme, kept whole.
        assert_eq!(cut("❤\u{fe0f}❤\u{fe0f}❤\u{fe0f}", 4), "❤\u{fe0f}…");
        // Accents as combining marks stay on their letter.
        assert_eq!(cut("e\u{301}e\u{301}e\u{301}", 2), "e\u{301}…");
        for text in ["Abcdefghi", "東京製作所", "aé東❤\u{fe0f}x"] {
            for w in 0..12 {
                assert!(cut(text, w).width() <= w, "{text:?} at {w}");
            }
        }
    }

    #[test]
    fn a_cut_sorted_header_keeps_its_arrow() {
        assert_eq!(sorted_header("First name", " ↑", 8), "First… ↑");
        assert_eq!(sorted_header("First name", " ↓", 12), "First name ↓");
        assert_eq!(sorted_header("First name", " ↓", 11), "First na… ↓");
        assert_eq!(
            sorted_header("First name", "", 8),
            "First name",
            "no arrow: as before"
        );
        assert_eq!(sorted_header("First name", " ↑", 3), "… ↑");
        assert_eq!(sorted_header("First name", " ↑", 2), "↑");
        assert_eq!(sorted_header("First name", " ↑", 0), "");
        assert_eq!(sorted_header("東京製作所", " ↑", 7), "東京… ↑");
    }

    #[test]
    fn cut_middle_keeps_the_end_that_tells_names_apart() {
        assert_eq!(cut_middle("sender", 12), "sender");
        assert_eq!(
            cut_middle("outreach-mailbox-number-1", 19),
            "outreach-…-number-1"
        );
        assert_ne!(
            cut_middle("outreach-mailbox-number-1", 12),
            cut_middle("outreach-mailbox-number-7", 12)
        );
        assert_eq!(cut_middle("東京オフィス営業", 9), "東京…営業");
        assert_eq!(cut_middle("abcdef", 2), "a…");
        for w in 0..20 {
            assert!(
                cut_middle("aé東❤\u{fe0f}xyz-mailbox-2", w).width() <= w,
                "{w}"
            );
        }
    }

    #[test]
    fn pad_fills_display_cells() {
        assert_eq!(pad("sender", 8), "sender  ");
        assert_eq!(
            pad("営業部", 8),
            "営業部  ",
            "three wide characters take six cells"
        );
        assert_eq!(pad("東京オフィス営業", 12), "東京オフィ… ");
        assert_eq!(pad("", 3), "   ");
    }

    fn draw(app: &mut App, w: u16, h: u16) -> String {
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
        t.draw(|f| render(f, app)).unwrap();
        format!("{}", t.backend())
    }

    /// The help fits any width, down to a phone's SSH client: no line is wider than the
    /// box (the box clips it unseen), and every key and every word of every description is
    /// there, in order.
    #[test]
    fn help_lines_fit_narrow_screens_and_lose_no_word() {
        let theme = Theme { color: false };
        for tab in Tab::ALL {
            let mut app = App::new(
                super::super::app::Settings::default(),
                std::path::PathBuf::from("/"),
                false,
            );
            app.tab = tab;
            // Keys sharing a description are listed together, before it.
            let mut want: Vec<String> = Vec::new();
            let help = app.keymap.help(tab);
            let mut described = std::collections::HashSet::new();
            for b in &help {
                if !described.insert(b.desc) {
                    continue;
                }
                for same in help.iter().filter(|o| o.desc == b.desc) {
                    want.extend(
                        same.keys
                            .split([' ', ','])
                            .filter(|w| !w.is_empty())
                            .map(String::from),
                    );
                }
                want.extend(b.desc.split_whitespace().map(String::from));
            }
            for width in [24, 30, 38, 41, 44, 50, 59, 76] {
                let lines = help_lines(&app, width, &theme);
                let text: Vec<String> = lines
                    .iter()
                    .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
                    .collect();
                for line in &text {
                    assert!(
                        line.width() <= width,
                        "{tab:?} at {width}: {line:?} too wide"
                    );
                }
                let words: Vec<&str> = text
                    .iter()
                    .flat_map(|l| l.split([' ', ',']))
                    .filter(|w| !w.is_empty())
                    .collect();
                // Each wanted word appears, in order (keys and descriptions interleave).
                let mut at = 0;
                for w in &want {
                    let w = w.trim_end_matches(',');
                    match words[at..].iter().position(|x| x == &w) {
                        Some(i) => at += i + 1,
                        None => panic!("{tab:?} at {width}: {w:?} missing or out of order"),
                    }
                }
            }
        }
    }

    /// An unknown-key error names the expected keys at its end, past 80 columns: the line
    /// wraps. The tab pages like the others (PageDown, G, g) and the footer names R.
    #[test]
    fn settings_wrap_long_lines_and_page() {
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        let mut app = App::new(
            super::super::app::Settings::default(),
            std::path::PathBuf::from("/"),
            false,
        );
        app.tab = Tab::Settings;
        app.settings.errors = vec![
            "config.toml: unknown field `bogus_key`, expected one of `storage`, `sending`, \
             `mailboxes`, `inbox`, `tracking`, `notify`, `keys`"
                .into(),
        ];
        app.settings.lines = (1..=200).map(|i| format!("line {i}")).collect();
        let text = draw(&mut app, 80, 24);
        assert!(text.contains("`tracking`, `notify`, `keys`"), "{text}");
        assert!(text.contains("R resume"), "{text}");
        let press = |app: &mut App, code| app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
        press(&mut app, KeyCode::PageDown);
        draw(&mut app, 80, 24);
        assert!(app.settings.scroll >= 15, "{}", app.settings.scroll);
        press(&mut app, KeyCode::Char('G'));
        let text = draw(&mut app, 80, 24);
        assert!(text.contains("line 200"), "{text}");
        press(&mut app, KeyCode::Char('g'));
        let text = draw(&mut app, 80, 24);
        assert!(text.contains("unknown field"), "{text}");
        press(&mut app, KeyCode::End);
        press(&mut app, KeyCode::Home);
        assert_eq!(app.settings.scroll, 0);
    }

    /// Help groups every key of an action on one line (Settings listed j, k, Down, Up as
    /// four), and a popup longer than its box says there is more below, then above.
    #[test]
    fn help_groups_keys_and_popups_show_more() {
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        let mut app = App::new(
            super::super::app::Settings::default(),
            std::path::PathBuf::from("/"),
            false,
        );
        app.tab = Tab::Settings;
        app.on_key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE));
        let text = draw(&mut app, 80, 24);
        assert_eq!(text.matches("scroll down").count(), 1, "{text}");
        assert!(text.contains("j, Down  scroll down"), "{text}");
        assert!(text.contains("more ↓"), "{text}");
        for _ in 0..60 {
            app.on_key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
            draw(&mut app, 80, 24);
        }
        let text = draw(&mut app, 80, 24);
        assert!(
            text.contains("↑ more") && !text.contains("more ↓"),
            "{text}"
        );
        app.mode = Mode::Text {
            title: "Preview of row 1".into(),
            text: (1..=50).map(|i| format!("body line {i}\n")).collect(),
            scroll: 0,
        };
        let text = draw(&mut app, 80, 24);
        assert!(text.contains("1-19 of 50 · more ↓"), "{text}");
    }

    /// The widths cells are cut to are the ones the table gives its columns: the layout
    /// always fits, so the table draws each column as wide as it was laid out.
    #[test]
    fn laid_out_widths_are_the_tables() {
        use ratatui::backend::TestBackend;
        for width in [20u16, 37, 60, 80, 120, 161] {
            let placed = super::super::table::layout(
                &super::super::app::OUTBOX_COLUMNS,
                &[true; 7],
                &[60; 7],
                None,
                width,
                1,
            );
            let w: Vec<usize> = placed.iter().map(|p| p.width as usize).collect();
            let constraints: Vec<Constraint> =
                w.iter().map(|&n| Constraint::Length(n as u16)).collect();
            let mut terminal = ratatui::Terminal::new(TestBackend::new(width, 1)).unwrap();
            terminal
                .draw(|f| {
                    let row = Row::new(w.iter().map(|&n| Cell::from("x".repeat(n))));
                    f.render_widget(Table::new([row], constraints), f.area());
                })
                .unwrap();
            let line: String = terminal
                .backend()
                .buffer()
                .content()
                .iter()
                .map(|c| c.symbol())
                .collect();
            let drawn: Vec<usize> = line.trim_end().split(' ').map(str::len).collect();
            let expected: Vec<usize> = w.iter().copied().filter(|&n| n > 0).collect();
            assert_eq!(drawn, expected, "at {width}: {line:?}");
        }
    }
}
