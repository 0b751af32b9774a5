/* SPDX-License-Identifier: MIT */
/*
 * trackalloc-top: the viewer of `trackalloc top`. The trackalloc command
 * (analysis/trackalloc.in) creates the live session, starts what it needs
 * and runs this program, which reads the session from the relay daemon
 * (top-live.c), keeps the model (top-model.c), and shows it (top-view.c,
 * top-term.c), with sampled-stacks sites (top-stacks.c) and, when every
 * process is watched, attach requests to those that start later
 * (top-procs.c).
 *
 * The start-up handshake: with --ready FILE, FILE is created once this
 * viewer is attached to the session (the relay daemon counts it); with
 * --wait-go, nothing is shown until SIGUSR1 (the command sends it once the
 * session is started and the processes attached), so that the command's
 * error messages are not hidden by the screen.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "top-live.h"
#include "top-model.h"
#include "top-procs.h"
#include "top-stacks.h"
#include "top-term.h"
#include "top-view.h"

#define PREFIX "trackalloc: top: "

enum { EXIT_USAGE = 1, EXIT_FAILED = 2 };

struct opts {
	const char *session, *relay, *ready;
	unsigned interval_ms;
	bool stacks, batch, check, wait_go, attach_new;
	long iterations; /* --batch: tables to print (0: no end) */
	long uid;        /* --attach-new: that user's processes only (-1: all) */
	double timeout;
	int64_t *pids;   /* the watched processes (-p), for --batch's end */
	size_t npids;
};

static volatile sig_atomic_t quit_signal, resized, go;

static void on_quit(int sig)
{
	quit_signal = sig;
}

static void on_winch(int sig)
{
	(void)sig;
	resized = 1;
}

static void on_go(int sig)
{
	(void)sig;
	go = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *out)
{
	fputs("usage: trackalloc-top --session NAME [--relay net://HOST[:PORT]] [--interval MS]\n"
	      "                      [--stacks] [--batch [-n N]] [--pid PID]... [--attach-new\n"
	      "                      [--uid UID]] [--ready FILE] [--wait-go] [--timeout S]\n"
	      "       trackalloc-top --check [--batch]\n"
	      "       trackalloc-top --free-ports N\n"
	      "The viewer of `trackalloc top` (see trackalloc --help): it reads the LTTng live\n"
	      "session NAME from the relay daemon's live port (default net://127.0.0.1:5344).\n"
	      "--check says whether the terminal is large enough; --free-ports prints N free\n"
	      "TCP ports of 127.0.0.1.\n",
	      out);
}

static bool parse_long(const char *s, long lo, long hi, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return !errno && end != s && !*end && *v >= lo && *v <= hi;
}

/* Print @n ports the kernel picked as free on 127.0.0.1 (bound together,
 * so that they differ, then released). */
