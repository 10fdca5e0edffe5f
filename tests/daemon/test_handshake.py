"""auth-client handshake: checklist items 1-8 (spec section 2.2, 2.3)."""

import os
import re
import unittest

from tests.daemon.dtest import NP, ServerTestCase, line, plain_data, b64


class ServerHandshake(ServerTestCase):

    def test_01_greeting_order_and_shape(self):
        """1, 2: VERSION 1 2, MECH lines in auth_mechanisms order, SPID, CUID,
        COOKIE, DONE, before the client sends anything."""
        c = self.raw_client()
        hs = c.read_handshake()
        self.assertEqual(hs.lines[0], b'VERSION\t1\t2')
        self.assertEqual(hs.lines[1:3], [b'MECH\tPLAIN\tplaintext', b'MECH\tLOGIN\tplaintext'])
        self.assertEqual(len(hs.lines), 7, hs.lines)
        self.assertRegex(hs.lines[3], rb'^SPID\t[1-9][0-9]*$')
        self.assertRegex(hs.lines[4], rb'^CUID\t[1-9][0-9]*$')
        self.assertRegex(hs.lines[5], rb'^COOKIE\t[0-9a-f]{32}$')
        self.assertEqual(hs.lines[6], b'DONE')
        self.assertEqual(c.pending(), b'', 'nothing may follow DONE')

    def test_01_spid_is_the_auth_process(self):
        """SPID is the decimal pid of the (auth) process serving the socket."""
        c = self.raw_client()
        spid = int(c.read_handshake().spid)
        family = [self.srv.pid] + self.srv.children()
        self.assertIn(spid, family)

    def test_01_cuid_increments_cookie_random(self):
        """CUID grows by one per auth-client connection; COOKIE differs per connection."""
        a = self.raw_client().read_handshake()
        b = self.raw_client().read_handshake()
        self.assertEqual(int(b.cuid), int(a.cuid) + 1)
        self.assertNotEqual(a.cookie, b.cookie)
        self.assertEqual(a.spid, b.spid)

    def test_01_login_socket_same_greeting(self):
        hs = self.raw_client('auth-login').read_handshake()
        self.assertEqual([l.split(b'\t')[0] for l in hs.lines],
                         [b'VERSION', b'MECH', b'MECH', b'SPID', b'CUID', b'COOKIE', b'DONE'])

    def test_03_major_version_not_1_closes(self):
        for major in (b'2', b'0'):
            c = self.client(hello=False)
            c.send(b'VERSION\t' + major + b'\t0\nCPID\t1\n')
            self.assertClosed(c, what='for VERSION major ' + major.decode())

    def test_03_version_garbage_closes(self):
        for bad in (b'VERSION\tx\n', b'VERSION\n', b'VERSION\t1x\t2\n', b'version\t1\t2\n'):
            c = self.client(hello=False)
            c.send(bad + b'CPID\t1\n')
            self.assertClosed(c, what='for %r' % bad)

    def test_04_any_minor_accepted(self):
        for minor in (0, 1, 2, 3, 99):
            c = self.client(minor=minor)
            r = c.plain(1, 'alice', 'alicepw', params=NP)
            self.assertOK(r, 1, 'alice')

    def test_05_first_line_must_be_version(self):
        cases = [
            b'AUTH\t1\tPLAIN\tservice=smtp\n',
            b'CPID\t5\n',
            b'VERSION\t1\t2\nAUTH\t1\tPLAIN\tservice=smtp\n',      # AUTH before CPID
            b'VERSION\t1\t2\nVERSION\t1\t2\n',                     # second line not CPID
        ]
        for data in cases:
            c = self.client(hello=False)
            c.send(data)
            self.assertClosed(c, what='for %r' % data)

    def test_06_cpid_zero_or_garbage_closes(self):
        for cpid in (b'0', b'abc', b'', b'-1', b'12x'):
            c = self.client(hello=False)
            c.send(b'VERSION\t1\t2\nCPID\t' + cpid + b'\n')
            self.assertClosed(c, what='for CPID %r' % cpid)

    def test_07_cpid_unique_on_login_socket(self):
        """A CPID in use by a live login connection closes the new one; plain
        client sockets ignore the CPID."""
        cpid = 400000 + os.getpid() % 100000
        a = self.client('auth-login', cpid=cpid)
        self.assertOK(a.plain(1, 'alice', 'alicepw', params=NP), 1, 'alice')
        b = self.client('auth-login', cpid=cpid)
        b.send(line('AUTH', 1, 'PLAIN', 'service=smtp', 'no-penalty',
                    b'resp=' + b64(plain_data('alice', 'alicepw'))))
        self.assertClosed(b, what='for a duplicate CPID on a login socket')
        # the first connection is unaffected
        self.assertOK(a.plain(2, 'alice', 'alicepw', params=NP), 2, 'alice')
        # plain client sockets: the same CPID twice is fine
        c1 = self.client(cpid=cpid)
        c2 = self.client(cpid=cpid)
        self.assertOK(c1.plain(1, 'alice', 'alicepw', params=NP), 1, 'alice')
        self.assertOK(c2.plain(1, 'alice', 'alicepw', params=NP), 1, 'alice')

    def test_07_cpid_reusable_after_disconnect(self):
        cpid = 500000 + os.getpid() % 100000
        a = self.client('auth-login', cpid=cpid)
        self.assertOK(a.plain(1, 'alice', 'alicepw', params=NP), 1, 'alice')
        a.close()
        b = self.client('auth-login', cpid=cpid)
        self.assertOK(b.plain(1, 'alice', 'alicepw', params=NP), 1, 'alice')

    def test_08_crlf_accepted(self):
        c = self.client(hello=False)
        c.send(b'VERSION\t1\t2\r\nCPID\t77\r\n')
        c.send(line('AUTH', 1, 'PLAIN', 'service=smtp', 'no-penalty',
                    b'resp=' + b64(plain_data('alice', 'alicepw')) + b'\r'))
        self.assertOK(c.reply(), 1, 'alice')
        c.auth(2, 'LOGIN', params=NP)
        self.assertEqual(c.reply().raw, b'CONT\t2\tVXNlcm5hbWU6')
        c.send(b'CONT\t2\t' + b64('alice') + b'\r\n')
        self.assertEqual(c.reply().raw, b'CONT\t2\tUGFzc3dvcmQ6')
        c.send(b'CONT\t2\t' + b64('alicepw') + b'\r\n')
        self.assertOK(c.reply(), 2, 'alice')

    def test_client_handshake_pipelined_with_auth(self):
        """Exim style: VERSION, CPID and AUTH in one write, minor 0, empty resp=."""
        c = self.client(hello=False)
        c.send(b'VERSION\t1\t0\nCPID\t32046\n'
               b'AUTH\t1\tPLAIN\tservice=smtp\trip=192.0.2.1\tlip=192.0.2.2\tnologin\tno-penalty\tresp=\n')
        self.assertEqual(c.reply().raw, b'CONT\t1\t')
        c.cont(1, plain_data('alice', 'alicepw'))
        self.assertOK(c.reply(), 1, 'alice')

    def test_handshake_sent_without_client_input(self):
        """The greeting arrives even if the client never writes (Exim reads first)."""
        c = self.raw_client()
        hs = c.read_handshake(timeout=3)
        self.assertEqual(hs.lines[-1], b'DONE')


if __name__ == '__main__':
    unittest.main()
