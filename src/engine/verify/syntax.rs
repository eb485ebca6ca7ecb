//! Address syntax: the practical sender-side policy of `tests/data/syntax/README.md`.
//!
//! Accept only what can be put in `RCPT TO:<…>` as given and is plausibly a public mailbox:
//! an unquoted dot-atom local part (ASCII `atext`, or Unicode letters, marks and digits in NFC,
//! not starting with a mark), at a domain of at least two labels that is IDNA2008-valid with
//! no mapping other than lower-casing, whose TLD is alphabetic (or an A-label) and not a
//! special-use name. Nothing is repaired: a string that would need normalising, trimming or
//! unquoting is rejected, because silently changing an address is a separate, explicit step.

use std::fmt;

use finl_unicode::categories::CharacterCategories;
use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
use unicode_normalization::{IsNormalized, is_nfc_quick};

/// Special-use TLDs (RFC 2606, RFC 6761, RFC 6762, RFC 7686, RFC 9476 and ICANN's `.internal`).
pub const SPECIAL_USE_TLDS: &[&str] = &[
    "arpa",
    "example",
    "internal",
    "invalid",
    "local",
    "localhost",
    "onion",
    "test",
];

/// Every special-use TLD, as the `allow_special_use` list [`check`] takes: the policy of
/// the import and the outbox build, which accept `.test` addresses and leave DNS to verify.
pub fn any_special_use() -> &'static [String] {
    static ALL: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| SPECIAL_USE_TLDS.iter().map(|s| s.to_string()).collect());
    &ALL
}

const MAX_LOCAL: usize = 64;
const MAX_ADDRESS: usize = 254;

/// A syntactically acceptable address, ready for `RCPT TO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The local part exactly as given.
    pub local: String,
    /// The domain in lower-case A-label (punycode) form.
    pub domain: String,
    /// The local part is not ASCII, so probing and sending need SMTPUTF8.
    pub smtputf8: bool,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

/// Why an address is refused; the text goes into the result's detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    #[error("empty address")]
    Empty,
    #[error("not an address (no @)")]
    NoAt,
    #[error("empty local part")]
    EmptyLocal,
    #[error("empty domain")]
    EmptyDomain,
    #[error("whitespace or control character")]
    Whitespace,
    #[error("quoted local part")]
    Quoted,
    #[error("address literal instead of a domain")]
    Literal,
    #[error("local part longer than 64 octets")]
    LocalTooLong,
    #[error("address longer than 254 octets")]
    TooLong,
    #[error("dot at the start or end of the local part, or two dots in a row")]
    LocalDots,
    #[error("character {0:?} is not allowed in a local part")]
    LocalChar(char),
    #[error("local part starts with a combining mark")]
    LeadingMark,
    #[error("local part is not in Unicode normal form C")]
    NotNfc,
    #[error("domain has a single label")]
    Dotless,
    #[error("domain is not a valid host name: {0}")]
    Domain(String),
    #[error("top-level domain {0:?} is not alphabetic")]
    BadTld(String),
    #[error("special-use top-level domain .{0}")]
    SpecialUse(String),
}

/// Check `input` against the policy. `allow_special_use` lists special-use TLD labels accepted
/// anyway (`[verify] allow_special_use`, e.g. `["test"]` for the mail rig).
pub fn check(input: &str, allow_special_use: &[String]) -> Result<Address, SyntaxError> {
    if input.is_empty() {
        return Err(SyntaxError::Empty);
    }
    // "pas une adresse" is first of all not an address: the spaces are a detail of that.
    let Some(at) = input.rfind('@') else {
        return Err(SyntaxError::NoAt);
    };
    if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(SyntaxError::Whitespace);
    }
    let (local, domain) = (&input[..at], &input[at + 1..]);
    if local.starts_with('"') {
        return Err(SyntaxError::Quoted);
    }
    if domain.starts_with('[') {
        return Err(SyntaxError::Literal);
    }
    check_local(local)?;
    let ascii_domain = check_domain(domain, allow_special_use)?;
    if local.len() + 1 + ascii_domain.len() > MAX_ADDRESS {
        return Err(SyntaxError::TooLong);
    }
    Ok(Address {
        local: local.to_string(),
        domain: ascii_domain,
        smtputf8: !local.is_ascii(),
    })
}

