"""Shared pieces of the daemon conformance tests (not a test module itself).

Each test class starts one server (authd or Dovecot, see tests/lib/server.py)
in setUpClass from its CONF/FILES, and its tests talk to that server's
sockets.  Run from the repository root:

    python3 -m unittest discover -s tests/daemon -t .            # against authd
    AUTHD_TEST_SERVER=dovecot python3 -m unittest discover -s tests/daemon -t .

The checklist numbers in test names and docstrings refer to section 0 of
spec/dovecot-auth-protocol.md.  Every AUTH carries `no-penalty` unless the
penalty itself is under test, so failures of one test never slow another.
"""

import os
import sys
import time
import unittest

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from tests.lib.server import AuthServer, server_kind          # noqa: E402
from tests.lib.authproto import (AuthClient, MasterClient, ProtoError,   # noqa: E402,F401
                                 ProtoTimeout, Reply, b64, line, plain_data,
                                 tab_escape, tab_unescape)

NP = ('no-penalty',)

# The passwd-file fixture of spec/passwd-file-and-ldap.md A.7, verbatim
# (yuri's line ends in CRLF, zack's has no final LF), with extra users used by
# the protocol tests inserted after the header comment:
#   tabby  extra field value with TAB and 0x01 (checklist 48)
#   admin  a plain user named like the master user of MASTER_USERS
FIXTURE_EXTRA = (
    b'tabby:{PLAIN}tabbypw:1030:1030::/home/tabby::nologin reason=a\tb\x01c\n'
)
FIXTURE_USERS = (
    b'# test passwd-file for the spec\n'
    + FIXTURE_EXTRA +
    b'\n'
    b'alice:{PLAIN}alicepw:1001:1001::/home/alice::userdb_mail=maildir:~/Maildir\n'
    b'bob:{CRAM-MD5}cb63714fcd91f1fa5ba24069c4f487c632d440dae0f09218312d88d6fb2bd775:1002:1002:Bob B:/home/bob:/bin/sh\n'
    b'carol:$6$SzH6Ap1ubR/xr2AD$/dnZOKFy3oc5yQT6F8xGY5IXa2uMmv4sZmjDBYHJVsLsVfprtNFyeGo5iRgVN0qn5tjXUKCHVLQHof4maDCgE/:1003:1003::/home/carol::userdb_quota_rule=*:storage=1G\n'
    b'dave:{PLAIN}davepw\n'
    b'erin::1005:1005::/home/erin::nopassword\n'
    b'frank:{PLAIN}frankpw:1006:1006::/home/frank::allow_nets=10.0.0.0/8,192.168.1.1\n'
    b'gina:{PLAIN}ginapw:1007:1007::/home/gina::nologin reason=Account%20moved proxy host=10.0.0.1\n'
    b'ivan:{PLAIN}ivanpw:1009:1009::/home/ivan:::maildir:~/Mail\n'
    b'alice:{PLAIN}secondalice:1999:1999::/home/alice2\n'
    b':{PLAIN}nouser:1:1::/x\n'
    b'   # not a comment (leading spaces)\n'
    b'judy:8efb6d0ae5882e507973ec61abd11cd1[34]:1011:1011::/home/judy\n'
    b'paul:/.KP7VSsQ0jl.[13]:1012:1012::/home/paul\n'
    b'oscar@example.com:2b6082202a1a31978ba774b9164fbdd0[56]:1013:1013::/home/oscar\n'
    b'kate:{PLAIN}katepw:dovecot:dovecot::/home/kate\n'
    b'leo:{PLAIN}leopw:0:0::/root\n'
    b'mike:{PLAIN}mikepw:1014:1014::/home/mike::userdb_mail=maildir:/var/mail/%d/%n userdb_home=/srv/%u\n'
    b'nina:{PLAIN}ninapw:::/home/nina\n'
    b'olga@example.com:{PLAIN}olgapw:1015:1015::::userdb_quota_rule=*:bytes=100M  nodelay\n'
    b'quinn:{PLAIN}quinnpw:1016:1016::/home/quinn:/bin/false:userdb_mail=mbox:~/mail user=quinn2\n'
    b'rita:noschemecrypt:1017:1017::/home/rita\n'
    b'sam:{PLAIN}sampw:1018:1018::/home/sam::userdb_uid=2018 userdb_gid=2018\n'
    b'tom:{SHA256-CRYPT}$5$saltstring$C3o4O1TC6aRHF4FI.QSZMXtHbaj2gSXr4sUc/3NcUi.:1019:1019::/home/tom\n'
    b'uma:{PLAIN}umapw:1020:1020::/home/uma::fail\n'
    b'vic:{PLAIN}vicpw:1021:1021::/home/vic::userdb_mail=maildir:~/M nopassword\n'
    b'wendy:{PLAIN}wendypw:1022:abc::/home/wendy\n'
    b'xena:{SCRAM-SHA-256}4096,DIJARWhPmG+jfcokInaO2Q==,1+AQBSTFI/fYP4XuRJ7QkwUrFdNlHHKJXWZIQ7UxxiQ=,Ja6tMpFNXg0qITm/o8gMmfWM/Xkd7ojIQxJGj2n1Xso=:1023:1023::/home/xena\n'
    b'yuri:{PLAIN}yuripw:1024:1024::/home/yuri\r\n'
    b'zack:{PLAIN}zackpw:1025:1025::/home/zack'
)

