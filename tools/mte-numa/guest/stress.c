// SPDX-License-Identifier: GPL-2.0-only
/*
 * stress: the mixed PROT_MTE workload of mix.c for a while, for the guest
 * stress test.
 *
 *   stress [--seconds S] [--threads N] [--slots K] [--max-pages P]
 *          [--pageout] [--tag-node NID] [--seed X]
 *
 * --pageout adds MADV_PAGEOUT (swap must be on); forks then share swap
 * entries, so paged-out objects come back through the swap cache too.
 *
 * Prints "key value" lines: the count of each operation, then the errors
 * (checksum_errors, tag_errors, tag_faults, child_failures,
 * syscall_failures) and "errors", their sum. Exits 0 if it is 0, 1 if
 * not, 2 if the workload could not run.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../mix.h"

static void usage(void)
{
	fprintf(stderr, "usage: stress [--seconds S] [--threads N] [--slots K] [--max-pages P]\n"
			"              [--pageout] [--tag-node NID] [--seed X]\n");
	exit(2);
}

static long number(const char *s, long min, long max)
{
	char *end;
	long v = strtol(s, &end, 0);

	if (*s == '\0' || *end || v < min || v > max)
		usage();
	return v;
}

static void report(const char *key, unsigned long value)
{
	printf("%s %lu\n", key, value);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "slots", required_argument, NULL, 'k' },
		{ "max-pages", required_argument, NULL, 'p' },
		{ "pageout", no_argument, NULL, 'o' },
		{ "tag-node", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 'r' },
		{ 0 }
	};
	struct mix_config cfg = {
		.threads = 4, .seconds = 60, .slots = 32, .max_pages = 16, .thp = true,
		.fork = true, .tag_node = -1, .seed = 1,
	};
	unsigned long ops = 0;
	struct mix_counts c;
	int opt, err, i;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			cfg.seconds = number(optarg, 1, 86400);
			break;
		case 't':
			cfg.threads = number(optarg, 1, 64);
			break;
		case 'k':
			cfg.slots = number(optarg, 1, 4096);
			break;
		case 'p':
			cfg.max_pages = number(optarg, 1, 4096);
			break;
		case 'o':
			cfg.pageout = true;
			break;
		case 'n':
			cfg.tag_node = number(optarg, -1, 1023);
			break;
		case 'r':
			cfg.seed = number(optarg, 0, 1L << 30);
			break;
		default:
			usage();
		}
	}
	if (optind < argc)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	err = mix_run(&cfg, &c);
	if (err) {
		fprintf(stderr, "stress: cannot run the workload: %s\n", strerror(-err));
		return 2;
	}
	for (i = 0; i < NR_MIX_OPS; i++) {
		char key[32];

		snprintf(key, sizeof(key), "ops_%s", mix_op_names[i]);
		report(key, c.ops[i]);
		ops += c.ops[i];
	}
	report("ops", ops);
	report("mib_written", c.bytes_written >> 20);
	report("paged_out_pages", c.paged_out_pages);
	report("swapin_verifies", c.swapin_verifies);
	report("checksum_errors", c.checksum_errors);
	report("tag_errors", c.tag_errors);
	report("tag_faults", c.tag_faults);
	report("child_failures", c.child_failures);
	report("syscall_failures", c.syscall_failures);
	report("errors_after_swapin", c.errors_after_swapin);
	report("errors", mix_errors(&c));
	return mix_errors(&c) ? 1 : 0;
}
