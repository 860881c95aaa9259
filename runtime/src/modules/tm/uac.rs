//! The client side: t_relay's branches (one per destination, branch_route per branch), their
//! retransmissions, and the CANCEL and hop-by-hop ACK built from a branch's request as it was
//! sent (sip-behaviour.md §4.2, §4.6, §4.7).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::timer::Event;
use super::transaction::{Branch, Cancel, Transaction};
use super::uas::{self, NewTran};
use super::{Routes, Target, Tm};
use crate::context::{BranchRoute, Ctx, Flow, KindId, MsgEnv, RequestSide};
use crate::core::ActionError;
use crate::core::branch::branch_value;
use crate::core::forward::{ForwardTo, build_forwarded, destination_of};
use crate::sip::{HeaderName, Message, Method, Transport, Uri};
use crate::transport::{Destination, Io};

/// At most this many branches per transaction (Kamailio's max_branches default).
const MAX_BRANCHES: usize = 12;

/// Why we cancel.
#[derive(Debug, Clone)]
pub(crate) enum CancelReason {
    /// A final reply we sent ourselves: `cause=<code>`.
    Local(u16),
    /// A 2xx arrived on another branch.
    CompletedElsewhere,
    /// The upstream CANCEL's Reason header lines, passed on.
    Received(Bytes),
}

impl CancelReason {
    fn lines(&self) -> Bytes {
        match self {
            CancelReason::Local(code) => Bytes::from(format!("Reason: SIP;cause={code}\r\n")),
            CancelReason::CompletedElsewhere => {
                Bytes::from_static(b"Reason: SIP;cause=200;text=\"Call completed elsewhere\"\r\n")
            }
            CancelReason::Received(lines) => lines.clone(),
        }
    }
}

/// `t_relay()` in any of its forms.
pub(crate) fn t_relay<K: RequestSide, S, W>(
    cx: &mut Ctx<'_, K, S, W>,
    routes: &Routes<S, W>,
    target: Target<'_>,
) -> i32 {
    match K::ID {
        KindId::Request => {}
        KindId::Failure => return relay_from_failure(cx, routes, target),
        _ => return -1,
    }
    let method = cx.msg.method();
    if method == Method::Cancel
        && cx.env.txn.is_none()
        && let Some(code) = relay_cancel(cx)
    {
        return code;
    }
    let txn = match uas::newtran(cx) {
        NewTran::Created(txn) => txn,
        NewTran::Exists => match cx.env.txn.clone() {
            Some(txn) if method == Method::Ack => {
                // The script started the ACK's transaction lookup itself: absorbed.
                uas::ack_received(&cx.io.globals().tm, &txn);
                return 1;
            }
            Some(txn) => txn,
            None => return -1,
        },
        NewTran::Absorbed => return 1,
        NewTran::EndToEndAck => {
            // The ACK of a 2xx goes on statelessly, with its own branch.
            let code = match target.to {
                Some(fixed) => crate::core::forward(cx, ForwardTo::Fixed(fixed), target.proto),
                None => crate::core::forward(cx, ForwardTo::Uri, target.proto),
            };
            return if code > 0 { 1 } else { code };
        }
        NewTran::Failed(code) => return code,
    };
    let tm = &cx.io.globals().tm;
    let processing = txn.processing();
    if method == Method::Invite && tm.settings.auto_inv_100 && txn.state().uas.status < 100 {
        let reason = tm.settings.auto_inv_100_reason.clone();
        let tag = sl_tag_unused();
        if let Some(trying) = crate::modules::sl::build_local(cx.msg, cx.env, cx.io, 100, reason.as_bytes(), &[], &tag)
        {
            uas::send_reply(tm, &txn, cx.io, 100, trying, true);
        }
    }
    save_request_state(&txn, cx.msg, cx.env);
    let result = forward_branches(cx, routes, &txn, target, true);
    drop(processing);
    finish_relay(cx, &txn, result)
}

/// Provisional replies carry no To-tag; `build_local` only adds one from 180 on.
fn sl_tag_unused() -> Vec<u8> {
    Vec::new()
}

