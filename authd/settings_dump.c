/* settings_dump: the effective settings as Dovecot-syntax text (`authd -a`
 * / `authd -n`), and settings_equal() to compare two loads. The text is
 * written so that loading it gives equal settings: values are quoted when
 * the parser would otherwise change them, and listener attributes that
 * were not written in the config are printed as comments (writing them
 * would make them explicit). */
#include "authd/settings_private.h"
#include "common/buf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SETTINGS_DUMP_MAX (4u * 1024u * 1024u)

static int def_format(const struct auth_settings *set, const struct setting_def *def,
		      struct buf *out)
{
	const void *field = (const char *)set + def->offset;
	switch (def->type) {
	case SETTING_STRING:
		return settings_format_value(out, *(const char *const *)field);
	case SETTING_BOOL:
		return buf_append_str(out, *(const bool *)field ? "yes" : "no");
	case SETTING_UINT:
		return buf_printf(out, "%u", *(const unsigned int *)field);
	case SETTING_TIME:
		return settings_format_time(out, *(const unsigned int *)field);
	case SETTING_SIZE:
		return settings_format_size(out, *(const uint64_t *)field);
	}
	return -1;
}

/* Appends "<indent>key = value\n" when all or value differs from def. */
static int dump_line(struct buf *out, const char *indent, const char *key,
		     const struct buf *value, const char *def, bool all)
{
	if (!all && strcmp(buf_cstr(value), def) == 0)
		return 0;
	return buf_printf(out, "%s%s = %s\n", indent, key, buf_cstr(value));
}

static int dump_top(const struct auth_settings *set, bool all, struct buf *out)
{
	struct buf value = BUF_INIT(SETTINGS_DUMP_MAX);
	int ret = 0;
	for (size_t i = 0; i < settings_defs_count && ret == 0; i++) {
		const struct setting_def *def = &settings_defs[i];
		if (def->offset == SETTING_NOT_STORED)
			continue;
		buf_reset(&value);
		ret = def_format(set, def, &value);
		if (ret == 0)
			ret = dump_line(out, "", def->name, &value, def->def, all);
	}
	buf_free(&value);
	return ret;
}

static int dump_db(const struct db_settings *db, bool passdb, bool all, struct buf *out)
{
	struct buf value = BUF_INIT(SETTINGS_DUMP_MAX);
	int ret = buf_append_str(out, passdb ? "passdb " : "userdb ");
	if (ret == 0 && db->name[0] != '\0')
		ret = settings_format_name(out, db->name) == 0 ? buf_append_byte(out, ' ') : -1;
	if (ret == 0)
		ret = buf_append_str(out, "{\n");
	for (size_t i = 0; i < settings_db_keys_count && ret == 0; i++) {
		const struct db_key *key = &settings_db_keys[i];
		if ((key->passdb_only && !passdb) || strcmp(key->name, "name") == 0)
			continue;
		buf_reset(&value);
		ret = settings_db_format(db, key, &value);
		if (ret == 0)
			ret = dump_line(out, "  ", key->name, &value,
					strcmp(key->name, "driver") == 0 ? "\x01" : key->def, all);
	}
	buf_free(&value);
	return ret == 0 ? buf_append_str(out, "}\n") : -1;
}

/* One listener attribute: a line if explicit, else (all) a comment. */
static int dump_attr(struct buf *out, const char *key, const char *value, bool expl,
		     bool all, const char *note)
{
	if (expl)
		return buf_printf(out, "    %s = %s\n", key, value);
	if (!all)
		return 0;
	return buf_printf(out, "    # %s: %s = %s\n", note, key, value);
}

static bool listener_changed(const struct listener_settings *l)
{
	return l->inet || settings_default_listener(l->name) < 0 ||
		l->mode_set || l->user_explicit || l->group_explicit;
}

static int dump_unix_attrs(const struct listener_settings *l, bool all, struct buf *out)
{
	struct buf v = BUF_INIT(SETTINGS_DUMP_MAX);
	char mode[16];
	snprintf(mode, sizeof(mode), "%04o", (unsigned int)l->mode);
	int ret = dump_attr(out, "mode", mode, l->mode_set, all, "default");
	if (ret == 0)
		ret = settings_format_value(&v, l->user);
	if (ret == 0)
		ret = dump_attr(out, "user", buf_cstr(&v), l->user_explicit, all,
				"default, applied only when started as root");
	buf_reset(&v);
	if (ret == 0)
		ret = settings_format_value(&v, l->group);
	if (ret == 0)
		ret = dump_attr(out, "group", buf_cstr(&v), l->group_explicit, all, "default");
	buf_free(&v);
	return ret;
}

static int dump_listener(const struct listener_settings *l, bool all, struct buf *out)
{
	if (!all && !listener_changed(l))
		return 0;
	int ret = buf_append_str(out, l->inet ? "  inet_listener " : "  unix_listener ");
	if (ret == 0)
		ret = settings_format_name(out, l->name);
	if (ret == 0)
		ret = buf_append_str(out, " {\n");
	if (ret == 0 && !l->inet)
		ret = dump_unix_attrs(l, all, out);
	if (ret == 0 && l->inet && (all || l->address[0] != '\0')) {
		ret = buf_append_str(out, "    address = ") == 0 &&
			settings_format_value(out, l->address) == 0 ? buf_append_byte(out, '\n') : -1;
	}
	if (ret == 0 && l->inet && (all || l->port != 0))
		ret = buf_printf(out, "    port = %u\n", l->port);
	return ret == 0 ? buf_append_str(out, "  }\n") : -1;
}

