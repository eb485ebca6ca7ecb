//! Snapshot tests of every tab at 80×24 and 160×48 with the sample data, rendered to
//! ratatui's TestBackend. Accept changes with `INSTA_UPDATE=always cargo test` and review
//! the .snap diff before committing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hailer::config::{Config, LoadedConfig};
use hailer::engine::import::{self, ImportKind, ImportRequest};
use hailer::engine::jobs::{JobKind, JobMsg, Level};
use hailer::store::Store;
use hailer::tui::app::{App, Pane, Settings, Tab};
use hailer::tui::{data, ui};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn assets(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets")
        .join(name)
}

fn sample_app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    for (kind, file) in [
        (ImportKind::Prospects, "prospects.csv"),
        (ImportKind::Messages, "messages.csv"),
    ] {
        let req = ImportRequest {
            kind,
            file: assets(file),
            sheet: None,
            overrides: vec![],
            sample: false,
        };
        import::run(&mut store, &req, &mut |_| true).unwrap();
    }
    // Suggestions for the first prospects, as `hailer find` stores them (made offline).
    for (i, p) in hailer::store::prospects::list(store.conn())
        .unwrap()
        .into_iter()
        .take(5)
        .enumerate()
    {
        let known: Vec<String> = if i % 2 == 0 {
            vec![]
        } else {
            vec!["mcurie@sample.test".into()]
        };
        let s =
            hailer::engine::find::pattern::guess(&p.firstname, &p.lastname, "sample.test", &known)
                .unwrap();
        let status = if i == 4 { "accepted" } else { "suggested" };
        hailer::store::suggestions::upsert(
            store.conn(),
            &hailer::store::suggestions::NewSuggestion {
                prospect_id: p.id,
                email: Some(&s.email),
                alternatives: &s.alternatives,
                pattern: Some(&s.pattern),
                confidence: s.confidence,
                evidence: &s.evidence,
                status,
                reason: None,
            },
            true,
            0,
        )
        .unwrap();
        // The first two were verified: the Verified column shows the verdicts.
        let verdict = match i {
            0 => Some(("VALID", 250, "2.1.5", "Ok")),
            1 => Some(("MAILBOX_NOT_FOUND", 550, "5.1.1", "User unknown")),
            _ => None,
        };
        if let Some((status, code, enhanced, detail)) = verdict {
            store
                .conn()
                .execute(
                    "INSERT INTO verifications (email, status, mx, code, enhanced, detail, checked_at)
                     VALUES (?1, ?2, 'mx.sample.test', ?3, ?4, ?5, 0)",
                    rusqlite::params![s.email, status, code, enhanced, detail],
                )
                .unwrap();
        }
    }
    let loaded = LoadedConfig {
        config: Config::default(),
        path: Some(PathBuf::from("config.toml")),
    };
    let mut app = App::new(
        Settings::from_config(&loaded, Path::new("data")),
        PathBuf::from("/"),
        false,
    );
    app.on_loaded(Pane::Prospects, data::load_prospects(dir.path()).unwrap());
    app.on_loaded(Pane::Messages, data::load_messages(dir.path()).unwrap());
    hailer::engine::outbox::build::build(&mut store).unwrap();
    track_first_ready_row(&store);
    app.on_loaded(Pane::Outbox, data::load_outbox(dir.path()).unwrap());
    app.on_outbox_stats(&data::load_outbox_stats(dir.path()).unwrap());
    app.on_loaded(
        Pane::Suggestions,
        data::load_suggestions(dir.path()).unwrap(),
    );
    app.on_bounces_loaded(hailer::tui::bounces::load(dir.path()).unwrap());
    // A finished import and a running verification, with fixed numbers.
    app.on_job(JobMsg::Started {
        id: 1,
        kind: JobKind::Import,
        title: "import prospects assets/prospects.csv".into(),
        pausable: false,
    });
    app.on_job(JobMsg::Progress {
        id: 1,
        done: 261,
        total: Some(261),
        note: "rows".into(),
    });
    app.on_job(JobMsg::Log {
        id: 1,
        level: Level::Warn,
        text: "line 106: missing lastname".into(),
    });
    app.on_job(JobMsg::Finished {
        id: 1,
        outcome: hailer::engine::jobs::Outcome::Done(
            "257 imported, 2 duplicates, 2 rejected".into(),
        ),
        cancelled: false,
    });
    app.on_job(JobMsg::Started {
        id: 2,
        kind: JobKind::Verify,
        title: "verify 1200 addresses".into(),
        pausable: true,
    });
    app.on_job(JobMsg::Progress {
        id: 2,
        done: 300,
        total: Some(1200),
        note: "acme.test".into(),
    });
    app.activity.tasks[1].elapsed = Duration::from_secs(60);
    app.take_effects();
    app.toast = None;
    app
}

/// The first READY row becomes SENT with two opens (one by an image proxy) and a click, as
/// `hailer serve` records them. Returns its id.
fn track_first_ready_row(store: &Store) -> i64 {
    let id: i64 = store
        .conn()
        .query_row(
            "SELECT MIN(id) FROM outbox WHERE status = 'READY'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    store
        .conn()
        .execute_batch(&format!(
            "UPDATE outbox SET status = 'SENT', sent_at = 1 WHERE id = {id};
             INSERT INTO tracking_events (outbox_id, kind, url, machine, created_at) VALUES
               ({id}, 'OPEN', NULL, 1, 1), ({id}, 'OPEN', NULL, 0, 2),
               ({id}, 'CLICK', 'https://sample.test/', 0, 3);"
        ))
        .unwrap();
    id
}

fn render(app: &mut App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| ui::render(f, app)).unwrap();
    terminal
}

/// Every tab at the usual sizes and a narrow one: tables keep whole headers (a short form
/// or fewer columns when narrow) and give the room left to the column that explains.
#[test]
fn every_tab_at_every_size() {
    for (w, h) in [(80u16, 24u16), (160, 48), (120, 40), (60, 20)] {
        for tab in Tab::ALL {
            let mut app = sample_app();
            app.tab = tab;
            let terminal = render(&mut app, w, h);
            insta::assert_snapshot!(
                format!("{}_{w}x{h}", tab.title().to_lowercase()),
                terminal.backend()
            );
        }
    }
}

/// At 80 columns every help line is whole: long descriptions wrap instead of being cut.
#[test]
fn help_wraps_long_descriptions_at_80_columns() {
    let mut app = sample_app();
    app.tab = Tab::Outbox;
    app.apply(hailer::tui::keymap::Action::Help);
    let text = format!("{}", render(&mut app, 80, 24).backend());
    let words: Vec<&str> = text
        .lines()
        .flat_map(|l| l.split(['│', '║', '█', '▲', '▼', '"', ' ']))
        .filter(|w| !w.is_empty())
        .collect();
    let joined = words.join(" ");
    for want in [
        "send: shows how many, from which mailboxes, today's capacity; y starts",
        "UNCERTAIN row: mark it SENT or requeue it; soft-bounced row: send it again \
         (refused after two same-way bounces: f in the dialog forces it)",
        "read the replies to this row (what they wrote, without the quoted text)",
    ] {
        assert!(joined.contains(want), "{want:?} not whole in:\n{text}");
    }
}

/// `?` lists the keys of the one-line inputs too (README: "Ctrl-U clears and Ctrl-W
/// deletes a word"), on the tabs that have inputs, and Tab completion where a path is typed.
#[test]
fn help_lists_the_keys_of_one_line_inputs() {
    use hailer::tui::app::Mode;
    for (tab, inputs) in [
        (Tab::Prospects, true),
        (Tab::Suggestions, true),
        (Tab::Outbox, true),
        (Tab::Bounces, true),
        (Tab::Activity, false),
        (Tab::Settings, false),
    ] {
        let mut app = sample_app();
        app.tab = tab;
        app.apply(hailer::tui::keymap::Action::Help);
        app.mode = Mode::Help { scroll: 500 };
        let text = format!("{}", render(&mut app, 80, 24).backend());
        for want in [
            "In a one-line input",
            "C-u  clear the line",
            "C-w  delete the last word",
        ] {
            assert_eq!(text.contains(want), inputs, "{tab:?}: {want:?} in:\n{text}");
        }
        assert_eq!(
            text.contains("Tab  complete the path (i)"),
            tab == Tab::Prospects,
            "{tab:?}:\n{text}"
        );
    }
}

/// The soft-bounce dialog (`u` on a soft-bounced row) fits 80x24 with its reason and keys.
#[test]
fn the_soft_bounce_dialog_names_the_reason_and_the_keys_at_80_columns() {
    let mut app = sample_app();
    app.tab = Tab::Outbox;
    app.mode = hailer::tui::app::Mode::ResendBounced {
        id: 7,
        email: "ann@acme.test".into(),
        reason: "soft: mailboxfull 4.2.2".into(),
    };
    let text = format!("{}", render(&mut app, 80, 24).backend());
    for want in [
        "Row 7 to ann@acme.test bounced:",
        "soft: mailboxfull 4.2.2",
        "r: send it again (READY, approve again) · any other key: keep",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
}

/// A reply read from a watched folder: the Outbox row's note shows what the person wrote on
/// one line, and `r` opens all of it (its quoted text left out) in a popup at 80x24.
#[test]
fn a_reply_can_be_read_on_the_outbox_tab() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    store
        .conn()
        .execute_batch(
            "INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'Acme SA', 0);
             INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key,
                                    created_at)
             VALUES (1, 'Ann', 'Doe', 'Acme SA', 'acme', 'ann doe', 0);
             INSERT INTO outbox (id, prospect_id, email, company_key, subject, status, mailbox,
                                 header_message_id, sent_at, created_at, updated_at)
             VALUES (1, 1, 'ann@acme.test', 'acme', 'Hello Ann', 'SENT', 'sender',
                     '1.abc@sender.test', 1, 0, 0);",
        )
        .unwrap();
    let reply = "From: Ann Doe <ann@acme.test>\r\nTo: sender@sender.test\r\n\
                 Subject: Re: Hello Ann\r\nIn-Reply-To: <1.abc@sender.test>\r\n\
                 Message-ID: <r1@acme.test>\r\n\r\nHello,\r\n\r\nYes, Tuesday at 10 suits me. \
                 Could you send the deck before? We compare three offers this quarter, so \
                 numbers for 200 seats would help.\r\n\r\nAnn\r\n\r\n\
                 On Mon, 7 Dec 2026, Sam <sender@sender.test> wrote:\r\n> Would Tuesday suit you?\r\n";
    hailer::engine::inbox::process::handle(
        store.conn(),
        hailer::engine::inbox::process::Location {
            mailbox: "sender",
            folder: "INBOX",
            uidvalidity: 1,
            uid: 1,
            own_addresses: &[],
        },
        reply.as_bytes(),
        1_796_626_408,
    )
    .unwrap();
    let mut app = App::new(Settings::default(), PathBuf::from("/"), false);
    app.tab = Tab::Outbox;
    app.on_loaded(Pane::Outbox, data::load_outbox(dir.path()).unwrap());
    let row = app.outbox.selected_row().unwrap().clone();
    assert_eq!(
        row.cells.last().unwrap(),
        "replied: Hello, Yes, Tuesday at 10 suits me. Could you send the deck before? We \
         compare three offers this quarter, so numbers for 200 seats would help. Ann"
    );
    app.apply(hailer::tui::keymap::Action::ReadReplies);
    assert_eq!(
        app.take_effects(),
        vec![hailer::tui::app::Effect::Replies(1)]
    );
    let text = data::replies_text(dir.path(), 1).unwrap().unwrap();
    assert!(!text.contains("Would Tuesday suit you"), "{text}");
    app.show_text("Replies to row 1", text);
    insta::assert_snapshot!("replies_popup_80x24", render(&mut app, 80, 24).backend());
    assert_eq!(data::replies_text(dir.path(), 2).unwrap(), None);
}

