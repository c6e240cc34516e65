// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tag storage in tag use before tags are written.
 *
 * While tag nodes are active, the tag storage of a data page may be lent
 * out as memory. Before a page's tags are written, the reservation block
 * holding them must be in tag use, which the tag node driver achieves by
 * evacuating the block: that sleeps. Tags are written under the page table
 * lock, where nothing may sleep, so the work is split:
 *
 * - Sleepable paths reserve ahead: the allocation of a folio for a VM_MTE
 *   VMA (anonymous faults, COW, collapse), swap-in before the tags are
 *   restored and the destination of a tagged folio's migration.
 * - mte_sync_tags() only counts pages against blocks already in tag use.
 *   When it cannot, the entry is installed PROT_NONE, and the NUMA hinting
 *   fault that follows reserves the blocks and retries.
 * - Freed tagged pages give their counts back, from any context.
 *
 * Order-0 pages for VM_MTE mappings come, where the policy allows, from a
 * per-CPU chunk: the data pages one reservation block serves. Tagged pages
 * then share blocks instead of each putting a block of its own in tag use.
 *
 * Tags that arrive for a page whose storage cannot be written at that
 * point (a copy or a swap-in whose claim failed, or a swap-in into a tag
 * node page) are held aside, and written when the page is first mapped
 * with its storage in use.
 */

#include <linux/cpuhotplug.h>
#include <linux/cpuset.h>
#include <linux/gfp.h>
#include <linux/local_lock.h>
#include <linux/mempolicy.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mte_tag_node.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/vmstat.h>
#include <linux/xarray.h>

#include <asm/mte.h>

static bool vma_takes_tag_storage(struct vm_area_struct *vma)
{
	return (vma->vm_flags & VM_MTE) && mte_tag_node_active();
}

static bool folio_tag_storage_ready(struct folio *folio)
{
	return mte_tag_pages_ready(folio_page(folio, 0), folio_nr_pages(folio));
}

static int reserve_folio_tag_storage(struct folio *folio)
{
	return mte_tag_reserve_pages(folio_page(folio, 0), folio_nr_pages(folio));
}

/**
 * arch_prepare_vma_folio() - reserve tag storage for a VM_MTE folio
 * @vma: the VMA the folio is for
 * @folio: a new folio or one read from swap, not mapped in @vma yet
 *
 * Called where the caller may sleep, so that mapping the folio (or
 * copying tags into it, for COW and collapse, or restoring them on
 * swap-in) finds its tag storage in use. Failure is not fatal:
 * mte_sync_tags() then maps the folio PROT_NONE and the hinting fault
 * tries again.
 */
void arch_prepare_vma_folio(struct vm_area_struct *vma, struct folio *folio)
{
	if (vma_takes_tag_storage(vma) && !folio_tag_storage_ready(folio))
		reserve_folio_tag_storage(folio);
}

/**
 * arch_protnone_needs_prepare() - was a VM_MTE entry deferred for tags?
 * @vma: the faulting VMA
 * @folio: the folio the PROT_NONE entry maps
 *
 * Called under the page table lock. A folio on a tag node is left to
 * the NUMA hinting fault, which moves it off (see mpol_misplaced()), but
 * only takes it from the LRU: one still in a CPU's LRU batch would fault
 * again and again for as long as that CPU adds no page to its batch.
 *
 * Return: true if the folio's tag storage holds data, or if the folio is
 * on a tag node and not on the LRU.
 */
bool arch_protnone_needs_prepare(struct vm_area_struct *vma, struct folio *folio)
{
	if (!vma_takes_tag_storage(vma))
		return false;
	if (mte_is_tag_node(folio_nid(folio)))
		return !folio_test_lru(folio);
	return !folio_tag_storage_ready(folio);
}

/*
 * Packing. A chunk is naturally aligned and as large as the largest block
 * span, so that it lies in one block. Its block is reserved when it is
 * allocated, then its pages go to the order-0 faults of VM_MTE mappings on
 * this CPU, one by one. 1% of a heap tagged then puts about 1% of the
 * blocks it touches in tag use, not nearly all of them.
 */
