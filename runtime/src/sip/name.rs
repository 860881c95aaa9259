//! Header names: one table with the compact forms, compared case-insensitively.

/// Declares the known header names with their canonical spelling and compact form.
macro_rules! header_names {
    ($( $variant:ident => $canonical:literal $(, $compact:literal)? ;)*) => {
        /// A header name. Known names are recognised in any case and in compact form
        /// (`v` is Via); the rest are [`HeaderName::Other`] and keep their spelling in the
        /// message.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum HeaderName {
            $( $variant, )*
            Other,
        }

        impl HeaderName {
            /// The canonical spelling (`Call-ID`), or `None` for [`HeaderName::Other`].
            pub fn canonical(self) -> Option<&'static str> {
                match self {
                    $( HeaderName::$variant => Some($canonical), )*
                    HeaderName::Other => None,
                }
            }

            /// The compact form, if the name has one.
            pub fn compact(self) -> Option<u8> {
                match self {
                    $( $( HeaderName::$variant => Some($compact), )? )*
                    _ => None,
                }
            }

            #[cfg(test)]
            const ALL: &'static [HeaderName] = &[ $( HeaderName::$variant, )* ];
        }
    };
}

header_names! {
    Accept => "Accept";
    AcceptContact => "Accept-Contact", b'a';
    AcceptEncoding => "Accept-Encoding";
    AcceptLanguage => "Accept-Language";
    AlertInfo => "Alert-Info";
    Allow => "Allow";
    AllowEvents => "Allow-Events", b'u';
    AuthenticationInfo => "Authentication-Info";
    Authorization => "Authorization";
    CallId => "Call-ID", b'i';
    CallInfo => "Call-Info";
    Contact => "Contact", b'm';
    ContentDisposition => "Content-Disposition";
    ContentEncoding => "Content-Encoding", b'e';
    ContentLanguage => "Content-Language";
    ContentLength => "Content-Length", b'l';
    ContentType => "Content-Type", b'c';
    CSeq => "CSeq";
    Date => "Date";
    ErrorInfo => "Error-Info";
    Event => "Event", b'o';
    Expires => "Expires";
    From => "From", b'f';
    Identity => "Identity", b'y';
    InReplyTo => "In-Reply-To";
    MaxForwards => "Max-Forwards";
    MimeVersion => "MIME-Version";
    MinExpires => "Min-Expires";
    MinSe => "Min-SE";
    Organization => "Organization";
    PAssertedIdentity => "P-Asserted-Identity";
    PPreferredIdentity => "P-Preferred-Identity";
    Path => "Path";
    Priority => "Priority";
    Privacy => "Privacy";
    ProxyAuthenticate => "Proxy-Authenticate";
    ProxyAuthorization => "Proxy-Authorization";
    ProxyRequire => "Proxy-Require";
    RAck => "RAck";
    Reason => "Reason";
    RecordRoute => "Record-Route";
    ReferTo => "Refer-To", b'r';
    ReferredBy => "Referred-By", b'b';
    RejectContact => "Reject-Contact", b'j';
    ReplyTo => "Reply-To";
    RequestDisposition => "Request-Disposition", b'd';
    Require => "Require";
    RetryAfter => "Retry-After";
    Route => "Route";
    RSeq => "RSeq";
    Server => "Server";
    SessionExpires => "Session-Expires", b'x';
    Subject => "Subject", b's';
    Supported => "Supported", b'k';
    Timestamp => "Timestamp";
    To => "To", b't';
    Unsupported => "Unsupported";
    UserAgent => "User-Agent";
    Via => "Via", b'v';
    Warning => "Warning";
    WwwAuthenticate => "WWW-Authenticate";
}

