// SPDX-License-Identifier: GPL-2.0-only
/*
 * Early discovery of MTE tag storage regions that can be lent out as
 * CPU-less NUMA nodes.
 *
 * Firmware describes each region as a /reserved-memory child with
 * compatible "arm,mte-tag-storage" and "no-map". A kernel that does not
 * know the binding leaves the range reserved, which is what the hardware
 * needs. This file validates every region before the page allocator exists,
 * takes the hot-pluggable part out of memblock so that it gets neither a boot
 * memmap nor a linear mapping, and gives each region a possible node id. The
 * tag node driver (drivers/memory/mte_tag_node.c) hot-plugs it later.
 *
 * A region that fails validation is left as the reserved-memory code set it
 * up: reserved, never used as data. Boot always continues.
 */

#define pr_fmt(fmt) "mte_tag_node: " fmt

#include <linux/cpumask.h>
#include <linux/kernel.h>
#include <linux/memblock.h>
#include <linux/memory.h>
#include <linux/mempolicy.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mte_tag_node.h>
#include <linux/numa.h>
#include <linux/of.h>
#include <linux/of_fdt.h>
#include <linux/of_reserved_mem.h>
#include <linux/pfn.h>
#include <linux/sort.h>
#include <linux/string.h>

#include <asm/cacheflush.h>
#include <asm/mte.h>
#include <asm/mte-def.h>
#include <asm/numa.h>

static struct mte_tag_region mte_tag_regions[MTE_TAG_MAX_REGIONS] __ro_after_init;
static int mte_tag_nr_accepted __ro_after_init;
static int mte_tag_nr_seen __initdata;
static bool mte_tag_cmdline_off __ro_after_init;

/* Nodes that must never hold a tagged page; the tag node driver fills it. */
nodemask_t mte_tag_nodes __read_mostly;
/* The complement: the nodes a VM_MTE mapping may take its folios from. */
static nodemask_t mte_tagged_nodes_allowed __read_mostly = NODE_MASK_ALL;

static int __init mte_tag_node_param(char *arg)
{
	bool on;

	if (kstrtobool(arg, &on)) {
		pr_err("invalid mte_tag_node=%s (expected on or off), keeping it on\n",
		       arg ? arg : "");
		return 0;
	}
	mte_tag_cmdline_off = !on;
	return 0;
}
early_param("mte_tag_node", mte_tag_node_param);

/**
 * mte_tag_node_disabled_by_cmdline() - was the feature turned off at boot?
 *
 * Return: true if "mte_tag_node=off" was given.
 */
bool mte_tag_node_disabled_by_cmdline(void)
{
	return mte_tag_cmdline_off;
}

/**
 * mte_tag_node_mark() - make a node a tag node, or stop it being one
 * @nid: the node of a tag storage region
 * @tag_node: true before the region's memory goes online, false if it
 *	did not
 */
void mte_tag_node_mark(int nid, bool tag_node)
{
	if (tag_node) {
		node_set(nid, mte_tag_nodes);
		node_clear(nid, mte_tagged_nodes_allowed);
	} else {
		node_clear(nid, mte_tag_nodes);
		node_set(nid, mte_tagged_nodes_allowed);
	}
}

/**
 * arch_vma_allowed_nodes() - nodes that may back the folios of a VMA
 * @vma: the VMA a folio is allocated for
 *
 * Tagged mappings must not take memory from tag nodes, under any policy.
 *
 * Return: every node but the tag nodes for a VM_MTE mapping while tag
 * nodes are in use, else NULL: any node the policy names.
 */
nodemask_t *arch_vma_allowed_nodes(struct vm_area_struct *vma)
{
	if (!(vma->vm_flags & VM_MTE) || !mte_tag_node_active())
		return NULL;
	return &mte_tagged_nodes_allowed;
}

/**
 * mte_folio_tagged() - does a folio hold a page with initialised tags?
 * @folio: the folio
 *
 * Return: true if any page of @folio is tagged.
 */
