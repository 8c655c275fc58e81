//! An address space: regions mapped at addresses with priorities, flattened into a sorted list
//! of non-overlapping segments (QEMU's FlatView) for fast lookup.
//!
//! Overlaps are legal and resolve like a real bus: the mapping with the higher priority wins;
//! between equal priorities the one mapped later wins. The flat view is rebuilt lazily, only
//! when a lookup follows a change, and a space remembers the last few flat views it built: a
//! fuzz run maps the same BARs input after input, so the view is found again, not rebuilt.

use crate::access::{AccessRules, Space};
use crate::ids::{DeviceId, RegionId};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What answers accesses in a mapped range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Backing {
    /// Guest RAM (offsets are guest-physical addresses).
    Ram,
    /// A device region.
    Device(DeviceId, RegionId),
    /// PCI configuration mechanism #1: CONFIG_ADDRESS at 0xCF8..0xCFB (a profile may map a
    /// register of its own over one of its bytes).
    PciConfigAddress,
    /// PCI configuration mechanism #1: CONFIG_DATA at 0xCFC..0xCFF.
    PciConfigData,
}

/// One mapping in an address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// First address.
    pub base: u64,
    /// Size in bytes (non-zero).
    pub size: u64,
    /// Higher wins on overlap.
    pub priority: i32,
    /// Who answers.
    pub backing: Backing,
    /// Access rules of the backing region.
    pub rules: AccessRules,
    order: u64,
}

impl Mapping {
    /// Last address covered (inclusive).
    pub fn last(&self) -> u64 {
        self.base + (self.size - 1)
    }
}

/// A maximal range of addresses answered by one mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// First address of the segment.
    pub start: u64,
    /// Last address of the segment (inclusive).
    pub last: u64,
    /// Base of the whole mapping (so `addr - base` is the offset in the region).
    pub base: u64,
    /// Who answers.
    pub backing: Backing,
    /// Access rules of the backing region.
    pub rules: AccessRules,
}

/// Flat views a space keeps for mapping sets it may see again.
const FLAT_CACHE_ENTRIES: usize = 8;

/// A flat view built earlier, with the mappings it was built from.
#[derive(Clone, Debug)]
struct CachedView {
    id: u64,
    fingerprint: u64,
    mappings: Vec<Mapping>,
    flat: Vec<Segment>,
}

/// Memory or I/O address space.
///
/// Two spaces are equal when they hold the same mappings in the same order; the flat view and
/// its cache are derived from them, and `Debug` shows what equality compares.
pub struct AddressSpace {
    space: Space,
    mappings: Vec<Mapping>,
    flat: Vec<Segment>,
    stale: bool,
    next_order: u64,
    generation: u64,
    /// Index in `flat` of the segment the last lookup hit.
    hint: usize,
    cache: Vec<CachedView>,
    /// Where the next new entry of `cache` goes once it is full.
    cache_next: usize,
    /// Fingerprints of views built recently but not cached: a view is cached the second time
    /// it is built, so one-off layouts (a fuzzer's random BAR values) cost no copies.
    seen: [u64; FLAT_CACHE_ENTRIES],
    seen_next: usize,
    /// Identity of the current flat view (see [`AddressSpace::view_id`]).
    view: u64,
    next_view: u64,
    /// Shared by a space and its clones: where their mapping stamps come from.
    lineage: Arc<AtomicU64>,
    /// This lineage's name for the current mappings: it changes (to one never used before in
    /// the lineage) with them, so a clone with the same stamp holds the same mappings.
    stamp: u64,
}

impl PartialEq for AddressSpace {
    fn eq(&self, other: &Self) -> bool {
        self.space == other.space
            && self.mappings == other.mappings
            && self.next_order == other.next_order
    }
}

impl Eq for AddressSpace {}

impl std::fmt::Debug for AddressSpace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddressSpace")
            .field("space", &self.space)
            .field("mappings", &self.mappings)
            .field("next_order", &self.next_order)
            .finish()
    }
}

