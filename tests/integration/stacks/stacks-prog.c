/* SPDX-License-Identifier: MIT */
/*
 * stacks-prog: allocations at four known call sites in two groups, for the
 * sampled-stacks tests. It prints what each site allocated and still holds
 * at exit, one line per site (tab-separated):
 *
 *   SITE <group> <function> <file> <line> <allocs> <bytes> <live_objects> <live_bytes>
 *        <inlined_into: the function the site is inlined into, or ->
 *
 * parser: token_block (malloc, this file, inlined into parse_tokens),
 *         parse_names (strdup, this file);
 * cache:  stackslib_fill (malloc, the shared library stacks-lib.c),
 *         cache_nodes_new (C++ new, stacks-new.cpp).
 * Each site allocates 64 MiB * SCALE in blocks of its own size and frees a
 * known part of them before exit; what is left is live at exit (for
 * TRACKALLOC_PROFILE).
 *
 *   stacks-prog [SCALE]     SCALE: a divisor, 1 (default) to 64
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trackalloc.h>

#include "stacks-lib.h"
#include "stacks-new.h"

#define MiB (1024u * 1024u)
#define TOKEN_SIZE 4096u
#define NAME_LEN 1023u   /* strdup: NAME_LEN + 1 bytes */
#define LIB_SIZE 8192u

static int token_line, name_line;

/* A site inlined into its caller: the report names it, "inlined into
 * parse_tokens". */
__attribute__((always_inline)) static inline void *token_block(void)
{
	void *p = malloc(TOKEN_SIZE); token_line = __LINE__;

	return p;
}

__attribute__((noinline)) static void parse_tokens(void **out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = token_block();
}

__attribute__((noinline)) static void parse_names(void **out, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		out[i] = strdup(name); name_line = __LINE__;
	}
}

static void **blocks(size_t n)
{
	void **v = calloc(n, sizeof(*v));

	if (!v) {
		perror("stacks-prog");
		exit(1);
	}
	return v;
}

/* Free all but the first @keep of @v. */
static void free_from(void **v, size_t keep, size_t n)
{
	for (size_t i = keep; i < n; i++)
		free(v[i]);
}

static void site(const char *group, const char *func, const char *file, int line, size_t n,
                 size_t size, size_t keep)
{
	printf("SITE\t%s\t%s\t%s\t%d\t%zu\t%zu\t%zu\t%zu\t%s\n", group, func, file, line, n,
	       n * size, keep, keep * size, strcmp(func, "token_block") ? "-" : "parse_tokens");
}

int main(int argc, char **argv)
{
	unsigned scale = argc > 1 ? (unsigned)atoi(argv[1]) : 1;
	ta_group *parser = ta_group_register("parser", NULL, 0);
	ta_group *cache = ta_group_register("cache", (struct ta_tag[]){ { "tier", "l1" } }, 1);
	size_t n_tok, n_name, n_lib, n_node;
	void **tok, **name, **lib, **node;
	char *text;

	if (scale < 1 || scale > 64 || !parser || !cache) {
		fprintf(stderr, "usage: stacks-prog [SCALE 1..64]\n");
		return 2;
	}
	n_tok = 64 * MiB / scale / TOKEN_SIZE;
	n_name = 64 * MiB / scale / (NAME_LEN + 1);
	n_lib = 64 * MiB / scale / LIB_SIZE;
	n_node = 64 * MiB / scale / STACKS_NODE_SIZE;
	tok = blocks(n_tok);
	name = blocks(n_name);
	lib = blocks(n_lib);
	node = blocks(n_node);
	text = malloc(NAME_LEN + 1);
	if (!text)
		return 1;
	memset(text, 'n', NAME_LEN);
	text[NAME_LEN] = 0;
	{
		ta_guard g = ta_group_enter(parser);

		parse_tokens(tok, n_tok);
		free_from(tok, n_tok / 4, n_tok);          /* a quarter stays */
		parse_names(name, n_name, text);
		free_from(name, n_name / 8, n_name);       /* an eighth stays */
		ta_guard_exit(&g);
	}
	{
		ta_guard g = ta_group_enter(cache);

		stackslib_fill(lib, n_lib, LIB_SIZE);
		free_from(lib, n_lib / 2, n_lib);          /* a half stays */
		stacks_nodes_new(node, n_node);
		stacks_nodes_delete(node + n_node / 4, n_node - n_node / 4); /* a quarter stays */
		ta_guard_exit(&g);
	}
	site("parser", "token_block", "stacks-prog.c", token_line, n_tok, TOKEN_SIZE, n_tok / 4);
	site("parser", "parse_names", "stacks-prog.c", name_line, n_name, NAME_LEN + 1, n_name / 8);
	site("cache", "stackslib_fill", "stacks-lib.c", stackslib_site_line(), n_lib, LIB_SIZE,
	     n_lib / 2);
	site("cache", "cache_nodes_new", "stacks-new.cpp", stacks_nodes_site_line(), n_node,
	     STACKS_NODE_SIZE, n_node / 4);
	fflush(stdout);
	/* what stays is live at exit, for TRACKALLOC_PROFILE */
	return 0;
}
