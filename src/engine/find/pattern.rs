//! Address patterns: the catalogue, rendering a name through a pattern, reading a pattern out
//! of a published address, and inferring a company's pattern with a confidence.
//!
//! Confidence is the posterior probability of the winning pattern under a Dirichlet prior:
//! `P(p) = (k·prior(p) + votes(p)) / (k + Σ votes)`, with prior strength `k = PRIOR_STRENGTH`.
//! Each personal address found at the company's domain votes for the patterns it can be read
//! as (weights summing to 1; an address matched to a known person's name votes 1 for its exact
//! pattern). With no evidence the suggestion is the prior's best guess, capped at 40.

use serde::{Deserialize, Serialize};

use super::names::{self, PARTICLES};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Pattern {
    FirstDotLast,
    FirstLast,
    FLast,
    FDotLast,
    First,
    Last,
    FirstUnderLast,
    FirstDashLast,
    LastDotFirst,
    LastF,
    FirstL,
    FirstDotL,
    LDotFirst,
    LastFirst,
}

/// Published frequencies of corporate address formats. Source: Mailsfinder, "How to format an
/// email address in 2026 (complete guide)", https://mailsfinder.com/blog/how-to-format-an-email-address
/// (June 2026): about 60% of B2B companies use first.last; another 25% use first, flast or
/// first.l; the remaining 15% custom or legacy formats. The 25% and 15% are split here in the
/// order of that guide's list of the 12 most common patterns (our split, not theirs).
pub const PRIOR: &[(Pattern, f64)] = &[
    (Pattern::FirstDotLast, 0.60),
    (Pattern::First, 0.10),
    (Pattern::FLast, 0.10),
    (Pattern::FirstDotL, 0.05),
    (Pattern::FirstLast, 0.035),
    (Pattern::FDotLast, 0.025),
    (Pattern::FirstUnderLast, 0.015),
    (Pattern::FirstDashLast, 0.015),
    (Pattern::LastDotFirst, 0.015),
    (Pattern::Last, 0.01),
    (Pattern::LastF, 0.01),
    (Pattern::FirstL, 0.01),
    (Pattern::LDotFirst, 0.01),
    (Pattern::LastFirst, 0.005),
];

/// How much the prior weighs against evidence, in addresses.
pub const PRIOR_STRENGTH: f64 = 0.5;
/// Never claim certainty for a pattern that no server confirmed.
pub const MAX_CONFIDENCE: u8 = 97;
/// No evidence: at most this.
pub const MAX_PRIOR_CONFIDENCE: u8 = 40;

/// Local parts that belong to a function, not a person.
pub const ROLE_WORDS: &[&str] = &[
    "contact",
    "info",
    "infos",
    "information",
    "hello",
    "hi",
    "bonjour",
    "sales",
    "vente",
    "ventes",
    "commercial",
    "support",
    "help",
    "helpdesk",
    "service",
    "services",
    "admin",
    "administration",
    "office",
    "accueil",
    "reception",
    "rh",
    "hr",
    "jobs",
    "job",
    "career",
    "careers",
    "carrieres",
    "recrutement",
    "recruitment",
    "recrutements",
    "press",
    "presse",
    "media",
    "marketing",
    "communication",
    "comm",
    "billing",
    "facturation",
    "compta",
    "comptabilite",
    "accounting",
    "finance",
    "legal",
    "juridique",
    "privacy",
    "dpo",
    "rgpd",
    "gdpr",
    "abuse",
    "postmaster",
    "webmaster",
    "hostmaster",
    "noreply",
    "no-reply",
    "donotreply",
    "newsletter",
    "team",
    "equipe",
    "direction",
    "secretariat",
    "mail",
    "email",
    "enquiries",
    "enquiry",
    "inquiries",
    "orders",
    "commandes",
    "shop",
    "boutique",
    "partners",
    "partenaires",
    "investors",
    "ir",
    "security",
    "it",
    "tech",
    "dev",
    "root",
    "test",
    "welcome",
    "general",
    "mailbox",
    "customerservice",
    "sav",
    "devis",
    "export",
];

