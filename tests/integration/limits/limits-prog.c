/* SPDX-License-Identifier: MIT */
/*
 * An unmodified program for TRACKALLOC_LIMITS (limits-env.sh): it does not
 * link libtrackalloc. Under TRACKALLOC_GROUPS='lib:exe=app' every
 * allocation it makes itself is charged to the rule group "app". With
 * "explicit" as its second argument it registers and enters "app" itself,
 * through the preloaded library's API found with dlsym (without the
 * preload it runs in no group). Compiled without optimisation and without
 * builtins, so that every call below is made.
 *
 * It allocates 1024-byte blocks, 60 at most, until one fails, then, with
 * those blocks still held, tries each allocation function once (1 byte,
 * or a block's worth for realloc), then frees a block and allocates it
 * again, and 1 byte more. Only then, everything freed, does it print what
 * happened (stdio's buffer comes after): one line per step, the same on
 * every run that refuses nothing.
 *
 *   ta-limits-prog [EXIT_STATUS [explicit]]   exits with EXIT_STATUS (default 0)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXBLK 60
#define BLK 1024

static void *volatile sink;
static void *blk[MAXBLK];
static char line[16][128];
static int nline;

static const char *err_name(int e)
{
	return e == ENOMEM ? "ENOMEM" : e == 0 ? "no errno" : strerror(e);
}

/* One step's result: "ok", or how it failed. */
static void result(const char *what, void *p, int err, const char *extra)
{
	if (p)
		snprintf(line[nline++], sizeof(line[0]), "%s: ok", what);
	else
		snprintf(line[nline++], sizeof(line[0]), "%s: %s%s", what, err_name(err), extra);
	free(p);
}

/* trackalloc.h's ta_guard, by value */
struct guard {
	uint64_t seq;
	uint32_t depth, gid;
};

/* Enter the group "app" when the preloaded library is there. */
static void enter_app(void)
{
	void *(*reg)(const char *, const void *, size_t);
	struct guard (*enter)(void *);
	void *sym_reg = dlsym(RTLD_DEFAULT, "ta_group_register");
	void *sym_enter = dlsym(RTLD_DEFAULT, "ta_group_enter");
	void *app;

	if (!sym_reg || !sym_enter)
		return;
	memcpy(&reg, &sym_reg, sizeof(reg));
	memcpy(&enter, &sym_enter, sizeof(enter));
	app = reg("app", NULL, 0);
	if (app)
		(void)enter(app); /* until exit */
}

int main(int argc, char **argv)
{
	int status = argc > 1 ? atoi(argv[1]) : 0, n = 0, err = 0, i;
	void *p, *q = (void *)&line, *kept;
	char *old;

	if (argc > 2 && strcmp(argv[2], "explicit") == 0)
		enter_app();
	for (; n < MAXBLK; n++) {
		errno = 0;
		p = malloc(BLK);
		if (!p) {
			err = errno;
			break;
		}
		blk[n] = sink = p;
	}
	if (n < MAXBLK)
		snprintf(line[nline++], sizeof(line[0]), "malloc: %d blocks of %d bytes, then %s", n,
		         BLK, err_name(err));
	else
		snprintf(line[nline++], sizeof(line[0]), "malloc: %d blocks of %d bytes", n, BLK);

	errno = 0;
	p = calloc(1, 1);
	result("calloc", p, errno, "");

	old = blk[0];
	memset(old, 'x', BLK);
	errno = 0;
	p = realloc(old, 2 * BLK);
	if (p) {
		blk[0] = p;
		snprintf(line[nline++], sizeof(line[0]), "realloc: ok");
	} else {
		int intact = 1;

		for (i = 0; i < BLK; i++)
			intact &= old[i] == 'x';
		snprintf(line[nline++], sizeof(line[0]), "realloc: %s, the old block %s",
		         err_name(errno), intact ? "intact" : "CHANGED");
	}

	i = posix_memalign(&q, 64, 1);
	if (i == 0)
		result("posix_memalign", q, 0, "");
	else
		snprintf(line[nline++], sizeof(line[0]), "posix_memalign: returned %s, *out %s",
		         err_name(i), q == (void *)&line ? "untouched" : "CHANGED");

	errno = 0;
	p = aligned_alloc(64, 64);
	result("aligned_alloc", p, errno, "");
	errno = 0;
	p = memalign(64, 1);
	result("memalign", p, errno, "");
	errno = 0;
	p = valloc(1);
	result("valloc", p, errno, "");
	errno = 0;
	p = pvalloc(1);
	result("pvalloc", p, errno, "");

	/* one block back, and that much again */
	free(blk[--n]);
	errno = 0;
	kept = malloc(BLK);
	err = errno;
	errno = 0;
	p = malloc(1);
	snprintf(line[nline++], sizeof(line[0]), "after a free: malloc(%d) %s, malloc(1) %s", BLK,
	         kept ? "ok" : err_name(err), p ? "ok" : err_name(errno));
	free(p);
	free(kept);

	while (n > 0)
		free(blk[--n]);
	for (i = 0; i < nline; i++)
		printf("%s\n", line[i]);
	return status;
}
