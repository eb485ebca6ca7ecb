//! Outbox build rules on a real database: READY or ERROR with the reason, suppression,
//! duplicates, placeholders, and rebuilds that never touch sent rows.

use std::path::Path;

use hailer::engine::import::{self, ImportKind, ImportRequest};
use hailer::engine::outbox::build::build;
use hailer::store::outbox::{self, Status};
use hailer::store::{Store, suppressions};

fn store_with(dir: &Path, prospects: &str, messages: &str) -> Store {
    let mut store = Store::open_in(&dir.join("data")).unwrap();
    for (kind, name, text) in [
        (ImportKind::Prospects, "p.csv", prospects),
        (ImportKind::Messages, "m.csv", messages),
    ] {
        let file = dir.join(name);
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
    store
}

fn by_name(store: &Store) -> std::collections::HashMap<String, outbox::OutboxRow> {
    outbox::list(store.conn(), None)
        .unwrap()
        .into_iter()
        .map(|r| (r.firstname.clone(), r))
        .collect()
}

const PROSPECTS: &str = "firstname,lastname,company,email,city\n\
    Jane,Doe,Acme SA,jane.doe@acme.test,Lyon\n\
    John,Smith,ACME S.A.,,\n\
    Bob,Stone,Acme SA,JANE.DOE@acme.test,\n\
    Eve,Adams,Blocked Ltd,eve@blocked.test,\n\
    Max,Payne,Nomsg Inc,max@nomsg.test,\n\
    Zoé,Martin,Holes SARL,zoe@holes.test,\n";
const MESSAGES: &str = "company,subject,body\n\
    Acme,Hello {firstname},\"Hi {prenom} from {city|somewhere}, **{company}**\"\n\
    Blocked,Hi,Body\n\
    Holes,Hi {firstname},Your {city} and {unknown_col}\n";

#[test]
fn build_decides_ready_or_error_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with(dir.path(), PROSPECTS, MESSAGES);
    suppressions::add(store.conn(), "@blocked.test", "manual", None, 0).unwrap();
    let summary = build(&mut store).unwrap();
    assert_eq!((summary.ready, summary.error), (1, 5), "{summary}");
    let rows = by_name(&store);
    let jane = &rows["Jane"];
    assert_eq!(jane.status, Status::Ready);
    assert_eq!(jane.subject, "Hello Jane");
    assert_eq!(jane.body, "Hi Jane from Lyon, **Acme SA**");
    let reason = |n: &str| rows[n].reason.clone().unwrap_or_default();
    assert!(
        reason("John").starts_with("no address"),
        "{}",
        reason("John")
    );
    assert!(
        reason("Bob").starts_with("duplicate address"),
        "{}",
        reason("Bob")
    );
    assert!(
        reason("Eve").contains("suppressed: @blocked.test (manual)"),
        "{}",
        reason("Eve")
    );
    assert!(reason("Max").starts_with("no message"), "{}", reason("Max"));
    let holes = reason("Zoé");
    assert!(
        holes.contains("{city}") && holes.contains("{unknown_col}"),
        "{holes}"
    );
    assert!(
        !rows
            .values()
            .any(|r| r.status == Status::Ready && r.subject.contains('{'))
    );
}

