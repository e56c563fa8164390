//! The system under test: the object types a program allocates, and the
//! interpreter that runs a program's steps against `pygc`.

use super::program::{Action, Kind, Op, MAX_OBJECTS, SLOTS, WEAK_SLOTS};
use pygc::{gc, Finalize, Gc, GcAny, Trace, Weak};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// What a run observes without touching the heap: per object, how often its
/// value was dropped and its finalizer ran; per callback, how often it ran;
/// and the resurrection box finalizers store handles into.
///
/// Objects reach it through an `Rc` in a `#[trace(skip)]` field, so a run's
/// leftovers (after a failed case) never write into the next run's tables.
#[derive(Default)]
pub struct Ctx {
    /// The resurrection box.
    pub boxed: RefCell<Vec<Handle>>,
    /// `dropped[id]`: drops of object `id`'s value.
    pub dropped: RefCell<Vec<u32>>,
    /// `finalized[id]`: calls of object `id`'s finalizer.
    pub finalized: RefCell<Vec<u32>>,
    /// `callbacks[n]`: calls of weak callback `n`.
    pub callbacks: RefCell<Vec<u32>>,
    /// `callback_results[n]`: what `gc::collect()` returned inside weak
    /// callback `n` (for callbacks that collect).
    pub callback_results: RefCell<Vec<Option<usize>>>,
    /// Every `gc` callback call: (start?, generation, collected,
    /// uncollectable).
    pub gc_log: RefCell<Vec<GcEvent>>,
}

/// One call of the run's `gc` callback: (`Phase::Start`?, generation,
/// collected, uncollectable).
pub type GcEvent = (bool, usize, usize, usize);

/// Bumps `ctx.dropped[id]` when the value that holds it is dropped.
pub struct Probe {
    id: usize,
    ctx: Rc<Ctx>,
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.ctx.dropped.borrow_mut()[self.id] += 1;
    }
}

/// The contents of every object, whatever its finalizer kind.
///
/// Fields drop in declaration order (the reference model relies on it):
/// edges, stashed weak handles, the self weak handle, the skip field.
#[derive(Trace)]
pub struct Body {
    /// The object's id (allocation order, from 0).
    pub id: usize,
    /// Traced strong edges.
    pub edges: RefCell<Vec<Handle>>,
    /// Weak handles the object owns (moved in by [`Op::StashWeak`]).
    pub weaks: RefCell<Vec<WeakHandle>>,
    /// A plain weak handle to the object itself.
    pub me: RefCell<WeakHandle>,
    /// A strong handle the collector does not see: an outside reference.
    #[trace(skip)]
    pub skip: RefCell<Option<Handle>>,
    /// What the finalizer does.
    #[trace(skip)]
    pub action: Cell<Action>,
    #[trace(skip)]
    probe: Probe,
}

impl Body {
    /// The run's observation tables and resurrection box.
    pub fn ctx(&self) -> &Rc<Ctx> {
        &self.probe.ctx
    }

    /// `me` makes a strong handle to this object (`Gc::from_finalizing`).
    fn finalize(&self, me: impl FnOnce() -> Option<Handle>) {
        let ctx = &self.probe.ctx;
        ctx.finalized.borrow_mut()[self.id] += 1;
        match self.action.get() {
            Action::Nothing => {}
            Action::ResurrectSelf => {
                if let Some(me) = me() {
                    ctx.boxed.borrow_mut().push(me);
                }
            }
            Action::ResurrectEdge(n) => {
                let edge = {
                    let edges = self.edges.borrow();
                    (!edges.is_empty()).then(|| edges[n as usize % edges.len()].clone())
                };
                if let Some(edge) = edge {
                    ctx.boxed.borrow_mut().push(edge);
                }
            }
            Action::ClearEdges => {
                let edges = std::mem::take(&mut *self.edges.borrow_mut());
                drop(edges);
            }
            Action::ClearSkip => {
                let skip = self.skip.borrow_mut().take();
                drop(skip);
            }
        }
    }
}

/// An object without finalizer.
#[derive(Trace)]
pub struct PlainObj(pub Body);

/// An object with a PEP 442 finalizer.
#[derive(Trace)]
#[trace(finalize)]
pub struct FinObj(pub Body);

impl Finalize for FinObj {
    fn finalize(&self) {
        self.0
            .finalize(|| Gc::from_finalizing(self).map(Handle::Fin))
    }
}

/// An object with a legacy finalizer.
#[derive(Trace)]
#[trace(legacy_finalize)]
pub struct LegacyObj(pub Body);

impl Finalize for LegacyObj {
    fn finalize(&self) {
        self.0
            .finalize(|| Gc::from_finalizing(self).map(Handle::Legacy))
    }
}

