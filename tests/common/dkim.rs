//! A DKIM verifier (RFC 6376, rsa-sha256, relaxed/relaxed, as hailer signs) for the rig tests:
//! a signature that only looks right (`d=`, `s=`, `a=` present) can still fail at every
//! mailbox provider, so the tests check it as a receiver does, against the rig's public key.

use base64::Engine;
use rsa::pkcs8::DecodePublicKey;
use sha2::{Digest, Sha256};

/// Check the (first) DKIM-Signature of `raw`, a whole message as delivered, with the public
/// key in `public_pem` (SubjectPublicKeyInfo PEM). `Err` says what failed.
pub fn verify(raw: &[u8], public_pem: &str) -> Result<(), String> {
    let (head, body) = split(raw);
    let headers = unfolded_headers(head);
    let (sig_name, sig_value) = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("DKIM-Signature"))
        .ok_or("no DKIM-Signature header")?;
    let tags = tags(sig_value);
    let tag = |name: &str| {
        tags.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .ok_or(format!("no {name}= tag"))
    };
    if tag("a")? != "rsa-sha256" || tag("c")? != "relaxed/relaxed" {
        return Err(format!("unexpected a= or c=: {sig_value}"));
    }
    let body_hash =
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(relaxed_body(body)));
    if body_hash != strip_ws(&tag("bh")?) {
        return Err(format!("body hash differs: {body_hash} != {}", tag("bh")?));
    }
    // The signed headers, each the last not yet used instance of its name (RFC 6376 5.4.2);
    // a name the message does not have adds nothing.
    let mut used = vec![false; headers.len()];
    let mut data = String::new();
    for name in tag("h")?.split(':').map(str::trim) {
        if let Some(i) = (0..headers.len())
            .rev()
            .find(|&i| !used[i] && headers[i].0.eq_ignore_ascii_case(name))
        {
            used[i] = true;
            data.push_str(&relaxed_header(&headers[i].0, &headers[i].1));
            data.push_str("\r\n");
        }
    }
    // The signature header itself, with an empty b= and no final CRLF.
    let emptied = empty_b(sig_value);
    data.push_str(&relaxed_header(sig_name, &emptied));
    let signature = base64::engine::general_purpose::STANDARD
        .decode(strip_ws(&tag("b")?))
        .map_err(|e| format!("b= is not base64: {e}"))?;
    let key = rsa::RsaPublicKey::from_public_key_pem(public_pem)
        .map_err(|e| format!("public key: {e}"))?;
    key.verify(
        rsa::Pkcs1v15Sign::new::<Sha256>(),
        &Sha256::digest(data.as_bytes()),
        &signature,
    )
    .map_err(|e| format!("header signature does not verify ({e}); signed data:\n{data}"))
}

fn split(raw: &[u8]) -> (&[u8], &[u8]) {
    match raw.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => (&raw[..i + 2], &raw[i + 4..]),
        None => (raw, b""),
    }
}

/// (name, value as written after the colon, folding kept) per header field.
fn unfolded_headers(head: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(head);
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push_str("\r\n");
                last.1.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.to_string(), value.to_string()));
        }
    }
    out
}

/// RFC 6376 3.4.2: name lowercased; value unfolded, runs of WSP as one space, trimmed.
fn relaxed_header(name: &str, value: &str) -> String {
    let unfolded = value.replace("\r\n", "");
    let compressed = unfolded
        .split([' ', '\t'])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    format!("{}:{}", name.trim().to_ascii_lowercase(), compressed)
}

/// RFC 6376 3.4.4: WSP runs as one space, none at line ends, no empty lines at the end.
fn relaxed_body(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    let mut lines: Vec<String> = text
        .split("\r\n")
        .map(|l| {
            let mut s = String::new();
            let mut in_ws = false;
            for c in l.chars() {
                if c == ' ' || c == '\t' {
                    in_ws = true;
                } else {
                    if in_ws {
                        s.push(' ');
                    }
                    in_ws = false;
                    s.push(c);
                }
            }
            s
        })
        .collect();
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    let mut out = String::new();
    for l in lines {
        out.push_str(&l);
        out.push_str("\r\n");
    }
    out.into_bytes()
}

fn tags(value: &str) -> Vec<(String, String)> {
    value
        .split(';')
        .filter_map(|t| t.split_once('='))
        .map(|(k, v)| (strip_ws(k), v.trim().to_string()))
        .collect()
}

fn strip_ws(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The DKIM-Signature value with the b= tag's value removed, all else as written.
fn empty_b(value: &str) -> String {
    let mut out = Vec::new();
    for part in value.split(';') {
        let key = part.split('=').next().unwrap_or("");
        if strip_ws(key) == "b" {
            let eq = part.find('=').unwrap_or(part.len());
            out.push(part[..=eq.min(part.len() - 1)].to_string());
        } else {
            out.push(part.to_string());
        }
    }
    out.join(";")
}
