"""OK/FAIL replies: checklist items 26-28, 33, 34, 47, 48 (spec 2.6) and the
deliberate authd difference for nologin/proxy answers to MTA clients."""

import unittest

from tests.daemon.dtest import (NP, PASSDB_USERDB, FIXTURE_USERS, ServerTestCase,
                                make_conf, plain_data, tab_unescape)


class Replies(ServerTestCase):

    def test_26_ok_starts_with_user(self):
        c = self.client()
        r = c.plain(1, 'alice', 'alicepw', params=NP)
        self.assertEqual(r.fields[:3], [b'OK', b'1', b'user=alice'])
        self.assertOK(r, 1, 'alice')

    def test_26_fail_wrong_password_shape(self):
        """29 (shape): FAIL id user=<user>, no reason, no code."""
        c = self.client()
        r = c.plain(2, 'alice', 'wrong', params=NP)
        self.assertFail(r, 2, ['user=alice'])

    def test_27_original_user_when_name_changes(self):
        c = self.client()
        self.assertOK(c.plain(19, 'ALICE', 'alicepw', params=NP), 19, 'alice',
                      ['original_user=ALICE'])
        self.assertOK(c.plain(20, 'Alice', 'alicepw', params=NP), 20, 'alice',
                      ['original_user=Alice'])
        # passdb changes the name: user=quinn2 original_user=quinn
        self.assertOK(c.plain(21, 'quinn', 'quinnpw', params=NP), 21, 'quinn2',
                      ['original_user=quinn'])

    def test_27_no_original_user_when_same(self):
        c = self.client()
        r = c.plain(1, 'alice', 'alicepw', params=NP)
        self.assertFalse(r.has('original_user'), r)

    def test_47_lowercased_in_fail_too(self):
        c = self.client()
        self.assertFail(c.plain(3, 'ALICE', 'wrong', params=NP), 3,
                        ['user=alice', 'original_user=ALICE'])

    def test_47_login_lowercased(self):
        c = self.client()
        self.assertOK(c.login(4, 'ALICE', 'alicepw', params=NP), 4, 'alice',
                      ['original_user=ALICE'])

    def test_34_nologin_reason_passthrough(self):
        """34: passdb nologin (+reason, proxy, host) is returned in OK when the
        client did not send the nologin AUTH parameter (doveadm, login processes)."""
        c = self.client()
        r = c.plain(12, 'gina', 'ginapw', params=NP)
        self.assertOK(r, 12, 'gina', ['nologin', 'reason=AccountPLAINoved', 'proxy',
                                      'host=10.0.0.1'])

    def test_34_nologin_user_wrong_password_plain_fail(self):
        c = self.client()
        self.assertFail(c.plain(13, 'gina', 'bad', params=NP), 13, ['user=gina'])

    def test_48_values_tab_escaped(self):
        """48: TAB -> 0x01 t, 0x01 -> 0x01 1 in reply values."""
        c = self.client()
        r = c.plain(1, 'tabby', 'tabbypw', params=NP)
        self.assertOK(r, 1, 'tabby', [b'nologin', b'reason=a\x01tb\x011c'])
        self.assertEqual(r.get('reason'), b'a\tb\x01c')
        self.assertEqual(tab_unescape(b'a\x01tb\x011c'), b'a\tb\x01c')

    def test_48_pass_lookup_tab_escaped(self):
        m = self.master('auth-master')
        m.passdb(1, 'tabby', service='x')
        r = m.reply()
        self.assertEqual(r.cmd, b'PASS')
        self.assertEqual(r.fieldset(), sorted([b'user=tabby', b'nologin', b'reason=a\x01tb\x011c']))

    def test_nologin_param_mta_difference(self):
        """Deliberate difference (authd): when the passdb answer carries nologin
        or proxy and the AUTH carried the `nologin` parameter (Postfix, Exim),
        authd answers FAIL with the reason instead of OK (an MTA ignores
        nologin and would let the user relay).  Dovecot 2.3 ignores the
        parameter and answers OK."""
        c = self.client(minor=0)
        params = ('no-penalty', 'nologin', 'lip=127.0.0.1', 'rip=127.0.0.1')
        c.auth(1, 'PLAIN', params=params, resp=plain_data('gina', 'ginapw'))
        c.auth(2, 'PLAIN', params=params, resp=plain_data('tabby', 'tabbypw'))
        c.auth(3, 'PLAIN', params=params, resp=plain_data('alice', 'alicepw'))
        got = {r.id: r for r in c.replies(3)}
        self.assertOK(got[3], 3, 'alice')
        if self.kind == 'dovecot':
            self.assertOK(got[1], 1, 'gina', ['nologin', 'reason=AccountPLAINoved', 'proxy',
                                              'host=10.0.0.1'])
            self.assertOK(got[2], 2, 'tabby', ['nologin', 'reason=a\x01tb\x011c'])
        else:
            for id, user, reason in ((1, b'gina', b'AccountPLAINoved'), (2, b'tabby', b'a\tb\x01c')):
                r = got[id]
                self.assertEqual(r.cmd, b'FAIL', r)
                self.assertEqual(r.words[0], b'user=' + user, r)
                self.assertEqual(r.get('reason'), reason, r)
                self.assertFalse(r.has('nologin') and r.cmd == b'OK', r)

    def test_nologin_param_login_mechanism(self):
        c = self.client(minor=0)
        r = c.login(1, 'gina', 'ginapw', params=('no-penalty', 'nologin'))
        if self.kind == 'dovecot':
            self.assertOK(r, 1, 'gina', ['nologin', 'reason=AccountLOGINoved', 'proxy',
                                         'host=10.0.0.1'])
        else:   # the deliberate difference, see test_nologin_param_mta_difference
            self.assertEqual(r.cmd, b'FAIL', r)
            self.assertEqual(r.get('reason'), b'AccountLOGINoved', r)


