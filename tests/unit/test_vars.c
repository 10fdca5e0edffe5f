/* test_vars: %-variable expansion against the results Dovecot 2.3.19
 * produced in spec/transcripts/15-varexpand.txt (x1..x30), the examples of
 * spec section 8 and passwd-file-and-ldap.md, and digests computed
 * independently (Python hashlib / openssl dgst). */
#include "authd/vars.h"
#include "common/buf.h"

#include <openssl/provider.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* The request of transcript 15: USER John.Smith@Example.COM service=lda
 * rip=192.0.2.7 lip=198.51.100.1 lport=25, normalised by %Lu. */
static const struct var_entry request_table[] = {
	{ .key = 'u', .long_key = "user", .value = "john.smith@example.com" },
	{ .key = 'n', .long_key = "username", .value = "john.smith" },
	{ .key = 'd', .long_key = "domain", .value = "example.com" },
	{ .key = 's', .long_key = "service", .value = "lda" },
	{ .key = 'r', .long_key = "rip", .value = "192.0.2.7" },
	{ .key = 'l', .long_key = "lip", .value = "198.51.100.1" },
	{ .key = 'a', .long_key = "lport", .value = "25" },
	{ .key = 'b', .long_key = "rport", .value = NULL },
	{ .key = 'm', .long_key = "mech", .value = "PLAIN" },
	{ .key = 'c', .long_key = "secured", .value = "" },
	{ .key = 'p', .long_key = "pid", .value = "0" },
	{ .key = '\0', .long_key = "orig_user", .value = "John.Smith@Example.COM" },
	{ .key = '\0', .long_key = "session", .value = NULL },
	{ .key = 'k', .long_key = "number", .value = "255" },
	{ .key = 'q', .long_key = "quoted", .value = "o'b\"r\\n" },
	{ .key = 't', .long_key = "spaced", .value = "abc \t\r\n" },
	{ .key = 'v', .long_key = "evil", .value = "%u%{user}" },
	{ .key = 'z', .long_key = "star", .value = "*b(c)" },
};

static const char *test_lookup(void *ctx, const char *name)
{
	(void)ctx;
	if (strcmp(name, "passdb:quota") == 0)
		return "1G";
	if (strncmp(name, "passdb:missing:", 15) == 0)
		return name + 15;
	if (strcmp(name, "userdb:home") == 0)
		return "/home/john";
	if (strcmp(name, "gid") == 0)
		return "lookup-gid";   /* the lookup overrides the built-ins */
	return NULL;
}

/* LDAP-style: *()\ and NUL-free bytes >= 0x80 as \XX. */
static int ldap_escape(struct buf *out, const char *value, void *ctx)
{
	(void)ctx;
	for (const char *p = value; *p != '\0'; p++) {
		uint8_t c = (uint8_t)*p;
		int ret = strchr("*()\\", c) != NULL || c >= 0x80 ?
			  buf_printf(out, "\\%02X", c) : buf_append_byte(out, c);
		if (ret < 0)
			return -1;
	}
	return 0;
}

static const struct var_expand_ctx request_ctx = {
	.table = request_table,
	.count = N_ELEMS(request_table),
	.lookup = test_lookup,
};

static const struct var_expand_ctx escape_ctx = {
	.table = request_table,
	.count = N_ELEMS(request_table),
	.lookup = test_lookup,
	.escape = ldap_escape,
};

struct expand_case {
	const char *name;
	const char *tmpl;
	const char *want;        /* NULL: expansion must fail */
	int want_ret;            /* checked when want == NULL */
	const char *want_error;  /* checked when non-NULL */
	const struct var_expand_ctx *ctx;   /* NULL = request_ctx */
};

static void run_cases(const struct expand_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct expand_case *c = &cases[i];
		struct buf out = BUF_INIT(4096);
		const char *error = NULL;
		int ret = var_expand(&out, c->tmpl, c->ctx != NULL ? c->ctx : &request_ctx, &error);
		bool ok = true;
		if (c->want != NULL && (ret != 1 || strcmp(buf_cstr(&out), c->want) != 0)) {
			print_error("%s: var_expand(\"%s\") = %d \"%s\" (error %s), want \"%s\"\n",
				    c->name, c->tmpl, ret, buf_cstr(&out),
				    error != NULL ? error : "-", c->want);
			ok = false;
		}
		int want_ret = c->want_ret != 0 ? c->want_ret : 0;
		if (c->want == NULL && (ret != want_ret || out.len != 0)) {
			print_error("%s: var_expand(\"%s\") = %d \"%s\", want %d and no output\n",
				    c->name, c->tmpl, ret, buf_cstr(&out), want_ret);
			ok = false;
		}
		if (c->want == NULL && (error == NULL || (c->want_error != NULL &&
							  strcmp(error, c->want_error) != 0))) {
			print_error("%s: error = \"%s\", want \"%s\"\n", c->name,
				    error != NULL ? error : "(null)",
				    c->want_error != NULL ? c->want_error : "(any)");
			ok = false;
		}
		buf_free(&out);
		if (!ok)
			fail();
	}
}

