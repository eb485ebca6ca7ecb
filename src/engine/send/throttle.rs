//! Per-mailbox limits: the daily cap, the warm-up ramp, the sending window in the mailbox's
//! time zone, the random pause between two sends, and rotation weighted by remaining capacity.
//! Pure functions of the config, the clock and the stored counters, so they are unit-tested.

use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::config::{MailboxConfig, SendingWindow};

#[derive(Debug, Clone)]
pub struct Throttle {
    pub tz: Tz,
    pub window: Option<SendingWindow>,
    pub daily_cap: u32,
    /// `(start, step per day, from)`; `from` unset means the mailbox's first sending day.
    pub warmup: Option<(u32, u32, Option<NaiveDate>)>,
    pub delay_min: u64,
    pub delay_max: u64,
}

/// `"Europe/Paris"` → the zone, with an error naming the value.
pub fn parse_tz(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>()
        .map_err(|_| format!("timezone {name:?} is not an IANA time zone such as \"Europe/Paris\""))
}

impl Throttle {
    pub fn from_config(mb: &MailboxConfig) -> Result<Throttle, String> {
        let window = mb.window.as_deref().map(SendingWindow::parse).transpose()?;
        Ok(Throttle {
            tz: parse_tz(&mb.timezone)?,
            window,
            daily_cap: mb.daily_cap,
            warmup: match (mb.warmup_start, mb.warmup_step) {
                (Some(s), Some(st)) => Some((s, st, mb.warmup_from)),
                _ => None,
            },
            delay_min: mb.delay_min,
            delay_max: mb.delay_max.max(mb.delay_min),
        })
    }

    /// The mailbox's calendar day at `now` (the key of its daily counter); in the small hours of
    /// a window past midnight, the day the window opened.
    pub fn day(&self, now: DateTime<Utc>) -> NaiveDate {
        let local = now.with_timezone(&self.tz);
        match &self.window {
            // The small hours of a window past midnight count for the day it opened: one cap
            // per window, not one before midnight and another after.
            Some(w) if w.start > w.end && local.time() < w.end => {
                local.date_naive().pred_opt().unwrap_or(local.date_naive())
            }
            _ => local.date_naive(),
        }
    }

    /// Today's cap: the warm-up ramp (`start + step × days since from`) up to `daily_cap`.
    /// `first_day` is the first day this mailbox sent anything, used when `warmup_from` is unset.
    pub fn cap_on(&self, day: NaiveDate, first_day: Option<NaiveDate>) -> u32 {
        match self.warmup {
            None => self.daily_cap,
            Some((start, step, from)) => {
                let from = from.or(first_day).unwrap_or(day);
                let days = (day - from).num_days().max(0) as u64;
                let ramp = start as u64 + step as u64 * days;
                ramp.min(self.daily_cap as u64) as u32
            }
        }
    }

    pub fn window_open(&self, now: DateTime<Utc>) -> bool {
        match &self.window {
            None => true,
            Some(w) => {
                let local = now.with_timezone(&self.tz);
                w.contains(local.weekday(), local.time())
            }
        }
    }

    /// `now` when the window is open, else the next time it opens (within a week).
    pub fn next_open(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let Some(w) = &self.window else {
            return Some(now);
        };
        if self.window_open(now) {
            return Some(now);
        }
        let today = self.day(now);
        for d in 0..8 {
            let date = today + chrono::Days::new(d);
            if !w.days[date.weekday().num_days_from_monday() as usize] {
                continue;
            }
            // A start inside a spring-forward gap (02:30 on the night 02:00 becomes 03:00) is
            // read an hour later, as the clocks jump, rather than skipping the day.
            let local = date.and_time(w.start);
            let Some(start) = self.tz.from_local_datetime(&local).earliest().or_else(|| {
                self.tz
                    .from_local_datetime(&(local + chrono::Duration::hours(1)))
                    .earliest()
            }) else {
                continue;
            };
            let start = start.with_timezone(&Utc);
            if start > now {
                return Some(start);
            }
        }
        None
    }

    /// The pause after a send, drawn uniformly in `[delay_min, delay_max]` seconds.
    pub fn delay(&self) -> Duration {
        if self.delay_max == 0 {
            return Duration::ZERO;
        }
        let ms = fastrand::u64(self.delay_min * 1000..=self.delay_max * 1000);
        Duration::from_millis(ms)
    }
}