impl Pattern {
    pub const ALL: [Pattern; 14] = [
        Pattern::FirstDotLast,
        Pattern::FirstLast,
        Pattern::FLast,
        Pattern::FDotLast,
        Pattern::First,
        Pattern::Last,
        Pattern::FirstUnderLast,
        Pattern::FirstDashLast,
        Pattern::LastDotFirst,
        Pattern::LastF,
        Pattern::FirstL,
        Pattern::FirstDotL,
        Pattern::LDotFirst,
        Pattern::LastFirst,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Pattern::FirstDotLast => "first.last",
            Pattern::FirstLast => "firstlast",
            Pattern::FLast => "flast",
            Pattern::FDotLast => "f.last",
            Pattern::First => "first",
            Pattern::Last => "last",
            Pattern::FirstUnderLast => "first_last",
            Pattern::FirstDashLast => "first-last",
            Pattern::LastDotFirst => "last.first",
            Pattern::LastF => "lastf",
            Pattern::FirstL => "firstl",
            Pattern::FirstDotL => "first.l",
            Pattern::LDotFirst => "l.first",
            Pattern::LastFirst => "lastfirst",
        }
    }

    pub fn from_name(s: &str) -> Option<Pattern> {
        Pattern::ALL.into_iter().find(|p| p.name() == s)
    }

    pub fn prior(self) -> f64 {
        PRIOR
            .iter()
            .find(|(p, _)| *p == self)
            .map_or(0.0, |(_, w)| *w)
    }

    /// Render a name. `first`/`last` are folded forms of one variant (see [`Name`]).
    fn render_parts(self, first: &str, last: &str) -> Option<String> {
        let f = first.chars().next()?;
        let l = last.chars().next()?;
        Some(match self {
            Pattern::FirstDotLast => format!("{first}.{last}"),
            Pattern::FirstLast => format!("{first}{last}"),
            Pattern::FLast => format!("{f}{last}"),
            Pattern::FDotLast => format!("{f}.{last}"),
            Pattern::First => first.to_string(),
            Pattern::Last => last.to_string(),
            Pattern::FirstUnderLast => format!("{first}_{last}"),
            Pattern::FirstDashLast => format!("{first}-{last}"),
            Pattern::LastDotFirst => format!("{last}.{first}"),
            Pattern::LastF => format!("{last}{f}"),
            Pattern::FirstL => format!("{first}{l}"),
            Pattern::FirstDotL => format!("{first}.{l}"),
            Pattern::LDotFirst => format!("{l}.{first}"),
            Pattern::LastFirst => format!("{last}{first}"),
        })
    }

    /// The patterns written with the first name's initial, with a compound first name's
    /// initials instead (`jp.dupont`).
    fn render_initials(self, initials: &str, last: &str) -> Option<String> {
        match self {
            Pattern::FLast => Some(format!("{initials}{last}")),
            Pattern::FDotLast => Some(format!("{initials}.{last}")),
            Pattern::LastF => Some(format!("{last}{initials}")),
            _ => None,
        }
    }

    /// Whether the pattern puts a separator between the name parts.
    fn separated(self) -> bool {
        matches!(
            self,
            Pattern::FirstDotLast
                | Pattern::FDotLast
                | Pattern::FirstUnderLast
                | Pattern::FirstDashLast
                | Pattern::LastDotFirst
                | Pattern::FirstDotL
                | Pattern::LDotFirst
        )
    }
}

/// A person's name, folded to ASCII, with the spellings companies use.
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    /// First-name words: `Jean-Marc` → `["jean", "marc"]`.
    pub first: Vec<String>,
    /// Last-name words with particles: `de la Fontaine` → `["de", "la", "fontaine"]`.
    pub last: Vec<String>,
}

impl Name {
    pub fn new(first: &str, last: &str) -> Option<Name> {
        let first = names::words(first);
        let last = names::words(last);
        if first.is_empty() || last.is_empty() {
            return None;
        }
        Some(Name { first, last })
    }

    /// The first name as written in addresses: `jean-marc` in separated patterns,
    /// `jeanmarc` in joined ones.
    fn first_form(&self, separated: bool) -> String {
        if separated {
            self.first.join("-")
        } else {
            self.first.concat()
        }
    }

    /// The initials of a compound first name (`jp` for Jean-Pierre), as `jp.dupont` writes
    /// it; `None` for a single first name.
    fn initials(&self) -> Option<String> {
        (self.first.len() > 1).then(|| self.first.iter().filter_map(|w| w.chars().next()).collect())
    }

    /// The last name with its particles glued: `delafontaine`, `ndiaye`, `legoff`.
    fn last_form(&self) -> String {
        self.last.concat()
    }

    /// The primary rendering of a pattern for this name.
    pub fn render(&self, p: Pattern) -> String {
        let first = self.first_form(p.separated());
        p.render_parts(&first, &self.last_form())
            .unwrap_or_default()
    }

    /// The rendering of a pattern with `last` as the surname (hyphenated particles, the
    /// first surname alone).
    fn render_with_last(&self, p: Pattern, last: &str) -> String {
        let first = self.first_form(p.separated());
        p.render_parts(&first, last).unwrap_or_default()
    }

    /// A compound surname without particles (`García López`): Spanish addresses often use
    /// the first surname alone.
    fn double_surname(&self) -> bool {
        self.last.len() == 2 && !self.last.iter().any(|w| PARTICLES.contains(&w.as_str()))
    }

