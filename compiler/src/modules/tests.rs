//! Consistency of the registry tables.

use std::collections::HashSet;

use super::*;

#[test]
fn module_names_are_unique_and_known_list_excludes_them() {
    let mut names = HashSet::new();
    for module in MODULES {
        assert!(names.insert(module.name), "{} twice", module.name);
        assert!(!known::KAMAILIO_MODULES.contains(&module.name), "{} is implemented", module.name);
    }
    assert!(known::KAMAILIO_MODULES.windows(2).all(|w| w[0] < w[1]), "known list is sorted and unique");
}

#[test]
fn each_function_row_is_unique_per_module() {
    for module in MODULES {
        let mut seen = HashSet::new();
        for function in module.functions {
            assert!(!function.name.is_empty());
            // Kamailio looks a function up by name, argument count and route type.
            assert!(
                seen.insert((function.name, function.args.len(), function.routes.0)),
                "{}::{} with {} args listed twice",
                module.name,
                function.name,
                function.args.len()
            );
            assert!(function.args.len() <= 6, "{}: Kamailio passes at most 6 arguments", function.name);
        }
    }
}

#[test]
fn params_and_pvs_are_unique() {
    for module in MODULES {
        let mut params = HashSet::new();
        for param in module.params {
            assert!(params.insert(param.name), "{}: param {} twice", module.name, param.name);
        }
        let mut pvs = HashSet::new();
        for pv in module.pvs {
            assert!(pvs.insert(pv.name), "{}: pv {} twice", module.name, pv.name);
        }
    }
}

#[test]
fn requirements_name_supported_modules() {
    for module in MODULES {
        for needed in module.requires {
            assert!(find(needed).is_some(), "{} requires unknown {}", module.name, needed);
        }
    }
    assert_eq!(find("siputils").map(|m| m.requires), Some(&["sl"][..]));
}

#[test]
fn lookups() {
    assert!(matches!(lookup("sl"), Lookup::Supported(m) if m.name == "sl"));
    assert_eq!(lookup("usrloc"), Lookup::Unsupported("usrloc"));
    assert_eq!(lookup("sl_turbo"), Lookup::Unknown);
    assert_eq!(lookup("core"), Lookup::Unknown, "the core is not loadable");
}

#[test]
fn the_functions_the_seed_uses_are_registered() {
    let has = |module: &str, name: &str, argc: usize| {
        MODULES.iter().any(|m| m.name == module && m.functions.iter().any(|f| f.name == name && f.args.len() == argc))
    };
    for (module, name, argc) in [
        ("core", "forward", 0),
        ("core", "forward", 1),
        ("core", "rewritehostport", 1),
        ("core", "append_branch", 0),
        ("corex", "append_branch", 0),
        ("sl", "sl_send_reply", 2),
        ("sl", "sl_reply_error", 0),
        ("textops", "is_method", 1),
        ("cfgutils", "lock", 1),
        ("cfgutils", "unlock", 1),
        ("tm", "t_relay", 0),
        ("tm", "t_check_trans", 0),
        ("rr", "record_route", 0),
        ("rr", "loose_route", 0),
        ("siputils", "has_totag", 0),
    ] {
        assert!(has(module, name, argc), "{module}::{name}/{argc}");
    }
    let t_check_trans = tm::MODULE.functions.iter().find(|f| f.name == "t_check_trans");
    assert!(t_check_trans.is_some_and(|f| f.can_stop), "t_check_trans can end the script");
}

#[test]
fn route_mask_lists_read_well() {
    assert_eq!(REQ.union(FAIL).list(), "request_route and failure_route");
    assert_eq!(ANY.list(), "every route");
    assert_eq!(RouteMask::REPLY.kinds().count(), 2);
}
