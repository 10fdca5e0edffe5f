/* Tests for common/scheme: every vector of password-schemes.md section 3
 * and of fixtures/doveadm-vectors-secret.tsv, the prefix parser, the
 * decoding layer and the error texts. */
#include "common/base64.h"
#include "common/buf.h"
#include "common/scheme.h"

#include <openssl/hmac.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

struct verify_case {
	const char *stored;
	const char *pw;          /* NULL = "secret" */
	size_t pw_len;           /* 0 = strlen(pw) */
	const char *user;        /* NULL = "user@example.com" */
	int want;
	const char *error;       /* substring of *error_r when want == -1 */
	bool no_default;         /* parse with default scheme NULL */
};

/* password-schemes.md section 3 (password "secret" unless noted). */
static const struct verify_case spec_vectors[] = {
	/* 3.1 */
	{ .stored = "{PLAIN}secret", .want = 1 },
	{ .stored = "{PLAIN.B64}c2VjcmV0", .want = 1 },
	{ .stored = "{PLAIN.HEX}736563726574", .want = 1 },
	{ .stored = "{PLAIN}", .pw = "", .want = 1 },
	{ .stored = "{PLAIN}pa:ss wo{rd}", .pw = "pa:ss wo{rd}", .want = 1 },
	{ .stored = "{CLEAR}secret", .want = 1 },
	{ .stored = "{CLEARTEXT}secret", .want = 1 },
	/* 3.2 */
	{ .stored = "{PLAIN-TRUNC}6-secret", .want = 1 },
	{ .stored = "{PLAIN-TRUNC}3-sec", .want = 1 },
	{ .stored = "{PLAIN-TRUNC}3-sec", .pw = "se", .want = 0 },
	{ .stored = "{PLAIN-TRUNC}6-sec", .pw = "sec", .want = 1 },
	{ .stored = "{PLAIN-TRUNC}-secret", .want = 1 },
	{ .stored = "{PLAIN-TRUNC}99999999999999999999999-secret", .want = 1 },
	{ .stored = "{PLAIN-TRUNC}secret", .want = -1, .error = "PLAIN-TRUNC missing length: prefix" },
	/* 3.3 */
	{ .stored = "{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ=", .want = 1 },
	{ .stored = "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", .want = 1 },
	{ .stored = "{SHA1.HEX}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4", .want = 1 },
	{ .stored = "{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=", .want = 1 },
	{ .stored = "{SHA256.HEX}2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b", .want = 1 },
	{ .stored = "{SHA256}2BB80D537B1DA3E38BD30361AA855686BDE0EACD7162FEF6A25FE97BF527A25B", .want = 1 },
	{ .stored = "{sha256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=", .want = 1 },
	{ .stored = "{SHA512}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2cmW192CF5bDufKRpayrW/isg==", .want = 1 },
	{ .stored = "{SHA1}Se/vX3DUetwtsus5f77197xWDik=", .pw = "Password123!", .want = 1 },
	{ .stored = "{SHA256}oQnjaUetVt4dyhzEnw74rJrZp7GqDfQfs8TLc8H/Aeo=", .pw = "Password123!", .want = 1 },
	{ .stored = "{SHA512}nLpzwxrBXSFRI4LOayHoP4uf3dMRlv9PVFWajimt0eO8QDjIbJvudRLQ2Opy7JSAWA3Gd6nxcrRjZuy1GYYVzA==", .pw = "Password123!", .want = 1 },
	{ .stored = "{SHA1}2jmj7l5rSw0yVb/vlWAYkK/YBwk=", .pw = "", .want = 1 },
	{ .stored = "{SHA256}47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", .pw = "", .want = 1 },
	{ .stored = "{SHA256}RpcL73Cs7YEj8NXQlHF+KlzUEgQeA7JjdgSf5lsoNKQ=", .pw = "p\xc3\xa4ssw\xc3\xb6rd", .want = 1 },
	/* 3.4 */
	{ .stored = "{PLAIN-MD4}67d3dafef63ff00603aeef3769cfbf0d", .want = 1 },
	{ .stored = "{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69", .want = 1 },
	{ .stored = "{LDAP-MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==", .want = 1 },
	{ .stored = "{PLAIN-MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==", .want = 1 },
	{ .stored = "{LDAP-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69", .want = 1 },
	{ .stored = "{PLAIN-MD4}3eece3af37e60a177d42d70816399bc7", .pw = "Password123!", .want = 1 },
	{ .stored = "{PLAIN-MD5}2c103f2c4ed1e59c0b4e2e01821770fa", .pw = "Password123!", .want = 1 },
	/* 3.5 */
	{ .stored = "{MD5}$1$z1Gz0kwy$Q0jSIsLMfhjfoaw6LZLjo/", .want = 1 },
	{ .stored = "{MD5}5ebe2294ecd0e0f08eab7690d2a6ee69", .want = 1 },
	{ .stored = "{MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==", .want = 1 },
	{ .stored = "{MD5}$1$saltsalt$9xy1btjgzLYfb7hivXtC//", .want = 1 },
	{ .stored = "{MD5}abc", .want = -1, .error = "Not a valid MD5-CRYPT or PLAIN-MD5 password" },
	{ .stored = "{SMD5}RkNuarZjMd6TK8F2B0vilOyLwgk=", .want = 1 },
	{ .stored = "{SSHA}Qwh9laU0UrXFm2Wra0vQV9eEn6F2Fy9Z", .want = 1 },
	/* 3.6 */
	{ .stored = "{SSHA}O1cBJxtR76H5hDuOq5BeOINFf54KhAUT", .want = 1 },
	{ .stored = "{SSHA256}AeNUpwRjlqp73O7OU3uwm9Q+HvAjDaNfmddHLnViNBNT8Do2", .want = 1 },
	{ .stored = "{SSHA512}3c2xI4L0IWtP3JelHrA/EgFXjRlWAR4bjJoWrSf7Yxjmp5tuCW18srTIbYOrC7rcaRB50dab0Ji+xcezt8gHpgz1mS4=", .want = 1 },
	{ .stored = "{SMD5}lvWdTZSA8EE8QWIMy5dskU2tNb8=", .want = 1 },
	{ .stored = "{SSHA.HEX}23007bf0a9def6ba3d2e67e127bc12e6dab54d0772eebdd2", .want = 1 },
	{ .stored = "{SSHA}uJDd0BIdJ9Z7yDCZNWdgYeb33+cBAgME", .want = 1 },
	{ .stored = "{SSHA}uJDd0BIdJ9Z7yDCZ NWdgYeb33+cBAgME", .want = 1 },
	{ .stored = "{SSHA.HEX}b890ddd0121d27d67bc8309935676061e6f7dfe701020304", .want = 1 },
	{ .stored = "{SSHA256}pBFKVQdg8aaZi2INYzmnxxLtStvyMgIOC7TahNLLqCIBAgME", .want = 1 },
	{ .stored = "{SSHA512}MKbQg3rPvz03V+1S0+/jlDdn0B0IiGGxl7kZMimdo1IHHWN6DtzxJMCchsX5U1lrRY7apW/oopOgERexYda1nAECAwQ=", .want = 1 },
	{ .stored = "{SMD5}LF/f6q9WuGXFii+gm3ssYQECAwQ=", .want = 1 },
	{ .stored = "{SSHA}k7Xv4WLvC7YlsqCc1kltZDLHgX6w7c88", .pw = "alicepw", .want = 1 },
	/* 3.7 */
	{ .stored = "{CRYPT}$2y$05$wo/JwQE3uQhSqP7T4RU34uGJ8cD8SPAcCRP2JHYdvO69PxSFBfXCq", .want = 1 },
	{ .stored = "{BLF-CRYPT}$2y$05$ZOsq9bnskb86.wn/YrpPy.CvbX6mQv.20cNBQmUS7Lv.2AHnZKhlC", .want = 1 },
	{ .stored = "{BLF-CRYPT}$2y$12$BbSNyxbOpYCy5ESW3tdyJuOXzgZva/Fvu/gKRjIyNysJPE34YxZTS", .want = 1 },
	{ .stored = "{DES-CRYPT}NbnAiVQq713fc", .want = 1 },
	{ .stored = "{MD5-CRYPT}$1$IjN6i6en$Ng1R7OXvzeELEYgF/vy2U1", .want = 1 },
	{ .stored = "{SHA256-CRYPT}$5$7LryXaR97VgGKBjM$nBpzKqbrYhjSG3X.xbJQ17ZqahCp/X0j.zWdlL4eGQ5", .want = 1 },
	{ .stored = "{SHA512-CRYPT}$6$iIWj5mtLTB4a6s5K$XT/8.dDSob8nT4VyPdlZBKG14CKS0VrFCmim5oHfnlexW42UXyN39s.vzcgDR2s9oNuiebCoNkjO4ynoJMGhE.", .want = 1 },
	{ .stored = "{SHA512-CRYPT}$6$rounds=10000$48fdl9JqxiQQ7tAu$TmBUpfIkBQJV0UHowt3KpIGWAIOsg/vmB0vn0OjXRd/JMN67aNGsA3kifZCZP7uTcP2B8Dj72l1x2AUMb4Ehh.", .want = 1 },
	{ .stored = "{CRYPT}abNANd1rDfiNc", .want = 1 },
	{ .stored = "{CRYPT}$1$saltsalt$9xy1btjgzLYfb7hivXtC//", .want = 1 },
	{ .stored = "{CRYPT}$5$saltsaltsaltsalt$X0ra9qlY7TJaGBDgorLevriQfwysW8fXnbybcO4mF4/", .want = 1 },
	{ .stored = "{CRYPT}$5$rounds=10000$saltsaltsaltsalt$3.q0wxDPPSWRtui9rRNc2IRjV7ksgysXTxfm7sVYx78", .want = 1 },
	{ .stored = "{CRYPT}$6$saltsaltsaltsalt$ph0yGsyjzqdeFaon7.gJZo8eAG5/rj9/JdzOu1Rl7dKzBYg3xgvl7T2VQ2Rt81bc5AXkdA54r0p8QvC1omD6R1", .want = 1 },
	{ .stored = "{CRYPT}$6$rounds=10000$saltsaltsaltsalt$JfKXl4x07umbXIGXrz4jYnDtZt8fIFlNSby2poRKPSFD4PbiQHTxb2NLQPGuaML.ZXPWXKfgxibKFGp.yXoha.", .want = 1 },
	{ .stored = "{CRYPT}$2y$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a", .want = 1 },
	{ .stored = "{CRYPT}$2b$10$abcdefghijklmnopqrstuuqflPDzB6gcMhKa1rZqKiun2YGL5sa2u", .want = 1 },
	{ .stored = "{CRYPT}$y$j9T$saltsaltsaltsaltsalt..$.sEGjsaNkAHVWqJqrOMtn/zbOazf8OXUkDRL2gAfSp9", .want = 1 },
	{ .stored = "{CRYPT}_J9..saltLXKE4peqNCg", .want = 1 },
	{ .stored = "{SHA256-CRYPT}$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", .pw = "Hello world!", .want = 1 },
	{ .stored = "{SHA512-CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", .pw = "Hello world!", .want = 1 },
	{ .stored = "{SHA512-CRYPT}$y$j9T$saltsaltsaltsaltsalt..$.sEGjsaNkAHVWqJqrOMtn/zbOazf8OXUkDRL2gAfSp9", .want = 1 },
	{ .stored = "{DES-CRYPT}$6$saltsaltsaltsalt$ph0yGsyjzqdeFaon7.gJZo8eAG5/rj9/JdzOu1Rl7dKzBYg3xgvl7T2VQ2Rt81bc5AXkdA54r0p8QvC1omD6R1", .want = 1 },
	{ .stored = "{BLF-CRYPT}$2x$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a", .want = 1 },
	{ .stored = "{MD5-CRYPT}$6$saltsaltsaltsalt$ph0yGsyjzqdeFaon7.gJZo8eAG5/rj9/JdzOu1Rl7dKzBYg3xgvl7T2VQ2Rt81bc5AXkdA54r0p8QvC1omD6R1", .want = 0 },
	{ .stored = "{BLF-CRYPT}$6$saltsaltsaltsalt$ph0yGsyjzqdeFaon7.gJZo8eAG5/rj9/JdzOu1Rl7dKzBYg3xgvl7T2VQ2Rt81bc5AXkdA54r0p8QvC1omD6R1", .want = -1, .error = "Password is not blowfish password" },
	{ .stored = "{BLF-CRYPT}$2y$05$abcdefghijklmnopqrstuu", .want = -1, .error = "Password is not blowfish password" },
	{ .stored = "{BLF-CRYPT}$2y$03$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a", .want = -1, .error = "Invalid argument" },
	{ .stored = "{CRYPT}", .pw = "", .want = 0 },
	{ .stored = "{CRYPT}", .want = 0 },
	{ .stored = "{CRYPT}*0", .want = 0 },
	{ .stored = "{CRYPT}a", .want = 0 },
	{ .stored = "{CRYPT}$6$rounds=999$saltsaltsaltsalt$ph0yGsyjzqdeFaon7.gJZo8eAG5/rj9/JdzOu1Rl7dKzBYg3xgvl7T2VQ2Rt81bc5AXkdA54r0p8QvC1omD6R1", .want = 0 },
	{ .stored = "{CRYPT}$argon2id$v=19$m=65536,t=3,p=1$MDEyMzQ1Njc4OWFiY2RlZg$iDjJp0vfyxy5j/Z0pBRNSMahvrjhBoaRI/gy7RpOWHc", .want = 0 },
	{ .stored = "{CRYPT}abNANd1rDfiNc", .pw = "secret\0junk", .pw_len = 11, .want = 0 },
	/* 3.8 */
	{ .stored = "{PBKDF2}$1$B1QTmB27n2bY8QCW$5000$30199fa14a17e9065e9cfb157fea9a36851d2414", .want = 1 },
	{ .stored = "{PBKDF2}$1$bdIcP1G38pUAwrVh$10000$c8d3d95399401995540b5e74f64f8f779c9c35d7", .want = 1 },
	{ .stored = "{PBKDF2}$1$saltsaltsaltsalt$5000$8e455ae73af786d64f3a0b291ef71a407519dbe8", .want = 1 },
	{ .stored = "{PBKDF2}$1$saltsaltsaltsalt$5000$8E455AE73AF786D64F3A0B291EF71A407519DBE8", .want = 1 },
	{ .stored = "{PBKDF2}$1$saltsaltsaltsalt$0$8e455ae73af786d64f3a0b291ef71a407519dbe8", .want = 0 },
	{ .stored = "{PBKDF2}$1$salt$abc$8e455ae73af786d64f3a0b291ef71a407519dbe8", .want = -1, .error = "Invalid PBKDF2 passdb entry format" },
	{ .stored = "{PBKDF2}$1$salt$5000$8e455ae73af786d64f3a0b291ef71a407519dbe8$x", .want = -1, .error = "Invalid PBKDF2 passdb entry format" },
	{ .stored = "{PBKDF2}$2$salt$5000$8e455ae73af786d64f3a0b291ef71a407519dbe8", .want = -1, .error = "Invalid PBKDF2 passdb entry prefix" },
	{ .stored = "{PBKDF2}$1$salt$5000$8e455ae73af786d64f3a0b291ef71a407519dbe", .want = -1, .error = "PBKDF2 hash not 160bit hex-encoded" },
	/* 3.9 */
	{ .stored = "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$e69IFAuJmsSjnp4zPGIZ0A$XzhYzLzRyXyX59M10u+XaGIhCcaBmapMwnoAdAlyzgk", .want = 1 },
	{ .stored = "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$PW9OKQta1pfUEkCRTtR2Qg$4BA8bATyLEfuWa1XIz4jlLLNgd7DC6SSkVNSe2M1NxM", .want = 1 },
	{ .stored = "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$MDEyMzQ1Njc4OWFiY2RlZg$iDjJp0vfyxy5j/Z0pBRNSMahvrjhBoaRI/gy7RpOWHc", .want = 1 },
	{ .stored = "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$MDEyMzQ1Njc4OWFiY2RlZg$4Ql9J5ix+zG/6fVzABHEQIgesT2JjUPAh4iFPIarTGg", .want = 1 },
	{ .stored = "{ARGON2ID}$argon2id$v=19$m=19456,t=2,p=4$MDEyMzQ1Njc4OWFiY2RlZg$irS7If7Pp+OSrL1W5MRVVN55NQQt7uZGxh48v0IUyHo", .want = 1 },
	{ .stored = "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$MDEyMzQ1Njc4OWFiY2RlZg$/uIDCVM7bxFKRUOemyMLEg", .want = 1 },
	{ .stored = "{ARGON2I}$argon2id$v=19$m=65536,t=3,p=1$MDEyMzQ1Njc4OWFiY2RlZg$iDjJp0vfyxy5j/Z0pBRNSMahvrjhBoaRI/gy7RpOWHc", .want = 1 },
	{ .stored = "{ARGON2I}garbage", .want = 0 },
	/* 3.10 */
	{ .stored = "{CRAM-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56", .want = 1 },
	{ .stored = "{HMAC-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56", .want = 1 },
	{ .stored = "{CRAM-MD5.B64}zTun3qrW5cojRIukLjeXR6ng9/H7wAyKgbuqw5VzG1Y=", .want = 1 },
	{ .stored = "{CRAM-MD5}zTun3qrW5cojRIukLjeXR6ng9/H7wAyKgbuqw5VzG1Y=", .want = 1 },
	{ .stored = "{CRAM-MD5}00747cf2ffaf11c5ea4a64979c3901fc1d20dee13f480bb598f7d8575b23e61b", .pw = "", .want = 1 },
	{ .stored = "{CRAM-MD5}1a0bddb1a864b020038984bb2064615f7791c11be63f6cd75e81fa5de745fb4e", .pw = "Password123!", .want = 1 },
	{ .stored = "{CRAM-MD5}4a60bd37924fc5d45b4c92ce695bac86cb234bc3028aab2a71a225cb0dedfbb9", .pw = "p\xc3\xa4ssw\xc3\xb6rd", .want = 1 },
	{ .stored = "{CRAM-MD5}d06d4e1b26fccaa4b0b61801132340a354b21152711fb604ca3e035e7015116b", .pw = "tanstaaftanstaaf", .want = 1 },
	{ .stored = "{CRAM-MD5}8103bb3a2a4b96a9ca9cce4efecc8d22ebe7163dff7401afb5aa16d4edcf9f1f", .pw = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", .want = 1 },
	{ .stored = "{CRAM-MD5}52197db948d0932512a61b183e7d05b04e94d60a3bb0d00f92d3df52a5d275ca", .pw = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", .want = 1 },
	/* 3.11 */
	{ .stored = "{DIGEST-MD5}30969131580e626606ce70ceaab77719", .user = "user@example.com", .want = 1 },
	{ .stored = "{DIGEST-MD5.B64}MJaRMVgOYmYGznDOqrd3GQ==", .user = "user@example.com", .want = 1 },
	{ .stored = "{DIGEST-MD5}cc3a3506aba601d2feee7bf9b34237ce", .user = "alice", .want = 1 },
	{ .stored = "{DIGEST-MD5}af80815f44fe05fbb5759b7edfd47662", .user = "alice@example.com@realm.test", .want = 1 },
	{ .stored = "{DIGEST-MD5}0e80d1941972dc8526b10ee9df658dc8", .pw = "Password123!", .user = "user@example.com", .want = 1 },
	{ .stored = "{DIGEST-MD5}2b6082202a1a31978ba774b9164fbdd0", .pw = "oscarpw", .user = "oscar@example.com", .want = 1 },
	{ .stored = "{DIGEST-MD5}30969131580e626606ce70ceaab77719", .user = "user@example.org", .want = 0 },
	/* 3.12 */
	{ .stored = "{SCRAM-SHA-1}4096,KWZE0cSKWgx1Wou+E8TUqw==,pxhe90ZKOUND4IJPbomphnc6NiU=,TNfk4asBrBc/AiCd2RAW6YXeAOg=", .want = 1 },
	{ .stored = "{SCRAM-SHA-256}4096,0IpOHjvfksdQHgbUJEm2Dg==,w0LXtL014IeSvmTgU4wpMH7oFmJf5y/tXtqNvyMNjKw=,50wGBi4vMD7VZYNvp2EBoIV/vUK5e3/dnBi0K66ZVx4=", .want = 1 },
	{ .stored = "{SCRAM-SHA-1}4096,AAECAwQFBgcICQoLDA0ODw==,Y70Wjxts9xDvZXVZpf765VU+gt4=,6tMKK7QnVeI0U1t+EDZXP1e5Qys=", .want = 1 },
	{ .stored = "{SCRAM-SHA-256}4096,AAECAwQFBgcICQoLDA0ODw==,THoPhoTAuqyoQsK4dUHncUzgfD8fdmhsgKZhWVqNP5U=,7YiHMMi2OcXGRogub03Ek06JRZ9bkhTOdCzHa5iPLiQ=", .want = 1 },
	{ .stored = "{SCRAM-SHA-256}1000,AAECAwQFBgcICQoLDA0ODw==,THoPhoTAuqyoQsK4dUHncUzgfD8fdmhsgKZhWVqNP5U=,7YiHMMi2OcXGRogub03Ek06JRZ9bkhTOdCzHa5iPLiQ=", .want = -1, .error = "Invalid SCRAM-SHA-256 iteration count in passdb" },
	{ .stored = "{SCRAM-SHA-1}4096,abc", .want = -1, .error = "Invalid SCRAM-SHA-1 passdb entry format" },
	{ .stored = "{SCRAM-SHA-1}4096,AAECAwQFBgcICQoLDA0ODw==,Y70Wjxts9xDvZXVZpf765VU+gt4=,6tMKK7QnVeI0U1t+EDZXP1e5Qys=,", .want = -1, .error = "passdb entry format" },
	{ .stored = "{SCRAM-SHA-1}4096,AAECAwQFBgcICQoLDA0ODw==,Y70Wjxts9xDvZXVZpf765VU+gt4,6tMKK7QnVeI0U1t+EDZXP1e5Qys=", .want = -1, .error = "Invalid SCRAM-SHA-1 StoredKey in passdb" },
	{ .stored = "{SCRAM-SHA-1}4096,AAECAwQFBgcICQoLDA0ODw==,Y70Wjxts9xDvZXVZpf765VU+gt4=,6tMKK7Qn", .want = -1, .error = "Invalid SCRAM-SHA-1 ServerKey in passdb" },
	/* 3.13 */
	{ .stored = "{OTP}sha1 1024 135dca78a05735a2 dd50eae13155c50b", .want = 1 },
	{ .stored = "{OTP}sha1 1024 135DCA78a05735a2 DD50eae13155c50b", .want = 1 },
	{ .stored = "{OTP}sha1 0 TeSt bb9e6ae1979d8ff4", .pw = "This is a test.", .want = 1 },
	{ .stored = "{OTP}md5 0 TeSt 9e876134d90499dd", .pw = "This is a test.", .want = 1 },
	{ .stored = "{OTP}sha1 1 TeSt 63d936639734385b", .pw = "This is a test.", .want = 1 },
	{ .stored = "{OTP}sha1 1024 135dca78a05735a2  dd50eae13155c50b", .want = 0 },
	{ .stored = "{OTP}SHA1 1024 135dca78a05735a2 dd50eae13155c50b", .want = -1, .error = "Invalid OTP data in passdb" },
	{ .stored = "{OTP}sha1 1024 135dca78-05735a2 dd50eae13155c50b", .want = -1, .error = "Invalid OTP data in passdb" },
	/* 2.3 decoding errors */
	{ .stored = "{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ", .want = -1, .error = "Input isn't valid base64 encoded data" },
	{ .stored = "{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ==", .want = -1, .error = "Input isn't valid base64 encoded data" },
	{ .stored = "{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ=AAAA", .want = -1, .error = "Input isn't valid base64 encoded data" },
	{ .stored = "{SHA256}K7gNU3sdo-OL0wNhqoVWhr3g6s1xYv72ol_pe_Unols=", .want = -1, .error = "Input isn't valid base64 encoded data" },
	{ .stored = "{SHA1}YWJj", .want = -1, .error = "Input length isn't valid (3 instead of 20)" },
	{ .stored = "{SHA1.HEX}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05fz", .want = -1, .error = "Input isn't valid HEX encoded data" },
	{ .stored = "{SHA1.HEX}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f", .want = -1, .error = "Input isn't valid HEX encoded data" },
	{ .stored = "{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee6g", .want = -1, .error = "Input length isn't valid (24 instead of 16)" },
	{ .stored = "{PLAIN-MD5.b64}5ebe2294ecd0e0f08eab7690d2a6ee69", .want = -1, .error = "Input length isn't valid (24 instead of 16)" },
	{ .stored = "{SSHA}AAAA", .want = -1, .error = "SSHA password is too short" },
	{ .stored = "{SSHA512}AAAA", .want = -1, .error = "SSHA512 password is too short" },
	{ .stored = "{SSHA.HEX}23007bf0a9def6ba3d2e67e127bc12e6dab54d0772eebdd", .want = -1, .error = "Input isn't valid HEX encoded data" },
	{ .stored = "{PLAIN.hex}7365637265", .want = 0 },
	{ .stored = "{DIGEST-MD5}30969131580e626606ce70ceaab77719", .user = "", .want = 0 },
	/* 2.1 / 2.4 prefix rules on the verify path */
	{ .stored = "$1$saltsalt$9xy1btjgzLYfb7hivXtC//$ignored", .want = 1 },
	{ .stored = "$1$IjN6i6en$Ng1R7OXvzeELEYgF/vy2U1", .want = 1, .no_default = true },
	{ .stored = "abNANd1rDfiNc", .want = 1 },
	{ .stored = "secret", .want = 0 },
};

/* fixtures/doveadm-vectors-secret.tsv (scheme, `doveadm pw -s` output,
 * `doveadm pw -t` result), password "secret", user user@example.com. */
static const struct {
	const char *scheme;
	const char *stored;
	int want;
} tsv_vectors[] = {
	{ .scheme = "SHA1", .stored = "{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ=", .want = 1 },
	{ .scheme = "SSHA512", .stored = "{SSHA512}3c2xI4L0IWtP3JelHrA/EgFXjRlWAR4bjJoWrSf7Yxjmp5tuCW18srTIbYOrC7rcaRB50dab0Ji+xcezt8gHpgz1mS4=", .want = 1 },
	{ .scheme = "SCRAM-SHA-256", .stored = "{SCRAM-SHA-256}4096,0IpOHjvfksdQHgbUJEm2Dg==,w0LXtL014IeSvmTgU4wpMH7oFmJf5y/tXtqNvyMNjKw=,50wGBi4vMD7VZYNvp2EBoIV/vUK5e3/dnBi0K66ZVx4=", .want = 1 },
	{ .scheme = "BLF-CRYPT", .stored = "{BLF-CRYPT}$2y$05$ZOsq9bnskb86.wn/YrpPy.CvbX6mQv.20cNBQmUS7Lv.2AHnZKhlC", .want = 1 },
	{ .scheme = "PLAIN", .stored = "{PLAIN}secret", .want = 1 },
	{ .scheme = "HMAC-MD5", .stored = "{HMAC-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56", .want = 1 },
	{ .scheme = "OTP", .stored = "{OTP}sha1 1024 135dca78a05735a2 dd50eae13155c50b", .want = 1 },
	{ .scheme = "SHA512", .stored = "{SHA512}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2cmW192CF5bDufKRpayrW/isg==", .want = 1 },
	{ .scheme = "SHA", .stored = "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", .want = 1 },
	{ .scheme = "DES-CRYPT", .stored = "{DES-CRYPT}NbnAiVQq713fc", .want = 1 },
	{ .scheme = "CRYPT", .stored = "{CRYPT}$2y$05$wo/JwQE3uQhSqP7T4RU34uGJ8cD8SPAcCRP2JHYdvO69PxSFBfXCq", .want = 1 },
	{ .scheme = "SSHA", .stored = "{SSHA}O1cBJxtR76H5hDuOq5BeOINFf54KhAUT", .want = 1 },
	{ .scheme = "MD5-CRYPT", .stored = "{MD5-CRYPT}$1$IjN6i6en$Ng1R7OXvzeELEYgF/vy2U1", .want = 1 },
	{ .scheme = "PLAIN-MD4", .stored = "{PLAIN-MD4}67d3dafef63ff00603aeef3769cfbf0d", .want = 1 },
	{ .scheme = "PLAIN-MD5", .stored = "{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69", .want = 1 },
	{ .scheme = "SCRAM-SHA-1", .stored = "{SCRAM-SHA-1}4096,KWZE0cSKWgx1Wou+E8TUqw==,pxhe90ZKOUND4IJPbomphnc6NiU=,TNfk4asBrBc/AiCd2RAW6YXeAOg=", .want = 1 },
	{ .scheme = "SHA512-CRYPT", .stored = "{SHA512-CRYPT}$6$iIWj5mtLTB4a6s5K$XT/8.dDSob8nT4VyPdlZBKG14CKS0VrFCmim5oHfnlexW42UXyN39s.vzcgDR2s9oNuiebCoNkjO4ynoJMGhE.", .want = 1 },
	{ .scheme = "CLEAR", .stored = "{CLEAR}secret", .want = 1 },
	{ .scheme = "CLEARTEXT", .stored = "{CLEARTEXT}secret", .want = 1 },
	{ .scheme = "ARGON2I", .stored = "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$e69IFAuJmsSjnp4zPGIZ0A$XzhYzLzRyXyX59M10u+XaGIhCcaBmapMwnoAdAlyzgk", .want = 1 },
	{ .scheme = "ARGON2ID", .stored = "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$PW9OKQta1pfUEkCRTtR2Qg$4BA8bATyLEfuWa1XIz4jlLLNgd7DC6SSkVNSe2M1NxM", .want = 1 },
	{ .scheme = "SSHA256", .stored = "{SSHA256}AeNUpwRjlqp73O7OU3uwm9Q+HvAjDaNfmddHLnViNBNT8Do2", .want = 1 },
	{ .scheme = "MD5", .stored = "{MD5}$1$z1Gz0kwy$Q0jSIsLMfhjfoaw6LZLjo/", .want = 1 },
	{ .scheme = "PBKDF2", .stored = "{PBKDF2}$1$B1QTmB27n2bY8QCW$5000$30199fa14a17e9065e9cfb157fea9a36851d2414", .want = 1 },
	{ .scheme = "SHA256", .stored = "{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=", .want = 1 },
	{ .scheme = "CRAM-MD5", .stored = "{CRAM-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56", .want = 1 },
	{ .scheme = "PLAIN-TRUNC", .stored = "{PLAIN-TRUNC}secret", .want = -1 },
	{ .scheme = "SHA256-CRYPT", .stored = "{SHA256-CRYPT}$5$7LryXaR97VgGKBjM$nBpzKqbrYhjSG3X.xbJQ17ZqahCp/X0j.zWdlL4eGQ5", .want = 1 },
	{ .scheme = "SMD5", .stored = "{SMD5}lvWdTZSA8EE8QWIMy5dskU2tNb8=", .want = 1 },
	{ .scheme = "DIGEST-MD5", .stored = "{DIGEST-MD5}30969131580e626606ce70ceaab77719", .want = 1 },
	{ .scheme = "LDAP-MD5", .stored = "{LDAP-MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==", .want = 1 },
};

static int run_verify(const char *stored, const char *pw, size_t pw_len, const char *user,
		      bool no_default, const char **error_r)
{
	struct scheme_stored st;
	*error_r = NULL;
	if (scheme_parse_stored(stored, strlen(stored), no_default ? NULL : "CRYPT",
				SCHEME_PREFIX_PASSWD_FILE, &st, error_r) != 1)
		return -2;
	return scheme_verify(&st, (const uint8_t *)pw, pw_len, user, error_r);
}

/* The thread-local error buffer (what "Unknown scheme X" points into). */
static const char *tls_error_buffer(void)
{
	struct scheme_stored st;
	const char *error = NULL;
	assert_int_equal(scheme_parse_stored("{NOSUCH}", 8, NULL, SCHEME_PREFIX_FIELD, &st, &error), 0);
	return error;
}

static void check_case(const struct verify_case *c)
{
	const char *pw = c->pw != NULL ? c->pw : "secret";
	size_t pw_len = c->pw_len != 0 ? c->pw_len : strlen(pw);
	const char *user = c->user != NULL ? c->user : "user@example.com";
	const char *error;
	int got = run_verify(c->stored, pw, pw_len, user, c->no_default, &error);
	if (got != c->want)
		fail_msg("%s: got %d (%s), want %d", c->stored, got, error ? error : "-", c->want);
	if (c->want == -1 && (error == NULL || strstr(error, c->error) == NULL))
		fail_msg("%s: got error '%s', want '%s'", c->stored, error ? error : "(null)", c->error);
	struct scheme_stored st;
	const char *perr;
	if (c->want == -1 &&
	    scheme_parse_stored(c->stored, strlen(c->stored), NULL, SCHEME_PREFIX_FIELD, &st, &perr) == 1 &&
	    scheme_is_expensive(&st) && run_verify(c->stored, pw, pw_len, user, c->no_default, &error) &&
	    error == tls_error_buffer())
		fail_msg("%s: an expensive scheme returned a thread-local error text", c->stored);
	if (c->want != 1)
		return;
	/* The same value must reject a different password. */
	char wrong[256];
	size_t wrong_len = pw_len == 0 ? 1 : pw_len;
	assert_true(wrong_len <= sizeof(wrong));
	memcpy(wrong, pw_len == 0 ? "x" : pw, wrong_len);
	wrong[0] ^= 0x01;
	got = run_verify(c->stored, wrong, wrong_len, user, c->no_default, &error);
	if (got != 0)
		fail_msg("%s with a wrong password: got %d, want 0", c->stored, got);
}

static void test_spec_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(spec_vectors) / sizeof(spec_vectors[0]); i++)
		check_case(&spec_vectors[i]);
}

