// SPDX-License-Identifier: GPL-2.0-only
/*
 * MTE tag storage as CPU-less NUMA nodes.
 *
 * Each tag storage region found by arch/arm64/mm/mte_numa.c is hot-plugged
 * as a memory-only node, onlined to ZONE_MOVABLE only, with its memmap in
 * DRAM, and given a memory type in a tier below DRAM so that reclaim can
 * demote to it. Untagged pages may live there; tagged pages never may.
 *
 * The region is tracked in reservation blocks of B tag pages. A block is in
 * data use (the page allocator may hand out its pages), or in tag use (the
 * hardware needs it for the tags of the 32 * B data pages it serves, and
 * this driver holds its pages). Blocks at the ends of an unaligned region
 * were never hot-plugged and stay reserved for the hardware.
 */

#define pr_fmt(fmt) "mte_tag_node: " fmt

#include <linux/bitmap.h>
#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/kasan-enabled.h>
#include <linux/kobject.h>
#include <linux/ktime.h>
#include <linux/memory.h>
#include <linux/memory-tiers.h>
#include <linux/memory_hotplug.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/mte_tag_node.h>
#include <linux/rmap.h>
#include <linux/seq_file.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/sysfs.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>

#include <asm/cpufeature.h>
#include <asm/mte.h>
#include <asm/mte-kasan.h>

#define CREATE_TRACE_POINTS
#include <trace/events/mte_tag_node.h>

#define MTE_TAG_RESOURCE_NAME	"System RAM (mte_tag_node)"

/*
 * Tag storage performs like DRAM, but it must be the last place the kernel
 * puts data: one abstract-distance chunk below DRAM makes it the demotion
 * target of the DRAM nodes.
 */
#define MTE_TAG_DEFAULT_ADISTANCE	(MEMTIER_ADISTANCE_DRAM + MEMTIER_CHUNK_SIZE)
#define MTE_TAG_LOWEST_ADISTANCE	\
	((MEMTIER_ADISTANCE_DRAM / MEMTIER_CHUNK_SIZE + 1) * MEMTIER_CHUNK_SIZE)

static int adistance = MTE_TAG_DEFAULT_ADISTANCE;
module_param(adistance, int, 0444);
MODULE_PARM_DESC(adistance, "abstract distance of the tag nodes' memory type (a tier below DRAM)");

/**
 * enum mte_block_state - what a reservation block is used for
 * @MTE_BLOCK_DATA: online; the page allocator may use its pages
 * @MTE_BLOCK_EVACUATING: being emptied for tag use
 * @MTE_BLOCK_TAGS: the hardware holds tags in it; this driver owns its pages
 * @MTE_BLOCK_RELEASING: going back to data use
 * @MTE_BLOCK_FIRMWARE: outside the hot-plugged part; reserved for the
 *	hardware from boot
 * @MTE_BLOCK_NR_STATES: number of states
 */
enum mte_block_state {
	MTE_BLOCK_DATA,
	MTE_BLOCK_EVACUATING,
	MTE_BLOCK_TAGS,
	MTE_BLOCK_RELEASING,
	MTE_BLOCK_FIRMWARE,
	MTE_BLOCK_NR_STATES,
};

static const char mte_block_symbol[MTE_BLOCK_NR_STATES] = {
	[MTE_BLOCK_DATA] = '.',
	[MTE_BLOCK_EVACUATING] = 'E',
	[MTE_BLOCK_TAGS] = 'T',
	[MTE_BLOCK_RELEASING] = 'R',
	[MTE_BLOCK_FIRMWARE] = '-',
};

/*
 * Each block is one atomic_t that the map, copy and free paths read and
 * update without a lock. A value >= 0 means tag use and counts the tagged
 * data pages the block serves; every other state is negative, so that
 * atomic_inc_unless_negative() takes a block in tag use and nothing else,
 * and a block can leave tag use only by a cmpxchg from zero.
 */
#define BLOCK_DATA		(-1)
#define BLOCK_EVACUATING	(-2)
#define BLOCK_RELEASING		(-3)
#define BLOCK_FIRMWARE		(-4)

/**
 * struct mte_tag_node - driver state of one tag storage region
 * @region: the region, as found at boot
 * @blocks: per block, the tagged page count or a negative BLOCK_* state
 * @idle: blocks in tag use that the last release pass found serving no
 *	tagged page
 * @busy: blocks whose evacuation failed on a page that would not move;
 *	reservations fail at once on them until @busy_expires
 * @busy_expires: when @busy is forgotten, in jiffies; 0 while @busy is empty
 * @isolate_until: until then, in jiffies, evacuations isolate their run
 *	first: memory was too tight for migration alone; 0 if it was not
 * @lock: held across each evacuation and each block's release
 * @release_work: gives idle blocks back to data use
 * @kobj: /sys/kernel/mm/mte_tag_node/region<N>, N its index
 */
struct mte_tag_node {
	const struct mte_tag_region *region;
	atomic_t *blocks;
	unsigned long *idle;
	unsigned long *busy;
	unsigned long busy_expires;
	unsigned long isolate_until;
	struct mutex lock;		/* serialises block transitions */
	struct delayed_work release_work;
	struct kobject kobj;
};

static struct mte_tag_node *mte_tag_node_list;
static int mte_tag_node_count;
static enum mte_tag_mode mte_tag_mode;
static const char *mte_tag_mode_reason = "no tag storage region in the device tree";
static struct memory_dev_type *mte_tag_memtype;
static LIST_HEAD(mte_tag_memory_types);

/* Tag counting runs from the boot scan of tagged pages on: see count_boot_tagged(). */
DEFINE_STATIC_KEY_FALSE(mte_tag_counting);

/*
 * How long a block serving no tagged page stays in tag use before it goes
 * back to data use, so that a free followed by a new tagged page in the same
 * block does not evacuate it again.
 */
#define MTE_TAG_MAX_RELEASE_DELAY_MS	60000
static unsigned int release_delay_ms = 1000;

/* Evacuation attempts of one block before the fault relocates its page. */
#define MTE_TAG_EVACUATE_TRIES	3

/*
 * How long a block that failed to evacuate is not tried again: a short
 * pin is gone by then, and meanwhile each fault that needs the block
 * relocates its page at once instead of retrying the evacuation.
 */
#define MTE_TAG_BUSY_MS		1000

/*
 * How long evacuations isolate their run before they migrate, after
 * memory was too tight to migrate a run without isolating it.
 */
#define MTE_TAG_TIGHT_MS	1000

/* Blocks evacuated together when the blocks after the one needed hold data. */
#define MTE_TAG_RESERVE_AHEAD	16

static unsigned long block_of_tag_pfn(const struct mte_tag_node *tn,
				      unsigned long pfn)
{
	return (pfn - tn->region->tag_start) / tn->region->block_pages;
}

static struct mte_tag_node *node_of_tag_pfn(unsigned long pfn)
{
	int i;

	for (i = 0; i < mte_tag_node_count; i++) {
		const struct mte_tag_region *r = mte_tag_node_list[i].region;

		if (pfn >= r->tag_start && pfn - r->tag_start < r->tag_pages)
			return &mte_tag_node_list[i];
	}
	return NULL;
}

/* The region whose tag storage holds the tags of data pfn @pfn, if any. */
static struct mte_tag_node *node_serving(unsigned long pfn)
{
	int i;

	for (i = 0; i < mte_tag_node_count; i++)
		if (mte_tag_serves_pfn(mte_tag_node_list[i].region, pfn))
			return &mte_tag_node_list[i];
	return NULL;
}

static enum mte_block_state state_of_value(int value)
{
	switch (value) {
	case BLOCK_DATA:
		return MTE_BLOCK_DATA;
	case BLOCK_EVACUATING:
		return MTE_BLOCK_EVACUATING;
	case BLOCK_RELEASING:
		return MTE_BLOCK_RELEASING;
	case BLOCK_FIRMWARE:
		return MTE_BLOCK_FIRMWARE;
	default:
		return MTE_BLOCK_TAGS;
	}
}

static enum mte_block_state block_state(const struct mte_tag_node *tn,
					unsigned long block)
{
	return state_of_value(atomic_read(&tn->blocks[block]));
}

