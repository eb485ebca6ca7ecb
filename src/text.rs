//! Small helpers for the text people read: counted nouns ("1 company", "2 companies") and
//! long details shortened at a word.

/// `n` and the noun in the number it takes: `count(1, "row", "rows")` is "1 row".
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `text` in at most `max` characters: cut at the last space before the limit (or at the
/// limit in a long word) with `…` added, so a cut detail reads as one.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let head: String = text.chars().take(max.saturating_sub(1)).collect();
    let cut = match head.rfind(' ') {
        Some(i) if i >= head.len() / 2 => &head[..i],
        _ => &head,
    };
    format!("{}…", cut.trim_end_matches([' ', ',', ';', ':']))
}

/// The parts that are there, joined with " · " as the status lines and summaries show them.
pub fn join_present(parts: &[Option<String>]) -> String {
    parts
        .iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join(" · ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_long_text_is_cut_at_a_word_and_says_so() {
        assert_eq!(super::shorten("short", 10), "short");
        assert_eq!(
            super::shorten("Greylisted, please try again later", 20),
            "Greylisted, please…"
        );
        assert_eq!(super::shorten("abcdefghij", 5), "abcd…");
        assert!(super::shorten(&"é".repeat(200), 80).chars().count() <= 80);
    }

    #[test]
    fn one_is_singular_and_zero_plural() {
        assert_eq!(super::count(1, "company", "companies"), "1 company");
        assert_eq!(super::count(0, "company", "companies"), "0 companies");
        assert_eq!(super::count(12, "row", "rows"), "12 rows");
    }
}
