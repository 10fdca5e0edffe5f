/* test_mech_digest_md5: DIGEST-MD5 (RFC 2831, spec 6.4) through struct
 * mech: RFC 2831's example exchange, real Dovecot exchanges (transcript
 * 03), the challenge, the lookup-name rules, the service check, and the
 * strict directive parser on malformed input. */
#include "tests/unit/mech_driver.h"
#include "mechanisms/mech_digest_md5_private.h"

#include <stdlib.h>

/* RFC 2831 section 4: chris / secret, realm elwood.innosoft.com, imap */
#define RFC_NONCE "OA6MG9tEQGm2hh"
#define RFC_REALM "elwood.innosoft.com"
/* MD5("chris:elwood.innosoft.com:secret") */
#define RFC_CRED "eb5a750053e4d2c34aa84bbc9b0b6ee7"
#define RFC_CHALLENGE "realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\"," \
		      "charset=\"utf-8\",algorithm=\"md5-sess\""
#define R_CHARSET "charset=utf-8,"
#define R_USER "username=\"chris\","
#define R_REALM "realm=\"elwood.innosoft.com\","
#define R_NONCE "nonce=\"OA6MG9tEQGm2hh\","
#define R_NC "nc=00000001,"
#define R_CNONCE "cnonce=\"OA6MHXh6VqTrRk\","
#define R_URI "digest-uri=\"imap/elwood.innosoft.com\","
#define R_RESP "response=d388dad90d4bbd760a152321f2143af7,"
#define R_QOP "qop=auth"
#define RFC_RESPONSE R_CHARSET R_USER R_REALM R_NONCE R_NC R_CNONCE R_URI R_RESP R_QOP
#define RFC_RSPAUTH "rspauth=ea40f60335c427b5527b84dbabcdfffd"

/* transcript 03-mech1.txt, alice / secret without realm, smtp */
#define T_NONCE "Bs18TvYnAigXntrH8vETHQ=="
#define T_CRED "cc3a3506aba601d2feee7bf9b34237ce"   /* MD5("alice::secret") */
#define T_RESPONSE "username=\"alice\",nonce=\"Bs18TvYnAigXntrH8vETHQ==\",cnonce=\"Se8qaCWYukfGZ7AI\"," \
		   "nc=00000001,qop=auth,digest-uri=\"smtp/localhost\"," \
		   "response=dbf14b5d770625d3949d9b44622fd37c,charset=utf-8"
/* transcript: no charset directive */
#define T2_NONCE "Rvnj+mr45tgG5vRuJjTB8g=="
#define T2_RESPONSE "username=\"alice\",nonce=\"Rvnj+mr45tgG5vRuJjTB8g==\",cnonce=\"zM3k5tm1l5pk18Jp\"," \
		    "nc=00000001,qop=auth,digest-uri=\"smtp/localhost\"," \
		    "response=b379872c27e5fed3fe3ab4d98cbdb454"
/* transcript: master user admin (masterpw) with authzid alice */
#define M_NONCE "bMjdvTEiJr7x49ySz3ZNnw=="
#define M_CRED "a38a128be724bfe9b12b713920fb3a18"   /* MD5("admin::masterpw") */
#define M_RESPONSE "username=\"admin\",nonce=\"bMjdvTEiJr7x49ySz3ZNnw==\",cnonce=\"Qia8QK7p/Q46h8Pv\"," \
		   "nc=00000001,qop=auth,digest-uri=\"smtp/localhost\"," \
		   "response=ad510065a02f48506fd41632e0126994,charset=utf-8,authzid=\"alice\""

#define CHALLENGE { .in = NULL, .want = MECH_CONTINUE }
#define RESUME(w) { .resume = true, .want = (w) }