#[test]
fn rebuild_keeps_sent_rows_approvals_edits_and_skips() {
    let dir = tempfile::tempdir().unwrap();
    let two = "firstname,lastname,company,email\nJane,Doe,Acme,jane@acme.test\nAnn,Lee,Acme,ann@acme.test\nTom,Hill,Acme,tom@acme.test\n";
    let mut store = store_with(
        dir.path(),
        two,
        "company,subject,body\nAcme,Hi {firstname},Body\n",
    );
    build(&mut store).unwrap();
    let rows = by_name(&store);
    let (jane, ann, tom) = (rows["Jane"].id, rows["Ann"].id, rows["Tom"].id);
    outbox::set_approved(store.conn(), &[jane, ann], true, 1).unwrap();
    outbox::set_skipped(store.conn(), &[tom], true, 1).unwrap();
    // Jane was sent; her row must survive anything, even a suppression of her address.
    store
        .conn()
        .execute(
            "UPDATE outbox SET status = 'SENT', smtp_reply = '250 ok' WHERE id = ?1",
            [jane],
        )
        .unwrap();
    suppressions::add(store.conn(), "jane@acme.test", "manual", None, 2).unwrap();
    outbox::edit(store.conn(), ann, "Edited {x}", "Edited body", None, 3).unwrap();
    let summary = build(&mut store).unwrap();
    assert_eq!(summary.locked, 1);
    let rows = by_name(&store);
    assert_eq!(rows["Jane"].status, Status::Sent);
    assert_eq!(rows["Jane"].smtp_reply.as_deref(), Some("250 ok"));
    assert_eq!(
        rows["Ann"].subject, "Edited {x}",
        "hand edits survive rebuilds"
    );
    assert!(!rows["Ann"].approved, "an edit needs a new approval");
    assert_eq!(rows["Tom"].status, Status::Skipped);
    // Unchanged READY rows keep their approval across a rebuild.
    outbox::set_skipped(store.conn(), &[tom], false, 4).unwrap();
    outbox::set_approved(store.conn(), &[tom], true, 4).unwrap();
    build(&mut store).unwrap();
    assert!(by_name(&store)["Tom"].approved);
}

#[test]
fn a_sent_address_is_never_given_to_a_second_prospect() {
    let dir = tempfile::tempdir().unwrap();
    let text = "firstname,lastname,company,email\nJane,Doe,Acme,jane@acme.test\n";
    let mut store = store_with(dir.path(), text, "company,subject,body\nAcme,Hi,Body\n");
    build(&mut store).unwrap();
    store
        .conn()
        .execute("UPDATE outbox SET status = 'SENT'", [])
        .unwrap();
    // A second prospect with the same address arrives later (another company spelling).
    let more = dir.path().join("more.csv");
    std::fs::write(
        &more,
        "firstname,lastname,company,email\nJ.,Doe,Acme Group,Jane@acme.test\n",
    )
    .unwrap();
    let req = ImportRequest {
        kind: ImportKind::Prospects,
        file: more,
        sheet: None,
        overrides: vec![],
        sample: false,
    };
    import::run(&mut store, &req, &mut |_| true).unwrap();
    build(&mut store).unwrap();
    let rows = by_name(&store);
    assert_eq!(rows["J."].status, Status::Error);
    assert!(
        rows["J."]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("duplicate address")
    );
}

#[test]
fn verification_verdicts_block_or_flag_rows() {
    let dir = tempfile::tempdir().unwrap();
    let people = "firstname,lastname,company,email\nAna,A,Acme,ana@acme.test\nBen,B,Acme,ben@acme.test\nCid,C,Acme,cid@acme.test\nDan,D,Acme,dan@acme.test\n";
    let mut store = store_with(dir.path(), people, "company,subject,body\nAcme,Hi,Body\n");
    for (email, status) in [
        ("ana@acme.test", "MAILBOX_NOT_FOUND"),
        ("ben@acme.test", "CATCH_ALL"),
        ("cid@acme.test", "VALID"),
        ("dan@acme.test", "TIMEOUT"),
    ] {
        store
            .conn()
            .execute(
                "INSERT INTO verifications (email, status, detail, checked_at) VALUES (?1, ?2, 'rig', 0)",
                [email, status],
            )
            .unwrap();
    }
    build(&mut store).unwrap();
    let rows = by_name(&store);
    assert_eq!(rows["Ana"].status, Status::Error);
    assert!(
        rows["Ana"]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("blocked by verification: MAILBOX_NOT_FOUND")
    );
    assert_eq!(rows["Ben"].status, Status::Ready);
    assert!(
        rows["Ben"]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("risky: CATCH_ALL")
    );
    assert_eq!(rows["Cid"].status, Status::Ready);
    assert_eq!(rows["Cid"].reason, None);
    // A verification that could not conclude is no confirmation: sendable, but flagged.
    assert_eq!(rows["Dan"].status, Status::Ready);
    assert_eq!(
        rows["Dan"].reason.as_deref(),
        Some("risky: unconfirmed, the last verification gave TIMEOUT (rig)")
    );
}

