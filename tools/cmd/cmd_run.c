/* twshim run — exec a command with the library preloaded and the policy
 * set, after validating everything and checking that the library can
 * reach the command. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "twshim/policy.h"
#include "twshim/vars.h"

#include "env.h"
#include "target.h"
#include "supervise.h"
#include "tools.h"

#ifndef TWSHIM_LIBDIR_PATH
#define TWSHIM_LIBDIR_PATH "/usr/local/lib/libtwshim.so"
#endif

extern char **environ;

static void usage(FILE *f)
{
	fputs("Usage: twshim run [OPTIONS] [--] COMMAND [ARGS...]\n"
	      "\n"
	      "Run COMMAND (same pid, signals and exit status) with libtwshim.so first in\n"
	      "LD_PRELOAD and the TWSHIM_* variables set from the options.  Options override\n"
	      "--env-file variables, which override inherited ones.  The library is the one\n"
	      "built beside this twshim (in a build tree), else " TWSHIM_LIBDIR_PATH ";\n"
	      "TWSHIM_LIBRARY overrides both.\n"
	      "\n", f);
	/* One line per variable that has an option, from the table. */
	for (size_t i = 0; i < TW_VAR_COUNT; i++) {
		const struct tw_var *v = &tw_vars[i];
		char opt[64];

		if (!v->option)
			continue;
		snprintf(opt, sizeof(opt), "--%s%s%s%s", v->option, v->option_alone ? "[=" : "=",
			 v->option_value, v->option_alone ? "]" : "");
		fprintf(f, "  %-24s %s: %s\n", opt, v->name, v->summary);
	}
	fputs("  --env-file=FILE          read variables from FILE (systemd/docker KEY=VALUE\n"
	      "                           lines, validated as by `twshim check FILE`)\n"
	      "  --dry-run                print the environment and command, run nothing\n"
	      "  --supervise              reach static and Go programs through a seccomp supervisor:\n"
	      "                           COMMAND then runs as a child of twshim (another pid;\n"
	      "                           signals forwarded, its exit status returned), without\n"
	      "                           LD_PRELOAD; killing twshim kills it (SIGKILL); a program\n"
	      "                           that would lose setuid or file-capability privileges to\n"
	      "                           no_new_privs is refused\n"
	      "  --force                  run a refused target anyway (without effect, or under\n"
	      "                           --supervise without its extra privileges)\n"
	      "  -h, --help               show this help\n"
	      "\n"
	      "Exit status: the command's; 2 if an option or variable is invalid or the\n"
	      "target is refused, 126 if it cannot be executed, 127 if it is not found.\n", f);
}

/* Which option set the variable a diagnostic names, if any. */
static const char *option_for(const char *diag, const bool *given)
{
	for (size_t i = 0; i < TW_VAR_COUNT; i++) {
		size_t n = strlen(tw_vars[i].name);
		const char *at = strstr(diag, tw_vars[i].name);
		if (given[i] && at && !(at[n] == '_' || (at[n] >= 'A' && at[n] <= 'Z')))
			return tw_vars[i].option;
	}
	return NULL;
}

/* TWSHIM_LIBRARY, else the library of the same build tree (meson puts
 * BUILD/tools/twshim beside BUILD/lib/libtwshim.so, and BUILD/build.ninja
 * marks the tree), else the install path.  An installed twshim has no
 * build.ninja two levels up, so it always uses the install path. */
static const char *library_path(char *buf, size_t len)
{
	const char *over = getenv("TWSHIM_LIBRARY");
	if (over && *over)
		return over;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		slash = strrchr(exe, '/');
		if (slash && !strcmp(slash, "/tools")) {
			*slash = '\0';
			char marker[PATH_MAX + 16];
			snprintf(marker, sizeof(marker), "%s/build.ninja", exe);
			if ((size_t)snprintf(buf, len, "%s/lib/libtwshim.so", exe) < len &&
			    access(marker, F_OK) == 0 && access(buf, R_OK) == 0)
				return buf;
		}
	}
	return TWSHIM_LIBDIR_PATH;
}

/* Variables from an env file, checked as `twshim check FILE` does. */
static bool read_env_file(const char *file, struct tw_env *env)
{
	char *text;
	size_t len;
	struct tw_envfile_issues issues = { 0 };

	if (!tw_read_small_file(file, &text, &len)) {
		tw_error("run", "--env-file %s: %s", file, strerror(errno));
		return false;
	}
	bool ok = tw_envfile_parse(text, len, env, &issues);
	free(text);
	if (!ok) {
		tw_error("run", "out of memory");
		return false;
	}
	for (unsigned i = 0; i < issues.n; i++)
		tw_error("run", "%s%s:%u: %s", issues.v[i].error ? "" : "warning: ", file,
			 issues.v[i].line, issues.v[i].text);
	if (issues.errors)
		tw_error("run", "--env-file %s: %u error(s) (see `twshim check %s`)", file,
			 issues.errors, file);
	return issues.errors == 0;
}

