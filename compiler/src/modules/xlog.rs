//! The xlog module: formatted logging with pseudo-variables (Kamailio `src/modules/xlog`).

use super::*;

use super::ArgKind::*;

// None of the xlog fixups has a free fixup, so every argument must be a constant: the format
// is a string literal (with $pvs in it), the level a name such as L_INFO or a "$pv" string.
pub static MODULE: Module = Module {
    name: "xlog",
    functions: &[
        func("xlog", &[lit(Fmt)], ANY),
        func("xlog", &[lit(LogLevel), lit(Fmt)], ANY),
        // The first argument is a syslog facility name such as LOG_LOCAL0.
        func("xlog", &[lit(Str), lit(LogLevel), lit(Fmt)], ANY),
        func("xdbg", &[lit(Fmt)], ANY),
        func("xinfo", &[lit(Fmt)], ANY),
        func("xnotice", &[lit(Fmt)], ANY),
        func("xwarn", &[lit(Fmt)], ANY),
        func("xerr", &[lit(Fmt)], ANY),
        func("xbug", &[lit(Fmt)], ANY),
        func("xcrit", &[lit(Fmt)], ANY),
        func("xalert", &[lit(Fmt)], ANY),
        func("xlogl", &[lit(Fmt)], ANY),
        func("xlogl", &[lit(LogLevel), lit(Fmt)], ANY),
        func("xlogl", &[lit(Str), lit(LogLevel), lit(Fmt)], ANY),
        func("xdbgl", &[lit(Fmt)], ANY),
        func("xlogm", &[lit(LogLevel), lit(Fmt)], ANY),
    ],
    params: &[
        param("buf_size", ParamType::Int),
        param("force_color", ParamType::Int),
        param("long_format", ParamType::Int),
        param("prefix", ParamType::Str),
        param("log_facility", ParamType::Str),
        param("log_colors", ParamType::Str),
        param("methods_filter", ParamType::Int),
        param("prefix_mode", ParamType::Int),
        param("auto_newline", ParamType::Int),
    ],
    // $C(xy): terminal colour escape codes.
    pvs: &[pv_ro("C", PvInner::Required)],
    transformations: &[],
    requires: &[],
};
