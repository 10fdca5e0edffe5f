"""Checklist item 31: the auth penalty per remote address. After a failure
the next request from that address starts only after a delay; a success
resets it; repeating the same wrong password does not escalate; no-penalty
requests are not delayed. authd caps the delay below Postfix's 10 s
timeout (Dovecot: 4, 8, 15 s)."""

import time
import unittest

from tests.daemon.dtest import AuthClient, ServerTestCase, make_conf


class Penalty(ServerTestCase):
    CONF = make_conf(delay=0)

    def timed_plain(self, c, rid, user, pw, rip):
        t0 = time.monotonic()
        r = c.plain(rid, user, pw, params=('rip=%s' % rip,))
        return r, time.monotonic() - t0

    def test_31_failure_delays_next_request_and_success_resets(self):
        with AuthClient(self.srv.path('auth-client'), hello=True) as c:
            r, dt = self.timed_plain(c, 1, 'alice', 'wrong', '10.31.0.1')
            self.assertEqual(r.cmd, b'FAIL', r)
            self.assertLess(dt, 1.0)
            r, dt = self.timed_plain(c, 2, 'alice', 'alicepw', '10.31.0.1')
            self.assertEqual(r.cmd, b'OK', r)
            self.assertGreaterEqual(dt, 3.5, 'penalty after one failure (Dovecot: 4 s)')
            self.assertLess(dt, 10.0, 'must stay below Postfix\'s 10 s timeout')
            r, dt = self.timed_plain(c, 3, 'alice', 'alicepw', '10.31.0.1')
            self.assertEqual(r.cmd, b'OK', r)
            self.assertLess(dt, 1.0, 'a success resets the penalty')

    def test_31_same_wrong_password_does_not_escalate(self):
        with AuthClient(self.srv.path('auth-client'), hello=True) as c:
            self.timed_plain(c, 1, 'alice', 'same-wrong', '10.31.0.2')
            r, dt1 = self.timed_plain(c, 2, 'alice', 'same-wrong', '10.31.0.2')
            self.assertEqual(r.cmd, b'FAIL', r)
            r, dt2 = self.timed_plain(c, 3, 'alice', 'alicepw', '10.31.0.2')
            self.assertEqual(r.cmd, b'OK', r)
            self.assertGreaterEqual(dt1, 3.5)
            self.assertLess(dt2, dt1 + 1.0, 'same password again: penalty stays at its level')

    def test_31_other_addresses_and_no_penalty_are_not_delayed(self):
        with AuthClient(self.srv.path('auth-client'), hello=True) as c:
            self.timed_plain(c, 1, 'alice', 'wrong', '10.31.0.3')
            r, dt = self.timed_plain(c, 2, 'alice', 'alicepw', '10.31.0.4')
            self.assertEqual(r.cmd, b'OK', r)
            self.assertLess(dt, 1.0)
            t0 = time.monotonic()
            r = c.plain(3, 'alice', 'alicepw', params=('rip=10.31.0.3', 'no-penalty'))
            self.assertEqual(r.cmd, b'OK', r)
            self.assertLess(time.monotonic() - t0, 1.0)

    def test_disconnect_during_the_wait_frees_the_request(self):
        """A client that hangs up while its request waits out the penalty:
        the request is dropped with both its references (the leak check at
        the server's exit, in tearDownClass, fails otherwise), and the
        server goes on answering."""
        with AuthClient(self.srv.path('auth-client'), hello=True) as c:
            r, _ = self.timed_plain(c, 1, 'alice', 'wrong', '10.31.0.5')
            self.assertEqual(r.cmd, b'FAIL', r)
            c.send(b'AUTH\t2\tPLAIN\tservice=smtp\trip=10.31.0.5\tresp=AGFsaWNlAGFsaWNlcHc=\n')
            time.sleep(0.3)   # now waiting out the penalty
        with AuthClient(self.srv.path('auth-client'), hello=True) as c:
            r, dt = self.timed_plain(c, 1, 'alice', 'alicepw', '10.31.0.6')
            self.assertEqual(r.cmd, b'OK', r)
            self.assertLess(dt, 1.0)


if __name__ == '__main__':
    unittest.main()
