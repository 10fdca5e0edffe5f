"""auth-client framing and AUTH/CONT/CANCEL syntax: checklist items 9-16,
23-25 and the close-vs-FAIL table of spec section 2.9."""

import unittest

from tests.daemon.dtest import NP, ServerTestCase, b64, line, plain_data

ALICE = b'resp=' + b64(plain_data('alice', 'alicepw'))


def auth_line_of_length(total, id=1):
    """An AUTH line for alice, exactly total bytes long without its LF,
    padded with an ignored x=aaa... parameter."""
    head = b'AUTH\t%d\tPLAIN\tservice=smtp\tno-penalty\tx=' % id
    tail = b'\t' + ALICE
    return head + b'a' * (total - len(head) - len(tail)) + tail


class Framing(ServerTestCase):

    # --- 9: line length
    def test_09_line_16383_accepted(self):
        c = self.client()
        data = auth_line_of_length(16383)
        self.assertEqual(len(data), 16383)
        c.send(data + b'\n')
        self.assertOK(c.reply(), 1, 'alice')
        self.assertOK(c.plain(2, 'alice', 'alicepw', params=NP), 2, 'alice')

    def test_09_line_16384_closes(self):
        c = self.client()
        c.send(auth_line_of_length(16384) + b'\n')
        self.assertClosed(c, what='for a 16384-byte line')

    def test_09_line_20000_closes(self):
        c = self.client()
        c.send(auth_line_of_length(20028) + b'\n')
        self.assertClosed(c, what='for a 20028-byte line')

    def test_09_long_line_without_lf_closes(self):
        c = self.client()
        c.send(b'AUTH\t1\tPLAIN\tservice=smtp\tx=' + b'a' * 40000)
        self.assertClosed(c, what='for 40000 bytes without LF')

    # --- 10: ids
    def test_10_bad_ids_close(self):
        for bad in (b'0', b'abc', b'4294967296', b'-1', b'', b'1x', b' 1', b'99999999999999999999'):
            c = self.client()
            c.send(b'AUTH\t' + bad + b'\tPLAIN\tservice=smtp\tno-penalty\t' + ALICE + b'\n')
            self.assertClosed(c, what='for AUTH id %r' % bad)

    def test_10_max_id_works(self):
        c = self.client()
        self.assertOK(c.plain(4294967295, 'alice', 'alicepw', params=NP), 4294967295, 'alice')
        self.assertOpen(c)

    # --- 11, 12: mechanism name
    def test_11_unknown_or_disabled_mech_closes(self):
        for mech in (b'FOO', b'CRAM-MD5', b'OTP', b'ANONYMOUS', b'', b'PLAINX', b'PLAIN\x00'):
            c = self.client()
            c.send(b'AUTH\t1\t' + mech + b'\tservice=smtp\tno-penalty\n')
            self.assertClosed(c, what='for mechanism %r' % mech)

    def test_11_auth_missing_mech_closes(self):
        c = self.client()
        c.send(b'AUTH\t1\n')
        self.assertClosed(c)
        c = self.client()
        c.send(b'AUTH\n')
        self.assertClosed(c)

    def test_12_mech_case_insensitive(self):
        c = self.client()
        for i, mech in enumerate((b'plain', b'Plain', b'pLaIn'), 1):
            c.auth(i, mech, params=NP, resp=plain_data('alice', 'alicepw'))
            self.assertOK(c.reply(), i, 'alice')
        c.auth(9, b'login', params=NP)
        self.assertEqual(c.reply().raw, b'CONT\t9\tVXNlcm5hbWU6')

    # --- 13: service
    def test_13_missing_service_closes(self):
        c = self.client()
        c.send(b'AUTH\t1\tPLAIN\tno-penalty\t' + ALICE + b'\n')
        self.assertClosed(c)

    def test_13_empty_service_accepted(self):
        c = self.client()
        c.send(b'AUTH\t1\tPLAIN\tservice=\tno-penalty\t' + ALICE + b'\n')
        self.assertOK(c.reply(), 1, 'alice')

    def test_13_service_tab_escaped_value(self):
        c = self.client()
        c.send(b'AUTH\t1\tPLAIN\tservice=sm\x01ttp\tno-penalty\t' + ALICE + b'\n')
        self.assertOK(c.reply(), 1, 'alice')

    # --- 14, 15: parameters
    def test_14_parameter_after_resp_closes(self):
        c = self.client()
        c.send(b'AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\t' + ALICE + b'\tsecured\n')
        self.assertClosed(c)

    def test_15_unknown_parameters_ignored(self):
        c = self.client()
        c.send(b'AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tfoo=bar\tbaz\t=x\tnologin\t'
               b'ssl_cipher=X\tprotocol=smtp\t' + ALICE + b'\n')
        self.assertOK(c.reply(), 1, 'alice')

    def test_15_known_parameters_accepted(self):
        """Everything Postfix, Exim and doveadm send, including unparsable ips."""
        c = self.client()
        c.auth(1, 'PLAIN', params=('no-penalty', 'lip=127.0.0.1', 'rip=127.0.0.2', 'lport=25',
                                   'rport=5555', 'secured', 'debug', 'session=abc',
                                   'local_name=mx.example', 'client_id=x', 'real_rip=::1'),
               resp=plain_data('alice', 'alicepw'))
        self.assertOK(c.reply(), 1, 'alice')
        c.auth(2, 'PLAIN', params=('no-penalty', 'lip=', 'rip=not-an-ip', 'lport=x',
                                   'secured=tls', 'valid-client-cert'),
               resp=plain_data('alice', 'alicepw'))
        self.assertOK(c.reply(), 2, 'alice')

    # --- 16: id reuse
    def test_16_duplicate_pending_id_closes(self):
        c = self.client()
        c.send(line('AUTH', 1, 'LOGIN', 'service=smtp', 'no-penalty')
               + line('AUTH', 1, 'LOGIN', 'service=smtp', 'no-penalty'))
        self.assertEqual(c.reply().raw, b'CONT\t1\tVXNlcm5hbWU6')
        self.assertClosed(c, what='for a duplicate pending id')

    def test_16_id_reuse_after_reply(self):
        c = self.client()
        for _ in range(3):
            self.assertOK(c.plain(1, 'alice', 'alicepw', params=NP), 1, 'alice')
        c.auth(1, 'LOGIN', params=NP)
        self.assertEqual(c.reply().raw, b'CONT\t1\tVXNlcm5hbWU6')
        c.cancel(1)
        self.assertOK(c.plain(1, 'alice', 'alicepw', params=NP), 1, 'alice')

    def test_16_id_reuse_after_fail(self):
        c = self.client()
        self.assertFail(c.plain(7, 'alice', 'wrong', params=NP), 7, ['user=alice'])
        self.assertOK(c.plain(7, 'alice', 'alicepw', params=NP), 7, 'alice')

    # --- 23: CONT syntax
    def test_23_cont_without_data_tab_closes(self):
        c = self.client()
        c.auth(1, 'LOGIN', params=NP)
        self.assertEqual(c.reply().raw, b'CONT\t1\tVXNlcm5hbWU6')
        c.send(b'CONT\t1\n')
        self.assertClosed(c)

    def test_23_cont_bad_id_closes(self):
        for bad in (b'x', b'', b'-1', b'4294967296'):
            c = self.client()
            c.send(b'CONT\t' + bad + b'\tYWJj\n')
            self.assertClosed(c, what='for CONT id %r' % bad)
        c = self.client()
        c.send(b'CONT\n')
        self.assertClosed(c)

    # --- 24: CANCEL
    def test_24_cancel_bad_id_closes(self):
        for data in (b'CANCEL\tx\n', b'CANCEL\n', b'CANCEL\t\n'):
            c = self.client()
            c.send(data)
            self.assertClosed(c, what='for %r' % data)

    def test_24_cancel_unknown_id_silent(self):
        c = self.client()
        c.cancel(998)
        self.assertOpen(c, 0.5)
        self.assertOK(c.plain(1, 'alice', 'alicepw', params=NP), 1, 'alice')

    def test_24_cancel_waiting_request_silent(self):
        """CANCEL of a request waiting for CONT: no reply; the id is gone
        (a later CONT: timed out) and reusable."""
        c = self.client()
        c.auth(5, 'LOGIN', params=NP)
        self.assertEqual(c.reply().raw, b'CONT\t5\tVXNlcm5hbWU6')
        c.cancel(5)
        self.assertOpen(c, 0.5)
        c.cont(5, 'alice')
        self.assertEqual(c.reply().raw, b'FAIL\t5\treason=Authentication request timed out')
        self.assertOK(c.plain(5, 'alice', 'alicepw', params=NP), 5, 'alice')

    def test_24_cancel_in_flight_still_answered(self):
        """A request whose passdb lookup already runs still gets its OK/FAIL
        (carol: SHA512-CRYPT, verified off the event loop in authd)."""
        c = self.client()
        c.send(c.auth_line(1, 'PLAIN', params=NP, resp=plain_data('carol', 'carolpw'))
               + line('CANCEL', 1))
        self.assertOK(c.reply(), 1, 'carol')
        c.send(c.auth_line(2, 'PLAIN', params=NP, resp=plain_data('carol', 'bad'))
               + line('CANCEL', 2))
        self.assertFail(c.reply(), 2, ['user=carol'])

    # --- 25: unknown command, empty line
    def test_25_unknown_command_closes(self):
        for data in (b'HELLO\t1\n', b'auth\t1\tPLAIN\tservice=smtp\n', b'OK\t1\n', b'DONE\n',
                     b'VERSION\t1\t2\n', b'CPID\t5\n', b'REQUEST\t1\n'):
            c = self.client()
            c.send(data)
            self.assertClosed(c, what='for %r' % data)

    def test_25_empty_line_closes(self):
        c = self.client()
        c.send(b'\n')
        self.assertClosed(c)
        c = self.client()
        c.send(b'\r\n')
        self.assertClosed(c)

    def test_close_drops_pending_silently(self):
        """A bad line closes the connection without a reply to pending requests."""
        c = self.client()
        c.auth(1, 'LOGIN', params=NP)
        self.assertEqual(c.reply().raw, b'CONT\t1\tVXNlcm5hbWU6')
        c.send(b'BOGUS\n')
        self.assertClosed(c)
        self.assertStillServes()


if __name__ == '__main__':
    unittest.main()
