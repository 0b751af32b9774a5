/* SPDX-License-Identifier: MIT */
/*
 * libdwfl symbolisation: one Dwfl per binary, addresses looked up as file
 * addresses (the binary reported at base 0), inlined frames from
 * dwarf_getscopes with each inlined subroutine's call site.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>

#include "report.h"
#include "report-stacks.h"
#include "report-symbols.h"

/* libstdc++'s demangler (the report links libstdc++). */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

struct binary {
	char *key;           /* path, NUL, build id hex */
	Dwfl *dwfl;
	Dwfl_Module *mod;
	enum rsym_status status;
	uint64_t vaddr0;     /* p_vaddr of the first PT_LOAD */
	const char *debug_file;
};

struct rsym {
	struct binary *bins;
	size_t nbins, bins_cap;
	const struct rs_module *last_mod;
	struct binary *last_bin;
	char **strs;         /* interned strings, open addressing */
	size_t strs_mask, nstrs;
};

static char *debuginfo_path; /* NULL: the default, ":.debug:/usr/lib/debug" */

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

const char *rsym_basename(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s ? s + 1 : path ? path : "?";
}

/* ---- strings --------------------------------------------------------------- */

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

const char *rsym_intern(struct rsym *s, const char *str)
{
	size_t i;
	char *copy;

	if (!str)
		return NULL;
	if ((s->nstrs + 1) * 2 > s->strs_mask + 1) {
		size_t size = (s->strs_mask + 1) * 2;
		char **n = calloc(size, sizeof(*n));

		if (!n)
			return NULL;
		for (size_t j = 0; j <= s->strs_mask; j++) {
			if (!s->strs[j])
				continue;
			for (i = str_hash(s->strs[j]) & (size - 1); n[i]; i = (i + 1) & (size - 1))
				;
			n[i] = s->strs[j];
		}
		free(s->strs);
		s->strs = n;
		s->strs_mask = size - 1;
	}
	for (i = str_hash(str) & s->strs_mask; s->strs[i]; i = (i + 1) & s->strs_mask)
		if (!strcmp(s->strs[i], str))
			return s->strs[i];
	copy = strdup(str);
	if (!copy)
		return NULL;
	s->strs[i] = copy;
	s->nstrs++;
	return copy;
}

/* The demangled @name, interned. */
static const char *demangled(struct rsym *s, const char *name)
{
	char *d;
	const char *r;
	int status = -1;

	if (!name)
		return NULL;
	if (name[0] != '_' || name[1] != 'Z')
		return rsym_intern(s, name);
	d = __cxa_demangle(name, NULL, NULL, &status);
	r = rsym_intern(s, status == 0 && d ? d : name);
	free(d);
	return r;
}

struct rsym *rsym_new(void)
{
	struct rsym *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->strs_mask = 1023;
	s->strs = calloc(s->strs_mask + 1, sizeof(*s->strs));
	if (!s->strs) {
		free(s);
		return NULL;
	}
	return s;
}

void rsym_free(struct rsym *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nbins; i++) {
		if (s->bins[i].dwfl)
			dwfl_end(s->bins[i].dwfl);
		free(s->bins[i].key);
	}
	free(s->bins);
	for (size_t i = 0; i <= s->strs_mask; i++)
		free(s->strs[i]);
	free(s->strs);
	free(s);
}

/* ---- binaries -------------------------------------------------------------- */

static void hex(const uint8_t *id, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", id[i]);
	out[2 * len] = 0;
}

/* Report @path into a fresh Dwfl of @b; false when it cannot be read. */
static bool report_file(struct binary *b, const char *path, int *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*err = 0;
	if (fd < 0) {
		*err = errno;
		return false;
	}
	b->dwfl = dwfl_begin(&callbacks);
	if (!b->dwfl) {
		close(fd);
		*err = ENOMEM;
		return false;
	}
	dwfl_report_begin(b->dwfl);
	/* dwfl owns @fd from here */
	b->mod = dwfl_report_elf(b->dwfl, rsym_basename(path), path, fd, 0, true);
	dwfl_report_end(b->dwfl, NULL, NULL);
	if (!b->mod) {
		dwfl_end(b->dwfl);
		b->dwfl = NULL;
		*err = ENOEXEC;
		return false;
	}
	return true;
}

static bool build_id_matches(Dwfl_Module *mod, const struct rs_module *md, char *found_hex)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int len = dwfl_module_build_id(mod, &bits, &vaddr);

	found_hex[0] = 0;
	if (len > 0 && len <= RS_BUILD_ID_MAX)
		hex(bits, (size_t)len, found_hex);
	if (!md->build_id_len)
		return true;
	return len > 0 && (size_t)len == md->build_id_len && !memcmp(bits, md->build_id, (size_t)len);
}