/// The resend refused after two same-way soft bounces offers to force it, naming the risk,
/// at 80x24.
#[test]
fn the_forced_resend_dialog_names_the_risk_and_the_key_at_80_columns() {
    let mut app = sample_app();
    app.tab = Tab::Outbox;
    app.on_resend_refused(hailer::store::sending::ResendRefusal::RepeatedSoftBounce {
        id: 7,
        count: 2,
        why: "norelaying 5.7.1".into(),
    });
    let text = format!("{}", render(&mut app, 80, 24).backend());
    for want in [
        "Bounced the same way twice",
        "row 7: 2 of its messages soft-bounced the same way",
        "mailbox's reputation; a third soft-bounced message suppresses",
        "f: send it again anyway (READY) · any other key: keep it BOUNCED",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
}

#[test]
fn messages_view_filter_help_and_detail() {
    let mut app = sample_app();
    app.show_messages = true;
    insta::assert_snapshot!("messages_80x24", render(&mut app, 80, 24).backend());
    insta::assert_snapshot!("messages_60x20", render(&mut app, 60, 20).backend());

    let mut app = sample_app();
    app.prospects.set_filter("elodie");
    app.prospects.cycle_sort();
    insta::assert_snapshot!(
        "prospects_filtered_80x24",
        render(&mut app, 80, 24).backend()
    );

    let mut app = sample_app();
    app.apply(hailer::tui::keymap::Action::Help);
    insta::assert_snapshot!("help_prospects_80x24", render(&mut app, 80, 24).backend());

    let mut app = sample_app();
    app.apply(hailer::tui::keymap::Action::Detail);
    insta::assert_snapshot!("detail_80x24", render(&mut app, 80, 24).backend());
}

#[test]
fn selected_row_is_highlighted_and_only_visible_rows_are_drawn() {
    let mut app = sample_app();
    app.prospects.move_by(3);
    let terminal = render(&mut app, 80, 24);
    let buf = terminal.backend().buffer();
    // Row 0 tabs, 1 border, 2 header, 3.. rows: the 4th data row is on line 6.
    assert!(
        buf[(5, 6)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED)
    );
    assert!(
        !buf[(5, 5)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED)
    );
    assert_eq!(app.page_height, 24 - 3 - 3);
    // Jumping to the end scrolls the window: the last row is drawn, the first is not.
    app.prospects.bottom();
    let terminal = render(&mut app, 80, 24);
    let text = format!("{}", terminal.backend());
    assert!(text.contains(&format!(
        "row {} of {}",
        app.prospects.rows.len(),
        app.prospects.rows.len()
    )));
    let first = &app.prospects.rows[0].cells[1];
    assert!(
        !text.contains(first.as_str())
            || app
                .prospects
                .rows
                .iter()
                .filter(|r| &r.cells[1] == first)
                .count()
                > 1
    );
}

#[test]
fn empty_tables_show_how_to_fill_them() {
    let mut app = App::new(Settings::default(), PathBuf::from("/"), false);
    app.on_loaded(Pane::Prospects, vec![]);
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(text.contains("press i to import"), "{text}");
    app.tab = Tab::Outbox;
    app.on_loaded(Pane::Outbox, vec![]);
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(text.contains("The outbox is empty"), "{text}");
    app.on_loaded(Pane::Suggestions, vec![]);
    app.tab = Tab::Suggestions;
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(text.contains("press f to find emails"), "{text}");
}

/// An app whose Bounces tab shows rows from a database: 12 sent messages over two mailboxes,
/// bounces at four domains (hard and soft), a delay and a complaint, at fixed dates.
fn bounce_app() -> App {
    use hailer::store::bounces::{self, NewBounce};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    for (kind, file) in [
        (ImportKind::Prospects, "prospects.csv"),
        (ImportKind::Messages, "messages.csv"),
    ] {
        let req = ImportRequest {
            kind,
            file: assets(file),
            sheet: None,
            overrides: vec![],
            sample: false,
        };
        import::run(&mut store, &req, &mut |_| true).unwrap();
    }
    hailer::engine::outbox::build::build(&mut store).unwrap();
    let c = store.conn();
    let ids: Vec<i64> = hailer::store::outbox::list(c, None)
        .unwrap()
        .iter()
        .filter(|r| r.email.is_some())
        .take(12)
        .map(|r| r.id)
        .collect();
    for (i, id) in ids.iter().enumerate() {
        c.execute(
            "UPDATE outbox SET status = 'SENT', mailbox = ?2, sent_at = ?3 WHERE id = ?1",
            rusqlite::params![
                id,
                if i % 3 == 0 { "claire" } else { "sender" },
                1_795_000_000 + i as i64
            ],
        )
        .unwrap();
    }
    c.execute_batch(
        "INSERT INTO inbox_messages (id, mailbox, folder, uidvalidity, uid, message_key, kind, processed_at)
         VALUES (1, 'sender', 'INBOX', 1, 1, 'mid:x', 'bounce', 0)",
    )
    .unwrap();
    // recipient, action, status, reply code, reason, hard, kind
    type Sample<'a> = (
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<u16>,
        &'a str,
        bool,
        &'a str,
    );
    let rows: [Sample; 7] = [
        (
            "nobody@acme.test",
            "failed",
            Some("5.1.1"),
            Some(550),
            "userunknown",
            true,
            "bounce",
        ),
        (
            "jdoe@acme.test",
            "failed",
            Some("5.1.1"),
            Some(550),
            "userunknown",
            true,
            "bounce",
        ),
        (
            "ceo@acme.test",
            "failed",
            Some("5.2.2"),
            Some(552),
            "mailboxfull",
            false,
            "bounce",
        ),
        (
            "a.b@example-industries.test",
            "failed",
            Some("5.7.1"),
            Some(554),
            "blocked",
            false,
            "bounce",
        ),
        (
            "x@nullmx.test",
            "failed",
            Some("5.1.10"),
            None,
            "hostunknown",
            true,
            "bounce",
        ),
        (
            "slow@greylist.test",
            "delayed",
            Some("4.7.1"),
            Some(450),
            "blocked",
            false,
            "bounce",
        ),
        (
            "angry@acme.test",
            "",
            None,
            None,
            "abuse",
            false,
            "complaint",
        ),
    ];
    for (i, (rcpt, action, status, reply, reason, hard, kind)) in rows.into_iter().enumerate() {
        bounces::insert(
            c,
            &NewBounce {
                kind,
                date: 1_795_100_000 + i as i64 * 3600,
                mailbox: if i % 3 == 0 { "claire" } else { "sender" },
                outbox_id: ids.get(i).copied(),
                recipient: rcpt,
                action: (!action.is_empty()).then_some(action),
                status_code: status,
                reply_code: reply,
                reason,
                hard,
                diagnostic: "smtp; 550 5.1.1 <nobody@acme.test>: Recipient address rejected: User unknown in virtual mailbox table",
                remote_mta: Some("mx.acme.test"),
                raw: "Reporting-MTA: dns; mail.sender.test\nArrival-Date: Sun, 22 Nov 2026 01:59:55 +0000\n\nFinal-Recipient: rfc822; nobody@acme.test\nAction: failed\nStatus: 5.1.1",
                inbox_message_id: 1,
                matched_by: "by Message-ID <80.3f2a@sender.test>",
                message_id: None,
            },
            0,
        )
        .unwrap();
    }
    let mut app = App::new(Settings::default(), PathBuf::from("/"), false);
    let mut data = hailer::tui::bounces::load(dir.path()).unwrap();
    data.now = 1_795_200_000;
    app.on_bounces_loaded(data);
    app.tab = Tab::Bounces;
    app
}

