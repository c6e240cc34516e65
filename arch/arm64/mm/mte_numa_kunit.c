// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for MTE tag storage regions: the tag arithmetic, the device
 * tree binding validator, and the tag nodes of the running system.
 */

#include <kunit/test.h>
#include <linux/memory.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/mte_tag_node.h>
#include <linux/pfn.h>
#include <linux/vmalloc.h>

#include <asm/mte.h>

#define SZ_PAGES(bytes)	((bytes) >> PAGE_SHIFT)

/* The lab's layout: 4 GiB of data at 1 GiB, 128 MiB of tags right above. */
static const struct mte_tag_binding lab_binding = {
	.name = "test",
	.tag_base = 0x140000000ULL,
	.tag_size = SZ_128M,
	.reg_ranges = 1,
	.data_base = 0x40000000ULL,
	.data_size = SZ_4G,
	.data_ranges = 1,
	.block_size = 0x1000,
	.no_map = true,
	.nid = NUMA_NO_NODE,
};

static struct mte_tag_region region_with_block(unsigned long block_pages)
{
	return (struct mte_tag_region) {
		.tag_start = PHYS_PFN(0x140000000ULL),
		.tag_pages = SZ_PAGES(SZ_128M),
		.data_start = PHYS_PFN(0x40000000ULL),
		.data_pages = SZ_PAGES(SZ_4G),
		.block_pages = block_pages,
	};
}

static void block_pages_follow_lcm(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, mte_tag_block_pages(SZ_4K, 0x400), 1UL);
	KUNIT_EXPECT_EQ(test, mte_tag_block_pages(SZ_4K, 0x1000), 1UL);
	KUNIT_EXPECT_EQ(test, mte_tag_block_pages(SZ_4K, 0x2000), 2UL);
	KUNIT_EXPECT_EQ(test, mte_tag_block_pages(SZ_4K, 0x3000), 3UL);
	KUNIT_EXPECT_EQ(test, mte_tag_block_pages(SZ_4K, 0x1800), 3UL);
	KUNIT_EXPECT_EQ(test, mte_tag_block_pages(SZ_16K, 0x1000), 1UL);
	KUNIT_EXPECT_EQ(test, mte_tag_block_pages(SZ_64K, 0x20000), 2UL);
}

/* The worked example of the RFC's FVP layout: pfn 0x81234 -> tag pfn 0xfc091. */
static void tag_pfn_matches_rfc_example(struct kunit *test)
{
	struct mte_tag_region r = {
		.tag_start = 0xfc000, .tag_pages = 0x3e00,
		.data_start = 0x80000, .data_pages = 0x7c000, .block_pages = 1,
	};
	unsigned long pfn;

	KUNIT_EXPECT_EQ(test, mte_tag_pfn(&r, 0x81234), 0xfc091UL);
	for (pfn = 0x81220; pfn <= 0x8123f; pfn++)
		KUNIT_EXPECT_EQ(test, mte_tag_pfn(&r, pfn), 0xfc091UL);
	KUNIT_EXPECT_EQ(test, mte_tag_pfn(&r, 0x81240), 0xfc092UL);
}

static void region_ends_map_to_tag_ends(struct kunit *test)
{
	struct mte_tag_region r = region_with_block(1);
	unsigned long last = r.data_start + r.data_pages - 1;

	KUNIT_EXPECT_EQ(test, mte_tag_pfn(&r, r.data_start), r.tag_start);
	KUNIT_EXPECT_EQ(test, mte_tag_pfn(&r, last), r.tag_start + r.tag_pages - 1);
	KUNIT_EXPECT_TRUE(test, mte_tag_serves_pfn(&r, last));
	KUNIT_EXPECT_FALSE(test, mte_tag_serves_pfn(&r, last + 1));
	KUNIT_EXPECT_FALSE(test, mte_tag_serves_pfn(&r, r.data_start - 1));
	KUNIT_EXPECT_EQ(test, mte_tag_nr_blocks(&r), r.tag_pages);
}

/* Count the blocks of a run the slow way: page by page, through its tag pfn. */
static unsigned long blocks_by_tag_pfn(const struct mte_tag_region *r,
				       unsigned long pfn, unsigned long nr_pages)
{
	unsigned long i, prev = ULONG_MAX, nr = 0;

	for (i = 0; i < nr_pages; i++) {
		unsigned long block = (mte_tag_pfn(r, pfn + i) - r->tag_start) / r->block_pages;

		if (block != prev)
			nr++;
		prev = block;
	}
	return nr;
}