struct mte_tag_chunk {
	local_lock_t lock;	/* guards the fields below on this CPU */
	struct page *next;
	unsigned int left;
};

static DEFINE_PER_CPU(struct mte_tag_chunk, mte_tag_chunk) = {
	.lock = INIT_LOCAL_LOCK(lock),
};

/* 0 until the regions are known, and while packing is off. */
static unsigned int mte_tag_chunk_order;

static struct page *take_chunk_page(void)
{
	struct mte_tag_chunk *chunk;
	struct page *page = NULL;

	local_lock(&mte_tag_chunk.lock);
	chunk = this_cpu_ptr(&mte_tag_chunk);
	if (chunk->left) {
		page = chunk->next++;
		chunk->left--;
	}
	local_unlock(&mte_tag_chunk.lock);
	return page;
}

static void free_chunk_pages(struct page *page, unsigned int nr)
{
	while (nr--)
		__free_page(page++);
}

/*
 * Keep the rest of a new chunk, unless this CPU got one meanwhile, or the
 * task moved to a CPU of another node while it was allocated.
 */
static void keep_chunk_pages(struct page *page, unsigned int nr)
{
	struct mte_tag_chunk *chunk;

	local_lock(&mte_tag_chunk.lock);
	chunk = this_cpu_ptr(&mte_tag_chunk);
	if (!chunk->left && page_to_nid(page) == numa_node_id()) {
		chunk->next = page;
		chunk->left = nr;
		nr = 0;
	}
	local_unlock(&mte_tag_chunk.lock);
	free_chunk_pages(page, nr);
}

/*
 * A new chunk on this CPU's node, without reclaim: when none is free, the
 * fault is served as without packing. Its block is reserved now if that
 * moves nothing. A chunk whose block holds data is given back: packing
 * never evacuates, the unpacked fault does, ahead in runs, and waits for
 * pinned pages or relocates its page as it must.
 */
static struct page *new_chunk_page(void)
{
	unsigned int order = mte_tag_chunk_order;
	gfp_t gfp = (GFP_HIGHUSER_MOVABLE & ~__GFP_RECLAIM) | __GFP_THISNODE | __GFP_NOWARN;
	struct page *page = alloc_pages_node(numa_node_id(), gfp, order);

	if (!page)
		return NULL;
	if (!mte_tag_claim_is_cheap(page, 1UL << order) ||
	    mte_tag_reserve_pages(page, 1UL << order)) {
		__free_pages(page, order);
		return NULL;
	}
	split_page(page, order);
	keep_chunk_pages(page + 1, (1U << order) - 1);
	return page;
}

/* The task may allocate on this CPU's node by default: no policy says otherwise. */
static bool local_node_allowed(struct vm_area_struct *vma)
{
	return !vma_policy(vma) && !current->mempolicy &&
	       node_isset(numa_node_id(), cpuset_current_mems_allowed);
}

/**
 * mte_tag_alloc_packed_folio() - an order-0 folio for a VM_MTE fault, packed
 * @vma: the VM_MTE VMA faulting
 * @vaddr: the faulting address
 *
 * Sleeps. The page's tag storage is in tag use unless reserving it failed
 * since the chunk was made; the caller zeroes and tags the page.
 *
 * Return: a page of this CPU's chunk, or NULL if the caller must allocate
 * as usual: packing is off, the VMA or task has a memory policy of its own,
 * or no chunk could be allocated.
 */
struct folio *mte_tag_alloc_packed_folio(struct vm_area_struct *vma, unsigned long vaddr)
{
	struct page *page;

	if (!mte_tag_chunk_order || !local_node_allowed(vma))
		return NULL;
	page = take_chunk_page();
	if (page && !mte_tag_pages_ready(page, 1))
		mte_tag_reserve_pages(page, 1);
	if (!page)
		page = new_chunk_page();
	return page ? page_folio(page) : NULL;
}