#[test]
fn bounces_tab_chart_rates_filters_and_dsn() {
    use hailer::tui::keymap::Action;
    let mut app = bounce_app();
    assert_eq!(app.bounces.rows.len(), 7);
    insta::assert_snapshot!("bounces_data_80x24", render(&mut app, 80, 24).backend());
    insta::assert_snapshot!("bounces_data_160x48", render(&mut app, 160, 48).backend());
    insta::assert_snapshot!("bounces_data_120x40", render(&mut app, 120, 40).backend());
    insta::assert_snapshot!("bounces_data_60x20", render(&mut app, 60, 20).backend());
    // The chart: acme.test leads with 3 bounces (the complaint is not counted).
    assert_eq!(app.bounce_pane.top[0], ("acme.test".to_string(), 3));

    // Domain filter from the selected row (the newest: the complaint at acme.test).
    app.apply(Action::BounceDomain);
    assert_eq!(app.bounces.rows.len(), 4);
    assert!(app.bounces.rows.iter().all(|r| r.cells[2] == "acme.test"));
    // Then the reason of the row below (userunknown is 2 of those).
    app.apply(Action::Down);
    app.apply(Action::Down);
    app.apply(Action::BounceReason);
    insta::assert_snapshot!("bounces_filtered_80x24", render(&mut app, 80, 24).backend());
    assert_eq!(app.bounces.rows.len(), 2, "{:?}", app.bounces.rows);
    app.apply(Action::BounceDomain);
    app.apply(Action::BounceReason);
    assert_eq!(app.bounces.rows.len(), 7);

    // Date ranges count back from the load time: the rows are 21.8 to 27.8 hours old, one an
    // hour, so the last 24 h hold the 3 newest; 7 days hold them all.
    app.apply(Action::BounceDates);
    assert_eq!(app.bounce_pane.days(), 1);
    assert_eq!(app.bounces.rows.len(), 3);
    app.apply(Action::BounceDates);
    assert_eq!(app.bounces.rows.len(), 7);
    for _ in 0..3 {
        app.apply(Action::BounceDates);
    }
    assert_eq!(app.bounce_pane.days(), 0);

    // T: a typed range. One day (UTC, as the table shows dates) keeps exactly the rows of that
    // day; an open range from the next day keeps the rest; a bad date says so and keeps the
    // input; an empty one clears.
    let day_of = |ts: i64| {
        chrono::DateTime::from_timestamp(ts, 0)
            .unwrap()
            .format("%Y-%m-%d")
            .to_string()
    };
    let dates: Vec<i64> = app.bounce_pane.data.items.iter().map(|i| i.date).collect();
    let newest_day = day_of(*dates.iter().max().unwrap());
    let on_newest_day = dates.iter().filter(|d| day_of(**d) == newest_day).count();
    use crossterm::event::{KeyCode, KeyEvent};
    let type_range = |app: &mut hailer::tui::app::App, text: &str| {
        app.apply(Action::BounceDateRange);
        // The prompt opens with the current range: clear it first.
        for _ in 0..30 {
            app.on_key(KeyEvent::from(KeyCode::Backspace));
        }
        for c in text.chars() {
            app.on_key(KeyEvent::from(KeyCode::Char(c)));
        }
        app.on_key(KeyEvent::from(KeyCode::Enter));
    };
    type_range(&mut app, &newest_day);
    assert_eq!(app.bounces.rows.len(), on_newest_day, "{newest_day}");
    assert!(app.bounce_pane.describe().contains(&newest_day));
    type_range(&mut app, &format!("..{newest_day}"));
    assert_eq!(app.bounces.rows.len(), 7);
    app.apply(Action::BounceDateRange);
    for _ in 0..20 {
        app.on_key(KeyEvent::from(KeyCode::Backspace));
    }
    for c in "2026-13-45".chars() {
        app.on_key(KeyEvent::from(KeyCode::Char(c)));
    }
    app.on_key(KeyEvent::from(KeyCode::Enter));
    assert!(
        matches!(&app.mode, hailer::tui::app::Mode::BounceDates { input } if input == "2026-13-45"),
        "a bad date keeps the prompt open"
    );
    let said = app.toast.take().map(|t| t.text).unwrap_or_default();
    assert!(said.contains("is not a date"), "{said}");
    app.on_key(KeyEvent::from(KeyCode::Esc));
    type_range(&mut app, "");
    assert_eq!(app.bounce_pane.custom, None);
    assert_eq!(app.bounces.rows.len(), 7);

    // Enter: the record with the diagnostic and the raw DSN part, scrollable.
    app.apply(Action::Top);
    app.apply(Action::Down);
    app.apply(Action::Detail);
    insta::assert_snapshot!("bounces_detail_80x24", render(&mut app, 80, 24).backend());
}

#[test]
fn bounces_sync_key_starts_a_task_once() {
    use hailer::tui::app::Effect;
    use hailer::tui::keymap::Action;
    let mut app = bounce_app();
    app.apply(Action::SyncInbox);
    assert_eq!(app.take_effects(), vec![Effect::SyncInbox]);
    app.on_job(JobMsg::Started {
        id: 9,
        kind: JobKind::Watch,
        title: "sync mailboxes".into(),
        pausable: false,
    });
    app.apply(Action::SyncInbox);
    assert!(app.take_effects().is_empty(), "one sync at a time");
    app.on_job(JobMsg::Finished {
        id: 9,
        outcome: hailer::engine::jobs::Outcome::Done("3 read".into()),
        cancelled: false,
    });
    let effects = app.take_effects();
    assert!(
        effects.contains(&Effect::Load(Pane::Bounces)),
        "{effects:?}"
    );
}

#[test]
fn outbox_counts_and_summary_follow_new_events_without_a_reload() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    for (kind, file) in [
        (ImportKind::Prospects, "prospects.csv"),
        (ImportKind::Messages, "messages.csv"),
    ] {
        let req = ImportRequest {
            kind,
            file: assets(file),
            sheet: None,
            overrides: vec![],
            sample: false,
        };
        import::run(&mut store, &req, &mut |_| true).unwrap();
    }
    hailer::engine::outbox::build::build(&mut store).unwrap();
    let id = track_first_ready_row(&store);
    let mut app = App::new(Settings::default(), PathBuf::from("/"), false);
    app.tab = Tab::Outbox;
    app.on_loaded(Pane::Outbox, data::load_outbox(dir.path()).unwrap());
    app.on_outbox_stats(&data::load_outbox_stats(dir.path()).unwrap());
    let cell = |app: &App| {
        app.outbox.rows.iter().find(|r| r.id == id).unwrap().cells[hailer::tui::app::OUTBOX_COUNTS]
            .clone()
    };
    assert_eq!(cell(&app), "2/1/0");
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(
        text.contains("1 sent · 1 opened (1 by people) · 1 clicked · 0 replied · 0 bounced"),
        "{text}"
    );

    // A third open and an unsubscribe arrive: only the figures are reloaded.
    store
        .conn()
        .execute_batch(&format!(
            "INSERT INTO tracking_events (outbox_id, kind, machine, created_at) VALUES
               ({id}, 'OPEN', 0, 4), ({id}, 'UNSUBSCRIBE', 0, 5);"
        ))
        .unwrap();
    let rows_before = app.outbox.rows.len();
    app.on_outbox_stats(&data::load_outbox_stats(dir.path()).unwrap());
    assert_eq!(app.outbox.rows.len(), rows_before);
    assert_eq!(cell(&app), "3/1/0");
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(text.contains("0 bounced · 1 unsubscribed"), "{text}");
    // Rows never sent show nothing in the column.
    assert!(
        app.outbox
            .rows
            .iter()
            .filter(|r| r.id != id)
            .all(|r| r.cells[hailer::tui::app::OUTBOX_COUNTS].is_empty())
    );
}

fn send_plan() -> hailer::engine::send::SendPlan {
    use hailer::engine::send::{MailboxOut, SendPlan};
    SendPlan {
        require_approval: true,
        eligible: 42,
        refused: 2,
        awaiting_approval: 0,
        remaining_today: 27,
        mailboxes: vec![
            MailboxOut {
                name: "sender".into(),
                sent_today: 3,
                cap_today: 20,
                ..MailboxOut::default()
            },
            MailboxOut {
                name: "claire".into(),
                sent_today: 0,
                cap_today: 10,
                window_opens: Some("2026-11-23T09:00:00+01:00".into()),
                ..MailboxOut::default()
            },
            MailboxOut {
                name: "old".into(),
                error: Some("password: environment variable OLD_PW is not set".into()),
                ..MailboxOut::default()
            },
        ],
    }
}

#[test]
fn send_confirmation_popup() {
    let mut app = sample_app();
    app.tab = Tab::Outbox;
    app.on_send_plan(send_plan());
    let terminal = render(&mut app, 80, 24);
    let text = format!("{}", terminal.backend());
    // claire's window is closed: only sender's 17 go out now, not the day's 27.
    assert!(
        text.contains("42 messages") && text.contains("open windows: 17. 17 go out now"),
        "{text}"
    );
    // Rows the send-time checks will refuse are not among the 42, and are said.
    assert!(text.contains("2 more rows will not be sent"), "{text}");
    insta::assert_snapshot!("send_confirm_80x24", terminal.backend());
}

/// `S` with READY rows that are only unapproved (sent again after a soft bounce, requeued)
/// says how many wait for an approval, not only that nothing is approved.
#[test]
fn send_confirmation_counts_the_rows_waiting_for_an_approval() {
    let mut app = sample_app();
    app.tab = Tab::Outbox;
    let mut plan = send_plan();
    plan.eligible = 0;
    plan.refused = 0;
    plan.awaiting_approval = 10;
    app.on_send_plan(plan);
    let terminal = render(&mut app, 80, 24);
    let text = format!("{}", terminal.backend());
    let flat = text
        .lines()
        .map(|l| l.trim_matches(|c: char| c == '│' || c == ' ' || c == '"'))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        flat.contains("10 READY rows wait for an approval"),
        "{text}"
    );
}

/// A send task with live figures: two mailboxes, one waiting for its delay, one capped.
fn sending_app() -> App {
    use hailer::engine::send::{LiveMailbox, LiveStatus};
    let mut app = sample_app();
    app.on_job(JobMsg::Started {
        id: 3,
        kind: JobKind::Send,
        title: "send".into(),
        pausable: true,
    });
    app.on_job(JobMsg::Progress {
        id: 3,
        done: 12,
        total: Some(42),
        note: "11 sent".into(),
    });
    app.on_job(JobMsg::SendStatus {
        id: 3,
        status: Box::new(LiveStatus {
            done: 12,
            total: 42,
            sent: 11,
            not_sent: 1,
            mailboxes: vec![
                LiveMailbox {
                    name: "sender".into(),
                    sent_today: 14,
                    cap_today: 20,
                    sent_this_run: 11,
                    state: "next in 23 s".into(),
                    next_in: None,
                },
                LiveMailbox {
                    name: "claire".into(),
                    sent_today: 10,
                    cap_today: 10,
                    sent_this_run: 0,
                    state: "cap reached".into(),
                    next_in: None,
                },
            ],
            next_send_in: Some(Duration::from_secs(23)),
            waiting: Some(hailer::engine::send::Wait::Delay),
        }),
    });
    app.activity.tasks[2].elapsed = Duration::from_secs(120);
    app.activity.selected = 2;
    app.tab = Tab::Activity;
    app.take_effects();
    app
}

