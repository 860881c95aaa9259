//! tm: SIP transactions (Kamailio `src/modules/tm`).

use super::*;

// `|` on RouteMask is not a const operation, so the tables use `union`.
const REQ_FAIL: RouteMask = REQ.union(FAIL);
const REQ_RPL_FAIL: RouteMask = REQ.union(RPL).union(FAIL);
/// Where a transaction is (or is about to be) current: the `t_set_*` / `t_any_*` group.
const IN_TRANS: RouteMask = REQ.union(TMRPL).union(FAIL).union(BR);
/// t_on_failure / t_on_branch_failure / t_on_reply.
const ARM_ROUTES: RouteMask = REQ.union(FAIL).union(TMRPL).union(BR);

// fixup_hostport2proxy: host and port are resolved once at load time (custom fixup without a
// free function, so both must be constants).
const HOST_PORT: &[ArgSpec] = &[lit(ArgKind::Str), lit(ArgKind::Int)];
// fixup_proto_hostport2proxy: each argument is a plain string ("udp", "host:port") or a single
// `$avp(...)` read at run time. Fmt is the closest kind; constants only (no free function).
const PROTO_ADDR: &[ArgSpec] = &[lit(ArgKind::Fmt), lit(ArgKind::Fmt)];
// fixup_t_reply has no free function and is not a known fparam fixup, so Kamailio wants
// constants. Inside the constant, the code (fixup_var_int) and the reason (fixup_var_str) may
// each be one `$pv` name, read at run time; the reason is not a format with embedded `$pv`s.
const CODE_REASON: &[ArgSpec] = &[lit(ArgKind::Int), lit(ArgKind::Fmt)];

