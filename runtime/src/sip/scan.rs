//! Byte classes and small scanning helpers shared by the parsers.

/// Builds a 256-entry membership table at compile time.
pub(crate) const fn table(chars: &[u8], ranges: &[(u8, u8)]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < chars.len() {
        t[chars[i] as usize] = true;
        i += 1;
    }
    let mut r = 0;
    while r < ranges.len() {
        let (lo, hi) = ranges[r];
        let mut c = lo as usize;
        while c <= hi as usize {
            t[c] = true;
            c += 1;
        }
        r += 1;
    }
    t
}

const ALNUM: [(u8, u8); 3] = [(b'a', b'z'), (b'A', b'Z'), (b'0', b'9')];

/// RFC 3261 `token`: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
static TOKEN: [bool; 256] = table(b"-.!%*_+`'~", &ALNUM);

/// Whitespace inside a header value: SP, HT and the CR LF of folded lines.
static LWS: [bool; 256] = table(b" \t\r\n", &[]);

#[inline]
pub(crate) fn is_token(b: u8) -> bool {
    TOKEN[b as usize]
}

#[inline]
pub(crate) fn is_lws(b: u8) -> bool {
    LWS[b as usize]
}

/// Index of the first non-LWS byte at or after `from` (or `end`).
#[inline]
pub(crate) fn skip_lws(buf: &[u8], from: usize, end: usize) -> usize {
    run_end(buf, from, end, &LWS)
}

/// Index just past the last non-LWS byte before `end` (or `start`).
#[inline]
pub(crate) fn trim_lws_end(buf: &[u8], start: usize, end: usize) -> usize {
    if end <= start {
        return end;
    }
    start + buf[start..end].iter().rposition(|&b| !is_lws(b)).map_or(0, |last| last + 1)
}

/// End of a run of token bytes starting at `from`.
#[inline]
pub(crate) fn token_end(buf: &[u8], from: usize, end: usize) -> usize {
    run_end(buf, from, end, &TOKEN)
}

/// End of the run of bytes of `class` starting at `from` (or `end`). Over a subslice the
/// loop needs no bounds check per byte: header names and values are scanned this way.
#[inline]
fn run_end(buf: &[u8], from: usize, end: usize, class: &[bool; 256]) -> usize {
    if from >= end {
        return from;
    }
    let run = &buf[from..end];
    from + run.iter().position(|&b| !class[b as usize]).unwrap_or(run.len())
}

/// End (just past the closing quote) of a quoted string starting at `from` (on the `"`),
/// honouring `\` escapes; `None` if it is never closed before `end`.
pub(crate) fn quoted_end(buf: &[u8], from: usize, end: usize) -> Option<usize> {
    let mut i = from + 1;
    while i < end {
        match buf[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Where the first top-level `sep` is in `buf[from..end]`: outside quoted strings and
/// `<...>`. Returns `end` when there is none, `None` for an unterminated quote.
pub(crate) fn find_top_level(buf: &[u8], from: usize, end: usize, sep: u8) -> Option<usize> {
    let mut i = from;
    while i < end {
        let Some(found) = memchr::memchr3(sep, b'"', b'<', &buf[i..end]) else {
            return Some(end);
        };
        let j = i + found;
        i = match buf[j] {
            b'"' => quoted_end(buf, j, end)?,
            // Inside `<...>` nothing separates; an unclosed `<` runs to the end.
            b'<' => match memchr::memchr(b'>', &buf[j..end]) {
                Some(close) => j + close + 1,
                None => return Some(end),
            },
            _ => return Some(j),
        };
    }
    Some(end)
}

/// Host name characters of a sent-by or URI host (`_` tolerated, as Kamailio does).
static HOST: [bool; 256] = table(b"-._", &ALNUM);

#[inline]
pub(crate) fn host_end(buf: &[u8], from: usize, end: usize) -> usize {
    run_end(buf, from, end, &HOST)
}

/// Parses decimal digits as u64, failing on overflow or a non-digit.
pub(crate) fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_chars() {
        for b in b"abcXYZ019-.!%*_+`'~" {
            assert!(is_token(*b), "{}", *b as char);
        }
        for b in b" \t:;,<>\"@/()[]{}?=\\" {
            assert!(!is_token(*b), "{}", *b as char);
        }
    }

    #[test]
    fn scans_stop_at_their_bounds() {
        let s = b"  Via :x \t ";
        assert_eq!(skip_lws(s, 0, s.len()), 2);
        assert_eq!(token_end(s, 2, s.len()), 5);
        assert_eq!(token_end(s, 2, 4), 4, "the end bounds a run of tokens");
        assert_eq!(token_end(s, 5, 5), 5);
        assert_eq!(token_end(s, 7, 3), 7, "from past end stays where it is");
        assert_eq!(trim_lws_end(s, 0, s.len()), 8);
        assert_eq!(trim_lws_end(s, 8, s.len()), 8, "all whitespace trims to start");
        assert_eq!(trim_lws_end(s, 5, 3), 3, "end before start stays where it is");
        assert_eq!(skip_lws(s, 8, s.len()), s.len());
        assert_eq!(host_end(b"a-b.c_d:5060", 0, 12), 7);
    }

    #[test]
    fn top_level_search_skips_quotes_and_brackets() {
        let s = br#""a, b" <sip:x,y@z>, next"#;
        assert_eq!(find_top_level(s, 0, s.len(), b','), Some(18));
        assert_eq!(find_top_level(b"\"open", 0, 5, b','), None);
        assert_eq!(find_top_level(b"none", 0, 4, b','), Some(4));
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64(b"0009"), Some(9));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b""), None);
    }
}
