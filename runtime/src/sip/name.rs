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
    pub fn from_bytes(name: &[u8]) -> HeaderName {
        // Dispatch on the length first: each length has only a few candidates.
        let is = |canonical: &str| name.eq_ignore_ascii_case(canonical.as_bytes());
        match name.len() {
            1 => Self::from_compact(name[0]),
            2 => {
                if is("To") {
                    HeaderName::To
                } else {
                    HeaderName::Other
                }
            }
            3 => {
                if is("Via") {
                    HeaderName::Via
                } else {
                    HeaderName::Other
                }
            }
            4 => {
                if is("CSeq") {
                    HeaderName::CSeq
                } else if is("Date") {
                    HeaderName::Date
                } else if is("From") {
                    HeaderName::From
                } else if is("Path") {
                    HeaderName::Path
                } else if is("RAck") {
                    HeaderName::RAck
                } else if is("RSeq") {
                    HeaderName::RSeq
                } else {
                    HeaderName::Other
                }
            }
            5 => {
                if is("Allow") {
                    HeaderName::Allow
                } else if is("Event") {
                    HeaderName::Event
                } else if is("Route") {
                    HeaderName::Route
                } else {
                    HeaderName::Other
                }
            }
            6 => {
                if is("Accept") {
                    HeaderName::Accept
                } else if is("Min-SE") {
                    HeaderName::MinSe
                } else if is("Reason") {
                    HeaderName::Reason
                } else if is("Server") {
                    HeaderName::Server
                } else {
                    HeaderName::Other
                }
            }
            7 => {
                if is("Call-ID") {
                    HeaderName::CallId
                } else if is("Contact") {
                    HeaderName::Contact
                } else if is("Expires") {
                    HeaderName::Expires
                } else if is("Privacy") {
                    HeaderName::Privacy
                } else if is("Require") {
                    HeaderName::Require
                } else if is("Subject") {
                    HeaderName::Subject
                } else if is("Warning") {
                    HeaderName::Warning
                } else {
                    HeaderName::Other
                }
            }
            8 => {
                if is("Identity") {
                    HeaderName::Identity
                } else if is("Priority") {
                    HeaderName::Priority
                } else if is("Refer-To") {
                    HeaderName::ReferTo
                } else if is("Reply-To") {
                    HeaderName::ReplyTo
                } else {
                    HeaderName::Other
                }
            }
            9 => {
                if is("Call-Info") {
                    HeaderName::CallInfo
                } else if is("Supported") {
                    HeaderName::Supported
                } else if is("Timestamp") {
                    HeaderName::Timestamp
                } else {
                    HeaderName::Other
                }
            }
            10 => {
                if is("Alert-Info") {
                    HeaderName::AlertInfo
                } else if is("Error-Info") {
                    HeaderName::ErrorInfo
                } else if is("User-Agent") {
                    HeaderName::UserAgent
                } else {
                    HeaderName::Other
                }
            }
            11 => {
                if is("In-Reply-To") {
                    HeaderName::InReplyTo
                } else if is("Min-Expires") {
                    HeaderName::MinExpires
                } else if is("Referred-By") {
                    HeaderName::ReferredBy
                } else if is("Retry-After") {
                    HeaderName::RetryAfter
                } else if is("Unsupported") {
                    HeaderName::Unsupported
                } else {
                    HeaderName::Other
                }
            }
            12 => {
                if is("Allow-Events") {
                    HeaderName::AllowEvents
                } else if is("Content-Type") {
                    HeaderName::ContentType
                } else if is("Max-Forwards") {
                    HeaderName::MaxForwards
                } else if is("MIME-Version") {
                    HeaderName::MimeVersion
                } else if is("Organization") {
                    HeaderName::Organization
                } else if is("Record-Route") {
                    HeaderName::RecordRoute
                } else {
                    HeaderName::Other
                }
            }
            13 => {
                if is("Authorization") {
                    HeaderName::Authorization
                } else if is("Proxy-Require") {
                    HeaderName::ProxyRequire
                } else {
                    HeaderName::Other
                }
            }
            14 => {
                if is("Accept-Contact") {
                    HeaderName::AcceptContact
                } else if is("Content-Length") {
                    HeaderName::ContentLength
                } else if is("Reject-Contact") {
                    HeaderName::RejectContact
                } else {
                    HeaderName::Other
                }
            }
            15 => {
                if is("Accept-Encoding") {
                    HeaderName::AcceptEncoding
                } else if is("Accept-Language") {
                    HeaderName::AcceptLanguage
                } else if is("Session-Expires") {
                    HeaderName::SessionExpires
                } else {
                    HeaderName::Other
                }
            }
            16 => {
                if is("Content-Encoding") {
                    HeaderName::ContentEncoding
                } else if is("Content-Language") {
                    HeaderName::ContentLanguage
                } else if is("WWW-Authenticate") {
                    HeaderName::WwwAuthenticate
                } else {
                    HeaderName::Other
                }
            }
            18 => {
                if is("Proxy-Authenticate") {
                    HeaderName::ProxyAuthenticate
                } else {
                    HeaderName::Other
                }
            }
            19 => {
                if is("Authentication-Info") {
                    HeaderName::AuthenticationInfo
                } else if is("Content-Disposition") {
                    HeaderName::ContentDisposition
                } else if is("P-Asserted-Identity") {
                    HeaderName::PAssertedIdentity
                } else if is("Proxy-Authorization") {
                    HeaderName::ProxyAuthorization
                } else if is("Request-Disposition") {
                    HeaderName::RequestDisposition
                } else {
                    HeaderName::Other
                }
            }
            20 => {
                if is("P-Preferred-Identity") {
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
