"""`authctl pw` against the real `doveadm pw` (Dovecot 2.3.19).

Interchangeability (issue 3): for every scheme of `doveadm pw -l`, a hash
made by `authctl pw` verifies with `doveadm pw -t` and a hash made by
`doveadm pw` verifies with `authctl pw -t`, wrong passwords fail both ways;
also with the .HEX/.B64 encodings.  YESCRYPT (authd's addition) is written
as {CRYPT}$y$..., which doveadm verifies; SCRAM-SHA-512 is authd's alone.

Drop-in: stdout, stderr and the exit code are compared byte for byte with
doveadm's for deterministic cases (-l, -s, -t, -V, -u, errors, usage, -r
parsing, prompts on a pseudo-terminal, passwords from stdin); for salted
output the shape is compared (same label, same length, same salt/rounds
prefix).

Daemon: PLAIN logins against a passwd-file holding one user per scheme
(hashes made alternately by authctl and doveadm), right and wrong passwords,
on authd (or Dovecot with AUTHD_TEST_SERVER=dovecot).

Needs doveadm (dovecot-core, installed by `make check`) and the authctl
binary (AUTHCTL_BIN, default build/san/authctl); only the daemon class
starts a server, `pw` itself works offline.

Run: python3 -m unittest tests.daemon.test_pw -v
"""

import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from tests.daemon.dtest import NP, ServerTestCase, plain_data  # noqa: E402
from tests.lib.server import authctl_bin, server_kind  # noqa: E402

RUN_TIMEOUT = 60          # seconds for one run of either tool
PTY_STEP = 0.3            # seconds to let a prompt appear before typing
PW = 'pä ss:w{o}rd!'      # non-ASCII, space, colon, braces
WRONG = 'Pä ss:w{o}rd!'   # differs in the first byte (DES-CRYPT uses 8)
USER = 'user@example.com'

# `doveadm pw -l` of Dovecot 2.3.19, in its order.
DOVEADM_SCHEMES = ('SHA1 SSHA512 SCRAM-SHA-256 BLF-CRYPT PLAIN HMAC-MD5 OTP SHA512 SHA '
                   'DES-CRYPT CRYPT SSHA MD5-CRYPT PLAIN-MD4 PLAIN-MD5 SCRAM-SHA-1 '
                   'SHA512-CRYPT CLEAR CLEARTEXT ARGON2I ARGON2ID SSHA256 MD5 PBKDF2 SHA256 '
                   'CRAM-MD5 PLAIN-TRUNC SHA256-CRYPT SMD5 DIGEST-MD5 LDAP-MD5').split()
ENCODED = ('SHA256.HEX', 'SSHA.B64', 'SSHA512.HEX', 'CRAM-MD5.b64', 'PLAIN.hex',
           'SHA512-CRYPT.HEX', 'DIGEST-MD5.base64', 'PLAIN-MD5.B64', 'SCRAM-SHA-1.hex')

DOVEADM_CONF = '''base_dir = {tmp}/run
state_dir = {tmp}/state
protocols = none
ssl = no
log_path = /dev/stderr
'''


def _doveadm():
    found = shutil.which('doveadm')
    if found:
        return found
    return '/usr/bin/doveadm' if os.access('/usr/bin/doveadm', os.X_OK) else None


class Result:
    def __init__(self, out, err, code):
        self.out, self.err, self.code = out, err, code

    def __repr__(self):
        return 'exit %d, stdout %r, stderr %r' % (self.code, self.out, self.err)


