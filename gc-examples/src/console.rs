//! Where a section's output goes, and the gc state each section starts from.
//!
//! A section writes its lines through a [`Console`]. Finalizers and `gc`
//! callbacks cannot borrow the section's writer (they run inside the
//! collector or inside a `drop`), so they [`emit`] their lines to a
//! thread-local queue instead; the console drains that queue before each of
//! its own lines, and on [`Console::sync`]. Since finalizers and callbacks
//! run synchronously, the output keeps the exact order in which things
//! happened, as Python's `print` inside `__del__` does.

use crate::Section;
use pygc::gc::{self, DebugFlags};
use std::cell::RefCell;
use std::fmt::Display;
use std::io::{self, Write};

thread_local! {
    static PENDING: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Queue a line written by a finalizer or a `gc` callback; the running
/// section's [`Console`] prints it before its next line.
///
/// # Examples
///
/// ```
/// use gc_examples::console::{emit, Console};
/// use gc_examples::SECTIONS;
///
/// let mut out = Vec::new();
/// let mut con = Console::start(&mut out, &SECTIONS[0]).unwrap();
/// emit("Destructed");
/// con.line("after").unwrap();
/// let text = String::from_utf8(out).unwrap();
/// assert!(text.ends_with("Destructed\nafter\n"));
/// ```
pub fn emit(line: impl Into<String>) {
    let line = line.into();
    PENDING.with(|p| p.borrow_mut().push(line));
}

/// A section's output: its writer plus the lines queued by [`emit`].
pub struct Console<'a> {
    out: &'a mut dyn Write,
}

impl<'a> Console<'a> {
    /// Start a section: drop any stale queued line, then write the heading
    /// `== seed NNN (hash): summary ==`.
    ///
    /// # Errors
    ///
    /// Any error of the writer.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::{console::Console, SECTIONS};
    /// let mut out = Vec::new();
    /// Console::start(&mut out, &SECTIONS[0]).unwrap();
    /// assert!(String::from_utf8(out).unwrap().starts_with("== seed 000 (5278c975): "));
    /// ```
    pub fn start(out: &'a mut dyn Write, section: &Section) -> io::Result<Console<'a>> {
        PENDING.with(|p| p.borrow_mut().clear());
        writeln!(out, "{}", section.heading())?;
        Ok(Console { out })
    }

    /// Print the lines finalizers and callbacks queued so far.
    ///
    /// # Errors
    ///
    /// Any error of the writer.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::{console::{emit, Console}, SECTIONS};
    /// let mut out = Vec::new();
    /// let mut con = Console::start(&mut out, &SECTIONS[0]).unwrap();
    /// emit("Deleting Object 3");
    /// con.sync().unwrap();
    /// assert!(String::from_utf8(out).unwrap().ends_with("Deleting Object 3\n"));
    /// ```
    pub fn sync(&mut self) -> io::Result<()> {
        let pending = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
        for line in pending {
            writeln!(self.out, "{line}")?;
        }
        Ok(())
    }

    /// Print the queued lines, then `text` on a line of its own.
    ///
    /// # Errors
    ///
    /// Any error of the writer.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::{console::Console, SECTIONS};
    /// let mut out = Vec::new();
    /// let mut con = Console::start(&mut out, &SECTIONS[0]).unwrap();
    /// con.line(format_args!("Reference count: {}", 2)).unwrap();
    /// assert!(String::from_utf8(out).unwrap().ends_with("Reference count: 2\n"));
    /// ```
    pub fn line(&mut self, text: impl Display) -> io::Result<()> {
        self.sync()?;
        writeln!(self.out, "{text}")
    }

    /// Print the queued lines and end the section with a blank line.
    ///
    /// # Errors
    ///
    /// Any error of the writer.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::{console::Console, SECTIONS};
    /// let mut out = Vec::new();
    /// let con = Console::start(&mut out, &SECTIONS[0]).unwrap();
    /// con.finish().unwrap();
    /// assert!(String::from_utf8(out).unwrap().ends_with("==\n\n"));
    /// ```
    pub fn finish(mut self) -> io::Result<()> {
        self.sync()?;
        writeln!(self.out)
    }
}

/// The collector settings a section may change (enabled, debug flags,
/// thresholds), saved by [`GcState::flush_and_save`] and put back when the
/// guard is dropped — also if the section fails half-way.
#[must_use = "the settings are restored when the guard is dropped"]
#[derive(Debug)]
pub struct GcState {
    enabled: bool,
    debug: DebugFlags,
    threshold: (usize, usize, usize),
}

impl GcState {
    /// Run `gc::collect()` so the section starts from an empty young
    /// generation and counts `(0, 0, 0)`, and remember the settings.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::gc;
    /// use gc_examples::console::GcState;
    /// {
    ///     let _state = GcState::flush_and_save();
    ///     assert_eq!(gc::get_count(), (0, 0, 0));
    ///     gc::disable();
    /// }
    /// assert!(gc::is_enabled()); // restored
    /// ```
    pub fn flush_and_save() -> GcState {
        gc::collect();
        GcState {
            enabled: gc::is_enabled(),
            debug: gc::get_debug(),
            threshold: gc::get_threshold(),
        }
    }
}

impl Drop for GcState {
    fn drop(&mut self) {
        if self.enabled {
            gc::enable();
        } else {
            gc::disable();
        }
        gc::set_debug(self.debug);
        let (t0, t1, t2) = self.threshold;
        gc::set_threshold(t0, t1, t2);
    }
}
