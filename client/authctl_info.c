/* authctl_info: the -x "auth info" arguments of authctl's auth and user
 * commands, parsed and sent exactly as doveadm 2.3.19 does (the orders
 * below were captured from doveadm against a listening socket). */
#include "client/authctl.h"

#include "common/buf.h"
#include "common/pool.h"
#include "common/strnum.h"
#include "common/tabescape.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Parameters one request can carry: the fixed ones plus -x extras. */
#define INFO_FIXED_PARAMS 16u

void authctl_info_init(struct authctl_info *info, const struct authctl_ctx *ctx)
{
	memset(info, 0, sizeof(*info));
	info->service = "doveadm";
	info->debug = ctx->debug;
}

/* Dovecot's net_addr2ip() + net_ip2addr(): IPv4 as inet_aton() reads it,
 * IPv6 (optionally in brackets) as inet_pton(); NULL if invalid. */
static const char *ip_canonical(struct pool *pool, const char *text)
{
	char out[INET6_ADDRSTRLEN];
	size_t len = strlen(text);

	if (strchr(text, ':') != NULL) {
		struct in6_addr a6;
		char *inner = pool_strndup(pool, text, len);
		if (len >= 2 && inner[0] == '[' && inner[len - 1] == ']') {
			inner[len - 1] = '\0';
			inner++;
		}
		if (inet_pton(AF_INET6, inner, &a6) != 1 ||
		    inet_ntop(AF_INET6, &a6, out, sizeof(out)) == NULL)
			return NULL;
		return pool_strdup(pool, out);
	}
	struct in_addr a4;
	if (inet_aton(text, &a4) == 0 || inet_ntop(AF_INET, &a4, out, sizeof(out)) == NULL)
		return NULL;
	return pool_strdup(pool, out);
}

/* Dovecot's net_str2port(): decimal 1..65535. */
static int port_parse(const char *text, unsigned int *port_r)
{
	uint32_t n;
	if (!str_to_uint32((const uint8_t *)text, strlen(text), &n) || n == 0 || n > 65535)
		return -1;
	*port_r = n;
	return 0;
}

/* "forward_KEY[=VALUE]": appends tab-escaped KEY=VALUE to the list. */
static int forward_add(struct authctl_info *info, struct pool *pool, const char *kv)
{
	struct buf b = BUF_INIT(0);
	const char *eq = strchr(kv, '=');
	size_t klen = eq != NULL ? (size_t)(eq - kv) : strlen(kv);

	int bad = (info->forward_fields != NULL &&
		   (buf_append_str(&b, info->forward_fields) < 0 ||
		    buf_append_byte(&b, '\t') < 0)) ||
		tab_escape(&b, (const uint8_t *)kv, klen) < 0 ||
		buf_append_byte(&b, '=') < 0 ||
		tab_escape_str(&b, eq != NULL ? eq + 1 : "") < 0;
	if (!bad)
		info->forward_fields = pool_strndup(pool, b.data, b.len);
	buf_free(&b);
	return bad ? -1 : 0;
}

static int extra_add(struct authctl_info *info, struct pool *pool, const char *arg)
{
	if (info->extra_count == info->extra_cap) {
		size_t cap = info->extra_cap == 0 ? 8 : info->extra_cap * 2;
		const char **n = pool_alloc(pool, cap * sizeof(*n));
		if (info->extra_count > 0)
			memcpy(n, info->extra, info->extra_count * sizeof(*n));
		info->extra = n;
		info->extra_cap = cap;
	}
	info->extra[info->extra_count++] = arg;
	return 0;
}

struct ip_arg {
	const char *prefix;          /* "lip=" */
	size_t off;                  /* offsetof the const char * member */
	const char *error;
};
struct port_arg {
	const char *prefix;
	size_t off;                  /* offsetof the unsigned int member */
	const char *error;
};

static const struct ip_arg ip_args[] = {
	{ "lip=", offsetof(struct authctl_info, lip), "lip: Invalid ip" },
	{ "rip=", offsetof(struct authctl_info, rip), "rip: Invalid ip" },
	{ "real_lip=", offsetof(struct authctl_info, real_lip), "real_lip: Invalid ip" },
	{ "real_rip=", offsetof(struct authctl_info, real_rip), "real_rip: Invalid ip" },
};
static const struct port_arg port_args[] = {
	{ "lport=", offsetof(struct authctl_info, lport), "lport: Invalid port number" },
	{ "rport=", offsetof(struct authctl_info, rport), "rport: Invalid port number" },
	{ "real_lport=", offsetof(struct authctl_info, real_lport),
	  "real_lport: Invalid port number" },
	{ "real_rport=", offsetof(struct authctl_info, real_rport),
	  "real_rport: Invalid port number" },
};

static const char *after_prefix(const char *arg, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(arg, prefix, n) == 0 ? arg + n : NULL;
}

