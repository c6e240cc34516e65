// SPDX-License-Identifier: GPL-2.0
/*
 * mtex: drive one placement path with PROT_MTE memory and report where its
 * pages ended up, for the strict-exclusion guest tests.
 *
 *   mtex place MODE NODES KB small|thp|mthp   tagged allocation under a policy
 *   mtex move_pages TAGNODE                   per-page status, tagged/untagged
 *   mtex mbind_move TAGNODE KB                MPOL_MF_MOVE onto the tag node
 *   mtex migrate_pages TAGNODE KB             migrate_pages() to the tag node
 *   mtex mprotect TAGNODE KB                  untagged on the tag node, then PROT_MTE
 *   mtex memfd TAGNODE KB                     shmem on the tag node, then PROT_MTE
 *   mtex cow TAGNODE KB                       fork, the child writes
 *   mtex collapse KB                          MADV_COLLAPSE of a tagged range
 *   mtex collapse_from TAGNODE madvise|khugepaged
 *                                             a collapse whose sources sit
 *                                             mostly on the tag node
 *   mtex numab TAGNODE KB SECONDS             NUMA balancing (tiering or not)
 *   mtex ksm TAGNODE KB                       KSM over tagged, untagged and
 *                                             made-tagged copies of the same data
 *   mtex swapin TAGNODE KB                    swap-in through the swap cache
 *                                             under a policy naming the tag node
 *   mtex pinned NODE TAGNODE KB TAGKB         KB untagged on NODE made tagged
 *                                             while TAGKB on TAGNODE pins
 *                                             every tag block it needs
 *   mtex stuck NODE TAGNODE KB TAGKB          the same, with KB pinned too:
 *                                             the access waits, not spins,
 *                                             until the pipe is drained
 *   mtex cowheld KB N                         fork, the child writes while the
 *                                             next N reservations fail: its
 *                                             copies' tags are held, not lost
 *   mtex hold KB DIR                          tagged and untagged memory held
 *                                             until DIR/go (for reclaim)
 *
 * Every command prints "key value" lines; "tag_node_pages" counts pages of
 * the tagged memory found on any tag node, and "bad_data" and "bad_tags"
 * count pages whose contents or tags did not survive; "verify_violations"
 * is what the kernel's verifier found while the memory was still mapped.
 */
#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../mte-uapi.h"

#ifndef MPOL_PREFERRED_MANY
#define MPOL_PREFERRED_MANY 5
#endif
#ifndef MPOL_WEIGHTED_INTERLEAVE
#define MPOL_WEIGHTED_INTERLEAVE 6
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define PAGE 4096UL
#define THP (2UL << 20)
#define TAG 0x3UL

static struct bitmask *tag_nodes;

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* The tag nodes, as the driver lists them in sysfs. */
static void read_tag_nodes(void)
{
	char path[96];
	int i, nid;

	tag_nodes = numa_allocate_nodemask();
	for (i = 0;; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "/sys/kernel/mm/mte_tag_node/region%d/node", i);
		f = fopen(path, "r");
		if (!f)
			break;
		if (fscanf(f, "%d", &nid) == 1)
			numa_bitmask_setbit(tag_nodes, nid);
		fclose(f);
	}
}

static void enable_mte(void)
{
	if (prctl(PR_SET_TAGGED_ADDR_CTRL, PR_TAGGED_ADDR_ENABLE | PR_MTE_TCF_SYNC |
		  (0xfffeUL << PR_MTE_TAG_SHIFT), 0, 0, 0))
		die("PR_SET_TAGGED_ADDR_CTRL");
}

