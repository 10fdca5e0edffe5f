/* penalty: Dovecot's anvil auth penalty (spec 2.8), kept in the auth
 * process. Each remote address (IPv6 masked to /48; requests without rip
 * share one bucket) has a counter 0..PENALTY_MAX. A failed login raises it
 * unless the same user+password failed last time; a success resets it. A
 * new request from an address with penalty p starts only after
 * min(2 * 2^p s, cap) since that address's last failure.
 *
 * Unlike Dovecot (cap 15 s), the cap keeps penalty + auth_failure_delay
 * below PENALTY_CLIENT_DEADLINE_SECS, because Postfix gives up after 10 s
 * and then reports a temporary failure to a legitimate user.
 *
 * Memory is bounded: at most PENALTY_MAX_ENTRIES addresses, the least
 * recently failed ones are forgotten first; entries expire after an hour. */
#ifndef AUTHD_PENALTY_H
#define AUTHD_PENALTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PENALTY_MAX 4u
#define PENALTY_INIT_SECS 2u
#define PENALTY_DOVECOT_MAX_SECS 15u
#define PENALTY_CLIENT_DEADLINE_SECS 9u
#define PENALTY_EXPIRE_SECS 3600u
#define PENALTY_MAX_ENTRIES 65536u

struct penalty;

/* failure_delay_secs is auth_failure_delay, used to derive the cap. */
struct penalty *penalty_create(unsigned int failure_delay_secs);
void penalty_destroy(struct penalty **p);

#define PENALTY_ADDR_LEN 17u   /* family byte + 16 address bytes */

/* A remote address as the table keys it: IPv4 as is, IPv6 masked to /48.
 * All zero is the bucket shared by requests without a parsable rip. */
struct penalty_addr {
	uint8_t key[PENALTY_ADDR_LEN];
};

/* Parses ip (NUL-terminated text; NULL allowed) into *addr_r once per
 * request. Returns true for an IPv4 or IPv6 address, false otherwise
 * (then *addr_r is the shared bucket). */
bool penalty_addr_parse(const char *ip, struct penalty_addr *addr_r);

/* Milliseconds the next request from addr must wait, at time now_ms
 * (monotonic). 0 when none. */
uint64_t penalty_delay_ms(struct penalty *p, const struct penalty_addr *addr, uint64_t now_ms);

/* Records a failure. checksum identifies user+password (keyed hash; see
 * penalty_checksum), so repeating one wrong password does not escalate. */
void penalty_failure(struct penalty *p, const struct penalty_addr *addr, uint64_t checksum,
		     uint64_t now_ms);
/* Records a success: the address's penalty is cleared. */
void penalty_success(struct penalty *p, const struct penalty_addr *addr);

/* A keyed (per-process random key) 64-bit hash of user NUL password; the
 * password cannot be recovered from it. */
uint64_t penalty_checksum(const struct penalty *p, const char *user, const uint8_t *password,
			  size_t password_len);

#endif
