//! The tracking server over real HTTP on loopback, with a real SQLite database.

mod common;
#[path = "common/fake_dns.rs"]
mod fake_dns;
#[path = "common/fake_smtp.rs"]
mod fake_smtp;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use hailer::engine::tracking::server::{PIXEL, ServeConfig, serve};
use hailer::engine::tracking::token::{Claims, Signer, TokenKind};
use hailer::store::Store;
use tokio_util::sync::CancellationToken;

const SECRET: &[u8] = b"test secret that is long enough";

struct Reply {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

/// A deliberately small HTTP/1.1 client: one request per connection.
fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: t.test\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    Reply {
        status,
        headers: head.to_lowercase(),
        body: raw[split + 4..].to_vec(),
    }
}

struct Server {
    addr: SocketAddr,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    dir: tempfile::TempDir,
}

async fn start(api_token: Option<&str>) -> Server {
    start_under(api_token, None).await
}

/// [`start`], serving under `base_path` too (a `base_url` with a path).
async fn start_under(api_token: Option<&str>, base_path: Option<&str>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let store = Store::open_in(&data).unwrap();
        store
            .conn()
            .execute_batch(
                "INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'Acme', 0);
                 INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
                 VALUES (1, 'Jane', 'Doe', 'Acme', 'acme', 'jane|doe', 0);
                 INSERT INTO outbox (id, prospect_id, email, company_key, status, mailbox, sent_at, created_at, updated_at)
                 VALUES (5, 1, 'jane.doe@acme.test', 'acme', 'SENT', 'claire', 1, 0, 0);",
            )
            .unwrap();
    }
    let stop = CancellationToken::new();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let cfg = ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data,
        secret: Some(SECRET.to_vec()),
        mailboxes: Vec::new(),
        api_token: api_token.map(str::to_string),
        verify: hailer::engine::verify::VerifyOptions::default(),
        base_path: base_path.map(str::to_string),
    };
    let task = tokio::spawn(serve(cfg, stop.clone(), Some(tx)));
    let addr = rx.await.unwrap();
    Server {
        addr,
        stop,
        task,
        dir,
    }
}

impl Server {
    async fn stop(self) -> Store {
        self.stop.cancel();
        self.task.await.unwrap().unwrap();
        Store::open_in(&self.dir.path().join("data")).unwrap()
    }
}

fn token(kind: TokenKind, id: i64, url: Option<&str>) -> String {
    Signer::new(SECRET).issue(&Claims {
        kind,
        outbox_id: id,
        url: url.map(str::to_string),
        recipient: None,
    })
}

/// `t` with its last character changed. Always changed: a fixed replacement letter equals the
/// random token's own last character about once in 64 runs, which made the token valid.
fn altered(t: &str) -> String {
    let (head, last) = t.split_at(t.len() - 1);
    format!("{head}{}", if last == "x" { 'y' } else { 'x' })
}

fn count(store: &Store, sql: &str) -> i64 {
    store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test]
async fn pixel_records_one_open_per_request_and_flags_proxies() {
    let srv = start(None).await;
    let addr = srv.addr;
    let t = token(TokenKind::Open, 5, None);
    let replies = blocking(move || {
        let human = [(
            "User-Agent",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15",
        )];
        let proxy = [("User-Agent", "Mozilla/5.0 (via ggpht.com GoogleImageProxy)")];
        vec![
            http(addr, "GET", &format!("/o/{t}.gif"), &human, ""),
            http(addr, "GET", &format!("/o/{t}.gif"), &human, ""),
            http(addr, "GET", &format!("/o/{t}.gif"), &proxy, ""),
            http(addr, "GET", "/o/forged-token.gif", &human, ""),
        ]
    })
    .await;
    for r in &replies[..3] {
        assert_eq!(r.status, 200);
        assert_eq!(r.body, PIXEL);
        assert!(
            r.headers.contains("content-type: image/gif"),
            "{}",
            r.headers
        );
        assert!(
            r.headers.contains("cache-control: no-store, no-cache"),
            "{}",
            r.headers
        );
    }
    // A damaged token: 404 and nothing recorded, but still an image (no broken-image icon).
    assert_eq!(replies[3].status, 404);
    assert_eq!(replies[3].body, PIXEL);
    assert!(replies[3].headers.contains("content-type: image/gif"));
    let store = srv.stop().await;
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM tracking_events WHERE kind = 'OPEN' AND outbox_id = 5"
        ),
        3
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM tracking_events WHERE machine = 1"
        ),
        1
    );
}

/// Behind a reverse proxy that passes `/hailer/o/…` on as it came (nginx's `proxy_pass` with
/// no URI), as well as one that strips it: with `base_url = https://t.x.test/hailer`, the
/// links' paths work both ways, the API too.
#[tokio::test]
async fn a_base_url_path_is_served_as_well_as_the_bare_paths() {
    assert_eq!(
        hailer::engine::tracking::server::base_path("https://t.x.test/hailer/"),
        Some("/hailer".to_string())
    );
    assert_eq!(
        hailer::engine::tracking::server::base_path("https://t.x.test"),
        None
    );
    assert_eq!(
        hailer::engine::tracking::server::base_path("https://t.x.test/{x}"),
        None
    );
    let srv = start_under(Some("api-token-0123456789"), Some("/hailer")).await;
    let addr = srv.addr;
    let t = token(TokenKind::Open, 5, None);
    let auth = [("Authorization", "Bearer api-token-0123456789")];
    let (prefixed, bare, api, outside) = blocking(move || {
        (
            http(addr, "GET", &format!("/hailer/o/{t}.gif"), &[], ""),
            http(addr, "GET", &format!("/o/{t}.gif"), &[], ""),
            http(addr, "GET", "/hailer/api/health", &auth, ""),
            http(addr, "GET", &format!("/other/o/{t}.gif"), &[], ""),
        )
    })
    .await;
    assert_eq!((prefixed.status, bare.status, api.status), (200, 200, 200));
    assert_eq!(prefixed.body, PIXEL);
    assert_eq!(outside.status, 404);
    let store = srv.stop().await;
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM tracking_events WHERE kind = 'OPEN' AND outbox_id = 5"
        ),
        2
    );
}

