//! The tracking HTTP server (axum). Event writes are batched by one writer thread that owns
//! its SQLite connection, so the pixel answers without waiting on the disk; the batch is
//! flushed at least every 100 ms and on shutdown, so a clean stop loses nothing.
//! Unsubscribes are written synchronously: the suppression holds before the answer.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use rusqlite::OptionalExtension;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::token::{Signer, TokenKind};
use crate::engine::verify::VerifyOptions;
use crate::store::outbox::Status;
use crate::store::{self, Store, suppressions};

/// A transparent 1×1 GIF.
pub const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// User agents of image proxies, prefetchers and security scanners: their opens are
/// recorded but flagged, so open rates can be shown with and without them.
const MACHINE_AGENTS: &[&str] = &[
    "googleimageproxy",
    "ggpht.com",
    "yahoomailproxy",
    "barracuda",
    "mimecast",
    "proofpoint",
    "messagelabs",
    "symantec",
    "trendmicro",
    "python-requests",
    "go-http-client",
    "curl/",
    "wget/",
    "bot",
    "spider",
    "crawler",
    "preview",
];

/// Apple Mail Privacy Protection fetches through Apple's proxies with a bare "Mozilla/5.0".
pub fn is_machine(user_agent: Option<&str>) -> bool {
    match user_agent.map(str::trim) {
        None | Some("") | Some("Mozilla/5.0") => true,
        Some(ua) => {
            let ua = ua.to_ascii_lowercase();
            MACHINE_AGENTS.iter().any(|m| ua.contains(m))
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub outbox_id: i64,
    pub kind: &'static str,
    pub url: Option<String>,
    pub user_agent: Option<String>,
    pub machine: bool,
    pub at: i64,
}

/// What the server stored, by kind: events for rows never sent and repeated unsubscribes are
/// not stored, so these are what `/api/stats` and the Outbox will count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stored {
    pub opens: u64,
    /// Opens by people (image proxies and scanners left out).
    pub opens_human: u64,
    pub clicks: u64,
    /// Clicks by people (link scanners left out).
    pub clicks_human: u64,
    /// Clicks stored as people's (in `clicks_human`, maybe of an earlier batch) and found
    /// since to be a link scanner's, by the clicks that followed them (see [`BURST_SECS`]).
    pub clicks_reclassified: u64,
    pub unsubscribes: u64,
}

impl std::ops::AddAssign for Stored {
    fn add_assign(&mut self, other: Stored) {
        self.opens += other.opens;
        self.opens_human += other.opens_human;
        self.clicks += other.clicks;
        self.clicks_human += other.clicks_human;
        self.clicks_reclassified += other.clicks_reclassified;
        self.unsubscribes += other.unsubscribes;
    }
}

impl Stored {
    fn add(&mut self, kind: &str, machine: bool) {
        match kind {
            "OPEN" => {
                self.opens += 1;
                self.opens_human += u64::from(!machine);
            }
            "CLICK" => {
                self.clicks += 1;
                self.clicks_human += u64::from(!machine);
            }
            "UNSUBSCRIBE" => self.unsubscribes += 1,
            _ => {}
        }
    }

    pub fn total(&self) -> u64 {
        self.opens + self.clicks + self.unsubscribes
    }

    /// Clicks by people, those found later to be a scanner's taken off.
    pub fn clicks_by_people(&self) -> u64 {
        self.clicks_human.saturating_sub(self.clicks_reclassified)
    }

    /// "12 opens (9 by people) · 3 clicks (2 by people) · 1 unsubscribe".
    pub fn line(&self) -> String {
        format!(
            "{} ({} by people) · {} ({} by people) · {}",
            crate::text::count(self.opens, "open", "opens"),
            self.opens_human,
            crate::text::count(self.clicks, "click", "clicks"),
            self.clicks_by_people(),
            crate::text::count(self.unsubscribes, "unsubscribe", "unsubscribes")
        )
    }
}

/// Told, from the event writer's thread, what each batch stored (the TUI's Activity shows it).
pub type OnStored = Box<dyn FnMut(Stored) + Send>;

#[derive(Clone)]
struct AppState {
    /// `None`: tracking is off and its routes are not served.
    signer: Option<Signer>,
    mailboxes: Arc<[String]>,
    events: mpsc::Sender<NewEvent>,
    data_dir: PathBuf,
    api_token: Option<Arc<str>>,
    verify: Arc<VerifyOptions>,
    /// One `/api/validate` run probes at a time: each run keeps its own per-MX-host limits,
    /// so runs side by side would open as many sessions to one host as there are callers.
    validating: Arc<tokio::sync::Semaphore>,
}

pub struct ServeConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// The tracking links' signing key; `None` serves the API alone (no /o, /c, /u).
    pub secret: Option<Vec<u8>>,
    pub api_token: Option<String>,
    /// The configured mailboxes: `/api/stats` lists each, those that sent nothing yet too.
    pub mailboxes: Vec<String>,
    /// How `POST /api/validate` verifies (from `[verify]` and `[dns]`).
    pub verify: VerifyOptions,
    /// The path of `[tracking] base_url` ("/hailer"), when it has one: every route is served
    /// under it too, so a reverse proxy that passes the path on as it came works as well as
    /// one that strips it.
    pub base_path: Option<String>,
}

