//! A scripted IMAP server on a loopback port (no TLS: `imap_security = "plain"`), for what the
//! rig's Dovecot will not do on demand: stall in the middle of an answer (to LOGIN, SELECT,
//! UID SEARCH, a FETCH or a MOVE). One folder,
//! INBOX, whose messages have UIDs 1, 2, … (and sequence numbers equal to them). It answers
//! what `hailer bounces sync` sends (LOGIN, CAPABILITY, EXAMINE/SELECT, UID SEARCH, UID FETCH of
//! sizes or of `BODY.PEEK[]<0.N>`, NOOP, LOGOUT) and records each command line.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where the server stops answering (then waits until the client goes away).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stall {
    /// Never.
    Never,
    /// The body FETCH number n (counting from 0 over the server's life), after the start of
    /// its first message.
    Fetch(usize),
    /// The first LOGIN, with no answer at all.
    Login,
    /// The first EXAMINE/SELECT, after its first untagged line.
    Select,
    /// The first EXAMINE/SELECT: its first untagged line, then the connection is closed
    /// ("CLOSED" is logged).
    CloseAtSelect,
    /// The first UID SEARCH, after the start of its untagged line.
    Search,
    /// The first UID MOVE, with no answer at all (the server offers MOVE, and LIST and
    /// CREATE for its destination, only then).
    Move,
}

pub struct FakeImap {
    pub addr: SocketAddr,
    /// Every command line received, and "STALLED" when a FETCH answer was left unfinished.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl FakeImap {
    /// Serve `messages` in INBOX. The body FETCH number `stall_at` (counting from 0 over the
    /// server's life) gets the start of its first message and then nothing more: the server
    /// waits until the client goes away.
    pub fn start(messages: Vec<Vec<u8>>, stall_at: Option<usize>) -> FakeImap {
        FakeImap::stalling(messages, stall_at.map_or(Stall::Never, Stall::Fetch))
    }

