//! The Telegram client against a local HTTP server (axum on 127.0.0.1:0) that answers from a
//! script: retry schedule, 429 retry_after, 5xx retries, 4xx give-up, token never in errors.

mod common;

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

/// Retries exhausted on 429: the last problem says "Too Many Requests" once, as the API's
/// own description does.
#[tokio::test]
async fn a_429_that_never_ends_gives_up_saying_it_once() {
    let too_many = (
        429,
        serde_json::json!({"ok": false, "error_code": 429,
            "description": "Too Many Requests: retry after 0",
            "parameters": {"retry_after": 0}}),
    );
    let (url, _seen) = server(vec![too_many; 8]).await;
    let client = Telegram::new(&url, TOKEN, "42").with_base_delay(Duration::from_millis(10));
    let d = client.send("x").await;
    assert_eq!(
        d.outcome,
        Outcome::GaveUp("429 Too Many Requests: retry after 0".into())
    );
}

/// Telegram refuses a text over 4096 characters (400, never retried): the client cuts it, on a
/// character boundary, so an over-long alert still arrives. Astral characters count twice.
#[tokio::test]
async fn an_over_long_text_is_cut_to_the_api_limit() {
    let (url, seen) = server(vec![ok(), ok()]).await;
    let client = Telegram::new(&url, TOKEN, "42").with_base_delay(Duration::from_millis(10));
    let text = format!("start {}", "é".repeat(5000));
    let d = client.send(&text).await;
    assert_eq!(d.outcome, Outcome::Sent);
    let sent = seen.requests.lock().unwrap()[0].2["text"].clone();
    let sent = sent.as_str().unwrap();
    assert_eq!(sent.chars().count(), 4096);
    assert!(text.starts_with(sent.trim_end_matches('…')));
    let text = "🙂".repeat(3000);
    assert_eq!(client.send(&text).await.outcome, Outcome::Sent);
    let requests = seen.requests.lock().unwrap();
    let sent = requests[1].2["text"].as_str().unwrap();
    assert_eq!(
        sent.encode_utf16().count(),
        4095,
        "2047 emoji and the ellipsis"
    );
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
    // The cause, not only reqwest's "error sending request".
    assert!(
        problem.to_lowercase().contains("connection refused"),
        "{problem}"
    );
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

/// The daily summary on a clock (`daily_summary_at` in its time zone), as `hailer serve`
/// runs it: nothing before the hour, once after it, never twice the same day.
#[tokio::test]
async fn the_daily_summary_goes_out_once_when_its_hour_has_come() {
    use chrono::{DateTime, Utc};
    use hailer::engine::notify::daily::{Schedule, send_if_due};
    let (url, seen) = server(vec![ok(), ok()]).await;
    // A variable no other test reads.
    unsafe { std::env::set_var("HAILER_TEST_DAILY_TG_TOKEN", TOKEN) };
    let config = hailer::config::Config::from_toml(
        &format!(
            "[notify.telegram]\nbot_token_env = \"HAILER_TEST_DAILY_TG_TOKEN\"\nchat_id = \"42\"\n\
             api_url = \"{url}\"\ndaily_summary_at = \"18:00\"\nsummary_timezone = \"Europe/Paris\"\n"
        ),
        std::path::Path::new("config.toml"),
    )
    .unwrap();
    let schedule = Schedule::from_config(&config).unwrap().expect("scheduled");
    let dir = tempfile::tempdir().unwrap();
    drop(hailer::store::Store::open_in(dir.path()).unwrap());
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    let data = dir.path().to_path_buf();
    let (before, first, again, next_day) = tokio::task::spawn_blocking(move || {
        let before = send_if_due(&config, &data, &schedule, at("2026-12-04T16:59:00Z")).unwrap();
        let first = send_if_due(&config, &data, &schedule, at("2026-12-04T17:00:30Z"))
            .unwrap()
            .map(|(_, p)| p.wait(Duration::from_secs(30)));
        let again = send_if_due(&config, &data, &schedule, at("2026-12-04T21:00:00Z")).unwrap();
        let next_day = send_if_due(&config, &data, &schedule, at("2026-12-05T17:01:00Z"))
            .unwrap()
            .map(|(_, p)| p.wait(Duration::from_secs(30)));
        (before.is_some(), first, again.is_some(), next_day)
    })
    .await
    .unwrap();
    assert!(!before, "sent before 18:00 Paris time");
    assert_eq!(first.flatten().expect("delivered").outcome, Outcome::Sent);
    assert!(!again, "sent twice the same day");
    assert_eq!(
        next_day.flatten().expect("delivered").outcome,
        Outcome::Sent
    );
    let requests = seen.requests.lock().unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].2["chat_id"], "42");
    assert!(
        requests[0].2["text"]
            .as_str()
            .unwrap_or_default()
            .starts_with("hailer daily summary\nlast 24 h: sent 0,"),
        "{}",
        requests[0].2
    );
}