/* An RFC 2831 example variant that verifies and succeeds. */
#define RFC_OK(nm, msg)								\
	{ .name = (nm), .mech = &mech_digest_md5, .nonce = RFC_NONCE,		\
	  .realms = RFC_REALM, .service = "imap", .cred_hex = RFC_CRED,		\
	  .step_count = 3,							\
	  .steps = { CHALLENGE, { .in = (msg), .want = MECH_LOOKUP_CREDENTIALS },	\
		     { .resume = true, .want = MECH_SUCCESS, .want_out = RFC_RSPAUTH } }, \
	  .want_authcid = "chris@" RFC_REALM, .want_cred_user = "chris",	\
	  .want_cred_realm = RFC_REALM, .want_authzid = "" }

/* A response that fails in step 2 with reason. */
#define RFC_BAD(nm, msg, reason)						\
	{ .name = (nm), .mech = &mech_digest_md5, .nonce = RFC_NONCE,		\
	  .realms = RFC_REALM, .service = "imap", .step_count = 2,		\
	  .steps = { CHALLENGE, { .in = (msg), .want = MECH_FAILURE } },	\
	  .want_reason = (reason) }

/* A response that reaches the credentials lookup (service given). */
#define RFC_LOOKUP(nm, svc, msg)						\
	{ .name = (nm), .mech = &mech_digest_md5, .nonce = RFC_NONCE,		\
	  .realms = RFC_REALM, .service = (svc), .step_count = 2,		\
	  .steps = { CHALLENGE, { .in = (msg), .want = MECH_LOOKUP_CREDENTIALS } } }

#define DUP "duplicate directive"

