"""passdb and userdb checkpassword (qmail's interface, Dovecot's conventions),
run from authd's auth workers (issue 7).

The checkpassword program is a small Python script written by the test: it
reads user\\0password\\0timestamp\\0 from fd 3, records what it saw (its pid
and parent, the environment Dovecot defines) and then, depending on the
user, runs the success command (authd --checkpassword-reply) with USER,
HOME and EXTRA set, or exits 1 (wrong password), 3 (vpopmail's failure /
unknown user in lookups), 111 (temporary), crashes, hangs, or exits 0
without running the success command. The same tests pass against Dovecot
2.3.19 (AUTHD_TEST_SERVER=dovecot) except where marked authd-only. A credentials lookup (CRAM-MD5) gets
password={PLAIN}... back; a userdb lookup sets AUTHORIZED=2.
"""

import hashlib
import hmac
import os
import time
import unittest

from tests.daemon.dtest import NP, ServerTestCase
from tests.lib.authproto import unb64
from tests.lib.wrappers import alive, auth_pid, parent_of, read_records, wait_for, workers

WORKER_TIMEOUT = 8.0     # authd/request_worker.h REQUEST_WORKER_TIMEOUT_MS
CLIENT_TIMEOUT = 10.0

CHECKPASSWORD = r'''#!/usr/bin/python3
import os, signal, sys, time
LOG = "{tmp}/chkpw.log"
USERS = {"alice": "alicepw", "extra": "extrapw", "hang": "hangpw", "crash": "crashpw",
         "temp": "temppw", "vpop": "voppw", "silent": "silentpw", "lookuponly": "x"}

def record(**kw):
    words = ["call", "pid=%d" % os.getpid(), "ppid=%d" % os.getppid()]
    words += ["%s=%s" % (k, v) for k, v in sorted(kw.items())]
    with open(LOG, "a") as f:
        f.write(" ".join(words) + "\n")

try:
    data = os.read(3, 600)
except OSError:
    data = b""
parts = data.split(b"\0")
user = parts[0].decode() if parts else ""
password = parts[1].decode() if len(parts) > 1 else ""
env = os.environ
record(user=user, nparts=len(parts), authorized=env.get("AUTHORIZED", "-"),
       service=env.get("SERVICE", "-"), rip=env.get("TCPREMOTEIP", "-"),
       lip=env.get("TCPLOCALIP", "-"), proto=env.get("PROTO", "-"),
       orig_uid=env.get("ORIG_UID", "-"), scheme=env.get("SCHEME", "-"),
       credentials=env.get("CREDENTIALS_LOOKUP", "-"), ld_preload=env.get("LD_PRELOAD", "-"),
       passlen=len(password))
if user == "hang":
    time.sleep(60)
    sys.exit(1)
if user == "crash":
    os.kill(os.getpid(), signal.SIGSEGV)
if user == "temp":
    sys.exit(111)
if user == "vpop":
    sys.exit(3)
lookup = env.get("AUTHORIZED") == "1"
if user not in USERS:
    sys.exit(3 if lookup else 1)
if lookup:
    env["AUTHORIZED"] = "2"
elif USERS[user] != password or user == "lookuponly":
    sys.exit(1)
if user == "silent":
    sys.exit(0)
env["USER"] = user
env["HOME"] = "/home/" + user
extra = []
if user == "extra":
    env["userdb_quota_rule"] = "*:storage=1G"
    env["MAIL_HOST"] = "mx.example.com"
    env["userdb_uid"] = "5000"
    extra += ["userdb_quota_rule", "MAIL_HOST", "userdb_uid"]
if env.get("CREDENTIALS_LOOKUP") == "1":
    env["password"] = "{PLAIN}" + USERS[user]
    extra.append("password")
env["EXTRA"] = " ".join(extra)
os.execv(sys.argv[1], sys.argv[1:])
'''

