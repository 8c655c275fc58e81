//! Descriptor ring arithmetic both chips share.

/// Free receive descriptors in a ring of `count` descriptors from `head` up to `tail`. The
/// datasheets leave a zero-length ring, or a head or tail outside the ring, to programming
/// error; the models see no free descriptor there (the frame is dropped and counted). QEMU
/// takes whatever lies from the head to the tail instead (up to 65535 descriptors of a ring
/// that does not exist); following it let one looped-back burst walk millions of null
/// descriptors in a single operation, which the work budget reports as a hang, and no
/// difference against QEMU in the differential corpus came from it.
pub fn rx_free_descriptors(count: u64, head: u64, tail: u64) -> u64 {
    if count == 0 || head >= count || tail >= count {
        0
    } else if head <= tail {
        tail - head
    } else {
        count - head + tail
    }
}

#[cfg(test)]
mod tests {
    use super::rx_free_descriptors;

    #[test]
    fn free_descriptors_only_inside_the_ring() {
        assert_eq!(rx_free_descriptors(8, 0, 7), 7);
        assert_eq!(rx_free_descriptors(8, 6, 2), 4);
        assert_eq!(rx_free_descriptors(0, 0, 7), 0, "zero-length ring");
        assert_eq!(rx_free_descriptors(8, 0, 20), 0, "tail outside");
        assert_eq!(rx_free_descriptors(8, 20, 2), 0, "head outside");
    }
}
