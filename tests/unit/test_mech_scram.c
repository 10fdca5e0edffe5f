/* test_mech_scram: SCRAM-SHA-1/256/512 (RFC 5802, 7677, spec 6.5) through
 * struct mech: the RFC 5802 and RFC 7677 example exchanges, a real Dovecot
 * exchange (transcript 04), SHA-512 / authzid / "y" / extension vectors
 * computed independently (Python hashlib), server-first and nonce format,
 * and malformed client messages and credentials. */
#include "tests/unit/mech_driver.h"
#include "mechanisms/mech_scram_private.h"

/* RFC 5802 section 5: user / pencil */
#define S1_CRED "4096,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,D+CSWLOshSulAsxiupA+qs2/fTE="
#define S1_SNONCE "3rfcNHYJY1ZVvWVs7j"
#define S1_FIRST "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"
#define S1_SFIRST "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"
#define S1_NONCE "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j"
#define S1_FINAL "c=biws," S1_NONCE ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
#define S1_V "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="

/* RFC 7677 section 3: user / pencil */
#define S256_CRED "4096,W22ZaJ0SNY7soEsUEjb6gQ==,WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=," \
		  "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
#define S256_SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define S256_FIRST "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define S256_SFIRST "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define S256_FINAL "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
		   "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define S256_V "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

/* SHA-512, same inputs as RFC 7677 (no published vector; computed). */
#define S512_CRED "4096,W22ZaJ0SNY7soEsUEjb6gQ==,6AAub3065EYRmyFpM2RNwqK+eGnrkYuEWbXn19LsEmBqzu8QaCXNc1Fw" \
		  "pnX9NhH2hK/60dzj9DoO5DvVkOHbvg==,jZHbYjC1aHh0/hKbxyBuGFjDrgjgKTT1esA7awWiKcRZ0o/0b1y" \
		  "WEebBeSVkkCFewf91nLDfKF24mvD5nmE6rA=="
#define S512_FINAL "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=gMGXRcevScNtxZ6/8lQY" \
		   "pGtnsNAc3mGcmNomv+xnoOMw+3R2xNJdMNnzMlTN8PPC6wdp6dybEmDYXYTxwnYPJQ=="
#define S512_V "v=ZQnYEgWQMFmmsM8aQMF0nDDCy/AgCzkwk8CmMZYcMg0vSVlKDanekLtifDSeVGT4+5ZxXnJq199RVG2rR7N7Zw=="

/* transcript 04-mech2.txt "SCRAM-SHA-256 alice (stored PLAIN)", secret */
#define T_CRED "4096,S5uiSrLWuPeCcKqiFzVvPw==,7vvDEddoqPF7NSv5Lh27w5bg7XV/b3G3uSdz6sW20J8=," \
	       "1Dpoc8SQYk7hzlEun1ErusY8iExWn3tmIH50j4jS+Eo="
#define T_SNONCE "&+)+@\\>$4JX~tbcJ<#_n/=!v*y52CkNM3-bFNdg<Q#x`XYV>L\"dC@L_qO6Npr_(f"
#define T_FIRST "n,,n=alice,r=B54BWLvFQLRIenCHnM7LtuU+"
#define T_SFIRST "r=B54BWLvFQLRIenCHnM7LtuU+" T_SNONCE ",s=S5uiSrLWuPeCcKqiFzVvPw==,i=4096"
#define T_FINAL "c=biws,r=B54BWLvFQLRIenCHnM7LtuU+" T_SNONCE \
		",p=mBVQ2Sstoz3HvxC2miYn8SD2jTd3kWsDwxe8KO+mCOA="
#define T_V "v=qZY6j9xXFIZaAcNiNx6b0JPNvjZO5k5SuORYKy7Y9y8="

/* master login admin (masterpw) for alice, SHA-256, computed */
#define A_CRED "4096,AAECAwQFBgcICQoLDA0ODw==,gG013drauMyPC70/v0hOrWV7N2/MbnlAQ7tO4Vmto8A=," \
	       "xC6kUKbmgw+KbovyAWlDxwF5sdk5sDyfFj8jBZbUvLI="
