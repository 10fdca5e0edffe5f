"""authctl against doveadm: the same request to the same server must give the
same stdout and the same exit code.

One server (authd, or Dovecot with AUTHD_TEST_SERVER=dovecot) is started with
a passwd-file passdb and userdb; every case runs `doveadm -c <cfg> ARGS` and
`authctl ARGS` (ARGS always name the socket with -a) and compares them.
stderr is not compared (doveadm's log prefixes differ), only printed on a
mismatch.  Covered: `auth test` (success with extra fields, failure, unknown
user, -x, password on stdin, wrong or missing socket), `user` (the default
table, -f, -u, '*' / '?' listings, several names, not found, wrong socket),
`auth lookup`, and usage errors.

Run from the repository root:
    AUTHD_TEST_SERVER=dovecot python3 -m unittest tests.daemon.test_authctl -v
"""

import os
import shutil
import subprocess
import sys
import unittest

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from tests.lib.server import (AuthServer, authctl_bin, server_available,  # noqa: E402
                              server_kind)

RUN_TIMEOUT = 60   # seconds for one doveadm or authctl run

# A passwd-file covering the interesting userdb/passdb shapes: extra fields,
# a trailing empty field (alice), nologin/reason/proxy (gina), a value with
# TAB and 0x01 (tabby), no userdb data (dave), empty uid/gid/home (nina),
# templates (mike), a duplicate (alice), invalid uid/gid (leo, wendy), names
# with a domain.
USERS = (
    b'alice:{PLAIN}alicepw:1001:1001::/home/alice::userdb_mail=maildir:~/Maildir\n'
    b'bob:{PLAIN}bobpw:1002:1002:Bob B:/home/bob:/bin/sh\n'
    b'carol:{PLAIN}carolpw:1003:1003::/home/carol::userdb_quota_rule=*:storage=1G\n'
    b'dave:{PLAIN}davepw\n'
    b'erin::1005:1005::/home/erin::nopassword\n'
    b'gina:{PLAIN}ginapw:1007:1007::/home/gina::nologin reason=Account%20moved proxy host=10.0.0.1\n'
    b'alice:{PLAIN}secondalice:1999:1999::/home/alice2\n'
    b'tabby:{PLAIN}tabbypw:1030:1030::/home/tabby::nologin reason=a\tb\x01c\n'
    b'leo:{PLAIN}leopw:0:0::/root\n'
    b'mike:{PLAIN}mikepw:1014:1014::/home/mike::userdb_mail=maildir:/var/mail/%d/%n userdb_home=/srv/%u\n'
    b'nina:{PLAIN}ninapw:::/home/nina\n'
    b'olga@example.com:{PLAIN}olgapw:1015:1015::::userdb_quota_rule=*:bytes=100M  nodelay\n'
    b'oscar@example.com:{PLAIN}oscarpw:1013:1013::/home/oscar\n'
    b'wendy:{PLAIN}wendypw:1022:abc::/home/wendy\n'
)

CONF = '''
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN {tmp}/users
}
userdb {
  driver = passwd-file
  args = {tmp}/users
}
service auth {
  unix_listener auth-client {
    mode = 0600
  }
  unix_listener auth-userdb {
    mode = 0600
  }
  unix_listener auth-master {
    mode = 0600
  }
}
'''

# doveadm's own config: no passdb/userdb, no mail_location (so the `user`
# table shows the userdb's mail value only, as authctl does), uids from 1 on.
DOVEADM_CONF = '''base_dir = {tmp}/doveadm-run
state_dir = {tmp}/doveadm-state
protocols = none
ssl = no
log_path = /dev/stderr
auth_socket_path = {userdb}
first_valid_uid = 1
postmaster_address = postmaster@example.com
hostname = test.example.com
'''

C, U, M, MISSING = '<client>', '<userdb>', '<master>', '<missing>'
# Every auth test carries -x no-penalty: failures from one address would
# otherwise delay the following requests by 4, 8, 15 s (anvil penalty).
NP = '<no-penalty>'

