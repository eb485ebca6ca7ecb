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
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        vec![
            "file,recipient,status,reply_code,reason,hard",
            "in/dsn-delayed-warning.eml,someone@deadmx.test,4.4.1,,expired,false",
            "in/dsn-relay-denied.eml,someone@nomx.test,5.7.1,554,norelaying,false",
            "in/dsn-unknown-user.eml,nobody@acme.test,5.1.1,550,userunknown,true",
        ]
    );
    // No config, no data directory, no database.
    assert!(!dir.path().join("data").exists());
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
fn unreadable_paths_are_reported_with_exit_code_4() {
    let dir = tempfile::tempdir().unwrap();
    hailer(dir.path())
        .args(["bounces", "parse", "missing.eml"])
        .assert()
        .code(4)
        .stdout(predicate::str::starts_with(
            "file,recipient,status,reply_code,reason,hard",
        ))
        .stderr(predicate::str::contains("missing.eml"));
}
