"""Master users, side by side with real Dovecot 2.3: PLAIN/DIGEST-MD5/SCRAM
authzid logins, auth_master_user_separator logins (alice*admin), `pass = yes`,
and the maddy CVE-2023-27582 class (an authzid other than the login name
without a master passdb must fail), over the raw auth-client protocol, through
`doveadm auth test [-M master]`, and through a private Postfix driven by
gsasl (-z authzid), swaks (separator logins) and raw SMTP.

Three setups run under each server, on the same files:
  master    a `master = yes` passdb (admin/masterpw, admin@example.com too
            for DIGEST-MD5 with a realm) before the normal passdb (alice, bob),
            auth_master_user_separator = *
  passyes   the same with `pass = yes` on the master passdb (the target must
            exist in the normal passdbs)
  nomaster  no master passdb (separator still set)
Postfix runs on `master` and `nomaster`. Through Postfix the identity the
session gets is read from Postfix's own log line
(`client=...[<source ip>], sasl_method=..., sasl_username=...`, written after
an accepted RCPT), not from the auth server.

Every answer must be the same under both servers (resp=/rspauth=/v=
replaced by whether they are right), except the cases in DIVERGENT, where
Dovecot 2.3.19 does something authd deliberately does not (each is
explained there); those are checked per server. spec 6.1, 6.4, 6.5, 2.6.
"""

import concurrent.futures
import re
import threading
import unittest

from tests.lib.authproto import AuthClient
from tests.lib.peers import DovecotClientConfig, doveadm, find_binary
from tests.lib.postfix import Postfix, SMTPClient, source_ip, swaks_auth, auth_code
from tests.lib.sasl import (DigestMD5Client, LoginClient, CramMD5Client, PlainClient,
                            ScramClient, gsasl_smtp, run_auth, run_smtp_auth)
from tests.lib.server import AuthServer

KINDS = ('dovecot', 'authd')
WORKERS = 16

CONF = '''
auth_mechanisms = plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256
auth_failure_delay = 0
auth_master_user_separator = *
auth_verbose = yes
%s
passdb {
  driver = passwd-file
  args = scheme=CRYPT username_format=%%u {tmp}/users
}
userdb {
  driver = passwd-file
  args = username_format=%%u {tmp}/users
}
service auth {
  unix_listener auth-client {
    mode = 0660
    user = postfix
    group = postfix
  }
  unix_listener auth-userdb {
    mode = 0600
  }
}
'''
MASTER_PASSDB = '''passdb {
  driver = passwd-file
  args = {tmp}/master.users
  master = yes
%s}'''
SETUPS = {
    'master': MASTER_PASSDB % '',
    'passyes': MASTER_PASSDB % '  pass = yes\n',
    'nomaster': '',
}
POSTFIX_SETUPS = ('master', 'nomaster')
FILES = {
    'users': 'alice:{PLAIN}alicepw:1000:1000::/home/alice\n'
             'bob:{PLAIN}bobpw:1000:1000::/home/bob\n',
    'master.users': 'admin:{PLAIN}masterpw\nadmin@example.com:{PLAIN}masterpw\n',
}

Plain = PlainClient
Digest = DigestMD5Client


def Scram(user, pw, authzid=None, h='SHA-256'):
    return ScramClient(h, user, pw, authzid=authzid)


