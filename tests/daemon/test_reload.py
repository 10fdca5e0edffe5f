"""authd's own reload behaviour (not Dovecot's): SIGHUP re-reads the config
and the passwd-files without dropping live connections; a changed
passwd-file is noticed without any signal; a broken config on SIGHUP keeps
the old one running."""

import os
import signal
import time
import unittest

from tests.daemon.dtest import NP, AuthClient, AuthServer, make_conf

USERS_V1 = 'alice:{PLAIN}first:1000:1000::/home/alice\n'
USERS_V2 = 'alice:{PLAIN}second:1000:1000::/home/alice\nbob:{PLAIN}bobpw:1001:1001::/home/bob\n'


class Reload(unittest.TestCase):

    def setUp(self):
        # Always authd: this is authd's own reload contract.
        self.srv = AuthServer('authd', make_conf(), files={'users': USERS_V1})
        self.srv.start()

    def tearDown(self):
        self.srv.stop()

    def parent_pid(self):
        with open(os.path.join(self.srv.tmp, 'run', 'authd.pid')) as f:
            return int(f.read())

    def login(self, c, rid, user, pw):
        return c.plain(rid, user, pw, params=NP)

    def test_passwd_file_change_is_noticed_without_signal(self):
        with AuthClient(self.srv.path('auth-client'), hello=True) as c:
            self.assertEqual(self.login(c, 1, 'alice', 'first').cmd, b'OK')
            time.sleep(1.1)   # change detection: authd stats every 100 ms, Dovecot once a second
            self.srv.write_file('users', USERS_V2)
            time.sleep(1.1)
            self.assertEqual(self.login(c, 2, 'alice', 'second').cmd, b'OK')
            self.assertEqual(self.login(c, 3, 'bob', 'bobpw').cmd, b'OK')
            self.assertEqual(self.login(c, 4, 'alice', 'first').cmd, b'FAIL')

    def test_sighup_keeps_connections_and_applies_new_config(self):
        old = AuthClient(self.srv.path('auth-client'), hello=True)
        try:
            self.assertEqual(self.login(old, 1, 'alice', 'first').cmd, b'OK')
            # New config: user names are no longer lower-cased.
            conf = self.srv.config_text() + 'auth_username_format =\n'
            self.srv.write_file('auth.conf', conf)
            self.srv.write_file('users', 'Alice:{PLAIN}first:1000:1000::/home/alice\n')
            os.kill(self.parent_pid(), signal.SIGHUP)
            self.srv.wait_log('reloaded')
            # The connection made before the reload is still served.
            r = self.login(old, 2, 'Alice', 'first')
            self.assertEqual(r.cmd, b'FAIL', r)   # old settings: "alice" is looked up
            with AuthClient(self.srv.path('auth-client'), hello=True) as new:
                r = self.login(new, 1, 'Alice', 'first')
                self.assertEqual(r.cmd, b'OK', r)
                self.assertIn(b'user=Alice', r.raw)
        finally:
            old.close()

    def test_listener_change_is_reported(self):
        conf = self.srv.config_text() + 'service auth {\n  unix_listener extra-client {\n  }\n}\n'
        self.srv.write_file('auth.conf', conf)
        os.kill(self.parent_pid(), signal.SIGHUP)
        self.srv.wait_log('reloaded')
        self.assertIn('listener changes', self.srv.log())
        with AuthClient(self.srv.path('auth-client'), hello=True) as c:
            self.assertEqual(self.login(c, 1, 'alice', 'first').cmd, b'OK')

    def test_broken_config_on_sighup_keeps_the_old_one(self):
        conf = self.srv.config_text() + 'auth_failure_delay = many secs\n'
        self.srv.write_file('auth.conf', conf)
        os.kill(self.parent_pid(), signal.SIGHUP)
        self.srv.wait_log('keeping the old configuration')
        self.assertIn('auth_failure_delay', self.srv.log())
        with AuthClient(self.srv.path('auth-client'), hello=True) as c:
            self.assertEqual(self.login(c, 1, 'alice', 'first').cmd, b'OK')


if __name__ == '__main__':
    unittest.main()
