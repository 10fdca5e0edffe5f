"""The auth worker pool (issue 7): blocking=yes on passwd-file, the limit of
auth_worker_max_count with jobs waiting in the queue, workers of a reloaded
configuration, workers dying while idle, the auth process dying, and
workers that switch to `service auth-worker { user }`. (Deadlines of queued
jobs, malformed replies and the like are in tests/unit/test_worker_pool.c.)

Slow backends are a checkpassword script (users "sleepN" take N seconds,
"hang" a minute) whose calls are recorded with their parent - the worker.
authd only: the process layout is what is under test.
"""

import os
import pwd
import signal
import time
import unittest

from tests.daemon.dtest import FIXTURE_USERS, NP, ServerTestCase
from tests.lib.authproto import unb64
from tests.lib.server import server_kind
from tests.lib.wrappers import alive, auth_pid, kill, parent_of, read_records, wait_for, workers

SLOW = r'''#!/bin/sh
# checkpassword for the pool tests: "sleepN" succeeds after N s, "hang"
# sleeps 60 s, anyone else is refused.
user=$(head -c 512 <&3 | tr '\0' '\n' | head -n 1)
echo "call pid=$$ ppid=$PPID uid=$(id -u) user=$user orig_uid=$ORIG_UID" >> {tmp}/slow.log
case "$user" in
sleep*) sleep "${user#sleep}" ;;
hang) sleep 60; exit 1 ;;
*) exit 1 ;;
esac
USER=$user HOME=/home/$user exec "$@"
'''

BLOCKING_PASSWD_FILE = '''
auth_mechanisms = plain login cram-md5
auth_failure_delay = 0
auth_worker_max_count = %(max)d
passdb {
  driver = passwd-file
  args = scheme=CRYPT username_format=%%u blocking=yes {tmp}/users
}
passdb {
  driver = checkpassword
  args = {tmp}/slow
}
userdb {
  driver = passwd-file
  args = username_format=%%u blocking=yes {tmp}/users
}
%(extra)s
service auth {
  unix_listener auth-client {
    mode = 0666
  }
  unix_listener auth-master {
    mode = 0600
  }
}
'''


def cram_md5(challenge, user, password):
    import hashlib
    import hmac
    return ('%s %s' % (user, hmac.new(password.encode(), challenge,
                                       hashlib.md5).hexdigest())).encode()


class WorkerTestCase(ServerTestCase):
    MAX = 3
    EXTRA = ''
    FILES = {'users': FIXTURE_USERS, 'slow': (SLOW, 0o755), 'slow.log': ('', 0o666)}

    @classmethod
    def setUpClass(cls):
        cls.CONF = BLOCKING_PASSWD_FILE % dict(max=cls.MAX, extra=cls.EXTRA)
        super().setUpClass()
        cls.apid = auth_pid(cls.srv)
        cls.slow_log = os.path.join(cls.srv.tmp, 'slow.log')

    def context(self):
        return '\n--- log (tail):\n' + self.srv.log()[-3000:]

    def calls(self, user=None):
        return [r for r in read_records(self.slow_log) if user is None or r['user'] == user]

    def ok(self, id, user='alice', password='alicepw', c=None):
        r = (c or self.client()).plain(id, user, password, params=NP, timeout=12)
        self.assertEqual(r.cmd, b'OK', '%s: got %r%s' % (user, r, self.context()))
        return r