/// The path of a base URL as a prefix to serve under ("https://t.x.test/hailer/" gives
/// "/hailer"); `None` for no path, or one a route cannot be nested under (only unreserved
/// characters are taken: letters, digits, `-._~`).
pub fn base_path(base_url: &str) -> Option<String> {
    let url = url::Url::parse(base_url).ok()?;
    let path = url.path().trim_end_matches('/');
    let plain = |seg: &str| {
        !seg.is_empty()
            && seg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
    };
    (!path.is_empty() && path.split('/').skip(1).all(plain)).then(|| path.to_string())
}

impl ServeConfig {
    /// From `[tracking]` (the signing key), `[api]` (the bearer token; unset or empty: API off)
    /// and `[verify]`/`[dns]`. Errors name the missing setting or variable, never a value.
    /// The second item is a warning to show (API token variable named but not set, tracking
    /// off).
    ///
    /// Tracking is on when `[tracking]` names a key or a `base_url` (links are being made, so
    /// a missing key is an error); with neither, the server is the API alone, and with no API
    /// token either there is nothing to serve.
    pub fn from_config(
        config: &crate::config::Config,
        data_dir: PathBuf,
        listen: SocketAddr,
    ) -> Result<(ServeConfig, Option<String>), String> {
        let tracking = config.tracking.secret_env.is_some() || config.tracking.base_url.is_some();
        let secret = if tracking {
            Some(super::links::secret_from_env(config)?)
        } else {
            None
        };
        let mut warning = None;
        let api_token = super::links::api_token_from_env(config)?;
        if api_token.is_none()
            && let Some(var) = config.api.token_env.as_deref()
        {
            warning = Some(format!("${var} (API token) is not set; the API stays off"));
        }
        match (&secret, &api_token) {
            (None, None) => {
                return Err(format!(
                    "nothing to serve: tracking needs [tracking] secret_env, the API [api] \
                     token_env{}",
                    warning.map(|w| format!(" ({w})")).unwrap_or_default()
                ));
            }
            (None, Some(_)) => {
                warning = Some(
                    "tracking is off ([tracking] secret_env is not set): serving the API only"
                        .into(),
                );
            }
            _ => {}
        }
        let mut verify = VerifyOptions::from_config(config);
        // An API caller waits on the answer: no 60 s pauses for greylisted addresses.
        verify.retries = 0;
        Ok((
            ServeConfig {
                listen,
                data_dir,
                secret,
                api_token,
                mailboxes: config.mailboxes.keys().cloned().collect(),
                verify,
                base_path: config.tracking.base_url.as_deref().and_then(base_path),
            },
            warning,
        ))
    }
}

/// Bind, serve until `stop` is cancelled, then flush pending events. Returns the bound address
/// through `bound` as soon as it listens (tests bind port 0).
pub async fn serve(
    cfg: ServeConfig,
    stop: CancellationToken,
    bound: Option<tokio::sync::oneshot::Sender<SocketAddr>>,
) -> anyhow::Result<()> {
    serve_with(cfg, stop, bound, None).await
}

/// [`serve`], telling `on_stored` what each batch of events stored.
pub async fn serve_with(
    cfg: ServeConfig,
    stop: CancellationToken,
    bound: Option<tokio::sync::oneshot::Sender<SocketAddr>>,
    on_stored: Option<OnStored>,
) -> anyhow::Result<()> {
    // Fail before listening if the database cannot be opened.
    drop(Store::open_in(&cfg.data_dir)?);
    let (tx, rx) = mpsc::channel::<NewEvent>(65_536);
    let writer_dir = cfg.data_dir.clone();
    let writer = std::thread::spawn(move || {
        write_events(&writer_dir, rx, Duration::from_secs(10), on_stored)
    });
    let state = AppState {
        signer: cfg.secret.as_deref().map(Signer::new),
        mailboxes: cfg.mailboxes.into(),
        events: tx,
        data_dir: cfg.data_dir,
        api_token: cfg.api_token.map(Arc::from),
        verify: Arc::new(cfg.verify),
        validating: Arc::new(tokio::sync::Semaphore::new(1)),
    };
    let app = router(state, cfg.base_path.as_deref());
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
                " (another hailer serve, or a TUI with serve_in_tui? `[tracking] listen`, or \
                 `hailer serve --listen`, picks another)"
            } else {
                ""
            };
            anyhow::anyhow!("cannot listen on {}: {e}{hint}", cfg.listen)
        })?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "tracking server listening");
    if let Some(b) = bound {
        let _ = b.send(addr);
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await?;
    // The router (and its senders) is gone: the writer drains what is left and stops.
    tokio::task::spawn_blocking(move || writer.join())
        .await?
        .map_err(|_| anyhow::anyhow!("event writer panicked"))??;
    Ok(())
}

impl AppState {
    /// A tracking token's claims, when it is one this server signed.
    fn claims(&self, token: &str) -> Option<super::token::Claims> {
        self.signer.as_ref()?.verify(token)
    }
}