static void test_tsv_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(tsv_vectors) / sizeof(tsv_vectors[0]); i++) {
		struct verify_case c = {
			.stored = tsv_vectors[i].stored, .want = tsv_vectors[i].want,
			.error = "PLAIN-TRUNC missing length: prefix",
		};
		check_case(&c);
		/* Every scheme of `doveadm pw -l` is known under its own name. */
		if (scheme_find(tsv_vectors[i].scheme) == NULL)
			fail_msg("scheme_find(%s): got NULL", tsv_vectors[i].scheme);
	}
}

struct parse_case {
	const char *stored;
	enum scheme_prefix_rule rule;
	const char *deflt;
	int want;
	const char *name;        /* want == 1: canonical scheme name */
	enum scheme_encoding enc;
	bool enc_explicit;
	const char *data;
	const char *error;       /* want == 0 */
};

#define PF SCHEME_PREFIX_PASSWD_FILE
#define FLD SCHEME_PREFIX_FIELD

static const struct parse_case parse_cases[] = {
	{ .stored = "{SHA256}abc", .rule = PF, .deflt = "CRYPT", .want = 1, .name = "SHA256",
	  .enc = SCHEME_ENC_BASE64, .data = "abc" },
	{ .stored = "{sha256.HEX}ab", .rule = PF, .deflt = "CRYPT", .want = 1, .name = "SHA256",
	  .enc = SCHEME_ENC_HEX, .enc_explicit = true, .data = "ab" },
	{ .stored = "{SSHA.b64}x", .rule = PF, .deflt = "CRYPT", .want = 1, .name = "SSHA",
	  .enc = SCHEME_ENC_BASE64, .enc_explicit = true, .data = "x" },
	{ .stored = "{SSHA.Base64}x", .rule = FLD, .deflt = "CRYPT", .want = 1, .name = "SSHA",
	  .enc = SCHEME_ENC_BASE64, .enc_explicit = true, .data = "x" },
	{ .stored = "{PLAIN.HEX}7365", .rule = PF, .deflt = "CRYPT", .want = 1, .name = "PLAIN",
	  .enc = SCHEME_ENC_HEX, .enc_explicit = true, .data = "7365" },
	{ .stored = "{CLEAR}x", .rule = PF, .deflt = "CRYPT", .want = 1, .name = "PLAIN",
	  .enc = SCHEME_ENC_NONE, .data = "x" },
	{ .stored = "{HMAC-MD5}x", .rule = PF, .deflt = "CRYPT", .want = 1, .name = "HMAC-MD5",
	  .enc = SCHEME_ENC_BASE64, .data = "x" },
	{ .stored = "{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69", .rule = PF, .deflt = "CRYPT",
	  .want = 1, .name = "PLAIN-MD5", .enc = SCHEME_ENC_HEX,
	  .data = "5ebe2294ecd0e0f08eab7690d2a6ee69" },
	{ .stored = "{PLAIN-MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==", .rule = PF, .deflt = "CRYPT", .want = 1,
	  .name = "PLAIN-MD5", .enc = SCHEME_ENC_BASE64, .data = "Xr4ilOzQ4PCOq3aQ0qbuaQ==" },
	{ .stored = "{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee6g", .rule = PF, .deflt = "CRYPT",
	  .want = 1, .name = "PLAIN-MD5", .enc = SCHEME_ENC_BASE64,
	  .data = "5ebe2294ecd0e0f08eab7690d2a6ee6g" },
	{ .stored = "{LDAP-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69", .rule = PF, .deflt = "CRYPT",
	  .want = 1, .name = "LDAP-MD5", .enc = SCHEME_ENC_HEX,
	  .data = "5ebe2294ecd0e0f08eab7690d2a6ee69" },
	{ .stored = "{CRYPT}$2y$05$x", .rule = PF, .deflt = "PLAIN", .want = 1, .name = "CRYPT",
	  .enc = SCHEME_ENC_NONE, .data = "$2y$05$x" },
	{ .stored = "{PLAIN}a}b", .rule = PF, .deflt = "CRYPT", .want = 1, .name = "PLAIN",
	  .enc = SCHEME_ENC_NONE, .data = "a}b" },
	{ .stored = "{PLAIN", .rule = PF, .deflt = "CRYPT", .want = 1, .name = "CRYPT",
	  .enc = SCHEME_ENC_NONE, .data = "{PLAIN" },
	{ .stored = "", .rule = PF, .deflt = "CRYPT", .want = 1, .name = "CRYPT",
	  .enc = SCHEME_ENC_NONE, .data = "" },
	{ .stored = "$1$salt$hash$junk", .rule = PF, .deflt = "PLAIN", .want = 1,
	  .name = "MD5-CRYPT", .enc = SCHEME_ENC_NONE, .data = "$1$salt$hash" },
	{ .stored = "$1$salt$hash", .rule = PF, .deflt = "PLAIN", .want = 1, .name = "MD5-CRYPT",
	  .enc = SCHEME_ENC_NONE, .data = "$1$salt$hash" },
	{ .stored = "$1$abc$", .rule = PF, .deflt = "PLAIN", .want = 1, .name = "MD5-CRYPT",
	  .enc = SCHEME_ENC_NONE, .data = "$1$abc$" },
	{ .stored = "$1$abc", .rule = PF, .deflt = "PLAIN", .want = 1, .name = "PLAIN",
	  .enc = SCHEME_ENC_NONE, .data = "$1$abc" },
	{ .stored = "$1$salt$hash$junk", .rule = FLD, .deflt = "PLAIN", .want = 1, .name = "PLAIN",
	  .enc = SCHEME_ENC_NONE, .data = "$1$salt$hash$junk" },
	{ .stored = "$1$salt$hash$junk", .rule = PF, .deflt = NULL, .want = 1,
	  .name = "MD5-CRYPT", .enc = SCHEME_ENC_NONE, .data = "$1$salt$hash" },
	{ .stored = "abc", .rule = PF, .deflt = "sha256.hex", .want = 1, .name = "SHA256",
	  .enc = SCHEME_ENC_HEX, .enc_explicit = true, .data = "abc" },
	{ .stored = "abc", .rule = FLD, .deflt = NULL, .want = 0, .error = "Missing {scheme} prefix" },
	{ .stored = "{SHA256.xyz}abc", .rule = PF, .deflt = "CRYPT", .want = 0,
	  .error = "Unknown scheme SHA256.xyz" },
	{ .stored = "{SHA1.HEX.B64}abc", .rule = PF, .deflt = "CRYPT", .want = 0,
	  .error = "Unknown scheme SHA1.HEX.B64" },
	{ .stored = "{NOSUCH}x", .rule = PF, .deflt = "CRYPT", .want = 0,
	  .error = "Unknown scheme NOSUCH" },
	{ .stored = "{}x", .rule = PF, .deflt = "CRYPT", .want = 0, .error = "Unknown scheme " },
	{ .stored = "{A\nB}x", .rule = PF, .deflt = "CRYPT", .want = 0, .error = "Unknown scheme A?B" },
	{ .stored = "{AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA}x",
	  .rule = PF, .deflt = "CRYPT", .want = 0,
	  .error = "Unknown scheme AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA..." },
	{ .stored = "x", .rule = PF, .deflt = "NOSUCH", .want = 0, .error = "Unknown scheme NOSUCH" },
};

