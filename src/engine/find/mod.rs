//! Find emails: the company's domain, the addresses its site publishes, and the address
//! pattern inferred from them, with a confidence and the evidence behind it.

pub mod domain;
pub mod extract;
pub mod names;
pub mod pattern;
pub mod search;
pub mod site;
