"""Real Postfix smtpd (`smtpd_sasl_type = dovecot`) authenticating against the
auth server, driven by swaks and by a raw SMTP socket.

The server kind comes from AUTHD_TEST_SERVER (authd, default, or dovecot for
the reference run). Facts: shared/spec/real-clients.md and section 4.1 of
dovecot-auth-protocol.md. Each SMTP session starts from its own loopback
address, so the server's per-rip failure penalty of one case cannot delay the
next.
"""

import unittest

from tests.lib.peers import (NOLOGIN_REASON, PASSWORDS, find_binary,
                             same_process_alive, standard_conf, standard_users, user_ids)
from tests.lib.postfix import (Postfix, auth_code, auth_reply_text, b64, ehlo_auth_mechs,
                               smtp_auth_raw, swaks_auth)
from tests.lib.server import AuthServer, server_kind

AUTH_FAILED = '5.7.8 Error: authentication failed:'


class PostfixSASL(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.kind = server_kind()
        for prog in ('postfix', 'swaks', 'postconf'):
            find_binary(prog)     # a missing peer fails the class, never skips it
        uid, gid = user_ids('vmail')
        cls.srv = AuthServer(cls.kind, standard_conf(), files=standard_users(uid, gid))
        cls.srv.start()
        cls.addClassCleanup(cls.srv.stop)
        cls.pf = Postfix(cls.srv.path('auth-client'))
        cls.pf.start()
        cls.addClassCleanup(cls._stop_postfix)

    @classmethod
    def _stop_postfix(cls):
        procs = cls.pf.processes()
        cls.pf.stop()
        left = [p for p, s in procs.items() if same_process_alive(p, s)]
        if left:
            raise AssertionError('postfix processes still alive after stop: %s' % left)

    def context(self, out=''):
        """Transcript and both logs, for failure messages."""
        return '\n--- swaks/SMTP:\n%s\n--- postfix maillog (tail):\n%s\n--- %s log (tail):\n%s' % (
            out, self.pf.log()[-3000:], self.kind, self.srv.log()[-3000:])

    def test_ehlo_lists_plain_login(self):
        got = ehlo_auth_mechs(self.pf.port)
        self.assertEqual(got, ['PLAIN', 'LOGIN'],
                         'EHLO AUTH line: got %r, want PLAIN LOGIN%s' % (got, self.context()))

    def test_swaks_auth(self):
        cases = [
            dict(mech='PLAIN', user='alice', password='alicepw', want=235),
            dict(mech='LOGIN', user='alice', password='alicepw', want=235),
            dict(mech='PLAIN', user='carol', password='carolpw', want=235),   # SHA512-CRYPT
            dict(mech='LOGIN', user='carol', password='carolpw', want=235),
            dict(mech='PLAIN', user='ALICE', password='alicepw', want=235),   # %Lu
            dict(mech='PLAIN', user='alice', password='wrong', want=535),
            dict(mech='LOGIN', user='alice', password='wrong', want=535),
            dict(mech='PLAIN', user='carol', password='alicepw', want=535),
            dict(mech='PLAIN', user='nosuch', password='alicepw', want=535),
            dict(mech='LOGIN', user='nosuch', password='x', want=535),
            dict(mech='PLAIN', user='eve', password=PASSWORDS['eve'], want=535),   # deny passdb
            dict(mech='LOGIN', user='eve', password=PASSWORDS['eve'], want=535),
        ]
        for c in cases:
            with self.subTest(**c):
                got, out = swaks_auth(self.pf.port, c['mech'], c['user'], c['password'])
                self.assertEqual(got, c['want'], 'AUTH %s %s/%s: got %s, want %s%s' % (
                    c['mech'], c['user'], c['password'], got, c['want'], self.context(out)))

    def test_unknown_user_looks_like_wrong_password(self):
        _, out_wrong = swaks_auth(self.pf.port, 'PLAIN', 'alice', 'wrong')
        _, out_unknown = swaks_auth(self.pf.port, 'PLAIN', 'nosuch', 'wrong')
        wrong, unknown = auth_reply_text(out_wrong), auth_reply_text(out_unknown)
        self.assertTrue(wrong and wrong.startswith(AUTH_FAILED),
                        'wrong password: got %r, want %r...%s' % (wrong, AUTH_FAILED,
                                                                 self.context(out_wrong)))
        self.assertEqual(unknown, wrong, 'unknown user reply %r differs from wrong password '
                         'reply %r%s' % (unknown, wrong, self.context(out_unknown)))

    def test_lowercase_mechanism_name(self):
        # swaks upper-cases --auth, so talk SMTP directly: Postfix passes the
        # mechanism to the auth server as the client typed it.
        cases = [
            dict(mech='plain', initial=b64(b'\0alice\0alicepw'), responses=(), want=235),
            dict(mech='Plain', initial=b64(b'alice\0alice\0alicepw'), responses=(), want=235),
            dict(mech='plain', initial=b64(b'\0alice\0wrong'), responses=(), want=535),
            dict(mech='login', initial=None,
                 responses=(b64(b'alice'), b64(b'alicepw')), want=235),
            dict(mech='login', initial=None,
                 responses=(b64(b'alice'), b64(b'wrong')), want=535),
            dict(mech='plain', initial=None, responses=(b64(b'\0alice\0alicepw'),), want=235),
        ]
        for c in cases:
            with self.subTest(**c):
                replies = smtp_auth_raw(self.pf.port, c['mech'], c['initial'], c['responses'])
                got = replies[-1][0]
                self.assertEqual(got, c['want'], 'AUTH %s: got %r, want %s%s' % (
                    c['mech'], replies, c['want'], self.context()))

    def test_login_prompts(self):
        replies = smtp_auth_raw(self.pf.port, 'LOGIN', None, (b64(b'alice'), b64(b'alicepw')))
        got = [r[1][0] for r in replies[:2]]
        want = ['VXNlcm5hbWU6', 'UGFzc3dvcmQ6']     # "Username:", "Password:"
        self.assertEqual(got, want, 'LOGIN challenges: got %r, want %r%s' % (
            replies, want, self.context()))
        self.assertEqual(replies[-1][0], 235, 'got %r%s' % (replies, self.context()))

    def test_passdb_nologin_user(self):
        got, out = swaks_auth(self.pf.port, 'PLAIN', 'frank', PASSWORDS['frank'])
        text = auth_reply_text(out)
        if self.kind == 'dovecot':
            # Dovecot answers OK\tuser=frank\tnologin\treason=...; Postfix only
            # looks at user= in an OK, so the login succeeds (235).
            self.assertEqual(got, 235, 'dovecot + nologin user: got %s, want 235%s'
                             % (got, self.context(out)))
        else:
            # authd deliberately answers FAIL with the passdb's reason when the
            # AUTH carried `nologin` (as Postfix's does): a client that ignores
            # nologin in OK must not let the user in. Postfix copies reason=
            # into the 535 text.
            self.assertEqual(got, 535, 'authd + nologin user: got %s, want 535%s'
                             % (got, self.context(out)))
            want = '%s %s' % (AUTH_FAILED, NOLOGIN_REASON)
            self.assertEqual(text, want, 'authd + nologin user: got %r, want %r%s'
                             % (text, want, self.context(out)))

    def test_many_sessions_share_one_auth_connection(self):
        # Postfix keeps one auth connection per smtpd process across SMTP
        # sessions; request ids keep counting up on it.
        for i in range(5):
            want = 235 if i % 2 == 0 else 535
            pw = 'alicepw' if want == 235 else 'wrong%d' % i
            got, out = swaks_auth(self.pf.port, 'PLAIN', 'alice', pw)
            self.assertEqual(got, want, 'session %d: got %s, want %s%s'
                             % (i, got, want, self.context(out)))
        self.assertIsNone(self.pf.wait_log(r'Connection lost to authentication server', 0),
                          self.context())

    def test_auth_code_parser(self):
        out = (' -> AUTH LOGIN\n<-  334 VXNlcm5hbWU6\n -> YWxpY2U=\n<-  334 UGFzc3dvcmQ6\n'
               ' -> YmFk\n<** 535 5.7.8 Error: authentication failed: x\n -> QUIT\n'
               '<-  221 2.0.0 Bye\n')
        self.assertEqual(auth_code(out), 535)
        self.assertEqual(auth_reply_text(out), '5.7.8 Error: authentication failed: x')
        self.assertIsNone(auth_code('<-  220 hi\n -> QUIT\n<-  221 bye\n'))


if __name__ == '__main__':
    unittest.main()
