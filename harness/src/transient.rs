//! [`Transient`]: what a device keeps only so that a hot path can reuse it, such as a buffer of
//! data in transit, and that is no part of the device's state.

use std::fmt;
use std::ops::{Deref, DerefMut};

/// A value a device keeps for reuse that is no part of its state: a clone starts from
/// `T::default()`, loading a snapshot into it ([`Clone::clone_from`], what
/// [`crate::clone_by_field!`] and the machine's restore call) leaves it as it is, any two
/// compare equal, and it prints as `Transient`. So a reset, a restore or a comparison of two
/// machines never sees it, and whoever takes bytes from it must write them before reading.
#[derive(Default)]
pub struct Transient<T>(pub T);

impl<T: Default> Clone for Transient<T> {
    fn clone(&self) -> Self {
        Self::default()
    }

    fn clone_from(&mut self, _source: &Self) {}
}

impl<T> PartialEq for Transient<T> {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl<T> Eq for Transient<T> {}

impl<T> fmt::Debug for Transient<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Transient")
    }
}

impl<T> Deref for Transient<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Transient<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Transient;

    #[test]
    fn a_transient_value_is_no_state() {
        let mut a = Transient(vec![1u8, 2, 3]);
        let mut b = a.clone();
        assert!(b.is_empty(), "a clone starts from the default");
        b.push(9);
        assert_eq!(a, b, "contents do not compare");
        assert_eq!(format!("{a:?}"), "Transient", "nor print");
        a.clone_from(&b);
        assert_eq!(*a, [1, 2, 3], "a load keeps what it holds, for reuse");
    }
}
