// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the tag node driver on the running system's tag nodes:
 * skipped when the boot has none, or when they do not hold tags.
 */

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mte_tag_node.h>

/* The first region, when its tag node holds tags in this boot. */
static const struct mte_tag_region *active_region(struct kunit *test)
{
	const struct mte_tag_region *r = mte_tag_region(0);

	if (!r || !node_online(r->nid) || !mte_tag_node_active())
		kunit_skip(test, "no active tag node in this boot");
	return r;
}

/*
 * Cache maintenance, recorded for one block: the driver must drop the data
 * lines of each of its tag pages when it enters tag use, and write back
 * the tag lines of every data page it serves when it leaves (R20). Calls
 * for other blocks (reserved ahead, or by other tasks) are passed through
 * without being counted.
 */
static struct {
	const struct mte_tag_region *region;
	unsigned long block;
	atomic_t invalidated;
	atomic_t cleaned;
	const struct mte_tag_cache_ops *hw;
} cmo;

static bool pfn_in(unsigned long pfn, unsigned long start, unsigned long nr)
{
	return pfn >= start && pfn < start + nr;
}

static void record_invalidate_data(struct page *tag_page)
{
	if (pfn_in(page_to_pfn(tag_page), mte_tag_block_pfn(cmo.region, cmo.block),
		   cmo.region->block_pages))
		atomic_inc(&cmo.invalidated);
	cmo.hw->invalidate_data(tag_page);
}

static void record_clean_tags(struct page *data_page)
{
	if (pfn_in(page_to_pfn(data_page), mte_tag_block_data_pfn(cmo.region, cmo.block),
		   mte_tag_block_span(cmo.region)))
		atomic_inc(&cmo.cleaned);
	cmo.hw->clean_tags(data_page);
}

static const struct mte_tag_cache_ops recording_cache_ops = {
	.invalidate_data = record_invalidate_data,
	.clean_tags = record_clean_tags,
};

/* A page of the region's data whose tag block is in data use, or NULL. */
static struct page *page_of_data_block(const struct mte_tag_region *r)
{
	int nid = pfn_to_nid(r->data_start), tries;
	struct page *page = NULL, *skipped, *next;
	LIST_HEAD(busy);

	for (tries = 0; tries < 64; tries++) {
		page = alloc_pages_node(nid, GFP_KERNEL | __GFP_THISNODE, 0);
		if (!page || (mte_tag_serves_pfn(r, page_to_pfn(page)) &&
			      !mte_tag_pages_ready(page, 1)))
			break;
		/* Held, or the allocator would hand it out again. */
		list_add(&page->lru, &busy);
		page = NULL;
	}
	list_for_each_entry_safe(skipped, next, &busy, lru)
		__free_page(skipped);
	return page;
}

static bool block_released_within(struct page *page, unsigned int ms)
{
	for (; ms; ms -= 20) {
		if (!mte_tag_pages_ready(page, 1))
			return true;
		msleep(20);
	}
	return false;
}

/*
 * A block stops holding tags before its release cleans the tag lines of
 * the pages it served: wait for the cleaning to reach @want pages.
 */
static int cleaned_within(int want, unsigned int ms)
{
	for (; ms && atomic_read(&cmo.cleaned) < want; ms -= 20)
		msleep(20);
	return atomic_read(&cmo.cleaned);
}

static void cache_maintenance_on_transitions(struct kunit *test)
{
	const struct mte_tag_region *r = active_region(test);
	struct page *page;

	page = page_of_data_block(r);
	KUNIT_ASSERT_NOT_NULL_MSG(test, page, "no free page whose tag block holds data");
	cmo.region = r;
	cmo.block = mte_tag_block_of(r, page_to_pfn(page));
	atomic_set(&cmo.invalidated, 0);
	atomic_set(&cmo.cleaned, 0);
	cmo.hw = mte_tag_cache_ops;
	mte_tag_cache_ops = &recording_cache_ops;

	KUNIT_EXPECT_EQ(test, mte_tag_reserve_pages(page, 1), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&cmo.invalidated), r->block_pages);
	KUNIT_EXPECT_EQ(test, atomic_read(&cmo.cleaned), 0);

	/*
	 * Never tagged: the block goes back within two release delays. The
	 * freed page's memmap entry still names its block.
	 */
	__free_page(page);
	KUNIT_EXPECT_TRUE(test, block_released_within(page, 10000));
	KUNIT_EXPECT_EQ(test, cleaned_within(mte_tag_block_span(r), 1000),
			mte_tag_block_span(r));
	KUNIT_EXPECT_EQ(test, atomic_read(&cmo.invalidated), r->block_pages);
	mte_tag_cache_ops = cmo.hw;
}

