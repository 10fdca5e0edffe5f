/* test_ldap_conf: the dovecot-ldap.conf.ext reader (spec B.1, B.2):
 * defaults, every value type, quoting, continuation, comments, $ENV,
 * !include with globs, and errors with file:line. */
#include "common/pool.h"
#include "passdb/db_ldap_conf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MIN "uris = ldap://127.0.0.1\nbase = dc=x\n"

static int parse(struct pool *pool, const char *text, struct ldap_conf *conf, const char **error)
{
	*error = NULL;
	return ldap_conf_parse(pool, "t.conf", (const uint8_t *)text, strlen(text), false, NULL,
			       NULL, conf, error);
}

static void test_defaults(void **state)
{
	(void)state;
	struct pool *pool = pool_create(0);
	struct ldap_conf c;
	const char *error;
	assert_int_equal(parse(pool, MIN, &c, &error), 0);
	assert_string_equal(c.pass_attrs, "uid=user,userPassword=password");
	assert_string_equal(c.pass_filter, "(&(objectClass=posixAccount)(uid=%u))");
	assert_string_equal(c.user_attrs, "homeDirectory=home,uidNumber=uid,gidNumber=gid");
	assert_string_equal(c.iterate_filter, "(objectClass=posixAccount)");
	assert_string_equal(c.default_pass_scheme, "crypt");
	assert_int_equal(c.scope, LDAP_CONF_SCOPE_SUBTREE);
	assert_int_equal(c.deref, LDAP_CONF_DEREF_NEVER);
	assert_int_equal(c.ldap_version, 3);
	assert_false(c.auth_bind);
	assert_null(c.dn);
	assert_null(c.auth_bind_userdn);
	assert_int_equal(c.uri_count, 1);
	pool_destroy(&pool);
}

/* The spec's ldap-pass.conf.ext, continuation lines included. */
static void test_spec_file(void **state)
{
	(void)state;
	static const char text[] =
		"# password-lookup mode\n"
		"uris = ldap://127.0.0.1:3899\n"
		"dn = cn=dovecot,ou=services,dc=example,dc=com\n"
		"dnpass = dovecotpw\n"
		"auth_bind = no\n"
		"base = ou=people,dc=example,dc=com\n"
		"scope = subtree\n"
		"pass_attrs = uid=user, userPassword=password, \\\n"
		"  homeDirectory=userdb_home, uidNumber=userdb_uid, gidNumber=userdb_gid, \\\n"
		"  =userdb_mail=maildir:%{ldap:homeDirectory}/Maildir\n"
		"pass_filter = (&(objectClass=posixAccount)(uid=%u))\n"
		"default_pass_scheme = CRYPT\n";
	struct pool *pool = pool_create(0);
	struct ldap_conf c;
	const char *error;
	assert_int_equal(parse(pool, text, &c, &error), 0);
	assert_string_equal(c.pass_attrs, "uid=user, userPassword=password, homeDirectory=userdb_home, "
			    "uidNumber=userdb_uid, gidNumber=userdb_gid, "
			    "=userdb_mail=maildir:%{ldap:homeDirectory}/Maildir");
	assert_string_equal(c.dn, "cn=dovecot,ou=services,dc=example,dc=com");
	assert_string_equal(c.dnpass, "dovecotpw");
	assert_string_equal(c.uri_list[0], "ldap://127.0.0.1:3899");
	assert_string_equal(c.default_pass_scheme, "CRYPT");
	pool_destroy(&pool);
}

