/* fuzz_worker_proto: worker_msg_decode() on arbitrary bytes (what a worker,
 * the auth process or the root parent may receive). Checks: a decoded
 * message encodes again, and that encoding decodes to the same message
 * (strings, numbers, password bytes, fields in order); a refused message
 * always comes with an error text. */
#include "authd/worker_proto.h"
#include "common/buf.h"
#include "common/pool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_str_cmp(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b ? 0 : 1;
	return strcmp(a, b);
}

static void fuzz_compare(const struct worker_msg *a, const struct worker_msg *b)
{
	if (a->type != b->type || a->seq != b->seq || a->pid != b->pid || a->result != b->result ||
	    a->flags != b->flags || a->db_id != b->db_id || a->timeout_ms != b->timeout_ms ||
	    a->has_seq != b->has_seq || a->has_pid != b->has_pid || a->has_result != b->has_result ||
	    a->has_flags != b->has_flags || a->has_db_id != b->has_db_id ||
	    a->has_timeout_ms != b->has_timeout_ms)
		abort();
	const char *const sa[] = { a->driver, a->args, a->user, a->original_user, a->master_user,
				   a->mech, a->scheme };
	const char *const sb[] = { b->driver, b->args, b->user, b->original_user, b->master_user,
				   b->mech, b->scheme };
	for (size_t i = 0; i < sizeof(sa) / sizeof(sa[0]); i++)
		if (fuzz_str_cmp(sa[i], sb[i]) != 0)
			abort();
	if ((a->password == NULL) != (b->password == NULL) || a->password_len != b->password_len ||
	    (a->password != NULL && memcmp(a->password, b->password, a->password_len) != 0))
		abort();
	if (a->field_count != b->field_count)
		abort();
	for (size_t i = 0; i < a->field_count; i++)
		if (a->fields[i].tag != b->fields[i].tag ||
		    fuzz_str_cmp(a->fields[i].key, b->fields[i].key) != 0 ||
		    fuzz_str_cmp(a->fields[i].value, b->fields[i].value) != 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pool *pool = pool_create(0);
	struct worker_msg msg, again;
	const char *error = NULL;
	if (worker_msg_decode(data, size, pool, &msg, &error) < 0) {
		if (error == NULL)
			abort();
		pool_destroy(&pool);
		return 0;
	}
	struct buf out = BUF_INIT(WORKER_MSG_MAX);
	if (worker_msg_encode(&msg, &out, &error) < 0 || out.len > WORKER_MSG_MAX)
		abort();
	if (worker_msg_decode(out.data, out.len, pool, &again, &error) < 0)
		abort();
	fuzz_compare(&msg, &again);
	(void)worker_msg_type_name(msg.type);
	buf_free(&out);
	pool_destroy(&pool);
	return 0;
}
