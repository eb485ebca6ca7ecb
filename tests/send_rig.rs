//! The sender against the mail rig (real Postfix submission, real Dovecot) and, for the replies
//! a real server won't give on demand (a synchronous 4xx/5xx at submission), a small scripted
//! SMTP server started on 127.0.0.1:0 by the test itself.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::rig::Rig;
use hailer::config::Security;
use hailer::engine::import::{self, ImportKind, ImportRequest};
use hailer::engine::outbox::build::build;
use hailer::net::imap::{ImapEndpoint, Session, login};
use hailer::store::outbox::{self, Status};
use hailer::store::{Store, suppressions};

fn unique(tag: &str) -> String {
    format!(
        "{tag}{}x{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            % 100_000_000
    )
}

/// A data directory with prospects and one message imported and the outbox built.
struct Campaign {
    _dir: tempfile::TempDir,
    root: PathBuf,
    tag: String,
}

impl Campaign {
    /// `emails[i]` goes to prospect i (firstname `P{i}`); subjects carry the tag.
    fn new(tag: &str, emails: &[String], body: &str) -> Campaign {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let tag = unique(tag);
        let mut prospects = String::from("firstname,lastname,company,email\n");
        for (i, e) in emails.iter().enumerate() {
            prospects.push_str(&format!("P{i},Test,Acme SA,{e}\n"));
        }
        let messages = format!(
            "company,subject,body\nAcme SA,{tag} hello {{firstname}},\"{}\"\n",
            body.replace('"', "\"\"")
        );
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
        Campaign {
            _dir: dir,
            root,
            tag,
        }
    }

    fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    fn store(&self) -> Store {
        Store::open_in(&self.data()).unwrap()
    }

