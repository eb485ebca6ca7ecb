//! Cell cleaning and the keys that group rows: company key, person key, domain.
//!
//! The company key is how a prospect finds its message and its domain, so "ACME S.A.",
//! "Acme SA" and "acme" must agree. The rules, in order:
//! 1. NFKD-decompose, drop combining marks (accents), lowercase; letters that do not
//!    decompose are spelled out (œ → oe, æ → ae, ß → ss, ø → o, ł → l, đ/ð → d, þ → th);
//! 2. delete `.` `'` `’` (so "S.A." is "sa" and "L'Étoile" is "letoile");
//! 3. every other non-alphanumeric character separates words;
//! 4. drop legal-form words (SA, SAS, SARL, GmbH, Inc, Ltd, LLC, SE, Group, ApS, …), and
//!    the multi-word forms A/S and sp. z o.o. at the end, unless nothing else would remain;
//! 5. join the remaining words with one space.
//!
//! `benches/python_import.py` implements the same rules for the comparison benchmark.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// Legal forms and group words removed from company keys (already folded to lowercase ASCII).
pub const LEGAL_FORMS: &[&str] = &[
    "sa",
    "sas",
    "sasu",
    "sarl",
    "eurl",
    "sci",
    "snc",
    "scop",
    "selarl",
    "gmbh",
    "ag",
    "kg",
    "ug",
    "ohg",
    "inc",
    "incorporated",
    "ltd",
    "limited",
    "llc",
    "llp",
    "plc",
    "corp",
    "corporation",
    "co",
    "cie",
    "se",
    "group",
    "groupe",
    "holding",
    "bv",
    "nv",
    "spa",
    "srl",
    "sl",
    "ab",
    "oy",
    "as",
    "pty",
    "aps",
    "asa",
    "oyj",
    "sro",
    "bvba",
    "sprl",
    "kft",
    "zrt",
];

/// Legal forms of several words once folded ("A/S" is `a s`, "sp. z o.o." is `sp z oo`),
/// removed from the end of a company key.
pub const LEGAL_FORM_SUFFIXES: &[&[&str]] = &[&["a", "s"], &["sp", "z", "oo"]];

/// The lowercase letters that NFKD leaves whole, spelled as a person typing without them
/// would: "Cœur" and "Coeur", "Weiß" and "Weiss" are one company.
fn spell_out(c: char) -> Option<&'static str> {
    Some(match c {
        'œ' => "oe",
        'æ' => "ae",
        'ß' => "ss",
        'ø' => "o",
        'ł' => "l",
        'đ' | 'ð' => "d",
        'þ' => "th",
        'ı' => "i",
        _ => return None,
    })
}

/// Trim and NFC-normalise a cell, and take off the `'` hailer's export puts before a formula
/// sign (see [`strip_formula_guard`]). Most cells are already NFC, so the quick check avoids
/// allocating a second string for them.
pub fn clean_cell(raw: &str) -> String {
    // Zero-width characters are not whitespace to Rust, but text pasted from web pages and
    // CRMs brings them along at the ends of cells, where they are invisible in any viewer
    // and would split a company key or spoil an address.
    let trimmed = raw.trim_matches(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '\u{feff}' | '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}'
            )
    });
    let trimmed = strip_formula_guard(trimmed);
    match is_nfc_quick(trimmed.chars()) {
        IsNormalized::Yes => trimmed.to_string(),
        _ => trimmed.nfc().collect(),
    }
}

/// Signs that make a spreadsheet read a cell as a formula. The export puts a `'` before a cell
/// that starts with one (`engine::export::neutralize`), and the import takes it off again.
pub const FORMULA_SIGNS: [char; 4] = ['=', '+', '-', '@'];

/// Undo the export's guard against formula injection: `'=SUM(A1)` is `=SUM(A1)` again and
/// `'+33 6` is `+33 6`, so an exported file imports back with the values it was made from.
/// One `'` comes off a run of them before a formula sign (the export adds one to a value that
/// already starts that way); a `'` before anything else is data (`'til`, `'s-Hertogenbosch`).
pub fn strip_formula_guard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.trim_start_matches('\'').starts_with(FORMULA_SIGNS) => rest,
        _ => cell,
    }
}

