//! One verification: DNS, then an SMTP session per MX host until one answers, then RCPT for
//! the address and, once per domain, for a random address (catch-all), then RSET and QUIT.

use std::net::SocketAddr;
use std::time::Duration;

use super::dns::{DnsError, MxAnswer, MxHost};
use super::smtp::{Reply, Session, SmtpError, Stage};
use super::syntax::Address;
use super::{Status, Verdict, Verifier, classify};

/// At most this many MX hosts, and addresses per host, are tried for one address.
const MAX_HOSTS: usize = 5;
const MAX_ADDRS_PER_HOST: usize = 2;

/// How long a domain's DNS answer (or a host's addresses) is reused.
pub(crate) fn dns_ttl<T>(answer: &Result<T, DnsError>) -> Duration {
    match answer {
        Ok(_) => Duration::from_secs(300),
        // Long enough that a dead resolver fails a batch fast, short enough to recover.
        Err(_) => Duration::from_secs(10),
    }
}

/// Verify a syntactically valid address. `None` when cancelled. `last` says no retry follows:
/// an inconclusive catch-all test is then UNKNOWN rather than TEMPORARY.
pub(crate) async fn probe(v: &Verifier, addr: &Address, last: bool) -> Option<Verdict> {
    let answer = v
        .mx_cache
        .get_or_compute(&addr.domain, dns_ttl, || v.dns.mx(&addr.domain))
        .await;
    let hosts = match answer {
        // A resolver's refusal or failure is no greylisting: waiting minutes for a retry
        // would hold the run and get the same answer. UNKNOWN (not cached: the next run
        // asks again), at once.
        Err(e) if e.is_resolver_answer() => {
            return Some(Verdict::new(
                Status::Unknown,
                format!("{e}: a resolver problem, not retried in this run"),
            ));
        }
        Err(e) => return Some(Verdict::new(Status::Temporary, e.to_string())),
        Ok(MxAnswer::NullMx) => {
            return Some(Verdict::new(
                Status::NoMx,
                format!(
                    "{} publishes a null MX (RFC 7505): it accepts no mail",
                    addr.domain
                ),
            ));
        }
        Ok(MxAnswer::NxDomain) => {
            return Some(Verdict::new(
                Status::NoMx,
                format!("{} does not exist (NXDOMAIN)", addr.domain),
            ));
        }
        Ok(MxAnswer::NoMail) => {
            return Some(Verdict::new(
                Status::NoMx,
                format!("{} has no MX and no address record", addr.domain),
            ));
        }
        Ok(MxAnswer::Hosts(hosts)) => hosts,
    };
    let mut failures: Vec<Failure> = Vec::new();
    for host in hosts.iter().take(MAX_HOSTS) {
        let ips = v
            .host_cache
            .get_or_compute(&host.name, dns_ttl, || v.dns.addresses(&host.name))
            .await;
        let ips = match ips {
            Err(e) => {
                failures.push(Failure::new(host, None, Why::Dns(e)));
                continue;
            }
            Ok(Some(ips)) if !ips.is_empty() => ips,
            Ok(_) => {
                failures.push(Failure::new(host, None, Why::NoAddress));
                continue;
            }
        };
        for ip in ips.into_iter().take(MAX_ADDRS_PER_HOST) {
            let peer = SocketAddr::new(ip, v.opts.port);
            match session(v, addr, host, peer, last).await {
                Outcome::Done(verdict) => return Some(verdict),
                Outcome::Cancelled => return None,
                Outcome::Next(why) => failures.push(Failure::new(host, Some(peer), why)),
            }
        }
    }
    Some(summarize(&failures))
}

/// Why an MX host could not be used; the next one is tried.
#[derive(Debug)]
enum Why {
    Dns(DnsError),
    NoAddress,
    Connect(SmtpError),
    /// No banner within the command timeout.
    BannerTimeout(Duration),
    /// The connection closed or broke before a banner.
    BannerLost(SmtpError),
    /// A banner other than 220 (421 busy, 554 no service).
    Banner(Reply),
}

#[derive(Debug)]
struct Failure {
    host: String,
    peer: Option<SocketAddr>,
    why: Why,
}

impl Failure {
    fn new(host: &MxHost, peer: Option<SocketAddr>, why: Why) -> Failure {
        Failure {
            host: host.name.clone(),
            peer,
            why,
        }
    }

