//! Versioned migrations, tracked with `PRAGMA user_version`.
//!
//! Each entry runs once, in order, inside one transaction. Later features append entries;
//! an entry is never edited once released, because existing databases already ran it.

use std::path::Path;

use rusqlite::Connection;

use super::{Result, StoreError};

pub const MIGRATIONS: &[&str] = &[
    // 1: companies, prospects, messages, and an import audit log.
    "CREATE TABLE companies (
        key           TEXT PRIMARY KEY,        -- normalised company key (import::company_key)
        name          TEXT NOT NULL,           -- display name, as first imported
        domain        TEXT,                    -- registrable domain, lowercase
        domain_source TEXT,                    -- import | search | guess | manual
        domain_note   TEXT,                    -- evidence for the domain
        updated_at    INTEGER NOT NULL
    );
    CREATE TABLE imports (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL,             -- prospects | messages
        file        TEXT NOT NULL,
        sheet       TEXT,
        imported    INTEGER NOT NULL,
        duplicates  INTEGER NOT NULL,
        rejected    INTEGER NOT NULL,
        replaced    INTEGER NOT NULL DEFAULT 0,
        created_at  INTEGER NOT NULL
    );
    CREATE TABLE prospects (
        id          INTEGER PRIMARY KEY,
        firstname   TEXT NOT NULL,
        lastname    TEXT NOT NULL,
        company     TEXT NOT NULL,
        company_key TEXT NOT NULL REFERENCES companies(key),
        person_key  TEXT NOT NULL,             -- folded 'first|last' for duplicate detection
        email       TEXT,
        title       TEXT,
        domain      TEXT,
        extra       TEXT NOT NULL DEFAULT '{}', -- other columns, JSON object header -> value
        import_id   INTEGER REFERENCES imports(id),
        source_row  INTEGER,
        created_at  INTEGER NOT NULL,
        UNIQUE (person_key, company_key)
    );
    CREATE INDEX prospects_company ON prospects(company_key);
    CREATE TABLE messages (
        id          INTEGER PRIMARY KEY,
        company     TEXT NOT NULL,
        company_key TEXT NOT NULL UNIQUE REFERENCES companies(key),
        subject     TEXT NOT NULL,
        body        TEXT NOT NULL,
        extra       TEXT NOT NULL DEFAULT '{}',
        import_id   INTEGER REFERENCES imports(id),
        source_row  INTEGER,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    );",
    // 2: the outbox (one row per prospect), the suppression list, per-mailbox daily counters.
    "CREATE TABLE outbox (
        id           INTEGER PRIMARY KEY,
        prospect_id  INTEGER NOT NULL UNIQUE REFERENCES prospects(id) ON DELETE CASCADE,
        message_id   INTEGER REFERENCES messages(id) ON DELETE SET NULL,
        email        TEXT,                   -- lowercase-domain address, NULL when none
        company_key  TEXT NOT NULL,
        subject      TEXT NOT NULL DEFAULT '',
        body         TEXT NOT NULL DEFAULT '', -- rendered Markdown/plain text
        status       TEXT NOT NULL,          -- READY ERROR SKIPPED SENDING SENT RETRY UNCERTAIN
        reason       TEXT,                   -- why ERROR / RETRY / UNCERTAIN
        approved     INTEGER NOT NULL DEFAULT 0,
        edited       INTEGER NOT NULL DEFAULT 0, -- subject/body edited by hand: rebuilds keep them
        mailbox      TEXT,
        header_message_id TEXT UNIQUE,
        attempts     INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        smtp_reply   TEXT,
        sent_at      INTEGER,
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL
    );
    CREATE INDEX outbox_status ON outbox(status);
    CREATE INDEX outbox_email ON outbox(email);
    CREATE TABLE suppressions (
        entry      TEXT PRIMARY KEY,         -- lowercase address, or @domain for a whole domain
        cause      TEXT NOT NULL,            -- manual bounced unsubscribed complained replied
        note       TEXT,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE mailbox_days (
        mailbox TEXT NOT NULL,
        day     TEXT NOT NULL,               -- YYYY-MM-DD in the mailbox's time zone
        sent    INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (mailbox, day)
    );",
    // 3: tracking events (opens, clicks, unsubscribes), recorded by `hailer serve`.
    "CREATE TABLE tracking_events (
        id         INTEGER PRIMARY KEY,
        outbox_id  INTEGER NOT NULL,
        kind       TEXT NOT NULL,            -- OPEN CLICK UNSUBSCRIBE
        url        TEXT,
        user_agent TEXT,
        machine    INTEGER NOT NULL DEFAULT 0, -- image proxy, prefetcher or scanner
        created_at INTEGER NOT NULL
    );
    CREATE INDEX tracking_events_outbox ON tracking_events(outbox_id, kind);",
    // 4: the latest verification verdict per address (engine::verify), also its cache.
    "CREATE TABLE verifications (
        email       TEXT PRIMARY KEY,          -- the address as verified (prospects.email, ...)
        status      TEXT NOT NULL,             -- VALID CATCH_ALL MAILBOX_NOT_FOUND ... UNKNOWN
        mx          TEXT,                      -- MX host whose answer decided, or the last tried
        code        INTEGER,                   -- SMTP reply code
        enhanced    TEXT,                      -- enhanced status code, e.g. 5.1.1
        detail      TEXT NOT NULL DEFAULT '',  -- reply text or the reason
        checked_at  INTEGER NOT NULL
    );
    CREATE INDEX verifications_status ON verifications(status);",
    // 5: find emails: one suggestion per prospect, and caches with their own timestamps.
    "CREATE TABLE suggestions (
        prospect_id  INTEGER PRIMARY KEY REFERENCES prospects(id) ON DELETE CASCADE,
        email        TEXT,                     -- suggested address (NULL when none could be made)
        alternatives TEXT NOT NULL DEFAULT '[]', -- JSON array of up to 3 addresses
        pattern      TEXT,                     -- first.last, flast, ... (pattern::Pattern::name)
        confidence   INTEGER NOT NULL DEFAULT 0, -- 0..100
        evidence     TEXT NOT NULL DEFAULT '[]', -- JSON array of human-readable lines
        status       TEXT NOT NULL,            -- suggested | accepted | edited | no-domain | no-mail | failed
        reason       TEXT,                     -- why there is no (good) suggestion
        updated_at   INTEGER NOT NULL
    );
    CREATE TABLE find_domains (
        company_key  TEXT PRIMARY KEY,
        domain       TEXT,                     -- NULL: none found
        source       TEXT,                     -- import | search | guess | manual
        note         TEXT NOT NULL,
        mail_dns     TEXT NOT NULL,            -- what DNS said (MX hosts, null MX, ...)
        accepts_mail INTEGER NOT NULL,
        checked_at   INTEGER NOT NULL
    );
    CREATE TABLE find_sites (
        domain      TEXT PRIMARY KEY,
        report      TEXT NOT NULL,             -- JSON site::SiteReport: pages and addresses seen
        fetched_at  INTEGER NOT NULL
    );
    CREATE TABLE find_patterns (
        domain      TEXT PRIMARY KEY,
        pattern     TEXT NOT NULL,
        confidence  INTEGER NOT NULL,
        evidence    TEXT NOT NULL,             -- JSON array
        updated_at  INTEGER NOT NULL
    );",
    // 6: no query looks prospects up by company key alone (they are read in id order and
    // joined to companies by the companies' key), and every import paid for this index.
    "DROP INDEX IF EXISTS prospects_company;",
    // 7: the IMAP watcher (engine::inbox): where each folder was read up to, every message read
    // (once, whatever the restarts), and the bounces and complaints found.
    "CREATE TABLE inbox_folders (
        mailbox      TEXT NOT NULL,            -- [mailboxes.NAME]
        folder       TEXT NOT NULL,
        uidvalidity  INTEGER NOT NULL,
        last_uid     INTEGER NOT NULL DEFAULT 0, -- every UID up to this one was read
        synced_at    INTEGER NOT NULL,
        PRIMARY KEY (mailbox, folder)
    );
    CREATE TABLE inbox_messages (
        id           INTEGER PRIMARY KEY,
        mailbox      TEXT NOT NULL,
        folder       TEXT NOT NULL,
        uidvalidity  INTEGER NOT NULL,
        uid          INTEGER NOT NULL,
        message_key  TEXT NOT NULL,            -- Message-ID, else 'sha256:' of the bytes
        kind         TEXT NOT NULL,            -- bounce autoreply feedback reply other duplicate
        outbox_id    INTEGER,                  -- the sent row it is about, when matched
        from_addr    TEXT,
        subject      TEXT NOT NULL DEFAULT '',
        moved_to     TEXT,                     -- folder hailer moved it to
        processed_at INTEGER NOT NULL,
        UNIQUE (mailbox, folder, uidvalidity, uid)
    );
    CREATE INDEX inbox_messages_key ON inbox_messages(message_key);
    CREATE TABLE bounces (
        id           INTEGER PRIMARY KEY,
        kind         TEXT NOT NULL,            -- bounce | complaint
        date         INTEGER NOT NULL,         -- the report's Date (else when it was read)
        mailbox      TEXT NOT NULL,            -- mailbox whose folder held the report
        outbox_id    INTEGER,                  -- the sent row, when matched
        recipient    TEXT NOT NULL,
        domain       TEXT NOT NULL,
        action       TEXT,                     -- failed delayed ... (DSN Action)
        status_code  TEXT,                     -- RFC 3463, e.g. 5.1.1
        reply_code   INTEGER,                  -- SMTP, e.g. 550
        reason       TEXT NOT NULL,            -- Sisimai reason; feedback type for complaints
        hard         INTEGER NOT NULL,
        diagnostic   TEXT NOT NULL DEFAULT '',
        remote_mta   TEXT,
        raw          TEXT NOT NULL DEFAULT '', -- the delivery-status (or feedback-report) part
        inbox_message_id INTEGER NOT NULL REFERENCES inbox_messages(id),
        created_at   INTEGER NOT NULL
    );
    CREATE INDEX bounces_mailbox_date ON bounces(mailbox, date);
    CREATE INDEX bounces_date ON bounces(date);
    CREATE INDEX bounces_outbox ON bounces(outbox_id);
    CREATE INDEX outbox_mailbox_sent ON outbox(mailbox, sent_at);",
    // 8: paused mailboxes (auto-pause on hard bounces or a complaint, or by hand). A row stays
    // after a resume: resumed_at starts a fresh window for the rule.
    "CREATE TABLE mailbox_pauses (
        mailbox     TEXT PRIMARY KEY,          -- [mailboxes.NAME]
        paused_at   INTEGER,                   -- NULL: sending
        reason      TEXT NOT NULL DEFAULT '',
        auto        INTEGER NOT NULL DEFAULT 1, -- 0: paused by hand
        resumed_at  INTEGER                    -- sends and complaints before it no longer count
    );",
    // 9: a learned pattern is reused while fresh and while its inputs (the addresses seen on
    // the site, the names of the company's prospects) are the same ones it was learned from.
    "ALTER TABLE find_patterns ADD COLUMN inputs TEXT NOT NULL DEFAULT '';
     ALTER TABLE find_patterns ADD COLUMN inference TEXT NOT NULL DEFAULT '';",
    // 10: the daily summary's days, claimed before sending so it goes out once per day
    // whichever process (or restart) gets there first.
    "CREATE TABLE notify_days (
        kind    TEXT NOT NULL,
        day     TEXT NOT NULL,               -- YYYY-MM-DD in the summary's time zone
        sent_at INTEGER NOT NULL,
        PRIMARY KEY (kind, day)
    );",
    // 11: when the receiving server refused a message outright (5xx during the SMTP
    // transaction): auto-pause counts such refusals with the hard bounces that come back later.
    "ALTER TABLE outbox ADD COLUMN refused_at INTEGER;
     CREATE INDEX outbox_mailbox_refused ON outbox(mailbox, refused_at);",
    // 12: how a report was matched to the sent row (by Message-ID, or by recipient: a guess
    // the user should be able to see), or why it matched none.
    "ALTER TABLE bounces ADD COLUMN matched_by TEXT NOT NULL DEFAULT '';",
    // 13: prospects a re-import filled empty fields of (import::ImportSummary::updated); NULL
    // for the imports logged before the count was kept.
    "ALTER TABLE imports ADD COLUMN updated INTEGER;",
    // 14: a website on a social or listing platform is a page, not the company's site: imports
    // now leave such a domain unset (import::normalize::platform_host), but earlier ones stored
    // it on the company (source 'import', which find trusts and later imports keep) and on the
    // prospect (find's fallback). Clear those, saying why on the company; domains found by
    // find or set by hand are left alone. The hosts are the importer's list as of this
    // migration; a subdomain (fr.linkedin.com) counts as its platform.
    "CREATE TEMP TABLE platform_hosts (host TEXT PRIMARY KEY);
     INSERT INTO platform_hosts (host) VALUES
        ('linkedin.com'), ('lnkd.in'), ('facebook.com'), ('fb.com'), ('twitter.com'),
        ('x.com'), ('t.co'), ('instagram.com'), ('youtube.com'), ('youtu.be'), ('tiktok.com'),
        ('pinterest.com'), ('github.com'), ('gitlab.com'), ('google.com'), ('goo.gl'),
        ('bit.ly'), ('linktr.ee'), ('medium.com'), ('wikipedia.org'), ('crunchbase.com'),
        ('wellfound.com'), ('angel.co'), ('glassdoor.com'), ('indeed.com'),
        ('welcometothejungle.com'), ('societe.com'), ('pappers.fr'), ('pagesjaunes.fr'),
        ('yelp.com'), ('tripadvisor.com'), ('calendly.com');
     UPDATE companies SET
         domain = NULL,
         domain_source = NULL,
         domain_note = 'imported website ' || domain || ' is a page on '
             || (SELECT host FROM platform_hosts
                 WHERE companies.domain = host
                    OR substr(companies.domain, -length(host) - 1) = '.' || host)
             || ', not the company''s own site: domain cleared',
         updated_at = unixepoch()
     WHERE domain_source = 'import'
       AND EXISTS (SELECT 1 FROM platform_hosts
                   WHERE companies.domain = host
                      OR substr(companies.domain, -length(host) - 1) = '.' || host);
     UPDATE prospects SET domain = NULL
     WHERE EXISTS (SELECT 1 FROM platform_hosts
                   WHERE prospects.domain = host
                      OR substr(prospects.domain, -length(host) - 1) = '.' || host);
     DELETE FROM find_domains
     WHERE source = 'import'
       AND EXISTS (SELECT 1 FROM platform_hosts
                   WHERE find_domains.domain = host
                      OR substr(find_domains.domain, -length(host) - 1) = '.' || host);
     DROP TABLE temp.platform_hosts;",
    // 15: the per-mailbox indexes on when a message went out or was refused hold only rows
    // that did. A claim sets `mailbox` on a row whose two times are NULL: with the full
    // indexes it moved the row's entry in both (four index pages per message, a third of what
    // a claim and the previous SENT mark write); now it touches neither. Every query of them
    // asks for a time (`sent_at > ?`, `IS NOT NULL`), which is what lets SQLite use them.
    "DROP INDEX outbox_mailbox_sent;
     CREATE INDEX outbox_mailbox_sent ON outbox(mailbox, sent_at) WHERE sent_at IS NOT NULL;
     DROP INDEX outbox_mailbox_refused;
     CREATE INDEX outbox_mailbox_refused ON outbox(mailbox, refused_at)
         WHERE refused_at IS NOT NULL;",
    // 16: the message as sent, kept from its claim until its copy is in the mailbox's Sent
    // folder. Copies are appended after the server accepts, behind the sends: a run killed
    // meanwhile lost them for good; the next run appends what is left here
    // (store::sending::pending_copies).
    "CREATE TABLE sent_copies (
         outbox_id INTEGER PRIMARY KEY REFERENCES outbox(id) ON DELETE CASCADE,
         mailbox   TEXT NOT NULL,
         raw       BLOB NOT NULL
     );",
    // 17: the Message-ID of the message a report is about. A row sent again after a soft
    // bounce has several messages; repeated soft bounces are counted per message
    // (inbox::process::persistent_soft_bounce). Before this version a row was sent once, so
    // a report read earlier is about the row's one message: filled in from the row, so a
    // later report about the same message counts with it, not as another. NULL: unmatched.
    "ALTER TABLE bounces ADD COLUMN message_id TEXT;
     UPDATE bounces SET message_id =
         (SELECT header_message_id FROM outbox WHERE outbox.id = bounces.outbox_id)
     WHERE outbox_id IS NOT NULL;",
    // 18: companies that came from the bundled sample data (`hailer demo`). They are
    // fictional: find never asks a web search engine about them and guesses only `.test`
    // domains, so the demo cannot suggest a real company's addresses. A real import that
    // names the company clears the mark.
    "ALTER TABLE companies ADD COLUMN sample INTEGER NOT NULL DEFAULT 0;",
    // 19: what a reply says (the start of the text its writer added, quoted text left out),
    // so it can be read in the TUI and exported; and how a message was matched to the sent
    // row (by its threading headers, or by its sender being the address written to). Empty
    // for the messages read before.
    "ALTER TABLE inbox_messages ADD COLUMN snippet TEXT NOT NULL DEFAULT '';
     ALTER TABLE inbox_messages ADD COLUMN matched_by TEXT NOT NULL DEFAULT '';",
    // 20: the domains of the Message-IDs hailer gave its messages (lower case), each once.
    // The bounce matcher asks whether a returned Message-ID is at one of them for every
    // report it cannot match; it asked the outbox with a `LIKE '%@…'`, a scan of every row
    // (~20 ms at 100,000 rows, per unmatched report). Triggers keep it whoever sets a
    // Message-ID (a claim); after a domain's first, the insert is ignored and writes no page.
    // Filled in from the rows so far (hailer's Message-IDs have one `@`).
    "CREATE TABLE message_id_domains (domain TEXT PRIMARY KEY) WITHOUT ROWID;
     INSERT OR IGNORE INTO message_id_domains (domain)
         SELECT lower(substr(header_message_id, instr(header_message_id, '@') + 1))
         FROM outbox WHERE instr(header_message_id, '@') > 0;
     CREATE TRIGGER outbox_message_id_domain_update
         AFTER UPDATE OF header_message_id ON outbox
         WHEN instr(NEW.header_message_id, '@') > 0
     BEGIN
         INSERT OR IGNORE INTO message_id_domains (domain)
         VALUES (lower(substr(NEW.header_message_id, instr(NEW.header_message_id, '@') + 1)));
     END;
     CREATE TRIGGER outbox_message_id_domain_insert
         AFTER INSERT ON outbox
         WHEN instr(NEW.header_message_id, '@') > 0
     BEGIN
         INSERT OR IGNORE INTO message_id_domains (domain)
         VALUES (lower(substr(NEW.header_message_id, instr(NEW.header_message_id, '@') + 1)));
     END;",
    // 21: prospects by name, without case: an answer from an address hailer never wrote to
    // (a personal mailbox) is matched by its sender's name (inbox::process), looked up for
    // every unmatched message read, so not by a scan of every prospect.
    "CREATE INDEX prospects_name ON prospects(lastname COLLATE NOCASE, firstname COLLATE NOCASE);",
    // 22: a kept Sent copy whose mailbox left the config was said (by a send run) to be left
    // unmade: said once, not at every run.
    "ALTER TABLE sent_copies ADD COLUMN gone_reported INTEGER NOT NULL DEFAULT 0;",
    // 23: rows by address, without case: the duplicate guard (`sending::already_sent_to`,
    // `lower(email) = lower(?)`) ran as a scan of every sent row, once per eligible row in the
    // S confirmation and `send --dry-run`: minutes at 50,000 sent and 50,000 to send.
    "CREATE INDEX outbox_email_lower ON outbox(lower(email));",
    // 24: every Message-ID a row was sent with, the current one and those of earlier attempts
    // (a row requeued or sent again gets a new one). A report returning one of them is about
    // that row; a Message-ID of hailer's shape that is not here was written by another
    // database (a previous campaign, a test) through the same mailboxes, and its row id means
    // nothing here. The trigger records each Message-ID as a claim sets it. Filled in from
    // the rows' current Message-IDs: the earlier ones of a row sent before this version are
    // not known (a report about one is then matched by recipient or not at all).
    "CREATE TABLE sent_message_ids (
         message_id TEXT PRIMARY KEY,
         outbox_id  INTEGER NOT NULL
     ) WITHOUT ROWID;
     INSERT OR IGNORE INTO sent_message_ids (message_id, outbox_id)
         SELECT header_message_id, id FROM outbox WHERE header_message_id IS NOT NULL;
     CREATE TRIGGER outbox_sent_message_id_update
         AFTER UPDATE OF header_message_id ON outbox
         WHEN NEW.header_message_id IS NOT NULL
     BEGIN
         INSERT OR IGNORE INTO sent_message_ids (message_id, outbox_id)
         VALUES (NEW.header_message_id, NEW.id);
     END;
     CREATE TRIGGER outbox_sent_message_id_insert
         AFTER INSERT ON outbox
         WHEN NEW.header_message_id IS NOT NULL
     BEGIN
         INSERT OR IGNORE INTO sent_message_ids (message_id, outbox_id)
         VALUES (NEW.header_message_id, NEW.id);
     END;",
];