CONF = '''
auth_mechanisms = plain login cram-md5
auth_failure_delay = 0
auth_verbose = yes
passdb {
  driver = checkpassword
  args = {tmp}/checkpassword
}
userdb {
  driver = checkpassword
  args = {tmp}/checkpassword
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


def cram_md5(challenge, user, password):
    digest = hmac.new(password.encode(), challenge, hashlib.md5).hexdigest()
    return ('%s %s' % (user, digest)).encode()


class Checkpassword(ServerTestCase):
    CONF = CONF
    FILES = {'checkpassword': (CHECKPASSWORD, 0o755), 'chkpw.log': ('', 0o666)}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.log_path = os.path.join(cls.srv.tmp, 'chkpw.log')
        cls.apid = auth_pid(cls.srv)

    def calls(self, since=0, user=None):
        recs = read_records(self.log_path)[since:]
        return [r for r in recs if user is None or r.get('user') == user]

    def mark(self):
        return len(read_records(self.log_path))

    def context(self):
        return '\n--- log (tail):\n' + self.srv.log()[-3000:]

    def test_results(self):
        cases = [
            dict(user='alice', password='alicepw', cmd=b'OK', code=None),
            dict(user='alice', password='wrong', cmd=b'FAIL', code=None),        # exit 1
            dict(user='nosuch', password='x', cmd=b'FAIL', code=None),           # exit 1
            # exit 3 (vchkpw's wrong password) is a temporary failure in Dovecot 2.3.19
            dict(user='vpop', password='x', cmd=b'FAIL', code=b'temp_fail'),
            dict(user='temp', password='x', cmd=b'FAIL', code=b'temp_fail'),     # exit 111
            dict(user='crash', password='x', cmd=b'FAIL', code=b'temp_fail'),    # SIGSEGV
            dict(user='silent', password='silentpw', cmd=b'FAIL', code=b'temp_fail'),  # no reply
        ]
        for i, c in enumerate(cases, 1):
            with self.subTest(**c):
                r = self.client().plain(i, c['user'], c['password'], params=NP)
                self.assertEqual((r.cmd, r.get(b'code')), (c['cmd'], c['code']),
                                 '%s/%s: got %r%s' % (c['user'], c['password'], r, self.context()))

    def test_extra_fields(self):
        r = self.client().plain(1, 'extra', 'extrapw', params=NP)
        self.assertEqual(r.cmd, b'OK', 'got %r%s' % (r, self.context()))
        self.assertEqual(r.get(b'user'), b'extra')
        self.assertEqual(r.get(b'mail_host'), b'mx.example.com',
                         'EXTRA variables become passdb fields (lower-case): %r' % (r,))
        for f in (b'userdb_quota_rule', b'userdb_home', b'userdb_uid'):
            self.assertIsNone(r.get(f), '%s is a userdb field, not in the OK: %r' % (f, r))

    def test_environment_and_input(self):
        since = self.mark()
        r = self.client().plain(1, 'alice', 'alicepw', params=NP + ('rip=192.0.2.7',
                                                                  'lip=192.0.2.1'))
        self.assertEqual(r.cmd, b'OK', self.context())
        calls = self.calls(since, 'alice')
        self.assertEqual(len(calls), 1, calls)
        got = {k: calls[0][k] for k in ('authorized', 'service', 'rip', 'lip', 'proto',
                                       'nparts', 'passlen', 'credentials')}
        want = {'authorized': '-', 'service': 'smtp', 'rip': '192.0.2.7', 'lip': '192.0.2.1',
                'proto': 'TCP', 'nparts': '4', 'passlen': '7', 'credentials': '-'}
        self.assertEqual(got, want, 'what the program saw')
        if self.kind == 'authd':
            self.assertEqual(calls[0]['ld_preload'], '-', 'environment not clean')
            self.assertEqual(calls[0]['orig_uid'], '0')

    def test_runs_in_a_worker_not_the_auth_process(self):
        if self.kind != 'authd':
            self.skipTest('authd process layout')
        since = self.mark()
        for i in range(3):
            self.client().plain(i + 1, 'alice', 'alicepw', params=NP)
        calls = self.calls(since)
        self.assertEqual(len(calls), 3)
        for c in calls:
            runner = int(c['ppid'])
            self.assertNotEqual(runner, self.apid, 'the auth process ran checkpassword')
            # the script's parent is a worker, a child of the root parent
            # (or gone already if it restarted)
            owner = parent_of(runner)
            self.assertIn(owner, (self.srv.pid, None),
                          'checkpassword run by %d, child of %s' % (runner, owner))
        self.assertIn(int(calls[-1]['ppid']), workers(self.srv, self.apid))

    def test_hang_is_killed_and_others_served(self):
        if self.kind != 'authd':
            self.skipTest('Dovecot 2.3 waits for checkpassword without a timeout')
        slow = self.client()
        t0 = time.monotonic()
        slow.auth(77, 'PLAIN', params=NP, resp=b'\0hang\0hangpw')
        calls = wait_for(lambda: self.calls(0, 'hang'), 5.0)
        self.assertTrue(calls, 'the program was not started' + self.context())
        hung = int(calls[-1]['pid'])
        for i in range(3):
            t1 = time.monotonic()
            r = self.client().plain(i + 1, 'alice', 'alicepw', params=NP)
            self.assertEqual(r.cmd, b'OK', self.context())
            self.assertLess(time.monotonic() - t1, 3.0, 'alice waited for the hung program')
        r = slow.reply(timeout=CLIENT_TIMEOUT + 5)
        took = time.monotonic() - t0
        self.assertEqual((r.cmd, r.get(b'code')), (b'FAIL', b'temp_fail'), 'got %r%s'
                         % (r, self.context()))
        self.assertLess(took, CLIENT_TIMEOUT, 'answered after %.1f s' % took)
        self.assertTrue(wait_for(lambda: not alive(hung), 3.0),
                        'the hung program %d was not killed' % hung)

    def test_credentials_lookup_cram_md5(self):
        since = self.mark()
        c = self.client()
        c.auth(1, 'CRAM-MD5', params=NP)
        r = c.reply()
        self.assertEqual(r.cmd, b'CONT', r)
        c.cont(1, cram_md5(unb64(r.words[0]), 'alice', 'alicepw'))
        r = c.reply()
        self.assertEqual(r.cmd, b'OK', 'CRAM-MD5 through a credentials lookup: %r%s'
                         % (r, self.context()))
        calls = self.calls(since, 'alice')
        self.assertEqual((calls[-1]['authorized'], calls[-1]['credentials'],
                          calls[-1]['scheme']), ('1', '1', 'CRAM-MD5'), calls)

    def test_userdb_lookup(self):
        m = self.master('auth-master')
        m.user(1, 'extra', service='lda')
        r = m.reply()
        self.assertEqual(r.cmd, b'USER', 'got %r%s' % (r, self.context()))
        fields = dict(f.split(b'=', 1) for f in r.words[1:] if b'=' in f)
        self.assertEqual(fields.get(b'quota_rule'), b'*:storage=1G', r)
        self.assertEqual(fields.get(b'home'), b'/home/extra', r)
        self.assertEqual(fields.get(b'uid'), b'5000', r)
        m.user(2, 'nosuch', service='lda')
        r = m.reply()
        self.assertEqual(r.cmd, b'NOTFOUND', 'unknown user (exit 3): %r' % (r,))
        m.user(3, 'temp', service='lda')
        r = m.reply()
        self.assertEqual(r.cmd, b'FAIL', 'exit 111: %r' % (r,))


if __name__ == '__main__':
    unittest.main()