/// A send run that fails (its only mailbox has no password) sends the "FAILED" alert, and the
/// CLI waits for it before exiting.
#[tokio::test]
async fn a_failed_send_run_sends_its_alert() {
    let (url, seen) = server(vec![ok()]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[mailboxes.claire]\nfrom = \"Claire <claire@sender.test>\"\nsmtp_host = \"127.0.0.1\"\n\
             smtp_port = 1\npassword_env = \"HAILER_TEST_UNSET_PASSWORD\"\n\n\
             [notify.telegram]\nbot_token_env = \"HAILER_TEST_FAIL_TG_TOKEN\"\nchat_id = \"42\"\napi_url = \"{url}\"\n"
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let out = tokio::task::spawn_blocking(move || {
        assert_cmd::Command::cargo_bin("hailer")
            .unwrap()
            .env("HAILER_TEST_FAIL_TG_TOKEN", TOKEN)
            .env_remove("HAILER_TEST_UNSET_PASSWORD")
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(&data)
            .arg("send")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!out.status.success(), "{out:?}");
    let requests = seen.requests.lock().unwrap();
    assert_eq!(requests.len(), 1, "{out:?}");
    let text = requests[0].2["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(text.starts_with("hailer: send run FAILED: "), "{text}");
    assert!(text.contains("HAILER_TEST_UNSET_PASSWORD"), "{text}");
    assert!(!text.contains(TOKEN));
}

/// A failed send run whose alert does not go out says so on stderr, not only in the log file
/// nobody under cron reads: one the API refuses (a wrong chat_id) with the API's words, one
/// still waiting out a long retry_after when `send` stops waiting (30 s) as dropped.
#[tokio::test]
async fn a_send_alert_that_does_not_go_out_is_said_on_stderr() {
    let refused = (
        400,
        serde_json::json!({"ok": false, "error_code": 400,
            "description": "Bad Request: chat not found"}),
    );
    let slow = (
        429,
        serde_json::json!({"ok": false, "error_code": 429,
            "description": "Too Many Requests: retry after 300",
            "parameters": {"retry_after": 300}}),
    );
    for (answer, said) in [
        (
            refused,
            "rejected by the Telegram API (400): Bad Request: chat not found",
        ),
        (slow, "not delivered within 30 s"),
    ] {
        let (url, seen) = server(vec![answer]).await;
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[mailboxes.claire]\nfrom = \"Claire <claire@sender.test>\"\nsmtp_host = \"127.0.0.1\"\n\
                 smtp_port = 1\npassword_env = \"HAILER_TEST_UNSET_PASSWORD\"\n\n\
                 [notify.telegram]\nbot_token_env = \"HAILER_TEST_LOST_TG_TOKEN\"\nchat_id = \"42\"\napi_url = \"{url}\"\n"
            ),
        )
        .unwrap();
        let data = dir.path().join("data");
        let out = tokio::task::spawn_blocking(move || {
            assert_cmd::Command::cargo_bin("hailer")
                .unwrap()
                .env("HAILER_TEST_LOST_TG_TOKEN", TOKEN)
                .env_remove("HAILER_TEST_UNSET_PASSWORD")
                .arg("--config")
                .arg(&config)
                .arg("--data-dir")
                .arg(&data)
                .arg("send")
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        assert_eq!(seen.requests.lock().unwrap().len(), 1, "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(said), "{stderr}");
        assert!(!stderr.contains(TOKEN), "{stderr}");
    }
}

/// `hailer serve` with a daily summary stuck in the client's retries (the API asks for 300 s
/// pauses) still stops promptly on SIGTERM: the summary's wait is cancelled with the server.
#[tokio::test]
async fn serve_stops_promptly_while_the_daily_summary_is_retrying() {
    let too_many = (
        429,
        serde_json::json!({"ok": false, "error_code": 429,
            "description": "Too Many Requests: retry after 300",
            "parameters": {"retry_after": 300}}),
    );
    let (url, seen) = server(vec![too_many; 8]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        &config,
        format!(
            "[tracking]\nbase_url = \"http://127.0.0.1:{port}\"\nsecret_env = \"HAILER_TEST_SERVE_SECRET\"\n\n\
             [notify.telegram]\nbot_token_env = \"HAILER_TEST_SERVE_TG_TOKEN\"\nchat_id = \"42\"\n\
             api_url = \"{url}\"\ndaily_summary_at = \"00:00\"\nsummary_timezone = \"UTC\"\n"
        ),
    )
    .unwrap();
    // The database exists before the server and the summary open it at the same moment.
    drop(hailer::store::Store::open_in(&dir.path().join("data")).unwrap());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hailer"))
        .env(
            "HAILER_TEST_SERVE_SECRET",
            "0123456789abcdef0123456789abcdef",
        )
        .env("HAILER_TEST_SERVE_TG_TOKEN", TOKEN)
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The summary is due at once (00:00 has passed); wait for its first attempt.
    let start = Instant::now();
    while seen.requests.lock().unwrap().is_empty() {
        if start.elapsed() > Duration::from_secs(30) || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!("hailer serve never tried to send the daily summary");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    common::signal(child.id(), "TERM");
    // A liveness bound, kept generous: before the fix it hung for about 7 minutes.
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hailer serve still running 10 s after SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "hailer serve exited with {status}");
}

/// `hailer serve` with a daily summary whose bot token variable is unset says at start that
/// the summary cannot go out, naming the variable: announcing "daily summary at 00:00" alone,
/// it left the failure to the log file, every 15 minutes.
#[test]
fn serve_says_at_start_that_the_daily_summary_has_no_bot_token() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[tracking]\nsecret_env = \"HAILER_TEST_NOTOKEN_SECRET\"\n\n\
         [notify.telegram]\nbot_token_env = \"HAILER_TEST_UNSET_TG_TOKEN\"\nchat_id = \"42\"\n\
         api_url = \"http://127.0.0.1:9\"\ndaily_summary_at = \"00:00\"\n",
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hailer"))
        .env_remove("HAILER_CONFIG")
        .env_remove("HAILER_DATA_DIR")
        .env_remove("HAILER_TEST_UNSET_TG_TOKEN")
        .env(
            "HAILER_TEST_NOTOKEN_SECRET",
            "0123456789abcdef0123456789abcdef",
        )
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    while !said.contains("listening on") {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break;
        }
        said.push_str(&line);
    }
    common::signal(child.id(), "TERM");
    assert!(child.wait().unwrap().success());
    let summary_line = said
        .lines()
        .find(|l| l.contains("daily summary at 00:00"))
        .unwrap_or_default();
    assert!(
        summary_line.contains("cannot go out")
            && summary_line.contains("$HAILER_TEST_UNSET_TG_TOKEN"),
        "{said}"
    );
}

/// A daily-summary config for the server at `url`, its token in `var`, and a data dir.
fn daily_setup(
    url: &str,
    var: &str,
) -> (
    hailer::config::Config,
    hailer::engine::notify::daily::Schedule,
    tempfile::TempDir,
) {
    // Each test names its own variable; no other test reads it.
    unsafe { std::env::set_var(var, TOKEN) };
    let config = hailer::config::Config::from_toml(
        &format!(
            "[notify.telegram]\nbot_token_env = \"{var}\"\nchat_id = \"42\"\n\
             api_url = \"{url}\"\ndaily_summary_at = \"18:00\"\nsummary_timezone = \"UTC\"\n"
        ),
        std::path::Path::new("config.toml"),
    )
    .unwrap();
    let schedule = hailer::engine::notify::daily::Schedule::from_config(&config)
        .unwrap()
        .expect("scheduled");
    let dir = tempfile::tempdir().unwrap();
    drop(hailer::store::Store::open_in(dir.path()).unwrap());
    (config, schedule, dir)
}

/// A summary still in the client's retries when the loop stops waiting keeps its day and is
/// waited on again: it goes out once, never queued a second time.
#[tokio::test]
async fn a_slow_daily_summary_is_waited_for_not_sent_twice() {
    use hailer::engine::notify::daily::{Daily, Next};
    let (url, seen) = server(vec![
        (
            429,
            serde_json::json!({"ok": false, "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1}}),
        ),
        ok(),
        ok(),
        ok(),
    ])
    .await;
    let (config, schedule, dir) = daily_setup(&url, "HAILER_TEST_SLOW_DAILY_TG_TOKEN");
    let data = dir.path().to_path_buf();
    let nexts = tokio::task::spawn_blocking(move || {
        let stop = tokio_util::sync::CancellationToken::new();
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-04T18:05:00Z")
            .unwrap()
            .to_utc();
        let mut daily = Daily::default();
        let mut round = |wait| {
            daily
                .round(&config, &data, &schedule, now, wait, &stop)
                .unwrap()
        };
        // The first round gives up waiting during the 1 s retry_after; the second waits it out.
        let first = round(Duration::from_millis(200));
        let second = round(Duration::from_secs(20));
        let third = round(Duration::from_secs(1));
        (first, second, third)
    })
    .await
    .unwrap();
    assert_eq!(nexts.0, Next::StillWaiting);
    assert_eq!(nexts.1, Next::Tomorrow);
    assert_eq!(nexts.2, Next::Tomorrow);
    // Let a second summary, if one was queued, reach the server.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        seen.requests.lock().unwrap().len(),
        2,
        "a 429, then one 200"
    );
}

/// A summary the API refuses (400 here) keeps its day: the same request would be refused every
/// time, so it is not retried every 15 minutes.
#[tokio::test]
async fn a_refused_daily_summary_is_not_retried() {
    use hailer::engine::notify::daily::{Daily, Next};
    let (url, seen) = server(vec![
        (
            400,
            serde_json::json!({"ok": false, "error_code": 400,
                "description": "Bad Request: chat not found"}),
        ),
        ok(),
        ok(),
    ])
    .await;
    let (config, schedule, dir) = daily_setup(&url, "HAILER_TEST_REFUSED_DAILY_TG_TOKEN");
    let data = dir.path().to_path_buf();
    let nexts = tokio::task::spawn_blocking(move || {
        let stop = tokio_util::sync::CancellationToken::new();
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-04T18:05:00Z")
            .unwrap()
            .to_utc();
        let mut daily = Daily::default();
        (0..3)
            .map(|_| {
                daily
                    .round(
                        &config,
                        &data,
                        &schedule,
                        now,
                        Duration::from_secs(20),
                        &stop,
                    )
                    .unwrap()
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert_eq!(nexts, [Next::Tomorrow, Next::Tomorrow, Next::Tomorrow]);
    assert_eq!(seen.requests.lock().unwrap().len(), 1);
}

/// `[tls] ca_file` is trusted for the Bot API too: an HTTPS endpoint with a certificate from
/// the rig's private CA is reached with the CA, and refused without it. The endpoint is a
/// minimal HTTPS responder on 127.0.0.1 with the rig's server certificate.
#[tokio::test]
async fn the_configured_ca_is_trusted_for_an_https_bot_api() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let Some(rig) = common::rig::Rig::get() else {
        return;
    };
    let tls = rig.dir.join("tls");
    let chain: Vec<CertificateDer> = CertificateDer::pem_file_iter(tls.join("server-chain.pem"))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(tls.join("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = Arc::new(Mutex::new(0));
    let count = served.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (acceptor, count) = (acceptor.clone(), count.clone());
            tokio::spawn(async move {
                // A failed handshake (the client without the CA) just ends this connection.
                let Ok(mut s) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = vec![0u8; 16 * 1024];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                *count.lock().unwrap() += 1;
                let body = r#"{"ok":true,"result":{"message_id":1}}"#;
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(reply.as_bytes()).await;
                let _ = s.shutdown().await;
            });
        }
    });
    let url = format!("https://localhost:{port}");
    let ca = hailer::net::tls::load_ca_file(&rig.ca_file()).unwrap();
    let trusted = Telegram::new(&url, TOKEN, "42")
        .with_base_delay(Duration::from_millis(10))
        .with_extra_ca(&ca)
        .unwrap();
    assert_eq!(
        trusted.send("hello").await.outcome,
        Outcome::Sent,
        "with the CA"
    );
    let plain = Telegram::new(&url, TOKEN, "42").with_base_delay(Duration::from_millis(10));
    let outcome = plain.send("hello").await.outcome;
    assert!(
        matches!(&outcome, Outcome::GaveUp(p) if p.contains("certificate")),
        "without the CA: {outcome:?}"
    );
    assert_eq!(
        *served.lock().unwrap(),
        1,
        "only the client with the CA got through"
    );
}
