/* twshim — can the preload library reach this program?  Shared by
 * `twshim run` (refuse unreachable targets) and `twshim doctor` (explain). */
#ifndef TWSHIM_TOOLS_TARGET_H
#define TWSHIM_TOOLS_TARGET_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#include "elfinfo.h"
#include "privs.h"

enum tw_reach {
	TW_REACH_YES = 0,    /* dynamic, not Go, no privilege change */
	TW_REACH_PRIVILEGED, /* exec by this user sets AT_SECURE: the loader ignores LD_PRELOAD */
	TW_REACH_STATIC,     /* no program interpreter: nothing loads the library */
	TW_REACH_GO,         /* Go: system calls bypass libc */
	TW_REACH_UNKNOWN,    /* not an ELF we can read */
};

struct tw_target {
	char path[PATH_MAX];   /* the file named (after PATH search) */
	char exe[PATH_MAX];    /* the ELF examined: path, or a script's interpreter */
	bool script;           /* path starts with #! */
	enum tw_elf_status elf_status;
	struct tw_elf_info elf;
	bool setuid, setgid;
	bool caps;              /* file capabilities that grant something (not an empty set) */
	struct tw_exec_file file;
	bool creds_known;       /* the user's credentials could be read */
	struct tw_exec_creds creds;
	struct tw_exec_result exec; /* exec by this user, as twshim run does it */
	bool nnp_changes;       /* under no_new_privs (--supervise) it would run with other
				 * ids or capabilities */

	/* connect()/close() imported by the program or a library it needs;
	 * *_via is the object that imports it ("" = not found). */
	char connect_via[PATH_MAX];
	char close_via[PATH_MAX];
	unsigned libs_scanned;
	unsigned libs_missing;

	enum tw_reach reach;
};

/* Find a command as execvp would (PATH search when it has no '/').
 * Returns 0, or an errno value (ENOENT, EACCES). */
int tw_resolve_command(const char *cmd, const char *path_env, char *out, size_t outlen);

/* Examine path: shebang, ELF, mode bits, capabilities, imports.
 * Returns 0, or an errno value when the file cannot be opened. */
int tw_target_inspect(const char *path, const char *ld_library_path, struct tw_target *t);

/* One-line reason and remedy why --supervise would change the target's
 * privileges (t->nnp_changes). */
const char *tw_nnp_reason(const struct tw_target *t);
const char *tw_nnp_remedy(void);

/* One-line reason and one-line remedy for an unreachable target. */
const char *tw_reach_reason(const struct tw_target *t);
const char *tw_reach_remedy(const struct tw_target *t);

/* The report printed by `twshim doctor`. */
void tw_target_report(FILE *f, const struct tw_target *t);

#endif
