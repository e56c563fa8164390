//! The thread-safe heap: [`Gc`], [`Weak`], [`GcAny`], [`GcMutex`],
//! [`GcRwLock`] and the [`gc`] module that collects it.
//!
//! Objects of this heap may be shared between threads (`T: Send + Sync`),
//! mutable state lives in [`GcMutex`] / [`GcRwLock`], and cycles across
//! threads are collected by the same collector core as the per-thread heap
//! (`collector::gc_collect_main`, generic over `CollectorHeap`), on whichever
//! thread calls [`gc::collect`] or crosses the allocation threshold.
//!
//! ```
//! use pygc::sync::{gc, Gc, GcMutex, GcRwLock, Weak};
//! use pygc::Trace;
//! use std::thread;
//!
//! #[derive(Trace)]
//! struct Account {
//!     balance: GcMutex<i64>,
//!     peers: GcRwLock<Vec<Gc<Account>>>,
//!     owner: GcMutex<Weak<Account>>,
//! }
//!
//! let new = || Gc::new(Account {
//!     balance: GcMutex::new(0),
//!     peers: GcRwLock::new(Vec::new()),
//!     owner: GcMutex::new(Weak::new()),
//! });
//! let (a, b) = (new(), new());
//! let workers: Vec<_> = [(a.clone(), b.clone()), (b.clone(), a.clone())]
//!     .into_iter()
//!     .map(|(me, peer)| thread::spawn(move || {
//!         *me.balance.lock() += 10;
//!         me.peers.write().push(peer);         // a <-> b, across threads
//!     }))
//!     .collect();
//! for w in workers { w.join().unwrap(); }
//! *a.owner.lock() = Gc::downgrade(&b);
//! assert_eq!(*a.balance.lock() + *b.balance.lock(), 20);
//! let watch = Gc::downgrade(&a);
//! drop((a, b));
//! // The cycle is garbage now; the collector stops the world, finds it
//! // and frees both objects.
//! assert!(gc::collect() >= 2);
//! assert!(watch.upgrade().is_none());
//! ```
//!
//! # Synchronisation design
//!
//! Trial deletion needs a graph that holds still. Every guard of a
//! `GcMutex` or `GcRwLock` and every `Weak::upgrade` holds a *permit*: its
//! thread is *attached* (module `world`: an increment of the permit depth
//! in the thread's own slot and a load of that slot's flags, where the
//! collector posts its stop requests; no lock, no atomic read-modify-write,
//! no shared cache line; invariants W1–W5). The collector *stops the world* by requesting a stop,
//! issuing a process-wide barrier and waiting until every slot is detached
//! — for a bounded time: if the world does not stop by the deadline, the
//! request is withdrawn and the collection does not run (`gc::try_collect`
//! returns `None`, `gc::collect` 0). A tracked object starts in its
//! allocating thread's *nursery* (module `nursery`, invariants N1–N6): a
//! slot of a per-thread chunk, filled while the thread is attached and
//! emptied, again attached, by whichever thread's drop kills the object —
//! no global lock on either path. Each stop of the world gathers every
//! nursery onto the generation-0 list, so the collector only sees lists. A
//! separate list lock (`state`) guards the lists and the old generations'
//! counters: deaths of objects already gathered unlink under it while the
//! world runs; the collector marks it `stopped` for its stopped phases.
//!
//! Invariants (S1–S6), relied on by the `// SAFETY:` comments here:
//!
//! * **S1 (edges).** A traced edge changes only through a `GcMutex` /
//!   `GcRwLock` guard (which holds a permit), when its owner's value is
//!   dropped, or through a `&mut` that `Gc::get_mut` lent out (the object is
//!   then MUT_EXPOSED and not traced, header I6). So while the world is
//!   stopped no traced edge of a linked object changes.
//! * **S2 (new strong handles).** A strong handle is made only by cloning an
//!   existing one (its object is already counted as referenced, or reached
//!   through a reachable object's field) or by `Weak::upgrade`, which holds a
//!   permit. So while the world is stopped the collector never misses an
//!   outside reference: increments by other threads only make `gc_refs` too
//!   large (conservative).
//! * **S3 (pending deaths).** A thread whose drop brought a strong count to
//!   zero may be waiting to attach or for the list lock; `update_refs` counts a zero
//!   strong count as one outside reference (that thread owns the object), so
//!   the object survives the collection and that thread finishes its death
//!   later. (`Gc::new_cyclic` links its object at strong 0 the same way.)
//! * **S4 (lists).** Headers' `next`/`prev` words of objects on a list are
//!   read or written only under the list lock while the world runs, or by
//!   the collector while it has stopped the world, or (trash) by the
//!   collector alone: trash is reachable from no other thread (no outside
//!   strong handle, weak handles cleared while stopped). Objects in a
//!   nursery (`IN_NURSERY`) are on no list; their headers follow N4. The
//!   link words are `primitive::LinkCell`s: under loom every access is
//!   checked for a race, so the models check this rule and N4 (a mutant
//!   that links a new object before taking the list lock fails
//!   `allocation_and_death_racing_a_collection`).
//! * **S5 (user code).** Finalizers, weak callbacks and `gc` callbacks run on
//!   the collecting thread with the world *running* (HAZARDS 18): they may
//!   lock `GcMutex`es held by other threads without deadlock. The world is
//!   stopped from `update_refs` through the weak-clearing half of
//!   `handle_weakrefs`, and for `handle_resurrected_objects`, only; no user code but
//!   `Trace::trace` runs then.
//! * **S6 (no self-deadlock, bounded waits).** A thread that holds a permit
//!   never stops the world (`try_collect` returns `None` there, `collect`
//!   0). A stop waits at most its deadline for other threads' permits (W3);
//!   a thread waiting for a permit or for the list lock waits only for a
//!   stop request or a stopped phase, which never waits on it. Automatic
//!   collections wait at most `AUTO_STOP_TIMEOUT` (50 µs) and then back
//!   off. If `handle_resurrected_objects` cannot stop the world again, the
//!   trash whose finalizers ran is kept as resurrected (`collector`'s
//!   `keep_unconfirmed_trash`) and freed by a later collection.
//!
//! # Lock order for users
//!
//! A guard is a permit: while a thread holds one, no collection can run.
//! Collections never block forever on that — `gc::collect` gives up after
//! one second and returns 0, `gc::try_collect(timeout)` after `timeout` and
//! returns `None`, automatic collections after 50 µs — but a collection
//! that gives up collects nothing. So:
//!
//! * do not hold a `GcMutex`/`GcRwLock` guard while waiting for something
//!   (a lock, a channel, a join) that another thread provides only after
//!   its `gc::collect()` returns: the collection gives up (it cannot hang);
//! * keep guards short, and never `mem::forget` one: until it is released
//!   every collection gives up;
//! * `gc::collect` inside a guard returns 0 at once (this thread is
//!   attached); collect after releasing it.
//!
//! Counts are atomics with the orderings `std::sync::Arc` uses (see
//! `SyncCounts`).
//!
//! # Files
//!
//! * `heap.rs` — the sync heap (layer 2): lists, list lock, young count,
//!   registries.
//! * `nursery.rs` — per-thread nurseries (N1–N6): allocation and refcount
//!   death without a global lock.
//! * `pool.rs` — per-slot object pools with cross-thread frees (SP1–SP3).
//! * `counts.rs` — `SyncCounts`, the atomic counts and the weak epochs.
//! * `dealloc.rs` — refcount death with the per-thread trashcan.
//! * `world.rs` — the attach slots and the bounded stop-the-world.
//! * `handle.rs`, `weak.rs`, `any.rs`, `dst.rs` — `Gc`, `Weak`, `GcAny`, unsized
//!   values (handles).
//! * `lock.rs` — `GcMutex`, `GcRwLock` (handles).
//! * `gc.rs` — the `gc` API of this heap.

mod any;
pub(crate) mod counts;
pub(crate) mod dealloc;
pub(crate) mod dst;
mod handle;
pub(crate) mod heap;
mod lock;
pub(crate) mod nursery;
pub(crate) mod pool;
mod raw;
mod weak;
pub(crate) mod world;

pub mod gc;

pub use any::GcAny;
pub use handle::Gc;
pub use lock::{GcMutex, GcMutexGuard, GcRwLock, GcRwLockReadGuard, GcRwLockWriteGuard};
pub use weak::Weak;
