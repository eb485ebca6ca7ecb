//! The outbox: prospects × messages → rendered, checked rows that review approves and the
//! sender sends. `template` fills placeholders, `build` decides READY or ERROR per prospect,
//! `compose` turns a row into the exact message that will go out.

pub mod build;
pub mod compose;
pub mod edit;
pub mod template;
