//! Finding SMTP reply codes, RFC 3463 status codes, SMTP commands and email addresses in free text.

/// Valid SMTP reply codes by class (RFC 5321, 3463, 4954, 5248, 7504).
const REPLY5: &[u16] = &[
    550, 552, 553, 551, 521, 525, 523, 524, 530, 533, 534, 535, 538, 555, 556, 554, 500, 501, 502,
    503, 504,
];
const REPLY4: &[u16] = &[421, 450, 451, 452, 422, 430, 432, 453, 454, 455, 458, 459];
const REPLY2: &[u16] = &[211, 214, 220, 221, 235, 250, 251, 252, 253];

fn is_reply_code(code: u16) -> bool {
    REPLY5.contains(&code) || REPLY4.contains(&code) || REPLY2.contains(&code)
}

/// True for a syntactically valid status code `C.S.D` (class 2/4/5, subject 0-7, detail 0-999).
pub fn is_status(code: &str) -> bool {
    let mut it = code.split('.');
    let (Some(c), Some(s), Some(d), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return false;
    };
    matches!(c, "2" | "4" | "5")
        && s.len() <= 3
        && !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_digit())
        && s.parse::<u32>().map(|n| n <= 7).unwrap_or(false)
        && !d.is_empty()
        && d.len() <= 3
        && d.bytes().all(|b| b.is_ascii_digit())
}

/// Replace IPv4 addresses so their octets are not read as status codes.
fn mask_ipv4(text: &str) -> std::borrow::Cow<'_, str> {
    let b = text.as_bytes();
    let mut out: Option<Vec<u8>> = None;
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() && (i == 0 || !(b[i - 1].is_ascii_digit() || b[i - 1] == b'.')) {
            // try to read d+.d+.d+.d+
            let mut j = i;
            let mut groups = 0;
            loop {
                let start = j;
                while j < b.len() && b[j].is_ascii_digit() && j - start < 3 {
                    j += 1;
                }
                if j == start {
                    break;
                }
                groups += 1;
                if groups == 4 || j >= b.len() || b[j] != b'.' {
                    break;
                }
                j += 1;
            }
            if groups == 4 && (j >= b.len() || !b[j].is_ascii_digit()) {
                let o = out.get_or_insert_with(|| b[..i].to_vec());
                o.extend(std::iter::repeat_n(b'x', j - i));
                i = j;
                continue;
            }
        }
        if let Some(o) = out.as_mut() {
            o.push(b[i]);
        }
        i += 1;
    }
    match out {
        Some(o) => std::borrow::Cow::Owned(String::from_utf8(o).unwrap_or_default()),
        None => std::borrow::Cow::Borrowed(text),
    }
}

/// All status codes in `text`, in order of appearance. `class` restricts the first digit.
pub fn all_statuses(text: &str, class: Option<u8>) -> Vec<String> {
    let masked = mask_ipv4(text);
    let b = masked.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 4 < b.len() + 1 && i < b.len() {
        let c = b[i];
        if (c == b'2' || c == b'4' || c == b'5')
            && class.is_none_or(|k| k == c)
            && i + 1 < b.len()
            && b[i + 1] == b'.'
        {
            let prev = if i == 0 { b' ' } else { b[i - 1] };
            if !(prev.is_ascii_digit()
                || prev == b'.'
                || prev == b'/'
                || prev == b'v'
                || prev == b'V')
            {
                // subject
                let mut j = i + 2;
                let s0 = j;
                while j < b.len() && b[j].is_ascii_digit() && j - s0 < 2 {
                    j += 1;
                }
                if j > s0 && j < b.len() && b[j] == b'.' {
                    let subj = &masked[s0..j];
                    j += 1;
                    let d0 = j;
                    while j < b.len() && b[j].is_ascii_digit() && j - d0 < 4 {
                        j += 1;
                    }
                    let next_ok = j >= b.len()
                        || !(b[j].is_ascii_digit()
                            || (b[j] == b'.' && j + 1 < b.len() && b[j + 1].is_ascii_digit()));
                    if j > d0
                        && j - d0 <= 3
                        && next_ok
                        && subj.parse::<u32>().map(|n| n <= 7).unwrap_or(false)
                    {
                        found.push(masked[i..j].to_string());
                        i = j;
                        continue;
                    }
                }
            }
        }
        i += 1;
    }
    found
}

