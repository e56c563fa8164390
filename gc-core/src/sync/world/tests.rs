//! The world's unit tests.

use super::*;

/// The world tests share the process's world: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn slot_has_its_own_cache_line() {
    assert_eq!(std::mem::align_of::<ThreadSlot>(), 128);
}

#[test]
fn nested_permits_count_in_the_slot() {
    let _s = primitive::lock(&SERIAL);
    std::thread::spawn(|| {
        let outer = world().permit();
        let slot = own_slot().expect("registered");
        assert_eq!(slot.attach.attached.load(Ordering::Relaxed), 1);
        let inner = world().permit();
        assert_eq!(permits_held(), 2);
        assert_eq!(slot.attach.attached.load(Ordering::Relaxed), 2);
        drop(inner);
        assert_eq!(
            slot.attach.attached.load(Ordering::Relaxed),
            1,
            "outer still held"
        );
        drop(outer);
        assert_eq!(slot.attach.attached.load(Ordering::Relaxed), 0);
        assert_eq!(permits_held(), 0);
    })
    .join()
    .unwrap();
}

#[test]
fn exited_threads_give_their_slot_back() {
    let _s = primitive::lock(&SERIAL);
    let mut slots = 0;
    for i in 0..4 {
        let id = std::thread::spawn(|| {
            drop(world().permit());
            world().own_slot_id()
        })
        .join()
        .unwrap();
        // Only the world tests take slots in this process, one at a
        // time: the slot is back, and the next thread takes a free one.
        let r = primitive::lock(&world().registry);
        assert!(r
            .free
            .iter()
            .any(|&s| s as *const ThreadSlot as usize == id));
        if i == 0 {
            slots = r.all.len();
        }
        assert_eq!(r.all.len(), slots, "no new slot while one is free");
    }
}

/// A permit that outlives the thread's owner (kept in a thread-local
/// destroyed after it) marks the slot exiting; its release gives the slot
/// back.
#[test]
fn the_last_permit_of_an_exiting_thread_gives_the_slot_back() {
    /// What `Late`'s destructor saw: the owner was gone, the slot carried
    /// `EXITING` with one permit, and the release gave it back, detached.
    static SEEN: Mutex<Option<[bool; 4]>> = Mutex::new(None);
    struct Late(Cell<Option<Permit>>);
    impl Drop for Late {
        fn drop(&mut self) {
            let permit = self.0.take();
            let owner_gone = OWNER.try_with(|_| ()).is_err();
            let slot = own_slot().expect("held");
            let marked = slot.attach.flags.load(Ordering::Relaxed) & EXITING != 0
                && slot.attach.attached.load(Ordering::Relaxed) == 1;
            drop(permit);
            let back = own_slot().is_none()
                && primitive::lock(&world().registry)
                    .free
                    .iter()
                    .any(|&s| std::ptr::eq(s, slot));
            let detached = slot.attach.attached.load(Ordering::Relaxed) == 0
                && slot.attach.flags.load(Ordering::Relaxed) & EXITING == 0;
            *primitive::lock(&SEEN) = Some([owner_gone, marked, back, detached]);
        }
    }
    std::thread_local! {
        static LATE: Late = const { Late(Cell::new(None)) };
    }
    let _s = primitive::lock(&SERIAL);
    std::thread::spawn(|| {
        // `LATE` registers its destructor before the owner does (on the
        // first permit), so it runs after the owner's (they run in reverse
        // order of registration).
        LATE.with(|_| ());
        let permit = world().permit();
        LATE.with(|l| l.0.set(Some(permit)));
    })
    .join()
    .unwrap();
    assert_eq!(*primitive::lock(&SEEN), Some([true; 4]));
}