# (name, args, stdin). Socket placeholders are replaced by the server's paths.
CASES = [
    # auth test
    ('test_ok_trailing_empty_field', ['auth', 'test', '-a', C, NP, 'alice', 'alicepw'], None),
    ('test_wrong_password', ['auth', 'test', '-a', C, NP, 'alice', 'wrong'], None),
    ('test_unknown_user', ['auth', 'test', '-a', C, NP, 'nosuch', 'x'], None),
    ('test_extra_fields', ['auth', 'test', '-a', C, NP, 'gina', 'ginapw'], None),
    ('test_escaped_fields', ['auth', 'test', '-a', C, NP, 'tabby', 'tabbypw'], None),
    ('test_original_user', ['auth', 'test', '-a', C, NP, 'ALICE', 'alicepw'], None),
    ('test_nopassword_empty', ['auth', 'test', '-a', C, NP, 'erin', ''], None),
    ('test_domain_user', ['auth', 'test', '-a', C, NP, 'olga@example.com', 'olgapw'], None),
    ('test_auth_info', ['auth', 'test', '-a', C, NP, '-x', 'service=smtp', '-x', 'rip=10.1.2.3',
                        '-x', 'lport=25', '-x', 'foo=bar', '-x', 'forward_k=v',
                        'dave', 'davepw'], None),
    ('test_bad_ip', ['auth', 'test', '-a', C, NP, '-x', 'rip=nonsense', 'alice', 'x'], None),
    ('test_master_user_option', ['auth', 'test', '-a', C, NP, '-M', 'bob', 'alice', 'bobpw'], None),
    ('test_password_stdin', ['auth', 'test', '-a', C, NP, 'alice'], b'alicepw\n'),
    ('test_password_stdin_wrong', ['auth', 'test', '-a', C, NP, 'alice'], b'nope\n'),
    ('test_master_socket', ['auth', 'test', '-a', U, NP, 'alice', 'alicepw'], None),
    ('test_missing_socket', ['auth', 'test', '-a', MISSING, NP, 'alice', 'alicepw'], None),
    ('test_usage', ['auth', 'test'], None),
    # user: the default table
    ('user_found', ['user', '-a', U, 'alice'], None),
    ('user_not_found', ['user', '-a', U, 'nosuch'], None),
    ('user_no_userdb_data', ['user', '-a', U, 'dave'], None),
    ('user_extra_field', ['user', '-a', U, 'carol'], None),
    ('user_empty_fields', ['user', '-a', U, 'nina'], None),
    ('user_templates', ['user', '-a', U, 'mike'], None),
    ('user_changed_name', ['user', '-a', U, 'ALICE'], None),
    ('user_escaped', ['user', '-a', U, 'tabby'], None),
    ('user_several', ['user', '-a', U, 'alice', 'bob'], None),
    ('user_several_missing', ['user', '-a', U, 'alice', 'nosuch', 'bob'], None),
    ('user_master_socket', ['user', '-a', M, 'bob'], None),
    ('user_field', ['user', '-a', U, '-f', 'home', 'alice'], None),
    ('user_field_extra', ['user', '-a', U, '-f', 'quota_rule', 'carol'], None),
    ('user_field_user', ['user', '-a', U, '-f', 'user', 'ALICE'], None),
    ('user_field_not_found', ['user', '-a', U, '-f', 'home', 'nosuch'], None),
    ('user_field_absent', ['user', '-a', U, '-f', 'nothing', 'alice'], None),
    ('user_client_socket', ['user', '-a', C, 'alice'], None),
    ('user_missing_socket', ['user', '-a', MISSING, 'alice'], None),
    # user -u
    ('user_u_found', ['user', '-a', U, '-u', 'alice'], None),
    ('user_u_not_found', ['user', '-a', U, '-u', 'nosuch'], None),
    ('user_u_changed_name', ['user', '-a', U, '-u', 'ALICE'], None),
    ('user_u_empty_fields', ['user', '-a', U, '-u', 'nina'], None),
    ('user_u_field', ['user', '-a', U, '-u', '-f', 'home', 'alice'], None),
    ('user_u_several', ['user', '-a', U, '-u', 'alice', 'nosuch', 'bob'], None),
    ('user_u_tab_in_name', ['user', '-a', U, '-u', 'al\tice'], None),
    ('user_u_auth_info', ['user', '-a', U, '-u', '-x', 'service=lda', '-x', 'rip=1.2.3.4',
                          'alice'], None),
    ('user_u_client_socket', ['user', '-a', C, '-u', 'alice'], None),
    ('user_u_missing_socket', ['user', '-a', MISSING, '-u', 'alice'], None),
    # user MASK
    ('user_list_all', ['user', '-a', U, '*'], None),
    ('user_list_prefix', ['user', '-a', U, 'a*'], None),
    ('user_list_icase', ['user', '-a', U, 'A*'], None),
    ('user_list_question', ['user', '-a', U, '?ob'], None),
    ('user_list_domain', ['user', '-a', U, '*@example.com'], None),
    ('user_list_two_masks', ['user', '-a', U, 'a*', 'b*'], None),
    ('user_list_mask_and_name', ['user', '-a', U, 'gina', 'b*'], None),
    ('user_list_no_match', ['user', '-a', U, 'zz*'], None),
    ('user_list_with_u', ['user', '-a', U, '-u', 'b*'], None),
    ('user_list_client_socket', ['user', '-a', C, '*'], None),
    ('user_usage', ['user'], None),
    # auth lookup
    ('lookup_found', ['auth', 'lookup', '-a', U, 'alice'], None),
    ('lookup_not_found', ['auth', 'lookup', '-a', U, 'nosuch'], None),
    ('lookup_fields', ['auth', 'lookup', '-a', U, 'gina'], None),
    ('lookup_escaped', ['auth', 'lookup', '-a', U, 'tabby'], None),
    ('lookup_changed_name', ['auth', 'lookup', '-a', U, 'ALICE'], None),
    ('lookup_several', ['auth', 'lookup', '-a', U, 'alice', 'nosuch', 'gina'], None),
    ('lookup_field', ['auth', 'lookup', '-a', U, '-f', 'host', 'gina'], None),
    ('lookup_master_socket', ['auth', 'lookup', '-a', M, 'alice'], None),
    ('lookup_client_socket', ['auth', 'lookup', '-a', C, 'alice'], None),
    ('lookup_missing_socket', ['auth', 'lookup', '-a', MISSING, 'alice'], None),
    ('lookup_usage', ['auth', 'lookup'], None),
]