fn router(state: AppState, base_path: Option<&str>) -> Router {
    // The API's token is checked before any handler runs, so no body (validate takes up to
    // 32 MiB) is read for a caller without it.
    let api = Router::new()
        .route("/api/health", get(health))
        .route("/api/stats", get(stats))
        .route(
            "/api/validate",
            post(validate).layer(DefaultBodyLimit::max(32 * 1024 * 1024)),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_token,
        ));
    let tracking = if state.signer.is_some() {
        Router::new()
            .route("/o/{file}", get(open))
            .route("/c/{token}", get(click))
            .route("/u/{token}", get(unsubscribe_page).post(unsubscribe))
    } else {
        Router::new()
    };
    let routes = tracking.merge(api);
    let routes = match base_path {
        Some(prefix) => routes.clone().nest(prefix, routes),
        None => routes,
    };
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// An error of the API as a JSON body, `{"error": "…"}`, as `/api/validate` gives its own.
pub(super) fn api_error(status: StatusCode, text: impl Into<String>) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "error": text.into() })),
    )
        .into_response()
}

/// An unknown path: under /api/ a JSON error naming it (a bare 404 read like "API off"),
/// elsewhere an empty 404.
async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        api_error(
            StatusCode::NOT_FOUND,
            format!(
                "no such endpoint: {} (there are GET /api/health, GET /api/stats, POST \
                 /api/validate)",
                uri.path()
            ),
        )
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        api_error(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} is not allowed on {}", uri.path()),
        )
    } else {
        StatusCode::METHOD_NOT_ALLOWED.into_response()
    }
}

async fn require_token(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match authorized(&state, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(status) => deny(status),
    }
}

/// The event writer: batches of up to 4096 events (or 100 ms) per transaction. A batch that
/// cannot be stored (the database locked past its busy timeout by a long write elsewhere, a
/// full disk) is kept and retried with a growing pause, never dropped; requests keep queueing
/// meanwhile (the channel, then back-pressure). Once the server stops, a batch that still
/// fails after `GIVE_UP_AFTER_STOP` attempts is reported as an error with its size.
fn write_events(
    data_dir: &std::path::Path,
    mut rx: mpsc::Receiver<NewEvent>,
    busy_timeout: Duration,
    mut on_stored: Option<OnStored>,
) -> anyhow::Result<()> {
    const GIVE_UP_AFTER_STOP: u32 = 10;
    let mut store = Store::open_in(data_dir)?;
    store.conn().busy_timeout(busy_timeout)?;
    let mut batch: Vec<NewEvent> = Vec::with_capacity(1024);
    loop {
        if batch.is_empty() {
            match rx.blocking_recv() {
                Some(first) => batch.push(first),
                None => return Ok(()),
            }
        }
        let deadline = std::time::Instant::now() + Duration::from_millis(100);
        while batch.len() < 4096 && std::time::Instant::now() < deadline {
            match rx.try_recv() {
                Ok(e) => batch.push(e),
                Err(mpsc::error::TryRecvError::Empty) => {
                    std::thread::sleep(Duration::from_millis(2))
                }
                Err(mpsc::error::TryRecvError::Disconnected) => break,
            }
        }
        let mut pause = Duration::from_millis(100);
        let mut failures = 0u32;
        loop {
            let e = match insert_events(&mut store, &batch) {
                Ok(stored) => {
                    if failures > 0 {
                        // A lock that held the batch back was waited out.
                        store::forget_lock();
                    }
                    if let Some(tell) = on_stored.as_mut() {
                        tell(stored);
                    }
                    break;
                }
                Err(e) => e,
            };
            failures += 1;
            tracing::warn!(
                events = batch.len(),
                attempt = failures,
                "storing events failed, retrying: {e}"
            );
            if rx.is_closed() && failures >= GIVE_UP_AFTER_STOP {
                return Err(anyhow::anyhow!(
                    "{} tracking events not stored: {e}",
                    batch.len()
                ));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(5));
        }
        batch.clear();
    }
}

/// An outbox row whose message a server accepted ([`Status::was_accepted`]), or with a send
/// time. Opens and clicks count for these rows only: tokens are also in dry-run `.eml` files
/// and previews, and opening one must not make `/api/stats` show opens of a message nobody
/// was sent.
static ROW_SENT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "(sent_at IS NOT NULL OR status IN ({}))",
        Status::sql_list(Status::was_accepted)
    )
});

/// [`ROW_SENT`], or a row that may have reached its recipient
/// ([`Status::may_have_reached`]). An unsubscribe is honoured for these.
static ROW_MAY_HAVE_REACHED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "(sent_at IS NOT NULL OR status IN ({}))",
        Status::sql_list(Status::may_have_reached)
    )
});

/// An open or click this soon after the row was sent is the receiving side's machinery, not
/// its reader: security gateways (Microsoft Safe Links, Mimecast, Proofpoint, Barracuda)
/// fetch every image and follow every link as the message is delivered, often with a
/// browser's user agent, so the agent alone does not tell them.
pub const AT_DELIVERY_SECS: i64 = 30;

/// Clicks on two different links of one message this close together are a scanner walking
/// the message's links: a person's click opens a page, and the next one comes after reading.
/// Every click of the burst is flagged, the first one too.
pub const BURST_SECS: i64 = 2;

