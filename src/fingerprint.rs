//! Small, stable hashes: FNV-1a (64 bits) for spec hashes, index names and
//! seed mixing, and a faster word-at-a-time [`digest`] for the entity tags of
//! response bodies. The same bytes give the same value on every build and
//! platform, which std's hasher does not promise.

/// The FNV-1a hash of `bytes`, continuing from `start` (use [`START`] to begin).
pub fn fnv1a(start: u64, bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(start, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The FNV-1a offset basis.
pub const START: u64 = 0xcbf2_9ce4_8422_2325;

/// A hash of `bytes` for entity tags, 32 bytes at a time in four
/// independent lanes (which the processor runs side by side): a body of a
/// few kilobytes hashes in a fraction of FNV-1a's time.
pub fn digest(bytes: &[u8]) -> u64 {
    const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |hash: u64, word: &[u8]| {
        let word = u64::from_le_bytes(std::array::from_fn(|index| word[index]));
        (hash ^ word).wrapping_mul(MULTIPLIER).rotate_left(31)
    };
    let mut blocks = bytes.chunks_exact(32);
    let start = START ^ bytes.len() as u64;
    let mut lanes = [
        start,
        start.rotate_left(16),
        start.rotate_left(32),
        start.rotate_left(48),
    ];
    for block in &mut blocks {
        for (lane, word) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            *lane = mix(*lane, word);
        }
    }
    let mut hash = lanes
        .iter()
        .fold(start, |hash, lane| mix(hash, &lane.to_le_bytes()));
    let mut words = blocks.remainder().chunks_exact(8);
    hash = (&mut words).fold(hash, mix);
    hash = fnv1a(hash, words.remainder().iter().copied());
    // MurmurHash3's finaliser: every input bit reaches every output bit.
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^ (hash >> 33)
}

/// The hash of `bytes` as 16 hex digits.
pub fn hex(bytes: &[u8]) -> String {
    format!("{:016x}", fnv1a(START, bytes.iter().copied()))
}

/// The [`digest`] of `bytes` as 16 hex digits: how a file's text is told
/// from another's (a spec's, a db.json's of megabytes, hashed at every write back).
pub fn text_hex(bytes: &[u8]) -> String {
    format!("{:016x}", digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_values() {
        assert_eq!(fnv1a(START, *b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(START, *b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn digest_tells_apart_bodies_that_differ_anywhere() {
        let body = br#"[{"id":1,"title":"Dune","year":1965},{"id":2,"title":"Emma"}]"#.to_vec();
        let original = digest(&body);
        assert_eq!(digest(&body), original, "stable");
        for position in 0..body.len() {
            let mut changed = body.clone();
            changed[position] ^= 0x01;
            assert_ne!(digest(&changed), original, "byte {position}");
        }
        assert_ne!(digest(&body[..body.len() - 1]), original, "length");
        assert_ne!(digest(b""), digest(b"\0"));
    }

    #[test]
    fn digest_tells_apart_bodies_whose_words_trade_places() {
        let body: Vec<u8> = (0..256_u32).map(|at| (at * 7 % 251) as u8).collect();
        let original = digest(&body);
        for (first, second) in [(0, 8), (0, 32), (8, 48), (200, 240)] {
            let mut traded = body.clone();
            for at in 0..8 {
                traded.swap(first + at, second + at);
            }
            assert_ne!(digest(&traded), original, "words at {first} and {second}");
        }
    }
}
