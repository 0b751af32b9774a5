/* SPDX-License-Identifier: MIT */
/*
 * The screen and the batch table of `trackalloc top`. The screen is drawn
 * whole into memory and written at once (cursor home, each line erased to
 * its end, the rest of the screen erased): no flicker, no curses. Names
 * and tags come from the traced programs: control characters in them are
 * shown as '?', never sent to the terminal.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "top-stacks.h"
#include "top-view.h"

#define ESC "\033"

/* ---- cells ------------------------------------------------------------------ */

void tv_fit(char *out, const char *s, size_t width)
{
	size_t cols = 0, total = 0, o = 0;
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++)
		total += (*p & 0xc0) != 0x80;
	for (p = (const unsigned char *)s; *p; p++) {
		bool lead = (*p & 0xc0) != 0x80;

		if (lead) {
			if (cols == width || (total > width && cols + 1 == width))
				break;
			cols++;
		}
		out[o++] = *p < 0x20 || *p == 0x7f ? '?' : (char)*p;
	}
	if (total > width && width > 0)
		out[o++] = '+';
	out[o] = '\0';
}

static size_t text_cols(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* @s in a cell of @width columns, left or right aligned, then one space
 * (none after the last cell). */
static void cell(FILE *f, const char *s, size_t width, bool right, bool last)
{
	char buf[4 * 256 + 1];
	size_t n;

	if (width > 256)
		width = 256;
	tv_fit(buf, s, width);
	n = text_cols(buf);
	if (right)
		fprintf(f, "%*s%s", (int)(width - n), "", buf);
	else if (last)
		fputs(buf, f);
	else
		fprintf(f, "%s%*s", buf, (int)(width - n), "");
	if (!last)
		fputc(' ', f);
}

void tv_bytes(char *buf, size_t len, uint64_t v)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double x = (double)v;
	int u = -1;

	if (v < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", v);
		return;
	}
	while (x >= 1024 && u < 5) {
		x /= 1024;
		u++;
	}
	/* four significant digits, never rounding up into the next unit's width */
	if (x < 9.9995)
		snprintf(buf, len, "%.3f %s", x, units[u]);
	else if (x < 99.995)
		snprintf(buf, len, "%.2f %s", x, units[u]);
	else if (x < 999.95)
		snprintf(buf, len, "%.1f %s", x, units[u]);
	else
		snprintf(buf, len, "%.0f %s", x, units[u]);
}

static void signed_bytes(char *buf, size_t len, double v)
{
	double a = fabs(v);

	if (a < 0.5) {
		snprintf(buf, len, "0 B");
		return;
	}
	buf[0] = v < 0 ? '-' : '+';
	tv_bytes(buf + 1, len - 1, (uint64_t)llround(a));
}

static void per_second(char *buf, size_t len, double v)
{
	if (v < 1e8)
		snprintf(buf, len, "%.0f", v < 0 ? 0 : v);
	else
		snprintf(buf, len, "%.3gM", v / 1e6);
}

static const char *group_name(const struct tm_row *r, char *buf, size_t len)
{
	if (r->g->name)
		return r->g->name;
	snprintf(buf, len, "#%u", r->gid);
	return buf;
}

/* ---- the screen ------------------------------------------------------------- */

struct layout {
	size_t proc, group, tags; /* the flexible columns; tags 0: not shown */
};

/* Fixed columns: PID 7, S 1, LIVE 10, CHANGE/s 11, PEAK 10, ALLOCS/s 9,
 * and the spaces between the nine columns. */
#define FIXED_COLS (7 + 1 + 10 + 11 + 10 + 9 + 8)