/// One batch in one transaction: all stored, or none (so a retry never duplicates). An open
/// or click on a row that was not sent (see [`ROW_SENT`]) is dropped here, off the request's
/// path; an unsubscribe was already checked by its handler, and is stored once per row: a
/// mail provider retrying its POST, or a second press of the page's button, is the same
/// request, not a second unsubscribe. An open or click gets its machine flag here too when
/// its timing gives a scanner away ([`AT_DELIVERY_SECS`], [`BURST_SECS`]).
fn insert_events(store: &mut Store, batch: &[NewEvent]) -> Result<Stored, store::StoreError> {
    static INSERT: LazyLock<String> = LazyLock::new(|| {
        format!(
            "INSERT INTO tracking_events (outbox_id, kind, url, user_agent, machine, created_at)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6
             WHERE CASE WHEN ?2 = 'UNSUBSCRIBE'
                   THEN NOT EXISTS (SELECT 1 FROM tracking_events
                                    WHERE outbox_id = ?1 AND kind = 'UNSUBSCRIBE')
                   ELSE EXISTS (SELECT 1 FROM outbox WHERE id = ?1 AND {}) END",
            *ROW_SENT
        )
    });
    static TIMING: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT COALESCE((SELECT ?2 - sent_at < {AT_DELIVERY_SECS} FROM outbox WHERE id = ?1), 0),
                    ?4 = 'CLICK' AND EXISTS (
                        SELECT 1 FROM tracking_events
                        WHERE outbox_id = ?1 AND kind = 'CLICK' AND url IS NOT ?3
                          AND created_at >= ?2 - {BURST_SECS})"
        )
    });
    static RECLASSIFY: LazyLock<String> = LazyLock::new(|| {
        format!(
            "UPDATE tracking_events SET machine = 1
             WHERE outbox_id = ?1 AND kind = 'CLICK' AND machine = 0
               AND created_at >= ?2 - {BURST_SECS}"
        )
    });
    let tx = store.write_tx()?;
    let mut stored = Stored::default();
    {
        let mut insert = tx.prepare_cached(&INSERT)?;
        let mut timing = tx.prepare_cached(&TIMING)?;
        let mut reclassify = tx.prepare_cached(&RECLASSIFY)?;
        for e in batch {
            let (at_delivery, burst) = if e.kind == "UNSUBSCRIBE" {
                (false, false)
            } else {
                timing.query_row(rusqlite::params![e.outbox_id, e.at, e.url, e.kind], |r| {
                    Ok((r.get::<_, bool>(0)?, r.get::<_, bool>(1)?))
                })?
            };
            let machine = e.machine || at_delivery || burst;
            let n = insert.execute(rusqlite::params![
                e.outbox_id,
                e.kind,
                e.url,
                e.user_agent,
                machine,
                e.at
            ])?;
            if n == 1 {
                stored.add(e.kind, machine);
                if burst {
                    let earlier = reclassify.execute(rusqlite::params![e.outbox_id, e.at])?;
                    stored.clicks_reclassified += earlier as u64;
                }
            }
        }
    }
    tx.commit()?;
    Ok(stored)
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect())
}

async fn record(
    state: &AppState,
    outbox_id: i64,
    kind: &'static str,
    url: Option<String>,
    headers: &HeaderMap,
) {
    let ua = user_agent(headers);
    let event = NewEvent {
        outbox_id,
        kind,
        url,
        machine: is_machine(ua.as_deref()),
        user_agent: ua,
        at: store::now_ts(),
    };
    if state.events.send(event).await.is_err() {
        tracing::error!("event writer stopped; event lost");
    }
}

/// `get` routes also answer HEAD (`curl -I`, link checkers): with the same status and
/// headers, but it is nobody opening or clicking, so only a GET is recorded.
async fn open(
    State(state): State<AppState>,
    method: Method,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let token = file.strip_suffix(".gif").unwrap_or(&file);
    // A damaged token still gets the pixel (with a 404, and nothing recorded): a mail
    // program shows a broken-image icon for anything that is not an image.
    let status = match state.claims(token) {
        Some(c) if c.kind == TokenKind::Open => {
            if method == Method::GET {
                record(&state, c.outbox_id, "OPEN", None, &headers).await;
            }
            StatusCode::OK
        }
        _ => StatusCode::NOT_FOUND,
    };
    (
        status,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/gif")),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store, no-cache, must-revalidate, max-age=0"),
            ),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
            (header::EXPIRES, HeaderValue::from_static("0")),
        ],
        PIXEL,
    )
        .into_response()
}

