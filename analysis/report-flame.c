/* SPDX-License-Identifier: MIT */
/*
 * Flame graph and folded stacks: the collapsed stacks merged into a tree
 * (group, then outermost to innermost frame), children sorted by label, so
 * that both outputs are deterministic. The SVG follows flamegraph.pl's
 * look: frames 16 px high from the bottom, Verdana 12 px, a warm colour per
 * function (hashed, so the same function keeps its colour), grey for frames
 * without symbols, blue for groups.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report-collapse.h"
#include "report-flame.h"
#include "report-model.h"
#include "report-output.h"
#include "report-sites.h"

#define SVG_WIDTH 1200.0
#define SVG_PAD 10.0
#define FRAME_H 16.0
#define FONT_SIZE 12.0
#define FONT_WIDTH 0.59 /* of the font size, per character (flamegraph.pl's) */
#define MIN_WIDTH 0.1
#define TOP_PAD 56.0
#define BOTTOM_PAD 20.0

struct node {
	char *label;  /* owned */
	uint64_t value;
	uint32_t child, next; /* first child, next sibling: indexes, 0 none */
	bool group, nosym;
};

struct tree {
	struct node *n; /* n[0] is the root */
	uint32_t count, cap;
	unsigned depth;
};

static uint32_t tree_child(struct tree *t, uint32_t parent, const char *label, bool group,
                           bool nosym)
{
	char *clean = strdup(label);
	uint32_t *link, id;
	struct node *nd;

	if (!clean)
		return 0;
	for (char *s = clean; *s; s++)
		if (*s == ';')
			*s = ',';
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	if (t->count == t->cap) {
		uint32_t ncap = t->cap ? t->cap * 2 : 256;
		void *v = realloc(t->n, (size_t)ncap * sizeof(*t->n));

		if (!v) {
			free(clean);
			return 0;
		}
		t->n = v;
		t->cap = ncap;
	}
	/* siblings kept sorted by label */
	for (link = &t->n[parent].child; *link; link = &t->n[*link].next) {
		int c = strcmp(t->n[*link].label, clean);

		if (!c) {
			free(clean);
			return *link;
		}
		if (c > 0)
			break;
	}
	id = t->count++;
	nd = &t->n[id];
	memset(nd, 0, sizeof(*nd));
	nd->label = clean;
	nd->group = group;
	nd->nosym = nosym;
	nd->next = *link;
	*link = id;
	return id;
}

static void tree_free(struct tree *t)
{
	for (uint32_t i = 0; i < t->count; i++)
		free(t->n[i].label);
	free(t->n);
}

static uint64_t weigh(const struct rs_counts *c, enum rp_flame_weight w)
{
	return w == RP_FLAME_PEAK ? c->peak_estimate :
	       w == RP_FLAME_ALLOCATED ? c->alloc_estimate : c->live_estimate;
}

static bool tree_build(struct tree *t, const struct rc_result *r, const struct rp_model *gm,
                       const struct rp_output_opts *oo, enum rp_flame_weight weight)
{
	t->n = calloc(256, sizeof(*t->n));
	if (!t->n)
		return false;
	t->cap = 256;
	t->count = 1;
	t->n[0].label = strdup("all");
	if (!t->n[0].label)
		return false;
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct rc_proc *cp = &r->procs[i];

		for (uint32_t g = 0; g < cp->ngroups; g++) {
			const struct rc_group *grp = &cp->groups[g];
			const struct rp_group *rg = NULL;
			struct rp_group fake = { .id = g };
			char buf[32], *label = NULL;
			const char *name = rp_stacks_group_label(gm, cp->src->pid, g, buf, sizeof(buf));
			uint32_t gn;

			for (size_t k = 0; k < gm->nprocs && !rg; k++)
				if (gm->procs[k]->pid == cp->src->pid)
					rg = rp_proc_find_group(gm->procs[k], g);
			if (!weigh(&grp->total, weight) || !rp_group_selected(oo, rg ? rg : &fake))
				continue;
			if (r->nprocs > 1 ? asprintf(&label, "%s (pid %" PRId64 ")", name, cp->src->pid) < 0 :
			                    !(label = strdup(name)))
				return false;
			gn = tree_child(t, 0, label, true, false);
			free(label);
			if (!gn)
				return false;
			for (uint32_t c = 0; c < grp->ncstacks; c++) {
				const struct rc_cstack *cs = &grp->cstacks[c];
				uint64_t v = weigh(&cs->c, weight);
				uint32_t at = gn;

				if (!v)
					continue;
				t->n[0].value += v;
				t->n[gn].value += v;
				for (uint32_t k = cs->n; k-- > 0;) {
					const struct rc_loc *l = &cp->locs[cp->seq[cs->first + k]];

					at = tree_child(t, at, l->label, false, !l->func);
					if (!at)
						return false;
					t->n[at].value += v;
					if (cs->n - k + 1 > t->depth)
						t->depth = cs->n - k + 1;
				}
				if (!t->depth)
					t->depth = 1;
			}
		}
	}
	return true;
}

