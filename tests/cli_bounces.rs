//! `hailer bounces parse PATH…` as the user sees it.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn hailer(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("hailer").unwrap();
    cmd.current_dir(dir)
        .env_remove("HAILER_CONFIG")
        .env_remove("HAILER_DATA_DIR");
    cmd
}

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

#[test]
fn a_directory_of_rig_dsns_prints_one_csv_line_per_failed_recipient() {
    let dir = tempfile::tempdir().unwrap();
    // Files other than *.eml in the directory are ignored.
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    for f in [
        "dsn-unknown-user.eml",
        "dsn-delayed-warning.eml",
        "dsn-relay-denied.eml",
    ] {
        std::fs::copy(data("rig-dsn").join(f), input.join(f)).unwrap();
    }
    std::fs::write(
        input.join("notes.txt"),
        "Final-Recipient: rfc822; x@y.test\n",
    )
    .unwrap();
    let out = hailer(dir.path())
        .args(["bounces", "parse", "in"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "in: 1 file(s) passed over, not *.eml",
        ))
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        vec![
            "file,recipient,status,reply_code,reason,hard,action,final_recipient",
            "in/dsn-delayed-warning.eml,someone@deadmx.test,4.4.1,,expired,false,delayed,someone@deadmx.test",
            "in/dsn-relay-denied.eml,someone@nomx.test,5.7.1,554,norelaying,false,failed,someone@nomx.test",
            "in/dsn-unknown-user.eml,nobody@acme.test,5.1.1,550,userunknown,true,failed,nobody@acme.test",
        ]
    );
    // No config, no data directory, no database.
    assert!(!dir.path().join("data").exists());

    // A Maildir folder: its messages (cur/ and new/) have no extension and are all read.
    let maildir = dir.path().join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    std::fs::copy(
        data("rig-dsn").join("dsn-unknown-user.eml"),
        maildir.join("cur/1796584331.M1P1.vm,S=2524:2,S"),
    )
    .unwrap();
    std::fs::copy(
        data("rig-dsn").join("dsn-relay-denied.eml"),
        maildir.join("new/1796584332.M2P2.vm"),
    )
    .unwrap();
    hailer(dir.path())
        .args(["bounces", "parse", "Maildir"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            ",nobody@acme.test,5.1.1,550,userunknown,true",
        ))
        .stdout(predicate::str::contains(
            ",someone@nomx.test,5.7.1,554,norelaying,false",
        ))
        .stderr("");
}

/// A forwarded address: the row names the address hailer wrote to (and suppresses, as
/// `bounces sync` does), and the address the forward failed at in `final_recipient`.
#[test]
fn a_forwarded_recipient_shows_the_original_and_the_final_address() {
    let dir = tempfile::tempdir().unwrap();
    hailer(dir.path())
        .args(["bounces", "parse"])
        .arg(data("review/dsn-forwarded.eml"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "dsn-forwarded.eml,pat1@catchall.test,5.1.1,550,userunknown,true,failed,pat1.forward@acme.test",
        ));
}

#[test]
fn non_bounces_print_their_kind() {
    let dir = tempfile::tempdir().unwrap();
    let dev = data("bounces/dev");
    hailer(dir.path())
        .args(["bounces", "parse"])
        .arg(dev.join("rfc3834-01.eml"))
        .arg(dev.join("arf-01.eml"))
        .arg(dev.join("rfc3464-28.eml"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "rfc3834-01.eml,kijitora@example.net,,,autoreply,false",
        ))
        .stdout(predicate::str::contains(
            "arf-01.eml,redacted@example.net,,,feedback,false",
        ))
        .stdout(predicate::str::contains("rfc3464-28.eml,,,,other,false"));
}

