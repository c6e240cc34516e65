// SPDX-License-Identifier: GPL-2.0-only
/*
 * mte-numa bench: the figures of the performance bar, measured on the
 * running system, each beside its bar.
 *
 *   first touch   MiB/s of anonymous PROT_MTE memory touched for the first
 *                 time, order-0 and THP, with the tag nodes idle and with
 *                 them full of untagged data (so every block needed is
 *                 evacuated); the bar compares each with the feature off,
 *                 a figure of another boot (--baseline). Beside the idle
 *                 touch, the same touch without PROT_MTE: the boot's own
 *                 speed, to tell a slower boot from a slower feature
 *   evacuation    bytes evacuated per second of reservation time, from the
 *                 mte_tag_node:mte_tag_reserve tracepoint, over memcpy of
 *                 as many bytes; and, beside it, over move_pages(2) of as
 *                 many bytes: the kernel's own migration, which bounds any
 *                 evacuation that migrates
 *   efficiency    tagged pages / (32 * B * blocks put in tag use), for bulk
 *                 PROT_MTE memory and for 1% of a heap's pages tagged
 *   latency       reservation latency p50/p99 and histogram, under the
 *                 mixed workload of mix.c with the tag nodes full
 *
 * Only the first touch runs without active tag nodes: it is the baseline.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <numa.h>
#include <numaif.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mte-numa.h"
#include "mix.h"
#include "mte-uapi.h"

#ifndef HWCAP2_MTE
#define HWCAP2_MTE (1 << 18)
#endif

#define PAGE		4096UL
#define THP		(2UL << 20)
#define MIB		(1UL << 20)
#define IDLE_PAUSE_MS	1000	/* before each idle first touch: before_idle_touch() */

/* The bars of BRIEF section 6. */
#define BAR_IDLE	0.95	/* first touch, tag nodes idle, over feature off */
#define BAR_FULL	0.50	/* first touch, tag nodes full, over feature off */
#define BAR_EVACUATION	0.30	/* evacuation over memcpy */
#define BAR_BULK	0.95	/* tag efficiency, bulk */
#define BAR_SCATTERED	0.90	/* tag efficiency, 1% of a heap tagged */

#define TRACEFS		"/sys/kernel/tracing"
#define TRACE_INSTANCE	TRACEFS "/instances/mte-numa-bench"
#define TRACE_EVENT	"events/mte_tag_node/mte_tag_reserve/enable"

/* Latency histogram buckets: below 1 us, 2 us, ... 2^(N-1) us, then the rest. */
#define NR_BUCKETS	24

static const char bench_help[] =
"usage: mte-numa bench [--json] [--quick] [--size MIB] [--repeat N]\n"
"                      [--load-seconds S] [--baseline FILE]\n"
"\n"
"Measure, on this system, the figures of the performance bar and print each\n"
"beside its bar:\n"
"\n"
"  first touch   MiB/s of anonymous PROT_MTE memory touched for the first\n"
"                time (order-0 and THP), with the tag nodes idle, then full\n"
"                of untagged data the bench puts there (all their free\n"
"                memory, MPOL_PREFERRED), so every tag block needed is evacuated;\n"
"                beside it, the share of the idle touches' time spent\n"
"                reserving tag blocks (tracepoint), measured in the same run,\n"
"                and the same idle touch without PROT_MTE: this boot's speed\n"
"  evacuation    bytes evacuated per second of reservation time (tracepoint\n"
"                mte_tag_node:mte_tag_reserve), over memcpy of as many bytes;\n"
"                beside it, move_pages(2) of as many bytes from a tag node,\n"
"                the kernel's own migration, which evacuation cannot beat\n"
"  efficiency    tagged pages / (32 * B * blocks put in tag use): bulk, and\n"
"                1% of the pages of a heap tagged\n"
"  latency       reservation latency p50, p99 and histogram under a mixed\n"
"                load (allocate, tag, verify, free, mprotect, fork) with the\n"
"                tag nodes full\n"
"\n"
"The first-touch bars compare with the feature off (mte_tag_node=off),\n"
"which needs another boot: run mte-numa bench --json there, save it, and\n"
"give it here with --baseline. Without tag nodes only the first touch runs.\n"
"Needs root (tracefs, sysfs), MTE, and a quiet system; takes minutes. The\n"
"debug hardware model, if built and on, is off while it runs.\n"
"\n"
"  --json            print one JSON object instead of the table\n"
"  --quick           small sizes, one repetition: a smoke test, not figures\n"
"  --size MIB        memory touched per measurement (default 256)\n"
"  --repeat N        repetitions of each first touch, the best kept (default 3)\n"
"  --load-seconds S  how long the mixed load runs (default 10)\n"
"  --baseline FILE   the --json output of a run with the feature off\n"
"  -h, --help        this help\n";

struct bench_opts {
	bool json, quick;
	long long size_mib, repeat, load_seconds;
	const char *baseline;
};

/* What the system offers the bench. */
struct system {
	struct feature f;
	bool active;		/* tag nodes in use: everything can run */
	long long block_pages;	/* B: tag pages per block */
	long long release_delay_ms;
	bool tracing;		/* the tracepoint can be read */
	bool model_was_on;	/* the hardware model, switched off meanwhile */
};

struct touch {
	double idle, full;	/* MiB/s, NAN if not measured */
	double untagged;	/* the idle touch without PROT_MTE, MiB/s */
	double thp_share;	/* of the memory touched, the part in huge pages */
	double fill;		/* share of the tag nodes in use, when full */
	double idle_s;		/* seconds spent in the idle touches */
	double idle_reserve_s;	/* of them, in reservations (tracepoint) */
};

struct efficiency {
	long long tagged, blocks;
	double heap_mib;
};

