//! End to end: the real binary in a real terminal (tmux), driven by keys, read back with
//! `tmux capture-pane`. Imports the sample data through the TUI's own prompt.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn available() -> bool {
        let ok = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            if std::env::var_os("CI").is_some() {
                panic!("tmux is required in CI (scripts/test installs it)");
            }
            eprintln!("skipping: tmux is not installed");
        }
        ok
    }

    fn start(cwd: &Path, cmd: &str) -> Tmux {
        // One tmux server per test: the tests of this file run in parallel.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let socket = format!("hailer-e2e-{}-{n}", std::process::id());
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "80",
                "-y",
                "24",
                "-c",
            ])
            .arg(cwd)
            .arg(cmd)
            .env_remove("NO_COLOR")
            .env("TERM", "xterm-256color")
            .status()
            .unwrap();
        assert!(status.success());
        Tmux { socket }
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let status = Command::new("tmux")
                .args(["-L", &self.socket, "send-keys", "-t", "0"])
                .arg(k)
                .status()
                .unwrap();
            assert!(status.success());
            // One key at a time: Esc followed at once by another key reads as Alt-key.
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    fn literal(&self, text: &str) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "0", "-l", text])
            .status()
            .unwrap();
        assert!(status.success());
        std::thread::sleep(Duration::from_millis(60));
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "0"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_for(&self, needle: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(needle) {
                return screen;
            }
            if start.elapsed() > Duration::from_secs(20) {
                panic!("{needle:?} never appeared; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["-L", &self.socket, "has-session"])
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// A temp dir with an empty config and an outbox of one READY row (Ada, "Hello Ada"):
/// `(dir, config file, data dir)`.
fn one_row_campaign() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::write(
        dir.path().join("p.csv"),
        "firstname,lastname,company,email\nAda,Test,Acme SA,ada@acme.test\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("m.csv"),
        "company,subject,body\nAcme SA,Hello {firstname},Hi\n",
    )
    .unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    for args in [
        &["import", "prospects", "p.csv"][..],
        &["import", "messages", "m.csv"],
        &["outbox", "build"],
    ] {
        run_ok(&config, &data, dir.path(), args);
    }
    (dir, config, data)
}

/// The TUI in tmux with `editor` as $EDITOR (after the shell words `prefix`), on the Outbox tab
/// of `one_row_campaign`'s row.
fn outbox_with_editor(cwd: &Path, prefix: &str, editor: &Path, config: &Path, data: &Path) -> Tmux {
    let cmd = format!(
        "{prefix} EDITOR={} VISUAL= {} --config {} --data-dir {}; sleep 30",
        editor.display(),
        env!("CARGO_BIN_EXE_hailer"),
        config.display(),
        data.display()
    );
    let t = Tmux::start(cwd, &cmd);
    t.keys(&["3"]);
    t.wait_for("Hello Ada");
    t
}

/// The binary outside tmux (setup steps), which must succeed.
fn run_ok(config: &Path, data: &Path, cwd: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_hailer"))
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
}

#[test]
fn import_switch_tabs_filter_help_and_quit() {
    if !Tmux::available() {
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = tempfile::tempdir().unwrap();
    let cmd = format!(
        "{} --data-dir {}",
        env!("CARGO_BIN_EXE_hailer"),
        data.path().display()
    );
    let t = Tmux::start(repo, &cmd);
    t.wait_for("press i to import");

    // Import through the prompt, with Tab completion of the path.
    t.keys(&["i"]);
    t.wait_for("Import prospects from");
    t.literal("assets/prospects.cs");
    t.keys(&["Tab"]);
    t.wait_for("assets/prospects.csv");
    t.keys(&["Enter"]);
    // The title and the status line may be caught in two captures of one redraw (tmux
    // reads the pane while the frame is still being written): each is waited for.
    t.wait_for("Prospects (257)");
    t.wait_for("row 1 of 257");

    // The task and its summary are on the Activity tab.
    t.keys(&["5"]);
    let screen = t.wait_for("257 imported");
    assert!(screen.contains("done"), "{screen}");
    assert!(
        screen.contains("missing lastname"),
        "rejects in the log:\n{screen}"
    );

    // Messages view imports messages.
    t.keys(&["1", "m", "i"]);
    t.wait_for("Import messages from");
    t.literal("assets/messages.xlsx");
    t.keys(&["Enter"]);
    t.wait_for("Messages (56)");
    t.keys(&["m"]);
    t.wait_for("Prospects (257)");

    // Incremental, accent-insensitive filter.
    t.keys(&["/"]);
    t.literal("ELODIE");
    let screen = t.wait_for("matching");
    assert!(screen.contains("Élodie"), "{screen}");
    t.keys(&["Enter"]);
    let screen = t.wait_for("filter \"ELODIE\"");
    assert!(!screen.contains("Connor"), "filtered out:\n{screen}");

    // Help lists the keys of the current tab.
    t.keys(&["?"]);
    let screen = t.wait_for("Keys on the Prospects tab");
    assert!(screen.contains("import a file"), "{screen}");
    t.keys(&["Escape"]);
    t.wait_for("row 1 of");

    // Every tab renders.
    for (key, title) in [
        ("2", "Suggestions"),
        ("3", "Outbox"),
        ("4", "Bounces"),
        ("6", "Settings (secrets redacted)"),
    ] {
        t.keys(&[key]);
        t.wait_for(title);
    }

    t.keys(&["q"]);
    let start = Instant::now();
    while t.alive() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!t.alive(), "q quits when no task runs");
}

/// `S` on Outbox against the mail rig: the confirmation shows the count and the mailboxes,
/// `y` runs the send as a task whose live panel appears on Activity, and the rows end SENT;
/// `t` on Settings tests both rig mailboxes.
#[test]
fn send_from_the_outbox_and_test_mailboxes_on_settings() {
    let Some(rig) = common::rig::Rig::get() else {
        return;
    };
    if !Tmux::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let tag = format!("tuisend{}", std::process::id());
    let mut prospects = String::from("firstname,lastname,company,email\n");
    for i in 0..6 {
        prospects.push_str(&format!("P{i},Test,Acme SA,{tag}-{i}@catchall.test\n"));
    }
    std::fs::write(dir.path().join("p.csv"), prospects).unwrap();
    std::fs::write(
        dir.path().join("m.csv"),
        format!("company,subject,body\nAcme SA,{tag} hi {{firstname}},Hello\n"),
    )
    .unwrap();
    let hailer = |args: &[&str]| run_ok(&rig.config_file(), &data, dir.path(), args);
    hailer(&["import", "prospects", "p.csv"]);
    hailer(&["import", "messages", "m.csv"]);
    hailer(&["outbox", "build"]);
    hailer(&["outbox", "approve", "--all"]);

    let cmd = format!(
        "{} --config {} --data-dir {}",
        env!("CARGO_BIN_EXE_hailer"),
        rig.config_file().display(),
        data.display()
    );
    let t = Tmux::start(dir.path(), &cmd);
    t.keys(&["3"]);
    t.wait_for("row 1 of 6");
    t.keys(&["S"]);
    let screen = t.wait_for("6 messages");
    assert!(
        screen.contains("sender") && screen.contains("claire"),
        "{screen}"
    );
    t.keys(&["y"]);
    t.keys(&["5"]);
    let screen = t.wait_for("6 SENT, 0 ERROR");
    assert!(screen.contains("Send #"), "live panel:\n{screen}");
    let store = hailer::store::Store::open_in(&data).unwrap();
    let rows = hailer::store::outbox::list(store.conn(), None).unwrap();
    assert!(
        rows.iter()
            .all(|r| r.status == hailer::store::outbox::Status::Sent),
        "{rows:?}"
    );

    t.keys(&["6", "t"]);
    let screen = t.wait_for("sender: OK");
    assert!(screen.contains("claire: OK"), "{screen}");
    t.keys(&["q"]);
}

/// `e` hands the terminal to `$EDITOR` and takes it back: after editing an outbox row and
/// then the config, the TUI is still running, shows the edit, and answers keys. (It used to
/// die on the way back, asking the terminal for a cursor position it could no longer read.)
#[test]
fn editing_a_row_and_the_config_in_editor_gives_the_terminal_back() {
    if !Tmux::available() {
        return;
    }
    let (dir, config, data) = one_row_campaign();
    // The "editor": on a row, first records how the row looks to the CLI meanwhile, then
    // rewrites its subject once a `change` file exists; on the config, appends a comment.
    let editor = dir.path().join("editor.sh");
    let during = dir.path().join("during.txt");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\nif head -n1 \"$1\" | grep -q '^Subject:'; then\n\
             {} --config {} --data-dir {} outbox show 1 | head -n1 >> {}\n\
             if [ -e {}/change ]; then sed -i 's/^Subject: .*/Subject: Edited by hand/' \"$1\"; fi\n\
             else echo '# edited' >> \"$1\"; fi\n",
            env!("CARGO_BIN_EXE_hailer"),
            config.display(),
            data.display(),
            during.display(),
            dir.path().display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = |args: &[&str]| run_ok(&config, &data, dir.path(), args);
    run(&["outbox", "approve", "1"]);
    let approved = || {
        let store = hailer::store::Store::open_in(&data).unwrap();
        hailer::store::outbox::get(store.conn(), 1)
            .unwrap()
            .unwrap()
            .approved
    };

    let t = outbox_with_editor(dir.path(), "", &editor, &config, &data);
    // An edit that changes nothing: the row is withdrawn (SKIPPED) while the editor runs, so
    // a send running meanwhile cannot take it, approval required or not; then it is given
    // back READY and approved.
    t.keys(&["e"]);
    t.wait_for("row 1 unchanged");
    assert!(approved(), "approval given back");
    std::fs::write(dir.path().join("change"), "").unwrap();
    t.keys(&["e"]);
    t.wait_for("Edited by hand");
    assert!(!approved(), "an edited row needs approval again");
    let seen = std::fs::read_to_string(&during).unwrap();
    assert_eq!(seen.lines().count(), 2, "{seen}");
    assert!(
        seen.lines()
            .all(|l| l.contains("SKIPPED") && !l.contains("approved")),
        "takeable while in the editor: {seen}"
    );
    // Keys still reach the TUI: the preview opens on the edited message.
    t.keys(&["Enter"]);
    let screen = t.wait_for("Preview of row");
    assert!(screen.contains("Subject: Edited by hand"), "{screen}");
    t.keys(&["Escape", "6", "e"]);
    t.wait_for("configuration reloaded");
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .contains("# edited")
    );
    t.keys(&["3"]);
    let screen = t.wait_for("row 1 of 1");
    assert!(
        !screen.contains("cursor position"),
        "the TUI died:\n{screen}"
    );
    t.keys(&["q"]);
}

/// `e` on Settings without a config file opens a copy of the example: left unchanged (a
/// look, then quit), it is not kept, as its mailbox and Telegram alerts are placeholders that
/// would then be configured; changed, it is kept and loaded.
#[test]
fn an_unchanged_copy_of_the_example_config_is_not_kept() {
    if !Tmux::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let editor = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\nif [ -e {0}/change ]; then echo '# mine' >> \"$1\"; fi\n",
            dir.path().display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cmd = format!(
        "env -u HAILER_CONFIG -u HAILER_DATA_DIR EDITOR={} VISUAL= {} --data-dir {}; sleep 30",
        editor.display(),
        env!("CARGO_BIN_EXE_hailer"),
        dir.path().join("data").display()
    );
    let t = Tmux::start(dir.path(), &cmd);
    t.keys(&["6"]);
    t.wait_for("built-in defaults");
    t.keys(&["e"]);
    t.wait_for("config.toml not created");
    let config = dir.path().join("config.toml");
    assert!(!config.exists(), "an unchanged example was kept");
    let screen = t.wait_for("built-in defaults");
    assert!(!screen.contains("claire"), "{screen}");

    std::fs::write(dir.path().join("change"), "").unwrap();
    t.keys(&["e"]);
    t.wait_for("configuration reloaded");
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .ends_with("# mine\n")
    );
    t.wait_for("config file: config.toml");
    t.keys(&["q"]);
}

