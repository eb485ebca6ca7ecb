//! The user's own choice of address on a suggestion: `c` in the TUI shows the next
//! alternative (browsing: the row stays `suggested` until `a` accepts it), `e` types one in
//! (the user's own address: `edited`, used as accepted). The pattern, confidence and evidence shown must then be
//! those of the address chosen, not of hailer's first guess, which stays in the evidence so
//! the choice can be compared with it (and restored when cycling comes back to it).

use rusqlite::{Connection, OptionalExtension};

use super::pattern::{Inference, Name, Pattern};
use crate::store::{Result, suggestions as db};

/// Evidence lines this module writes start with one of these; a new choice replaces them.
const CHOSEN: &str = "chosen by hand: ";
const GUESS: &str = "hailer's guess was ";
const VERIFIED: &str = "suggested after verification: ";

/// Who put the address on the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    /// The user (`c`, `e`).
    Hand,
    /// A verification: the first choice was dead and this alternative verified VALID. The
    /// probe is stronger evidence than the pattern votes, so the row keeps at least the
    /// first choice's confidence.
    Verification,
}

/// Swap the address with the first alternative (the old address goes last). The row is
/// `suggested` afterwards, even if it was accepted: looking at an alternative never commits
/// it. Returns `None` when the prospect has no address or no alternative, else the outbox
/// rows held for being built for the address in use before (see [`Chosen`]).
pub fn next_alternative(conn: &Connection, prospect_id: i64, now: i64) -> Result<Chosen> {
    let Some(mut cur) = db::current(conn, prospect_id)? else {
        return Ok(None);
    };
    let Some(email) = cur.email.take() else {
        return Ok(None);
    };
    if cur.alternatives.is_empty() {
        cur.email = Some(email);
        return Ok(None);
    }
    let next = cur.alternatives.remove(0);
    cur.alternatives.push(email.clone());
    choose(
        conn,
        prospect_id,
        cur,
        &email,
        next,
        "next alternative (c), not accepted until a",
        db::ChoiceStatus::Suggested,
        By::Hand,
        now,
    )
}

/// After a verification: the first choice `first` was verified `first_verdict` (dead) and
/// the alternative `alt` verified VALID, so `alt` becomes the suggestion (still `suggested`:
/// the user accepts it) and the dead address goes last among the alternatives. False when
/// the row changed since (another address, accepted, typed).
pub fn promote_verified(
    conn: &Connection,
    prospect_id: i64,
    first: &str,
    first_verdict: &str,
    alt: &str,
    now: i64,
) -> Result<bool> {
    let Some(mut cur) = db::current(conn, prospect_id)? else {
        return Ok(false);
    };
    let still_suggested: bool = conn
        .query_row(
            "SELECT status = 'suggested' FROM suggestions WHERE prospect_id = ?1",
            [prospect_id],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(false);
    if cur.email.as_deref() != Some(first) || !still_suggested {
        return Ok(false);
    }
    cur.email = None;
    cur.alternatives.retain(|a| a != alt && a != first);
    cur.alternatives.push(first.to_string());
    // A `suggested` row is no address in use: nothing of the outbox is held.
    Ok(choose(
        conn,
        prospect_id,
        cur,
        first,
        alt.to_string(),
        &format!("first choice {first} verified {first_verdict}; {alt} verified VALID"),
        db::ChoiceStatus::Suggested,
        By::Verification,
        now,
    )?
    .is_some())
}

/// What a hand choice did: `None` when there was nothing to change (no such prospect, no
/// alternative), else the ids of the outbox rows it held: READY or RETRY rows built for the
/// address in use before, now ERROR until a rebuild (`store::outbox::hold_changed_addresses`).
pub type Chosen = Option<Vec<i64>>;

/// What [`set_typed`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Typed {
    /// Set; `adopted`: the company had no domain and now has the address's; `held`: the
    /// outbox rows built for the address it replaced (see [`Chosen`]).
    Set { adopted: bool, held: Vec<i64> },
    /// Not set: the domain is known to take no mail (why), and the user did not insist.
    TakesNoMail(String),
    /// No such prospect.
    NoProspect,
}

