//! `config.toml`: every section and key hailer reads, their defaults, and validation.
//!
//! Parsing is strict: unknown keys and wrong types are errors that name the key and the line,
//! because a typo in `daily_cap` must never silently fall back to "no cap". Secrets never live
//! in the file: mailboxes name an environment variable or a command that prints the password.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub mod window;

pub use window::SendingWindow;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // The cause is in the message, not a `source` (see store::StoreError).
    #[error("cannot read config file {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// "line N, column M", the key and toml's message; never the value (see `parse_message`).
    #[error("invalid config file {path}:\n{message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid config file {path}: {}", problems.join("; "))]
    Invalid {
        path: PathBuf,
        problems: Vec<String>,
    },
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub storage: StorageConfig,
    pub tls: TlsConfig,
    pub dns: DnsConfig,
    pub search: SearchConfig,
    pub verify: VerifyConfig,
    pub sending: SendingConfig,
    #[serde(deserialize_with = "mailboxes")]
    pub mailboxes: BTreeMap<String, MailboxConfig>,
    pub tracking: TrackingConfig,
    pub inbox: InboxConfig,
    pub api: ApiConfig,
    pub notify: NotifyConfig,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Overrides the default of `--data-dir` (an explicit flag still wins).
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// Extra CA (PEM) trusted for SMTP, IMAP and HTTPS, on top of the public roots.
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DnsConfig {
    /// `host:port` or `host` (port 53). Empty: the system resolver.
    pub nameservers: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SearchConfig {
    /// Search results page; `{query}` is replaced by the percent-encoded query.
    pub url: String,
    /// Directory and social sites never taken as a company's domain (registrable domains).
    pub skip_domains: Vec<String>,
    /// TLDs tried when guessing a domain from the company name.
    pub tlds: Vec<String>,
    /// Pages fetched per company site besides the home page.
    pub max_pages: u32,
    /// Bytes read per page; the rest is ignored.
    pub max_page_bytes: u64,
    /// Milliseconds between two requests to the same host.
    pub host_delay_ms: u64,
    /// Seconds before a request (connect + body) gives up.
    pub timeout_secs: u64,
    /// Days a cached domain, page or pattern stays fresh.
    pub cache_days: u32,
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self {
            url: "https://html.duckduckgo.com/html/?q={query}".into(),
            skip_domains: [
                "linkedin.com",
                "facebook.com",
                "twitter.com",
                "x.com",
                "instagram.com",
                "youtube.com",
                "wikipedia.org",
                "wikidata.org",
                "societe.com",
                "pagesjaunes.fr",
                "kompass.com",
                "bloomberg.com",
                "verif.com",
                "infogreffe.fr",
                "pappers.fr",
                "manageo.fr",
                "annuaire-entreprises.data.gouv.fr",
                "crunchbase.com",
                "glassdoor.com",
                "glassdoor.fr",
                "indeed.com",
                "indeed.fr",
                "welcometothejungle.com",
                "yelp.com",
                "tripadvisor.com",
                "tripadvisor.fr",
                "google.com",
                "apple.com",
                "amazon.com",
                "zoominfo.com",
                "dnb.com",
                "northdata.com",
                "northdata.de",
                "companieshouse.gov.uk",
                "opencorporates.com",
                "europages.fr",
                "europages.com",
            ]
            .map(String::from)
            .to_vec(),
            tlds: ["com", "fr", "de", "eu", "io", "co.uk", "net"]
                .map(String::from)
                .to_vec(),
            max_pages: 6,
            max_page_bytes: 1_000_000,
            host_delay_ms: 500,
            timeout_secs: 10,
            cache_days: 30,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct VerifyConfig {
    pub port: u16,
    pub helo_name: String,
    pub from: String,
    /// Seconds between two SMTP sessions to the same MX host; 0 turns the limit off.
    pub rate_limit: f64,
    pub concurrency: u32,
    /// SMTP sessions at once to one MX host.
    pub per_host: u32,
    /// Special-use TLD labels accepted as real (e.g. `["test"]` for the rig and the samples).
    pub allow_special_use: Vec<String>,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        Self {
            port: 25,
            helo_name: "localhost".into(),
            from: String::new(),
            rate_limit: 2.0,
            concurrency: 8,
            per_host: 1,
            allow_special_use: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SendingConfig {
    /// Only rows approved one by one (or in bulk) in review are sent.
    pub require_approval: bool,
    /// Send multipart/alternative with an HTML part rendered from Markdown.
    pub html: bool,
    /// Where `hailer send --dry-run` writes its .eml files (default `DATA_DIR/dry-run/`); a
    /// real run ignores it.
    pub dry_run_dir: Option<PathBuf>,
    /// Attempts (4xx or connection lost) before a row becomes ERROR.
    pub max_attempts: u32,
    /// Seconds before the first retry; each further retry waits twice as long.
    pub retry_base: u64,
    /// Pause a mailbox whose hard bounces or complaints say its reputation is at risk.
    pub auto_pause: bool,
    /// The mailbox's last N sends the hard-bounce rate is taken over.
    pub auto_pause_window: u32,
    /// Pause when hard bounces among the last `auto_pause_window` sends exceed this share of
    /// the window, in percent.
    pub auto_pause_hard_bounce_percent: f64,
}

impl Default for SendingConfig {
    fn default() -> Self {
        Self {
            require_approval: true,
            html: false,
            dry_run_dir: None,
            max_attempts: 5,
            retry_base: 300,
            auto_pause: true,
            auto_pause_window: 50,
            auto_pause_hard_bounce_percent: 5.0,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (required, never optional).
    Starttls,
    /// Implicit TLS from the first byte.
    Tls,
    /// No TLS at all: only for loopback test servers.
    Plain,
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Security::Starttls => "starttls",
            Security::Tls => "tls",
            Security::Plain => "plain",
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MailboxConfig {
    pub from: String,
    #[serde(default)]
    pub reply_to: Option<String>,
    pub smtp_host: String,
    #[serde(default)]
    pub smtp_port: Option<u16>,
    #[serde(default = "default_security")]
    pub smtp_security: Security,
    #[serde(default)]
    pub smtp_username: Option<String>,
    #[serde(default)]
    pub imap_host: Option<String>,
    #[serde(default)]
    pub imap_port: Option<u16>,
    #[serde(default = "default_imap_security")]
    pub imap_security: Security,
    #[serde(default)]
    pub imap_username: Option<String>,
    #[serde(default = "default_sent_folder")]
    pub sent_folder: String,
    #[serde(default)]
    pub password_env: Option<String>,
    #[serde(default)]
    pub password_cmd: Option<String>,
    #[serde(default = "default_daily_cap")]
    pub daily_cap: u32,
    #[serde(default)]
    pub warmup_start: Option<u32>,
    #[serde(default)]
    pub warmup_step: Option<u32>,
    /// A TOML date (`2026-11-23`) or the same as a string.
    #[serde(default, deserialize_with = "toml_date")]
    pub warmup_from: Option<chrono::NaiveDate>,
    #[serde(default)]
    pub window: Option<String>,
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Seconds, the random pause between two messages of this mailbox is drawn in `[delay_min, delay_max]`.
    #[serde(default = "default_delay_min")]
    pub delay_min: u64,
    #[serde(default = "default_delay_max")]
    pub delay_max: u64,
    #[serde(default)]
    pub dkim_selector: Option<String>,
    #[serde(default)]
    pub dkim_key_file: Option<PathBuf>,
    /// Folders the IMAP watcher reads in this mailbox; unset: `[inbox] folders`.
    #[serde(default)]
    pub watch_folders: Option<Vec<String>>,
}

/// `[mailboxes.NAME]` tables, with errors that name the mailbox: serde's own say "missing
/// field `from`" at the line of the parent table, or, for a key written straight under
/// `[mailboxes]`, "invalid type: string \"…\", expected struct MailboxConfig", quoting the
/// value. Other errors keep their own line and key (see `parse_message`).
fn mailboxes<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, MailboxConfig>, D::Error> {
    struct Tables;
    impl<'de> serde::de::Visitor<'de> for Tables {
        type Value = BTreeMap<String, MailboxConfig>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("tables [mailboxes.NAME]")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            use serde::de::Error;
            let mut out = BTreeMap::new();
            while let Some(name) = map.next_key::<String>()? {
                let mailbox = map.next_value::<MailboxConfig>().map_err(|e| {
                    let text = e.to_string();
                    if text.contains("expected struct MailboxConfig") {
                        A::Error::custom(format!(
                            "[mailboxes] {name} = …: each mailbox is a table of its own, \
                             [mailboxes.NAME], with its keys (from, smtp_host, …) under it"
                        ))
                    } else if text.starts_with("missing field") {
                        A::Error::custom(format!("[mailboxes.{name}] {}", text.trim_end()))
                    } else {
                        e
                    }
                })?;
                out.insert(name, mailbox);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Tables)
}

fn toml_date<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<chrono::NaiveDate>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum DateIn {
        Toml(toml::value::Datetime),
        Text(String),
    }
    let text = match DateIn::deserialize(d)? {
        DateIn::Toml(dt) => match (dt.date, dt.time) {
            (Some(date), None) => date.to_string(),
            _ => {
                return Err(serde::de::Error::custom(
                    "expected a date such as 2026-11-23",
                ));
            }
        },
        DateIn::Text(s) => s,
    };
    chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| serde::de::Error::custom(format!("{text:?} is not a date such as 2026-11-23")))
}

fn default_security() -> Security {
    Security::Starttls
}
fn default_imap_security() -> Security {
    Security::Tls
}
fn default_sent_folder() -> String {
    "Sent".into()
}
fn default_daily_cap() -> u32 {
    50
}
fn default_timezone() -> String {
    "UTC".into()
}
fn default_delay_min() -> u64 {
    60
}
fn default_delay_max() -> u64 {
    180
}

impl MailboxConfig {
    pub fn smtp_port(&self) -> u16 {
        self.smtp_port.unwrap_or(match self.smtp_security {
            Security::Tls => 465,
            Security::Starttls => 587,
            Security::Plain => 25,
        })
    }

    pub fn imap_port(&self) -> u16 {
        self.imap_port.unwrap_or(match self.imap_security {
            Security::Tls => 993,
            _ => 143,
        })
    }

    /// SMTP logs in: every mailbox but one with `smtp_username = ""` (no AUTH, as on a
    /// loopback relay).
    pub fn smtp_auth(&self) -> bool {
        self.smtp_username.as_deref() != Some("")
    }

    /// A password is used: to log in to SMTP ([`Self::smtp_auth`]) or to IMAP.
    pub fn needs_password(&self) -> bool {
        self.smtp_auth() || self.imap_host.is_some()
    }

    /// The SMTP login: `smtp_username`, else the From address.
    pub fn smtp_login(&self) -> String {
        self.smtp_username
            .clone()
            .unwrap_or_else(|| self.sender_address())
    }

    /// The IMAP login: `imap_username`, else a non-empty `smtp_username`, else the From
    /// address.
    pub fn imap_login(&self) -> String {
        self.imap_username
            .clone()
            .or_else(|| self.smtp_username.clone())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| self.sender_address())
    }

    fn sender_address(&self) -> String {
        crate::engine::send::message::address_of(&self.from).unwrap_or_default()
    }

    /// The password, from the environment variable or the command's first output line. An
    /// empty one is an error: logging in with it would only be refused, or worse, accepted.
    /// Errors never include the password itself (nor anything the command printed on its
    /// standard output); a failing command's standard error, its own diagnostic, is quoted.
    pub fn password(&self) -> Result<String, String> {
        if let Some(var) = &self.password_env {
            return match std::env::var(var) {
                Ok(p) if !p.is_empty() => Ok(p),
                Ok(_) => Err(format!(
                    "environment variable {var} (password_env) is empty"
                )),
                Err(_) => Err(format!(
                    "environment variable {var} (password_env) is not set"
                )),
            };
        }
        if let Some(cmd) = &self.password_cmd {
            let out = run_password_cmd(cmd, PASSWORD_CMD_TIMEOUT)?;
            let stdout = String::from_utf8_lossy(&out.stdout);
            let first = stdout.lines().next().unwrap_or("");
            if !out.status.success() {
                let diagnostic = command_diagnostic(&out.stderr, first);
                return Err(if diagnostic.is_empty() {
                    format!("password_cmd exited with {}", out.status)
                } else {
                    format!("password_cmd exited with {}: {diagnostic}", out.status)
                });
            }
            if first.is_empty() {
                return Err(
                    "password_cmd printed nothing (the password is its first output line)".into(),
                );
            }
            return Ok(first.to_string());
        }
        Err("no password_env or password_cmd set".into())
    }
}

/// How long `password_cmd` may take: time to type a passphrase into a prompt, but a
/// command stuck on a prompt nobody sees (gpg without its pinentry) does not hang a run.
pub const PASSWORD_CMD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Run `cmd` with `sh -c`, its output collected, stopped after `timeout`. It stays in the
/// terminal's process group, so a passphrase prompt on the terminal still works.
fn run_password_cmd(
    cmd: &str,
    timeout: std::time::Duration,
) -> Result<std::process::Output, String> {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run password_cmd: {e}"))?;
    // Read both pipes while waiting: a command that fills one would otherwise block. The
    // bytes come back over a channel, so a pipe held open by something the command left
    // running (`agent & echo pw`) cannot make the wait unbounded either.
    let (tx, rx) = std::sync::mpsc::channel::<(bool, Vec<u8>)>();
    let reader = |is_stdout: bool, pipe: Option<Box<dyn Read + Send>>| {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut bytes);
            }
            let _ = tx.send((is_stdout, bytes));
        });
    };
    reader(
        true,
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    reader(
        false,
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = std::time::Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "password_cmd gave no answer within {} s and was stopped (is it waiting \
                     for a passphrase prompt nobody sees?)",
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(10)),
            Err(e) => return Err(format!("cannot wait for password_cmd: {e}")),
        }
    };
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok((true, bytes)) => stdout = bytes,
            Ok((false, bytes)) => stderr = bytes,
            Err(_) => {
                return Err(format!(
                    "password_cmd exited, but something it started kept its output open for \
                     {} s (run it in the foreground, or close its output)",
                    timeout.as_secs()
                ));
            }
        }
    }
    Ok(std::process::Output {
        status,
        stdout,
        stderr,
    })
}

