// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mixed PROT_MTE workload (see mix.h).
 *
 * Each thread owns a few slots; each slot holds one object: an anonymous
 * mapping, tagged (PROT_MTE, a random key from IRG gives every 16-byte
 * granule its own non-zero tag) or untagged, small (order-0 pages) or
 * 2 MiB (MADV_HUGEPAGE). Its contents are a pattern of its seed. A thread
 * picks a slot and an operation at random:
 *
 *   alloc     map and fill an empty slot (STGP: tag and data together)
 *   verify    LDG the first granule of every page, then read every word
 *             through pointers carrying the expected tags
 *   rewrite   new seed, new key, everything written again
 *   free      munmap
 *   mprotect  untagged -> PROT_MTE (tags read zero, data intact, then
 *             tagged); tagged -> read-only -> read-write without PROT_MTE,
 *             which arm64 keeps tagged (mprotect never clears VM_MTE):
 *             tags and data intact throughout
 *   fork      a child verifies this thread's objects, rewrites one (COW)
 *             and verifies it; the parent checks its copy did not change
 *   pageout   MADV_PAGEOUT (swap must be on), verified on swap-in later
 *
 * Tag check faults are synchronous. A SEGV_MTESERR while verifying counts
 * as an unexpected tag fault and the object is dropped; any other SIGSEGV
 * kills the process, as it would without this handler.
 */
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mix.h"
#include "mte-uapi.h"

const char *const mix_op_names[NR_MIX_OPS] = {
	[MIX_ALLOC] = "alloc", [MIX_VERIFY] = "verify", [MIX_REWRITE] = "rewrite",
	[MIX_FREE] = "free", [MIX_MPROTECT] = "mprotect", [MIX_FORK] = "fork",
	[MIX_PAGEOUT] = "pageout",
};

unsigned long mix_errors(const struct mix_counts *c)
{
	return c->checksum_errors + c->tag_errors + c->tag_faults + c->child_failures +
	       c->syscall_failures;
}

#ifdef __aarch64__

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define PAGE		4096UL
#define THP		(2UL << 20)
#define GRANULE		16UL

struct object {
	char *p;		/* NULL: the slot is empty */
	size_t len;
	uint64_t seed;
	unsigned int key;	/* granule g has tag 1 + (key + g) % 15 */
	bool mte;		/* the mapping is PROT_MTE */
	bool zero_tags;		/* PROT_MTE since an mprotect: tags still zero */
	bool paged_out;		/* MADV_PAGEOUT since the last access */
	unsigned int history;	/* HAD_* of what was done to it, for reports */
};

enum {
	HAD_REWRITE = 1, HAD_MTE_ON = 2, HAD_READ_ONLY = 4, HAD_PAGEOUT = 8, HAD_FORK = 16,
};

struct worker {
	const struct mix_config *cfg;
	pthread_t thread;
	struct object *slots;
	uint64_t rng;
	struct mix_counts counts;
	int error;		/* -errno if the thread could not start */
};

static volatile int stop;

static __thread sigjmp_buf *guard;
static __thread uintptr_t fault_addr;
static int reports_left = 20;	/* problems described on stderr */

/* MTE instructions */

static void *with_tag(const void *p, unsigned int tag)
{
	return (void *)(((uintptr_t)p & ~(0xfUL << 56)) | ((uintptr_t)tag << 56));
}

static unsigned int load_tag(const void *p)
{
	uintptr_t t = (uintptr_t)p;

	asm volatile(".arch_extension memtag\n\tldg %0, [%0]" : "+r"(t) : : "memory");
	return (t >> 56) & 0xf;
}

/* A random tag; the thread's tag mask (set by prctl) excludes tag 0. */
static unsigned int random_tag(const void *p)
{
	uintptr_t t;

	asm volatile(".arch_extension memtag\n\tirg %0, %1" : "=r"(t) : "r"(p));
	return (t >> 56) & 0xf;
}

static void store_tag(void *tp)
{
	asm volatile(".arch_extension memtag\n\tstg %0, [%0]" : : "r"(tp) : "memory");
}

static void store_tag_pair(void *tp, uint64_t a, uint64_t b)
{
	asm volatile(".arch_extension memtag\n\tstgp %1, %2, [%0]"
		     : : "r"(tp), "r"(a), "r"(b) : "memory");
}

/* object contents */

static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t pattern(uint64_t seed, size_t word)
{
	uint64_t x = seed + word * 0x9e3779b97f4a7c15ULL;

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	return x ^ (x >> 29);
}

static unsigned int granule_tag(const struct object *o, size_t g)
{
	if (!o->mte)
		return 0;
	return o->zero_tags ? 0 : 1 + (o->key + g) % 15;
}

