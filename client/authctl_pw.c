/* authctl_pw: `authctl pw`, a drop-in for `doveadm pw` (doveadm-pw.c in
 * Dovecot 2.3.19): the same options (short and long), the same stdout, the
 * same "Fatal: ..." lines on stderr and the same exit codes (0, 1 after
 * three mismatching password entries, 64 usage, 75 for every fatal error).
 *
 * Behaviour copied from doveadm on purpose:
 *   - the -s scheme is upper-cased entirely and printed that way; default
 *     CRYPT (bcrypt cost 5);
 *   - -r is parsed as a signed 64-bit number (anything else counts as not
 *     given), values above 4294967295 are fatal, negative ones wrap;
 *   - with -t the password is still hashed with the -s scheme first, so an
 *     unknown -s or DIGEST-MD5 without -u fails there as in doveadm;
 *   - -t needs a {SCHEME} prefix or a "$1$salt$hash" value (shown as
 *     MD5-CRYPT, cut after the hash); the scheme is shown as written;
 *   - prompts on the terminal without echo ("Enter new password: ",
 *     "Retype new password: ", three tries; "Enter password to verify: "
 *     for -t); without a terminal, lines of stdin and no prompt;
 *   - PLAIN-TRUNC generates "{PLAIN-TRUNC}password", which -V rejects.
 * authd's additions, which doveadm refuses as unknown options: --all (with
 * -l: also list YESCRYPT and SCRAM-SHA-512; plain -l prints doveadm's 31
 * names in doveadm's order, so scripts comparing the lists keep working)
 * and --json (one JSON object on stdout instead of the line:
 * {"scheme":"SHA1","hash":"{SHA1}...","verified":true}, "verified" only
 * with -V/-t, false plus "error" when verification fails; -l gives
 * {"schemes":[...]}). YESCRYPT hashes are labelled {CRYPT} (scheme.h). */
#include "client/authctl.h"

#include "common/buf.h"
#include "common/scheme.h"
#include "common/secret.h"

#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PW_LIVES 3
#define PW_EXIT_MISMATCH 1       /* doveadm's lib_exit(1) after three tries */
#define PW_HASH_MAX (64u * 1024u)

enum {
	PW_OPT_ALL = 256,
	PW_OPT_JSON,
};

struct pw_opts {
	bool list, all, json, reverse_verify;
	const char *plaintext, *scheme, *test_hash, *user;
	bool rounds_set;
	int64_t rounds;
};

struct pw_run {
	const struct pw_opts *o;
	const uint8_t *pw;
	size_t pw_len;
	char *scheme;                /* -s upper-cased, or the default */
	struct buf hash;             /* "{LABEL}encoded" from -s */
};

static int pw_fatal(const char *prefix, const char *msg)
{
	fprintf(stderr, "Fatal: %s%s\n", prefix, msg);
	return AUTHCTL_EX_TEMPFAIL;
}

/* Dovecot's str_to_int64(): optional '-', then only digits, no overflow.
 * Returns false for anything else. */