/* Can tags of this block's data pages be written right now? */
static bool block_holds_tags(const struct mte_tag_node *tn, unsigned long block)
{
	int value = atomic_read(&tn->blocks[block]);

	return value >= 0 || value == BLOCK_FIRMWARE;
}

/* Pages of blocks that are not in data use never go to the page allocator. */
static bool tag_pfn_is_held(const struct mte_tag_node *tn, unsigned long pfn)
{
	return block_state(tn, block_of_tag_pfn(tn, pfn)) != MTE_BLOCK_DATA;
}

static bool tag_range_has_held_pfn(const struct mte_tag_node *tn,
				   unsigned long pfn, unsigned long nr_pages)
{
	unsigned long block = block_of_tag_pfn(tn, pfn);
	unsigned long last = block_of_tag_pfn(tn, pfn + nr_pages - 1);

	for (; block <= last; block++)
		if (block_state(tn, block) != MTE_BLOCK_DATA)
			return true;
	return false;
}

/*
 * Online callback: memory hot-plug hands every newly onlined range to it.
 * Pages of tag-use blocks stay offline (PageOffline, refcount held) so that
 * neither the page allocator nor memory offlining can take them.
 */
static void mte_tag_online_page(struct page *page, unsigned int order)
{
	unsigned long pfn = page_to_pfn(page), nr_pages = 1UL << order, i;
	struct mte_tag_node *tn = node_of_tag_pfn(pfn);

	if (!tn || !tag_range_has_held_pfn(tn, pfn, nr_pages)) {
		generic_online_page(page, order);
		return;
	}
	for (i = 0; i < nr_pages; i++)
		if (!tag_pfn_is_held(tn, pfn + i))
			generic_online_page(pfn_to_page(pfn + i), 0);
}

/*
 * A tag node must stay ZONE_MOVABLE: unmovable kernel memory there could
 * never be evacuated when the hardware needs the block.
 */
static int mte_tag_memory_notify(struct notifier_block *nb,
				 unsigned long action, void *arg)
{
	struct memory_notify *mn = arg;
	struct mte_tag_node *tn;

	if (action != MEM_GOING_ONLINE)
		return NOTIFY_OK;
	tn = node_of_tag_pfn(mn->start_pfn);
	if (!tn || zone_idx(page_zone(pfn_to_page(mn->start_pfn))) == ZONE_MOVABLE)
		return NOTIFY_OK;
	pr_warn("%s: refusing to online %#llx-%#llx outside ZONE_MOVABLE; use online_movable\n",
		tn->region->name, PFN_PHYS(mn->start_pfn),
		PFN_PHYS(mn->start_pfn + mn->nr_pages) - 1);
	return NOTIFY_BAD;
}

static struct notifier_block mte_tag_memory_nb = {
	.notifier_call = mte_tag_memory_notify,
};

/* The hardware model and its fault injection: see the end of this file. */
static bool model_enabled = IS_ENABLED(CONFIG_ARM64_MTE_TAG_NODE_HW_MODEL);
static bool inject_skip_evacuation;
static bool inject_early_release;
/* The next this many reservations fail as if a page in the block were pinned. */
static atomic_t inject_reserve_busy = ATOMIC_INIT(0);
/* Evacuations isolate first, as when memory was tight. */
static bool inject_isolate;

static void model_write_tags(const struct mte_tag_node *tn, unsigned long pfn,
			     unsigned long nr_pages);
static void model_fill_block(const struct mte_tag_node *tn, unsigned long block);
static void model_scramble_tags(const struct mte_tag_node *tn, unsigned long block);

/*
 * The block whose count covers data pfn @pfn of @tn, or NULL if tagging the
 * page needs no count: no region lends out its tag storage, or its block was
 * never hot-plugged and always holds tags.
 */
static atomic_t *counted_block(struct mte_tag_node *tn, unsigned long pfn)
{
	atomic_t *block;

	if (!tn)
		return NULL;
	block = &tn->blocks[mte_tag_block_of(tn->region, pfn)];
	return atomic_read(block) == BLOCK_FIRMWARE ? NULL : block;
}

/*
 * Pages of a run from data pfn @pfn, at most @nr_pages, that one block of
 * @tn serves; all of them if no tag node (@tn NULL) serves the run.
 */
static unsigned long run_in_block(const struct mte_tag_node *tn, unsigned long pfn,
				  unsigned long nr_pages)
{
	unsigned long span;

	if (!tn)
		return nr_pages;
	span = mte_tag_block_span(tn->region);
	return min(nr_pages, span - (pfn - tn->region->data_start) % span);
}

/**
 * mte_tag_block_run() - how much of a run of pages one tag block counts
 * @page: first page of the run
 * @nr_pages: length of the run, inside one folio
 *
 * Lets callers count the pages of a large folio one block at a time, with
 * one atomic operation each (see mte_tag_pages_get()).
 *
 * Return: the number of pages from @page on, at most @nr_pages, whose tags
 * live in the same block as those of @page: @nr_pages if no tag node
 * counts them.
 */
unsigned long mte_tag_block_run(struct page *page, unsigned long nr_pages)
{
	unsigned long pfn = page_to_pfn(page);

	if (!static_branch_unlikely(&mte_tag_counting))
		return nr_pages;
	return run_in_block(node_serving(pfn), pfn, nr_pages);
}

/* Add @nr to a block's count, unless the block is in data use or changing. */
static bool count_add_unless_data(atomic_t *block, int nr)
{
	int count = atomic_read(block);

	do {
		if (count < 0)
			return false;
	} while (!atomic_try_cmpxchg(block, &count, count + nr));
	return true;
}

/*
 * Take @nr off a block's count. Return: what is left, or -1 if the count
 * was below @nr, which leaves it alone: a negative count is a block state.
 */
static int count_sub_if_enough(atomic_t *block, int nr)
{
	int count = atomic_read(block);

	do {
		if (count < nr)
			return -1;
	} while (!atomic_try_cmpxchg(block, &count, count - nr));
	return count - nr;
}

/**
 * __mte_tag_pages_get() - count pages about to be tagged against their block
 * @page: the first data page whose tags the caller is about to write
 * @nr_pages: how many of the pages from @page on it will tag, all served
 *	by one block (see mte_tag_block_run())
 *
 * Callable from any context: this only reads and adds to the block's
 * count. Use mte_tag_pages_get(), which skips the call while no tag node
 * is active.
 *
 * Return: true if the tags may be written: the block is in tag use and now
 * counts the pages, or the tags live in storage no tag node lends out.
 * false if the block holds data: the caller must not tag the pages, and
 * must let a sleepable path call mte_tag_reserve_pages() first. false, for
 * good, if @page belongs to a tag node: it is tag storage, and its own tags
 * would have to be written into tag storage. A copy that lands there (a
 * collapse whose sources sat mostly on the tag node) holds its tags instead.
 */
bool __mte_tag_pages_get(struct page *page, unsigned long nr_pages)
{
	unsigned long pfn = page_to_pfn(page);
	struct mte_tag_node *tn;
	atomic_t *block;

	if (mte_is_tag_node(page_to_nid(page)))
		return false;
	tn = node_serving(pfn);
	block = counted_block(tn, pfn);
	if (!block)
		return true;
	if (WARN_ON_ONCE(run_in_block(tn, pfn, nr_pages) != nr_pages) ||
	    !count_add_unless_data(block, nr_pages))
		return false;
	model_write_tags(tn, pfn, nr_pages);
	return true;
}

/* Uncount @nr_pages tagged pages of the block of @tn serving data pfn @pfn. */
static void put_pages_of_block(struct mte_tag_node *tn, unsigned long pfn,
			       unsigned long nr_pages)
{
	atomic_t *block = counted_block(tn, pfn);
	int left;

	if (!block)
		return;
	left = count_sub_if_enough(block, nr_pages);
	if (!left)
		queue_delayed_work(system_unbound_wq, &tn->release_work,
				   msecs_to_jiffies(release_delay_ms));
	else
		WARN_ON_ONCE(left < 0 && !inject_early_release);
}

/**
 * __mte_tag_pages_put() - tagged pages are being freed
 * @page: the first page of a run served by one block
 * @nr_pages: how many pages of the run were counted by __mte_tag_pages_get()
 *
 * Callable from any context, interrupts included. The block is given back
 * to data use later, by a worker, once it has served no tagged page for
 * release_delay_ms.
 */
