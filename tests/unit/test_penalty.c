/* test_penalty: the auth penalty table (authd/penalty.h): address keys
 * (IPv4, IPv6 /48, unparsable = shared bucket), escalation and its cap,
 * the same wrong password not escalating, success clearing, expiry. */
#include "authd/penalty.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

struct addr_case {
	const char *name;
	const char *ip;
	bool want_ok;
	const char *same_as;   /* another address with the same key, or NULL */
	const char *differs;   /* another address with a different key, or NULL */
};

static void test_addr_parse(void **state)
{
	static const struct addr_case cases[] = {
		{ .name = "ipv4", .ip = "192.0.2.1", .want_ok = true, .same_as = "192.0.2.1",
		  .differs = "192.0.2.2" },
		{ .name = "ipv6 /48", .ip = "2001:db8:1::1", .want_ok = true,
		  .same_as = "2001:db8:1:ffff::7", .differs = "2001:db8:2::1" },
		{ .name = "exim lip=NULL", .ip = "NULL", .want_ok = false, .same_as = "" },
		{ .name = "empty", .ip = "", .want_ok = false, .same_as = "junk" },
		{ .name = "trailing dot", .ip = "192.0.2.1.", .want_ok = false },
		{ .name = "ipv4 vs shared", .ip = "0.0.0.0", .want_ok = true, .differs = "" },
	};
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		const struct addr_case *c = &cases[i];
		struct penalty_addr a, b;
		memset(&a, 0xaa, sizeof(a));
		bool got = penalty_addr_parse(c->ip, &a);
		if (got != c->want_ok) {
			print_error("%s: got %d, want %d\n", c->name, got, c->want_ok);
			ok = false;
		}
		if (c->same_as != NULL) {
			penalty_addr_parse(c->same_as, &b);
			if (memcmp(&a, &b, sizeof(a)) != 0) {
				print_error("%s: key differs from %s's\n", c->name, c->same_as);
				ok = false;
			}
		}
		if (c->differs != NULL) {
			penalty_addr_parse(c->differs, &b);
			if (memcmp(&a, &b, sizeof(a)) == 0) {
				print_error("%s: key equals %s's\n", c->name, c->differs);
				ok = false;
			}
		}
	}
	struct penalty_addr none, shared;
	assert_false(penalty_addr_parse(NULL, &none));
	assert_false(penalty_addr_parse("not an address", &shared));
	assert_memory_equal(&none, &shared, sizeof(none));
	assert_true(ok);
}

static void test_escalation(void **state)
{
	(void)state;
	struct penalty *p = penalty_create(2);   /* cap: 9 s - 2 s = 7 s */
	assert_non_null(p);
	struct penalty_addr a, other;
	penalty_addr_parse("192.0.2.1", &a);
	penalty_addr_parse("192.0.2.2", &other);
	uint64_t now = 1000000;

	assert_int_equal(penalty_delay_ms(p, &a, now), 0);
	penalty_success(p, &a);   /* on an empty table: nothing to clear */
	penalty_failure(p, &a, 1, now);
	assert_int_equal(penalty_delay_ms(p, &a, now), 4000);       /* 2 s * 2^1 */
	assert_int_equal(penalty_delay_ms(p, &a, now + 1500), 2500);
	assert_int_equal(penalty_delay_ms(p, &other, now), 0);
	/* The same user+password again does not escalate. */
	penalty_failure(p, &a, 1, now);
	assert_int_equal(penalty_delay_ms(p, &a, now), 4000);
	penalty_failure(p, &a, 2, now);
	assert_int_equal(penalty_delay_ms(p, &a, now), 7000);       /* 8 s capped to 7 s */
	for (uint64_t sum = 3; sum < 10; sum++)
		penalty_failure(p, &a, sum, now);
	assert_int_equal(penalty_delay_ms(p, &a, now), 7000);
	assert_int_equal(penalty_delay_ms(p, &a, now + 7000), 0);
	penalty_success(p, &a);
	assert_int_equal(penalty_delay_ms(p, &a, now), 0);
	penalty_destroy(&p);
	assert_null(p);
}

static void test_expiry(void **state)
{
	(void)state;
	struct penalty *p = penalty_create(0);
	struct penalty_addr a, b;
	penalty_addr_parse("198.51.100.7", &a);
	penalty_addr_parse("198.51.100.8", &b);
	penalty_failure(p, &a, 1, 0);
	/* A failure elsewhere an hour later trims the expired entry: a's next
	 * failure starts from penalty 1 again. */
	penalty_failure(p, &b, 1, PENALTY_EXPIRE_SECS * 1000u);
	penalty_failure(p, &a, 2, PENALTY_EXPIRE_SECS * 1000u);
	assert_int_equal(penalty_delay_ms(p, &a, PENALTY_EXPIRE_SECS * 1000u), 4000);
	penalty_destroy(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_escalation),
		cmocka_unit_test(test_expiry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