DENY_AND_TEMPFAIL = '''
passdb {
  driver = passwd-file
  args = {tmp}/deny.users
  deny = yes
}
passdb {
  driver = passwd-file
  args = scheme=CRYPT username_format=%u {tmp}/users
}
passdb {
  driver = passwd-file
  args = username_format=%n {tmp}/domains/%d/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u {tmp}/users
}
'''


class ResultCodes(ServerTestCase):
    """33: code=user_disabled from a deny passdb; code=temp_fail from a passdb
    that cannot read its file (per-domain passwd-file, mode 0600 root-owned,
    so the unprivileged auth process gets EACCES)."""

    CONF = make_conf(passdbs=DENY_AND_TEMPFAIL)
    FILES = {
        'users': FIXTURE_USERS + b'\neve:{PLAIN}evepw:1040:1040::/home/eve\n',
        'deny.users': 'eve\n',
        'domains/locked.test/passwd': ('bob:{PLAIN}bobpw\n', 0o600),
        'domains/open.test/passwd': 'bob:{PLAIN}bobpw\n',
    }

    def test_33_user_disabled(self):
        c = self.client()
        c.auth(1, 'PLAIN', params=NP, resp=plain_data('eve', 'evepw'))
        c.auth(2, 'PLAIN', params=NP, resp=plain_data('eve', 'wrong'))
        got = {r.id: r for r in c.replies(2)}
        self.assertFail(got[1], 1, ['user=eve', 'code=user_disabled'])
        self.assertFail(got[2], 2, ['user=eve', 'code=user_disabled'])

    def test_33_user_disabled_login(self):
        c = self.client()
        self.assertFail(c.login(1, 'eve', 'evepw', params=NP), 1, ['user=eve', 'code=user_disabled'])

    def test_33_temp_fail(self):
        c = self.client()
        c.auth(3, 'PLAIN', params=NP, resp=plain_data('bob@locked.test', 'bobpw'))
        c.auth(4, 'PLAIN', params=NP, resp=plain_data('bob@open.test', 'bobpw'))
        c.auth(5, 'PLAIN', params=NP, resp=plain_data('bob@none.test', 'bobpw'))
        got = {r.id: r for r in c.replies(3)}
        self.assertFail(got[3], 3, ['user=bob@locked.test', 'code=temp_fail'])
        self.assertOK(got[4], 4, 'bob@open.test')
        self.assertFail(got[5], 5, ['user=bob@none.test'])

    def test_other_users_unaffected(self):
        c = self.client()
        self.assertOK(c.plain(1, 'alice', 'alicepw', params=NP), 1, 'alice')


MASTER_PASSDBS = '''
auth_master_user_separator = *
passdb {
  driver = passwd-file
  args = {tmp}/master.users
  master = yes
}
''' + PASSDB_USERDB


class MasterUserLogin(ServerTestCase):
    """28: master-user login through PLAIN authzid and the separator."""

    CONF = make_conf(passdbs=MASTER_PASSDBS)
    FILES = {'users': FIXTURE_USERS, 'master.users': 'admin:{PLAIN}masterpw\n'}

    def test_28_authzid(self):
        c = self.client()
        r = c.plain(15, 'admin', 'masterpw', authzid='alice', params=NP)
        self.assertOK(r, 15, 'alice', ['original_user=admin', 'auth_user=admin'])

    def test_28_separator(self):
        c = self.client()
        r = c.plain(16, 'alice*admin', 'masterpw', params=NP)
        self.assertOK(r, 16, 'alice', ['original_user=admin', 'auth_user=admin'])

    def test_28_wrong_master_password(self):
        c = self.client()
        r = c.plain(17, 'admin', 'wrong', authzid='alice', params=NP)
        self.assertEqual(r.cmd, b'FAIL', r)

    def test_28_non_master_authcid(self):
        """bob\\0alice\\0alicepw: alice is no master user: FAIL naming alice."""
        c = self.client()
        r = c.plain(17, 'alice', 'alicepw', authzid='bob', params=NP)
        self.assertFail(r, 17, ['user=alice'])

    def test_normal_login_still_works(self):
        c = self.client()
        self.assertOK(c.plain(1, 'alice', 'alicepw', params=NP), 1, 'alice')


if __name__ == '__main__':
    unittest.main()
