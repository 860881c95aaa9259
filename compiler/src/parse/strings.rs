//! Literal values as Kamailio reads them: string escapes and numbers in every base.

/// Decodes the body of a `"..."` string: `\n \r \t \a \" \\`, `\xH[H]`, `\OO[O]` (two or three
/// octal digits), backslash-newline removed; any other pair is kept as written (`"\d"`,
/// and a lone `\1` for regex back-references).
pub fn unescape(body: &str) -> String {
    unescape_mapped(body).0
}

/// [`unescape`], also returning for each byte of the result the offset in `body` of the
/// character (or escape sequence) it came from, plus one entry for the end.
pub fn unescape_mapped(body: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(body.len());
    let mut origins = Vec::with_capacity(body.len() + 1);
    let mut chars = body.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let before = out.len();
        unescape_one(&mut out, &mut chars, c);
        origins.resize(origins.len() + (out.len() - before), at);
    }
    origins.push(body.len());
    (out, origins)
}

type CharIndices<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

fn unescape_one(out: &mut String, chars: &mut CharIndices<'_>, c: char) {
    if c != '\\' {
        out.push(c);
        return;
    }
    let next = chars.peek().map(|&(_, n)| n);
    let simple = match next {
        Some('n') => Some('\n'),
        Some('r') => Some('\r'),
        Some('t') => Some('\t'),
        Some('a') => Some('\x07'),
        Some('"') => Some('"'),
        Some('\\') => Some('\\'),
        _ => None,
    };
    if let Some(decoded) = simple {
        chars.next();
        out.push(decoded);
        return;
    }
    match next {
        // Backslash-newline continues the string on the next line.
        Some('\n') => {
            chars.next();
        }
        Some('\r') => {
            chars.next();
            if chars.peek().map(|&(_, n)| n) == Some('\n') {
                chars.next();
            }
        }
        Some('x') => {
            chars.next();
            let mut value = 0u32;
            let mut digits = 0;
            while digits < 2 {
                match chars.peek().and_then(|&(_, d)| d.to_digit(16)) {
                    Some(d) => {
                        value = value * 16 + d;
                        digits += 1;
                        chars.next();
                    }
                    None => break,
                }
            }
            if digits == 0 {
                out.push_str("\\x");
            } else {
                out.push(char::from_u32(value).unwrap_or('\u{FFFD}'));
            }
        }
        Some(d) if d.is_digit(8) => {
            let mut lookahead = chars.clone();
            let mut octal = String::new();
            while octal.len() < 3 {
                match lookahead.peek() {
                    Some(&(_, d)) if d.is_digit(8) => {
                        octal.push(d);
                        lookahead.next();
                    }
                    _ => break,
                }
            }
            // A lone `\1` stays: it is a regex back-reference.
            if octal.len() >= 2 {
                *chars = lookahead;
                let value = u32::from_str_radix(&octal, 8).unwrap_or(0x3f);
                out.push(char::from_u32(value).unwrap_or('\u{FFFD}'));
            } else {
                out.push('\\');
            }
        }
        _ => out.push('\\'),
    }
}

/// Why a number literal is not valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NumberError {
    /// `08`: a leading zero means octal.
    BadOctal,
    TooLarge,
    Malformed,
}

/// Reads `123`, `0x1F`, `017` (octal), `101b` (binary).
pub fn parse_number(text: &str) -> Result<i64, NumberError> {
    let (digits, radix) = if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        (hex, 16)
    } else if let Some(binary) = text.strip_suffix('b') {
        (binary, 2)
    } else if text.len() > 1 && text.starts_with('0') {
        if !text.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return Err(NumberError::BadOctal);
        }
        (&text[1..], 8)
    } else {
        (text, 10)
    };
    if digits.is_empty() {
        return Err(NumberError::Malformed);
    }
    i64::from_str_radix(digits, radix).map_err(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow => NumberError::TooLarge,
        _ => NumberError::Malformed,
    })
}

/// `yes/true/on/enable` are 1, `no/false/off/disable` 0.
pub fn bool_word(text: &str) -> Option<i64> {
    match text {
        "yes" | "true" | "on" | "enable" => Some(1),
        "no" | "false" | "off" | "disable" => Some(0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_kamailio() {
        assert_eq!(unescape(r"a\nb\tc"), "a\nb\tc");
        assert_eq!(unescape(r#"say \"hi\""#), "say \"hi\"");
        assert_eq!(unescape(r"\d+"), r"\d+");
        assert_eq!(unescape(r"\1"), r"\1");
        assert_eq!(unescape(r"\101\x41"), "AA");
        assert_eq!(unescape("one \\\ntwo"), "one two");
        assert_eq!(unescape(r"end\"), r"end\");
    }

    #[test]
    fn offsets_point_into_the_written_text() {
        let (value, origins) = unescape_mapped(r"a\tb\x41c");
        assert_eq!(value, "a\tbAc");
        assert_eq!(origins, vec![0, 1, 3, 4, 8, 9]);
    }

    #[test]
    fn numbers_in_every_base() {
        assert_eq!(parse_number("010"), Ok(8));
        assert_eq!(parse_number("101b"), Ok(5));
        assert_eq!(parse_number("0x10"), Ok(16));
        assert_eq!(parse_number("0"), Ok(0));
        assert_eq!(parse_number("29"), Ok(29));
        assert_eq!(parse_number("08"), Err(NumberError::BadOctal));
        assert_eq!(parse_number("99999999999999999999"), Err(NumberError::TooLarge));
    }
}
