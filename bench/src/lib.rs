//! The side-by-side benchmark (`cargo xtask bench`): a SIP load generator, the floor program,
//! the harness that runs Kamailio and sipcfg proxies on the same configs, and the report.

#![deny(unsafe_code)]

pub mod floor;
pub mod harness;
pub mod instructions;
pub mod kernel_path;
pub mod loadgen;
pub mod measure;
pub mod report;
pub mod servers;
pub mod sipp;
