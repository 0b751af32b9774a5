/* SPDX-License-Identifier: MIT */
/*
 * The processes `trackalloc top` watches, seen through /proc
 * (top-procs.c): whether one has exited, and, when top watches every
 * process (no -p), attach requests to those that start with libtrackalloc
 * preloaded after top did.
 */
#ifndef TA_TOP_PROCS_H
#define TA_TOP_PROCS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Is process @pid still there, and still the program named @procname (a
 * recycled pid runs another)? @procname NULL: any. */
bool tp_alive(int64_t pid, const char *procname);

struct tp_scan;

/* A scanner for processes of user @uid ((uid_t)-1: of every user); NULL:
 * out of memory. */
struct tp_scan *tp_scan_new(uid_t uid);
void tp_scan_free(struct tp_scan *s);

/*
 * Look at the processes started since the last call (and at those asked
 * before that have not loaded LTTng-UST yet): each that has libtrackalloc
 * loaded and accepts attach requests gets one, again after a while when it
 * has not acted on it (a process acts at its next malloc), up to a few
 * times. @now is a CLOCK_MONOTONIC time in seconds. Returns how many
 * requests were sent.
 */
unsigned tp_scan_attach(struct tp_scan *s, double now);

#endif /* TA_TOP_PROCS_H */
