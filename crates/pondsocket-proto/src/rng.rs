//! The core's randomness: request ids (UUID v4) and reconnect jitter, from a seed the shell supplies.
//!
//! The core reads no entropy itself, so a test seeds it and gets the same ids and delays every run.
//! The generator is xoshiro256** (Blackman and Vigna), seeded through SplitMix64.

pub(crate) struct Rng {
    state: [u64; 4],
}

impl Rng {
    /// A generator seeded from 32 bytes (the shell passes `crypto.getRandomValues` output).
    pub(crate) fn from_seed(seed: [u8; 32]) -> Self {
        let mut mix = 0u64;
        let mut state = [0u64; 4];
        for (i, word) in state.iter_mut().enumerate() {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&seed[i * 8..i * 8 + 8]);
            mix ^= u64::from_le_bytes(bytes);
            *word = splitmix64(&mut mix);
        }
        Rng { state }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let [s0, s1, s2, s3] = &mut self.state;
        let result = s1.wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = *s1 << 17;
        *s2 ^= *s0;
        *s3 ^= *s1;
        *s1 ^= *s2;
        *s0 ^= *s3;
        *s2 ^= t;
        *s3 = s3.rotate_left(45);
        result
    }

    /// A uniformly drawn integer in `0..=max`.
    pub(crate) fn up_to(&mut self, max: u64) -> u64 {
        if max == u64::MAX {
            return self.next_u64();
        }
        // Multiply-shift is biased by at most max/2^64, far below anything a delay could show.
        ((u128::from(self.next_u64()) * u128::from(max + 1)) >> 64) as u64
    }

    /// A random UUID v4 in its 36-character text form.
    pub(crate) fn uuid_v4(&mut self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [b'-'; 36];
        let mut at = 0;
        for (i, byte) in bytes.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                at += 1;
            }
            out[at] = HEX[usize::from(byte >> 4)];
            out[at + 1] = HEX[usize::from(byte & 0xf)];
            at += 2;
        }
        // Hex digits and dashes only: always UTF-8.
        String::from_utf8(out.to_vec()).unwrap_or_default()
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_have_version_and_variant_bits() {
        let mut rng = Rng::from_seed([7; 32]);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let id = rng.uuid_v4();
            assert_eq!(id.len(), 36);
            assert_eq!(&id[14..15], "4");
            assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
            assert!(seen.insert(id));
        }
    }

    #[test]
    fn up_to_stays_in_range_and_reaches_both_ends() {
        let mut rng = Rng::from_seed([1; 32]);
        let draws: Vec<u64> = (0..2000).map(|_| rng.up_to(3)).collect();
        assert!(draws.iter().all(|&d| d <= 3));
        assert!(draws.contains(&0) && draws.contains(&3));
    }
}
