//! The sync heap's slot pools (gc-core/src/sync/pool.rs, SP1–SP3): blocks
//! freed on other threads go back to their pool and are reused, a pool
//! outlives its thread with its slot and is adopted by the next thread,
//! and objects that do not fit use the global allocator.
#![cfg(all(feature = "pool", not(loom)))]

use pygc::__private::{
    sync_pool_pages, sync_slot_id, POOL_CHUNK_PAGES, POOL_MAX_IDLE_PAGES_ONE_CLASS,
};
use pygc::sync::{self, GcMutex};
use pygc::Trace;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;

/// The tests count pages of the pools of free slots: one at a time (a
/// thread spawned meanwhile would adopt a free slot).
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Objects per batch: many pages natively, fewer under Miri.
const BATCH: u64 = if cfg!(miri) { 300 } else { 20_000 };

struct Probe(Arc<AtomicUsize>);

impl Drop for Probe {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A small tracked node (a pool block).
#[derive(Trace)]
struct Node {
    next: GcMutex<Option<sync::Gc<Node>>>,
    value: u64,
    #[trace(skip)]
    _probe: Probe,
}

fn node(value: u64, drops: &Arc<AtomicUsize>) -> sync::Gc<Node> {
    sync::Gc::new(Node {
        next: GcMutex::new(None),
        value,
        _probe: Probe(drops.clone()),
    })
}

/// Producers allocate, consumers on other threads drop (remote frees, SP3),
/// batch after batch: each producer's pool takes its freed blocks back
/// before it grows, so its pages stay within about two batches' worth
/// (without the take-over they would grow with every batch). Values are
/// intact when dropped (no block is handed out twice).
#[test]
fn cross_thread_frees_are_reused() {
    let _s = serial();
    let rounds = if cfg!(miri) { 3 } else { 20 };
    let drops = Arc::new(AtomicUsize::new(0));
    let producers: Vec<_> = (0..2)
        .map(|p| {
            let drops = drops.clone();
            thread::spawn(move || {
                let (to_consumer, batches) = mpsc::channel::<Vec<sync::Gc<Node>>>();
                let (done, acks) = mpsc::channel::<u64>();
                let consumer = thread::spawn(move || {
                    for batch in batches {
                        let mut sum = 0;
                        for n in batch {
                            sum += n.value;
                            drop(n); // a remote free
                        }
                        done.send(sum).unwrap();
                    }
                });
                let mut most_pages = 0;
                for r in 0..rounds {
                    let batch: Vec<_> = (0..BATCH)
                        .map(|i| node(p * 1_000_000 + i, &drops))
                        .collect();
                    most_pages = most_pages.max(sync_pool_pages().0);
                    to_consumer.send(batch).unwrap();
                    let sum = acks.recv().unwrap();
                    assert_eq!(
                        sum,
                        (0..BATCH).map(|i| p * 1_000_000 + i).sum::<u64>(),
                        "round {r}"
                    );
                }
                drop(to_consumer);
                consumer.join().unwrap();
                most_pages
            })
        })
        .collect();
    let per_batch = (BATCH as usize * 64).div_ceil(pygc::__private::POOL_PAGE_SIZE);
    for p in producers {
        let most = p.join().unwrap();
        assert!(
            most <= 3 * per_batch + 2 * POOL_CHUNK_PAGES,
            "producer pool grew to {most} pages (a batch is ~{per_batch})"
        );
    }
    assert_eq!(drops.load(SeqCst) as u64, 2 * rounds * BATCH);
}

/// Many threads allocate and free each other's objects at once; every value
/// is dropped exactly once and every object is intact.
#[test]
fn many_threads_free_each_others_objects() {
    let _s = serial();
    let threads = 4;
    let per = if cfg!(miri) { 50 } else { 5_000 };
    let drops = Arc::new(AtomicUsize::new(0));
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..threads)
        .map(|_| mpsc::channel::<sync::Gc<Node>>())
        .unzip();
    let handles: Vec<_> = receivers
        .into_iter()
        .enumerate()
        .map(|(t, rx)| {
            let next = senders[(t + 1) % threads].clone();
            let drops = drops.clone();
            thread::spawn(move || {
                for i in 0..per {
                    next.send(node(t as u64 * 1_000_000 + i, &drops)).unwrap();
                    // Drop what the previous thread sent so far.
                    while let Ok(n) = rx.try_recv() {
                        assert!(n.value % 1_000_000 < per);
                    }
                }
                drop(next);
                rx
            })
        })
        .collect();
    drop(senders);
    let rest: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for rx in rest {
        rx.try_iter().for_each(drop);
    }
    assert_eq!(drops.load(SeqCst) as u64, threads as u64 * per);
}