#[test]
fn a_reply_is_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let reply = dir.path().join("reply.eml");
    std::fs::write(
        &reply,
        "From: Ann Prospect <ann@acme.test>\r\nTo: sam@sender.test\r\nSubject: Re: quick question\r\nIn-Reply-To: <a49e2c80@sender.test>\r\nReferences: <a49e2c80@sender.test>\r\nMessage-ID: <r1@acme.test>\r\n\r\nSure, let's talk next week.\r\n",
    )
    .unwrap();
    hailer(dir.path())
        .args(["bounces", "parse", "reply.eml"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "reply.eml,ann@acme.test,,,reply,false",
        ));
}

#[test]
fn a_missing_path_fails_with_exit_code_4_before_any_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("reply.eml"),
        "From: a@acme.test\r\n\r\nhi\r\n",
    )
    .unwrap();
    hailer(dir.path())
        .args(["bounces", "parse", "reply.eml", "missing.eml"])
        .assert()
        .code(4)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("missing.eml: no such file"));
}

/// A data directory whose `bounces` table holds three rows, one with a diagnostic that a
/// spreadsheet would run as a formula.
fn bounce_db(dir: &Path) -> PathBuf {
    use hailer::store::bounces::{NewBounce, insert};
    let data = dir.join("data");
    let store = hailer::store::Store::open_in(&data).unwrap();
    let c = store.conn();
    c.execute_batch(
        "INSERT INTO inbox_messages (id, mailbox, folder, uidvalidity, uid, message_key, kind, processed_at)
         VALUES (1, 'sender', 'INBOX', 1, 1, 'mid:x', 'bounce', 0)",
    )
    .unwrap();
    for (rcpt, reason, date, diag) in [
        (
            "a@acme.test",
            "userunknown",
            1_795_000_000,
            "=HYPERLINK(\"http://x.test\")",
        ),
        (
            "b@acme.test",
            "mailboxfull",
            1_795_300_000,
            "552 5.2.2 full",
        ),
        (
            "c@other.test",
            "userunknown",
            1_795_300_000,
            "550 5.1.1 unknown",
        ),
    ] {
        insert(
            c,
            &NewBounce {
                kind: "bounce",
                date,
                mailbox: "sender",
                outbox_id: None,
                recipient: rcpt,
                action: Some("failed"),
                status_code: Some("5.1.1"),
                reply_code: Some(550),
                reason,
                hard: reason == "userunknown",
                diagnostic: diag,
                remote_mta: None,
                raw: "Status: 5.1.1",
                inbox_message_id: 1,
                matched_by: "",
                message_id: None,
            },
            0,
        )
        .unwrap();
    }
    data
}