/* x1..x30 of transcript 15 (x24 is absent there). */
static void test_transcript_15(void **state)
{
	static const struct expand_case cases[] = {
		{ .name = "x1", .tmpl = "%u", .want = "john.smith@example.com" },
		{ .name = "x2", .tmpl = "%n", .want = "john.smith" },
		{ .name = "x3", .tmpl = "%d", .want = "example.com" },
		{ .name = "x4", .tmpl = "%s", .want = "lda" },
		{ .name = "x5", .tmpl = "%{user}", .want = "john.smith@example.com" },
		{ .name = "x6", .tmpl = "%Uu", .want = "JOHN.SMITH@EXAMPLE.COM" },
		{ .name = "x7", .tmpl = "%1n", .want = "j" },
		{ .name = "x8", .tmpl = "%2.3n", .want = "hn." },
		{ .name = "x9", .tmpl = "%{sha1:user}",
		  .want = "fda41864fbb29233921a90289c83dfb346325313" },
		{ .name = "x10", .tmpl = "%{md5:user}", .want = "1bc5edb4799fd8eec67c66122f47eb73" },
		{ .name = "x10 M", .tmpl = "%Mu", .want = "1bc5edb4799fd8eec67c66122f47eb73" },
		{ .name = "x11", .tmpl = "%-2n", .want = "jo" },
		{ .name = "x12", .tmpl = "%r", .want = "192.0.2.7" },
		{ .name = "x13", .tmpl = "%l", .want = "198.51.100.1" },
		{ .name = "x14", .tmpl = "%{service}", .want = "lda" },
		{ .name = "x15", .tmpl = "%Lu", .want = "john.smith@example.com" },
		{ .name = "x16", .tmpl = "%{domain}", .want = "example.com" },
		{ .name = "x17", .tmpl = "%{sha256;truncate=16:user}", .want = "8e62" },
		{ .name = "x18", .tmpl = "%Hn", .want = "15f3558" },
		{ .name = "x19", .tmpl = "%{if;%s;eq;lda;yes;no}", .want = "yes" },
		{ .name = "x20", .tmpl = "%{orig_user}", .want = "John.Smith@Example.COM" },
		{ .name = "x21", .tmpl = "%{sha1;format=base64:user}",
		  .want = "/aQYZPuykjOSGpAonIPfs0YyUxM=" },
		{ .name = "x22", .tmpl = "%{md5;rounds=2:username}",
		  .want = "3e7584fc1cfce94200215842406b2220" },
		{ .name = "x23", .tmpl = "%c", .want = "" },
		{ .name = "x25", .tmpl = "%5Hn", .want = "2" },
		{ .name = "x26 hexuc is lowercase in 2.3.19", .tmpl = "%{sha1;format=hexuc:user}",
		  .want = "fda41864fbb29233921a90289c83dfb346325313" },
		{ .name = "x27", .tmpl = "%{md5:username}", .want = "22e6674b11f1e6ea12873f50de7b3c3b" },
		{ .name = "x28", .tmpl = "%Rn", .want = "htims.nhoj" },
		{ .name = "x29", .tmpl = "%{rip}", .want = "192.0.2.7" },
		{ .name = "x30", .tmpl = "%a", .want = "25" },
		{ .name = "md5 short letter is unknown", .tmpl = "%{md5:n}", .want = NULL,
		  .want_error = "Unknown variable '{n}'" },
	};
	(void)state;
	run_cases(cases, N_ELEMS(cases));
}

