/* SPDX-License-Identifier: MIT */
/*
 * What `trackalloc top` shows (top-view.c): the refreshing screen (ANSI
 * escapes only: cursor home, erase, reverse video), with the selection and
 * its scrolling, and the plain table of --batch. Both read the model
 * through tm_rows().
 */
#ifndef TA_TOP_VIEW_H
#define TA_TOP_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "top-model.h"

struct ts_stacks;

/* The smallest terminal the screen fits in. */
#define TV_MIN_COLS 72
#define TV_MIN_ROWS 6

struct tv_view {
	enum tm_sort sort;
	bool have_sel;       /* a row is selected: sel_pid, sel_gid */
	int64_t sel_pid;
	uint32_t sel_gid;
	size_t top;          /* first row shown (scrolling) */
	const char *session; /* for the header */
	double interval_s;
	const char *note;    /* a line of status (NULL: none) */
	struct ts_stacks *stacks; /* --stacks: the sites panel (NULL: none) */
};

/* Draw the whole screen, @rows x @cols, on @out (then flushed). */
void tv_draw(struct tv_view *v, const struct tm_model *m, int rows, int cols, FILE *out);

/* Move the selection by @delta rows (in the order shown), or to the first
 * (@delta INT32_MIN) or last (INT32_MAX) row. */
void tv_move(struct tv_view *v, const struct tm_model *m, int delta);

/* One --batch table: a header line, the column names, a row per group
 * (exact figures), then an empty line; with v->stacks, each group's top
 * sites. */
void tv_batch(const struct tv_view *v, const struct tm_model *m, FILE *out);

/* @s cut to @width columns (UTF-8 aware; a cut shows as a final '+') into
 * @out, which holds 4 * @width + 1 bytes. */
void tv_fit(char *out, const char *s, size_t width);

/* Bytes for people: "812 B", "1.234 KiB", "12.34 MiB", "123.4 GiB". */
void tv_bytes(char *buf, size_t len, uint64_t v);

#endif /* TA_TOP_VIEW_H */