#[tokio::test]
async fn click_redirects_only_to_the_signed_url() {
    let srv = start(None).await;
    let addr = srv.addr;
    let good = token(TokenKind::Click, 5, Some("https://hailer.test/offer?x=1"));
    // Written `HREF="HTTPS://…"` in a message: the rewriter signs it as written.
    let upper = token(TokenKind::Click, 5, Some("HTTPS://hailer.test/upper"));
    let open_as_click = token(TokenKind::Open, 5, None);
    // Signed, but no Location header can carry it: refused, and not counted as a click.
    let broken = token(
        TokenKind::Click,
        5,
        Some("https://hailer.test/\r\nSet-Cookie: x=1"),
    );
    let (ok, forged, wrong_kind, upper, broken) = blocking(move || {
        (
            http(addr, "GET", &format!("/c/{good}"), &[], ""),
            http(addr, "GET", &format!("/c/{}", altered(&good)), &[], ""),
            http(addr, "GET", &format!("/c/{open_as_click}"), &[], ""),
            http(addr, "GET", &format!("/c/{upper}"), &[], ""),
            http(addr, "GET", &format!("/c/{broken}"), &[], ""),
        )
    })
    .await;
    assert_eq!(broken.status, 404, "{}", broken.headers);
    assert_eq!(upper.status, 302, "{}", upper.headers);
    assert_eq!(ok.status, 302, "{}", ok.headers);
    assert!(
        ok.headers
            .contains("location: https://hailer.test/offer?x=1"),
        "{}",
        ok.headers
    );
    assert_eq!(forged.status, 404);
    assert_eq!(wrong_kind.status, 404);
    // A damaged link gets a page that says so, not a blank one, and no redirect.
    let page = String::from_utf8_lossy(&forged.body);
    assert!(page.contains("This link is not valid"), "{page}");
    assert!(!forged.headers.contains("location:"), "{}", forged.headers);
    let store = srv.stop().await;
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM tracking_events WHERE kind = 'CLICK'"
        ),
        2
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM tracking_events"),
        2,
        "forged requests record nothing"
    );
}

/// The token here names no recipient, as links made before tokens carried one: the row's
/// address is taken off.
#[tokio::test]
async fn one_click_unsubscribe_suppresses_at_once_and_twice_is_fine() {
    let srv = start(None).await;
    let addr = srv.addr;
    let t = token(TokenKind::Unsubscribe, 5, None);
    let data = srv.dir.path().join("data");
    // Forged, altered, or an open token used as an unsubscribe: 404 and nothing suppressed.
    let altered = altered(&t);
    let open_token = token(TokenKind::Open, 5, None);
    let forged_data = data.clone();
    blocking(move || {
        let form = [("Content-Type", "application/x-www-form-urlencoded")];
        for bad in ["forged-token", altered.as_str(), open_token.as_str()] {
            let get = http(addr, "GET", &format!("/u/{bad}"), &[], "");
            let post = http(
                addr,
                "POST",
                &format!("/u/{bad}"),
                &form,
                "List-Unsubscribe=One-Click",
            );
            assert_eq!((get.status, post.status), (404, 404), "{bad}");
        }
        let store = Store::open_in(&forged_data).unwrap();
        assert_eq!(count(&store, "SELECT COUNT(*) FROM suppressions"), 0);
    })
    .await;
    let (page, first, second) = blocking(move || {
        let form = [("Content-Type", "application/x-www-form-urlencoded")];
        let page = http(addr, "GET", &format!("/u/{t}"), &[], "");
        let first = http(
            addr,
            "POST",
            &format!("/u/{t}"),
            &form,
            "List-Unsubscribe=One-Click",
        );
        // The suppression holds as soon as the answer arrives.
        let store = Store::open_in(&data).unwrap();
        assert!(
            hailer::store::suppressions::blocking(store.conn(), "jane.doe@acme.test")
                .unwrap()
                .is_some()
        );
        let second = http(
            addr,
            "POST",
            &format!("/u/{t}"),
            &form,
            "List-Unsubscribe=One-Click",
        );
        (page, first, second)
    })
    .await;
    assert_eq!(page.status, 200);
    let html = String::from_utf8_lossy(&page.body).to_string();
    // The form posts back to its own URL, whatever path a proxy puts hailer under.
    assert!(
        html.contains("<form method=\"post\">") && !html.contains("action="),
        "{html}"
    );
    assert_eq!((first.status, second.status), (200, 200));
    let store = srv.stop().await;
    let s = hailer::store::suppressions::blocking(store.conn(), "jane.doe@acme.test")
        .unwrap()
        .unwrap();
    assert_eq!(s.cause, "unsubscribed");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM suppressions"), 1);
    // The second POST (a provider's retry, a second press) is the same unsubscribe.
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM tracking_events WHERE kind = 'UNSUBSCRIBE'"
        ),
        1
    );
}

/// A row sent to one address, then rebuilt and approved for another (the user corrected it):
/// the first message's unsubscribe link takes off the address it went to, not the new one,
/// which may be another person's.
#[tokio::test]
async fn an_unsubscribe_takes_off_the_address_the_message_went_to() {
    let srv = start(None).await;
    let addr = srv.addr;
    let data = srv.dir.path().join("data");
    // The link as the sender made it for jane.doe@, then the row rebuilt for j.doe@.
    let tracker =
        hailer::engine::tracking::links::Tracker::new("https://t.sender.test", SECRET, false);
    let url = tracker.unsubscribe_url(5, "jane.doe@acme.test");
    let path = url
        .strip_prefix("https://t.sender.test")
        .unwrap()
        .to_string();
    {
        let store = Store::open_in(&data).unwrap();
        store
            .conn()
            .execute(
                "UPDATE outbox SET email = 'j.doe@acme.test', status = 'READY', approved = 1 WHERE id = 5",
                [],
            )
            .unwrap();
    }
    let reply = blocking(move || {
        http(
            addr,
            "POST",
            &path,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            "List-Unsubscribe=One-Click",
        )
    })
    .await;
    assert_eq!(reply.status, 200);
    let store = srv.stop().await;
    let blocked = |a: &str| {
        hailer::store::suppressions::blocking(store.conn(), a)
            .unwrap()
            .map(|s| s.cause)
    };
    assert_eq!(
        blocked("jane.doe@acme.test").as_deref(),
        Some("unsubscribed")
    );
    assert_eq!(
        blocked("j.doe@acme.test"),
        None,
        "the new address is not the sender's"
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM suppressions"),
        1,
        "nothing else"
    );
}