/// A strong handle to an object of any kind.
#[derive(Trace, Clone)]
pub enum Handle {
    /// To a [`PlainObj`].
    Plain(Gc<PlainObj>),
    /// To a [`FinObj`].
    Fin(Gc<FinObj>),
    /// To a [`LegacyObj`].
    Legacy(Gc<LegacyObj>),
}

impl Handle {
    /// The object's contents.
    pub fn body(&self) -> &Body {
        match self {
            Handle::Plain(g) => &g.0,
            Handle::Fin(g) => &g.0,
            Handle::Legacy(g) => &g.0,
        }
    }

    /// The object's id.
    pub fn id(&self) -> usize {
        self.body().id
    }

    /// A weak handle, with a callback when given.
    pub fn downgrade(&self, callback: Option<Box<dyn FnOnce()>>) -> WeakHandle {
        fn make<T: Trace + 'static>(g: &Gc<T>, callback: Option<Box<dyn FnOnce()>>) -> Weak<T> {
            match callback {
                Some(cb) => Gc::downgrade_with_callback(g, cb),
                None => Gc::downgrade(g),
            }
        }
        match self {
            Handle::Plain(g) => WeakHandle::Plain(make(g, callback)),
            Handle::Fin(g) => WeakHandle::Fin(make(g, callback)),
            Handle::Legacy(g) => WeakHandle::Legacy(make(g, callback)),
        }
    }

    /// A type-erased strong handle.
    pub fn to_any(&self) -> GcAny {
        match self {
            Handle::Plain(g) => Gc::to_any(g),
            Handle::Fin(g) => Gc::to_any(g),
            Handle::Legacy(g) => Gc::to_any(g),
        }
    }

    /// Downcast a type-erased handle to one of the program's kinds.
    pub fn from_any(any: GcAny) -> Result<Handle, GcAny> {
        let any = match any.downcast::<PlainObj>() {
            Ok(g) => return Ok(Handle::Plain(g)),
            Err(a) => a,
        };
        let any = match any.downcast::<FinObj>() {
            Ok(g) => return Ok(Handle::Fin(g)),
            Err(a) => a,
        };
        any.downcast::<LegacyObj>().map(Handle::Legacy)
    }
}

/// The id of a type-erased handle to one of the program's objects.
pub fn any_id(any: &GcAny) -> Option<usize> {
    if let Some(o) = any.downcast_ref::<PlainObj>() {
        Some(o.0.id)
    } else if let Some(o) = any.downcast_ref::<FinObj>() {
        Some(o.0.id)
    } else {
        any.downcast_ref::<LegacyObj>().map(|o| o.0.id)
    }
}

/// A weak handle to an object of any kind.
#[derive(Trace, Clone)]
pub enum WeakHandle {
    /// To a [`PlainObj`] (also the kind of `Weak::new()`).
    Plain(Weak<PlainObj>),
    /// To a [`FinObj`].
    Fin(Weak<FinObj>),
    /// To a [`LegacyObj`].
    Legacy(Weak<LegacyObj>),
}

impl WeakHandle {
    /// `Weak::upgrade`.
    pub fn upgrade(&self) -> Option<Handle> {
        match self {
            WeakHandle::Plain(w) => w.upgrade().map(Handle::Plain),
            WeakHandle::Fin(w) => w.upgrade().map(Handle::Fin),
            WeakHandle::Legacy(w) => w.upgrade().map(Handle::Legacy),
        }
    }

    /// `Weak::strong_count`: the referent's strong count (0 once its value
    /// is dropped), read without upgrading.
    pub fn strong_count(&self) -> usize {
        match self {
            WeakHandle::Plain(w) => w.strong_count(),
            WeakHandle::Fin(w) => w.strong_count(),
            WeakHandle::Legacy(w) => w.strong_count(),
        }
    }
}

/// The interpreter's state: the program's slots over the real heap.
pub struct Sut {
    /// The run's observation tables and resurrection box.
    pub ctx: Rc<Ctx>,
    /// Strong slots.
    pub slots: [Option<Handle>; SLOTS],
    /// Weak slots.
    pub weaks: [Option<WeakHandle>; WEAK_SLOTS],
    /// One plain weak handle per object when counts are observed.
    pub observers: Vec<WeakHandle>,
    /// `legacy[id]`: object `id` has a legacy finalizer.
    pub legacy: Vec<bool>,
    observe: bool,
    /// Objects allocated so far.
    pub objects: usize,
    /// Weak callbacks created so far.
    pub callbacks: usize,
    gc_callback: gc::CallbackId,
}

impl Drop for Sut {
    fn drop(&mut self) {
        gc::remove_callback(self.gc_callback);
    }
}

