//! `hailer guess` (no database, no network), and `hailer find` + `hailer export suggestions`
//! end to end on loopback (the rig's DNS; a closed local port as the search engine).

mod common;
#[path = "common/fake_dns.rs"]
mod fake_dns;

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

    let zoe = |flags: &[&str]| {
        let out = env
            .hailer()
            .args(["guess", "--first", "Zoé", "--last", "Le Goff"])
            .args(["--domain", "acme.test"])
            .args(flags)
            .output()
            .unwrap();
        assert!(out.status.success());
        out.stdout
    };
    let text = String::from_utf8(zoe(&[])).unwrap();
    assert!(
        text.starts_with("zoe.legoff@acme.test  (first.last, confidence 40)"),
        "{text}"
    );
    // --json as every other command has it, the same as --format json.
    let json = |flags| serde_json::from_slice::<serde_json::Value>(&zoe(flags)).unwrap();
    let j = json(&["--json"]);
    assert_eq!(j["email"], "zoe.legoff@acme.test", "{j}");
    assert_eq!(j, json(&["--format", "json"]));
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

/// A name without a Latin letter is refused with the way out; a --known address the guess
/// cannot use is named, not dropped without a word.
#[test]
fn guess_names_what_it_cannot_use() {
    use predicates::prelude::*;
    let env = Env::new();
    env.hailer()
        .args([
            "guess",
            "--first",
            "李",
            "--last",
            "王",
            "--domain",
            "acme.test",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("give a romanised name"));
    env.hailer()
        .args([
            "guess",
            "--first",
            "Marie",
            "--last",
            "Curie",
            "--domain",
            "acme.test",
        ])
        .args([
            "--known",
            "j.dupont@other.test,notanemail,p.durand@acme.test",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "--known \"j.dupont@other.test\" passed over: not an address at acme.test",
        ))
        .stderr(predicate::str::contains(
            "--known \"notanemail\" passed over",
        ))
        .stderr(predicate::str::contains("p.durand").not())
        .stdout(predicate::str::starts_with("m.curie@acme.test"));
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
    // Nullmx's domain was guessed (nothing given), and takes no mail.
    assert_eq!(v["domains_given"], 0);
    assert_eq!(v["no_mail"], 1);
    assert_eq!(v["no_domain"], 1);
    // A closed port is unreachable, not a search engine blocking us.
    assert_eq!(v["search_blocked"], false);
    assert_eq!(v["search_unreachable"], true);
    assert!(
        v["search_error"].as_str().is_some_and(
            |e| e.starts_with("web search unreachable (") && e.ends_with(" at 127.0.0.1:9")
        ),
        "{v}"
    );
    // Nothing resting on the failed search was cached: a second run asks it again and says so.
    let again = env
        .hailer()
        .arg("--config")
        .arg(&config)
        .args(["find"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{text}");
    assert!(text.contains("; web search unreachable ("), "{text}");
    assert!(text.contains(" at 127.0.0.1:9; guesses used"), "{text}");
    assert!(text.contains("0 from cache"), "{text}");
    // One company, by the name the user sees (its key is "zzq nowhere" or the like); an
    // unknown one is a well-formed argument the database cannot use: exit 4, named.
    let one = env
        .hailer()
        .arg("--config")
        .arg(&config)
        .args(["find", "--company", "Zzq Nowhere", "--json"])
        .output()
        .unwrap();
    assert!(one.status.success(), "{one:?}");
    let v: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    assert_eq!(v["companies"], 1, "{v}");
    env.hailer()
        .arg("--config")
        .arg(&config)
        .args(["find", "--company", "Initech"])
        .assert()
        .code(4)
        .stderr(predicates::str::contains(
            "no company named \"Initech\" (by name or key",
        ));

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
        "prospect_id,firstname,lastname,company,domain,email,alternatives,pattern,confidence,status,reason,verified,evidence"
    );
    let body: Vec<&str> = lines.collect();
    assert!(
        body.iter().any(|l| l
            .split_once(',')
            .is_some_and(|(id, rest)| id.parse::<i64>().is_ok()
                && rest.starts_with("Zoé,Martin,Nullmx,nullmx.test,,,,0,no-mail,"))),
        "{text}"
    );
    assert!(
        body.iter().any(|l| l
            .split_once(',')
            .is_some_and(|(id, rest)| id.parse::<i64>().is_ok()
                && rest.starts_with("Eve,Blanc,Zzq Nowhere,,,,,0,no-domain,"))),
        "{text}"
    );
    assert!(text.contains("web search unreachable"), "{text}");

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

/// A search engine on loopback that answers its first query with no result and holds every
/// later one open, never answering: a run with one company per search stops there. Returns
/// the port and a receiver told when the held query arrives.
fn search_answering_once() -> (u16, std::sync::mpsc::Receiver<()>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (held, on_held) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut searches = 0;
        let mut open = Vec::new();
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let search = String::from_utf8_lossy(&request).starts_with("GET /html/");
            if search && searches > 0 {
                let _ = held.send(());
                open.push(conn);
                continue;
            }
            searches += usize::from(search);
            let status = if search { "200 OK" } else { "404 Not Found" };
            let _ = conn.write_all(
                format!("HTTP/1.1 {status}\r\nContent-Type: text/html\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            );
        }
    });
    (port, on_held)
}

/// Ctrl-C or SIGTERM stops `find` cleanly: the companies done are kept (their suggestions are
/// stored), the summary says the run was cancelled, and the exit code is 130, as for `send`.
#[test]
fn find_stopped_by_a_signal_keeps_what_is_done_and_exits_130() {
    for signal in ["INT", "TERM"] {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        // Every name is NXDOMAIN: a company whose search found nothing has no domain.
        let dns = rt.block_on(fake_dns::serve(vec![]));
        let (port, on_held) = search_answering_once();
        let env = Env::new();
        let csv = env.dir.path().join("p.csv");
        std::fs::write(
            &csv,
            "first name,last name,company\nAnn,Alpha,Alpha Works\nBob,Beta,Beta Works\n",
        )
        .unwrap();
        let config = env.dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[dns]\nnameservers = [\"{dns}\"]\n[search]\nurl = \"http://127.0.0.1:{port}/html/?q={{query}}\"\ntlds = [\"test\"]\ntimeout_secs = 60\nhost_delay_ms = 0\n"
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
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("hailer"))
            .current_dir(env.dir.path())
            .env_remove("HAILER_CONFIG")
            .env_remove("HAILER_DATA_DIR")
            .arg("--data-dir")
            .arg(env.data_dir())
            .arg("--config")
            .arg(&config)
            .args(["find", "--concurrency", "1", "--json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // One company at a time: the second search starts once the first company is stored.
        if on_held
            .recv_timeout(std::time::Duration::from_secs(60))
            .is_err()
        {
            let out = child.wait_with_output().unwrap();
            panic!(
                "{signal}: no second search; {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        common::signal(child.id(), signal);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "{signal}: {stderr}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{signal}: {e}: {stderr}"));
        assert_eq!(v["cancelled"], true, "{signal}: {v:#}");
        assert_eq!(v["no_domain"], 1, "{signal}: {v:#}");

        let out = env
            .hailer()
            .arg("--config")
            .arg(&config)
            .args(["export", "suggestions", "--format", "csv"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            text.lines().filter(|l| l.contains(",no-domain,")).count(),
            1,
            "{signal}: the first company's suggestion is kept, the second has none: {text}"
        );
    }
}

/// With the search engine's port closed and every DNS lookup failing, `find` says the search
/// was unreachable (not blocked), and an imported domain whose MX/A lookup failed is not
/// counted as found.
#[test]
fn an_unreachable_search_and_failed_dns_are_not_reported_as_blocked_or_found() {
    let env = Env::new();
    let csv = env.dir.path().join("p.csv");
    std::fs::write(
        &csv,
        "first name,last name,company,website\nAnn,Doe,Acme,acme.test\nBob,Roe,Zzq Nowhere,\n",
    )
    .unwrap();
    // Loopback ports nothing listens on: the search connection and every DNS query fail.
    let closed_tcp = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let closed_udp = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = env.dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[dns]\nnameservers = [\"{closed_udp}\"]\n[search]\n\
             url = \"http://{closed_tcp}/html/?q={{query}}\"\ntlds = [\"test\"]\ntimeout_secs = 2\n"
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
        .args(["find", "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["search_blocked"], false, "{v}");
    assert_eq!(v["search_unreachable"], true, "{v}");
    assert_eq!(v["domains_found"], 0, "{v}");
    assert_eq!(v["dns_failed"], 1, "{v}");
    let text = env
        .hailer()
        .arg("--config")
        .arg(&config)
        .args(["find", "--refresh"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("web search unreachable ("), "{text}");
    assert!(!text.contains("blocked"), "{text}");
    assert!(
        text.contains("0 with a domain (0 given, 0 found); 1 more not checked: DNS failed,"),
        "{text}"
    );
}

/// A search engine on loopback that answers every query with an empty page and counts them.
fn search_counting() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let searches = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = searches.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            if String::from_utf8_lossy(&request).starts_with("GET /html/") {
                counted.fetch_add(1, Ordering::SeqCst);
            }
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (port, searches)
}

/// The demo's companies are fictional: `find` never asks the web search engine about them and
/// guesses only `.test` domains, whatever `[search] tlds` says, so the demo cannot land on a
/// real company's site. Imported again from the user's own file, the company is real: searched
/// and guessed under the configured TLDs.
#[test]
fn sample_companies_are_kept_off_the_web_until_imported_for_real() {
    use hickory_resolver::proto::rr::RecordType;
    use std::sync::atomic::Ordering;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // Both guesses for "Laboratoires Mercier SA" take mail: which one find lands on shows
    // which TLDs it tried.
    let mx = fake_dns::Answer::Mx(vec![(10, "mx.mail.test")]);
    let dns = rt.block_on(fake_dns::serve(vec![
        ("laboratoiresmercier.com", RecordType::MX, mx.clone()),
        ("laboratoiresmercier.test", RecordType::MX, mx),
    ]));
    let (port, searches) = search_counting();
    let env = Env::new();
    let config = env.dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[dns]\nnameservers = [\"{dns}\"]\n[search]\nurl = \"http://127.0.0.1:{port}/html/?q={{query}}\"\ntlds = [\"com\"]\ntimeout_secs = 5\nhost_delay_ms = 0\nmax_pages = 0\n"
        ),
    )
    .unwrap();
    let hailer = |args: &[&str]| {
        let out = env
            .hailer()
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let assets = concat!(env!("CARGO_MANIFEST_DIR"), "/assets");
    hailer(&["demo", "--no-tui", "--assets", assets]);
    let company = "Laboratoires Mercier SA";
    let suggestion = |hailer: &dyn Fn(&[&str]) -> String| {
        let csv = hailer(&["export", "suggestions", "--format", "csv"]);
        csv.lines()
            .find(|l| l.contains(",Clément,Moreau,"))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no suggestion for Clément Moreau: {csv}"))
    };

    hailer(&["find", "--company", company, "--json"]);
    assert_eq!(
        searches.load(Ordering::SeqCst),
        0,
        "the demo's company was searched"
    );
    let row = suggestion(&hailer);
    assert!(row.contains(",laboratoiresmercier.test,"), "{row}");
    assert!(
        row.contains("fictional company from the sample data"),
        "{row}"
    );

    let csv = env.dir.path().join("mine.csv");
    std::fs::write(
        &csv,
        format!("first name,last name,company\nAnn,Other,{company}\n"),
    )
    .unwrap();
    hailer(&["import", "prospects", csv.to_str().unwrap()]);
    hailer(&["find", "--company", company, "--json"]);
    assert_eq!(
        searches.load(Ordering::SeqCst),
        1,
        "a real company is searched"
    );
    let row = suggestion(&hailer);
    assert!(row.contains(",laboratoiresmercier.com,"), "{row}");

    // An empty search URL turns web search off: guesses only, and the evidence says why.
    let text = std::fs::read_to_string(&config).unwrap();
    let off = text.replace(&format!("http://127.0.0.1:{port}/html/?q={{query}}"), "");
    assert_ne!(off, text);
    std::fs::write(&config, off).unwrap();
    hailer(&["find", "--company", company, "--refresh"]);
    assert_eq!(
        searches.load(Ordering::SeqCst),
        1,
        "searched with url = \"\""
    );
    let row = suggestion(&hailer);
    assert!(row.contains(",laboratoiresmercier.com,"), "{row}");
    assert!(
        row.contains("web search off ([search] url is empty)"),
        "{row}"
    );
}
