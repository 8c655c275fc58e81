//! Descriptor ring arithmetic both chips share.

/// Free receive descriptors in a ring of `count` descriptors from `head` up to `tail`, as QEMU
/// counts them: the datasheets leave a zero-length ring, or a head or tail outside the ring, to
/// programming error, and QEMU takes whatever lies from the head to the tail (it writes the
/// descriptors there, the head wrapping to 0 at the ring's end). A head past both the ring's
/// end and the tail leaves none.
pub fn rx_free_descriptors(count: u64, head: u64, tail: u64) -> u64 {
    if head <= tail {
        tail - head
    } else {
        (count + tail).saturating_sub(head)
    }
}

#[cfg(test)]
mod tests {
    use super::rx_free_descriptors;

    #[test]
    fn free_descriptors_follow_qemu_outside_the_ring() {
        assert_eq!(rx_free_descriptors(8, 0, 7), 7);
        assert_eq!(rx_free_descriptors(8, 6, 2), 4);
        assert_eq!(rx_free_descriptors(0, 0, 7), 7, "zero-length ring");
        assert_eq!(rx_free_descriptors(8, 0, 20), 20, "tail outside");
        assert_eq!(
            rx_free_descriptors(8, 20, 2),
            0,
            "head outside, past the tail"
        );
    }
}
