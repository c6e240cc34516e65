/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The mixed PROT_MTE workload: threads that allocate, tag, verify, free,
 * mprotect, fork and page out memory at random. mte-numa bench runs it to
 * measure reservation latency under load; guest/stress runs it for minutes
 * to find corruption. See mix.c.
 */
#ifndef MTE_NUMA_MIX_H
#define MTE_NUMA_MIX_H

#include <stdbool.h>

enum mix_op {
	MIX_ALLOC, MIX_VERIFY, MIX_REWRITE, MIX_FREE, MIX_MPROTECT, MIX_FORK, MIX_PAGEOUT,
	NR_MIX_OPS
};

extern const char *const mix_op_names[NR_MIX_OPS];

struct mix_config {
	int threads;		/* worker threads */
	double seconds;		/* how long they run */
	int slots;		/* objects each thread keeps at most */
	unsigned long max_pages;	/* largest small object, in pages */
	bool thp;		/* also 2 MiB objects, MADV_HUGEPAGE */
	bool fork;		/* the fork op: a child verifies and writes its copy */
	bool pageout;		/* the MADV_PAGEOUT op: swap out, verify on swap-in */
	int tag_node;		/* untagged objects may prefer it; -1: none */
	unsigned long seed;
};

struct mix_counts {
	unsigned long ops[NR_MIX_OPS];
	unsigned long bytes_written;
	unsigned long checksum_errors;	/* objects whose data changed */
	unsigned long tag_errors;	/* objects whose tags (read with LDG) changed */
	unsigned long tag_faults;	/* unexpected SEGV_MTESERR: tags LDG said were right */
	unsigned long child_failures;	/* fork children that found an error, or died */
	unsigned long syscall_failures;	/* mmap, mprotect, madvise, fork, waitpid */
	unsigned long paged_out_pages;	/* pages found not resident after MADV_PAGEOUT */
	unsigned long swapin_verifies;	/* verifications of objects paged out since */
	unsigned long errors_after_swapin;	/* errors above found by those */
};

/* Runs the workload; 0, or -errno if it cannot run here (not arm64, no MTE). */
int mix_run(const struct mix_config *cfg, struct mix_counts *total);

/* Errors of any kind in @c. */
unsigned long mix_errors(const struct mix_counts *c);

#endif /* MTE_NUMA_MIX_H */
