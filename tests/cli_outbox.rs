//! The outbox review and suppression list from the shell: what a script sees (output, exit
//! codes) and what the database holds afterwards. No mail server needed.

mod common;

use std::path::Path;

use assert_cmd::Command;
use hailer::store::{Store, outbox, suppressions};
use predicates::prelude::*;

fn hailer(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("hailer").unwrap();
    cmd.current_dir(dir)
        .env_remove("HAILER_CONFIG")
        .env_remove("HAILER_DATA_DIR")
        .args(["--config", "config.toml", "--data-dir", "data"]);
    cmd
}

/// A data dir with an outbox built from `prospects` (CSV text) and one message for Acme SA.
fn campaign(prospects: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("p.csv"), prospects).unwrap();
    std::fs::write(
        d.join("m.csv"),
        "company,subject,body\nAcme SA,Hello {firstname},Hi {firstname}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("config.toml"),
        "[mailboxes.m]\nfrom = \"Sam <sam@sender.test>\"\nsmtp_host = \"127.0.0.1\"\n\
         password_env = \"HAILER_TEST_UNUSED\"\n",
    )
    .unwrap();
    hailer(d)
        .args(["import", "prospects", "p.csv"])
        .assert()
        .success();
    hailer(d)
        .args(["import", "messages", "m.csv"])
        .assert()
        .success();
    hailer(d).args(["outbox", "build"]).assert().success();
    dir
}

fn rows(dir: &Path) -> Vec<outbox::OutboxRow> {
    let store = Store::open_in(&dir.join("data")).unwrap();
    outbox::list(store.conn(), None).unwrap()
}

/// A quoted CSV cell can hold a line break; the header writer used to panic on it and take
/// the whole run down. The name goes out on one line.
#[test]
fn a_line_break_in_a_name_is_sent_on_one_line() {
    let dir = campaign(
        "firstname,lastname,company,email\n\"Ann\nMarie\",Doe,Acme SA,ann@acme.test\n\
         Bob,Roe,Acme SA,bob@acme.test\n",
    );
    let d = dir.path();
    hailer(d)
        .args(["outbox", "approve", "--all"])
        .assert()
        .success();
    hailer(d).args(["outbox", "show", "1"]).assert().success();
    hailer(d)
        .env("HAILER_TEST_UNUSED", "x")
        .args(["send", "--dry-run"])
        .assert()
        .success()
        .stdout(predicate::str::contains("2 messages written"));
    let eml = std::fs::read_dir(d.join("data/dry-run"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .find(|t| t.contains("ann@acme.test"))
        .unwrap();
    assert!(
        eml.contains("To: \"Ann Marie Doe\" <ann@acme.test>"),
        "{eml}"
    );
}

#[test]
fn suppress_add_takes_pasted_forms_and_refuses_entries_that_match_nothing() {
    let dir = campaign("firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n");
    let d = dir.path();
    hailer(d)
        .args([
            "suppress",
            "add",
            "Ann Doe <Ann@Acme.test>",
            "mailto:bob@acme.test?subject=unsubscribe",
            "@Other.test.",
        ])
        .assert()
        .success()
        .stdout("added ann@acme.test\nadded bob@acme.test\nadded @other.test\n");
    for bad in ["*@wild.test", "x@.test", "@.test", "nobody"] {
        hailer(d)
            .args(["suppress", "add", "keep@acme.test", bad])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("{bad:?}")));
    }
    let store = Store::open_in(&d.join("data")).unwrap();
    let entries: Vec<String> = suppressions::list(store.conn())
        .unwrap()
        .into_iter()
        .map(|s| s.entry)
        .collect();
    assert_eq!(
        entries.len(),
        3,
        "a refused command adds nothing: {entries:?}"
    );
    hailer(d).args(["outbox", "build"]).assert().success();
    assert_eq!(rows(d)[0].status, outbox::Status::Error);
}

/// An entry already on the list in the other spelling of its international domain is
/// reported as already there, as the sender and `suppress remove` see them: one entry, the
/// first, with its cause, note and date.
#[test]
fn suppress_add_in_the_other_spelling_of_a_domain_keeps_the_first_entry() {
    let dir = campaign("firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n");
    let d = dir.path();
    hailer(d)
        .args(["suppress", "add", "@café.test", "léa@xn--socit-esab.test"])
        .args(["--note", "asked us to stop"])
        .assert()
        .success()
        .stdout("added @café.test\nadded léa@xn--socit-esab.test\n");
    hailer(d)
        .args(["suppress", "add", "@xn--caf-dma.test", "léa@société.test"])
        .args(["--cause", "bounced"])
        .assert()
        .success()
        .stdout(
            "already suppressed @xn--caf-dma.test (as @café.test)\n\
             already suppressed léa@société.test (as léa@xn--socit-esab.test)\n",
        );
    // The same as JSON, for scripts; a new entry among them is added.
    let json_of = |args: &[&str]| -> serde_json::Value {
        let out = hailer(d).args(args).arg("--json").output().unwrap();
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    assert_eq!(
        json_of(&["suppress", "add", "@xn--caf-dma.test", "new@acme.test"]),
        serde_json::json!({
            "added": ["new@acme.test"],
            "already": [{"entry": "@xn--caf-dma.test", "as": "@café.test"}],
        })
    );
    assert_eq!(
        json_of(&[
            "suppress",
            "remove",
            "new@acme.test",
            "gone@acme.test",
            "--ignore-missing"
        ]),
        serde_json::json!({"removed": ["new@acme.test"], "passed_over": ["gone@acme.test"]})
    );
    let store = Store::open_in(&d.join("data")).unwrap();
    let list = suppressions::list(store.conn()).unwrap();
    let kept: Vec<(&str, &str, Option<&str>)> = list
        .iter()
        .map(|s| (s.entry.as_str(), s.cause.as_str(), s.note.as_deref()))
        .collect();
    assert_eq!(
        kept,
        [
            ("@café.test", "manual", Some("asked us to stop")),
            (
                "léa@xn--socit-esab.test",
                "manual",
                Some("asked us to stop")
            ),
        ]
    );
}

/// A data dir with a config and nothing else, for the suppression list alone.
fn empty_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    dir
}

fn suppressed(dir: &Path) -> Vec<String> {
    let store = Store::open_in(&dir.join("data")).unwrap();
    suppressions::list(store.conn())
        .unwrap()
        .into_iter()
        .map(|s| s.entry)
        .collect()
}

/// `suppress remove` is all or nothing, like `outbox approve`: one entry not on the list, or
/// one that names no address or domain, and every such entry is named, nothing is removed, and
/// the exit code is 4. `--ignore-missing` removes those that are there and exits 0.
#[test]
fn suppress_remove_is_all_or_nothing_and_names_every_missing_entry() {
    let dir = empty_dir();
    let d = dir.path();
    hailer(d)
        .args([
            "suppress",
            "add",
            "ann@acme.test",
            "cy@acme.test",
            "@café.test",
        ])
        .assert()
        .success();
    let out = hailer(d)
        .args(["suppress", "remove", "ann@acme.test", "bob@acme.test"])
        .args(["cy@acme.test", "dee@acme.test", "nobody"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "{stderr}");
    for named in [
        "hailer: not on the list: bob@acme.test\n",
        "hailer: not on the list: dee@acme.test\n",
        "hailer: \"nobody\": neither an address nor @domain, and not on the list\n",
        "hailer: nothing removed\n",
    ] {
        assert!(stderr.contains(named), "{named:?} in {stderr}");
    }
    assert!(
        !stderr.contains("ann@") && !stderr.contains("cy@"),
        "{stderr}"
    );
    assert_eq!(
        suppressed(d),
        ["@café.test", "ann@acme.test", "cy@acme.test"],
        "a refused remove removes nothing"
    );
    // The same entry twice, or in both spellings of its domain, is one entry on the list.
    hailer(d)
        .args(["suppress", "remove", "Ann@acme.test", "ann@acme.test"])
        .args(["@café.test", "@xn--caf-dma.test"])
        .assert()
        .code(0)
        .stdout("removed ann@acme.test\nremoved @café.test\n");
    // For a script making sure addresses are not suppressed, whether or not they were.
    hailer(d)
        .args([
            "suppress",
            "remove",
            "--ignore-missing",
            "bob@acme.test",
            "cy@acme.test",
        ])
        .assert()
        .code(0)
        .stdout("removed cy@acme.test\n")
        .stderr(predicate::str::contains("not on the list: bob@acme.test"));
    assert!(suppressed(d).is_empty());
    // An entry that names nothing is a mistake even then.
    hailer(d)
        .args(["suppress", "add", "eve@acme.test"])
        .assert()
        .success();
    hailer(d)
        .args([
            "suppress",
            "remove",
            "--ignore-missing",
            "eve@acme.test",
            "*@acme.test",
        ])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("\"*@acme.test\": no wildcards"));
    assert_eq!(suppressed(d), ["eve@acme.test"]);
}

