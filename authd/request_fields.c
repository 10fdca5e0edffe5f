#include "authd/request_fields.h"
#include "authd/auth.h"
#include "authd/log.h"
#include "authd/request.h"
#include "authd/worker_process.h"
#include "common/base64.h"
#include "common/pool.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD_KEY_MAX 128u

/* --- allow_nets --- */

static bool net_match_one(const char *net, size_t len, const char *ip)
{
	char buf[INET6_ADDRSTRLEN + 8];
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, net, len);
	buf[len] = '\0';
	unsigned long bits = 0;
	char *slash = strchr(buf, '/');
	if (slash != NULL) {
		char *end;
		*slash = '\0';
		bits = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || slash[1] == '\0')
			return false;
	}
	unsigned char a[16], b[16];
	int fam = strchr(buf, ':') != NULL ? AF_INET6 : AF_INET;
	size_t alen = fam == AF_INET6 ? 16 : 4;
	if (inet_pton(fam, buf, a) != 1 || inet_pton(fam, ip, b) != 1)
		return false;
	if (slash == NULL)
		bits = alen * 8;
	if (bits > alen * 8)
		return false;
	for (size_t i = 0; i < alen && bits > 0; i++) {
		unsigned int n = bits >= 8 ? 8 : (unsigned int)bits;
		unsigned char mask = (unsigned char)(0xff << (8 - n));
		if ((a[i] & mask) != (b[i] & mask))
			return false;
		bits -= n;
	}
	return true;
}

bool auth_request_net_allowed(const char *list, const char *ip)
{
	for (const char *p = list; *p != '\0';) {
		p += strspn(p, " ,");
		size_t n = strcspn(p, " ,");
		if (n == 0)
			break;
		if (n == 5 && strncmp(p, "local", 5) == 0) {
			if (ip == NULL)
				return true;
		} else if (ip != NULL && net_match_one(p, n, ip)) {
			return true;
		}
		p += n;
	}
	return false;
}

static void auth_request_check_nets(struct auth_request *req, const char *list, bool real)
{
	const char *ip = real && req->real_rip != NULL ? req->real_rip : req->rip;
	const char *name = req->passdb != NULL ? req->passdb->driver->name : NULL;
	if (auth_request_net_allowed(list, ip))
		return;
	if (ip == NULL)
		auth_request_log(req, LOG_LEVEL_INFO, name,
				 "%s check failed: Remote IP not known and 'local' missing",
				 real ? "allow_real_nets" : "allow_nets");
	else
		auth_request_log(req, LOG_LEVEL_INFO, name,
				 "%s check failed: IP not in allowed networks",
				 real ? "allow_real_nets" : "allow_nets");
	req->failed = true;
}

/* --- renames --- */

static void auth_request_rename(struct auth_request *req, const char *key, const char *value)
{
	const char *user = req->user;
	const char *at = strchr(user, '@');
	const char *newname = value;
	if (strcmp(key, "username") == 0 && at != NULL)
		newname = pool_printf(req->pool, "%s%s", value, at);
	else if (strcmp(key, "domain") == 0)
		newname = pool_printf(req->pool, "%.*s@%s",
				      (int)(at != NULL ? (size_t)(at - user) : strlen(user)), user, value);
	if (strcmp(newname, req->user) != 0)
		req->user = pool_strdup(req->pool, newname);
}

/* Handles "key:protected" (set only if unset) and "key:remove". Returns
 * true if the field was consumed. */
static bool auth_request_field_suffix(struct fields *f, const char *key, const char *value)
{
	const char *colon = strrchr(key, ':');
	if (colon == NULL)
		return false;
	char base[FIELD_KEY_MAX];
	size_t n = (size_t)(colon - key);
	if (n >= sizeof(base))
		return true;
	memcpy(base, key, n);
	base[n] = '\0';
	if (strcmp(colon + 1, "protected") == 0) {
		if (!fields_has(f, base))
			fields_set(f, base, value);
		return true;
	}
	if (strcmp(colon + 1, "remove") == 0) {
		fields_remove(f, base);
		return true;
	}
	return false;
}

