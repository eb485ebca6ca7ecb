//! The bounce parser never panics: random bytes, and corpus messages mutated by flipping,
//! inserting, deleting and truncating bytes, line endings swapped. Bounded: a few thousand cases
//! in the normal test run (`PROPTEST_CASES` raises it for a longer local run).

use std::path::Path;
use std::sync::OnceLock;

use hailer::engine::bounces;
use proptest::prelude::*;

fn corpus() -> &'static Vec<Vec<u8>> {
    static CORPUS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut out = Vec::new();
        for dir in ["tests/data/bounces/dev", "tests/data/rig-dsn"] {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                .collect();
            files.sort();
            for f in files {
                out.push(std::fs::read(f).unwrap());
            }
        }
        out
    })
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
    Crlf,
    Cr,
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let n = bytes.len().max(1);
        match e {
            Edit::Flip(at, b) => {
                if !bytes.is_empty() {
                    let i = at % n;
                    bytes[i] ^= *b;
                }
            }
            Edit::Insert(at, ins) => {
                let i = at % (bytes.len() + 1);
                bytes.splice(i..i, ins.iter().copied());
            }
            Edit::Delete(at, len) => {
                if !bytes.is_empty() {
                    let i = at % n;
                    let j = (i + len).min(bytes.len());
                    bytes.drain(i..j);
                }
            }
            Edit::Truncate(at) => bytes.truncate(at % n),
            Edit::Crlf => {
                bytes = bytes
                    .iter()
                    .flat_map(|&b| {
                        if b == b'\n' {
                            vec![b'\r', b'\n']
                        } else {
                            vec![b]
                        }
                    })
                    .collect();
            }
            Edit::Cr => {
                bytes = bytes
                    .iter()
                    .map(|&b| if b == b'\n' { b'\r' } else { b })
                    .collect();
            }
        }
    }
    bytes
}

/// Fragments that steer mutations into the parser's interesting paths.
const TOKENS: &[&str] = &[
    "\n\n",
    "\r\n",
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n",
    "--b\n",
    "--b--\n",
    "Content-Type: message/delivery-status\n\n",
    "Content-Type: message/rfc822\n\n",
    "Content-Transfer-Encoding: base64\n",
    "Content-Transfer-Encoding: quoted-printable\n",
    "Final-Recipient: rfc822; ",
    "Original-Recipient: rfc822;",
    "Action: failed\n",
    "Status: 5.",
    "Diagnostic-Code: smtp; 550 ",
    "<a@b.test>:",
    "@",
    "<",
    ">",
    "(state ",
    "MSEXCH:(",
    "AUP#",
    "=?utf-8?B?",
    "{\"notificationType\":\"Bounce\",\"bounce\":{\"bouncedRecipients\":[{\"emailAddress\":",
    "é",
    "\u{feff}",
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(a, b)| Edit::Flip(a, b)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(a, v)| Edit::Insert(a, v)),
        (any::<usize>(), prop::sample::select(TOKENS))
            .prop_map(|(a, t)| Edit::Insert(a, t.as_bytes().to_vec())),
        (any::<usize>(), 1usize..200).prop_map(|(a, l)| Edit::Delete(a, l)),
        any::<usize>().prop_map(Edit::Truncate),
        Just(Edit::Crlf),
        Just(Edit::Cr),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(1000), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_corpus_messages_never_panic(idx in any::<usize>(), edits in prop::collection::vec(edit(), 1..8)) {
        let corpus = corpus();
        let bytes = apply(corpus[idx % corpus.len()].clone(), &edits);
        let parsed = bounces::parse(&bytes);
        // Whatever it says, a bounce names its recipients.
        if parsed.kind == bounces::Kind::Bounce {
            prop_assert!(!parsed.records.is_empty());
            prop_assert!(parsed.records.iter().all(|r| r.recipient.contains('@')));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(1000), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let _ = bounces::parse(&bytes);
    }

    #[test]
    fn random_text_with_mail_tokens_never_panics(parts in prop::collection::vec(prop_oneof![
        prop::sample::select(TOKENS).prop_map(|t| t.to_string()),
        "[ -~]{0,40}",
        "[^\u{0}]{0,8}",
    ], 0..64)) {
        let text: String = parts.concat();
        let _ = bounces::parse(text.as_bytes());
    }
}