#[test]
fn an_accepted_suggestion_gives_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let people = "firstname,lastname,company\nAna,Lopez,Acme\nBen,Ruiz,Acme\n";
    let mut store = store_with(
        dir.path(),
        people,
        "company,subject,body\nAcme,Hi {firstname},Body\n",
    );
    let ids: Vec<i64> = store
        .conn()
        .prepare("SELECT id FROM prospects ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (id, status) in [(ids[0], "accepted"), (ids[1], "suggested")] {
        store
            .conn()
            .execute(
                "INSERT INTO suggestions (prospect_id, email, status, updated_at) VALUES (?1, ?2, ?3, 0)",
                rusqlite::params![id, format!("p{id}@acme.test"), status],
            )
            .unwrap();
    }
    build(&mut store).unwrap();
    let rows = by_name(&store);
    assert_eq!(rows["Ana"].status, Status::Ready);
    assert_eq!(
        rows["Ana"].email.as_deref(),
        Some(format!("p{}@acme.test", ids[0]).as_str())
    );
    assert_eq!(
        rows["Ben"].status,
        Status::Error,
        "a suggestion not yet accepted is not used"
    );
}

#[test]
fn edited_rows_and_mustache_templates_never_keep_a_literal_placeholder() {
    let dir = tempfile::tempdir().unwrap();
    let people = "firstname,lastname,company,email\nJane,Doe,Acme,jane@acme.test\nAnn,Lee,Acme,ann@acme.test\n";
    let mut store = store_with(
        dir.path(),
        people,
        "company,subject,body\nAcme,Hi {{firstName}},\"Dear {{ prenom }}, {{title|friend}}\"\n",
    );
    build(&mut store).unwrap();
    let rows = by_name(&store);
    assert_eq!(rows["Jane"].status, Status::Ready);
    assert_eq!(rows["Jane"].subject, "Hi Jane");
    assert_eq!(rows["Jane"].body, "Dear Jane, friend");
    // A hand edit that leaves placeholder-like text is an ERROR at the next build, with the
    // edited text kept for the next edit.
    let ann = rows["Ann"].id;
    outbox::edit(store.conn(), ann, "Hello", "Bonjour { prenom }", None, 1).unwrap();
    build(&mut store).unwrap();
    let ann_row = &by_name(&store)["Ann"];
    assert_eq!(ann_row.status, Status::Error);
    let reason = ann_row.reason.clone().unwrap();
    assert!(
        reason.contains("{ prenom }") && reason.contains("edited by hand"),
        "{reason}"
    );
    assert_eq!(ann_row.body, "Bonjour { prenom }");
    // Fixed by hand: READY again, still the edited text.
    outbox::edit(store.conn(), ann, "Hello", "Bonjour Ann", None, 2).unwrap();
    build(&mut store).unwrap();
    let ann_row = &by_name(&store)["Ann"];
    assert_eq!(ann_row.status, Status::Ready);
    assert_eq!(ann_row.body, "Bonjour Ann");

    // The edit itself (TUI e) says so at once, without waiting for a rebuild: a placeholder
    // left in makes the READY row ERROR (it cannot be approved), fixing it makes it READY.
    let edit = |subject: &str, body: &str| {
        let problem = hailer::engine::outbox::template::edited_text_problem(subject, body);
        assert!(outbox::edit(store.conn(), ann, subject, body, problem.as_deref(), 3).unwrap());
        by_name(&store)["Ann"].clone()
    };
    let row = edit("Hi {unknownplaceholder}", "Bonjour Ann");
    assert_eq!(row.status, Status::Error);
    assert!(
        row.reason
            .as_deref()
            .unwrap()
            .contains("{unknownplaceholder} in subject"),
        "{row:?}"
    );
    assert_eq!(
        outbox::set_approved(store.conn(), &[ann], true, 4).unwrap(),
        0
    );
    let row = edit("Hi Ann", "Bonjour Ann");
    assert_eq!((row.status, row.reason), (Status::Ready, None));
    // An ERROR with another cause keeps it whatever the edit.
    let jane = by_name(&store)["Jane"].id;
    store
        .conn()
        .execute(
            "UPDATE outbox SET status = 'ERROR', reason = 'suppressed: jane@acme.test (manual)' WHERE id = ?1",
            [jane],
        )
        .unwrap();
    assert!(outbox::edit(store.conn(), jane, "Hi", "Body", None, 5).unwrap());
    let row = &by_name(&store)["Jane"];
    assert_eq!(row.status, Status::Error);
    assert!(row.reason.as_deref().unwrap().starts_with("suppressed"));
}