static void classify(struct rsym *s, struct binary *b)
{
	Dwarf_Addr bias;
	Elf *elf = dwfl_module_getelf(b->mod, &bias);
	size_t nph = 0;

	if (elf && elf_getphdrnum(elf, &nph) == 0) {
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr mem, *ph = gelf_getphdr(elf, (int)i, &mem);

			if (ph && ph->p_type == PT_LOAD) {
				b->vaddr0 = ph->p_vaddr;
				break;
			}
		}
	}
	if (dwfl_module_getdwarf(b->mod, &bias))
		b->status = RSYM_DEBUG;
	else
		b->status = dwfl_module_getsymtab(b->mod) > 0 ? RSYM_SYMTAB : RSYM_NONE;
	if (b->status != RSYM_NONE) {
		const char *main_file = NULL, *debug_file = NULL;

		dwfl_module_info(b->mod, NULL, NULL, NULL, NULL, NULL, &main_file, &debug_file);
		if (debug_file && main_file && strcmp(debug_file, main_file))
			b->debug_file = rsym_intern(s, debug_file);
	}
}

/* Open @md's binary: the file, checked against the recorded build id; on a
 * mismatch or when it is missing, the debug file of the recorded build id. */
static void open_binary(struct rsym *s, struct binary *b, const struct rs_module *md)
{
	char want[2 * RS_BUILD_ID_MAX + 1], found[2 * RS_BUILD_ID_MAX + 1], alt[4096];
	bool mismatch = false;
	int err = 0;

	hex(md->build_id, md->build_id_len, want);
	if (!md->path || md->path[0] != '/') {
		b->status = RSYM_NOT_FILE;
		return;
	}
	if (report_file(b, md->path, &err)) {
		if (build_id_matches(b->mod, md, found)) {
			classify(s, b);
			return;
		}
		mismatch = true;
		dwfl_end(b->dwfl);
		b->dwfl = NULL;
		b->mod = NULL;
	}
	/* the recorded build id's own debug file, when installed */
	if (md->build_id_len >= 2) {
		snprintf(alt, sizeof(alt), "/usr/lib/debug/.build-id/%.2s/%s.debug", want, want + 2);
		if (report_file(b, alt, &(int){ 0 }) && build_id_matches(b->mod, md, found)) {
			classify(s, b);
			b->debug_file = rsym_intern(s, alt);
			fprintf(stderr, RP_PREFIX "warning: %s: %s: symbols from %s (build id %s)\n",
			        md->path, mismatch ? "rebuilt or moved since the recording" :
			                             "cannot be opened", alt, want);
			return;
		}
		if (b->dwfl)
			dwfl_end(b->dwfl);
		b->dwfl = NULL;
		b->mod = NULL;
	}
	if (mismatch) {
		b->status = RSYM_MISMATCH;
		fprintf(stderr, RP_PREFIX "warning: %s: build id mismatch (recorded %s, the file has "
		                "%s): rebuilt or moved since the recording; its frames show as "
		                "module+offset\n", md->path, want, found[0] ? found : "none");
	} else {
		b->status = RSYM_MISSING;
		fprintf(stderr, RP_PREFIX "warning: %s: cannot be read (%s); its frames show as "
		                "module+offset\n", md->path,
		        err == ENOEXEC ? "not an ELF file" : strerror(err));
	}
}

static struct binary *binary_of(struct rsym *s, const struct rs_module *md, bool open)
{
	char id[2 * RS_BUILD_ID_MAX + 1], *key;
	size_t plen = md->path ? strlen(md->path) : 0;
	struct binary *b;

	if (s->last_mod == md && s->last_bin)
		return s->last_bin;
	hex(md->build_id, md->build_id_len, id);
	for (size_t i = 0; i < s->nbins; i++) {
		b = &s->bins[i];
		if (!strcmp(b->key, md->path ? md->path : "") && !strcmp(b->key + plen + 1, id)) {
			s->last_mod = md;
			return s->last_bin = b;
		}
	}
	if (!open)
		return NULL;
	if (s->nbins == s->bins_cap) {
		size_t ncap = s->bins_cap ? s->bins_cap * 2 : 16;
		void *n = realloc(s->bins, ncap * sizeof(*s->bins));

		if (!n)
			return NULL;
		s->bins = n;
		s->bins_cap = ncap;
	}
	key = malloc(plen + strlen(id) + 2);
	if (!key)
		return NULL;
	memcpy(key, md->path ? md->path : "", plen + 1);
	strcpy(key + plen + 1, id);
	b = &s->bins[s->nbins++];
	memset(b, 0, sizeof(*b));
	b->key = key;
	open_binary(s, b, md);
	s->last_mod = md;
	return s->last_bin = b;
}

enum rsym_status rsym_module_status(struct rsym *s, const struct rs_module *md,
                                    const char **debug_file)
{
	struct binary *b = binary_of(s, md, false);

	*debug_file = b ? b->debug_file : NULL;
	return b ? b->status : RSYM_UNUSED;
}

