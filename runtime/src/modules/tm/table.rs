//! The transaction table: buckets by the 16-bit hash of Call-ID and CSeq number, each with
//! its own lock, so no lock is shared by unrelated messages. Lookups follow t_lookup.c.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::transaction::{MatchKey, Transaction};
use crate::core::branch::{call_hash, parse_branch};
use crate::sip::{Message, Method};

/// Buckets of a table in use; the 16-bit hash is folded onto them.
const BUCKETS: usize = 4096;

/// The table is full: the proxy answers 503 instead of growing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

pub(crate) struct Table {
    buckets: Box<[Mutex<Vec<Arc<Transaction>>>]>,
    count: AtomicUsize,
    capacity: usize,
    next_id: AtomicU64,
}

/// What a request found.
pub(crate) enum RequestMatch {
    /// A retransmission of the request of this transaction.
    Retransmission(Arc<Transaction>),
    /// An ACK for this INVITE transaction's negative (or local) final reply.
    Ack(Arc<Transaction>),
    None,
}

impl Table {
    pub(crate) fn new(capacity: usize) -> Table {
        Table::with_buckets(capacity, BUCKETS)
    }

    /// The table of a proxy that does not load tm: its buckets would be 128 KB of memory
    /// written at start-up and never used.
    pub(crate) fn unused() -> Table {
        Table::with_buckets(0, 1)
    }

    fn with_buckets(capacity: usize, buckets: usize) -> Table {
        Table {
            buckets: (0..buckets).map(|_| Mutex::new(Vec::new())).collect(),
            count: AtomicUsize::new(0),
            capacity,
            next_id: AtomicU64::new(1),
        }
    }

    fn bucket(&self, hash: u32) -> MutexGuard<'_, Vec<Arc<Transaction>>> {
        self.buckets[hash as usize % self.buckets.len()].lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Reserves room for one transaction.
    pub(crate) fn reserve(&self) -> Result<(), Full> {
        let mut current = self.count.load(Ordering::Relaxed);
        loop {
            if current >= self.capacity {
                return Err(Full);
            }
            match self.count.compare_exchange_weak(current, current + 1, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return Ok(()),
                Err(actual) => current = actual,
            }
        }
    }

    /// Inserts a transaction for which [`Table::reserve`] succeeded.
    pub(crate) fn insert(&self, txn: Arc<Transaction>) {
        self.bucket(txn.hash).push(txn);
    }

    /// The transaction `id` in the bucket of `hash`, while it is in the table.
    pub(crate) fn get(&self, hash: u32, id: u64) -> Option<Arc<Transaction>> {
        self.bucket(hash).iter().find(|t| t.id == id).cloned()
    }

    /// Removes a transaction; false if it was already gone.
    pub(crate) fn remove(&self, txn: &Transaction) -> bool {
        let mut bucket = self.bucket(txn.hash);
        let before = bucket.len();
        bucket.retain(|t| t.id != txn.id);
        let removed = bucket.len() != before;
        if removed {
            self.count.fetch_sub(1, Ordering::AcqRel);
        }
        removed
    }

    /// The transaction a request belongs to (t_lookup_request): a retransmission, or the
    /// INVITE an ACK acknowledges. CANCELs match CANCEL transactions here.
    pub(crate) fn lookup_request(&self, msg: &Message) -> RequestMatch {
        MatchKey::of(msg).map_or(RequestMatch::None, |key| self.lookup_request_by(msg, &key))
    }

