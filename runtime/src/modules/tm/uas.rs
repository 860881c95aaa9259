//! The server side of transactions: creating them (t_newtran), matching retransmissions and
//! ACKs, local replies (t_reply) and what goes back to the request's sender.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::Tm;
use super::table::RequestMatch;
use super::timer::Event;
use super::transaction::{MatchKey, Transaction};
use crate::context::{Ctx, KindId, MsgEnv, RouteKind};
use crate::core::branch::{request_digest, request_hash};
use crate::modules::sl;
use crate::server::Received;
use crate::sip::{Message, Method, Transport};
use crate::transport::Io;

/// What t_newtran found.
pub(crate) enum NewTran {
    Created(Arc<Transaction>),
    /// The script already made one (E_SCRIPT).
    Exists,
    /// A retransmission (the last reply was sent again) or an ACK for our negative reply.
    Absorbed,
    /// An ACK that belongs to no transaction: the end-to-end ACK of a 2xx.
    EndToEndAck,
    /// The table is full (503 sent) or the request cannot start one.
    Failed(i32),
}

/// `t_newtran()`: looks the request up and creates its transaction when it is new.
pub(crate) fn newtran<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>) -> NewTran {
    if cx.env.txn.is_some() {
        return NewTran::Exists;
    }
    let tm = &cx.io.globals().tm;
    let key = MatchKey::of(cx.msg);
    match key.as_ref().map_or(RequestMatch::None, |key| tm.table.lookup_request_by(cx.msg, key)) {
        RequestMatch::Retransmission(txn) => {
            resend_last_reply(&txn, cx.io);
            return NewTran::Absorbed;
        }
        RequestMatch::Ack(txn) => {
            ack_received(tm, &txn);
            return NewTran::Absorbed;
        }
        RequestMatch::None => {}
    }
    if cx.msg.method() == Method::Ack {
        return NewTran::EndToEndAck;
    }
    let Some(key) = key else {
        cx.env.last_error = Some(crate::core::ActionError::BadRequest);
        return NewTran::Failed(-1);
    };
    if tm.table.reserve().is_err() {
        tracing::warn!("transaction table full ({} transactions): answering 503", tm.table.len());
        sl::reply(cx.msg, cx.env, cx.io, 503, b"Service Unavailable", &[]);
        return NewTran::Failed(-1);
    }
    let settings = &tm.settings;
    let fr = (
        cx.env.tm_fr.1.filter(|f| *f > 0).map_or(settings.fr_timer, |ms| Duration::from_millis(ms as u64)),
        cx.env.tm_fr.0.filter(|f| *f > 0).map_or(settings.fr_inv_timer, |ms| Duration::from_millis(ms as u64)),
    );
    let received = Received { src: cx.env.src, local: cx.env.local, proto: cx.env.proto, conn: cx.env.conn };
    let reply_to = sl::reply_destination(cx.msg, cx.env);
    let txn = Arc::new(Transaction::new(
        tm.table.next_id(),
        request_hash(cx.msg),
        request_digest(cx.msg),
        cx.msg,
        key.to_shared(cx.msg),
        received,
        reply_to,
        fr,
    ));
    {
        let mut state = txn.state();
        state.on_failure = cx.env.tm_routes.failure;
        state.on_reply = cx.env.tm_routes.reply;
        state.on_branch = cx.env.tm_routes.branch;
    }
    tm.table.insert(txn.clone());
    let lifetime = if txn.is_invite() { settings.max_inv_lifetime } else { settings.max_noninv_lifetime };
    tm.timers.schedule(lifetime, &txn, Event::Lifetime);
    cx.env.txn = Some(txn.clone());
    NewTran::Created(txn)
}

/// `t_check_trans()`.
pub(crate) fn check_trans<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>) -> i32 {
    let tm = &cx.io.globals().tm;
    match K::ID {
        KindId::Failure | KindId::Branch | KindId::TmReply => return 1,
        KindId::CoreReply => return if tm.table.lookup_reply(cx.msg).is_some() { 1 } else { -1 },
        KindId::Request => {}
    }
    if cx.msg.method() == Method::Cancel {
        return if tm.table.lookup_invite_of_cancel(cx.msg).is_some() { 1 } else { -1 };
    }
    match tm.table.lookup_request(cx.msg) {
        RequestMatch::Retransmission(txn) => {
            resend_last_reply(&txn, cx.io);
            0
        }
        RequestMatch::Ack(txn) => {
            ack_received(tm, &txn);
            0
        }
        RequestMatch::None => -1,
    }
}

