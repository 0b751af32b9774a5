/* SPDX-License-Identifier: MIT */
/*
 * Finding the CTF traces under a directory and checking them before
 * babeltrace2 reads them (report-discover.c). Used by report-input.c.
 */
#ifndef TA_REPORT_DISCOVER_H
#define TA_REPORT_DISCOVER_H

#include <stddef.h>

struct rp_dirlist {
	char **v;
	size_t n, cap;
};

/* Every directory under @dir (itself included) that holds a CTF "metadata"
 * file, appended to @out. 0, or -1 with errno set. Not thread-safe. */
int rp_find_traces(const char *dir, struct rp_dirlist *out);
void rp_dirlist_free(struct rp_dirlist *d);
/*
 * Why the trace in @trace_dir cannot be read whole, in one line (allocated),
 * or NULL: a stream file shorter than its index says (babeltrace2 would
 * rebuild the index and read a stream cut at a packet boundary without a
 * word), or a packetized metadata file whose packets do not tile it
 * (babeltrace2 2.0.4 loops forever on it).
 */
char *rp_find_truncation(const char *trace_dir);

#endif /* TA_REPORT_DISCOVER_H */
