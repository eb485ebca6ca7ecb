//! Tracking tokens: opaque, signed, bound to one outbox row (and, for clicks, one URL).
//!
//! Layout before base64url: `nonce(8) | kind(1) | masked id(8) | url bytes | tag(16)`.
//! The row id is XORed with HMAC(key, nonce) so URLs never show sequential ids; the tag is
//! HMAC-SHA256 over everything before it, truncated to 128 bits. A forged or altered token
//! fails verification and is answered 404 by the server, recording nothing.

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

    pub fn issue(&self, claims: &Claims) -> String {
        let nonce: [u8; NONCE] = rand::random();
        self.issue_with_nonce(claims, nonce)
    }

    fn issue_with_nonce(&self, claims: &Claims, nonce: [u8; NONCE]) -> String {
        let mut buf =
            Vec::with_capacity(NONCE + 9 + TAG + claims.url.as_ref().map_or(0, String::len));
        buf.extend_from_slice(&nonce);
        buf.push(claims.kind.byte());
        let mask = self.mask(&nonce);
        for (b, m) in claims.outbox_id.to_le_bytes().iter().zip(mask) {
            buf.push(b ^ m);
        }
        if let Some(url) = &claims.url {
            buf.extend_from_slice(url.as_bytes());
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
        let url_bytes = &rest[9..];
        let url = match kind {
            TokenKind::Click => Some(String::from_utf8(url_bytes.to_vec()).ok()?),
            _ if url_bytes.is_empty() => None,
            _ => return None,
        };
        Some(Claims {
            kind,
            outbox_id: i64::from_le_bytes(id),
            url,
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
            },
            [0; 8],
        );
        let mut bytes = URL_SAFE_NO_PAD.decode(&t).unwrap();
        let pos = bytes.windows(4).position(|w| w == b"good").unwrap();
        bytes[pos..pos + 4].copy_from_slice(b"evil");
        assert!(s.verify(&URL_SAFE_NO_PAD.encode(&bytes)).is_none());
    }
}