/// RFC 5322 `atext` (ASCII part).
fn is_ascii_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

fn check_local(local: &str) -> Result<(), SyntaxError> {
    if local.is_empty() {
        return Err(SyntaxError::EmptyLocal);
    }
    if local.len() > MAX_LOCAL {
        return Err(SyntaxError::LocalTooLong);
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(SyntaxError::LocalDots);
    }
    for c in local.chars() {
        let ok = if c.is_ascii() {
            c == '.' || is_ascii_atext(c)
        } else {
            c.is_letter() || c.is_mark() || c.is_number()
        };
        if !ok {
            return Err(SyntaxError::LocalChar(c));
        }
    }
    if local
        .split('.')
        .any(|atom| atom.chars().next().is_some_and(|c| c.is_mark()))
    {
        return Err(SyntaxError::LeadingMark);
    }
    if !local.is_ascii() && is_nfc_quick(local.chars()) != IsNormalized::Yes {
        // Quick check says "maybe" for some sequences; settle it the slow way.
        if unicode_normalization::UnicodeNormalization::nfc(local).ne(local.chars()) {
            return Err(SyntaxError::NotNfc);
        }
    }
    Ok(())
}

/// The lower-case A-label (ASCII) form of `domain` under the UTS-46 rules this check uses;
/// `None` when it has none. The sender writes an accented domain this way, so it mails the
/// very domain that was checked.
pub fn ascii_domain(domain: &str) -> Option<String> {
    Uts46::new()
        .to_ascii(
            domain.to_lowercase().as_bytes(),
            AsciiDenyList::STD3,
            Hyphens::Check,
            DnsLength::Verify,
        )
        .ok()
        .map(|a| a.into_owned())
}