    fn describe(&self) -> String {
        let at = match self.peer {
            Some(p) => format!("{}[{}]:{}", self.host, p.ip(), p.port()),
            None => self.host.clone(),
        };
        let why = match &self.why {
            Why::Dns(e) => e.to_string(),
            Why::NoAddress => "host name has no address".into(),
            Why::Connect(e) => e.to_string(),
            Why::BannerTimeout(t) => format!("no banner within {t:?}"),
            Why::BannerLost(e) => e.to_string(),
            Why::Banner(r) => format!("banner {r}"),
        };
        format!("{at}: {why}")
    }
}

/// The verdict when no MX host gave a session.
fn summarize(failures: &[Failure]) -> Verdict {
    let detail = failures
        .iter()
        .map(Failure::describe)
        .collect::<Vec<_>>()
        .join("; ");
    let any = |f: &dyn Fn(&Why) -> bool| failures.iter().any(|x| f(&x.why));
    let status = if failures.is_empty() {
        Status::Unknown
    } else if any(&|w| matches!(w, Why::Banner(r) if r.is_transient()) || matches!(w, Why::Dns(_)))
    {
        Status::Temporary
    } else if any(&|w| {
        matches!(
            w,
            Why::BannerTimeout(_) | Why::Connect(SmtpError::ConnectTimeout(_))
        )
    }) {
        Status::Timeout
    } else if any(&|w| matches!(w, Why::Connect(SmtpError::Refused))) {
        Status::ConnectionRefused
    } else if failures.iter().all(|f| matches!(f.why, Why::NoAddress)) {
        Status::NoMx
    } else if any(&|w| {
        // A greeting that is not SMTP at all (an HTTP server on port 25) says nothing about
        // the mailbox, and waiting will not change it: UNKNOWN, below.
        matches!(w, Why::BannerLost(e) if !matches!(e, SmtpError::Protocol { .. }))
            || matches!(w, Why::Connect(_))
    }) {
        Status::Temporary
    } else {
        Status::Unknown
    };
    let mut verdict = Verdict::new(status, detail);
    verdict.mx = failures.last().map(|f| f.host.clone());
    if let Some(Why::Banner(r)) = failures
        .iter()
        .rev()
        .map(|f| &f.why)
        .find(|w| matches!(w, Why::Banner(_)))
    {
        verdict.code = Some(r.code);
        verdict.enhanced = r.enhanced.clone();
    }
    verdict
}

enum Outcome {
    Done(Verdict),
    Next(Why),
    Cancelled,
}

/// One session with one MX address, under the host's throttle. A failed TLS handshake is
/// retried once in plaintext, within the same permit.
async fn session(
    v: &Verifier,
    addr: &Address,
    host: &MxHost,
    peer: SocketAddr,
    last: bool,
) -> Outcome {
    let permit = tokio::select! {
        p = v.throttle.acquire(&host.name) => p,
        _ = v.cancel.cancelled() => return Outcome::Cancelled,
    };
    let mut try_tls = v.opts.starttls;
    let outcome = loop {
        let connect = Session::connect(peer, v.opts.connect_timeout, v.opts.command_timeout);
        let mut s = match connect.await {
            Ok(s) => s,
            Err(e) => break Outcome::Next(Why::Connect(e)),
        };
        match s.read_reply(Stage::Banner).await {
            Err(SmtpError::Timeout { timeout, .. }) => {
                s.quit_now().await;
                break Outcome::Next(Why::BannerTimeout(timeout));
            }
            Err(e) => {
                s.quit_now().await;
                break Outcome::Next(Why::BannerLost(e));
            }
            Ok(r) if r.code != 220 => {
                s.quit().await;
                break Outcome::Next(Why::Banner(r));
            }
            Ok(_) => {}
        }
        let step = tokio::select! {
            step = converse(v, addr, host, &mut s, try_tls, last) => step,
            _ = v.cancel.cancelled() => {
                s.quit_now().await;
                break Outcome::Cancelled;
            }
        };
        match step {
            Step::TlsFailed(reason) => {
                tracing::debug!(host = %host.name, %peer, "STARTTLS handshake failed ({reason}); retrying in plaintext");
                try_tls = false;
                drop(s);
            }
            Step::Finished { verdict, rset } => {
                if rset {
                    let _ = s.command("RSET", Stage::Rset).await;
                }
                s.quit().await;
                break Outcome::Done(verdict);
            }
            Step::Failed(e) => {
                let verdict = session_error(&e, host, peer);
                match e {
                    SmtpError::Timeout { .. } => s.quit_now().await,
                    _ => s.quit().await,
                }
                break Outcome::Done(verdict);
            }
        }
    };
    drop(permit);
    outcome
}

enum Step {
    Finished { verdict: Verdict, rset: bool },
    Failed(SmtpError),
    TlsFailed(String),
}

