/* twshim — bounds-checked ELF inspection (see elfinfo.h). */
#include "elfinfo.h"

#include <elf.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Limits that keep a hostile header from making us read gigabytes. */
#define MAX_PHNUM 4096u
#define MAX_TABLE (64u << 20) /* one symbol or string table */

/* Headers normalised to 64-bit fields whatever the file's class. */
struct ehdr { uint16_t type, machine; uint64_t phoff, shoff; uint16_t phentsize, phnum, shentsize, shnum, shstrndx; };
struct phdr { uint32_t type; uint64_t offset, filesz; };
struct shdr { uint32_t name, type, link; uint64_t offset, size, entsize; };

struct reader {
	tw_elf_read_fn rd;
	void *ctx;
	uint64_t size;
	bool is64;
};

/* Is [off, off+len) inside the file?  Written so nothing overflows. */
static bool in_file(const struct reader *r, uint64_t off, uint64_t len)
{
	return off <= r->size && len <= r->size - off;
}

static enum tw_elf_status read_at(const struct reader *r, void *buf, size_t len, uint64_t off)
{
	if (!in_file(r, off, len))
		return TW_ELF_MALFORMED;
	size_t done = 0;
	while (done < len) {
		ssize_t n = r->rd(r->ctx, (char *)buf + done, len - done, off + done);
		if (n < 0)
			return TW_ELF_IO;
		if (n == 0)
			return TW_ELF_MALFORMED;
		done += (size_t)n;
	}
	return TW_ELF_OK;
}

/* A whole table (symbols, strings) into memory, capped. */
static enum tw_elf_status read_table(const struct reader *r, uint64_t off, uint64_t len, char **out)
{
	*out = NULL;
	if (len > MAX_TABLE)
		return TW_ELF_MALFORMED;
	char *buf = malloc(len + 1);
	if (!buf)
		return TW_ELF_IO;
	enum tw_elf_status st = read_at(r, buf, len, off);
	if (st != TW_ELF_OK) {
		free(buf);
		return st;
	}
	buf[len] = '\0'; /* so a last unterminated string stays inside */
	*out = buf;
	return TW_ELF_OK;
}

/* String at index idx of a table of len bytes, or NULL when out of bounds. */
static const char *str_at(const char *tab, uint64_t len, uint64_t idx)
{
	if (!tab || idx >= len)
		return NULL;
	return tab + idx; /* read_table NUL-terminated the buffer */
}

