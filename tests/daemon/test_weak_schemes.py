"""Weak password schemes (issue 3): with the 2.3 default they keep working
and each user's use is logged once as a warning; auth_allow_weak_schemes =
no refuses them (Dovecot 2.4's behaviour)."""

import unittest

from tests.daemon.dtest import NP, AuthClient, AuthServer, make_conf

# PLAIN-MD5 of "secret" and SHA256 (not weak) of "secret"
USERS = ('weak:{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69:1000:1000::/home/weak\n'
         'strong:{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=:1001:1001::/home/strong\n')


class WeakSchemes(unittest.TestCase):

    def run_logins(self, extra):
        srv = AuthServer('authd', make_conf(extra=extra), files={'users': USERS})
        srv.start()
        try:
            with AuthClient(srv.path('auth-client'), hello=True) as c:
                got = [c.plain(i, user, 'secret', params=NP).cmd
                       for i, user in enumerate(('weak', 'weak', 'strong'), 1)]
        finally:
            srv.stop()
        return got, srv.log()

    def test_allowed_by_default_with_one_warning(self):
        got, log = self.run_logins('auth_verbose = yes\n')
        self.assertEqual(got, [b'OK', b'OK', b'OK'])
        self.assertEqual(log.count("Weak password scheme 'PLAIN-MD5' used"), 1, log)
        self.assertNotIn("(strong)", log)

    def test_refused_when_not_allowed(self):
        got, log = self.run_logins('auth_verbose = yes\nauth_allow_weak_schemes = no\n')
        self.assertEqual(got, [b'FAIL', b'FAIL', b'OK'])
        self.assertIn("Weak password scheme 'PLAIN-MD5' used and refused", log)


if __name__ == '__main__':
    unittest.main()
