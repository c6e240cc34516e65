/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MTE tag storage lent to the page allocator as CPU-less NUMA nodes.
 *
 * The arm64 code finds the tag storage regions in the device tree and keeps
 * them out of boot memory; the tag node driver hot-plugs each one as a
 * memory-only node in a lower memory tier. This header is the small
 * interface between the two and towards core mm.
 */
#ifndef _LINUX_MTE_TAG_NODE_H
#define _LINUX_MTE_TAG_NODE_H

#include <linux/jump_label.h>
#include <linux/lcm.h>
#include <linux/minmax.h>
#include <linux/nodemask.h>
#include <linux/types.h>
#include <asm/pgtable-types.h>

/*
 * Two 4-bit tags per byte and one tag per 16 bytes: tag storage is 1/32 of
 * the data it covers, so one tag page serves 32 data pages for any PAGE_SIZE.
 */
#define MTE_TAG_DATA_PER_TAG_PAGE	32

/* At most this many tag storage regions are supported. */
#define MTE_TAG_MAX_REGIONS		8

/**
 * struct mte_tag_region - one tag storage region and the data it serves
 * @name: name of the device tree node, for messages
 * @tag_start: first pfn of tag storage
 * @tag_pages: number of tag storage pages (@data_pages / 32)
 * @data_start: first data pfn whose tags live in this region
 * @data_pages: number of data pages served
 * @block_pages: tag pages in one reservation block (B in the admin guide)
 * @plug_start: first pfn of the part hot-plugged as a node
 * @plug_pages: pages hot-plugged: the tag range trimmed to whole memory
 *	blocks; the rest stays reserved
 * @nid: the tag node, or NUMA_NO_NODE until one is assigned
 */
struct mte_tag_region {
	char name[32];
	unsigned long tag_start;
	unsigned long tag_pages;
	unsigned long data_start;
	unsigned long data_pages;
	unsigned long block_pages;
	unsigned long plug_start;
	unsigned long plug_pages;
	int nid;
};

/**
 * struct mte_tag_binding - a tag-storage device tree node, as parsed
 * @name: node name
 * @tag_base: start of the first "reg" range (tag storage)
 * @tag_size: size of the first "reg" range
 * @reg_ranges: number of (address, size) pairs in "reg"
 * @data_base: start of the "tagged-memory" range
 * @data_size: size of the "tagged-memory" range; 0 if absent
 * @data_ranges: number of (address, size) pairs in "tagged-memory"
 * @block_size: the "block-size" property in bytes; 0 if absent
 * @no_map: the node has "no-map"
 * @nid: the "numa-node-id" property, or NUMA_NO_NODE if absent
 */
struct mte_tag_binding {
	const char *name;
	phys_addr_t tag_base;
	phys_addr_t tag_size;
	int reg_ranges;
	phys_addr_t data_base;
	phys_addr_t data_size;
	int data_ranges;
	u32 block_size;
	bool no_map;
	int nid;
};

/**
 * mte_tag_block_pages() - tag pages in one reservation block
 * @page_size: the page size in bytes
 * @block_size: the interconnect's tag block size in bytes (non-zero)
 *
 * The hardware can only hand over whole blocks of @block_size bytes, and the
 * page allocator works in pages, so the unit is lcm(@page_size, @block_size).
 *
 * Return: the number of tag pages in one reservation block.
 */
static inline unsigned long mte_tag_block_pages(unsigned long page_size,
						unsigned long block_size)
{
	return lcm(page_size, block_size) / page_size;
}

/* Data pages whose tags live in one reservation block. */
static inline unsigned long mte_tag_block_span(const struct mte_tag_region *r)
{
	return MTE_TAG_DATA_PER_TAG_PAGE * r->block_pages;
}

static inline bool mte_tag_serves_pfn(const struct mte_tag_region *r,
				      unsigned long pfn)
{
	return pfn >= r->data_start && pfn - r->data_start < r->data_pages;
}

/**
 * mte_tag_pfn() - the tag storage pfn that holds the tags of a data pfn
 * @r: the region serving @pfn
 * @pfn: a data pfn, mte_tag_serves_pfn(@r, @pfn) must hold
 *
 * Return: the pfn inside the tag storage range.
 */
static inline unsigned long mte_tag_pfn(const struct mte_tag_region *r,
					unsigned long pfn)
{
	return r->tag_start + (pfn - r->data_start) / MTE_TAG_DATA_PER_TAG_PAGE;
}

/**
 * mte_tag_block_of() - index of the reservation block holding a pfn's tags
 * @r: the region serving @pfn
 * @pfn: a data pfn, mte_tag_serves_pfn(@r, @pfn) must hold
 *
 * Return: the block index, counted from the start of the tag range.
 */
static inline unsigned long mte_tag_block_of(const struct mte_tag_region *r,
					     unsigned long pfn)
{
	return (pfn - r->data_start) / mte_tag_block_span(r);
}

