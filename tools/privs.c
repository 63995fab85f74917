/* twshim — exec privilege prediction; see privs.h. */
#include "privs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

/* linux/capability.h, without its includes */
#define VFS_CAP_REVISION_MASK 0xFF000000u
#define VFS_CAP_FLAGS_EFFECTIVE 0x000001u
#define VFS_CAP_REVISION_1 0x01000000u
#define VFS_CAP_REVISION_2 0x02000000u
#define VFS_CAP_REVISION_3 0x03000000u
#define SECBIT_NOROOT_BIT 0

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

bool tw_fcaps_decode(const void *buf, size_t len, struct tw_fcaps *out)
{
	const unsigned char *b = buf;
	memset(out, 0, sizeof(*out));
	if (len < 4)
		return false;
	uint32_t magic = le32(b);
	size_t words, need;
	switch (magic & VFS_CAP_REVISION_MASK) {
	case VFS_CAP_REVISION_1: words = 1; need = 12; break;
	case VFS_CAP_REVISION_2: words = 2; need = 20; break;
	case VFS_CAP_REVISION_3: words = 2; need = 24; break; /* + rootid */
	default: return false;
	}
	if (len != need)
		return false;
	for (size_t i = 0; i < words; i++) {
		out->permitted |= (uint64_t)le32(b + 4 + 8 * i) << (32 * i);
		out->inheritable |= (uint64_t)le32(b + 8 + 8 * i) << (32 * i);
	}
	out->effective = (magic & VFS_CAP_FLAGS_EFFECTIVE) != 0;
	out->present = true;
	return true;
}

static bool subset(uint64_t a, uint64_t b)
{
	return (a & ~b) == 0;
}

void tw_exec_predict(const struct tw_exec_creds *c, const struct tw_exec_file *f, bool nnp,
		     struct tw_exec_result *r)
{
	nnp = nnp || c->nnp;
	uid_t euid = c->euid;
	gid_t egid = c->egid;
	/* bprm_fill_uid: the bits count only on a suid mount and without
	 * no_new_privs */
	if (!f->nosuid && !nnp) {
		if (f->setuid)
			euid = f->uid;
		if (f->setgid)
			egid = f->gid;
	}
	/* get_file_caps: ignored on a nosuid mount */
	bool has_fcap = f->caps.present && !f->nosuid;
	bool effective = has_fcap && f->caps.effective;
	uint64_t prm = has_fcap ? (c->cap_bnd & f->caps.permitted) | (c->cap_inh & f->caps.inheritable)
				: 0;
	/* handle_privileged_root */
	if (!c->noroot && !(has_fcap && euid == 0 && c->ruid != 0)) {
		if (euid == 0 || c->ruid == 0)
			prm = c->cap_bnd | c->cap_inh;
		if (euid == 0)
			effective = true;
	}
	bool is_setid = euid != c->ruid || egid != c->rgid;
	if ((is_setid || !subset(prm, c->cap_prm)) && nnp) {
		/* no_new_privs: "they get no more than they had" */
		euid = c->ruid;
		egid = c->rgid;
		prm &= c->cap_prm;
	}
	uint64_t amb = (has_fcap || is_setid) ? 0 : c->cap_amb;
	prm |= amb;
	r->euid = euid;
	r->egid = egid;
	r->cap_prm = prm;
	r->cap_eff = effective ? prm : amb;
	r->secure = is_setid || (c->ruid != 0 && (effective || !subset(prm, amb)));
}

bool tw_exec_nnp_changes(const struct tw_exec_creds *c, const struct tw_exec_file *f)
{
	struct tw_exec_result plain, nnp;
	tw_exec_predict(c, f, false, &plain);
	tw_exec_predict(c, f, true, &nnp);
	return plain.euid != nnp.euid || plain.egid != nnp.egid || plain.cap_prm != nnp.cap_prm ||
	       plain.cap_eff != nnp.cap_eff;
}

static bool status_hex(const char *text, const char *key, uint64_t *out)
{
	const char *p = strstr(text, key);
	char *end;
	if (!p)
		return false;
	p += strlen(key);
	p += strspn(p, " \t");
	errno = 0;
	unsigned long long v = strtoull(p, &end, 16);
	if (end == p || errno || (*end != '\n' && *end != '\0'))
		return false;
	*out = v;
	return true;
}

bool tw_exec_creds_self(struct tw_exec_creds *c)
{
	char text[4096];
	uid_t suid;
	gid_t sgid;
	memset(c, 0, sizeof(*c));
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return false;
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	if (getresuid(&c->ruid, &c->euid, &suid) != 0 || getresgid(&c->rgid, &c->egid, &sgid) != 0)
		return false;
	int secbits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	c->noroot = secbits > 0 && (secbits & (1 << SECBIT_NOROOT_BIT));
	c->nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
	return status_hex(text, "\nCapInh:", &c->cap_inh) && status_hex(text, "\nCapPrm:", &c->cap_prm) &&
	       status_hex(text, "\nCapEff:", &c->cap_eff) && status_hex(text, "\nCapBnd:", &c->cap_bnd) &&
	       status_hex(text, "\nCapAmb:", &c->cap_amb);
}

int tw_exec_file_read(const char *path, struct tw_exec_file *f)
{
	struct stat st;
	struct statvfs sv;
	unsigned char raw[32];
	memset(f, 0, sizeof(*f));
	if (stat(path, &st) != 0)
		return errno;
	f->setuid = (st.st_mode & S_ISUID) != 0;
	/* setgid without group-execute marks mandatory locking, not privilege */
	f->setgid = (st.st_mode & S_ISGID) && (st.st_mode & S_IXGRP);
	f->uid = st.st_uid;
	f->gid = st.st_gid;
	f->nosuid = statvfs(path, &sv) == 0 && (sv.f_flag & ST_NOSUID);
	ssize_t n = getxattr(path, "security.capability", raw, sizeof(raw));
	if (n > 0)
		tw_fcaps_decode(raw, (size_t)n, &f->caps);
	return 0;
}

static const char *const cap_names[] = {
	"cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid",
	"cap_kill", "cap_setgid", "cap_setuid", "cap_setpcap", "cap_linux_immutable",
	"cap_net_bind_service", "cap_net_broadcast", "cap_net_admin", "cap_net_raw",
	"cap_ipc_lock", "cap_ipc_owner", "cap_sys_module", "cap_sys_rawio", "cap_sys_chroot",
	"cap_sys_ptrace", "cap_sys_pacct", "cap_sys_admin", "cap_sys_boot", "cap_sys_nice",
	"cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod", "cap_lease",
	"cap_audit_write", "cap_audit_control", "cap_setfcap", "cap_mac_override",
	"cap_mac_admin", "cap_syslog", "cap_wake_alarm", "cap_block_suspend", "cap_audit_read",
	"cap_perfmon", "cap_bpf", "cap_checkpoint_restore",
};

const char *tw_caps_names(uint64_t mask, char *buf, size_t len)
{
	size_t n = 0;
	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (unsigned i = 0; i < 64 && n + 1 < len; i++) {
		if (!(mask & (1ull << i)))
			continue;
		int k = i < sizeof(cap_names) / sizeof(cap_names[0])
				? snprintf(buf + n, len - n, "%s%s", n ? "," : "", cap_names[i])
				: snprintf(buf + n, len - n, "%scap_%u", n ? "," : "", i);
		if (k < 0 || (size_t)k >= len - n)
			break;
		n += (size_t)k;
	}
	if (n == 0)
		snprintf(buf, len, "none");
	return buf;
}