    fn has_particles(&self) -> bool {
        self.last.len() > 1 && self.last.iter().any(|w| PARTICLES.contains(&w.as_str()))
    }

    /// Every spelling of the name under a pattern (compound first names joined or hyphenated
    /// or first word only; particles kept or dropped), to recognise a published address.
    fn spellings(&self, p: Pattern) -> Vec<String> {
        self.spellings_of(p, true)
    }

    /// `spellings`, with or without the partial forms: the first word of a compound given
    /// name (`jean` for Jean-Marc) and the last word of a compound surname (`lopez` for
    /// Garcia Lopez). Dropping the particles (`fontaine` for de La Fontaine) is not partial.
    fn spellings_of(&self, p: Pattern, partial: bool) -> Vec<String> {
        let mut firsts = vec![self.first.join("-"), self.first.concat()];
        if partial {
            firsts.push(self.first[0].clone());
        }
        let mut lasts = vec![self.last.concat(), self.last.join("-")];
        let no_particles: Vec<&String> = self
            .last
            .iter()
            .skip_while(|w| PARTICLES.contains(&w.as_str()))
            .collect();
        if !no_particles.is_empty() && no_particles.len() < self.last.len() {
            lasts.push(no_particles.iter().map(|s| s.as_str()).collect());
        }
        if partial && self.last.len() > 1 {
            lasts.push(self.last[self.last.len() - 1].clone());
        }
        firsts.dedup();
        lasts.dedup();
        let mut out = Vec::new();
        for f in &firsts {
            for l in &lasts {
                if let Some(s) = p.render_parts(f, l)
                    && !out.contains(&s)
                {
                    out.push(s);
                }
            }
        }
        // A compound first name by its initials: jp.dupont for Jean-Pierre Dupont.
        if let Some(initials) = self.initials() {
            for l in &lasts {
                if let Some(s) = p.render_initials(&initials, l)
                    && !out.contains(&s)
                {
                    out.push(s);
                }
            }
        }
        out
    }

    /// The other usual spelling of a compound first name under `p`, and why, when the
    /// pattern writes the first name: joined for a hyphenated one (`jeanpierre.dupont`),
    /// hyphenated for a joined one (`jean-pierre`), both initials for one initial
    /// (`jp.dupont`). `None` for a single first name or a pattern without it.
    fn compound_variant(&self, p: Pattern) -> Option<(String, &'static str)> {
        let initials = self.initials()?;
        let last = self.last_form();
        if let Some(v) = p.render_initials(&initials, &last) {
            return Some((v, "both initials"));
        }
        let whole_first = matches!(
            p,
            Pattern::FirstDotLast
                | Pattern::FirstUnderLast
                | Pattern::FirstDashLast
                | Pattern::LastDotFirst
                | Pattern::First
                | Pattern::FirstDotL
                | Pattern::LDotFirst
        );
        if !whole_first {
            return None;
        }
        let (other, how) = if p.separated() {
            (self.first.concat(), "joined")
        } else {
            (self.first.join("-"), "hyphenated")
        };
        p.render_parts(&other, &last).map(|v| (v, how))
    }

    /// The patterns under which this name gives `local`.
    pub fn patterns_of(&self, local: &str) -> Vec<Pattern> {
        Pattern::ALL
            .into_iter()
            .filter(|p| self.spellings(*p).iter().any(|s| s == local))
            .collect()
    }

    /// Whether `local` spells this whole name under `p`: the whole given name and the whole
    /// surname (particles may be dropped), not one word of a compound.
    fn spells_whole_name(&self, local: &str, p: Pattern) -> bool {
        spells_full_name(p) && self.spellings_of(p, false).iter().any(|s| s == local)
    }
}

/// `contact`, `info2`, `sales-fr`, `rh.paris`: a function, not a person.
pub fn is_role(local: &str) -> bool {
    let l = local.to_ascii_lowercase();
    let stem: String = l.chars().filter(|c| !c.is_ascii_digit()).collect();
    if ROLE_WORDS.contains(&stem.as_str()) {
        return true;
    }
    stem.split(['.', '-', '_', '+'])
        .filter(|w| !w.is_empty())
        .any(|w| ROLE_WORDS.contains(&w))
}

/// Pairs of letters that start no ordinary word or name: `jd` in `jdupont` means an initial.
fn is_onset(a: char, b: char) -> bool {
    let vowel = |c: char| "aeiouy".contains(c);
    if vowel(a) || vowel(b) {
        return true;
    }
    const ONSETS: &[&str] = &[
        "bl", "br", "ch", "cl", "cr", "dr", "fl", "fr", "gl", "gn", "gr", "kl", "kr", "ph", "pl",
        "pr", "sc", "sh", "sk", "sl", "sm", "sn", "sp", "st", "sw", "th", "tr", "wh", "wr", "kh",
        "zh", "ts", "sch", "dj", "vl", "ps", "pf", "sv", "tj",
    ];
    let s: String = [a, b].iter().collect();
    ONSETS.contains(&s.as_str())
}

