//! The widget-tree example: bubbling, removal, weak parents, and no leaks
//! (each test runs on its own thread: its own heap and widget counter).

use gc_examples::widgets::{self, live_widgets, Handler, Widget};
use pygc::{gc, Gc};

#[test]
fn run_reports_each_step() {
    let mut out = Vec::new();
    let r = widgets::run(&mut out).unwrap();
    assert_eq!(r.built, 8);
    assert_eq!(r.after_toolbar_removed, 4, "freed by refcounting alone");
    assert_eq!(r.ok_click_path, ["ok", "dialog"], "the dialog was detached");
    assert_eq!(
        r.after_dialog_closed, 4,
        "the dialog's cycle survives refcounting"
    );
    assert_eq!(r.collected, 3);
    assert_eq!(r.after_collect, 1);
    assert_eq!(r.after_window_dropped, 0);
    assert_eq!(
        r.log,
        [
            "window saw a click on save",
            "ok closes dialog",
            "dialog saw a click on ok"
        ]
    );
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("gc::collect() -> 3; 1 widgets; the dialog's Weak upgrades: false\n"));
    assert!(gc::is_enabled(), "run restores automatic collection");
}

#[test]
fn events_bubble_until_stopped() {
    let root = Widget::new("root");
    let a = Widget::add(&root, Widget::new("a"));
    let b = Widget::add(&a, Widget::new("b"));
    let c = Widget::add(&b, Widget::new("c"));
    root.on_click(Handler::Log);
    b.on_click(Handler::Log);
    let mut log = Vec::new();
    assert_eq!(Widget::click(&c, &mut log), ["c", "b", "a", "root"]);
    assert_eq!(log, ["b saw a click on c", "root saw a click on c"]);
    a.on_click(Handler::StopPropagation);
    log.clear();
    assert_eq!(Widget::click(&c, &mut log), ["c", "b", "a"]);
    assert_eq!(log, ["b saw a click on c"]);
    assert_eq!(Widget::path(&c), "root/a/b/c");
}

#[test]
fn weak_parents_keep_nothing_alive() {
    let base = live_widgets();
    let root = Widget::new("root");
    let child = Widget::add(&root, Widget::new("child"));
    let grandchild = Widget::add(&child, Widget::new("grandchild"));
    drop(child);
    assert_eq!(
        Gc::strong_count(&root),
        1,
        "children hold their parent weakly"
    );
    drop(root);
    // root and child are gone (child was owned by root only).
    assert_eq!(live_widgets(), base + 1);
    assert!(grandchild.parent().is_none());
    assert_eq!(Widget::path(&grandchild), "grandchild");
    drop(grandchild);
    assert_eq!(live_widgets(), base);
}

#[test]
fn removing_a_subtree_frees_it_at_once() {
    gc::disable();
    let base = live_widgets();
    let root = Widget::new("root");
    let panel = Widget::add(&root, Widget::new("panel"));
    for i in 0..10 {
        let row = Widget::add(&panel, Widget::new(&format!("row{i}")));
        Widget::add(&row, Widget::new("label"));
    }
    assert_eq!(live_widgets(), base + 22);
    let weak = Gc::downgrade(&panel);
    Widget::remove(&panel);
    drop(panel);
    assert!(weak.upgrade().is_none());
    assert_eq!(live_widgets(), base + 1, "no collection needed");
    assert!(root.children().is_empty());
    assert_eq!(gc::collect(), 0);
    gc::enable();
}

#[test]
fn a_thousand_dialogs_opened_and_closed_leave_nothing() {
    // Automatic collection alone: no gc::collect() in the loop.
    assert!(gc::is_enabled());
    let base = live_widgets();
    let window = Widget::new("window");
    let mut peak = 0;
    for i in 0..1000 {
        let dialog = Widget::add(&window, Widget::new(&format!("dialog{i}")));
        Widget::add(&dialog, Widget::new("message"));
        let ok = Widget::add(&dialog, Widget::new("ok"));
        ok.on_click(Handler::Close(dialog.clone()));
        assert_eq!(
            Widget::click(&ok, &mut Vec::new()),
            ["ok", &format!("dialog{i}")]
        );
        assert!(window.children().is_empty());
        peak = peak.max(live_widgets() - base);
    }
    // 3 000 cyclic widgets were made; at most about one generation-0
    // threshold (700 allocations) of them wait for a collection at a time.
    assert!(peak < 800, "peak {peak}");
    gc::collect();
    assert_eq!(live_widgets(), base + 1);
    drop(window);
    assert_eq!(live_widgets(), base);
}

#[test]
#[should_panic(expected = "widget c already has a parent")]
fn adding_a_child_twice_panics() {
    let a = Widget::new("a");
    let b = Widget::new("b");
    let c = Widget::add(&a, Widget::new("c"));
    Widget::add(&b, c);
}
