"""driver = ldap against a real slapd (tests.lib.slapd: the spec B.8 fixture
plus a {PLAIN} user and names full of filter/DN specials), in the three
modes of spec B.4 with the spec's own .conf.ext files:

  pass    password lookup, local verification (default_pass_scheme CRYPT)
  bind    auth_bind: search as the service DN, then bind as the user
  binddn  auth_bind_userdn: one bind to uid=%u,ou=people,...

For each: the expected-results table of spec B.8 on the raw auth-client
protocol, LOGIN, CRAM-MD5 (works in lookup mode for a {PLAIN} user, fails
in the bind modes: "NULL password"), injection attempts (usernames with
* ( ) \\ , = + and UTF-8 never match another entry), USER / LIST on
auth-userdb, and doveadm auth test / user / user '*'. Postfix + swaks and
dovecot-lda are in test_ldap_peers.py, faults in test_ldap_faults.py, the
comparison with Dovecot in test_ldap_side_by_side.py.
"""

import unittest

from tests.lib.ldaptest import cram_md5, ldap_server_conf, params, plain, verdict
from tests.lib.peers import (AuthClient, DovecotClientConfig, MasterClient, doveadm,
                             find_binary, parse_auth_test, parse_field_table)
from tests.lib.server import AuthServer, server_kind
from tests.lib.slapd import Slapd

SLAPD = None


def setUpModule():
    global SLAPD
    find_binary('slapd')
    SLAPD = Slapd()
    SLAPD.start()


def tearDownModule():
    if SLAPD is not None:
        SLAPD.cleanup()


# (user, password, {mode: verdict}) - spec B.8's table, plus the extra users.
PLAIN_CASES = [
    ('alice', 'alicepw', dict(pass_='OK', bind='OK', binddn='OK')),
    ('alice', 'wrong', dict(pass_='FAIL', bind='FAIL', binddn='FAIL')),
    ('ALICE', 'alicepw', dict(pass_='OK', bind='OK', binddn='OK')),
    ('bob', 'bobpw', dict(pass_='OK', bind='OK', binddn='OK')),
    ('carol', 'carolpw', dict(pass_='OK', bind='OK', binddn='OK')),
    ('dave', 'davepw', dict(pass_='FAIL', bind='OK', binddn='OK')),
    ('erin', 'x', dict(pass_='FAIL', bind='FAIL', binddn='FAIL')),
    ('nobody', 'x', dict(pass_='FAIL', bind='FAIL', binddn='FAIL')),
    ('frank', 'frankpw', dict(pass_='FAIL temp_fail', bind='FAIL temp_fail', binddn='OK')),
    ('star*', 'starpw', dict(pass_='OK', bind='OK', binddn='OK')),
    ('alice', '', dict(pass_='FAIL', bind='FAIL', binddn='FAIL')),
    ('a,b', 'abpw', dict(pass_='OK', bind='OK', binddn='OK')),
    ('x(y)', 'xypw', dict(pass_='OK', bind='OK', binddn='OK')),
    ('j\u00fcrgen', 'jpw', dict(pass_='OK', bind='OK', binddn='OK')),
    ('b\\s', 'bspw', dict(pass_='OK', bind='OK', binddn='OK')),
    ('paula', 'paulapw', dict(pass_='OK', bind='FAIL', binddn='FAIL')),
]

# Logins that would match alice (or everyone) if the escaping were wrong;
# tried with alice's password, they must all fail - and never temp-fail,
# which would mean a filter matched several entries.
INJECTIONS = ['*', 'ali*', 'alice*', '*)(uid=*', 'alice)(uid=*', 'alice)(|(uid=*)',
              '*)(objectClass=*', 'alice\\', 'ali\\2a', 'alice,ou=people',
              'uid=alice', 'alice+cn=Alice Example', 'al=ice', '(alice)', 'alic\u00e9',
              'a\\,b', '#alice', 'alice;x', '"alice"', '<alice>']