async fn click(
    State(state): State<AppState>,
    method: Method,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    match state.claims(&token) {
        Some(c) if c.kind == TokenKind::Click => {
            let url = c.url.unwrap_or_default();
            // The link rewriter takes `HTTPS://…` as written: the scheme compares without case.
            let scheme = url.get(..8).unwrap_or(&url).to_ascii_lowercase();
            if !(scheme.starts_with("https://") || scheme.starts_with("http://")) {
                return invalid_link();
            }
            // A URL no Location header can carry (a line break) is refused before it is
            // counted: a click recorded for a page nobody reached would be a false one.
            let Some(location) = location(&url) else {
                return invalid_link();
            };
            if method == Method::GET {
                record(&state, c.outbox_id, "CLICK", Some(url.clone()), &headers).await;
            }
            // 302 as the issue and mail clients expect; the target is the signed URL only.
            (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
        }
        _ => invalid_link(),
    }
}

/// `url` as a Location header carries it. The header is a URI, in ASCII, so a URL written
/// with Unicode (`https://café.test/été`, a raw HTML link in a message) goes in the form a
/// browser sends: the host in IDNA (punycode), other characters percent-encoded. An ASCII URL
/// goes as written. `None` for a control character (a line break): no header may hold one.
fn location(url: &str) -> Option<HeaderValue> {
    if url.chars().any(char::is_control) {
        return None;
    }
    // Not `HeaderValue::from_str` alone: it takes UTF-8 bytes too (obs-text), which a client
    // may read as Latin-1 or refuse.
    if url.is_ascii() {
        return HeaderValue::from_str(url).ok();
    }
    let ascii = match url::Url::parse(url) {
        Ok(parsed) => parsed.to_string(),
        Err(_) => url
            .bytes()
            .map(|b| {
                if b.is_ascii() {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect(),
    };
    HeaderValue::from_str(&ascii).ok()
}

/// A damaged or unknown click link: a page that says so, not a blank one (the person
/// clicked a link in a message and deserves a word on why nothing opened).
fn invalid_link() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Link not valid</title>\
             </head><body><p>This link is not valid: it may have been cut or changed on its \
             way (some mail programs break long links).</p>\
             <p>Reply to the message to ask for the page it pointed to.</p></body></html>",
        ),
    )
        .into_response()
}

/// The page a person reaches from the https link. Its form posts back to the page's own URL
/// (no `action`): behind a proxy under a path (`base_url = https://x.test/hailer`) an absolute
/// `/u/…` would post outside hailer.
async fn unsubscribe_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.claims(&token) {
        Some(c) if c.kind == TokenKind::Unsubscribe => confirm_page(),
        _ => invalid_unsubscribe_link(),
    }
}

/// The question and its button, whose form posts `List-Unsubscribe=One-Click` as RFC 8058's
/// one-click does.
fn confirm_page() -> Response {
    Html(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Unsubscribe</title></head>\
         <body><p>Stop receiving these emails?</p>\
         <form method=\"post\">\
         <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
         <button type=\"submit\">Unsubscribe</button></form></body></html>",
    )
    .into_response()
}

/// Whether a POST's body is RFC 8058's `List-Unsubscribe=One-Click`, form-urlencoded or in a
/// `multipart/form-data` part (§3.2: the mail receiver sends it either way, multipart
/// preferred).
fn asks_one_click(headers: &HeaderMap, body: &[u8]) -> bool {
    let is_pair = |name: &str, value: &str| {
        name.trim().eq_ignore_ascii_case("List-Unsubscribe")
            && value.trim().eq_ignore_ascii_case("One-Click")
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return url::form_urlencoded::parse(body).any(|(k, v)| is_pair(&k, &v));
    }
    // A multipart body is MIME: mailparse, which reads the bounces, reads it too (CRLF or LF
    // line ends, quoted or bare parameters, the boundary from the Content-Type).
    let mut mime = format!("Content-Type: {content_type}\r\n\r\n").into_bytes();
    mime.extend_from_slice(body);
    let Ok(form) = mailparse::parse_mail(&mime) else {
        return false;
    };
    form.subparts.iter().any(|part| {
        let disposition = part.get_content_disposition();
        disposition
            .params
            .get("name")
            .zip(part.get_body().ok())
            .is_some_and(|(name, value)| is_pair(name, &value))
    })
}

/// A damaged or unknown unsubscribe link (quoted-printable wrapping often breaks one): a page
/// that says how to unsubscribe anyway, not a blank 404 that leaves the person subscribed.
fn invalid_unsubscribe_link() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Unsubscribe</title>\
             </head><body><p>This unsubscribe link is not valid: it may have been cut or \
             changed on its way (some mail programs break long links).</p>\
             <p>To unsubscribe anyway, reply to the message with the word \
             &quot;unsubscribe&quot;, or use your mail program's Unsubscribe button: you \
             will not be written to again.</p></body></html>",
        ),
    )
        .into_response()
}

/// What a one-click unsubscribe did.
enum Unsubscribed {
    /// The row's address is on the suppression list (now, or already).
    Suppressed,
    /// The row was never handed to a server (see [`ROW_MAY_HAVE_REACHED`]): nothing done.
    NeverSent,
    /// No such row, or no address on it.
    NoRow,
}

