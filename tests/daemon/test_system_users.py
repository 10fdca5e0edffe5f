"""passdb passwd, passdb shadow and userdb passwd (issue 7): system accounts
looked up with getpwnam_r / getspnam_r in auth workers.

NssPasswd runs authd under nss_wrapper (libnss-wrapper) with a passwd file
of its own: the system's entries (authd needs root, dovecot ...) plus test
users whose password field holds a SHA512-CRYPT hash. ShadowUsers creates
real accounts with useradd (root only, as CI runs make check) and removes
them afterwards. Both preload tests/testlib/authdtest_preload.so, which
records every getpwnam*/getspnam* call with its pid: the test users are
only ever looked up by workers - children of the root parent - never by the
auth process.
"""

import os
import secrets
import subprocess
import unittest
import warnings

from tests.daemon.dtest import NP, ServerTestCase
from tests.lib.server import AuthServer, server_kind
from tests.lib.wrappers import (NSS_WRAPPER_LIB, auth_pid, nss_wrapper_env, preload_env,
                                read_records, testlib)

with warnings.catch_warnings():
    warnings.simplefilter('ignore', DeprecationWarning)
    import crypt     # noqa: E402  (deprecated in 3.11, still the simplest crypt(3))


def sha512_crypt(password):
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))


def read(path):
    with open(path) as f:
        return f.read()


SYSTEM_CONF = '''
auth_mechanisms = plain login
auth_failure_delay = 0
auth_verbose = yes
passdb {
  driver = %s
}
userdb {
  driver = passwd
}
service auth {
  unix_listener auth-client {
    mode = 0600
  }
  unix_listener auth-master {
    mode = 0600
  }
}
'''


class SystemUsersChecks:
    """Common checks, mixed into ServerTestCase subclasses that define GOOD
    (user, password), LOCKED, USERS, PASSDB_FN, UID, CONF, FILES and ENV."""

    ENV = {}

    @classmethod
    def setUpClass(cls):
        # ServerTestCase.setUpClass with the wrappers' environment
        cls.kind = server_kind()
        cls.srv = AuthServer(cls.kind, cls.CONF, files=dict(cls.FILES), env=cls.ENV)
        cls.srv.start()
        cls.apid = auth_pid(cls.srv)
        cls.nss_log = os.path.join(cls.srv.tmp, 'nss.log')

    def context(self):
        return '\n--- log (tail):\n' + self.srv.log()[-3000:]

    def test_passwords(self):
        good, pw = self.GOOD
        cases = [
            dict(user=good, password=pw, cmd=b'OK', code=None),
            dict(user=good, password=pw + 'x', cmd=b'FAIL', code=None),
            dict(user='adtnosuch', password=pw, cmd=b'FAIL', code=None),
            dict(user=self.LOCKED, password=pw, cmd=b'FAIL', code=b'user_disabled'),
        ]
        for i, c in enumerate(cases, 1):
            with self.subTest(**c):
                r = self.client().plain(i, c['user'], c['password'], params=NP)
                self.assertEqual((r.cmd, r.get(b'code')), (c['cmd'], c['code']),
                                 '%s: got %r%s' % (c['user'], r, self.context()))

    def test_userdb_passwd(self):
        good = self.GOOD[0]
        m = self.master('auth-master')
        m.user(1, good, service='lda')
        r = m.reply()
        self.assertEqual(r.cmd, b'USER', r)
        want = [b'uid=%d' % self.UID, b'home=/home/' + good.encode(),
                b'system_groups_user=' + good.encode()]
        for w in want:
            self.assertIn(w, r.words, 'USER reply %r lacks %r' % (r, w))
        m.user(2, 'adtnosuch', service='lda')
        self.assertEqual(m.reply().cmd, b'NOTFOUND')

    def test_lookups_only_in_workers(self):
        self.client().plain(1, self.GOOD[0], self.GOOD[1], params=NP)
        m = self.master('auth-master')
        m.user(2, self.GOOD[0], service='lda')
        m.reply()
        test_names = set(self.USERS) | {'adtnosuch'}
        recs = [r for r in read_records(self.nss_log) if r.get('name') in test_names]
        fns = {r['_'] for r in recs}
        self.assertTrue({'getpwnam_r', self.PASSDB_FN} <= fns,
                        'lookups recorded: %r%s' % (fns, self.context()))
        for r in recs:
            self.assertNotEqual(int(r['pid']), self.apid, 'the auth process looked up %r' % (r,))
            self.assertEqual(int(r['ppid']), self.srv.pid, 'not a worker of the root parent: %r'
                             % (r,))
            self.assertEqual(r['uid'], '0', 'lookup not as root: %r' % (r,))


