//! `hailer suggestions list|accept|next|set`: what a script sees (output, exit codes) and what
//! the database holds afterwards, on a real SQLite file. No network: the suggestions are
//! written as `hailer find` writes them.

mod common;

use std::path::Path;

use assert_cmd::Command;
use hailer::store::{Store, outbox, suggestions};
use predicates::prelude::*;

fn hailer(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("hailer").unwrap();
    cmd.current_dir(dir)
        .env_remove("HAILER_CONFIG")
        .env_remove("HAILER_DATA_DIR")
        .args(["--config", "config.toml", "--data-dir", "data"]);
    cmd
}

/// Four prospects at Acme SA (acme.test), none with an imported address, one message, and
/// what find suggested: Ann 90% (two alternatives), Bob 60%, Cid 75% with a formula-like
/// reason, Dee no domain (no address).
fn campaign() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("p.csv"),
        "firstname,lastname,company,domain\nAnn,Doe,Acme SA,acme.test\n\
         Bob,Roe,Acme SA,acme.test\nCid,Poe,Acme SA,acme.test\nDee,Loe,Acme SA,acme.test\n",
    )
    .unwrap();
    std::fs::write(
        d.join("m.csv"),
        "company,subject,body\nAcme SA,Hello {firstname},Hi {firstname}\n",
    )
    .unwrap();
    std::fs::write(d.join("config.toml"), "").unwrap();
    hailer(d)
        .args(["import", "prospects", "p.csv"])
        .assert()
        .success();
    hailer(d)
        .args(["import", "messages", "m.csv"])
        .assert()
        .success();
    let store = Store::open_in(&d.join("data")).unwrap();
    let alts = ["adoe@acme.test".to_string(), "ann@acme.test".to_string()];
    let ev = ["2 published addresses follow first.last".to_string()];
    for (id, email, alts, conf, status, reason) in [
        (
            1,
            Some("ann.doe@acme.test"),
            &alts[..],
            90,
            "suggested",
            None,
        ),
        (2, Some("bob.roe@acme.test"), &[][..], 60, "suggested", None),
        (
            3,
            Some("cid.poe@acme.test"),
            &[][..],
            75,
            "suggested",
            Some("=HYPERLINK(\"x\")"),
        ),
        (
            4,
            None,
            &[][..],
            0,
            "no-domain",
            Some("no MX for acme.test"),
        ),
    ] {
        suggestions::upsert(
            store.conn(),
            &suggestions::NewSuggestion {
                prospect_id: id,
                email,
                alternatives: alts,
                pattern: email.map(|_| "first.last"),
                confidence: conf,
                evidence: &ev,
                status,
                reason,
            },
            true,
            1,
        )
        .unwrap();
    }
    dir
}

/// (prospect id, email, status) of every suggestion, as stored.
fn stored(dir: &Path) -> Vec<(i64, Option<String>, String)> {
    let store = Store::open_in(&dir.join("data")).unwrap();
    suggestions::list(store.conn())
        .unwrap()
        .into_iter()
        .map(|r| (r.prospect_id, r.email, r.status))
        .collect()
}

fn status_of(dir: &Path, id: i64) -> String {
    stored(dir).into_iter().find(|r| r.0 == id).unwrap().2
}