static bool lay_out(const struct tm_row *rows, size_t n, int cols, struct layout *L)
{
	size_t need_p = 7, need_g = 5, need_t = 0, room;

	for (size_t i = 0; i < n; i++) {
		size_t k = rows[i].p->procname ? text_cols(rows[i].p->procname) : 1;
		char buf[16];

		need_p = k > need_p ? k : need_p;
		k = text_cols(group_name(&rows[i], buf, sizeof(buf)));
		need_g = k > need_g ? k : need_g;
		k = rows[i].g->tags_text ? text_cols(rows[i].g->tags_text) : 0;
		need_t = k > need_t ? k : need_t;
	}
	if (cols < TV_MIN_COLS)
		return false;
	room = (size_t)cols - FIXED_COLS;
	L->proc = need_p < 15 ? need_p : 15;
	L->group = need_g > 8 ? need_g : 8;
	L->tags = need_t ? (need_t > 4 ? need_t : 4) : 0;
	/* the tags give way first, then the group, then the process */
	if (L->proc + L->group + (L->tags ? L->tags + 1 : 0) > room)
		L->tags = room > L->proc + L->group + 5 ? room - L->proc - L->group - 1 : 0;
	if (L->proc + L->group + (L->tags ? L->tags + 1 : 0) > room)
		L->group = room > L->proc + 8 ? room - L->proc : 8;
	if (L->proc + L->group > room)
		L->proc = room > L->group + 8 ? room - L->group : 8;
	return L->proc + L->group <= room;
}

static void header_cells(FILE *f, const struct layout *L)
{
	cell(f, "PID", 7, true, false);
	cell(f, "S", 1, false, false);
	cell(f, "PROCESS", L->proc, false, false);
	cell(f, "GROUP", L->group, false, false);
	if (L->tags)
		cell(f, "TAGS", L->tags, false, false);
	cell(f, "LIVE", 10, true, false);
	cell(f, "CHANGE/s", 11, true, false);
	cell(f, "PEAK", 10, true, false);
	cell(f, "ALLOCS/s", 9, true, true);
}

static void row_cells(FILE *f, const struct tm_row *r, const struct layout *L)
{
	char buf[64], name[16];

	snprintf(buf, sizeof(buf), "%" PRId64, r->p->pid);
	cell(f, buf, 7, true, false);
	cell(f, r->p->state == TM_EXITED ? "X" : "R", 1, false, false);
	cell(f, r->p->procname ? r->p->procname : "?", L->proc, false, false);
	cell(f, group_name(r, name, sizeof(name)), L->group, false, false);
	if (L->tags)
		cell(f, r->g->tags_text ? r->g->tags_text : "", L->tags, false, false);
	tv_bytes(buf, sizeof(buf), tm_live(r->g));
	cell(f, buf, 10, true, false);
	signed_bytes(buf, sizeof(buf), r->g->change_per_s);
	cell(f, buf, 11, true, false);
	tv_bytes(buf, sizeof(buf), tm_peak(r->g));
	cell(f, buf, 10, true, false);
	per_second(buf, sizeof(buf), r->g->allocs_per_s);
	cell(f, buf, 9, true, true);
}

static size_t find_sel(const struct tv_view *v, const struct tm_row *rows, size_t n)
{
	for (size_t i = 0; v->have_sel && i < n; i++)
		if (rows[i].p->pid == v->sel_pid && rows[i].gid == v->sel_gid)
			return i;
	return 0;
}

static void select_row(struct tv_view *v, const struct tm_row *r)
{
	v->have_sel = true;
	v->sel_pid = r->p->pid;
	v->sel_gid = r->gid;
}

/* The screen being drawn: each line placed by its row, so that the last
 * one never scrolls the terminal. */
struct screen {
	FILE *f;
	int row, rows, cols;
};

/* Line @s on the next row, cut to the width, in attribute @attr (an SGR
 * parameter, NULL: none), erased to the end. */
static void sline(struct screen *sc, const char *s, const char *attr)
{
	char buf[4 * 1024 + 1];

	if (sc->row >= sc->rows)
		return;
	tv_fit(buf, s, sc->cols < 1024 ? (size_t)sc->cols : 1024);
	fprintf(sc->f, ESC "[%d;1H%s%s%s%s" ESC "[K" ESC "[m", ++sc->row, attr ? ESC "[" : "",
	        attr ? attr : "", attr ? "m" : "", buf);
}

static void draw_rows(struct tv_view *v, struct screen *sc, const struct tm_row *rows, size_t n,
                      size_t body, const struct layout *L)
{
	size_t sel = find_sel(v, rows, n);
	char *line = NULL;
	size_t len = 0;

	if (!n) {
		sline(sc, "  waiting for the counters of the watched processes (group_stats)...", NULL);
		return;
	}
	select_row(v, &rows[sel]);
	if (sel < v->top)
		v->top = sel;
	if (body && sel >= v->top + body)
		v->top = sel - body + 1;
	if (v->top + body > n)
		v->top = n > body ? n - body : 0;
	for (size_t i = v->top; i < n && i < v->top + body; i++) {
		FILE *lf = open_memstream(&line, &len);

		if (!lf)
			break;
		row_cells(lf, &rows[i], L);
		fclose(lf);
		sline(sc, line, i == sel ? "7" : rows[i].p->state == TM_EXITED ? "2" : NULL);
		free(line);
		line = NULL;
	}
}