static const struct {
	const char *name, *text;
	const char *want_dnpass, *want_uri1;
	int want_scope;
} value_cases[] = {
	{ .name = "double quotes", .text = MIN "dnpass = \"a b#c\\\"d\\te\"\n",
	  .want_dnpass = "a b#c\"d\te", .want_scope = LDAP_CONF_SCOPE_SUBTREE },
	{ .name = "single quotes", .text = MIN "dnpass = 'x y'\n", .want_dnpass = "x y",
	  .want_scope = LDAP_CONF_SCOPE_SUBTREE },
	{ .name = "comment after space", .text = MIN "dnpass = secret # note\n",
	  .want_dnpass = "secret", .want_scope = LDAP_CONF_SCOPE_SUBTREE },
	{ .name = "glued comment", .text = MIN "dnpass = sec#ret\n", .want_dnpass = "sec",
	  .want_scope = LDAP_CONF_SCOPE_SUBTREE },
	{ .name = "env", .text = MIN "dnpass = pre$ENV:LDAPCONF_TEST_ENV-post\n",
	  .want_dnpass = "pre-envvalue--post", .want_scope = LDAP_CONF_SCOPE_SUBTREE },
	{ .name = "no env in quotes", .text = MIN "dnpass = \"$ENV:LDAPCONF_TEST_ENV\"\n",
	  .want_dnpass = "$ENV:LDAPCONF_TEST_ENV", .want_scope = LDAP_CONF_SCOPE_SUBTREE },
	{ .name = "scope onelevel, case", .text = MIN "scope = OneLevel\n",
	  .want_scope = LDAP_CONF_SCOPE_ONELEVEL },
	{ .name = "hosts", .text = "hosts = a.example b.example:1389\nbase = x\n",
	  .want_uri1 = "ldap://b.example:1389", .want_scope = LDAP_CONF_SCOPE_SUBTREE },
	{ .name = "later wins", .text = MIN "scope = base\nscope = subtree\n",
	  .want_scope = LDAP_CONF_SCOPE_SUBTREE },
	{ .name = "CRLF", .text = "uris = ldap://h\r\nbase = x\r\ndnpass = p\r\n",
	  .want_dnpass = "p", .want_scope = LDAP_CONF_SCOPE_SUBTREE },
};

static void test_values(void **state)
{
	(void)state;
	setenv("LDAPCONF_TEST_ENV", "-envvalue-", 1);
	for (size_t i = 0; i < N_ELEMS(value_cases); i++) {
		struct pool *pool = pool_create(0);
		struct ldap_conf c;
		const char *error;
		if (parse(pool, value_cases[i].text, &c, &error) < 0)
			fail_msg("%s: got error %s, want success", value_cases[i].name, error);
		if (value_cases[i].want_dnpass != NULL &&
		    (c.dnpass == NULL || strcmp(c.dnpass, value_cases[i].want_dnpass) != 0))
			fail_msg("%s: dnpass got [%s], want [%s]", value_cases[i].name,
				 c.dnpass != NULL ? c.dnpass : "(null)", value_cases[i].want_dnpass);
		if (value_cases[i].want_uri1 != NULL &&
		    (c.uri_count < 2 || strcmp(c.uri_list[1], value_cases[i].want_uri1) != 0))
			fail_msg("%s: uri[1] got %s, want %s", value_cases[i].name,
				 c.uri_count > 1 ? c.uri_list[1] : "-", value_cases[i].want_uri1);
		if ((int)c.scope != value_cases[i].want_scope)
			fail_msg("%s: scope got %d, want %d", value_cases[i].name, c.scope,
				 value_cases[i].want_scope);
		pool_destroy(&pool);
	}
}

