//! Diagnostics: what the front end reports, and how it is shown (rustc style or JSON lines).

use std::fmt;
use std::io::{self, Write};

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label, LabelStyle, Severity as CsSeverity};
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term::{self, Chars, termcolor::WriteColor};
use serde::Serialize;

use crate::source::{FileId, SourceMap, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Stable diagnostic codes. Their text (`Code::as_str`) is part of the CLI contract: CI
/// pipelines filter on it, so a code is never renamed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    Syntax,
    Preprocessor,
    UndefinedRoute,
    DuplicateRoute,
    UnknownModule,
    UnsupportedModule,
    MissingModule,
    UnknownFunction,
    ArgCount,
    ArgKind,
    WrongRouteType,
    ReadonlyPv,
    UnknownPv,
    UnknownModparam,
    BadModparamValue,
    UnknownGlobalParam,
    BadGlobalParamValue,
    MissingDependency,
    /// A module loaded twice (Kamailio refuses to start).
    DuplicateModule,
    TypographicQuote,
    UnusedRoute,
    Unreachable,
    LockImbalance,
    DefineInRouteName,
    /// Valid Kamailio that the sipcfg runtime cannot run yet (reported by `build`/`expand`).
    NotImplemented,
}

impl Code {
    pub const ALL: [Code; 25] = [
        Code::Syntax,
        Code::Preprocessor,
        Code::UndefinedRoute,
        Code::DuplicateRoute,
        Code::UnknownModule,
        Code::UnsupportedModule,
        Code::MissingModule,
        Code::UnknownFunction,
        Code::ArgCount,
        Code::ArgKind,
        Code::WrongRouteType,
        Code::ReadonlyPv,
        Code::UnknownPv,
        Code::UnknownModparam,
        Code::BadModparamValue,
        Code::UnknownGlobalParam,
        Code::BadGlobalParamValue,
        Code::MissingDependency,
        Code::DuplicateModule,
        Code::TypographicQuote,
        Code::UnusedRoute,
        Code::Unreachable,
        Code::LockImbalance,
        Code::DefineInRouteName,
        Code::NotImplemented,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "syntax",
            Code::Preprocessor => "preprocessor",
            Code::UndefinedRoute => "undefined-route",
            Code::DuplicateRoute => "duplicate-route",
            Code::UnknownModule => "unknown-module",
            Code::UnsupportedModule => "unsupported-module",
            Code::MissingModule => "missing-module",
            Code::UnknownFunction => "unknown-function",
            Code::ArgCount => "arg-count",
            Code::ArgKind => "arg-kind",
            Code::WrongRouteType => "wrong-route-type",
            Code::ReadonlyPv => "readonly-pv",
            Code::UnknownPv => "unknown-pv",
            Code::UnknownModparam => "unknown-modparam",
            Code::BadModparamValue => "bad-modparam-value",
            Code::UnknownGlobalParam => "unknown-global-param",
            Code::BadGlobalParamValue => "bad-global-param-value",
            Code::MissingDependency => "missing-dependency",
            Code::DuplicateModule => "duplicate-module",
            Code::TypographicQuote => "typographic-quote",
            Code::UnusedRoute => "unused-route",
            Code::Unreachable => "unreachable",
            Code::LockImbalance => "lock-imbalance",
            Code::DefineInRouteName => "define-in-route-name",
            Code::NotImplemented => "not-implemented",
        }
    }

    /// Whether only code generation reports it (`sipcfg check` never does).
    pub fn is_build_only(self) -> bool {
        matches!(self, Code::NotImplemented)
    }

    /// The severity a code always has.
    pub fn severity(self) -> Severity {
        match self {
            Code::TypographicQuote
            | Code::UnusedRoute
            | Code::Unreachable
            | Code::LockImbalance
            | Code::DefineInRouteName => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding, anchored at a span of the user's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    pub span: Span,
    /// Text under the caret.
    pub label: Option<String>,
    /// Other places worth showing (the first definition of a duplicate, ...).
    pub secondary: Vec<(Span, String)>,
    pub notes: Vec<String>,
    /// The fix, in words or as the text to write.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            span,
            label: None,
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn with_secondary(mut self, span: Span, label: impl Into<String>) -> Self {
        self.secondary.push((span, label.into()));
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

/// Collects diagnostics in the order they were found.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn extend(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(diagnostics);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Sorts by file position, keeping the order of diagnostics at the same place.
    pub fn sort(&mut self) {
        self.items.sort_by_key(|d| (d.span.file, d.span.start));
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

// codespan-reporting reads files through this trait; spans are byte ranges already.
impl<'a> Files<'a> for SourceMap {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        Ok(&self.get(id).name)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        Ok(&self.get(id).text)
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, FilesError> {
        Ok(self.get(id).line_index(byte_index))
    }

    fn line_range(&'a self, id: FileId, line_index: usize) -> Result<std::ops::Range<usize>, FilesError> {
        let file = self.get(id);
        if line_index >= file.line_count() {
            return Err(FilesError::LineTooLarge { given: line_index, max: file.line_count() - 1 });
        }
        Ok(file.line_start(line_index)..file.line_start(line_index + 1))
    }
}

fn to_codespan(diagnostic: &Diagnostic, sources: &SourceMap) -> CsDiagnostic<FileId> {
    let severity = match diagnostic.severity() {
        Severity::Error => CsSeverity::Error,
        Severity::Warning => CsSeverity::Warning,
    };
    let mut labels = vec![
        Label::new(LabelStyle::Primary, diagnostic.span.file, clamp(diagnostic.span, sources))
            .with_message(diagnostic.label.clone().unwrap_or_default()),
    ];
    for (span, message) in &diagnostic.secondary {
        labels.push(Label::new(LabelStyle::Secondary, span.file, clamp(*span, sources)).with_message(message.clone()));
    }
    // Where an included file was pulled in, so users can find the include line.
    let mut parent = sources.get(diagnostic.span.file).included_from;
    let mut depth = 0;
    while let Some(span) = parent {
        if depth > 10 {
            break;
        }
        labels.push(
            Label::new(LabelStyle::Secondary, span.file, clamp(span, sources)).with_message("included from here"),
        );
        parent = sources.get(span.file).included_from;
        depth += 1;
    }
    let mut notes: Vec<String> = diagnostic.notes.iter().map(|n| format!("note: {n}")).collect();
    if let Some(help) = &diagnostic.help {
        notes.push(format!("help: {help}"));
    }
    CsDiagnostic::new(severity)
        .with_code(diagnostic.code.as_str())
        .with_message(diagnostic.message.clone())
        .with_labels(labels)
        .with_notes(notes)
}

fn clamp(span: Span, sources: &SourceMap) -> std::ops::Range<usize> {
    let len = sources.get(span.file).text.len();
    let start = (span.start as usize).min(len);
    let end = (span.end as usize).clamp(start, len);
    start..end
}

/// Writes diagnostics the way rustc does: `error[code]: message`, ` --> file:line:col`,
/// the source line with a caret, then notes and `help:`.
pub fn emit_human(out: &mut dyn WriteColor, sources: &SourceMap, diagnostics: &[Diagnostic]) -> io::Result<()> {
    let config = term::Config { chars: Chars::ascii(), ..term::Config::default() };
    for diagnostic in diagnostics {
        term::emit(out, &config, sources, &to_codespan(diagnostic, sources))
            .map_err(|e| io::Error::other(e.to_string()))?;
    }
    Ok(())
}

/// A diagnostic as one JSON object (one per line in `--format json`).
#[derive(Serialize)]
pub struct JsonDiagnostic<'a> {
    pub severity: Severity,
    pub code: &'static str,
    pub message: &'a str,
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<&'a str>,
}

impl<'a> JsonDiagnostic<'a> {
    pub fn new(diagnostic: &'a Diagnostic, sources: &'a SourceMap) -> Self {
        let file = sources.get(diagnostic.span.file);
        let (line, column) = file.line_col(diagnostic.span.start as usize);
        let (end_line, end_column) = file.line_col(diagnostic.span.end as usize);
        JsonDiagnostic {
            severity: diagnostic.severity(),
            code: diagnostic.code.as_str(),
            message: &diagnostic.message,
            file: &file.name,
            line,
            column,
            end_line,
            end_column,
            label: diagnostic.label.as_deref(),
            help: diagnostic.help.as_deref(),
            notes: diagnostic.notes.iter().map(String::as_str).collect(),
        }
    }
}

pub fn emit_json(out: &mut dyn Write, sources: &SourceMap, diagnostics: &[Diagnostic]) -> io::Result<()> {
    for diagnostic in diagnostics {
        let json = serde_json::to_string(&JsonDiagnostic::new(diagnostic, sources)).map_err(io::Error::other)?;
        writeln!(out, "{json}")?;
    }
    Ok(())
}

/// Renders diagnostics to a plain string (no colours), for tests and tools.
pub fn render_human(sources: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    let mut buffer = term::termcolor::NoColor::new(Vec::new());
    // Writing into memory cannot fail.
    let _ = emit_human(&mut buffer, sources, diagnostics);
    String::from_utf8_lossy(&buffer.into_inner()).into_owned()
}

/// The candidate a misspelt `name` most likely meant: a close spelling (Jaro-Winkler or
/// edit distance), or else a candidate that `name` extends with `_suffix` (`sl_turbo` → `sl`).
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    let mut best: Option<(f64, &str)> = None;
    let mut extended: Option<&str> = None;
    for candidate in candidates {
        let other = candidate.to_ascii_lowercase();
        let score = strsim::jaro_winkler(&lower, &other).max(strsim::normalized_damerau_levenshtein(&lower, &other));
        if score > 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, candidate));
        }
        if lower.starts_with(&format!("{other}_")) && extended.is_none_or(|e| candidate.len() > e.len()) {
            extended = Some(candidate);
        }
    }
    best.map(|(_, c)| c).or(extended)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("sl_send_replyy", ["sl_send_reply", "send_reply"]), Some("sl_send_reply"));
        assert_eq!(did_you_mean("sl_turbo", ["tm", "sl", "siputils"]), Some("sl"));
        assert_eq!(did_you_mean("RELAYY", ["RELAY", "WITHINDLG"]), Some("RELAY"));
        assert_eq!(did_you_mean("zzz", ["RELAY", "WITHINDLG"]), None);
    }
}