/* ---- folded ---------------------------------------------------------------- */

static void folded_walk(FILE *f, const struct tree *t, uint32_t id, char **path, size_t *len,
                        size_t *cap, bool *oom)
{
	const struct node *nd = &t->n[id];
	size_t l = strlen(nd->label), saved = *len;
	uint64_t self = nd->value;

	if (*len + l + 2 > *cap) {
		size_t ncap = (*len + l + 2) * 2;
		char *n = realloc(*path, ncap);

		if (!n) {
			*oom = true;
			return;
		}
		*path = n;
		*cap = ncap;
	}
	if (*len)
		(*path)[(*len)++] = ';';
	memcpy(*path + *len, nd->label, l + 1);
	*len += l;
	for (uint32_t c = nd->child; c; c = t->n[c].next) {
		self -= t->n[c].value;
		folded_walk(f, t, c, path, len, cap, oom);
	}
	if (self)
		fprintf(f, "%s %" PRIu64 "\n", *path, self);
	*len = saved;
	(*path)[saved] = 0;
}

bool rp_write_folded(FILE *f, const char *path, const struct rc_result *r,
                     const struct rp_model *gm, const struct rp_output_opts *oo,
                     enum rp_flame_weight weight)
{
	struct tree t = { 0 };
	char *buf = NULL;
	size_t len = 0, cap = 0;
	bool oom = !tree_build(&t, r, gm, oo, weight);

	for (uint32_t c = oom ? 0 : t.n[0].child; c && !oom; c = t.n[c].next)
		folded_walk(f, &t, c, &buf, &len, &cap, &oom);
	free(buf);
	tree_free(&t);
	if (oom) {
		fprintf(stderr, RP_PREFIX "out of memory writing %s\n", path);
		return false;
	}
	if (ferror(f)) {
		fprintf(stderr, RP_PREFIX "cannot write %s: %s\n", path, strerror(errno));
		return false;
	}
	return true;
}

/* ---- SVG ------------------------------------------------------------------- */

static void xml_text(FILE *f, const char *s, size_t max)
{
	size_t n = 0;

	for (; *s && n < max; s++) {
		unsigned char c = (unsigned char)*s;

		/* count characters, not UTF-8 continuation bytes */
		if ((c & 0xC0) != 0x80)
			n++;
		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(c < 0x20 ? '?' : c, f); break;
		}
	}
}