@unittest.skipUnless(server_kind() == 'authd', 'authd\'s auth workers')
class BlockingPasswdFile(WorkerTestCase):
    def test_lookups_run_in_workers(self):
        self.ok(1)
        r = self.client().plain(2, 'alice', 'wrong', params=NP)
        self.assertEqual(r.cmd, b'FAIL', r)
        live = workers(self.srv, self.apid)
        self.assertTrue(live, 'blocking=yes did not start a worker' + self.context())
        for pid in live:
            self.assertEqual(parent_of(pid), self.srv.pid)

    def test_credentials_through_a_worker(self):
        c = self.client()
        c.auth(1, 'CRAM-MD5', params=NP)
        r = c.reply()
        self.assertEqual(r.cmd, b'CONT', r)
        c.cont(1, cram_md5(unb64(r.words[0]), 'alice', 'alicepw'))
        r = c.reply()
        self.assertEqual(r.cmd, b'OK', 'CRAM-MD5 from a blocking passwd-file: %r%s'
                         % (r, self.context()))

    def test_userdb_and_passdb_lookups(self):
        m = self.master('auth-master')
        m.user(1, 'alice', service='lda')
        r = m.reply()
        self.assertEqual(r.cmd, b'USER', r)
        self.assertIn(b'mail=maildir:~/Maildir', r.words, r)
        self.assertIn(b'uid=1001', r.words, r)
        m.user(2, 'nosuch', service='lda')
        self.assertEqual(m.reply().cmd, b'NOTFOUND')
        m.passdb(3, 'gina', service='doveadm')
        r = m.reply()
        self.assertEqual(r.cmd, b'PASS', r)
        # as in the auth process: %20m expands the (empty) mechanism
        self.assertEqual(r.words, [b'user=gina', b'nologin', b'reason=Accountoved', b'proxy',
                                   b'host=10.0.0.1'], 'extra fields from the worker')

    def test_idle_worker_killed_is_replaced(self):
        self.ok(1)
        before = workers(self.srv, self.apid)
        self.assertTrue(before)
        for pid in before:
            kill(pid)
        self.assertTrue(wait_for(lambda: not set(before) & set(workers(self.srv, self.apid)),
                                 5.0), 'killed workers still there')
        self.ok(2)
        after = workers(self.srv, self.apid)
        self.assertTrue(after, 'no new worker')
        self.assertFalse(set(after) & set(before))

    def test_reload_retires_workers(self):
        self.ok(1)
        before = set(workers(self.srv, self.apid))
        self.assertTrue(before)
        os.kill(self.srv.pid, signal.SIGHUP)
        self.assertTrue(self.srv.wait_log(r'SIGHUP received'), self.context())
        self.assertTrue(wait_for(lambda: not before & set(workers(self.srv, self.apid)), 5.0),
                        'workers of the old configuration still run')
        self.ok(2)
        self.assertTrue(workers(self.srv, self.apid))


@unittest.skipUnless(server_kind() == 'authd', 'authd\'s auth workers')
class PoolLimits(WorkerTestCase):
    MAX = 2

    def test_max_count_and_queue(self):
        clients = [self.client() for _ in range(4)]
        t0 = time.monotonic()
        for i, c in enumerate(clients):
            c.auth(i + 1, 'PLAIN', params=NP, resp=b'\0sleep1\0x')
        peak = 0
        replies = []
        for i, c in enumerate(clients):
            peak = max(peak, len(workers(self.srv, self.apid)))
            replies.append(c.reply(timeout=12))
        took = time.monotonic() - t0
        for r in replies:
            self.assertEqual(r.cmd, b'OK', '%r%s' % (r, self.context()))
        self.assertLessEqual(peak, self.MAX, 'more workers than auth_worker_max_count')
        self.assertGreaterEqual(took, 1.9, '4 jobs of 1 s on 2 workers took %.1f s' % took)
        runners = {c['ppid'] for c in self.calls() if c['user'] == 'sleep1'}
        self.assertLessEqual(len(runners), self.MAX, 'programs ran from %r' % (runners,))


@unittest.skipUnless(server_kind() == 'authd', 'authd\'s auth workers')
class AuthProcessDeath(WorkerTestCase):
    def test_workers_die_with_the_auth_process(self):
        c = self.client()
        c.auth(1, 'PLAIN', params=NP, resp=b'\0hang\0x')
        self.assertTrue(wait_for(lambda: self.calls('hang'), 5.0), self.context())
        old = workers(self.srv, self.apid)
        self.assertTrue(old)
        os.kill(self.apid, signal.SIGKILL)
        self.assertTrue(wait_for(lambda: not set(old) & set(workers(self.srv, self.apid)), 5.0),
                        'workers of the dead auth process still run: %r' % old)
        hung = int(self.calls('hang')[-1]['pid'])
        self.assertTrue(wait_for(lambda: not alive(hung), 5.0),
                        'the checkpassword child outlived its worker')
        newpid = wait_for(lambda: self._new_auth_pid(), 10.0)
        self.assertTrue(newpid, 'auth process not restarted' + self.context())
        type(self).apid = newpid
        self.ok(2)

    def _new_auth_pid(self):
        try:
            pid = auth_pid(self.srv)
        except OSError:
            return None
        return pid if pid != self.apid else None


@unittest.skipUnless(server_kind() == 'authd', 'authd\'s auth workers')
class WorkerUser(WorkerTestCase):
    EXTRA = 'service auth-worker {\n  user = nobody\n}\n'

    def test_workers_run_as_configured_user(self):
        self.ok(1, 'sleep0', 'x')
        nobody = pwd.getpwnam('nobody').pw_uid
        rec = self.calls('sleep0')[-1]
        self.assertEqual((rec['uid'], rec['orig_uid']), (str(nobody), str(nobody)), rec)
        for pid in workers(self.srv, self.apid):
            self.assertEqual(os.stat('/proc/%d' % pid).st_uid, nobody)


if __name__ == '__main__':
    unittest.main()