impl HeaderName {
    /// Recognises a header name as written in a message (`Via`, `v`, `VIA`, `call-id`).
    /// `name` is a token (as the message parser guarantees); other bytes never match.
    pub fn from_bytes(name: &[u8]) -> HeaderName {
        // Dispatch on length and first letter, then compare the rest word by word.
        let Some(&first) = name.first() else { return HeaderName::Other };
        if name.len() == 1 {
            return Self::from_compact(first);
        }
        let is = |lower: &str| eq_lowercase(name, lower.as_bytes());
        match (name.len(), first | 0x20) {
            (2, b't') => {
                if is("to") {
                    HeaderName::To
                } else {
                    HeaderName::Other
                }
            }
            (3, b'v') => {
                if is("via") {
                    HeaderName::Via
                } else {
                    HeaderName::Other
                }
            }
            (4, b'c') => {
                if is("cseq") {
                    HeaderName::CSeq
                } else {
                    HeaderName::Other
                }
            }
            (4, b'd') => {
                if is("date") {
                    HeaderName::Date
                } else {
                    HeaderName::Other
                }
            }
            (4, b'f') => {
                if is("from") {
                    HeaderName::From
                } else {
                    HeaderName::Other
                }
            }
            (4, b'p') => {
                if is("path") {
                    HeaderName::Path
                } else {
                    HeaderName::Other
                }
            }
            (4, b'r') => {
                if is("rack") {
                    HeaderName::RAck
                } else if is("rseq") {
                    HeaderName::RSeq
                } else {
                    HeaderName::Other
                }
            }
            (5, b'a') => {
                if is("allow") {
                    HeaderName::Allow
                } else {
                    HeaderName::Other
                }
            }
            (5, b'e') => {
                if is("event") {
                    HeaderName::Event
                } else {
                    HeaderName::Other
                }
            }
            (5, b'r') => {
                if is("route") {
                    HeaderName::Route
                } else {
                    HeaderName::Other
                }
            }
            (6, b'a') => {
                if is("accept") {
                    HeaderName::Accept
                } else {
                    HeaderName::Other
                }
            }
            (6, b'm') => {
                if is("min-se") {
                    HeaderName::MinSe
                } else {
                    HeaderName::Other
                }
            }
            (6, b'r') => {
                if is("reason") {
                    HeaderName::Reason
                } else {
                    HeaderName::Other
                }
            }
            (6, b's') => {
                if is("server") {
                    HeaderName::Server
                } else {
                    HeaderName::Other
                }
            }
            (7, b'c') => {
                if is("call-id") {
                    HeaderName::CallId
                } else if is("contact") {
                    HeaderName::Contact
                } else {
                    HeaderName::Other
                }
            }
            (7, b'e') => {
                if is("expires") {
                    HeaderName::Expires
                } else {
                    HeaderName::Other
                }
            }
            (7, b'p') => {
                if is("privacy") {
                    HeaderName::Privacy
                } else {
                    HeaderName::Other
                }
            }
            (7, b'r') => {
                if is("require") {
                    HeaderName::Require
                } else {
                    HeaderName::Other
                }
            }
            (7, b's') => {
                if is("subject") {
                    HeaderName::Subject
                } else {
                    HeaderName::Other
                }
            }
            (7, b'w') => {
                if is("warning") {
                    HeaderName::Warning
                } else {
                    HeaderName::Other
                }
            }
            (8, b'i') => {
                if is("identity") {
                    HeaderName::Identity
                } else {
                    HeaderName::Other
                }
            }
            (8, b'p') => {
                if is("priority") {
                    HeaderName::Priority
                } else {
                    HeaderName::Other
                }
            }
            (8, b'r') => {
                if is("refer-to") {
                    HeaderName::ReferTo
                } else if is("reply-to") {
                    HeaderName::ReplyTo
                } else {
                    HeaderName::Other
                }
            }
            (9, b'c') => {
                if is("call-info") {
                    HeaderName::CallInfo
                } else {
                    HeaderName::Other
                }
            }
            (9, b's') => {
                if is("supported") {
                    HeaderName::Supported
                } else {
                    HeaderName::Other
                }
            }
            (9, b't') => {
                if is("timestamp") {
                    HeaderName::Timestamp
                } else {
                    HeaderName::Other
                }
            }
            (10, b'a') => {
                if is("alert-info") {
                    HeaderName::AlertInfo
                } else {
                    HeaderName::Other
                }
            }
            (10, b'e') => {
                if is("error-info") {
                    HeaderName::ErrorInfo
                } else {
                    HeaderName::Other
                }
            }
            (10, b'u') => {
                if is("user-agent") {
                    HeaderName::UserAgent
                } else {
                    HeaderName::Other
                }
            }
            (11, b'i') => {
                if is("in-reply-to") {
                    HeaderName::InReplyTo
                } else {
                    HeaderName::Other
                }
            }
            (11, b'm') => {
                if is("min-expires") {
                    HeaderName::MinExpires
                } else {
                    HeaderName::Other
                }
            }
            (11, b'r') => {
                if is("referred-by") {
                    HeaderName::ReferredBy
                } else if is("retry-after") {
                    HeaderName::RetryAfter
                } else {
                    HeaderName::Other
                }
            }
            (11, b'u') => {
                if is("unsupported") {
                    HeaderName::Unsupported
                } else {
                    HeaderName::Other
                }
            }
            (12, b'a') => {
                if is("allow-events") {
                    HeaderName::AllowEvents
                } else {
                    HeaderName::Other
                }
            }
            (12, b'c') => {
                if is("content-type") {
                    HeaderName::ContentType
                } else {
                    HeaderName::Other
                }
            }
            (12, b'm') => {
                if is("max-forwards") {
                    HeaderName::MaxForwards
                } else if is("mime-version") {
                    HeaderName::MimeVersion
                } else {
                    HeaderName::Other
                }
            }
            (12, b'o') => {
                if is("organization") {
                    HeaderName::Organization
                } else {
                    HeaderName::Other
                }
            }
            (12, b'r') => {
                if is("record-route") {
                    HeaderName::RecordRoute
                } else {
                    HeaderName::Other
                }
            }
            (13, b'a') => {
                if is("authorization") {
                    HeaderName::Authorization
                } else {
                    HeaderName::Other
                }
            }
            (13, b'p') => {
                if is("proxy-require") {
                    HeaderName::ProxyRequire
                } else {
                    HeaderName::Other
                }
            }
            (14, b'a') => {
                if is("accept-contact") {
                    HeaderName::AcceptContact
                } else {
                    HeaderName::Other
                }
            }
            (14, b'c') => {
                if is("content-length") {
                    HeaderName::ContentLength
                } else {
                    HeaderName::Other
                }
            }
            (14, b'r') => {
                if is("reject-contact") {
                    HeaderName::RejectContact
                } else {
                    HeaderName::Other
                }
            }
            (15, b'a') => {
                if is("accept-encoding") {
                    HeaderName::AcceptEncoding
                } else if is("accept-language") {
                    HeaderName::AcceptLanguage
                } else {
                    HeaderName::Other
                }
            }
            (15, b's') => {
                if is("session-expires") {
                    HeaderName::SessionExpires
                } else {
                    HeaderName::Other
                }
            }
            (16, b'c') => {
                if is("content-encoding") {
                    HeaderName::ContentEncoding
                } else if is("content-language") {
                    HeaderName::ContentLanguage
                } else {
                    HeaderName::Other
                }
            }
            (16, b'w') => {
                if is("www-authenticate") {
                    HeaderName::WwwAuthenticate
                } else {
                    HeaderName::Other
                }
            }
            (18, b'p') => {
                if is("proxy-authenticate") {
                    HeaderName::ProxyAuthenticate
                } else {
                    HeaderName::Other
                }
            }
            (19, b'a') => {
                if is("authentication-info") {
                    HeaderName::AuthenticationInfo
                } else {
                    HeaderName::Other
                }
            }
            (19, b'c') => {
                if is("content-disposition") {
                    HeaderName::ContentDisposition
                } else {
                    HeaderName::Other
                }
            }
            (19, b'p') => {
                if is("p-asserted-identity") {
                    HeaderName::PAssertedIdentity
                } else if is("proxy-authorization") {
                    HeaderName::ProxyAuthorization
                } else {
                    HeaderName::Other
                }
            }
            (19, b'r') => {
                if is("request-disposition") {
                    HeaderName::RequestDisposition
                } else {
                    HeaderName::Other
                }
            }
            (20, b'p') => {
                if is("p-preferred-identity") {
                    HeaderName::PPreferredIdentity
                } else {
                    HeaderName::Other
                }
            }
            _ => HeaderName::Other,
        }
    }

