//! Giving memory back: maps and queues shrink once they hold far less than they have room for, so a burst (a
//! thousand requests in flight, ten thousand channels awaiting garbage collection) leaves no high-water mark.

use std::collections::{HashMap, VecDeque};

use std::hash::{BuildHasher, Hash};

/// Below this capacity nothing is worth giving back.
const KEEP: usize = 64;

/// Shrinks `map` to twice its length when it is less than a quarter full; amortized O(1) per removal. Unlike a
/// queue it goes right down: its entries (a channel, a pending request) are large.
pub fn shrink_map<K: Eq + Hash, V, S: BuildHasher>(map: &mut HashMap<K, V, S>) {
    if map.capacity() > 8 && map.len() * 4 < map.capacity() {
        map.shrink_to(map.len() * 2);
    }
}

/// As [`shrink_map`], for a queue.
pub fn shrink_queue<T>(queue: &mut VecDeque<T>) {
    if queue.capacity() > KEEP && queue.len() * 4 < queue.capacity() {
        queue.shrink_to((queue.len() * 2).max(KEEP / 2));
    }
}

/// As [`shrink_queue`], for a vector.
pub fn shrink_vec<T>(vec: &mut Vec<T>) {
    if vec.capacity() > KEEP && vec.len() * 4 < vec.capacity() {
        vec.shrink_to((vec.len() * 2).max(KEEP / 2));
    }
}