@unittest.skipUnless(server_kind() == 'authd', 'authd\'s auth workers and nss_wrapper env')
class NssPasswd(SystemUsersChecks, ServerTestCase):
    """passdb passwd + userdb passwd through nss_wrapper."""

    CONF = SYSTEM_CONF % 'passwd'
    GOOD = ('nssalice', 'nss-alice-pw')
    LOCKED = 'nsslocked'
    USERS = {'nssalice': 'nss-alice-pw', 'nsslocked': 'nss-locked-pw'}
    PASSDB_FN = 'getpwnam_r'
    UID = 2001

    @classmethod
    def setUpClass(cls):
        passwd = read('/etc/passwd').rstrip('\n') + '\n' + ''.join([
            'nssalice:%s:2001:2001:NSS Alice:/home/nssalice:/bin/sh\n'
            % sha512_crypt('nss-alice-pw'),
            'nsslocked:!%s:2002:2002::/home/nsslocked:/bin/sh\n' % sha512_crypt('nss-locked-pw'),
        ])
        cls.FILES = {'passwd': passwd, 'group': read('/etc/group')}
        cls.ENV = preload_env([testlib('authdtest_preload.so'), NSS_WRAPPER_LIB])
        cls.ENV.update(nss_wrapper_env('{tmp}/passwd', '{tmp}/group'))
        cls.ENV['AUTHDTEST_NSS_LOG'] = '{tmp}/nss.log'
        super().setUpClass()


@unittest.skipUnless(server_kind() == 'authd', 'authd\'s auth workers')
class ShadowUsers(SystemUsersChecks, ServerTestCase):
    """passdb shadow + userdb passwd with real accounts (useradd/userdel)."""

    CONF = SYSTEM_CONF % 'shadow'
    PASSDB_FN = 'getspnam_r'

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest('creating system users needs root (CI runs as root)')
        tag = secrets.token_hex(3)
        cls.GOOD = ('adtok' + tag, 'shadow-pw-' + tag)
        cls.LOCKED = 'adtlock' + tag
        cls.USERS = {cls.GOOD[0]: cls.GOOD[1], cls.LOCKED: cls.GOOD[1]}
        cls.created = []
        cls.addClassCleanup(cls.remove_users)
        cls.add_user(cls.GOOD[0], sha512_crypt(cls.GOOD[1]))
        cls.add_user(cls.LOCKED, '!' + sha512_crypt(cls.GOOD[1]))
        cls.UID = int(subprocess.run(['id', '-u', cls.GOOD[0]], check=True, capture_output=True,
                                     text=True).stdout)
        cls.ENV = preload_env([testlib('authdtest_preload.so')])
        cls.ENV['AUTHDTEST_NSS_LOG'] = '{tmp}/nss.log'
        super().setUpClass()

    @classmethod
    def add_user(cls, name, hashed):
        subprocess.run(['useradd', '--no-create-home', '--no-user-group', '--gid', 'nogroup',
                        '--home-dir', '/home/' + name, '--shell', '/usr/sbin/nologin',
                        '--password', hashed, name], check=True, capture_output=True)
        cls.created.append(name)

    @classmethod
    def remove_users(cls):
        for name in cls.created:
            subprocess.run(['userdel', name], capture_output=True)


if __name__ == '__main__':
    unittest.main()
