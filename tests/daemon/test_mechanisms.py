"""CRAM-MD5, DIGEST-MD5, SCRAM, ANONYMOUS and EXTERNAL on the wire:
checklist items 2 (their MECH lines), 38-46 (spec 6.3-6.7, 5.2, 2.7).

The client sides come from tests/lib/sasl.py (written from the RFCs, checked
here against the RFC examples), so every rspauth=/v= the server sends is
checked against an independent computation.

Like every daemon test these run against authd, or against Dovecot 2.3 with
AUTHD_TEST_SERVER=dovecot. They branch on the server kind only where authd
deliberately differs:
  * DIGEST-MD5: authd requires digest-uri and checks its service against the
    request's service= (mechanisms/mech_digest_md5.c); Dovecot checks neither.
  * EXTERNAL/cert_username: authd uses a certificate name only together with
    valid-client-cert (authd/request_mech.c); Dovecot takes cert_username alone.
  * SCRAM-SHA-512 exists in authd only.
and tolerate two details the spec leaves open (see the tests' docstrings):
user= in the FAIL for a CRAM-MD5 digest that is not 32 lower-case hex digits,
and the empty original_user= Dovecot adds to EXTERNAL answers.
"""

import base64
import re
import socket
import threading
import time
import unittest

from tests.daemon.dtest import NP, PASSDB_USERDB, ServerTestCase, make_conf
from tests.lib.sasl import (AnonymousClient, CramMD5Client, DigestMD5Client, ExternalClient,
                            ScramClient, cram_md5_digest, digest_md5_response,
                            digest_md5_secret, parse_directives, run_auth, scram_stored)
from tests.lib.server import server_kind

REALMS = ('example.com', 'example.org')
CRYPT_SECRET = ('$6$54U9t.Ea5px/dr9i$5SexXm5HKdNfq9R60xcSXVM0KZByvEZ6WKnI3RESqiSy1G273Tx7Q9h'
                'oddMyYAYcd9dbYElpPkdahiigswhhd1')      # SHA512-CRYPT of "secret"
S5000_SALT = b'fixed-salt-16byt'


def mechanisms(kind=None):
    m = 'plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256 anonymous external'
    return m + ('' if (kind or server_kind()) == 'dovecot' else ' scram-sha-512')


USERS = ''.join([
    'alice:{PLAIN}alicepw:1001:1001::/home/alice\n',
    'alice@example.com:{PLAIN}realmpw:1002:1002::/home/alice2\n',
    'crypt:{SHA512-CRYPT}%s:1003:1003::/home/crypt\n' % CRYPT_SECRET,
    's5000:%s:1004:1004::/home/s5000\n' % scram_stored('SHA-256', 's5000pw', S5000_SALT, 5000),
    'certuser::1005:1005::/home/certuser::nopassword\n',
    'pwuser:{PLAIN}pwuserpw:1006:1006::/home/pwuser\n',
    'anon:{PLAIN}anonpw:1007:1007::/home/anon\n',
])

SETTINGS = '''auth_realms = %s
auth_anonymous_username = anon
auth_ssl_username_from_cert = yes
auth_verbose = yes
''' % ' '.join(REALMS)

CERT = ('valid-client-cert', 'cert_username=certuser')


def dialog(c, id, mech, steps=(), init=None, params=NP, service='smtp'):
    """AUTH (init: raw initial response or None), then for each CONT the next
    of steps (bytes, or fn(challenge bytes) -> bytes). Returns every Reply;
    the last is the first non-CONT or the CONT that found no step left."""
    c.auth(id, mech, service, params, resp=init)
    out = []
    pending = list(steps)
    while True:
        r = c.reply()
        out.append(r)
        if r.cmd != b'CONT' or not pending:
            return out
        step = pending.pop(0)
        c.cont(id, step(r.data()) if callable(step) else step)


class MechTestCase(ServerTestCase):
    CONF = make_conf(mechanisms=mechanisms(), extra=SETTINGS)
    FILES = {'users': USERS}

    def parallel(self, jobs, timeout=20.0):
        """Runs {label: fn(conn)} at once, one fresh connection each (failures
        are flushed together, so N failures cost one flush tick). Returns
        {label: result or the exception raised}."""
        results = {}

        def run(label, fn):
            c = self.client()
            try:
                results[label] = fn(c)
            except Exception as e:      # reported by the caller's assertion
                results[label] = e
        threads = [threading.Thread(target=run, args=item) for item in jobs.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout)
        return results

    def assertRaws(self, got, want, label=''):
        raws = [r.raw for r in got] if isinstance(got, list) else got
        self.assertEqual(raws, want, '%s: got %r, want %r' % (label, got, want))


