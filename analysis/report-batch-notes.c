/* SPDX-License-Identifier: MIT */
/*
 * The outputs' lines about trackalloc:batch events. A process's figures
 * from batches are printed exactly as those from per-call events (the same
 * table, source "alloc/free events"): only these lines tell the forms
 * apart, so that a trace recorded either way reads the same.
 */
#include <stdint.h>
#include <stdio.h>

#include "report-batch-notes.h"
#include "report-model.h"

static double bytes_per_call(const struct rp_batch_counts *c)
{
	return c->calls ? (double)c->bytes / (double)c->calls : 0;
}

void rp_print_batch_summary(FILE *out, const struct rp_model *m)
{
	const struct rp_batch_counts *c = &m->batch;

	if (!c->batches && !c->ignored)
		return;
	fprintf(out, "%llu trackalloc:batch events holding %llu calls (%.1f bytes a call)",
	        (unsigned long long)c->batches, (unsigned long long)c->calls, bytes_per_call(c));
	if (c->ignored)
		fprintf(out, "; %llu more not read: their processes have per-call events",
		        (unsigned long long)c->ignored);
	fputc('\n', out);
}

void rp_print_batch_notes(FILE *out, const struct rp_model *m, const struct rp_proc *p)
{
	const struct rp_batch_counts *c = &p->batch;
	double bpc = bytes_per_call(c);

	if (c->lost_bytes || c->bad_bytes) {
		fprintf(out, "  batches lost or unreadable: %llu bytes of the record stream missing, "
		             "%llu not decodable",
		        (unsigned long long)c->lost_bytes, (unsigned long long)c->bad_bytes);
		if (bpc > 0)
			fprintf(out, " (about %.0f calls at %.1f bytes a call)",
			        (double)(c->lost_bytes + c->bad_bytes) / bpc, bpc);
		fputs(": figures miss those calls\n", out);
	}
	if (c->late)
		fprintf(out, "  %llu call%s came in a batch more than %lld ms after %s: applied "
		             "late (%s time, and a peak it makes, approximate; see --horizon-ms)\n",
		        (unsigned long long)c->late, c->late == 1 ? "" : "s",
		        (long long)(m->batch_horizon_ns / 1000000), c->late == 1 ? "it" : "them",
		        c->late == 1 ? "its" : "their");
}

void rp_print_batch_tsv(FILE *out, const struct rp_model *m)
{
	const struct rp_batch_counts *c = &m->batch;

	if (!c->batches && !c->ignored)
		return;
	fprintf(out, "# batches\t%llu\n# batches_ignored\t%llu\n# batch_calls\t%llu\n"
	             "# batch_bytes\t%llu\n# batch_lost_bytes\t%llu\n"
	             "# batch_unreadable_bytes\t%llu\n# batch_late_calls\t%llu\n",
	        (unsigned long long)c->batches, (unsigned long long)c->ignored,
	        (unsigned long long)c->calls, (unsigned long long)c->bytes,
	        (unsigned long long)c->lost_bytes, (unsigned long long)c->bad_bytes,
	        (unsigned long long)c->late);
}
