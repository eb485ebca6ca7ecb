//! Keeping a password out of server text. A server that refuses a login may quote the
//! client's command back (`a1 NO [AUTHENTICATIONFAILED] a1 LOGIN "claire@sender.test"
//! "ClairePW"`, `535 5.7.8 AUTH PLAIN AGNsYWly… failed`); that text goes into error values
//! shown by `hailer mailbox test`, the Settings tab and the log file. Every server text that
//! may hold an echo is passed through [`redact`] where the error value is built.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

/// What replaces a password (or its encoded forms) in server text.
pub const REDACTED: &str = "<redacted>";

/// The shortest run of base64 characters looked into: shorter ones hold too few bytes to
/// carry a password, and words of ordinary replies are left alone.
const MIN_BASE64_RUN: usize = 8;

/// `text` without `password`: as it is, IMAP-quoted (`\` and `"` escaped), and inside any
/// base64 run (AUTH PLAIN's `\0user\0password`, AUTH LOGIN's password alone, whatever the
/// authorization identity, with or without padding). An empty password leaves `text` as is.
pub fn redact(text: &str, password: &str) -> String {
    if password.is_empty() {
        return text.to_string();
    }
    let mut out = redact_base64_runs(text, password.as_bytes());
    let quoted = password.replace('\\', "\\\\").replace('"', "\\\"");
    if quoted != password {
        out = out.replace(&quoted, REDACTED);
    }
    out.replace(password, REDACTED)
}

fn is_base64_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')
}

/// Every run of base64 characters that decodes to bytes holding `secret` is replaced whole.
fn redact_base64_runs(text: &str, secret: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_base64_char) {
        out.push_str(&rest[..start]);
        let run_len = rest[start..]
            .find(|c: char| !is_base64_char(c))
            .unwrap_or(rest.len() - start);
        let run = &rest[start..start + run_len];
        if run.len() >= MIN_BASE64_RUN && decodes_to_secret(run, secret) {
            out.push_str(REDACTED);
        } else {
            out.push_str(run);
        }
        rest = &rest[start + run_len..];
    }
    out.push_str(rest);
    out
}

/// Whether `run`, decoded as base64 (also cut short by the server, so only its whole
/// 4-character groups are read), holds `secret`.
fn decodes_to_secret(run: &str, secret: &[u8]) -> bool {
    let body = run.trim_end_matches('=');
    let whole = &body[..body.len() - body.len() % 4];
    [body, whole].iter().any(|candidate| {
        STANDARD_NO_PAD
            .decode(candidate)
            .or_else(|_| STANDARD.decode(candidate))
            .is_ok_and(|bytes| bytes.windows(secret.len()).any(|w| w == secret))
    })
}

/// `text` with the user name and password of every URL in it (`scheme://user:pass@host`)
/// replaced: a config value such as a search or API URL may carry credentials, and config
/// output and errors quote those values.
pub fn redact_url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        // The authority ends at the first '/', '?', '#' or space; credentials end at its last '@'.
        let authority_len = tail
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace() || c == '"')
            .unwrap_or(tail.len());
        match tail[..authority_len].rfind('@') {
            Some(userinfo_end) => {
                out.push_str(REDACTED);
                rest = &tail[userinfo_end..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PW: &str = "ClairePW_XYZ";

    #[test]
    fn the_password_as_it_is_and_imap_quoted() {
        let echo = format!("a1 NO [AUTHENTICATIONFAILED] a1 LOGIN \"claire@sender.test\" \"{PW}\"");
        let shown = redact(&echo, PW);
        assert!(!shown.contains(PW), "{shown}");
        assert!(shown.contains("claire@sender.test"), "{shown}");
        assert!(shown.contains(REDACTED), "{shown}");
        let odd = "pa\"ss\\word";
        let echo = "a1 LOGIN \"u\" \"pa\\\"ss\\\\word\"";
        let shown = redact(echo, odd);
        assert!(
            !shown.contains("ss\\\\word") && !shown.contains("pa\\\""),
            "{shown}"
        );
    }

    #[test]
    fn auth_plain_and_login_base64_forms() {
        for (user, authz) in [("claire@sender.test", ""), ("c", "admin")] {
            let plain = STANDARD.encode(format!("{authz}\0{user}\0{PW}"));
            let echo = format!("535 5.7.8 AUTH PLAIN {plain} failed");
            let shown = redact(&echo, PW);
            assert!(!shown.contains(&plain), "{shown}");
            assert_eq!(shown, format!("535 5.7.8 AUTH PLAIN {REDACTED} failed"));
            let no_pad = plain.trim_end_matches('=');
            assert!(!redact(no_pad, PW).contains(no_pad));
        }
        let login = STANDARD.encode(PW);
        let shown = redact(&format!("535 authentication failed for {login}"), PW);
        assert!(!shown.contains(&login), "{shown}");
        // A run cut off by the server still hides what it holds.
        let plain = STANDARD.encode(format!("\0claire@sender.test\0{PW}-and-more"));
        let cut = &plain[..plain.len() - 3];
        assert!(!redact(cut, PW).contains(cut));
    }

    #[test]
    fn other_text_is_left_alone() {
        let reply = "535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6";
        assert_eq!(redact(reply, PW), reply);
        assert_eq!(redact(reply, ""), reply);
    }

    #[test]
    fn url_credentials_are_hidden_wherever_a_url_is_quoted() {
        assert_eq!(
            redact_url_credentials("url = \"http://su:PW8@127.0.0.1:9/html/?q={query}\""),
            "url = \"http://<redacted>@127.0.0.1:9/html/?q={query}\""
        );
        assert_eq!(
            redact_url_credentials("a https://tok@h.test and ftp://u:p@x@y.test/z"),
            "a https://<redacted>@h.test and ftp://<redacted>@y.test/z"
        );
        // An address in a path or query is no credential.
        let plain = "https://h.test/u/a@b.test?to=c@d.test and mailto:x@y.test";
        assert_eq!(redact_url_credentials(plain), plain);
    }
}