/// The most telling status code in `text` (a specific one beats `X.0.0` and `4.4.7`).
pub fn find_status(text: &str, class: Option<u8>) -> Option<String> {
    let all = all_statuses(text, class);
    let mut fallback: Option<String> = None;
    let mut best: Option<String> = None;
    for s in all {
        if s.ends_with(".0.0") || s == "4.4.7" {
            if fallback.is_none() {
                fallback = Some(s);
            }
            continue;
        }
        best = Some(match best {
            None => s,
            Some(b) => prefer(&b, &s, None),
        });
    }
    best.or(fallback)
}

/// Choose between the `Status:` field value and the code found in the diagnostic text.
pub fn prefer(field: &str, in_text: &str, reply: Option<u16>) -> String {
    if field.is_empty() {
        return in_text.to_string();
    }
    if in_text.is_empty() || !is_status(in_text) {
        return field.to_string();
    }
    if !is_status(field) {
        return in_text.to_string();
    }
    let f0 = field.as_bytes()[0];
    let t0 = in_text.as_bytes()[0];
    if let Some(r) = reply {
        let r0 = b'0' + (r / 100) as u8;
        if f0 != t0 {
            if r0 == f0 {
                return field.to_string();
            }
            if r0 == t0 {
                return in_text.to_string();
            }
        }
    }
    if field == in_text {
        return field.to_string();
    }
    let field_zero = field.contains(".0");
    let text_zero = in_text.contains(".0");
    if field.ends_with(".0.0") || field[1..].starts_with(".0.0") {
        return if in_text[1..].starts_with(".0.0") {
            field.to_string()
        } else {
            in_text.to_string()
        };
    }
    if field_zero && !text_zero {
        return in_text.to_string();
    }
    if in_text[1..].starts_with(".0.0") {
        return field.to_string();
    }
    if field == "4.4.7" || field == "4.7.0" || field.starts_with("5.3.") {
        return in_text.to_string();
    }
    for p in [".5.1", ".5.2", ".5.4", ".5.5"] {
        if field[1..].starts_with(p) {
            return in_text.to_string();
        }
    }
    if field == "5.1.1" {
        if text_zero || in_text.starts_with("5.5.") {
            return field.to_string();
        }
        return in_text.to_string();
    }
    if field == "5.1.3" && in_text.starts_with("5.7.") {
        return in_text.to_string();
    }
    field.to_string()
}

/// The SMTP reply code in `text`, preferring the class of `status` when given.
pub fn find_reply(text: &str, status: Option<&str>) -> Option<u16> {
    if text.len() < 3 || text.to_ascii_uppercase().contains("X-UNIX") {
        return None;
    }
    let class = status
        .and_then(|s| s.bytes().next())
        .filter(|c| matches!(c, b'2' | b'4' | b'5'));
    let b = text.as_bytes();
    let mut first_any: Option<u16> = None;
    let mut i = 0;
    while i + 3 <= b.len() {
        if b[i].is_ascii_digit()
            && b[i + 1].is_ascii_digit()
            && b[i + 2].is_ascii_digit()
            && (i == 0
                || !(b[i - 1].is_ascii_digit()
                    || b[i - 1] == b'.'
                    || b[i - 1].is_ascii_alphabetic()
                    || b[i - 1] == b'#'))
            && (i + 3 == b.len()
                || !(b[i + 3].is_ascii_digit()
                    || b[i + 3] == b'.' && i + 4 < b.len() && b[i + 4].is_ascii_digit()
                    || b[i + 3].is_ascii_alphabetic()))
        {
            let code = (b[i] - b'0') as u16 * 100
                + (b[i + 1] - b'0') as u16 * 10
                + (b[i + 2] - b'0') as u16;
            if is_reply_code(code) {
                match class {
                    Some(c) if b[i] == c => return Some(code),
                    Some(_) => {
                        if first_any.is_none() {
                            first_any = Some(code);
                        }
                    }
                    None => {
                        if b[i] != b'2' {
                            return Some(code);
                        }
                        if first_any.is_none() {
                            first_any = Some(code);
                        }
                    }
                }
            }
            i += 3;
            continue;
        }
        i += 1;
    }
    if class.is_some() { None } else { first_any }
}

