"""Starting and stopping: a bad config is refused, SIGTERM ends every process."""

import os
import unittest

from tests.daemon.dtest import (FIXTURE_USERS, NP, AuthClient, AuthServer, make_conf,
                                server_kind)
from tests.lib.server import ServerError


class Lifecycle(unittest.TestCase):

    def test_sigterm_stops_all_processes(self):
        srv = AuthServer(server_kind(), make_conf(), files={'users': FIXTURE_USERS})
        srv.start()
        try:
            with AuthClient(srv.path('auth-client'), hello=True) as c:
                r = c.plain(1, 'alice', 'alicepw', params=NP)
                self.assertEqual(r.cmd, b'OK', r)
            kids = srv.children()
        finally:
            srv.stop()
        self.assertEqual(srv.killed_children, [], 'children outlived SIGTERM by 5 s')
        for pid in kids:
            self.assertFalse(os.path.exists('/proc/%d/cmdline' % pid)
                             and open('/proc/%d/cmdline' % pid, 'rb').read(), pid)

    def test_unknown_mechanism_refused(self):
        """auth_mechanisms with an unknown name: the server does not come up."""
        srv = AuthServer(server_kind(), make_conf(mechanisms='plain bogus-mech'),
                         files={'users': FIXTURE_USERS})
        with self.assertRaises(ServerError):
            srv.start()
        srv.stop()

    def test_unknown_passdb_driver_refused(self):
        conf = make_conf(passdbs='passdb {\n  driver = no-such-driver\n}\n'
                                 'userdb {\n  driver = passwd-file\n  args = {tmp}/users\n}\n')
        srv = AuthServer(server_kind(), conf, files={'users': FIXTURE_USERS})
        with self.assertRaises(ServerError):
            srv.start()
        srv.stop()


if __name__ == '__main__':
    unittest.main()
