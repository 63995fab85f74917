/* twshim — what an ELF file says about whether LD_PRELOAD can reach it.
 *
 * A small, bounds-checked reader: every offset and size taken from the
 * file is checked against the file size before use, so a truncated or
 * hostile file yields TW_ELF_MALFORMED, never a crash.  Native byte order
 * only; ELF32 and ELF64.  The parser reads through a callback, so tests can
 * feed it a buffer. */
#ifndef TWSHIM_TOOLS_ELFINFO_H
#define TWSHIM_TOOLS_ELFINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TW_ELF_NEEDED_MAX 32
#define TW_ELF_NAME_MAX 256

enum tw_elf_status {
	TW_ELF_OK = 0,
	TW_ELF_NOT_ELF,     /* no ELF magic */
	TW_ELF_UNSUPPORTED, /* foreign byte order or unknown class */
	TW_ELF_MALFORMED,   /* an offset or size points outside the file */
	TW_ELF_IO,          /* read error */
};

struct tw_elf_info {
	unsigned bits;     /* 32 or 64 */
	uint16_t type;     /* ET_EXEC, ET_DYN, ... */
	uint16_t machine;  /* EM_* */
	bool has_interp;   /* PT_INTERP: the dynamic loader runs first */
	char interp[TW_ELF_NAME_MAX];
	bool has_dynamic;  /* PT_DYNAMIC */
	bool has_sections; /* section headers readable */

	/* Go: the first marker found, or NULL.  Go programs make their system
	 * calls directly, even when linked dynamically through cgo. */
	const char *go_marker;

	bool has_dynsym;      /* .dynsym read: the import flags below are known */
	bool imports_connect; /* undefined connect (or __connect) in .dynsym */
	bool imports_close;
	bool defines_connect; /* the object provides connect itself (libc) */

	unsigned n_needed; /* DT_NEEDED entries, in order (first TW_ELF_NEEDED_MAX) */
	char needed[TW_ELF_NEEDED_MAX][TW_ELF_NAME_MAX];
	char runpath[TW_ELF_NAME_MAX]; /* DT_RUNPATH, else DT_RPATH, else "" */
};

/* Read len bytes at off; returns the count read (short at end of file) or -1. */
typedef ssize_t (*tw_elf_read_fn)(void *ctx, void *buf, size_t len, uint64_t off);

enum tw_elf_status tw_elf_inspect(tw_elf_read_fn rd, void *ctx, uint64_t size,
				  struct tw_elf_info *out);
enum tw_elf_status tw_elf_inspect_fd(int fd, struct tw_elf_info *out);
enum tw_elf_status tw_elf_inspect_mem(const void *buf, size_t len, struct tw_elf_info *out);

const char *tw_elf_status_str(enum tw_elf_status s);
const char *tw_elf_machine_str(uint16_t machine);

#endif
