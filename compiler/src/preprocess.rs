//! The `#!` preprocessor: defines, conditionals, substitutions and includes.
//!
//! Kamailio does this inside its lexer, token by token. We do it in one pass over the text
//! that recognises just enough tokens to be faithful: comments (removed), strings and
//! pseudo-variable tokens (copied untouched, since defines never apply inside them),
//! identifiers (where defines are substituted and re-scanned) and directives. The result is
//! one text for the parser plus an [`Expanded`] map that sends every output byte back to the
//! user's file, line and column.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::diagnostics::{Code, Diagnostic};
use crate::keywords;
use crate::source::{Expanded, FileId, SourceMap, Span};

/// The Kamailio release whose predefined names (`KAMAILIO_6`, `KAMAILIO_VERSION`...) we set.
pub const KAMAILIO_VERSION: (u32, u32, u32) = (6, 0, 0);

const MAX_INCLUDE_DEPTH: usize = 10;
const MAX_EXPANSION_DEPTH: usize = 64;
const MAX_CONDITIONAL_DEPTH: usize = 512;
/// Defines can refer to each other: `#!define A B B` / `#!define B A A` doubles at every
/// level. These bound the work and the output whatever the config says.
const MAX_EXPANSIONS: usize = 100_000;
const MAX_OUTPUT_BYTES: usize = 16 << 20;

/// How the config asked to be read (its first-line header).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// `#!KAMAILIO` / `#!OPENSER`: unknown `$name` is an error.
    Kamailio,
    /// `#!SER`.
    Ser,
    /// `#!MAXCOMPAT`, `#!ALL` or no header.
    #[default]
    MaxCompat,
}

/// Reads included files; tests substitute an in-memory one.
pub trait FileLoader: Sync {
    fn load(&self, path: &Path) -> std::io::Result<String>;
    fn exists(&self, path: &Path) -> bool;
}

/// Reads from the file system.
pub struct FsLoader;

impl FileLoader for FsLoader {
    fn load(&self, path: &Path) -> std::io::Result<String> {
        let bytes = std::fs::read(path)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
    fn exists(&self, path: &Path) -> bool {
        path.is_file()
    }
}

/// A `#!define`d name.
#[derive(Clone, Debug)]
pub struct Define {
    /// `None` for a define without value (it expands to nothing).
    pub value: Option<String>,
    /// Where it was defined.
    pub span: Span,
}

/// What the preprocessor produced.
#[derive(Debug)]
pub struct Preprocessed {
    pub expanded: Expanded,
    pub mode: Mode,
    pub diagnostics: Vec<Diagnostic>,
    /// Defines in force at the end of the file.
    pub defines: HashMap<String, Define>,
    /// Every `#!ifdef`/`#!ifndef`/`#!ifexp`/`#!else`/`#!endif` seen, taken or not: code on
    /// either side of one may be configured differently.
    pub conditionals: Vec<Span>,
}

struct SubstRule {
    regex: regex::Regex,
    replacement: String,
    global: bool,
}

#[derive(Debug)]
struct Conditional {
    span: Span,
    /// Whether this branch's text is kept (ignoring enclosing conditionals).
    taking: bool,
    /// Whether the enclosing text was active when this conditional opened.
    outer_active: bool,
    seen_else: bool,
}

/// Where scanned text comes from: a file (directives allowed) or a define's value.
#[derive(Clone, Copy)]
enum Origin {
    File(FileId),
    Expansion(Span),
}

/// What the last few tokens were, to spot route names and event route names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Context {
    Other,
    /// Just saw `route`, `failure_route`... expecting `(` or `[`.
    RouteKeyword,
    /// Just saw `route(` or `route[`: the next identifier is a route name.
    RouteOpen,
    EventRouteKeyword,
    /// Inside `event_route[ ... ]`: names are not substituted.
    EventRouteName,
}

struct Preprocessor<'a> {
    sources: &'a mut SourceMap,
    loader: &'a dyn FileLoader,
    out: Expanded,
    defines: HashMap<String, Define>,
    conditionals: Vec<Conditional>,
    substs: Vec<SubstRule>,
    diagnostics: Vec<Diagnostic>,
    mode: Option<Mode>,
    include_depth: usize,
    context: Context,
    conditional_directives: Vec<Span>,
    expansions: usize,
    expansion_overflow: bool,
}

/// Options for one run of the preprocessor.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `-A NAME[=VALUE]` from the command line, in order.
    pub defines: Vec<(String, Option<String>)>,
}

/// Parses a `-A` argument: `NAME` or `NAME=VALUE`.
pub fn parse_define_arg(arg: &str) -> (String, Option<String>) {
    match arg.split_once('=') {
        Some((name, value)) => (name.to_string(), Some(value.to_string())),
        None => (arg.to_string(), None),
    }
}

/// Preprocesses `root` (already added to `sources`).
pub fn preprocess(sources: &mut SourceMap, root: FileId, loader: &dyn FileLoader, options: &Options) -> Preprocessed {
    let mut pp = Preprocessor {
        sources,
        loader,
        out: Expanded::default(),
        defines: HashMap::new(),
        conditionals: Vec::new(),
        substs: Vec::new(),
        diagnostics: Vec::new(),
        mode: None,
        include_depth: 0,
        context: Context::Other,
        conditional_directives: Vec::new(),
        expansions: 0,
        expansion_overflow: false,
    };
    pp.predefine(options);
    pp.scan_file(root);
    while let Some(open) = pp.conditionals.pop() {
        pp.error(open.span, "this conditional is never closed")
            .label("opened here, no matching `#!endif`")
            .help("add `#!endif` on a line of its own where the conditional text ends")
            .finish();
    }
    Preprocessed {
        expanded: pp.out,
        mode: pp.mode.unwrap_or_default(),
        diagnostics: pp.diagnostics,
        defines: pp.defines,
        conditionals: pp.conditional_directives,
    }
}

/// Builder for a diagnostic that is pushed when `finish` is called.
struct Report<'p, 'a> {
    pp: &'p mut Preprocessor<'a>,
    diagnostic: Diagnostic,
}