static void draw_stacks(struct tv_view *v, struct screen *sc, const struct tm_row *rows, size_t n,
                        size_t height)
{
	char title[512], name[16], *lines[64];
	size_t shown, width = sc->cols < 1024 ? (size_t)sc->cols : 1024;
	const struct tm_row *r = n ? &rows[find_sel(v, rows, n)] : NULL;

	if (!height)
		return;
	if (!r) {
		sline(sc, " top sites: no group selected", "7");
		return;
	}
	snprintf(title, sizeof(title), " top sites of %s in %s[%" PRId64 "], by estimated live bytes",
	         group_name(r, name, sizeof(name)), r->p->procname ? r->p->procname : "?", r->p->pid);
	sline(sc, title, "7");
	if (height > 65)
		height = 65;
	for (size_t i = 0; i + 1 < height; i++)
		if (!(lines[i] = malloc(4 * width + 1)))
			height = i + 1;
	shown = ts_lines(v->stacks, r->p->pid, r->gid, height - 1, width, lines);
	for (size_t i = 0; i < shown; i++)
		sline(sc, lines[i], NULL);
	for (size_t i = 0; i + 1 < height; i++)
		free(lines[i]);
}

void tv_draw(struct tv_view *v, const struct tm_model *m, int rows, int cols, FILE *out)
{
	struct tm_row *r = NULL;
	size_t n = tm_rows(m, v->sort, &r), running, exited, groups, body, panel = 0;
	char *screen = NULL, line[1024], clock[16], *hdr = NULL;
	size_t screen_len = 0, hl = 0;
	struct screen sc = { .rows = rows, .cols = cols };
	struct layout L;
	time_t now = time(NULL);
	FILE *hf;

	if (n == (size_t)-1)
		return;
	sc.f = open_memstream(&screen, &screen_len);
	if (!sc.f) {
		free(r);
		return;
	}
	if (rows < TV_MIN_ROWS || !lay_out(r, n, cols, &L)) {
		snprintf(line, sizeof(line), "terminal too small (%dx%d; trackalloc top needs %dx%d)",
		         cols, rows, TV_MIN_COLS, TV_MIN_ROWS);
		sline(&sc, line, NULL);
		goto done;
	}
	strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&now));
	snprintf(line, sizeof(line), "trackalloc top - %s  session %s  every %.1f s  sort: %s", clock,
	         v->session ? v->session : "?", v->interval_s, tm_sort_label(v->sort));
	sline(&sc, line, "1");
	tm_count(m, &running, &exited, &groups);
	if (v->note)
		snprintf(line, sizeof(line), "%s", v->note);
	else
		snprintf(line, sizeof(line),
		         "%zu process%s (%zu exited), %zu group%s; %" PRIu64 " events, %" PRIu64
		         " discarded    q quit  j/k select  s sort",
		         running + exited, running + exited == 1 ? "" : "es", exited, groups,
		         groups == 1 ? "" : "s", m->events, m->discarded);
	sline(&sc, line, NULL);
	hf = open_memstream(&hdr, &hl);
	if (hf) {
		header_cells(hf, &L);
		fclose(hf);
		snprintf(line, sizeof(line), "%-*s", cols < 1000 ? cols : 1000, hdr);
		sline(&sc, line, "7");
		free(hdr);
	}
	body = (size_t)rows - 3;
	if (v->stacks) {
		panel = body / 2 > 12 ? 12 : body / 2;
		body -= panel;
	}
	draw_rows(v, &sc, r, n, body, &L);
	if (panel) {
		/* the panel at the bottom, the rows' empty space above it */
		for (; sc.row < 3 + (int)body;)
			sline(&sc, "", NULL);
		draw_stacks(v, &sc, r, n, panel);
	}
done:
	if (sc.row < rows)
		fprintf(sc.f, ESC "[%d;1H" ESC "[J", sc.row + 1);
	fclose(sc.f);
	fwrite(screen, 1, screen_len, out);
	fflush(out);
	free(screen);
	free(r);
}

