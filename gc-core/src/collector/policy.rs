//! When to collect: CPython's `gc_collect_generations` choice.

use crate::heap::gen::GenState;
use crate::types::NUM_GENERATIONS;

/// The generation an automatic collection should collect, if any, from
/// `gen` and the young count `young` (`count[0]`, which the sync heap keeps
/// outside `gen`).
pub(crate) fn due(gen: &GenState, young: usize) -> Option<usize> {
    let [_, c1, c2] = gen.counts();
    generation_to_collect(
        [young, c1, c2],
        gen.thresholds(),
        gen.long_lived_pending.get(),
        gen.long_lived_total.get(),
    )
}

/// CPython's `gc_collect_generations` choice: the oldest generation whose
/// count exceeds its threshold, skipping a full collection while
/// `long_lived_pending < long_lived_total / 4`.
pub(crate) fn generation_to_collect(
    count: [usize; NUM_GENERATIONS],
    threshold: [usize; NUM_GENERATIONS],
    long_lived_pending: usize,
    long_lived_total: usize,
) -> Option<usize> {
    (0..NUM_GENERATIONS).rev().find(|&g| {
        count[g] > threshold[g]
            && !(g == NUM_GENERATIONS - 1 && long_lived_pending < long_lived_total / 4)
    })
}
