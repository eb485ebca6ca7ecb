//! `hailer mailbox test` against servers that refuse the login by quoting the client's
//! command back: the password, and its AUTH PLAIN / AUTH LOGIN base64 forms, never reach the
//! terminal nor DATA_DIR/logs/hailer.log. Scripted servers on loopback (no rig needed).

#[path = "common/fake_smtp.rs"]
mod fake_smtp;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;

use assert_cmd::Command;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fake_smtp::{Act, replies, reply, standard};

const USER: &str = "claire@sender.test";
/// With a `"` so the IMAP quoted form differs from the password as it is.
const PASSWORD: &str = "Cl\"airePW_XYZ";

/// An SMTP server offering `mechanisms` that refuses the login, quoting what it was sent.
fn echoing_smtp(mechanisms: &'static str) -> fake_smtp::Handler {
    Arc::new(move |_, cmd: Option<&str>| -> Act {
        let Some(cmd) = cmd else {
            return reply("220 fake.test ESMTP");
        };
        let upper = cmd.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            return replies(&["250-fake.test", &format!("250 AUTH {mechanisms}")]);
        }
        if upper == "AUTH LOGIN" {
            return reply("334 VXNlcm5hbWU6");
        }
        if upper.starts_with("AUTH ") {
            return reply(&format!("535 5.7.8 Authentication failed: {cmd}"));
        }
        if STANDARD.decode(cmd).is_ok_and(|b| b == USER.as_bytes()) {
            return reply("334 UGFzc3dvcmQ6");
        }
        if STANDARD.decode(cmd).is_ok() {
            return reply(&format!("535 5.7.8 Authentication failed for {cmd}"));
        }
        standard(cmd)
    })
}

/// An IMAP server that answers LOGIN with NO, quoting the command line it got.
fn echoing_imap() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            std::thread::spawn(move || -> std::io::Result<()> {
                let mut out = conn.try_clone()?;
                let mut lines = BufReader::new(conn);
                out.write_all(b"* OK fake IMAP ready\r\n")?;
                let mut line = String::new();
                while lines.read_line(&mut line)? > 0 {
                    let text = line.trim_end().to_string();
                    let tag = text.split(' ').next().unwrap_or("*");
                    let reply = if text.to_ascii_uppercase().contains(" LOGIN ") {
                        format!("{tag} NO [AUTHENTICATIONFAILED] Authentication failed: {text}\r\n")
                    } else {
                        format!("{tag} BAD unknown command\r\n")
                    };
                    out.write_all(reply.as_bytes())?;
                    line.clear();
                }
                Ok(())
            });
        }
    });
    port
}

#[test]
fn an_echoed_login_never_shows_the_password() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (plain, login) = rt.block_on(async {
        (
            fake_smtp::start("127.0.0.1", echoing_smtp("PLAIN LOGIN")).await,
            fake_smtp::start("127.0.0.1", echoing_smtp("LOGIN")).await,
        )
    });
    let imap = echoing_imap();
    let dir = tempfile::tempdir().unwrap();
    let mailbox = |name: &str, smtp_port: u16| {
        format!(
            "[mailboxes.{name}]\nfrom = \"Claire <{USER}>\"\nsmtp_host = \"127.0.0.1\"\n\
             smtp_port = {smtp_port}\nsmtp_security = \"plain\"\nimap_host = \"127.0.0.1\"\n\
             imap_port = {imap}\nimap_security = \"plain\"\npassword_env = \"HAILER_TEST_ECHO_PW\"\n"
        )
    };
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        mailbox("plain", plain.addr.port()) + &mailbox("login", login.addr.port()),
    )
    .unwrap();
    let mailbox_test = |flags: &[&str]| {
        Command::cargo_bin("hailer")
            .unwrap()
            .current_dir(dir.path())
            .env_remove("HAILER_CONFIG")
            .env_remove("HAILER_DATA_DIR")
            .env("HAILER_TEST_ECHO_PW", PASSWORD)
            .args(["--data-dir", "data", "mailbox", "test"])
            .args(flags)
            .output()
            .unwrap()
    };
    let out = mailbox_test(&[]);
    assert_eq!(out.status.code(), Some(1));
    let log = std::fs::read_to_string(dir.path().join("data/logs/hailer.log")).unwrap();
    let shown = [
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        log,
    ];
    // The servers did quote the secrets back, and hailer said the logins were refused.
    let seen =
        |verb: &str, server: &fake_smtp::FakeSmtp| server.conns().iter().any(|c| c.saw(verb));
    assert!(seen("AUTH PLAIN", &plain) && seen("AUTH LOGIN", &login));
    assert!(shown[0].contains("refused"), "{}", shown[0]);
    assert!(shown[0].contains(USER), "{}", shown[0]);
    assert!(shown[2].contains("<redacted>"), "{}", shown[2]);
    let forms = [
        "airePW".to_string(),
        STANDARD.encode(PASSWORD),
        STANDARD.encode(format!("\0{USER}\0{PASSWORD}")),
        STANDARD
            .encode(format!("\0{USER}\0{PASSWORD}"))
            .trim_end_matches('=')
            .to_string(),
    ];
    for text in &shown {
        for form in &forms {
            assert!(!text.contains(form.as_str()), "{form:?} shown in:\n{text}");
        }
    }

    // --json: the same results for a script, each protocol with ok and its detail; the
    // secrets are kept out of it too.
    let out = mailbox_test(&["--json", "login"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 1, "only the mailbox named: {text}");
    assert_eq!(rows[0]["mailbox"], "login");
    assert_eq!(rows[0]["ok"], false);
    assert_eq!(rows[0]["smtp"]["ok"], false);
    assert!(
        rows[0]["smtp"]["detail"]
            .as_str()
            .unwrap()
            .contains("refused"),
        "{text}"
    );
    assert_eq!(rows[0]["imap"]["ok"], false, "{text}");
    for form in &forms {
        assert!(!text.contains(form.as_str()), "{form:?} shown in:\n{text}");
    }
}
