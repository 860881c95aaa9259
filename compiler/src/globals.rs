//! Core global parameters (`name = value` lines at the top level of `kamailio.cfg`).
//!
//! The table lists every parameter name that Kamailio's core grammar accepts in an
//! assignment (the `assign_stm` rule of `src/core/cfg.y`, plus `mpath`/`loadpath` from
//! `module_stm`). Each spelling that `src/core/cfg.lex` accepts is its own row, so aliases
//! such as `memdbg`/`mem_dbg` or `shm`/`shm_mem`/`shm_mem_size` are all here. The compiler
//! uses it to report `unknown-global-param` and `bad-global-param-value`.
//!
//! Not in the table (parsed separately): `socket = { ... }` blocks, `loadmodule[x]`,
//! `modparam[x]`, `cfgengine`, `coreparam[name] = ...` and custom dotted config variables
//! (`group.var = value [desc "..."]`). The six `kemi.*_callback` rows are the only dotted
//! names that are core parameters: `kemi` is a keyword, so `kemi.anything_else = ...` is a
//! syntax error, not a custom variable.
//!
//! A few parameters take a value that none of the [`GlobalKind`]s describes exactly. They use
//! the closest kind that accepts every value Kamailio accepts:
//!
//! * `advertised_address` (one host, IP or string, no port), `tcp_source_ipv4` (an IPv4
//!   address) and `tcp_source_ipv6` (an IPv6 address) use [`GlobalKind::Alias`].
//! * `udp_mtu_try_proto` (the words `udp`, `tcp`, `tls`, `sctp`, or `*`) and `tls_method`
//!   (`SSLv23`, `SSLv2`, `SSLv3`, `TLSv1`, in several letter cases) use
//!   [`GlobalKind::StrOrId`]. Kamailio rejects quoted forms of both.
//! * `log_facility` takes a bare identifier only (`LOG_LOCAL0`); it uses
//!   [`GlobalKind::StrOrId`], and Kamailio rejects `log_facility="LOG_LOCAL0"`.
//! * `tos` takes a number or a bare `IPTOS_*` identifier; it uses [`GlobalKind::NumOrStr`],
//!   so a value check must also allow an identifier for it.
//!
//! `Bool` marks the `Number` parameters that work as on/off switches. The syntax is the same
//! as for `Number`, so the difference only matters for messages and docs.

/// What a global parameter's value may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlobalKind {
    /// NUMBER: a non-negative integer literal (also yes/no/on/off/true/false/enable/disable, which lex as 1/0).
    Number,
    /// intno: an integer with an optional leading minus.
    Int,
    /// A number used as a boolean (yes/no...). Same syntax as Number.
    Bool,
    /// STRING only.
    Str,
    /// STRING or a bare identifier (ID), e.g. user=kamailio, log_facility=LOG_LOCAL0.
    StrOrId,
    /// Either a number or a string.
    NumOrStr,
    /// A socket list as for `listen` ([proto:]addr[:port] with advertise/name/virtual suffixes).
    Listen,
    /// A host list as for `alias` ([proto:]host[:port], no suffixes).
    Alias,
}

/// One core global parameter spelling and the value it takes.
#[derive(Clone, Copy, Debug)]
pub struct GlobalParam {
    /// The name as written before `=`.
    pub name: &'static str,
    /// The kind of value it accepts.
    pub kind: GlobalKind,
}

const fn p(name: &'static str, kind: GlobalKind) -> GlobalParam {
    GlobalParam { name, kind }
}

use GlobalKind::{Alias, Bool, Int, Listen, NumOrStr, Number, Str, StrOrId};