void __mte_tag_pages_put(struct page *page, unsigned long nr_pages)
{
	unsigned long pfn = page_to_pfn(page);

	put_pages_of_block(node_serving(pfn), pfn, nr_pages);
}

/*
 * Tagged pages in a run from @page, their PG_mte_tagged bits still set.
 * Read without atomics: the pages are being freed and nobody tags them.
 */
static unsigned long tagged_pages(struct page *page, unsigned long nr_pages)
{
	unsigned long i, tagged = 0;

	for (i = 0; i < nr_pages; i++)
		tagged += page_mte_tagged(page + i);
	return tagged;
}

/**
 * __mte_tag_free_pages() - uncount the tagged pages of a block being freed
 * @page: first page of the freed block
 * @order: its order
 *
 * Called by the page allocator before it clears the page flags. One
 * atomic operation per tag block, not per page: a THP spans 16 blocks of
 * 4 KiB, and 512 pages.
 */
void __mte_tag_free_pages(struct page *page, unsigned int order)
{
	unsigned long pfn = page_to_pfn(page), left = 1UL << order, run, tagged;

	for (; left; left -= run, pfn += run) {
		struct mte_tag_node *tn = node_serving(pfn);

		run = run_in_block(tn, pfn, left);
		tagged = tagged_pages(pfn_to_page(pfn), run);
		if (tagged)
			put_pages_of_block(tn, pfn, tagged);
	}
}

/*
 * The region whose blocks @first to @last count the tags of a run of data
 * pages; NULL while tags are not counted, or if no region serves the run.
 */
static struct mte_tag_node *blocks_serving(struct page *page, unsigned long nr_pages,
					   unsigned long *first, unsigned long *last)
{
	unsigned long pfn = page_to_pfn(page);
	struct mte_tag_node *tn;

	if (!static_branch_unlikely(&mte_tag_counting))
		return NULL;
	tn = node_serving(pfn);
	if (tn) {
		*first = mte_tag_block_of(tn->region, pfn);
		*last = mte_tag_block_of(tn->region, pfn + nr_pages - 1);
	}
	return tn;
}

/* Does @test hold for every block serving a run of data pages? */
static bool all_blocks_serving(struct page *page, unsigned long nr_pages,
			       bool (*test)(const struct mte_tag_node *tn, unsigned long block))
{
	unsigned long block, last;
	struct mte_tag_node *tn = blocks_serving(page, nr_pages, &block, &last);

	for (; tn && block <= last; block++)
		if (!test(tn, block))
			return false;
	return true;
}

/**
 * mte_tag_pages_ready() - may the tags of a run of data pages be written?
 * @page: first page of the run
 * @nr_pages: length of the run, inside one folio
 *
 * Return: true if every block serving the run is in tag use.
 */
bool mte_tag_pages_ready(struct page *page, unsigned long nr_pages)
{
	return all_blocks_serving(page, nr_pages, block_holds_tags);
}

/* Are the pages of @block all free? Read without the zone lock: a hint. */
static bool block_pages_free(const struct mte_tag_node *tn, unsigned long block)
{
	unsigned long pfn = mte_tag_block_pfn(tn->region, block), i;

	for (i = 0; i < tn->region->block_pages; i++)
		if (!is_free_buddy_page(pfn_to_page(pfn + i)))
			return false;
	return true;
}

static bool block_claim_is_cheap(const struct mte_tag_node *tn, unsigned long block)
{
	return block_holds_tags(tn, block) ||
	       (block_state(tn, block) == MTE_BLOCK_DATA && block_pages_free(tn, block));
}

/**
 * mte_tag_claim_is_cheap() - can a run's tag storage be claimed without evacuating?
 * @page: first page of the run
 * @nr_pages: length of the run, inside one folio
 *
 * Return: true if every block serving the run is in tag use, or in data
 * use with all its pages free, as last seen without locks: a hint for a
 * caller that may go elsewhere rather than wait for an evacuation.
 */
bool mte_tag_claim_is_cheap(struct page *page, unsigned long nr_pages)
{
	return all_blocks_serving(page, nr_pages, block_claim_is_cheap);
}

/* Data cache lines of the block may be dirty: drop them before tags land. */
static void invalidate_block_data(const struct mte_tag_node *tn, unsigned long block)
{
	unsigned long pfn = mte_tag_block_pfn(tn->region, block), i;

	for (i = 0; i < tn->region->block_pages; i++)
		mte_tag_cache_ops->invalidate_data(pfn_to_page(pfn + i));
}

/* Hand the pages of an evacuated run from the page allocator to the hardware. */
static void hold_pages(unsigned long pfn, unsigned long nr_pages)
{
	unsigned long i;

	for (i = 0; i < nr_pages; i++)
		__folio_set_offline(page_folio(pfn_to_page(pfn + i)));
	adjust_managed_page_count(pfn_to_page(pfn), -(long)nr_pages);
}

/* Pages of the run that hold data now, for the evacuation statistics. */
static unsigned long pages_in_use(unsigned long pfn, unsigned long nr_pages)
{
	unsigned long i, nr = 0;

	for (i = 0; i < nr_pages; i++) {
		struct page *page = pfn_to_page(pfn + i);

		nr += !PageBuddy(page) && page_count(page);
	}
	return nr;
}

/* What a reservation did, for its tracepoint. */
struct reservation {
	unsigned long evacuated;	/* data pages moved out */
	bool isolated;			/* alloc_contig_range() was needed */
};

/*
 * A run being evacuated without isolation. Nothing keeps the allocator
 * from offering a free page of the run itself as a migration target:
 * such pages are set aside on @refused until the data has moved.
 * @no_large_target records that a large folio found no target of its
 * order: migrate_pages() has split it by the time it returns, so the
 * folios left cannot tell.
 */
struct evacuation {
	unsigned long start, end;
	int nid;
	struct list_head refused;
	bool no_large_target;
};

/* Would @folio keep a page of the run in use? */
static bool folio_overlaps_run(struct folio *folio, const struct evacuation *ev)
{
	unsigned long pfn = folio_pfn(folio);

	return pfn < ev->end && pfn + folio_nr_pages(folio) > ev->start;
}

/*
 * A large folio moves whole, into a folio of its order if one is free
 * without reclaim, as for a THP fault; migrate_pages() splits it if not.
 */
static gfp_t evacuation_gfp(struct folio *src)
{
	if (folio_test_large(src))
		return GFP_TRANSHUGE_LIGHT;
	return (GFP_HIGHUSER_MOVABLE & ~__GFP_DIRECT_RECLAIM) | __GFP_NOWARN;
}

/*
 * The data goes to other blocks of the tag node first, then to other
 * nodes by distance: the targets alloc_contig_range() would choose, but
 * without direct reclaim. Reclaim would demote other data into the run
 * as fast as its pages move out, since the run is not isolated; when
 * memory is that tight, alloc_contig_range() does the work. Each folio
 * refused holds a page of the run, so this ends.
 */
static struct folio *evacuation_target(struct folio *src, unsigned long private)
{
	struct evacuation *ev = (struct evacuation *)private;
	struct folio *dst;

	for (;;) {
		dst = __folio_alloc_node(evacuation_gfp(src), folio_order(src), ev->nid);
		if (!dst) {
			ev->no_large_target |= folio_test_large(src);
			return NULL;
		}
		if (!folio_overlaps_run(dst, ev))
			return dst;
		list_add(&dst->lru, &ev->refused);
	}
}

/*
 * Isolate the folios in use in a run, if all can be isolated now. A large
 * folio is isolated whole, its pages outside the run included, as
 * alloc_contig_range() would move it. HugeTLB folios are left to
 * alloc_contig_range(), which knows how to replace them. Return: false
 * otherwise; what was isolated is on @folios.
 */
static bool isolate_run(const struct evacuation *ev, struct list_head *folios)
{
	unsigned long pfn, next;

	for (pfn = ev->start; pfn < ev->end; pfn = next) {
		struct page *page = pfn_to_page(pfn);
		struct folio *folio = page_folio(page);
		bool isolated;

		next = pfn + 1;
		if (is_free_buddy_page(page) || !folio_try_get(folio))
			continue;
		isolated = page_folio(page) == folio && !folio_test_hugetlb(folio) &&
			   isolate_folio_to_list(folio, folios);
		if (isolated)
			next = folio_pfn(folio) + folio_nr_pages(folio);
		folio_put(folio);
		if (!isolated)
			return false;
	}
	return true;
}

