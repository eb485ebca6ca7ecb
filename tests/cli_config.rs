//! `hailer config check` and config errors as the user sees them.

use assert_cmd::Command;
use predicates::prelude::*;

fn hailer(dir: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("hailer").unwrap();
    cmd.current_dir(dir)
        .env_remove("HAILER_CONFIG")
        .env_remove("HAILER_DATA_DIR");
    cmd
}

#[test]
fn unknown_key_is_named_with_line_and_exit_code_3() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "[verify]\nport = 2526\n\n[sending]\nhtml = true\ndaily_kap = 3\n",
    )
    .unwrap();
    hailer(dir.path())
        .args(["config", "check"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("config.toml"))
        .stderr(predicate::str::contains("line 6"))
        .stderr(predicate::str::contains("daily_kap"));
    // Every command refuses to run on a bad config, before touching anything.
    hailer(dir.path())
        .args(["import", "prospects", "nothing.csv"])
        .assert()
        .code(3);
    assert!(!dir.path().join("data").exists());
}

#[test]
fn wrong_type_is_named_with_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "[sending]\nrequire_approval = \"yes\"\n").unwrap();
    hailer(dir.path())
        .arg("--config")
        .arg(&cfg)
        .args(["config", "check"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("line 2"))
        .stderr(predicate::str::contains("require_approval"));
}

#[test]
fn check_prints_effective_config_with_secrets_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        "[storage]\ndata_dir = \"elsewhere\"\n[mailboxes.main]\nfrom = \"A <a@sender.test>\"\nsmtp_host = \"127.0.0.1\"\npassword_cmd = \"echo s3cr3t-pa55\"\n",
    )
    .unwrap();
    let out = hailer(dir.path())
        .arg("--config")
        .arg(&cfg)
        .args(["config", "check"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(text.contains("# data dir: elsewhere"), "{text}");
    assert!(text.contains("require_approval = true"), "{text}");
    assert!(text.contains("[mailboxes.main]"), "{text}");
    let json = hailer(dir.path())
        .arg("--config")
        .arg(&cfg)
        .args(["--data-dir", "flagdir", "config", "check", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["data_dir"], "flagdir");
    assert_eq!(
        v["config"]["mailboxes"]["main"]["password_cmd"],
        "<redacted>"
    );
    // The defaults a run uses, not null; null only where it means unset or off.
    let main = &v["config"]["mailboxes"]["main"];
    assert_eq!(main["smtp_port"], 587, "{main}");
    assert_eq!(main["smtp_username"], "a@sender.test", "{main}");
    assert!(
        main["imap_port"].is_null() && main["warmup_start"].is_null(),
        "{main}"
    );
    assert_eq!(v["config"]["sending"]["dry_run_dir"], "flagdir/dry-run");
    assert_eq!(v["config"]["tracking"]["listen"], "127.0.0.1:8080");
}

/// The example is valid; with its secrets set it checks clean, without them `config check`
/// says what send would miss (exit 3), and `--no-secrets` checks the file alone.
#[test]
fn example_config_checks_clean() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml.example");
    let dir = tempfile::tempdir().unwrap();
    hailer(dir.path())
        .arg("--config")
        .arg(&example)
        .args(["config", "check"])
        .env("HAILER_CLAIRE_PASSWORD", "pw")
        .env("HAILER_TELEGRAM_TOKEN", "1:token")
        .assert()
        .success()
        .stderr(predicate::str::contains("warning").not())
        .stderr(predicate::str::contains("config OK"));
    hailer(dir.path())
        .arg("--config")
        .arg(&example)
        .args(["config", "check"])
        .env_remove("HAILER_CLAIRE_PASSWORD")
        .env_remove("HAILER_TELEGRAM_TOKEN")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("HAILER_CLAIRE_PASSWORD"))
        .stderr(predicate::str::contains("config OK").not());
    hailer(dir.path())
        .arg("--config")
        .arg(&example)
        .args(["config", "check", "--no-secrets"])
        .env_remove("HAILER_CLAIRE_PASSWORD")
        .env_remove("HAILER_TELEGRAM_TOKEN")
        .assert()
        .success();
}

#[test]
fn help_lists_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    hailer(dir.path())
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("import"))
        .stdout(predicate::str::contains("export"))
        .stdout(predicate::str::contains("config"))
        .stdout(predicate::str::contains("tui"));
}

