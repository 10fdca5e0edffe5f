#include "mechanisms/mech.h"

#include <string.h>
#include <strings.h>

static const struct mech *const mech_builtin[] = {
	&mech_plain,
	&mech_login,
	&mech_cram_md5,
	&mech_digest_md5,
	&mech_scram_sha1,
	&mech_scram_sha256,
	&mech_scram_sha512,
	&mech_anonymous,
	&mech_external,
};

const struct mech *mech_find(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(mech_builtin) / sizeof(mech_builtin[0]); i++) {
		const struct mech *m = mech_builtin[i];
		if (strlen(m->name) == len && strncasecmp(m->name, name, len) == 0)
			return m;
	}
	return NULL;
}

static const struct {
	unsigned int flag;
	const char *name;
} mech_flag_names[] = {
	{ MECH_FLAG_PRIVATE, "private" },
	{ MECH_FLAG_ANONYMOUS, "anonymous" },
	{ MECH_FLAG_PLAINTEXT, "plaintext" },
	{ MECH_FLAG_DICTIONARY, "dictionary" },
	{ MECH_FLAG_ACTIVE, "active" },
	{ MECH_FLAG_FORWARD_SECRECY, "forward-secrecy" },
	{ MECH_FLAG_MUTUAL_AUTH, "mutual-auth" },
};

int mech_handshake_line(struct buf *out, const struct mech *mech)
{
	if (buf_append_str(out, "MECH\t") < 0 || buf_append_str(out, mech->name) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(mech_flag_names) / sizeof(mech_flag_names[0]); i++) {
		if ((mech->flags & mech_flag_names[i].flag) == 0)
			continue;
		if (buf_append_byte(out, '\t') < 0 || buf_append_str(out, mech_flag_names[i].name) < 0)
			return -1;
	}
	return buf_append_byte(out, '\n');
}
