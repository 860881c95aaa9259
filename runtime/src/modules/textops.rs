//! textops: tests and edits on the message text (modules.md §5).
//!
//! Regular expressions are compiled once per call site by the generated code (POSIX ERE as
//! Kamailio, with the regex crate's syntax, which covers what configs use) and match
//! case-insensitively, as Kamailio's fixups compile them.

use bytes::Bytes;
use regex::bytes::{Regex, RegexBuilder};

use crate::context::{Ctx, RequestSide, RouteKind};
use crate::sip::{HeaderName, Method};

/// Compiles a pattern of the config. The checker has already compiled it once, so failure
/// means a bug; it yields a regex that never matches rather than a panic.
pub fn regex(pattern: &str) -> Regex {
    RegexBuilder::new(pattern).case_insensitive(true).build().unwrap_or_else(|e| {
        tracing::error!("invalid regular expression `{pattern}`: {e}");
        never()
    })
}

fn never() -> Regex {
    // `[^\s\S]` matches nothing; it always compiles.
    Regex::new(r"[^\s\S]").unwrap_or_else(|_| unreachable!("a constant pattern"))
}

/// A set of known methods for `is_method("INVITE|BYE")`, resolved at compile time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MethodSet(pub u32);

impl MethodSet {
    pub const fn bit(method: Method) -> u32 {
        1 << (method as u32)
    }

    pub fn contains(self, method: Method) -> bool {
        method != Method::Other && self.0 & Self::bit(method) != 0
    }
}

/// `is_method("M1|M2")`: known methods by id; a single unknown name by case-insensitive text.
pub fn is_method<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>, set: MethodSet, other: Option<&[u8]>) -> i32 {
    let method = cx.msg.method();
    let hit = match other {
        Some(name) => cx.msg.method_text().eq_ignore_ascii_case(name),
        None => set.contains(method),
    };
    if hit { 1 } else { -1 }
}

/// `search("re")`: the regex matches somewhere in the message as received.
pub fn search<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>, re: &Regex) -> i32 {
    if re.is_match(cx.msg.as_bytes()) { 1 } else { -1 }
}

/// `search_body("re")`.
pub fn search_body<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>, re: &Regex) -> i32 {
    if re.is_match(cx.msg.body()) { 1 } else { -1 }
}

/// `search_append("re", "txt")`: inserts `txt` after the first match.
pub fn search_append<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, re: &Regex, text: &[u8]) -> i32 {
    match re.find(cx.msg.as_bytes()).map(|m| m.end() as u32) {
        Some(at) => {
            cx.msg.insert(at, text);
            1
        }
        None => -1,
    }
}

/// `append_hf("H: v\r\n")`: after the last header.
pub fn append_hf<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, line: &[u8]) -> i32 {
    cx.msg.append_header(line);
    1
}

/// `append_hf("H: v\r\n", "Name")`: after the last header called `Name`.
pub fn append_hf_after<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, line: &[u8], name: &[u8]) -> i32 {
    let at =
        cx.msg.headers().iter().rev().find(|h| matches_name(cx.msg.get(h.name_text), h.name, name)).map(|h| h.line.end);
    match at {
        Some(at) => {
            cx.msg.insert(at, line);
            1
        }
        None => -1,
    }
}

/// `insert_hf("H: v\r\n")`: before the first header.
pub fn insert_hf<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, line: &[u8]) -> i32 {
    cx.msg.prepend_header(line);
    1
}

/// `insert_hf("H: v\r\n", "Name")`: before the first header called `Name`.
pub fn insert_hf_before<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, line: &[u8], name: &[u8]) -> i32 {
    let index = cx.msg.headers().iter().position(|h| matches_name(cx.msg.get(h.name_text), h.name, name));
    match index {
        Some(index) => {
            cx.msg.insert_header_before(index, line);
            1
        }
        None => -1,
    }
}

fn matches_name(written: &[u8], parsed: HeaderName, wanted: &[u8]) -> bool {
    parsed.matches(written, wanted)
}

/// `remove_hf("Name")`: every such header (compact forms too); 1 if any went.
pub fn remove_hf<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, name: &[u8]) -> i32 {
    let lines: smallvec::SmallVec<[crate::sip::Slice; 4]> = cx
        .msg
        .headers()
        .iter()
        .filter(|h| matches_name(cx.msg.get(h.name_text), h.name, name))
        .map(|h| h.line)
        .collect();
    for line in &lines {
        cx.msg.delete(*line);
    }
    if lines.is_empty() { -1 } else { 1 }
}

/// `remove_hf_re("re")`: headers whose name matches.
pub fn remove_hf_re<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, re: &Regex) -> i32 {
    let lines: smallvec::SmallVec<[crate::sip::Slice; 4]> =
        cx.msg.headers().iter().filter(|h| re.is_match(cx.msg.get(h.name_text))).map(|h| h.line).collect();
    for line in &lines {
        cx.msg.delete(*line);
    }
    if lines.is_empty() { -1 } else { 1 }
}

/// `is_present_hf("Name")`.
pub fn is_present_hf<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>, name: &[u8]) -> i32 {
    let present = cx.msg.headers().iter().any(|h| matches_name(cx.msg.get(h.name_text), h.name, name));
    if present { 1 } else { -1 }
}

/// `is_present_hf_re("re")`.
pub fn is_present_hf_re<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>, re: &Regex) -> i32 {
    if cx.msg.headers().iter().any(|h| re.is_match(cx.msg.get(h.name_text))) { 1 } else { -1 }
}

