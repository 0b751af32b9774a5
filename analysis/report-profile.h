/* SPDX-License-Identifier: MIT */
/*
 * Reading a TRACKALLOC_PROFILE file (doc/profile-format.md) into the
 * models (report-profile.c). Used by report.c.
 */
#ifndef TA_REPORT_PROFILE_H
#define TA_REPORT_PROFILE_H

struct rp_model;
struct rs_model;

/*
 * Read the profile @path: its groups' names and tags into @gm (one process,
 * the profile's pid), its modules, stacks and sites into @sm. Strict: an
 * unknown version, a malformed or out-of-order record, a module id out of
 * sequence, a stack id not above the previous one, a reference to an undefined module, group or stack, a
 * duplicate site, or a missing or wrong `end` line fail the read.
 *
 * Returns RP_EXIT_OK, or prints one line on stderr ("PATH:LINE: what is
 * wrong") and returns RP_EXIT_INPUT (cannot read, not a profile, malformed,
 * truncated) or RP_EXIT_OUTPUT (out of memory).
 */
int rp_read_profile(const char *path, struct rp_model *gm, struct rs_model *sm);

#endif /* TA_REPORT_PROFILE_H */
