//! The Telegram Bot API client: `POST {api_url}/bot{token}/sendMessage`, with retries.
//!
//! A text longer than the API's limit is cut to it (see [`fit`]): an alert that arrives
//! shortened beats one refused.
//!
//! Retry rules: at most [`MAX_RETRIES`] retries after the first attempt; a 429 waits the
//! `parameters.retry_after` the API asks for; a 5xx or a network error waits the backoff
//! (2 s, 4 s, 8 s by default); any other 4xx gives up at once, logging the API's description.
//!
//! The bot token is part of the URL path, so it must never reach a log or an error: reqwest's
//! errors drop their URL here (their causes are kept), and every text that leaves this module
//! goes through [`redact`].

use std::time::Duration;

use serde::Deserialize;

/// Retries after the first attempt.
pub const MAX_RETRIES: u32 = 3;
/// The default first backoff; it doubles on each retry.
pub const DEFAULT_BASE_DELAY: Duration = Duration::from_secs(2);
/// The longest `retry_after` honoured (a larger one is capped, not ignored).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
/// How long one request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// The longest [`Telegram::send`] can take: every attempt timing out, every pause the longest
/// `retry_after` (longer than any backoff). About 16 minutes.
pub const WORST_CASE: Duration = Duration::from_secs(
    (MAX_RETRIES as u64 + 1) * REQUEST_TIMEOUT.as_secs()
        + MAX_RETRIES as u64 * MAX_RETRY_AFTER.as_secs(),
);

/// The pause before retry number `retry` (1-based) after a 5xx or network error:
/// `base × 2^(retry-1)`, i.e. 2 s, 4 s, 8 s with the default base.
pub fn backoff(base: Duration, retry: u32) -> Duration {
    base.saturating_mul(1 << retry.saturating_sub(1).min(16))
}

/// The whole default schedule, for documentation and tests.
pub fn default_schedule() -> Vec<Duration> {
    (1..=MAX_RETRIES)
        .map(|r| backoff(DEFAULT_BASE_DELAY, r))
        .collect()
}

/// The longest message text the Bot API accepts; a longer one is refused (400). The API
/// counts UTF-16 code units, which is never fewer than characters.
pub const MAX_TEXT_LEN: usize = 4096;

/// `text` cut on a character boundary to [`MAX_TEXT_LEN`], ending with "…" when cut.
pub fn fit(text: &str) -> std::borrow::Cow<'_, str> {
    if text.encode_utf16().count() <= MAX_TEXT_LEN {
        return text.into();
    }
    let mut units = 1; // the "…"
    let end = text
        .char_indices()
        .find(|(_, c)| {
            units += c.len_utf16();
            units > MAX_TEXT_LEN
        })
        .map_or(text.len(), |(i, _)| i);
    format!("{}…", &text[..end]).into()
}

/// Replace every occurrence of the bot token in `text`.
pub fn redact(text: &str, token: &str) -> String {
    if token.is_empty() {
        text.to_string()
    } else {
        text.replace(token, "<redacted>")
    }
}

/// An error and its causes, "a: b: c" (reqwest's own text is only "error sending request").
/// A cause may repeat the URL with the token in it: callers [`redact`] the result.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The HTTP client of [`Telegram`]: the request timeout, and `extra_ca` trusted beside the
/// public roots.
fn http_client(extra_ca: Vec<reqwest::Certificate>) -> reqwest::Result<reqwest::Client> {
    let builder = reqwest::Client::builder().timeout(REQUEST_TIMEOUT);
    if extra_ca.is_empty() {
        builder
    } else {
        builder.tls_certs_merge(extra_ca)
    }
    .build()
}

#[derive(Clone)]
pub struct Telegram {
    api_url: String,
    token: String,
    chat_id: String,
    base_delay: Duration,
    http: reqwest::Client,
}

impl std::fmt::Debug for Telegram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telegram")
            .field("api_url", &self.api_url)
            .field("token", &"<redacted>")
            .field("chat_id", &self.chat_id)
            .finish()
    }
}

/// How one message ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// A 4xx other than 429: the API's description (the request itself is wrong).
    Rejected {
        status: u16,
        description: String,
    },
    /// Retries exhausted on 429/5xx/network errors: the last problem.
    GaveUp(String),
}

/// What happened, attempt by attempt: the outcome and the pause taken before each retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub outcome: Outcome,
    pub attempts: u32,
    pub waits: Vec<Duration>,
}

#[derive(Debug, Deserialize, Default)]
struct ApiReply {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<ApiParameters>,
}