/// The first lines of a failed command's standard error, trimmed and bounded, with anything
/// it printed on standard output (maybe a password) taken out.
fn command_diagnostic(stderr: &[u8], stdout_first_line: &str) -> String {
    const LINES: usize = 3;
    const CHARS: usize = 300;
    let text = String::from_utf8_lossy(stderr);
    let text = crate::net::redact::redact(text.trim(), stdout_first_line.trim());
    let mut lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let more = lines.len() > LINES;
    lines.truncate(LINES);
    let mut shown: String = lines.join(" / ").chars().take(CHARS).collect();
    if more || shown.chars().count() == CHARS {
        shown.push_str(" …");
    }
    shown
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TrackingConfig {
    /// Public base URL of `hailer serve` (https, or http for local use). Unset: no tracking.
    pub base_url: Option<String>,
    /// Environment variable holding the HMAC key that signs tracking tokens.
    pub secret_env: Option<String>,
    pub clicks: bool,
    pub serve_in_tui: bool,
    /// Where `hailer serve` (without --listen) and the TUI's server listen.
    pub listen: Option<String>,
}

impl TrackingConfig {
    pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

    /// `listen`, or the default, resolved (see [`resolve_listen`]).
    pub fn listen_addr(&self) -> Result<std::net::SocketAddr, String> {
        resolve_listen(self.listen.as_deref().unwrap_or(Self::DEFAULT_LISTEN))
            .map_err(|e| format!("[tracking] listen: {e}"))
    }
}

/// `text` has one of the shapes [`resolve_listen`] takes (checked without resolving a name).
fn listen_shape_ok(text: &str) -> bool {
    let text = text.trim();
    text.parse::<std::net::SocketAddr>().is_ok()
        || text.parse::<u16>().is_ok()
        || listen_parts(text).is_some()
}

/// Where to listen, as a user writes it: `127.0.0.1:8080`, `[::1]:8080`, `localhost:8080`
/// (a name is resolved, its first address taken), or a bare port `8080` (on 127.0.0.1).
pub fn resolve_listen(text: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let text = text.trim();
    if let Ok(addr) = text.parse::<std::net::SocketAddr>() {
        return Ok(addr);
    }
    if let Ok(port) = text.parse::<u16>() {
        return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    // A port that does not fit (`99999`, `localhost:70000`) is named as such.
    let port_text = text.rsplit(':').next().unwrap_or(text);
    if !port_text.is_empty()
        && port_text.bytes().all(|b| b.is_ascii_digit())
        && port_text.parse::<u16>().is_err()
    {
        return Err(format!(
            "{text:?}: port {port_text} is out of range (1 to 65535)"
        ));
    }
    let shape = || {
        format!(
            "{text:?} must be an address or host name with a port, such as \"127.0.0.1:8080\" or \"localhost:8080\""
        )
    };
    let (host, port) = listen_parts(text).ok_or_else(shape)?;
    (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host:?} in {text:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host:?} in {text:?} has no address"))
}

/// `host:port` with a host name (no blanks, no brackets) and a valid port.
fn listen_parts(text: &str) -> Option<(&str, u16)> {
    let (host, port) = text.rsplit_once(':')?;
    let port = port.parse::<u16>().ok()?;
    let plausible = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    plausible.then_some((host, port))
}

/// The IMAP watcher (engine::inbox): which folders it reads and where it files what it read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct InboxConfig {
    /// Folders read in every mailbox that has `imap_host` (a mailbox's `watch_folders` wins).
    pub folders: Vec<String>,
    /// Where handled bounces, complaints and auto-replies are moved; unset: left in place.
    pub processed_folder: Option<String>,
    /// Where mail hailer has nothing to do with is moved; unset: left in place.
    pub skipped_folder: Option<String>,
    /// Where bounces and complaints that match no sent message are moved; unset: left in place.
    pub problem_folder: Option<String>,
    /// Use IMAP IDLE when the server offers it (`hailer watch`); otherwise poll.
    pub idle: bool,
    /// Seconds between two polls without IDLE (and the longest IDLE wait).
    pub poll_secs: u64,
    /// Messages fetched per UID FETCH.
    pub batch: u32,
    /// The most of one message read, in kB: a larger one (a reply with attachments, a bounce
    /// returning one) is read up to this size, which holds its headers, its text and a
    /// report's status part. A FETCH also stops at 16 such messages' worth of bytes.
    pub max_message_kb: u32,
    /// The TUI starts the watcher as a background task when it opens (`w` on Bounces
    /// starts and stops it by hand).
    pub watch_in_tui: bool,
    /// The From addresses and logins of every configured mailbox, lower-cased (filled from
    /// `[mailboxes.*]` when the file is read): mail from them is the user's own, never a reply.
    #[serde(skip)]
    pub own_addresses: Vec<String>,
}

impl Default for InboxConfig {
    fn default() -> Self {
        Self {
            folders: vec!["INBOX".into()],
            processed_folder: None,
            skipped_folder: None,
            problem_folder: None,
            idle: true,
            poll_secs: 60,
            batch: 200,
            max_message_kb: 1024,
            watch_in_tui: false,
            own_addresses: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Environment variable holding the REST API bearer token. Unset: the API is off.
    pub token_env: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    pub telegram: Option<TelegramConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    pub bot_token_env: String,
    pub chat_id: String,
    #[serde(default = "default_telegram_url")]
    pub api_url: String,
    /// "HH:MM": `hailer serve` sends the daily summary then. Unset: only `hailer notify summary`.
    #[serde(default)]
    pub daily_summary_at: Option<String>,
    /// IANA time zone of `daily_summary_at`.
    #[serde(default = "default_timezone")]
    pub summary_timezone: String,
}

fn default_telegram_url() -> String {
    "https://api.telegram.org".into()
}

/// A loaded configuration and where it came from (`None`: built-in defaults).
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    pub path: Option<PathBuf>,
}

impl Config {
    /// Parse and validate TOML text; `path` is only used in messages.
    pub fn from_toml(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: parse_message(&e, text),
        })?;
        config.inbox.own_addresses = config.own_addresses();
        let problems = config.problems();
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                problems,
            })
        }
    }

    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
            path: path.to_path_buf(),
            cause,
        })?;
        Self::from_toml(&text, path)
    }

    /// `--config FILE` when given; else `./config.toml` when present; else the defaults.
    pub fn load(explicit: Option<&Path>) -> Result<LoadedConfig, ConfigError> {
        if let Some(path) = explicit {
            return Ok(LoadedConfig {
                config: Self::from_file(path)?,
                path: Some(path.to_path_buf()),
            });
        }
        let default = PathBuf::from("config.toml");
        if default.exists() {
            return Ok(LoadedConfig {
                config: Self::from_file(&default)?,
                path: Some(default),
            });
        }
        Ok(LoadedConfig {
            config: Config::default(),
            path: None,
        })
    }

    /// Every mailbox's From address and its SMTP and IMAP logins that are addresses,
    /// lower-cased, without repeats.
    pub fn own_addresses(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for mb in self.mailboxes.values() {
            let from = crate::engine::send::message::address_of(&mb.from).unwrap_or_default();
            for a in [from, mb.smtp_login(), mb.imap_login()] {
                let a = a.trim().to_ascii_lowercase();
                if a.contains('@') && !out.contains(&a) {
                    out.push(a);
                }
            }
        }
        out
    }

    /// Checks serde cannot express: value ranges, exclusive keys, formats.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.search.url.is_empty() && !self.search.url.contains("{query}") {
            problems.push("[search] url must contain {query} (or be empty: no web search)".into());
        }
        if self.search.timeout_secs == 0 || self.search.max_page_bytes == 0 {
            problems.push("[search] timeout_secs and max_page_bytes must be at least 1".into());
        }
        let max_wait = crate::engine::verify::MAX_WAIT_SECS;
        if !(0.0..=max_wait).contains(&self.verify.rate_limit) {
            problems.push(format!(
                "[verify] rate_limit must be a number of seconds from 0 to {max_wait}"
            ));
        }
        if let Err(e) = crate::engine::notify::daily::Schedule::from_config(self) {
            problems.push(format!("[notify.telegram] {e}"));
        }
        if let Some(tg) = &self.notify.telegram
            && let Err(e) = check_telegram_url(&tg.api_url)
        {
            problems.push(format!("[notify.telegram] api_url {:?} {e}", tg.api_url));
        }
        if self.sending.max_attempts == 0 {
            problems
                .push("[sending] max_attempts must be at least 1 (the first try counts)".into());
        }
        if self.sending.auto_pause_window == 0 {
            problems.push("[sending] auto_pause_window must be at least 1".into());
        }
        let pct = self.sending.auto_pause_hard_bounce_percent;
        if !(pct.is_finite() && (0.0..=100.0).contains(&pct)) {
            problems
                .push("[sending] auto_pause_hard_bounce_percent must be between 0 and 100".into());
        }
        if self.verify.per_host == 0 {
            problems.push("[verify] per_host must be at least 1".into());
        }
        if self.verify.concurrency == 0 {
            problems.push("[verify] concurrency must be at least 1".into());
        }
        for label in &self.verify.allow_special_use {
            if label.is_empty() || label.contains('.') {
                problems.push(format!(
                    "[verify] allow_special_use: {label:?} must be a bare TLD label such as \"test\""
                ));
            }
        }
        for ns in &self.dns.nameservers {
            if parse_nameserver(ns).is_none() {
                problems.push(format!(
                    "[dns] nameservers: {ns:?} is not an IP address with an optional :port"
                ));
            }
        }
        for (name, mb) in &self.mailboxes {
            let at = format!("[mailboxes.{name}]");
            match (&mb.password_env, &mb.password_cmd) {
                (Some(_), Some(_)) => {
                    problems.push(format!("{at} set password_env or password_cmd, not both"))
                }
                (None, None) if mb.needs_password() => problems.push(format!(
                    "{at} needs password_env or password_cmd (passwords never go in the file)"
                )),
                _ => {}
            }
            // As the sender parses it: a From it would refuse must fail `config check`,
            // which scripts run before `hailer send`.
            if crate::engine::send::message::address_of(&mb.from).is_none() {
                problems.push(format!(
                    "{at} from = {:?} is not one address (\"Name <you@domain>\" or \"you@domain\")",
                    mb.from
                ));
            }
            if let Some(r) = &mb.reply_to
                && crate::engine::send::message::address_of(r).is_none()
            {
                problems.push(format!("{at} reply_to = {r:?} is not one address"));
            }
            for (key, port) in [("smtp_port", mb.smtp_port), ("imap_port", mb.imap_port)] {
                if port == Some(0) {
                    problems.push(format!("{at} {key} must be a port from 1 to 65535"));
                }
            }
            if mb.smtp_host.trim().is_empty() {
                problems.push(format!("{at} smtp_host is empty"));
            }
            // "plain" sends AUTH / LOGIN, password included, in clear text: only a server on
            // this machine (a test) may get that.
            for (key, host, security) in [
                ("smtp_security", Some(&mb.smtp_host), mb.smtp_security),
                ("imap_security", mb.imap_host.as_ref(), mb.imap_security),
            ] {
                if security == Security::Plain
                    && let Some(host) = host
                    && !is_loopback_host(host)
                {
                    problems.push(format!(
                        "{at} {key} = \"plain\" sends the password in clear text: it is only \
                         for a loopback host (127.0.0.1, ::1, localhost), not {host:?}; use \
                         \"starttls\" or \"tls\""
                    ));
                }
            }
            if mb.delay_min > mb.delay_max {
                problems.push(format!(
                    "{at} delay_min ({}) is greater than delay_max ({})",
                    mb.delay_min, mb.delay_max
                ));
            }
            if let Some(w) = &mb.window
                && let Err(e) = SendingWindow::parse(w)
            {
                problems.push(format!("{at} window: {e}"));
            }
            if let Err(e) = crate::engine::send::throttle::parse_tz(&mb.timezone) {
                problems.push(format!("{at} {e}"));
            }
            if mb.warmup_start.is_some() != mb.warmup_step.is_some() {
                problems.push(format!(
                    "{at} warmup_start and warmup_step go together (set both or neither)"
                ));
            }
            if mb.warmup_from.is_some() && mb.warmup_start.is_none() {
                // Alone it would mean no ramp at all: the user asked for a warm-up.
                problems.push(format!(
                    "{at} warmup_from needs warmup_start and warmup_step (the ramp it starts)"
                ));
            }
            if mb.warmup_start == Some(0) {
                // The ramp's first day would be 0, and with no warmup_from that first day is
                // the first day anything was sent: it would never come.
                problems.push(format!(
                    "{at} warmup_start must be at least 1 (the first day's cap)"
                ));
            }
            if mb.dkim_selector.is_some() != mb.dkim_key_file.is_some() {
                problems.push(format!(
                    "{at} dkim_selector and dkim_key_file go together (set both or neither)"
                ));
            }
            if let Some(start) = mb.warmup_start
                && mb.daily_cap > 0
                && start > mb.daily_cap
            {
                // The ramp is capped at daily_cap: it would send the full cap from the first
                // day, the opposite of the warm-up asked for.
                problems.push(format!(
                    "{at} warmup_start ({start}) is greater than daily_cap ({}): there would be \
                     no warm-up at all",
                    mb.daily_cap
                ));
            }
        }
        if self.inbox.poll_secs == 0 || self.inbox.batch == 0 || self.inbox.max_message_kb == 0 {
            problems.push("[inbox] poll_secs, batch and max_message_kb must be at least 1".into());
        }
        for (key, f) in [
            ("processed_folder", &self.inbox.processed_folder),
            ("skipped_folder", &self.inbox.skipped_folder),
            ("problem_folder", &self.inbox.problem_folder),
        ] {
            if let Some(f) = f
                && (f.trim().is_empty() || self.inbox.folders.contains(f))
            {
                problems.push(format!(
                    "[inbox] {key} {f:?} must be a folder name other than the watched folders"
                ));
            }
        }
        if let Some(url) = &self.tracking.base_url
            && let Err(why) = check_base_url(url)
        {
            problems.push(format!(
                "[tracking] base_url {:?} {why}",
                crate::net::redact::redact_url_credentials(url)
            ));
        }
        if let Some(l) = &self.tracking.listen
            && !listen_shape_ok(l)
        {
            problems.push(format!(
                "[tracking] listen {l:?} must be an address or host name with a port, such as \"127.0.0.1:8080\" or \"localhost:8080\""
            ));
        }
        if self.tracking.base_url.is_some() && self.tracking.secret_env.is_none() {
            problems.push(
                "[tracking] base_url needs secret_env (the variable holding the key that signs tracking links)"
                    .into(),
            );
        }
        problems
    }

    /// Settings that work but are likely not what the user wants; `config check` shows them.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        warnings.extend(self.api_token_warning());
        for (name, mb) in &self.mailboxes {
            if mb.daily_cap == 0 {
                // The sender takes 0 as "nothing today" (a mailbox kept but not used).
                warnings.push(format!(
                    "[mailboxes.{name}] daily_cap = 0: this mailbox never sends (to stop it \
                     for a while, `hailer mailbox pause {name}` says why in the TUI)"
                ));
            }
        }
        for (name, mb) in &self.mailboxes {
            let folders = mb.watch_folders.as_ref().unwrap_or(&self.inbox.folders);
            if mb.imap_host.is_some() && folders.iter().all(|f| f.trim().is_empty()) {
                // Valid (its IMAP still takes the Sent copies), but the watcher then reads
                // nothing there and says nothing: bounces and replies would go unseen.
                let key = if mb.watch_folders.is_some() {
                    format!("[mailboxes.{name}] watch_folders")
                } else {
                    "[inbox] folders".to_string()
                };
                warnings.push(format!(
                    "{key} names no folder: bounces, replies and complaints in mailbox {name} \
                     are never read (the default is [\"INBOX\"])"
                ));
            }
        }
        // Two mailboxes sending as one address: each keeps its own daily cap and warm-up,
        // so that address gets their sum, and its reputation takes both.
        let mut by_address: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for (name, mb) in &self.mailboxes {
            if let Some(a) = crate::engine::send::message::address_of(&mb.from) {
                by_address.entry(a.to_lowercase()).or_default().push(name);
            }
        }
        for (address, names) in by_address.iter().filter(|(_, n)| n.len() > 1) {
            warnings.push(format!(
                "[mailboxes.{}] all send as {address}: their daily caps add up for that address",
                names.join("], [mailboxes.")
            ));
        }
        if let Some(base) = &self.tracking.base_url
            && !crate::engine::tracking::links::is_https(base)
        {
            warnings.push(format!(
                "[tracking] base_url {base:?} is not https: messages get no one-click unsubscribe \
                 (RFC 8058 needs an https URL; List-Unsubscribe is the mailto alone)"
            ));
        }
        // The pixel and the rewritten links live in the HTML part: plain text has neither.
        if self.tracking.base_url.is_some() && !self.sending.html {
            warnings.push(format!(
                "[tracking] base_url is set but [sending] html = false: opens{} are not \
                 tracked (the pixel and tracked links go in the HTML part); unsubscribe links \
                 still work",
                if self.tracking.clicks {
                    " and clicks"
                } else {
                    ""
                }
            ));
        }
        warnings
    }

    /// `[api] token_env` names a variable that is unset or empty: `serve` then runs without
    /// the API. A choice a user may make on purpose (no exit 3 for it), but worth saying.
    pub fn api_token_warning(&self) -> Option<String> {
        let var = self.api.token_env.as_ref()?;
        (!std::env::var(var).is_ok_and(|t| !t.trim().is_empty())).then(|| {
            format!("[api] ${var} (API token) is not set: hailer serve runs without the API")
        })
    }

    /// What `send`, `serve` and the alerts would find wrong with the secrets at run time, as
    /// they check them: each mailbox's password (its password_cmd is run, the password
    /// dropped) and DKIM key (read and parsed: send refuses the mailbox without it; a file
    /// is not a config error, as the config is loaded by every command), the tracking key
    /// (set, at least `MIN_SECRET_LEN` characters), an API token that is set but shorter, the
    /// Telegram bot token and the `[tls] ca_file`. Never a value.
    /// `config check` shows these as warnings and exits 3. (An unset API token only turns the
    /// API off: a plain warning, see [`Config::api_token_warning`].)
    pub fn secret_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        // Not a secret, but every TLS connection of send, sync and serve reads it.
        if let Some(ca) = &self.tls.ca_file
            && let Err(e) = crate::net::tls::load_ca_file(ca)
        {
            out.push(format!("[tls] ca_file: {e}"));
        }
        for (name, mb) in &self.mailboxes {
            if mb.needs_password()
                && let Err(e) = mb.password()
            {
                out.push(format!("[mailboxes.{name}] {e}"));
            }
            if let Err(e) = crate::engine::send::message::check_dkim_key(mb) {
                out.push(format!("[mailboxes.{name}] {e}"));
            }
        }
        if self.tracking.secret_env.is_some()
            && let Err(e) = crate::engine::tracking::links::secret_from_env(self)
        {
            out.push(format!("[tracking] {e}"));
        }
        if self.notify.telegram.is_some()
            && let Err(e) = crate::engine::notify::telegram(self)
        {
            out.push(format!("[notify.telegram] {e}"));
        }
        // Unset only turns the API off; too short stops `serve`, so it is a problem here.
        if let Err(e) = crate::engine::tracking::links::api_token_from_env(self) {
            out.push(format!("[api] {e}"));
        }
        out
    }

    /// The effective config as TOML with every secret-bearing value redacted.
    /// Passwords are never in the file; a password command may embed one, so it is hidden,
    /// and so are the credentials of a URL.
    pub fn redacted_toml(&self) -> String {
        let mut shown = self.clone();
        for mb in shown.mailboxes.values_mut() {
            if mb.password_cmd.is_some() {
                mb.password_cmd = Some("<redacted>".into());
            }
        }
        // A URL (search, Telegram API) may carry a user name and password.
        let text =
            toml::to_string_pretty(&shown).unwrap_or_else(|e| format!("# cannot render: {e}\n"));
        crate::net::redact::redact_url_credentials(&text)
    }

    /// Human-readable state of each secret source: set or not, never the value.
    pub fn secret_status(&self) -> Vec<(String, String)> {
        let env_state = |var: &str| {
            if std::env::var_os(var).is_some() {
                format!("${var} is set")
            } else {
                format!("${var} is NOT set")
            }
        };
        let mut out = Vec::new();
        for (name, mb) in &self.mailboxes {
            let state = match (&mb.password_env, &mb.password_cmd) {
                (Some(var), _) => env_state(var),
                (None, Some(_)) => "from password_cmd".into(),
                _ if !mb.needs_password() => "not needed (smtp_username = \"\": no AUTH)".into(),
                _ => "missing".into(),
            };
            out.push((format!("mailboxes.{name} password"), state));
        }
        if let Some(var) = &self.tracking.secret_env {
            out.push(("tracking secret".into(), env_state(var)));
        }
        if let Some(var) = &self.api.token_env {
            out.push(("api token".into(), env_state(var)));
        }
        if let Some(tg) = &self.notify.telegram {
            out.push(("telegram bot token".into(), env_state(&tg.bot_token_env)));
        }
        out
    }
}