/* A CPU that went away leaves its chunk: give the pages back. */
static int mte_tag_chunk_dead(unsigned int cpu)
{
	struct mte_tag_chunk *chunk = per_cpu_ptr(&mte_tag_chunk, cpu);

	free_chunk_pages(chunk->next, chunk->left);
	chunk->left = 0;
	return 0;
}

/* Chunks as large as the largest block span, at most a pageblock. */
static int __init mte_tag_chunk_init(void)
{
	unsigned long span = 0;
	int i, ret;

	if (!mte_tag_node_active())
		return 0;
	for (i = 0; i < mte_tag_nr_regions(); i++)
		span = max(span, mte_tag_block_span(mte_tag_region(i)));
	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "arm64/mte_tag_chunk:dead",
					NULL, mte_tag_chunk_dead);
	if (ret < 0) {
		pr_warn("MTE: tag storage packing off: no CPU hotplug state (%d)\n", ret);
		return 0;
	}
	mte_tag_chunk_order = min_t(unsigned int, get_order(span * PAGE_SIZE), pageblock_order);
	return 0;
}
late_initcall(mte_tag_chunk_init);

/* Candidates tried beyond the pages of busy blocks, for a pin that is new. */
#define MTE_TAG_RELOCATION_TRIES	8
/*
 * At most this many pages of busy blocks are skipped for one relocation:
 * when many blocks fail at once (a full tag node under churn), a fault
 * gives up after a bounded amount of work and is retried instead.
 */
#define MTE_TAG_RELOCATION_MAX_SKIP	1024

/*
 * Candidates a relocation may try: every page of a busy block, up to
 * MTE_TAG_RELOCATION_MAX_SKIP, and MTE_TAG_RELOCATION_TRIES more. Read
 * again after each candidate: the allocator hands out a block's data
 * pages together, so a candidate whose block just failed to evacuate is
 * followed by more of that block, which must not use up the tries.
 */
static unsigned long relocation_tries(void)
{
	return min(mte_tag_busy_data_pages(), MTE_TAG_RELOCATION_MAX_SKIP) +
	       MTE_TAG_RELOCATION_TRIES;
}

/*
 * A folio of @src's node and order whose tag storage is in tag use. A
 * candidate whose blocks cannot be reserved either is kept aside until a
 * usable one is found, or the allocator would hand it out again. Pages
 * freed by earlier relocations lie in busy blocks and come back first:
 * up to all of those are skipped, each at the cost of an allocation.
 */
static struct folio *alloc_relocation_target(struct folio *src, unsigned long private)
{
	struct folio *folio = NULL, *rejected, *next;
	LIST_HEAD(rejects);
	unsigned long i;
	int ret;

	for (i = 0; i < relocation_tries(); i++) {
		folio = __folio_alloc(GFP_HIGHUSER_MOVABLE | __GFP_THISNODE | __GFP_NOWARN,
				      folio_order(src), folio_nid(src), NULL);
		if (!folio)
			break;
		ret = reserve_folio_tag_storage(folio);
		if (!ret)
			break;
		list_add(&folio->lru, &rejects);
		folio = NULL;
		if (ret != -EBUSY)
			break;
	}
	list_for_each_entry_safe(rejected, next, &rejects, lru) {
		list_del(&rejected->lru);
		folio_put(rejected);
	}
	return folio;
}

/*
 * The folio's tag storage cannot be evacuated (a page in the block is
 * pinned): move the folio to other memory of its node whose tag storage
 * is in use, so that the retried fault maps it at once. Drops the
 * caller's reference, which migration would take for a pin.
 *
 * Return: true if the folio moved.
 */
static bool relocate_folio(struct folio *folio)
{
	LIST_HEAD(folios);
	bool isolated = isolate_folio_to_list(folio, &folios);

	folio_put(folio);
	if (!isolated)
		return false;
	if (migrate_pages(&folios, alloc_relocation_target, NULL, 0, MIGRATE_SYNC,
			  MR_NUMA_MISPLACED, NULL)) {
		putback_movable_pages(&folios);
		return false;
	}
	count_vm_event(MTE_TAG_RELOCATED);
	return true;
}