/// `suppress list` CSV: (entry, note) of each row, as a CSV reader sees the cells.
fn listed(dir: &Path) -> Vec<(String, String)> {
    let out = hailer(dir).args(["suppress", "list"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    csv::Reader::from_reader(out.stdout.as_slice())
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[2].to_string())
        })
        .collect()
}

/// The CSV of `suppress list` goes to spreadsheets, so, as in `hailer export`, no cell starts a
/// formula: an entry like `=cmd@x.test` or any `@domain` gets a leading `'`. `add` and
/// `remove` take it off again, so the listed entries go straight back to them; the JSON keeps
/// the values as stored.
#[test]
fn suppress_list_csv_is_formula_guarded_and_round_trips_into_add_and_remove() {
    let dir = empty_dir();
    let d = dir.path();
    hailer(d)
        .args([
            "suppress",
            "add",
            "--note",
            "=HYPERLINK(\"http://evil.test\")",
            "--",
        ])
        .args([
            "=cmd@x.test",
            "@domain.test",
            "-dash@x.test",
            "+plus@x.test",
        ])
        .arg("plain@x.test")
        .assert()
        .success();
    // Stored by a bounce or an older version: a value that already starts with the guard.
    {
        let store = Store::open_in(&d.join("data")).unwrap();
        assert!(suppressions::add(store.conn(), "'=quote@x.test", "bounced", None, 0).unwrap());
    }
    let stored = suppressed(d);
    let list = listed(d);
    assert_eq!(
        list.iter().map(|(e, _)| e.as_str()).collect::<Vec<_>>(),
        [
            "''=quote@x.test",
            "'+plus@x.test",
            "'-dash@x.test",
            "'=cmd@x.test",
            "'@domain.test",
            "plain@x.test",
        ]
    );
    assert_eq!(list[1].1, "'=HYPERLINK(\"http://evil.test\")");
    let text = hailer(d)
        .args(["suppress", "list"])
        .output()
        .unwrap()
        .stdout;
    for record in csv::Reader::from_reader(text.as_slice()).records() {
        let record = record.unwrap();
        for cell in &record {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{record:?}");
        }
    }
    let json = hailer(d)
        .args(["suppress", "list", "--json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let json_entries: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entry"].as_str().unwrap())
        .collect();
    assert_eq!(json_entries, stored, "JSON is unguarded");

    // Into another data dir: the same entries.
    let other = empty_dir();
    hailer(other.path())
        .args(["suppress", "add"])
        .args(list.iter().map(|(e, _)| e))
        .assert()
        .success();
    assert_eq!(suppressed(other.path()), stored);
    // And out of this one: every one is found and removed.
    hailer(d)
        .args(["suppress", "remove"])
        .args(list.iter().map(|(e, _)| e))
        .assert()
        .code(0);
    assert!(suppressed(d).is_empty());
}

/// The `*_at` times in hailer's JSON are Unix seconds (`created_at` here, `paused_at` in
/// `mailbox status --json`, `checked_at` from `/api/validate`); the CSV, for people, gives the
/// same instant in RFC 3339, as `export outbox` gives `sent_at`.
#[test]
fn suppress_list_json_times_are_unix_seconds_like_the_other_json_outputs() {
    let dir = campaign("firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n");
    let d = dir.path();
    let before = chrono::Utc::now().timestamp();
    hailer(d)
        .args(["suppress", "add", "ann@acme.test"])
        .assert()
        .success();
    hailer(d).args(["mailbox", "pause", "m"]).assert().success();
    let after = chrono::Utc::now().timestamp();
    let json = |args: &[&str]| -> serde_json::Value {
        let out = hailer(d).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let listed = json(&["suppress", "list", "--json"]);
    let created = listed[0]["created_at"].as_i64().expect("an integer");
    assert!((before..=after).contains(&created), "{listed}");
    let status = json(&["mailbox", "status", "--json"]);
    let paused = status[0]["paused_at"].as_i64().expect("an integer");
    assert!((before..=after).contains(&paused), "{status}");
    let out = hailer(d).args(["suppress", "list"]).output().unwrap();
    let csv_date = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .rsplit(',')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(&csv_date)
            .unwrap()
            .timestamp(),
        created,
        "{csv_date}"
    );
}

/// Ids typed by hand: an unknown or ineligible one is named, the exit code says so, and
/// nothing changes, not even for the good ids beside it.
#[test]
fn approve_and_skip_name_bad_ids_and_change_nothing() {
    let dir = campaign(
        "firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n\
         Bob,Roe,Nowhere Ltd,bob@acme.test\n",
    );
    let d = dir.path();
    let by_name = |name: &str| rows(d).into_iter().find(|r| r.firstname == name).unwrap();
    let (ann, bob) = (by_name("Ann"), by_name("Bob"));
    assert_eq!(
        bob.status,
        outbox::Status::Error,
        "no message for Nowhere Ltd"
    );
    // Nothing was rendered for Bob: an edit would be stored and ignored, so it is refused.
    hailer(d)
        .args([
            "outbox",
            "edit",
            &bob.id.to_string(),
            "--subject",
            "Hello Bob",
        ])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(format!(
            "row {} has no message to edit (no message: nothing imported for company \
             \"Nowhere Ltd\"",
            bob.id
        )));
    assert_eq!(by_name("Bob").subject, "");
    // Its preview says so, not a message with an empty Subject, and names who the row is for
    // (nothing else in it does).
    hailer(d)
        .args(["outbox", "show", &bob.id.to_string()])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "(no message to show for Bob Roe · Nowhere Ltd: no message: nothing imported for \
             company \"Nowhere Ltd\"",
        ))
        .stdout(predicate::str::contains("Subject:").not());
    let ids = [ann.id.to_string(), bob.id.to_string(), "999".to_string()];
    hailer(d)
        .args(["outbox", "approve"])
        .args(&ids)
        .assert()
        .code(4)
        .stderr(
            predicate::str::contains("no outbox row 999")
                .and(predicate::str::contains(format!("row {} is ERROR", bob.id)))
                .and(predicate::str::contains("nothing changed")),
        );
    assert!(!by_name("Ann").approved);
    // Neither ids nor --all is a command-line mistake (2), with the usage.
    for cmd in ["approve", "unapprove", "skip", "unskip"] {
        hailer(d)
            .args(["outbox", cmd])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--all").and(predicate::str::contains("Usage")));
    }

    hailer(d)
        .args(["outbox", "skip", &ann.id.to_string(), &bob.id.to_string()])
        .assert()
        .success();
    hailer(d)
        .args(["outbox", "unskip", "--all"])
        .assert()
        .success()
        .stdout("1 row back to READY, 1 back to ERROR (a reason still blocks them)\n");
    assert_eq!(by_name("Ann").status, outbox::Status::Ready);
    assert_eq!(by_name("Bob").status, outbox::Status::Error);
}

#[test]
fn verify_refuses_to_write_its_results_over_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let list = "email\njane@acme.test\n";
    std::fs::write(dir.path().join("list.csv"), list).unwrap();
    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    hailer(dir.path())
        .args(["verify", "--no-store", "--input", "list.csv", "--output"])
        .arg(dir.path().join("list.csv"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is the input file"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("list.csv")).unwrap(),
        list
    );
}

