//! The per-thread heap: generation lists, counters, the registries, and the
//! thread-local that holds them.
//!
//! # Thread exit (HAZARDS 9)
//!
//! The heap pointer lives in a `const`-initialised thread-local without a
//! destructor, so it can be read at any point of thread exit, including from
//! other thread-locals' destructors. A second thread-local, [`HeapGuard`],
//! runs at thread exit: it drops the heap's registries (garbage list, gc
//! callbacks, weak callbacks) and frees the heap if no tracked object is left
//! on its lists; otherwise it leaks the heap (objects still link to its list
//! heads). After it is freed, the pointer holds [`DESTROYED`]: handles made or
//! dropped after that point run without a heap (no tracking, no trashcan,
//! no weak callbacks), never touching freed memory.
//!
//! * **H1 (thread heap).** The thread-local pointer is null (no heap yet),
//!   [`DESTROYED`], or a `Heap` leaked from a `Box` by [`heap()`] on this
//!   thread and not freed: only `HeapGuard` frees it, at thread exit, when
//!   no object links to its list heads, and stores `DESTROYED` first. A
//!   `&'static Heap` never leaves its thread (`Heap` is `!Sync`).
//! * **H2 (sweepable heap).** `Heap::unswept` counts the live allocations
//!   of the heap's tracked objects whose header does not start a pool
//!   block: from the global allocator (P1: over [`pool::MAX_BLOCK`], or
//!   the `pool` feature off) or with the header 8 bytes into the block
//!   (16-aligned types, run-time tracked slices, whose length comes
//!   first); see [`swept`]. It goes up when one is allocated while the
//!   heap exists and down when that allocation is freed (`alloc.rs`,
//!   `dst.rs`). So while it is 0, every tracked object of the heap is in a
//!   pool block that starts with its header, and every allocated block of
//!   the pool holds one (P1): the pool's sweep
//!   (`Pool::for_each_allocated_block`, P4) visits exactly the heap's
//!   tracked objects, each at its header. A full collection relies on it to
//!   find its set in address order (`collector::reachability`,
//!   `FirstPass::Swept`).

pub(crate) mod alloc;
pub(crate) mod counts;
pub(crate) mod dealloc;
pub(crate) mod death;
pub(crate) mod dst;
pub(crate) mod finalizing;
pub(crate) mod gen;
pub(crate) mod header;
pub(crate) mod list;
pub(crate) mod owned;
pub(crate) mod pool;
pub(crate) mod spaces;
pub(crate) mod weakcb;
pub(crate) mod weakepoch;

use crate::types::{CallbackId, CollectionInfo, Phase, NUM_GENERATIONS};
use header::Counts;
use header::{Node, ObjPtr};
use list::List;
use owned::OwnedRef;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// A registered `gc` callback.
pub(crate) type GcCallback = Rc<RefCell<dyn FnMut(Phase, &CollectionInfo)>>;

/// The per-thread heap.
pub(crate) struct Heap {
    /// Generation lists 0, 1, 2.
    pub(crate) generations: [List; NUM_GENERATIONS],
    /// The permanent generation (`gc.freeze()`).
    pub(crate) permanent: List,
    /// Counts, thresholds, statistics, debug flags (`count[0]` is the
    /// young count).
    pub(crate) gen: gen::GenState,
    /// A collection is running (no nesting).
    pub(crate) collecting: Cell<bool>,
    pub(crate) garbage: RefCell<Vec<OwnedRef<Counts>>>,
    pub(crate) callbacks: RefCell<Vec<(CallbackId, GcCallback)>>,
    pub(crate) next_callback_id: Cell<u64>,
    pub(crate) weak_callbacks: RefCell<weakcb::Registry>,
    /// Weak epochs of objects whose handles were cleared (header I2).
    pub(crate) weak_epochs: RefCell<weakepoch::Table>,
    /// Trashcan: current nesting depth of refcount deallocations.
    pub(crate) trash_depth: Cell<usize>,
    /// Trashcan: deferred deallocations, linked through `Header::prev`.
    pub(crate) trash_delete_later: Cell<usize>,
    /// Trashcan: deferred deallocations of untracked objects (no header to
    /// link through; only a type that hides handles in `#[trace(skip)]`
    /// fields can chain them).
    pub(crate) trash_untracked: RefCell<Vec<ObjPtr>>,
    /// An object of a type with a legacy finalizer was allocated on this
    /// heap at some point (sticky; lets collections skip
    /// `move_legacy_finalizers` otherwise).
    pub(crate) legacy_seen: Cell<bool>,
    /// Likewise for PEP 442 finalizers (lets collections take the lean path:
    /// no finalizer can run, so no weak-clearing walk is needed).
    pub(crate) pep442_seen: Cell<bool>,
    /// Trashcan: something was deferred (either list may be non-empty).
    pub(crate) trash_pending: Cell<bool>,
    /// Where small tracked objects live (invariants P1, P2 in `pool`).
    pub(crate) pool: pool::Pool,
    /// The collector mode and the incremental mode's spaces.
    pub(crate) spaces: spaces::Spaces,
    /// Tracked objects the pool's sweep cannot find (H2).
    unswept: Cell<usize>,
    /// The last full collection's side table, kept for the next one
    /// (`collector::side`).
    pub(crate) side: Cell<Vec<u32>>,
    /// Whether full collections use a side table (tests can force it).
    pub(crate) side_mode: Cell<SideMode>,
    /// The last full collection moved more objects to its unreachable
    /// list than half its set, or there was none yet: the next one does
    /// without a side table (`collector::side`).
    pub(crate) side_last_moved: Cell<bool>,
    /// The last full collection of a sweepable heap used a side table
    /// (for tests).
    pub(crate) side_used: Cell<bool>,
}

