//! The pool's empty-page cache and its retention (P2, P3): taking a
//! cached page, caching and uncaching chunks, giving chunks back.

use super::{chunk_links, ALL_CACHED, PAGE_SIZE};
use super::{push_front, unlink, Chunk, Page, Pool, CHUNK_LAYOUT, CHUNK_PAGES, KEEP_EMPTY_PAGES};
use std::ptr;

/// A chunk's links on the cache list (chunks with a cached page).
unsafe fn cache_links(chunk: *mut Chunk) -> (*mut *mut Chunk, *mut *mut Chunk) {
    // SAFETY: P2: a live chunk (the `Links` contract).
    unsafe {
        (
            ptr::addr_of_mut!((*chunk).cache_next),
            ptr::addr_of_mut!((*chunk).cache_prev),
        )
    }
}

/// The chunk of a page and the page's bit in the chunk's `cached` (P2).
///
/// # Safety
/// P2: `page` is a carved page of this pool (its chunk is live).
unsafe fn cache_bit(page: *mut Page) -> (*mut Chunk, u32) {
    // SAFETY: P2: caller's contract; raw reads only.
    unsafe {
        let chunk = (*page).chunk;
        (
            chunk,
            1 << ((page as usize - (*chunk).base as usize) / PAGE_SIZE),
        )
    }
}

impl Pool {
    /// A page from the empty cache, if it holds one (P2): the page cached
    /// last if it is still there, else the lowest cached page of the chunk
    /// on the cache list's front.
    pub(super) fn take_from_cache(&self) -> Option<*mut Page> {
        let hot = self.hot.replace(ptr::null_mut());
        let page = if !hot.is_null() {
            hot
        } else {
            let chunk = self.empty.get();
            if chunk.is_null() {
                return None;
            }
            // SAFETY: P2: a chunk on the cache list is live and has a cached
            // page, a carved page of its own.
            unsafe {
                let i = (*chunk).cached.trailing_zeros() as usize;
                (*chunk).base.add(i * PAGE_SIZE).cast::<Page>()
            }
        };
        // SAFETY: P2: a cached page's chunk is live and on the cache list.
        // (Raw accesses only: `uncache_chunk` writes the chunk through the
        // pointer.)
        unsafe {
            let (chunk, bit) = cache_bit(page);
            debug_assert!(
                (*chunk).cached & bit != 0,
                "gc: a page taken twice from the cache"
            );
            (*chunk).cached &= !bit;
            if (*chunk).cached == 0 {
                self.uncache_chunk(chunk);
            }
        }
        self.empty_count.set(self.empty_count.get() - 1);
        Some(page)
    }

    /// Put an empty page in the cache (P2), as the page taken next; give
    /// its chunk back if that leaves every page of it cached and the cache
    /// holds more than it keeps (P3).
    ///
    /// # Safety
    /// P2: `page` is an empty page of this pool, on no list.
    pub(super) unsafe fn cache_page(&self, page: *mut Page) {
        self.empty_count.set(self.empty_count.get() + 1);
        // SAFETY: P2: the page's chunk is live; it is on the cache list iff
        // `cached` is not 0. (Raw accesses only, as above.)
        let (chunk, cached) = unsafe {
            let (chunk, bit) = cache_bit(page);
            if (*chunk).cached == 0 {
                self.cache_chunk(chunk);
            }
            (*chunk).cached |= bit;
            (chunk, (*chunk).cached)
        };
        self.hot.set(page);
        if cached == ALL_CACHED && self.empty_count.get() > self.keep_empty() {
            self.release_chunk(chunk);
        }
    }

    /// How many empty pages the cache keeps before it gives whole chunks
    /// back (P3): [`KEEP_EMPTY_PAGES`], or as many as were in use at the
    /// peak since the last [`Pool::end_epoch`] or [`Pool::trim`].
    #[inline]
    fn keep_empty(&self) -> usize {
        KEEP_EMPTY_PAGES.max(self.peak_in_use.get())
    }

    /// End of a full collection (P3): give back every chunk whose pages are
    /// all in the cache, as long as the cache keeps what the epoch now
    /// ending used at its peak ([`Pool::keep_empty`]), and restart the
    /// peak. So a working set that is built, dropped and collected again
    /// and again keeps its pages (no page faults on each rebuild), and a
    /// cache the next epoch does not use goes back at the full collection
    /// after that one.
    pub(crate) fn end_epoch(&self) {
        self.release_beyond(self.keep_empty());
    }

    /// Give back every chunk whose pages are all in the cache, as long as
    /// the cache keeps [`KEEP_EMPTY_PAGES`], and restart the peak (P3): for
    /// a pool no thread uses any more (`sync::pool`).
    pub(crate) fn trim(&self) {
        self.release_beyond(KEEP_EMPTY_PAGES);
    }

    /// Release fully cached chunks while the cache keeps at least `keep`
    /// empty pages, then restart the peak at what is in use now (P3).
    fn release_beyond(&self, keep: usize) {
        let mut chunk = self.chunks.get();
        while !chunk.is_null() && self.empty_count.get() >= keep + CHUNK_PAGES {
            // SAFETY: P2: chunks on the list are live; `next` is read before
            // `release_chunk` frees this one.
            let (next, cached) = unsafe { ((*chunk).next, (*chunk).cached) };
            if cached == ALL_CACHED {
                self.release_chunk(chunk);
            }
            chunk = next;
        }
        self.peak_in_use
            .set(self.carved_pages.get() - self.empty_count.get());
    }

    /// Give back a chunk all of whose pages are in the cache (P2).
    fn release_chunk(&self, chunk: *mut Chunk) {
        // SAFETY: P2: the chunk is live and fully carved; each of its pages is
        // in the empty cache (cached == ALL_CACHED), which it leaves here
        // with its chunk; nothing else refers to its memory; it is freed
        // once.
        unsafe {
            let hot = self.hot.get();
            if !hot.is_null() && (*hot).chunk == chunk {
                self.hot.set(ptr::null_mut());
            }
            self.uncache_chunk(chunk);
            unlink(chunk, &self.chunks, chunk_links);
            self.empty_count.set(self.empty_count.get() - CHUNK_PAGES);
            self.carved_pages.set(self.carved_pages.get() - CHUNK_PAGES);
            std::alloc::dealloc((*chunk).base, CHUNK_LAYOUT);
            drop(Box::from_raw(chunk));
        }
    }

    /// Put a chunk whose first page enters the cache on the cache list (at
    /// the front: the chunk freed into last is reused first).
    ///
    /// # Safety
    /// P2: `chunk` is a live chunk of this pool, on no cache list.
    unsafe fn cache_chunk(&self, chunk: *mut Chunk) {
        // SAFETY: P2: caller's contract; chunks on the cache list are live.
        unsafe { push_front(chunk, &self.empty, cache_links) }
    }

    /// Take a chunk off the cache list (its last cached page was taken, or
    /// it is being released).
    ///
    /// # Safety
    /// P2: `chunk` is a live chunk of this pool on the cache list.
    unsafe fn uncache_chunk(&self, chunk: *mut Chunk) {
        // SAFETY: P2: caller's contract; chunks on the cache list are live.
        unsafe { unlink(chunk, &self.empty, cache_links) }
    }
}