# ---------------------------------------------------------------- the client side

class ClientVectors(unittest.TestCase):
    """tests/lib/sasl.py reproduces the RFC examples, so a disagreement with
    a server is the server's."""

    def test_cram_md5_rfc2195(self):
        got = cram_md5_digest('tanstaaftanstaaf', '<1896.697170952@postoffice.reston.mci.net>')
        self.assertEqual(got, 'b913a602c7eda7a495b4e6e7334d3890')

    def test_digest_md5_rfc2831(self):
        secret = digest_md5_secret('chris', 'elwood.innosoft.com', 'secret')
        args = (secret, 'OA6MG9tEQGm2hh', 'OA6MHXh6VqTrRk', '00000001', 'auth',
                'imap/elwood.innosoft.com')
        self.assertEqual(digest_md5_response(*args), 'd388dad90d4bbd760a152321f2143af7')
        self.assertEqual(digest_md5_response(*args, rspauth=True),
                         'ea40f60335c427b5527b84dbabcdfffd')

    def test_scram_rfc5802_rfc7677(self):
        cases = [
            dict(h='SHA-1', cnonce='fyko+d2lbbFgONRv9qkxdawL',
                 first=b'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
                 final=b'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,'
                       b'p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
                 v=b'v=rmF9pqV8S7suAoZWja4dJRkFsKQ='),
            dict(h='SHA-256', cnonce='rOprNGfwEbeRWgbNEkqO',
                 first=b'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,'
                       b's=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
                 final=b'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,'
                       b'p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
                 v=b'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='),
        ]
        for c in cases:
            with self.subTest(c['h']):
                cl = ScramClient(c['h'], 'user', 'pencil', cnonce=c['cnonce'])
                self.assertEqual(cl.initial(), b'n,,n=user,r=' + c['cnonce'].encode())
                self.assertEqual(cl.step(c['first']), c['final'])
                self.assertTrue(cl.check_final(c['v']))

    def test_parse_directives(self):
        got = parse_directives(b'realm="a",realm="b\\"c",nonce="x,y",qop=auth, charset=utf-8')
        self.assertEqual(got, [('realm', 'a'), ('realm', 'b"c'), ('nonce', 'x,y'),
                               ('qop', 'auth'), ('charset', 'utf-8')])


# ---------------------------------------------------------------- handshake

class MechLines(MechTestCase):

    def test_02_mech_lines_and_flags(self):
        """2: Dovecot's flags for each mechanism, in auth_mechanisms order
        (SCRAM-SHA-512 is authd's; it carries SCRAM-SHA-256's flags)."""
        want = [b'MECH\tPLAIN\tplaintext', b'MECH\tLOGIN\tplaintext',
                b'MECH\tCRAM-MD5\tdictionary\tactive',
                b'MECH\tDIGEST-MD5\tdictionary\tactive\tmutual-auth',
                b'MECH\tSCRAM-SHA-1\tmutual-auth', b'MECH\tSCRAM-SHA-256\tmutual-auth',
                b'MECH\tANONYMOUS\tanonymous', b'MECH\tEXTERNAL']
        if self.kind != 'dovecot':
            want.append(b'MECH\tSCRAM-SHA-512\tmutual-auth')
        c = self.client()
        got = [l for l in c.handshake.lines if l.startswith(b'MECH\t')]
        self.assertEqual(got, want)


# ---------------------------------------------------------------- CRAM-MD5

CRAM_RE = re.compile(rb'^<(\d{16})\.(\d+)@(.+)>$')


