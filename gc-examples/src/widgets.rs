//! A GUI-like widget tree: children owned by their parent, [`Weak`] parent
//! pointers, events bubbling from a widget up to the root, and event
//! handlers that hold widgets.
//!
//! Parent pointers are weak, so a tree without handlers is acyclic: removing
//! a subtree frees it at once, by refcounting alone. A handler that holds a
//! widget — a dialog's OK button whose click closes the dialog — closes a
//! cycle (dialog → button → handler → dialog), the classic GUI leak of
//! `Rc<RefCell<_>>` trees. Once the dialog is removed and nothing else
//! holds it, the cycle collector frees it.
//!
//! [`live_widgets`] counts widgets alive on this thread (a drop counter in
//! every [`Widget`]); [`run`] prints it after each step.
//!
//! ```sh
//! cargo run -p gc-examples --example widgets
//! ```
//!
//! # Examples
//!
//! ```
//! use gc_examples::widgets::{Handler, Widget};
//!
//! let window = Widget::new("window");
//! let button = Widget::add(&window, Widget::new("button"));
//! window.on_click(Handler::Log);
//! let mut log = Vec::new();
//! Widget::click(&button, &mut log);
//! assert_eq!(log, ["window saw a click on button"]);
//! assert_eq!(Widget::path(&button), "window/button");
//! ```

use pygc::{gc, Gc, Trace, Weak};
use std::cell::{Cell, RefCell};
use std::io::{self, Write};

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
}

/// Widgets alive on this thread.
///
/// # Examples
///
/// ```
/// use gc_examples::widgets::{live_widgets, Widget};
/// let before = live_widgets();
/// let w = Widget::new("w");
/// assert_eq!(live_widgets(), before + 1);
/// drop(w);
/// assert_eq!(live_widgets(), before);
/// ```
pub fn live_widgets() -> usize {
    LIVE.with(Cell::get)
}

struct Live;

impl Live {
    fn new() -> Live {
        LIVE.with(|l| l.set(l.get() + 1));
        Live
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE.with(|l| l.set(l.get() - 1));
    }
}

/// What a widget does with a click that reaches it.
#[derive(Trace)]
pub enum Handler {
    /// Log `"<widget> saw a click on <target>"`.
    Log,
    /// Stop the click from bubbling further up.
    StopPropagation,
    /// Remove this widget from its parent (a dialog's OK button holds its
    /// dialog: a strong edge, hence a cycle).
    Close(Gc<Widget>),
}

/// A widget: a name, children, a weak parent, click handlers.
#[derive(Trace)]
pub struct Widget {
    name: String,
    parent: RefCell<Weak<Widget>>,
    children: RefCell<Vec<Gc<Widget>>>,
    handlers: RefCell<Vec<Handler>>,
    #[trace(skip)]
    _live: Live,
}

impl Widget {
    /// A widget without parent, children or handlers.
    ///
    /// # Examples
    ///
    /// ```
    /// let w = gc_examples::widgets::Widget::new("w");
    /// assert!(w.parent().is_none());
    /// ```
    pub fn new(name: &str) -> Gc<Widget> {
        Gc::new(Widget {
            name: name.to_owned(),
            parent: RefCell::new(Weak::new()),
            children: RefCell::new(Vec::new()),
            handlers: RefCell::new(Vec::new()),
            _live: Live::new(),
        })
    }

    /// Its name.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(gc_examples::widgets::Widget::new("w").name(), "w");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Add `child` as the last child of `this`; returns `child`. (An
    /// associated function: `Gc<Self>` is not a method receiver on stable
    /// Rust.)
    ///
    /// # Panics
    ///
    /// If `child` already has a parent.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::widgets::Widget;
    /// let w = Widget::new("w");
    /// let c = Widget::add(&w, Widget::new("c"));
    /// assert_eq!(w.children().len(), 1);
    /// assert!(pygc::Gc::ptr_eq(&c.parent().unwrap(), &w));
    /// ```
    pub fn add(this: &Gc<Self>, child: Gc<Widget>) -> Gc<Widget> {
        assert!(
            child.parent().is_none(),
            "widget {} already has a parent",
            child.name
        );
        *child.parent.borrow_mut() = Gc::downgrade(this);
        this.children.borrow_mut().push(child.clone());
        child
    }