/* First tag storage pfn of block @block. */
static inline unsigned long mte_tag_block_pfn(const struct mte_tag_region *r,
					      unsigned long block)
{
	return r->tag_start + block * r->block_pages;
}

/* First data pfn whose tags live in block @block. */
static inline unsigned long mte_tag_block_data_pfn(const struct mte_tag_region *r,
						   unsigned long block)
{
	return r->data_start + block * mte_tag_block_span(r);
}

/* Number of reservation blocks in the whole tag range. */
static inline unsigned long mte_tag_nr_blocks(const struct mte_tag_region *r)
{
	return r->tag_pages / r->block_pages;
}

/**
 * mte_tag_blocks_for_range() - reservation blocks a run of data pages needs
 * @r: the region serving the run
 * @pfn: first data pfn of the run
 * @nr_pages: length of the run; the run must lie inside the region
 *
 * A naturally aligned folio of 2^n pages needs max(1, 2^n / (32 * B))
 * blocks when B is a power of two; other block sizes can make a folio
 * straddle a block boundary, which this counts too.
 *
 * Return: the number of distinct blocks holding the run's tags.
 */
static inline unsigned long mte_tag_blocks_for_range(const struct mte_tag_region *r,
						     unsigned long pfn,
						     unsigned long nr_pages)
{
	return mte_tag_block_of(r, pfn + nr_pages - 1) -
	       mte_tag_block_of(r, pfn) + 1;
}

/* Tagged data pages that one run adds to a given block's count. */
static inline unsigned long mte_tag_block_share(const struct mte_tag_region *r,
						unsigned long block,
						unsigned long pfn,
						unsigned long nr_pages)
{
	unsigned long first = mte_tag_block_data_pfn(r, block);
	unsigned long last = first + mte_tag_block_span(r);

	return min(pfn + nr_pages, last) - max(pfn, first);
}

const char *mte_tag_check_binding(const struct mte_tag_binding *b,
				  unsigned long memory_block_pages,
				  bool (*is_ram)(phys_addr_t base, phys_addr_t size),
				  const struct mte_tag_region *accepted, int nr_accepted,
				  struct mte_tag_region *r);

#ifdef CONFIG_ARM64_MTE_TAG_NODE

/**
 * enum mte_tag_mode - what the tag storage regions are used for
 * @MTE_TAG_MODE_NONE: no region was described, or none was valid
 * @MTE_TAG_MODE_OFF: disabled: the regions stay reserved for the hardware
 * @MTE_TAG_MODE_ACTIVE: tag nodes hold untagged data; tagged pages are
 *	kept off them
 * @MTE_TAG_MODE_PLAIN: MTE is not in use, so the regions are plain
 *	memory-only nodes with no placement restriction
 */
enum mte_tag_mode {
	MTE_TAG_MODE_NONE,
	MTE_TAG_MODE_OFF,
	MTE_TAG_MODE_ACTIVE,
	MTE_TAG_MODE_PLAIN,
};

extern nodemask_t mte_tag_nodes;

struct folio;
struct page;
struct vm_area_struct;

/**
 * struct mte_tag_cache_ops - cache maintenance when a block changes role
 * @invalidate_data: a tag storage page enters tag use: drop its data cache
 *	lines, so that no dirty line is written back on top of tags later
 * @clean_tags: a data page's tag block leaves tag use: write the page's
 *	dirty tag cache lines back while the block still holds tags, so that
 *	none lands on data later
 *
 * A pointer, so that KUnit can record the calls.
 */
struct mte_tag_cache_ops {
	void (*invalidate_data)(struct page *tag_page);
	void (*clean_tags)(struct page *data_page);
};

extern const struct mte_tag_cache_ops *mte_tag_cache_ops;

DECLARE_STATIC_KEY_FALSE(mte_tag_counting);

bool __mte_tag_pages_get(struct page *page, unsigned long nr_pages);
void __mte_tag_pages_put(struct page *page, unsigned long nr_pages);
void __mte_tag_free_pages(struct page *page, unsigned int order);
unsigned long mte_tag_block_run(struct page *page, unsigned long nr_pages);
bool mte_tag_pages_ready(struct page *page, unsigned long nr_pages);
bool mte_tag_claim_is_cheap(struct page *page, unsigned long nr_pages);
int mte_tag_reserve_pages(struct page *page, unsigned long nr_pages);
unsigned long mte_tag_busy_data_pages(void);
void mte_tag_wait_busy(struct page *page);
struct folio *mte_tag_alloc_packed_folio(struct vm_area_struct *vma, unsigned long vaddr);