/// The lower-case A-label form of `domain`, or why it is refused.
fn check_domain(domain: &str, allow_special_use: &[String]) -> Result<String, SyntaxError> {
    if domain.is_empty() {
        return Err(SyntaxError::EmptyDomain);
    }
    let lower = domain.to_lowercase();
    let bad = |why: &str| SyntaxError::Domain(why.to_string());
    let uts46 = Uts46::new();
    let ascii = ascii_domain(&lower)
        .ok_or_else(|| bad("not IDNA2008-valid, or a label is empty or longer than 63 octets"))?;
    // UTS-46 maps more than case (full-width dots and letters, compatibility forms, NFC):
    // the policy allows lower-casing only, so each label as given must be either its A-label
    // or its U-label, unchanged.
    let (unicode, roundtrip) =
        uts46.to_unicode(ascii.as_bytes(), AsciiDenyList::STD3, Hyphens::Check);
    let same_labels = lower.split('.').count() == ascii.split('.').count()
        && lower
            .split('.')
            .zip(ascii.split('.').zip(unicode.split('.')))
            .all(|(given, (a, u))| given == a || given == u);
    if roundtrip.is_err() || !same_labels {
        return Err(bad(
            "needs mapping beyond lower-casing (full-width or compatibility characters, or not NFC)",
        ));
    }
    // IDNA2008 allows letters, marks and digits in U-labels; UTS-46 also lets symbols through.
    if let Some(c) = unicode
        .chars()
        .find(|c| !(c.is_ascii() || c.is_letter() || c.is_mark() || c.is_number()))
    {
        return Err(SyntaxError::Domain(format!(
            "character {c:?} is not allowed by IDNA2008"
        )));
    }
    let labels: Vec<&str> = ascii.split('.').collect();
    if labels.len() < 2 {
        return Err(SyntaxError::Dotless);
    }
    for label in &labels {
        let b = label.as_bytes();
        if b.len() >= 4 && &b[2..4] == b"--" && !label.starts_with("xn--") {
            return Err(SyntaxError::Domain(format!(
                "label {label:?} has reserved hyphens"
            )));
        }
    }
    let tld = labels[labels.len() - 1];
    let alphabetic = tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic());
    if !(alphabetic || tld.starts_with("xn--")) {
        return Err(SyntaxError::BadTld(tld.to_string()));
    }
    if SPECIAL_USE_TLDS.contains(&tld)
        && !allow_special_use
            .iter()
            .any(|a| a.eq_ignore_ascii_case(tld))
    {
        return Err(SyntaxError::SpecialUse(tld.to_string()));
    }
    Ok(ascii)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Address {
        check(s, &[]).unwrap_or_else(|e| panic!("{s:?} refused: {e}"))
    }
    fn err(s: &str) -> SyntaxError {
        check(s, &[]).expect_err(s)
    }

    #[test]
    fn plain_addresses_pass_and_keep_their_local_part() {
        let a = ok("Jane.Doe+news@Example.COM");
        assert_eq!(a.local, "Jane.Doe+news");
        assert_eq!(a.domain, "example.com");
        assert!(!a.smtputf8);
        assert_eq!(a.to_string(), "Jane.Doe+news@example.com");
    }

    #[test]
    fn idn_domain_becomes_punycode() {
        assert_eq!(ok("info@bücher.ch").domain, "xn--bcher-kva.ch");
        assert_eq!(ok("info@BÜCHER.ch").domain, "xn--bcher-kva.ch");
        assert_eq!(ok("info@xn--bcher-kva.ch").domain, "xn--bcher-kva.ch");
    }

    #[test]
    fn unicode_local_part_needs_smtputf8() {
        let a = ok("инфо@письмо.рф");
        assert!(a.smtputf8);
        assert!(a.domain.starts_with("xn--"));
    }

    #[test]
    fn refusals_name_the_reason() {
        assert_eq!(err(""), SyntaxError::Empty);
        assert_eq!(err("jane"), SyntaxError::NoAt);
        assert_eq!(err(" jane@acme.com"), SyntaxError::Whitespace);
        assert_eq!(err("pas une adresse"), SyntaxError::NoAt);
        assert_eq!(SyntaxError::NoAt.to_string(), "not an address (no @)");
        assert_eq!(err("jane@acme.com\r"), SyntaxError::Whitespace);
        assert_eq!(err("\"jane\"@acme.com"), SyntaxError::Quoted);
        assert_eq!(err("jane@[127.0.0.1]"), SyntaxError::Literal);
        assert_eq!(err("jane..doe@acme.com"), SyntaxError::LocalDots);
        assert_eq!(err("jane@localhost"), SyntaxError::Dotless);
        assert_eq!(err("jane@acme.c"), SyntaxError::BadTld("c".into()));
        assert_eq!(err("jane@acme.123"), SyntaxError::BadTld("123".into()));
        assert_eq!(
            err("jane@acme.test"),
            SyntaxError::SpecialUse("test".into())
        );
        assert!(matches!(
            err("“jane”@acme.com"),
            SyntaxError::LocalChar('“')
        ));
        assert!(matches!(
            err("ja\u{200b}ne@acme.com"),
            SyntaxError::LocalChar(_)
        ));
        assert!(matches!(err("jane@acme．com"), SyntaxError::Domain(_)));
        assert!(matches!(err("jane@ab--cd.com"), SyntaxError::Domain(_)));
        assert!(matches!(err("jane@xn--zz.com"), SyntaxError::Domain(_)));
        assert_eq!(
            err(&format!("{}@acme.com", "a".repeat(65))),
            SyntaxError::LocalTooLong
        );
    }

    #[test]
    fn decomposed_unicode_is_not_repaired() {
        assert_eq!(err("jose\u{301}@acme.com"), SyntaxError::NotNfc);
        assert!(matches!(
            err("info@bu\u{308}cher.ch"),
            SyntaxError::Domain(_)
        ));
        assert!(check("josé@acme.com", &[]).is_ok());
    }

    #[test]
    fn special_use_can_be_allowed_by_bare_label() {
        let allow = vec!["test".to_string()];
        assert_eq!(
            check("jane.doe@acme.test", &allow).unwrap().domain,
            "acme.test"
        );
        assert!(check("jane.doe@acme.invalid", &allow).is_err());
    }

    #[test]
    fn overall_length_counts_the_ascii_domain() {
        let local = "a".repeat(64);
        let label = "b".repeat(63);
        let domain = format!("{label}.{label}.{label}.{}.com", "c".repeat(20));
        let addr = format!("{local}@{domain}");
        assert!(addr.len() > 254);
        assert_eq!(err(&addr), SyntaxError::TooLong);
    }
}