/**
 * arch_protnone_prepare() - put a deferred folio's tag storage in use
 * @vma: the faulting VMA
 * @folio: the folio, with a reference from the caller that this drops;
 *	no page table lock held
 *
 * Sleeps. The caller retries the fault, which then maps the folio tagged,
 * or, for a folio on a tag node, moves it off once the LRU batches are
 * drained. When neither the storage nor the folio can move (both hold
 * pinned pages), the retry is put off until the busy block is tried again.
 */
void arch_protnone_prepare(struct vm_area_struct *vma, struct folio *folio)
{
	struct page *page = folio_page(folio, 0);

	if (mte_is_tag_node(folio_nid(folio))) {
		folio_put(folio);
		lru_add_drain_all();
		return;
	}

	if (reserve_folio_tag_storage(folio) != -EBUSY)
		folio_put(folio);
	else if (!relocate_folio(folio))
		mte_tag_wait_busy(page);
}

/**
 * arch_prepare_migration() - prepare the destination of a migration
 * @src: the folio to migrate, isolated and not locked
 * @dst: its new folio
 * @mode: the migration mode
 *
 * The tags of a tagged folio are copied with its data, so the tag storage
 * of @dst must be in use first. Only fully synchronous migration waits for
 * an evacuation: background and direct compaction (asynchronous or
 * MIGRATE_SYNC_LIGHT) run with folios isolated and may themselves be
 * serving an evacuation, so they move a tagged folio only to memory whose
 * tag storage is already in use.
 *
 * Return: true if the migration may go on, false to retry it later.
 */
bool arch_prepare_migration(struct folio *src, struct folio *dst, enum migrate_mode mode)
{
	if (!mte_tag_node_active() || folio_tag_storage_ready(dst) || !mte_folio_tagged(src))
		return true;
	if (mode != MIGRATE_SYNC)
		return false;
	return !reserve_folio_tag_storage(dst);
}

/*
 * Tags held for untagged pages, by pfn: MTE_PAGE_TAG_STORAGE bytes each, as
 * mte_save_page_tags() lays them out. mte_sync_tags() writes them instead
 * of zero tags, migration carries them to the new page, swap-out saves
 * them, and freeing the page drops them. Pages may be freed with
 * interrupts off, hence the irqsave locking.
 */
static DEFINE_XARRAY_FLAGS(held_tags, XA_FLAGS_LOCK_IRQ);

/* Takes over @tags, a kmalloc() buffer, as the held tags of @pfn. */
static bool hold_tags(unsigned long pfn, void *tags)
{
	unsigned long flags;
	void *old;

	xa_lock_irqsave(&held_tags, flags);
	old = __xa_store(&held_tags, pfn, tags, GFP_ATOMIC | __GFP_NOWARN);
	xa_unlock_irqrestore(&held_tags, flags);
	if (xa_is_err(old)) {
		kfree(tags);
		return false;
	}
	kfree(old);
	return true;
}

static void *take_held_tags(unsigned long pfn)
{
	unsigned long flags;
	void *tags;

	if (xa_empty(&held_tags))
		return NULL;
	xa_lock_irqsave(&held_tags, flags);
	tags = __xa_erase(&held_tags, pfn);
	xa_unlock_irqrestore(&held_tags, flags);
	return tags;
}

/* A buffer for tags from any context; counts the tags lost if there is none. */
static void *alloc_held_tags(void)
{
	void *tags = kmalloc(MTE_PAGE_TAG_STORAGE, GFP_ATOMIC | __GFP_NOWARN);

	if (!tags)
		count_vm_event(MTE_TAG_DROPPED);
	return tags;
}

static bool hold_new_tags(struct page *page, void *tags)
{
	if (!hold_tags(page_to_pfn(page), tags)) {
		count_vm_event(MTE_TAG_DROPPED);
		return false;
	}
	count_vm_event(MTE_TAG_HELD);
	return true;
}

