/* SPDX-License-Identifier: MIT */
/*
 * trackalloc-gate: lets `trackalloc record -- CMD` record CMD and its
 * descendants only. It sets the session's user-space vpid tracker to an
 * include set (empty: nothing is recorded), then listens on a Unix socket.
 * Every process with libtrackalloc loaded and TRACKALLOC_RECORD_GATE set to
 * that socket connects to it before it registers with the session daemon
 * (at start, and in a fork child), sends its pid, and waits for the reply:
 * by then its pid is in the tracker, so the session records it from its
 * first event. The environment variable is inherited, so descendants join
 * and unrelated processes never do.
 *
 *   trackalloc-gate SESSION SOCKET
 *
 * Prints "READY" once it listens; ends on SIGTERM, SIGINT or when its
 * standard input closes. Exit status 0, or 1 with the reason on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <lttng/lttng.h>

static const char *prog = "trackalloc-gate";
static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Read "PID\n" from @fd, track it, answer "ok\n" (or "no\n"). */
static void serve(int fd, struct lttng_process_attr_tracker_handle *tracker)
{
	char buf[32];
	size_t len = 0;
	long pid;
	char *end;
	enum lttng_process_attr_tracker_handle_status st;
	const char *reply = "no\n";

	while (len < sizeof(buf) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 2000) <= 0)
			break;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	buf[len] = '\0';
	pid = strtol(buf, &end, 10);
	if (pid > 0 && pid <= 0x7fffffff && *end == '\n') {
		st = lttng_process_attr_virtual_process_id_tracker_handle_add_pid(tracker,
		                                                                 (pid_t)pid);
		if (st == LTTNG_PROCESS_ATTR_TRACKER_HANDLE_STATUS_OK ||
		    st == LTTNG_PROCESS_ATTR_TRACKER_HANDLE_STATUS_EXISTS)
			reply = "ok\n";
		else
			fprintf(stderr, "%s: cannot track process %ld (status %d)\n", prog, pid,
			        (int)st);
	}
	if (write(fd, reply, strlen(reply)) < 0) {
		/* the process gave up waiting: nothing to tell it */
	}
}

int main(int argc, char **argv)
{
	struct lttng_process_attr_tracker_handle *tracker = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sigaction stop = { .sa_handler = on_stop };
	enum lttng_error_code err;
	int lfd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s SESSION SOCKET\n", prog);
		return 2;
	}
	if (strlen(argv[2]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "%s: socket path too long: %s\n", prog, argv[2]);
		return 1;
	}
	strcpy(sa.sun_path, argv[2]);
	err = lttng_session_get_tracker_handle(argv[1], LTTNG_DOMAIN_UST,
	                                       LTTNG_PROCESS_ATTR_VIRTUAL_PROCESS_ID, &tracker);
	if (err != LTTNG_OK) {
		fprintf(stderr, "%s: session %s: %s\n", prog, argv[1], lttng_strerror(-(int)err));
		return 1;
	}
	if (lttng_process_attr_tracker_handle_set_tracking_policy(
	            tracker, LTTNG_TRACKING_POLICY_INCLUDE_SET) !=
	    LTTNG_PROCESS_ATTR_TRACKER_HANDLE_STATUS_OK) {
		fprintf(stderr, "%s: cannot restrict session %s to chosen processes\n", prog,
		        argv[1]);
		return 1;
	}
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 64) != 0) {
		fprintf(stderr, "%s: cannot listen on %s: %s\n", prog, argv[2], strerror(errno));
		return 1;
	}
	sigemptyset(&stop.sa_mask);
	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGINT, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	printf("READY\n");
	fflush(stdout);
	while (!stopping) {
		struct pollfd p[2] = { { .fd = lfd, .events = POLLIN }, { .fd = 0, .events = POLLIN } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents) /* the recorder went away or closed our input */
			break;
		if (p[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0) {
				serve(fd, tracker);
				close(fd);
			}
		}
	}
	close(lfd);
	unlink(argv[2]);
	lttng_process_attr_tracker_handle_destroy(tracker);
	return 0;
}
