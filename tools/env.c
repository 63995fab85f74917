/* twshim — environment building and env files (see env.h). */
#include "env.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool grow(struct tw_env *e)
{
	if (e->n + 1 < e->cap)
		return true;
	size_t cap = e->cap ? e->cap * 2 : 32;
	char **v = realloc(e->v, cap * sizeof(*v));
	if (!v)
		return false;
	e->v = v;
	e->cap = cap;
	return true;
}

bool tw_env_init(struct tw_env *e, char *const *src)
{
	*e = (struct tw_env){ 0 };
	if (!grow(e))
		return false;
	e->v[0] = NULL;
	for (size_t i = 0; src && src[i]; i++) {
		if (!grow(e) || !(e->v[e->n] = strdup(src[i])))
			return false;
		e->v[++e->n] = NULL;
	}
	return true;
}

void tw_env_free(struct tw_env *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
	*e = (struct tw_env){ 0 };
}

static bool name_is(const char *entry, const char *name, size_t nlen)
{
	return !strncmp(entry, name, nlen) && entry[nlen] == '=';
}

const char *tw_env_get(const struct tw_env *e, const char *name)
{
	size_t nlen = strlen(name);
	for (size_t i = e->n; i-- > 0;)
		if (name_is(e->v[i], name, nlen))
			return e->v[i] + nlen + 1;
	return NULL;
}

const char *tw_env_lookup(const char *name, void *ctx)
{
	return tw_env_get(ctx, name);
}

bool tw_env_set(struct tw_env *e, const char *name, const char *value)
{
	size_t nlen = strlen(name), j = 0;
	char *s = malloc(nlen + strlen(value) + 2);
	if (!s || !grow(e)) {
		free(s);
		return false;
	}
	sprintf(s, "%s=%s", name, value);
	for (size_t i = 0; i < e->n; i++) {
		if (name_is(e->v[i], name, nlen))
			free(e->v[i]);
		else
			e->v[j++] = e->v[i];
	}
	e->v[j++] = s;
	e->v[j] = NULL;
	e->n = j;
	return true;
}

/* Another copy of the library, whatever its directory: loading two would
 * interpose every call twice. */
static bool is_twshim(const char *entry, size_t len, const char *lib)
{
	if (strlen(lib) == len && !strncmp(entry, lib, len))
		return true;
	const char *base = entry;
	for (size_t i = 0; i < len; i++)
		if (entry[i] == '/')
			base = entry + i + 1;
	size_t blen = len - (size_t)(base - entry);
	return blen >= 12 && !strncmp(base, "libtwshim.so", 12);
}

char *tw_preload_prepend(const char *existing, const char *lib)
{
	size_t cap = strlen(lib) + (existing ? strlen(existing) : 0) + 2;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	size_t n = (size_t)sprintf(out, "%s", lib);
	const char *p = existing ? existing : "";
	while (*p) {
		size_t len = strcspn(p, ": \t");
		if (len && !is_twshim(p, len, lib)) {
			out[n++] = ':';
			memcpy(out + n, p, len);
			n += len;
		}
		p += len;
		if (*p)
			p++;
	}
	out[n] = '\0';
	return out;
}

static void issue(struct tw_envfile_issues *is, unsigned line, bool error, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void issue(struct tw_envfile_issues *is, unsigned line, bool error, const char *fmt, ...)
{
	if (error)
		is->errors++;
	if (is->n >= TW_ENVFILE_ISSUES_MAX)
		return;
	struct tw_envfile_issue *x = &is->v[is->n++];
	va_list ap;
	x->line = line;
	x->error = error;
	va_start(ap, fmt);
	vsnprintf(x->text, sizeof(x->text), fmt, ap);
	va_end(ap);
}

static bool valid_name(const char *s, size_t len)
{
	if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

bool tw_envfile_parse(const char *text, size_t len, struct tw_env *out, struct tw_envfile_issues *is)
{
	const char *p = text, *end = text + len;
	unsigned lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		lineno++;
		if (le > p && le[-1] == '\r') {
			issue(is, lineno, true, "line ends with CR (a DOS file): systemd strips it, docker keeps it in the value; convert the file (dos2unix)");
			le--;
		}
		while (p < le && (*p == ' ' || *p == '\t'))
			p++;
		size_t l = (size_t)(le - p);
		if (l == 0 || *p == '#')
			goto next;
		if (*p == ';') {
			issue(is, lineno, true, "';' starts a comment for systemd only: docker reads it as a variable name; use '#'");
			goto next;
		}
		const char *eq = memchr(p, '=', l);
		if (!eq) {
			issue(is, lineno, true, "no '=': write NAME=VALUE (docker would copy NAME from its own environment, systemd ignores the line)");
			goto next;
		}
		size_t klen = (size_t)(eq - p);
		if (!valid_name(p, klen)) {
			issue(is, lineno, true, "invalid variable name '%.*s'", (int)(klen > 64 ? 64 : klen), p);
			goto next;
		}
		const char *v = eq + 1;
		size_t vlen = (size_t)(le - v);
		if (vlen && (v[0] == ' ' || v[0] == '\t' || v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			issue(is, lineno, false, "%.*s: blanks around the value: systemd strips them, docker keeps them", (int)klen, p);
		if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0])
			issue(is, lineno, true, "%.*s: quoted value: systemd removes the quotes, docker keeps them; write it unquoted", (int)klen, p);
		if (memchr(v, '\\', vlen))
			issue(is, lineno, false, "%.*s: backslash: systemd treats it as an escape, docker keeps it", (int)klen, p);

		char *name = strndup(p, klen), *val = strndup(v, vlen);
		bool ok = name && val && tw_env_set(out, name, val);
		free(name);
		free(val);
		if (!ok)
			return false;
next:
		p = nl ? nl + 1 : end;
	}
	return true;
}
