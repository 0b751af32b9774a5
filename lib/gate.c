/* SPDX-License-Identifier: MIT */
/*
 * trackalloc record's gate. Under `trackalloc record -- CMD`, the session
 * records only the processes that asked its gate (analysis/gate.c) to track
 * them: this one asks before it registers with the session daemon, at start
 * and in a fork child (trace.c). Only async-signal-safe calls: it runs in
 * the atfork child handler. A gate that does not answer within
 * TA_GATE_WAIT_MS leaves the process unrecorded, never stuck.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ta-internal.h"
#include "trace-internal.h"

#define TA_GATE_WAIT_MS 5000

void ta_gate_join(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char msg[16], *p = msg + sizeof(msg);
	struct pollfd pfd;
	unsigned long pid = (unsigned long)getpid();
	size_t len = strlen(ta_config.gate);
	int fd, saved = errno; /* in a fork child: fork's caller sees errno */

	*--p = '\n';
	do
		*--p = (char)('0' + pid % 10);
	while ((pid /= 10) != 0);
	memcpy(sa.sun_path, ta_config.gate, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		errno = saved;
		return;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    write(fd, p, (size_t)(msg + sizeof(msg) - p)) > 0) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, TA_GATE_WAIT_MS) > 0) {
			char reply[4];
			ssize_t r = read(fd, reply, sizeof(reply));

			(void)r;
		}
	}
	close(fd);
	errno = saved;
}
