/* test_ldap_attrs: attribute mapping and templates (spec B.3): item forms,
 * the search attribute list, the spec's carol example, multi-value rules,
 * %{ldap:...}, %{ldap_dn}, !attr, missing attributes, iteration. */
#include "common/pool.h"
#include "passdb/db_ldap_attrs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char *const carol_mail[] = { "carol@example.com", "c.example@example.com" };
static const char *const carol_home[] = { "/var/vmail/example.com/carol" };
static const char *const carol_uid[] = { "2003" };
static const char *const carol_gid[] = { "2000", "2100" };
static const char *const carol_host[] = { "imap2.example.com" };
static const char *const carol_cn[] = { "Carol Example" };
static const char *const carol_uidattr[] = { "carol", "carol2" };
static const struct ldap_entry_attr carol_attrs[] = {
	{ "homeDirectory", carol_home, 1 }, { "UIDNUMBER", carol_uid, 1 },
	{ "gidNumber", carol_gid, 2 }, { "mailHost", carol_host, 1 },
	{ "mail", carol_mail, 2 }, { "cn", carol_cn, 1 }, { "uid", carol_uidattr, 2 },
};
static const struct ldap_entry carol = {
	.dn = "uid=carol,ou=people,dc=example,dc=com", .attrs = carol_attrs,
	.count = N_ELEMS(carol_attrs),
};

struct collect {
	char out[4096];
	char log[2048];
};

static void collect_field(void *ctx, const char *name, const char *value)
{
	struct collect *c = ctx;
	size_t n = strlen(c->out);
	snprintf(c->out + n, sizeof(c->out) - n, "%s%s=%s", n > 0 ? "|" : "", name,
		 value != NULL ? value : "(null)");
}

static void collect_log(void *ctx, bool error, const char *msg)
{
	struct collect *c = ctx;
	size_t n = strlen(c->log);
	snprintf(c->log + n, sizeof(c->log) - n, "%s%s%s", n > 0 ? "|" : "", error ? "E:" : "",
		 msg);
}

static void fake_vars(void *ctx, struct var_entry *vars, size_t max, struct var_expand_ctx *vctx)
{
	(void)ctx;
	assert_true(max >= 2);
	vars[0] = (struct var_entry){ .key = 'u', .long_key = "user", .value = "carol@x" };
	vars[1] = (struct var_entry){ .key = 'n', .long_key = "username", .value = "carol" };
	*vctx = (struct var_expand_ctx){ .table = vars, .count = 2 };
}

static const struct {
	const char *name, *list, *skip;
	bool userdb;
	const char *want_fields, *want_log, *want_attrs;
} cases[] = {
	{ .name = "spec user_attrs (carol)",
	  .list = "homeDirectory=home, uidNumber=uid, gidNumber=gid, "
		  "=mail=maildir:%{ldap:homeDirectory}/Maildir, "
		  "=quota_rule=*:storage=%{ldap:description:512M}, "
		  "mailHost=proxy_host, mail=mail_address, cn=gecos_copy=Name: %$",
	  .userdb = true,
	  .want_fields = "home=/var/vmail/example.com/carol|uid=2003|gid=2000,2100|"
			 "mail=maildir:/var/vmail/example.com/carol/Maildir|"
			 "quota_rule=*:storage=512M|proxy_host=imap2.example.com|"
			 "mail_address=carol@example.com|gecos_copy=Name: Carol Example",
	  .want_log = "Multiple values found for 'mail_address', using value 'carol@example.com'",
	  .want_attrs = "homeDirectory,uidNumber,gidNumber,description,mailHost,mail,cn" },
	{ .name = "passdb gid first value", .list = "gidNumber=userdb_gid", .userdb = false,
	  .want_fields = "userdb_gid=2000",
	  .want_log = "Multiple values found for 'userdb_gid', using value '2000'",
	  .want_attrs = "gidNumber" },
	{ .name = "bare attribute and missing one", .list = "cn, description", .userdb = false,
	  .want_fields = "cn=Carol Example|description=(null)", .want_log = "",
	  .want_attrs = "cn,description" },
	{ .name = "prefix template without %", .list = "homeDirectory=home=/srv",
	  .want_fields = "home=/srv/var/vmail/example.com/carol", .want_log = "",
	  .want_attrs = "homeDirectory" },
	{ .name = "template on missing attribute", .list = "description=x=a%$b",
	  .want_fields = "", .want_log = "", .want_attrs = "description" },
	{ .name = "!attr, ldap_dn, request vars, variable field name",
	  .list = "!mailHost, =host=%{ldap:mailHost}, =dn=%{ldap_dn}, =who=%u/%n, =f_%n=1",
	  .want_fields = "host=imap2.example.com|dn=uid=carol,ou=people,dc=example,dc=com|"
			 "who=carol@x/carol|f_carol=1",
	  .want_log = "", .want_attrs = "mailHost" },
	{ .name = "auth_bind drops password", .list = "uid=user, userPassword=password",
	  .skip = "password", .want_fields = "user=carol",
	  .want_log = "Multiple values found for 'user', using value 'carol'",
	  .want_attrs = "uid" },
	{ .name = "static empty", .list = "=nopassword=", .want_fields = "nopassword=",
	  .want_log = "", .want_attrs = "" },
	{ .name = "case-insensitive names, duplicates once", .list = "uidnumber=a, UidNumber=b",
	  .want_fields = "a=2003|b=2003", .want_log = "", .want_attrs = "uidnumber" },
	{ .name = "unknown variable", .list = "=x=%{nosuch}", .want_fields = "",
	  .want_log = "E:Failed to expand template '%{nosuch}'", .want_attrs = "" },
};

