/* username: spec 7.2 steps 3-4 (default realm, auth_username_translation,
 * auth_username_chars) plus authd's own hard limits. See username.h. */
#include "authd/username.h"

#include <string.h>

/* Bytes refused whatever the settings say: they would break the tab-
 * separated protocols, log lines and file paths. */
static bool username_is_control(uint8_t c)
{
	return c < 0x20 || c == 0x7f;
}

int username_rules_init(struct username_rules *rules, const char *chars,
			const char *translation, const char *default_realm,
			const char **error_r)
{
	size_t chars_len = chars != NULL ? strlen(chars) : 0;
	size_t trans_len = translation != NULL ? strlen(translation) : 0;

	if (trans_len % 2 != 0) {
		*error_r = "auth_username_translation: odd number of characters";
		return -1;
	}
	for (unsigned int i = 0; i < 256; i++) {
		rules->allowed[i] = chars_len == 0;
		rules->translate[i] = (uint8_t)i;
	}
	for (size_t i = 0; i < chars_len; i++)
		rules->allowed[(uint8_t)chars[i]] = true;
	for (size_t i = 0; i < trans_len; i += 2)
		rules->translate[(uint8_t)translation[i]] = (uint8_t)translation[i + 1];
	rules->default_realm = default_realm != NULL ? default_realm : "";
	return 0;
}

/* Checks one byte before and after translation; returns the translated
 * byte, or -1 with *error_r. */
static int username_map_byte(const struct username_rules *rules, uint8_t c,
			      const char **error_r)
{
	uint8_t t = rules->translate[c];
	if (username_is_control(c) || username_is_control(t)) {
		*error_r = "Username contains a control character";
		return -1;
	}
	if (!rules->allowed[t]) {
		*error_r = "Username character disallowed by auth_username_chars";
		return -1;
	}
	return t;
}

/* Translates and checks (p, len), appending the result to out.
 * Returns 1, 0 (rejected) or -1 (limit). */
static int username_append_mapped(const struct username_rules *rules, const uint8_t *p,
				  size_t len, struct buf *out, const char **error_r)
{
	for (size_t i = 0; i < len; i++) {
		int t = username_map_byte(rules, p[i], error_r);
		if (t < 0)
			return 0;
		if (buf_append_byte(out, (uint8_t)t) < 0)
			return -1;
	}
	return 1;
}

int username_normalize(const struct username_rules *rules, const uint8_t *in, size_t len,
		       struct buf *out, const char **error_r)
{
	const char *realm = rules->default_realm;
	size_t realm_len = realm != NULL ? strlen(realm) : 0;
	bool has_at = len > 0 && memchr(in, '@', len) != NULL;
	bool add_realm = realm_len > 0 && !has_at;
	size_t total = len;
	int ret;

	buf_reset(out);
	if (add_realm) {
		if (realm_len > USERNAME_MAX_LEN || len > USERNAME_MAX_LEN)
			total = USERNAME_MAX_LEN + 1;
		else
			total = len + 1 + realm_len;
	}
	if (total > USERNAME_MAX_LEN) {
		*error_r = "Username too long";
		return 0;
	}
	ret = username_append_mapped(rules, in, len, out, error_r);
	if (ret == 1 && add_realm) {
		ret = username_append_mapped(rules, (const uint8_t *)"@", 1, out, error_r);
		if (ret == 1)
			ret = username_append_mapped(rules, (const uint8_t *)realm, realm_len,
						     out, error_r);
	}
	if (ret != 1)
		buf_reset(out);
	if (ret < 0)
		*error_r = "Username buffer limit reached";
	return ret;
}

size_t username_local_len(const char *user, size_t len)
{
	const char *at = memchr(user, '@', len);
	return at != NULL ? (size_t)(at - user) : len;
}
