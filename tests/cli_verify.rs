//! `hailer verify` as a user runs it: the real binary, a real database in a temporary
//! directory. Streaming tests use scripted DNS and SMTP servers on loopback (no rig needed);
//! the database mode runs against the mail rig when `HAILER_RIG` is set.

#[path = "common/fake_dns.rs"]
mod fake_dns;
#[path = "common/fake_smtp.rs"]
mod fake_smtp;
#[path = "common/rig.rs"]
mod rig;

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use fake_dns::Answer;
use fake_smtp::{FakeSmtp, reply, standard};
use hailer::store::{Store, suggestions, verifications};
use hickory_resolver::proto::rr::RecordType;
use tempfile::TempDir;

const HEADER: &str = "email,status,mx,code,enhanced,detail";

/// Scripted servers for the streaming tests: `acme.test` (jane exists, others 550 5.1.1),
/// any other name NXDOMAIN. They live as long as the runtime.
struct Servers {
    _rt: tokio::runtime::Runtime,
    dns: SocketAddr,
    smtp: FakeSmtp,
}

fn servers() -> Servers {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (dns, smtp) = rt.block_on(async {
        let dns = fake_dns::serve(vec![
            (
                "acme.test",
                RecordType::MX,
                Answer::Mx(vec![(10, "mx.acme.test")]),
            ),
            (
                "mx.acme.test",
                RecordType::A,
                Answer::A(Ipv4Addr::LOCALHOST),
            ),
        ])
        .await;
        let smtp = fake_smtp::start(
            "127.0.0.1",
            Arc::new(|_, cmd: Option<&str>| match cmd {
                None => reply("220 mx.acme.test ESMTP"),
                Some(c) if c.starts_with("RCPT TO:<jane@") => reply("250 2.1.5 Ok"),
                Some(c) if c.starts_with("RCPT TO:<grey@") => {
                    reply("450 4.7.1 Greylisted, please try again later")
                }
                Some(c) if c.starts_with("RCPT TO:<silent@") => fake_smtp::Act::Hang,
                Some(c) if c.starts_with("RCPT") => reply("550 5.1.1 User unknown"),
                Some(c) => standard(c),
            }),
        )
        .await;
        (dns, smtp)
    });
    Servers { _rt: rt, dns, smtp }
}

struct Env {
    dir: TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn data_dir(&self) -> PathBuf {
        self.path("data")
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// A config pointing at the scripted servers.
    fn config(&self, s: &Servers) -> PathBuf {
        self.write(
            "config.toml",
            format!(
                "[dns]\nnameservers = [\"{}\"]\n\n[verify]\nport = {}\nhelo_name = \"probe.sender.test\"\n\
                 from = \"probe@sender.test\"\nrate_limit = 0.0\nallow_special_use = [\"test\"]\n",
                s.dns,
                s.smtp.addr.port()
            )
            .as_bytes(),
        )
    }

    /// `hailer verify --input FILE`, which must succeed; its output.
    fn verify_stream(&self, config: &Path, file: &Path) -> std::process::Output {
        self.hailer(config)
            .args(["verify", "--input"])
            .arg(file)
            .assert()
            .success()
            .get_output()
            .clone()
    }

    fn hailer(&self, config: &Path) -> Command {
        let mut cmd = Command::cargo_bin("hailer").unwrap();
        cmd.current_dir(self.dir.path())
            .env_remove("HAILER_CONFIG")
            .env_remove("HAILER_DATA_DIR")
            .arg("--config")
            .arg(config)
            .arg("--data-dir")
            .arg(self.data_dir());
        cmd
    }
}

/// RCPT commands the scripted server saw for addresses starting with `local_at`.
fn rcpts_to(smtp: &FakeSmtp, local_at: &str) -> usize {
    let prefix = format!("RCPT TO:<{local_at}");
    smtp.conns()
        .iter()
        .map(|c| c.commands.iter().filter(|l| l.starts_with(&prefix)).count())
        .sum()
}

fn rows(csv_text: &str) -> Vec<Vec<String>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        // A row longer than the header keeps its extra cells after the verdict.
        .flexible(true)
        .from_reader(csv_text.as_bytes());
    rdr.records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn streaming_lines_gives_one_row_per_line_in_order_with_the_exact_header() {
    let s = servers();
    let env = Env::new();
    let config = env.config(&s);
    let mut input = b"jane@acme.test\nnobody@acme.test\n\n  \ngarbage line\n".to_vec();
    // A line saved by a Windows program (Windows-1252) is read as such, as import does.
    input.extend(b"h\xe9l\xe8ne@nosuch.test\n");
    input.extend("x".repeat(10_000).as_bytes());
    input.extend(b"@acme.test\n\"quoted\"@acme.test\r\nsomeone@nosuch.test\n");
    // As mail clients and CRM exports write them: the address is verified (and echoed) alone.
    input.extend(b"Jane Doe <jane@acme.test>\nmailto:nobody@acme.test\n");
    let file = env.write("in.txt", &input);
    let out = env.verify_stream(&config, &file);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with(&format!("{HEADER}\n")), "{stdout}");
    let r = rows(&stdout);
    let got: Vec<(&str, &str)> = r[1..]
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    let long = format!("{}@acme.test", "x".repeat(10_000));
    assert_eq!(
        got,
        [
            ("jane@acme.test", "VALID"),
            ("nobody@acme.test", "MAILBOX_NOT_FOUND"),
            // The blank lines are skipped, not verified.
            ("garbage line", "INVALID_SYNTAX"),
            ("hélène@nosuch.test", "NO_MX"),
            (long.as_str(), "INVALID_SYNTAX"),
            ("\"quoted\"@acme.test", "INVALID_SYNTAX"),
            ("someone@nosuch.test", "NO_MX"),
            ("jane@acme.test", "VALID"),
            ("nobody@acme.test", "MAILBOX_NOT_FOUND"),
        ]
    );
    assert_eq!(
        r[2],
        [
            "nobody@acme.test",
            "MAILBOX_NOT_FOUND",
            "mx.acme.test",
            "550",
            "5.1.1",
            "User unknown"
        ]
    );
    // Not an address at all: said so first, not that it has spaces.
    assert_eq!(r[3][5], "not an address (no @)");
    // The summary goes to stderr when the results take stdout.
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("9 addresses verified"), "{stderr}");
    assert!(
        stderr.contains("2 blank line(s) or row(s) skipped (no address)"),
        "{stderr}"
    );
}