/// Ctrl-C while the editor runs stops the editor only: the TUI outlives it (it may be
/// running a send), gives the held approval back and removes the draft, which only its user
/// could read.
#[test]
fn ctrl_c_in_the_editor_stops_the_editor_not_the_tui() {
    if !Tmux::available() {
        return;
    }
    let (dir, config, data) = one_row_campaign();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let editor = dir.path().join("editor.sh");
    let (mode, started) = (dir.path().join("mode"), dir.path().join("started"));
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\nstat -c %a \"$1\" > {}\ntouch {}\nsleep 20\n",
            mode.display(),
            started.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    run_ok(&config, &data, dir.path(), &["outbox", "approve", "1"]);
    // The shell around hailer survives the Ctrl-C with a trap (an ignored SIGINT would be
    // inherited by hailer and prove nothing).
    let prefix = format!("trap true INT; TMPDIR={}", tmp.display());
    let t = outbox_with_editor(dir.path(), &prefix, &editor, &config, &data);
    t.keys(&["e"]);
    let start = Instant::now();
    while !started.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the editor never ran"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    t.keys(&["C-c"]);
    t.wait_for("row 1 unchanged");
    assert_eq!(std::fs::read_to_string(&mode).unwrap().trim(), "600");
    let store = hailer::store::Store::open_in(&data).unwrap();
    let row = hailer::store::outbox::get(store.conn(), 1)
        .unwrap()
        .unwrap();
    assert!(row.approved, "approval given back");
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "draft removed");
    t.keys(&["j"]);
    t.wait_for("row 1 of 1");
    t.keys(&["q"]);
}