/// `hailer --help` (and `-h`) ends with the exit codes, from the table the code returns them
/// by; README.md's table has the same rows, word for word.
#[test]
fn help_and_readme_list_the_exit_codes() {
    use hailer::cli::exit;
    let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let dir = tempfile::tempdir().unwrap();
    for flag in ["--help", "-h"] {
        let out = hailer(dir.path()).arg(flag).output().unwrap();
        assert!(out.status.success());
        let help = words(&String::from_utf8(out.stdout).unwrap());
        let at = help.find("Exit codes:").expect("an exit code table");
        for (code, meaning) in exit::TABLE {
            assert!(
                help[at..].contains(&words(&format!("{code} {meaning}"))),
                "{flag}: {code} {meaning:?} in {help}"
            );
        }
    }
    assert_eq!(
        exit::TABLE.map(|(code, _)| code),
        [
            exit::OK,
            exit::FAILURE,
            exit::USAGE,
            exit::CONFIG,
            exit::INPUT,
            exit::INTERRUPTED
        ]
    );
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let rows: Vec<&str> = readme
        .lines()
        .skip_while(|l| *l != "| code | meaning |")
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    let expected: Vec<String> = exit::TABLE
        .iter()
        .map(|(code, meaning)| format!("| `{code}` | {meaning} |"))
        .collect();
    assert_eq!(rows, expected);
}

/// `--json` is described wherever a command takes it.
#[test]
fn json_flags_are_described() {
    let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let dir = tempfile::tempdir().unwrap();
    for (args, said) in [
        (
            &["outbox", "build", "--help"][..],
            "--json Print the summary as JSON",
        ),
        (&["suppress", "list", "--help"], "--json Print a JSON array"),
        (&["import", "log", "--help"], "--json Print a JSON array"),
        (
            &["import", "--help"],
            "log List the imports done so far as CSV \
             (id,created_at,kind,file,sheet,imported,updated,duplicates,replaced,rejected)",
        ),
        (
            &["suppress", "--help"],
            "list List every entry as CSV (entry,cause,note,created_at), or JSON with --json",
        ),
    ] {
        let out = hailer(dir.path()).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        let help = words(&String::from_utf8(out.stdout).unwrap());
        assert!(help.contains(said), "{args:?}: {help}");
    }
}

/// A data directory that cannot be made, or a config file that cannot be read, is said once
/// with its cause, not "File exists (os error 17): File exists (os error 17)".
#[test]
fn a_file_in_place_of_the_data_dir_is_named_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notadir"), "").unwrap();
    std::fs::write(
        dir.path().join("p.csv"),
        "firstname,lastname,company\nAnn,Lee,Acme\n",
    )
    .unwrap();
    let out = hailer(dir.path())
        .args(["--data-dir", "notadir", "import", "prospects", "p.csv"])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(
        err.contains("cannot create data directory notadir"),
        "{err}"
    );
    assert_eq!(err.matches("os error").count(), 1, "{err}");

    let out = hailer(dir.path())
        .args(["--config", "notadir/c.toml", "config", "check"])
        .assert()
        .code(3)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert_eq!(err.matches("os error").count(), 1, "{err}");
}

/// An http base_url works (the footer link, local use), but RFC 8058 one-click needs https:
/// config check says so, and still passes.
#[test]
fn check_warns_about_an_http_tracking_base_url() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    let write = |base: &str| {
        std::fs::write(
            &cfg,
            format!(
                "[sending]\nhtml = true\n[tracking]\nbase_url = \"{base}\"\n\
                 secret_env = \"HAILER_TEST_UNUSED\"\n"
            ),
        )
        .unwrap()
    };
    write("http://t.sender.test");
    hailer(dir.path())
        .arg("--config")
        .arg(&cfg)
        .args(["config", "check"])
        .env("HAILER_TEST_UNUSED", "0123456789abcdef")
        .assert()
        .success()
        .stderr(predicate::str::contains("warning: [tracking] base_url"))
        .stderr(predicate::str::contains("https"));
    write("https://t.sender.test");
    hailer(dir.path())
        .arg("--config")
        .arg(&cfg)
        .args(["config", "check"])
        .env("HAILER_TEST_UNUSED", "0123456789abcdef")
        .assert()
        .success()
        .stderr(predicate::str::contains("warning").not());
}

/// A password typed into the file (where passwords never go) is refused without being
/// printed back: the error names the line and key, not the value.
#[test]
fn a_password_in_the_file_is_refused_without_being_shown() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "[mailboxes.m]\nfrom = \"a@sender.test\"\nsmtp_host = \"h\"\nsmtp_password = \"hunter2-s3cret\"\n",
    )
    .unwrap();
    for args in [&["config", "check"][..], &["suppress", "list"][..]] {
        hailer(dir.path())
            .args(args)
            .assert()
            .code(3)
            .stderr(predicate::str::contains("line 4"))
            .stderr(predicate::str::contains("smtp_password"))
            .stderr(predicate::str::contains("hunter2").not())
            .stdout(predicate::str::contains("hunter2").not());
    }
}