/// RFC 8058 one-click (and the page's button): suppress the address the message went to
/// now (the row's, for a link of before tokens named it); idempotent.
/// Honoured for every row whose message may have reached someone, UNCERTAIN and SENDING
/// included (a real recipient's request must never be lost); a row never sent has no
/// recipient, so its link (from a dry run or a preview) changes nothing.
async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(c) = state
        .claims(&token)
        .filter(|c| c.kind == TokenKind::Unsubscribe)
    else {
        return invalid_unsubscribe_link();
    };
    // RFC 8058 §3.2: a one-click POST carries `List-Unsubscribe=One-Click`. Any other POST
    // (a scanner submitting what it finds, a stray request) unsubscribes nobody; a person
    // who got here some other way gets the page's button, which sends it.
    if !asks_one_click(&headers, &body) {
        let mut page = confirm_page();
        *page.status_mut() = StatusCode::BAD_REQUEST;
        return page;
    }
    let data_dir = state.data_dir.clone();
    let id = c.outbox_id;
    // The address the message went to; a link issued before tokens carried it means the
    // row's address.
    let recipient = c.recipient;
    let result = tokio::task::spawn_blocking(move || -> anyhow::Result<Unsubscribed> {
        let store = Store::open_in(&data_dir)?;
        // A database error (busy past its timeout) must not read as "no such row": the
        // request fails with 500 and is logged, and the mail client may try again.
        let row: Option<(Option<String>, bool)> = store
            .conn()
            .query_row(
                &format!(
                    "SELECT email, {} FROM outbox WHERE id = ?1",
                    *ROW_MAY_HAVE_REACHED
                ),
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        // A row rebuilt for a new address after it was sent keeps its sent_at: the first
        // message may have reached its recipient, whom the link names.
        let email = match (row, recipient) {
            (Some((_, true)), Some(recipient)) => recipient,
            (Some((Some(email), true)), None) => email,
            (Some((Some(_), false)), _) => return Ok(Unsubscribed::NeverSent),
            (Some((None, _)), _) | (None, _) => return Ok(Unsubscribed::NoRow),
        };
        suppressions::unsubscribe(
            store.conn(),
            &email,
            &format!("one-click, outbox row {id}"),
            store::now_ts(),
        )?;
        Ok(Unsubscribed::Suppressed)
    })
    .await;
    match result {
        Ok(Ok(Unsubscribed::Suppressed)) => {
            // The row, not the address: the log file keeps no recipient's address for this.
            tracing::info!(
                outbox_id = id,
                "one-click unsubscribe: the address the message went to is suppressed"
            );
            record(&state, id, "UNSUBSCRIBE", None, &headers).await;
            Html(
                "<!doctype html><html><head><meta charset=\"utf-8\"><title>Unsubscribed</title>\
                 </head><body><p>You are unsubscribed. You will not receive further emails.</p>\
                 </body></html>",
            )
            .into_response()
        }
        // Nobody was sent this message (a dry-run file, a preview): nobody to unsubscribe.
        // Suppressing would quietly drop a prospect from the campaign because its sender
        // tried the link; the page says so.
        Ok(Ok(Unsubscribed::NeverSent)) => Html(
            "<!doctype html><html><body><p>This message was never sent (it is a preview or a \
             test copy), so there is nothing to unsubscribe from and nothing was changed.</p>\
             <p>If you did receive it by email, reply to it with the word \
             &quot;unsubscribe&quot; and you will not be written to again.</p></body></html>",
        )
        .into_response(),
        // A good signature for a row that is gone (a database started afresh): the page that
        // says how to unsubscribe anyway, not a blank one.
        Ok(Ok(Unsubscribed::NoRow)) => invalid_unsubscribe_link(),
        Ok(Err(e)) => {
            tracing::error!(outbox_id = id, error = %e, "one-click unsubscribe not stored");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(e) => {
            tracing::error!(outbox_id = id, error = %e, "one-click unsubscribe task failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `Ok` or the status to answer: 404 when the API is off, 401 for a wrong or missing token.
fn authorized(state: &AppState, headers: &HeaderMap) -> Result<(), StatusCode> {
    let Some(expected) = &state.api_token else {
        return Err(StatusCode::NOT_FOUND);
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token)
        .unwrap_or("");
    // Compare in constant time so the token cannot be guessed byte by byte.
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    let same = a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
    if same {
        Ok(())
    } else {
        Err(StatusCode::UNAUTHORIZED)
    }
}

/// The token of an `Authorization: Bearer TOKEN` value. The scheme is case-insensitive and
/// may be followed by more than one space (RFC 7235 §2.1).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("Bearer")
        .then(|| token.trim_start_matches(' '))
}

fn deny(status: StatusCode) -> Response {
    if status == StatusCode::UNAUTHORIZED {
        let mut r = api_error(
            status,
            "missing or wrong token: send the value of [api] token_env as \
             'Authorization: Bearer TOKEN'",
        );
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        r
    } else {
        api_error(
            status,
            "the API is off: set [api] token_env in config.toml to an environment variable \
             holding a token of at least 16 characters, and restart hailer serve",
        )
    }
}

async fn health(State(state): State<AppState>) -> Response {
    let data_dir = state.data_dir.clone();
    let db_ok = tokio::task::spawn_blocking(move || {
        Store::open_in(&data_dir)
            .and_then(|s| Ok(s.conn().query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
            .is_ok()
    })
    .await
    .unwrap_or(false);
    axum::Json(serde_json::json!({
        "status": if db_ok { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "database": db_ok,
    }))
    .into_response()
}

/// `POST /api/validate`: the token is checked before the body is even parsed.
async fn validate(
    State(state): State<AppState>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    // A body over the limit (or cut off) gets the API's JSON error, not axum's plain text.
    let body = match body {
        Ok(b) => b,
        Err(e) => return api_error(e.status(), e.body_text()),
    };
    super::validate::respond(
        &body,
        &state.verify,
        &state.data_dir.join(store::DB_FILE),
        state.validating.clone(),
    )
}

async fn stats(State(state): State<AppState>) -> Response {
    let data_dir = state.data_dir.clone();
    let configured = state.mailboxes.clone();
    let result = tokio::task::spawn_blocking(move || -> anyhow::Result<serde_json::Value> {
        let store = Store::open_in(&data_dir)?;
        let c = store.conn();
        let mut by_status = serde_json::Map::new();
        for (s, n) in crate::store::outbox::counts(c)? {
            by_status.insert(s.as_str().to_string(), n.into());
        }
        let count = |sql: &str| -> anyhow::Result<i64> { Ok(c.query_row(sql, [], |r| r.get(0))?) };
        let campaign = crate::engine::notify::summary::campaign(c)?;
        // Per mailbox, every row it sent (sent_at set), whatever its status became since, and
        // every row the server refused during the transaction (never sent); its bounces as
        // the campaign counts them, those refusals included (as hard), so the hard rate is
        // hard / (sent + refused), as the Bounces tab and the auto-pause rule count it.
        let mut per_mailbox = serde_json::Map::new();
        let mut stmt = c.prepare(&format!(
            "WITH worst AS ({}),
                  seen AS (SELECT outbox_id, MAX(kind = 'OPEN') AS opened,
                                  MAX(kind = 'OPEN' AND machine = 0) AS human,
                                  MAX(kind = 'CLICK') AS clicked,
                                  MAX(kind = 'CLICK' AND machine = 0) AS clicked_human
                           FROM tracking_events GROUP BY outbox_id)
             SELECT o.mailbox, COUNT(o.sent_at), COALESCE(SUM(o.status = 'REPLIED'), 0),
                    COALESCE(SUM(o.sent_at IS NULL AND o.refused_at IS NOT NULL), 0),
                    COALESCE(SUM(s.opened), 0), COALESCE(SUM(s.human), 0),
                    COALESCE(SUM(s.clicked), 0), COALESCE(SUM(s.clicked_human), 0),
                    COALESCE(SUM(w.hard = 1), 0), COALESCE(SUM(w.hard = 0), 0)
             FROM outbox o
             LEFT JOIN worst w ON w.outbox_id = o.id
             LEFT JOIN seen s ON s.outbox_id = o.id
             WHERE (o.sent_at IS NOT NULL OR w.outbox_id IS NOT NULL) AND o.mailbox IS NOT NULL
             GROUP BY o.mailbox ORDER BY o.mailbox",
            crate::store::bounces::BOUNCE_PER_ROW
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                [
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, i64>(8)?,
                    r.get::<_, i64>(9)?,
                ],
            ))
        })?;
        let rows: Vec<_> = rows.collect::<Result<_, _>>()?;
        // Every configured mailbox, one that has sent nothing yet with zeros (a dashboard
        // should not have to tell "no data" from "no such mailbox").
        let zeros = configured.iter().map(|m| (m.clone(), [0; 9]));
        for (
            m,
            [
                sent,
                replied,
                refused,
                opened,
                opened_human,
                clicked,
                clicked_human,
                hard,
                soft,
            ],
        ) in zeros.chain(rows)
        {
            let attempted = sent + refused;
            per_mailbox.insert(
                m,
                serde_json::json!({
                    "sent": sent,
                    "refused": refused,
                    "opened": opened,
                    "opened_human": opened_human,
                    "clicked": clicked,
                    "clicked_human": clicked_human,
                    "replied": replied,
                    "bounces": { "hard": hard, "soft": soft },
                    "hard_bounce_percent": if attempted > 0 {
                        (hard as f64 * 1000.0 / attempted as f64).round() / 10.0
                    } else {
                        0.0
                    },
                }),
            );
        }
        Ok(serde_json::json!({
            "outbox": by_status,
            "sent": campaign.sent,
            // Refused during the transaction, never sent: in `bounces.hard` too.
            "refused": count(
                "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND refused_at IS NOT NULL"
            )?,
            "delivered": campaign.delivered,
            "opens": {
                "rows": campaign.opened,
                "rows_human": campaign.opened_human,
                "events": count("SELECT COUNT(*) FROM tracking_events WHERE kind = 'OPEN'")?,
            },
            "clicks": campaign.clicked,
            // Link scanners (Mimecast, Proofpoint, …) left out, as `opens.rows_human`.
            "clicks_human": campaign.clicked_human,
            "replies": campaign.replied,
            "bounces": { "hard": campaign.bounced_hard, "soft": campaign.bounced_soft },
            "unsubscribes": campaign.unsubscribed,
            "complaints": campaign.complained,
            "mailboxes": per_mailbox,
        }))
    })
    .await;
    match result {
        Ok(Ok(v)) => axum::Json(v).into_response(),
        // Every /api error is JSON; the cause is in the server's log, not in the answer.
        Ok(Err(e)) => {
            tracing::error!(error = %e, "api stats");
            api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the statistics could not be read: see hailer serve's log",
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "api stats task failed");
            api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the statistics could not be read: see hailer serve's log",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(i: i64) -> NewEvent {
        NewEvent {
            outbox_id: i,
            kind: "OPEN",
            url: None,
            user_agent: None,
            machine: false,
            at: i,
        }
    }

    /// The database is locked well past the writer's busy timeout: the events wait and are
    /// all stored once the lock goes, none lost and none twice.
    #[test]
    fn events_survive_a_database_locked_past_the_busy_timeout() {
        let dir = tempfile::tempdir().unwrap();
        // 40 sent rows (events on rows never sent are not stored).
        Store::open_in(dir.path())
            .unwrap()
            .conn()
            .execute_batch(
                "INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'Acme', 0);
                 WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 39)
                 INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
                 SELECT i, 'P', 'Q', 'Acme', 'acme', 'p|' || i, 0 FROM n;
                 INSERT INTO outbox (id, prospect_id, email, company_key, status, created_at, updated_at)
                 SELECT id, id, 'p' || id || '@acme.test', 'acme', 'SENT', 0, 0 FROM prospects;",
            )
            .unwrap();
        let locker = rusqlite::Connection::open(dir.path().join(store::DB_FILE)).unwrap();
        locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let (tx, rx) = mpsc::channel(64);
        let path = dir.path().to_path_buf();
        let writer =
            std::thread::spawn(move || write_events(&path, rx, Duration::from_millis(50), None));
        for i in 0..40 {
            tx.blocking_send(event(i)).unwrap();
        }
        // Several busy timeouts go by (the writer retries), then the lock is released.
        std::thread::sleep(Duration::from_millis(600));
        locker.execute_batch("COMMIT").unwrap();
        drop(tx);
        writer.join().unwrap().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        let (n, distinct): (i64, i64) = store
            .conn()
            .query_row(
                "SELECT COUNT(*), COUNT(DISTINCT outbox_id) FROM tracking_events",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((n, distinct), (40, 40));
    }

    /// The one-click body in a multipart form is found however the sender writes the
    /// MIME: CRLF or LF line ends, quoted or bare boundary and name; another value, or a
    /// form without a boundary, is not it.
    #[test]
    fn one_click_is_read_from_any_multipart_spelling() {
        let with = |content_type: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
            h
        };
        let quoted = with("multipart/form-data; boundary=\"b1\"");
        let bare = with("Multipart/Form-Data; boundary=b1");
        let crlf = "--b1\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n\
                    One-Click\r\n--b1--\r\n";
        let lf =
            "--b1\nContent-Disposition: form-data; name=List-Unsubscribe\n\nOne-Click\n--b1--\n";
        let other = "--b1\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n\
                     --b1\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n\
                     No\r\n--b1--\r\n";
        assert!(asks_one_click(&quoted, crlf.as_bytes()));
        assert!(asks_one_click(&bare, crlf.as_bytes()));
        assert!(asks_one_click(&quoted, lf.as_bytes()));
        assert!(!asks_one_click(&quoted, other.as_bytes()));
        assert!(!asks_one_click(
            &with("multipart/form-data"),
            crlf.as_bytes()
        ));
    }

    /// A scanner's burst across two batches: the first click was told as a person's, the
    /// second batch takes it back, and the running total the Activity line shows says so.
    #[test]
    fn a_burst_across_batches_takes_back_the_click_told_as_a_persons() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_in(dir.path()).unwrap();
        store
            .conn()
            .execute_batch(
                "INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'Acme', 0);
                 INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
                 VALUES (1, 'P', 'Q', 'Acme', 'acme', 'p|q', 0);
                 INSERT INTO outbox (id, prospect_id, email, company_key, status, sent_at, created_at, updated_at)
                 VALUES (1, 1, 'p@acme.test', 'acme', 'SENT', 1000, 0, 0);",
            )
            .unwrap();
        let click = |url: &str, at: i64| NewEvent {
            outbox_id: 1,
            kind: "CLICK",
            url: Some(url.into()),
            user_agent: Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0".into()),
            machine: false,
            at,
        };
        let mut total = insert_events(&mut store, &[click("https://a.test/1", 5000)]).unwrap();
        assert_eq!((total.clicks, total.clicks_by_people()), (1, 1));
        total += insert_events(&mut store, &[click("https://a.test/2", 5001)]).unwrap();
        assert_eq!(
            (total.clicks, total.clicks_human, total.clicks_reclassified),
            (2, 1, 1)
        );
        assert!(
            total.line().contains("2 clicks (0 by people)"),
            "{}",
            total.line()
        );
        // Later, the person's own click on one link.
        total += insert_events(&mut store, &[click("https://a.test/1", 6000)]).unwrap();
        assert_eq!(total.clicks_by_people(), 1);
        let machine: Vec<bool> = store
            .conn()
            .prepare("SELECT machine FROM tracking_events ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(machine, [true, true, false]);
    }

    #[test]
    fn machine_agents_are_flagged() {
        assert!(is_machine(None));
        assert!(is_machine(Some("Mozilla/5.0")));
        assert!(is_machine(Some(
            "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
        )));
        assert!(is_machine(Some("python-requests/2.31")));
        assert!(!is_machine(Some(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
        )));
    }

    #[test]
    fn pixel_is_a_gif() {
        assert!(PIXEL.starts_with(b"GIF89a"));
        assert_eq!(PIXEL.len(), 43);
    }
}