/// `e` on Suggestions and `hailer suggestions set`: the address the user typed, refused at a
/// domain known to take no mail unless `force`, and the domain a company without one learns
/// from it. Call it inside a transaction: the address and the company's domain go together.
pub fn set_typed(
    conn: &Connection,
    prospect_id: i64,
    email: &str,
    force: bool,
    now: i64,
) -> Result<Typed> {
    let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
    if !force && let Some(why) = db::takes_no_mail(conn, domain)? {
        return Ok(Typed::TakesNoMail(why));
    }
    let Some(held) = set_address(conn, prospect_id, email, now)? else {
        return Ok(Typed::NoProspect);
    };
    let adopted = db::adopt_company_domain(conn, prospect_id, domain, now)?;
    Ok(Typed::Set { adopted, held })
}

/// The address the user typed for this prospect. The address it replaces becomes the first
/// alternative, so `c` brings it back; the typed one leaves the alternatives.
pub fn set_address(conn: &Connection, prospect_id: i64, email: &str, now: i64) -> Result<Chosen> {
    let Some(mut cur) = db::current(conn, prospect_id)? else {
        return Ok(None);
    };
    let old = cur.email.take().unwrap_or_default();
    let email = email.trim().to_ascii_lowercase();
    cur.alternatives.retain(|a| *a != email && *a != old);
    if !old.is_empty() && old != email {
        cur.alternatives.insert(0, old.clone());
    }
    choose(
        conn,
        prospect_id,
        cur,
        &old,
        email,
        "typed in (e)",
        db::ChoiceStatus::Edited,
        By::Hand,
        now,
    )
}

#[allow(clippy::too_many_arguments)]
fn choose(
    conn: &Connection,
    prospect_id: i64,
    mut cur: db::Current,
    old: &str,
    email: String,
    how: &str,
    status: db::ChoiceStatus,
    by: By,
    now: i64,
) -> Result<Chosen> {
    // hailer's own guess: recorded by an earlier choice, or the address being replaced.
    let kept: Vec<String> = cur
        .evidence
        .iter()
        .filter(|l| !l.starts_with(CHOSEN) && !l.starts_with(GUESS) && !l.starts_with(VERIFIED))
        .cloned()
        .collect();
    let guess = cur
        .evidence
        .iter()
        .find_map(|l| Guess::parse(l))
        .map_or_else(
            || -> Result<Guess> {
                Ok(Guess {
                    email: old.to_string(),
                    pattern: cur.pattern.clone(),
                    confidence: cur.confidence,
                    // Its verdict stays on record when the address shown changes.
                    verified: crate::store::verifications::get(conn, old)?.map(|v| v.status),
                })
            },
            Ok,
        )?;
    cur.evidence = kept;
    if email == guess.email {
        // Back to hailer's guess: its own reading holds again.
        cur.pattern = guess.pattern;
        cur.confidence = guess.confidence;
    } else {
        let (pattern, confidence, why) = reading(conn, &cur, &email)?;
        cur.pattern = pattern.map(|p| p.name().to_string());
        cur.confidence = confidence;
        // With no address before (find made none yet), there is no guess to remember.
        if !guess.email.is_empty() {
            cur.evidence.insert(0, guess.line());
        }
        match by {
            By::Hand => cur
                .evidence
                .insert(0, format!("{CHOSEN}{email}, {how}: {why}")),
            By::Verification => {
                cur.confidence = confidence.max(guess.confidence);
                cur.evidence.insert(
                    0,
                    format!(
                        "{VERIFIED}{how}; confidence {}% (the probe, not the pattern: {why})",
                        cur.confidence
                    ),
                );
            }
        }
    }
    cur.email = Some(email);
    if !db::set_choice(conn, prospect_id, &cur, status, now)? {
        return Ok(None);
    }
    // An outbox row built (perhaps approved) for the address replaced must not go out.
    Ok(Some(crate::store::outbox::hold_changed_addresses(
        conn,
        &[prospect_id],
        now,
    )?))
}

