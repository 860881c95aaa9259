//! The module registry: everything the compiler knows about Kamailio modules.
//!
//! One file per supported module describes its exports the way Kamailio's `cmd_export_t`,
//! `param_export_t` and `pv_export_t` tables do: functions (one entry per name and argument
//! count, with the kind of each argument and the route types where it may be called),
//! module parameters with their value type, pseudo-variable classes, and the modules it
//! needs at start-up. Unknown module, unknown function, wrong arity, wrong route type: every
//! such check reads these tables and nothing else.

pub mod cfgutils;
pub mod core;
pub mod corex;
pub mod known;
pub mod maxfwd;
pub mod pv;
pub mod rr;
pub mod sanity;
pub mod siputils;
pub mod sl;
pub mod textops;
pub mod tm;
pub mod tmx;
pub mod xlog;

use std::fmt;
use std::ops::BitOr;

/// Route types where a function may run (Kamailio's `REQUEST_ROUTE`, `FAILURE_ROUTE`... bits).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RouteMask(pub u16);

impl RouteMask {
    /// `request_route` and every `route[NAME]` reached from it.
    pub const REQUEST: RouteMask = RouteMask(1 << 0);
    /// `failure_route[NAME]`.
    pub const FAILURE: RouteMask = RouteMask(1 << 1);
    /// tm's `onreply_route[NAME]` (armed by `t_on_reply`).
    pub const TM_REPLY: RouteMask = RouteMask(1 << 2);
    /// `branch_route[NAME]`.
    pub const BRANCH: RouteMask = RouteMask(1 << 3);
    /// `onsend_route`.
    pub const ONSEND: RouteMask = RouteMask(1 << 4);
    /// tm's local route (`event_route[tm:local-request]`).
    pub const LOCAL: RouteMask = RouteMask(1 << 6);
    /// The core reply route: `reply_route` / unnamed `onreply_route`.
    pub const CORE_REPLY: RouteMask = RouteMask(1 << 7);
    /// `event_route[...]` blocks; Kamailio checks them as request code too.
    pub const EVENT: RouteMask = RouteMask(1 << 9);

    pub const NONE: RouteMask = RouteMask(0);
    /// Both reply route kinds (Kamailio's `ONREPLY_ROUTE`).
    pub const REPLY: RouteMask = RouteMask(Self::TM_REPLY.0 | Self::CORE_REPLY.0);
    pub const ANY: RouteMask = RouteMask(u16::MAX);

    pub const fn union(self, other: RouteMask) -> RouteMask {
        RouteMask(self.0 | other.0)
    }

    pub const fn contains(self, other: RouteMask) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn intersects(self, other: RouteMask) -> bool {
        self.0 & other.0 != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The single route types set in this mask, in a stable order.
    pub fn kinds(self) -> impl Iterator<Item = RouteMask> {
        [
            RouteMask::REQUEST,
            RouteMask::FAILURE,
            RouteMask::TM_REPLY,
            RouteMask::CORE_REPLY,
            RouteMask::BRANCH,
            RouteMask::ONSEND,
            RouteMask::LOCAL,
            RouteMask::EVENT,
        ]
        .into_iter()
        .filter(move |k| self.intersects(*k))
    }

    /// Human name of a single route type.
    pub fn describe(self) -> &'static str {
        match self {
            RouteMask::REQUEST => "request_route",
            RouteMask::FAILURE => "failure_route",
            RouteMask::TM_REPLY => "onreply_route[NAME]",
            RouteMask::CORE_REPLY => "reply_route",
            RouteMask::BRANCH => "branch_route",
            RouteMask::ONSEND => "onsend_route",
            RouteMask::LOCAL => "local route",
            RouteMask::EVENT => "event_route",
            _ => "route",
        }
    }

    /// `request_route, failure_route and branch_route`.
    pub fn list(self) -> String {
        if self == RouteMask::ANY {
            return "every route".to_string();
        }
        let names: Vec<&str> = self.kinds().map(RouteMask::describe).collect();
        match names.as_slice() {
            [] => "no route".to_string(),
            [one] => (*one).to_string(),
            [init @ .., last] => format!("{} and {}", init.join(", "), last),
        }
    }
}

impl BitOr for RouteMask {
    type Output = RouteMask;
    fn bitor(self, rhs: RouteMask) -> RouteMask {
        self.union(rhs)
    }
}

impl fmt::Debug for RouteMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RouteMask({})", self.list())
    }
}