/// Whether the per-thread heap's full collections use a side table
/// (`collector::side`). A new heap takes it from the environment variable
/// `PYGC_SIDE_TABLE` (`auto`, the default; `always`; `never`), so that a
/// test suite can run each way; `__private::set_side_table` changes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SideMode {
    /// When the last full collection did not move most of its set to
    /// the unreachable list.
    Auto,
    /// Whenever the heap is sweepable (tests).
    Always,
    /// Never (tests).
    Never,
}

impl SideMode {
    /// The mode `PYGC_SIDE_TABLE` asks for.
    fn from_env() -> SideMode {
        match std::env::var_os("PYGC_SIDE_TABLE") {
            None => SideMode::Auto,
            Some(v) if v == "auto" || v.is_empty() => SideMode::Auto,
            Some(v) if v == "always" => SideMode::Always,
            Some(v) if v == "never" => SideMode::Never,
            Some(v) => {
                panic!("pygc: PYGC_SIDE_TABLE is {v:?}; it must be `auto`, `always` or `never`")
            }
        }
    }
}

/// Whether the pool's sweep finds an object (H2): it is in a pool block
/// (`pooled`) whose start is its header (`header_at`: the header's offset
/// in the allocation).
#[inline(always)]
pub(crate) const fn swept(pooled: bool, header_at: usize) -> bool {
    pooled && header_at == 0
}

/// The state of the thread-local heap pointer after the heap was freed.
const DESTROYED: usize = 1;

thread_local! {
    static HEAP: Cell<*const Heap> = const { Cell::new(std::ptr::null()) };
    static GUARD: HeapGuard = const { HeapGuard };
}

struct HeapGuard;

impl Drop for HeapGuard {
    fn drop(&mut self) {
        let ptr = HEAP.with(Cell::get);
        if ptr.is_null() || ptr as usize == DESTROYED {
            return;
        }
        // SAFETY: H1: a non-null, non-DESTROYED pointer is a live leaked heap of
        // this thread.
        let heap = unsafe { &*ptr };
        if heap.collecting.get() {
            return;
        }
        // Drop what the registries hold; that may run user code which may
        // register more, so repeat until nothing is left.
        for _ in 0..16 {
            let garbage = std::mem::take(&mut *heap.garbage.borrow_mut());
            let callbacks = std::mem::take(&mut *heap.callbacks.borrow_mut());
            let weak = heap.weak_callbacks.borrow_mut().take_all();
            let empty = garbage.is_empty() && callbacks.is_empty() && weak.is_empty();
            drop((garbage, callbacks, weak));
            if empty {
                break;
            }
        }
        let lists_empty = heap
            .tracked_lists()
            .into_iter()
            .chain(std::iter::once(heap.permanent.head()))
            .all(list::is_empty);
        // P1: the heap (and its pool) outlives every block of the pool.
        if lists_empty && heap.trash_depth.get() == 0 && heap.pool.all_free() {
            HEAP.with(|h| h.set(DESTROYED as *const Heap));
            // SAFETY: H1: the heap was leaked from a Box in `heap()`; no object
            // links to its list heads (all empty) and the thread-local no
            // longer hands it out.
            drop(unsafe { Box::from_raw(ptr as *mut Heap) });
        }
    }
}

