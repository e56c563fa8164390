//! Weak handles owned by cyclic trash are cleared by the collection that
//! finds the trash, whatever they point at — CPython's `handle_weakrefs`
//! clears every weakref object in the unreachable set (bpo-38006) — so a
//! finalizer of the trash, or its owner once resurrected, gets nothing from
//! them, and `weak_count` no longer counts them; other handles to the same
//! object are untouched, and new ones work. Both heaps, compared with
//! CPython 3.11 run side by side (with the output it gave recorded for
//! machines without `python3`).

use gc_tests::{fresh, log, take_log};
use pygc::{gc, sync, Finalize, Gc, Trace, Weak};
use std::cell::RefCell;
use std::sync::Mutex;

/// The scenario in Python. `R` subclasses `weakref.ref` so that each
/// handle is an object of its own (CPython shares callback-less
/// `weakref.ref`s to one object).
const SCENARIO: &str = r#"
import gc, weakref
gc.disable()
log = []; saved = []
class R(weakref.ref): pass
class Fin:
    def __init__(s, name): s.name = name; s.next = None; s.peer = None; s.resurrect = False
    def __del__(s):
        log.append("finalize " + s.name)
        if s.peer is not None:
            log.append(f"{s.name} upgrades peer: {'some' if s.peer() is not None else 'none'}")
        if s.resurrect: saved.append(s)
live = Fin("live")
r = Fin("r"); r.next = r; r.resurrect = True; r.peer = R(live)
other = R(live)
log.append(f"weak count before: {weakref.getweakrefcount(live)}")
del r
gc.collect()
r = saved.pop()
log.append(f"r upgrades peer after: {'some' if r.peer() is not None else 'none'}")
log.append(f"other upgrades: {'some' if other() is not None else 'none'}")
log.append(f"weak count after: {weakref.getweakrefcount(live)}")
r.peer2 = R(live)
log.append(f"new handle upgrades: {'some' if r.peer2() is not None else 'none'}")
log.append(f"weak count with new: {weakref.getweakrefcount(live)}")
r.next = None; r.peer2 = None
del r
log.append(f"weak count at end: {weakref.getweakrefcount(live)}")
for line in log: print(line)
"#;

/// What CPython 3.11 printed for [`SCENARIO`] (2026-12-03).
const CPYTHON_3_11: [&str; 9] = [
    "weak count before: 2",
    "finalize r",
    "r upgrades peer: none",
    "r upgrades peer after: none",
    "other upgrades: some",
    "weak count after: 1",
    "new handle upgrades: some",
    "weak count with new: 2",
    "weak count at end: 1",
];

/// CPython's lines for [`SCENARIO`]: run `python3` if there is one (and
/// check it still prints what was recorded), else the recorded output.
fn cpython() -> Vec<String> {
    let recorded: Vec<String> = CPYTHON_3_11.iter().map(|s| s.to_string()).collect();
    match std::process::Command::new("python3")
        .args(["-c", SCENARIO])
        .output()
    {
        Ok(out) if out.status.success() => {
            let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_string)
                .collect();
            assert_eq!(lines, recorded, "CPython's output changed");
            lines
        }
        _ => {
            eprintln!("notice: python3 not found; compared with CPython 3.11's recorded output");
            recorded
        }
    }
}

fn some(found: bool) -> &'static str {
    if found {
        "some"
    } else {
        "none"
    }
}

// --- the per-thread heap ---------------------------------------------------

#[derive(Trace)]
#[trace(finalize)]
struct Fin {
    name: &'static str,
    next: RefCell<Option<Gc<Fin>>>,
    peer: RefCell<Option<Weak<Fin>>>,
    peer2: RefCell<Option<Weak<Fin>>>,
    resurrect: bool,
}

thread_local! {
    static SAVED: RefCell<Vec<Gc<Fin>>> = const { RefCell::new(Vec::new()) };
}

impl Finalize for Fin {
    fn finalize(&self) {
        log(format!("finalize {}", self.name));
        if let Some(peer) = self.peer.borrow().as_ref() {
            log(format!(
                "{} upgrades peer: {}",
                self.name,
                some(peer.upgrade().is_some())
            ));
        }
        if self.resurrect {
            let me = Gc::from_finalizing(self).expect("its own finalizer");
            SAVED.with(|s| s.borrow_mut().push(me));
        }
    }
}

fn fin(name: &'static str, resurrect: bool) -> Gc<Fin> {
    Gc::new(Fin {
        name,
        next: RefCell::new(None),
        peer: RefCell::new(None),
        peer2: RefCell::new(None),
        resurrect,
    })
}

#[test]
fn a_resurrected_owner_finds_its_weak_handle_cleared_as_in_cpython() {
    fresh();
    take_log();
    let live = fin("live", false);
    let r = fin("r", true);
    *r.next.borrow_mut() = Some(r.clone());
    *r.peer.borrow_mut() = Some(Gc::downgrade(&live));
    let other = Gc::downgrade(&live);
    log(format!("weak count before: {}", Gc::weak_count(&live)));
    drop(r);
    gc::collect();
    let r = SAVED.with(|s| s.borrow_mut().pop()).expect("resurrected");
    let peer = r.peer.borrow().clone().expect("set");
    log(format!(
        "r upgrades peer after: {}",
        some(r.peer.borrow().as_ref().unwrap().upgrade().is_some())
    ));
    log(format!(
        "other upgrades: {}",
        some(other.upgrade().is_some())
    ));
    log(format!("weak count after: {}", Gc::weak_count(&live)));
    *r.peer2.borrow_mut() = Some(Gc::downgrade(&live));
    log(format!(
        "new handle upgrades: {}",
        some(r.peer2.borrow().as_ref().unwrap().upgrade().is_some())
    ));
    log(format!("weak count with new: {}", Gc::weak_count(&live)));
    // A clone of a cleared handle is cleared too, and counts for nothing.
    assert!(peer.upgrade().is_none());
    assert_eq!((peer.strong_count(), peer.weak_count()), (0, 0));
    assert_eq!(Gc::weak_count(&live), 2, "the clone is not counted");
    drop(peer);
    *r.next.borrow_mut() = None;
    *r.peer2.borrow_mut() = None;
    drop(r);
    log(format!("weak count at end: {}", Gc::weak_count(&live)));
    assert_eq!(take_log(), cpython());
    assert_eq!(other.weak_count(), 1);
    drop(live);
    assert!(other.upgrade().is_none());
}

