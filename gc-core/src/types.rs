//! Plain data types shared by every layer (the leaf of the module graph):
//! what the collector reports ([`CollectionInfo`], [`GenerationStats`],
//! [`Phase`]), how it is configured ([`DebugFlags`]) and the ids of `gc`
//! callbacks ([`CallbackId`]), the collector [`Mode`]. The heap and the collector use them; the `gc`
//! and `sync::gc` modules re-export them. This module imports nothing from
//! the crate.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};
use std::time::Duration;

/// Number of generations (CPython's `NUM_GENERATIONS`).
pub(crate) const NUM_GENERATIONS: usize = 3;

/// Per-generation statistics, as `gc.get_stats()` reports them.
///
/// # Examples
///
/// ```
/// use pygc::{gc, Gc, Trace};
/// use std::cell::RefCell;
///
/// #[derive(Trace)]
/// struct Node(RefCell<Option<Gc<Node>>>);
///
/// let before = gc::get_stats()[2];
/// let n = Gc::new(Node(RefCell::new(None)));
/// *n.0.borrow_mut() = Some(n.clone());
/// drop(n);
/// gc::collect(); // a full collection: generation 2
/// let after = gc::get_stats()[2];
/// assert_eq!(after.collections, before.collections + 1);
/// assert_eq!(after.collected, before.collected + 1);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct GenerationStats {
    /// Collections of this generation so far.
    pub collections: usize,
    /// Objects collected by those collections.
    pub collected: usize,
    /// Objects found uncollectable (legacy finalizers) by those collections.
    pub uncollectable: usize,
}

/// The debugging flags of `gc.set_debug`, bit-or-able.
///
/// # Examples
///
/// ```
/// use pygc::gc::DebugFlags;
/// let f = DebugFlags::COLLECTABLE | DebugFlags::UNCOLLECTABLE;
/// assert!(DebugFlags::LEAK.contains(f));
/// assert!(!f.contains(DebugFlags::SAVEALL));
/// assert_eq!(DebugFlags::empty().bits(), 0);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DebugFlags(u32);

impl DebugFlags {
    /// Print statistics during collection (`DEBUG_STATS`).
    pub const STATS: DebugFlags = DebugFlags(1);
    /// Print collectable objects found (`DEBUG_COLLECTABLE`).
    pub const COLLECTABLE: DebugFlags = DebugFlags(2);
    /// Print uncollectable objects found (`DEBUG_UNCOLLECTABLE`).
    pub const UNCOLLECTABLE: DebugFlags = DebugFlags(4);
    /// Append every unreachable object to [`gc::garbage`](crate::gc::garbage) instead of freeing it
    /// (`DEBUG_SAVEALL`).
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::{gc, gc::DebugFlags, Gc, Trace};
    /// use std::cell::RefCell;
    /// #[derive(Trace)]
    /// struct Node(RefCell<Option<Gc<Node>>>);
    /// gc::set_debug(DebugFlags::SAVEALL);
    /// let a = Gc::new(Node(RefCell::new(None)));
    /// *a.0.borrow_mut() = Some(a.clone());
    /// drop(a);
    /// assert_eq!(gc::collect(), 1);
    /// assert_eq!(gc::take_garbage().len(), 1); // kept, not freed
    /// gc::set_debug(DebugFlags::empty());
    /// ```
    pub const SAVEALL: DebugFlags = DebugFlags(32);
    /// `COLLECTABLE | UNCOLLECTABLE | SAVEALL` (`DEBUG_LEAK`).
    pub const LEAK: DebugFlags = DebugFlags(2 | 4 | 32);

    /// No flags.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::gc::DebugFlags;
    /// assert!(DebugFlags::empty().is_empty());
    /// assert_eq!(DebugFlags::default(), DebugFlags::empty());
    /// ```
    pub const fn empty() -> DebugFlags {
        DebugFlags(0)
    }

    /// The flags as CPython's integer.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::gc::DebugFlags;
    /// assert_eq!(DebugFlags::LEAK.bits(), 38); // gc.DEBUG_LEAK == 38
    /// ```
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Flags from CPython's integer (unknown bits are kept, as CPython does).
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::gc::DebugFlags;
    /// assert_eq!(DebugFlags::from_bits(1 | 32), DebugFlags::STATS | DebugFlags::SAVEALL);
    /// assert_eq!(DebugFlags::from_bits(64).bits(), 64);
    /// ```
    pub const fn from_bits(bits: u32) -> DebugFlags {
        DebugFlags(bits)
    }

