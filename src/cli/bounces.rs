//! `hailer bounces parse PATH…`: read bounce messages from files, Maildir folders or the
//! `*.eml` files of directories, and print one CSV line per failed recipient. Touches no
//! database.
//! (`hailer bounces sync`, which reads the mailboxes over IMAP, lives in `cli::inbox`.)

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};

use super::exit;
use crate::engine::bounces::{self, Kind, ParsedMessage};

#[derive(Debug, Subcommand)]
pub enum BouncesCommand {
    /// Parse bounce messages and print CSV:
    /// file,recipient,status,reply_code,reason,hard,action,final_recipient (or --json)
    Parse(ParseCommand),
    /// Read the watched IMAP folders of every mailbox once: bounces, replies, complaints
    Sync(super::inbox::SyncCommand),
}

#[derive(Debug, Args)]
pub struct ParseCommand {
    /// Message files, Maildir folders (every message in cur/ and new/), or directories whose
    /// *.eml files are read (the others are passed over, with a note)
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Print a JSON array of objects with the CSV's columns, typed (reply_code a number,
    /// hard a boolean, empty fields null)
    #[arg(long, conflicts_with = "bench")]
    pub json: bool,

    /// Measure parse throughput instead of printing CSV (files are read first, then parsed
    /// repeatedly for at least a second); prints `messages=N seconds=S messages_per_sec=R`
    #[arg(long, hide = true)]
    pub bench: bool,
}

/// The files a list of paths stands for, in order: a file as given; a Maildir folder (one
/// with `cur` and `new`) every message in both, which have no extension; another directory its
/// `*.eml` files. Each sorted. Also the errors (a path that does not exist) and notes (files
/// a directory held that were passed over, said so the output's silence is not a mystery).
pub fn expand_paths(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<String>, Vec<String>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    let regular_files = |dir: &std::path::Path| -> std::io::Result<Vec<PathBuf>> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|f| f.is_file())
            .collect();
        v.sort();
        Ok(v)
    };
    for p in paths {
        if p.is_dir() {
            let maildir = p.join("cur").is_dir() && p.join("new").is_dir();
            let listed = if maildir {
                [p.join("cur"), p.join("new")]
                    .iter()
                    .map(|d| regular_files(d))
                    .collect::<std::io::Result<Vec<_>>>()
                    .map(|v| v.concat())
            } else {
                regular_files(p).map(|all| {
                    let (eml, other): (Vec<_>, Vec<_>) = all.into_iter().partition(|f| {
                        f.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml"))
                    });
                    if !other.is_empty() {
                        notes.push(format!(
                            "{}: {} file(s) passed over, not *.eml (give a file by name to \
                             read it; a Maildir folder, with cur/ and new/, is read whole)",
                            p.display(),
                            other.len()
                        ));
                    }
                    eml
                })
            };
            match listed {
                Ok(v) => files.extend(v),
                Err(e) => errors.push(format!("{}: {e}", p.display())),
            }
        } else if p.exists() {
            files.push(p.clone());
        } else {
            errors.push(format!("{}: no such file or directory", p.display()));
        }
    }
    (files, errors, notes)
}

/// The CSV columns. `recipient` is the address hailer acts on (the DSN's Original-Recipient,
/// the address we wrote to, when the report has one: what `bounces sync` suppresses);
/// `final_recipient` the address the report says failed (a forward's target); `action`
/// tells a failure from a delay (`failed`, `delayed`, …).
pub const HEADER: [&str; 8] = [
    "file",
    "recipient",
    "status",
    "reply_code",
    "reason",
    "hard",
    "action",
    "final_recipient",
];

