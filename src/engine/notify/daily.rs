//! The daily summary on a clock: `[notify.telegram] daily_summary_at = "HH:MM"` in
//! `summary_timezone`, sent by the long-running `hailer serve`. A day is claimed in SQLite
//! (`notify_days`) before its summary is queued, so two processes or a restart never send the
//! same day twice, and a server started after the hour sends that day's summary at once.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rusqlite::{Connection, params};
use tokio_util::sync::CancellationToken;

use super::telegram::{self, Outcome};
use super::{Pending, Waited};
use crate::config::Config;
use crate::store::{self, Store, StoreError};

/// When the summary goes out, parsed from the config.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    pub at: NaiveTime,
    pub tz: Tz,
}

impl Schedule {
    /// `None` when no `daily_summary_at` is set (or no `[notify.telegram]`).
    pub fn from_config(config: &Config) -> Result<Option<Schedule>, String> {
        let Some(tg) = &config.notify.telegram else {
            return Ok(None);
        };
        // Checked also without daily_summary_at (a typo there is still a typo), and named by
        // its own key: "timezone" is a mailbox's key.
        let tz = crate::engine::send::throttle::parse_tz(&tg.summary_timezone)
            .map_err(|e| e.replacen("timezone", "summary_timezone", 1))?;
        let Some(at) = &tg.daily_summary_at else {
            return Ok(None);
        };
        Ok(Some(Schedule {
            at: parse_time(at)?,
            tz,
        }))
    }

    /// The day (local date, YYYY-MM-DD) whose summary is due at `now`, if its hour has come.
    pub fn due_day(&self, now: DateTime<Utc>) -> Option<String> {
        let local = now.with_timezone(&self.tz);
        (local.time() >= self.at).then(|| local.date_naive().format("%Y-%m-%d").to_string())
    }

    /// The next instant the summary is due strictly after `now` (a day whose hour does not
    /// exist, in a DST gap, uses the first valid minute after it).
    pub fn next_after(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let mut date = now.with_timezone(&self.tz).date_naive();
        loop {
            let mut t = date.and_time(self.at);
            let at = loop {
                match self.tz.from_local_datetime(&t).earliest() {
                    Some(x) => break x,
                    None => t += chrono::Duration::minutes(1),
                }
            };
            let at = at.with_timezone(&Utc);
            if at > now {
                return at;
            }
            date = date.succ_opt().unwrap_or(date);
        }
    }
}

/// "HH:MM" (24 h).
pub fn parse_time(s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map_err(|_| format!("daily_summary_at {s:?} is not a time such as \"18:00\""))
}

/// Take `day` for the summary; `false` when it was already taken (sent or being sent).
pub fn claim_day(conn: &Connection, day: &str, now: i64) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "INSERT OR IGNORE INTO notify_days (kind, day, sent_at) VALUES ('daily_summary', ?1, ?2)",
        params![day, now],
    )? == 1)
}

/// Give `day` back (its summary could not be delivered), so it is tried again.
pub fn unclaim_day(conn: &Connection, day: &str) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM notify_days WHERE kind = 'daily_summary' AND day = ?1",
        params![day],
    )?;
    Ok(())
}

/// If the summary for the day of `now` is due and not taken yet: write it, claim the day and
/// queue it. Returns the day with the pending delivery.
pub fn send_if_due(
    config: &Config,
    data_dir: &std::path::Path,
    schedule: &Schedule,
    now: DateTime<Utc>,
) -> Result<Option<(String, Pending)>, String> {
    let Some(day) = schedule.due_day(now) else {
        return Ok(None);
    };
    let client = match super::telegram(config)? {
        Some(c) => c,
        None => return Ok(None),
    };
    let store = Store::open_in(data_dir).map_err(|e| e.to_string())?;
    // The text first: a day is claimed only once there is something to send.
    let text =
        super::summary::daily_text(store.conn(), store::now_ts()).map_err(|e| e.to_string())?;
    if !claim_day(store.conn(), &day, store::now_ts()).map_err(|e| e.to_string())? {
        return Ok(None);
    }
    match super::enqueue_with(client, text) {
        Some(p) => Ok(Some((day, p))),
        None => {
            unclaim_day(store.conn(), &day).map_err(|e| e.to_string())?;
            Err("the alert queue is full; the summary will be tried again".into())
        }
    }
}

/// How long a summary that could not be delivered waits before it is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

/// What the loop does after a [`Daily::round`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Nothing to do until the next day's hour: nothing was due, the summary went out, or
    /// the API refused it (a request it refuses once it refuses again).
    Tomorrow,
    /// The summary is still on its way (its day stays claimed): wait on it again.
    StillWaiting,
    /// It was not delivered (the client gave up) and its day was given back: try again
    /// after [`RETRY_AFTER`].
    Retry(String),
    /// `stop` was cancelled: the queued summary dies with the process, its day was given back.
    Stopped,
}

/// The daily summary between rounds: the delivery still on its way, with its day. A day is
/// claimed once and its summary queued once; only a delivery the client gave up on (429s,
/// 5xx or network errors past its retries) gives the day back.
#[derive(Default)]
pub struct Daily {
    in_flight: Option<(String, Pending)>,
}