struct latency {
	long long reservations, failed, evacuated, blocks;
	long long isolated;	/* runs alloc_contig_range() had to isolate */
	double total_ns, p50_us, p99_us, max_us;
	long long buckets[NR_BUCKETS + 1];
	struct mix_counts load;
	double fill;		/* share of the tag nodes in use during the load */
};

struct results {
	struct touch order0, thp;
	struct latency evacuation;	/* the events of the full first touches */
	struct latency evac_order0, evac_thp;	/* the same, by page size */
	double memcpy_mib_s, move_pages_mib_s;
	struct efficiency bulk, scattered;
	struct latency mixed;
	double base_order0, base_thp;	/* from --baseline */
};

/* time */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* files */

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		err = -errno;
	close(fd);
	return err;
}

#define HW_MODEL	TAG_DEBUG_DIR "/hw_model"

/*
 * The debug hardware model writes tag storage on every tag write and fills
 * every block that enters tag use, work real hardware does not add: it is
 * off while the bench measures, and back on at the end if it was on.
 */
static void model_off(struct system *s)
{
	char text[4] = "";
	FILE *f = fopen(HW_MODEL, "r");

	if (!f)
		return;
	s->model_was_on = fgets(text, sizeof(text), f) && text[0] == 'Y';
	fclose(f);
	if (s->model_was_on && write_file(HW_MODEL, "N"))
		problem("cannot switch the hardware model off: %s", HW_MODEL);
}

static void model_restore(const struct system *s)
{
	if (s->model_was_on && write_file(HW_MODEL, "Y"))
		problem("cannot switch the hardware model back on: %s", HW_MODEL);
}

/* Blocks in tag use, all regions together; -1 if a count is unreadable. */
static long long blocks_in_tag_use(const struct system *s)
{
	char path[128];
	long long sum = 0;
	int i;

	for (i = 0; i < s->f.nr_regions; i++) {
		struct num n;

		snprintf(path, sizeof(path), "%s/region%d/blocks_tags", TAG_DIR,
			 s->f.regions[i].id);
		n = read_num(path);
		if (!n.ok)
			return -1;
		sum += n.v;
	}
	return sum;
}

/*
 * An unmapped folio can stay in a CPU's LRU batch, which holds a reference
 * to it, until the batch fills or is drained: its tagged pages are not
 * free yet and keep their blocks in tag use. A process that only waits
 * fills no batch, and settle() once waited out its whole bound that way.
 * move_pages(2) drains every CPU's batches before it looks at its pages,
 * even when there are none.
 */
static void drain_lru_batches(void)
{
	int node = 0;

	move_pages(0, 0, NULL, &node, NULL, 0);
}

/* Blocks in tag use once the pages freed so far are free indeed. */
static long long blocks_held(const struct system *s)
{
	drain_lru_batches();
	return blocks_in_tag_use(s);
}

/*
 * Wait until the blocks in tag use fall to @target (or, with @target -1,
 * stop changing for two release delays); the count then.
 */
static long long settle(const struct system *s, long long target)
{
	long long last = blocks_held(s), cur;
	double quiet = 2 * s->release_delay_ms / 1000.0 + 0.5;
	double start = now(), since = start;

	while (now() - start < 4 * quiet + 10) {
		if (target >= 0 && last <= target)
			return last;
		sleep_ms(100);
		cur = blocks_held(s);
		if (cur != last)
			since = now();
		last = cur;
		if (target < 0 && now() - since >= quiet)
			return last;
	}
	if (target >= 0)
		problem("blocks in tag use stayed at %lld, above %lld, for %.0f s", last, target,
			now() - start);
	return last;
}

/* mappings */

/* A THP-aligned mapping: what is around it is given back. */
static char *map_aligned(size_t len, int prot)
{
	char *p = mmap(NULL, len + THP, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t start;

	if (p == MAP_FAILED)
		return NULL;
	start = ((uintptr_t)p + THP - 1) & ~(THP - 1);
	if (start > (uintptr_t)p)
		munmap(p, start - (uintptr_t)p);
	munmap((char *)start + len, (uintptr_t)p + THP - start);
	return (char *)start;
}

static void touch_pages(char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += PAGE)
		((volatile char *)p)[i] = 1;
}

/* AnonHugePages of this process, in bytes. */
static long long anon_huge_bytes(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	long long kb = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %lld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb * 1024;
}

/*
 * Touch @len bytes of new memory, PROT_MTE if @tagged; MiB/s, or NAN if it
 * could not be mapped. @blocks: blocks put in tag use meanwhile, if wanted.
 */
static double first_touch(const struct system *s, size_t len, bool tagged, bool thp,
			  double *huge, long long *blocks)
{
	char *p = map_aligned(len, PROT_READ | PROT_WRITE | (tagged ? PROT_MTE : 0));
	long long before = blocks ? blocks_in_tag_use(s) : 0;
	double t;

	if (!p) {
		problem("cannot map %zu MiB%s: %s", len / MIB, tagged ? " PROT_MTE" : "",
			strerror(errno));
		return NAN;
	}
	madvise(p, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	t = now();
	touch_pages(p, len);
	t = now() - t;
	if (huge)
		*huge = (double)anon_huge_bytes() / len;
	if (blocks)
		*blocks = blocks_in_tag_use(s) - before;
	munmap(p, len);
	return len / (double)MIB / t;
}

/* The tag nodes full: untagged data bound to each */

struct fill {
	char **p;
	size_t *len;
	int nr;
};

/*
 * All the free memory of @node, asked for with MPOL_PREFERRED: the node
 * fills up to its watermarks and the rest spills over to other nodes, with
 * no OOM. Less would not do: blocks given back to data use return their
 * pages to the tail of the free lists, and the next tagged memory, which
 * reuses the data pages just freed, needs exactly those blocks again; a
 * fill that leaves the tail free would leave them empty.
 */
static void fill_node(struct fill *fl, int node)
{
	struct bitmask *mask = numa_allocate_nodemask();
	long long free_bytes = 0;
	size_t len, i;
	char *p;

	numa_node_size64(node, &free_bytes);
	len = (size_t)free_bytes & ~(PAGE - 1);
	p = len ? mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) :
		  MAP_FAILED;
	numa_bitmask_setbit(mask, node);
	if (p == MAP_FAILED ||
	    mbind(p, len, MPOL_PREFERRED, mask->maskp, mask->size + 1, 0)) {
		problem("cannot fill node %d: %s", node, strerror(errno));
		numa_bitmask_free(mask);
		return;
	}
	numa_bitmask_free(mask);
	madvise(p, len, MADV_NOHUGEPAGE);
	for (i = 0; i < len; i += PAGE)
		*(uint64_t *)(p + i) = i ^ 0x6d74656e756d61ULL;
	fl->p = xrealloc(fl->p, (fl->nr + 1) * sizeof(*fl->p));
	fl->len = xrealloc(fl->len, (fl->nr + 1) * sizeof(*fl->len));
	fl->p[fl->nr] = p;
	fl->len[fl->nr++] = len;
}