static const struct md_case cases[] = {
	/* vectors */
	{ .name = "RFC 2831 example", .mech = &mech_digest_md5, .nonce = RFC_NONCE,
	  .realms = RFC_REALM, .service = "imap", .cred_hex = RFC_CRED, .step_count = 3,
	  .steps = { { .in = NULL, .want = MECH_CONTINUE, .want_out = RFC_CHALLENGE },
		     { .in = RFC_RESPONSE, .want = MECH_LOOKUP_CREDENTIALS },
		     { .resume = true, .want = MECH_SUCCESS, .want_out = RFC_RSPAUTH } },
	  .want_authcid = "chris@elwood.innosoft.com", .want_cred_user = "chris",
	  .want_cred_realm = RFC_REALM, .want_authzid = "" },
	{ .name = "Dovecot transcript alice, no realm", .mech = &mech_digest_md5,
	  .nonce = T_NONCE, .service = "smtp", .cred_hex = T_CRED, .step_count = 3,
	  .steps = { { .in = NULL, .want = MECH_CONTINUE,
		       .want_out = "realm=\"\",nonce=\"" T_NONCE "\",qop=\"auth\",charset=\"utf-8\","
				   "algorithm=\"md5-sess\"" },
		     { .in = T_RESPONSE, .want = MECH_LOOKUP_CREDENTIALS },
		     { .resume = true, .want = MECH_SUCCESS,
		       .want_out = "rspauth=9a4dca42365ebeda4369a380821d01ff" } },
	  .want_authcid = "alice", .want_cred_user = "alice", .want_cred_realm = "",
	  .want_authzid = "" },
	{ .name = "Dovecot transcript, no charset", .mech = &mech_digest_md5, .nonce = T2_NONCE,
	  .service = "smtp", .cred_hex = T_CRED, .step_count = 3,
	  .steps = { CHALLENGE, { .in = T2_RESPONSE, .want = MECH_LOOKUP_CREDENTIALS },
		     { .resume = true, .want = MECH_SUCCESS,
		       .want_out = "rspauth=5cd254d5fd314cd4b3bba0c4811abd75" } } },
	{ .name = "Dovecot transcript, master user authzid", .mech = &mech_digest_md5,
	  .nonce = M_NONCE, .service = "smtp", .cred_hex = M_CRED, .step_count = 3,
	  .steps = { CHALLENGE, { .in = M_RESPONSE, .want = MECH_LOOKUP_CREDENTIALS },
		     { .resume = true, .want = MECH_SUCCESS,
		       .want_out = "rspauth=047fb8f9b7b41a1ad8f30a31dd541cb4" } },
	  .want_authcid = "admin", .want_authzid = "alice", .want_cred_user = "admin" },
	{ .name = "initial response ignored", .mech = &mech_digest_md5, .nonce = RFC_NONCE,
	  .realms = RFC_REALM, .step_count = 1,
	  .steps = { { .in = RFC_RESPONSE, .want = MECH_CONTINUE, .want_out = RFC_CHALLENGE } } },
	{ .name = "several realms, escaped", .mech = &mech_digest_md5, .nonce = "n",
	  .realms = " r1  a\"b\\c\tr3 ", .step_count = 1,
	  .steps = { { .in = NULL, .want = MECH_CONTINUE,
		       .want_out = "realm=\"r1\",realm=\"a\\\"b\\\\c\",realm=\"r3\",nonce=\"n\","
				   "qop=\"auth\",charset=\"utf-8\",algorithm=\"md5-sess\"" } } },
	{ .name = "wrong password", .mech = &mech_digest_md5, .nonce = RFC_NONCE,
	  .realms = RFC_REALM, .service = "imap", .cred_hex = T_CRED, .step_count = 3,
	  .steps = { CHALLENGE, { .in = RFC_RESPONSE, .want = MECH_LOOKUP_CREDENTIALS },
		     { .resume = true, .want = MECH_FAILURE, .want_out = "" } },
	  .want_reason = "Password mismatch" },
	{ .name = "credentials of wrong length", .mech = &mech_digest_md5, .nonce = RFC_NONCE,
	  .realms = RFC_REALM, .service = "imap", .cred_hex = RFC_CRED "00", .step_count = 3,
	  .steps = { CHALLENGE, { .in = RFC_RESPONSE, .want = MECH_LOOKUP_CREDENTIALS },
		     RESUME(MECH_FAILURE) },
	  .want_reason = "invalid credentials length" },
	{ .name = "resume before the response", .mech = &mech_digest_md5, .nonce = RFC_NONCE,
	  .cred_hex = RFC_CRED, .step_count = 2, .steps = { CHALLENGE, RESUME(MECH_FAILURE) } },
	/* accepted syntax variations of the RFC example */
	RFC_OK("upper-case keys, LWS everywhere",
	       "  CHARSET = utf-8 ,\tUserName=\"chris\" , Realm = \"elwood.innosoft.com\","
	       "NONCE=\"OA6MG9tEQGm2hh\",Nc=00000001 ,CNonce=\"OA6MHXh6VqTrRk\","
	       "Digest-URI=\"imap/elwood.innosoft.com\",RESPONSE=d388dad90d4bbd760a152321f2143af7,"
	       "QOP=auth  "),
	RFC_OK("escaped characters in quoted values",
	       R_CHARSET "username=\"c\\hr\\is\"," R_REALM R_NONCE R_NC R_CNONCE R_URI R_RESP R_QOP),
	RFC_OK("unknown directives and cipher ignored",
	       "foo=bar,cipher=\"rc4\"," RFC_RESPONSE ",x-ext=\"a,b\",cipher=3des"),
	RFC_OK("empty list elements", ",," R_CHARSET R_USER ",," R_REALM R_NONCE R_NC R_CNONCE R_URI
	       R_RESP R_QOP ","),
	RFC_OK("first non-empty realm counts", "realm=\"\"," RFC_RESPONSE ",realm=\"other\""),
	RFC_OK("charset case-insensitive, maxbuf",
	       R_USER R_REALM R_NONCE R_NC R_CNONCE R_URI R_RESP "qop=auth,charset=UTF-8,maxbuf=65536"),
	/* lookup-name rules (spec 5.2) */
	{ .name = "username with @ and a realm", .mech = &mech_digest_md5, .nonce = "n",
	  .step_count = 2,
	  .steps = { CHALLENGE, { .in = "username=\"u@dom\",realm=\"r\",nonce=\"n\",cnonce=\"c\","
				       "digest-uri=\"smtp/h\",response=d388dad90d4bbd760a152321f2143af7",
				.want = MECH_LOOKUP_CREDENTIALS } },
	  .want_authcid = "u@dom", .want_cred_user = "u@dom", .want_cred_realm = "r" },
	{ .name = "username with @, no realm", .mech = &mech_digest_md5, .nonce = "n",
	  .step_count = 2,
	  .steps = { CHALLENGE, { .in = "username=\"u@dom\",realm=\"\",nonce=\"n\",cnonce=\"c\","
				       "digest-uri=\"smtp/h\",response=d388dad90d4bbd760a152321f2143af7",
				.want = MECH_LOOKUP_CREDENTIALS } },
	  .want_authcid = "u@dom", .want_cred_user = "u@dom", .want_cred_realm = "" },
	/* the service check */
	RFC_LOOKUP("service unset: not checked", NULL, RFC_RESPONSE),
	RFC_LOOKUP("empty service: not checked", "", RFC_RESPONSE),
	RFC_LOOKUP("service case-insensitive", "IMAP", RFC_RESPONSE),
	RFC_LOOKUP("submission takes smtp", "submission",
		   R_USER R_NONCE R_CNONCE "digest-uri=\"smtp/mx\"," R_RESP R_QOP),
	RFC_LOOKUP("pop3 takes pop", "pop3",
		   R_USER R_NONCE R_CNONCE "digest-uri=\"pop/mx\"," R_RESP R_QOP),
	RFC_LOOKUP("pop3 takes pop3", "pop3",
		   R_USER R_NONCE R_CNONCE "digest-uri=\"pop3/mx\"," R_RESP R_QOP),
	RFC_LOOKUP("three-part digest-uri", "smtp",
		   R_USER R_NONCE R_CNONCE "digest-uri=\"smtp/mx/example.com\"," R_RESP R_QOP),
	RFC_BAD("other service", R_USER R_NONCE R_CNONCE "digest-uri=\"smtp/mx\"," R_RESP R_QOP,
		"digest-uri does not match the service"),
	RFC_BAD("empty serv-type", R_USER R_NONCE R_CNONCE "digest-uri=\"/mx\"," R_RESP R_QOP,
		"digest-uri does not match the service"),
	RFC_BAD("digest-uri without /", R_USER R_NONCE R_CNONCE "digest-uri=\"imap\"," R_RESP R_QOP,
		"Invalid digest-uri"),
	RFC_BAD("digest-uri missing", R_USER R_NONCE R_CNONCE R_RESP R_QOP,
		"Missing digest-uri parameter"),
	/* value rules */
	RFC_BAD("qop auth-int", R_USER R_NONCE R_CNONCE R_URI R_RESP "qop=auth-int",
		"Nonallowed QoP requested"),
	RFC_BAD("qop auth-conf", R_USER R_NONCE R_CNONCE R_URI R_RESP "qop=\"auth-conf\"",
		"Nonallowed QoP requested"),
	RFC_BAD("charset iso-8859-1", RFC_RESPONSE ",charset=iso-8859-1", DUP),
	RFC_BAD("charset iso-8859-1 alone", R_USER R_NONCE R_CNONCE R_URI R_RESP "charset=iso-8859-1",
		"Only utf-8 charset is allowed"),
	RFC_BAD("nc 2", R_USER R_NONCE R_CNONCE R_URI R_RESP "nc=00000002",
		"re-auth not supported (nonce-count is not 00000001)"),
	RFC_BAD("nc 1 without zeros", R_USER R_NONCE R_CNONCE R_URI R_RESP "nc=1",
		"re-auth not supported (nonce-count is not 00000001)"),
	RFC_BAD("maxbuf 0", RFC_RESPONSE ",maxbuf=0", "Invalid maxbuf value"),
	RFC_BAD("maxbuf not a number", RFC_RESPONSE ",maxbuf=12k", "Invalid maxbuf value"),
	RFC_BAD("maxbuf too big", RFC_RESPONSE ",maxbuf=99999999999", "Invalid maxbuf value"),
	RFC_BAD("empty authzid", RFC_RESPONSE ",authzid=\"\"", "empty authzid"),
	RFC_BAD("wrong nonce", R_USER "nonce=\"OA6MG9tEQGm2hH\"," R_CNONCE R_URI R_RESP R_QOP,
		"Invalid nonce"),
	RFC_BAD("nonce prefix", R_USER "nonce=\"OA6MG9tEQGm2h\"," R_CNONCE R_URI R_RESP R_QOP,
		"Invalid nonce"),
	RFC_BAD("empty nonce", R_USER "nonce=\"\"," R_CNONCE R_URI R_RESP R_QOP, "Invalid nonce"),
	RFC_BAD("missing nonce", R_USER R_CNONCE R_URI R_RESP R_QOP, "Missing nonce parameter"),
	RFC_BAD("missing cnonce", R_USER R_NONCE R_URI R_RESP R_QOP, "Missing cnonce parameter"),
	RFC_BAD("empty cnonce", R_USER R_NONCE "cnonce=\"\"," R_URI R_RESP R_QOP,
		"Missing cnonce parameter"),
	RFC_BAD("missing username", R_NONCE R_CNONCE R_URI R_RESP R_QOP,
		"Missing username parameter"),
	RFC_BAD("empty username", "username=\"\"," R_NONCE R_CNONCE R_URI R_RESP R_QOP,
		"Missing username parameter"),
	RFC_BAD("missing response", R_USER R_NONCE R_CNONCE R_URI R_QOP,
		"Missing response parameter"),
	RFC_BAD("short response", R_USER R_NONCE R_CNONCE R_URI
		"response=d388dad90d4bbd760a152321f2143af," R_QOP, "Invalid response value"),
	RFC_BAD("long response", R_USER R_NONCE R_CNONCE R_URI
		"response=d388dad90d4bbd760a152321f2143af70," R_QOP, "Invalid response value"),
	RFC_BAD("non-hex response", R_USER R_NONCE R_CNONCE R_URI
		"response=x388dad90d4bbd760a152321f2143af7," R_QOP, "Invalid response value"),
	RFC_BAD("upper-case response", R_USER R_NONCE R_CNONCE R_URI
		"response=D388DAD90D4BBD760A152321F2143AF7," R_QOP, "Invalid response value"),
	RFC_BAD("username refused by the check", RFC_RESPONSE, NULL),
	/* duplicates */
	RFC_BAD("duplicate username", R_USER RFC_RESPONSE, DUP),
	RFC_BAD("duplicate nonce (equal)", R_NONCE RFC_RESPONSE, DUP),
	RFC_BAD("duplicate cnonce", R_CNONCE RFC_RESPONSE, DUP),
	RFC_BAD("duplicate nc", R_NC RFC_RESPONSE, DUP),
	RFC_BAD("duplicate qop", RFC_RESPONSE "," R_QOP, DUP),
	RFC_BAD("duplicate digest-uri", R_URI RFC_RESPONSE, DUP),
	RFC_BAD("duplicate response", R_RESP RFC_RESPONSE, DUP),
	RFC_BAD("duplicate maxbuf", "maxbuf=1,maxbuf=1," RFC_RESPONSE, DUP),
	RFC_BAD("duplicate charset", R_CHARSET RFC_RESPONSE, DUP),
	RFC_BAD("duplicate authzid", "authzid=\"a\",authzid=\"a\"," RFC_RESPONSE, DUP),
	RFC_BAD("duplicate key in other case", "USERNAME=\"chris\"," RFC_RESPONSE, DUP),
	/* syntax */
	RFC_BAD("empty message", "", "Client sent no input"),
	RFC_BAD("only commas and spaces", " , ,\t,", "Missing nonce parameter"),
	RFC_BAD("unterminated quote", RFC_RESPONSE ",authzid=\"abc", "unterminated quoted string"),
	RFC_BAD("unterminated quote at end", R_QOP ",username=\"", "unterminated quoted string"),
	RFC_BAD("escape at the end", RFC_RESPONSE ",authzid=\"abc\\", "unterminated quoted string"),
	RFC_BAD("escaped closing quote", RFC_RESPONSE ",authzid=\"abc\\\"",
		"unterminated quoted string"),
	RFC_BAD("escape of an 8-bit byte", RFC_RESPONSE ",authzid=\"a\\\xc3\xa9\"",
		"invalid escape in quoted string"),
	RFC_BAD("escape of a control byte", RFC_RESPONSE ",authzid=\"a\\\x01\"",
		"invalid escape in quoted string"),
	RFC_BAD("text after closing quote", "username=\"chris\"x," R_NONCE R_CNONCE R_URI R_RESP R_QOP,
		"garbage after directive value"),
	RFC_BAD("two tokens", "username=chris smith," R_NONCE R_CNONCE R_URI R_RESP R_QOP,
		"garbage after directive value"),
	RFC_BAD("quote inside token", "username=ch\"ris," R_NONCE R_CNONCE R_URI R_RESP R_QOP,
		"invalid character in unquoted value"),
	RFC_BAD("directive without =", "username," RFC_RESPONSE, "missing '=' after directive name"),
	RFC_BAD("directive without = at end", RFC_RESPONSE ",username",
		"missing '=' after directive name"),
	RFC_BAD("empty key", "=x," RFC_RESPONSE, "invalid directive name"),
	RFC_BAD("empty unquoted value", "nc=," RFC_RESPONSE, "empty directive value"),
	RFC_BAD("empty unquoted value at end", RFC_RESPONSE ",maxbuf=", "empty directive value"),
	RFC_BAD("key too long", "x-a-very-long-directive-name-over-32=1," RFC_RESPONSE,
		"invalid directive name"),
	RFC_BAD("NUL byte", "username=\"ch\0ris\"", "Client sent no input"),
};