static enum tw_elf_status read_ehdr(struct reader *r, struct ehdr *e)
{
	unsigned char ident[EI_NIDENT];
	if (r->size < EI_NIDENT)
		return TW_ELF_NOT_ELF;
	enum tw_elf_status st = read_at(r, ident, sizeof(ident), 0);
	if (st != TW_ELF_OK)
		return st;
	if (memcmp(ident, ELFMAG, SELFMAG) != 0)
		return TW_ELF_NOT_ELF;
#if __BYTE_ORDER == __LITTLE_ENDIAN
	if (ident[EI_DATA] != ELFDATA2LSB)
		return TW_ELF_UNSUPPORTED;
#else
	if (ident[EI_DATA] != ELFDATA2MSB)
		return TW_ELF_UNSUPPORTED;
#endif
	if (ident[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr h;
		r->is64 = true;
		if ((st = read_at(r, &h, sizeof(h), 0)) != TW_ELF_OK)
			return st;
		*e = (struct ehdr){ h.e_type, h.e_machine, h.e_phoff, h.e_shoff, h.e_phentsize,
				    h.e_phnum, h.e_shentsize, h.e_shnum, h.e_shstrndx };
		if (h.e_phnum && h.e_phentsize != sizeof(Elf64_Phdr))
			return TW_ELF_MALFORMED;
		if (h.e_shnum && h.e_shentsize != sizeof(Elf64_Shdr))
			return TW_ELF_MALFORMED;
	} else if (ident[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr h;
		r->is64 = false;
		if ((st = read_at(r, &h, sizeof(h), 0)) != TW_ELF_OK)
			return st;
		*e = (struct ehdr){ h.e_type, h.e_machine, h.e_phoff, h.e_shoff, h.e_phentsize,
				    h.e_phnum, h.e_shentsize, h.e_shnum, h.e_shstrndx };
		if (h.e_phnum && h.e_phentsize != sizeof(Elf32_Phdr))
			return TW_ELF_MALFORMED;
		if (h.e_shnum && h.e_shentsize != sizeof(Elf32_Shdr))
			return TW_ELF_MALFORMED;
	} else {
		return TW_ELF_UNSUPPORTED;
	}
	if (e->phnum > MAX_PHNUM)
		return TW_ELF_MALFORMED;
	return TW_ELF_OK;
}

static enum tw_elf_status read_phdr(const struct reader *r, const struct ehdr *e, unsigned i, struct phdr *p)
{
	enum tw_elf_status st;
	if (r->is64) {
		Elf64_Phdr h;
		if ((st = read_at(r, &h, sizeof(h), e->phoff + (uint64_t)i * sizeof(h))) != TW_ELF_OK)
			return st;
		*p = (struct phdr){ h.p_type, h.p_offset, h.p_filesz };
	} else {
		Elf32_Phdr h;
		if ((st = read_at(r, &h, sizeof(h), e->phoff + (uint64_t)i * sizeof(h))) != TW_ELF_OK)
			return st;
		*p = (struct phdr){ h.p_type, h.p_offset, h.p_filesz };
	}
	return TW_ELF_OK;
}

static enum tw_elf_status read_shdr(const struct reader *r, const struct ehdr *e, unsigned i, struct shdr *s)
{
	enum tw_elf_status st;
	if (r->is64) {
		Elf64_Shdr h;
		if ((st = read_at(r, &h, sizeof(h), e->shoff + (uint64_t)i * sizeof(h))) != TW_ELF_OK)
			return st;
		*s = (struct shdr){ h.sh_name, h.sh_type, h.sh_link, h.sh_offset, h.sh_size, h.sh_entsize };
	} else {
		Elf32_Shdr h;
		if ((st = read_at(r, &h, sizeof(h), e->shoff + (uint64_t)i * sizeof(h))) != TW_ELF_OK)
			return st;
		*s = (struct shdr){ h.sh_name, h.sh_type, h.sh_link, h.sh_offset, h.sh_size, h.sh_entsize };
	}
	/* SHT_NOBITS occupies no file bytes: never read it. */
	if (s->type != SHT_NOBITS && !in_file(r, s->offset, s->size))
		return TW_ELF_MALFORMED;
	return TW_ELF_OK;
}

/* Go's linker writes an ELF note with owner "Go" and type 4 (build id). */
static enum tw_elf_status scan_go_note(const struct reader *r, const struct phdr *p, struct tw_elf_info *out)
{
	uint64_t off = p->offset, end;
	if (!in_file(r, p->offset, p->filesz))
		return TW_ELF_MALFORMED;
	end = p->offset + p->filesz;
	while (end - off >= 12) {
		uint32_t nh[3];
		enum tw_elf_status st = read_at(r, nh, sizeof(nh), off);
		if (st != TW_ELF_OK)
			return st;
		uint64_t namesz = (nh[0] + 3ull) & ~3ull, descsz = (nh[1] + 3ull) & ~3ull;
		off += 12;
		if (namesz > end - off || descsz > end - off - namesz)
			return TW_ELF_MALFORMED;
		if (nh[0] == 3 && nh[2] == 4) {
			char name[3];
			if ((st = read_at(r, name, 3, off)) != TW_ELF_OK)
				return st;
			if (memcmp(name, "Go", 3) == 0) {
				out->go_marker = "Go build-id note";
				return TW_ELF_OK;
			}
		}
		off += namesz + descsz;
	}
	return TW_ELF_OK;
}

static enum tw_elf_status scan_segments(const struct reader *r, const struct ehdr *e, struct tw_elf_info *out)
{
	for (unsigned i = 0; i < e->phnum; i++) {
		struct phdr p;
		enum tw_elf_status st = read_phdr(r, e, i, &p);
		if (st != TW_ELF_OK)
			return st;
		if (p.type == PT_INTERP) {
			size_t n = p.filesz < sizeof(out->interp) - 1 ? p.filesz : sizeof(out->interp) - 1;
			if ((st = read_at(r, out->interp, n, p.offset)) != TW_ELF_OK)
				return st;
			out->interp[n] = '\0';
			out->has_interp = true;
		} else if (p.type == PT_DYNAMIC) {
			out->has_dynamic = true;
		} else if (p.type == PT_NOTE && !out->go_marker) {
			if ((st = scan_go_note(r, &p, out)) != TW_ELF_OK)
				return st;
		}
	}
	return TW_ELF_OK;
}

static bool sym_undefined(const void *syms, uint64_t i, bool is64, uint32_t *name)
{
	if (is64) {
		const Elf64_Sym *s = (const Elf64_Sym *)syms + i;
		*name = s->st_name;
		return s->st_shndx == SHN_UNDEF;
	}
	const Elf32_Sym *s = (const Elf32_Sym *)syms + i;
	*name = s->st_name;
	return s->st_shndx == SHN_UNDEF;
}

/* Walk a symbol table: imports of connect/close (.dynsym) or Go's
 * runtime.buildVersion (.symtab). */
static enum tw_elf_status scan_symbols(const struct reader *r, const struct shdr *sym,
				       const struct shdr *strs, bool dynamic, struct tw_elf_info *out)
{
	size_t entsize = r->is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
	char *tab = NULL, *names = NULL;
	enum tw_elf_status st;

	if (sym->entsize != entsize || strs->type != SHT_STRTAB)
		return TW_ELF_MALFORMED;
	if ((st = read_table(r, sym->offset, sym->size, &tab)) != TW_ELF_OK)
		return st;
	if ((st = read_table(r, strs->offset, strs->size, &names)) != TW_ELF_OK) {
		free(tab);
		return st;
	}
	uint64_t n = sym->size / entsize;
	for (uint64_t i = 1; i < n; i++) {
		uint32_t ni;
		bool undef = sym_undefined(tab, i, r->is64, &ni);
		const char *name = str_at(names, strs->size, ni);
		if (!name)
			continue;
		if (dynamic) {
			bool is_connect = !strcmp(name, "connect") || !strcmp(name, "__connect");
			bool is_close = !strcmp(name, "close") || !strcmp(name, "__close");
			if (is_connect && undef)
				out->imports_connect = true;
			else if (is_connect)
				out->defines_connect = true;
			if (is_close && undef)
				out->imports_close = true;
		} else if (!out->go_marker && !strcmp(name, "runtime.buildVersion")) {
			out->go_marker = "runtime.buildVersion symbol";
		}
	}
	if (dynamic)
		out->has_dynsym = true;
	free(tab);
	free(names);
	return TW_ELF_OK;
}

static void copy_name(char *dst, const char *src)
{
	size_t n = strnlen(src, TW_ELF_NAME_MAX - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* DT_NEEDED and DT_RUNPATH/DT_RPATH from the .dynamic section. */
static enum tw_elf_status scan_dynamic(const struct reader *r, const struct shdr *dyn,
				       const struct shdr *strs, struct tw_elf_info *out)
{
	size_t entsize = r->is64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
	char *tab = NULL, *names = NULL;
	enum tw_elf_status st;

	if (strs->type != SHT_STRTAB)
		return TW_ELF_MALFORMED;
	if ((st = read_table(r, dyn->offset, dyn->size, &tab)) != TW_ELF_OK)
		return st;
	if ((st = read_table(r, strs->offset, strs->size, &names)) != TW_ELF_OK) {
		free(tab);
		return st;
	}
	bool have_runpath = false;
	for (uint64_t i = 0; i < dyn->size / entsize; i++) {
		int64_t tag;
		uint64_t val;
		if (r->is64) {
			const Elf64_Dyn *d = (const Elf64_Dyn *)tab + i;
			tag = d->d_tag;
			val = d->d_un.d_val;
		} else {
			const Elf32_Dyn *d = (const Elf32_Dyn *)tab + i;
			tag = d->d_tag;
			val = d->d_un.d_val;
		}
		if (tag == DT_NULL)
			break;
		const char *s = (tag == DT_NEEDED || tag == DT_RUNPATH || tag == DT_RPATH)
			? str_at(names, strs->size, val) : NULL;
		if (!s)
			continue;
		if (tag == DT_NEEDED && out->n_needed < TW_ELF_NEEDED_MAX)
			copy_name(out->needed[out->n_needed++], s);
		else if (tag == DT_RUNPATH) {
			copy_name(out->runpath, s);
			have_runpath = true;
		} else if (tag == DT_RPATH && !have_runpath)
			copy_name(out->runpath, s);
	}
	free(tab);
	free(names);
	return TW_ELF_OK;
}

static enum tw_elf_status scan_sections(const struct reader *r, const struct ehdr *e, struct tw_elf_info *out)
{
	if (e->shnum == 0 || e->shstrndx >= e->shnum)
		return TW_ELF_OK; /* stripped of section headers: segments only */

	struct shdr strsec, s, link;
	char *shnames = NULL;
	enum tw_elf_status st;
	int dynsym = -1, symtab = -1, dynamic = -1;

	if ((st = read_shdr(r, e, e->shstrndx, &strsec)) != TW_ELF_OK)
		return st;
	if ((st = read_table(r, strsec.offset, strsec.size, &shnames)) != TW_ELF_OK)
		return st;
	for (unsigned i = 0; i < e->shnum; i++) {
		if ((st = read_shdr(r, e, i, &s)) != TW_ELF_OK)
			goto out;
		const char *name = str_at(shnames, strsec.size, s.name);
		if (name && !out->go_marker) {
			if (!strcmp(name, ".note.go.buildid"))
				out->go_marker = ".note.go.buildid section";
			else if (!strcmp(name, ".go.buildinfo"))
				out->go_marker = ".go.buildinfo section";
		}
		if (s.type == SHT_DYNSYM && dynsym < 0)
			dynsym = (int)i;
		else if (s.type == SHT_SYMTAB && symtab < 0)
			symtab = (int)i;
		else if (s.type == SHT_DYNAMIC && dynamic < 0)
			dynamic = (int)i;
	}
	out->has_sections = true;

	int tables[3] = { dynsym, dynamic, out->go_marker ? -1 : symtab };
	for (unsigned t = 0; t < 3; t++) {
		if (tables[t] < 0)
			continue;
		if ((st = read_shdr(r, e, (unsigned)tables[t], &s)) != TW_ELF_OK)
			goto out;
		if (s.link >= e->shnum) {
			st = TW_ELF_MALFORMED;
			goto out;
		}
		if ((st = read_shdr(r, e, s.link, &link)) != TW_ELF_OK)
			goto out;
		st = t == 1 ? scan_dynamic(r, &s, &link, out) : scan_symbols(r, &s, &link, t == 0, out);
		if (st != TW_ELF_OK)
			goto out;
	}
	st = TW_ELF_OK;
out:
	free(shnames);
	return st;
}

enum tw_elf_status tw_elf_inspect(tw_elf_read_fn rd, void *ctx, uint64_t size, struct tw_elf_info *out)
{
	struct reader r = { .rd = rd, .ctx = ctx, .size = size };
	struct ehdr e;
	enum tw_elf_status st;

	memset(out, 0, sizeof(*out));
	if ((st = read_ehdr(&r, &e)) != TW_ELF_OK)
		return st;
	out->bits = r.is64 ? 64 : 32;
	out->type = e.type;
	out->machine = e.machine;
	if ((st = scan_segments(&r, &e, out)) != TW_ELF_OK)
		return st;
	return scan_sections(&r, &e, out);
}

static ssize_t fd_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	ssize_t n;
	do
		n = pread(*(int *)ctx, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	return n;
}

enum tw_elf_status tw_elf_inspect_fd(int fd, struct tw_elf_info *out)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		memset(out, 0, sizeof(*out));
		return TW_ELF_IO;
	}
	return tw_elf_inspect(fd_read, &fd, (uint64_t)st.st_size, out);
}

struct mem_src {
	const unsigned char *p;
	size_t len;
};

static ssize_t mem_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	const struct mem_src *m = ctx;
	if (off >= m->len)
		return 0;
	size_t n = m->len - off < len ? m->len - off : len;
	memcpy(buf, m->p + off, n);
	return (ssize_t)n;
}

enum tw_elf_status tw_elf_inspect_mem(const void *buf, size_t len, struct tw_elf_info *out)
{
	struct mem_src m = { buf, len };
	return tw_elf_inspect(mem_read, &m, len, out);
}

const char *tw_elf_status_str(enum tw_elf_status s)
{
	switch (s) {
	case TW_ELF_OK: return "ok";
	case TW_ELF_NOT_ELF: return "not an ELF file";
	case TW_ELF_UNSUPPORTED: return "ELF of another byte order or class";
	case TW_ELF_MALFORMED: return "malformed ELF (an offset points outside the file)";
	case TW_ELF_IO: return "read error";
	}
	return "unknown";
}

const char *tw_elf_machine_str(uint16_t machine)
{
	switch (machine) {
	case EM_X86_64: return "x86-64";
	case EM_386: return "i386";
	case EM_AARCH64: return "aarch64";
	case EM_ARM: return "arm";
	case EM_RISCV: return "riscv";
	case EM_PPC64: return "ppc64";
	case EM_S390: return "s390";
	}
	return "other";
}
