/* scheme: password schemes as Dovecot 2.3 stores them ({SCHEME}data), for
 * verification, generation (`doveadm pw`) and the credentials CRAM-MD5,
 * DIGEST-MD5 and SCRAM need. Shared by the daemon and authctl. Formats and
 * vectors: shared/spec/password-schemes.md.
 *
 * The schemes: the 31 names of `doveadm pw -l` (2.3.19), plus two of
 * authd's: YESCRYPT (libxcrypt's "$y$", generated under the label {CRYPT}
 * so Dovecot verifies it too; {YESCRYPT} is accepted as a label) and
 * SCRAM-SHA-512 (RFC 7677-style stored keys with SHA-512, for the
 * SCRAM-SHA-512 mechanism; Dovecot 2.3 does not know it).
 *
 * Thread-safety: every function here is safe to call from the hash thread
 * pool (no global mutable state after scheme_init()).
 *
 * Error texts (*error_r) are static strings or live in a thread-local
 * buffer that stays valid until the next scheme_* call in the same thread.
 * They name what is wrong, never the password or the stored value. Only
 * scheme_parse_stored() ("Unknown scheme X"), the length check of the
 * cheap fixed-length schemes ("Input length isn't valid (N instead of L)"),
 * scheme_credentials()'s "Requested X scheme, but we have only Y" /
 * "Requested unknown scheme X" and argon2 generation failures use the
 * thread-local buffer; verifying an expensive scheme (the ones run on the
 * hash pool) and the expensive credentials pairs only ever return static
 * texts, so a result handed from a hash thread to the event loop stays
 * valid.
 *
 * MD4 (PLAIN-MD4, OTP md4): scheme_init() loads OpenSSL's "legacy" and
 * "default" providers into the process-wide library context (so EVP_md4()
 * works for every module) and fetches MD4 from it. If that fails, the
 * deprecated low-level MD4() call is used, which OpenSSL 3 still serves
 * without the provider (also before scheme_init() was called). If the
 * OpenSSL build has no MD4 at all (OPENSSL_NO_MD4), verifying those values
 * returns -1 with "MD4 is not available" and every other scheme works.
 *
 * Nothing here blocks on I/O. The "expensive" schemes (crypt families,
 * PBKDF2, SCRAM, argon2, OTP) cost milliseconds of CPU and, for argon2,
 * as much memory as the stored m= parameter asks for; so does generating
 * them, and deriving SCRAM credentials from a cleartext password
 * (scheme_credentials_expensive()). Randomness: OpenSSL's RAND_bytes
 * (argon2 salts: libsodium's randombytes). */
#ifndef COMMON_SCHEME_H
#define COMMON_SCHEME_H

#include "common/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct scheme;   /* a registered scheme (opaque, static lifetime) */

enum scheme_encoding {
	SCHEME_ENC_NONE,    /* stored string is used as is */
	SCHEME_ENC_BASE64,
	SCHEME_ENC_HEX,
};

/* How a value without a {SCHEME} prefix is interpreted (spec 2.4). */
enum scheme_prefix_rule {
	SCHEME_PREFIX_PASSWD_FILE,  /* passwd-file/vpopmail: $1$ means MD5-CRYPT */
	SCHEME_PREFIX_FIELD,        /* ldap/sql: no $1$ special case */
};

/* A parsed stored password. Points into the caller's string. */
struct scheme_stored {
	const struct scheme *scheme;
	const char *scheme_name;     /* canonical upper-case name */
	/* The scheme as written, not NUL-terminated: the text between the
	 * braces ("sha256.HEX"), the default scheme for a prefix-less value,
	 * or "MD5-CRYPT" for a prefix-less $1$ value (passwd-file rule).
	 * Dovecot's log lines and `doveadm pw -t` show this text. */
	const char *spec;
	size_t spec_len;
	enum scheme_encoding enc;    /* effective encoding */
	bool enc_explicit;           /* .hex/.b64 suffix given */
	const char *data;            /* after the prefix */
	size_t data_len;
};

