//! The Telegram client against a local HTTP server (axum on 127.0.0.1:0) that answers from a
//! script: retry schedule, 429 retry_after, 5xx retries, 4xx give-up, token never in errors.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use hailer::engine::notify::telegram::{Outcome, Telegram, backoff};

const TOKEN: &str = "123456:SECRET-bot-token";

#[derive(Clone, Default)]
struct Seen {
    requests: Arc<Mutex<Vec<(Instant, String, serde_json::Value)>>>,
    script: Arc<Mutex<Vec<(u16, serde_json::Value)>>>,
}

async fn answer(
    State(seen): State<Seen>,
    Path(rest): Path<String>,
    body: String,
) -> impl IntoResponse {
    let json = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
    seen.requests
        .lock()
        .unwrap()
        .push((Instant::now(), rest, json));
    let mut script = seen.script.lock().unwrap();
    let (status, reply) = if script.is_empty() {
        (
            500,
            serde_json::json!({"ok": false, "description": "script exhausted"}),
        )
    } else {
        script.remove(0)
    };
    (StatusCode::from_u16(status).unwrap(), axum::Json(reply))
}

/// A server answering `script` in order; returns its base URL and what it saw.
async fn server(script: Vec<(u16, serde_json::Value)>) -> (String, Seen) {
    let seen = Seen::default();
    *seen.script.lock().unwrap() = script;
    let app = Router::new()
        .route("/{*rest}", post(answer))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

fn ok() -> (u16, serde_json::Value) {
    (
        200,
        serde_json::json!({"ok": true, "result": {"message_id": 1}}),
    )
}

#[tokio::test]
async fn retries_429_with_retry_after_then_502_with_backoff_then_succeeds() {
    let (url, seen) = server(vec![
        (
            429,
            serde_json::json!({"ok": false, "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1}}),
        ),
        (
            502,
            serde_json::json!({"ok": false, "description": "Bad Gateway"}),
        ),
        ok(),
    ])
    .await;
    let base = Duration::from_millis(50);
    let client = Telegram::new(&url, TOKEN, "42").with_base_delay(base);
    let d = client.send("send run finished").await;
    assert_eq!(d.outcome, Outcome::Sent);
    assert_eq!(d.attempts, 3);
    // The 429 waits what the API asked; the 502 (second retry) waits base × 2.
    assert_eq!(d.waits, [Duration::from_secs(1), backoff(base, 2)]);
    let reqs = seen.requests.lock().unwrap();
    assert_eq!(reqs.len(), 3, "one request per attempt");
    for (_, path, body) in reqs.iter() {
        assert_eq!(path, &format!("bot{TOKEN}/sendMessage"));
        assert_eq!(body["chat_id"], "42");
        assert_eq!(body["text"], "send run finished");
    }
    // The server saw the pauses: each gap is at least the wait the client reported.
    for (i, w) in d.waits.iter().enumerate() {
        let gap = reqs[i + 1].0 - reqs[i].0;
        assert!(gap >= *w, "gap {i}: {gap:?} < {w:?}");
    }
}

#[tokio::test]
async fn other_4xx_gives_up_at_once_with_the_api_description() {
    let (url, seen) = server(vec![(
        400,
        serde_json::json!({"ok": false, "error_code": 400,
            "description": "Bad Request: chat not found"}),
    )])
    .await;
    let client = Telegram::new(&url, TOKEN, "nope").with_base_delay(Duration::from_millis(10));
    let d = client.send("x").await;
    assert_eq!(
        d.outcome,
        Outcome::Rejected {
            status: 400,
            description: "Bad Request: chat not found".into()
        }
    );
    assert_eq!((d.attempts, d.waits.len()), (1, 0));
    assert_eq!(seen.requests.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn persistent_5xx_stops_after_three_retries_on_the_doubling_schedule() {
    let (url, seen) = server(vec![]).await; // every answer is 500
    let base = Duration::from_millis(20);
    let client = Telegram::new(&url, TOKEN, "42").with_base_delay(base);
    let d = client.send("x").await;
    assert!(
        matches!(&d.outcome, Outcome::GaveUp(p) if p.contains("script exhausted")),
        "{d:?}"
    );
    assert_eq!(d.attempts, 4);
    assert_eq!(
        d.waits,
        [base, base * 2, base * 4],
        "2 s, 4 s, 8 s scaled to the base"
    );
    assert_eq!(seen.requests.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn network_errors_never_show_the_token() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Telegram::new(&format!("http://127.0.0.1:{port}"), TOKEN, "42")
        .with_base_delay(Duration::from_millis(1));
    let d = client.send("x").await;
    let Outcome::GaveUp(problem) = &d.outcome else {
        panic!("{d:?}")
    };
    assert!(!problem.contains("SECRET"), "{problem}");
    assert!(!format!("{d:?}").contains("SECRET"));
}

#[tokio::test]
async fn background_queue_delivers_without_blocking_the_caller() {
    let (url, seen) = server(vec![ok()]).await;
    let client = Telegram::new(&url, TOKEN, "42");
    let pending = hailer::engine::notify::enqueue_with(client, "queued".into()).expect("queued");
    let d = tokio::task::spawn_blocking(move || pending.wait(Duration::from_secs(30)))
        .await
        .unwrap()
        .expect("delivered");
    assert_eq!(d.outcome, Outcome::Sent);
    assert_eq!(seen.requests.lock().unwrap()[0].2["text"], "queued");
}