/*
 * Free runs of tag storage are taken with take_free_contig_range(), which
 * must take a range only whole and leave it as alloc_contig_range() does.
 * Tried on 16 pages of the tag node, a CPU-less node the test has to itself:
 * freed as one order-4 page, they go straight back to the free lists.
 */
#define TAKE_ORDER	4
#define TAKE_PAGES	BIT(TAKE_ORDER)

static struct page *free_tag_node_run(struct kunit *test, const struct mte_tag_region *r)
{
	struct page *page = alloc_pages_node(r->nid, GFP_HIGHUSER_MOVABLE | __GFP_THISNODE |
					     __GFP_NOWARN, TAKE_ORDER);

	if (!page)
		kunit_skip(test, "no free order-%d page on the tag node", TAKE_ORDER);
	__free_pages(page, TAKE_ORDER);
	return page;
}

static void free_range_taken_whole(struct kunit *test)
{
	struct page *page = free_tag_node_run(test, active_region(test));
	unsigned long pfn = page_to_pfn(page), i;

	KUNIT_ASSERT_TRUE(test, take_free_contig_range(pfn, pfn + TAKE_PAGES, GFP_KERNEL));
	for (i = 0; i < TAKE_PAGES; i++) {
		KUNIT_EXPECT_FALSE(test, PageBuddy(page + i));
		KUNIT_EXPECT_EQ(test, page_count(page + i), 1);
	}
	free_contig_range(pfn, TAKE_PAGES);
	for (i = 0; i < TAKE_PAGES; i++)
		KUNIT_EXPECT_EQ(test, page_count(page + i), 0);
}

static void range_with_a_used_page_left_alone(struct kunit *test)
{
	struct page *page = free_tag_node_run(test, active_region(test));
	unsigned long pfn = page_to_pfn(page), used = TAKE_PAGES / 2, i;

	/* One page in the middle in use, the others back on the free lists. */
	KUNIT_ASSERT_TRUE(test, take_free_contig_range(pfn, pfn + TAKE_PAGES, GFP_KERNEL));
	for (i = 0; i < TAKE_PAGES; i++)
		if (i != used)
			__free_page(page + i);
	drain_all_pages(page_zone(page));

	KUNIT_EXPECT_FALSE(test, take_free_contig_range(pfn, pfn + TAKE_PAGES, GFP_KERNEL));
	for (i = 0; i < TAKE_PAGES; i++)
		if (i != used)
			KUNIT_EXPECT_TRUE(test, is_free_buddy_page(page + i));
	KUNIT_EXPECT_EQ(test, page_count(page + used), 1);

	/* The free pages before it are still there to take. */
	KUNIT_EXPECT_TRUE(test, take_free_contig_range(pfn, pfn + used, GFP_KERNEL));
	free_contig_range(pfn, used);
	__free_page(page + used);
}

/*
 * A block of the first ones in data use, and its tag pages taken off the
 * free lists, or NULL. The first blocks serve boot memory, and their tag
 * pages are the first the tag node hands out: taking and freeing them
 * leaves the free lists in the order later tests expect. The tag pages
 * of blocks serving the data pages handed out first, freed again, would
 * merge into a large free page at the head of its list.
 */
static struct page *data_of_taken_block(const struct mte_tag_region *r)
{
	unsigned long block;