/// A mailbox that failed while the others send (a refused login): the server's whole answer
/// shows under its row on the send panel at 80x24, not cut at the panel's edge.
#[test]
fn a_failed_mailbox_shows_its_whole_reason_on_the_send_panel_at_80x24() {
    use hailer::engine::send::LiveStatus;
    let mut app = sending_app();
    let why = "SMTP 127.0.0.1:3565 authentication failed: 535 5.7.8 Error: authentication \
               failed: UGFzc3dvcmQ6 (the password of claire@sender.test was refused; check \
               password_env CLAIRE_PW)";
    let mut status: LiveStatus = app.send_live.as_ref().unwrap().status.clone();
    status.mailboxes[1].state = format!("failed: {why}");
    app.on_job(JobMsg::SendStatus {
        id: 3,
        status: Box::new(status),
    });
    let terminal = render(&mut app, 80, 24);
    let text = format!("{}", terminal.backend());
    // The panel's lines, border and indent left out, joined: the whole reason is there.
    let joined = text
        .lines()
        .map(|l| l.trim_matches('"').trim_matches('│').trim())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(joined.contains(why), "{why:?} not in:\n{text}");
    insta::assert_snapshot!("activity_send_failed_mailbox_80x24", terminal.backend());
}

#[test]
fn activity_send_gauges() {
    let mut app = sending_app();
    let terminal = render(&mut app, 80, 24);
    let text = format!("{}", terminal.backend());
    for want in [
        "6.0 msg/min",
        "next send in 0m23s",
        "14/20",
        "10/10",
        "cap reached",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
    insta::assert_snapshot!("activity_send_80x24", terminal.backend());
    let mut app = sending_app();
    // The task's row and the send panel count down the same wait (the row kept the note
    // the engine wrote when the wait began).
    let wide = render(&mut app, 160, 48);
    let text = format!("{}", wide.backend());
    assert_eq!(text.matches("next send in 0m23s").count(), 2, "{text}");
    insta::assert_snapshot!("activity_send_160x48", wide.backend());
    let mut app = sending_app();
    insta::assert_snapshot!("activity_send_60x20", render(&mut app, 60, 20).backend());
}

/// A long message takes up to three status lines at 80 columns instead of being cut after
/// the file name, and an error stays readable in the Activity log after it left.
#[test]
fn a_long_status_message_wraps_and_an_error_is_kept_in_the_log() {
    let mut app = sample_app();
    let msg = "import prospects /tmp/qa/assets/a-rather-long-folder/prospects.csv: failed — \
               no header row in the first 20 rows: need columns firstname, lastname, company";
    app.toast(msg, true);
    let text = format!("{}", render(&mut app, 80, 24).backend());
    let joined: String = text
        .lines()
        .rev()
        .take(3)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .map(|l| l.trim_matches('"').trim_end())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        joined.contains("need columns firstname, lastname, company"),
        "{text}"
    );
    // A short message keeps one line and the help hint.
    app.toast("accepted ann@acme.test", false);
    let text = format!("{}", render(&mut app, 80, 24).backend());
    let last = text.lines().last().unwrap();
    assert!(
        last.contains("accepted ann@acme.test") && last.contains("? help"),
        "{text}"
    );
    app.tab = Tab::Activity;
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(text.contains("need columns firstname"), "{text}");
}

/// A search that matches nothing says so and names it, instead of an empty table.
#[test]
fn a_search_without_matches_says_what_was_searched() {
    let mut app = sample_app();
    app.prospects.set_filter("zzzz");
    let n = app.prospects.rows.len();
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(
        text.contains(&format!("No row matches \"zzzz\" ({n} rows in all)")),
        "{text}"
    );
    assert!(text.contains(&format!("Prospects (0 of {n})")), "{text}");
}

/// Under 67 columns the tab bar keeps the current tab's name and shows the others by their
/// number key, instead of cutting the last names off.
#[test]
fn a_narrow_tab_bar_keeps_the_current_tab_name() {
    let mut app = sample_app();
    app.tab = Tab::Settings;
    let text = format!("{}", render(&mut app, 60, 20).backend());
    let bar = text.lines().next().unwrap();
    assert!(bar.starts_with("\"1│2│3│4│5│6 Settings "), "{bar}");
    let text = format!("{}", render(&mut app, 80, 24).backend());
    let bar = text.lines().next().unwrap();
    assert!(bar.contains("1 Prospects│2 Suggestions"), "{bar}");
}

/// The rows inside a full-height popup: between its top border (the first line with `┌`)
/// and its bottom border.
fn popup_inside(screen: &str) -> Vec<&str> {
    screen
        .lines()
        .skip_while(|l| !l.contains('┌'))
        .skip(1)
        .take_while(|l| !l.contains('└'))
        .collect()
}

/// Scrolling the help far past its end leaves the last key on the bottom line, and one k
/// moves back up at once.
#[test]
fn help_stops_scrolling_at_its_last_line() {
    use hailer::tui::app::Mode;
    let mut app = sample_app();
    app.tab = Tab::Outbox;
    app.apply(hailer::tui::keymap::Action::Help);
    app.mode = Mode::Help { scroll: 500 };
    let text = format!("{}", render(&mut app, 80, 24).backend());
    let inside = popup_inside(&text);
    assert!(
        inside.last().unwrap().contains("delete the last word"),
        "{text}"
    );
    let Mode::Help { scroll } = app.mode else {
        panic!("help closed")
    };
    assert!(scroll < 500 && scroll > 0, "{scroll}");
    // g and G go to the ends, as the title says, without closing the help.
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    app.on_key(KeyEvent::new(KeyCode::Char('g'), KeyModifiers::NONE));
    assert_eq!(app.mode, Mode::Help { scroll: 0 });
    app.on_key(KeyEvent::new(KeyCode::Char('G'), KeyModifiers::NONE));
    let end = format!("{}", render(&mut app, 80, 24).backend());
    assert!(end.contains("delete the last word"), "{end}");
    assert_eq!(app.mode, Mode::Help { scroll });
}

/// A text popup (the message preview) whose lines wrap stops scrolling when its last
/// wrapped line reaches the bottom, keeps indentation, and one k moves back up at once.
#[test]
fn text_popup_wraps_keeps_indentation_and_stops_at_its_end() {
    use hailer::tui::app::Mode;
    let mut app = sample_app();
    let long = "word ".repeat(60);
    let mut text = String::from("    indented line\n");
    for i in 0..12 {
        text.push_str(&format!("para {i} {long}\n"));
    }
    text.push_str("THE LAST LINE");
    app.show_text("Preview", text);
    app.mode = match app.mode {
        Mode::Text { title, text, .. } => Mode::Text {
            title,
            text,
            scroll: 0,
        },
        m => m,
    };
    let top = format!("{}", render(&mut app, 80, 24).backend());
    assert!(top.contains("│    indented line"), "{top}");
    if let Mode::Text { scroll, .. } = &mut app.mode {
        *scroll = 500;
    }
    let text = format!("{}", render(&mut app, 80, 24).backend());
    let inside = popup_inside(&text);
    assert!(inside.last().unwrap().contains("THE LAST LINE"), "{text}");
    let Mode::Text { scroll, .. } = app.mode else {
        panic!("popup closed")
    };
    // 13 lines of 300 characters wrap to 5 rows each at 76 columns: far more than 20 rows.
    assert!(scroll > 20 && scroll < 500, "{scroll}");
    // The popup stays between the tab bar and the key-hint line, leaving no stray character
    // of those lines beside it.
    let lines: Vec<&str> = text.lines().collect();
    assert!(!lines[0].contains('┌'), "{text}");
    assert!(popup_inside(&text).len() >= 15, "{text}");
    let after = lines
        .iter()
        .skip_while(|l| !l.contains('└'))
        .nth(1)
        .unwrap();
    assert!(after.trim_matches('"').starts_with("row "), "{text}");
}

/// A filter applied at load (Suggestions' minimum confidence) that hides every row says so,
/// instead of "no suggestions yet: press f".
#[test]
fn a_filter_that_hides_every_row_says_so() {
    let mut app = sample_app();
    app.tab = Tab::Suggestions;
    for _ in 0..3 {
        app.apply(hailer::tui::keymap::Action::ConfidenceFilter);
    }
    assert_eq!(app.min_confidence, 90);
    assert!(
        app.suggestions.rows.is_empty(),
        "the sample has no 90+ guess"
    );
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(
        text.contains("No row matches the filter: confidence ≥ 90"),
        "{text}"
    );
    // `-` goes back down the same steps: 70, 40, all, then round to 90.
    for want in [70, 40, 0, 90] {
        app.apply(hailer::tui::keymap::Action::ConfidenceFilterDown);
        assert_eq!(app.min_confidence, want);
        // The filter stays in the title while it is on, not only in its toast.
        app.toast = None;
        let text = format!("{}", render(&mut app, 80, 24).backend());
        let title = text.lines().nth(1).unwrap_or_default();
        if want > 0 {
            assert!(title.contains(&format!("· confidence ≥ {want}")), "{title}");
        } else {
            assert!(!title.contains("confidence"), "{title}");
        }
    }
}

/// At 80 columns an ordinary address and the longest verdict are whole (the company and the
/// confidence bar give way); a row without an address shows why, and one whose prospect has
/// an imported address says so, and `e` starts from it.
#[test]
fn suggestions_at_80_columns_show_the_address_the_verdict_and_why_none() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    store
        .conn()
        .execute_batch(
            "INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'Acme', 0), ('initech', 'Initech', 0);
             INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, email, created_at) VALUES
               (1, 'Clementine', 'Moreau', 'Acme', 'acme', 'c|m', NULL, 0),
               (2, 'Peter', 'Gibbons', 'Initech', 'initech', 'p|g', 'peter.gibbons@home.test', 0);
             INSERT INTO suggestions (prospect_id, email, alternatives, pattern, confidence, evidence, status, reason, updated_at) VALUES
               (1, 'clementine.moreau@acme.test', '[]', 'first.last', 95, '[]', 'suggested', NULL, 0),
               (2, NULL, '[]', NULL, 0, '[]', 'no-domain', 'web search: no matching result', 0);
             INSERT INTO verifications (email, status, mx, code, enhanced, detail, checked_at) VALUES
               ('clementine.moreau@acme.test', 'CONNECTION_REFUSED', 'mx.acme.test', NULL, NULL, 'refused', 0);",
        )
        .unwrap();
    let loaded = LoadedConfig {
        config: Config::default(),
        path: Some(PathBuf::from("config.toml")),
    };
    let mut app = App::new(
        Settings::from_config(&loaded, Path::new("data")),
        PathBuf::from("/"),
        false,
    );
    app.on_loaded(
        Pane::Suggestions,
        data::load_suggestions(dir.path()).unwrap(),
    );
    app.tab = Tab::Suggestions;
    app.take_effects();
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(text.contains("clementine.moreau@acme.test"), "{text}");
    assert!(text.contains("CONNECTION_REFUSED"), "{text}");
    // Cut at 80 columns; whole in the record (Enter).
    assert!(text.contains("imported peter.gibbons@hom…"), "{text}");
    app.on_key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
    app.on_key(KeyEvent::new(KeyCode::Char('e'), KeyModifiers::NONE));
    let shown = format!("{:?}", app.mode);
    assert!(shown.contains("peter.gibbons@home.test"), "{shown}");
}

