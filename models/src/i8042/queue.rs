//! A bounded byte FIFO held inline, for the PS/2 devices' output queues.

use std::fmt;

/// A FIFO of at most `N` bytes with no heap allocation. Pushing onto a full queue drops the byte.
/// Two queues compare equal when they hold the same bytes in the same order.
#[derive(Clone, Copy)]
pub(super) struct ByteQueue<const N: usize> {
    buf: [u8; N],
    /// Index of the oldest byte; always `< N`.
    head: usize,
    /// Number of bytes held; always `<= N`.
    len: usize,
}

impl<const N: usize> ByteQueue<N> {
    /// An empty queue.
    pub(super) const fn new() -> Self {
        const { assert!(N > 0, "a ByteQueue needs room for at least one byte") };
        Self {
            buf: [0; N],
            head: 0,
            len: 0,
        }
    }

    /// Number of bytes held.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Whether the queue holds no byte.
    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Room left, in bytes.
    pub(super) fn free(&self) -> usize {
        N.saturating_sub(self.len)
    }

    /// Append `byte`; returns false (and drops it) when the queue is full.
    pub(super) fn push(&mut self, byte: u8) -> bool {
        if self.len >= N {
            return false;
        }
        match self.buf.get_mut((self.head + self.len) % N) {
            Some(slot) => {
                *slot = byte;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// PLANTED BUG `ps2-queue-overflow`: append `byte` without the `len >= N` bound that
    /// [`ByteQueue::push`] has. The write slot is `head + len` folded back into the ring once,
    /// which is exact only while `len <= N`: past that the queue overwrites unread bytes, and
    /// from `head + len >= 2 * N` the index runs off the end of `buf`. Called only where
    /// `Planted::on` allows it.
    #[cfg(feature = "planted-bugs")]
    pub(super) fn push_unbounded(&mut self, byte: u8) {
        let mut slot = self.head + self.len;
        if slot >= N {
            slot -= N;
        }
        self.buf[slot] = byte;
        self.len += 1;
    }

    /// Remove and return the oldest byte.
    pub(super) fn pop(&mut self) -> Option<u8> {
        if self.len == 0 {
            return None;
        }
        let byte = self.buf.get(self.head).copied()?;
        self.head = (self.head + 1) % N;
        self.len -= 1;
        Some(byte)
    }

    /// Drop every byte.
    pub(super) fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// The bytes held, oldest first.
    pub(super) fn iter(&self) -> impl Iterator<Item = u8> + '_ {
        (0..self.len).filter_map(move |i| self.buf.get((self.head + i) % N).copied())
    }
}

impl<const N: usize> PartialEq for ByteQueue<N> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<const N: usize> Eq for ByteQueue<N> {}

impl<const N: usize> fmt::Debug for ByteQueue<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|b| format!("{b:#04x}")))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::ByteQueue;

    #[test]
    fn full_queue_drops_new_bytes_and_keeps_order() {
        let mut q = ByteQueue::<4>::new();
        for b in 1..=6 {
            q.push(b);
        }
        assert_eq!(q.len(), 4);
        assert_eq!(q.iter().collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert_eq!(q.pop(), Some(1));
        assert!(q.push(7));
        assert_eq!(q.iter().collect::<Vec<_>>(), [2, 3, 4, 7]);
        assert_eq!(q.free(), 0);
    }

    #[test]
    fn queues_with_same_contents_compare_equal_whatever_their_history() {
        let mut a = ByteQueue::<4>::new();
        let mut b = ByteQueue::<4>::new();
        for x in [9, 9, 9, 5] {
            a.push(x);
        }
        for _ in 0..3 {
            a.pop();
        }
        b.push(5);
        assert_eq!(a, b);
        a.clear();
        assert_eq!(a, ByteQueue::new());
        assert!(a.is_empty());
        assert_eq!(a.pop(), None);
    }
}
