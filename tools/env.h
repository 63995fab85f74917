/* twshim — building the environment of the command `twshim run` execs,
 * and reading env files (systemd EnvironmentFile=, docker --env-file).
 * Pure string handling: no getenv, no I/O. */
#ifndef TWSHIM_TOOLS_ENV_H
#define TWSHIM_TOOLS_ENV_H

#include <stdbool.h>
#include <stddef.h>

/* A growable "NAME=VALUE" array, NULL-terminated, owning its strings. */
struct tw_env {
	char **v;
	size_t n, cap;
};

/* Copy src (may be NULL).  Returns false on allocation failure. */
bool tw_env_init(struct tw_env *e, char *const *src);
void tw_env_free(struct tw_env *e);
/* Value of name, or NULL.  The last assignment wins, as for execve(). */
const char *tw_env_get(const struct tw_env *e, const char *name);
/* Replace every assignment of name with one NAME=value. */
bool tw_env_set(struct tw_env *e, const char *name, const char *value);
/* Lookup callback for tw_policy_parse(): ctx is a struct tw_env. */
const char *tw_env_lookup(const char *name, void *ctx);

/* LD_PRELOAD with lib first: existing entries (colon- or space-separated,
 * as ld.so reads them) keep their order, empty entries are dropped, and
 * lib itself or any other libtwshim.so is not repeated.  Returns a heap
 * string, or NULL on allocation failure. */
char *tw_preload_prepend(const char *existing, const char *lib);

/* One problem found in an env file. */
struct tw_envfile_issue {
	unsigned line;
	bool error; /* false: a warning (portable but surprising) */
	char text[256];
};

#define TW_ENVFILE_ISSUES_MAX 32

struct tw_envfile_issues {
	unsigned n;
	unsigned errors;
	struct tw_envfile_issue v[TW_ENVFILE_ISSUES_MAX];
};

/* Parse the KEY=VALUE format that both systemd's EnvironmentFile= and
 * docker --env-file read the same way: blank lines and lines starting with
 * '#' are skipped, the value is everything after the first '=' taken
 * literally.  Constructs the two readers treat differently (quotes,
 * backslashes, ';' comments, surrounding blanks, a bare KEY) are reported.
 * Assignments are appended to out. */
bool tw_envfile_parse(const char *text, size_t len, struct tw_env *out,
		      struct tw_envfile_issues *issues);

#endif