/// Sends the last reply again (a retransmitted request). False when there is none yet.
pub(crate) fn resend_last_reply(txn: &Transaction, io: &Io) -> bool {
    let (reply, dest) = {
        let state = txn.state();
        (state.uas.last_reply.clone(), state.uas.dest)
    };
    match reply {
        Some(reply) => {
            if let Err(e) = io.send(&dest, reply) {
                tracing::debug!("resending a reply to {}: {e:?}", dest.addr);
            }
            true
        }
        None => false,
    }
}

/// The ACK for our negative (or local) final reply: stop retransmitting it and let the
/// transaction go after the wait time.
pub(crate) fn ack_received(tm: &Tm, txn: &Arc<Transaction>) {
    let first = {
        let mut state = txn.state();
        let first = !state.uas.ack_received;
        state.uas.ack_received = true;
        state.uas.retransmit_generation += 1;
        first
    };
    if first {
        schedule_delete(tm, txn);
    }
}

/// Arms the wait timer once: the transaction is deleted `wt_timer` from now.
pub(crate) fn schedule_delete(tm: &Tm, txn: &Arc<Transaction>) {
    let mut state = txn.state();
    if state.waiting || state.deleted {
        return;
    }
    state.waiting = true;
    drop(state);
    tm.timers.schedule(tm.settings.wt_timer, txn, Event::Delete);
}

/// Removes a transaction from the table; its pending timers become no-ops.
pub(crate) fn delete(tm: &Tm, txn: &Transaction) {
    {
        let mut state = txn.state();
        if state.deleted {
            return;
        }
        state.deleted = true;
    }
    tm.table.remove(txn);
}

/// `t_reply(code, reason)` from a request or failure route.
pub(crate) fn t_reply<K: RouteKind, S, W>(cx: &mut Ctx<'_, K, S, W>, code: u16, reason: &[u8]) -> i32 {
    let Some(txn) = cx.env.txn.clone() else { return -1 };
    if cx.msg.method() == Method::Ack {
        return -1;
    }
    let tm = &cx.io.globals().tm;
    let tag = local_tag(tm, &txn, cx.msg);
    let Some(reply) = sl::build_local(cx.msg, cx.env, cx.io, code, reason, &[], &tag) else { return -1 };
    local_reply_sent(tm, &txn, cx.io, code, reply)
}

/// Sends a local reply; a final one cancels the branches still pending.
fn local_reply_sent(tm: &Tm, txn: &Arc<Transaction>, io: &Io, code: u16, reply: Bytes) -> i32 {
    if !send_reply(tm, txn, io, code, reply, true) {
        return -1;
    }
    if code >= 200 {
        super::uac::cancel_pending(tm, txn, io, super::uac::CancelReason::Local(code));
    }
    1
}

/// A local reply to a transaction's request from outside its request route (onreply
/// routes, timeouts, the end-of-script error).
pub(crate) fn reply_to_transaction(txn: &Arc<Transaction>, io: &Io, code: u16, reason: &[u8]) -> i32 {
    let Some(request) = txn.request_message() else { return -1 };
    let env = request_env(txn);
    let tm = &io.globals().tm;
    let tag = local_tag(tm, txn, &request);
    let Some(reply) = sl::build_local(&request, &env, io, code, reason, &[], &tag) else { return -1 };
    local_reply_sent(tm, txn, io, code, reply)
}

/// The per-message state of a transaction's request as t_relay saw it.
pub(crate) fn request_env(txn: &Transaction) -> MsgEnv {
    let received = txn.received;
    let mut env = MsgEnv::new(received.src, received.local, received.proto);
    env.conn = received.conn;
    let state = txn.state();
    let saved = &state.saved;
    env.new_uri = saved.new_uri.clone();
    env.dst_uri = saved.dst_uri.clone();
    env.flags = saved.flags;
    env.force_rport = saved.force_rport;
    env.record_route = saved.record_route.clone();
    env.rr_params = saved.rr_params.clone();
    env.routed = saved.routed.clone();
    env
}

