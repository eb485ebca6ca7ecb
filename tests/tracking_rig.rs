//! Tracking end to end with the mail rig (`HAILER_RIG=DIR`): `hailer send` delivers a tracked
//! message through real Postfix, the test reads it back from the recipient's Dovecot mailbox,
//! takes the pixel, click and unsubscribe URLs out of it and hits a running `hailer serve` with
//! them. And `POST /api/validate` against the rig's real DNS and MX.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::rig::Rig;
use hailer::config::{Config, Security};
use hailer::engine::import::{self, ImportKind, ImportRequest};
use hailer::engine::outbox::build::build;
use hailer::engine::tracking::server::{ServeConfig, serve};
use hailer::engine::verify::VerifyOptions;
use hailer::net::imap::{ImapEndpoint, login};
use hailer::store::outbox::{self, Status};
use hailer::store::{Store, suppressions};
use tokio_util::sync::CancellationToken;

const SECRET_VAR: &str = "HAILER_TRACK_RIG_SECRET";
const SECRET: &str = "rig-tracking-secret-0123456789";

fn unique(tag: &str) -> String {
    format!(
        "{tag}{}x{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            % 100_000_000
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Reply {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

/// One HTTP/1.1 request per connection; `url` is absolute (http://127.0.0.1:PORT/...).
fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = TcpStream::connect(host).unwrap_or_else(|e| panic!("connect {host}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    Reply {
        status: head.split_whitespace().nth(1).unwrap().parse().unwrap(),
        headers: head.to_lowercase(),
        body: raw[split + 4..].to_vec(),
    }
}

/// A chunked body, de-chunked.
fn dechunk(body: &[u8]) -> String {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap().trim(), 16)
            .expect("chunk size");
        if size == 0 {
            break;
        }
        out.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
        rest = &rest[eol + 2 + size + 2..];
    }
    String::from_utf8(out).unwrap()
}

/// A one-shot stand-in for the Telegram Bot API: answers the first request 200 and hands
/// back the request's text (start line, headers and JSON body).
fn fake_telegram() -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else {
            return;
        };
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = s.read(&mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&raw).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let len: usize = text
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap_or(0))
                    })
                    .unwrap_or(0);
                if raw.len() >= end + 4 + len {
                    break;
                }
            }
        }
        let body = "{\"ok\":true,\"result\":{}}";
        let _ = write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = tx.send(String::from_utf8_lossy(&raw).into_owned());
    });
    (url, rx)
}

/// The rig's config with sending, tracking and API settings for these tests.
fn rig_config(rig: &Rig, port: u16) -> String {
    let base = std::fs::read_to_string(rig.config_file()).unwrap();
    let mut out = String::new();
    for line in base.lines() {
        if line.starts_with("require_approval") || line.starts_with("html =") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if line.trim() == "[sending]" {
            out.push_str("require_approval = false\nhtml = true\n");
        }
    }
    out.push_str(&format!(
        "\n[tracking]\nbase_url = \"http://127.0.0.1:{port}\"\nsecret_env = \"{SECRET_VAR}\"\nclicks = true\n"
    ));
    out
}

