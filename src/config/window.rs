//! Sending windows such as `"Mon-Fri 09:00-18:00"` or `"Mon,Wed 08:30-12:00"`.

use chrono::{NaiveTime, Weekday};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendingWindow {
    /// Indexed by `Weekday::num_days_from_monday()`.
    pub days: [bool; 7],
    pub start: NaiveTime,
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
        if start >= end {
            return Err(format!(
                "the window must end after it starts ({start} >= {end})"
            ));
        }
        Ok(SendingWindow { days, start, end })
    }

    pub fn contains(&self, weekday: Weekday, at: NaiveTime) -> bool {
        self.days[weekday.num_days_from_monday() as usize] && at >= self.start && at < self.end
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
            SendingWindow::parse("Mon 18:00-09:00")
                .unwrap_err()
                .contains("end after")
        );
    }
}
