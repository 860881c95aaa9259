//! sl: stateless replies (Kamailio `src/modules/sl`).

use super::*;

// sl_send_reply/sl_reply/send_reply/send_reply_mode use a module fixup (fixup_sl_reply*) that
// has a free function, so run-time expressions are accepted. The code goes through
// fixup_var_int_12 and the reason through fixup_var_pve_str_12.
const CODE_REASON: &[ArgSpec] = &[dynamic(ArgKind::Int), dynamic(ArgKind::Fmt)];

// `|` on RouteMask is not a const operation, so the tables use `union`.
const REQ_RPL_FAIL: RouteMask = REQ.union(RPL).union(FAIL);

pub static MODULE: Module = Module {
    name: "sl",
    functions: &[
        func("sl_send_reply", CODE_REASON, REQ),
        func("sl_reply", CODE_REASON, REQ),
        func("send_reply", CODE_REASON, REQ_RPL_FAIL),
        // Third argument: 1 = do not open a new connection, 2 = close the connection.
        func("send_reply_mode", &[dynamic(ArgKind::Int), dynamic(ArgKind::Fmt), dynamic(ArgKind::Int)], REQ_RPL_FAIL),
        func("send_reply_error", &[], REQ_RPL_FAIL),
        func("sl_reply_error", &[], REQ),
        func("sl_forward_reply", &[], RPL),
        func("sl_forward_reply", &[dynamic(ArgKind::Fmt)], RPL),
        func("sl_forward_reply", &[dynamic(ArgKind::Fmt), dynamic(ArgKind::Fmt)], RPL),
        // API binding for other modules: exported with route flags 0, so Kamailio finds the
        // name but rejects every use in a script ("Command cannot be used in the block").
        func("bind_sl", &[], RouteMask::NONE),
    ],
    params: &[
        param("default_code", ParamType::Int),
        param("default_reason", ParamType::Str),
        param("bind_tm", ParamType::Int),
        param("rich_redirect", ParamType::Int),
        param("event_callback_fl_ack", ParamType::Str),
        param("event_callback_lres_sent", ParamType::Str),
    ],
    // $ltt(x|s|t): the local To-tag (mixed, stateless, transaction). Read-only.
    pvs: &[pv_ro("ltt", PvInner::Required)],
    transformations: &[],
    // tm is bound when present (bind_tm=1), but its absence is only logged.
    requires: &[],
};
