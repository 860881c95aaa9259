//! The cfgutils module: locks, random events, global flags (Kamailio `src/modules/cfgutils`).

use super::*;

use super::ArgKind::*;

pub static MODULE: Module = Module {
    name: "cfgutils",
    functions: &[
        // fixup_prob has no free fixup: a constant 0..100.
        func("rand_set_prob", &[lit(Int)], ANY),
        func("rand_reset_prob", &[], ANY),
        // Returns the probability itself, which is 0 after rand_set_prob(0).
        stopping("rand_get_prob", &[], ANY),
        func("rand_event", &[], ANY),
        func("sleep", &[dynamic(Int)], ANY),
        func("usleep", &[dynamic(Int)], ANY),
        // Declared to return 0, but abort() ends the process first.
        stopping("abort", &[], ANY),
        func("pkg_status", &[], ANY),
        func("shm_status", &[], ANY),
        func("pkg_summary", &[], ANY),
        func("shm_summary", &[], ANY),
        // fixup_gflags has no free fixup: a constant flag number 0..31.
        func("set_gflag", &[lit(Int)], ANY),
        func("reset_gflag", &[lit(Int)], ANY),
        func("is_gflag", &[lit(Int)], ANY),
        func("lock", &[dynamic(Fmt)], ANY),
        func("lock", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        func("unlock", &[dynamic(Fmt)], ANY),
        func("unlock", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        func("trylock", &[dynamic(Fmt)], ANY),
        // Kamailio's row uses fixup_spve_null, which rejects a second parameter, so this form
        // fails at start-up there (a Kamailio bug); listed because the row exists.
        func("trylock", &[dynamic(Fmt), dynamic(Fmt)], ANY),
        // fixup_core_hash has no free fixup: constants (the strings may hold $pvs).
        func("core_hash", &[lit(Fmt), lit(Fmt), lit(Int)], ANY),
        func("check_route_exists", &[dynamic(Fmt)], ANY),
        // Runs route[NAME] and returns its result: 0 when that route ran `exit`.
        stopping("route_if_exists", &[dynamic(Fmt)], ANY),
        // An API export with no route flags: Kamailio rejects it in every block.
        func("bind_cfgutils", &[], RouteMask::NONE),
    ],
    params: &[
        checked_param("initial_probability", ParamType::Int, probability),
        param("initial_gflags", ParamType::Int),
        param("hash_file", ParamType::Str),
        checked_param("lock_set_size", ParamType::Int, lock_set_size),
    ],
    pvs: &[pv_ro("RANDOM", PvInner::None)],
    transformations: &[],
    requires: &[],
};

/// mod_init fails for a probability above 100 (it does not check for negative values).
fn probability(value: &ParamValue) -> Result<(), String> {
    match value {
        ParamValue::Int(n) if *n > 100 => Err(format!("{n} is not a percentage: initial_probability must be 0..100")),
        _ => Ok(()),
    }
}

/// The value is an exponent: 2^n locks. Kamailio caps larger (or negative, read as unsigned)
/// values at 14 with a warning; sipcfg rejects them.
fn lock_set_size(value: &ParamValue) -> Result<(), String> {
    match value {
        ParamValue::Int(n) if *n < 0 => Err(format!(
            "{n} is negative; lock_set_size is the power of two of the number of locks \
             (0 disables lock(), 1 gives 2 locks, at most 14)"
        )),
        ParamValue::Int(n) if *n > 14 => Err(format!(
            "{n} is too large: lock_set_size is an exponent (2^{n} locks) and Kamailio caps it \
             at 14 (16384 locks)"
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_set_size_is_an_exponent_up_to_14() {
        for n in [0, 1, 8, 14] {
            assert_eq!(lock_set_size(&ParamValue::Int(n)), Ok(()), "{n}");
        }
        assert!(matches!(lock_set_size(&ParamValue::Int(15)), Err(e) if e.contains("14")));
        assert!(matches!(lock_set_size(&ParamValue::Int(-1)), Err(e) if e.contains("negative")));
    }

    #[test]
    fn probability_is_a_percentage() {
        assert_eq!(probability(&ParamValue::Int(100)), Ok(()));
        assert!(probability(&ParamValue::Int(101)).is_err());
    }
}