/// `[tracking] base_url`: tokens are appended to it (`{base}/u/{token}`), so it must be an
/// http(s) URL with a host and nothing after its path: a query or a fragment would swallow
/// the token (`https://t.test/?x=1/u/…`, a 404, and RFC 8058 one-click silently broken).
/// A path prefix is fine (a proxy serving hailer under `/hailer`); a trailing slash is
/// dropped when the links are made.
fn check_base_url(raw: &str) -> Result<(), String> {
    if raw.trim() != raw {
        return Err("has spaces around it".into());
    }
    let url = url::Url::parse(raw).map_err(|e| format!("is not a URL ({e})"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("must start with https:// (or http:// for local use)".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".into());
    }
    if url.query().is_some() {
        return Err(
            "must not have a query (?…): the tracking paths (/u/TOKEN, /o/…, /c/…) go after it"
                .into(),
        );
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment (#…): the tracking paths go after it".into());
    }
    Ok(())
}

/// `[notify.telegram] api_url`: the bot token goes in the request path, so it must travel
/// over https, except to this machine (a local relay or a test listener).
fn check_telegram_url(raw: &str) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|e| format!("is not a URL ({e})"))?;
    let host = url.host_str().unwrap_or_default();
    match url.scheme() {
        "https" if !host.is_empty() => Ok(()),
        "http" if is_loopback_host(host) => Ok(()),
        "http" => Err(
            "must start with https:// (the bot token is part of every request's path; \
             http:// only to this machine)"
                .into(),
        ),
        _ => Err("must be an https:// URL".into()),
    }
}

/// A host name that can only mean this machine: 127.0.0.0/8, ::1 (also in brackets) or
/// `localhost`. Other names are not resolved: what they point at can change.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim();
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
        || bare.trim_end_matches('.').eq_ignore_ascii_case("localhost")
}

