/* reply: the text of OK and FAIL lines on the auth-client protocol
 * (spec 2.6): user=, passdb extra fields (nologin and proxy as bare
 * words), final data, original_user=, auth_user=, anonymous, code=. Values
 * are tab-escaped. */
#ifndef AUTHD_REPLY_H
#define AUTHD_REPLY_H

#include "common/buf.h"

#include <stddef.h>
#include <stdint.h>

struct auth_request;

/* Appends "OK\t<id>\tuser=..." with final (may be NULL) as resp=, and LF. */
void auth_reply_format_ok(struct buf *line, const struct auth_request *req,
			  const uint8_t *final, size_t final_len);
/* Appends "FAIL\t<id>[\tuser=...][\tcode=...]..." and LF. */
void auth_reply_format_fail(struct buf *line, const struct auth_request *req);

#endif
