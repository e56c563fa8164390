//! The contenders: one module per memory manager, each instantiating the
//! shared shapes (`gc_bench::shapes!`) on its own handle type, plus the two
//! traits the benchmark functions are generic over.

/// What every contender can do: allocate, refcount, free.
pub trait Contender {
    /// Name in the benchmark ids and the tables.
    const NAME: &'static str;
    /// a1: owner of a list's head.
    type List;
    /// A lone tracked object (a2, d, f).
    type Obj;
    /// a1: build a list of `n` nodes.
    fn list(n: usize) -> Self::List;
    /// a1 (timed): drop the head so the whole list is reclaimed (tracing
    /// collectors: drop, then collect).
    fn free_list(list: Self::List);
    /// A new lone tracked object.
    fn obj() -> Self::Obj;
    /// Reclaim whatever garbage is pending (a full collection where there is
    /// a collector), so one benchmark's leftovers do not bill the next.
    fn cleanup() {}
    /// Turn automatic collection on or off where there is one (a1 builds
    /// with it off, as the issue-19 table does for every contender).
    fn set_auto_collection(_on: bool) {}
}

/// Contenders with a cycle collector.
pub trait Collector: Contender {
    /// The tree root (c).
    type Tree: Clone;
    /// A ring (e, `gc_collect`).
    type Ring;
    /// The top list (e, `gc_traversal`).
    type Levels: Clone;
    /// One full collection.
    fn collect();
    /// Turn automatic collection on or off (a no-op where there is none).
    fn auto(on: bool);
    /// b: make `n` two-node cycles and drop them.
    fn dead_pairs(n: usize);
    /// c: build the tree.
    fn tree(n: usize) -> Self::Tree;
    /// e: build the rings.
    fn rings(n_rings: usize, links: usize) -> Vec<Self::Ring>;
    /// e: build the levels.
    fn levels(n: usize) -> Self::Levels;
}

macro_rules! contender {
    ($name:literal, $shapes:ident, $H:ident) => {
        /// The contender.
        pub struct C;
        impl $crate::contenders::Contender for C {
            const NAME: &'static str = $name;
            type List = Option<$H<$shapes::Link>>;
            type Obj = $H<$shapes::Link>;
            fn list(n: usize) -> Self::List {
                $shapes::list(n)
            }
            fn free_list(list: Self::List) {
                drop(list);
                after_free();
            }
            #[inline(always)]
            fn obj() -> Self::Obj {
                $shapes::obj()
            }
            fn cleanup() {
                collect_all();
            }
            fn set_auto_collection(on: bool) {
                set_auto(on);
            }
        }
    };
}

macro_rules! collector {
    ($shapes:ident, $H:ident) => {
        impl $crate::contenders::Collector for C {
            type Tree = $H<$shapes::Tree>;
            type Ring = $H<$shapes::Ring>;
            type Levels = $H<$shapes::Level>;
            fn collect() {
                collect_all();
            }
            fn auto(on: bool) {
                set_auto(on);
            }
            fn dead_pairs(n: usize) {
                $shapes::dead_pairs(n)
            }
            fn tree(n: usize) -> Self::Tree {
                $shapes::tree(n)
            }
            fn rings(n_rings: usize, links: usize) -> Vec<Self::Ring> {
                $shapes::rings(n_rings, links)
            }
            fn levels(n: usize) -> Self::Levels {
                $shapes::levels(n)
            }
        }
    };
}

/// This library: `pygc::Gc`.
pub mod pygc_ {
    use gc_bench::pygc_shapes as s;
    use pygc::Gc;
    contender!("pygc", s, Gc);
    collector!(s, Gc);
    fn after_free() {}
    fn collect_all() {
        pygc::gc::collect();
    }
    fn set_auto(on: bool) {
        if on {
            pygc::gc::enable();
        } else {
            pygc::gc::disable();
        }
    }
}

/// `std::rc::Rc` with `RefCell` edges (no collector: cycles leak).
pub mod rc {
    use gc_bench::rc_shapes as s;
    use std::rc::Rc;
    contender!("Rc", s, Rc);
    fn after_free() {}
    fn collect_all() {}
    fn set_auto(_: bool) {}
}