pub fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let known = MIGRATIONS.len() as i64;
    let too_new = |found| StoreError::TooNew {
        path: path.to_path_buf(),
        found,
        known,
    };
    // Up to date: no write lock taken.
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > known {
        return Err(too_new(current));
    }
    if current == known {
        return Ok(());
    }
    loop {
        // The version is read again under the write lock: several connections opening a new
        // database at once (the TUI's first loads, `serve` and its summary) all saw version 0,
        // and each one after the first ran the same migration again ("table already exists").
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > known {
            return Err(too_new(version));
        }
        // Version 0 with tables in it (read under the lock, so not a connection of ours
        // migrating at the same moment): another program's database, which the first
        // migration would fail on ("table prospects already exists", the schema quoted).
        if version == 0 {
            let tables: i64 = tx.query_row(
                "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
                [],
                |r| r.get(0),
            )?;
            if tables > 0 {
                return Err(StoreError::NotHailer {
                    path: path.to_path_buf(),
                });
            }
        }
        let Some(sql) = MIGRATIONS.get(version as usize) else {
            return Ok(());
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Another program's SQLite file where hailer's database goes is named as such, and left
    /// as it was.
    #[test]
    fn another_programs_database_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hailer.db");
        let other = Connection::open(&path).unwrap();
        other.execute_batch("CREATE TABLE prospects (x)").unwrap();
        drop(other);
        let e = crate::store::Store::open(&path).err().expect("refused");
        let text = e.to_string();
        assert!(text.contains("is not a hailer database"), "{text}");
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(!text.contains("CREATE TABLE"), "{text}");
        let other = Connection::open(&path).unwrap();
        let tables: i64 = other
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tables, 1);
    }

    /// Connections opening a new database at the same moment each migrate it exactly once
    /// between them, and all succeed.
    #[test]
    fn connections_opening_a_new_database_at_once_all_succeed() {
        for _ in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.db");
            let start = std::sync::Arc::new(std::sync::Barrier::new(8));
            let opens: Vec<_> = (0..8)
                .map(|_| {
                    let (path, start) = (path.clone(), start.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        crate::store::Store::open(&path).map(|_| ())
                    })
                })
                .collect();
            for open in opens {
                open.join().unwrap().unwrap();
            }
        }
    }

    #[test]
    fn migrations_run_once_and_are_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn, &path).unwrap();
        migrate(&mut conn, &path).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
    }

    /// A database as a release that knew only the first `version` migrations left it.
    fn database_at(version: usize) -> (tempfile::TempDir, std::path::PathBuf, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).unwrap();
        for sql in &MIGRATIONS[..version] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", version as i64)
            .unwrap();
        (dir, path, conn)
    }

    /// Migration 20: the domains of the Message-IDs sent before it are known to the bounce
    /// matcher (`sending::sends_from`), lower-cased, each once.
    #[test]
    fn message_id_domains_are_filled_from_the_rows_sent() {
        let (_dir, path, mut conn) = database_at(19);
        conn.execute_batch(
            "INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'Acme', 0);
             INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key,
                                    created_at)
             VALUES (1, 'A', 'A', 'Acme', 'acme', 'a', 0), (2, 'B', 'B', 'Acme', 'acme', 'b', 0),
                    (3, 'C', 'C', 'Acme', 'acme', 'c', 0);
             INSERT INTO outbox (id, prospect_id, email, company_key, status, created_at,
                                 updated_at, header_message_id)
             VALUES (1, 1, 'a@acme.test', 'acme', 'SENT', 0, 0, '1.aaaa@Old.Test'),
                    (2, 2, 'b@acme.test', 'acme', 'SENT', 0, 0, '2.bbbb@old.test'),
                    (3, 3, 'c@acme.test', 'acme', 'READY', 0, 0, NULL);",
        )
        .unwrap();
        migrate(&mut conn, &path).unwrap();
        let domains: Vec<String> = conn
            .prepare("SELECT domain FROM message_id_domains")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(domains, ["old.test"]);
        assert!(crate::store::sending::sends_from(&conn, "OLD.test").unwrap());
    }

    /// The imports logged before migration 13 have no count of updated prospects: NULL, not a
    /// made-up 0 (tests/cli_import.rs checks that new imports store theirs).
    #[test]
    fn imports_get_an_updated_count_unknown_for_old_ones() {
        let (_dir, path, mut conn) = database_at(12);
        conn.execute(
            "INSERT INTO imports (kind, file, imported, duplicates, rejected, created_at)
             VALUES ('prospects', 'old.csv', 3, 1, 0, 1)",
            [],
        )
        .unwrap();
        migrate(&mut conn, &path).unwrap();
        let old: Option<i64> = conn
            .query_row(
                "SELECT updated FROM imports WHERE file = 'old.csv'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(old, None);
    }

    /// Migration 14: a platform host an import stored as a company's domain (or a subdomain of
    /// one) is cleared, with the reason in its note, from the prospects and from find's domain
    /// cache too; a domain found by find or set by hand, and every other domain, stays.
    #[test]
    fn platform_domains_from_imports_are_cleared() {
        let (_dir, path, mut conn) = database_at(13);
        for (key, domain, source) in [
            ("acme", "linkedin.com", "import"),
            ("beta", "fr.linkedin.com", "import"),
            ("gamma", "linkedin.com", "manual"),
            ("delta", "x.com", "search"),
            ("epsilon", "notlinkedin.com", "import"),
            ("zeta", "zeta.test", "import"),
        ] {
            conn.execute(
                "INSERT INTO companies (key, name, domain, domain_source, domain_note, updated_at)
                 VALUES (?1, ?1, ?2, ?3, 'given in the imported file', 1)",
                [key, domain, source],
            )
            .unwrap();
        }
        for (n, (key, domain)) in [("acme", "linkedin.com"), ("zeta", "zeta.test")]
            .iter()
            .enumerate()
        {
            conn.execute(
                "INSERT INTO prospects (firstname, lastname, company, company_key, person_key,
                                        domain, created_at)
                 VALUES ('Anne', 'Martin', ?1, ?1, ?2, ?3, 1)",
                rusqlite::params![key, format!("anne|martin{n}"), domain],
            )
            .unwrap();
        }
        for (key, domain, source) in [
            ("acme", "linkedin.com", "import"),
            ("zeta", "zeta.test", "import"),
        ] {
            conn.execute(
                "INSERT INTO find_domains (company_key, domain, source, note, mail_dns,
                                           accepts_mail, checked_at)
                 VALUES (?1, ?2, ?3, '', 'MX', 1, 1)",
                [key, domain, source],
            )
            .unwrap();
        }
        migrate(&mut conn, &path).unwrap();

        // key, domain, domain_source, domain_note
        type CompanyRow = (String, Option<String>, Option<String>, Option<String>);
        let companies: Vec<CompanyRow> = conn
            .prepare("SELECT key, domain, domain_source, domain_note FROM companies ORDER BY key")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let given = Some("given in the imported file".to_string());
        let kept = |key: &str, domain: &str, source: &str| {
            (
                key.to_string(),
                Some(domain.to_string()),
                Some(source.to_string()),
                given.clone(),
            )
        };
        let cleared = |key: &str, note: &str| (key.to_string(), None, None, Some(note.to_string()));
        assert_eq!(
            companies,
            [
                cleared(
                    "acme",
                    "imported website linkedin.com is a page on linkedin.com, not the \
                     company's own site: domain cleared"
                ),
                cleared(
                    "beta",
                    "imported website fr.linkedin.com is a page on linkedin.com, not the \
                     company's own site: domain cleared"
                ),
                kept("delta", "x.com", "search"),
                kept("epsilon", "notlinkedin.com", "import"),
                kept("gamma", "linkedin.com", "manual"),
                kept("zeta", "zeta.test", "import"),
            ]
        );
        let prospects: Vec<(String, Option<String>)> = conn
            .prepare("SELECT company_key, domain FROM prospects ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            prospects,
            [
                ("acme".to_string(), None),
                ("zeta".to_string(), Some("zeta.test".to_string()))
            ]
        );
        let cached: Vec<String> = conn
            .prepare("SELECT company_key FROM find_domains ORDER BY company_key")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(cached, ["zeta"]);
        // The helper table is gone with the migration.
        let temp: i64 = conn
            .query_row("SELECT COUNT(*) FROM temp.sqlite_master", [], |r| r.get(0))
            .unwrap();
        assert_eq!(temp, 0);
    }

    #[test]
    fn newer_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
        let err = migrate(&mut conn, &path).unwrap_err().to_string();
        assert!(err.contains("newer"), "{err}");
    }
}