void tv_move(struct tv_view *v, const struct tm_model *m, int delta)
{
	struct tm_row *r = NULL;
	size_t n = tm_rows(m, v->sort, &r), i;

	if (n == (size_t)-1)
		return;
	if (n) {
		i = find_sel(v, r, n);
		if (delta == INT32_MIN)
			i = 0;
		else if (delta == INT32_MAX)
			i = n - 1;
		else if (delta < 0)
			i = (size_t)-delta > i ? 0 : i - (size_t)-delta;
		else
			i = i + (size_t)delta >= n ? n - 1 : i + (size_t)delta;
		select_row(v, &r[i]);
	}
	free(r);
}

/* ---- --batch ------------------------------------------------------------------ */

void tv_batch(const struct tv_view *v, const struct tm_model *m, FILE *out)
{
	static const char *const heads[] = { "PID",  "S",          "PROCESS",    "GROUP",   "TAGS",
		                             "LIVE_BYTES", "CHANGE/S", "PEAK_BYTES", "ALLOCS/S" };
	enum { NC = 9 };
	struct tm_row *r = NULL;
	size_t n = tm_rows(m, v->sort, &r), w[NC], running, exited, groups;
	char ***cells, stamp[64];
	struct timespec ts;
	struct tm tmv;

	if (n == (size_t)-1)
		return;
	cells = calloc(n ? n : 1, sizeof(*cells));
	for (int c = 0; c < NC; c++)
		w[c] = strlen(heads[c]);
	for (size_t i = 0; cells && i < n; i++) {
		char name[16];
		const struct tm_group *g = r[i].g;

		cells[i] = calloc(NC, sizeof(char *));
		if (!cells[i])
			break;
		if (asprintf(&cells[i][0], "%" PRId64, r[i].p->pid) < 0 ||
		    asprintf(&cells[i][1], "%s", r[i].p->state == TM_EXITED ? "X" : "R") < 0 ||
		    asprintf(&cells[i][2], "%s", r[i].p->procname ? r[i].p->procname : "?") < 0 ||
		    asprintf(&cells[i][3], "%s", group_name(&r[i], name, sizeof(name))) < 0 ||
		    asprintf(&cells[i][4], "%s",
		             g->tags_text && g->tags_text[0] ? g->tags_text : "-") < 0 ||
		    asprintf(&cells[i][5], "%" PRIu64, tm_live(g)) < 0 ||
		    asprintf(&cells[i][6], fabs(g->change_per_s) < 0.5 ? "0" : "%+.0f",
		             g->change_per_s) < 0 ||
		    asprintf(&cells[i][7], "%" PRIu64, tm_peak(g)) < 0 ||
		    asprintf(&cells[i][8], "%.0f", g->allocs_per_s < 0 ? 0 : g->allocs_per_s) < 0)
			break;
		for (int c = 0; c < NC; c++) {
			size_t k = text_cols(cells[i][c]);

			w[c] = k > w[c] ? k : w[c];
		}
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tmv);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tmv);
	tm_count(m, &running, &exited, &groups);
	fprintf(out,
	        "trackalloc top %s.%03ld: %zu process%s (%zu exited), %zu group%s, %" PRIu64
	        " events, %" PRIu64 " discarded\n",
	        stamp, ts.tv_nsec / 1000000, running + exited, running + exited == 1 ? "" : "es",
	        exited, groups, groups == 1 ? "" : "s", m->events, m->discarded);
	for (int c = 0; c < NC; c++) {
		bool right = c == 0 || c >= 5;

		cell(out, heads[c], w[c], right, c == NC - 1);
	}
	fputc('\n', out);
	for (size_t i = 0; cells && i < n && cells[i]; i++) {
		for (int c = 0; c < NC; c++)
			cell(out, cells[i][c] ? cells[i][c] : "?", w[c], c == 0 || c >= 5, c == NC - 1);
		fputc('\n', out);
	}
	if (v->stacks)
		ts_print_all(v->stacks, m, out, 5);
	fputc('\n', out);
	fflush(out);
	for (size_t i = 0; cells && i < n && cells[i]; i++) {
		for (int c = 0; c < NC; c++)
			free(cells[i][c]);
		free(cells[i]);
	}
	free(cells);
	free(r);
}