static void test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct scheme_stored st;
		const char *error = NULL;
		int got = scheme_parse_stored(c->stored, strlen(c->stored), c->deflt, c->rule, &st,
					      &error);
		if (got != c->want)
			fail_msg("%s: got %d (%s), want %d", c->stored, got, error ? error : "-",
				 c->want);
		if (got == 0) {
			if (strcmp(error, c->error) != 0)
				fail_msg("%s: got error '%s', want '%s'", c->stored, error, c->error);
			continue;
		}
		if (strcmp(st.scheme_name, c->name) != 0 || st.scheme != scheme_find(c->name))
			fail_msg("%s: got scheme %s, want %s", c->stored, st.scheme_name, c->name);
		if (st.enc != c->enc || st.enc_explicit != c->enc_explicit)
			fail_msg("%s: got enc %d/%d, want %d/%d", c->stored, st.enc, st.enc_explicit,
				 c->enc, c->enc_explicit);
		if (st.data_len != strlen(c->data) || memcmp(st.data, c->data, st.data_len) != 0)
			fail_msg("%s: got data '%.*s', want '%s'", c->stored, (int)st.data_len,
				 st.data, c->data);
	}
}

/* `doveadm pw -l` on the reference machine. */
static const char *const doveadm_names[] = {
	"SHA1", "SSHA512", "SCRAM-SHA-256", "BLF-CRYPT", "PLAIN", "HMAC-MD5", "OTP", "SHA512",
	"SHA", "DES-CRYPT", "CRYPT", "SSHA", "MD5-CRYPT", "PLAIN-MD4", "PLAIN-MD5",
	"SCRAM-SHA-1", "SHA512-CRYPT", "CLEAR", "CLEARTEXT", "ARGON2I", "ARGON2ID", "SSHA256",
	"MD5", "PBKDF2", "SHA256", "CRAM-MD5", "PLAIN-TRUNC", "SHA256-CRYPT", "SMD5",
	"DIGEST-MD5", "LDAP-MD5",
};