/// A plain `Box` (the floor: malloc + free, no count).
pub mod boxed {
    /// a1 / a2 / f: a singly-linked boxed node.
    pub struct Link {
        /// The next node (owned, never read: the list exists to be dropped).
        #[allow(dead_code)]
        pub next: Option<Box<Link>>,
    }
    /// The contender.
    pub struct C;
    impl super::Contender for C {
        const NAME: &'static str = "Box";
        type List = Option<Box<Link>>;
        type Obj = Box<Link>;
        fn list(n: usize) -> Self::List {
            let mut head = None;
            for _ in 0..n {
                head = Some(Box::new(Link { next: head }));
            }
            head
        }
        fn free_list(list: Self::List) {
            drop(list);
        }
        #[inline(always)]
        fn obj() -> Self::Obj {
            Box::new(Link { next: None })
        }
    }
}

/// `gcmodule` 0.3 (CPython-inspired; no automatic collection).
pub mod gcmodule_ {
    /// The shapes on `gcmodule::Cc`. gcmodule's derive computes
    /// `is_type_tracked` by recursing into the field types, which never
    /// terminates for a self-referential type (stack overflow at the first
    /// `Cc::new`), so the impls are written by hand, returning `true`.
    pub mod s {
        use gcmodule::{Cc, Trace, Tracer};
        use std::cell::RefCell;
        gc_bench::shapes!(handle = Cc, cell = RefCell, attrs = []);
        macro_rules! tracked {
            ($($t:ident: $($f:ident),+;)*) => {$(
                impl Trace for $t {
                    fn trace(&self, t: &mut Tracer) {
                        $(self.$f.trace(t);)+
                    }
                    fn is_type_tracked() -> bool {
                        true
                    }
                }
            )*};
        }
        tracked! {
            Link: next;
            Pair: other;
            Tree: parent, left, right;
            Ring: next, prev;
            Level: items;
        }
    }
    use gcmodule::Cc;
    contender!("gcmodule", s, Cc);
    collector!(s, Cc);
    fn after_free() {}
    fn collect_all() {
        gcmodule::collect_thread_cycles();
    }
    fn set_auto(_on: bool) {}
}

/// `bacon_rajan_cc` 0.4 (synchronous Bacon–Rajan; no automatic collection).
pub mod bacon {
    /// The shapes on `bacon_rajan_cc::Cc` (hand-written `Trace` impls: the
    /// crate has no derive).
    pub mod s {
        use bacon_rajan_cc::{Cc, Trace, Tracer};
        use std::cell::RefCell;
        gc_bench::shapes!(handle = Cc, cell = RefCell, attrs = []);
        impl Trace for Link {
            fn trace(&self, t: &mut Tracer) {
                self.next.trace(t);
            }
        }
        impl Trace for Pair {
            fn trace(&self, t: &mut Tracer) {
                self.other.trace(t);
            }
        }
        impl Trace for Tree {
            fn trace(&self, t: &mut Tracer) {
                self.parent.trace(t);
                self.left.trace(t);
                self.right.trace(t);
            }
        }
        impl Trace for Ring {
            fn trace(&self, t: &mut Tracer) {
                self.next.trace(t);
                self.prev.trace(t);
            }
        }
        impl Trace for Level {
            fn trace(&self, t: &mut Tracer) {
                self.items.trace(t);
            }
        }
    }
    use bacon_rajan_cc::Cc;
    contender!("bacon_rajan_cc", s, Cc);
    collector!(s, Cc);
    fn after_free() {}
    fn collect_all() {
        bacon_rajan_cc::collect_cycles();
    }
    fn set_auto(_on: bool) {}
}