#[tokio::test]
async fn api_needs_the_bearer_token_and_leaks_nothing() {
    let srv = start(Some("api-token-123")).await;
    let addr = srv.addr;
    // Besides the SENT row: a reply, an open and a click on claire's, a hard bounce and a
    // link scanner's click on ines's, and a row never sent.
    Store::open_in(&srv.dir.path().join("data"))
        .unwrap()
        .conn()
        .execute_batch(
            "INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
             VALUES (2, 'John', 'Smith', 'Acme', 'acme', 'john|smith', 0),
                    (3, 'Ann', 'Lee', 'Acme', 'acme', 'ann|lee', 0),
                    (4, 'Bo', 'Ng', 'Acme', 'acme', 'bo|ng', 0),
                    (5, 'Cy', 'Ro', 'Acme', 'acme', 'cy|ro', 0);
             INSERT INTO outbox (id, prospect_id, email, company_key, status, mailbox, sent_at, created_at, updated_at)
             VALUES (6, 2, 'john.smith@acme.test', 'acme', 'REPLIED', 'claire', 2, 0, 0),
                    (7, 3, 'ann.lee@acme.test', 'acme', 'INVALID', 'ines', 3, 0, 0),
                    (8, 4, 'bo.ng@acme.test', 'acme', 'READY', NULL, NULL, 0, 0);
             INSERT INTO outbox (id, prospect_id, email, company_key, status, mailbox, refused_at,
                                 reason, created_at, updated_at)
             VALUES (9, 5, 'cy.ro@acme.test', 'acme', 'ERROR', 'ines', 4, '550 5.1.1 no such user',
                     0, 0);
             INSERT INTO tracking_events (outbox_id, kind, machine, created_at)
             VALUES (6, 'OPEN', 0, 5), (6, 'OPEN', 1, 6), (6, 'CLICK', 0, 7), (7, 'CLICK', 1, 8);
             INSERT INTO inbox_messages (id, mailbox, folder, uidvalidity, uid, message_key, kind, processed_at)
             VALUES (1, 'ines', 'INBOX', 1, 1, '<b1@x>', 'bounce', 9);
             INSERT INTO bounces (kind, date, mailbox, outbox_id, recipient, domain, action, status_code,
                                  reply_code, reason, hard, inbox_message_id, created_at)
             VALUES ('bounce', 9, 'ines', 7, 'ann.lee@acme.test', 'acme.test', 'failed', '5.1.1', 550,
                     'userunknown', 1, 1, 9);",
        )
        .unwrap();
    let (none, wrong, health, stats) = blocking(move || {
        (
            http(addr, "GET", "/api/stats", &[], ""),
            http(
                addr,
                "GET",
                "/api/stats",
                &[("Authorization", "Bearer nope")],
                "",
            ),
            http(
                addr,
                "GET",
                "/api/health",
                &[("Authorization", "Bearer api-token-123")],
                "",
            ),
            http(
                addr,
                "GET",
                "/api/stats",
                &[("Authorization", "Bearer api-token-123")],
                "",
            ),
        )
    })
    .await;
    assert_eq!((none.status, wrong.status), (401, 401));
    // A JSON error saying what to send, and nothing of the data.
    for r in [&none, &wrong] {
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        let error = body["error"].as_str().unwrap();
        assert!(error.contains("Authorization: Bearer"), "{error}");
        assert!(
            !error.contains("acme") && !error.contains("api-token-123"),
            "{error}"
        );
        assert!(
            r.headers.contains("www-authenticate: bearer"),
            "{}",
            r.headers
        );
    }
    // A caller without the token is answered before any body is read: a POST announcing
    // 30 MB that never sends it gets its 401 at once.
    let early = blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        s.write_all(
            b"POST /api/validate HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n\
              Content-Length: 30000000\r\n\r\n",
        )
        .unwrap();
        let mut head = [0u8; 12];
        s.read_exact(&mut head).map(|_| head.to_vec())
    })
    .await;
    assert_eq!(
        early.as_deref().ok(),
        Some(&b"HTTP/1.1 401"[..]),
        "{early:?}"
    );
    assert_eq!(health.status, 200);
    let h: serde_json::Value = serde_json::from_slice(&health.body).unwrap();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["database"], true);
    let s: serde_json::Value = serde_json::from_slice(&stats.body).unwrap();
    assert_eq!(s["outbox"]["SENT"], 1);
    assert_eq!(s["outbox"]["READY"], 1);
    assert_eq!(s["outbox"]["ERROR"], 1);
    assert_eq!(
        (s["sent"].as_i64(), s["replies"].as_i64()),
        (Some(3), Some(1)),
        "{s}"
    );
    assert_eq!(s["bounces"], serde_json::json!({ "hard": 2, "soft": 0 }));
    assert_eq!(s["refused"], 1, "{s}");
    assert_eq!(
        (s["opens"]["rows"].as_i64(), s["opens"]["events"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(
        (&s["clicks"], &s["clicks_human"]),
        (&2.into(), &1.into()),
        "{s}"
    );
    assert_eq!(
        (
            &s["mailboxes"]["ines"]["clicked"],
            &s["mailboxes"]["ines"]["clicked_human"]
        ),
        (&1.into(), &0.into()),
        "{s}"
    );
    assert_eq!(
        s["mailboxes"]["claire"],
        serde_json::json!({ "sent": 2, "refused": 0, "opened": 1, "opened_human": 1,
                            "clicked": 1, "clicked_human": 1, "replied": 1,
                            "bounces": { "hard": 0, "soft": 0 },
                            "hard_bounce_percent": 0.0 })
    );
    // A refusal at send time counts as a hard bounce of a message that was never sent: the
    // rate is over what the mailbox tried, never above 100%.
    let ines = &s["mailboxes"]["ines"];
    assert_eq!(
        (&ines["sent"], &ines["refused"], &ines["bounces"]["hard"]),
        (&1.into(), &1.into(), &2.into()),
        "{s}"
    );
    assert_eq!(ines["hard_bounce_percent"], 100.0);
    srv.stop().await;

    let off = start(None).await;
    let addr = off.addr;
    let r = blocking(move || {
        http(
            addr,
            "GET",
            "/api/health",
            &[("Authorization", "Bearer x")],
            "",
        )
    })
    .await;
    assert_eq!(r.status, 404, "no token configured: the API is off");
    off.stop().await;
}

/// HEAD (`curl -I`, link checkers, some scanners) answers like GET but records nothing.
#[tokio::test]
async fn head_requests_answer_like_get_but_record_nothing() {
    let srv = start(None).await;
    let addr = srv.addr;
    let open = token(TokenKind::Open, 5, None);
    let click = token(TokenKind::Click, 5, Some("https://a.test/p?x=1"));
    let replies = blocking(move || {
        let pixel = format!("/o/{open}.gif");
        let link = format!("/c/{click}");
        [
            http(addr, "HEAD", &pixel, &[], ""),
            http(addr, "HEAD", &link, &[], ""),
            http(addr, "GET", &pixel, &[], ""),
            http(addr, "GET", &link, &[], ""),
        ]
    })
    .await;
    let [head_pixel, head_link, get_pixel, get_link] = &replies;
    assert_eq!((head_pixel.status, get_pixel.status), (200, 200));
    assert!(head_pixel.headers.contains("content-type: image/gif"));
    assert!(head_pixel.body.is_empty());
    assert_eq!((head_link.status, get_link.status), (302, 302));
    assert!(head_link.headers.contains("location: https://a.test/p?x=1"));
    let store = srv.stop().await;
    let events = |kind: &str| {
        count(
            &store,
            &format!("SELECT COUNT(*) FROM tracking_events WHERE kind = '{kind}'"),
        )
    };
    assert_eq!((events("OPEN"), events("CLICK")), (1, 1));
}

/// The auth scheme is case-insensitive (RFC 7235 §2.1): `bearer` and `BEARER` work too.
#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let srv = start(Some("api-token-123")).await;
    let addr = srv.addr;
    let statuses = blocking(move || {
        [
            "bearer api-token-123",
            "BEARER api-token-123",
            "Bearer  api-token-123",
            "Basic api-token-123",
            "bearer api-token-12",
        ]
        .map(|auth| http(addr, "GET", "/api/health", &[("Authorization", auth)], "").status)
    })
    .await;
    assert_eq!(statuses, [200, 200, 200, 401, 401]);
    srv.stop().await;
}

/// Tokens are also in dry-run `.eml` files and previews. Opening one (a mail client loading the
/// pixel), following its link or its unsubscribe link must not count for a row never sent: the
/// pixel and the redirect still answer, the unsubscribe page says nothing was changed, and
/// `/api/stats` shows no opens or clicks beside `sent: 0`. A row that may have gone out
/// (UNCERTAIN) has its unsubscribe honoured.
#[tokio::test]
async fn rows_never_sent_record_no_events_and_suppress_nothing() {
    let srv = start(Some("api-token-123")).await;
    let addr = srv.addr;
    let data = srv.dir.path().join("data");
    Store::open_in(&data)
        .unwrap()
        .conn()
        .execute_batch(
            "INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
             VALUES (2, 'John', 'Smith', 'Acme', 'acme', 'john|smith', 0),
                    (3, 'Ann', 'Lee', 'Acme', 'acme', 'ann|lee', 0);
             INSERT INTO outbox (id, prospect_id, email, company_key, status, mailbox, sent_at, created_at, updated_at)
             VALUES (6, 2, 'john.smith@acme.test', 'acme', 'READY', NULL, NULL, 0, 0),
                    (7, 3, 'ann.lee@acme.test', 'acme', 'UNCERTAIN', 'claire', NULL, 0, 0);
             DELETE FROM outbox WHERE id = 5;",
        )
        .unwrap();
    let open = token(TokenKind::Open, 6, None);
    let click = token(TokenKind::Click, 6, Some("https://hailer.test/offer"));
    let unsub = token(TokenKind::Unsubscribe, 6, None);
    let unsub_uncertain = token(TokenKind::Unsubscribe, 7, None);
    let open_uncertain = token(TokenKind::Open, 7, None);
    let (pixel, link, page, post, uncertain, pixel_uncertain) = blocking(move || {
        let form = [("Content-Type", "application/x-www-form-urlencoded")];
        (
            http(addr, "GET", &format!("/o/{open}.gif"), &[], ""),
            http(addr, "GET", &format!("/c/{click}"), &[], ""),
            http(addr, "GET", &format!("/u/{unsub}"), &[], ""),
            http(
                addr,
                "POST",
                &format!("/u/{unsub}"),
                &form,
                "List-Unsubscribe=One-Click",
            ),
            http(
                addr,
                "POST",
                &format!("/u/{unsub_uncertain}"),
                &form,
                "List-Unsubscribe=One-Click",
            ),
            http(addr, "GET", &format!("/o/{open_uncertain}.gif"), &[], ""),
        )
    })
    .await;
    assert_eq!((pixel.status, pixel_uncertain.status), (200, 200));
    assert_eq!(pixel.body, PIXEL);
    assert_eq!(link.status, 302, "the person clicked: still redirected");
    assert!(link.headers.contains("location: https://hailer.test/offer"));
    assert_eq!(
        (page.status, post.status, uncertain.status),
        (200, 200, 200)
    );
    let text = String::from_utf8_lossy(&post.body).to_string();
    assert!(
        text.contains("never sent") && text.contains("nothing was changed"),
        "{text}"
    );
    // Let the writer store what it would store, then read the figures.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let stats = blocking(move || {
        http(
            addr,
            "GET",
            "/api/stats",
            &[("Authorization", "Bearer api-token-123")],
            "",
        )
    })
    .await;
    let s: serde_json::Value = serde_json::from_slice(&stats.body).unwrap();
    assert_eq!(s["sent"], 0, "{s}");
    assert_eq!(
        s["opens"],
        serde_json::json!({ "rows": 0, "rows_human": 0, "events": 0 }),
        "{s}"
    );
    assert_eq!(s["clicks"], 0, "{s}");
    assert_eq!(s["unsubscribes"], 1, "the UNCERTAIN row's only: {s}");
    let store = srv.stop().await;
    assert!(
        hailer::store::suppressions::blocking(store.conn(), "john.smith@acme.test")
            .unwrap()
            .is_none()
    );
    assert!(
        hailer::store::suppressions::blocking(store.conn(), "ann.lee@acme.test")
            .unwrap()
            .is_some()
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM tracking_events WHERE outbox_id = 6"
        ),
        0
    );
    assert_eq!(
        count(
            &store,
            "SELECT group_concat(kind) = 'UNSUBSCRIBE' FROM tracking_events WHERE outbox_id = 7"
        ),
        1
    );
}

