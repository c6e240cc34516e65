// SPDX-License-Identifier: GPL-2.0-only
/*
 * mte-numa: the operator's tool for MTE tag storage hot-plugged as CPU-less
 * NUMA nodes ("tag nodes").
 *
 *   mte-numa [--sysfs-root DIR] status [--json]
 *   mte-numa [--sysfs-root DIR] map [--json] [--region N] [--width W]
 *   mte-numa [--sysfs-root DIR] spill [on|off]
 *   mte-numa run (--avoid-tag-nodes | --tag-nodes-only) -- CMD [ARGS...]
 *   mte-numa bench [--json] [--quick] [--baseline FILE] ...      (bench.c)
 *
 * Everything but node sizes and memory policies is read straight from the
 * kernel's files, so that --sysfs-root can point the tool at a captured tree:
 * that is how the host tests run. Files may be missing or garbled (an older
 * kernel, a half-written capture): each such file is reported as a problem
 * and the rest is still shown. See mte-numa.8.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <numa.h>
#include <numaif.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mte-numa.h"

#define NODE_DIR	"/sys/devices/system/node"
#define TIER_DIR	"/sys/devices/virtual/memory_tiering"
#define DEMOTION_FILE	"/sys/kernel/mm/numa/demotion_enabled"
#define VMSTAT_FILE	"/proc/vmstat"

/* Node ids stay below the kernel's MAX_NUMNODES, 1 << NODES_SHIFT, and NODES_SHIFT <= 10. */
#define MAX_NODES	1024

/* Far more blocks than any region has; a larger count in a file is garbage. */
#define MAX_BLOCKS	(1UL << 28)

#define DEFAULT_MAP_WIDTH	64

/* Mode flags from <linux/mempolicy.h>, which clashes with <numaif.h>. */
#ifndef MPOL_F_STATIC_NODES
#define MPOL_F_STATIC_NODES	(1 << 15)
#endif
#ifndef MPOL_F_RELATIVE_NODES
#define MPOL_F_RELATIVE_NODES	(1 << 14)
#endif

/* Prefix of every /sys and /proc path: "" for the running system. */
static const char *sys_root = "";

/* Set by --sysfs-root or MTE_NUMA_ROOT: libnuma would describe another system. */
bool from_capture;

/* Problems with the files, reported as found and listed again in JSON output. */
static struct {
	char **text;
	int nr;
} problems;

/* messages */

void msg(const char *fmt, ...)
{
	va_list ap;

	fputs("mte-numa: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (!p) {
		msg("out of memory");
		exit(RC_FAIL);
	}
	return p;
}

void problem(const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0) {
		msg("out of memory");
		exit(RC_FAIL);
	}
	va_end(ap);
	msg("%s", text);
	problems.text = xrealloc(problems.text, (problems.nr + 1) * sizeof(*problems.text));
	problems.text[problems.nr++] = text;
}

/*
 * libnuma reports failures through these two weak functions. Ours give its
 * messages the tool's prefix, and let run notice a policy it could not set.
 */
static bool numa_failed;

void numa_error(char *where)
{
	msg("%s: %s", where, strerror(errno));
	numa_failed = true;
}

void numa_warn(int number, char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) >= 0) {
		text[strcspn(text, "\n")] = '\0';
		msg("libnuma: %s", text);
		free(text);
	}
	va_end(ap);
}

/* files */

static const char * __attribute__((format(printf, 2, 3)))
pathf(char buf[PATH_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
	return buf;
}

/* A path that is too long is cut, and then fails to open like a missing one. */
static FILE *sys_fopen(const char *path, const char *mode)
{
	char full[PATH_MAX];

	return fopen(pathf(full, "%s%s", sys_root, path), mode);
}

static bool sys_isdir(const char *path)
{
	char full[PATH_MAX];
	struct stat st;

	return !stat(pathf(full, "%s%s", sys_root, path), &st) && S_ISDIR(st.st_mode);
}

/* The files are ASCII; anything else must reach neither the terminal nor JSON. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if (*s < ' ' || *s > '~')
			*s = '?';
}

/* The first line of @path without its newline, sanitized; 0 or -errno. */
int read_line(const char *path, char *buf, size_t size)
{
	FILE *f = sys_fopen(path, "r");
	int err = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, size, f)) {
		err = ferror(f) ? -errno : 0;
		buf[0] = '\0';
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	sanitize(buf);
	return err;
}

/* Like read_line, but an unreadable file is a problem and reads as "". */
static bool read_text(const char *path, char *buf, size_t size)
{
	int err = read_line(path, buf, size);

	if (err) {
		problem("%s unreadable (%s)", path, strerror(-err));
		buf[0] = '\0';
	}
	return !err;
}

bool parse_count(const char *s, long long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return !errno && !*end;
}

/* A non-negative decimal integer file: all the kernel's numbers here are. */
struct num read_num(const char *path)
{
	struct num n = { 0 };
	char buf[64];

	if (!read_text(path, buf, sizeof(buf)))
		return n;
	n.ok = parse_count(buf, &n.v);
	if (!n.ok)
		problem("%s malformed: \"%s\"", path, buf);
	return n;
}

/* A physical address range as the kernel prints it: "0x140000000-0x147ffffff". */
static bool parse_hex(const char *s, char **end, unsigned long long *v)
{
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, end, 16);
	return !errno && *end != s;
}

static struct range read_range(const char *path)
{
	struct range r = { 0 };
	char buf[128], *end;

	if (!read_text(path, buf, sizeof(buf)))
		return r;
	r.ok = parse_hex(buf, &end, &r.start) && *end == '-' &&
	       parse_hex(end + 1, &end, &r.end) && !*end && r.end >= r.start;
	if (!r.ok)
		problem("%s malformed: \"%s\"", path, buf);
	return r;
}

static int cmp_int(const void *a, const void *b)
{
	return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* The N of each PREFIXN entry of @dir, sorted; -errno if @dir cannot be read. */
static int list_indexed(const char *dir, const char *prefix, int **ids)
{
	char full[PATH_MAX];
	size_t len = strlen(prefix);
	struct dirent *de;
	int nr = 0;
	DIR *d;

	*ids = NULL;
	d = opendir(pathf(full, "%s%s", sys_root, dir));
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		long long id;

		if (strncmp(de->d_name, prefix, len) || !parse_count(de->d_name + len, &id) ||
		    id > INT_MAX)
			continue;
		*ids = xrealloc(*ids, (nr + 1) * sizeof(**ids));
		(*ids)[nr++] = id;
	}
	closedir(d);
	if (nr)
		qsort(*ids, nr, sizeof(**ids), cmp_int);
	return nr;
}

/* node sets */

static struct bitmask *nodes_new(void)
{
	return numa_bitmask_alloc(MAX_NODES);
}

/* The next node after @n in @set, or -1. */
static int next_node(const struct bitmask *set, int n)
{
	while (++n < (int)set->size)
		if (numa_bitmask_isbitset(set, n))
			return n;
	return -1;
}

#define for_each_node_in(n, set) \
	for ((n) = next_node((set), -1); (n) >= 0; (n) = next_node((set), (n)))

static void nodes_or(struct bitmask *dst, const struct bitmask *src)
{
	int n;

	for_each_node_in(n, src)
		numa_bitmask_setbit(dst, n);
}

static bool parse_node(const char *s, char **end, long *node)
{
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*node = strtol(s, end, 10);
	return !errno && *node < MAX_NODES;
}