/// Records the request route's state for failure_route and local replies.
fn save_request_state(txn: &Transaction, msg: &Message, env: &MsgEnv) {
    let mut state = txn.state();
    let saved = &mut state.saved;
    saved.new_uri = env.new_uri.clone();
    saved.dst_uri = env.dst_uri.clone();
    saved.flags = env.flags;
    saved.force_rport = env.force_rport;
    saved.record_route = env.record_route.clone();
    saved.rr_params = env.rr_params.clone();
    saved.routed = env.routed.clone();
    saved.edits = Some(msg.edits().clone());
}

/// t_relay's result: 1, or the error (replied at the end of the script).
fn finish_relay<K: RequestSide, S, W>(
    cx: &mut Ctx<'_, K, S, W>,
    txn: &Arc<Transaction>,
    result: Result<usize, ActionError>,
) -> i32 {
    let tm = &cx.io.globals().tm;
    let mut state = txn.state();
    state.relayed = true;
    match result {
        Ok(_) => 1,
        Err(error) => {
            cx.env.last_error = Some(error);
            if tm.settings.delayed_reply {
                state.delayed_error = Some(error);
            } else {
                drop(state);
                let (code, reason) = error.reply();
                let reason = reason.replace("/SL)", "/TM)");
                uas::reply_to_transaction(txn, cx.io, code, reason.as_bytes());
            }
            error.code()
        }
    }
}

/// t_relay inside failure_route: new branches for a rewritten R-URI or appended ones; the
/// replies of the earlier branches are forgotten (failure_reply_mode 3).
fn relay_from_failure<K: RequestSide, S, W>(
    cx: &mut Ctx<'_, K, S, W>,
    routes: &Routes<S, W>,
    target: Target<'_>,
) -> i32 {
    let Some(txn) = cx.env.txn.clone() else { return -1 };
    match forward_branches(cx, routes, &txn, target, false) {
        Ok(_) => 1,
        Err(error) => {
            cx.env.last_error = Some(error);
            error.code()
        }
    }
}

/// One destination to try.
struct Planned {
    uri: Option<Bytes>,
    dst_uri: Option<Bytes>,
}

/// Sends one branch per destination (the R-URI, unless failure_route did not change it, then
/// every appended branch). Returns how many went out, or the lowest error when none did.
fn forward_branches<K: RequestSide, S, W>(
    cx: &mut Ctx<'_, K, S, W>,
    routes: &Routes<S, W>,
    txn: &Arc<Transaction>,
    target: Target<'_>,
    with_ruri: bool,
) -> Result<usize, ActionError> {
    let tm = &cx.io.globals().tm;
    let mut planned = Vec::new();
    let ruri_changed = {
        let state = txn.state();
        state.saved.new_uri != cx.env.new_uri || state.saved.dst_uri != cx.env.dst_uri
    };
    if with_ruri || ruri_changed {
        planned.push(Planned { uri: cx.env.new_uri.clone(), dst_uri: cx.env.dst_uri.clone() });
    }
    for branch in cx.env.branches.drain(..) {
        planned.push(Planned { uri: Some(branch.uri), dst_uri: branch.dst_uri });
    }
    if planned.is_empty() {
        return Err(ActionError::BadRequest);
    }
    let (on_branch, existing) = {
        let mut state = txn.state();
        if !with_ruri {
            // New branches from failure_route: earlier replies no longer count.
            state.first_live_branch = state.branches.len();
            state.in_failure = false;
        }
        (state.on_branch, state.branches.len())
    };
    let mut sent = 0;
    let mut lowest: Option<ActionError> = None;
    for (n, plan) in planned.into_iter().enumerate() {
        let index = existing + n;
        if index >= MAX_BRANCHES {
            lowest = Some(ActionError::TooManyBranches);
            break;
        }
        match send_new_branch(cx, routes, txn, target, plan, index, on_branch) {
            Ok(true) => sent += 1,
            Ok(false) => {}
            Err(error) => lowest = Some(error),
        }
    }
    if sent == 0 {
        return Err(lowest.unwrap_or(ActionError::BadRequest));
    }
    let _ = tm;
    Ok(sent)
}