/* Tags and data of the whole object, from o->seed and o->key. */
static void write_object(struct object *o, struct mix_counts *c)
{
	size_t g, nr = o->len / GRANULE;

	if (o->mte) {
		o->zero_tags = false;
		o->key = random_tag(o->p);
		for (g = 0; g < nr; g++)
			store_tag_pair(with_tag(o->p + g * GRANULE, granule_tag(o, g)),
				       pattern(o->seed, 2 * g), pattern(o->seed, 2 * g + 1));
	} else {
		uint64_t *w = (uint64_t *)o->p;

		for (g = 0; g < 2 * nr; g++)
			w[g] = pattern(o->seed, g);
	}
	c->bytes_written += o->len;
}

/* New tags over the same data: after mprotect(PROT_MTE). */
static void retag_object(struct object *o)
{
	size_t g;

	o->zero_tags = false;
	o->key = random_tag(o->p);
	for (g = 0; g < o->len / GRANULE; g++)
		store_tag(with_tag(o->p + g * GRANULE, granule_tag(o, g)));
}

/* Problems, and for a fork child's exit status, where they were found. */
enum { BAD_DATA = 1, BAD_TAGS = 2, TAG_FAULT = 4, PAGED_OUT = 8 };

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
	if (si->si_code == SEGV_MTESERR && guard) {
		fault_addr = (uintptr_t)si->si_addr;
		siglongjmp(*guard, 1);
	}
	/* Anything else: fault again without us, and die of it. */
	signal(SIGSEGV, SIG_DFL);
}

/* What is wrong with the object: BAD_* and TAG_FAULT bits, 0 if nothing. */
static int check_object(const struct object *o)
{
	size_t g, nr = o->len / GRANULE, per_page = PAGE / GRANULE;
	sigjmp_buf env;
	int bad = 0;

	if (o->mte)
		for (g = 0; g < nr; g += per_page)
			if (load_tag(o->p + g * GRANULE) != granule_tag(o, g))
				return BAD_TAGS;
	if (sigsetjmp(env, 0)) {
		guard = NULL;
		return TAG_FAULT;
	}
	guard = &env;
	for (g = 0; g < nr && !bad; g++) {
		const volatile uint64_t *w = with_tag(o->p + g * GRANULE, granule_tag(o, g));

		if (w[0] != pattern(o->seed, 2 * g) || w[1] != pattern(o->seed, 2 * g + 1))
			bad = BAD_DATA;
	}
	guard = NULL;
	return bad;
}

static void count_problems(int bad, bool after_swapin, struct mix_counts *c)
{
	c->checksum_errors += !!(bad & BAD_DATA);
	c->tag_errors += !!(bad & BAD_TAGS);
	c->tag_faults += !!(bad & TAG_FAULT);
	if (bad && after_swapin)
		c->errors_after_swapin++;
}

/* slots */

static void free_object(struct object *o, struct mix_counts *c)
{
	if (munmap(o->p, o->len))
		c->syscall_failures++;
	o->p = NULL;
}

