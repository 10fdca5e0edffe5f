"""Initial responses, challenges, base64 errors, CONT rules, PLAIN and LOGIN
dialogues: checklist items 18-22, 36, 37 (spec 2.5, 2.7, 6.1, 6.2)."""

import unittest

from tests.daemon.dtest import NP, ServerTestCase, b64, line, make_conf, plain_data


class InitialResponse(ServerTestCase):

    def test_18_no_resp_gives_empty_challenge(self):
        for minor in (0, 2):
            c = self.client(minor=minor)
            c.auth(1, 'PLAIN', params=NP)
            self.assertEqual(c.reply().raw, b'CONT\t1\t')
            c.cont(1, plain_data('alice', 'alicepw'))
            self.assertOK(c.reply(), 1, 'alice')

    def test_18_empty_resp_minor0_is_absent(self):
        """Postfix/Exim (minor 0): resp= means no initial response."""
        for minor in (0, 1):
            c = self.client(minor=minor)
            c.auth(1, 'PLAIN', params=('no-penalty', 'nologin'), resp_raw=b'')
            self.assertEqual(c.reply().raw, b'CONT\t1\t')
            c.cont(1, plain_data('alice', 'alicepw'))
            self.assertOK(c.reply(), 1, 'alice')

    def test_18_empty_resp_minor2_is_empty_response(self):
        """minor >= 2: resp= is an empty initial response: PLAIN fails (no user)."""
        c = self.client(minor=2)
        c.auth(4, 'PLAIN', params=NP, resp_raw=b'')
        self.assertFail(c.reply(), 4)

    def test_18_resp_equals_is_empty_any_minor(self):
        conns = [self.client(minor=minor) for minor in (0, 2)]
        for c in conns:
            c.auth(5, 'PLAIN', params=NP, resp_raw=b'=')
        for c in conns:
            self.assertFail(c.reply(), 5)

    def test_18_login_empty_initial_response_prompts_username(self):
        for minor, raw in ((2, b''), (2, b'='), (0, b''), (0, b'=')):
            c = self.client(minor=minor)
            c.auth(1, 'LOGIN', params=NP, resp_raw=raw)
            self.assertEqual(c.reply().raw, b'CONT\t1\tVXNlcm5hbWU6', (minor, raw))

    def test_19_empty_challenge_has_trailing_tab(self):
        c = self.client()
        c.auth(1, 'PLAIN', params=NP)
        r = c.reply()
        self.assertEqual(r.raw, b'CONT\t1\t')
        self.assertEqual(len(r.fields), 3)

    def test_20_bad_base64_in_resp(self):
        c = self.client()
        for i, bad in enumerate((b'@@@@', b'YWJj!', b'Y', b'YW=j', b'YWJj\x7f'), 1):
            c.auth(i, 'PLAIN', params=NP, resp_raw=bad)
            self.assertEqual(c.reply().raw, b'FAIL\t%d\tcode=invalid_base64\t'
                             b'reason=Invalid base64 data in initial response' % i, bad)
        self.assertOK(c.plain(9, 'alice', 'alicepw', params=NP), 9, 'alice')

    def test_20_bad_base64_in_cont(self):
        c = self.client()
        c.auth(26, 'LOGIN', params=NP)
        self.assertEqual(c.reply().raw, b'CONT\t26\tVXNlcm5hbWU6')
        c.cont(26, raw=b'@@@')
        self.assertEqual(c.reply().raw, b'FAIL\t26\tcode=invalid_base64\t'
                         b'reason=Invalid base64 data in continued response')
        # the request is gone
        c.cont(26, 'alice')
        self.assertEqual(c.reply().raw, b'FAIL\t26\treason=Authentication request timed out')

    def test_20_base64_fail_not_delayed(self):
        """Immediate failures ignore auth_failure_delay (the main server has 0,
        so only the bound is checked here; see test_delay for delay 1)."""
        c = self.client()
        c.auth(1, 'PLAIN', params=NP, resp_raw=b'@@@@')
        r, dt = self.timed(c)
        self.assertEqual(r.cmd, b'FAIL')
        self.assertLess(dt, 0.4)

    def test_21_cont_unknown_id(self):
        c = self.client()
        c.cont(999, 'abc')
        self.assertEqual(c.reply().raw, b'FAIL\t999\treason=Authentication request timed out')
        self.assertOpen(c)
        self.assertOK(c.plain(1, 'alice', 'alicepw', params=NP), 1, 'alice')

    def test_21_cont_after_ok_is_unknown(self):
        c = self.client()
        self.assertOK(c.plain(3, 'alice', 'alicepw', params=NP), 3, 'alice')
        c.cont(3, '')
        self.assertEqual(c.reply().raw, b'FAIL\t3\treason=Authentication request timed out')

    def test_22_unexpected_continuation(self):
        """A CONT for a request that is not waiting for input is answered
        FAIL reason=Unexpected continuation, at once.  Whether a request is in
        such a state is up to the server's internal timing: here the AUTH
        (without no-penalty, so a penalty lookup runs first) and the CONT
        arrive in one write. Dovecot 2.3 is still in its asynchronous penalty
        lookup and answers Unexpected continuation (then, a 2.3 quirk, still
        sends the first challenge); a server that starts the mechanism
        synchronously sends the empty challenge and takes the CONT as the
        response. Both are accepted; the connection must stay usable."""
        c = self.client()
        c.send(b'AUTH\t3\tPLAIN\tservice=smtp\trip=10.7.7.7\n'
               b'CONT\t3\t' + b64(plain_data('alice', 'alicepw')) + b'\n')
        r = c.reply()
        if r.cmd == b'FAIL':
            self.assertEqual(r.raw, b'FAIL\t3\treason=Unexpected continuation')
        else:
            self.assertEqual(r.raw, b'CONT\t3\t')
            self.assertOK(c.reply(), 3, 'alice')
        c.cancel(3)
        self.drain(c)
        self.assertFalse(c.eof)
        self.assertOK(c.plain(4, 'alice', 'alicepw', params=NP), 4, 'alice')

    def test_22_second_cont_after_password(self):
        """LOGIN: CONT with the password and another CONT in one write. The
        second one meets a finished request (timed out) or one still being
        verified (unexpected continuation); the first still gets its answer
        unless the request was ended by the unexpected continuation."""
        c = self.client()
        c.auth(6, 'LOGIN', params=NP, resp='carol')
        self.assertEqual(c.reply().raw, b'CONT\t6\tUGFzc3dvcmQ6')
        c.send(b'CONT\t6\t' + b64('carolpw') + b'\nCONT\t6\t\n')
        got = [c.reply()]
        try:
            got.append(c.reply(1.0))
        except Exception:
            pass
        raws = sorted(r.raw for r in got)
        allowed = [
            sorted([b'OK\t6\tuser=carol', b'FAIL\t6\treason=Authentication request timed out']),
            sorted([b'OK\t6\tuser=carol\t', b'FAIL\t6\treason=Authentication request timed out']),
            [b'FAIL\t6\treason=Unexpected continuation'],
            sorted([b'OK\t6\tuser=carol', b'FAIL\t6\treason=Unexpected continuation']),
            sorted([b'OK\t6\tuser=carol\t', b'FAIL\t6\treason=Unexpected continuation']),
        ]
        self.assertIn(raws, allowed)
        self.assertOK(c.plain(7, 'alice', 'alicepw', params=NP), 7, 'alice')


