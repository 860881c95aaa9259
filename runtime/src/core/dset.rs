//! The destination set: `append_branch`, `remove_branch`, `clear_branches`, and its rendering
//! as 3xx Contacts (sip-behaviour.md §3.5).

use bytes::{BufMut, Bytes, BytesMut};

use super::ActionError;
use crate::context::{Branch, Ctx, RequestSide};

/// Kamailio's `max_branches`.
pub const MAX_BRANCHES: usize = 12;

/// `append_branch()`: the current R-URI (and `$du`) becomes a branch; `$du` is reset.
pub fn append_current<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>) -> i32 {
    let uri = Bytes::copy_from_slice(cx.current_uri());
    let dst_uri = cx.env.dst_uri.take();
    push(cx, Branch { uri, dst_uri, q: None })
}

/// `append_branch("uri"[, "q"])`: adds that URI; the R-URI stays.
pub fn append_uri<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, uri: &[u8], q: Option<&[u8]>) -> i32 {
    let q = q.and_then(parse_q);
    push(cx, Branch { uri: Bytes::copy_from_slice(uri), dst_uri: None, q })
}

fn push<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, branch: Branch) -> i32 {
    if cx.env.branches.len() >= MAX_BRANCHES {
        cx.env.last_error = Some(ActionError::TooManyBranches);
        return -1;
    }
    cx.env.branches.push(branch);
    1
}

/// `remove_branch(i)`.
pub fn remove<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, index: i64) -> i32 {
    match usize::try_from(index) {
        Ok(i) if i < cx.env.branches.len() => {
            cx.env.branches.remove(i);
            1
        }
        _ => -1,
    }
}

/// `clear_branches()`.
pub fn clear<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>) -> i32 {
    cx.env.branches.clear();
    1
}

/// `"0.5"` → 500 (thousandths), `"1"` → 1000.
pub fn parse_q(text: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(text).ok()?.trim();
    let value: f64 = text.parse().ok()?;
    (0.0..=1.0).contains(&value).then(|| (value * 1000.0).round() as u16)
}

fn push_q(out: &mut BytesMut, q: u16) {
    out.put_slice(b";q=");
    match q {
        1000 => out.put_u8(b'1'),
        0 => out.put_u8(b'0'),
        q => {
            let digits = format!("{q:03}");
            out.put_slice(b"0.");
            out.put_slice(digits.trim_end_matches('0').as_bytes());
        }
    }
}

/// `Contact: <R-URI>[;q=..], <branch>...\r\n` for a 3xx reply, or `None` when the set is
/// empty. The R-URI is listed only if it was rewritten.
pub fn contact_header(new_uri: Option<&Bytes>, branches: &[Branch]) -> Option<Bytes> {
    let uris = new_uri.map(|u| (u, None)).into_iter().chain(branches.iter().map(|b| (&b.uri, b.q)));
    let mut out = BytesMut::new();
    for (i, (uri, q)) in uris.enumerate() {
        out.put_slice(if i == 0 { b"Contact: <" } else { b", <" });
        out.put_slice(uri);
        out.put_u8(b'>');
        if let Some(q) = q {
            push_q(&mut out, q);
        }
    }
    if out.is_empty() {
        return None;
    }
    out.put_slice(b"\r\n");
    Some(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_from_the_destination_set() {
        let branches = [
            Branch { uri: Bytes::from_static(b"sip:bob@10.0.0.2"), dst_uri: None, q: Some(500) },
            Branch { uri: Bytes::from_static(b"sip:bob@10.0.0.3"), dst_uri: None, q: Some(125) },
        ];
        let header = contact_header(Some(&Bytes::from_static(b"sip:bob@10.0.0.1")), &branches).expect("some");
        assert_eq!(
            &header[..],
            b"Contact: <sip:bob@10.0.0.1>, <sip:bob@10.0.0.2>;q=0.5, <sip:bob@10.0.0.3>;q=0.125\r\n"
        );
        assert_eq!(contact_header(None, &[]), None);
        assert_eq!(parse_q(b"1"), Some(1000));
        assert_eq!(parse_q(b"0.25"), Some(250));
        assert_eq!(parse_q(b"2"), None);
    }
}