/* Loads what the schemes need (OpenSSL legacy provider for MD4, sodium_init).
 * Call once at start-up before threads exist. Returns 0, or -1 when
 * libsodium cannot be initialised. A missing MD4 is not an error (see the
 * top of this file). */
int scheme_init(void);

/* Finds a scheme by name, case-insensitively, without encoding suffix.
 * Returns NULL if unknown. */
const struct scheme *scheme_find(const char *name);
/* True if spec is usable as a default scheme: a known name with an
 * optional .hex/.b64/.base64 suffix ("SHA256.HEX"), as scheme_parse_stored
 * accepts it. For checking scheme= / default_pass_scheme at config time. */
bool scheme_spec_valid(const char *spec);
/* The canonical upper-case name ("PLAIN" for CLEAR, "SHA1" for SHA).
 * HMAC-MD5 is a scheme of its own (same data as CRAM-MD5, but Dovecot 2.4
 * calls one weak and not the other). Static storage. */
const char *scheme_name(const struct scheme *scheme);
/* The i-th name `doveadm pw -l` prints (the 31 names of Dovecot 2.3.19,
 * aliases included, in the order doveadm prints them); NULL when i is past
 * the end. Static storage. */
const char *scheme_list_name(size_t i);
/* The i-th scheme authd has beyond doveadm's list (YESCRYPT,
 * SCRAM-SHA-512); NULL past the end. Static storage. */
const char *scheme_list_extra_name(size_t i);
/* True if a and b can serve each other's credentials (password-schemes.md
 * section 4: {PLAIN CLEAR CLEARTEXT PLAIN-TRUNC}, {SHA SHA1},
 * {PLAIN-MD5 LDAP-MD5}, {MD5 MD5-CRYPT}, {CRYPT BLF-CRYPT},
 * {CRAM-MD5 HMAC-MD5}). */
bool scheme_same_credentials(const struct scheme *a, const struct scheme *b);
/* True for the weak schemes: the ones Dovecot 2.4 flags (MD5, MD5-CRYPT,
 * SMD5, HMAC-MD5, PLAIN-MD4, PLAIN-MD5, LDAP-MD5; dovecot-auth-protocol.md
 * section 10) plus those issue 3 names on top: DES-CRYPT, SHA and SHA1
 * (unsalted SHA-1, one scheme under two names) and PLAIN-TRUNC (accepts
 * any password that shares the stored prefix). Not weak, as in 2.4:
 * CRAM-MD5 and DIGEST-MD5 (what those mechanisms need; refusing them would
 * switch the mechanisms off), SSHA*, SHA256/512, OTP, PLAIN, the SHA-crypt
 * families, bcrypt, PBKDF2, argon2, SCRAM, YESCRYPT. The daemon warns once
 * per user for a weak scheme and refuses it with
 * auth_allow_weak_schemes = no. */
bool scheme_is_weak(const struct scheme *scheme);

/* Parses stored (len bytes) using default_scheme when there is no prefix.
 * The scheme name is everything between a leading '{' and the first '}',
 * with an optional .hex/.b64/.base64 suffix (case-insensitive); a value
 * starting with '{' without any '}' has no prefix. With
 * SCHEME_PREFIX_PASSWD_FILE a prefix-less "$1$salt$..." value is MD5-CRYPT
 * and is cut after its third '$' segment. default_scheme may carry a
 * suffix too ("SHA256.HEX"); NULL means a prefix is required.
 * For fixed-length schemes without an explicit suffix the encoding is
 * autodetected: exactly 2*L hex digits = hex, anything else = base64.
 * Returns 1, or 0 with *error_r ("Unknown scheme X", "Missing {scheme}
 * prefix") when the scheme is unknown or missing; on 0, out->spec is the
 * unknown scheme as written, or NULL when there was no prefix and no
 * default. */
int scheme_parse_stored(const char *stored, size_t len, const char *default_scheme,
			enum scheme_prefix_rule rule, struct scheme_stored *out,
			const char **error_r);