/// tm's To-tag for this transaction (kept so that the ACK of a local 2xx can be matched).
fn local_tag(tm: &Tm, txn: &Transaction, request: &Message) -> sl::ToTag {
    let tag = sl::to_tag_with(&tm.tag_base, b'-', request);
    let mut state = txn.state();
    if state.uas.local_to_tag.is_none() && request.to().is_ok_and(|t| t.tag().is_none()) {
        state.uas.local_to_tag = Some(Bytes::copy_from_slice(&tag));
    }
    tag
}

/// Sends a reply upstream and records it as the last reply. A final reply completes the
/// server side: pending branches are canceled, an INVITE's final is retransmitted over UDP
/// until its ACK, and the wait timer is armed. `local` marks replies we built ourselves.
/// False when a final reply was already sent (only an INVITE's 2xx may follow one).
pub(crate) fn send_reply(tm: &Tm, txn: &Arc<Transaction>, io: &Io, code: u16, reply: Bytes, local: bool) -> bool {
    let mut state = txn.state();
    let final_sent = state.uas.status >= 200;
    if final_sent && !(txn.is_invite() && (200..300).contains(&code) && !local) {
        return false;
    }
    if code < 200 && final_sent {
        return false;
    }
    let dest = state.uas.dest;
    let first_final = code >= 200 && !final_sent;
    if !final_sent {
        state.uas.status = code;
        state.uas.last_reply = Some(reply.clone());
    }
    let retransmit = first_final
        && txn.is_invite()
        && ((code >= 300 && dest.proto == Transport::Udp) || (local && (200..300).contains(&code)));
    if first_final {
        state.uas.local_final = local;
        state.uas.final_sent_at = Some(Instant::now());
        if retransmit {
            state.uas.retransmit_generation += 1;
            state.uas.retransmit_interval = tm.settings.retr_timer1;
        }
    }
    let generation = state.uas.retransmit_generation;
    drop(state);
    if let Err(e) = io.send(&dest, reply) {
        tracing::warn!("sending a reply to {}: {e:?}", dest.addr);
    }
    if first_final {
        if retransmit {
            tm.timers.schedule(tm.settings.retr_timer1, txn, Event::RetransmitReply { generation });
        } else if !txn.is_invite() || code < 300 {
            schedule_delete(tm, txn);
        } else {
            // A negative final over a reliable transport: the ACK ends it, or the wait.
            tm.timers.schedule(tm.settings.fr_timer, txn, Event::Delete);
        }
    }
    true
}

/// Our final reply is due again (no ACK yet): resend it, doubling the interval up to T2,
/// for at most fr_timer; then let the transaction go.
pub(crate) fn retransmit_reply(tm: &Tm, txn: &Arc<Transaction>, io: &Io, generation: u32) {
    let mut state = txn.state();
    if state.deleted || state.uas.ack_received || state.uas.retransmit_generation != generation {
        return;
    }
    let expired = state.uas.final_sent_at.is_none_or(|at| at.elapsed() >= tm.settings.fr_timer);
    if expired {
        drop(state);
        schedule_delete(tm, txn);
        return;
    }
    let (reply, dest) = (state.uas.last_reply.clone(), state.uas.dest);
    let interval = (state.uas.retransmit_interval * 2).min(tm.settings.retr_timer2);
    state.uas.retransmit_interval = interval;
    drop(state);
    if let Some(reply) = reply {
        let _ = io.send(&dest, reply);
    }
    tm.timers.schedule(interval, txn, Event::RetransmitReply { generation });
}

/// After request_route: the delayed error reply of a failed t_relay, or the release of a
/// transaction the script created but neither relayed nor answered.
pub(crate) fn request_done(env: &mut MsgEnv, io: &Io) {
    let Some(txn) = env.txn.take() else { return };
    let tm = &io.globals().tm;
    let (error, relayed, status) = {
        let state = txn.state();
        (state.delayed_error, state.relayed, state.uas.status)
    };
    if status >= 200 {
        return;
    }
    if let Some(error) = error {
        let (code, reason) = error.reply();
        let reason = reason.replace("/SL)", "/TM)");
        if reply_to_transaction(&txn, io, code, reason.as_bytes()) < 0 {
            delete(tm, &txn);
        }
        return;
    }
    if !relayed {
        tracing::debug!("releasing a transaction the script neither relayed nor answered");
        delete(tm, &txn);
    }
}