/// The result of one step, for comparison with the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to compare.
    Done,
    /// What `collect_generation` returned.
    Collected(usize),
    /// The id `upgrade` returned, if any.
    Upgraded(Option<usize>),
    /// Whether `try_unwrap` succeeded.
    Unwrapped(bool),
}

fn sorted_by_id(mut handles: Vec<Handle>) -> Vec<Handle> {
    handles.sort_by_key(Handle::id);
    handles
}

impl Sut {
    /// A fresh interpreter (the heap should be reset first).
    pub fn new(observe: bool) -> Sut {
        let ctx = Rc::new(Ctx::default());
        let log = ctx.clone();
        let gc_callback = gc::add_callback(move |phase, info| {
            log.gc_log.borrow_mut().push((
                phase == gc::Phase::Start,
                info.generation,
                info.collected,
                info.uncollectable,
            ))
        });
        Sut {
            gc_callback,
            ctx,
            slots: Default::default(),
            weaks: Default::default(),
            observers: Vec::new(),
            legacy: Vec::new(),
            observe,
            objects: 0,
            callbacks: 0,
        }
    }

    fn slot(&self, i: u8) -> Option<&Handle> {
        self.slots[i as usize % SLOTS].as_ref()
    }

    fn set_slot(&mut self, i: u8, h: Option<Handle>) {
        let old = std::mem::replace(&mut self.slots[i as usize % SLOTS], h);
        drop(old);
    }

    fn set_weak(&mut self, i: u8, w: Option<WeakHandle>) {
        let old = std::mem::replace(&mut self.weaks[i as usize % WEAK_SLOTS], w);
        drop(old);
    }

