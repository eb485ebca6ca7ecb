//! Auto-pause: hard bounces injected into a real SQLite store pause a mailbox once they exceed
//! the configured share of its window, a complaint pauses it at once, the sender then leaves
//! it out, the alert reaches a local Telegram API, and a resume starts a fresh window. Driven
//! through the engine and through the `hailer` binary (`mailbox status|pause|resume`,
//! `send --dry-run`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hailer::config::Config;
use hailer::engine::autopause;
use hailer::store::bounces::{self, NewBounce};
use hailer::store::{Store, pauses};

/// Mailbox `a` sent rows 1..=10, `b` rows 11..=12; rows 13..=16 are approved and READY.
fn seed(data: &Path) -> Store {
    let store = Store::open_in(data).unwrap();
    let mut sql = String::from(
        "INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'Acme', 0);
         INSERT INTO inbox_messages (id, mailbox, folder, uidvalidity, uid, message_key, kind, processed_at)
         VALUES (1, 'a', 'INBOX', 1, 1, 'k', 'bounce', 0);",
    );
    for id in 1..=16 {
        let (status, mailbox, sent_at) = match id {
            1..=10 => ("SENT", "'a'", format!("{}", 1000 + id)),
            11..=12 => ("SENT", "'b'", format!("{}", 1000 + id)),
            _ => ("READY", "NULL", "NULL".into()),
        };
        sql.push_str(&format!(
            "INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, email,
                                    created_at)
             VALUES ({id}, 'P{id}', 'Test', 'Acme', 'acme', 'p{id}|test', 'p{id}@acme.test', 0);
             INSERT INTO outbox (id, prospect_id, email, company_key, subject, body, status, approved,
                                 mailbox, sent_at, created_at, updated_at)
             VALUES ({id}, {id}, 'p{id}@acme.test', 'acme', 'Hello P{id}', 'Bonjour', '{status}', 1,
                     {mailbox}, {sent_at}, 0, 0);"
        ));
    }
    store.conn().execute_batch(&sql).unwrap();
    store
}

fn bounce(store: &Store, outbox_id: i64, kind: &str, hard: bool, now: i64) {
    let rcpt = format!("p{outbox_id}@acme.test");
    bounces::insert(
        store.conn(),
        &NewBounce {
            kind,
            date: now,
            mailbox: "a",
            outbox_id: Some(outbox_id),
            recipient: &rcpt,
            action: (kind == "bounce").then_some("failed"),
            status_code: (kind == "bounce").then_some(if hard { "5.1.1" } else { "4.2.2" }),
            reply_code: None,
            reason: if kind == "bounce" {
                "userunknown"
            } else {
                "abuse"
            },
            hard,
            diagnostic: "",
            remote_mta: None,
            raw: "",
            inbox_message_id: 1,
            matched_by: "",
            message_id: None,
        },
        now,
    )
    .unwrap();
}

/// A local stand-in for the Telegram Bot API: answers 200 to every POST and keeps the bodies.
fn telegram() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let bodies = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            bodies
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            let reply = r#"{"ok":true,"result":{"message_id":1}}"#;
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    (url, seen)
}

fn config_text(root: &Path, sending: &str, telegram_url: Option<&str>) -> String {
    let mut text = format!(
        "[sending]\ndry_run_dir = {:?}\n{sending}\n",
        root.join("dry").display().to_string()
    );
    for name in ["a", "b"] {
        text.push_str(&format!(
            "[mailboxes.{name}]\nfrom = \"{name} <{name}@sender.test>\"\nsmtp_host = \"127.0.0.1\"\n\
             smtp_port = 9\nsmtp_security = \"plain\"\npassword_env = \"HAILER_AUTOPAUSE_UNUSED\"\n\
             daily_cap = 100\ndelay_min = 0\ndelay_max = 0\n\n"
        ));
    }
    if let Some(url) = telegram_url {
        text.push_str(&format!(
            "[notify.telegram]\nbot_token_env = \"HAILER_AUTOPAUSE_TG\"\nchat_id = \"42\"\napi_url = \"{url}\"\n"
        ));
    }
    text
}

