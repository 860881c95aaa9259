//! The SIP message core: one receive buffer, byte ranges into it, typed views parsed on
//! first use, and an edit list applied when the message is written out.
//!
//! A [`Message`] never copies the bytes it was parsed from. Header names and values, the
//! request URI and the body are [`Slice`]s of the buffer. Typed views ([`Uri`], [`Via`],
//! [`NameAddr`], [`CSeq`]...) borrow from it and are parsed lazily; the common ones are
//! cached. Changes are recorded as edits anchored to offsets of the original buffer and
//! applied in one pass by [`Message::write_to`]; reads always see the message as received,
//! as with Kamailio's lumps.

mod build;
mod edit;
mod error;
mod message;
mod name;
mod name_addr;
mod scan;
mod uri;
mod values;
mod via;

pub use build::{ReplySpec, TopViaParams, build_reply, build_request};
pub use edit::Edits;
pub use error::{HeaderError, HeaderErrorKind, Limits, ParseError, ParseErrorKind};
pub use message::{Framing, Header, Message, Method, StartLine, frame_stream};
pub use name::HeaderName;
pub use name_addr::{Contact, NameAddr, ValuePlace};
pub use uri::{Host, Params, Scheme, Uri, percent_decode};
pub use values::CSeq;
pub use via::{Rport, Transport, Via};

/// A byte range of a message buffer. Small and `Copy`, unlike `Range<u32>`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Slice {
    pub start: u32,
    pub end: u32,
}

impl Slice {
    #[inline]
    pub(crate) fn new(start: usize, end: usize) -> Slice {
        Slice { start: start as u32, end: end as u32 }
    }

    /// The bytes this range covers in `buf`.
    #[inline]
    pub fn of<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        buf.get(self.start as usize..self.end as usize).unwrap_or_default()
    }

    #[inline]
    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    #[inline]
    pub(crate) fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}
