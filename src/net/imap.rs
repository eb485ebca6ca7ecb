//! IMAP sessions over implicit TLS, STARTTLS, or plain TCP (loopback tests only), with the
//! public web PKI roots plus `[tls] ca_file`.
//!
//! The `imap` crate is synchronous: callers run it on a blocking thread.

use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls_connector::RustlsConnector;
use rustls_connector::rustls::{ClientConfig, RootCertStore};

use super::redact::redact;
use super::tls::{TlsError, load_ca_file};
use crate::config::{MailboxConfig, Security};

pub type Session = imap::Session<imap::Connection>;

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("{0}")]
    Tls(#[from] TlsError),
    #[error("cannot connect to {host}:{port}: {cause}")]
    Connect {
        host: String,
        port: u16,
        cause: String,
    },
    #[error("TLS handshake with {host}:{port} failed: {cause}")]
    Handshake {
        host: String,
        port: u16,
        cause: String,
    },
    #[error("IMAP login as {user} on {host}:{port} refused: {cause}")]
    Login {
        user: String,
        host: String,
        port: u16,
        cause: String,
    },
    #[error("IMAP error with {host}:{port}: {cause}")]
    Protocol {
        host: String,
        port: u16,
        cause: String,
    },
    #[error("mailbox has no IMAP settings: {0}")]
    NotConfigured(String),
    /// `password_env` unset, `password_cmd` failing: the cause never holds the password nor
    /// anything the command printed.
    #[error("cannot get the password of mailbox {mailbox}: {cause}")]
    Password { mailbox: String, cause: String },
}

/// Where and how to log in. The password is kept out of `Debug`.
#[derive(Clone)]
pub struct ImapEndpoint {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub ca_file: Option<PathBuf>,
    pub username: String,
    pub password: String,
    pub timeout: Duration,
}

impl std::fmt::Debug for ImapEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapEndpoint")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl ImapEndpoint {
    /// The IMAP side of a configured mailbox (password from its env var or command).
    pub fn for_mailbox(
        name: &str,
        mb: &MailboxConfig,
        ca_file: Option<PathBuf>,
    ) -> Result<Self, ImapError> {
        let host = mb
            .imap_host
            .clone()
            .ok_or_else(|| ImapError::NotConfigured(format!("{name}: imap_host is not set")))?;
        let password = mb.password().map_err(|cause| ImapError::Password {
            mailbox: name.to_string(),
            cause,
        })?;
        Ok(ImapEndpoint {
            host,
            port: mb.imap_port(),
            security: mb.imap_security,
            ca_file,
            username: mb.imap_login(),
            password,
            timeout: Duration::from_secs(30),
        })
    }
}

fn tls_connector(ca_file: Option<&std::path::Path>) -> Result<RustlsConnector, TlsError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        for cert in load_ca_file(path)? {
            // A malformed extra root is skipped rather than failing the whole store.
            let _ = roots.add(cert);
        }
    }
    let config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config).into())
}

/// The plaintext part of STARTTLS (RFC 3501 §6.2.1), done by hand because the `imap` crate
/// only offers it with its own certificate settings. The server says nothing after the
/// tagged OK until the handshake, so nothing read here belongs to the TLS stream.
fn starttls(mut tcp: TcpStream) -> Result<TcpStream, String> {
    use std::io::{BufRead, BufReader, Write};
    let mut reader = BufReader::new(tcp.try_clone().map_err(|e| e.to_string())?);
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|e| e.to_string())?;
    if !line.starts_with("* OK") {
        return Err(format!("unexpected greeting: {}", line.trim_end()));
    }
    tcp.write_all(b"h0 STARTTLS\r\n")
        .map_err(|e| e.to_string())?;
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err("connection closed during STARTTLS".into());
        }
        if let Some(rest) = line.strip_prefix("h0 ") {
            return if rest.starts_with("OK") {
                Ok(tcp)
            } else {
                Err(format!("STARTTLS refused: {}", rest.trim_end()))
            };
        }
    }
}

/// A TCP connection within `timeout` for each address the host resolves to: a host that
/// drops packets must not hold a send run (or its cancel) for the system's two minutes.
fn connect_tcp(host: &str, port: u16, timeout: Duration) -> std::io::Result<TcpStream> {
    use std::net::ToSocketAddrs;
    let mut last = None;
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(tcp) => return Ok(tcp),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "the host has no address")
    }))
}