class PwTools:
    """Runs `doveadm pw` (on a private minimal config) and `authctl pw`."""

    def __init__(self):
        if _doveadm() is None:
            raise AssertionError('doveadm is not installed (dovecot-core; `make check` '
                                 'installs it)')
        if not os.access(authctl_bin(), os.X_OK):
            raise AssertionError('authctl is not built: %s' % authctl_bin())
        self.tmp = tempfile.mkdtemp(prefix='authd-pw.')
        self.conf = os.path.join(self.tmp, 'doveadm.conf')
        with open(self.conf, 'w') as fh:
            fh.write(DOVEADM_CONF.replace('{tmp}', self.tmp))

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def argv(self, tool, args):
        if tool == 'doveadm':
            return [_doveadm(), '-c', self.conf, 'pw'] + list(args)
        return [authctl_bin(), 'pw'] + list(args)

    def run_tool(self, tool, args, stdin=b''):
        p = subprocess.run(self.argv(tool, args), input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=RUN_TIMEOUT)
        return Result(p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace'),
                      p.returncode)


class PwTestBase(unittest.TestCase):
    tools = None

    @classmethod
    def setUpClass(cls):
        cls.tools = PwTools()

    @classmethod
    def tearDownClass(cls):
        if cls.tools is not None:
            cls.tools.close()
            cls.tools = None

    def argv(self, tool, args):
        return self.tools.argv(tool, args)

    def run_tool(self, tool, args, stdin=b''):
        return self.tools.run_tool(tool, args, stdin)

    def both(self, args, stdin=b''):
        return self.run_tool('doveadm', args, stdin), self.run_tool('authctl', args, stdin)

    def assertSame(self, args, stdin=b''):
        want, got = self.both(args, stdin)
        self.assertEqual((got.out, got.err, got.code), (want.out, want.err, want.code),
                         'pw %s\n  doveadm: %r\n  authctl: %r' % (' '.join(args), want, got))
        return got

    def generate(self, tool, scheme, pw=PW, extra=()):
        args = ['-s', scheme, '-p', pw] + list(extra)
        if scheme.upper().startswith('DIGEST-MD5'):
            args += ['-u', USER]
        r = self.run_tool(tool, args)
        self.assertEqual(r.code, 0, '%s pw %s: %r' % (tool, ' '.join(args), r))
        self.assertEqual(r.err, '', '%s pw %s: %r' % (tool, ' '.join(args), r))
        self.assertTrue(r.out.endswith('\n') and r.out.count('\n') == 1, repr(r))
        return r.out[:-1]

    def verify(self, tool, value, pw, user=USER):
        return self.run_tool(tool, ['-t', value, '-p', pw, '-u', user])