    /// [`Table::lookup_request`] with the request's key already built.
    pub(crate) fn lookup_request_by(&self, msg: &Message, key: &MatchKey<&[u8]>) -> RequestMatch {
        let method = msg.method();
        let bucket = self.bucket(call_hash(key.call_id, key.cseq_number));
        for txn in bucket.iter() {
            if method == Method::Ack {
                if !txn.is_invite() {
                    continue;
                }
                let matched = if key.rfc3261 && txn.key.rfc3261 {
                    same_branch(key, &txn.key)
                } else {
                    ack_matches_2543(key, txn)
                };
                if !matched {
                    continue;
                }
                // The ACK of a proxied 2xx is end to end: it belongs to no transaction.
                let state = txn.state();
                let negative = state.uas.status >= 300;
                let local_2xx = state.uas.local_final && state.uas.status >= 200;
                drop(state);
                if negative || (local_2xx && local_tag_matches(msg, txn)) {
                    return RequestMatch::Ack(txn.clone());
                }
                continue;
            }
            if !same_method(msg, txn) {
                continue;
            }
            let matched =
                if key.rfc3261 && txn.key.rfc3261 { same_branch(key, &txn.key) } else { same_2543(key, &txn.key) };
            if matched {
                return RequestMatch::Retransmission(txn.clone());
            }
        }
        RequestMatch::None
    }

    /// The INVITE transaction a CANCEL cancels (t_lookupOriginalT).
    pub(crate) fn lookup_invite_of_cancel(&self, msg: &Message) -> Option<Arc<Transaction>> {
        let key = MatchKey::of(msg)?;
        let bucket = self.bucket(call_hash(key.call_id, key.cseq_number));
        bucket
            .iter()
            .find(|txn| {
                txn.method != Method::Cancel
                    && if key.rfc3261 && txn.key.rfc3261 {
                        same_branch(&key, &txn.key)
                    } else {
                        key.call_id == txn.key.call_id
                            && key.cseq_number == txn.key.cseq_number
                            && key.from == txn.key.from
                            && key.to_uri == txn.key.to_uri
                            && key.ruri == txn.key.ruri
                            && key.via1 == txn.key.via1
                    }
            })
            .cloned()
    }

    /// The transaction and branch a reply belongs to, from the branch we put in our Via.
    /// `cancel` is true for the reply to a CANCEL we sent on that branch.
    pub(crate) fn lookup_reply(&self, msg: &Message) -> Option<(Arc<Transaction>, usize, bool)> {
        let via = msg.top_via().ok()?;
        let (hash, md5, index) = parse_branch(via.branch()?)?;
        let cseq = msg.cseq().ok()?;
        let method = cseq.method();
        let bucket = self.bucket(hash);
        for txn in bucket.iter() {
            if txn.hash != hash || txn.md5 != md5 {
                continue;
            }
            let same_method = if method == Method::Other {
                cseq.method_text().eq_ignore_ascii_case(&txn.method_text)
            } else {
                method == txn.method
            };
            let local_cancel = method == Method::Cancel && txn.is_invite();
            if !same_method && !local_cancel {
                continue;
            }
            let branches = txn.state().branches.len();
            if (index as usize) < branches {
                return Some((txn.clone(), index as usize, local_cancel && !same_method));
            }
        }
        None
    }
}

fn same_method(msg: &Message, txn: &Transaction) -> bool {
    let method = msg.method();
    if method == Method::Other { msg.method_text() == &txn.method_text[..] } else { method == txn.method }
}

/// RFC 3261 17.2.3: branch, sent-by and transport.
fn same_branch(a: &MatchKey<&[u8]>, b: &MatchKey) -> bool {
    a.branch == b.branch
        && a.via_host.eq_ignore_ascii_case(&b.via_host)
        && default_port(a) == default_port(b)
        && a.via_transport == b.via_transport
}

fn default_port<B>(key: &MatchKey<B>) -> u16 {
    match key.via_port {
        0 if key.via_transport == crate::sip::Transport::Tls => 5061,
        0 => 5060,
        port => port,
    }
}

/// RFC 2543 matching of a non-ACK request.
fn same_2543(a: &MatchKey<&[u8]>, b: &MatchKey) -> bool {
    a.call_id == b.call_id
        && a.cseq_number == b.cseq_number
        && a.from == b.from
        && a.to == b.to
        && a.ruri == b.ruri
        && a.via1 == b.via1
}