/// A thread exits with live objects; they are freed later on the main
/// thread (remote frees into the pool of a slot no thread holds), and a
/// full collection takes them back and gives the empty chunks away (SP1).
#[test]
fn thread_exit_with_live_objects_freed_later() {
    let _s = serial();
    let drops = Arc::new(AtomicUsize::new(0));
    // This thread holds a slot of its own first, so that its frees below
    // go to the exited thread's pool as remote frees.
    drop(node(0, &drops));
    let d = drops.clone();
    // Natively, enough pages that the give-back below is measurable; under
    // Miri, one batch (the give-back is not asserted there: its chunks are
    // smaller than what an idle pool may keep).
    let n = if cfg!(miri) { BATCH } else { 8 * BATCH };
    let (kept, pages_t) = thread::spawn(move || {
        let kept = (0..n).map(|i| node(i, &d)).collect::<Vec<_>>();
        (kept, sync_pool_pages().0)
    })
    .join()
    .unwrap();
    let (_, free_before) = sync_pool_pages();
    let per_page = pygc::__private::POOL_PAGE_SIZE / 64;
    assert!(pages_t >= n as usize / per_page);
    assert!(
        free_before >= pages_t,
        "the exited thread's pool keeps its pages"
    );
    assert_eq!(
        kept.iter().map(|k| k.value).sum::<u64>(),
        (0..n).sum::<u64>()
    );
    drop(kept);
    assert_eq!(drops.load(SeqCst) as u64, n + 1);
    sync::gc::collect();
    let (_, free_after) = sync_pool_pages();
    if !cfg!(miri) {
        let keeps = POOL_MAX_IDLE_PAGES_ONE_CLASS + POOL_CHUNK_PAGES;
        assert!(
            pages_t > keeps && free_before - free_after >= pages_t - keeps,
            "a full collection gives back the exited pool's empty chunks: \
             {pages_t} pages of {free_before} -> {free_after}"
        );
    }
}

/// A new thread adopts the slot (and pool) an exited thread gave back: the
/// blocks the old thread's objects occupy are freed into it from another
/// thread while the new one holds it, and reused there.
#[test]
fn slot_and_pool_adopted_by_the_next_thread() {
    let _s = serial();
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    let (kept, pages_a, slot_a) = thread::spawn(move || {
        let kept: Vec<_> = (0..BATCH).map(|i| node(i, &d)).collect();
        (kept, sync_pool_pages().0, sync_slot_id())
    })
    .join()
    .unwrap();
    // Other tests' threads may have given slots back after A: enough
    // threads each take one (a distinct free slot each, or a new one) and
    // hold it; the one that holds A's pool runs the test.
    let takers = 32;
    let barrier = Arc::new(std::sync::Barrier::new(takers + 1));
    let (freed_tx, freed_rx) = mpsc::channel::<()>();
    let freed_rx = Arc::new(Mutex::new(freed_rx));
    let threads: Vec<_> = (0..takers)
        .map(|_| {
            let (d, barrier, freed_rx) = (drops.clone(), barrier.clone(), freed_rx.clone());
            thread::spawn(move || {
                let first = node(0, &d); // takes a slot
                let adopted = sync_pool_pages().0;
                let mine = sync_slot_id();
                barrier.wait();
                if mine != slot_a {
                    return None;
                }
                freed_rx.lock().unwrap().recv().unwrap();
                let again: Vec<_> = (0..BATCH).map(|i| node(i, &d)).collect();
                let after = sync_pool_pages().0;
                drop((first, again));
                Some((adopted, after))
            })
        })
        .collect();
    barrier.wait();
    drop(kept); // remote frees into the adopter's pool, while it holds its slot
    freed_tx.send(()).unwrap();
    let results: Vec<_> = threads
        .into_iter()
        .filter_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(
        results.len(),
        1,
        "exactly one thread adopted A's pool ({pages_a} pages)"
    );
    let (adopted, after) = results[0];
    assert!(
        adopted >= pages_a,
        "the adopter holds A's pool, pages and all"
    );
    assert!(
        after <= adopted + 1,
        "the adopter reused the blocks freed from main: {adopted} -> {after} pages"
    );
    assert_eq!(drops.load(SeqCst), 2 * BATCH as usize + takers);
}

/// Too big for a pool block (over 512 bytes).
#[derive(Trace)]
struct Big {
    next: GcMutex<Option<sync::Gc<Big>>>,
    payload: [u64; 80],
}

/// Aligned past the pool's 16 bytes.
#[derive(Trace)]
#[repr(align(64))]
struct Aligned {
    next: GcMutex<Option<sync::Gc<Aligned>>>,
    x: u8,
}

/// Objects that do not fit come from the global allocator: no pool page
/// is used for them, and they are freed and collected across threads.
#[test]
fn objects_that_do_not_fit_use_the_global_allocator() {
    let _s = serial();
    let (pages, bigs, aligned) = thread::spawn(|| {
        // Take a slot (and its pool) first.
        drop(sync::Gc::new(Aligned {
            next: GcMutex::new(None),
            x: 0,
        }));
        let before = sync_pool_pages().0;
        let bigs: Vec<_> = (0..2000)
            .map(|i| {
                sync::Gc::new(Big {
                    next: GcMutex::new(None),
                    payload: [i; 80],
                })
            })
            .collect();
        let aligned: Vec<_> = (0..2000)
            .map(|i| {
                sync::Gc::new(Aligned {
                    next: GcMutex::new(None),
                    x: i as u8,
                })
            })
            .collect();
        (sync_pool_pages().0 - before, bigs, aligned)
    })
    .join()
    .unwrap();
    assert_eq!(pages, 0, "no pool page for objects that do not fit");
    assert!(aligned
        .iter()
        .all(|a| (&**a as *const Aligned as usize) % 64 == 0));
    // Cycles among them, collected.
    *bigs[0].next.lock() = Some(bigs[1].clone());
    *bigs[1].next.lock() = Some(bigs[0].clone());
    *aligned[0].next.lock() = Some(aligned[0].clone());
    assert_eq!(bigs[1].payload[3], 1);
    thread::spawn(move || drop((bigs, aligned))).join().unwrap();
    assert_eq!(sync::gc::collect(), 3);
}
