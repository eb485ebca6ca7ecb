//! Accuracy of the bounce parser on the development corpus (tests/data/bounces/dev, a copy of
//! shared/corpus/bounces/dev with its labels and license). Fails below the thresholds, set just
//! under the figures reached (issue 8 asked for 98% / 2% / 95% / 90%): recipients found >= 98.5%
//! with at most 0.6% of reported recipients wrong, status >= 98% over rows whose status is in the
//! message, reason >= 95.5%, hard/soft >= 97.7%, and no non-bounce counted as a bounce.
//! Also checks the same files with CRLF line endings.
//!
//! `BOUNCE_VERBOSE=1 cargo test --test bounce_corpus -- --nocapture` lists every miss.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hailer::engine::bounces::{self, Kind, ParsedMessage};

#[derive(Debug, Clone)]
struct Label {
    file: String,
    expected: String,
    original: String,
    status: String,
    reason: String,
    hard_or_soft: String,
    status_source: String,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bounces/dev")
}

fn labels() -> Vec<Label> {
    let mut rdr = csv::Reader::from_path(corpus_dir().join("labels.csv")).expect("labels.csv");
    let mut out = Vec::new();
    for rec in rdr.records() {
        let r = rec.expect("label row");
        out.push(Label {
            file: r[0].to_string(),
            expected: r[1].to_ascii_lowercase(),
            original: r[2].to_ascii_lowercase(),
            status: r[3].to_string(),
            reason: r[5].to_string(),
            hard_or_soft: r[6].to_string(),
            status_source: r[9].to_string(),
        });
    }
    out
}

fn is_bounce_label(l: &Label) -> bool {
    l.hard_or_soft == "hard" || l.hard_or_soft == "soft"
}

#[derive(Default, Debug)]
struct Score {
    rows: usize,
    found: usize,
    reported: usize,
    wrong: usize,
    status_rows: usize,
    status_ok: usize,
    reason_ok: usize,
    hard_ok: usize,
    non_bounce_files: usize,
    false_bounces: usize,
    misses: Vec<String>,
}

fn score(parse: impl Fn(&[u8]) -> ParsedMessage) -> Score {
    let labels = labels();
    let mut by_file: BTreeMap<String, Vec<Label>> = BTreeMap::new();
    for l in labels {
        by_file.entry(l.file.clone()).or_default().push(l);
    }
    let mut s = Score::default();
    for (file, rows) in &by_file {
        let bytes = std::fs::read(corpus_dir().join(file)).expect("corpus file");
        let parsed = parse(&bytes);
        let bounce_rows: Vec<&Label> = rows.iter().filter(|l| is_bounce_label(l)).collect();
        if bounce_rows.is_empty() {
            s.non_bounce_files += 1;
            if parsed.kind == Kind::Bounce {
                s.false_bounces += 1;
                s.misses.push(format!(
                    "{file}: non-bounce reported as bounce: {:?}",
                    parsed
                        .records
                        .iter()
                        .map(|r| &r.recipient)
                        .collect::<Vec<_>>()
                ));
            }
            continue;
        }
        let known: Vec<String> = bounce_rows
            .iter()
            .flat_map(|l| [l.expected.clone(), l.original.clone()])
            .filter(|a| !a.is_empty())
            .collect();
        for r in &parsed.records {
            s.reported += 1;
            let rc = r.recipient.to_ascii_lowercase();
            let oc = r
                .original_recipient
                .clone()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !known.contains(&rc) && !known.contains(&oc) {
                s.wrong += 1;
                s.misses.push(format!("{file}: wrong recipient {rc}"));
            }
        }
        let mut used = vec![false; parsed.records.len()];
        for l in bounce_rows {
            s.rows += 1;
            let matches = |i: usize| {
                let r = &parsed.records[i];
                let rc = r.recipient.to_ascii_lowercase();
                let oc = r
                    .original_recipient
                    .clone()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                [&l.expected, &l.original]
                    .iter()
                    .any(|a| !a.is_empty() && (**a == rc || **a == oc))
            };
            let idx = (0..parsed.records.len()).find(|&i| !used[i] && matches(i));
            let Some(i) = idx else {
                s.misses.push(format!(
                    "{file}: recipient not found {} (kind {:?}, got {:?})",
                    l.expected,
                    parsed.kind,
                    parsed
                        .records
                        .iter()
                        .map(|r| &r.recipient)
                        .collect::<Vec<_>>()
                ));
                if l.status_source == "message" {
                    s.status_rows += 1;
                }
                continue;
            };
            used[i] = true;
            s.found += 1;
            let r = &parsed.records[i];
            if l.status_source == "message" {
                s.status_rows += 1;
                if r.status.as_deref() == Some(l.status.as_str()) {
                    s.status_ok += 1;
                } else {
                    s.misses
                        .push(format!("{file}: status {:?} want {}", r.status, l.status));
                }
            }
            if r.reason.as_str() == l.reason {
                s.reason_ok += 1;
            } else {
                s.misses.push(format!(
                    "{file}: reason {} want {} [{}] status={:?} diag={}",
                    r.reason.as_str(),
                    l.reason,
                    l.expected,
                    r.status,
                    r.diagnostic.chars().take(300).collect::<String>()
                ));
            }
            if (l.hard_or_soft == "hard") == r.hard {
                s.hard_ok += 1;
            } else {
                s.misses.push(format!(
                    "{file}: hard/soft {} want {} [{}] reason={}",
                    if r.hard { "hard" } else { "soft" },
                    l.hard_or_soft,
                    l.expected,
                    r.reason.as_str()
                ));
            }
        }
    }
    s
}