static void test_syntax(void **state)
{
	static const struct expand_case cases[] = {
		{ .name = "literal", .tmpl = "plain text", .want = "plain text" },
		{ .name = "empty", .tmpl = "", .want = "" },
		{ .name = "percent", .tmpl = "100%%", .want = "100%" },
		{ .name = "percent not a var", .tmpl = "%%u", .want = "%u" },
		{ .name = "trailing percent dropped", .tmpl = "abc%", .want = "abc" },
		{ .name = "passwd-file reason", .tmpl = "reason=Account%20moved",
		  .want = "reason=AccountPLAINoved" },
		{ .name = "mail location", .tmpl = "maildir:/var/vmail/%d/%n/Maildir",
		  .want = "maildir:/var/vmail/example.com/john.smith/Maildir" },
		{ .name = "NULL value", .tmpl = "[%b]", .want = "[]" },
		{ .name = "NULL long", .tmpl = "[%{session}]", .want = "[]" },
		{ .name = "values not re-expanded", .tmpl = "%v", .want = "%u%{user}" },
		{ .name = "unknown short", .tmpl = "a%yb", .want = NULL,
		  .want_error = "Unknown variable '%y'" },
		{ .name = "unknown long", .tmpl = "%{nosuch}", .want = NULL,
		  .want_error = "Unknown variable '{nosuch}'" },
		{ .name = "empty long", .tmpl = "%{}", .want = NULL,
		  .want_error = "Unknown variable '{}'" },
		{ .name = "unclosed brace", .tmpl = "%{user", .want = NULL,
		  .want_error = "Unknown variable '%{'" },
		{ .name = "eleventh modifier is the key", .tmpl = "%LLLLLLLLLLLu", .want = NULL,
		  .want_error = "Unknown variable '%L'" },
		{ .name = "ten modifiers", .tmpl = "%LLLLLLLLLLu", .want = "john.smith@example.com" },
		{ .name = "width too large", .tmpl = "%9999999n", .want = NULL },
	};
	(void)state;
	run_cases(cases, N_ELEMS(cases));
}

static void test_width_offset(void **state)
{
	static const struct expand_case cases[] = {
		{ .name = "width", .tmpl = "%3n", .want = "joh" },
		{ .name = "width beyond", .tmpl = "%30n", .want = "john.smith" },
		{ .name = "offset only", .tmpl = "%5.n", .want = "smith" },
		{ .name = "offset beyond", .tmpl = "%50.2n", .want = "" },
		{ .name = "negative offset", .tmpl = "%-3.2n", .want = "it" },
		{ .name = "negative offset all", .tmpl = "%-5.n", .want = "smith" },
		{ .name = "negative offset beyond", .tmpl = "%-50.3n", .want = "joh" },
		{ .name = "all but last 2", .tmpl = "%.-2n", .want = "john.smi" },
		{ .name = "all but last len", .tmpl = "%.-10n", .want = "" },
		{ .name = "all but more than len: whole (Dovecot)", .tmpl = "%.-20n",
		  .want = "john.smith" },
		{ .name = "negative without dot", .tmpl = "%-4n", .want = "john" },
		{ .name = "zero pad", .tmpl = "%05a", .want = "00025" },
		{ .name = "zero pad no truncation", .tmpl = "%03n", .want = "john.smith" },
		{ .name = "zero pad after offset", .tmpl = "%1.04a", .want = "0005" },
		{ .name = "zero before dot ignored", .tmpl = "%01.4n", .want = "ohn." },
		{ .name = "zero pad empty", .tmpl = "%03c", .want = "000" },
		{ .name = "zero width", .tmpl = "%0n", .want = "john.smith" },
		{ .name = "width on long key", .tmpl = "%4{user}", .want = "john" },
	};
	(void)state;
	run_cases(cases, N_ELEMS(cases));
}