class CramMD5(MechTestCase):

    def test_38_challenge_format(self):
        """38: <16 digits.unixtime@hostname>, fresh for each request."""
        seen = set()
        for id in (1, 2):
            c = self.client()
            t0 = int(time.time())
            r = dialog(c, id, 'CRAM-MD5')[0]
            self.assertEqual(r.cmd, b'CONT', r)
            chal = r.data()
            m = CRAM_RE.match(chal)
            self.assertIsNotNone(m, 'challenge %r' % chal)
            self.assertLessEqual(abs(int(m.group(2)) - t0), 5, chal)
            self.assertEqual(m.group(3), socket.gethostname().encode(), chal)
            seen.add(m.group(1))
        self.assertEqual(len(seen), 2, 'random part repeated: %r' % seen)

    def test_38_initial_response_ignored(self):
        c = self.client()
        cl = CramMD5Client('alice', 'alicepw')
        got = dialog(c, 3, 'CRAM-MD5', [cl.step], init=b'alice 0123')
        self.assertRegex(got[0].data(), CRAM_RE)
        self.assertOK(got[-1], 3, 'alice')

    def test_cram_right_wrong_unknown(self):
        got = self.parallel({
            'right': lambda c: run_auth(c, 1, CramMD5Client('alice', 'alicepw'), params=NP).reply,
            'wrong': lambda c: run_auth(c, 2, CramMD5Client('alice', 'nope'), params=NP).reply,
            'unknown': lambda c: run_auth(c, 3, CramMD5Client('nosuch', 'x'), params=NP).reply,
        })
        self.assertOK(got['right'], 1, 'alice')
        self.assertFail(got['wrong'], 2, ['user=alice'])
        self.assertFail(got['unknown'], 3, ['user=nosuch'])

    def test_cram_response_syntax(self):
        """No space: FAIL without a user. The LAST space separates: 'alice  <hex>'
        names the user 'alice ' (rejected by auth_username_chars)."""
        digest = lambda pw: (lambda ch: cram_md5_digest(pw, ch).encode())   # noqa: E731
        got = self.parallel({
            'no space': lambda c: dialog(c, 1, 'CRAM-MD5', [b'alice' + b'0' * 32]),
            'two spaces': lambda c: dialog(c, 2, 'CRAM-MD5',
                                           [lambda ch: b'alice  ' + digest('alicepw')(ch)]),
            'nul': lambda c: dialog(c, 3, 'CRAM-MD5',
                                    [lambda ch: b'ali\0ce ' + digest('alicepw')(ch)]),
        })
        self.assertRaws(got['no space'][1:], [b'FAIL\t1'], 'no space')
        self.assertRaws(got['two spaces'][1:], [b'FAIL\t2\tuser=alice \toriginal_user=alice '],
                        'two spaces')
        self.assertEqual(got['nul'][-1].cmd, b'FAIL', got['nul'])

    def test_cram_malformed_digest(self):
        """Upper-case, short and non-hex digests fail. Whether the server looks
        the user up first (Dovecot: FAIL user=alice) or rejects the message
        before (FAIL without user) is open in spec 6.3; both are accepted."""
        bad = {
            'upper': lambda ch: cram_md5_digest('alicepw', ch).upper().encode(),
            'short': lambda ch: cram_md5_digest('alicepw', ch)[:30].encode(),
            'non-hex': lambda ch: b'g' * 32,
        }
        if self.kind != 'dovecot':
            # Dovecot compares only the first 32 characters and accepts a
            # valid digest with trailing bytes; authd takes exactly 32 hex
            # digits (mechanisms/mech_cram_md5.c).
            bad['long'] = lambda ch: cram_md5_digest('alicepw', ch).encode() + b'00'
        got = self.parallel({k: (lambda c, f=f: dialog(c, 7, 'CRAM-MD5',
                                                       [lambda ch, f=f: b'alice ' + f(ch)]))
                             for k, f in bad.items()})
        for label, replies in got.items():
            with self.subTest(label):
                self.assertIsInstance(replies, list, replies)
                self.assertIn(replies[-1].raw, (b'FAIL\t7', b'FAIL\t7\tuser=alice'), label)


# ---------------------------------------------------------------- DIGEST-MD5

NONCE_RE = rb'([A-Za-z0-9+/]{22}==)'


def digest_challenge_re(realms):
    parts = [b'realm="%s",' % r.encode() for r in realms] or [b'realm="",']
    return re.compile(b'^' + b''.join(re.escape(p) for p in parts) + b'nonce="' + NONCE_RE
                      + b'",qop="auth",charset="utf-8",algorithm="md5-sess"$')


def digest(**kw):
    """A step function answering the challenge as DigestMD5Client(**kw)
    (default user alice/alicepw, no realm)."""
    kw.setdefault('user', 'alice')
    kw.setdefault('password', 'alicepw')
    cl = DigestMD5Client(kw.pop('user'), kw.pop('password'), **kw)
    return cl.step


