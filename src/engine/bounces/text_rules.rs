//! Reasons that the wording of particular MTAs' notices tells outright (qmail, Exim, Sendmail,
//! Courier, Domino, …), before the generic rules look at codes.

use super::mime::Flat;
use super::reason::Reason;

/// A reason the notice's own wording decides, if any. `diag` is the recipient's error text,
/// `context` the notice text before the recipients.
pub fn preset(diag: &str, context: &str, flat: &Flat) -> Option<Reason> {
    let _ = (diag, context, flat);
    None
}
