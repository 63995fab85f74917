/* twshim — reachability of a program by LD_PRELOAD (see target.h). */
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define SCRIPT_DEPTH_MAX 4 /* the kernel allows a few nested interpreters too */
#define LIBS_MAX 64        /* shared objects visited looking for connect() */

int tw_resolve_command(const char *cmd, const char *path_env, char *out, size_t outlen)
{
	if (!*cmd)
		return ENOENT;
	if (strchr(cmd, '/')) {
		if (strlen(cmd) >= outlen)
			return ENAMETOOLONG;
		strcpy(out, cmd);
		return access(cmd, F_OK) == 0 ? 0 : errno;
	}
	/* glibc's execvp default when PATH is unset */
	const char *p = path_env ? path_env : "/bin:/usr/bin";
	int err = ENOENT;
	while (1) {
		const char *end = strchrnul(p, ':');
		size_t dlen = (size_t)(end - p);
		if (dlen + 1 + strlen(cmd) < outlen) {
			/* an empty PATH element means the current directory */
			int n = snprintf(out, outlen, "%.*s%s%s", (int)dlen, p, dlen ? "/" : "", cmd);
			struct stat st;
			if (n > 0 && stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
				if (access(out, X_OK) == 0)
					return 0;
				err = EACCES;
			}
		}
		if (!*end)
			break;
		p = end + 1;
	}
	return err;
}

/* "#!interp [arg]" → interp (and, for env, the program it runs). */
static bool read_shebang(const char *path, char *interp, size_t ilen, char *arg, size_t alen)
{
	char buf[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (n < 3 || buf[0] != '#' || buf[1] != '!')
		return false;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	char *s = buf + 2;
	s += strspn(s, " \t");
	size_t l = strcspn(s, " \t");
	if (l == 0 || l >= ilen)
		return false;
	memcpy(interp, s, l);
	interp[l] = '\0';
	s += l;
	s += strspn(s, " \t");
	l = strcspn(s, " \t");
	if (l >= alen)
		l = 0;
	memcpy(arg, s, l);
	arg[l] = '\0';
	return true;
}

/* Who runs it decides: the kernel sets AT_SECURE (and the loader ignores
 * LD_PRELOAD) only when the exec changes the ids or raises capabilities
 * for this user; an empty capability set raises nothing. */
static void check_privileges(const char *path, struct tw_target *t)
{
	if (tw_exec_file_read(path, &t->file) != 0)
		return;
	t->setuid = t->file.setuid;
	t->setgid = t->file.setgid;
	t->caps = t->file.caps.present && (t->file.caps.permitted || t->file.caps.inheritable ||
					    t->file.caps.effective);
	t->creds_known = tw_exec_creds_self(&t->creds);
	if (t->creds_known) {
		tw_exec_predict(&t->creds, &t->file, false, &t->exec);
		t->nnp_changes = tw_exec_nnp_changes(&t->creds, &t->file);
	} else {
		/* cannot tell: assume the worst */
		t->exec.secure = t->setuid || t->setgid || t->caps;
		t->nnp_changes = t->exec.secure;
	}
}

/* ld.so.conf directories (with its include lines), for the library search. */
static void add_dir(char dirs[][PATH_MAX], unsigned *n, unsigned max, const char *d, size_t len)
{
	if (*n >= max || len == 0 || len >= PATH_MAX)
		return;
	for (unsigned i = 0; i < *n; i++)
		if (strlen(dirs[i]) == len && !strncmp(dirs[i], d, len))
			return;
	memcpy(dirs[*n], d, len);
	dirs[*n][len] = '\0';
	(*n)++;
}

static void add_path_list(char dirs[][PATH_MAX], unsigned *n, unsigned max, const char *list, const char *origin)
{
	while (list && *list) {
		size_t len = strcspn(list, ":");
		char tmp[PATH_MAX];
		if (len < sizeof(tmp)) {
			memcpy(tmp, list, len);
			tmp[len] = '\0';
			char *o = strstr(tmp, "$ORIGIN");
			if (!o)
				o = strstr(tmp, "${ORIGIN}");
			if (o && origin) {
				char sub[PATH_MAX];
				size_t skip = o[1] == '{' ? 9 : 7;
				int k = snprintf(sub, sizeof(sub), "%.*s%s%s", (int)(o - tmp), tmp, origin, o + skip);
				if (k > 0 && (size_t)k < sizeof(sub))
					add_dir(dirs, n, max, sub, strlen(sub));
			} else if (!o) {
				add_dir(dirs, n, max, tmp, len);
			}
		}
		list += len;
		if (*list == ':')
			list++;
	}
}

static void add_ldso_conf(char dirs[][PATH_MAX], unsigned *n, unsigned max, const char *file, int depth)
{
	FILE *f = fopen(file, "re");
	char line[PATH_MAX];
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "#\n")] = '\0';
		char *s = line + strspn(line, " \t");
		size_t len = strcspn(s, " \t");
		if (!strncmp(s, "include", 7) && (s[7] == ' ' || s[7] == '\t') && depth < 2) {
			char *pat = s + 7 + strspn(s + 7, " \t");
			pat[strcspn(pat, " \t")] = '\0';
			glob_t g;
			if (glob(pat, 0, NULL, &g) == 0) {
				for (size_t i = 0; i < g.gl_pathc; i++)
					add_ldso_conf(dirs, n, max, g.gl_pathv[i], depth + 1);
				globfree(&g);
			}
		} else if (*s == '/') {
			add_dir(dirs, n, max, s, len);
		}
	}
	fclose(f);
}