/// Shorthands for the tables (Kamailio's own spellings).
pub const REQ: RouteMask = RouteMask::REQUEST;
pub const FAIL: RouteMask = RouteMask::FAILURE;
pub const RPL: RouteMask = RouteMask::REPLY;
pub const TMRPL: RouteMask = RouteMask::TM_REPLY;
pub const CORERPL: RouteMask = RouteMask::CORE_REPLY;
pub const BR: RouteMask = RouteMask::BRANCH;
pub const ONSEND: RouteMask = RouteMask::ONSEND;
pub const LOCAL: RouteMask = RouteMask::LOCAL;
pub const EVENT: RouteMask = RouteMask::EVENT;
pub const ANY: RouteMask = RouteMask::ANY;

/// Named route blocks a function argument can refer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteKind {
    /// `route[NAME]`
    Plain,
    /// `failure_route[NAME]`
    Failure,
    /// `onreply_route[NAME]`
    Reply,
    /// `branch_route[NAME]`
    Branch,
}

impl RouteKind {
    pub fn keyword(self) -> &'static str {
        match self {
            RouteKind::Plain => "route",
            RouteKind::Failure => "failure_route",
            RouteKind::Reply => "onreply_route",
            RouteKind::Branch => "branch_route",
        }
    }
}

/// What one function argument must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// A string used as written (a header name, a list of names).
    Str,
    /// A string in which `$pv`s are expanded at run time ("fmt" in Kamailio docs).
    Fmt,
    /// An integer (a number, or a string holding one).
    Int,
    /// A POSIX regular expression, compiled at load time.
    Regex,
    /// A `sed`-style `/re/repl/flags` substitution.
    Subst,
    /// The name of a pseudo-variable, written as a string: `"$avp(x)"`.
    PvName,
    /// The name of a writable pseudo-variable that the function stores a result in.
    WritablePvName,
    /// The name of a route block of the given kind.
    Route(RouteKind),
    /// `is_method`'s `"INVITE|BYE"` list.
    Methods,
    /// An xlog level: `L_ERR`, `L_INFO`..., or a `$pv` holding a number.
    LogLevel,
    /// Any value: a string or an integer.
    Any,
    /// Core: a flag number 0..31 or a name declared with `flags`.
    Flag,
    /// Core `forward*()`: an IP, a host name, a `"string"`, or `uri:host`.
    Host,
    /// Core `forward*()`: a port number or `uri:port`.
    Port,
    /// Core: `[proto:]host[:port]`.
    Socket,
    /// Core: `udp`, `tcp`, `tls` or `sctp`.
    Proto,
}

impl ArgKind {
    pub fn describe(self) -> &'static str {
        match self {
            ArgKind::Str => "a string",
            ArgKind::Fmt => "a string (may contain $pvs)",
            ArgKind::Int => "an integer",
            ArgKind::Regex => "a regular expression",
            ArgKind::Subst => "a substitution like \"/re/repl/flags\"",
            ArgKind::PvName => "a pseudo-variable name in quotes",
            ArgKind::WritablePvName => "a writable pseudo-variable name in quotes",
            ArgKind::Route(RouteKind::Plain) => "a route name",
            ArgKind::Route(RouteKind::Failure) => "a failure_route name",
            ArgKind::Route(RouteKind::Reply) => "an onreply_route name",
            ArgKind::Route(RouteKind::Branch) => "a branch_route name",
            ArgKind::Methods => "a list of SIP methods such as \"INVITE|BYE\"",
            ArgKind::LogLevel => "a log level such as L_INFO",
            ArgKind::Any => "a value",
            ArgKind::Flag => "a flag number (0..31) or flag name",
            ArgKind::Host => "a host, IP address or uri:host",
            ArgKind::Port => "a port number or uri:port",
            ArgKind::Socket => "[proto:]host[:port]",
            ArgKind::Proto => "a protocol (udp, tcp, tls, sctp)",
        }
    }
}

/// One argument position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgSpec {
    pub kind: ArgKind,
    /// Whether a run-time expression (a `$pv`, a concatenation...) is accepted here, not just
    /// a constant. Kamailio rejects a non-constant argument for functions whose fixup cannot
    /// take one ("parameter is not constant").
    pub dynamic: bool,
}

/// Constant of the given kind (Kamailio rejects a `$pv` or expression here).
pub const fn lit(kind: ArgKind) -> ArgSpec {
    ArgSpec { kind, dynamic: false }
}

/// Constant or run-time value of the given kind.
pub const fn dynamic(kind: ArgKind) -> ArgSpec {
    ArgSpec { kind, dynamic: true }
}

/// One exported function with a given number of arguments (like a `cmd_export_t` row).
#[derive(Clone, Copy, Debug)]
pub struct Function {
    pub name: &'static str,
    pub args: &'static [ArgSpec],
    pub routes: RouteMask,
    /// Whether it can return 0, which stops the script. Code generation checks for the stop
    /// only after such calls.
    pub can_stop: bool,
}

/// Builds a function entry that never returns 0.
pub const fn func(name: &'static str, args: &'static [ArgSpec], routes: RouteMask) -> Function {
    Function { name, args, routes, can_stop: false }
}