static void folio_blocks_for_orders(struct kunit *test)
{
	static const unsigned long block_sizes[] = { 1, 2, 3, 4 };
	unsigned int i, order;

	for (i = 0; i < ARRAY_SIZE(block_sizes); i++) {
		struct mte_tag_region r = region_with_block(block_sizes[i]);

		for (order = 0; order <= 9; order++) {
			unsigned long nr = 1UL << order;
			unsigned long pfn = r.data_start + 7 * 512;	/* aligned for order 9 */

			KUNIT_EXPECT_EQ_MSG(test, mte_tag_blocks_for_range(&r, pfn, nr),
					    blocks_by_tag_pfn(&r, pfn, nr),
					    "B=%lu order=%u", r.block_pages, order);
		}
	}
}

/* For B a power of two, an aligned order-n folio needs max(1, 2^n / (32 * B)) blocks. */
static void folio_blocks_power_of_two(struct kunit *test)
{
	struct mte_tag_region r1 = region_with_block(1), r2 = region_with_block(2);
	unsigned long pfn = r1.data_start;

	/* 2 MiB of data needs 16 tag pages: 16 blocks of one page, 8 of two. */
	KUNIT_EXPECT_EQ(test, mte_tag_blocks_for_range(&r1, pfn, 512), 16UL);
	KUNIT_EXPECT_EQ(test, mte_tag_blocks_for_range(&r2, pfn, 512), 8UL);
	KUNIT_EXPECT_EQ(test, mte_tag_blocks_for_range(&r1, pfn, 16), 1UL);
	KUNIT_EXPECT_EQ(test, mte_tag_blocks_for_range(&r2, pfn, 64), 1UL);
	KUNIT_EXPECT_EQ(test, mte_tag_blocks_for_range(&r2, pfn, 128), 2UL);
}

static void block_shares_add_up(struct kunit *test)
{
	struct mte_tag_region r = region_with_block(3);
	unsigned long pfn = r.data_start + 90, nr = 512, block, sum = 0;
	unsigned long first = mte_tag_block_of(&r, pfn);
	unsigned long last = mte_tag_block_of(&r, pfn + nr - 1);

	for (block = first; block <= last; block++) {
		unsigned long share = mte_tag_block_share(&r, block, pfn, nr);

		KUNIT_EXPECT_GT(test, share, 0UL);
		KUNIT_EXPECT_LE(test, share, mte_tag_block_span(&r));
		sum += share;
	}
	KUNIT_EXPECT_EQ(test, sum, nr);
	KUNIT_EXPECT_EQ(test, mte_tag_block_data_pfn(&r, first + 1) - r.data_start,
			(first + 1) * 96);
	KUNIT_EXPECT_EQ(test, mte_tag_block_pfn(&r, 5), r.tag_start + 15);
}

/* The validator, with RAM from 1 GiB to 1 GiB + 8.5 GiB. */
static bool test_is_ram(phys_addr_t base, phys_addr_t size)
{
	return base >= 0x40000000ULL && base + size <= 0x40000000ULL + SZ_8G + SZ_512M;
}

static const char *check(const struct mte_tag_binding *b, struct mte_tag_region *r,
			 const struct mte_tag_region *accepted, int nr_accepted)
{
	return mte_tag_check_binding(b, SZ_PAGES(SZ_128M), test_is_ram, accepted,
				     nr_accepted, r);
}

static void binding_valid(struct kunit *test)
{
	struct mte_tag_region r;

	KUNIT_ASSERT_NULL(test, check(&lab_binding, &r, NULL, 0));
	KUNIT_EXPECT_EQ(test, r.tag_start, PHYS_PFN(0x140000000ULL));
	KUNIT_EXPECT_EQ(test, r.plug_start, r.tag_start);
	KUNIT_EXPECT_EQ(test, r.plug_pages, r.tag_pages);
	KUNIT_EXPECT_EQ(test, r.block_pages, 1UL);
	KUNIT_EXPECT_EQ(test, r.nid, NUMA_NO_NODE);
}

struct bad_binding_case {
	const char *what;
	void (*spoil)(struct mte_tag_binding *b);
	const char *rule;
};

static void two_reg_ranges(struct mte_tag_binding *b)
{
	b->reg_ranges = 2;
}

static void no_no_map(struct mte_tag_binding *b)
{
	b->no_map = false;
}

