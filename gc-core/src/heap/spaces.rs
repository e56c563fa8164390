//! The per-thread heap's collector mode and the incremental mode's spaces
//! (PEP 848).
//!
//! # Layout in each mode
//!
//! ```text
//!                 Generational            Incremental (PEP 848)
//! generations[0]  generation 0            nursery                 tag 0
//! aging           (empty)                 aging spaces, newest    tag 0
//!                                         first
//! generations[1]  generation 1            old space with tag 1    tag 1
//! generations[2]  generation 2            old space with tag 2    tag 2
//! promoted        (empty)                 the visited space's     visited
//!                                         promoted tail           tag
//! permanent       gc.freeze()             gc.freeze()             tag 3
//! ```
//!
//! In the incremental mode the two old lists are the *pending* and the
//! *visited* space; [`Spaces::visited`] holds the visited one's tag (1 or 2),
//! the other is pending. Header I7 holds unchanged in both modes: an object
//! linked on `generations[g]` carries tag `g`, one on an aging list tag 0.
//! Objects promoted by young collections belong to the visited space (PEP
//! 848) but wait on a list of their own, [`Spaces::promoted`], with the
//! visited tag, until the sweep ends: then they join the visited list's
//! tail, behind every object the sweep visited, which were all old when it
//! started — so the old generation stays in promotion order, oldest first
//! (`collector::incremental`, "Where promoted objects go"). Finishing a
//! sweep (the pending space is empty) swaps the roles by flipping
//! [`Spaces::visited`]: no object is relabelled or moved, so the swap costs
//! nothing however large the old generation is (CPython 3.14's
//! `visited_space` bit works the same way).
//!
//! # Switching modes
//!
//! Switching moves lists, never single objects (O(number of lists)):
//! * to `Incremental`: generation 0 becomes the nursery; generation 1's
//!   objects are the old generation's pending space and generation 2's its
//!   visited space (a sweep starts with generation 1's objects).
//! * to `Generational`: the aging spaces join generation 0 (they are young:
//!   the next generation-0 collection scans them); the old spaces stay on
//!   their lists, and the promoted list joins the visited one, so the old
//!   generation's objects are in generations 1 and 2 as their tags say.
//!
//! Counts, the work budget and the alternation restart from zero; the
//! statistics are kept.

use super::list::{self, List};
use super::Heap;
use crate::types::Mode;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use super::header::Node;

/// The mode and the incremental mode's state.
pub(crate) struct Spaces {
    /// The mode in force.
    pub(crate) mode: Cell<Mode>,
    /// A mode asked for by `gc::set_mode` while a collection ran; applied
    /// when it ends.
    pub(crate) requested: Cell<Option<Mode>>,
    /// Incremental: the aging spaces, newest first. Each is one nursery's
    /// worth of objects (two of the PEP's half-spaces).
    pub(crate) aging: RefCell<VecDeque<List>>,
    /// Empty lists kept for reuse as aging spaces.
    spare: RefCell<Vec<List>>,
    /// Incremental: the tag (1 or 2) of the visited old space.
    pub(crate) visited: Cell<usize>,
    /// Incremental: the objects promoted by young collections during this
    /// sweep, with the visited tag (see the module docs).
    pub(crate) promoted: List,
    /// Incremental: objects promoted since the last increment (its budget
    /// grows by as many, PEP 848).
    pub(crate) promoted_since: Cell<usize>,
    /// Incremental: the work budget, in objects (PEP 848's `work_to_do`).
    pub(crate) work_to_do: Cell<isize>,
    /// Incremental: the next automatic collection is a young one.
    pub(crate) young_next: Cell<bool>,
}

impl Spaces {
    pub(crate) fn new() -> Spaces {
        Spaces {
            mode: Cell::new(Mode::Generational),
            requested: Cell::new(None),
            aging: RefCell::new(VecDeque::new()),
            spare: RefCell::new(Vec::new()),
            visited: Cell::new(2),
            promoted: List::new(),
            promoted_since: Cell::new(0),
            work_to_do: Cell::new(0),
            young_next: Cell::new(false),
        }
    }

    /// The tag of the pending old space.
    pub(crate) fn pending(&self) -> usize {
        3 - self.visited.get()
    }

    /// An empty list for a new aging space.
    pub(crate) fn take_list(&self) -> List {
        self.spare.borrow_mut().pop().unwrap_or_else(List::new)
    }

    /// Give back an emptied list.
    pub(crate) fn give_back(&self, l: List) {
        debug_assert!(list::is_empty(l.head()));
        self.spare.borrow_mut().push(l);
    }

    /// The heads of the aging spaces (a snapshot: callers may run user code).
    pub(crate) fn aging_heads(&self) -> Vec<Node> {
        self.aging.borrow().iter().map(List::head).collect()
    }
}

impl Heap {
    /// Every list an object of this heap may be linked on outside a
    /// collection, except the permanent generation: generations 0–2, the
    /// aging spaces and the promoted list.
    pub(crate) fn tracked_lists(&self) -> Vec<Node> {
        let mut out: Vec<Node> = self.generations.iter().map(List::head).collect();
        out.extend(self.spaces.aging_heads());
        out.push(self.spaces.promoted.head());
        out
    }

    /// Incremental: the old generation's lists (both spaces and the
    /// promoted list).
    pub(crate) fn old_lists(&self) -> [Node; 3] {
        [
            self.gen_head(1),
            self.gen_head(2),
            self.spaces.promoted.head(),
        ]
    }

    /// Switch to `mode` now (no collection runs). See the module docs.
    pub(crate) fn switch_mode(&self, mode: Mode) {
        let spaces = &self.spaces;
        if spaces.mode.get() == mode {
            return;
        }
        if mode == Mode::Generational {
            let aging: Vec<List> = spaces.aging.borrow_mut().drain(..).collect();
            // Oldest first, then the nursery behind them.
            let gen0 = self.gen_head(0);
            let nursery = spaces.take_list();
            list::merge(gen0, nursery.head());
            for space in aging.into_iter().rev() {
                list::merge(space.head(), gen0);
                spaces.give_back(space);
            }
            list::merge(nursery.head(), gen0);
            spaces.give_back(nursery);
            // The promoted objects carry the visited tag (I7).
            list::merge(spaces.promoted.head(), self.gen_head(spaces.visited.get()));
            self.gen.set_long_lived(0);
        } else {
            debug_assert!(list::is_empty(spaces.promoted.head()));
            spaces.visited.set(2);
            spaces.promoted_since.set(0);
            spaces.work_to_do.set(0);
            spaces.young_next.set(false);
        }
        for c in &self.gen.count {
            c.set(0);
        }
        spaces.mode.set(mode);
    }
}
