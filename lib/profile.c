/* SPDX-License-Identifier: MIT */
/*
 * The profile: the live sampled heap per group and stack, in the text
 * format of doc/profile-format.md, written by ta_profile_dump() and at exit
 * (TRACKALLOC_PROFILE). Frames are written as module + offset with every
 * module's build id, so that a later symbolisation finds the right files.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sampling-internal.h"

#define TA_MODULES_MAX 1024
#define TA_BUILD_ID_MAX 64

struct ta_module {
	uintptr_t start, lo, hi; /* load bias; lowest and highest mapped address */
	char path[512];
	unsigned char build_id[TA_BUILD_ID_MAX];
	size_t build_id_len;
};

struct ta_modules {
	struct ta_module *m;
	int n;
};

/* The GNU build id note among @info's PT_NOTE segments. */
static void ta_module_build_id(struct dl_phdr_info *info, struct ta_module *mod)
{
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const char *p, *end;

		if (ph->p_type != PT_NOTE)
			continue;
		p = (const char *)(info->dlpi_addr + ph->p_vaddr);
		end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const char *name = p + sizeof(*nh);
			const char *desc = name + ((nh->n_namesz + 3) & ~3u);

			if (desc + nh->n_descsz > end)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0 && nh->n_descsz <= TA_BUILD_ID_MAX) {
				memcpy(mod->build_id, desc, nh->n_descsz);
				mod->build_id_len = nh->n_descsz;
				return;
			}
			p = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
}

static int ta_module_add(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct ta_modules *mods = arg;
	struct ta_module *mod;
	int i;

	(void)size;
	if (mods->n == TA_MODULES_MAX)
		return 1;
	mod = &mods->m[mods->n];
	memset(mod, 0, sizeof(*mod));
	mod->start = info->dlpi_addr;
	mod->lo = UINTPTR_MAX;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		if (info->dlpi_addr + ph->p_vaddr < mod->lo)
			mod->lo = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > mod->hi)
			mod->hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
	if (!mod->hi)
		return 0;
	if (info->dlpi_name && info->dlpi_name[0]) {
		strncpy(mod->path, info->dlpi_name, sizeof(mod->path) - 1);
	} else if (mods->n == 0) {
		ssize_t n = readlink("/proc/self/exe", mod->path, sizeof(mod->path) - 1);

		if (n > 0)
			mod->path[n] = '\0';
	}
	ta_module_build_id(info, mod);
	mods->n++;
	return 0;
}

static int ta_module_of(const struct ta_modules *mods, uint64_t ip)
{
	int i;

	for (i = 0; i < mods->n; i++)
		if (ip >= mods->m[i].lo && ip < mods->m[i].hi)
			return i;
	return -1;
}

/* A string as the format encodes it: bytes outside '!'..'~', '%' and '='
 * as %XX; the empty string as "%". */
static void ta_out_word(struct ta_out *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	if (!*s)
		ta_out_raw(o, "%", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x21 || c > 0x7e || c == '%' || c == '=') {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };

			ta_out_raw(o, esc, 3);
		} else {
			ta_out_raw(o, (const char *)&c, 1);
		}
	}
}

struct ta_dump {
	struct ta_out *o;
	const struct ta_modules *mods;
	unsigned char *groups_seen; /* bitmap over group ids */
	unsigned char *stacks_seen;
	uint32_t nsites;
};

static int ta_dump_mark(uint32_t gid, uint32_t stack, const struct ta_site_counts *c, void *arg)
{
	struct ta_dump *d = arg;

	(void)c;
	d->groups_seen[gid >> 3] |= (unsigned char)(1u << (gid & 7));
	d->stacks_seen[stack >> 3] |= (unsigned char)(1u << (stack & 7));
	return 0;
}

static int ta_dump_site(uint32_t gid, uint32_t stack, const struct ta_site_counts *c, void *arg)
{
	struct ta_dump *d = arg;

	ta_out_fmt(d->o,
	           "site %u %u live_objects=%llu live_bytes=%llu live_estimate=%llu "
	           "allocated_objects=%llu allocated_bytes=%llu allocated_estimate=%llu\n",
	           gid, stack, (unsigned long long)c->live_objects,
	           (unsigned long long)c->live_bytes, (unsigned long long)c->live_estimate,
	           (unsigned long long)c->allocated_objects,
	           (unsigned long long)c->allocated_bytes,
	           (unsigned long long)c->allocated_estimate);
	d->nsites++;
	return 0;
}

static void ta_dump_modules(struct ta_dump *d)
{
	int i;

	for (i = 0; i < d->mods->n; i++) {
		const struct ta_module *m = &d->mods->m[i];
		size_t k;

		ta_out_fmt(d->o, "module %d 0x%lx 0x%lx ", i, (unsigned long)m->start,
		           (unsigned long)m->hi);
		ta_out_word(d->o, m->path);
		ta_out_raw(d->o, " ", 1);
		if (!m->build_id_len)
			ta_out_raw(d->o, "-", 1);
		for (k = 0; k < m->build_id_len; k++)
			ta_out_fmt(d->o, "%02x", m->build_id[k]);
		ta_out_raw(d->o, "\n", 1);
	}
}

