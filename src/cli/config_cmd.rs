//! `hailer config check`: parse and validate, print the effective config with secrets redacted.

use clap::Subcommand;

use super::{Cli, exit, resolve_data_dir};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the config and print the effective values (secrets redacted)
    #[command(
        after_help = "Exit codes: 0 the config is valid and every secret it names is \
        usable (other warnings may be printed); 3 the file is invalid, or it is valid but a \
        secret that send, serve or the alerts need is missing, empty or too short, or a \
        password_cmd fails (each named in a warning): a `hailer config check && hailer send` \
        in cron stops there. --no-secrets checks the file alone."
    )]
    Check {
        /// Print as JSON, with the defaults a run uses filled in (ports, logins, data and
        /// dry-run folders, listen address); null means unset or off
        #[arg(long)]
        json: bool,
        /// Check the file alone: no secret checks (no environment variable read, no
        /// password_cmd run), e.g. on a CI machine that has none of the secrets
        #[arg(long)]
        no_secrets: bool,
    },
}

impl ConfigCommand {
    pub fn execute(&self, cli: &Cli) -> u8 {
        let ConfigCommand::Check { json, no_secrets } = self;
        let loaded = match Config::load(cli.config.as_deref()) {
            Ok(l) => l,
            Err(e) => {
                errln!("{e}");
                return exit::CONFIG;
            }
        };
        let source = loaded.path.as_ref().map_or(
            "(built-in defaults: no config.toml found)".to_string(),
            |p| p.display().to_string(),
        );
        let data_dir = resolve_data_dir(cli.data_dir.as_deref(), &loaded.config);
        let secrets = loaded.config.secret_status();
        let mut warnings = loaded.config.warnings();
        // What send and serve would refuse at run time, checked the same way.
        let secret_problems = if *no_secrets {
            Vec::new()
        } else {
            loaded.config.secret_problems()
        };
        warnings.extend(secret_problems.iter().cloned());
        let warnings: Vec<String> = warnings
            .iter()
            .map(|w| crate::net::redact::redact_url_credentials(w))
            .collect();
        for w in &warnings {
            errln!("warning: {w}");
        }
        if *json {
            let mut value = serde_json::to_value(&loaded.config).unwrap_or_default();
            redact_json(&mut value);
            fill_defaults(&mut value, &loaded.config, &data_dir);
            let out = serde_json::json!({
                "file": source,
                "data_dir": data_dir,
                "config": value,
                "warnings": warnings,
                "secrets": secrets.iter().map(|(k, v)| serde_json::json!({"name": k, "state": v})).collect::<Vec<_>>(),
            });
            outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        } else {
            outln!("# config: {source}");
            outln!("# data dir: {}", data_dir.display());
            for (name, state) in &secrets {
                outln!("# {name}: {state}");
            }
            out!("{}", loaded.config.redacted_toml());
        }
        if secret_problems.is_empty() {
            errln!("config OK");
            exit::OK
        } else {
            errln!(
                "config file valid, but {} above with secrets or files: send or serve would fail",
                crate::text::count(secret_problems.len() as u64, "problem", "problems")
            );
            exit::CONFIG
        }
    }
}

/// The values a run uses where the file leaves a key unset and the code has a default, so a
/// script reading the JSON sees 587, not null. Keys whose null means "off" (warm-up, window,
/// DKIM, tracking URL) stay null.
fn fill_defaults(v: &mut serde_json::Value, config: &Config, data_dir: &std::path::Path) {
    use serde_json::Value;
    let fill = |slot: Option<&mut Value>, value: Value| {
        if let Some(slot) = slot
            && slot.is_null()
        {
            *slot = value;
        }
    };
    fill(
        v.pointer_mut("/storage/data_dir"),
        data_dir.display().to_string().into(),
    );
    fill(
        v.pointer_mut("/sending/dry_run_dir"),
        data_dir.join("dry-run").display().to_string().into(),
    );
    fill(
        v.pointer_mut("/tracking/listen"),
        crate::config::TrackingConfig::DEFAULT_LISTEN.into(),
    );
    for (name, mb) in &config.mailboxes {
        let Some(out) = v.pointer_mut(&format!("/mailboxes/{}", json_pointer_escape(name))) else {
            continue;
        };
        fill(out.get_mut("smtp_port"), mb.smtp_port().into());
        fill(out.get_mut("smtp_username"), mb.smtp_login().into());
        if mb.imap_host.is_some() {
            fill(out.get_mut("imap_port"), mb.imap_port().into());
            fill(out.get_mut("imap_username"), mb.imap_login().into());
            fill(
                out.get_mut("watch_folders"),
                config.inbox.folders.clone().into(),
            );
        }
    }
}

/// A key as one JSON Pointer segment (RFC 6901).
fn json_pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn redact_json(v: &mut serde_json::Value) {
    redact_url_credentials_in(v);
    if let Some(mailboxes) = v.get_mut("mailboxes").and_then(|m| m.as_object_mut()) {
        for mb in mailboxes.values_mut() {
            if let Some(cmd) = mb.get_mut("password_cmd")
                && !cmd.is_null()
            {
                *cmd = serde_json::Value::String("<redacted>".into());
            }
        }
    }
}

/// Every string of `v` with its URLs' credentials hidden (`[search] url`, `api_url`, …).
fn redact_url_credentials_in(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::String(s) => *s = crate::net::redact::redact_url_credentials(s),
        Value::Array(items) => items.iter_mut().for_each(redact_url_credentials_in),
        Value::Object(map) => map.values_mut().for_each(redact_url_credentials_in),
        _ => {}
    }
}
