"""`authctl cache flush` against `doveadm auth cache flush`: the same request
to the same server (authd, or Dovecot with AUTHD_TEST_SERVER=dovecot) must
give the same stdout and exit code; and the wire bytes are Dovecot's
(`CACHE-FLUSH\\t<id>[\\t<user>...]` on auth-master, answered `OK\\t<id>\\t<n>`).

Run from the repository root:
    python3 -m unittest tests.daemon.test_authctl_cache -v
"""

import os
import shutil
import socket
import subprocess
import sys
import unittest

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from tests.lib.server import (AuthServer, authctl_bin, server_available,  # noqa: E402
                              server_kind)

RUN_TIMEOUT = 60

USERS = b'alice:{PLAIN}alicepw:1001:1001::/home/alice\n'

CONF = '''
auth_mechanisms = plain
auth_failure_delay = 0
auth_cache_size = 1M
auth_cache_ttl = 1 hour
auth_cache_negative_ttl = 5 mins
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

DOVEADM_CONF = '''base_dir = {tmp}/doveadm-run
state_dir = {tmp}/doveadm-state
protocols = none
ssl = no
log_path = /dev/stderr
'''

M, U, MISSING = '<master>', '<userdb>', '<missing>'

CASES = [
    ('flush_all', ['-a', M]),
    ('flush_one', ['-a', M, 'alice']),
    ('flush_several', ['-a', M, 'alice', 'nosuch', 'bob@example.com']),
    ('flush_escaped_name', ['-a', M, 'al\tice']),
    ('flush_userdb_socket', ['-a', U, 'alice']),
    ('flush_missing_socket', ['-a', MISSING]),
]


def _doveadm():
    return shutil.which('doveadm') or ('/usr/bin/doveadm' if os.access('/usr/bin/doveadm', os.X_OK)
                                       else None)


class CacheFlushVsDoveadm(unittest.TestCase):
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
            cls.doveadm_conf = cls.srv.write_file('doveadm.conf', DOVEADM_CONF)
            cls.paths = {M: cls.srv.path('auth-master'), U: cls.srv.path('auth-userdb'),
                         MISSING: os.path.join(tmp, 'run', 'no-such-socket')}
        except BaseException:
            cls.srv.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.srv is not None:
            cls.srv.stop()

    def _run(self, argv):
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=RUN_TIMEOUT, cwd=self.srv.tmp)
        return p.stdout, p.returncode, p.stderr

    def compare(self, args):
        args = [self.paths.get(a, a) for a in args]
        want = self._run([_doveadm(), '-c', self.doveadm_conf, 'auth', 'cache', 'flush'] + args)
        got = self._run([authctl_bin(), 'cache', 'flush'] + args)
        msg = ('\nargs: %r\n  doveadm: exit %d stdout %r\n           stderr %r'
               '\n  authctl: exit %d stdout %r\n           stderr %r'
               % (args, want[1], want[0], want[2], got[1], got[0], got[2]))
        self.assertEqual(got[1], want[1], 'exit code differs' + msg)
        self.assertEqual(got[0], want[0], 'stdout differs' + msg)

    def test_wire(self):
        """The raw protocol: OK with the id and a count; several users."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect(self.paths[M])
            s.sendall(b'VERSION\t1\t0\nCACHE-FLUSH\t7\nCACHE-FLUSH\t8\talice\tbob\n')
            data = b''
            while data.count(b'\n') < 4:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        lines = data.split(b'\n')
        self.assertTrue(lines[0].startswith(b'VERSION\t1\t'), data)
        self.assertTrue(lines[1].startswith(b'SPID\t'), data)
        self.assertRegex(lines[2], rb'^OK\t7\t[0-9]+$')
        self.assertRegex(lines[3], rb'^OK\t8\t[0-9]+$')


def _make_case(args):
    def test(self):
        self.compare(args)
    return test


for _name, _args in CASES:
    setattr(CacheFlushVsDoveadm, 'test_' + _name, _make_case(_args))


if __name__ == '__main__':
    unittest.main()