/// The pattern `email` follows for this person, and the confidence the company's pattern
/// votes give that pattern (as for hailer's own guess).
fn reading(
    conn: &Connection,
    cur: &db::Current,
    email: &str,
) -> Result<(Option<Pattern>, u8, String)> {
    let (local, domain) = email.rsplit_once('@').unwrap_or((email, ""));
    let name = Name::new(&cur.firstname, &cur.lastname);
    let Some(pattern) = name.and_then(|n| n.patterns_of(local).into_iter().next()) else {
        return Ok((None, 0, format!("{local} is not a spelling of the name")));
    };
    if cur.domain.as_deref() != Some(domain) {
        return Ok((
            Some(pattern),
            0,
            format!(
                "{} at {domain}, not the company's domain {}",
                pattern.name(),
                cur.domain.as_deref().unwrap_or("(none found)")
            ),
        ));
    }
    let inference =
        db::last_inference(conn, domain)?.and_then(|j| serde_json::from_str::<Inference>(&j).ok());
    let Some(inf) = inference else {
        return Ok((
            Some(pattern),
            0,
            format!("{}; no pattern votes known for {domain}", pattern.name()),
        ));
    };
    let (confidence, why) = inf.confidence_of(pattern);
    Ok((Some(pattern), confidence, format!("{domain}'s {why}")))
}

/// hailer's guess as one evidence line, which `parse` reads back.
#[derive(Debug, Clone, PartialEq)]
struct Guess {
    email: String,
    pattern: Option<String>,
    confidence: u8,
    verified: Option<String>,
}

impl Guess {
    fn line(&self) -> String {
        format!(
            "{GUESS}{} ({}, {}%){}",
            self.email,
            self.pattern.as_deref().unwrap_or("no pattern"),
            self.confidence,
            self.verified
                .as_deref()
                .map(|v| format!(", verified {v}"))
                .unwrap_or_default()
        )
    }

