/* Unit tests of the twshim command's pure pieces: the ELF reader (real,
 * crafted and corrupted files), LD_PRELOAD prepending, env files, port
 * sets, CIDR filters and TIME_WAIT grouping. */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "elfinfo.h"
#include "env.h"
#include "privs.h"
#include "sockdiag.h"
#include "sysctl.h"

/* Keep a reference to connect() so this executable imports it. */
int (*volatile unit_connect_ref)(int, const struct sockaddr *, socklen_t) = connect;

static unsigned char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	unsigned char *buf = malloc((size_t)st.st_size);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

START_TEST(elf_self_is_dynamic_and_imports_connect)
{
	struct tw_elf_info in;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	ck_assert_int_eq(tw_elf_inspect_fd(fd, &in), TW_ELF_OK);
	close(fd);
	ck_assert(in.has_interp);
	ck_assert(in.has_dynsym);
	ck_assert(in.imports_connect);
	ck_assert(in.imports_close);
	ck_assert_ptr_null(in.go_marker);
	ck_assert_uint_eq(in.bits, sizeof(void *) * 8);
	ck_assert_uint_gt(in.n_needed, 0);
}
END_TEST

START_TEST(elf_static_has_no_interp)
{
	const char *p = getenv("TWTOOL_STATIC");
	ck_assert_msg(p != NULL, "TWTOOL_STATIC not set (run through meson test)");
	struct tw_elf_info in;
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ck_assert_int_eq(tw_elf_inspect_fd(fd, &in), TW_ELF_OK);
	close(fd);
	ck_assert(!in.has_interp);
	ck_assert(!in.imports_connect);
	ck_assert_ptr_null(in.go_marker);
}
END_TEST

START_TEST(elf_not_elf)
{
	struct tw_elf_info in;
	ck_assert_int_eq(tw_elf_inspect_mem("#!/bin/sh\n", 10, &in), TW_ELF_NOT_ELF);
	ck_assert_int_eq(tw_elf_inspect_mem("", 0, &in), TW_ELF_NOT_ELF);
	unsigned char big[EI_NIDENT] = { 0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2MSB };
	ck_assert_int_eq(tw_elf_inspect_mem(big, sizeof(big), &in), TW_ELF_UNSUPPORTED);
}
END_TEST

/* A minimal ELF64 with a PT_NOTE holding Go's build-id note and/or a
 * section named .go.buildinfo, as Go's linker writes them. */
static size_t craft_go(unsigned char *b, size_t cap, bool note, bool section)
{
	memset(b, 0, cap);
	Elf64_Ehdr *e = (Elf64_Ehdr *)b;
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS64;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_ident[EI_VERSION] = EV_CURRENT;
	e->e_type = ET_EXEC;
	e->e_machine = EM_X86_64;
	e->e_ehsize = sizeof(*e);
	size_t off = sizeof(*e);
	if (note) {
		Elf64_Phdr *p = (Elf64_Phdr *)(b + off);
		e->e_phoff = off;
		e->e_phnum = 1;
		e->e_phentsize = sizeof(*p);
		off += sizeof(*p);
		uint32_t nh[3] = { 3, 4, 4 };
		p->p_type = PT_NOTE;
		p->p_offset = off;
		p->p_filesz = 12 + 4 + 4;
		memcpy(b + off, nh, 12);
		memcpy(b + off + 12, "Go\0\0abcd", 8);
		off += 20;
	}
	if (section) {
		static const char names[] = "\0.go.buildinfo\0.shstrtab";
		size_t strs = off;
		memcpy(b + off, names, sizeof(names));
		off += sizeof(names);
		off = (off + 7) & ~(size_t)7;
		Elf64_Shdr *s = (Elf64_Shdr *)(b + off);
		e->e_shoff = off;
		e->e_shnum = 3;
		e->e_shentsize = sizeof(*s);
		e->e_shstrndx = 2;
		s[1].sh_name = 1;
		s[1].sh_type = SHT_PROGBITS;
		s[1].sh_offset = strs;
		s[1].sh_size = 0;
		s[2].sh_name = 15;
		s[2].sh_type = SHT_STRTAB;
		s[2].sh_offset = strs;
		s[2].sh_size = sizeof(names);
		off += 3 * sizeof(*s);
	}
	ck_assert_uint_le(off, cap);
	return off;
}