#[test]
fn a_typo_with_a_default_is_an_error_and_an_empty_column_is_empty_not_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let people = "firstname,lastname,company,email,city\nJane,Doe,Acme,jane@acme.test,Lyon\nAnn,Lee,Acme,ann@acme.test,\n";
    let mut store = store_with(
        dir.path(),
        people,
        "company,subject,body\nAcme,Hi {firstname} {frstname|there},From {city}\n",
    );
    build(&mut store).unwrap();
    let rows = by_name(&store);
    let jane = rows["Jane"].reason.clone().unwrap();
    assert!(
        jane.starts_with("unresolved placeholder")
            && jane.contains("unknown placeholder {frstname}"),
        "{jane}"
    );
    let ann = rows["Ann"].reason.clone().unwrap();
    assert!(ann.contains("empty placeholder {city}"), "{ann}");
    // What the row keeps to be edited: the failed placeholder as written, the rest filled.
    assert_eq!(rows["Jane"].subject, "Hi Jane {frstname|there}");
    assert_eq!(rows["Jane"].body, "From Lyon");
    assert_eq!(rows["Ann"].body, "From {city}");
}

#[test]
fn a_server_refusal_survives_rebuilds_until_the_address_changes() {
    let dir = tempfile::tempdir().unwrap();
    let text = "firstname,lastname,company,email\nJane,Doe,Acme,jane@acme.test\n";
    let mut store = store_with(dir.path(), text, "company,subject,body\nAcme,Hi,Body\n");
    build(&mut store).unwrap();
    let jane = by_name(&store)["Jane"].id;
    // What the sender writes after a 550 to RCPT TO.
    let refusal = "RCPT TO: permanent error (550): 5.1.1 no such user";
    store
        .conn()
        .execute(
            "UPDATE outbox SET status = 'ERROR', reason = ?2, smtp_reply = ?2, attempts = 1,
                 mailbox = 'm', refused_at = 5 WHERE id = ?1",
            rusqlite::params![jane, refusal],
        )
        .unwrap();
    let summary = build(&mut store).unwrap();
    assert_eq!(summary.locked, 1, "{summary}");
    let row = &by_name(&store)["Jane"];
    assert_eq!(row.status, Status::Error);
    assert_eq!(row.reason.as_deref(), Some(refusal));
    // Skipped, rebuilt, un-skipped: still the server's refusal, never READY again.
    outbox::set_skipped(store.conn(), &[jane], true, 6).unwrap();
    assert_eq!(build(&mut store).unwrap().locked, 1);
    outbox::set_skipped(store.conn(), &[jane], false, 7).unwrap();
    let row = &by_name(&store)["Jane"];
    assert_eq!(row.status, Status::Error);
    assert_eq!(row.reason.as_deref(), Some(refusal));
    assert_eq!(row.smtp_reply.as_deref(), Some(refusal));
    // A new address (a corrected import) is a new attempt.
    store
        .conn()
        .execute(
            "UPDATE prospects SET email = 'j.doe@acme.test' WHERE firstname = 'Jane'",
            [],
        )
        .unwrap();
    build(&mut store).unwrap();
    let row = &by_name(&store)["Jane"];
    assert_eq!(row.status, Status::Ready);
    assert_eq!(row.email.as_deref(), Some("j.doe@acme.test"));
    assert_eq!((row.attempts, row.smtp_reply.as_deref()), (0, None));
}