# (setup, label, client factory, final-resp-ok)
RAW = [
    ('master', 'PLAIN authzid', lambda: Plain('admin', 'masterpw', 'alice'), False),
    ('master', 'PLAIN authzid, wrong master password',
     lambda: Plain('admin', 'bad', 'alice'), False),
    ('master', 'PLAIN authzid, target in no passdb',
     lambda: Plain('admin', 'masterpw', 'nosuch'), False),
    ('master', 'PLAIN authzid, authcid not a master',
     lambda: Plain('bob', 'bobpw', 'alice'), False),
    ('master', 'PLAIN authzid = authcid', lambda: Plain('alice', 'alicepw', 'alice'), False),
    ('master', 'PLAIN master user logs in as itself', lambda: Plain('admin', 'masterpw'), False),
    ('master', 'PLAIN separator', lambda: Plain('alice*admin', 'masterpw'), False),
    ('master', 'PLAIN separator, wrong password', lambda: Plain('alice*admin', 'bad'), False),
    ('master', 'PLAIN separator, not a master', lambda: Plain('alice*bob', 'bobpw'), False),
    ('master', 'LOGIN separator', lambda: LoginClient('alice*admin', 'masterpw'), False),
    ('master', 'CRAM-MD5 separator', lambda: CramMD5Client('alice*admin', 'masterpw'), False),
    ('master', 'DIGEST-MD5 authzid', lambda: Digest('admin', 'masterpw', authzid='alice'), True),
    ('master', 'DIGEST-MD5 authzid, final data as CONT',
     lambda: Digest('admin', 'masterpw', authzid='alice'), False),
    ('master', 'DIGEST-MD5 authzid with realm',
     lambda: Digest('admin', 'masterpw', realm='example.com', authzid='alice'), True),
    ('master', 'DIGEST-MD5 authzid, wrong master password',
     lambda: Digest('admin', 'bad', authzid='alice'), True),
    ('master', 'DIGEST-MD5 authzid, authcid not a master',
     lambda: Digest('bob', 'bobpw', authzid='alice'), True),
    ('master', 'DIGEST-MD5 separator', lambda: Digest('alice*admin', 'masterpw'), True),
    ('master', 'SCRAM-SHA-1 authzid', lambda: Scram('admin', 'masterpw', 'alice', 'SHA-1'), True),
    ('master', 'SCRAM-SHA-256 authzid', lambda: Scram('admin', 'masterpw', 'alice'), True),
    ('master', 'SCRAM-SHA-256 authzid, final data as CONT',
     lambda: Scram('admin', 'masterpw', 'alice'), False),
    ('master', 'SCRAM-SHA-256 authzid, wrong master password',
     lambda: Scram('admin', 'bad', 'alice'), True),
    ('master', 'SCRAM-SHA-256 authzid, authcid not a master',
     lambda: Scram('bob', 'bobpw', 'alice'), True),
    ('master', 'SCRAM-SHA-256 authzid, target in no passdb',
     lambda: Scram('admin', 'masterpw', 'nosuch'), True),
    ('master', 'SCRAM-SHA-256 separator', lambda: Scram('alice*admin', 'masterpw'), True),

    ('passyes', 'PLAIN authzid', lambda: Plain('admin', 'masterpw', 'alice'), False),
    ('passyes', 'PLAIN authzid, target in no passdb',
     lambda: Plain('admin', 'masterpw', 'nosuch'), False),
    ('passyes', 'PLAIN authzid, wrong master password',
     lambda: Plain('admin', 'bad', 'alice'), False),
    ('passyes', 'PLAIN separator', lambda: Plain('alice*admin', 'masterpw'), False),
    ('passyes', 'PLAIN separator, target in no passdb',
     lambda: Plain('nosuch*admin', 'masterpw'), False),
    ('passyes', 'LOGIN separator', lambda: LoginClient('alice*admin', 'masterpw'), False),
    ('passyes', 'CRAM-MD5 separator', lambda: CramMD5Client('alice*admin', 'masterpw'), False),
    ('passyes', 'DIGEST-MD5 authzid', lambda: Digest('admin', 'masterpw', authzid='alice'), True),
    ('passyes', 'SCRAM-SHA-256 authzid', lambda: Scram('admin', 'masterpw', 'alice'), True),
    ('passyes', 'SCRAM-SHA-256 authzid with the target\'s password',
     lambda: Scram('admin', 'alicepw', 'alice'), True),
    ('passyes', 'DIGEST-MD5 authzid with the target\'s password',
     lambda: Digest('admin', 'alicepw', authzid='alice'), True),

    ('nomaster', 'PLAIN authzid', lambda: Plain('bob', 'bobpw', 'alice'), False),
    ('nomaster', 'PLAIN authzid = authcid', lambda: Plain('bob', 'bobpw', 'bob'), False),
    ('nomaster', 'PLAIN separator', lambda: Plain('alice*bob', 'bobpw'), False),
    ('nomaster', 'LOGIN separator', lambda: LoginClient('alice*bob', 'bobpw'), False),
    ('nomaster', 'DIGEST-MD5 authzid', lambda: Digest('bob', 'bobpw', authzid='alice'), True),
    ('nomaster', 'SCRAM-SHA-256 authzid', lambda: Scram('bob', 'bobpw', 'alice'), True),
    ('nomaster', 'SCRAM-SHA-1 authzid', lambda: Scram('bob', 'bobpw', 'alice', 'SHA-1'), True),
]