/// Pairs of letters that end no ordinary word or name: `tj` in `dupontj` means an initial.
fn is_coda(a: char, b: char) -> bool {
    let vowel = |c: char| "aeiouy".contains(c);
    if vowel(a) || vowel(b) {
        return true;
    }
    const CODAS: &[&str] = &[
        "ch", "ck", "ct", "ff", "ft", "gh", "gs", "ld", "lf", "lk", "ll", "lm", "lp", "lt", "mb",
        "mp", "mm", "nd", "ng", "nk", "nn", "ns", "nt", "nz", "ph", "pt", "rb", "rc", "rd", "rg",
        "rk", "rl", "rm", "rn", "rp", "rs", "rt", "rz", "sh", "sk", "sp", "ss", "st", "th", "tt",
        "tz", "ts", "ds", "ks", "ls", "ms", "ps", "ws", "wn", "ws", "xx", "zz", "lz", "dt", "cz",
        "sz", "gg", "dd", "bb", "pp", "ll", "ns", "rh", "lh", "nh", "sch", "tch",
    ];
    let s: String = [a, b].iter().collect();
    CODAS.contains(&s.as_str())
}

/// Read a local part without knowing its owner: the patterns it may follow, with weights
/// summing to 1 (or an empty list when it does not look like a person's address).
pub fn read_local(local: &str) -> Vec<(Pattern, f64)> {
    let local = local.to_ascii_lowercase();
    if local.is_empty()
        || is_role(&local)
        || local.chars().any(|c| c.is_ascii_digit())
        || !local
            .chars()
            .all(|c| c.is_ascii_lowercase() || ".-_".contains(c))
    {
        return Vec::new();
    }
    let given = names::is_given_name;
    let split = ['.', '_', '-'].into_iter().find_map(|sep| {
        let parts: Vec<&str> = local.split(sep).collect();
        (parts.len() == 2 && parts.iter().all(|p| !p.is_empty())).then(|| (sep, parts[0], parts[1]))
    });
    if let Some((sep, a, b)) = split {
        // A compound first name keeps its hyphen inside a dotted address (jean-marc.dupont)
        // or is written joined (jeanmarc.dupont).
        let a_given = a.split('-').all(given) || is_joined_given_names(a);
        let b_given = b.split('-').all(given) || is_joined_given_names(b);
        // Two letters no name starts with are a compound first name's initials: jp.dupont.
        let initials = |w: &str| {
            let c: Vec<char> = w.chars().collect();
            c.len() == 2 && !given(w) && !is_onset(c[0], c[1])
        };
        let (a1, b1) = (a.len() == 1 || initials(a), b.len() == 1);
        let out = match sep {
            '.' => {
                if a1 && b1 {
                    return Vec::new();
                } else if a1 {
                    if b_given && !names::is_given_name(a) {
                        vec![(Pattern::FDotLast, 0.6), (Pattern::LDotFirst, 0.4)]
                    } else {
                        vec![(Pattern::FDotLast, 1.0)]
                    }
                } else if b1 {
                    vec![(Pattern::FirstDotL, 1.0)]
                } else if a_given && !b_given {
                    vec![(Pattern::FirstDotLast, 1.0)]
                } else if b_given && !a_given {
                    vec![(Pattern::LastDotFirst, 1.0)]
                } else {
                    // Both or neither are names (martin.thomas): let the prior decide.
                    prior_split(&[Pattern::FirstDotLast, Pattern::LastDotFirst])
                }
            }
            '_' if !a1 && !b1 => vec![(Pattern::FirstUnderLast, 1.0)],
            '-' if !a1 && !b1 => {
                // jean-marc could be a compound first name alone.
                if a_given && b_given {
                    prior_split(&[Pattern::FirstDashLast, Pattern::First])
                } else {
                    vec![(Pattern::FirstDashLast, 1.0)]
                }
            }
            _ => return Vec::new(),
        };
        return out;
    }
    if local.contains(['.', '_', '-']) {
        return Vec::new();
    }
    let chars: Vec<char> = local.chars().collect();
    let n = chars.len();
    if n < 2 {
        return Vec::new();
    }
    if given(&local) {
        // jade, alex: a first name alone (or, rarely, a surname that is also a first name).
        return prior_split(&[Pattern::First, Pattern::Last]);
    }
    let initial_first = !is_onset(chars[0], chars[1]);
    let initial_last = !is_coda(chars[n - 2], chars[n - 1]);
    // After an initial, the rest is a whole given name (erichard, alambert): many surnames
    // are (Richard, David, Lambert), so `f` + surname is as good a reading as a given name
    // cut out of it (eric+hard, alam+bert); the prior weighs the two.
    let initial_then_name = n >= 5 && given(&local[1..]);
    // A local part starting with a pair no name starts with (jl, md) begins with an initial:
    // a given name found further in (jlam+bert, mdu+rand) is a piece of the surname.
    if !initial_first {
        // The longest given-name prefix: mariecurie, jeand.
        let prefix = (2..n).rev().find(|&i| given(&local[..i]));
        if let Some(i) = prefix.filter(|&i| i >= 3) {
            let rest = n - i;
            if rest == 1 {
                return vec![(Pattern::FirstL, 1.0)];
            }
            if initial_then_name {
                return prior_split(&[Pattern::FirstLast, Pattern::FLast]);
            }
            return vec![(Pattern::FirstLast, 1.0)];
        }
        // A given-name suffix: curiemarie, dupontj is not one.
        if (2..n - 2).any(|i| given(&local[i..]) && n - i >= 3) {
            if initial_then_name {
                return prior_split(&[Pattern::LastFirst, Pattern::FLast]);
            }
            return vec![(Pattern::LastFirst, 1.0)];
        }
    }
    match (initial_first, initial_last) {
        (true, false) => vec![(Pattern::FLast, 1.0)],
        (false, true) => vec![(Pattern::LastF, 1.0)],
        (true, true) => prior_split(&[Pattern::FLast, Pattern::LastF]),
        (false, false) => prior_split(&[Pattern::FLast, Pattern::LastF, Pattern::Last]),
    }
}