impl Report<'_, '_> {
    fn label(mut self, text: &str) -> Self {
        self.diagnostic.label = Some(text.to_string());
        self
    }
    fn help(mut self, text: impl Into<String>) -> Self {
        self.diagnostic.help = Some(text.into());
        self
    }
    fn secondary(mut self, span: Span, text: &str) -> Self {
        self.diagnostic.secondary.push((span, text.to_string()));
        self
    }
    fn note(mut self, text: impl Into<String>) -> Self {
        self.diagnostic.notes.push(text.into());
        self
    }
    fn finish(self) {
        self.pp.diagnostics.push(self.diagnostic);
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Typographic quotes accepted as string delimiters (a warning says to replace them).
pub const TYPOGRAPHIC_DOUBLE: [char; 4] = ['“', '”', '„', '‟'];
pub const TYPOGRAPHIC_SINGLE: [char; 2] = ['‘', '’'];

fn typographic_quote_at(text: &str, i: usize) -> Option<(char, bool)> {
    let c = text[i..].chars().next()?;
    if TYPOGRAPHIC_DOUBLE.contains(&c) {
        Some((c, true))
    } else if TYPOGRAPHIC_SINGLE.contains(&c) {
        Some((c, false))
    } else {
        None
    }
}

/// End (exclusive) of a double-quoted string starting at `i` (on the quote).
fn end_of_double_string(bytes: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    bytes.len()
}

fn end_of_single_string(bytes: &[u8], i: usize) -> usize {
    match memchr(b'\'', &bytes[i + 1..]) {
        Some(k) => i + 1 + k + 1,
        None => bytes.len(),
    }
}

fn end_of_typographic_string(text: &str, i: usize, double: bool) -> usize {
    let first = text[i..].chars().next().map(char::len_utf8).unwrap_or(1);
    let closers: &[char] = if double { &TYPOGRAPHIC_DOUBLE } else { &TYPOGRAPHIC_SINGLE };
    let mut j = i + first;
    for c in text[j..].chars() {
        if closers.contains(&c) || (double && c == '"') {
            return j + c.len_utf8();
        }
        if c == '\n' {
            // An unclosed typographic string stops at the line end: the parser reports it.
            return j;
        }
        j += c.len_utf8();
    }
    text.len()
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

/// End of a pseudo-variable token starting at `i` (on the `$`): `$name`, `$name(...)`,
/// `$(...)`, with balanced parentheses on one line.
pub fn end_of_pv(bytes: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    if j < bytes.len() && (bytes[j] == b'?') {
        return j + 1;
    }
    while j < bytes.len() && is_ident_char(bytes[j]) {
        j += 1;
    }
    if j < bytes.len() && bytes[j] == b'(' {
        let mut depth = 0usize;
        let mut k = j;
        while k < bytes.len() {
            match bytes[k] {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return k + 1;
                    }
                }
                b'\n' => return j,
                _ => {}
            }
            k += 1;
        }
        return j;
    }
    j
}

/// End of a `/* */` comment starting at `i`, honouring nesting; `None` if unterminated.
fn end_of_block_comment(bytes: &[u8], i: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut j = i;
    while j + 1 < bytes.len() {
        if bytes[j] == b'/' && bytes[j + 1] == b'*' {
            depth += 1;
            j += 2;
        } else if bytes[j] == b'*' && bytes[j + 1] == b'/' {
            depth -= 1;
            j += 2;
            if depth == 0 {
                return Some(j);
            }
        } else {
            j += 1;
        }
    }
    None
}

fn end_of_line(bytes: &[u8], i: usize) -> usize {
    memchr(b'\n', &bytes[i..]).map(|k| i + k).unwrap_or(bytes.len())
}

/// Directive keywords after `#!` or `!!`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Directive {
    Define,
    TryDef,
    Redefine,
    Undef,
    TryUndef,
    IfDef,
    IfNDef,
    IfExp,
    Else,
    EndIf,
    Subst,
    SubstDef,
    SubstDefs,
    IncludeFile,
    ImportFile,
    DefExp,
    DefExps,
    DefEnv,
    DefEnvs,
    TryDefEnv,
    TryDefEnvs,
}

impl Directive {
    fn from_word(word: &str) -> Option<Directive> {
        Some(match word {
            "define" | "def" => Directive::Define,
            "trydef" | "trydefine" => Directive::TryDef,
            "redefine" | "redef" => Directive::Redefine,
            "undef" | "undefine" => Directive::Undef,
            "tryundef" | "tryundefine" => Directive::TryUndef,
            "ifdef" => Directive::IfDef,
            "ifndef" => Directive::IfNDef,
            "ifexp" => Directive::IfExp,
            "else" => Directive::Else,
            "endif" => Directive::EndIf,
            "subst" => Directive::Subst,
            "substdef" => Directive::SubstDef,
            "substdefs" => Directive::SubstDefs,
            "include_file" => Directive::IncludeFile,
            "import_file" => Directive::ImportFile,
            "defexp" => Directive::DefExp,
            "defexps" => Directive::DefExps,
            "defenv" => Directive::DefEnv,
            "defenvs" => Directive::DefEnvs,
            "trydefenv" => Directive::TryDefEnv,
            "trydefenvs" => Directive::TryDefEnvs,
            _ => return None,
        })
    }

    fn is_conditional(self) -> bool {
        matches!(self, Directive::IfDef | Directive::IfNDef | Directive::IfExp | Directive::Else | Directive::EndIf)
    }
}

impl<'a> Preprocessor<'a> {
    fn error(&mut self, span: Span, message: impl Into<String>) -> Report<'_, 'a> {
        Report { diagnostic: Diagnostic::new(Code::Preprocessor, span, message), pp: self }
    }

    fn active(&self) -> bool {
        self.conditionals.last().is_none_or(|c| c.outer_active && c.taking)
    }