bool mte_folio_tagged(struct folio *folio)
{
	long i;

	for (i = 0; i < folio_nr_pages(folio); i++)
		if (page_mte_tagged(folio_page(folio, i)))
			return true;
	return false;
}

/**
 * arch_folio_allowed_on_node() - may a folio be migrated to a node?
 * @folio: the folio to migrate
 * @nid: the node of the destination
 *
 * Demotion, NUMA balancing, move_pages(), mbind() and migrate_pages() all
 * ask before they copy: tags cannot be stored in tag storage.
 *
 * Return: false if @nid is a tag node and @folio holds a tagged page.
 */
bool arch_folio_allowed_on_node(struct folio *folio, int nid)
{
	return !mte_is_tag_node(nid) || !mte_folio_tagged(folio);
}

/**
 * mte_tag_node_deny_tagged_map() - map a tag node page as a hinting fault
 * @pte: a tagged entry for a page of a tag node, about to be installed
 *
 * An untagged page becomes tagged where it sits when mprotect() adds
 * PROT_MTE, when shmem is mapped with PROT_MTE or when a tagged range is
 * swapped in. Its tags must not be initialised in tag storage, and moving
 * it is impossible here (callers hold the page table lock), so the entry
 * goes in as PROT_NONE: the first access faults, and do_numa_page() moves
 * the folio off the tag node (mpol_misplaced() asks
 * arch_vma_allowed_nodes()), then maps it tagged. A page already tagged
 * here has slipped past a placement check: say so in debug builds.
 *
 * Return: @pte made PROT_NONE, and so untagged.
 */
pte_t mte_tag_node_deny_tagged_map(pte_t pte)
{
	VM_WARN_ON_ONCE(page_mte_tagged(pte_page(pte)));
	return pte_modify(pte, PAGE_NONE);
}

static void invalidate_data_lines(struct page *tag_page)
{
	unsigned long start = (unsigned long)page_address(tag_page);

	dcache_inval_poc(start, start + PAGE_SIZE);
}

/*
 * DC CGVAC cleans the tags of the cache line holding an address. Stepping
 * by the tag granule reaches every line whatever the line size; this only
 * runs when a block goes back to data use, off any fast path.
 */
static void clean_tag_lines(struct page *data_page)
{
	unsigned long addr = (unsigned long)page_address(data_page);
	unsigned long end = addr + PAGE_SIZE;

	for (; addr < end; addr += MTE_GRANULE_SIZE)
		asm volatile(__MTE_PREAMBLE "dc cgvac, %0" : : "r" (addr) : "memory");
	dsb(sy);
}

static const struct mte_tag_cache_ops mte_tag_hw_cache_ops = {
	.invalidate_data = invalidate_data_lines,
	.clean_tags = clean_tag_lines,
};

const struct mte_tag_cache_ops *mte_tag_cache_ops = &mte_tag_hw_cache_ops;

/**
 * mte_tag_nr_regions() - number of valid tag storage regions
 *
 * Return: how many regions passed validation; they are numbered from 0.
 */
int mte_tag_nr_regions(void)
{
	return mte_tag_nr_accepted;
}

/**
 * mte_tag_region() - a valid tag storage region
 * @idx: index, below mte_tag_nr_regions()
 *
 * Return: the region, or NULL if @idx is out of range.
 */
const struct mte_tag_region *mte_tag_region(int idx)
{
	if (idx < 0 || idx >= mte_tag_nr_accepted)
		return NULL;
	return &mte_tag_regions[idx];
}

static bool ranges_overlap(phys_addr_t a, phys_addr_t a_size,
			   phys_addr_t b, phys_addr_t b_size)
{
	return a < b + b_size && b < a + a_size;
}

static bool region_overlaps(const struct mte_tag_binding *b,
			    const struct mte_tag_region *r)
{
	phys_addr_t tag = PFN_PHYS(r->tag_start), tag_size = PFN_PHYS(r->tag_pages);
	phys_addr_t data = PFN_PHYS(r->data_start), data_size = PFN_PHYS(r->data_pages);

	return ranges_overlap(b->tag_base, b->tag_size, tag, tag_size) ||
	       ranges_overlap(b->tag_base, b->tag_size, data, data_size) ||
	       ranges_overlap(b->data_base, b->data_size, tag, tag_size) ||
	       ranges_overlap(b->data_base, b->data_size, data, data_size);
}