class LoginMechanism(ServerTestCase):

    def test_37_prompts(self):
        c = self.client()
        c.auth(1, 'LOGIN', params=NP)
        r = c.reply()
        self.assertEqual(r.raw, b'CONT\t1\tVXNlcm5hbWU6')
        self.assertEqual(r.data(), b'Username:')
        c.cont(1, 'alice')
        r = c.reply()
        self.assertEqual(r.raw, b'CONT\t1\tUGFzc3dvcmQ6')
        self.assertEqual(r.data(), b'Password:')
        c.cont(1, 'alicepw')
        self.assertOK(c.reply(), 1, 'alice')

    def test_37_initial_response_is_username(self):
        c = self.client()
        c.auth(2, 'LOGIN', params=NP, resp='alice')
        self.assertEqual(c.reply().raw, b'CONT\t2\tUGFzc3dvcmQ6')
        c.cont(2, 'alicepw')
        self.assertOK(c.reply(), 2, 'alice')

    def test_37_initial_response_minor0(self):
        c = self.client(minor=0)
        c.auth(2, 'LOGIN', params=NP, resp='alice')
        self.assertEqual(c.reply().raw, b'CONT\t2\tUGFzc3dvcmQ6')
        c.cont(2, 'alicepw')
        self.assertOK(c.reply(), 2, 'alice')

    def test_login_wrong_password(self):
        c = self.client()
        self.assertFail(c.login(1, 'alice', 'nope', params=NP), 1, ['user=alice'])

    def test_login_nul_in_username_fails_without_user(self):
        c = self.client()
        c.auth(23, 'LOGIN', params=NP, resp=b'al\x00ice')
        self.assertFail(c.reply(), 23)

    def test_login_nul_in_password_fails(self):
        c = self.client()
        r = c.login(24, 'alice', b'alice\x00pw', params=NP)
        self.assertEqual(r.cmd, b'FAIL')
        self.assertEqual(r.id, 24)

    def test_login_bad_username_fails_before_password(self):
        """The user name is validated when received (auth_username_chars)."""
        c = self.client()
        c.auth(3, 'LOGIN', params=NP)
        self.assertEqual(c.reply().raw, b'CONT\t3\tVXNlcm5hbWU6')
        c.cont(3, 'al ice')
        r = c.reply()
        self.assertEqual(r.cmd, b'FAIL', r)
        self.assertEqual(r.id, 3)

    def test_login_empty_password_fails(self):
        c = self.client()
        r = c.login(4, 'alice', '', params=NP)
        self.assertFail(r, 4, ['user=alice'])