static void test_scheme_names(void **state)
{
	(void)state;
	size_t n = sizeof(doveadm_names) / sizeof(doveadm_names[0]), got = 0;
	while (scheme_list_name(got) != NULL) {
		const char *name = scheme_list_name(got++);
		bool found = false;
		for (size_t i = 0; i < n; i++)
			found |= strcmp(doveadm_names[i], name) == 0;
		if (!found)
			fail_msg("scheme_list_name: %s is not in doveadm pw -l", name);
	}
	if (got != n)
		fail_msg("scheme_list_name: got %zu names, want %zu", got, n);
	assert_ptr_equal(scheme_find("sha"), scheme_find("SHA1"));
	assert_string_equal(scheme_name(scheme_find("cleartext")), "PLAIN");
	assert_null(scheme_find("SHA1.HEX"));
	assert_null(scheme_find("NOSUCH"));
	assert_true(scheme_spec_valid("crypt"));
	assert_true(scheme_spec_valid("SHA256.HEX"));
	assert_true(scheme_spec_valid("ssha.b64"));
	assert_false(scheme_spec_valid("SHA256.xyz"));
	assert_false(scheme_spec_valid("NOSUCH"));
	assert_false(scheme_spec_valid(""));
	static const char *const same[][2] = {
		{ "PLAIN", "PLAIN-TRUNC" }, { "CLEAR", "CLEARTEXT" }, { "SHA", "SHA1" },
		{ "PLAIN-MD5", "LDAP-MD5" }, { "MD5", "MD5-CRYPT" }, { "CRYPT", "BLF-CRYPT" },
		{ "CRAM-MD5", "HMAC-MD5" },
	};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		assert_true(scheme_same_credentials(scheme_find(same[i][0]), scheme_find(same[i][1])));
	assert_false(scheme_same_credentials(scheme_find("SCRAM-SHA-1"), scheme_find("SCRAM-SHA-256")));
	assert_false(scheme_same_credentials(scheme_find("CRYPT"), scheme_find("SHA512-CRYPT")));
	assert_false(scheme_same_credentials(scheme_find("PLAIN"), scheme_find("CRAM-MD5")));
	assert_true(scheme_is_weak(scheme_find("PLAIN-MD5")));
	assert_false(scheme_is_weak(scheme_find("SHA512-CRYPT")));
}

