/* SPDX-License-Identifier: MIT */
/* Support shared by the unit tests and their helper programs. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ta-test.h"

#ifndef TA_SONAME
#error "TA_SONAME must name libtrackalloc's SONAME (set by tests/unit/meson.build)"
#endif

struct tw_fns tw;

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "ta-test: %s: %s\n", what, detail ? detail : "(no detail)");
	exit(99); /* meson: hard error, not a test failure or a skip */
}

/* dlsym into a function pointer without the object/function pointer cast
 * that ISO C leaves undefined. */
static void resolve(void *handle, const char *name, void *fnptr)
{
	void *sym = dlsym(handle, name);

	if (!sym)
		die("cannot resolve", name);
	memcpy(fnptr, &sym, sizeof(sym));
}

void tw_init(void)
{
	void *ta, *libc;

	if (tw.malloc)
		return;
	/* Already loaded (the test links it): NOLOAD only hands back the handle,
	 * whose lookup scope starts with libtrackalloc.so's own definitions. */
	ta = dlopen(TA_SONAME, RTLD_NOLOAD | RTLD_NOW);
	if (!ta)
		die("dlopen " TA_SONAME, dlerror());
	libc = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_NOW);
	if (!libc)
		die("dlopen libc.so.6", dlerror());
	resolve(ta, "malloc", &tw.malloc);
	resolve(ta, "free", &tw.free);
	resolve(ta, "calloc", &tw.calloc);
	resolve(ta, "realloc", &tw.realloc);
	resolve(ta, "reallocarray", &tw.reallocarray);
	resolve(ta, "posix_memalign", &tw.posix_memalign);
	resolve(ta, "aligned_alloc", &tw.aligned_alloc);
	resolve(ta, "memalign", &tw.memalign);
	resolve(ta, "valloc", &tw.valloc);
	resolve(ta, "pvalloc", &tw.pvalloc);
	resolve(ta, "malloc_usable_size", &tw.malloc_usable_size);
	resolve(ta, "free_sized", &tw.free_sized);
	resolve(ta, "free_aligned_sized", &tw.free_aligned_sized);
	resolve(libc, "__libc_calloc", &tw.libc_calloc);
	resolve(libc, "malloc_usable_size", &tw.libc_usable);
	resolve(libc, "mallopt", &tw.libc_mallopt);

	/* If the wrapper's malloc were glibc's, every test below would pass
	 * or fail for the wrong reason. */
	{
		void *libc_malloc;

		resolve(libc, "malloc", &libc_malloc);
		if (memcmp(&libc_malloc, &tw.malloc, sizeof(libc_malloc)) == 0)
			die("tw_init", "libtrackalloc's malloc resolves to glibc's");
	}
}

ta_group *group_new(const char *prefix)
{
	static unsigned serial;
	char name[TA_GROUP_NAME_MAX + 1];
	ta_group *g;

	snprintf(name, sizeof(name), "%s-%ld-%u", prefix, (long)getpid(),
	         __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED));
	g = ta_group_register(name, NULL, 0);
	if (!g)
		die("ta_group_register", strerror(errno));
	return g;
}

struct ta_stats stats_of(const ta_group *g)
{
	struct ta_stats s;
	int ret = ta_group_stats(g, &s);

	if (ret != 0) {
		fprintf(stderr, "ta-test: ta_group_stats failed: %d\n", ret);
		abort();
	}
	return s;
}

struct ta_diag diag_now(void)
{
	struct ta_diag d;
	int ret = ta_diag_read(&d);

	if (ret != 0) {
		fprintf(stderr, "ta-test: ta_diag_read failed: %d\n", ret);
		abort();
	}
	return d;
}

size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

void inner_perturb_off(void)
{
	/* glibc's own mallopt: ASan's interceptor would ignore the call. */
	tw.libc_mallopt(M_PERTURB, 0);
}

static int redirect(const char *path, int fd)
{
	int f;

	if (!path)
		return 0;
	f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (f < 0)
		return -1;
	if (dup2(f, fd) < 0)
		return -1;
	close(f);
	return 0;
}

/* environ with @extra added; a NAME= in @extra replaces the inherited one.
 * Inherited TRACKALLOC_* variables are dropped: a test states the whole
 * configuration of the program it runs. */
static char **env_with(char *const extra[])
{
	size_t n = 0, k = 0, i, j;
	char **env;

	while (environ[n])
		n++;
	while (extra && extra[k])
		k++;
	env = tw.calloc(n + k + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0, n = 0; environ[i]; i++) {
		size_t name_len = strcspn(environ[i], "=");
		int replaced = 0;

		for (j = 0; j < k; j++)
			replaced |= strncmp(extra[j], environ[i], name_len + 1) == 0;
		if (!replaced && strncmp(environ[i], "TRACKALLOC_", 11) != 0)
			env[n++] = environ[i];
	}
	for (j = 0; j < k; j++)
		env[n++] = extra[j];
	return env;
}

int run_program(char *const argv[], char *const extra_env[], const char *out_path,
                const char *err_path)
{
	char **env = env_with(extra_env);
	pid_t pid;
	int status;

	if (!env)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		tw.free(env);
		return -1;
	}
	if (pid == 0) {
		if (redirect(out_path, 1) < 0 || redirect(err_path, 2) < 0)
			_exit(126);
		execve(argv[0], argv, env);
		_exit(127);
	}
	tw.free(env);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

char *slurp(const char *path, size_t *len)
{
	struct stat st;
	size_t off = 0;
	char *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return NULL;
	}
	buf = tw.malloc((size_t)st.st_size + 1);
	while (buf && off < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + off, (size_t)st.st_size - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	close(fd);
	if (!buf)
		return NULL;
	buf[off] = '\0';
	if (len)
		*len = off;
	return buf;
}