fn check(dir: &std::path::Path, config: &str) -> Command {
    let cfg = dir.join("c.toml");
    std::fs::write(&cfg, config).unwrap();
    let mut cmd = hailer(dir);
    cmd.arg("--config").arg(cfg).args(["config", "check"]);
    cmd
}

/// `smtp_security`/`imap_security = "plain"` sends the password in clear text: refused for
/// any host but a loopback one, naming the mailbox and the key.
#[test]
fn plain_security_is_refused_for_a_remote_host() {
    let dir = tempfile::tempdir().unwrap();
    let mailbox = |host: &str| {
        format!(
            "[mailboxes.claire]\nfrom = \"c@sender.test\"\nsmtp_host = \"{host}\"\n\
             smtp_security = \"plain\"\npassword_cmd = \"echo pw\"\n"
        )
    };
    check(dir.path(), &mailbox("smtp.example.com"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("[mailboxes.claire] smtp_security"))
        .stderr(predicate::str::contains("smtp.example.com"));
    check(dir.path(), &mailbox("127.0.0.1")).assert().success();
}

/// Tokens are appended to base_url: one with a query or without a host is refused.
#[test]
fn tracking_base_url_with_a_query_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for base in ["https://t.sender.test/?x=1", "https://"] {
        check(
            dir.path(),
            &format!("[tracking]\nbase_url = \"{base}\"\nsecret_env = \"HAILER_TEST_TS\"\n"),
        )
        .env("HAILER_TEST_TS", "0123456789abcdef")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("[tracking] base_url"));
    }
}

/// What send and serve would refuse is a warning in text and JSON, and exit 3: unset and
/// empty variables, a short tracking key, a password_cmd that fails (its stderr quoted, its
/// stdout never) or prints nothing, an unreadable DKIM key.
#[test]
fn check_reports_secret_problems_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let config = "[sending]\nhtml = true\n[tracking]\nbase_url = \"https://t.sender.test\"\n\
        secret_env = \"HAILER_TEST_CC_TRACK\"\n\
        [mailboxes.a]\nfrom = \"a@sender.test\"\nsmtp_host = \"h\"\n\
        password_env = \"HAILER_TEST_CC_PW\"\n\
        [mailboxes.b]\nfrom = \"b@sender.test\"\nsmtp_host = \"h\"\n\
        password_cmd = \"echo hunter2; echo 'pass: mail/b is not in the password store' >&2; exit 1\"\n\
        [mailboxes.c]\nfrom = \"c@sender.test\"\nsmtp_host = \"h\"\npassword_cmd = \"true\"\n\
        [mailboxes.d]\nfrom = \"d@sender.test\"\nsmtp_host = \"h\"\npassword_cmd = \"echo pw\"\n\
        dkim_selector = \"s\"\ndkim_key_file = \"missing-dkim.pem\"\n";
    let out = check(dir.path(), config)
        .env("HAILER_TEST_CC_PW", "")
        .env("HAILER_TEST_CC_TRACK", "short")
        .assert()
        .code(3)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    let all = format!("{err}{}", String::from_utf8(out.stdout).unwrap());
    for said in [
        "warning: [mailboxes.a] environment variable HAILER_TEST_CC_PW (password_env) is empty",
        "warning: [mailboxes.b] password_cmd exited with exit status: 1: pass: mail/b is not in the password store",
        "warning: [mailboxes.c] password_cmd printed nothing",
        "warning: [mailboxes.d] dkim_key_file \"missing-dkim.pem\"",
        "warning: [tracking] $HAILER_TEST_CC_TRACK (tracking secret) must be at least 16 characters",
    ] {
        assert!(err.contains(said), "{said:?} in {err}");
    }
    assert!(!err.contains("config OK"), "{err}");
    assert!(!all.contains("hunter2"), "{all}");

    // JSON: the same problems in `warnings`, also with every variable unset.
    let out = check(dir.path(), config)
        .arg("--json")
        .env_remove("HAILER_TEST_CC_PW")
        .env_remove("HAILER_TEST_CC_TRACK")
        .assert()
        .code(3)
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings: Vec<String> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect();
    assert_eq!(warnings.len(), 5, "{warnings:?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("HAILER_TEST_CC_PW (password_env) is not set")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("$HAILER_TEST_CC_TRACK (tracking secret) is not set")),
        "{warnings:?}"
    );
    // The file alone is fine.
    check(dir.path(), config)
        .arg("--no-secrets")
        .assert()
        .success();
}