/// Sorted by name (byte order) for binary search; every spelling (alias) is its own row.
pub static GLOBAL_PARAMS: &[GlobalParam] = &[
    p("add_rport", Bool),
    p("advertised_address", Alias),
    p("advertised_port", Number),
    p("alias", Alias),
    p("async_nonblock", Bool),
    p("async_tkv_evcb", Str),
    p("async_tkv_gname", Str),
    p("async_usleep", Number),
    p("async_workers", Number),
    p("async_workers_group", Str),
    p("auto_aliases", Bool),
    p("auto_bind_ipv6", Bool),
    p("auto_domains", Bool),
    p("bind_ipv6_link_local", Number),
    p("check_via", Bool),
    p("children", Number),
    p("chroot", StrOrId),
    p("core_log", Int),
    p("corelog", Int),
    p("debug", Int),
    p("disable_core_dump", Bool),
    p("disable_sctp", Bool),
    p("disable_tcp", Bool),
    p("disable_tls", Bool),
    p("dns", Bool),
    p("dns_cache_del_nonexp", Bool),
    p("dns_cache_delete_nonexpired", Bool),
    p("dns_cache_flags", Number),
    p("dns_cache_gc_interval", Number),
    p("dns_cache_init", Bool),
    p("dns_cache_max_ttl", Number),
    p("dns_cache_mem", Number),
    p("dns_cache_min_ttl", Number),
    p("dns_cache_negative_ttl", Number),
    p("dns_cache_rec_pref", Number),
    p("dns_naptr_ignore_rfc", Bool),
    p("dns_retr_no", Number),
    p("dns_retr_time", Number),
    p("dns_rev_via", Bool),
    p("dns_sctp_pref", Int),
    p("dns_sctp_preference", Int),
    p("dns_search_full_match", Bool),
    p("dns_servers_no", Number),
    p("dns_slow_query_ms", Number),
    p("dns_srv_lb", Bool),
    p("dns_srv_loadbalancing", Bool),
    p("dns_tcp_pref", Int),
    p("dns_tcp_preference", Int),
    p("dns_tls_pref", Int),
    p("dns_tls_preference", Int),
    p("dns_try_ipv6", Bool),
    p("dns_try_naptr", Bool),
    p("dns_udp_pref", Int),
    p("dns_udp_preference", Int),
    p("dns_use_cache", Bool),
    p("dns_use_failover", Bool),
    p("dns_use_search_list", Bool),
    p("domain", Alias),
    p("dst_blocklist_expire", Number),
    p("dst_blocklist_gc_interval", Number),
    p("dst_blocklist_init", Bool),
    p("dst_blocklist_mem", Number),
    p("dst_blocklist_sctp_imask", Number),
    p("dst_blocklist_tcp_imask", Number),
    p("dst_blocklist_tls_imask", Number),
    p("dst_blocklist_ttl", Number),
    p("dst_blocklist_udp_imask", Number),
    p("enable_sctp", Number),
    p("enable_tls", Bool),
    p("exit_timeout", Number),
    p("force_rport", Bool),
    p("fork", Bool),
    p("fork_delay", Number),
    p("gid", StrOrId),
    p("group", StrOrId),
    p("hdr_name_extra_chars", Str),
    p("http_reply_hack", Bool),
    p("http_reply_parse", Bool),
    p("ip_free_bind", Int),
    p("ip_nonlocal_bind", Int),
    p("ipfreebind", Int),
    p("ipv6_hex_style", Str),
    p("kemi.event_route_callback", Str),
    p("kemi.onsend_route_callback", Str),
    p("kemi.pre_routing_callback", Str),
    p("kemi.received_route_callback", Str),
    p("kemi.reply_route_callback", Str),
    p("kemi.request_route_callback", Str),
    p("latency_cfg_log", Int),
    p("latency_limit_action", Number),
    p("latency_limit_cfg", Number),
    p("latency_limit_db", Number),
    p("latency_log", Int),
    p("listen", Listen),
    p("loadpath", Str),
    p("local_rport", Bool),
    p("log_color", Bool),
    p("log_engine_data", Str),
    p("log_engine_type", Str),
    p("log_facility", StrOrId),
    p("log_name", Str),
    p("log_prefix", Str),
    p("log_prefix_mode", Number),
    p("log_stderror", Bool),
    p("max_branches", Number),
    p("max_recursive_level", Number),
    p("max_while_loops", Number),
    p("maxbuffer", Number),
    p("maxsndbuffer", Number),
    p("mcast", StrOrId),
    p("mcast_loopback", Bool),
    p("mcast_ttl", Number),
    p("mem_add_size", Int),
    p("mem_dbg", Int),
    p("mem_join", Int),
    p("mem_log", Int),
    p("mem_safety", Int),
    p("mem_status_mode", Int),
    p("mem_summary", Int),
    p("memdbg", Int),
    p("memlog", Int),
    p("mhomed", Bool),
    p("mlock_pages", Bool),
    p("modinit_delay", Number),
    p("mpath", Str),
    p("msg_apply_changes_mode", Number),
    p("msg_clone_extra_size", Number),
    p("msg_recv_max_size", Number),
    p("msg_time", Number),
    p("onsend_route_reply", Bool),
    p("open_files_limit", Number),
    p("phone2tel", Number),
    p("pmtu_discovery", Number),
    p("port", Number),
    p("pv_buffer_size", Number),
    p("pv_buffer_slots", Number),
    p("pv_cache_action", Number),
    p("pv_cache_limit", Number),
    p("real_time", Number),
    p("received_route_mode", Int),
    p("reply_to_via", Bool),
    p("return_mode", Number),
    p("rev_dns", Bool),
    p("route_locks_size", Number),
    p("rpc_exec_delta", Number),
    p("rpc_exec_locks", Number),
    p("rpc_exec_locks_mode", Number),
    p("rt_fast_timer_prio", Number),
    p("rt_ftimer_policy", Number),
    p("rt_ftimer_prio", Number),
    p("rt_policy", Number),
    p("rt_prio", Number),
    p("rt_stimer_policy", Number),
    p("rt_stimer_prio", Number),
    p("rt_timer1_policy", Number),
    p("rt_timer1_prio", Number),
    p("rt_timer2_policy", Number),
    p("rt_timer2_prio", Number),
    p("run_dir", StrOrId),
    p("rundir", StrOrId),
    p("sctp_children", Number),
    p("ser_kill_timeout", Number),
    p("server_header", Str),
    p("server_id", Number),
    p("server_signature", Bool),
    p("shm", Number),
    p("shm_force_alloc", Bool),
    p("shm_mem", Number),
    p("shm_mem_size", Number),
    p("sip_parser_log", Int),
    p("sip_parser_log_oneline", Int),
    p("sip_parser_mode", Int),
    p("sip_warning", Bool),
    p("socket_workers", Number),
    p("sql_buffer_size", Number),
    p("stats_name_separator", Str),
    p("tcp_accept_aliases", Bool),
    p("tcp_accept_haproxy", Bool),
    p("tcp_accept_hep3", Bool),
    p("tcp_accept_iplimit", Number),
    p("tcp_accept_no_cl", Bool),
    p("tcp_accept_protocols", NumOrStr),
    p("tcp_accept_protos", NumOrStr),
    p("tcp_accept_unique", Bool),
    p("tcp_async", Bool),
    p("tcp_buf_write", Bool),
    p("tcp_check_timer", Number),
    p("tcp_children", Number),
    p("tcp_clone_rcvbuf", Bool),
    p("tcp_close_rst", Bool),
    p("tcp_conn_wq_max", Number),
    p("tcp_connect_timeout", Int),
    p("tcp_connection_lifetime", Int),
    p("tcp_connection_match", Number),
    p("tcp_crlf_ping", Bool),
    p("tcp_defer_accept", Number),
    p("tcp_delayed_ack", Bool),
    p("tcp_fd_cache", Bool),
    p("tcp_keepalive", Bool),
    p("tcp_keepcnt", Number),
    p("tcp_keepidle", Number),
    p("tcp_keepintvl", Number),
    p("tcp_linger2", Number),
    p("tcp_listen_backlog", Number),
    p("tcp_main_threads", Number),
    p("tcp_max_connections", Number),
    p("tcp_msg_data_timeout", Number),
    p("tcp_msg_read_timeout", Number),
    p("tcp_no_connect", Bool),
    p("tcp_poll_method", StrOrId),
    p("tcp_rd_buf_size", Number),
    p("tcp_reuse_port", Bool),
    p("tcp_script_mode", Int),
    p("tcp_send_timeout", Int),
    p("tcp_source_ipv4", Alias),
    p("tcp_source_ipv6", Alias),
    p("tcp_syncnt", Number),
    p("tcp_wait_data", Int),
    p("tcp_wq_blk_size", Number),
    p("tcp_wq_max", Number),
    p("tls_ca_list", Str),
    p("tls_certificate", Str),
    p("tls_connection_match_domain", Bool),
    p("tls_disable", Bool),
    p("tls_enable", Bool),
    p("tls_handshake_timeout", Number),
    p("tls_log", Number),
    p("tls_max_connections", Number),
    p("tls_method", StrOrId),
    p("tls_port_no", Number),
    p("tls_private_key", Str),
    p("tls_require_certificate", Bool),
    p("tls_send_timeout", Number),
    p("tls_threads_mode", Number),
    p("tls_verify", Bool),
    p("tlslog", Number),
    p("tos", NumOrStr),
    p("udp4_raw", Int),
    p("udp4_raw_mtu", Number),
    p("udp4_raw_ttl", Number),
    p("udp_accept_proxy", Number),
    p("udp_mtu", Number),
    p("udp_mtu_try_proto", StrOrId),
    p("udp_receiver_mode", Number),
    p("uid", StrOrId),
    p("uri_host_extra_chars", Str),
    p("use_dns_cache", Bool),
    p("use_dns_failover", Bool),
    p("use_dst_blocklist", Bool),
    p("user", StrOrId),
    p("user_agent_header", Str),
    p("verbose_startup", Bool),
    p("version_table", Str),
    p("wait_worker1_mode", Number),
    p("wait_worker1_time", Number),
    p("wait_worker1_usleep", Number),
    p("wdir", StrOrId),
    p("workdir", StrOrId),
    p("xavp_via_fields", Str),
    p("xavp_via_params", Str),
    p("xavp_via_reply_params", Str),
];

