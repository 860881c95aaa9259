//! Script values and Kamailio's operators on them (cfg-language.md §5.4).
//!
//! A value is an integer, a string or null (an unset pseudo-variable). Operators convert the
//! way Kamailio's `rvalue.c` does: `==`/`!=`/`+` follow the runtime type of the left side,
//! `< > <= >=`, arithmetic, bitwise and logical operators work on integers, and a string
//! becomes an integer by reading it as a (signed, or 0x-hex) number, 0 otherwise.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

#[derive(Clone, Default, PartialEq, Eq)]
pub enum Value {
    #[default]
    Null,
    Int(i64),
    Str(Bytes),
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("$null"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Str(s) => write!(f, "{:?}", String::from_utf8_lossy(s)),
        }
    }
}

impl Value {
    pub const fn str(bytes: &'static [u8]) -> Value {
        Value::Str(Bytes::from_static(bytes))
    }

    pub fn from_slice(bytes: &[u8]) -> Value {
        Value::Str(Bytes::copy_from_slice(bytes))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Kamailio's string-to-integer conversion: `""` → 0, decimal (signed) → value, `0x..` →
    /// hex, anything else 0.
    pub fn to_int(&self) -> i64 {
        match self {
            Value::Null => 0,
            Value::Int(n) => *n,
            Value::Str(s) => str_to_int(s),
        }
    }

    /// The value as text (integers in decimal, null empty).
    pub fn write_to(&self, out: &mut BytesMut) {
        match self {
            Value::Null => {}
            Value::Int(n) => out.put_slice(itoa::Buffer::new().format(*n).as_bytes()),
            Value::Str(s) => out.put_slice(s),
        }
    }

    pub fn to_bytes(&self) -> Bytes {
        match self {
            Value::Null => Bytes::new(),
            Value::Int(n) => Bytes::copy_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
            Value::Str(s) => s.clone(),
        }
    }

    /// Truth in `if`/`while`: the integer value is greater than 0.
    pub fn truthy(&self) -> bool {
        self.to_int() > 0
    }
}

pub(crate) fn str_to_int(s: &[u8]) -> i64 {
    let text = s.trim_ascii();
    if text.is_empty() {
        return 0;
    }
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let parsed = if let Some(hex) = digits.strip_prefix(b"0x").or_else(|| digits.strip_prefix(b"0X")) {
        std::str::from_utf8(hex).ok().and_then(|h| i64::from_str_radix(h, 16).ok())
    } else {
        std::str::from_utf8(digits).ok().and_then(|d| d.parse::<i64>().ok())
    };
    match parsed {
        Some(n) if negative => -n,
        Some(n) => n,
        None => 0,
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Int(n)
    }
}

impl From<Bytes> for Value {
    fn from(s: Bytes) -> Value {
        Value::Str(s)
    }
}

/// Kamailio's operators.
pub mod ops {
    use super::*;

    /// `==`: the left side's runtime type decides (int → integer compare, string → byte
    /// compare, null → the right side's type).
    pub fn eq(left: &Value, right: &Value) -> bool {
        match (left, right) {
            (Value::Null, Value::Null) => true,
            (Value::Int(a), r) => *a == r.to_int(),
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Str(a), r) => a[..] == r.to_bytes()[..],
            (Value::Null, Value::Int(b)) => *b == 0,
            (Value::Null, Value::Str(b)) => b.is_empty(),
        }
    }

    /// `eq`: string compare.
    pub fn str_eq(left: &Value, right: &Value) -> bool {
        left.to_bytes() == right.to_bytes()
    }

    /// `ieq`: integer compare.
    pub fn int_eq(left: &Value, right: &Value) -> bool {
        left.to_int() == right.to_int()
    }

    /// `+`: a left integer adds; a left string (or null) concatenates.
    pub fn add(left: &Value, right: &Value) -> Value {
        match left {
            Value::Int(a) => Value::Int(a.wrapping_add(right.to_int())),
            _ => {
                let mut out = BytesMut::new();
                left.write_to(&mut out);
                right.write_to(&mut out);
                Value::Str(out.freeze())
            }
        }
    }

    /// `/` and `mod` by zero are evaluation errors in Kamailio; the value is null (false,
    /// 0 as an integer) and a warning is logged.
    pub fn div(left: i64, right: i64) -> Value {
        match left.checked_div(right) {
            Some(n) => Value::Int(n),
            None => {
                tracing::warn!("division by zero in the routing script");
                Value::Null
            }
        }
    }

    pub fn rem(left: i64, right: i64) -> Value {
        match left.checked_rem(right) {
            Some(n) => Value::Int(n),
            None => {
                tracing::warn!("modulo by zero in the routing script");
                Value::Null
            }
        }
    }

    /// `strlen(e)`.
    pub fn strlen(value: &Value) -> i64 {
        value.to_bytes().len() as i64
    }

    /// `strempty(e)`.
    pub fn strempty(value: &Value) -> bool {
        value.to_bytes().is_empty()
    }

    /// `(str)e`.
    pub fn to_str(value: &Value) -> Value {
        Value::Str(value.to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::ops::*;
    use super::*;

    #[test]
    fn conversions_as_kamailio() {
        assert_eq!(Value::str(b"").to_int(), 0);
        assert_eq!(Value::str(b"-12").to_int(), -12);
        assert_eq!(Value::str(b"0x1f").to_int(), 31);
        assert_eq!(Value::str(b"abc").to_int(), 0);
        assert_eq!(Value::Null.to_int(), 0);
    }

    #[test]
    fn equality_follows_the_left_type() {
        // $var(a)="010": == 10 false, ieq 10 true; $var(b)=10: == "010" true.
        let a = Value::str(b"010");
        assert!(!eq(&a, &Value::Int(10)));
        assert!(int_eq(&a, &Value::Int(10)));
        assert!(eq(&Value::Int(10), &Value::str(b"010")));
        assert!(eq(&Value::Null, &Value::Int(0)));
    }

    #[test]
    fn plus_adds_or_concatenates() {
        assert_eq!(add(&Value::Int(5), &Value::str(b"x")), Value::Int(5));
        assert_eq!(add(&Value::str(b"a"), &Value::Int(1)), Value::str(b"a1"));
        assert_eq!(add(&Value::Null, &Value::Int(1)), Value::str(b"1"));
    }

    #[test]
    fn truth_is_greater_than_zero() {
        assert!(!Value::Int(-5).truthy());
        assert!(!Value::str(b"yes").truthy());
        assert!(Value::str(b"3").truthy());
        assert_eq!(div(1, 0), Value::Null);
        assert_eq!(rem(7, 2), Value::Int(1));
    }
}