impl Clone for AddressSpace {
    fn clone(&self) -> Self {
        Self {
            space: self.space,
            mappings: self.mappings.clone(),
            flat: self.flat.clone(),
            stale: self.stale,
            next_order: self.next_order,
            generation: self.generation,
            hint: self.hint,
            cache: self.cache.clone(),
            cache_next: self.cache_next,
            seen: self.seen,
            seen_next: self.seen_next,
            view: self.view,
            next_view: self.next_view,
            lineage: Arc::clone(&self.lineage),
            stamp: self.stamp,
        }
    }

    /// Takes `source`'s mappings as [`restore`](Self::restore) does: the flat views stay this
    /// space's own (derived data), so returning to a layout seen before rebuilds nothing.
    /// A clone of the same lineage with the same stamp holds the same mappings: then nothing is
    /// compared or copied (a checkpoint restored after an input that mapped nothing).
    fn clone_from(&mut self, source: &Self) {
        let same_lineage = Arc::ptr_eq(&self.lineage, &source.lineage);
        if same_lineage && self.stamp == source.stamp {
            self.next_order = source.next_order;
            return;
        }
        self.space = source.space;
        self.restore(&source.mappings, source.next_order);
        if same_lineage {
            self.stamp = source.stamp;
        }
    }
}

impl AddressSpace {
    /// An empty address space.
    pub fn new(space: Space) -> Self {
        Self {
            space,
            mappings: Vec::new(),
            flat: Vec::new(),
            stale: false,
            next_order: 0,
            generation: 0,
            hint: 0,
            cache: Vec::new(),
            cache_next: 0,
            seen: [0; FLAT_CACHE_ENTRIES],
            seen_next: 0,
            view: 0,
            next_view: 0,
            lineage: Arc::new(AtomicU64::new(1)),
            stamp: 0,
        }
    }

    /// Which space this is.
    pub fn space(&self) -> Space {
        self.space
    }

    /// Map (or move) `backing` at `base`. A backing is mapped at most once; mapping it again
    /// replaces the old placement. Ranges that run past the end of the space are clipped.
    pub fn map(
        &mut self,
        backing: Backing,
        base: u64,
        size: u64,
        priority: i32,
        rules: AccessRules,
    ) {
        self.unmap(backing);
        let room = self.space.limit().saturating_sub(u128::from(base));
        let size = u64::try_from(u128::from(size).min(room)).unwrap_or(u64::MAX);
        if size == 0 {
            return;
        }
        self.mappings.push(Mapping {
            base,
            size,
            priority,
            backing,
            rules,
            order: self.next_order,
        });
        self.next_order += 1;
        self.changed();
    }

    /// Remove `backing`'s mapping if it has one.
    pub fn unmap(&mut self, backing: Backing) {
        if let Some(i) = self.mappings.iter().position(|m| m.backing == backing) {
            self.mappings.remove(i);
            self.changed();
        }
    }

    /// Remove every mapping.
    pub fn clear(&mut self) {
        if !self.mappings.is_empty() {
            self.mappings.clear();
            self.changed();
        }
        self.next_order = 0;
    }

    /// The mapping order the next mapping gets (part of the state a checkpoint restores).
    pub fn next_order(&self) -> u64 {
        self.next_order
    }

    /// Return to `mappings` (as [`mappings`](Self::mappings) returned them) and `next_order`:
    /// a checkpoint's layout. The flat view is only marked stale when the mappings differ, and
    /// is then found in the cache when this layout was seen before.
    pub fn restore(&mut self, mappings: &[Mapping], next_order: u64) {
        if self.mappings != mappings {
            self.mappings.clear();
            self.mappings.extend_from_slice(mappings);
            self.changed();
        }
        self.next_order = next_order;
    }

    /// Renumber the mapping order 0.. keeping the relative order, so a space that went back to
    /// its first mappings is indistinguishable from one freshly built. The flat view does not
    /// change.
    pub fn renumber(&mut self) {
        for (i, m) in self.mappings.iter_mut().enumerate() {
            m.order = i as u64;
        }
        self.restamp();
        self.next_order = self.mappings.len() as u64;
    }

    /// Give the mappings a stamp no space of this lineage has used.
    fn restamp(&mut self) {
        self.stamp = self.lineage.fetch_add(1, Ordering::Relaxed);
    }

