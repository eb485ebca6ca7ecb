//! TUI benchmark with 100k prospect rows: one frame at 160×48, applying a filter, switching
//! tabs, and peak memory. Run with `cargo bench --bench tui`. Figures, not assertions.

use std::time::{Duration, Instant};

use hailer::tui::app::{App, Pane, Settings, Tab};
use hailer::tui::keymap::Action;
use hailer::tui::table::TableRow;
use hailer::tui::ui;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const ROWS: i64 = 100_000;

fn rows() -> Vec<TableRow> {
    let first = [
        "Élodie",
        "Jean-Pierre",
        "Zoë",
        "Marc",
        "Hélène",
        "Connor",
        "Anaïs",
        "Lukas",
    ];
    let last = [
        "Durand",
        "de la Fontaine",
        "Müller",
        "O'Brien",
        "Lefèvre",
        "Smith",
        "Le Goff",
    ];
    (0..ROWS)
        .map(|i| {
            let f = first[(i % 8) as usize];
            let l = last[(i % 7) as usize];
            let company = format!("Company {} SAS", i % 5000);
            TableRow::new(
                i + 1,
                vec![
                    f.to_string(),
                    format!("{l} {i}"),
                    company,
                    format!("{}.{}@company{}.test", f.to_lowercase(), i, i % 5000),
                    if i % 3 == 0 { "VALID" } else { "CATCH_ALL" }.to_string(),
                    format!("company{}.test", i % 5000),
                    "Head of Sales".to_string(),
                ],
            )
        })
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let t = Instant::now();
    let data = rows();
    let built = t.elapsed();
    let mut app = App::new(Settings::default(), "/".into(), true);
    let t = Instant::now();
    app.on_loaded(Pane::Prospects, data);
    let loaded = t.elapsed();
    let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();

    let mut frames = Vec::new();
    for i in 0..300 {
        app.prospects.move_by(if i % 2 == 0 { 997 } else { -13 });
        let t = Instant::now();
        term.draw(|f| ui::render(f, &mut app)).unwrap();
        frames.push(t.elapsed());
    }

    let mut filters = Vec::new();
    for needle in ["elo", "company 42", "o'brien", "zzz", "müller", "sales"] {
        let t = Instant::now();
        app.prospects.set_filter(needle);
        filters.push(t.elapsed());
        let t = Instant::now();
        app.prospects.set_filter("");
        filters.push(t.elapsed());
    }

    let mut sorts = Vec::new();
    for _ in 0..4 {
        let t = Instant::now();
        app.prospects.cycle_sort();
        sorts.push(t.elapsed());
    }

    let mut switches = Vec::new();
    for i in 0..100 {
        let t = Instant::now();
        app.apply(Action::GoTab(if i % 2 == 0 { 2 } else { 0 }));
        term.draw(|f| ui::render(f, &mut app)).unwrap();
        switches.push(t.elapsed());
    }
    assert_eq!(app.tab, Tab::Prospects);

    // `a` with every Outbox row marked: which rows are READY and approved is read from the
    // loaded rows (once quadratic in the number of marked rows: seconds of frozen screen).
    app.on_loaded(
        Pane::Outbox,
        (1..=ROWS)
            .map(|i| {
                let cells = ["READY", "✓", "p@acme.test", "Acme", "Hi", ""];
                TableRow::new(i, cells.iter().map(|c| c.to_string()).collect())
            })
            .collect(),
    );
    app.apply(Action::GoTab(2));
    app.apply(Action::MarkAll);
    app.take_effects();
    let t = Instant::now();
    app.apply(Action::Approve);
    let approve = t.elapsed();
    assert_eq!(app.take_effects().len(), 1);

    println!("TUI benchmark, {ROWS} prospect rows");
    println!("  build rows (format + fold cells): {:>10.2?}", built);
    println!("  load into the table view:         {:>10.2?}", loaded);
    println!(
        "  frame at 160x48 (median of 300):  {:>10.2?}   target < 2 ms",
        median(frames)
    );
    println!(
        "  apply or clear a filter (median): {:>10.2?}   target < 50 ms",
        median(filters)
    );
    println!(
        "  sort by a column (median of 4):   {:>10.2?}",
        median(sorts)
    );
    println!("  a on {ROWS} marked Outbox rows:    {approve:>10.2?}");
    println!(
        "  switch tab and draw (median):     {:>10.2?}",
        median(switches)
    );
    println!(
        "  peak memory (VmHWM):              {:>8.1} MB   target < 200 MB",
        peak_rss_mb()
    );
}