/* The share of the tag nodes' memory in use. */
static double tag_node_use(const struct system *s)
{
	long long size = 0, free_bytes = 0, f;
	int i;

	for (i = 0; i < s->f.nr_regions; i++) {
		size += numa_node_size64(region_node(&s->f.regions[i]), &f);
		free_bytes += f;
	}
	return size > 0 ? 1 - (double)free_bytes / size : NAN;
}

static void fill_tag_nodes(const struct system *s, struct fill *fl, double *use)
{
	int i;

	memset(fl, 0, sizeof(*fl));
	for (i = 0; i < s->f.nr_regions; i++)
		fill_node(fl, region_node(&s->f.regions[i]));
	*use = tag_node_use(s);
}

/* Free the fill, checking it first: evacuation moved it around. */
static void drain_tag_nodes(struct fill *fl)
{
	size_t i, bad;
	int n;

	for (n = 0; n < fl->nr; n++) {
		for (bad = 0, i = 0; i < fl->len[n]; i += PAGE)
			bad += *(uint64_t *)(fl->p[n] + i) != (i ^ 0x6d74656e756d61ULL);
		if (bad)
			problem("%zu pages of the tag node fill corrupted", bad);
		munmap(fl->p[n], fl->len[n]);
	}
	free(fl->p);
	free(fl->len);
}

/* The tracepoint, in an instance of our own so the global buffer is left alone */

static bool trace_setup(void)
{
	struct stat st;

	if (stat(TRACEFS "/instances", &st) &&
	    mount("nodev", TRACEFS, "tracefs", 0, NULL) && errno != EBUSY) {
		problem("cannot mount tracefs on %s: %s", TRACEFS, strerror(errno));
		return false;
	}
	if (mkdir(TRACE_INSTANCE, 0700) && errno != EEXIST) {
		problem("cannot create %s: %s", TRACE_INSTANCE, strerror(errno));
		return false;
	}
	if (write_file(TRACE_INSTANCE "/buffer_size_kb", "8192"))
		problem("cannot size the trace buffer; events may be lost");
	if (access(TRACE_INSTANCE "/" TRACE_EVENT, W_OK)) {
		problem("no tracepoint %s: %s", TRACE_EVENT, strerror(errno));
		rmdir(TRACE_INSTANCE);
		return false;
	}
	return true;
}

static void trace_teardown(const struct system *s)
{
	if (s->tracing && rmdir(TRACE_INSTANCE))
		problem("cannot remove %s: %s", TRACE_INSTANCE, strerror(errno));
}

static void trace_start(const struct system *s)
{
	if (!s->tracing)
		return;
	write_file(TRACE_INSTANCE "/trace", "");
	if (write_file(TRACE_INSTANCE "/" TRACE_EVENT, "1"))
		problem("cannot enable %s", TRACE_EVENT);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double percentile(const double *sorted, long long nr, double p)
{
	long long i = (long long)ceil(p * nr) - 1;

	if (!nr)
		return NAN;
	return sorted[i < 0 ? 0 : i >= nr ? nr - 1 : i];
}

static void add_event(struct latency *l, double **us, const char *line)
{
	unsigned long block, nr, evacuated;
	unsigned long long ns;
	int nid, ret, isolated, b;
	const char *e = strstr(line, "mte_tag_reserve: ");

	if (!e || sscanf(e, "mte_tag_reserve: nid=%d block=%lu nr_blocks=%lu evacuated=%lu "
			 "ret=%d latency_ns=%llu isolated=%d", &nid, &block, &nr, &evacuated,
			 &ret, &ns, &isolated) != 7)
		return;
	*us = xrealloc(*us, (l->reservations + 1) * sizeof(**us));
	(*us)[l->reservations++] = ns / 1000.0;
	l->failed += ret != 0;
	l->evacuated += evacuated;
	l->blocks += nr;
	l->isolated += isolated;
	l->total_ns += ns;
	for (b = 0; b < NR_BUCKETS && ns >= (1000ULL << b); b++)
		;
	l->buckets[b]++;
}

/* Stop the events; what they said goes into @l. */
static void trace_collect(const struct system *s, struct latency *l)
{
	long long in_buffer, written;
	double *us = NULL;
	char line[512];
	FILE *f;

	memset(l, 0, sizeof(*l));
	l->p50_us = l->p99_us = l->max_us = NAN;
	if (!s->tracing)
		return;
	write_file(TRACE_INSTANCE "/" TRACE_EVENT, "0");
	f = fopen(TRACE_INSTANCE "/trace", "r");
	if (!f) {
		problem("cannot read %s/trace: %s", TRACE_INSTANCE, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "# entries-in-buffer/entries-written: %lld/%lld",
			   &in_buffer, &written) == 2 && in_buffer != written)
			problem("trace buffer overflowed: %lld of %lld events lost",
				written - in_buffer, written);
		add_event(l, &us, line);
	}
	fclose(f);
	qsort(us, l->reservations, sizeof(*us), cmp_double);
	l->p50_us = percentile(us, l->reservations, 0.50);
	l->p99_us = percentile(us, l->reservations, 0.99);
	l->max_us = percentile(us, l->reservations, 1.0);
	free(us);
}

