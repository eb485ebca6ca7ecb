//! The tracking server over real HTTP on loopback, with a real SQLite database.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

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
                 INSERT INTO outbox (id, prospect_id, email, company_key, status, mailbox, created_at, updated_at)
                 VALUES (5, 1, 'jane.doe@acme.test', 'acme', 'SENT', 'claire', 0, 0);",
            )
            .unwrap();
    }
    let stop = CancellationToken::new();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let cfg = ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data,
        secret: SECRET.to_vec(),
        api_token: api_token.map(str::to_string),
        verify: hailer::engine::verify::VerifyOptions::default(),
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
    })
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
    assert_eq!(replies[3].status, 404);
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

#[tokio::test]
async fn click_redirects_only_to_the_signed_url() {
    let srv = start(None).await;
    let addr = srv.addr;
    let good = token(TokenKind::Click, 5, Some("https://hailer.test/offer?x=1"));
    let open_as_click = token(TokenKind::Open, 5, None);
    let (ok, forged, wrong_kind) = blocking(move || {
        (
            http(addr, "GET", &format!("/c/{good}"), &[], ""),
            http(
                addr,
                "GET",
                &format!("/c/{}x", &good[..good.len() - 1]),
                &[],
                "",
            ),
            http(addr, "GET", &format!("/c/{open_as_click}"), &[], ""),
        )
    })
    .await;
    assert_eq!(ok.status, 302, "{}", ok.headers);
    assert!(
        ok.headers
            .contains("location: https://hailer.test/offer?x=1"),
        "{}",
        ok.headers
    );
    assert_eq!(forged.status, 404);
    assert_eq!(wrong_kind.status, 404);
    let store = srv.stop().await;
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM tracking_events WHERE kind = 'CLICK'"
        ),
        1
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM tracking_events"),
        1,
        "forged requests record nothing"
    );
}

#[tokio::test]
async fn one_click_unsubscribe_suppresses_at_once_and_twice_is_fine() {
    let srv = start(None).await;
    let addr = srv.addr;
    let t = token(TokenKind::Unsubscribe, 5, None);
    let data = srv.dir.path().join("data");
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
    assert!(String::from_utf8_lossy(&page.body).contains("method=\"post\""));
    assert_eq!((first.status, second.status), (200, 200));
    let store = srv.stop().await;
    let s = hailer::store::suppressions::blocking(store.conn(), "jane.doe@acme.test")
        .unwrap()
        .unwrap();
    assert_eq!(s.cause, "unsubscribed");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM suppressions"), 1);
}

#[tokio::test]
async fn api_needs_the_bearer_token_and_leaks_nothing() {
    let srv = start(Some("api-token-123")).await;
    let addr = srv.addr;
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
    assert!(none.body.is_empty() && wrong.body.is_empty());
    assert_eq!(health.status, 200);
    let h: serde_json::Value = serde_json::from_slice(&health.body).unwrap();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["database"], true);
    let s: serde_json::Value = serde_json::from_slice(&stats.body).unwrap();
    assert_eq!(s["outbox"]["SENT"], 1);
    assert_eq!(s["mailboxes"]["claire"]["sent"], 1);
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