    /// Run one step.
    pub fn step(&mut self, op: &Op) -> Outcome {
        match *op {
            Op::Alloc {
                slot,
                kind,
                skip,
                action,
            } => {
                if self.objects >= MAX_OBJECTS {
                    return Outcome::Done;
                }
                let id = self.objects;
                self.objects += 1;
                self.ctx.dropped.borrow_mut().push(0);
                self.ctx.finalized.borrow_mut().push(0);
                self.legacy.push(kind == Kind::Legacy);
                let skip = skip.and_then(|s| self.slot(s).cloned());
                let body = Body {
                    id,
                    edges: RefCell::new(Vec::new()),
                    weaks: RefCell::new(Vec::new()),
                    me: RefCell::new(WeakHandle::Plain(Weak::new())),
                    skip: RefCell::new(skip),
                    action: Cell::new(action),
                    probe: Probe {
                        id,
                        ctx: self.ctx.clone(),
                    },
                };
                let h = match kind {
                    Kind::Plain => Handle::Plain(Gc::new(PlainObj(body))),
                    Kind::Pep442 => Handle::Fin(Gc::new(FinObj(body))),
                    Kind::Legacy => Handle::Legacy(Gc::new(LegacyObj(body))),
                };
                *h.body().me.borrow_mut() = h.downgrade(None);
                if self.observe {
                    self.observers.push(h.downgrade(None));
                }
                self.set_slot(slot, Some(h));
            }
            Op::Link { from, to } => {
                if let (Some(f), Some(t)) = (self.slot(from), self.slot(to)) {
                    let t = t.clone();
                    f.body().edges.borrow_mut().push(t);
                }
            }
            Op::Unlink { from, edge } => {
                if let Some(f) = self.slot(from) {
                    let removed = {
                        let mut edges = f.body().edges.borrow_mut();
                        let len = edges.len();
                        (len > 0).then(|| edges.remove(edge as usize % len))
                    };
                    drop(removed);
                }
            }
            Op::Clone { from, to } => {
                if let Some(f) = self.slot(from) {
                    let h = f.clone();
                    self.set_slot(to, Some(h));
                }
            }
            Op::Drop { slot } => self.set_slot(slot, None),
            Op::SetAction { slot, action } => {
                if let Some(h) = self.slot(slot) {
                    h.body().action.set(action);
                }
            }
            Op::Downgrade {
                slot,
                weak,
                callback,
                collects,
            } => {
                if let Some(h) = self.slot(slot).cloned() {
                    let cb: Option<Box<dyn FnOnce()>> = callback.then(|| {
                        let n = self.callbacks;
                        self.callbacks += 1;
                        self.ctx.callbacks.borrow_mut().push(0);
                        self.ctx.callback_results.borrow_mut().push(None);
                        let ctx = self.ctx.clone();
                        Box::new(move || {
                            ctx.callbacks.borrow_mut()[n] += 1;
                            if collects {
                                let found = gc::collect();
                                ctx.callback_results.borrow_mut()[n] = Some(found);
                            }
                        }) as Box<dyn FnOnce()>
                    });
                    let w = h.downgrade(cb);
                    drop(h);
                    self.set_weak(weak, Some(w));
                }
            }
            Op::NewWeak { weak } => self.set_weak(weak, Some(WeakHandle::Plain(Weak::new()))),
            Op::CloneWeak { from, to } => {
                if let Some(w) = &self.weaks[from as usize % WEAK_SLOTS] {
                    let w = w.clone();
                    self.set_weak(to, Some(w));
                }
            }
            Op::DropWeak { weak } => self.set_weak(weak, None),
            Op::Upgrade { weak, slot } => {
                if let Some(w) = &self.weaks[weak as usize % WEAK_SLOTS] {
                    let up = w.upgrade();
                    let id = up.as_ref().map(Handle::id);
                    self.set_slot(slot, up);
                    return Outcome::Upgraded(id);
                }
            }
            Op::StashWeak { weak, slot } => {
                let w = weak as usize % WEAK_SLOTS;
                if let (Some(h), true) = (self.slot(slot), self.weaks[w].is_some()) {
                    let h = h.clone();
                    let moved = self.weaks[w].take().unwrap();
                    h.body().weaks.borrow_mut().push(moved);
                    drop(h);
                }
            }
            Op::UnstashWeak { slot, weak } => {
                if let Some(h) = self.slot(slot) {
                    let popped = h.body().weaks.borrow_mut().pop();
                    if let Some(w) = popped {
                        self.set_weak(weak, Some(w));
                    }
                }
            }
            Op::PopBox { slot } => {
                let popped = {
                    let mut boxed = self.ctx.boxed.borrow_mut();
                    let at = (0..boxed.len()).min_by_key(|&i| (boxed[i].id(), i));
                    at.map(|i| boxed.remove(i))
                };
                if let Some(h) = popped {
                    self.set_slot(slot, Some(h));
                }
            }
            Op::ClearBox => {
                let boxed = std::mem::take(&mut *self.ctx.boxed.borrow_mut());
                for h in sorted_by_id(boxed) {
                    drop(h);
                }
            }
            Op::Collect { generation } => {
                return Outcome::Collected(gc::collect_generation(generation as usize % 3));
            }
            Op::CollectBorrowed { slot, generation } => {
                if let Some(h) = self.slot(slot) {
                    let _borrowed = h.body().edges.borrow_mut();
                    return Outcome::Collected(gc::collect_generation(generation as usize % 3));
                }
            }
            Op::SetThreshold(a, b, c) => gc::set_threshold(a as usize, b as usize, c as usize),
            Op::Enable => gc::enable(),
            Op::Disable => gc::disable(),
            Op::Freeze => gc::freeze(),
            Op::Unfreeze => gc::unfreeze(),
            Op::SaveAll(on) => gc::set_debug(if on {
                gc::DebugFlags::SAVEALL
            } else {
                gc::DebugFlags::empty()
            }),
            Op::TakeGarbage => {
                let garbage = gc::take_garbage();
                let handles: Vec<Handle> = garbage
                    .into_iter()
                    .map(|a| Handle::from_any(a).unwrap_or_else(|a| panic!("foreign {a:?}")))
                    .collect();
                for h in sorted_by_id(handles) {
                    drop(h);
                }
            }
            Op::GarbageToSlot { index, slot } => {
                let garbage = gc::garbage();
                if !garbage.is_empty() {
                    let mut ids: Vec<(usize, usize)> = garbage
                        .iter()
                        .enumerate()
                        .map(|(i, a)| (any_id(a).expect("foreign object in garbage"), i))
                        .collect();
                    ids.sort();
                    let (_, at) = ids[index as usize % ids.len()];
                    let any = garbage[at].clone();
                    drop(garbage);
                    let h = Handle::from_any(any).unwrap_or_else(|a| panic!("foreign {a:?}"));
                    self.set_slot(slot, Some(h));
                }
            }
            Op::TryUnwrap { slot } => {
                if let Some(h) = self.slots[slot as usize % SLOTS].take() {
                    let back = match h {
                        Handle::Plain(g) => Gc::try_unwrap(g).map(drop).map_err(Handle::Plain),
                        Handle::Fin(g) => Gc::try_unwrap(g).map(drop).map_err(Handle::Fin),
                        Handle::Legacy(g) => Gc::try_unwrap(g).map(drop).map_err(Handle::Legacy),
                    };
                    let ok = back.is_ok();
                    self.slots[slot as usize % SLOTS] = back.err();
                    return Outcome::Unwrapped(ok);
                }
            }
        }
        Outcome::Done
    }
}
