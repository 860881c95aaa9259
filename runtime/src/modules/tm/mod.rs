//! tm: transaction-stateful processing (sip-behaviour.md §4, modules.md §3).
//!
//! A [`Transaction`] is created by `t_newtran`/`t_relay` for a request and lives in the
//! [`table`](table) until its wait timer ends. The server side stores what went back to the
//! sender (retransmissions get it again); each client branch stores the request as sent, so
//! that retransmissions, the hop-by-hop ACK and CANCEL are built from it. Replies are matched
//! by the branch we put in our Via and handled one at a time per transaction; timers run on
//! one thread ([`timer`]). Routes armed by `t_on_failure`/`t_on_reply`/`t_on_branch` are
//! called through [`Routes`], function pointers the generated code provides.

mod reply;
mod table;
mod timer;
mod transaction;
mod uac;
mod uas;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use regex::bytes::Regex;

use crate::context::{BranchCx, Ctx, FailureCx, Flow, KindId, RequestSide, RouteKind, TmReplyCx};
use crate::server::{Globals, Script};
use crate::sip::Transport;
use crate::value::Value;

pub use table::Full;
pub use transaction::Transaction;

pub(crate) use reply::received as reply_received;
pub(crate) use uas::request_done;

/// tm's module parameters (times as Kamailio's, in milliseconds in the config).
#[derive(Clone, Debug)]
pub struct Settings {
    pub fr_timer: Duration,
    pub fr_inv_timer: Duration,
    pub wt_timer: Duration,
    pub retr_timer1: Duration,
    pub retr_timer2: Duration,
    pub max_inv_lifetime: Duration,
    pub max_noninv_lifetime: Duration,
    pub restart_fr_on_each_reply: bool,
    pub auto_inv_100: bool,
    pub auto_inv_100_reason: String,
    pub relay_100: bool,
    /// 0: forward an unmatched CANCEL statefully, 1: statelessly, 2: drop it.
    pub unmatched_cancel: u8,
    pub remap_503_500: bool,
    pub disable_6xx_block: bool,
    pub delayed_reply: bool,
    pub reply_408_code: u16,
    pub reply_408_reason: String,
    pub default_code: u16,
    pub default_reason: String,
    /// sipcfg's bound on the table (Kamailio is bounded by its shared memory instead).
    pub max_transactions: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            fr_timer: Duration::from_millis(30_000),
            fr_inv_timer: Duration::from_millis(120_000),
            wt_timer: Duration::from_millis(5_000),
            retr_timer1: Duration::from_millis(500),
            retr_timer2: Duration::from_millis(4_000),
            max_inv_lifetime: Duration::from_millis(180_000),
            max_noninv_lifetime: Duration::from_millis(32_000),
            restart_fr_on_each_reply: true,
            auto_inv_100: true,
            auto_inv_100_reason: "trying -- your call is important to us".to_string(),
            relay_100: false,
            unmatched_cancel: 0,
            remap_503_500: true,
            disable_6xx_block: false,
            delayed_reply: true,
            reply_408_code: 408,
            reply_408_reason: "Request Timeout".to_string(),
            default_code: 500,
            default_reason: "Server Internal Error".to_string(),
            max_transactions: 200_000,
        }
    }
}

/// The instance's transactions and their timers.
pub struct Tm {
    pub(crate) table: table::Table,
    pub(crate) timers: timer::Timers,
    pub(crate) settings: Settings,
    /// tm's To-tag prefix (`SER-TM/tags`).
    pub(crate) tag_base: [u8; 32],
}

impl Tm {
    /// `loaded`: whether the config loads tm; without it the table stays empty.
    pub(crate) fn new(settings: Settings, first_listen: Option<SocketAddr>, loaded: bool) -> Tm {
        Tm {
            table: if loaded { table::Table::new(settings.max_transactions) } else { table::Table::unused() },
            timers: timer::Timers::new(),
            tag_base: crate::modules::sl::tm_tag_base(first_listen),
            settings,
        }
    }