/* RFC_BAD("... refused by the check") needs reject_user; NUL needs a length. */
static void test_digest_md5_table(void **state)
{
	(void)state;
	struct md_case *copy = malloc(sizeof(cases));
	assert_non_null(copy);
	memcpy(copy, cases, sizeof(cases));
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		if (strcmp(copy[i].name, "username refused by the check") == 0) {
			copy[i].reject_user = "chris@elwood.innosoft.com";
			copy[i].want_reason = "invalid username";
		}
		if (strcmp(copy[i].name, "NUL byte") == 0) {
			copy[i].steps[1].len = 17;
			copy[i].want_reason = "NUL byte in response";
		}
	}
	md_run_table(copy, N_ELEMS(cases));
	free(copy);
}

/* Messages built at run time: long and comma-heavy input must fail fast. */
static void test_digest_md5_limits(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		const char *head;     /* before the filler */
		char fill;
		size_t fill_len;
		const char *tail;
		const char *want_reason;
	} limits[] = {
		{ "10 000 commas", "", ',', 10000, "", "response too long" },
		{ "10 000 commas after a directive", R_USER, ',', 10000, R_NONCE, "response too long" },
		{ "100 commas", "", ',', 100, RFC_RESPONSE, "too many directives" },
		{ "33 empty elements then the response", "", ',', 33, RFC_RESPONSE,
		  "too many directives" },
		{ "quoted value over the limit", RFC_RESPONSE ",authzid=\"", 'a',
		  DIGEST_MD5_VALUE_MAX + 1, "\"", "directive value too long" },
		{ "token over the limit", RFC_RESPONSE ",authzid=", 'a', DIGEST_MD5_VALUE_MAX + 1, "",
		  "directive value too long" },
		{ "long username", "username=\"", 'a', DIGEST_MD5_VALUE_MAX + 1,
		  "\"," R_NONCE R_CNONCE R_URI R_RESP, "directive value too long" },
		{ "response over 4096 bytes", RFC_RESPONSE ",x=\"", 'a', 4096, "\"",
		  "response too long" },
	};
	size_t failed = 0;
	for (size_t i = 0; i < N_ELEMS(limits); i++) {
		size_t hl = strlen(limits[i].head), tl = strlen(limits[i].tail);
		size_t len = hl + limits[i].fill_len + tl;
		char *msg = malloc(len + 1);
		assert_non_null(msg);
		memcpy(msg, limits[i].head, hl);
		memset(msg + hl, limits[i].fill, limits[i].fill_len);
		memcpy(msg + hl + limits[i].fill_len, limits[i].tail, tl + 1);
		const struct md_case c = {
			.name = limits[i].name, .mech = &mech_digest_md5, .nonce = RFC_NONCE,
			.service = "imap", .step_count = 2,
			.steps = { CHALLENGE, { .in = msg, .len = len, .want = MECH_FAILURE } },
			.want_reason = limits[i].want_reason,
		};
		if (!md_run_case(&c))
			failed++;
		free(msg);
	}
	if (failed > 0)
		fail_msg("%zu limit cases failed", failed);
}

