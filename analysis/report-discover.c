/* SPDX-License-Identifier: MIT */
/*
 * Finding the CTF traces under a directory, and checking them for the
 * truncations babeltrace2 would not report (or would hang on) before the
 * graph reads them.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report-discover.h"

/* nftw has no user pointer */
static struct rp_dirlist *found_dirs;

static int collect_metadata(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	if (type == FTW_F && !strcmp(path + ftw->base, "metadata")) {
		struct rp_dirlist *d = found_dirs;
		char *dir;

		if (d->n == d->cap) {
			size_t ncap = d->cap ? d->cap * 2 : 8;
			void *n = realloc(d->v, ncap * sizeof(*d->v));

			if (!n)
				return -1;
			d->v = n;
			d->cap = ncap;
		}
		dir = strndup(path, ftw->base ? (size_t)ftw->base - 1 : 0);
		if (!dir)
			return -1;
		d->v[d->n++] = dir;
	}
	return 0;
}

static uint32_t u32_at(const unsigned char *b, bool le)
{
	return le ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24 :
	            (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint64_t be64(const unsigned char *b)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/*
 * LTTng writes an index next to each stream file (index/NAME.idx: a 16-byte
 * header, then one entry per packet, big-endian, starting with the packet's
 * offset and size in bits). babeltrace2 rebuilds a bad index from the stream
 * itself, so a stream file cut at a packet boundary would be read without a
 * word: compare each stream file with its index. 1: truncated (message in
 * @why), 0: fine or no usable index.
 */
static int stream_truncated(const char *dir, const char *idx_name, char **why)
{
	char *idx_path = NULL, *stream_path = NULL;
	unsigned char hdr[16], ent[16];
	uint64_t entry_len, expect = 0;
	struct stat st;
	FILE *f = NULL;
	int ret = 0;

	if (asprintf(&idx_path, "%s/index/%s", dir, idx_name) < 0 ||
	    asprintf(&stream_path, "%s/%.*s", dir, (int)(strlen(idx_name) - 4), idx_name) < 0)
		goto out;
	f = fopen(idx_path, "rb");
	if (!f || fread(hdr, 1, 16, f) != 16 || be64(hdr) >> 32 != 0xC1F1DCC1u)
		goto out;
	entry_len = be64(hdr + 8) & 0xffffffffu;
	if (entry_len < 16)
		goto out;
	for (uint64_t off = 16;; off += entry_len) {
		if (fseeko(f, (off_t)off, SEEK_SET) || fread(ent, 1, 16, f) != 16)
			break;
		if (be64(ent) + be64(ent + 8) / 8 > expect)
			expect = be64(ent) + be64(ent + 8) / 8;
	}
	if (stat(stream_path, &st)) {
		ret = asprintf(why, "stream file %s is missing (its index lists %llu bytes)",
		               stream_path, (unsigned long long)expect) < 0 ? 0 : 1;
	} else if ((uint64_t)st.st_size < expect) {
		ret = asprintf(why, "truncated stream file %s (%llu bytes, its index lists %llu)",
		               stream_path, (unsigned long long)st.st_size,
		               (unsigned long long)expect) < 0 ? 0 : 1;
	}
out:
	if (f)
		fclose(f);
	free(idx_path);
	free(stream_path);
	return ret;
}

/*
 * Packetized metadata (what LTTng writes): packets of a 37-byte header
 * (magic 0x75D11D57 in the tracer's byte order, UUID, checksum, content and
 * packet sizes in bits, ...) then text. babeltrace2 2.0.4 loops forever on
 * a metadata file whose last packet is cut short, so check that the packets
 * tile the file. Plain-text metadata is left to babeltrace2.
 */
static char *metadata_truncation(const char *dir)
{
	unsigned char h[37], magic[4];
	char *path = NULL, *why = NULL;
	struct stat st;
	FILE *f;
	bool le;
	uint64_t off = 0;

	if (asprintf(&path, "%s/metadata", dir) < 0)
		return NULL;
	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st) || fread(magic, 1, 4, f) != 4)
		goto out;
	if (!memcmp(magic, "\x57\x1D\xD1\x75", 4))
		le = true;
	else if (!memcmp(magic, "\x75\xD1\x1D\x57", 4))
		le = false;
	else
		goto out; /* plain text */
	while (off < (uint64_t)st.st_size) {
		uint32_t content, packet;

		if (fseeko(f, (off_t)off, SEEK_SET) || fread(h, 1, sizeof(h), f) != sizeof(h))
			break;
		content = u32_at(h + 24, le);
		packet = u32_at(h + 28, le);
		if (memcmp(h, magic, 4) || packet / 8 < sizeof(h) || content > packet || packet % 8)
			break;
		off += packet / 8;
	}
	if (off > (uint64_t)st.st_size &&
	    asprintf(&why, "truncated metadata file %s (%llu bytes, its packets need %llu)", path,
	             (unsigned long long)st.st_size, (unsigned long long)off) < 0)
		why = NULL;
	if (off < (uint64_t)st.st_size &&
	    asprintf(&why, "corrupt metadata file %s (no valid packet header at byte %llu)", path,
	             (unsigned long long)off) < 0)
		why = NULL;
out:
	if (f)
		fclose(f);
	free(path);
	return why;
}

char *rp_find_truncation(const char *dir)
{
	char *idx_dir, *why = metadata_truncation(dir);
	struct dirent **ents = NULL;
	int n;

	if (why || asprintf(&idx_dir, "%s/index", dir) < 0)
		return why;
	n = scandir(idx_dir, &ents, NULL, alphasort);
	free(idx_dir);
	for (int i = 0; i < n; i++) {
		size_t len = strlen(ents[i]->d_name);

		if (!why && len > 4 && !strcmp(ents[i]->d_name + len - 4, ".idx"))
			stream_truncated(dir, ents[i]->d_name, &why);
		free(ents[i]);
	}
	free(ents);
	return why;
}

int rp_find_traces(const char *dir, struct rp_dirlist *out)
{
	found_dirs = out;
	return nftw(dir, collect_metadata, 16, FTW_PHYS) != 0 ? -1 : 0;
}

void rp_dirlist_free(struct rp_dirlist *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i]);
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}
