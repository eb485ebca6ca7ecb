//! Address verification: syntax, DNS, an SMTP RCPT probe, catch-all and greylisting detection,
//! throttling per MX host, and streaming at scale.

pub mod dns;
pub mod syntax;
