//! The textops module: text operations on the SIP message (Kamailio `src/modules/textops`).

use super::*;

use super::ArgKind::*;

// `|` on RouteMask is not a const operation, so the tables use `union`.
const REQ_FAIL_BR: RouteMask = REQ.union(FAIL).union(BR);
const REQ_RPL_FAIL_BR: RouteMask = REQ.union(RPL).union(FAIL).union(BR);

// regex_substring(input, regex, match index, match count, result variable).
const REGEX_SUBSTRING: &[ArgSpec] = &[lit(Fmt), lit(Fmt), lit(Int), lit(Int), lit(WritablePvName)];

// `dynamic` follows Kamailio's rule for each cmds[] row: a run-time expression is accepted when
// the row has no fixup or has a free fixup (given in the row, or filled in by Kamailio for
// fixup_regexp_null, fixup_spve_*, fixup_str_null...). Rows whose custom fixup has no free
// fixup (add_header_fixup, fixup_substre, fixup_method, fixup_body_type, fixup_privacy,
// fixup_search_hf, fixup_subst_hf, fixup_multibody_f, fixup_get_body_part,
// fixup_regex_substring) need constants. Regexes taken through fixup_spve (the *_pv and *_str
// functions, search_str, regex_substring) are format strings compiled at run time: `Fmt`.
#[rustfmt::skip]
pub static MODULE: Module = Module {
    name: "textops",
    functions: &[
        func("search", &[dynamic(Regex)], ANY),
        func("search_body", &[dynamic(Regex)], ANY),
        // header name, regex, flags ("f" first, "l" last).
        func("search_hf", &[lit(Str), lit(Regex), lit(Str)], ANY),
        func("search_append", &[dynamic(Regex), dynamic(Str)], ANY),
        func("search_append_body", &[dynamic(Regex), dynamic(Str)], ANY),
        func("replace", &[dynamic(Regex), dynamic(Str)], ANY),
        func("replace_str", &[dynamic(Fmt), dynamic(Fmt), dynamic(Fmt)], ANY),
        func("replace_body", &[dynamic(Regex), dynamic(Str)], ANY),
        func("replace_body_str", &[dynamic(Fmt), dynamic(Fmt), dynamic(Fmt)], ANY),
        func("replace_hdrs", &[dynamic(Regex), dynamic(Str)], ANY),
        func("replace_hdrs_str", &[dynamic(Fmt), dynamic(Fmt), dynamic(Fmt)], ANY),
        func("replace_all", &[dynamic(Regex), dynamic(Str)], ANY),
        func("replace_body_all", &[dynamic(Regex), dynamic(Str)], ANY),
        func("replace_body_atonce", &[dynamic(Regex), dynamic(Str)], ANY),
        func("append_to_reply", &[dynamic(Fmt)], REQ_FAIL_BR),
        func("append_hf", &[lit(Fmt)], ANY),
        func("append_hf", &[lit(Fmt), lit(Str)], ANY),
        func("insert_hf", &[lit(Fmt)], ANY),
        func("insert_hf", &[lit(Fmt), lit(Str)], ANY),
        func("append_urihf", &[dynamic(Str), dynamic(Str)], REQ_FAIL_BR),
        func("remove_hf", &[dynamic(Str)], ANY),
        func("remove_hf_idx", &[dynamic(Fmt), dynamic(Int)], ANY),
        func("remove_hf_re", &[dynamic(Regex)], ANY),
        func("remove_hf_exp", &[dynamic(Regex), dynamic(Regex)], ANY),
        func("is_present_hf", &[dynamic(Str)], ANY),
        func("is_present_hf_re", &[dynamic(Regex)], ANY),
        func("remove_hf_pv", &[dynamic(Fmt)], ANY),
        func("remove_hf_re_pv", &[dynamic(Fmt)], ANY),
        func("remove_hf_exp_pv", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        func("remove_hf_match", &[dynamic(Fmt), dynamic(Fmt), dynamic(Fmt)], ANY),
        func("is_present_hf_pv", &[dynamic(Fmt)], ANY),
        func("is_present_hf_re_pv", &[dynamic(Fmt)], ANY),
        func("subst", &[lit(Subst)], ANY),
        func("subst_uri", &[lit(Subst)], REQ_RPL_FAIL_BR),
        func("subst_user", &[lit(Subst)], REQ_RPL_FAIL_BR),
        func("subst_body", &[lit(Subst)], ANY),
        // header name, substitution, flags ("f" first, "l" last).
        func("subst_hf", &[lit(Str), lit(Subst), lit(Str)], ANY),
        func("subst_v", &[dynamic(Fmt), dynamic(Fmt), dynamic(WritablePvName)], ANY),
        func("filter_body", &[dynamic(Str)], ANY),
        func("append_time", &[], REQ_FAIL_BR),
        func("set_body", &[dynamic(Fmt), dynamic(Fmt)], REQ_RPL_FAIL_BR),
        func("set_body_hex", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        func("set_reply_body", &[dynamic(Fmt), dynamic(Fmt)], REQ_FAIL_BR),
        func("set_reply_body_hex", &[dynamic(Fmt), dynamic(Fmt)], REQ_FAIL_BR),
        func("is_method", &[lit(Methods)], ANY),
        func("has_body", &[], ANY),
        // A MIME type such as "application/sdp".
        func("has_body", &[lit(Str)], ANY),
        // Privacy values such as "header|session|user|id".
        func("is_privacy", &[lit(Str)], ANY),
        // subject, list, one-character separator.
        func("in_list", &[dynamic(Fmt), dynamic(Fmt), dynamic(Str)], ANY),
        func("in_list_prefix", &[dynamic(Fmt), dynamic(Fmt), dynamic(Str)], ANY),
        func("cmp_str", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        func("cmp_istr", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        func("search_str", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        func("starts_with", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        func("ends_with", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        func("str_find", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        func("str_ifind", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        func("str_any_in", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        func("str_all_in", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        func("is_audio_on_hold", &[], ANY),
        func("append_time_to_request", &[], ANY),
        func("via_param_rm", &[dynamic(Fmt), dynamic(Int)], ANY),
        func("set_body_multipart", &[], REQ_FAIL_BR),
        func("set_body_multipart", &[dynamic(Fmt)], REQ_FAIL_BR),
        func("set_body_multipart", &[dynamic(Fmt), dynamic(Fmt)], REQ_FAIL_BR),
        func("set_body_multipart", &[lit(Fmt), lit(Fmt), lit(Fmt)], REQ_FAIL_BR),
        func("append_body_part", &[dynamic(Fmt), dynamic(Fmt)], REQ_FAIL_BR),
        func("append_body_part", &[lit(Fmt), lit(Fmt), lit(Fmt)], REQ_FAIL_BR),
        func("append_body_part_hex", &[dynamic(Fmt), dynamic(Fmt)], REQ_FAIL_BR),
        func("append_body_part_hex", &[lit(Fmt), lit(Fmt), lit(Fmt)], REQ_FAIL_BR),
        func("remove_body_part", &[dynamic(Fmt)], REQ_FAIL_BR),
        func("get_body_part_raw", &[lit(Fmt), lit(WritablePvName)], REQ_RPL_FAIL_BR),
        func("get_body_part", &[lit(Fmt), lit(WritablePvName)], REQ_RPL_FAIL_BR),
        func("regex_substring", REGEX_SUBSTRING, REQ_RPL_FAIL_BR),
        // An API export with no route flags: Kamailio rejects it in every block.
        func("bind_textops", &[], RouteMask::NONE),
    ],
    params: &[],
    pvs: &[],
    // mod_trans[] in textops.c: `{re.subst,/a/b/}`.
    transformations: &["re"],
    requires: &[],
};
