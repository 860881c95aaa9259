//! What a route function works on: the message, its per-message state, the instance-wide
//! state, the worker's state and its I/O, typed by the kind of route (typestate).
//!
//! Route functions take `&mut Ctx<'_, K, S, W>` where `K` is a marker of the route kind.
//! Runtime functions bound `K` by what Kamailio allows: `sl_send_reply` needs
//! [`MainRequest`], so calling it with a reply-route context does not compile.

use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use smallvec::SmallVec;

use crate::modules::rr;
use crate::modules::tm::Transaction;
use crate::sip::{HeaderError, Message, Transport, Uri};
use crate::transport::{ConnId, Io};

/// Which route kind a context is for, at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KindId {
    Request,
    CoreReply,
    Failure,
    TmReply,
    Branch,
}

/// A route kind. `NAME` is its config keyword, for logs.
pub trait RouteKind: 'static {
    const NAME: &'static str;
    const ID: KindId;
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
/// `failure_route[X]`: the transaction's request, after every branch failed.
pub struct Failure;
/// tm's `onreply_route[X]`: a reply that belongs to a transaction.
pub struct TmReply;
/// `branch_route[X]`: one branch of the request, before it is sent.
pub struct BranchRoute;

impl RouteKind for Request {
    const NAME: &'static str = "request_route";
    const ID: KindId = KindId::Request;
}
impl RequestSide for Request {}
impl MainRequest for Request {}

impl RouteKind for CoreReply {
    const NAME: &'static str = "reply_route";
    const ID: KindId = KindId::CoreReply;
}
impl ReplySide for CoreReply {}

impl RouteKind for Failure {
    const NAME: &'static str = "failure_route";
    const ID: KindId = KindId::Failure;
}
impl RequestSide for Failure {}

impl RouteKind for TmReply {
    const NAME: &'static str = "onreply_route";
    const ID: KindId = KindId::TmReply;
}
impl ReplySide for TmReply {}

impl RouteKind for BranchRoute {
    const NAME: &'static str = "branch_route";
    const ID: KindId = KindId::Branch;
}
impl RequestSide for BranchRoute {}

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
    /// The current transaction (Kamailio's T), once t_newtran/t_relay made or found one.
    pub txn: Option<Arc<Transaction>>,
    /// t_on_failure/t_on_reply/t_on_branch armed before the transaction existed.
    pub tm_routes: ArmedRoutes,
    /// t_set_fr(inv, noninv) before the transaction existed (milliseconds).
    pub tm_fr: (Option<i64>, Option<i64>),
    /// The Record-Route the script asked for (record_route()).
    pub record_route: Option<rr::Pending>,
    /// add_rr_param() parameters.
    pub rr_params: Vec<u8>,
    /// Our Route entry, once loose_route() removed it.
    pub routed: Option<rr::Routed>,
    /// In failure_route and tm's onreply_route: the branch the route runs for.
    pub tm_branch: Option<usize>,
    /// In failure_route: the chosen reply's code; in onreply_route: the reply's.
    pub tm_reply_code: u16,
}

/// Routes armed with t_on_failure/t_on_reply/t_on_branch (route numbers of the generated code).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArmedRoutes {
    pub failure: Option<u16>,
    pub reply: Option<u16>,
    pub branch: Option<u16>,
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
            txn: None,
            tm_routes: ArmedRoutes::default(),
            tm_fr: (None, None),
            record_route: None,
            rr_params: Vec::new(),
            routed: None,
            tm_branch: None,
            tm_reply_code: 0,
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
pub type FailureCx<'a, S, W> = Ctx<'a, Failure, S, W>;
pub type TmReplyCx<'a, S, W> = Ctx<'a, TmReply, S, W>;
pub type BranchCx<'a, S, W> = Ctx<'a, BranchRoute, S, W>;

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

    /// [`Ctx::current_uri`], parsed. The received R-URI is parsed once per message and kept.
    pub fn current_uri_parsed(&self) -> Result<Uri<'_>, HeaderError> {
        match &self.env.new_uri {
            Some(uri) => Uri::parse(uri),
            None => self.msg.ruri(),
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
