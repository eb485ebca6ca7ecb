//! A small SMTP client for the RCPT probe: replies (multi-line, enhanced status codes),
//! EHLO/HELO, opportunistic STARTTLS, commands with timeouts, and a QUIT that is always tried.
//!
//! It never sends DATA. Every read and write is bounded in time (`command_timeout` per reply,
//! however slowly its bytes trickle in) and in size (lines and lines per reply), so a hostile
//! or broken server can neither stall a task nor grow its memory.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls;

/// A reply line longer than this is a protocol error (RFC 5321 says 512 octets).
const MAX_LINE: usize = 4096;
/// A reply with more lines than this is a protocol error (EHLO lists a few dozen at most).
const MAX_LINES: usize = 128;

/// One SMTP reply, possibly multi-line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// `5.1.1` and the like, from the start of the first line or a trailing `(#5.1.1)`.
    pub enhanced: Option<String>,
    /// The text of each line, without the code and separator.
    pub lines: Vec<String>,
}

impl Reply {
    pub fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }

    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    pub fn is_permanent(&self) -> bool {
        self.code >= 500
    }

    /// The lines joined into one, control characters replaced, for a result's detail.
    pub fn text(&self) -> String {
        let joined = self.lines.join(" ");
        joined
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .trim()
            .to_string()
    }

    /// Parse the lines of a reply as received (without CRLF).
    pub fn parse(raw: &[String]) -> Result<Reply, String> {
        let mut code = None;
        let mut lines = Vec::with_capacity(raw.len());
        for (i, line) in raw.iter().enumerate() {
            let bytes = line.as_bytes();
            if bytes.len() < 3 || !bytes[..3].iter().all(u8::is_ascii_digit) {
                return Err(format!("malformed reply line {:?}", clip(line)));
            }
            let this: u16 = line[..3].parse().map_err(|_| "bad code".to_string())?;
            if !(200..600).contains(&this) {
                return Err(format!("reply code {this} out of range"));
            }
            if *code.get_or_insert(this) != this {
                return Err(format!(
                    "reply code changes within a reply: {:?}",
                    clip(line)
                ));
            }
            let last = i + 1 == raw.len();
            match bytes.get(3) {
                None | Some(b' ') if last => {}
                Some(b'-') if !last => {}
                _ => return Err(format!("malformed reply line {:?}", clip(line))),
            }
            lines.push(line.get(4..).unwrap_or("").to_string());
        }
        let code = code.ok_or("empty reply")?;
        let mut reply = Reply {
            code,
            enhanced: None,
            lines,
        };
        reply.enhanced = reply.find_enhanced();
        if let Some(e) = &reply.enhanced {
            // RFC 2034: the enhanced code prefixes every line; keep it once, in `enhanced`.
            for l in &mut reply.lines {
                if let Some(rest) = l.strip_prefix(e.as_str()) {
                    *l = rest.trim_start().to_string();
                }
            }
        }
        Ok(reply)
    }

    fn find_enhanced(&self) -> Option<String> {
        let class = char::from(b'0' + (self.code / 100) as u8);
        let first = self.lines.first()?;
        let head = first.split_whitespace().next().unwrap_or("");
        if is_enhanced(head, class) {
            return Some(head.to_string());
        }
        // qmail and some appliances: "... (#5.1.1)" at the end of the text.
        let text = self.lines.join(" ");
        let start = text.rfind("(#")?;
        let inner = text[start + 2..].split(')').next()?;
        is_enhanced(inner, class).then(|| inner.to_string())
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if let Some(e) = &self.enhanced {
            write!(f, " {e}")?;
        }
        write!(f, " {}", self.text())
    }
}

/// `class.subject.detail` with the class matching the reply code (RFC 3463).
fn is_enhanced(s: &str, class: char) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && parts[0].len() == 1
        && parts[0].starts_with(class)
        && (1..=3).contains(&parts[1].len())
        && (1..=3).contains(&parts[2].len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

/// How a session failed, when the server did not answer with a reply code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmtpError {
    #[error("connection refused")]
    Refused,
    #[error("connect timed out after {0:?}")]
    ConnectTimeout(Duration),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("no reply to {stage} within {timeout:?}")]
    Timeout { stage: Stage, timeout: Duration },
    #[error("connection closed by the server at {stage}")]
    Closed { stage: Stage },
    #[error("network error at {stage}: {reason}")]
    Io { stage: Stage, reason: String },
    #[error("protocol error at {stage}: {reason}")]
    Protocol { stage: Stage, reason: String },
    #[error("TLS handshake failed: {0}")]
    Tls(String),
}

/// The step of a session, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Banner,
    Ehlo,
    Helo,
    StartTls,
    MailFrom,
    RcptTo,
    Rset,
    Quit,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Banner => "the banner",
            Stage::Ehlo => "EHLO",
            Stage::Helo => "HELO",
            Stage::StartTls => "STARTTLS",
            Stage::MailFrom => "MAIL FROM",
            Stage::RcptTo => "RCPT TO",
            Stage::Rset => "RSET",
            Stage::Quit => "QUIT",
        })
    }
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Gone,
}