class CrossVerify(PwTestBase):
    """Hashes of one tool verify in the other, wrong passwords fail."""

    def check_one_way(self, maker, checker, scheme):
        value = self.generate(maker, scheme)
        good = self.verify(checker, value, PW)
        bad = self.verify(checker, value, WRONG)
        if scheme == 'PLAIN-TRUNC':
            # doveadm's quirk: "{PLAIN-TRUNC}password" has no length prefix
            # and verifies nowhere; both tools say so the same way.
            self.assertEqual(value, '{PLAIN-TRUNC}' + PW)
            self.assertEqual((good.code, good.err), (75, 'Fatal: reverse password verification '
                             'check failed: PLAIN-TRUNC missing length: prefix\n'))
            return
        self.assertEqual((good.code, good.out, good.err), (0, value + ' (verified)\n', ''),
                         '%s made %s, %s -t: %r' % (maker, value, checker, good))
        self.assertEqual(bad.code, 75, '%s -t %s with a wrong password: %r' % (checker, value, bad))
        self.assertEqual(bad.out, '')
        self.assertEqual(bad.err, 'Fatal: reverse password verification check failed: '
                         'Password mismatch\n')

    def test_authctl_to_doveadm(self):
        for scheme in DOVEADM_SCHEMES + list(ENCODED):
            with self.subTest(scheme=scheme):
                self.check_one_way('authctl', 'doveadm', scheme)

    def test_doveadm_to_authctl(self):
        for scheme in DOVEADM_SCHEMES + list(ENCODED):
            with self.subTest(scheme=scheme):
                self.check_one_way('doveadm', 'authctl', scheme)

    def test_rounds_both_ways(self):
        for scheme, rounds in (('BLF-CRYPT', '6'), ('SHA256-CRYPT', '7000'),
                               ('SHA512-CRYPT', '1000'), ('PBKDF2', '3'), ('ARGON2I', '3')):
            for maker, checker in (('authctl', 'doveadm'), ('doveadm', 'authctl')):
                with self.subTest(scheme=scheme, maker=maker):
                    value = self.generate(maker, scheme, extra=['-r', rounds])
                    self.assertEqual(self.verify(checker, value, PW).code, 0, value)
                    self.assertEqual(self.verify(checker, value, WRONG).code, 75, value)

    def test_yescrypt(self):
        value = self.generate('authctl', 'YESCRYPT')
        self.assertRegex(value, r'^\{CRYPT\}\$y\$j9T\$[./0-9A-Za-z]{22}\$[./0-9A-Za-z]{43}$')
        self.assertEqual(self.verify('doveadm', value, PW).code, 0)
        self.assertEqual(self.verify('doveadm', value, WRONG).code, 75)
        self.assertEqual(self.verify('authctl', value, PW).code, 0)
        # authd also accepts the label YESCRYPT (doveadm does not know it).
        labelled = '{YESCRYPT}' + value[len('{CRYPT}'):]
        self.assertEqual(self.verify('authctl', labelled, PW).out, labelled + ' (verified)\n')

    def test_scram_sha512(self):
        value = self.generate('authctl', 'SCRAM-SHA-512', extra=['-V'])
        self.assertRegex(value, r'^\{SCRAM-SHA-512\}4096,[A-Za-z0-9+/]{22}==,'
                         r'[A-Za-z0-9+/]{86}==,[A-Za-z0-9+/]{86}== \(verified\)$')
        stored = value[:-len(' (verified)')]
        self.assertEqual(self.verify('authctl', stored, PW).code, 0)
        self.assertEqual(self.verify('authctl', stored, WRONG).code, 75)
        self.assertEqual(self.verify('doveadm', stored, PW).err,
                         'Fatal: reverse decode check failed: Unknown scheme\n')


def shape(line):
    """A salted line with its random parts replaced by their lengths."""
    return re.sub(r'[A-Za-z0-9./+=]{8,}', lambda m: '<%d>' % len(m.group(0)), line)


