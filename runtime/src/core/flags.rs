//! Message flags: `setflag`, `resetflag`, `isflagset` (flag names are resolved to numbers at
//! compile time).

use crate::context::{Ctx, RouteKind};

pub fn set<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, flag: u32) -> i32 {
    cx.env.flags |= 1 << (flag & 63);
    1
}

pub fn reset<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, flag: u32) -> i32 {
    cx.env.flags &= !(1 << (flag & 63));
    1
}

pub fn is_set<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, flag: u32) -> i32 {
    if cx.env.flags & (1 << (flag & 63)) != 0 { 1 } else { -1 }
}