/// RFC 2543 matching of an ACK to an INVITE transaction.
fn ack_matches_2543(key: &MatchKey<&[u8]>, txn: &Transaction) -> bool {
    let t = &txn.key;
    if key.call_id != t.call_id || key.cseq_number != t.cseq_number || key.to_uri != t.to_uri {
        return false;
    }
    let status = txn.state().uas.status;
    if status >= 300 {
        key.from == t.from && key.ruri == t.ruri && key.via1 == t.via1
    } else {
        key.from_tag == t.from_tag
    }
}

/// An ACK of our own 2xx carries the To-tag we generated.
fn local_tag_matches(msg: &Message, txn: &Transaction) -> bool {
    let tag = msg.to().ok().and_then(|t| t.tag()).unwrap_or_default();
    txn.state().uas.local_to_tag.as_ref().is_some_and(|ours| &ours[..] == tag)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;

    use super::*;
    use crate::core::branch::{branch_value, request_digest, request_hash};
    use crate::server::Received;
    use crate::sip::Transport;
    use crate::transport::Destination;

    fn msg(text: &str) -> Message {
        Message::parse(Bytes::from(text.replace('\n', "\r\n"))).expect("parses")
    }

    fn invite(branch: &str, via_port: &str) -> Message {
        msg(&format!(
            "INVITE sip:b@10.0.0.2 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.9{via_port};branch={branch}\nFrom: <sip:a@x>;tag=f\nTo: <sip:b@y>\nCall-ID: call\nCSeq: 1 INVITE\n\n"
        ))
    }

    fn table_with(request: &Message) -> (Table, Arc<Transaction>) {
        let table = Table::new(10);
        table.reserve().expect("room");
        let addr = "10.0.0.9:5060".parse().expect("address");
        let received = Received { src: addr, local: addr, proto: Transport::Udp, conn: None };
        let dest = Destination { addr, proto: Transport::Udp, conn: None };
        let txn = Arc::new(Transaction::new(
            table.next_id(),
            request_hash(request),
            request_digest(request),
            request,
            MatchKey::of(request).expect("key").to_shared(request),
            received,
            dest,
            (Duration::from_secs(30), Duration::from_secs(120)),
        ));
        table.insert(txn.clone());
        (table, txn)
    }

    #[test]
    fn rfc3261_retransmissions_match_by_branch_and_sent_by() {
        let (table, txn) = table_with(&invite("z9hG4bKaaa", ""));
        assert!(
            matches!(table.lookup_request(&invite("z9hG4bKaaa", "")), RequestMatch::Retransmission(t) if t.id == txn.id)
        );
        // An explicit 5060 is the default port.
        assert!(matches!(table.lookup_request(&invite("z9hG4bKaaa", ":5060")), RequestMatch::Retransmission(_)));
        assert!(matches!(table.lookup_request(&invite("z9hG4bKbbb", "")), RequestMatch::None));
        assert!(matches!(table.lookup_request(&invite("z9hG4bKaaa", ":5070")), RequestMatch::None));
    }

    #[test]
    fn an_ack_matches_only_after_a_negative_final() {
        let (table, txn) = table_with(&invite("z9hG4bKaaa", ""));
        let ack = msg(
            "ACK sip:b@10.0.0.2 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKaaa\nFrom: <sip:a@x>;tag=f\nTo: <sip:b@y>;tag=u\nCall-ID: call\nCSeq: 1 ACK\n\n",
        );
        txn.state().uas.status = 200;
        assert!(matches!(table.lookup_request(&ack), RequestMatch::None), "a proxied 2xx's ACK is end to end");
        txn.state().uas.status = 486;
        assert!(matches!(table.lookup_request(&ack), RequestMatch::Ack(_)));
    }

    #[test]
    fn rfc2543_requests_match_on_the_whole_key() {
        let (table, _) = table_with(&invite("old-style", ""));
        assert!(matches!(table.lookup_request(&invite("old-style", "")), RequestMatch::Retransmission(_)));
        let other_to = msg(
            "INVITE sip:b@10.0.0.2 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.9;branch=old-style\nFrom: <sip:a@x>;tag=f\nTo: <sip:c@y>\nCall-ID: call\nCSeq: 1 INVITE\n\n",
        );
        assert!(matches!(table.lookup_request(&other_to), RequestMatch::None));
    }

    #[test]
    fn a_cancel_finds_its_invite_and_replies_find_their_branch() {
        let request = invite("z9hG4bKaaa", "");
        let (table, txn) = table_with(&request);
        let cancel = msg(
            "CANCEL sip:b@10.0.0.2 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKaaa\nFrom: <sip:a@x>;tag=f\nTo: <sip:b@y>\nCall-ID: call\nCSeq: 1 CANCEL\n\n",
        );
        assert_eq!(table.lookup_invite_of_cancel(&cancel).map(|t| t.id), Some(txn.id));

        let branch = String::from_utf8(branch_value(txn.hash, &txn.md5, 0)).expect("ascii");
        let reply = |method: &str| {
            msg(&format!(
                "SIP/2.0 180 Ringing\nVia: SIP/2.0/UDP 10.0.0.1;branch={branch}\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKaaa\nFrom: <sip:a@x>;tag=f\nTo: <sip:b@y>;tag=u\nCall-ID: call\nCSeq: 1 {method}\n\n"
            ))
        };
        assert!(table.lookup_reply(&reply("INVITE")).is_none(), "no branch sent yet");
        let dest = txn.state().uas.dest;
        txn.state().branches.push(super::super::transaction::Branch {
            dest,
            request: Bytes::new(),
            last_code: 0,
            final_reply: None,
            final_code: 0,
            timed_out: false,
            retransmit_generation: 0,
            retransmit_interval: Duration::from_millis(500),
            fr_generation: 0,
            cancel: super::super::transaction::Cancel::None,
            cancel_generation: 0,
            cancel_interval: Duration::from_millis(500),
            cancel_sent_at: None,
        });
        let (found, index, cancel_reply) = table.lookup_reply(&reply("INVITE")).expect("matched");
        assert_eq!((found.id, index, cancel_reply), (txn.id, 0, false));
        assert!(table.lookup_reply(&reply("CANCEL")).is_some_and(|(_, _, c)| c), "our CANCEL's reply");
        assert!(table.lookup_reply(&reply("BYE")).is_none());
        assert!(table.remove(&txn));
        assert_eq!(table.len(), 0);
    }

    #[test]
    fn a_timer_finds_its_transaction_by_id_and_keeps_it_alive_only_while_in_the_table() {
        let (table, txn) = table_with(&invite("z9hG4bKaaa", ""));
        let timers = super::super::timer::Timers::new();
        timers.schedule(Duration::from_secs(180), &txn, super::super::timer::Event::Lifetime);
        // The pending entry holds no reference: deleting frees the transaction at once.
        assert_eq!((Arc::strong_count(&txn), Arc::weak_count(&txn)), (2, 0));
        assert!(table.get(txn.hash, txn.id).is_some_and(|t| Arc::ptr_eq(&t, &txn)));
        assert!(table.get(txn.hash, txn.id + 1).is_none());
        assert!(table.remove(&txn));
        assert!(table.get(txn.hash, txn.id).is_none());
        assert_eq!(Arc::strong_count(&txn), 1);
        assert_eq!(timers.pending(), 1);
    }

    #[test]
    fn the_table_refuses_beyond_its_capacity() {
        let table = Table::new(2);
        assert!(table.reserve().is_ok() && table.reserve().is_ok());
        assert_eq!(table.reserve(), Err(Full));
    }

    #[test]
    fn the_table_of_a_proxy_without_tm_has_one_bucket_and_no_room() {
        let table = Table::unused();
        assert_eq!(table.buckets.len(), 1);
        assert_eq!(table.reserve(), Err(Full));
    }
}
