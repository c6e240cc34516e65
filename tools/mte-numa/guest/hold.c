// SPDX-License-Identifier: GPL-2.0-only
/*
 * hold: fill memory with a checksummable pattern, keep it while the test
 * moves it around (demotion, migration, offlining), then verify it.
 *
 *   hold MIB DIR
 *
 * Writes DIR/ready once the memory is filled (and marked cold, so that
 * reclaim takes it first), waits for DIR/go, checks
 * every byte and exits 0 if the pattern is intact, 1 if not. Nothing else
 * is printed on success.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t pattern(size_t i)
{
	return (i * 0x9e3779b97f4a7c15ULL) ^ 0x5a5a5a5a5a5a5a5aULL;
}

static int touch_file(const char *dir, const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	return fclose(f);
}

static int file_exists(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

int main(int argc, char **argv)
{
	size_t bytes, words, i, bad = 0;
	uint64_t *buf;

	if (argc != 3) {
		fprintf(stderr, "usage: hold MIB DIR\n");
		return 2;
	}
	bytes = strtoul(argv[1], NULL, 0) << 20;
	words = bytes / sizeof(*buf);
	buf = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("hold: mmap");
		return 2;
	}
	for (i = 0; i < words; i++)
		buf[i] = pattern(i);
	/*
	 * Idle until verified: let reclaim take these pages first instead of
	 * rotating gigabytes of freshly referenced ones, which under TCG
	 * stalls the allocations a test is waiting for.
	 */
	madvise(buf, bytes, MADV_COLD);
	if (touch_file(argv[2], "ready")) {
		perror("hold: ready");
		return 2;
	}
	while (!file_exists(argv[2], "go"))
		usleep(20000);
	for (i = 0; i < words; i++)
		bad += buf[i] != pattern(i);
	if (bad) {
		fprintf(stderr, "hold: %zu of %zu words corrupted\n", bad, words);
		return 1;
	}
	return 0;
}