class _LdapMode:
    mode = None

    @classmethod
    def setUpClass(cls):
        conf, files = ldap_server_conf(SLAPD, cls.mode)
        cls.srv = AuthServer(server_kind(), conf, files=files)
        cls.srv.start()
        cls.addClassCleanup(cls.srv.stop)

    def ctx(self):
        return '\n--- server log (tail):\n' + self.srv.log()[-3000:]

    def auth_plain(self, user, password):
        with AuthClient(self.srv.path('auth-client')) as c:
            return c.request('PLAIN', params(), resp=plain(user, password))[-1]

    def test_plain_table(self):
        key = 'pass_' if self.mode == 'pass' else self.mode
        for user, password, want in PLAIN_CASES:
            with self.subTest(user=user, password=password):
                line = self.auth_plain(user, password)
                self.assertEqual(verdict(line), want[key], 'PLAIN %r/%r: got %r, want %s%s'
                                 % (user, password, line, want[key], self.ctx()))
        self.assertEqual(self.srv.crash_report(), '')

    def test_ok_reply_fields(self):
        line = self.auth_plain('ALICE', 'alicepw')
        self.assertEqual(line.split('\t')[2:], ['user=alice', 'original_user=ALICE'],
                         'got %r%s' % (line, self.ctx()))

    def test_login(self):
        for password, want in (('alicepw', 'OK'), ('wrong', 'FAIL')):
            with AuthClient(self.srv.path('auth-client')) as c:
                line = c.request('LOGIN', params(), conts=[b'alice', password.encode()])[-1]
            self.assertEqual(verdict(line), want, 'LOGIN alice/%s: got %r%s'
                             % (password, line, self.ctx()))

    def test_cram_md5(self):
        want = 'OK' if self.mode == 'pass' else 'FAIL'
        with AuthClient(self.srv.path('auth-client')) as c:
            line = cram_md5(c, 'paula', 'paulapw')
        self.assertEqual(verdict(line), want, 'CRAM-MD5 paula ({PLAIN}): got %r, want %s%s'
                         % (line, want, self.ctx()))
        with AuthClient(self.srv.path('auth-client')) as c:
            line = cram_md5(c, 'alice', 'alicepw')
        self.assertEqual(verdict(line), 'FAIL', 'CRAM-MD5 alice ({SSHA}): got %r%s'
                         % (line, self.ctx()))
        if self.mode != 'pass':
            self.assertRegex(self.srv.log(), r'Requested CRAM-MD5 scheme, but we have a NULL '
                             r'password|unknown user')

    def test_injection(self):
        for user in INJECTIONS:
            with self.subTest(user=user):
                line = self.auth_plain(user, 'alicepw')
                self.assertEqual(verdict(line), 'FAIL', 'login %r with alice\'s password: got '
                                 '%r, want FAIL (no other entry)%s' % (user, line, self.ctx()))
        with AuthClient(self.srv.path('auth-client')) as c:
            line = c.request('LOGIN', params(), conts=[b'ali\0ce', b'alicepw'])[-1]
        self.assertEqual(verdict(line), 'FAIL', 'LOGIN with NUL in the name: %r' % line)
        self.assertTrue(self.srv.alive(), self.ctx())

    def test_user_lookup(self):
        with MasterClient(self.srv.path('auth-userdb')) as m:
            alice = m.command('USER', 'alice', 'service=lda')[0]
            nobody = m.command('USER', 'nobody', 'service=lda')[0]
            star = m.command('USER', '*', 'service=lda')[0]
        want = ['USER', '1', 'alice', 'home=/var/vmail/example.com/alice', 'uid=2001',
                'gid=2000', 'mail=maildir:/var/vmail/example.com/alice/Maildir',
                'quota_rule=*:storage=512M', 'mail_address=alice@example.com',
                'gecos_copy=Name: Alice Example']
        self.assertEqual(alice.split('\t'), want, 'USER alice%s' % self.ctx())
        self.assertEqual(nobody, 'NOTFOUND\t2', self.ctx())
        self.assertEqual(star, 'NOTFOUND\t3', 'USER * must not match: %r' % star)

    def test_list(self):
        with MasterClient(self.srv.path('auth-userdb')) as m:
            lines = m.command('LIST', 'service=doveadm')
        users = [l.split('\t', 2)[2] for l in lines if l.startswith('LIST\t')]
        self.assertEqual(lines[-1], 'DONE\t1\t', self.ctx())
        self.assertEqual(users, ['alice', 'bob', 'carol', 'dave', 'erin', 'star*', 'frank',
                                 'frank', 'paula', 'a,b', 'x(y)', 'j\u00fcrgen', 'b\\s'],
                         self.ctx())

    def test_doveadm(self):
        cfg = DovecotClientConfig(self.srv.tmp, self.srv.path('auth-userdb'))
        r = doveadm(cfg, 'auth', 'test', '-a', self.srv.path('auth-client'), 'alice', 'alicepw')
        head, _ = parse_auth_test(r.stdout)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.ctx())
        self.assertIn('auth succeeded', head)
        r = doveadm(cfg, 'auth', 'test', '-a', self.srv.path('auth-client'), 'alice', 'bad')
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        r = doveadm(cfg, 'user', 'carol')
        fields = parse_field_table(r.stdout)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.ctx())
        self.assertEqual((fields.get('uid'), fields.get('home'), fields.get('proxy_host')),
                         ('2003', '/var/vmail/example.com/carol', 'imap2.example.com'),
                         r.stdout)
        r = doveadm(cfg, 'user', 'nobody')
        self.assertEqual(r.returncode, 67, r.stdout + r.stderr)
        r = doveadm(cfg, 'user', '*')
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.ctx())
        self.assertEqual(r.stdout.split(), ['alice', 'bob', 'carol', 'dave', 'erin', 'star*',
                                            'frank', 'frank', 'paula', 'a,b', 'x(y)',
                                            'j\u00fcrgen', 'b\\s'])


class LdapPasswordLookup(_LdapMode, unittest.TestCase):
    mode = 'pass'


class LdapAuthBind(_LdapMode, unittest.TestCase):
    mode = 'bind'


class LdapAuthBindUserDN(_LdapMode, unittest.TestCase):
    mode = 'binddn'


if __name__ == '__main__':
    unittest.main()