    fn predefine(&mut self, options: &Options) {
        let (major, minor, patch) = KAMAILIO_VERSION;
        let builtin: Vec<(String, Option<String>)> = vec![
            (format!("KAMAILIO_{major}"), None),
            (format!("KAMAILIO_{major}_{minor}"), None),
            (format!("KAMAILIO_{major}_{minor}_{patch}"), None),
            ("KAMAILIO_VERSION".into(), Some((major * 1_000_000 + minor * 1000 + patch).to_string())),
            ("OS_NAME".into(), Some("\"linux\"".into())),
        ];
        let builtin_count = builtin.len();
        // Predefined names get a pseudo file so their spans can be shown like any other.
        let mut text = String::new();
        let mut entries = Vec::new();
        for (name, value) in builtin.into_iter().chain(options.defines.iter().cloned()) {
            let start = text.len();
            text.push_str(&name);
            if let Some(v) = &value {
                text.push('=');
                text.push_str(v);
            }
            entries.push((name, value, start..text.len()));
            text.push('\n');
        }
        let file = self.sources.add("<command line>", "<command line>", text, None);
        for (index, (name, value, range)) in entries.into_iter().enumerate() {
            let span = Span::new(file, range);
            if index >= builtin_count && !is_valid_define_name(&name) {
                self.error(span, format!("`{name}` is not a valid define name"))
                    .help("a define name is a letter or `_` followed by letters, digits or `_`")
                    .finish();
                continue;
            }
            // A later -A of the same name replaces the earlier one, as in Kamailio.
            self.defines.insert(name, Define { value, span });
        }
    }

    fn scan_file(&mut self, file: FileId) {
        let text: Rc<str> = Rc::from(self.sources.get(file).text.as_str());
        self.detect_mode(&text);
        self.scan(&text, Origin::File(file), 0);
    }

    fn detect_mode(&mut self, text: &str) {
        if self.mode.is_some() {
            return;
        }
        let first = text.lines().next().unwrap_or("").trim_end_matches('\r');
        self.mode = match first {
            "#!KAMAILIO" | "#!OPENSER" => Some(Mode::Kamailio),
            "#!SER" => Some(Mode::Ser),
            "#!MAXCOMPAT" | "#!ALL" => Some(Mode::MaxCompat),
            _ => None,
        };
    }

    fn span_in(&self, origin: Origin, range: std::ops::Range<usize>) -> Span {
        match origin {
            Origin::File(file) => Span::new(file, range),
            Origin::Expansion(span) => span,
        }
    }

    fn emit(&mut self, text: &str, origin: Origin, at: usize) {
        match origin {
            Origin::File(file) => self.out.push_verbatim(text, file, at),
            Origin::Expansion(span) => self.out.push_expansion(text, span),
        }
    }

    fn set_context_after_token(&mut self, token: &str) {
        self.context = match (self.context, token) {
            (_, "route" | "failure_route" | "branch_route" | "onreply_route" | "reply_route") => Context::RouteKeyword,
            (_, "event_route") => Context::EventRouteKeyword,
            (Context::RouteKeyword, "(" | "[") => Context::RouteOpen,
            (Context::EventRouteKeyword, "[") => Context::EventRouteName,
            (Context::EventRouteName, "]") => Context::Other,
            (Context::EventRouteName, _) => Context::EventRouteName,
            _ => Context::Other,
        };
    }