#[test]
fn export_bounces_filters_by_date_domain_and_reason_and_neutralises_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let data = bounce_db(dir.path());
    let run = |args: &[&str]| {
        let out = hailer(dir.path())
            .arg("--data-dir")
            .arg(&data)
            .args(["export", "bounces", "--format", "csv"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let all = run(&[]);
    assert!(
        all.starts_with(
            "date,kind,mailbox,recipient,domain,action,status,reply_code,reason,hard,diagnostic"
        ),
        "{all}"
    );
    assert_eq!(all.lines().count(), 4, "{all}");
    assert!(all.contains("\"'=HYPERLINK("), "formula neutralised: {all}");
    let acme = run(&["--domain", "acme.test"]);
    assert_eq!(acme.lines().count(), 3, "{acme}");
    let unknown = run(&["--domain", "acme.test", "--reason", "userunknown"]);
    assert_eq!(unknown.lines().count(), 2, "{unknown}");
    // The domain as the suppression list writes it, the reason in any case: the same rows.
    assert_eq!(
        run(&["--domain", "@ACME.test", "--reason", "UserUnknown"]),
        unknown
    );
    assert!(unknown.contains("a@acme.test"), "{unknown}");
    // 1_795_300_000 is 2026-11-21 22:26 UTC; 1_795_000_000 is 2026-11-18.
    let recent = run(&["--since", "2026-11-21"]);
    assert_eq!(recent.lines().count(), 3, "{recent}");
    assert!(
        recent.contains("\n2026-11-21T22:26:40+00:00,"),
        "dates carry their zone: {recent}"
    );
    assert!(!recent.contains("a@acme.test"), "{recent}");

    // XLSX to a file, read back.
    let xlsx = dir.path().join("b.xlsx");
    hailer(dir.path())
        .arg("--data-dir")
        .arg(&data)
        .args([
            "export",
            "bounces",
            "--format",
            "xlsx",
            "--reason",
            "userunknown",
            "-o",
        ])
        .arg(&xlsx)
        .assert()
        .success();
    use calamine::{Reader, Xlsx, open_workbook};
    let mut book: Xlsx<_> = open_workbook(&xlsx).unwrap();
    let range = book.worksheet_range("Bounces").unwrap();
    assert_eq!(range.height(), 3);

    // Bounce filters on another table, and a bad date, are usage errors.
    hailer(dir.path())
        .arg("--data-dir")
        .arg(&data)
        .args(["export", "outbox", "--domain", "acme.test"])
        .assert()
        .code(2);
    hailer(dir.path())
        .arg("--data-dir")
        .arg(&data)
        .args(["export", "bounces", "--since", "yesterday"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a date"));
    // An unknown reason would export nothing without a word: a usage error naming the known.
    hailer(dir.path())
        .arg("--data-dir")
        .arg(&data)
        .args(["export", "bounces", "--reason", "bogus"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("\"bogus\" is no bounce reason"))
        .stderr(predicate::str::contains("userunknown"));
}

#[test]
fn bounces_sync_without_imap_mailboxes_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    hailer(dir.path())
        .args(["--data-dir", "data", "bounces", "sync"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no mailbox has imap_host"));
}

/// A failing `password_cmd` is reported as such by `bounces sync` and `mailbox test`, not as
/// missing IMAP settings, and what the command printed is never shown.
#[test]
fn a_failing_password_cmd_is_named_as_a_password_error() {
    let dir = tempfile::tempdir().unwrap();
    // A loopback port nothing listens on: nothing is reached anyway, the password comes first.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[mailboxes.claire]\nfrom = \"claire@sender.test\"\nsmtp_host = \"127.0.0.1\"\n\
             smtp_port = {port}\nimap_host = \"127.0.0.1\"\nimap_port = {port}\n\
             password_cmd = \"echo hunter2-secret; exit 3\"\n"
        ),
    )
    .unwrap();
    for args in [&["bounces", "sync"][..], &["mailbox", "test"][..]] {
        let out = hailer(dir.path())
            .args(["--config", "config.toml", "--data-dir", "data"])
            .args(args)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(1), "{args:?}: {text}");
        assert!(
            text.contains("cannot get the password of mailbox claire: password_cmd exited"),
            "{args:?}: {text}"
        );
        assert!(!text.contains("no IMAP settings"), "{args:?}: {text}");
        assert!(!text.contains("hunter2"), "{args:?}: {text}");
    }
}

/// A mailbox that cannot be read is named as the config names it, in the summary and in
/// `--json` (a connection or login error names a host or a user, not the mailbox).
#[test]
fn a_mailbox_sync_cannot_read_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[mailboxes.claire]\nfrom = \"claire@sender.test\"\nsmtp_host = \"127.0.0.1\"\n\
             imap_host = \"127.0.0.1\"\nimap_port = {port}\nimap_security = \"plain\"\n\
             password_cmd = \"echo pw\"\n"
        ),
    )
    .unwrap();
    let out = hailer(dir.path())
        .args(["--config", "config.toml", "--data-dir", "data"])
        .args(["bounces", "sync", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{v}");
    let error = errors[0].as_str().unwrap();
    assert!(error.starts_with("claire: "), "{v}");
    // Said once: in the summary, not on stderr as well (with or without --json).
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains(error),
        "{out:?}"
    );
    let out = hailer(dir.path())
        .args(["--config", "config.toml", "--data-dir", "data"])
        .args(["bounces", "sync"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(stdout.matches(error).count(), 1, "{stdout}");
    assert!(!stderr.contains(error), "{stderr}");
}

/// `export replies`: who answered (replies, auto-replies, unsubscribe emails), to which row,
/// with the row's address, company and status; bounces and other mail are not in it. The
/// company is spelled as the prospect's row spells it (as `export outbox` does), not as the
/// first import of that company did.
#[test]
fn export_replies_lists_who_answered_and_to_which_row() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = hailer::store::Store::open_in(&data).unwrap();
    store
        .conn()
        .execute_batch(
            "INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'ACME S.A.', 0);
             INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key,
                                    created_at)
             VALUES (1, 'Ann', 'Doe', 'Acme SA', 'acme', 'ann doe', 0);
             INSERT INTO outbox (id, prospect_id, email, company_key, status, created_at,
                                 updated_at)
             VALUES (1, 1, 'ann@acme.test', 'acme', 'REPLIED', 0, 0);
             INSERT INTO inbox_messages (id, mailbox, folder, uidvalidity, uid, message_key,
                                         kind, outbox_id, from_addr, subject, processed_at,
                                         matched_by, snippet)
             VALUES (1, 'sender', 'INBOX', 1, 1, 'mid:a', 'reply', 1, 'ann@acme.test',
                     'Re: Hello', 1795300000, 'by In-Reply-To/References <1.a@sender.test>',
                     'Yes, call me' || char(10) || 'on Tuesday.'),
                    (2, 'sender', 'INBOX', 1, 2, 'mid:b', 'autoreply', NULL, 'bob@acme.test',
                     'Out of office', 1795300000, '', '=back Monday'),
                    (3, 'sender', 'INBOX', 1, 3, 'mid:c', 'bounce', 1, 'mailer-daemon@x.test',
                     'Undelivered', 1795300000, '', '');",
        )
        .unwrap();
    let out = hailer(dir.path())
        .arg("--data-dir")
        .arg(&data)
        .args(["export", "replies", "-o", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "date,kind,mailbox,folder,from,subject,outbox_id,email,company,row_status,\
             matched_by,snippet",
            "2026-11-21T22:26:40+00:00,reply,sender,INBOX,ann@acme.test,Re: Hello,1,\
             ann@acme.test,Acme SA,REPLIED,by In-Reply-To/References <1.a@sender.test>,\
             \"Yes, call me",
            "on Tuesday.\"",
            // What a person wrote is theirs: a formula sign first is guarded.
            "2026-11-21T22:26:40+00:00,autoreply,sender,INBOX,bob@acme.test,Out of office,,,,,,\
             '=back Monday",
        ]
    );
}

/// `bounces parse --json`: the CSV's columns as typed fields, one object per line of CSV.
#[test]
fn bounces_parse_json_has_the_csv_columns_typed() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    for f in ["dsn-unknown-user.eml", "dsn-delayed-warning.eml"] {
        std::fs::copy(data("rig-dsn").join(f), input.join(f)).unwrap();
    }
    std::fs::write(
        input.join("reply.eml"),
        "From: ann@acme.test\r\nSubject: Re: Hello\r\nIn-Reply-To: <1.a@x.test>\r\n\r\nYes\r\n",
    )
    .unwrap();
    let out = hailer(dir.path())
        .args(["bounces", "parse", "--json", "in"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!([
            {"file": "in/dsn-delayed-warning.eml", "recipient": "someone@deadmx.test",
             "status": "4.4.1", "reply_code": null, "reason": "expired", "hard": false,
             "action": "delayed", "final_recipient": "someone@deadmx.test"},
            {"file": "in/dsn-unknown-user.eml", "recipient": "nobody@acme.test",
             "status": "5.1.1", "reply_code": 550, "reason": "userunknown", "hard": true,
             "action": "failed", "final_recipient": "nobody@acme.test"},
            {"file": "in/reply.eml", "recipient": "ann@acme.test", "status": null,
             "reply_code": null, "reason": "reply", "hard": false, "action": null,
             "final_recipient": null}
        ])
    );
}