/// Connect and log in.
pub fn login(ep: &ImapEndpoint) -> Result<Session, ImapError> {
    login_with_socket(ep).map(|(session, _)| session)
}

/// [`login`], also returning a handle on the session's TCP socket. The `imap` crate's IDLE
/// clears the socket's read timeout when it returns; a long-lived watcher puts it back
/// through this handle so a silent server cannot block it forever.
pub fn login_with_socket(ep: &ImapEndpoint) -> Result<(Session, TcpStream), ImapError> {
    let tcp = connect(ep)?;
    let socket = tcp.try_clone().map_err(|e| ImapError::Connect {
        host: ep.host.clone(),
        port: ep.port,
        cause: e.to_string(),
    })?;
    Ok((login_on(ep, tcp)?, socket))
}

/// The TCP connection of a session, with the endpoint's read and write timeouts; a clone of
/// it lets the caller shut it down while [`login_on`] or a later command blocks on it.
pub fn connect(ep: &ImapEndpoint) -> Result<TcpStream, ImapError> {
    let tcp = connect_tcp(&ep.host, ep.port, ep.timeout).map_err(|e| ImapError::Connect {
        host: ep.host.clone(),
        port: ep.port,
        cause: e.to_string(),
    })?;
    let _ = tcp.set_read_timeout(Some(ep.timeout));
    let _ = tcp.set_write_timeout(Some(ep.timeout));
    Ok(tcp)
}

/// Greeting, STARTTLS or TLS as configured, and LOGIN, over a connection from [`connect`].
pub fn login_on(ep: &ImapEndpoint, tcp: TcpStream) -> Result<Session, ImapError> {
    let (host, port) = (ep.host.clone(), ep.port);
    // Server text is redacted before it goes into an error: a server refusing a login may
    // quote the LOGIN command back, password included (see `super::redact`).
    let protocol = |e: imap::Error| ImapError::Protocol {
        host: host.clone(),
        port,
        cause: redact(&e.to_string(), &ep.password),
    };
    let handshake = |tcp: TcpStream| -> Result<imap::Connection, ImapError> {
        let connector = tls_connector(ep.ca_file.as_deref())?;
        let tls = connector
            .connect(&ep.host, tcp)
            .map_err(|e| ImapError::Handshake {
                host: host.clone(),
                port,
                cause: e.to_string(),
            })?;
        Ok(Box::new(tls))
    };
    let client = match ep.security {
        Security::Tls => {
            let mut c = imap::Client::new(handshake(tcp)?);
            c.read_greeting().map_err(protocol)?;
            c
        }
        Security::Starttls => {
            let tcp = starttls(tcp).map_err(|cause| ImapError::Protocol {
                host: host.clone(),
                port,
                cause,
            })?;
            let mut c = imap::Client::new(handshake(tcp)?);
            // After STARTTLS the server sends no second greeting.
            c.greeting_read = true;
            c
        }
        Security::Plain => {
            let mut c = imap::Client::new(Box::new(tcp) as imap::Connection);
            c.read_greeting().map_err(protocol)?;
            c
        }
    };
    let session = client
        .login(&ep.username, &ep.password)
        .map_err(|(e, _)| ImapError::Login {
            user: ep.username.clone(),
            host: host.clone(),
            port,
            cause: redact(&e.to_string(), &ep.password),
        })?;
    Ok(session)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A failing `password_cmd` is a password error, not "no IMAP settings", and says
    /// nothing the command printed.
    #[test]
    fn a_failing_password_cmd_is_a_password_error() {
        let mb: MailboxConfig = toml::from_str(
            "from = \"claire@sender.test\"\nsmtp_host = \"127.0.0.1\"\n\
             imap_host = \"127.0.0.1\"\npassword_cmd = \"echo hunter2; exit 3\"\n",
        )
        .unwrap();
        let e = ImapEndpoint::for_mailbox("claire", &mb, None).unwrap_err();
        assert!(matches!(e, ImapError::Password { .. }), "{e:?}");
        let text = e.to_string();
        assert!(
            text.starts_with("cannot get the password of mailbox claire: password_cmd"),
            "{text}"
        );
        assert!(text.contains('3'), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("IMAP settings"), "{text}");
    }
}