/// A mailbox missing a key, and a key written straight under [mailboxes], name the mailbox
/// table; summary_timezone is named by its own key; warm-up above the cap is refused.
#[test]
fn mailbox_errors_name_the_table_and_key() {
    let dir = tempfile::tempdir().unwrap();
    check(
        dir.path(),
        "[mailboxes.claire]\nsmtp_host = \"h\"\npassword_env = \"X\"\n",
    )
    .assert()
    .code(3)
    .stderr(predicate::str::contains(
        "[mailboxes.claire] missing field `from`",
    ));
    check(dir.path(), "[mailboxes]\nfrom = \"x@y.test\"\n")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("[mailboxes.NAME]"))
        .stderr(predicate::str::contains("x@y.test").not());
    check(
        dir.path(),
        "[notify.telegram]\nbot_token_env = \"T\"\nchat_id = \"1\"\nsummary_timezone = \"Paris\"\n",
    )
    .assert()
    .code(3)
    .stderr(predicate::str::contains("summary_timezone \"Paris\""));
    // A key missing from another table names that table too, and nothing else follows.
    let out = check(dir.path(), "[notify.telegram]\nchat_id = \"1\"\n")
        .assert()
        .code(3);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("line 1, column 1: [notify.telegram] missing field `bot_token_env`"),
        "{stderr}"
    );
    let out = check(dir.path(), "[mailboxes.a]\nfrom = \"a@b.test\"\n")
        .assert()
        .code(3);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr
            .trim_end()
            .ends_with("[mailboxes.a] missing field `smtp_host`"),
        "{stderr}"
    );
    check(
        dir.path(),
        "[mailboxes.a]\nfrom = \"a@sender.test\"\nsmtp_host = \"h\"\npassword_env = \"X\"\n\
         daily_cap = 5\nwarmup_start = 10\nwarmup_step = 5\n",
    )
    .assert()
    .code(3)
    .stderr(predicate::str::contains(
        "[mailboxes.a] warmup_start (10) is greater than daily_cap (5)",
    ));
}

/// `smtp_username = ""` sends without AUTH (a loopback relay): no password is asked for,
/// and the SMTP endpoint is built without one; with IMAP configured a password is needed.
#[test]
fn a_mailbox_without_auth_needs_no_password() {
    let dir = tempfile::tempdir().unwrap();
    let relay = "[mailboxes.relay]\nfrom = \"a@sender.test\"\nsmtp_host = \"127.0.0.1\"\n\
                 smtp_port = 25\nsmtp_security = \"plain\"\nsmtp_username = \"\"\n";
    let out = check(dir.path(), relay).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("not needed"));
    // `check` wrote the file it checked.
    let config = hailer::config::Config::from_file(&dir.path().join("c.toml")).unwrap();
    let ep = hailer::engine::send::transport::SmtpEndpoint::for_mailbox(
        &config.mailboxes["relay"],
        None,
    )
    .unwrap();
    assert!(ep.username.is_empty());
    check(dir.path(), &format!("{relay}imap_host = \"127.0.0.1\"\n"))
        .assert()
        .code(3)
        .stderr(predicates::str::contains(
            "needs password_env or password_cmd",
        ));
}

/// What `send` would refuse fails `config check` first (scripts run it as a guard): a From
/// that is not one address, port 0, no attempt at all. Two mailboxes sending as one address
/// pass with a warning: their caps add up.
#[test]
fn check_refuses_what_send_would_refuse_and_warns_about_one_address_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mailbox = |name: &str, from: &str, extra: &str| {
        format!(
            "[mailboxes.{name}]\nfrom = \"{from}\"\nsmtp_host = \"127.0.0.1\"\n\
             smtp_security = \"plain\"\npassword_cmd = \"echo pw\"\n{extra}\n"
        )
    };
    check(
        dir.path(),
        &mailbox("a", "sender@sender.test, other@x.test", ""),
    )
    .assert()
    .code(3)
    .stderr(predicate::str::contains(
        "[mailboxes.a] from = \"sender@sender.test, other@x.test\" is not one address",
    ));
    check(dir.path(), &mailbox("a", "a@sender.test", "smtp_port = 0"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "[mailboxes.a] smtp_port must be a port from 1 to 65535",
        ));
    check(
        dir.path(),
        &format!(
            "[sending]\nmax_attempts = 0\n{}",
            mailbox("a", "a@sender.test", "")
        ),
    )
    .assert()
    .code(3)
    .stderr(predicate::str::contains("max_attempts must be at least 1"));
    check(
        dir.path(),
        &format!(
            "{}{}",
            mailbox("a", "Sam <Sam@sender.test>", ""),
            mailbox("b", "sam@sender.test", "")
        ),
    )
    .assert()
    .success()
    .stderr(predicate::str::contains(
        "[mailboxes.a], [mailboxes.b] all send as sam@sender.test",
    ));
}