#[derive(Debug, Deserialize, Default)]
struct ApiParameters {
    #[serde(default)]
    retry_after: Option<u64>,
}

/// What to do after one attempt.
enum Next {
    Done(Outcome),
    Retry {
        problem: String,
        wait: Option<Duration>,
    },
}

impl Telegram {
    pub fn new(api_url: &str, token: &str, chat_id: &str) -> Telegram {
        Telegram {
            api_url: api_url.trim_end_matches('/').to_string(),
            token: token.to_string(),
            chat_id: chat_id.to_string(),
            base_delay: DEFAULT_BASE_DELAY,
            http: http_client(Vec::new()).unwrap_or_default(),
        }
    }

    /// Also trust these certificates (`[tls] ca_file`), beside the public roots: a Bot API
    /// behind a proxy or a private gateway.
    pub fn with_extra_ca(
        mut self,
        certs: &[rustls_connector::rustls_pki_types::CertificateDer<'static>],
    ) -> Result<Telegram, String> {
        let certs = certs
            .iter()
            .map(|der| reqwest::Certificate::from_der(der))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("[tls] ca_file: {e}"))?;
        self.http = http_client(certs).map_err(|e| format!("telegram client: {e}"))?;
        Ok(self)
    }

    /// Tests shorten the backoff; the schedule's shape stays the same.
    pub fn with_base_delay(mut self, base: Duration) -> Telegram {
        self.base_delay = base;
        self
    }

    async fn attempt(&self, text: &str) -> Next {
        let url = format!("{}/bot{}/sendMessage", self.api_url, self.token);
        let body = serde_json::json!({
            "chat_id": self.chat_id,
            "text": fit(text),
            "disable_web_page_preview": true,
        });
        let resp = match self.http.post(&url).json(&body).send().await {
            Ok(r) => r,
            Err(e) => {
                return Next::Retry {
                    problem: redact(&error_chain(&e.without_url()), &self.token),
                    wait: None,
                };
            }
        };
        let status = resp.status().as_u16();
        let reply: ApiReply = resp.json().await.unwrap_or_default();
        let description = redact(
            reply.description.as_deref().unwrap_or("(no description)"),
            &self.token,
        );
        match status {
            200..=299 => Next::Done(Outcome::Sent),
            429 => Next::Retry {
                // Telegram's own description starts "Too Many Requests": not said twice.
                problem: if description.starts_with("Too Many Requests") {
                    format!("429 {description}")
                } else {
                    format!("429 Too Many Requests: {description}")
                },
                wait: reply
                    .parameters
                    .and_then(|p| p.retry_after)
                    .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER)),
            },
            500..=599 => Next::Retry {
                problem: format!("{status}: {description}"),
                wait: None,
            },
            _ => Next::Done(Outcome::Rejected {
                status,
                description,
            }),
        }
    }

    /// Send `text`, retrying as the module doc says. Logs the final problem (never the token).
    pub async fn send(&self, text: &str) -> Delivery {
        let mut waits = Vec::new();
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.attempt(text).await {
                Next::Done(outcome) => {
                    if let Outcome::Rejected {
                        status,
                        description,
                    } = &outcome
                    {
                        tracing::warn!(status, %description, "telegram: message rejected; not retried");
                    }
                    return Delivery {
                        outcome,
                        attempts,
                        waits,
                    };
                }
                Next::Retry { problem, wait } => {
                    let retry = attempts; // the retry this pause leads to, 1-based
                    if retry > MAX_RETRIES {
                        tracing::warn!(%problem, attempts, "telegram: giving up");
                        return Delivery {
                            outcome: Outcome::GaveUp(problem),
                            attempts,
                            waits,
                        };
                    }
                    let pause = wait.unwrap_or_else(|| backoff(self.base_delay, retry));
                    tracing::info!(%problem, ?pause, retry, "telegram: retrying");
                    waits.push(pause);
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_is_2_4_8_seconds() {
        assert_eq!(
            default_schedule(),
            [2, 4, 8].map(Duration::from_secs).to_vec()
        );
        assert_eq!(
            backoff(Duration::from_millis(10), 3),
            Duration::from_millis(40)
        );
    }

    #[test]
    fn redaction_hides_every_occurrence() {
        let t = "123456:ABC-secret";
        let text = format!("error sending request for url (https://api/bot{t}/sendMessage) {t}");
        let r = redact(&text, t);
        assert!(!r.contains("ABC-secret"), "{r}");
        assert_eq!(r.matches("<redacted>").count(), 2);
        let dbg = format!("{:?}", Telegram::new("https://api", t, "1"));
        assert!(!dbg.contains("ABC-secret"), "{dbg}");
    }
}