    fn from_compact(byte: u8) -> HeaderName {
        match byte.to_ascii_lowercase() {
            b'a' => HeaderName::AcceptContact,
            b'u' => HeaderName::AllowEvents,
            b'i' => HeaderName::CallId,
            b'm' => HeaderName::Contact,
            b'e' => HeaderName::ContentEncoding,
            b'l' => HeaderName::ContentLength,
            b'c' => HeaderName::ContentType,
            b'o' => HeaderName::Event,
            b'f' => HeaderName::From,
            b'y' => HeaderName::Identity,
            b'r' => HeaderName::ReferTo,
            b'b' => HeaderName::ReferredBy,
            b'j' => HeaderName::RejectContact,
            b'd' => HeaderName::RequestDisposition,
            b'x' => HeaderName::SessionExpires,
            b's' => HeaderName::Subject,
            b'k' => HeaderName::Supported,
            b't' => HeaderName::To,
            b'v' => HeaderName::Via,
            _ => HeaderName::Other,
        }
    }

    /// Whether this name stands for `name` as written by a user (`"via"`, `"v"`, `"X-Foo"`):
    /// known names by identity, others by case-insensitive spelling.
    pub fn matches(self, written: &[u8], name: &[u8]) -> bool {
        match HeaderName::from_bytes(name) {
            HeaderName::Other => self == HeaderName::Other && written.eq_ignore_ascii_case(name),
            known => known == self,
        }
    }
}