#define A_FIRST "n,a=alice,n=admin,r=abcdefghijklmnop"
#define A_FINAL "c=bixhPWFsaWNlLA==,r=abcdefghijklmnopSERVERNONCE," \
		"p=L4oUstOOEV3iucgZyRxOjsmMt+GzK5Hw0JFUdt5nflI="
#define A_V "v=l7ANiL5nCwuqRElnjSmztU03MhmgdorwiHqvCYBOe7g="

#define LOOKUP(msg) { .in = (msg), .want = MECH_LOOKUP_CREDENTIALS }
#define SERVER_FIRST(sf) { .resume = true, .want = MECH_CONTINUE, .want_out = (sf) }
#define SUCCEEDS(msg, v) { .in = (msg), .want = MECH_SUCCESS, .want_out = (v) }
#define FAILS(msg) { .in = (msg), .want = MECH_FAILURE, .want_out = "" }

/* The full RFC 5802 exchange with the final message replaced. */
#define S1_FINAL_CASE(nm, msg, reason)							\
	{ .name = (nm), .mech = &mech_scram_sha1, .nonce = S1_SNONCE, .cred = S1_CRED,	\
	  .step_count = 3,								\
	  .steps = { LOOKUP(S1_FIRST), SERVER_FIRST(S1_SFIRST), FAILS(msg) },		\
	  .want_reason = (reason) }

/* A client-first that fails. */
#define FIRST_BAD(nm, msg, reason)							\
	{ .name = (nm), .mech = &mech_scram_sha256, .step_count = 1,			\
	  .steps = { FAILS(msg) }, .want_reason = (reason) }

/* Credentials that resume() refuses. */
#define CRED_BAD(nm, mech_, c)								\
	{ .name = (nm), .mech = &(mech_), .cred = (c), .step_count = 2,		\
	  .steps = { LOOKUP(S1_FIRST), { .resume = true, .want = MECH_FAILURE } } }

#define WRONG_CB "Invalid channel binding data or nonce"

