//! Errors of the message parser and of the typed header views, and the size limits.

use std::fmt;

/// Why a message was rejected as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParseErrorKind {
    /// Over [`Limits::max_message`].
    TooLarge,
    /// Ends before the empty line that closes the headers.
    Incomplete,
    /// The first line is neither a request line nor a status line.
    BadStartLine,
    /// The method is not a token.
    BadMethod,
    /// Not `SIP/2.0`.
    BadVersion,
    /// A status code that is not three digits.
    BadStatusCode,
    /// A header line without `name:`.
    BadHeader,
    /// A line longer than [`Limits::max_line`].
    LineTooLong,
    /// More headers than [`Limits::max_headers`].
    TooManyHeaders,
    /// Content-Length is not a number (or is negative).
    BadContentLength,
    /// Several Content-Length headers with different values.
    ConflictingContentLength,
    /// Content-Length is larger than the bytes that follow the headers.
    BodyTruncated,
}

impl ParseErrorKind {
    pub fn description(self) -> &'static str {
        match self {
            ParseErrorKind::TooLarge => "message too large",
            ParseErrorKind::Incomplete => "message ends inside the headers",
            ParseErrorKind::BadStartLine => "malformed request or status line",
            ParseErrorKind::BadMethod => "malformed method",
            ParseErrorKind::BadVersion => "unsupported SIP version",
            ParseErrorKind::BadStatusCode => "malformed status code",
            ParseErrorKind::BadHeader => "malformed header line",
            ParseErrorKind::LineTooLong => "line too long",
            ParseErrorKind::TooManyHeaders => "too many headers",
            ParseErrorKind::BadContentLength => "malformed Content-Length",
            ParseErrorKind::ConflictingContentLength => "conflicting Content-Length headers",
            ParseErrorKind::BodyTruncated => "Content-Length larger than the body",
        }
    }
}

/// A message-level parse error and the byte offset where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParseError {
    pub kind: ParseErrorKind,
    pub at: u32,
}

impl ParseError {
    pub(crate) fn new(kind: ParseErrorKind, at: usize) -> Self {
        ParseError { kind, at: at as u32 }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind.description(), self.at)
    }
}

impl std::error::Error for ParseError {}

/// Why one typed view of a header could not be built. The rest of the message stays usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeaderErrorKind {
    /// The header is not in the message.
    Missing,
    /// A URI that does not follow `scheme:...` / the SIP URI grammar.
    BadUri,
    /// A Via value that is not `SIP/2.0/TRANSPORT host[:port][;params]`.
    BadVia,
    /// A name-addr / addr-spec that cannot be read (unbalanced quotes or brackets...).
    BadNameAddr,
    /// `;name=value` parameters that cannot be read (empty names, stray separators).
    BadParams,
    /// A number out of range or not a number.
    BadNumber,
    /// A CSeq that is not `number method`.
    BadCSeq,
    /// A port out of 1..65535.
    BadPort,
    /// A value where the grammar wants a token.
    BadToken,
}

impl HeaderErrorKind {
    pub fn description(self) -> &'static str {
        match self {
            HeaderErrorKind::Missing => "header missing",
            HeaderErrorKind::BadUri => "malformed URI",
            HeaderErrorKind::BadVia => "malformed Via",
            HeaderErrorKind::BadNameAddr => "malformed name-addr",
            HeaderErrorKind::BadParams => "malformed parameters",
            HeaderErrorKind::BadNumber => "malformed number",
            HeaderErrorKind::BadCSeq => "malformed CSeq",
            HeaderErrorKind::BadPort => "malformed port",
            HeaderErrorKind::BadToken => "malformed token",
        }
    }
}

/// A header view error and the byte offset where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HeaderError {
    pub kind: HeaderErrorKind,
    pub at: u32,
}

impl HeaderError {
    pub(crate) fn new(kind: HeaderErrorKind, at: usize) -> Self {
        HeaderError { kind, at: at as u32 }
    }

    pub(crate) fn missing() -> Self {
        HeaderError { kind: HeaderErrorKind::Missing, at: 0 }
    }
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind.description(), self.at)
    }
}

impl std::error::Error for HeaderError {}

/// Size limits. No input can make the parser allocate beyond these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Whole message, headers and body (UDP cannot carry more than 65535).
    pub max_message: usize,
    /// Number of header lines (a line with several comma-separated values counts once).
    pub max_headers: usize,
    /// One line, folded continuation lines included.
    pub max_line: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_message: 65535, max_headers: 256, max_line: 16384 }
    }
}
