"""passdb pam through pam_wrapper and pam_matrix (Debian's libpam-wrapper),
in authd's auth worker processes (issue 7).

The PAM stack of the service "smtp" (the service= Postfix and these tests
send; the passdb uses args %s) is the tests' module pam_authdtest.so
(tests/testlib/), which records every call with its pid and the PAM items
and can sleep, fail as unavailable or expire a password, followed by
pam_matrix with a user:password:service file. The records prove that PAM
runs in workers - children of the root parent, not the auth process - and
that PAM_RHOST/PAM_TTY/PAM_RUSER are set as Dovecot sets them. A module
that sleeps past the worker timeout gets a temporary failure in time while
other requests are answered; a worker SIGKILLed mid-request gives a
temporary failure and is replaced. Last, Postfix + swaks against a
PAM-backed passdb.
"""

import os
import time
import unittest

from tests.lib.authproto import AuthClient, MasterClient
from tests.lib.postfix import Postfix, source_ip, swaks_auth
from tests.lib.peers import find_binary
from tests.lib.server import AuthServer, server_kind
from tests.lib.wrappers import (PAM_WRAPPER_LIB, auth_pid, clean_pam_wrapper_dirs, kill,
                                pam_matrix, pam_wrapper_env, parent_of, preload_env,
                                read_records, system_lib, testlib, wait_for, workers)

NP = ('no-penalty',)
WORKER_TIMEOUT = 8.0         # authd/request_worker.h REQUEST_WORKER_TIMEOUT_MS
CLIENT_TIMEOUT = 10.0        # Postfix gives up after 10 s
MAX_REQUESTS = 4             # passdb args max_requests=

PASSDB = ('alice:alicepw:smtp\n'
          'bob:bobpw:smtp\n'
          'eve:evepw:smtp\n'
          'sleepy:sleepypw:smtp\n'
          'unav:unavpw:smtp\n')

CONF = '''
auth_mechanisms = plain login
auth_failure_delay = 0
auth_verbose = yes
passdb {
  driver = pam
  args = session=yes setcred=yes failure_show_msg=yes max_requests=%d %%s
}
userdb {
  driver = static
  args = uid=1000 gid=1000 home=/home/%%u
}
service auth {
  unix_listener auth-client {
    mode = 0660
    user = postfix
    group = postfix
  }
  unix_listener auth-master {
    mode = 0600
  }
}
''' % MAX_REQUESTS


def pam_files():
    mod = testlib('pam_authdtest.so')
    matrix = pam_matrix()
    log = 'log={tmp}/pam.log'
    smtp = '\n'.join([
        'auth     requisite %s %s sleep_user=sleepy sleep=30 unavail_user=unav '
        'error_msg=Sorry_from_PAM' % (mod, log),
        'auth     required  %s passdb={tmp}/pam.passdb' % matrix,
        'account  requisite %s %s expired_user=eve' % (mod, log),
        'account  required  %s passdb={tmp}/pam.passdb' % matrix,
        'session  optional  %s %s' % (mod, log),
        'session  required  %s passdb={tmp}/pam.passdb' % matrix,
        ''])
    deny = system_lib('security/pam_deny.so')
    other = ''.join('%s required %s\n' % (t, deny) for t in ('auth', 'account', 'session'))
    return {'pam.d/smtp': smtp, 'pam.d/other': other, 'pam.passdb': PASSDB}


def pam_env():
    env = preload_env([PAM_WRAPPER_LIB])
    env.update(pam_wrapper_env('{tmp}/pam.d'))
    return env


class PAMServer:
    """Mixin: one authd per class with the PAM passdb."""

    @classmethod
    def start_server(cls):
        for prog in ('postfix', 'swaks'):
            find_binary(prog)
        cls.srv = AuthServer(server_kind(), CONF, files=pam_files(), env=pam_env())
        cls.srv.start()
        cls.addClassCleanup(cls.stop_server)
        cls.apid = auth_pid(cls.srv)
        cls.log_path = os.path.join(cls.srv.tmp, 'pam.log')

    @classmethod
    def stop_server(cls):
        srv = cls.srv
        srv.stop()
        clean_pam_wrapper_dirs()
        crash = srv.crash_report()
        if crash:
            raise AssertionError('crash or sanitizer report in the log:\n' + crash[:6000])

    def records(self, since=0, fn='authenticate', user=None):
        recs = read_records(self.log_path)[since:]
        return [r for r in recs if r['_'] == fn and (user is None or r.get('user') == user)]

    def mark(self):
        return len(read_records(self.log_path))

    def context(self):
        return '\n--- authd log (tail):\n' + self.srv.log()[-3000:]


