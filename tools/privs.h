/* twshim — what exec would do to a program's privileges, the kernel's way.
 *
 * The dynamic loader ignores LD_PRELOAD exactly when the kernel sets
 * AT_SECURE for the exec, and that depends on who runs the program, not
 * only on its mode bits: root running a setuid-root or file-capability
 * binary gets AT_SECURE=0.  And under `twshim run --supervise` the target
 * starts with no_new_privs, which makes exec ignore setuid bits and file
 * capability grants.  tw_exec_predict() follows fs/exec.c (bprm_fill_uid)
 * and security/commoncap.c (cap_bprm_creds_from_file) of Linux 6.x. */
#ifndef TWSHIM_TOOLS_PRIVS_H
#define TWSHIM_TOOLS_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* security.capability, decoded (struct vfs_cap_data, revisions 1-3). */
struct tw_fcaps {
	bool present;        /* an xattr the kernel accepts is there */
	bool effective;      /* VFS_CAP_FLAGS_EFFECTIVE */
	uint64_t permitted;  /* fP */
	uint64_t inheritable;/* fI */
};

/* Decode the raw xattr.  False when it is malformed (the kernel then
 * refuses to exec the file, or ignores the value). */
bool tw_fcaps_decode(const void *buf, size_t len, struct tw_fcaps *out);

/* The credentials of the process that would exec. */
struct tw_exec_creds {
	uid_t ruid, euid;
	gid_t rgid, egid;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	bool nnp;           /* no_new_privs already set */
	bool noroot;        /* SECBIT_NOROOT: root gets no implicit capabilities */
};

/* The file to exec. */
struct tw_exec_file {
	bool setuid, setgid; /* setgid only with group-execute, as the kernel counts it */
	uid_t uid;
	gid_t gid;
	bool nosuid;         /* on a nosuid mount: both bits and file capabilities ignored */
	struct tw_fcaps caps;
};

/* What the new program would run with. */
struct tw_exec_result {
	uid_t euid;
	gid_t egid;
	uint64_t cap_prm, cap_eff;
	bool secure; /* AT_SECURE: the loader ignores LD_PRELOAD */
};

/* Pure: the kernel's exec for c running f (with no_new_privs if nnp). */
void tw_exec_predict(const struct tw_exec_creds *c, const struct tw_exec_file *f, bool nnp,
		     struct tw_exec_result *r);

/* Does no_new_privs change what f runs with (ids or capabilities)? */
bool tw_exec_nnp_changes(const struct tw_exec_creds *c, const struct tw_exec_file *f);

/* Read this process's credentials (/proc/self/status, getres[ug]id,
 * prctl).  False when they cannot be read. */
bool tw_exec_creds_self(struct tw_exec_creds *c);
/* Read path's mode, owner, mount flags and capability xattr.  Returns 0 or
 * an errno value. */
int tw_exec_file_read(const char *path, struct tw_exec_file *f);

/* "cap_net_raw,cap_net_admin" (or "none") for a mask, into buf. */
const char *tw_caps_names(uint64_t mask, char *buf, size_t len);

#endif