/* A node list as the kernel prints it ("0-1,3", "" for none) into @set. */
static bool parse_nodelist(const char *s, struct bitmask *set)
{
	long first, last;
	char *end;

	while (*s) {
		if (!parse_node(s, &end, &first))
			return false;
		last = first;
		if (*end == '-' && !parse_node(end + 1, &end, &last))
			return false;
		if (first > last)
			return false;
		while (first <= last)
			numa_bitmask_setbit(set, first++);
		if (*end == ',' && end[1])
			end++;
		else if (*end)
			return false;
		s = end;
	}
	return true;
}

/* The node list file @path; a problem and an empty set if it can't be used. */
static struct bitmask *read_nodelist(const char *path)
{
	struct bitmask *set = nodes_new();
	char buf[4096];

	if (read_text(path, buf, sizeof(buf)) && !parse_nodelist(buf, set)) {
		problem("%s malformed: \"%s\"", path, buf);
		numa_bitmask_clearall(set);
	}
	return set;
}

/* @set the way the kernel prints node lists; "-" when empty. */
static const char *format_nodes(const struct bitmask *set, char *buf, size_t size)
{
	size_t len = 0;
	int n, last;

	buf[0] = '\0';
	for_each_node_in(n, set) {
		for (last = n; next_node(set, last) == last + 1; last++)
			;
		if (last > n)
			len += snprintf(buf + len, size - len, "%s%d-%d", len ? "," : "", n, last);
		else
			len += snprintf(buf + len, size - len, "%s%d", len ? "," : "", n);
		if (len >= size)
			break;
		n = last;
	}
	if (!len)
		snprintf(buf, size, "-");
	return buf;
}

/* A tiny JSON emitter: two-space indented, every string escaped. */

/* Anything outside printable ASCII is escaped, so the output stays valid JSON. */
static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < ' ' || c > '~')
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_member(struct json *j, const char *key)
{
	if (j->depth) {
		fputs(j->first ? "\n" : ",\n", stdout);
		printf("%*s", 2 * j->depth, "");
	}
	if (key) {
		json_string(key);
		fputs(": ", stdout);
	}
	j->first = false;
}

void json_open(struct json *j, const char *key, char bracket)
{
	json_member(j, key);
	putchar(bracket);
	j->depth++;
	j->first = true;
}

void json_close(struct json *j, char bracket)
{
	j->depth--;
	if (!j->first)
		printf("\n%*s", 2 * j->depth, "");
	putchar(bracket);
	j->first = false;
	if (!j->depth)
		putchar('\n');
}

void json_str(struct json *j, const char *key, const char *s)
{
	json_member(j, key);
	if (s)
		json_string(s);
	else
		fputs("null", stdout);
}

void json_int(struct json *j, const char *key, long long v)
{
	json_member(j, key);
	printf("%lld", v);
}

void json_num(struct json *j, const char *key, struct num n)
{
	if (n.ok)
		json_int(j, key, n.v);
	else
		json_str(j, key, NULL);
}

/* A measured figure; not-a-number (nothing measured) is null. */
void json_double(struct json *j, const char *key, double v)
{
	json_member(j, key);
	if (isfinite(v))
		printf("%.6g", v);
	else
		fputs("null", stdout);
}

void json_bool(struct json *j, const char *key, bool b)
{
	json_member(j, key);
	fputs(b ? "true" : "false", stdout);
}

/* Node lists stay on one line: they are short and read better so. */
static void json_nodes(struct json *j, const char *key, const struct bitmask *set)
{
	int n, count = 0;

	json_member(j, key);
	putchar('[');
	for_each_node_in(n, set)
		printf("%s%d", count++ ? ", " : "", n);
	putchar(']');
}

void json_problems(struct json *j)
{
	int i;

	json_open(j, "problems", '[');
	for (i = 0; i < problems.nr; i++)
		json_str(j, NULL, problems.text[i]);
	json_close(j, ']');
}

/* The feature: /sys/kernel/mm/mte_tag_node */

const char *const mode_names[NR_MODES] = {
	[MODE_UNKNOWN] = "unknown",
	[MODE_NONE] = "none",
	[MODE_OFF] = "off",
	[MODE_ACTIVE] = "active",
	[MODE_PLAIN] = "plain",
};

static const char *const count_names[NR_COUNTS] = {
	[COUNT_TOTAL] = "total",
	[COUNT_DATA] = "data",
	[COUNT_EVACUATING] = "evacuating",
	[COUNT_TAGS] = "tags",
	[COUNT_RELEASING] = "releasing",
	[COUNT_RESERVED] = "reserved",
};


static struct num read_region_num(int id, const char *file)
{
	char path[PATH_MAX];

	return read_num(pathf(path, "%s/region%d/%s", TAG_DIR, id, file));
}

static struct range read_region_range(int id, const char *file)
{
	char path[PATH_MAX];

	return read_range(pathf(path, "%s/region%d/%s", TAG_DIR, id, file));
}

static void load_region(struct region *r, int id)
{
	char path[PATH_MAX], file[32];
	int i;

	r->id = id;
	read_text(pathf(path, "%s/region%d/name", TAG_DIR, id), r->name, sizeof(r->name));
	r->node = read_region_num(id, "node");
	r->tag = read_region_range(id, "tag_range");
	r->data = read_region_range(id, "data_range");
	r->online = read_region_range(id, "online_range");
	r->block_size = read_region_num(id, "block_size");
	for (i = 0; i < NR_COUNTS; i++) {
		snprintf(file, sizeof(file), "blocks_%s", count_names[i]);
		r->blocks[i] = read_region_num(id, file);
	}
}

static enum tag_mode read_mode(void)
{
	char buf[64];
	int i;

	if (!read_text(TAG_DIR "/mode", buf, sizeof(buf)))
		return MODE_UNKNOWN;
	for (i = MODE_NONE; i < NR_MODES; i++)
		if (!strcmp(buf, mode_names[i]))
			return i;
	problem("%s malformed: \"%s\"", TAG_DIR "/mode", buf);
	return MODE_UNKNOWN;
}

void load_feature(struct feature *f)
{
	int *ids, i, nr;

	memset(f, 0, sizeof(*f));
	f->built = sys_isdir(TAG_DIR);
	if (!f->built)
		return;
	f->mode = read_mode();
	read_text(TAG_DIR "/reason", f->reason, sizeof(f->reason));
	f->adistance = read_num(TAG_DIR "/adistance");
	nr = list_indexed(TAG_DIR, "region", &ids);
	if (nr < 0) {
		problem("%s unreadable (%s)", TAG_DIR, strerror(-nr));
		return;
	}
	f->regions = xrealloc(NULL, nr * sizeof(*f->regions));
	for (i = 0; i < nr; i++)
		load_region(&f->regions[i], ids[i]);
	f->nr_regions = nr;
	free(ids);
}

/* The region's node, or -1 if its file was unusable. */
int region_node(const struct region *r)
{
	return r->node.ok && r->node.v < MAX_NODES ? r->node.v : -1;
}

/* The region on @node, or NULL. */
static const struct region *region_on(const struct feature *f, int node)
{
	int i;

	for (i = 0; i < f->nr_regions; i++)
		if (region_node(&f->regions[i]) == node)
			return &f->regions[i];
	return NULL;
}

/* Tag nodes are the regions' nodes, but only while MTE uses them: mode active. */
struct bitmask *tag_nodes(const struct feature *f)
{
	struct bitmask *set = nodes_new();
	int i;

	for (i = 0; f->mode == MODE_ACTIVE && i < f->nr_regions; i++)
		if (region_node(&f->regions[i]) >= 0)
			numa_bitmask_setbit(set, region_node(&f->regions[i]));
	return set;
}