static int dump_service(const struct auth_settings *set, bool all, struct buf *out)
{
	bool user = all || strcmp(set->service_auth_user, set->default_internal_user) != 0;
	bool any = user;
	for (size_t i = 0; i < set->listener_count; i++)
		any = any || listener_changed(&set->listeners[i]);
	int ret = 0;
	if (any || all) {
		ret = buf_append_str(out, "service auth {\n");
		if (ret == 0 && user)
			ret = buf_append_str(out, "  user = ") == 0 &&
				settings_format_value(out, set->service_auth_user) == 0 ?
				buf_append_byte(out, '\n') : -1;
		for (size_t i = 0; i < set->listener_count && ret == 0; i++)
			ret = dump_listener(&set->listeners[i], all, out);
		if (ret == 0)
			ret = buf_append_str(out, "}\n");
	}
	if (ret == 0 && (all || set->service_auth_worker_user[0] != '\0'))
		ret = buf_append_str(out, "service auth-worker {\n  user = ") == 0 &&
			settings_format_value(out, set->service_auth_worker_user) == 0 ?
			buf_append_str(out, "\n}\n") : -1;
	return ret;
}

int settings_dump_buf(const struct auth_settings *set, bool all, struct buf *out)
{
	int ret = buf_append_str(out, all ? "# authd: all settings (authd -a)\n" :
				 "# authd: settings changed from the defaults (authd -n)\n");
	if (ret == 0)
		ret = dump_top(set, all, out);
	for (size_t i = 0; i < set->passdb_count && ret == 0; i++)
		ret = dump_db(&set->passdbs[i], true, all, out);
	for (size_t i = 0; i < set->userdb_count && ret == 0; i++)
		ret = dump_db(&set->userdbs[i], false, all, out);
	return ret == 0 ? dump_service(set, all, out) : -1;
}

int settings_dump(const struct auth_settings *set, bool all, int fd)
{
	struct buf out = BUF_INIT(SETTINGS_DUMP_MAX);
	int ret = settings_dump_buf(set, all, &out);
	if (ret < 0)
		errno = EFBIG;
	for (size_t off = 0; ret == 0 && off < out.len;) {
		ssize_t n = write(fd, out.data + off, out.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			ret = -1;
		else
			off += (size_t)n;
	}
	buf_free(&out);
	return ret;
}

static bool str_eq(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static bool def_equal(const void *a, const void *b, const struct setting_def *def)
{
	const char *fa = (const char *)a + def->offset, *fb = (const char *)b + def->offset;
	switch (def->type) {
	case SETTING_STRING:
		return str_eq(*(const char *const *)fa, *(const char *const *)fb);
	case SETTING_BOOL:
		return *(const bool *)fa == *(const bool *)fb;
	case SETTING_UINT:
	case SETTING_TIME:
		return *(const unsigned int *)fa == *(const unsigned int *)fb;
	case SETTING_SIZE:
		return *(const uint64_t *)fa == *(const uint64_t *)fb;
	}
	return false;
}

static bool db_equal(const struct db_settings *a, const struct db_settings *b)
{
	struct buf va = BUF_INIT(SETTINGS_DUMP_MAX), vb = BUF_INIT(SETTINGS_DUMP_MAX);
	bool eq = true;
	for (size_t i = 0; i < settings_db_keys_count && eq; i++) {
		buf_reset(&va);
		buf_reset(&vb);
		eq = settings_db_format(a, &settings_db_keys[i], &va) == 0 &&
			settings_db_format(b, &settings_db_keys[i], &vb) == 0 &&
			va.len == vb.len && strcmp(buf_cstr(&va), buf_cstr(&vb)) == 0;
	}
	buf_free(&va);
	buf_free(&vb);
	return eq;
}

static bool listener_equal(const struct listener_settings *a, const struct listener_settings *b)
{
	return str_eq(a->name, b->name) && a->inet == b->inet && str_eq(a->path, b->path) &&
		a->mode == b->mode && a->mode_set == b->mode_set && str_eq(a->user, b->user) &&
		str_eq(a->group, b->group) && a->user_explicit == b->user_explicit &&
		a->group_explicit == b->group_explicit && str_eq(a->address, b->address) &&
		a->port == b->port && a->type == b->type;
}

bool settings_equal(const struct auth_settings *a, const struct auth_settings *b)
{
	for (size_t i = 0; i < settings_defs_count; i++) {
		if (settings_defs[i].offset != SETTING_NOT_STORED &&
		    !def_equal(a, b, &settings_defs[i]))
			return false;
	}
	if (!str_eq(a->service_auth_user, b->service_auth_user) ||
	    !str_eq(a->service_auth_worker_user, b->service_auth_worker_user) ||
	    a->passdb_count != b->passdb_count || a->userdb_count != b->userdb_count ||
	    a->listener_count != b->listener_count)
		return false;
	for (size_t i = 0; i < a->passdb_count; i++) {
		if (!db_equal(&a->passdbs[i], &b->passdbs[i]))
			return false;
	}
	for (size_t i = 0; i < a->userdb_count; i++) {
		if (!db_equal(&a->userdbs[i], &b->userdbs[i]))
			return false;
	}
	for (size_t i = 0; i < a->listener_count; i++) {
		if (!listener_equal(&a->listeners[i], &b->listeners[i]))
			return false;
	}
	return true;
}
