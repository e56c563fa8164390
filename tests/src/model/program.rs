//! The program language: what a generated test case does, step by step.
//!
//! A program works on [`SLOTS`] strong slots and [`WEAK_SLOTS`] weak slots
//! (the "variables" of a Python function), plus a resurrection box that
//! finalizers may store handles into. Every operand is an index taken modulo
//! the number of slots, and an operation whose operands are empty does
//! nothing, so every sequence of operations is a valid program: generators
//! and shrinkers never have to repair one.

use std::fmt;

/// Number of strong slots a program works on.
pub const SLOTS: usize = 6;
/// Number of weak slots a program works on.
pub const WEAK_SLOTS: usize = 4;
/// Allocations past this many objects do nothing. It keeps refcount-death
/// chains shorter than the trashcan limit (50), whose deferral would change
/// the order in which weak callbacks run.
pub const MAX_OBJECTS: usize = 40;

/// What kind of object an allocation makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// No finalizer.
    Plain,
    /// A PEP 442 finalizer (`#[trace(finalize)]`).
    Pep442,
    /// A legacy finalizer (`#[trace(legacy_finalize)]`): uncollectable in a
    /// cycle, finalized normally when freed by refcount.
    Legacy,
}

impl Kind {
    /// Whether objects of this kind run [`Action`]s when finalized.
    pub fn has_finalizer(self) -> bool {
        self != Kind::Plain
    }
}

/// What an object's finalizer does besides counting its call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Action {
    /// Nothing.
    #[default]
    Nothing,
    /// Upgrade the object's weak handle to itself and store the result in
    /// the resurrection box (works at refcount death; at collection the weak
    /// handle is already cleared, so nothing is stored).
    ResurrectSelf,
    /// Store a clone of edge `n % len` (if any) in the resurrection box.
    ResurrectEdge(u8),
    /// Drop every edge of the object.
    ClearEdges,
    /// Drop the handle held in the object's `#[trace(skip)]` field.
    ClearSkip,
}