static size_t text_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static void colour(const struct node *nd, char *buf, size_t len)
{
	uint64_t h = 1469598103934665603ull;

	for (const char *s = nd->label; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	if (nd->group)
		snprintf(buf, len, "rgb(%u,%u,%u)", 90 + (unsigned)(h % 40), 140 + (unsigned)(h >> 8) % 40, 230);
	else if (nd->nosym)
		snprintf(buf, len, "rgb(%u,%u,%u)", 170 + (unsigned)(h % 30), 170 + (unsigned)(h % 30),
		         170 + (unsigned)(h % 30));
	else
		snprintf(buf, len, "rgb(%u,%u,%u)", 205 + (unsigned)(h % 50),
		         (unsigned)((h >> 8) % 230), (unsigned)((h >> 16) % 55));
}

static void svg_frame(FILE *f, const struct tree *t, uint32_t id, double x, unsigned depth,
                      double scale, double height)
{
	const struct node *nd = &t->n[id];
	double w = (double)nd->value * scale, y = height - BOTTOM_PAD - (depth + 1) * FRAME_H;
	size_t fit = (size_t)((w - 6) / (FONT_SIZE * FONT_WIDTH));
	char fill[32];

	if (w < MIN_WIDTH)
		return;
	colour(nd, fill, sizeof(fill));
	fputs("<g><title>", f);
	xml_text(f, nd->label, SIZE_MAX);
	fprintf(f, " (%" PRIu64 " bytes, %.2f%%)</title>", nd->value,
	        100.0 * (double)nd->value / (double)t->n[0].value);
	fprintf(f, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\" rx=\"2\" "
	        "ry=\"2\"/>", x, y, w, FRAME_H - 1, fill);
	if (fit >= 3) {
		fprintf(f, "<text x=\"%.2f\" y=\"%.1f\">", x + 3, y + FRAME_H - 5);
		if (text_chars(nd->label) <= fit) {
			xml_text(f, nd->label, SIZE_MAX);
		} else {
			xml_text(f, nd->label, fit - 2);
			fputs("..", f);
		}
		fputs("</text>", f);
	}
	fputs("</g>\n", f);
	for (uint32_t c = nd->child; c; c = t->n[c].next) {
		svg_frame(f, t, c, x, depth + 1, scale, height);
		x += (double)t->n[c].value * scale;
	}
}

bool rp_write_flamegraph(FILE *f, const char *path, const struct rc_result *r,
                         const struct rp_model *gm, const struct rp_output_opts *oo,
                         enum rp_flame_weight weight, const char *source)
{
	static const char *const what[] = { "live at the end", "live at each group's peak",
	                                    "allocated" };
	struct tree t = { 0 };
	double height, scale, x = SVG_PAD;

	if (!tree_build(&t, r, gm, oo, weight)) {
		tree_free(&t);
		fprintf(stderr, RP_PREFIX "out of memory writing %s\n", path);
		return false;
	}
	height = TOP_PAD + BOTTOM_PAD + (t.depth ? t.depth : 1) * FRAME_H;
	scale = t.n[0].value ? (SVG_WIDTH - 2 * SVG_PAD) / (double)t.n[0].value : 0;
	fprintf(f, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
	        "<svg version=\"1.1\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
	        "xmlns=\"http://www.w3.org/2000/svg\">\n"
	        "<style>text { font-family: Verdana, sans-serif; font-size: %.0fpx; fill: #000; }\n"
	        "g:hover rect { stroke: #000; stroke-width: 0.5; }\n"
	        ".title { font-size: 17px; text-anchor: middle; }\n"
	        ".sub { font-size: 12px; fill: #555; text-anchor: middle; }</style>\n",
	        SVG_WIDTH, height, SVG_WIDTH, height, FONT_SIZE);
	fprintf(f, "<text class=\"title\" x=\"%.0f\" y=\"24\">%s heap by group and stack "
	        "(trackalloc)</text>\n<text class=\"sub\" x=\"%.0f\" y=\"42\">", SVG_WIDTH / 2,
	        weight == RP_FLAME_ALLOCATED ? "Allocated" : "Live", SVG_WIDTH / 2);
	xml_text(f, source, 200);
	fprintf(f, ": %" PRIu64 " bytes %s (estimates from sampled stacks)</text>\n",
	        t.n[0].value, what[weight]);
	if (!t.n[0].value)
		fprintf(f, "<text class=\"sub\" x=\"%.0f\" y=\"%.0f\">no sampled bytes</text>\n",
		        SVG_WIDTH / 2, TOP_PAD + 12);
	for (uint32_t c = t.n[0].child; c; c = t.n[c].next) {
		svg_frame(f, &t, c, x, 0, scale, height);
		x += (double)t.n[c].value * scale;
	}
	fputs("</svg>\n", f);
	tree_free(&t);
	if (ferror(f)) {
		fprintf(stderr, RP_PREFIX "cannot write %s: %s\n", path, strerror(errno));
		return false;
	}
	return true;
}
