//! Kamailio's modules, re-implemented. Each function takes the route context and returns
//! Kamailio's code (>0 true, <0 false, 0 stops the script).

pub mod cfgutils;
pub mod maxfwd;
pub mod pv;
pub mod rr;
pub mod sanity;
pub mod siputils;
pub mod sl;
pub mod textops;
pub mod tm;
pub mod xlog;