    fn write_config(&self, text: &str) -> PathBuf {
        let path = self.root.join("config.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn hailer(&self, config: &Path) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hailer"));
        cmd.arg("--config")
            .arg(config)
            .arg("--data-dir")
            .arg(self.data())
            .current_dir(&self.root);
        cmd
    }

    fn send(&self, config: &Path, args: &[&str]) -> (i32, String, String) {
        let out = self.hailer(config).arg("send").args(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn rows(&self) -> Vec<outbox::OutboxRow> {
        outbox::list(self.store().conn(), None).unwrap()
    }

    fn count(&self, status: Status) -> usize {
        self.rows().iter().filter(|r| r.status == status).count()
    }

    fn day_counter(&self, mailbox: &str) -> i64 {
        self.store()
            .conn()
            .query_row(
                "SELECT COALESCE(SUM(sent), 0) FROM mailbox_days WHERE mailbox = ?1",
                [mailbox],
                |r| r.get(0),
            )
            .unwrap()
    }
}

/// The rig's config.toml with per-mailbox overrides appended to each mailbox table.
fn rig_config(rig: &Rig, sending: &str, per_mailbox: &[(&str, &str)]) -> String {
    let base = std::fs::read_to_string(rig.config_file()).unwrap();
    let mut out = String::new();
    let mut current: Option<String> = None;
    let flush = |out: &mut String, current: &Option<String>| {
        if let Some(name) = current
            && let Some((_, extra)) = per_mailbox.iter().find(|(n, _)| n == name)
        {
            out.push_str(extra);
            out.push('\n');
        }
    };
    for line in base.lines() {
        if line.starts_with('[') {
            flush(&mut out, &current);
            current = line
                .strip_prefix("[mailboxes.")
                .and_then(|r| r.strip_suffix(']'))
                .map(str::to_string);
        }
        // Keys we override are dropped from the base.
        let key = line.split('=').next().unwrap_or("").trim();
        let overridden = current.as_ref().is_some_and(|name| {
            per_mailbox
                .iter()
                .any(|(n, extra)| n == name && extra.contains(&format!("{key} =")))
        }) || (line.starts_with("require_approval") || line.starts_with("html ="));
        if !key.is_empty() && overridden && !line.starts_with('[') {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if line.trim() == "[sending]" {
            out.push_str(sending);
            out.push('\n');
        }
    }
    flush(&mut out, &current);
    out
}

fn imap(rig: &Rig, user: &str) -> Session {
    login(&ImapEndpoint {
        host: rig.host().to_string(),
        port: rig.port("RIG_IMAPS_PORT"),
        security: Security::Tls,
        ca_file: Some(rig.ca_file()),
        username: user.to_string(),
        password: rig.password().to_string(),
        timeout: Duration::from_secs(10),
    })
    .unwrap_or_else(|e| panic!("IMAP login {user}: {e}"))
}

/// Raw messages in `folder` whose subject contains `tag`.
fn fetch_tagged(rig: &Rig, user: &str, folder: &str, tag: &str) -> Vec<Vec<u8>> {
    let mut s = imap(rig, user);
    s.select(folder).unwrap();
    let uids = s.uid_search(format!("SUBJECT \"{tag}\"")).unwrap();
    if uids.is_empty() {
        return vec![];
    }
    let set: Vec<String> = uids.iter().map(u32::to_string).collect();
    let fetched = s.uid_fetch(set.join(","), "BODY.PEEK[]").unwrap();
    let out = fetched
        .iter()
        .filter_map(|f| f.body().map(<[u8]>::to_vec))
        .collect();
    let _ = s.logout();
    out
}

/// Poll until `want` tagged messages are in the folder (then a short grace for extras).
fn wait_tagged(rig: &Rig, user: &str, folder: &str, tag: &str, want: usize) -> Vec<Vec<u8>> {
    let start = Instant::now();
    loop {
        let got = fetch_tagged(rig, user, folder, tag);
        if got.len() >= want || start.elapsed() > Duration::from_secs(30) {
            std::thread::sleep(Duration::from_secs(1));
            return fetch_tagged(rig, user, folder, tag);
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn header(raw: &[u8], name: &str) -> Option<String> {
    use mailparse::MailHeaderMap;
    mailparse::parse_mail(raw)
        .ok()?
        .headers
        .get_first_value(name)
}

/// Recipient address (To) of each delivered message → count.
fn per_recipient(msgs: &[Vec<u8>]) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for m in msgs {
        let to = header(m, "To").unwrap_or_default();
        let addr = to
            .rsplit_once('<')
            .map(|(_, a)| a.trim_end_matches('>').to_string())
            .unwrap_or(to);
        *out.entry(addr.to_lowercase()).or_insert(0) += 1;
    }
    out
}

const MARKDOWN: &str =
    "Bonjour **{prenom}**,\n\nVoir [notre site](https://hailer.test/).\n\n- un\n- deux";

#[test]
fn fifty_messages_two_mailboxes_caps_20_and_10_deliver_exactly_30() {
    let Some(rig) = Rig::get() else { return };
    let tag = unique("t");
    let emails: Vec<String> = (0..50)
        .map(|i| format!("{tag}-{i}@catchall.test"))
        .collect();
    let c = Campaign::new("caps", &emails, MARKDOWN);
    let cfg = c.write_config(&rig_config(
        &rig,
        "require_approval = false\nhtml = true",
        &[
            ("sender", "daily_cap = 20\ntimezone = \"Europe/Paris\""),
            ("claire", "daily_cap = 10"),
        ],
    ));
    let (code, out, err) = c.send(&cfg, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("30 SENT"), "{out}");
    assert!(out.contains("daily caps reached"), "{out}");
    assert_eq!(c.count(Status::Sent), 30);
    assert_eq!(c.count(Status::Ready), 20);
    assert_eq!(c.day_counter("sender"), 20);
    assert_eq!(c.day_counter("claire"), 10);
    let by_mailbox = |m: &str| {
        c.rows()
            .iter()
            .filter(|r| r.status == Status::Sent && r.mailbox.as_deref() == Some(m))
            .count()
    };
    assert_eq!((by_mailbox("sender"), by_mailbox("claire")), (20, 10));

    // A second run the same day sends nothing more: the counters are in the database.
    let (code, out, _) = c.send(&cfg, &[]);
    assert_eq!(code, 0);
    assert!(out.contains("0 SENT"), "{out}");

    let delivered = wait_tagged(&rig, "catchall@catchall.test", "INBOX", &c.tag, 30);
    assert_eq!(delivered.len(), 30, "exactly 30 delivered");
    assert!(per_recipient(&delivered).values().all(|&n| n == 1));
    let sent_sender = wait_tagged(&rig, "sender@sender.test", "Sent", &c.tag, 20);
    let sent_claire = wait_tagged(&rig, "claire@sender.test", "Sent", &c.tag, 10);
    assert_eq!((sent_sender.len(), sent_claire.len()), (20, 10));

    // Headers and both parts, on a delivered message matched to its row.
    let rows: HashMap<String, outbox::OutboxRow> = c
        .rows()
        .into_iter()
        .filter_map(|r| r.header_message_id.clone().map(|m| (format!("<{m}>"), r)))
        .collect();
    for raw in &delivered {
        let mid = header(raw, "Message-ID").expect("Message-ID");
        let row = rows
            .get(&mid)
            .unwrap_or_else(|| panic!("{mid} matches a row"));
        assert!(
            mid.starts_with(&format!("<{}.", row.id)) && mid.ends_with("@sender.test>"),
            "{mid}"
        );
        assert!(header(raw, "Date").is_some());
        let from = header(raw, "From").unwrap();
        assert!(
            from.contains("Sam Sender") || from.contains("Claire Martin"),
            "{from}"
        );
        let unsub = header(raw, "List-Unsubscribe").unwrap();
        assert!(unsub.starts_with("<mailto:") && unsub.contains("unsubscribe"));
        // No [tracking] base_url here, so no URL to POST to: no one-click header (RFC 8058;
        // tracking_rig checks both headers with one).
        assert_eq!(header(raw, "List-Unsubscribe-Post"), None);
        assert!(row.smtp_reply.as_deref().unwrap_or("").starts_with("250"));
    }
    let parsed = mailparse::parse_mail(&delivered[0]).unwrap();
    assert_eq!(parsed.ctype.mimetype, "multipart/alternative");
    let parts: Vec<(String, String)> = parsed
        .subparts
        .iter()
        .map(|p| (p.ctype.mimetype.clone(), p.get_body().unwrap()))
        .collect();
    assert_eq!(parts[0].0, "text/plain");
    assert!(
        parts[0]
            .1
            .contains("Voir notre site (https://hailer.test/)"),
        "{}",
        parts[0].1
    );
    assert!(!parts[0].1.contains("**"), "{}", parts[0].1);
    assert_eq!(parts[1].0, "text/html");
    assert!(parts[1].1.contains("<strong>P"), "{}", parts[1].1);
    assert!(parts[1].1.contains("<li>un</li>"), "{}", parts[1].1);
    // The Sent copy is the same message, marked \Seen.
    let mut s = imap(&rig, "sender@sender.test");
    s.select("Sent").unwrap();
    let unseen = s
        .uid_search(format!("UNSEEN SUBJECT \"{}\"", c.tag))
        .unwrap();
    assert!(unseen.is_empty(), "Sent copies are \\Seen");
}

#[test]
fn sigkill_mid_run_then_restart_has_no_duplicate_and_no_lost_status() {
    let Some(rig) = Rig::get() else { return };
    let tag = unique("k");
    let emails: Vec<String> = (0..24)
        .map(|i| format!("{tag}-{i}@catchall.test"))
        .collect();
    let c = Campaign::new("kill", &emails, "Hello {firstname}");
    let slow = c.write_config(&rig_config(
        &rig,
        "require_approval = false",
        &[
            ("sender", "delay_min = 0\ndelay_max = 1"),
            ("claire", "delay_min = 0\ndelay_max = 1"),
        ],
    ));
    let mut child = c.hailer(&slow).arg("send").spawn().unwrap();
    let start = Instant::now();
    while c.count(Status::Sent) < 4 && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before: HashMap<i64, Status> = c.rows().iter().map(|r| (r.id, r.status)).collect();
    let sent_before = before.values().filter(|s| **s == Status::Sent).count();
    assert!(
        (4..24).contains(&sent_before),
        "killed mid-run: {sent_before} sent"
    );

    let fast = c.write_config(&rig_config(&rig, "require_approval = false", &[]));
    let (code, out, err) = c.send(&fast, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let after = c.rows();
    for r in &after {
        assert!(
            matches!(r.status, Status::Sent | Status::Uncertain),
            "row {} is {} after the restart: {:?}",
            r.id,
            r.status,
            r.reason
        );
        if before[&r.id] == Status::Sent {
            assert_eq!(r.status, Status::Sent, "a SENT row stays SENT");
        }
    }
    let delivered = wait_tagged(&rig, "catchall@catchall.test", "INBOX", &c.tag, 24);
    let counts = per_recipient(&delivered);
    for (addr, n) in &counts {
        assert_eq!(*n, 1, "{addr} received {n} copies");
    }
    for r in after.iter().filter(|r| r.status == Status::Sent) {
        let email = r.email.clone().unwrap().to_lowercase();
        assert_eq!(
            counts.get(&email),
            Some(&1),
            "SENT row {} delivered once",
            r.id
        );
    }
    // Everything that went out is accounted for in the counters.
    let sent_total = after.iter().filter(|r| r.status != Status::Ready).count() as i64;
    assert!(c.day_counter("sender") + c.day_counter("claire") >= sent_total);
    // Every SENT row has exactly one copy in its mailbox's Sent folder: those the killed run
    // had not made yet were appended by the restart, none twice.
    let sent_rows: Vec<&outbox::OutboxRow> =
        after.iter().filter(|r| r.status == Status::Sent).collect();
    let mut copies = wait_tagged(&rig, "sender@sender.test", "Sent", &c.tag, 0);
    copies.extend(wait_tagged(&rig, "claire@sender.test", "Sent", &c.tag, 0));
    let mut per_id: HashMap<String, usize> = HashMap::new();
    for m in &copies {
        let id = header(m, "Message-ID").unwrap_or_default();
        *per_id
            .entry(id.trim_matches(['<', '>', ' ']).to_string())
            .or_default() += 1;
    }
    for r in &sent_rows {
        let mid = r.header_message_id.clone().unwrap();
        assert_eq!(
            per_id.get(&mid),
            Some(&1),
            "row {}: Sent copies of {mid}",
            r.id
        );
    }
    // Only the copies of rows waiting for a decision are still kept.
    let kept: i64 = c
        .store()
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM sent_copies c JOIN outbox o ON o.id = c.outbox_id
             WHERE o.status <> 'UNCERTAIN'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 0);
}

/// A run that stops after the server accepted a message, before its Sent copy is made, leaves
/// the message kept: the next run appends it, exactly as it was sent, and says so.
#[test]
fn a_sent_copy_a_stopped_run_did_not_make_is_appended_by_the_next() {
    let Some(rig) = Rig::get() else { return };
    let tag = unique("cp");
    let emails: Vec<String> = (0..2).map(|i| format!("{tag}-{i}@catchall.test")).collect();
    let c = Campaign::new("copy", &emails, "Hi {firstname}");
    let cfg = c.write_config(&rig_config(
        &rig,
        "require_approval = false",
        &[("claire", "daily_cap = 0")],
    ));
    let (code, out, err) = c.send(&cfg, &["--limit", "1"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let first = wait_tagged(&rig, "sender@sender.test", "Sent", &c.tag, 1);
    assert_eq!(first.len(), 1);
    let kept: i64 = c
        .store()
        .conn()
        .query_row("SELECT COUNT(*) FROM sent_copies", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 0, "a copy made is not kept");
    // As if the run had stopped before the copy: it is not in Sent, and still kept.
    let mut s = imap(&rig, "sender@sender.test");
    s.select("Sent").unwrap();
    let uids = s.uid_search(format!("SUBJECT \"{}\"", c.tag)).unwrap();
    let set: Vec<String> = uids.iter().map(u32::to_string).collect();
    s.uid_store(set.join(","), "+FLAGS.SILENT (\\Deleted)")
        .unwrap();
    s.expunge().unwrap();
    drop(s);
    let sent = c
        .rows()
        .into_iter()
        .find(|r| r.status == Status::Sent)
        .unwrap();
    c.store()
        .conn()
        .execute(
            "INSERT INTO sent_copies (outbox_id, mailbox, raw) VALUES (?1, 'sender', ?2)",
            rusqlite::params![sent.id, first[0]],
        )
        .unwrap();
    let (code, out, err) = c.send(&cfg, &["--limit", "1"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("1 Sent copy an earlier run did not make appended now"),
        "{out}"
    );
    let now = wait_tagged(&rig, "sender@sender.test", "Sent", &c.tag, 2);
    let ids: Vec<String> = now
        .iter()
        .map(|m| header(m, "Message-ID").unwrap_or_default())
        .collect();
    assert_eq!(now.len(), 2, "{ids:?}");
    assert!(now.contains(&first[0]), "the very bytes sent");
    let kept: i64 = c
        .store()
        .conn()
        .query_row("SELECT COUNT(*) FROM sent_copies", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 0);
    // Run again: the copy is not appended twice.
    let (_, out, _) = c.send(&cfg, &[]);
    assert!(!out.contains("did not make"), "{out}");
    assert_eq!(
        fetch_tagged(&rig, "sender@sender.test", "Sent", &c.tag).len(),
        2
    );
}

#[test]
fn wrong_password_fails_that_mailbox_and_the_other_goes_on() {
    let Some(rig) = Rig::get() else { return };
    let tag = unique("w");
    let emails: Vec<String> = (0..6).map(|i| format!("{tag}-{i}@catchall.test")).collect();
    let c = Campaign::new("pw", &emails, "Hello {firstname}");
    let cfg = c.write_config(&rig_config(
        &rig,
        "require_approval = false",
        &[("sender", "password_cmd = \"echo not-the-password\"")],
    ));
    let (code, out, err) = c.send(&cfg, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("6 SENT"), "{out}");
    assert!(out.contains("mailbox sender: 0 this run"), "{out}");
    assert!(out.contains("FAILED") && out.contains("login"), "{out}");
    assert!(
        err.contains("mailbox sender") && err.contains("535"),
        "{err}"
    );
    assert!(!err.contains("not-the-password") && !out.contains("not-the-password"));
    assert!(
        c.rows()
            .iter()
            .all(|r| r.mailbox.as_deref() == Some("claire"))
    );
    assert_eq!(
        c.day_counter("sender"),
        0,
        "a refused login uses no capacity"
    );
    assert_eq!(
        wait_tagged(&rig, "catchall@catchall.test", "INBOX", &c.tag, 6).len(),
        6
    );

    // Only the bad mailbox: the run cannot go anywhere, so it fails.
    let c2 = Campaign::new("pw2", &[format!("{tag}-x@catchall.test")], "Hi");
    let cfg2 = c2.write_config(&rig_config(
        &rig,
        "require_approval = false",
        &[("sender", "password_cmd = \"echo not-the-password\"")],
    ));
    let (code, _, err) = c2.send(&cfg2, &["--mailbox", "sender"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("no usable mailbox"), "{err}");
    assert_eq!(c2.count(Status::Ready), 1, "row untouched");
}

#[test]
fn mailbox_test_checks_smtp_imap_and_sent_folder() {
    let Some(rig) = Rig::get() else { return };
    let c = Campaign::new("mt", &["mt@catchall.test".to_string()], "x");
    let cfg = c.write_config(&rig_config(
        &rig,
        "",
        &[("claire", "password_cmd = \"echo wrong\"")],
    ));
    let out = c.hailer(&cfg).args(["mailbox", "test"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("sender:\n  smtp  ok"), "{text}");
    assert!(text.contains("Sent folder \"Sent\""), "{text}");
    assert!(text.contains("claire:\n  smtp  FAILED"), "{text}");
    let out = c
        .hailer(&cfg)
        .args(["mailbox", "test", "sender"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

// ---- scripted SMTP server: synchronous 4xx and 5xx at submission ----

#[derive(Default)]
struct Script {
    /// RCPT TO seen, in order.
    rcpts: Vec<String>,
    /// Messages accepted (end of DATA answered 250), by recipient.
    accepted: Vec<String>,
    /// How many times each recipient got a temporary failure so far.
    temp_fails: HashMap<String, u32>,
    /// Successful logins: one per session the client opened.
    logins: u32,
    /// RSET commands received.
    resets: u32,
    /// MAIL FROM commands received.
    mails: u32,
    /// When each RCPT TO arrived, in order.
    rcpt_times: Vec<std::time::Instant>,
    /// After each delivered message the session "times out": the next command gets
    /// `421 4.4.2 … timeout exceeded` and the connection closes, as Postfix does when a kept
    /// connection stays idle past its smtpd_timeout.
    idle_timeout_after_message: bool,
}

/// Plain SMTP with AUTH PLAIN (user/pw). Recipients starting `temp` get 450 on their first
/// RCPT, `perm` get 550 with a text, `data5` get 554 after DATA; others are accepted. A
/// sender `blocked@…` gets 553 to MAIL FROM.
/// `pipelining`: advertise PIPELINING (RFC 2920), so both client paths get exercised.
fn fake_smtp(pipelining: bool) -> (u16, Arc<Mutex<Script>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let script = Arc::new(Mutex::new(Script::default()));
    let s = script.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let s = s.clone();
            std::thread::spawn(move || serve(conn, s, pipelining));
        }
    });
    (port, script)
}

fn serve(conn: TcpStream, script: Arc<Mutex<Script>>, pipelining: bool) {
    let mut w = conn.try_clone().unwrap();
    let mut r = BufReader::new(conn);
    let mut say = |t: &str| {
        let _ = w.write_all(format!("{t}\r\n").as_bytes());
    };
    say("220 fake.test ESMTP");
    let mut rcpt = String::new();
    let mut rcpt_ok = false;
    let mut authed = false;
    let mut timed_out = false;
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        if timed_out {
            say("421 4.4.2 fake.test Error: timeout exceeded");
            return;
        }
        if upper.starts_with("EHLO") {
            say("250-fake.test");
            say("250-AUTH PLAIN");
            if pipelining {
                say("250-PIPELINING");
            }
            say("250 8BITMIME");
        } else if upper.starts_with("AUTH PLAIN") {
            use std::str;
            let arg = cmd.split_whitespace().nth(2).unwrap_or("");
            // "\0user\0pw" base64 = AHVzZXIAcHc=
            if arg == "AHVzZXIAcHc=" {
                authed = true;
                script.lock().unwrap().logins += 1;
                say("235 2.7.0 ok");
            } else {
                let _ = str::from_utf8(b"");
                say("535 5.7.8 authentication failed");
            }
        } else if upper.starts_with("MAIL FROM") {
            script.lock().unwrap().mails += 1;
            rcpt_ok = false;
            if !authed {
                say("530 auth first")
            } else if upper.contains("BLOCKED@") {
                say("553 5.7.1 sender address rejected: not owned by user")
            } else {
                say("250 ok")
            }
        } else if upper.starts_with("RCPT TO") {
            rcpt_ok = false;
            rcpt = cmd
                .split_once('<')
                .map(|(_, a)| a.trim_end_matches('>').to_string())
                .unwrap_or_default();
            let mut sc = script.lock().unwrap();
            sc.rcpts.push(rcpt.clone());
            sc.rcpt_times.push(std::time::Instant::now());
            if rcpt.starts_with("temp") {
                let n = sc.temp_fails.entry(rcpt.clone()).or_insert(0);
                if *n == 0 {
                    *n += 1;
                    drop(sc);
                    say("450 4.2.0 greylisted, try again later");
                    continue;
                }
            }
            drop(sc);
            if rcpt.starts_with("perm") {
                say("550 5.1.1 <perm> mailbox unavailable: no such user here");
            } else {
                rcpt_ok = true;
                say("250 ok");
            }
        } else if upper == "DATA" {
            if !rcpt_ok {
                say("554 5.5.1 no valid recipients");
                continue;
            }
            say("354 go ahead");
            let mut body = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                if line == ".\r\n" {
                    break;
                }
                body.push_str(&line);
            }
            if rcpt.starts_with("data5") {
                say("554 5.7.1 message content rejected: looks like spam");
            } else {
                let mut sc = script.lock().unwrap();
                sc.accepted.push(rcpt.clone());
                timed_out = sc.idle_timeout_after_message;
                drop(sc);
                say("250 2.0.0 queued as FAKE1");
            }
        } else if upper == "RSET" || upper == "NOOP" {
            if upper == "RSET" {
                rcpt_ok = false;
                script.lock().unwrap().resets += 1;
            }
            say("250 ok");
        } else if upper == "QUIT" {
            say("221 bye");
            return;
        } else {
            say("502 unknown");
        }
    }
}

fn fake_config(port: u16, extra: &str) -> String {
    format!(
        "[sending]\nrequire_approval = false\nretry_base = 1\nmax_attempts = 3\n\n\
         [mailboxes.fake]\nfrom = \"Fay Fake <fay@sender.test>\"\nsmtp_host = \"127.0.0.1\"\n\
         smtp_port = {port}\nsmtp_security = \"plain\"\nsmtp_username = \"user\"\n\
         password_cmd = \"echo pw\"\ndelay_min = 0\ndelay_max = 0\n{extra}"
    )
}

#[test]
fn four_xx_is_retried_five_xx_is_error_and_refused_rows_never_reach_the_server() {
    retry_error_and_refusals(true);
}

#[test]
fn the_same_without_pipelining() {
    retry_error_and_refusals(false);
}

fn retry_error_and_refusals(pipelining: bool) {
    let (port, script) = fake_smtp(pipelining);
    let emails: Vec<String> = [
        "ok1@x.test",
        "temp@x.test",
        "perm@x.test",
        "data5@x.test",
        "later-suppressed@x.test",
        "later-not-found@x.test",
        "later-changed@x.test",
        "dup@x.test",
        "DUP@x.test",
        "ok2@x.test",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let c = Campaign::new("fake", &emails, "Hello {firstname}");
    let store = c.store();
    // Suppressed after the build: caught by the check right before sending.
    suppressions::add(
        store.conn(),
        "later-suppressed@x.test",
        "unsubscribed",
        None,
        0,
    )
    .unwrap();
    // Verified after the build: the mailbox does not exist.
    hailer::store::verifications::upsert(
        store.conn(),
        &hailer::store::verifications::VerificationRow {
            email: "later-not-found@x.test".into(),
            status: "MAILBOX_NOT_FOUND".into(),
            mx: Some("mx.x.test".into()),
            code: Some(550),
            enhanced: Some("5.1.1".into()),
            detail: "User unknown".into(),
            checked_at: 0,
        },
    )
    .unwrap();
    // The prospect's address changed after the build and approval (as accepting another
    // suggestion does), behind the Suggestions tab's back: the row is for an old address.
    store
        .conn()
        .execute(
            "UPDATE prospects SET email = 'moved@x.test' WHERE email = 'later-changed@x.test'",
            [],
        )
        .unwrap();
    // A row edited by hand with a placeholder left in it.
    let ok2 = c
        .rows()
        .into_iter()
        .find(|r| r.email.as_deref() == Some("ok2@x.test"))
        .unwrap();
    // Written past the edit's own check (which would make it ERROR at once), so the
    // sender's last check is what stops it.
    store
        .conn()
        .execute(
            "UPDATE outbox SET subject = 'Hi {firstname}', body = 'Body', edited = 1 WHERE id = ?1",
            [ok2.id],
        )
        .unwrap();
    drop(store);
    let cfg = c.write_config(&fake_config(port, ""));

    let started = Instant::now();
    let (code, out, err) = c.send(&cfg, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let rows: HashMap<String, outbox::OutboxRow> = c
        .rows()
        .into_iter()
        .map(|r| (r.email.clone().unwrap_or_default(), r))
        .collect();
    let st = |e: &str| rows[e].status;
    assert_eq!(st("ok1@x.test"), Status::Sent);
    assert_eq!(
        st("temp@x.test"),
        Status::Sent,
        "retried within the run: {out}"
    );
    assert_eq!(rows["temp@x.test"].attempts, 2);
    // retry_base = 1 s (timestamps have whole-second resolution, so the wait is 0–2 s).
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(st("perm@x.test"), Status::Error);
    let perm = rows["perm@x.test"].reason.clone().unwrap();
    assert!(
        perm.contains("550") && perm.contains("no such user here"),
        "{perm}"
    );
    assert_eq!(st("data5@x.test"), Status::Error);
    assert!(
        rows["data5@x.test"]
            .reason
            .as_deref()
            .unwrap()
            .contains("looks like spam")
    );
    assert_eq!(st("later-suppressed@x.test"), Status::Error);
    assert!(
        rows["later-suppressed@x.test"]
            .reason
            .as_deref()
            .unwrap()
            .contains("suppressed")
    );
    assert_eq!(st("later-not-found@x.test"), Status::Error);
    let reason = rows["later-not-found@x.test"].reason.clone().unwrap();
    assert!(
        reason.contains("blocked by verification: MAILBOX_NOT_FOUND"),
        "{reason}"
    );
    assert_eq!(st("later-changed@x.test"), Status::Error);
    let reason = rows["later-changed@x.test"].reason.clone().unwrap();
    assert_eq!(
        reason,
        "address changed: built for later-changed@x.test, the prospect's address is now \
         moved@x.test (rebuild the outbox)"
    );
    assert_eq!(st("ok2@x.test"), Status::Error);
    assert!(
        rows["ok2@x.test"]
            .reason
            .as_deref()
            .unwrap()
            .contains("{firstname}")
    );
    let dup = rows.get("dup@x.test").unwrap();
    assert_eq!(dup.status, Status::Sent);
    assert!(out.contains("perm@x.test ERROR"), "{out}");

    let sc = script.lock().unwrap();
    for never in [
        "later-suppressed@x.test",
        "later-not-found@x.test",
        "later-changed@x.test",
        "moved@x.test",
        "ok2@x.test",
    ] {
        assert!(
            !sc.rcpts.iter().any(|r| r == never),
            "{never} reached the server"
        );
    }
    assert_eq!(
        sc.rcpts
            .iter()
            .filter(|r| r.eq_ignore_ascii_case("dup@x.test"))
            .count(),
        1,
        "duplicate address sent once"
    );
    assert_eq!(sc.rcpts.iter().filter(|r| *r == "temp@x.test").count(), 2);
    assert_eq!(
        sc.accepted.iter().filter(|r| *r == "temp@x.test").count(),
        1
    );
    assert_eq!(
        c.day_counter("fake"),
        3,
        "refusals give their capacity back"
    );
    // The 450, the 550 and the 554 after DATA each ended with RSET on the same session: one
    // login for the whole run, not one more per refused message.
    assert_eq!(sc.resets, 3, "{out}");
    assert_eq!(sc.logins, 1, "{out}");
}

/// A kept connection the server closed with 421 (its idle timeout, shorter than the delay
/// between two sends) is a lost connection, not a refusal of the message: hailer reconnects
/// and sends at once, and no row spends an attempt or waits as RETRY.
#[test]
fn a_421_on_a_kept_connection_reconnects_instead_of_retrying() {
    for pipelining in [true, false] {
        let (port, script) = fake_smtp(pipelining);
        script.lock().unwrap().idle_timeout_after_message = true;
        let emails: Vec<String> = (0..3).map(|i| format!("idle{i}@x.test")).collect();
        let c = Campaign::new("idle421", &emails, "Hi");
        let cfg = c.write_config(&fake_config(port, ""));
        let (code, out, err) = c.send(&cfg, &[]);
        assert_eq!(code, 0, "{out}\n{err}");
        for row in c.rows() {
            assert_eq!(row.status, Status::Sent, "{:?} {out}", row.reason);
            assert_eq!(row.attempts, 1, "{:?}: {out}", row.email);
        }
        let sc = script.lock().unwrap();
        assert_eq!(sc.accepted, emails, "{out}");
        assert_eq!(sc.logins, 3, "one fresh session per message: {out}");
    }
}

/// A Sent copy kept for a mailbox since removed from the config has no folder to go to: the
/// next run names the mailbox once and goes on (exit 0), later runs say nothing more, and the
/// copy is left as it is (appended if the mailbox comes back).
#[test]
fn a_kept_copy_of_a_mailbox_gone_from_the_config_is_reported_once_and_left() {
    let (port, _script) = fake_smtp(true);
    let emails: Vec<String> = (0..3).map(|i| format!("gone{i}@x.test")).collect();
    let c = Campaign::new("gonebox", &emails, "Hi");
    let cfg = c.write_config(&fake_config(port, ""));
    let (code, out, err) = c.send(&cfg, &["--limit", "1"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let sent = c
        .rows()
        .into_iter()
        .find(|r| r.status == Status::Sent)
        .unwrap();
    c.store()
        .conn()
        .execute(
            "INSERT INTO sent_copies (outbox_id, mailbox, raw) VALUES (?1, 'removed', 'x')",
            [sent.id],
        )
        .unwrap();
    let said = "mailbox removed is no longer in the config: 1 copy it kept for its Sent folder \
                is left unmade";
    let (code, out, err) = c.send(&cfg, &["--limit", "1"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(
        format!("{out}\n{err}").matches(said).count(),
        1,
        "{out}\n{err}"
    );
    let (code, out, err) = c.send(&cfg, &["--limit", "1"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!format!("{out}\n{err}").contains("removed"), "{out}\n{err}");
    let kept: i64 = c
        .store()
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM sent_copies WHERE mailbox = 'removed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 1, "left as it is");
    assert_eq!(c.count(Status::Sent), 3);
}

/// IMAP that cannot be set up (its password command fails the second time it runs) does not
/// stop the mailbox, but the run says there will be no Sent copies.
#[test]
fn an_imap_set_up_failure_is_said_and_sending_goes_on() {
    let (port, _script) = fake_smtp(true);
    let emails = ["imapless@x.test".to_string()];
    let c = Campaign::new("imapfail", &emails, "Hi");
    let once = c.data().join("password-once");
    std::fs::write(&once, "").unwrap();
    let cfg = c.write_config(
        &fake_config(port, "imap_host = \"127.0.0.1\"\nimap_port = 1\n").replace(
            "password_cmd = \"echo pw\"",
            &format!("password_cmd = \"rm {} && echo pw\"", once.display()),
        ),
    );
    let (code, out, err) = c.send(&cfg, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let all = format!("{out}\n{err}");
    assert!(
        all.contains("mailbox fake: IMAP not usable")
            && all.contains("no copies in the Sent folder"),
        "{all}"
    );
    assert_eq!(c.rows()[0].status, Status::Sent, "{all}");
}

#[test]
fn a_refused_sender_stops_its_mailbox_and_leaves_the_rows_ready() {
    for pipelining in [true, false] {
        let (port, script) = fake_smtp(pipelining);
        let emails: Vec<String> = (0..4).map(|i| format!("r{i}@x.test")).collect();
        let c = Campaign::new("sender5", &emails, "Hi");
        let cfg = c
            .write_config(&fake_config(port, "").replace("fay@sender.test", "blocked@sender.test"));
        let (_code, out, err) = c.send(&cfg, &[]);
        let all = format!("{out}\n{err}");
        assert!(
            all.contains("refuses this sender") && all.contains("not owned by user"),
            "{all}"
        );
        // The 553 is about the mailbox, not the recipient: no row is ERROR, none counted.
        for row in c.rows() {
            assert_eq!(row.status, Status::Ready, "{:?} {all}", row.reason);
            assert_eq!(row.attempts, 0);
        }
        assert_eq!(c.day_counter("fake"), 0);
        assert_eq!(
            script.lock().unwrap().mails,
            1,
            "the mailbox stopped at its first refusal"
        );
    }
}

/// Refusals at the end of DATA auto-pause the only mailbox partway through the run: the run
/// still reports what it did (the refused rows, the pause), and the rest waits READY. It
/// exits 1, as the next run does: it used to exit 0, read by a script as a finished run.
#[test]
fn a_mailbox_auto_paused_mid_run_keeps_the_runs_summary() {
    let (port, script) = fake_smtp(true);
    let emails: Vec<String> = (0..5).map(|i| format!("data5-{i}@x.test")).collect();
    let c = Campaign::new("autopause", &emails, "Hi");
    let cfg = c.write_config(&fake_config(port, ""));
    let (code, out, err) = c.send(&cfg, &["--json"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("no usable mailbox left"), "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["errors"], 3, "{out}");
    assert_eq!(json["sent"], 0, "{out}");
    assert_eq!(json["problems"].as_array().unwrap().len(), 3, "{out}");
    assert_eq!(json["mailboxes"][0]["paused"], true, "{out}");
    assert!(
        json["stopped"]
            .as_str()
            .unwrap()
            .contains("no usable mailbox left"),
        "{out}"
    );
    assert_eq!(c.count(Status::Error), 3);
    assert_eq!(c.count(Status::Ready), 2, "the rest waits");
    // The third refusal's line comes before the pause it caused.
    let third = err
        .find(&format!("{}: ERROR", emails[2]))
        .unwrap_or_else(|| panic!("{err}"));
    let pause = err.find("auto-paused").unwrap_or_else(|| panic!("{err}"));
    assert!(third < pause, "{err}");
    assert_eq!(script.lock().unwrap().mails, 3, "nothing after the pause");
    // The summary names its end as a run refused at the start does: `exit_code`, and
    // `error` (as `stopped` says it) when that is not 0.
    assert_eq!(json["exit_code"], 1, "{out}");
    assert_eq!(json["error"], json["stopped"], "{out}");
    // A run with the mailbox already paused has nothing to report: that is an error.
    let (code, _, err) = c.send(&cfg, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no usable mailbox"), "{err}");
    let (code, out, _) = c.send(&cfg, &["--json"]);
    let refused: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((code, refused["exit_code"].as_u64()), (1, Some(1)), "{out}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("no usable mailbox"),
        "{out}"
    );
    assert!(
        refused["mailboxes"][0]["paused"].as_bool().unwrap(),
        "{out}"
    );
}

/// A 4xx whose retry falls due beyond the run's wait: the summary says how many rows wait and
/// when the next is due, so the user knows when to run again.
#[test]
fn a_retry_due_later_is_counted_and_dated_in_the_summary() {
    let (port, _script) = fake_smtp(true);
    let emails = ["temp-a@x.test", "ok-b@x.test"].map(String::from);
    let c = Campaign::new("retrylater", &emails, "Hi");
    let cfg = c.write_config(&fake_config(port, "").replace("retry_base = 1", "retry_base = 7200"));
    let (code, out, err) = c.send(&cfg, &["--json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let stopped = json["stopped"].as_str().unwrap();
    assert!(
        stopped.starts_with("outbox done; 1 row(s) wait for a retry, the next due 20"),
        "{stopped}"
    );
    assert!(stopped.contains(" UTC"), "{stopped}");
    assert_eq!(c.count(Status::Retry), 1);
}

#[test]
fn the_delay_between_sends_follows_refusals_too() {
    let (port, script) = fake_smtp(true);
    let emails = ["perm-a@x.test", "temp-b@x.test", "ok-c@x.test"].map(String::from);
    let c = Campaign::new("delay1", &emails, "Hi");
    let cfg = c.write_config(
        &fake_config(port, "")
            .replace("delay_min = 0", "delay_min = 1")
            .replace("delay_max = 0", "delay_max = 1")
            .replace("max_attempts = 3", "max_attempts = 1"),
    );
    let (code, out, err) = c.send(&cfg, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let sc = script.lock().unwrap();
    assert_eq!(sc.rcpts, emails, "{out}");
    // A 550 and a 450 are transactions the server saw: each is followed by the same pause
    // as a delivered message (delay_min = delay_max = 1 s).
    for pair in sc.rcpt_times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= std::time::Duration::from_millis(950),
            "only {gap:?} between two RCPTs: {out}"
        );
    }
}

/// The delay between two sends holds across runs: a second run started right after the
/// first (cron, S pressed again) waits for the rest of it before its first message.
#[test]
fn the_delay_between_sends_holds_across_runs() {
    let (port, script) = fake_smtp(true);
    let emails = ["run-a@x.test", "run-b@x.test"].map(String::from);
    let c = Campaign::new("delay2", &emails, "Hi");
    let cfg = c.write_config(
        &fake_config(port, "")
            .replace("delay_min = 0", "delay_min = 3")
            .replace("delay_max = 0", "delay_max = 3"),
    );
    for _ in 0..2 {
        let (code, out, err) = c.send(&cfg, &["--limit", "1"]);
        assert_eq!(code, 0, "{out}\n{err}");
    }
    let sc = script.lock().unwrap();
    assert_eq!(sc.rcpts, emails);
    // Sent times are whole seconds: the second run waits at least 3 - 1 s.
    let gap = sc.rcpt_times[1] - sc.rcpt_times[0];
    assert!(
        gap >= std::time::Duration::from_millis(1950),
        "only {gap:?} between the two runs' messages"
    );
}

#[test]
fn two_rows_to_one_address_send_once_across_two_mailboxes() {
    let (port, script) = fake_smtp(true);
    let emails: Vec<String> = (0..8).map(|i| format!("r{i}@x.test")).collect();
    let c = Campaign::new("dup2", &emails, "Hi");
    // The build refuses duplicates; two prospects can still end up sharing an address after
    // it (written past the build here). Two such rows, picked up by the two mailboxes at
    // the same time.
    c.store()
        .conn()
        .execute_batch(
            "UPDATE outbox SET email = 'r0@x.test' WHERE email = 'r1@x.test';
             UPDATE prospects SET email = 'r0@x.test' WHERE email = 'r1@x.test';",
        )
        .unwrap();
    let second = fake_config(port, "")
        .split_once("[mailboxes.fake]")
        .unwrap()
        .1
        .replace("fay@", "fay2@");
    let cfg = c.write_config(&format!(
        "{}\n[mailboxes.fake2]{second}",
        fake_config(port, "")
    ));
    let (code, out, err) = c.send(&cfg, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let sc = script.lock().unwrap();
    let to_r0 = sc.accepted.iter().filter(|a| *a == "r0@x.test").count();
    assert_eq!(to_r0, 1, "{:?}\n{out}", sc.accepted);
    assert_eq!(sc.accepted.len(), 7, "{out}");
    let rows: Vec<_> = c
        .rows()
        .into_iter()
        .filter(|r| r.email.as_deref() == Some("r0@x.test"))
        .collect();
    let statuses: Vec<Status> = rows.iter().map(|r| r.status).collect();
    assert!(
        statuses.contains(&Status::Sent) && statuses.contains(&Status::Error),
        "{statuses:?}"
    );
    let refused = rows.iter().find(|r| r.status == Status::Error).unwrap();
    assert!(
        refused
            .reason
            .as_deref()
            .unwrap()
            .contains("duplicate address"),
        "{:?}",
        refused.reason
    );
}

/// The other order: the first row to an address is already prepared (checked, rendered) as
/// its lane's next message when another lane claims the second row to that address. The
/// check made at claim time refuses the prepared one.
///
/// Forcing that order: lane "fake" has a huge cap and "fake2" a cap of 1, so the weighted
/// pick gives "fake" the look-ahead slot (the row after its first) with odds of a million to
/// one, and "fake2" then takes the row after that.
#[test]
fn a_prepared_row_is_refused_when_another_lane_claims_its_address_first() {
    let (port, script) = fake_smtp(true);
    let emails: Vec<String> = (0..6).map(|i| format!("c{i}@x.test")).collect();
    let c = Campaign::new("dupclaim", &emails, "Hi");
    c.store()
        .conn()
        .execute_batch(
            "UPDATE outbox SET email = 'c1@x.test' WHERE email = 'c2@x.test';
             UPDATE prospects SET email = 'c1@x.test' WHERE email = 'c2@x.test';",
        )
        .unwrap();
    let ids: Vec<i64> = c.rows().iter().map(|r| r.id).collect();
    let second = fake_config(port, "daily_cap = 1\n")
        .split_once("[mailboxes.fake]")
        .unwrap()
        .1
        .replace("fay@", "fay2@");
    let cfg = c.write_config(&format!(
        "{}\n[mailboxes.fake2]{second}",
        fake_config(port, "daily_cap = 1000000\n")
    ));
    let (code, out, err) = c.send(&cfg, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let sc = script.lock().unwrap();
    let to_c1 = sc.accepted.iter().filter(|a| *a == "c1@x.test").count();
    assert_eq!(to_c1, 1, "{:?}\n{out}", sc.accepted);
    assert_eq!(sc.accepted.len(), 5, "{out}");
    let rows = c.rows();
    let by_id = |id: i64| rows.iter().find(|r| r.id == id).unwrap();
    // Row 2 (fake2's only message) went out; row 1, prepared earlier by "fake", was refused
    // at its claim, naming the row that took the address.
    assert_eq!(by_id(ids[2]).status, Status::Sent, "{out}");
    assert_eq!(by_id(ids[2]).mailbox.as_deref(), Some("fake2"), "{out}");
    let refused = by_id(ids[1]);
    assert_eq!(refused.status, Status::Error, "{out}");
    let reason = refused.reason.as_deref().unwrap();
    assert!(
        reason.contains("duplicate address") && reason.contains(&format!("row #{}", ids[2])),
        "{reason}"
    );
}

/// Ctrl-C (SIGINT) stops a run after the message in flight; the summary says what went out
/// and the exit code (130) tells a script the outbox was not gone through.
#[test]
fn a_send_stopped_by_ctrl_c_exits_130_with_its_summary() {
    let (port, script) = fake_smtp(true);
    let emails: Vec<String> = (0..3).map(|i| format!("int{i}@x.test")).collect();
    let c = Campaign::new("interrupt", &emails, "Hi");
    let cfg = c.write_config(
        &fake_config(port, "")
            .replace("delay_min = 0", "delay_min = 30")
            .replace("delay_max = 0", "delay_max = 30"),
    );
    let child = c
        .hailer(&cfg)
        .arg("send")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while script.lock().unwrap().accepted.is_empty() {
        assert!(start.elapsed() < Duration::from_secs(20), "nothing sent");
        std::thread::sleep(Duration::from_millis(50));
    }
    common::signal(child.id(), "INT");
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{stdout}");
    assert!(
        stdout.contains("1 SENT") && stdout.contains("cancelled"),
        "{stdout}"
    );
    assert_eq!(c.count(Status::Sent), 1);
    assert_eq!(
        c.count(Status::Ready),
        2,
        "the rest stays READY for the next run"
    );
    // In JSON: the summary, with the exit code and why it stopped, named as for a run
    // refused at the start.
    let child = c
        .hailer(&cfg)
        .args(["send", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The delay between sends holds across runs: this one waits out the first's 30 s.
    std::thread::sleep(Duration::from_millis(1500));
    common::signal(child.id(), "INT");
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{stdout}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["exit_code"], 130, "{stdout}");
    assert_eq!(json["error"], "cancelled", "{stdout}");
    assert_eq!(json["stopped"], "cancelled", "{stdout}");
}

#[test]
fn four_xx_until_max_attempts_becomes_error() {
    let (port, _script) = fake_smtp(false);
    let c = Campaign::new("fake2", &["temp-a@x.test".to_string()], "Hi");
    // retry_base 1 s, max_attempts 1: the first 450 is final.
    let cfg =
        c.write_config(&fake_config(port, "").replace("max_attempts = 3", "max_attempts = 1"));
    let (code, out, _) = c.send(&cfg, &[]);
    assert_eq!(code, 0);
    let row = &c.rows()[0];
    assert_eq!(row.status, Status::Error, "{out}");
    assert!(
        row.reason
            .as_deref()
            .unwrap()
            .contains("gave up after 1 attempts")
    );
    assert!(row.reason.as_deref().unwrap().contains("greylisted"));
}

#[test]
fn dry_run_writes_eml_files_and_sends_nothing() {
    let (port, script) = fake_smtp(false);
    let emails: Vec<String> = (0..3).map(|i| format!("d{i}@x.test")).collect();
    let c = Campaign::new("dry", &emails, MARKDOWN);
    let cfg = c.write_config(&fake_config(port, ""));
    // A file an earlier dry run wrote goes; anything else in the folder stays.
    let dir = c.data().join("dry-run");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("000999.eml"), "old").unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    // The first row is refused: as in a real run, --limit counts messages that would go.
    hailer::store::suppressions::add(c.store().conn(), "d0@x.test", "manual", None, 1).unwrap();
    let (code, out, err) = c.send(&cfg, &["--dry-run", "--limit", "2"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("2 messages written"), "{out}");
    assert!(out.contains("not applied"), "{out}");
    assert!(dir.join("notes.txt").exists());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    let written: Vec<String> = files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(written[0].contains("d1@x.test") && written[1].contains("d2@x.test"));
    let raw = std::fs::read(&files[0]).unwrap();
    assert!(
        header(&raw, "Message-ID")
            .unwrap()
            .ends_with("@sender.test>")
    );
    assert!(script.lock().unwrap().rcpts.is_empty(), "nothing sent");
    assert_eq!(c.count(Status::Ready), 3, "no row changed");
    // What the TUI's confirmation shows.
    let config = hailer::config::Config::from_file(&cfg).unwrap();
    let plan = hailer::engine::send::plan(&config, &c.data(), None).unwrap();
    // The suppressed row would be refused: not a message to send, but said.
    assert_eq!((plan.eligible, plan.refused), (2, 1));
    assert_eq!(plan.remaining_today, 50);
    assert_eq!(plan.mailboxes[0].name, "fake");
    // What the Settings tab shows of the mailbox's day.
    let day = hailer::engine::send::mailbox_capacity(&config, &c.data()).unwrap();
    assert_eq!(
        (day[0].name.as_str(), day[0].sent_today, day[0].cap_today),
        ("fake", 0, 50)
    );
    assert_eq!(c.day_counter("fake"), 0);
}

#[test]
fn rows_left_sending_become_uncertain_and_are_never_resent() {
    let (port, script) = fake_smtp(false);
    let c = Campaign::new(
        "unc",
        &["u1@x.test".to_string(), "u2@x.test".to_string()],
        "Hi",
    );
    let store = c.store();
    let id = c.rows()[0].id;
    store
        .conn()
        .execute(
            "UPDATE outbox SET status = 'SENDING', mailbox = 'fake', header_message_id = 'x@y' WHERE id = ?1",
            [id],
        )
        .unwrap();
    drop(store);
    let cfg = c.write_config(&fake_config(port, ""));
    let (code, out, _) = c.send(&cfg, &[]);
    assert_eq!(code, 0);
    assert!(out.contains("became UNCERTAIN"), "{out}");
    let rows = c.rows();
    assert_eq!(rows[0].status, Status::Uncertain);
    assert_eq!(rows[1].status, Status::Sent);
    let (_, out, _) = c.send(&cfg, &[]);
    assert!(out.contains("0 SENT"), "{out}");
    assert_eq!(script.lock().unwrap().rcpts, vec!["u2@x.test".to_string()]);
}

#[test]
fn uncertain_rows_are_resolved_from_the_sent_folder() {
    let Some(rig) = Rig::get() else { return };
    let tag = unique("u");
    let emails: Vec<String> = (0..2).map(|i| format!("{tag}-{i}@catchall.test")).collect();
    let c = Campaign::new("resolve", &emails, "Hi {firstname}");
    let cfg = c.write_config(&rig_config(
        &rig,
        "require_approval = false",
        &[("claire", "daily_cap = 0")],
    ));
    let (code, out, err) = c.send(&cfg, &["--limit", "1"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let sent = c
        .rows()
        .into_iter()
        .find(|r| r.status == Status::Sent)
        .unwrap();
    assert_eq!(sent.mailbox.as_deref(), Some("sender"));
    wait_tagged(&rig, "sender@sender.test", "Sent", &c.tag, 1);
    let other = c.rows().into_iter().find(|r| r.id != sent.id).unwrap();
    // As if the process died twice: once after its copy reached the Sent folder, once
    // after the message was handed over but before any copy was made.
    let store = c.store();
    store
        .conn()
        .execute(
            "UPDATE outbox SET status = 'SENDING' WHERE id = ?1",
            [sent.id],
        )
        .unwrap();
    store
        .conn()
        .execute(
            "UPDATE outbox SET status = 'SENDING', mailbox = 'sender', header_message_id = ?2 WHERE id = ?1",
            rusqlite::params![other.id, format!("{}.feedc0de@sender.test", other.id)],
        )
        .unwrap();
    drop(store);
    let (code, out, err) = c.send(&cfg, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("2 rows interrupted"), "{out}");
    assert!(out.contains("1 found in Sent folders"), "{out}");
    // The headline counts this run's outcomes; the row left waiting is said apart.
    assert!(
        out.contains("1 UNCERTAIN row waits for your decision"),
        "{out}"
    );
    let rows: HashMap<i64, outbox::OutboxRow> = c.rows().into_iter().map(|r| (r.id, r)).collect();
    assert_eq!(rows[&sent.id].status, Status::Sent);
    assert!(
        rows[&sent.id]
            .smtp_reply
            .as_deref()
            .unwrap()
            .contains("Sent folder")
    );
    assert_eq!(rows[&other.id].status, Status::Uncertain, "never resent");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        fetch_tagged(&rig, "catchall@catchall.test", "INBOX", &c.tag).len(),
        1
    );
}

/// A signed message verifies as a receiver checks it, against the rig's public key (the one
/// its DNS publishes), plain text alone and text + HTML: a signature over headers that are
/// not the ones sent (the MIME part's Content-Type) fails DKIM, then DMARC, everywhere.
#[test]
fn dkim_signature_verifies_as_delivered() {
    let Some(rig) = Rig::get() else { return };
    let public = std::fs::read_to_string(rig.var("RIG_DKIM_PUB_FILE")).unwrap();
    for html in ["html = false", "html = true"] {
        let tag = unique("s");
        let c = Campaign::new(
            "dkim",
            &[format!("{tag}-0@catchall.test")],
            "Signed {firstname}",
        );
        let cfg = c.write_config(&rig_config(
            &rig,
            &format!("require_approval = false\n{html}"),
            &[(
                "sender",
                &format!(
                    "dkim_selector = \"{}\"\ndkim_key_file = \"{}\"",
                    rig.var("RIG_DKIM_SELECTOR"),
                    rig.var("RIG_DKIM_KEY_FILE")
                ),
            )],
        ));
        let (code, out, err) = c.send(&cfg, &["--mailbox", "sender"]);
        assert_eq!(code, 0, "{out}\n{err}");
        let got = wait_tagged(&rig, "catchall@catchall.test", "INBOX", &c.tag, 1);
        assert_eq!(got.len(), 1);
        let sig = header(&got[0], "DKIM-Signature").expect("DKIM-Signature header");
        assert!(sig.contains("d=sender.test"), "{sig}");
        assert!(
            sig.contains(&format!("s={}", rig.var("RIG_DKIM_SELECTOR"))),
            "{sig}"
        );
        // The one-click headers are signed (RFC 8058 asks for it), so is Message-ID.
        assert!(sig.contains("list-unsubscribe"), "{sig}");
        assert!(sig.contains("message-id"), "{sig}");
        if let Err(e) = common::dkim::verify(&got[0], &public) {
            panic!("{html}: {e}\n{}", String::from_utf8_lossy(&got[0]));
        }
        // The copy in Sent is the same message: it verifies too.
        let sent = wait_tagged(&rig, "sender@sender.test", "Sent", &c.tag, 1);
        common::dkim::verify(&sent[0], &public).unwrap();
    }
}

#[test]
fn a_bad_dkim_key_fails_the_mailbox_not_the_row() {
    let (port, script) = fake_smtp(true);
    let c = Campaign::new("badkey", &["k1@x.test".to_string()], "Hi");
    let cfg = c.write_config(&fake_config(
        port,
        "dkim_selector = \"s1\"\ndkim_key_file = \"/nonexistent/dkim.key\"\n",
    ));
    let (code, out, err) = c.send(&cfg, &[]);
    assert_ne!(code, 0, "{out}\n{err}");
    assert!(
        err.contains("no usable mailbox") && err.contains("DKIM key"),
        "{err}"
    );
    assert_eq!(c.count(Status::Ready), 1, "the row is untouched");
    assert!(script.lock().unwrap().rcpts.is_empty());
}

/// The TUI's `u` on an UNCERTAIN row: "it went out" marks it SENT and nothing is sent;
/// "requeue" puts it back to READY unapproved, so it goes out only after a new approval.
#[test]
fn uncertain_rows_decided_by_the_user_are_marked_sent_or_requeued_for_approval() {
    use hailer::store::sending;
    let (port, script) = fake_smtp(true);
    let emails: Vec<String> = ["q1@x.test", "q2@x.test", "q3@x.test"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let c = Campaign::new("decide", &emails, "Hi");
    let ids: Vec<i64> = c.rows().iter().map(|r| r.id).collect();
    let store = c.store();
    outbox::set_approved(store.conn(), &ids, true, 0).unwrap();
    // q1 and q2 were in their SMTP transaction when an earlier run died.
    for id in &ids[..2] {
        store
            .conn()
            .execute(
                "UPDATE outbox SET status = 'SENDING', mailbox = 'fake',
                     header_message_id = ?1 || '.x@y' WHERE id = ?1",
                [id],
            )
            .unwrap();
    }
    drop(store);
    let cfg = c.write_config(
        &fake_config(port, "").replace("require_approval = false", "require_approval = true"),
    );
    let (code, out, err) = c.send(&cfg, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let st = |i: usize| c.rows()[i].status;
    assert_eq!(
        (st(0), st(1), st(2)),
        (Status::Uncertain, Status::Uncertain, Status::Sent)
    );

    let store = c.store();
    // q1: the user says it went out. q2: the user requeues it.
    sending::resolve_sent(store.conn(), ids[0], "marked as sent by hand (TUI)", 1).unwrap();
    assert!(sending::requeue_uncertain(store.conn(), ids[1], 1).unwrap());
    assert!(
        !sending::requeue_uncertain(store.conn(), ids[2], 1).unwrap(),
        "a SENT row is never requeued"
    );
    let q2 = outbox::get(store.conn(), ids[1]).unwrap().unwrap();
    assert_eq!((q2.status, q2.approved), (Status::Ready, false));
    drop(store);
    assert_eq!(st(0), Status::Sent);

    let (_, out, _) = c.send(&cfg, &[]);
    assert!(out.contains("0 SENT"), "not approved yet: {out}");
    outbox::set_approved(c.store().conn(), &ids[1..2], true, 2).unwrap();
    let (_, out, _) = c.send(&cfg, &[]);
    assert!(out.contains("1 SENT"), "{out}");
    assert_eq!(st(1), Status::Sent);
    let rcpts = script.lock().unwrap().rcpts.clone();
    assert_eq!(
        rcpts,
        vec!["q3@x.test".to_string(), "q2@x.test".to_string()]
    );
}

/// The send task as the TUI runs it: pause takes effect between messages (what was in
/// flight is recorded, nothing is SENDING while paused and nothing more goes out), resume
/// goes on, cancel stops without leaving a row SENDING.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_task_pauses_between_messages_resumes_and_cancels_cleanly() {
    use hailer::engine::jobs::{JobKind, JobMsg, Supervisor};
    use hailer::engine::send::{self, SendIn};
    let (port, script) = fake_smtp(true);
    let emails: Vec<String> = (0..30).map(|i| format!("pz{i}@x.test")).collect();
    let c = Campaign::new("pause", &emails, "Hi");
    // A delay between sends (as in real use): the status a message starts with is not
    // throttled away by the one before it.
    let cfg_path = c.write_config(&fake_config(port, "").replace(
        "delay_min = 0\ndelay_max = 0",
        "delay_min = 1\ndelay_max = 1",
    ));
    let config = hailer::config::Config::from_file(&cfg_path).unwrap();
    let input = SendIn {
        config,
        data_dir: c.data(),
        dry_run: false,
        limit: None,
        mailbox: None,
    };
    let (mut sup, mut rx) = Supervisor::new(tokio_util::sync::CancellationToken::new());
    let id = sup.spawn_blocking(JobKind::Send, "send", true, move |r| {
        send::run(input, r)
            .map(|o| o.to_string())
            .map_err(|e| e.to_string())
    });
    let count = |s: Status| c.count(s);
    let mut phase = 0;
    let mut sent_when_paused = 0;
    let mut saw_paused = false;
    while let Some(msg) = rx.recv().await {
        match msg {
            JobMsg::SendStatus { status, .. } => {
                if phase == 0 && status.sent >= 2 {
                    assert_eq!(sup.toggle_pause(id), Some(true));
                    phase = 1;
                } else if phase == 1 && status.waiting == Some(send::Wait::Paused) {
                    saw_paused = true;
                    assert_eq!(count(Status::Sending), 0, "nothing SENDING while paused");
                    sent_when_paused = count(Status::Sent);
                    assert_eq!(sent_when_paused as u64, status.sent);
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                    assert_eq!(
                        count(Status::Sent),
                        sent_when_paused,
                        "nothing sent while paused"
                    );
                    assert_eq!(script.lock().unwrap().accepted.len(), sent_when_paused);
                    assert_eq!(sup.toggle_pause(id), Some(false));
                    phase = 2;
                } else if phase == 2 && status.sent > sent_when_paused as u64 {
                    assert!(sup.cancel(id));
                    phase = 3;
                }
            }
            JobMsg::Finished {
                outcome, cancelled, ..
            } => {
                assert!(cancelled, "{outcome:?}");
                break;
            }
            _ => {}
        }
    }
    assert!(saw_paused && phase == 3);
    assert_eq!(count(Status::Sending), 0, "cancel leaves no row SENDING");
    let sent = count(Status::Sent);
    assert!(sent > sent_when_paused && sent < 30, "{sent}");
    assert_eq!(count(Status::Ready), 30 - sent);
    assert_eq!(script.lock().unwrap().accepted.len(), sent);
    assert_eq!(c.day_counter("fake"), sent as i64);
}

/// While a message is in its SMTP transaction its mailbox's note says "sending": the run
/// sends a status once the message started (the last one before said "ready" or "next in
/// 0 s" under a header saying "sending now").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_in_its_smtp_transaction_says_sending() {
    use hailer::engine::jobs::{JobKind, JobMsg, Supervisor};
    use hailer::engine::send::{self, SendIn};
    let (port, _script) = fake_smtp(true);
    let emails: Vec<String> = (0..3).map(|i| format!("busy{i}@x.test")).collect();
    let c = Campaign::new("busy", &emails, "Hi");
    // A delay between sends (as in real use): the status a message starts with is not
    // throttled away by the one before it.
    let cfg_path = c.write_config(&fake_config(port, "").replace(
        "delay_min = 0\ndelay_max = 0",
        "delay_min = 1\ndelay_max = 1",
    ));
    let input = SendIn {
        config: hailer::config::Config::from_file(&cfg_path).unwrap(),
        data_dir: c.data(),
        dry_run: false,
        limit: None,
        mailbox: None,
    };
    let (mut sup, mut rx) = Supervisor::new(tokio_util::sync::CancellationToken::new());
    sup.spawn_blocking(JobKind::Send, "send", true, move |r| {
        send::run(input, r)
            .map(|o| o.to_string())
            .map_err(|e| e.to_string())
    });
    // The sent count each "sending" status was seen at: one per message.
    let mut sending_at = Vec::new();
    while let Some(msg) = rx.recv().await {
        match msg {
            JobMsg::SendStatus { status, .. } if status.mailboxes[0].state == "sending" => {
                assert_eq!(status.next_send_in, None, "{status:?}");
                sending_at.push(status.sent);
            }
            JobMsg::Finished { .. } => break,
            _ => {}
        }
    }
    sending_at.dedup();
    assert_eq!(sending_at, [0, 1, 2]);
    assert_eq!(c.count(Status::Sent), 3);
}

/// `p` on the TUI's Settings pauses a mailbox while a send runs: the run reads the pause
/// before that mailbox's next message, sends nothing more through it (what was in flight
/// is recorded), and leaves the rest READY, naming the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_paused_by_hand_mid_run_takes_nothing_more() {
    use hailer::engine::jobs::{JobKind, JobMsg, Supervisor};
    use hailer::engine::send::{self, SendIn};
    let (port, script) = fake_smtp(true);
    let emails: Vec<String> = (0..20).map(|i| format!("hp{i}@x.test")).collect();
    let c = Campaign::new("handpause", &emails, "Hi");
    let cfg_path = c.write_config(&fake_config(port, "").replace(
        "delay_min = 0\ndelay_max = 0",
        "delay_min = 1\ndelay_max = 1",
    ));
    let input = SendIn {
        config: hailer::config::Config::from_file(&cfg_path).unwrap(),
        data_dir: c.data(),
        dry_run: false,
        limit: None,
        mailbox: None,
    };
    let (mut sup, mut rx) = Supervisor::new(tokio_util::sync::CancellationToken::new());
    sup.spawn_blocking(JobKind::Send, "send", true, move |r| {
        send::run(input, r)
            .map(|o| o.to_string())
            .map_err(|e| e.to_string())
    });
    let mut sent_at_pause = None;
    let outcome = loop {
        match rx.recv().await.expect("the run ends") {
            JobMsg::SendStatus { status, .. } if sent_at_pause.is_none() && status.sent >= 2 => {
                hailer::tui::sending_jobs::set_mailbox_pause(&c.data(), "fake", true).unwrap();
                sent_at_pause = Some(status.sent as usize);
            }
            JobMsg::Finished { outcome, .. } => break outcome,
            _ => {}
        }
    };
    let at_pause = sent_at_pause.expect("paused");
    let sent = c.count(Status::Sent);
    // At most the message already in its transaction went out after the pause.
    assert!(
        sent >= at_pause && sent <= at_pause + 1,
        "{sent} vs {at_pause}"
    );
    assert_eq!(script.lock().unwrap().accepted.len(), sent);
    assert_eq!(c.count(Status::Sending), 0);
    assert_eq!(c.count(Status::Ready), 20 - sent, "the rest waits");
    let text = format!("{outcome:?}");
    assert!(text.contains("paused by hand"), "{text}");
}

/// A run that stops short (here at the mailbox's cap) ends with its last count on the
/// task's row and `hailer send`'s bar: progress is rate-limited while messages go out back to
/// back, and the Activity row said `1/10` (the CLI's bar `1/10`) while 4 went out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_by_its_cap_reports_its_last_count() {
    use hailer::engine::jobs::{JobKind, JobMsg, Supervisor};
    use hailer::engine::send::{self, SendIn};
    let (port, script) = fake_smtp(true);
    let emails: Vec<String> = (0..10).map(|i| format!("last{i}@x.test")).collect();
    let c = Campaign::new("lastcount", &emails, "Hi");
    let cfg_path = c.write_config(&fake_config(port, "daily_cap = 4\n"));
    let input = SendIn {
        config: hailer::config::Config::from_file(&cfg_path).unwrap(),
        data_dir: c.data(),
        dry_run: false,
        limit: None,
        mailbox: None,
    };
    let (mut sup, mut rx) = Supervisor::new(tokio_util::sync::CancellationToken::new());
    sup.spawn_blocking(JobKind::Send, "send", true, move |r| {
        send::run(input, r)
            .map(|o| o.to_string())
            .map_err(|e| e.to_string())
    });
    let mut last = None;
    while let Some(msg) = rx.recv().await {
        match msg {
            JobMsg::Progress {
                done, total, note, ..
            } => last = Some((done, total, note)),
            JobMsg::Finished { .. } => break,
            _ => {}
        }
    }
    assert_eq!(script.lock().unwrap().accepted.len(), 4);
    let (done, total, note) = last.expect("progress");
    assert_eq!((done, total), (4, Some(10)), "{note}");
    assert!(note.starts_with("4 sent"), "{note}");
}

/// A run stopped by a closed sending window says when it opens in the mailbox's own time zone
/// (as its summary line and Settings do) and names the mailbox.
#[test]
fn a_closed_window_is_dated_in_the_mailboxs_time_zone() {
    use chrono::Datelike;
    let (port, script) = fake_smtp(true);
    let emails = ["win-a@x.test".to_string()];
    let c = Campaign::new("window", &emails, "Hi");
    // A day two days from today in Paris: closed now whatever the hour.
    let paris = chrono::Utc::now().with_timezone(&chrono_tz::Europe::Paris);
    let day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        [((paris.weekday().num_days_from_monday() + 2) % 7) as usize];
    let cfg = c.write_config(&fake_config(
        port,
        &format!("window = \"{day} 09:00-10:00\"\ntimezone = \"Europe/Paris\"\n"),
    ));
    let (code, out, err) = c.send(&cfg, &["--json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let stopped = json["stopped"].as_str().unwrap();
    assert!(
        stopped.starts_with("sending window closed; next opening 20"),
        "{stopped}"
    );
    assert!(
        stopped.contains(" 09:00 CET (fake)") || stopped.contains(" 09:00 CEST (fake)"),
        "{stopped}"
    );
    assert!(script.lock().unwrap().accepted.is_empty());
}