    /// Detach `this` from its parent (nothing if it has none). Its subtree
    /// goes with it; if nothing else holds it, it is freed.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::widgets::Widget;
    /// let w = Widget::new("w");
    /// let c = Widget::add(&w, Widget::new("c"));
    /// Widget::remove(&c);
    /// assert!(w.children().is_empty() && c.parent().is_none());
    /// ```
    pub fn remove(this: &Gc<Self>) {
        if let Some(parent) = this.parent() {
            parent
                .children
                .borrow_mut()
                .retain(|c| !Gc::ptr_eq(c, this));
        }
        *this.parent.borrow_mut() = Weak::new();
    }

    /// Its parent, if it has one and the parent is alive.
    ///
    /// # Examples
    ///
    /// See [`Widget::add`].
    pub fn parent(&self) -> Option<Gc<Widget>> {
        self.parent.borrow().upgrade()
    }

    /// Its children.
    ///
    /// # Examples
    ///
    /// See [`Widget::add`].
    pub fn children(&self) -> Vec<Gc<Widget>> {
        self.children.borrow().clone()
    }

    /// The names from the root down to this widget, `/`-separated.
    ///
    /// # Examples
    ///
    /// See the [module](self) example.
    pub fn path(this: &Gc<Self>) -> String {
        let mut names = vec![this.name.clone()];
        let mut at = this.clone();
        while let Some(parent) = at.parent() {
            names.push(parent.name.clone());
            at = parent;
        }
        names.reverse();
        names.join("/")
    }

    /// Add a click handler.
    ///
    /// # Examples
    ///
    /// See the [module](self) example.
    pub fn on_click(&self, handler: Handler) {
        self.handlers.borrow_mut().push(handler);
    }

    /// Click `target`: the click visits `target`, then each ancestor in
    /// turn, running their handlers in order, until a handler stops it or
    /// the root is passed. Returns the names of the widgets it visited.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::widgets::{Handler, Widget};
    /// let w = Widget::new("w");
    /// let panel = Widget::add(&w, Widget::new("panel"));
    /// let b = Widget::add(&panel, Widget::new("b"));
    /// panel.on_click(Handler::StopPropagation);
    /// assert_eq!(Widget::click(&b, &mut Vec::new()), ["b", "panel"]);
    /// ```
    pub fn click(target: &Gc<Widget>, log: &mut Vec<String>) -> Vec<String> {
        let mut visited = Vec::new();
        let mut at = Some(target.clone());
        while let Some(widget) = at {
            visited.push(widget.name.clone());
            let mut stop = false;
            // Handlers may change the tree (Close): take them out while
            // they run so a handler can touch its own widget.
            let handlers = std::mem::take(&mut *widget.handlers.borrow_mut());
            for handler in &handlers {
                match handler {
                    Handler::Log => {
                        log.push(format!("{} saw a click on {}", widget.name, target.name))
                    }
                    Handler::StopPropagation => stop = true,
                    Handler::Close(w) => {
                        log.push(format!("{} closes {}", widget.name, w.name));
                        Widget::remove(w);
                    }
                }
            }
            let mut slot = widget.handlers.borrow_mut();
            let added = std::mem::replace(&mut *slot, handlers);
            slot.extend(added);
            drop(slot);
            at = if stop { None } else { widget.parent() };
        }
        visited
    }
}