/*
 * Take a run whose pages were all freed. Those the migration freed wait on
 * this CPU's lists; a page freed earlier may wait on another CPU's, which
 * only draining them all gives back, as alloc_contig_range() would.
 */
static bool take_freed_run(unsigned long start, unsigned long end)
{
	struct zone *zone = page_zone(pfn_to_page(start));

	migrate_disable();
	drain_local_pages(zone);
	migrate_enable();
	if (take_free_contig_range(start, end, GFP_KERNEL))
		return true;
	drain_all_pages(zone);
	return take_free_contig_range(start, end, GFP_KERNEL);
}

/*
 * Move the data out of a run and take it, without isolating its pageblock:
 * alloc_contig_range() does that, and drains every CPU's page and LRU
 * caches, which is most of an evacuation's cost when a run holds a few
 * pages. Return: 0 if the run is taken; -EBUSY if a page cannot be moved
 * this way (a HugeTLB folio, a page not on the LRU yet, a pin, or a large
 * folio with no free target of its order, which says memory is
 * fragmented, not tight); -ENOMEM if no target was free without reclaim,
 * or -EAGAIN if the run was not all free afterwards: a page was handed
 * out meanwhile. The caller falls back to alloc_contig_range() on any
 * error.
 */
static int migrate_and_take(unsigned long start, unsigned long end, int nid)
{
	struct evacuation ev = { .start = start, .end = end, .nid = nid };
	struct folio *folio, *next;
	LIST_HEAD(folios);
	int ret = 0;

	INIT_LIST_HEAD(&ev.refused);
	lru_add_drain();
	if (!isolate_run(&ev, &folios))
		ret = -EBUSY;
	else if (!list_empty(&folios))
		ret = migrate_pages(&folios, evacuation_target, NULL, (unsigned long)&ev,
				    MIGRATE_SYNC, MR_CONTIG_RANGE, NULL);
	if (ret > 0 || (ret == -ENOMEM && ev.no_large_target))
		ret = -EBUSY;
	if (!list_empty(&folios))
		putback_movable_pages(&folios);
	list_for_each_entry_safe(folio, next, &ev.refused, lru)
		folio_put(folio);
	if (ret)
		return ret;
	return take_freed_run(start, end) ? 0 : -EAGAIN;
}

/* Called with tn->lock held. */
static bool memory_was_tight(const struct mte_tag_node *tn)
{
	return READ_ONCE(inject_isolate) ||
	       (tn->isolate_until && time_before(jiffies, tn->isolate_until));
}

/*
 * Called with tn->lock held. Migration alone found no target free without
 * reclaim, or the run was refilled before it could be taken, as reclaim
 * demoting into the tag node does: until memory eases, runs are isolated
 * first, so that what moves out of them cannot come back.
 */
static void note_tight_memory(struct mte_tag_node *tn)
{
	tn->isolate_until = jiffies + msecs_to_jiffies(MTE_TAG_TIGHT_MS) ?: 1;
}

/*
 * alloc_contig_range() moves a large folio only from its head page, so a
 * run that starts inside one is taken with the folio's pages before it.
 * Return: the pfn to start taking at.
 */
static unsigned long contig_start(unsigned long start)
{
	struct page *page = pfn_to_page(start);
	struct folio *folio = page_folio(page);
	unsigned long first = start;

	if (folio_test_large(folio) && folio_try_get(folio)) {
		if (page_folio(page) == folio && !folio_test_hugetlb(folio))
			first = folio_pfn(folio);
		folio_put(folio);
	}
	return first;
}

/*
 * Isolate a run and take it, its data moved to other memory. Pages taken
 * before the run, for a large folio it starts inside, are given back.
 */
static int isolate_and_take(unsigned long start, unsigned long end)
{
	unsigned long first = contig_start(start);
	int ret;

	ret = alloc_contig_range(first, end, MIGRATE_MOVABLE, GFP_KERNEL | __GFP_NOWARN);
	if (!ret && first < start)
		free_contig_range(first, start - first);
	return ret;
}

/*
 * Called with tn->lock held on a run holding data. Take it out of the page
 * allocator, its data moved to other memory: by migrating the pages in
 * use if that suffices, or with alloc_contig_range(), which isolates the
 * run first. After memory was tight, runs are isolated first for a while.
 * A short-term pin makes it fail with -EBUSY; a fatal signal with -EINTR.
 */
static int take_run(struct mte_tag_node *tn, unsigned long start, unsigned long end,
		    struct reservation *res)
{
	int ret, tries = 0;

	if (!memory_was_tight(tn)) {
		ret = migrate_and_take(start, end, tn->region->nid);
		if (!ret)
			return 0;
		if (ret != -EBUSY)
			note_tight_memory(tn);
	}
	res->isolated = true;
	do {
		ret = isolate_and_take(start, end);
	} while (ret == -EBUSY && ++tries < MTE_TAG_EVACUATE_TRIES &&
		 !fatal_signal_pending(current));
	return ret;
}

/* Evacuate a run of blocks and hand their pages to the hardware. */
static int take_blocks(struct mte_tag_node *tn, unsigned long block, unsigned long nr,
		       struct reservation *res)
{
	unsigned long pfn = mte_tag_block_pfn(tn->region, block);
	unsigned long nr_pages = nr * tn->region->block_pages;
	unsigned long in_use;
	int ret;

	if (inject_skip_evacuation)
		return 0;
	/* The common case, and cheap: nothing to move, nothing to count. */
	if (take_free_contig_range(pfn, pfn + nr_pages, GFP_KERNEL)) {
		hold_pages(pfn, nr_pages);
		return 0;
	}
	in_use = pages_in_use(pfn, nr_pages);
	ret = take_run(tn, pfn, pfn + nr_pages, res);
	if (ret)
		return ret;
	hold_pages(pfn, nr_pages);
	count_vm_events(MTE_TAG_EVACUATED, in_use);
	res->evacuated = in_use;
	return 0;
}

/* Called with tn->lock held on a run of blocks in data use. */
static int evacuate_blocks(struct mte_tag_node *tn, unsigned long first, unsigned long nr,
			   struct reservation *res)
{
	unsigned long block;
	int ret;

	for (block = first; block < first + nr; block++)
		atomic_set(&tn->blocks[block], BLOCK_EVACUATING);
	ret = take_blocks(tn, first, nr, res);
	for (block = first; block < first + nr; block++) {
		if (ret) {
			atomic_set(&tn->blocks[block], BLOCK_DATA);
			continue;
		}
		invalidate_block_data(tn, block);
		model_fill_block(tn, block);
		clear_bit(block, tn->idle);
		/* Tag writes may start once the block reads as in tag use. */
		atomic_set_release(&tn->blocks[block], 0);
	}
	if (ret)
		count_vm_event(MTE_TAG_RESERVE_FAIL);
	else
		count_vm_events(MTE_TAG_RESERVE, nr);
	return ret;
}

/*
 * Blocks in data use from @block on, to reserve together. If @block holds
 * data, at most MTE_TAG_RESERVE_AHEAD: data pages are mostly handed out in
 * physical order, so the next tagged pages will likely need the next
 * blocks, and an evacuation's fixed costs are paid once for the run: a
 * migration batch, with its TLB flushes, and, if migration alone does not
 * free the run, the isolation of a whole pageblock and the drain of every
 * CPU's caches. If its pages are free, taking blocks one by one costs
 * little, and blocks taken ahead that no tagged page uses cost tag
 * efficiency: at most the @need blocks the caller needs.
 */
static unsigned long data_run(const struct mte_tag_node *tn, unsigned long block,
			      unsigned long need)
{
	unsigned long max = block_pages_free(tn, block) ? need : MTE_TAG_RESERVE_AHEAD;
	unsigned long end = min(block + max, mte_tag_nr_blocks(tn->region));
	unsigned long nr = 0;

	while (block + nr < end && atomic_read(&tn->blocks[block + nr]) == BLOCK_DATA &&
	       !test_bit(block + nr, tn->busy))
		nr++;
	return nr;
}