    /// Scans `text`; directives are honoured only when it comes from a file.
    fn scan(&mut self, text: &str, origin: Origin, depth: usize) {
        let bytes = text.as_bytes();
        let mut i = 0;
        // Start of bytes not yet copied to the output.
        let mut copied = 0;
        while i < bytes.len() {
            if !self.active() {
                // Only conditionals are seen in skipped text.
                let Some(at) = find_directive_start(bytes, i) else {
                    copied = bytes.len();
                    break;
                };
                let end = match origin {
                    Origin::File(file) => self.directive(text, file, at, true),
                    Origin::Expansion(_) => end_of_line(bytes, at),
                };
                i = end;
                copied = end;
                continue;
            }
            let b = bytes[i];
            if matches!(b, b'\n' | b' ' | b'\t' | b'\r') {
                i += 1;
                continue;
            }
            if (b == b'#' || b == b'!') && bytes.get(i + 1) == Some(&b'!') {
                if let Origin::File(file) = origin
                    && directive_at(bytes, i).is_some()
                {
                    self.emit(&text[copied..i], origin, copied);
                    let end = self.directive(text, file, i, false);
                    // Keep a line break in the output so tokens on either side stay apart.
                    self.emit(" ", origin, i);
                    i = end;
                    copied = end;
                    continue;
                }
                if b == b'!' {
                    // `!!` that is not a directive: two `!` operators.
                    i += 1;
                    continue;
                }
            }
            if b == b'#' {
                let end = end_of_line(bytes, i);
                self.emit(&text[copied..i], origin, copied);
                self.emit(" ", origin, i);
                i = end;
                copied = end;
                continue;
            }
            if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
                let end = end_of_line(bytes, i);
                self.emit(&text[copied..i], origin, copied);
                self.emit(" ", origin, i);
                i = end;
                copied = end;
                continue;
            }
            if b == b'/' && bytes.get(i + 1) == Some(&b'*') {
                self.emit(&text[copied..i], origin, copied);
                let end = match end_of_block_comment(bytes, i) {
                    Some(end) => end,
                    None => {
                        let span = self.span_in(origin, i..i + 2);
                        self.error(span, "unterminated block comment")
                            .label("this `/*` is never closed")
                            .help("close it with `*/` (block comments nest: every `/*` needs its own `*/`)")
                            .finish();
                        bytes.len()
                    }
                };
                self.emit(" ", origin, i);
                i = end;
                copied = end;
                continue;
            }
            if b == b'"' {
                let end = end_of_double_string(bytes, i);
                self.emit(&text[copied..i], origin, copied);
                self.emit_string(text, i, end, origin);
                i = end;
                copied = end;
                self.set_context_after_token("\"");
                continue;
            }
            if b == b'\'' {
                let end = end_of_single_string(bytes, i);
                i = end;
                self.set_context_after_token("'");
                continue;
            }
            if b >= 0x80 {
                if let Some((_, double)) = typographic_quote_at(text, i) {
                    let end = end_of_typographic_string(text, i, double);
                    self.emit(&text[copied..i], origin, copied);
                    self.emit_string(text, i, end, origin);
                    i = end;
                    copied = end;
                    self.set_context_after_token("\"");
                    continue;
                }
                i += text[i..].chars().next().map(char::len_utf8).unwrap_or(1);
                self.set_context_after_token("?");
                continue;
            }
            if b == b'$' {
                i = end_of_pv(bytes, i);
                self.set_context_after_token("$");
                continue;
            }
            if b.is_ascii_digit() {
                while i < bytes.len() && is_ident_char(bytes[i]) {
                    i += 1;
                }
                self.set_context_after_token("0");
                continue;
            }
            if is_ident_start(b) {
                let start = i;
                while i < bytes.len() && is_ident_char(bytes[i]) {
                    i += 1;
                }
                let word = &text[start..i];
                match word {
                    "include_file" | "import_file" => {
                        if let Origin::File(file) = origin
                            && let Some((path_start, path_end)) = following_string(bytes, i)
                        {
                            self.emit(&text[copied..start], origin, copied);
                            let raw = text[path_start + 1..path_end - 1].to_string();
                            let span = Span::new(file, start..path_end);
                            self.include(file, &raw, span, word == "import_file");
                            self.emit(" ", origin, start);
                            i = path_end;
                            copied = path_end;
                            self.context = Context::Other;
                            continue;
                        }
                    }
                    "loadmodule" => {
                        if let Some((s, e)) = following_string(bytes, i) {
                            let module = module_stem(&text[s + 1..e - 1]);
                            let span = self.span_in(origin, start..e);
                            self.defines.entry(format!("MOD_{module}")).or_insert(Define { value: None, span });
                        }
                    }
                    _ => {}
                }
                if self.context != Context::EventRouteName
                    && !keywords::is_reserved(word)
                    && let Some(define) = self.defines.get(word).cloned()
                {
                    self.emit(&text[copied..start], origin, copied);
                    let use_span = self.span_in(origin, start..i);
                    copied = i;
                    self.expand(word, &define, use_span, depth);
                    continue;
                }
                self.set_context_after_token(word);
                continue;
            }
            let punct = &text[i..i + 1];
            self.set_context_after_token(punct);
            i += 1;
        }
        if copied < bytes.len() {
            self.emit(&text[copied..], origin, copied);
        }
    }

    fn expand(&mut self, name: &str, define: &Define, use_span: Span, depth: usize) {
        if self.expansion_overflow {
            return; // Already reported; the rest of this expansion is noise.
        }
        self.expansions += 1;
        if depth >= MAX_EXPANSION_DEPTH {
            self.expansion_overflow = true;
            self.error(use_span, format!("`{name}` expands into itself"))
                .label("expansion of this define never ends")
                .secondary(define.span, "defined here")
                .finish();
            return;
        }
        if self.expansions > MAX_EXPANSIONS || self.out.text.len() > MAX_OUTPUT_BYTES {
            self.expansion_overflow = true;
            self.error(use_span, format!("expanding `{name}` produces too much text"))
                .label("defines expand into each other without end")
                .secondary(define.span, "defined here")
                .note(format!(
                    "sipcfg stops after {MAX_EXPANSIONS} expansions or {} MiB of text",
                    MAX_OUTPUT_BYTES >> 20
                ))
                .finish();
            return;
        }
        match &define.value {
            None => {
                if self.context == Context::RouteOpen {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::DefineInRouteName,
                            use_span,
                            format!("`{name}` is a define without value: this route name expands to nothing"),
                        )
                        .with_label("expands to nothing here")
                        .with_secondary(define.span, "defined without value here")
                        .with_help(format!(
                            "write the route name as a string (`\"{name}\"`), rename the route, or give the define a value"
                        )),
                    );
                }
                // The define vanishes; the context stays as it was (route( stays open).
            }
            Some(value) => {
                // No padding is needed: the name was delimited by non-identifier characters,
                // so the value cannot merge with its neighbours into a different token.
                let value = value.clone();
                self.scan(&value, Origin::Expansion(use_span), depth + 1);
            }
        }
    }

    fn emit_string(&mut self, text: &str, start: usize, end: usize, origin: Origin) {
        let literal = &text[start..end];
        if self.substs.is_empty() {
            self.emit(literal, origin, start);
            return;
        }
        let rewritten = self.apply_substs(literal);
        if rewritten == literal {
            self.emit(literal, origin, start);
        } else {
            let span = self.span_in(origin, start..end);
            self.out.push_expansion(&rewritten, span);
        }
    }

    fn apply_substs(&self, text: &str) -> String {
        let mut current = text.to_string();
        for rule in &self.substs {
            current = if rule.global {
                rule.regex.replace_all(&current, rule.replacement.as_str()).into_owned()
            } else {
                rule.regex.replace(&current, rule.replacement.as_str()).into_owned()
            };
        }
        current
    }

    fn include(&mut self, from: FileId, raw_path: &str, span: Span, optional: bool) {
        let raw_path = self.apply_substs(raw_path);
        let decoded = raw_path.replace("\\t", "\t").replace("\\n", "\n").replace("\\r", "\r");
        if self.include_depth >= MAX_INCLUDE_DEPTH {
            self.error(span, format!("includes nested more than {MAX_INCLUDE_DEPTH} deep"))
                .label("this include is one too many")
                .note("an include cycle causes this too")
                .finish();
            return;
        }
        let requested = PathBuf::from(&decoded);
        let parent_dir = self.sources.get(from).path.parent().map(Path::to_path_buf);
        let mut candidates = Vec::new();
        if requested.is_absolute() {
            candidates.push(requested.clone());
        } else {
            if let Some(dir) = &parent_dir {
                candidates.push(dir.join(&requested));
            }
            candidates.push(requested.clone());
        }
        let Some(path) = candidates.into_iter().find(|p| self.loader.exists(p)) else {
            if !optional {
                self.error(span, format!("included file `{decoded}` not found"))
                    .label("cannot find this file")
                    .help(
                        "relative paths are looked up next to the including file, then in the current directory; \
                         use `import_file` for a file that may be missing",
                    )
                    .finish();
            }
            return;
        };
        let text = match self.loader.load(&path) {
            Ok(text) => text,
            Err(error) => {
                self.error(span, format!("cannot read `{}`: {error}", path.display())).finish();
                return;
            }
        };
        let file = self.sources.add(decoded, path, text, Some(span));
        self.include_depth += 1;
        let context = std::mem::replace(&mut self.context, Context::Other);
        self.scan_file(file);
        self.context = context;
        self.include_depth -= 1;
    }

    /// Handles the directive at `at` (on `#!`). Returns where scanning resumes.
    fn directive(&mut self, text: &str, file: FileId, at: usize, skipping: bool) -> usize {
        let bytes = text.as_bytes();
        let Some((directive, word_end)) = directive_at(bytes, at) else {
            return end_of_line(bytes, at);
        };
        if skipping && !directive.is_conditional() {
            return end_of_line(bytes, at);
        }
        let line_end = end_of_line(bytes, at);
        let head = Span::new(file, at..word_end);
        if directive.is_conditional() {
            self.conditional_directives.push(head);
        }
        let rest = &text[word_end..line_end];
        let rest_trimmed = rest.trim_end_matches('\r');
        match directive {
            Directive::Else | Directive::EndIf => {
                let trailing = rest_trimmed.trim();
                if !trailing.is_empty() {
                    let name = if directive == Directive::Else { "#!else" } else { "#!endif" };
                    self.error(Span::new(file, at..line_end), format!("text after `{name}`"))
                        .label("Kamailio reads this whole line as a comment")
                        .help(format!("put `{name}` alone on its line and move the comment to the line above"))
                        .finish();
                }
                self.conditional_branch(directive, head);
                line_end
            }
            Directive::IfDef | Directive::IfNDef => {
                let (name, _) = leading_word(rest);
                let outer_active = self.active();
                if self.conditionals.len() >= MAX_CONDITIONAL_DEPTH {
                    self.error(head, "conditionals nested too deep").finish();
                }
                let taking = if name.is_empty() {
                    if !skipping {
                        self.error(head, "missing define name").label("expected a name after this").finish();
                    }
                    false
                } else {
                    self.defines.contains_key(name) == (directive == Directive::IfDef)
                };
                self.conditionals.push(Conditional { span: head, taking, outer_active, seen_else: false });
                line_end
            }
            Directive::IfExp => {
                let outer_active = self.active();
                let taking = if outer_active {
                    match evaluate_expression(rest_trimmed, &self.defines) {
                        Ok(v) => v.truthy(),
                        Err(message) => {
                            self.error(
                                Span::new(file, word_end..line_end),
                                format!("cannot evaluate `#!ifexp`: {message}"),
                            )
                            .finish();
                            false
                        }
                    }
                } else {
                    false
                };
                self.conditionals.push(Conditional { span: head, taking, outer_active, seen_else: false });
                line_end
            }
            Directive::Define | Directive::TryDef | Directive::Redefine => {
                let (value_end, value) = define_value(text, word_end);
                let line = &text[word_end..value_end];
                self.define_directive(directive, file, at, word_end, line, value);
                value_end
            }
            Directive::Undef | Directive::TryUndef => {
                let (name, _) = leading_word(rest);
                if name.is_empty() {
                    self.error(head, "missing define name").finish();
                } else if self.defines.remove(name).is_none() && directive == Directive::Undef {
                    let offset = word_end + rest.find(name).unwrap_or(0);
                    self.error(Span::new(file, offset..offset + name.len()), format!("`{name}` is not defined"))
                        .help("use `#!tryundef` to remove a name that may not be defined")
                        .finish();
                }
                line_end
            }
            Directive::Subst | Directive::SubstDef | Directive::SubstDefs => {
                self.subst_directive(directive, file, word_end, rest_trimmed);
                line_end
            }
            Directive::IncludeFile | Directive::ImportFile => match following_string(bytes, word_end) {
                Some((s, e)) if e <= line_end => {
                    let raw = text[s + 1..e - 1].to_string();
                    self.include(file, &raw, Span::new(file, at..e), directive == Directive::ImportFile);
                    e
                }
                _ => {
                    self.error(head, "expected a quoted file name")
                        .help("write `#!include_file \"other.cfg\"`")
                        .finish();
                    line_end
                }
            },
            Directive::DefExp | Directive::DefExps => {
                let (name, after) = leading_word(rest);
                let expression = &rest_trimmed[after.min(rest_trimmed.len())..];
                let span = Span::new(file, at..line_end);
                if name.is_empty() {
                    self.error(head, "missing define name").finish();
                    return line_end;
                }
                match evaluate_expression(expression, &self.defines) {
                    Ok(value) => {
                        let value = value.to_define(directive == Directive::DefExps);
                        self.insert_define(name, Some(value), span, false);
                    }
                    Err(message) => {
                        self.error(span, format!("cannot evaluate `#!defexp`: {message}")).finish();
                    }
                }
                line_end
            }
            Directive::DefEnv | Directive::DefEnvs | Directive::TryDefEnv | Directive::TryDefEnvs => {
                let spec = rest_trimmed.trim();
                let (name, variable) = match spec.split_once('=') {
                    Some((n, v)) => (n.trim(), v.trim()),
                    None => (spec, spec),
                };
                let span = Span::new(file, at..line_end);
                let quoted = matches!(directive, Directive::DefEnvs | Directive::TryDefEnvs);
                match std::env::var(variable) {
                    Ok(value) => {
                        let value = if quoted { quote_define(&value) } else { value };
                        self.insert_define(name, Some(value), span, false);
                    }
                    Err(_) if matches!(directive, Directive::TryDefEnv | Directive::TryDefEnvs) => {}
                    Err(_) => {
                        self.error(span, format!("environment variable `{variable}` is not set"))
                            .help("set it, or use `#!trydefenv` to skip the define when it is unset")
                            .finish();
                    }
                }
                line_end
            }
        }
    }

    fn conditional_branch(&mut self, directive: Directive, head: Span) {
        let Some(top) = self.conditionals.last_mut() else {
            let name = if directive == Directive::Else { "#!else" } else { "#!endif" };
            self.error(head, format!("`{name}` without an open `#!ifdef`"))
                .label("nothing to close here")
                .help("remove it, or add the `#!ifdef NAME` it belongs to")
                .finish();
            return;
        };
        if directive == Directive::EndIf {
            self.conditionals.pop();
            return;
        }
        if top.seen_else {
            let first = top.span;
            self.error(head, "second `#!else` in one conditional").secondary(first, "conditional opened here").finish();
            return;
        }
        top.seen_else = true;
        top.taking = !top.taking;
    }

    fn define_directive(
        &mut self,
        directive: Directive,
        file: FileId,
        at: usize,
        word_end: usize,
        line: &str,
        value: Option<String>,
    ) {
        let name_offset = line.len() - line.trim_start_matches([' ', '\t']).len();
        let name_start = word_end + name_offset;
        let name_len = line[name_offset..].bytes().take_while(|&b| is_ident_char(b)).count();
        let name = &line[name_offset..name_offset + name_len];
        let name_span = Span::new(file, name_start..name_start + name_len.max(1));
        let after_name = line[name_offset + name_len..].chars().next();
        if name.is_empty() || !is_valid_define_name(name) {
            self.error(Span::new(file, at..word_end + line.len()), "missing or invalid define name")
                .help("write `#!define NAME value`; a name is a letter or `_` followed by letters, digits or `_`")
                .finish();
            return;
        }
        if let Some(c) = after_name
            && !matches!(c, ' ' | '\t' | '\r' | '\n' | '\\')
        {
            let bad = name_start + name_len;
            self.error(
                Span::new(file, name_start..bad + c.len_utf8()),
                format!("invalid character `{c}` in define name"),
            )
            .label("a define name cannot contain this")
            .help(format!("use only letters, digits and `_`, e.g. `{}_`", name))
            .finish();
            return;
        }
        if keywords::is_reserved(name) {
            self.error(name_span, format!("`{name}` is a reserved word and cannot be a define"))
                .label("Kamailio never substitutes a define named like a keyword")
                .help("choose another name")
                .finish();
            return;
        }
        match directive {
            Directive::Define => self.insert_define(name, value, name_span, true),
            Directive::TryDef => {
                if !self.defines.contains_key(name) {
                    self.insert_define(name, value, name_span, false);
                }
            }
            _ => self.insert_define(name, value, name_span, false),
        }
    }

    fn insert_define(&mut self, name: &str, value: Option<String>, span: Span, fail_if_defined: bool) {
        if fail_if_defined && let Some(previous) = self.defines.get(name) {
            let previous = previous.span;
            self.error(span, format!("`{name}` is already defined"))
                .label("defined again here")
                .secondary(previous, "first defined here")
                .help("use `#!redefine` to replace a value, or `#!trydef` for a default")
                .finish();
            return;
        }
        self.defines.insert(name.to_string(), Define { value, span });
    }

    fn subst_directive(&mut self, directive: Directive, file: FileId, word_end: usize, rest: &str) {
        let offset = rest.len() - rest.trim_start().len();
        let span = Span::new(file, word_end + offset..word_end + rest.len());
        let argument = rest.trim();
        let Some(inner) = argument.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
            self.error(span, "expected a quoted substitution such as \"/old/new/g\"").finish();
            return;
        };
        let Some((pattern, replacement, flags)) = split_subst(inner) else {
            self.error(span, "malformed substitution")
                .help("write \"/regex/replacement/flags\": the first character is the separator, flags are i, g, s")
                .finish();
            return;
        };
        let mut builder = regex::RegexBuilder::new(&pattern);
        let mut global = false;
        for flag in flags.chars() {
            match flag {
                'i' => {
                    builder.case_insensitive(true);
                }
                'g' => global = true,
                's' => {
                    builder.dot_matches_new_line(true);
                }
                other => {
                    self.error(span, format!("unknown substitution flag `{other}`"))
                        .help("flags are i (ignore case), g (all matches), s (newline not special)")
                        .finish();
                    return;
                }
            }
        }
        let regex = match builder.build() {
            Ok(regex) => regex,
            Err(error) => {
                self.error(span, format!("invalid regular expression: {error}")).finish();
                return;
            }
        };
        let rust_replacement = posix_replacement(&replacement);
        if directive != Directive::Subst {
            if !is_valid_define_name(&pattern) {
                self.error(span, "`#!substdef` needs a plain name as its pattern").finish();
                return;
            }
            let value =
                if directive == Directive::SubstDefs { quote_define(&replacement) } else { replacement.clone() };
            let value = if value.is_empty() { None } else { Some(value) };
            self.insert_define(&pattern, value, span, true);
        }
        self.substs.push(SubstRule { regex, replacement: rust_replacement, global });
    }
}

