//! The syntax policy against the labelled corpus (`tests/data/syntax/`, licenses beside it):
//! agreement with `strict_expected` must stay at or above 0.98.

use hailer::engine::verify::syntax;

struct Case {
    id: String,
    address: String,
    strict: bool,
    category: String,
}

fn cases() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/syntax/dev.csv");
    let mut rdr = csv::Reader::from_path(path).expect("tests/data/syntax/dev.csv");
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (id, hex, strict, cat) = (
        col("id"),
        col("address_hex"),
        col("strict_expected"),
        col("category"),
    );
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let bytes: Vec<u8> = (0..r[hex].len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&r[hex][i..i + 2], 16).unwrap())
                .collect();
            Case {
                id: r[id].to_string(),
                // A few cases are deliberately not UTF-8; they stay invalid through lossy decoding.
                address: String::from_utf8_lossy(&bytes).into_owned(),
                strict: &r[strict] == "true",
                category: r[cat].to_string(),
            }
        })
        .collect()
}

#[test]
fn syntax_policy_agrees_with_strict_expected() {
    let cases = cases();
    assert!(cases.len() >= 400, "corpus truncated: {} rows", cases.len());
    let mut wrong = Vec::new();
    for c in &cases {
        let got = syntax::check(&c.address, &[]);
        if got.is_ok() != c.strict {
            wrong.push(format!(
                "{} [{}] {:?}: expected {}, got {:?}",
                c.id, c.category, c.address, c.strict, got
            ));
        }
    }
    let agreement = 1.0 - wrong.len() as f64 / cases.len() as f64;
    println!(
        "agreement {agreement:.4} ({} of {} disagree)",
        wrong.len(),
        cases.len()
    );
    for w in &wrong {
        println!("  {w}");
    }
    assert!(
        agreement >= 0.98,
        "agreement {agreement:.4} < 0.98:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_accepted_corpus_address_has_a_punycode_domain() {
    for c in cases().iter().filter(|c| c.strict) {
        if let Ok(a) = syntax::check(&c.address, &[]) {
            assert!(a.domain.is_ascii(), "{}: {}", c.id, a.domain);
            assert_eq!(a.smtputf8, !a.local.is_ascii());
        }
    }
}
