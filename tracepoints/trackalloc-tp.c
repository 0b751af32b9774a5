/* SPDX-License-Identifier: MIT */
/*
 * The probe side of the provider, built into libtrackalloc-lttng.so, which
 * libtrackalloc.so dlopens at start (tracepoint dynamic linkage).
 */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#include "trackalloc-tp.h"
