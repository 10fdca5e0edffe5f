"""Real Postfix smtpd with the challenge-response mechanisms: CRAM-MD5 and
DIGEST-MD5 driven by swaks (Authen::SASL), SCRAM-SHA-1 and SCRAM-SHA-256
driven by gsasl. DIGEST-MD5 and SCRAM end with server data that Postfix
(which never sends final-resp-ok) relays as one more 334 the client answers
with an empty line.

Server kind from AUTHD_TEST_SERVER. Facts: shared/spec/real-clients.md,
dovecot-auth-protocol.md sections 4.1, 5.2 and 6.
"""

import re
import subprocess
import unittest

from tests.lib.peers import find_binary, standard_conf, standard_users, user_ids
from tests.lib.postfix import Postfix, ehlo_auth_mechs, swaks_auth
from tests.lib.server import AuthServer, server_kind

MECHS = 'plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256'
REALM = 'example.com'


def gsasl_auth(port, mech, user, password):
    """gsasl --smtp against 127.0.0.1:port; returns (last 235/535 code or
    None, output). gsasl cannot choose its source address, so its requests
    share the server's penalty bucket of 127.0.0.1."""
    argv = [find_binary('gsasl'), '--smtp', '--connect', '127.0.0.1:%d' % port,
            '--no-starttls', '-m', mech, '--quality-of-protection=qop-auth',
            '--hostname=localhost', '-a', user, '-p', password]
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    out = r.stdout.decode('utf-8', 'replace')
    codes = re.findall(r'^(235|535|454) ', out, re.M)
    return (int(codes[-1]) if codes else None), out


class PostfixChallengeMechs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.kind = server_kind()
        for prog in ('postfix', 'swaks', 'gsasl'):
            find_binary(prog)     # a missing peer fails the class, never skips it
        uid, gid = user_ids('vmail')
        files = standard_users(uid, gid)
        files['users'] += 'dave@%s:{PLAIN}davepw:%d:%d::{tmp}/home/dave\n' % (REALM, uid, gid)
        conf = standard_conf(mechanisms=MECHS, extra='auth_realms = %s' % REALM)
        cls.srv = AuthServer(cls.kind, conf, files=files)
        cls.srv.start()
        cls.addClassCleanup(cls.srv.stop)
        cls.pf = Postfix(cls.srv.path('auth-client'))
        cls.pf.start()
        cls.addClassCleanup(cls.pf.stop)

    def context(self, out=''):
        return '\n--- client:\n%s\n--- postfix maillog (tail):\n%s\n--- %s log (tail):\n%s' % (
            out, self.pf.log()[-2000:], self.kind, self.srv.log()[-3000:])

    def test_ehlo_lists_all(self):
        got = ehlo_auth_mechs(self.pf.port)
        want = MECHS.upper().split()
        self.assertEqual(got, want, 'EHLO AUTH: got %r, want %r%s' % (got, want, self.context()))

    def test_swaks(self):
        realm = ['--auth-extra', 'realm=' + REALM]
        cases = [
            dict(mech='CRAM-MD5', user='alice', password='alicepw', extra=[], want=235),
            dict(mech='CRAM-MD5', user='alice', password='wrong', extra=[], want=535),
            dict(mech='CRAM-MD5', user='nosuch', password='x', extra=[], want=535),
            # SHA512-CRYPT cannot give CRAM-MD5 credentials: a plain failure
            dict(mech='CRAM-MD5', user='carol', password='carolpw', extra=[], want=535),
            dict(mech='DIGEST-MD5', user='dave', password='davepw', extra=realm, want=235),
            dict(mech='DIGEST-MD5', user='dave@' + REALM, password='davepw', extra=[], want=235),
            dict(mech='DIGEST-MD5', user='dave', password='wrong', extra=realm, want=535),
            dict(mech='DIGEST-MD5', user='carol', password='carolpw', extra=realm, want=535),
        ]
        for c in cases:
            with self.subTest(mech=c['mech'], user=c['user'], password=c['password']):
                got, out = swaks_auth(self.pf.port, c['mech'], c['user'], c['password'],
                                      extra=c['extra'])
                self.assertEqual(got, c['want'], '%s %s/%s: got %s, want %s%s' % (
                    c['mech'], c['user'], c['password'], got, c['want'], self.context(out)))

    def test_gsasl_scram(self):
        # successes first: each failure raises the shared 127.0.0.1 penalty
        cases = [
            dict(mech='SCRAM-SHA-1', user='alice', password='alicepw', want=235),
            dict(mech='SCRAM-SHA-256', user='alice', password='alicepw', want=235),
            dict(mech='SCRAM-SHA-256', user='alice', password='wrong', want=535),
        ]
        for c in cases:
            with self.subTest(**c):
                got, out = gsasl_auth(self.pf.port, c['mech'], c['user'], c['password'])
                self.assertEqual(got, c['want'], '%s %s/%s: got %s, want %s%s' % (
                    c['mech'], c['user'], c['password'], got, c['want'], self.context(out)))


if __name__ == '__main__':
    unittest.main()