/// One step of a program. Indices are taken modulo [`SLOTS`] /
/// [`WEAK_SLOTS`]; a step whose operands are empty does nothing.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `slots[slot] = new object` whose `#[trace(skip)]` field holds a
    /// clone of `slots[skip]` (when given and non-empty).
    Alloc {
        /// Destination slot.
        slot: u8,
        /// Finalizer kind.
        kind: Kind,
        /// Slot whose handle the skip field holds.
        skip: Option<u8>,
        /// The finalizer's action.
        action: Action,
    },
    /// `slots[from].edges.push(slots[to].clone())`.
    Link {
        /// Slot of the object that gains the edge.
        from: u8,
        /// Slot of the edge's target.
        to: u8,
    },
    /// Remove and drop edge `edge % len` of `slots[from]`.
    Unlink {
        /// Slot of the object that loses the edge.
        from: u8,
        /// Which edge.
        edge: u8,
    },
    /// `slots[to] = slots[from].clone()`.
    Clone {
        /// Source slot.
        from: u8,
        /// Destination slot.
        to: u8,
    },
    /// `slots[slot] = None`.
    Drop {
        /// The slot to empty.
        slot: u8,
    },
    /// Change the finalizer action of `slots[slot]`.
    SetAction {
        /// Slot of the object.
        slot: u8,
        /// The new action.
        action: Action,
    },
    /// `weaks[weak] = Gc::downgrade(slots[slot])`, with a counting callback
    /// when `callback`; a callback that `collects` also calls `gc::collect()`
    /// (a nested call during a collection returns 0; at refcount death it is
    /// a real collection, run while the object is half dead).
    Downgrade {
        /// Slot of the referent.
        slot: u8,
        /// Destination weak slot.
        weak: u8,
        /// Whether to use `downgrade_with_callback`.
        callback: bool,
        /// Whether the callback calls `gc::collect()`.
        collects: bool,
    },
    /// `weaks[weak] = Weak::new()`.
    NewWeak {
        /// Destination weak slot.
        weak: u8,
    },
    /// `weaks[to] = weaks[from].clone()` (a clone never owns the callback).
    CloneWeak {
        /// Source weak slot.
        from: u8,
        /// Destination weak slot.
        to: u8,
    },
    /// `weaks[weak] = None`.
    DropWeak {
        /// The weak slot to empty.
        weak: u8,
    },
    /// `slots[slot] = weaks[weak].upgrade()` (when the weak slot is not empty).
    Upgrade {
        /// Source weak slot.
        weak: u8,
        /// Destination slot.
        slot: u8,
    },
    /// Move `weaks[weak]` into the `weaks` field of `slots[slot]`: the
    /// handle (and its callback) is then owned by that object.
    StashWeak {
        /// Source weak slot.
        weak: u8,
        /// Slot of the new owner.
        slot: u8,
    },
    /// Move the last weak handle stashed in `slots[slot]` back to `weaks[weak]`.
    UnstashWeak {
        /// Slot of the owner.
        slot: u8,
        /// Destination weak slot.
        weak: u8,
    },
    /// Move the box entry with the smallest object id to `slots[slot]`.
    PopBox {
        /// Destination slot.
        slot: u8,
    },
    /// Empty the resurrection box, dropping its handles in object-id order.
    ClearBox,
    /// `gc::collect_generation(generation % 3)`.
    Collect {
        /// The generation (taken modulo 3).
        generation: u8,
    },
    /// `gc::collect_generation(generation % 3)` while the edges of
    /// `slots[slot]` are mutably borrowed: the collector cannot read them,
    /// so everything they point to counts as referenced from outside.
    CollectBorrowed {
        /// Slot of the object whose edges stay borrowed.
        slot: u8,
        /// The generation (taken modulo 3).
        generation: u8,
    },
    /// `gc::set_threshold(t0, t1, t2)`.
    SetThreshold(u8, u8, u8),
    /// `gc::enable()`.
    Enable,
    /// `gc::disable()`.
    Disable,
    /// `gc::freeze()`.
    Freeze,
    /// `gc::unfreeze()`.
    Unfreeze,
    /// `gc::set_debug(SAVEALL)` or `gc::set_debug(empty)`.
    SaveAll(bool),
    /// `gc::take_garbage()`, dropped in object-id order.
    TakeGarbage,
    /// `slots[slot] = ` the garbage entry at `index % len` (in object-id
    /// order), downcast from its `GcAny`.
    GarbageToSlot {
        /// Which entry.
        index: u8,
        /// Destination slot.
        slot: u8,
    },
    /// `Gc::try_unwrap(slots[slot])`: on success the value is moved out and
    /// dropped (weak handles cleared, callbacks run, no finalizer); on
    /// failure the handle goes back to its slot.
    TryUnwrap {
        /// The slot.
        slot: u8,
    },
}

/// How a program is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The reference model predicts everything after every step, automatic
    /// collection included (the model replays CPython's trigger).
    Exact {
        /// Also compare every object's strong count, read through a weak
        /// "observer" handle per object. Observers keep allocations (not
        /// values) alive until the end, so half the programs run without
        /// them and free memory as early as the heap does.
        observe_counts: bool,
    },
    /// Automatic collection runs from the start, with thresholds
    /// `(t0, 2, 2)`, and the model is not consulted: only invariants that
    /// hold whatever the timing are checked (nothing reachable is freed, no
    /// value is dropped or finalized twice, no callback runs twice,
    /// everything is freed once the program's roots are gone).
    Loose {
        /// The initial gen-0 threshold.
        t0: u8,
    },
    /// Like [`Mode::Loose`], in the incremental collector mode
    /// (`gc::Mode::Incremental`, thresholds `(t0, 2, 2)`: one aging space).
    /// Checked: the invariants of `Loose` after every step, and at the end,
    /// with the roots dropped, that young collections and increments alone
    /// (no full collection) free all the garbage, each complete sweep of
    /// the old generation after the first freeing some of what is left
    /// (PEP 848's argument: the garbage nothing else references).
    Incremental {
        /// The gen-0 threshold (the nursery half-space, in objects).
        t0: u8,
    },
}