static char *map(size_t len, int prot, int flags, int fd)
{
	char *p = mmap(NULL, len, prot, flags, fd, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

/* A THP-aligned anonymous mapping of at least @len bytes. */
static char *map_aligned(size_t len, int prot)
{
	char *p = map(len + THP, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1);

	return (char *)(((uintptr_t)p + THP - 1) & ~(THP - 1));
}

/* Tag check override: untagged reads of granules that carry a tag. */
static void tag_checks(int on)
{
	if (on)
		asm volatile(".arch_extension memtag\n\tmsr tco, #0" : : : "memory");
	else
		asm volatile(".arch_extension memtag\n\tmsr tco, #1" : : : "memory");
}

static void fill(char *p, size_t len, unsigned char seed)
{
	size_t i;

	tag_checks(0);
	for (i = 0; i < len; i += PAGE)
		memset(p + i, (unsigned char)(seed + i / PAGE), PAGE);
	tag_checks(1);
}

static unsigned long bad_data(const char *p, size_t len, unsigned char seed)
{
	unsigned long bad = 0;
	size_t i, j;

	tag_checks(0);
	for (i = 0; i < len; i += PAGE)
		for (j = 0; j < PAGE; j++)
			if ((unsigned char)p[i + j] != (unsigned char)(seed + i / PAGE)) {
				bad++;
				break;
			}
	tag_checks(1);
	return bad;
}

static void *tagged(const void *p)
{
	return (void *)((uintptr_t)p | (TAG << 56));
}

static void set_tag(void *p)
{
	asm volatile(".arch_extension memtag\n\tstg %0, [%0]" : : "r"(tagged(p)) : "memory");
}

static unsigned long get_tag(void *p)
{
	uintptr_t t = (uintptr_t)p;

	asm volatile(".arch_extension memtag\n\tldg %0, [%0]" : "+r"(t) : : "memory");
	return (t >> 56) & 0xf;
}

/* Tags the first granule of each page. */
static void set_tags(char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += PAGE)
		set_tag(p + i);
}

/* Pages whose first granule lost the tag set_tags() gave it. */
static unsigned long bad_tags(char *p, size_t len)
{
	unsigned long bad = 0;
	size_t i;

	for (i = 0; i < len; i += PAGE)
		bad += get_tag(p + i) != TAG;
	return bad;
}

/* Pages of [p, p+len) on a node of @nodes; -1 if a page could not be located. */
static long pages_on(char *p, size_t len, struct bitmask *nodes)
{
	unsigned long n = len / PAGE, i;
	void **pages = calloc(n, sizeof(*pages));
	int *status = calloc(n, sizeof(*status));
	long on = 0;

	if (!pages || !status)
		die("calloc");
	for (i = 0; i < n; i++)
		pages[i] = p + i * PAGE;
	if (move_pages(0, n, pages, NULL, status, 0))
		die("move_pages (query)");
	for (i = 0; i < n; i++) {
		if (status[i] < 0)
			on = -1;
		else if (on >= 0 && numa_bitmask_isbitset(nodes, status[i]))
			on++;
	}
	free(pages);
	free(status);
	return on;
}

static long pages_on_tag_nodes(char *p, size_t len)
{
	return pages_on(p, len, tag_nodes);
}

/* Pages of [p, p+len) on the nodes of a numactl-style list. */
static long pages_on_nodes(char *p, size_t len, const char *list)
{
	struct bitmask *nodes = numa_parse_nodestring(list);
	long on;

	if (!nodes)
		die("node list");
	on = pages_on(p, len, nodes);
	numa_bitmask_free(nodes);
	return on;
}

static void report(const char *key, long value)
{
	printf("%s %ld\n", key, value);
}

/* The value of @name in a file of "key value" lines; -1 if it is missing. */
static long keyed_value(const char *path, const char *name)
{
	FILE *f = fopen(path, "r");
	char key[64];
	long value, found = -1;

	while (f && fscanf(f, "%63s %ld", key, &value) == 2)
		if (!strcmp(key, name))
			found = value;
	if (f)
		fclose(f);
	return found;
}

/* A line of the kernel's audit of the tag nodes. */
static long verifier_field(const char *name)
{
	return keyed_value("/sys/kernel/debug/mte_tag_node/verify", name);
}

/* The kernel's own audit of the tag nodes, taken while our memory is live. */
static void report_verifier(void)
{
	report("verify_violations", verifier_field("violations"));
}

static int mode_of(const char *name)
{
	static const struct { const char *name; int mode; } modes[] = {
		{ "default", MPOL_DEFAULT }, { "local", MPOL_LOCAL },
		{ "preferred", MPOL_PREFERRED }, { "bind", MPOL_BIND },
		{ "interleave", MPOL_INTERLEAVE },
		{ "preferred_many", MPOL_PREFERRED_MANY },
		{ "weighted_interleave", MPOL_WEIGHTED_INTERLEAVE },
	};
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(name, modes[i].name))
			return modes[i].mode;
	fprintf(stderr, "unknown mode %s\n", name);
	exit(2);
}

static void set_policy(char *p, size_t len, int mode, const char *nodes, unsigned int flags)
{
	struct bitmask *mask = numa_parse_nodestring(nodes);
	int none = mode == MPOL_DEFAULT || mode == MPOL_LOCAL;

	if (!mask)
		die("node list");
	if (mbind(p, len, mode, none ? NULL : mask->maskp, none ? 0 : mask->size + 1, flags))
		die("mbind");
	numa_bitmask_free(mask);
}

static int cmd_place(char **argv)
{
	size_t len = strtoul(argv[2], NULL, 0) * 1024;
	const char *size = argv[3];
	char *p = map_aligned(len, PROT_READ | PROT_WRITE | PROT_MTE);

	if (!strcmp(size, "thp"))
		madvise(p, len, MADV_HUGEPAGE);
	else if (!strcmp(size, "small"))
		madvise(p, len, MADV_NOHUGEPAGE);
	set_policy(p, len, mode_of(argv[0]), argv[1], 0);
	fill(p, len, 7);
	set_tags(p, len);
	report("tag_node_pages", pages_on_tag_nodes(p, len));
	report("bad_data", bad_data(p, len, 7));
	report("bad_tags", bad_tags(p, len));
	report_verifier();
	return 0;
}