static bool is_libc(const char *soname)
{
	return !strncmp(soname, "libc.so", 7) || !strncmp(soname, "ld-linux", 8) ||
	       !strncmp(soname, "libpthread.so", 13) || !strncmp(soname, "libdl.so", 8);
}

/* Which object imports connect()/close()?  Breadth-first over DT_NEEDED:
 * curl imports neither itself, libcurl does. */
static void find_importers(struct tw_target *t, const char *ld_library_path)
{
	enum { DIRS_MAX = 48 };
	char (*queue)[PATH_MAX] = calloc(LIBS_MAX, PATH_MAX);
	char (*dirs)[PATH_MAX] = calloc(DIRS_MAX, PATH_MAX);
	unsigned nq = 0, head = 0, nd = 0;
	if (!queue || !dirs)
		goto out;

	snprintf(queue[nq++], PATH_MAX, "%s", t->exe);
	while (head < nq && (!t->connect_via[0] || !t->close_via[0])) {
		const char *obj = queue[head++];
		struct tw_elf_info info;
		int fd = open(obj, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		enum tw_elf_status st = tw_elf_inspect_fd(fd, &info);
		close(fd);
		if (st != TW_ELF_OK)
			continue;
		t->libs_scanned++;
		if (info.imports_connect && !t->connect_via[0])
			snprintf(t->connect_via, PATH_MAX, "%s", obj);
		if (info.imports_close && !t->close_via[0])
			snprintf(t->close_via, PATH_MAX, "%s", obj);

		/* search order as ld.so: RUNPATH, LD_LIBRARY_PATH, ld.so.conf, defaults */
		char origin[PATH_MAX];
		snprintf(origin, sizeof(origin), "%s", obj);
		nd = 0;
		add_path_list(dirs, &nd, DIRS_MAX, info.runpath, dirname(origin));
		add_path_list(dirs, &nd, DIRS_MAX, ld_library_path, NULL);
		add_ldso_conf(dirs, &nd, DIRS_MAX, "/etc/ld.so.conf", 0);
		add_path_list(dirs, &nd, DIRS_MAX, "/lib64:/usr/lib64:/lib:/usr/lib", NULL);

		for (unsigned i = 0; i < info.n_needed && nq < LIBS_MAX; i++) {
			const char *so = info.needed[i];
			if (is_libc(so))
				continue;
			bool seen = false;
			for (unsigned q = 0; q < nq && !seen; q++) {
				const char *b = strrchr(queue[q], '/');
				seen = !strcmp(b ? b + 1 : queue[q], so);
			}
			if (seen)
				continue;
			bool found = false;
			for (unsigned d = 0; d < nd && !found; d++) {
				char cand[PATH_MAX];
				int k = snprintf(cand, sizeof(cand), "%s/%s", dirs[d], so);
				if (k > 0 && (size_t)k < sizeof(cand) && access(cand, R_OK) == 0) {
					snprintf(queue[nq++], PATH_MAX, "%s", cand);
					found = true;
				}
			}
			if (!found)
				t->libs_missing++;
		}
	}
out:
	free(queue);
	free(dirs);
}

int tw_target_inspect(const char *path, const char *ld_library_path, struct tw_target *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "%s", path);
	snprintf(t->exe, sizeof(t->exe), "%s", path);

	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	close(fd);

	/* A script runs its interpreter: that is the program the loader sees. */
	for (int depth = 0; depth < SCRIPT_DEPTH_MAX; depth++) {
		char interp[PATH_MAX], arg[PATH_MAX];
		if (!read_shebang(t->exe, interp, sizeof(interp), arg, sizeof(arg)))
			break;
		t->script = true;
		const char *base = strrchr(interp, '/');
		char found[PATH_MAX];
		if (base && !strcmp(base + 1, "env") && arg[0] && arg[0] != '-' &&
		    tw_resolve_command(arg, getenv("PATH"), found, sizeof(found)) == 0)
			snprintf(t->exe, sizeof(t->exe), "%s", found);
		else
			snprintf(t->exe, sizeof(t->exe), "%s", interp);
	}

	fd = open(t->exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		t->elf_status = TW_ELF_IO;
		t->reach = TW_REACH_UNKNOWN;
		return 0;
	}
	t->elf_status = tw_elf_inspect_fd(fd, &t->elf);
	close(fd);
	check_privileges(t->exe, t);

	if (t->elf_status != TW_ELF_OK)
		t->reach = TW_REACH_UNKNOWN;
	else if (t->elf.go_marker)
		t->reach = TW_REACH_GO;
	else if (!t->elf.has_interp)
		t->reach = TW_REACH_STATIC;
	else if (t->exec.secure)
		t->reach = TW_REACH_PRIVILEGED;
	else
		t->reach = TW_REACH_YES;
	if (t->elf_status == TW_ELF_OK && t->elf.has_interp)
		find_importers(t, ld_library_path);
	return 0;
}