static void test_modifiers(void **state)
{
	static const struct expand_case cases[] = {
		{ .name = "L", .tmpl = "%L{orig_user}", .want = "john.smith@example.com" },
		{ .name = "U", .tmpl = "%Un", .want = "JOHN.SMITH" },
		{ .name = "E", .tmpl = "%Eq", .want = "o\\'b\\\"r\\\\n" },
		{ .name = "X", .tmpl = "%Xk", .want = "ff" },
		{ .name = "modifier letters are not keys", .tmpl = "a%XX", .want = "a" },
		{ .name = "X not a number", .tmpl = "%Xn", .want = "0" },
		{ .name = "R", .tmpl = "%Rd", .want = "moc.elpmaxe" },
		{ .name = "H", .tmpl = "%Hn", .want = "15f3558" },
		{ .name = "H mod width", .tmpl = "%5Hn", .want = "2" },
		{ .name = "H offset pads", .tmpl = "%3.5Hn", .want = "002" },
		{ .name = "H offset pads full", .tmpl = "%9.Hn", .want = "0015f3558" },
		{ .name = "N", .tmpl = "%Nn", .want = "11f1e6ea" },
		{ .name = "N mod", .tmpl = "%5Nn", .want = "4" },
		{ .name = "N mod 100", .tmpl = "%100Nn", .want = "5e" },
		{ .name = "M", .tmpl = "%Mn", .want = "22e6674b11f1e6ea12873f50de7b3c3b" },
		{ .name = "D", .tmpl = "dc=%Dd", .want = "dc=example,dc=com" },
		{ .name = "T", .tmpl = "[%Tt]", .want = "[abc]" },
		{ .name = "chain left to right", .tmpl = "%URn", .want = "HTIMS.NHOJ" },
		{ .name = "modifiers then width", .tmpl = "%3Rn", .want = "hti" },
		{ .name = "R then M", .tmpl = "%RMn", .want = "6bbdc7fe62c42d7c39813f9335453ab0" },
		{ .name = "modifier on if", .tmpl = "%U{if;1;==;1;yes;no}", .want = "YES" },
	};
	(void)state;
	run_cases(cases, N_ELEMS(cases));
}

static void test_long_keys(void **state)
{
	char env_want[64], pid_want[32];
	(void)state;
	setenv("AUTHD_TEST_VARS", "from-env", 1);
	unsetenv("AUTHD_TEST_VARS_UNSET");
	snprintf(pid_want, sizeof(pid_want), "%ld", (long)getpid());
	snprintf(env_want, sizeof(env_want), "%lu", (unsigned long)geteuid());
	const struct expand_case cases[] = {
		{ .name = "lookup", .tmpl = "%{passdb:quota}", .want = "1G" },
		{ .name = "lookup default", .tmpl = "%{passdb:missing:512M}", .want = "512M" },
		{ .name = "lookup unknown", .tmpl = "%{passdb:nosuch}", .want = NULL,
		  .want_error = "Unknown variable '{passdb:nosuch}'" },
		{ .name = "default unused", .tmpl = "%{user:x}", .want = "john.smith@example.com" },
		{ .name = "default used for NULL", .tmpl = "%{session:none}", .want = "none" },
		{ .name = "default with colon", .tmpl = "%{session:a:b}", .want = "a:b" },
		{ .name = "default not for unknown", .tmpl = "%{nosuch:x}", .want = NULL },
		{ .name = "env", .tmpl = "%{env:AUTHD_TEST_VARS}", .want = "from-env" },
		{ .name = "env unset", .tmpl = "[%{env:AUTHD_TEST_VARS_UNSET}]", .want = "[]" },
		{ .name = "table pid wins", .tmpl = "%{pid}", .want = "0" },
		{ .name = "process pid", .tmpl = "%{pid}", .want = pid_want,
		  .ctx = &(struct var_expand_ctx){ 0 } },
		{ .name = "uid", .tmpl = "%{uid}", .want = env_want },
		{ .name = "lookup before built-ins", .tmpl = "%{gid}", .want = "lookup-gid" },
		{ .name = "no ctx", .tmpl = "a%%b", .want = "a%b",
		  .ctx = &(struct var_expand_ctx){ 0 } },
		{ .name = "no ctx unknown", .tmpl = "%u", .want = NULL,
		  .ctx = &(struct var_expand_ctx){ 0 } },
	};
	run_cases(cases, N_ELEMS(cases));

	struct buf out = BUF_INIT(1024);
	const char *error;
	assert_int_equal(var_expand(&out, "%{hostname}", NULL, &error), 1);
	assert_true(out.len > 0);
	buf_free(&out);
}