	for (block = 0; block < min(64UL, mte_tag_nr_blocks(r)); block++) {
		unsigned long tag_pfn = mte_tag_block_pfn(r, block);
		struct page *page = pfn_to_page(mte_tag_block_data_pfn(r, block));

		if (!mte_tag_pages_ready(page, 1) &&
		    take_free_contig_range(tag_pfn, tag_pfn + r->block_pages, GFP_KERNEL))
			return page;
	}
	return NULL;
}

/*
 * Packing takes a chunk only if claiming its block moves nothing: the block
 * is in tag use, or in data use with all its pages free. A page of the
 * block in use would have to be evacuated, which packing leaves to the
 * unpacked fault. Nothing is reserved, so no block is left in tag use
 * for the tests that boot after it.
 */
static void claim_is_cheap_only_when_nothing_moves(struct kunit *test)
{
	const struct mte_tag_region *r = active_region(test);
	struct page *page = data_of_taken_block(r);
	unsigned long tag_pfn;

	if (!page)
		kunit_skip(test, "no block in data use with free tag pages");
	tag_pfn = mte_tag_block_pfn(r, mte_tag_block_of(r, page_to_pfn(page)));
	KUNIT_EXPECT_FALSE(test, mte_tag_claim_is_cheap(page, 1));

	free_contig_range(tag_pfn, r->block_pages);
	drain_all_pages(page_zone(pfn_to_page(tag_pfn)));
	KUNIT_EXPECT_TRUE(test, mte_tag_claim_is_cheap(page, 1));

	/* The zero page's block holds tags for good. */
	KUNIT_ASSERT_TRUE(test, mte_tag_pages_ready(ZERO_PAGE(0), 1));
	KUNIT_EXPECT_TRUE(test, mte_tag_claim_is_cheap(ZERO_PAGE(0), 1));
}

/*
 * A large folio is counted one tag block at a time: the runs that
 * mte_tag_block_run() cuts end where a block's data ends, counted from the
 * start of the region, whatever the alignment of the region's data.
 */
static void block_runs_end_at_block_ends(struct kunit *test)
{
	const struct mte_tag_region *r = active_region(test);
	unsigned long span = mte_tag_block_span(r);
	unsigned long first = mte_tag_block_data_pfn(r, 1);
	struct page *page = pfn_to_page(first + 3);

	KUNIT_EXPECT_EQ(test, mte_tag_block_run(page, 4 * span), span - 3);
	KUNIT_EXPECT_EQ(test, mte_tag_block_run(page, 2), 2);
	KUNIT_EXPECT_EQ(test, mte_tag_block_run(pfn_to_page(first), span), span);
	KUNIT_EXPECT_EQ(test, mte_tag_block_run(pfn_to_page(first + span - 1), span), 1);
}

/*
 * A page of a tag node is tag storage: no path may write its tags, so the
 * count that gates every tag write refuses it whatever its block's state.
 */
static void tag_node_page_takes_no_tags(struct kunit *test)
{
	const struct mte_tag_region *r = active_region(test);
	struct page *page;

	page = alloc_pages_node(r->nid, GFP_HIGHUSER_MOVABLE | __GFP_THISNODE |
				__GFP_NOWARN, 0);
	if (!page)
		kunit_skip(test, "tag node %d has no free page", r->nid);
	KUNIT_EXPECT_FALSE(test, mte_tag_page_get(page));
	KUNIT_EXPECT_FALSE(test, page_mte_tagged(page));
	__free_page(page);
}

static struct kunit_case mte_tag_reserve_cases[] = {
	KUNIT_CASE_SLOW(cache_maintenance_on_transitions),
	KUNIT_CASE(free_range_taken_whole),
	KUNIT_CASE(range_with_a_used_page_left_alone),
	KUNIT_CASE(block_runs_end_at_block_ends),
	KUNIT_CASE(claim_is_cheap_only_when_nothing_moves),
	KUNIT_CASE(tag_node_page_takes_no_tags),
	{}
};

static struct kunit_suite mte_tag_reserve_suite = {
	.name = "mte_tag_reserve",
	.test_cases = mte_tag_reserve_cases,
};

kunit_test_suite(mte_tag_reserve_suite);
