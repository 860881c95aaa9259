//! Replies that belong to a transaction (t_reply.c `reply_received`), final-response
//! timeouts, best-reply selection across branches and failure_route
//! (sip-behaviour.md §4.3-§4.5).

use std::sync::Arc;

use bytes::BytesMut;

use super::timer::{Entry, Event};
use super::transaction::{Cancel, Transaction};
use super::uac::{self, CancelReason};
use super::uas;
use super::{Routes, Tm};
use crate::context::{Ctx, Failure, Flow, MsgEnv, TmReply};
use crate::server::Script;
use crate::sip::Message;
use crate::transport::Io;

/// Handles a reply after the core reply_route. False when it belongs to no transaction
/// (the caller then relays it statelessly).
pub(crate) fn received<S: Script>(
    msg: &mut Message,
    env: &mut MsgEnv,
    io: &Io,
    shared: &'static S::Shared,
    worker: &mut S::Worker,
) -> bool {
    let tm = &io.globals().tm;
    let Some((txn, index, cancel_reply)) = tm.table.lookup_reply(msg) else { return false };
    let Some(code) = msg.status() else { return true };
    let _processing = txn.processing();
    if cancel_reply {
        // The reply to a CANCEL we sent: its retransmissions stop; nothing goes upstream.
        if code >= 200 {
            let mut state = txn.state();
            if let Some(branch) = state.branches.get_mut(index) {
                branch.cancel = Cancel::Done;
                branch.cancel_generation += 1;
            }
        }
        return true;
    }
    let routes = &S::TM_ROUTES;
    let invite = txn.is_invite();
    let mut send_cancel = false;
    let mut ack = None;
    let mut repeated_final = false;
    let on_reply;
    {
        let mut state = txn.state();
        if state.deleted {
            return true;
        }
        on_reply = state.on_reply;
        let fr_inv = state.fr_inv_timeout;
        let Some(branch) = state.branches.get_mut(index) else { return true };
        if code >= 200 {
            if branch.final_code != 0 {
                repeated_final = true;
            } else {
                branch.final_code = code;
                branch.final_reply = Some(msg.buffer().clone());
                branch.last_code = code;
                uac::stop_retransmissions(branch);
                branch.fr_generation += 1;
            }
            if invite && code >= 300 {
                ack = uac::build_ack(&branch.request, msg).map(|a| (a, branch.dest));
            }
        } else if branch.final_code == 0 {
            let first_provisional = branch.last_code < 100;
            let rising = code > branch.last_code;
            branch.last_code = branch.last_code.max(code);
            if invite {
                uac::stop_retransmissions(branch);
                if first_provisional || tm.settings.restart_fr_on_each_reply || rising {
                    uac::restart_fr(tm, &txn, branch, index, fr_inv);
                }
            }
            send_cancel = branch.cancel == Cancel::WhenProvisional;
        } else {
            // A provisional reply after the final one: nothing to do.
            return true;
        }
    }
    if let Some((ack, dest)) = ack {
        let _ = io.send(&dest, ack);
    }
    if send_cancel {
        uac::cancel_branch(tm, &txn, io, index);
    }
    if repeated_final {
        // A retransmitted final: ACKed again above; an INVITE's 2xx still goes upstream.
        if invite && (200..300).contains(&code) {
            relay_upstream(tm, &txn, io, msg, code);
        }
        return true;
    }

    // onreply_route[x]: may change the reply; `drop` stops a provisional one.
    if let Some(route) = on_reply {
        let mut reply_env = MsgEnv::new(env.src, env.local, env.proto);
        reply_env.conn = env.conn;
        reply_env.txn = Some(txn.clone());
        reply_env.tm_branch = Some(index);
        reply_env.tm_reply_code = code;
        let flow = {
            let mut cx: Ctx<'_, TmReply, S::Shared, S::Worker> = Ctx::new(msg, &mut reply_env, shared, worker, io);
            (routes.reply)(route, &mut cx)
        };
        if flow == Flow::Drop && code < 200 {
            return true;
        }
    }

    match code {
        100 if !tm.settings.relay_100 => {}
        100..=199 => {
            relay_upstream(tm, &txn, io, msg, code);
        }
        200..=299 => {
            relay_upstream(tm, &txn, io, msg, code);
            uac::cancel_pending(tm, &txn, io, CancelReason::CompletedElsewhere);
        }
        _ => {
            if code >= 600 && !tm.settings.disable_6xx_block {
                uac::cancel_pending(tm, &txn, io, CancelReason::Local(code));
            }
            branches_done::<S>(tm, &txn, io, shared, worker, routes);
        }
    }
    true
}

