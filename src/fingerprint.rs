//! A small, stable hash (FNV-1a, 64 bits) for entity tags, spec hashes and
//! seed mixing: the same bytes give the same value on every build and platform,
//! which std's hasher does not promise.

/// The FNV-1a hash of `bytes`, continuing from `start` (use [`START`] to begin).
pub fn fnv1a(start: u64, bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(start, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The FNV-1a offset basis.
pub const START: u64 = 0xcbf2_9ce4_8422_2325;

/// The hash of `bytes` as 16 hex digits.
pub fn hex(bytes: &[u8]) -> String {
    format!("{:016x}", fnv1a(START, bytes.iter().copied()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_values() {
        assert_eq!(fnv1a(START, *b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(START, *b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
