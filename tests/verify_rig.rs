//! Address verification against the mail rig's real dnsmasq and Postfix (`HAILER_RIG=DIR`).
//! The fault cases a real server will not produce on demand are in `tests/verify_faults.rs`.

#[path = "common/rig.rs"]
mod rig;

use std::time::Duration;

use hailer::engine::verify::dns::{Dns, DnsSettings, MxAnswer, MxHost};

fn rig_dns(rig: &rig::Rig) -> Dns {
    Dns::new(&DnsSettings {
        nameservers: vec![rig.dns()],
        timeout: Duration::from_secs(2),
        attempts: 1,
    })
    .unwrap()
}

fn names(answer: &MxAnswer) -> Vec<(u16, String, bool)> {
    match answer {
        MxAnswer::Hosts(h) => h
            .iter()
            .map(
                |MxHost {
                     preference,
                     name,
                     implicit,
                 }| (*preference, name.clone(), *implicit),
            )
            .collect(),
        other => panic!("expected hosts, got {other:?}"),
    }
}

#[tokio::test]
async fn rig_dns_answers_every_routing_case() {
    let Some(rig) = rig::rig() else { return };
    let dns = rig_dns(&rig);
    assert_eq!(
        names(&dns.mx("acme.test").await.unwrap()),
        [(10, "mx.acme.test".to_string(), false)]
    );
    assert_eq!(
        names(&dns.mx("fallback.test").await.unwrap()),
        [
            (10, "mx1.fallback.test".to_string(), false),
            (20, "mx2.fallback.test".to_string(), false)
        ]
    );
    assert_eq!(
        names(&dns.mx("nomx.test").await.unwrap()),
        [(0, "nomx.test".to_string(), true)]
    );
    assert_eq!(dns.mx("nullmx.test").await.unwrap(), MxAnswer::NullMx);
    assert_eq!(dns.mx("nosuch.test").await.unwrap(), MxAnswer::NxDomain);
    let dead = dns.addresses("mx1.fallback.test").await.unwrap().unwrap();
    assert_eq!(
        dead,
        vec![rig.var("RIG_DEAD_IP").parse::<std::net::IpAddr>().unwrap()]
    );
}

use hailer::config::Config;
use hailer::engine::verify::{
    InputItem, Status, Verdict, VerifyEvent, VerifyIn, VerifyOptions, VerifyOut, run,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Options from the rig's own `config.toml`, with short timeouts and no retries.
fn rig_options(rig: &rig::Rig) -> VerifyOptions {
    let config = Config::from_file(&rig.config()).expect("rig config.toml");
    let mut opts = VerifyOptions::from_config(&config);
    assert_eq!(opts.port, rig.mx_port(), "config.toml [verify] port");
    opts.connect_timeout = Duration::from_secs(2);
    opts.command_timeout = Duration::from_secs(5);
    opts.dns.timeout = Duration::from_secs(2);
    opts.retries = 0;
    opts
}

async fn verify(opts: VerifyOptions, emails: &[&str]) -> Vec<VerifyOut> {
    let (tx, rx) = mpsc::channel(8);
    let emails: Vec<String> = emails.iter().map(|s| s.to_string()).collect();
    tokio::spawn(async move {
        for e in emails {
            let _ = tx.send(InputItem::new(e)).await;
        }
    });
    let mut out = Vec::new();
    let input = VerifyIn {
        items: rx,
        options: opts,
        cache: None,
    };
    run(
        input,
        |ev| {
            if let VerifyEvent::Result(r) = ev {
                out.push(r)
            }
        },
        CancellationToken::new(),
    )
    .await
    .unwrap();
    out
}

fn by_email<'a>(out: &'a [VerifyOut], email: &str) -> &'a Verdict {
    &out.iter()
        .find(|o| o.email == email)
        .unwrap_or_else(|| panic!("no result for {email}"))
        .verdict
}

#[tokio::test]
async fn rig_verdicts_for_every_case() {
    let Some(rig) = rig::rig() else { return };
    let out = verify(
        rig_options(&rig),
        &[
            "jane.doe@acme.test",
            "nobody@acme.test",
            "anything@catchall.test",
            "someone@nullmx.test",
            "someone@nosuch.test",
            "someone@nomx.test",
            "someone@deadmx.test",
            "someone@fallback.test",
            "someone@greylist.test",
            "jane.doe@acme.invalid",
        ],
    )
    .await;
    let v = by_email(&out, "jane.doe@acme.test");
    assert_eq!(v.status, Status::Valid, "{v:?}");
    assert_eq!((v.mx.as_deref(), v.code), (Some("mx.acme.test"), Some(250)));

    let v = by_email(&out, "nobody@acme.test");
    assert_eq!(v.status, Status::MailboxNotFound, "{v:?}");
    assert_eq!((v.code, v.enhanced.as_deref()), (Some(550), Some("5.1.1")));
    assert!(v.detail.contains("User unknown"), "{}", v.detail);

    let v = by_email(&out, "anything@catchall.test");
    assert_eq!(v.status, Status::CatchAll, "{v:?}");

    let v = by_email(&out, "someone@nullmx.test");
    assert_eq!(v.status, Status::NoMx, "{v:?}");
    assert!(v.detail.contains("null MX"), "{}", v.detail);

    let v = by_email(&out, "someone@nosuch.test");
    assert_eq!(v.status, Status::NoMx, "{v:?}");
    assert!(v.detail.contains("NXDOMAIN"), "{}", v.detail);

    // No MX: the A record of nomx.test was tried, and that host refuses to relay.
    let v = by_email(&out, "someone@nomx.test");
    assert_eq!(v.mx.as_deref(), Some("nomx.test"), "{v:?}");
    assert_eq!((v.code, v.enhanced.as_deref()), (Some(554), Some("5.7.1")));
    assert!(v.detail.contains("Relay access denied"), "{}", v.detail);
    assert_eq!(v.status, Status::Unknown);

    let v = by_email(&out, "someone@deadmx.test");
    assert_eq!(v.status, Status::ConnectionRefused, "{v:?}");
    assert_eq!(v.mx.as_deref(), Some("mx.deadmx.test"));

    // The first MX is dead; the second accepts everything for fallback.test.
    let v = by_email(&out, "someone@fallback.test");
    assert_eq!(v.mx.as_deref(), Some("mx2.fallback.test"), "{v:?}");
    assert_eq!(v.status, Status::CatchAll);

    let v = by_email(&out, "someone@greylist.test");
    assert_eq!(v.status, Status::Temporary, "{v:?}");
    assert_eq!((v.code, v.enhanced.as_deref()), (Some(450), Some("4.7.1")));
    assert!(v.detail.contains("Greylisted"), "{}", v.detail);

    let v = by_email(&out, "jane.doe@acme.invalid");
    assert_eq!(v.status, Status::InvalidSyntax, "{v:?}");
}

