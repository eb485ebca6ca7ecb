//! Connections shared by the engines: TLS trust (`[tls] ca_file`) and IMAP sessions.

pub mod imap;
pub mod mutf7;
pub mod tls;
