//! A stand-in for workload c's memory without the collector: the floors
//! that issue 19's targets are measured against (`walk_floor` example, and
//! the `floor:` rows of the criterion benchmarks).
//!
//! 1M 72-byte nodes (`next`, `prev`, `vtable`, counts, parent, two
//! `RefCell<Option<_>>`), laid out like the pool lays out pooled `Tree`
//! objects (16 KiB pages, 64-byte page header), linked in allocation order,
//! with the tree's edges (parent `i / 2`, children `2i + 1`, `2i + 2`).
//! Links are indices, so this is safe code; the memory access pattern is
//! the collector's.

/// Nodes in the stand-in (workload c's tree size).
pub const NODES: usize = 1_000_000;
/// Bytes per pool page.
pub const PAGE: usize = 16 * 1024;
/// Bytes of a pool page's header.
pub const PAGE_HEADER: usize = 64;
/// Bytes per node (a pooled `Tree` object).
pub const NODE: usize = 72;
/// Nodes per page.
pub const PER_PAGE: usize = (PAGE - PAGE_HEADER) / NODE;
/// No node (an absent link or edge).
pub const NONE: u32 = u32::MAX;

/// 72 bytes, like a pooled `Tree` object.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct Node {
    /// The list link (a node index).
    pub next: u64,
    /// The header word every pass writes (`gc_refs` in pygc).
    pub prev: u64,
    /// The vtable word (unused).
    pub vtable: u64,
    /// The strong count.
    pub strong: u32,
    /// The weak count.
    pub weak: u32,
    /// Edge: the parent (a node index).
    pub parent: u64,
    /// The left child's `RefCell` borrow flag.
    pub left_flag: u64,
    /// Edge: the left child.
    pub left: u64,
    /// The right child's `RefCell` borrow flag.
    pub right_flag: u64,
    /// Edge: the right child.
    pub right: u64,
}

const _: () = assert!(std::mem::size_of::<Node>() == NODE);

/// The part of a pool page header the side-table variant reads.
#[derive(Clone, Copy)]
pub struct PageHeader {
    /// `ceil(2^32 / NODE)`: `offset * magic >> 32 == offset / NODE` for
    /// offsets within a page.
    pub magic: u64,
    /// First side-table slot of the page.
    pub side: usize,
}

/// The stand-in heap.
pub struct Heap {
    /// Slot `p * (PER_PAGE + 1)` is page `p`'s header (unused, keeps the
    /// page-sized stride); the nodes follow.
    pub nodes: Vec<Node>,
    /// Page headers, one per page.
    pub pages: Vec<PageHeader>,
    /// A side table of 4 bytes per node (the side-table variants).
    pub side: Vec<u32>,
}

impl Heap {
    /// Build the 1M-node stand-in.
    pub fn build() -> Heap {
        let slot_of = |i: usize| (i / PER_PAGE) * (PER_PAGE + 1) + 1 + i % PER_PAGE;
        let link = |i: usize| {
            if i < NODES {
                slot_of(i) as u64
            } else {
                u64::from(NONE)
            }
        };
        let pages = NODES.div_ceil(PER_PAGE);
        let blank = Node {
            next: u64::from(NONE),
            prev: 0,
            vtable: 0,
            strong: 0,
            weak: 1,
            parent: u64::from(NONE),
            left_flag: 0,
            left: u64::from(NONE),
            right_flag: 0,
            right: u64::from(NONE),
        };
        let mut nodes = vec![blank; pages * (PER_PAGE + 1)];
        for i in 0..NODES {
            let node = &mut nodes[slot_of(i)];
            node.next = link(i + 1);
            node.strong = 3;
            node.parent = if i == 0 {
                u64::from(NONE)
            } else {
                link((i - 1) / 2)
            };
            node.left = link(2 * i + 1);
            node.right = link(2 * i + 2);
        }
        let magic = (1u64 << 32) / NODE as u64 + 1;
        let pages = (0..pages)
            .map(|p| PageHeader {
                magic,
                side: p * PER_PAGE,
            })
            .collect();
        Heap {
            nodes,
            pages,
            side: vec![0; NODES + PER_PAGE],
        }
    }

    /// The side-table slot of node slot `n`, through its page header (a
    /// multiply instead of a division, as a pool would do it).
    #[inline(always)]
    pub fn side_slot(&self, n: usize) -> usize {
        let page = n / (PER_PAGE + 1);
        let offset = ((n % (PER_PAGE + 1)) - 1) * NODE;
        let header = &self.pages[page];
        header.side + ((offset as u64 * header.magic) >> 32) as usize
    }

    /// The node's three edges (parent, left, right; [`NONE`] if absent).
    pub fn edges(node: &Node) -> [u64; 3] {
        [node.parent, node.left, node.right]
    }
}

impl Heap {
    /// Issue 19's floor for c alive ("c2"): three bare sequential passes
    /// over every node, in address order, no list and no edges; each pass
    /// reads and writes every node's header word (as `update_refs`,
    /// `subtract_refs` and `move_unreachable` each touch every object).
    pub fn three_bare_passes(&mut self) {
        for pass in 0..3u64 {
            for n in self.nodes.iter_mut() {
                n.prev = (n.prev ^ u64::from(n.strong)).wrapping_add(pass);
            }
            std::hint::black_box(&self.nodes);
        }
    }
}
