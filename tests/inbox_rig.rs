//! The IMAP watcher against the mail rig: real sends through Postfix, Postfix's own DSN for an
//! unknown user, and messages planted with IMAP APPEND (replies, out-of-office answers,
//! complaints) in per-test folders of sender@sender.test.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::rig::Rig;
use hailer::config::{Config, Security};
use hailer::engine::import::{self, ImportKind, ImportRequest};
use hailer::engine::inbox::{self, Level, Observer, sync};
use hailer::engine::outbox::build::build;
use hailer::net::imap::{ImapEndpoint, Session, login};
use hailer::store::outbox::{self, OutboxRow, Status};
use hailer::store::{Store, bounces, suppressions};

fn unique(tag: &str) -> String {
    format!(
        "{tag}{}x{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 10_000_000_000
    )
}

/// A data directory with prospects, one message and a built outbox, and a config for the rig
/// with only the `sender` mailbox (so every DSN comes back to sender@sender.test).
struct Campaign {
    _dir: tempfile::TempDir,
    root: PathBuf,
    config: PathBuf,
}

impl Campaign {
    fn new(rig: &Rig, tag: &str, emails: &[String], sender_extra: &str, inbox: &str) -> Campaign {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let tag = unique(tag);
        let mut prospects = String::from("firstname,lastname,company,email\n");
        for (i, e) in emails.iter().enumerate() {
            prospects.push_str(&format!("P{i},Test,Acme SA,{e}\n"));
        }
        let messages = format!("company,subject,body\nAcme SA,{tag} hello {{firstname}},Bonjour\n");
        let mut store = Store::open_in(&root.join("data")).unwrap();
        for (kind, name, text) in [
            (ImportKind::Prospects, "p.csv", prospects),
            (ImportKind::Messages, "m.csv", messages),
        ] {
            let file = root.join(name);
            std::fs::write(&file, text).unwrap();
            let req = ImportRequest {
                kind,
                file,
                sheet: None,
                overrides: vec![],
                sample: false,
            };
            import::run(&mut store, &req, &mut |_| true).unwrap();
        }
        build(&mut store).unwrap();
        let base = std::fs::read_to_string(rig.config_file()).unwrap();
        let base = base
            .split("[mailboxes.claire]")
            .next()
            .unwrap()
            .replace("require_approval = true", "require_approval = false");
        assert!(base.trim_end().ends_with("delay_max = 0"), "{base}");
        let text = format!("{base}{sender_extra}\n\n[inbox]\n{inbox}\n");
        let config = root.join("config.toml");
        std::fs::write(&config, text).unwrap();
        Campaign {
            _dir: dir,
            root,
            config,
        }
    }

    fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    fn store(&self) -> Store {
        Store::open_in(&self.data()).unwrap()
    }