    fn changed(&mut self) {
        self.restamp();
        self.stale = true;
        self.generation += 1;
    }

    /// Counter that changes whenever the set of mappings changes.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// An identity for the current set of mappings: equal ids mean equal mappings, so a
    /// caller can key what it derives from the layout on it (a space that returns to a layout
    /// it has cached returns to its id; `generation` only ever grows).
    pub fn view_id(&mut self) -> u64 {
        if self.stale {
            self.refresh();
        }
        self.view
    }

    /// Current mappings in the order they were made.
    pub fn mappings(&self) -> &[Mapping] {
        &self.mappings
    }

    /// Where `backing` is mapped, if it is.
    pub fn mapping_of(&self, backing: Backing) -> Option<&Mapping> {
        self.mappings.iter().find(|m| m.backing == backing)
    }

    /// The segment answering `addr`, or `None` for an unassigned address.
    pub fn lookup(&mut self, addr: u64) -> Option<Segment> {
        if self.stale {
            self.refresh();
        }
        // Accesses come in runs to one region: try the last hit before searching.
        if let Some(s) = self.flat.get(self.hint) {
            if addr.wrapping_sub(s.start) <= s.last - s.start {
                return Some(*s);
            }
        }
        let i = self.flat.partition_point(|s| s.last < addr);
        let hit = self.flat.get(i).filter(|s| s.start <= addr).copied();
        if hit.is_some() {
            self.hint = i;
        }
        hit
    }

    /// The flattened view (rebuilding it if needed).
    pub fn segments(&mut self) -> &[Segment] {
        if self.stale {
            self.refresh();
        }
        &self.flat
    }

    /// Bring the flat view up to date: from the cache when these mappings were seen before.
    fn refresh(&mut self) {
        self.stale = false;
        self.hint = 0;
        let fingerprint = self.fingerprint();
        let mappings = &self.mappings;
        if let Some(hit) = self
            .cache
            .iter()
            .find(|c| c.fingerprint == fingerprint && c.mappings == *mappings)
        {
            self.flat.clone_from(&hit.flat);
            self.view = hit.id;
            return;
        }
        self.rebuild();
        self.next_view += 1;
        self.view = self.next_view;
        if !self.seen.contains(&fingerprint) {
            self.seen[self.seen_next] = fingerprint;
            self.seen_next = (self.seen_next + 1) % FLAT_CACHE_ENTRIES;
            return;
        }
        let entry = CachedView {
            id: self.view,
            fingerprint,
            mappings: self.mappings.clone(),
            flat: self.flat.clone(),
        };
        if self.cache.len() < FLAT_CACHE_ENTRIES {
            self.cache.push(entry);
        } else {
            self.cache[self.cache_next] = entry;
            self.cache_next = (self.cache_next + 1) % FLAT_CACHE_ENTRIES;
        }
    }

    /// A hash of the mappings (arithmetic only: cheap under compare tracing).
    fn fingerprint(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut mix = |v: u64| h = (h ^ v).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(17);
        for m in &self.mappings {
            mix(m.base);
            mix(m.size);
            mix(m.priority as u64);
            mix(m.order);
            match m.backing {
                Backing::Device(d, r) => mix(u64::from(d.0) << 16 | u64::from(r.0) << 1 | 1),
                Backing::Ram => mix(2),
                Backing::PciConfigAddress => mix(4),
                Backing::PciConfigData => mix(6),
            }
        }
        h
    }