/* The measurements */

static double best_of(double a, double b)
{
	return isnan(a) || b > a ? b : a;
}

/*
 * One first touch with the tag nodes idle, into @t: the time it took, and
 * the part of it the tracepoint saw in reservations. That share is the
 * feature's own cost, measured inside one run; the ratio to the feature
 * off compares boots, which differ by 10% or more under emulation.
 */
static void touch_idle_once(const struct system *s, size_t len, bool thp, struct touch *t,
			    long long *blocks)
{
	struct latency l;
	double mib_s;

	trace_start(s);
	mib_s = first_touch(s, len, true, thp, thp ? &t->thp_share : NULL, blocks);
	trace_collect(s, &l);
	if (isnan(mib_s))
		return;
	t->idle = best_of(t->idle, mib_s);
	t->idle_s += len / (double)MIB / mib_s;
	t->idle_reserve_s += l.total_ns / 1e9;
}

/*
 * Before each idle first touch, on either side of the comparison: the
 * blocks of the last touch back in data use, then a pause. Under emulation
 * a touch made right after the CPU was idle is more often slow, by up to
 * 1.7 times; the feature-on side always has just waited for its blocks,
 * and without the pause would be the only one to pay for that.
 */
static void before_idle_touch(const struct system *s, long long baseline)
{
	if (s->active)
		settle(s, baseline);
	sleep_ms(IDLE_PAUSE_MS);
}

/*
 * The same first touch without PROT_MTE, which no part of the feature is
 * on the path of: how fast this boot runs. Under emulation, touches run up
 * to 1.7 times apart whatever the mode, from boot to boot and within one;
 * this shows how much of a difference between two boots is theirs.
 */
static void touch_untagged(const struct system *s, size_t len, bool thp, struct touch *t,
			   long long baseline)
{
	before_idle_touch(s, baseline);
	t->untagged = best_of(t->untagged, first_touch(s, len, false, thp, NULL, NULL));
}

/* First touch with the tag nodes idle: every block it needs holds no data. */
static void touch_idle(const struct system *s, const struct bench_opts *o, struct results *r,
		       long long baseline)
{
	size_t len = o->size_mib * MIB;
	long long i, blocks;

	for (i = 0; i < o->repeat; i++) {
		before_idle_touch(s, baseline);
		touch_idle_once(s, len, false, &r->order0, s->active ? &blocks : NULL);
		/* Bulk tag efficiency: this allocation, with all blocks in data use first. */
		if (s->active && !i) {
			r->bulk.tagged = len / PAGE;
			r->bulk.blocks = blocks;
		}
		touch_untagged(s, len, false, &r->order0, baseline);
		before_idle_touch(s, baseline);
		touch_idle_once(s, len, true, &r->thp, NULL);
		touch_untagged(s, len, true, &r->thp, baseline);
	}
}

/*
 * First touch with the tag nodes full; the fill is made again for each
 * measurement, as evacuation moves it away from the blocks it frees.
 */
static void touch_full(const struct system *s, const struct bench_opts *o, struct results *r,
		       long long baseline)
{
	size_t len = o->size_mib * MIB;
	struct latency *ev = &r->evacuation;
	struct fill fl;
	long long i;
	int thp;

	for (thp = 0; thp < 2; thp++) {
		struct touch *t = thp ? &r->thp : &r->order0;
		struct latency *l = thp ? &r->evac_thp : &r->evac_order0;

		trace_start(s);
		for (i = 0; i < o->repeat; i++) {
			settle(s, baseline);
			fill_tag_nodes(s, &fl, &t->fill);
			t->full = best_of(t->full, first_touch(s, len, true, thp, NULL, NULL));
			drain_tag_nodes(&fl);
		}
		trace_collect(s, l);
		ev->reservations += l->reservations;
		ev->failed += l->failed;
		ev->evacuated += l->evacuated;
		ev->blocks += l->blocks;
		ev->total_ns += l->total_ns;
	}
}

/* memcpy of the bytes evacuated, best of three: the reference of evacuation. */
static double memcpy_speed(long long bytes)
{
	size_t len = bytes < 1 << 20 ? MIB : bytes > 512LL << 20 ? 512 * MIB : (size_t)bytes;
	char *src = malloc(len), *dst = malloc(len);
	double best = NAN, t;
	int i;

	if (!src || !dst) {
		problem("no memory for the memcpy reference (%zu MiB)", len / MIB);
		free(src);
		free(dst);
		return NAN;
	}
	memset(src, 0x5a, len);
	memset(dst, 0xa5, len);
	for (i = 0; i < 3; i++) {
		t = now();
		memcpy(dst, src, len);
		t = now() - t;
		best = best_of(best, len / (double)MIB / t);
	}
	if (dst[len - 1] != 0x5a)
		problem("memcpy reference copied nothing");
	free(src);
	free(dst);
	return best;
}

/* Did every page of the last move_pages(2) end on @node? */
static bool all_moved(const int *status, size_t nr, int node)
{
	size_t i;

	for (i = 0; i < nr && status[i] == node; i++)
		;
	if (i < nr)
		problem("move_pages reference: page %zu ended on %d, not node %d", i, status[i],
			node);
	return i == nr;
}

