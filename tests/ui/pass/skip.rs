//! `#[trace(skip)]` fields need not implement `Trace`.
#![deny(warnings)]

use pygc::{Gc, Trace};
use std::rc::Rc;
use std::sync::Mutex;

struct NotTrace(u32);

#[derive(Trace)]
struct Mixed {
    traced: Vec<u32>,
    #[trace(skip)]
    callback: Box<dyn Fn(u32) -> u32>,
    #[trace(skip)]
    lock: Mutex<NotTrace>,
    #[trace(skip)]
    shared: Rc<NotTrace>,
}

#[derive(Trace)]
struct AllSkipped(#[trace(skip)] NotTrace, #[trace(skip)] Rc<NotTrace>);

#[derive(Trace)]
enum Event {
    Tick(u64),
    Custom {
        name: String,
        #[trace(skip)]
        data: NotTrace,
    },
    Opaque(#[trace(skip)] NotTrace, u8),
}

fn main() {
    let mixed = Gc::new(Mixed {
        traced: vec![1, 2],
        callback: Box::new(|x| x + 1),
        lock: Mutex::new(NotTrace(4)),
        shared: Rc::new(NotTrace(5)),
    });
    let sum =
        (mixed.callback)(mixed.traced.len() as u32) + mixed.lock.lock().unwrap().0 + mixed.shared.0;
    assert_eq!(sum, 12);

    let all = Gc::new(AllSkipped(NotTrace(1), Rc::new(NotTrace(2))));
    assert_eq!(all.0 .0 + all.1 .0, 3);

    for event in [
        Event::Tick(1),
        Event::Custom {
            name: "c".into(),
            data: NotTrace(2),
        },
        Event::Opaque(NotTrace(3), 4),
    ] {
        let event = Gc::new(event);
        let n = match &*event {
            Event::Tick(t) => *t as u32,
            Event::Custom { name, data } => name.len() as u32 + data.0,
            Event::Opaque(data, b) => data.0 + u32::from(*b),
        };
        assert!(n > 0);
    }
}