    fn rebuild(&mut self) {
        self.flat.clear();
        // Elementary intervals between all mapping edges; each takes the winning mapping.
        let mut edges: Vec<u128> = Vec::with_capacity(self.mappings.len() * 2);
        for m in &self.mappings {
            edges.push(u128::from(m.base));
            edges.push(u128::from(m.last()) + 1);
        }
        edges.sort_unstable();
        edges.dedup();
        for pair in edges.windows(2) {
            let (start, end) = (pair[0], pair[1]);
            let Ok(start) = u64::try_from(start) else {
                continue;
            };
            let last = u64::try_from(end - 1).unwrap_or(u64::MAX);
            let winner = self
                .mappings
                .iter()
                .filter(|m| m.base <= start && m.last() >= last)
                .max_by_key(|m| (m.priority, m.order));
            let Some(w) = winner else { continue };
            match self.flat.last_mut() {
                Some(prev) if prev.backing == w.backing && prev.last + 1 == start => {
                    prev.last = last
                }
                _ => self.flat.push(Segment {
                    start,
                    last,
                    base: w.base,
                    backing: w.backing,
                    rules: w.rules,
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(n: u16) -> Backing {
        Backing::Device(DeviceId(n), RegionId(0))
    }

    #[test]
    fn unassigned_addresses_have_no_segment() {
        let mut s = AddressSpace::new(Space::Io);
        s.map(dev(0), 0x60, 1, 0, AccessRules::BYTES);
        assert!(s.lookup(0x5f).is_none());
        assert_eq!(s.lookup(0x60).unwrap().backing, dev(0));
        assert!(s.lookup(0x61).is_none());
    }

    #[test]
    fn higher_priority_wins_and_lower_shows_around_it() {
        let mut s = AddressSpace::new(Space::Memory);
        s.map(Backing::Ram, 0, 0x10000, 0, AccessRules::ANY);
        s.map(dev(1), 0x4000, 0x1000, 1, AccessRules::DWORDS);
        assert_eq!(s.lookup(0x3fff).unwrap().backing, Backing::Ram);
        let seg = s.lookup(0x4800).unwrap();
        assert_eq!(
            (seg.backing, seg.base, seg.start, seg.last),
            (dev(1), 0x4000, 0x4000, 0x4fff)
        );
        let after = s.lookup(0x5000).unwrap();
        assert_eq!(
            (after.backing, after.base, after.start),
            (Backing::Ram, 0, 0x5000)
        );
        s.unmap(dev(1));
        assert_eq!(s.lookup(0x4800).unwrap().backing, Backing::Ram);
    }

    #[test]
    fn a_mapping_set_seen_before_gets_its_own_flat_view_back() {
        let mut s = AddressSpace::new(Space::Io);
        s.map(dev(0), 0x60, 1, 0, AccessRules::BYTES);
        let first = s.segments().to_vec();
        s.map(dev(1), 0x60, 0x10, 1, AccessRules::BYTES);
        assert_eq!(s.lookup(0x60).unwrap().backing, dev(1));
        s.map(dev(2), 0x100, 0x10, 0, AccessRules::BYTES);
        assert_eq!(
            s.lookup(0x60).unwrap().backing,
            dev(1),
            "hint is reset with the view"
        );
        s.unmap(dev(1));
        s.unmap(dev(2));
        let id = s.view_id();
        s.map(dev(2), 0x100, 0x10, 0, AccessRules::BYTES);
        assert_ne!(s.view_id(), id);
        s.unmap(dev(2));
        assert_eq!(s.view_id(), id, "the same mappings, the same id");
        assert_eq!(s.segments(), &first[..]);
        assert_eq!(s.lookup(0x60).unwrap().backing, dev(0));
        assert!(s.lookup(0x61).is_none());
        // The same backings in another order are another mapping set: newest wins on ties.
        let mut a = AddressSpace::new(Space::Io);
        a.map(dev(1), 0x10, 0x10, 0, AccessRules::ANY);
        a.map(dev(2), 0x10, 0x10, 0, AccessRules::ANY);
        assert_eq!(a.lookup(0x10).unwrap().backing, dev(2));
        a.map(dev(1), 0x10, 0x10, 0, AccessRules::ANY);
        assert_eq!(a.lookup(0x10).unwrap().backing, dev(1));
        a.map(dev(2), 0x10, 0x10, 0, AccessRules::ANY);
        assert_eq!(a.lookup(0x10).unwrap().backing, dev(2));
    }

    #[test]
    fn the_lookup_hint_never_answers_for_an_address_outside_its_segment() {
        let mut s = AddressSpace::new(Space::Memory);
        s.map(dev(1), 0x1000, 0x1000, 0, AccessRules::ANY);
        s.map(dev(2), 0x3000, 0x1000, 0, AccessRules::ANY);
        assert_eq!(s.lookup(0x1fff).unwrap().backing, dev(1));
        assert!(s.lookup(0x2000).is_none());
        assert!(s.lookup(0x0fff).is_none());
        assert_eq!(s.lookup(0x3000).unwrap().backing, dev(2));
        assert!(s.lookup(u64::MAX).is_none());
        assert!(s.lookup(0).is_none());
    }

    #[test]
    fn lookups_that_jump_between_segments_answer_as_a_fresh_search_does() {
        let mut s = AddressSpace::new(Space::Io);
        s.map(dev(1), 0x170, 8, 0, AccessRules::ANY);
        s.map(dev(2), 0x1f0, 8, 0, AccessRules::ANY);
        s.map(dev(3), 0xc000, 16, 0, AccessRules::ANY);
        s.map(dev(4), 0xc010, 16, 0, AccessRules::ANY);
        let addrs = [
            0x1f0,
            0xc000,
            0x1f7,
            0xc00f,
            0xc010,
            0x1f0,
            0x170,
            0x1f8,
            0xc01f,
            0xc020,
            0x16f,
            0x177,
            0x1f3,
            0xc008,
            0x1f3,
            0xc018,
            0,
            u64::MAX,
        ];
        for (n, &a) in addrs.iter().cycle().take(5 * addrs.len()).enumerate() {
            let mut fresh = AddressSpace::new(Space::Io);
            for m in s.mappings.clone() {
                fresh.map(m.backing, m.base, m.size, m.priority, m.rules);
            }
            assert_eq!(s.lookup(a), fresh.lookup(a), "lookup {n} of {a:#x}");
        }
    }

    #[test]
    fn equal_priority_later_mapping_wins() {
        let mut s = AddressSpace::new(Space::Memory);
        s.map(dev(1), 0x1000, 0x1000, 0, AccessRules::ANY);
        s.map(dev(2), 0x1800, 0x1000, 0, AccessRules::ANY);
        assert_eq!(s.lookup(0x1900).unwrap().backing, dev(2));
        s.map(dev(1), 0x1000, 0x1000, 0, AccessRules::ANY);
        assert_eq!(
            s.lookup(0x1900).unwrap().backing,
            dev(1),
            "remapping makes it newest"
        );
    }

    #[test]
    fn mappings_at_the_top_of_the_space_are_clipped_not_overflowed() {
        let mut s = AddressSpace::new(Space::Memory);
        s.map(dev(1), u64::MAX - 0xf, 0x100, 0, AccessRules::ANY);
        assert_eq!(s.lookup(u64::MAX).unwrap().backing, dev(1));
        let mut io = AddressSpace::new(Space::Io);
        io.map(dev(2), 0xfff0, 0x100, 0, AccessRules::ANY);
        assert_eq!(io.mapping_of(dev(2)).unwrap().size, 0x10);
        io.map(dev(3), 0x10000, 0x10, 0, AccessRules::ANY);
        assert!(
            io.mapping_of(dev(3)).is_none(),
            "entirely outside the I/O space"
        );
    }

    #[test]
    fn clone_from_copies_the_mappings_whatever_either_side_did_since_the_clone() {
        let mut a = AddressSpace::new(Space::Io);
        a.map(dev(0), 0x60, 1, 0, AccessRules::BYTES);
        let saved = a.clone();
        let mut b = a.clone();
        b.map(dev(1), 0x70, 2, 0, AccessRules::BYTES);
        a.map(dev(2), 0x70, 2, 0, AccessRules::BYTES);
        assert_ne!(a, b);
        a.clone_from(&b);
        assert_eq!(a, b);
        assert_eq!(a.lookup(0x71).map(|s| s.backing), Some(dev(1)));
        a.clone_from(&saved);
        assert_eq!(a, saved);
        assert!(a.lookup(0x71).is_none());
        a.renumber();
        a.clone_from(&saved);
        assert_eq!(a, saved);
        let mut other = AddressSpace::new(Space::Io);
        other.clone_from(&b);
        assert_eq!(other, b);
    }
}
