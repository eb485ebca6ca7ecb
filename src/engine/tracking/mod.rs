//! `hailer serve`: the open pixel, click redirects, one-click unsubscribe and the REST API.

pub mod job;
pub mod links;
pub mod server;
pub mod token;
pub mod validate;