class DigestMD5(MechTestCase):

    def test_39_first_challenge_exact(self):
        """39: one realm per auth_realms entry, then nonce (base64 of 16 random
        bytes, fresh each time), qop, charset, algorithm; an initial response
        is ignored."""
        nonces = set()
        for id, init in ((1, None), (2, b'username="x"')):
            c = self.client()
            r = dialog(c, id, 'DIGEST-MD5', init=init)[0]
            self.assertEqual(r.cmd, b'CONT', r)
            m = digest_challenge_re(REALMS).match(r.data())
            self.assertIsNotNone(m, r.data())
            self.assertEqual(len(base64.b64decode(m.group(1))), 16)
            nonces.add(m.group(1))
        self.assertEqual(len(nonces), 2)

    def test_digest_ok_rspauth(self):
        """41: rspauth= inside OK (final-resp-ok), or as one more CONT answered
        by an empty CONT; a realm directive makes the lookup name user@realm."""
        got = self.parallel({
            'resp': lambda c: run_auth(c, 1, DigestMD5Client('alice', 'alicepw'), params=NP,
                                       final_resp_ok=True),
            'cont': lambda c: run_auth(c, 2, DigestMD5Client('alice', 'alicepw'), params=NP),
            'realm': lambda c: run_auth(c, 3, DigestMD5Client('alice', 'realmpw',
                                                              realm='example.com'), params=NP),
        })
        self.assertEqual((got['resp'].final_via, got['resp'].final_valid), ('resp', True),
                         got['resp'])
        self.assertEqual(got['resp'].reply.fieldset(),
                         sorted([b'user=alice', b'resp=' + base64.b64encode(
                             got['resp'].final_data)]))
        self.assertEqual((got['cont'].final_via, got['cont'].final_valid), ('cont', True),
                         got['cont'])
        self.assertOK(got['cont'].reply, 2, 'alice')
        self.assertEqual((got['realm'].final_via, got['realm'].final_valid), ('cont', True))
        self.assertOK(got['realm'].reply, 3, 'alice@example.com')

    def test_digest_wrong_and_unknown(self):
        got = self.parallel({
            'wrong': lambda c: dialog(c, 1, 'DIGEST-MD5', [digest(password='bad')]),
            'realm wrong': lambda c: dialog(c, 2, 'DIGEST-MD5',
                                            [digest(password='alicepw', realm='example.com')]),
            'unknown': lambda c: dialog(c, 3, 'DIGEST-MD5', [digest(user='nosuch')]),
        })
        self.assertRaws(got['wrong'][1:], [b'FAIL\t1\tuser=alice'])
        self.assertRaws(got['realm wrong'][1:], [b'FAIL\t2\tuser=alice@example.com'])
        self.assertRaws(got['unknown'][1:], [b'FAIL\t3\tuser=nosuch'])

    def test_40_rejections(self):
        """40: qop auth-int/auth-conf, a charset other than utf-8, a digest-uri
        without '/'; also nc > 1, a foreign nonce, missing cnonce, username or
        nonce, and a repeated username fail without naming a user."""
        bad = {
            'qop=auth-int': digest(qop='auth-int'),
            'qop=auth-conf': digest(qop='auth-conf'),
            'charset=iso-8859-1': digest(charset='iso-8859-1'),
            'digest-uri without /': digest(overrides={'digest-uri': '"smtp"'}),
            'nc=00000002': digest(nc='00000002'),
            'foreign nonce': lambda ch: digest()(ch.replace(b'nonce="', b'nonce="X')),
            'no cnonce': digest(overrides={'cnonce': None}),
            'no username': digest(overrides={'username': None}),
            'no nonce': digest(overrides={'nonce': None}),
            'username twice': digest(extra=',username="bob"'),
        }
        got = self.parallel({k: (lambda c, f=f: dialog(c, 9, 'DIGEST-MD5', [f]))
                             for k, f in bad.items()})
        for label, replies in got.items():
            with self.subTest(label):
                self.assertIsInstance(replies, list, replies)
                self.assertRaws(replies[1:], [b'FAIL\t9'], label)

    def test_40_accepted_variants(self):
        """40: no charset is accepted; charset is compared case-insensitively;
        a digest-uri naming the request's service passes on both servers."""
        got = self.parallel({
            'no charset': lambda c: dialog(c, 1, 'DIGEST-MD5', [digest(charset=None), b'']),
            'UTF-8': lambda c: dialog(c, 2, 'DIGEST-MD5', [digest(charset='UTF-8'), b'']),
            'imap': lambda c: dialog(c, 3, 'DIGEST-MD5', [digest(service='imap'), b''],
                                     service='imap'),
            'pop3': lambda c: dialog(c, 4, 'DIGEST-MD5', [digest(service='pop'), b''],
                                     service='pop3'),
        })
        for label, id in (('no charset', 1), ('UTF-8', 2), ('imap', 3), ('pop3', 4)):
            with self.subTest(label):
                replies = got[label]
                self.assertIsInstance(replies, list, replies)
                self.assertEqual([r.cmd for r in replies], [b'CONT', b'CONT', b'OK'], replies)
                self.assertTrue(replies[1].data().startswith(b'rspauth='), replies)
                self.assertOK(replies[-1], id, 'alice')

    def test_digest_uri_service_check(self):
        """Deliberate difference: authd requires digest-uri and requires its
        service to match the request's (submission may say smtp); Dovecot
        checks neither (mechanisms/mech_digest_md5.c)."""
        got = self.parallel({
            'imap uri on smtp': lambda c: dialog(c, 1, 'DIGEST-MD5', [digest(service='imap'), b'']),
            'no digest-uri': lambda c: dialog(c, 2, 'DIGEST-MD5', [digest(service=None), b'']),
            'submission': lambda c: dialog(c, 3, 'DIGEST-MD5', [digest(service='smtp'), b''],
                                           service='submission'),
            'SMTP upper case': lambda c: dialog(c, 4, 'DIGEST-MD5', [digest(service='SMTP'), b'']),
        })
        for label, id in (('submission', 3), ('SMTP upper case', 4)):
            self.assertOK(got[label][-1], id, 'alice')
        for label, id in (('imap uri on smtp', 1), ('no digest-uri', 2)):
            with self.subTest(label):
                replies = got[label]
                if self.kind == 'dovecot':
                    self.assertOK(replies[-1], id, 'alice')
                else:
                    self.assertRaws(replies[1:], [b'FAIL\t%d' % id], label)

    def test_digest_scheme_not_available(self):
        """44: SHA512-CRYPT cannot give DIGEST-MD5 credentials: a plain FAIL."""
        r = dialog(self.client(), 5, 'DIGEST-MD5', [digest(user='crypt', password='secret')])
        self.assertRaws(r[1:], [b'FAIL\t5\tuser=crypt'])