    fn hailer(&self, args: &[&str]) -> (i32, String, String) {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hailer"))
            .arg("--config")
            .arg(&self.config)
            .arg("--data-dir")
            .arg(self.data())
            .current_dir(&self.root)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `hailer bounces sync --json`, which must succeed.
    fn sync(&self) -> serde_json::Value {
        let (code, out, err) = self.hailer(&["bounces", "sync", "--json"]);
        assert_eq!(code, 0, "{out}\n{err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }

    fn send_all(&self) -> Vec<OutboxRow> {
        let (code, out, err) = self.hailer(&["send"]);
        assert_eq!(code, 0, "{out}\n{err}");
        let rows = self.rows();
        assert!(
            rows.iter().all(|r| r.status == Status::Sent),
            "{out}\n{err}\n{rows:?}"
        );
        rows
    }

    fn rows(&self) -> Vec<OutboxRow> {
        outbox::list(self.store().conn(), None).unwrap()
    }

    fn row(&self, id: i64) -> OutboxRow {
        outbox::get(self.store().conn(), id).unwrap().unwrap()
    }

    fn config(&self) -> Config {
        Config::from_file(&self.config).unwrap()
    }

    fn inbox_kinds(&self) -> Vec<(String, i64)> {
        hailer::store::inbox::kind_counts(self.store().conn()).unwrap()
    }
}

fn read_total(summary: &serde_json::Value) -> u64 {
    summary["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["read"].as_u64().unwrap())
        .sum()
}

fn imap(rig: &Rig) -> Session {
    login(&ImapEndpoint {
        host: rig.host().to_string(),
        port: rig.port("RIG_IMAPS_PORT"),
        security: Security::Tls,
        ca_file: Some(rig.ca_file()),
        username: "sender@sender.test".into(),
        password: rig.password().to_string(),
        timeout: Duration::from_secs(10),
    })
    .unwrap_or_else(|e| panic!("IMAP login: {e}"))
}

fn crlf(text: &str) -> Vec<u8> {
    text.replace("\r\n", "\n")
        .replace('\n', "\r\n")
        .into_bytes()
}

fn append(s: &mut Session, folder: &str, msgs: &[Vec<u8>]) {
    for m in msgs {
        s.append(folder, m).finish().unwrap();
    }
}

fn count(s: &mut Session, folder: &str) -> u32 {
    s.examine(folder).unwrap().exists
}

/// A person's answer to a row we sent.
fn reply(row: &OutboxRow, n: u32) -> Vec<u8> {
    let mid = row.header_message_id.as_deref().unwrap();
    crlf(&format!(
        "From: {email}\nTo: sender@sender.test\nSubject: Re: {subject}\n\
         Date: Sun, 22 Nov 2026 10:00:00 +0000\nMessage-ID: <reply{n}.{mid}>\n\
         In-Reply-To: <{mid}>\nReferences: <{mid}>\n\n\
         Thanks, let's talk next week.\n\n> Bonjour\n",
        email = row.email.as_deref().unwrap(),
        subject = row.subject,
    ))
}

/// RFC 3834 headers, and a French out-of-office without them (its text says it).
fn out_of_office(row: &OutboxRow, tag: &str) -> Vec<Vec<u8>> {
    let mid = row.header_message_id.as_deref().unwrap();
    let email = row.email.as_deref().unwrap();
    vec![
        crlf(&format!(
            "From: {email}\nTo: sender@sender.test\nSubject: Automatic reply: {subject}\n\
             Date: Sun, 22 Nov 2026 10:00:00 +0000\nMessage-ID: <ooo1.{tag}@acme.test>\n\
             In-Reply-To: <{mid}>\nAuto-Submitted: auto-replied\nX-Autoreply: yes\n\n\
             I am out of the office until Monday with limited access to email.\n",
            subject = row.subject
        )),
        crlf(&format!(
            "From: {email}\nTo: sender@sender.test\nSubject: Absence du bureau\n\
             Date: Sun, 22 Nov 2026 10:00:00 +0000\nMessage-ID: <ooo2.{tag}@acme.test>\n\
             In-Reply-To: <{mid}>\n\n\
             Bonjour,\n\nJe suis absent du bureau jusqu'au 30 novembre. Pour toute urgence, \
             contactez mon collègue.\n",
        )),
    ]
}

/// The rig's recorded Postfix DSN, re-addressed to one of our rows.
fn planted_dsn(row: &OutboxRow, tag: &str) -> Vec<u8> {
    let raw = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rig-dsn/dsn-unknown-user.eml"),
    )
    .unwrap();
    crlf(
        &raw.replace(
            "a49e2c80-2444-4fa5-bcd1-5a9381d67cc1@sender.test",
            row.header_message_id.as_deref().unwrap(),
        )
        .replace("nobody@acme.test", row.email.as_deref().unwrap())
        .replace("20261122015955.86C8E99C194", &format!("dsn.{tag}")),
    )
}

fn newsletter(tag: &str) -> Vec<u8> {
    crlf(&format!(
        "From: news@shop.test\nTo: sender@sender.test\nSubject: Our November deals\n\
         Date: Sun, 22 Nov 2026 09:00:00 +0000\nMessage-ID: <news.{tag}@shop.test>\n\n\
         Big savings this week.\n"
    ))
}

#[test]
fn postfix_dsn_for_an_unknown_user_marks_the_row_and_suppresses_the_address() {
    let Some(rig) = Rig::get() else { return };
    let tag = unique("dsn");
    let bad = format!("nobody-{tag}@acme.test");
    let c = Campaign::new(
        &rig,
        "dsn",
        &[bad.clone(), "jane.doe@acme.test".into()],
        "",
        "",
    );
    // Everything already in the INBOX (other runs' mail) is read first, so what follows is ours.
    c.sync();
    let rows = c.send_all();
    let bad_row = rows
        .iter()
        .find(|r| r.email.as_deref() == Some(&bad))
        .unwrap();
    let good_row = rows
        .iter()
        .find(|r| r.email.as_deref() != Some(&bad))
        .unwrap();

    // Postfix relays to the rig's MX, which refuses the user at RCPT; the DSN comes back.
    let start = Instant::now();
    while c.row(bad_row.id).status == Status::Sent && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(500));
        c.sync();
    }
    let row = c.row(bad_row.id);
    assert_eq!(row.status, Status::Invalid, "{row:?}");
    let reason = row.reason.unwrap_or_default();
    assert!(reason.contains("hard: userunknown 5.1.1"), "{reason}");
    assert_eq!(c.row(good_row.id).status, Status::Sent);

    let store = c.store();
    let s = suppressions::blocking(store.conn(), &bad).unwrap().unwrap();
    assert_eq!(
        (s.entry.as_str(), s.cause.as_str()),
        (bad.as_str(), "bounced")
    );
    let b = bounces::list(
        store.conn(),
        &bounces::Filter {
            domain: Some("acme.test".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let b: Vec<_> = b.into_iter().filter(|b| b.recipient == bad).collect();
    assert_eq!(b.len(), 1, "{b:?}");
    let b = &b[0];
    assert_eq!(b.outbox_id, Some(bad_row.id));
    assert_eq!(b.mailbox, "sender");
    assert_eq!(b.kind, "bounce");
    assert_eq!(b.status_code.as_deref(), Some("5.1.1"));
    assert_eq!(b.reply_code, Some(550));
    assert_eq!(b.reason, "userunknown");
    assert!(b.hard);
    assert!(b.diagnostic.contains("User unknown"), "{}", b.diagnostic);
    assert!(b.raw.contains("Final-Recipient"), "{}", b.raw);
    assert_eq!(b.subject.as_deref(), Some(row.subject.as_str()));
    // Postfix returns the message's headers: matched by our own Message-ID, not by a guess.
    assert_eq!(
        b.matched_by,
        format!(
            "by Message-ID <{}>",
            bad_row.header_message_id.as_deref().unwrap()
        )
    );

    // A second sync reads nothing again: the last UID is in the database. (Only mail that
    // arrived in between, from other tests sharing the rig, may be read: UIDs above the mark.)
    let seen = |conn: &rusqlite::Connection, max: i64| -> (i64, i64) {
        conn.query_row(
            "SELECT COUNT(*), COALESCE(MAX(uid), 0) FROM inbox_messages WHERE uid <= ?1",
            [max],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    let before = seen(store.conn(), i64::MAX);
    let again = c.sync();
    assert_eq!(seen(store.conn(), before.1), before, "{again}");
    let new_rows = seen(store.conn(), i64::MAX).0 - before.0;
    assert_eq!(read_total(&again) as i64, new_rows, "{again}");
    assert_eq!(
        bounces::list(store.conn(), &bounces::Filter::default())
            .unwrap()
            .iter()
            .filter(|b| b.recipient == bad)
            .count(),
        1
    );
    // The outbox build keeps the INVALID row; a send run skips it.
    let mut store = c.store();
    build(&mut store).unwrap();
    assert_eq!(c.row(bad_row.id).status, Status::Invalid);
}

#[test]
fn reply_marks_replied_out_of_office_is_not_a_bounce_and_nothing_is_read_twice() {
    let Some(rig) = Rig::get() else { return };
    let tag = unique("rep");
    let folder = format!("t-{tag}");
    let emails: Vec<String> = (0..2).map(|i| format!("{tag}-{i}@catchall.test")).collect();
    let c = Campaign::new(
        &rig,
        "rep",
        &emails,
        &format!("watch_folders = [\"{folder}\"]"),
        "",
    );
    let rows = c.send_all();
    let mut s = imap(&rig);
    s.create(&folder).unwrap();
    let mut planted = vec![reply(&rows[0], 0)];
    planted.extend(out_of_office(&rows[1], &tag));
    append(&mut s, &folder, &planted);

    let first = c.sync();
    assert_eq!(read_total(&first), 3, "{first}");
    let r0 = c.row(rows[0].id);
    assert_eq!(r0.status, Status::Replied);
    assert_eq!(
        c.row(rows[1].id).status,
        Status::Sent,
        "out-of-office is no bounce"
    );
    let store = c.store();
    assert_eq!(
        suppressions::blocking(store.conn(), rows[0].email.as_deref().unwrap())
            .unwrap()
            .unwrap()
            .cause,
        "replied"
    );
    assert!(
        suppressions::blocking(store.conn(), rows[1].email.as_deref().unwrap())
            .unwrap()
            .is_none()
    );
    assert!(
        bounces::list(store.conn(), &bounces::Filter::default())
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        c.inbox_kinds(),
        vec![("autoreply".into(), 2), ("reply".into(), 1)]
    );
    // Nothing was moved or deleted (no move folders configured): all three are still there.
    assert_eq!(count(&mut s, &folder), 3);

    // Second sync: nothing read; a rebuild keeps REPLIED; a send run sends nothing.
    assert_eq!(read_total(&c.sync()), 0);
    let mut store = c.store();
    build(&mut store).unwrap();
    assert_eq!(c.row(rows[0].id).status, Status::Replied);
    let (code, out, err) = c.hailer(&["send"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 SENT"), "{out}");
    let _ = s.delete(&folder);
}

/// Replies as people write them, read from the rig: one without threading headers (matched by
/// its sender, saying so), a colleague's on the thread (the address written to suppressed,
/// naming who answered), and one whose own text asks to unsubscribe above the quoted message
/// (suppressed as `unsubscribed`). What each wrote is exported, without the quote.
#[test]
fn replies_are_matched_suppressed_and_exported_with_what_they_say() {
    let Some(rig) = Rig::get() else { return };
    let tag = unique("hum");
    let folder = format!("t-{tag}");
    let emails: Vec<String> = (0..3).map(|i| format!("{tag}-{i}@catchall.test")).collect();
    let c = Campaign::new(
        &rig,
        "hum",
        &emails,
        &format!("watch_folders = [\"{folder}\"]"),
        "",
    );
    let rows = c.send_all();
    let date = chrono::Utc::now().to_rfc2822();
    let mid = |i: usize| rows[i].header_message_id.clone().unwrap();
    let email = |i: usize| rows[i].email.clone().unwrap();
    let planted = vec![
        crlf(&format!(
            "From: {}\nTo: sender@sender.test\nSubject: About your message\nDate: {date}\n\
             Message-ID: <a.{tag}@catchall.test>\n\nHappy to talk on Friday.\n",
            email(0)
        )),
        crlf(&format!(
            "From: Boss <boss.{tag}@catchall.test>\nTo: sender@sender.test\n\
             Subject: Re: {}\nDate: {date}\nMessage-ID: <b.{tag}@catchall.test>\n\
             In-Reply-To: <{}>\n\nShe left; I handle purchasing now.\n",
            rows[1].subject,
            mid(1)
        )),
        crlf(&format!(
            "From: {}\nTo: sender@sender.test\nSubject: Re: {}\nDate: {date}\n\
             Message-ID: <c.{tag}@catchall.test>\nIn-Reply-To: <{}>\n\n\
             Please remove me from your list.\n\n> Bonjour\n",
            email(2),
            rows[2].subject,
            mid(2)
        )),
    ];
    let mut s = imap(&rig);
    s.create(&folder).unwrap();
    append(&mut s, &folder, &planted);
    let summary = c.sync();
    assert_eq!(read_total(&summary), 3, "{summary}");
    assert_eq!(
        c.inbox_kinds(),
        vec![("reply".into(), 2), ("unsubscribe".into(), 1)]
    );
    let store = c.store();
    let entry = |i: usize| {
        suppressions::blocking(store.conn(), &email(i))
            .unwrap()
            .unwrap()
    };
    assert_eq!(c.row(rows[0].id).status, Status::Replied);
    assert_eq!(entry(0).cause, "replied");
    assert_eq!(c.row(rows[1].id).status, Status::Replied);
    let boss = entry(1);
    assert_eq!(boss.cause, "replied");
    assert!(
        boss.note
            .unwrap()
            .ends_with(&format!("(answered by boss.{tag}@catchall.test)"))
    );
    // Asked in a person's answer: REPLIED too (and the message left in the folder).
    assert_eq!(c.row(rows[2].id).status, Status::Replied);
    let unsub = entry(2);
    assert_eq!(
        (unsub.cause.as_str(), unsub.note.as_deref()),
        (
            "unsubscribed",
            Some("reply: \"Please remove me from your list.\"")
        )
    );
    let (code, out, err) = c.hailer(&["export", "replies", "-o", "-"]);
    assert_eq!(code, 0, "{err}");
    let mut csv = csv::Reader::from_reader(out.as_bytes());
    let got: Vec<(String, String, String)> = csv
        .deserialize::<std::collections::HashMap<String, String>>()
        .map(|r| {
            let r = r.unwrap();
            (
                r["kind"].clone(),
                r["matched_by"].clone(),
                r["snippet"].clone(),
            )
        })
        .collect();
    assert_eq!(got.len(), 3, "{out}");
    assert!(
        got[0]
            .1
            .starts_with(&format!("by sender address {}", email(0))),
        "{got:?}"
    );
    assert_eq!(got[0].2, "Happy to talk on Friday.");
    assert!(
        got[1].1.ends_with(&format!(
            "answered by boss.{tag}@catchall.test, not the address written to"
        )),
        "{got:?}"
    );
    assert_eq!(
        (got[2].0.as_str(), got[2].2.as_str()),
        ("unsubscribe", "Please remove me from your list.")
    );
    let _ = s.delete(&folder);
}

/// A reply with a long body and a bounce that returns a large message are read only up to
/// `[inbox] max_message_kb`, and still do their work (a reply's headers and a bounce's status
/// part come first); mail that adds up to more than one FETCH's byte budget is all read.
#[test]
fn large_messages_are_read_up_to_the_cap_and_still_handled() {
    let Some(rig) = Rig::get() else { return };
    let tag = unique("big");
    let folder = format!("t-{tag}");
    let emails: Vec<String> = (0..2).map(|i| format!("{tag}-{i}@catchall.test")).collect();
    let c = Campaign::new(
        &rig,
        "big",
        &emails,
        &format!("watch_folders = [\"{folder}\"]"),
        "max_message_kb = 64",
    );
    let rows = c.send_all();
    // About 600 kB of text: far above the 64 kB cap.
    let filler = crlf(&(0..8000).map(|i| format!("{i:076}\n")).collect::<String>());
    let mut long_reply = reply(&rows[0], 0);
    long_reply.extend_from_slice(&filler);
    let dsn = planted_dsn(&rows[1], &tag);
    let end = b"--7269699C185.1795312795/mail.sender.test--";
    let at = dsn
        .windows(end.len())
        .rposition(|w| w == end)
        .expect("the fixture's closing boundary");
    let mut long_dsn = dsn[..at].to_vec();
    long_dsn.extend_from_slice(&filler);
    long_dsn.extend_from_slice(&dsn[at..]);
    // 20 newsletters of about 60 kB each: 1.2 MB, more than the 1 MB one FETCH may hold here.
    let mut planted = vec![long_reply, long_dsn];
    for i in 0..20 {
        let mut m = newsletter(&format!("{tag}.{i}"));
        m.extend_from_slice(&filler[..60_000]);
        planted.push(m);
    }
    let mut s = imap(&rig);
    s.create(&folder).unwrap();
    append(&mut s, &folder, &planted);

    let summary = c.sync();
    assert_eq!(read_total(&summary), 22, "{summary}");
    let ours = summary["folders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["folder"] == folder.as_str())
        .unwrap();
    assert_eq!(ours["truncated"], 2, "{summary}");
    assert_eq!(c.row(rows[0].id).status, Status::Replied);
    let bounced = c.row(rows[1].id);
    assert_eq!(bounced.status, Status::Invalid, "{bounced:?}");
    assert_eq!(
        c.inbox_kinds(),
        vec![
            ("bounce".into(), 1),
            ("other".into(), 20),
            ("reply".into(), 1)
        ]
    );
    let (code, out, err) = c.hailer(&["bounces", "sync"]);
    assert_eq!(code, 0, "{out}{err}");
    let _ = s.delete(&folder);
}

#[test]
fn uidvalidity_change_reads_again_without_duplicate_effects() {
    let Some(rig) = Rig::get() else { return };
    let tag = unique("uv");
    let folder = format!("t-{tag}");
    let emails: Vec<String> = (0..3).map(|i| format!("{tag}-{i}@catchall.test")).collect();
    let c = Campaign::new(
        &rig,
        "uv",
        &emails,
        &format!("watch_folders = [\"{folder}\"]"),
        "",
    );
    let rows = c.send_all();
    let planted = vec![
        planted_dsn(&rows[0], &tag),
        reply(&rows[1], 1),
        newsletter(&tag),
    ];
    let mut s = imap(&rig);
    s.create(&folder).unwrap();
    append(&mut s, &folder, &planted);
    let first = c.sync();
    assert_eq!(read_total(&first), 3, "{first}");
    assert_eq!(c.row(rows[0].id).status, Status::Invalid);
    assert_eq!(c.row(rows[1].id).status, Status::Replied);

    // Delete and recreate the folder: a new UIDVALIDITY, the same messages (and one more).
    s.delete(&folder).unwrap();
    s.create(&folder).unwrap();
    let mut again = planted.clone();
    again.push(reply(&rows[2], 2));
    append(&mut s, &folder, &again);
    let second = c.sync();
    let f = &second["folders"][0];
    assert_eq!(f["resynced"], true, "{second}");
    assert_eq!(f["read"], 4, "{second}");
    assert_eq!(f["kinds"]["duplicate"], 3, "{second}");
    assert_eq!(f["kinds"]["reply"], 1, "{second}");
    assert_eq!(f["effects"]["bounces"], 0, "{second}");
    assert_eq!(c.row(rows[2].id).status, Status::Replied);
    let store = c.store();
    assert_eq!(
        bounces::list(store.conn(), &bounces::Filter::default())
            .unwrap()
            .len(),
        1,
        "the bounce is stored once"
    );
    assert_eq!(read_total(&c.sync()), 0);
    let _ = s.delete(&folder);
}

struct Quiet;
impl Observer for Quiet {
    fn log(&self, level: Level, text: &str) {
        if level >= Level::Warn {
            eprintln!("{text}");
        }
    }
}

/// Plant one message of each disposition plus one the user had flagged \Deleted, sync with
/// the move folders set, and check where everything went.
fn moves(use_move: bool) {
    let Some(rig) = Rig::get() else { return };
    let tag = unique(if use_move { "mv" } else { "cp" });
    let folder = format!("t-{tag}");
    let done = format!("{folder}-done");
    let skip = format!("{folder}-skip");
    let problem = format!("{folder}-problem");
    let emails: Vec<String> = (0..3).map(|i| format!("{tag}-{i}@catchall.test")).collect();
    let c = Campaign::new(
        &rig,
        &tag,
        &emails,
        &format!("watch_folders = [\"{folder}\"]"),
        &format!(
            "processed_folder = \"{done}\"\nskipped_folder = \"{skip}\"\nproblem_folder = \"{problem}\""
        ),
    );
    let rows = c.send_all();
    let mut stranger = rows[2].clone();
    stranger.email = Some(format!("someone-{tag}@elsewhere.test"));
    stranger.header_message_id = Some(format!("not-ours.{tag}@elsewhere.test"));
    let mut s = imap(&rig);
    s.create(&folder).unwrap();
    append(
        &mut s,
        &folder,
        &[
            planted_dsn(&rows[0], &tag),                 // processed
            reply(&rows[1], 1),                          // stays
            newsletter(&tag),                            // skipped
            planted_dsn(&stranger, &format!("{tag}.x")), // problem
        ],
    );
    // A reply the user flagged \Deleted but did not expunge: hailer leaves replies in place and
    // must not expunge it when it expunges what it moved.
    s.append(&folder, &reply(&rows[2], 2))
        .flag(imap::types::Flag::Deleted)
        .finish()
        .unwrap();

    let config = c.config();
    let target = &inbox::targets(&config).0[0];
    let mut store = c.store();
    let mut session = login(&target.endpoint).unwrap();
    let mut caps = sync::capabilities(&mut session).unwrap();
    assert!(
        caps.mv && caps.uidplus,
        "the rig's Dovecot has MOVE and UIDPLUS"
    );
    // Without MOVE the watcher copies, flags and expunges those UIDs only.
    caps.mv = use_move;
    let summary = sync::sync_folder(
        &mut session,
        caps,
        &mut store,
        "sender",
        &folder,
        &config.inbox,
        &Quiet,
        None,
    )
    .unwrap();
    assert_eq!(summary.read, 5, "{summary:?}");
    assert_eq!(summary.moved, 3, "{summary:?}");
    let _ = session.logout();

    assert_eq!(count(&mut s, &done), 1);
    assert_eq!(count(&mut s, &skip), 1);
    assert_eq!(count(&mut s, &problem), 1);
    // Left: both replies (for a person to read), the \Deleted one included.
    assert_eq!(count(&mut s, &folder), 2);
    s.examine(&folder).unwrap();
    let left = s.uid_fetch("1:*", "BODY.PEEK[]").unwrap();
    for f in left.iter() {
        let body = String::from_utf8_lossy(f.body().unwrap()).into_owned();
        assert!(body.contains("In-Reply-To"), "{body}");
    }
    let moved: i64 = c
        .store()
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM inbox_messages WHERE moved_to IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(moved, 3);
    // A second sync reads nothing: moved messages are gone from the folder, the rest are known.
    assert_eq!(read_total(&c.sync()), 0);
    for f in [&folder, &done, &skip, &problem] {
        let _ = s.delete(f);
    }
}

#[test]
fn folder_moves_with_move() {
    moves(true);
}

#[test]
fn folder_moves_with_copy_store_uid_expunge() {
    moves(false);
}

#[test]
fn watch_sees_a_new_reply_through_idle_and_stops_on_sigint() {
    watch_case(true);
}

#[test]
fn watch_polls_when_idle_is_off() {
    watch_case(false);
}

fn watch_case(idle: bool) {
    let Some(rig) = Rig::get() else { return };
    let tag = unique(if idle { "idle" } else { "poll" });
    let folder = format!("t-{tag}");
    let c = Campaign::new(
        &rig,
        "idle",
        &[format!("{tag}@catchall.test")],
        &format!("watch_folders = [\"{folder}\"]"),
        // With IDLE, only IDLE can notice within the test's 30 s; without, a 1 s poll does.
        if idle {
            "poll_secs = 300"
        } else {
            "idle = false\npoll_secs = 1"
        },
    );
    let rows = c.send_all();
    let mut s = imap(&rig);
    s.create(&folder).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_hailer"))
        .arg("--config")
        .arg(&c.config)
        .arg("--data-dir")
        .arg(c.data())
        .arg("watch")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Let it log in and start IDLE (poll_secs is 300, so only IDLE can notice in time).
    std::thread::sleep(Duration::from_secs(2));
    append(&mut s, &folder, &[reply(&rows[0], 0)]);
    let start = Instant::now();
    while c.row(rows[0].id).status != Status::Replied && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let replied = c.row(rows[0].id).status;
    // SIGINT, as Ctrl-C would.
    common::signal(child.id(), "INT");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(replied, Status::Replied, "{stderr}");
    assert!(
        stderr.contains(if idle { "(IDLE)" } else { "(polling)" }),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let _ = s.delete(&folder);
}

/// An ARF (RFC 5965) report from a mailbox provider's feedback loop about one of our messages.
fn complaint(row: &OutboxRow, tag: &str) -> Vec<u8> {
    let mid = row.header_message_id.as_deref().unwrap();
    let email = row.email.as_deref().unwrap();
    crlf(&format!(
        "From: fbl@isp.test\nTo: sender@sender.test\nSubject: FW: {subject}\n\
         Date: Sun, 22 Nov 2026 11:00:00 +0000\nMessage-ID: <arf.{tag}@isp.test>\n\
         MIME-Version: 1.0\n\
         Content-Type: multipart/report; report-type=feedback-report; boundary=\"b1\"\n\n\
         --b1\nContent-Type: text/plain\n\nThis is an email abuse report.\n\n\
         --b1\nContent-Type: message/feedback-report\n\n\
         Feedback-Type: abuse\nUser-Agent: isp-fbl/1.0\nVersion: 1\n\
         Original-Mail-From: <sender@sender.test>\nOriginal-Rcpt-To: <{email}>\n\
         Arrival-Date: Sun, 22 Nov 2026 10:00:00 +0000\n\n\
         --b1\nContent-Type: message/rfc822\n\n\
         From: Sam Sender <sender@sender.test>\nTo: {email}\nSubject: {subject}\n\
         Message-ID: <{mid}>\n\nBonjour\n\n--b1--\n",
        subject = row.subject
    ))
}

#[test]
fn a_complaint_suppresses_the_address_and_is_stored_as_a_complaint() {
    let Some(rig) = Rig::get() else { return };
    let tag = unique("arf");
    let folder = format!("t-{tag}");
    let emails: Vec<String> = (0..2).map(|i| format!("{tag}-{i}@catchall.test")).collect();
    let c = Campaign::new(
        &rig,
        "arf",
        &emails,
        &format!("watch_folders = [\"{folder}\"]"),
        "",
    );
    let rows = c.send_all();
    let mut s = imap(&rig);
    s.create(&folder).unwrap();
    append(&mut s, &folder, &[complaint(&rows[0], &tag)]);
    let summary = c.sync();
    assert_eq!(summary["folders"][0]["kinds"]["feedback"], 1, "{summary}");
    let store = c.store();
    let e0 = rows[0].email.as_deref().unwrap();
    let sup = suppressions::blocking(store.conn(), e0).unwrap().unwrap();
    assert_eq!(sup.cause, "complained");
    let all = bounces::list(store.conn(), &bounces::Filter::default()).unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(
        (
            all[0].kind.as_str(),
            all[0].recipient.as_str(),
            all[0].reason.as_str()
        ),
        ("complaint", e0, "abuse")
    );
    assert_eq!(all[0].outbox_id, Some(rows[0].id));
    assert!(
        all[0].raw.contains("Feedback-Type: abuse"),
        "{}",
        all[0].raw
    );
    // A complaint is not a bounce: the hard-bounce count the auto-pause reads stays at zero.
    assert_eq!(
        bounces::hard_bounces_in_last_sends(store.conn(), "sender", 10).unwrap(),
        (2, 0)
    );
    assert!(
        suppressions::blocking(store.conn(), rows[1].email.as_deref().unwrap())
            .unwrap()
            .is_none()
    );
    let _ = s.delete(&folder);
}

#[test]
fn watch_retries_a_refused_login_with_backoff_until_stopped() {
    let Some(rig) = Rig::get() else { return };
    let c = Campaign::new(&rig, "bad", &["x@catchall.test".into()], "", "");
    let text = std::fs::read_to_string(&c.config).unwrap().replace(
        "password_cmd = \"cat ",
        "password_cmd = \"echo wrong; true ",
    );
    std::fs::write(&c.config, text).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hailer"))
        .arg("--config")
        .arg(&c.config)
        .arg("--data-dir")
        .arg(c.data())
        .arg("watch")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // First attempt, 2 s pause, second attempt, 4 s pause: after ~4 s both retries are logged.
    std::thread::sleep(Duration::from_secs(4));
    assert!(child.try_wait().unwrap().is_none(), "watch keeps going");
    common::signal(child.id(), "INT");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refused"), "{stderr}");
    assert!(stderr.contains("reconnecting in 2s"), "{stderr}");
    assert!(stderr.contains("reconnecting in 4s"), "{stderr}");
    assert!(!stderr.contains("wrong"), "no secret in the log: {stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn a_missing_folder_fails_the_run_but_the_other_folders_are_read() {
    let Some(rig) = Rig::get() else { return };
    let tag = unique("miss");
    let folder = format!("t-{tag}");
    let c = Campaign::new(
        &rig,
        "miss",
        &[format!("{tag}@catchall.test")],
        &format!("watch_folders = [\"no-such-{tag}\", \"{folder}\"]"),
        "",
    );
    let rows = c.send_all();
    let mut s = imap(&rig);
    s.create(&folder).unwrap();
    append(&mut s, &folder, &[reply(&rows[0], 0)]);
    let (code, out, err) = c.hailer(&["bounces", "sync"]);
    assert_eq!(code, 1, "{out}\n{err}");
    // Named once, in the summary (not on stderr as well).
    let named = out
        .lines()
        .filter(|l| l.contains(&format!("no-such-{tag}")));
    assert_eq!(named.count(), 1, "{out}");
    assert!(!err.contains(&format!("no-such-{tag}")), "{err}");
    assert!(out.contains(&format!("sender/{folder}: 1 read")), "{out}");
    assert_eq!(c.row(rows[0].id).status, Status::Replied);
    let _ = s.delete(&folder);
}

#[test]
fn three_postfix_dsns_auto_pause_the_mailbox_until_it_is_resumed() {
    let Some(rig) = Rig::get() else { return };
    let tag = unique("pause");
    let mut emails: Vec<String> = (0..3)
        .map(|i| format!("nobody{i}-{tag}@acme.test"))
        .collect();
    emails.push("jane.doe@acme.test".into());
    let c = Campaign::new(&rig, "pause", &emails, "", "");
    c.sync();
    c.send_all();

    // The rig's MX refuses the three users; Postfix's DSNs come back to the INBOX. The default
    // rule (5% of a 50-send window) pauses the mailbox at the third hard bounce.
    let start = Instant::now();
    let paused = loop {
        let s = c.sync();
        if s["paused"].as_array().is_some_and(|a| !a.is_empty()) {
            break s["paused"].clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "no pause: {:?}",
            c.rows()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(paused[0]["mailbox"], "sender", "{paused}");
    let reason = paused[0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("3 hard bounces or refusals in its last 4 sends"),
        "{reason}"
    );

    // A new prospect: the send refuses to use the paused mailbox and the row waits, READY.
    let file = c.root.join("more.csv");
    std::fs::write(
        &file,
        "firstname,lastname,company,email\nJohn,Smith,Acme SA,john.smith@acme.test\n",
    )
    .unwrap();
    let (code, out, err) = c.hailer(&["import", "prospects", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = c.hailer(&["outbox", "build"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let new_row = c
        .rows()
        .into_iter()
        .find(|r| r.email.as_deref() == Some("john.smith@acme.test"))
        .unwrap();
    assert_eq!(new_row.status, Status::Ready);
    let (code, out, err) = c.hailer(&["send"]);
    assert_ne!(code, 0, "{out}\n{err}");
    assert!(err.contains("sender: paused: 3 hard bounces"), "{err}");
    assert_eq!(c.row(new_row.id).status, Status::Ready);

    // Resumed: the window starts afresh, so the old bounces do not pause it again.
    let (code, out, err) = c.hailer(&["mailbox", "resume", "sender"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = c.hailer(&["send"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(c.row(new_row.id).status, Status::Sent);
    let (_, out, _) = c.hailer(&["mailbox", "status"]);
    assert!(
        out.lines()
            .any(|l| l.starts_with("sender ") && l.contains(" ready ")),
        "{out}"
    );
}

#[test]
fn watch_reads_a_non_ascii_folder_moves_into_one_and_goes_on_past_a_missing_folder() {
    use hailer::net::mutf7;
    let Some(rig) = Rig::get() else { return };
    let tag = unique("utf7");
    let folder = format!("Réponses {tag}");
    let missing = format!("Absent-{tag}");
    let done = format!("Traités-{tag}");
    let c = Campaign::new(
        &rig,
        "utf7",
        &[format!("{tag}@catchall.test")],
        &format!("watch_folders = [\"{folder}\", \"{missing}\"]"),
        &format!("idle = false\npoll_secs = 1\nprocessed_folder = \"{done}\""),
    );
    let rows = c.send_all();
    let mut s = imap(&rig);
    // On the wire the names are modified UTF-7; the config holds them as written.
    s.create(mutf7::encode(&folder)).unwrap();
    assert!(mutf7::encode(&folder).starts_with("R&AOk-ponses "));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_hailer"))
        .arg("--config")
        .arg(&c.config)
        .arg("--data-dir")
        .arg(c.data())
        .arg("watch")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    append(
        &mut s,
        &mutf7::encode(&folder),
        &[planted_dsn(&rows[0], &tag)],
    );
    let start = Instant::now();
    while c.row(rows[0].id).status == Status::Sent && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = c.row(rows[0].id).status;
    // Several polls went by with the missing folder: it is reported once per connection.
    std::thread::sleep(Duration::from_secs(2));
    common::signal(child.id(), "INT");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(status, Status::Sent, "{stderr}");
    assert_eq!(
        stderr
            .matches(&format!("cannot open folder {missing}"))
            .count(),
        1,
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // The bounce was moved into the non-ASCII processed folder hailer created.
    assert_eq!(count(&mut s, &mutf7::encode(&done)), 1);
    assert_eq!(count(&mut s, &mutf7::encode(&folder)), 0);
    for f in [&folder, &done] {
        let _ = s.delete(mutf7::encode(f));
    }
}

/// Ctrl-C or SIGTERM stops `bounces sync` between folders with 130, as for an interrupted
/// `send`, so a script does not take it for a full read; nothing unread is lost: the next run
/// reads it.
#[test]
fn bounces_sync_stopped_by_a_signal_exits_130_and_the_next_run_reads_on() {
    let Some(rig) = Rig::get() else { return };
    let tag = unique("stop");
    let folder = format!("t-{tag}");
    let c = Campaign::new(
        &rig,
        "stop",
        &[format!("{tag}@catchall.test")],
        &format!("watch_folders = [\"{folder}\"]"),
        "",
    );
    let rows = c.send_all();
    let mut s = imap(&rig);
    s.create(&folder).unwrap();
    append(&mut s, &folder, &[reply(&rows[0], 0)]);
    // Reading the password takes 3 s: the signal comes before any folder is read.
    let config = std::fs::read_to_string(&c.config).unwrap();
    let slow = config.replace("password_cmd = \"cat ", "password_cmd = \"sleep 3; cat ");
    assert_ne!(slow, config);
    std::fs::write(&c.config, slow).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_hailer"))
        .arg("--config")
        .arg(&c.config)
        .arg("--data-dir")
        .arg(c.data())
        .args(["bounces", "sync"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(1));
    common::signal(child.id(), "TERM");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(c.row(rows[0].id).status, Status::Sent, "{stderr}");

    std::fs::write(&c.config, config).unwrap();
    let (code, out, err) = c.hailer(&["bounces", "sync"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(&format!("sender/{folder}: 1 read")), "{out}");
    assert_eq!(c.row(rows[0].id).status, Status::Replied);
    let _ = s.delete(&folder);
}

/// Forwards every connection to the rig's IMAPS port (TLS passes through untouched) and drops
/// each one once the server has sent `limit` bytes on it: the connection lost in the middle of
/// a FETCH, with Dovecot answering everything before.
fn cutting_proxy(rig: &Rig, limit: usize) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let upstream = format!("{}:{}", rig.host(), rig.port("RIG_IMAPS_PORT"));
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let mut server = std::net::TcpStream::connect(&upstream).unwrap();
            let (mut from_client, mut to_server) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut from_client, &mut to_server);
                let _ = to_server.shutdown(std::net::Shutdown::Both);
            });
            let (mut sent, mut buf) = (0usize, vec![0u8; 16 * 1024]);
            while sent < limit {
                let n = match server.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n.min(limit - sent),
                };
                if client.write_all(&buf[..n]).is_err() {
                    break;
                }
                sent += n;
            }
            let _ = client.shutdown(std::net::Shutdown::Both);
            let _ = server.shutdown(std::net::Shutdown::Both);
        }
    });
    port
}

/// Three sent rows, a folder with their three DSNs and then large mail, and the config's
/// IMAP port on a [`cutting_proxy`] that drops the connection in the middle of the FETCH after
/// the DSNs' (batches of three). Returns the campaign, the folder and a session to the rig.
fn cut_after_three_dsns(rig: &Rig, tag: &str, inbox: &str) -> (Campaign, String, Session) {
    let folder = format!("t-{tag}");
    let emails: Vec<String> = (0..3).map(|i| format!("{tag}-{i}@catchall.test")).collect();
    let c = Campaign::new(
        rig,
        "cut",
        &emails,
        &format!("watch_folders = [\"{folder}\"]"),
        &format!("batch = 3\n{inbox}"),
    );
    let rows = c.send_all();
    let mut planted: Vec<Vec<u8>> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| planted_dsn(r, &format!("{tag}.{i}")))
        .collect();
    // Then mail large enough that the second batch's FETCH is cut in its middle.
    for i in 0..6 {
        let mut m = newsletter(&format!("{tag}.{i}"));
        m.extend(std::iter::repeat_n(b'x', 60_000));
        m.extend_from_slice(b"\r\n");
        planted.push(m);
    }
    let mut s = imap(rig);
    s.create(&folder).unwrap();
    append(&mut s, &folder, &planted);
    // Everything up to the three DSNs' FETCH fits in 3 x 3 kB + 40 kB; the next FETCH
    // (3 x 60 kB) does not.
    let port = cutting_proxy(rig, 3 * 3_000 + 40_000);
    let text = std::fs::read_to_string(&c.config).unwrap().replace(
        &format!("imap_port = {}", rig.port("RIG_IMAPS_PORT")),
        &format!("imap_port = {port}"),
    );
    std::fs::write(&c.config, text).unwrap();
    (c, folder, s)
}

fn sender_paused(c: &Campaign) -> bool {
    let (code, out, err) = c.hailer(&["mailbox", "status", "--json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let status: serde_json::Value = serde_json::from_str(&out).unwrap();
    status
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["mailbox"] == "sender" && m["paused"] == true)
}

/// The connection drops in the middle of a FETCH after a first batch of three DSNs was read
/// and stored: the run fails (exit 1, naming the mailbox), but its summary counts the three
/// bounces it stored, and the pause rule looks at them now (before, the summary said "0
/// read" and the mailbox went on sending until a run got through).
#[test]
fn a_connection_lost_mid_fetch_counts_what_was_stored_and_still_pauses() {
    let Some(rig) = Rig::get() else { return };
    let tag = unique("cut");
    let (c, folder, mut s) = cut_after_three_dsns(&rig, &tag, "");
    let (code, out, err) = c.hailer(&["bounces", "sync", "--json"]);
    assert_eq!(code, 1, "{out}\n{err}");
    let summary: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let errors = summary["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{summary}");
    // Said plainly: not rustls' "peer closed connection without sending TLS close_notify:
    // https://docs.rs/rustls/…".
    assert!(
        errors[0].as_str().unwrap().starts_with(&format!(
            "sender: IMAP fetch from {folder} failed: the server closed the connection"
        )),
        "{summary}"
    );
    assert_eq!(c.inbox_kinds(), [("bounce".to_string(), 3)], "{summary}");
    assert_eq!(read_total(&summary), 3, "{summary}");
    assert_eq!(summary["folders"][0]["effects"]["bounces"], 3, "{summary}");
    let paused = summary["paused"].as_array().unwrap();
    assert_eq!(paused.len(), 1, "{summary}");
    assert_eq!(paused[0]["mailbox"], "sender", "{summary}");
    assert!(sender_paused(&c));
    let _ = s.delete(&folder);
}

/// `hailer watch` on the same cut: the pass that read the three DSNs before the connection
/// dropped is reported ("3 read"), and the mailbox is paused while the watcher reconnects
/// (before, the pass was reported as an error only, and no pass ever got through to pause).
#[test]
fn watch_counts_a_pass_cut_mid_fetch_and_pauses_the_mailbox() {
    use std::io::BufRead;
    let Some(rig) = Rig::get() else { return };
    let tag = unique("wcut");
    let (c, folder, mut s) = cut_after_three_dsns(&rig, &tag, "idle = false\npoll_secs = 60");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hailer"))
        .arg("--config")
        .arg(&c.config)
        .arg("--data-dir")
        .arg(c.data())
        .arg("watch")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wanted = format!("sender/{folder}: 3 read");
    let mut said = Vec::new();
    let found = loop {
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) if line.contains(&wanted) => break true,
            Ok(line) => said.push(line),
            Err(_) => break false,
        }
    };
    let paused = sender_paused(&c);
    common::signal(child.id(), "TERM");
    let _ = child.wait();
    assert!(found, "{said:?}");
    assert_eq!(c.inbox_kinds(), [("bounce".to_string(), 3)]);
    assert!(paused, "{said:?}");
    let _ = s.delete(&folder);
}

/// Two databases sending through the same mailbox (a previous campaign, a test run, `demo`):
/// each gives its messages Message-IDs of the same shape, `<row id>.<16 hex>@sender.test`.
/// A report about the other database's row 1 says nothing of this one's row 1, whatever the
/// id it spells: the row stays SENT, the bounce is stored unmatched, and nothing is
/// suppressed.
#[test]
fn a_report_on_another_databases_message_is_not_put_on_the_row_with_its_id() {
    let Some(rig) = Rig::get() else { return };
    let tag = unique("twodb");
    let folder = format!("t-{tag}");
    let emails = vec![format!("{tag}@catchall.test")];
    let watch = format!("watch_folders = [\"{folder}\"]");
    let earlier = Campaign::new(&rig, "twodb", &emails, &watch, "");
    let theirs = earlier.send_all().remove(0);
    let c = Campaign::new(&rig, "twodb", &emails, &watch, "");
    let ours = c.send_all().remove(0);
    assert_eq!(ours.id, theirs.id, "the same row id in both databases");
    assert_ne!(ours.header_message_id, theirs.header_message_id);

    let mut s = imap(&rig);
    s.create(&folder).unwrap();
    append(&mut s, &folder, &[planted_dsn(&theirs, &tag)]);
    let out = c.sync();
    assert_eq!(read_total(&out), 1, "{out}");

    assert_eq!(c.row(ours.id).status, Status::Sent);
    let store = c.store();
    let b = bounces::list(store.conn(), &bounces::Filter::default()).unwrap();
    assert_eq!(b.len(), 1, "{b:?}");
    assert_eq!(b[0].outbox_id, None, "{}", b[0].matched_by);
    assert!(
        b[0].matched_by.contains(&format!(
            "<{}>",
            theirs.header_message_id.as_deref().unwrap()
        )) && b[0].matched_by.contains("not a message this database sent"),
        "{}",
        b[0].matched_by
    );
    assert!(
        suppressions::blocking(store.conn(), &emails[0])
            .unwrap()
            .is_none()
    );
    let _ = s.delete(&folder);
}