/// `"127.0.0.1:5353"`, `"::1"`, `"[::1]:53"` or `"10.0.0.1"` (port 53).
pub fn parse_nameserver(s: &str) -> Option<std::net::SocketAddr> {
    if let Ok(addr) = s.parse::<std::net::SocketAddr>() {
        return Some(addr);
    }
    s.parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| std::net::SocketAddr::new(ip, 53))
}

/// The byte offset of the line `[mailboxes.NAME]` (the name bare or quoted).
fn mailbox_header_offset(text: &str, name: &str) -> Option<usize> {
    let forms = [
        format!("[mailboxes.{name}]"),
        format!("[mailboxes.\"{name}\"]"),
        format!("[mailboxes.'{name}']"),
    ];
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let bare: String = line.chars().filter(|c| !c.is_whitespace()).collect();
        if forms.iter().any(|f| bare.starts_with(f.as_str())) {
            return Some(offset + (line.len() - line.trim_start().len()));
        }
        offset += line.len();
    }
    None
}

/// Where the file is wrong and why, naming the key but not its value. toml's own message
/// quotes the whole line: a password pasted into the file (`smtp_password = "…"`, refused as
/// an unknown key) would be printed back on the terminal, in the TUI's Settings and the log.
fn parse_message(e: &toml::de::Error, text: &str) -> String {
    // toml adds the key path on a line of its own ("in `claire`"); the table's name, which
    // says more, is given below.
    let message = e.message().trim_end();
    let message = match message.rsplit_once('\n') {
        Some((first, last)) if last.starts_with("in `") => first.trim_end(),
        _ => message,
    };
    let message = plain_range(message);
    let message = message.as_str();
    let Some(mut at) = e.span().map(|s| s.start.min(text.len())) else {
        return message.to_string();
    };
    // A mailbox's own error ("[mailboxes.NAME] missing field …") is at its table's header.
    if let Some(name) = message
        .strip_prefix("[mailboxes.")
        .and_then(|r| r.split_once(']'))
        .map(|(name, _)| name)
        && let Some(header) = mailbox_header_offset(text, name)
    {
        at = header;
    }
    let at = (0..=at)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..at].matches('\n').count() + 1;
    let column = text[line_start..at].chars().count() + 1;
    let line_text = text[line_start..].lines().next().unwrap_or("");
    let key = line_text
        .split_once('=')
        .map(|(k, _)| k.trim())
        .filter(|k| !k.is_empty() && !k.starts_with('[') && !k.starts_with('#'));
    // A key missing from a table is reported at the table's header: name the table.
    let header = line_text.trim();
    let named;
    let message = if message.starts_with("missing field") && header.starts_with('[') {
        let header = header.split('#').next().unwrap_or(header).trim_end();
        named = format!("{header} {message}");
        named.as_str()
    } else {
        message
    };
    match key {
        Some(key) => {
            format!("TOML parse error at line {line}, column {column} ({key} = …): {message}")
        }
        None => format!("TOML parse error at line {line}, column {column}: {message}"),
    }
}