/// Lowercase ASCII-ish words with accents removed: the common base of every key.
fn fold_words(text: &str, deleted: &[char]) -> Vec<String> {
    if text.is_ascii() {
        // Fast path for the common case: no decomposition or Unicode case rules needed.
        let mut words = Vec::new();
        let mut word = String::new();
        for c in text.chars() {
            if deleted.contains(&c) {
                continue;
            }
            if c.is_ascii_alphanumeric() {
                word.push(c.to_ascii_lowercase());
            } else if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
        return words;
    }
    let mut folded = String::with_capacity(text.len());
    for c in text.nfkd() {
        if is_combining_mark(c) || deleted.contains(&c) {
            continue;
        }
        for lower in c.to_lowercase() {
            match spell_out(lower) {
                Some(ascii) => folded.push_str(ascii),
                None => folded.push(if lower.is_alphanumeric() { lower } else { ' ' }),
            }
        }
    }
    folded.split_whitespace().map(str::to_string).collect()
}

pub fn company_key(name: &str) -> String {
    let words = fold_words(name, &['.', '\'', '’']);
    let mut kept: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| !LEGAL_FORMS.contains(w))
        .collect();
    if let Some(suffix) = LEGAL_FORM_SUFFIXES.iter().find(|s| kept.ends_with(s)) {
        kept.truncate(kept.len() - suffix.len());
    }
    if kept.is_empty() {
        words.join(" ")
    } else {
        kept.join(" ")
    }
}

/// Key for "the same person": first and last name folded, so "Jean-Pierre" and
/// "jean pierre" match, but "Jean" and "Jeanne" do not.
pub fn person_key(firstname: &str, lastname: &str) -> String {
    format!(
        "{}|{}",
        fold_words(firstname, &['\'', '’', '.']).join(" "),
        fold_words(lastname, &['\'', '’', '.']).join(" ")
    )
}

/// Header cell → comparable form: accents and case folded, spaces, punctuation removed.
pub fn header_key(header: &str) -> String {
    fold_words(header, &[]).concat()
}

/// `https://www.Acme.test/contact` → `acme.test`. `None` when it cannot be a host name.
pub fn normalize_domain(raw: &str) -> Option<String> {
    let mut s = raw.trim().to_lowercase();
    if let Some(pos) = s.find("://") {
        s = s[pos + 3..].to_string();
    }
    if let Some(at) = s.rfind('@') {
        s = s[at + 1..].to_string();
    }
    let host_end = s.find(['/', '?', '#']).unwrap_or(s.len());
    s.truncate(host_end);
    if let Some(colon) = s.find(':') {
        s.truncate(colon);
    }
    let s = s.trim_end_matches('.');
    let s = s.strip_prefix("www.").unwrap_or(s);
    is_host_name(s).then(|| s.to_string())
}

/// Sites that host pages about a company (profiles, posts, listings, short links) rather
/// than being its own: a value on one of them is a page address, never the company's domain.
const PLATFORM_HOSTS: &[&str] = &[
    "linkedin.com",
    "lnkd.in",
    "facebook.com",
    "fb.com",
    "twitter.com",
    "x.com",
    "t.co",
    "instagram.com",
    "youtube.com",
    "youtu.be",
    "tiktok.com",
    "pinterest.com",
    "github.com",
    "gitlab.com",
    "google.com",
    "goo.gl",
    "bit.ly",
    "linktr.ee",
    "medium.com",
    "wikipedia.org",
    "crunchbase.com",
    "wellfound.com",
    "angel.co",
    "glassdoor.com",
    "indeed.com",
    "welcometothejungle.com",
    "societe.com",
    "pappers.fr",
    "pagesjaunes.fr",
    "yelp.com",
    "tripadvisor.com",
    "calendly.com",
];

