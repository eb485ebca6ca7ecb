//! The mailbox's IMAP Sent folder: a copy of each sent message (flag \Seen), and the search
//! that resolves UNCERTAIN rows by Message-ID. Blocking (the `imap` crate is synchronous):
//! callers run these on a blocking thread.

use crate::net::imap::{ImapEndpoint, ImapError, Session, login};

fn protocol(ep: &ImapEndpoint, e: imap::Error) -> ImapError {
    ImapError::Protocol {
        host: ep.host.clone(),
        port: ep.port,
        cause: e.to_string(),
    }
}

/// One IMAP session kept for a run, so each copy does not pay for a login.
pub struct SentFolder {
    ep: ImapEndpoint,
    folder: String,
    session: Option<Session>,
}

impl SentFolder {
    pub fn new(ep: ImapEndpoint, folder: String) -> SentFolder {
        SentFolder {
            ep,
            folder,
            session: None,
        }
    }

    fn session(&mut self) -> Result<&mut Session, ImapError> {
        if self.session.is_none() {
            self.session = Some(login(&self.ep)?);
        }
        Ok(self.session.as_mut().expect("just set"))
    }

    /// APPEND with \Seen; one reconnect when the kept session went stale.
    pub fn append(&mut self, raw: &[u8]) -> Result<(), ImapError> {
        for attempt in 0..2 {
            let folder = crate::net::mutf7::encode(&self.folder);
            let result = self.session().and_then(|s| {
                s.append(&folder, raw)
                    .flag(imap::types::Flag::Seen)
                    .finish()
                    .map(|_| ())
                    .map_err(|e| ImapError::Protocol {
                        host: String::new(),
                        port: 0,
                        cause: e.to_string(),
                    })
            });
            match result {
                Ok(()) => return Ok(()),
                Err(e) if attempt == 1 => {
                    return Err(match e {
                        ImapError::Protocol { cause, .. } => ImapError::Protocol {
                            host: self.ep.host.clone(),
                            port: self.ep.port,
                            cause: format!("APPEND to {}: {cause}", self.folder),
                        },
                        other => other,
                    });
                }
                Err(_) => self.session = None,
            }
        }
        unreachable!("the loop returns")
    }

    /// Whether the folder holds a message with this Message-ID (without angle brackets).
    pub fn contains(&mut self, message_id: &str) -> Result<bool, ImapError> {
        let folder = crate::net::mutf7::encode(&self.folder);
        let ep = self.ep.clone();
        let s = self.session()?;
        s.examine(&folder).map_err(|e| protocol(&ep, e))?;
        let found = s
            .search(format!("HEADER Message-ID \"<{message_id}>\""))
            .map_err(|e| protocol(&ep, e))?;
        Ok(!found.is_empty())
    }

    /// Log in and check that the folder exists (the mailbox connection test).
    pub fn check(&mut self) -> Result<u32, ImapError> {
        let folder = self.folder.clone();
        let ep = self.ep.clone();
        let s = self.session()?;
        let mb =
            s.examine(crate::net::mutf7::encode(&folder))
                .map_err(|e| ImapError::Protocol {
                    host: ep.host.clone(),
                    port: ep.port,
                    cause: format!("Sent folder {folder:?}: {e}"),
                })?;
        Ok(mb.exists)
    }

    pub fn logout(mut self) {
        if let Some(mut s) = self.session.take() {
            let _ = s.logout();
        }
    }
}