/// The verdict for a session that broke after the banner; its detail names the host and
/// address, as a failure before the banner does.
fn session_error(e: &SmtpError, host: &MxHost, peer: SocketAddr) -> Verdict {
    let status = match e {
        SmtpError::Timeout { .. } => Status::Timeout,
        SmtpError::Closed { .. } | SmtpError::Io { .. } | SmtpError::Tls(_) => Status::Temporary,
        SmtpError::Protocol { .. } => Status::Unknown,
        SmtpError::Refused | SmtpError::ConnectTimeout(_) | SmtpError::Connect(_) => {
            Status::Temporary
        }
    };
    let detail = format!("{}[{}]:{}: {e}", host.name, peer.ip(), peer.port());
    let mut v = Verdict::new(status, detail);
    v.mx = Some(host.name.clone());
    v
}

fn from_reply(status: Status, host: &MxHost, reply: &Reply, prefix: &str) -> Verdict {
    let mut v = Verdict::new(status, format!("{prefix}{}", reply.text()));
    v.mx = Some(host.name.clone());
    v.code = Some(reply.code);
    v.enhanced = reply.enhanced.clone();
    v
}

async fn converse(
    v: &Verifier,
    addr: &Address,
    host: &MxHost,
    s: &mut Session,
    try_tls: bool,
    last: bool,
) -> Step {
    match converse_inner(v, addr, host, s, try_tls, last).await {
        Ok(step) => step,
        Err(e) => Step::Failed(e),
    }
}

async fn converse_inner(
    v: &Verifier,
    addr: &Address,
    host: &MxHost,
    s: &mut Session,
    try_tls: bool,
    last: bool,
) -> Result<Step, SmtpError> {
    let finished = |verdict, rset| Ok(Step::Finished { verdict, rset });
    let helo = &v.opts.helo_name;
    let (mut hello, mut caps) = s.hello(helo).await?;
    if !hello.is_positive() {
        let status = classify::session(&hello);
        return finished(from_reply(status, host, &hello, "EHLO refused: "), false);
    }
    if try_tls && caps.iter().any(|c| c == "STARTTLS") {
        match s.starttls(&host.name).await {
            Ok(None) => {
                (hello, caps) = s.hello(helo).await?;
                if !hello.is_positive() {
                    let status = classify::session(&hello);
                    return finished(
                        from_reply(status, host, &hello, "EHLO refused after STARTTLS: "),
                        false,
                    );
                }
            }
            Ok(Some(refused)) => {
                tracing::debug!(host = %host.name, "STARTTLS refused: {refused}");
            }
            Err(SmtpError::Tls(reason)) => return Ok(Step::TlsFailed(reason)),
            Err(e) => return Err(e),
        }
    }
    let smtputf8 = caps.iter().any(|c| c == "SMTPUTF8");
    if addr.smtputf8 && !smtputf8 {
        let mut verdict = Verdict::new(
            Status::Unknown,
            "the server does not offer SMTPUTF8, which a non-ASCII local part needs".to_string(),
        );
        verdict.mx = Some(host.name.clone());
        return finished(verdict, false);
    }
    let from = if addr.smtputf8 {
        format!("MAIL FROM:<{}> SMTPUTF8", v.opts.from)
    } else {
        format!("MAIL FROM:<{}>", v.opts.from)
    };
    let mail = s.command(&from, Stage::MailFrom).await?;
    if !mail.is_positive() {
        let status = classify::session(&mail);
        return finished(
            from_reply(status, host, &mail, "MAIL FROM refused: "),
            false,
        );
    }
    let rcpt = s
        .command(&format!("RCPT TO:<{addr}>"), Stage::RcptTo)
        .await?;
    let status = classify::rcpt(&rcpt);
    if status == Status::MailboxNotFound {
        // The domain refuses a recipient, so it is not a catch-all.
        v.catch_all
            .insert(addr.domain.clone(), false, v.opts.catch_all_ttl);
    }
    if status != Status::Valid {
        return finished(from_reply(status, host, &rcpt, ""), true);
    }
    // Accepted: is any address accepted at this domain? Once per domain, then cached.
    // `Err((why, reply))`: the test gave no answer, why, and the reply that said so if any.
    let catch_all = match v.catch_all.get(&addr.domain) {
        Some(known) => Ok(known),
        None => {
            // The same random address for every test of this domain (retries included): a
            // greylisting server defers each new recipient once, so a fresh one each time
            // would never get through.
            let local = v
                .catch_all_local
                .get_or_compute(
                    &addr.domain,
                    |_| v.opts.catch_all_ttl,
                    || async { random_local() },
                )
                .await;
            let random = format!("{local}@{}", addr.domain);
            match s
                .command(&format!("RCPT TO:<{random}>"), Stage::RcptTo)
                .await
            {
                Ok(r) if r.is_positive() => Ok(true),
                Ok(r) if classify::rcpt(&r) == Status::MailboxNotFound || r.is_permanent() => {
                    Ok(false)
                }
                Ok(r) => Err((format!("a random address got {r}"), Some(r))),
                Err(e) => {
                    tracing::debug!(host = %host.name, "catch-all probe failed: {e}");
                    Err((e.to_string(), None))
                }
            }
            .inspect(|&known| {
                v.catch_all
                    .insert(addr.domain.clone(), known, v.opts.catch_all_ttl)
            })
        }
    };
    let verdict = match catch_all {
        Ok(true) => {
            // The reply's text alone ("Ok") reads as part of the sentence: quote it whole.
            let mut v = from_reply(Status::CatchAll, host, &rcpt, "");
            let said: Vec<String> = [Some(rcpt.code.to_string()), rcpt.enhanced.clone()]
                .into_iter()
                .flatten()
                .chain([rcpt.text()].into_iter().filter(|t| !t.is_empty()))
                .collect();
            v.detail = format!(
                "accepted ({}), but so is a made-up address: the domain accepts any address",
                said.join(" ")
            );
            v
        }
        Ok(false) => from_reply(Status::Valid, host, &rcpt, ""),
        // Accepted, but whether any address would be is not known (greylisting defers the
        // random address, a limit on recipients, a dropped session): never plain VALID.
        // TEMPORARY while a retry follows (it asks for the same random address), then
        // UNKNOWN, which the outbox flags as risky, like CATCH_ALL. The code columns give
        // the reply that left it open (the deferral), not the address's own 250, which the
        // detail keeps.
        Err((why, deferral)) => {
            let status = if last {
                Status::Unknown
            } else {
                Status::Temporary
            };
            let mut verdict = Verdict::new(
                status,
                format!(
                    "accepted ({} {}), but the catch-all test was inconclusive: {why}",
                    rcpt.code,
                    rcpt.text()
                ),
            );
            verdict.mx = Some(host.name.clone());
            verdict.code = deferral.as_ref().map(|r| r.code);
            verdict.enhanced = deferral.and_then(|r| r.enhanced);
            verdict
        }
    };
    finished(verdict, true)
}