#[test]
fn list_is_guarded_csv_by_default_filters_and_gives_json() {
    let dir = campaign();
    let d = dir.path();
    let out = hailer(d).args(["suggestions", "list"]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "prospect_id,firstname,lastname,company,domain,email,alternatives,pattern,confidence,\
         status,reason,verified,evidence"
    );
    // The evidence too, so one file serves a spreadsheet review (as the export does).
    assert_eq!(
        lines.next().unwrap(),
        "1,Ann,Doe,Acme SA,acme.test,ann.doe@acme.test,adoe@acme.test ann@acme.test,first.last,\
         90,suggested,,,2 published addresses follow first.last"
    );
    assert!(
        text.contains(",75,suggested,\"'=HYPERLINK(\"\"x\"\")\","),
        "a formula-like cell gets a leading ': {text}"
    );
    assert!(text.contains("4,Dee,Loe,Acme SA,acme.test,,,,0,no-domain,no MX for acme.test,"));

    hailer(d)
        .args(["suggestions", "list", "--status", "NO-DOMAIN,Accepted"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Dee").and(predicate::str::contains("Ann").not()));
    let out = hailer(d)
        .args(["suggestions", "list", "--min-confidence", "70", "--json"])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let ids: Vec<i64> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["prospect_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1, 3]);
    assert_eq!(json[1]["reason"], "=HYPERLINK(\"x\")", "JSON is unguarded");
    assert_eq!(
        json[0]["evidence"][0],
        "2 published addresses follow first.last"
    );
    hailer(d)
        .args(["suggestions", "list", "--status", "nonsense"])
        .assert()
        .code(2);
}

/// Ids typed by hand: an unknown one, or one without an address, is named and nothing is
/// accepted, not even the good ids beside it.
#[test]
fn accept_by_id_is_all_or_nothing_and_counts_the_already_accepted() {
    let dir = campaign();
    let d = dir.path();
    let before = stored(d);
    hailer(d)
        .args(["suggestions", "accept", "1", "999", "4"])
        .assert()
        .code(4)
        .stdout("")
        .stderr(
            predicate::str::contains("no prospect 999")
                .and(predicate::str::contains(
                    "prospect 4 has no suggested address (no-domain: no MX for acme.test)",
                ))
                .and(predicate::str::contains("nothing changed")),
        );
    assert_eq!(stored(d), before);

    hailer(d)
        .args(["suggestions", "accept", "1", "2"])
        .assert()
        .success()
        .stdout(
            "accepted ann.doe@acme.test for prospect 1\n\
             accepted bob.roe@acme.test for prospect 2\naccepted 2 suggestions\n",
        );
    assert_eq!(status_of(d, 1), "accepted");
    let out = hailer(d)
        .args(["suggestions", "accept", "1", "3", "--json"])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["already_accepted"], serde_json::json!([1]));
    assert_eq!(json["changed"][0]["prospect_id"], 3);
    assert_eq!(json["changed"][0]["email"], "cid.poe@acme.test");
    assert_eq!(json["changed"][0]["status"], "accepted");

    // Neither ids nor a filter, or both, is a command-line mistake.
    hailer(d).args(["suggestions", "accept"]).assert().code(2);
    hailer(d)
        .args(["suggestions", "accept", "1", "--all"])
        .assert()
        .code(2);
}

/// The headless way from find to the outbox: accept by confidence, then build. Only the
/// accepted addresses become READY rows; the others stay ERROR "no address".
#[test]
fn accept_by_confidence_feeds_the_outbox_build() {
    let dir = campaign();
    let d = dir.path();
    hailer(d)
        .args(["suggestions", "accept", "--min-confidence", "70"])
        .assert()
        .success()
        .stdout(predicate::str::ends_with("accepted 2 suggestions\n"));
    assert_eq!(
        stored(d).into_iter().map(|(_, _, s)| s).collect::<Vec<_>>(),
        ["accepted", "suggested", "accepted", "no-domain"]
    );
    hailer(d)
        .args(["suggestions", "accept", "--min-confidence", "70"])
        .assert()
        .success()
        .stdout("accepted 0 suggestions; 2 already accepted\n");
    hailer(d).args(["outbox", "build"]).assert().success();
    let store = Store::open_in(&d.join("data")).unwrap();
    let rows = outbox::list(store.conn(), None).unwrap();
    let by_first = |n: &str| rows.iter().find(|r| r.firstname == n).unwrap();
    assert_eq!(by_first("Ann").status, outbox::Status::Ready);
    assert_eq!(by_first("Ann").email.as_deref(), Some("ann.doe@acme.test"));
    assert_eq!(by_first("Cid").status, outbox::Status::Ready);
    assert_eq!(by_first("Bob").status, outbox::Status::Error);
    assert!(
        by_first("Bob")
            .reason
            .as_deref()
            .unwrap()
            .contains("no address")
    );
}

/// `next` (the TUI's `c`) and `set` (`e`) go through the same store functions: the choice is
/// kept as `edited`, which the build uses, with hailer's guess remembered in the evidence.
#[test]
fn next_and_set_choose_an_address_as_the_tui_keys_do() {
    let dir = campaign();
    let d = dir.path();
    hailer(d)
        .args(["suggestions", "next", "1"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "now adoe@acme.test for prospect 1: ",
        ));
    let store = Store::open_in(&d.join("data")).unwrap();
    let cur = suggestions::current(store.conn(), 1).unwrap().unwrap();
    assert_eq!(cur.email.as_deref(), Some("adoe@acme.test"));
    assert_eq!(cur.alternatives, ["ann@acme.test", "ann.doe@acme.test"]);
    assert!(
        cur.evidence
            .iter()
            .any(|l| l.starts_with("hailer's guess was ann.doe@acme.test")),
        "{:?}",
        cur.evidence
    );
    // Browsing is not choosing: the row stays suggested until accepted, and says so.
    assert_eq!(status_of(d, 1), "suggested");
    hailer(d)
        .args(["suggestions", "next", "1"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "(not accepted: hailer suggestions accept 1)",
        ));
    // Round the ring (three addresses) back to adoe@.
    for _ in 0..2 {
        hailer(d)
            .args(["suggestions", "next", "1"])
            .assert()
            .success();
    }
    let cur = suggestions::current(store.conn(), 1).unwrap().unwrap();
    assert_eq!(cur.email.as_deref(), Some("adoe@acme.test"));

    // No alternative, or no such prospect: named, nothing changes (not even prospect 1).
    hailer(d)
        .args(["suggestions", "next", "1", "2", "77"])
        .assert()
        .code(4)
        .stderr(
            predicate::str::contains("prospect 2 has no other address to try")
                .and(predicate::str::contains("no prospect 77")),
        );
    let cur = suggestions::current(store.conn(), 1).unwrap().unwrap();
    assert_eq!(cur.email.as_deref(), Some("adoe@acme.test"));

    hailer(d)
        .args(["suggestions", "set", "4", " Dee.Loe@Acme.test ", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"email\": \"dee.loe@acme.test\""));
    assert_eq!(
        stored(d)[3],
        (4, Some("dee.loe@acme.test".into()), "edited".into())
    );
    hailer(d)
        .args(["suggestions", "set", "2", "not an address"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not an email address"));
    hailer(d)
        .args(["suggestions", "set", "99", "x@acme.test"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("no prospect 99"));
    assert_eq!(status_of(d, 2), "suggested");
}

/// Accepting a suggestion that has no address would keep the next find run from ever
/// making one (find does not overwrite an accepted suggestion): the store refuses it, for
/// the TUI's bulk `a` as for the CLI.
#[test]
fn a_suggestion_without_an_address_is_never_marked_accepted() {
    let dir = campaign();
    let store = Store::open_in(&dir.path().join("data")).unwrap();
    assert!(!suggestions::accept(store.conn(), 4, 2).unwrap());
    assert!(suggestions::accept(store.conn(), 2, 2).unwrap());
    assert_eq!(status_of(dir.path(), 4), "no-domain");
}

/// The prospects export gives each person the address a message would go to: an accepted or
/// edited suggestion before the imported address, and says which in `email_source`. Read
/// back, that column is not an extra column of the new prospects.
#[test]
fn the_prospects_export_gives_the_address_in_use_and_its_source() {
    let dir = campaign();
    let d = dir.path();
    std::fs::write(
        d.join("p2.csv"),
        "firstname,lastname,company,email\nEve,Moe,Acme SA,eve@acme.test\n",
    )
    .unwrap();
    hailer(d)
        .args(["import", "prospects", "p2.csv"])
        .assert()
        .success();
    hailer(d)
        .args(["suggestions", "accept", "1"])
        .assert()
        .success();
    hailer(d)
        .args(["suggestions", "set", "4", "dee@acme.test"])
        .assert()
        .success();
    let out = hailer(d)
        .args(["export", "prospects", "--output", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "firstname,lastname,company,title,email,domain,company_key,email_source",
            "Ann,Doe,Acme SA,,ann.doe@acme.test,acme.test,acme,accepted",
            // Suggested but not accepted: no address is in use yet.
            "Bob,Roe,Acme SA,,,acme.test,acme,",
            "Cid,Poe,Acme SA,,,acme.test,acme,",
            "Dee,Loe,Acme SA,,dee@acme.test,acme.test,acme,edited",
            "Eve,Moe,Acme SA,,eve@acme.test,,acme,imported",
        ]
    );

    let copy = tempfile::tempdir().unwrap();
    std::fs::write(copy.path().join("config.toml"), "").unwrap();
    std::fs::write(copy.path().join("p.csv"), &text).unwrap();
    hailer(copy.path())
        .args(["import", "prospects", "p.csv"])
        .assert()
        .success();
    let store = Store::open_in(&copy.path().join("data")).unwrap();
    let read = hailer::store::prospects::list(store.conn()).unwrap();
    assert_eq!(read[0].email.as_deref(), Some("ann.doe@acme.test"));
    assert_eq!(read[0].address_source.as_deref(), Some("imported"));
    assert!(read.iter().all(|p| p.extra == "{}"), "{read:?}");
}

/// Store a verdict for `email`, as `hailer verify` does.
fn verdict(dir: &Path, email: &str, status: &str, detail: &str) {
    let store = Store::open_in(&dir.join("data")).unwrap();
    hailer::store::verifications::upsert(
        store.conn(),
        &hailer::store::verifications::VerificationRow {
            email: email.into(),
            status: status.into(),
            mx: Some("mx.acme.test".into()),
            code: Some(550),
            enhanced: Some("5.1.1".into()),
            detail: detail.into(),
            checked_at: 1,
        },
    )
    .unwrap();
}

/// An address verified undeliverable shows confidence 0 with the reason first in its
/// evidence; a bulk accept skips it and names it; accepting it by id needs --force; and
/// `reset` returns an accepted row to suggested, so the outbox build stops using it.
#[test]
fn dead_addresses_are_skipped_by_bulk_accept_and_rows_can_be_reset() {
    let dir = campaign();
    let d = dir.path();
    verdict(d, "ann.doe@acme.test", "MAILBOX_NOT_FOUND", "User unknown");
    verdict(d, "cid.poe@acme.test", "VALID", "Ok");
    let out = hailer(d)
        .args(["suggestions", "list", "--json"])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json[0]["confidence"], 0);
    assert_eq!(json[0]["found_confidence"], 90);
    let first = json[0]["evidence"][0].as_str().unwrap();
    assert!(
        first.starts_with("confidence 0: verified MAILBOX_NOT_FOUND") && first.contains("90%"),
        "{first}"
    );
    assert_eq!(json[2]["confidence"], 75, "a VALID verdict changes nothing");

    hailer(d)
        .args(["suggestions", "accept", "--min-confidence", "70"])
        .assert()
        .success()
        .stdout(
            "accepted cid.poe@acme.test for prospect 3\n\
             skipped ann.doe@acme.test for prospect 1: verified MAILBOX_NOT_FOUND \
             (accept it alone with --force)\n\
             accepted 1 suggestion; skipped 1 verified undeliverable: ann.doe@acme.test \
             (MAILBOX_NOT_FOUND)\n",
        );
    assert_eq!(status_of(d, 1), "suggested");
    // The TUI's bulk `a` counts the same way (one store function).
    let store = Store::open_in(&d.join("data")).unwrap();
    let report = suggestions::accept_many(store.conn(), &[1, 2, 3], false, 5).unwrap();
    assert_eq!(
        report.summary(),
        "accepted 1 suggestion; 1 already accepted; skipped 1 verified undeliverable: \
         ann.doe@acme.test (MAILBOX_NOT_FOUND)"
    );
    hailer(d)
        .args(["suggestions", "accept", "1"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(
            "prospect 1: ann.doe@acme.test (MAILBOX_NOT_FOUND) was verified undeliverable; \
             accept it with --force",
        ));
    assert_eq!(status_of(d, 1), "suggested");
    hailer(d)
        .args(["suggestions", "accept", "1", "--force"])
        .assert()
        .success();
    assert_eq!(status_of(d, 1), "accepted");
    hailer(d)
        .args(["suggestions", "accept", "--all", "--force"])
        .assert()
        .code(2);

    hailer(d)
        .args(["suggestions", "reset", "1", "2", "4"])
        .assert()
        .success()
        .stdout(
            "ann.doe@acme.test for prospect 1 is suggested again\n\
             bob.roe@acme.test for prospect 2 is suggested again\n\
             reset 2 suggestions; 1 not accepted or edited\n",
        );
    assert_eq!(status_of(d, 1), "suggested");
    assert_eq!(status_of(d, 2), "suggested");
    hailer(d)
        .args(["suggestions", "reset", "99"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("no prospect 99"));
}

/// `set` refuses an address at a domain find found taking no mail unless --force, and an
/// address typed for a prospect whose company has no domain gives the company that domain.
#[test]
fn set_checks_the_domain_and_teaches_a_company_without_one() {
    let dir = campaign();
    let d = dir.path();
    let store = Store::open_in(&d.join("data")).unwrap();
    suggestions::put_domain(
        store.conn(),
        "other",
        &suggestions::CachedDomain {
            domain: Some("nomail.test".into()),
            source: Some("import".into()),
            note: String::new(),
            mail_dns: "null MX (RFC 7505): accepts no mail".into(),
            accepts_mail: false,
        },
        1,
    )
    .unwrap();
    hailer(d)
        .args(["suggestions", "set", "2", "bob@nomail.test"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(
            "bob@nomail.test is at a domain that takes no mail (nomail.test: null MX (RFC 7505): \
             accepts no mail); give --force to set it anyway",
        ));
    assert_eq!(stored(d)[1].1.as_deref(), Some("bob.roe@acme.test"));
    hailer(d)
        .args(["suggestions", "set", "2", "bob@nomail.test", "--force"])
        .assert()
        .success();
    assert_eq!(stored(d)[1].1.as_deref(), Some("bob@nomail.test"));

    // Initech has no domain; typing Bill's address gives it one, which find keeps.
    std::fs::write(
        d.join("q.csv"),
        "firstname,lastname,company\nBill,Lumbergh,Initech\nPeter,Gibbons,Initech\n",
    )
    .unwrap();
    hailer(d)
        .args(["import", "prospects", "q.csv"])
        .assert()
        .success();
    let bill: i64 = store
        .conn()
        .query_row(
            "SELECT id FROM prospects WHERE firstname = 'Bill'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    hailer(d)
        .args([
            "suggestions",
            "set",
            &bill.to_string(),
            "bill.lumbergh@initech.test",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("it is now initech.test"));
    let (domain, source): (String, String) = store
        .conn()
        .query_row(
            "SELECT domain, domain_source FROM companies WHERE key = 'initech'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (domain.as_str(), source.as_str()),
        ("initech.test", "manual")
    );
    let typed = suggestions::typed_addresses(store.conn()).unwrap();
    assert_eq!(
        typed.get(&bill).map(String::as_str),
        Some("bill.lumbergh@initech.test")
    );
}

/// The outbox row of prospect `first` (by first name).
fn outbox_row(dir: &Path, first: &str) -> outbox::OutboxRow {
    let store = Store::open_in(&dir.join("data")).unwrap();
    outbox::list(store.conn(), None)
        .unwrap()
        .into_iter()
        .find(|r| r.firstname == first)
        .unwrap()
}

/// An approval is given to a row built for one address: once the address in use changes on
/// Suggestions (set, reset, accepting one over the imported address), the row is held as
/// ERROR, unapproved, with the reason, and the command says so; a rebuild makes it anew for
/// the new address, to be approved again. A choice that keeps the address holds nothing.
/// Every command that can hold a row says so in the same words.
#[test]
fn changing_an_address_holds_the_outbox_row_built_for_the_old_one() {
    let dir = campaign();
    let d = dir.path();
    // Eve has an imported address, and find suggested another one.
    std::fs::write(
        d.join("e.csv"),
        "firstname,lastname,company,email\nEve,Moe,Acme SA,eve@acme.test\n",
    )
    .unwrap();
    hailer(d)
        .args(["import", "prospects", "e.csv"])
        .assert()
        .success();
    let store = Store::open_in(&d.join("data")).unwrap();
    let eve: i64 = store
        .conn()
        .query_row(
            "SELECT id FROM prospects WHERE firstname = 'Eve'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    suggestions::upsert(
        store.conn(),
        &suggestions::NewSuggestion {
            prospect_id: eve,
            email: Some("eve.moe@acme.test"),
            alternatives: &[],
            pattern: Some("first.last"),
            confidence: 80,
            evidence: &[],
            status: "suggested",
            reason: None,
        },
        true,
        1,
    )
    .unwrap();
    hailer(d)
        .args(["suggestions", "accept", "1", "2"])
        .assert()
        .success();
    hailer(d).args(["outbox", "build"]).assert().success();
    hailer(d)
        .args(["outbox", "approve", "--all"])
        .assert()
        .success();
    for first in ["Ann", "Bob", "Eve"] {
        let row = outbox_row(d, first);
        assert_eq!((row.status, row.approved), (outbox::Status::Ready, true));
    }
    let ann = outbox_row(d, "Ann").id;

    let out = hailer(d)
        .args(["suggestions", "set", "1", "a.doe@acme.test", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["outbox_held"], serde_json::json!([ann]));
    let row = outbox_row(d, "Ann");
    assert_eq!((row.status, row.approved), (outbox::Status::Error, false));
    assert_eq!(
        row.reason.as_deref(),
        Some(
            "address changed: built for ann.doe@acme.test, the prospect's address is now \
             a.doe@acme.test (rebuild the outbox)"
        )
    );

    let bob = outbox_row(d, "Bob").id;
    hailer(d)
        .args(["suggestions", "reset", "2"])
        .assert()
        .success()
        .stdout(predicate::str::ends_with(format!(
            "reset 1 suggestion\noutbox row #{bob} built for the old address: ERROR until \
             `hailer outbox build` makes it for the new one\n"
        )));
    assert_eq!(
        outbox_row(d, "Bob").reason.as_deref(),
        Some(
            "address changed: built for bob.roe@acme.test, the prospect has no address now \
             (rebuild the outbox)"
        )
    );

    let eve_row = outbox_row(d, "Eve").id;
    hailer(d)
        .args(["suggestions", "accept", &eve.to_string()])
        .assert()
        .success()
        .stdout(predicate::str::ends_with(format!(
            "accepted 1 suggestion\noutbox row #{eve_row} built for the old address: ERROR until \
             `hailer outbox build` makes it for the new one\n"
        )));
    assert_eq!(outbox_row(d, "Eve").status, outbox::Status::Error);

    // Setting the address a row was built for holds nothing.
    hailer(d).args(["outbox", "build"]).assert().success();
    for (first, email) in [("Ann", "a.doe@acme.test"), ("Eve", "eve.moe@acme.test")] {
        let row = outbox_row(d, first);
        assert_eq!(
            (row.status, row.approved, row.email.as_deref()),
            (outbox::Status::Ready, false, Some(email))
        );
    }
    assert!(
        outbox_row(d, "Bob")
            .reason
            .unwrap()
            .starts_with("no address")
    );
    hailer(d)
        .args(["outbox", "approve", "--all"])
        .assert()
        .success();
    let out = hailer(d)
        .args(["suggestions", "set", "1", "A.Doe@acme.test", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["outbox_held"], serde_json::json!([]));
    let row = outbox_row(d, "Ann");
    assert_eq!((row.status, row.approved), (outbox::Status::Ready, true));
}

/// The alternatives a dead first choice gets probed for leave out the suppressed: an address
/// on the list is never probed, nor suggested.
#[test]
fn a_dead_first_choice_never_has_a_suppressed_alternative_probed() {
    let dir = campaign();
    let store = Store::open_in(&dir.path().join("data")).unwrap();
    hailer::store::verifications::upsert(
        store.conn(),
        &hailer::store::verifications::VerificationRow {
            email: "ann.doe@acme.test".into(),
            status: "MAILBOX_NOT_FOUND".into(),
            mx: Some("mx.acme.test".into()),
            code: Some(550),
            enhanced: Some("5.1.1".into()),
            detail: "User unknown".into(),
            checked_at: 1,
        },
    )
    .unwrap();
    let alternatives = |store: &Store| {
        suggestions::dead_first_choices(
            store.conn(),
            &hailer::store::verifications::Scope::default(),
            2,
        )
        .unwrap()
        .into_iter()
        .find(|d| d.prospect_id == 1)
        .map(|d| d.alternatives)
    };
    assert_eq!(
        alternatives(&store),
        Some(vec![
            "adoe@acme.test".to_string(),
            "ann@acme.test".to_string()
        ])
    );
    hailer::store::suppressions::add(store.conn(), "adoe@acme.test", "bounced", None, 1).unwrap();
    assert_eq!(
        alternatives(&store),
        Some(vec!["ann@acme.test".to_string()])
    );
    hailer::store::suppressions::add(store.conn(), "@acme.test", "manual", None, 1).unwrap();
    assert_eq!(alternatives(&store), None);
}
