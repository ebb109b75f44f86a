//! The k-way merge of sorted answers: each region's rows arrive sorted by the same total
//! order (the sort keys, then the ID, which no two records share), and come out as one
//! sorted sequence, taking the smallest head each time. Only the rows a page needs are
//! looked at, whatever the page.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

struct Head<K> {
    key: K,
    list: usize,
}

impl<K: Ord> PartialEq for Head<K> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<K: Ord> Eq for Head<K> {}
impl<K: Ord> PartialOrd for Head<K> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<K: Ord> Ord for Head<K> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key).then(self.list.cmp(&other.list))
    }
}

/// Merges lists each sorted by `K`; yields `(list index, item)` in order.
pub fn merge<K: Ord + Clone, T>(lists: Vec<Vec<(K, T)>>) -> impl Iterator<Item = (usize, T)> {
    let mut iters: Vec<std::vec::IntoIter<(K, T)>> =
        lists.into_iter().map(Vec::into_iter).collect();
    let mut pending: Vec<Option<T>> = iters.iter().map(|_| None).collect();
    let mut heap = BinaryHeap::new();
    for (i, it) in iters.iter_mut().enumerate() {
        if let Some((key, item)) = it.next() {
            pending[i] = Some(item);
            heap.push(Reverse(Head { key, list: i }));
        }
    }
    std::iter::from_fn(move || {
        let Reverse(head) = heap.pop()?;
        let item = pending[head.list].take().expect("a head has its item");
        if let Some((key, next)) = iters[head.list].next() {
            pending[head.list] = Some(next);
            heap.push(Reverse(Head {
                key,
                list: head.list,
            }));
        }
        Some((head.list, item))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    #[test]
    fn merged_lists_come_out_in_the_order_one_sorted_list_would_have() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..200 {
            let n = rng.random_range(0..6);
            let mut all = Vec::new();
            let mut lists = Vec::new();
            for _ in 0..n {
                let mut list: Vec<(u32, u32)> = (0..rng.random_range(0..20))
                    .map(|_| {
                        let k = rng.random_range(0..30);
                        let id = rng.random::<u32>();
                        all.push((k, id));
                        (k, id)
                    })
                    .collect();
                list.sort();
                lists.push(list.into_iter().map(|(k, id)| ((k, id), (k, id))).collect());
            }
            all.sort();
            let merged: Vec<(u32, u32)> = merge(lists).map(|(_, item)| item).collect();
            assert_eq!(merged, all);
        }
    }

    #[test]
    fn each_item_says_which_list_it_came_from() {
        let lists = vec![vec![(1, "a1"), (4, "a4")], vec![(2, "b2"), (3, "b3")]];
        let merged: Vec<(usize, &str)> = merge(lists).collect();
        assert_eq!(merged, vec![(0, "a1"), (1, "b2"), (1, "b3"), (0, "a4")]);
    }

    #[test]
    fn a_merge_reads_no_further_than_it_is_asked_to() {
        let taken: Vec<_> = merge(vec![vec![(1, 1), (3, 3)], vec![(2, 2)]])
            .take(2)
            .collect();
        assert_eq!(taken, vec![(0, 1), (1, 2)]);
    }
}
