"""The auth cache in the request flow (issue 8): the CVE-history cases.
A cached success must never let one user in with another's password, and
an old password must stop working as soon as the passdb changes."""

import time
import unittest

from tests.daemon.dtest import NP, AuthClient, AuthServer, MasterClient, make_conf

CACHE = 'auth_cache_size = 1M\nauth_cache_ttl = 1 hour\nauth_cache_negative_ttl = 1 hour\nauth_debug = yes\n'


def crypt_user(name, pw, uid):
    import subprocess
    h = subprocess.run(['doveadm', 'pw', '-s', 'SHA512-CRYPT', '-p', pw],
                       capture_output=True, text=True, check=True).stdout.strip()
    return '%s:%s:%d:%d::/home/%s\n' % (name, h, uid, uid, name)


class AuthCache(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.alice1 = crypt_user('alice', 'pw-one', 1000)
        cls.bob = crypt_user('bob', 'pw-bob', 1001)
        cls.alice2 = crypt_user('alice', 'pw-two', 1000)

    def setUp(self):
        # authd's own cache; Dovecot's is different by design (see cache.h).
        self.srv = AuthServer('authd', make_conf(extra=CACHE),
                              files={'users': self.alice1 + self.bob})
        self.srv.start()

    def tearDown(self):
        self.srv.stop()

    def login(self, c, rid, user, pw):
        return c.plain(rid, user, pw, params=NP).cmd

    def test_hit_after_success(self):
        with AuthClient(self.srv.path('auth-client'), hello=True) as c:
            self.assertEqual(self.login(c, 1, 'alice', 'pw-one'), b'OK')
            self.assertEqual(self.login(c, 2, 'alice', 'pw-one'), b'OK')
        self.assertIsNotNone(self.srv.wait_log(r'passwd-file\(alice\): cache hit'))

    def test_same_password_other_user_is_not_a_hit(self):
        with AuthClient(self.srv.path('auth-client'), hello=True) as c:
            self.assertEqual(self.login(c, 1, 'alice', 'pw-one'), b'OK')
            self.assertEqual(self.login(c, 2, 'bob', 'pw-one'), b'FAIL')
            self.assertEqual(self.login(c, 3, 'bob', 'pw-bob'), b'OK')
            self.assertEqual(self.login(c, 4, 'alice', 'pw-bob'), b'FAIL')

    def test_old_password_stops_working_after_change(self):
        with AuthClient(self.srv.path('auth-client'), hello=True) as c:
            self.assertEqual(self.login(c, 1, 'alice', 'pw-one'), b'OK')
            self.assertEqual(self.login(c, 2, 'alice', 'pw-one'), b'OK')   # cached
            time.sleep(1.1)
            self.srv.write_file('users', self.alice2 + self.bob)
            time.sleep(1.1)   # the file is stat()ed at most once a second
            self.assertEqual(self.login(c, 3, 'alice', 'pw-one'), b'FAIL')
            self.assertEqual(self.login(c, 4, 'alice', 'pw-two'), b'OK')

    def test_cache_flush_counts(self):
        with AuthClient(self.srv.path('auth-client'), hello=True) as c:
            self.assertEqual(self.login(c, 1, 'alice', 'pw-one'), b'OK')
            self.assertEqual(self.login(c, 2, 'bob', 'pw-bob'), b'OK')
        with MasterClient(self.srv.path('auth-master'), hello=True) as m:
            m.send(b'CACHE-FLUSH\t1\talice\n')
            self.assertEqual(m.reply().raw, b'OK\t1\t1')
            m.send(b'CACHE-FLUSH\t2\n')
            self.assertEqual(m.reply().raw, b'OK\t2\t1')


if __name__ == '__main__':
    unittest.main()