/// Looks up a global parameter by its exact (case-sensitive) spelling.
pub fn find(name: &str) -> Option<&'static GlobalParam> {
    GLOBAL_PARAMS.binary_search_by(|g| g.name.as_bytes().cmp(name.as_bytes())).ok().and_then(|i| GLOBAL_PARAMS.get(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &str) -> Option<GlobalKind> {
        find(name).map(|g| g.kind)
    }

    #[test]
    fn sorted_and_unique() {
        for w in GLOBAL_PARAMS.windows(2) {
            assert!(w[0].name.as_bytes() < w[1].name.as_bytes(), "{:?} must sort before {:?}", w[0].name, w[1].name);
        }
    }

    #[test]
    fn every_row_is_found() {
        for g in GLOBAL_PARAMS {
            assert_eq!(find(g.name).map(|f| f.name), Some(g.name));
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(kind("debug"), Some(Int));
        assert_eq!(kind("children"), Some(Number));
        assert_eq!(kind("listen"), Some(Listen));
        assert_eq!(kind("alias"), Some(Alias));
        assert_eq!(kind("tcp_accept_no_cl"), Some(Bool));
        assert_eq!(kind("user"), Some(StrOrId));
        assert_eq!(kind("mpath"), Some(Str));
        assert_eq!(kind("loadpath"), Some(Str));
        assert_eq!(kind("tcp_accept_protocols"), Some(NumOrStr));
        assert_eq!(kind("kemi.request_route_callback"), Some(Str));
        assert!(find("foo_bar").is_none());
        assert!(find("DEBUG").is_none());
        assert!(find("").is_none());
    }

    #[test]
    fn aliases_share_kind() {
        for (a, b) in [
            ("memdbg", "mem_dbg"),
            ("memlog", "mem_log"),
            ("shm", "shm_mem_size"),
            ("workdir", "wdir"),
            ("force_rport", "add_rport"),
        ] {
            assert!(kind(a).is_some(), "{a}");
            assert_eq!(kind(a), kind(b), "{a} vs {b}");
        }
    }
}
