/* request_params: the parameters of AUTH, USER and PASS lines
 * (spec section 2.4 / 3, "name=value" or a bare word) applied to a
 * request. Names are matched on (ptr, len) against one table; only values
 * that are kept are copied into the request's pool. Unknown names are
 * ignored, as Dovecot does. */
#include "authd/request.h"
#include "common/pool.h"

#include <arpa/inet.h>
#include <string.h>

#define PARAM_IP_TEXT_MAX 64u   /* longer text cannot be an IPv4/IPv6 address */

enum param_kind {
	PARAM_STRING,     /* const char * member */
	PARAM_ADDRESS,    /* const char * member, kept only when it parses as an IP */
	PARAM_FLAG,       /* bool member set by the bare word */
	PARAM_SECURED,    /* "secured" or "secured=tls" */
};

struct param_def {
	const char *name;
	size_t len;
	enum param_kind kind;
	size_t offset;
};

#define STR(n, member) { n, sizeof(n) - 1, PARAM_STRING, offsetof(struct auth_request, member) }
#define ADDR(n, member) { n, sizeof(n) - 1, PARAM_ADDRESS, offsetof(struct auth_request, member) }
#define FLAG(n, member) { n, sizeof(n) - 1, PARAM_FLAG, offsetof(struct auth_request, member) }

static const struct param_def param_defs[] = {
	STR("service", service),
	STR("protocol", service),   /* Dovecot 2.4's name */
	ADDR("lip", lip),
	ADDR("rip", rip),
	STR("lport", lport),
	STR("rport", rport),
	ADDR("real_lip", real_lip),
	ADDR("real_rip", real_rip),
	STR("real_lport", real_lport),
	STR("real_rport", real_rport),
	STR("local_name", local_name),
	STR("session", session),
	STR("client_id", client_id),
	STR("cert_username", cert_username),
	{ "secured", 7, PARAM_SECURED, 0 },
	FLAG("valid-client-cert", valid_client_cert),
	FLAG("no-penalty", no_penalty),
	FLAG("final-resp-ok", final_resp_ok),
	FLAG("debug", debug),
	FLAG("nologin", client_nologin),
};

static const struct param_def *param_find(const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < sizeof(param_defs) / sizeof(param_defs[0]); i++) {
		const struct param_def *d = &param_defs[i];
		if (d->len == len && memcmp(d->name, name, len) == 0)
			return d;
	}
	return NULL;
}

/* Whether value is an IPv4/IPv6 address; the one for rip= also becomes
 * the penalty key, so the address is parsed once per request. */
static bool param_address(struct auth_request *req, const struct param_def *d,
			  const uint8_t *value, size_t len)
{
	char text[PARAM_IP_TEXT_MAX];
	if (len >= sizeof(text))
		return false;
	memcpy(text, value, len);
	text[len] = '\0';
	if (d->offset == offsetof(struct auth_request, rip)) {
		struct penalty_addr addr;
		if (!penalty_addr_parse(text, &addr))
			return false;
		req->rip_addr = addr;
		return true;
	}
	unsigned char tmp[16];
	return inet_pton(AF_INET, text, tmp) == 1 || inet_pton(AF_INET6, text, tmp) == 1;
}

/* Applies one parameter. Returns its definition, or NULL when it was
 * ignored (unknown name - "resp" too, which the AUTH parser takes -, a
 * value that cannot be a C string, an unparsable address). */
static const struct param_def *param_apply(struct auth_request *req, const uint8_t *name,
					   size_t name_len, const uint8_t *value, size_t value_len)
{
	const struct param_def *d = param_find(name, name_len);
	if (d == NULL || memchr(value, '\0', value_len) != NULL)
		return NULL;
	char *base = (char *)req;
	switch (d->kind) {
	case PARAM_ADDRESS:
		/* Unparsable addresses are ignored (Exim sends lip=NULL). */
		if (!param_address(req, d, value, value_len))
			return NULL;
		/* fall through */
	case PARAM_STRING:
		*(const char **)(base + d->offset) = pool_strndup(req->pool, value, value_len);
		break;
	case PARAM_FLAG:
		*(bool *)(base + d->offset) = true;
		break;
	case PARAM_SECURED:
		req->secured = value_len == 3 && memcmp(value, "tls", 3) == 0 ? "tls" : "";
		break;
	}
	return d;
}

void auth_request_set_param_n(struct auth_request *req, const uint8_t *name, size_t name_len,
			      const uint8_t *value, size_t value_len)
{
	(void)param_apply(req, name, name_len, value, value_len);
}

void auth_request_set_param(struct auth_request *req, const char *name, const char *value)
{
	auth_request_set_param_n(req, (const uint8_t *)name, strlen(name),
				 (const uint8_t *)value, strlen(value));
}

bool auth_request_set_param_fields(struct auth_request *req, uint8_t *const *f,
				   const size_t *l, size_t from, size_t n)
{
	bool service = false;
	for (size_t i = from; i < n; i++) {
		const uint8_t *eq = memchr(f[i], '=', l[i]);
		size_t name_len = eq != NULL ? (size_t)(eq - f[i]) : l[i];
		const uint8_t *value = eq != NULL ? eq + 1 : f[i] + l[i];
		const struct param_def *d = param_apply(req, f[i], name_len, value,
							l[i] - (size_t)(value - f[i]));
		if (d != NULL && d->kind == PARAM_STRING &&
		    d->offset == offsetof(struct auth_request, service))
			service = true;
	}
	return service;
}
