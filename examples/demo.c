/* SPDX-License-Identifier: MIT */
/*
 * trackalloc-demo: a tiny "server" whose parser, cache and request handlers
 * allocate in their own groups, on several threads. It prints every group's
 * counters at the end; under `trackalloc record` its trace shows the same.
 *
 *   trackalloc-demo [ROUNDS]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trackalloc.h>

#define CACHE_SLOTS 64

static ta_group *parser, *cache, *handler;
static char *cache_slot[CACHE_SLOTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* Parse a "request": short-lived token buffers in the parser group. */
static size_t parse(unsigned round)
{
	TA_GROUP_SCOPE(parser);
	size_t total = 0;
	char *tokens[16];

	for (int i = 0; i < 16; i++) {
		tokens[i] = malloc(16 + (round * 7 + (unsigned)i * 13) % 240);
		total += strlen(strcpy(tokens[i], "token"));
	}
	for (int i = 0; i < 16; i++)
		free(tokens[i]);
	return total;
}

/* Cache a result: long-lived blocks, evicted (and freed) by any thread. */
static void cache_put(unsigned key)
{
	char *old, *val;

	{
		TA_GROUP_SCOPE(cache);
		val = malloc(256 + key % 512);
	}
	snprintf(val, 256, "value-%u", key);
	pthread_mutex_lock(&cache_lock);
	old = cache_slot[key % CACHE_SLOTS];
	cache_slot[key % CACHE_SLOTS] = val;
	pthread_mutex_unlock(&cache_lock);
	free(old); /* credited to "cache", whichever thread runs this */
}

static void *worker(void *arg)
{
	unsigned rounds = *(unsigned *)arg;

	for (unsigned r = 0; r < rounds; r++) {
		TA_GROUP_SCOPE(handler);
		char *response = malloc(1024);

		snprintf(response, 1024, "%zu", parse(r));
		cache_put(r * 31u);
		response = realloc(response, 4096);
		free(response);
	}
	return NULL;
}

static int print_group(ta_group *g, void *arg)
{
	const struct ta_tag *tags;
	size_t ntags = ta_group_tags(g, &tags);
	struct ta_stats st;
	char tagbuf[256] = "";

	(void)arg;
	ta_group_stats(g, &st);
	for (size_t i = 0; i < ntags; i++) {
		size_t len = strlen(tagbuf);
		snprintf(tagbuf + len, sizeof(tagbuf) - len, "%s%s=%s", i ? "," : "",
		         tags[i].key, tags[i].value);
	}
	printf("%-10s %-28s %10llu %10llu %12llu %12llu %10llu\n", ta_group_name(g), tagbuf,
	       (unsigned long long)st.allocated_objects, (unsigned long long)st.freed_objects,
	       (unsigned long long)st.allocated_bytes, (unsigned long long)st.freed_bytes,
	       (unsigned long long)(st.allocated_bytes - st.freed_bytes));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct ta_tag parser_tags[] = { { "component", "frontend" } };
	static const struct ta_tag cache_tags[] = { { "component", "storage" }, { "tier", "l1" } };
	unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 2000;
	pthread_t threads[2];

	parser = ta_group_register("parser", parser_tags, 1);
	cache = ta_group_register("cache", cache_tags, 2);
	handler = ta_group_register("handler", NULL, 0);
	if (!parser || !cache || !handler) {
		perror("ta_group_register");
		return 1;
	}
	for (int i = 0; i < 2; i++)
		pthread_create(&threads[i], NULL, worker, &rounds);
	for (int i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);

	printf("%-10s %-28s %10s %10s %12s %12s %10s\n", "group", "tags", "allocs", "frees",
	       "bytes", "freed", "live");
	ta_group_foreach(print_group, NULL);
	return 0;
}
