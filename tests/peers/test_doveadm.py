"""Real doveadm (Dovecot 2.3) as a client of the auth server: `auth test` on
the auth-client socket, `auth lookup` (PASS), `user` (USER) and `user '*'`
(LIST) on the auth-userdb and auth-master sockets.

doveadm runs with a minimal config of its own (DovecotClientConfig: no
passdb/userdb, auth_socket_path = the server's auth-userdb). Server kind from
AUTHD_TEST_SERVER. Facts: shared/spec/real-clients.md, dovecot-auth-protocol.md
section 3.9. Exit codes: 0 ok, 77 auth failed, 67 unknown user, 75 temp error.
"""

import itertools
import unittest

from tests.lib.peers import (NOLOGIN_REASON, DovecotClientConfig, doveadm, find_binary,
                             parse_auth_test, parse_colon_list, parse_field_table,
                             standard_conf, standard_users, user_ids)
from tests.lib.server import AuthServer, server_kind

ALL_USERS = ['alice', 'carol', 'eve', 'frank', 'quinn']
_RIP = itertools.count(1)


def fresh_rip():
    """A remote address for `-x rip=`: each auth test gets its own, so the
    server's failure penalty (keyed on rip; 4 s after a failure) of one case
    does not slow the next."""
    n = next(_RIP)
    return '127.77.%d.%d' % (n // 250, 1 + n % 250)


class Doveadm(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.kind = server_kind()
        find_binary('doveadm')      # a missing peer fails the class, never skips it
        cls.uid, cls.gid = user_ids('vmail')
        cls.srv = AuthServer(cls.kind, standard_conf(), files=standard_users(cls.uid, cls.gid))
        cls.srv.start()
        cls.addClassCleanup(cls.srv.stop)
        cls.cfg = DovecotClientConfig(cls.srv.tmp, cls.srv.path('auth-userdb'))

    def run_doveadm(self, *args):
        r = doveadm(self.cfg, *args)
        ctx = '\n--- doveadm %s -> exit %d\nstdout:\n%s\nstderr:\n%s\n--- %s log (tail):\n%s' % (
            ' '.join(args), r.returncode, r.stdout, r.stderr, self.kind, self.srv.log()[-3000:])
        return r, ctx

    def auth_test(self, user, password, *extra):
        args = ['auth', 'test', '-a', self.srv.path('auth-client'), '-x', 'rip=' + fresh_rip()]
        for x in extra:
            args += ['-x', x]
        return self.run_doveadm(*(args + [user, password]))

    def test_auth_test(self):
        cases = [
            dict(user='alice', password='alicepw', exit=0, fields=['user=alice']),
            dict(user='carol', password='carolpw', exit=0, fields=['user=carol']),
            dict(user='ALICE', password='alicepw', exit=0,
                 fields=['user=alice', 'original_user=ALICE']),
            dict(user='quinn', password='quinnpw', exit=0,
                 fields=['user=quinn2', 'original_user=quinn']),
            dict(user='frank', password='frankpw', exit=0,
                 fields=['user=frank', 'nologin', 'reason=' + NOLOGIN_REASON]),
            dict(user='alice', password='wrong', exit=77, fields=['user=alice']),
            dict(user='alice', password='', exit=77, fields=['user=alice']),
            dict(user='nosuch', password='alicepw', exit=77, fields=['user=nosuch']),
            dict(user='eve', password='evepw', exit=77,
                 fields=['user=eve', 'code=user_disabled']),
        ]
        for c in cases:
            with self.subTest(user=c['user'], password=c['password']):
                r, ctx = self.auth_test(c['user'], c['password'])
                self.assertEqual(r.returncode, c['exit'], 'exit: got %d, want %d%s'
                                 % (r.returncode, c['exit'], ctx))
                verdict, fields = parse_auth_test(r.stdout)
                want_verdict = 'passdb: %s auth %s' % (
                    c['user'], 'succeeded' if c['exit'] == 0 else 'failed')
                self.assertEqual(verdict, want_verdict, 'got %r, want %r%s'
                                 % (verdict, want_verdict, ctx))
                self.assertEqual(fields, c['fields'], 'fields: got %r, want %r%s'
                                 % (fields, c['fields'], ctx))

    def test_auth_test_with_service(self):
        for service in ('imap', 'smtp', 'pop3'):
            with self.subTest(service=service):
                r, ctx = self.auth_test('alice', 'alicepw', 'service=' + service)
                self.assertEqual(r.returncode, 0, 'got %d, want 0%s' % (r.returncode, ctx))
                self.assertEqual(parse_auth_test(r.stdout)[1], ['user=alice'], ctx)

    def test_auth_lookup(self):
        cases = [
            dict(user='alice', exit=0, fields={'user': 'alice'}),
            dict(user='ALICE', exit=0, fields={'user': 'alice'}),
            dict(user='frank', exit=0,
                 fields={'user': 'frank', 'nologin': '', 'reason': NOLOGIN_REASON}),
            dict(user='nosuch', exit=67, fields=None),
            dict(user='eve', exit=67, fields=None),     # deny passdb -> NOTFOUND
        ]
        for sock in ('auth-userdb', 'auth-master'):
            for c in cases:
                with self.subTest(socket=sock, user=c['user']):
                    r, ctx = self.run_doveadm('auth', 'lookup', '-a', self.srv.path(sock),
                                              c['user'])
                    self.assertEqual(r.returncode, c['exit'], 'exit: got %d, want %d%s'
                                     % (r.returncode, c['exit'], ctx))
                    if c['fields'] is None:
                        self.assertIn("doesn't exist", r.stdout + r.stderr, ctx)
                        continue
                    header, fields = parse_colon_list(r.stdout)
                    self.assertEqual(header, 'passdb: %s' % c['user'], ctx)
                    self.assertEqual(fields, c['fields'], 'got %r, want %r%s'
                                     % (fields, c['fields'], ctx))
                    self.assertNotIn('alicepw', r.stdout, 'PASS must not return the password')

    def want_userdb(self, user, **extra):
        d = {'uid': str(self.uid), 'gid': str(self.gid),
             'home': '%s/home/%s' % (self.srv.tmp, user)}
        d.update(extra)
        return d

    def test_user(self):
        cases = [
            dict(args=['alice'], exit=0,
                 fields=self.want_userdb('alice', mail='maildir:~/Maildir')),
            # the changed name comes back in a user line
            dict(args=['ALICE'], exit=0,
                 fields=dict(self.want_userdb('alice', mail='maildir:~/Maildir'), user='alice')),
            # no userdb_mail: mail is mail_location of doveadm's own config
            dict(args=['carol'], exit=0,
                 fields=self.want_userdb('carol', mail='maildir:~/Maildir')),
            dict(args=['-a', self.srv.path('auth-master'), 'alice'], exit=0,
                 fields=self.want_userdb('alice', mail='maildir:~/Maildir')),
            dict(args=['nosuch'], exit=67, fields=None),
            dict(args=['-a', self.srv.path('auth-master'), 'nosuch'], exit=67, fields=None),
        ]
        for c in cases:
            with self.subTest(args=c['args']):
                r, ctx = self.run_doveadm('user', *c['args'])
                self.assertEqual(r.returncode, c['exit'], 'exit: got %d, want %d%s'
                                 % (r.returncode, c['exit'], ctx))
                if c['fields'] is None:
                    self.assertIn("doesn't exist", r.stdout + r.stderr, ctx)
                    continue
                got = parse_field_table(r.stdout)
                self.assertEqual(got, c['fields'], 'got %r, want %r%s'
                                 % (got, c['fields'], ctx))

    def test_user_userdb_only(self):
        r, ctx = self.run_doveadm('user', '-u', 'alice')
        self.assertEqual(r.returncode, 0, ctx)
        header, fields = parse_colon_list(r.stdout)
        want = dict(self.want_userdb('alice', mail='maildir:~/Maildir'), user='alice')
        self.assertEqual((header, fields), ('userdb: alice', want), ctx)

    def test_user_field(self):
        r, ctx = self.run_doveadm('user', '-f', 'home', 'alice')
        self.assertEqual((r.returncode, r.stdout.strip()),
                         (0, '%s/home/alice' % self.srv.tmp), ctx)

    def test_user_list(self):
        cases = [
            dict(mask='*', want=ALL_USERS),
            dict(mask='a*', want=['alice']),
            dict(mask='*n', want=['quinn']),
            dict(mask='zz*', want=[]),
        ]
        for sock in ('auth-userdb', 'auth-master'):
            for c in cases:
                with self.subTest(socket=sock, mask=c['mask']):
                    r, ctx = self.run_doveadm('user', '-a', self.srv.path(sock), c['mask'])
                    self.assertEqual(r.returncode, 0, ctx)
                    got = sorted(r.stdout.split())
                    self.assertEqual(got, c['want'], 'got %r, want %r%s'
                                     % (got, c['want'], ctx))


if __name__ == '__main__':
    unittest.main()
