"""Side by side: the mechanism x stored-scheme matrix of spec 5.3 under real
Dovecot 2.3 (the reference) and under authd, on the same passwd-file.

Rows: users stored as {PLAIN}, {CRAM-MD5}, {DIGEST-MD5} (of user@realm),
{SCRAM-SHA-1}, {SCRAM-SHA-256} and {SHA512-CRYPT}, each made by `doveadm pw`,
plus an unknown user. Columns: PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5 with a realm
(username "plain", realm "example.com": looked up as plain@example.com) and
without one (username "plain@example.com"), SCRAM-SHA-1, SCRAM-SHA-256. Each
cell is run with the right and a wrong password, once as Postfix does it
(final server data as one more CONT) and once with final-resp-ok (final data
in OK resp=), over the raw auth-client protocol with the clients of
tests/lib/sasl.py. Compared: the whole OK/FAIL line, except that resp=
(rspauth=/v= differ with each nonce) is replaced by whether it is what the
password implies; the way the final data came; and the "Requested X scheme,
but we have only Y" log lines (auth_verbose = yes).

SCRAM-SHA-512 exists in authd only: it is checked against authd alone, with
the same client, on {PLAIN}, {SCRAM-SHA-512}, {SCRAM-SHA-256} and
{SHA512-CRYPT} users.
"""

import base64
import collections
import concurrent.futures
import re
import subprocess
import time
import unittest

from tests.lib.authproto import AuthClient
from tests.lib.peers import find_binary
from tests.lib.sasl import (CramMD5Client, DigestMD5Client, LoginClient, PlainClient,
                            ScramClient, run_auth, scram_stored)
from tests.lib.server import AuthServer

REALM = 'example.com'
MECHANISMS = 'plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256'
WORKERS = 32

# row -> doveadm pw scheme (None: not in the passwd-file)
ROWS = collections.OrderedDict([
    ('plain', 'PLAIN'), ('cram', 'CRAM-MD5'), ('digest', 'DIGEST-MD5'),
    ('scram1', 'SCRAM-SHA-1'), ('scram256', 'SCRAM-SHA-256'), ('crypt', 'SHA512-CRYPT'),
    ('nosuch', None),
])
COLUMNS = ['PLAIN', 'LOGIN', 'CRAM-MD5', 'DIGEST-MD5 realm', 'DIGEST-MD5 no realm',
           'SCRAM-SHA-1', 'SCRAM-SHA-256']

# spec 5.3: the cells where the right password succeeds
SPEC_OK = {
    'plain': set(COLUMNS),
    'cram': {'PLAIN', 'LOGIN', 'CRAM-MD5'},
    'digest': {'PLAIN', 'LOGIN', 'DIGEST-MD5 realm'},
    'scram1': {'PLAIN', 'LOGIN', 'SCRAM-SHA-1'},
    'scram256': {'PLAIN', 'LOGIN', 'SCRAM-SHA-256'},
    'crypt': {'PLAIN', 'LOGIN'},
    'nosuch': set(),
}

CONF = '''
auth_mechanisms = %s
auth_failure_delay = 0
auth_realms = ''' + REALM + '''
auth_verbose = yes
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
    mode = 0600
  }
}
'''

SCHEME_LOG_RE = re.compile(r'passwd-file\(([^),]*)[^)]*\): Requested (\S+) scheme, '
                           r'but we have only (\S+)')


def full(row):
    return '%s@%s' % (row, REALM)


def password(row, right):
    return row + 'pw' if right else 'wrong-' + row


def doveadm_pw(scheme, pw, user=None):
    argv = [find_binary('doveadm'), 'pw', '-s', scheme, '-p', pw] + (['-u', user] if user else [])
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    if r.returncode != 0:
        raise AssertionError('doveadm pw %s failed: %s' % (scheme, r.stderr.decode()))
    return r.stdout.decode().strip()


def users_file(extra=()):
    """The shared passwd-file: one user per stored scheme (doveadm pw)."""
    lines = []
    for row, scheme in ROWS.items():
        if scheme is None:
            continue
        if scheme == 'PLAIN':
            stored = '{PLAIN}' + password(row, True)
        elif scheme == 'DIGEST-MD5':
            stored = doveadm_pw(scheme, password(row, True), full(row))
        else:
            stored = doveadm_pw(scheme, password(row, True))
        lines.append('%s:%s:1000:1000::/home/%s' % (full(row), stored, row))
    lines += list(extra)
    return '\n'.join(lines) + '\n'


