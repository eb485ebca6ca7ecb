//! Tracking tokens: opaque, signed, bound to one outbox row (and, for clicks, one URL).
//!
//! Layout before base64url: `nonce(8) | kind(1) | masked id(8) | payload | tag(16)`.
//! The row id is XORed with HMAC(key, nonce) so URLs never show sequential ids; the tag is
//! HMAC-SHA256 over everything before it, truncated to 128 bits. A forged or altered token
//! fails verification and is answered 404 by the server, recording nothing.
//!
//! The payload is a click's URL as it is (the message shows it anyway), or an unsubscribe's
//! recipient masked like the id: a row can be sent again to another address after a rebuild,
//! and the first message's link must take off the address it went to, not the row's new one.
//! Unsubscribe tokens issued before they carried it have no payload (the row's address).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const NONCE: usize = 8;
const TAG: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Open,
    Click,
    Unsubscribe,
}

impl TokenKind {
    fn byte(self) -> u8 {
        match self {
            TokenKind::Open => b'o',
            TokenKind::Click => b'c',
            TokenKind::Unsubscribe => b'u',
        }
    }
    fn from_byte(b: u8) -> Option<TokenKind> {
        match b {
            b'o' => Some(TokenKind::Open),
            b'c' => Some(TokenKind::Click),
            b'u' => Some(TokenKind::Unsubscribe),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub kind: TokenKind,
    pub outbox_id: i64,
    /// The original link, for clicks.
    pub url: Option<String>,
    /// The address the message went to, for unsubscribes.
    pub recipient: Option<String>,
}

/// Signs and checks tokens with one secret key (`[tracking] secret_env`).
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer { key: <redacted> }")
    }
}

impl Signer {
    pub fn new(key: &[u8]) -> Signer {
        Signer { key: key.to_vec() }
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length")
    }

    fn mask(&self, nonce: &[u8]) -> [u8; 8] {
        let mut m = self.mac();
        m.update(b"id-mask");
        m.update(nonce);
        let out = m.finalize().into_bytes();
        out[..8].try_into().expect("8 bytes")
    }

    /// XORs `bytes` with a keystream of HMAC(key, "recipient-mask" | nonce | block number):
    /// applied twice, it gives the bytes back.
    fn mask_recipient(&self, nonce: &[u8], bytes: &mut [u8]) {
        for (block, chunk) in bytes.chunks_mut(32).enumerate() {
            let mut m = self.mac();
            m.update(b"recipient-mask");
            m.update(nonce);
            m.update(&(block as u32).to_le_bytes());
            let stream = m.finalize().into_bytes();
            for (b, k) in chunk.iter_mut().zip(stream) {
                *b ^= k;
            }
        }
    }

    pub fn issue(&self, claims: &Claims) -> String {
        let nonce: [u8; NONCE] = rand::random();
        self.issue_with_nonce(claims, nonce)
    }

    fn issue_with_nonce(&self, claims: &Claims, nonce: [u8; NONCE]) -> String {
        let payload_len = claims.url.as_ref().map_or(0, String::len)
            + claims.recipient.as_ref().map_or(0, String::len);
        let mut buf = Vec::with_capacity(NONCE + 9 + TAG + payload_len);
        buf.extend_from_slice(&nonce);
        buf.push(claims.kind.byte());
        let mask = self.mask(&nonce);
        for (b, m) in claims.outbox_id.to_le_bytes().iter().zip(mask) {
            buf.push(b ^ m);
        }
        if let Some(url) = &claims.url {
            buf.extend_from_slice(url.as_bytes());
        }
        if let Some(recipient) = &claims.recipient {
            let mut masked = recipient.as_bytes().to_vec();
            self.mask_recipient(&nonce, &mut masked);
            buf.extend_from_slice(&masked);
        }
        let mut m = self.mac();
        m.update(&buf);
        let tag = m.finalize().into_bytes();
        buf.extend_from_slice(&tag[..TAG]);
        URL_SAFE_NO_PAD.encode(buf)
    }