PASSDB_USERDB = '''
passdb {
  driver = passwd-file
  args = scheme=CRYPT username_format=%u {tmp}/users
}
userdb {
  driver = passwd-file
  args = username_format=%u {tmp}/users
}
'''

# auth-client: plain client (Postfix-like); auth-login: login type (CPID
# unique); auth-userdb: root-only userdb socket (mode != 0666: unrestricted);
# restricted-userdb: mode 0666 owned by dovecot:dovecot, so any other peer is
# restricted to its own uid (3.2); auth-master: master type.
LISTENERS = '''
service auth {
  unix_listener auth-client {
    mode = 0600
  }
  unix_listener auth-login {
    mode = 0600
  }
  unix_listener auth-master {
    mode = 0600
  }
  unix_listener auth-userdb {
    mode = 0600
  }
  unix_listener restricted-userdb {
    mode = 0666
    user = dovecot
    group = dovecot
  }
}
'''


def make_conf(delay=0, mechanisms='plain login', passdbs=PASSDB_USERDB, extra=''):
    return ('auth_mechanisms = %s\n' % mechanisms
            + ('auth_failure_delay = %d secs\n' % delay if delay is not None else '')
            + extra + passdbs + LISTENERS)


BASE_CONF = make_conf()


class ServerTestCase(unittest.TestCase):
    """Starts one server per class from CONF and FILES."""

    CONF = BASE_CONF
    FILES = {'users': FIXTURE_USERS}
    srv = None

    @classmethod
    def setUpClass(cls):
        cls.kind = server_kind()
        cls.srv = AuthServer(cls.kind, cls.CONF, files=dict(cls.FILES))
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        if cls.srv is not None:
            if os.environ.get('AUTHD_TEST_SHOW_LOG'):
                sys.stderr.write('\n--- %s log (%s) ---\n%s\n'
                                 % (cls.__name__, cls.srv.kind, cls.srv.log()))
            srv, cls.srv = cls.srv, None
            srv.stop()           # sanitizer leak reports are written at exit
            crash = srv.crash_report()
            if crash:
                raise AssertionError('%s: crash or sanitizer report in the %s log:\n%s'
                                     % (cls.__name__, srv.kind, crash[:6000]))

    def setUp(self):
        self._conns = []

    def tearDown(self):
        for c in self._conns:
            c.close()
        self.assertTrue(self.srv.alive(), 'server died; log:\n' + self.srv.log()[-4000:])

    # -- connections
    def client(self, sock='auth-client', hello=True, minor=2, cpid=None, **kw):
        c = AuthClient(self.srv.path(sock), hello=hello, minor=minor, cpid=cpid, **kw)
        self._conns.append(c)
        return c

    def raw_client(self, sock='auth-client'):
        """Connected, handshake not read, nothing sent."""
        c = AuthClient(self.srv.path(sock), read_handshake=False)
        self._conns.append(c)
        return c

    def master(self, sock='auth-userdb', hello=True, minor=0, **kw):
        m = MasterClient(self.srv.path(sock), hello=hello, minor=minor, **kw)
        self._conns.append(m)
        return m

    # -- assertions
    def assertReply(self, r, cmd, id, fields=None, user=None):
        """r is cmd/id; with user= the first non-empty field is user=<user>;
        with fields= the non-empty fields after the id, as a multiset, are
        exactly those given (order and empty fields are free to differ)."""
        msg = 'got %r' % (r,)
        self.assertEqual(r.cmd, cmd.encode() if isinstance(cmd, str) else cmd, msg)
        self.assertEqual(r.id, id, msg)
        if user is not None:
            self.assertTrue(r.words, msg)
            self.assertEqual(r.words[0], b'user=' + tab_escape(user), msg)
        if fields is not None:
            want = sorted(f.encode() if isinstance(f, str) else f for f in fields)
            self.assertEqual(r.fieldset(), want, msg)

    def assertOK(self, r, id, user, extra=()):
        self.assertReply(r, 'OK', id, user=user,
                         fields=['user=' + user if isinstance(user, str) else b'user=' + user]
                         + list(extra))

    def assertFail(self, r, id, fields=()):
        self.assertReply(r, 'FAIL', id, fields=fields)

    def assertClosed(self, c, timeout=3.0, what=''):
        got = c.closed(timeout)
        self.assertTrue(got, 'expected the server to close the connection %s; pending %r'
                        % (what, c.pending()[:300]))

    def assertOpen(self, c, wait=0.3):
        self.assertTrue(c.is_open(wait), 'connection closed or unexpected data %r'
                        % (c.pending()[:300],))

    def assertStillServes(self):
        """A fresh connection still authenticates alice (and the server lives)."""
        c = self.client()
        r = c.plain(4000000000, 'alice', 'alicepw', params=NP)
        self.assertOK(r, 4000000000, 'alice')
        c.close()

    def drain(self, c, wait=0.3):
        """Read and return the lines arriving within wait seconds of each other."""
        out = []
        while True:
            try:
                ln = c.read_line(wait)
            except ProtoTimeout:
                return out
            if ln is None:
                return out
            out.append(ln)

    def timed(self, c, timeout=10.0):
        """(reply, seconds until it arrived)."""
        t0 = time.monotonic()
        r = c.reply(timeout)
        return r, time.monotonic() - t0