#[test]
fn a_skipped_row_stays_skipped_whatever_its_reason_and_unskips_to_where_it_belongs() {
    let dir = tempfile::tempdir().unwrap();
    let people = "firstname,lastname,company,email\nJane,Doe,Acme,jane@acme.test\nMax,Payne,Nomsg,max@nomsg.test\n";
    let mut store = store_with(dir.path(), people, "company,subject,body\nAcme,Hi,Body\n");
    build(&mut store).unwrap();
    let rows = by_name(&store);
    let (jane, max) = (rows["Jane"].id, rows["Max"].id);
    assert_eq!(rows["Max"].status, Status::Error);
    outbox::set_skipped(store.conn(), &[jane, max], true, 1).unwrap();
    // A suppression (what `D` does before its rebuild) gives Jane an error reason too.
    suppressions::add(store.conn(), "jane@acme.test", "manual", None, 2).unwrap();
    build(&mut store).unwrap();
    let rows = by_name(&store);
    assert_eq!(rows["Jane"].status, Status::Skipped);
    assert_eq!(rows["Max"].status, Status::Skipped);
    outbox::set_skipped(store.conn(), &[jane, max], false, 3).unwrap();
    let rows = by_name(&store);
    assert_eq!(rows["Jane"].status, Status::Error, "suppressed: not READY");
    assert_eq!(rows["Max"].status, Status::Error, "no message: not READY");
    suppressions::remove(store.conn(), "jane@acme.test").unwrap();
    build(&mut store).unwrap();
    assert_eq!(by_name(&store)["Jane"].status, Status::Ready);
}

#[test]
fn an_address_belongs_to_the_first_prospect_that_can_be_sent() {
    let dir = tempfile::tempdir().unwrap();
    let people = "firstname,lastname,company,email,city\nJane,Doe,Acme,info@acme.test,\nAnn,Lee,Acme,INFO@acme.test,Lyon\n";
    let mut store = store_with(
        dir.path(),
        people,
        "company,subject,body\nAcme,Hi,From {city}\n",
    );
    build(&mut store).unwrap();
    let rows = by_name(&store);
    assert_eq!(rows["Jane"].status, Status::Error, "empty {{city}}");
    assert_eq!(
        rows["Ann"].status,
        Status::Ready,
        "{:?}",
        rows["Ann"].reason
    );
}

#[test]
fn addresses_are_checked_strictly_and_never_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let people = "firstname,lastname,company,email\nJane,Doe,Acme,jane.doe@acme.test\nAnn,Lee,Acme,ann@www.acme.test\n";
    let mut store = store_with(dir.path(), people, "company,subject,body\nAcme,Hi,Body\n");
    // The import refuses such an address now; one stored before (or by hand) still meets
    // the build's check.
    store
        .conn()
        .execute(
            "UPDATE prospects SET email = 'jane..doe@acme.test' WHERE firstname = 'Jane'",
            [],
        )
        .unwrap();
    build(&mut store).unwrap();
    let rows = by_name(&store);
    let jane = rows["Jane"].reason.clone().unwrap_or_default();
    assert!(jane.starts_with("invalid syntax"), "{jane}");
    assert_eq!(rows["Ann"].status, Status::Ready);
    assert_eq!(rows["Ann"].email.as_deref(), Some("ann@www.acme.test"));
}

#[test]
fn values_are_escaped_in_markdown_bodies_but_not_in_subjects() {
    let dir = tempfile::tempdir().unwrap();
    let people = "firstname,lastname,company,email\nJane,Doe_Smith <CEO>,Acme,jane@acme.test\n";
    let mut store = store_with(
        dir.path(),
        people,
        "company,subject,body\nAcme,For {nom},Dear {nom}\n",
    );
    build(&mut store).unwrap();
    let row = &by_name(&store)["Jane"];
    assert_eq!(row.subject, "For Doe_Smith <CEO>");
    assert_eq!(
        hailer::engine::outbox::compose::markdown_to_text(&row.body),
        "Dear Doe_Smith <CEO>\n"
    );
}

