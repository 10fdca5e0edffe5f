"""Real Postfix smtpd with every mechanism enabled:
`auth_mechanisms = plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256
scram-sha-512 anonymous external` (Dovecot lacks scram-sha-512: without it
under AUTHD_TEST_SERVER=dovecot).

  * EHLO: Postfix's default filters hide ANONYMOUS (smtpd_sasl_security_options
    = noanonymous) and EXTERNAL (smtpd_sasl_mechanism_filter); a second
    instance without noanonymous lists ANONYMOUS and lets gsasl log in as
    auth_anonymous_username.
  * Each mechanism with the clients that drive it: swaks (Authen::SASL) for
    PLAIN, LOGIN, CRAM-MD5 and DIGEST-MD5; gsasl for DIGEST-MD5 with a realm,
    SCRAM-SHA-1 and SCRAM-SHA-256; this project's own SCRAM client
    (tests/lib/sasl.py) over raw SMTP for SCRAM-SHA-512, which no packaged
    client speaks. Right password 235, wrong and unknown 535, for users
    stored as {PLAIN}, {CRAM-MD5}, {DIGEST-MD5} (of user@realm),
    {SCRAM-SHA-256}, {SCRAM-SHA-512} and {SHA512-CRYPT} (spec 5.3: the
    last only for PLAIN/LOGIN).
DIGEST-MD5 and SCRAM end with server data that Postfix (which never sends
final-resp-ok) relays as one more 334 the client answers with an empty line.
Every client connects from its own loopback address (gsasl through a relay),
so one case's failure penalty cannot slow another.

Server kind from AUTHD_TEST_SERVER. Facts: shared/spec/real-clients.md,
dovecot-auth-protocol.md sections 4.1, 5.2, 5.3 and 6.
"""

import concurrent.futures
import subprocess
import threading
import unittest

from tests.lib.peers import find_binary, standard_conf, standard_users, user_ids
from tests.lib.postfix import (Postfix, SMTPClient, auth_reply_text, b64, ehlo_auth_mechs,
                               smtp_auth_raw, source_ip, swaks_auth)
from tests.lib.sasl import ScramClient, digest_md5_secret, gsasl_smtp, run_smtp_auth, scram_stored
from tests.lib.server import AuthServer, server_kind

REALM = 'example.com'
WORKERS = 12


def mechanisms(kind):
    m = 'plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256 scram-sha-512 anonymous external'
    return m.replace(' scram-sha-512', '') if kind == 'dovecot' else m


def doveadm_pw(scheme, password):
    r = subprocess.run([find_binary('doveadm'), 'pw', '-s', scheme, '-p', password],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, timeout=30, check=True)
    return r.stdout.decode().strip()


def extra_users(uid, gid):
    """Users beyond standard_users(): one per stored scheme."""
    def line(name, stored):
        return '%s:%s:%d:%d::{tmp}/home/%s\n' % (name, stored, uid, gid, name.split('@')[0])
    return ''.join([
        line('dave@' + REALM, '{PLAIN}davepw'),
        line('crammy', doveadm_pw('CRAM-MD5', 'crammypw')),
        line('dig@' + REALM, '{DIGEST-MD5}' + digest_md5_secret('dig', REALM, 'digpw').hex()),
        line('scrammy', scram_stored('SHA-256', 'scrammypw')),
        line('sha512', scram_stored('SHA-512', 'sha512pw')),
    ])


