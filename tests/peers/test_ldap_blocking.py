"""`blocking = yes` in a dovecot-ldap.conf.ext (issue 7): the LDAP lookups
run in auth worker processes, not in the auth process, with the same
answers in every mode."""

import unittest

from tests.lib.authproto import AuthClient, MasterClient
from tests.lib.ldaptest import MODES, ldap_server_conf
from tests.lib.peers import find_binary
from tests.lib.server import AuthServer
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


class LdapBlocking(unittest.TestCase):

    def test_lookups_run_in_workers(self):
        for mode in MODES:
            with self.subTest(mode=mode):
                conf, files = ldap_server_conf(SLAPD, mode, extra='auth_debug = yes\n')
                for name in list(files):
                    files[name] = files[name] + 'blocking = yes\n'
                with AuthServer('authd', conf, files=files) as srv:
                    with AuthClient(srv.path('auth-client'), hello=True) as c:
                        self.assertEqual(c.plain(1, 'alice', 'alicepw',
                                                 params=('no-penalty',)).cmd, b'OK')
                        self.assertEqual(c.plain(2, 'alice', 'wrong',
                                                 params=('no-penalty',)).cmd, b'FAIL')
                    with MasterClient(srv.path('auth-userdb'), hello=True) as m:
                        m.user(1, 'alice', service='lda')
                        r = m.reply()
                        self.assertEqual(r.cmd, b'USER', r)
                    kids = srv.children()
                    self.assertGreaterEqual(len(kids), 2,
                                            'the auth process and a worker: %r' % kids)
                    self.assertRegex(srv.log(), r'auth-worker \d+ started',
                                     'a worker was started for the lookups')


if __name__ == '__main__':
    unittest.main()
