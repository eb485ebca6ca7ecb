//! Sending windows such as `"Mon-Fri 09:00-18:00"` or `"Mon,Wed 08:30-12:00"`.
//!
//! A window whose end comes before its start runs past midnight: `"Mon-Fri 22:00-02:00"` opens
//! on the listed days at 22:00 and closes at 02:00 the next morning (for a mailbox whose time
//! zone is far from its prospects').

use chrono::{NaiveTime, Weekday};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendingWindow {
    /// Indexed by `Weekday::num_days_from_monday()`.
    pub days: [bool; 7],
    pub start: NaiveTime,
    /// Before `start` when the window runs past midnight.
    pub end: NaiveTime,
}

const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

fn day(s: &str) -> Result<usize, String> {
    let lower = s.trim().to_ascii_lowercase();
    DAYS.iter()
        .position(|(name, _)| lower.starts_with(name) && lower.len() >= 3)
        .ok_or_else(|| format!("unknown day {s:?} (use Mon, Tue, … Sun)"))
}

fn time(s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map_err(|_| format!("{s:?} is not a time as HH:MM"))
}

impl SendingWindow {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (days_part, hours_part) = text
            .trim()
            .split_once(' ')
            .ok_or_else(|| format!("{text:?} is not like \"Mon-Fri 09:00-18:00\""))?;
        let mut days = [false; 7];
        for item in days_part.split(',') {
            match item.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (day(a)?, day(b)?);
                    let mut d = a;
                    loop {
                        days[d] = true;
                        if d == b {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                }
                None => days[day(item)?] = true,
            }
        }
        let (start, end) = hours_part
            .trim()
            .split_once('-')
            .ok_or_else(|| format!("{hours_part:?} is not like \"09:00-18:00\""))?;
        let (start, end) = (time(start)?, time(end)?);
        if start == end {
            return Err(format!(
                "the window opens and closes at {start}: leave `window` unset to send at any time"
            ));
        }
        Ok(SendingWindow { days, start, end })
    }

    pub fn contains(&self, weekday: Weekday, at: NaiveTime) -> bool {
        let listed = |d: Weekday| self.days[d.num_days_from_monday() as usize];
        if self.start < self.end {
            listed(weekday) && at >= self.start && at < self.end
        } else {
            // Past midnight: the evening belongs to today, the small hours to yesterday.
            (at >= self.start && listed(weekday)) || (at < self.end && listed(weekday.pred()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_office_hours() {
        let w = SendingWindow::parse("Mon-Fri 09:00-18:00").unwrap();
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let six_pm = NaiveTime::from_hms_opt(18, 0, 0).unwrap();
        assert!(w.contains(Weekday::Mon, nine));
        assert!(!w.contains(Weekday::Mon, six_pm));
        assert!(!w.contains(Weekday::Sat, nine));
    }

    #[test]
    fn lists_and_wrapping_ranges() {
        let w = SendingWindow::parse("Fri-Mon,Wed 08:30-12:00").unwrap();
        assert_eq!(w.days, [true, false, true, false, true, true, true]);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert!(
            SendingWindow::parse("Mon-Fri 9-18")
                .unwrap_err()
                .contains("HH:MM")
        );
        assert!(
            SendingWindow::parse("Moon 09:00-10:00")
                .unwrap_err()
                .contains("day")
        );
        assert!(
            SendingWindow::parse("Mon 09:00-09:00")
                .unwrap_err()
                .contains("any time")
        );
    }

    #[test]
    fn a_window_past_midnight_belongs_to_the_day_it_opens() {
        let w = SendingWindow::parse("Fri 22:00-02:00").unwrap();
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert!(w.contains(Weekday::Fri, t(22, 0)));
        assert!(w.contains(Weekday::Fri, t(23, 59)));
        assert!(w.contains(Weekday::Sat, t(1, 59)));
        assert!(!w.contains(Weekday::Sat, t(2, 0)));
        assert!(
            !w.contains(Weekday::Fri, t(1, 0)),
            "Thursday night is not listed"
        );
        assert!(!w.contains(Weekday::Sat, t(22, 0)));
        assert!(!w.contains(Weekday::Fri, t(21, 59)));
    }
}