/// Raw messages in the INBOX of `user` whose subject contains `tag`, waiting up to 30 s.
fn wait_tagged(rig: &Rig, user: &str, tag: &str) -> Vec<Vec<u8>> {
    let start = Instant::now();
    loop {
        let mut s = login(&ImapEndpoint {
            host: rig.host().to_string(),
            port: rig.port("RIG_IMAPS_PORT"),
            security: Security::Tls,
            ca_file: Some(rig.ca_file()),
            username: user.to_string(),
            password: rig.password().to_string(),
            timeout: Duration::from_secs(10),
        })
        .unwrap_or_else(|e| panic!("IMAP login {user}: {e}"));
        s.select("INBOX").unwrap();
        let uids = s.uid_search(format!("SUBJECT \"{tag}\"")).unwrap();
        if !uids.is_empty() {
            let set: Vec<String> = uids.iter().map(u32::to_string).collect();
            let fetched = s.uid_fetch(set.join(","), "BODY.PEEK[]").unwrap();
            let out: Vec<Vec<u8>> = fetched
                .iter()
                .filter_map(|f| f.body().map(<[u8]>::to_vec))
                .collect();
            let _ = s.logout();
            return out;
        }
        let _ = s.logout();
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no message tagged {tag} reached {user}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Every `attr="…"` value in `html` that starts with `prefix`, entities decoded.
fn attrs(html: &str, attr: &str, prefix: &str) -> Vec<String> {
    html.split(&format!("{attr}=\""))
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|v| v.starts_with(prefix))
        .map(|v| v.replace("&amp;", "&"))
        .collect()
}

/// `hailer serve` as a child process; stopped with SIGTERM (a clean shutdown flushes events).
struct Served(Child);

impl Served {
    fn start(config: &Path, data: &Path, port: u16) -> Served {
        let child = Command::new(env!("CARGO_BIN_EXE_hailer"))
            .arg("--config")
            .arg(config)
            .arg("--data-dir")
            .arg(data)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env(SECRET_VAR, SECRET)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "hailer serve did not start listening on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Served(child)
    }

    fn stop(mut self) {
        common::signal(self.0.id(), "TERM");
        let status = self.0.wait().unwrap();
        assert!(status.success(), "hailer serve exited with {status}");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn delivered_message_links_work_against_hailer_serve() {
    let Some(rig) = Rig::get() else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let data = root.join("data");
    let tag = unique("trk");
    let recipient = format!("{tag}@catchall.test");
    let target = "https://hailer.test/offre?a=1&b=2";

    // One prospect, one message with a link, the outbox built.
    {
        let mut store = Store::open_in(&data).unwrap();
        for (kind, name, text) in [
            (
                ImportKind::Prospects,
                "p.csv",
                format!("firstname,lastname,company,email\nJane,Test,Acme SA,{recipient}\n"),
            ),
            (
                ImportKind::Messages,
                "m.csv",
                format!(
                    "company,subject,body\nAcme SA,{tag} hello,\"Bonjour,\n\nVoir [notre offre]({target}).\"\n"
                ),
            ),
        ] {
            let file = root.join(name);
            std::fs::write(&file, text).unwrap();
            let req = ImportRequest {
                kind,
                file,
                sheet: None,
                overrides: vec![],
                sample: false,
            };
            import::run(&mut store, &req, &mut |_| true).unwrap();
        }
        build(&mut store).unwrap();
    }
    let port = free_port();
    let config = root.join("config.toml");
    let (telegram_url, telegram) = fake_telegram();
    let text = rig_config(&rig, port)
        + &format!(
            "\n[notify.telegram]\nbot_token_env = \"HAILER_TRACK_RIG_TG\"\nchat_id = \"77\"\napi_url = \"{telegram_url}\"\n"
        );
    std::fs::write(&config, text).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_hailer"))
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .arg("send")
        .env(SECRET_VAR, SECRET)
        .env("HAILER_TRACK_RIG_TG", "999:tg-token")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 SENT"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = outbox::list(Store::open_in(&data).unwrap().conn(), None).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, Status::Sent);
    let row_id = rows[0].id;
    // The end of the run went to Telegram (the CLI waits for it before exiting).
    let alert = telegram
        .recv_timeout(Duration::from_secs(10))
        .expect("a Telegram request for the finished run");
    assert!(
        alert.starts_with("POST /bot999:tg-token/sendMessage "),
        "{alert}"
    );
    assert!(
        alert.contains("send run finished") && alert.contains("1 SENT"),
        "{alert}"
    );
    assert!(alert.contains("\"chat_id\":\"77\""), "{alert}");

    // The message as the recipient got it.
    let delivered = wait_tagged(&rig, "catchall@catchall.test", &tag);
    assert_eq!(delivered.len(), 1);
    let parsed = mailparse::parse_mail(&delivered[0]).unwrap();
    use mailparse::MailHeaderMap;
    let base = format!("http://127.0.0.1:{port}");
    // The server here is http: RFC 8058 one-click needs https, so the header is the mailto
    // alone, with no one-click promise (the https case is in send::message's tests).
    let list_unsub = parsed.headers.get_first_value("List-Unsubscribe").unwrap();
    assert!(!list_unsub.contains(&base), "{list_unsub}");
    assert_eq!(
        parsed.headers.get_first_value("List-Unsubscribe-Post"),
        None
    );
    assert_eq!(parsed.subparts.len(), 2);
    let text = parsed.subparts[0].get_body().unwrap();
    let html = parsed.subparts[1].get_body().unwrap();
    assert!(!text.contains("/o/"), "no pixel in the text part: {text}");
    assert!(text.contains(&format!("Unsubscribe: {base}/u/")), "{text}");
    let pixel = attrs(&html, "src", &format!("{base}/o/"));
    let clicks = attrs(&html, "href", &format!("{base}/c/"));
    let footer = attrs(&html, "href", &format!("{base}/u/"));
    assert_eq!(
        (pixel.len(), clicks.len(), footer.len()),
        (1, 1, 1),
        "{html}"
    );
    assert!(!html.contains("href=\"https://hailer.test"), "{html}");

    // Read an hour after it was sent: an open or a click right after the send is the
    // receiving side's scanner (tracking_http covers that), not this reader.
    Store::open_in(&data)
        .unwrap()
        .conn()
        .execute(
            "UPDATE outbox SET sent_at = sent_at - 3600 WHERE id = ?1",
            [row_id],
        )
        .unwrap();
    // Nothing recorded yet; now the server.
    let served = Served::start(&config, &data, port);
    let browser = (
        "User-Agent",
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    );
    let r = http("GET", &pixel[0], &[browser], "");
    assert_eq!(r.status, 200);
    assert!(
        r.headers.contains("content-type: image/gif"),
        "{}",
        r.headers
    );
    assert!(r.body.starts_with(b"GIF89a"));
    let r = http("GET", &clicks[0], &[browser], "");
    assert_eq!(r.status, 302);
    assert!(
        r.headers.contains(&format!("location: {target}")),
        "{}",
        r.headers
    );
    let r = http("GET", &footer[0], &[browser], "");
    assert_eq!(r.status, 200);
    assert!(String::from_utf8_lossy(&r.body).contains("Unsubscribe"));
    // RFC 8058 one-click, as a mail client does it (with the footer's URL: the same one).
    let one_click = [
        browser,
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let r = http("POST", &footer[0], &one_click, "List-Unsubscribe=One-Click");
    assert_eq!(r.status, 200);
    served.stop();

    let store = Store::open_in(&data).unwrap();
    let events: Vec<(i64, String, Option<String>, bool)> = store
        .conn()
        .prepare("SELECT outbox_id, kind, url, machine FROM tracking_events ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        events,
        [
            (row_id, "OPEN".into(), None, false),
            (row_id, "CLICK".into(), Some(target.to_string()), false),
            (row_id, "UNSUBSCRIBE".into(), None, false),
        ]
    );
    assert!(
        suppressions::blocking(store.conn(), &recipient)
            .unwrap()
            .is_some(),
        "{recipient} suppressed after the one-click unsubscribe"
    );
}

#[tokio::test]
async fn api_validate_streams_rig_verdicts_as_ndjson() {
    let Some(rig) = Rig::get() else { return };
    let config = Config::from_file(&rig.config()).unwrap();
    let mut verify = VerifyOptions::from_config(&config);
    verify.retries = 0;
    verify.connect_timeout = Duration::from_secs(2);
    verify.command_timeout = Duration::from_secs(5);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // John replied once: on the suppression list, so he is not probed (the answer says why),
    // and Sales, also suppressed, answers with the verdict stored a year ago, however old.
    {
        let store = Store::open_in(&data).unwrap();
        hailer::store::suppressions::add(store.conn(), "john.smith@acme.test", "replied", None, 7)
            .unwrap();
        hailer::store::suppressions::add(store.conn(), "sales@acme.test", "bounced", None, 9)
            .unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO verifications (email, status, detail, checked_at)
                 VALUES ('sales@acme.test', 'MAILBOX_NOT_FOUND', '550 5.1.1 old answer', 1)",
                [],
            )
            .unwrap();
    }
    let stop = CancellationToken::new();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(serve(
        ServeConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: data.clone(),
            secret: Some(SECRET.as_bytes().to_vec()),
            mailboxes: Vec::new(),
            api_token: Some("api-token-for-tests".into()),
            verify,
            base_path: None,
        },
        stop.clone(),
        Some(tx),
    ));
    let addr: SocketAddr = rx.await.unwrap();
    let url = format!("http://{addr}/api/validate");
    let emails = [
        "jane.doe@acme.test",
        "nobody@acme.test",
        "not an address",
        "someone@nullmx.test",
        "john.smith@acme.test",
        "sales@acme.test",
    ];
    let body = serde_json::json!({ "emails": emails }).to_string();

    let (u, b) = (url.clone(), body.clone());
    let denied = tokio::task::spawn_blocking(move || {
        [
            http("POST", &u, &[], &b),
            http("POST", &u, &[("Authorization", "Bearer wrong")], &b),
        ]
    })
    .await
    .unwrap();
    for r in &denied {
        assert_eq!(r.status, 401);
        assert!(!String::from_utf8_lossy(&r.body).contains("acme"));
    }

    let (u, b) = (url.clone(), body.clone());
    let r = tokio::task::spawn_blocking(move || {
        http(
            "POST",
            &u,
            &[
                ("Authorization", "Bearer api-token-for-tests"),
                ("Content-Type", "application/json"),
            ],
            &b,
        )
    })
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    assert!(
        r.headers.contains("content-type: application/x-ndjson"),
        "{}",
        r.headers
    );
    // Streamed: no Content-Length, chunks as results come.
    assert!(
        r.headers.contains("transfer-encoding: chunked"),
        "{}",
        r.headers
    );
    let text = dechunk(&r.body);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let got: Vec<(&str, &str)> = lines
        .iter()
        .map(|v| (v["email"].as_str().unwrap(), v["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("jane.doe@acme.test", "VALID"),
            ("nobody@acme.test", "MAILBOX_NOT_FOUND"),
            ("not an address", "INVALID_SYNTAX"),
            ("someone@nullmx.test", "NO_MX"),
            ("john.smith@acme.test", "UNKNOWN"),
            ("sales@acme.test", "MAILBOX_NOT_FOUND"),
        ]
    );
    assert_eq!(lines[1]["code"], 550);
    assert_eq!(lines[1]["enhanced"], "5.1.1");
    assert_eq!(lines[0]["suppressed"], serde_json::Value::Null);
    assert_eq!(
        lines[4]["suppressed"],
        serde_json::json!({"entry": "john.smith@acme.test", "cause": "replied", "since": 7})
    );
    assert_eq!(
        lines[4]["detail"],
        "not probed: john.smith@acme.test is on the suppression list (replied)"
    );
    assert_eq!(lines[4]["cached"], false);
    assert_eq!(lines[5]["detail"], "550 5.1.1 old answer");
    assert_eq!(lines[5]["cached"], true);
    assert_eq!(lines[5]["suppressed"]["cause"], "bounced");

    // Bad JSON is the caller's error, named.
    let u = url.clone();
    let bad = tokio::task::spawn_blocking(move || {
        http(
            "POST",
            &u,
            &[("Authorization", "Bearer api-token-for-tests")],
            "{\"mails\": []}",
        )
    })
    .await
    .unwrap();
    assert_eq!(bad.status, 400);
    assert!(String::from_utf8_lossy(&bad.body).contains("emails"));

    stop.cancel();
    task.await.unwrap().unwrap();
    // The verdicts are stored like `hailer verify`'s.
    let store = Store::open_in(&data).unwrap();
    let status: String = store
        .conn()
        .query_row(
            "SELECT status FROM verifications WHERE email = 'jane.doe@acme.test'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(status, "VALID");
    // Nothing was asked of the server about John, so nothing about him is stored.
    let john: i64 = store
        .conn()
        .query_row(
            "SELECT count(*) FROM verifications WHERE email = 'john.smith@acme.test'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(john, 0);
}