/// Builds, records and sends branch `index`. Ok(false) when branch_route dropped it.
fn send_new_branch<K: RequestSide, S, W>(
    cx: &mut Ctx<'_, K, S, W>,
    routes: &Routes<S, W>,
    txn: &Arc<Transaction>,
    target: Target<'_>,
    plan: Planned,
    index: usize,
    on_branch: Option<u16>,
) -> Result<bool, ActionError> {
    let io = cx.io;
    let tm = &io.globals().tm;
    // The branch's per-message state, and its own copy of the request when a branch_route
    // may edit it. Without one nothing edits the request, so the branch sends it as it is
    // rather than parsing it again (about a quarter of t_relay's instructions on a call).
    let mut env = branch_env(cx.env, &plan);
    env.txn = Some(txn.clone());
    env.tm_branch = Some(index);
    let branch_copy;
    let msg: &Message = match on_branch {
        Some(route) => {
            let mut copy = reparse(cx.msg).ok_or(ActionError::BadRequest)?;
            let mut bcx: Ctx<'_, BranchRoute, S, W> = Ctx::new(&mut copy, &mut env, cx.shared, &mut *cx.worker, io);
            if (routes.branch)(route, &mut bcx) == Flow::Drop {
                return Ok(false);
            }
            branch_copy = copy;
            &branch_copy
        }
        None => cx.msg,
    };
    let uri = env.new_uri.clone();
    let dest = match target.to {
        Some(fixed) => Destination { addr: fixed.addr, proto: target.proto.unwrap_or(env.proto), conn: None },
        None => {
            // `$du`, else the R-URI: the received one is already parsed.
            let next_hop = match env.dst_uri.as_ref().or(uri.as_ref()) {
                Some(text) => Uri::parse(text),
                None => msg.ruri(),
            };
            let mut dest = destination_of(io, &next_hop.map_err(|_| ActionError::BadUri)?)?;
            if let Some(proto) = target.proto {
                dest.proto = proto;
            }
            dest
        }
    };
    let branch = branch_value(txn.hash, &txn.md5, index as u32);
    let request = build_forwarded(msg, &env, io, &dest, uri.as_deref(), &branch)?;
    let fr = {
        let mut state = txn.state();
        let canceled = state.canceled;
        state.branches.push(Branch {
            dest,
            request: request.clone(),
            last_code: 0,
            final_reply: None,
            final_code: 0,
            timed_out: false,
            retransmit_generation: 0,
            retransmit_interval: tm.settings.retr_timer1,
            fr_generation: 0,
            cancel: if canceled { Cancel::WhenProvisional } else { Cancel::None },
            cancel_generation: 0,
            cancel_interval: tm.settings.retr_timer1,
            cancel_sent_at: None,
        });
        state.fr_timeout
    };
    if let Err(e) = io.send(&dest, request) {
        tracing::warn!("sending branch {index} to {}: {e:?}", dest.addr);
        // The branch stays, with a final 477 of its own, so that best-reply sees it.
        let mut state = txn.state();
        if let Some(branch) = state.branches.get_mut(index) {
            branch.final_code = 477;
            branch.last_code = 477;
        }
        return Err(ActionError::Send);
    }
    if dest.proto == Transport::Udp {
        tm.timers.schedule(tm.settings.retr_timer1, txn, Event::Retransmit { branch: index as u32, generation: 0 });
    }
    tm.timers.schedule(fr, txn, Event::FinalResponse { branch: index as u32, generation: 0 });
    Ok(true)
}

/// A separate copy of `msg` with its edits, for one branch.
fn reparse(msg: &Message) -> Option<Message> {
    let mut copy = Message::parse(msg.buffer().clone()).ok()?;
    copy.edits = msg.edits().clone();
    Some(copy)
}

fn branch_env(env: &MsgEnv, plan: &Planned) -> MsgEnv {
    let mut copy = MsgEnv::new(env.src, env.local, env.proto);
    copy.conn = env.conn;
    copy.new_uri = plan.uri.clone();
    copy.dst_uri = plan.dst_uri.clone();
    copy.flags = env.flags;
    copy.force_rport = env.force_rport;
    copy.record_route = env.record_route.clone();
    copy.rr_params = env.rr_params.clone();
    copy.routed = env.routed.clone();
    copy
}

