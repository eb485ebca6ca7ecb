//! A scripted SMTP server on a loopback port, for the faults a real server will not produce on
//! demand: silence, a dropped connection, a multi-line 421, slow or trickling replies, a broken
//! STARTTLS. It records what each connection saw (when it was accepted, every command line,
//! whether the client closed it) so tests can assert on the server side.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// What the server does in answer to the banner moment or to one command line.
#[derive(Clone, Debug)]
pub enum Act {
    /// Send these reply lines (each gets CRLF).
    Reply(Vec<String>),
    /// Send the reply after a pause.
    Slow(Duration, Vec<String>),
    /// Send the reply one byte at a time with this pause between bytes.
    Trickle(Duration, Vec<String>),
    /// Send raw bytes as they are (for a broken TLS handshake).
    Raw(Vec<u8>),
    /// Send nothing, keep reading.
    Hang,
    /// Close the connection at once.
    Close,
}

pub fn reply(line: &str) -> Act {
    Act::Reply(vec![line.to_string()])
}

pub fn replies(lines: &[&str]) -> Act {
    Act::Reply(lines.iter().map(|l| l.to_string()).collect())
}

/// A well-behaved server: EHLO with SMTPUTF8 (and STARTTLS when `tls`), accepts MAIL and
/// every RCPT, RSET, QUIT.
pub fn standard(cmd: &str) -> Act {
    let verb = cmd
        .split([' ', ':'])
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    match verb.as_str() {
        "EHLO" => replies(&[
            "250-fake.test",
            "250-PIPELINING",
            "250-ENHANCEDSTATUSCODES",
            "250 SMTPUTF8",
        ]),
        "HELO" => reply("250 fake.test"),
        "MAIL" => reply("250 2.1.0 Ok"),
        "RCPT" => reply("250 2.1.5 Ok"),
        "RSET" => reply("250 2.0.0 Ok"),
        "QUIT" => reply("221 2.0.0 Bye"),
        "NOOP" => reply("250 2.0.0 Ok"),
        _ => reply("502 5.5.2 Error: command not recognized"),
    }
}

#[derive(Debug, Clone)]
pub struct Conn {
    pub accepted_at: Instant,
    pub commands: Vec<String>,
    /// The client closed the connection (EOF seen) rather than the server.
    pub client_closed: bool,
}

impl Conn {
    pub fn saw(&self, verb: &str) -> bool {
        self.commands
            .iter()
            .any(|c| c.to_ascii_uppercase().starts_with(verb))
    }

    pub fn count(&self, verb: &str) -> usize {
        self.commands
            .iter()
            .filter(|c| c.to_ascii_uppercase().starts_with(verb))
            .count()
    }
}

pub type Handler = Arc<dyn Fn(usize, Option<&str>) -> Act + Send + Sync>;

pub struct FakeSmtp {
    pub addr: SocketAddr,
    pub conns: Arc<Mutex<Vec<Conn>>>,
}

impl FakeSmtp {
    pub fn conns(&self) -> Vec<Conn> {
        self.conns.lock().unwrap().clone()
    }

    /// Wait (up to 3 s) until `n` connections have ended, so their logs are complete.
    pub async fn settle(&self, n: usize) -> Vec<Conn> {
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let conns = self.conns();
            let ended = conns
                .iter()
                .filter(|c| c.client_closed || c.saw("QUIT"))
                .count();
            if ended >= n || Instant::now() > deadline {
                return conns;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Start a server on `ip:0`. `handler(conn_index, None)` gives the banner action,
/// `handler(conn_index, Some(line))` the action for a command line.
pub async fn start(ip: &str, handler: Handler) -> FakeSmtp {
    let listener = TcpListener::bind((ip, 0)).await.unwrap();
    start_on(listener, handler)
}

pub fn start_on(listener: TcpListener, handler: Handler) -> FakeSmtp {
    let addr = listener.local_addr().unwrap();
    let conns: Arc<Mutex<Vec<Conn>>> = Arc::default();
    let log = conns.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let index = {
                let mut all = log.lock().unwrap();
                all.push(Conn {
                    accepted_at: Instant::now(),
                    commands: Vec::new(),
                    client_closed: false,
                });
                all.len() - 1
            };
            let (log, handler) = (log.clone(), handler.clone());
            tokio::spawn(async move {
                let (rd, mut wr) = sock.into_split();
                let mut rd = BufReader::new(rd);
                if !act(&mut wr, handler(index, None)).await {
                    return;
                }
                let mut line = String::new();
                loop {
                    line.clear();
                    match rd.read_line(&mut line).await {
                        Ok(0) | Err(_) => {
                            log.lock().unwrap()[index].client_closed = true;
                            return;
                        }
                        Ok(_) => {}
                    }
                    let cmd = line.trim_end_matches(['\r', '\n']).to_string();
                    log.lock().unwrap()[index].commands.push(cmd.clone());
                    let quit = cmd.eq_ignore_ascii_case("QUIT");
                    if !act(&mut wr, handler(index, Some(&cmd))).await || quit {
                        return;
                    }
                }
            });
        }
    });
    FakeSmtp { addr, conns }
}

/// Perform one action; `false` when the connection is finished.
async fn act(wr: &mut tokio::net::tcp::OwnedWriteHalf, a: Act) -> bool {
    let text = |lines: &[String]| lines.iter().map(|l| format!("{l}\r\n")).collect::<String>();
    match a {
        Act::Reply(lines) => wr.write_all(text(&lines).as_bytes()).await.is_ok(),
        Act::Slow(pause, lines) => {
            tokio::time::sleep(pause).await;
            wr.write_all(text(&lines).as_bytes()).await.is_ok()
        }
        Act::Trickle(pause, lines) => {
            for b in text(&lines).bytes() {
                if wr.write_all(&[b]).await.is_err() {
                    return false;
                }
                tokio::time::sleep(pause).await;
            }
            true
        }
        Act::Raw(bytes) => wr.write_all(&bytes).await.is_ok(),
        Act::Hang => true,
        Act::Close => {
            let _ = wr.shutdown().await;
            false
        }
    }
}
