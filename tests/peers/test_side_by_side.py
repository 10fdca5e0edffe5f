"""Side by side: the same config, users and requests run under real Dovecot
2.3 (the reference) and under authd; every answer must be the same, ids aside.

This test always starts both kinds, whatever AUTHD_TEST_SERVER says. With
AUTHD_SIDE_BY_SIDE_SELFTEST=1 it runs Dovecot against Dovecot instead, to
check the comparison itself without authd.

Compared: the auth-client handshake (SPID/CUID/COOKIE values masked), PLAIN
and LOGIN dialogues on the raw protocol (right and wrong password, unknown,
denied, nologin and renamed users, a name that the server lower-cases, a few
protocol corner cases), USER/PASS/LIST on auth-userdb and auth-master, and the
output and exit code of `doveadm auth test`, `doveadm auth lookup` and
`doveadm user`. Normalised away: process ids, connection ids, cookies, the
servers' temp dir path, and empty fields in OK/FAIL/USER/PASS lines (Dovecot
leaves a trailing TAB after hidden passdb fields; the spec lets a compatible
server omit it).

Known, deliberate difference not exercised here: authd answers FAIL with the
passdb reason for a `nologin` user when the AUTH line carries the `nologin`
parameter (Postfix and Exim send it), where Dovecot answers OK; the requests
below do not send that parameter (test_postfix.py covers it).
"""

import os
import re
import unittest

from tests.lib.peers import (AuthClient, DovecotClientConfig, MasterClient, doveadm,
                             find_binary, standard_conf, standard_users, user_ids)
from tests.lib.server import AuthServer

REFERENCE = 'dovecot'


def other_kind():
    return 'dovecot' if os.environ.get('AUTHD_SIDE_BY_SIDE_SELFTEST') else 'authd'


