/* SPDX-License-Identifier: MIT */
/*
 * Reading trackalloc traces with libbabeltrace2.
 *
 * The graph is what `babeltrace2 TRACE` builds: one src.ctf.fs component per
 * trace (traces sharing a UUID, as the babeltrace.support-info query groups
 * them, go into the same component), a filter.utils.muxer that orders every
 * stream's messages by time (live-block tracking needs an alloc before its
 * free even across CPUs), and a simple sink that feeds the model.
 *
 * Trace directories are found, and checked for truncation, by
 * report-discover.c; the sink's messages are decoded by report-decode.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <babeltrace2/babeltrace.h>

#include "report.h"
#include "report-decode.h"
#include "report-discover.h"
#include "report-input.h"
#include "report-model.h"

/* ---- graph ----------------------------------------------------------------- */

/* One line out of babeltrace2's error: its root cause. */
static char *take_bt_error(void)
{
	const bt_error *err = bt_current_thread_take_error();
	char *msg = NULL;

	if (!err)
		return NULL;
	if (bt_error_get_cause_count(err) > 0) {
		const bt_error_cause *c = bt_error_borrow_cause_by_index(err, 0);

		msg = strdup(bt_error_cause_get_message(c));
		for (char *s = msg; s && *s; s++)
			if (*s == '\n' || *s == '\t')
				*s = ' ';
	}
	bt_error_release(err);
	return msg;
}

/* The support-info group of a trace directory: its UUID (NULL: none), or
 * "" when babeltrace2 does not take it for a CTF trace. */
static char *trace_group(const bt_component_class_source *src, const char *dir)
{
	bt_value *params = bt_value_map_create();
	bt_query_executor *q = NULL;
	const bt_value *res = NULL, *v;
	char *group = NULL;

	if (!params || bt_value_map_insert_string_entry(params, "input", dir) ||
	    bt_value_map_insert_string_entry(params, "type", "directory"))
		goto out;
	q = bt_query_executor_create(bt_component_class_source_as_component_class_const(src),
	                             "babeltrace.support-info", params);
	if (!q)
		goto out;
	bt_query_executor_set_logging_level(q, BT_LOGGING_LEVEL_NONE);
	if (bt_query_executor_query(q, &res) != BT_QUERY_EXECUTOR_QUERY_STATUS_OK)
		goto out;
	v = bt_value_map_borrow_entry_value_const(res, "weight");
	if (v && bt_value_get_type(v) == BT_VALUE_TYPE_REAL && bt_value_real_get(v) <= 0) {
		group = strdup("");
		goto out;
	}
	v = bt_value_map_borrow_entry_value_const(res, "group");
	if (v && bt_value_get_type(v) == BT_VALUE_TYPE_STRING)
		group = strdup(bt_value_string_get(v));
out:
	bt_current_thread_clear_error();
	bt_value_put_ref(res);
	bt_query_executor_put_ref(q);
	bt_value_put_ref(params);
	return group;
}

static int __attribute__((format(printf, 2, 3)))
input_error(const char *dir, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, RP_PREFIX "%s: ", dir);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return RP_EXIT_INPUT;
}

static int setup_error(const char *what)
{
	char *cause = take_bt_error();

	fprintf(stderr, RP_PREFIX "babeltrace2: %s%s%s\n", what, cause ? ": " : "",
	        cause ? cause : "");
	free(cause);
	return RP_EXIT_OUTPUT;
}