static void test_apply(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct pool *pool = pool_create(0);
		struct ldap_attr_map map;
		const char *error = NULL;
		if (ldap_attr_map_parse(pool, cases[i].list, cases[i].skip, &map, &error) < 0)
			fail_msg("%s: parse error %s", cases[i].name, error);
		char attrs[512] = "";
		for (size_t a = 0; map.attr_names[a] != NULL; a++)
			snprintf(attrs + strlen(attrs), sizeof(attrs) - strlen(attrs), "%s%s",
				 a > 0 ? "," : "", map.attr_names[a]);
		if (strcmp(attrs, cases[i].want_attrs) != 0)
			fail_msg("%s: attrs got [%s], want [%s]", cases[i].name, attrs,
				 cases[i].want_attrs);
		struct collect c = { "", "" };
		struct ldap_attr_apply a = {
			.userdb = cases[i].userdb, .vars = fake_vars, .field = collect_field,
			.log = collect_log, .ctx = &c, .vars_ctx = &c,
		};
		ldap_attr_map_apply(&map, &carol, &a);
		if (strcmp(c.out, cases[i].want_fields) != 0)
			fail_msg("%s: fields got\n[%s]\nwant\n[%s]", cases[i].name, c.out,
				 cases[i].want_fields);
		if (strncmp(c.log, cases[i].want_log, strlen(cases[i].want_log)) != 0 ||
		    (*cases[i].want_log == '\0' && *c.log != '\0'))
			fail_msg("%s: log got [%s], want [%s]", cases[i].name, c.log, cases[i].want_log);
		pool_destroy(&pool);
	}
}

static void test_parse_errors(void **state)
{
	(void)state;
	static const char *const bad[] = { "uid=", "=", "!", "a@b=c", "@x=uid=%u" };
	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		struct pool *pool = pool_create(0);
		struct ldap_attr_map map;
		const char *error = NULL;
		if (ldap_attr_map_parse(pool, bad[i], NULL, &map, &error) != -1)
			fail_msg("%s: got success, want an error", bad[i]);
		assert_non_null(strstr(error, "Invalid attrs entry"));
		pool_destroy(&pool);
	}
}

static void test_iterate(void **state)
{
	(void)state;
	struct pool *pool = pool_create(0);
	struct ldap_attr_map map;
	const char *error = NULL;
	assert_int_equal(ldap_attr_map_parse(pool, "uid=user, cn=other", NULL, &map, &error), 0);
	struct collect c = { "", "" };
	struct ldap_attr_apply a = { .field = collect_field, .log = collect_log, .ctx = &c,
				     .vars_ctx = &c };
	ldap_attr_map_iterate(&map, &carol, &a);
	assert_string_equal(c.out, "user=carol|user=carol2");
	assert_string_equal(c.log, "iterate: Ignoring field not named 'user': other");
	pool_destroy(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_iterate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