/// A row a dead run left SENDING is UNCERTAIN as soon as the TUI opens, ready for `u`,
/// instead of staying SENDING until the next send.
#[test]
fn rows_left_sending_by_a_dead_run_are_uncertain_when_the_tui_opens() {
    if !Tmux::available() {
        return;
    }
    let (dir, config, data) = one_row_campaign();
    let store = hailer::store::Store::open_in(&data).unwrap();
    store
        .conn()
        .execute(
            "UPDATE outbox SET status = 'SENDING', mailbox = 'sender' WHERE id = 1",
            [],
        )
        .unwrap();
    let cmd = format!(
        "{} --config {} --data-dir {}; sleep 30",
        env!("CARGO_BIN_EXE_hailer"),
        config.display(),
        data.display()
    );
    let t = Tmux::start(dir.path(), &cmd);
    t.wait_for("now UNCERTAIN");
    t.keys(&["3"]);
    t.wait_for("UNCERTAIN");
    let row = hailer::store::outbox::get(store.conn(), 1)
        .unwrap()
        .unwrap();
    assert_eq!(row.status, hailer::store::outbox::Status::Uncertain);
    t.keys(&["u"]);
    t.wait_for("s: it went out (SENT)");
    t.keys(&["Escape", "q"]);
}

#[test]
fn demo_shows_what_it_imported_and_rejected_on_activity() {
    if !Tmux::available() {
        return;
    }
    // The demo's import summary goes to stderr just before the TUI covers it: the same lines
    // must open the Activity log, rejected rows included (the samples carry a few on purpose).
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    let cmd = format!(
        "{} --config {} --data-dir {} demo --assets {}/assets; sleep 30",
        env!("CARGO_BIN_EXE_hailer"),
        config.display(),
        dir.path().join("data").display(),
        env!("CARGO_MANIFEST_DIR"),
    );
    let t = Tmux::start(dir.path(), &cmd);
    t.wait_for("Prospects");
    // The first step is on the status line (the sample has no addresses to send to yet).
    t.wait_for("Sample loaded: f finds addresses, 3 then b builds the Outbox, ? all keys");
    t.keys(&["5"]);
    let screen = t.wait_for("missing lastname");
    assert!(screen.contains("rejected"), "{screen}");
    assert!(screen.contains("Sample loaded: f finds"), "{screen}");
    // The hint's keys do what it says: 3 then b builds the Outbox.
    t.keys(&["3", "b"]);
    t.wait_for("build outbox: done");
}

