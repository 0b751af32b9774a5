/* SPDX-License-Identifier: MIT */
/*
 * A program from outside the project: built against an installed
 * trackalloc with `pkg-config --cflags --libs trackalloc` and nothing else
 * (tests/install/install-prefix.sh). It allocates in a group of its own and
 * checks the group's counters; prints "outside: ok" and exits 0 when they
 * are exact.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trackalloc.h>

/* Kept where the compiler cannot drop the allocations. */
static void *volatile blocks[3];

int main(void)
{
	struct ta_tag tags[] = { { "origin", "installed" } };
	ta_group *g = ta_group_register("outside", tags, 1);
	const struct ta_tag *got;
	struct ta_stats st;

	if (!g) {
		perror("outside: ta_group_register");
		return 1;
	}
	{
		TA_GROUP_SCOPE(g);
		for (int i = 0; i < 3; i++) {
			blocks[i] = malloc(1000);
			if (!blocks[i])
				return 1;
			memset(blocks[i], i, 1000);
		}
	}
	free(blocks[1]); /* credited to "outside" from root */
	if (ta_group_stats(g, &st) != 0) {
		fprintf(stderr, "outside: ta_group_stats failed\n");
		return 1;
	}
	if (st.allocated_bytes != 3000 || st.allocated_objects != 3 || st.freed_bytes != 1000 ||
	    st.freed_objects != 1 || ta_group_tags(g, &got) != 1 || strcmp(got[0].value, "installed")) {
		fprintf(stderr,
		        "outside: counters of 'outside': %llu bytes in %llu allocations, %llu bytes in "
		        "%llu frees (expected 3000 in 3, 1000 in 1)\n",
		        (unsigned long long)st.allocated_bytes, (unsigned long long)st.allocated_objects,
		        (unsigned long long)st.freed_bytes, (unsigned long long)st.freed_objects);
		return 1;
	}
	free(blocks[0]);
	free(blocks[2]);
	printf("outside: ok (trackalloc %d.%d.%d, group %u)\n", TA_VERSION_MAJOR, TA_VERSION_MINOR,
	       TA_VERSION_PATCH, ta_group_id(g));
	return 0;
}