    /// Transactions in the table.
    pub fn transactions(&self) -> usize {
        self.table.len()
    }

    /// Timer entries not yet fired (stale ones included).
    pub fn pending_timers(&self) -> usize {
        self.timers.pending()
    }

    pub(crate) fn stop(&self) {
        self.timers.stop();
    }
}

/// The routes a config arms with t_on_failure/t_on_reply/t_on_branch, by number.
pub struct Routes<S: 'static, W: 'static> {
    pub failure: fn(u16, &mut FailureCx<'_, S, W>) -> Flow,
    pub reply: fn(u16, &mut TmReplyCx<'_, S, W>) -> Flow,
    pub branch: fn(u16, &mut BranchCx<'_, S, W>) -> Flow,
}

fn no_failure<S, W>(_: u16, _: &mut FailureCx<'_, S, W>) -> Flow {
    Flow::Return(1)
}
fn no_reply<S, W>(_: u16, _: &mut TmReplyCx<'_, S, W>) -> Flow {
    Flow::Return(1)
}
fn no_branch<S, W>(_: u16, _: &mut BranchCx<'_, S, W>) -> Flow {
    Flow::Return(1)
}

impl<S: 'static, W: 'static> Routes<S, W> {
    /// For configs without such routes.
    pub const NONE: Routes<S, W> = Routes { failure: no_failure, reply: no_reply, branch: no_branch };
}

/// Where `t_relay(host, port)` / `t_relay_to_udp(...)` send instead of the R-URI.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    pub to: Option<&'a crate::core::ResolvedTarget>,
    pub proto: Option<Transport>,
}

impl Target<'_> {
    pub const NEXT_HOP: Target<'static> = Target { to: None, proto: None };
}

/// The timer thread: retransmissions, final-response timeouts, deletions. Runs routes
/// (failure_route after a timeout) with its own worker state.
pub(crate) fn run_timers<S: Script>(globals: &'static Globals, shared: &'static S::Shared) {
    let io = crate::transport::Io::new(globals, None);
    let mut worker = S::worker(shared);
    let mut due = Vec::new();
    while globals.tm.timers.wait_due(&mut due) {
        for entry in due.drain(..) {
            reply::timer_fired::<S>(entry, &io, shared, &mut worker);
        }
    }
}

// ---- script functions ---------------------------------------------------------------------

/// `t_relay()` and its forms: forward statefully (sip-behaviour.md §4.2).
pub fn t_relay<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, routes: &Routes<S, W>, target: Target<'_>) -> i32 {
    uac::t_relay(cx, routes, target)
}

/// `t_newtran()`: 1 created, 0 a retransmission (answered; the script stops), -10 the
/// transaction already exists, <0 error.
pub fn t_newtran<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>) -> i32 {
    if K::ID != KindId::Request {
        return -1;
    }
    match uas::newtran(cx) {
        uas::NewTran::Created(_) => 1,
        uas::NewTran::Exists => -10,
        uas::NewTran::Absorbed => 0,
        uas::NewTran::EndToEndAck => -1,
        uas::NewTran::Failed(code) => code,
    }
}

/// `t_check_trans()` (sip-behaviour.md §4.8).
pub fn t_check_trans<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>) -> i32 {
    uas::check_trans(cx)
}

/// `t_reply(code, reason)`: a stateful local reply; -1 without a transaction.
pub fn t_reply<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, code: i64, reason: &[u8]) -> i32 {
    let Ok(code) = u16::try_from(code) else { return -1 };
    if K::ID == KindId::TmReply || K::ID == KindId::CoreReply {
        // In onreply_route the reply goes to the transaction's request.
        let Some(txn) = cx.env.txn.clone() else { return -1 };
        return uas::reply_to_transaction(&txn, cx.io, code, reason);
    }
    uas::t_reply(cx, code, reason)
}

