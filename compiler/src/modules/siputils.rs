//! siputils: SIP message and URI helpers (Kamailio `src/modules/siputils`).

use super::*;

// `|` on RouteMask is not a const operation, so the tables use `union`.
const REQ_BR_FAIL: RouteMask = REQ.union(BR).union(FAIL);
const REQ_RPL: RouteMask = REQ.union(RPL);
const REQ_LOCAL: RouteMask = REQ.union(LOCAL);
const TEL2SIP_ROUTES: RouteMask = REQ.union(FAIL).union(BR).union(RPL);

// Nearly every row uses a mod_fix fixup with its free function (fixup_spve_*, fixup_igp_*,
// fixup_pvar_*, fixup_str_*), or a module fixup that has one, so run-time expressions are
// accepted.
const FMT1: &[ArgSpec] = &[dynamic(ArgKind::Fmt)];
const FMT2: &[ArgSpec] = &[dynamic(ArgKind::Fmt), dynamic(ArgKind::Fmt)];
// tel2sip/tel2sip2: uri and host part via fixup_var_str_12 (a string or one `$pv` name),
// then the name of a writable `$pv` that receives the result.
const TEL2SIP_ARGS: &[ArgSpec] = &[dynamic(ArgKind::Fmt), dynamic(ArgKind::Fmt), dynamic(ArgKind::WritablePvName)];
// set_uri_user/set_uri_host: writable URI `$pv` name, then a `$pv` name holding the value.
const SET_URI_ARGS: &[ArgSpec] = &[dynamic(ArgKind::WritablePvName), dynamic(ArgKind::PvName)];

pub static MODULE: Module = Module {
    name: "siputils",
    functions: &[
        func("options_reply", &[], REQ),
        func("is_user", FMT1, REQ_LOCAL),
        func("has_totag", &[], ANY),
        func("uri_param", FMT1, REQ_BR_FAIL),
        func("uri_param", FMT2, REQ_BR_FAIL),
        func("uri_param_any", FMT1, REQ_BR_FAIL),
        // fixup_str_null: used as written, no `$pv` expansion.
        func("add_uri_param", &[dynamic(ArgKind::Str)], REQ),
        func("get_uri_param", &[dynamic(ArgKind::Str), dynamic(ArgKind::WritablePvName)], REQ_LOCAL),
        func("uri_param_rm", FMT1, REQ_BR_FAIL),
        func("tel2sip", TEL2SIP_ARGS, TEL2SIP_ROUTES),
        func("tel2sip2", TEL2SIP_ARGS, TEL2SIP_ROUTES),
        func("is_uri", FMT1, ANY),
        func("is_e164", &[dynamic(ArgKind::PvName)], REQ.union(FAIL).union(LOCAL)),
        func("is_uri_user_e164", &[dynamic(ArgKind::PvName)], ANY),
        // No fixup: encoding prefix and public IP as plain strings.
        func("encode_contact", &[dynamic(ArgKind::Str), dynamic(ArgKind::Str)], REQ_RPL),
        func("decode_contact", &[], REQ),
        func("decode_contact_header", &[], REQ.union(FAIL).union(RPL)),
        func("cmp_uri", FMT2, ANY),
        func("cmp_aor", FMT2, ANY),
        func("cmp_hdr_name", FMT2, ANY),
        func("is_rpid_user_e164", &[], REQ),
        func("append_rpid_hf", &[], REQ_BR_FAIL),
        // fixup_str_str: prefix and suffix used as written.
        func("append_rpid_hf", &[dynamic(ArgKind::Str), dynamic(ArgKind::Str)], REQ_BR_FAIL),
        func("set_uri_user", SET_URI_ARGS, ANY),
        func("set_uri_host", SET_URI_ARGS, ANY),
        func("is_request", &[], ANY),
        func("is_reply", &[], ANY),
        func("is_sip", &[], ANY),
        func("is_http", &[], ANY),
        func("is_gruu", &[], ANY),
        func("is_gruu", FMT1, ANY),
        // One of path, gruu, timer, 100rel, outbound, eventlist (fixup_option, no free).
        func("is_supported", &[lit(ArgKind::Str)], ANY),
        func("is_first_hop", &[], ANY),
        func("is_first_hop", &[dynamic(ArgKind::Int)], ANY),
        func("is_tel_number", FMT1, ANY),
        func("is_numeric", FMT1, ANY),
        func("is_alphanum", FMT1, ANY),
        func("is_alphanumex", FMT2, ANY),
        func("sip_p_charging_vector", FMT1, ANY),
        func("contact_param_encode", FMT2, REQ_RPL),
        func("contact_param_encode_alias", FMT2, REQ_RPL),
        func("contact_param_decode", FMT1, REQ_RPL),
        func("contact_param_decode_ruri", FMT1, REQ),
        func("contact_param_rm", FMT1, REQ_RPL),
        func("contact_param_check", FMT1, ANY),
        func("hdr_date_check", &[dynamic(ArgKind::Int)], ANY),
        func("sip_parse_headers", &[], ANY),
        // API binding for other modules: exported with route flags 0, so Kamailio finds the
        // name but rejects every use in a script ("Command cannot be used in the block").
        // One parameter, no fixup.
        func("bind_siputils", &[dynamic(ArgKind::Any)], RouteMask::NONE),
    ],
    params: &[
        param("options_accept", ParamType::Str),
        param("options_accept_encoding", ParamType::Str),
        param("options_accept_language", ParamType::Str),
        param("options_support", ParamType::Str),
        param("contact_flds_separator", ParamType::Str),
        param("rpid_prefix", ParamType::Str),
        param("rpid_suffix", ParamType::Str),
        checked_param("rpid_avp", ParamType::Str, avp_name_or_empty),
        param("e164_max_len", ParamType::Int),
    ],
    // $pcv(all|orig|term|value|genaddr|status): the P-Charging-Vector parts. Read-only.
    pvs: &[pv_ro("pcv", PvInner::Required)],
    transformations: &[],
    // mod_init fails when sl_load_api() fails.
    requires: &["sl"],
};

/// mod_init fails unless rpid_avp is empty or an AVP such as `$avp(s:rpid)`.
fn avp_name_or_empty(value: &ParamValue) -> Result<(), String> {
    match value {
        ParamValue::Str(s) if s.is_empty() => Ok(()),
        ParamValue::Str(s) if s.starts_with("$avp(") || s.starts_with("$(avp(") => Ok(()),
        ParamValue::Str(s) => Err(format!("\"{s}\" is not an AVP such as \"$avp(s:rpid)\"")),
        ParamValue::Int(_) => Ok(()),
    }
}