static const char *check_shape(const struct mte_tag_binding *b)
{
	if (b->reg_ranges != 1)
		return "reg must hold exactly one (address, size) range";
	if (!b->no_map)
		return "no-map is required (tag storage must stay out of the linear map)";
	if (b->data_ranges != 1 || !b->data_size)
		return "tagged-memory must hold exactly one (address, size) range";
	if (!b->block_size)
		return "block-size is missing or zero";
	if (!PAGE_ALIGNED(b->tag_base) || !PAGE_ALIGNED(b->tag_size) ||
	    !PAGE_ALIGNED(b->data_base) || !PAGE_ALIGNED(b->data_size))
		return "reg and tagged-memory must be page aligned";
	if (b->tag_size * MTE_TAG_DATA_PER_TAG_PAGE != b->data_size)
		return "tag storage size must be 1/32 of the tagged-memory size";
	if (ranges_overlap(b->tag_base, b->tag_size, b->data_base, b->data_size))
		return "tag storage lies inside the tagged memory it serves";
	return NULL;
}

static const char *check_block_size(const struct mte_tag_binding *b,
				    unsigned long memory_block_pages)
{
	unsigned long block_pages = mte_tag_block_pages(PAGE_SIZE, b->block_size);

	if (block_pages > memory_block_pages || memory_block_pages % block_pages)
		return "block-size is not compatible with the page size and memory block size";
	if (PHYS_PFN(b->tag_base) % block_pages || PHYS_PFN(b->tag_size) % block_pages)
		return "reg must start and end on a lcm(PAGE_SIZE, block-size) boundary";
	return NULL;
}

/*
 * Only whole memory blocks can be hot-plugged: use the aligned middle of the
 * tag range and leave the ends reserved.
 */
static void trim_to_memory_blocks(struct mte_tag_region *r,
				  unsigned long memory_block_pages)
{
	unsigned long start = ALIGN(r->tag_start, memory_block_pages);
	unsigned long end = ALIGN_DOWN(r->tag_start + r->tag_pages, memory_block_pages);

	r->plug_start = start;
	r->plug_pages = end > start ? end - start : 0;
}

/**
 * mte_tag_check_binding() - validate one tag-storage node
 * @b: the node as parsed
 * @memory_block_pages: pages in one memory block (the hot-plug unit)
 * @is_ram: tells whether a physical range is memory described by firmware
 * @accepted: regions already accepted, which @b must not overlap
 * @nr_accepted: number of entries in @accepted
 * @r: filled in when @b is valid
 *
 * The rules come from the hardware (tag storage is 1/32 of the data and
 * handed over in blocks of lcm(PAGE_SIZE, block-size)) and from memory
 * hot-plug (only whole memory blocks become a node).
 *
 * Return: NULL if @b is valid, otherwise the rule it breaks.
 */
const char *mte_tag_check_binding(const struct mte_tag_binding *b,
				  unsigned long memory_block_pages,
				  bool (*is_ram)(phys_addr_t base, phys_addr_t size),
				  const struct mte_tag_region *accepted, int nr_accepted,
				  struct mte_tag_region *r)
{
	const char *why;
	int i;

	why = check_shape(b);
	if (!why)
		why = check_block_size(b, memory_block_pages);
	if (why)
		return why;
	/* Accepted regions left memblock already: check them first. */
	for (i = 0; i < nr_accepted; i++)
		if (region_overlaps(b, &accepted[i]))
			return "overlaps another tag storage region";
	if (!is_ram(b->tag_base, b->tag_size) || !is_ram(b->data_base, b->data_size))
		return "reg or tagged-memory lies outside RAM";
	if (b->nid != NUMA_NO_NODE && (b->nid < 0 || b->nid >= MAX_NUMNODES))
		return "numa-node-id is out of range";