/* Called with tn->lock held: is @block known not to evacuate for now? */
static bool block_is_busy(struct mte_tag_node *tn, unsigned long block)
{
	if (tn->busy_expires && time_after(jiffies, tn->busy_expires)) {
		bitmap_zero(tn->busy, mte_tag_nr_blocks(tn->region));
		WRITE_ONCE(tn->busy_expires, 0);
	}
	return test_bit(block, tn->busy);
}

/* Called with tn->lock held. */
static void mark_block_busy(struct mte_tag_node *tn, unsigned long block)
{
	if (!tn->busy_expires)
		WRITE_ONCE(tn->busy_expires, jiffies + msecs_to_jiffies(MTE_TAG_BUSY_MS));
	set_bit(block, tn->busy);
}

/* Reserve @block, and up to @need - 1 blocks after it that the caller needs. */
static int reserve_block(struct mte_tag_node *tn, unsigned long block, unsigned long need)
{
	struct reservation res = {};
	unsigned long nr;
	int ret = 0;
	u64 start;

	if (block_holds_tags(tn, block))
		return 0;
	start = ktime_get_ns();
	if (mutex_lock_killable(&tn->lock))
		return -EINTR;
	nr = 0;
	if (atomic_dec_if_positive(&inject_reserve_busy) >= 0 || block_is_busy(tn, block))
		ret = -EBUSY;
	else
		nr = data_run(tn, block, need);
	if (nr)
		ret = evacuate_blocks(tn, block, nr, &res);
	/* A pinned page elsewhere in the run must not cost the block needed. */
	if (ret == -EBUSY && nr > 1) {
		nr = 1;
		ret = evacuate_blocks(tn, block, nr, &res);
	}
	if (ret == -EBUSY && nr)
		mark_block_busy(tn, block);
	mutex_unlock(&tn->lock);
	/*
	 * Blocks reserved ahead, or for a page that is freed before it is
	 * tagged, never see a put: the release pass must come anyway.
	 */
	if (!ret && nr)
		queue_delayed_work(system_unbound_wq, &tn->release_work,
				   msecs_to_jiffies(release_delay_ms));
	trace_mte_tag_reserve(tn->region->nid, block, ret ? 0 : nr, res.evacuated, ret,
			      ktime_get_ns() - start, res.isolated);
	return ret;
}

/**
 * mte_tag_reserve_pages() - put the tag storage of data pages in tag use
 * @page: first page of the run
 * @nr_pages: length of the run, inside one folio
 *
 * Evacuates every block serving the run that still holds data, with the
 * blocks after it when that evacuates, and takes free blocks. Sleeps.
 * The blocks then stay in tag use for at least release_delay_ms, long
 * enough for the caller to tag the pages.
 *
 * Return: 0 on success; -EINTR if a fatal signal is pending; -EBUSY if a
 * block holds pages that could not be moved (pinned), now or in the last
 * MTE_TAG_BUSY_MS; -ENOMEM if there was no memory to move them to.
 */