static const struct md_case cases[] = {
	/* vectors */
	{ .name = "RFC 5802 SCRAM-SHA-1", .mech = &mech_scram_sha1, .nonce = S1_SNONCE,
	  .cred = S1_CRED, .step_count = 3,
	  .steps = { LOOKUP(S1_FIRST), SERVER_FIRST(S1_SFIRST), SUCCEEDS(S1_FINAL, S1_V) },
	  .want_authcid = "user", .want_authzid = "" },
	{ .name = "RFC 7677 SCRAM-SHA-256", .mech = &mech_scram_sha256, .nonce = S256_SNONCE,
	  .cred = S256_CRED, .step_count = 3,
	  .steps = { LOOKUP(S256_FIRST), SERVER_FIRST(S256_SFIRST), SUCCEEDS(S256_FINAL, S256_V) },
	  .want_authcid = "user", .want_authzid = "" },
	{ .name = "SCRAM-SHA-512", .mech = &mech_scram_sha512, .nonce = S256_SNONCE,
	  .cred = S512_CRED, .step_count = 3,
	  .steps = { LOOKUP(S256_FIRST), SERVER_FIRST(S256_SFIRST), SUCCEEDS(S512_FINAL, S512_V) } },
	{ .name = "Dovecot transcript alice", .mech = &mech_scram_sha256, .nonce = T_SNONCE,
	  .cred = T_CRED, .step_count = 3,
	  .steps = { LOOKUP(T_FIRST), SERVER_FIRST(T_SFIRST), SUCCEEDS(T_FINAL, T_V) },
	  .want_authcid = "alice" },
	{ .name = "absent initial response", .mech = &mech_scram_sha1, .nonce = S1_SNONCE,
	  .cred = S1_CRED, .step_count = 4,
	  .steps = { { .in = NULL, .want = MECH_CONTINUE, .want_out = "" }, LOOKUP(S1_FIRST),
		     SERVER_FIRST(S1_SFIRST), SUCCEEDS(S1_FINAL, S1_V) } },
	{ .name = "master login with authzid", .mech = &mech_scram_sha256, .nonce = "SERVERNONCE",
	  .cred = A_CRED, .step_count = 3,
	  .steps = { LOOKUP(A_FIRST),
		     SERVER_FIRST("r=abcdefghijklmnopSERVERNONCE,s=AAECAwQFBgcICQoLDA0ODw==,i=4096"),
		     SUCCEEDS(A_FINAL, A_V) },
	  .want_authcid = "admin", .want_authzid = "alice" },
	{ .name = "gs2 flag y", .mech = &mech_scram_sha1, .nonce = S1_SNONCE, .cred = S1_CRED,
	  .step_count = 3,
	  .steps = { LOOKUP("y,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"), SERVER_FIRST(S1_SFIRST),
		     SUCCEEDS("c=eSws," S1_NONCE ",p=BjZF5dV+EkD3YCb3pH3IP8riMGw=",
			      "v=dsprQ5R2AGYt1kn4bQRwTAE0PTU=") } },
	{ .name = "extension in client-final", .mech = &mech_scram_sha1, .nonce = S1_SNONCE,
	  .cred = S1_CRED, .step_count = 3,
	  .steps = { LOOKUP(S1_FIRST), SERVER_FIRST(S1_SFIRST),
		     SUCCEEDS("c=biws," S1_NONCE ",x=foo,p=TrrQdSYSbCP3/qb0F8C+fLsKedQ=",
			      "v=crlKcWiCsJoA+lgnYResiI+lwT8=") } },
	{ .name = "iteration count from the credentials", .mech = &mech_scram_sha256,
	  .nonce = "sn", .step_count = 3,
	  .cred = "10000,AAECAwQFBgcICQoLDA0ODw==,RDNsqIFpiwPXgNK9ALzAi6zMJEXVVKh9XtRXfAFnxWs=,"
		  "ZaHH5sTc/SdYyzmAXoNz28uAyx8I01iwOSMs6ZcJBWM=",
	  .steps = { LOOKUP("n,,n=user,r=cn"),
		     SERVER_FIRST("r=cnsn,s=AAECAwQFBgcICQoLDA0ODw==,i=10000"),
		     SUCCEEDS("c=biws,r=cnsn,p=VnPk6lAGgGTR0M3T8woWM4WEI2DBTyw8tqf1gSsA3Wo=",
			      "v=LZzX1T5uSyuGvpp9aAE/eVMSFqgA2de7kpBDa/KuLBg=") } },
	{ .name = "SHA-1 proof against SHA-256 mechanism", .mech = &mech_scram_sha256,
	  .nonce = S1_SNONCE, .cred = S256_CRED, .step_count = 3,
	  .steps = { LOOKUP(S1_FIRST),
		     SERVER_FIRST("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
				  "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
		     FAILS(S1_FINAL) },
	  .want_reason = "Invalid ClientProof" },
	/* client-first */
	{ .name = "escaped user and authzid", .mech = &mech_scram_sha256, .step_count = 1,
	  .steps = { LOOKUP("n,a=ad=3Dmin=2Cx,n=us=2Cer=3D,r=abc") },
	  .want_authcid = "us,er=", .want_authzid = "ad=min,x" },
	{ .name = "extensions after the nonce", .mech = &mech_scram_sha256, .step_count = 1,
	  .steps = { LOOKUP("n,,n=user,r=abc,x=1,y=2") }, .want_authcid = "user" },
	{ .name = "8-bit user name", .mech = &mech_scram_sha256, .step_count = 1,
	  .steps = { LOOKUP("n,,n=j\xc3\xb6rg,r=abc") }, .want_authcid = "j\xc3\xb6rg" },
	FIRST_BAD("p= channel binding", "p=tls-unique,,n=alice,r=abc",
		  "Channel binding not supported"),
	FIRST_BAD("p= with authzid", "p=tls-server-end-point,a=bob,n=alice,r=abc",
		  "Channel binding not supported"),
	FIRST_BAD("flag x", "x,,n=user,r=abc", "Invalid GS2 header"),
	FIRST_BAD("flag nn", "nn,,n=user,r=abc", "Invalid GS2 header"),
	FIRST_BAD("flag p without =", "p,,n=user,r=abc", "Invalid GS2 header"),
	FIRST_BAD("empty flag", ",,n=user,r=abc", "Invalid GS2 header"),
	FIRST_BAD("only a flag", "n", "Invalid initial client message: missing ',' in GS2 header"),
	FIRST_BAD("one comma", "n,n=user", "Invalid initial client message: missing ',' in GS2 header"),
	FIRST_BAD("authzid without a=", "n,b=x,n=user,r=abc", "Invalid authzid field"),
	FIRST_BAD("empty authzid", "n,a=,n=user,r=abc", "Invalid authzid field"),
	FIRST_BAD("bad escape in authzid", "n,a=x=2D,n=user,r=abc", "Invalid authzid field"),
	FIRST_BAD("mandatory extension", "n,,m=foo,n=user,r=abc",
		  "Mandatory extension(s) not supported"),
	FIRST_BAD("empty user", "n,,n=,r=abc", "Invalid username field"),
	FIRST_BAD("no n=", "n,,u=user,r=abc", "Invalid username field"),
	FIRST_BAD("lower-case escape", "n,,n=us=2cer,r=abc", "Invalid username field"),
	FIRST_BAD("short escape", "n,,n=user=2,r=abc", "Invalid username field"),
	FIRST_BAD("bare =", "n,,n=us=er,r=abc", "Invalid username field"),
	FIRST_BAD("missing nonce", "n,,n=user", "Invalid initial client message: missing nonce field"),
	FIRST_BAD("empty nonce", "n,,n=user,r=", "Invalid client nonce"),
	FIRST_BAD("nonce not r=", "n,,n=user,x=abc", "Invalid client nonce"),
	FIRST_BAD("nonce with space", "n,,n=user,r=a c", "Invalid client nonce"),
	FIRST_BAD("nonce with DEL", "n,,n=user,r=a\x7f", "Invalid client nonce"),
	FIRST_BAD("nonce with 8-bit", "n,,n=user,r=a\xc3\xa9", "Invalid client nonce"),
	FIRST_BAD("empty message", "", "Invalid initial client message"),
	{ .name = "NUL byte", .mech = &mech_scram_sha256, .step_count = 1,
	  .steps = { { .in = "n,,n=us\0er,r=abc", .len = 16, .want = MECH_FAILURE } },
	  .want_reason = "Invalid initial client message" },
	{ .name = "user refused by the check", .mech = &mech_scram_sha256, .reject_user = "user",
	  .step_count = 1, .steps = { FAILS(S256_FIRST) }, .want_reason = "invalid username" },
	/* credentials */
	CRED_BAD("iterations below 4096", mech_scram_sha1,
		 "4095,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,D+CSWLOshSulAsxiupA+qs2/fTE="),
	CRED_BAD("iterations over INT_MAX", mech_scram_sha1,
		 "2147483648,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,D+CSWLOshSulAsxiupA+qs2/fTE="),
	CRED_BAD("iterations not a number", mech_scram_sha1,
		 "4k,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,D+CSWLOshSulAsxiupA+qs2/fTE="),
	CRED_BAD("three fields", mech_scram_sha1, "4096,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y="),
	CRED_BAD("five fields", mech_scram_sha1, S1_CRED ",x"),
	CRED_BAD("empty salt", mech_scram_sha1,
		 "4096,,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,D+CSWLOshSulAsxiupA+qs2/fTE="),
	CRED_BAD("bad base64 salt", mech_scram_sha1,
		 "4096,QSXCR+Q6sek8bf9,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,D+CSWLOshSulAsxiupA+qs2/fTE="),
	CRED_BAD("SHA-256 keys for SHA-1", mech_scram_sha1, S256_CRED),
	CRED_BAD("SHA-1 keys for SHA-512", mech_scram_sha512, S1_CRED),
	CRED_BAD("empty credentials", mech_scram_sha1, ""),
	/* client-final */
	S1_FINAL_CASE("wrong password", "c=biws," S1_NONCE ",p=v0X8v3Bz2T0CJGbJQyF0X+HI5Ts=",
		      "Password mismatch"),
	S1_FINAL_CASE("extension changes AuthMessage", "c=biws," S1_NONCE ",x=1,"
		      "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", "Password mismatch"),
	S1_FINAL_CASE("c= of flag y", "c=eSws," S1_NONCE ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", WRONG_CB),
	S1_FINAL_CASE("c= with cbind data", "c=biwsAAAA," S1_NONCE ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		      WRONG_CB),
	S1_FINAL_CASE("wrong server nonce", "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7J,"
		      "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", WRONG_CB),
	S1_FINAL_CASE("client nonce only", "c=biws,r=fyko+d2lbbFgONRv9qkxdawL,"
		      "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", WRONG_CB),
	S1_FINAL_CASE("nonce with extra byte", "c=biws," S1_NONCE "x,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		      WRONG_CB),
	S1_FINAL_CASE("fields swapped", S1_NONCE ",c=biws,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		      "Invalid final client message"),
	S1_FINAL_CASE("two fields", "c=biws," S1_NONCE, "Invalid final client message"),
	S1_FINAL_CASE("no proof field", "c=biws," S1_NONCE ",x=1", "Invalid ClientProof"),
	S1_FINAL_CASE("proof not last", "c=biws," S1_NONCE ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=,x=1",
		      "Invalid ClientProof"),
	S1_FINAL_CASE("proof 19 bytes", "c=biws," S1_NONCE ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Q==",
		      "Invalid ClientProof"),
	S1_FINAL_CASE("proof 21 bytes", "c=biws," S1_NONCE ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4TsA",
		      "Invalid ClientProof"),
	S1_FINAL_CASE("proof 32 bytes", "c=biws," S1_NONCE
		      ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "Invalid ClientProof"),
	S1_FINAL_CASE("proof base64 with non-zero pad bits", "c=biws," S1_NONCE
		      ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4TT=", "Invalid ClientProof"),
	S1_FINAL_CASE("proof bad base64", "c=biws," S1_NONCE ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts",
		      "Invalid ClientProof"),
	S1_FINAL_CASE("empty proof", "c=biws," S1_NONCE ",p=", "Invalid ClientProof"),
	S1_FINAL_CASE("empty final message", "", "Invalid final client message"),
	S1_FINAL_CASE("commas only", ",,", "Invalid final client message"),
	{ .name = "NUL in final message", .mech = &mech_scram_sha1, .nonce = S1_SNONCE,
	  .cred = S1_CRED, .step_count = 3,
	  .steps = { LOOKUP(S1_FIRST), SERVER_FIRST(S1_SFIRST),
		     { .in = S1_FINAL, .len = 10, .want = MECH_FAILURE } } },
	{ .name = "final message before the credentials", .mech = &mech_scram_sha1,
	  .step_count = 2, .steps = { LOOKUP(S1_FIRST), FAILS(S1_FINAL) },
	  .want_reason = "unexpected message" },
	{ .name = "a message after success", .mech = &mech_scram_sha1, .nonce = S1_SNONCE,
	  .cred = S1_CRED, .step_count = 4,
	  .steps = { LOOKUP(S1_FIRST), SERVER_FIRST(S1_SFIRST), SUCCEEDS(S1_FINAL, S1_V),
		     FAILS("") } },
	{ .name = "resume twice", .mech = &mech_scram_sha1, .nonce = S1_SNONCE, .cred = S1_CRED,
	  .step_count = 3,
	  .steps = { LOOKUP(S1_FIRST), SERVER_FIRST(S1_SFIRST),
		     { .resume = true, .want = MECH_FAILURE } } },
};

static void test_scram_table(void **state)
{
	(void)state;
	md_run_table(cases, N_ELEMS(cases));
}

/* A generated server nonce: 64 chars from '!'..'}' without ',', after the
 * client nonce; fresh each time. */
static void test_scram_server_nonce(void **state)
{
	(void)state;
	char first[128] = "";
	for (int round = 0; round < 2; round++) {
		struct pool *pool = pool_create(0);
		struct mech_request req = { .pool = pool, .mech = &mech_scram_sha1 };
		struct buf out = BUF_INIT(MD_OUT_LIMIT);
		req.step_count = 1;
		assert_int_equal(mech_scram_sha1.step(&req, (const uint8_t *)S1_FIRST,
						      strlen(S1_FIRST), false, &out),
				 MECH_LOOKUP_CREDENTIALS);
		assert_int_equal(mech_scram_sha1.resume(&req, (const uint8_t *)S1_CRED,
							strlen(S1_CRED), &out), MECH_CONTINUE);
		const char *s = buf_cstr(&out);
		static const char head[] = "r=fyko+d2lbbFgONRv9qkxdawL";
		static const char tail[] = ",s=QSXCR+Q6sek8bf92,i=4096";
		assert_int_equal(out.len, strlen(head) + 64 + strlen(tail));
		assert_memory_equal(s, head, strlen(head));
		assert_string_equal(s + strlen(head) + 64, tail);
		for (size_t i = strlen(head); i < strlen(head) + 64; i++) {
			if (s[i] < '!' || s[i] > '~' || s[i] == ',')
				fail_msg("server nonce byte %zu: got 0x%02x", i, (unsigned char)s[i]);
		}
		if (round == 0)
			snprintf(first, sizeof(first), "%s", s);
		else if (strcmp(first, s) == 0)
			fail_msg("two server-first messages are equal: got %s twice", s);
		buf_free(&out);
		pool_destroy(&pool);
	}
}

/* An over-long client message fails at once. */
static void test_scram_long_message(void **state)
{
	(void)state;
	static char msg[SCRAM_MESSAGE_MAX + 2];
	memset(msg, 'a', sizeof(msg) - 1);
	memcpy(msg, "n,,n=user,r=", 12);
	const struct md_case c = {
		.name = "client-first over SCRAM_MESSAGE_MAX", .mech = &mech_scram_sha256,
		.step_count = 1, .steps = { { .in = msg, .want = MECH_FAILURE } },
		.want_reason = "Invalid initial client message",
	};
	assert_true(md_run_case(&c));
	msg[SCRAM_MESSAGE_MAX] = '\0';
	const struct md_case ok = {
		.name = "client-first of SCRAM_MESSAGE_MAX", .mech = &mech_scram_sha256,
		.step_count = 1, .steps = { LOOKUP(msg) }, .want_authcid = "user",
	};
	assert_true(md_run_case(&ok));
}

static void test_scram_flags(void **state)
{
	(void)state;
	static const struct {
		const struct mech *mech;
		const char *line;
		const char *scheme;
	} want[] = {
		{ &mech_scram_sha1, "MECH\tSCRAM-SHA-1\tmutual-auth\n", "SCRAM-SHA-1" },
		{ &mech_scram_sha256, "MECH\tSCRAM-SHA-256\tmutual-auth\n", "SCRAM-SHA-256" },
		{ &mech_scram_sha512, "MECH\tSCRAM-SHA-512\tmutual-auth\n", "SCRAM-SHA-512" },
	};
	for (size_t i = 0; i < N_ELEMS(want); i++) {
		struct buf out = BUF_INIT(256);
		assert_int_equal(mech_handshake_line(&out, want[i].mech), 0);
		assert_string_equal(buf_cstr(&out), want[i].line);
		assert_string_equal(want[i].mech->cred_scheme, want[i].scheme);
		assert_ptr_equal(mech_find(want[i].scheme, strlen(want[i].scheme)), want[i].mech);
		buf_free(&out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scram_table),
		cmocka_unit_test(test_scram_server_nonce),
		cmocka_unit_test(test_scram_long_message),
		cmocka_unit_test(test_scram_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