/// Before any verification (no Verified column) a long suggested address is whole at 80
/// columns too: the pattern and the company give way, not the address.
#[test]
fn suggestions_at_80_columns_keep_an_unverified_address_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    store
        .conn()
        .execute_batch(
            "INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'Acme Industries', 0);
             INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, email, created_at) VALUES
               (1, 'Marie-Claire', 'Dupont-Moreau', 'Acme Industries', 'acme', 'mc|dm', NULL, 0);
             INSERT INTO suggestions (prospect_id, email, alternatives, pattern, confidence, evidence, status, reason, updated_at) VALUES
               (1, 'marie-claire.dupont-moreau@acme.test', '[]', 'first.last', 95, '[]', 'suggested', NULL, 0);",
        )
        .unwrap();
    let loaded = LoadedConfig {
        config: Config::default(),
        path: Some(PathBuf::from("config.toml")),
    };
    let mut app = App::new(
        Settings::from_config(&loaded, Path::new("data")),
        PathBuf::from("/"),
        false,
    );
    app.on_loaded(
        Pane::Suggestions,
        data::load_suggestions(dir.path()).unwrap(),
    );
    app.tab = Tab::Suggestions;
    app.take_effects();
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(
        text.contains("marie-claire.dupont-moreau@acme.test"),
        "{text}"
    );
    assert!(text.contains("suggested"), "{text}");
}

/// A wide terminal shows whole values where there is room: at 200 columns no address,
/// company or subject is cut while the explaining column keeps cells no value fills.
#[test]
fn wide_terminals_show_whole_addresses_companies_and_subjects() {
    for (tab, columns) in [
        (Tab::Prospects, &[2usize, 3][..]),
        (Tab::Outbox, &[2, 3, 4][..]),
        (Tab::Suggestions, &[1, 3][..]),
    ] {
        let mut app = sample_app();
        app.tab = tab;
        let text = format!("{}", render(&mut app, 200, 50).backend());
        let table = match tab {
            Tab::Prospects => &app.prospects,
            Tab::Outbox => &app.outbox,
            _ => &app.suggestions,
        };
        for &i in table.view.iter().take(40) {
            for &c in columns {
                let value = &table.rows[i as usize].cells[c];
                assert!(
                    text.contains(value.as_str()),
                    "{tab:?}: {value:?} (column {c}) cut at 200 columns:\n{text}"
                );
            }
        }
    }
}

/// A long log entry (an import error names the file first) wraps at 80 columns, so its end,
/// the reason, is on screen; a path longer than the line is cut into pieces, not lost.
#[test]
fn long_log_entries_wrap_on_activity() {
    let mut app = sample_app();
    app.on_job(JobMsg::Log {
        id: 1,
        level: Level::Error,
        text: "failed: /tmp/qa/assets/a-rather-long-folder-name/another-level/prospects.csv: \
               no header row in the first 20 rows: need columns company, subject, body"
            .into(),
    });
    app.tab = Tab::Activity;
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(
        text.contains("need columns company, subject, body"),
        "{text}"
    );
    assert!(text.contains("prospects.csv:"), "{text}");
}

/// Scrolling the log far back stops with the oldest entry on the top line of a full box
/// (it used to scroll into an empty box), and Enter shows the selected task in full with
/// only its own log lines.
#[test]
fn activity_log_scroll_stops_at_the_oldest_entry_and_enter_shows_the_task() {
    use hailer::tui::keymap::Action;
    let mut app = sample_app();
    for i in 0..40 {
        app.on_job(JobMsg::Log {
            id: 1 + i % 2,
            level: Level::Info,
            text: format!("entry {i:02}"),
        });
    }
    app.tab = Tab::Activity;
    for _ in 0..10 {
        app.apply(Action::PageUp);
    }
    let text = format!("{}", render(&mut app, 80, 24).backend());
    let first_entry = text.lines().position(|l| l.contains("entry ")).unwrap();
    assert!(
        text.lines().nth(first_entry).unwrap().contains("entry 00"),
        "{text}"
    );
    assert!(text.contains("scrolled back"), "{text}");
    // The box is full: the last row inside the border holds an entry, not blank space.
    let log_bottom = text.lines().rev().nth(3).unwrap();
    assert!(log_bottom.contains("entry "), "{text}");
    // One page forward moves at once.
    let back = app.activity.log_back;
    app.apply(Action::PageDown);
    assert!(app.activity.log_back < back);

    let task = app.activity.selected_task().unwrap().id;
    app.apply(Action::Detail);
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(text.contains(&format!("Task #{task}")), "{text}");
    let own = if task == 1 { "entry 38" } else { "entry 39" };
    let other = if task == 1 { "entry 39" } else { "entry 38" };
    if let hailer::tui::app::Mode::Text { scroll, .. } = &mut app.mode {
        *scroll = 100;
    }
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(text.contains(own) && !text.contains(other), "{text}");
}

/// Paused, the send panel does not show a countdown or an ETA that stand still.
#[test]
fn a_paused_send_shows_no_frozen_countdown() {
    let mut app = sending_app();
    app.on_job(JobMsg::Paused {
        id: 3,
        paused: true,
    });
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(!text.contains("next in 23 s"), "{text}");
    assert!(!text.contains("0m23s"), "{text}");
    assert!(!text.contains("5m00s"), "no ETA in the task row: {text}");
    assert!(text.contains("paused (p resumes)"), "{text}");
    assert!(text.contains("cap reached"), "{text}");
}

/// Once the run is over, the panel keeps the figures but not the live states: no "next in",
/// no "sending now", no dangling separator; a capped mailbox still says so.
#[test]
fn a_finished_send_shows_what_each_mailbox_sent_not_stale_states() {
    let mut app = sending_app();
    app.on_job(JobMsg::Finished {
        id: 3,
        outcome: hailer::engine::jobs::Outcome::Done("11 SENT, 1 ERROR".into()),
        cancelled: false,
    });
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(text.contains("11 sent this run"), "{text}");
    // Ended at 12 of 42: the rows it did not reach are counted, not lost in "not sent".
    assert!(text.contains("· 30 left"), "{text}");
    assert!(text.contains("cap reached"), "{text}");
    assert!(!text.contains("next in 23 s"), "{text}");
    let summary = text
        .lines()
        .find(|l| l.contains("msg/min"))
        .expect("rate line");
    assert!(
        !summary.trim_end_matches(['│', ' ']).ends_with('·'),
        "{summary}"
    );
}

#[test]
fn settings_mailbox_test_results_never_show_a_password() {
    use hailer::engine::send::MailboxCheck;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let text = "[mailboxes.sender]\nfrom = \"Sam <sam@sender.test>\"\nsmtp_host = \"127.0.0.1\"\n\
                password_env = \"HAILER_TEST_PW\"\nimap_host = \"127.0.0.1\"\n\
                [mailboxes.claire]\nfrom = \"claire@sender.test\"\nsmtp_host = \"127.0.0.1\"\n\
                password_cmd = \"echo hunter2\"\n";
    std::fs::write(&path, text).unwrap();
    let loaded = LoadedConfig {
        config: Config::from_file(&path).unwrap(),
        path: Some(PathBuf::from("config.toml")),
    };
    let mut app = App::new(
        Settings::from_config(&loaded, Path::new("data")),
        PathBuf::from("/"),
        false,
    );
    app.tab = Tab::Settings;
    app.on_mailbox_check(MailboxCheck {
        name: "sender".into(),
        smtp: Ok("127.0.0.1:587 starttls, logged in as sam@sender.test".into()),
        imap: Some(Err(
            "IMAP 127.0.0.1:993: Sent folder \"Sent\": Mailbox doesn't exist".into(),
        )),
    });
    let terminal = render(&mut app, 80, 24);
    let text = format!("{}", terminal.backend());
    assert!(
        text.contains("sender: FAILED") && text.contains("claire: not tested"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
    insta::assert_snapshot!("settings_mailbox_test_80x24", terminal.backend());

    // Each mailbox's day, as the sender counts it (read when Settings is shown).
    app.settings.capacity = vec![
        hailer::engine::send::MailboxOut {
            name: "sender".into(),
            sent_today: 3,
            cap_today: 20,
            ..Default::default()
        },
        hailer::engine::send::MailboxOut {
            name: "claire".into(),
            sent_today: 2,
            cap_today: 2,
            ..Default::default()
        },
    ];
    let terminal = render(&mut app, 80, 40);
    let text = format!("{}", terminal.backend());
    assert!(text.contains("sender: 3/20 sent, 17 left "), "{text}");
    assert!(
        text.contains("claire: 2/2 sent, 0 left · cap reached"),
        "{text}"
    );
}

#[test]
fn a_paused_mailbox_shows_why_on_settings_and_bounces_and_r_resumes() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use hailer::tui::app::Effect;
    use hailer::tui::keymap::Action;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    hailer::store::pauses::pause(
        store.conn(),
        "claire",
        "3 hard bounces or refusals in its last 10 sends: more than the 2.5 allowed (5% of its 50-send window)",
        true,
        1_795_000_000,
    )
    .unwrap();
    store
        .conn()
        .execute_batch(
            "INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'Acme', 0);
             INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
             VALUES (1, 'J', 'D', 'Acme', 'acme', 'j|d', 0);
             INSERT INTO outbox (id, prospect_id, email, company_key, status, mailbox, sent_at, created_at, updated_at)
             VALUES (1, 1, 'j@acme.test', 'acme', 'SENT', 'claire', 1, 0, 0);",
        )
        .unwrap();
    let mut app = App::new(Settings::default(), PathBuf::from("/"), false);
    app.settings.mailboxes = vec!["claire".into()];
    let data = hailer::tui::bounces::load(dir.path()).unwrap();
    app.on_bounces_loaded(data);

    app.tab = Tab::Settings;
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(text.contains("Paused mailboxes"), "{text}");
    assert!(
        text.contains("claire: 3 hard bounces or refusals in its last 10 sends"),
        "{text}"
    );
    app.tab = Tab::Bounces;
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(text.contains("PAUSED"), "{text}");

    app.tab = Tab::Settings;
    app.take_effects();
    // R asks first, naming each paused mailbox and why; only y resumes.
    app.apply(Action::ResumeMailboxes);
    assert!(app.take_effects().is_empty());
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(text.contains("Resume 1 mailbox?"), "{text}");
    assert!(text.contains("claire · auto: 3 hard bounces"), "{text}");
    app.on_key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE));
    assert!(app.take_effects().is_empty(), "n keeps them paused");
    app.apply(Action::ResumeMailboxes);
    app.on_key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE));
    assert_eq!(app.take_effects(), vec![Effect::ResumeMailboxes]);
    // A pause made from a shell reaches Settings with the next poll, no reload needed.
    hailer::store::pauses::pause(store.conn(), "claire", "DNS migration", false, 5).unwrap();
    hailer::store::pauses::resume(store.conn(), "claire", 6).unwrap();
    hailer::store::pauses::pause(store.conn(), "claire", "DNS migration", false, 7).unwrap();
    let poll = hailer::tui::data::poll(dir.path()).unwrap();
    app.on_pauses(poll.paused);
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(text.contains("claire: DNS migration"), "{text}");
    // Nothing paused: R says so and starts nothing.
    app.on_pauses(Vec::new());
    app.apply(Action::ResumeMailboxes);
    assert!(app.take_effects().is_empty());
    assert_eq!(app.mode, hailer::tui::app::Mode::Normal);
}