/// Two given names written as one word, as a compound first name often is in an address
/// (`jeanpierre`, `marieanne`): each part a known given name of three letters or more.
fn is_joined_given_names(word: &str) -> bool {
    word.is_ascii()
        && word.len() >= 6
        && !names::is_given_name(word)
        && (3..=word.len() - 3)
            .any(|i| names::is_given_name(&word[..i]) && names::is_given_name(&word[i..]))
}

/// Weights proportional to the prior among a few readings.
fn prior_split(ps: &[Pattern]) -> Vec<(Pattern, f64)> {
    let total: f64 = ps.iter().map(|p| p.prior()).sum();
    ps.iter().map(|p| (*p, p.prior() / total)).collect()
}

/// One address found for the company, with where it was found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Seen {
    pub email: String,
    /// Where it was seen: "text on https://…", or "imported for Jane Doe".
    pub source: String,
}

impl Seen {
    /// `source` as a phrase after the address: "published (text on https://…)", or
    /// "imported for Jane Doe".
    fn where_found(&self) -> String {
        if self.source.starts_with("imported") || self.source.starts_with("typed in") {
            self.source.clone()
        } else if self.source == "--known" {
            "given with --known".into()
        } else {
            format!("published, {}", self.source)
        }
    }
}

/// The evidence of a suggestion that is the person's own address (published, imported):
/// first the line that gives the headline confidence and why, then the company's pattern
/// votes, whose own confidence line is relabelled so the two numbers do not read as rivals.
fn own_address_evidence(first: String, found: String, inf: &Inference) -> Vec<String> {
    let mut evidence = vec![first, found];
    evidence.extend(
        inf.evidence
            .iter()
            .map(|line| match line.strip_prefix("confidence ") {
                Some(rest) => format!("the company's pattern alone would give {rest}"),
                None => line.clone(),
            }),
    );
    evidence
}