/* Why there is no tag node, as the end of a sentence. */
const char *why_no_tag_node(const struct feature *f)
{
	static char why[320];

	if (!f->built)
		return "the MTE tag node feature is not built into this kernel";
	switch (f->mode) {
	case MODE_PLAIN:
		return "mode plain: the regions' nodes are plain memory nodes, MTE is not in use";
	case MODE_ACTIVE:
		return "mode active, but no region names a node";
	default:
		snprintf(why, sizeof(why), "mode %s: %s", mode_names[f->mode],
			 f->reason[0] ? f->reason : "?");
		return why;
	}
}

/* Nodes and memory tiers */

struct tier {
	int id;
	struct bitmask *nodes;
};

struct topology {
	struct bitmask *nodes;	/* online, with memory, or with CPUs */
	struct bitmask *memory;
	struct bitmask *cpus;
	struct num *size;	/* bytes, by node */
	struct tier *tiers;	/* top tier (lowest id) first */
	int nr_tiers;
};

/* MemTotal of @node from its meminfo: "Node 0 MemTotal:  4194304 kB". */
static struct num read_meminfo_size(int node)
{
	char path[PATH_MAX], line[256], tail[16];
	struct num size = { 0 };
	long long kib = 0;
	FILE *f;
	int nid;

	f = sys_fopen(pathf(path, "%s/node%d/meminfo", NODE_DIR, node), "r");
	if (!f) {
		problem("%s unreadable (%s)", path, strerror(errno));
		return size;
	}
	while (!size.ok && fgets(line, sizeof(line), f))
		size.ok = sscanf(line, "Node %d MemTotal: %lld %15s", &nid, &kib, tail) == 3 &&
			  nid == node && kib >= 0 && !strcmp(tail, "kB");
	fclose(f);
	if (size.ok)
		size.v = kib * 1024;
	else
		problem("%s has no valid MemTotal line", path);
	return size;
}

/* libnuma reads the running system only; a capture has to be read by hand. */
static struct num node_size(int node)
{
	struct num size = { 0 };

	if (from_capture)
		return read_meminfo_size(node);
	size.v = numa_node_size64(node, NULL);
	size.ok = size.v >= 0;
	return size;
}

static void load_tiers(struct topology *t)
{
	char path[PATH_MAX];
	int *ids, i, nr;

	nr = list_indexed(TIER_DIR, "memory_tier", &ids);
	if (nr < 0) {
		problem("%s unreadable (%s): no memory tiers", TIER_DIR, strerror(-nr));
		return;
	}
	t->tiers = xrealloc(NULL, nr * sizeof(*t->tiers));
	for (i = 0; i < nr; i++) {
		t->tiers[i].id = ids[i];
		t->tiers[i].nodes = read_nodelist(pathf(path, "%s/memory_tier%d/nodelist",
							TIER_DIR, ids[i]));
	}
	t->nr_tiers = nr;
	free(ids);
}

static void load_topology(struct topology *t)
{
	struct bitmask *online;
	int n;

	memset(t, 0, sizeof(*t));
	online = read_nodelist(NODE_DIR "/online");
	t->memory = read_nodelist(NODE_DIR "/has_memory");
	t->cpus = read_nodelist(NODE_DIR "/has_cpu");
	t->nodes = nodes_new();
	nodes_or(t->nodes, online);
	nodes_or(t->nodes, t->memory);
	nodes_or(t->nodes, t->cpus);
	numa_bitmask_free(online);
	t->size = xrealloc(NULL, MAX_NODES * sizeof(*t->size));
	for_each_node_in(n, t->nodes)
		t->size[n] = node_size(n);
	load_tiers(t);
}

/* Index in t->tiers of the tier holding @node, or -1; also for node -1. */
static int tier_of(const struct topology *t, int node)
{
	int i;

	for (i = 0; node >= 0 && i < t->nr_tiers; i++)
		if (numa_bitmask_isbitset(t->tiers[i].nodes, node))
			return i;
	return -1;
}

/*
 * Derived, as the kernel keeps them internal: a node demotes to the nodes of
 * the next lower tier (the nearest of them first), and may fall back to any
 * lower tier.
 */
static void demotion_targets(const struct topology *t, int node, struct bitmask *out)
{
	int i = tier_of(t, node);

	numa_bitmask_clearall(out);
	if (i >= 0 && i + 1 < t->nr_tiers)
		nodes_or(out, t->tiers[i + 1].nodes);
}

static void lower_tier_nodes(const struct topology *t, int node, struct bitmask *out)
{
	int i = tier_of(t, node);

	numa_bitmask_clearall(out);
	while (i >= 0 && ++i < t->nr_tiers)
		nodes_or(out, t->tiers[i].nodes);
}

/* The nodes that demote to @node. */
static void demotion_sources(const struct topology *t, int node, struct bitmask *out)
{
	struct bitmask *targets = nodes_new();
	int n;

	numa_bitmask_clearall(out);
	for_each_node_in(n, t->nodes) {
		demotion_targets(t, n, targets);
		if (node >= 0 && numa_bitmask_isbitset(targets, node))
			numa_bitmask_setbit(out, n);
	}
	numa_bitmask_free(targets);
}

static const char *tier_name(const struct topology *t, int node, char *buf, size_t size)
{
	int i = tier_of(t, node);

	if (i < 0)
		return "-";
	snprintf(buf, size, "%d", t->tiers[i].id);
	return buf;
}

/* /sys/kernel/mm/numa/demotion_enabled: 1, 0, or -1 and a problem. */
static int read_spill(void)
{
	char buf[64];

	if (!read_text(DEMOTION_FILE, buf, sizeof(buf)))
		return -1;
	if (!strcmp(buf, "true") || !strcmp(buf, "false"))
		return buf[0] == 't';
	problem("%s malformed: \"%s\"", DEMOTION_FILE, buf);
	return -1;
}

/* Event counters of /proc/vmstat; only those this kernel has are shown. */
enum { NR_EVENTS = 7 };

static const char *const event_names[NR_EVENTS] = {
	"mte_tag_reserve", "mte_tag_reserve_fail", "mte_tag_release",
	"mte_tag_evacuated", "mte_tag_relocated", "mte_tag_held", "mte_tag_dropped",
};

struct events {
	bool present[NR_EVENTS];
	struct num count[NR_EVENTS];
};

static void parse_event(struct events *ev, char *line)
{
	char *value = strchr(line, ' ');
	int i;

	if (!value)
		return;
	*value++ = '\0';
	value[strcspn(value, "\n")] = '\0';
	for (i = 0; i < NR_EVENTS; i++) {
		if (strcmp(line, event_names[i]))
			continue;
		ev->present[i] = true;
		ev->count[i].ok = parse_count(value, &ev->count[i].v);
		if (!ev->count[i].ok) {
			sanitize(value);
			problem("%s: %s malformed: \"%s\"", VMSTAT_FILE, line, value);
		}
	}
}

static void load_events(struct events *ev)
{
	FILE *f = sys_fopen(VMSTAT_FILE, "r");
	char line[256];

	memset(ev, 0, sizeof(*ev));
	if (!f) {
		problem("%s unreadable (%s)", VMSTAT_FILE, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f))
		parse_event(ev, line);
	fclose(f);
}

/* formatting */

static const char *num_str(struct num n, char *buf, size_t size)
{
	if (!n.ok)
		return "?";
	snprintf(buf, size, "%lld", n.v);
	return buf;
}

