//! Rendering: pure functions of the App state into a frame. No IO, no locks.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Cell, Clear, Gauge, Paragraph, Row, Scrollbar, ScrollbarOrientation,
    ScrollbarState, Table, TableState, Tabs, Wrap,
};

use super::app::{App, Mode, Tab, TaskState};
use super::table::TableView;
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
        Constraint::Length(1),
    ])
    .areas(f.area());

    render_tabs(f, app, tabs_area, &theme);
    match app.tab {
        Tab::Activity => render_activity(f, app, main, &theme),
        Tab::Settings => render_settings(f, app, main, &theme),
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
                    let line = c.line(main.width as usize);
                    let [top, rest] =
                        Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(main);
                    f.render_widget(Paragraph::new(Line::styled(line, theme.dim())), top);
                    rest
                }
                _ => main,
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
                *page = render_table(f, table, main, &title, &Theme { color });
            }
        }
    }
    render_info(f, app, info, &theme);
    render_status(f, app, status, &theme);

    match &app.mode {
        Mode::Help { scroll } => render_help(f, app, *scroll, &theme),
        Mode::Detail { scroll } => render_detail(f, app, *scroll, &theme),
        Mode::Text {
            title,
            text,
            scroll,
        } => {
            let area = popup(f.area(), 100, f.area().height.saturating_sub(2));
            f.render_widget(Clear, area);
            let lines: Vec<Line> = text.lines().map(|l| Line::raw(sanitize(l))).collect();
            let scroll = (*scroll).min(lines.len().saturating_sub(1)) as u16;
            f.render_widget(
                Paragraph::new(lines)
                    .scroll((scroll, 0))
                    .wrap(Wrap { trim: false })
                    .block(
                        Block::bordered()
                            .title(format!(" {} · Esc closes · j/k scroll ", sanitize(title))),
                    ),
                area,
            );
        }
        Mode::Prompt(p) => {
            let area = popup(f.area(), 70, 6);
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
        Mode::EditEmail { input, .. } => {
            let area = popup(f.area(), 60, 4);
            f.render_widget(Clear, area);
            let lines = vec![
                Line::from(vec![
                    Span::raw("address: "),
                    Span::styled(format!("{}▏", sanitize(input)), theme.accent()),
                ]),
                Line::styled("Enter saves · Esc cancels", theme.dim()),
            ];
            f.render_widget(
                Paragraph::new(lines).block(Block::bordered().title(" Edit address ")),
                area,
            );
        }
        Mode::ConfirmQuit => {
            let area = popup(f.area(), 50, 5);
            f.render_widget(Clear, area);
            let n = app.activity.running().count();
            f.render_widget(
                Paragraph::new(vec![
                    Line::from(format!("{n} task(s) still running.")),
                    Line::styled("Quit and cancel them? (y/n)", theme.accent()),
                ])
                .alignment(Alignment::Center)
                .block(Block::bordered().title(" Quit ")),
                area,
            );
        }
        Mode::Normal | Mode::Filter => {}
    }
}

fn table_title(app: &App) -> String {
    match app.tab {
        Tab::Prospects if app.show_messages => format!(" Messages ({}) ", app.messages.rows.len()),
        Tab::Prospects => format!(" Prospects ({}) ", app.prospects.rows.len()),
        Tab::Bounces => {
            let filters = app.bounce_pane.describe();
            if filters.is_empty() {
                format!(" Bounces ({}) ", app.bounces.rows.len())
            } else {
                format!(" Bounces ({}) · {} ", app.bounces.rows.len(), filters)
            }
        }
        t => format!(" {} ", t.title()),
    }
}

fn render_tabs(f: &mut Frame, app: &App, area: Rect, theme: &Theme) {
    let titles: Vec<Line> = Tab::ALL
        .iter()
        .enumerate()
        .map(|(i, t)| Line::from(format!("{} {}", i + 1, t.title())))
        .collect();
    let tabs = Tabs::new(titles)
        .select(app.tab.index())
        .highlight_style(theme.selected())
        .divider("│")
        .padding("", "");
    f.render_widget(tabs, area);
}