def make_client(column, row, right):
    """The sasl.py client for one cell."""
    pw = password(row, right)
    if column == 'PLAIN':
        return PlainClient(full(row), pw)
    if column == 'LOGIN':
        return LoginClient(full(row), pw)
    if column == 'CRAM-MD5':
        return CramMD5Client(full(row), pw)
    if column == 'DIGEST-MD5 realm':
        return DigestMD5Client(row, pw, realm=REALM)
    if column == 'DIGEST-MD5 no realm':
        return DigestMD5Client(full(row), pw)
    return ScramClient(column[len('SCRAM-'):], full(row), pw)


def normalise(res):
    """One cell's answer: the OK/FAIL line with resp=<b64> replaced by
    resp=<valid|INVALID>, plus how final data came (and whether it was right)."""
    if isinstance(res, Exception):
        return '<%s: %s>' % (type(res).__name__, res)
    fields = res.reply.raw.decode('utf-8', 'replace').split('\t')
    fields = fields[:2] + [f for f in fields[2:] if f != '']
    fields = ['resp=<%s>' % ('valid' if res.final_valid else 'INVALID')
              if f.startswith('resp=') else f for f in fields]
    final = None
    if res.final_via is not None:
        final = '%s:%s' % (res.final_via, 'valid' if res.final_valid else 'INVALID')
    return '\t'.join(fields), final


def run_cell(path, column, row, right, final_resp_ok):
    try:
        with AuthClient(path, hello=True, timeout=15) as c:
            return run_auth(c, 1, make_client(column, row, right), params=('no-penalty',),
                            final_resp_ok=final_resp_ok)
    except Exception as e:      # a broken answer is an answer to compare
        return e


def run_cells(srv, cells):
    """{cell: normalised answer} for cells (column, row, right, final_resp_ok)."""
    path = srv.path('auth-client')
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
        futures = {cell: ex.submit(run_cell, path, *cell) for cell in cells}
        return {cell: normalise(f.result()) for cell, f in futures.items()}


def scheme_log_lines(log):
    """Counter of (user, wanted scheme, stored scheme) from the log."""
    return collections.Counter(SCHEME_LOG_RE.findall(log))


def settled_log(srv, quiet=0.3, timeout=5.0):
    """The server's log once it stopped growing for `quiet` seconds
    (Dovecot writes through its log process, a little after the replies)."""
    deadline = time.monotonic() + timeout
    last = srv.log()
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = srv.log()
        if now == last:
            break
        last = now
    return last


ALL_CELLS = [(col, row, right, fro) for row in ROWS for col in COLUMNS
             for right in (True, False) for fro in (False, True)]


