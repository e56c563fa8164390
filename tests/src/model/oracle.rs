//! The reference model: plain data (adjacency lists, strong counts,
//! generation membership, flags) and CPython's rules written out directly,
//! with no pointers, no intrusive lists and no trial-deletion tricks.
//!
//! Refcount death follows `subtype_dealloc` (finalizer first, resurrection,
//! then weak callbacks newest first, then the value's fields in declaration
//! order). A collection follows `gc_collect_main` phase by phase, computing
//! reachability as plain graph search from the objects with references from
//! outside the collected set.
//!
//! Where the heap may legitimately pick either of two orders that the model
//! cannot know (which of two objects a collection finalizes or deletes
//! first), the model widens its prediction to the set of allowed results
//! rather than guessing: see [`Callback::min`] / [`Callback::max`].

use super::program::{Action, Kind, Op, MAX_OBJECTS, SLOTS, WEAK_SLOTS};
use super::sut::Outcome;
use pygc::gc::GenerationStats;
use std::collections::HashMap;

/// Where an object is, as the heap's lists would say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    /// On generation list `g`.
    Gen(usize),
    /// In the permanent generation (`gc::freeze`).
    Permanent,
    /// Trash of the running collection (`COLLECTING`).
    Unreachable,
    /// On the running collection's legacy-finalizer list.
    Finalizers,
    /// Freed (value dropped), or unlinked while dying.
    Gone,
}

/// One object of the model.
#[derive(Clone, Debug)]
pub struct Obj {
    /// Its kind.
    pub kind: Kind,
    /// Traced edges, in order.
    pub edges: Vec<usize>,
    /// Weak handles it owns (model weak ids), in order.
    pub weaks: Vec<usize>,
    /// The target of its `#[trace(skip)]` handle.
    pub skip: Option<usize>,
    /// Its finalizer's action.
    pub action: Action,
    /// Strong references to it.
    pub strong: u32,
    /// Whether its value is still alive (not dropped).
    pub value_alive: bool,
    /// `FINALIZED`.
    pub finalized: bool,
    /// How often its finalizer ran.
    pub finalize_calls: u32,
    /// `WEAK_CLEARED`: weak handles to it no longer upgrade (unset again
    /// when it is resurrected).
    pub weak_cleared: bool,
    /// Its weak epoch (header I2): bumped by every clearing; handles of
    /// older epochs are dead for good.
    pub epoch: u32,
    /// Its list.
    pub loc: Loc,
}

/// Who owns a weak handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// A weak slot of the program.
    Slot,
    /// Object `id` (its `weaks` field).
    Obj(usize),
}

/// One weak handle of the model.
#[derive(Clone, Debug)]
pub struct WeakRef {
    /// Its referent (`None` for `Weak::new()`).
    pub target: Option<usize>,
    /// The callback it owns, if any.
    pub callback: Option<usize>,
    /// Where it lives.
    pub owner: Owner,
    /// Its referent's weak epoch when it was made (a clone copies it).
    pub epoch: u32,
}

/// One weak callback of the model.
#[derive(Clone, Debug)]
pub struct Callback {
    /// The referent it is registered on.
    pub target: usize,
    /// The weak handle that owns it.
    pub weak: usize,
    /// Whether it is still registered (its handle alive, not yet run).
    pub registered: bool,
    /// The fewest calls the heap may have made.
    pub min: u32,
    /// The most calls the heap may have made.
    pub max: u32,
    /// Whether it calls `gc::collect()`.
    pub collects: bool,
    /// What that call returned, once it ran.
    pub result: Option<usize>,
}

/// What the current collection's user-code phases did, for the callbacks
/// whose outcome depends on the order of trash (see the module docs).
#[derive(Default)]
struct PhaseLog {
    phase: u8,
    dropped: HashMap<usize, u8>,
    died: HashMap<usize, u8>,
}

