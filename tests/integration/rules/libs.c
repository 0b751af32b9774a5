/* SPDX-License-Identifier: MIT */
/*
 * The lib-rules test program (rules-libs.sh): linked with libta-rules-a.so
 * and libta-rules-b.so.3, it dlopens libta-rules-c.so, dlcloses it, dlopens
 * libta-rules-d.so (which the loader tends to put where c was), then c
 * again at another address (a placeholder mapping covers c's old range).
 * Each library's ta_rules_work_X() allocates known amounts (lib-work.c),
 * twice for a and b (on the main thread, then on another), once for d,
 * twice for c (once per load); this program frees the block each returns. Its own calls, outside any group:
 *
 *   malloc(5000), realloc'd to 7000; calloc(5, 100); strdup(40 'y');
 *   fopen/fclose                 12541 bytes in 4 objects, plus one fopen
 *
 * Everything else it does (dlopen, dlclose, stdio, the fopen probe) runs
 * inside explicit groups, which beat every rule. It prints what one fopen
 * allocates, measured in an explicit group:
 *
 *   fopen_bytes=N fopen_objects=N
 *
 *   ta-rules-libs LIBC_PATH LIBD_PATH
 * Exit status 0; 3 if c could not be loaded at another address; 2 for
 * any other failure.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <trackalloc.h>

void *ta_rules_work_a(void);
void *ta_rules_work_b(void);

static void *volatile sink;
static ta_group *harness;

static void die(const char *what, const char *why)
{
	TA_GROUP_SCOPE(harness);
	fprintf(stderr, "ta-rules-libs: %s: %s\n", what, why ? why : "failed");
	exit(2);
}

/* The range of the object loaded at @base (all its PT_LOAD segments). */
struct range {
	uintptr_t base, lo, hi;
};

static int find_range(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct range *r = arg;
	int i;

	(void)size;
	if (info->dlpi_addr != r->base)
		return 0;
	r->lo = UINTPTR_MAX;
	r->hi = 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		if (info->dlpi_addr + ph->p_vaddr < r->lo)
			r->lo = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > r->hi)
			r->hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
	return 1;
}

/* dlopen @path inside the harness group; its work function and range. */
static void *load(const char *path, const char *fn, void *(**work)(void), struct range *r)
{
	struct link_map *lm;
	void *h;

	TA_GROUP_SCOPE(harness);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		die(path, dlerror());
	*(void **)work = dlsym(h, fn);
	if (!*work)
		die(fn, dlerror());
	if (dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0)
		die("dlinfo", dlerror());
	r->base = lm->l_addr;
	if (dl_iterate_phdr(find_range, r) != 1)
		die(path, "not in dl_iterate_phdr's list");
	return h;
}

static void unload(void *h, const char *path)
{
	TA_GROUP_SCOPE(harness);
	if (dlclose(h) != 0)
		die("dlclose", dlerror());
	h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
	if (h)
		die(path, "still loaded after dlclose");
}

/* Call a library's work function, here in no group, and free its block. */
static void call(void *(*work)(void), const char *name)
{
	void *p = work();

	if (!p)
		die(name, "allocation failed");
	free(p);
}

/* The program's own allocations (see the top). */
static void own_work(void)
{
	char text[41];
	void *p = malloc(5000), *q = calloc(5, 100);
	char *s;
	FILE *f;

	sink = p;
	sink = q;
	memset(text, 'y', 40);
	text[40] = '\0';
	p = p ? realloc(p, 7000) : NULL;
	sink = p;
	s = strdup(text);
	sink = s;
	f = fopen("/dev/null", "r");
	if (!p || !q || !s || !f)
		die("own allocations", NULL);
	fclose(f);
	free(s);
	free(q);
	free(p);
}

/* a's and b's work once more, on another thread (its own module cache). */
static void *other_thread(void *arg)
{
	(void)arg;
	call(ta_rules_work_a, "a on another thread");
	call(ta_rules_work_b, "b on another thread");
	return NULL;
}

int main(int argc, char **argv)
{
	void *(*work_c)(void), *(*work_d)(void), *hc, *hd, *hole;
	struct range c1, c2, d;
	struct ta_stats before, after;
	ta_group *probe;
	FILE *f;

	if (argc != 3)
		die("usage", "ta-rules-libs LIBC_PATH LIBD_PATH");
	harness = ta_group_register("harness", NULL, 0);
	probe = ta_group_register("fopen-probe", NULL, 0);
	if (!harness || !probe)
		die("ta_group_register", strerror(errno));

	/* What one fopen costs (after a first one: nothing left to set up). */
	{
		TA_GROUP_SCOPE(harness);
		f = fopen("/dev/null", "r");
		if (!f)
			die("fopen", strerror(errno));
		fclose(f);
		if (ta_group_stats(probe, &before) != 0)
			die("ta_group_stats", NULL);
	}
	{
		TA_GROUP_SCOPE(probe);
		f = fopen("/dev/null", "r");
		if (f)
			fclose(f);
	}
	if (ta_group_stats(probe, &after) != 0 || after.allocated_objects == before.allocated_objects)
		die("fopen probe", "nothing counted: is the wrapper the allocator?");

	own_work();
	call(ta_rules_work_a, "a");
	call(ta_rules_work_b, "b");
	{
		pthread_t th;

		TA_GROUP_SCOPE(harness); /* what pthread_create allocates */
		if (pthread_create(&th, NULL, other_thread, NULL) != 0 ||
		    pthread_join(th, NULL) != 0)
			die("pthread_create", NULL);
	}

	hc = load(argv[1], "ta_rules_work_c", &work_c, &c1);
	call(work_c, "c");
	unload(hc, argv[1]);

	/* d, probably where c was; then a placeholder over what is left of
	 * c's old range, so that c cannot come back there */
	hd = load(argv[2], "ta_rules_work_d", &work_d, &d);
	call(work_d, "d");
	hole = mmap((void *)c1.lo, c1.hi - c1.lo, PROT_NONE,
	            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (hole == MAP_FAILED && errno != EEXIST)
		die("mmap", strerror(errno));
	hc = load(argv[1], "ta_rules_work_c", &work_c, &c2);
	{
		TA_GROUP_SCOPE(harness);
		printf("c first at %#lx, d at %#lx (%s), c again at %#lx\n", (unsigned long)c1.base,
		       (unsigned long)d.base, d.base == c1.base ? "c's old address" : "elsewhere",
		       (unsigned long)c2.base);
		fflush(stdout);
	}
	if (c2.lo < c1.hi && c1.lo < c2.hi) {
		TA_GROUP_SCOPE(harness);
		fprintf(stderr, "ta-rules-libs: c was loaded again over its old range\n");
		return 3;
	}
	call(work_c, "c again");
	unload(hc, argv[1]);
	(void)hd;

	{
		TA_GROUP_SCOPE(harness);
		printf("fopen_bytes=%llu fopen_objects=%llu\n",
		       (unsigned long long)(after.allocated_bytes - before.allocated_bytes),
		       (unsigned long long)(after.allocated_objects - before.allocated_objects));
		fflush(stdout);
	}
	return 0;
}