/* "4 GiB", "1.5 MiB": exact sizes read better without a fraction. */
static const char *size_str(unsigned long long bytes, char *buf, size_t size)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB" };
	unsigned long long scale = 1;
	int u = 0;

	while (u < 5 && bytes / scale >= 1024) {
		scale *= 1024;
		u++;
	}
	if (bytes % scale)
		snprintf(buf, size, "%.1f %s", (double)bytes / scale, units[u]);
	else
		snprintf(buf, size, "%llu %s", bytes / scale, units[u]);
	return buf;
}

/* A range the way the kernel prints it; "?" if unknown. */
static const char *range_str(const struct range *r, char *buf, size_t size)
{
	if (!r->ok)
		return "?";
	snprintf(buf, size, "%#llx-%#llx", r->start, r->end);
	return buf;
}

static const char *num_size_str(struct num n, char *buf, size_t size)
{
	return n.ok ? size_str(n.v, buf, size) : "?";
}

/* option parsing shared by the commands */

int
usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mte-numa: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see: mte-numa %s --help)\n", cmd);
	return RC_USAGE;
}

/* The usage error for what getopt_long returned as @c. */
int bad_option(const char *cmd, int c, char **argv)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return usage_error(cmd, "option '%s' needs a value", arg);
	return usage_error(cmd, "unknown option '%s'", arg);
}

/* A number option in [@min, @max]. */
bool parse_option_num(const char *s, long long min, long long max, long long *v)
{
	return parse_count(s, v) && *v >= min && *v <= max;
}

/* status */

static const char status_help[] =
"usage: mte-numa [--sysfs-root DIR] status [--json]\n"
"\n"
"Show the MTE tag node feature: its mode and the reason for it, the knobs,\n"
"every node with its memory tier and derived demotion targets, every tag\n"
"storage region with its node, ranges and block counts, and the tag event\n"
"counters of /proc/vmstat.\n"
"\n"
"  --json      print one JSON object instead of the tables\n"
"  -h, --help  this help\n";

static void print_node_row(const struct feature *f, const struct topology *t, int n)
{
	struct bitmask *targets = nodes_new();
	const struct region *r = region_on(f, n);
	char size[32], tier[16], list[256], role[64] = "-";

	demotion_targets(t, n, targets);
	if (r)
		snprintf(role, sizeof(role), "%s (region%d)",
			 f->mode == MODE_ACTIVE ? "tag node" : "plain memory", r->id);
	printf("%-5d %-9s %-5s %-5s %-11s %s\n", n, num_size_str(t->size[n], size, sizeof(size)),
	       numa_bitmask_isbitset(t->cpus, n) ? "yes" : "no",
	       tier_name(t, n, tier, sizeof(tier)), format_nodes(targets, list, sizeof(list)),
	       role);
	numa_bitmask_free(targets);
}

static void print_range(const char *label, const struct range *r)
{
	char size[32], text[48];

	if (r->ok)
		printf("  %-13s %s (%s)\n", label, range_str(r, text, sizeof(text)),
		       size_str(r->end - r->start + 1, size, sizeof(size)));
	else
		printf("  %-13s ?\n", label);
}

static void print_region_node(const struct region *r, const struct topology *t)
{
	char tier[16], from[256], to[256];
	int n = region_node(r);
	struct bitmask *set;

	if (n < 0) {
		printf("  %-13s ?\n", "node");
		return;
	}
	set = nodes_new();
	demotion_sources(t, n, set);
	format_nodes(set, from, sizeof(from));
	demotion_targets(t, n, set);
	format_nodes(set, to, sizeof(to));
	printf("  %-13s %d, tier %s, demotion target of %s, demotes to %s\n", "node", n,
	       tier_name(t, n, tier, sizeof(tier)), from, to);
	numa_bitmask_free(set);
}

/* "32768 total: 32510 data, 2 evacuating, 256 tags, 0 releasing, 0 reserved" */
static void print_block_counts(const struct region *r)
{
	char buf[24];
	int i;

	printf("  %-13s %s total:", "blocks", num_str(r->blocks[COUNT_TOTAL], buf, sizeof(buf)));
	for (i = COUNT_DATA; i < NR_COUNTS; i++)
		printf("%s %s %s", i > COUNT_DATA ? "," : "",
		       num_str(r->blocks[i], buf, sizeof(buf)), count_names[i]);
	putchar('\n');
}

static void print_region(const struct region *r, const struct topology *t)
{
	char size[32];

	printf("\nregion%d  %s\n", r->id, r->name[0] ? r->name : "?");
	print_region_node(r, t);
	print_range("tag range", &r->tag);
	print_range("data range", &r->data);
	print_range("online range", &r->online);
	printf("  %-13s %s\n", "block size", num_size_str(r->block_size, size, sizeof(size)));
	print_block_counts(r);
}

static void print_feature(const struct feature *f, int spill)
{
	struct bitmask *tags = tag_nodes(f);
	char buf[256];

	if (f->built) {
		printf("%-13s %s: %s\n", "mte_tag_node", mode_names[f->mode],
		       f->reason[0] ? f->reason : "?");
		printf("%-13s %s\n", "adistance", num_str(f->adistance, buf, sizeof(buf)));
	} else {
		printf("%-13s feature not built into this kernel (no %s)\n", "mte_tag_node",
		       TAG_DIR);
	}
	printf("%-13s %s\n", "demotion",
	       spill < 0 ? "?" : spill ? "enabled" : "disabled (enable with: mte-numa spill on)");
	if (numa_bitmask_weight(tags))
		printf("%-13s %s\n", "tag nodes", format_nodes(tags, buf, sizeof(buf)));
	else
		printf("%-13s none: %s\n", "tag nodes", why_no_tag_node(f));
	numa_bitmask_free(tags);
}

static void print_events(const struct events *ev)
{
	char buf[24];
	bool any = false;
	int i;

	for (i = 0; i < NR_EVENTS; i++) {
		if (!ev->present[i])
			continue;
		if (!any)
			printf("\nevents (%s)\n", VMSTAT_FILE);
		any = true;
		printf("  %-21s %s\n", event_names[i], num_str(ev->count[i], buf, sizeof(buf)));
	}
}

static void status_text(const struct feature *f, const struct topology *t,
			const struct events *ev, int spill)
{
	int i, n;

	print_feature(f, spill);
	printf("\n%-5s %-9s %-5s %-5s %-11s %s\n", "node", "memory", "cpus", "tier",
	       "demotes to", "role");
	for_each_node_in(n, t->nodes)
		print_node_row(f, t, n);
	printf("(demotion targets are derived from the memory tiers: see mte-numa spill)\n");
	for (i = 0; i < f->nr_regions; i++)
		print_region(&f->regions[i], t);
	print_events(ev);
}

static void json_feature(struct json *j, const struct feature *f)
{
	json_open(j, "feature", '{');
	json_bool(j, "built", f->built);
	json_str(j, "mode", f->built && f->mode != MODE_UNKNOWN ? mode_names[f->mode] : NULL);
	json_str(j, "reason", f->built && f->reason[0] ? f->reason : NULL);
	json_num(j, "adistance", f->adistance);
	json_close(j, '}');
}

/* The tier of @node: its id, or null. */
static void json_tier(struct json *j, const struct topology *t, int node)
{
	int i = tier_of(t, node);

	if (i >= 0)
		json_int(j, "tier", t->tiers[i].id);
	else
		json_str(j, "tier", NULL);
}