#[test]
fn w_starts_the_mailbox_watcher_and_w_again_stops_it() {
    use hailer::tui::app::{Effect, WATCH_TITLE};
    use hailer::tui::keymap::Action;
    let mut app = App::new(Settings::default(), PathBuf::from("/"), false);
    app.tab = Tab::Bounces;
    app.take_effects();
    app.apply(Action::WatchInbox);
    assert_eq!(app.take_effects(), vec![Effect::WatchInbox]);
    app.on_job(JobMsg::Started {
        id: 4,
        kind: JobKind::Watch,
        title: WATCH_TITLE.into(),
        pausable: false,
    });
    // `s` does not start a second reader meanwhile.
    app.apply(Action::SyncInbox);
    assert!(app.take_effects().is_empty());
    app.apply(Action::WatchInbox);
    assert_eq!(app.take_effects(), vec![Effect::Cancel(4)]);
    app.on_job(JobMsg::Finished {
        id: 4,
        outcome: hailer::engine::jobs::Outcome::Done("stopped after 3 passes".into()),
        cancelled: true,
    });
    let effects = app.take_effects();
    assert!(
        effects.contains(&Effect::Load(Pane::Bounces)),
        "{effects:?}"
    );
    // A one-shot sync running: w waits for it rather than stopping it.
    app.on_job(JobMsg::Started {
        id: 5,
        kind: JobKind::Watch,
        title: "sync mailboxes".into(),
        pausable: false,
    });
    app.apply(Action::WatchInbox);
    assert!(app.take_effects().is_empty());
}

/// No tab, in any state the sample gives, panics on a terminal a few rows high (the Activity
/// tab's task table once asked for more rows than half the screen could give).
#[test]
fn every_tab_renders_on_tiny_terminals() {
    for tab in Tab::ALL {
        let mut app = sample_app();
        app.tab = tab;
        app.toast(
            "a message long enough to need three status lines ".repeat(4),
            false,
        );
        for w in [1u16, 20, 80] {
            for h in 1u16..=14 {
                render(&mut app, w, h);
            }
        }
    }
}

/// The preview wraps by display width: text in wide characters (CJK, emoji: two cells each)
/// is shown whole, not clipped at the box's edge.
#[test]
fn the_preview_shows_wide_characters_whole() {
    let mut app = sample_app();
    app.show_text("Preview", format!("{}END", "あ".repeat(100)));
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert_eq!(text.matches('あ').count(), 100, "{text}");
    assert!(text.contains("END"), "{text}");
}

/// A status message too long to share its line with the help hint gets a line of its own
/// instead of being cut.
#[test]
fn a_status_message_is_never_cut_at_80_columns() {
    let mut app = sample_app();
    // With the sample's running task, this fits in 80 columns, but not beside the hint.
    let message = format!("{} THE END", "x".repeat(50));
    app.toast(message.clone(), false);
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(text.contains("THE END"), "{text}");
    // Whatever its length, the message's last character shows: the one that just fits beside
    // the hint included (the hint's "·" is one column, two bytes).
    for n in 30..70 {
        let message = format!("{} (END)", "y".repeat(n));
        app.toast(message, false);
        let text = format!("{}", render(&mut app, 80, 24).backend());
        assert!(text.contains("(END)"), "{n}:\n{text}");
    }

    // Longer than three lines: the third says where the whole message is, in words, not
    // cut mid-word without a mark; the Activity log holds it all.
    let words: Vec<String> = (1..=60).map(|i| format!("word{i}")).collect();
    app.toast(words.join(" "), true);
    let text = format!("{}", render(&mut app, 80, 24).backend());
    let last: Vec<&str> = text.lines().rev().take(3).collect();
    assert!(
        last[0]
            .trim_matches('"')
            .trim_end()
            .ends_with("…(whole text: Activity)"),
        "{text}"
    );
    // The words shown are word1, word2, … in order, each whole.
    let shown: Vec<&str> = last
        .iter()
        .rev()
        .flat_map(|l| l.trim_matches('"').split_whitespace())
        .filter(|t| !["⟳", "verify", "25%", "│", "…(whole", "text:", "Activity)"].contains(t))
        .collect();
    assert!(shown.len() > 20, "{text}");
    assert_eq!(shown, words[..shown.len()], "{text}");
    app.tab = Tab::Activity;
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(text.contains("word60"), "{text}");

    // A task's long summary (it arrives while the user works on a tab) keeps to one line,
    // cut with "…", and does not push the tab up; the Activity log holds it whole.
    app.tab = Tab::Prospects;
    app.on_job(JobMsg::Started {
        id: 9,
        kind: JobKind::Find,
        title: "find".into(),
        pausable: false,
    });
    let summary: Vec<String> = (1..=60).map(|i| format!("part{i}")).collect();
    app.on_job(JobMsg::Finished {
        id: 9,
        outcome: hailer::engine::jobs::Outcome::Done(summary.join(" ")),
        cancelled: false,
    });
    let text = format!("{}", render(&mut app, 80, 24).backend());
    let last: Vec<&str> = text.lines().rev().take(3).collect();
    let status = last[0].trim_matches('"');
    assert!(status.contains("find: done — part1 "), "{text}");
    assert!(status.ends_with('…'), "{text}");
    assert!(!last[1].contains("part"), "{text}");
    assert!(
        last[2].starts_with("\"└"),
        "the table keeps its rows:\n{text}"
    );
    app.tab = Tab::Activity;
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(text.contains("part60"), "{text}");
    // A failed task's error too.
    app.tab = Tab::Prospects;
    app.on_job(JobMsg::Started {
        id: 10,
        kind: JobKind::Find,
        title: "find".into(),
        pausable: false,
    });
    app.on_job(JobMsg::Finished {
        id: 10,
        outcome: hailer::engine::jobs::Outcome::Failed(summary.join(" ")),
        cancelled: false,
    });
    let text = format!("{}", render(&mut app, 80, 24).backend());
    let last: Vec<&str> = text.lines().rev().take(3).collect();
    assert!(
        last[0].contains("find: failed") && last[0].ends_with("…\""),
        "{text}"
    );
    assert!(last[2].starts_with("\"└"), "{text}");
    // A message that is neither logged nor an error says nothing of the log.
    app.toast(words.join(" "), false);
    let text = format!("{}", render(&mut app, 80, 24).backend());
    let last = text.lines().last().unwrap().trim_matches('"').trim_end();
    assert!(last.ends_with(" …") && !last.contains("Activity"), "{text}");
}

/// The text of `width` cells from (`x`, `y`), a wide character once (its second cell holds
/// nothing of its own).
fn cells_text(terminal: &Terminal<TestBackend>, x: u16, y: u16, width: u16) -> String {
    use unicode_width::UnicodeWidthStr;
    let buf = terminal.backend().buffer();
    let mut out = String::new();
    let mut at = x;
    while at < x + width {
        let symbol = buf[(at, y)].symbol();
        out.push_str(symbol);
        at += symbol.width().max(1) as u16;
    }
    out
}

/// A value wider than its column is cut by display width and ends with `…`, so it does not
/// read as a whole value; one that fits exactly is drawn whole. A wide character is never
/// split and nothing runs into the next column. At 72 columns every column has its minimum
/// width: Company is 14 cells.
#[test]
fn a_value_wider_than_its_column_ends_with_an_ellipsis() {
    use hailer::tui::table::TableRow;
    let company = |id: i64, company: &str| {
        TableRow::new(
            id,
            ["Ann", "Doe", company, "", "", "", ""]
                .iter()
                .map(|c| c.to_string())
                .collect(),
        )
    };
    let mut app = App::new(Settings::default(), PathBuf::from("/"), false);
    app.on_loaded(
        Pane::Prospects,
        vec![
            company(1, "Abcdefghijklmnopqrstuvwxyz"),
            company(2, "株式会社東京製作所"),
            company(3, "Exactly 14 cha"),
            company(4, "東京製作所株式"),
            company(5, "A東京製作所株式"),
            company(6, "AB東京製作所株式"),
        ],
    );
    let terminal = render(&mut app, 72, 24);
    // The Company column: from its header to the next one, less the space between columns.
    let header = format!("{}", terminal.backend())
        .lines()
        .nth(2)
        .unwrap()
        .trim_matches('"')
        .to_string();
    // In cells: the border before it is one cell, three bytes.
    let col = |name: &str| header[..header.find(name).unwrap()].chars().count() as u16;
    let (x, width) = (col("Company"), col("Email") - col("Company") - 1);
    assert_eq!(width, 14, "{header}");
    let value = |y| cells_text(&terminal, x, y, width);
    let gap = |y| cells_text(&terminal, x + width, y, 1);
    // Rows start on line 3 (tabs, border, header).
    assert_eq!(value(3), "Abcdefghijklm…");
    assert_eq!(
        value(4),
        "株式会社東京… ",
        "six wide characters, the ellipsis, a blank"
    );
    assert_eq!(value(5), "Exactly 14 cha", "an exact fit is not cut");
    assert_eq!(
        value(6),
        "東京製作所株式",
        "seven wide characters fit exactly"
    );
    assert_eq!(value(7), "A東京製作所株…");
    assert_eq!(
        value(8),
        "AB東京製作所… ",
        "株 would overlap the ellipsis: cut before it"
    );
    for y in 3..9 {
        assert_eq!(gap(y), " ", "line {y} runs into the next column");
    }
}

