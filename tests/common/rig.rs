//! The mail rig (scripts/mailrig) as tests see it: `HAILER_RIG` names its directory, whose
//! `rig.env` holds ports, users, password and CA. Without a rig, tests that need one fail
//! when `CI` is set (CI must never skip them) and are skipped with a notice otherwise.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Rig {
    pub dir: PathBuf,
    vars: HashMap<String, String>,
}

impl Rig {
    /// The running rig, or `None` (after printing why) when it may be skipped.
    pub fn get() -> Option<Rig> {
        let dir = match std::env::var_os("HAILER_RIG") {
            Some(d) => PathBuf::from(d),
            None => return Self::absent("HAILER_RIG is not set"),
        };
        match Self::load(&dir) {
            Ok(rig) => Some(rig),
            Err(e) => Self::absent(&e),
        }
    }

    fn absent(why: &str) -> Option<Rig> {
        if std::env::var_os("CI").is_some() {
            panic!(
                "the mail rig is required in CI but {why}: run `scripts/mailrig up DIR` and set HAILER_RIG=DIR"
            );
        }
        eprintln!(
            "skipping: no mail rig ({why}); start one with scripts/mailrig up DIR and set HAILER_RIG=DIR"
        );
        None
    }

    pub fn load(dir: &Path) -> Result<Rig, String> {
        let env = dir.join("rig.env");
        let text = std::fs::read_to_string(&env)
            .map_err(|e| format!("cannot read {}: {e}", env.display()))?;
        let vars = parse_env(&text);
        for key in [
            "RIG_DNS_PORT",
            "RIG_SUBMIT_PORT",
            "RIG_MX_PORT",
            "RIG_IMAPS_PORT",
            "RIG_CA_FILE",
            "RIG_PASSWORD",
        ] {
            if !vars.contains_key(key) {
                return Err(format!("{} has no {key}", env.display()));
            }
        }
        Ok(Rig {
            dir: dir.to_path_buf(),
            vars,
        })
    }

    pub fn var(&self, key: &str) -> &str {
        self.vars
            .get(key)
            .unwrap_or_else(|| panic!("rig.env has no {key}"))
    }

    pub fn port(&self, key: &str) -> u16 {
        self.var(key)
            .parse()
            .unwrap_or_else(|_| panic!("{key} is not a port"))
    }

    pub fn host(&self) -> &str {
        self.vars
            .get("RIG_HOST")
            .map_or("127.0.0.1", String::as_str)
    }

    pub fn password(&self) -> &str {
        self.var("RIG_PASSWORD")
    }

    pub fn ca_file(&self) -> PathBuf {
        PathBuf::from(self.var("RIG_CA_FILE"))
    }

    pub fn config_file(&self) -> PathBuf {
        self.dir.join("config.toml")
    }

    pub fn mx_port(&self) -> u16 {
        self.port("RIG_MX_PORT")
    }

    /// `DIR/config.toml` (or `RIG_CONFIG`), a hailer config pointing at the rig.
    pub fn config(&self) -> PathBuf {
        self.vars
            .get("RIG_CONFIG")
            .map_or_else(|| self.config_file(), PathBuf::from)
    }

    /// A server log of the rig, e.g. `postfix-mx.log`.
    pub fn log(&self, name: &str) -> PathBuf {
        self.vars
            .get("RIG_LOG_DIR")
            .map_or_else(|| self.dir.join("log"), PathBuf::from)
            .join(name)
    }

    pub fn dns(&self) -> std::net::SocketAddr {
        format!("{}:{}", self.host(), self.port("RIG_DNS_PORT"))
            .parse()
            .expect("rig DNS address")
    }
}

/// The running rig or `None` (same as `Rig::get`).
pub fn rig() -> Option<Rig> {
    Rig::get()
}

/// `KEY='value'` / `KEY="value"` / `KEY=value` lines; comments and blanks ignored.
pub fn parse_env(text: &str) -> HashMap<String, String> {
    let mut vars = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
            v[1..v.len() - 1].replace("'\\''", "'")
        } else if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
            v[1..v.len() - 1].to_string()
        } else {
            v.to_string()
        };
        vars.insert(k.trim().to_string(), v);
    }
    vars
}

#[test]
fn parse_env_handles_shell_quoting() {
    let v = parse_env("# c\nA='x y'\nB=\"q\"\nexport C=3\nD='it'\\''s'\n");
    assert_eq!(v["A"], "x y");
    assert_eq!(v["B"], "q");
    assert_eq!(v["C"], "3");
    assert_eq!(v["D"], "it's");
}