/// The reference model's state.
pub struct Model {
    /// Every object allocated, by id.
    pub objs: Vec<Obj>,
    /// Every weak handle made, by model weak id.
    pub weaks: Vec<WeakRef>,
    /// Every weak callback made, by id.
    pub callbacks: Vec<Callback>,
    /// Strong slots (object ids).
    pub slots: [Option<usize>; SLOTS],
    /// Weak slots (model weak ids).
    pub wslots: [Option<usize>; WEAK_SLOTS],
    /// The resurrection box (object ids).
    pub boxed: Vec<usize>,
    /// `gc.garbage` (object ids).
    pub garbage: Vec<usize>,
    /// `gc.get_count()`.
    pub count: [usize; 3],
    /// `gc.get_threshold()`.
    pub threshold: [usize; 3],
    /// `gc.isenabled()`.
    pub enabled: bool,
    /// `DEBUG_SAVEALL`.
    pub save_all: bool,
    /// CPython's `long_lived_total`.
    pub long_lived_total: usize,
    /// CPython's `long_lived_pending`.
    pub long_lived_pending: usize,
    /// `gc.get_stats()`, counted from the program's start.
    pub stats: [GenerationStats; 3],
    /// Every `gc` callback call: (start?, generation, collected,
    /// uncollectable).
    pub gc_log: Vec<super::sut::GcEvent>,
    /// A collection is running (nested `collect()` returns 0).
    pub collecting: bool,
    /// The object whose edges are mutably borrowed during this collection.
    pub borrowed: Option<usize>,
    /// Set once a finalizer dropped the last handle to other trash: that
    /// object has strong count 0 in the resurrection pass and must be freed
    /// (an earlier core counted it as alive).
    pub zero_count_trash: bool,
    phase: Option<PhaseLog>,
}

impl Model {
    /// The model of a freshly reset heap with thresholds `threshold`.
    pub fn new(threshold: [usize; 3], enabled: bool) -> Model {
        Model {
            objs: Vec::new(),
            weaks: Vec::new(),
            callbacks: Vec::new(),
            slots: Default::default(),
            wslots: Default::default(),
            boxed: Vec::new(),
            garbage: Vec::new(),
            count: [0; 3],
            threshold,
            enabled,
            save_all: false,
            long_lived_total: 0,
            long_lived_pending: 0,
            stats: Default::default(),
            zero_count_trash: false,
            gc_log: Vec::new(),
            collecting: false,
            borrowed: None,
            phase: None,
        }
    }

    /// Whether `Weak::upgrade` to `x` succeeds through a handle of the
    /// current epoch.
    pub fn upgradable(&self, x: usize) -> bool {
        let o = &self.objs[x];
        o.value_alive && o.strong > 0 && !o.weak_cleared
    }

    /// Whether weak handle `w` upgrades: it was not cleared (its epoch is
    /// its referent's, header I2) and the referent is upgradable.
    pub fn weak_upgradable(&self, w: usize) -> Option<usize> {
        let x = self.weaks[w].target?;
        (self.upgradable(x) && self.weaks[w].epoch == self.objs[x].epoch).then_some(x)
    }

    /// Clear the weak handles of `x` (they die; later ones may work again
    /// after a resurrection, header I2).
    fn clear_weaks(&mut self, x: usize) {
        self.objs[x].weak_cleared = true;
        self.objs[x].epoch += 1;
    }

    /// Ids of the objects on list `loc`, sorted.
    pub fn ids_at(&self, loc: Loc) -> Vec<usize> {
        (0..self.objs.len())
            .filter(|&x| self.objs[x].loc == loc)
            .collect()
    }

    // -- counts and refcount death -------------------------------------------

    fn inc(&mut self, x: usize) {
        self.objs[x].strong += 1;
    }

    fn dec(&mut self, x: usize) {
        let o = &mut self.objs[x];
        assert!(o.strong > 0, "model: strong count of object {x} below zero");
        o.strong -= 1;
        if o.strong == 0 && o.loc != Loc::Unreachable {
            self.die(x);
        }
    }

