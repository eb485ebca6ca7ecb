//! A mailbox's connection test (`hailer mailbox test`, the Settings tab's `t`): SMTP login,
//! then IMAP login and the Sent folder. Texts name hosts, ports and the user, never the
//! password: a server's refusal may quote the login command back, so the transport and IMAP
//! modules redact it from server text where they build their errors (`crate::net::redact`).

use super::sent_copy::SentFolder;
use super::transport::{SmtpEndpoint, SmtpSession};
use crate::net::imap::ImapEndpoint;

/// One mailbox's connection test, as the Settings tab shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MailboxCheck {
    pub name: String,
    pub smtp: Result<String, String>,
    pub imap: Option<Result<String, String>>,
}

impl MailboxCheck {
    pub fn ok(&self) -> bool {
        self.smtp.is_ok() && self.imap.as_ref().is_none_or(|r| r.is_ok())
    }
}

impl std::fmt::Display for MailboxCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |r: &Result<String, String>| match r {
            Ok(t) => format!("ok ({t})"),
            Err(e) => format!("FAILED: {e}"),
        };
        writeln!(f, "{}:", self.name)?;
        writeln!(f, "  smtp  {}", show(&self.smtp))?;
        match &self.imap {
            Some(r) => writeln!(f, "  imap  {}", show(r)),
            None => writeln!(
                f,
                "  imap  not configured (no Sent copies, no UNCERTAIN resolution)"
            ),
        }
    }
}

/// SMTP login, then IMAP login and the Sent folder, for one mailbox.
pub async fn check_mailbox(
    name: &str,
    mb: &crate::config::MailboxConfig,
    ca: Option<std::path::PathBuf>,
) -> MailboxCheck {
    let smtp = match SmtpEndpoint::for_mailbox(mb, ca.clone()) {
        Err(e) => Err(format!("password: {e}")),
        Ok(ep) => match SmtpSession::connect(&ep).await {
            Ok(s) => {
                s.quit().await;
                Ok(format!(
                    "{}:{} {}, logged in as {}",
                    ep.host, ep.port, ep.security, ep.username
                ))
            }
            Err(e) => Err(e.to_string()),
        },
    };
    let imap = if mb.imap_host.is_some() {
        let ep = ImapEndpoint::for_mailbox(name, mb, ca);
        let folder = mb.sent_folder.clone();
        Some(
            tokio::task::spawn_blocking(move || {
                let ep = ep.map_err(|e| e.to_string())?;
                let where_ = format!("{}:{} {}", ep.host, ep.port, ep.security);
                let mut f = SentFolder::new(ep, folder.clone());
                let n = f.check().map_err(|e| e.to_string())?;
                f.logout();
                Ok(format!(
                    "{where_}, Sent folder {folder:?} holds {n} messages"
                ))
            })
            .await
            .unwrap_or_else(|e| Err(e.to_string())),
        )
    } else {
        None
    };
    MailboxCheck {
        name: name.to_string(),
        smtp,
        imap,
    }
}
