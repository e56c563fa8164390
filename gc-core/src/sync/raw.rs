//! `Arc`'s raw-pointer API, `pin` and auto traits on the sync handles (the
//! strong part is `handle::raw`'s macro, shared with the per-thread heap),
//! and `sync::Weak`'s `as_ptr`/`into_raw`/`from_raw` (its weak epochs live
//! in the sync heap's table, header I2).

use super::counts::{weak_epochs, SyncCounts};
use super::handle::Gc;
use super::weak::Weak;
use crate::heap::header::WEAK_EPOCH;
use crate::heap::weakepoch::Epoch;
use crate::primitive;
use crate::trace::Trace;

crate::handle::raw::strong_raw_api!(Gc, "pygc::sync::Gc", SyncCounts, + Send + Sync);

impl SyncCounts {
    /// A handle of `epoch` to the object at `addr` becomes a raw pointer.
    fn note_into_raw(&self, addr: usize, epoch: u32) {
        if epoch == 0 || !self.has_flag(WEAK_EPOCH) {
            return;
        }
        if let Some(e) = primitive::lock(weak_epochs()).get_mut(&addr) {
            e.note_into_raw(epoch);
        }
    }

    /// The epoch of a handle to the object at `addr` rebuilt from a raw
    /// pointer.
    fn take_from_raw(&self, addr: usize) -> u32 {
        if !self.has_flag(WEAK_EPOCH) {
            return 0;
        }
        primitive::lock(weak_epochs())
            .get_mut(&addr)
            .map_or(0, Epoch::take_from_raw)
    }
}

crate::handle::raw::weak_raw_api!(Weak, "pygc::sync::{Gc, Weak}", SyncCounts, Option<u64>, + Send + Sync);
