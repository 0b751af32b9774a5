/* SPDX-License-Identifier: MIT */
/*
 * Looking at a running process from outside for the attach request of
 * trackalloc.h (attach-proc.c): whether it has libtrackalloc loaded, has
 * LTTng-UST loaded already, accepts the request; and sending it. Used by
 * trackalloc-attach (attach.c) and trackalloc-top (top-procs.c). Reads
 * /proc only; never signals but in ap_request().
 */
#ifndef TA_ATTACH_PROC_H
#define TA_ATTACH_PROC_H

#include <stdbool.h>
#include <sys/types.h>

enum ap_state {
	AP_NO_PROCESS,  /* no such process, or its maps are not readable */
	AP_NO_LIBRARY,  /* libtrackalloc.so is not loaded in it */
	AP_LOADED,      /* LTTng-UST is loaded (the provider mapped, its loader done) */
	AP_LOADING,     /* the provider is mapped, its loader thread still runs */
	AP_REFUSES,     /* TRACKALLOC_LTTNG=0, or the program handles the signal */
	AP_CAN_ATTACH,  /* an attach request would load LTTng-UST */
};

/* Where process @pid stands. */
enum ap_state ap_check(pid_t pid);

/* Send the attach request (sigqueue of TA_ATTACH_SIGNAL, TA_ATTACH_COOKIE).
 * Returns 0 or -errno. */
int ap_request(pid_t pid);

/* The reason @st stops an attach, as a sentence fragment after "process
 * PID " (NULL for AP_LOADED, AP_LOADING, AP_CAN_ATTACH). */
const char *ap_refusal(enum ap_state st);

#endif /* TA_ATTACH_PROC_H */