/// A local part no one has: 16 random lower-case letters and digits.
fn random_local() -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut s = String::with_capacity(16);
    s.push(char::from(b'a' + fastrand::u8(0..26)));
    for _ in 1..16 {
        s.push(char::from(CHARS[fastrand::usize(..CHARS.len())]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str) -> MxHost {
        MxHost {
            preference: 10,
            name: name.into(),
            implicit: false,
        }
    }

    fn fail(name: &str, why: Why) -> Failure {
        Failure::new(&host(name), Some("127.0.0.3:25".parse().unwrap()), why)
    }

    #[test]
    fn all_refused_is_connection_refused_and_names_every_host() {
        let v = summarize(&[
            fail("mx1.example.com", Why::Connect(SmtpError::Refused)),
            fail("mx2.example.com", Why::Connect(SmtpError::Refused)),
        ]);
        assert_eq!(v.status, Status::ConnectionRefused);
        assert_eq!(v.mx.as_deref(), Some("mx2.example.com"));
        assert!(
            v.detail
                .contains("mx1.example.com[127.0.0.3]:25: connection refused"),
            "{}",
            v.detail
        );
        assert!(v.detail.contains("mx2.example.com"), "{}", v.detail);
    }

    #[test]
    fn a_timeout_or_a_busy_banner_outranks_refusal() {
        let v = summarize(&[
            fail("mx1.example.com", Why::Connect(SmtpError::Refused)),
            fail(
                "mx2.example.com",
                Why::BannerTimeout(Duration::from_secs(1)),
            ),
        ]);
        assert_eq!(v.status, Status::Timeout);
        let busy = Reply::parse(&["421 4.3.2 busy".to_string()]).unwrap();
        let v = summarize(&[
            fail("mx1.example.com", Why::Banner(busy)),
            fail("mx2.example.com", Why::Connect(SmtpError::Refused)),
        ]);
        assert_eq!(v.status, Status::Temporary);
        assert_eq!(v.code, Some(421));
    }

    #[test]
    fn hosts_without_addresses_mean_no_mx() {
        let v = summarize(&[Failure::new(&host("mx.example.com"), None, Why::NoAddress)]);
        assert_eq!(v.status, Status::NoMx);
    }

    #[test]
    fn random_local_parts_differ_and_are_plain() {
        let a = random_local();
        assert_eq!(a.len(), 16);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert_ne!(a, random_local());
    }
}
