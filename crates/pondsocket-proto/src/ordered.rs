//! A map for keys the client hands out in increasing order (channel ids, request keys): a deque sorted by key.
//!
//! New keys go at the back and requests usually end oldest first, so both ends are cheap; a lookup is a binary
//! search. Iterating in key order is iterating in creation order, which is the order requests are rejected in.
//! Its code in the wasm is a fraction of a hash map's, and it needs no sort.

use std::collections::VecDeque;

use crate::memory::shrink_queue;

/// A map whose keys are mostly inserted in increasing order.
pub struct Ordered<K, V> {
    entries: VecDeque<(K, V)>,
}

impl<K, V> Default for Ordered<K, V> {
    fn default() -> Self {
        Ordered { entries: VecDeque::new() }
    }
}

impl<K: Ord + Copy, V> Ordered<K, V> {
    fn position(&self, key: K) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.cmp(&key))
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.position(*key).ok().map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let i = self.position(*key).ok()?;
        Some(&mut self.entries[i].1)
    }

    /// Inserts or replaces the value of `key`.
    pub fn insert(&mut self, key: K, value: V) {
        match self.entries.back() {
            Some((last, _)) if *last >= key => match self.position(key) {
                Ok(i) => self.entries[i].1 = value,
                Err(i) => self.entries.insert(i, (key, value)),
            },
            _ => self.entries.push_back((key, value)),
        }
    }

    /// The value of `key`, inserted with `make` if there is none.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        let i = match self.position(key) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (key, make()));
                i
            }
        };
        &mut self.entries[i].1
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let i = self.position(*key).ok()?;
        let removed = self.entries.remove(i).map(|(_, v)| v);
        shrink_queue(&mut self.entries);
        removed
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::Ordered;

    #[test]
    fn keys_in_any_order_stay_sorted_and_are_found() {
        let mut map = Ordered::default();
        for key in [5u64, 1, 9, 3, 7, 9, 2] {
            map.insert(key, key * 10);
        }
        assert_eq!(
            map.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
            [(1, 10), (2, 20), (3, 30), (5, 50), (7, 70), (9, 90)]
        );
        assert_eq!(map.remove(&3), Some(30));
        assert_eq!(map.remove(&3), None);
        assert_eq!(map.get(&9), Some(&90));
        *map.get_or_insert_with(4, || 0) += 1;
        assert_eq!(map.get(&4), Some(&1));
        assert_eq!(map.len(), 6);
    }
}
