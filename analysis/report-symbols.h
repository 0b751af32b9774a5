/* SPDX-License-Identifier: MIT */
/*
 * Symbolisation through elfutils libdwfl (report-symbols.c): the function,
 * file:line and inlined frames at an address of a module the process had
 * mapped. Used by report-collapse.c.
 *
 * Each binary (path and build id) is opened once, on first use, in a Dwfl
 * of its own (dwfl_report_elf at its file addresses); its debug info is
 * found by dwfl_standard_find_debuginfo: the file itself, its
 * .gnu_debuglink, /usr/lib/debug/.build-id/. A file whose build id differs
 * from the one recorded (rebuilt or moved since) is not used: when a debug
 * file with the recorded build id is installed, that is read instead;
 * otherwise the module has no symbols. Each problem is said once, on
 * stderr, in one line.
 */
#ifndef TA_REPORT_SYMBOLS_H
#define TA_REPORT_SYMBOLS_H

#include <stdbool.h>
#include <stdint.h>

struct rs_module;
struct rsym;

/* One logical frame; strings are interned (equal strings, equal pointers)
 * and live until rsym_free(). */
struct rsym_frame {
	const char *func; /* demangled; NULL: no symbol */
	const char *file; /* NULL: no line information */
	unsigned line;
	bool inlined;     /* inlined into the next frame of the lookup */
};

/* What is known of a module. */
enum rsym_status {
	RSYM_UNUSED,   /* never looked up */
	RSYM_DEBUG,    /* symbols and DWARF line information */
	RSYM_SYMTAB,   /* ELF symbols only (no debug info found) */
	RSYM_NONE,     /* no symbols at all */
	RSYM_MISMATCH, /* the file's build id is not the recorded one */
	RSYM_MISSING,  /* the file cannot be opened */
	RSYM_NOT_FILE, /* [vdso] and the like */
};

/* NULL: out of memory. */
struct rsym *rsym_new(void);
void rsym_free(struct rsym *s);

/*
 * The logical frames at return address @addr of module @mod, innermost
 * first (the function the address is in, then each function it is inlined
 * into), at most @max into @out. Returns how many (0: no symbol; then the
 * caller shows module+offset). *@file_addr gets the address in the file's
 * terms, for module+offset.
 */
int rsym_lookup(struct rsym *s, const struct rs_module *mod, uint64_t addr,
                struct rsym_frame *out, int max, uint64_t *file_addr);

/* How @mod was resolved (RSYM_UNUSED when rsym_lookup never saw it), and
 * the debug file used when it is not the binary itself (or NULL). */
enum rsym_status rsym_module_status(struct rsym *s, const struct rs_module *mod,
                                    const char **debug_file);

/* Intern @str in @s (NULL: out of memory). */
const char *rsym_intern(struct rsym *s, const char *str);

/* The file name of @path (after the last '/'). */
const char *rsym_basename(const char *path);

#endif /* TA_REPORT_SYMBOLS_H */