static void test_hashes(void **state)
{
	static const struct expand_case cases[] = {
		{ .name = "md4 (legacy provider)", .tmpl = "%{md4:user}",
		  .want = "99a8b28fb03a3bf2f78a763fac353b34" },
		{ .name = "sha384", .tmpl = "%{sha384:user}",
		  .want = "94e363ec1d7bc0358725d283184362f4944890b25756c4622b56f1de3497e36f"
			  "f3b80bc2b8cfada0694ca5a1f8d85b8b" },
		{ .name = "sha512", .tmpl = "%{sha512:user}",
		  .want = "3323bf14472bb234bd9a646502843b378b5e8c1947880bbce50f8606406a64b0"
			  "4ef90d527dc158427f9cee92d461254e1413f1e338fba318f54ce79b35fcb975" },
		{ .name = "sha3-256", .tmpl = "%{sha3-256:user}",
		  .want = "21ca2e090480a5c129081e0f88f35614a746499f352770f405663515cc457e1a" },
		{ .name = "sha3-512", .tmpl = "%{sha3-512:user}",
		  .want = "33bb5330d9c9ae0446404170ed6f875956bef84d5911eba12d4229dc392e42ca"
			  "6a712c9f4b906b98ec50aeb70d19a8f12470199686c50f2ab913f3a07f7b3a06" },
		{ .name = "method case-insensitive", .tmpl = "%{MD5:user}",
		  .want = "1bc5edb4799fd8eec67c66122f47eb73" },
		{ .name = "truncate 12 bits shifts right", .tmpl = "%{sha256;truncate=12:user}",
		  .want = "08e6" },
		{ .name = "truncate beyond digest", .tmpl = "%{md5;truncate=999:user}",
		  .want = "1bc5edb4799fd8eec67c66122f47eb73" },
		{ .name = "salt template", .tmpl = "%{md5;salt=%n:user}",
		  .want = "b2ed80aae527e40187b1180e82d4e22f" },
		{ .name = "rounds + salt", .tmpl = "%{sha1;rounds=2,salt=pepper:user}",
		  .want = "8341efe072775b3584e908367eb484c5d4a1e58a" },
		{ .name = "pkcs5 default salt is the name", .tmpl = "%{pkcs5;truncate=64:user}",
		  .want = "a2a4147355c7dcf0" },
		{ .name = "pkcs5 rounds salt", .tmpl = "%64{pkcs5;rounds=10,salt=abc:user}",
		  .want = "4a57fc3b2a44b4da8ddac41e1fd993d50fab71e59c91444aba3771c17cae119b" },
		{ .name = "hash of lookup", .tmpl = "%{md5:passdb:quota}",
		  .want = "7d0f45b4b1cf6603762c74ca39c833dd" },
		{ .name = "width on hash", .tmpl = "%8{md5:user}", .want = "1bc5edb4" },
		{ .name = "bad format", .tmpl = "%{md5;format=oct:user}", .want = NULL },
		{ .name = "rounds 0", .tmpl = "%{md5;rounds=0:user}", .want = NULL },
		{ .name = "rounds junk", .tmpl = "%{md5;rounds=x:user}", .want = NULL },
		{ .name = "rounds too many", .tmpl = "%{md5;rounds=10001:user}", .want = NULL },
		{ .name = "no field", .tmpl = "%{md5}", .want = NULL,
		  .want_error = "Unknown variable '{}'" },
		{ .name = "nested too deep",
		  .tmpl = "%{md5:md5:md5:md5:md5:md5:md5:md5:md5:user}", .want = NULL,
		  .want_error = "Variables nested too deeply" },
	};
	(void)state;
	run_cases(cases, N_ELEMS(cases));
}

