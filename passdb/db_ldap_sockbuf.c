/* db_ldap_sockbuf: buffered reads and batched writes under libldap (see
 * db_ldap_sockbuf.h).
 *
 * The layer sits at the provider level right above TCP (or the unix
 * socket); TLS, when used, sits above it, so buffered bytes are TLS
 * records, in the order libldap wrote or the server sent them. */
#include "passdb/db_ldap_sockbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LDAP_SOCKBUF_WBUF_MIN 4096u

static int ldap_sockbuf_io_setup(Sockbuf_IO_Desc *sbiod, void *arg)
{
	struct ldap_sockbuf *sb = arg;
	sbiod->sbiod_pvt = sb;
	sb->sbiod = sbiod;
	return 0;
}

static int ldap_sockbuf_io_remove(Sockbuf_IO_Desc *sbiod)
{
	struct ldap_sockbuf *sb = sbiod->sbiod_pvt;
	if (sb != NULL && sb->sbiod == sbiod)
		sb->sbiod = NULL;
	sbiod->sbiod_pvt = NULL;
	return 0;
}

static int ldap_sockbuf_io_ctrl(Sockbuf_IO_Desc *sbiod, int opt, void *arg)
{
	struct ldap_sockbuf *sb = sbiod->sbiod_pvt;
	if (opt == LBER_SB_OPT_DATA_READY && sb != NULL && sb->roff < sb->rlen)
		return 1;
	return LBER_SBIOD_CTRL_NEXT(sbiod, opt, arg);
}

enum ldap_sockbuf_fill_result ldap_sockbuf_fill(struct ldap_sockbuf *sb)
{
	if (sb->sbiod == NULL)
		return LDAP_SOCKBUF_FILL_ERROR;
	if (sb->rdata == NULL && (sb->rdata = malloc(LDAP_SOCKBUF_RBUF_SIZE)) == NULL)
		return LDAP_SOCKBUF_FILL_ERROR;   /* libldap reads unbuffered */
	if (sb->roff == sb->rlen) {
		sb->roff = sb->rlen = 0;
	} else if (sb->roff > 0) {
		memmove(sb->rdata, sb->rdata + sb->roff, sb->rlen - sb->roff);
		sb->rlen -= sb->roff;
		sb->roff = 0;
	}
	size_t room = LDAP_SOCKBUF_RBUF_SIZE - sb->rlen;
	if (room == 0)
		return LDAP_SOCKBUF_FILL_NONE;
	ber_slen_t n;
	do {
		n = LBER_SBIOD_READ_NEXT(sb->sbiod, sb->rdata + sb->rlen, room);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return LDAP_SOCKBUF_FILL_NONE;
	if (n <= 0)
		return LDAP_SOCKBUF_FILL_ERROR;
	sb->rlen += (size_t)n;
	return (size_t)n == room ? LDAP_SOCKBUF_FILL_FULL : LDAP_SOCKBUF_FILL_SOME;
}

static ber_slen_t ldap_sockbuf_io_read(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
	struct ldap_sockbuf *sb = sbiod->sbiod_pvt;
	if (sb == NULL)
		return LBER_SBIOD_READ_NEXT(sbiod, buf, len);
	if (sb->roff == sb->rlen) {
		/* empty: read a block rather than the few bytes asked for */
		enum ldap_sockbuf_fill_result ret = ldap_sockbuf_fill(sb);
		if (ret == LDAP_SOCKBUF_FILL_NONE && sb->rdata != NULL) {
			errno = EAGAIN;
			return -1;
		}
		if (sb->roff == sb->rlen)   /* end of stream or error (again, for errno) */
			return LBER_SBIOD_READ_NEXT(sbiod, buf, len);
	}
	size_t n = sb->rlen - sb->roff;
	if (n > len)
		n = len;
	memcpy(buf, sb->rdata + sb->roff, n);
	sb->roff += n;
	return (ber_slen_t)n;
}

bool ldap_sockbuf_data_ready(LDAP *ld)
{
	Sockbuf *lsb = NULL;
	if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, &lsb) != LDAP_OPT_SUCCESS || lsb == NULL)
		return false;
	return ber_sockbuf_ctrl(lsb, LBER_SB_OPT_DATA_READY, NULL) != 0;
}