class PlainMechanism(ServerTestCase):

    def test_plain_ok_with_and_without_initial_response(self):
        c = self.client()
        self.assertOK(c.plain(1, 'alice', 'alicepw', params=NP), 1, 'alice')
        self.assertOK(c.plain(2, 'alice', 'alicepw', params=NP, initial=False), 2, 'alice')

    def test_plain_authzid_equal_authcid_ignored(self):
        c = self.client()
        self.assertOK(c.plain(18, 'alice', 'alicepw', authzid='alice', params=NP), 18, 'alice')

    def test_plain_authzid_other_user_without_master_fails(self):
        """No master passdb: authzid != authcid fails, naming the authcid... as
        the requested user (2.3 names the login user)."""
        c = self.client()
        r = c.plain(17, 'bob', 'bobpw', authzid='alice', params=NP)
        self.assertEqual(r.cmd, b'FAIL')
        self.assertEqual(r.id, 17)

    def test_plain_malformed(self):
        c = self.client()
        cases = {
            24: b'\x00alice\x00alicepw\x00x',   # three NULs
            25: b'alice',                       # no NUL
            26: b'\x00alice',                   # one NUL
            27: b'',                            # empty (resp==)
        }
        for id, data in cases.items():
            c.auth(id, 'PLAIN', params=NP, resp_raw=b64(data) if data else b'=')
        for r in c.replies(len(cases)):
            self.assertIn(r.id, cases)
            self.assertFail(r, r.id)

    def test_plain_wrong_password_and_unknown_user_look_alike(self):
        c = self.client()
        cases = {2: ('alice', 'wrong'), 21: ('nosuch', 'secret'), 28: ('alice', ''),
                 22: ('alice', 'alice\tpw')}
        for id, (user, pw) in cases.items():
            c.auth(id, 'PLAIN', params=NP, resp=plain_data(user, pw))
        for r in c.replies(len(cases)):
            self.assertIn(r.id, cases)
            self.assertFail(r, r.id, ['user=' + cases[r.id][0]])

    def test_plain_rejected_user_name_chars(self):
        c = self.client()
        self.assertFail(c.plain(20, 'al ice', 'secret', params=NP), 20,
                        ['user=al ice', 'original_user=al ice'])

    def test_36_plaintext_without_secured(self):
        """disable_plaintext_auth = yes is not enforced by the auth server."""
        c = self.client()
        self.assertOK(c.plain(1, 'alice', 'alicepw', params=NP), 1, 'alice')
        self.assertOK(c.login(2, 'alice', 'alicepw', params=NP), 2, 'alice')
        self.assertOK(c.plain(3, 'alice', 'alicepw', params=NP + ('secured',)), 3, 'alice')


class PlaintextDisabledSetting(ServerTestCase):
    """36 with the setting written out explicitly."""
    CONF = make_conf(extra='disable_plaintext_auth = yes\n')

    def test_36_disable_plaintext_auth_yes_ignored(self):
        c = self.client(minor=0)
        self.assertOK(c.plain(1, 'alice', 'alicepw', params=('no-penalty', 'nologin',
                                                               'lip=127.0.0.1', 'rip=127.0.0.1')),
                      1, 'alice')
        self.assertOK(c.login(2, 'alice', 'alicepw', params=NP), 2, 'alice')


if __name__ == '__main__':
    unittest.main()