/*
 * move_pages(2) of as many bytes, at most 64 MiB of order-0 pages, from the
 * first tag node to the node this runs on, best of three: the kernel's own
 * migration, which evacuation uses and cannot beat.
 */
static double move_pages_speed(const struct system *s, long long bytes)
{
	size_t len = bytes < 1 << 20 ? MIB : bytes > 64LL << 20 ? 64 * MIB : (size_t)bytes;
	int tag_node = region_node(&s->f.regions[0]), cpu_node = numa_node_of_cpu(sched_getcpu());
	size_t i, nr = len / PAGE;
	void **pages = calloc(nr, sizeof(*pages));
	int *to_cpu = calloc(nr, sizeof(int)), *to_tag = calloc(nr, sizeof(int));
	int *status = calloc(nr, sizeof(int));
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double best = NAN, t;
	int round;

	if (p == MAP_FAILED || !pages || !to_cpu || !to_tag || !status || cpu_node < 0) {
		problem("no memory for the move_pages reference (%zu MiB)", len / MIB);
		goto out;
	}
	madvise(p, len, MADV_NOHUGEPAGE);
	for (i = 0; i < nr; i++) {
		pages[i] = p + i * PAGE;
		to_cpu[i] = cpu_node;
		to_tag[i] = tag_node;
		*(uint64_t *)pages[i] = i;
	}
	for (round = 0; round < 3; round++) {
		if (move_pages(0, nr, pages, to_tag, status, MPOL_MF_MOVE) < 0 ||
		    !all_moved(status, nr, tag_node))
			break;
		t = now();
		if (move_pages(0, nr, pages, to_cpu, status, MPOL_MF_MOVE) < 0)
			break;
		t = now() - t;
		if (!all_moved(status, nr, cpu_node))
			break;
		best = best_of(best, len / (double)MIB / t);
	}
	if (isnan(best))
		problem("move_pages reference did not run: %s", strerror(errno));
out:
	if (p != MAP_FAILED)
		munmap(p, len);
	free(pages);
	free(to_cpu);
	free(to_tag);
	free(status);
	return best;
}

/* 1% of a heap's pages tagged, spread through it, then touched in order. */
static void scattered(const struct system *s, const struct bench_opts *o, struct results *r,
		      long long baseline)
{
	size_t len = o->size_mib * MIB, i;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long long before;

	if (p == MAP_FAILED) {
		problem("cannot map the heap: %s", strerror(errno));
		return;
	}
	madvise(p, len, MADV_NOHUGEPAGE);
	for (i = 0; i < len; i += 100 * PAGE) {
		if (mprotect(p + i, PAGE, PROT_READ | PROT_WRITE | PROT_MTE)) {
			problem("cannot mprotect the heap PROT_MTE: %s", strerror(errno));
			break;
		}
		r->scattered.tagged++;
	}
	before = settle(s, baseline);
	touch_pages(p, len);
	r->scattered.blocks = blocks_in_tag_use(s) - before;
	r->scattered.heap_mib = len / (double)MIB;
	munmap(p, len);
}

/* Reservation latency under the mixed workload, the tag nodes full. */
static void mixed_load(const struct system *s, const struct bench_opts *o, struct results *r,
		       long long baseline)
{
	struct mix_config cfg = {
		.threads = 2, .seconds = o->load_seconds, .slots = 16, .max_pages = 16,
		.thp = true, .fork = true, .tag_node = region_node(&s->f.regions[0]), .seed = 1,
	};
	struct mix_counts load;
	struct fill fl;
	int err;

	double fill;

	settle(s, baseline);
	fill_tag_nodes(s, &fl, &fill);
	trace_start(s);
	err = mix_run(&cfg, &load);
	trace_collect(s, &r->mixed);
	r->mixed.fill = fill;
	drain_tag_nodes(&fl);
	if (err) {
		problem("the mixed load did not run: %s", strerror(-err));
		return;
	}
	r->mixed.load = load;
	if (mix_errors(&load))
		problem("the mixed load found %lu errors", mix_errors(&load));
}

/* --baseline: a figure of a saved feature-off run, by its path of keys */

static char *read_whole(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0, got;
	char buf[4096];

	if (!f)
		return NULL;
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
		text = xrealloc(text, len + got + 1);
		memcpy(text + len, buf, got);
		len += got;
	}
	fclose(f);
	if (text)
		text[len] = '\0';
	return text;
}

/*
 * The number at "a", then "b" after it, and so on: enough for the files
 * this command writes, where the keys of each object are unique.
 */
static double lookup(const char *text, const char *const *keys, int nr)
{
	char quoted[64];
	double v;
	int i;

	for (i = 0; i < nr && text; i++) {
		snprintf(quoted, sizeof(quoted), "\"%s\":", keys[i]);
		text = strstr(text, quoted);
		if (text)
			text += strlen(quoted);
	}
	return text && sscanf(text, " %lf", &v) == 1 ? v : NAN;
}

static int load_baseline(const char *path, struct results *r)
{
	static const char *const order0[] = { "first_touch", "order0", "idle_mib_s" };
	static const char *const thp[] = { "first_touch", "thp", "idle_mib_s" };
	char *text = read_whole(path);

	if (!text) {
		msg("bench: cannot read %s: %s", path, strerror(errno));
		return RC_FAIL;
	}
	r->base_order0 = lookup(text, order0, 3);
	r->base_thp = lookup(text, thp, 3);
	if (isnan(r->base_order0) || isnan(r->base_thp)) {
		msg("bench: %s has no first_touch figures: not the --json output of mte-numa bench",
		    path);
		free(text);
		return RC_FAIL;
	}
	if (!strstr(text, "\"mode\": \"off\"") && !strstr(text, "\"mode\": \"none\""))
		problem("%s is not a run with the feature off (mode off or none)", path);
	free(text);
	return RC_OK;
}