static void test_if(void **state)
{
	static const struct expand_case cases[] = {
		{ .name = "eq false", .tmpl = "%{if;%s;eq;imap;yes;no}", .want = "no" },
		{ .name = "ne", .tmpl = "%{if;%s;ne;imap;yes;no}", .want = "yes" },
		{ .name = "four params", .tmpl = "[%{if;%s;eq;imap;yes}]", .want = "[]" },
		{ .name = "empty else", .tmpl = "[%{if;%s;eq;imap;yes;}]", .want = "[]" },
		{ .name = "num ==", .tmpl = "%{if;%a;==;25;y;n}", .want = "y" },
		{ .name = "num <", .tmpl = "%{if;%a;<;100;y;n}", .want = "y" },
		{ .name = "num vs string lt", .tmpl = "%{if;%a;lt;100;y;n}", .want = "n" },
		{ .name = "num >=", .tmpl = "%{if;-5;>=;-5;y;n}", .want = "y" },
		{ .name = "num >", .tmpl = "%{if;-5;>;-4;y;n}", .want = "n" },
		{ .name = "num !=", .tmpl = "%{if;7;!=;7;y;n}", .want = "n" },
		{ .name = "num <=", .tmpl = "%{if;7;<=;8;y;n}", .want = "y" },
		{ .name = "str gt", .tmpl = "%{if;b;gt;a;y;n}", .want = "y" },
		{ .name = "str ge le", .tmpl = "%{if;a;ge;a;y;n}%{if;a;le;b;y;n}", .want = "yy" },
		{ .name = "wildcard", .tmpl = "%{if;%u;*;*@example.?om;y;n}", .want = "y" },
		{ .name = "not wildcard", .tmpl = "%{if;%u;!*;*@example.org;y;n}", .want = "y" },
		{ .name = "regex", .tmpl = "%{if;%u;~;^[a-z.]+@example\\.com$;y;n}", .want = "y" },
		{ .name = "not regex", .tmpl = "%{if;%u;!~;^admin;y;n}", .want = "y" },
		{ .name = "branch is a template", .tmpl = "%{if;%d;eq;example.com;/srv/%n;/tmp}",
		  .want = "/srv/john.smith" },
		{ .name = "nested if", .tmpl = "%{if;1;==;1;%{if;%s;eq;lda;in;out};x}", .want = "in" },
		{ .name = "escaped semicolon", .tmpl = "%{if;a\\;b;eq;a\\;b;y\\;es;no}", .want = "y;es" },
		{ .name = "colon is text", .tmpl = "%{if;1;==;1;maildir:~/Mail;x}",
		  .want = "maildir:~/Mail" },
		{ .name = "IF case", .tmpl = "%{IF;1;==;1;y;n}", .want = "y" },
		{ .name = "too few", .tmpl = "%{if;1;==;1}", .want = NULL,
		  .want_error = "if: requires four or five parameters, got 3" },
		{ .name = "too many", .tmpl = "%{if;1;==;1;a;b;c}", .want = NULL,
		  .want_error = "if: requires four or five parameters, got 6" },
		{ .name = "no params", .tmpl = "%{if}", .want = NULL,
		  .want_error = "if: missing parameter(s)" },
		{ .name = "bad op", .tmpl = "%{if;1;=~;1;a;b}", .want = NULL },
		{ .name = "not a number", .tmpl = "%{if;%n;==;1;a;b}", .want = NULL },
		{ .name = "bad regex", .tmpl = "%{if;a;~;(;a;b}", .want = NULL },
		{ .name = "unknown in branch", .tmpl = "%{if;1;==;1;%{nosuch};b}", .want = NULL,
		  .want_error = "Unknown variable '{nosuch}'" },
	};
	(void)state;
	run_cases(cases, N_ELEMS(cases));
}

static void test_escape(void **state)
{
	static const struct expand_case cases[] = {
		{ .name = "value escaped", .tmpl = "(uid=%z)", .want = "(uid=\\2Ab\\28c\\29)",
		  .ctx = &escape_ctx },
		{ .name = "escape after cut", .tmpl = "(uid=%1z)", .want = "(uid=\\2A)",
		  .ctx = &escape_ctx },
		{ .name = "template text not escaped", .tmpl = "(*)%%", .want = "(*)%",
		  .ctx = &escape_ctx },
		{ .name = "lookup value escaped", .tmpl = "%{passdb:missing:a*}", .want = "a\\2A",
		  .ctx = &escape_ctx },
		{ .name = "if compares raw", .tmpl = "%{if;%z;eq;*b(c);y;n}", .want = "y",
		  .ctx = &escape_ctx },
		{ .name = "if branch values escaped once", .tmpl = "%{if;1;==;1;(%z);n}",
		  .want = "(\\2Ab\\28c\\29)", .ctx = &escape_ctx },
		{ .name = "hash of raw value", .tmpl = "%{md5:star}",
		  .want = "d309b0fa11047ab4ba4c63763af6d871", .ctx = &escape_ctx },
		{ .name = "zero pad not escaped", .tmpl = "%08z", .want = "000\\2Ab\\28c\\29",
		  .ctx = &escape_ctx },
	};
	(void)state;
	run_cases(cases, N_ELEMS(cases));
}

