//! The verification engine against scripted servers on loopback (no rig needed): a listener
//! that never answers, a dropped connection, a multi-line 421, slow and trickling replies, a
//! broken STARTTLS, the QUIT seen by the server, and the per-host interval as the listener
//! timestamps it. DNS comes from a scripted responder; every name is under `.test`.

#[path = "common/fake_dns.rs"]
mod fake_dns;
#[path = "common/fake_smtp.rs"]
mod fake_smtp;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_dns::Answer;
use fake_smtp::{Act, FakeSmtp, replies, reply, standard};
use hailer::engine::verify::dns::DnsSettings;
use hailer::engine::verify::{
    InputItem, Status, VerifyEvent, VerifyIn, VerifyOptions, VerifyOut, VerifySummary, run,
};
use hickory_resolver::proto::rr::RecordType;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const LOOPBACK: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
/// Nothing listens there (all of 127/8 is loopback on Linux).
const DEAD: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);

/// A zone where `NAME.test` has MX `mx.NAME.test` at 127.0.0.1, for each name.
async fn zone(names: &[&'static str]) -> SocketAddr {
    let mut records = Vec::new();
    for name in names {
        let domain: &'static str = Box::leak(format!("{name}.test").into_boxed_str());
        let mx: &'static str = Box::leak(format!("mx.{name}.test").into_boxed_str());
        records.push((domain, RecordType::MX, Answer::Mx(vec![(10, mx)])));
        records.push((mx, RecordType::A, Answer::A(LOOPBACK)));
    }
    fake_dns::serve(records).await
}

fn options(dns: SocketAddr, port: u16) -> VerifyOptions {
    VerifyOptions {
        port,
        helo_name: "probe.sender.test".into(),
        from: "probe@sender.test".into(),
        allow_special_use: vec!["test".into()],
        rate_limit: Duration::ZERO,
        connect_timeout: Duration::from_secs(1),
        command_timeout: Duration::from_millis(800),
        dns: DnsSettings {
            nameservers: vec![dns],
            timeout: Duration::from_millis(500),
            attempts: 1,
        },
        retries: 0,
        retry_delay: Duration::from_millis(50),
        ..VerifyOptions::default()
    }
}

async fn verify(opts: VerifyOptions, emails: &[&str]) -> (Vec<VerifyOut>, VerifySummary) {
    verify_with(opts, emails, CancellationToken::new()).await
}

async fn verify_with(
    opts: VerifyOptions,
    emails: &[&str],
    cancel: CancellationToken,
) -> (Vec<VerifyOut>, VerifySummary) {
    let (out, _, summary) = verify_watching(opts, emails, cancel).await;
    (out, summary)
}

/// [`verify_with`], keeping every progress report too.
async fn verify_watching(
    opts: VerifyOptions,
    emails: &[&str],
    cancel: CancellationToken,
) -> (
    Vec<VerifyOut>,
    Vec<hailer::engine::verify::VerifyProg>,
    VerifySummary,
) {
    let mut progress = Vec::new();
    let (tx, rx) = mpsc::channel(4);
    let emails: Vec<String> = emails.iter().map(|s| s.to_string()).collect();
    tokio::spawn(async move {
        for e in emails {
            if tx.send(InputItem::new(e)).await.is_err() {
                return;
            }
        }
    });
    let mut out = Vec::new();
    let input = VerifyIn {
        items: rx,
        options: opts,
        cache: None,
    };
    let summary = run(
        input,
        |ev| match ev {
            VerifyEvent::Result(r) => out.push(r),
            VerifyEvent::Progress(p) => progress.push(p),
        },
        cancel,
    )
    .await
    .unwrap();
    (out, progress, summary)
}

async fn start(handler: impl Fn(usize, Option<&str>) -> Act + Send + Sync + 'static) -> FakeSmtp {
    fake_smtp::start("127.0.0.1", Arc::new(handler)).await
}

/// A server where jane@ exists and every other recipient is unknown.
fn jane_exists(_conn: usize, cmd: Option<&str>) -> Act {
    banner_then(cmd, |c| {
        if c.starts_with("RCPT TO:<jane@") {
            reply("250 2.1.5 Ok")
        } else if c.starts_with("RCPT") {
            reply("550 5.1.1 <x>: Recipient address rejected: User unknown")
        } else {
            standard(c)
        }
    })
}

fn banner_then(cmd: Option<&str>, f: impl Fn(&str) -> Act) -> Act {
    match cmd {
        None => reply("220 fake.test ESMTP"),
        Some(c) => f(c),
    }
}

#[tokio::test]
async fn a_listener_that_never_answers_is_a_timeout_and_still_gets_quit() {
    let srv = start(|_, _| Act::Hang).await;
    let dns = zone(&["silent"]).await;
    let started = Instant::now();
    let (out, _) = verify(options(dns, srv.addr.port()), &["jane@silent.test"]).await;
    let elapsed = started.elapsed();
    assert_eq!(
        out[0].verdict.status,
        Status::Timeout,
        "{:?}",
        out[0].verdict
    );
    assert!(
        out[0].verdict.detail.contains("no banner"),
        "{}",
        out[0].verdict.detail
    );
    assert_eq!(out[0].verdict.mx.as_deref(), Some("mx.silent.test"));
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    let conns = srv.settle(1).await;
    assert_eq!(conns.len(), 1);
    assert!(conns[0].saw("QUIT"), "{:?}", conns[0]);
}

#[tokio::test]
async fn silence_after_rcpt_is_a_timeout_within_the_command_timeout() {
    let srv = start(|_, cmd| {
        banner_then(cmd, |c| {
            if c.starts_with("RCPT") {
                Act::Hang
            } else {
                standard(c)
            }
        })
    })
    .await;
    let dns = zone(&["stall"]).await;
    let started = Instant::now();
    let (out, _) = verify(options(dns, srv.addr.port()), &["jane@stall.test"]).await;
    assert_eq!(
        out[0].verdict.status,
        Status::Timeout,
        "{:?}",
        out[0].verdict
    );
    assert!(
        out[0].verdict.detail.contains("RCPT TO"),
        "{}",
        out[0].verdict.detail
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    let conns = srv.settle(1).await;
    assert!(conns[0].saw("QUIT"), "{:?}", conns[0]);
}

#[tokio::test]
async fn a_connection_dropped_mid_session_is_temporary() {
    let srv = start(|_, cmd| {
        banner_then(cmd, |c| {
            if c.starts_with("MAIL") {
                Act::Close
            } else {
                standard(c)
            }
        })
    })
    .await;
    let dns = zone(&["drop"]).await;
    let (out, _) = verify(options(dns, srv.addr.port()), &["jane@drop.test"]).await;
    let v = &out[0].verdict;
    assert_eq!(v.status, Status::Temporary, "{v:?}");
    assert!(
        v.detail.contains("closed") && v.detail.contains("MAIL FROM"),
        "{}",
        v.detail
    );
}

#[tokio::test]
async fn a_multi_line_421_banner_is_temporary_with_all_its_text() {
    let srv = start(|_, cmd| match cmd {
        None => replies(&["421-4.3.2 fake.test is busy", "421 4.3.2 come back later"]),
        Some(c) => standard(c),
    })
    .await;
    let dns = zone(&["busy"]).await;
    let (out, _) = verify(options(dns, srv.addr.port()), &["jane@busy.test"]).await;
    let v = &out[0].verdict;
    assert_eq!(v.status, Status::Temporary, "{v:?}");
    assert_eq!(v.code, Some(421));
    assert_eq!(v.enhanced.as_deref(), Some("4.3.2"));
    assert!(
        v.detail.contains("is busy") && v.detail.contains("come back later"),
        "{}",
        v.detail
    );
    let conns = srv.settle(1).await;
    assert!(conns[0].saw("QUIT"), "{:?}", conns[0]);
}

#[tokio::test]
async fn a_multi_line_421_to_rcpt_is_temporary() {
    let srv = start(|_, cmd| {
        banner_then(cmd, |c| {
            if c.starts_with("RCPT") {
                replies(&["421-4.7.0 too many errors", "421 4.7.0 closing connection"])
            } else {
                standard(c)
            }
        })
    })
    .await;
    let dns = zone(&["late421"]).await;
    let (out, _) = verify(options(dns, srv.addr.port()), &["jane@late421.test"]).await;
    let v = &out[0].verdict;
    assert_eq!((v.status, v.code), (Status::Temporary, Some(421)), "{v:?}");
    assert!(
        v.detail.contains("too many errors closing connection"),
        "{}",
        v.detail
    );
}

#[tokio::test]
async fn a_slow_server_within_the_timeout_still_gives_a_verdict() {
    let srv = start(|_, cmd| match cmd {
        None => Act::Slow(Duration::from_millis(300), vec!["220 slow.test".into()]),
        Some(c) if c.starts_with("RCPT TO:<jane@") => {
            Act::Slow(Duration::from_millis(300), vec!["250 2.1.5 Ok".into()])
        }
        Some(c) if c.starts_with("RCPT") => Act::Slow(
            Duration::from_millis(300),
            vec!["550 5.1.1 User unknown".into()],
        ),
        Some(c) => match standard(c) {
            Act::Reply(lines) => Act::Slow(Duration::from_millis(300), lines),
            other => other,
        },
    })
    .await;
    let dns = zone(&["slow"]).await;
    let (out, _) = verify(options(dns, srv.addr.port()), &["jane@slow.test"]).await;
    assert_eq!(out[0].verdict.status, Status::Valid, "{:?}", out[0].verdict);
}

#[tokio::test]
async fn a_reply_trickling_in_beyond_the_timeout_is_a_timeout() {
    // Each byte comes quickly, but the whole reply takes longer than the command timeout.
    let srv = start(|_, cmd| {
        banner_then(cmd, |c| {
            if c.starts_with("EHLO") {
                Act::Trickle(
                    Duration::from_millis(40),
                    vec!["250-trickle.test".into(), "250 SMTPUTF8".into()],
                )
            } else {
                standard(c)
            }
        })
    })
    .await;
    let dns = zone(&["trickle"]).await;
    let started = Instant::now();
    let (out, _) = verify(options(dns, srv.addr.port()), &["jane@trickle.test"]).await;
    assert_eq!(
        out[0].verdict.status,
        Status::Timeout,
        "{:?}",
        out[0].verdict
    );
    assert!(
        out[0].verdict.detail.contains("EHLO"),
        "{}",
        out[0].verdict.detail
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn the_server_sees_ehlo_mail_rcpt_rset_quit_and_never_data() {
    let srv = start(jane_exists).await;
    let dns = zone(&["acme"]).await;
    let (out, _) = verify(options(dns, srv.addr.port()), &["jane@acme.test"]).await;
    assert_eq!(out[0].verdict.status, Status::Valid, "{:?}", out[0].verdict);
    assert_eq!(out[0].verdict.mx.as_deref(), Some("mx.acme.test"));
    let conns = srv.settle(1).await;
    let c = &conns[0].commands;
    assert_eq!(c[0], "EHLO probe.sender.test");
    assert_eq!(c[1], "MAIL FROM:<probe@sender.test>");
    assert_eq!(c[2], "RCPT TO:<jane@acme.test>");
    assert!(
        c[3].starts_with("RCPT TO:<") && c[3].ends_with("@acme.test>") && c[3] != c[2],
        "{c:?}"
    );
    assert_eq!(&c[4..], ["RSET", "QUIT"]);
    assert!(!conns[0].saw("DATA"));
}

#[tokio::test]
async fn catch_all_is_tested_once_per_domain() {
    let srv = start(|_, cmd| banner_then(cmd, standard)).await;
    let dns = zone(&["any"]).await;
    let mut opts = options(dns, srv.addr.port());
    opts.window = 1; // one after the other, so the second sees the first's finding
    let (out, _) = verify(opts, &["a@any.test", "b@any.test", "c@any.test"]).await;
    for o in &out {
        assert_eq!(o.verdict.status, Status::CatchAll, "{:?}", o.verdict);
    }
    let conns = srv.settle(3).await;
    let rcpts: Vec<usize> = conns.iter().map(|c| c.count("RCPT")).collect();
    assert_eq!(rcpts, [2, 1, 1]);
}

#[tokio::test]
async fn a_rejected_address_tells_the_domain_is_not_catch_all() {
    let srv = start(|_, cmd| {
        banner_then(cmd, |c| {
            if c.starts_with("RCPT TO:<jane@") {
                reply("250 2.1.5 Ok")
            } else if c.starts_with("RCPT") {
                reply("550 5.1.1 User unknown")
            } else {
                standard(c)
            }
        })
    })
    .await;
    let dns = zone(&["strict"]).await;
    let mut opts = options(dns, srv.addr.port());
    opts.window = 1;
    let (out, _) = verify(opts, &["nobody@strict.test", "jane@strict.test"]).await;
    assert_eq!(out[0].verdict.status, Status::MailboxNotFound);
    assert_eq!(out[0].verdict.enhanced.as_deref(), Some("5.1.1"));
    assert_eq!(out[1].verdict.status, Status::Valid);
    let conns = srv.settle(2).await;
    assert_eq!(conns[1].count("RCPT"), 1, "{:?}", conns[1]);
}

#[tokio::test]
async fn the_per_host_interval_is_respected_as_the_listener_sees_it() {
    let srv = start(|_, cmd| banner_then(cmd, standard)).await;
    let dns = zone(&["paced"]).await;
    let mut opts = options(dns, srv.addr.port());
    opts.rate_limit = Duration::from_millis(400);
    opts.concurrency = 8;
    let emails = [
        "a@paced.test",
        "b@paced.test",
        "c@paced.test",
        "d@paced.test",
    ];
    let (out, _) = verify(opts, &emails).await;
    assert_eq!(out.len(), 4);
    let conns = srv.settle(4).await;
    let mut starts: Vec<Instant> = conns.iter().map(|c| c.accepted_at).collect();
    starts.sort();
    for pair in starts.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(390), "sessions {gap:?} apart");
    }
}

#[tokio::test]
async fn rate_limit_zero_lets_hosts_run_back_to_back() {
    let srv = start(|_, cmd| banner_then(cmd, standard)).await;
    let dns = zone(&["fast"]).await;
    let emails: Vec<String> = (0..20).map(|i| format!("u{i}@fast.test")).collect();
    let emails: Vec<&str> = emails.iter().map(String::as_str).collect();
    let started = Instant::now();
    let (out, _) = verify(options(dns, srv.addr.port()), &emails).await;
    assert_eq!(out.len(), 20);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_broken_starttls_handshake_is_retried_in_plaintext() {
    let srv = start(|conn, cmd| {
        banner_then(cmd, |c| {
            let verb = c.to_ascii_uppercase();
            if verb.starts_with("EHLO") {
                replies(&["250-fake.test", "250-STARTTLS", "250 SMTPUTF8"])
            } else if verb == "STARTTLS" && conn == 0 {
                // "Ready", then bytes that are not a TLS ServerHello.
                Act::Raw(b"220 2.0.0 Ready to start TLS\r\nthis is not TLS at all\r\n".to_vec())
            } else if verb == "STARTTLS" {
                reply("454 4.7.0 TLS not available")
            } else if verb.starts_with("RCPT TO:<JANE@") {
                reply("250 2.1.5 Ok")
            } else if verb.starts_with("RCPT") {
                reply("550 5.1.1 User unknown")
            } else {
                standard(c)
            }
        })
    })
    .await;
    let dns = zone(&["badtls"]).await;
    let (out, _) = verify(options(dns, srv.addr.port()), &["jane@badtls.test"]).await;
    assert_eq!(out[0].verdict.status, Status::Valid, "{:?}", out[0].verdict);
    let conns = srv.settle(2).await;
    assert_eq!(conns.len(), 2, "{conns:?}");
    assert!(conns[0].saw("STARTTLS"));
    assert!(
        !conns[1].saw("STARTTLS"),
        "plaintext retry must not try TLS again: {:?}",
        conns[1]
    );
    assert!(conns[1].saw("QUIT"));
}

#[tokio::test]
async fn the_next_mx_is_tried_when_the_first_refuses_connections() {
    let srv = start(|_, cmd| banner_then(cmd, standard)).await;
    let dns = fake_dns::serve(vec![
        (
            "two.test",
            RecordType::MX,
            Answer::Mx(vec![(20, "mx2.two.test"), (10, "mx1.two.test")]),
        ),
        ("mx1.two.test", RecordType::A, Answer::A(DEAD)),
        ("mx2.two.test", RecordType::A, Answer::A(LOOPBACK)),
        (
            "dead.test",
            RecordType::MX,
            Answer::Mx(vec![(10, "mx.dead.test")]),
        ),
        ("mx.dead.test", RecordType::A, Answer::A(DEAD)),
    ])
    .await;
    let (out, _) = verify(
        options(dns, srv.addr.port()),
        &["jane@two.test", "jane@dead.test"],
    )
    .await;
    assert_eq!(
        out[0].verdict.status,
        Status::CatchAll,
        "{:?}",
        out[0].verdict
    );
    assert_eq!(out[0].verdict.mx.as_deref(), Some("mx2.two.test"));
    assert_eq!(
        out[1].verdict.status,
        Status::ConnectionRefused,
        "{:?}",
        out[1].verdict
    );
    assert!(
        out[1].verdict.detail.contains("127.0.0.3"),
        "{}",
        out[1].verdict.detail
    );
}

/// SERVFAIL and REFUSED are the resolver's answer, not greylisting: UNKNOWN at once (not
/// cached, so the next run asks again), never parked for a retry minutes away, even with
/// retries configured. A silent resolver (a lost packet) stays TEMPORARY.
#[tokio::test]
async fn dns_failures_are_told_apart_and_a_resolver_refusal_is_not_retried() {
    use hickory_resolver::proto::op::ResponseCode;
    let dns = fake_dns::serve(vec![
        (
            "servfail.test",
            RecordType::MX,
            Answer::Code(ResponseCode::ServFail),
        ),
        ("silent.test", RecordType::MX, Answer::Silence),
        ("nullmx.test", RecordType::MX, Answer::Mx(vec![(0, "")])),
        (
            "refused.test",
            RecordType::MX,
            Answer::Code(ResponseCode::Refused),
        ),
    ])
    .await;
    let started = Instant::now();
    let mut opts = options(dns, 9);
    opts.retries = 1;
    opts.retry_delay = Duration::from_millis(300);
    opts.ordered = true;
    let (out, progress, _) = verify_watching(
        opts,
        &[
            "a@servfail.test",
            "a@silent.test",
            "a@nullmx.test",
            "a@nosuch.test",
            "a@refused.test",
        ],
        CancellationToken::new(),
    )
    .await;
    let st: Vec<Status> = out.iter().map(|o| o.verdict.status).collect();
    assert_eq!(
        st,
        [
            Status::Unknown,
            Status::Temporary,
            Status::NoMx,
            Status::NoMx,
            Status::Unknown
        ]
    );
    assert!(
        out[4].verdict.detail.contains("REFUSED") && out[4].verdict.detail.contains("not retried"),
        "{}",
        out[4].verdict.detail
    );
    // Only the silent one waited for a retry, and the progress named it with its reason.
    let waited: Vec<&String> = progress.iter().flat_map(|p| &p.waiting_for).collect();
    assert!(!waited.is_empty());
    assert!(
        waited
            .iter()
            .all(|w| w.starts_with("a@silent.test (DNS timeout")),
        "{waited:?}"
    );
    assert!(out[1].verdict.detail.contains("after 1 retries"));
    assert!(!out[0].verdict.detail.contains("retries"));
    assert!(
        out[0].verdict.detail.contains("SERVFAIL"),
        "{}",
        out[0].verdict.detail
    );
    assert!(
        out[1].verdict.detail.contains("timeout"),
        "{}",
        out[1].verdict.detail
    );
    assert!(
        out[2].verdict.detail.contains("null MX"),
        "{}",
        out[2].verdict.detail
    );
    assert!(
        out[3].verdict.detail.contains("NXDOMAIN"),
        "{}",
        out[3].verdict.detail
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

/// A server that greylists the first `n` sessions, then accepts every recipient.
async fn greylisting(n: usize) -> FakeSmtp {
    start(move |conn, cmd| {
        banner_then(cmd, |c| {
            if c.starts_with("RCPT") && conn < n {
                reply("450 4.7.1 Greylisted, please try again later")
            } else {
                standard(c)
            }
        })
    })
    .await
}

#[tokio::test]
async fn temporary_results_are_retried_up_to_the_limit() {
    let dns = zone(&["grey"]).await;
    // One retry is not enough for a server that greylists two sessions.
    let srv = greylisting(2).await;
    let mut opts = options(dns, srv.addr.port());
    opts.retries = 1;
    let (out, _) = verify(opts.clone(), &["jane@grey.test"]).await;
    let v = &out[0].verdict;
    assert_eq!((v.status, v.code), (Status::Temporary, Some(450)), "{v:?}");
    assert!(v.detail.contains("after 1 retries"), "{}", v.detail);
    assert_eq!(srv.conns().len(), 2);
    // Two retries reach the third session, which accepts.
    let srv = greylisting(2).await;
    opts.port = srv.addr.port();
    opts.retries = 2;
    let (out, _) = verify(opts.clone(), &["jane@grey.test"]).await;
    assert_eq!(
        out[0].verdict.status,
        Status::CatchAll,
        "{:?}",
        out[0].verdict
    );
    assert_eq!(srv.conns().len(), 3);
    // No retries (the streaming default): reported at once.
    let srv = greylisting(2).await;
    opts.port = srv.addr.port();
    opts.retries = 0;
    let (out, _) = verify(opts, &["jane@grey.test"]).await;
    assert_eq!(out[0].verdict.status, Status::Temporary);
    assert!(!out[0].verdict.detail.contains("retries"));
    assert_eq!(srv.conns().len(), 1);
}

/// A server that greylists every recipient at grey.test and accepts every other one.
async fn greylisting_grey_test() -> FakeSmtp {
    start(|_, cmd| {
        banner_then(cmd, |c| {
            if c.starts_with("RCPT") && c.contains("@grey.test>") {
                reply("450 4.7.1 Greylisted, please try again later")
            } else {
                standard(c)
            }
        })
    })
    .await
}

/// The first RCPT domain of each session, in the order the server accepted them.
fn session_domains(conns: &[fake_smtp::Conn]) -> Vec<String> {
    let mut conns = conns.to_vec();
    conns.sort_by_key(|c| c.accepted_at);
    conns
        .iter()
        .map(|c| {
            let rcpt = c.commands.iter().find(|c| c.starts_with("RCPT")).cloned();
            let rcpt = rcpt.unwrap_or_default();
            rcpt.rsplit('@')
                .next()
                .unwrap_or("")
                .trim_end_matches('>')
                .to_string()
        })
        .collect()
}

/// Addresses waiting for a greylisting retry do not hold the window: with a window of two
/// and the first two addresses greylisted, the other eight are probed (and reported) while
/// they wait, not after.
#[tokio::test]
async fn addresses_waiting_for_a_retry_leave_the_window_to_the_others() {
    let dns = zone(&["grey", "fine"]).await;
    let srv = greylisting_grey_test().await;
    let mut opts = options(dns, srv.addr.port());
    opts.ordered = false;
    opts.window = 2;
    opts.retries = 1;
    opts.retry_delay = Duration::from_secs(2);
    let fine: Vec<String> = (0..8).map(|i| format!("p{i}@fine.test")).collect();
    let mut emails = vec!["a@grey.test", "b@grey.test"];
    emails.extend(fine.iter().map(String::as_str));
    let (out, summary) = verify(opts, &emails).await;
    assert_eq!(summary.total, 10);
    let reported: Vec<&str> = out.iter().map(|o| o.email.as_str()).collect();
    assert!(
        reported[..8].iter().all(|e| e.ends_with("@fine.test")),
        "{reported:?}"
    );
    for o in &out[8..] {
        assert_eq!(o.verdict.status, Status::Temporary, "{:?}", o.verdict);
        assert!(
            o.verdict.detail.contains("after 1 retries"),
            "{:?}",
            o.verdict
        );
    }
    // As the server saw it: two greylisted sessions, the eight others, then the two retries.
    let domains = session_domains(&srv.settle(12).await);
    let mut want = vec!["grey.test"; 2];
    want.extend(["fine.test"; 8]);
    want.extend(["grey.test"; 2]);
    assert_eq!(domains, want);
}

/// In input order, results done behind an address waiting for its retry are held back, at
/// most `backlog` addresses taken from the input: reading waits for the retry beyond that.
#[tokio::test]
async fn results_held_back_behind_a_waiting_retry_are_bounded_by_the_backlog() {
    let dns = zone(&["grey", "fine"]).await;
    let srv = greylisting_grey_test().await;
    let mut opts = options(dns, srv.addr.port());
    opts.ordered = true;
    opts.window = 2;
    opts.backlog = 4;
    opts.retries = 1;
    opts.retry_delay = Duration::from_secs(1);
    let fine: Vec<String> = (0..8).map(|i| format!("p{i}@fine.test")).collect();
    let mut emails = vec!["a@grey.test"];
    emails.extend(fine.iter().map(String::as_str));
    let (out, _) = verify(opts, &emails).await;
    let reported: Vec<&str> = out.iter().map(|o| o.email.as_str()).collect();
    assert_eq!(reported, emails);
    assert_eq!(
        out.iter().map(|o| o.index).collect::<Vec<_>>(),
        (0..9).collect::<Vec<u64>>()
    );
    assert_eq!(out[0].verdict.status, Status::Temporary);
    // The greylisted address and three others fill the backlog of four: the fourth waits
    // for the retry (the first two sessions start together, in either order).
    let domains = session_domains(&srv.settle(10).await);
    let greys: Vec<usize> = (0..domains.len())
        .filter(|&i| domains[i] == "grey.test")
        .collect();
    assert_eq!(greys.len(), 2, "{domains:?}");
    assert!(greys[0] <= 1, "{domains:?}");
    assert_eq!(greys[1], 4, "{domains:?}");
    assert_eq!(domains.len(), 10, "{domains:?}");
}

/// A catch-all server that greylists each recipient: the first RCPT of every address is
/// deferred, later ones are accepted.
async fn greylisting_catch_all() -> FakeSmtp {
    let seen = Arc::new(std::sync::Mutex::new(
        std::collections::HashSet::<String>::new(),
    ));
    start(move |_, cmd| {
        banner_then(cmd, |c| {
            if c.starts_with("RCPT") {
                if seen.lock().unwrap().insert(c.to_ascii_lowercase()) {
                    reply("450 4.7.1 Greylisted, please try again later")
                } else {
                    reply("250 2.1.5 Ok")
                }
            } else {
                standard(c)
            }
        })
    })
    .await
}

#[tokio::test]
async fn catch_all_behind_greylisting_is_caught_on_retry_and_never_plain_valid() {
    let dns = zone(&["greyall"]).await;
    // Session 1 defers jane; session 2 accepts jane and defers the random address; session 3
    // asks for the same random address, which the greylist now lets through.
    let srv = greylisting_catch_all().await;
    let mut opts = options(dns, srv.addr.port());
    opts.retries = 2;
    let (out, _) = verify(opts.clone(), &["jane@greyall.test"]).await;
    let v = &out[0].verdict;
    assert_eq!(v.status, Status::CatchAll, "{v:?}");
    let conns = srv.settle(3).await;
    assert_eq!(conns.len(), 3, "{conns:?}");
    let random: Vec<&String> = conns
        .iter()
        .flat_map(|c| c.commands.iter())
        .filter(|c| c.starts_with("RCPT") && !c.contains("jane@"))
        .collect();
    assert_eq!(random.len(), 2, "{random:?}");
    assert_eq!(random[0], random[1], "one random address per domain");
    // Retries run out while the catch-all test is still deferred: not VALID, but UNKNOWN
    // (risky in the outbox) with the reason.
    let srv = greylisting_catch_all().await;
    opts.port = srv.addr.port();
    opts.retries = 1;
    let (out, _) = verify(opts, &["jane@greyall.test"]).await;
    let v = &out[0].verdict;
    assert_eq!(v.status, Status::Unknown, "{v:?}");
    assert!(v.status.is_risky());
    assert!(
        v.detail.contains("catch-all test was inconclusive"),
        "{}",
        v.detail
    );
    assert!(v.detail.contains("450"), "{}", v.detail);
    // The code columns show the deferral that left the test open, not jane's own 250.
    assert_eq!(
        (v.code, v.enhanced.as_deref()),
        (Some(450), Some("4.7.1")),
        "{v:?}"
    );
    assert!(v.detail.contains("accepted (250"), "{}", v.detail);
}

#[tokio::test]
async fn garbage_from_the_server_is_unknown_not_a_crash() {
    let srv = start(|_, cmd| match cmd {
        None => reply("220 fake.test"),
        Some(_) => Act::Raw(b"HELLO THERE\r\n".to_vec()),
    })
    .await;
    let dns = zone(&["garbage"]).await;
    let (out, _) = verify(options(dns, srv.addr.port()), &["jane@garbage.test"]).await;
    assert_eq!(
        out[0].verdict.status,
        Status::Unknown,
        "{:?}",
        out[0].verdict
    );
    assert!(
        out[0].verdict.detail.contains("protocol error"),
        "{}",
        out[0].verdict.detail
    );
}

#[tokio::test]
async fn results_come_in_input_order_and_bad_input_is_invalid_syntax() {
    let srv = start(|_, cmd| match cmd {
        None => reply("220 fake.test"),
        // The first domain's server is slow, so later results finish first.
        Some(c) if c.starts_with("EHLO") => Act::Slow(
            Duration::from_millis(200),
            vec!["250-fake.test".into(), "250 SMTPUTF8".into()],
        ),
        Some(c) => standard(c),
    })
    .await;
    let dns = zone(&["order"]).await;
    let long = format!("{}@order.test", "x".repeat(10_000));
    let emails = [
        "a@order.test",
        "",
        "garbage",
        &long,
        "b@order.test",
        "x@nosuch.test",
    ];
    let (out, summary) = verify(options(dns, srv.addr.port()), &emails).await;
    let got: Vec<(&str, Status)> = out
        .iter()
        .map(|o| (o.email.as_str(), o.verdict.status))
        .collect();
    assert_eq!(
        got,
        [
            ("a@order.test", Status::CatchAll),
            ("", Status::InvalidSyntax),
            ("garbage", Status::InvalidSyntax),
            (long.as_str(), Status::InvalidSyntax),
            ("b@order.test", Status::CatchAll),
            ("x@nosuch.test", Status::NoMx),
        ]
    );
    assert_eq!(
        out.iter().map(|o| o.index).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5]
    );
    assert_eq!(summary.total, 6);
    assert_eq!(summary.by_status[&Status::InvalidSyntax], 3);
}

#[tokio::test]
async fn cancelling_stops_a_stuck_run_promptly() {
    let srv = start(|_, _| Act::Hang).await;
    let dns = zone(&["stuck"]).await;
    let mut opts = options(dns, srv.addr.port());
    opts.command_timeout = Duration::from_secs(30);
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let (out, summary) = verify_with(opts, &["a@stuck.test", "b@stuck.test"], cancel).await;
    assert!(summary.cancelled);
    assert!(out.is_empty());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// No MX and no A record, only AAAA (RFC 5321 5.1 implicit MX over IPv6): the probe goes to
/// the domain's IPv6 address, here a server on ::1.
#[tokio::test]
async fn an_aaaa_only_domain_is_probed_over_ipv6() {
    let smtp = fake_smtp::start("::1", Arc::new(jane_exists)).await;
    let dns = fake_dns::serve(vec![(
        "v6only.test",
        RecordType::AAAA,
        Answer::Aaaa(std::net::Ipv6Addr::LOCALHOST),
    )])
    .await;
    let (out, _) = verify(options(dns, smtp.addr.port()), &["jane@v6only.test"]).await;
    assert_eq!(out[0].verdict.status, Status::Valid, "{:?}", out[0].verdict);
    assert_eq!(out[0].verdict.mx.as_deref(), Some("v6only.test"));
    assert!(
        smtp.conns().iter().any(|c| c.saw("RCPT")),
        "the IPv6 server was probed"
    );
}