class SameOutput(PwTestBase):
    """The same output and exit code as doveadm."""

    DETERMINISTIC = [
        ['-l'],
        ['--list'],
        ['-l', '-s', 'foo', '-p', 'x'],
        ['-lp', 'secret'],
        ['-s', 'sha1', '-p', 'secret'],
        ['-s', 'SHA1', '-p', 'secret', '-V'],
        ['-Vs', 'sha1', '-psecret'],
        ['--scheme=sha1', '--plaintext=secret', '--reverse-verify'],
        ['--sch', 'sha1', '-p', 'x'],
        ['-s', 'ssha.hex', '-p', 'secret', '-t', '{SSHA.HEX}b890ddd0121d27d67bc8309935676061e6f7dfe701020304'],
        ['-s', 'sha256.hex', '-p', 'secret', '-V'],
        ['-s', 'CRAM-MD5.b64', '-p', 'secret'],
        ['-s', 'hmac-md5', '-p', 'secret', '-V'],
        ['-s', 'plain', '-p', 'a:b{c}'],
        ['-s', 'PLAIN.hex', '-p', ''],
        ['-s', 'clear', '-p', 'secret', '-V'],
        ['-s', 'PLAIN-TRUNC', '-p', 'secret'],
        ['-s', 'PLAIN-TRUNC', '-p', 'secret', '-V'],
        ['-s', 'PLAIN-MD4', '-p', 'secret', '-V'],
        ['-s', 'ldap-md5', '-p', 'secret'],
        ['-s', 'plain-md5', '-p', 'Password123!'],
        ['-s', 'sha512', '-p', ''],
        # -u and DIGEST-MD5
        ['-s', 'DIGEST-MD5', '-p', 'secret'],
        ['-s', 'DIGEST-MD5', '-p', 'secret', '-u', 'user@example.com'],
        ['-s', 'DIGEST-MD5', '-p', 'secret', '-u', 'user@example.com', '-V'],
        ['-s', 'digest-md5.b64', '-p', 'secret', '-u', 'alice@example.com@realm.test'],
        ['-s', 'DIGEST-MD5', '-p', 'secret', '-u', ''],
        ['-s', 'DIGEST-MD5', '-p', 'secret', '-u', 'a', '-u', 'b'],
        ['-s', 'sha1', '-p', 'secret', '-u', 'ignored'],
        ['-t', '{DIGEST-MD5}30969131580e626606ce70ceaab77719', '-p', 'secret'],
        ['-t', '{DIGEST-MD5}30969131580e626606ce70ceaab77719', '-p', 'secret', '-u', 'user@example.com'],
        ['-t', '{DIGEST-MD5}30969131580e626606ce70ceaab77719', '-p', 'secret', '-u', 'user@example.org'],
        ['-s', 'digest-md5', '-t', '{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ=', '-p', 'secret'],
        # -t
        ['-s', 'sha1', '-t', '{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ=', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{sha1}5en6G6MezRroT3XKqkdPOmY/BfQ=', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{SHA1.hex}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ=', '-p', 'wrong'],
        ['-s', 'sha1', '-t', '$1$IjN6i6en$Ng1R7OXvzeELEYgF/vy2U1$ignored', '-p', 'secret'],
        ['-s', 'sha1', '-t', '$1$IjN6i6en$Ng1R7OXvzeELEYgF/vy2U1', '-p', 'secret'],
        ['-s', 'sha1', '-t', '$1$IjN6i6en', '-p', 'secret'],
        ['-s', 'sha1', '-t', 'nope', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{abc', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{}abc', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{NOSUCH}abc', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{SHA1.xyz}5en6G6MezRroT3XKqkdPOmY/BfQ=', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{SHA1}YWJj', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{SHA1.HEX}zz', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{SSHA}AAAA', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{MD5}abc', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{MD5}5ebe2294ecd0e0f08eab7690d2a6ee69', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{BLF-CRYPT}$6$x', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{BLF-CRYPT}$2y$03$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{PBKDF2}$2$x', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{PBKDF2}$1$salt$abc$8e455ae73af786d64f3a0b291ef71a407519dbe8', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{SCRAM-SHA-256}1000,AAECAwQFBgcICQoLDA0ODw==,THoPhoTAuqyoQsK4dUHncUzgfD8fdmhsgKZhWVqNP5U=,7YiHMMi2OcXGRogub03Ek06JRZ9bkhTOdCzHa5iPLiQ=', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{OTP}SHA1 1 x y', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{OTP}sha1 1024 135dca78a05735a2 dd50eae13155c50b', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{ARGON2I}garbage', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{CRYPT}', '-p', ''],
        ['-s', 'sha1', '-t', '{PLAIN}', '-p', ''],
        ['-s', 'sha1', '-t', '{CRYPT}abNANd1rDfiNc', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{MD5-CRYPT}$6$x', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{CRAM-MD5}00', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{PLAIN-TRUNC}secret', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{PLAIN-TRUNC}3-sec', '-p', 'secret'],
        ['-s', 'sha1', '-t', '{CRYPT}$y$j9T$saltsaltsaltsaltsalt..$.sEGjsaNkAHVWqJqrOMtn/zbOazf8OXUkDRL2gAfSp9', '-p', 'secret'],
        # errors and usage
        ['-s', 'nosuch', '-p', 'secret'],
        ['-s', '', '-p', 'secret'],
        ['-s', 'SHA1.xyz', '-p', 'secret'],
        ['-s', 'nosuch', '-t', '{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ=', '-p', 'secret'],
        ['-s', 'ARGON2I', '-r', '1', '-p', 'secret'],
        ['-s', 'ARGON2I', '-r', '2', '-p', 'secret'],
        ['-l', 'extra'],
        ['a', 'b', '-p', 'x'],
        ['-p', 'secret', '-s', 'sha1', '--', 'extra'],
        ['-x'],
        ['-h'],
        ['--help'],
        ['-p'],
        ['-s'],
        ['-s', 'sha1', '-p', 'x', '-u'],
        ['-s', 'sha1', '-p', 'x', '--plaintext'],
        # -r parsing
        ['-r', '4294967296', '-l'],
        ['-r', '04294967296', '-s', 'sha1', '-p', 'x'],
        ['-r', '9223372036854775807', '-s', 'sha1', '-p', 'x'],
        ['-r', '4294967296', '-s', 'NOSUCH', '-p', 'x'],
        ['-r', 'abc', '-s', 'sha1', '-p', 'x'],
        ['-r', '4294967295', '-s', 'SCRAM-SHA-1', '-t', '{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ=', '-p', 'secret'],
    ]

    def test_deterministic(self):
        for args in self.DETERMINISTIC:
            with self.subTest(args=args):
                self.assertSame(args)

    SALTED = [
        [],
        ['-p', 'secret'],
        ['-p', 'secret', '-V'],
        ['-s', 'crypt', '-p', 'x'],
        ['-s', 'BLF-CRYPT', '-p', 'x', '-r', '3'],
        ['-s', 'BLF-CRYPT', '-p', 'x', '-r', '06'],
        ['-s', 'SHA512-CRYPT', '-p', 'x'],
        ['-s', 'SHA512-CRYPT', '-p', 'x', '-r', '100'],
        ['-s', 'SHA512-CRYPT', '-p', 'x', '-r', '5000'],
        ['-s', 'SHA512-CRYPT', '-p', 'x', '-r', '10000', '-V'],
        ['-s', 'SHA256-CRYPT', '-p', 'x', '-r', '1'],
        ['-s', 'SHA512-CRYPT', '-p', 'x', '-r', 'abc'],
        ['-s', 'SHA512-CRYPT', '-p', 'x', '-r', '12abc'],
        ['-s', 'SHA512-CRYPT', '-p', 'x', '-r', '+2000'],
        ['-s', 'SHA512-CRYPT', '-p', 'x', '-r', ''],
        ['-s', 'SHA512-CRYPT', '-p', 'x', '-r', '-0'],
        ['-s', 'SHA512-CRYPT', '-p', 'x', '-r', '-4294966296'],
        ['-s', 'SHA512-CRYPT', '-p', 'x', '-r', '9223372036854775808'],
        ['-s', 'SHA512-CRYPT', '-p', 'x', '-r', '4294967296', '-r', '5'],
        ['-s', 'SHA512-CRYPT', '-p', 'x', '-r', '5000', '-r', 'abc'],
        ['-s', 'SHA512-CRYPT', '-p', 'x', '--rounds=5'],
        ['-s', 'DES-CRYPT', '-p', 'x', '-V'],
        ['-s', 'MD5-CRYPT', '-p', 'x'],
        ['-s', 'md5', '-p', 'x', '-V'],
        ['-s', 'PBKDF2', '-p', 'x'],
        ['-s', 'PBKDF2', '-p', 'x', '-r', '3'],
        ['-s', 'ARGON2I', '-p', 'x'],
        ['-s', 'ARGON2ID', '-p', 'x'],
        ['-s', 'ARGON2ID', '-p', 'x', '-r', '1'],
        ['-s', 'SCRAM-SHA-1', '-p', 'x', '-r', '10'],
        ['-s', 'scram-sha-256', '-p', 'x', '-V'],
        ['-s', 'OTP', '-p', 'x'],
        ['-s', 'SSHA', '-p', 'x'],
        ['-s', 'ssha256.hex', '-p', 'x', '-V'],
        ['-s', 'SSHA512', '-p', 'x'],
        ['-s', 'SMD5.b64', '-p', 'x'],
    ]

    def test_salted_shapes(self):
        for args in self.SALTED:
            with self.subTest(args=args):
                want, got = self.both(args)
                self.assertEqual((got.code, got.err), (want.code, want.err), args)
                self.assertEqual(shape(got.out), shape(want.out),
                                 'pw %s\n  doveadm: %r\n  authctl: %r' % (' '.join(args), want, got))

    def test_stdin_not_a_terminal(self):
        # One line per prompt, no prompt text; EOF reads as an empty line.
        for stdin in (b'secret\nsecret\n', b'secret\nother\n', b'secret\n', b'',
                      b'a\nb\nc\nd\ne\nf\n', b'secret\r\nsecret\r\n', b'x\ny\nz\nz\n'):
            with self.subTest(stdin=stdin):
                self.assertSame(['-s', 'SHA1'], stdin)
                self.assertSame(['-s', 'SHA1', '-t', '{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ='], stdin)

    def pty_run(self, tool, args, inputs):
        pid, fd = pty.fork()
        if pid == 0:    # child
            try:
                argv = self.argv(tool, args)
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        out = b''
        try:
            for text in list(inputs) + [None]:
                end = time.time() + (PTY_STEP if text is not None else RUN_TIMEOUT)
                while time.time() < end:
                    r, _, _ = select.select([fd], [], [], 0.05)
                    if not r:
                        continue
                    try:
                        data = os.read(fd, 4096)
                    except OSError:
                        data = b''
                    if not data:
                        end = 0
                        break
                    out += data
                if text is not None:
                    os.write(fd, text)
        finally:
            _, status = os.waitpid(pid, 0)
            os.close(fd)
        return out, os.waitstatus_to_exitcode(status)

    def test_prompts(self):
        cases = [
            (['-s', 'SHA1'], [b'secret\n', b'secret\n']),
            (['-s', 'SHA1'], [b'secret\n', b'other\n', b'x\n', b'x\n']),
            (['-s', 'SHA1'], [b'a\n', b'b\n', b'c\n', b'd\n', b'e\n', b'f\n']),
            (['-s', 'SHA1'], [b'\n', b'\n']),
            (['-s', 'SHA1', '-V'], [b'pw\n', b'pw\n']),
            (['-t', '{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ='], [b'secret\n']),
            (['-t', '{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ='], [b'wrong\n']),
            (['-t', '{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ='], [b'\x04']),
        ]
        for args, inputs in cases:
            with self.subTest(args=args, inputs=inputs):
                want = self.pty_run('doveadm', args, inputs)
                got = self.pty_run('authctl', args, inputs)
                self.assertEqual(got, want)
                # The password itself is never echoed.
                for text in inputs:
                    if text.strip():
                        self.assertNotIn(text.strip() + b'\r\n', got[0].replace(b'{SHA1}', b''))


class AuthdAdditions(PwTestBase):
    """--all and --json, which doveadm does not have."""

    def test_list_all(self):
        plain = self.run_tool('authctl', ['-l'])
        self.assertEqual(plain.out, ' '.join(DOVEADM_SCHEMES) + ' \n')
        r = self.run_tool('authctl', ['-l', '--all'])
        self.assertEqual((r.code, r.out), (0, ' '.join(DOVEADM_SCHEMES) + ' YESCRYPT SCRAM-SHA-512 \n'))

    def test_json(self):
        import json
        r = self.run_tool('authctl', ['-l', '--all', '--json'])
        self.assertEqual(json.loads(r.out), {'schemes': DOVEADM_SCHEMES + ['YESCRYPT', 'SCRAM-SHA-512']})
        r = self.run_tool('authctl', ['-s', 'sha1', '-p', 'secret', '--json'])
        self.assertEqual(json.loads(r.out), {'scheme': 'SHA1', 'hash': '{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ='})
        r = self.run_tool('authctl', ['-s', 'plain', '-p', 'a"b\\c\x01', '-V', '--json'])
        self.assertEqual(json.loads(r.out), {'scheme': 'PLAIN', 'hash': '{PLAIN}a"b\\c\x01', 'verified': True})
        r = self.run_tool('authctl', ['-t', '{sha1}5en6G6MezRroT3XKqkdPOmY/BfQ=', '-p', 'x', '--json'])
        self.assertEqual(r.code, 75)
        self.assertEqual(json.loads(r.out), {'scheme': 'sha1', 'hash': '{sha1}5en6G6MezRroT3XKqkdPOmY/BfQ=',
                                             'verified': False, 'error': 'Password mismatch'})
        self.assertEqual(r.err, 'Fatal: reverse password verification check failed: Password mismatch\n')


DAEMON_PW = 'pä ss w{o}rd!'        # a passwd-file field cannot hold ':'
DAEMON_WRONG = 'Pä ss w{o}rd!'


def _user_name(scheme, maker):
    return 'u-%s-%s' % (scheme.lower().replace('.', '-'), maker)


class DaemonPlainPerScheme(ServerTestCase):
    """The daemon authenticates PLAIN against one passwd-file user per scheme."""

    USERS = []         # (name, expect OK with DAEMON_PW)

    @classmethod
    def setUpClass(cls):
        tools = PwTools()
        try:
            lines, users = cls.make_users(tools)
        finally:
            tools.close()
        cls.USERS = users
        cls.FILES = {'users': ''.join(lines)}
        super().setUpClass()

    @classmethod
    def make_users(cls, helper):
        lines, users = [], []
        schemes = [s for s in DOVEADM_SCHEMES if s != 'PLAIN-TRUNC'] + list(ENCODED)
        for i, scheme in enumerate(schemes):
            for maker in ('authctl', 'doveadm') if i % 3 == 0 else \
                    (('authctl',) if i % 3 == 1 else ('doveadm',)):
                name = _user_name(scheme, maker)
                extra = []
                if scheme.upper().startswith('DIGEST-MD5'):
                    # verify splits the login name at its last '@'
                    name += '@example.com'
                    extra = ['-u', name]
                r = helper.run_tool(maker, ['-s', scheme, '-p', DAEMON_PW] + extra)
                assert r.code == 0, (maker, scheme, r)
                lines.append('%s:%s\n' % (name, r.out.strip()))
                users.append(name)
        # PLAIN-TRUNC as it is really stored: "<length>-<password>".
        pw_len = len(DAEMON_PW.encode())
        lines.append('u-plain-trunc:{PLAIN-TRUNC}%d-%s\n' % (pw_len, DAEMON_PW))
        users.append('u-plain-trunc')
        r = helper.run_tool('authctl', ['-s', 'YESCRYPT', '-p', DAEMON_PW])
        lines.append('u-yescrypt:%s\n' % r.out.strip())                     # {CRYPT}$y$...
        users.append('u-yescrypt')
        if server_kind() == 'authd':      # schemes Dovecot 2.3 does not have
            lines.append('u-yescrypt-label:{YESCRYPT}%s\n' % r.out.strip()[len('{CRYPT}'):])
            r = helper.run_tool('authctl', ['-s', 'SCRAM-SHA-512', '-p', DAEMON_PW])
            lines.append('u-scram-sha-512:%s\n' % r.out.strip())
            users += ['u-yescrypt-label', 'u-scram-sha-512']
        return lines, users

    def run_logins(self, password):
        c = self.client()
        for i, name in enumerate(self.USERS, 1):
            c.auth(i, 'PLAIN', params=NP, resp=plain_data(name, password))
        replies = {}
        for _ in self.USERS:
            r = c.reply(timeout=120)
            replies[r.id] = r
        return {name: replies.get(i) for i, name in enumerate(self.USERS, 1)}

    def test_right_password(self):
        got = self.run_logins(DAEMON_PW)
        bad = {n: r for n, r in got.items() if r is None or r.cmd != b'OK'}
        self.assertEqual(bad, {}, 'logins that failed; log:\n' + self.srv.log()[-3000:])

    def test_wrong_password(self):
        got = self.run_logins(DAEMON_WRONG)
        bad = {n: r for n, r in got.items() if r is None or r.cmd != b'FAIL'}
        self.assertEqual(bad, {})


if __name__ == '__main__':
    unittest.main()