const char *tw_reach_reason(const struct tw_target *t)
{
	static char buf[PATH_MAX + 256];
	switch (t->reach) {
	case TW_REACH_YES:
		return "it is dynamically linked and loads libc through the dynamic loader";
	case TW_REACH_PRIVILEGED:
		if (!t->setuid && !t->setgid && !t->caps)
			snprintf(buf, sizeof(buf), "twshim runs with effective ids other than its real ones "
				 "(uid %u/%u): every program it starts runs in secure-execution mode, where "
				 "the dynamic loader ignores LD_PRELOAD", (unsigned)t->creds.ruid,
				 (unsigned)t->creds.euid);
		else
			snprintf(buf, sizeof(buf), "%s is %s: started by uid %u, the dynamic loader runs it "
				 "in secure-execution mode and ignores LD_PRELOAD", t->exe,
				 t->setuid ? "setuid" : t->setgid ? "setgid" : "marked with file capabilities",
				 (unsigned)t->creds.ruid);
		return buf;
	case TW_REACH_STATIC:
		snprintf(buf, sizeof(buf), "%s is statically linked (no program interpreter): "
			 "nothing loads the library into it", t->exe);
		return buf;
	case TW_REACH_GO:
		snprintf(buf, sizeof(buf), "%s is a Go program (%s): Go makes its socket system calls "
			 "directly, not through libc, so LD_PRELOAD has no effect on it", t->exe,
			 t->elf.go_marker);
		return buf;
	case TW_REACH_UNKNOWN:
		snprintf(buf, sizeof(buf), "%s is not an executable twshim can read (%s)", t->exe,
			 tw_elf_status_str(t->elf_status));
		return buf;
	}
	return "unknown";
}

const char *tw_nnp_reason(const struct tw_target *t)
{
	static char buf[PATH_MAX + 512];
	char names[512];
	if (t->setuid || t->setgid)
		snprintf(buf, sizeof(buf), "%s is %s: under --supervise it starts with no_new_privs, so "
			 "the kernel ignores the bit and it would run as uid %u/gid %u instead of its "
			 "owner's", t->exe, t->setuid ? "setuid" : "setgid", (unsigned)t->creds.euid,
			 (unsigned)t->creds.egid);
	else
		snprintf(buf, sizeof(buf), "%s has file capabilities (%s): under --supervise it starts "
			 "with no_new_privs, so the kernel does not grant them and it would run without "
			 "them", t->exe,
			 tw_caps_names(t->file.caps.permitted | t->file.caps.inheritable, names,
				       sizeof(names)));
	return buf;
}

const char *tw_nnp_remedy(void)
{
	return "run it as a user that already holds those privileges (root), or give them another way "
	       "that survives no_new_privs (ambient capabilities: systemd AmbientCapabilities= on a "
	       "copy without file capabilities); --force runs it anyway, without them";
}