/// serde's "expected u16" says the range only to a programmer: spelled out for everyone.
fn plain_range(message: &str) -> String {
    [
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u16", "expected a whole number from 0 to 65535"),
        (
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        ),
        ("expected u64", "expected a whole number of 0 or more"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
    ]
    .iter()
    .fold(message.to_string(), |m, (from, to)| {
        // Whole words only: "expected u16" must not match inside "expected u160".
        match m.find(from) {
            Some(i) if !m[i + from.len()..].starts_with(|c: char| c.is_ascii_alphanumeric()) => {
                format!("{}{to}{}", &m[..i], &m[i + from.len()..])
            }
            _ => m,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_numbers_say_the_range_in_words() {
        let e = parse("[mailboxes.a]\nfrom = \"a@b.test\"\nsmtp_host = \"h\"\nsmtp_port = 70000\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("smtp_port = …") && e.contains("expected a whole number from 0 to 65535"),
            "{e}"
        );
        assert!(!e.contains("u16"), "{e}");
    }

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(text, Path::new("test.toml"))
    }

    #[test]
    fn empty_file_gives_safe_defaults() {
        let c = parse("").unwrap();
        assert!(c.sending.require_approval);
        assert!(!c.sending.html);
        assert_eq!(c.verify.port, 25);
        assert_eq!(c.verify.rate_limit, 2.0);
        assert!(c.search.url.contains("{query}"));
    }

    /// An empty search URL turns web search off; a URL without `{query}` is a mistake.
    #[test]
    fn search_url_is_empty_or_has_the_query() {
        assert!(parse("[search]\nurl = \"\"\n").is_ok());
        let e = parse("[search]\nurl = \"https://s.test/?q=\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("[search] url must contain {query}"), "{e}");
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let err = parse("[verify]\nport = 2526\n\n[sending]\nrequire_aproval = false\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("require_aproval"), "{err}");
        assert!(err.contains("line 5"), "{err}");
        assert!(err.contains("test.toml"), "{err}");
    }

    /// Passwords never go in the file; one typed there anyway is refused without being
    /// printed back, and so is one in a line the parser cannot read.
    #[test]
    fn a_parse_error_names_the_key_but_never_shows_the_value() {
        let base = "[mailboxes.a]\nfrom = \"a@sender.test\"\nsmtp_host = \"h\"\n";
        let err = parse(&format!("{base}smtp_password = \"hunter2-s3cret\"\n"))
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("line 4, column 1"), "{err}");
        assert!(err.contains("unknown field `smtp_password`"), "{err}");
        let err = parse(&format!("{base}password_env = \"hunter2-s3cret\n"))
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(
            err.contains("line 4") && err.contains("password_env"),
            "{err}"
        );
        // A wrong type is still named with its key and line.
        let err = parse("[sending]\n\nrequire_approval = \"yes\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 3") && err.contains("require_approval"),
            "{err}"
        );
    }

    #[test]
    fn unknown_section_is_rejected() {
        let err = parse("[sendng]\nhtml = true\n").unwrap_err().to_string();
        assert!(err.contains("sendng") && err.contains("line 1"), "{err}");
    }

    #[test]
    fn wrong_type_is_named_with_its_line() {
        let err = parse("[verify]\nport = \"twenty-five\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("port"), "{err}");
    }

    #[test]
    fn mailbox_needs_exactly_one_password_source() {
        let base = "[mailboxes.a]\nfrom = \"A <a@sender.test>\"\nsmtp_host = \"127.0.0.1\"\n";
        let none = parse(base).unwrap_err().to_string();
        assert!(none.contains("password_env or password_cmd"), "{none}");
        let both = parse(&format!(
            "{base}password_env = \"X\"\npassword_cmd = \"true\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(both.contains("not both"), "{both}");
        let one = parse(&format!("{base}password_env = \"X\"\n")).unwrap();
        assert_eq!(one.mailboxes["a"].smtp_port(), 587);
        assert_eq!(one.mailboxes["a"].daily_cap, 50);
    }

    #[test]
    fn a_warm_up_date_without_its_ramp_is_refused() {
        let base =
            "[mailboxes.a]\nfrom = \"a@sender.test\"\nsmtp_host = \"h\"\npassword_env = \"X\"\n";
        let err = parse(&format!("{base}warmup_from = 2026-12-01\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("warmup_from needs warmup_start"), "{err}");
        parse(&format!(
            "{base}warmup_from = 2026-12-01\nwarmup_start = 5\nwarmup_step = 5\n"
        ))
        .unwrap();
    }

    #[test]
    fn bad_window_and_nameserver_are_reported() {
        let text = "[dns]\nnameservers = [\"not-an-ip\"]\n[mailboxes.a]\nfrom = \"a@sender.test\"\nsmtp_host = \"h\"\npassword_env = \"X\"\nwindow = \"Mon-Fri 9-18\"\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains("not-an-ip"), "{err}");
        assert!(err.contains("window"), "{err}");
    }

    #[test]
    fn inbox_defaults_and_bad_move_folders() {
        let c = parse("").unwrap();
        assert_eq!(c.inbox.folders, vec!["INBOX".to_string()]);
        assert_eq!(c.inbox.processed_folder, None);
        let err = parse("[inbox]\nfolders = [\"INBOX\"]\nprocessed_folder = \"INBOX\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("processed_folder"), "{err}");
        let err = parse("[inbox]\nbatch = 0\n").unwrap_err().to_string();
        assert!(err.contains("batch"), "{err}");
        let err = parse("[inbox]\nfolder = [\"INBOX\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("folder"), "unknown key named: {err}");
    }

    #[test]
    fn unknown_timezone_is_reported() {
        let base =
            "[mailboxes.a]\nfrom = \"a@sender.test\"\nsmtp_host = \"h\"\npassword_env = \"X\"\n";
        let err = parse(&format!("{base}timezone = \"Europe/Pariss\"\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("Europe/Pariss"), "{err}");
        assert!(parse(&format!("{base}timezone = \"America/New_York\"\n")).is_ok());
    }

    #[test]
    fn a_password_cmd_that_never_answers_is_stopped() {
        // Stopped, not waited for: the sleep would end with an empty password instead.
        let e = run_password_cmd("exec sleep 30", std::time::Duration::from_secs(1)).unwrap_err();
        assert!(e.contains("no answer within 1 s"), "{e}");
        // Something left running with the output open does not hold the answer back past
        // the limit either.
        let e =
            run_password_cmd("sleep 30 & echo pw", std::time::Duration::from_secs(1)).unwrap_err();
        assert!(e.contains("kept its output open"), "{e}");
        let out =
            run_password_cmd("echo pw; echo note >&2", std::time::Duration::from_secs(20)).unwrap();
        assert_eq!(out.stdout, b"pw\n");
        assert_eq!(out.stderr, b"note\n");
    }

    #[test]
    fn password_cmd_is_redacted() {
        let c = parse("[mailboxes.a]\nfrom = \"a@sender.test\"\nsmtp_host = \"h\"\npassword_cmd = \"echo hunter2\"\n")
            .unwrap();
        let shown = c.redacted_toml();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn example_config_is_valid_and_documents_every_section() {
        let text = include_str!("../config.toml.example");
        let c = Config::from_toml(text, Path::new("config.toml.example")).unwrap();
        assert!(!c.mailboxes.is_empty());
        for section in [
            "[storage]",
            "[tls]",
            "[dns]",
            "[search]",
            "[verify]",
            "[sending]",
            "[mailboxes.",
            "[tracking]",
            "[inbox]",
            "[api]",
            "[notify.telegram]",
        ] {
            assert!(text.contains(section), "missing {section}");
        }
        // Every key the defaults carry (and every key of the example's mailbox) is written
        // out, set or commented, in the example.
        let mut tables = vec![toml::Value::try_from(Config::default()).unwrap()];
        tables.push(toml::Value::try_from(c.mailboxes.values().next().unwrap()).unwrap());
        let mut missing = Vec::new();
        while let Some(v) = tables.pop() {
            let Some(t) = v.as_table() else { continue };
            for (k, v) in t {
                if v.is_table() {
                    tables.push(v.clone());
                } else if !text.lines().any(|l| {
                    let l = l.trim_start_matches(['#', ' ']);
                    l.starts_with(&format!("{k} =")) || l.starts_with(&format!("{k}="))
                }) {
                    missing.push(k.clone());
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys not documented in config.toml.example: {missing:?}"
        );
    }

    fn mailbox_with_cmd(cmd: &str) -> MailboxConfig {
        toml::from_str(&format!(
            "from = \"a@sender.test\"\nsmtp_host = \"127.0.0.1\"\npassword_cmd = {cmd:?}\n"
        ))
        .unwrap()
    }

    /// A failing password_cmd says why in its own words (its stderr), never what it printed
    /// on stdout; one that prints nothing is an error, not an empty password.
    #[test]
    fn password_cmd_failures_quote_stderr_but_not_the_secret() {
        let e = mailbox_with_cmd(
            "echo hunter2; echo 'gpg: decryption failed: No secret key' >&2; exit 2",
        )
        .password()
        .unwrap_err();
        assert!(e.contains("exit status: 2"), "{e}");
        assert!(e.contains("gpg: decryption failed: No secret key"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        // Its stdout is kept out of the quoted stderr too.
        let e = mailbox_with_cmd("echo hunter2; echo \"bad: hunter2\" >&2; exit 1")
            .password()
            .unwrap_err();
        assert!(!e.contains("hunter2") && e.contains("bad:"), "{e}");
        // Long diagnostics are cut to their first lines.
        let e = mailbox_with_cmd("for i in 1 2 3 4 5 6; do echo line$i >&2; done; exit 1")
            .password()
            .unwrap_err();
        assert!(e.contains("line3") && !e.contains("line4"), "{e}");
        for silent in ["true", "echo", "printf ''"] {
            let e = mailbox_with_cmd(silent).password().unwrap_err();
            assert!(e.contains("password_cmd printed nothing"), "{silent}: {e}");
        }
        assert_eq!(mailbox_with_cmd("printf 'pw\\n'").password().unwrap(), "pw");
    }

    /// An unset or empty env var, a failing command, a short tracking key and an unreadable
    /// DKIM key are what send and serve refuse: `secret_problems` names each.
    #[test]
    fn secret_problems_name_the_mailbox_and_the_source() {
        let text = "[tracking]\nbase_url = \"https://t.sender.test\"\n\
                    secret_env = \"HAILER_TEST_SURELY_UNSET_TRACKING\"\n\
                    [api]\ntoken_env = \"HAILER_TEST_SURELY_UNSET_API\"\n\
                    [mailboxes.a]\nfrom = \"a@sender.test\"\nsmtp_host = \"h\"\n\
                    password_env = \"HAILER_TEST_SURELY_UNSET_PW\"\n\
                    [mailboxes.b]\nfrom = \"b@sender.test\"\nsmtp_host = \"h\"\n\
                    password_cmd = \"exit 4\"\ndkim_selector = \"s\"\n\
                    dkim_key_file = \"/nonexistent/dkim.pem\"\n";
        let c = parse(text).unwrap();
        let problems = c.secret_problems();
        let has = |a: &str, b: &str| problems.iter().any(|p| p.contains(a) && p.contains(b));
        assert!(
            has("[mailboxes.a]", "HAILER_TEST_SURELY_UNSET_PW"),
            "{problems:?}"
        );
        assert!(has("[mailboxes.b]", "password_cmd exited"), "{problems:?}");
        assert!(
            has("[mailboxes.b]", "dkim_key_file \"/nonexistent/dkim.pem\""),
            "{problems:?}"
        );
        assert!(
            has("[tracking]", "HAILER_TEST_SURELY_UNSET_TRACKING"),
            "{problems:?}"
        );
        assert_eq!(problems.len(), 4, "{problems:?}");
        // An unset API token only turns the API off: a warning, not a secret problem.
        assert!(
            c.warnings()
                .iter()
                .any(|w| w.contains("[api]") && w.contains("HAILER_TEST_SURELY_UNSET_API")),
            "{:?}",
            c.warnings()
        );
    }

    /// Errors inside a mailbox name it, at its header's line; a key straight under
    /// [mailboxes] says mailboxes are tables, without quoting the value.
    #[test]
    fn mailbox_shape_errors_name_the_mailbox() {
        let err = parse("[mailboxes.claire]\nsmtp_host = \"h\"\npassword_env = \"X\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[mailboxes.claire] missing field `from`"),
            "{err}"
        );
        assert!(err.contains("line 1, column 1"), "{err}");
        let two = "[verify]\nport = 25\n\n[mailboxes.a]\nfrom = \"a@sender.test\"\n\
                   smtp_host = \"h\"\npassword_env = \"X\"\n\n[mailboxes.b]\n\
                   smtp_host = \"h\"\npassword_env = \"X\"\n";
        let err = parse(two).unwrap_err().to_string();
        assert!(err.contains("[mailboxes.b] missing field `from`"), "{err}");
        assert!(err.contains("line 9, column 1"), "{err}");
        let err = parse("[mailboxes]\nfrom = \"x@y.test\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("[mailboxes.NAME]"), "{err}");
        assert!(err.contains("from = …"), "{err}");
        assert!(!err.contains("x@y.test"), "{err}");
        // Other errors in a mailbox keep their own line and key.
        let err = parse("[mailboxes.a]\nfrom = \"a@sender.test\"\nsmtp_host = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3") && err.contains("smtp_host"), "{err}");
    }

    /// Where to listen: the shapes a user writes, and a port out of range named as such.
    #[test]
    fn listen_addresses_and_ports_out_of_range() {
        assert_eq!(
            resolve_listen("8080").unwrap().to_string(),
            "127.0.0.1:8080"
        );
        assert_eq!(resolve_listen("[::1]:9").unwrap().to_string(), "[::1]:9");
        for bad in ["99999", "localhost:70000"] {
            let e = resolve_listen(bad).unwrap_err();
            assert!(e.contains("out of range (1 to 65535)"), "{bad}: {e}");
        }
        let e = resolve_listen("local host").unwrap_err();
        assert!(
            e.contains("must be an address or host name with a port"),
            "{e}"
        );
    }

    /// The bot token is in the path of every Telegram request: https, or http to loopback.
    #[test]
    fn telegram_api_url_is_https_unless_local() {
        let tg = "[notify.telegram]\nbot_token_env = \"T\"\nchat_id = \"1\"\n";
        for ok in [
            "https://api.telegram.org",
            "http://127.0.0.1:8099",
            "http://[::1]:1",
        ] {
            parse(&format!("{tg}api_url = \"{ok}\"\n")).unwrap();
        }
        for bad in ["http://api.telegram.test", "ftp://127.0.0.1/", "telegram"] {
            let e = parse(&format!("{tg}api_url = \"{bad}\"\n"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("[notify.telegram] api_url"), "{bad}: {e}");
        }
    }

    /// Tracking with plain text only: the unsubscribe links work, opens and clicks cannot
    /// be seen, which the user is told.
    #[test]
    fn tracking_without_html_is_warned() {
        let base = "[tracking]\nbase_url = \"https://t.test\"\nsecret_env = \"S\"\nclicks = true\n";
        let w = parse(base).unwrap().warnings();
        assert!(
            w.iter()
                .any(|w| w.contains("opens and clicks are not tracked")),
            "{w:?}"
        );
        let w = parse(&format!("{base}[sending]\nhtml = true\n"))
            .unwrap()
            .warnings();
        assert!(!w.iter().any(|w| w.contains("not tracked")), "{w:?}");
    }

    /// The inbox knows every mailbox's own addresses (From and logins), so their mail is
    /// never taken for a prospect's reply; they are not a key of the file.
    #[test]
    fn the_inbox_knows_every_mailbox_address() {
        let c = parse(
            "[mailboxes.a]\nfrom = \"Sam <Sender@sender.test>\"\nsmtp_host = \"h\"\n\
             password_env = \"X\"\n\n[mailboxes.b]\nfrom = \"claire@sender.test\"\n\
             smtp_host = \"h\"\nsmtp_username = \"claire.login@sender.test\"\npassword_env = \"X\"\n",
        )
        .unwrap();
        let mut own = c.inbox.own_addresses.clone();
        own.sort();
        assert_eq!(
            own,
            [
                "claire.login@sender.test",
                "claire@sender.test",
                "sender@sender.test"
            ]
        );
        assert!(parse("[inbox]\nown_addresses = [\"x@y.test\"]\n").is_err());
    }

    #[test]
    fn summary_timezone_is_named_as_such() {
        let tg = "[notify.telegram]\nbot_token_env = \"T\"\nchat_id = \"1\"\n";
        for extra in ["", "daily_summary_at = \"18:00\"\n"] {
            let err = parse(&format!("{tg}{extra}summary_timezone = \"Paris\"\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains("summary_timezone \"Paris\""), "{err}");
        }
    }

    /// A warm-up starting above the cap is no warm-up: refused. A cap of 0 is a mailbox
    /// kept but not used (the sender sends nothing through it): a warning.
    #[test]
    fn warm_up_above_the_cap_is_refused_and_a_zero_cap_warned() {
        let base =
            "[mailboxes.a]\nfrom = \"a@sender.test\"\nsmtp_host = \"h\"\npassword_env = \"X\"\n";
        let err = parse(&format!(
            "{base}daily_cap = 20\nwarmup_start = 30\nwarmup_step = 5\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("[mailboxes.a] warmup_start (30) is greater than daily_cap (20)"),
            "{err}"
        );
        parse(&format!(
            "{base}daily_cap = 20\nwarmup_start = 20\nwarmup_step = 5\n"
        ))
        .unwrap();
        let c = parse(&format!("{base}daily_cap = 0\n")).unwrap();
        let w = c.warnings();
        assert!(
            w.iter().any(|w| w.contains("[mailboxes.a] daily_cap = 0")),
            "{w:?}"
        );
        assert!(parse(base).unwrap().warnings().is_empty());
    }

    /// base_url is where tokens are appended: a URL with a host, no query, no fragment.
    #[test]
    fn tracking_base_url_is_checked_as_a_url() {
        let with = |base: &str| {
            parse(&format!(
                "[tracking]\nbase_url = \"{base}\"\nsecret_env = \"X\"\n"
            ))
        };
        for ok in [
            "https://t.sender.test",
            "https://t.sender.test/",
            "https://t.sender.test/hailer/",
            "http://127.0.0.1:8080",
        ] {
            with(ok).unwrap();
        }
        for (bad, why) in [
            ("https://t.sender.test/?x=1", "query"),
            ("https://t.sender.test/#top", "fragment"),
            ("https://", "URL"),
            (" https://t.sender.test", "spaces"),
            ("ftp://t.sender.test", "https://"),
            ("t.sender.test", "URL"),
            ("https://user:pw@t.sender.test", "password"),
        ] {
            let err = with(bad).unwrap_err().to_string();
            assert!(
                err.contains("[tracking] base_url") && err.contains(why),
                "{bad}: {err}"
            );
        }
    }

    /// "plain" sends the password in clear text: refused for any host but this machine.
    #[test]
    fn plain_security_is_only_for_loopback_hosts() {
        let mailbox = |smtp: &str, imap: &str, sec: &str| {
            format!(
                "[mailboxes.m]\nfrom = \"a@sender.test\"\nsmtp_host = \"{smtp}\"\n\
                 smtp_security = \"{sec}\"\nimap_host = \"{imap}\"\nimap_security = \"{sec}\"\n\
                 password_env = \"X\"\n"
            )
        };
        for host in [
            "127.0.0.1",
            "127.3.4.5",
            "::1",
            "[::1]",
            "localhost",
            "LocalHost",
        ] {
            parse(&mailbox(host, host, "plain")).unwrap();
        }
        let err = parse(&mailbox("smtp.example.com", "127.0.0.1", "plain"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[mailboxes.m] smtp_security = \"plain\"")
                && err.contains("smtp.example.com"),
            "{err}"
        );
        assert!(!err.contains("imap_security"), "{err}");
        let err = parse(&mailbox("127.0.0.1", "10.0.0.1", "plain"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("[mailboxes.m] imap_security"), "{err}");
        for host in ["localhost.example.com", "128.0.0.1", "::2", "0.0.0.0"] {
            assert!(
                parse(&mailbox(host, "localhost", "plain")).is_err(),
                "{host}"
            );
        }
        parse(&mailbox("smtp.example.com", "imap.example.com", "tls")).unwrap();
    }

    #[test]
    fn nameserver_forms() {
        assert_eq!(
            parse_nameserver("127.0.0.1:5353").unwrap().to_string(),
            "127.0.0.1:5353"
        );
        assert_eq!(parse_nameserver("::1").unwrap().port(), 53);
        assert!(parse_nameserver("dns.example").is_none());
    }
}