/// A person whose name is known at the company (a prospect), to read exact patterns.
#[derive(Debug, Clone)]
pub struct KnownPerson {
    pub name: Name,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inference {
    pub pattern: Pattern,
    /// Posterior (0..1) for every pattern, best first.
    pub ranking: Vec<(Pattern, f64)>,
    pub confidence: u8,
    /// Effective number of personal addresses that voted.
    pub votes: f64,
    pub evidence: Vec<String>,
}

/// Learn the company's pattern from the addresses found at its domain.
pub fn infer(seen: &[Seen], people: &[KnownPerson]) -> Inference {
    let mut votes: Vec<(Pattern, f64)> = Pattern::ALL.iter().map(|p| (*p, 0.0)).collect();
    let mut evidence = Vec::new();
    let mut roles = Vec::new();
    let mut total = 0.0;
    let mut done: Vec<String> = Vec::new();
    for s in seen {
        let email = s.email.to_ascii_lowercase();
        if done.contains(&email) {
            continue;
        }
        done.push(email.clone());
        let Some((local, _)) = email.split_once('@') else {
            continue;
        };
        if is_role(local) {
            roles.push(email.clone());
            continue;
        }
        // Exact reading from a known person's name first.
        let exact = people.iter().find_map(|k| {
            let ps = k.name.patterns_of(local);
            (!ps.is_empty()).then_some((k, ps))
        });
        let reading: Vec<(Pattern, f64)> = match exact {
            Some((k, ps)) => {
                let w = 1.0 / ps.len() as f64;
                evidence.push(format!(
                    "{email} ({}) is {} {} as {}",
                    s.source,
                    k.name.first.join("-"),
                    k.name.last.join(" "),
                    ps.iter().map(|p| p.name()).collect::<Vec<_>>().join(" or ")
                ));
                ps.into_iter().map(|p| (p, w)).collect()
            }
            None => {
                let r = read_local(local);
                if r.is_empty() {
                    evidence.push(format!("{email} ({}): not name-shaped, ignored", s.source));
                } else {
                    evidence.push(format!(
                        "{email} ({}): reads as {}",
                        s.source,
                        r.iter()
                            .map(|(p, w)| format!("{} {:.0}%", p.name(), w * 100.0))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                r
            }
        };
        for (p, w) in reading {
            if let Some(v) = votes.iter_mut().find(|(q, _)| *q == p) {
                v.1 += w;
            }
            total += w;
        }
    }
    if !roles.is_empty() {
        evidence.push(format!("role addresses ignored: {}", roles.join(", ")));
    }
    let mut ranking: Vec<(Pattern, f64)> = votes
        .iter()
        .map(|(p, v)| {
            (
                *p,
                (PRIOR_STRENGTH * p.prior() + v) / (PRIOR_STRENGTH + total),
            )
        })
        .collect();
    ranking.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let pattern = ranking[0].0;
    if total == 0.0 {
        evidence.push(format!(
            "no personal address found: {} is the most common pattern ({:.0}% of companies, Mailsfinder 2026)",
            pattern.name(),
            pattern.prior() * 100.0
        ));
    } else {
        let tally: Vec<String> = votes
            .iter()
            .filter(|(_, v)| *v > 0.0)
            .map(|(p, v)| format!("{} {v:.1}", p.name()))
            .collect();
        evidence.push(format!("pattern votes: {}", tally.join(", ")));
    }
    let mut inf = Inference {
        pattern,
        ranking,
        confidence: 0,
        votes: total,
        evidence,
    };
    let (confidence, why) = inf.confidence_of(pattern);
    inf.confidence = confidence;
    inf.evidence.push(why);
    inf
}

impl Inference {
    /// The confidence an address spelled with pattern `p` gets from these votes, and how it
    /// is made, in words: `first.last 82%: (0.5 × 12% (how common first.last is) + 2.0 of
    /// its votes) / (0.5 + 2.0 votes)`.
    pub fn confidence_of(&self, p: Pattern) -> (u8, String) {
        let share = self
            .ranking
            .iter()
            .find(|(q, _)| *q == p)
            .map_or(0.0, |(_, s)| *s);
        let cap = if self.votes == 0.0 {
            MAX_PRIOR_CONFIDENCE
        } else {
            MAX_CONFIDENCE
        };
        let confidence = ((share * 100.0).round() as u8).min(cap);
        // The votes for `p`, read back from its share.
        let own = (share * (PRIOR_STRENGTH + self.votes) - PRIOR_STRENGTH * p.prior()).max(0.0);
        let capped = if ((share * 100.0).round() as u8) > cap {
            format!(", at most {cap}")
        } else {
            String::new()
        };
        let why = if self.votes == 0.0 {
            format!(
                "confidence {confidence}% for {}: no personal address to vote, only how common \
                 the pattern is ({:.0}% of companies){capped}",
                p.name(),
                p.prior() * 100.0
            )
        } else {
            format!(
                "confidence {confidence}% for {}: ({PRIOR_STRENGTH} × {:.0}% (how common it is) \
                 + {own:.1} of its votes) / ({PRIOR_STRENGTH} + {:.1} votes){capped}",
                p.name(),
                p.prior() * 100.0,
                self.votes
            )
        };
        (confidence, why)
    }
}

/// What hailer suggests for one person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub email: String,
    pub alternatives: Vec<String>,
    pub pattern: String,
    pub confidence: u8,
    pub evidence: Vec<String>,
}

/// Patterns that spell both the whole first name and the whole last name: an address read
/// this way names one person. The others (initials, first or last alone) fit namesakes too.
fn spells_full_name(p: Pattern) -> bool {
    matches!(
        p,
        Pattern::FirstDotLast
            | Pattern::FirstLast
            | Pattern::FirstUnderLast
            | Pattern::FirstDashLast
            | Pattern::LastDotFirst
            | Pattern::LastFirst
    )
}

/// Up to three other spellings of `name` at `domain`, best pattern first, beside a known
/// address (`chosen`).
fn alternatives(name: &Name, domain: &str, inf: &Inference, chosen: &str) -> Vec<String> {
    inf.ranking
        .iter()
        .map(|(p, _)| format!("{}@{domain}", name.render(*p)))
        .filter(|e| *e != chosen)
        .take(3)
        .collect()
}

/// The suggestion for a person whose own address at `domain` the import gave (`email`, seen
/// as `seen`): that address, whatever it spells. Initials in it (p.martin) would, for anyone
/// else, be only evidence of the pattern; for the person it was imported for, it is theirs.
pub fn own_address(name: &Name, email: &str, inf: &Inference, seen: &Seen) -> Suggestion {
    let email = email.to_ascii_lowercase();
    let (local, domain) = email.split_once('@').unwrap_or((&email, ""));
    let pattern = name
        .patterns_of(local)
        .first()
        .map_or("as imported", |p| p.name())
        .to_string();
    let evidence = own_address_evidence(
        format!("confidence {MAX_CONFIDENCE}%: the address given for this person"),
        format!(
            "{email} is {}: the address {} for this person",
            seen.where_found(),
            if seen.source.starts_with("typed in") {
                "the user typed in"
            } else {
                "the import gave"
            }
        ),
        inf,
    );
    let alternatives = alternatives(name, domain, inf, &email);
    Suggestion {
        email,
        alternatives,
        pattern,
        confidence: MAX_CONFIDENCE,
        evidence,
    }
}

/// Suggest an address for `name` at `domain`, given the company's inferred pattern.
/// An address published for this very person (spelling the full first and last name) wins
/// outright; one spelled with initials is only evidence for the pattern.
pub fn suggest(name: &Name, domain: &str, inf: &Inference, seen: &[Seen]) -> Suggestion {
    let domain = domain.to_ascii_lowercase();
    let mut namesakes: Vec<String> = Vec::new();
    for s in seen {
        let email = s.email.to_ascii_lowercase();
        if let Some((local, d)) = email.split_once('@')
            && super::domain::same_company(d, &domain)
            && !is_role(local)
        {
            let all = name.patterns_of(local);
            // Only full-name spellings identify the person (not initials, `first` or `last`,
            // nor one word of a compound name: jean.dupont may be Jean, not Jean-Marc).
            let ps: Vec<Pattern> = all
                .iter()
                .copied()
                .filter(|p| name.spells_whole_name(local, *p))
                .collect();
            if ps.is_empty() {
                // The votes already name whose it is (another prospect's, read exactly):
                // saying it "may belong to someone else" too would contradict that line.
                let owner_known = inf
                    .evidence
                    .iter()
                    .any(|l| l.starts_with(&format!("{email} (")) && l.contains(") is "));
                if let Some(p) = all
                    .iter()
                    .find(|p| !matches!(p, Pattern::First | Pattern::Last))
                    && !owner_known
                    && !namesakes
                        .iter()
                        .any(|n| n.starts_with(&format!("{email} ")))
                {
                    namesakes.push(format!(
                        "{email} ({}) fits {} {} as {}, but may belong to someone else {}: evidence for the pattern, not this person's own address",
                        s.where_found(),
                        name.first.join("-"),
                        name.last.join(" "),
                        p.name(),
                        if spells_full_name(*p) {
                            "(it spells only part of a compound name)"
                        } else {
                            "with the same initials"
                        }
                    ));
                }
                continue;
            }
            let evidence = own_address_evidence(
                format!(
                    "confidence {MAX_CONFIDENCE}%: published for this person (it spells the \
                     whole name)"
                ),
                format!("{email} is {}", s.where_found()),
                inf,
            );
            let alternatives = alternatives(name, &domain, inf, &email);
            return Suggestion {
                email,
                alternatives,
                pattern: ps[0].name().to_string(),
                confidence: MAX_CONFIDENCE,
                evidence,
            };
        }
    }
    let mut addresses: Vec<String> = Vec::new();
    let top = inf.ranking.first().map_or(inf.pattern, |(p, _)| *p);
    // Known addresses that keep surname particles hyphenated (marie.de-la-tour): the
    // compound surname follows them (jean.de-la-fontaine), the glued form next.
    let hyphenated = name
        .has_particles()
        .then(|| hyphenated_particles(seen, &domain))
        .flatten();
    // A pattern that writes no surname, or only its initial (first, first.l), has no
    // particles to hyphenate: its address is the pattern's own, labelled as such below.
    if let Some(example) = &hyphenated
        && name.render_with_last(top, &name.last.join("-")) != name.render(top)
    {
        let a = format!(
            "{}@{domain}",
            name.render_with_last(top, &name.last.join("-"))
        );
        namesakes.push(format!(
            "{a}: {} with the surname's particles hyphenated, as in {example}",
            top.name()
        ));
        addresses.push(a);
    }
    for (p, _) in &inf.ranking {
        let a = format!("{}@{domain}", name.render(*p));
        if !addresses.contains(&a) {
            addresses.push(a);
        }
        if addresses.len() == 4 {
            break;
        }
    }
    // A compound first name is spelled several ways (Jean-Pierre: jean-pierre, jeanpierre,
    // jp): the spelling a known address at the domain shows for another compound name
    // leads; without one, the other spelling is the first alternative.
    if let Some((variant, how)) = name.compound_variant(top) {
        let a = format!("{variant}@{domain}");
        let shown_by = compound_spelling_seen(seen, &domain, top, how);
        if !addresses.contains(&a) {
            match &shown_by {
                Some(example) => {
                    addresses.insert(0, a.clone());
                    namesakes.push(format!(
                        "{a}: the compound first name {how}, as in {example}"
                    ));
                }
                None => {
                    addresses.insert(1.min(addresses.len()), a.clone());
                    namesakes.push(format!(
                        "{a} among the alternatives: a compound first name is also written \
                         {how}, and no address at {domain} shows which spelling it uses"
                    ));
                }
            }
            addresses.truncate(4);
        }
    }
    // A double surname: the first one alone among the alternatives (second place).
    if name.double_surname() {
        let a = format!("{}@{domain}", name.render_with_last(top, &name.last[0]));
        if !addresses.contains(&a) {
            addresses.insert(2.min(addresses.len()), a.clone());
            addresses.truncate(4);
            namesakes.push(format!(
                "{a} among the alternatives: a double surname is often written with the first \
                 one alone"
            ));
        }
    }
    namesakes.extend(inf.evidence.iter().cloned());
    Suggestion {
        email: addresses[0].clone(),
        alternatives: addresses[1..].to_vec(),
        pattern: inf.pattern.name().to_string(),
        confidence: inf.confidence,
        evidence: namesakes,
    }
}

/// The first known address at `domain` that writes someone's compound first name `how`
/// (`joined`, `hyphenated` or `both initials`) under pattern `p`, if any.
fn compound_spelling_seen(seen: &[Seen], domain: &str, p: Pattern, how: &str) -> Option<String> {
    seen.iter().find_map(|s| {
        let email = s.email.to_ascii_lowercase();
        let (local, d) = email.split_once('@')?;
        if !super::domain::same_company(d, domain) || is_role(local) {
            return None;
        }
        let first = match p {
            Pattern::FDotLast => local.split_once('.')?.0,
            Pattern::FirstDotLast | Pattern::FirstDotL => local.split_once('.')?.0,
            Pattern::FirstUnderLast => local.split_once('_')?.0,
            Pattern::LastDotFirst | Pattern::LDotFirst => local.rsplit_once('.')?.1,
            Pattern::First => local,
            _ => return None,
        };
        let fits = match how {
            "both initials" => {
                let c: Vec<char> = first.chars().collect();
                c.len() == 2 && !names::is_given_name(first) && !is_onset(c[0], c[1])
            }
            "joined" => is_joined_given_names(first),
            _ => first.contains('-') && first.split('-').all(names::is_given_name),
        };
        fits.then(|| email.clone())
    })
}

/// The first known address at `domain` whose surname keeps a particle hyphenated to the
/// rest (`marie.de-la-tour`, `paul.le-gall`), if any.
fn hyphenated_particles(seen: &[Seen], domain: &str) -> Option<String> {
    seen.iter().find_map(|s| {
        let email = s.email.to_ascii_lowercase();
        let (local, d) = email.split_once('@')?;
        if !super::domain::same_company(d, domain) || is_role(local) {
            return None;
        }
        local
            .split(['.', '_'])
            .skip(1)
            .any(|part| {
                part.split_once('-')
                    .is_some_and(|(head, rest)| PARTICLES.contains(&head) && !rest.is_empty())
            })
            .then(|| email.clone())
    })
}

/// `hailer guess`: no database, no network. `domain` is normalised (`www.`, a URL's scheme
/// and path dropped); `known` addresses count when at the company's domain (see
/// [`super::domain::same_company`]).
pub fn guess(first: &str, last: &str, domain: &str, known: &[String]) -> Option<Suggestion> {
    let name = Name::new(first, last)?;
    let raw = domain.trim().trim_start_matches('@');
    let domain = crate::engine::import::normalize::normalize_domain(raw)
        .unwrap_or_else(|| raw.to_lowercase());
    let seen: Vec<Seen> = known
        .iter()
        .map(|e| e.trim().to_lowercase())
        .filter(|e| {
            e.rsplit_once('@')
                .is_some_and(|(_, d)| super::domain::same_company(d, &domain))
        })
        .map(|email| Seen {
            email,
            source: "--known".into(),
        })
        .collect();
    let inf = infer(&seen, &[]);
    Some(suggest(&name, &domain, &inf, &seen))
}

#[cfg(test)]
mod tests;
