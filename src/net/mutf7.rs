//! IMAP mailbox names in modified UTF-7 (RFC 3501 §5.1.3): what the server expects on the wire
//! for a folder such as "Éléments envoyés" or "Traités". The config holds names as people
//! write them; every IMAP command that names a folder goes through [`encode`].
//!
//! Printable ASCII other than `&` stands for itself, `&` is `&-`, and every other run of
//! characters is UTF-16BE in base64 (with `,` for `/`, no padding) between `&` and `-`.

use base64::Engine;
use base64::alphabet::Alphabet;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};

fn engine() -> GeneralPurpose {
    let alphabet =
        Alphabet::new("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,")
            .expect("64 distinct ASCII characters");
    GeneralPurpose::new(
        &alphabet,
        GeneralPurposeConfig::new()
            .with_encode_padding(false)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
    )
}

fn direct(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{7e}') && c != '&'
}

/// A folder name as the server expects it. ASCII names come back unchanged.
pub fn encode(name: &str) -> String {
    if name.chars().all(direct) {
        return name.to_string();
    }
    let engine = engine();
    let mut out = String::with_capacity(name.len() + 8);
    let mut run: Vec<u16> = Vec::new();
    let flush = |run: &mut Vec<u16>, out: &mut String| {
        if run.is_empty() {
            return;
        }
        let bytes: Vec<u8> = run.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        out.push_str(&engine.encode(bytes));
        out.push('-');
        run.clear();
    };
    for c in name.chars() {
        if direct(c) {
            flush(&mut run, &mut out);
            out.push(c);
        } else if c == '&' {
            flush(&mut run, &mut out);
            out.push_str("&-");
        } else {
            let mut buf = [0u16; 2];
            run.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut run, &mut out);
    out
}

/// A name from the server (LIST) as people write it; `None` when it is not valid modified
/// UTF-7.
pub fn decode(wire: &str) -> Option<String> {
    let engine = engine();
    let mut out = String::with_capacity(wire.len());
    let mut rest = wire;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let tail = &rest[start + 1..];
        let end = tail.find('-')?;
        if end == 0 {
            out.push('&');
        } else {
            let bytes = engine.decode(&tail[..end]).ok()?;
            if bytes.len() % 2 != 0 {
                return None;
            }
            let units: Vec<u16> = bytes
                .chunks(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]]))
                .collect();
            out.push_str(&String::from_utf16(&units).ok()?);
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_3501_example_and_common_folder_names() {
        // RFC 3501 §5.1.3.
        assert_eq!(
            encode("~peter/mail/台北/日本語"),
            "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
        );
        assert_eq!(encode("Éléments envoyés"), "&AMk-l&AOk-ments envoy&AOk-s");
        assert_eq!(encode("Traités"), "Trait&AOk-s");
        assert_eq!(encode("Boîte d'envoi"), "Bo&AO4-te d'envoi");
        assert_eq!(encode("R&D"), "R&-D");
        assert_eq!(encode("Sent"), "Sent");
        assert_eq!(encode("INBOX.Gesendete Objekte"), "INBOX.Gesendete Objekte");
        // Outside the BMP: a surrogate pair inside one run.
        assert_eq!(encode("📬 hailer"), "&2D3c7A- hailer");
    }

    #[test]
    fn decode_reverses_encode_and_rejects_malformed_names() {
        for name in [
            "~peter/mail/台北/日本語",
            "Éléments envoyés",
            "R&D",
            "Sent",
            "Entwürfe",
            "📬 hailer",
            "",
        ] {
            assert_eq!(decode(&encode(name)).as_deref(), Some(name), "{name}");
        }
        assert_eq!(decode("&AMk"), None, "unterminated");
        assert_eq!(decode("&A-"), None, "odd byte count");
        assert_eq!(decode("&2D0-"), None, "lone surrogate");
    }
}
