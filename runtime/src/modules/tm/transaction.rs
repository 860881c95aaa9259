//! One transaction (Kamailio's `struct cell`): the server side (what the request's sender
//! gets back) and one client branch per destination.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::core::ActionError;
use crate::modules::rr;
use crate::sip::{Message, Method, Transport};
use crate::transport::Destination;

/// What a request must equal to belong to a transaction (t_lookup.c). A lookup compares the
/// borrowed key of the request in hand (`MatchKey<&[u8]>`, nothing counted or copied) with
/// the shared keys transactions keep (`MatchKey<Bytes>`).
#[derive(Debug, Clone)]
pub(crate) struct MatchKey<B = Bytes> {
    /// The top Via branch starts with the RFC 3261 magic cookie.
    pub(crate) rfc3261: bool,
    pub(crate) branch: B,
    pub(crate) via_host: B,
    /// The Via port, 0 when none was written.
    pub(crate) via_port: u16,
    pub(crate) via_transport: Transport,
    /// The whole top Via value (RFC 2543 matching).
    pub(crate) via1: B,
    pub(crate) call_id: B,
    pub(crate) cseq_number: B,
    pub(crate) from: B,
    pub(crate) from_tag: B,
    pub(crate) to: B,
    pub(crate) to_uri: B,
    pub(crate) ruri: B,
}

impl<'m> MatchKey<&'m [u8]> {
    pub(crate) fn of(msg: &'m Message) -> Option<Self> {
        let via = msg.top_via().ok()?;
        let branch = via.branch().unwrap_or_default();
        let from = msg.from().ok()?;
        let to = msg.to().ok()?;
        Some(MatchKey {
            // The magic cookie is compared case-sensitively, as Kamailio does.
            rfc3261: branch.len() > 7 && branch.starts_with(b"z9hG4bK"),
            branch,
            via_host: via.host(),
            via_port: via.port().unwrap_or(0),
            via_transport: via.transport(),
            via1: msg.get(via.slice()),
            call_id: msg.call_id().ok()?,
            cseq_number: msg.cseq().ok()?.number_text(),
            from: from.as_bytes(),
            from_tag: from.tag().unwrap_or_default(),
            to: to.as_bytes(),
            to_uri: to.uri_bytes(),
            ruri: msg.ruri_slice().map(|s| msg.get(s)).unwrap_or_default(),
        })
    }

    /// The key a transaction keeps: the same bytes, shared with `msg`'s buffer.
    pub(crate) fn to_shared(&self, msg: &Message) -> MatchKey {
        let shared = |bytes: &[u8]| copy_of(msg.buffer(), bytes);
        MatchKey {
            rfc3261: self.rfc3261,
            branch: shared(self.branch),
            via_host: shared(self.via_host),
            via_port: self.via_port,
            via_transport: self.via_transport,
            via1: shared(self.via1),
            call_id: shared(self.call_id),
            cseq_number: shared(self.cseq_number),
            from: shared(self.from),
            from_tag: shared(self.from_tag),
            to: shared(self.to),
            to_uri: shared(self.to_uri),
            ruri: shared(self.ruri),
        }
    }
}

/// `bytes` (a slice of `buf`) as a shared `Bytes`, without copying when it lies in `buf`.
fn copy_of(buf: &Bytes, bytes: &[u8]) -> Bytes {
    let base = buf.as_ptr() as usize;
    let start = bytes.as_ptr() as usize;
    if !bytes.is_empty() && start >= base && start + bytes.len() <= base + buf.len() {
        buf.slice(start - base..start - base + bytes.len())
    } else {
        Bytes::copy_from_slice(bytes)
    }
}

/// The CANCEL state of a client branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cancel {
    None,
    /// Cancel when a provisional reply arrives (cancel_b_method=1).
    WhenProvisional,
    /// Sent; retransmitted until a final reply to it.
    Sent {
        request: Bytes,
    },
    /// Its final reply arrived.
    Done,
}

/// One destination of the transaction.
#[derive(Debug)]
pub(crate) struct Branch {
    pub(crate) dest: Destination,
    /// The request as sent (retransmissions, hop-by-hop ACK and CANCEL are built from it).
    pub(crate) request: Bytes,
    /// Highest status received (0 = none yet).
    pub(crate) last_code: u16,
    /// The final reply: received bytes, or `None` for a locally faked one.
    pub(crate) final_reply: Option<Bytes>,
    pub(crate) final_code: u16,
    /// The final was faked by a timer (408).
    pub(crate) timed_out: bool,
    /// Bumped to invalidate pending retransmissions of the request.
    pub(crate) retransmit_generation: u32,
    pub(crate) retransmit_interval: Duration,
    /// Bumped to invalidate (or restart) the final-response timer.
    pub(crate) fr_generation: u32,
    pub(crate) cancel: Cancel,
    pub(crate) cancel_generation: u32,
    pub(crate) cancel_interval: Duration,
    pub(crate) cancel_sent_at: Option<Instant>,
}

impl Branch {
    pub(crate) fn is_pending(&self) -> bool {
        self.final_code == 0
    }
}

