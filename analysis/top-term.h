/* SPDX-License-Identifier: MIT */
/*
 * The terminal of `trackalloc top` (top-term.c): raw input without echo
 * (signals kept: Ctrl-C still interrupts), the alternate screen, its size,
 * keys decoded from what the terminal sends. While the screen is taken,
 * what is written to stderr (babeltrace2's or the symboliser's warnings)
 * goes to a temporary file and is shown when the terminal is given back.
 */
#ifndef TA_TOP_TERM_H
#define TA_TOP_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <termios.h>

#define TT_BUF 64 /* bytes of input held while a sequence completes */

enum tt_key {
	TT_NONE,
	TT_QUIT,      /* q, Q */
	TT_UP,        /* k, up arrow */
	TT_DOWN,      /* j, down arrow */
	TT_PAGE_UP,
	TT_PAGE_DOWN,
	TT_HOME,      /* g, Home */
	TT_END,       /* G, End */
	TT_SORT,      /* s: the next order */
	TT_SORT_BACK, /* S: the previous one */
	TT_REDRAW,    /* Ctrl-L */
};

struct tt_term {
	int in, out;
	struct termios saved;
	bool raw;        /* the input is in raw mode (saved is valid) */
	bool screen;     /* the alternate screen is shown */
	int saved_err;   /* the real stderr while it goes to errlog, or -1 */
	FILE *errlog;
	unsigned char buf[TT_BUF];
	size_t nbuf;
};

/* The size of the terminal on @fd. false: not a terminal. */
bool tt_size(int fd, int *rows, int *cols);

/* Take the terminal (@in may be -1: no keys). 0, or -errno. */
int tt_open(struct tt_term *t, int in, int out);
/* Give it back as it was, then show what went to stderr meanwhile. */
void tt_close(struct tt_term *t);

/* The next key among those typed (never blocks); TT_NONE: none. */
enum tt_key tt_key(struct tt_term *t);

#endif /* TA_TOP_TERM_H */