/* One tagged and one untagged page asked to move to the tag node. */
static int cmd_move_pages(char **argv)
{
	int node = atoi(argv[0]), nodes[2] = { node, node }, status[2];
	char *t = map(PAGE, PROT_READ | PROT_WRITE | PROT_MTE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	char *u = map(PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	void *pages[2] = { t, u };

	fill(t, PAGE, 1);
	fill(u, PAGE, 2);
	set_tags(t, PAGE);
	if (move_pages(0, 2, pages, nodes, status, MPOL_MF_MOVE) < 0)
		die("move_pages");
	report("tagged_status", status[0]);
	report("untagged_status", status[1]);
	report("bad_data", bad_data(t, PAGE, 1) + bad_data(u, PAGE, 2));
	report("bad_tags", bad_tags(t, PAGE));
	report_verifier();
	return 0;
}

/*
 * A tagged range and an untagged control of the same size, filled and
 * tagged: the commands that move memory report both the same way.
 */
struct pair {
	char *t, *u;
	size_t len;
	unsigned char seed;
};

static struct pair map_pair(size_t len, unsigned char seed)
{
	struct pair p = {
		.t = map(len, PROT_READ | PROT_WRITE | PROT_MTE, MAP_PRIVATE | MAP_ANONYMOUS, -1),
		.u = map(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1),
		.len = len,
		.seed = seed,
	};

	fill(p.t, len, seed);
	fill(p.u, len, seed + 1);
	set_tags(p.t, len);
	return p;
}

static void report_pair(const struct pair *p)
{
	report("tag_node_pages", pages_on_tag_nodes(p->t, p->len));
	report("untagged_on_tag_node", pages_on_tag_nodes(p->u, p->len));
	report("bad_data", bad_data(p->t, p->len, p->seed) + bad_data(p->u, p->len, p->seed + 1));
	report("bad_tags", bad_tags(p->t, p->len));
	report_verifier();
}

static int cmd_mbind_move(char **argv)
{
	struct pair p = map_pair(strtoul(argv[1], NULL, 0) * 1024, 3);

	set_policy(p.t, p.len, MPOL_BIND, argv[0], MPOL_MF_MOVE);
	set_policy(p.u, p.len, MPOL_BIND, argv[0], MPOL_MF_MOVE);
	report("tagged_on_target", pages_on_nodes(p.t, p.len, argv[0]));
	report_pair(&p);
	return 0;
}

static int cmd_migrate_pages(char **argv)
{
	struct pair p = map_pair(strtoul(argv[1], NULL, 0) * 1024, 5);
	struct bitmask *from = numa_allocate_nodemask();
	struct bitmask *to = numa_parse_nodestring(argv[0]);
	int nid;

	for (nid = 0; nid <= numa_max_node(); nid++)
		if (!numa_bitmask_isbitset(tag_nodes, nid))
			numa_bitmask_setbit(from, nid);
	if (numa_migrate_pages(0, from, to) < 0)
		die("migrate_pages");
	report("tagged_on_target", pages_on_nodes(p.t, p.len, argv[0]));
	report_pair(&p);
	return 0;
}

/*
 * Memory filled with @seed while untagged and just mapped tagged: the first
 * accesses move it off the tag node; contents and new tags must work.
 */
static void report_made_tagged(char *p, size_t len, unsigned char seed)
{
	report("bad_data", bad_data(p, len, seed));
	set_tags(p, len);
	report("tag_node_pages", pages_on_tag_nodes(p, len));
	report("bad_tags", bad_tags(p, len));
	report_verifier();
}

/* Untagged memory placed on the tag node on purpose, then made tagged. */
static int cmd_mprotect(char **argv)
{
	size_t len = strtoul(argv[1], NULL, 0) * 1024;
	char *p = map(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);

	set_policy(p, len, MPOL_BIND, argv[0], 0);
	fill(p, len, 8);
	report("before_on_tag_node", pages_on_tag_nodes(p, len));
	if (mprotect(p, len, PROT_READ | PROT_WRITE | PROT_MTE))
		die("mprotect");
	report_made_tagged(p, len, 8);
	return 0;
}

static int cmd_memfd(char **argv)
{
	size_t len = strtoul(argv[1], NULL, 0) * 1024;
	struct bitmask *mask = numa_parse_nodestring(argv[0]);
	int fd = memfd_create("mtex", 0);
	char *p;

	if (fd < 0 || ftruncate(fd, len))
		die("memfd");
	/* shmem takes its pages under the task's policy */
	if (set_mempolicy(MPOL_BIND, mask->maskp, mask->size + 1))
		die("set_mempolicy");
	p = map(len, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	fill(p, len, 9);
	report("before_on_tag_node", pages_on_tag_nodes(p, len));
	munmap(p, len);
	if (set_mempolicy(MPOL_DEFAULT, NULL, 0))
		die("set_mempolicy");
	p = map(len, PROT_READ | PROT_WRITE | PROT_MTE, MAP_SHARED, fd);
	report_made_tagged(p, len, 9);
	return 0;
}

/* The parent's range is bound to the tag node; the child's copies land. */
static int cmd_cow(char **argv)
{
	size_t len = strtoul(argv[1], NULL, 0) * 1024;
	char *p = map(len, PROT_READ | PROT_WRITE | PROT_MTE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	int status;
	pid_t child;

	set_policy(p, len, MPOL_BIND, argv[0], 0);
	fill(p, len, 10);
	set_tags(p, len);
	report("parent_tag_node_pages", pages_on_tag_nodes(p, len));
	fflush(stdout);
	child = fork();
	if (child < 0)
		die("fork");
	if (!child) {
		fill(p, len, 11);
		report("tag_node_pages", pages_on_tag_nodes(p, len));
		report("bad_data", bad_data(p, len, 11));
		report("bad_tags", bad_tags(p, len));
		report_verifier();
		exit(0);
	}
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		report("child_failed", 1);
	report("parent_bad_data", bad_data(p, len, 10));
	return 0;
}

static int cmd_collapse(char **argv)
{
	size_t len = strtoul(argv[0], NULL, 0) * 1024;
	char *p = map_aligned(len, PROT_READ | PROT_WRITE | PROT_MTE);

	madvise(p, len, MADV_NOHUGEPAGE);
	fill(p, len, 12);
	set_tags(p, len);
	madvise(p, len, MADV_HUGEPAGE);
	report("collapse_status", madvise(p, len, MADV_COLLAPSE) ? -errno : 0);
	report("tag_node_pages", pages_on_tag_nodes(p, len));
	report("bad_data", bad_data(p, len, 12));
	report("bad_tags", bad_tags(p, len));
	report_verifier();
	return 0;
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long value = -1;

	if (!f || fscanf(f, "%ld", &value) != 1)
		value = -1;
	if (f)
		fclose(f);
	return value;
}

static void write_long(const char *path, long value)
{
	FILE *f = fopen(path, "w");

	if (!f || fprintf(f, "%ld\n", value) < 0 || fclose(f))
		die(path);
}

/* AnonHugePages of the mapping holding @p, in kB; -1 if not found. */
static long anon_huge_kb(const void *p)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	unsigned long start, end;
	long kb = -1;
	char line[256];
	int inside = 0;

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			inside = start <= (uintptr_t)p && (uintptr_t)p < end;
		else if (inside && sscanf(line, "AnonHugePages: %ld", &kb) == 1)
			break;
	}
	if (f)
		fclose(f);
	return kb;
}

/* Waits up to 60 s for khugepaged to map @p's huge page; the ms it took. */
static long wait_for_khugepaged(const void *p)
{
	long waited;

	for (waited = 0; waited < 60000; waited += 100) {
		if (anon_huge_kb(p) >= (long)(THP / 1024))
			return waited;
		usleep(100000);
	}
	return -1;
}

/* Tagged pages of collapse_from's huge page range; the rest are not yet. */
#define COLLAPSE_TAGGED_PAGES	192

/*
 * A huge page range filled on the tag node and made PROT_MTE, of which
 * only the last pages have been touched since: those moved off and are
 * tagged, the others still sit on the tag node, untagged, until their
 * first access. A collapse goes where most sources are, the tag node, so
 * the tagged sources' tags must be held rather than written there; every
 * page must have its data, and the touched ones their tags, once the
 * accesses have moved the huge page off. MODE asks for the collapse with
 * "madvise" (MADV_COLLAPSE) or waits for "khugepaged".
 */
static int cmd_collapse_from(char **argv)
{
	size_t tagged_len = COLLAPSE_TAGGED_PAGES * PAGE, untagged_len = THP - tagged_len;
	char *p = map_aligned(THP, PROT_READ | PROT_WRITE), *t = p + untagged_len;

	madvise(p, THP, MADV_NOHUGEPAGE);
	set_policy(p, THP, MPOL_BIND, argv[0], 0);
	fill(p, THP, 20);
	if (mprotect(p, THP, PROT_READ | PROT_WRITE | PROT_MTE))
		die("mprotect");
	set_tags(t, tagged_len);
	report("untagged_on_tag_node", pages_on_tag_nodes(p, untagged_len));
	report("tagged_on_tag_node", pages_on_tag_nodes(t, tagged_len));
	madvise(p, THP, MADV_HUGEPAGE);
	if (!strcmp(argv[1], "madvise"))
		report("collapse_status", madvise(p, THP, MADV_COLLAPSE) ? -errno : 0);
	else
		report("khugepaged_ms", wait_for_khugepaged(p));
	report("huge_kb", anon_huge_kb(p));
	report("collapsed_on_tag_node", pages_on_tag_nodes(p, THP));
	report("tagged_tag_node_pages_after_collapse", verifier_field("tagged"));
	report("bad_data", bad_data(p, THP, 20));
	set_tags(p, untagged_len);
	report("bad_tags", bad_tags(p, THP));
	report("tag_node_pages", pages_on_tag_nodes(p, THP));
	report_verifier();
	return 0;
}

/* Runs of @len at @p, touched for @seconds: reads, so tags stay. */
static void touch_for(char *const *ranges, int nr, size_t len, int seconds)
{
	long end = time(NULL) + seconds;
	volatile char sink;
	size_t i;
	int r;

	tag_checks(0);
	while (time(NULL) < end)
		for (r = 0; r < nr; r++)
			for (i = 0; i < len; i += PAGE)
				sink = ranges[r][i];
	tag_checks(1);
	(void)sink;
}

static long vmstat_value(const char *name)
{
	return keyed_value("/proc/vmstat", name);
}

/* The caller runs on @cpu alone from now on. */
static void run_on_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

/*
 * NUMA balancing, in whichever mode the test set: tagged memory on other
 * nodes, untagged memory on the tag node, and memory made PROT_MTE while
 * it sat on the tag node, all touched for SECONDS while the scanner runs.
 * Balancing only ever moves memory towards a CPU's node, which a tag
 * node never is; the untagged control shows it ran. The memory made
 * tagged must be off the tag node with its data; the tagged memory
 * must keep its data and tags. It is filled on CPU 0 and touched from
 * CPU 1: the last pages filled wait in CPU 0's LRU batch, which nothing
 * drains while that CPU idles, and the hinting fault must move them too.
 */
static int cmd_numab(char **argv)
{
	size_t len = strtoul(argv[1], NULL, 0) * 1024;
	struct pair p = map_pair(len, 22);
	char *m = map(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	char *ranges[] = { p.t, p.u, m };
	long faults = vmstat_value("numa_hint_faults");
	long migrated = vmstat_value("numa_pages_migrated");
	long placed;

	/* Placed on the tag node, then left to the default policy. */
	set_policy(p.u, len, MPOL_PREFERRED, argv[0], MPOL_MF_MOVE);
	set_policy(p.u, len, MPOL_DEFAULT, "", 0);
	set_policy(m, len, MPOL_PREFERRED, argv[0], 0);
	run_on_cpu(0);
	fill(m, len, 24);
	run_on_cpu(1);
	set_policy(m, len, MPOL_DEFAULT, "", 0);
	if (mprotect(m, len, PROT_READ | PROT_WRITE | PROT_MTE))
		die("mprotect");
	placed = pages_on_tag_nodes(p.u, len);
	report("untagged_placed_on_tag_node", placed);
	report("made_tagged_placed_on_tag_node", pages_on_tag_nodes(m, len));
	touch_for(ranges, 3, len, atoi(argv[2]));
	report("hint_faults", vmstat_value("numa_hint_faults") - faults);
	report("numa_pages_migrated", vmstat_value("numa_pages_migrated") - migrated);
	report("untagged_moved_off", placed - pages_on_tag_nodes(p.u, len));
	report("made_tagged_on_tag_node", pages_on_tag_nodes(m, len));
	report("made_tagged_bad_data", bad_data(m, len, 24));
	set_tags(m, len);
	report("made_tagged_bad_tags", bad_tags(m, len));
	report_pair(&p);
	return 0;
}

/*
 * KSM over three ranges of the same contents: tagged memory, untagged
 * memory on the tag node, and memory made PROT_MTE while it sat on the
 * tag node. Tagged pages must never be merged into a page of the tag
 * node (nor into any page: arm64 refuses to merge tagged pages), and the
 * third range must end up off the tag node, with data and tags, once it
 * is touched. ksmd runs for three full scans.
 */
static int cmd_ksm(char **argv)
{
	size_t len = strtoul(argv[1], NULL, 0) * 1024;
	char *t = map(len, PROT_READ | PROT_WRITE | PROT_MTE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	char *u = map(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	char *m = map(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	long scans, waited;

	set_policy(u, len, MPOL_BIND, argv[0], 0);
	set_policy(m, len, MPOL_BIND, argv[0], 0);
	fill(t, len, 25);
	fill(u, len, 25);
	fill(m, len, 25);
	set_tags(t, len);
	if (mprotect(m, len, PROT_READ | PROT_WRITE | PROT_MTE))
		die("mprotect");
	if (madvise(t, len, MADV_MERGEABLE) || madvise(u, len, MADV_MERGEABLE) ||
	    madvise(m, len, MADV_MERGEABLE))
		die("MADV_MERGEABLE");
	scans = read_long("/sys/kernel/mm/ksm/full_scans");
	for (waited = 0; waited < 60000; waited += 100) {
		if (read_long("/sys/kernel/mm/ksm/full_scans") >= scans + 3)
			break;
		usleep(100000);
	}
	report("ksm_scans_ms", waited < 60000 ? waited : -1);
	report("pages_sharing", read_long("/sys/kernel/mm/ksm/pages_sharing"));
	report("tagged_tag_node_pages_after_merge", verifier_field("tagged"));
	report("made_tagged_bad_data", bad_data(m, len, 25));
	set_tags(m, len);
	report("made_tagged_bad_tags", bad_tags(m, len));
	report("made_tagged_on_tag_node", pages_on_tag_nodes(m, len));
	report("tag_node_pages", pages_on_tag_nodes(t, len));
	report("bad_data", bad_data(t, len, 25) + bad_data(u, len, 25));
	report("bad_tags", bad_tags(t, len));
	report_verifier();
	return 0;
}

/*
 * Swap-in through the swap cache: a child shares the swapped entries, so
 * the pages are read ahead, not read privately, and under the range's
 * policy, which names the tag node. A page read into the tag node must get its tags held, not
 * restored there, and move off on its first access.
 */
static int cmd_swapin(char **argv)
{
	size_t len = strtoul(argv[1], NULL, 0) * 1024;
	char *p = map(len, PROT_READ | PROT_WRITE | PROT_MTE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	long held = vmstat_value("mte_tag_held"), out = vmstat_value("pswpout");
	int go[2], status;
	pid_t child;

	madvise(p, len, MADV_NOHUGEPAGE);
	set_policy(p, len, MPOL_BIND, argv[0], 0);
	fill(p, len, 26);
	set_tags(p, len);
	if (madvise(p, len, MADV_PAGEOUT))
		die("MADV_PAGEOUT");
	report("swapped_out", vmstat_value("pswpout") - out);
	/* MADV_PAGEOUT leaves shared pages alone: fork once they are out. */
	if (pipe(go))
		die("pipe");
	child = fork();
	if (child < 0)
		die("fork");
	if (!child) {
		char c;

		close(go[1]);
		_exit(read(go[0], &c, 1) < 0);
	}
	close(go[0]);
	report("bad_data", bad_data(p, len, 26));
	report("bad_tags", bad_tags(p, len));
	report("held", vmstat_value("mte_tag_held") - held);
	report("tag_node_pages", pages_on_tag_nodes(p, len));
	report_verifier();
	close(go[1]);
	if (waitpid(child, &status, 0) != child)
		die("waitpid");
	return 0;
}

/* What the pinned test needs of a region's sysfs directory, in pfns. */
struct region {
	unsigned long tag_start, data_start, block_pages, blocks;
};

static unsigned long region_value(int i, const char *name, const char *fmt)
{
	unsigned long value;
	char path[96];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/kernel/mm/mte_tag_node/region%d/%s", i, name);
	f = fopen(path, "r");
	if (!f)
		die(path);
	ok = fscanf(f, fmt, &value) == 1;
	fclose(f);
	if (!ok)
		die(path);
	return value;
}

/* The region whose tag node is @nid. */
static struct region read_region(int nid)
{
	struct region r;
	int i;

	for (i = 0; i <= numa_max_node(); i++)
		if ((int)region_value(i, "node", "%lu") == nid)
			break;
	r.tag_start = region_value(i, "tag_range", "%lx-") / PAGE;
	r.data_start = region_value(i, "data_range", "%lx-") / PAGE;
	r.block_pages = region_value(i, "block_size", "%lu") / PAGE;
	r.blocks = region_value(i, "blocks_total", "%lu");
	return r;
}

static unsigned long pfn_of(int pagemap, const void *p)
{
	uint64_t entry;

	if (pread(pagemap, &entry, sizeof(entry), (uintptr_t)p / PAGE * sizeof(entry)) !=
	    sizeof(entry))
		die("pagemap");
	return entry >> 63 ? entry & ((1ULL << 55) - 1) : 0;
}

static unsigned long block_of_data_pfn(const struct region *r, unsigned long pfn)
{
	return (pfn - r->data_start) / (32 * r->block_pages);
}

static unsigned long block_of_tag_pfn(const struct region *r, unsigned long pfn)
{
	return (pfn - r->tag_start) / r->block_pages;
}

/* The data pages of the tag node kept by a pipe's references, per block. */
struct pins {
	long *page_of_block;	/* offset in the tag node memory, or -1 */
	char *spliced;		/* per block: a page is in the pipe */
	int pipe_fd;
};

static struct pins index_tag_pages(const struct region *r, int pagemap, char *t, size_t tlen)
{
	struct pins pins = {
		.page_of_block = malloc(r->blocks * sizeof(long)),
		.spliced = calloc(r->blocks, 1),
	};
	int fds[2];
	size_t i;

	if (!pins.page_of_block || !pins.spliced || pipe(fds) ||
	    fcntl(fds[1], F_SETPIPE_SZ, 1 << 20) < 0)
		die("pins");
	pins.pipe_fd = fds[1];
	for (i = 0; i < r->blocks; i++)
		pins.page_of_block[i] = -1;
	for (i = 0; i < tlen; i += PAGE) {
		unsigned long pfn = pfn_of(pagemap, t + i), block;

		if (pfn < r->tag_start)
			continue;
		block = block_of_tag_pfn(r, pfn);
		if (block < r->blocks && pins.page_of_block[block] < 0)
			pins.page_of_block[block] = i;
	}
	return pins;
}

/*
 * Pins a page of @t in each tag block the pages of @p need: evacuation
 * cannot move it. Returns the number of pages of @p whose block is pinned.
 */
static long pin_needed_blocks(const struct region *r, int pagemap, struct pins *pins,
			      char *p, size_t len, char *t)
{
	long pinned_pages = 0;
	size_t i;

	for (i = 0; i < len; i += PAGE) {
		unsigned long block = block_of_data_pfn(r, pfn_of(pagemap, p + i));
		long at = block < r->blocks ? pins->page_of_block[block] : -1;
		struct iovec iov = { t + at, PAGE };

		if (at < 0)
			continue;
		if (!pins->spliced[block] && vmsplice(pins->pipe_fd, &iov, 1, 0) != PAGE)
			die("vmsplice");
		pins->spliced[block] = 1;
		pinned_pages++;
	}
	return pinned_pages;
}

/*
 * The memory of the pinned tests, from "NODE TAGNODE KB TAGKB": KB on NODE
 * filled with @seed, TAGKB on TAGNODE with @seed + 1, both untagged, and a
 * page of TAGKB pinned in each tag block the first needs.
 */
struct pinned_memory {
	char *p, *t;
	size_t len, tlen;
	int pagemap;
};

static struct pinned_memory pin_blocks_of_new_memory(char **argv, unsigned char seed)
{
	struct pinned_memory m = {
		.len = strtoul(argv[2], NULL, 0) * 1024,
		.tlen = strtoul(argv[3], NULL, 0) * 1024,
		.pagemap = open("/proc/self/pagemap", O_RDONLY),
	};
	struct region r = read_region(atoi(argv[1]));
	struct pins pins;

	if (m.pagemap < 0)
		die("pagemap");
	m.p = map(m.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	m.t = map(m.tlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	madvise(m.p, m.len, MADV_NOHUGEPAGE);
	madvise(m.t, m.tlen, MADV_NOHUGEPAGE);
	set_policy(m.p, m.len, MPOL_BIND, argv[0], 0);
	set_policy(m.t, m.tlen, MPOL_BIND, argv[1], 0);
	fill(m.p, m.len, seed);
	fill(m.t, m.tlen, seed + 1);
	pins = index_tag_pages(&r, m.pagemap, m.t, m.tlen);
	report("pages_in_pinned_blocks",
	       pin_needed_blocks(&r, m.pagemap, &pins, m.p, m.len, m.t));
	return m;
}

/*
 * Untagged pages on @node made tagged while every tag block they need
 * holds a pinned page: the fault cannot evacuate and must move them.
 */
static int cmd_pinned(char **argv)
{
	struct pinned_memory m = pin_blocks_of_new_memory(argv, 14);
	unsigned long *before = calloc(m.len / PAGE, sizeof(*before));
	long moved = 0;
	size_t i;

	if (!before)
		die("calloc");
	for (i = 0; i < m.len; i += PAGE)
		before[i / PAGE] = pfn_of(m.pagemap, m.p + i);
	if (mprotect(m.p, m.len, PROT_READ | PROT_WRITE | PROT_MTE))
		die("mprotect");
	report_made_tagged(m.p, m.len, 14);
	for (i = 0; i < m.len; i += PAGE)
		moved += pfn_of(m.pagemap, m.p + i) != before[i / PAGE];
	report("moved_pages", moved);
	report("on_node", pages_on_nodes(m.p, m.len, argv[0]));
	report("pinned_bad_data", bad_data(m.t, m.tlen, 15));
	return 0;
}

struct toucher {
	char *p;
	size_t len;
	volatile int done;
};

/* Reads every page: each read is a hinting fault that needs tag storage. */
static void *touch_pages(void *arg)
{
	struct toucher *t = arg;
	volatile char sink;
	size_t i;

	for (i = 0; i < t->len; i += PAGE)
		sink = t->p[i];
	(void)sink;
	t->done = 1;
	return NULL;
}

static long cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Gives back the references a pipe holds on vmspliced pages. */
static void drain(int read_fd)
{
	char buf[PAGE];

	fcntl(read_fd, F_SETFL, O_NONBLOCK);
	while (read(read_fd, buf, sizeof(buf)) > 0)
		;
}

/*
 * As pinned, but the pages made tagged are pinned as well: neither their
 * tag blocks nor they can move, and the first access can make no progress
 * until the pipe holding them is drained. Meanwhile it must sleep: the CPU
 * time of the process over two seconds is reported.
 */
static int cmd_stuck(char **argv)
{
	struct pinned_memory m = pin_blocks_of_new_memory(argv, 16);
	struct toucher toucher = { m.p, m.len, 0 };
	struct iovec iov = { m.p, m.len };
	pthread_t thread;
	long cpu, start;
	int data_pipe[2];

	if (pipe(data_pipe) || fcntl(data_pipe[1], F_SETPIPE_SZ, 1 << 20) < 0)
		die("pipe");
	if (vmsplice(data_pipe[1], &iov, 1, 0) != (ssize_t)m.len)
		die("vmsplice");
	if (mprotect(m.p, m.len, PROT_READ | PROT_WRITE | PROT_MTE))
		die("mprotect");
	if (pthread_create(&thread, NULL, touch_pages, &toucher))
		die("pthread_create");
	usleep(200000);
	cpu = cpu_ms();
	sleep(2);
	report("stuck_cpu_ms", cpu_ms() - cpu);
	report("done_while_pinned", toucher.done);
	start = now_ms();
	drain(data_pipe[0]);
	pthread_join(thread, NULL);
	report("done_ms_after_drain", now_ms() - start);
	report_made_tagged(m.p, m.len, 16);
	report("on_node", pages_on_nodes(m.p, m.len, argv[0]));
	report("pinned_bad_data", bad_data(m.t, m.tlen, 17));
	return 0;
}

#define INJECT_RESERVE_BUSY "/sys/kernel/debug/mte_tag_node/inject_reserve_busy"

/*
 * COW copies made while reservations fail (fault injection): a copy whose
 * tag storage could not be claimed gets its tags held, and written when
 * it is mapped. The child writes every page, then checks data and tags.
 */
static int cmd_cowheld(char **argv)
{
	size_t len = strtoul(argv[0], NULL, 0) * 1024, i;
	char *p = map(len, PROT_READ | PROT_WRITE | PROT_MTE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	long delay_ms = read_long("/sys/kernel/mm/mte_tag_node/release_delay_ms");
	int status;
	pid_t pid;

	madvise(p, len, MADV_NOHUGEPAGE);
	fill(p, len, 18);
	set_tags(p, len);
	/* Blocks reserved ahead go back: copies then mostly need a reservation. */
	usleep((delay_ms > 0 ? delay_ms : 1000) * 3000);
	write_long(INJECT_RESERVE_BUSY, strtol(argv[1], NULL, 0));
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		unsigned long bad;

		tag_checks(0);
		for (i = 0; i < len; i += PAGE)
			((volatile char *)p)[i + 8] = p[i + 8];
		tag_checks(1);
		bad = bad_data(p, len, 18) + bad_tags(p, len);
		_exit(bad > 100 ? 100 : bad);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	report("child_bad", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	report("injected_left", read_long(INJECT_RESERVE_BUSY));
	write_long(INJECT_RESERVE_BUSY, 0);
	report("bad_data", bad_data(p, len, 18));
	report("bad_tags", bad_tags(p, len));
	report_verifier();
	return 0;
}

/* Tagged and untagged memory held while the test reclaims around us. */
static int cmd_hold(char **argv)
{
	struct pair p = map_pair(strtoul(argv[0], NULL, 0) * 1024, 13);
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/ready", argv[1]);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	if (fd < 0)
		die(path);
	close(fd);
	snprintf(path, sizeof(path), "%s/go", argv[1]);
	while (access(path, F_OK))
		usleep(100000);
	report_pair(&p);
	return 0;
}

static const struct {
	const char *name;
	int args;
	int (*run)(char **argv);
} commands[] = {
	{ "place", 4, cmd_place }, { "move_pages", 1, cmd_move_pages },
	{ "mbind_move", 2, cmd_mbind_move }, { "migrate_pages", 2, cmd_migrate_pages },
	{ "mprotect", 2, cmd_mprotect }, { "memfd", 2, cmd_memfd },
	{ "cow", 2, cmd_cow }, { "cowheld", 2, cmd_cowheld },
	{ "collapse", 1, cmd_collapse }, { "hold", 2, cmd_hold },
	{ "pinned", 4, cmd_pinned }, { "stuck", 4, cmd_stuck },
	{ "collapse_from", 2, cmd_collapse_from }, { "numab", 3, cmd_numab },
	{ "ksm", 2, cmd_ksm }, { "swapin", 2, cmd_swapin },
};

int main(int argc, char **argv)
{
	size_t i;

	if (numa_available() < 0) {
		fprintf(stderr, "mtex: no NUMA\n");
		return 2;
	}
	read_tag_nodes();
	enable_mte();
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; argc > 1 && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name) && argc == commands[i].args + 2)
			return commands[i].run(argv + 2);
	fprintf(stderr, "usage: see the comment at the top of mtex.c\n");
	return 2;
}
