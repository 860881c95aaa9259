//! From a checked config to a static binary: the generated crate is written under
//! `target/sipcfg/<name>/` from the templates, then built by cargo into the workspace's
//! target directory, so that the runtime and every dependency are compiled once and a new
//! config only compiles its own crate.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Frontend;
use crate::codegen;
use crate::diagnostics::Diagnostic;

const CARGO_TEMPLATE: &str = include_str!("../../templates/Cargo.toml.in");
const MAIN_TEMPLATE: &str = include_str!("../../templates/main.rs.in");

/// The one target proxies are built for: musl, linked statically. Against glibc, a static
/// binary carries glibc's dynamic loader, `printf`, `scanf` and locale code (about 740 KB
/// of text, nearly all of it resident); musl's part is a tenth of that.
pub const TARGET: &str = "x86_64-unknown-linux-musl";

/// Cargo profile of a proxy build.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Profile {
    #[default]
    Release,
    /// Fat LTO, one codegen unit: for deployments.
    Max,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Max => "max",
        }
    }
}

/// Where things are.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The sipcfg workspace (holds `runtime/` and `Cargo.lock`).
    pub workspace: PathBuf,
    /// The shared cargo target directory.
    pub target_dir: PathBuf,
}

impl Layout {
    /// The workspace this compiler was built from, or `SIPCFG_WORKSPACE`.
    pub fn detect() -> Layout {
        let workspace = std::env::var_os("SIPCFG_WORKSPACE")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
        let workspace = workspace.canonicalize().unwrap_or(workspace);
        let target_dir =
            std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace.join("target"));
        Layout { workspace, target_dir }
    }

    /// Where the crate of `name` is written.
    pub fn crate_dir(&self, name: &str) -> PathBuf {
        self.target_dir.join("sipcfg").join(name)
    }

    /// The default output path of the proxy built from `config`.
    pub fn default_output(&self, config: &Path) -> PathBuf {
        self.target_dir.join("proxies").join(proxy_name(config))
    }
}

/// Why a build failed.
#[derive(Debug)]
pub enum BuildError {
    /// The config uses something the runtime cannot do yet.
    NotImplemented(Vec<Diagnostic>),
    Io(String, std::io::Error),
    Cargo(String),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::NotImplemented(d) => write!(f, "{} construct(s) cannot be compiled yet", d.len()),
            BuildError::Io(what, e) => write!(f, "{what}: {e}"),
            BuildError::Cargo(e) => f.write_str(e),
        }
    }
}

/// The binary name for a config: its file stem as a Rust-friendly name (`05-reply-200`).
pub fn proxy_name(config: &Path) -> String {
    let stem = config.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name: String =
        stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    if name.is_empty() { "proxy".to_string() } else { name }
}

/// Writes the generated crate for a checked config; returns its directory.
pub fn write_crate(frontend: &Frontend, config: &Path, layout: &Layout) -> Result<PathBuf, BuildError> {
    let generated = codegen::generate(frontend).map_err(BuildError::NotImplemented)?;
    let name = proxy_name(config);
    let dir = layout.crate_dir(&name);
    let source = config.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let runtime = layout.workspace.join("runtime");
    let fill = |template: &str| {
        template
            .replace("{{source}}", &source)
            .replace("{{package}}", &format!("sipcfg-proxy-{}", name.to_ascii_lowercase().replace('_', "-")))
            .replace("{{binary}}", &name)
            .replace("{{runtime}}", &runtime.display().to_string().replace('\\', "/"))
    };
    let io = |what: &str, path: &Path| {
        let what = format!("{what} {}", path.display());
        move |e| BuildError::Io(what, e)
    };
    let src = dir.join("src");
    std::fs::create_dir_all(&src).map_err(io("cannot create", &src))?;
    write_if_changed(&dir.join("Cargo.toml"), &fill(CARGO_TEMPLATE)).map_err(io("cannot write", &dir))?;
    write_if_changed(&src.join("main.rs"), &fill(MAIN_TEMPLATE)).map_err(io("cannot write", &src))?;
    write_if_changed(&src.join("script.rs"), &generated.code).map_err(io("cannot write", &src))?;
    // The workspace's lock file pins the same dependency versions, so the shared target
    // directory already holds them.
    let lock = dir.join("Cargo.lock");
    if !lock.exists() {
        let workspace_lock = layout.workspace.join("Cargo.lock");
        if workspace_lock.exists() {
            std::fs::copy(&workspace_lock, &lock).map_err(io("cannot copy", &workspace_lock))?;
        }
    }
    Ok(dir)
}

/// Leaves an unchanged file alone, so cargo does not rebuild it.
fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text)
}

/// Builds the crate in `dir` and copies the binary to `output`.
pub fn cargo_build(
    dir: &Path,
    config: &Path,
    profile: Profile,
    layout: &Layout,
    output: &Path,
) -> Result<(), BuildError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .arg("build")
        .arg("--quiet")
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .args(["--profile", profile.name(), "--target", TARGET])
        .env("CARGO_TARGET_DIR", &layout.target_dir)
        // Statically linked, not position independent: one file to deploy, no loader. Name
        // resolution goes through hickory, which reads /etc/resolv.conf itself.
        .env(
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS",
            "-C target-feature=+crt-static -C relocation-model=static",
        )
        // Settings meant for the outer build (for example `cargo test` under coverage) would
        // change the fingerprint and rebuild every dependency.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .status()
        .map_err(|e| BuildError::Io("cannot run cargo".to_string(), e))?;
    if !status.success() {
        return Err(BuildError::Cargo(format!("cargo build failed ({status}) for {}", dir.display())));
    }
    let built = layout.target_dir.join(TARGET).join(profile.name()).join(proxy_name(config));
    if let Some(parent) = output.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| BuildError::Io(format!("cannot create {}", parent.display()), e))?;
    }
    // Copy through a temporary name: a running proxy keeps its old file.
    let temporary = output.with_extension("part");
    std::fs::copy(&built, &temporary).map_err(|e| BuildError::Io(format!("cannot copy {}", built.display()), e))?;
    std::fs::rename(&temporary, output).map_err(|e| BuildError::Io(format!("cannot write {}", output.display()), e))?;
    Ok(())
}
