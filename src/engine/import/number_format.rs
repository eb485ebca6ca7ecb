//! Numbers as a spreadsheet shows them, whatever the format they come from: a postcode or a
//! phone number typed as a number in a zero-padding format keeps its leading zeros and its
//! separators, a percentage reads `15%`. XLSX and XLS give the format code of each cell
//! (`00000`, `0.00%`); ODS gives the text the cell shows, which is judged by the same rules.
//! Any other format (decimals, thousands separators, currencies, dates) is not laid out: its
//! cells are read as plain numbers, so the three formats agree on every cell.

/// How a number format shows a number, for the formats that change what a person reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    /// Digits padded with zeros, with literal separators (see [`DigitLayout`]).
    Digits(DigitLayout),
    /// `0%`, `0.00%`: the number times 100 with that many decimals, and `%`.
    Percent { decimals: usize },
}

impl Shown {
    /// The layout of a format code's first section (the one for positive numbers), if it is
    /// one that changes what a person reads.
    pub fn parse(code: &str) -> Option<Shown> {
        DigitLayout::parse(code)
            .map(Shown::Digits)
            .or_else(|| percent_decimals(code).map(|decimals| Shown::Percent { decimals }))
    }

    /// `value` as the format shows it; `None` when it shows the plain number.
    pub fn apply(&self, value: f64) -> Option<String> {
        match self {
            Shown::Digits(layout) => layout.apply(value),
            Shown::Percent { decimals } => percent(value, *decimals),
        }
    }
}

/// The most digits or decimals a layout is followed for, and the longest layout: Excel shows
/// at most 30 decimals, and a file's format (or ODS text) of thousands of zeros would make
/// every cell that long, or overflow `format!`'s width (a panic past 65,535).
const MAX_SHOWN_DIGITS: usize = 30;
const MAX_LAYOUT_PARTS: usize = 64;

/// The decimals of a percentage format: `0%`, `0.0%`, `0.00%` (Excel's built-in formats 9
/// and 10 are the first and last).
fn percent_decimals(code: &str) -> Option<usize> {
    let first = code.split(';').next()?.trim();
    let digits = first.strip_suffix('%')?;
    let (whole, decimals) = digits.split_once('.').unwrap_or((digits, ""));
    let zeros = |s: &str| s.chars().all(|c| c == '0');
    (!whole.is_empty() && zeros(whole) && zeros(decimals) && decimals.len() <= MAX_SHOWN_DIGITS)
        .then_some(decimals.len())
}

fn percent(value: f64, decimals: usize) -> Option<String> {
    // Times 100 the float way gives 15.000000000000002 for 0.15: rounded to the decimals.
    (value.is_finite() && decimals <= MAX_SHOWN_DIGITS)
        .then(|| format!("{:.*}%", decimals, value * 100.0))
}

/// What an ODS cell of `value_type` holding `value` shows as `shown` (its `text:p`), judged
/// as [`Shown`] judges an XLSX or XLS format: a percentage as a percentage (with the decimals
/// shown), a whole number shown zero-padded or with literal separators (`01234`,
/// `06 12 34 56 78`) as shown. `None`: the plain number.
pub fn ods_shown(value_type: &str, value: f64, shown: &str) -> Option<String> {
    let shown = shown.trim();
    if shown.len() > MAX_LAYOUT_PARTS {
        return None;
    }
    match value_type {
        "percentage" => {
            // The decimals the cell shows, whatever the locale's decimal sign (`12,50 %`).
            let number = shown.trim_end_matches(['%', ' ', '\u{a0}', '\u{202f}']);
            let decimals = number
                .rfind(['.', ','])
                .map_or(0, |at| number[at + 1..].len());
            percent(value, decimals)
        }
        "float" => {
            if !(value.is_finite() && value.fract() == 0.0 && (0.0..1e15).contains(&value)) {
                return None;
            }
            // Only digits and the separators a digit layout may hold: a decimal sign, a
            // thousands separator (`75 001` uses a no-break space) or a currency is a format
            // the other spreadsheets read as the plain number too.
            let layout = shown
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_alphabetic() || " -()/".contains(c));
            let digits: String = shown.chars().filter(char::is_ascii_digit).collect();
            let padded = format!("{:0>width$}", value as u64, width = digits.len());
            (layout && digits == padded && shown != (value as u64).to_string())
                .then(|| shown.to_string())
        }
        _ => None,
    }
}

/// A number format made of `0` digit placeholders and literal separators only: `00000` (a
/// postcode), `0000000000` or `00 00 00 00 00` (a phone number). Excel shows a whole number in
/// it padded with leading zeros, and with those separators; that text, not the bare number,
/// is what the person typed and sees ("01234", not "1234"). Other formats (decimals, `#`,
/// thousands separators, dates, currencies, text) are not laid out: their cells are read as
/// plain numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct DigitLayout {
    parts: Vec<LayoutPart>,
    digits: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum LayoutPart {
    Digit,
    Literal(char),
}

impl DigitLayout {
    /// The layout of a format code's first section (the one for positive numbers), if it is
    /// one of digits and separators: `0`, a space, `-`, `(`, `)`, `/`, `\c` or `"text"`.
    pub fn parse(code: &str) -> Option<DigitLayout> {
        let mut parts = Vec::new();
        let mut chars = code.chars();
        while let Some(c) = chars.next() {
            if parts.len() > MAX_LAYOUT_PARTS {
                return None;
            }
            match c {
                '0' => parts.push(LayoutPart::Digit),
                ' ' | '-' | '(' | ')' | '/' => parts.push(LayoutPart::Literal(c)),
                '\\' => parts.push(LayoutPart::Literal(chars.next()?)),
                '"' => loop {
                    match chars.next()? {
                        '"' => break,
                        q => parts.push(LayoutPart::Literal(q)),
                    }
                },
                ';' => break,
                _ => return None,
            }
        }
        let digits = parts.iter().filter(|p| **p == LayoutPart::Digit).count();
        if digits > MAX_SHOWN_DIGITS || parts.len() > MAX_LAYOUT_PARTS {
            return None;
        }
        // A lone `0` (built-in format 1) shows what the plain number shows.
        (digits > 1 || parts.len() > 1)
            .then_some(DigitLayout { parts, digits })
            .filter(|l| l.digits > 0)
    }