fn hailer(root: &Path, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hailer"))
        .arg("--config")
        .arg(root.join("config.toml"))
        .arg("--data-dir")
        .arg(root.join("data"))
        .args(args)
        .env("HAILER_AUTOPAUSE_TG", "123:test-token")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn status_json(root: &Path) -> serde_json::Value {
    let (code, out, err) = hailer(root, &["mailbox", "status", "--json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn dry_run_senders(root: &Path) -> Vec<String> {
    let dir = root.join("dry");
    let _ = std::fs::remove_dir_all(&dir);
    let (code, out, err) = hailer(root, &["send", "--dry-run"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let mut from: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
            text.lines()
                .find_map(|l| l.strip_prefix("From: ").map(str::to_string))
                .unwrap()
        })
        .collect();
    from.sort();
    from
}

struct Dir {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

fn setup(sending: &str, telegram_url: Option<&str>) -> (Dir, Store, Config) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    let store = seed(&root.join("data"));
    let text = config_text(&root, sending, telegram_url);
    std::fs::write(root.join("config.toml"), &text).unwrap();
    let config = Config::from_toml(&text, &root.join("config.toml")).unwrap();
    (Dir { _tmp: tmp, root }, store, config)
}

#[test]
fn hard_bounces_over_the_window_share_pause_the_mailbox_the_sender_skips_it_and_an_alert_goes_out()
{
    let (url, alerts) = telegram();
    let (dir, store, config) = setup("", Some(&url));
    let now = 5000;
    // Two hard bounces and soft ones: 2 of a 50-send window is 4%, under 5%.
    bounce(&store, 1, "bounce", true, now);
    bounce(&store, 2, "bounce", true, now);
    bounce(&store, 3, "bounce", false, now);
    bounce(&store, 4, "bounce", false, now);
    assert_eq!(autopause::apply(store.conn(), &config, now).unwrap(), []);
    assert_eq!(
        dry_run_senders(&dir.root),
        [
            "a <a@sender.test>",
            "a <a@sender.test>",
            "b <b@sender.test>",
            "b <b@sender.test>"
        ]
    );

    // A third: 6% > 5%. Only `a` is paused; the reason gives the figures.
    bounce(&store, 5, "bounce", true, now);
    let paused = autopause::apply(store.conn(), &config, now).unwrap();
    assert_eq!(paused.len(), 1, "{paused:?}");
    assert_eq!(paused[0].mailbox, "a");
    assert_eq!(
        paused[0].reason,
        "3 hard bounces or refusals in its last 10 sends: more than the 2.5 allowed (5% of its 50-send window)"
    );
    assert!(pauses::get(store.conn(), "b").unwrap().is_none());
    // Applying again changes nothing (already paused, first reason kept).
    assert_eq!(
        autopause::apply(store.conn(), &config, now + 1).unwrap(),
        []
    );

    // The sender leaves `a` out: every message would go through `b`.
    assert_eq!(dry_run_senders(&dir.root), vec!["b <b@sender.test>"; 4]);
    let status = status_json(&dir.root);
    assert_eq!(status[0]["mailbox"], "a");
    assert_eq!(status[0]["paused"], true);
    assert_eq!(status[0]["window_hard_bounces"], 3);
    assert_eq!(status[0]["window_sends"], 10);
    assert_eq!(status[0]["state"], "paused");
    assert_eq!(status[1]["paused"], false);
    assert_eq!(status[1]["state"], "ready");
    // `b` at today's cap: a run would send nothing through it either, and status says why.
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    store
        .conn()
        .execute(
            "INSERT INTO mailbox_days (mailbox, day, sent) VALUES ('b', ?1, 100)",
            [&today],
        )
        .unwrap();
    let status = status_json(&dir.root);
    assert_eq!(status[1]["state"], "at_cap", "{status:#}");
    assert_eq!(status[1]["sent_today"], 100);
    assert_eq!(status[1]["reason"], "100 of 100 sent today");
    let (_, table, _) = hailer(&dir.root, &["mailbox", "status"]);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("b ") && l.contains(" at cap ") && l.contains(" 100/100 ")),
        "{table}"
    );
    store
        .conn()
        .execute("DELETE FROM mailbox_days WHERE mailbox = 'b'", [])
        .unwrap();

    // The alert, through apply_and_alert (what the watcher and the sender call).
    store
        .conn()
        .execute("DELETE FROM mailbox_pauses", [])
        .unwrap();
    // SAFETY: only this test reads this variable, and nothing else in it runs concurrently.
    unsafe { std::env::set_var("HAILER_AUTOPAUSE_TG", "123:test-token") };
    let mut lines = Vec::new();
    let paused =
        autopause::apply_and_alert(store.conn(), &config, now, &mut |l| lines.push(l)).unwrap();
    assert_eq!(paused.len(), 1);
    assert!(
        lines[0].contains("mailbox a auto-paused: 3 hard bounces")
            && lines[0].contains("hailer mailbox resume a"),
        "{lines:?}"
    );
    assert!(hailer::engine::notify::drain(Duration::from_secs(20)));
    let start = Instant::now();
    while alerts.lock().unwrap().is_empty() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let seen = alerts.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].contains("mailbox a was auto-paused: 3 hard bounces"),
        "{}",
        seen[0]
    );
    assert!(seen[0].contains("\"42\""), "chat id: {}", seen[0]);
}