/* ---- lookups --------------------------------------------------------------- */

/* A C++ function by its demangled linkage name (qualified, with its
 * parameters); anything else by its name (glibc's "__strdup", not its
 * internal alias "__GI___strdup"). */
static const char *die_name(struct rsym *s, Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *link = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
	const char *name = dwarf_diename(die);

	if (!link)
		link = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a));
	if (link && link[0] == '_' && link[1] == 'Z')
		return demangled(s, link);
	return demangled(s, name ? name : link);
}

static bool is_function(Dwarf_Die *die)
{
	int tag = dwarf_tag(die);

	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine;
}

/* The first function scope of @scopes[@from .. @n) into *@out. */
static bool first_function(Dwarf_Die *scopes, int from, int n, Dwarf_Die *out)
{
	for (int i = from; i < n; i++) {
		if (is_function(&scopes[i])) {
			*out = scopes[i];
			return true;
		}
	}
	return false;
}

/*
 * The inline chain at @a from DWARF; 0 when there is no scope. As
 * eu-addr2line -i does it: dwarf_getscopes finds the innermost function at
 * @a; past an inlined instance it goes on in the abstract definition, so
 * each caller is found with dwarf_getscopes_die on the concrete instance,
 * at the instance's call site.
 */
static int dwarf_frames(struct rsym *s, Dwfl_Module *mod, Dwarf_Addr a, struct rsym_frame *out,
                        int max)
{
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = dwfl_module_addrdie(mod, a, &bias), *scopes = NULL, die;
	Dwfl_Line *ln = dwfl_module_getsrc(mod, a);
	const char *file = NULL;
	int lineno = 0, n, count = 0;
	bool found;

	if (!cu)
		return 0;
	if (ln)
		file = dwfl_lineinfo(ln, NULL, &lineno, NULL, NULL, NULL);
	n = dwarf_getscopes(cu, a - bias, &scopes);
	found = n > 0 && first_function(scopes, 0, n, &die);
	free(scopes);
	while (found && count < max) {
		Dwarf_Attribute attr;
		Dwarf_Word v;
		Dwarf_Files *files;
		size_t nfiles;
		bool inlined = dwarf_tag(&die) == DW_TAG_inlined_subroutine;

		out[count].func = die_name(s, &die);
		out[count].file = rsym_intern(s, file);
		out[count].line = lineno > 0 ? (unsigned)lineno : 0;
		out[count].inlined = inlined;
		count++;
		if (!inlined)
			break;
		/* the next frame is where this one was inlined */
		file = NULL;
		lineno = 0;
		if (dwarf_formudata(dwarf_attr(&die, DW_AT_call_file, &attr), &v) == 0 &&
		    dwarf_getsrcfiles(cu, &files, &nfiles) == 0 && v < nfiles)
			file = dwarf_filesrc(files, v, NULL, NULL);
		if (dwarf_formudata(dwarf_attr(&die, DW_AT_call_line, &attr), &v) == 0)
			lineno = (int)v;
		scopes = NULL;
		n = dwarf_getscopes_die(&die, &scopes);
		found = n > 1 && first_function(scopes, 1, n, &die);
		free(scopes);
	}
	/* an inline chain that ends without its subprogram: not trustworthy */
	if (count && out[count - 1].inlined)
		out[count - 1].inlined = false;
	return count;
}

int rsym_lookup(struct rsym *s, const struct rs_module *md, uint64_t addr,
                struct rsym_frame *out, int max, uint64_t *file_addr)
{
	struct binary *b = binary_of(s, md, true);
	Dwarf_Addr a;
	GElf_Off off;
	GElf_Sym sym;
	const char *name;
	int n = 0;

	*file_addr = rs_module_file_address(md, addr, b ? b->vaddr0 : 0);
	if (!b || !b->mod || max <= 0)
		return 0;
	/* a return address: the call is the byte before */
	a = *file_addr ? *file_addr - 1 : 0;
	if (b->status == RSYM_DEBUG)
		n = dwarf_frames(s, b->mod, a, out, max);
	if (n)
		return n;
	name = dwfl_module_addrinfo(b->mod, a, &off, &sym, NULL, NULL, NULL);
	if (!name)
		return 0;
	out[0] = (struct rsym_frame){ .func = demangled(s, name) };
	if (b->status == RSYM_DEBUG) {
		Dwfl_Line *ln = dwfl_module_getsrc(b->mod, a);
		int lineno = 0;
		const char *file = ln ? dwfl_lineinfo(ln, NULL, &lineno, NULL, NULL, NULL) : NULL;

		out[0].file = rsym_intern(s, file);
		out[0].line = lineno > 0 ? (unsigned)lineno : 0;
	}
	return out[0].func ? 1 : 0;
}