/**
 * mte_tag_pages_get() - take tag storage for pages about to be tagged
 * @page: the first page whose tags the caller is about to initialise
 * @nr_pages: pages from @page on that it will tag, all inside the run
 *	mte_tag_block_run() returns for @page
 *
 * Any context. Pair a successful call with PG_mte_tagged on each page
 * counted: the count is dropped when the page is freed.
 *
 * Return: true if the tags may be written; false if the tag storage of
 * the pages holds data, and they must stay untagged until
 * mte_tag_reserve_pages() has run in a sleepable context.
 */
static inline bool mte_tag_pages_get(struct page *page, unsigned long nr_pages)
{
	if (!static_branch_unlikely(&mte_tag_counting))
		return true;
	return __mte_tag_pages_get(page, nr_pages);
}

/**
 * mte_tag_pages_put() - give back counts mte_tag_pages_get() took
 * @page: the first page of the run
 * @nr_pages: how many of its pages did not end up tagged after all
 */
static inline void mte_tag_pages_put(struct page *page, unsigned long nr_pages)
{
	if (static_branch_unlikely(&mte_tag_counting))
		__mte_tag_pages_put(page, nr_pages);
}

bool mte_tag_hold_copy(struct page *to, struct page *from);
bool mte_tag_hold_restore(struct page *page, const void *tags);
bool __mte_tag_restore_held(struct page *page);
void *__mte_tag_copy_held(struct page *page);
void __mte_tag_move_held(struct page *to, struct page *from);

/*
 * Tags are held only while tag nodes count tagged pages: these run for
 * every page mapped tagged, copied or swapped out, and cost nothing else.
 * See the kernel-doc of the __ variants.
 */
static inline bool mte_tag_restore_held(struct page *page)
{
	return static_branch_unlikely(&mte_tag_counting) && __mte_tag_restore_held(page);
}

static inline void *mte_tag_copy_held(struct page *page)
{
	if (!static_branch_unlikely(&mte_tag_counting))
		return NULL;
	return __mte_tag_copy_held(page);
}

static inline void mte_tag_move_held(struct page *to, struct page *from)
{
	if (static_branch_unlikely(&mte_tag_counting))
		__mte_tag_move_held(to, from);
}

void mte_tag_node_mark(int nid, bool tag_node);
bool mte_folio_tagged(struct folio *folio);
pte_t mte_tag_node_deny_tagged_map(pte_t pte);
int mte_tag_nr_regions(void);
const struct mte_tag_region *mte_tag_region(int idx);
bool mte_tag_node_disabled_by_cmdline(void);
void __init mte_numa_add_tag_nodes(void);

/**
 * mte_is_tag_node() - may @nid hold only untagged pages?
 * @nid: a node id
 *
 * Return: true if @nid is a tag node of an active region, whose pages
 * must never be tagged.
 */
static inline bool mte_is_tag_node(int nid)
{
	return nid >= 0 && node_isset(nid, mte_tag_nodes);
}

/**
 * mte_tag_node_active() - do tag nodes restrict where tagged pages go?
 *
 * KVM gives MTE guests tags on all of their memory, which reaches the host
 * through mappings without VM_MTE, so it must not offer MTE while this holds.
 *
 * Return: true if at least one tag node is in use.
 */
static inline bool mte_tag_node_active(void)
{
	return !nodes_empty(mte_tag_nodes);
}

#else /* !CONFIG_ARM64_MTE_TAG_NODE */

static inline void mte_numa_add_tag_nodes(void) { }

static inline unsigned long mte_tag_block_run(struct page *page, unsigned long nr_pages)
{
	return nr_pages;
}

static inline bool mte_tag_pages_get(struct page *page, unsigned long nr_pages)
{
	return true;
}

static inline void mte_tag_pages_put(struct page *page, unsigned long nr_pages) { }

static inline struct folio *
mte_tag_alloc_packed_folio(struct vm_area_struct *vma, unsigned long vaddr)
{
	return NULL;
}

static inline bool mte_tag_hold_copy(struct page *to, struct page *from)
{
	return false;
}

static inline bool mte_tag_hold_restore(struct page *page, const void *tags)
{
	return false;
}

static inline bool mte_tag_restore_held(struct page *page)
{
	return false;
}

static inline void *mte_tag_copy_held(struct page *page)
{
	return NULL;
}

static inline void mte_tag_move_held(struct page *to, struct page *from) { }

static inline pte_t mte_tag_node_deny_tagged_map(pte_t pte)
{
	return pte;
}

static inline bool mte_is_tag_node(int nid)
{
	return false;
}

static inline bool mte_tag_node_active(void)
{
	return false;
}

#endif /* CONFIG_ARM64_MTE_TAG_NODE */

/* mte_tag_pages_get() and mte_tag_pages_put() for one page. */
static inline bool mte_tag_page_get(struct page *page)
{
	return mte_tag_pages_get(page, 1);
}

static inline void mte_tag_page_put(struct page *page)
{
	mte_tag_pages_put(page, 1);
}

#endif /* _LINUX_MTE_TAG_NODE_H */
