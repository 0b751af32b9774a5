/* SPDX-License-Identifier: MIT */
/*
 * Terminal handling with termios and ANSI escapes (no curses: the screen
 * needs cursor placement, erasing and reverse video only). Keys arrive as
 * bytes; arrows and the page keys as the escape sequences of xterm and its
 * descendants (CSI or SS3), which tmux, screen and the Linux console send.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "top-term.h"

#define ESC "\033"

bool tt_size(int fd, int *rows, int *cols)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || !ws.ws_row || !ws.ws_col)
		return false;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return true;
}

static void put(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t k = write(fd, s, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

int tt_open(struct tt_term *t, int in, int out)
{
	memset(t, 0, sizeof(*t));
	t->in = in;
	t->out = out;
	t->saved_err = -1;
	if (in >= 0 && isatty(in)) {
		struct termios raw;

		if (tcgetattr(in, &t->saved) != 0)
			return -errno;
		raw = t->saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | IEXTEN);
		raw.c_iflag &= ~(tcflag_t)(IXON | ICRNL);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		/* Ctrl-C stays a signal (it stops the session); Ctrl-Z would stop
		 * top with the session still running: not a key here */
		raw.c_cc[VSUSP] = _POSIX_VDISABLE;
		if (tcsetattr(in, TCSANOW, &raw) != 0)
			return -errno;
		t->raw = true;
	} else {
		t->in = -1;
	}
	/* while the screen is ours, stderr goes to a file shown afterwards */
	t->errlog = tmpfile();
	if (t->errlog) {
		fflush(stderr);
		t->saved_err = dup(STDERR_FILENO);
		if (t->saved_err < 0 || dup2(fileno(t->errlog), STDERR_FILENO) < 0) {
			if (t->saved_err >= 0)
				close(t->saved_err);
			t->saved_err = -1;
		}
	}
	/* the alternate screen, cursor hidden, cleared */
	put(out, ESC "[?1049h" ESC "[?25l" ESC "[H" ESC "[2J");
	t->screen = true;
	return 0;
}

void tt_close(struct tt_term *t)
{
	if (t->screen)
		put(t->out, ESC "[m" ESC "[?25h" ESC "[?1049l");
	t->screen = false;
	if (t->raw)
		tcsetattr(t->in, TCSANOW, &t->saved);
	t->raw = false;
	if (t->saved_err >= 0) {
		char buf[4096];
		size_t n;

		fflush(stderr);
		dup2(t->saved_err, STDERR_FILENO);
		close(t->saved_err);
		t->saved_err = -1;
		rewind(t->errlog);
		while ((n = fread(buf, 1, sizeof(buf), t->errlog)) > 0)
			fwrite(buf, 1, n, stderr);
	}
	if (t->errlog)
		fclose(t->errlog);
	t->errlog = NULL;
}

static void consume(struct tt_term *t, size_t n)
{
	memmove(t->buf, t->buf + n, t->nbuf - n);
	t->nbuf -= n;
}

/* An escape sequence at the front of the buffer: its key, and how long it
 * is in *@len (0: incomplete). */
static enum tt_key escape(const unsigned char *b, size_t n, size_t *len)
{
	size_t i;

	*len = 0;
	if (n < 2)
		return TT_NONE;
	if (b[1] == 'O') { /* SS3: application cursor keys */
		if (n < 3)
			return TT_NONE;
		*len = 3;
		switch (b[2]) {
		case 'A': return TT_UP;
		case 'B': return TT_DOWN;
		case 'H': return TT_HOME;
		case 'F': return TT_END;
		default: return TT_NONE;
		}
	}
	if (b[1] != '[') {
		*len = 1; /* a lone ESC, then another key */
		return TT_NONE;
	}
	/* CSI: parameters, then a final byte in 0x40..0x7e */
	for (i = 2; i < n && !(b[i] >= 0x40 && b[i] <= 0x7e); i++)
		;
	if (i == n) {
		if (n == TT_BUF)
			*len = n; /* no sequence is that long: drop it */
		return TT_NONE;
	}
	*len = i + 1;
	switch (b[i]) {
	case 'A': return TT_UP;
	case 'B': return TT_DOWN;
	case 'H': return TT_HOME;
	case 'F': return TT_END;
	case '~':
		if (i == 3 && b[2] == '5')
			return TT_PAGE_UP;
		if (i == 3 && b[2] == '6')
			return TT_PAGE_DOWN;
		if (i == 3 && (b[2] == '1' || b[2] == '7'))
			return TT_HOME;
		if (i == 3 && (b[2] == '4' || b[2] == '8'))
			return TT_END;
		return TT_NONE;
	default:
		return TT_NONE;
	}
}

enum tt_key tt_key(struct tt_term *t)
{
	if (t->in < 0)
		return TT_NONE;
	if (t->nbuf < sizeof(t->buf)) {
		ssize_t k = read(t->in, t->buf + t->nbuf, sizeof(t->buf) - t->nbuf);

		if (k > 0)
			t->nbuf += (size_t)k;
	}
	while (t->nbuf) {
		unsigned char c = t->buf[0];
		enum tt_key key = TT_NONE;
		size_t len = 1;

		if (c == 0x1b) {
			key = escape(t->buf, t->nbuf, &len);
			if (!len) {
				/* an incomplete sequence, or Esc pressed alone */
				if (t->nbuf == 1)
					consume(t, 1);
				return TT_NONE;
			}
		} else {
			switch (c) {
			case 'q': case 'Q': key = TT_QUIT; break;
			case 'k': key = TT_UP; break;
			case 'j': key = TT_DOWN; break;
			case 'g': key = TT_HOME; break;
			case 'G': key = TT_END; break;
			case 's': key = TT_SORT; break;
			case 'S': key = TT_SORT_BACK; break;
			case 0x0c: key = TT_REDRAW; break;
			case 0x02: key = TT_PAGE_UP; break;   /* Ctrl-B */
			case 0x06: key = TT_PAGE_DOWN; break; /* Ctrl-F */
			default: break;
			}
		}
		consume(t, len);
		if (key != TT_NONE)
			return key;
	}
	return TT_NONE;
}