    fn note_dealloc(&mut self) {
        self.count[0] = self.count[0].saturating_sub(1);
    }

    /// Refcount death (`release` → `destroy`).
    fn die(&mut self, x: usize) {
        self.objs[x].loc = Loc::Gone; // unlinked first
        let legacy = self.objs[x].kind == Kind::Legacy;
        if legacy {
            // CPython's subtype_dealloc: weakrefs are cleared (callbacks
            // run) before tp_del, which runs at every refcount death.
            self.clear_weaks(x);
            self.run_callbacks_of(x);
        }
        let o = &self.objs[x];
        if o.kind.has_finalizer() && (legacy || !o.finalized) {
            self.objs[x].finalized = true;
            self.objs[x].strong = 1;
            self.run_finalizer(x);
            self.objs[x].strong -= 1;
            if self.objs[x].strong > 0 {
                self.objs[x].loc = Loc::Gen(0); // resurrected, tracked again
                self.objs[x].weak_cleared = false;
                return;
            }
        }
        self.objs[x].weak_cleared = true;
        self.run_callbacks_of(x);
        if let Some(log) = &mut self.phase {
            log.died.insert(x, log.phase);
        }
        self.note_dealloc();
        self.drop_value(x);
    }

    fn run_callbacks_of(&mut self, x: usize) {
        for c in (0..self.callbacks.len()).rev() {
            let cb = &mut self.callbacks[c];
            if cb.target == x && cb.registered {
                cb.registered = false;
                self.fire(c);
            }
        }
    }

    /// Run weak callback `c` (already unregistered).
    fn fire(&mut self, c: usize) {
        let cb = &mut self.callbacks[c];
        cb.min += 1;
        cb.max += 1;
        if cb.collects {
            let found = self.collect(2); // 0 when nested
            self.callbacks[c].result = Some(found);
        }
    }

    /// Drop a value's fields in declaration order: edges, weak handles,
    /// (the self weak handle), the skip handle.
    fn drop_value(&mut self, x: usize) {
        self.objs[x].value_alive = false;
        if let Some(log) = &mut self.phase {
            log.dropped.insert(x, log.phase);
        }
        for t in std::mem::take(&mut self.objs[x].edges) {
            self.dec(t);
        }
        for w in std::mem::take(&mut self.objs[x].weaks) {
            self.drop_weak(w);
        }
        if let Some(t) = self.objs[x].skip.take() {
            self.dec(t);
        }
    }

    fn run_finalizer(&mut self, x: usize) {
        self.objs[x].finalize_calls += 1;
        match self.objs[x].action {
            Action::Nothing => {}
            Action::ResurrectSelf => {
                // Gc::from_finalizing: always, in its own finalizer.
                self.inc(x);
                self.boxed.push(x);
            }
            Action::ResurrectEdge(n) => {
                let edges = &self.objs[x].edges;
                if !edges.is_empty() {
                    let t = edges[n as usize % edges.len()];
                    self.inc(t);
                    self.boxed.push(t);
                }
            }
            Action::ClearEdges => {
                for t in std::mem::take(&mut self.objs[x].edges) {
                    self.dec(t);
                }
            }
            Action::ClearSkip => {
                if let Some(t) = self.objs[x].skip.take() {
                    self.dec(t);
                }
            }
        }
    }

    fn drop_weak(&mut self, w: usize) {
        if let Some(c) = self.weaks[w].callback {
            self.callbacks[c].registered = false;
        }
    }

    fn set_slot(&mut self, i: u8, v: Option<usize>) {
        let old = std::mem::replace(&mut self.slots[i as usize % SLOTS], v);
        if let Some(o) = old {
            self.dec(o);
        }
    }