/// The SMTP command a diagnostic refers to (`in reply to RCPT TO command`, `after MAIL FROM`, …).
pub fn find_command(text: &str) -> Option<&'static str> {
    // Yahoo ends its notices with the command in brackets, underscored: "[RCPT_TO]".
    let up = text
        .to_ascii_uppercase()
        .replace("[RCPT_TO]", "[RCPT TO]")
        .replace("[MAIL_FROM]", "[MAIL FROM]");
    let b = up.as_bytes();
    let mut last: Option<(usize, &'static str)> = None;
    let table: &[(&str, &'static str)] = &[
        ("HELO", "HELO"),
        ("EHLO", "EHLO"),
        ("STARTTLS", "STARTTLS"),
        ("AUTH PLAIN", "AUTH"),
        ("AUTH LOGIN", "AUTH"),
        ("AUTH CRAM-", "AUTH"),
        ("MAIL F", "MAIL"),
        ("RCPT", "RCPT"),
        ("DATA", "DATA"),
        ("XFORWARD", "XFORWARD"),
    ];
    for (pat, name) in table {
        let mut from = 0;
        while let Some(p) = up[from..].find(pat) {
            let at = from + p;
            from = at + pat.len();
            if !pat.contains(' ') {
                let before = if at == 0 { b' ' } else { b[at - 1] };
                let after = if at + pat.len() < b.len() {
                    b[at + pat.len()]
                } else {
                    b' '
                };
                if before.is_ascii_alphanumeric()
                    || before == b'@'
                    || before == b'.'
                    || before == b'-'
                    || before == b'_'
                {
                    continue;
                }
                if after.is_ascii_alphanumeric()
                    || after == b'@'
                    || after == b'.'
                        && at + pat.len() + 1 < b.len()
                        && b[at + pat.len() + 1].is_ascii_alphanumeric()
                    || after == b'_'
                    || after == b'-'
                {
                    continue;
                }
            }
            // "DATA" also appears in "end of DATA"; fine. The earliest-listed wins only if none later.
            match last {
                Some((_, n)) if n == *name => {}
                _ => {
                    // Keep the command that appears in a "reply to"/"after" phrase if any.
                    let mut ctx_start = at.saturating_sub(24);
                    while !up.is_char_boundary(ctx_start) {
                        ctx_start += 1;
                    }
                    let ctx = &up[ctx_start..at];
                    let weight = if ctx.contains("REPLY TO")
                        || ctx.contains("AFTER")
                        || ctx.contains(">>>")
                        || ctx.contains("OF ")
                    {
                        2
                    } else {
                        1
                    };
                    match last {
                        None => last = Some((weight, name)),
                        Some((w, _)) if weight >= w => last = Some((weight, name)),
                        _ => {}
                    }
                }
            }
        }
    }
    last.map(|(_, n)| n)
}

fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c)
}

fn is_domain_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '.' || c == '[' || c == ']' || c == ':'
}

/// Validate and normalise something that should be an address: strips `<>`, quotes, `rfc822;`,
/// trailing punctuation. Returns `None` when there is no `local@domain.tld` in it.
pub fn clean_address(s: &str) -> Option<String> {
    let mut t = s.trim();
    if let Some(p) = t.find(';') {
        let head = t[..p].trim().to_ascii_lowercase();
        if head == "rfc822"
            || head == "rfc-822"
            || head.starts_with("rfc822")
            || head == "smtp"
            || head == "x400"
            || head == "unknown"
        {
            t = t[p + 1..].trim();
        }
    }
    if let (Some(a), Some(b)) = (t.find('<'), t.rfind('>'))
        && a < b
    {
        t = &t[a + 1..b];
    }
    let t = t.trim().trim_matches(|c: char| {
        c == '"'
            || c == '\''
            || c == '('
            || c == ')'
            || c == ','
            || c == ';'
            || c == ':'
            || c == '.'
            || c == '<'
            || c == '>'
            || c == '['
            || c == ']'
    });
    let t = t.strip_prefix("mailto:").unwrap_or(t);
    let at = t.rfind('@')?;
    let (local, domain) = (&t[..at], &t[at + 1..]);
    if local.is_empty() || domain.is_empty() || local.len() > 128 || domain.len() > 255 {
        return None;
    }
    let local_ok = local.chars().all(is_local_char)
        || (local.starts_with('"') && local.ends_with('"') && local.len() > 1);
    if !local_ok || !domain.chars().all(is_domain_char) {
        return None;
    }
    if !domain.contains('.') && !domain.starts_with('[') {
        return None;
    }
    if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
        return None;
    }
    Some(format!("{}@{}", local, domain.to_ascii_lowercase()))
}