fn pct(a: usize, b: usize) -> f64 {
    if b == 0 {
        100.0
    } else {
        a as f64 * 100.0 / b as f64
    }
}

fn report(name: &str, s: &Score) {
    println!("{name}:");
    println!(
        "  recipients found   {:>6.2}% ({}/{})",
        pct(s.found, s.rows),
        s.found,
        s.rows
    );
    println!(
        "  reported wrong     {:>6.2}% ({}/{})",
        pct(s.wrong, s.reported),
        s.wrong,
        s.reported
    );
    println!(
        "  status (message)   {:>6.2}% ({}/{})",
        pct(s.status_ok, s.status_rows),
        s.status_ok,
        s.status_rows
    );
    println!(
        "  reason             {:>6.2}% ({}/{})",
        pct(s.reason_ok, s.rows),
        s.reason_ok,
        s.rows
    );
    println!(
        "  hard/soft          {:>6.2}% ({}/{})",
        pct(s.hard_ok, s.rows),
        s.hard_ok,
        s.rows
    );
    println!(
        "  non-bounces as bounce: {} of {}",
        s.false_bounces, s.non_bounce_files
    );
    if std::env::var_os("BOUNCE_VERBOSE").is_some() {
        for m in &s.misses {
            println!("    {m}");
        }
    }
}

fn assert_thresholds(s: &Score) {
    // Just under the figures reached on the dev split (98.63 / 0.55 / 98.18 / 95.62 / 97.81):
    // a change that loses any of them fails here.
    assert!(
        pct(s.found, s.rows) >= 98.5,
        "recipients found {:.2}% < 98.5%",
        pct(s.found, s.rows)
    );
    assert!(
        pct(s.wrong, s.reported) <= 0.6,
        "wrong recipients {:.2}% > 0.6%",
        pct(s.wrong, s.reported)
    );
    assert!(
        pct(s.status_ok, s.status_rows) >= 98.0,
        "status {:.2}% < 98%",
        pct(s.status_ok, s.status_rows)
    );
    assert!(
        pct(s.reason_ok, s.rows) >= 95.5,
        "reason {:.2}% < 95.5%",
        pct(s.reason_ok, s.rows)
    );
    assert!(
        pct(s.hard_ok, s.rows) >= 97.7,
        "hard/soft {:.2}% < 97.7%",
        pct(s.hard_ok, s.rows)
    );
    assert_eq!(s.false_bounces, 0, "non-bounces counted as bounces");
}

#[test]
fn dev_corpus_meets_the_accuracy_thresholds() {
    let s = score(bounces::parse);
    report("dev corpus (LF)", &s);
    assert_thresholds(&s);
}

fn crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 20);
    let mut prev = 0u8;
    for &b in bytes {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

#[test]
fn dev_corpus_with_crlf_line_endings_parses_the_same() {
    let s = score(|b| bounces::parse(&crlf(b)));
    report("dev corpus (CRLF)", &s);
    assert_thresholds(&s);
    // Not just the same score: the same answers, file by file.
    for entry in std::fs::read_dir(corpus_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("eml") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let lf = bounces::parse(&bytes);
        let cr = bounces::parse(&crlf(&bytes));
        assert_eq!(lf.kind, cr.kind, "{}", path.display());
        let a: Vec<_> = lf
            .records
            .iter()
            .map(|r| (&r.recipient, &r.status, r.reason, r.hard))
            .collect();
        let b: Vec<_> = cr
            .records
            .iter()
            .map(|r| (&r.recipient, &r.status, r.reason, r.hard))
            .collect();
        assert_eq!(a, b, "{}", path.display());
    }
}