    fn set_wslot(&mut self, i: u8, v: Option<usize>) {
        let old = std::mem::replace(&mut self.wslots[i as usize % WEAK_SLOTS], v);
        if let Some(o) = old {
            self.drop_weak(o);
        }
    }

    fn new_weak(&mut self, target: Option<usize>, callback: bool, collects: bool) -> usize {
        let epoch = target.map_or(0, |x| self.objs[x].epoch);
        self.new_weak_in(target, epoch, callback, collects)
    }

    fn new_weak_in(
        &mut self,
        target: Option<usize>,
        epoch: u32,
        callback: bool,
        collects: bool,
    ) -> usize {
        let w = self.weaks.len();
        let callback = callback.then(|| {
            self.callbacks.push(Callback {
                target: target.expect("callback on an empty weak"),
                weak: w,
                registered: true,
                min: 0,
                max: 0,
                collects,
                result: None,
            });
            self.callbacks.len() - 1
        });
        self.weaks.push(WeakRef {
            target,
            callback,
            owner: Owner::Slot,
            epoch,
        });
        w
    }

    // -- the program's steps ---------------------------------------------------

    /// Predict one step.
    pub fn step(&mut self, op: &Op) -> Outcome {
        let slot = |s: u8| s as usize % SLOTS;
        match *op {
            Op::Alloc {
                slot: dst,
                kind,
                skip,
                action,
            } => {
                if self.objs.len() >= MAX_OBJECTS {
                    return Outcome::Done;
                }
                let skip = skip.and_then(|s| self.slots[slot(s)]);
                if let Some(t) = skip {
                    self.inc(t); // held by the value being built
                }
                self.note_alloc();
                self.objs.push(Obj {
                    kind,
                    edges: Vec::new(),
                    weaks: Vec::new(),
                    skip,
                    action,
                    strong: 1,
                    value_alive: true,
                    finalized: false,
                    finalize_calls: 0,
                    weak_cleared: false,
                    epoch: 0,
                    loc: Loc::Gen(0),
                });
                self.set_slot(dst, Some(self.objs.len() - 1));
            }
            Op::Link { from, to } => {
                if let (Some(f), Some(t)) = (self.slots[slot(from)], self.slots[slot(to)]) {
                    self.inc(t);
                    self.objs[f].edges.push(t);
                }
            }
            Op::Unlink { from, edge } => {
                if let Some(f) = self.slots[slot(from)] {
                    let edges = &mut self.objs[f].edges;
                    if !edges.is_empty() {
                        let t = edges.remove(edge as usize % edges.len());
                        self.dec(t);
                    }
                }
            }
            Op::Clone { from, to } => {
                if let Some(f) = self.slots[slot(from)] {
                    self.inc(f);
                    self.set_slot(to, Some(f));
                }
            }
            Op::Drop { slot } => self.set_slot(slot, None),
            Op::SetAction { slot: s, action } => {
                if let Some(x) = self.slots[slot(s)] {
                    self.objs[x].action = action;
                }
            }
            Op::Downgrade {
                slot: s,
                weak,
                callback,
                collects,
            } => {
                if let Some(x) = self.slots[slot(s)] {
                    let w = self.new_weak(Some(x), callback, collects);
                    self.set_wslot(weak, Some(w));
                }
            }
            Op::NewWeak { weak } => {
                let w = self.new_weak(None, false, false);
                self.set_wslot(weak, Some(w));
            }
            Op::CloneWeak { from, to } => {
                if let Some(w) = self.wslots[from as usize % WEAK_SLOTS] {
                    let w =
                        self.new_weak_in(self.weaks[w].target, self.weaks[w].epoch, false, false);
                    self.set_wslot(to, Some(w));
                }
            }
            Op::DropWeak { weak } => self.set_wslot(weak, None),
            Op::Upgrade { weak, slot } => {
                if let Some(w) = self.wslots[weak as usize % WEAK_SLOTS] {
                    let up = self.weak_upgradable(w);
                    if let Some(x) = up {
                        self.inc(x);
                    }
                    self.set_slot(slot, up);
                    return Outcome::Upgraded(up);
                }
            }
            Op::StashWeak { weak, slot: s } => {
                let wi = weak as usize % WEAK_SLOTS;
                if let (Some(x), Some(w)) = (self.slots[slot(s)], self.wslots[wi]) {
                    self.wslots[wi] = None;
                    self.weaks[w].owner = Owner::Obj(x);
                    self.objs[x].weaks.push(w);
                }
            }
            Op::UnstashWeak { slot: s, weak } => {
                if let Some(x) = self.slots[slot(s)] {
                    if let Some(w) = self.objs[x].weaks.pop() {
                        self.weaks[w].owner = Owner::Slot;
                        self.set_wslot(weak, Some(w));
                    }
                }
            }
            Op::PopBox { slot } => {
                let at = (0..self.boxed.len()).min_by_key(|&i| (self.boxed[i], i));
                if let Some(i) = at {
                    let x = self.boxed.remove(i);
                    self.set_slot(slot, Some(x));
                }
            }
            Op::ClearBox => {
                let mut boxed = std::mem::take(&mut self.boxed);
                boxed.sort();
                for x in boxed {
                    self.dec(x);
                }
            }
            Op::Collect { generation } => {
                return Outcome::Collected(self.collect(generation as usize % 3));
            }
            Op::CollectBorrowed {
                slot: s,
                generation,
            } => {
                if let Some(x) = self.slots[slot(s)] {
                    self.borrowed = Some(x);
                    let found = self.collect(generation as usize % 3);
                    self.borrowed = None;
                    return Outcome::Collected(found);
                }
            }
            Op::SetThreshold(a, b, c) => self.threshold = [a as usize, b as usize, c as usize],
            Op::Enable => self.enabled = true,
            Op::Disable => self.enabled = false,
            Op::Freeze => {
                for o in &mut self.objs {
                    if let Loc::Gen(_) = o.loc {
                        o.loc = Loc::Permanent;
                    }
                }
                self.count[0] = 0;
            }
            Op::Unfreeze => {
                for o in &mut self.objs {
                    if o.loc == Loc::Permanent {
                        o.loc = Loc::Gen(2);
                    }
                }
            }
            Op::SaveAll(on) => self.save_all = on,
            Op::TakeGarbage => {
                let mut garbage = std::mem::take(&mut self.garbage);
                garbage.sort();
                for x in garbage {
                    self.dec(x);
                }
            }
            Op::GarbageToSlot { index, slot } => {
                if !self.garbage.is_empty() {
                    let mut ids = self.garbage.clone();
                    ids.sort();
                    let x = ids[index as usize % ids.len()];
                    self.inc(x);
                    self.set_slot(slot, Some(x));
                }
            }
            Op::TryUnwrap { slot: s } => {
                if let Some(x) = self.slots[slot(s)] {
                    if self.objs[x].strong != 1 {
                        return Outcome::Unwrapped(false);
                    }
                    // The handle is consumed: leave the heap, clear weak
                    // handles, run callbacks (no finalizer), then the caller
                    // drops the value moved out.
                    self.slots[slot(s)] = None;
                    self.objs[x].loc = Loc::Gone;
                    self.note_dealloc();
                    self.objs[x].strong = 0;
                    self.objs[x].weak_cleared = true;
                    self.run_callbacks_of(x);
                    self.drop_value(x);
                    return Outcome::Unwrapped(true);
                }
            }
        }
        Outcome::Done
    }