/// `t_send_reply(code, reason)`: t_newtran, then t_reply.
pub fn t_send_reply<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, code: i64, reason: &[u8]) -> i32 {
    if cx.env.txn.is_none() {
        match uas::newtran(cx) {
            uas::NewTran::Created(_) | uas::NewTran::Exists => {}
            uas::NewTran::Absorbed => return 0,
            uas::NewTran::EndToEndAck => return -1,
            uas::NewTran::Failed(code) => return code,
        }
    }
    t_reply(cx, code, reason)
}

/// `t_reply_error()`: the stateful reply for the last action's error.
pub fn t_reply_error<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>) -> i32 {
    let (code, reason) = match cx.env.last_error {
        Some(error) => error.reply(),
        None => (500, "I'm terribly sorry, server error occurred (1/SL)"),
    };
    let reason = reason.replace("/SL)", "/TM)");
    t_reply(cx, i64::from(code), reason.as_bytes())
}

/// `t_on_failure("name")`: arms failure_route number `route` for the transaction.
pub fn t_on_failure<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, route: u16) -> i32 {
    cx.env.tm_routes.failure = Some(route);
    if let Some(txn) = &cx.env.txn {
        txn.state().on_failure = Some(route);
    }
    1
}

/// `t_on_reply("name")`.
pub fn t_on_reply<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, route: u16) -> i32 {
    cx.env.tm_routes.reply = Some(route);
    if let Some(txn) = &cx.env.txn {
        txn.state().on_reply = Some(route);
    }
    1
}

/// `t_on_branch("name")`.
pub fn t_on_branch<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, route: u16) -> i32 {
    cx.env.tm_routes.branch = Some(route);
    if let Some(txn) = &cx.env.txn {
        txn.state().on_branch = Some(route);
    }
    1
}

fn bool_code(value: bool) -> i32 {
    if value { 1 } else { -1 }
}

/// `t_is_canceled()`.
pub fn t_is_canceled<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>) -> i32 {
    bool_code(cx.env.txn.as_ref().is_some_and(|t| t.is_canceled()))
}

/// `t_is_expired()`: the transaction outlived its lifetime cap.
pub fn t_is_expired<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>) -> i32 {
    let globals = cx.io.globals();
    bool_code(cx.env.txn.as_ref().is_some_and(|t| {
        let cap =
            if t.is_invite() { globals.tm.settings.max_inv_lifetime } else { globals.tm.settings.max_noninv_lifetime };
        t.created.elapsed() > cap
    }))
}

/// `t_any_timeout()`: some branch timed out.
pub fn t_any_timeout<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>) -> i32 {
    bool_code(cx.env.txn.as_ref().is_some_and(|t| t.state().branches.iter().any(|b| b.timed_out)))
}

/// `t_any_replied()`: some branch got a reply.
pub fn t_any_replied<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>) -> i32 {
    bool_code(cx.env.txn.as_ref().is_some_and(|t| t.state().branches.iter().any(|b| b.last_code > 0 && !b.timed_out)))
}

/// `t_branch_timeout()`: the branch failure_route runs for timed out.
pub fn t_branch_timeout<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>) -> i32 {
    let Some((txn, branch)) = cx.env.txn.as_ref().zip(cx.env.tm_branch) else { return -1 };
    bool_code(txn.state().branches.get(branch).is_some_and(|b| b.timed_out))
}

/// `t_branch_replied()`: the branch failure_route runs for got a reply.
pub fn t_branch_replied<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>) -> i32 {
    let Some((txn, branch)) = cx.env.txn.as_ref().zip(cx.env.tm_branch) else { return -1 };
    bool_code(txn.state().branches.get(branch).is_some_and(|b| b.last_code > 0 && !b.timed_out))
}

/// `t_set_fr(inv_ms[, noninv_ms])`: per-transaction timeouts (0 keeps the current one).
pub fn t_set_fr<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, fr_inv: i64, fr: Option<i64>) -> i32 {
    let Some(txn) = &cx.env.txn else {
        cx.env.tm_fr = (Some(fr_inv), fr);
        return 1;
    };
    let mut state = txn.state();
    if fr_inv > 0 {
        state.fr_inv_timeout = Duration::from_millis(fr_inv as u64);
    }
    if let Some(fr) = fr.filter(|f| *f > 0) {
        state.fr_timeout = Duration::from_millis(fr as u64);
    }
    1
}