/// An open SMTP connection.
pub struct Session {
    stream: Stream,
    /// Bytes read but not yet consumed as lines.
    buf: Vec<u8>,
    pub peer: SocketAddr,
    command_timeout: Duration,
    pub tls: bool,
}

impl Session {
    pub async fn connect(
        peer: SocketAddr,
        connect_timeout: Duration,
        command_timeout: Duration,
    ) -> Result<Session, SmtpError> {
        let tcp = match tokio::time::timeout(connect_timeout, TcpStream::connect(peer)).await {
            Err(_) => return Err(SmtpError::ConnectTimeout(connect_timeout)),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                return Err(SmtpError::Refused);
            }
            Ok(Err(e)) => return Err(SmtpError::Connect(e.to_string())),
            Ok(Ok(s)) => s,
        };
        let _ = tcp.set_nodelay(true);
        Ok(Session {
            stream: Stream::Plain(tcp),
            buf: Vec::with_capacity(512),
            peer,
            command_timeout,
            tls: false,
        })
    }

    /// Read one complete reply, within the command timeout as a whole.
    pub async fn read_reply(&mut self, stage: Stage) -> Result<Reply, SmtpError> {
        let timeout = self.command_timeout;
        match tokio::time::timeout(timeout, self.read_reply_untimed(stage)).await {
            Ok(r) => r,
            Err(_) => Err(SmtpError::Timeout { stage, timeout }),
        }
    }

    async fn read_reply_untimed(&mut self, stage: Stage) -> Result<Reply, SmtpError> {
        let mut lines = Vec::new();
        loop {
            let line = self.read_line(stage).await?;
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last {
                break;
            }
            if lines.len() >= MAX_LINES {
                return Err(SmtpError::Protocol {
                    stage,
                    reason: format!("reply longer than {MAX_LINES} lines"),
                });
            }
        }
        Reply::parse(&lines).map_err(|reason| SmtpError::Protocol { stage, reason })
    }

    async fn read_line(&mut self, stage: Stage) -> Result<String, SmtpError> {
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            if self.buf.len() > MAX_LINE {
                return Err(SmtpError::Protocol {
                    stage,
                    reason: format!("reply line longer than {MAX_LINE} bytes"),
                });
            }
            let mut chunk = [0u8; 1024];
            let n = match &mut self.stream {
                Stream::Plain(s) => s.read(&mut chunk).await,
                Stream::Tls(s) => s.read(&mut chunk).await,
                Stream::Gone => return Err(SmtpError::Closed { stage }),
            }
            .map_err(|e| io_error(stage, &e))?;
            if n == 0 {
                return Err(SmtpError::Closed { stage });
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    async fn write_line(&mut self, line: &str, stage: Stage) -> Result<(), SmtpError> {
        let data = format!("{line}\r\n");
        let timeout = self.command_timeout;
        let write = async {
            match &mut self.stream {
                Stream::Plain(s) => {
                    s.write_all(data.as_bytes()).await?;
                    s.flush().await
                }
                Stream::Tls(s) => {
                    s.write_all(data.as_bytes()).await?;
                    s.flush().await
                }
                Stream::Gone => Err(std::io::ErrorKind::NotConnected.into()),
            }
        };
        match tokio::time::timeout(timeout, write).await {
            Err(_) => Err(SmtpError::Timeout { stage, timeout }),
            Ok(Err(e)) => Err(io_error(stage, &e)),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Send one command line and read its reply.
    pub async fn command(&mut self, line: &str, stage: Stage) -> Result<Reply, SmtpError> {
        self.write_line(line, stage).await?;
        self.read_reply(stage).await
    }

    /// EHLO, falling back to HELO when EHLO is refused with a 5xx. Returns the reply and the
    /// upper-case extension keywords.
    pub async fn hello(&mut self, name: &str) -> Result<(Reply, Vec<String>), SmtpError> {
        let reply = self.command(&format!("EHLO {name}"), Stage::Ehlo).await?;
        if reply.is_permanent() {
            let helo = self.command(&format!("HELO {name}"), Stage::Helo).await?;
            return Ok((helo, Vec::new()));
        }
        let caps = if reply.is_positive() {
            reply
                .lines
                .iter()
                .skip(1)
                .filter_map(|l| l.split_whitespace().next())
                .map(str::to_ascii_uppercase)
                .collect()
        } else {
            Vec::new()
        };
        Ok((reply, caps))
    }

    /// STARTTLS and a handshake that accepts any certificate (see [`opportunistic_tls`]).
    /// `Ok(Some(reply))`: the server refused STARTTLS and the session goes on in plaintext.
    /// `Err(Tls)`: the handshake failed and this connection is unusable.
    pub async fn starttls(&mut self, server_name: &str) -> Result<Option<Reply>, SmtpError> {
        let reply = self.command("STARTTLS", Stage::StartTls).await?;
        if reply.code != 220 {
            return Ok(Some(reply));
        }
        // Anything the server sent after its 220 was sent in plaintext: drop it (RFC 3207 §5).
        self.buf.clear();
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Gone) else {
            return Err(SmtpError::Tls("already in TLS".into()));
        };
        let name = rustls::pki_types::ServerName::try_from(server_name.to_string())
            .or_else(|_| rustls::pki_types::ServerName::try_from(self.peer.ip().to_string()))
            .map_err(|e| SmtpError::Tls(e.to_string()))?;
        let connector = TlsConnector::from(opportunistic_tls());
        let handshake = connector.connect(name, tcp);
        match tokio::time::timeout(self.command_timeout, handshake).await {
            Err(_) => Err(SmtpError::Tls(format!(
                "no handshake within {:?}",
                self.command_timeout
            ))),
            Ok(Err(e)) => Err(SmtpError::Tls(e.to_string())),
            Ok(Ok(tls)) => {
                self.stream = Stream::Tls(Box::new(tls));
                self.tls = true;
                Ok(None)
            }
        }
    }

    /// Send QUIT and wait briefly for its reply; errors are ignored. Then close.
    pub async fn quit(mut self) {
        let short = self.command_timeout.min(Duration::from_secs(3));
        self.command_timeout = short;
        if self.write_line("QUIT", Stage::Quit).await.is_ok() {
            let _ = self.read_reply(Stage::Quit).await;
        }
        self.close().await;
    }

    /// Send QUIT without waiting for an answer (the server is not answering), then close.
    pub async fn quit_now(mut self) {
        self.command_timeout = self.command_timeout.min(Duration::from_secs(1));
        let _ = self.write_line("QUIT", Stage::Quit).await;
        self.close().await;
    }

    async fn close(&mut self) {
        let wait = Duration::from_millis(500);
        match std::mem::replace(&mut self.stream, Stream::Gone) {
            Stream::Plain(mut s) => {
                let _ = tokio::time::timeout(wait, s.shutdown()).await;
            }
            Stream::Tls(mut s) => {
                let _ = tokio::time::timeout(wait, s.shutdown()).await;
            }
            Stream::Gone => {}
        }
    }
}

fn io_error(stage: Stage, e: &std::io::Error) -> SmtpError {
    use std::io::ErrorKind::*;
    match e.kind() {
        UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe => {
            SmtpError::Closed { stage }
        }
        _ => SmtpError::Io {
            stage,
            reason: e.to_string(),
        },
    }
}

/// The TLS client configuration of the probe, and only of the probe: it accepts any
/// certificate. A probe carries no credentials and no content, and MTAs use STARTTLS
/// opportunistically among themselves (RFC 3207 §4.1, RFC 7435), so an unverifiable
/// certificate is better than plaintext. Signatures are still checked, so the handshake is
/// a real one. Every other TLS client in hailer verifies certificates.
pub fn opportunistic_tls() -> Arc<rustls::ClientConfig> {
    use std::sync::OnceLock;
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .expect("aws-lc-rs supports the default TLS versions")
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
                .with_no_client_auth();
            Arc::new(config)
        })
        .clone()
}

