//! Pseudo-variable syntax: `$ru`, `$var(x)`, `$(avp(a)[-1]{s.len})`, and format strings
//! (`"From $fu to $tu"`, `$$` for a literal dollar).
//!
//! Only the shape is checked here; whether a class exists, takes an inner name or is
//! writable is the checker's business (it knows which modules are loaded).

use std::ops::Range;

use super::ast::{Pv, PvIndex, Transform};
use crate::source::Span;

/// What went wrong, and where in the text that was parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PvSyntaxError {
    pub range: Range<usize>,
    pub message: String,
}

fn error<T>(range: Range<usize>, message: impl Into<String>) -> Result<T, PvSyntaxError> {
    Err(PvSyntaxError { range, message: message.into() })
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Kamailio's `pv_parse_spec` also takes `.` in names (`$(from.user)`), and so do format
/// strings, where `"$fU."` therefore names the unknown `$fU.`. A bare `$name` in script
/// code stops at the `.`.
fn is_spec_name_char(b: u8) -> bool {
    is_name_char(b) || b == b'.'
}

/// Index of the `close` matching the `open` at `start`, tracking nesting of that pair.
fn matching(bytes: &[u8], start: usize, open: u8, close: u8) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &b) in bytes.iter().enumerate().skip(start) {
        if b == open {
            depth += 1;
        } else if b == close {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// Parses the pseudo-variable at the start of `text` (on its `$`). Returns it and the
/// number of bytes it spans. `span_of` maps a byte range of `text` to a source span.
pub fn parse_pv(text: &str, span_of: &dyn Fn(Range<usize>) -> Span) -> Result<(Pv, usize), PvSyntaxError> {
    parse_pv_with(text, span_of, is_name_char)
}

fn parse_pv_with(
    text: &str,
    span_of: &dyn Fn(Range<usize>) -> Span,
    name_char: fn(u8) -> bool,
) -> Result<(Pv, usize), PvSyntaxError> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'$') {
        return error(0..1, "a pseudo-variable starts with `$`");
    }
    match bytes.get(1) {
        Some(b'?') => Ok((simple("?", None, span_of(0..2)), 2)),
        Some(b'(') => {
            let Some(close) = matching(bytes, 1, b'(', b')') else {
                return error(0..text.len(), "unbalanced parentheses in pseudo-variable");
            };
            let pv = parse_enclosed(text, 2, close, span_of)?;
            Ok((Pv { span: span_of(0..close + 1), ..pv }, close + 1))
        }
        Some(&b) if name_char(b) => {
            let mut end = 1;
            while end < bytes.len() && name_char(bytes[end]) {
                end += 1;
            }
            let class = &text[1..end];
            if bytes.get(end) == Some(&b'(') {
                let Some(close) = matching(bytes, end, b'(', b')') else {
                    return error(0..text.len(), format!("`${class}(` is never closed"));
                };
                let inner = &text[end + 1..close];
                let nested = nested_pvs(inner, end + 1, span_of);
                let pv = Pv {
                    class: class.to_string(),
                    inner: Some(inner.to_string()),
                    index: None,
                    transforms: Vec::new(),
                    nested,
                    span: span_of(0..close + 1),
                };
                Ok((pv, close + 1))
            } else {
                Ok((simple(class, None, span_of(0..end)), end))
            }
        }
        _ => error(0..1, "`$` must be followed by a pseudo-variable name"),
    }
}

fn simple(class: &str, inner: Option<String>, span: Span) -> Pv {
    Pv { class: class.to_string(), inner, index: None, transforms: Vec::new(), nested: Vec::new(), span }
}

