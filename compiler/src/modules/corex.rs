//! The corex module: core extensions such as append_branch (Kamailio `src/modules/corex`).

use super::*;

use super::ArgKind::*;

// `|` on RouteMask is not a const operation, so the tables use `union`.
const REQ_FAIL: RouteMask = REQ.union(FAIL);

// Every fixup here is a spve / igp one with a free fixup, so run-time expressions are accepted
// everywhere.
pub static MODULE: Module = Module {
    name: "corex",
    functions: &[
        func("forward_uac", &[], REQ),
        // Branch index.
        func("forward_uac", &[dynamic(Int)], REQ),
        func("forward_uac_uri", &[dynamic(Fmt)], REQ),
        func("forward_uac_uri", &[dynamic(Fmt), dynamic(Int)], REQ),
        func("forward_reply", &[], CORERPL),
        func("append_branch", &[], REQ_FAIL),
        func("append_branch", &[dynamic(Fmt)], REQ_FAIL),
        // uri, q value as a string ("0.5").
        func("append_branch", &[dynamic(Fmt), dynamic(Fmt)], REQ_FAIL),
        func("send_udp", &[], REQ_FAIL),
        func("send_udp", &[dynamic(Fmt)], REQ_FAIL),
        func("send_tcp", &[], REQ_FAIL),
        func("send_tcp", &[dynamic(Fmt)], REQ_FAIL),
        func("send_data", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        func("sendx", &[dynamic(Fmt), dynamic(Fmt), dynamic(Fmt)], ANY),
        func("is_incoming", &[], ANY),
        func("msg_iflag_set", &[dynamic(Fmt)], ANY),
        func("msg_iflag_reset", &[dynamic(Fmt)], ANY),
        func("msg_iflag_is_set", &[dynamic(Fmt)], ANY),
        func("file_read", &[dynamic(Fmt), dynamic(WritablePvName)], ANY),
        func("file_write", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        func("setxflag", &[dynamic(Int)], ANY),
        func("resetxflag", &[dynamic(Int)], ANY),
        func("isxflagset", &[dynamic(Int)], ANY),
        func("set_send_socket", &[dynamic(Fmt)], ANY),
        func("set_send_socket_name", &[dynamic(Fmt)], ANY),
        func("set_recv_socket", &[dynamic(Fmt)], ANY),
        func("set_recv_socket_name", &[dynamic(Fmt)], ANY),
        func("set_source_address", &[dynamic(Fmt)], ANY),
        func("via_add_srvid", &[dynamic(Int)], ANY),
        func("via_add_xavp_params", &[dynamic(Int)], ANY),
        func("via_use_xavp_fields", &[dynamic(Int)], ANY),
        func("via_reply_add_xavp_params", &[dynamic(Int)], ANY),
        func("is_faked_msg", &[], ANY),
        func("is_socket_name", &[dynamic(Fmt)], ANY),
        func("msg_vbflag_set", &[dynamic(Int)], ANY),
        func("msg_vbflag_reset", &[dynamic(Int)], ANY),
        func("msg_vbflag_is_set", &[dynamic(Int)], ANY),
        // Declared with one parameter and no fixup; the function ignores it.
        func("msg_vbflag_parse", &[dynamic(Any)], ANY),
        func("add_tcp_alias", &[dynamic(Int)], ANY),
    ],
    params: &[
        param("alias_subdomains", ParamType::Str),
        param("dns_cache", ParamType::Str),
        param("dns_file", ParamType::Str),
        param("nio_intercept", ParamType::Int),
        param("nio_min_msg_len", ParamType::Int),
        param("nio_msg_avp", ParamType::Str),
        param("evcb_reply_out", ParamType::Str),
    ],
    pvs: &[pv_ro("cfg", PvInner::Required), pv_ro("lsock", PvInner::Required), pv_ro("atkv", PvInner::Required)],
    // mod_trans[] in corex_mod.c: `{sock.host}`...
    transformations: &["sock"],
    requires: &[],
};