/// Streaming mode reports a greylisted address as TEMPORARY at once: no retry by default
/// (`--retries 0`), so one RCPT for it, and a stream never waits minutes on a backoff.
#[test]
fn streaming_reports_temporary_at_once_without_retrying() {
    let s = servers();
    let env = Env::new();
    let config = env.config(&s);
    let file = env.write("in.txt", b"grey@acme.test\njane@acme.test\n");
    let out = env.verify_stream(&config, &file);
    let r = rows(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(r[1][..2], ["grey@acme.test", "TEMPORARY"]);
    assert_eq!(r[1][3..5], ["450", "4.7.1"]);
    assert_eq!(r[2][..2], ["jane@acme.test", "VALID"]);
    let grey_rcpts = rcpts_to(&s.smtp, "grey@");
    assert_eq!(grey_rcpts, 1, "{:#?}", s.smtp.conns());
}

#[test]
fn csv_input_with_an_email_column_and_output_to_a_file() {
    let s = servers();
    let env = Env::new();
    let config = env.config(&s);
    let file = env.write(
        "in.csv",
        b"Name,Email,Note\n\"Doe, Jane\",jane@acme.test,\"multi\nline\"\nNo Body,nobody@acme.test,\n",
    );
    let out_file = env.path("out.csv");
    env.hailer(&config)
        .args(["verify", "--json", "--input"])
        .arg(&file)
        .arg("--output")
        .arg(&out_file)
        .assert()
        .success()
        .stdout(predicates::str::contains("\"total\": 2"));
    // The input's columns are kept, the verdict's appended, as NeverBounce and ZeroBounce
    // do: no joining back by row order.
    let text = std::fs::read_to_string(&out_file).unwrap();
    let r = rows(&text);
    assert_eq!(
        r[0].join(","),
        "Name,Email,Note,status,mx,code,enhanced,detail"
    );
    assert_eq!(
        r[1][..5],
        [
            "Doe, Jane",
            "jane@acme.test",
            "multi\nline",
            "VALID",
            "mx.acme.test"
        ]
    );
    assert_eq!(
        r[2][..4],
        ["No Body", "nobody@acme.test", "", "MAILBOX_NOT_FOUND"]
    );
    // A `;` file whose header already has a "Status" column: the verdict's are prefixed, a
    // short row is padded so its verdict stays under its header, an empty row (`;;`, as a
    // spreadsheet saves one) is skipped.
    let file = env.write(
        "fr.csv",
        "Prénom;Courriel;Status\nJane;jane@acme.test;client;\n;;\nBob;nobody@acme.test\n\
         Cy;jane@acme.test;;kept\n"
            .as_bytes(),
    );
    let out = env.verify_stream(&config, &file);
    let r = rows(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(
        r[0].join(","),
        "Prénom,Courriel,Status,verify_status,verify_mx,verify_code,verify_enhanced,verify_detail"
    );
    assert_eq!(r[1][..4], ["Jane", "jane@acme.test", "client", "VALID"]);
    assert_eq!(
        r[2][..4],
        ["Bob", "nobody@acme.test", "", "MAILBOX_NOT_FOUND"]
    );
    // A row longer than the header: the verdict under its header all the same, an empty
    // extra cell (a trailing `;`) dropped, a filled one kept after the verdict.
    assert_eq!(r[1].len(), 8, "{r:?}");
    assert_eq!(r[3][..4], ["Cy", "jane@acme.test", "", "VALID"]);
    assert_eq!((r[3].len(), r[3][8].as_str()), (9, "kept"), "{r:?}");
    assert_eq!(r.len(), 4, "{r:?}");
}

#[test]
fn stdin_results_can_be_read_while_the_input_is_still_open() {
    let s = servers();
    let env = Env::new();
    let config = env.config(&s);
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("hailer"))
        .current_dir(env.dir.path())
        .env_remove("HAILER_CONFIG")
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(env.data_dir())
        .args(["verify", "--input", "-", "--no-store"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    // One address in, one row out, with stdin still open. The header comes with the first
    // line read: nothing is written before the input's shape is known.
    stdin.write_all(b"jane@acme.test\n").unwrap();
    stdin.flush().unwrap();
    let started = Instant::now();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line.trim_end(), HEADER);
    line.clear();
    stdout.read_line(&mut line).unwrap();
    assert!(line.starts_with("jane@acme.test,VALID,"), "{line}");
    assert!(started.elapsed() < Duration::from_secs(5));
    stdin.write_all(b"nope\n").unwrap();
    drop(stdin);
    line.clear();
    stdout.read_line(&mut line).unwrap();
    assert!(line.starts_with("nope,INVALID_SYNTAX,"), "{line}");
    assert!(child.wait().unwrap().success());
    // --no-store: no database was created.
    assert!(!env.data_dir().join("hailer.db").exists());
}

#[test]
fn results_are_stored_and_reused_from_the_cache() {
    let s = servers();
    let env = Env::new();
    let config = env.config(&s);
    let file = env.write("in.txt", b"jane@acme.test\nnobody@acme.test\nbad\n");
    env.hailer(&config)
        .args(["verify", "--input"])
        .arg(&file)
        .assert()
        .success();
    let store = Store::open_in(&env.data_dir()).unwrap();
    let stored = verifications::list(store.conn()).unwrap();
    let got: Vec<(&str, &str)> = stored
        .iter()
        .map(|r| (r.email.as_str(), r.status.as_str()))
        .collect();
    // Streamed INVALID_SYNTAX lines are not stored.
    assert_eq!(
        got,
        [
            ("jane@acme.test", "VALID"),
            ("nobody@acme.test", "MAILBOX_NOT_FOUND")
        ]
    );
    let sessions = s.smtp.conns().len();
    let out = env
        .hailer(&config)
        .args(["verify", "--json", "--input"])
        .arg(&file)
        .args(["--output", "out.csv"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["cached"], 2, "{json}");
    assert_eq!(json["output"], "out.csv", "{json}");
    // Results on standard output: the summary (on stderr) says so, not null.
    let err = env
        .hailer(&config)
        .args(["verify", "--json", "-o", "-", "--input"])
        .arg(&file)
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&err).unwrap();
    assert_eq!(json["output"], "-", "{json}");
    assert_eq!(
        s.smtp.conns().len(),
        sessions,
        "the cache must avoid new sessions"
    );
    // --max-age 0 verifies again.
    env.hailer(&config)
        .args(["verify", "--max-age", "0", "--output", "out.csv", "--input"])
        .arg(&file)
        .assert()
        .success();
    assert_eq!(s.smtp.conns().len(), sessions + 2);
}

#[test]
fn an_unreadable_input_is_exit_4_and_bad_flags_exit_2() {
    let s = servers();
    let env = Env::new();
    let config = env.config(&s);
    env.hailer(&config)
        .args(["verify", "--input", "missing.txt"])
        .assert()
        .code(4)
        .stderr(predicates::str::contains("missing.txt"));
    env.hailer(&config)
        .args(["verify", "--input", "-", "--concurrency", "0"])
        .assert()
        .code(2);
    env.hailer(&config)
        .args(["verify", "--no-store"])
        .assert()
        .code(2);
}

#[test]
fn a_failed_run_never_wipes_an_existing_results_file() {
    let s = servers();
    let env = Env::new();
    let config = env.config(&s);
    let out_file = env.write("out.csv", b"old results\n");
    let files = |env: &Env| {
        let mut names: Vec<String> = std::fs::read_dir(env.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    // A directory opens like a file but cannot be read.
    let dir = env.path("data");
    std::fs::create_dir_all(&dir).unwrap();
    let before = files(&env);
    let out = env
        .hailer(&config)
        .args(["verify", "--output", "out.csv", "--input"])
        .arg(&dir)
        .assert()
        .code(4)
        .stderr(predicates::str::contains("cannot read"))
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("verified"), "success summary: {stdout}");
    assert!(!stdout.contains("results written"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), "old results\n");
    assert_eq!(files(&env), before, "no stray files");
    // A run that succeeds replaces it, through a temporary file that does not stay behind.
    let file = env.write("in.txt", b"jane@acme.test\n");
    let before = files(&env);
    let out = env
        .hailer(&config)
        .args(["verify", "--no-store", "--output", "out.csv", "--input"])
        .arg(&file)
        .assert()
        .success()
        .stdout(predicates::str::contains("results written to out.csv"))
        .get_output()
        .clone();
    let r = rows(&std::fs::read_to_string(&out_file).unwrap());
    assert_eq!(r[0].join(","), HEADER);
    assert_eq!(r[1][..2], ["jane@acme.test", "VALID"]);
    assert_eq!(files(&env), before, "no stray files");
    // The temporary file is named on stderr, so the results can be followed during a run.
    let stderr = String::from_utf8(out.stderr).unwrap();
    let named = stderr
        .lines()
        .find_map(|l| l.strip_prefix("hailer: results are written to "))
        .and_then(|l| l.split(" during the run").next())
        .unwrap_or_else(|| panic!("no temporary file named: {stderr}"));
    let name = std::path::Path::new(named)
        .file_name()
        .unwrap()
        .to_string_lossy();
    assert!(name.starts_with(".out.csv."), "beside the output: {stderr}");
    assert!(!env.path(named).exists(), "renamed at the end: {stderr}");
}

#[test]
fn huge_numbers_are_usage_or_config_errors_not_panics() {
    let s = servers();
    let env = Env::new();
    let config = env.config(&s);
    let file = env.write("in.txt", b"jane@acme.test\n");
    for (flag, value) in [
        ("--timeout", "1e20"),
        ("--connect-timeout", "1e20"),
        ("--max-age", "1e300"),
        ("--retry-delay", "1e20"),
        ("--rate-limit", "1e20"),
        ("--dns-timeout", "1e19"),
    ] {
        let out = env
            .hailer(&config)
            .args(["verify", "--output", "out.csv", flag, value, "--input"])
            .arg(&file)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(flag))
            .get_output()
            .clone();
        assert!(out.stdout.is_empty(), "{flag}: {out:?}");
        assert!(!env.path("out.csv").exists(), "{flag}: output written");
    }
    let big = env.write(
        "big.toml",
        format!(
            "{}\n",
            std::fs::read_to_string(&config)
                .unwrap()
                .replace("rate_limit = 0.0", "rate_limit = 1e300")
        )
        .as_bytes(),
    );
    env.hailer(&big)
        .args(["verify", "--output", "out.csv", "--input"])
        .arg(&file)
        .assert()
        .code(3)
        .stderr(predicates::str::contains("rate_limit"));
    assert!(!env.path("out.csv").exists());
}

#[test]
fn database_mode_against_the_rig_stores_every_prospect_verdict() {
    let Some(rig) = rig::rig() else { return };
    let env = Env::new();
    let config = rig.config();
    let prospects = env.write(
        "prospects.csv",
        "firstname,lastname,company,email\n\
         Jane,Doe,Acme,jane.doe@acme.test\n\
         No,Body,Acme,nobody@acme.test\n\
         Any,One,Catchall,anyone@catchall.test\n\
         Null,Mx,Nullmx,someone@nullmx.test\n\
         Grey,List,Greylist,someone@greylist.test\n\
         Bad,Address,Acme,bad.address@acme.test\n\
         No,Email,Acme,\n"
            .as_bytes(),
    );
    env.hailer(&config)
        .args(["import", "prospects"])
        .arg(&prospects)
        .assert()
        .success();
    // The import refuses such an address now; one stored before still gets its verdict.
    Store::open_in(&env.data_dir())
        .unwrap()
        .conn()
        .execute(
            "UPDATE prospects SET email = 'jane..doe@acme.test' WHERE lastname = 'Address'",
            [],
        )
        .unwrap();
    let out = env
        .hailer(&config)
        .args(["verify", "--json", "--retries", "0"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["total"], 6, "{json}");
    let store = Store::open_in(&env.data_dir()).unwrap();
    let mut got: Vec<(String, String)> = verifications::list(store.conn())
        .unwrap()
        .into_iter()
        .map(|r| (r.email, r.status))
        .collect();
    got.sort();
    let want = [
        ("anyone@catchall.test", "CATCH_ALL"),
        ("jane.doe@acme.test", "VALID"),
        ("nobody@acme.test", "MAILBOX_NOT_FOUND"),
        ("jane..doe@acme.test", "INVALID_SYNTAX"),
        ("someone@greylist.test", "TEMPORARY"),
        ("someone@nullmx.test", "NO_MX"),
    ];
    let mut want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    want.sort();
    assert_eq!(got, want);
    let catch_all = verifications::list(store.conn())
        .unwrap()
        .into_iter()
        .find(|r| r.email == "anyone@catchall.test")
        .unwrap();
    assert!(
        catch_all.detail.starts_with("accepted (250 2.1.5 ")
            && catch_all.detail.ends_with("the domain accepts any address"),
        "{:?}",
        catch_all.detail
    );
    // A second run reuses the four probed definitive verdicts, probes the TEMPORARY one again
    // (syntax is checked anew, it costs nothing).
    let out = env
        .hailer(&config)
        .args(["verify", "--json", "--retries", "0"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["cached"], 4, "{json}");
    assert_eq!(json["by_status"]["TEMPORARY"], 1, "{json}");
}

/// `verify ID…`, `--company`, `--status` verify only those prospects' addresses; a suggested
/// first choice verified dead has its next two alternatives verified, and the first VALID one
/// becomes the suggestion (still to accept) with evidence saying why. An accepted row stays the
/// user's choice, and alternatives past the second are not probed.
#[test]
fn verify_named_prospects_and_the_alternatives_of_a_dead_first_choice() {
    let Some(rig) = rig::rig() else { return };
    let env = Env::new();
    let config = rig.config();
    let prospects = env.write(
        "prospects.csv",
        b"firstname,lastname,company\nJane,Doe,Acme\nJohn,Smith,Acme\nSal,Es,Acme\nNo,Body,Other\n",
    );
    env.hailer(&config)
        .args(["import", "prospects"])
        .arg(&prospects)
        .assert()
        .success();
    let store = Store::open_in(&env.data_dir()).unwrap();
    store
        .conn()
        .execute_batch(
            "INSERT INTO suggestions (prospect_id, email, alternatives, pattern, confidence, evidence, status, updated_at) VALUES
               (1, 'j.doe@acme.test', '[\"jdoe@acme.test\",\"jane.doe@acme.test\",\"jane@acme.test\"]', 'f.last', 80, '[]', 'suggested', 0),
               (2, 'jsmith@acme.test', '[\"john.smith@acme.test\"]', 'flast', 80, '[]', 'accepted', 0),
               (3, 's.es@acme.test', '[\"ses@acme.test\",\"sal@acme.test\",\"sales@acme.test\"]', 'f.last', 80, '[]', 'suggested', 0),
               (4, 'no.body@acme.test', '[\"nbody@acme.test\"]', 'first.last', 80, '[]', 'suggested', 0);",
        )
        .unwrap();
    let verified = |store: &Store| -> Vec<String> {
        let mut v: Vec<String> = verifications::list(store.conn())
            .unwrap()
            .into_iter()
            .map(|r| format!("{} {}", r.email, r.status))
            .collect();
        v.sort();
        v
    };
    // One prospect by id: its first choice, then its next two alternatives.
    let out = env
        .hailer(&config)
        .args(["verify", "1", "--retries", "0"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        verified(&store),
        [
            "j.doe@acme.test MAILBOX_NOT_FOUND",
            "jane.doe@acme.test VALID",
            "jdoe@acme.test MAILBOX_NOT_FOUND"
        ]
    );
    assert!(
        text.contains("verifying the addresses of prospect 1"),
        "{text}"
    );
    assert!(
        text.contains(
            "prospect 1: j.doe@acme.test verified MAILBOX_NOT_FOUND; now jane.doe@acme.test"
        ),
        "{text}"
    );
    let jane = suggestions::get(store.conn(), 1).unwrap().unwrap();
    assert_eq!(jane.email.as_deref(), Some("jane.doe@acme.test"));
    assert_eq!(jane.status, "suggested", "found, not accepted for the user");
    assert_eq!(jane.verified.as_deref(), Some("VALID"));
    assert!(jane.confidence >= 80, "{}", jane.confidence);
    assert!(
        jane.evidence[0].contains(
            "first choice j.doe@acme.test verified MAILBOX_NOT_FOUND; jane.doe@acme.test verified VALID"
        ),
        "{:?}",
        jane.evidence
    );
    assert_eq!(
        jane.alternatives.last().map(String::as_str),
        Some("j.doe@acme.test"),
        "the dead address goes last"
    );
    // A company filter with a status: Acme's suggested rows (3), not the accepted one (2)
    // nor Other's (4). Only two alternatives of 3 are tried: sales@ stays unverified.
    env.hailer(&config)
        .args([
            "verify",
            "--company",
            "ACME",
            "--status",
            "suggested",
            "--retries",
            "0",
        ])
        .assert()
        .success();
    let all = verified(&store);
    assert!(
        all.contains(&"s.es@acme.test MAILBOX_NOT_FOUND".to_string()),
        "{all:?}"
    );
    assert!(
        all.contains(&"ses@acme.test MAILBOX_NOT_FOUND".to_string()),
        "{all:?}"
    );
    assert!(
        all.contains(&"sal@acme.test MAILBOX_NOT_FOUND".to_string()),
        "{all:?}"
    );
    assert!(!all.iter().any(|v| v.starts_with("sales@")), "{all:?}");
    assert!(!all.iter().any(|v| v.starts_with("jsmith@")), "{all:?}");
    assert!(!all.iter().any(|v| v.starts_with("no.body@")), "{all:?}");
    let sal = suggestions::get(store.conn(), 3).unwrap().unwrap();
    assert_eq!(
        sal.email.as_deref(),
        Some("s.es@acme.test"),
        "no VALID alternative"
    );
    // Everyone: the accepted dead row is verified but stays the user's choice.
    env.hailer(&config)
        .args(["verify", "--retries", "0"])
        .assert()
        .success();
    let john = suggestions::get(store.conn(), 2).unwrap().unwrap();
    assert_eq!(john.email.as_deref(), Some("jsmith@acme.test"));
    assert_eq!(john.verified.as_deref(), Some("MAILBOX_NOT_FOUND"));
    assert!(
        !verified(&store)
            .iter()
            .any(|v| v.starts_with("john.smith@")),
        "an accepted row's alternatives are not probed"
    );
    // An id or a company that names nothing: said, nothing probed, exit 4.
    let before = verified(&store);
    env.hailer(&config)
        .args(["verify", "999", "--company", "Nope SA"])
        .assert()
        .code(4)
        .stderr(predicates::str::contains(
            "no prospect 999; nothing verified",
        ))
        .stderr(predicates::str::contains(
            "no prospect at company \"Nope SA\"; nothing verified",
        ));
    assert_eq!(verified(&store), before);
}

/// Database mode retries a greylisted address after its pause, and without a terminal it says
/// on stderr why the run waits, so a pause does not look like a hang.
/// The alternatives pass runs after the main pass's verdicts are stored: when it fails, the
/// main pass's summary is printed all the same, with the failure, and the exit code is 1.
#[test]
fn a_failed_alternatives_pass_still_reports_the_main_pass() {
    let Some(rig) = rig::rig() else { return };
    let env = Env::new();
    let config = rig.config();
    let prospects = env.write(
        "prospects.csv",
        b"firstname,lastname,company\nJane,Doe,Acme\n",
    );
    env.hailer(&config)
        .args(["import", "prospects"])
        .arg(&prospects)
        .assert()
        .success();
    let store = Store::open_in(&env.data_dir()).unwrap();
    // The alternative's verdict cannot be stored: the alternatives pass fails.
    store
        .conn()
        .execute_batch(
            "INSERT INTO suggestions (prospect_id, email, alternatives, pattern, confidence, evidence, status, updated_at) VALUES
               (1, 'j.doe@acme.test', '[\"jane.doe@acme.test\"]', 'f.last', 80, '[]', 'suggested', 0);
             CREATE TRIGGER refuse_alternative BEFORE INSERT ON verifications
                 WHEN NEW.email = 'jane.doe@acme.test'
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
        )
        .unwrap();
    let out = env
        .hailer(&config)
        .args(["verify", "1", "--retries", "0"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stdout.contains("verifying the addresses of prospect 1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("MAILBOX_NOT_FOUND"),
        "the main pass's counts: {stdout}"
    );
    assert!(
        stdout.contains("alternatives of dead first choices not verified: ")
            && stdout.contains("refused by the test"),
        "{stdout}"
    );
    assert!(stderr.contains("verifying alternatives: "), "{stderr}");
    let stored = verifications::get(store.conn(), "j.doe@acme.test").unwrap();
    assert_eq!(
        stored.map(|v| v.status).as_deref(),
        Some("MAILBOX_NOT_FOUND")
    );
    let jane = suggestions::get(store.conn(), 1).unwrap().unwrap();
    assert_eq!(
        jane.email.as_deref(),
        Some("j.doe@acme.test"),
        "nothing promoted"
    );

    // With --json the failure is a field of the summary.
    let out = env
        .hailer(&config)
        .args(["verify", "1", "--retries", "0", "--max-age", "0", "--json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(
        json["alternatives_error"]
            .as_str()
            .is_some_and(|e| e.contains("refused by the test")),
        "{json}"
    );
    assert_eq!(json["total"], 1, "{json}");
}

#[test]
fn database_mode_retries_temporary_and_says_it_is_waiting() {
    let s = servers();
    let env = Env::new();
    let config = env.config(&s);
    let prospects = env.write(
        "prospects.csv",
        b"firstname,lastname,company,email\nJane,Doe,Acme,jane@acme.test\nGrey,List,Acme,grey@acme.test\n",
    );
    env.hailer(&config)
        .args(["import", "prospects"])
        .arg(&prospects)
        .assert()
        .success();
    let out = env
        .hailer(&config)
        .args(["verify", "--retries", "1", "--retry-delay", "2"])
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr
            .contains("1 address(es) waiting to retry (greylisting or 4xx; first retry after 2 s"),
        "{stderr}"
    );
    let store = Store::open_in(&env.data_dir()).unwrap();
    let grey = verifications::get(store.conn(), "grey@acme.test")
        .unwrap()
        .unwrap();
    assert_eq!(grey.status, "TEMPORARY");
    assert!(grey.detail.contains("after 1 retries"), "{}", grey.detail);
    let rcpts = rcpts_to(&s.smtp, "grey@");
    assert_eq!(rcpts, 2, "one try and one retry");
}

/// `--output` through a symbolic link replaces the link's target (the link stays) with the
/// replaced file's permissions, and leaves no temporary file behind.
#[test]
fn output_through_a_symlink_keeps_the_link_and_the_files_mode() {
    use std::os::unix::fs::PermissionsExt;
    let s = servers();
    let env = Env::new();
    let config = env.config(&s);
    let input = env.write("in.txt", b"jane@acme.test\n");
    let real = env.write("real.csv", b"old results\n");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::symlink("real.csv", env.path("link.csv")).unwrap();
    env.hailer(&config)
        .args(["verify", "--no-store", "--output", "link.csv", "--input"])
        .arg(&input)
        .assert()
        .success();
    let link = std::fs::symlink_metadata(env.path("link.csv")).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced");
    let r = rows(&std::fs::read_to_string(&real).unwrap());
    assert_eq!(r[1][..2], ["jane@acme.test", "VALID"]);
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    let stray: Vec<String> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

/// A spreadsheet or a binary file is not read as lines of text (one INVALID_SYNTAX row per
/// chunk of ZIP bytes): exit 4, the file and what it is named, no result rows, no output
/// file; from standard input too.
#[test]
fn a_spreadsheet_or_binary_input_is_refused_with_exit_4() {
    let s = servers();
    let env = Env::new();
    let config = env.config(&s);
    let xlsx = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/prospects.xlsx");
    let binary = env.write(
        "list.bin",
        b"\x7fELF\x02\x01\x01\x00\x00\x00jane@acme.test\n",
    );
    for (input, what) in [(xlsx.as_path(), "XLSX spreadsheet"), (&binary, "binary")] {
        let out = env
            .hailer(&config)
            .args(["verify", "--no-store", "--output", "out.csv", "--input"])
            .arg(input)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{stderr}");
        assert!(stderr.contains(&*input.to_string_lossy()), "{stderr}");
        assert!(stderr.contains(what), "{stderr}");
        assert!(!env.path("out.csv").exists());
    }
    let out = env
        .hailer(&config)
        .args(["verify", "--no-store", "--input", "-"])
        .write_stdin(std::fs::read(&xlsx).unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("XLSX spreadsheet"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("INVALID_SYNTAX"), "{stdout}");
}

/// "Unicode text" from Excel is UTF-16LE, tab-separated, CRLF, with a BOM or (from some tools)
/// without one; UTF-16BE too. Each is read like its UTF-8 twin, from a file or standard input:
/// the accents of other columns do not matter, and a line that is not valid UTF-16 (a lone
/// surrogate) is one INVALID_SYNTAX row that says so, not the end of the run.
#[test]
fn utf16_input_with_or_without_bom_is_decoded() {
    let s = servers();
    let env = Env::new();
    let config = env.config(&s);
    let text = "Nom\tE-mail\r\nHélène Dupré\tjane@acme.test\r\nZoë\tnobody@acme.test\r\n";
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let with_bom = |bom: &[u8], body: &[u8]| [bom, body].concat();
    let want = [
        ("jane@acme.test", "VALID"),
        ("nobody@acme.test", "MAILBOX_NOT_FOUND"),
    ];
    for (name, bytes) in [
        ("le-bom.txt", with_bom(b"\xFF\xFE", &le)),
        ("le.txt", le.clone()),
        ("be-bom.txt", with_bom(b"\xFE\xFF", &be)),
        ("be.txt", be.clone()),
    ] {
        let file = env.write(name, &bytes);
        let out = env.verify_stream(&config, &file);
        let stdout = String::from_utf8(out.stdout).unwrap();
        let r = rows(&stdout);
        // The input's columns kept (decoded), the verdict after them.
        assert_eq!(r[1][0], "Hélène Dupré", "{name}: {stdout}");
        let got: Vec<(&str, &str)> = r[1..]
            .iter()
            .map(|r| (r[1].as_str(), r[2].as_str()))
            .collect();
        assert_eq!(got, want, "{name}: {stdout}");
    }
    // Standard input, one address per line, with a lone surrogate on the second line.
    let mut lines = b"\xFF\xFE".to_vec();
    lines.extend(
        "jane@acme.test\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    lines.extend(0xD800u16.to_le_bytes());
    lines.extend(
        "x@acme.test\r\nnobody@acme.test\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    let out = env
        .hailer(&config)
        .args(["verify", "--no-store", "--input", "-"])
        .write_stdin(lines)
        .assert()
        .success()
        .get_output()
        .clone();
    let r = rows(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(r.len(), 4, "{r:?}");
    assert_eq!(r[1][..2], ["jane@acme.test", "VALID"]);
    assert_eq!(r[2][1], "INVALID_SYNTAX");
    assert!(r[2][0].ends_with("x@acme.test"), "{r:?}");
    assert_eq!(r[2][5], "not valid UTF-16LE");
    assert_eq!(r[3][..2], ["nobody@acme.test", "MAILBOX_NOT_FOUND"]);
}

/// A verdict's detail names the MX host and address wherever the session broke: at the
/// banner or at RCPT. A greeting that is not SMTP (an HTTP server) is UNKNOWN, not TEMPORARY.
#[test]
fn timeouts_name_the_host_and_a_non_smtp_greeting_is_unknown() {
    let s = servers();
    let env = Env::new();
    let config = env.config(&s);
    let file = env.write("in.txt", b"silent@acme.test\n");
    let out = env
        .hailer(&config)
        .args(["verify", "--timeout", "1", "--input"])
        .arg(&file)
        .assert()
        .success()
        .get_output()
        .clone();
    let r = rows(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(r[1][..2], ["silent@acme.test", "TIMEOUT"], "{r:?}");
    let at = format!("mx.acme.test[127.0.0.1]:{}: ", s.smtp.addr.port());
    assert!(r[1][5].starts_with(&at), "{r:?}");
    assert!(r[1][5].contains("no reply to RCPT TO"), "{r:?}");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let http = rt.block_on(async {
        fake_smtp::start(
            "127.0.0.1",
            Arc::new(|_, cmd: Option<&str>| match cmd {
                None => reply("HTTP/1.1 400 Bad Request"),
                Some(_) => fake_smtp::Act::Close,
            }),
        )
        .await
    });
    let config = env.write(
        "http.toml",
        format!(
            "[dns]\nnameservers = [\"{}\"]\n\n[verify]\nport = {}\nhelo_name = \"probe.sender.test\"\n\
             from = \"probe@sender.test\"\nrate_limit = 0.0\nallow_special_use = [\"test\"]\n",
            s.dns,
            http.addr.port()
        )
        .as_bytes(),
    );
    let file = env.write("in2.txt", b"jane@acme.test\n");
    let out = env.verify_stream(&config, &file);
    let r = rows(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(r[1][..2], ["jane@acme.test", "UNKNOWN"], "{r:?}");
}

/// A blank address in the first data row does not refuse the file: a header named like an
/// email column decides alone, and otherwise the next rows show the column. When nothing
/// shows it, the input is refused before any output: no header on stdout, no file.
#[test]
fn blank_first_rows_do_not_refuse_the_input_and_a_refusal_writes_nothing() {
    let s = servers();
    let env = Env::new();
    let config = env.config(&s);
    for input in [
        &b"Name,Work Email\nJane,\nBob,jane@acme.test\n"[..],
        b"Name,Contact\nJane,\n\nBob,jane@acme.test\n",
    ] {
        let out = env
            .hailer(&config)
            .args(["verify", "--no-store", "--input", "-"])
            .write_stdin(input)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        let r = rows(&String::from_utf8(out.stdout).unwrap());
        // The input's columns first (Name, the address column), then the verdict; the
        // blank row is skipped.
        let got: Vec<(&str, &str, &str)> = r[1..]
            .iter()
            .map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str()))
            .collect();
        let want = vec![
            ("Jane", "", "INVALID_SYNTAX"),
            ("Bob", "jane@acme.test", "VALID"),
        ];
        assert_eq!(got, want, "{}", String::from_utf8_lossy(input));
    }
    let refused = b"Name,Company\nJane,\nBob,Acme\n";
    let out = env
        .hailer(&config)
        .args(["verify", "--no-store", "--input", "-"])
        .write_stdin(&refused[..])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("--column"), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let file = env.write("in.csv", refused);
    let out = env
        .hailer(&config)
        .args(["verify", "--no-store", "--output", "out.csv", "--input"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let left: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("out"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // --column names it.
    let out = env
        .hailer(&config)
        .args(["verify", "--no-store", "--column", "company", "--input"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let r = rows(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(r[2][..3], ["Bob", "Acme", "INVALID_SYNTAX"]);
}
