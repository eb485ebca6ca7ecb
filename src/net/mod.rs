//! Connections shared by the engines: TLS trust (`[tls] ca_file`), IMAP sessions, and keeping
//! passwords out of server text.

pub mod imap;
pub mod mutf7;
pub mod redact;
pub mod tls;