def rip(n):
    """A distinct remote address per request, the same for both servers: the
    failure penalty is keyed on rip, so one case's failure cannot delay the
    next (and delays would differ between runs)."""
    return 'rip=127.66.%d.%d' % (n // 250, 1 + n % 250)


# (label, mech, extra AUTH params, initial response, CONT data, client minor)
# initial response: bytes are base64-encoded; a str is put after resp= as is.
AUTH_CASES = [
    ('plain ok', 'PLAIN', [], b'\0alice\0alicepw', [], 2),
    ('plain wrong password', 'PLAIN', [], b'\0alice\0wrong', [], 2),
    ('plain empty password', 'PLAIN', [], b'\0alice\0', [], 2),
    ('plain unknown user', 'PLAIN', [], b'\0nosuch\0alicepw', [], 2),
    ('plain denied user', 'PLAIN', [], b'\0eve\0evepw', [], 2),
    ('plain nologin user', 'PLAIN', [], b'\0frank\0frankpw', [], 2),
    ('plain renamed user', 'PLAIN', [], b'\0quinn\0quinnpw', [], 2),
    ('plain upper-case name', 'PLAIN', [], b'\0ALICE\0alicepw', [], 2),
    ('plain crypt user', 'PLAIN', [], b'\0carol\0carolpw', [], 2),
    ('plain crypt wrong', 'PLAIN', [], b'\0carol\0alicepw', [], 2),
    ('plain authzid = authcid', 'PLAIN', [], b'alice\0alice\0alicepw', [], 2),
    ('plain lower-case mech', 'plain', [], b'\0alice\0alicepw', [], 0),
    ('plain no initial response', 'PLAIN', [], None, [b'\0alice\0alicepw'], 2),
    ('plain empty resp= minor 0', 'PLAIN', [], '', [b'\0alice\0alicepw'], 0),
    ('plain malformed', 'PLAIN', [], b'alice\0alicepw', [], 2),
    ('plain bad base64', 'PLAIN', [], '@@@@', [], 2),
    ('plain postfix-style', 'PLAIN', ['lip=127.0.0.1'], b'\0alice\0alicepw', [], 0),
    ('login ok', 'LOGIN', [], None, [b'alice', b'alicepw'], 2),
    ('login wrong password', 'LOGIN', [], None, [b'alice', b'wrong'], 2),
    ('login unknown user', 'LOGIN', [], None, [b'nosuch', b'x'], 2),
    ('login initial response', 'LOGIN', [], b'alice', [b'alicepw'], 2),
    ('login denied user', 'LOGIN', [], None, [b'eve', b'evepw'], 2),
    ('login renamed user', 'LOGIN', [], None, [b'quinn', b'quinnpw'], 2),
    ('login lower-case mech', 'login', [], None, [b'ALICE', b'alicepw'], 0),
]

# (label, socket, command, args)
MASTER_CASES = [
    ('USER alice', 'auth-userdb', 'USER', ['alice', 'service=lda']),
    ('USER upper-case', 'auth-userdb', 'USER', ['ALICE', 'service=lda']),
    ('USER carol', 'auth-userdb', 'USER', ['carol', 'service=doveadm']),
    ('USER unknown', 'auth-userdb', 'USER', ['nosuch', 'service=lda']),
    ('USER master socket', 'auth-master', 'USER', ['alice', 'service=lda']),
    ('PASS alice', 'auth-userdb', 'PASS', ['alice', 'service=doveadm']),
    ('PASS nologin user', 'auth-userdb', 'PASS', ['frank', 'service=doveadm']),
    ('PASS renamed user', 'auth-userdb', 'PASS', ['quinn', 'service=doveadm']),
    ('PASS unknown', 'auth-userdb', 'PASS', ['nosuch', 'service=doveadm']),
    ('PASS denied', 'auth-userdb', 'PASS', ['eve', 'service=doveadm']),
    ('PASS master socket', 'auth-master', 'PASS', ['alice', 'service=doveadm']),
    ('LIST', 'auth-userdb', 'LIST', ['service=doveadm']),
    ('LIST user=*', 'auth-master', 'LIST', ['user=*', 'service=doveadm']),
]

# doveadm arguments; {auth-client} etc. become the server's socket paths.
DOVEADM_CASES = [
    ['auth', 'test', '-a', '{auth-client}', 'alice', 'alicepw'],
    ['auth', 'test', '-a', '{auth-client}', 'alice', 'wrong'],
    ['auth', 'test', '-a', '{auth-client}', 'nosuch', 'alicepw'],
    ['auth', 'test', '-a', '{auth-client}', 'eve', 'evepw'],
    ['auth', 'test', '-a', '{auth-client}', 'frank', 'frankpw'],
    ['auth', 'test', '-a', '{auth-client}', 'quinn', 'quinnpw'],
    ['auth', 'test', '-a', '{auth-client}', 'ALICE', 'alicepw'],
    ['auth', 'test', '-a', '{auth-client}', '-x', 'service=imap', 'carol', 'carolpw'],
    ['auth', 'lookup', '-a', '{auth-userdb}', 'alice'],
    ['auth', 'lookup', '-a', '{auth-userdb}', 'frank'],
    ['auth', 'lookup', '-a', '{auth-master}', 'nosuch'],
    ['user', 'alice'],
    ['user', 'ALICE'],
    ['user', 'nosuch'],
    ['user', '-a', '{auth-master}', 'carol'],
    ['user', '-u', 'alice'],
    ['user', '*'],
]

MASK_VALUES = ('SPID', 'CUID', 'COOKIE')
DROP_EMPTY = ('OK', 'FAIL', 'USER', 'PASS')


def normalise_line(line, tmp):
    """One protocol line with ids/paths masked and empty optional fields dropped."""
    line = line.replace(tmp, '{tmp}')
    fields = line.split('\t')
    if fields[0] in MASK_VALUES and len(fields) == 2:
        return fields[0] + '\t*'
    if fields[0] in DROP_EMPTY:
        fields = fields[:2] + [f for f in fields[2:] if f != '']
    return '\t'.join(fields)


def normalise_text(text, tmp):
    """doveadm output: temp path masked, whitespace-only lines dropped."""
    text = text.replace(tmp, '{tmp}')
    text = re.sub(r'\b(pid|PID)[ =:]+\d+', r'\1=*', text)
    return '\n'.join(l.rstrip() for l in text.splitlines() if l.strip())


def run_auth_case(srv, n, case):
    label, mech, params, resp, conts, minor = case
    fields = ['service=smtp', rip(n)] + params
    if isinstance(resp, str):
        fields.append('resp=' + resp)
        resp = None
    with AuthClient(srv.path('auth-client'), minor=minor) as c:
        return c.request(mech, fields, resp, conts)


def run_scenario(kind, uid, gid):
    """Start kind on the shared config, run every case; returns
    ({label: normalised answer}, [labels in order], server log)."""
    answers, order = {}, []

    def record(label, fn):
        order.append(label)
        try:
            answers[label] = fn()
        except Exception as e:     # a broken answer is an answer to compare
            answers[label] = '<%s: %s>' % (type(e).__name__, e)

    with AuthServer(kind, standard_conf(), files=standard_users(uid, gid)) as srv:
        tmp = srv.tmp
        cfg = DovecotClientConfig(tmp, srv.path('auth-userdb'))

        def handshake(minor):
            with AuthClient(srv.path('auth-client'), minor=minor) as c:
                return [normalise_line(l, tmp) for l in c.handshake]
        record('auth-client handshake', lambda: handshake(2))
        record('auth-client handshake (minor 0)', lambda: handshake(0))

        for n, case in enumerate(AUTH_CASES):
            record('AUTH ' + case[0], lambda n=n, case=case:
                   [normalise_line(l, tmp) for l in run_auth_case(srv, n, case)])

        def cont_unknown():
            with AuthClient(srv.path('auth-client')) as c:
                c.send('CONT\t999\t\n')
                return normalise_line(c.line(), tmp)
        record('CONT for an unknown id', cont_unknown)

        for sock in ('auth-userdb', 'auth-master'):
            def greeting(sock=sock):
                with MasterClient(srv.path(sock)) as m:
                    return [normalise_line(l, tmp) for l in m.greeting]
            record('%s greeting' % sock, greeting)
        for label, sock, cmd, args in MASTER_CASES:
            def master(sock=sock, cmd=cmd, args=args):
                with MasterClient(srv.path(sock)) as m:
                    return [normalise_line(l, tmp) for l in m.command(cmd, *args)]
            record(label, master)

        for n, args in enumerate(DOVEADM_CASES):
            argv = [re.sub(r'\{(auth-\w+)\}', lambda m: srv.path(m.group(1)), a) for a in args]
            if argv[:2] == ['auth', 'test']:
                argv[2:2] = ['-x', 'rip=127.66.9.%d' % (n + 1)]

            def run_doveadm(argv=argv):
                r = doveadm(cfg, *argv)
                return 'exit %d\n%s' % (r.returncode, normalise_text(r.stdout, tmp))
            record('doveadm ' + ' '.join(args), run_doveadm)
        record('server still running after all requests', srv.alive)
        log = srv.log()
    return answers, order, log


class SideBySide(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        find_binary('doveadm')
        find_binary('dovecot')
        uid, gid = user_ids('vmail')
        cls.other = other_kind()
        cls.ref, cls.order, cls.ref_log = run_scenario(REFERENCE, uid, gid)
        cls.got, _, cls.got_log = run_scenario(cls.other, uid, gid)

    def test_same_answers(self):
        for label in self.order:
            with self.subTest(label):
                want, got = self.ref[label], self.got[label]
                self.assertEqual(got, want, '%s: %s answered\n  %r\n%s answered\n  %r'
                                 '\n--- %s log (tail):\n%s' % (
                                     label, self.other, got, REFERENCE, want, self.other,
                                     self.got_log[-2000:]))

    def test_reference_answers_are_real(self):
        # Guard against comparing two broken runs: the reference must have
        # produced the protocol answers the spec describes.
        want = {
            'AUTH plain ok': ['OK\t1\tuser=alice'],
            'AUTH plain wrong password': ['FAIL\t1\tuser=alice'],
            'AUTH plain denied user': ['FAIL\t1\tuser=eve\tcode=user_disabled'],
            'AUTH plain renamed user': ['OK\t1\tuser=quinn2\toriginal_user=quinn'],
            'AUTH plain upper-case name': ['OK\t1\tuser=alice\toriginal_user=ALICE'],
            'USER unknown': ['NOTFOUND\t1'],
            'PASS alice': ['PASS\t1\tuser=alice'],
        }
        for label, answer in want.items():
            with self.subTest(label):
                self.assertEqual(self.ref[label], answer, self.ref_log[-2000:])
        for label, answer in self.ref.items():
            self.assertNotRegex(str(answer), r'^<\w+: ', '%s: reference failed: %s'
                                % (label, answer))

    def test_normalise(self):
        tmp = '/tmp/authdt-x'
        cases = [
            ('SPID\t123', 'SPID\t*'),
            ('COOKIE\t0123456789abcdef0123456789abcdef', 'COOKIE\t*'),
            ('OK\t1\tuser=alice\t', 'OK\t1\tuser=alice'),
            ('OK\t1\tuser=alice\t\toriginal_user=ALICE', 'OK\t1\tuser=alice\toriginal_user=ALICE'),
            ('CONT\t3\t', 'CONT\t3\t'),
            ('DONE\t2\t', 'DONE\t2\t'),
            ('USER\t1\talice\thome=/tmp/authdt-x/home/alice', 'USER\t1\talice\thome={tmp}/home/alice'),
        ]
        for line, want in cases:
            with self.subTest(line=line):
                self.assertEqual(normalise_line(line, tmp), want)
        self.assertNotEqual(normalise_line('OK\t1\tuser=alice', tmp),
                            normalise_line('OK\t1\tuser=bob', tmp))


if __name__ == '__main__':
    unittest.main()
