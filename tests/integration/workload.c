/* SPDX-License-Identifier: MIT */
/* A compile job for the gcc preload case: enough code that cc1 allocates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
	struct node *next;
	char key[32];
	long value;
};

static struct node *insert(struct node *head, const char *key, long value)
{
	struct node *n = malloc(sizeof(*n));

	if (!n)
		return head;
	snprintf(n->key, sizeof(n->key), "%s", key);
	n->value = value;
	n->next = head;
	return n;
}

static long sum(const struct node *n)
{
	long s = 0;

	for (; n; n = n->next)
		s += n->value * (long)strlen(n->key);
	return s;
}

int main(int argc, char **argv)
{
	struct node *head = NULL;
	int i;

	for (i = 0; i < argc * 1000; i++)
		head = insert(head, argv[i % argc], i);
	printf("%ld\n", sum(head));
	return 0;
}