#[test]
fn resume_starts_a_fresh_window_and_a_complaint_pauses_at_once() {
    let (dir, store, config) = setup("", None);
    for id in 1..=3 {
        bounce(&store, id, "bounce", true, 5000);
    }
    assert_eq!(
        autopause::apply(store.conn(), &config, 5000).unwrap().len(),
        1
    );

    // Resumed from the shell: the old bounces no longer count.
    let (code, out, err) = hailer(&dir.root, &["mailbox", "resume", "a"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("a: resumed"), "{out}");
    let resumed = pauses::resumed_at(store.conn(), "a").unwrap();
    assert!(resumed > 5000);
    assert_eq!(
        autopause::apply(store.conn(), &config, resumed).unwrap(),
        []
    );
    assert_eq!(dry_run_senders(&dir.root).len(), 4);

    // A message sent after the resume draws a complaint: paused again, at once.
    store
        .conn()
        .execute("UPDATE outbox SET sent_at = ?1 + 5 WHERE id = 6", [resumed])
        .unwrap();
    bounce(&store, 6, "complaint", false, resumed + 10);
    let paused = autopause::apply(store.conn(), &config, resumed + 10).unwrap();
    assert_eq!(
        paused
            .iter()
            .map(|p| (p.mailbox.as_str(), p.reason.as_str()))
            .collect::<Vec<_>>(),
        [("a", "complaint (abuse) from p6@acme.test")]
    );

    // By hand: pause and resume `b` from the shell; an unknown name is a usage error.
    let (code, out, _) = hailer(
        &dir.root,
        &["mailbox", "pause", "b", "--reason", "checking DNS"],
    );
    assert_eq!(code, 0);
    assert!(out.contains("b: paused (checking DNS)"), "{out}");
    // Again, as JSON: nothing changes, and the reason is the one it was paused for.
    let (code, out, _) = hailer(
        &dir.root,
        &["mailbox", "pause", "b", "--reason", "other", "--json"],
    );
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"mailbox": "b", "paused": true, "changed": false, "reason": "checking DNS"})
    );
    let (code, _, err) = hailer(&dir.root, &["send", "--dry-run"]);
    assert_ne!(code, 0, "no usable mailbox");
    assert!(
        err.contains("paused: checking DNS") && err.contains("complaint (abuse)"),
        "{err}"
    );
    let (code, out, _) = hailer(&dir.root, &["mailbox", "resume", "a", "--json"]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"mailbox": "a", "paused": false, "changed": true})
    );
    let (code, _, err) = hailer(&dir.root, &["mailbox", "resume", "nope"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no mailbox named \"nope\""), "{err}");
}