/// Every /api/* error has a JSON body: an unknown endpoint, a wrong method, the API off. A
/// damaged unsubscribe link gets a page that says how to unsubscribe anyway.
#[tokio::test]
async fn api_errors_are_json_and_a_damaged_unsubscribe_link_gets_a_page() {
    let on = start(Some("api-token-0123456789")).await;
    let off = start(None).await;
    let (a, b) = (on.addr, off.addr);
    let bearer = [("Authorization", "Bearer api-token-0123456789")];
    let unsub = altered(&token(TokenKind::Unsubscribe, 5, None));
    // Signed, but for a row the database does not have (it was started afresh).
    let no_row = token(TokenKind::Unsubscribe, 999, None);
    let (unknown, method, api_off, page, post, gone) = blocking(move || {
        (
            http(a, "GET", "/api/nope", &bearer, ""),
            http(a, "POST", "/api/stats", &bearer, ""),
            http(b, "GET", "/api/stats", &[], ""),
            http(a, "GET", &format!("/u/{unsub}"), &[], ""),
            http(
                a,
                "POST",
                &format!("/u/{unsub}"),
                &[("Content-Type", "application/x-www-form-urlencoded")],
                "List-Unsubscribe=One-Click",
            ),
            http(
                a,
                "POST",
                &format!("/u/{no_row}"),
                &[("Content-Type", "application/x-www-form-urlencoded")],
                "List-Unsubscribe=One-Click",
            ),
        )
    })
    .await;
    let error = |r: &Reply| -> String {
        let v: serde_json::Value = serde_json::from_slice(&r.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&r.body)));
        v["error"].as_str().unwrap().to_string()
    };
    assert_eq!(unknown.status, 404);
    assert!(error(&unknown).contains("/api/nope"), "{}", error(&unknown));
    assert_eq!(method.status, 405);
    assert!(error(&method).contains("POST"), "{}", error(&method));
    assert_eq!(api_off.status, 404);
    assert!(
        error(&api_off).contains("the API is off"),
        "{}",
        error(&api_off)
    );
    for r in [&page, &post, &gone] {
        assert_eq!(r.status, 404);
        let html = String::from_utf8_lossy(&r.body);
        assert!(
            html.contains("not valid") && html.contains("unsubscribe"),
            "{html}"
        );
    }
    let store = on.stop().await;
    assert_eq!(count(&store, "SELECT COUNT(*) FROM suppressions"), 0);
    off.stop().await;
}