/// t_relay of a CANCEL: `None` when no INVITE transaction exists and the CANCEL is to be
/// relayed as a request of its own (unmatched_cancel=0).
fn relay_cancel<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>) -> Option<i32> {
    let tm = &cx.io.globals().tm;
    let Some(invite) = tm.table.lookup_invite_of_cancel(cx.msg) else {
        return match tm.settings.unmatched_cancel {
            1 => Some(crate::core::forward(cx, ForwardTo::Uri, None)),
            2 => Some(1),
            _ => None,
        };
    };
    // The CANCEL's own transaction absorbs its retransmissions and holds our 200.
    let cancel_txn = match uas::newtran(cx) {
        NewTran::Created(txn) => txn,
        NewTran::Exists => cx.env.txn.clone()?,
        NewTran::Absorbed => return Some(1),
        NewTran::EndToEndAck => return Some(-1),
        NewTran::Failed(code) => return Some(code),
    };
    cancel_txn.state().relayed = true;
    let reasons: Vec<u8> = cx
        .msg
        .headers()
        .iter()
        .filter(|h| h.name == HeaderName::Reason)
        .flat_map(|h| line_with_crlf(cx.msg.get(h.line)))
        .collect();
    invite.canceled_flag.store(true, std::sync::atomic::Ordering::Relaxed);
    let processing = invite.processing();
    let has_branches = {
        let mut state = invite.state();
        state.canceled = true;
        if state.cancel_reason.is_none() && !reasons.is_empty() {
            state.cancel_reason = Some(Bytes::from(reasons.clone()));
        }
        !state.branches.is_empty()
    };
    let reason = CancelReason::Received(Bytes::from(reasons));
    if !has_branches {
        uas::reply_to_transaction(&invite, cx.io, 487, b"Request canceled");
        drop(processing);
        uas::t_reply(cx, 200, b"ok -- no more pending branches");
        return Some(1);
    }
    let pending = cancel_pending(tm, &invite, cx.io, reason);
    drop(processing);
    let text: &[u8] = if pending > 0 { b"canceling" } else { b"ok -- no more pending branches" };
    uas::t_reply(cx, 200, text);
    Some(1)
}

fn line_with_crlf(line: &[u8]) -> Vec<u8> {
    let content = line.strip_suffix(b"\n").map_or(line, |l| l.strip_suffix(b"\r").unwrap_or(l));
    let mut out = content.to_vec();
    out.extend_from_slice(b"\r\n");
    out
}

/// Cancels every live branch still waiting for a final reply: at once when it had a
/// provisional reply, else when one arrives (cancel_b_method=1). Returns how many.
pub(crate) fn cancel_pending(tm: &Tm, txn: &Arc<Transaction>, io: &Io, reason: CancelReason) -> usize {
    if !txn.is_invite() {
        return 0;
    }
    let mut to_send = Vec::new();
    let mut count = 0;
    {
        let mut state = txn.state();
        if state.cancel_reason.is_none() {
            let lines = reason.lines();
            if !lines.is_empty() {
                state.cancel_reason = Some(lines);
            }
        }
        let first = state.first_live_branch;
        for (index, branch) in state.branches.iter_mut().enumerate().skip(first) {
            if !branch.is_pending() || !matches!(branch.cancel, Cancel::None | Cancel::WhenProvisional) {
                continue;
            }
            count += 1;
            if branch.last_code >= 100 {
                to_send.push(index);
            } else {
                branch.cancel = Cancel::WhenProvisional;
            }
        }
    }
    for index in to_send {
        cancel_branch(tm, txn, io, index);
    }
    count
}

/// Sends the CANCEL of branch `index` (built from its INVITE as sent) and retransmits it
/// over UDP.
pub(crate) fn cancel_branch(tm: &Tm, txn: &Arc<Transaction>, io: &Io, index: usize) {
    let (cancel, dest, generation) = {
        let mut state = txn.state();
        let reason = state.cancel_reason.clone().unwrap_or_default();
        let Some(branch) = state.branches.get_mut(index) else { return };
        if matches!(branch.cancel, Cancel::Sent { .. } | Cancel::Done) {
            return;
        }
        let Some(cancel) = build_cancel(&branch.request, &reason) else { return };
        branch.cancel = Cancel::Sent { request: cancel.clone() };
        branch.cancel_generation += 1;
        branch.cancel_interval = tm.settings.retr_timer1;
        branch.cancel_sent_at = Some(Instant::now());
        (cancel, branch.dest, branch.cancel_generation)
    };
    if let Err(e) = io.send(&dest, cancel) {
        tracing::warn!("sending CANCEL to {}: {e:?}", dest.addr);
    }
    if dest.proto == Transport::Udp {
        tm.timers.schedule(tm.settings.retr_timer1, txn, Event::RetransmitCancel { branch: index as u32, generation });
    }
}

