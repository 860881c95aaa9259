//! maxfwd: Max-Forwards handling (Kamailio `src/modules/maxfwd`).

use super::*;

// `|` on RouteMask is not a const operation, so the tables use `union`.
const REQ_FAIL_BR: RouteMask = REQ.union(FAIL).union(BR);

pub static MODULE: Module = Module {
    name: "maxfwd",
    functions: &[
        // All rows use fixup_var_int_1 (an fparam fixup). A value outside 0..255 makes the
        // call fail at run time (-1).
        func("maxfwd_process", &[dynamic(ArgKind::Int)], REQ),
        func("mf_process_maxfwd_header", &[dynamic(ArgKind::Int)], REQ),
        func("process_maxfwd", &[dynamic(ArgKind::Int)], REQ),
        func("is_maxfwd_lt", &[dynamic(ArgKind::Int)], REQ_FAIL_BR),
        func("maxfwd_at_least", &[dynamic(ArgKind::Int)], REQ_FAIL_BR),
        func("mf_lowlimit", &[dynamic(ArgKind::Int)], REQ_FAIL_BR),
        // API binding for other modules: exported with route flags 0, so Kamailio finds the
        // name but rejects every use in a script ("Command cannot be used in the block").
        func("bind_maxfwd", &[], RouteMask::NONE),
    ],
    params: &[checked_param("max_limit", ParamType::Int, max_limit)],
    pvs: &[],
    transformations: &[],
    requires: &[],
};

/// The cfg framework declares max_limit with the range 0..255. Kamailio does not check the
/// modparam value itself at start-up, but anything outside the range is meaningless.
fn max_limit(value: &ParamValue) -> Result<(), String> {
    match value {
        ParamValue::Int(0..=255) => Ok(()),
        ParamValue::Int(n) => Err(format!("{n} is not in the range 0..255")),
        ParamValue::Str(_) => Ok(()),
    }
}
