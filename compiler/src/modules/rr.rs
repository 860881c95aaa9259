//! rr: Record-Route and loose routing (Kamailio `src/modules/rr`).

use super::*;

// `|` on RouteMask is not a const operation, so the tables use `union`.
const RR_ROUTES: RouteMask = REQ.union(BR).union(FAIL);

pub static MODULE: Module = Module {
    name: "rr",
    functions: &[
        func("loose_route", &[], REQ),
        func("loose_route_preloaded", &[], REQ),
        func("loose_route_mode", &[dynamic(ArgKind::Int)], REQ),
        func("record_route", &[], RR_ROUTES),
        // it_list_fixup parses a pv format and has a free function.
        func("record_route", &[dynamic(ArgKind::Fmt)], RR_ROUTES),
        func("record_route_preset", &[dynamic(ArgKind::Fmt)], RR_ROUTES),
        func("record_route_preset", &[dynamic(ArgKind::Fmt), dynamic(ArgKind::Fmt)], RR_ROUTES),
        func("record_route_advertised_address", &[dynamic(ArgKind::Fmt)], RR_ROUTES),
        func("add_rr_param", &[dynamic(ArgKind::Fmt)], RR_ROUTES),
        // fixup_regexp_null with fixup_free_regexp_null: an expression is compiled per call.
        func("check_route_param", &[dynamic(ArgKind::Regex)], REQ),
        // "downstream" or "upstream"; direction_fixup has no free function.
        func("is_direction", &[lit(ArgKind::Str)], REQ),
        func("remove_record_route", &[], REQ.union(FAIL)),
        func("rr_next_hop_route", &[], ANY),
        // API binding for other modules: exported with route flags 0, so Kamailio finds the
        // name but rejects every use in a script ("Command cannot be used in the block").
        func("load_rr", &[], RouteMask::NONE),
    ],
    params: &[
        param("append_fromtag", ParamType::Int),
        param("enable_double_rr", ParamType::Int),
        param("enable_full_lr", ParamType::Int),
        param("add_username", ParamType::Int),
        param("enable_socket_mismatch_warning", ParamType::Int),
        param("custom_user_avp", ParamType::Str),
        param("force_send_socket", ParamType::Int),
        param("ignore_sips", ParamType::Int),
        param("sockname_mode", ParamType::Int),
        param("loose_route_mode", ParamType::Int),
    ],
    pvs: &[
        pv_ro("route_uri", PvInner::None),
        pv_ro("fti", PvInner::None),
        pv_ro("tti", PvInner::None),
        // $rdir(id) / $rdir(name)
        pv_ro("rdir", PvInner::Required),
    ],
    transformations: &[],
    // outbound is bound when present; its absence is only logged.
    requires: &[],
};