pub static MODULE: Module = Module {
    name: "tm",
    functions: &[
        // Returns 0 for a retransmission (the last reply is resent).
        stopping("t_newtran", &[], REQ),
        func("t_lookup_request", &[], REQ),
        func("t_lookup_cancel", &[], REQ),
        func("t_lookup_cancel", &[dynamic(ArgKind::Int)], REQ),
        func("t_reply", CODE_REASON, REQ_RPL_FAIL),
        func("t_reply_error", &[], REQ_RPL_FAIL),
        func("t_send_reply", CODE_REASON, REQ_RPL_FAIL),
        func("t_retransmit_reply", &[], REQ),
        func("t_release", &[], REQ),
        // Everything that ends in t_relay_to() (t_funcs.c) can return 0: a stateless CANCEL
        // forward (unmatched_cancel=1) returns forward_request()'s 0, and a bad Via with
        // reply_to_via returns 0 too.
        stopping("t_relay_to_udp", HOST_PORT, REQ_FAIL),
        stopping("t_relay_to_udp", &[], REQ_FAIL),
        stopping("t_relay_to_tcp", HOST_PORT, REQ_FAIL),
        stopping("t_relay_to_tcp", &[], REQ_FAIL),
        stopping("t_relay_to_tls", HOST_PORT, REQ_FAIL),
        stopping("t_relay_to_tls", &[], REQ_FAIL),
        // The *_sctp rows exist in default builds (SCTP ?= 1 in Makefile.defs).
        stopping("t_relay_to_sctp", HOST_PORT, REQ_FAIL),
        stopping("t_relay_to_sctp", &[], REQ_FAIL),
        stopping("t_replicate", &[], REQ),
        stopping("t_replicate", &[dynamic(ArgKind::Fmt)], REQ),
        stopping("t_replicate", HOST_PORT, REQ),
        stopping("t_replicate_udp", HOST_PORT, REQ),
        stopping("t_replicate_tcp", HOST_PORT, REQ),
        stopping("t_replicate_tls", HOST_PORT, REQ),
        stopping("t_replicate_sctp", HOST_PORT, REQ),
        stopping("t_replicate_to", PROTO_ADDR, REQ),
        stopping("t_relay", &[], REQ_FAIL),
        stopping("t_relay", HOST_PORT, REQ_FAIL),
        stopping("t_relay_to_avp", PROTO_ADDR, REQ),
        stopping("t_relay_to", &[], REQ_FAIL),
        // One argument: either "[proto:]host[:port]" or flags ("0x..." hex is accepted too).
        stopping("t_relay_to", &[lit(ArgKind::Any)], REQ_FAIL),
        stopping("t_relay_to", &[lit(ArgKind::Str), lit(ArgKind::Int)], REQ_FAIL),
        stopping("t_relay_to_proxy", &[dynamic(ArgKind::Fmt)], REQ_FAIL),
        // Kamailio also has a second 1-argument t_relay_to_proxy row (w_t_relay_to_proxy_flags,
        // fixup_spve_igp). The first row always matches, so that one can never be called;
        // left out.
        func("t_forward_nonack", HOST_PORT, REQ),
        func("t_forward_nonack_uri", &[], REQ),
        func("t_forward_nonack_udp", HOST_PORT, REQ),
        func("t_forward_nonack_tcp", HOST_PORT, REQ),
        func("t_forward_nonack_tls", HOST_PORT, REQ),
        func("t_forward_nonack_sctp", HOST_PORT, REQ),
        func("t_forward_nonack_to", PROTO_ADDR, REQ),
        // Returns 0 once the CANCEL was relayed (or was a retransmission).
        stopping("t_relay_cancel", &[], REQ),
        // "0" (or "") disarms instead of naming a route.
        func("t_on_failure", &[lit(ArgKind::Route(RouteKind::Failure))], ARM_ROUTES),
        // Names event_route[tm:branch-failure:NAME]; there is no RouteKind for that.
        func("t_on_branch_failure", &[lit(ArgKind::Str)], ARM_ROUTES),
        func("t_on_reply", &[lit(ArgKind::Route(RouteKind::Reply))], ARM_ROUTES),
        func("t_on_branch", &[lit(ArgKind::Route(RouteKind::Branch))], REQ_FAIL),
        // fixup_t_check_status (no free function): a constant regex, or one `$avp`/`$pv` name
        // whose value is compiled at run time.
        func("t_check_status", &[lit(ArgKind::Regex)], REQ_RPL_FAIL),
        // Second argument: "action[/append_name]" (fixup_t_write, no free function).
        func("t_write_req", &[lit(ArgKind::Str), lit(ArgKind::Str)], REQ_FAIL),
        func("t_write_unix", &[lit(ArgKind::Str), lit(ArgKind::Str)], REQ_FAIL),
        func("t_set_fr", &[dynamic(ArgKind::Int)], IN_TRANS),
        func("t_set_fr", &[dynamic(ArgKind::Int), dynamic(ArgKind::Int)], IN_TRANS),
        func("t_reset_fr", &[], IN_TRANS),
        func("t_set_retr", &[dynamic(ArgKind::Int), dynamic(ArgKind::Int)], IN_TRANS),
        func("t_reset_retr", &[], IN_TRANS),
        func("t_set_max_lifetime", &[dynamic(ArgKind::Int), dynamic(ArgKind::Int)], IN_TRANS),
        func("t_reset_max_lifetime", &[], IN_TRANS),
        func("t_set_auto_inv_100", &[dynamic(ArgKind::Int)], REQ),
        func("t_set_disable_6xx", &[dynamic(ArgKind::Int)], IN_TRANS),
        func("t_set_no_auto_ack", &[dynamic(ArgKind::Int)], IN_TRANS),
        func("t_set_disable_failover", &[dynamic(ArgKind::Int)], IN_TRANS),
        func("t_set_no_e2e_cancel_reason", &[dynamic(ArgKind::Int)], IN_TRANS),
        func("t_disable_e2e_cancel_reason", &[dynamic(ArgKind::Int)], IN_TRANS),
        func("t_set_disable_internal_reply", &[dynamic(ArgKind::Int)], IN_TRANS),
        // FAILURE_ROUTE | EVENT_ROUTE; EVENT_ROUTE carries the REQUEST_ROUTE bit.
        func("t_branch_timeout", &[], FAIL.union(REQ).union(EVENT)),
        func("t_branch_replied", &[], FAIL.union(REQ).union(EVENT)),
        func("t_any_timeout", &[], IN_TRANS),
        func("t_any_replied", &[], IN_TRANS),
        func("t_is_canceled", &[], IN_TRANS),
        func("t_is_retr_async_reply", &[], TMRPL),
        func("t_is_expired", &[], IN_TRANS),
        func("t_grep_status", &[dynamic(ArgKind::Int)], IN_TRANS),
        func("t_drop_replies", &[], FAIL),
        // No fixup: "a", "l" or "n" (only the first character is read).
        func("t_drop_replies", &[dynamic(ArgKind::Str)], FAIL),
        func("t_save_lumps", &[], REQ),
        // Returns 0 for a request retransmission and for an ACK matching a transaction.
        stopping("t_check_trans", &[], REQ.union(RPL).union(BR)),
        // "failure_route", "onreply_route" or "branch_route" (fixup_t_is_set, no free).
        func("t_is_set", &[lit(ArgKind::Str)], ANY),
        func("t_use_uac_headers", &[], ANY),
        // fixup_spve_all without a free function: not an fparam fixup and get_fixup_free()
        // does not know it, so Kamailio requires constant arguments here.
        func(
            "t_uac_send",
            &[
                lit(ArgKind::Fmt),
                lit(ArgKind::Fmt),
                lit(ArgKind::Fmt),
                lit(ArgKind::Fmt),
                lit(ArgKind::Fmt),
                lit(ArgKind::Fmt),
            ],
            ANY,
        ),
        func("t_get_status_code", &[], REQ.union(RPL).union(FAIL).union(BR)),
        func("t_load_contacts", &[], REQ_FAIL),
        func("t_load_contacts", &[dynamic(ArgKind::Int)], REQ_FAIL),
        func("t_next_contacts", &[], REQ_FAIL),
        func("t_next_contact_flow", &[], REQ),
        func("t_clean", &[], ANY),
        func("t_exists", &[], ANY),
        func("t_msg_apply_changes", &[], BR),
        func("t_cell_append_branches", &[dynamic(ArgKind::Int), dynamic(ArgKind::Int)], ANY),
        // load_tm and load_xtm are exported with NO_SCRIPT as argument count: no script call
        // can match them, so they are not listed.
    ],
    params: &[
        param("reply_matching", ParamType::Int),
        param("ruri_matching", ParamType::Int),
        param("via1_matching", ParamType::Int),
        param("callid_matching", ParamType::Int),
        param("callid_cseq_matching", ParamType::Int),
        param("fr_timer", ParamType::Int),
        param("fr_inv_timer", ParamType::Int),
        param("wt_timer", ParamType::Int),
        param("retr_timer1", ParamType::Int),
        param("retr_timer2", ParamType::Int),
        param("max_inv_lifetime", ParamType::Int),
        param("max_noninv_lifetime", ParamType::Int),
        param("noisy_ctimer", ParamType::Int),
        param("auto_inv_100", ParamType::Int),
        param("auto_inv_100_reason", ParamType::Str),
        param("unix_tx_timeout", ParamType::Int),
        param("restart_fr_on_each_reply", ParamType::Int),
        param("fr_timer_avp", ParamType::Str),
        param("fr_inv_timer_avp", ParamType::Str),
        // PARAM_STRING | PARAM_USE_FUNC: the setter parses a string only.
        param("tw_append", ParamType::Str),
        param("pass_provisional_replies", ParamType::Int),
        param("aggregate_challenges", ParamType::Int),
        param("unmatched_cancel", ParamType::Int),
        param("default_code", ParamType::Int),
        param("default_reason", ParamType::Str),
        param("reparse_invite", ParamType::Int),
        param("ac_extra_hdrs", ParamType::Str),
        param("blst_503", ParamType::Int),
        param("blst_503_def_timeout", ParamType::Int),
        param("blst_503_min_timeout", ParamType::Int),
        param("blst_503_max_timeout", ParamType::Int),
        param("blst_methods_add", ParamType::Int),
        param("blst_methods_lookup", ParamType::Int),
        checked_param("cancel_b_method", ParamType::Int, cancel_b_method),
        param("reparse_on_dns_failover", ParamType::Int),
        param("on_sl_reply", ParamType::Str),
        param("contacts_avp", ParamType::Str),
        param("contact_flows_avp", ParamType::Str),
        param("disable_6xx_block", ParamType::Int),
        param("local_ack_mode", ParamType::Int),
        param("local_ack_branch_mode", ParamType::Int),
        param("failure_reply_mode", ParamType::Int),
        param("faked_reply_prio", ParamType::Int),
        param("remap_503_500", ParamType::Int),
        param("failure_exec_mode", ParamType::Int),
        param("dns_reuse_rcv_socket", ParamType::Int),
        param("local_cancel_reason", ParamType::Int),
        param("e2e_cancel_reason", ParamType::Int),
        param("e2e_cancel_hop_by_hop", ParamType::Int),
        param("headers_mode", ParamType::Int),
        param("xavp_contact", ParamType::Str),
        param("event_callback", ParamType::Str),
        param("evcb_local_ack_sent", ParamType::Str),
        param("relay_100", ParamType::Int),
        param("rich_redirect", ParamType::Int),
        param("event_callback_lres_sent", ParamType::Str),
        param("exec_time_check", ParamType::Int),
        param("reply_relay_mode", ParamType::Int),
        param("enable_uac_fr", ParamType::Int),
        // Only with USE_DNS_FAILOVER, which the default build defines.
        param("failover_reply_codes", ParamType::Str),
        param("reply_408_code", ParamType::Int),
        param("reply_408_reason", ParamType::Str),
        param("delayed_reply", ParamType::Int),
        checked_param("evlreq_mode", ParamType::Int, evlreq_mode),
    ],
    // $T_* variables come from tmx, not tm.
    pvs: &[],
    transformations: &[],
    requires: &[],
};

/// mod_init fails ("bad cancel branch method") outside 0..2.
fn cancel_b_method(value: &ParamValue) -> Result<(), String> {
    match value {
        ParamValue::Int(0..=2) => Ok(()),
        ParamValue::Int(n) => Err(format!("{n} is not 0, 1 or 2")),
        ParamValue::Str(_) => Ok(()),
    }
}

/// mod_init fails outside 0..3 (bit 1: hop-by-hop CANCEL, bit 2: hop-by-hop ACK).
fn evlreq_mode(value: &ParamValue) -> Result<(), String> {
    match value {
        ParamValue::Int(0..=3) => Ok(()),
        ParamValue::Int(n) => Err(format!("{n} is not in the range 0..3")),
        ParamValue::Str(_) => Ok(()),
    }
}