/* Shell-quoted when it has to be, so the line can be pasted. */
static void print_word(const char *w)
{
	if (*w && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
			    "_-+=/.,:@%") == strlen(w)) {
		fputs(w, stdout);
		return;
	}
	putchar('\'');
	for (; *w; w++) {
		if (*w == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*w);
	}
	putchar('\'');
}

static void dry_run(const struct tw_env *env, const char *path, char **cmd)
{
	printf("environment:\n");
	for (size_t i = 0; i < env->n; i++) {
		fputs("  ", stdout);
		print_word(env->v[i]);
		putchar('\n');
	}
	printf("exec: ");
	print_word(path);
	for (size_t i = 1; cmd[i]; i++) {
		putchar(' ');
		print_word(cmd[i]);
	}
	putchar('\n');
}

static int run_supervised(const struct tw_policy *p, struct tw_env *env, char **cmd)
{
	environ = env->v; /* the target inherits the prepared environment */
	/* Without the supervisor in the build: one line, TW_EXIT_INVALID
	 * (supervise_off.c). */
	return tw_supervise_exec(p, cmd);
}

int tw_cmd_run(int argc, char **argv)
{
	/* getopt codes O_VAR + i are the table's variable i. */
	enum { O_VAR = 256, O_FORCE = O_VAR + 64, O_SUPERVISE, O_ENV_FILE, O_DRY_RUN };
	static const struct option fixed[] = {
		{ "env-file", required_argument, NULL, O_ENV_FILE },
		{ "dry-run", no_argument, NULL, O_DRY_RUN },
		{ "force", no_argument, NULL, O_FORCE },
		{ "supervise", no_argument, NULL, O_SUPERVISE },
		{ "help", no_argument, NULL, 'h' },
	};
	_Static_assert(TW_VAR_COUNT <= O_FORCE - O_VAR, "getopt codes for the variables overlap");
	struct option longopts[TW_VAR_COUNT + sizeof(fixed) / sizeof(fixed[0]) + 1];
	size_t n_longopts = 0;
	for (size_t i = 0; i < TW_VAR_COUNT; i++)
		if (tw_vars[i].option)
			longopts[n_longopts++] = (struct option){
				tw_vars[i].option,
				tw_vars[i].option_alone ? optional_argument : required_argument, NULL,
				O_VAR + (int)i };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		longopts[n_longopts++] = fixed[i];
	longopts[n_longopts] = (struct option){ NULL, 0, NULL, 0 };
	const char *values[TW_VAR_COUNT] = { 0 };
	bool given[TW_VAR_COUNT] = { 0 };
	bool force = false, supervise = false, dry = false;
	const char *env_files[16];
	size_t n_env_files = 0;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (c >= O_VAR && c < O_VAR + (int)TW_VAR_COUNT) {
			size_t i = (size_t)(c - O_VAR);
			/* --reuseaddr alone means 1 */
			values[i] = optarg ? optarg : tw_vars[i].option_alone;
			given[i] = true;
			continue;
		}
		switch (c) {
		case O_FORCE: force = true; break;
		case O_SUPERVISE: supervise = true; break;
		case O_DRY_RUN: dry = true; break;
		case O_ENV_FILE:
			if (n_env_files == sizeof(env_files) / sizeof(env_files[0])) {
				tw_error("run", "at most 16 --env-file options");
				return TW_EXIT_INVALID;
			}
			env_files[n_env_files++] = optarg;
			break;
		case 'h': usage(stdout); return TW_EXIT_OK;
		default:
			tw_error("run", "unknown option or missing value: '%s' (try `twshim run --help`)",
				 argv[optind - 1]);
			return TW_EXIT_INVALID;
		}
	}
	if (optind >= argc) {
		tw_error("run", "no command given (usage: twshim run [OPTIONS] -- COMMAND [ARGS...])");
		return TW_EXIT_INVALID;
	}
	char **cmd = argv + optind;

	/* 1. the final environment: inherited, then the options on top */
	struct tw_env env;
	if (!tw_env_init(&env, environ))
		goto oom;
	for (size_t i = 0; i < n_env_files; i++) {
		if (!read_env_file(env_files[i], &env)) {
			tw_env_free(&env);
			return TW_EXIT_INVALID;
		}
	}
	for (size_t i = 0; i < TW_VAR_COUNT; i++)
		if (given[i] && !tw_env_set(&env, tw_vars[i].name, values[i]))
			goto oom;

	/* 2. validate it exactly as the library will read it */
	struct tw_policy policy;
	struct tw_diags diags = { 0 };
	unsigned bad = tw_policy_parse(&policy, tw_env_lookup, &env, &diags);
	unsigned errors = 0;
	for (unsigned i = 0; i < diags.n; i++) {
		const char *opt = option_for(diags.v[i].text, given);
		if (diags.v[i].level == TW_LOG_ERROR) {
			errors++;
			tw_error("run", "%s%s%s%s", diags.v[i].text, opt ? " (from --" : "", opt ? opt : "",
				 opt ? ")" : "");
		} else if (policy.log_level >= TW_LOG_WARN) {
			tw_error("run", "warning: %s", diags.v[i].text);
		}
	}
	if (errors || bad) {
		if (!errors)
			tw_error("run", "invalid TWSHIM_* variables");
		goto invalid;
	}
	/* A misspelt name leaves its feature off: say so, whatever the log level. */
	diags.n = 0;
	tw_policy_unknown_names(env.v, &diags);
	for (unsigned i = 0; i < diags.n; i++)
		tw_error("run", "warning: %s", diags.v[i].text);

	/* 3. the command, found as execvp would */
	char path[PATH_MAX];
	int err = tw_resolve_command(cmd[0], tw_env_get(&env, "PATH"), path, sizeof(path));
	if (err) {
		tw_error("run", "%s: %s", cmd[0], err == ENOENT ? "command not found" : strerror(err));
		tw_policy_free(&policy);
		tw_env_free(&env);
		return err == ENOENT ? TW_EXIT_NOT_FOUND : TW_EXIT_CANNOT_EXEC;
	}
	/* Supervising a program the program lists leave out would change
	 * nothing but its pid and privileges: it runs as it is.  (Without
	 * --supervise the library makes the same decision inside it.) */
	const char *base = strrchr(path, '/');
	if (supervise && !tw_policy_selects_program(&policy, base ? base + 1 : path)) {
		if (dry) {
			printf("not supervised: %s is not in TWSHIM_ONLY_PROGRAMS/TWSHIM_SKIP_PROGRAMS scope\n",
			       base ? base + 1 : path);
			dry_run(&env, path, cmd);
			tw_policy_free(&policy);
			tw_env_free(&env);
			return TW_EXIT_OK;
		}
		tw_policy_free(&policy);
		execve(path, cmd, env.v);
		err = errno;
		tw_error("run", "cannot execute %s: %s", path, strerror(err));
		tw_env_free(&env);
		return err == ENOENT ? TW_EXIT_NOT_FOUND : TW_EXIT_CANNOT_EXEC;
	}

	/* 4. can the library reach it? */
	struct tw_target *t = malloc(sizeof(*t));
	if (!t)
		goto oom;
	err = tw_target_inspect(path, tw_env_get(&env, "LD_LIBRARY_PATH"), t);
	if (err) {
		tw_error("run", "%s: %s", path, strerror(err));
		free(t);
		tw_policy_free(&policy);
		tw_env_free(&env);
		return TW_EXIT_CANNOT_EXEC;
	}
	/* The supervisor reaches any ELF program, but starts it with
	 * no_new_privs: one that would run with other ids or capabilities
	 * without twshim must not be degraded silently. */
	if (!force && supervise && t->reach != TW_REACH_UNKNOWN && t->nnp_changes) {
		tw_error("run", "refused: %s", tw_nnp_reason(t));
		tw_error("run", "instead: %s", tw_nnp_remedy());
		free(t);
		goto invalid;
	}
	if (!force && (supervise ? t->reach == TW_REACH_UNKNOWN : t->reach != TW_REACH_YES)) {
		tw_error("run", "refused: %s", tw_reach_reason(t));
		tw_error("run", "instead: %s", tw_reach_remedy(t));
		free(t);
		goto invalid;
	}
	free(t);

	if (supervise && dry) {
		printf("supervised (seccomp): no LD_PRELOAD\n");
		dry_run(&env, path, cmd);
		tw_policy_free(&policy);
		tw_env_free(&env);
		return TW_EXIT_OK;
	}
	if (supervise) {
		int rc = run_supervised(&policy, &env, cmd);
		tw_policy_free(&policy);
		return rc;
	}

	/* 5. the library first in LD_PRELOAD, once */
	char libbuf[PATH_MAX];
	const char *lib = library_path(libbuf, sizeof(libbuf));
	if (lib[0] != '/') {
		tw_error("run", "library path '%s' (TWSHIM_LIBRARY) must be absolute", lib);
		goto invalid;
	}
	if (access(lib, R_OK) != 0) {
		tw_error("run", "library %s: %s (set TWSHIM_LIBRARY to its absolute path)", lib,
			 strerror(errno));
		goto invalid;
	}
	char *preload = tw_preload_prepend(tw_env_get(&env, "LD_PRELOAD"), lib);
	if (!preload || !tw_env_set(&env, "LD_PRELOAD", preload))
		goto oom;
	free(preload);
	tw_policy_free(&policy);

	if (dry) {
		dry_run(&env, path, cmd);
		tw_env_free(&env);
		return TW_EXIT_OK;
	}
	execve(path, cmd, env.v);
	err = errno;
	tw_error("run", "cannot execute %s: %s", path, strerror(err));
	tw_env_free(&env);
	return err == ENOENT ? TW_EXIT_NOT_FOUND : TW_EXIT_CANNOT_EXEC;

invalid:
	tw_policy_free(&policy);
	tw_env_free(&env);
	return TW_EXIT_INVALID;
oom:
	tw_error("run", "out of memory");
	return TW_EXIT_FAIL;
}