/// An SMTP server on loopback that takes a message and never answers its end of DATA: a send
/// stays in flight until the client's timeout. Returns the port.
fn smtp_holding_the_data_answer() -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            let Ok(mut w) = conn else { return };
            let mut r = BufReader::new(w.try_clone().unwrap());
            let _ = w.write_all(b"220 hold.test ESMTP\r\n");
            let mut line = String::new();
            let mut in_data = false;
            loop {
                line.clear();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if in_data {
                    if line == ".\r\n" {
                        // Hold the connection open, never answering.
                        held.push(w);
                        break;
                    }
                    continue;
                }
                let upper = line.trim_end().to_ascii_uppercase();
                let answer = if upper.starts_with("EHLO") {
                    "250-hold.test\r\n250-AUTH PLAIN\r\n250 PIPELINING\r\n"
                } else if upper.starts_with("AUTH") {
                    "235 2.7.0 ok\r\n"
                } else if upper == "DATA" {
                    in_data = true;
                    "354 go ahead\r\n"
                } else if upper == "QUIT" {
                    "221 bye\r\n"
                } else {
                    "250 ok\r\n"
                };
                let _ = w.write_all(answer.as_bytes());
            }
        }
    });
    port
}

/// Quitting while a message waits for the server's answer: the terminal comes back at once
/// with a line saying what hailer waits for (not a blank screen that looks hung), and the
/// row is not lost.
#[test]
fn quitting_during_a_send_in_flight_says_what_it_waits_for() {
    if !Tmux::available() {
        return;
    }
    let (dir, config, data) = one_row_campaign();
    let port = smtp_holding_the_data_answer();
    std::fs::write(
        &config,
        format!(
            "[mailboxes.hold]\nfrom = \"Sam <sam@sender.test>\"\nsmtp_host = \"127.0.0.1\"\n\
             smtp_port = {port}\nsmtp_security = \"plain\"\nsmtp_username = \"u\"\n\
             password_cmd = \"echo pw\"\ndelay_min = 0\ndelay_max = 0\n"
        ),
    )
    .unwrap();
    run_ok(&config, &data, dir.path(), &["outbox", "approve", "--all"]);
    let cmd = format!(
        "{} --config {} --data-dir {}; echo EXITED $?; sleep 60",
        env!("CARGO_BIN_EXE_hailer"),
        config.display(),
        data.display()
    );
    let t = Tmux::start(dir.path(), &cmd);
    t.keys(&["3"]);
    t.wait_for("Hello Ada");
    t.keys(&["S"]);
    t.wait_for("1 message");
    t.keys(&["y"]);
    t.keys(&["5"]);
    t.wait_for("sending now");
    t.keys(&["q"]);
    t.keys(&["y"]);
    let screen = t.wait_for("hailer: waiting for send");
    assert!(screen.contains("a message in flight waits"), "{screen}");
    assert!(!screen.contains("EXITED"), "{screen}");
}