/// An API token shorter than the tracking key's 16 characters is refused at start-up.
#[test]
fn a_short_api_token_is_refused() {
    let var = "HAILER_TEST_SHORT_API_TOKEN";
    // SAFETY: only this test reads or writes this variable.
    unsafe { std::env::set_var(var, "short") };
    unsafe { std::env::set_var("HAILER_TEST_API_TRACKING_KEY", "0123456789abcdef") };
    let config: hailer::config::Config = toml::from_str(&format!(
        "[tracking]\nsecret_env = \"HAILER_TEST_API_TRACKING_KEY\"\n[api]\ntoken_env = \"{var}\"\n"
    ))
    .unwrap();
    let err = ServeConfig::from_config(&config, "data".into(), "127.0.0.1:0".parse().unwrap())
        .err()
        .expect("a 5-character token was accepted");
    assert!(err.contains(var) && err.contains("16"), "{err}");
    assert!(
        !err.contains("short"),
        "the token itself is in the error: {err}"
    );
}

/// `hailer serve` as a user runs it: with `[api]` alone (no tracking key) it serves the API
/// and no tracking routes; `/api/stats` lists every configured mailbox, those that have sent
/// nothing with zeros; `--listen` takes a host name; a second server on the same port is
/// refused naming the address; with neither tracking nor API there is nothing to serve.
#[test]
fn serve_runs_the_api_alone_on_a_named_host_and_names_a_busy_port() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("config.toml"),
        "[mailboxes.alpha]\nfrom = \"a@sender.test\"\nsmtp_host = \"127.0.0.1\"\n\
         password_env = \"HAILER_TEST_UNUSED\"\n\
         [mailboxes.beta]\nfrom = \"b@sender.test\"\nsmtp_host = \"127.0.0.1\"\n\
         password_env = \"HAILER_TEST_UNUSED\"\n\
         [api]\ntoken_env = \"HAILER_TEST_SERVE_API_TOKEN\"\n",
    )
    .unwrap();
    let hailer = |args: &[&str]| {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("hailer"));
        cmd.current_dir(d)
            .env_remove("HAILER_CONFIG")
            .env_remove("HAILER_DATA_DIR")
            .env("HAILER_TEST_SERVE_API_TOKEN", "api-token-0123456789")
            .args(["--config", "config.toml", "--data-dir", "data", "serve"])
            .args(args);
        cmd
    };
    let mut server = hailer(&["--listen", "localhost:0"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(server.stderr.take().unwrap());
    let mut said = String::new();
    let addr: SocketAddr = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "no address in {said}"
        );
        said.push_str(&line);
        if let Some(a) = line.trim().strip_prefix("hailer: listening on http://") {
            break a.parse().unwrap();
        }
    };
    assert!(addr.ip().is_loopback(), "{addr}");
    assert!(said.contains("serving the API only"), "{said}");
    let auth = [("Authorization", "Bearer api-token-0123456789")];
    let stats = http(addr, "GET", "/api/stats", &auth, "");
    assert_eq!(stats.status, 200);
    let stats: serde_json::Value = serde_json::from_slice(&stats.body).unwrap();
    let zeros = serde_json::json!({"sent": 0, "refused": 0, "opened": 0, "opened_human": 0,
        "clicked": 0, "clicked_human": 0, "replied": 0, "bounces": {"hard": 0, "soft": 0},
        "hard_bounce_percent": 0.0});
    assert_eq!(stats["mailboxes"]["alpha"], zeros, "{stats}");
    assert_eq!(stats["mailboxes"]["beta"], zeros, "{stats}");
    let open = token(TokenKind::Open, 1, None);
    assert_eq!(
        http(addr, "GET", &format!("/o/{open}.gif"), &[], "").status,
        404
    );

    let second = hailer(&["--listen", &addr.to_string()]).output().unwrap();
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("cannot listen on {addr}")) && err.contains("in use"),
        "{err}"
    );
    let bad = hailer(&["--listen", "localhost"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--listen \"localhost\" must be"));

    // Stopped the way GNU `timeout` stops it: SIGTERM to the server, then again to its
    // process group, moments apart. One stop, said twice: a clean exit 0, not "a second signal".
    for _ in 0..2 {
        std::process::Command::new("kill")
            .args(["-TERM", &server.id().to_string()])
            .status()
            .unwrap();
    }
    let status = server.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(status.success(), "{status:?} {rest}");
    assert!(!rest.contains("second signal"), "{rest}");

    std::fs::write(d.join("config.toml"), "").unwrap();
    let nothing = hailer(&[]).output().unwrap();
    assert_eq!(nothing.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("nothing to serve"));
}

/// A body over `/api/validate`'s limit gets the API's JSON error, like every other error.
#[tokio::test]
async fn an_oversized_validate_body_gets_a_json_error() {
    let on = start(Some("api-token-0123456789")).await;
    let addr = on.addr;
    let reply = blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        let head = "POST /api/validate HTTP/1.1\r\nHost: t.test\r\nConnection: close\r\n\
                    Authorization: Bearer api-token-0123456789\r\n\
                    Content-Type: text/plain\r\nContent-Length: 40000000\r\n\r\n";
        s.write_all(head.as_bytes()).unwrap();
        // The server may answer before the body is all there: stop writing once it does.
        let chunk = vec![b'a'; 64 * 1024];
        for _ in 0..(40_000_000 / chunk.len()) {
            if s.write_all(&chunk).is_err() {
                break;
            }
        }
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        String::from_utf8_lossy(&raw).into_owned()
    })
    .await;
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    let body = &reply[reply.find("\r\n\r\n").unwrap() + 4..];
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
    on.stop().await;
}