void auth_request_set_passdb_field(struct auth_request *req, const char *key, const char *value)
{
	if (req->worker_capture != NULL) {
		worker_capture_field(req, false, key, value);
		return;
	}
	if (strncmp(key, "userdb_", 7) == 0) {
		auth_request_set_userdb_field(req, key + 7, value);
		req->userdb_prefetched = true;
		return;
	}
	if (strcmp(key, "user") == 0 || strcmp(key, "username") == 0 || strcmp(key, "domain") == 0) {
		if (value != NULL && *value != '\0')
			auth_request_rename(req, key, value);
	} else if (strcmp(key, "nopassword") == 0) {
		req->nopassword = true;
	} else if (strcmp(key, "noauthenticate") == 0) {
		req->noauthenticate = true;
	} else if (strcmp(key, "fail") == 0) {
		req->failed = true;
	} else if (strcmp(key, "allow_nets") == 0 || strcmp(key, "allow_real_nets") == 0) {
		auth_request_check_nets(req, value != NULL ? value : "", key[6] == 'r');
	} else if (strcmp(key, "password") == 0 || strcmp(key, "password_noscheme") == 0) {
		/* The stored password travels through auth_request_passdb_done(). */
	} else if (!auth_request_field_suffix(&req->extra, key, value)) {
		fields_set(&req->extra, key, value);
	}
}

void auth_request_set_userdb_field(struct auth_request *req, const char *key, const char *value)
{
	if (req->worker_capture != NULL) {
		worker_capture_field(req, true, key, value);
		return;
	}
	if (auth_request_field_suffix(&req->userdb_fields, key, value))
		return;
	fields_set(&req->userdb_fields, key, value);
}

typedef void field_setter_fn(struct auth_request *req, const char *key, const char *value);

static void auth_request_apply_templates(struct auth_request *req, const char *templates,
					 field_setter_fn *set)
{
	if (templates == NULL)
		return;
	for (const char *p = templates; *p != '\0';) {
		p += strspn(p, " ");
		size_t n = strcspn(p, " ");
		if (n == 0)
			break;
		const char *item = pool_strndup(req->pool, p, n);
		p += n;
		const char *eq = strchr(item, '=');
		if (eq == NULL) {
			set(req, item, NULL);
			continue;
		}
		const char *key = pool_strndup(req->pool, item, (size_t)(eq - item));
		const char *value = auth_request_expand(req, NULL, eq + 1);
		if (value != NULL)
			set(req, key, *value == '\0' ? NULL : value);
	}
}

void auth_request_apply_passdb_templates(struct auth_request *req, const char *templates)
{
	auth_request_apply_templates(req, templates, auth_request_set_passdb_field);
}

void auth_request_apply_userdb_templates(struct auth_request *req, const char *templates)
{
	auth_request_apply_templates(req, templates, auth_request_set_userdb_field);
}

/* --- password mismatch logging --- */

static const char *auth_request_password_sha1(struct auth_request *req, unsigned int trunc)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct buf hex = BUF_INIT(256);
	EVP_Digest(req->mreq.password, req->mreq.password_len, md, &mdlen, EVP_sha1(), NULL);
	hex_encode(&hex, md, mdlen);
	size_t len = trunc > 0 && trunc < hex.len ? trunc : hex.len;
	const char *ret = pool_strndup(req->pool, hex.data, len);
	buf_free(&hex);
	return ret;
}

void auth_request_log_mismatch(struct auth_request *req, const char *db_name)
{
	const char *mode = req->auth->set->auth_verbose_passwords;
	if (mode == NULL || strcmp(mode, "no") == 0 || req->mreq.password == NULL) {
		auth_request_log(req, LOG_LEVEL_INFO, db_name, "Password mismatch");
	} else if (strcmp(mode, "plain") == 0 || strcmp(mode, "yes") == 0) {
		auth_request_log(req, LOG_LEVEL_INFO, db_name, "Password mismatch (given password: %.*s)",
				 (int)req->mreq.password_len, (const char *)req->mreq.password);
	} else if (strncmp(mode, "sha1", 4) == 0) {
		unsigned int trunc = mode[4] == ':' ? (unsigned int)strtoul(mode + 5, NULL, 10) : 0;
		auth_request_log(req, LOG_LEVEL_INFO, db_name,
				 "Password mismatch (SHA1 of given password: %s)",
				 auth_request_password_sha1(req, trunc));
	}
}
