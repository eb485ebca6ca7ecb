//! Find the mail rig (`scripts/mailrig up DIR`) through `HAILER_RIG=DIR` and read `DIR/rig.env`.
//!
//! Without `HAILER_RIG`, a test that needs the rig fails when `CI` is set (a rig test must never
//! be silently skipped there) and otherwise prints a notice and returns early.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Rig {
    pub dir: PathBuf,
    pub vars: HashMap<String, String>,
}

impl Rig {
    pub fn var(&self, key: &str) -> &str {
        self.vars
            .get(key)
            .unwrap_or_else(|| panic!("{} has no {key}", self.dir.join("rig.env").display()))
    }

    pub fn port(&self, key: &str) -> u16 {
        self.var(key)
            .parse()
            .unwrap_or_else(|_| panic!("{key}={} is not a port", self.var(key)))
    }

    pub fn host(&self) -> &str {
        self.vars
            .get("RIG_HOST")
            .map_or("127.0.0.1", String::as_str)
    }

    /// The rig's DNS server, for `[dns] nameservers`.
    pub fn dns(&self) -> SocketAddr {
        format!("{}:{}", self.host(), self.port("RIG_DNS_PORT"))
            .parse()
            .unwrap()
    }

    pub fn mx_port(&self) -> u16 {
        self.port("RIG_MX_PORT")
    }

    /// `DIR/config.toml`, a hailer config pointing at the rig.
    pub fn config(&self) -> PathBuf {
        self.vars
            .get("RIG_CONFIG")
            .map_or_else(|| self.dir.join("config.toml"), PathBuf::from)
    }

    pub fn log(&self, name: &str) -> PathBuf {
        self.vars
            .get("RIG_LOG_DIR")
            .map_or_else(|| self.dir.join("log"), PathBuf::from)
            .join(name)
    }
}

/// The rig named by `HAILER_RIG`, or `None` (after a notice) when it is unset outside CI.
pub fn rig() -> Option<Rig> {
    let Some(dir) = std::env::var_os("HAILER_RIG") else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "HAILER_RIG is not set but CI is: rig tests must run in CI. \
                 Start one with `scripts/mailrig up DIR` and set HAILER_RIG=DIR."
            );
        }
        eprintln!("notice: HAILER_RIG is not set; skipping this rig test (scripts/mailrig up DIR)");
        return None;
    };
    Some(load(Path::new(&dir)).unwrap_or_else(|e| panic!("HAILER_RIG={}: {e}", dir.display())))
}

pub fn load(dir: &Path) -> Result<Rig, String> {
    let path = dir.join("rig.env");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e} (is the rig up?)", path.display()))?;
    Ok(Rig {
        dir: dir.to_path_buf(),
        vars: parse_env(&text),
    })
}

/// `KEY='value'` lines as `mailrig` writes them (single quotes, `'\''` for a quote), plus bare
/// and double-quoted values; comments and blank lines are skipped.
pub fn parse_env(text: &str) -> HashMap<String, String> {
    let mut vars = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        vars.insert(key.trim().to_string(), unquote(raw.trim()));
    }
    vars
}

fn unquote(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    out.push(c);
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => out.extend(chars.next()),
                        c => out.push(c),
                    }
                }
            }
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

#[test]
fn rig_env_quoting_is_undone() {
    let vars = parse_env(
        "# comment\nRIG_DIR='/tmp/rig x'\nRIG_PW='it'\\''s'\nexport RIG_PORT=2526\nRIG_Q=\"a\\\"b\"\n",
    );
    assert_eq!(vars["RIG_DIR"], "/tmp/rig x");
    assert_eq!(vars["RIG_PW"], "it's");
    assert_eq!(vars["RIG_PORT"], "2526");
    assert_eq!(vars["RIG_Q"], "a\"b");
}
