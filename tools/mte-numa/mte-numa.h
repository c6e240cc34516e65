/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mte-numa: what the commands share. mte-numa.c holds the file readers, the
 * JSON emitter and the feature's state; each command that lives in a file
 * of its own (bench.c) uses them through this header.
 */
#ifndef MTE_NUMA_H
#define MTE_NUMA_H

#include <stdbool.h>
#include <stddef.h>

struct bitmask;

/* Exit codes, as documented in mte-numa.8. */
enum {
	RC_OK = 0,
	RC_FAIL = 1,	/* runtime failure */
	RC_USAGE = 2,	/* bad command line */
	RC_ABSENT = 3,	/* the feature or a tag node is needed but absent */
};

#define TAG_DIR		"/sys/kernel/mm/mte_tag_node"
#define TAG_DEBUG_DIR	"/sys/kernel/debug/mte_tag_node"

/* Set by --sysfs-root or MTE_NUMA_ROOT: the files are not this system's. */
extern bool from_capture;

/* messages */
void __attribute__((format(printf, 1, 2))) msg(const char *fmt, ...);
void __attribute__((format(printf, 1, 2))) problem(const char *fmt, ...);
void *xrealloc(void *p, size_t size);

/* A value read from a file: valid only if @ok. */
struct num {
	bool ok;
	long long v;
};

int read_line(const char *path, char *buf, size_t size);
bool parse_count(const char *s, long long *v);
struct num read_num(const char *path);

/* A physical address range as the kernel prints it. */
struct range {
	bool ok;
	unsigned long long start, end;
};

/* A tiny JSON emitter: two-space indented, every string escaped. */
struct json {
	int depth;
	bool first;	/* nothing emitted yet in the innermost container */
};

void json_open(struct json *j, const char *key, char bracket);
void json_close(struct json *j, char bracket);
void json_str(struct json *j, const char *key, const char *s);
void json_int(struct json *j, const char *key, long long v);
void json_num(struct json *j, const char *key, struct num n);
void json_bool(struct json *j, const char *key, bool b);
void json_double(struct json *j, const char *key, double v);
void json_problems(struct json *j);

/* The feature: /sys/kernel/mm/mte_tag_node */
enum tag_mode {
	MODE_UNKNOWN, MODE_NONE, MODE_OFF, MODE_ACTIVE, MODE_PLAIN, NR_MODES
};

extern const char *const mode_names[NR_MODES];

enum block_count {
	COUNT_TOTAL, COUNT_DATA, COUNT_EVACUATING, COUNT_TAGS, COUNT_RELEASING, COUNT_RESERVED,
	NR_COUNTS
};

struct region {
	int id;
	char name[128];
	struct num node, block_size;
	struct num blocks[NR_COUNTS];
	struct range tag, data, online;
};

struct feature {
	bool built;
	enum tag_mode mode;
	char reason[256];
	struct num adistance;
	struct region *regions;
	int nr_regions;
};

void load_feature(struct feature *f);
int region_node(const struct region *r);
struct bitmask *tag_nodes(const struct feature *f);
const char *why_no_tag_node(const struct feature *f);

/* option parsing shared by the commands */
int __attribute__((format(printf, 2, 3))) usage_error(const char *cmd, const char *fmt, ...);
int bad_option(const char *cmd, int c, char **argv);
bool parse_option_num(const char *s, long long min, long long max, long long *v);

/* Commands with a file of their own. */
int cmd_bench(int argc, char **argv);

#endif /* MTE_NUMA_H */
