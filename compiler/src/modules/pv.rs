//! The pv module: pseudo-variables, transformations and xavp helpers (Kamailio `src/modules/pv`).

use super::*;

use super::ArgKind::*;

// `|` on RouteMask is not a const operation, so the tables use `union`.
const REQ_BR_FAIL: RouteMask = REQ.union(BR).union(FAIL);

// Argument kinds follow the fixups of `cmds[]` in pv.c. Every row with a fixup also has a
// free fixup (given, or filled in by Kamailio for the fixups it knows), so Kamailio accepts a
// run-time expression in every position except `pv_evalx`'s. For the `PvName` positions that
// means the expression's *value* is parsed as a PV name when the call runs.
#[rustfmt::skip]
pub static MODULE: Module = Module {
    name: "pv",
    functions: &[
        func("pv_isset", &[dynamic(PvName)], ANY),
        // Unsetting assigns $null, so the variable must have a setter.
        func("pv_unset", &[dynamic(WritablePvName)], ANY),
        func("pv_xavp_print", &[], ANY),
        func("pv_xavu_print", &[], ANY),
        func("pv_xavi_print", &[], ANY),
        func("pv_var_to_xavp", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        func("pv_xavp_to_var", &[dynamic(Fmt)], ANY),
        func("is_int", &[dynamic(PvName)], ANY),
        // The second argument is read raw: only its first letter (i, s, n) matters.
        func("typeof", &[dynamic(PvName), dynamic(Str)], ANY),
        func("not_empty", &[dynamic(PvName)], ANY),
        // fixup_var_str_12 / fixup_var_int_12: a plain value or a single $pv.
        func("xavp_copy", &[dynamic(Fmt), dynamic(Int), dynamic(Fmt)], ANY),
        func("xavp_copy", &[dynamic(Fmt), dynamic(Int), dynamic(Fmt), dynamic(Int)], ANY),
        func("xavp_slist_explode", &[dynamic(Fmt), dynamic(Fmt), dynamic(Fmt), dynamic(Fmt)], ANY),
        func("xavp_params_explode", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        func("xavp_xparams_explode", &[dynamic(Fmt), dynamic(Fmt), dynamic(Fmt)], ANY),
        func("xavp_params_implode", &[dynamic(Fmt), dynamic(WritablePvName)], ANY),
        func("xavp_params_implode_qval", &[dynamic(Fmt), dynamic(WritablePvName)], ANY),
        func("xavu_params_explode", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        func("xavu_params_implode", &[dynamic(Fmt), dynamic(WritablePvName)], ANY),
        func("xavp_child_seti", &[dynamic(Fmt), dynamic(Fmt), dynamic(Int)], ANY),
        func("xavp_child_sets", &[dynamic(Fmt), dynamic(Fmt), dynamic(Fmt)], ANY),
        func("xavp_rm", &[dynamic(Fmt)], ANY),
        func("xavp_rm_all", &[dynamic(Fmt)], ANY),
        func("xavp_child_rm", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        func("xavi_child_seti", &[dynamic(Fmt), dynamic(Fmt), dynamic(Int)], ANY),
        func("xavi_child_sets", &[dynamic(Fmt), dynamic(Fmt), dynamic(Fmt)], ANY),
        func("xavi_rm", &[dynamic(Fmt)], ANY),
        func("xavi_rm_all", &[dynamic(Fmt)], ANY),
        func("xavi_child_rm", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        func("xavp_lshift", &[dynamic(Fmt), dynamic(Int)], ANY),
        func("xavp_push_dst", &[dynamic(Fmt)], REQ_BR_FAIL),
        func("sbranch_set_ruri", &[], ANY),
        func("sbranch_append", &[], ANY),
        func("sbranch_reset", &[], ANY),
        // pv_evalx_fixup has no free fixup: both arguments must be constants.
        func("pv_evalx", &[lit(WritablePvName), lit(Fmt)], ANY),
        // `pv_register_api` is NO_SCRIPT (not callable from a config) and is left out.
    ],
    params: &[
        checked_param("shvset", ParamType::Str, var_init),
        checked_param("varset", ParamType::Str, var_init),
        param("avp_aliases", ParamType::Str),
    ],
    // mod_pvs[] in pv.c, in table order. Kamailio requires `(name)` exactly when the entry
    // has a name parser, and refuses it otherwise, so no class here is `Optional`.
    pvs: &[
        pv_ro("_s", PvInner::Required),
        pv_ro("af", PvInner::Required),
        pv_rw("branch", PvInner::Required),
        pv_rw("sbranch", PvInner::Required),
        pv_ro("mi", PvInner::None),
        pv_ro("stat", PvInner::Required),
        pv_ro("sel", PvInner::Required),
        pv_ro("snd", PvInner::Required),
        pv_ro("sndto", PvInner::Required),
        pv_ro("sndfrom", PvInner::Required),
        pv_rw("rcv", PvInner::Required),
        pv_rw("recv", PvInner::Required),
        pv_rw("xavp", PvInner::Required),
        pv_rw("xavu", PvInner::Required),
        pv_rw("xavi", PvInner::Required),
        pv_rw("avp", PvInner::Required),
        pv_ro("hdr", PvInner::Required),
        pv_ro("hdrc", PvInner::Required),
        pv_ro("hfl", PvInner::Required),
        pv_ro("hflc", PvInner::Required),
        pv_rw("var", PvInner::Required),
        pv_rw("vz", PvInner::Required),
        pv_rw("vn", PvInner::Required),
        pv_ro("ai", PvInner::None),
        pv_ro("adu", PvInner::None),
        pv_ro("ar", PvInner::None),
        pv_ro("au", PvInner::None),
        pv_ro("ad", PvInner::None),
        pv_ro("aU", PvInner::None),
        pv_ro("aa", PvInner::None),
        pv_ro("adn", PvInner::None),
        pv_ro("adc", PvInner::None),
        pv_ro("adr", PvInner::None),
        pv_ro("ado", PvInner::None),
        pv_ro("Au", PvInner::None),
        pv_ro("AU", PvInner::None),
        pv_rw("bf", PvInner::None),
        pv_rw("bF", PvInner::None),
        pv_rw("Bf", PvInner::Required),
        pv_rw("br", PvInner::None),
        pv_ro("bR", PvInner::None),
        pv_ro("bs", PvInner::None),
        pv_ro("ci", PvInner::None),
        pv_ro("cl", PvInner::None),
        pv_ro("cnt", PvInner::Required),
        pv_ro("conid", PvInner::None),
        pv_ro("cs", PvInner::None),
        pv_ro("csb", PvInner::None),
        pv_ro("ct", PvInner::None),
        pv_ro("cts", PvInner::None),
        pv_ro("ctu", PvInner::None),
        pv_ro("cT", PvInner::None),
        pv_ro("dd", PvInner::None),
        pv_ro("di", PvInner::None),
        pv_ro("dir", PvInner::None),
        pv_ro("dip", PvInner::None),
        pv_ro("dic", PvInner::None),
        pv_ro("dp", PvInner::None),
        pv_ro("dP", PvInner::None),
        pv_ro("ds", PvInner::None),
        pv_rw("du", PvInner::None),
        pv_rw("duri", PvInner::None),
        pv_ro("err.class", PvInner::None),
        pv_ro("err.level", PvInner::None),
        pv_ro("err.info", PvInner::None),
        pv_ro("err.rcode", PvInner::None),
        pv_ro("err.rreason", PvInner::None),
        pv_ro("En", PvInner::None),
        pv_ro("Er", PvInner::None),
        pv_ro("Es", PvInner::None),
        pv_ro("Et", PvInner::None),
        pv_ro("Ec", PvInner::None),
        pv_ro("Eq", PvInner::None),
        pv_ro("Ek", PvInner::None),
        pv_ro("Ei", PvInner::None),
        pv_ro("Ej", PvInner::None),
        pv_ro("Eb", PvInner::None),
        pv_ro("Ev", PvInner::None),
        pv_rw("fd", PvInner::None),
        pv_rw("from.domain", PvInner::None),
        pv_rw("fn", PvInner::None),
        pv_rw("fs", PvInner::None),
        pv_rw("fsn", PvInner::None),
        pv_ro("fsp", PvInner::None),
        pv_ro("ft", PvInner::None),
        pv_rw("fu", PvInner::None),
        pv_rw("from", PvInner::None),
        pv_ro("ful", PvInner::None),
        pv_rw("fU", PvInner::None),
        pv_rw("from.user", PvInner::None),
        pv_ro("fUl", PvInner::None),
        pv_ro("mb", PvInner::None),
        pv_ro("mbu", PvInner::None),
        pv_rw("mf", PvInner::None),
        pv_rw("mF", PvInner::None),
        pv_rw("Mf", PvInner::Required),
        pv_ro("ml", PvInner::None),
        pv_ro("mt", PvInner::None),
        pv_ro("mts", PvInner::None),
        pv_ro("od", PvInner::None),
        pv_ro("op", PvInner::None),
        pv_ro("oP", PvInner::None),
        pv_ro("ou", PvInner::None),
        pv_ro("ouri", PvInner::None),
        pv_ro("oU", PvInner::None),
        pv_ro("oUl", PvInner::None),
        pv_ro("pd", PvInner::None),
        pv_ro("pn", PvInner::None),
        pv_ro("pp", PvInner::None),
        pv_ro("pr", PvInner::None),
        pv_ro("prid", PvInner::None),
        pv_ro("proto", PvInner::None),
        pv_ro("pu", PvInner::None),
        pv_ro("pU", PvInner::None),
        pv_ro("rb", PvInner::None),
        pv_rw("rd", PvInner::None),
        pv_rw("ruri.domain", PvInner::None),
        pv_ro("re", PvInner::None),
        pv_ro("rm", PvInner::None),
        pv_ro("rmid", PvInner::None),
        pv_rw("rp", PvInner::None),
        pv_ro("rP", PvInner::None),
        pv_ro("rr", PvInner::None),
        pv_ro("rs", PvInner::None),
        pv_ro("rsi", PvInner::None),
        pv_ro("rt", PvInner::None),
        pv_rw("ru", PvInner::None),
        pv_rw("ruri", PvInner::None),
        pv_ro("rul", PvInner::None),
        pv_rw("rU", PvInner::None),
        pv_rw("ruri.user", PvInner::None),
        pv_ro("rUl", PvInner::None),
        pv_ro("rv", PvInner::None),
        pv_ro("rz", PvInner::None),
        pv_ro("Ras", PvInner::None),
        pv_ro("Ri", PvInner::None),
        pv_ro("Rp", PvInner::None),
        pv_ro("Ru", PvInner::None),
        pv_ro("Rut", PvInner::None),
        pv_ro("Rn", PvInner::None),
        pv_ro("RAi", PvInner::None),
        pv_ro("RAp", PvInner::None),
        pv_ro("RAu", PvInner::None),
        pv_ro("RAut", PvInner::None),
        pv_ro("sas", PvInner::None),
        pv_rw("sf", PvInner::None),
        pv_rw("sF", PvInner::None),
        pv_rw("Sf", PvInner::Required),
        pv_ro("src_ip", PvInner::None),
        pv_ro("si", PvInner::None),
        pv_ro("siz", PvInner::None),
        pv_ro("sid", PvInner::None),
        pv_ro("sp", PvInner::None),
        pv_ro("su", PvInner::None),
        pv_ro("sut", PvInner::None),
        pv_rw("td", PvInner::None),
        pv_rw("to.domain", PvInner::None),
        pv_rw("tn", PvInner::None),
        pv_ro("tt", PvInner::None),
        pv_ro("tts", PvInner::None),
        pv_rw("tu", PvInner::None),
        pv_rw("to", PvInner::None),
        pv_rw("tU", PvInner::None),
        pv_rw("to.user", PvInner::None),
        // Kamailio gives $tUl (To user length) the To-user setter, so it is writable there.
        pv_rw("tUl", PvInner::None),
        pv_ro("true", PvInner::None),
        pv_ro("Tb", PvInner::None),
        pv_ro("Tf", PvInner::None),
        pv_ro("TF", PvInner::None),
        pv_ro("Ts", PvInner::None),
        pv_ro("TS", PvInner::None),
        pv_ro("ua", PvInner::None),
        pv_ro("ruid", PvInner::None),
        pv_ro("location_ua", PvInner::None),
        pv_rw("shv", PvInner::Required),
        pv_ro("shvinc", PvInner::Required),
        pv_ro("time", PvInner::Required),
        pv_ro("timef", PvInner::Required),
        pv_ro("utime", PvInner::Required),
        pv_ro("utimef", PvInner::Required),
        pv_ro("TV", PvInner::Required),
        pv_ro("nh", PvInner::Required),
        pv_ro("version", PvInner::Required),
        pv_ro("K", PvInner::Required),
        pv_ro("expires", PvInner::Required),
        pv_ro("msg", PvInner::Required),
        pv_ro("ksr", PvInner::Required),
        pv_ro("rpl", PvInner::Required),
        pv_rw("ccp", PvInner::Required),
        pv_ro("via0", PvInner::Required),
        pv_ro("via1", PvInner::Required),
        pv_ro("viaZ", PvInner::Required),
        pv_rw("msgbuf", PvInner::Required),
    ],
    // mod_trans[] in pv.c.
    transformations: &["s", "nameaddr", "uri", "param", "tobody", "line", "urialias", "val", "num"],
    requires: &[],
};

/// The initial value a `varset` / `shvset` modparam gives a variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarValue<'a> {
    Int(i32),
    Str(&'a str),
}

/// A parsed `varset` / `shvset` value: `name=i:123` or `name=s:text`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VarInit<'a> {
    pub name: &'a str,
    pub value: VarValue<'a>,
}

const VAR_INIT_FORMS: &str = "expected \"name=i:number\" or \"name=s:text\"";

/// Parses a `varset` / `shvset` value the way Kamailio's `param_set_xvar` (pv_shv.c) does:
/// the name is everything before the first `=` (taken as written), then a type letter
/// (`i`/`I` or `s`/`S`), a `:`, and the value, which runs to the end of the text.
pub fn parse_var_init(text: &str) -> Result<VarInit<'_>, String> {
    if text.is_empty() {
        return Err(format!("the value is empty; {VAR_INIT_FORMS}"));
    }
    let Some((name, rest)) = text.split_once('=') else {
        return Err(format!("no '=' in \"{text}\"; {VAR_INIT_FORMS}"));
    };
    if name.is_empty() {
        return Err(format!("the variable name before '=' is empty; {VAR_INIT_FORMS}"));
    }
    let mut chars = rest.chars();
    let is_int = match chars.next() {
        Some('i' | 'I') => true,
        Some('s' | 'S') => false,
        Some(other) => {
            return Err(format!(
                "unknown value type '{other}' after \"{name}=\": use 'i' for an integer \
                 (\"{name}=i:0\") or 's' for a string (\"{name}=s:text\")"
            ));
        }
        None => {
            return Err(format!("no value type after \"{name}=\": use \"{name}=i:number\" or \"{name}=s:text\""));
        }
    };
    let kind = &rest[..1];
    match chars.next() {
        Some(':') => {}
        Some(other) => {
            return Err(format!("expected ':' after the type letter in \"{name}={kind}\", found '{other}'"));
        }
        None => return Err(format!("expected ':' and a value after \"{name}={kind}\"")),
    }
    let value = &rest[2..];
    let value = if is_int { VarValue::Int(parse_int(value)?) } else { VarValue::Str(value) };
    Ok(VarInit { name, value })
}

/// Kamailio's `str2sint`: an optional sign, then only digits, within 32 bits. Like Kamailio it
/// takes an empty value (or a lone sign) as 0.
fn parse_int(text: &str) -> Result<i32, String> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if let Some(bad) = digits.chars().find(|c| !c.is_ascii_digit()) {
        return Err(format!(
            "\"{text}\" after \"i:\" is not an integer (unexpected '{bad}'; only digits with an \
             optional leading sign are allowed)"
        ));
    }
    let mut n: i64 = 0;
    for digit in digits.bytes() {
        n = n * 10 + i64::from(digit - b'0');
        if n > i64::from(i32::MAX) + 1 {
            break;
        }
    }
    let n = if negative { -n } else { n };
    i32::try_from(n).map_err(|_| format!("{text} does not fit in a 32-bit signed integer"))
}

fn var_init(value: &ParamValue) -> Result<(), String> {
    match value {
        ParamValue::Str(text) => parse_var_init(text).map(|_| ()),
        // A wrong type is reported by the type check.
        ParamValue::Int(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn str_value(text: &str) -> ParamValue {
        ParamValue::Str(text.to_string())
    }

    fn rejected(text: &str) -> String {
        match var_init(&str_value(text)) {
            Err(reason) => reason,
            Ok(()) => panic!("{text:?} was accepted"),
        }
    }

    #[test]
    fn accepts_integers_and_strings() {
        for text in ["i=i:0", "i=I:123", "n=i:-5", "n=i:+7", "s=s:text", "s=S:", "x=s:a=b:c"] {
            assert_eq!(var_init(&str_value(text)), Ok(()), "{text}");
        }
    }

    #[test]
    fn parses_name_and_value() {
        assert_eq!(parse_var_init("i=i:0"), Ok(VarInit { name: "i", value: VarValue::Int(0) }));
        assert_eq!(parse_var_init("gw=s:sip:1.2.3.4"), Ok(VarInit { name: "gw", value: VarValue::Str("sip:1.2.3.4") }));
        assert_eq!(parse_var_init("min=i:-2147483648"), Ok(VarInit { name: "min", value: VarValue::Int(i32::MIN) }));
        assert_eq!(parse_var_init("max=i:2147483647"), Ok(VarInit { name: "max", value: VarValue::Int(i32::MAX) }));
    }

    #[test]
    fn empty_integer_is_zero_like_kamailio() {
        assert_eq!(parse_var_init("i=i:"), Ok(VarInit { name: "i", value: VarValue::Int(0) }));
    }

    #[test]
    fn rejects_malformed_text() {
        assert!(rejected("").contains("empty"));
        assert!(rejected("i").contains("no '='"));
        assert!(rejected("=i:1").contains("name"));
        assert!(rejected("i=x:1").contains("unknown value type 'x'"));
        assert!(rejected("i=").contains("no value type"));
        assert!(rejected("i=i").contains("expected ':'"));
        assert!(rejected("i=i1").contains("found '1'"));
        assert!(rejected("i=i:abc").contains("not an integer"));
        assert!(rejected("i=i: 1").contains("not an integer"));
        assert!(rejected("i=i:1.5").contains("'.'"));
        assert!(rejected("i=i:2147483648").contains("32-bit"));
        assert!(rejected("i=i:-2147483649").contains("32-bit"));
        assert!(rejected("i=i:99999999999999999999999").contains("32-bit"));
    }

    #[test]
    fn leaves_type_errors_to_the_type_check() {
        assert_eq!(var_init(&ParamValue::Int(1)), Ok(()));
    }

    #[test]
    fn every_pv_class_is_listed_once() {
        let mut names: Vec<&str> = MODULE.pvs.iter().map(|pv| pv.name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
        assert_eq!(count, 193);
    }
}