    // -- the collector -----------------------------------------------------------

    /// `note_alloc`: count a tracked allocation; collect when CPython would.
    fn note_alloc(&mut self) {
        self.count[0] += 1;
        let t0 = self.threshold[0];
        if t0 != 0 && self.count[0] > t0 && self.enabled {
            let g = (0..3).rev().find(|&g| {
                self.count[g] > self.threshold[g]
                    && !(g == 2 && self.long_lived_pending < self.long_lived_total / 4)
            });
            if let Some(g) = g {
                self.collect(g);
            }
        }
    }

    /// Objects of `set` reachable from those of them that have references
    /// from outside `set` (strong count minus traced edges from inside).
    fn reachable_within(&self, set: &[usize]) -> Vec<bool> {
        let n = self.objs.len();
        let mut in_set = vec![false; n];
        for &x in set {
            in_set[x] = true;
        }
        let mut outside: Vec<i64> = (0..n).map(|x| self.objs[x].strong as i64).collect();
        // A mutably borrowed cell cannot be traced: its edges are not
        // subtracted (and not followed), so their targets look referenced
        // from outside.
        let traced = |y: usize| Some(y) != self.borrowed;
        for &y in set.iter().filter(|&&y| traced(y)) {
            for &t in &self.objs[y].edges {
                if in_set[t] {
                    outside[t] -= 1;
                }
            }
        }
        let mut reached = vec![false; n];
        let mut stack: Vec<usize> = set.iter().copied().filter(|&x| outside[x] > 0).collect();
        for &x in &stack {
            reached[x] = true;
        }
        while let Some(x) = stack.pop() {
            if !traced(x) {
                continue;
            }
            for &t in &self.objs[x].edges {
                if in_set[t] && !reached[t] {
                    reached[t] = true;
                    stack.push(t);
                }
            }
        }
        reached
    }