static void json_node(struct json *j, const struct feature *f, const struct topology *t,
		      int n)
{
	struct bitmask *targets = nodes_new();
	const struct region *r = region_on(f, n);

	demotion_targets(t, n, targets);
	json_open(j, NULL, '{');
	json_int(j, "node", n);
	json_num(j, "memory_bytes", t->size[n]);
	json_bool(j, "cpus", numa_bitmask_isbitset(t->cpus, n));
	json_tier(j, t, n);
	json_nodes(j, "demotes_to", targets);
	if (r)
		json_int(j, "region", r->id);
	else
		json_str(j, "region", NULL);
	json_bool(j, "tag_node", r && f->mode == MODE_ACTIVE);
	json_close(j, '}');
	numa_bitmask_free(targets);
}

static void json_range(struct json *j, const char *key, const struct range *r)
{
	char text[48];

	json_str(j, key, r->ok ? range_str(r, text, sizeof(text)) : NULL);
}

/* The region's node, and its place among the tiers: nothing for an unknown node. */
static void json_region_node(struct json *j, const struct region *r, const struct topology *t)
{
	struct bitmask *set = nodes_new();
	int n = region_node(r);

	json_num(j, "node", r->node);
	json_tier(j, t, n);
	demotion_sources(t, n, set);
	json_nodes(j, "demoted_from", set);
	demotion_targets(t, n, set);
	json_nodes(j, "demotes_to", set);
	numa_bitmask_free(set);
}

static void json_region(struct json *j, const struct region *r, const struct topology *t)
{
	int i;

	json_open(j, NULL, '{');
	json_int(j, "region", r->id);
	json_str(j, "name", r->name[0] ? r->name : NULL);
	json_region_node(j, r, t);
	json_range(j, "tag_range", &r->tag);
	json_range(j, "data_range", &r->data);
	json_range(j, "online_range", &r->online);
	json_num(j, "block_size", r->block_size);
	json_open(j, "blocks", '{');
	for (i = 0; i < NR_COUNTS; i++)
		json_num(j, count_names[i], r->blocks[i]);
	json_close(j, '}');
	json_close(j, '}');
}

static void json_tiers(struct json *j, const struct topology *t)
{
	int i;

	json_open(j, "tiers", '[');
	for (i = 0; i < t->nr_tiers; i++) {
		json_open(j, NULL, '{');
		json_int(j, "tier", t->tiers[i].id);
		json_nodes(j, "nodes", t->tiers[i].nodes);
		json_close(j, '}');
	}
	json_close(j, ']');
}

static void json_events(struct json *j, const struct events *ev)
{
	int i;

	json_open(j, "vmstat", '{');
	for (i = 0; i < NR_EVENTS; i++)
		if (ev->present[i])
			json_num(j, event_names[i], ev->count[i]);
	json_close(j, '}');
}

static void status_json(const struct feature *f, const struct topology *t,
			const struct events *ev, int spill)
{
	struct bitmask *tags = tag_nodes(f);
	struct json j = { 0 };
	int i, n;

	json_open(&j, NULL, '{');
	json_feature(&j, f);
	json_nodes(&j, "tag_nodes", tags);
	if (spill < 0)
		json_str(&j, "demotion_enabled", NULL);
	else
		json_bool(&j, "demotion_enabled", spill);
	json_open(&j, "nodes", '[');
	for_each_node_in(n, t->nodes)
		json_node(&j, f, t, n);
	json_close(&j, ']');
	json_tiers(&j, t);
	json_open(&j, "regions", '[');
	for (i = 0; i < f->nr_regions; i++)
		json_region(&j, &f->regions[i], t);
	json_close(&j, ']');
	json_events(&j, ev);
	json_problems(&j);
	json_close(&j, '}');
	numa_bitmask_free(tags);
}

static int cmd_status(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct topology topo;
	struct feature f;
	struct events ev;
	bool json = false;
	int c, spill;

	while ((c = getopt_long(argc, argv, "+:h", options, NULL)) != -1) {
		if (c == 'h') {
			fputs(status_help, stdout);
			return RC_OK;
		}
		if (c != 'j')
			return bad_option("status", c, argv);
		json = true;
	}
	if (optind < argc)
		return usage_error("status", "unexpected argument '%s'", argv[optind]);

	load_feature(&f);
	load_topology(&topo);
	load_events(&ev);
	spill = read_spill();
	if (json)
		status_json(&f, &topo, &ev, spill);
	else
		status_text(&f, &topo, &ev, spill);
	return RC_OK;
}

/* map: the block map of each region, from debugfs */

static const char map_help[] =
"usage: mte-numa [--sysfs-root DIR] map [--json] [--region N] [--width W]\n"
"\n"
"Draw the block map of each tag storage region, read from\n"
TAG_DEBUG_DIR "/regionN/block_map (needs debugfs\n"
"mounted, and root). One character stands for one block, or for a group of\n"
"blocks when the region has more blocks than W: the group shows its worst\n"
"block, T > R > E > ? > - > . A legend and per-state counts follow.\n"
"\n"
"  --json        print one JSON object instead\n"
"  --region N    only region N\n"
"  --width W     at most W characters per region (default 64)\n"
"  -h, --help    this help\n";

/* The kernel's states in the order of its legend, which the summary and JSON keep. */
enum block_state {
	BLOCK_DATA, BLOCK_EVACUATING, BLOCK_TAGS, BLOCK_RELEASING, BLOCK_RESERVED, BLOCK_UNKNOWN,
	NR_BLOCK_STATES
};

/*
 * @rank orders the states for a group of blocks: the highest shows, so a
 * group shows its block nearest to tag use. Tags first; releasing next, as
 * its pages stay the driver's, tags and all, until they are given back;
 * then evacuating, which holds no tags yet. Unknown, from a garbled file,
 * must hide none of those, yet shows over the settled reserved and data.
 */
static const struct {
	char symbol;
	const char *name;
	int rank;
} block_states[NR_BLOCK_STATES] = {
	[BLOCK_DATA] = { '.', "data", 0 },
	[BLOCK_EVACUATING] = { 'E', "evacuating", 3 },
	[BLOCK_TAGS] = { 'T', "tags", 5 },
	[BLOCK_RELEASING] = { 'R', "releasing", 4 },
	[BLOCK_RESERVED] = { '-', "reserved", 1 },
	[BLOCK_UNKNOWN] = { '?', "unknown", 2 },
};

/* The legend of the kernel's block_map: the drawn map keeps its symbols. */
static const char kernel_legend[] =
	". data  E evacuating  T tags  R releasing  - reserved (not hot-plugged)";

struct block_map {
	const struct region *region;
	bool read;			/* false: the file could not be opened */
	char name[128];
	struct num node, block_size;
	unsigned char *state;		/* enum block_state of each block */
	unsigned long nr, alloc;
	unsigned long count[NR_BLOCK_STATES];
	unsigned long bad_rows;
};

static enum block_state block_state_of(char symbol)
{
	int i;

	for (i = 0; i < BLOCK_UNKNOWN; i++)
		if (block_states[i].symbol == symbol)
			return i;
	return BLOCK_UNKNOWN;
}

/* Grow the map to @nr blocks; blocks no row describes stay unknown. */
static void map_grow(struct block_map *m, unsigned long nr)
{
	if (nr > m->alloc) {
		m->alloc = nr > 2 * m->alloc ? nr : 2 * m->alloc;
		m->state = xrealloc(m->state, m->alloc);
	}
	if (nr > m->nr)
		memset(m->state + m->nr, BLOCK_UNKNOWN, nr - m->nr);
	m->nr = nr > m->nr ? nr : m->nr;
}