static bool pw_str_to_int64(const char *s, int64_t *num_r)
{
	bool neg = s[0] == '-';
	uint64_t v = 0;
	const char *p = s + (neg ? 1 : 0);
	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return false;
		uint64_t d = (uint64_t)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
		return false;
	*num_r = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* JSON string: ", \ and control bytes escaped, other bytes as they are. */
static void pw_json_str(const char *s, size_t len)
{
	putchar('"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static const struct option pw_long_opts[] = {
	{ "list", no_argument, NULL, 'l' },
	{ "plaintext", required_argument, NULL, 'p' },
	{ "rounds", required_argument, NULL, 'r' },
	{ "scheme", required_argument, NULL, 's' },
	{ "test-hash", required_argument, NULL, 't' },
	{ "user", required_argument, NULL, 'u' },
	{ "reverse-verify", no_argument, NULL, 'V' },
	{ "all", no_argument, NULL, PW_OPT_ALL },
	{ "json", no_argument, NULL, PW_OPT_JSON },
	{ NULL, 0, NULL, 0 },
};

/* Applies one option. Returns 0, or -1 for a usage error (getopt has
 * printed "pw: invalid option -- 'x'" as doveadm's getopt does). */
static int pw_option(struct pw_opts *o, int c)
{
	switch (c) {
	case 'l': o->list = true; break;
	case 'p': o->plaintext = optarg; break;
	case 'r': o->rounds_set = pw_str_to_int64(optarg, &o->rounds); break;
	case 's': o->scheme = optarg; break;
	case 't': o->test_hash = optarg; o->reverse_verify = true; break;
	case 'u': o->user = optarg; break;
	case 'V': o->reverse_verify = true; break;
	case PW_OPT_ALL: o->all = true; break;
	case PW_OPT_JSON: o->json = true; break;
	default: return -1;
	}
	return 0;
}

static int pw_parse(struct pw_opts *o, int argc, char **argv)
{
	int c;
	optind = 0;      /* GNU: start over, argv[0] is "pw" */
	opterr = 1;
	while ((c = getopt_long(argc, argv, "lp:r:s:t:u:V", pw_long_opts, NULL)) != -1) {
		if (pw_option(o, c) < 0)
			return AUTHCTL_EX_USAGE;
	}
	if (optind < argc) {
		fputs("Error: Extraneous arguments found:", stderr);
		for (int i = optind; i < argc; i++)
			fprintf(stderr, " %s", argv[i]);
		fputc('\n', stderr);
		return AUTHCTL_EX_USAGE;
	}
	return 0;
}

static int pw_list(const struct pw_opts *o)
{
	const char *name;
	if (o->json)
		fputs("{\"schemes\":[", stdout);
	for (size_t i = 0; (name = scheme_list_name(i)) != NULL; i++)
		printf(o->json ? "%s\"%s\"" : "%.0s%s ", i > 0 ? "," : "", name);
	for (size_t i = 0; o->all && (name = scheme_list_extra_name(i)) != NULL; i++)
		printf(o->json ? ",\"%s\"" : "%s ", name);
	fputs(o->json ? "]}\n" : "\n", stdout);
	return AUTHCTL_EX_OK;
}

/* Reads the password as doveadm does. Returns 0, an exit code otherwise. */
static int pw_read(struct pw_run *r, char *buf, char *check, size_t size)
{
	const char *error;
	int len;
	if (r->o->test_hash != NULL) {
		if ((len = authctl_askpass("Enter password to verify: ", buf, size, &error)) < 0)
			return pw_fatal("", error);
		r->pw = (const uint8_t *)buf;
		r->pw_len = (size_t)len;
		return 0;
	}
	for (int lives = PW_LIVES; lives > 0; lives--) {
		int clen;
		if ((len = authctl_askpass("Enter new password: ", buf, size, &error)) < 0 ||
		    (clen = authctl_askpass("Retype new password: ", check, size, &error)) < 0)
			return pw_fatal("", error);
		if (secret_equal(buf, (size_t)len, check, (size_t)clen)) {
			r->pw = (const uint8_t *)buf;
			r->pw_len = (size_t)len;
			return 0;
		}
		fputs("Error: Passwords don't match!\n", stderr);
	}
	return PW_EXIT_MISMATCH;
}

/* Success output: the line, or the JSON object. */
static int pw_print(const struct pw_run *r, const char *spec, size_t spec_len,
		    const char *data, size_t data_len, bool verified)
{
	if (!r->o->json) {
		printf("{%.*s}", (int)spec_len, spec);
		fwrite(data, 1, data_len, stdout);
		fputs(verified ? " (verified)\n" : "\n", stdout);
		return AUTHCTL_EX_OK;
	}
	struct buf hash = BUF_INIT(0);
	int ok = buf_printf(&hash, "{%.*s}", (int)spec_len, spec) == 0 &&
		 buf_append(&hash, data, data_len) == 0;
	fputs("{\"scheme\":", stdout);
	pw_json_str(spec, spec_len);
	fputs(",\"hash\":", stdout);
	pw_json_str(buf_cstr(&hash), hash.len);
	fputs(verified ? ",\"verified\":true}\n" : "}\n", stdout);
	buf_free(&hash);
	return ok ? AUTHCTL_EX_OK : pw_fatal("", "Out of memory");
}

/* A failed verification: "Fatal: ..." and, with --json, the object. */
static int pw_verify_failed(const struct pw_run *r, const struct scheme_stored *st,
			    const char *prefix, const char *error)
{
	if (r->o->json && st->spec != NULL) {
		struct buf hash = BUF_INIT(0);
		if (buf_printf(&hash, "{%.*s}", (int)st->spec_len, st->spec) == 0 &&
		    buf_append(&hash, st->data, st->data_len) == 0) {
			fputs("{\"scheme\":", stdout);
			pw_json_str(st->spec, st->spec_len);
			fputs(",\"hash\":", stdout);
			pw_json_str(buf_cstr(&hash), hash.len);
			fputs(",\"verified\":false,\"error\":", stdout);
			pw_json_str(error, strlen(error));
			fputs("}\n", stdout);
			fflush(stdout);
		}
		buf_free(&hash);
	}
	return pw_fatal(prefix, error);
}

/* doveadm's reverse check of value (the -t hash or what was generated). */
static int pw_verify(const struct pw_run *r, const char *value, size_t len)
{
	struct scheme_stored st;
	struct buf raw = BUF_INIT(len + 1);
	const char *error;
	if (scheme_parse_stored(value, len, NULL, SCHEME_PREFIX_PASSWD_FILE, &st, &error) == 0) {
		if (st.spec == NULL)
			return pw_fatal("", "Missing {scheme} prefix from hash");
		return pw_verify_failed(r, &st, "reverse decode check failed: ", "Unknown scheme");
	}
	int ret = scheme_decode(&st, &raw, &error);
	buf_free(&raw);
	if (ret < 0)
		return pw_verify_failed(r, &st, "reverse decode check failed: ", error);
	if (r->o->user == NULL && strcmp(st.scheme_name, "DIGEST-MD5") == 0)
		return pw_fatal("", "digest_md5_generate(): username not given");
	ret = scheme_verify(&st, r->pw, r->pw_len, r->o->user, &error);
	if (ret <= 0)
		return pw_verify_failed(r, &st, "reverse password verification check failed: ",
					ret == 0 ? "Password mismatch" : error);
	return pw_print(r, st.spec, st.spec_len, st.data, st.data_len, true);
}

/* Generates with -s (also before -t, as doveadm), then prints or checks. */
static int pw_generate(struct pw_run *r, unsigned int rounds)
{
	const char *error;
	int ret = scheme_generate(r->scheme, r->pw, r->pw_len, r->o->user, rounds, &r->hash,
				  &error);
	if (ret == 0)
		return pw_fatal("Unknown scheme: ", r->scheme);
	if (ret < 0)
		return pw_fatal("", error);
	if (r->o->test_hash != NULL)
		return pw_verify(r, r->o->test_hash, strlen(r->o->test_hash));
	if (r->o->reverse_verify)
		return pw_verify(r, (const char *)r->hash.data, r->hash.len);
	const char *close = memchr(r->hash.data, '}', r->hash.len);
	size_t label_len = (size_t)(close - (const char *)r->hash.data) + 1;
	return pw_print(r, (const char *)r->hash.data + 1, label_len - 2,
			(const char *)r->hash.data + label_len, r->hash.len - label_len, false);
}

static int pw_main(const struct pw_opts *o)
{
	char buf[AUTHCTL_PASSWORD_MAX + 1], check[AUTHCTL_PASSWORD_MAX + 1];
	struct pw_run r = { .o = o, .hash = BUF_INIT(PW_HASH_MAX) };
	const char *spec = o->scheme != NULL ? o->scheme : SCHEME_DEFAULT_GENERATE;
	int code;
	if (o->rounds_set && o->rounds > (int64_t)UINT_MAX) {
		fprintf(stderr, "Fatal: Invalid number of rounds: %lld\n", (long long)o->rounds);
		return AUTHCTL_EX_TEMPFAIL;
	}
	if (o->list)
		return pw_list(o);
	r.scheme = strdup(spec);
	if (r.scheme == NULL)
		return pw_fatal("", "Out of memory");
	for (char *p = r.scheme; *p != '\0'; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
	r.pw = (const uint8_t *)o->plaintext;
	r.pw_len = o->plaintext != NULL ? strlen(o->plaintext) : 0;
	code = o->plaintext != NULL ? 0 : pw_read(&r, buf, check, sizeof(buf));
	if (code == 0)
		code = pw_generate(&r, o->rounds_set ? (unsigned int)(uint64_t)o->rounds : 0);
	secret_wipe(buf, sizeof(buf));
	secret_wipe(check, sizeof(check));
	buf_free(&r.hash);
	free(r.scheme);
	return code;
}

static int pw_run(struct authctl_ctx *ctx, const struct authctl_command *cmd, int argc,
		  char **argv)
{
	(void)ctx;
	(void)cmd;
	struct pw_opts o = { 0 };
	int code = pw_parse(&o, argc, argv);
	if (code == 0 && scheme_init() < 0)
		code = pw_fatal("", "Password scheme initialisation failed");
	if (code == 0)
		code = pw_main(&o);
	fflush(stdout);
	return code;
}

const struct authctl_command authctl_cmd_pw = {
	.name = "pw",
	.usage = "[-l [--all]] [-p plaintext] [-r rounds] [-s scheme] [-t hash] [-u user] "
		 "[-V] [--json]",
	.run = pw_run,
};