/* output */

static double ratio(double a, double b)
{
	return isnan(a) || isnan(b) || b <= 0 ? NAN : a / b;
}

static double tag_efficiency(const struct system *s, const struct efficiency *e)
{
	return e->blocks > 0 ? e->tagged / (32.0 * s->block_pages * e->blocks) : NAN;
}

static double evacuation_mib_s(const struct latency *l)
{
	return l->total_ns > 0 ? l->evacuated * (double)PAGE / MIB / (l->total_ns / 1e9) : NAN;
}

static const char *verdict(double v, double bar)
{
	if (isnan(v))
		return "not measured";
	return v >= bar ? "met" : "BAR NOT MET";
}

static void json_bar(struct json *j, const char *key, double v, double bar)
{
	json_open(j, key, '{');
	json_double(j, "value", v);
	json_double(j, "bar", bar);
	if (isnan(v))
		json_str(j, "met", NULL);
	else
		json_bool(j, "met", v >= bar);
	json_close(j, '}');
}

static void json_touch(struct json *j, const char *key, const struct touch *t, double base)
{
	json_open(j, key, '{');
	json_double(j, "idle_mib_s", t->idle);
	json_double(j, "full_mib_s", t->full);
	json_double(j, "untagged_idle_mib_s", t->untagged);
	json_double(j, "tag_node_use_when_full", t->fill);
	if (key[0] == 't')
		json_double(j, "thp_share", t->thp_share);
	json_double(j, "idle_reserve_share", ratio(t->idle_reserve_s, t->idle_s));
	if (!isnan(base)) {
		json_double(j, "off_mib_s", base);
		json_bar(j, "idle_over_off", ratio(t->idle, base), BAR_IDLE);
		json_bar(j, "full_over_off", ratio(t->full, base), BAR_FULL);
	}
	json_close(j, '}');
}

static void json_efficiency(struct json *j, const struct system *s, const char *key,
			    const struct efficiency *e, double bar)
{
	json_open(j, key, '{');
	if (e->heap_mib > 0)
		json_double(j, "heap_mib", e->heap_mib);
	json_int(j, "tagged_pages", e->tagged);
	json_int(j, "blocks", e->blocks);
	json_bar(j, "efficiency", tag_efficiency(s, e), bar);
	json_close(j, '}');
}

static void json_histogram(struct json *j, const struct latency *l)
{
	int b;

	json_open(j, "histogram", '[');
	for (b = 0; b <= NR_BUCKETS; b++) {
		json_open(j, NULL, '{');
		if (b < NR_BUCKETS)
			json_int(j, "below_us", 1LL << b);
		else
			json_str(j, "below_us", NULL);
		json_int(j, "count", l->buckets[b]);
		json_close(j, '}');
	}
	json_close(j, ']');
}

static void json_latency(struct json *j, const struct latency *l, long long seconds)
{
	int i;

	json_open(j, "latency", '{');
	json_int(j, "load_seconds", seconds);
	json_open(j, "load_ops", '{');
	for (i = 0; i < NR_MIX_OPS; i++)
		json_int(j, mix_op_names[i], l->load.ops[i]);
	json_close(j, '}');
	json_double(j, "tag_node_use", l->fill);
	json_open(j, "load_errors", '{');
	json_int(j, "checksum", l->load.checksum_errors);
	json_int(j, "tags", l->load.tag_errors);
	json_int(j, "tag_faults", l->load.tag_faults);
	json_int(j, "children", l->load.child_failures);
	json_int(j, "syscalls", l->load.syscall_failures);
	json_int(j, "total", mix_errors(&l->load));
	json_close(j, '}');
	json_int(j, "reservations", l->reservations);
	json_int(j, "failed", l->failed);
	json_double(j, "p50_us", l->p50_us);
	json_double(j, "p99_us", l->p99_us);
	json_double(j, "max_us", l->max_us);
	json_histogram(j, l);
	json_close(j, '}');
}

/* The reservations of one page size's full first touches. */
static void json_phase(struct json *j, const char *key, const struct latency *l)
{
	json_open(j, key, '{');
	json_int(j, "reservations", l->reservations);
	json_int(j, "blocks", l->blocks);
	json_int(j, "evacuated_pages", l->evacuated);
	json_int(j, "isolated_runs", l->isolated);
	json_double(j, "reservation_ms", l->total_ns / 1e6);
	json_double(j, "p50_us", l->p50_us);
	json_double(j, "p99_us", l->p99_us);
	json_close(j, '}');
}