/// `has_body()` / `has_body("type/subtype")`.
pub fn has_body<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>, content_type: Option<&[u8]>) -> i32 {
    if cx.msg.body().is_empty() {
        return -1;
    }
    match content_type {
        None => 1,
        Some(wanted) => {
            if cx.msg.content_type().is_ok_and(|t| t.eq_ignore_ascii_case(wanted)) {
                1
            } else {
                -1
            }
        }
    }
}

/// A compiled `/re/repl/flags` substitution.
pub struct Subst {
    pub re: Regex,
    /// Replacement in the regex crate's syntax (`${1}`).
    pub replacement: String,
    pub global: bool,
}

impl Subst {
    /// Compiles `/re/repl/flags` (any separator; `\1`..`\9` in the replacement; flags `i`, `g`).
    pub fn new(spec: &str) -> Subst {
        let mut chars = spec.chars();
        let separator = chars.next().unwrap_or('/');
        let mut parts = vec![String::new()];
        let mut escaped = false;
        for c in chars {
            if c == separator && !escaped {
                parts.push(String::new());
                continue;
            }
            let Some(part) = parts.last_mut() else { continue };
            if escaped {
                if c != separator {
                    part.push('\\');
                }
                part.push(c);
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else {
                part.push(c);
            }
        }
        let flags = parts.get(2).cloned().unwrap_or_default();
        let re = RegexBuilder::new(parts.first().map(String::as_str).unwrap_or_default())
            .case_insensitive(flags.contains('i'))
            .build()
            .unwrap_or_else(|_| never());
        let mut replacement = String::new();
        let mut source = parts.get(1).cloned().unwrap_or_default().into_bytes().into_iter().peekable();
        while let Some(b) = source.next() {
            match (b, source.peek()) {
                (b'\\', Some(d)) if d.is_ascii_digit() => {
                    replacement.push_str(&format!("${{{}}}", *d as char));
                    source.next();
                }
                (b'$', _) => replacement.push_str("$$"),
                _ => replacement.push(b as char),
            }
        }
        Subst { re, replacement, global: flags.contains('g') }
    }

    /// The text with the substitution applied, or `None` if nothing matched.
    pub fn apply(&self, text: &[u8]) -> Option<Vec<u8>> {
        if !self.re.is_match(text) {
            return None;
        }
        let out = if self.global {
            self.re.replace_all(text, self.replacement.as_bytes())
        } else {
            self.re.replace(text, self.replacement.as_bytes())
        };
        Some(out.into_owned())
    }
}

/// `subst('/re/repl/flags')` on the header part of the message: each match becomes an edit.
pub fn subst<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, subst: &Subst) -> i32 {
    let headers_end = cx.msg.headers_end() as usize;
    let text = &cx.msg.as_bytes()[..headers_end];
    let mut edits: smallvec::SmallVec<[(u32, u32, Vec<u8>); 2]> = smallvec::SmallVec::new();
    for captures in subst.re.captures_iter(text) {
        let Some(whole) = captures.get(0) else { continue };
        let mut replaced = Vec::new();
        captures.expand(subst.replacement.as_bytes(), &mut replaced);
        edits.push((whole.start() as u32, whole.end() as u32, replaced));
        if !subst.global {
            break;
        }
    }
    for (start, end, bytes) in &edits {
        cx.msg.replace(crate::sip::Slice { start: *start, end: *end }, bytes);
    }
    if edits.is_empty() { -1 } else { 1 }
}

/// `subst_uri('/re/repl/flags')`: on the current R-URI.
pub fn subst_uri<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, subst: &Subst) -> i32 {
    match subst.apply(cx.current_uri()) {
        Some(new) => {
            cx.env.new_uri = Some(Bytes::from(new));
            1
        }
        None => -1,
    }
}

/// `subst_user('/re/repl/flags')`: on the user part of the current R-URI.
pub fn subst_user<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, subst: &Subst) -> i32 {
    let current = Bytes::copy_from_slice(cx.current_uri());
    let Ok(uri) = crate::sip::Uri::parse(&current) else { return -1 };
    let user = uri.user().unwrap_or_default();
    let Some(new_user) = subst.apply(user) else { return -1 };
    crate::core::uri::rewrite_user(cx, &new_user)
}

/// `subst_body('/re/repl/flags')`.
pub fn subst_body<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, subst: &Subst) -> i32 {
    match subst.apply(cx.msg.body()) {
        Some(body) => {
            cx.msg.set_body(&body);
            1
        }
        None => -1,
    }
}

/// `set_body("text", "type/subtype")`.
pub fn set_body<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, body: &[u8], content_type: &[u8]) -> i32 {
    cx.msg.set_body(body);
    cx.msg.remove_headers(HeaderName::ContentType);
    let mut line = b"Content-Type: ".to_vec();
    line.extend_from_slice(content_type);
    line.extend_from_slice(b"\r\n");
    cx.msg.append_header(&line);
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_sets() {
        let set = MethodSet(MethodSet::bit(Method::Invite) | MethodSet::bit(Method::Bye));
        assert!(set.contains(Method::Invite) && set.contains(Method::Bye));
        assert!(!set.contains(Method::Cancel) && !set.contains(Method::Other));
    }

    #[test]
    fn substitutions() {
        let s = Subst::new("/^sip:([0-9]+)@(.*)$/sip:00\\1@\\2/");
        assert_eq!(s.apply(b"sip:123@host").as_deref(), Some(&b"sip:00123@host"[..]));
        assert_eq!(s.apply(b"sip:alice@host"), None);
        let g = Subst::new("/a/b/g");
        assert_eq!(g.apply(b"banana").as_deref(), Some(&b"bbnbnb"[..]));
        let once = Subst::new("#A#b#i");
        assert_eq!(once.apply(b"AaA").as_deref(), Some(&b"baA"[..]));
    }
}
