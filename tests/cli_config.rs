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
}

#[test]
fn example_config_checks_clean() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml.example");
    let dir = tempfile::tempdir().unwrap();
    hailer(dir.path())
        .arg("--config")
        .arg(example)
        .args(["config", "check"])
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
            format!("[tracking]\nbase_url = \"{base}\"\nsecret_env = \"HAILER_TEST_UNUSED\"\n"),
        )
        .unwrap()
    };
    write("http://t.sender.test");
    hailer(dir.path())
        .arg("--config")
        .arg(&cfg)
        .args(["config", "check"])
        .assert()
        .success()
        .stderr(predicate::str::contains("warning: [tracking] base_url"))
        .stderr(predicate::str::contains("https"));
    write("https://t.sender.test");
    hailer(dir.path())
        .arg("--config")
        .arg(&cfg)
        .args(["config", "check"])
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