class DigestMD5NoRealms(MechTestCase):
    CONF = make_conf(mechanisms=mechanisms(), extra='auth_verbose = yes\n')

    def test_39_empty_realm(self):
        """39: without auth_realms the challenge carries realm=""."""
        r = dialog(self.client(), 1, 'DIGEST-MD5')[0]
        self.assertRegex(r.data(), digest_challenge_re(()))
        r = run_auth(self.client(), 2, DigestMD5Client('alice', 'alicepw'), params=NP)
        self.assertOK(r.reply, 2, 'alice')
        self.assertTrue(r.final_valid, r)


# ---------------------------------------------------------------- SCRAM

SNONCE_CHARS = rb'[!-+\--}~]'    # '!'..'}', with '~' for ','


class Scram(MechTestCase):

    def scram_names(self):
        names = ['SHA-1', 'SHA-256']
        return names + ([] if self.kind == 'dovecot' else ['SHA-512'])

    def test_42_server_first_and_final(self):
        """42: r=<client nonce><64 chars>,s=<b64 salt>,i=<iterations>; v= in OK
        (final-resp-ok) or as one more CONT. Stored {PLAIN}: a fresh 16-byte
        salt each time, 4096 iterations."""
        jobs, clients = {}, {}
        for h in self.scram_names():
            for n, fro in ((1, True), (2, False)):
                cl = clients[(h, n)] = ScramClient(h, 'alice', 'alicepw')
                jobs[(h, n)] = (lambda c, cl=cl, n=n, fro=fro: run_auth(
                    c, n, cl, params=NP, final_resp_ok=fro))
        got = self.parallel(jobs)
        for h in self.scram_names():
            for n in (1, 2):
                with self.subTest(scram=h, final_resp_ok=(n == 1)):
                    res = got[(h, n)]
                    self.assertNotIsInstance(res, Exception, res)
                    first = res.challenges[0]
                    m = re.match(rb'^r=([^,]+),s=([A-Za-z0-9+/=]+),i=(\d+)$', first)
                    self.assertIsNotNone(m, first)
                    cnonce = clients[(h, n)].cnonce
                    self.assertTrue(m.group(1).startswith(cnonce), first)
                    self.assertRegex(m.group(1)[len(cnonce):], b'^' + SNONCE_CHARS + b'{64}$')
                    self.assertEqual(len(base64.b64decode(m.group(2))), 16)
                    self.assertEqual(m.group(3), b'4096')
                    self.assertOK(res.reply, n, 'alice', [b'resp=' + base64.b64encode(
                        res.final_data)] if n == 1 else [])
                    self.assertEqual(res.final_via, 'resp' if n == 1 else 'cont', res)
                    self.assertTrue(res.final_valid, res)

    def test_42_fresh_salt_for_plaintext(self):
        """5.2: keys made from a stored {PLAIN} use a new random salt on each
        login."""
        for h in self.scram_names():
            salts = set()
            for n in (1, 2):
                res = run_auth(self.client(), n, ScramClient(h, 'alice', 'alicepw'), params=NP)
                self.assertOK(res.reply, n, 'alice')
                salts.add(res.challenges[0].split(b',')[1])
            self.assertEqual(len(salts), 2, 'salt reused for %s: %r' % (h, salts))

    def test_42_iterations_and_salt_from_credential(self):
        res = run_auth(self.client(), 1, ScramClient('SHA-256', 's5000', 's5000pw'), params=NP)
        self.assertRegex(res.challenges[0],
                         b',s=' + re.escape(base64.b64encode(S5000_SALT)) + b',i=5000$')
        self.assertOK(res.reply, 1, 's5000')
        self.assertTrue(res.final_valid, res)

    def test_scram_no_initial_response(self):
        """An absent initial response gets an empty challenge first."""
        res = run_auth(self.client(), 1, ScramClient('SHA-256', 'alice', 'alicepw'), params=NP,
                       initial=False)
        self.assertEqual(res.challenges[0], b'')
        self.assertOK(res.reply, 1, 'alice')

    def test_43_channel_binding_and_gs2(self):
        """43: gs2 flag p= fails; y is accepted; anything else fails; a
        mandatory extension (m=) fails."""
        sc = lambda **kw: ScramClient('SHA-256', 'alice', 'alicepw', **kw)   # noqa: E731
        got = self.parallel({
            'p=': lambda c: run_auth(c, 1, sc(gs2='p=tls-unique'), params=NP).reply,
            'x': lambda c: run_auth(c, 2, sc(gs2='x'), params=NP).reply,
            'm=': lambda c: dialog(c, 3, 'SCRAM-SHA-256', init=b'n,,m=ext,n=alice,r=abcdefgh')[-1],
            'y': lambda c: run_auth(c, 4, sc(gs2='y'), params=NP, final_resp_ok=True),
        })
        self.assertEqual(got['p='].raw, b'FAIL\t1')
        self.assertEqual(got['x'].raw, b'FAIL\t2')
        self.assertEqual(got['m='].raw, b'FAIL\t3')
        self.assertEqual(got['y'].reply.cmd, b'OK', got['y'])
        self.assertTrue(got['y'].final_valid)

    def test_scram_client_final_rejections(self):
        """A wrong proof, a proof of the wrong length, a c= that is not the
        gs2 header, and a changed nonce fail naming the user."""
        sc = lambda **kw: ScramClient('SHA-256', 'alice', 'alicepw', **kw)   # noqa: E731
        got = self.parallel({
            'wrong password': lambda c: run_auth(c, 1, ScramClient('SHA-256', 'alice', 'bad'),
                                                 params=NP).reply,
            'zero proof': lambda c: run_auth(c, 2, sc(proof_override=b'\0' * 32),
                                             params=NP).reply,
            'short proof': lambda c: run_auth(c, 3, sc(proof_override=b'\0' * 20),
                                              params=NP).reply,
            'bad c=': lambda c: run_auth(c, 4, sc(final_tweak=lambda t: t.replace(
                b'c=biws', b'c=eSws')), params=NP).reply,
            'changed nonce': lambda c: run_auth(c, 5, sc(final_tweak=lambda t: t.replace(
                b',r=', b',r=X', 1)), params=NP).reply,
            'unknown user': lambda c: run_auth(c, 6, ScramClient('SHA-256', 'nosuch', 'x'),
                                               params=NP).reply,
        })
        for label, (id, user) in {'wrong password': (1, 'alice'), 'zero proof': (2, 'alice'),
                                  'short proof': (3, 'alice'), 'bad c=': (4, 'alice'),
                                  'changed nonce': (5, 'alice'),
                                  'unknown user': (6, 'nosuch')}.items():
            with self.subTest(label):
                self.assertNotIsInstance(got[label], Exception, got[label])
                self.assertFail(got[label], id, ['user=' + user])

    def test_44_scheme_not_available_plain_fail(self):
        """44: SHA512-CRYPT (and SCRAM-SHA-256 for SCRAM-SHA-1): a plain
        FAIL user=<u>, no code, no reason; the log says why."""
        got = self.parallel({
            'cram': lambda c: run_auth(c, 1, CramMD5Client('crypt', 'secret'), params=NP).reply,
            'scram-1': lambda c: run_auth(c, 2, ScramClient('SHA-1', 'crypt', 'secret'),
                                          params=NP).reply,
            'scram-256': lambda c: run_auth(c, 3, ScramClient('SHA-256', 'crypt', 'secret'),
                                            params=NP).reply,
            'scram-1 of 256': lambda c: run_auth(c, 4, ScramClient('SHA-1', 's5000', 's5000pw'),
                                                 params=NP).reply,
        })
        self.assertEqual(got['cram'].raw, b'FAIL\t1\tuser=crypt')
        self.assertEqual(got['scram-1'].raw, b'FAIL\t2\tuser=crypt')
        self.assertEqual(got['scram-256'].raw, b'FAIL\t3\tuser=crypt')
        self.assertEqual(got['scram-1 of 256'].raw, b'FAIL\t4\tuser=s5000')
        for want in ('Requested CRAM-MD5 scheme, but we have only SHA512-CRYPT',
                     'Requested SCRAM-SHA-1 scheme, but we have only SHA512-CRYPT',
                     'Requested SCRAM-SHA-256 scheme, but we have only SHA512-CRYPT',
                     'Requested SCRAM-SHA-1 scheme, but we have only SCRAM-SHA-256'):
            self.assertTrue(self.srv.wait_log(re.escape(want), 3.0),
                            'log lacks %r:\n%s' % (want, self.srv.log()[-3000:]))
        # the password works with a mechanism that verifies plaintext
        self.assertOK(self.client().plain(5, 'crypt', 'secret', params=NP), 5, 'crypt')


