//! The mail rig answers like the real servers it is: submission with STARTTLS and AUTH,
//! delivery to IMAP, real DSNs, RCPT verdicts at the MX, DNS through hickory, greylisting.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::rig::Rig;
use hailer::config::Security;
use hailer::net::imap::{ImapEndpoint, Session, login};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

fn unique(tag: &str) -> String {
    format!(
        "{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn imap(rig: &Rig, user: &str, security: Security) -> Session {
    let port = match security {
        Security::Tls => rig.port("RIG_IMAPS_PORT"),
        _ => rig.port("RIG_IMAP_PORT"),
    };
    login(&ImapEndpoint {
        host: rig.host().to_string(),
        port,
        security,
        ca_file: Some(rig.ca_file()),
        username: user.to_string(),
        password: rig.password().to_string(),
        timeout: Duration::from_secs(10),
    })
    .unwrap_or_else(|e| panic!("IMAP login {user}: {e}"))
}

/// Poll INBOX until a message containing `needle` (searched with TEXT, which also looks inside
/// attached messages) arrives; returns its raw bytes.
fn wait_for(session: &mut Session, needle: &str, within: Duration) -> Option<Vec<u8>> {
    let start = Instant::now();
    while start.elapsed() < within {
        session.select("INBOX").unwrap();
        let found = session.uid_search(format!("TEXT \"{needle}\"")).unwrap();
        if let Some(uid) = found.into_iter().max() {
            let fetched = session.uid_fetch(uid.to_string(), "BODY.PEEK[]").unwrap();
            return fetched
                .iter()
                .next()
                .and_then(|f| f.body())
                .map(<[u8]>::to_vec);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

async fn submit(rig: &Rig, to: &str, subject: &str, security: Security) {
    let pem = std::fs::read(rig.ca_file()).unwrap();
    let tls = TlsParameters::builder(rig.host().to_string())
        .add_root_certificate(Certificate::from_pem(&pem).unwrap())
        .build_rustls()
        .unwrap();
    let (port, tls) = match security {
        Security::Tls => (rig.port("RIG_SUBMITS_PORT"), Tls::Wrapper(tls)),
        _ => (rig.port("RIG_SUBMIT_PORT"), Tls::Required(tls)),
    };
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(rig.host())
        .port(port)
        .tls(tls)
        .credentials(Credentials::new(
            "sender@sender.test".into(),
            rig.password().into(),
        ))
        .timeout(Some(Duration::from_secs(10)))
        .build();
    let msg = Message::builder()
        .from(
            "Sam Sender <sender@sender.test>"
                .parse::<Mailbox>()
                .unwrap(),
        )
        .to(to.parse().unwrap())
        .subject(subject)
        .body(format!("Body of {subject}\n"))
        .unwrap();
    transport
        .send(msg)
        .await
        .unwrap_or_else(|e| panic!("submit to {to}: {e}"));
}

#[tokio::test]
async fn submission_with_starttls_and_auth_delivers_to_imap() {
    let Some(rig) = Rig::get() else { return };
    let subject = unique("smoke-deliver");
    submit(&rig, "jane.doe@acme.test", &subject, Security::Starttls).await;
    let rig2 = rig.clone();
    let found = tokio::task::spawn_blocking(move || {
        let mut s = imap(&rig2, "jane.doe@acme.test", Security::Tls);
        wait_for(&mut s, &subject, Duration::from_secs(10))
    })
    .await
    .unwrap();
    let raw =
        String::from_utf8_lossy(&found.expect("message in jane's INBOX within 10 s")).into_owned();
    assert!(raw.contains("Delivered-To: jane.doe@acme.test"), "{raw}");
    assert!(
        raw.contains("Sam Sender") && raw.contains("<sender@sender.test>"),
        "{raw}"
    );
}

#[tokio::test]
async fn implicit_tls_submission_and_starttls_imap() {
    let Some(rig) = Rig::get() else { return };
    let subject = unique("smoke-implicit");
    submit(&rig, "anyone@catchall.test", &subject, Security::Tls).await;
    let rig2 = rig.clone();
    let found = tokio::task::spawn_blocking(move || {
        let mut s = imap(&rig2, "catchall@catchall.test", Security::Starttls);
        wait_for(&mut s, &subject, Duration::from_secs(10))
    })
    .await
    .unwrap();
    assert!(found.is_some(), "catch-all mailbox got the message");
}

#[tokio::test]
async fn unknown_user_produces_a_real_dsn_in_the_senders_inbox() {
    let Some(rig) = Rig::get() else { return };
    let subject = unique("smoke-dsn");
    submit(&rig, "nobody@acme.test", &subject, Security::Starttls).await;
    let rig2 = rig.clone();
    let dsn = tokio::task::spawn_blocking(move || {
        let mut s = imap(&rig2, "sender@sender.test", Security::Tls);
        wait_for(&mut s, &subject, Duration::from_secs(10))
    })
    .await
    .unwrap()
    .expect("a DSN in sender's INBOX within 10 s");
    let parsed = mailparse::parse_mail(&dsn).unwrap();
    assert_eq!(parsed.ctype.mimetype, "multipart/report");
    assert_eq!(
        parsed.ctype.params.get("report-type").map(String::as_str),
        Some("delivery-status")
    );
    let status = parsed
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "message/delivery-status")
        .expect("a message/delivery-status part");
    let text = String::from_utf8_lossy(&status.get_body_raw().unwrap()).into_owned();
    assert!(
        text.contains("Final-Recipient: rfc822; nobody@acme.test"),
        "{text}"
    );
    assert!(text.contains("Status: 5.1.1"), "{text}");
}

/// A minimal SMTP dialogue for RCPT verdicts (the verify engine has the real client).
struct Smtp {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Smtp {
    fn connect(host: &str, port: u16) -> Smtp {
        let w = TcpStream::connect((host, port)).unwrap();
        w.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut s = Smtp {
            r: BufReader::new(w.try_clone().unwrap()),
            w,
        };
        assert!(s.reply().starts_with("220"));
        s
    }
    fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            self.r.read_line(&mut line).unwrap();
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return all;
            }
        }
    }
    fn cmd(&mut self, c: &str) -> String {
        self.w.write_all(format!("{c}\r\n").as_bytes()).unwrap();
        self.reply()
    }
}

#[test]
fn mx_gives_rcpt_verdicts_and_greylists() {
    let Some(rig) = Rig::get() else { return };
    // The MX listens where the rig's DNS points mx.acme.test (127.0.0.1 unless RIG_MX_IP).
    let mut s = Smtp::connect(rig.var("RIG_MX_IP"), rig.port("RIG_MX_PORT"));
    let ehlo = s.cmd("EHLO verifier.sender.test");
    assert!(
        ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"),
        "{ehlo}"
    );
    assert!(s.cmd("MAIL FROM:<probe@sender.test>").starts_with("250"));
    assert!(s.cmd("RCPT TO:<jane.doe@acme.test>").starts_with("250"));
    let unknown = s.cmd("RCPT TO:<nobody@acme.test>");
    assert!(unknown.starts_with("550 5.1.1"), "{unknown}");
    assert!(unknown.contains("User unknown"), "{unknown}");
    assert!(
        s.cmd("RCPT TO:<random-x7q@catchall.test>")
            .starts_with("250")
    );
    let grey = s.cmd("RCPT TO:<someone@greylist.test>");
    assert!(grey.starts_with("450 4.7.1"), "{grey}");
    assert!(s.cmd("QUIT").starts_with("221"));
}

#[tokio::test]
async fn dns_answers_through_hickory_with_the_rig_nameserver() {
    let Some(rig) = Rig::get() else { return };
    use hickory_resolver::Resolver;
    use hickory_resolver::config::{NameServerConfig, ResolverConfig};
    use hickory_resolver::net::runtime::TokioRuntimeProvider;
    let ns = rig.dns();
    let mut ns_config = NameServerConfig::udp_and_tcp(ns.ip());
    for conn in &mut ns_config.connections {
        conn.port = ns.port();
    }
    let resolver = Resolver::builder_with_config(
        ResolverConfig::from_parts(None, vec![], vec![ns_config]),
        TokioRuntimeProvider::default(),
    )
    .build()
    .unwrap();
    let mx = resolver.mx_lookup("acme.test.").await.unwrap();
    let hosts: Vec<String> = mx
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            hickory_resolver::proto::rr::RData::MX(m) => Some(m.exchange.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(hosts, ["mx.acme.test."]);
    let a = resolver.ipv4_lookup("mx.acme.test.").await.unwrap();
    assert_eq!(a.answers().len(), 1);
    assert!(
        resolver.mx_lookup("nosuch.test.").await.is_err(),
        "NXDOMAIN"
    );
}