@unittest.skipUnless(server_kind() == 'authd', 'auth workers are authd\'s (issue 7)')
class PAMWorkers(PAMServer, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.start_server()

    def setUp(self):
        self.conns = []

    def tearDown(self):
        for c in self.conns:
            c.close()
        self.assertTrue(self.srv.alive(), 'server died' + self.context())

    def client(self):
        c = AuthClient(self.srv.path('auth-client'), hello=True)
        self.conns.append(c)
        return c

    def auth(self, id, user, password, params=NP, mech='PLAIN', timeout=CLIENT_TIMEOUT):
        c = self.client()
        if mech == 'LOGIN':
            return c.login(id, user, password, params=params, timeout=timeout)
        return c.plain(id, user, password, params=params, timeout=timeout)

    def test_passwords(self):
        cases = [
            dict(user='alice', password='alicepw', want='OK', code=None),
            dict(user='bob', password='bobpw', want='OK', code=None),
            dict(user='alice', password='wrong', want='FAIL', code=None),
            dict(user='nosuch', password='alicepw', want='FAIL', code=None),
            dict(user='eve', password='evepw', want='FAIL', code=b'pass_expired'),
            dict(user='unav', password='unavpw', want='FAIL', code=b'temp_fail'),
        ]
        for i, c in enumerate(cases, 1):
            with self.subTest(**c):
                r = self.auth(i, c['user'], c['password'])
                self.assertEqual(r.cmd, c['want'].encode(),
                                 '%s/%s: got %r, want %s%s' % (c['user'], c['password'], r,
                                                               c['want'], self.context()))
                self.assertEqual(r.get(b'code'), c['code'], 'got %r, want code=%r' % (r, c['code']))

    def test_login_mechanism(self):
        r = self.auth(1, 'alice', 'alicepw', mech='LOGIN')
        self.assertEqual(r.cmd, b'OK', 'LOGIN alice: got %r%s' % (r, self.context()))
        r = self.auth(2, 'alice', 'nope', mech='LOGIN')
        self.assertEqual(r.cmd, b'FAIL', 'LOGIN wrong password: got %r' % (r,))

    def test_failure_is_logged_like_dovecot(self):
        r = self.auth(1, 'bob', 'wrong', params=NP + ('rip=192.0.2.44',))
        self.assertEqual(r.cmd, b'FAIL')
        # fail2ban's dovecot filter: the worker's PAM line and the chain's.
        self.assertTrue(self.srv.wait_log(
            r'auth-worker\(\d+\): Info: pam\(bob,192\.0\.2\.44\): pam_authenticate\(\) failed: '
            r'Authentication failure \(password mismatch\?\)'), self.context())
        self.assertTrue(self.srv.wait_log(
            r'auth: Info: pam\(bob,192\.0\.2\.44\): Password mismatch'), self.context())
        self.assertNotIn('wrong', self.srv.log(), 'the password was logged')

    def test_pam_items(self):
        since = self.mark()
        r = self.auth(1, 'alice', 'alicepw', params=NP + ('rip=192.0.2.33', 'lip=192.0.2.1'))
        self.assertEqual(r.cmd, b'OK', 'got %r%s' % (r, self.context()))
        recs = self.records(since, user='alice')
        self.assertEqual(len(recs), 1, 'authenticate records: %r' % (recs,))
        got = {k: recs[0].get(k) for k in ('rhost', 'tty', 'ruser', 'service')}
        want = {'rhost': '192.0.2.33', 'tty': 'dovecot', 'ruser': 'alice', 'service': 'smtp'}
        self.assertEqual(got, want, 'PAM items seen by the module')
        fns = [rec['_'] for rec in read_records(self.log_path)[since:]]
        for fn in ('setcred', 'acct_mgmt', 'open_session', 'close_session'):
            self.assertIn(fn, fns, 'session=yes setcred=yes: %s not called (calls: %r)' % (fn, fns))

    def test_pam_runs_only_in_workers(self):
        since = self.mark()
        for i in range(3):
            self.auth(i + 1, 'alice', 'alicepw')
        recs = read_records(self.log_path)[since:]
        self.assertTrue(recs, 'no PAM calls recorded')
        for rec in recs:
            pid, ppid = int(rec['pid']), int(rec['ppid'])
            self.assertNotEqual(pid, self.apid, 'PAM ran in the auth process: %r' % (rec,))
            self.assertEqual(ppid, self.srv.pid,
                             'PAM ran in %d, a child of %d, not of the root parent %d'
                             % (pid, ppid, self.srv.pid))
            self.assertEqual(rec['uid'], '0', 'PAM did not run as root: %r' % (rec,))
        self.assertNotEqual(os.stat('/proc/%d' % self.apid).st_uid, 0, 'auth process is root')

    def test_credentials_lookup_skips_pam(self):
        since = self.mark()
        with MasterClient(self.srv.path('auth-master'), hello=True) as m:
            m.passdb(1, 'alice', service='smtp')
            r = m.reply()
        self.assertIn(r.cmd, (b'NOTFOUND', b'FAIL'), 'PASS with only PAM: got %r' % (r,))
        self.assertEqual(read_records(self.log_path)[since:], [],
                         'a credentials lookup must not run PAM')

    def test_max_requests_restarts_workers(self):
        for i in range(2 * MAX_REQUESTS + 1):
            r = self.auth(i + 1, 'bob', 'bobpw')
            self.assertEqual(r.cmd, b'OK', 'request %d: got %r%s' % (i, r, self.context()))
        per_pid = {}
        for rec in read_records(self.log_path):
            if rec['_'] == 'authenticate':
                per_pid[rec['pid']] = per_pid.get(rec['pid'], 0) + 1
        over = {p: n for p, n in per_pid.items() if n > MAX_REQUESTS}
        self.assertEqual(over, {}, 'workers served more than max_requests=%d: %r'
                         % (MAX_REQUESTS, per_pid))
        self.assertGreaterEqual(len(per_pid), 3, 'no worker restarted: %r' % (per_pid,))

    def test_slow_module_times_out_others_served(self):
        slow = self.client()
        t0 = time.monotonic()
        slow.auth(90, 'PLAIN', params=NP, resp=b'\0sleepy\0sleepypw')
        self.assertTrue(wait_for(lambda: self.records(0, user='sleepy'), 5.0),
                        'the sleeping module was not reached' + self.context())
        since = self.mark()
        for i in range(5):
            t1 = time.monotonic()
            r = self.auth(i + 1, 'alice', 'alicepw')
            took = time.monotonic() - t1
            self.assertEqual(r.cmd, b'OK', 'alice while a worker sleeps: %r%s' % (r, self.context()))
            self.assertLess(took, 3.0, 'alice took %.1f s while a worker sleeps' % took)
        r = slow.reply(timeout=CLIENT_TIMEOUT + 5)
        took = time.monotonic() - t0
        self.assertEqual((r.cmd, r.get(b'code')), (b'FAIL', b'temp_fail'),
                         'sleeping module: got %r%s' % (r, self.context()))
        self.assertLess(took, CLIENT_TIMEOUT, 'answer after %.1f s, Postfix gives up at 10 s' % took)
        self.assertGreater(took, WORKER_TIMEOUT - 1.5, 'answered after %.1f s?' % took)
        sleeper = int(self.records(0, user='sleepy')[-1]['pid'])
        self.assertTrue(wait_for(lambda: sleeper not in workers(self.srv, self.apid), 5.0),
                        'the stuck worker %d was not killed' % sleeper)
        self.assertNotIn(sleeper, [int(r['pid']) for r in self.records(since)])

    def test_worker_killed_mid_request(self):
        since = self.mark()
        slow = self.client()
        t0 = time.monotonic()
        slow.auth(91, 'PLAIN', params=NP, resp=b'\0sleepy\0sleepypw')
        recs = wait_for(lambda: self.records(since, user='sleepy'), 5.0)
        self.assertTrue(recs, 'the sleeping module was not reached' + self.context())
        victim = int(recs[0]['pid'])
        self.assertEqual(parent_of(victim), self.srv.pid)
        kill(victim)
        r = slow.reply(timeout=CLIENT_TIMEOUT)
        took = time.monotonic() - t0
        self.assertEqual((r.cmd, r.get(b'code')), (b'FAIL', b'temp_fail'),
                         'killed worker: got %r%s' % (r, self.context()))
        self.assertLess(took, WORKER_TIMEOUT - 2, 'the death was noticed only after %.1f s' % took)
        for i in range(3):
            r = self.auth(i + 1, 'alice', 'alicepw')
            self.assertEqual(r.cmd, b'OK', 'after the kill: %r%s' % (r, self.context()))
        live = workers(self.srv, self.apid)
        self.assertNotIn(victim, live)
        self.assertTrue(live, 'the pool was not refilled')
        self.assertIn(int(self.records(since, user='alice')[-1]['pid']), live)


@unittest.skipUnless(server_kind() == 'authd', 'auth workers are authd\'s (issue 7)')
class PostfixPAM(PAMServer, unittest.TestCase):
    """Postfix smtpd (smtpd_sasl_type = dovecot) + swaks against the PAM passdb."""

    @classmethod
    def setUpClass(cls):
        cls.start_server()
        cls.pf = Postfix(cls.srv.path('auth-client'))
        cls.pf.start()
        cls.addClassCleanup(cls.pf.stop)

    def ctx(self, out):
        return '\n--- swaks:\n%s\n--- maillog:\n%s%s' % (out, self.pf.log()[-2000:], self.context())

    def test_swaks(self):
        cases = [
            dict(mech='PLAIN', user='alice', password='alicepw', want=235),
            dict(mech='LOGIN', user='alice', password='alicepw', want=235),
            dict(mech='PLAIN', user='alice', password='wrong', want=535),
            dict(mech='LOGIN', user='bob', password='wrong', want=535),
            dict(mech='PLAIN', user='nosuch', password='x', want=535),
        ]
        for c in cases:
            with self.subTest(**c):
                got, out = swaks_auth(self.pf.port, c['mech'], c['user'], c['password'])
                self.assertEqual(got, c['want'], 'AUTH %s %s: got %s, want %s%s' % (
                    c['mech'], c['user'], got, c['want'], self.ctx(out)))

    def test_rhost_is_the_smtp_client(self):
        since = self.mark()
        src = source_ip()
        got, out = swaks_auth(self.pf.port, 'PLAIN', 'bob', 'bobpw', source=src)
        self.assertEqual(got, 235, self.ctx(out))
        recs = self.records(since, user='bob')
        self.assertTrue(recs, 'no PAM call recorded')
        self.assertEqual((recs[-1]['rhost'], recs[-1]['service']), (src, 'smtp'),
                         'PAM_RHOST/service seen by the module: %r' % (recs[-1],))

    def test_stuck_module_answers_before_postfix_gives_up(self):
        # Postfix turns a FAIL (temp_fail too) into 535 and a silent auth
        # server into 454 after 10 s (spec real-clients.md).
        t0 = time.monotonic()
        got, out = swaks_auth(self.pf.port, 'PLAIN', 'sleepy', 'sleepypw')
        took = time.monotonic() - t0
        self.assertEqual(got, 535, 'a stuck PAM module: got %s, want 535 before Postfix\'s '
                         'timeout%s' % (got, self.ctx(out)))
        self.assertLess(took, CLIENT_TIMEOUT, 'took %.1f s' % took)
        self.assertRegex(self.srv.log(), r'pam\(sleepy,[0-9.]+\): the auth worker timed out')


if __name__ == '__main__':
    unittest.main()