static void test_decode(void **state)
{
	(void)state;
	static const struct {
		const char *stored;
		const char *raw_hex;     /* NULL: decoding fails */
		bool expensive;
	} cases[] = {
		{ "{PLAIN-MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==", "5ebe2294ecd0e0f08eab7690d2a6ee69", false },
		{ "{LDAP-MD5}5EBE2294ECD0E0F08EAB7690D2A6EE69", "5ebe2294ecd0e0f08eab7690d2a6ee69", false },
		{ "{PLAIN.B64}c2Vj cmV0", "736563726574", false },
		{ "{PLAIN}secret", "736563726574", false },
		{ "{SHA512-CRYPT.HEX}2436", "2436", true },
		{ "{CRAM-MD5}00", NULL, false },
		{ "{SHA1.HEX}zz", NULL, false },
		{ "{ARGON2ID}$argon2id$", "246172676f6e32696424", true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct scheme_stored st;
		struct buf raw = BUF_INIT(0), hex = BUF_INIT(0);
		const char *error = NULL;
		assert_int_equal(scheme_parse_stored(cases[i].stored, strlen(cases[i].stored), NULL,
						     PF, &st, &error), 1);
		assert_int_equal(scheme_is_expensive(&st), cases[i].expensive);
		int got = scheme_decode(&st, &raw, &error);
		if (cases[i].raw_hex == NULL) {
			if (got != -1 || error == NULL)
				fail_msg("%s: got %d, want -1 with an error", cases[i].stored, got);
		} else {
			assert_int_equal(hex_encode(&hex, raw.data, raw.len), 0);
			if (got != 1 || strcmp(buf_cstr(&hex), cases[i].raw_hex) != 0)
				fail_msg("%s: got %d %s, want %s", cases[i].stored, got, buf_cstr(&hex),
					 cases[i].raw_hex);
		}
		buf_free(&raw);
		buf_free(&hex);
	}
}

static void test_cram_md5_response(void **state)
{
	(void)state;
	uint8_t ctx[SCHEME_CRAM_MD5_CONTEXT_LEN], resp[SCHEME_CRAM_MD5_RESPONSE_LEN];
	uint8_t want[EVP_MAX_MD_SIZE];
	unsigned int want_len;
	const char *chal = "<1896.697170952@postoffice.reston.mci.com>";
	struct buf hex = BUF_INIT(0);
	scheme_cram_md5_context((const uint8_t *)"tanstaaftanstaaf", 16, ctx);
	scheme_cram_md5_response(ctx, (const uint8_t *)chal, strlen(chal), resp);
	assert_int_equal(hex_encode(&hex, resp, sizeof(resp)), 0);
	assert_string_equal(buf_cstr(&hex), "da8568ed2db4dbfaeec1cc52bd269ccf");
	buf_free(&hex);
	/* Against OpenSSL's HMAC for keys around the block size. */
	uint8_t key[100];
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	static const size_t key_lens[] = { 0, 1, 63, 64, 65, 100 };
	for (size_t k = 0; k < sizeof(key_lens) / sizeof(key_lens[0]); k++) {
		scheme_cram_md5_context(key, key_lens[k], ctx);
		scheme_cram_md5_response(ctx, (const uint8_t *)chal, strlen(chal), resp);
		HMAC(EVP_md5(), key, (int)key_lens[k], (const uint8_t *)chal, strlen(chal), want,
		     &want_len);
		if (want_len != sizeof(resp) || memcmp(want, resp, sizeof(resp)) != 0)
			fail_msg("key length %zu: response differs from HMAC-MD5", key_lens[k]);
	}
}

static void test_digest_md5_needs_user(void **state)
{
	(void)state;
	const char *stored = "{DIGEST-MD5}30969131580e626606ce70ceaab77719", *error = NULL;
	struct scheme_stored st;
	assert_int_equal(scheme_parse_stored(stored, strlen(stored), NULL, FLD, &st, &error), 1);
	assert_int_equal(scheme_verify(&st, (const uint8_t *)"secret", 6, NULL, &error), -1);
	assert_non_null(strstr(error, "user name"));
}

/* Runs first: MD4 through the low-level fallback, then scheme_init() and
 * MD4 through the legacy provider (also for plain EVP users). */
static void test_md4_and_init(void **state)
{
	(void)state;
	const struct verify_case md4 = {
		.stored = "{PLAIN-MD4}67d3dafef63ff00603aeef3769cfbf0d", .want = 1,
	};
	check_case(&md4);
	assert_int_equal(scheme_init(), 0);
	assert_int_equal(scheme_init(), 0);
	check_case(&md4);
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	assert_int_equal(EVP_Digest("secret", 6, digest, &len, EVP_md4(), NULL), 1);
	assert_int_equal(len, 16);
	assert_int_equal(digest[0], 0x67);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_md4_and_init),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_scheme_names),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_cram_md5_response),
		cmocka_unit_test(test_digest_md5_needs_user),
		cmocka_unit_test(test_spec_vectors),
		cmocka_unit_test(test_tsv_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