int mte_tag_reserve_pages(struct page *page, unsigned long nr_pages)
{
	unsigned long block, last;
	struct mte_tag_node *tn;
	int ret;

	might_sleep();
	tn = blocks_serving(page, nr_pages, &block, &last);
	for (; tn && block <= last; block++) {
		ret = reserve_block(tn, block, last - block + 1);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * mte_tag_busy_data_pages() - data pages whose tag block will not evacuate
 *
 * A page freed by a relocation lies in a busy block, and the allocator
 * hands such pages out again first: a caller looking for a page whose
 * storage can be reserved may have to skip this many.
 *
 * Return: the data pages served by blocks that failed to evacuate in the
 * last MTE_TAG_BUSY_MS, read without the lock.
 */
unsigned long mte_tag_busy_data_pages(void)
{
	unsigned long pages = 0;
	int i;

	for (i = 0; i < mte_tag_node_count; i++) {
		struct mte_tag_node *tn = &mte_tag_node_list[i];
		unsigned long expires = READ_ONCE(tn->busy_expires);

		if (expires && time_before(jiffies, expires))
			pages += bitmap_weight(tn->busy, mte_tag_nr_blocks(tn->region)) *
				 mte_tag_block_span(tn->region);
	}
	return pages;
}

/**
 * mte_tag_wait_busy() - sleep until the busy blocks of a page's node expire
 * @page: a data page whose tag storage could not be put in tag use, nor
 *	the page moved elsewhere
 *
 * A caller that can make no progress while a block is busy waits here
 * rather than retry at once: until the window ends, the same reservation
 * would fail again without trying, and a retried fault would spin.
 * Sleeps for at most MTE_TAG_BUSY_MS; a fatal signal ends the wait.
 */
void mte_tag_wait_busy(struct page *page)
{
	struct mte_tag_node *tn = node_serving(page_to_pfn(page));
	unsigned long expires, now = jiffies;

	if (!tn)
		return;
	expires = READ_ONCE(tn->busy_expires);
	if (expires && time_before(now, expires))
		schedule_timeout_killable(expires - now);
}

/* Tag cache lines of the served data may be dirty: write them out first. */
static void clean_served_tags(const struct mte_tag_node *tn, unsigned long block)
{
	unsigned long pfn = mte_tag_block_data_pfn(tn->region, block), i;

	for (i = 0; i < mte_tag_block_span(tn->region); i++) {
		struct page *page = pfn_to_online_page(pfn + i);

		if (page)
			mte_tag_cache_ops->clean_tags(page);
	}
}

/* Give the pages of a block this driver holds back to the page allocator. */
static void give_block_pages(const struct mte_tag_node *tn, unsigned long block)
{
	unsigned long pfn = mte_tag_block_pfn(tn->region, block), i;

	for (i = 0; i < tn->region->block_pages; i++) {
		struct page *page = pfn_to_page(pfn + i);

		/* Skipped evacuation (fault injection) never held the pages. */
		if (PageOffline(page))
			generic_online_page(page, 0);
	}
}

/* Called with tn->lock held. */
static void release_block(struct mte_tag_node *tn, unsigned long block)
{
	atomic_t *value = &tn->blocks[block];
	int old = atomic_read(value);

	if (old < 0 || (old && !inject_early_release))
		return;
	/* A page tagged since the caller looked keeps the block. */
	if (atomic_cmpxchg(value, old, BLOCK_RELEASING) != old)
		return;
	clean_served_tags(tn, block);
	model_scramble_tags(tn, block);
	give_block_pages(tn, block);
	clear_bit(block, tn->idle);
	atomic_set(value, BLOCK_DATA);
	count_vm_event(MTE_TAG_RELEASE);
	trace_mte_tag_release(tn->region->nid, block);
}

/*
 * A block is released by the second pass that finds it serving no tagged
 * page, so it stays in tag use between one and two release delays after
 * its last tagged page is freed.
 *
 * The scan reads the counts without tn->lock, which is taken for each
 * release only: a reservation waiting on the lock must not wait for a
 * pass over every block of the region. release_block() rereads the count
 * under the lock, and the counts and idle bits are atomic.
 */
static void release_idle_blocks(struct work_struct *work)
{
	struct mte_tag_node *tn = container_of(to_delayed_work(work),
					       struct mte_tag_node, release_work);
	unsigned long block, nr = mte_tag_nr_blocks(tn->region);
	bool pending = false;

	for (block = 0; block < nr; block++) {
		int value = atomic_read(&tn->blocks[block]);

		if (value < 0 || (value && !inject_early_release)) {
			clear_bit(block, tn->idle);
			continue;
		}
		if (!test_and_set_bit(block, tn->idle) && release_delay_ms) {
			pending = true;
			continue;
		}
		mutex_lock(&tn->lock);
		release_block(tn, block);
		mutex_unlock(&tn->lock);
		cond_resched();
	}
	if (pending)
		queue_delayed_work(system_unbound_wq, &tn->release_work,
				   msecs_to_jiffies(release_delay_ms));
}

/*
 * The zero page has tags, cleared when MTE was enabled, without
 * PG_mte_tagged; it is never freed, so it holds its block for good.
 */
static bool page_has_tags(struct page *page)
{
	return page_mte_tagged(page) || is_zero_pfn(page_to_pfn(page));
}

/*
 * Until this driver runs, all tag storage belongs to the hardware. Count
 * the pages tagged so far: their blocks stay in tag use when the region
 * goes online. Nothing in user space runs yet, so no page is tagged
 * during the scan.
 */
static void __init count_boot_tagged(struct mte_tag_node *tn)
{
	const struct mte_tag_region *r = tn->region;
	unsigned long pfn;

	for (pfn = r->data_start; pfn < r->data_start + r->data_pages; pfn++) {
		struct page *page = pfn_to_online_page(pfn);
		atomic_t *block = &tn->blocks[mte_tag_block_of(r, pfn)];

		if (page && page_has_tags(page) && atomic_read(block) >= 0)
			atomic_inc(block);
		if (!(pfn % (SZ_1G >> PAGE_SHIFT)))
			cond_resched();
	}
}

/* Blocks that serve no tagged page go online in data use. */
static void __init open_unused_blocks(struct mte_tag_node *tn)
{
	unsigned long block;

	for (block = 0; block < mte_tag_nr_blocks(tn->region); block++)
		if (atomic_cmpxchg(&tn->blocks[block], 0, BLOCK_DATA) > 0)
			count_vm_event(MTE_TAG_RESERVE);
}

static int __init alloc_block_map(struct mte_tag_node *tn)
{
	const struct mte_tag_region *r = tn->region;
	unsigned long nr = mte_tag_nr_blocks(r), first, last, block;

	tn->blocks = kvcalloc(nr, sizeof(*tn->blocks), GFP_KERNEL);
	tn->idle = bitmap_zalloc(nr, GFP_KERNEL);
	tn->busy = bitmap_zalloc(nr, GFP_KERNEL);
	if (!tn->blocks || !tn->idle || !tn->busy)
		return -ENOMEM;
	mutex_init(&tn->lock);
	INIT_DELAYED_WORK(&tn->release_work, release_idle_blocks);

	first = block_of_tag_pfn(tn, r->plug_start);
	last = block_of_tag_pfn(tn, r->plug_start + r->plug_pages);
	for (block = 0; block < nr; block++)
		if (block < first || block >= last)
			atomic_set(&tn->blocks[block], BLOCK_FIRMWARE);
	return 0;
}

static int online_block_movable(struct memory_block *mem, void *arg)
{
	int ret;

	if (mem->state == MEM_ONLINE)
		return 0;
	mem->online_type = MMOP_ONLINE_MOVABLE;
	ret = device_online(&mem->dev);
	return ret < 0 ? ret : 0;
}

static int __init add_region_memory(struct mte_tag_node *tn)
{
	const struct mte_tag_region *r = tn->region;
	u64 start = PFN_PHYS(r->plug_start), size = PFN_PHYS(r->plug_pages);
	int mgid, ret;

	mgid = memory_group_register_static(r->nid, r->plug_pages);
	if (mgid < 0)
		return mgid;
	ret = add_memory_driver_managed(mgid, start, size, MTE_TAG_RESOURCE_NAME,
					MHP_NID_IS_MGID);
	if (ret) {
		memory_group_unregister(mgid);
		return ret;
	}
	lock_device_hotplug();
	ret = walk_memory_blocks(start, size, NULL, online_block_movable);
	unlock_device_hotplug();
	return ret;
}

static unsigned long count_blocks(const struct mte_tag_node *tn,
				  enum mte_block_state state)
{
	unsigned long block, nr = 0;

	for (block = 0; block < mte_tag_nr_blocks(tn->region); block++)
		nr += block_state(tn, block) == state;
	return nr;
}

static void __init report_region(const struct mte_tag_node *tn)
{
	const struct mte_tag_region *r = tn->region;

	pr_info("%s: node %d, tag %#llx-%#llx for data %#llx-%#llx, block %lu KiB, %llu MiB online, %lu blocks in tag use\n",
		r->name, r->nid, PFN_PHYS(r->tag_start),
		PFN_PHYS(r->tag_start + r->tag_pages) - 1, PFN_PHYS(r->data_start),
		PFN_PHYS(r->data_start + r->data_pages) - 1,
		(r->block_pages * PAGE_SIZE) / SZ_1K,
		PFN_PHYS(r->plug_pages) / SZ_1M, count_blocks(tn, MTE_BLOCK_TAGS));
}

static int __init plug_region(struct mte_tag_node *tn)
{
	const struct mte_tag_region *r = tn->region;
	int ret;

	open_unused_blocks(tn);
	if (mte_tag_mode == MTE_TAG_MODE_ACTIVE)
		mte_tag_node_mark(r->nid, true);
	init_node_memory_type(r->nid, mte_tag_memtype);
	ret = add_region_memory(tn);
	if (ret) {
		clear_node_memory_type(r->nid, mte_tag_memtype);
		mte_tag_node_mark(r->nid, false);
		return ret;
	}
	report_region(tn);
	return 0;
}

static enum mte_tag_mode __init choose_mode(void)
{
	if (mte_tag_node_disabled_by_cmdline()) {
		mte_tag_mode_reason = "disabled by mte_tag_node=off";
		return MTE_TAG_MODE_OFF;
	}
	if (!mte_tag_nr_regions())
		return MTE_TAG_MODE_NONE;
	if (kasan_hw_tags_enabled()) {
		mte_tag_mode_reason = "hardware tag-based KASAN needs tags in atomic context";
		return MTE_TAG_MODE_OFF;
	}
	if (!system_supports_mte()) {
		mte_tag_mode_reason = "MTE is absent or off (arm64.nomte): plain memory nodes";
		return MTE_TAG_MODE_PLAIN;
	}
	mte_tag_mode_reason = "tag nodes hold untagged data only";
	return MTE_TAG_MODE_ACTIVE;
}

static int __init setup_memory_type(void)
{
	if (adistance < MTE_TAG_LOWEST_ADISTANCE) {
		pr_warn("adistance=%d would not put tag nodes below DRAM (needs >= %d), using %d\n",
			adistance, (int)MTE_TAG_LOWEST_ADISTANCE, (int)MTE_TAG_DEFAULT_ADISTANCE);
		adistance = MTE_TAG_DEFAULT_ADISTANCE;
	}
	mte_tag_memtype = mt_find_alloc_memory_type(adistance, &mte_tag_memory_types);
	return PTR_ERR_OR_ZERO(mte_tag_memtype);
}

static int __init plug_all_regions(void)
{
	int i, ret, plugged = 0;

	ret = setup_memory_type();
	if (ret)
		return ret;
	if (mte_tag_mode == MTE_TAG_MODE_ACTIVE) {
		ret = set_online_page_callback(mte_tag_online_page);
		if (ret) {
			pr_err("another driver owns the online page callback; tag nodes not added\n");
			return ret;
		}
	}
	register_memory_notifier(&mte_tag_memory_nb);

	for (i = 0; i < mte_tag_node_count; i++) {
		ret = alloc_block_map(&mte_tag_node_list[i]);
		if (ret)
			return ret;
		if (mte_tag_mode == MTE_TAG_MODE_ACTIVE)
			count_boot_tagged(&mte_tag_node_list[i]);
	}
	if (mte_tag_mode == MTE_TAG_MODE_ACTIVE)
		static_branch_enable(&mte_tag_counting);

	for (i = 0; i < mte_tag_node_count; i++) {
		struct mte_tag_node *tn = &mte_tag_node_list[i];

		ret = plug_region(tn);
		if (ret)
			pr_err("%s: hot-plug failed (%d); tag storage stays out of memory\n",
			       tn->region->name, ret);
		else
			plugged++;
	}
	return plugged ? 0 : -ENODEV;
}

/* sysfs: /sys/kernel/mm/mte_tag_node/ */

static const char * const mte_tag_mode_names[] = {
	[MTE_TAG_MODE_NONE] = "none",
	[MTE_TAG_MODE_OFF] = "off",
	[MTE_TAG_MODE_ACTIVE] = "active",
	[MTE_TAG_MODE_PLAIN] = "plain",
};

static ssize_t mode_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", mte_tag_mode_names[mte_tag_mode]);
}

static struct kobj_attribute mode_attr = __ATTR_RO(mode);

static ssize_t reason_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", mte_tag_mode_reason);
}

static struct kobj_attribute reason_attr = __ATTR_RO(reason);

static ssize_t adistance_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", adistance);
}

static struct kobj_attribute adistance_attr = __ATTR_RO(adistance);

static ssize_t release_delay_ms_show(struct kobject *kobj, struct kobj_attribute *attr,
				     char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(release_delay_ms));
}