/// The API token is read trimmed, as the header is: pasted with spaces around it, it still
/// matches; made of spaces only, it is no token.
#[test]
fn the_api_token_is_read_trimmed() {
    let var = "HAILER_TEST_SPACED_API_TOKEN";
    let config: hailer::config::Config =
        toml::from_str(&format!("[api]\ntoken_env = \"{var}\"\n")).unwrap();
    let from = |value: &str| {
        // SAFETY: only this test reads or writes this variable.
        unsafe { std::env::set_var(var, value) };
        ServeConfig::from_config(&config, "data".into(), "127.0.0.1:0".parse().unwrap())
    };
    let cfg = from("   abcdefghijklmnop \n").map(|(c, _)| c).unwrap();
    assert_eq!(cfg.api_token.as_deref(), Some("abcdefghijklmnop"));
    let err = from(&" ".repeat(20)).err().expect("a blank token served");
    assert!(
        err.contains("nothing to serve") && err.contains(var),
        "{err}"
    );
}

/// `hailer serve` over SSH: the session closing sends SIGHUP, Ctrl-\ sends SIGQUIT. Either is a
/// clean stop, like Ctrl-C: exit 0 and every open already answered is stored (left to the
/// default action, the process died with its last batch unwritten).
#[test]
fn a_hang_up_or_quit_stops_serve_cleanly_with_every_answered_open_stored() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("config.toml"),
        "[tracking]\nsecret_env = \"HAILER_TEST_HUP_SECRET\"\n",
    )
    .unwrap();
    Store::open_in(&d.join("data"))
        .unwrap()
        .conn()
        .execute_batch(
            "INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'Acme', 0);
             INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
             VALUES (1, 'Jane', 'Doe', 'Acme', 'acme', 'jane|doe', 0);
             INSERT INTO outbox (id, prospect_id, email, company_key, status, mailbox, sent_at, created_at, updated_at)
             VALUES (5, 1, 'jane.doe@acme.test', 'acme', 'SENT', 'claire', 1, 0, 0);",
        )
        .unwrap();
    let pixel = format!("/o/{}.gif", token(TokenKind::Open, 5, None));
    let browser = [(
        "User-Agent",
        "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
    )];
    let mut answered = 0;
    for sig in ["HUP", "QUIT"] {
        let mut server = std::process::Command::new(assert_cmd::cargo::cargo_bin("hailer"))
            .current_dir(d)
            .env_remove("HAILER_CONFIG")
            .env_remove("HAILER_DATA_DIR")
            .env(
                "HAILER_TEST_HUP_SECRET",
                std::str::from_utf8(SECRET).unwrap(),
            )
            .args(["--config", "config.toml", "--data-dir", "data", "serve"])
            .args(["--listen", "127.0.0.1:0"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = std::io::BufReader::new(server.stderr.take().unwrap());
        let addr: SocketAddr = loop {
            let mut line = String::new();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "serve said no address"
            );
            if let Some(a) = line.trim().strip_prefix("hailer: listening on http://") {
                break a.parse().unwrap();
            }
        };
        for _ in 0..30 {
            assert_eq!(http(addr, "GET", &pixel, &browser, "").status, 200);
            answered += 1;
        }
        // At once: the last opens are still in the writer's batch.
        common::signal(server.id(), sig);
        let status = server.wait().unwrap();
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
        assert!(status.success(), "SIG{sig}: {status:?} {rest}");
    }
    let store = Store::open_in(&d.join("data")).unwrap();
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM tracking_events WHERE kind = 'OPEN'"
        ),
        answered
    );
}

/// The daily summary's "last 24 h … unsubscribed" counts a person who unsubscribed today
/// although their address was already on the list for another cause (a reply long ago): by
/// the one-click link, or by an unsubscribe email. The entry becomes `unsubscribed` but keeps
/// its first date, which the count read alone, so such an unsubscribe never showed.
#[tokio::test]
async fn an_unsubscribe_of_an_address_already_suppressed_counts_in_the_last_24_hours() {
    let srv = start(None).await;
    let data = srv.dir.path().join("data");
    {
        let store = Store::open_in(&data).unwrap();
        store
            .conn()
            .execute_batch(
                "INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
                 VALUES (2, 'John', 'Smith', 'Acme', 'acme', 'john|smith', 0);
                 INSERT INTO outbox (id, prospect_id, email, company_key, status, mailbox, sent_at, created_at, updated_at)
                 VALUES (6, 2, 'john.smith@acme.test', 'acme', 'SENT', 'claire', 1, 0, 0);
                 INSERT INTO suppressions (entry, cause, note, created_at) VALUES
                   ('jane.doe@acme.test', 'replied', 'Re: Hello', 1),
                   ('john.smith@acme.test', 'replied', 'Re: Hello', 1);",
            )
            .unwrap();
    }
    let (addr, t) = (srv.addr, token(TokenKind::Unsubscribe, 5, None));
    let post = blocking(move || {
        let form = [("Content-Type", "application/x-www-form-urlencoded")];
        http(
            addr,
            "POST",
            &format!("/u/{t}"),
            &form,
            "List-Unsubscribe=One-Click",
        )
    })
    .await;
    assert_eq!(post.status, 200);
    let store = srv.stop().await;
    let now = hailer::store::now_ts();
    let recent = |store: &Store| {
        hailer::engine::notify::summary::recent(store.conn(), now - 86_400)
            .unwrap()
            .unsubscribed
    };
    assert_eq!(recent(&store), 1);
    // John's unsubscribe email, read today (its effect on the list is the inbox's business).
    store
        .conn()
        .execute(
            "INSERT INTO inbox_messages (mailbox, folder, uidvalidity, uid, message_key, kind,
                                         outbox_id, from_addr, subject, processed_at)
             VALUES ('claire', 'INBOX', 1, 1, '<u1@acme.test>', 'unsubscribe', 6,
                     'john.smith@acme.test', 'unsubscribe', ?1)",
            [now],
        )
        .unwrap();
    assert_eq!(recent(&store), 2);
    // A stranger's "unsubscribe" mail, about none of our messages, is no campaign's.
    store
        .conn()
        .execute(
            "INSERT INTO inbox_messages (mailbox, folder, uidvalidity, uid, message_key, kind,
                                         outbox_id, from_addr, subject, processed_at)
             VALUES ('claire', 'INBOX', 1, 2, '<u2@spam.test>', 'unsubscribe', NULL,
                     'someone@spam.test', 'unsubscribe', ?1)",
            [now],
        )
        .unwrap();
    assert_eq!(recent(&store), 2);
    // Nothing counts twice: Jane's entry is also `unsubscribed` now.
    assert_eq!(
        hailer::engine::notify::summary::recent(store.conn(), 0)
            .unwrap()
            .unsubscribed,
        2
    );
}