# (client, mechanism, user, password, realm, wanted code)
# realm: for swaks --auth-extra realm=, for gsasl -r.
CASES = [
    # PLAIN and LOGIN: any stored scheme verifies
    ('swaks', 'PLAIN', 'alice', 'alicepw', None, 235),
    ('swaks', 'PLAIN', 'alice', 'wrong', None, 535),
    ('swaks', 'PLAIN', 'nosuch', 'x', None, 535),
    ('swaks', 'PLAIN', 'carol', 'carolpw', None, 235),
    ('swaks', 'PLAIN', 'carol', 'wrong', None, 535),
    ('swaks', 'PLAIN', 'crammy', 'crammypw', None, 235),
    ('swaks', 'PLAIN', 'dig@' + REALM, 'digpw', None, 235),
    ('swaks', 'PLAIN', 'scrammy', 'scrammypw', None, 235),
    ('swaks', 'LOGIN', 'alice', 'alicepw', None, 235),
    ('swaks', 'LOGIN', 'alice', 'wrong', None, 535),
    ('swaks', 'LOGIN', 'nosuch', 'x', None, 535),
    ('swaks', 'LOGIN', 'carol', 'carolpw', None, 235),
    ('swaks', 'LOGIN', 'crammy', 'crammypw', None, 235),
    ('swaks', 'LOGIN', 'dig@' + REALM, 'digpw', None, 235),
    ('swaks', 'LOGIN', 'scrammy', 'scrammypw', None, 235),
    # CRAM-MD5: {PLAIN} or {CRAM-MD5}
    ('swaks', 'CRAM-MD5', 'alice', 'alicepw', None, 235),
    ('swaks', 'CRAM-MD5', 'alice', 'wrong', None, 535),
    ('swaks', 'CRAM-MD5', 'nosuch', 'x', None, 535),
    ('swaks', 'CRAM-MD5', 'crammy', 'crammypw', None, 235),
    ('swaks', 'CRAM-MD5', 'crammy', 'wrong', None, 535),
    ('swaks', 'CRAM-MD5', 'carol', 'carolpw', None, 535),
    ('swaks', 'CRAM-MD5', 'dig@' + REALM, 'digpw', None, 535),
    ('swaks', 'CRAM-MD5', 'scrammy', 'scrammypw', None, 535),
    # DIGEST-MD5: {PLAIN} or {DIGEST-MD5} of user@realm
    ('swaks', 'DIGEST-MD5', 'dave', 'davepw', REALM, 235),
    ('swaks', 'DIGEST-MD5', 'dave@' + REALM, 'davepw', None, 235),
    ('swaks', 'DIGEST-MD5', 'dave', 'wrong', REALM, 535),
    ('swaks', 'DIGEST-MD5', 'dig', 'digpw', REALM, 235),
    ('swaks', 'DIGEST-MD5', 'dig', 'wrong', REALM, 535),
    ('swaks', 'DIGEST-MD5', 'nosuch', 'x', REALM, 535),
    ('swaks', 'DIGEST-MD5', 'carol', 'carolpw', REALM, 535),
    ('swaks', 'DIGEST-MD5', 'crammy', 'crammypw', None, 535),
    ('gsasl', 'DIGEST-MD5', 'dig', 'digpw', REALM, 235),
    ('gsasl', 'DIGEST-MD5', 'dig', 'wrong', REALM, 535),
    ('gsasl', 'DIGEST-MD5', 'dave', 'davepw', REALM, 235),
    ('gsasl', 'DIGEST-MD5', 'dave', 'wrong', REALM, 535),
    ('gsasl', 'DIGEST-MD5', 'nosuch', 'x', REALM, 535),
    # SCRAM: {PLAIN} or the SCRAM scheme of the same hash
    ('gsasl', 'SCRAM-SHA-1', 'alice', 'alicepw', None, 235),
    ('gsasl', 'SCRAM-SHA-1', 'alice', 'wrong', None, 535),
    ('gsasl', 'SCRAM-SHA-1', 'scrammy', 'scrammypw', None, 535),
    ('gsasl', 'SCRAM-SHA-1', 'nosuch', 'x', None, 535),
    ('gsasl', 'SCRAM-SHA-256', 'alice', 'alicepw', None, 235),
    ('gsasl', 'SCRAM-SHA-256', 'alice', 'wrong', None, 535),
    ('gsasl', 'SCRAM-SHA-256', 'scrammy', 'scrammypw', None, 235),
    ('gsasl', 'SCRAM-SHA-256', 'scrammy', 'wrong', None, 535),
    ('gsasl', 'SCRAM-SHA-256', 'carol', 'carolpw', None, 535),
    ('gsasl', 'SCRAM-SHA-256', 'nosuch', 'x', None, 535),
]
SHA512_CASES = [
    ('raw', 'SCRAM-SHA-512', 'alice', 'alicepw', None, 235),
    ('raw', 'SCRAM-SHA-512', 'alice', 'wrong', None, 535),
    ('raw', 'SCRAM-SHA-512', 'sha512', 'sha512pw', None, 235),
    ('raw', 'SCRAM-SHA-512', 'sha512', 'wrong', None, 535),
    ('raw', 'SCRAM-SHA-512', 'scrammy', 'scrammypw', None, 535),
    ('raw', 'SCRAM-SHA-512', 'carol', 'carolpw', None, 535),
    ('raw', 'SCRAM-SHA-512', 'nosuch', 'x', None, 535),
    ('swaks', 'PLAIN', 'sha512', 'sha512pw', None, 235),
]


def run_case(port, tool, mech, user, password, realm):
    """(SMTP code that ended AUTH, client transcript)."""
    if tool == 'swaks':
        extra = ['--auth-extra', 'realm=' + realm] if realm else []
        return swaks_auth(port, mech, user, password, extra=extra)
    if tool == 'gsasl':
        return gsasl_smtp(port, mech, user, password, realm=realm, source=source_ip())
    with SMTPClient(port) as c:
        c.ehlo()
        res = run_smtp_auth(c, ScramClient(mech[len('SCRAM-'):], user, password))
    if res.reply[0] == 235 and not res.final_valid:
        return None, 'server final data %r is not what the password gives' % (res.final_data,)
    return res.reply[0], repr(res)