static void test_limits(void **state)
{
	const char *error = NULL;
	(void)state;

	/* out's limit: -1 and out restored to what it held */
	struct buf out = BUF_INIT(16);
	assert_int_equal(buf_append_str(&out, "keep"), 0);
	assert_int_equal(var_expand(&out, "%u", &request_ctx, &error), -1);
	assert_string_equal(buf_cstr(&out), "keep");
	assert_non_null(error);
	assert_int_equal(var_expand(&out, "%020n", &request_ctx, &error), -1);
	assert_string_equal(buf_cstr(&out), "keep");
	assert_int_equal(var_expand(&out, "-%n", &request_ctx, &error), 1);
	assert_string_equal(buf_cstr(&out), "keep-john.smith");
	buf_free(&out);

	/* a failure after partial output restores out */
	struct buf out1 = BUF_INIT(0);
	assert_int_equal(buf_append_str(&out1, "keep"), 0);
	assert_int_equal(var_expand(&out1, "-%n-%u-%y", &request_ctx, &error), 0);
	assert_string_equal(buf_cstr(&out1), "keep");
	assert_string_equal(error, "Unknown variable '%y'");
	buf_free(&out1);

	/* template length */
	char *big = malloc(VAR_TEMPLATE_MAX_LEN + 2);
	assert_non_null(big);
	memset(big, 'a', VAR_TEMPLATE_MAX_LEN + 1);
	big[VAR_TEMPLATE_MAX_LEN + 1] = '\0';
	struct buf out2 = BUF_INIT(0);
	assert_int_equal(var_expand(&out2, big, &request_ctx, &error), 0);
	assert_string_equal(error, "Template too long");
	big[VAR_TEMPLATE_MAX_LEN] = '\0';
	assert_int_equal(var_expand(&out2, big, &request_ctx, &error), 1);
	assert_int_equal(out2.len, VAR_TEMPLATE_MAX_LEN);
	buf_free(&out2);
	free(big);
}

static void test_has_variables(void **state)
{
	static const struct {
		const char *tmpl;
		bool want;
	} cases[] = {
		{ .tmpl = "/etc/dovecot/users", .want = false },
		{ .tmpl = "/etc/100%%", .want = false },
		{ .tmpl = "%%d", .want = false },
		{ .tmpl = "trailing %", .want = false },
		{ .tmpl = "/etc/auth/%d/passwd", .want = true },
		{ .tmpl = "%{user}", .want = true },
		{ .tmpl = "%%%Ln", .want = true },
		{ .tmpl = "%-3.2Ln", .want = true },
		{ .tmpl = "", .want = false },
	};
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		bool got = var_has_variables(cases[i].tmpl);
		if (got != cases[i].want)
			fail_msg("var_has_variables(\"%s\") = %d, want %d", cases[i].tmpl, got,
				 cases[i].want);
	}
}

#define THREAD_ITERATIONS 300

static void *thread_main(void *arg)
{
	(void)arg;
	for (int i = 0; i < THREAD_ITERATIONS; i++) {
		struct buf out = BUF_INIT(0);
		const char *error = NULL;
		int ret = var_expand(&out, "%{sha1;format=base64:user}/%{if;%s;eq;lda;y;n}/%Hn",
				     &request_ctx, &error);
		if (ret != 1 || strcmp(buf_cstr(&out), "/aQYZPuykjOSGpAonIPfs0YyUxM=/y/15f3558") != 0)
			return (void *)1;
		buf_reset(&out);
		if (var_expand(&out, "%{nosuch}", &request_ctx, &error) != 0 ||
		    strcmp(error, "Unknown variable '{nosuch}'") != 0)
			return (void *)1;
		buf_free(&out);
	}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[4];
	(void)state;
	for (size_t i = 0; i < N_ELEMS(t); i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_main, NULL), 0);
	for (size_t i = 0; i < N_ELEMS(t); i++) {
		void *ret;
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
}

int main(void)
{
	/* what scheme_init() does in the daemon: md4 lives in the legacy provider */
	OSSL_PROVIDER *legacy = OSSL_PROVIDER_load(NULL, "legacy");
	OSSL_PROVIDER *dflt = OSSL_PROVIDER_load(NULL, "default");
	if (legacy == NULL || dflt == NULL)
		fprintf(stderr, "warning: OpenSSL legacy provider not loaded\n");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transcript_15),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_width_offset),
		cmocka_unit_test(test_modifiers),
		cmocka_unit_test(test_long_keys),
		cmocka_unit_test(test_hashes),
		cmocka_unit_test(test_if),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_has_variables),
		cmocka_unit_test(test_threads),
	};
	int ret = cmocka_run_group_tests(tests, NULL, NULL);
	if (legacy != NULL)
		OSSL_PROVIDER_unload(legacy);
	if (dflt != NULL)
		OSSL_PROVIDER_unload(dflt);
	return ret;
}
