//! The generation bookkeeping both heaps keep, CPython's `gcstate` counters:
//! [`GenState`]. The per-thread heap holds one directly; the sync heap keeps
//! one under its list lock (`sync::heap::WorldState`). Its fields are cells
//! so that both reach it through a shared reference, and the per-thread
//! allocation fast path (`Heap::note_alloc`: `count[0] += 1`, compared with
//! `threshold[0]`) stays two plain loads and a store.

use crate::types::{DebugFlags, GenerationStats, NUM_GENERATIONS};
use std::cell::Cell;

/// Counts, thresholds, statistics and flags of the generations.
pub(crate) struct GenState {
    /// `count[0]`: tracked allocations minus deallocations since the last
    /// gen-0 collection (the per-thread heap; the sync heap counts them in
    /// its `young` atomic, nursery N6, and leaves this at 0); `count[g]`:
    /// collections of `g - 1` since the last collection of `g`.
    pub(crate) count: [Cell<usize>; NUM_GENERATIONS],
    pub(crate) threshold: [Cell<usize>; NUM_GENERATIONS],
    pub(crate) enabled: Cell<bool>,
    pub(crate) long_lived_total: Cell<usize>,
    pub(crate) long_lived_pending: Cell<usize>,
    pub(crate) stats: [Cell<GenerationStats>; NUM_GENERATIONS],
    pub(crate) debug: Cell<DebugFlags>,
    /// Sync heap: allocations past `threshold[0]` before the next automatic
    /// attempt (set when one could not stop the world, reset when one runs).
    pub(crate) auto_backoff: Cell<usize>,
}

impl GenState {
    /// CPython's defaults: thresholds `(700, 10, 10)`, enabled.
    pub(crate) fn new() -> GenState {
        GenState {
            count: Default::default(),
            threshold: [Cell::new(700), Cell::new(10), Cell::new(10)],
            enabled: Cell::new(true),
            long_lived_total: Cell::new(0),
            long_lived_pending: Cell::new(0),
            stats: Default::default(),
            debug: Cell::new(DebugFlags::empty()),
            auto_backoff: Cell::new(0),
        }
    }

    /// The counts (`count[0]` as stored, see [`GenState::count`]).
    pub(crate) fn counts(&self) -> [usize; NUM_GENERATIONS] {
        self.count.each_ref().map(Cell::get)
    }

    /// The thresholds.
    pub(crate) fn thresholds(&self) -> [usize; NUM_GENERATIONS] {
        self.threshold.each_ref().map(Cell::get)
    }

    /// Set the thresholds (`t[0] == 0` turns automatic collection off).
    pub(crate) fn set_thresholds(&self, t: [usize; NUM_GENERATIONS]) {
        for (cell, t) in self.threshold.iter().zip(t) {
            cell.set(t);
        }
    }

    /// The statistics per generation.
    pub(crate) fn stats(&self) -> [GenerationStats; NUM_GENERATIONS] {
        self.stats.each_ref().map(Cell::get)
    }

    /// The young count past which an allocation reports a collection due:
    /// `threshold[0]` plus the back-off; `usize::MAX` when automatic
    /// collection is off (disabled, or `threshold[0] == 0`).
    pub(crate) fn trigger(&self) -> usize {
        let t0 = self.threshold[0].get();
        if self.enabled.get() && t0 != 0 {
            t0.saturating_add(self.auto_backoff.get())
        } else {
            usize::MAX
        }
    }

    /// A collection of `generation` starts: `count[generation + 1] += 1`,
    /// the counts of `generation` and younger are reset.
    pub(crate) fn begin_collection(&self, generation: usize) {
        if generation + 1 < NUM_GENERATIONS {
            let c = &self.count[generation + 1];
            c.set(c.get() + 1);
        }
        for c in &self.count[..=generation] {
            c.set(0);
        }
    }

    /// `survivors` objects moved into the oldest generation by a
    /// collection of a younger one.
    pub(crate) fn add_long_lived_pending(&self, survivors: usize) {
        self.long_lived_pending
            .set(self.long_lived_pending.get() + survivors);
    }

    /// A full collection left `total` objects in the oldest generation.
    pub(crate) fn set_long_lived(&self, total: usize) {
        self.long_lived_pending.set(0);
        self.long_lived_total.set(total);
    }

    /// Count a collection of `generation` and what it found.
    pub(crate) fn record_stats(&self, generation: usize, collected: usize, uncollectable: usize) {
        let stats = &self.stats[generation];
        let mut s = stats.get();
        s.collections += 1;
        s.collected += collected;
        s.uncollectable += uncollectable;
        stats.set(s);
    }
}