class PostfixChallengeMechs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.kind = server_kind()
        for prog in ('postfix', 'swaks', 'gsasl', 'doveadm'):
            find_binary(prog)     # a missing peer fails the class, never skips it
        uid, gid = user_ids('vmail')
        files = standard_users(uid, gid)
        files['users'] += extra_users(uid, gid)
        cls.mechs = mechanisms(cls.kind)
        conf = standard_conf(mechanisms=cls.mechs, extra='auth_realms = %s' % REALM)
        cls.srv = AuthServer(cls.kind, conf, files=files)
        cls.srv.start()
        cls.addClassCleanup(cls.srv.stop)
        # the default instance (noanonymous) and one that allows ANONYMOUS
        cls.pf = Postfix(cls.srv.path('auth-client'))
        cls.pf_anon = Postfix(cls.srv.path('auth-client'), security_options='')
        cls.addClassCleanup(cls.pf.stop)
        cls.addClassCleanup(cls.pf_anon.stop)
        threads = [threading.Thread(target=p.start) for p in (cls.pf, cls.pf_anon)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for p in (cls.pf, cls.pf_anon):
            if p.master_pid is None:
                raise AssertionError('Postfix did not start:\n' + p.log()[-3000:])

    def context(self, out='', pf=None):
        pf = pf or self.pf
        return '\n--- client:\n%s\n--- postfix maillog (tail):\n%s\n--- %s log (tail):\n%s' % (
            out, pf.log()[-2000:], self.kind, self.srv.log()[-3000:])

    def test_ehlo_default_filters(self):
        """Postfix lists the MECH lines in order minus ANONYMOUS (noanonymous)
        and EXTERNAL (default mechanism filter), spec checklist 59."""
        got = ehlo_auth_mechs(self.pf.port)
        want = [m for m in self.mechs.upper().split() if m not in ('ANONYMOUS', 'EXTERNAL')]
        self.assertEqual(got, want, 'EHLO AUTH: got %r, want %r%s' % (got, want, self.context()))

    def test_ehlo_without_noanonymous(self):
        got = ehlo_auth_mechs(self.pf_anon.port)
        want = [m for m in self.mechs.upper().split() if m != 'EXTERNAL']
        self.assertEqual(got, want, self.context(pf=self.pf_anon))

    def test_each_mechanism(self):
        cases = CASES + ([] if self.kind == 'dovecot' else SHA512_CASES)
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
            futures = [(c, ex.submit(run_case, self.pf.port, *c[:5])) for c in cases]
            results = [(c, f.result()) for c, f in futures]
        for (tool, mech, user, password, realm, want), (got, out) in results:
            with self.subTest(tool=tool, mech=mech, user=user, password=password, realm=realm):
                self.assertEqual(got, want, '%s %s %s/%s: got %s, want %s%s' % (
                    tool, mech, user, password, got, want, self.context(out)))

    def test_scram_sha512_not_offered_by_dovecot(self):
        """Dovecot 2.3 has no SCRAM-SHA-512; the raw client is refused by
        Postfix itself. (authd: see test_each_mechanism.)"""
        if self.kind != 'dovecot':
            self.assertIn('SCRAM-SHA-512', ehlo_auth_mechs(self.pf.port))
            return
        replies = smtp_auth_raw(self.pf.port, 'SCRAM-SHA-512', b64(b'n,,n=alice,r=abcdefgh'))
        self.assertEqual(replies[-1][0], 535, replies)

    def test_hidden_mechanisms_refused(self):
        """ANONYMOUS under noanonymous is refused by Postfix itself; EXTERNAL
        reaches the auth server, which has no certificate name: 535."""
        anon = smtp_auth_raw(self.pf.port, 'ANONYMOUS', b64(b'trace'))
        self.assertEqual(anon[-1][0], 535, anon)
        self.assertIn('Invalid authentication mechanism', anon[-1][1][0])
        code, out = gsasl_smtp(self.pf.port, 'ANONYMOUS', anonymous_token='trace',
                               source=source_ip())
        self.assertNotEqual(code, 235, out)
        ext = smtp_auth_raw(self.pf.port, 'EXTERNAL', '=')
        self.assertEqual(ext[-1][0], 535, ext)

    def test_anonymous_when_allowed(self):
        """Without noanonymous: gsasl ANONYMOUS and a raw AUTH ANONYMOUS get
        235 (Postfix then refuses to relay for the anonymous session, by its
        own rule in permit_sasl_authenticated)."""
        code, out = gsasl_smtp(self.pf_anon.port, 'ANONYMOUS', anonymous_token='me@example.net',
                               source=source_ip())
        self.assertEqual(code, 235, self.context(out, self.pf_anon))
        replies = smtp_auth_raw(self.pf_anon.port, 'ANONYMOUS', b64(b'trace'))
        self.assertEqual(replies[-1][0], 235, replies)
        replies = smtp_auth_raw(self.pf_anon.port, 'ANONYMOUS', '=')
        self.assertEqual(replies[-1][0], 235, replies)

    def test_reason_text_for_failure(self):
        """A FAIL without reason= reaches the SMTP client as Postfix's own text."""
        code, out = swaks_auth(self.pf.port, 'CRAM-MD5', 'alice', 'wrong')
        self.assertEqual(code, 535, out)
        self.assertEqual(auth_reply_text(out),
                         '5.7.8 Error: authentication failed: (reason unavailable)')


if __name__ == '__main__':
    unittest.main()