# ---------------------------------------------------------------- ANONYMOUS

class Anonymous(MechTestCase):

    def test_45_anonymous(self):
        """45: any trace (absent, empty, with NUL bytes) gives
        OK user=<auth_anonymous_username> anonymous, without a passdb."""
        got = self.parallel({
            'trace': lambda c: run_auth(c, 1, AnonymousClient(b'me@example.net'), params=NP),
            'empty': lambda c: run_auth(c, 2, AnonymousClient(b''), params=NP),
            'nul': lambda c: run_auth(c, 3, AnonymousClient(b'a\0b'), params=NP),
            'absent': lambda c: run_auth(c, 4, AnonymousClient(b'x'), params=NP, initial=False),
        })
        for label, id in (('trace', 1), ('empty', 2), ('nul', 3), ('absent', 4)):
            with self.subTest(label):
                self.assertEqual(got[label].reply.raw, b'OK\t%d\tuser=anon\tanonymous' % id)
        self.assertEqual(got['absent'].challenges, [b''])

    def test_anonymous_flag_for_that_user(self):
        """2.6: a normal login as auth_anonymous_username also says anonymous."""
        r = self.client().plain(5, 'anon', 'anonpw', params=NP)
        self.assertEqual(r.raw, b'OK\t5\tuser=anon\tanonymous')