/// `$( class(inner) [index] {tr}... )`: `start..end` is the text between the outer parens.
fn parse_enclosed(
    text: &str,
    start: usize,
    end: usize,
    span_of: &dyn Fn(Range<usize>) -> Span,
) -> Result<Pv, PvSyntaxError> {
    let bytes = text.as_bytes();
    let mut i = start;
    while i < end && is_spec_name_char(bytes[i]) {
        i += 1;
    }
    if i == start {
        return error(start..end.max(start + 1), "expected a pseudo-variable name after `$(`");
    }
    let class = text[start..i].to_string();
    let mut nested = Vec::new();
    let mut inner = None;
    if i < end && bytes[i] == b'(' {
        let Some(close) = matching(&bytes[..end], i, b'(', b')') else {
            return error(i..end, "unbalanced parentheses in pseudo-variable name");
        };
        let text_inner = &text[i + 1..close];
        nested.extend(nested_pvs(text_inner, i + 1, span_of));
        inner = Some(text_inner.to_string());
        i = close + 1;
    }
    let mut index = None;
    if i < end && bytes[i] == b'[' {
        let Some(close) = matching(&bytes[..end], i, b'[', b']') else {
            return error(i..end, "`[` is never closed");
        };
        let raw = text[i + 1..close].trim();
        index = Some(match raw {
            "*" => PvIndex::All,
            "+" => PvIndex::Append,
            _ if raw.starts_with('$') => {
                let offset = i + 1 + (text[i + 1..close].len() - text[i + 1..close].trim_start().len());
                let shifted = |r: Range<usize>| span_of(r.start + offset..r.end + offset);
                let (pv, used) = parse_pv(raw, &shifted)?;
                if used != raw.len() {
                    return error(i + 1..close, "an index is a number, `*`, `+` or one pseudo-variable");
                }
                PvIndex::Pv(Box::new(pv))
            }
            _ => match raw.parse::<i64>() {
                Ok(n) => PvIndex::Int(n),
                Err(_) => {
                    return error(
                        i + 1..close,
                        format!("bad index `{raw}`: use a number, `*`, `+` or a pseudo-variable"),
                    );
                }
            },
        });
        i = close + 1;
    }
    let mut transforms = Vec::new();
    while i < end && bytes[i] == b'{' {
        let Some(close) = matching(&bytes[..end], i, b'{', b'}') else {
            return error(i..end, "`{` is never closed");
        };
        let body = &text[i + 1..close];
        let mut parts = split_params(body);
        let head = parts.remove(0);
        let Some((tr_class, name)) = head.split_once('.') else {
            return error(
                i..close + 1,
                format!("bad transformation `{{{body}}}`: expected `{{class.name}}` such as `{{s.len}}`"),
            );
        };
        for (offset, _) in body.match_indices('$') {
            let at = i + 1 + offset;
            let shifted = |r: Range<usize>| span_of(r.start + at..r.end + at);
            if let Ok((pv, _)) = parse_pv(&text[at..close], &shifted) {
                nested.push(pv);
            }
        }
        transforms.push(Transform {
            class: tr_class.trim().to_string(),
            name: name.trim().to_string(),
            params: parts.into_iter().map(str::to_string).collect(),
            text: body.to_string(),
            span: span_of(i..close + 1),
        });
        i = close + 1;
    }
    if i != end {
        return error(i..end, format!("unexpected `{}` in pseudo-variable", &text[i..end]));
    }
    Ok(Pv { class, inner, index, transforms, nested, span: span_of(start..end) })
}

