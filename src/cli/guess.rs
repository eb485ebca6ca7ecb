//! `hailer guess --first Jean --last Dupont --domain acme.test [--known a,b] [--format json]`:
//! the pattern engine alone, with no database and no network.

use clap::{Args, ValueEnum};

use super::exit;
use crate::engine::find::pattern;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GuessFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct GuessCommand {
    /// First name (accents, hyphens and compound names are fine)
    #[arg(long)]
    pub first: String,
    /// Last name (particles and apostrophes are fine)
    #[arg(long)]
    pub last: String,
    /// The company's domain
    #[arg(long)]
    pub domain: String,
    /// Addresses known at the domain, comma-separated (evidence for the pattern)
    #[arg(long, value_delimiter = ',')]
    pub known: Vec<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: GuessFormat,
    /// Print JSON (as `--format json`, and as every other command's --json)
    #[arg(long)]
    pub json: bool,
}

impl GuessCommand {
    pub fn execute(self) -> u8 {
        // The domain as normalised (`https://www.Acme.test/about` → `acme.test`) is the one
        // the addresses are at and the --known addresses are compared with.
        let Some(domain) = crate::engine::import::normalize::normalize_domain(&self.domain) else {
            errln!("--domain {:?} is not a domain name", self.domain);
            return exit::USAGE;
        };
        let Some(s) = pattern::guess(&self.first, &self.last, &domain, &self.known) else {
            errln!(
                "--first and --last must each contain a Latin letter: addresses are written \
                 in them (give a romanised name, such as --first Li --last Wang)"
            );
            return exit::USAGE;
        };
        // A --known address the guess cannot use is said: a typo there looked exactly like
        // "no evidence".
        for k in &self.known {
            let usable = k.trim().rsplit_once('@').is_some_and(|(local, d)| {
                !local.is_empty()
                    && crate::engine::find::domain::same_company(&d.to_lowercase(), &domain)
            });
            if !usable {
                errln!("--known {k:?} passed over: not an address at {domain}");
            }
        }
        let format = if self.json {
            GuessFormat::Json
        } else {
            self.format
        };
        match format {
            GuessFormat::Json => match serde_json::to_string_pretty(&s) {
                Ok(j) => outln!("{j}"),
                Err(e) => {
                    errln!("{e}");
                    return exit::FAILURE;
                }
            },
            GuessFormat::Text => {
                outln!("{}  ({}, confidence {})", s.email, s.pattern, s.confidence);
                for a in &s.alternatives {
                    outln!("  or {a}");
                }
                for e in &s.evidence {
                    outln!("  - {e}");
                }
            }
        }
        exit::OK
    }
}