/// The platform a host belongs to, when it is one of [`PLATFORM_HOSTS`] or a subdomain of one
/// (fr.linkedin.com, m.facebook.com).
pub fn platform_host(host: &str) -> Option<&'static str> {
    PLATFORM_HOSTS
        .iter()
        .copied()
        .find(|p| host == *p || host.strip_suffix(p).is_some_and(|sub| sub.ends_with('.')))
}

/// At least two labels of letters, digits and inner hyphens.
fn is_host_name(s: &str) -> bool {
    let valid_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let labels: Vec<&str> = s.split('.').collect();
    labels.len() >= 2 && s.len() <= 253 && labels.iter().all(|l| valid_label(l))
}

/// An address as imported or typed, in the form stored: a `mailto:` (any case) taken off,
/// the domain lower-cased without a trailing dot. `None` when it is not an address the
/// outbox could send to; [`checked_email`] says why.
pub fn normalize_email(raw: &str) -> Option<String> {
    checked_email(raw).ok()
}

/// [`normalize_email`], with the reason a value is refused: the verify engine's syntax policy
/// (special-use domains such as `.test` allowed, as the outbox build allows them), so a value
/// the outbox would call "invalid syntax" is refused where it comes in, naming the problem.
pub fn checked_email(raw: &str) -> Result<String, String> {
    let s = bare_address(raw);
    let (local, domain) = s.rsplit_once('@').ok_or("no @")?;
    if local.is_empty() || local.contains(char::is_whitespace) || local.contains('@') {
        return Err("not one address".into());
    }
    // The domain as written, lower-cased: unlike a web address, `www.` here is part of the
    // mail domain (jane@www.acme.test is not jane@acme.test).
    let domain = domain.to_lowercase();
    let domain = domain.strip_suffix('.').unwrap_or(&domain);
    if !is_host_name(domain) {
        return Err(format!("{domain:?} is not a domain name"));
    }
    let email = format!("{local}@{domain}");
    use crate::engine::verify::syntax;
    syntax::check(&email, syntax::any_special_use()).map_err(|e| e.to_string())?;
    Ok(email)
}

/// The address in a cell or entry as people paste them: `Jane Doe <jane@acme.test>` (what
/// CRM exports and mail clients write), `mailto:jane@acme.test?subject=…`, or the address
/// alone, trimmed.
pub fn bare_address(raw: &str) -> &str {
    let mut s = raw.trim();
    // "Jane Doe <jane@acme.test>": the address between the brackets. Not in a list ("Jane
    // <j@a.test>, Bob <b@a.test>"): the whole text then reads as no one address. A quoted
    // name may hold anything ("Doe, Jane").
    let unquoted_name = |name: &str| name.split('"').step_by(2).collect::<String>();
    if s.ends_with('>')
        && let Some(open) = s.rfind('<')
        && !unquoted_name(&s[..open]).contains(['@', ',', ';', '<', '>'])
    {
        s = s[open + 1..s.len() - 1].trim();
    }
    if s.get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("mailto:"))
    {
        // A mailto link may carry "?subject=…" after the address.
        s = s[7..].split('?').next().unwrap_or_default();
    }
    s
}