/// Security gateways open and click with a browser's user agent as the message is delivered,
/// and walk every link of it: timing tells them. An open or click within seconds of the send
/// is flagged; so are two different links of one message clicked within 2 s, the first one
/// too. A person's click, and a double click on one link, stay a person's.
#[tokio::test]
async fn link_scanners_with_a_browser_agent_are_told_by_their_timing() {
    let srv = start(Some("api-token-0123456789")).await;
    let now = hailer::store::now_ts();
    Store::open_in(&srv.dir.path().join("data"))
        .unwrap()
        .conn()
        .execute_batch(&format!(
            "INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
             VALUES (2, 'John', 'Smith', 'Acme', 'acme', 'john|smith', 0),
                    (3, 'Ann', 'Lee', 'Acme', 'acme', 'ann|lee', 0);
             INSERT INTO outbox (id, prospect_id, email, company_key, status, mailbox, sent_at, created_at, updated_at)
             VALUES (6, 2, 'john.smith@acme.test', 'acme', 'SENT', 'claire', {now}, 0, 0),
                    (7, 3, 'ann.lee@acme.test', 'acme', 'SENT', 'claire', 1, 0, 0);"
        ))
        .unwrap();
    let click = |id: i64, url: &str| format!("/c/{}", token(TokenKind::Click, id, Some(url)));
    // Row 6 was sent just now; rows 5 and 7 long ago.
    let just_sent = [
        format!("/o/{}.gif", token(TokenKind::Open, 6, None)),
        click(6, "https://hailer.test/offer"),
    ];
    let walked = [
        click(5, "https://hailer.test/a"),
        click(5, "https://hailer.test/b"),
        click(5, "https://hailer.test/c"),
    ];
    let person = [
        click(7, "https://hailer.test/a"),
        click(7, "https://hailer.test/a"),
    ];
    let addr = srv.addr;
    let stats = blocking(move || {
        let browser = [(
            "User-Agent",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/131.0 Safari/537.36",
        )];
        for path in just_sent.iter().chain(&walked).chain(&person) {
            let r = http(addr, "GET", path, &browser, "");
            assert!(matches!(r.status, 200 | 302), "{path}: {}", r.status);
        }
        // The writer stores within 100 ms; the stats read what it stored.
        std::thread::sleep(std::time::Duration::from_millis(500));
        let r = http(
            addr,
            "GET",
            "/api/stats",
            &[("Authorization", "Bearer api-token-0123456789")],
            "",
        );
        serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()
    })
    .await;
    assert_eq!(
        (&stats["clicks"], &stats["clicks_human"]),
        (&serde_json::json!(3), &serde_json::json!(1)),
        "{stats}"
    );
    assert_eq!(
        (&stats["opens"]["rows"], &stats["opens"]["rows_human"]),
        (&serde_json::json!(1), &serde_json::json!(0)),
        "{stats}"
    );
    let store = srv.stop().await;
    let flags: Vec<(i64, String, bool)> = store
        .conn()
        .prepare("SELECT outbox_id, kind, machine FROM tracking_events ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let flag = |id: i64| -> Vec<bool> {
        flags
            .iter()
            .filter(|(row, ..)| *row == id)
            .map(|(.., m)| *m)
            .collect()
    };
    assert_eq!(flag(6), [true, true], "{flags:?}");
    assert_eq!(flag(5), [true, true, true], "{flags:?}");
    assert_eq!(flag(7), [false, false], "{flags:?}");
}

/// A link written with Unicode (a raw HTML link to `https://café.test/été`) redirects in the
/// form a browser sends it, the host in IDNA and the rest percent-encoded: a Location header
/// is a URI, and its raw UTF-8 bytes went out, which a strict client refuses or reads as
/// Latin-1.
#[tokio::test]
async fn a_link_written_in_unicode_redirects_in_its_ascii_form() {
    let srv = start(None).await;
    let addr = srv.addr;
    let unicode = token(
        TokenKind::Click,
        5,
        Some("https://café.test/été?q=ü&r=1#sœur"),
    );
    let r = blocking(move || http(addr, "GET", &format!("/c/{unicode}"), &[], "")).await;
    assert_eq!(r.status, 302, "{}", r.headers);
    assert!(
        r.headers
            .contains("location: https://xn--caf-dma.test/%c3%a9t%c3%a9?q=%c3%bc&r=1#s%c5%93ur"),
        "{}",
        r.headers
    );
    let store = srv.stop().await;
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM tracking_events WHERE kind = 'CLICK' AND url = 'https://café.test/été?q=ü&r=1#sœur'"
        ),
        1
    );
}

/// RFC 8058 §3.2: the one-click POST carries `List-Unsubscribe=One-Click`, form-urlencoded or
/// as multipart/form-data (the RFC's preference). A POST without it (empty, another form)
/// unsubscribes nobody and gets the page with the button; one with it, in either encoding,
/// does.
#[tokio::test]
async fn only_a_post_saying_one_click_unsubscribes() {
    let srv = start(None).await;
    let data = srv.dir.path().join("data");
    let addr = srv.addr;
    let t = token(TokenKind::Unsubscribe, 5, None);
    let refused_data = data.clone();
    let t2 = t.clone();
    blocking(move || {
        let form = [("Content-Type", "application/x-www-form-urlencoded")];
        for body in ["", "foo=bar", "List-Unsubscribe=No"] {
            let r = http(addr, "POST", &format!("/u/{t2}"), &form, body);
            assert_eq!(r.status, 400, "{body:?}");
            let page = String::from_utf8_lossy(&r.body);
            assert!(
                page.contains("name=\"List-Unsubscribe\" value=\"One-Click\""),
                "{page}"
            );
        }
        let store = Store::open_in(&refused_data).unwrap();
        assert_eq!(count(&store, "SELECT COUNT(*) FROM suppressions"), 0);
    })
    .await;
    let r = blocking(move || {
        let multipart = [(
            "Content-Type",
            "multipart/form-data; boundary=\"----b0undary\"",
        )];
        http(
            addr,
            "POST",
            &format!("/u/{t}"),
            &multipart,
            "------b0undary\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n\
             One-Click\r\n------b0undary--\r\n",
        )
    })
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let store = srv.stop().await;
    assert!(
        hailer::store::suppressions::blocking(store.conn(), "jane.doe@acme.test")
            .unwrap()
            .is_some()
    );
}

/// The zone the validate tests resolve: slow.test's MX, mx.slow.test, on loopback.
async fn slow_test_dns() -> SocketAddr {
    use hickory_resolver::proto::rr::RecordType;
    fake_dns::serve(vec![
        (
            "slow.test",
            RecordType::MX,
            fake_dns::Answer::Mx(vec![(10, "mx.slow.test")]),
        ),
        (
            "mx.slow.test",
            RecordType::A,
            fake_dns::Answer::A(std::net::Ipv4Addr::LOCALHOST),
        ),
    ])
    .await
}