    /// `value` as the format shows it, for a whole number from 0 up to 10^15; `None` for
    /// others (negative numbers have a section of their own, fractions need decimals).
    pub fn apply(&self, value: f64) -> Option<String> {
        if !(value.is_finite() && value.fract() == 0.0 && (0.0..1e15).contains(&value)) {
            return None;
        }
        let number = format!("{:0>width$}", value as u64, width = self.digits);
        // Digits beyond the placeholders go with the first one, as in Excel.
        let extra = number.len() - self.digits;
        let mut digits = number.chars();
        let mut out = String::with_capacity(number.len() + self.parts.len());
        let mut first = true;
        for part in &self.parts {
            match part {
                LayoutPart::Digit => {
                    let take = if first { extra + 1 } else { 1 };
                    out.extend(digits.by_ref().take(take));
                    first = false;
                }
                LayoutPart::Literal(c) => out.push(*c),
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A format or shown text of thousands of zeros is no layout: it would make every cell
    /// that long, and past 65,535 `format!` panics on the width.
    #[test]
    fn huge_layouts_are_read_as_the_plain_number() {
        let zeros = "0".repeat(70_000);
        assert_eq!(DigitLayout::parse(&zeros), None);
        assert_eq!(percent_decimals(&format!("0.{zeros}%")), None);
        assert!(Shown::parse(&format!("0.{zeros}%")).is_none());
        assert_eq!(ods_shown("float", 1.0, &format!("{zeros}1")), None);
        assert_eq!(ods_shown("percentage", 0.5, &format!("50.{zeros}%")), None);
        // Up to 30 digits or decimals is followed.
        let thirty = "0".repeat(30);
        assert!(DigitLayout::parse(&thirty).is_some());
        assert!(percent_decimals(&format!("0.{thirty}%")).is_some());
    }

    #[test]
    fn zero_padding_number_formats_lay_out_whole_numbers() {
        let show = |code: &str, value: f64| DigitLayout::parse(code).and_then(|l| l.apply(value));
        assert_eq!(show("00000", 1234.0).as_deref(), Some("01234"));
        assert_eq!(show("00000", 123456.0).as_deref(), Some("123456"));
        assert_eq!(
            show("0000000000", 612345678.0).as_deref(),
            Some("0612345678")
        );
        assert_eq!(
            show("00 00 00 00 00", 612345678.0).as_deref(),
            Some("06 12 34 56 78")
        );
        assert_eq!(
            show("\\(000\\) 000-0000", 5551234567.0).as_deref(),
            Some("(555) 123-4567")
        );
        assert_eq!(
            show("\"FR\"00000;-00000", 75001.0).as_deref(),
            Some("FR75001")
        );
        // Not whole, negative, or not a layout of digits: read as a plain number.
        assert_eq!(show("00000", 12.5), None);
        assert_eq!(show("00000", -12.0), None);
        for code in [
            "General",
            "0",
            "0.00",
            "#,##0",
            "000.0",
            "@",
            "yyyy-mm-dd",
            "00%",
        ] {
            assert_eq!(DigitLayout::parse(code), None, "{code}");
        }
    }

    #[test]
    fn percentages_show_their_decimals() {
        let show = |code: &str, value: f64| Shown::parse(code).and_then(|s| s.apply(value));
        assert_eq!(show("0%", 0.15).as_deref(), Some("15%"));
        assert_eq!(show("0.00%", 0.125).as_deref(), Some("12.50%"));
        assert_eq!(show("0.0%", -0.5).as_deref(), Some("-50.0%"));
        assert_eq!(show("00%", 0.05).as_deref(), Some("5%"));
        for code in ["%", "#,##0%", "0.00", "0 %x"] {
            assert_eq!(Shown::parse(code), None, "{code}");
        }
    }

    #[test]
    fn an_ods_cell_is_judged_by_what_it_shows() {
        assert_eq!(
            ods_shown("float", 1234.0, "01234").as_deref(),
            Some("01234")
        );
        assert_eq!(
            ods_shown("float", 612345678.0, "06 12 34 56 78").as_deref(),
            Some("06 12 34 56 78")
        );
        assert_eq!(
            ods_shown("float", 552100554.0, "552 100 554").as_deref(),
            Some("552 100 554")
        );
        // The plain number, a decimal, a thousands separator, a currency: the plain number.
        assert_eq!(ods_shown("float", 75001.0, "75001"), None);
        assert_eq!(ods_shown("float", 12.5, "12.50"), None);
        assert_eq!(ods_shown("float", 75001.0, "75\u{a0}001"), None);
        assert_eq!(ods_shown("float", 75001.0, "75,001"), None);
        assert_eq!(ods_shown("float", 12.0, "12 €"), None);
        // Text that does not spell the value (a stale or hand-written text:p) is not taken.
        assert_eq!(ods_shown("float", 1234.0, "09999"), None);
        assert_eq!(
            ods_shown("percentage", 0.125, "12,50 %").as_deref(),
            Some("12.50%")
        );
        assert_eq!(ods_shown("percentage", 0.15, "15%").as_deref(), Some("15%"));
    }
}
