"""The auth cache in the request flow (issue 8): the CVE-history cases.
A cached success must never let one user in with another's password, and
an old password must stop working as soon as the passdb changes."""

import os
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
            time.sleep(1.1)   # stat()ed at most every 100 ms (Dovecot: once a second)
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


# A verifying passdb that can be taken down: exit 111 (internal failure)
# while {tmp}/down exists.
CHECKPASSWORD = r'''#!/usr/bin/python3
import os, sys
data = os.read(3, 600).split(b"\0")
user, password = data[0].decode(), data[1].decode()
if os.path.exists("{tmp}/down"):
    sys.exit(111)
if {"alice": "pw-alice", "bob": "pw-bob"}.get(user) != password:
    sys.exit(1)
os.environ["USER"] = user
os.environ["EXTRA"] = "userdb_quota_rule"
os.environ["userdb_quota_rule"] = "*:storage=1G"
os.execv(sys.argv[1], sys.argv[1:])
'''

FALLBACK_PASSDB = '''
passdb {
  driver = checkpassword
  args = {tmp}/checkpassword
}
userdb {
  driver = static
  args = uid=1000 gid=1000 home=/home/%u
}
'''


class CacheFallback(unittest.TestCase):
    """auth_cache_ttl: "After the TTL expires, the cached record is no
    longer used, unless the main database look-up returns internal
    failure" (Dovecot's documentation): an outage of the passdb does not
    lock out a user whose password was verified lately, and lets nobody
    else in."""

    def setUp(self):
        conf = make_conf(extra='auth_cache_size = 1M\nauth_cache_ttl = 1 secs\n'
                         'auth_verbose = yes\n', passdbs=FALLBACK_PASSDB)
        self.srv = AuthServer('authd', conf, files={'checkpassword': (CHECKPASSWORD, 0o755)})
        self.srv.start()
        self.down = os.path.join(self.srv.tmp, 'down')

    def tearDown(self):
        self.srv.stop()

    def test_expired_entry_serves_during_an_outage(self):
        with AuthClient(self.srv.path('auth-client'), hello=True) as c:
            self.assertEqual(c.plain(1, 'alice', 'pw-alice', params=NP).cmd, b'OK')
            time.sleep(1.2)   # past auth_cache_ttl
            open(self.down, 'w').close()
            r = c.plain(2, 'alice', 'pw-alice', params=NP)
            self.assertEqual(r.cmd, b'OK', r.raw)
            self.assertIsNotNone(self.srv.wait_log(
                r'checkpassword\(alice.*Falling back to the expired cached success'))
            # a wrong password, or a user never cached, is not let in
            r = c.plain(3, 'alice', 'pw-bob', params=NP)
            self.assertEqual((r.cmd, r.get('code')), (b'FAIL', b'temp_fail'), r.raw)
            r = c.plain(4, 'bob', 'pw-bob', params=NP)
            self.assertEqual((r.cmd, r.get('code')), (b'FAIL', b'temp_fail'), r.raw)
            os.unlink(self.down)
            self.assertEqual(c.plain(5, 'bob', 'pw-bob', params=NP).cmd, b'OK')

    def test_expired_entry_unused_while_the_passdb_answers(self):
        with AuthClient(self.srv.path('auth-client'), hello=True) as c:
            self.assertEqual(c.plain(1, 'alice', 'pw-alice', params=NP).cmd, b'OK')
            time.sleep(1.2)
            with open(self.down, 'w'):
                pass
            os.unlink(self.down)
            self.assertEqual(c.plain(2, 'alice', 'pw-alice', params=NP).cmd, b'OK')
        self.assertNotIn('Falling back', self.srv.log())

    def test_lookup_passdb_outage(self):
        """The same for a passdb that hands over the stored password: a
        passwd-file that cannot be read any more."""
        self.srv.stop()
        conf = make_conf(extra='auth_cache_size = 1M\nauth_cache_ttl = 1 secs\n'
                         'auth_verbose = yes\n')
        self.srv = AuthServer('authd', conf,
                              files={'users': 'alice:{PLAIN}pw-one:1000:1000::/home/alice\n'})
        self.srv.start()
        users = os.path.join(self.srv.tmp, 'users')
        with AuthClient(self.srv.path('auth-client'), hello=True) as c:
            self.assertEqual(c.plain(1, 'alice', 'pw-one', params=NP).cmd, b'OK')
            time.sleep(1.2)   # past auth_cache_ttl and the once-a-second stat
            os.unlink(users)
            os.mkdir(users)   # not a regular file: an internal failure
            r = c.plain(2, 'alice', 'pw-one', params=NP)
            self.assertEqual(r.cmd, b'OK', r.raw)
            r = c.plain(3, 'alice', 'pw-two', params=NP)
            self.assertEqual((r.cmd, r.get('code')), (b'FAIL', b'temp_fail'), r.raw)
        self.assertIsNotNone(self.srv.wait_log(
            r'passwd-file\(alice.*Falling back to the expired cached success'))


if __name__ == '__main__':
    unittest.main()
