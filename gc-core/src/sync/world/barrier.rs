//! The W1 barrier pair (`world` module docs) and the collector's deadline
//! (W3; "Waiting" in the module docs).

use crate::primitive::{fence, Ordering};
use std::time::{Duration, Instant};

/// The longest single sleep of a collector waiting for slots to detach.
#[cfg(not(loom))]
pub(super) const SLICE: Duration = Duration::from_micros(200);

/// The W1 barrier pair this process uses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Barrier {
    /// Light = compiler fence, heavy = `membarrier(PRIVATE_EXPEDITED)`.
    #[cfg_attr(
        any(loom, miri, not(any(target_os = "linux", target_os = "android"))),
        allow(dead_code)
    )]
    Membarrier,
    /// Light = heavy = `fence(SeqCst)`.
    Fence,
}

impl Barrier {
    /// Register for private expedited membarrier if the kernel has it.
    #[cfg(not(loom))]
    pub(super) fn detect() -> Barrier {
        #[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
        {
            use rustix::thread::{membarrier, membarrier_query, MembarrierCommand};
            let q = membarrier_query();
            if q.contains_command(MembarrierCommand::PrivateExpedited)
                && q.contains_command(MembarrierCommand::RegisterPrivateExpedited)
                && membarrier(MembarrierCommand::RegisterPrivateExpedited).is_ok()
            {
                return Barrier::Membarrier;
            }
        }
        Barrier::Fence
    }

    /// The collector's side of W1, between its `stop` store and slot
    /// loads; `false` if the barrier could not be issued.
    pub(super) fn heavy(self) -> bool {
        fence(Ordering::SeqCst);
        #[cfg(all(any(target_os = "linux", target_os = "android"), not(loom), not(miri)))]
        if self == Barrier::Membarrier {
            use rustix::thread::{membarrier, MembarrierCommand};
            if membarrier(MembarrierCommand::PrivateExpedited).is_err() {
                return false;
            }
            fence(Ordering::SeqCst);
        }
        true
    }
}

/// When a stop attempt gives up.
#[derive(Clone, Copy)]
pub(crate) struct Deadline {
    #[cfg_attr(loom, allow(dead_code))]
    at: Option<Instant>,
    pub(super) zero: bool,
}

impl Deadline {
    pub(crate) fn after(timeout: Duration) -> Self {
        Deadline {
            at: Instant::now().checked_add(timeout),
            zero: timeout.is_zero(),
        }
    }

    #[cfg(not(loom))]
    pub(super) fn remaining(&self) -> Option<Duration> {
        match self.at {
            Some(at) => at
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero()),
            None => Some(SLICE),
        }
    }
}