/// Where the next directive (`#!` or `!!` followed by a conditional keyword) starts.
fn find_directive_start(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 1 < bytes.len() {
        if (bytes[i] == b'#' || bytes[i] == b'!')
            && bytes[i + 1] == b'!'
            && directive_at(bytes, i).is_some_and(|(d, _)| d.is_conditional())
        {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Recognises `#!word` / `!!word` at `i` where word is a directive followed by a blank or
/// the line end. Returns the directive and where its word ends.
fn directive_at(bytes: &[u8], i: usize) -> Option<(Directive, usize)> {
    if i + 2 > bytes.len() || !matches!(bytes[i], b'#' | b'!') || bytes[i + 1] != b'!' {
        return None;
    }
    let start = i + 2;
    let mut end = start;
    while end < bytes.len() && (bytes[end].is_ascii_lowercase() || bytes[end] == b'_') {
        end += 1;
    }
    let word = std::str::from_utf8(&bytes[start..end]).ok()?;
    let directive = Directive::from_word(word)?;
    let next = bytes.get(end).copied();
    let blank_follows = matches!(next, None | Some(b' ' | b'\t' | b'\r' | b'\n'));
    let ok = match directive {
        Directive::Else | Directive::EndIf => blank_follows,
        Directive::IncludeFile
        | Directive::ImportFile
        | Directive::Subst
        | Directive::SubstDef
        | Directive::SubstDefs => blank_follows || next == Some(b'"'),
        _ => matches!(next, Some(b' ' | b'\t')),
    };
    ok.then_some((directive, end))
}

/// The first identifier-like word of `text` and the offset just past it.
fn leading_word(text: &str) -> (&str, usize) {
    let start = text.len() - text.trim_start_matches([' ', '\t']).len();
    let len = text[start..].bytes().take_while(|&b| is_ident_char(b)).count();
    (&text[start..start + len], start + len)
}

/// Reads a define's name and value from just after the directive word: the rest of the line,
/// continued over backslash-newlines, without the trailing comment. Returns where the
/// directive ends and the value (None when empty).
fn define_value(text: &str, from: usize) -> (usize, Option<String>) {
    let bytes = text.as_bytes();
    let mut end = from;
    let mut raw = String::new();
    loop {
        let line_end = end_of_line(bytes, end);
        let line = text[end..line_end].trim_end_matches('\r');
        if let Some(continued) = line.strip_suffix('\\')
            && line_end < bytes.len()
        {
            raw.push_str(continued);
            raw.push('\n');
            end = line_end + 1;
            continue;
        }
        raw.push_str(line);
        end = line_end;
        break;
    }
    // Skip the name.
    let trimmed = raw.trim_start_matches([' ', '\t']);
    let name_len = trimmed.bytes().take_while(|&b| is_ident_char(b)).count();
    let value = strip_trailing_comment(&trimmed[name_len..]).trim();
    (end, (!value.is_empty()).then(|| value.to_string()))
}

/// Cuts a `#` or `//` comment off a define value (outside quotes).
///
/// Kamailio keeps it and the comment then swallows the rest of the line where the define is
/// used (`$x = FIVE; xlog(..)` loses its `;`); nobody wants that, so the value ends at the
/// comment.
fn strip_trailing_comment(value: &str) -> &str {
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = end_of_double_string(bytes, i),
            b'\'' => i = end_of_single_string(bytes, i),
            b'$' => i = end_of_pv(bytes, i).max(i + 1),
            b'#' => return &value[..i],
            b'/' if bytes.get(i + 1) == Some(&b'/') => return &value[..i],
            _ => i += 1,
        }
    }
    value
}

/// `"x"` string literal starting after optional blanks at `i` (same line).
fn following_string(bytes: &[u8], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    while j < bytes.len() && matches!(bytes[j], b' ' | b'\t') {
        j += 1;
    }
    if bytes.get(j) == Some(&b'(') {
        // loadmodule("x.so") form of Kamailio master.
        j += 1;
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\t') {
            j += 1;
        }
    }
    if bytes.get(j) != Some(&b'"') {
        return None;
    }
    let end = end_of_double_string(bytes, j);
    (end <= bytes.len() && end > j + 1 && bytes[end - 1] == b'"').then_some((j, end))
}