    /// One collection of `generation`, phase by phase; returns what
    /// `collect_generation` returns.
    pub fn collect(&mut self, g: usize) -> usize {
        if self.collecting {
            return 0;
        }
        self.collecting = true;
        self.gc_log.push((true, g, 0, 0));
        if g + 1 < 3 {
            self.count[g + 1] += 1;
        }
        for c in &mut self.count[..=g] {
            *c = 0;
        }
        for o in &mut self.objs {
            if let Loc::Gen(i) = o.loc {
                if i <= g {
                    o.loc = Loc::Gen(g);
                }
            }
        }
        let old = (g + 1).min(2);
        let young = self.ids_at(Loc::Gen(g));

        // update_refs, subtract_refs, move_unreachable.
        let reached = self.reachable_within(&young);
        let survivors = young.iter().filter(|&&x| reached[x]).count();
        for &x in &young {
            self.objs[x].loc = if reached[x] {
                Loc::Gen(old)
            } else {
                Loc::Unreachable
            };
        }
        if g == 1 {
            self.long_lived_pending += survivors;
        } else if g == 2 {
            self.long_lived_pending = 0;
            self.long_lived_total = survivors;
        }

        // Legacy finalizers and everything unreachable they reach.
        let mut stack: Vec<usize> = self
            .ids_at(Loc::Unreachable)
            .into_iter()
            .filter(|&x| self.objs[x].kind == Kind::Legacy)
            .collect();
        for &x in &stack {
            self.objs[x].loc = Loc::Finalizers;
        }
        while let Some(x) = stack.pop() {
            for t in self.objs[x].edges.clone() {
                if self.objs[t].loc == Loc::Unreachable {
                    self.objs[t].loc = Loc::Finalizers;
                    stack.push(t);
                }
            }
        }

        // handle_weakrefs: clear, then run the callbacks of weak handles
        // that are not themselves inside the trash.
        let trash = self.ids_at(Loc::Unreachable);
        for &x in &trash {
            self.clear_weaks(x);
            for c in (0..self.callbacks.len()).rev() {
                if self.callbacks[c].target != x || !self.callbacks[c].registered {
                    continue;
                }
                self.callbacks[c].registered = false;
                let in_trash = match self.weaks[self.callbacks[c].weak].owner {
                    Owner::Obj(o) => self.objs[o].loc == Loc::Unreachable,
                    Owner::Slot => false,
                };
                if !in_trash {
                    self.fire(c);
                }
            }
        }
        // Weak handles inside the trash lose their callbacks whatever they
        // point at (CPython clears every weakref in the unreachable set,
        // bpo-38006; those to trash were handled above).
        for c in 0..self.callbacks.len() {
            if let Owner::Obj(o) = self.weaks[self.callbacks[c].weak].owner {
                if self.callbacks[c].registered && self.objs[o].loc == Loc::Unreachable {
                    self.callbacks[c].registered = false;
                }
            }
        }
        // (callback, owner object, calls so far) of callbacks still registered.
        let pending: Vec<(usize, usize, u32)> = (0..self.callbacks.len())
            .filter(|&c| self.callbacks[c].registered)
            .filter_map(|c| match self.weaks[self.callbacks[c].weak].owner {
                Owner::Obj(o) => Some((c, o, self.callbacks[c].min)),
                Owner::Slot => None,
            })
            .collect();
        self.phase = Some(PhaseLog {
            phase: 1,
            ..PhaseLog::default()
        });

        // finalize_garbage: PEP 442, once per object.
        for &x in &trash {
            let o = &self.objs[x];
            if o.kind == Kind::Pep442 && !o.finalized {
                self.objs[x].finalized = true;
                self.inc(x);
                self.run_finalizer(x);
                let o = &mut self.objs[x];
                o.strong -= 1; // reaching 0 does nothing: the collector owns it
            }
        }

        // handle_resurrected_objects.
        let trash = self.ids_at(Loc::Unreachable);
        if trash.iter().any(|&x| self.objs[x].strong == 0) {
            self.zero_count_trash = true;
        }
        let reached = self.reachable_within(&trash);
        for &x in &trash {
            if reached[x] {
                self.objs[x].loc = Loc::Gen(old);
                self.objs[x].weak_cleared = false; // resurrected (I2)
            }
        }
        let final_trash: Vec<usize> = trash.into_iter().filter(|&x| !reached[x]).collect();
        let collected = final_trash.len();

        // delete_garbage.
        if let Some(log) = &mut self.phase {
            log.phase = 2;
        }
        if self.save_all {
            for &x in &final_trash {
                self.inc(x);
                self.garbage.push(x);
                self.objs[x].loc = Loc::Gen(old);
                self.objs[x].weak_cleared = false; // kept alive (I2)
            }
        } else {
            for &x in &final_trash {
                self.drop_value(x);
            }
            for &x in &final_trash {
                assert_eq!(
                    self.objs[x].strong, 0,
                    "model: deleted trash object {x} still referenced"
                );
                self.objs[x].loc = Loc::Gone;
                self.note_dealloc();
            }
        }

        // Legacy finalizers, end: to gc.garbage, then to the older generation.
        let finalizers = self.ids_at(Loc::Finalizers);
        let uncollectable = finalizers.len();
        for &x in &finalizers {
            if self.save_all || self.objs[x].kind == Kind::Legacy {
                self.inc(x);
                self.garbage.push(x);
            }
            self.objs[x].loc = Loc::Gen(old);
        }

        // Callbacks whose owner and referent both died in the same phase:
        // the heap's order between them decides whether they ran.
        let log = self.phase.take().unwrap_or_default();
        for (c, owner, calls) in pending {
            let target = self.callbacks[c].target;
            if let (Some(p1), Some(p2)) = (log.dropped.get(&owner), log.died.get(&target)) {
                if p1 == p2 {
                    let cb = &mut self.callbacks[c];
                    cb.min = calls;
                    cb.max = calls + 1;
                    cb.registered = false;
                }
            }
        }

        let s = &mut self.stats[g];
        s.collections += 1;
        s.collected += collected;
        s.uncollectable += uncollectable;
        self.gc_log.push((false, g, collected, uncollectable));
        self.collecting = false;
        collected + uncollectable
    }
}
