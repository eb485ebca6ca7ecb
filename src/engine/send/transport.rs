//! One SMTP connection per mailbox, opened by us and reused across messages.
//!
//! lettre 0.11.23 never sets TCP_NODELAY and writes the DATA terminator in a write of its own,
//! so with Nagle on every message waits ~40 ms for the server's delayed ACK (fixed upstream in
//! lettre PR #1159, after 0.11.23). We open the TCP stream ourselves with TCP_NODELAY and hand
//! it to `AsyncSmtpConnection::connect_with_transport`; STARTTLS upgrades that same stream, and
//! implicit TLS wraps it with tokio-rustls before the greeting. The connection stays open between
//! messages (our pool of one per mailbox); a broken one is dropped and reopened on the next send.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use lettre::Address;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::extension::{Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::rustls;

use crate::config::{MailboxConfig, Security};
use crate::net::redact::redact;
use crate::net::tls::load_ca_file;

/// Where and how to submit. The password is kept out of `Debug`.
#[derive(Clone)]
pub struct SmtpEndpoint {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub ca_file: Option<PathBuf>,
    pub username: String,
    pub password: String,
    pub helo: String,
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpEndpoint")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl SmtpEndpoint {
    pub fn for_mailbox(
        mb: &MailboxConfig,
        ca_file: Option<PathBuf>,
    ) -> Result<SmtpEndpoint, String> {
        // No AUTH (`smtp_username = ""`): no password to read for SMTP.
        let password = if mb.smtp_auth() {
            mb.password()?
        } else {
            String::new()
        };
        let address = super::message::address_of(&mb.from).unwrap_or_default();
        let helo = address
            .rsplit_once('@')
            .map(|(_, d)| d.to_string())
            .unwrap_or_else(|| "localhost".into());
        Ok(SmtpEndpoint {
            host: mb.smtp_host.clone(),
            port: mb.smtp_port(),
            security: mb.smtp_security,
            ca_file,
            username: mb.smtp_login(),
            password,
            helo,
            timeout: Duration::from_secs(60),
        })
    }
}

/// How one SMTP exchange failed, sorted the way the outbox needs it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmtpError {
    /// Cannot reach the server, TLS failed, or login refused: nothing about the message was
    /// transmitted. `auth` marks a refused login (wrong password), fatal for the mailbox.
    #[error("{text}")]
    Connect { text: String, auth: bool },
    /// 4xx reply: try again later.
    #[error("{text}")]
    Transient { text: String },
    /// 5xx reply: the server refused this message.
    #[error("{text}")]
    Permanent { text: String },
    /// 5xx reply to MAIL FROM: the server refuses the sender (not allowed to send as this
    /// address, quota, policy), so it would refuse every message: a mailbox problem, not the
    /// recipient's.
    #[error("{text}")]
    SenderRefused { text: String },
    /// The connection broke (or timed out) during the transaction: the server may or may
    /// not have the message.
    #[error("{text}")]
    Lost { text: String, after_data: bool },
    /// The row's claim could not be made durable, so the body was never sent and the
    /// transaction was dropped unfinished: the server discards it.
    #[error("{text}")]
    NotDurable { text: String },
}

/// The disk sync of a row's claim, running on a blocking thread. The message body waits for
/// it: a transaction the server has not seen end delivers nothing, so only the end of DATA
/// needs the claim on disk, and the sync overlaps the MAIL/RCPT/DATA round trip instead of
/// adding to every message.
pub type ClaimSync = Option<tokio::task::JoinHandle<std::io::Result<()>>>;

