"""LDAP faults (issue 5): slapd killed with requests in flight, started
again, and hung (SIGSTOP) then continued. Every request must be answered -
FAIL with code=temp_fail - well before Postfix's 10 s auth timeout, the
daemon must stay up, and it must recover without a restart.

Modes: password lookup (search connections) and auth_bind (search, then a
bind connection). Requests are pipelined on one auth-client connection,
each with its own rip so the failure penalty does not delay them.
"""

import time
import unittest

from tests.lib.ldaptest import ldap_server_conf, params, plain, verdict
from tests.lib.peers import AuthClient, b64, find_binary, wait_for
from tests.lib.server import AuthServer, server_kind
from tests.lib.slapd import Slapd

POSTFIX_TIMEOUT = 10.0
IN_FLIGHT = 12


class _LdapFaults:
    mode = None

    @classmethod
    def setUpClass(cls):
        find_binary('slapd')
        cls.slapd = Slapd()
        cls.slapd.start()
        cls.addClassCleanup(cls.slapd.cleanup)
        conf, files = ldap_server_conf(cls.slapd, cls.mode)
        cls.srv = AuthServer(server_kind(), conf, files=files)
        cls.srv.start()
        cls.addClassCleanup(cls.srv.stop)

    def setUp(self):
        if self.slapd.proc is None:
            self.slapd.start()

    def ctx(self):
        return '\n--- server log (tail):\n' + self.srv.log()[-3000:]

    def burst(self, n, password='alicepw'):
        """n pipelined PLAIN requests for alice; returns ({id: line}, seconds
        until the last answer)."""
        start = time.monotonic()
        with AuthClient(self.srv.path('auth-client'), timeout=POSTFIX_TIMEOUT + 5) as c:
            ids = [c.auth('PLAIN', params(), resp=plain('alice', password)) for _ in range(n)]
            got = {}
            while len(got) < n:
                line = c.line()
                got[int(line.split('\t')[1])] = line
        self.assertEqual(sorted(got), ids, 'each request answered once' + self.ctx())
        return got, time.monotonic() - start

    def ok_now(self):
        with AuthClient(self.srv.path('auth-client')) as c:
            return verdict(c.request('PLAIN', params(), resp=plain('alice', 'alicepw'))[-1]) == 'OK'

    def test_killed_in_flight_then_restarted(self):
        self.assertTrue(self.ok_now(), 'warm-up' + self.ctx())
        # Hang slapd so the requests are surely in flight, then kill it.
        self.slapd.pause()
        with AuthClient(self.srv.path('auth-client'), timeout=POSTFIX_TIMEOUT + 5) as c:
            start = time.monotonic()
            ids = [c.auth('PLAIN', params(), resp=plain('alice', 'alicepw'))
                   for _ in range(IN_FLIGHT)]
            time.sleep(0.3)
            self.slapd.kill()
            got = {}
            while len(got) < IN_FLIGHT:
                line = c.line()
                got[int(line.split('\t')[1])] = line
            elapsed = time.monotonic() - start
        self.assertEqual(sorted(got), ids, self.ctx())
        for id, line in got.items():
            self.assertEqual(verdict(line), 'FAIL temp_fail', 'request %d: %r%s'
                             % (id, line, self.ctx()))
        self.assertLess(elapsed, POSTFIX_TIMEOUT - 2, 'answers took %.1f s' % elapsed)
        # While it is down: answered at once, temp_fail.
        got, elapsed = self.burst(4)
        self.assertEqual({verdict(l) for l in got.values()}, {'FAIL temp_fail'}, self.ctx())
        self.assertLess(elapsed, POSTFIX_TIMEOUT - 2)
        self.assertTrue(self.srv.alive(), self.ctx())
        # Started again: recovers without any action on authd.
        self.slapd.start()
        self.assertTrue(wait_for(self.ok_now, timeout=8.0, step=0.2),
                        'no recovery after slapd restart' + self.ctx())
        got, _ = self.burst(IN_FLIGHT)
        self.assertEqual({verdict(l) for l in got.values()}, {'OK'}, self.ctx())
        self.assertRegex(self.srv.log(), r'Connection lost to LDAP server|Can\'t connect')
        self.assertEqual(self.srv.crash_report(), '')

    def test_hung_then_continued(self):
        self.assertTrue(self.ok_now(), 'warm-up' + self.ctx())
        self.slapd.pause()
        try:
            got, elapsed = self.burst(IN_FLIGHT)
        finally:
            self.slapd.resume()
        for id, line in got.items():
            self.assertEqual(verdict(line), 'FAIL temp_fail', 'request %d: %r%s'
                             % (id, line, self.ctx()))
        self.assertLess(elapsed, POSTFIX_TIMEOUT - 2, 'answers took %.1f s' % elapsed)
        self.assertTrue(wait_for(self.ok_now, timeout=8.0, step=0.2),
                        'no recovery after SIGCONT' + self.ctx())
        got, _ = self.burst(IN_FLIGHT)
        self.assertEqual({verdict(l) for l in got.values()}, {'OK'}, self.ctx())
        self.assertTrue(self.srv.alive())
        self.assertEqual(self.srv.crash_report(), '')

    def test_wrong_passwords_under_load(self):
        """Many concurrent requests (more than one connection's pipeline)
        get their own answers: OK and FAIL mixed, none lost."""
        with AuthClient(self.srv.path('auth-client')) as c:
            want = {}
            for i in range(60):
                pw = 'alicepw' if i % 3 else 'wrong'
                want[c.auth('PLAIN', params(), resp=plain('alice', pw))] = \
                    'OK' if i % 3 else 'FAIL'
            got = {}
            while len(got) < len(want):
                line = c.line()
                got[int(line.split('\t')[1])] = verdict(line)
        self.assertEqual(got, want, self.ctx())


class LdapFaultsLookup(_LdapFaults, unittest.TestCase):
    mode = 'pass'


class LdapFaultsAuthBind(_LdapFaults, unittest.TestCase):
    mode = 'bind'


if __name__ == '__main__':
    unittest.main()