/* The parser on its own: defaults and unescaping. */
static void test_digest_md5_parse_defaults(void **state)
{
	(void)state;
	struct pool *pool = pool_create(0);
	struct digest_md5_response r;
	const char *error = NULL;
	static const char msg[] = "username=\"a\\\"b\",nonce=n,cnonce=c,digest-uri=\"x/y\","
				  "response=0123456789abcdef0123456789abcdef";
	assert_int_equal(digest_md5_parse_response(pool, (const uint8_t *)msg, sizeof(msg) - 1,
						   &r, &error), 1);
	assert_string_equal(r.field[DIGEST_MD5_FIELD_USERNAME].str, "a\"b");
	assert_int_equal(r.field[DIGEST_MD5_FIELD_USERNAME].len, 3);
	assert_string_equal(r.field[DIGEST_MD5_FIELD_NC].str, "00000001");
	assert_string_equal(r.field[DIGEST_MD5_FIELD_QOP].str, "auth");
	assert_null(r.field[DIGEST_MD5_FIELD_REALM].str);
	assert_null(r.field[DIGEST_MD5_FIELD_AUTHZID].str);
	pool_destroy(&pool);
}

/* Directive names: any ASCII case; a name that only looks alike (a control
 * byte where the '-' is) is an unknown directive. Quoted values: escapes
 * removed. */