/// `name` equals the all-lowercase `lower` ignoring ASCII case, for token bytes.
///
/// `| 0x20` lowercases letters and leaves `-`, `.` and digits alone; no other token byte
/// turns into a letter or `-` that way, so a word-wide OR-and-compare is exact here.
#[inline(always)]
fn eq_lowercase(name: &[u8], lower: &[u8]) -> bool {
    if name.len() != lower.len() {
        return false;
    }
    const MASK: u64 = 0x2020_2020_2020_2020;
    let mut i = 0;
    while i + 8 <= name.len() {
        let (Ok(a), Ok(b)) = (<[u8; 8]>::try_from(&name[i..i + 8]), <[u8; 8]>::try_from(&lower[i..i + 8])) else {
            return false;
        };
        if u64::from_le_bytes(a) | MASK != u64::from_le_bytes(b) | MASK {
            return false;
        }
        i += 8;
    }
    name[i..].iter().zip(&lower[i..]).all(|(a, b)| a | 0x20 == b | 0x20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_and_compact_forms_in_any_case() {
        for (written, expected) in [
            (&b"Via"[..], HeaderName::Via),
            (b"v", HeaderName::Via),
            (b"V", HeaderName::Via),
            (b"vIA", HeaderName::Via),
            (b"i", HeaderName::CallId),
            (b"CALL-ID", HeaderName::CallId),
            (b"l", HeaderName::ContentLength),
            (b"Content-length", HeaderName::ContentLength),
            (b"m", HeaderName::Contact),
            (b"MaX-fOrWaRdS", HeaderName::MaxForwards),
            (b"C%6Fntact", HeaderName::Other),
            (b"X-Custom", HeaderName::Other),
            (b"z", HeaderName::Other),
        ] {
            assert_eq!(HeaderName::from_bytes(written), expected, "{}", String::from_utf8_lossy(written));
        }
    }

    #[test]
    fn compact_forms_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for name in HeaderName::ALL {
            if let Some(c) = name.compact() {
                assert!(seen.insert(c), "{}", c as char);
            }
        }
    }

    #[test]
    fn matching_user_written_names() {
        assert!(HeaderName::Via.matches(b"v", b"Via"));
        assert!(HeaderName::Other.matches(b"X-Foo", b"x-foo"));
        assert!(!HeaderName::Other.matches(b"X-Foo", b"X-Bar"));
    }
}
