//! From preprocessed text to the syntax tree.
//!
//! The pest grammar (`grammar.pest`) recognises the text; `lower.rs` turns pest pairs into
//! the owned [`ast`] at once, so no pest type escapes this module. Top-level items are parsed
//! one at a time: after a syntax error, parsing resumes at the next route block or
//! `loadmodule`/`modparam` line, so one mistake does not hide the next.

pub mod ast;
mod errors;
mod lower;
pub mod pv;
pub mod strings;

use pest::Parser;
use pest_derive::Parser;
use regex::Regex;
use std::sync::LazyLock;

use crate::diagnostics::{Code, Diagnostic};
use crate::preprocess::Preprocessed;
use ast::Config;

#[derive(Parser)]
#[grammar = "grammar.pest"]
pub(crate) struct CfgParser;

/// Deeper nesting than this is refused before parsing, so hostile input cannot exhaust the
/// stack of the recursive descent.
pub const MAX_NESTING: usize = 64;

/// The syntax tree and whatever went wrong building it.
#[derive(Debug)]
pub struct Parsed {
    pub config: Config,
    pub diagnostics: Vec<Diagnostic>,
}

/// Where parsing may resume after a syntax error: the start of a line that opens a route
/// block or loads/configures a module.
static RESUME_POINT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?m)^[ \t]*(?:(?:request_route|reply_route|onsend_route)\s*\{|(?:route|onreply_route|failure_route|branch_route|event_route)\s*[\[{]|loadmodule\b|modparam\b)",
    )
    .unwrap_or_else(|_| unreachable!("the resume pattern is a valid regex"))
});

pub fn parse(preprocessed: &Preprocessed) -> Parsed {
    let text = preprocessed.expanded.text.as_str();
    let expanded = &preprocessed.expanded;
    let mut diagnostics = Vec::new();
    let mut config = Config::default();

    if let Some((offset, depth)) = too_deep(text) {
        diagnostics.push(
            Diagnostic::new(Code::Syntax, expanded.point(offset), format!("nesting deeper than {MAX_NESTING} levels"))
                .with_label(format!("level {depth} starts here")),
        );
        return Parsed { config, diagnostics };
    }

    let mut position = skip_blanks(text, 0);
    while position < text.len() {
        match CfgParser::parse(Rule::item, &text[position..]) {
            Ok(mut pairs) => {
                let Some(pair) = pairs.next() else { break };
                let end = position + pair.as_span().end();
                let lowerer = lower::Lowerer::new(expanded, position);
                if let Some(item) = lowerer.item(pair) {
                    config.items.push(item);
                }
                diagnostics.extend(lowerer.finish());
                if end <= position {
                    break;
                }
                position = skip_blanks(text, end);
            }
            Err(error) => {
                let (diagnostic, failed_at) = errors::syntax_error(&error, text, position, expanded);
                diagnostics.push(diagnostic);
                let next_line =
                    text[failed_at.min(text.len())..].find('\n').map(|k| failed_at + k + 1).unwrap_or(text.len());
                position = match RESUME_POINT.find_at(text, next_line.max(position + 1).min(text.len())) {
                    Some(m) => skip_blanks(text, m.start()),
                    None => text.len(),
                };
            }
        }
    }
    Parsed { config, diagnostics }
}

fn skip_blanks(text: &str, from: usize) -> usize {
    from + text[from..].len() - text[from..].trim_start().len()
}

/// The first offset where the text nests deeper than [`MAX_NESTING`], outside strings:
/// brackets, statements nested without braces (`if a if b ...`) and runs of prefix
/// operators (`!!!!x`), all of which the parser handles by recursion.
fn too_deep(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    // Keywords and prefix operators since the last `{`, `}` or `;`.
    let mut unbraced = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'\'' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'\'' {
                    i += 1;
                }
            }
            b'(' | b'{' | b'[' => {
                depth += 1;
                if b == b'{' {
                    unbraced = 0;
                }
                if depth > MAX_NESTING {
                    return Some((i, depth));
                }
            }
            b')' | b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if b == b'}' {
                    unbraced = 0;
                }
            }
            b';' => unbraced = 0,
            b'!' | b'~' | b'-' => unbraced += 1,
            _ if b.is_ascii_alphabetic() => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                if matches!(&text[start..i], "if" | "while" | "not" | "defined" | "int" | "str") {
                    unbraced += 1;
                }
                if unbraced > MAX_NESTING {
                    return Some((start, unbraced));
                }
                continue;
            }
            _ => {}
        }
        if unbraced > MAX_NESTING {
            return Some((i, unbraced));
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests;