/* lip= rip= ... lport= ...: 1 handled, 0 not an address argument, -1 bad. */
static int info_parse_address(struct authctl_info *info, struct pool *pool,
			      const char *arg, const char **error_r)
{
	const char *v;
	for (size_t i = 0; i < sizeof(ip_args) / sizeof(ip_args[0]); i++) {
		if ((v = after_prefix(arg, ip_args[i].prefix)) == NULL)
			continue;
		const char *ip = ip_canonical(pool, v);
		if (ip == NULL) {
			*error_r = ip_args[i].error;
			return -1;
		}
		*(const char **)((char *)info + ip_args[i].off) = ip;
		return 1;
	}
	for (size_t i = 0; i < sizeof(port_args) / sizeof(port_args[0]); i++) {
		if ((v = after_prefix(arg, port_args[i].prefix)) == NULL)
			continue;
		if (port_parse(v, (unsigned int *)((char *)info + port_args[i].off)) < 0) {
			*error_r = port_args[i].error;
			return -1;
		}
		return 1;
	}
	return 0;
}

int authctl_info_parse(struct authctl_info *info, struct pool *pool, const char *arg,
		       const char **error_r)
{
	const char *v;

	if ((v = after_prefix(arg, "service=")) != NULL)
		info->service = v;
	else if ((v = after_prefix(arg, "session=")) != NULL)
		info->session = v;
	else if ((v = after_prefix(arg, "local_name=")) != NULL)
		info->local_name = v;
	else {
		int r = info_parse_address(info, pool, arg, error_r);
		if (r != 0)
			return r < 0 ? -1 : 0;
		if ((v = after_prefix(arg, "forward_")) != NULL) {
			if (forward_add(info, pool, v) < 0) {
				*error_r = "forward field too long";
				return -1;
			}
			return 0;
		}
		return extra_add(info, pool, arg);
	}
	return 0;
}

struct params {
	const char **list;
	size_t count;
	struct pool *pool;
};

static void p_str(struct params *p, const char *key, const char *value)
{
	if (value != NULL)
		p->list[p->count++] = pool_printf(p->pool, "%s=%s", key, value);
}

static void p_port(struct params *p, const char *key, unsigned int port)
{
	if (port != 0)
		p->list[p->count++] = pool_printf(p->pool, "%s=%u", key, port);
}

static void p_word(struct params *p, bool set, const char *word)
{
	if (set)
		p->list[p->count++] = word;
}

/* lib-auth auth_client_request_new(): flags, session, addresses, ports,
 * real_*, local_name, forward_fields, then the extra fields. */
static void params_auth(struct params *p, const struct authctl_info *info)
{
	p_word(p, info->debug, "debug");
	p_str(p, "session", info->session);
	p_str(p, "lip", info->lip);
	p_str(p, "rip", info->rip);
	p_port(p, "lport", info->lport);
	p_port(p, "rport", info->rport);
	p_str(p, "real_lip", info->real_lip);
	p_str(p, "real_rip", info->real_rip);
	p_port(p, "real_lport", info->real_lport);
	p_port(p, "real_rport", info->real_rport);
	if (info->local_name != NULL && info->local_name[0] != '\0')
		p_str(p, "local_name", info->local_name);
	p_str(p, "forward_fields", info->forward_fields);
}

/* lib-auth auth_user_info_export(). */
static void params_master(struct params *p, const struct authctl_info *info)
{
	p_str(p, "session", info->session);
	p_str(p, "local_name", info->local_name);
	p_str(p, "lip", info->lip);
	p_port(p, "lport", info->lport);
	p_str(p, "rip", info->rip);
	p_port(p, "rport", info->rport);
	p_str(p, "real_rip", info->real_rip);
	p_str(p, "real_lip", info->real_lip);
	p_port(p, "real_lport", info->real_lport);
	p_port(p, "real_rport", info->real_rport);
	p_word(p, info->debug, "debug");
	p_str(p, "forward_fields", info->forward_fields);
}

/* mail_storage_service's lookup: only addresses, ports and debug. */
static void params_storage(struct params *p, const struct authctl_info *info)
{
	p_str(p, "lip", info->lip);
	p_port(p, "lport", info->lport);
	p_str(p, "rip", info->rip);
	p_port(p, "rport", info->rport);
	p_word(p, info->debug, "debug");
}

const char *const *authctl_info_params(const struct authctl_info *info,
				       struct pool *pool, enum authctl_params_kind kind)
{
	struct params p = { .pool = pool, .count = 0 };

	p.list = pool_alloc(pool, (INFO_FIXED_PARAMS + info->extra_count + 1) *
			    sizeof(*p.list));
	switch (kind) {
	case AUTHCTL_PARAMS_AUTH:
		params_auth(&p, info);
		break;
	case AUTHCTL_PARAMS_MASTER:
		params_master(&p, info);
		break;
	case AUTHCTL_PARAMS_STORAGE:
		params_storage(&p, info);
		break;
	}
	if (kind != AUTHCTL_PARAMS_STORAGE) {
		for (size_t i = 0; i < info->extra_count; i++)
			p.list[p.count++] = info->extra[i];
	}
	p.list[p.count] = NULL;
	return p.list;
}