static void bench_json(const struct system *s, const struct bench_opts *o,
		       const struct results *r)
{
	const struct latency *ev = &r->evacuation;
	struct json j = { 0 };

	json_open(&j, NULL, '{');
	json_str(&j, "mode", s->f.built ? mode_names[s->f.mode] : "none");
	json_bool(&j, "tag_nodes_active", s->active);
	json_bool(&j, "hw_model_switched_off", s->model_was_on);
	json_bool(&j, "quick", o->quick);
	json_int(&j, "size_mib", o->size_mib);
	json_int(&j, "repeat", o->repeat);
	json_int(&j, "block_pages", s->block_pages);
	json_int(&j, "release_delay_ms", s->release_delay_ms);
	json_open(&j, "first_touch", '{');
	json_touch(&j, "order0", &r->order0, r->base_order0);
	json_touch(&j, "thp", &r->thp, r->base_thp);
	json_close(&j, '}');
	json_open(&j, "evacuation", '{');
	json_int(&j, "reservations", ev->reservations);
	json_int(&j, "blocks", ev->blocks);
	json_int(&j, "evacuated_pages", ev->evacuated);
	json_double(&j, "reservation_ms", ev->total_ns / 1e6);
	json_double(&j, "evacuation_mib_s", evacuation_mib_s(ev));
	json_double(&j, "memcpy_mib_s", r->memcpy_mib_s);
	json_double(&j, "move_pages_mib_s", r->move_pages_mib_s);
	json_double(&j, "over_move_pages", ratio(evacuation_mib_s(ev), r->move_pages_mib_s));
	json_double(&j, "move_pages_over_memcpy", ratio(r->move_pages_mib_s, r->memcpy_mib_s));
	json_phase(&j, "order0", &r->evac_order0);
	json_phase(&j, "thp", &r->evac_thp);
	json_bar(&j, "over_memcpy", ratio(evacuation_mib_s(ev), r->memcpy_mib_s), BAR_EVACUATION);
	json_close(&j, '}');
	json_open(&j, "tag_efficiency", '{');
	json_efficiency(&j, s, "bulk", &r->bulk, BAR_BULK);
	json_efficiency(&j, s, "scattered", &r->scattered, BAR_SCATTERED);
	json_close(&j, '}');
	json_latency(&j, &r->mixed, o->load_seconds);
	json_problems(&j);
	json_close(&j, '}');
}

static void row(const char *figure, const char *value, const char *bar, const char *met)
{
	printf("%-44s %-18s %-22s %s\n", figure, value, bar, met);
}

static void row_touch(const char *figure, double v, double base, double bar)
{
	char value[32], bartext[32];

	snprintf(value, sizeof(value), isnan(v) ? "-" : "%.1f MiB/s", v);
	if (isnan(base)) {
		snprintf(bartext, sizeof(bartext), "off x %.2f", bar);
		row(figure, value, bartext, isnan(v) ? "not measured" : "needs --baseline");
		return;
	}
	snprintf(bartext, sizeof(bartext), "%.2f of off: >= %.2f", ratio(v, base), bar);
	row(figure, value, bartext, verdict(ratio(v, base), bar));
}

static void row_ratio(const char *figure, double v, double bar)
{
	char value[32], bartext[32];

	snprintf(value, sizeof(value), isnan(v) ? "-" : "%.3f", v);
	snprintf(bartext, sizeof(bartext), ">= %.2f", bar);
	row(figure, value, bartext, verdict(v, bar));
}

static void print_histogram(const struct latency *l)
{
	long long peak = 1;
	int b, lo = NR_BUCKETS, hi = 0;

	for (b = 0; b <= NR_BUCKETS; b++) {
		if (!l->buckets[b])
			continue;
		lo = b < lo ? b : lo;
		hi = b;
		peak = l->buckets[b] > peak ? l->buckets[b] : peak;
	}
	for (b = lo; b <= hi; b++) {
		char label[32];

		if (b < NR_BUCKETS)
			snprintf(label, sizeof(label), "< %lld us", 1LL << b);
		else
			snprintf(label, sizeof(label), ">= %lld us", 1LL << (NR_BUCKETS - 1));
		printf("  %-14s %8lld %.*s\n", label, l->buckets[b],
		       (int)(l->buckets[b] * 40 / peak), "########################################");
	}
}

static void bench_text(const struct system *s, const struct bench_opts *o,
		       const struct results *r)
{
	const struct latency *ev = &r->evacuation, *mx = &r->mixed;
	char value[64];

	printf("mte-numa bench: mode %s, %lld MiB per measurement, best of %lld%s%s\n\n",
	       s->f.built ? mode_names[s->f.mode] : "none", o->size_mib, o->repeat,
	       o->quick ? " (--quick: a smoke test, not figures)" : "",
	       s->model_was_on ? "; hardware model off meanwhile" : "");
	row("figure", "value", "bar", "");
	row_touch("first touch, order-0, tag nodes idle", r->order0.idle, r->base_order0, BAR_IDLE);
	row_touch("first touch, order-0, tag nodes full", r->order0.full, r->base_order0, BAR_FULL);
	row_touch("first touch, THP, tag nodes idle", r->thp.idle, r->base_thp, BAR_IDLE);
	row_touch("first touch, THP, tag nodes full", r->thp.full, r->base_thp, BAR_FULL);
	printf("  without PROT_MTE, this boot's own speed: order-0 %.1f MiB/s, THP %.1f MiB/s\n",
	       r->order0.untagged, r->thp.untagged);
	if (!s->active) {
		printf("\nno active tag node (%s): only the first touch ran\n",
		       why_no_tag_node(&s->f));
		return;
	}
	printf("  share of the idle first touch spent reserving tag blocks: order-0 %.3f, THP %.3f\n",
	       ratio(r->order0.idle_reserve_s, r->order0.idle_s),
	       ratio(r->thp.idle_reserve_s, r->thp.idle_s));
	row_ratio("evacuation / memcpy of the same bytes",
		  ratio(evacuation_mib_s(ev), r->memcpy_mib_s), BAR_EVACUATION);
	printf("  %lld reservations, %lld pages evacuated in %.1f ms: %.1f MiB/s; memcpy %.1f MiB/s\n",
	       ev->reservations, ev->evacuated, ev->total_ns / 1e6, evacuation_mib_s(ev),
	       r->memcpy_mib_s);
	printf("  move_pages %.1f MiB/s, %.3f of memcpy; evacuation is %.2f of move_pages\n",
	       r->move_pages_mib_s, ratio(r->move_pages_mib_s, r->memcpy_mib_s),
	       ratio(evacuation_mib_s(ev), r->move_pages_mib_s));
	row_ratio("tag efficiency, bulk PROT_MTE", tag_efficiency(s, &r->bulk), BAR_BULK);
	row_ratio("tag efficiency, 1% of a heap tagged", tag_efficiency(s, &r->scattered),
		  BAR_SCATTERED);
	printf("  bulk %lld tagged pages in %lld blocks; scattered %lld in %lld blocks (B = %lld)\n",
	       r->bulk.tagged, r->bulk.blocks, r->scattered.tagged, r->scattered.blocks,
	       s->block_pages);
	snprintf(value, sizeof(value), "%.0f / %.0f us", mx->p50_us, mx->p99_us);
	row("reservation latency p50 / p99, mixed load", value, "reported", "");
	printf("  %lld reservations (%lld failed) in %lld s of the mixed load, max %.0f us, "
	       "load errors %lu:\n", mx->reservations, mx->failed, o->load_seconds, mx->max_us,
	       mix_errors(&mx->load));
	print_histogram(mx);
}