/// A branch's request is due again (UDP, no reply yet).
pub(crate) fn retransmit_request(tm: &Tm, txn: &Arc<Transaction>, io: &Io, index: usize, generation: u32) {
    let (request, dest, interval) = {
        let mut state = txn.state();
        if state.deleted {
            return;
        }
        let invite = txn.is_invite();
        let Some(branch) = state.branches.get_mut(index) else { return };
        if !branch.is_pending() || branch.retransmit_generation != generation {
            return;
        }
        let doubled = (branch.retransmit_interval * 2).min(tm.settings.retr_timer2);
        // A non-INVITE with a provisional reply goes on at T2.
        let next = if !invite && branch.last_code >= 100 { tm.settings.retr_timer2 } else { doubled };
        branch.retransmit_interval = next;
        (branch.request.clone(), branch.dest, next)
    };
    let _ = io.send(&dest, request);
    tm.timers.schedule(interval, txn, Event::Retransmit { branch: index as u32, generation });
}

/// A branch's CANCEL is due again: until its final reply, for at most fr_timer.
pub(crate) fn retransmit_cancel(tm: &Tm, txn: &Arc<Transaction>, io: &Io, index: usize, generation: u32) {
    let (cancel, dest, interval) = {
        let mut state = txn.state();
        if state.deleted {
            return;
        }
        let Some(branch) = state.branches.get_mut(index) else { return };
        let Cancel::Sent { request } = &branch.cancel else { return };
        let expired = branch.cancel_sent_at.is_none_or(|at| at.elapsed() >= tm.settings.fr_timer);
        if branch.cancel_generation != generation || expired {
            return;
        }
        let request = request.clone();
        branch.cancel_interval = (branch.cancel_interval * 2).min(tm.settings.retr_timer2);
        (request, branch.dest, branch.cancel_interval)
    };
    let _ = io.send(&dest, cancel);
    tm.timers.schedule(interval, txn, Event::RetransmitCancel { branch: index as u32, generation });
}

/// Stops a branch's request retransmissions.
pub(crate) fn stop_retransmissions(branch: &mut Branch) {
    branch.retransmit_generation += 1;
}

/// Restarts a branch's final-response timer.
pub(crate) fn restart_fr(tm: &Tm, txn: &Arc<Transaction>, branch: &mut Branch, index: usize, after: Duration) {
    branch.fr_generation += 1;
    let generation = branch.fr_generation;
    tm.timers.schedule(after, txn, Event::FinalResponse { branch: index as u32, generation });
}

/// Writes the CANCEL or ACK of a branch's INVITE as sent (t_msgbuilder.c): the same
/// request line and first Via, From, Call-ID, Route and Max-Forwards as sent, To as sent
/// (CANCEL) or the reply's (ACK), CSeq with the new method, Require/Proxy-Require and every
/// other header and the body left out, Content-Length 0 if the INVITE had one.
fn build_local_request(sent: &Bytes, method: &[u8], to_line: Option<&[u8]>, extra: &[u8]) -> Option<Bytes> {
    let invite = Message::parse(sent.clone()).ok()?;
    let ruri = invite.get(invite.ruri_slice()?);
    let cseq = invite.cseq().ok()?;
    let mut out = BytesMut::with_capacity(sent.len().min(1024) + 64);
    out.extend_from_slice(method);
    out.extend_from_slice(b" ");
    out.extend_from_slice(ruri);
    out.extend_from_slice(b" SIP/2.0\r\n");
    let mut via_done = false;
    let mut had_length = false;
    for header in invite.headers() {
        let line = invite.get(header.line);
        match header.name {
            HeaderName::Via if !via_done => {
                // Only our Via, and only its first value when several share the line.
                let via = invite.top_via().ok()?;
                out.extend_from_slice(b"Via: ");
                out.extend_from_slice(invite.get(via.slice()));
                out.extend_from_slice(b"\r\n");
                via_done = true;
            }
            HeaderName::To => match to_line {
                Some(to) => out.extend_from_slice(&line_with_crlf(to)),
                None => out.extend_from_slice(&line_with_crlf(line)),
            },
            HeaderName::From | HeaderName::CallId | HeaderName::Route | HeaderName::MaxForwards => {
                out.extend_from_slice(&line_with_crlf(line));
            }
            HeaderName::CSeq => {
                out.extend_from_slice(b"CSeq: ");
                out.extend_from_slice(cseq.number_text());
                out.extend_from_slice(b" ");
                out.extend_from_slice(method);
                out.extend_from_slice(b"\r\n");
            }
            HeaderName::ContentLength => had_length = true,
            _ => {}
        }
    }
    out.extend_from_slice(extra);
    if had_length {
        out.extend_from_slice(b"Content-Length: 0\r\n");
    }
    out.extend_from_slice(b"\r\n");
    Some(out.freeze())
}