#[test]
fn a_cleared_handle_round_trips_through_a_raw_pointer_cleared() {
    fresh();
    take_log();
    let live = fin("live", false);
    let r = fin("r", true);
    *r.next.borrow_mut() = Some(r.clone());
    *r.peer.borrow_mut() = Some(Gc::downgrade(&live));
    drop(r);
    gc::collect();
    let r = SAVED.with(|s| s.borrow_mut().pop()).expect("resurrected");
    let raw = r.peer.borrow().clone().unwrap().into_raw();
    // SAFETY: from `into_raw` just above, rebuilt once.
    let back = unsafe { Weak::from_raw(raw) };
    assert!(back.upgrade().is_none());
    assert_eq!(Gc::weak_count(&live), 0);
    drop(back);
    let fresh_handle = Gc::downgrade(&live);
    assert!(fresh_handle.upgrade().is_some());
    assert_eq!(Gc::weak_count(&live), 1);
    *r.next.borrow_mut() = None;
    drop(r);
    take_log();
}

// --- the sync heap -------------------------------------------------------

#[derive(Trace)]
#[trace(finalize)]
struct SyncFin {
    #[trace(skip)]
    name: &'static str,
    next: sync::GcMutex<Option<sync::Gc<SyncFin>>>,
    peer: sync::GcMutex<Option<sync::Weak<SyncFin>>>,
    peer2: sync::GcMutex<Option<sync::Weak<SyncFin>>>,
    #[trace(skip)]
    resurrect: bool,
}

static SYNC_LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());
static SYNC_SAVED: Mutex<Vec<sync::Gc<SyncFin>>> = Mutex::new(Vec::new());
/// The sync heap is shared by the tests of this binary: one at a time.
static SYNC_SERIAL: Mutex<()> = Mutex::new(());

fn slog(line: String) {
    SYNC_LOG.lock().unwrap().push(line);
}

impl Finalize for SyncFin {
    fn finalize(&self) {
        slog(format!("finalize {}", self.name));
        if let Some(peer) = self.peer.lock().as_ref() {
            slog(format!(
                "{} upgrades peer: {}",
                self.name,
                some(peer.upgrade().is_some())
            ));
        }
        if self.resurrect {
            let me = sync::Gc::from_finalizing(self).expect("its own finalizer");
            SYNC_SAVED.lock().unwrap().push(me);
        }
    }
}

fn sync_fin(name: &'static str, resurrect: bool) -> sync::Gc<SyncFin> {
    sync::Gc::new(SyncFin {
        name,
        next: sync::GcMutex::new(None),
        peer: sync::GcMutex::new(None),
        peer2: sync::GcMutex::new(None),
        resurrect,
    })
}

#[test]
fn sync_a_resurrected_owner_finds_its_weak_handle_cleared_as_in_cpython() {
    let _serial = SYNC_SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    while sync::gc::collect() != 0 {}
    SYNC_LOG.lock().unwrap().clear();
    let live = sync_fin("live", false);
    let r = sync_fin("r", true);
    *r.next.lock() = Some(r.clone());
    *r.peer.lock() = Some(sync::Gc::downgrade(&live));
    let other = sync::Gc::downgrade(&live);
    slog(format!(
        "weak count before: {}",
        sync::Gc::weak_count(&live)
    ));
    drop(r);
    sync::gc::collect();
    let r = SYNC_SAVED.lock().unwrap().pop().expect("resurrected");
    let peer = r.peer.lock().clone().expect("set");
    slog(format!(
        "r upgrades peer after: {}",
        some(peer.upgrade().is_some())
    ));
    slog(format!(
        "other upgrades: {}",
        some(other.upgrade().is_some())
    ));
    slog(format!("weak count after: {}", sync::Gc::weak_count(&live)));
    *r.peer2.lock() = Some(sync::Gc::downgrade(&live));
    let new_upgrades = r.peer2.lock().as_ref().unwrap().upgrade().is_some();
    slog(format!("new handle upgrades: {}", some(new_upgrades)));
    // `peer` (a clone of the cleared handle) is cleared too and not counted.
    slog(format!(
        "weak count with new: {}",
        sync::Gc::weak_count(&live)
    ));
    assert_eq!((peer.strong_count(), peer.weak_count()), (0, 0));
    drop(peer);
    *r.next.lock() = None;
    *r.peer2.lock() = None;
    drop(r);
    slog(format!(
        "weak count at end: {}",
        sync::Gc::weak_count(&live)
    ));
    let ours = std::mem::take(&mut *SYNC_LOG.lock().unwrap());
    assert_eq!(ours, cpython());
    drop(live);
    assert!(other.upgrade().is_none());
}