static int free_ports(long n)
{
	int fds[8];
	int status = 0;

	for (long i = 0; i < n; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET,
			                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof(a);

		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&a, sizeof(a)) ||
		    getsockname(fds[i], (struct sockaddr *)&a, &len)) {
			fprintf(stderr, PREFIX "cannot find a free port: %s\n", strerror(errno));
			status = EXIT_FAILED;
			n = i + 1;
			break;
		}
		printf("%s%u", i ? " " : "", ntohs(a.sin_port));
	}
	printf("\n");
	for (long i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return status;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_SESSION = 256, O_RELAY, O_INTERVAL, O_STACKS, O_BATCH, O_PID, O_ATTACH_NEW, O_UID,
	       O_READY, O_WAIT_GO, O_TIMEOUT, O_CHECK, O_FREE_PORTS };
	static const struct option longs[] = {
		{ "session", required_argument, NULL, O_SESSION },
		{ "relay", required_argument, NULL, O_RELAY },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "stacks", no_argument, NULL, O_STACKS },
		{ "batch", no_argument, NULL, O_BATCH },
		{ "iterations", required_argument, NULL, 'n' },
		{ "pid", required_argument, NULL, O_PID },
		{ "attach-new", no_argument, NULL, O_ATTACH_NEW },
		{ "uid", required_argument, NULL, O_UID },
		{ "ready", required_argument, NULL, O_READY },
		{ "wait-go", no_argument, NULL, O_WAIT_GO },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "check", no_argument, NULL, O_CHECK },
		{ "free-ports", required_argument, NULL, O_FREE_PORTS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long v;
	int c;

	*o = (struct opts){ .relay = "net://127.0.0.1:5344", .interval_ms = 1000, .uid = -1,
		            .timeout = 10 };
	while ((c = getopt_long(argc, argv, "hn:", longs, NULL)) != -1) {
		switch (c) {
		case O_SESSION: o->session = optarg; break;
		case O_RELAY: o->relay = optarg; break;
		case O_INTERVAL:
			if (!parse_long(optarg, 100, 3600000, &v)) {
				fprintf(stderr, PREFIX "--interval needs milliseconds, 100 to 3600000, "
				                "not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			o->interval_ms = (unsigned)v;
			break;
		case O_STACKS: o->stacks = true; break;
		case O_BATCH: o->batch = true; break;
		case 'n':
			if (!parse_long(optarg, 1, LONG_MAX, &o->iterations)) {
				fprintf(stderr, PREFIX "-n needs a number of tables, not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_PID: {
			int64_t *p = realloc(o->pids, (o->npids + 1) * sizeof(*p));

			if (!parse_long(optarg, 1, INT_MAX, &v) || !p) {
				fprintf(stderr, PREFIX "--pid needs a process id, not '%s'\n", optarg);
				free(p);
				return EXIT_USAGE;
			}
			o->pids = p;
			o->pids[o->npids++] = v;
			break;
		}
		case O_ATTACH_NEW: o->attach_new = true; break;
		case O_UID:
			if (!parse_long(optarg, 0, INT_MAX, &o->uid)) {
				fprintf(stderr, PREFIX "--uid needs a user id, not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_READY: o->ready = optarg; break;
		case O_WAIT_GO: o->wait_go = true; break;
		case O_TIMEOUT:
			if (!parse_long(optarg, 1, 3600, &v)) {
				fprintf(stderr, PREFIX "--timeout needs seconds, 1 to 3600\n");
				return EXIT_USAGE;
			}
			o->timeout = (double)v;
			break;
		case O_CHECK: o->check = true; break;
		case O_FREE_PORTS:
			if (!parse_long(optarg, 1, 8, &v))
				return EXIT_USAGE;
			exit(free_ports(v));
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PREFIX "unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (!o->check && !o->session) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return 0;
}

/* The screen is shown on a terminal; a pipe or a file gets tables. */
static bool interactive(const struct opts *o)
{
	return !o->batch && isatty(STDOUT_FILENO);
}

static int check_terminal(const struct opts *o)
{
	int rows, cols;

	if (!interactive(o))
		return 0;
	if (!tt_size(STDOUT_FILENO, &rows, &cols)) {
		fprintf(stderr, PREFIX "cannot read the terminal's size (use --batch)\n");
		return EXIT_FAILED;
	}
	if (rows < TV_MIN_ROWS || cols < TV_MIN_COLS) {
		fprintf(stderr,
		        PREFIX "the terminal is too small (%dx%d): top needs at least %dx%d "
		        "(or use --batch)\n",
		        cols, rows, TV_MIN_COLS, TV_MIN_ROWS);
		return EXIT_FAILED;
	}
	return 0;
}

static void nap(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Attach to the session (the relay daemon counts this viewer) within the
 * timeout, stepping the graph meanwhile. 0 or EXIT_FAILED (said). */
static int attach_session(struct tl_live *l, const struct opts *o)
{
	double deadline = now_s() + o->timeout;
	bool connected = false;

	while (!quit_signal) {
		int clients = tl_session_clients(l);

		if (clients == -2) {
			fprintf(stderr, PREFIX "%s\n", tl_failure(l));
			return EXIT_FAILED;
		}
		if (clients >= 0 && !connected) {
			if (!tl_connect(l)) {
				fprintf(stderr, PREFIX "%s\n", tl_failure(l));
				return EXIT_FAILED;
			}
			connected = true;
		}
		if (connected) {
			if (clients >= 1)
				return 0;
			for (int i = 0; i < 5; i++) {
				enum tl_status st = tl_step(l);

				if (st == TL_FAILED || st == TL_END) {
					fprintf(stderr, PREFIX "%s\n",
					        st == TL_END ? "the session ended before it started" :
					                       tl_failure(l));
					return EXIT_FAILED;
				}
				if (st == TL_IDLE)
					break;
			}
		}
		if (now_s() > deadline) {
			fprintf(stderr,
			        PREFIX "%s session %s on the relay daemon at %s within %.0f s\n",
			        connected ? "could not attach to" : "found no", o->session, o->relay,
			        o->timeout);
			return EXIT_FAILED;
		}
		nap(20);
	}
	return EXIT_FAILED;
}

/* Mark the processes that exited; true when every watched one (-p) has. */
static bool check_exits(struct tm_model *m, const struct opts *o)
{
	size_t gone = 0;

	for (size_t i = 0; i < m->nprocs; i++) {
		struct tm_proc *p = m->procs[i];

		if (p->state != TM_EXITED && !tp_alive(p->pid, p->procname))
			tm_proc_set_state(p, TM_EXITED);
	}
	for (size_t i = 0; i < o->npids; i++) {
		struct tm_proc *p = tm_find_proc(m, o->pids[i]);

		gone += p ? p->state == TM_EXITED : !tp_alive(o->pids[i], NULL);
	}
	return o->npids && gone == o->npids;
}

struct loop {
	struct tl_live *l;
	struct tm_model *m;
	struct ts_stacks *stacks;
	struct tp_scan *scan;
	struct tv_view view;
	struct tt_term term;
	bool screen;
	const char *note;
};

static void draw(struct loop *L)
{
	int rows, cols;

	if (!L->screen || !tt_size(STDOUT_FILENO, &rows, &cols))
		return;
	L->view.note = L->note;
	tv_draw(&L->view, L->m, rows, cols, stdout);
}

/* A key: true when it says quit. */
static bool on_key(struct loop *L, enum tt_key k)
{
	int rows = 24, cols = 80, page;

	tt_size(STDOUT_FILENO, &rows, &cols);
	page = rows > 8 ? rows - 5 : 1;
	switch (k) {
	case TT_QUIT: return true;
	case TT_UP: tv_move(&L->view, L->m, -1); break;
	case TT_DOWN: tv_move(&L->view, L->m, 1); break;
	case TT_PAGE_UP: tv_move(&L->view, L->m, -page); break;
	case TT_PAGE_DOWN: tv_move(&L->view, L->m, page); break;
	case TT_HOME: tv_move(&L->view, L->m, INT32_MIN); break;
	case TT_END: tv_move(&L->view, L->m, INT32_MAX); break;
	case TT_SORT: L->view.sort = (L->view.sort + 1) % TM_SORT_COUNT; break;
	case TT_SORT_BACK: L->view.sort = (L->view.sort + TM_SORT_COUNT - 1) % TM_SORT_COUNT; break;
	case TT_REDRAW: fputs("\033[2J", stdout); break;
	case TT_NONE: return false;
	}
	draw(L);
	return false;
}

static int run(struct loop *L, const struct opts *o)
{
	double interval = o->interval_ms / 1000.0, next = now_s() + interval, last_scan = -1e9;
	long tables = 0;
	bool ended = false;

	if (L->screen)
		draw(L);
	while (!quit_signal) {
		enum tl_status st = ended ? TL_IDLE : tl_step(L->l);
		double now;
		enum tt_key k;

		if (st == TL_FAILED) {
			if (L->screen)
				tt_close(&L->term);
			L->screen = false;
			fprintf(stderr, PREFIX "%s\n", tl_failure(L->l));
			return EXIT_FAILED;
		}
		if (st == TL_END && !ended) {
			ended = true;
			L->note = "the session ended (destroyed): q quits";
		}
		while (L->screen && (k = tt_key(&L->term)) != TT_NONE)
			if (on_key(L, k))
				return 0;
		if (resized) {
			resized = 0;
			draw(L);
		}
		now = now_s();
		if (now >= next) {
			bool all_gone = check_exits(L->m, o);

			next += interval;
			if (next < now)
				next = now + interval; /* a suspended run does not catch up */
			if (L->scan && now - last_scan >= 1.0) {
				tp_scan_attach(L->scan, now);
				last_scan = now;
			}
			if (L->stacks)
				ts_update(L->stacks, now, interval < 1.0 ? 1.0 : interval);
			tm_tick(L->m);
			if (L->screen) {
				draw(L);
			} else {
				tv_batch(&L->view, L->m, stdout);
				tables++;
				if ((o->iterations && tables >= o->iterations) || all_gone || ended)
					return 0;
			}
			continue;
		}
		if (st == TL_BUSY)
			continue;
		{
			struct pollfd pfd = { .fd = L->screen ? L->term.in : -1, .events = POLLIN };
			int wait_ms = (int)((next - now) * 1000) + 1;

			poll(&pfd, 1, wait_ms < 20 ? wait_ms : 20);
		}
	}
	return 0;
}

static void install_signals(void)
{
	struct sigaction sa = { 0 };

	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: poll and nanosleep return at once */
	sa.sa_handler = on_quit;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_winch;
	sigaction(SIGWINCH, &sa, NULL);
	sa.sa_handler = on_go;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct tm_model m;
	struct loop L = { .m = &m };
	const char *why = NULL;
	int status = parse_args(argc, argv, &o);

	if (status)
		return status;
	if (o.check)
		return check_terminal(&o);
	install_signals();
	tm_init(&m);
	if (o.stacks && !(L.stacks = ts_new())) {
		fprintf(stderr, PREFIX "out of memory\n");
		return EXIT_FAILED;
	}
	if (o.attach_new && !(L.scan = tp_scan_new(o.uid < 0 ? (uid_t)-1 : (uid_t)o.uid))) {
		fprintf(stderr, PREFIX "out of memory\n");
		return EXIT_FAILED;
	}
	L.l = tl_new(o.relay, o.session, &m, L.stacks ? ts_decoder(L.stacks) : NULL, &why);
	if (!L.l) {
		fprintf(stderr, PREFIX "%s\n", why);
		status = EXIT_FAILED;
		goto out;
	}
	status = attach_session(L.l, &o);
	if (status)
		goto out;
	if (o.ready) {
		int fd = open(o.ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		if (fd >= 0)
			close(fd);
	}
	/* the command starts the session and attaches the processes, then says go */
	for (double deadline = now_s() + 60; o.wait_go && !go && !quit_signal;) {
		if (now_s() > deadline) {
			fprintf(stderr, PREFIX "the session was not started within 60 s\n");
			status = EXIT_FAILED;
			goto out;
		}
		enum tl_status st = tl_step(L.l);

		if (st == TL_FAILED) {
			fprintf(stderr, PREFIX "%s\n", tl_failure(L.l));
			status = EXIT_FAILED;
			goto out;
		}
		if (st != TL_BUSY)
			nap(20);
	}
	if (quit_signal)
		goto out;
	L.view = (struct tv_view){ .session = o.session, .interval_s = o.interval_ms / 1000.0,
		                   .stacks = L.stacks };
	if (interactive(&o) && (status = check_terminal(&o)) == 0) {
		int err = tt_open(&L.term, isatty(STDIN_FILENO) ? STDIN_FILENO : -1, STDOUT_FILENO);

		if (err) {
			fprintf(stderr, PREFIX "cannot set the terminal up: %s\n", strerror(-err));
			status = EXIT_FAILED;
			goto out;
		}
		L.screen = true;
	}
	if (!status)
		status = run(&L, &o);
out:
	if (L.screen)
		tt_close(&L.term);
	if (!status && quit_signal == SIGTERM)
		status = 128 + SIGTERM;
	tl_free(L.l);
	ts_free(L.stacks);
	tp_scan_free(L.scan);
	tm_fini(&m);
	free(o.pids);
	return status;
}
