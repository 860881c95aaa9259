//! Kamailio's core actions: forwarding, R-URI rewriting, the destination set, flags, the
//! keyword operands (`method`, `src_ip`, `myself`...) and the stateless reply relay.

pub mod branch;
pub mod dset;
pub mod flags;
pub mod forward;
pub(crate) mod key_parts;
pub mod keywords;
pub mod reply;
pub mod uri;

pub use forward::{ForwardTo, ResolvedTarget, forward};

/// The error of a failed action, kept for `sl_reply_error()` (Kamailio's `ser_error`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionError {
    /// E_SEND: sending to the next hop failed.
    Send,
    /// E_BAD_ADDRESS: the next hop cannot be resolved.
    BadAddress,
    /// E_BAD_URI: the URI cannot be parsed.
    BadUri,
    /// E_BAD_REQ.
    BadRequest,
    /// E_TOO_MANY_BRANCHES.
    TooManyBranches,
}

impl ActionError {
    /// The return code Kamailio's actions give for it.
    pub fn code(self) -> i32 {
        match self {
            ActionError::Send => -477,
            ActionError::BadAddress => -478,
            ActionError::BadUri => -479,
            ActionError::BadRequest => -400,
            ActionError::TooManyBranches => -500,
        }
    }

    /// The stateless reply `sl_reply_error()` sends for it (src/core/error.c).
    pub fn reply(self) -> (u16, &'static str) {
        match self {
            ActionError::Send => (477, "Unfortunately error on sending to next hop occurred (477/SL)"),
            ActionError::BadAddress => (478, "Unresolvable destination (478/SL)"),
            ActionError::BadUri => (479, "Regretfully, we were not able to process the URI (479/SL)"),
            ActionError::BadRequest => (400, "Bad Request (400/SL)"),
            ActionError::TooManyBranches => (500, "Forking capacity exceeded (500/SL)"),
        }
    }
}