START_TEST(elf_go_markers)
{
	unsigned char b[1024];
	struct tw_elf_info in;
	size_t n = craft_go(b, sizeof(b), true, false);
	ck_assert_int_eq(tw_elf_inspect_mem(b, n, &in), TW_ELF_OK);
	ck_assert_str_eq(in.go_marker, "Go build-id note");
	ck_assert(!in.has_interp);

	n = craft_go(b, sizeof(b), false, true);
	ck_assert_int_eq(tw_elf_inspect_mem(b, n, &in), TW_ELF_OK);
	ck_assert_str_eq(in.go_marker, ".go.buildinfo section");

	n = craft_go(b, sizeof(b), false, false);
	ck_assert_int_eq(tw_elf_inspect_mem(b, n, &in), TW_ELF_OK);
	ck_assert_ptr_null(in.go_marker);
}
END_TEST

/* Every prefix of a real binary must be rejected or read, never crash. */
START_TEST(elf_truncated_never_crashes)
{
	size_t len;
	unsigned char *buf = slurp("/proc/self/exe", &len);
	struct tw_elf_info in;
	for (size_t n = 0; n < len; n += (n < 4096 ? 1 : 997)) {
		enum tw_elf_status st = tw_elf_inspect_mem(buf, n, &in);
		ck_assert(st == TW_ELF_OK || st == TW_ELF_NOT_ELF || st == TW_ELF_MALFORMED);
	}
	free(buf);
}
END_TEST

/* Random corruption of headers and tables (fixed seed: reproducible). */
START_TEST(elf_corrupted_never_crashes)
{
	size_t len;
	unsigned char *orig = slurp("/proc/self/exe", &len);
	unsigned char *buf = malloc(len);
	struct tw_elf_info in;
	unsigned seed = 12345;
	for (int round = 0; round < 3000; round++) {
		memcpy(buf, orig, len);
		for (int k = 0; k < 8; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = round % 2 ? (seed >> 8) % 256 : (seed >> 4) % len;
			seed = seed * 1103515245u + 12345u;
			buf[at] = (unsigned char)(seed >> 16);
		}
		(void)tw_elf_inspect_mem(buf, len, &in);
		ck_assert_uint_le(in.n_needed, TW_ELF_NEEDED_MAX);
		ck_assert_uint_lt(strlen(in.interp), sizeof(in.interp));
	}
	free(buf);
	free(orig);
}
END_TEST

