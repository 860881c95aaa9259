//! The core: built-in commands (`forward`, `rewritehostport`, `setflag`...) and the
//! pseudo-variables Kamailio's core registers itself (`$rc`, `$null`, `$env(...)`...).
//!
//! Core commands are keywords in Kamailio's grammar and take literal arguments only
//! (`strip($var(n))` is a syntax error there). Kamailio does not restrict them by route type
//! except in `onsend_route`; we also keep the ones that work on a request's URI or
//! destination out of reply routes, where they can only be mistakes.

use super::ArgKind::{Flag, Host, Int, Port, Proto, Socket, Str};
use super::*;

/// Everywhere but `onsend_route`, which allows only a few core commands.
const NOT_ONSEND: RouteMask = RouteMask(RouteMask::ANY.0 & !RouteMask::ONSEND.0);
/// Where a request's R-URI and destination set can be changed.
const URI_ROUTES: RouteMask = RouteMask(REQ.0 | FAIL.0 | BR.0);
/// Where a request can be sent statelessly.
const FORWARD_ROUTES: RouteMask = RouteMask(REQ.0 | FAIL.0);

const HOST: ArgSpec = lit(Host);
const PORT: ArgSpec = lit(Port);
const STR: ArgSpec = lit(Str);
const INT: ArgSpec = lit(Int);
const FLAG: ArgSpec = lit(Flag);

macro_rules! forward_family {
    ($($name:literal),*) => {
        [$(
            func($name, &[HOST], FORWARD_ROUTES),
            func($name, &[HOST, PORT], FORWARD_ROUTES),
        )*]
    };
}

const FORWARDS: [Function; 8] = forward_family!("forward_udp", "forward_tcp", "forward_tls", "forward_sctp");

/// Commands written without parentheses in Kamailio (`force_rport;`).
pub const BARE_COMMANDS: &[&str] = &[
    "revert_uri",
    "force_rport",
    "add_rport",
    "add_local_rport",
    "set_forward_no_connect",
    "set_reply_no_connect",
    "set_forward_close",
    "set_reply_close",
];

pub static MODULE: Module = Module {
    name: "core",
    functions: &[
        func("forward", &[], FORWARD_ROUTES),
        func("forward", &[HOST], FORWARD_ROUTES),
        func("forward", &[HOST, PORT], FORWARD_ROUTES),
        FORWARDS[0],
        FORWARDS[1],
        FORWARDS[2],
        FORWARDS[3],
        FORWARDS[4],
        FORWARDS[5],
        FORWARDS[6],
        FORWARDS[7],
        func("log", &[STR], ANY),
        func("log", &[INT, STR], ANY),
        func("error", &[STR, STR], NOT_ONSEND),
        func("exec", &[STR], NOT_ONSEND),
        func("setflag", &[FLAG], ANY),
        func("resetflag", &[FLAG], ANY),
        func("isflagset", &[FLAG], ANY),
        func("strip", &[INT], URI_ROUTES),
        func("strip_tail", &[INT], URI_ROUTES),
        func("prefix", &[STR], URI_ROUTES),
        func("rewriteuri", &[STR], URI_ROUTES),
        func("seturi", &[STR], URI_ROUTES),
        func("rewritehost", &[STR], URI_ROUTES),
        func("sethost", &[STR], URI_ROUTES),
        func("seth", &[STR], URI_ROUTES),
        func("rewritehostport", &[STR], URI_ROUTES),
        func("sethostport", &[STR], URI_ROUTES),
        func("sethp", &[STR], URI_ROUTES),
        func("rewritehostporttrans", &[STR], URI_ROUTES),
        func("sethostporttrans", &[STR], URI_ROUTES),
        func("sethpt", &[STR], URI_ROUTES),
        func("rewriteuser", &[STR], URI_ROUTES),
        func("setuser", &[STR], URI_ROUTES),
        func("setu", &[STR], URI_ROUTES),
        func("rewriteuserpass", &[STR], URI_ROUTES),
        func("setuserpass", &[STR], URI_ROUTES),
        func("setup", &[STR], URI_ROUTES),
        func("rewriteport", &[STR], URI_ROUTES),
        func("setport", &[STR], URI_ROUTES),
        func("setp", &[STR], URI_ROUTES),
        func("userphone", &[], URI_ROUTES),
        func("revert_uri", &[], URI_ROUTES),
        // Kamailio moved append_branch to corex; configs (and the seed) still treat it as core.
        func("append_branch", &[], REQ.union(FAIL)),
        func("append_branch", &[dynamic(ArgKind::Fmt)], REQ.union(FAIL)),
        func("append_branch", &[dynamic(ArgKind::Fmt), dynamic(ArgKind::Fmt)], REQ.union(FAIL)),
        func("remove_branch", &[], URI_ROUTES),
        func("remove_branch", &[INT], URI_ROUTES),
        func("clear_branches", &[], URI_ROUTES),
        func("force_rport", &[], URI_ROUTES),
        func("add_rport", &[], URI_ROUTES),
        func("add_local_rport", &[], URI_ROUTES),
        func("force_tcp_alias", &[], NOT_ONSEND),
        func("force_tcp_alias", &[INT], NOT_ONSEND),
        func("set_advertised_address", &[HOST], URI_ROUTES),
        func("set_advertised_port", &[INT], URI_ROUTES),
        func("force_send_socket", &[lit(Socket)], URI_ROUTES),
        func("udp_mtu_try_proto", &[lit(Proto)], URI_ROUTES),
        func("set_forward_no_connect", &[], ANY),
        func("set_reply_no_connect", &[], ANY),
        func("set_forward_close", &[], ANY),
        func("set_reply_close", &[], ANY),
        func("cfg_select", &[STR, dynamic(Int)], NOT_ONSEND),
        func("cfg_reset", &[STR], NOT_ONSEND),
    ],
    params: &[],
    pvs: &[
        pv_ro("null", PvInner::None),
        pv_ro("?", PvInner::None),
        pv_ro("rc", PvInner::None),
        pv_ro("retcode", PvInner::None),
        pv_ro("env", PvInner::Required),
        pv_ro("envn", PvInner::Required),
        pv_ro("def", PvInner::Required),
        pv_ro("defn", PvInner::Required),
        pv_ro("defv", PvInner::Required),
        pv_ro("defs", PvInner::Required),
        pv_ro("iuid", PvInner::None),
    ],
    transformations: &[],
    requires: &[],
};

/// Whether `name` is a core command (a keyword in Kamailio's grammar).
pub fn is_command(name: &str) -> bool {
    MODULE.functions.iter().any(|f| f.name == name)
}
