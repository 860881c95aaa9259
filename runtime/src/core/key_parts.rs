//! Hashing the short parts of a request's key (tags, Call-ID, Via fields) as one string.
//! Joined on the stack, they go to the hash in one call: each per-part update costs more
//! than the few bytes it hashes.

/// `whole` of the parts joined, or `each` of the parts when they are longer than `MAX`
/// bytes together. Both must compute the same hash. `MAX` is the caller's: the buffer is
/// zeroed on every call, so it is kept as short as the caller's keys allow.
pub(crate) fn hash_joined<const MAX: usize, R>(
    parts: &[&[u8]],
    whole: impl FnOnce(&[u8]) -> R,
    each: impl FnOnce(&[&[u8]]) -> R,
) -> R {
    let mut joined = [0u8; MAX];
    let mut len = 0;
    for part in parts {
        let Some(slot) = joined.get_mut(len..len + part.len()) else {
            return each(parts);
        };
        slot.copy_from_slice(part);
        len += part.len();
    }
    whole(&joined[..len])
}