/// Relays a received reply upstream: our Via removed, sent where the request came from.
fn relay_upstream(tm: &Tm, txn: &Arc<Transaction>, io: &Io, msg: &mut Message, code: u16) -> bool {
    if msg.remove_top_via().is_err() {
        return false;
    }
    let mut out = BytesMut::with_capacity(msg.as_bytes().len());
    msg.write_to(&mut out);
    uas::send_reply(tm, txn, io, code, out.freeze(), false)
}

/// Lower is better (t_pick_branch): 6xx, then 3xx, then the special 4xx, other 4xx, 5xx.
pub(crate) fn reply_score(code: u16) -> u32 {
    let code = u32::from(code);
    let xx = code % 100;
    match code / 100 {
        6 => 1000 + xx,
        2 => xx,
        3 => 3000 + xx,
        4 if matches!(code, 401 | 407 | 415 | 420 | 484) => 4000 + xx,
        4 => 4100 + xx,
        5 => 5000 + xx,
        _ => 10000 + code,
    }
}

/// When every live branch has its final: pick the best, run failure_route if armed, else
/// send the winner upstream.
pub(crate) fn branches_done<S: Script>(
    tm: &Tm,
    txn: &Arc<Transaction>,
    io: &Io,
    shared: &'static S::Shared,
    worker: &mut S::Worker,
    routes: &Routes<S::Shared, S::Worker>,
) {
    let (best, on_failure) = {
        let state = txn.state();
        if state.uas.status >= 200 {
            return;
        }
        let live = &state.branches[state.first_live_branch.min(state.branches.len())..];
        if live.iter().any(|b| b.is_pending()) {
            return;
        }
        let best = live
            .iter()
            .enumerate()
            .filter(|(_, b)| b.final_code >= 300)
            .min_by_key(|(_, b)| reply_score(b.final_code))
            .map(|(i, _)| i + state.first_live_branch);
        (best, state.on_failure)
    };
    let Some(best) = best else {
        // Nothing was ever sent: answer with the default error.
        let reason = tm.settings.default_reason.clone();
        uas::reply_to_transaction(txn, io, tm.settings.default_code, reason.as_bytes());
        return;
    };
    if let Some(route) = on_failure {
        let branches_before = {
            let mut state = txn.state();
            state.on_failure = None;
            state.in_failure = true;
            state.branches.len()
        };
        run_failure_route::<S>(txn, io, shared, worker, routes, route, best);
        let state = txn.state();
        if state.branches.len() > branches_before || state.uas.status >= 200 {
            // New branches are on their way, or the route replied itself.
            return;
        }
    }
    send_best(tm, txn, io, best);
}

fn run_failure_route<S: Script>(
    txn: &Arc<Transaction>,
    io: &Io,
    shared: &'static S::Shared,
    worker: &mut S::Worker,
    routes: &Routes<S::Shared, S::Worker>,
    route: u16,
    best: usize,
) {
    let Some(mut msg) = txn.request_message() else { return };
    let mut env = uas::request_env(txn);
    {
        let state = txn.state();
        if let Some(edits) = &state.saved.edits {
            msg.edits = edits.clone();
        }
        env.tm_reply_code = state.branches.get(best).map_or(0, |b| b.final_code);
    }
    env.txn = Some(txn.clone());
    env.tm_branch = Some(best);
    let mut cx: Ctx<'_, Failure, S::Shared, S::Worker> = Ctx::new(&mut msg, &mut env, shared, worker, io);
    let _ = (routes.failure)(route, &mut cx);
}