/* True if verifying this scheme costs more than a few microseconds
 * (crypt families incl. MD5, PBKDF2, SCRAM, argon2, OTP): the daemon runs
 * those on the hash pool. */
bool scheme_is_expensive(const struct scheme_stored *stored);

/* Removes the encoding layer: appends the raw bytes of stored to raw (for
 * encoding NONE that is the stored text itself) and checks the fixed raw
 * length. Returns 1, -1 with *error_r ("Input isn't valid base64 encoded
 * data", "Input length isn't valid (N instead of L)"), or -1 when raw's
 * limit would be crossed. The caller owns raw (buf_free wipes it). */
int scheme_decode(const struct scheme_stored *stored, struct buf *raw, const char **error_r);

/* Verifies (password, password_len) against a parsed stored value. user is
 * the login name (DIGEST-MD5 stored values need it). Constant time in the
 * password for a given stored value.
 * Returns 1 match, 0 mismatch, -1 invalid stored data (*error_r says why;
 * the text never contains the password or the stored value).
 * The crypt(3) family sees C strings: a password containing a NUL byte or
 * of CRYPT_MAX_PASSPHRASE_SIZE (512) bytes or more never matches there, and
 * an empty stored value never matches. libxcrypt failures ("*0") are
 * mismatches, except for bcrypt values, which report -1 like Dovecot's
 * bundled bcrypt ("crypt_blowfish_rn failed: Invalid argument"). */
int scheme_verify(const struct scheme_stored *stored, const uint8_t *password,
		  size_t password_len, const char *user, const char **error_r);

/* CRAM-MD5 / HMAC-MD5 credentials (password-schemes.md 3.10). */
#define SCHEME_CRAM_MD5_CONTEXT_LEN 32u
#define SCHEME_CRAM_MD5_RESPONSE_LEN 16u
/* The stored form of a password: MD5 outer then inner state after one
 * 64-byte key block, each word little-endian. Returns 0. */
int scheme_cram_md5_context(const uint8_t *password, size_t password_len,
			    uint8_t ctx_r[SCHEME_CRAM_MD5_CONTEXT_LEN]);
/* HMAC-MD5(key, challenge) computed from a stored context: the expected
 * CRAM-MD5 response (binary; the wire carries its lowercase hex). */
void scheme_cram_md5_response(const uint8_t ctx[SCHEME_CRAM_MD5_CONTEXT_LEN],
			      const uint8_t *challenge, size_t challenge_len,
			      uint8_t response_r[SCHEME_CRAM_MD5_RESPONSE_LEN]);

/* ---- Generation (`doveadm pw -s`) ----------------------------------- */

/* What `doveadm pw` generates without -s. */
#define SCHEME_DEFAULT_GENERATE "CRYPT"
/* Longest scheme spec ("NAME.SUFFIX") scheme_generate() looks up. */
#define SCHEME_SPEC_MAX 48u

/* Generates the stored form of (pw, pw_len) as `doveadm pw -s SPEC -r
 * ROUNDS -u USER` does and appends "{LABEL}encoded" to out. spec is a
 * scheme name with an optional .hex/.b64/.base64 suffix, any case; LABEL is
 * spec upper-cased ("ssha.hex" -> "{SSHA.HEX}"), except YESCRYPT, which is
 * labelled {CRYPT} so the value also verifies in Dovecot (which has no
 * YESCRYPT scheme but verifies $y$ under {CRYPT}). The encoding is the
 * suffix's or the scheme's default.
 * rounds (0 = default) as doveadm: CRYPT/BLF-CRYPT cost 5, clamped to
 * 4..31; SHA256-CRYPT/SHA512-CRYPT 5000, clamped to 1000..999999999, the
 * "rounds=" part omitted exactly at 5000; PBKDF2 5000, not clamped (above
 * INT_MAX: -1); ARGON2I opslimit 4, ARGON2ID 2 raised to at least 3, the
 * memory limit chosen from the opslimit as libsodium's levels (spec 3.9);
 * YESCRYPT libxcrypt's cost 5, clamped to 1..11; ignored by the others
 * (SCRAM always 4096 iterations, OTP sequence 1024).
 * user: DIGEST-MD5's "user[@realm]", split at the last '@'; ignored
 * otherwise. Salts come from OpenSSL's RAND_bytes (argon2: libsodium's).
 * Quirk kept from doveadm: PLAIN-TRUNC generates the bare password
 * ("{PLAIN-TRUNC}secret"), which does not verify.
 * Returns 1; 0 for an unknown scheme or suffix (*error_r "Unknown scheme");
 * -1 with *error_r for the rest: DIGEST-MD5 without user
 * ("digest_md5_generate(): username not given"), a crypt(3) family password
 * containing NUL or of 512 bytes or more, libsodium refusing the
 * parameters ("crypto_pwhash_argon2i_str failed: Invalid argument"), no
 * randomness, MD4 unavailable, out's limit. Error texts are static or
 * thread-local (scheme_errorf). Costs what the scheme costs (argon2: tens
 * of MiB and milliseconds); no I/O. Thread-safe. */