class MechanismMatrix(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        find_binary('dovecot')
        users = users_file()
        cls.answers, cls.logs = {}, {}
        for kind in ('dovecot', 'authd'):
            with AuthServer(kind, CONF % MECHANISMS, files={'users': users}) as srv:
                cls.answers[kind] = run_cells(srv, ALL_CELLS)
                cls.logs[kind] = settled_log(srv)
                crash = srv.crash_report()
            if crash:
                raise AssertionError('%s crashed:\n%s' % (kind, crash))

    def cell_label(self, cell):
        col, row, right, fro = cell
        return '%s x %s (%s password%s)' % (col, ROWS[row] or 'unknown user',
                                            'right' if right else 'wrong',
                                            ', final-resp-ok' if fro else '')

    def test_reference_follows_spec_table(self):
        """Guard against comparing with a broken reference: Dovecot's OK cells
        are exactly spec 5.3's; every other cell is FAIL user=<name>."""
        ref = self.answers['dovecot']
        for cell in ALL_CELLS:
            col, row, right, fro = cell
            line, final = ref[cell]
            ok = right and col in SPEC_OK[row]
            user = full(row)
            with self.subTest(self.cell_label(cell)):
                if ok:
                    self.assertRegex(line, r'^OK\t1\tuser=%s(\t|$)' % re.escape(user))
                else:
                    self.assertEqual(line, 'FAIL\t1\tuser=%s' % user)

    def test_authd_same_as_dovecot(self):
        ref, got = self.answers['dovecot'], self.answers['authd']
        for cell in ALL_CELLS:
            with self.subTest(self.cell_label(cell)):
                self.assertEqual(got[cell], ref[cell], '%s: authd %r, dovecot %r\n--- authd '
                                 'log (tail):\n%s' % (self.cell_label(cell), got[cell],
                                                      ref[cell], self.logs['authd'][-2000:]))

    def test_final_data_both_ways(self):
        """spec 2.7: DIGEST-MD5 rspauth= and SCRAM v= come inside OK as resp=
        with final-resp-ok, else as one more CONT (answered by an empty CONT)
        before a bare OK; on both servers, and always correct."""
        for kind in ('dovecot', 'authd'):
            for cell, (line, final) in self.answers[kind].items():
                col, row, right, fro = cell
                if not line.startswith('OK') or col in ('PLAIN', 'LOGIN', 'CRAM-MD5'):
                    continue
                with self.subTest(kind=kind, cell=self.cell_label(cell)):
                    if fro:
                        self.assertEqual(final, 'resp:valid')
                        self.assertEqual(line, 'OK\t1\tuser=%s\tresp=<valid>' % full(row))
                    else:
                        self.assertEqual(final, 'cont:valid')
                        self.assertEqual(line, 'OK\t1\tuser=%s' % full(row))

    def test_scheme_not_available_log(self):
        """5.2: each cell that fails because the stored scheme cannot give the
        wanted credentials logs "Requested X scheme, but we have only Y";
        authd logs the same lines as Dovecot."""
        ref = scheme_log_lines(self.logs['dovecot'])
        got = scheme_log_lines(self.logs['authd'])
        self.assertIn((full('crypt'), 'CRAM-MD5', 'SHA512-CRYPT'), ref, self.logs['dovecot'])
        self.assertIn((full('scram256'), 'SCRAM-SHA-1', 'SCRAM-SHA-256'), ref)
        self.assertEqual(sorted(got.items()), sorted(ref.items()),
                         'authd log lines differ from Dovecot\'s\n--- authd log (tail):\n%s'
                         % self.logs['authd'][-3000:])


class ScramSha512(unittest.TestCase):
    """SCRAM-SHA-512 (authd only; Dovecot 2.3 lacks it)."""

    @classmethod
    def setUpClass(cls):
        extra = ['%s:%s:1000:1000::/home/scram512' % (full('scram512'),
                                                      scram_stored('SHA-512', 'scram512pw'))]
        cls.srv = AuthServer('authd', CONF % (MECHANISMS + ' scram-sha-512'),
                             files={'users': users_file(extra)})
        cls.srv.start()
        cls.addClassCleanup(cls.srv.stop)

    def run_one(self, row, right, final_resp_ok, column='SCRAM-SHA-512', pw=None):
        cl = ScramClient('SHA-512', full(row), pw or password(row, right)) \
            if column == 'SCRAM-SHA-512' else make_client(column, row, right)
        with AuthClient(self.srv.path('auth-client'), hello=True, timeout=15) as c:
            return run_auth(c, 1, cl, params=('no-penalty',), final_resp_ok=final_resp_ok)

    def test_sha512_cells(self):
        cells = [(row, right, fro) for row in ('plain', 'scram512', 'scram256', 'crypt', 'nosuch')
                 for right in (True, False) for fro in (False, True)]
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
            futures = {cell: ex.submit(self.run_one, *cell) for cell in cells}
            got = {cell: f.result() for cell, f in futures.items()}
        for (row, right, fro), res in got.items():
            with self.subTest(row=row, right=right, final_resp_ok=fro):
                if right and row in ('plain', 'scram512'):
                    self.assertEqual(res.reply.cmd, b'OK', res)
                    self.assertEqual(res.reply.words[0], b'user=' + full(row).encode())
                    self.assertEqual(res.final_via, 'resp' if fro else 'cont', res)
                    self.assertTrue(res.final_valid, res)
                    want = [b'user=' + full(row).encode()]
                    if fro:
                        want.append(b'resp=' + base64.b64encode(res.final_data))
                    self.assertEqual(res.reply.fieldset(), sorted(want))
                else:
                    self.assertEqual(res.reply.raw, b'FAIL\t1\tuser=' + full(row).encode())
        # server-first: 64 nonce characters after ours, the stored salt/iterations
        first = got[('scram512', True, False)].challenges[0]
        self.assertRegex(first, rb'^r=[^,]+,s=[A-Za-z0-9+/=]+,i=4096$')
        log = self.srv.log()
        for want in ('Requested SCRAM-SHA-512 scheme, but we have only SCRAM-SHA-256',
                     'Requested SCRAM-SHA-512 scheme, but we have only SHA512-CRYPT'):
            self.assertIn(want, log)

    def test_plaintext_mechs_verify_sha512_credential(self):
        for col in ('PLAIN', 'LOGIN'):
            with self.subTest(col):
                res = self.run_one('scram512', True, False, column=col)
                self.assertEqual(res.reply.raw, b'OK\t1\tuser=' + full('scram512').encode())

    def test_other_scram_fails_on_sha512_credential(self):
        res = self.run_one('scram512', True, False, column='SCRAM-SHA-256')
        self.assertEqual(res.reply.raw, b'FAIL\t1\tuser=' + full('scram512').encode())
        self.assertIn('Requested SCRAM-SHA-256 scheme, but we have only SCRAM-SHA-512',
                      self.srv.log())


if __name__ == '__main__':
    unittest.main()