/// CSV rows for one parsed message.
pub fn rows(file: &str, parsed: &ParsedMessage) -> Vec<[String; 8]> {
    if parsed.kind == Kind::Bounce {
        return parsed
            .records
            .iter()
            .map(|r| {
                [
                    file.to_string(),
                    r.original_recipient
                        .clone()
                        .unwrap_or_else(|| r.recipient.clone()),
                    r.status.clone().unwrap_or_default(),
                    r.reply_code.map(|c| c.to_string()).unwrap_or_default(),
                    r.reason.as_str().to_string(),
                    r.hard.to_string(),
                    r.action.as_str().to_string(),
                    r.recipient.clone(),
                ]
            })
            .collect();
    }
    let who = match parsed.kind {
        Kind::Feedback => parsed
            .feedback
            .as_ref()
            .and_then(|f| f.recipients.first().cloned()),
        Kind::AutoReply | Kind::Reply => parsed.from.clone(),
        _ => None,
    };
    vec![[
        file.to_string(),
        who.unwrap_or_default(),
        String::new(),
        String::new(),
        parsed.kind.as_str().to_string(),
        "false".to_string(),
        String::new(),
        String::new(),
    ]]
}

/// One CSV row as a JSON object with the same keys, typed: `reply_code` a number, `hard` a
/// boolean, an empty field `null`.
pub fn json_row(row: &[String; 8]) -> serde_json::Value {
    let text = |s: &String| {
        if s.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::Value::String(s.clone())
        }
    };
    let mut obj = serde_json::Map::new();
    for (key, value) in HEADER.iter().zip(row) {
        let v = match *key {
            "reply_code" => value
                .parse::<u16>()
                .map_or(serde_json::Value::Null, serde_json::Value::from),
            "hard" => serde_json::Value::Bool(value == "true"),
            _ => text(value),
        };
        obj.insert(key.to_string(), v);
    }
    serde_json::Value::Object(obj)
}

impl ParseCommand {
    pub fn execute(self) -> u8 {
        let (files, mut errors, notes) = expand_paths(&self.paths);
        for note in &notes {
            errln!("{note}");
        }
        if self.bench {
            return bench(&files);
        }
        // A path that does not exist is a typo: fail before any output, so `> out.csv` is
        // not left holding a header and nothing else.
        if !errors.is_empty() {
            for e in &errors {
                errln!("{e}");
            }
            return exit::INPUT;
        }
        super::mark_stdout_used();
        let stdout = std::io::stdout();
        let mut w = csv::Writer::from_writer(stdout.lock());
        if !self.json && w.write_record(HEADER).is_err() {
            return exit::FAILURE;
        }
        let mut objects = Vec::new();
        for f in &files {
            let bytes = match std::fs::read(f) {
                Ok(b) => b,
                Err(e) => {
                    errors.push(format!("{}: {e}", f.display()));
                    continue;
                }
            };
            let parsed = bounces::parse(&bytes);
            for row in rows(&f.display().to_string(), &parsed) {
                if self.json {
                    objects.push(json_row(&row));
                } else if w.write_record(&row).is_err() {
                    return exit::FAILURE;
                }
            }
        }
        if self.json {
            let text = serde_json::to_string_pretty(&objects).unwrap_or_default();
            if w.flush().is_err() || writeln!(std::io::stdout(), "{text}").is_err() {
                return exit::FAILURE;
            }
        }
        if w.flush().is_err() {
            return exit::FAILURE;
        }
        for e in &errors {
            errln!("{e}");
        }
        if errors.is_empty() {
            exit::OK
        } else {
            exit::INPUT
        }
    }
}

fn bench(files: &[PathBuf]) -> u8 {
    let data: Vec<Vec<u8>> = files
        .iter()
        .filter_map(|f| std::fs::read(Path::new(f)).ok())
        .collect();
    if data.is_empty() {
        errln!("no messages to parse");
        return exit::INPUT;
    }
    let start = Instant::now();
    let mut parsed = 0u64;
    let mut bounces_found = 0u64;
    while start.elapsed() < Duration::from_secs(1) || parsed < data.len() as u64 {
        for d in &data {
            let p = bounces::parse(d);
            bounces_found += p.records.len() as u64;
            parsed += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let _ = writeln!(
        std::io::stdout(),
        "messages={} seconds={:.4} messages_per_sec={:.1} records_per_pass={}",
        parsed,
        secs,
        parsed as f64 / secs,
        bounces_found / (parsed / data.len() as u64).max(1)
    );
    exit::OK
}
