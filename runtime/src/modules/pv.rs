//! pv: pseudo-variables (modules.md §6). `$var` and `$shv` are fields of the generated
//! per-worker and shared structs; the message PVs are these getters and setters.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};

use crate::context::{Ctx, RequestSide, RouteKind};
use crate::sip::{HeaderName, Transport, Uri};
use crate::value::Value;

/// A `$shv` variable: one value for the whole instance; each read or write is atomic by
/// itself (a read-modify-write needs `lock()`).
#[derive(Debug, Default)]
pub struct SharedVar(Mutex<Value>);

impl SharedVar {
    pub fn new(value: Value) -> Self {
        SharedVar(Mutex::new(value))
    }

    pub fn get(&self) -> Value {
        match self.0.lock() {
            Ok(v) => v.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn set(&self, value: Value) {
        match self.0.lock() {
            Ok(mut v) => *v = value,
            Err(poisoned) => *poisoned.into_inner() = value,
        }
    }
}

/// Assigning `$null` to a `$var` gives 0 (modules.md §6).
pub fn var_value(value: Value) -> Value {
    if value.is_null() { Value::Int(0) } else { value }
}

/// A value in a format string (xlog, append_hf...): unset variables print as `<null>`, as
/// in Kamailio.
pub fn print(out: &mut BytesMut, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"<null>"),
        other => other.write_to(out),
    }
}

fn slice<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>, bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    // A slice of the receive buffer is shared, not copied.
    let buf = cx.msg.buffer();
    let start = bytes.as_ptr() as usize;
    let base = buf.as_ptr() as usize;
    if start >= base && start + bytes.len() <= base + buf.len() {
        Value::Str(buf.slice(start - base..start - base + bytes.len()))
    } else {
        Value::from_slice(bytes)
    }
}

/// `$ru`: the current R-URI.
pub fn ru<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    match &cx.env.new_uri {
        Some(uri) => Value::Str(uri.clone()),
        None => slice(cx, cx.current_uri()),
    }
}

fn ruri_part<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>, part: impl Fn(&Uri<'_>) -> Option<Vec<u8>>) -> Value {
    match cx.current_uri_parsed().ok().and_then(|u| part(&u)) {
        Some(bytes) if !bytes.is_empty() => Value::Str(Bytes::from(bytes)),
        _ => Value::Null,
    }
}

/// `$rU`: R-URI user.
pub fn r_user<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    ruri_part(cx, |u| u.user().map(<[u8]>::to_vec))
}

/// `$rd`: R-URI host.
pub fn r_domain<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    ruri_part(cx, |u| Some(u.host().to_vec()))
}

/// `$rp`: R-URI port (5060 when absent, as Kamailio).
pub fn r_port<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    match cx.current_uri_parsed() {
        Ok(u) => Value::Int(i64::from(u.port().unwrap_or(5060))),
        Err(_) => Value::Null,
    }
}

/// `$du`.
pub fn du<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    cx.env.dst_uri.clone().map(Value::Str).unwrap_or(Value::Null)
}

/// `$ru = value`.
pub fn set_ru<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, value: &Value) -> i32 {
    match value {
        Value::Str(s) if Uri::parse(s).is_ok() => {
            cx.env.new_uri = Some(s.clone());
            1
        }
        _ => {
            tracing::warn!("assigning {value:?} to $ru: not a URI");
            -1
        }
    }
}

/// `$rU = value` (`$null` removes the user).
pub fn set_r_user<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, value: &Value) -> i32 {
    crate::core::uri::rewrite_user(cx, &value.to_bytes())
}

/// `$rd = value`.
pub fn set_r_domain<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, value: &Value) -> i32 {
    crate::core::uri::rewrite_host(cx, &value.to_bytes())
}

/// `$rp = value`.
pub fn set_r_port<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, value: &Value) -> i32 {
    crate::core::uri::rewrite_port(cx, &value.to_bytes())
}

/// `$du = value`; `$du = $null` clears it.
pub fn set_du<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, value: &Value) -> i32 {
    match value {
        Value::Null => {
            cx.env.dst_uri = None;
            1
        }
        Value::Str(s) if Uri::parse(s).is_ok() => {
            cx.env.dst_uri = Some(s.clone());
            1
        }
        _ => {
            tracing::warn!("assigning {value:?} to $du: not a URI");
            -1
        }
    }
}

