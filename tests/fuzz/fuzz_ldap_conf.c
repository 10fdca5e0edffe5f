/* fuzz_ldap_conf: the dovecot-ldap.conf.ext parser (passdb/db_ldap_conf.h)
 * on arbitrary bytes, !include refused. Checks: the return convention
 * (0 with every required setting present, or -1 with an error text), and
 * that a parsed config compares equal to itself. */
#include "common/pool.h"
#include "passdb/db_ldap_conf.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_LDAP_CONF_MAX (256u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_LDAP_CONF_MAX)
		return 0;
	struct pool *pool = pool_create(0);
	struct ldap_conf conf;
	const char *error = NULL;
	int ret = ldap_conf_parse(pool, "fuzz.conf", data, size, false, NULL, NULL, &conf, &error);
	if (ret == 0) {
		if (conf.base == NULL || conf.uri_count == 0 || conf.uri_count > LDAP_CONF_URIS_MAX ||
		    !ldap_conf_equal(&conf, &conf))
			abort();
	} else if (ret != -1 || error == NULL) {
		abort();
	}
	pool_destroy(&pool);
	return 0;
}
