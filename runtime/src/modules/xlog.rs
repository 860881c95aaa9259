//! xlog: script logging with pseudo-variables (modules.md §11). The text is built by the
//! generated code; this writes it at a Kamailio level.

use crate::value::Value;

/// `xlog("...")` and friends: prints when `level` is at most `debug`. Returns 1.
pub fn log(level: i32, text: &[u8]) -> i32 {
    crate::log::script(level, text);
    1
}

/// A level held in a pseudo-variable (`xlog("$var(level)", "...")`).
pub fn level_of(value: &Value) -> i32 {
    value.to_int().clamp(-5, 3) as i32
}