impl Heap {
    fn new() -> Heap {
        Heap {
            generations: [List::new(), List::new(), List::new()],
            permanent: List::new(),
            gen: gen::GenState::new(),
            collecting: Cell::new(false),
            garbage: RefCell::new(Vec::new()),
            callbacks: RefCell::new(Vec::new()),
            next_callback_id: Cell::new(1),
            weak_callbacks: RefCell::new(weakcb::Registry::default()),
            weak_epochs: RefCell::new(weakepoch::Table::new()),
            trash_depth: Cell::new(0),
            trash_delete_later: Cell::new(0),
            trash_untracked: RefCell::new(Vec::new()),
            trash_pending: Cell::new(false),
            legacy_seen: Cell::new(false),
            pep442_seen: Cell::new(false),
            pool: pool::Pool::new(),
            spaces: spaces::Spaces::new(),
            unswept: Cell::new(0),
            side: Cell::new(Vec::new()),
            side_mode: Cell::new(SideMode::from_env()),
            side_last_moved: Cell::new(true),
            side_used: Cell::new(false),
        }
    }

    /// Head of generation `g`'s list.
    #[inline(always)]
    pub(crate) fn gen_head(&self, g: usize) -> Node {
        self.generations[g].head()
    }

    /// Count a tracked allocation; returns whether an automatic collection
    /// may be due (`count[0] > threshold[0]`, `threshold[0] != 0`), as
    /// CPython's `_PyObject_GC_Link` decides. The heap only reports it: the
    /// handle layer starts the collection (`handle::note_alloc`), which
    /// checks `enabled` and that none runs.
    #[inline(always)]
    pub(crate) fn note_alloc(&self) -> bool {
        let c = self.gen.count[0].get() + 1;
        self.gen.count[0].set(c);
        let t0 = self.gen.threshold[0].get();
        c > t0 && t0 != 0
    }

    /// Link a newly allocated object into generation 0 (already counted by
    /// [`Heap::note_alloc`]).
    #[inline(always)]
    pub(crate) fn track_new<T: crate::trace::Trace>(&self, header: Node) {
        match T::__gc_finalizer() {
            crate::trace::FinalizerKind::Legacy => self.legacy_seen.set(true),
            crate::trace::FinalizerKind::Pep442 => self.pep442_seen.set(true),
            crate::trace::FinalizerKind::None => {}
        }
        list::append(header, self.gen_head(0));
    }

    /// An object that is not [`swept`] was allocated (H2).
    #[inline]
    pub(crate) fn note_unswept_alloc(&self) {
        self.unswept.set(self.unswept.get() + 1);
    }

    /// The allocation of an object counted by [`Heap::note_unswept_alloc`]
    /// is freed (H2).
    #[inline]
    pub(crate) fn note_unswept_free(&self) {
        debug_assert!(self.unswept.get() > 0, "gc: H2 count underflow");
        self.unswept.set(self.unswept.get() - 1);
    }

    /// Whether the pool's sweep finds every tracked object of the heap
    /// (H2: none is counted as outside it).
    #[inline]
    pub(crate) fn all_swept(&self) -> bool {
        self.unswept.get() == 0
    }

    /// A tracked object is being deallocated: `count[0] -= 1` (never below 0).
    #[inline(always)]
    pub(crate) fn note_dealloc(&self) {
        let c = self.gen.count[0].get();
        self.gen.count[0].set(c.saturating_sub(1));
    }
}

/// The calling thread's heap, created on first use; `None` once the thread is
/// exiting and the heap has been freed.
#[inline(always)]
pub(crate) fn heap() -> Option<&'static Heap> {
    let ptr = HEAP.with(Cell::get);
    if (ptr as usize) > DESTROYED {
        // SAFETY: H1: a pointer above DESTROYED is this thread's live, leaked
        // heap; `Heap` is !Sync so the reference cannot leave the thread, and
        // it is only freed by `HeapGuard` when nothing can reach it any more.
        Some(unsafe { &*ptr })
    } else {
        heap_slow(ptr)
    }
}

#[cold]
#[inline(never)]
fn heap_slow(ptr: *const Heap) -> Option<&'static Heap> {
    if ptr as usize == DESTROYED {
        return None;
    }
    // Register the exit guard; this fails only during thread exit.
    if GUARD.try_with(|_| ()).is_err() {
        return None;
    }
    // Keep the raw pointer of `into_raw` (not a `&` turned back into a
    // pointer): `HeapGuard` may free the heap through it.
    let raw: *mut Heap = Box::into_raw(Box::new(Heap::new()));
    HEAP.with(|h| h.set(raw));
    // SAFETY: H1: just allocated; freed only by `HeapGuard` at thread exit.
    Some(unsafe { &*raw })
}

/// The calling thread's heap; panics only during thread exit.
pub(crate) fn heap_or_panic() -> &'static Heap {
    heap().expect("gc: the thread's heap was destroyed (thread exiting)")
}
