//! The hash map the client keeps its own things in (channel names, request ids, listener and request handles).
//!
//! std's SipHash resists keys chosen to collide, which these maps do not need: a server can only look keys up, not
//! add them, so colliding lookups slow down only its own messages. Hashing a name or a request id with SipHash was a
//! visible part of routing a message, and its code a visible part of the wasm; this is the multiply-rotate hash of
//! rustc's `FxHasher`, eight bytes at a time.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` with [`FastHasher`].
pub type Map<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// A fast, non-cryptographic hasher for keys the client chooses.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_every_length_are_told_apart() {
        let mut map: Map<String, usize> = Map::default();
        let keys: Vec<String> = (0..2000).map(|i| "k".repeat(i % 40) + &i.to_string()).collect();
        for (i, key) in keys.iter().enumerate() {
            map.insert(key.clone(), i);
        }
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(map.get(key), Some(&i));
        }
        assert_eq!(map.get("absent"), None);
    }
}