fn from_to<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>, to: bool, part: u8) -> Value {
    let header = if to { cx.msg.to() } else { cx.msg.from() };
    let Ok(addr) = header else { return Value::Null };
    match part {
        b'u' => slice(cx, addr.uri_bytes()),
        b'n' => addr.display_name().map(|d| slice(cx, d.trim_ascii())).unwrap_or(Value::Null),
        b't' => addr.tag().map(|t| slice(cx, t)).unwrap_or(Value::Null),
        b'U' => addr.uri().ok().and_then(|u| u.user()).map(|u| slice(cx, u)).unwrap_or(Value::Null),
        b'd' => addr.uri().ok().map(|u| slice(cx, u.host())).unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// `$fu $fU $fd $fn $ft`.
pub fn from<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>, part: u8) -> Value {
    from_to(cx, false, part)
}

/// `$tu $tU $td $tn $tt`.
pub fn to<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>, part: u8) -> Value {
    from_to(cx, true, part)
}

/// `$ci`.
pub fn call_id<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    cx.msg.call_id().map(|c| slice(cx, c)).unwrap_or(Value::Null)
}

/// `$cs`: CSeq number.
pub fn cseq<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    cx.msg.cseq().map(|c| Value::Int(i64::from(c.number()))).unwrap_or(Value::Null)
}

/// `$rm`: the method (the CSeq method for replies).
pub fn method<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    slice(cx, cx.msg.method_text())
}

/// `$rs`: reply status.
pub fn status<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    cx.msg.status().map(|c| Value::Int(i64::from(c))).unwrap_or(Value::Null)
}

/// `$rr`: reply reason.
pub fn reason<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    cx.msg.reason().map(|r| slice(cx, r)).unwrap_or(Value::Null)
}

/// `$si`.
pub fn src_ip<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    Value::Str(Bytes::from(cx.env.src.ip().to_string()))
}

/// `$sp`.
pub fn src_port<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    Value::Int(i64::from(cx.env.src.port()))
}

/// `$Ri`.
pub fn local_ip<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    Value::Str(Bytes::from(cx.env.local.ip().to_string()))
}

/// `$Rp`.
pub fn local_port<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    Value::Int(i64::from(cx.env.local.port()))
}

/// `$pr` / `$proto`: `udp`, `tcp`...
pub fn proto<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    Value::str(match cx.env.proto {
        Transport::Udp => b"udp",
        Transport::Tcp => b"tcp",
        Transport::Tls => b"tls",
        Transport::Sctp => b"sctp",
        Transport::Ws => b"ws",
        Transport::Wss => b"wss",
        Transport::Other => b"other",
    })
}

/// `$hdr(Name)`: the first such header's value.
pub fn header<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>, name: &[u8]) -> Value {
    cx.msg.header_by_name(name).map(|h| slice(cx, cx.msg.get(h.value))).unwrap_or(Value::Null)
}

/// `$hdrc(Name)`: how many such headers.
pub fn header_count<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>, name: &[u8]) -> Value {
    let wanted = HeaderName::from_bytes(name);
    let count = cx
        .msg
        .headers()
        .iter()
        .filter(|h| {
            h.name == wanted && (wanted != HeaderName::Other || cx.msg.get(h.name_text).eq_ignore_ascii_case(name))
        })
        .count();
    Value::Int(count as i64)
}

/// `$ua`: User-Agent.
pub fn user_agent<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    header(cx, b"User-Agent")
}

/// `$ml`: message length.
pub fn msg_len<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    Value::Int(cx.msg.as_bytes().len() as i64)
}

/// `$mb`: the whole message.
pub fn msg_buf<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    Value::Str(cx.msg.buffer().clone())
}

/// `$rb`: the body.
pub fn body<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    slice(cx, cx.msg.body())
}

/// `$cl`: Content-Length.
pub fn content_length<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    cx.msg.content_length().map(|n| Value::Int(i64::from(n))).unwrap_or(Value::Null)
}

/// `$ct`: the Contact header value.
pub fn contact<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    cx.msg.header(HeaderName::Contact).map(|h| slice(cx, cx.msg.get(h.value))).unwrap_or(Value::Null)
}

/// `$cT`: the Content-Type header value.
pub fn content_type<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    cx.msg.header(HeaderName::ContentType).map(|h| slice(cx, cx.msg.get(h.value))).unwrap_or(Value::Null)
}

/// `$mf`: message flags.
pub fn flags<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    Value::Int(cx.env.flags as i64)
}

/// `$rc` / `$retcode` / `$?`.
pub fn rc<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    Value::Int(i64::from(cx.env.rc))
}

/// `$br`: the first branch's URI.
pub fn branch<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Value {
    cx.env.branches.first().map(|b| Value::Str(b.uri.clone())).unwrap_or(Value::Null)
}

/// `$Ts`: Unix time in seconds.
pub fn unix_time() -> Value {
    Value::Int(SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0))
}

/// `$env(NAME)`.
pub fn env_var(name: &str) -> Value {
    std::env::var(name).map(|v| Value::Str(Bytes::from(v))).unwrap_or(Value::Null)
}