/// Bounces tab, above the table: the top 5 bouncing domains as bars (of the filtered rows),
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
        let name: String = sanitize(domain).chars().take(name_w).collect();
        lines.push(Line::from(vec![
            Span::raw(format!("{name:<name_w$} ")),
            Span::styled("█".repeat(filled), theme.gauge()),
            Span::raw(format!("{}{n:>count_w$}", " ".repeat(bar_w - filled + 1))),
        ]));
    }
    if lines.is_empty() {
        lines.push(Line::styled("no bounces", theme.dim()));
    }
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Top bouncing domains ")),
        left,
    );
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
            Line::from(vec![
                Span::raw(format!("{:<10} ", sanitize(&r.mailbox))),
                Span::styled(format!("{pct:>6}"), style),
                Span::styled(
                    format!("  {}/{} ({} hard)", r.bounced, r.sent, r.hard),
                    theme.dim(),
                ),
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
    theme: &Theme,
) -> usize {
    let block = Block::new().borders(Borders::ALL).title(title.to_string());
    if table.rows.is_empty() {
        let text = if table.loaded {
            table.empty_hint
        } else {
            "loading…"
        };
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
            cells.extend(r.cells.iter().map(|c| Cell::from(sanitize(c))));
            Row::new(cells)
        })
        .collect();
    let mut header: Vec<Cell> = vec![Cell::from(" ")];
    header.extend(table.columns.iter().enumerate().map(|(i, c)| {
        let arrow = match table.sort {
            Some((col, true)) if col == i => " ↑",
            Some((col, false)) if col == i => " ↓",
            _ => "",
        };
        Cell::from(format!("{c}{arrow}"))
    }));
    let mut widths = vec![Constraint::Length(1)];
    widths.extend(table.widths.iter().map(|w| Constraint::Fill(*w)));
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
                "  b build · a approve · s skip · t status · Enter preview"
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
            Line::from(vec![
                Span::raw(t.position_text()),
                Span::styled(hint, theme.dim()),
            ])
        }
        (_, None) if app.tab == Tab::Activity => Line::styled(
            "j/k select task · x cancel · p pause/resume · PgUp/PgDn scroll log",
            theme.dim(),
        ),
        (_, None) => Line::styled("e edit config.toml · j/k scroll", theme.dim()),
    };
    f.render_widget(Paragraph::new(line), area);
}

fn render_status(f: &mut Frame, app: &App, area: Rect, theme: &Theme) {
    let mut spans: Vec<Span> = Vec::new();
    let running: Vec<_> = app.activity.running().collect();
    if running.is_empty() {
        spans.push(Span::styled("idle", theme.dim()));
    } else {
        for t in running.iter().take(3) {
            let pct = (t.ratio() * 100.0).round() as u32;
            let state = if t.state == TaskState::Paused {
                " paused"
            } else {
                ""
            };
            spans.push(Span::styled(
                format!("⟳ {} {pct}%{state} ", t.kind.name()),
                theme.accent(),
            ));
        }
        if running.len() > 3 {
            spans.push(Span::raw(format!("+{} ", running.len() - 3)));
        }
    }
    if let Some(toast) = &app.toast {
        spans.push(Span::raw(" │ "));
        let style = if toast.error {
            theme.error()
        } else {
            Style::new()
        };
        spans.push(Span::styled(sanitize(&toast.text), style));
    }
    let [left, right] =
        Layout::horizontal([Constraint::Min(10), Constraint::Length(16)]).areas(area);
    f.render_widget(Paragraph::new(Line::from(spans)), left);
    f.render_widget(
        Paragraph::new("? help · q quit")
            .alignment(Alignment::Right)
            .style(theme.dim()),
        right,
    );
}

fn fmt_duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

fn render_activity(f: &mut Frame, app: &App, area: Rect, theme: &Theme) {
    let act = &app.activity;
    let task_rows = (act.tasks.len() as u16 + 3).clamp(4, area.height / 2);
    let [tasks_area, gauge_area, log_area] = Layout::vertical([
        Constraint::Length(task_rows),
        Constraint::Length(3),
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
        let rows: Vec<Row> = act
            .tasks
            .iter()
            .map(|t| {
                let progress = match t.total {
                    Some(total) => format!("{}/{}", t.done, total),
                    None => t.done.to_string(),
                };
                let rate = t.rate().map_or("—".into(), |r| format!("{r:.0}/s"));
                let eta = t.eta().map_or("—".into(), fmt_duration);
                let state_style = match t.state {
                    TaskState::Failed => theme.error(),
                    TaskState::Paused | TaskState::Cancelled => theme.warn(),
                    _ => Style::new(),
                };
                Row::new(vec![
                    Cell::from(format!("#{}", t.id)),
                    Cell::from(sanitize(&t.title)),
                    Cell::from(t.state.label()).style(state_style),
                    Cell::from(format!("{:>3.0}% {progress}", t.ratio() * 100.0)),
                    Cell::from(rate),
                    Cell::from(eta),
                    Cell::from(sanitize(t.summary.as_deref().unwrap_or(&t.note))),
                ])
            })
            .collect();
        let widths = [
            Constraint::Length(4),
            Constraint::Fill(3),
            Constraint::Length(9),
            Constraint::Length(18),
            Constraint::Length(8),
            Constraint::Length(7),
            Constraint::Fill(3),
        ];
        let table = Table::new(rows, widths)
            .header(
                Row::new(["id", "task", "state", "progress", "rate", "ETA", "note"])
                    .style(theme.accent()),
            )
            .block(block)
            .row_highlight_style(theme.selected());
        let mut state = TableState::default().with_selected(Some(act.selected));
        f.render_stateful_widget(table, tasks_area, &mut state);
    }

    let gauge_block = Block::bordered().title(" Selected task ");
    match act.selected_task() {
        Some(t) => {
            let label = format!(
                "{} {:.0}% · {}",
                t.state.label(),
                t.ratio() * 100.0,
                fmt_duration(t.elapsed)
            );
            f.render_widget(
                Gauge::default()
                    .block(gauge_block)
                    .gauge_style(theme.gauge())
                    .ratio(t.ratio())
                    .label(label),
                gauge_area,
            );
        }
        None => f.render_widget(gauge_block, gauge_area),
    }

    let inner_height = log_area.height.saturating_sub(2) as usize;
    let end = act.log.len().saturating_sub(act.log_back);
    let start = end.saturating_sub(inner_height);
    let lines: Vec<Line> = act
        .log
        .range(start..end)
        .map(|l| {
            let style = match l.level {
                Level::Error => theme.error(),
                Level::Warn => theme.warn(),
                Level::Info => Style::new(),
            };
            let who = l.task.map_or(String::new(), |id| format!("#{id} "));
            Line::from(vec![
                Span::styled(who, theme.dim()),
                Span::styled(sanitize(&l.text), style),
            ])
        })
        .collect();
    let title = if act.log_back > 0 {
        format!(" Log (scrolled back {} lines; G follows) ", act.log_back)
    } else {
        " Log ".to_string()
    };
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(title)),
        log_area,
    );
}