static void preload_case(const char *existing, const char *want)
{
	char *got = tw_preload_prepend(existing, "/opt/tw/libtwshim.so");
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(preload_prepend)
{
	preload_case(NULL, "/opt/tw/libtwshim.so");
	preload_case("", "/opt/tw/libtwshim.so");
	preload_case("/a.so", "/opt/tw/libtwshim.so:/a.so");
	preload_case("/a.so:/b.so", "/opt/tw/libtwshim.so:/a.so:/b.so");
	preload_case("/a.so /b.so", "/opt/tw/libtwshim.so:/a.so:/b.so");
	preload_case("::/a.so::", "/opt/tw/libtwshim.so:/a.so");
	preload_case("/opt/tw/libtwshim.so", "/opt/tw/libtwshim.so");
	preload_case("/a.so:/opt/tw/libtwshim.so", "/opt/tw/libtwshim.so:/a.so");
	preload_case("/other/libtwshim.so:/a.so", "/opt/tw/libtwshim.so:/a.so");
	preload_case("/a/libtwshimx.so", "/opt/tw/libtwshim.so:/a/libtwshimx.so");
}
END_TEST

START_TEST(env_set_and_get)
{
	static char a[] = "A=1", l[] = "TWSHIM_LINGER=safe", b[] = "B=2";
	char *src[] = { a, l, b, NULL };
	struct tw_env e;
	ck_assert(tw_env_init(&e, src));
	ck_assert_str_eq(tw_env_get(&e, "TWSHIM_LINGER"), "safe");
	ck_assert(tw_env_set(&e, "TWSHIM_LINGER", "0"));
	ck_assert_str_eq(tw_env_get(&e, "TWSHIM_LINGER"), "0");
	ck_assert_ptr_null(tw_env_get(&e, "TWSHIM_LINGE"));
	ck_assert_uint_eq(e.n, 3);
	ck_assert_ptr_null(e.v[e.n]);
	tw_env_free(&e);
}
END_TEST

START_TEST(envfile_portable_subset)
{
	static const char text[] =
		"# comment\n"
		"\n"
		"  TWSHIM_LINGER=safe\n"
		"TWSHIM_MATCH=10.0.0.0/8:80,*:443\n"
		"TWSHIM_LINGER=0\r\n";
	struct tw_env e;
	struct tw_envfile_issues is = { 0 };
	ck_assert(tw_env_init(&e, NULL));
	ck_assert(tw_envfile_parse(text, sizeof(text) - 1, &e, &is));
	ck_assert_uint_eq(is.errors, 1); /* the CR: docker keeps it in the value */
	ck_assert_uint_eq(is.n, 1);
	ck_assert(is.v[0].error);
	ck_assert_str_eq(tw_env_get(&e, "TWSHIM_LINGER"), "0");
	ck_assert_str_eq(tw_env_get(&e, "TWSHIM_MATCH"), "10.0.0.0/8:80,*:443");
	tw_env_free(&e);
}
END_TEST

START_TEST(envfile_errors_and_warnings)
{
	static const char text[] =
		";systemd comment\n"
		"JUSTNAME\n"
		"1BAD=x\n"
		"TWSHIM_LOG=\"warn\"\n"
		"TWSHIM_PORTS=above \n";
	struct tw_env e;
	struct tw_envfile_issues is = { 0 };
	ck_assert(tw_env_init(&e, NULL));
	ck_assert(tw_envfile_parse(text, sizeof(text) - 1, &e, &is));
	ck_assert_uint_eq(is.errors, 4); /* the quotes docker keeps are an error too */
	ck_assert_uint_eq(is.n, 5);
	ck_assert_uint_eq(is.v[0].line, 1);
	ck_assert_uint_eq(is.v[2].line, 3);
	ck_assert(is.v[3].error);
	/* taken literally, as docker would: the parser then rejects it */
	ck_assert_str_eq(tw_env_get(&e, "TWSHIM_LOG"), "\"warn\"");
	tw_env_free(&e);
}
END_TEST

START_TEST(portset_parse)
{
	static struct tw_portset s;
	ck_assert(tw_portset_parse("", &s));
	ck_assert_uint_eq(tw_portset_count(&s, 0, 65535), 0);
	ck_assert(tw_portset_parse("8080,9000-9009, 65535\n", &s));
	ck_assert_uint_eq(tw_portset_count(&s, 0, 65535), 12);
	ck_assert(tw_portset_has(&s, 9005));
	ck_assert(!tw_portset_has(&s, 9010));
	ck_assert(!tw_portset_parse("9-1", &s));
	ck_assert(!tw_portset_parse("70000", &s));
	ck_assert(!tw_portset_parse("80x", &s));
}
END_TEST

static struct tw_sock sock4(uint8_t state, uint16_t sport, const char *dst, uint16_t dport)
{
	struct tw_sock s = { .family = AF_INET, .state = state, .sport = sport, .dport = dport };
	struct tw_cidr c;
	ck_assert(tw_cidr_parse(dst, &c));
	memcpy(s.dst, c.addr, 16);
	return s;
}

START_TEST(stat_counts_and_groups)
{
	static struct tw_portset reserved;
	ck_assert(tw_portset_parse("40005", &reserved));
	struct tw_stat st = {
		.eph_lo = 40000, .eph_hi = 40009, .reserved = &reserved,
		.filter = { 0, 65535, 0, 65535, { 0 } },
	};
	struct tw_sock v[] = {
		sock4(6, 40001, "127.0.0.2", 80), sock4(6, 40002, "127.0.0.2", 80),
		sock4(6, 40005, "127.0.0.3", 80), sock4(6, 50000, "127.0.0.3", 81),
		sock4(6, 1000, "127.0.0.2", 80), sock4(1, 40003, "127.0.0.2", 80),
		sock4(12, 80, "127.0.0.2", 40004),
	};
	/* an IPv4-mapped IPv6 destination groups with its IPv4 address */
	struct tw_sock m = { .family = AF_INET6, .state = 6, .sport = 40006, .dport = 80 };
	m.dst[10] = m.dst[11] = 0xff;
	m.dst[12] = 127, m.dst[15] = 2;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		tw_stat_add(&v[i], &st);
	tw_stat_add(&m, &st);
	tw_stat_finish(&st);
	ck_assert_uint_eq(st.total, 8);
	ck_assert_uint_eq(st.states[6], 6);
	ck_assert_uint_eq(st.states[1], 1);
	ck_assert_uint_eq(st.states[3], 1); /* NEW_SYN_RECV counted as SYN_RECV */
	ck_assert_uint_eq(st.tw_ephemeral, 3);
	ck_assert_uint_eq(st.tw_reserved, 1);
	ck_assert_uint_eq(st.tw_above, 1);
	ck_assert_uint_eq(st.tw_other, 1);
	ck_assert_uint_eq(st.n_dest, 3);
	char a[80];
	tw_dest_str(&st.dest[0], a, sizeof(a));
	ck_assert_str_eq(a, "127.0.0.2:80");
	ck_assert_uint_eq(st.dest[0].count, 4);
	tw_stat_free(&st);

	struct tw_stat f = { .eph_lo = 40000, .eph_hi = 40009,
			     .filter = { 40000, 40009, 80, 80, { 0 } } };
	ck_assert(tw_cidr_parse("127.0.0.2/32", &f.filter.dst));
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		tw_stat_add(&v[i], &f);
	tw_stat_add(&m, &f);
	ck_assert_uint_eq(f.total, 4); /* 40001, 40002, 40003 (ESTABLISHED), mapped 40006 */
	tw_stat_free(&f);
}
END_TEST

START_TEST(cidr_parse)
{
	struct tw_cidr c;
	ck_assert(tw_cidr_parse("10.1.2.3/8", &c));
	ck_assert_uint_eq(c.prefix, 8);
	ck_assert_uint_eq(c.addr[1], 0);
	ck_assert(tw_cidr_parse("::1", &c));
	ck_assert_uint_eq(c.prefix, 128);
	ck_assert(!tw_cidr_parse("10.0.0.0/33", &c));
	ck_assert(!tw_cidr_parse("10.0.0.0/", &c));
	ck_assert(!tw_cidr_parse("example.com", &c));
}
END_TEST

/* The kernel's exec rule (security/commoncap.c), as measured on 6.18 for
 * root and nobody against getauxval(AT_SECURE) of real copies. */
#define ALLCAPS 0x000001ffffffffffull
#define NET_RAW (1ull << 13)

static struct tw_exec_creds creds_root(void)
{
	struct tw_exec_creds c = { 0, 0, 0, 0, 0, ALLCAPS, ALLCAPS, ALLCAPS, 0, false, false };
	return c;
}

static struct tw_exec_creds creds_nobody(void)
{
	struct tw_exec_creds c = { 65534, 65534, 65534, 65534, 0, 0, 0, ALLCAPS, 0, false, false };
	return c;
}

START_TEST(privs_fcaps_decode)
{
	/* revision 2, effective, permitted cap_net_raw */
	const unsigned char ep[20] = { 0x01, 0, 0, 0x02, 0x00, 0x20, 0, 0 };
	/* `setcap =`: revision 2, nothing */
	const unsigned char empty[20] = { 0, 0, 0, 0x02 };
	const unsigned char v3[24] = { 0, 0, 0, 0x03, 0, 0, 0, 0, 0x00, 0x20 };
	struct tw_fcaps c;
	ck_assert(tw_fcaps_decode(ep, sizeof(ep), &c));
	ck_assert(c.present && c.effective && c.permitted == NET_RAW && c.inheritable == 0);
	ck_assert(tw_fcaps_decode(empty, sizeof(empty), &c));
	ck_assert(c.present && !c.effective && c.permitted == 0 && c.inheritable == 0);
	ck_assert(tw_fcaps_decode(v3, sizeof(v3), &c));
	ck_assert(c.present && c.inheritable == NET_RAW);
	ck_assert(!tw_fcaps_decode(ep, 19, &c));       /* wrong size for revision 2 */
	ck_assert(!tw_fcaps_decode(empty, 3, &c));
	const unsigned char bad[20] = { 0, 0, 0, 0x07 }; /* unknown revision */
	ck_assert(!tw_fcaps_decode(bad, sizeof(bad), &c));
}
END_TEST

START_TEST(privs_at_secure_rule)
{
	struct tw_exec_creds root = creds_root(), nobody = creds_nobody();
	struct tw_exec_file plain = { 0 }, suid = { .setuid = true }, sgid = { .setgid = true },
			    ep = { .caps = { true, true, NET_RAW, 0 } },
			    p = { .caps = { true, false, NET_RAW, 0 } },
			    i = { .caps = { true, false, 0, NET_RAW } },
			    empty = { .caps = { true, false, 0, 0 } },
			    suid_nobody = { .setuid = true, .uid = 65534 };
	struct tw_exec_result r;
	const struct {
		const struct tw_exec_creds *c;
		const struct tw_exec_file *f;
		bool secure, nnp_changes;
	} cases[] = {
		{ &root, &plain, false, false },  { &root, &suid, false, false },
		{ &root, &sgid, false, false },   { &root, &ep, false, false },
		{ &root, &p, false, false },      { &root, &empty, false, false },
		{ &root, &suid_nobody, true, true },
		{ &nobody, &plain, false, false }, { &nobody, &suid, true, true },
		{ &nobody, &sgid, true, true },   { &nobody, &ep, true, true },
		{ &nobody, &p, true, true },      { &nobody, &i, false, false },
		{ &nobody, &empty, false, false }, { &nobody, &suid_nobody, false, false },
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		tw_exec_predict(cases[k].c, cases[k].f, false, &r);
		ck_assert_msg(r.secure == cases[k].secure, "case %zu: AT_SECURE %d", k, (int)r.secure);
		ck_assert_msg(tw_exec_nnp_changes(cases[k].c, cases[k].f) == cases[k].nnp_changes,
			      "case %zu: no_new_privs changes", k);
	}
	/* nobody + cap_net_raw+ep: effective cap_net_raw, none under no_new_privs */
	tw_exec_predict(&nobody, &ep, false, &r);
	ck_assert(r.cap_eff == NET_RAW && r.euid == 65534);
	tw_exec_predict(&nobody, &ep, true, &r);
	ck_assert(r.cap_eff == 0);
	/* a nosuid mount: bits and capabilities ignored */
	struct tw_exec_file ns = ep;
	ns.nosuid = true;
	tw_exec_predict(&nobody, &ns, false, &r);
	ck_assert(!r.secure);
	/* ambient capabilities survive no_new_privs, but not file capabilities */
	struct tw_exec_creds amb = nobody;
	amb.cap_inh = amb.cap_prm = amb.cap_amb = NET_RAW;
	tw_exec_predict(&amb, &plain, true, &r);
	ck_assert(r.cap_eff == NET_RAW && !r.secure);
	tw_exec_predict(&amb, &empty, false, &r);
	ck_assert(r.cap_eff == 0 && !r.secure); /* an empty set clears ambient */
	char names[128];
	ck_assert_str_eq(tw_caps_names(NET_RAW | 1, names, sizeof(names)), "cap_chown,cap_net_raw");
	ck_assert_str_eq(tw_caps_names(0, names, sizeof(names)), "none");
}
END_TEST

Suite *tw_unit_suite(void)
{
	Suite *s = suite_create("tool");
	TCase *elf = tcase_create("elf");
	tcase_set_timeout(elf, 60);
	tcase_add_test(elf, elf_self_is_dynamic_and_imports_connect);
	tcase_add_test(elf, elf_static_has_no_interp);
	tcase_add_test(elf, elf_not_elf);
	tcase_add_test(elf, elf_go_markers);
	tcase_add_test(elf, elf_truncated_never_crashes);
	tcase_add_test(elf, elf_corrupted_never_crashes);
	suite_add_tcase(s, elf);
	TCase *env = tcase_create("env");
	tcase_add_test(env, preload_prepend);
	tcase_add_test(env, env_set_and_get);
	tcase_add_test(env, envfile_portable_subset);
	tcase_add_test(env, envfile_errors_and_warnings);
	suite_add_tcase(s, env);
	TCase *stat = tcase_create("stat");
	tcase_add_test(stat, portset_parse);
	tcase_add_test(stat, stat_counts_and_groups);
	tcase_add_test(stat, cidr_parse);
	suite_add_tcase(s, stat);
	TCase *privs = tcase_create("privs");
	tcase_add_test(privs, privs_fcaps_decode);
	tcase_add_test(privs, privs_at_secure_rule);
	suite_add_tcase(s, privs);
	return s;
}