/// Index of the mailbox to use next, drawn with probability proportional to its remaining
/// capacity today; `None` when no candidate has any left.
pub fn pick_weighted(remaining: &[(usize, u32)], roll: u64) -> Option<usize> {
    let total: u64 = remaining.iter().map(|&(_, r)| r as u64).sum();
    if total == 0 {
        return None;
    }
    let mut x = roll % total;
    for &(i, r) in remaining {
        if x < r as u64 {
            return Some(i);
        }
        x -= r as u64;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(
        window: Option<&str>,
        tz: &str,
        warmup: Option<(u32, u32, Option<&str>)>,
    ) -> Throttle {
        Throttle {
            tz: parse_tz(tz).unwrap(),
            window: window.map(|w| SendingWindow::parse(w).unwrap()),
            daily_cap: 50,
            warmup: warmup.map(|(a, b, f)| (a, b, f.map(|f| f.parse().unwrap()))),
            delay_min: 2,
            delay_max: 5,
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn warmup_ramps_up_to_the_cap() {
        let t = throttle(None, "UTC", Some((5, 10, Some("2026-11-20"))));
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(t.cap_on(d("2026-11-19"), None), 5, "before the ramp starts");
        assert_eq!(t.cap_on(d("2026-11-20"), None), 5);
        assert_eq!(t.cap_on(d("2026-11-22"), None), 25);
        assert_eq!(t.cap_on(d("2026-12-20"), None), 50, "capped");
        let t = throttle(None, "UTC", Some((5, 10, None)));
        assert_eq!(t.cap_on(d("2026-11-22"), Some(d("2026-11-21"))), 15);
        assert_eq!(t.cap_on(d("2026-11-22"), None), 5, "first day");
        assert_eq!(
            throttle(None, "UTC", None).cap_on(d("2026-11-22"), None),
            50
        );
    }

    #[test]
    fn window_is_read_in_the_mailbox_time_zone() {
        let t = throttle(Some("Mon-Fri 09:00-18:00"), "Europe/Paris", None);
        // Monday 2026-11-23 08:30 UTC is 09:30 in Paris.
        assert!(t.window_open(utc("2026-11-23T08:30:00Z")));
        // 07:30 UTC is 08:30 in Paris: opens at 08:00 UTC.
        assert_eq!(
            t.next_open(utc("2026-11-23T07:30:00Z")),
            Some(utc("2026-11-23T08:00:00Z"))
        );
        // Friday evening → Monday 09:00 Paris.
        assert_eq!(
            t.next_open(utc("2026-11-27T18:00:00Z")),
            Some(utc("2026-11-30T08:00:00Z"))
        );
        // The day key follows the zone: 23:30 UTC Sunday is Monday in Paris.
        assert_eq!(
            t.day(utc("2026-11-22T23:30:00Z")),
            "2026-11-23".parse::<NaiveDate>().unwrap()
        );
        assert!(throttle(None, "UTC", None).window_open(utc("2026-11-22T03:00:00Z")));
    }

    #[test]
    fn a_window_past_midnight_stays_open_into_the_next_morning() {
        // New York evening hours reach Paris prospects in their morning.
        let t = throttle(Some("Mon-Thu 22:00-03:00"), "America/New_York", None);
        // Monday 2026-11-23 22:30 in New York is 03:30 UTC on Tuesday.
        assert!(t.window_open(utc("2026-11-24T03:30:00Z")));
        // Tuesday 02:30 New York time is still Monday's window.
        assert!(t.window_open(utc("2026-11-24T07:30:00Z")));
        // Tuesday 03:00: closed until Tuesday 22:00.
        assert_eq!(
            t.next_open(utc("2026-11-24T08:00:00Z")),
            Some(utc("2026-11-25T03:00:00Z"))
        );
        // One day key per window: Monday 23:00 and Tuesday 02:00 share Monday's cap.
        let monday: NaiveDate = "2026-11-23".parse().unwrap();
        assert_eq!(t.day(utc("2026-11-24T04:00:00Z")), monday);
        assert_eq!(t.day(utc("2026-11-24T07:30:00Z")), monday);
        assert_eq!(
            t.day(utc("2026-11-24T08:00:00Z")),
            monday.succ_opt().unwrap()
        );
        // Friday 01:00 belongs to Thursday's window; Friday evening is not listed.
        assert!(t.window_open(utc("2026-11-27T06:00:00Z")));
        assert_eq!(
            t.next_open(utc("2026-11-27T09:00:00Z")),
            Some(utc("2026-12-01T03:00:00Z"))
        );
    }

    #[test]
    fn a_window_opening_in_the_spring_forward_gap_opens_an_hour_later() {
        // Paris, Sunday 2027-03-28: 02:00 local does not exist (02:00 → 03:00, UTC+2).
        let t = throttle(Some("Sun 02:30-05:00"), "Europe/Paris", None);
        assert_eq!(
            t.next_open(utc("2027-03-27T12:00:00Z")),
            Some(utc("2027-03-28T01:30:00Z"))
        );
    }

    #[test]
    fn delay_stays_in_range() {
        let t = throttle(None, "UTC", None);
        for _ in 0..200 {
            let d = t.delay();
            assert!(
                d >= Duration::from_secs(2) && d <= Duration::from_secs(5),
                "{d:?}"
            );
        }
    }

    #[test]
    fn rotation_is_weighted_by_remaining_capacity() {
        let rem = [(0, 30), (1, 10), (2, 0)];
        let mut hits = [0u32; 3];
        for roll in 0..40 {
            hits[pick_weighted(&rem, roll).unwrap()] += 1;
        }
        assert_eq!(hits, [30, 10, 0]);
        assert_eq!(pick_weighted(&[(0, 0)], 7), None);
        assert!(
            parse_tz("Mars/Olympus")
                .unwrap_err()
                .contains("Mars/Olympus")
        );
    }
}
