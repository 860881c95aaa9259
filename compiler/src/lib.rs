//! The sipcfg compiler: Kamailio-style SIP routing configs in, checked syntax trees (and,
//! later, native Rust proxies) out.
//!
//! The phases are one module each: [`preprocess`] (`#!define`, `#!ifdef`, includes),
//! [`parse`] (pest grammar to [`parse::ast`]), [`check`] (names, route graph, argument kinds
//! against the [`modules`] registry) and [`diagnostics`] (rustc-style or JSON output).
//! [`check_file`] runs them all.

pub mod build;
pub mod check;
pub mod cli;
pub mod codegen;
pub mod diagnostics;
pub mod globals;
pub mod keywords;
pub mod modules;
pub mod parse;
pub mod preprocess;
pub mod source;

use std::path::Path;

use check::Analysis;
use diagnostics::{Code, Diagnostic};
use parse::ast::Config;
use preprocess::{FileLoader, FsLoader, Mode};
use source::{FileId, SourceMap};

pub use preprocess::Options;

/// Everything the front end learned about one config.
#[derive(Debug)]
pub struct Frontend {
    pub sources: SourceMap,
    pub root: FileId,
    pub mode: Mode,
    pub config: Config,
    pub analysis: Analysis,
    /// Errors and warnings of every phase, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Frontend {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }
}

/// Reads, preprocesses, parses and checks the config at `path`.
pub fn check_file(path: &Path, options: &Options) -> std::io::Result<Frontend> {
    let bytes = std::fs::read(path)?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Ok(check_text(&path.display().to_string(), path, text, options, &FsLoader))
}

/// Runs the front end on `text` as if it were the file `path` (includes are read through
/// `loader`).
pub fn check_text(name: &str, path: &Path, text: String, options: &Options, loader: &dyn FileLoader) -> Frontend {
    // The parser and the passes recurse over nesting, which is bounded (parse::MAX_NESTING)
    // but deeper than a test thread's default stack comfortably allows: give them room.
    let text = std::sync::Mutex::new(Some(text));
    let take = || text.lock().ok().and_then(|mut t| t.take()).unwrap_or_default();
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("sipcfg-frontend".into())
            .stack_size(FRONTEND_STACK)
            .spawn_scoped(scope, || run_phases(name, path, take(), options, loader));
        match worker {
            Ok(handle) => handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread to be had: run here, within the bounded nesting.
            Err(_) => run_phases(name, path, take(), options, loader),
        }
    })
}

const FRONTEND_STACK: usize = 64 << 20;

fn run_phases(name: &str, path: &Path, text: String, options: &Options, loader: &dyn FileLoader) -> Frontend {
    let mut sources = SourceMap::new();
    let root = sources.add(name, path, text, None);
    let preprocessed = preprocess::preprocess(&mut sources, root, loader, options);
    let parsed = parse::parse(&preprocessed);
    let (analysis, mut checked) = check::check(&parsed.config, &sources, preprocessed.mode, &preprocessed.conditionals);

    let syntax_failed = parsed.diagnostics.iter().chain(&preprocessed.diagnostics).any(Diagnostic::is_error);
    if syntax_failed {
        // Parts of the config are missing from the tree: what they define looks undefined
        // and what they use looks unused. Only report what does not depend on them.
        checked.retain(|d| !matches!(d.code, Code::UndefinedRoute | Code::UnusedRoute));
    }
    let mut diagnostics = preprocessed.diagnostics;
    diagnostics.extend(parsed.diagnostics);
    diagnostics.extend(checked);
    diagnostics.sort_by_key(|d| (d.span.file, d.span.start));
    Frontend { sources, root, mode: preprocessed.mode, config: parsed.config, analysis, diagnostics }
}