# ---------------------------------------------------------------- EXTERNAL

class External(MechTestCase):

    def assertExternalOK(self, r, id, user):
        """OK user=<cert user>; Dovecot also sends an empty original_user=
        (the mechanism's own, empty, name), which the spec does not require."""
        self.assertEqual(r.cmd, b'OK', r)
        self.assertIn(r.raw, (b'OK\t%d\tuser=%s' % (id, user),
                              b'OK\t%d\tuser=%s\toriginal_user=' % (id, user)))

    def test_46_external_with_certificate(self):
        """EXTERNAL with valid-client-cert + cert_username (and
        auth_ssl_username_from_cert = yes) runs a verify with an empty
        password: a nopassword user succeeds, with or without initial
        response; a user with a password, an unknown one, or an empty
        certificate name fails."""
        ext = lambda init=True: (lambda c: run_auth(   # noqa: E731
            c, 1, ExternalClient(b''), params=NP + CERT, initial=init))
        got = self.parallel({
            'ir': ext(),
            'no ir': ext(False),
            'password user': lambda c: run_auth(c, 2, ExternalClient(b''), params=NP + (
                'valid-client-cert', 'cert_username=pwuser')),
            'unknown': lambda c: run_auth(c, 3, ExternalClient(b''), params=NP + (
                'valid-client-cert', 'cert_username=nosuch')),
            'empty name': lambda c: run_auth(c, 4, ExternalClient(b''), params=NP + (
                'valid-client-cert', 'cert_username=')),
        })
        self.assertExternalOK(got['ir'].reply, 1, b'certuser')
        self.assertExternalOK(got['no ir'].reply, 1, b'certuser')
        self.assertEqual(got['no ir'].challenges, [b''])
        for label, id, user in (('password user', 2, 'pwuser'), ('unknown', 3, 'nosuch')):
            r = got[label].reply
            self.assertEqual(r.cmd, b'FAIL', r)
            self.assertEqual(r.words[0], b'user=' + user.encode(), r)
        self.assertEqual(got['empty name'].reply.raw, b'FAIL\t4')

    def test_46_external_without_certificate_fails(self):
        got = self.parallel({
            'nothing': lambda c: run_auth(c, 1, ExternalClient(b''), params=NP).reply,
            'authzid only': lambda c: run_auth(c, 2, ExternalClient(b'alice'), params=NP).reply,
            'valid cert, no name': lambda c: run_auth(c, 3, ExternalClient(b''), params=NP + (
                'valid-client-cert',)).reply,
        })
        self.assertEqual(got['nothing'].raw, b'FAIL\t1')
        self.assertEqual(got['authzid only'].raw, b'FAIL\t2')
        self.assertEqual(got['valid cert, no name'].raw, b'FAIL\t3')

    def test_external_name_without_valid_cert(self):
        """Deliberate difference: authd uses cert_username only with
        valid-client-cert (authd/request_mech.c); Dovecot takes it alone."""
        r = run_auth(self.client(), 1, ExternalClient(b''),
                     params=NP + ('cert_username=certuser',)).reply
        if self.kind == 'dovecot':
            self.assertExternalOK(r, 1, b'certuser')
        else:
            self.assertEqual(r.raw, b'FAIL\t1')

    def test_cert_username_replaces_mechanism_name(self):
        """spec 2.4: with auth_ssl_username_from_cert = yes a cert_username
        replaces whatever name the mechanism supplies, PLAIN's too: the
        password is checked for certuser (nopassword), the name typed is
        original_user. [seen with Dovecot 2.3.19]"""
        r = self.client().plain(1, 'alice', 'alicepw', params=NP + CERT)
        self.assertEqual(r.raw, b'OK\t1\tuser=certuser\toriginal_user=alice')
        r = self.client().plain(2, 'certuser', 'anything', params=NP + CERT)
        self.assertEqual(r.raw, b'OK\t2\tuser=certuser')


class ExternalNoCertNames(MechTestCase):
    """auth_ssl_username_from_cert = no (the default): cert_username is
    ignored, so EXTERNAL has no user and PLAIN keeps its name."""
    CONF = make_conf(mechanisms=mechanisms(), passdbs=PASSDB_USERDB)

    def test_46_external_fails_without_setting(self):
        r = run_auth(self.client(), 1, ExternalClient(b''), params=NP + CERT).reply
        self.assertEqual(r.raw, b'FAIL\t1')
        self.assertOK(self.client().plain(2, 'alice', 'alicepw', params=NP + CERT), 2, 'alice')


if __name__ == '__main__':
    unittest.main()
