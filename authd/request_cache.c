#include "authd/request_cache.h"
#include "authd/auth.h"
#include "authd/cache.h"
#include "authd/log.h"
#include "authd/request.h"
#include "common/pool.h"
#include "common/tabescape.h"

#include <string.h>

static bool request_cache_key(const struct auth_request *req, struct auth_cache_key *key)
{
	if (req->auth->cache == NULL || req->passdb == NULL || req->user == NULL ||
	    req->mreq.password == NULL)
		return false;
	*key = (struct auth_cache_key){
		.passdb_id = req->passdb->id,
		.user = (const uint8_t *)req->user,
		.user_len = strlen(req->user),
		.service = (const uint8_t *)(req->service != NULL ? req->service : ""),
		.service_len = req->service != NULL ? strlen(req->service) : 0,
	};
	return true;
}

bool auth_request_cache_stored_hit(struct auth_request *req, const char *stored)
{
	struct auth_cache_key key;
	struct auth_cache_hit hit;
	if (!request_cache_key(req, &key))
		return false;
	struct auth_cache_state state = { .stored = (const uint8_t *)stored,
					  .stored_len = strlen(stored) };
	bool ok = auth_cache_lookup(req->auth->cache, &key, &state, req->mreq.password,
				    req->mreq.password_len, false, event_now_ms(req->auth->loop),
				    &hit) == AUTH_CACHE_HIT_OK;
	auth_request_log(req, LOG_LEVEL_DEBUG, req->passdb->driver->name,
			 ok ? "cache hit" : "cache miss");
	return ok;
}

void auth_request_cache_stored_success(struct auth_request *req, const char *stored)
{
	struct auth_cache_key key;
	if (!request_cache_key(req, &key))
		return;
	struct auth_cache_state state = { .stored = (const uint8_t *)stored,
					  .stored_len = strlen(stored) };
	(void)auth_cache_insert_found(req->auth->cache, &key, &state, req->mreq.password,
				      req->mreq.password_len, NULL, 0,
				      event_now_ms(req->auth->loop));
}

/* Extra fields as "key[\tvalue]\n" lines, tab-escaped. */
static void request_cache_fields_encode(const struct auth_request *req, struct buf *out)
{
	for (size_t i = 0; i < req->extra.count; i++) {
		const struct field *f = &req->extra.items[i];
		tab_escape_str(out, f->key);
		if (f->value != NULL) {
			buf_append_byte(out, '\t');
			tab_escape_str(out, f->value);
		}
		buf_append_byte(out, '\n');
	}
}

static void request_cache_fields_decode(struct auth_request *req, const uint8_t *p, size_t len)
{
	while (len > 0) {
		const uint8_t *nl = memchr(p, '\n', len);
		size_t n = nl != NULL ? (size_t)(nl - p) : len;
		uint8_t *line = (uint8_t *)pool_strndup(req->pool, p, n);
		uint8_t *tab = memchr(line, '\t', n);
		size_t klen = tab != NULL ? (size_t)(tab - line) : n;
		line[tab_unescape_inplace(line, klen)] = '\0';
		const char *value = NULL;
		if (tab != NULL) {
			size_t vlen = tab_unescape_inplace(tab + 1, n - klen - 1);
			value = pool_strndup(req->pool, tab + 1, vlen);
		}
		auth_request_set_passdb_field(req, (const char *)line, value);
		p += n + (nl != NULL);
		len -= n + (nl != NULL);
	}
}

/* The typed password against the cache, without the stored password
 * (verifying passdbs; fallbacks). MISS when the cache is off or the
 * request has no key. */
static enum auth_cache_result request_cache_lookup_typed(struct auth_request *req,
							bool allow_expired,
							struct auth_cache_hit *hit_r)
{
	struct auth_cache_key key;
	if (!request_cache_key(req, &key))
		return AUTH_CACHE_MISS;
	struct auth_cache_state state = { 0 };
	return auth_cache_lookup(req->auth->cache, &key, &state, req->mreq.password,
				 req->mreq.password_len, allow_expired,
				 event_now_ms(req->auth->loop), hit_r);
}

bool auth_request_cache_verify_hit(struct auth_request *req, enum passdb_result *result_r)
{
	struct auth_cache_hit hit;
	switch (request_cache_lookup_typed(req, false, &hit)) {
	case AUTH_CACHE_HIT_OK:
		auth_request_log(req, LOG_LEVEL_DEBUG, req->passdb->driver->name, "cache hit");
		request_cache_fields_decode(req, hit.fields, hit.fields_len);
		*result_r = PASSDB_RESULT_OK;
		return true;
	case AUTH_CACHE_HIT_UNKNOWN:
		auth_request_log(req, LOG_LEVEL_DEBUG, req->passdb->driver->name,
				 "cache hit (user unknown)");
		*result_r = PASSDB_RESULT_USER_UNKNOWN;
		return true;
	default:
		return false;
	}
}

bool auth_request_cache_fallback(struct auth_request *req)
{
	struct auth_cache_hit hit;
	if (request_cache_lookup_typed(req, true, &hit) != AUTH_CACHE_HIT_OK)
		return false;
	auth_request_log(req, LOG_LEVEL_INFO, req->passdb->driver->name,
			 "Falling back to the %scached success after an internal failure",
			 hit.expired ? "expired " : "");
	request_cache_fields_decode(req, hit.fields, hit.fields_len);
	req->cache_hit = true;
	return true;
}

void auth_request_cache_verify_result(struct auth_request *req, enum passdb_result result)
{
	struct auth_cache_key key;
	if (!request_cache_key(req, &key))
		return;
	struct auth_cache_state state = { 0 };
	uint64_t now = event_now_ms(req->auth->loop);
	if (result == PASSDB_RESULT_USER_UNKNOWN) {
		(void)auth_cache_insert_unknown(req->auth->cache, &key, &state, now);
	} else if (result == PASSDB_RESULT_OK && !req->failed) {
		struct buf fields = BUF_INIT(AUTH_CACHE_FIELDS_MAX);
		request_cache_fields_encode(req, &fields);
		(void)auth_cache_insert_found(req->auth->cache, &key, &state, req->mreq.password,
					      req->mreq.password_len, fields.data, fields.len, now);
		buf_free(&fields);
	}
}