    /// Whether every flag of `other` is set.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::gc::DebugFlags;
    /// assert!(DebugFlags::LEAK.contains(DebugFlags::SAVEALL));
    /// assert!(!DebugFlags::SAVEALL.contains(DebugFlags::LEAK));
    /// ```
    pub const fn contains(self, other: DebugFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::gc::DebugFlags;
    /// assert!(!DebugFlags::STATS.is_empty());
    /// ```
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl BitOr for DebugFlags {
    type Output = DebugFlags;
    fn bitor(self, rhs: DebugFlags) -> DebugFlags {
        DebugFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for DebugFlags {
    fn bitor_assign(&mut self, rhs: DebugFlags) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for DebugFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (DebugFlags::STATS, "STATS"),
            (DebugFlags::COLLECTABLE, "COLLECTABLE"),
            (DebugFlags::UNCOLLECTABLE, "UNCOLLECTABLE"),
            (DebugFlags::SAVEALL, "SAVEALL"),
        ];
        let set: Vec<&str> = names
            .iter()
            .filter(|(flag, _)| self.contains(*flag))
            .map(|(_, n)| *n)
            .collect();
        if set.is_empty() {
            f.write_str("DebugFlags(empty)")
        } else {
            write!(f, "DebugFlags({})", set.join(" | "))
        }
    }
}

/// When a `gc` callback is called: before or after a collection.
///
/// # Examples
///
/// ```
/// use pygc::gc::{self, Phase};
/// use std::{cell::RefCell, rc::Rc};
///
/// let phases = Rc::new(RefCell::new(Vec::new()));
/// let p = phases.clone();
/// let id = gc::add_callback(move |phase, _| p.borrow_mut().push(phase));
/// gc::collect();
/// assert_eq!(*phases.borrow(), [Phase::Start, Phase::Stop]);
/// gc::remove_callback(id);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Before the collection (`"start"`).
    Start,
    /// After the collection (`"stop"`).
    Stop,
}

/// What a `gc` callback is told about a collection.
///
/// # Examples
///
/// ```
/// use pygc::gc::{self, CollectionInfo, Phase};
/// use std::{cell::Cell, rc::Rc};
///
/// let last = Rc::new(Cell::new(None::<CollectionInfo>));
/// let l = last.clone();
/// let id = gc::add_callback(move |phase, info| {
///     if phase == Phase::Stop { l.set(Some(*info)) }
/// });
/// gc::collect_generation(1);
/// let info = last.get().unwrap();
/// assert_eq!((info.generation, info.uncollectable), (1, 0));
/// gc::remove_callback(id);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CollectionInfo {
    /// The generation being collected.
    pub generation: usize,
    /// Objects collected (0 at [`Phase::Start`]).
    pub collected: usize,
    /// Objects found uncollectable (0 at [`Phase::Start`]).
    pub uncollectable: usize,
    /// How long the collection took (zero at [`Phase::Start`]).
    pub duration: Duration,
}

/// Identifies a callback registered with [`gc::add_callback`](crate::gc::add_callback).
///
/// # Examples
///
/// ```
/// use pygc::gc;
/// let id = gc::add_callback(|_, _| {});
/// assert!(gc::remove_callback(id));
/// assert!(!gc::remove_callback(id)); // already removed
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CallbackId(u64);

impl CallbackId {
    pub(crate) fn new(id: u64) -> Self {
        CallbackId(id)
    }
}

/// Which collector the calling thread's heap runs (see [`gc`](crate::gc)'s module docs,
/// "Modes").
///
/// # Examples
///
/// ```
/// use pygc::gc::{self, Mode};
/// assert_eq!(gc::get_mode(), Mode::Generational);
/// assert_eq!(Mode::default(), Mode::Generational);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// CPython 3.12's generational collector (the default): three
    /// generations, full collections scan the whole heap at once.
    #[default]
    Generational,
    /// PEP 848's generational-incremental collector: young collections
    /// alternate with collections of an increment of the old generation, so
    /// no automatic collection scans the whole heap (bounded pauses).
    Incremental,
}