/// Builds a function entry that may return 0 (stop the script).
pub const fn stopping(name: &'static str, args: &'static [ArgSpec], routes: RouteMask) -> Function {
    Function { name, args, routes, can_stop: true }
}

/// Type of a `modparam` value. Kamailio requires the value's type to match the declared type
/// exactly (`modparam("tm", "fr_timer", "30000")` fails); `IntOrStr` is for the few
/// parameters declared with both types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    Int,
    Str,
    IntOrStr,
}

/// A `modparam` value as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamValue {
    Int(i64),
    Str(String),
}

/// Validates a parameter value beyond its type; the error is the reason it is wrong.
pub type ParamCheck = fn(&ParamValue) -> Result<(), String>;

/// One module parameter. `check` validates the value beyond its type and returns the reason
/// it is wrong.
#[derive(Clone, Copy, Debug)]
pub struct ModParam {
    pub name: &'static str,
    pub ty: ParamType,
    pub check: Option<ParamCheck>,
}

pub const fn param(name: &'static str, ty: ParamType) -> ModParam {
    ModParam { name, ty, check: None }
}

pub const fn checked_param(name: &'static str, ty: ParamType, check: ParamCheck) -> ModParam {
    ModParam { name, ty, check: Some(check) }
}

/// Whether a pseudo-variable class takes an inner name in parentheses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PvInner {
    /// `$ru`
    None,
    /// `$var(x)`
    Required,
    /// `$T_branch_idx` or `$T_branch_idx(x)`... rare, but exists.
    Optional,
}

/// A pseudo-variable class such as `$var(...)` or `$ru`.
#[derive(Clone, Copy, Debug)]
pub struct PvClass {
    pub name: &'static str,
    pub inner: PvInner,
    pub writable: bool,
}

pub const fn pv_ro(name: &'static str, inner: PvInner) -> PvClass {
    PvClass { name, inner, writable: false }
}

pub const fn pv_rw(name: &'static str, inner: PvInner) -> PvClass {
    PvClass { name, inner, writable: true }
}

/// A module sipcfg implements.
#[derive(Debug)]
pub struct Module {
    pub name: &'static str,
    pub functions: &'static [Function],
    pub params: &'static [ModParam],
    pub pvs: &'static [PvClass],
    /// Transformation classes (`{s.len}` is class `s`).
    pub transformations: &'static [&'static str],
    /// Modules that must be loaded too; Kamailio fails at start-up without them.
    pub requires: &'static [&'static str],
}

/// Every module sipcfg implements, core first.
pub static MODULES: &[&Module] = &[
    &core::MODULE,
    &sl::MODULE,
    &tm::MODULE,
    &tmx::MODULE,
    &rr::MODULE,
    &textops::MODULE,
    &pv::MODULE,
    &cfgutils::MODULE,
    &siputils::MODULE,
    &maxfwd::MODULE,
    &sanity::MODULE,
    &xlog::MODULE,
    &corex::MODULE,
];

/// A supported module by name (`"sl"`), not the core.
pub fn find(name: &str) -> Option<&'static Module> {
    MODULES.iter().copied().find(|m| m.name == name && m.name != core::MODULE.name)
}

/// How a `loadmodule` name resolves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    Supported(&'static Module),
    /// A real Kamailio module that sipcfg does not implement.
    Unsupported(&'static str),
    Unknown,
}

impl PartialEq for Module {
    fn eq(&self, other: &Module) -> bool {
        self.name == other.name
    }
}
impl Eq for Module {}

pub fn lookup(name: &str) -> Lookup {
    if let Some(module) = find(name) {
        return Lookup::Supported(module);
    }
    match known::KAMAILIO_MODULES.iter().find(|m| **m == name) {
        Some(name) => Lookup::Unsupported(name),
        None => Lookup::Unknown,
    }
}

/// All module names a user could mean: supported and other Kamailio ones.
pub fn all_module_names() -> impl Iterator<Item = &'static str> {
    MODULES.iter().map(|m| m.name).filter(|n| *n != core::MODULE.name).chain(known::KAMAILIO_MODULES.iter().copied())
}

/// Validators shared by several modules' parameters.
pub mod checks {
    use super::ParamValue;

    pub fn non_negative(value: &ParamValue) -> Result<(), String> {
        match value {
            ParamValue::Int(n) if *n < 0 => Err(format!("{n} is negative")),
            _ => Ok(()),
        }
    }

    pub fn boolean(value: &ParamValue) -> Result<(), String> {
        match value {
            ParamValue::Int(0 | 1) => Ok(()),
            ParamValue::Int(n) => Err(format!("{n} is not 0 or 1")),
            ParamValue::Str(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
