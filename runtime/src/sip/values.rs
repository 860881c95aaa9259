//! Small header values: CSeq.

use super::Slice;
use super::error::{HeaderError, HeaderErrorKind};
use super::message::Method;
use super::scan::{is_lws, parse_u64, skip_lws, token_end};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CSeqParts {
    pub(crate) number: u32,
    pub(crate) number_text: Slice,
    pub(crate) method: Method,
    pub(crate) method_text: Slice,
}

impl CSeqParts {
    /// `1*DIGIT LWS Method`, the number at most 2^32-1 (RFC 3261 §8.1.1.5).
    pub(crate) fn parse(buf: &[u8], value: Slice) -> Result<CSeqParts, HeaderError> {
        let (start, end) = (value.start as usize, value.end as usize);
        let bad = |at| Err(HeaderError::new(HeaderErrorKind::BadCSeq, at));
        let digits_end = start + buf[start..end].iter().take_while(|c| c.is_ascii_digit()).count();
        let number = match parse_u64(&buf[start..digits_end]) {
            Some(n) if n <= u64::from(u32::MAX) => n as u32,
            _ => return Err(HeaderError::new(HeaderErrorKind::BadNumber, start)),
        };
        if digits_end >= end || !is_lws(buf[digits_end]) {
            return bad(digits_end);
        }
        let method_start = skip_lws(buf, digits_end, end);
        let method_end = token_end(buf, method_start, end);
        if method_end == method_start || method_end != end {
            return bad(method_start);
        }
        Ok(CSeqParts {
            number,
            number_text: Slice::new(start, digits_end),
            method: Method::from_bytes(&buf[method_start..method_end]),
            method_text: Slice::new(method_start, method_end),
        })
    }
}

/// The CSeq header.
#[derive(Clone, Copy, Debug)]
pub struct CSeq<'a> {
    buf: &'a [u8],
    parts: CSeqParts,
}

impl<'a> CSeq<'a> {
    pub(crate) fn new(buf: &'a [u8], parts: CSeqParts) -> Self {
        CSeq { buf, parts }
    }

    pub fn number(&self) -> u32 {
        self.parts.number
    }

    /// The digits as written (`0009`).
    pub fn number_text(&self) -> &'a [u8] {
        self.parts.number_text.of(self.buf)
    }

    pub fn method(&self) -> Method {
        self.parts.method
    }

    pub fn method_text(&self) -> &'a [u8] {
        self.parts.method_text.of(self.buf)
    }
}
