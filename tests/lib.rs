//! End-to-end tests of the sipcfg toolchain live in `tests/tests/`; this library holds what
//! they share: building proxies from configs, running them, and speaking SIP over loopback.

pub mod lossy;
pub mod proxy;
pub mod sip;
pub mod sipp_run;

use std::path::{Path, PathBuf};

/// The repository root (tests run from the `tests/` crate directory).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// A seed config with its destinations mapped to loopback addresses: every `from` → `to`.
pub fn seed_config(file: &str, destinations: &[(&str, &str)]) -> String {
    let path = repo_root().join("examples/seed").join(file);
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (from, to) in destinations {
        assert!(text.contains(from), "{file} does not mention {from}");
        text = text.replace(from, to);
    }
    text
}