# (setup, doveadm auth test arguments)
DOVEADM = [
    ('master', ['-M', 'admin', 'alice', 'masterpw']),
    ('master', ['-M', 'admin', 'alice', 'bad']),
    ('master', ['alice*admin', 'masterpw']),
    ('master', ['-M', 'bob', 'alice', 'bobpw']),
    ('master', ['-M', 'alice', 'alice', 'alicepw']),
    ('passyes', ['-M', 'admin', 'alice', 'masterpw']),
    ('passyes', ['-M', 'admin', 'nosuch', 'masterpw']),
    ('nomaster', ['-M', 'bob', 'alice', 'bobpw']),
    ('nomaster', ['alice*bob', 'bobpw']),
]

# (setup, label, tool, arguments); the answer is (SMTP code, sasl_username
# Postfix logged for the session, or None).
SMTP = [
    ('master', 'gsasl PLAIN -z', 'gsasl', dict(mech='PLAIN', user='admin', password='masterpw',
                                              authzid='alice')),
    ('master', 'gsasl PLAIN -z, wrong password', 'gsasl',
     dict(mech='PLAIN', user='admin', password='bad', authzid='alice')),
    ('master', 'gsasl DIGEST-MD5 -z -r', 'gsasl',
     dict(mech='DIGEST-MD5', user='admin', password='masterpw', authzid='alice',
          realm='example.com')),
    ('master', 'gsasl SCRAM-SHA-1 -z', 'gsasl',
     dict(mech='SCRAM-SHA-1', user='admin', password='masterpw', authzid='alice')),
    ('master', 'gsasl SCRAM-SHA-256 -z', 'gsasl',
     dict(mech='SCRAM-SHA-256', user='admin', password='masterpw', authzid='alice')),
    ('master', 'raw PLAIN authzid', 'raw', lambda: Plain('admin', 'masterpw', 'alice')),
    ('master', 'raw DIGEST-MD5 authzid', 'raw',
     lambda: Digest('admin', 'masterpw', authzid='alice')),
    ('master', 'raw SCRAM-SHA-256 authzid', 'raw', lambda: Scram('admin', 'masterpw', 'alice')),
    ('master', 'swaks PLAIN separator', 'swaks', ('PLAIN', 'alice*admin', 'masterpw')),
    ('master', 'swaks LOGIN separator', 'swaks', ('LOGIN', 'alice*admin', 'masterpw')),
    ('master', 'swaks CRAM-MD5 separator', 'swaks', ('CRAM-MD5', 'alice*admin', 'masterpw')),
    ('master', 'swaks PLAIN separator, wrong password', 'swaks', ('PLAIN', 'alice*admin', 'bad')),
    ('nomaster', 'raw PLAIN authzid', 'raw', lambda: Plain('bob', 'bobpw', 'alice')),
    ('nomaster', 'raw PLAIN', 'raw', lambda: Plain('bob', 'bobpw')),
    ('nomaster', 'gsasl PLAIN -z', 'gsasl', dict(mech='PLAIN', user='bob', password='bobpw',
                                                authzid='alice')),
    ('nomaster', 'gsasl SCRAM-SHA-256 -z', 'gsasl',
     dict(mech='SCRAM-SHA-256', user='bob', password='bobpw', authzid='alice')),
    ('nomaster', 'swaks PLAIN separator', 'swaks', ('PLAIN', 'alice*bob', 'bobpw')),
]

# Cases where Dovecot 2.3.19 and authd differ on purpose: label ->
# {kind: (verdict, user=)} and why.
SEPARATOR_WHY = (
    'spec 5.2: DIGEST-MD5 credentials are made from the name the client hashed '
    '("alice*admin"); Dovecot 2.3 hashes the master part only, so no real client can '
    'log in this way there')
PASS_YES_WHY = (
    'with pass = yes Dovecot 2.3 takes the CRAM-MD5/DIGEST-MD5/SCRAM credentials from the '
    '*target* user\'s passdb entry: the master password fails, and the target\'s own '
    'password passes as a master login (auth_user=admin) - the master password is never '
    'checked. authd checks the master\'s credentials and only requires the target to '
    'exist (spec 6.1)')
DIVERGENT = {
    'master: DIGEST-MD5 separator': dict(
        dovecot=('FAIL', 'alice'), authd=('OK', 'alice'), why=SEPARATOR_WHY),
    'passyes: CRAM-MD5 separator': dict(
        dovecot=('FAIL', 'alice'), authd=('OK', 'alice'), why=PASS_YES_WHY),
    'passyes: DIGEST-MD5 authzid': dict(
        dovecot=('FAIL', 'alice'), authd=('OK', 'alice'), why=PASS_YES_WHY),
    'passyes: SCRAM-SHA-256 authzid': dict(
        dovecot=('FAIL', 'alice'), authd=('OK', 'alice'), why=PASS_YES_WHY),
    'passyes: SCRAM-SHA-256 authzid with the target\'s password': dict(
        dovecot=('OK', 'alice'), authd=('FAIL', 'alice'), why=PASS_YES_WHY),
    'passyes: DIGEST-MD5 authzid with the target\'s password': dict(
        dovecot=('OK', 'alice'), authd=('FAIL', 'alice'), why=PASS_YES_WHY),
}

