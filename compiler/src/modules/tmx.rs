//! tmx: tm extensions (Kamailio `src/modules/tmx`): the `$T_*` pseudo-variables about the
//! current transaction and the route-type tests.

use super::*;

const FAIL_TMRPL: RouteMask = FAIL.union(TMRPL);

pub static MODULE: Module = Module {
    name: "tmx",
    functions: &[
        func("t_is_failure_route", &[], ANY),
        func("t_is_branch_route", &[], ANY),
        func("t_is_reply_route", &[], ANY),
        func("t_is_request_route", &[], ANY),
        func("t_precheck_trans", &[], REQ),
        func("t_cancel_branches", &[lit(ArgKind::Str)], FAIL_TMRPL),
        func("t_cancel_callid", &[dynamic(ArgKind::Fmt), dynamic(ArgKind::Fmt), dynamic(ArgKind::Int)], ANY),
        func(
            "t_reply_callid",
            &[dynamic(ArgKind::Fmt), dynamic(ArgKind::Fmt), dynamic(ArgKind::Int), dynamic(ArgKind::Fmt)],
            ANY,
        ),
        func("t_flush_flags", &[], ANY),
        func("t_flush_xflags", &[], ANY),
        func("t_suspend", &[], REQ.union(FAIL)),
        func("t_continue", &[dynamic(ArgKind::Int), dynamic(ArgKind::Int), dynamic(ArgKind::Str)], ANY),
        func("t_reuse_branch", &[], ANY),
        func("t_drop", &[], ANY),
        func("t_drop", &[dynamic(ArgKind::Int)], ANY),
    ],
    params: &[param("precheck_trans", ParamType::Int)],
    pvs: &[
        pv_ro("T_branch_idx", PvInner::None),
        pv_ro("T_reply_code", PvInner::None),
        pv_ro("T_reply_reason", PvInner::None),
        pv_ro("T_reply_last", PvInner::None),
        pv_ro("T_reply_ruid", PvInner::None),
        pv_ro("T_req", PvInner::Required),
        pv_ro("T_rpl", PvInner::Required),
        pv_ro("T_inv", PvInner::Required),
        pv_ro("T_branch", PvInner::Required),
        pv_ro("T", PvInner::Required),
    ],
    transformations: &[],
    // mod_init binds tm and fails without it.
    requires: &["tm"],
};
