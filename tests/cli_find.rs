//! `hailer guess` (no database, no network), and `hailer find` + `hailer export suggestions`
//! end to end on loopback (the rig's DNS; a closed local port as the search engine).

mod common;

use std::path::PathBuf;

use assert_cmd::Command;
use common::rig::Rig;

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
    fn hailer(&self) -> Command {
        let mut cmd = Command::cargo_bin("hailer").unwrap();
        cmd.current_dir(self.dir.path())
            .env_remove("HAILER_CONFIG")
            .env_remove("HAILER_DATA_DIR")
            .arg("--data-dir")
            .arg(self.data_dir());
        cmd
    }
}

#[test]
fn guess_prints_the_json_shape_and_touches_no_database() {
    let env = Env::new();
    let out = env
        .hailer()
        .args([
            "guess",
            "--first",
            "Jean",
            "--last",
            "Dupont",
            "--domain",
            "acme.test",
        ])
        .args([
            "--known",
            "mcurie@acme.test,ppetit@acme.test,contact@acme.test",
        ])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["email", "alternatives", "pattern", "confidence", "evidence"]
    );
    assert_eq!(v["email"], "jdupont@acme.test");
    assert_eq!(v["pattern"], "flast");
    assert!(v["confidence"].as_u64().unwrap() >= 75);
    assert!(v["alternatives"].as_array().unwrap().len() <= 3);
    assert!(v["evidence"].as_array().unwrap().iter().any(|e| {
        e.as_str()
            .unwrap()
            .contains("role addresses ignored: contact@acme.test")
    }));
    assert!(!env.data_dir().exists(), "guess must not create a database");

    let text = env
        .hailer()
        .args([
            "guess",
            "--first",
            "Zoé",
            "--last",
            "Le Goff",
            "--domain",
            "acme.test",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.starts_with("zoe.legoff@acme.test  (first.last, confidence 40)"),
        "{text}"
    );
}

/// --domain is used as normalised: a URL or a www. host gives addresses at the bare domain,
/// and --known addresses there count.
#[test]
fn guess_uses_the_normalised_domain() {
    let env = Env::new();
    let out = env
        .hailer()
        .args(["guess", "--first", "Jean", "--last", "Dupont"])
        .args(["--domain", "https://www.Acme.test/about"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("jean.dupont@acme.test  ("), "{text}");
    assert!(!text.contains("https") && !text.contains("www."), "{text}");

    let out = env
        .hailer()
        .args(["guess", "--first", "Jean", "--last", "Dupont"])
        .args(["--domain", "www.acme.test", "--known", "mcurie@acme.test"])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["email"], "jdupont@acme.test", "{v:#}");
    assert_eq!(v["pattern"], "flast", "{v:#}");
}

#[test]
fn guess_rejects_a_bad_domain() {
    Env::new()
        .hailer()
        .args([
            "guess",
            "--first",
            "A",
            "--last",
            "B",
            "--domain",
            "not a domain",
        ])
        .assert()
        .code(2);
}

#[test]
fn find_then_export_suggestions() {
    let Some(rig) = Rig::get() else { return };
    let env = Env::new();
    let csv = env.dir.path().join("p.csv");
    std::fs::write(
        &csv,
        "first name,last name,company,website\nZoé,Martin,Nullmx,\nEve,Blanc,Zzq Nowhere,\n",
    )
    .unwrap();
    let config = env.dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[dns]\nnameservers = [\"{}\"]\n[search]\nurl = \"http://127.0.0.1:9/html/?q={{query}}\"\ntlds = [\"test\"]\ntimeout_secs = 2\n",
            rig.dns()
        ),
    )
    .unwrap();
    env.hailer()
        .arg("--config")
        .arg(&config)
        .args(["import", "prospects"])
        .arg(&csv)
        .assert()
        .success();
    let out = env
        .hailer()
        .arg("--config")
        .arg(&config)
        .args(["find", "--concurrency", "2", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["companies"], 2);
    assert_eq!(v["no_mail"], 1);
    assert_eq!(v["no_domain"], 1);
    assert_eq!(v["search_blocked"], true);

    let out = env
        .hailer()
        .arg("--config")
        .arg(&config)
        .args(["export", "suggestions", "--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "firstname,lastname,company,domain,suggested,alternatives,pattern,confidence,status,reason,evidence"
    );
    let body: Vec<&str> = lines.collect();
    assert!(
        body.iter()
            .any(|l| l.starts_with("Zoé,Martin,Nullmx,nullmx.test,,,,0,no-mail,")),
        "{text}"
    );
    assert!(
        body.iter()
            .any(|l| l.starts_with("Eve,Blanc,Zzq Nowhere,,,,,0,no-domain,")),
        "{text}"
    );
    assert!(text.contains("web search failed"), "{text}");

    let xlsx = env.dir.path().join("s.xlsx");
    env.hailer()
        .arg("--config")
        .arg(&config)
        .args(["export", "suggestions", "--format", "xlsx", "--output"])
        .arg(&xlsx)
        .assert()
        .success();
    assert!(std::fs::metadata(&xlsx).unwrap().len() > 1000);
}