#[test]
fn values_that_together_look_like_a_placeholder_make_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let people = "firstname,lastname,company,email,city\nJane,Doe,Acme {,jane@acme.test,Lyon}\n";
    let mut store = store_with(
        dir.path(),
        people,
        "company,subject,body\n\"Acme {\",Hi {company}{city},Body\n",
    );
    build(&mut store).unwrap();
    let row = &by_name(&store)["Jane"];
    assert_eq!(row.status, Status::Error);
    let reason = row.reason.clone().unwrap();
    assert!(
        reason.contains("unresolved placeholder: {Lyon}") && reason.contains("subject"),
        "{reason}"
    );
}

#[test]
fn the_store_itself_never_rebuilds_over_a_server_refusal_at_the_same_address() {
    let dir = tempfile::tempdir().unwrap();
    let text = "firstname,lastname,company,email\nJane,Doe,Acme,jane@acme.test\n";
    let mut store = store_with(dir.path(), text, "company,subject,body\nAcme,Hi,Body\n");
    build(&mut store).unwrap();
    let row = by_name(&store)["Jane"].clone();
    let refusal = "RCPT TO: permanent error (550): 5.1.1 no such user";
    for status in ["ERROR", "SKIPPED"] {
        store
            .conn()
            .execute(
                "UPDATE outbox SET status = ?2, reason = ?3, smtp_reply = ?3 WHERE id = ?1",
                rusqlite::params![row.id, status, refusal],
            )
            .unwrap();
        // What a build would write for it: READY at the same address (in another case).
        let upsert = |store: &mut Store, email: &str| {
            let tx = store.conn_mut().transaction().unwrap();
            let built = outbox::Built {
                prospect_id: row.prospect_id,
                message_id: None,
                email: Some(email.to_string()),
                company_key: "acme".into(),
                subject: "Hi".into(),
                body: "Body".into(),
                status: Status::Ready,
                reason: None,
                approved: true,
            };
            outbox::upsert_built(&tx, &built, 9).unwrap();
            tx.commit().unwrap();
        };
        upsert(&mut store, "Jane@ACME.test");
        let kept = &by_name(&store)["Jane"];
        assert_eq!(kept.status.as_str(), status);
        assert_eq!(kept.reason.as_deref(), Some(refusal));
        // A new address is a new attempt.
        upsert(&mut store, "j.doe@acme.test");
        let rebuilt = &by_name(&store)["Jane"];
        assert_eq!(rebuilt.status, Status::Ready);
        assert_eq!(rebuilt.smtp_reply, None);
        store
            .conn()
            .execute(
                "UPDATE outbox SET email = 'jane@acme.test' WHERE id = ?1",
                [row.id],
            )
            .unwrap();
    }
}

/// A CRM's leftover merge field in a name reaches the recipient in the To header even when
/// the template never uses the name: the row is an ERROR that names it.
#[test]
fn a_placeholder_left_in_a_name_is_an_error_even_unused_by_the_template() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with(
        dir.path(),
        "firstname,lastname,company,email\n{FirstName},Doe,Acme,jd@acme.test\nAnn,Lee,Acme,ann@acme.test\n",
        "company,subject,body\nAcme,Hello,A message that uses no name\n",
    );
    build(&mut store).unwrap();
    let rows = by_name(&store);
    assert_eq!(rows["Ann"].status, Status::Ready);
    let row = &rows["{FirstName}"];
    assert_eq!(row.status, Status::Error);
    let reason = row.reason.clone().unwrap();
    assert!(
        reason.contains("{FirstName}") && reason.contains("recipient's name"),
        "{reason}"
    );
}