impl Daily {
    /// One round at `now`: queue the summary if it is due (and no earlier one is on its way),
    /// then wait at most `wait` for the delivery, or until `stop`.
    pub fn round(
        &mut self,
        config: &Config,
        data_dir: &Path,
        schedule: &Schedule,
        now: DateTime<Utc>,
        wait: Duration,
        stop: &CancellationToken,
    ) -> Result<Next, String> {
        if self.in_flight.is_none() {
            self.in_flight = send_if_due(config, data_dir, schedule, now)?;
        }
        let Some((day, pending)) = &self.in_flight else {
            return Ok(Next::Tomorrow);
        };
        let waited = pending.wait_or_stop(wait, stop);
        let day = day.clone();
        let give_back = || -> Result<(), String> {
            let store = Store::open_in(data_dir).map_err(|e| e.to_string())?;
            unclaim_day(store.conn(), &day).map_err(|e| e.to_string())
        };
        let delivery = match waited {
            Waited::TimedOut => {
                tracing::warn!("daily summary for {day}: still on its way after {wait:?}");
                return Ok(Next::StillWaiting);
            }
            Waited::Stopped => {
                self.in_flight = None;
                give_back()?;
                return Ok(Next::Stopped);
            }
            Waited::Lost => {
                self.in_flight = None;
                give_back()?;
                return Ok(Next::Retry(format!(
                    "the summary for {day} was lost (the alert thread stopped); trying again later"
                )));
            }
            Waited::Done(d) => d,
        };
        self.in_flight = None;
        match &delivery.outcome {
            Outcome::Sent => {
                tracing::info!("daily summary for {day} sent");
                Ok(Next::Tomorrow)
            }
            Outcome::Rejected { .. } => {
                // The day stays claimed: the same request would be refused every time.
                tracing::error!(
                    "daily summary for {day} {}; not retried (check [notify.telegram])",
                    super::describe(&delivery)
                );
                Ok(Next::Tomorrow)
            }
            Outcome::GaveUp(_) => {
                give_back()?;
                Ok(Next::Retry(format!(
                    "the summary for {day} was {}; trying again later",
                    super::describe(&delivery)
                )))
            }
        }
    }
}

/// Run until `stop`: send each day's summary when its hour comes, once. A summary the client
/// gave up on gives its day back and is tried again in 15 minutes; one the API refused is
/// logged and not retried; nothing here can stop the server it runs beside.
pub async fn run(config: Config, data_dir: PathBuf, schedule: Schedule, stop: CancellationToken) {
    let config = std::sync::Arc::new(config);
    let mut daily = Daily::default();
    loop {
        let cfg = config.clone();
        let dir = data_dir.clone();
        let token = stop.clone();
        let round = tokio::task::spawn_blocking(move || {
            let next = daily.round(
                &cfg,
                &dir,
                &schedule,
                Utc::now(),
                telegram::WORST_CASE,
                &token,
            );
            (daily, next)
        })
        .await;
        let next;
        (daily, next) = match round {
            Ok(r) => r,
            Err(e) => (Daily::default(), Err(e.to_string())),
        };
        if stop.is_cancelled() {
            return;
        }
        let wait = match next {
            Ok(Next::Tomorrow) => {
                let next = schedule.next_after(Utc::now());
                (next - Utc::now())
                    .to_std()
                    .unwrap_or(Duration::from_secs(1))
            }
            Ok(Next::StillWaiting) => continue,
            Ok(Next::Stopped) => return,
            Ok(Next::Retry(e)) | Err(e) => {
                tracing::warn!("daily summary: {e}");
                RETRY_AFTER
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn paris_at(h: &str) -> Schedule {
        Schedule {
            at: parse_time(h).unwrap(),
            tz: "Europe/Paris".parse().unwrap(),
        }
    }

    #[test]
    fn due_and_next_in_the_schedules_time_zone() {
        let s = paris_at("18:00");
        // 16:30 UTC is 17:30 in Paris in winter: not yet; due at 17:00 UTC.
        assert_eq!(s.due_day(utc("2026-12-04T16:30:00Z")), None);
        assert_eq!(
            s.next_after(utc("2026-12-04T16:30:00Z")),
            utc("2026-12-04T17:00:00Z")
        );
        // After the hour: today is due, the next one is tomorrow.
        assert_eq!(
            s.due_day(utc("2026-12-04T17:00:00Z")).as_deref(),
            Some("2026-12-04")
        );
        assert_eq!(
            s.next_after(utc("2026-12-04T17:00:00Z")),
            utc("2026-12-05T17:00:00Z")
        );
        // Summer time: 18:00 in Paris is 16:00 UTC.
        assert_eq!(
            s.next_after(utc("2026-07-01T12:00:00Z")),
            utc("2026-07-01T16:00:00Z")
        );
        // 02:30 does not exist on the spring-forward night: the first valid minute after it.
        let gap = paris_at("02:30");
        assert_eq!(
            gap.next_after(utc("2026-03-28T12:00:00Z")),
            utc("2026-03-29T01:00:00Z")
        );
        assert!(parse_time("25:00").is_err());
        assert!(parse_time("six").is_err());
    }

    #[test]
    fn a_day_is_claimed_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        assert!(claim_day(store.conn(), "2026-12-04", 1).unwrap());
        assert!(!claim_day(store.conn(), "2026-12-04", 2).unwrap());
        assert!(claim_day(store.conn(), "2026-12-05", 3).unwrap());
        unclaim_day(store.conn(), "2026-12-04").unwrap();
        assert!(claim_day(store.conn(), "2026-12-04", 4).unwrap());
    }
}
