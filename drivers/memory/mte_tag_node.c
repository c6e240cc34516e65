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

#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/kasan-enabled.h>
#include <linux/kobject.h>
#include <linux/memory.h>
#include <linux/memory-tiers.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mte_tag_node.h>
#include <linux/rmap.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/vmstat.h>

#include <asm/cpufeature.h>
#include <asm/mte.h>

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
 * @MTE_BLOCK_FIRMWARE: outside the hot-plugged part; reserved for the
 *	hardware from boot
 * @MTE_BLOCK_NR_STATES: number of states
 */
enum mte_block_state {
	MTE_BLOCK_DATA,
	MTE_BLOCK_EVACUATING,
	MTE_BLOCK_TAGS,
	MTE_BLOCK_FIRMWARE,
	MTE_BLOCK_NR_STATES,
};

static const char mte_block_symbol[MTE_BLOCK_NR_STATES] = {
	[MTE_BLOCK_DATA] = '.',
	[MTE_BLOCK_EVACUATING] = 'E',
	[MTE_BLOCK_TAGS] = 'T',
	[MTE_BLOCK_FIRMWARE] = '-',
};

/**
 * struct mte_tag_node - driver state of one tag storage region
 * @region: the region, as found at boot
 * @state: enum mte_block_state of each block, readable without locks
 * @tagged: per block, the number of tagged data pages whose tags it holds
 * @kobj: /sys/kernel/mm/mte_tag_node/region<N>, N its index
 */
struct mte_tag_node {
	const struct mte_tag_region *region;
	u8 *state;
	atomic_t *tagged;
	struct kobject kobj;
};

static struct mte_tag_node *mte_tag_node_list;
static int mte_tag_node_count;
static enum mte_tag_mode mte_tag_mode;
static const char *mte_tag_mode_reason = "no tag storage region in the device tree";
static struct memory_dev_type *mte_tag_memtype;
static LIST_HEAD(mte_tag_memory_types);

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

static enum mte_block_state block_state(const struct mte_tag_node *tn,
					unsigned long block)
{
	return READ_ONCE(tn->state[block]);
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

/* Take the block serving tagged data page @pfn for tags before it goes online. */
static void __init hold_block_for(struct mte_tag_node *tn, unsigned long pfn)
{
	unsigned long block = mte_tag_block_of(tn->region, pfn);

	if (atomic_inc_return(&tn->tagged[block]) > 1 ||
	    tn->state[block] == MTE_BLOCK_FIRMWARE)
		return;
	tn->state[block] = MTE_BLOCK_TAGS;
	count_vm_event(MTE_TAG_RESERVE);
}

/*
 * The zero page had its tags cleared when MTE was enabled, and the kernel
 * may have tagged other pages before this driver runs: their blocks must be
 * in tag use before the tag node's memory reaches the page allocator.
 */
static void __init hold_blocks_tagged_at_boot(struct mte_tag_node *tn)
{
	const struct mte_tag_region *r = tn->region;
	unsigned long pfn, zero_pfn = page_to_pfn(ZERO_PAGE(0));

	if (mte_tag_serves_pfn(r, zero_pfn))
		hold_block_for(tn, zero_pfn);

	for (pfn = r->data_start; pfn < r->data_start + r->data_pages; pfn++) {
		struct page *page = pfn_to_online_page(pfn);

		if (page && pfn != zero_pfn && page_mte_tagged(page))
			hold_block_for(tn, pfn);
		if (!(pfn % (SZ_1G >> PAGE_SHIFT)))
			cond_resched();
	}
}

static int __init alloc_block_map(struct mte_tag_node *tn)
{
	const struct mte_tag_region *r = tn->region;
	unsigned long nr = mte_tag_nr_blocks(r), first, last, block;

	tn->state = kvcalloc(nr, sizeof(*tn->state), GFP_KERNEL);
	tn->tagged = kvcalloc(nr, sizeof(*tn->tagged), GFP_KERNEL);
	if (!tn->state || !tn->tagged)
		return -ENOMEM;

	first = block_of_tag_pfn(tn, r->plug_start);
	last = block_of_tag_pfn(tn, r->plug_start + r->plug_pages);
	for (block = 0; block < nr; block++)
		if (block < first || block >= last)
			tn->state[block] = MTE_BLOCK_FIRMWARE;
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

	ret = alloc_block_map(tn);
	if (ret)
		return ret;
	if (mte_tag_mode == MTE_TAG_MODE_ACTIVE) {
		hold_blocks_tagged_at_boot(tn);
		mte_tag_node_mark(r->nid, true);
	}
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

static struct attribute *mte_tag_attrs[] = {
	&mode_attr.attr,
	&reason_attr.attr,
	&adistance_attr.attr,
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
	seq_puts(m, "# legend: . data  E evacuating  T tags  - reserved (not hot-plugged)\n");
	for (block = 0; block < nr; block++) {
		if (!(block % BLOCK_MAP_COLUMNS))
			seq_printf(m, "%s%08lx ", block ? "\n" : "", block);
		seq_putc(m, mte_block_symbol[block_state(tn, block)]);
	}
	seq_putc(m, '\n');
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(block_map);

/* debugfs: check that no tag node page is tagged or mapped by VM_MTE */

/**
 * struct mte_tag_audit - what a walk of the tag nodes found
 * @pages: online pages looked at
 * @tagged: pages with initialised tags: tag storage holding tags of its own
 * @mte_mapped: mappings of tag node folios in VM_MTE VMAs; one only waits
 *	for its first access to move the folio away, so after the accesses
 *	of a test this must be zero too
 * @busy: mapped folios that were locked, so not looked at
 */
struct mte_tag_audit {
	unsigned long pages;
	unsigned long tagged;
	unsigned long mte_mapped;
	unsigned long busy;
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

static void audit_region(const struct mte_tag_region *r, struct mte_tag_audit *audit)
{
	unsigned long pfn = r->plug_start, end = r->plug_start + r->plug_pages;

	while (pfn < end) {
		unsigned long nr = min(audit_pfn(pfn, audit), end - pfn);

		audit->pages += nr;
		pfn += nr;
		cond_resched();
	}
}

static int verify_show(struct seq_file *m, void *v)
{
	struct mte_tag_audit audit = {};
	int i;

	for (i = 0; i < mte_tag_node_count; i++)
		audit_region(mte_tag_node_list[i].region, &audit);
	seq_printf(m, "pages %lu\ntagged %lu\nmte_mapped %lu\nbusy %lu\nviolations %lu\n",
		   audit.pages, audit.tagged, audit.mte_mapped, audit.busy,
		   audit.tagged + audit.mte_mapped);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(verify);

static void __init register_debugfs(void)
{
	struct dentry *top = debugfs_create_dir("mte_tag_node", NULL);
	int i;

	debugfs_create_file("verify", 0400, top, NULL, &verify_fops);

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