/// `sl`, `sl.so`, `/usr/lib/kamailio/modules/sl.so` → `sl`.
pub fn module_stem(path: &str) -> &str {
    let base = path.rsplit('/').next().unwrap_or(path);
    base.strip_suffix(".so").unwrap_or(base)
}

fn is_valid_define_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty() && is_ident_start(bytes[0]) && bytes.iter().all(|&b| is_ident_char(b))
}

fn quote_define(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Splits `/re/repl/flags` (any separator) honouring `\sep` escapes.
fn split_subst(text: &str) -> Option<(String, String, String)> {
    let mut chars = text.chars();
    let separator = chars.next()?;
    let mut parts = vec![String::new()];
    let mut escaped = false;
    for c in chars {
        if escaped {
            if c != separator {
                parts.last_mut()?.push('\\');
            }
            parts.last_mut()?.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == separator {
            parts.push(String::new());
        } else {
            parts.last_mut()?.push(c);
        }
    }
    if escaped {
        parts.last_mut()?.push('\\');
    }
    if parts.len() != 3 {
        return None;
    }
    let flags = parts.pop()?;
    let replacement = parts.pop()?;
    let pattern = parts.pop()?;
    Some((pattern, replacement, flags))
}

/// POSIX `\1` back-references → the regex crate's `${1}`; a literal `$` is escaped.
fn posix_replacement(replacement: &str) -> String {
    let mut out = String::new();
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(d) if d.is_ascii_digit() => {
                    out.push_str(&format!("${{{d}}}"));
                    chars.next();
                }
                Some(&next) => {
                    out.push(next);
                    chars.next();
                }
                None => out.push('\\'),
            },
            '$' => out.push_str("$$"),
            _ => out.push(c),
        }
    }
    out
}