static void ta_dump_groups(struct ta_dump *d)
{
	uint32_t id, n = __atomic_load_n(&ta_ngroups, __ATOMIC_ACQUIRE);

	for (id = 0; id < n; id++) {
		const struct ta_group *g = ta_group_by_id(id);
		uint32_t i;

		if (!g || !(d->groups_seen[id >> 3] & (1u << (id & 7))))
			continue;
		ta_out_fmt(d->o, "group %u ", id);
		ta_out_word(d->o, g->name);
		for (i = 0; i < g->ntags; i++) {
			ta_out_raw(d->o, " ", 1);
			ta_out_word(d->o, g->tags[i].key);
			ta_out_raw(d->o, "=", 1);
			ta_out_word(d->o, g->tags[i].value);
		}
		ta_out_raw(d->o, "\n", 1);
	}
}

static void ta_dump_stacks(struct ta_dump *d)
{
	uint32_t id, n = ta_samples_nstacks();

	for (id = 0; id < n; id++) {
		const uint64_t *ips;
		int depth, i;

		if (!(d->stacks_seen[id >> 3] & (1u << (id & 7))))
			continue;
		depth = ta_samples_stack(id, &ips);
		ta_out_fmt(d->o, "stack %u", id);
		for (i = 0; i < depth; i++) {
			int m = ta_module_of(d->mods, ips[i]);

			if (m < 0)
				ta_out_fmt(d->o, " ?+0x%llx", (unsigned long long)ips[i]);
			else
				ta_out_fmt(d->o, " %d+0x%llx", m,
				           (unsigned long long)(ips[i] - d->mods->m[m].start));
		}
		ta_out_raw(d->o, "\n", 1);
	}
}

/* Write the profile to @path: 0, -ENOMEM (before the file is made), or
 * the negative errno of the open or a write. */
static int ta_profile_write(const char *path)
{
	struct ta_out *o = ta_inner.malloc(sizeof(*o));
	struct ta_modules mods = { ta_inner.malloc(TA_MODULES_MAX * sizeof(struct ta_module)), 0 };
	struct ta_dump d = { o, &mods, ta_inner.calloc(TA_GROUPS_MAX / 8, 1), NULL, 0 };
	struct timespec now;
	int err = -ENOMEM;

	if (!o || !mods.m || !d.groups_seen)
		goto out;
	/* the modules first: dl_iterate_phdr takes the loader's lock, which
	 * must never be taken while holding the samples' */
	dl_iterate_phdr(ta_module_add, &mods);
	clock_gettime(CLOCK_REALTIME, &now);
	ta_samples_lock();
	d.stacks_seen = ta_inner.calloc(ta_samples_nstacks() / 8 + 1, 1);
	if (!d.stacks_seen)
		goto unlock;
	o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (o->fd < 0) {
		err = -errno;
		goto unlock;
	}
	o->len = 0;
	o->failed = 0;
	ta_samples_foreach_site(ta_dump_mark, &d);
	ta_out_fmt(o, "trackalloc-profile 1\npid %ld\ntime %llu\nsampling %llu\n", (long)getpid(),
	           (unsigned long long)now.tv_sec * 1000000000ull + (unsigned long long)now.tv_nsec,
	           (unsigned long long)ta_sampling_get());
	ta_dump_modules(&d);
	ta_dump_groups(&d);
	ta_dump_stacks(&d);
	ta_samples_foreach_site(ta_dump_site, &d);
	ta_out_fmt(o, "end %u\n", d.nsites);
	ta_out_flush(o);
	err = o->failed ? -o->failed : 0;
	if (close(o->fd) != 0 && !err)
		err = -errno;
unlock:
	ta_samples_unlock();
out:
	ta_inner.free(d.stacks_seen);
	ta_inner.free(d.groups_seen);
	ta_inner.free(mods.m);
	ta_inner.free(o);
	return err;
}

TA_API int ta_profile_dump(const char *path)
{
	int err;

	if (!path || !*path)
		return -EINVAL;
	ta_nest_enter();
	err = ta_profile_write(path);
	ta_nest_exit();
	return err;
}

static struct ta_exit_file ta_profile_file;

static void ta_profile_at_exit(void)
{
	char path[4096];
	int err;

	if (!ta_exit_file_path(&ta_profile_file, path, sizeof(path)))
		return;
	err = ta_profile_dump(path);
	if (err)
		ta_exit_file_failed(&ta_profile_file, path, -err);
}

TA_START void ta_profile_setup(void)
{
	if (!ta_config.profile)
		return;
	ta_exit_file_init(&ta_profile_file, "TRACKALLOC_PROFILE", ta_config.profile, false);
	atexit(ta_profile_at_exit);
}
