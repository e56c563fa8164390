//! `Trace` for the std types added beside the first set (function pointers,
//! `Cow`, addresses, `Wrapping`/`Saturating`/`Reverse`, ranges, `Bound`,
//! `OnceLock`, `ManuallyDrop`), `pygc::leaf!`, and the `indexmap` /
//! `hashbrown` features: leaves are untracked, wrappers report what they
//! wrap (a cycle through each is collected).

use gc_tests::fresh;
use pygc::{gc, Gc, Trace};
use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Reverse;
use std::mem::ManuallyDrop;
use std::num::{Saturating, Wrapping};
use std::ops::Bound;
use std::sync::OnceLock;

fn untracked<T: Trace + 'static>(value: T) -> bool {
    !Gc::is_tracked(&Gc::new(value))
}

#[test]
fn leaves_are_untracked() {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    assert!(untracked(Ipv4Addr::LOCALHOST));
    assert!(untracked(Ipv6Addr::LOCALHOST));
    assert!(untracked(std::net::IpAddr::from(Ipv4Addr::LOCALHOST)));
    assert!(untracked(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 80)));
    assert!(untracked(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 80, 0, 0)));
    assert!(untracked(std::net::SocketAddr::from((
        Ipv4Addr::LOCALHOST,
        80
    ))));
    assert!(untracked(..));
    assert!(untracked(std::thread::current().id()));
    assert!(untracked(std::alloc::Layout::new::<u64>()));
    assert!(untracked(Wrapping(1u8)));
    assert!(untracked(Saturating(1u8)));
    assert!(untracked(Reverse(1u8)));
    assert!(untracked(1..2));
    assert!(untracked(1..=2));
    assert!(untracked(1..));
    assert!(untracked(..2));
    assert!(untracked(..=2));
    assert!(untracked(Bound::Included(1)));
    assert!(untracked(OnceLock::<u8>::new()));
    assert!(untracked(ManuallyDrop::new(1u8)));
    assert!(untracked(Cow::<'static, str>::Borrowed("a")));
    assert!(untracked(Cow::<'static, [u8]>::Owned(vec![1])));
}

fn twice(x: u32) -> u32 {
    2 * x
}

#[allow(clippy::too_many_arguments)] // the widest signature with an impl
fn add(
    a: u8,
    b: u16,
    c: u32,
    d: u64,
    e: i8,
    f: i16,
    g: i32,
    h: i64,
    i: u8,
    j: u8,
    k: u8,
    l: u8,
) -> i64 {
    i64::from(a)
        + i64::from(b)
        + i64::from(c)
        + d as i64
        + i64::from(e)
        + i64::from(f)
        + i64::from(g)
        + h
        + i64::from(i)
        + i64::from(j)
        + i64::from(k)
        + i64::from(l)
}

unsafe extern "C" fn c_abi(x: *const u8) -> u8 {
    // SAFETY: the caller passes a valid pointer (the test below does).
    unsafe { *x }
}

#[test]
fn function_pointers_are_untracked_leaves() {
    let f = Gc::new(twice as fn(u32) -> u32);
    assert!(!Gc::is_tracked(&f));
    assert_eq!((*f)(21), 42);
    let g = Gc::new(add as fn(u8, u16, u32, u64, i8, i16, i32, i64, u8, u8, u8, u8) -> i64);
    assert_eq!((*g)(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1), 12);
    assert!(untracked(c_abi as unsafe extern "C" fn(*const u8) -> u8));
    assert!(untracked((|| ()) as fn()));
    // Arguments by value may be anything, handles included: a pointer owns
    // none of them.
    assert!(untracked((|_| ()) as fn(Gc<u8>)));
    assert!(untracked((|_| ()) as unsafe fn(&'static str)));
}

/// A derived type with function pointer fields of any signature, also
/// higher-ranked ones (`fn(&mut Interp, &[Value]) -> Value`), which the
/// derive leaves out as owning nothing.
#[test]
fn derived_types_take_function_pointers_with_references() {
    struct Interp {
        depth: u32,
    }
    #[derive(Trace)]
    struct Native {
        name: &'static str,
        call: fn(&mut Interp, &[i64]) -> i64,
        check: for<'a> fn(&'a str, &'a str) -> &'a str,
    }
    fn sum(interp: &mut Interp, args: &[i64]) -> i64 {
        interp.depth += 1;
        args.iter().sum()
    }
    fn first<'a>(a: &'a str, _: &'a str) -> &'a str {
        a
    }
    let native = Gc::new(Native {
        name: "sum",
        call: sum,
        check: first,
    });
    assert!(!Gc::is_tracked(&native));
    let mut interp = Interp { depth: 0 };
    assert_eq!((native.call)(&mut interp, &[1, 2, 3]), 6);
    assert_eq!((native.check)(native.name, "x"), "sum");
    assert_eq!(interp.depth, 1);
}

#[derive(Trace)]
struct Node {
    edge: RefCell<Option<Box<dyn Trace>>>,
}

type Handle = Gc<Node>;

/// A node whose edge is `wrap(handle to itself)`: a one-object cycle that
/// only a `W` that reports its content lets the collector free. `W` must be
/// tracked (else the derive would not ask it).
fn self_cycle_is_collected<W: Trace + 'static>(wrap: impl FnOnce(Handle) -> W) {
    fresh();
    let node = Gc::new(Node {
        edge: RefCell::new(None),
    });
    let edge = wrap(node.clone());
    assert!(!untracked_type::<W>(), "{}", std::any::type_name::<W>());
    *node.edge.borrow_mut() = Some(Box::new(edge));
    drop(node);
    assert_eq!(gc::collect(), 1, "{}", std::any::type_name::<W>());
}

/// Whether `Gc<Holder<W>>` is untracked, i.e. `W` says it owns no handle.
fn untracked_type<W: Trace + 'static>() -> bool {
    #[derive(Trace)]
    struct Holder<W: Trace + 'static>(Option<W>);
    untracked(Holder::<W>(None))
}

#[test]
fn wrappers_report_what_they_wrap() {
    self_cycle_is_collected(Wrapping);
    self_cycle_is_collected(Saturating);
    self_cycle_is_collected(Reverse);
    self_cycle_is_collected(|h: Handle| {
        let cell = OnceLock::new();
        assert!(cell.set(h).is_ok());
        cell
    });
    self_cycle_is_collected(|h| Cow::<'static, [Handle]>::Owned(vec![h]));
    self_cycle_is_collected(|h: Handle| h.clone()..h);
    self_cycle_is_collected(|h: Handle| h.clone()..=h);
    self_cycle_is_collected(|h: Handle| h..);
    self_cycle_is_collected(|h: Handle| ..h);
    self_cycle_is_collected(|h: Handle| ..=h);
    self_cycle_is_collected(Bound::Excluded);
}

/// `ManuallyDrop` reports the handle it owns (not through a cycle test: the
/// handle inside is never dropped, so its target would stay a zombie).
#[test]
fn manually_drop_is_reported() {
    fresh();
    let inner = Gc::new(Node {
        edge: RefCell::new(None),
    });
    let edge: Box<dyn Trace> = Box::new(ManuallyDrop::new(inner.clone()));
    let node = Gc::new(Node {
        edge: RefCell::new(Some(edge)),
    });
    assert!(!untracked_type::<ManuallyDrop<Handle>>());
    let referents = gc::get_referents(&Gc::to_any(&node));
    assert_eq!(referents.len(), 1);
    assert!(pygc::GcAny::ptr_eq(&referents[0], &Gc::to_any(&inner)));
    drop((referents, node));
    assert_eq!(Gc::strong_count(&inner), 2, "ManuallyDrop keeps its count");
}

mod leaf_macro {
    use pygc::{gc, Gc, Trace};
    use std::cell::Cell;

    thread_local!(static CLOSED: Cell<u32> = const { Cell::new(0) });

    /// A type with `Drop`, which the derive refuses.
    struct File {
        fd: i32,
    }
    impl Drop for File {
        fn drop(&mut self) {
            CLOSED.with(|c| c.set(c.get() + 1));
        }
    }

    /// A type that does own a handle: `leaf!` under-reports it, so the
    /// target is kept alive (an outside reference), never freed early.
    struct Opaque(#[allow(dead_code)] Gc<Holder>);

    #[derive(Trace)]
    struct Holder {
        file: File,
        next: std::cell::RefCell<Option<Gc<Holder>>>,
    }

    pygc::leaf!(File, Opaque);

    #[test]
    fn leaf_types_are_untracked_and_may_implement_drop() {
        gc_tests::fresh();
        let file = Gc::new(File { fd: 3 });
        assert!(!Gc::is_tracked(&file));
        assert_eq!(file.fd, 3);
        drop(file);
        assert_eq!(CLOSED.with(Cell::get), 1);

        let holder = Gc::new(Holder {
            file: File { fd: 4 },
            next: Default::default(),
        });
        *holder.next.borrow_mut() = Some(holder.clone());
        drop(holder);
        assert_eq!(gc::collect(), 1);
        assert_eq!(CLOSED.with(Cell::get), 2);
    }

    #[test]
    fn a_handle_under_a_leaf_is_an_outside_reference() {
        gc_tests::fresh();
        let holder = Gc::new(Holder {
            file: File { fd: 5 },
            next: Default::default(),
        });
        let opaque = Gc::new(Opaque(holder.clone()));
        assert!(!Gc::is_tracked(&opaque));
        *holder.next.borrow_mut() = Some(holder.clone());
        let weak = Gc::downgrade(&holder);
        drop(holder);
        assert_eq!(gc::collect(), 0, "held by the unreported handle");
        assert!(weak.upgrade().is_some());
        drop(opaque);
        assert_eq!(gc::collect(), 1, "collected once the leaf is gone");
        assert!(weak.upgrade().is_none());
    }
}

mod optional_collections {
    use super::{self_cycle_is_collected, untracked, Handle};
    use pygc::{Gc, Trace};
    use std::hash::{Hash, Hasher};

    /// A handle as a key, by identity.
    #[derive(Trace)]
    struct Key(Handle);

    impl PartialEq for Key {
        fn eq(&self, other: &Self) -> bool {
            Gc::ptr_eq(&self.0, &other.0)
        }
    }
    impl Eq for Key {}
    impl Hash for Key {
        fn hash<H: Hasher>(&self, state: &mut H) {
            Gc::as_ptr(&self.0).hash(state)
        }
    }

    #[test]
    fn indexmap() {
        use indexmap::{IndexMap, IndexSet};
        assert!(untracked(IndexMap::<u8, String>::new()));
        assert!(untracked(IndexSet::<u8>::new()));
        self_cycle_is_collected(|h: Handle| IndexMap::from([(1u8, h)]));
        self_cycle_is_collected(|h: Handle| IndexMap::from([(Key(h), 1u8)]));
        self_cycle_is_collected(|h: Handle| IndexSet::<_>::from([Key(h)]));
    }

    #[test]
    fn hashbrown() {
        use hashbrown::{HashMap, HashSet};
        assert!(untracked(HashMap::<u8, String>::new()));
        assert!(untracked(HashSet::<u8>::new()));
        self_cycle_is_collected(|h: Handle| HashMap::<_, _>::from_iter([(1u8, h)]));
        self_cycle_is_collected(|h: Handle| HashSet::<_>::from_iter([Key(h)]));
    }
}