/// rust-gc (`gc` 0.5: tracing mark-and-sweep, no refcount; `GcCell` edges).
pub mod rust_gc {
    /// The shapes on `gc::Gc` with `gc::GcCell`.
    // gc_derive 0.5 wraps its impls in `const _: () = { ... }` blocks.
    #[allow(non_local_definitions)]
    pub mod s {
        use gc::{Gc, GcCell};
        gc_bench::shapes!(handle = Gc, cell = GcCell, attrs = [#[derive(gc::Trace, gc::Finalize)]]);
    }
    use gc::Gc;
    contender!("rust-gc", s, Gc);
    collector!(s, Gc);
    /// Dropping the head only unroots it: the memory comes back at the next
    /// collection, so a1 times that too.
    fn after_free() {
        gc::force_collect();
    }
    fn collect_all() {
        gc::force_collect();
    }
    thread_local! {
        static SAVED_THRESHOLD: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
    }
    /// "Off" is an unreachable byte threshold; "on" restores the threshold
    /// rust-gc had grown to (it adapts it after each collection).
    fn set_auto(on: bool) {
        gc::configure(|c| {
            if on {
                if let Some(t) = SAVED_THRESHOLD.take() {
                    c.threshold = t;
                }
            } else if SAVED_THRESHOLD.get().is_none() {
                SAVED_THRESHOLD.set(Some(c.threshold));
                c.threshold = usize::MAX / 2;
            }
        });
    }
}

/// `dumpster` 2.1 (`unsync`: refcount + dirty-set cycle detection).
pub mod dumpster_ {
    /// The shapes on `dumpster::unsync::Gc`.
    pub mod s {
        use dumpster::unsync::Gc;
        use std::cell::RefCell;
        // dumpster's derive does not work on items made by `macro_rules!`
        // (it mixes hygiene contexts), so the types are written out.
        /// a1 / a2 / d / f node.
        #[derive(dumpster::Trace)]
        pub struct Link {
            /// The next node.
            pub next: Option<Gc<Link>>,
        }
        /// b node.
        #[derive(dumpster::Trace)]
        pub struct Pair {
            /// The other node.
            pub other: RefCell<Option<Gc<Pair>>>,
        }
        /// c node.
        #[derive(dumpster::Trace)]
        pub struct Tree {
            /// Strong back-pointer.
            pub parent: Option<Gc<Tree>>,
            /// Left child.
            pub left: RefCell<Option<Gc<Tree>>>,
            /// Right child.
            pub right: RefCell<Option<Gc<Tree>>>,
        }
        /// e ring node.
        #[derive(dumpster::Trace)]
        pub struct Ring {
            /// Next node.
            pub next: RefCell<Option<Gc<Ring>>>,
            /// Previous node.
            pub prev: RefCell<Option<Gc<Ring>>>,
        }
        /// e level.
        #[derive(dumpster::Trace)]
        pub struct Level {
            /// References to the level below.
            pub items: Vec<Gc<Level>>,
        }
        gc_bench::shape_fns!(handle = Gc, cell = RefCell);
    }
    use dumpster::unsync::Gc;
    contender!("dumpster", s, Gc);
    collector!(s, Gc);
    fn after_free() {}
    fn collect_all() {
        dumpster::unsync::collect();
    }
    fn never(_: &dumpster::unsync::CollectInfo) -> bool {
        false
    }
    fn set_auto(on: bool) {
        dumpster::unsync::set_collect_condition(if on {
            dumpster::unsync::default_collect_condition
        } else {
            never
        });
    }
}

/// `rust-cc` 0.6 (refcount + possible-cycle buffer, automatic collection).
pub mod rust_cc_ {
    /// The shapes on `rust_cc::Cc`.
    pub mod s {
        use rust_cc::Cc;
        use std::cell::RefCell;
        gc_bench::shapes!(
            handle = Cc,
            cell = RefCell,
            attrs = [#[derive(rust_cc::Trace, rust_cc::Finalize)]]
        );
    }
    use rust_cc::Cc;
    contender!("rust-cc", s, Cc);
    collector!(s, Cc);
    fn after_free() {}
    fn collect_all() {
        rust_cc::collect_cycles();
    }
    fn set_auto(on: bool) {
        let _ = rust_cc::config::config(|c| c.set_auto_collect(on));
    }
}