#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(lines: &[&str]) -> Result<Reply, String> {
        Reply::parse(&lines.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn single_line_reply_with_enhanced_code() {
        let r = parse(&["550 5.1.1 <nobody@acme.test>: Recipient address rejected: User unknown"])
            .unwrap();
        assert_eq!(r.code, 550);
        assert_eq!(r.enhanced.as_deref(), Some("5.1.1"));
        assert_eq!(
            r.text(),
            "<nobody@acme.test>: Recipient address rejected: User unknown"
        );
        assert!(r.is_permanent());
    }

    #[test]
    fn multi_line_reply_keeps_every_line_once() {
        let r = parse(&[
            "421-4.7.0 mx.example.com is busy",
            "421-4.7.0 too many connections",
            "421 4.7.0 try again later",
        ])
        .unwrap();
        assert_eq!(r.code, 421);
        assert_eq!(r.enhanced.as_deref(), Some("4.7.0"));
        assert_eq!(
            r.text(),
            "mx.example.com is busy too many connections try again later"
        );
        assert!(r.is_transient());
    }

    #[test]
    fn qmail_style_trailing_enhanced_code() {
        let r = parse(&["550 sorry, no mailbox here by that name. (#5.1.1)"]).unwrap();
        assert_eq!(r.enhanced.as_deref(), Some("5.1.1"));
    }

    #[test]
    fn enhanced_class_must_match_the_code() {
        assert_eq!(parse(&["250 5.1.1 odd"]).unwrap().enhanced, None);
        assert_eq!(
            parse(&["250 2.1.5 Ok"]).unwrap().enhanced.as_deref(),
            Some("2.1.5")
        );
        assert_eq!(parse(&["250 Ok"]).unwrap().enhanced, None);
    }

    #[test]
    fn bare_code_is_a_reply() {
        let r = parse(&["250"]).unwrap();
        assert_eq!((r.code, r.text().as_str()), (250, ""));
    }

    #[test]
    fn malformed_replies_are_errors() {
        assert!(parse(&["hello"]).is_err());
        assert!(parse(&["250-first", "251 second"]).is_err());
        assert!(parse(&["250 a", "250 b"]).is_err());
        assert!(parse(&["999 what"]).is_err());
        assert!(parse(&[]).is_err());
    }
}