/* A @len-byte mapping, @align-aligned, the rest of it given back. */
static char *map_aligned(size_t len, size_t align, int prot)
{
	char *p = mmap(NULL, len + align, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t start;

	if (p == MAP_FAILED)
		return NULL;
	start = ((uintptr_t)p + align - 1) & ~(align - 1);
	if (start > (uintptr_t)p)
		munmap(p, start - (uintptr_t)p);
	munmap((char *)start + len, (uintptr_t)p + align - start);
	return (char *)start;
}

static void prefer_tag_node(struct worker *w, struct object *o)
{
	unsigned long mask[16] = { 0 };
	int nid = w->cfg->tag_node;

	if (nid < 0 || nid >= (int)(8 * sizeof(mask)))
		return;
	mask[nid / (8 * sizeof(long))] |= 1UL << (nid % (8 * sizeof(long)));
	if (mbind(o->p, o->len, MPOL_PREFERRED, mask, 8 * sizeof(mask), 0))
		w->counts.syscall_failures++;
}

static void alloc_object(struct worker *w, struct object *o)
{
	uint64_t r = next_random(&w->rng);
	bool huge = w->cfg->thp && r % 8 == 0;

	o->mte = (r >> 8) % 3 != 0;
	o->zero_tags = false;
	o->len = huge ? THP : PAGE * (1 + (r >> 16) % w->cfg->max_pages);
	o->p = map_aligned(o->len, huge ? THP : PAGE,
			   PROT_READ | PROT_WRITE | (o->mte ? PROT_MTE : 0));
	if (!o->p) {
		w->counts.syscall_failures++;
		return;
	}
	madvise(o->p, o->len, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	/* Some untagged memory starts on the tag node, to be made tagged later. */
	if (!o->mte && (r >> 32) % 2)
		prefer_tag_node(w, o);
	o->seed = next_random(&w->rng);
	o->paged_out = false;
	o->history = 0;
	write_object(o, &w->counts);
}

/* What went wrong, where, and what the object went through. */
static void describe(const struct object *o, int bad)
{
	size_t off = (fault_addr & ((1UL << 56) - 1)) - (uintptr_t)o->p;

	if (__atomic_fetch_sub(&reports_left, 1, __ATOMIC_RELAXED) <= 0)
		return;
	fprintf(stderr, "mix: %s in %zu KiB %s object (%s%s), history%s%s%s%s%s",
		bad & TAG_FAULT ? "tag fault" : bad & BAD_TAGS ? "bad tags" : "bad data",
		o->len >> 10, o->len == THP ? "2 MiB" : "small",
		o->mte ? "PROT_MTE" : "untagged", o->zero_tags ? ", zero tags" : "",
		o->history & HAD_REWRITE ? " rewrite" : "", o->history & HAD_MTE_ON ? " mte-on" : "",
		o->history & HAD_READ_ONLY ? " read-only" : "", o->history & HAD_PAGEOUT ? " pageout" : "",
		o->history & HAD_FORK ? " fork" : "");
	if (bad & TAG_FAULT && off < o->len)
		fprintf(stderr, "; at +%#zx: tag %u, expected %u, page's first granule %u",
			off, load_tag(o->p + (off & ~(GRANULE - 1))),
			granule_tag(o, off / GRANULE), load_tag(o->p + (off & ~(PAGE - 1))));
	fputc('\n', stderr);
}

/* Verify; a broken object is counted and dropped. */
static void verify_object(struct worker *w, struct object *o)
{
	bool swapped = o->paged_out;
	int bad;

	w->counts.swapin_verifies += swapped;
	bad = check_object(o);
	o->paged_out = false;
	count_problems(bad, swapped, &w->counts);
	if (bad) {
		describe(o, bad);
		free_object(o, &w->counts);
	}
}

static void rewrite_object(struct worker *w, struct object *o)
{
	o->seed = next_random(&w->rng);
	write_object(o, &w->counts);
	o->paged_out = false;
	o->history |= HAD_REWRITE;
}

static bool protect(struct worker *w, struct object *o, int prot)
{
	if (!mprotect(o->p, o->len, prot))
		return true;
	w->counts.syscall_failures++;
	return false;
}

/*
 * Untagged memory becomes tagged: pages first mapped PROT_MTE get zeroed
 * tags and keep their data. Tagged memory goes read-only and back without
 * PROT_MTE, which stays (arm64 never clears VM_MTE): nothing may change.
 */
static void mprotect_object(struct worker *w, struct object *o)
{
	verify_object(w, o);
	if (!o->p)
		return;
	if (!o->mte) {
		if (!protect(w, o, PROT_READ | PROT_WRITE | PROT_MTE))
			return;
		o->mte = o->zero_tags = true;
		o->history |= HAD_MTE_ON;
		verify_object(w, o);
		if (o->p)
			retag_object(o);
		return;
	}
	if (!protect(w, o, PROT_READ))
		return;
	o->history |= HAD_READ_ONLY;
	verify_object(w, o);
	if (o->p && protect(w, o, PROT_READ | PROT_WRITE))
		verify_object(w, o);
}

static void pageout_object(struct worker *w, struct object *o)
{
	size_t i, nr = o->len / PAGE;
	unsigned char *vec = malloc(nr);

	if (!vec || madvise(o->p, o->len, MADV_PAGEOUT)) {
		w->counts.syscall_failures++;
		free(vec);
		return;
	}
	o->paged_out = true;
	o->history |= HAD_PAGEOUT;
	if (!mincore(o->p, o->len, vec))
		for (i = 0; i < nr; i++)
			w->counts.paged_out_pages += !(vec[i] & 1);
	free(vec);
}

/* In the child: async-signal-safe only (no malloc), the exit status says. */
static void __attribute__((noreturn)) fork_child(struct worker *w, struct object *cow)
{
	int i, bad = 0;

	for (i = 0; i < w->cfg->slots; i++) {
		const struct object *o = &w->slots[i];
		int found = o->p ? check_object(o) : 0;

		bad |= found | (found && o->paged_out ? PAGED_OUT : 0);
	}
	if (cow) {
		cow->seed ^= 0x5555555555555555ULL;
		write_object(cow, &w->counts);
		bad |= check_object(cow);
	}
	_exit(bad);
}

static void fork_op(struct worker *w, struct object *o)
{
	int status;
	pid_t pid;

	pid = fork();
	if (!pid)
		fork_child(w, o);
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		w->counts.syscall_failures++;
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		w->counts.child_failures++;
		if (WIFEXITED(status))
			count_problems(WEXITSTATUS(status), WEXITSTATUS(status) & PAGED_OUT,
				       &w->counts);
	}
	o->history |= HAD_FORK;
	/* The child's writes went to its copies. */
	verify_object(w, o);
}

/* One operation on one slot. */
static void step(struct worker *w)
{
	const struct mix_config *cfg = w->cfg;
	uint64_t r = next_random(&w->rng);
	struct object *o = &w->slots[r % cfg->slots];
	unsigned int pick = (r >> 32) % 100;
	enum mix_op op;

	if (!o->p)
		op = MIX_ALLOC;
	else if (pick < 35)
		op = MIX_VERIFY;
	else if (pick < 50)
		op = MIX_REWRITE;
	else if (pick < 70)
		op = MIX_FREE;
	else if (pick < 82)
		op = MIX_MPROTECT;
	else if (pick < 85 && cfg->fork)
		op = MIX_FORK;
	else if (cfg->pageout)
		op = MIX_PAGEOUT;
	else
		op = MIX_VERIFY;
	w->counts.ops[op]++;
	switch (op) {
	case MIX_ALLOC:
		alloc_object(w, o);
		break;
	case MIX_VERIFY:
		verify_object(w, o);
		break;
	case MIX_REWRITE:
		rewrite_object(w, o);
		break;
	case MIX_FREE:
		free_object(o, &w->counts);
		break;
	case MIX_MPROTECT:
		mprotect_object(w, o);
		break;
	case MIX_FORK:
		fork_op(w, o);
		break;
	case MIX_PAGEOUT:
		pageout_object(w, o);
		break;
	default:
		break;
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	int i;

	/* Synchronous tag checks; IRG may pick any tag but 0. */
	if (prctl(PR_SET_TAGGED_ADDR_CTRL, PR_TAGGED_ADDR_ENABLE | PR_MTE_TCF_SYNC |
		  (0xfffeUL << PR_MTE_TAG_SHIFT), 0, 0, 0)) {
		w->error = -errno;
		return NULL;
	}
	while (!stop)
		step(w);
	/* Everything left is verified once more on the way out. */
	for (i = 0; i < w->cfg->slots; i++) {
		if (w->slots[i].p)
			verify_object(w, &w->slots[i]);
		if (w->slots[i].p)
			free_object(&w->slots[i], &w->counts);
	}
	return NULL;
}

static void add_counts(struct mix_counts *to, const struct mix_counts *from)
{
	const unsigned long *f = (const unsigned long *)from;
	unsigned long *t = (unsigned long *)to;
	size_t i;

	for (i = 0; i < sizeof(*to) / sizeof(unsigned long); i++)
		t[i] += f[i];
}

static int install_handler(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_NODEFER };

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGSEGV, &sa, NULL) ? -errno : 0;
}