/* Connect every output port of @src to a fresh input port of the muxer. */
static bool connect_source(bt_graph *g, const bt_component_source *src,
                           const bt_component_filter *mux)
{
	uint64_t n = bt_component_source_get_output_port_count(src);

	for (uint64_t i = 0; i < n; i++) {
		const bt_port_output *out = bt_component_source_borrow_output_port_by_index_const(src, i);
		uint64_t nin = bt_component_filter_get_input_port_count(mux);
		const bt_port_input *in =
			bt_component_filter_borrow_input_port_by_index_const(mux, nin - 1);

		if (bt_graph_connect_ports(g, out, in, NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK)
			return false;
	}
	return true;
}

/* A trace that cannot be opened: an error, or with --skip-unreadable a
 * warning (then RP_EXIT_OK: go on without it). */
static int unreadable(const char *dir, const char *trace, const char *why,
                      const struct rp_input_opts *opts, struct rp_model *m)
{
	if (!opts->skip_unreadable)
		return input_error(dir, "%s", why);
	fprintf(stderr, RP_PREFIX "warning: skipping %s: %s\n", trace, why);
	rp_model_count_skipped_trace(m);
	return RP_EXIT_OK;
}

/* build_and_run's answer when a source was skipped: a graph in which a
 * component failed to initialise is faulty for good in babeltrace2 (adding
 * another component aborts), so the caller drops the trace (the entries
 * set in @drop) and builds a new graph. */
#define RP_REBUILD (-1)

static int build_and_run(const char *dir, struct rp_reader *r, struct rp_dirlist *dirs,
                         const struct rp_input_opts *opts, struct rp_model *m, bool *drop)
{
	const bt_plugin *ctf = NULL, *utils = NULL;
	const bt_component_class_source *src_cls;
	const bt_component_class_filter *mux_cls;
	const bt_component_filter *mux;
	const bt_component_sink *sink;
	bt_graph *g = NULL;
	char **groups = NULL;
	bool *used = NULL;
	size_t ctf_traces = 0, sources = 0;
	int ret = RP_EXIT_OUTPUT;
	bt_graph_run_status st;
	const char *failure;
	bool oom;

	if (bt_plugin_find("ctf", BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, &ctf) !=
	            BT_PLUGIN_FIND_STATUS_OK ||
	    bt_plugin_find("utils", BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, &utils) !=
	            BT_PLUGIN_FIND_STATUS_OK) {
		ret = setup_error("cannot load the ctf and utils plugins");
		goto out;
	}
	src_cls = bt_plugin_borrow_source_component_class_by_name_const(ctf, "fs");
	mux_cls = bt_plugin_borrow_filter_component_class_by_name_const(utils, "muxer");
	g = bt_graph_create(0);
	groups = calloc(dirs->n, sizeof(*groups));
	used = calloc(dirs->n, sizeof(*used));
	if (!src_cls || !mux_cls || !g || !groups || !used) {
		ret = setup_error("cannot create the trace-processing graph");
		goto out;
	}
	if (bt_graph_add_filter_component(g, mux_cls, "muxer", NULL, BT_LOGGING_LEVEL_NONE, &mux) !=
	    BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		ret = setup_error("cannot create the muxer");
		goto out;
	}
	for (size_t i = 0; i < dirs->n; i++) {
		groups[i] = trace_group(src_cls, dirs->v[i]);
		if (!groups[i] || groups[i][0])
			ctf_traces++;
	}
	if (!ctf_traces) {
		ret = input_error(dir, "not a CTF trace (no readable CTF metadata)");
		goto out;
	}
	/* One source per trace UUID, as babeltrace2's own discovery does. */
	for (size_t i = 0; i < dirs->n; i++) {
		const bt_component_source *src;
		bt_value *params, *inputs;
		char name[32];
		bt_graph_add_component_status ast;

		if (used[i] || (groups[i] && !groups[i][0]))
			continue;
		params = bt_value_map_create();
		if (!params || bt_value_map_insert_empty_array_entry(params, "inputs", &inputs)) {
			bt_value_put_ref(params);
			ret = setup_error("out of memory");
			goto out;
		}
		for (size_t j = i; j < dirs->n; j++) {
			if (used[j] || (j != i && (!groups[i] || !groups[j] || strcmp(groups[i], groups[j]))))
				continue;
			used[j] = true;
			bt_value_array_append_string_element(inputs, dirs->v[j]);
		}
		snprintf(name, sizeof(name), "src%zu", i);
		ast = bt_graph_add_source_component(g, src_cls, name, params, BT_LOGGING_LEVEL_NONE,
		                                    &src);
		bt_value_put_ref(params);
		if (ast != BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
			char *cause = take_bt_error(), *why = NULL;

			if (asprintf(&why, "cannot read trace %s (truncated or corrupt?): %s",
			             dirs->v[i], cause ? cause : "babeltrace2 rejected it") < 0)
				why = NULL;
			ret = unreadable(dir, dirs->v[i], why ? why : "cannot read it", opts, m);
			free(why);
			free(cause);
			if (ret != RP_EXIT_OK)
				goto out;
			/* every directory this source was given goes */
			for (size_t j = i; j < dirs->n; j++)
				if (used[j] && (j == i || (groups[i] && groups[j] &&
				                           !strcmp(groups[i], groups[j]))))
					drop[j] = true;
			ret = RP_REBUILD;
			goto out;
		}
		sources++;
		if (!connect_source(g, src, mux)) {
			ret = setup_error("cannot connect the trace to the muxer");
			goto out;
		}
	}
	if (!sources) {
		ret = input_error(dir, "no readable trace (%llu skipped)",
		                  (unsigned long long)m->skipped_traces);
		goto out;
	}
	if (bt_graph_add_simple_sink_component(g, "trackalloc-report", NULL, rp_reader_consume, NULL,
	                                       r, &sink) != BT_GRAPH_ADD_COMPONENT_STATUS_OK ||
	    bt_graph_connect_ports(g, bt_component_filter_borrow_output_port_by_index_const(mux, 0),
	                           bt_component_sink_borrow_input_port_by_index_const(sink, 0),
	                           NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
		ret = setup_error("cannot add the report sink");
		goto out;
	}
	do {
		st = bt_graph_run(g);
		if (st == BT_GRAPH_RUN_STATUS_AGAIN)
			usleep(1000);
	} while (st == BT_GRAPH_RUN_STATUS_AGAIN);
	failure = rp_reader_failure(r, &oom);
	if (oom) {
		fprintf(stderr, RP_PREFIX "out of memory\n");
		ret = RP_EXIT_OUTPUT;
	} else if (failure) {
		ret = input_error(dir, "%s", failure);
	} else if (st != BT_GRAPH_RUN_STATUS_OK) {
		char *cause = take_bt_error();

		ret = input_error(dir, "corrupt or truncated trace: %s",
		                  cause ? cause : "babeltrace2 cannot decode it");
		free(cause);
	} else {
		ret = RP_EXIT_OK;
	}
out:
	for (size_t i = 0; groups && i < dirs->n; i++)
		free(groups[i]);
	free(groups);
	free(used);
	bt_graph_put_ref(g);
	bt_plugin_put_ref(ctf);
	bt_plugin_put_ref(utils);
	return ret;
}

int rp_read_trace(const char *dir, struct rp_model *m, const struct rp_input_opts *opts)
{
	struct rp_dirlist dirs = { 0 };
	struct rp_reader *r = NULL;
	struct stat st;
	int ret;

	if (stat(dir, &st))
		return input_error(dir, "%s", errno == ENOENT ? "no such directory" : strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return input_error(dir, "not a directory (give the trace directory)");
	if (rp_find_traces(dir, &dirs) != 0) {
		ret = input_error(dir, "cannot search the directory: %s", strerror(errno));
		goto out;
	}
	if (!dirs.n) {
		ret = input_error(dir, "not a CTF trace (no metadata file found)");
		goto out;
	}
	for (size_t i = 0; i < dirs.n; i++) {
		char *why = rp_find_truncation(dirs.v[i]);

		if (!why)
			continue;
		ret = unreadable(dir, dirs.v[i], why, opts, m);
		free(why);
		if (ret != RP_EXIT_OK)
			goto out;
		free(dirs.v[i]); /* skipped: out of the list */
		memmove(&dirs.v[i], &dirs.v[i + 1], (dirs.n - i - 1) * sizeof(*dirs.v));
		dirs.n--;
		i--;
	}
	if (!dirs.n) {
		ret = input_error(dir, "no readable trace (%llu skipped)",
		                  (unsigned long long)m->skipped_traces);
		goto out;
	}
	r = rp_reader_new(m, opts->progress, opts->horizon_ns);
	if (!r) {
		fprintf(stderr, RP_PREFIX "out of memory\n");
		ret = RP_EXIT_OUTPUT;
		goto out;
	}
	rp_reader_set_stacks(r, opts->stacks);
	for (;;) {
		bool *drop = calloc(dirs.n ? dirs.n : 1, sizeof(*drop));
		size_t kept = 0;

		if (!drop) {
			fprintf(stderr, RP_PREFIX "out of memory\n");
			ret = RP_EXIT_OUTPUT;
			goto out;
		}
		ret = build_and_run(dir, r, &dirs, opts, m, drop);
		if (ret != RP_REBUILD) {
			free(drop);
			break;
		}
		for (size_t i = 0; i < dirs.n; i++) {
			if (drop[i])
				free(dirs.v[i]);
			else
				dirs.v[kept++] = dirs.v[i];
		}
		dirs.n = kept;
		free(drop);
		if (!dirs.n) {
			ret = input_error(dir, "no readable trace (%llu skipped)",
			                  (unsigned long long)m->skipped_traces);
			goto out;
		}
	}
	if (ret == RP_EXIT_OK && !rp_reader_finish(r)) {
		fprintf(stderr, RP_PREFIX "out of memory\n");
		ret = RP_EXIT_OUTPUT;
	}
	if (opts->progress && m->events >= 65536 * 16)
		fprintf(stderr, RP_PREFIX "%.1fM events read, done\n", (double)m->events / 1e6);
	if (ret != RP_EXIT_OK)
		goto out;
	if (!m->events)
		ret = input_error(dir, "empty trace (no events)");
	else if (!m->ta_events)
		ret = input_error(dir, "not a trackalloc trace (%llu events, none from the "
		                       "trackalloc provider)", (unsigned long long)m->events);
out:
	rp_dirlist_free(&dirs);
	rp_reader_free(r);
	return ret;
}