#[tokio::test]
async fn rig_greylisting_stays_temporary_after_retries() {
    let Some(rig) = rig::rig() else { return };
    let mut opts = rig_options(&rig);
    opts.retries = 2;
    opts.retry_delay = Duration::from_millis(100);
    let out = verify(opts, &["x@greylist.test"]).await;
    let v = &out[0].verdict;
    assert_eq!(v.status, Status::Temporary, "{v:?}");
    assert!(v.detail.contains("after 2 retries"), "{}", v.detail);
}

/// The MX instance's log line for a finished session looks like
/// `disconnect from localhost[127.0.0.1] ehlo=2 starttls=1 mail=1 rcpt=1/2 rset=1 quit=1 commands=7/8`.
#[tokio::test]
async fn rig_server_sees_starttls_and_quit_and_never_data() {
    let Some(rig) = rig::rig() else { return };
    let log = rig.log("postfix-mx.log");
    let before = std::fs::read_to_string(&log).map(|s| s.len()).unwrap_or(0);
    // A unique-looking address so the log line is ours.
    let marker = format!("probe{}", std::process::id());
    let email = format!("{marker}@acme.test");
    let out = verify(rig_options(&rig), &[email.as_str()]).await;
    assert_eq!(
        out[0].verdict.status,
        Status::MailboxNotFound,
        "{:?}",
        out[0].verdict
    );
    // Our RCPT's reject line names the smtpd process; its disconnect line is our session's.
    // Postfix writes it just after QUIT; give postlogd a moment.
    let ours = |tail: &str| -> Option<String> {
        let reject = tail.lines().find(|l| l.contains(&marker))?;
        let pid = reject.split_whitespace().find(|w| w.contains("/smtpd["))?;
        tail.lines()
            .find(|l| l.contains(pid) && l.contains("disconnect from"))
            .map(str::to_string)
    };
    let mut tail = String::new();
    let mut line = None;
    for _ in 0..50 {
        let text = std::fs::read_to_string(&log).expect("postfix-mx.log");
        tail = text[before.min(text.len())..].to_string();
        line = ours(&tail);
        if line.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let line =
        line.unwrap_or_else(|| panic!("no disconnect line for our session in the MX log:\n{tail}"));
    for part in ["starttls=1", "mail=1", "rset=1", "quit=1"] {
        assert!(line.contains(part), "{part} missing: {line}");
    }
    assert!(!line.contains("data="), "{line}");
    assert!(
        tail.contains(&marker),
        "our RCPT is not in the log:\n{tail}"
    );
}

/// The database mode (`ordered = false`): a greylisted address sleeping before its retry
/// must not hold back the results behind it, and the progress says it is waiting.
#[tokio::test]
async fn rig_unordered_run_reports_past_an_address_waiting_for_its_retry() {
    let Some(rig) = rig::rig() else { return };
    let mut opts = rig_options(&rig);
    opts.ordered = false;
    opts.retries = 1;
    opts.retry_delay = Duration::from_secs(3);
    let (tx, rx) = mpsc::channel(8);
    for e in ["x@greylist.test", "jane.doe@acme.test", "nobody@acme.test"] {
        tx.send(InputItem::new(e)).await.unwrap();
    }
    drop(tx);
    let mut order = Vec::new();
    let mut waiting_seen = Vec::new();
    let input = VerifyIn {
        items: rx,
        options: opts,
        cache: None,
    };
    let summary = run(
        input,
        |ev| match ev {
            VerifyEvent::Result(r) => order.push((r.email, r.verdict.status)),
            VerifyEvent::Progress(p) => waiting_seen.push((p.done, p.waiting)),
        },
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(summary.total, 3);
    assert_eq!(
        order.last().unwrap(),
        &("x@greylist.test".to_string(), Status::Temporary),
        "{order:?}"
    );
    // Both acme.test verdicts came out while the greylisted address was still waiting.
    assert!(
        waiting_seen
            .iter()
            .any(|&(done, waiting)| done == 2 && waiting == 1),
        "{waiting_seen:?}"
    );
    assert_eq!(waiting_seen.last().unwrap(), &(3, 0));
}