/**
 * mte_tag_hold_copy() - keep the tags of a copy whose destination cannot take them
 * @to: the untagged destination, whose tag storage holds data
 * @from: the tagged source
 *
 * Any context.
 *
 * Return: false if there was no memory to hold the tags: they are lost.
 */
bool mte_tag_hold_copy(struct page *to, struct page *from)
{
	void *tags = alloc_held_tags();

	if (!tags)
		return false;
	mte_save_page_tags(page_address(from), tags);
	return hold_new_tags(to, tags);
}

/**
 * mte_tag_hold_restore() - keep tags read from swap that a page cannot take
 * @page: the untagged page, on a tag node or with its tag storage in data use
 * @tags: the saved tags, which the caller keeps
 *
 * Any context.
 *
 * Return: false if there was no memory to hold the tags: they are lost.
 */
bool mte_tag_hold_restore(struct page *page, const void *tags)
{
	void *held = alloc_held_tags();

	if (!held)
		return false;
	memcpy(held, tags, MTE_PAGE_TAG_STORAGE);
	return hold_new_tags(page, held);
}

/**
 * __mte_tag_restore_held() - give a page being tagged the tags held for it
 * @page: a page whose tags the caller may write (it set PG_mte_lock)
 *
 * Return: true if tags were held and are now written; false if the caller
 * initialises the tags itself.
 */
bool __mte_tag_restore_held(struct page *page)
{
	void *tags = take_held_tags(page_to_pfn(page));

	if (!tags)
		return false;
	mte_restore_page_tags(page_address(page), tags);
	kfree(tags);
	return true;
}

/**
 * __mte_tag_copy_held() - a copy of the tags held for a page, for swap-out
 * @page: an untagged page, locked
 *
 * The held tags stay until the page is tagged or freed. Sleeps.
 *
 * Return: a kmalloc() buffer the caller owns; NULL if no tags are held for
 * @page; ERR_PTR(-ENOMEM).
 */
void *__mte_tag_copy_held(struct page *page)
{
	unsigned long flags;
	void *copy, *held;

	if (xa_empty(&held_tags))
		return NULL;
	copy = kmalloc(MTE_PAGE_TAG_STORAGE, GFP_KERNEL);
	if (!copy)
		return ERR_PTR(-ENOMEM);
	xa_lock_irqsave(&held_tags, flags);
	held = xa_load(&held_tags, page_to_pfn(page));
	if (held)
		memcpy(copy, held, MTE_PAGE_TAG_STORAGE);
	xa_unlock_irqrestore(&held_tags, flags);
	if (!held) {
		kfree(copy);
		return NULL;
	}
	return copy;
}

/**
 * __mte_tag_move_held() - an untagged page is copied: its held tags go along
 * @to: the destination
 * @from: the untagged source
 */
void __mte_tag_move_held(struct page *to, struct page *from)
{
	void *tags = take_held_tags(page_to_pfn(from));

	if (tags && !hold_tags(page_to_pfn(to), tags))
		count_vm_event(MTE_TAG_DROPPED);
}

static void drop_held_tags(struct page *page, int order)
{
	unsigned long pfn = page_to_pfn(page), index, flags;
	void *tags;

	if (xa_empty(&held_tags))
		return;
	xa_lock_irqsave(&held_tags, flags);
	xa_for_each_range(&held_tags, index, tags, pfn, pfn + (1UL << order) - 1) {
		__xa_erase(&held_tags, index);
		kfree(tags);
	}
	xa_unlock_irqrestore(&held_tags, flags);
}

/**
 * arch_free_page_prepare() - a block of pages is being freed
 * @page: its first page, flags not yet cleared
 * @order: its order
 *
 * Any context: tagged pages give back their count on their tag block, and
 * tags held for untagged ones are dropped.
 */
void arch_free_page_prepare(struct page *page, int order)
{
	if (static_branch_unlikely(&mte_tag_counting)) {
		__mte_tag_free_pages(page, order);
		drop_held_tags(page, order);
	}
}
