/* SPDX-License-Identifier: MIT */
/*
 * Reading an LTTng live session for `trackalloc top` (top-live.c): a
 * libbabeltrace2 graph of one source.ctf.lttng-live component (which sorts
 * its streams' messages itself) and a simple sink that decodes trackalloc's
 * INFO events into the top model (group_register, group_tag, group_stats)
 * and, with --stacks, the sampled-stacks events and the LTTng-UST
 * statedump into the report's stacks decoder (report-stacks-decode.c).
 *
 * The graph is stepped (tl_step) from top's own loop, which also reads the
 * keyboard and redraws: it never blocks for long.
 */
#ifndef TA_TOP_LIVE_H
#define TA_TOP_LIVE_H

#include <stdbool.h>

struct tm_model;
struct rs_decoder;
struct tl_live;

/*
 * A reader of session @session on the relay daemon's live port @relay_url
 * (net://HOST[:PORT], PORT 5344 when left out), feeding @m and, when not
 * NULL, @sd. NULL when babeltrace2's ctf plugin cannot be loaded (*@why
 * then says so; static text).
 */
struct tl_live *tl_new(const char *relay_url, const char *session, struct tm_model *m,
                       struct rs_decoder *sd, const char **why);
void tl_free(struct tl_live *l);

/*
 * Ask the relay daemon for its sessions. Returns the number of live
 * viewers attached to @session (0 or more; the reader itself counts once
 * it is attached), -1 while the relay daemon does not know the session,
 * -2 when the relay daemon cannot be asked (tl_failure() says why).
 */
int tl_session_clients(struct tl_live *l);

/* Build the graph on the session tl_session_clients() found. false: see
 * tl_failure(). */
bool tl_connect(struct tl_live *l);

enum tl_status {
	TL_BUSY,   /* messages were consumed: step again */
	TL_IDLE,   /* nothing available now: try again later */
	TL_END,    /* the session ended (destroyed) */
	TL_FAILED, /* the connection or a decode failed: tl_failure() */
};

/* One step of the graph: at most one batch of messages. */
enum tl_status tl_step(struct tl_live *l);

/* Why the last call failed: one line, owned by @l. */
const char *tl_failure(const struct tl_live *l);

#endif /* TA_TOP_LIVE_H */