/// TLS settings shared by STARTTLS and implicit TLS: the public roots plus `[tls] ca_file`.
fn rustls_config(ca_file: Option<&std::path::Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        for cert in load_ca_file(path).map_err(|e| e.to_string())? {
            let _ = roots.add(cert);
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn lettre_tls(ep: &SmtpEndpoint) -> Result<TlsParameters, String> {
    let mut b = TlsParameters::builder(ep.host.clone());
    if let Some(path) = &ep.ca_file {
        for cert in load_ca_file(path).map_err(|e| e.to_string())? {
            let c = Certificate::from_der(cert.as_ref().to_vec()).map_err(|e| e.to_string())?;
            b = b.add_root_certificate(c);
        }
    }
    b.build_rustls().map_err(|e| format!("TLS settings: {e}"))
}

/// Implicit-TLS stream handed to lettre as an already-open transport.
#[derive(Debug)]
struct TlsTcp(tokio_rustls::client::TlsStream<TcpStream>);

impl AsyncRead for TlsTcp {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsTcp {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for TlsTcp {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

/// A message as the DATA phase carries it: every line that starts with "." gets another
/// (RFC 5321 4.5.2), then the terminator. Byte for byte what lettre's `message` writes, the
/// same rule for where a line starts (after CRLF) and the same terminator.
struct DataBlock<'a>(&'a str);

impl std::fmt::Display for DataBlock<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut rest = self.0;
        let mut line_start = true;
        while !rest.is_empty() {
            if line_start && rest.starts_with('.') {
                f.write_str(".")?;
            }
            match rest.find("\r\n") {
                Some(i) => {
                    f.write_str(&rest[..i + 2])?;
                    rest = &rest[i + 2..];
                    line_start = true;
                }
                None => {
                    f.write_str(rest)?;
                    rest = "";
                }
            }
        }
        f.write_str("\r\n.\r\n")
    }
}

type Reply = Result<Result<Response, lettre::transport::smtp::Error>, tokio::time::error::Elapsed>;

/// Whether the server answered (positively or not), as opposed to a timeout or a broken
/// connection.
fn is_reply(r: &Reply) -> bool {
    match r {
        Ok(Ok(_)) => true,
        Ok(Err(e)) => e.is_permanent() || e.is_transient(),
        Err(_) => false,
    }
}

/// A logged-in SMTP session, reused for every message of one mailbox.
pub struct SmtpSession {
    conn: AsyncSmtpConnection,
    timeout: Duration,
    /// The server advertised PIPELINING (RFC 2920): MAIL, RCPT and DATA go in one write.
    pipelining: bool,
}

/// Server text is passed through `redact` before it goes into an error: a server may quote
/// the client's AUTH command back, password and all (see `crate::net::redact`).
fn connect_error(ep: &SmtpEndpoint, what: &str, e: impl std::fmt::Display) -> SmtpError {
    SmtpError::Connect {
        text: redact(
            &format!("SMTP {}:{} {what}: {e}", ep.host, ep.port),
            &ep.password,
        ),
        auth: false,
    }
}

impl SmtpSession {
    /// Connect (TCP_NODELAY), greet, TLS as configured, and log in.
    pub async fn connect(ep: &SmtpEndpoint) -> Result<SmtpSession, SmtpError> {
        let t = ep.timeout;
        let tcp = tokio::time::timeout(t, TcpStream::connect((ep.host.as_str(), ep.port)))
            .await
            .map_err(|_| connect_error(ep, "connect", "timed out"))?
            .map_err(|e| connect_error(ep, "connect", e))?;
        tcp.set_nodelay(true)
            .map_err(|e| connect_error(ep, "TCP_NODELAY", e))?;
        let hello = ClientId::Domain(ep.helo.clone());
        let stream: Box<dyn AsyncTokioStream> = match ep.security {
            Security::Tls => {
                let config = rustls_config(ep.ca_file.as_deref())
                    .map_err(|e| connect_error(ep, "TLS", e))?;
                let name = rustls::pki_types::ServerName::try_from(ep.host.clone())
                    .map_err(|e| connect_error(ep, "TLS server name", e))?;
                let tls = tokio::time::timeout(
                    t,
                    tokio_rustls::TlsConnector::from(config).connect(name, tcp),
                )
                .await
                .map_err(|_| connect_error(ep, "TLS handshake", "timed out"))?
                .map_err(|e| connect_error(ep, "TLS handshake", e))?;
                Box::new(TlsTcp(tls))
            }
            _ => Box::new(tcp),
        };
        let mut conn = tokio::time::timeout(
            t,
            AsyncSmtpConnection::connect_with_transport(stream, &hello),
        )
        .await
        .map_err(|_| connect_error(ep, "greeting", "timed out"))?
        .map_err(|e| connect_error(ep, "greeting", e))?;
        if ep.security == Security::Starttls {
            let params = lettre_tls(ep).map_err(|e| connect_error(ep, "TLS", e))?;
            tokio::time::timeout(t, conn.starttls(params, &hello))
                .await
                .map_err(|_| connect_error(ep, "STARTTLS", "timed out"))?
                .map_err(|e| connect_error(ep, "STARTTLS", e))?;
        }
        // lettre keeps only the EHLO keywords it knows, and PIPELINING is not one of them: ask
        // again (on the encrypted channel, before AUTH) and read the raw reply.
        let pipelining = match tokio::time::timeout(t, conn.command(Ehlo::new(hello.clone()))).await
        {
            Ok(Ok(resp)) => resp
                .message()
                .any(|l| l.trim().eq_ignore_ascii_case("PIPELINING")),
            _ => return Err(connect_error(ep, "EHLO", "no reply")),
        };
        if !ep.username.is_empty() {
            let creds = Credentials::new(ep.username.clone(), ep.password.clone());
            let auth =
                tokio::time::timeout(t, conn.auth(&[Mechanism::Plain, Mechanism::Login], &creds))
                    .await
                    .map_err(|_| connect_error(ep, "AUTH", "timed out"))?;
            if let Err(e) = auth {
                // lettre's error holds the reply, which may quote the AUTH command (its
                // base64 carries the password): redacted before it goes anywhere.
                return Err(SmtpError::Connect {
                    text: redact(
                        &format!(
                            "SMTP login as {} on {}:{} refused: {e}",
                            ep.username, ep.host, ep.port
                        ),
                        &ep.password,
                    ),
                    auth: e.is_permanent() || e.is_transient(),
                });
            }
        }
        Ok(SmtpSession {
            conn,
            timeout: ep.timeout,
            pipelining,
        })
    }

    pub fn is_usable(&self) -> bool {
        !self.conn.has_broken()
    }

    /// One transaction: MAIL, RCPT, DATA, then the message. `Ok` carries the server's final
    /// reply. After a refusal (4xx/5xx) the session stays open for the next message (see
    /// `end_refused`); after a lost connection or a timeout it is closed and `is_usable` says so.
    ///
    /// `claim` is awaited (and emptied) before the body goes out; on failure the session is
    /// closed without the end of DATA.
    pub async fn send(
        &mut self,
        from: &Address,
        to: &Address,
        raw: &[u8],
        claim: &mut ClaimSync,
    ) -> Result<String, SmtpError> {
        let mut params = Vec::new();
        if !raw.is_ascii()
            && self
                .conn
                .server_info()
                .supports_feature(Extension::EightBitMime)
        {
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let steps = [
            (
                "MAIL FROM",
                Mail::new(Some(from.clone()), params).to_string(),
            ),
            ("RCPT TO", Rcpt::new(to.clone(), vec![]).to_string()),
            ("DATA", Data.to_string()),
        ];
        if self.pipelining {
            // One write for the three commands, then their three replies in order. Every
            // reply is read before judging, so a refused RCPT is reported as such (the DATA
            // that follows it is refused too, with "no valid recipients").
            let batch: String = steps.iter().map(|(_, c)| c.as_str()).collect();
            let mut replies = Vec::with_capacity(3);
            let first = tokio::time::timeout(self.timeout, self.conn.command(batch)).await;
            let lost = !is_reply(&first);
            replies.push(first);
            if !lost {
                for _ in 1..3 {
                    let r = tokio::time::timeout(self.timeout, self.conn.read_response()).await;
                    let lost = !is_reply(&r);
                    replies.push(r);
                    if lost {
                        break;
                    }
                }
            }
            // RSET needs every reply read, and no 354: a server that accepts the DATA behind
            // a refused command waits for a message body. Otherwise the session is closed.
            let can_reset = replies.len() == 3
                && replies.iter().all(is_reply)
                && !matches!(replies[2], Ok(Ok(_)));
            for ((what, _), reply) in steps.iter().zip(replies) {
                if let Err(e) = self.check(what, reply, false) {
                    if !can_reset {
                        self.close_now().await;
                    } else {
                        self.end_refused(&e).await;
                    }
                    return Err(e);
                }
            }
        } else {
            for (what, cmd) in steps {
                let reply = tokio::time::timeout(self.timeout, self.conn.command(cmd)).await;
                if let Err(e) = self.check(what, reply, false) {
                    self.end_refused(&e).await;
                    return Err(e);
                }
            }
        }
        if let Some(sync) = claim.take() {
            let failed = match sync.await {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(e) => Some(e.to_string()),
            };
            if let Some(cause) = failed {
                self.close_now().await;
                return Err(SmtpError::NotDurable {
                    text: format!("cannot write the claim to disk ({cause}), message not sent"),
                });
            }
        }
        let reply = match std::str::from_utf8(raw) {
            // The body and its terminator in one write: lettre writes the terminator in a
            // write of its own, so the server's smtpd, having read the body, sleeps until
            // a second segment wakes it, once per message (on a busy machine, CPU taken
            // from delivery). `command` writes what it is given once, then reads the reply.
            Ok(text) => {
                tokio::time::timeout(self.timeout, self.conn.command(DataBlock(text))).await
            }
            Err(_) => tokio::time::timeout(self.timeout, self.conn.message(raw)).await,
        };
        match self.check("end of DATA", reply, true) {
            Ok(resp) => Ok(format!(
                "{} {}",
                resp.code(),
                resp.message().collect::<Vec<_>>().join(" ")
            )),
            Err(e) => {
                self.end_refused(&e).await;
                Err(e)
            }
        }
    }

    /// After the server refused a step, RSET ends the transaction and the session serves the
    /// next message: reconnecting would cost a TLS handshake and a login per refused recipient,
    /// and providers count logins. A lost connection, or an RSET that is not accepted, closes it.
    async fn end_refused(&mut self, e: &SmtpError) {
        if matches!(e, SmtpError::Lost { .. }) {
            self.close_now().await;
            return;
        }
        match tokio::time::timeout(self.timeout, self.conn.command(Rset)).await {
            Ok(Ok(_)) => {}
            _ => self.close_now().await,
        }
    }

    /// Closes the session without waiting on the server. lettre's `abort` sends QUIT and awaits
    /// its reply with no time limit; a server that took a DATA and now waits for a body never
    /// answers it. The session is marked broken before QUIT goes out, so a cut-short abort
    /// still leaves `is_usable` false, and dropping the session closes the socket.
    async fn close_now(&mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.conn.abort()).await;
    }

    fn check(
        &self,
        what: &str,
        reply: Result<
            Result<Response, lettre::transport::smtp::Error>,
            tokio::time::error::Elapsed,
        >,
        after_data: bool,
    ) -> Result<Response, SmtpError> {
        match reply {
            Err(_) => Err(SmtpError::Lost {
                text: format!("no reply to {what} within {} s", self.timeout.as_secs()),
                after_data,
            }),
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => {
                let text = format!("{what}: {e}");
                // 421: the server is closing the channel (an idle timeout on a kept
                // connection, a shutdown). Before the end of DATA nothing was accepted or
                // refused: the connection is lost, and a reused one is replaced at once.
                // After it, the message was refused (transient) and the session is gone.
                let closing = e.status().is_some_and(|c| c.to_string() == "421");
                if closing && !after_data {
                    Err(SmtpError::Lost { text, after_data })
                } else if e.is_permanent() && what == "MAIL FROM" {
                    Err(SmtpError::SenderRefused { text })
                } else if e.is_permanent() {
                    Err(SmtpError::Permanent { text })
                } else if e.is_transient() {
                    Err(SmtpError::Transient { text })
                } else {
                    Err(SmtpError::Lost { text, after_data })
                }
            }
        }
    }

    pub async fn quit(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.conn.quit()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::sync::{Arc, Mutex};

    /// A loopback SMTP server that accepts everything and logs each line it reads, the
    /// message body included.
    fn logging_server(pipelining: bool) -> (u16, Arc<Mutex<Vec<String>>>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = log.clone();
        std::thread::spawn(move || {
            let (conn, _) = listener.accept().unwrap();
            let mut w = conn.try_clone().unwrap();
            let mut say = |t: &str| {
                let _ = w.write_all(format!("{t}\r\n").as_bytes());
            };
            let mut r = BufReader::new(conn);
            say("220 log.test ESMTP");
            let mut in_body = false;
            let mut line = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let text = line.trim_end().to_string();
                lines.lock().unwrap().push(text.clone());
                if in_body {
                    if text == "." {
                        in_body = false;
                        say("250 2.0.0 queued");
                    }
                    continue;
                }
                let upper = text.to_ascii_uppercase();
                if upper.starts_with("EHLO") {
                    say("250-log.test");
                    if pipelining {
                        say("250-PIPELINING");
                    }
                    say("250 8BITMIME");
                } else if upper == "DATA" {
                    in_body = true;
                    say("354 go ahead");
                } else if upper == "QUIT" {
                    say("221 bye");
                    return;
                } else {
                    say("250 ok");
                }
            }
        });
        (port, log)
    }

    fn endpoint(port: u16) -> SmtpEndpoint {
        SmtpEndpoint {
            host: "127.0.0.1".into(),
            port,
            security: Security::Plain,
            ca_file: None,
            username: String::new(),
            password: String::new(),
            helo: "sender.test".into(),
            timeout: Duration::from_secs(10),
        }
    }

    const RAW: &[u8] = b"Subject: hi\r\n\r\nthe body line\r\n";

    fn addresses() -> (Address, Address) {
        (
            "me@sender.test".parse().unwrap(),
            "you@acme.test".parse().unwrap(),
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_body_waits_for_the_claim_to_be_on_disk() {
        for pipelining in [true, false] {
            let (port, log) = logging_server(pipelining);
            let mut session = SmtpSession::connect(&endpoint(port)).await.unwrap();
            let (release, synced) = std::sync::mpsc::channel::<()>();
            let mut claim: ClaimSync = Some(tokio::task::spawn_blocking(move || {
                synced.recv().map_err(std::io::Error::other)
            }));
            let send = tokio::spawn(async move {
                let (from, to) = addresses();
                let result = session.send(&from, &to, RAW, &mut claim).await;
                (result, claim.is_none())
            });
            let seen = |what: &str| log.lock().unwrap().iter().any(|l| l == what);
            // The commands go out while the sync runs...
            let mut waited = 0;
            while !seen("DATA") && waited < 200 {
                tokio::time::sleep(Duration::from_millis(25)).await;
                waited += 1;
            }
            assert!(seen("DATA"), "{:?}", log.lock().unwrap());
            // ...the body does not.
            tokio::time::sleep(Duration::from_millis(200)).await;
            assert!(!seen("the body line"), "{:?}", log.lock().unwrap());
            release.send(()).unwrap();
            let (result, taken) = send.await.unwrap();
            assert!(result.unwrap().starts_with("250"));
            assert!(taken, "the claim is consumed");
            assert!(seen("the body line") && seen("."));
        }
    }

    #[test]
    fn the_data_block_doubles_leading_dots_and_ends_with_the_terminator() {
        let block = |s: &str| DataBlock(s).to_string();
        assert_eq!(block("a\r\nb\r\n"), "a\r\nb\r\n\r\n.\r\n");
        // A dot at the start of the message and of every line, never inside one.
        assert_eq!(
            block(".x\r\n..y\r\nz.\r\n.\r\n"),
            "..x\r\n...y\r\nz.\r\n..\r\n\r\n.\r\n"
        );
        // A line starts after CRLF only, as lettre's codec has it: not after a bare LF or CR.
        assert_eq!(block("a\n.b\r.c\r\r\n.d"), "a\n.b\r.c\r\r\n..d\r\n.\r\n");
        assert_eq!(block(""), "\r\n.\r\n");
        assert_eq!(block("é\r\n.é"), "é\r\n..é\r\n.\r\n");
    }

    #[tokio::test]
    async fn a_line_that_starts_with_a_dot_reaches_the_server_doubled() {
        let (port, log) = logging_server(true);
        let mut session = SmtpSession::connect(&endpoint(port)).await.unwrap();
        let (from, to) = addresses();
        let raw = b"Subject: hi\r\n\r\n.\r\n.signature\r\nend\r\n";
        let reply = session.send(&from, &to, raw, &mut None).await.unwrap();
        assert!(reply.starts_with("250"), "{reply}");
        let lines = log.lock().unwrap().clone();
        let body: Vec<&str> = lines
            .iter()
            .skip_while(|l| *l != "DATA")
            .skip(1)
            .map(String::as_str)
            .collect();
        assert_eq!(
            body,
            ["Subject: hi", "", "..", "..signature", "end", "", "."]
        );
    }

    #[tokio::test]
    async fn a_failed_sync_sends_no_body_and_no_end_of_data() {
        let (port, log) = logging_server(true);
        let mut session = SmtpSession::connect(&endpoint(port)).await.unwrap();
        let mut claim: ClaimSync = Some(tokio::task::spawn_blocking(|| {
            Err(std::io::Error::other("disk full"))
        }));
        let (from, to) = addresses();
        let err = session.send(&from, &to, RAW, &mut claim).await.unwrap_err();
        assert!(
            matches!(&err, SmtpError::NotDurable { text } if text.contains("disk full")),
            "{err:?}"
        );
        assert!(
            !session.is_usable(),
            "the unfinished transaction is dropped"
        );
        drop(session);
        // The server saw the transaction start and never end.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let lines = log.lock().unwrap().clone();
        assert!(lines.iter().any(|l| l == "DATA"), "{lines:?}");
        assert!(
            !lines.iter().any(|l| l == "the body line" || l == "."),
            "{lines:?}"
        );
    }
}