/* setup */

static int load_system(struct system *s)
{
	struct num n;
	int i;

	memset(s, 0, sizeof(*s));
	load_feature(&s->f);
	s->active = s->f.mode == MODE_ACTIVE && s->f.nr_regions > 0;
	for (i = 0; s->active && i < s->f.nr_regions; i++)
		s->active = region_node(&s->f.regions[i]) >= 0 &&
			    s->f.regions[i].block_size.ok && s->f.regions[i].block_size.v > 0;
	if (!s->active)
		return RC_OK;
	s->block_pages = s->f.regions[0].block_size.v / PAGE;
	n = read_num(TAG_DIR "/release_delay_ms");
	s->release_delay_ms = n.ok ? n.v : 1000;
	if (blocks_in_tag_use(s) < 0) {
		msg("bench: cannot read the block counts under %s", TAG_DIR);
		return RC_FAIL;
	}
	if (numa_available() < 0) {
		msg("bench: no NUMA: cannot fill the tag nodes");
		return RC_FAIL;
	}
	s->tracing = trace_setup();
	model_off(s);
	return RC_OK;
}

/* MTE is arm64's, and the CPU and kernel must offer it. */
static bool have_mte(void)
{
#ifdef __aarch64__
	return getauxval(AT_HWCAP2) & HWCAP2_MTE;
#else
	return false;
#endif
}

/* -1 to go on, or the exit code: --help, a usage error. */
static int parse_bench(int argc, char **argv, struct bench_opts *o)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quick", no_argument, NULL, 'q' },
		{ "size", required_argument, NULL, 's' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "load-seconds", required_argument, NULL, 'l' },
		{ "baseline", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool sized = false, repeated = false, loaded = false;
	int c;

	*o = (struct bench_opts){ .size_mib = 256, .repeat = 3, .load_seconds = 10 };
	while ((c = getopt_long(argc, argv, "+:h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(bench_help, stdout);
			return RC_OK;
		case 'j':
			o->json = true;
			break;
		case 'q':
			o->quick = true;
			break;
		case 's':
			sized = true;
			if (!parse_option_num(optarg, 2, 1 << 20, &o->size_mib) || o->size_mib % 2)
				return usage_error("bench", "--size wants an even number of MiB "
						   "from 2, not '%s'", optarg);
			break;
		case 'r':
			repeated = true;
			if (!parse_option_num(optarg, 1, 100, &o->repeat))
				return usage_error("bench", "--repeat wants 1 to 100, not '%s'", optarg);
			break;
		case 'l':
			loaded = true;
			if (!parse_option_num(optarg, 1, 3600, &o->load_seconds))
				return usage_error("bench", "--load-seconds wants 1 to 3600, not '%s'",
						    optarg);
			break;
		case 'b':
			o->baseline = optarg;
			break;
		default:
			return bad_option("bench", c, argv);
		}
	}
	if (optind < argc)
		return usage_error("bench", "unexpected argument '%s'", argv[optind]);
	if (o->quick) {
		o->size_mib = sized ? o->size_mib : 16;
		o->repeat = repeated ? o->repeat : 1;
		o->load_seconds = loaded ? o->load_seconds : 2;
	}
	return -1;
}

int cmd_bench(int argc, char **argv)
{
	struct results r = {
		.order0 = { .idle = NAN, .full = NAN, .untagged = NAN, .thp_share = NAN },
		.thp = { .idle = NAN, .full = NAN, .untagged = NAN, .thp_share = NAN },
		.memcpy_mib_s = NAN, .move_pages_mib_s = NAN, .base_order0 = NAN, .base_thp = NAN,
	};
	struct bench_opts o;
	struct system s;
	long long baseline = 0;
	int rc = parse_bench(argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (from_capture)
		return usage_error("bench", "bench measures this system; unset --sysfs-root and MTE_NUMA_ROOT");
	if (o.baseline && (rc = load_baseline(o.baseline, &r)))
		return rc;
	if (!have_mte()) {
		msg("bench: this system has no MTE (arm64 with HWCAP2_MTE): nothing to measure");
		return RC_ABSENT;
	}
	if ((rc = load_system(&s)))
		return rc;
	if (s.active)
		baseline = settle(&s, -1);
	touch_idle(&s, &o, &r, baseline);
	if (isnan(r.order0.idle)) {
		msg("bench: PROT_MTE memory cannot be mapped here: no MTE?");
		trace_teardown(&s);
		model_restore(&s);
		return RC_ABSENT;
	}
	if (s.active) {
		scattered(&s, &o, &r, baseline);
		touch_full(&s, &o, &r, baseline);
		r.memcpy_mib_s = memcpy_speed(r.evacuation.evacuated * PAGE);
		r.move_pages_mib_s = move_pages_speed(&s, r.evacuation.evacuated * PAGE);
		mixed_load(&s, &o, &r, baseline);
		trace_teardown(&s);
		model_restore(&s);
	}
	if (o.json)
		bench_json(&s, &o, &r);
	else
		bench_text(&s, &o, &r);
	return RC_OK;
}