fn render_settings(f: &mut Frame, app: &App, area: Rect, theme: &Theme) {
    let s = &app.settings;
    let mut lines: Vec<Line> = Vec::new();
    for e in &s.errors {
        lines.push(Line::styled(sanitize(e), theme.error()));
    }
    if !s.errors.is_empty() {
        lines.push(Line::styled(
            "The previous configuration is still in use.",
            theme.warn(),
        ));
        lines.push(Line::raw(""));
    }
    lines.extend(s.lines.iter().map(|l| {
        if l.starts_with('[') {
            Line::styled(l.clone(), theme.accent())
        } else {
            Line::raw(l.clone())
        }
    }));
    let scroll = s.scroll.min(lines.len().saturating_sub(1)) as u16;
    f.render_widget(
        Paragraph::new(lines)
            .scroll((scroll, 0))
            .block(Block::bordered().title(" Settings (secrets redacted) ")),
        area,
    );
}

fn render_help(f: &mut Frame, app: &App, scroll: usize, theme: &Theme) {
    let area = popup(f.area(), 72, f.area().height.saturating_sub(2));
    f.render_widget(Clear, area);
    let mut lines = vec![Line::styled(
        format!("Keys on the {} tab", app.tab.title()),
        theme.accent(),
    )];
    let mut last_desc = "";
    let mut keys_for_desc: Vec<String> = Vec::new();
    let bindings = app.keymap.help(app.tab);
    // Merge consecutive bindings with the same description: "j, Down  move down".
    let mut merged: Vec<(String, &str)> = Vec::new();
    for b in bindings {
        if b.desc == last_desc {
            keys_for_desc.push(b.keys.to_string());
            if let Some(last) = merged.last_mut() {
                last.0 = keys_for_desc.join(", ");
            }
        } else {
            keys_for_desc = vec![b.keys.to_string()];
            merged.push((b.keys.to_string(), b.desc));
            last_desc = b.desc;
        }
    }
    for (keys, desc) in merged {
        lines.push(Line::from(vec![
            Span::styled(format!("{keys:>16}  "), theme.accent()),
            Span::raw(desc),
        ]));
    }
    let scroll = scroll.min(lines.len().saturating_sub(1)) as u16;
    f.render_widget(
        Paragraph::new(lines)
            .scroll((scroll, 0))
            .block(Block::bordered().title(" Help · Esc closes · j/k scroll ")),
        area,
    );
}

fn render_detail(f: &mut Frame, app: &App, scroll: usize, theme: &Theme) {
    let Some(table) = app.table() else { return };
    let area = popup(f.area(), 76, f.area().height.saturating_sub(2));
    f.render_widget(Clear, area);
    let mut lines = Vec::new();
    for (k, v) in table.detail() {
        let mut first = true;
        for part in v.split('\n') {
            let label = if first {
                format!("{k:>14}: ")
            } else {
                " ".repeat(16)
            };
            first = false;
            lines.push(Line::from(vec![
                Span::styled(label, theme.accent()),
                Span::raw(sanitize(part)),
            ]));
        }
    }
    let scroll = scroll.min(lines.len().saturating_sub(1)) as u16;
    f.render_widget(
        Paragraph::new(lines)
            .scroll((scroll, 0))
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" Record · Esc closes ")),
        area,
    );
}

/// A centred rectangle of at most `width` × `height` cells.
fn popup(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width.saturating_sub(2));
    let h = height.min(area.height.saturating_sub(2)).max(3);
    Rect {
        x: area.x + (area.width.saturating_sub(w)) / 2,
        y: area.y + (area.height.saturating_sub(h)) / 2,
        width: w,
        height: h.min(area.height),
    }
}