const char *tw_reach_remedy(const struct tw_target *t)
{
	switch (t->reach) {
	case TW_REACH_YES:
		return "twshim run or LD_PRELOAD apply";
	case TW_REACH_PRIVILEGED:
		if ((t->setuid && t->file.uid != 0) || (t->setgid && t->file.gid != 0) ||
		    (!t->setuid && !t->setgid && !t->caps))
			return "run it as its owner, or run a copy without the setuid/setgid bit; --force "
			       "runs it anyway, without effect";
		return "run it as root (root gets no secure-execution mode from a root-owned setuid bit "
		       "or from file capabilities), or run a copy without the setuid/setgid bit or "
		       "capabilities and grant what it needs another way (e.g. systemd "
		       "AmbientCapabilities=); --force runs it anyway, without effect";
	case TW_REACH_STATIC:
		return "use `twshim run --supervise` (a seccomp supervisor applies the policy from outside) "
		       "or rebuild it dynamically linked; --force runs it anyway, without effect";
	case TW_REACH_GO:
		return "use `twshim run --supervise` (a seccomp supervisor applies the policy from outside), "
		       "or fix it in the source: net.Dialer{LocalAddr: ...} for source ports, "
		       "(*net.TCPConn).SetLinger(0) for close; --force runs it anyway, without effect";
	case TW_REACH_UNKNOWN:
		return "check the path; --force runs it anyway";
	}
	return "";
}

static const char *elf_type_str(uint16_t type)
{
	switch (type) {
	case 2: return "executable";
	case 3: return "position-independent executable or shared object";
	case 1: return "relocatable object";
	case 4: return "core file";
	}
	return "unknown type";
}

void tw_target_report(FILE *f, const struct tw_target *t)
{
	fprintf(f, "%s\n", t->path);
	if (t->script)
		fprintf(f, "  script:       yes, interpreter %s\n", t->exe);
	if (t->elf_status != TW_ELF_OK) {
		fprintf(f, "  format:       %s\n", tw_elf_status_str(t->elf_status));
	} else {
		fprintf(f, "  format:       ELF %u-bit %s, %s\n", t->elf.bits,
			tw_elf_machine_str(t->elf.machine), elf_type_str(t->elf.type));
		if (t->elf.has_interp)
			fprintf(f, "  linking:      dynamic (interpreter %s)\n", t->elf.interp);
		else
			fprintf(f, "  linking:      static (no program interpreter%s)\n",
				t->elf.has_dynamic ? ", static-pie" : "");
		fprintf(f, "  Go:           %s\n", t->elf.go_marker ? t->elf.go_marker : "no");
		if (!t->elf.has_interp) {
			fprintf(f, "  imports:      none (nothing is imported by a static program)\n");
		} else {
			fprintf(f, "  connect():    %s%s\n", t->connect_via[0] ? "imported by " : "not imported",
				t->connect_via[0] ? t->connect_via : " by the program or its libraries");
			fprintf(f, "  close():      %s%s\n", t->close_via[0] ? "imported by " : "not imported",
				t->close_via[0] ? t->close_via : " by the program or its libraries");
			fprintf(f, "  libraries:    %u scanned%s\n", t->libs_scanned,
				t->libs_missing ? ", some not found" : "");
		}
	}
	char names[512];
	char owner[64] = "";
	if (t->setuid || t->setgid)
		snprintf(owner, sizeof(owner), "(owner uid %u, gid %u) ", (unsigned)t->file.uid,
			 (unsigned)t->file.gid);
	fprintf(f, "  privileges:   %s%s%s%s%s%s\n", t->setuid ? "setuid " : "", t->setgid ? "setgid " : "", owner,
		t->caps ? "file-capabilities " : "",
		t->caps ? tw_caps_names(t->file.caps.permitted | t->file.caps.inheritable, names,
					sizeof(names))
			: "",
		(t->setuid || t->setgid || t->caps) ? (t->caps && t->file.caps.effective ? " (effective)" : "")
						    : "none (no setuid/setgid bit, no file capabilities)");
	if (t->file.caps.present && !t->caps)
		fprintf(f, "  capabilities: an empty set (getcap shows \"=\"): grants nothing, changes nothing\n");
	if (t->creds_known && (t->setuid || t->setgid || t->caps))
		fprintf(f, "  started now:  by uid %u: %s\n", (unsigned)t->creds.ruid,
			t->exec.secure ? "secure-execution mode (AT_SECURE=1), LD_PRELOAD is ignored"
				       : "no secure-execution mode (AT_SECURE=0), LD_PRELOAD applies");
	if (t->nnp_changes)
		fprintf(f, "  supervised:   no: %s\n", tw_nnp_reason(t));
	if (t->reach == TW_REACH_YES) {
		fprintf(f, "  verdict:      reachable: %s\n", tw_reach_reason(t));
		if (t->elf_status == TW_ELF_OK && !t->connect_via[0])
			fprintf(f, "  note:         no connect() import found, so the library has nothing to "
				"change unless a library loaded at run time (dlopen) connects\n");
	} else {
		fprintf(f, "  verdict:      NOT reachable: %s\n", tw_reach_reason(t));
		fprintf(f, "  instead:      %s\n", tw_reach_remedy(t));
	}
}