/*
 * "# tag-storage@140000000 node 1 blocks 32768 block_size 4096": what it
 * says replaces what the region's sysfs files said.
 */
static struct num parse_map_header(struct block_map *m, const char *line)
{
	long long node, block_size, nr;
	struct num blocks = { 0 };
	char name[sizeof(m->name)];
	int end = 0;

	if (sscanf(line, "# %127s node %lld blocks %lld block_size %lld%n", name, &node, &nr,
		   &block_size, &end) != 4 || line[end] || node < 0 || nr < 0 ||
	    (unsigned long long)nr > MAX_BLOCKS || block_size <= 0)
		return blocks;
	memcpy(m->name, name, sizeof(name));
	m->node = (struct num){ true, node };
	m->block_size = (struct num){ true, block_size };
	return (struct num){ true, nr };
}

/* "00000040 ....TT.." : the index of the row's first block, in hex, then one symbol each. */
static void parse_map_row(struct block_map *m, const char *line)
{
	unsigned long long first;
	size_t i, len;
	char *end;

	if (!parse_hex(line, &end, &first) || *end != ' ' || first >= MAX_BLOCKS) {
		m->bad_rows++;
		return;
	}
	end++;
	len = strlen(end);
	if (len > MAX_BLOCKS - first)
		len = MAX_BLOCKS - first;
	map_grow(m, first + len);
	for (i = 0; i < len; i++)
		m->state[first + i] = block_state_of(end[i]);
}

/* The map's length: its header's count, else the region's, else what the rows hold. */
static unsigned long map_length(const struct block_map *m, struct num header_blocks)
{
	const struct num *total = &m->region->blocks[COUNT_TOTAL];

	if (header_blocks.ok)
		return header_blocks.v;
	if (total->ok && (unsigned long long)total->v <= MAX_BLOCKS)
		return total->v;
	return m->nr;
}

static void check_map(struct block_map *m, const char *path, unsigned long nr)
{
	unsigned long i;

	if (m->bad_rows)
		problem("%s: %lu malformed rows skipped", path, m->bad_rows);
	if (m->nr > nr)
		problem("%s: rows past its %lu blocks ignored", path, nr);
	map_grow(m, nr);
	m->nr = nr;
	for (i = 0; i < m->nr; i++)
		m->count[m->state[i]]++;
	if (m->count[BLOCK_UNKNOWN])
		problem("%s truncated or malformed: %lu of %lu blocks unknown", path,
			m->count[BLOCK_UNKNOWN], m->nr);
}