	*r = (struct mte_tag_region) {
		.tag_start = PHYS_PFN(b->tag_base),
		.tag_pages = PHYS_PFN(b->tag_size),
		.data_start = PHYS_PFN(b->data_base),
		.data_pages = PHYS_PFN(b->data_size),
		.block_pages = mte_tag_block_pages(PAGE_SIZE, b->block_size),
		.nid = b->nid,
	};
	trim_to_memory_blocks(r, memory_block_pages);
	if (!r->plug_pages)
		return "reg holds no whole memory block, nothing can be hot-plugged";
	return NULL;
}

/* Read a property made of (address, size) pairs in root-node cells. */
static int __init read_ranges(unsigned long node, const char *prop_name,
			      phys_addr_t *base, phys_addr_t *size)
{
	int pair = (dt_root_addr_cells + dt_root_size_cells) * sizeof(__be32);
	const __be32 *prop;
	int len;

	prop = of_get_flat_dt_prop(node, prop_name, &len);
	if (!prop || !len || len % pair)
		return 0;
	*base = dt_mem_next_cell(dt_root_addr_cells, &prop);
	*size = dt_mem_next_cell(dt_root_size_cells, &prop);
	return len / pair;
}

static void __init parse_binding(unsigned long node, const char *name,
				 struct mte_tag_binding *b)
{
	const __be32 *prop;
	int len;

	*b = (struct mte_tag_binding) { .name = name, .nid = NUMA_NO_NODE };
	b->reg_ranges = read_ranges(node, "reg", &b->tag_base, &b->tag_size);
	b->data_ranges = read_ranges(node, "tagged-memory", &b->data_base, &b->data_size);
	b->no_map = of_get_flat_dt_prop(node, "no-map", NULL);

	prop = of_get_flat_dt_prop(node, "block-size", &len);
	if (prop && len == sizeof(*prop))
		b->block_size = be32_to_cpup(prop);
	prop = of_get_flat_dt_prop(node, "numa-node-id", &len);
	if (prop && len == sizeof(*prop))
		b->nid = be32_to_cpup(prop);
}

static bool __init range_is_ram(phys_addr_t base, phys_addr_t size)
{
	return memblock_is_region_memory(base, size);
}

static void __init report_trim(const struct mte_tag_region *r)
{
	unsigned long left = r->tag_pages - r->plug_pages;

	if (!left)
		return;
	pr_warn("%s: tag storage is not aligned to the %lu MiB memory block: hot-plugging %#llx-%#llx, %lu KiB at the ends stay reserved\n",
		r->name, memory_block_size_bytes() / SZ_1M,
		PFN_PHYS(r->plug_start), PFN_PHYS(r->plug_start + r->plug_pages) - 1,
		left << (PAGE_SHIFT - 10));
}

/*
 * Called by the reserved-memory code for each "arm,mte-tag-storage" node,
 * after the range was marked no-map and before sparse_init(). It always
 * returns 0: an error would make the reserved-memory code give the range to
 * the page allocator, and tag storage must never silently become memory.
 */
static int __init mte_tag_storage_setup(struct reserved_mem *rmem)
{
	unsigned long memory_block_pages = PHYS_PFN(memory_block_size_bytes());
	struct mte_tag_region *r = &mte_tag_regions[mte_tag_nr_accepted];
	struct mte_tag_binding b;
	const char *why;

	if (++mte_tag_nr_seen > MTE_TAG_MAX_REGIONS) {
		pr_err("%s: more than %d tag storage regions; this one stays reserved\n",
		       rmem->name, MTE_TAG_MAX_REGIONS);
		return 0;
	}
	parse_binding(rmem->fdt_node, rmem->name, &b);
	if (mte_tag_cmdline_off) {
		pr_info("%s: disabled by mte_tag_node=off; tag storage stays reserved\n",
			rmem->name);
		return 0;
	}
	why = mte_tag_check_binding(&b, memory_block_pages, range_is_ram,
				    mte_tag_regions, mte_tag_nr_accepted, r);
	if (why) {
		pr_err("%s: invalid binding: %s; tag storage stays reserved\n",
		       rmem->name, why);
		return 0;
	}

	strscpy(r->name, rmem->name);
	report_trim(r);
	memblock_remove(PFN_PHYS(r->plug_start), PFN_PHYS(r->plug_pages));
	mte_tag_nr_accepted++;
	return 0;
}