    /// Serve `messages` in INBOX, stalling once at `stall` ("STALLED" is logged then); the
    /// connections after that one are answered in full.
    pub fn stalling(messages: Vec<Vec<u8>>, stall: Stall) -> FakeImap {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let messages = Arc::new(messages);
        let body_fetches = Arc::new(AtomicUsize::new(0));
        let stalled = Arc::new(AtomicBool::new(false));
        let server_log = log.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let (log, messages, body_fetches, stalled) = (
                    server_log.clone(),
                    messages.clone(),
                    body_fetches.clone(),
                    stalled.clone(),
                );
                std::thread::spawn(move || {
                    let _ = serve(conn, &messages, &log, &body_fetches, &stalled, stall);
                });
            }
        });
        FakeImap { addr, log }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Whether a line containing `text` was logged within `timeout`.
    pub fn wait_for(&self, text: &str, timeout: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.log.lock().unwrap().iter().any(|l| l.contains(text)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

/// `1:3,5,7:*` over UIDs 1..=n.
fn uid_set(set: &str, n: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for part in set.split(',') {
        let bound = |s: &str| if s == "*" { n } else { s.parse().unwrap() };
        let (a, b) = match part.split_once(':') {
            Some((a, b)) => (bound(a), bound(b)),
            None => (bound(part), bound(part)),
        };
        out.extend((a.min(b)..=a.max(b)).filter(|u| (1..=n).contains(u)));
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn serve(
    conn: TcpStream,
    messages: &[Vec<u8>],
    log: &Mutex<Vec<String>>,
    body_fetches: &AtomicUsize,
    stalled: &AtomicBool,
    stall: Stall,
) -> std::io::Result<()> {
    let n = messages.len() as u32;
    let mut out = conn.try_clone()?;
    let mut lines = BufReader::new(conn);
    // Sends `partial`, then nothing more until the client goes away (or a minute, at most).
    let stall_with = |out: &mut TcpStream,
                      lines: &mut BufReader<TcpStream>,
                      partial: &[u8]|
     -> std::io::Result<()> {
        out.write_all(partial)?;
        out.flush()?;
        log.lock().unwrap().push("STALLED".into());
        lines
            .get_ref()
            .set_read_timeout(Some(Duration::from_secs(60)))?;
        let _ = lines.read_line(&mut String::new());
        Ok(())
    };
    // Whether this is the one command to stall at.
    let stall_here = |at: Stall| stall == at && !stalled.swap(true, Ordering::SeqCst);
    out.write_all(b"* OK fake IMAP ready\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let text = line.trim_end().to_string();
        log.lock().unwrap().push(text.clone());
        let (tag, rest) = text.split_once(' ').unwrap_or((&text, ""));
        let upper = rest.to_ascii_uppercase();
        let mut reply: Vec<u8> = Vec::new();
        if upper.starts_with("LOGIN") && stall_here(Stall::Login) {
            return stall_with(&mut out, &mut lines, b"");
        } else if upper.starts_with("LOGIN") || upper.starts_with("NOOP") {
            reply.extend(format!("{tag} OK done\r\n").bytes());
        } else if upper.starts_with("CAPABILITY") {
            let extra = if stall == Stall::Move { " MOVE" } else { "" };
            reply.extend(format!("* CAPABILITY IMAP4rev1{extra}\r\n{tag} OK done\r\n").bytes());
        } else if stall == Stall::Move && (upper.starts_with("LIST") || upper.starts_with("CREATE"))
        {
            reply.extend(format!("{tag} OK done\r\n").bytes());
        } else if upper.starts_with("UID MOVE") && stall_here(Stall::Move) {
            return stall_with(&mut out, &mut lines, b"");
        } else if (upper.starts_with("EXAMINE") || upper.starts_with("SELECT"))
            && stall_here(Stall::CloseAtSelect)
        {
            out.write_all(format!("* {n} EXISTS\r\n").as_bytes())?;
            out.flush()?;
            log.lock().unwrap().push("CLOSED".into());
            return Ok(());
        } else if (upper.starts_with("EXAMINE") || upper.starts_with("SELECT"))
            && stall_here(Stall::Select)
        {
            return stall_with(&mut out, &mut lines, format!("* {n} EXISTS\r\n").as_bytes());
        } else if upper.starts_with("EXAMINE") || upper.starts_with("SELECT") {
            reply.extend(
                format!(
                    "* {n} EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 7] v\r\n\
                     * OK [UIDNEXT {}] n\r\n{tag} OK [READ-ONLY] done\r\n",
                    n + 1
                )
                .bytes(),
            );
        } else if upper.starts_with("UID SEARCH") && stall_here(Stall::Search) {
            return stall_with(&mut out, &mut lines, b"* SEARCH 1");
        } else if let Some(set) = upper.strip_prefix("UID SEARCH UID ") {
            let mut uids = uid_set(set.trim(), n);
            if uids.is_empty() && n > 0 {
                uids.push(n); // `n:*` always includes the last message
            }
            let list: Vec<String> = uids.iter().map(u32::to_string).collect();
            reply.extend(format!("* SEARCH {}\r\n{tag} OK done\r\n", list.join(" ")).bytes());
        } else if let Some(args) = upper.strip_prefix("UID FETCH ") {
            let (set, query) = args.split_once(' ').unwrap_or((args, ""));
            let uids = uid_set(set, n);
            if query.contains("RFC822.SIZE") {
                for u in &uids {
                    let size = messages[*u as usize - 1].len();
                    reply.extend(format!("* {u} FETCH (UID {u} RFC822.SIZE {size})\r\n").bytes());
                }
            } else {
                // BODY.PEEK[]<0.N>: the first N bytes.
                let cap: usize = query
                    .split_once("<0.")
                    .and_then(|(_, r)| r.split('>').next()?.parse().ok())
                    .unwrap_or(usize::MAX);
                let nth = body_fetches.fetch_add(1, Ordering::SeqCst);
                for u in &uids {
                    let m = &messages[*u as usize - 1];
                    let body = &m[..m.len().min(cap)];
                    reply.extend(
                        format!("* {u} FETCH (UID {u} BODY[]<0> {{{}}}\r\n", body.len()).bytes(),
                    );
                    if stall == Stall::Fetch(nth) {
                        reply.extend_from_slice(&body[..body.len() / 2]);
                        return stall_with(&mut out, &mut lines, &reply);
                    }
                    reply.extend_from_slice(body);
                    reply.extend_from_slice(b")\r\n");
                }
            }
            reply.extend(format!("{tag} OK done\r\n").bytes());
        } else if upper.starts_with("LOGOUT") {
            reply.extend(format!("* BYE bye\r\n{tag} OK done\r\n").bytes());
            out.write_all(&reply)?;
            return Ok(());
        } else {
            reply.extend(format!("{tag} BAD unknown command\r\n").bytes());
        }
        out.write_all(&reply)?;
    }
}