/* Read a region's block map; 0 or -errno if the file cannot be opened. */
static int load_block_map(struct block_map *m, const struct region *r)
{
	char path[PATH_MAX], *line = NULL;
	struct num header_blocks = { 0 };
	unsigned long nr_lines = 0;
	size_t size = 0;
	FILE *f;

	memset(m, 0, sizeof(*m));
	m->region = r;
	snprintf(m->name, sizeof(m->name), "%s", r->name);
	m->node = r->node;
	m->block_size = r->block_size;
	f = sys_fopen(pathf(path, "%s/region%d/block_map", TAG_DEBUG_DIR, r->id), "r");
	if (!f)
		return -errno;
	m->read = true;
	while (getline(&line, &size, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		sanitize(line);
		if (!nr_lines++)
			header_blocks = parse_map_header(m, line);
		if (line[0] != '#')
			parse_map_row(m, line);
	}
	free(line);
	fclose(f);
	if (!header_blocks.ok)
		problem("%s: no valid header (\"# NAME node N blocks N block_size N\")", path);
	check_map(m, path, map_length(m, header_blocks));
	return 0;
}

static unsigned long blocks_per_char(const struct block_map *m, unsigned long width)
{
	return m->nr <= width ? 1 : (m->nr + width - 1) / width;
}

/* The map drawn with one symbol per @per blocks: the worst of each group. */
static char *draw_map(const struct block_map *m, unsigned long per)
{
	char *line = xrealloc(NULL, m->nr / per + 2);
	unsigned long first, b, col = 0;

	for (first = 0; first < m->nr; first += per) {
		enum block_state worst = BLOCK_DATA;

		for (b = first; b < m->nr && b < first + per; b++)
			if (block_states[m->state[b]].rank > block_states[worst].rank)
				worst = m->state[b];
		line[col++] = block_states[worst].symbol;
	}
	line[col] = '\0';
	return line;
}

static void print_summary(const struct block_map *m)
{
	int i;

	printf("  summary:");
	for (i = 0; i < NR_BLOCK_STATES; i++)
		if (i != BLOCK_UNKNOWN || m->count[i])
			printf("%s %lu %s", i ? "," : "", m->count[i], block_states[i].name);
	putchar('\n');
}

static void map_text(const struct block_map *maps, int nr, unsigned long width)
{
	bool unknown = false;
	int i;

	for (i = 0; i < nr; i++) {
		const struct block_map *m = &maps[i];
		unsigned long per = blocks_per_char(m, width);
		char node[24], size[32], *line;

		if (!m->read)
			continue;
		line = draw_map(m, per);
		printf("region%d %s  node %s  %lu blocks of %s, %lu per character\n",
		       m->region->id, m->name[0] ? m->name : "?",
		       num_str(m->node, node, sizeof(node)), m->nr,
		       num_size_str(m->block_size, size, sizeof(size)), per);
		printf("  %s\n", line);
		print_summary(m);
		unknown |= m->count[BLOCK_UNKNOWN] > 0;
		free(line);
	}
	printf("legend: %s%s\n", kernel_legend, unknown ? "  ? unknown" : "");
	printf("a character shows the worst block of its group: T > R > E > %s- > .\n",
	       unknown ? "? > " : "");
}

static void json_map(struct json *j, const struct block_map *m, unsigned long width)
{
	unsigned long per = blocks_per_char(m, width);
	char *line;
	int i;

	json_open(j, NULL, '{');
	json_int(j, "region", m->region->id);
	json_str(j, "name", m->name[0] ? m->name : NULL);
	json_num(j, "node", m->node);
	json_num(j, "block_size", m->block_size);
	if (!m->read) {
		json_str(j, "map", NULL);
		json_close(j, '}');
		return;
	}
	json_int(j, "blocks", m->nr);
	json_int(j, "blocks_per_char", per);
	line = draw_map(m, per);
	json_str(j, "map", line);
	free(line);
	json_open(j, "counts", '{');
	for (i = 0; i < NR_BLOCK_STATES; i++)
		json_int(j, block_states[i].name, m->count[i]);
	json_close(j, '}');
	json_close(j, '}');
}

/* @error: why there is no map at all, or NULL. */
static void map_json(const struct block_map *maps, int nr, unsigned long width,
		     const char *error)
{
	struct json j = { 0 };
	int i;

	json_open(&j, NULL, '{');
	if (error)
		json_str(&j, "error", error);
	json_int(&j, "width", width);
	json_open(&j, "regions", '[');
	for (i = 0; i < nr; i++)
		json_map(&j, &maps[i], width);
	json_close(&j, ']');
	json_problems(&j);
	json_close(&j, '}');
}

/* The block maps of the regions asked for; RC_FAIL if one could not be read. */
static int load_block_maps(const struct feature *f, int only, struct block_map **maps, int *nr)
{
	int i, err, rc = RC_OK;

	*maps = xrealloc(NULL, f->nr_regions * sizeof(**maps));
	*nr = 0;
	for (i = 0; i < f->nr_regions; i++) {
		const struct region *r = &f->regions[i];

		if (only >= 0 && r->id != only)
			continue;
		err = load_block_map(&(*maps)[(*nr)++], r);
		if (!err)
			continue;
		msg("cannot read %s/region%d/block_map: %s; mount debugfs "
		    "(mount -t debugfs none /sys/kernel/debug) and run as root",
		    TAG_DEBUG_DIR, r->id, strerror(-err));
		rc = RC_FAIL;
	}
	return rc;
}

static bool has_region(const struct feature *f, int id)
{
	int i;

	for (i = 0; i < f->nr_regions; i++)
		if (f->regions[i].id == id)
			return true;
	return false;
}

static int cmd_map(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "region", required_argument, NULL, 'r' },
		{ "width", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	long long region = -1, width = DEFAULT_MAP_WIDTH;
	struct block_map *maps;
	struct feature f;
	bool json = false;
	int c, nr, rc;

	while ((c = getopt_long(argc, argv, "+:h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(map_help, stdout);
			return RC_OK;
		case 'j':
			json = true;
			break;
		case 'r':
			if (!parse_option_num(optarg, 0, INT_MAX, &region))
				return usage_error("map", "--region wants a number, not '%s'",
						   optarg);
			break;
		case 'w':
			if (!parse_option_num(optarg, 1, 100000, &width))
				return usage_error("map", "--width wants 1 to 100000, not '%s'",
						   optarg);
			break;
		default:
			return bad_option("map", c, argv);
		}
	}
	if (optind < argc)
		return usage_error("map", "unexpected argument '%s'", argv[optind]);

	load_feature(&f);
	if (!f.built || !f.nr_regions) {
		msg("no tag storage region to map: %s", why_no_tag_node(&f));
		/* A JSON reader still gets a document, and the reason in it. */
		if (json)
			map_json(NULL, 0, width, why_no_tag_node(&f));
		return RC_ABSENT;
	}
	if (region >= 0 && !has_region(&f, region))
		return usage_error("map", "there is no region%lld (see: mte-numa status)", region);
	rc = load_block_maps(&f, region, &maps, &nr);
	if (json)
		map_json(maps, nr, width, NULL);
	else
		map_text(maps, nr, width);
	return rc;
}

/* spill: demotion to lower tiers, where the tag nodes are */

static const char spill_help[] =
"usage: mte-numa [--sysfs-root DIR] spill [on|off]\n"
"\n"
"Show, or first switch on or off, demotion of cold pages to lower memory\n"
"tiers (" DEMOTION_FILE "): with it on,\n"
"reclaim moves pages to the tag nodes instead of dropping or swapping them.\n"
"Then list, for each node with memory, its tier, the nodes it demotes to and\n"
"the tag nodes below it. The targets are derived from the memory tiers: a node\n"
"demotes to the next lower tier, the kernel keeping its exact choice to itself.\n"
"\n"
"  on, off     enable or disable demotion (needs root)\n"
"  -h, --help  this help\n";

static int write_spill(bool on)
{
	FILE *f = sys_fopen(DEMOTION_FILE, "w");
	int err;

	if (!f)
		return -errno;
	err = fputs(on ? "true" : "false", f) < 0 ? -errno : 0;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

static void spill_table(const struct feature *f, const struct topology *t)
{
	struct bitmask *tags = tag_nodes(f), *set = nodes_new(), *below = nodes_new();
	char tier[16], to[256], tagged[256];
	int n, m;

	printf("%-5s %-5s %-11s %s\n", "node", "tier", "demotes to", "tag nodes below");
	for_each_node_in(n, t->memory) {
		demotion_targets(t, n, set);
		format_nodes(set, to, sizeof(to));
		lower_tier_nodes(t, n, set);
		numa_bitmask_clearall(below);
		for_each_node_in(m, set)
			if (numa_bitmask_isbitset(tags, m))
				numa_bitmask_setbit(below, m);
		printf("%-5d %-5s %-11s %s\n", n, tier_name(t, n, tier, sizeof(tier)), to,
		       format_nodes(below, tagged, sizeof(tagged)));
	}
	numa_bitmask_free(below);
	numa_bitmask_free(set);
	numa_bitmask_free(tags);
}

static void spill_text(const struct feature *f, const struct topology *t, int enabled)
{
	struct bitmask *tags = tag_nodes(f);
	char buf[256];

	if (enabled > 0)
		printf("demotion: enabled: reclaim demotes pages to lower tiers\n");
	else if (!enabled)
		printf("demotion: disabled: reclaim drops or swaps pages (enable with: mte-numa spill on)\n");
	else
		printf("demotion: unknown\n");
	if (numa_bitmask_weight(tags))
		printf("tag nodes: %s\n", format_nodes(tags, buf, sizeof(buf)));
	else
		printf("tag nodes: none: %s\n", why_no_tag_node(f));
	if (t->nr_tiers)
		spill_table(f, t);
	else
		printf("no memory tiers: nothing to demote to\n");
	printf("(derived from %s/memory_tier*/nodelist: a node demotes to\n"
	       " the nodes of the next lower tier, nearest first, and may fall back to any lower tier)\n",
	       TIER_DIR);
	numa_bitmask_free(tags);
}

static int cmd_spill(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct topology topo;
	struct feature f;
	int c, on = -1, enabled, err;

	while ((c = getopt_long(argc, argv, "+:h", options, NULL)) != -1) {
		if (c != 'h')
			return bad_option("spill", c, argv);
		fputs(spill_help, stdout);
		return RC_OK;
	}
	if (argc - optind > 1)
		return usage_error("spill", "unexpected argument '%s'", argv[optind + 1]);
	if (optind < argc) {
		if (strcmp(argv[optind], "on") && strcmp(argv[optind], "off"))
			return usage_error("spill", "say on or off, not '%s'", argv[optind]);
		on = !strcmp(argv[optind], "on");
	}

	if (on >= 0) {
		err = write_spill(on);
		if (err) {
			msg("cannot write %s: %s; run as root on a kernel with memory tiering",
			    DEMOTION_FILE, strerror(-err));
			return RC_FAIL;
		}
	}
	enabled = read_spill();
	if (on >= 0 && enabled != on) {
		msg("wrote %s to %s, but it reads %s", on ? "true" : "false", DEMOTION_FILE,
		    enabled < 0 ? "nothing valid" : enabled ? "true" : "false");
		return RC_FAIL;
	}
	load_feature(&f);
	load_topology(&topo);
	spill_text(&f, &topo, enabled);
	return enabled < 0 ? RC_FAIL : RC_OK;
}

/* run: a command under a memory policy that avoids, or keeps to, the tag nodes */

static const char run_help[] =
"usage: mte-numa run (--avoid-tag-nodes | --tag-nodes-only) -- CMD [ARGS...]\n"
"\n"
"Run CMD bound (MPOL_BIND) to some nodes with memory:\n"
"\n"
"  --avoid-tag-nodes  every node with memory but the tag nodes\n"
"  --tag-nodes-only   the tag nodes only\n"
"  -h, --help         this help\n"
"\n"
"If this process already has a policy naming nodes (bind, preferred,\n"
"interleave), the result is limited to those nodes, and it is an error if no\n"
"node is left. run acts on this system: it refuses --sysfs-root.\n";

static const char *const policy_names[] = {
	[MPOL_DEFAULT] = "default", [MPOL_PREFERRED] = "preferred", [MPOL_BIND] = "bind",
	[MPOL_INTERLEAVE] = "interleave", [MPOL_LOCAL] = "local",
	[MPOL_PREFERRED_MANY] = "preferred-many",
};

static const char *policy_name(int mode)
{
	if (mode >= 0 && mode < (int)(sizeof(policy_names) / sizeof(policy_names[0])) &&
	    policy_names[mode])
		return policy_names[mode];
	return "unknown";
}

/* The nodes the current policy names, or NULL if it names none (default, local). */
static struct bitmask *policy_nodes(int *mode)
{
	struct bitmask *set = numa_allocate_nodemask();

	if (get_mempolicy(mode, set->maskp, set->size + 1, NULL, 0)) {
		msg("cannot read this process's memory policy: %s", strerror(errno));
		exit(RC_FAIL);
	}
	*mode &= ~(MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES | MPOL_F_NUMA_BALANCING);
	if (*mode == MPOL_DEFAULT || *mode == MPOL_LOCAL || !numa_bitmask_weight(set)) {
		numa_bitmask_free(set);
		return NULL;
	}
	return set;
}

/*
 * The nodes to bind to: those this process may use (its cpuset's nodes with
 * memory), without or only the tag nodes, and within its current policy.
 */
static struct bitmask *run_nodes(const struct bitmask *tags, bool tag_only)
{
	struct bitmask *allowed = numa_get_mems_allowed(), *set = numa_allocate_nodemask();
	struct bitmask *policy;
	char a[256], t[256], p[256];
	int n, mode;

	policy = policy_nodes(&mode);
	for_each_node_in(n, allowed)
		if (numa_bitmask_isbitset(tags, n) == tag_only &&
		    (!policy || numa_bitmask_isbitset(policy, n)))
			numa_bitmask_setbit(set, n);
	if (!numa_bitmask_weight(set)) {
		msg("no node left to run on: nodes with memory %s, tag nodes %s, current %s policy on %s; %s",
		    format_nodes(allowed, a, sizeof(a)), format_nodes(tags, t, sizeof(t)),
		    policy_name(mode), policy ? format_nodes(policy, p, sizeof(p)) : "any node",
		    "run mte-numa outside that policy or cpuset");
		exit(RC_FAIL);
	}
	if (policy)
		numa_bitmask_free(policy);
	numa_bitmask_free(allowed);
	return set;
}

/* The tag nodes of this system; exits if any of them is unknown. */
static struct bitmask *known_tag_nodes(const struct feature *f)
{
	int i;

	for (i = 0; f->mode == MODE_ACTIVE && i < f->nr_regions; i++) {
		if (region_node(&f->regions[i]) < 0) {
			msg("cannot tell the tag node of region%d; see: mte-numa status",
			    f->regions[i].id);
			exit(RC_FAIL);
		}
	}
	if (f->built && f->mode == MODE_UNKNOWN) {
		msg("cannot tell whether the tag nodes are in use; see: mte-numa status");
		exit(RC_FAIL);
	}
	return tag_nodes(f);
}

static void __attribute__((noreturn)) exec_command(char **argv)
{
	execvp(argv[0], argv);
	msg("cannot run %s: %s", argv[0], strerror(errno));
	/* As env(1) and nice(1) do: the caller can tell this from the command's own failure. */
	exit(errno == ENOENT ? 127 : 126);
}

static int cmd_run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "avoid-tag-nodes", no_argument, NULL, 'a' },
		{ "tag-nodes-only", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct bitmask *tags, *set;
	bool avoid = false, only = false;
	struct feature f;
	int c;

	while ((c = getopt_long(argc, argv, "+:h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(run_help, stdout);
			return RC_OK;
		case 'a':
			avoid = true;
			break;
		case 't':
			only = true;
			break;
		default:
			return bad_option("run", c, argv);
		}
	}
	if (avoid == only)
		return usage_error("run", "give one of --avoid-tag-nodes and --tag-nodes-only");
	if (optind >= argc)
		return usage_error("run", "no command to run");
	if (from_capture)
		return usage_error("run", "run acts on this system; unset --sysfs-root and MTE_NUMA_ROOT");

	load_feature(&f);
	tags = known_tag_nodes(&f);
	if (only && !numa_bitmask_weight(tags)) {
		msg("no tag node: %s", why_no_tag_node(&f));
		return RC_ABSENT;
	}
	/* Without NUMA there is no tag node, so nothing to avoid. */
	if (avoid && numa_available() < 0)
		exec_command(argv + optind);
	set = run_nodes(tags, only);
	numa_set_membind(set);
	if (numa_failed)
		return RC_FAIL;
	exec_command(argv + optind);
}

/* main */

static const char main_help[] =
"usage: mte-numa [--sysfs-root DIR] COMMAND [ARGS]\n"
"\n"
"Inspect and steer MTE tag storage hot-plugged as CPU-less NUMA nodes.\n"
"\n"
"commands:\n"
"  status [--json]                        mode, knobs, nodes, tiers, regions, counters\n"
"  map [--json] [--region N] [--width W]  block map of each region (needs debugfs)\n"
"  spill [on|off]                         show or switch demotion to lower tiers\n"
"  run (--avoid-tag-nodes | --tag-nodes-only) -- CMD [ARGS...]\n"
"                                         run CMD bound off or onto the tag nodes\n"
"  bench [--json] [--quick] [--baseline FILE]\n"
"                                         measure the performance bar's figures\n"
"\n"
"options:\n"
"  --sysfs-root DIR  read /sys and /proc under DIR, e.g. a captured tree\n"
"                    (also: MTE_NUMA_ROOT=DIR); run refuses it\n"
"  -h, --help        this help; mte-numa COMMAND --help for a command's\n"
"\n"
"exit: 0 success, 1 failure, 2 usage error, 3 feature or tag node absent\n";

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "status", cmd_status },
	{ "map", cmd_map },
	{ "spill", cmd_spill },
	{ "run", cmd_run },
	{ "bench", cmd_bench },
};

/* Global options, up to the command; returns the command's index in argv, or -RC. */
static int parse_global(int argc, char **argv)
{
	static const struct option options[] = {
		{ "sysfs-root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *root = getenv("MTE_NUMA_ROOT");
	int c;

	while ((c = getopt_long(argc, argv, "+:h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(main_help, stdout);
			return -RC_OK;
		case 'r':
			root = optarg;
			break;
		case ':':
			msg("option '%s' needs a value (see: mte-numa --help)", argv[optind - 1]);
			return -RC_USAGE;
		default:
			msg("unknown option '%s' (see: mte-numa --help)", argv[optind - 1]);
			return -RC_USAGE;
		}
	}
	if (root && *root) {
		struct stat st;

		if (stat(root, &st) || !S_ISDIR(st.st_mode)) {
			msg("sysfs root '%s' is not a directory", root);
			return -RC_USAGE;
		}
		sys_root = root;
		from_capture = true;
	}
	if (optind >= argc) {
		fputs(main_help, stderr);
		return -RC_USAGE;
	}
	return optind;
}

static int run_command(int argc, char **argv)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name))
			continue;
		optind = 0;	/* glibc: restart getopt, "+" mode included */
		return commands[i].fn(argc, argv);
	}
	msg("unknown command '%s' (see: mte-numa --help)", argv[0]);
	return RC_USAGE;
}

int main(int argc, char **argv)
{
	int first, rc;

	/* Errors are reported by the tool itself, with its prefix. */
	opterr = 0;
	first = parse_global(argc, argv);
	if (first <= 0)
		return -first;
	rc = run_command(argc - first, argv + first);
	if (fflush(stdout) || ferror(stdout)) {
		msg("cannot write the output: %s", strerror(errno));
		return RC_FAIL;
	}
	return rc;
}