/// An accented domain and its ASCII form are one address: the second prospect is a
/// duplicate, and a suppression written in either form blocks both.
#[test]
fn an_international_domain_in_either_spelling_is_one_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with(
        dir.path(),
        "firstname,lastname,company,email\nJean,Roux,Café,jean@café.test\n\
         Jeannot,Roux,Café,jean@xn--caf-dma.test\nLéa,Roux,Café,lea@café.test\n",
        "company,subject,body\nCafé,Hello,Bonjour {firstname}\n",
    );
    suppressions::add(
        store.conn(),
        "lea@xn--caf-dma.test",
        "unsubscribed",
        None,
        0,
    )
    .unwrap();
    build(&mut store).unwrap();
    let rows = by_name(&store);
    assert_eq!(
        rows["Jean"].status,
        Status::Ready,
        "{:?}",
        rows["Jean"].reason
    );
    let dup = rows["Jeannot"].reason.clone().unwrap_or_default();
    assert!(dup.starts_with("duplicate address"), "{dup}");
    let lea = rows["Léa"].reason.clone().unwrap_or_default();
    assert!(lea.contains("suppressed"), "{lea}");
}

/// A prospect without an address whose suggestion nobody accepted: its ERROR row names the
/// suggestion (the Outbox is where the row is reviewed, and "no accepted suggestion" hid that
/// one waits on Suggestions), or its verdict when it is dead and another address is needed.
#[test]
fn a_row_without_address_names_the_suggestion_waiting_for_acceptance() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with(
        dir.path(),
        "firstname,lastname,company\nJane,Doe,Acme SA\nJohn,Smith,Acme SA\nAnn,Lee,Acme SA\n\
         Noel,Gone,Acme SA\n",
        "company,subject,body\nAcme,Hello {firstname},Hi\n",
    );
    let id = |name: &str| -> i64 {
        store
            .conn()
            .query_row(
                "SELECT id FROM prospects WHERE firstname = ?1",
                [name],
                |r| r.get(0),
            )
            .unwrap()
    };
    let (jane, john, noel) = (id("Jane"), id("John"), id("Noel"));
    store
        .conn()
        .execute(
            "INSERT INTO suggestions (prospect_id, email, confidence, status, updated_at)
             VALUES (?1, 'noel.gone@acme.test', 0, 'suggested', 0)",
            [noel],
        )
        .unwrap();
    store
        .conn()
        .execute(
            "INSERT INTO verifications (email, status, detail, checked_at)
             VALUES ('noel.gone@acme.test', 'MAILBOX_NOT_FOUND', '550 5.1.1 unknown', 0)",
            [],
        )
        .unwrap();
    store
        .conn()
        .execute(
            "INSERT INTO suggestions (prospect_id, email, confidence, status, updated_at)
             VALUES (?1, 'jane.doe@acme.test', 94, 'suggested', 0)",
            [jane],
        )
        .unwrap();
    store
        .conn()
        .execute(
            "INSERT INTO verifications (email, status, detail, checked_at)
             VALUES ('jane.doe@acme.test', 'CATCH_ALL', 'accepted, but so is a made-up address', 0)",
            [],
        )
        .unwrap();
    store
        .conn()
        .execute(
            "INSERT INTO suggestions (prospect_id, email, status, reason, updated_at)
             VALUES (?1, NULL, 'no-mail', 'acme.test: null MX (takes no mail)', 0)",
            [john],
        )
        .unwrap();
    build(&mut store).unwrap();
    let rows = by_name(&store);
    assert_eq!(rows["Jane"].status, Status::Error);
    assert_eq!(
        rows["Jane"].reason.as_deref(),
        Some("no address: jane.doe@acme.test not accepted")
    );
    // Verified dead: accepting it is no way out, typing another is.
    assert_eq!(
        rows["Noel"].reason.as_deref(),
        Some("no address: noel.gone@acme.test is MAILBOX_NOT_FOUND")
    );
    // No suggestion to accept: as before.
    for name in ["John", "Ann"] {
        assert_eq!(
            rows[name].reason.as_deref(),
            Some("no address: no imported email or accepted suggestion"),
            "{name}"
        );
    }
}
