//! What `hailer` / `hailer tui` says when it cannot start, before any terminal setup (so no
//! TTY is needed): the same message and exit code as a headless command given the same
//! problem, and nothing written to standard output (no terminal escape sequences).

use std::path::Path;
use std::process::{Command, Output, Stdio};

use hailer::store::Store;

fn hailer(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hailer"));
    cmd.current_dir(dir)
        .env_remove("HAILER_CONFIG")
        .env_remove("HAILER_DATA_DIR")
        .args(["--config", "config.toml", "--data-dir", "data"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// `hailer tui`, `hailer` and `hailer suppress list`, run side by side (a locked database
/// makes each wait the busy timeout).
fn tui_and_headless(dir: &Path) -> [(String, Output); 3] {
    let runs = [&["tui"][..], &[], &["suppress", "list"]].map(|args| {
        let child = hailer(dir, args).spawn().unwrap();
        (format!("{args:?}"), child)
    });
    runs.map(|(name, child)| (name, child.wait_with_output().unwrap()))
}

fn assert_same_as_headless(dir: &Path, code: i32, says: &str) {
    let [tui, bare, headless] = tui_and_headless(dir);
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(
        headless.1.status.code(),
        Some(code),
        "{}",
        stderr(&headless.1)
    );
    assert!(
        stderr(&headless.1).contains(says),
        "{}",
        stderr(&headless.1)
    );
    for (name, out) in [tui, bare] {
        assert_eq!(out.status.code(), Some(code), "{name}: {}", stderr(&out));
        assert_eq!(stderr(&out), stderr(&headless.1), "{name}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "", "{name}");
    }
}

fn dir_with_config(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), config).unwrap();
    dir
}

#[test]
fn a_bad_config_stops_the_tui_as_it_stops_a_command() {
    let dir = dir_with_config("[sending]\ndaily_capp = 3\n");
    assert_same_as_headless(dir.path(), 3, "daily_capp");
}

#[test]
fn an_unreadable_database_stops_the_tui_as_it_stops_a_command() {
    let dir = dir_with_config("");
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(
        dir.path().join("data/hailer.db"),
        "not a database ".repeat(100),
    )
    .unwrap();
    assert_same_as_headless(dir.path(), 1, "data/hailer.db");
}

/// Another process holding the database past the busy timeout: the TUI names the file and
/// says what to do, exactly as the headless commands do, and exits 1.
#[test]
fn a_locked_database_stops_the_tui_with_the_hint_and_exit_1() {
    let dir = dir_with_config("");
    let holder = Store::open_in(&dir.path().join("data")).unwrap();
    // In WAL mode only an exclusive locking mode keeps readers out too.
    holder
        .conn()
        .execute_batch(
            "PRAGMA locking_mode = EXCLUSIVE;
             BEGIN IMMEDIATE;
             INSERT INTO suppressions (entry, cause, created_at) VALUES ('x@acme.test', 'manual', 0);
             COMMIT;",
        )
        .unwrap();
    let hint = format!(
        "hailer: data/hailer.db stayed locked for {} s by another hailer process",
        hailer::store::BUSY_TIMEOUT.as_secs()
    );
    assert_same_as_headless(dir.path(), 1, &hint);
    drop(holder);
}

/// Run from a script or a cron job (standard output not a terminal): a plain error and exit
/// 1, not a panic from the terminal setup with escape sequences on standard output.
#[test]
fn the_tui_without_a_terminal_says_so_and_exits_1() {
    let dir = dir_with_config("");
    for args in [&["tui"][..], &[]] {
        let out = hailer(dir.path(), args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(
            stderr,
            "hailer: the terminal UI needs a terminal, and standard output is not one; the \
             headless subcommands work without (hailer --help)\n"
        );
        assert!(out.stdout.is_empty(), "{:?}", out.stdout);
    }
}