/// A generated test case.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Program {
    /// How it is checked.
    pub mode: Mode,
    /// Its steps.
    pub ops: Vec<Op>,
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Program {{ mode: {:?}, ops: [", self.mode)?;
        for (i, op) in self.ops.iter().enumerate() {
            writeln!(f, "    /* {i:2} */ {op:?},")?;
        }
        write!(f, "] }}")
    }
}

impl Program {
    /// Decode fuzzer bytes into a program. Every byte string decodes (a
    /// truncated last operation is dropped); the first byte picks the mode.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_tests::model::{Mode, Op, Program};
    /// let p = Program::from_bytes(&[0, 0, 1, 0, 0, 0, 18]);
    /// assert_eq!(p.mode, Mode::Exact { observe_counts: false });
    /// assert!(matches!(p.ops[0], Op::Alloc { .. }));
    /// ```
    pub fn from_bytes(data: &[u8]) -> Program {
        let mut bytes = Bytes { data, at: 0 };
        let mode = match bytes.next().unwrap_or(0) % 4 {
            0 => Mode::Exact {
                observe_counts: false,
            },
            1 | 2 => Mode::Exact {
                observe_counts: true,
            },
            _ => {
                // The t0 byte's high bit picks the incremental mode.
                let b = bytes.next().unwrap_or(3);
                if b & 0x80 != 0 {
                    Mode::Incremental { t0: b % 16 }
                } else {
                    Mode::Loose { t0: b % 16 }
                }
            }
        };
        let mut ops = Vec::new();
        while let Some(op) = decode_op(&mut bytes) {
            ops.push(op);
        }
        Program { mode, ops }
    }

    /// Encode a program as bytes that [`Program::from_bytes`] decodes back
    /// to it (used to write seed corpora).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self.mode {
            Mode::Exact {
                observe_counts: false,
            } => out.push(0),
            Mode::Exact {
                observe_counts: true,
            } => out.push(1),
            Mode::Loose { t0 } => out.extend([3, t0 % 16]),
            Mode::Incremental { t0 } => out.extend([3, 0x80 | (t0 % 16)]),
        }
        for op in &self.ops {
            encode_op(op, &mut out);
        }
        out
    }
}

struct Bytes<'a> {
    data: &'a [u8],
    at: usize,
}

impl Bytes<'_> {
    fn next(&mut self) -> Option<u8> {
        let b = *self.data.get(self.at)?;
        self.at += 1;
        Some(b)
    }
}

fn decode_action(b: u8) -> Action {
    match b % 8 {
        0..=2 => Action::Nothing,
        3 => Action::ResurrectSelf,
        4 | 5 => Action::ResurrectEdge(b / 8),
        6 => Action::ClearEdges,
        _ => Action::ClearSkip,
    }
}

fn encode_action(a: Action) -> u8 {
    match a {
        Action::Nothing => 0,
        Action::ResurrectSelf => 3,
        Action::ResurrectEdge(n) => 4 + 8 * (n % 32),
        Action::ClearEdges => 6,
        Action::ClearSkip => 7,
    }
}

const KINDS: [Kind; 3] = [Kind::Plain, Kind::Pep442, Kind::Legacy];