/// The x (in cells) where `needle` starts on line `y`, a wide character counting two.
fn cell_of(terminal: &Terminal<TestBackend>, y: u16, needle: &str) -> Option<u16> {
    let line = cells_text(terminal, 0, y, terminal.backend().buffer().area.width);
    let at = line.find(needle)?;
    Some(unicode_width::UnicodeWidthStr::width(&line[..at]) as u16)
}

/// CJK mailbox names take two cells a character: padded by display width, the columns after
/// them stay in line with the other mailboxes' on the send confirmation and the send panel.
#[test]
fn cjk_mailbox_names_keep_the_columns_in_line() {
    use hailer::engine::send::{LiveMailbox, LiveStatus};
    let mut plan = send_plan();
    plan.mailboxes[1].name = "営業部".into();
    plan.mailboxes[2].name = "東京オフィス営業".into();
    let mut app = sample_app();
    app.tab = Tab::Outbox;
    app.on_send_plan(plan);
    let terminal = render(&mut app, 80, 24);
    let text = format!("{}", terminal.backend());
    let rows: Vec<u16> = (0..24)
        .filter(|&y| {
            let line = cells_text(&terminal, 0, y, 80);
            ["sender ", "営業部 ", "東京オフィス営業 "]
                .iter()
                .any(|n| line.contains(n))
        })
        .collect();
    assert_eq!(rows.len(), 3, "{text}");
    let counts: Vec<Option<u16>> = rows
        .iter()
        .zip(["3/20", "0/10", "0/0"])
        .map(|(&y, count)| cell_of(&terminal, y, count))
        .collect();
    // Right-aligned in one column: each count ends in the same cell.
    let ends: Vec<Option<u16>> = counts
        .iter()
        .zip(["3/20", "0/10", "0/0"])
        .map(|(x, count)| x.map(|x| x + count.len() as u16))
        .collect();
    assert!(
        ends.iter().all(|e| e.is_some() && *e == ends[0]),
        "{ends:?}\n{text}"
    );
    insta::assert_snapshot!("send_confirm_cjk_80x24", terminal.backend());

    let mut app = sending_app();
    app.on_job(JobMsg::SendStatus {
        id: 3,
        status: Box::new(LiveStatus {
            done: 12,
            total: 42,
            sent: 11,
            not_sent: 1,
            mailboxes: vec![
                LiveMailbox {
                    name: "sender".into(),
                    sent_today: 14,
                    cap_today: 20,
                    sent_this_run: 11,
                    state: "next in 23 s".into(),
                    next_in: None,
                },
                LiveMailbox {
                    name: "営業部".into(),
                    sent_today: 10,
                    cap_today: 10,
                    sent_this_run: 0,
                    state: "cap reached".into(),
                    next_in: None,
                },
            ],
            next_send_in: Some(Duration::from_secs(23)),
            waiting: Some(hailer::engine::send::Wait::Delay),
        }),
    });
    let terminal = render(&mut app, 80, 24);
    let text = format!("{}", terminal.backend());
    let bar_at = |name: &str| {
        (0..24).find_map(|y| {
            let line = cells_text(&terminal, 0, y, 80);
            line.contains(name)
                .then(|| cell_of(&terminal, y, "█").or(cell_of(&terminal, y, "░")))
        })
    };
    let (ascii, cjk) = (bar_at("sender "), bar_at("営業部 "));
    assert!(ascii.is_some() && ascii == cjk, "{ascii:?} {cjk:?}\n{text}");
    insta::assert_snapshot!("activity_send_cjk_80x24", terminal.backend());
}

/// A sorted column's header keeps its arrow and is never cut mid-word: where "First name ↑"
/// does not fit, the short header "First ↑" is shown, so the table still says what it is
/// sorted by.
#[test]
fn a_sorted_header_keeps_its_arrow_and_whole_words() {
    let mut app = sample_app();
    app.prospects.cycle_sort();
    let terminal = render(&mut app, 80, 24);
    let header = cells_text(&terminal, 0, 2, 80);
    assert!(header.starts_with("│  First ↑ "), "{header}");
    assert!(!header.contains('…'), "{header}");
    app.prospects.reverse_sort();
    let terminal = render(&mut app, 80, 24);
    let header = cells_text(&terminal, 0, 2, 80);
    assert!(header.starts_with("│  First ↓ "), "{header}");
    // The footer keeps its keys: the sort it leaves out is on the header.
    let text = format!("{}", terminal.backend());
    assert!(text.contains("m messages · i import"), "{text}");
    insta::assert_snapshot!("prospects_sorted_80x24", terminal.backend());
    let terminal = render(&mut app, 160, 48);
    let header = cells_text(&terminal, 0, 2, 160);
    assert!(header.starts_with("│  First name ↓ "), "{header}");
    let text = format!("{}", terminal.backend());
    assert!(
        text.contains("sort First name ↓  m messages · i import"),
        "{text}"
    );
}

/// The header line of the tab's table (the line under its top border).
fn table_header(terminal: &Terminal<TestBackend>) -> String {
    let width = terminal.backend().buffer().area.width;
    let top = (0..terminal.backend().buffer().area.height)
        .find(|&y| {
            let line = cells_text(terminal, 0, y, width);
            line.starts_with('┌')
                && [
                    "Prospects",
                    "Messages",
                    "Suggestions",
                    "Outbox",
                    "Bounces",
                    "Tasks",
                ]
                .iter()
                .any(|t| line.contains(&format!("┌ {t}")))
        })
        .unwrap();
    cells_text(terminal, 0, top + 1, width)
}

/// No table header is cut into a fragment ("First na", "Confide") at any size: a header
/// that does not fit shows its short form, or the column gives way.
#[test]
fn table_headers_are_never_cut() {
    for (w, h) in [
        (60u16, 20u16),
        (72, 24),
        (80, 24),
        (100, 30),
        (120, 40),
        (160, 48),
    ] {
        for (tab, messages) in [
            (Tab::Prospects, false),
            (Tab::Prospects, true),
            (Tab::Suggestions, false),
            (Tab::Outbox, false),
            (Tab::Activity, false),
        ] {
            let mut app = sample_app();
            app.tab = tab;
            app.show_messages = messages;
            let header = table_header(&render(&mut app, w, h));
            assert!(!header.contains('…'), "{w}x{h}: {header}");
            for fragment in [
                "First na", "Confide", "Verifie", "Mailbo", "Messa", "Patter",
            ] {
                assert!(
                    !header.contains(&format!("{fragment} ")),
                    "{w}x{h}: {header}"
                );
            }
        }
        let mut app = bounce_app();
        let header = table_header(&render(&mut app, w, h));
        assert!(!header.contains('…'), "{w}x{h}: {header}");
    }
}

/// O/C/R stays hidden until a row has opens, clicks or replies to show, however wide the
/// terminal; at 80 columns it gives way to the reason even then. The reason gets the room.
#[test]
fn outbox_counts_show_only_once_something_was_sent_and_there_is_room() {
    use hailer::tui::table::TableRow;
    let row = |id: i64, status: &str, counts: &str| {
        TableRow::new(
            id,
            [
                status,
                "",
                "ann@acme.test",
                "Acme",
                "Hello",
                counts,
                "no address: no imported email or accepted suggestion",
            ]
            .iter()
            .map(|c| c.to_string())
            .collect(),
        )
    };
    let mut app = App::new(Settings::default(), PathBuf::from("/"), false);
    app.tab = Tab::Outbox;
    app.on_loaded(Pane::Outbox, vec![row(1, "READY", ""), row(2, "ERROR", "")]);
    for w in [80u16, 120, 160] {
        let header = table_header(&render(&mut app, w, 24));
        assert!(!header.contains("O/C/R"), "{w}: {header}");
        assert!(header.contains("Reason / reply"), "{w}: {header}");
    }
    let text = format!("{}", render(&mut app, 120, 24).backend());
    assert!(
        text.contains("no address: no imported email or accepted suggestion"),
        "the reason is whole at 120 columns:\n{text}"
    );
    app.on_loaded(
        Pane::Outbox,
        vec![row(1, "SENT", "2/1/0"), row(2, "ERROR", "")],
    );
    let header = table_header(&render(&mut app, 120, 24));
    assert!(header.contains("O/C/R"), "{header}");
    let header = table_header(&render(&mut app, 80, 24));
    assert!(!header.contains("O/C/R"), "tight at 80: {header}");
    assert!(header.contains("Reason"), "{header}");
}

/// The address box (`e` on Suggestions) covers the table: it names whose address it edits.
#[test]
fn the_address_box_names_the_person() {
    let mut app = sample_app();
    app.tab = Tab::Suggestions;
    let row = app
        .suggestions
        .selected_row()
        .expect("a suggestion")
        .clone();
    let (name, company) = (row.cells[0].clone(), row.cells[1].clone());
    app.apply(hailer::tui::keymap::Action::EditAddress);
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(
        text.contains(&format!("for {name} · {company}")),
        "{name} / {company}:\n{text}"
    );
    assert!(
        text.contains(&format!("address: {}", row.cells[3])),
        "{text}"
    );
}