static void test_digest_md5_parse_keys(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		const char *msg;
		int want;
		const char *want_error;
		const char *want_uri;
	} parse_cases[] = {
		{ .name = "upper-case keys",
		  .msg = "USERNAME=\"a\",NoNcE=n,CNONCE=c,Digest-URI=\"x/y\","
			 "RESPONSE=0123456789abcdef0123456789abcdef",
		  .want = 1, .want_uri = "x/y" },
		{ .name = "CR instead of '-'",
		  .msg = "username=\"a\",nonce=n,cnonce=c,digest\ruri=\"x/y\","
			 "response=0123456789abcdef0123456789abcdef",
		  .want = 0, .want_error = "Missing digest-uri parameter" },
		{ .name = "escaped quote and backslash in the uri",
		  .msg = "username=\"a\",nonce=n,cnonce=c,digest-uri=\"x/\\\"\\\\\\y\","
			 "response=0123456789abcdef0123456789abcdef",
		  .want = 1, .want_uri = "x/\"\\y" },
		{ .name = "unterminated after an escape",
		  .msg = "username=\"a\\", .want = 0, .want_error = "unterminated quoted string" },
	};
	size_t failed = 0;
	for (size_t i = 0; i < N_ELEMS(parse_cases); i++) {
		__typeof__(parse_cases[0]) *c = &parse_cases[i];
		struct pool *pool = pool_create(0);
		struct digest_md5_response r;
		const char *error = NULL;
		int got = digest_md5_parse_response(pool, (const uint8_t *)c->msg, strlen(c->msg),
						    &r, &error);
		const char *uri = got == 1 ? r.field[DIGEST_MD5_FIELD_DIGEST_URI].str : NULL;
		if (got != c->want ||
		    (got == 0 && (error == NULL || strcmp(error, c->want_error) != 0)) ||
		    (got == 1 && (uri == NULL || strcmp(uri, c->want_uri) != 0))) {
			print_error("%s: got %d (%s, uri %s), want %d (%s, uri %s)\n", c->name, got,
				    error != NULL ? error : "-", uri != NULL ? uri : "-", c->want,
				    c->want_error != NULL ? c->want_error : "-",
				    c->want_uri != NULL ? c->want_uri : "-");
			failed++;
		}
		pool_destroy(&pool);
	}
}