fn decode_op(b: &mut Bytes<'_>) -> Option<Op> {
    let code = b.next()?;
    Some(match code % 27 {
        0 => {
            let slot = b.next()?;
            let kind = KINDS[(b.next()? % 3) as usize];
            let skip = b.next()?;
            let action = decode_action(b.next()?);
            Op::Alloc {
                slot,
                kind,
                skip: (skip >= 128).then_some(skip % 128),
                action,
            }
        }
        1 | 2 => Op::Link {
            from: b.next()?,
            to: b.next()?,
        },
        3 => Op::Unlink {
            from: b.next()?,
            edge: b.next()?,
        },
        4 => Op::Clone {
            from: b.next()?,
            to: b.next()?,
        },
        5 | 6 => Op::Drop { slot: b.next()? },
        7 => Op::SetAction {
            slot: b.next()?,
            action: decode_action(b.next()?),
        },
        8 => {
            let slot = b.next()?;
            let weak = b.next()?;
            Op::Downgrade {
                slot,
                weak: weak % 64,
                callback: weak & 128 != 0,
                collects: weak & 192 == 192,
            }
        }
        9 => Op::NewWeak { weak: b.next()? },
        10 => Op::CloneWeak {
            from: b.next()?,
            to: b.next()?,
        },
        11 => Op::DropWeak { weak: b.next()? },
        12 => Op::Upgrade {
            weak: b.next()?,
            slot: b.next()?,
        },
        13 => Op::StashWeak {
            weak: b.next()?,
            slot: b.next()?,
        },
        14 => Op::UnstashWeak {
            slot: b.next()?,
            weak: b.next()?,
        },
        15 => Op::PopBox { slot: b.next()? },
        16 => Op::ClearBox,
        17 | 18 => Op::Collect {
            generation: b.next()?,
        },
        19 => Op::SetThreshold(b.next()? % 9, b.next()? % 5, b.next()? % 5),
        20 => {
            if b.next()? % 2 == 0 {
                Op::Enable
            } else {
                Op::Disable
            }
        }
        21 => {
            if b.next()? % 2 == 0 {
                Op::Freeze
            } else {
                Op::Unfreeze
            }
        }
        22 => Op::SaveAll(b.next()? % 2 == 1),
        23 => Op::TakeGarbage,
        24 => Op::GarbageToSlot {
            index: b.next()?,
            slot: b.next()?,
        },
        25 => Op::TryUnwrap { slot: b.next()? },
        _ => Op::CollectBorrowed {
            slot: b.next()?,
            generation: b.next()?,
        },
    })
}

fn encode_op(op: &Op, out: &mut Vec<u8>) {
    match *op {
        Op::Alloc {
            slot,
            kind,
            skip,
            action,
        } => out.extend([
            0,
            slot,
            KINDS.iter().position(|k| *k == kind).unwrap() as u8,
            skip.map_or(0, |s| 128 + s % 128),
            encode_action(action),
        ]),
        Op::Link { from, to } => out.extend([1, from, to]),
        Op::Unlink { from, edge } => out.extend([3, from, edge]),
        Op::Clone { from, to } => out.extend([4, from, to]),
        Op::Drop { slot } => out.extend([5, slot]),
        Op::SetAction { slot, action } => out.extend([7, slot, encode_action(action)]),
        Op::Downgrade {
            slot,
            weak,
            callback,
            collects,
        } => out.extend([
            8,
            slot,
            weak % 64 + if callback { 128 } else { 0 } + if callback && collects { 64 } else { 0 },
        ]),
        Op::NewWeak { weak } => out.extend([9, weak]),
        Op::CloneWeak { from, to } => out.extend([10, from, to]),
        Op::DropWeak { weak } => out.extend([11, weak]),
        Op::Upgrade { weak, slot } => out.extend([12, weak, slot]),
        Op::StashWeak { weak, slot } => out.extend([13, weak, slot]),
        Op::UnstashWeak { slot, weak } => out.extend([14, slot, weak]),
        Op::PopBox { slot } => out.extend([15, slot]),
        Op::ClearBox => out.push(16),
        Op::Collect { generation } => out.extend([17, generation]),
        Op::SetThreshold(a, b, c) => out.extend([19, a, b, c]),
        Op::Enable => out.extend([20, 0]),
        Op::Disable => out.extend([20, 1]),
        Op::Freeze => out.extend([21, 0]),
        Op::Unfreeze => out.extend([21, 1]),
        Op::SaveAll(on) => out.extend([22, on as u8]),
        Op::TakeGarbage => out.push(23),
        Op::GarbageToSlot { index, slot } => out.extend([24, index, slot]),
        Op::TryUnwrap { slot } => out.extend([25, slot]),
        Op::CollectBorrowed { slot, generation } => out.extend([26, slot, generation]),
    }
}