/// An accented domain is fine (it goes out in IDNA form); an accented local part needs
/// SMTPUTF8, which hailer does not send: the row is an ERROR that says so, not a refusal
/// from the server that counts toward auto-pause.
#[test]
fn non_ascii_local_parts_are_refused_at_build() {
    let dir = campaign(
        "firstname,lastname,company,email\nJean,Doe,Acme SA,jean@café.test\n\
         Jöe,Roe,Acme SA,jöe@acme.test\n",
    );
    let rows = rows(dir.path());
    let by_name = |n: &str| rows.iter().find(|r| r.firstname == n).unwrap();
    assert_eq!(by_name("Jean").status, outbox::Status::Ready);
    let joe = by_name("Jöe");
    assert_eq!(joe.status, outbox::Status::Error);
    assert!(
        joe.reason
            .as_deref()
            .unwrap()
            .contains("non-ASCII local part"),
        "{:?}",
        joe.reason
    );
    // Suppressed as well: that is the reason shown, as no edit of the address would make
    // the row sendable.
    hailer(dir.path())
        .args(["suppress", "add", "@acme.test"])
        .assert()
        .success();
    hailer(dir.path())
        .args(["outbox", "build"])
        .assert()
        .success();
    let rebuilt = crate::rows(dir.path());
    let joe = rebuilt.iter().find(|r| r.firstname == "Jöe").unwrap();
    assert!(
        joe.reason
            .as_deref()
            .unwrap()
            .starts_with("suppressed: @acme.test"),
        "{:?}",
        joe.reason
    );
}

/// `suppress list` is data a script keeps (`> backup.csv`): like an export, a list that
/// could not be written whole exits 1 and says so, in CSV and in JSON.
#[test]
fn suppress_list_to_a_full_disk_fails() {
    let dir = campaign("firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n");
    let d = dir.path();
    hailer(d)
        .args(["suppress", "add", "ann@acme.test", "@other.test"])
        .assert()
        .success();
    hailer(d)
        .args(["suppress", "list"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("entry,cause,note,created_at\n"));
    for json in [false, true] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("hailer"));
        cmd.current_dir(d)
            .env_remove("HAILER_CONFIG")
            .env_remove("HAILER_DATA_DIR")
            .args([
                "--config",
                "config.toml",
                "--data-dir",
                "data",
                "suppress",
                "list",
            ])
            .stdout(full);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "json {json}: {stderr}");
        assert!(stderr.contains("cannot write"), "json {json}: {stderr}");
    }
}

/// A write that waited the whole busy timeout for another process's lock names the database
/// file and says what to do, and exits 1 (a failure while running), with nothing written.
#[test]
fn a_database_locked_by_another_process_is_named_and_exits_1() {
    let dir = campaign("firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n");
    let d = dir.path();
    let holder = Store::open_in(&d.join("data")).unwrap();
    holder.conn().execute_batch("BEGIN IMMEDIATE").unwrap();
    let start = std::time::Instant::now();
    let out = hailer(d)
        .args(["suppress", "add", "jane@acme.test"])
        .output()
        .unwrap();
    let waited = start.elapsed();
    holder.conn().execute_batch("ROLLBACK").unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(waited >= hailer::store::BUSY_TIMEOUT, "{waited:?}");
    assert!(stderr.contains("database is locked"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "hailer: data/hailer.db stayed locked for {} s by another hailer process writing to it",
            hailer::store::BUSY_TIMEOUT.as_secs()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("run this again when it is done"),
        "{stderr}"
    );
    assert!(
        stderr.contains("a send") && stderr.contains("the TUI"),
        "{stderr}"
    );
    assert!(
        suppressions::list(holder.conn()).unwrap().is_empty(),
        "nothing added"
    );
}

/// With `--json`, the error on standard output says what stderr says of a locked database:
/// the file, and to run the command again, not SQLite's bare "database is locked".
#[test]
fn a_locked_database_json_error_names_the_file_and_what_to_do() {
    let dir = campaign("firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n");
    let d = dir.path();
    let holder = Store::open_in(&d.join("data")).unwrap();
    holder.conn().execute_batch("BEGIN IMMEDIATE").unwrap();
    let out = hailer(d)
        .args(["suppress", "add", "jane@acme.test", "--json"])
        .output()
        .unwrap();
    holder.conn().execute_batch("ROLLBACK").unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["exit_code"], 1, "{v}");
    let error = v["error"].as_str().unwrap();
    assert!(error.contains("database is locked"), "{error}");
    assert!(
        error.contains("data/hailer.db stayed locked for"),
        "{error}"
    );
    assert!(error.contains("run this again when it is done"), "{error}");
    // The same lines as on stderr, without the `hailer: ` prefix.
    let said: Vec<&str> = stderr
        .lines()
        .map(|l| l.strip_prefix("hailer: ").unwrap_or(l))
        .collect();
    assert_eq!(error, said.join("\n"), "{stderr}");
}

/// SIGTERM (`timeout`, a service manager) stops `verify --input` as Ctrl-C does: the rows
/// written so far are kept as FILE.partial, not left in a hidden temporary file, and the exit
/// code is 130, as for an interrupted `send`.
#[test]
fn verify_stopped_by_a_signal_keeps_its_rows_as_partial_and_exits_130() {
    for signal in ["TERM", "INT"] {
        verify_stopped_by(signal);
    }
}