/// Activity at 80x24: a task that counts nothing shows no figure and no percentage, and a
/// paused task's row says it is paused instead of its last, frozen note.
#[test]
fn activity_rows_show_no_empty_figures_and_no_frozen_notes() {
    let mut app = sample_app();
    app.on_job(JobMsg::Started {
        id: 7,
        kind: JobKind::Watch,
        title: "watch mailboxes".into(),
        pausable: false,
    });
    app.on_job(JobMsg::Started {
        id: 8,
        kind: JobKind::Find,
        title: "find".into(),
        pausable: true,
    });
    app.on_job(JobMsg::Progress {
        id: 8,
        done: 2,
        total: Some(3),
        note: "next send in 4 s".into(),
    });
    app.on_job(JobMsg::Paused {
        id: 8,
        paused: true,
    });
    app.tab = Tab::Activity;
    let text = format!("{}", render(&mut app, 120, 40).backend());
    let row = |id: &str| {
        text.lines()
            .find(|l| l.contains(&format!("│{id} ")))
            .unwrap_or_else(|| panic!("no row {id}:\n{text}"))
            .to_string()
    };
    let watch = row("#7");
    assert!(!watch.contains('%') && watch.contains('—'), "{watch}");
    let find = row("#8");
    assert!(find.contains("paused: p resumes"), "{find}");
    assert!(!find.contains("next send in"), "{find}");
    assert!(text.contains("⟳ watch "), "{text}");
    assert!(!text.contains("⟳ watch 0%"), "{text}");
}

/// A config saved with errors from Settings (`e`) stays on disk as saved: Settings says so and
/// how to fix it, so a shell command refusing the file later is no surprise.
#[test]
fn settings_say_a_broken_config_file_is_kept_and_how_to_fix_it() {
    let mut app = sample_app();
    app.settings.errors = vec!["TOML parse error at line 58, column 1".into()];
    app.tab = Tab::Settings;
    let text = format!("{}", render(&mut app, 80, 24).backend());
    let joined = text
        .lines()
        .map(|l| l.trim_matches('"').trim_matches('│').trim())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(joined.contains("TOML parse error at line 58"), "{text}");
    assert!(joined.contains("The file is kept as saved"), "{text}");
    assert!(joined.contains("press e to edit it again"), "{text}");
}

/// Seven mailboxes with long names that differ at their end: each row names its own, and
/// rows that do not fit are counted on a last line, so the figures add up.
#[test]
fn many_long_mailbox_names_are_told_apart() {
    use hailer::engine::send::{LiveMailbox, LiveStatus, MailboxOut, SendPlan};
    let names: Vec<String> = (1..=7)
        .map(|i| format!("outreach-mailbox-number-{i}"))
        .collect();
    let mut app = sending_app();
    app.on_job(JobMsg::SendStatus {
        id: 3,
        status: Box::new(LiveStatus {
            done: 14,
            total: 42,
            sent: 14,
            not_sent: 0,
            mailboxes: names
                .iter()
                .enumerate()
                .map(|(i, n)| LiveMailbox {
                    name: n.clone(),
                    sent_today: i as u32 + 1,
                    cap_today: 20,
                    sent_this_run: 2,
                    state: format!("next in {} s", i + 3),
                    next_in: None,
                })
                .collect(),
            next_send_in: Some(Duration::from_secs(3)),
            waiting: Some(hailer::engine::send::Wait::Delay),
        }),
    });
    let text = format!("{}", render(&mut app, 80, 24).backend());
    for n in &names {
        assert!(text.contains(n.as_str()), "{n} missing:\n{text}");
    }
    insta::assert_snapshot!("activity_send_7_mailboxes_80x24", text);
    // 60×20 has room for four rows: three mailboxes and a line counting the four others.
    let text = format!("{}", render(&mut app, 60, 20).backend());
    assert!(
        text.contains("+4 more (8 sent this run, 22/80 today)"),
        "{text}"
    );
    insta::assert_snapshot!("activity_send_7_mailboxes_60x20", text);

    let mut app = sample_app();
    app.tab = Tab::Outbox;
    app.on_send_plan(SendPlan {
        require_approval: true,
        eligible: 42,
        refused: 0,
        awaiting_approval: 0,
        remaining_today: 100,
        mailboxes: names
            .iter()
            .map(|n| MailboxOut {
                name: n.clone(),
                sent_today: 5,
                cap_today: 20,
                ..MailboxOut::default()
            })
            .collect(),
    });
    let text = format!("{}", render(&mut app, 80, 24).backend());
    for n in &names {
        assert!(text.contains(n.as_str()), "{n} missing:\n{text}");
    }
    insta::assert_snapshot!("send_confirm_7_mailboxes_80x24", text);
    let text = format!("{}", render(&mut app, 80, 16).backend());
    assert!(
        text.contains(" more (") && text.contains("sent today"),
        "{text}"
    );
    insta::assert_snapshot!("send_confirm_7_mailboxes_80x16", text);
}

/// `m` on Settings selects a mailbox (▸), `p` pauses it by hand, as `hailer mailbox pause`
/// does, and `p` again resumes it; an auto-paused one is left to `R`, which names its
/// reason first. `?` lists both keys, and they fit at 80×24.
#[test]
fn p_on_settings_pauses_and_resumes_the_selected_mailbox() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use hailer::store::pauses;
    use hailer::tui::app::Effect;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    let mut app = App::new(Settings::default(), PathBuf::from("/"), false);
    app.settings.mailboxes = vec!["sender".into(), "claire".into()];
    app.tab = Tab::Settings;
    let key =
        |app: &mut App, c: char| app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));

    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(text.contains("▸ sender: not tested"), "{text}");
    assert!(text.contains("m/p pause a mailbox"), "{text}");
    key(&mut app, 'm');
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(text.contains("▸ claire: not tested"), "{text}");
    assert!(text.contains("  sender: not tested"), "{text}");

    app.take_effects();
    key(&mut app, 'p');
    let effects = app.take_effects();
    assert_eq!(
        effects,
        vec![Effect::SetMailboxPause {
            name: "claire".into(),
            pause: true
        }]
    );
    // What the effect does, as the TUI runs it.
    let text = hailer::tui::sending_jobs::set_mailbox_pause(dir.path(), "claire", true).unwrap();
    assert!(text.contains("claire paused by hand"), "{text}");
    let p = pauses::get(store.conn(), "claire").unwrap().unwrap();
    assert_eq!((p.reason.as_str(), p.auto), (pauses::BY_HAND, false));
    assert_eq!(pauses::get(store.conn(), "sender").unwrap(), None);
    app.on_pauses(pauses::list(store.conn()).unwrap());
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(text.contains("▸ claire (paused): not tested"), "{text}");
    assert!(
        text.contains("claire: paused by hand (paused by hand"),
        "{text}"
    );

    // p again resumes it.
    key(&mut app, 'p');
    assert_eq!(
        app.take_effects(),
        vec![Effect::SetMailboxPause {
            name: "claire".into(),
            pause: false
        }]
    );
    hailer::tui::sending_jobs::set_mailbox_pause(dir.path(), "claire", false).unwrap();
    assert_eq!(pauses::get(store.conn(), "claire").unwrap(), None);

    // Auto-paused: p does not undo the rule's pause behind the user's back.
    pauses::pause(store.conn(), "claire", "3 hard bounces", true, 5).unwrap();
    app.on_pauses(pauses::list(store.conn()).unwrap());
    key(&mut app, 'p');
    assert!(app.take_effects().is_empty());
    let toast = app.toast.as_ref().unwrap().text.clone();
    assert!(
        toast.contains("auto-paused (3 hard bounces): R resumes"),
        "{toast}"
    );

    // `?` lists both keys.
    let keymap = hailer::tui::keymap::Keymap::new();
    let help: Vec<String> = keymap
        .help(Tab::Settings)
        .iter()
        .map(|b| format!("{} {}", b.keys, b.desc))
        .collect();
    assert!(
        help.iter()
            .any(|l| l.starts_with("m select the next mailbox")),
        "{help:?}"
    );
    assert!(
        help.iter()
            .any(|l| l.starts_with("p pause the selected mailbox")),
        "{help:?}"
    );
}

/// The reason a mailbox is unusable can be long (a password command's error): Settings
/// shows it whole at 80×24, wrapped, not cut.
#[test]
fn settings_shows_why_a_mailbox_is_unusable_whole() {
    let mut app = App::new(Settings::default(), PathBuf::from("/"), false);
    app.settings.mailboxes = vec!["sender".into()];
    app.tab = Tab::Settings;
    let why = "password: password_cmd `pass show mail/sender` exited with status 1: \
               gpg: decryption failed: No secret key (is the agent running?) END";
    app.settings.capacity = vec![hailer::engine::send::MailboxOut {
        name: "sender".into(),
        cap_today: 20,
        error: Some(why.into()),
        ..Default::default()
    }];
    let text = format!("{}", render(&mut app, 80, 24).backend());
    let joined: String = text
        .lines()
        .map(|l| l.trim_matches('"').trim_matches('│').trim())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(joined.contains(&format!("unusable: {why}")), "{text}");
}

/// Activity at 80x24: the selected find or verify task's note, longer than its column, wraps
/// under its row (at most three lines, the last ending with `…` when more is left) instead of
/// being cut after a few words.
#[test]
fn activity_task_notes_wrap_under_their_row() {
    let mut app = sample_app();
    app.on_job(JobMsg::Started {
        id: 9,
        kind: JobKind::Find,
        title: "find".into(),
        pausable: true,
    });
    app.on_job(JobMsg::Progress {
        id: 9,
        done: 3,
        total: Some(40),
        note: "acme.test: reading the contact page (3 of 7), 2 addresses so far, 1 role \
               address"
            .into(),
    });
    app.tab = Tab::Activity;
    app.activity.selected = 2;
    let terminal = render(&mut app, 80, 24);
    let text = format!("{}", terminal.backend());
    // Under the row, in the note's column: the words after the first line, and a mark that
    // more is left.
    let note_lines: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.contains("│#9 "))
        .take(3)
        .collect();
    assert!(note_lines[0].contains("acme.test:"), "{text}");
    assert!(note_lines[1].contains("reading the"), "{text}");
    assert!(note_lines[2].contains("contact page"), "{text}");
    assert!(
        note_lines[2]
            .trim_end_matches(['│', '"'])
            .trim_end()
            .ends_with('…'),
        "{text}"
    );
    insta::assert_snapshot!("activity_long_note_80x24", terminal.backend());
}