/// A value in `#!ifexp` / `#!defexp` expressions.
#[derive(Clone, Debug, PartialEq)]
enum ExpValue {
    Num(f64),
    Str(String),
}

impl ExpValue {
    fn truthy(&self) -> bool {
        match self {
            ExpValue::Num(n) => *n != 0.0,
            ExpValue::Str(s) => !s.is_empty(),
        }
    }

    fn num(&self) -> f64 {
        match self {
            ExpValue::Num(n) => *n,
            ExpValue::Str(s) => s.trim().parse().unwrap_or(0.0),
        }
    }

    fn to_define(&self, quoted: bool) -> String {
        let text = match self {
            ExpValue::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            ExpValue::Num(n) => n.to_string(),
            ExpValue::Str(s) => s.clone(),
        };
        if quoted { quote_define(&text) } else { text }
    }
}

/// Evaluates the small expression language of `#!ifexp`: numbers, strings, define names
/// (a define without value is 1, an undefined name 0), `! - + * / % == != < <= > >= && ||`
/// and parentheses.
fn evaluate_expression(text: &str, defines: &HashMap<String, Define>) -> Result<ExpValue, String> {
    let tokens = tokenize_expression(text)?;
    let mut parser = ExpParser { tokens, position: 0, defines };
    let value = parser.binary(0)?;
    if parser.position != parser.tokens.len() {
        return Err(format!("unexpected `{}`", parser.tokens[parser.position].text()));
    }
    Ok(value)
}