def _doveadm():
    return shutil.which('doveadm') or ('/usr/bin/doveadm' if os.access('/usr/bin/doveadm', os.X_OK)
                                       else None)


class AuthctlVsDoveadm(unittest.TestCase):
    srv = None

    @classmethod
    def setUpClass(cls):
        kind = server_kind()
        if _doveadm() is None:
            raise unittest.SkipTest('doveadm is not installed (dovecot-core)')
        if not server_available(kind):
            raise unittest.SkipTest('%s binary not available' % kind)
        if not os.access(authctl_bin(), os.X_OK):
            raise AssertionError('authctl is not built: %s' % authctl_bin())
        cls.srv = AuthServer(kind, CONF, files={'users': USERS},
                             wait_sockets=['auth-client', 'auth-userdb', 'auth-master'])
        cls.srv.start()
        try:
            tmp = cls.srv.tmp
            for d in ('doveadm-run', 'doveadm-state'):
                os.makedirs(os.path.join(tmp, d), exist_ok=True)
            cls.doveadm_conf = cls.srv.write_file(
                'doveadm.conf', DOVEADM_CONF.replace('{userdb}', cls.srv.path('auth-userdb')))
            cls.paths = {C: cls.srv.path('auth-client'), U: cls.srv.path('auth-userdb'),
                         M: cls.srv.path('auth-master'),
                         MISSING: os.path.join(tmp, 'run', 'no-such-socket')}
        except BaseException:
            cls.srv.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.srv is not None:
            cls.srv.stop()

    def _run(self, argv, stdin):
        p = subprocess.run(argv, input=stdin if stdin is not None else b'',
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=RUN_TIMEOUT, cwd=self.srv.tmp)
        return p.stdout, p.returncode, p.stderr

    def compare(self, args, stdin):
        expanded = []
        for a in args:
            expanded += ['-x', 'no-penalty'] if a == NP else [self.paths.get(a, a)]
        args = expanded
        want = self._run([_doveadm(), '-c', self.doveadm_conf] + args, stdin)
        got = self._run([authctl_bin()] + args, stdin)
        msg = ('\nargs: %r\n  doveadm: exit %d stdout %r\n           stderr %r'
               '\n  authctl: exit %d stdout %r\n           stderr %r'
               % (args, want[1], want[0], want[2], got[1], got[0], got[2]))
        self.assertEqual(got[1], want[1], 'exit code differs' + msg)
        self.assertEqual(got[0], want[0], 'stdout differs' + msg)
        return got


def _make_case(args, stdin):
    def test(self):
        self.compare(args, stdin)
    return test


for _name, _args, _stdin in CASES:
    setattr(AuthctlVsDoveadm, 'test_' + _name if not _name.startswith('test_')
            else 'test_auth_' + _name[5:], _make_case(_args, _stdin))


class AuthctlOwn(unittest.TestCase):
    """authctl behaviour that has no doveadm counterpart to compare with."""

    def _authctl(self, *args):
        if not os.access(authctl_bin(), os.X_OK):
            self.fail('authctl is not built: %s' % authctl_bin())
        return subprocess.run([authctl_bin()] + list(args), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=RUN_TIMEOUT)

    def test_help(self):
        for argv in (['--help'], ['help']):
            p = self._authctl(*argv)
            self.assertEqual(p.returncode, 0, argv)
            self.assertIn(b'auth test', p.stdout)
            self.assertIn(b'/run/dovecot', p.stdout)   # the documented default

    def test_unknown_command(self):
        p = self._authctl('frobnicate')
        self.assertEqual(p.returncode, 64)
        self.assertEqual(p.stdout, b'')
        self.assertIn(b'usage: authctl', p.stderr)

    def test_family_usage(self):
        p = self._authctl('auth')
        self.assertEqual(p.returncode, 64)
        self.assertIn(b'test', p.stderr)
        self.assertIn(b'lookup', p.stderr)

    def test_config_base_dir(self):
        """-c: the sockets are looked for under the config's base_dir."""
        tmp = os.path.join('/tmp', 'authctl-cfg-%d' % os.getpid())
        os.makedirs(tmp, exist_ok=True)
        try:
            conf = os.path.join(tmp, 'a.conf')
            with open(conf, 'w') as f:
                f.write('base_dir = %s/run\n' % tmp)
            p = self._authctl('-c', conf, 'auth', 'test', 'alice', 'pw')
            self.assertEqual(p.returncode, 77, p.stderr)
            self.assertIn(('%s/run/auth-client' % tmp).encode(), p.stderr)
            p = self._authctl('-c', conf, 'user', '-u', 'alice')
            self.assertEqual(p.returncode, 75, p.stderr)
            self.assertIn(('%s/run/auth-userdb' % tmp).encode(), p.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    unittest.main()