/// `t_reset_fr()`: back to the module parameters.
pub fn t_reset_fr<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>) -> i32 {
    let settings = &cx.io.globals().tm.settings;
    cx.env.tm_fr = (None, None);
    if let Some(txn) = &cx.env.txn {
        let mut state = txn.state();
        state.fr_timeout = settings.fr_timer;
        state.fr_inv_timeout = settings.fr_inv_timer;
    }
    1
}

/// `t_drop_replies(["a"|"l"|"n"])` in failure_route: forget the replies received so far.
pub fn t_drop_replies<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, mode: Option<&[u8]>) -> i32 {
    if mode.is_some_and(|m| m == b"n") {
        return 1;
    }
    if let Some(txn) = &cx.env.txn {
        let mut state = txn.state();
        state.first_live_branch = state.branches.len();
    }
    1
}

/// `t_check_status("re")`: the reply code (onreply_route), the chosen failure code
/// (failure_route) or the last code sent (request route) matches.
pub fn t_check_status<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, re: &Regex) -> i32 {
    let code = reply_code_of(cx);
    bool_code(code > 0 && re.is_match(code.to_string().as_bytes()))
}

fn reply_code_of<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> u16 {
    match K::ID {
        KindId::Failure | KindId::TmReply => cx.env.tm_reply_code,
        KindId::CoreReply => cx.msg.status().unwrap_or(0),
        _ => cx.env.txn.as_ref().map_or(0, |t| t.state().uas.status),
    }
}

/// `$T_reply_code`.
pub fn reply_code<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    match reply_code_of(cx) {
        0 => Value::Null,
        code => Value::Int(i64::from(code)),
    }
}

/// `$T_reply_reason`: the reason phrase of the reply `$T_reply_code` is about.
pub fn reply_reason<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    match K::ID {
        KindId::TmReply | KindId::CoreReply => cx.msg.reason().map_or(Value::Null, Value::from_slice),
        KindId::Failure => {
            let Some((txn, index)) = cx.env.txn.as_ref().zip(cx.env.tm_branch) else { return Value::Null };
            let state = txn.state();
            let Some(branch) = state.branches.get(index) else { return Value::Null };
            match &branch.final_reply {
                Some(bytes) => crate::sip::Message::parse(bytes.clone())
                    .ok()
                    .and_then(|m| m.reason().map(Value::from_slice))
                    .unwrap_or(Value::Null),
                None if branch.timed_out => Value::str(b"Request Timeout"),
                None => Value::Null,
            }
        }
        _ => Value::Null,
    }
}

/// `$T_branch_idx`: the branch a failure/onreply/branch route runs for.
pub fn branch_index<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    match cx.env.tm_branch {
        Some(i) => Value::Int(i as i64),
        None => Value::Int(0),
    }
}

/// `t_release()`: forget the transaction now.
pub fn t_release<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>) -> i32 {
    let Some(txn) = cx.env.txn.take() else { return -1 };
    uas::delete(&cx.io.globals().tm, &txn);
    1
}

/// `t_lookup_request()`: 1 when the request belongs to a transaction.
pub fn t_lookup_request<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>) -> i32 {
    let tm = &cx.io.globals().tm;
    bool_code(!matches!(tm.table.lookup_request(cx.msg), table::RequestMatch::None))
}

/// `t_retransmit_reply()`: sends the last reply again.
pub fn t_retransmit_reply<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>) -> i32 {
    let Some(txn) = &cx.env.txn else { return -1 };
    bool_code(uas::resend_last_reply(txn, cx.io))
}

/// The transaction of the current message, shared (for tests and tools).
pub fn current<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Option<Arc<Transaction>> {
    cx.env.txn.clone()
}