static const struct {
	const char *name, *text, *want_error;
} error_cases[] = {
	{ "unknown key", MIN "\nfoo = bar\n", "t.conf:4: Unknown setting: foo" },
	{ "bad boolean", MIN "auth_bind = maybe\n", "t.conf:3: Invalid boolean value" },
	{ "bad scope", MIN "scope = tree\n", "t.conf:3: Unknown scope option 'tree'" },
	{ "bad deref", MIN "deref = sometimes\n", "t.conf:3: Unknown deref option" },
	{ "bad number", MIN "ldap_version = three\n", "t.conf:3: Invalid number" },
	{ "no equals", MIN "base\n", "t.conf:3: Expecting '='" },
	{ "no base", "uris = ldap://h\n", "No base given" },
	{ "no uris", "base = x\n", "No uris or hosts set" },
	{ "tls and ldaps", "uris = ldaps://h\nbase = x\ntls = yes\n",
	  "Don't use both tls=yes and ldaps URI" },
	{ "include refused", MIN "!include other.conf\n", "t.conf:3: !include is not allowed" },
	{ "bad scheme", "uris = http://h\nbase = x\n", "Unsupported URI" },
	{ "version 2 with tls", MIN "ldap_version = 2\ntls = yes\n", "require ldap_version = 3" },
	{ "NUL byte", "base = x\0", "NUL byte" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(error_cases); i++) {
		struct pool *pool = pool_create(0);
		struct ldap_conf c;
		const char *error = NULL;
		size_t len = strlen(error_cases[i].text);
		if (strcmp(error_cases[i].name, "NUL byte") == 0)
			len++;
		int ret = ldap_conf_parse(pool, "t.conf", (const uint8_t *)error_cases[i].text, len,
					  false, NULL, NULL, &c, &error);
		if (ret != -1 || error == NULL || strstr(error, error_cases[i].want_error) == NULL)
			fail_msg("%s: got %d [%s], want error containing [%s]", error_cases[i].name, ret,
				 error != NULL ? error : "", error_cases[i].want_error);
		pool_destroy(&pool);
	}
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_include(void **state)
{
	(void)state;
	char dir[] = "/tmp/ldapconf.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char main_path[256], a[256], b[256], missing[256];
	snprintf(main_path, sizeof(main_path), "%s/main.conf", dir);
	snprintf(a, sizeof(a), "%s/part-a.inc", dir);
	snprintf(b, sizeof(b), "%s/part-b.inc", dir);
	snprintf(missing, sizeof(missing), "%s/bad.conf", dir);
	write_file(main_path, "uris = ldap://h\n!include part-*.inc\n!include_try none*.inc\n"
		   "dn = cn=main\n");
	write_file(a, "base = dc=a\n");
	write_file(b, "dnpass = secret\n");
	write_file(missing, "!include nothing-here.inc\n");
	struct pool *pool = pool_create(0);
	struct ldap_conf c;
	const char *error = NULL;
	if (ldap_conf_read(pool, main_path, NULL, NULL, &c, &error) < 0)
		fail_msg("include: got %s", error);
	assert_string_equal(c.base, "dc=a");
	assert_string_equal(c.dnpass, "secret");
	assert_string_equal(c.dn, "cn=main");
	assert_int_equal(ldap_conf_read(pool, missing, NULL, NULL, &c, &error), -1);
	assert_non_null(strstr(error, "bad.conf:1: No matches"));
	assert_int_equal(ldap_conf_read(pool, "/nonexistent/x.conf", NULL, NULL, &c, &error), -1);
	/* a file including itself stops at the depth limit */
	write_file(missing, "!include bad.conf\n");
	assert_int_equal(ldap_conf_read(pool, missing, NULL, NULL, &c, &error), -1);
	assert_non_null(strstr(error, "Too deeply nested"));
	pool_destroy(&pool);
	unlink(main_path);
	unlink(a);
	unlink(b);
	unlink(missing);
	rmdir(dir);
}

static void test_equal(void **state)
{
	(void)state;
	struct pool *pool = pool_create(0);
	struct ldap_conf x, y;
	const char *error;
	assert_int_equal(parse(pool, MIN "dnpass = a\n", &x, &error), 0);
	assert_int_equal(parse(pool, MIN "dnpass = a\n", &y, &error), 0);
	assert_true(ldap_conf_equal(&x, &y));
	assert_int_equal(parse(pool, MIN "dnpass = b\n", &y, &error), 0);
	assert_false(ldap_conf_equal(&x, &y));
	pool_destroy(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_spec_file),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