/// `serve` with the API on (token `api-token-0123456789`), data under `dir`, probing the SMTP
/// server on `smtp_port` one session per host, waiting up to `wait` for its answers.
async fn api_server(
    smtp_port: u16,
    dns: SocketAddr,
    wait: std::time::Duration,
    dir: &std::path::Path,
) -> (
    SocketAddr,
    CancellationToken,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let verify = hailer::engine::verify::VerifyOptions {
        port: smtp_port,
        helo_name: "probe.sender.test".into(),
        from: "probe@sender.test".into(),
        allow_special_use: vec!["test".into()],
        rate_limit: std::time::Duration::ZERO,
        per_host: 1,
        connect_timeout: wait,
        command_timeout: wait,
        dns: hailer::engine::verify::dns::DnsSettings {
            nameservers: vec![dns],
            timeout: std::time::Duration::from_millis(500),
            attempts: 1,
        },
        retries: 0,
        ..hailer::engine::verify::VerifyOptions::default()
    };
    let stop = CancellationToken::new();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(serve(
        ServeConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.join("data"),
            secret: None,
            mailboxes: Vec::new(),
            api_token: Some("api-token-0123456789".into()),
            verify,
            base_path: None,
        },
        stop.clone(),
        Some(tx),
    ));
    (rx.await.unwrap(), stop, task)
}

/// Two callers validating addresses of one domain at the same time: their runs take turns,
/// so the MX host sees one session at a time (`[verify] per_host = 1`), as from one run. Each
/// run kept its own per-host limit, and callers side by side opened a session each.
#[tokio::test]
async fn validate_requests_side_by_side_take_turns_at_the_mx() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let dns = slow_test_dns().await;
    // Sessions open at once, and the most seen open together. A slow banner keeps each
    // session open long enough for a second one to overlap it.
    let open = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (o, m) = (open.clone(), most.clone());
    let smtp = fake_smtp::start(
        "127.0.0.1",
        Arc::new(move |_, line| match line {
            None => {
                let now = o.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                fake_smtp::Act::Slow(
                    std::time::Duration::from_millis(300),
                    vec!["220 mx.slow.test ESMTP".into()],
                )
            }
            Some(cmd) if cmd.to_ascii_uppercase().starts_with("QUIT") => {
                o.fetch_sub(1, Ordering::SeqCst);
                fake_smtp::standard(cmd)
            }
            Some(cmd) => fake_smtp::standard(cmd),
        }),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (addr, stop, task) = api_server(
        smtp.addr.port(),
        dns,
        std::time::Duration::from_secs(2),
        dir.path(),
    )
    .await;
    let callers: Vec<_> = ["ann@slow.test", "bob@slow.test"]
        .into_iter()
        .map(|email| {
            std::thread::spawn(move || {
                http(
                    addr,
                    "POST",
                    "/api/validate",
                    &[
                        ("Authorization", "Bearer api-token-0123456789"),
                        ("Content-Type", "application/json"),
                    ],
                    &format!("{{\"emails\": [\"{email}\"]}}"),
                )
            })
        })
        .collect();
    for caller in callers {
        let r = blocking(move || caller.join().unwrap()).await;
        let body = String::from_utf8_lossy(&r.body).to_string();
        assert_eq!(r.status, 200, "{body}");
        // Probed (the fake accepts any address: CATCH_ALL).
        assert!(body.contains("\"mx\":\"mx.slow.test\""), "{body}");
    }
    stop.cancel();
    task.await.unwrap().unwrap();
    assert!(smtp.conns().len() >= 2, "{:?}", smtp.conns());
    assert_eq!(most.load(Ordering::SeqCst), 1, "{:?}", smtp.conns());
}

/// A caller that goes away while its run waits on a silent server gives the turn up at once:
/// the next caller is answered, not kept waiting until the first run's probe times out (ten
/// minutes here). Before, a gone client was noticed only when the next result was sent.
#[tokio::test]
async fn a_validate_caller_gone_while_its_probe_waits_gives_the_turn_up() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let dns = slow_test_dns().await;
    // The first session gets no banner for ten minutes; the next ones are answered.
    let sessions = Arc::new(AtomicUsize::new(0));
    let seen = sessions.clone();
    let smtp = fake_smtp::start(
        "127.0.0.1",
        Arc::new(move |_, line| match line {
            None if seen.fetch_add(1, Ordering::SeqCst) == 0 => fake_smtp::Act::Slow(
                std::time::Duration::from_secs(600),
                vec!["220 mx.slow.test ESMTP".into()],
            ),
            None => fake_smtp::Act::Reply(vec!["220 mx.slow.test ESMTP".into()]),
            Some(cmd) => fake_smtp::standard(cmd),
        }),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (addr, stop, task) = api_server(
        smtp.addr.port(),
        dns,
        std::time::Duration::from_secs(900),
        dir.path(),
    )
    .await;
    let request = |email: &str| {
        let body = format!("{{\"emails\": [\"{email}\"]}}");
        format!(
            "POST /api/validate HTTP/1.1\r\nHost: t.test\r\nConnection: close\r\n\
             Authorization: Bearer api-token-0123456789\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    // The first caller sends, sees its response start, and leaves once its probe waits.
    // Blocking I/O off the test's runtime, which also runs the server and the fakes.
    let first_request = request("ann@slow.test");
    let (first, head) = blocking(move || {
        let mut first = TcpStream::connect(addr).unwrap();
        first.write_all(first_request.as_bytes()).unwrap();
        let mut head = [0u8; 12];
        first.read_exact(&mut head).unwrap();
        (first, head)
    })
    .await;
    assert_eq!(&head, b"HTTP/1.1 200");
    while sessions.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    drop(first);
    // The second caller is answered; without the turn given up it would wait ten minutes.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(http(
            addr,
            "POST",
            "/api/validate",
            &[
                ("Authorization", "Bearer api-token-0123456789"),
                ("Content-Type", "application/json"),
            ],
            "{\"emails\": [\"bob@slow.test\"]}",
        ));
    });
    let r = blocking(move || done_rx.recv_timeout(std::time::Duration::from_secs(120)))
        .await
        .expect("the second caller still waits for the first, gone caller's probe");
    let body = String::from_utf8_lossy(&r.body).to_string();
    assert_eq!(r.status, 200, "{body}");
    assert!(
        body.contains("bob@slow.test") && body.contains("\"mx\":\"mx.slow.test\""),
        "{body}"
    );
    stop.cancel();
    task.await.unwrap().unwrap();
}