static ssize_t release_delay_ms_store(struct kobject *kobj, struct kobj_attribute *attr,
				      const char *buf, size_t count)
{
	unsigned int ms;

	if (kstrtouint(buf, 0, &ms) || ms > MTE_TAG_MAX_RELEASE_DELAY_MS) {
		pr_warn_ratelimited("release_delay_ms: expected 0 to %u, kept %u\n",
				    MTE_TAG_MAX_RELEASE_DELAY_MS, READ_ONCE(release_delay_ms));
		return -EINVAL;
	}
	WRITE_ONCE(release_delay_ms, ms);
	return count;
}

static struct kobj_attribute release_delay_ms_attr = __ATTR_RW(release_delay_ms);

static struct attribute *mte_tag_attrs[] = {
	&mode_attr.attr,
	&reason_attr.attr,
	&adistance_attr.attr,
	&release_delay_ms_attr.attr,
	NULL,
};
ATTRIBUTE_GROUPS(mte_tag);

static struct mte_tag_node *kobj_to_tag_node(struct kobject *kobj)
{
	return container_of(kobj, struct mte_tag_node, kobj);
}

#define REGION_SHOW(_name, _fmt, ...)						\
static ssize_t _name##_show(struct kobject *kobj, struct kobj_attribute *attr,	\
			    char *buf)						\
{										\
	const struct mte_tag_region *r = kobj_to_tag_node(kobj)->region;	\
										\
	return sysfs_emit(buf, _fmt "\n", __VA_ARGS__);				\
}										\
static struct kobj_attribute _name##_attr = __ATTR_RO(_name)

#define BLOCKS_SHOW(_name, _state)						\
static ssize_t _name##_show(struct kobject *kobj, struct kobj_attribute *attr,	\
			    char *buf)						\
{										\
	return sysfs_emit(buf, "%lu\n", count_blocks(kobj_to_tag_node(kobj), _state)); \
}										\
static struct kobj_attribute _name##_attr = __ATTR_RO(_name)

static ssize_t show_pfn_range(char *buf, unsigned long start, unsigned long pages)
{
	return sysfs_emit(buf, "%#llx-%#llx\n", PFN_PHYS(start), PFN_PHYS(start + pages) - 1);
}

static ssize_t tag_range_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	const struct mte_tag_region *r = kobj_to_tag_node(kobj)->region;

	return show_pfn_range(buf, r->tag_start, r->tag_pages);
}

static struct kobj_attribute tag_range_attr = __ATTR_RO(tag_range);

static ssize_t data_range_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	const struct mte_tag_region *r = kobj_to_tag_node(kobj)->region;

	return show_pfn_range(buf, r->data_start, r->data_pages);
}

static struct kobj_attribute data_range_attr = __ATTR_RO(data_range);

static ssize_t online_range_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	const struct mte_tag_region *r = kobj_to_tag_node(kobj)->region;

	return show_pfn_range(buf, r->plug_start, r->plug_pages);
}

static struct kobj_attribute online_range_attr = __ATTR_RO(online_range);

REGION_SHOW(name, "%s", r->name);
REGION_SHOW(node, "%d", r->nid);
REGION_SHOW(block_size, "%lu", r->block_pages * PAGE_SIZE);
REGION_SHOW(blocks_total, "%lu", mte_tag_nr_blocks(r));
BLOCKS_SHOW(blocks_data, MTE_BLOCK_DATA);
BLOCKS_SHOW(blocks_evacuating, MTE_BLOCK_EVACUATING);
BLOCKS_SHOW(blocks_tags, MTE_BLOCK_TAGS);
BLOCKS_SHOW(blocks_releasing, MTE_BLOCK_RELEASING);
BLOCKS_SHOW(blocks_reserved, MTE_BLOCK_FIRMWARE);

static struct attribute *region_attrs[] = {
	&name_attr.attr,
	&node_attr.attr,
	&tag_range_attr.attr,
	&data_range_attr.attr,
	&online_range_attr.attr,
	&block_size_attr.attr,
	&blocks_total_attr.attr,
	&blocks_data_attr.attr,
	&blocks_evacuating_attr.attr,
	&blocks_tags_attr.attr,
	&blocks_releasing_attr.attr,
	&blocks_reserved_attr.attr,
	NULL,
};
ATTRIBUTE_GROUPS(region);

/* Regions live as long as the kernel: nothing to free. */
static void region_kobj_release(struct kobject *kobj)
{
}

static const struct kobj_type region_ktype = {
	.release = region_kobj_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = region_groups,
};

static void __init register_sysfs(void)
{
	struct kobject *top;
	int i;

	top = kobject_create_and_add("mte_tag_node", mm_kobj);
	if (!top || sysfs_create_groups(top, mte_tag_groups)) {
		pr_warn("cannot create /sys/kernel/mm/mte_tag_node\n");
		return;
	}
	for (i = 0; i < mte_tag_node_count; i++)
		if (kobject_init_and_add(&mte_tag_node_list[i].kobj, &region_ktype,
					 top, "region%d", i))
			pr_warn("cannot create sysfs for region%d\n", i);
}

/* debugfs: the block map of each region */

#define BLOCK_MAP_COLUMNS 64