/// The server side: what went back to the request's sender.
#[derive(Debug)]
pub(crate) struct Uas {
    pub(crate) dest: Destination,
    /// Status of the last reply sent (0 = none).
    pub(crate) status: u16,
    pub(crate) last_reply: Option<Bytes>,
    /// The To-tag of our local replies (tm's).
    pub(crate) local_to_tag: Option<Bytes>,
    /// A final reply we made ourselves (t_reply, timeouts) was sent.
    pub(crate) local_final: bool,
    pub(crate) ack_received: bool,
    pub(crate) retransmit_generation: u32,
    pub(crate) retransmit_interval: Duration,
    pub(crate) final_sent_at: Option<Instant>,
}

/// The request route's state when t_relay ran, restored for failure_route.
#[derive(Debug, Clone, Default)]
pub(crate) struct Saved {
    pub(crate) new_uri: Option<Bytes>,
    pub(crate) dst_uri: Option<Bytes>,
    pub(crate) flags: u64,
    pub(crate) force_rport: bool,
    pub(crate) record_route: Option<rr::Pending>,
    pub(crate) rr_params: Vec<u8>,
    pub(crate) routed: Option<rr::Routed>,
    /// The request's edits (Max-Forwards, headers added by the script...).
    pub(crate) edits: Option<crate::sip::Edits>,
}

/// Everything that changes, behind one lock.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) uas: Uas,
    pub(crate) branches: Vec<Branch>,
    /// Branches before this one were forgotten by failure_route (failure_reply_mode 3).
    pub(crate) first_live_branch: usize,
    pub(crate) canceled: bool,
    /// The Reason header line(s) our CANCELs carry: copied from the CANCEL that canceled
    /// us (e2e_cancel_reason), or ours (`cause=200`...).
    pub(crate) cancel_reason: Option<Bytes>,
    pub(crate) on_failure: Option<u16>,
    pub(crate) on_reply: Option<u16>,
    pub(crate) on_branch: Option<u16>,
    pub(crate) fr_timeout: Duration,
    pub(crate) fr_inv_timeout: Duration,
    pub(crate) saved: Saved,
    /// t_relay forwarded it (or failed): the end of the script must not release it.
    pub(crate) relayed: bool,
    /// A failure_route is running or ran for the current set of branches.
    pub(crate) in_failure: bool,
    /// The error t_relay met, replied at the end of the script (delayed_reply).
    pub(crate) delayed_error: Option<ActionError>,
    /// Removed from the table; timers that fire now do nothing.
    pub(crate) deleted: bool,
    /// The wait (deletion) timer is armed.
    pub(crate) waiting: bool,
}

/// A transaction. Shared by the table, timers and the script that created it.
#[derive(Debug)]
pub struct Transaction {
    pub(crate) id: u64,
    /// Bucket hash of Call-ID and CSeq number.
    pub(crate) hash: u32,
    /// The request digest (the middle of our branches).
    pub(crate) md5: [u8; 32],
    pub(crate) method: Method,
    pub(crate) method_text: Bytes,
    pub(crate) key: MatchKey,
    /// The request as received.
    pub(crate) request: Bytes,
    pub(crate) received: crate::server::Received,
    pub(crate) created: Instant,
    /// Held while a reply, a timer or a script works on the transaction, so that replies
    /// and timeouts are handled one at a time (Kamailio's reply lock).
    processing: Mutex<()>,
    state: Mutex<State>,
    /// Quick check for the CANCEL of an INVITE.
    pub(crate) canceled_flag: AtomicBool,
}

impl Transaction {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        id: u64,
        hash: u32,
        md5: [u8; 32],
        msg: &Message,
        key: MatchKey,
        received: crate::server::Received,
        reply_to: Destination,
        fr: (Duration, Duration),
    ) -> Transaction {
        Transaction {
            id,
            hash,
            md5,
            method: msg.method(),
            method_text: Bytes::copy_from_slice(msg.method_text()),
            key,
            request: msg.buffer().clone(),
            received,
            created: Instant::now(),
            processing: Mutex::new(()),
            state: Mutex::new(State {
                uas: Uas {
                    dest: reply_to,
                    status: 0,
                    last_reply: None,
                    local_to_tag: None,
                    local_final: false,
                    ack_received: false,
                    retransmit_generation: 0,
                    retransmit_interval: Duration::ZERO,
                    final_sent_at: None,
                },
                branches: Vec::new(),
                first_live_branch: 0,
                canceled: false,
                cancel_reason: None,
                on_failure: None,
                on_reply: None,
                on_branch: None,
                fr_timeout: fr.0,
                fr_inv_timeout: fr.1,
                saved: Saved::default(),
                relayed: false,
                in_failure: false,
                delayed_error: None,
                deleted: false,
                waiting: false,
            }),
            canceled_flag: AtomicBool::new(false),
        }
    }

    pub(crate) fn is_invite(&self) -> bool {
        self.method == Method::Invite
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn processing(&self) -> MutexGuard<'_, ()> {
        self.processing.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn is_canceled(&self) -> bool {
        self.canceled_flag.load(Ordering::Relaxed)
    }

    /// The request as received, parsed again (failure_route works on a copy).
    pub(crate) fn request_message(&self) -> Option<Message> {
        Message::parse(self.request.clone()).ok()
    }
}
