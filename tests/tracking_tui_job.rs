//! `[tracking] serve_in_tui = true`: the tracking server as a supervised background job, as
//! the TUI starts it. It shows on Activity, serves the pixel, and flushes events when the job
//! is cancelled (which is what quitting the TUI does).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use hailer::engine::jobs::{JobKind, JobMsg, Outcome, Supervisor};
use hailer::engine::tracking::server::ServeConfig;
use hailer::engine::tracking::token::{Claims, Signer, TokenKind};
use hailer::engine::verify::VerifyOptions;
use hailer::store::Store;
use hailer::tui::app::{App, Settings, Tab, TaskState};
use tokio_util::sync::CancellationToken;

const SECRET: &[u8] = b"tui job secret, long enough";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_server_job_serves_shows_on_activity_and_flushes_on_cancel() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    Store::open_in(&data)
        .unwrap()
        .conn()
        .execute_batch(
            "INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'Acme', 0);
             INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
             VALUES (1, 'Jane', 'Doe', 'Acme', 'acme', 'jane|doe', 0);
             INSERT INTO outbox (id, prospect_id, email, company_key, status, created_at, updated_at)
             VALUES (3, 1, 'jane.doe@acme.test', 'acme', 'SENT', 0, 0);",
        )
        .unwrap();
    let cfg = ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.clone(),
        secret: Some(SECRET.to_vec()),
        mailboxes: Vec::new(),
        api_token: None,
        verify: VerifyOptions::default(),
        base_path: None,
    };
    let root = CancellationToken::new();
    // A failing assertion must not leave the server job holding the runtime open.
    let _stop_on_panic = root.clone().drop_guard();
    let (mut sup, mut rx) = Supervisor::new(root);
    let id = sup.spawn_blocking(JobKind::Serve, "tracking server", false, move |rep| {
        hailer::engine::tracking::job::run(cfg, rep)
    });
    let mut app = App::new(Settings::default(), PathBuf::from("/"), false);
    // Wait for the "listening on http://ADDR" line.
    let addr: SocketAddr = loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("the job reports")
            .expect("channel open");
        app.on_job(msg.clone());
        if let JobMsg::Log { text, .. } = &msg
            && let Some(rest) = text.strip_prefix("listening on http://")
        {
            break rest.parse().unwrap();
        }
        assert!(!matches!(msg, JobMsg::Finished { .. }), "{msg:?}");
    };
    let task = &app.activity.tasks[0];
    assert_eq!(
        (task.kind, task.state),
        (JobKind::Serve, TaskState::Running)
    );
    app.tab = Tab::Activity;

    let token = Signer::new(SECRET).issue(&Claims {
        kind: TokenKind::Open,
        outbox_id: 3,
        url: None,
        recipient: None,
    });
    let reply = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "GET /o/{token}.gif HTTP/1.1\r\nHost: t\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        String::from_utf8_lossy(&raw).into_owned()
    })
    .await
    .unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    // Activity says what the server stored, not only that it listens.
    let note = loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("the job reports the open it stored")
            .expect("channel open");
        app.on_job(msg.clone());
        if let JobMsg::Progress { note, .. } = msg
            && note.contains("since start")
        {
            break note;
        }
    };
    assert_eq!(
        note,
        format!(
            "listening on http://{addr} · since start: 1 open (1 by people) · 0 clicks (0 by \
             people) · 0 unsubscribes"
        )
    );

    // Cancelling the job (what quitting the TUI does) stops the server after a flush.
    assert!(sup.cancel(id));
    let outcome = loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("the job finishes")
            .expect("channel open");
        app.on_job(msg.clone());
        if let JobMsg::Finished { outcome, .. } = msg {
            break outcome;
        }
    };
    assert!(
        matches!(&outcome, Outcome::Done(s) if s.contains("events flushed")),
        "{outcome:?}"
    );
    let stored: i64 = Store::open_in(&data)
        .unwrap()
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM tracking_events WHERE outbox_id = 3 AND kind = 'OPEN' AND machine = 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn a_taken_port_fails_the_job_with_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = ServeConfig {
        listen,
        data_dir: dir.path().join("data"),
        secret: Some(SECRET.to_vec()),
        mailboxes: Vec::new(),
        api_token: None,
        verify: VerifyOptions::default(),
        base_path: None,
    };
    let (mut sup, mut rx) = Supervisor::new(CancellationToken::new());
    sup.spawn_blocking(JobKind::Serve, "tracking server", false, move |rep| {
        hailer::engine::tracking::job::run(cfg, rep)
    });
    let outcome = loop {
        match tokio::time::timeout(Duration::from_secs(20), rx.recv()).await {
            Ok(Some(JobMsg::Finished { outcome, .. })) => break outcome,
            Ok(Some(_)) => {}
            other => panic!("{other:?}"),
        }
    };
    let Outcome::Failed(err) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(err.contains(&listen.to_string()), "{err}");
}
