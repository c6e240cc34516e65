/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM mte_tag_node

#if !defined(_TRACE_MTE_TAG_NODE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_MTE_TAG_NODE_H

#include <linux/tracepoint.h>

/*
 * One event per reservation that had to take the region's lock: the fault,
 * copy or migration that needed the block waited @latency_ns for it, lock
 * wait included. @nr_blocks is the run evacuated with it (0 if another task
 * had reserved the block meanwhile), @evacuated the data pages moved out.
 * @isolated: migrating the pages in use did not free the run, and
 * alloc_contig_range() isolated it, draining every CPU's caches.
 */
TRACE_EVENT(mte_tag_reserve,
	    TP_PROTO(int nid, unsigned long block, unsigned long nr_blocks,
		     unsigned long evacuated, int ret, u64 latency_ns, bool isolated),
	    TP_ARGS(nid, block, nr_blocks, evacuated, ret, latency_ns, isolated),
	    TP_STRUCT__entry(__field(int, nid)
			     __field(int, ret)
			     __field(unsigned long, block)
			     __field(unsigned long, nr_blocks)
			     __field(unsigned long, evacuated)
			     __field(u64, latency_ns)
			     __field(bool, isolated)),
	    TP_fast_assign(__entry->nid = nid;
			   __entry->ret = ret;
			   __entry->block = block;
			   __entry->nr_blocks = nr_blocks;
			   __entry->evacuated = evacuated;
			   __entry->latency_ns = latency_ns;
			   __entry->isolated = isolated;),
	    TP_printk("nid=%d block=%lu nr_blocks=%lu evacuated=%lu ret=%d latency_ns=%llu isolated=%d",
		      __entry->nid, __entry->block, __entry->nr_blocks,
		      __entry->evacuated, __entry->ret, __entry->latency_ns,
		      __entry->isolated)
);

/* A block that served no tagged page went back to data use. */
TRACE_EVENT(mte_tag_release,
	    TP_PROTO(int nid, unsigned long block),
	    TP_ARGS(nid, block),
	    TP_STRUCT__entry(__field(int, nid)
			     __field(unsigned long, block)),
	    TP_fast_assign(__entry->nid = nid;
			   __entry->block = block;),
	    TP_printk("nid=%d block=%lu", __entry->nid, __entry->block)
);

#endif /* _TRACE_MTE_TAG_NODE_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
