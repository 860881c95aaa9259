//! End-to-end tests of the sipcfg toolchain live in `tests/tests/`; this library holds what
//! they share.

use std::path::{Path, PathBuf};

/// The repository root (tests run from the `tests/` crate directory).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}