/// A suppression entry as typed or pasted: an address, also as `Name <addr>` or
/// `mailto:addr`, or a whole domain as `@domain`. Lower-cased, with a trailing dot dropped,
/// in the form the suppression check compares (`jane@acme.test`, `@acme.test`). `Err` says
/// why the entry could never match anything, so it is refused instead of stored uselessly.
pub fn suppression_entry(raw: &str) -> Result<String, String> {
    let s = bare_address(raw).to_lowercase();
    if let Some(domain) = s.strip_prefix('@') {
        let domain = domain.strip_suffix('.').unwrap_or(domain);
        return if is_host_name(domain) {
            Ok(format!("@{domain}"))
        } else {
            Err(format!("{domain:?} is not a domain name"))
        };
    }
    if s.starts_with('*') {
        return Err("no wildcards: @domain suppresses a whole domain".into());
    }
    if !s.contains('@') {
        return Err("neither an address nor @domain".into());
    }
    normalize_email(&s).ok_or_else(|| "not a valid address".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Migration 14 clears, from earlier imports, the domains the importer now refuses: each
    /// host it names must be one (a typo there would leave a platform's domains in place).
    #[test]
    fn the_migration_clearing_platform_domains_names_platform_hosts() {
        let sql = crate::store::schema::MIGRATIONS[13];
        let values = &sql[sql.find("VALUES").unwrap()..];
        let values = &values[..values.find(';').unwrap()];
        let hosts: Vec<&str> = values.split('\'').skip(1).step_by(2).collect();
        assert!(hosts.contains(&"linkedin.com"), "{hosts:?}");
        for host in hosts {
            assert_eq!(platform_host(host), Some(host));
        }
    }

    #[test]
    fn platform_hosts_and_their_subdomains() {
        assert_eq!(platform_host("linkedin.com"), Some("linkedin.com"));
        assert_eq!(platform_host("fr.linkedin.com"), Some("linkedin.com"));
        assert_eq!(platform_host("x.com"), Some("x.com"));
        assert_eq!(platform_host("box.com"), None);
        assert_eq!(platform_host("notlinkedin.com"), None);
        assert_eq!(platform_host("acme.test"), None);
    }

    #[test]
    fn suppression_entries_as_pasted() {
        for (raw, want) in [
            (" Jane@Acme.TEST ", "jane@acme.test"),
            ("A One <a@Catchall.test>", "a@catchall.test"),
            ("\"Doe, Jane\" <jane@acme.test>", "jane@acme.test"),
            ("mailto:b@catchall.test", "b@catchall.test"),
            (
                "MAILTO:b@catchall.test?subject=unsubscribe",
                "b@catchall.test",
            ),
            ("x@sub.example.test.", "x@sub.example.test"),
            ("@Acme.test", "@acme.test"),
            ("@acme.test.", "@acme.test"),
        ] {
            assert_eq!(suppression_entry(raw).as_deref(), Ok(want), "{raw:?}");
        }
        for raw in [
            "acme",
            "@nodot",
            "@.test",
            "x@.test",
            "*@wild.test",
            "",
            "a b@x.test",
            "<>",
        ] {
            assert!(suppression_entry(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn company_keys_of_real_looking_names() {
        let table = [
            ("Acme SA", "acme"),
            ("ACME S.A.", "acme"),
            ("acme", "acme"),
            ("  Acme   S.A.S. ", "acme"),
            ("Groupe Lumière SAS", "lumiere"),
            ("Smith & Sons Ltd", "smith sons"),
            ("Smith & Sons Limited", "smith sons"),
            ("Nordlicht GmbH", "nordlicht"),
            ("Blue Harbor Inc.", "blue harbor"),
            ("Blue Harbor, Inc", "blue harbor"),
            (
                "Société Générale des Tests S.A.",
                "societe generale des tests",
            ),
            ("L'Étoile du Nord SARL", "letoile du nord"),
            ("Boulangerie Dupont EURL", "boulangerie dupont"),
            ("Müller & Söhne AG", "muller sohne"),
            ("Datacorp LLC", "datacorp"),
            ("Vert-Pré Holding SE", "vert pre"),
            ("Cie des Eaux Claires", "des eaux claires"),
            ("Group SA", "group sa"),
            ("3M Test Industries PLC", "3m test industries"),
            ("Cœur de Loire SARL", "coeur de loire"),
            ("COEUR DE LOIRE", "coeur de loire"),
            ("Weiß Maschinenbau AG", "weiss maschinenbau"),
            ("Ørsted A/S", "orsted"),
            ("Łódź Tech sp. z o.o.", "lodz tech"),
            ("Æble ApS", "aeble"),
            ("Nordisk A/S", "nordisk"),
        ];
        for (name, key) in table {
            assert_eq!(company_key(name), key, "company_key({name:?})");
        }
    }

    #[test]
    fn person_keys_fold_accents_and_hyphens() {
        assert_eq!(person_key("Jean-Pierre", "Lefèvre"), "jean pierre|lefevre");
        assert_eq!(
            person_key("jean pierre", "LEFEVRE"),
            person_key("Jean-Pierre", "Lefèvre")
        );
        assert_ne!(person_key("Jean", "Martin"), person_key("Jeanne", "Martin"));
        assert_eq!(person_key("Seán", "O'Brien"), "sean|obrien");
    }

    #[test]
    fn cells_are_trimmed_and_nfc() {
        // "é" written as e + combining acute becomes the single code point.
        assert_eq!(clean_cell("  Ele\u{301}onore \t"), "El\u{e9}onore");
        assert_eq!(clean_cell("\u{feff}Prénom"), "Prénom");
        assert_eq!(clean_cell("\u{200b}Acme SA\u{2060} \u{200d}"), "Acme SA");
        assert_eq!(clean_cell("e\u{301}"), "\u{e9}");
        assert_eq!(clean_cell(" '=SUM(A1) "), "=SUM(A1)");
    }

    #[test]
    fn formula_guard_comes_off() {
        for (cell, value) in [
            ("'=1+1", "=1+1"),
            ("'+33 6", "+33 6"),
            ("'-2", "-2"),
            ("'@Acme", "@Acme"),
            ("''=x", "'=x"),
            ("'''-x", "''-x"),
            ("'til", "'til"),
            ("'s-Hertogenbosch", "'s-Hertogenbosch"),
            ("'", "'"),
            ("it's", "it's"),
            ("=x", "=x"),
        ] {
            assert_eq!(strip_formula_guard(cell), value, "{cell:?}");
        }
    }

    #[test]
    fn header_keys() {
        assert_eq!(header_key("Prénom"), "prenom");
        assert_eq!(header_key("First Name"), "firstname");
        assert_eq!(header_key("first_name"), "firstname");
        assert_eq!(header_key(" Nom de famille "), "nomdefamille");
        assert_eq!(header_key("E-mail"), "email");
    }

    #[test]
    fn domains() {
        assert_eq!(
            normalize_domain("https://www.Acme.test/contact?x=1").as_deref(),
            Some("acme.test")
        );
        assert_eq!(normalize_domain("acme.test.").as_deref(), Some("acme.test"));
        assert_eq!(
            normalize_domain("acme.test:8080").as_deref(),
            Some("acme.test")
        );
        assert_eq!(normalize_domain("not a domain"), None);
        assert_eq!(normalize_domain("localhost"), None);
        assert_eq!(normalize_domain("-bad.test"), None);
    }

    #[test]
    fn emails() {
        assert_eq!(
            normalize_email("Jane.Doe@ACME.test").as_deref(),
            Some("Jane.Doe@acme.test")
        );
        assert_eq!(normalize_email("no-at-sign"), None);
        assert_eq!(normalize_email("a b@acme.test"), None);
        assert_eq!(normalize_email("x@nodot"), None);
        assert_eq!(
            normalize_email("jane@WWW.acme.test.").as_deref(),
            Some("jane@www.acme.test")
        );
        assert_eq!(normalize_email("jane@acme.test/x"), None);
        // What the outbox would refuse as invalid syntax is refused here, with the reason.
        assert_eq!(
            normalize_email("Mailto:E@G.TEST").as_deref(),
            Some("E@g.test")
        );
        assert!(
            checked_email("j:k@c.test")
                .unwrap_err()
                .contains("':' is not allowed")
        );
        assert!(checked_email("a..b@c.test").is_err());
        // As CRM exports and mail clients write an address, with the person's name.
        assert_eq!(
            normalize_email("Deanna Troi <deanna@Starfleet.test>").as_deref(),
            Some("deanna@starfleet.test")
        );
        assert_eq!(
            normalize_email("\"Troi, Deanna\" <deanna@starfleet.test>").as_deref(),
            Some("deanna@starfleet.test")
        );
        assert_eq!(
            normalize_email("mailto:deanna@starfleet.test?subject=Hi").as_deref(),
            Some("deanna@starfleet.test")
        );
        assert_eq!(normalize_email("Deanna <>"), None);
        // A list is no one address: never the last one's for the row's person.
        assert_eq!(
            normalize_email("Jane <jane@a.test>, Bob <bob@a.test>"),
            None
        );
    }
}