/// Sends the chosen final upstream: the received reply, or a local one for a timeout (487
/// when the transaction was canceled) and for a 503 (as 500, remap_503_500).
fn send_best(tm: &Tm, txn: &Arc<Transaction>, io: &Io, best: usize) {
    let (code, reply, timed_out, canceled) = {
        let state = txn.state();
        let Some(branch) = state.branches.get(best) else { return };
        (branch.final_code, branch.final_reply.clone(), branch.timed_out, state.canceled)
    };
    match reply {
        Some(bytes) if !(code == 503 && tm.settings.remap_503_500) => {
            let Ok(mut msg) = Message::parse(bytes) else { return };
            relay_upstream(tm, txn, io, &mut msg, code);
        }
        Some(_) => {
            uas::reply_to_transaction(txn, io, 500, b"Service Unavailable");
        }
        None if timed_out && canceled && txn.is_invite() => {
            uas::reply_to_transaction(txn, io, 487, b"Request Terminated");
        }
        None if timed_out => {
            let reason = tm.settings.reply_408_reason.clone();
            uas::reply_to_transaction(txn, io, tm.settings.reply_408_code, reason.as_bytes());
        }
        None => {
            let reason = standard_reason(code);
            uas::reply_to_transaction(txn, io, code, reason.as_bytes());
        }
    }
}

fn standard_reason(code: u16) -> &'static str {
    match code {
        408 => "Request Timeout",
        477 => "Unfortunately error on sending to next hop occurred (477/TM)",
        478 => "Unresolvable destination (478/TM)",
        487 => "Request Terminated",
        500 => "Server Internal Error",
        503 => "Service Unavailable",
        _ => "Server Internal Error",
    }
}

/// A branch got no final reply in time: a faked 408 becomes its final (with a CANCEL when
/// the INVITE had a provisional reply), then best-reply handling runs.
fn branch_timed_out<S: Script>(
    tm: &Tm,
    txn: &Arc<Transaction>,
    io: &Io,
    shared: &'static S::Shared,
    worker: &mut S::Worker,
    index: usize,
    generation: Option<u32>,
) {
    let _processing = txn.processing();
    let cancel = {
        let mut state = txn.state();
        if state.deleted {
            return;
        }
        let Some(branch) = state.branches.get_mut(index) else { return };
        if !branch.is_pending() || generation.is_some_and(|g| g != branch.fr_generation) {
            return;
        }
        uac::stop_retransmissions(branch);
        branch.final_code = tm.settings.reply_408_code;
        branch.timed_out = true;
        let cancel = txn.is_invite() && branch.last_code >= 100;
        if cancel && matches!(branch.cancel, Cancel::None | Cancel::WhenProvisional) {
            branch.cancel = Cancel::None;
        }
        cancel
    };
    if cancel {
        uac::cancel_branch(tm, txn, io, index);
    }
    branches_done::<S>(tm, txn, io, shared, worker, &S::TM_ROUTES);
}

/// Dispatches a due timer.
pub(crate) fn timer_fired<S: Script>(entry: Entry, io: &Io, shared: &'static S::Shared, worker: &mut S::Worker) {
    let tm = &io.globals().tm;
    // Gone from the table: deleted, and its pending timers do nothing.
    let Some(txn) = tm.table.get(entry.hash, entry.id) else { return };
    match entry.event {
        Event::Retransmit { branch, generation } => uac::retransmit_request(tm, &txn, io, branch as usize, generation),
        Event::RetransmitCancel { branch, generation } => {
            uac::retransmit_cancel(tm, &txn, io, branch as usize, generation)
        }
        Event::RetransmitReply { generation } => uas::retransmit_reply(tm, &txn, io, generation),
        Event::FinalResponse { branch, generation } => {
            branch_timed_out::<S>(tm, &txn, io, shared, worker, branch as usize, Some(generation));
        }
        Event::Delete => uas::delete(tm, &txn),
        Event::Lifetime => {
            // Past its lifetime cap: every branch still pending times out, then it goes.
            let pending: Vec<usize> = {
                let state = txn.state();
                if state.deleted {
                    return;
                }
                state.branches.iter().enumerate().filter(|(_, b)| b.is_pending()).map(|(i, _)| i).collect()
            };
            for index in pending {
                branch_timed_out::<S>(tm, &txn, io, shared, worker, index, None);
            }
            uas::schedule_delete(tm, &txn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::reply_score;

    #[test]
    fn best_reply_order() {
        let mut codes = vec![503, 486, 404, 407, 302, 603, 500, 401, 480];
        codes.sort_by_key(|c| reply_score(*c));
        assert_eq!(codes, vec![603, 302, 401, 407, 404, 480, 486, 500, 503]);
    }
}