/* DIGEST_MD5_VALUE_MAX bytes after unescaping (written with escapes) pass,
 * one more does not. */
static void test_digest_md5_parse_escaped_limit(void **state)
{
	(void)state;
	for (size_t extra = 0; extra <= 1; extra++) {
		char msg[3 * DIGEST_MD5_VALUE_MAX + 128];
		size_t n = (size_t)snprintf(msg, sizeof(msg), "username=\"");
		for (size_t i = 0; i < DIGEST_MD5_VALUE_MAX + extra; i++) {
			msg[n++] = '\\';
			msg[n++] = 'u';
		}
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "\",nonce=n,cnonce=c,"
				      "digest-uri=\"x/y\",response=0123456789abcdef0123456789abcdef");
		struct pool *pool = pool_create(0);
		struct digest_md5_response r;
		const char *error = NULL;
		int got = digest_md5_parse_response(pool, (const uint8_t *)msg, n, &r, &error);
		if (extra == 0) {
			assert_int_equal(got, 1);
			assert_int_equal(r.field[DIGEST_MD5_FIELD_USERNAME].len, DIGEST_MD5_VALUE_MAX);
			assert_int_equal(strlen(r.field[DIGEST_MD5_FIELD_USERNAME].str),
					 DIGEST_MD5_VALUE_MAX);
		} else {
			assert_int_equal(got, 0);
			assert_string_equal(error, "directive value too long");
		}
		pool_destroy(&pool);
	}
}