pub(crate) fn build_cancel(sent: &Bytes, reason: &[u8]) -> Option<Bytes> {
    build_local_request(sent, b"CANCEL", None, reason)
}

/// The hop-by-hop ACK for a negative final reply on a branch.
pub(crate) fn build_ack(sent: &Bytes, reply: &Message) -> Option<Bytes> {
    let to = reply.header(HeaderName::To)?;
    build_local_request(sent, b"ACK", Some(reply.get(to.line)), b"")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENT: &[u8] = b"INVITE sip:bob@10.0.0.2 SIP/2.0\r\n\
Record-Route: <sip:10.0.0.1;lr;ftag=a>\r\n\
Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1.0123456789abcdef0123456789abcdef.0\r\n\
Via: SIP/2.0/UDP 10.0.0.9:5062;branch=z9hG4bKclient;rport=5062\r\n\
Max-Forwards: 69\r\n\
Route: <sip:10.0.0.7;lr>\r\n\
From: <sip:alice@a>;tag=a\r\n\
To: <sip:bob@b>\r\n\
Call-ID: call-1\r\n\
CSeq: 4 INVITE\r\n\
Require: 100rel\r\n\
Contact: <sip:alice@10.0.0.9:5062>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\n";

    #[test]
    fn cancel_is_built_from_the_invite_as_sent() {
        let cancel =
            build_cancel(&Bytes::from_static(SENT), b"Reason: SIP;cause=200;text=\"Call completed elsewhere\"\r\n")
                .expect("cancel");
        assert_eq!(
            std::str::from_utf8(&cancel).expect("utf-8"),
            "CANCEL sip:bob@10.0.0.2 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1.0123456789abcdef0123456789abcdef.0\r\n\
Max-Forwards: 69\r\n\
Route: <sip:10.0.0.7;lr>\r\n\
From: <sip:alice@a>;tag=a\r\n\
To: <sip:bob@b>\r\n\
Call-ID: call-1\r\n\
CSeq: 4 CANCEL\r\n\
Reason: SIP;cause=200;text=\"Call completed elsewhere\"\r\n\
Content-Length: 0\r\n\
\r\n"
        );
    }

    #[test]
    fn ack_takes_the_to_of_the_reply() {
        let reply = Message::parse(Bytes::from_static(
            b"SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1.0123456789abcdef0123456789abcdef.0\r\nFrom: <sip:alice@a>;tag=a\r\nTo: <sip:bob@b>;tag=uas\r\nCall-ID: call-1\r\nCSeq: 4 INVITE\r\nContent-Length: 0\r\n\r\n",
        ))
        .expect("reply");
        let ack = build_ack(&Bytes::from_static(SENT), &reply).expect("ack");
        let text = std::str::from_utf8(&ack).expect("utf-8");
        assert!(
            text.starts_with("ACK sip:bob@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1."),
            "{text}"
        );
        assert!(text.contains("To: <sip:bob@b>;tag=uas\r\n"), "{text}");
        assert!(text.contains("CSeq: 4 ACK\r\n"), "{text}");
        assert!(!text.contains("Require") && !text.contains("Contact") && !text.contains("v=0"), "{text}");
        assert!(text.ends_with("Content-Length: 0\r\n\r\n"), "{text}");
    }
}