/* Room for len more bytes. Returns 0, or -1 (over the limit, no memory). */
static int ldap_sockbuf_reserve(struct ldap_sockbuf *sb, size_t len)
{
	size_t unsent = sb->len - sb->off;
	if (len > LDAP_SOCKBUF_WBUF_MAX - unsent)
		return -1;
	if (sb->off > 0) {
		memmove(sb->data, sb->data + sb->off, unsent);
		sb->off = 0;
		sb->len = unsent;
	}
	if (sb->len + len <= sb->size)
		return 0;
	size_t size = sb->size != 0 ? sb->size : LDAP_SOCKBUF_WBUF_MIN;
	while (size < sb->len + len)
		size *= 2;   /* <= 2 * LDAP_SOCKBUF_WBUF_MAX: no overflow */
	uint8_t *data = realloc(sb->data, size);
	if (data == NULL)
		return -1;
	sb->data = data;
	sb->size = size;
	return 0;
}

static ber_slen_t ldap_sockbuf_io_write(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
	struct ldap_sockbuf *sb = sbiod->sbiod_pvt;
	if (sb == NULL || !sb->batching)
		return LBER_SBIOD_WRITE_NEXT(sbiod, buf, len);
	if (len > LDAP_SOCKBUF_WBUF_MAX || ldap_sockbuf_reserve(sb, len) < 0) {
		errno = ENOBUFS;
		return -1;
	}
	bool was_empty = !ldap_sockbuf_has_pending(sb);
	memcpy(sb->data + sb->len, buf, len);
	sb->len += len;
	if (was_empty && sb->pending != NULL)
		sb->pending(sb->ctx);
	return (ber_slen_t)len;
}

static Sockbuf_IO ldap_sockbuf_io_batch = {
	.sbi_setup = ldap_sockbuf_io_setup,
	.sbi_remove = ldap_sockbuf_io_remove,
	.sbi_ctrl = ldap_sockbuf_io_ctrl,
	.sbi_read = ldap_sockbuf_io_read,
	.sbi_write = ldap_sockbuf_io_write,
	.sbi_close = NULL,
};

int ldap_sockbuf_install(struct ldap_sockbuf *sb, LDAP *ld)
{
	Sockbuf *lsb = NULL;
	ldap_sockbuf_reset(sb);
	if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, &lsb) != LDAP_OPT_SUCCESS || lsb == NULL)
		return -1;
	if (ber_sockbuf_add_io(lsb, &ldap_sockbuf_io_batch, LBER_SBIOD_LEVEL_PROVIDER, sb) != 0)
		return -1;
	return 0;
}

void ldap_sockbuf_set_batching(struct ldap_sockbuf *sb, bool on)
{
	sb->batching = on;
}

int ldap_sockbuf_flush(struct ldap_sockbuf *sb)
{
	while (ldap_sockbuf_has_pending(sb)) {
		if (sb->sbiod == NULL) {
			errno = ENOTCONN;
			return -1;
		}
		ber_slen_t n = LBER_SBIOD_WRITE_NEXT(sb->sbiod, sb->data + sb->off, sb->len - sb->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		sb->off += (size_t)n;
	}
	sb->off = sb->len = 0;
	return 1;
}

void ldap_sockbuf_reset(struct ldap_sockbuf *sb)
{
	free(sb->data);
	sb->data = NULL;
	sb->off = sb->len = sb->size = 0;
	free(sb->rdata);
	sb->rdata = NULL;
	sb->roff = sb->rlen = 0;
	sb->batching = false;
	if (sb->sbiod != NULL)
		sb->sbiod->sbiod_pvt = NULL;
	sb->sbiod = NULL;
}