RESERVEDMEM_OF_DECLARE(mte_tag_storage, "arm,mte-tag-storage", mte_tag_storage_setup);

static bool __init node_has_boot_memory(int nid)
{
	unsigned long start, end;
	int i;

	for_each_mem_pfn_range(i, nid, &start, &end, NULL)
		return true;
	return false;
}

static bool __init node_has_cpus(int nid)
{
	struct device_node *dn;

	for_each_of_cpu_node(dn) {
		if (of_node_to_nid(dn) == nid) {
			of_node_put(dn);
			return true;
		}
	}
	return false;
}

/* A tag node must be a node of its own: no boot memory, no CPUs. */
static bool __init nid_is_free(int nid, int region)
{
	int i;

	if (nid < 0 || nid >= MAX_NUMNODES)
		return false;
	if (node_has_boot_memory(nid) || node_has_cpus(nid))
		return false;
	for (i = 0; i < region; i++)
		if (mte_tag_regions[i].nid == nid)
			return false;
	return true;
}

/*
 * The node id is, in order: the binding's numa-node-id; the node firmware
 * gave the tag range in its memory description, if that node holds nothing
 * else; the lowest node id firmware did not use.
 */
static int __init choose_nid(int idx)
{
	struct mte_tag_region *r = &mte_tag_regions[idx];
	int nid;

	if (r->nid != NUMA_NO_NODE)
		return nid_is_free(r->nid, idx) ? r->nid : NUMA_NO_NODE;

	nid = phys_to_target_node(PFN_PHYS(r->plug_start));
	if (nid != NUMA_NO_NODE && nid_is_free(nid, idx))
		return nid;

	nid = first_unset_node(node_possible_map);
	return nid_is_free(nid, idx) ? nid : NUMA_NO_NODE;
}

/*
 * Make @nid possible after NUMA init: NODE_DATA is allocated for every
 * possible node by free_area_init(), and memory hot-plug refuses nodes that
 * are not possible.
 */
static void __init make_node_possible(int nid)
{
	if (node_possible(nid))
		return;
	if (nid >= nr_node_ids)
		alloc_bootmem_cpumask_var(&node_to_cpumask_map[nid]);
	node_set(nid, node_possible_map);
}

static int __init cmp_tag_start(const void *a, const void *b)
{
	const struct mte_tag_region *ra = a, *rb = b;

	return ra->tag_start < rb->tag_start ? -1 : ra->tag_start > rb->tag_start;
}

/**
 * mte_numa_add_tag_nodes() - give every tag storage region a node id
 *
 * Runs after NUMA init and before the node data is allocated. Regions are
 * numbered in address order, whatever the order of the device tree. A
 * region whose node id cannot be used is dropped; its range stays out of
 * memory.
 */
void __init mte_numa_add_tag_nodes(void)
{
	int i, kept = 0;

	sort(mte_tag_regions, mte_tag_nr_accepted, sizeof(mte_tag_regions[0]),
	     cmp_tag_start, NULL);
	for (i = 0; i < mte_tag_nr_accepted; i++) {
		struct mte_tag_region *r = &mte_tag_regions[i];
		int nid = choose_nid(i);

		if (nid == NUMA_NO_NODE) {
			pr_err("%s: numa-node-id %d is in use by CPUs or boot memory, or no node id is left; tag storage stays reserved\n",
			       r->name, r->nid);
			continue;
		}
		r->nid = nid;
		make_node_possible(nid);
		mte_tag_regions[kept++] = *r;
	}
	mte_tag_nr_accepted = kept;
}
