//! What a route function works on: the message, its per-message state, the instance-wide
//! state, the worker's state and its I/O, typed by the kind of route (typestate).
//!
//! Route functions take `&mut Ctx<'_, K, S, W>` where `K` is a marker of the route kind.
//! Runtime functions bound `K` by what Kamailio allows: `sl_send_reply` needs
//! [`MainRequest`], so calling it with a reply-route context does not compile.

use std::marker::PhantomData;
use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use smallvec::SmallVec;

use crate::sip::{Message, Transport};
use crate::transport::{ConnId, Io};

/// A route kind. `NAME` is its config keyword, for logs.
pub trait RouteKind: 'static {
    const NAME: &'static str;
}

/// Route kinds whose message is a request.
pub trait RequestSide: RouteKind {}

/// Route kinds whose message is a reply.
pub trait ReplySide: RouteKind {}

/// `request_route` and the sub-routes it calls: where Kamailio's `REQUEST_ROUTE` functions
/// run.
pub trait MainRequest: RequestSide {}

/// `request_route` (and `route[X]` reached from it).
pub struct Request;
/// The core `reply_route`.
pub struct CoreReply;

impl RouteKind for Request {
    const NAME: &'static str = "request_route";
}
impl RequestSide for Request {}
impl MainRequest for Request {}

impl RouteKind for CoreReply {
    const NAME: &'static str = "reply_route";
}
impl ReplySide for CoreReply {}

/// One entry of the destination set (`append_branch`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Branch {
    pub uri: Bytes,
    pub dst_uri: Option<Bytes>,
    /// q in thousandths (1000 = 1.0).
    pub q: Option<u16>,
}

/// Per-message state Kamailio keeps beside the message: the rewritten R-URI, `$du`, the
/// destination set, message flags, `$rc`.
#[derive(Debug)]
pub struct MsgEnv {
    /// Where the message came from (`$si`, `$sp`).
    pub src: SocketAddr,
    /// The local socket it arrived on (`$Ri`, `$Rp`).
    pub local: SocketAddr,
    pub proto: Transport,
    /// The TCP connection it arrived on.
    pub conn: Option<ConnId>,
    /// The R-URI after rewrite*/`$ru` (Kamailio's `new_uri`).
    pub new_uri: Option<Bytes>,
    /// `$du`.
    pub dst_uri: Option<Bytes>,
    pub branches: SmallVec<[Branch; 2]>,
    /// Message flags (setflag).
    pub flags: u64,
    /// `$rc`: the last module function's or route's return code.
    pub rc: i32,
    /// force_rport() was called.
    pub force_rport: bool,
    /// A reply was sent by sl for this request.
    pub replied: bool,
    /// The error of the last failed action, for `sl_reply_error()`.
    pub last_error: Option<crate::core::ActionError>,
    /// Scratch buffer for format strings and messages being built.
    pub scratch: BytesMut,
}

impl MsgEnv {
    pub fn new(src: SocketAddr, local: SocketAddr, proto: Transport) -> Self {
        MsgEnv {
            src,
            local,
            proto,
            conn: None,
            new_uri: None,
            dst_uri: None,
            branches: SmallVec::new(),
            flags: 0,
            rc: 1,
            force_rport: false,
            replied: false,
            last_error: None,
            scratch: BytesMut::new(),
        }
    }
}

/// The context a route function receives.
pub struct Ctx<'a, K: RouteKind, S, W> {
    pub msg: &'a mut Message,
    pub env: &'a mut MsgEnv,
    pub shared: &'a S,
    pub worker: &'a mut W,
    pub io: &'a Io,
    kind: PhantomData<K>,
}

pub type RequestCx<'a, S, W> = Ctx<'a, Request, S, W>;
pub type ReplyCx<'a, S, W> = Ctx<'a, CoreReply, S, W>;

impl<'a, K: RouteKind, S, W> Ctx<'a, K, S, W> {
    pub fn new(msg: &'a mut Message, env: &'a mut MsgEnv, shared: &'a S, worker: &'a mut W, io: &'a Io) -> Self {
        Ctx { msg, env, shared, worker, io, kind: PhantomData }
    }

    /// The R-URI as the script sees it: rewritten if it was, else the received one.
    pub fn current_uri(&self) -> &[u8] {
        match &self.env.new_uri {
            Some(uri) => uri,
            None => self.msg.ruri_slice().map(|s| self.msg.get(s)).unwrap_or_default(),
        }
    }
}

/// What a route block did (Kamailio's return-code rules, cfg-language.md §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// The block ended (by `return` or by running off its end) with this value.
    Return(i32),
    /// `exit`, or a function or `return` giving 0: the whole script stops with this value.
    Exit(i32),
    /// `drop`: the script stops and the message is not forwarded.
    Drop,
}

impl Flow {
    /// The value a caller sees for `route(X)`.
    pub fn value(self) -> i32 {
        match self {
            Flow::Return(v) | Flow::Exit(v) => v,
            Flow::Drop => 0,
        }
    }
}