/// All addresses in `text`, in order (duplicates kept once).
pub fn find_addresses(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (k, &(pos, c)) in chars.iter().enumerate() {
        if c != '@' {
            continue;
        }
        // walk left
        let mut start = pos;
        let mut m = k;
        while m > 0 && is_local_char(chars[m - 1].1) {
            m -= 1;
            start = chars[m].0;
        }
        let mut end = pos + 1;
        let mut n = k + 1;
        while n < chars.len()
            && (chars[n].1.is_alphanumeric() || chars[n].1 == '-' || chars[n].1 == '.')
        {
            end = chars[n].0 + chars[n].1.len_utf8();
            n += 1;
        }
        if start == pos || end == pos + 1 {
            continue;
        }
        let cand = text[start..end]
            .trim_start_matches('.')
            .trim_end_matches('.');
        if let Some(a) = clean_address(cand)
            && !out.contains(&a)
        {
            out.push(a);
        }
    }
    out
}

/// The first address in `text`.
pub fn first_address(text: &str) -> Option<String> {
    find_addresses(text).into_iter().next()
}

/// Collapse whitespace runs into one space and trim.
pub fn sweep(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

/// True if `hay` contains any of `needles`.
pub fn contains_any(hay: &str, needles: &[&str]) -> bool {
    needles.iter().any(|n| hay.contains(n))
}

/// True if the `parts` appear in `hay` in this order.
pub fn aligned(hay: &str, parts: &[&str]) -> bool {
    let mut at = 0;
    for p in parts {
        match hay[at..].find(p) {
            Some(i) => at += i + p.len(),
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_are_found_and_ip_addresses_ignored() {
        assert_eq!(
            find_status("host 192.0.2.153 said: 550 5.1.1 <a@b.c>", None).as_deref(),
            Some("5.1.1")
        );
        assert_eq!(find_status("connect to 10.4.4.1: refused", None), None);
        assert_eq!(
            find_status("Unable to contact LDAP server. (#4.4.3)I'm", None).as_deref(),
            Some("4.4.3")
        );
        assert_eq!(
            find_status("550 5.0.0 blah 5.7.1 more", None).as_deref(),
            Some("5.7.1")
        );
        assert_eq!(
            find_status("version 2.1.5 of x", None).as_deref(),
            Some("2.1.5")
        );
        assert_eq!(find_status("v2.1.5", None), None);
        assert_eq!(
            find_status("550 5.7.509 Access denied", None).as_deref(),
            Some("5.7.509")
        );
        assert_eq!(
            find_status("550-5.7.26 Unauthenticated", None).as_deref(),
            Some("5.7.26")
        );
    }

    #[test]
    fn reply_codes_and_commands() {
        assert_eq!(
            find_reply("host x said: 550 5.1.1 user unknown", None),
            Some(550)
        );
        assert_eq!(
            find_reply(
                "Remote host said: 450 4.2.2 <k@e.jp>... Mailbox Full",
                Some("4.2.2")
            ),
            Some(450)
        );
        assert_eq!(find_reply("port 25025 then", None), None);
        assert_eq!(find_command("(in reply to RCPT TO command)"), Some("RCPT"));
        assert_eq!(
            find_command("SMTP error from remote mail server after end of data"),
            Some("DATA")
        );
        assert_eq!(find_command("mail to database@example.jp"), None);
        assert_eq!(
            find_command("550 5.2.1 <a@example.test>... User Unknown [RCPT_TO]"),
            Some("RCPT")
        );
        assert_eq!(
            find_command("553 Sender is on a block list [MAIL_FROM]"),
            Some("MAIL")
        );
    }

    #[test]
    fn addresses() {
        assert_eq!(
            clean_address("rfc822; <Kijitora@EXAMPLE.jp>").as_deref(),
            Some("Kijitora@example.jp")
        );
        assert_eq!(
            clean_address("rfc822;nobody@acme.test").as_deref(),
            Some("nobody@acme.test")
        );
        assert_eq!(clean_address("not an address"), None);
        assert_eq!(
            find_addresses("<a@b.jp>: host x said: 550 <c@d.org>... no"),
            vec!["a@b.jp", "c@d.org"]
        );
    }
}