#[test]
fn auto_pause_off_pauses_nothing_and_the_share_is_configurable() {
    let (_dir, store, config) = setup("auto_pause = false", None);
    for id in 1..=6 {
        bounce(&store, id, "bounce", true, 5000);
    }
    bounce(&store, 7, "complaint", false, 5000);
    assert_eq!(autopause::apply(store.conn(), &config, 5000).unwrap(), []);

    // A 10-send window at 20%: 2 hard bounces of 10 are not over it, 3 are.
    let (_dir, store, config) = setup(
        "auto_pause_window = 10\nauto_pause_hard_bounce_percent = 20.0",
        None,
    );
    bounce(&store, 9, "bounce", true, 5000);
    bounce(&store, 10, "bounce", true, 5000);
    assert_eq!(autopause::apply(store.conn(), &config, 5000).unwrap(), []);
    // `a` sent exactly 10: the oldest, row 1, is still in the window.
    bounce(&store, 1, "bounce", true, 5000);
    let paused = autopause::apply(store.conn(), &config, 5000).unwrap();
    assert_eq!(paused.len(), 1);
    assert_eq!(
        paused[0].reason,
        "3 hard bounces or refusals in its last 10 sends: more than the 2 allowed (20% of its 10-send window)"
    );

    let bad = Config::from_toml(
        "[sending]\nauto_pause_window = 0\nauto_pause_hard_bounce_percent = 120.0\n",
        Path::new("c.toml"),
    )
    .map(|c| c.problems())
    .unwrap_or_else(|e| vec![e.to_string()]);
    let text = bad.join("\n");
    assert!(
        text.contains("auto_pause_window must be at least 1")
            && text.contains("auto_pause_hard_bounce_percent must be between 0 and 100"),
        "{text}"
    );
}

/// One definition of a hard bounce everywhere: a message refused with a 5xx at send time (no
/// DSN ever comes back for it) counts in `mailbox status` (what auto-pause acts on), in the
/// Bounces tab's per-mailbox rates and in the daily summary, as a failed hard DSN does.
#[test]
fn a_refusal_at_send_time_is_a_hard_bounce_on_every_screen() {
    let (dir, store, _config) = setup("", None);
    // Mailbox b: rows 11 and 12 sent, row 13 refused at RCPT (550 5.1.1) after them.
    store
        .conn()
        .execute_batch(
            "UPDATE outbox SET status = 'ERROR', mailbox = 'b', refused_at = 2000,
                               reason = '550 5.1.1 User unknown' WHERE id = 13;",
        )
        .unwrap();
    // Mailbox a: one hard DSN, one soft one.
    bounce(&store, 1, "bounce", true, 1500);
    bounce(&store, 2, "bounce", false, 1500);
    let status = status_json(&dir.root);
    let window = |name: &str| {
        let row = status
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["mailbox"] == name)
            .unwrap()
            .clone();
        (
            row["window_hard_bounces"].as_i64().unwrap(),
            row["window_sends"].as_i64().unwrap(),
        )
    };
    assert_eq!(window("a"), (1, 10));
    assert_eq!(window("b"), (1, 3));
    let tab = hailer::tui::bounces::load(&dir.root.join("data")).unwrap();
    let rate = |name: &str| {
        let r = tab.rates.iter().find(|r| r.mailbox == name).unwrap();
        (r.hard, r.bounced, r.sent)
    };
    assert_eq!(rate("a"), (1, 2, 10));
    assert_eq!(rate("b"), (1, 1, 3));
    let (code, out, err) = hailer(&dir.root, &["notify", "summary", "--print"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("bounced 2 hard / 1 soft"), "{out}");
}

/// `hailer mailbox resume a && hailer send`: refusals in the same second as the resume (times
/// are whole seconds) count in the fresh window, and pause the mailbox again.
#[test]
fn refusals_in_the_second_of_the_resume_count() {
    let (dir, store, config) = setup("", None);
    // Paused a while ago, resumed now from the shell.
    pauses::pause(store.conn(), "a", "checking DNS", false, 1000).unwrap();
    let (code, _, err) = hailer(&dir.root, &["mailbox", "resume", "a"]);
    assert_eq!(code, 0, "{err}");
    let resumed = pauses::resumed_at(store.conn(), "a").unwrap();
    assert!(resumed > 0);
    store
        .conn()
        .execute(
            "UPDATE outbox SET status = 'ERROR', mailbox = 'a', refused_at = ?1,
                    reason = '552 5.7.1 refused' WHERE id IN (1, 2, 3)",
            [resumed],
        )
        .unwrap();
    let paused = autopause::apply(store.conn(), &config, resumed).unwrap();
    assert_eq!(
        paused
            .iter()
            .map(|p| p.mailbox.as_str())
            .collect::<Vec<_>>(),
        ["a"],
        "three refusals in the resume's second pause it"
    );
}
