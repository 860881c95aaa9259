//! maxfwd: Max-Forwards (modules.md §9), rewritten in place with the old width.

use crate::context::{Ctx, RequestSide};
use crate::sip::{HeaderName, Slice};

/// `mf_process_maxfwd_header(n)`: adds `Max-Forwards: n` as the first header when missing
/// (2), returns -1 at 0, caps at `max_limit`, else decrements in place, padded on the left to
/// the old width (`10` → ` 9`) (1). A value that does not parse gives -2.
pub fn process<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, initial: i64, max_limit: i64) -> i32 {
    let Some(header) = cx.msg.header(HeaderName::MaxForwards).copied() else {
        let line = format!("Max-Forwards: {}\r\n", initial.clamp(0, 255));
        cx.msg.prepend_header(line.as_bytes());
        return 2;
    };
    let Ok(value) = cx.msg.max_forwards() else { return -2 };
    let value = i64::from(value);
    if value == 0 {
        return -1;
    }
    let new = value.min(max_limit) - 1;
    let width = header.value.len();
    let text = format!("{new:>width$}");
    cx.msg.replace(Slice { start: header.value.start, end: header.value.end }, text.as_bytes());
    1
}

/// `is_maxfwd_lt(n)`: 1 if the value is below `n`, -1 if not, -2 missing, -3 unreadable.
pub fn is_lt<K: RequestSide, S, W>(cx: &Ctx<'_, K, S, W>, limit: i64) -> i32 {
    if cx.msg.header(HeaderName::MaxForwards).is_none() {
        return -2;
    }
    match cx.msg.max_forwards() {
        Ok(v) if i64::from(v) < limit => 1,
        Ok(_) => -1,
        Err(_) => -3,
    }
}