fn verify_stopped_by(signal: &str) {
    use std::io::Write;
    let dir = campaign("firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n");
    let d = dir.path();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("hailer"))
        .current_dir(d)
        .env_remove("HAILER_CONFIG")
        .env_remove("HAILER_DATA_DIR")
        .args(["--config", "config.toml", "--data-dir", "data"])
        .args([
            "verify",
            "--input",
            "-",
            "--output",
            "res.csv",
            "--no-store",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Checked offline (no DNS, no SMTP); stdin stays open, so the run goes on waiting.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"not-an-address\n").unwrap();
    stdin.flush().unwrap();
    let written = || {
        std::fs::read_dir(d).unwrap().any(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(".res.csv.")
                && std::fs::read_to_string(e.path()).is_ok_and(|t| t.lines().count() == 2)
        })
    };
    let start = std::time::Instant::now();
    while !written() {
        assert!(start.elapsed().as_secs() < 20, "no result row written");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    common::signal(child.id(), signal);
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{signal}: {stderr}");
    let partial = std::fs::read_to_string(d.join("res.csv.partial")).unwrap_or_default();
    assert!(
        partial.contains("not-an-address,INVALID_SYNTAX"),
        "{partial:?} / {stderr}"
    );
    assert!(!d.join("res.csv").exists(), "{stderr}");
    let left: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The dry-run summary says how many messages it rendered for each mailbox (it said
/// "0 this run" for every one, the count of messages actually sent).
#[test]
fn the_dry_run_summary_counts_what_it_wrote_per_mailbox() {
    let dir = campaign(
        "firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n\
         Bob,Roe,Acme SA,bob@acme.test\nCy,Poe,Acme SA,cy@acme.test\n",
    );
    let d = dir.path();
    let mut config = std::fs::read_to_string(d.join("config.toml")).unwrap();
    config.push_str(
        "\n[mailboxes.n]\nfrom = \"Nat <nat@sender.test>\"\nsmtp_host = \"127.0.0.1\"\n\
         password_env = \"HAILER_TEST_UNUSED\"\n",
    );
    std::fs::write(d.join("config.toml"), config).unwrap();
    hailer(d)
        .args(["outbox", "approve", "--all"])
        .assert()
        .success();
    let out = hailer(d).args(["send", "--dry-run"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("3 messages written"), "{text}");
    let written = |name: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(&format!("mailbox {name}: ")))
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no line for {name}: {text}"))
    };
    assert_eq!(written("m") + written("n"), 3, "{text}");
    assert!(written("m") >= 1 && written("n") >= 1, "{text}");
    assert!(text.contains("written this run"), "{text}");
    // --limit 0 is refused before anything runs: the last dry run's files stay.
    hailer(d)
        .args(["send", "--dry-run", "--limit", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--limit"));
    let kept = std::fs::read_dir(d.join("data/dry-run")).unwrap().count();
    assert_eq!(kept, 3);
}

/// READY rows a run does not send because they wait for an approval (after `outbox resend`,
/// a requeue, or a build) are counted in the summary with what to do: a run that says only
/// "outbox done" leaves the user thinking everything went.
#[test]
fn the_send_summary_counts_ready_rows_waiting_for_an_approval() {
    let dir = campaign(
        "firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n\
         Bob,Roe,Acme SA,bob@acme.test\nCy,Poe,Acme SA,cy@acme.test\n",
    );
    let d = dir.path();
    let ids: Vec<String> = rows(d).iter().map(|r| r.id.to_string()).collect();
    hailer(d)
        .args(["outbox", "approve", &ids[0]])
        .assert()
        .success();
    let out = hailer(d).args(["send", "--dry-run"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 message written"), "{text}");
    assert!(
        text.contains("2 READY rows wait for an approval")
            && text.contains("hailer outbox approve"),
        "{text}"
    );
    let out = hailer(d)
        .args(["send", "--dry-run", "--json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["awaiting_approval"], 2, "{json}");
    // Approved, nothing waits: no line, and 0.
    hailer(d)
        .args(["outbox", "approve", "--all"])
        .assert()
        .success();
    let out = hailer(d).args(["send", "--dry-run"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("wait for an approval"), "{text}");
}

/// Stopped while the input's first rows are still awaited (a pipe with nothing written yet,
/// or a FIFO no writer opened), `verify` exits 130 as for any stop, saying nothing was
/// verified, and writes no file: the signal used to end the process there and then, or,
/// for the FIFO, was caught and never acted on.
#[test]
fn verify_stopped_before_any_input_exits_130_and_writes_nothing() {
    let dir = campaign("firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n");
    let fifo = dir.path().join("input.fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for input in ["-", "input.fifo"] {
        verify_stopped_waiting_for(dir.path(), input);
    }
}

fn verify_stopped_waiting_for(d: &Path, input: &str) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("hailer"))
        .current_dir(d)
        .env_remove("HAILER_CONFIG")
        .env_remove("HAILER_DATA_DIR")
        .args(["--config", "config.toml", "--data-dir", "data"])
        .args([
            "verify",
            "--input",
            input,
            "--output",
            "res.csv",
            "--no-store",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    // Ready once the process catches SIGTERM (bit 15 of SigCgt in /proc/PID/status).
    let catches_term = || {
        std::fs::read_to_string(format!("/proc/{}/status", child.id()))
            .ok()
            .and_then(|s| {
                let mask = s
                    .lines()
                    .find_map(|l| l.strip_prefix("SigCgt:"))?
                    .trim()
                    .to_string();
                u64::from_str_radix(&mask, 16).ok()
            })
            .is_some_and(|m| m & (1 << 14) != 0)
    };
    let start = std::time::Instant::now();
    while !catches_term() {
        assert!(start.elapsed().as_secs() < 20, "SIGTERM never caught");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    common::signal(child.id(), "TERM");
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{input}: {stderr}");
    assert!(
        stderr.contains("nothing verified, nothing written"),
        "{input}: {stderr}"
    );
    let left: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("res.csv"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Stopped before any result row, `verify --output FILE` still keeps FILE.partial (the header
/// alone), as README says for every interrupted run, and leaves no temporary file.
#[test]
fn verify_stopped_before_any_row_keeps_a_header_only_partial() {
    let dir = campaign("firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n");
    let d = dir.path();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("hailer"))
        .current_dir(d)
        .env_remove("HAILER_CONFIG")
        .env_remove("HAILER_DATA_DIR")
        .args(["--config", "config.toml", "--data-dir", "data"])
        .args([
            "verify",
            "--input",
            "-",
            "--output",
            "res.csv",
            "--no-store",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A header that names the address column, then nothing: the output exists (its header
    // alone) and the run waits for its first address.
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, b"email\n").unwrap();
    std::io::Write::flush(&mut stdin).unwrap();
    let started = || {
        std::fs::read_dir(d).unwrap().any(|e| {
            let e = e.unwrap();
            e.file_name().to_string_lossy().starts_with(".res.csv.")
                && std::fs::read_to_string(e.path()).is_ok_and(|t| t.lines().count() == 1)
        })
    };
    let start = std::time::Instant::now();
    while !started() {
        assert!(start.elapsed().as_secs() < 20, "no output file created");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    common::signal(child.id(), "TERM");
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let partial = std::fs::read_to_string(d.join("res.csv.partial")).unwrap_or_default();
    assert_eq!(
        partial, "email,status,mx,code,enhanced,detail\n",
        "{stderr}"
    );
    assert!(stderr.contains("res.csv.partial"), "{stderr}");
    assert!(!d.join("res.csv").exists(), "{stderr}");
    let left: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// With `--json`, a send that cannot start still writes a JSON object on stdout (a script
/// parsing it got nothing before), naming each mailbox's problem; the exit code stays 1.
#[test]
fn send_json_reports_a_run_that_could_not_start() {
    let dir = campaign("firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n");
    let d = dir.path();
    hailer(d)
        .args(["outbox", "approve", "--all"])
        .assert()
        .success();
    let out = hailer(d)
        .env_remove("HAILER_TEST_UNUSED")
        .args(["send", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {out:?}"));
    let error = json["error"].as_str().unwrap();
    assert!(error.contains("no usable mailbox"), "{json}");
    assert_eq!(json["exit_code"], 1, "{json}");
    // The mailboxes are objects as in a run's summary, not strings.
    let m = &json["mailboxes"][0];
    assert_eq!(m["name"], "m", "{json}");
    assert_eq!(m["sent_today"], 0, "{json}");
    assert!(
        m["error"]
            .as_str()
            .is_some_and(|e| e.contains("HAILER_TEST_UNUSED")),
        "{json}"
    );
    assert_eq!(rows(d)[0].status.as_str(), "READY", "nothing was claimed");

    // An unknown mailbox is a usage error that names the configured ones; a config without
    // mailboxes a config error: both have `exit_code`, and `mailboxes` is still an array.
    let out = hailer(d)
        .args(["send", "--mailbox", "nope", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["exit_code"], 2, "{json}");
    assert_eq!(
        json["error"],
        "no mailbox named \"nope\" in the config (configured: m)"
    );
    assert_eq!(json["mailboxes"], serde_json::json!([]));
    std::fs::write(d.join("config.toml"), "[sending]\n").unwrap();
    let out = hailer(d).args(["send", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["exit_code"], 3, "{json}");
    assert_eq!(json["mailboxes"], serde_json::json!([]));
}

/// A mailbox paused on purpose is not a failure: the JSON says `paused`, stderr names no
/// failed mailbox. (A failed one is named there, and the run exits 0 as issue #7 asks.)
#[test]
fn send_json_tells_a_paused_mailbox_from_a_failed_one() {
    let dir = campaign("firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n");
    let d = dir.path();
    let mut config = std::fs::read_to_string(d.join("config.toml")).unwrap();
    config.push_str(
        "\n[mailboxes.n]\nfrom = \"Nat <nat@sender.test>\"\nsmtp_host = \"127.0.0.1\"\n\
         password_env = \"HAILER_TEST_UNUSED\"\n",
    );
    std::fs::write(d.join("config.toml"), config).unwrap();
    hailer(d)
        .args(["outbox", "approve", "--all"])
        .assert()
        .success();
    hailer(d).args(["mailbox", "pause", "m"]).assert().success();
    let out = hailer(d)
        .env("HAILER_TEST_UNUSED", "x")
        .args(["send", "--dry-run", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mailbox = |name: &str| {
        json["mailboxes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name}: {json}"))
    };
    assert_eq!(mailbox("m")["paused"], true, "{json}");
    assert!(mailbox("m")["error"].as_str().unwrap().contains("paused"));
    assert_eq!(mailbox("n")["paused"], false, "{json}");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("mailbox failed"),
        "{out:?}"
    );
}

/// Approving a row approved before says so, instead of a bare "0 rows approved".
#[test]
fn approving_again_counts_the_rows_already_approved() {
    let dir = campaign(
        "firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n\
         Bob,Roe,Acme SA,bob@acme.test\n",
    );
    let d = dir.path();
    let ids: Vec<String> = rows(d).iter().map(|r| r.id.to_string()).collect();
    hailer(d)
        .args(["outbox", "approve", &ids[0]])
        .assert()
        .success()
        .stdout("1 row approved\n");
    hailer(d)
        .args(["outbox", "approve", &ids[0], &ids[1]])
        .assert()
        .success()
        .stdout("1 row approved (1 row already approved)\n");
    hailer(d)
        .args(["outbox", "unapprove", "--all"])
        .assert()
        .success()
        .stdout("2 rows unapproved\n");
    hailer(d)
        .args(["outbox", "unapprove", &ids[1]])
        .assert()
        .success()
        .stdout("0 rows unapproved (1 row already unapproved)\n");
    // The same changes as JSON, for scripts: the rows acted on and how many changed.
    let json_of = |args: &[&str]| -> serde_json::Value {
        let out = hailer(d).args(args).arg("--json").output().unwrap();
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let (a, b): (i64, i64) = (ids[0].parse().unwrap(), ids[1].parse().unwrap());
    assert_eq!(
        json_of(&["outbox", "approve", "--all"]),
        serde_json::json!({"rows": [a, b], "changed": 2, "approved": true})
    );
    assert_eq!(
        json_of(&["outbox", "skip", &ids[1]]),
        serde_json::json!({"rows": [b], "changed": 1})
    );
    assert_eq!(
        json_of(&["outbox", "unskip", "--all"]),
        serde_json::json!({"rows": [b], "changed": 1, "ready": 1, "error": 0})
    );
    // --json is no target: ids or --all are still required.
    hailer(d)
        .args(["outbox", "approve", "--json"])
        .assert()
        .code(2);
}

/// A dry run changes no status: a row its checks refuse is reported as still READY, with the
/// ERROR a real run would give it in `would_be`, and the outbox agrees.
#[test]
fn dry_run_json_reports_what_a_refused_row_would_become_without_claiming_it() {
    let dir = campaign(
        "firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n\
         Bob,Roe,Acme SA,bob@acme.test\n",
    );
    let d = dir.path();
    hailer(d)
        .args(["outbox", "approve", "--all"])
        .assert()
        .success();
    hailer(d)
        .args(["suppress", "add", "ann@acme.test"])
        .assert()
        .success();
    let out = hailer(d)
        .env("HAILER_TEST_UNUSED", "x")
        .args(["send", "--dry-run", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = json["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{json}");
    assert_eq!(problems[0]["email"], "ann@acme.test");
    assert_eq!(problems[0]["status"], "READY", "{json}");
    assert_eq!(problems[0]["would_be"], "ERROR", "{json}");
    let ann = rows(d)
        .into_iter()
        .find(|r| r.email.as_deref() == Some("ann@acme.test"))
        .unwrap();
    assert_eq!(ann.status.as_str(), "READY");
}

/// `outbox settle` decides UNCERTAIN rows as `u` on the Outbox tab does: ids that are not
/// UNCERTAIN are named and nothing changes; --requeue gives READY unapproved, --sent SENT.
#[test]
fn settle_decides_uncertain_rows_as_the_tui_does() {
    let dir = campaign(
        "firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n\
         Bob,Roe,Acme SA,bob@acme.test\n",
    );
    let d = dir.path();
    let ids: Vec<i64> = rows(d).iter().map(|r| r.id).collect();
    let uncertain = |id: i64| {
        Store::open_in(&d.join("data"))
            .unwrap()
            .conn()
            .execute(
                "UPDATE outbox SET status = 'UNCERTAIN', approved = 1, attempts = 2 WHERE id = ?1",
                [id],
            )
            .unwrap();
    };
    let status = |id: i64| {
        let r = rows(d).into_iter().find(|r| r.id == id).unwrap();
        (r.status.as_str().to_string(), r.approved)
    };
    uncertain(ids[0]);
    // A READY row among the ids: named, nothing changes.
    hailer(d)
        .args(["outbox", "settle", "--sent"])
        .args([ids[0].to_string(), ids[1].to_string()])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(format!("row {}", ids[1])));
    assert_eq!(status(ids[0]).0, "UNCERTAIN");
    // A decision is required, and the error names both.
    hailer(d)
        .args(["outbox", "settle", &ids[0].to_string()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("<--sent|--requeue>"));
    hailer(d)
        .args(["outbox", "settle", "--requeue", &ids[0].to_string()])
        .assert()
        .success()
        .stdout(predicate::str::contains("1 row back to READY, unapproved"));
    assert_eq!(status(ids[0]), ("READY".to_string(), false));
    let requeued = rows(d).into_iter().find(|r| r.id == ids[0]).unwrap();
    assert_eq!(
        requeued.attempts, 0,
        "a requeued row gets its whole retry budget"
    );
    uncertain(ids[0]);
    let out = hailer(d)
        .args([
            "outbox",
            "settle",
            "--requeue",
            "--json",
            &ids[0].to_string(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"rows": [ids[0]], "changed": 1, "status": "READY"})
    );
    assert_eq!(status(ids[0]), ("READY".to_string(), false));
    uncertain(ids[0]);
    uncertain(ids[1]);
    hailer(d)
        .args(["outbox", "settle", "--all", "--sent"])
        .assert()
        .success()
        .stdout("2 rows marked SENT\n");
    assert_eq!(status(ids[0]).0, "SENT");
    assert_eq!(status(ids[1]).0, "SENT");
}

/// `outbox resend` sends a soft-bounced row again (READY, unapproved) and refuses, naming
/// each, a hard-bounced row and one whose address was suppressed; with --all it takes the
/// rows that qualify and counts the others.
#[test]
fn resend_requeues_soft_bounced_rows_only() {
    let dir = campaign(
        "firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n\
         Bob,Roe,Acme SA,bob@acme.test\nCid,Poe,Acme SA,cid@acme.test\n",
    );
    let d = dir.path();
    let id = |email: &str| {
        rows(d)
            .into_iter()
            .find(|r| r.email.as_deref() == Some(email))
            .unwrap()
            .id
    };
    let (ann, bob, cid) = (
        id("ann@acme.test"),
        id("bob@acme.test"),
        id("cid@acme.test"),
    );
    let bounced = |id: i64, reason: &str| {
        Store::open_in(&d.join("data"))
            .unwrap()
            .conn()
            .execute(
                "UPDATE outbox SET status = 'BOUNCED', reason = ?2, approved = 1, attempts = 1,
                     sent_at = 100, header_message_id = ?1 || '.x@sender.test'
                 WHERE id = ?1",
                rusqlite::params![id, reason],
            )
            .unwrap();
    };
    let status = |id: i64| {
        let r = rows(d).into_iter().find(|r| r.id == id).unwrap();
        (r.status.as_str().to_string(), r.approved, r.reason)
    };
    bounced(ann, "soft: mailboxfull 4.2.2");
    bounced(bob, "hard: blocked 5.7.1");
    bounced(cid, "soft: mailboxfull 4.2.2");
    hailer(d)
        .args([
            "suppress",
            "add",
            "cid@acme.test",
            "--note",
            "asked us to stop",
        ])
        .assert()
        .success();
    // Given by hand: the hard bounce and the suppressed address are each named; nothing
    // changes, not even the row that qualifies.
    hailer(d)
        .args(["outbox", "resend"])
        .args([ann, bob, cid].map(|i| i.to_string()))
        .assert()
        .code(4)
        .stderr(
            predicate::str::contains(format!(
                "row {bob} is BOUNCED (hard: blocked 5.7.1); only a soft-bounced row is sent again"
            ))
            .and(predicate::str::contains(format!(
                "row {cid}: suppressed: cid@acme.test (manual: asked us to stop)"
            )))
            .and(predicate::str::contains(
                "hailer suppress remove cid@acme.test",
            )),
        );
    assert_eq!(status(ann).0, "BOUNCED");
    hailer(d)
        .args(["outbox", "resend", &ann.to_string()])
        .assert()
        .success()
        .stdout("1 row back to READY, unapproved: approve them to send them again\n");
    assert_eq!(
        status(ann),
        (
            "READY".to_string(),
            false,
            Some("sent again by hand after a soft bounce (mailboxfull 4.2.2)".to_string())
        )
    );
    // A rebuild keeps it READY: it is not a sent row any more.
    hailer(d).args(["outbox", "build"]).assert().success();
    assert_eq!(status(ann).0, "READY");
    // --all: the soft bounce whose address is suppressed stays, counted with the hard one.
    bounced(ann, "soft: mailboxfull 4.2.2");
    let out = hailer(d)
        .args(["outbox", "resend", "--all", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"rows": [ann], "changed": 1, "left": 2, "status": "READY"})
    );
    assert_eq!(status(bob).0, "BOUNCED");
    assert_eq!(status(cid).0, "BOUNCED");
    // A row that is not BOUNCED at all.
    hailer(d)
        .args(["outbox", "resend", &ann.to_string()])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(format!(
            "row {ann} is READY (sent again by hand after a soft bounce (mailboxfull 4.2.2)); \
             this applies to BOUNCED rows"
        )));
}

/// A row sent again that soft-bounced the same way once more is refused, and only that
/// refusal names `--force` (the wording comes from the refusal's type); --force sends it.
#[test]
fn resend_of_a_repeated_soft_bounce_names_force_and_force_requeues_it() {
    let (dir, id) = ann();
    let d = dir.path();
    Store::open_in(&d.join("data"))
        .unwrap()
        .conn()
        .execute_batch(&format!(
            "UPDATE outbox SET status = 'BOUNCED', reason = 'soft: norelaying 5.7.1',
                 sent_at = 100, header_message_id = '{id}.b@sender.test' WHERE id = {id};
             INSERT INTO inbox_messages (id, mailbox, folder, uidvalidity, uid, message_key,
                                         kind, processed_at)
             VALUES (1, 'm', 'INBOX', 1, 1, 'a', 'bounce', 0),
                    (2, 'm', 'INBOX', 1, 2, 'b', 'bounce', 0);
             INSERT INTO bounces (kind, date, mailbox, outbox_id, recipient, domain, action,
                                  reason, hard, inbox_message_id, created_at, message_id)
             VALUES ('bounce', 0, 'm', {id}, 'ann@acme.test', 'acme.test', 'failed',
                     'norelaying', 0, 1, 0, '{id}.a@sender.test'),
                    ('bounce', 0, 'm', {id}, 'ann@acme.test', 'acme.test', 'failed',
                     'norelaying', 0, 2, 0, '{id}.b@sender.test');"
        ))
        .unwrap();
    hailer(d)
        .args(["outbox", "resend", &id.to_string()])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(format!(
            "row {id}: 2 of its messages soft-bounced the same way (norelaying 5.7.1): sent \
             again, it did not clear; `outbox resend --force {id}` to try once more"
        )));
    hailer(d)
        .args(["outbox", "resend", "--force", &id.to_string()])
        .assert()
        .success();
    let row = rows(d)
        .into_iter()
        .find(|r| r.id.to_string() == id)
        .unwrap();
    assert_eq!(row.status.as_str(), "READY");
}

/// `outbox show` on a row the configuration cannot build (its tracking secret is not set)
/// says so on stderr and exits 3, as `send` would refuse: it printed the error as the
/// preview and exited 0.
#[test]
fn show_exits_3_when_the_config_cannot_build_the_message() {
    let (dir, id) = ann();
    let d = dir.path();
    let config = std::fs::read_to_string(d.join("config.toml")).unwrap();
    std::fs::write(
        d.join("config.toml"),
        format!(
            "[tracking]\nbase_url = \"https://t.sender.test\"\n\
             secret_env = \"HAILER_TEST_TRACKING_UNSET\"\n{config}"
        ),
    )
    .unwrap();
    for json in [false, true] {
        let mut cmd = hailer(d);
        cmd.env_remove("HAILER_TEST_TRACKING_UNSET")
            .args(["outbox", "show", &id]);
        let why =
            format!("row {id}: cannot build this message: tracking: $HAILER_TEST_TRACKING_UNSET");
        if json {
            // With --json the error is the JSON object on stdout, as every command's.
            let out = cmd.arg("--json").output().unwrap();
            assert_eq!(out.status.code(), Some(3));
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert!(v["error"].as_str().unwrap().starts_with(&why), "{v}");
            assert_eq!(v["exit_code"], 3);
        } else {
            cmd.assert()
                .code(3)
                .stdout("")
                .stderr(predicate::str::contains(why));
        }
    }
    hailer(d)
        .env("HAILER_TEST_TRACKING_UNSET", "0123456789abcdef0123")
        .args(["outbox", "show", &id])
        .assert()
        .success()
        .stdout(predicate::str::contains("List-Unsubscribe-Post"));
}

/// An outbox with Ann's one READY row, and its id.
fn ann() -> (tempfile::TempDir, String) {
    let dir = campaign("firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n");
    let id = rows(dir.path())[0].id.to_string();
    (dir, id)
}

/// `outbox edit --subject/--body-file`: the TUI's `e` for scripts. The row keeps its new text,
/// loses its approval, and `outbox show` renders the new text.
#[test]
fn edit_from_flags_changes_the_row_and_withdraws_its_approval() {
    let (dir, id) = ann();
    let d = dir.path();
    hailer(d)
        .args(["outbox", "approve", &id])
        .assert()
        .success();
    std::fs::write(
        d.join("body.md"),
        "Dear Ann,\r\n\r\nA **new** text.\r\n\r\n",
    )
    .unwrap();
    hailer(d)
        .args(["outbox", "edit", &id, "--subject", " A better subject "])
        .args(["--body-file", "body.md"])
        .assert()
        .success()
        .stdout(format!("row {id} edited; it needs approval again\n"));
    let row = &rows(d)[0];
    assert_eq!(row.subject, "A better subject");
    assert_eq!(
        row.body, "Dear Ann,\n\nA **new** text.",
        "Windows line ends as \\n"
    );
    assert!(!row.approved);
    assert_eq!(row.status.as_str(), "READY");
    hailer(d)
        .args(["outbox", "show", &id])
        .assert()
        .success()
        .stdout(predicate::str::contains("Subject: A better subject"));
    let shown = hailer(d)
        .args(["outbox", "show", &id, "--json"])
        .output()
        .unwrap();
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["row"]["subject"], "A better subject", "{shown}");
    assert_eq!(shown["row"]["status"], "READY", "{shown}");
    assert_eq!(shown["row"]["edited"], true, "{shown}");
    assert!(
        shown["preview"]
            .as_str()
            .unwrap()
            .contains("Subject: A better subject"),
        "{shown}"
    );
    // The body from standard input; the subject stays.
    hailer(d)
        .args(["outbox", "edit", &id, "--body-file", "-"])
        .write_stdin("Short.\n")
        .assert()
        .success();
    let row = &rows(d)[0];
    assert_eq!(
        (row.subject.as_str(), row.body.as_str()),
        ("A better subject", "Short.")
    );
    // The same text again changes nothing.
    hailer(d)
        .args(["outbox", "edit", &id, "--subject", "A better subject"])
        .assert()
        .success()
        .stdout(format!("row {id} unchanged\n"));
}

/// Text a script gives with a placeholder in it, a row already sent, a missing row, a body
/// that is not UTF-8, an empty subject: each named, exit 4, the row as it was (approval
/// included).
#[test]
fn edit_from_flags_refuses_what_cannot_go_out_and_changes_nothing() {
    let (dir, id) = ann();
    let d = dir.path();
    let before = rows(d).remove(0);
    hailer(d)
        .args(["outbox", "approve", &id])
        .assert()
        .success();
    let unchanged = || {
        let row = rows(d).remove(0);
        assert_eq!((&row.subject, &row.body), (&before.subject, &before.body));
        assert!(row.approved, "the approval is given back");
    };
    std::fs::write(d.join("body.txt"), "Hi {firstname},\n").unwrap();
    hailer(d)
        .args(["outbox", "edit", &id, "--body-file", "body.txt"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(
            "unresolved placeholder: {firstname} in body",
        ));
    unchanged();
    hailer(d)
        .args(["outbox", "edit", &id, "--subject", "  "])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("the subject cannot be empty"));
    unchanged();
    std::fs::write(d.join("latin1.txt"), b"Caf\xe9\n").unwrap();
    hailer(d)
        .args(["outbox", "edit", &id, "--body-file", "latin1.txt"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("latin1.txt is not UTF-8 (byte 4"));
    hailer(d)
        .args(["outbox", "edit", &id, "--body-file", "missing.txt"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("cannot read missing.txt"));
    unchanged();
    hailer(d)
        .args(["outbox", "edit", "999", "--subject", "x"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("no outbox row 999"));
    Store::open_in(&d.join("data"))
        .unwrap()
        .conn()
        .execute("UPDATE outbox SET status = 'SENT'", [])
        .unwrap();
    hailer(d)
        .args(["outbox", "edit", &id, "--subject", "Too late"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(format!(
            "row {id} is SENT and can no longer be edited"
        )));
    assert_eq!(rows(d)[0].subject, before.subject);
}

/// Without flags `outbox edit` opens $EDITOR on a "Subject:" draft, as `e` does; with no
/// terminal to give it, it says what to do instead (exit 2).
#[test]
fn edit_without_flags_runs_the_editor_on_a_terminal_only() {
    let (dir, id) = ann();
    let d = dir.path();
    hailer(d)
        .args(["outbox", "edit", &id])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "give --subject and/or --body-file",
        ));
    // A terminal from script(1); the "editor" rewrites the draft in place.
    std::fs::write(
        d.join("ed.sh"),
        "#!/bin/sh\nsed -i -e 's/^Subject: .*/Subject: Edited in the editor/' -e 's/^Hi /Hello /' \"$1\"\n\
         echo 'PS: appended' >> \"$1\"\n",
    )
    .unwrap();
    let bin = assert_cmd::cargo::cargo_bin("hailer");
    let status = std::process::Command::new("script")
        .current_dir(d)
        .env("EDITOR", "sh ed.sh")
        .env("VISUAL", "")
        .env_remove("HAILER_CONFIG")
        .env_remove("HAILER_DATA_DIR")
        .args(["-qec"])
        .arg(format!(
            "{} --config config.toml --data-dir data outbox edit {id}",
            bin.display()
        ))
        .arg("/dev/null")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let row = &rows(d)[0];
    assert_eq!(row.subject, "Edited in the editor");
    // The draft ends with a line break: an appended line is a line of its own.
    assert_eq!(row.body, "Hello Ann\nPS: appended");
}

/// `export outbox --status` takes a status in any case, as `suggestions list --status` does.
#[test]
fn export_status_is_case_insensitive() {
    let (dir, _) = ann();
    let d = dir.path();
    for status in ["ready", "READY", "Ready"] {
        hailer(d)
            .args(["export", "outbox", "--status", status])
            .assert()
            .success()
            .stdout(predicate::str::contains("ann@acme.test"));
    }
}

#[test]
fn lists_write_to_a_file_with_the_delimiter_and_bom_asked_for() {
    let dir = empty_dir();
    let d = dir.path();
    hailer(d)
        .args(["suppress", "add", "a@x.test", "--note", "Société; Lyon"])
        .assert()
        .success();
    hailer(d)
        .args([
            "suppress",
            "list",
            "-o",
            "list.csv",
            "--delimiter",
            ";",
            "--bom",
        ])
        .assert()
        .success()
        .stdout("");
    let bytes = std::fs::read(d.join("list.csv")).unwrap();
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").expect("BOM")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("entry;cause;note;created_at"));
    let row = lines.next().unwrap();
    assert!(
        row.starts_with("a@x.test;manual;\"Société; Lyon\";"),
        "the delimiter inside a cell is quoted: {row}"
    );
    // JSON to a file too; CSV options with JSON are a usage error that writes nothing.
    hailer(d)
        .args(["suppress", "list", "--json", "--output", "list.json"])
        .assert()
        .success();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("list.json")).unwrap()).unwrap();
    assert_eq!(json[0]["note"], "Société; Lyon");
    hailer(d)
        .args(["suppress", "list", "--json", "--bom", "-o", "other.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("CSV output only"));
    assert!(!d.join("other.json").exists());
    // The same options on the other lists.
    hailer(d)
        .args(["import", "log", "--delimiter", "tab"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("id\tcreated_at\tkind\t"));
    hailer(d)
        .args(["suggestions", "list", "-o", "-", "--delimiter", "|"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("prospect_id|firstname|"));
}

/// `outbox show` on a row already sent: the Date it went out with, and notes that the text is
/// a re-rendering whose link tokens are not the sent ones, and that its mailbox is gone.
#[test]
fn show_on_a_sent_row_gives_its_send_date_and_says_what_is_rebuilt() {
    let (dir, id) = ann();
    let d = dir.path();
    // 2026-11-21 22:26:40 UTC, by a mailbox no longer configured.
    Store::open_in(&d.join("data"))
        .unwrap()
        .conn()
        .execute(
            "UPDATE outbox SET status = 'SENT', mailbox = 'gone', sent_at = 1795300000,
                    header_message_id = '1.abc@sender.test' WHERE id = ?1",
            [&id],
        )
        .unwrap();
    hailer(d)
        .args(["outbox", "show", &id])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Date: Sat, 21 Nov 2026 22:26:40 +0000",
        ))
        .stdout(predicate::str::contains(
            "(a RE-RENDERING, not the message as sent: the Message-ID and Date are the sent ones, \
             but its tracking and unsubscribe links carry new tokens, not the sent ones",
        ))
        .stdout(predicate::str::contains(
            "(mailbox gone is no longer configured: shown as m would send it)",
        ))
        .stdout(predicate::str::contains("Message-ID: <1.abc@sender.test>"));
}

/// A template error in one part leaves the other rendered: fixing the body of a row whose
/// body names an unknown column is enough, the subject needs no retyping.
#[test]
fn a_row_with_a_bad_body_keeps_its_subject_rendered_and_a_body_fix_is_enough() {
    let dir = campaign("firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n");
    let d = dir.path();
    std::fs::write(
        d.join("m.csv"),
        "company,subject,body\nAcme SA,\"{firstname|there}, idea for {company}\",Hi {unknownfield}\n",
    )
    .unwrap();
    hailer(d)
        .args(["import", "messages", "m.csv"])
        .assert()
        .success();
    hailer(d).args(["outbox", "build"]).assert().success();
    let row = &rows(d)[0];
    assert_eq!(row.status.as_str(), "ERROR");
    assert!(
        row.reason.as_deref().unwrap().contains("{unknownfield}"),
        "{:?}",
        row.reason
    );
    assert_eq!(
        row.subject, "Ann, idea for Acme SA",
        "the subject is rendered"
    );
    assert_eq!(row.body, "Hi {unknownfield}", "the body keeps what to fix");
    std::fs::write(d.join("b.md"), "Hi Ann, a fixed body.\n").unwrap();
    hailer(d)
        .args(["outbox", "edit", &row.id.to_string(), "--body-file", "b.md"])
        .assert()
        .success();
    let row = &rows(d)[0];
    assert_eq!(row.status.as_str(), "READY", "{:?}", row.reason);
    // A placeholder typed into an edit is named with the part to change.
    hailer(d)
        .args(["outbox", "edit", &row.id.to_string(), "--subject", "Hi {x}"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(
            "unresolved placeholder: {x} in subject (edited by hand: edit the subject to replace it)",
        ));
}

/// The outbox export carries what came back per row (opens, clicks, replies), as the Outbox
/// tab's O/C/R cell, and the opens and clicks by people apart (machines' left out):
/// counted for a row that went out, blank for one never sent.
#[test]
fn outbox_export_counts_opens_clicks_and_replies_per_row() {
    let dir = campaign(
        "firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n\
         Bob,Roe,Acme SA,bob@acme.test\n",
    );
    let d = dir.path();
    let ann = rows(d).into_iter().find(|r| r.firstname == "Ann").unwrap();
    {
        let store = Store::open_in(&d.join("data")).unwrap();
        store
            .conn()
            .execute_batch(&format!(
                "UPDATE outbox SET status = 'SENT', sent_at = 1000 WHERE id = {id};
                 INSERT INTO tracking_events (outbox_id, kind, machine, created_at)
                 VALUES ({id}, 'OPEN', 0, 1001), ({id}, 'OPEN', 1, 1002), ({id}, 'CLICK', 0, 1003),
                        ({id}, 'CLICK', 1, 1004);",
                id = ann.id
            ))
            .unwrap();
    }
    let out = hailer(d)
        .args(["export", "outbox", "--format", "csv", "--output", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let row = |first: &str| {
        records
            .iter()
            .find(|r| &r[0] == first)
            .unwrap_or_else(|| panic!("{first}: {text}"))
    };
    let counts = |first: &str| {
        let r = row(first);
        [
            r[col("opens")].to_string(),
            r[col("clicks")].to_string(),
            r[col("replies")].to_string(),
            r[col("opens_human")].to_string(),
            r[col("clicks_human")].to_string(),
        ]
    };
    // Apple's privacy proxy opened it once and a link scanner clicked once: the totals count
    // them, the `_human` columns do not.
    assert_eq!(counts("Ann"), ["2", "2", "0", "1", "1"], "{text}");
    assert_eq!(counts("Bob"), ["", "", "", "", ""], "{text}");
}

/// A row a server answered 421 is RETRY: it goes out at its retry whatever its approval, so
/// unapprove, skip and edit must withdraw it (they exited 4, "this applies to READY rows",
/// and the next run sent it). Its attempts are kept; un-skipped it is READY again.
#[test]
fn a_retry_row_can_be_unapproved_skipped_and_edited() {
    let dir = campaign(
        "firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n\
         Bob,Roe,Acme SA,bob@acme.test\nCid,Poe,Acme SA,cid@acme.test\n",
    );
    let d = dir.path();
    hailer(d)
        .args(["outbox", "approve", "--all"])
        .assert()
        .success();
    let store = Store::open_in(&d.join("data")).unwrap();
    store
        .conn()
        .execute(
            "UPDATE outbox SET status = 'RETRY', attempts = 2, next_attempt_at = 0,
                 reason = '421 4.7.0 try later', smtp_reply = '421 4.7.0 try later'",
            [],
        )
        .unwrap();
    let eligible = || hailer::store::sending::eligible_ids(store.conn(), true, 10).unwrap();
    assert_eq!(eligible(), [1, 2, 3]);
    let row = |id: i64| rows(d).into_iter().find(|r| r.id == id).unwrap();

    let out = hailer(d)
        .args(["outbox", "unapprove", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1 row back to READY from RETRY"), "{text}");
    let r = row(1);
    assert_eq!(
        (r.status.as_str(), r.approved, r.attempts),
        ("READY", false, 2)
    );
    assert_eq!(r.smtp_reply.as_deref(), Some("421 4.7.0 try later"));

    hailer(d).args(["outbox", "skip", "2"]).assert().success();
    // Skipped as unapprove withdraws a RETRY row with approval off: the reply leaves
    // `reason` (it would read as a refusal), the attempts and the reply stay.
    let r = row(2);
    assert_eq!(
        (
            r.status.as_str(),
            r.approved,
            r.attempts,
            r.reason.as_deref()
        ),
        ("SKIPPED", false, 2, None)
    );
    assert_eq!(r.smtp_reply.as_deref(), Some("421 4.7.0 try later"));

    hailer(d)
        .args(["outbox", "edit", "3", "--subject", "x"])
        .assert()
        .success();
    let r = row(3);
    assert_eq!(
        (
            r.status.as_str(),
            r.approved,
            r.attempts,
            r.subject.as_str()
        ),
        ("READY", false, 2, "x")
    );
    assert!(eligible().is_empty(), "none goes out now");

    // Un-skipped, the row is READY with its attempts (not ERROR for the 421 it got).
    hailer(d).args(["outbox", "unskip", "2"]).assert().success();
    let r = row(2);
    assert_eq!((r.status.as_str(), r.attempts), ("READY", 2));
    hailer(d)
        .args(["outbox", "approve", "2"])
        .assert()
        .success();
    assert_eq!(eligible(), [2]);
}

/// With `[sending] require_approval = false` the sender takes every READY row, approved or
/// not: an unapproved READY row holds nothing, so unapproving a RETRY row makes it SKIPPED,
/// and an edit that changes nothing gives it back as it was.
#[test]
fn without_approval_a_withdrawn_retry_row_is_skipped() {
    let dir = campaign(
        "firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n\
         Bob,Roe,Acme SA,bob@acme.test\n",
    );
    let d = dir.path();
    let config = std::fs::read_to_string(d.join("config.toml")).unwrap();
    std::fs::write(
        d.join("config.toml"),
        format!("[sending]\nrequire_approval = false\n{config}"),
    )
    .unwrap();
    let store = Store::open_in(&d.join("data")).unwrap();
    store
        .conn()
        .execute(
            "UPDATE outbox SET status = 'RETRY', attempts = 2, next_attempt_at = 0,
                 reason = '421 4.7.0 try later'",
            [],
        )
        .unwrap();
    let eligible = || hailer::store::sending::eligible_ids(store.conn(), false, 10).unwrap();
    assert_eq!(eligible(), [1, 2]);
    let out = hailer(d)
        .args(["outbox", "unapprove", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("withdrawn from RETRY as SKIPPED"), "{text}");
    let r = rows(d).into_iter().find(|r| r.id == 1).unwrap();
    assert_eq!((r.status.as_str(), r.attempts), ("SKIPPED", 2));
    assert_eq!(eligible(), [2], "the withdrawn row is held");
    // The same text given back: the row is RETRY again, due as before.
    let subject = rows(d).into_iter().find(|r| r.id == 2).unwrap().subject;
    hailer(d)
        .args(["outbox", "edit", "2", "--subject", &subject])
        .assert()
        .success();
    let r = rows(d).into_iter().find(|r| r.id == 2).unwrap();
    assert_eq!((r.status.as_str(), r.attempts), ("RETRY", 2));
}

/// A rebuild used to reset the attempts of a withdrawn RETRY row (unapproved: READY; skipped:
/// SKIPPED), so once put back it started over at attempt 1 and went past `max_attempts`. It
/// keeps them (and the server's last reply) while the address is the same, and leaves rows
/// sent or in flight as they were.
#[test]
fn a_rebuild_keeps_the_attempts_of_a_withdrawn_retry_row() {
    let dir = campaign(
        "firstname,lastname,company,email\nAnn,Doe,Acme SA,ann@acme.test\n\
         Bob,Roe,Acme SA,bob@acme.test\nCid,Poe,Acme SA,cid@acme.test\n\
         Dan,Loe,Acme SA,dan@acme.test\n",
    );
    let d = dir.path();
    hailer(d)
        .args(["outbox", "approve", "--all"])
        .assert()
        .success();
    let store = Store::open_in(&d.join("data")).unwrap();
    store
        .conn()
        .execute_batch(
            "UPDATE outbox SET status = 'RETRY', attempts = 2, next_attempt_at = 0,
                 reason = '421 4.7.0 try later', smtp_reply = '421 4.7.0 try later'
             WHERE id IN (1, 2);
             UPDATE outbox SET status = 'SENT', attempts = 1, sent_at = 5, subject = 'as sent',
                 smtp_reply = '250 ok', updated_at = 5 WHERE id = 3;
             UPDATE outbox SET status = 'SENDING', attempts = 3, subject = 'in flight',
                 updated_at = 5 WHERE id = 4;",
        )
        .unwrap();
    hailer(d)
        .args(["outbox", "unapprove", "1"])
        .assert()
        .success();
    hailer(d).args(["outbox", "skip", "2"]).assert().success();
    let before = rows(d);

    hailer(d).args(["outbox", "build"]).assert().success();
    let after = rows(d);
    let state = |r: &outbox::OutboxRow| {
        (
            r.status.as_str().to_string(),
            r.attempts,
            r.smtp_reply.clone(),
        )
    };
    let reply = Some("421 4.7.0 try later".to_string());
    assert_eq!(state(&after[0]), ("READY".into(), 2, reply.clone()));
    assert_eq!(state(&after[1]), ("SKIPPED".into(), 2, reply));
    assert_eq!(after[2], before[2], "a SENT row is untouched");
    assert_eq!(after[3], before[3], "a SENDING row is untouched");

    // Put back and approved, the next attempt is the third, not the first.
    hailer(d).args(["outbox", "unskip", "2"]).assert().success();
    hailer(d)
        .args(["outbox", "approve", "1", "2"])
        .assert()
        .success();
    let after = rows(d);
    assert_eq!((after[0].attempts, after[1].attempts), (2, 2));
}