/// What [`run`] saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Live widgets after building the window with its dialog.
    pub built: usize,
    /// The widgets a click on the dialog's OK button visited.
    pub ok_click_path: Vec<String>,
    /// Everything the handlers logged.
    pub log: Vec<String>,
    /// Live widgets after the toolbar (no handlers: acyclic) was removed,
    /// before any collection.
    pub after_toolbar_removed: usize,
    /// Live widgets after the OK button closed the dialog and the program
    /// dropped its handles, before any collection: the dialog's cycle.
    pub after_dialog_closed: usize,
    /// What `gc::collect()` then found.
    pub collected: usize,
    /// Live widgets after that collection.
    pub after_collect: usize,
    /// Live widgets once the window is dropped.
    pub after_window_dropped: usize,
}

/// Build a window with a toolbar and a dialog, click, remove the toolbar,
/// close the dialog with its OK button, and count live widgets at each
/// step. Automatic collection is disabled for the run (and restored) so the
/// counts show what refcounting alone frees and what the collection frees.
///
/// # Errors
///
/// Any error of the writer.
///
/// # Examples
///
/// ```
/// let report = gc_examples::widgets::run(&mut Vec::new()).unwrap();
/// assert_eq!(report.after_window_dropped, 0);
/// ```
pub fn run(out: &mut dyn Write) -> io::Result<Report> {
    gc::collect();
    let was_enabled = gc::is_enabled();
    gc::disable();
    let base = live_widgets();
    let live = || live_widgets() - base;
    writeln!(
        out,
        "== widgets: a tree with Weak parents, events bubbling, handlers holding widgets =="
    )?;

    let window = Widget::new("window");
    window.on_click(Handler::Log);
    let toolbar = Widget::add(&window, Widget::new("toolbar"));
    for name in ["open", "save", "quit"] {
        Widget::add(&toolbar, Widget::new(name));
    }
    let dialog = Widget::add(&window, Widget::new("dialog"));
    dialog.on_click(Handler::Log);
    Widget::add(&dialog, Widget::new("message"));
    let ok = Widget::add(&dialog, Widget::new("ok"));
    ok.on_click(Handler::Close(dialog.clone())); // ok -> dialog: a cycle
    let built = live();
    writeln!(
        out,
        "built window, toolbar (3 buttons), dialog (message, ok): {built} widgets"
    )?;

    let mut log = Vec::new();
    let save = toolbar.children()[1].clone();
    let path = Widget::click(&save, &mut log);
    writeln!(out, "click {}: visits {path:?}", Widget::path(&save))?;

    drop(save);
    Widget::remove(&toolbar);
    drop(toolbar);
    let after_toolbar_removed = live();
    writeln!(
        out,
        "toolbar removed: {after_toolbar_removed} widgets (freed at once: Weak parents, no cycle)"
    )?;

    let ok_path = Widget::path(&ok);
    let ok_click_path = Widget::click(&ok, &mut log);
    writeln!(out, "click {ok_path}: visits {ok_click_path:?}")?;
    let dialog_weak = Gc::downgrade(&dialog);
    drop((dialog, ok));
    let after_dialog_closed = live();
    writeln!(
        out,
        "dialog closed and dropped: {after_dialog_closed} widgets (dialog -> ok -> handler -> dialog is a cycle)"
    )?;
    let collected = gc::collect();
    let after_collect = live();
    writeln!(
        out,
        "gc::collect() -> {collected}; {after_collect} widgets; the dialog's Weak upgrades: {}",
        dialog_weak.upgrade().is_some()
    )?;
    for line in &log {
        writeln!(out, "log: {line}")?;
    }
    drop(window);
    let after_window_dropped = live();
    writeln!(out, "window dropped: {after_window_dropped} widgets")?;
    writeln!(out)?;
    if was_enabled {
        gc::enable();
    }
    Ok(Report {
        built,
        ok_click_path,
        log,
        after_toolbar_removed,
        after_dialog_closed,
        collected,
        after_collect,
        after_window_dropped,
    })
}
