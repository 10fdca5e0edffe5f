/* csprng: cheap cryptographically secure random bytes for the hot path
 * (CRAM-MD5 challenges, DIGEST-MD5 nonces), buffered on top of OpenSSL's
 * RAND_bytes.
 *
 * Why: every RAND_bytes() call costs about 1 us in OpenSSL 3 whatever its
 * size (a getpid() system call for fork detection, a DRBG cipher
 * re-initialisation, parameter lookups), which was a sixth of a CRAM-MD5
 * login. Here each thread keeps CSPRNG_BLOCK bytes drawn from RAND_bytes in
 * one call and hands them out; no byte is ever handed out twice, and each
 * one is wiped from the buffer as it is handed out. The output is exactly
 * RAND_bytes output (no crypto of our own); only the moment it was drawn
 * differs.
 *
 * Fork safety: a child must never hand out bytes its parent also hands
 * out. A pthread_atfork() child handler (registered on first use) bumps a
 * generation counter in the child; a thread whose buffer is of an older
 * generation discards it and refills (OpenSSL itself reseeds after fork).
 * This covers fork() and everything that calls it; a process created with
 * a raw clone() system call that shares no memory is not covered and must
 * not use this module without exec'ing first. (In authd only the root
 * parent and the checkpassword driver fork; the auth process that runs the
 * mechanisms does not.)
 *
 * Thread-safety: the buffer is per thread (no locks). Never blocks on I/O:
 * a refill is one RAND_bytes() call, which can only block at the very
 * start of the system's life while the kernel has no entropy yet. */
#ifndef COMMON_CSPRNG_H
#define COMMON_CSPRNG_H

#include <stddef.h>
#include <stdint.h>

/* Bytes drawn from RAND_bytes per refill, per thread. */
#define CSPRNG_BLOCK 4096u
/* Requests of this many bytes or more bypass the buffer. */
#define CSPRNG_DIRECT_MIN 256u

/* Fills out with n cryptographically secure random bytes.
 * Returns 0, or -1 when OpenSSL's RAND_bytes fails (out is then wiped). */
int csprng_bytes(uint8_t *out, size_t n);

/* Wipes and empties the calling thread's buffer (the next call refills).
 * For tests and for code that wants no random bytes left in memory. */
void csprng_wipe(void);

#endif