int scheme_generate(const char *spec, const uint8_t *pw, size_t pw_len, const char *user,
		    unsigned int rounds, struct buf *out, const char **error_r);

/* ---- Credentials for mechanisms ------------------------------------ */

/* Produces what a mechanism needs from a parsed stored password.
 * wanted: "CRAM-MD5" -> 32 raw bytes (the HMAC-MD5 context of spec 3.10);
 *         "DIGEST-MD5" -> 16 raw bytes MD5(user:realm:password): from a
 *                         cleartext scheme computed from digest_user and
 *                         realm exactly as given (realm NULL = ""), from a
 *                         stored {DIGEST-MD5} the stored 16 bytes;
 *         "SCRAM-SHA-1" / "SCRAM-SHA-256" / "SCRAM-SHA-512" -> the text
 *                         "ITER,B64SALT,B64STOREDKEY,B64SERVERKEY" (from a
 *                         stored SCRAM of the same hash: as stored, after
 *                         checking it parses; from a cleartext scheme: a
 *                         fresh 16-byte salt and 4096 iterations);
 *         "PLAIN" (or CLEAR, CLEARTEXT) -> the plaintext;
 *         any other known scheme -> its raw (decoded) form.
 * Rules (password-schemes.md section 4, dovecot-auth-protocol.md 5.2): a
 * stored scheme that shares credentials with wanted (scheme_same_
 * credentials; the .hex/.b64 suffix only changes the decoding) gives its
 * decoded bytes; a cleartext one (PLAIN, CLEAR, CLEARTEXT, PLAIN-TRUNC)
 * generates the wanted form. PLAIN-TRUNC's "N-" length prefix is stripped
 * first (Dovecot would derive from "6-secret"; a password that was really
 * truncated then simply fails to authenticate).
 * Returns 1 (out gets the bytes; the caller owns and wipes out); 0 when
 * the stored scheme cannot produce them, with *error_r = "Requested
 * CRAM-MD5 scheme, but we have only SHA512-CRYPT" (Dovecot's log line;
 * the stored scheme as written, see struct scheme_stored); -1 for invalid
 * stored data or an internal failure (*error_r: the decoding error,
 * "PLAIN-TRUNC missing length: prefix", "Invalid SCRAM-SHA-256 iteration
 * count in passdb", "DIGEST-MD5 credentials need the user name",
 * "Requested unknown scheme X", ...). Error texts are static or
 * thread-local; the pairs scheme_credentials_expensive() reports only ever
 * give static texts. Thread-safe; may cost a KDF (see below). */
int scheme_credentials(const struct scheme_stored *stored, const char *wanted,
		       const char *digest_user, const char *realm, struct buf *out,
		       const char **error_r);
/* True when scheme_credentials() for this pair costs a KDF (SCRAM, or any
 * other expensive scheme, generated from a cleartext password): the daemon
 * runs those on the hash pool. */
bool scheme_credentials_expensive(const struct scheme_stored *stored, const char *wanted);

#endif