static void no_data(struct mte_tag_binding *b)
{
	b->data_ranges = 0;
	b->data_size = 0;
}

static void no_block_size(struct mte_tag_binding *b)
{
	b->block_size = 0;
}

static void block_size_3_pages(struct mte_tag_binding *b)
{
	b->block_size = 0x3000;
}

static void block_size_too_big(struct mte_tag_binding *b)
{
	b->block_size = SZ_256M;
}

static void tag_too_small(struct mte_tag_binding *b)
{
	b->tag_size = SZ_64M;
}

static void tag_inside_data(struct mte_tag_binding *b)
{
	b->tag_base = 0x100000000ULL;
}

static void tag_outside_ram(struct mte_tag_binding *b)
{
	b->tag_base = 0x400000000ULL;
}

static void data_outside_ram(struct mte_tag_binding *b)
{
	b->data_base = 0x200000000ULL;
}

static void tag_unaligned_page(struct mte_tag_binding *b)
{
	b->tag_base += 0x800;
}

static void nid_too_big(struct mte_tag_binding *b)
{
	b->nid = MAX_NUMNODES;
}

static void tag_no_whole_block(struct mte_tag_binding *b)
{
	b->tag_base = 0x144000000ULL;	/* 64 MiB into a memory block */
}

static const struct bad_binding_case bad_cases[] = {
	{ "several reg ranges", two_reg_ranges, "reg must hold exactly one" },
	{ "no-map missing", no_no_map, "no-map is required" },
	{ "tagged-memory missing", no_data, "tagged-memory must hold exactly one" },
	{ "block-size missing or zero", no_block_size, "block-size is missing or zero" },
	{ "block-size 0x3000", block_size_3_pages, "block-size is not compatible" },
	{ "block-size above a memory block", block_size_too_big, "block-size is not compatible" },
	{ "tag size is not data/32", tag_too_small, "1/32" },
	{ "tag inside its data", tag_inside_data, "inside the tagged memory" },
	{ "tag outside RAM", tag_outside_ram, "outside RAM" },
	{ "data outside RAM", data_outside_ram, "outside RAM" },
	{ "tag not page aligned", tag_unaligned_page, "page aligned" },
	{ "numa-node-id too big", nid_too_big, "numa-node-id is out of range" },
	{ "no whole memory block", tag_no_whole_block, "no whole memory block" },
};