#[derive(Clone, Debug)]
enum ExpToken {
    Num(f64),
    Str(String),
    Name(String),
    Op(&'static str),
}

impl ExpToken {
    fn text(&self) -> String {
        match self {
            ExpToken::Num(n) => n.to_string(),
            ExpToken::Str(s) => format!("\"{s}\""),
            ExpToken::Name(n) => n.clone(),
            ExpToken::Op(o) => o.to_string(),
        }
    }
}

fn tokenize_expression(text: &str) -> Result<Vec<ExpToken>, String> {
    const OPS: [&str; 17] = ["&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "+", "-", "*", "/", "%", "(", ")", ","];
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    'outer: while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if b == b'"' {
            let end = end_of_double_string(bytes, i);
            if end > bytes.len() || bytes.get(end - 1) != Some(&b'"') || end == i + 1 {
                return Err("unterminated string".into());
            }
            tokens.push(ExpToken::Str(text[i + 1..end - 1].to_string()));
            i = end;
            continue;
        }
        if b.is_ascii_digit() {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
                i += 1;
            }
            let word = &text[start..i];
            let value = parse_number(word).ok_or_else(|| format!("bad number `{word}`"))?;
            tokens.push(ExpToken::Num(value));
            continue;
        }
        if is_ident_start(b) {
            let start = i;
            while i < bytes.len() && is_ident_char(bytes[i]) {
                i += 1;
            }
            tokens.push(ExpToken::Name(text[start..i].to_string()));
            continue;
        }
        for op in OPS {
            if text[i..].starts_with(op) {
                tokens.push(ExpToken::Op(op));
                i += op.len();
                continue 'outer;
            }
        }
        return Err(format!("unexpected character `{}`", &text[i..].chars().next().unwrap_or('?')));
    }
    Ok(tokens)
}

fn parse_number(word: &str) -> Option<f64> {
    if let Some(hex) = word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
        return i64::from_str_radix(hex, 16).ok().map(|v| v as f64);
    }
    word.parse().ok()
}

struct ExpParser<'a> {
    tokens: Vec<ExpToken>,
    position: usize,
    defines: &'a HashMap<String, Define>,
}

impl ExpParser<'_> {
    fn peek_op(&self) -> Option<&'static str> {
        match self.tokens.get(self.position) {
            Some(ExpToken::Op(op)) => Some(op),
            _ => None,
        }
    }

    fn binary(&mut self, min_level: u8) -> Result<ExpValue, String> {
        let mut left = self.unary()?;
        while let Some(op) = self.peek_op() {
            let level = match op {
                "||" => 1,
                "&&" => 2,
                "==" | "!=" => 3,
                "<" | "<=" | ">" | ">=" => 4,
                "+" | "-" => 5,
                "*" | "/" | "%" => 6,
                _ => break,
            };
            if level < min_level.max(1) {
                break;
            }
            self.position += 1;
            let right = self.binary(level + 1)?;
            left = apply_binary(op, left, right)?;
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<ExpValue, String> {
        match self.tokens.get(self.position).cloned() {
            Some(ExpToken::Op("!")) => {
                self.position += 1;
                let v = self.unary()?;
                Ok(ExpValue::Num(if v.truthy() { 0.0 } else { 1.0 }))
            }
            Some(ExpToken::Op("-")) => {
                self.position += 1;
                let v = self.unary()?;
                Ok(ExpValue::Num(-v.num()))
            }
            Some(ExpToken::Op("(")) => {
                self.position += 1;
                let v = self.binary(0)?;
                if self.peek_op() != Some(")") {
                    return Err("missing `)`".into());
                }
                self.position += 1;
                Ok(v)
            }
            Some(ExpToken::Num(n)) => {
                self.position += 1;
                Ok(ExpValue::Num(n))
            }
            Some(ExpToken::Str(s)) => {
                self.position += 1;
                Ok(ExpValue::Str(s))
            }
            Some(ExpToken::Name(name)) => {
                self.position += 1;
                Ok(match self.defines.get(&name) {
                    None => ExpValue::Num(0.0),
                    Some(Define { value: None, .. }) => ExpValue::Num(1.0),
                    Some(Define { value: Some(v), .. }) => {
                        let v = v.trim();
                        if let Some(s) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                            ExpValue::Str(s.to_string())
                        } else if let Some(n) = parse_number(v) {
                            ExpValue::Num(n)
                        } else {
                            ExpValue::Str(v.to_string())
                        }
                    }
                })
            }
            Some(other) => Err(format!("unexpected `{}`", other.text())),
            None => Err("expression ends too early".into()),
        }
    }
}

fn apply_binary(op: &str, left: ExpValue, right: ExpValue) -> Result<ExpValue, String> {
    let bool_num = |b: bool| ExpValue::Num(if b { 1.0 } else { 0.0 });
    Ok(match op {
        "||" => bool_num(left.truthy() || right.truthy()),
        "&&" => bool_num(left.truthy() && right.truthy()),
        "==" | "!=" => {
            let equal = match (&left, &right) {
                (ExpValue::Str(a), ExpValue::Str(b)) => a == b,
                _ => left.num() == right.num(),
            };
            bool_num(equal == (op == "=="))
        }
        "<" => bool_num(left.num() < right.num()),
        "<=" => bool_num(left.num() <= right.num()),
        ">" => bool_num(left.num() > right.num()),
        ">=" => bool_num(left.num() >= right.num()),
        "+" => match (&left, &right) {
            (ExpValue::Str(a), ExpValue::Str(b)) => ExpValue::Str(format!("{a}{b}")),
            _ => ExpValue::Num(left.num() + right.num()),
        },
        "-" => ExpValue::Num(left.num() - right.num()),
        "*" => ExpValue::Num(left.num() * right.num()),
        "/" | "%" => {
            let divisor = right.num();
            if divisor == 0.0 {
                return Err("division by zero".into());
            }
            if op == "/" { ExpValue::Num(left.num() / divisor) } else { ExpValue::Num(left.num() % divisor) }
        }
        _ => return Err(format!("unknown operator `{op}`")),
    })
}

#[cfg(test)]
mod tests;