static int block_map_show(struct seq_file *m, void *v)
{
	const struct mte_tag_node *tn = m->private;
	const struct mte_tag_region *r = tn->region;
	unsigned long block, nr = mte_tag_nr_blocks(r);

	seq_printf(m, "# %s node %d blocks %lu block_size %lu\n", r->name, r->nid,
		   nr, r->block_pages * PAGE_SIZE);
	seq_puts(m, "# legend: . data  E evacuating  T tags  R releasing  - reserved (not hot-plugged)\n");
	for (block = 0; block < nr; block++) {
		if (!(block % BLOCK_MAP_COLUMNS))
			seq_printf(m, "%s%08lx ", block ? "\n" : "", block);
		seq_putc(m, mte_block_symbol[block_state(tn, block)]);
	}
	seq_putc(m, '\n');
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(block_map);

/* debugfs: check the invariants tagged memory depends on */

/**
 * struct mte_tag_audit - what a walk of the regions found
 * @pages: online tag node pages looked at
 * @tagged: tag node pages with initialised tags: tag storage holding tags
 *	of its own
 * @mte_mapped: mappings of tag node folios in VM_MTE VMAs; one only waits
 *	for its first access to move the folio away, so after the accesses
 *	of a test this must be zero too
 * @busy: mapped folios that were locked, so not looked at
 * @unreserved: tagged data pages whose block is not in tag use
 * @data_in_tag_blocks: pages of blocks in tag use that this driver does
 *	not hold, so may hold data the hardware overwrites
 * @miscounted: blocks in tag use whose count differs from the number of
 *	tagged pages they serve
 */
struct mte_tag_audit {
	unsigned long pages;
	unsigned long tagged;
	unsigned long mte_mapped;
	unsigned long busy;
	unsigned long unreserved;
	unsigned long data_in_tag_blocks;
	unsigned long miscounted;
};

static bool count_mte_mapping(struct folio *folio, struct vm_area_struct *vma,
			      unsigned long addr, void *arg)
{
	struct mte_tag_audit *audit = arg;

	if (vma->vm_flags & VM_MTE)
		audit->mte_mapped++;
	return true;
}

static void audit_mappings(struct folio *folio, struct mte_tag_audit *audit)
{
	struct rmap_walk_control rwc = {
		.rmap_one = count_mte_mapping,
		.arg = audit,
	};

	if (!folio_trylock(folio)) {
		audit->busy++;
		return;
	}
	if (folio_mapped(folio))
		rmap_walk(folio, &rwc);
	folio_unlock(folio);
}

/* Audits the folio at @pfn; returns the number of pages it spans. */
static unsigned long audit_pfn(unsigned long pfn, struct mte_tag_audit *audit)
{
	struct page *page = pfn_to_online_page(pfn);
	struct folio *folio;
	unsigned long nr, i;

	if (!page)
		return 1;
	folio = page_folio(page);
	if (!folio_try_get(folio))
		return 1;
	/* A folio that changed under us is looked at from its head next time. */
	nr = page == folio_page(folio, 0) ? folio_nr_pages(folio) : 1;
	for (i = 0; i < nr; i++)
		audit->tagged += page_mte_tagged(folio_page(folio, i));
	if (folio_mapped(folio))
		audit_mappings(folio, audit);
	folio_put(folio);
	return nr;
}

static void audit_tag_node(const struct mte_tag_region *r, struct mte_tag_audit *audit)
{
	unsigned long pfn = r->plug_start, end = r->plug_start + r->plug_pages;

	while (pfn < end) {
		unsigned long nr = min(audit_pfn(pfn, audit), end - pfn);

		audit->pages += nr;
		pfn += nr;
		cond_resched();
	}
}

static unsigned long tagged_pages_served(const struct mte_tag_node *tn,
					 unsigned long block)
{
	unsigned long pfn = mte_tag_block_data_pfn(tn->region, block), i, nr = 0;

	for (i = 0; i < mte_tag_block_span(tn->region); i++) {
		struct page *page = pfn_to_online_page(pfn + i);

		nr += page && page_has_tags(page);
	}
	return nr;
}

static unsigned long unheld_pages(const struct mte_tag_node *tn, unsigned long block)
{
	unsigned long pfn = mte_tag_block_pfn(tn->region, block), i, nr = 0;

	for (i = 0; i < tn->region->block_pages; i++)
		nr += !PageOffline(pfn_to_page(pfn + i));
	return nr;
}

/* Every tagged page's block is in tag use, and holds no data, and counts right. */
static void audit_blocks(const struct mte_tag_node *tn, struct mte_tag_audit *audit)
{
	unsigned long block;

	for (block = 0; block < mte_tag_nr_blocks(tn->region); block++) {
		int value = atomic_read(&tn->blocks[block]);
		unsigned long tagged;

		if (value == BLOCK_FIRMWARE)
			continue;
		tagged = tagged_pages_served(tn, block);
		if (value < 0) {
			audit->unreserved += tagged;
			continue;
		}
		audit->data_in_tag_blocks += unheld_pages(tn, block);
		audit->miscounted += tagged != value;
		cond_resched();
	}
}

static int verify_show(struct seq_file *m, void *v)
{
	struct mte_tag_audit audit = {};
	int i;

	for (i = 0; i < mte_tag_node_count; i++) {
		const struct mte_tag_node *tn = &mte_tag_node_list[i];

		audit_tag_node(tn->region, &audit);
		if (static_branch_unlikely(&mte_tag_counting))
			audit_blocks(tn, &audit);
	}
	seq_printf(m, "pages %lu\ntagged %lu\nmte_mapped %lu\nbusy %lu\n",
		   audit.pages, audit.tagged, audit.mte_mapped, audit.busy);
	seq_printf(m, "unreserved %lu\ndata_in_tag_blocks %lu\nmiscounted %lu\n",
		   audit.unreserved, audit.data_in_tag_blocks, audit.miscounted);
	seq_printf(m, "violations %lu\n", audit.tagged + audit.mte_mapped +
		   audit.unreserved + audit.data_in_tag_blocks + audit.miscounted);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(verify);

#ifdef CONFIG_ARM64_MTE_TAG_NODE_HW_MODEL
/*
 * The hardware model. QEMU keeps tags apart from memory, so a block used
 * for tags and data at once corrupts nothing there. With the model on,
 * tag storage is written as hardware would write it: the whole block when
 * it enters tag use, and a page's share of it when the page is tagged; and
 * the tags of the pages a block served are scrambled when it goes back to
 * data use. A placement or counting bug then shows as corrupted data or
 * tag check faults in the tests.
 */
#define MODEL_TAG_BYTE		0x5a
#define MODEL_TAG_XOR		0x5

/* The PAGE_SIZE / 32 bytes of tag storage holding the tags of data pfn @pfn. */
static void *tag_storage_of(const struct mte_tag_node *tn, unsigned long pfn)
{
	const struct mte_tag_region *r = tn->region;
	unsigned long slot = (pfn - r->data_start) % MTE_TAG_DATA_PER_TAG_PAGE;

	return pfn_to_kaddr(mte_tag_pfn(r, pfn)) + slot * (PAGE_SIZE / MTE_TAG_DATA_PER_TAG_PAGE);
}

/* Tags of a run of data pages, inside one block, are written. */
static void model_write_tags(const struct mte_tag_node *tn, unsigned long pfn,
			     unsigned long nr_pages)
{
	if (READ_ONCE(model_enabled))
		memset(tag_storage_of(tn, pfn), MODEL_TAG_BYTE,
		       nr_pages * (PAGE_SIZE / MTE_TAG_DATA_PER_TAG_PAGE));
}

static void model_fill_block(const struct mte_tag_node *tn, unsigned long block)
{
	if (READ_ONCE(model_enabled))
		memset(pfn_to_kaddr(mte_tag_block_pfn(tn->region, block)), MODEL_TAG_BYTE,
		       tn->region->block_pages * PAGE_SIZE);
}

static void scramble_page_tags(struct page *page)
{
	void *addr = page_address(page), *end = addr + PAGE_SIZE;

	for (; addr < end; addr += MTE_GRANULE_SIZE)
		mte_set_mem_tag_range(addr, MTE_GRANULE_SIZE,
				      mte_get_mem_tag(addr) ^ MODEL_TAG_XOR, false);
}

static void model_scramble_tags(const struct mte_tag_node *tn, unsigned long block)
{
	unsigned long pfn = mte_tag_block_data_pfn(tn->region, block), i;

	if (!READ_ONCE(model_enabled))
		return;
	for (i = 0; i < mte_tag_block_span(tn->region); i++) {
		struct page *page = pfn_to_online_page(pfn + i);

		if (page && page_mte_tagged(page))
			scramble_page_tags(page);
	}
}

static void __init register_model_debugfs(struct dentry *top)
{
	debugfs_create_bool("hw_model", 0600, top, &model_enabled);
	debugfs_create_bool("inject_skip_evacuation", 0600, top, &inject_skip_evacuation);
	debugfs_create_bool("inject_early_release", 0600, top, &inject_early_release);
	debugfs_create_atomic_t("inject_reserve_busy", 0600, top, &inject_reserve_busy);
	debugfs_create_bool("inject_isolate", 0600, top, &inject_isolate);
}
#else
static void model_fill_block(const struct mte_tag_node *tn, unsigned long block) { }
static void model_scramble_tags(const struct mte_tag_node *tn, unsigned long block) { }
static void __init register_model_debugfs(struct dentry *top) { }

static void model_write_tags(const struct mte_tag_node *tn, unsigned long pfn,
			     unsigned long nr_pages)
{
}
#endif /* CONFIG_ARM64_MTE_TAG_NODE_HW_MODEL */

static void __init register_debugfs(void)
{
	struct dentry *top = debugfs_create_dir("mte_tag_node", NULL);
	int i;

	debugfs_create_file("verify", 0400, top, NULL, &verify_fops);
	register_model_debugfs(top);

	for (i = 0; i < mte_tag_node_count; i++) {
		struct mte_tag_node *tn = &mte_tag_node_list[i];
		char name[24];

		snprintf(name, sizeof(name), "region%d", i);
		debugfs_create_file("block_map", 0444, debugfs_create_dir(name, top),
				    tn, &block_map_fops);
	}
}

static int __init alloc_tag_nodes(void)
{
	int i, nr = mte_tag_nr_regions();

	mte_tag_node_list = kcalloc(nr, sizeof(*mte_tag_node_list), GFP_KERNEL);
	if (!mte_tag_node_list)
		return -ENOMEM;
	for (i = 0; i < nr; i++)
		mte_tag_node_list[i].region = mte_tag_region(i);
	mte_tag_node_count = nr;
	return 0;
}

static int __init mte_tag_node_init(void)
{
	int ret = 0;

	mte_tag_mode = choose_mode();
	if (mte_tag_mode == MTE_TAG_MODE_ACTIVE || mte_tag_mode == MTE_TAG_MODE_PLAIN) {
		ret = alloc_tag_nodes();
		if (!ret)
			ret = plug_all_regions();
		if (ret) {
			mte_tag_mode = MTE_TAG_MODE_NONE;
			mte_tag_mode_reason = "no region could be hot-plugged";
		}
	}
	pr_info("%s: %s\n", mte_tag_mode_names[mte_tag_mode], mte_tag_mode_reason);
	register_sysfs();
	register_debugfs();
	return 0;
}
device_initcall(mte_tag_node_init);