    /// The claims of a genuine token, `None` for anything forged, altered or malformed.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let buf = URL_SAFE_NO_PAD.decode(token.as_bytes()).ok()?;
        if buf.len() < NONCE + 9 + TAG {
            return None;
        }
        let (body, tag) = buf.split_at(buf.len() - TAG);
        let mut m = self.mac();
        m.update(body);
        m.verify_truncated_left(tag).ok()?;
        let (nonce, rest) = body.split_at(NONCE);
        let kind = TokenKind::from_byte(rest[0])?;
        let mask = self.mask(nonce);
        let mut id = [0u8; 8];
        for i in 0..8 {
            id[i] = rest[1 + i] ^ mask[i];
        }
        let payload = &rest[9..];
        let (mut url, mut recipient) = (None, None);
        match kind {
            TokenKind::Click => url = Some(String::from_utf8(payload.to_vec()).ok()?),
            TokenKind::Unsubscribe if !payload.is_empty() => {
                let mut bytes = payload.to_vec();
                self.mask_recipient(nonce, &mut bytes);
                recipient = Some(String::from_utf8(bytes).ok()?);
            }
            _ if payload.is_empty() => {}
            _ => return None,
        }
        Some(Claims {
            kind,
            outbox_id: i64::from_le_bytes(id),
            url,
            recipient,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_opacity() {
        let s = Signer::new(b"k");
        let c = Claims {
            kind: TokenKind::Click,
            outbox_id: 42,
            url: Some("https://hailer.test/a?b=1".into()),
            recipient: None,
        };
        // A fixed nonce: a random token holds the two characters "42" by chance about once in
        // seventy draws, which made this check fail at random.
        let t = s.issue_with_nonce(&c, [7; NONCE]);
        assert_eq!(s.verify(&t), Some(c.clone()));
        assert!(!t.contains("42"));
        // The id field carries masked bytes, never the id's own, and another nonce masks it
        // differently.
        let id_field = |t: &str| URL_SAFE_NO_PAD.decode(t).unwrap()[NONCE + 1..NONCE + 9].to_vec();
        assert_ne!(id_field(&t), 42i64.to_le_bytes());
        let random = s.issue(&c);
        assert_eq!(s.verify(&random), Some(c.clone()));
        assert_ne!(id_field(&random), id_field(&t));
        // Two tokens for the same row differ (random nonce), so they cannot be correlated.
        assert_ne!(s.issue(&c), t);
    }

    #[test]
    fn forged_altered_and_foreign_tokens_fail() {
        let s = Signer::new(b"key one");
        let t = s.issue(&Claims {
            kind: TokenKind::Open,
            outbox_id: 7,
            url: None,
            recipient: None,
        });
        assert!(Signer::new(b"key two").verify(&t).is_none());
        let mut bytes = URL_SAFE_NO_PAD.decode(&t).unwrap();
        bytes[NONCE + 1] ^= 1; // change the id
        assert!(s.verify(&URL_SAFE_NO_PAD.encode(&bytes)).is_none());
        assert!(s.verify("not-a-token").is_none());
        assert!(s.verify("").is_none());
    }

    #[test]
    fn click_url_cannot_be_swapped() {
        let s = Signer::new(b"k");
        let t = s.issue_with_nonce(
            &Claims {
                kind: TokenKind::Click,
                outbox_id: 1,
                url: Some("https://good.test/".into()),
                recipient: None,
            },
            [0; 8],
        );
        let mut bytes = URL_SAFE_NO_PAD.decode(&t).unwrap();
        let pos = bytes.windows(4).position(|w| w == b"good").unwrap();
        bytes[pos..pos + 4].copy_from_slice(b"evil");
        assert!(s.verify(&URL_SAFE_NO_PAD.encode(&bytes)).is_none());
    }

    #[test]
    fn an_unsubscribe_carries_its_recipient_unreadable() {
        let s = Signer::new(b"k");
        let c = Claims {
            kind: TokenKind::Unsubscribe,
            outbox_id: 3,
            url: None,
            recipient: Some("jane.doe@acme.test".into()),
        };
        let t = s.issue(&c);
        assert_eq!(s.verify(&t), Some(c.clone()));
        let bytes = URL_SAFE_NO_PAD.decode(&t).unwrap();
        assert!(!bytes.windows(4).any(|w| w == b"jane" || w == b"acme"));
        // Another key reads nothing, and a changed recipient byte breaks the tag.
        assert!(Signer::new(b"other").verify(&t).is_none());
        let mut changed = bytes.clone();
        changed[NONCE + 9] ^= 1;
        assert!(s.verify(&URL_SAFE_NO_PAD.encode(&changed)).is_none());
        // A long address spans several keystream blocks.
        let long = Claims {
            recipient: Some(format!("{}@acme.test", "a".repeat(64))),
            ..c
        };
        assert_eq!(s.verify(&s.issue(&long)), Some(long));
        // An unsubscribe token of before (no payload) still reads, without a recipient.
        let old = Claims {
            kind: TokenKind::Unsubscribe,
            outbox_id: 3,
            url: None,
            recipient: None,
        };
        assert_eq!(s.verify(&s.issue(&old)), Some(old));
    }
}
