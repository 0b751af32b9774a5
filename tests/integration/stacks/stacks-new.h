/* SPDX-License-Identifier: MIT */
/* stacks-prog's C++ site (stacks-new.cpp), called from C. */
#ifndef STACKS_NEW_H
#define STACKS_NEW_H

#include <stddef.h>

#define STACKS_NODE_SIZE 2048

#ifdef __cplusplus
extern "C" {
#endif
/* @n blocks of STACKS_NODE_SIZE bytes from operator new, into @out, by the
 * C++ function cache_nodes_new(void**, unsigned long) */
void stacks_nodes_new(void **out, size_t n);
void stacks_nodes_delete(void **blocks, size_t n);
/* the line of the new expression in stacks-new.cpp */
int stacks_nodes_site_line(void);
#ifdef __cplusplus
}
#endif

#endif
