// SPDX-License-Identifier: MIT
// stacks-prog's C++ site: blocks from operator new, whose frames (in
// libstdc++) the report folds into cache_nodes_new.
#include <cstddef>

#include "stacks-new.h"

namespace {
struct node {
	char payload[STACKS_NODE_SIZE];
};
int site_line;
}

__attribute__((noinline)) void cache_nodes_new(void **out, std::size_t n)
{
	for (std::size_t i = 0; i < n; i++) {
		out[i] = new node; site_line = __LINE__;
	}
}

extern "C" void stacks_nodes_new(void **out, size_t n)
{
	cache_nodes_new(out, n);
}

extern "C" void stacks_nodes_delete(void **blocks, size_t n)
{
	for (size_t i = 0; i < n; i++)
		delete static_cast<node *>(blocks[i]);
}

extern "C" int stacks_nodes_site_line(void)
{
	return site_line;
}