    fn parse(line: &str) -> Option<Guess> {
        let rest = line.strip_prefix(GUESS)?;
        let (email, rest) = rest.split_once(" (")?;
        let (reading, after) = rest.split_once("%)")?;
        let (pattern, confidence) = reading.rsplit_once(", ")?;
        let verified = match after {
            "" => None,
            v => Some(v.strip_prefix(", verified ")?.to_string()),
        };
        Some(Guess {
            email: email.to_string(),
            pattern: (pattern != "no pattern").then(|| pattern.to_string()),
            confidence: confidence.parse().ok()?,
            verified,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::find::pattern::{Seen, infer, suggest};
    use crate::store::Store;

    /// A store with Jean Dupont at Acme (acme.test), whose site published two first.last
    /// addresses, and hailer's suggestion for him as `hailer find` writes it.
    fn store_with_suggestion() -> (tempfile::TempDir, Store, db::Current) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        store
            .conn()
            .execute_batch(
                "INSERT INTO companies (key, name, domain, updated_at) VALUES ('acme', 'Acme', 'acme.test', 0);
                 INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
                   VALUES (1, 'Jean', 'Dupont', 'Acme', 'acme', 'jean|dupont', 0);",
            )
            .unwrap();
        let seen: Vec<Seen> = ["marie.curie@acme.test", "paul.martin@acme.test"]
            .iter()
            .map(|e| Seen {
                email: e.to_string(),
                source: "https://acme.test/team".into(),
            })
            .collect();
        let inf = infer(&seen, &[]);
        let s = suggest(
            &Name::new("Jean", "Dupont").unwrap(),
            "acme.test",
            &inf,
            &seen,
        );
        db::put_pattern(
            store.conn(),
            &db::PatternRow {
                domain: "acme.test",
                pattern: inf.pattern.name(),
                confidence: inf.confidence,
                evidence: &inf.evidence,
                inputs: "",
                inference_json: &serde_json::to_string(&inf).unwrap(),
            },
            0,
        )
        .unwrap();
        db::upsert(
            store.conn(),
            &db::NewSuggestion {
                prospect_id: 1,
                email: Some(&s.email),
                alternatives: &s.alternatives,
                pattern: Some(&s.pattern),
                confidence: s.confidence,
                evidence: &s.evidence,
                status: "suggested",
                reason: None,
            },
            false,
            0,
        )
        .unwrap();
        let cur = db::current(store.conn(), 1).unwrap().unwrap();
        (dir, store, cur)
    }

    /// `c` shows the chosen alternative's own pattern and confidence, says what hailer had
    /// guessed, and coming back round to the guess restores its reading.
    #[test]
    fn cycling_alternatives_describes_the_address_chosen() {
        let (_dir, store, guess) = store_with_suggestion();
        assert_eq!(guess.email.as_deref(), Some("jean.dupont@acme.test"));
        assert_eq!(guess.pattern.as_deref(), Some("first.last"));
        let n = guess.alternatives.len();
        assert!(n >= 2, "{:?}", guess.alternatives);

        assert!(next_alternative(store.conn(), 1, 1).unwrap().is_some());
        let now = db::current(store.conn(), 1).unwrap().unwrap();
        let email = now.email.clone().unwrap();
        assert_eq!(email, guess.alternatives[0]);
        assert_ne!(now.pattern, guess.pattern);
        let local = email.split('@').next().unwrap();
        let read = Name::new("Jean", "Dupont").unwrap().patterns_of(local);
        assert_eq!(now.pattern.as_deref(), Some(read[0].name()));
        assert!(now.confidence < guess.confidence, "{now:?}");
        assert!(now.evidence[0].starts_with(&format!("{CHOSEN}{email}")));
        assert_eq!(
            Guess::parse(&now.evidence[1]),
            Some(Guess {
                email: "jean.dupont@acme.test".into(),
                pattern: Some("first.last".into()),
                confidence: guess.confidence,
                verified: None,
            })
        );
        // The site's evidence is still there, once.
        assert_eq!(&now.evidence[2..], &guess.evidence[..]);

        // Round the ring: back to the guess, its reading and evidence as they were.
        for _ in 0..n {
            assert!(next_alternative(store.conn(), 1, 2).unwrap().is_some());
        }
        let back = db::current(store.conn(), 1).unwrap().unwrap();
        assert_eq!(back.email, guess.email);
        assert_eq!(back.pattern, guess.pattern);
        assert_eq!(back.confidence, guess.confidence);
        assert_eq!(back.evidence, guess.evidence);
    }

    /// `e` before find made any suggestion for the prospect stores the address (it was
    /// dropped without a word), read against the name and the company's cached votes.
    #[test]
    fn a_typed_address_is_kept_when_find_made_no_suggestion() {
        let (_dir, store, _) = store_with_suggestion();
        store
            .conn()
            .execute(
                "INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
                 VALUES (2, 'Anne', 'Martin', 'Acme', 'acme', 'anne|martin', 0)",
                [],
            )
            .unwrap();
        assert_eq!(db::current(store.conn(), 2).unwrap().unwrap().email, None);
        assert!(
            set_address(store.conn(), 2, "anne.martin@acme.test", 1)
                .unwrap()
                .is_some()
        );
        let now = db::current(store.conn(), 2).unwrap().unwrap();
        assert_eq!(now.email.as_deref(), Some("anne.martin@acme.test"));
        assert_eq!(now.pattern.as_deref(), Some("first.last"));
        assert!(now.confidence > 50, "{now:?}");
        assert_eq!(now.evidence.len(), 1, "no guess to recall: {now:?}");
        assert!(
            set_address(store.conn(), 99, "x@acme.test", 1)
                .unwrap()
                .is_none()
        );
    }

    /// An address typed in that is no spelling of the name, or at another domain, gets no
    /// confidence, and the evidence says why.
    #[test]
    fn a_typed_address_is_read_against_the_name_and_domain() {
        let (_dir, store, guess) = store_with_suggestion();
        assert!(
            set_address(store.conn(), 1, "Sales@acme.test", 1)
                .unwrap()
                .is_some()
        );
        let now = db::current(store.conn(), 1).unwrap().unwrap();
        assert_eq!(now.email.as_deref(), Some("sales@acme.test"));
        assert_eq!((now.pattern.as_deref(), now.confidence), (None, 0));
        assert!(
            now.evidence[0].contains("not a spelling of the name"),
            "{now:?}"
        );

        assert!(
            set_address(store.conn(), 1, "jdupont@other.test", 2)
                .unwrap()
                .is_some()
        );
        let now = db::current(store.conn(), 1).unwrap().unwrap();
        assert_eq!((now.pattern.as_deref(), now.confidence), (Some("flast"), 0));
        assert!(now.evidence[0].contains("not the company's domain acme.test"));
        // Still one record of hailer's guess, the first one.
        let guesses: Vec<_> = now
            .evidence
            .iter()
            .filter_map(|l| Guess::parse(l))
            .collect();
        assert_eq!(guesses.len(), 1);
        assert_eq!(Some(guesses[0].email.clone()), guess.email);
    }

    /// A typed address puts hailer's guess first among the alternatives (it was lost, and
    /// `c` could never come back to it) and leaves the alternatives itself.
    #[test]
    fn a_typed_address_keeps_the_guess_as_the_next_alternative() {
        let (_dir, store, guess) = store_with_suggestion();
        let typed = guess.alternatives[0].clone();
        assert!(set_address(store.conn(), 1, &typed, 1).unwrap().is_some());
        let now = db::current(store.conn(), 1).unwrap().unwrap();
        assert_eq!(now.email.as_deref(), Some(typed.as_str()));
        assert_eq!(now.alternatives[0], "jean.dupont@acme.test");
        assert!(!now.alternatives.contains(&typed), "{now:?}");
        assert_eq!(now.alternatives.len(), guess.alternatives.len());
        // c: back to the guess, with its own reading.
        assert!(next_alternative(store.conn(), 1, 2).unwrap().is_some());
        let back = db::current(store.conn(), 1).unwrap().unwrap();
        assert_eq!(back.email, guess.email);
        assert_eq!(back.confidence, guess.confidence);
    }

    /// A row `c` chose while `c` still accepted (status `edited`, in an older database) is
    /// hailer's own guess: find must not read it back as an address the user typed.
    #[test]
    fn an_old_c_choice_is_not_read_as_a_typed_address() {
        let (_dir, store, _) = store_with_suggestion();
        let c = store.conn();
        c.execute(
            "UPDATE suggestions SET status = 'edited', email = 'jdupont@acme.test',
             evidence = '[\"jdupont@acme.test: next alternative (c)\"]' WHERE prospect_id = 1",
            [],
        )
        .unwrap();
        assert!(
            crate::store::suggestions::typed_addresses(c)
                .unwrap()
                .is_empty()
        );
        assert!(set_address(c, 1, "jean.d@acme.test", 2).unwrap().is_some());
        assert_eq!(
            crate::store::suggestions::typed_addresses(c)
                .unwrap()
                .get(&1)
                .map(String::as_str),
            Some("jean.d@acme.test")
        );
    }

    /// Browsing away from a guess verified dead keeps its verdict in the evidence (it was
    /// lost: the row no longer showed why the guess was left), and the row stays suggested.
    #[test]
    fn the_guess_keeps_its_verdict_when_an_alternative_is_shown() {
        let (_dir, store, _) = store_with_suggestion();
        crate::store::verifications::upsert(
            store.conn(),
            &crate::store::verifications::VerificationRow {
                email: "jean.dupont@acme.test".into(),
                status: "MAILBOX_NOT_FOUND".into(),
                mx: None,
                code: Some(550),
                enhanced: None,
                detail: "User unknown".into(),
                checked_at: 1,
            },
        )
        .unwrap();
        assert!(next_alternative(store.conn(), 1, 2).unwrap().is_some());
        let now = db::current(store.conn(), 1).unwrap().unwrap();
        let guess = now.evidence.iter().find_map(|l| Guess::parse(l)).unwrap();
        assert_eq!(guess.verified.as_deref(), Some("MAILBOX_NOT_FOUND"));
        let status: String = store
            .conn()
            .query_row(
                "SELECT status FROM suggestions WHERE prospect_id = 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(status, "suggested");
    }

    #[test]
    fn a_guess_line_reads_back() {
        for g in [
            Guess {
                email: "jean.dupont@acme.test".into(),
                pattern: Some("first.last".into()),
                confidence: 84,
                verified: None,
            },
            Guess {
                email: "x@acme.test".into(),
                pattern: None,
                confidence: 0,
                verified: Some("MAILBOX_NOT_FOUND".into()),
            },
        ] {
            assert_eq!(Guess::parse(&g.line()), Some(g));
        }
        assert_eq!(Guess::parse("pattern votes: first.last 2.0"), None);
    }
}