int mix_run(const struct mix_config *cfg, struct mix_counts *total)
{
	struct worker *w = calloc(cfg->threads, sizeof(*w));
	double end = now() + cfg->seconds;
	int i, err = install_handler(), started = 0;

	memset(total, 0, sizeof(*total));
	if (!w)
		return -ENOMEM;
	stop = 0;
	for (i = 0; !err && i < cfg->threads; i++) {
		w[i].cfg = cfg;
		w[i].rng = (cfg->seed + 1) * 0x9e3779b97f4a7c15ULL + i;
		w[i].slots = calloc(cfg->slots, sizeof(*w[i].slots));
		if (!w[i].slots)
			err = -ENOMEM;
		else if ((err = -pthread_create(&w[i].thread, NULL, work, &w[i])) == 0)
			started++;
	}
	while (!err && now() < end)
		usleep(100000);
	stop = 1;
	for (i = 0; i < started; i++) {
		pthread_join(w[i].thread, NULL);
		if (w[i].error)
			err = w[i].error;
		add_counts(total, &w[i].counts);
	}
	for (i = 0; i < cfg->threads; i++)
		free(w[i].slots);
	free(w);
	signal(SIGSEGV, SIG_DFL);
	return err;
}

#else /* !__aarch64__ */

int mix_run(const struct mix_config *cfg, struct mix_counts *total)
{
	memset(total, 0, sizeof(*total));
	return -ENOSYS;
}

#endif