/* The generated nonce: base64 of 16 bytes, fresh each time. */
static void test_digest_md5_nonce(void **state)
{
	(void)state;
	struct pool *pool = pool_create(0);
	const struct mech_env env = { .realms = "" };
	char first[256] = "";
	for (int round = 0; round < 2; round++) {
		struct mech_request req = { .pool = pool, .mech = &mech_digest_md5, .env = &env };
		struct buf out = BUF_INIT(MD_OUT_LIMIT);
		req.step_count = 1;
		assert_int_equal(mech_digest_md5.step(&req, (const uint8_t *)"", 0, true, &out),
				 MECH_CONTINUE);
		const char *s = buf_cstr(&out);
		static const char head[] = "realm=\"\",nonce=\"";
		static const char tail[] = "\",qop=\"auth\",charset=\"utf-8\",algorithm=\"md5-sess\"";
		assert_int_equal(out.len, strlen(head) + 24 + strlen(tail));
		assert_memory_equal(s, head, strlen(head));
		assert_string_equal(s + strlen(head) + 24, tail);
		assert_memory_equal(s + strlen(head) + 22, "==", 2);
		if (round == 0)
			snprintf(first, sizeof(first), "%s", s);
		else if (strcmp(first, s) == 0)
			fail_msg("two challenges are equal: got %s twice", s);
		buf_free(&out);
	}
	pool_destroy(&pool);
}

static void test_digest_md5_flags(void **state)
{
	(void)state;
	struct buf out = BUF_INIT(256);
	assert_int_equal(mech_handshake_line(&out, &mech_digest_md5), 0);
	assert_string_equal(buf_cstr(&out), "MECH\tDIGEST-MD5\tdictionary\tactive\tmutual-auth\n");
	assert_string_equal(mech_digest_md5.cred_scheme, "DIGEST-MD5");
	assert_ptr_equal(mech_find("Digest-MD5", 10), &mech_digest_md5);
	assert_int_equal(mech_digest_md5.flags & MECH_FLAG_ALLOW_NULS, 0);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_md5_table),
		cmocka_unit_test(test_digest_md5_limits),
		cmocka_unit_test(test_digest_md5_parse_defaults),
		cmocka_unit_test(test_digest_md5_parse_keys),
		cmocka_unit_test(test_digest_md5_parse_escaped_limit),
		cmocka_unit_test(test_digest_md5_nonce),
		cmocka_unit_test(test_digest_md5_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