SASL_LOG_RE = r'client=[^\[]*\[%s\], sasl_method=\S+, sasl_username=(\S+)'


def raw_answer(srv, factory, final_resp_ok):
    with AuthClient(srv.path('auth-client'), hello=True, timeout=15) as c:
        res = run_auth(c, 1, factory(), params=('no-penalty',), final_resp_ok=final_resp_ok)
    fields = res.reply.raw.decode('utf-8', 'replace').split('\t')
    fields = fields[:2] + [f for f in fields[2:] if f != '']
    fields = ['resp=<%s>' % ('valid' if res.final_valid else 'INVALID')
              if f.startswith('resp=') else f for f in fields]
    final = None if res.final_via is None else '%s:%s' % (
        res.final_via, 'valid' if res.final_valid else 'INVALID')
    return '\t'.join(fields), final


def doveadm_answer(srv, cfg, args, n):
    argv = ['auth', 'test', '-a', srv.path('auth-client'), '-x', 'rip=127.77.%d.%d' % (
        n // 200, 1 + n % 200)] + args
    r = doveadm(cfg, *argv)
    lines = [l.rstrip() for l in r.stdout.splitlines() if l.strip()]
    return 'exit %d\n%s' % (r.returncode, '\n'.join(lines))


def sasl_username(pf, source):
    m = pf.wait_log(SASL_LOG_RE % re.escape(source), 3.0)
    return m.group(1) if m else None


def smtp_answer(pf, tool, spec):
    """(code that ended AUTH, sasl_username Postfix logged for the session)."""
    source = source_ip()
    if tool == 'gsasl':
        code, out = gsasl_smtp(pf.port, source=source, **spec)
        return code, None        # gsasl ends the session after AUTH
    if tool == 'swaks':
        mech, user, pw = spec
        code, out = swaks_auth(pf.port, mech, user, pw, source=source, extra=[
            '--quit-after', 'RCPT', '--from', 'm@example.net', '--to', 'x@remote.example'])
        code = auth_code(out)
    else:
        with SMTPClient(pf.port, source=source) as c:
            c.ehlo()
            code = run_smtp_auth(c, spec()).reply[0]
            if code == 235:
                c.cmd('MAIL FROM:<m@example.net>')
                c.cmd('RCPT TO:<x@remote.example>')
    return code, (sasl_username(pf, source) if code == 235 else None)


def run_kind(kind):
    """Start the three setups (and two Postfix instances) under kind, run every
    case; returns ({label: answer}, {setup: log})."""
    servers, postfixes = {}, {}
    try:
        for setup, passdb in SETUPS.items():
            servers[setup] = AuthServer(kind, CONF % passdb, files=dict(FILES)).start()
        starters = []
        for setup in POSTFIX_SETUPS:
            postfixes[setup] = Postfix(servers[setup].path('auth-client'))
            t = threading.Thread(target=postfixes[setup].start)
            t.start()
            starters.append(t)
        for t in starters:
            t.join()
        for setup, pf in postfixes.items():
            if pf.port is None or pf.master_pid is None:
                raise AssertionError('%s: Postfix for %s did not start:\n%s'
                                     % (kind, setup, pf.log()[-2000:]))
        cfgs = {s: DovecotClientConfig(srv.tmp, srv.path('auth-userdb'))
                for s, srv in servers.items()}
        jobs = {}
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
            for setup, label, factory, fro in RAW:
                jobs['%s: %s' % (setup, label)] = ex.submit(raw_answer, servers[setup],
                                                            factory, fro)
            for n, (setup, args) in enumerate(DOVEADM):
                jobs['%s: doveadm auth test %s' % (setup, ' '.join(args))] = ex.submit(
                    doveadm_answer, servers[setup], cfgs[setup], args, n)
            for setup, label, tool, spec in SMTP:
                jobs['%s: postfix %s' % (setup, label)] = ex.submit(
                    smtp_answer, postfixes[setup], tool, spec)
            answers = {}
            for label, f in jobs.items():
                try:
                    answers[label] = f.result()
                except Exception as e:     # a broken answer is an answer to compare
                    answers[label] = '<%s: %s>' % (type(e).__name__, e)
        logs = {s: srv.log() for s, srv in servers.items()}
        for setup, srv in servers.items():
            if not srv.alive():
                answers['%s: server alive' % setup] = False
    finally:
        for pf in postfixes.values():
            pf.stop()
        for srv in servers.values():
            srv.stop()
    for setup, srv in servers.items():
        crash = srv.crash_report()
        if crash:
            raise AssertionError('%s (%s) crashed:\n%s' % (kind, setup, crash))
    return answers, logs


def verdict(answer):
    """(OK|FAIL, user=) of a raw answer."""
    line = answer[0] if isinstance(answer, tuple) else str(answer)
    fields = line.split('\t')
    user = next((f[5:] for f in fields[2:] if f.startswith('user=')), None)
    return fields[0], user


class MasterUsers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for prog in ('dovecot', 'doveadm', 'postfix', 'swaks', 'gsasl'):
            find_binary(prog)
        cls.answers, cls.logs = {}, {}
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            runs = {kind: ex.submit(run_kind, kind) for kind in KINDS}
            for kind, f in runs.items():
                cls.answers[kind], cls.logs[kind] = f.result()

    def context(self, kind='authd'):
        return '\n--- %s logs (tails):\n%s' % (kind, '\n'.join(
            '[%s]\n%s' % (s, log[-1500:]) for s, log in self.logs[kind].items()))

    def test_same_answers(self):
        ref, got = self.answers['dovecot'], self.answers['authd']
        for label in ref:
            if label in DIVERGENT:
                continue
            with self.subTest(label):
                self.assertEqual(got.get(label), ref[label], '%s:\n  authd   %r\n  dovecot %r%s'
                                 % (label, got.get(label), ref[label], self.context()))

    def test_divergent_cases(self):
        for label, want in DIVERGENT.items():
            for kind in KINDS:
                with self.subTest(label=label, kind=kind):
                    self.assertEqual(verdict(self.answers[kind][label]), want[kind],
                                     '%s under %s: %r (%s)%s' % (
                                         label, kind, self.answers[kind][label],
                                         want['why'], self.context(kind)))

    def test_reference_answers_are_real(self):
        """The reference produced what spec 6.1/2.6 describe (guards against
        comparing two broken runs)."""
        ref = self.answers['dovecot']
        master_ok = 'OK\t1\tuser=alice\toriginal_user=admin\tauth_user=admin'
        want = {
            'master: PLAIN authzid': (master_ok, None),
            'master: PLAIN separator': (master_ok, None),
            'master: PLAIN authzid, authcid not a master': ('FAIL\t1\tuser=bob', None),
            'master: PLAIN master user logs in as itself': ('FAIL\t1\tuser=admin', None),
            'master: SCRAM-SHA-256 authzid': (
                'OK\t1\tuser=alice\tresp=<valid>\toriginal_user=admin\tauth_user=admin',
                'resp:valid'),
            'master: DIGEST-MD5 authzid, final data as CONT': (master_ok, 'cont:valid'),
            'nomaster: PLAIN authzid': ('FAIL\t1\tuser=bob', None),
            'master: postfix raw PLAIN authzid': (235, 'alice'),
            'master: postfix swaks CRAM-MD5 separator': (235, 'alice'),
            'master: postfix gsasl SCRAM-SHA-256 -z': (235, None),
            'nomaster: postfix raw PLAIN authzid': (535, None),
            'nomaster: postfix raw PLAIN': (235, 'bob'),
        }
        for label, answer in want.items():
            with self.subTest(label):
                self.assertEqual(ref[label], answer, self.context('dovecot'))

    def test_no_master_never_logs_in_as_target(self):
        """CVE-2023-27582 class: without a master passdb an authzid (or the
        separator) never yields the target user, on either server, through
        any path."""
        for kind in KINDS:
            for label, answer in self.answers[kind].items():
                if not label.startswith('nomaster:') or 'authzid =' in label \
                        or label == 'nomaster: postfix raw PLAIN':
                    continue
                with self.subTest(kind=kind, label=label):
                    if isinstance(answer, tuple) and isinstance(answer[0], int):
                        self.assertEqual(answer, (535, None))     # SMTP
                        continue
                    text = answer[0] if isinstance(answer, tuple) else str(answer)
                    self.assertNotIn('user=alice', text)
                    self.assertTrue(text.startswith(('FAIL\t', 'exit 77\n')), text)


if __name__ == '__main__':
    unittest.main()