/// A URL in the config may carry a user name and password: `config check` shows neither, in
/// text or JSON, and an error about such a URL does not quote them.
#[test]
fn config_check_hides_credentials_in_urls() {
    let dir = tempfile::tempdir().unwrap();
    let config = "[search]\nurl = \"http://su:URLPW1@127.0.0.1:9/html/?q={query}\"\n\
                  [notify.telegram]\nbot_token_env = \"T\"\nchat_id = \"1\"\n\
                  api_url = \"http://tg:URLPW2@127.0.0.1:9\"\n";
    for json in [false, true] {
        let mut cmd = check(dir.path(), config);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(
            stdout.contains("http://<redacted>@127.0.0.1:9/html/"),
            "{stdout}"
        );
        assert!(stdout.contains("http://<redacted>@127.0.0.1:9"), "{stdout}");
        for secret in ["URLPW1", "URLPW2", "su:", "tg:"] {
            assert!(!stdout.contains(secret), "{secret} in {stdout}");
            assert!(!stderr.contains(secret), "{secret} in {stderr}");
        }
    }
    check(
        dir.path(),
        "[tracking]\nbase_url = \"http://bu:URLPW3@127.0.0.1:8080\"\nsecret_env = \"S\"\n",
    )
    .assert()
    .code(3)
    .stderr(predicate::str::contains(
        "must not carry a user name or password",
    ))
    .stderr(predicate::str::contains("URLPW3").not());
}

/// A `[tls] ca_file` that cannot be read fails every TLS connection: `config check` says so
/// and exits 3, as for an unreadable DKIM key.
#[test]
fn an_unreadable_ca_file_is_a_config_check_problem() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello\n").unwrap();
    for path in [dir.path().join("missing.pem"), not_pem] {
        check(
            dir.path(),
            &format!("[tls]\nca_file = {:?}\n", path.display().to_string()),
        )
        .assert()
        .code(3)
        .stderr(predicate::str::contains("[tls] ca_file"))
        .stderr(predicate::str::contains(path.display().to_string()));
    }
}

/// An API token too short for `serve` makes `config check` exit 3 naming the variable (never
/// the value), so `config check && hailer serve` cannot pass the check and then fail; an
/// unset one only turns the API off (a warning, exit 0).
#[test]
fn a_short_api_token_is_a_config_check_problem() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "[api]\ntoken_env = \"HAILER_TEST_API_TOKEN\"\n",
    )
    .unwrap();
    hailer(dir.path())
        .env("HAILER_TEST_API_TOKEN", "sh0rtT0ken")
        .args(["config", "check"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "[api] $HAILER_TEST_API_TOKEN (API token, [api] token_env) must be at least 16",
        ))
        .stderr(predicate::str::contains("sh0rtT0ken").not());
    hailer(dir.path())
        .env_remove("HAILER_TEST_API_TOKEN")
        .args(["config", "check"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "hailer serve runs without the API",
        ));
}

/// An empty list of folders to watch is valid (the mailbox's IMAP still takes Sent copies)
/// but leaves bounces and replies unread without a word: `config check` warns, naming the key,
/// and its exit code stays 0.
#[test]
fn an_empty_list_of_watched_folders_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mailbox = "[mailboxes.a]\nfrom = \"a@sender.test\"\nsmtp_host = \"h\"\n\
                   password_env = \"X\"\nimap_host = \"i\"\n";
    check(dir.path(), &format!("[inbox]\nfolders = []\n\n{mailbox}"))
        .arg("--no-secrets")
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "[inbox] folders names no folder: bounces, replies and complaints in mailbox a are never read",
        ));
    check(dir.path(), &format!("{mailbox}watch_folders = []\n"))
        .arg("--no-secrets")
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "[mailboxes.a] watch_folders names no folder",
        ));
    check(dir.path(), mailbox)
        .arg("--no-secrets")
        .assert()
        .success()
        .stderr(predicate::str::contains("names no folder").not());
}