/// Splits transformation text at top-level commas (commas inside nested `{}`/`()` stay).
fn split_params(body: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, b) in body.bytes().enumerate() {
        match b {
            b'(' | b'{' | b'[' => depth += 1,
            b')' | b'}' | b']' => depth -= 1,
            b',' if depth == 0 => {
                parts.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&body[start..]);
    parts
}

/// PVs embedded in an inner name (`ipban=>$si`), parsed best-effort.
fn nested_pvs(inner: &str, offset: usize, span_of: &dyn Fn(Range<usize>) -> Span) -> Vec<Pv> {
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(k) = inner[i..].find('$') {
        let at = i + k;
        let shifted = |r: Range<usize>| span_of(r.start + offset + at..r.end + offset + at);
        match parse_pv(&inner[at..], &shifted) {
            Ok((pv, used)) => {
                found.push(pv);
                i = at + used.max(1);
            }
            Err(_) => i = at + 1,
        }
    }
    found
}

/// One piece of a format string.
#[derive(Clone, Debug, PartialEq)]
pub enum FormatPart {
    Text(String),
    Pv(Pv),
}

/// Splits a format string (`xlog`, `append_hf`, `sl_send_reply`'s reason...) into text and
/// pseudo-variables. `$$` is a literal `$`; any other `$` must start a valid PV, as
/// Kamailio's start-up demands.
pub fn parse_format(text: &str, span_of: &dyn Fn(Range<usize>) -> Span) -> Result<Vec<FormatPart>, PvSyntaxError> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    while let Some(k) = text[i..].find('$') {
        let at = i + k;
        literal.push_str(&text[i..at]);
        if text.as_bytes().get(at + 1) == Some(&b'$') {
            literal.push('$');
            i = at + 2;
            continue;
        }
        let shifted = |r: Range<usize>| span_of(r.start + at..r.end + at);
        let (pv, used) = parse_pv_with(&text[at..], &shifted, is_spec_name_char)
            .map_err(|e| PvSyntaxError { range: e.range.start + at..e.range.end + at, message: e.message })?;
        if !literal.is_empty() {
            parts.push(FormatPart::Text(std::mem::take(&mut literal)));
        }
        parts.push(FormatPart::Pv(pv));
        i = at + used;
    }
    literal.push_str(&text[i..]);
    if !literal.is_empty() {
        parts.push(FormatPart::Text(literal));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn span(r: Range<usize>) -> Span {
        Span::new(FileId(0), r)
    }

    fn pv(text: &str) -> Pv {
        let (pv, used) = parse_pv(text, &span).expect("parses");
        assert_eq!(used, text.len(), "{text}");
        pv
    }

    #[test]
    fn simple_and_inner_names() {
        assert_eq!(pv("$ru").class, "ru");
        let var = pv("$var(x)");
        assert_eq!((var.class.as_str(), var.inner.as_deref()), ("var", Some("x")));
        assert_eq!(pv("$?").class, "?");
        let sht = pv("$sht(ipban=>$si)");
        assert_eq!(sht.nested.len(), 1);
        assert_eq!(sht.nested[0].class, "si");
        assert_eq!(sht.nested[0].span, span(12..15));
    }

    #[test]
    fn enclosed_form_with_index_and_transformations() {
        let p = pv("$(avp(a)[-1]{s.len})");
        assert_eq!(p.class, "avp");
        assert_eq!(p.index, Some(PvIndex::Int(-1)));
        assert_eq!(p.transforms.len(), 1);
        assert_eq!((p.transforms[0].class.as_str(), p.transforms[0].name.as_str()), ("s", "len"));
        let p = pv("$(hdr(Via)[*])");
        assert_eq!(p.index, Some(PvIndex::All));
        let p = pv("$(ru{s.substr,1,2}{s.tolower})");
        assert_eq!(p.transforms[0].params, vec!["1", "2"]);
        assert_eq!(p.transforms[1].name, "tolower");
        let p = pv("$(var(x)[$var(i)])");
        assert!(matches!(p.index, Some(PvIndex::Pv(_))));
    }

    #[test]
    fn malformed_pvs_are_errors() {
        assert!(parse_pv("$(ru{slen})", &span).is_err());
        assert!(parse_pv("$(var(x)[abc])", &span).is_err());
        assert!(parse_pv("$ x", &span).is_err());
        assert!(parse_pv("$(", &span).is_err());
    }

    #[test]
    fn format_strings() {
        let parts = parse_format("from $fu to $tu costs $$5\n", &span).expect("ok");
        assert_eq!(parts.len(), 5);
        assert!(matches!(&parts[1], FormatPart::Pv(p) if p.class == "fu" && p.span == span(5..8)));
        assert_eq!(parts[4], FormatPart::Text(" costs $5\n".into()));
        let err = parse_format("price $ 5", &span).expect_err("bad $");
        assert_eq!(err.range, 6..7);
        // As in Kamailio, a `.` continues the name in a format string.
        let parts = parse_format("$fU.", &span).expect("ok");
        assert!(matches!(&parts[0], FormatPart::Pv(p) if p.class == "fU."));
        assert_eq!(pv("$(from.user)").class, "from.user");
    }
}