static void bad_case_desc(const struct bad_binding_case *c, char *desc)
{
	strscpy(desc, c->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(bad_binding, bad_cases, bad_case_desc);

static void binding_rejected(struct kunit *test)
{
	const struct bad_binding_case *c = test->param_value;
	struct mte_tag_binding b = lab_binding;
	struct mte_tag_region r;
	const char *why;

	c->spoil(&b);
	why = check(&b, &r, NULL, 0);
	KUNIT_ASSERT_NOT_NULL(test, why);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(why, c->rule), "got: %s", why);
}

static void binding_overlap_rejected(struct kunit *test)
{
	struct mte_tag_binding b = lab_binding;
	struct mte_tag_region first, second;

	KUNIT_ASSERT_NULL(test, check(&lab_binding, &first, NULL, 0));
	KUNIT_EXPECT_STREQ(test, check(&b, &second, &first, 1),
			   "overlaps another tag storage region");

	/* A second region serving the next 4 GiB, its tags above them. */
	b.data_base = 0x148000000ULL;
	b.tag_base = 0x248000000ULL;
	KUNIT_EXPECT_NULL(test, check(&b, &second, &first, 1));

	/* Its tags may not sit inside the first region's data. */
	b.tag_base = 0x80000000ULL;
	KUNIT_EXPECT_NOT_NULL(test, check(&b, &second, &first, 1));
}

static void binding_unaligned_is_trimmed(struct kunit *test)
{
	struct mte_tag_binding b = lab_binding;
	struct mte_tag_region r;

	/*
	 * 256 MiB of tags for 8 GiB of data, starting 64 MiB into a memory
	 * block: only the one whole block in the middle can be hot-plugged.
	 */
	b.tag_base = 0x244000000ULL;
	b.tag_size = SZ_256M;
	b.data_base = 0x40000000ULL;
	b.data_size = SZ_8G;
	KUNIT_ASSERT_NULL(test, check(&b, &r, NULL, 0));
	KUNIT_EXPECT_EQ(test, PFN_PHYS(r.plug_start), 0x248000000ULL);
	KUNIT_EXPECT_EQ(test, PFN_PHYS(r.plug_pages), (phys_addr_t)SZ_128M);
	KUNIT_EXPECT_EQ(test, r.tag_pages, SZ_PAGES(SZ_256M));
}

static struct kunit_case mte_tag_arith_cases[] = {
	KUNIT_CASE(block_pages_follow_lcm),
	KUNIT_CASE(tag_pfn_matches_rfc_example),
	KUNIT_CASE(region_ends_map_to_tag_ends),
	KUNIT_CASE(folio_blocks_for_orders),
	KUNIT_CASE(folio_blocks_power_of_two),
	KUNIT_CASE(block_shares_add_up),
	KUNIT_CASE(binding_valid),
	KUNIT_CASE_PARAM(binding_rejected, bad_binding_gen_params),
	KUNIT_CASE(binding_overlap_rejected),
	KUNIT_CASE(binding_unaligned_is_trimmed),
	{}
};

static struct kunit_suite mte_tag_arith_suite = {
	.name = "mte_tag_arith",
	.test_cases = mte_tag_arith_cases,
};

/* The running system's tag nodes: skipped when the lab booted without one. */

static const struct mte_tag_region *first_region(struct kunit *test)
{
	const struct mte_tag_region *r = mte_tag_region(0);

	if (!r || !node_online(r->nid) || !node_present_pages(r->nid))
		kunit_skip(test, "no tag node hot-plugged in this boot");
	return r;
}

/* The tag node's memmap must not live on the tag node (R7). */
static void memmap_lives_outside_tag_node(struct kunit *test)
{
	const struct mte_tag_region *r = first_region(test);
	unsigned long pfn, end = r->plug_start + r->plug_pages;

	for (pfn = r->plug_start; pfn < end; pfn += SZ_PAGES(SZ_2M)) {
		struct page *memmap = vmalloc_to_page(pfn_to_page(pfn));
		unsigned long memmap_pfn;

		KUNIT_ASSERT_NOT_NULL(test, memmap);
		memmap_pfn = page_to_pfn(memmap);
		KUNIT_EXPECT_FALSE_MSG(test, memmap_pfn >= r->tag_start &&
				       memmap_pfn < r->tag_start + r->tag_pages,
				       "memmap of pfn %#lx is at pfn %#lx", pfn, memmap_pfn);
		KUNIT_EXPECT_NE(test, page_to_nid(memmap), r->nid);
	}
}

static void tag_node_is_movable_only(struct kunit *test)
{
	const struct mte_tag_region *r = first_region(test);
	pg_data_t *pgdat = NODE_DATA(r->nid);
	int zid;

	for (zid = 0; zid < MAX_NR_ZONES; zid++) {
		if (zid == ZONE_MOVABLE)
			KUNIT_EXPECT_GT(test, zone_managed_pages(&pgdat->node_zones[zid]), 0UL);
		else
			KUNIT_EXPECT_EQ(test, pgdat->node_zones[zid].present_pages, 0UL);
	}
	KUNIT_EXPECT_EQ(test, cpumask_weight(cpumask_of_node(r->nid)), 0U);
}

/* The zero page's tags live in the tag node: that page must not be free (R34). */
static void zero_page_tag_block_is_held(struct kunit *test)
{
	const struct mte_tag_region *r = first_region(test);
	unsigned long zero_pfn = page_to_pfn(ZERO_PAGE(0));
	unsigned long tag_pfn;
	struct page *page;

	if (!mte_is_tag_node(r->nid))
		kunit_skip(test, "tag node holds no tags in this boot (feature not active)");
	if (!mte_tag_serves_pfn(r, zero_pfn))
		kunit_skip(test, "the zero page is not served by this region");
	tag_pfn = mte_tag_pfn(r, zero_pfn);
	page = pfn_to_page(tag_pfn);
	KUNIT_EXPECT_TRUE(test, PageOffline(page));
	KUNIT_EXPECT_FALSE(test, PageBuddy(page));
	KUNIT_EXPECT_GT(test, page_count(page), 0);
}

static struct kunit_case mte_tag_node_cases[] = {
	KUNIT_CASE(memmap_lives_outside_tag_node),
	KUNIT_CASE(tag_node_is_movable_only),
	KUNIT_CASE(zero_page_tag_block_is_held),
	{}
};

static struct kunit_suite mte_tag_node_suite = {
	.name = "mte_tag_node",
	.test_cases = mte_tag_node_cases,
};

kunit_test_suites(&mte_tag_arith_suite, &mte_tag_node_suite);
