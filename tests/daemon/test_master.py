"""auth-master / auth-userdb protocol: checklist items 49-55, 57 (spec 3.1-3.8)."""

import ast
import grp
import os
import pwd
import select
import unittest

from tests.daemon.dtest import MasterClient, ServerTestCase, line, tab_escape

ALICE_USER = sorted([b'uid=1001', b'gid=1001', b'home=/home/alice', b'mail=maildir:~/Maildir'])


def user_line_of_length(total):
    head = b'USER\t1\talice\tservice=lda\tx='
    return head + b'a' * (total - len(head))


def run_as(uid, gid, fn, timeout=15):
    """Run fn() in a forked child with uid/gid (no supplementary groups) and
    return its result (a literal: lists/bytes/str/ints), or ('error', text)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                              # child
        try:
            os.close(r)
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            data = repr(fn()).encode()
        except BaseException as e:            # report everything to the parent
            data = repr(('error', repr(e))).encode()
        try:
            while data:
                data = data[os.write(w, data):]
        finally:
            os._exit(0)
    os.close(w)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([r], [], [], timeout)
            if not ready:
                os.kill(pid, 9)
                chunks = [repr(('error', 'child timed out')).encode()]
                break
            chunk = os.read(r, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    return ast.literal_eval(b''.join(chunks).decode())


class MasterProtocol(ServerTestCase):

    # --- 49: greeting
    def test_49_greeting_userdb_and_master(self):
        for sock in ('auth-userdb', 'auth-master', 'restricted-userdb'):
            m = self.master(sock, hello=False)
            self.assertEqual(m.greeting[0], b'VERSION\t1\t1', sock)
            self.assertRegex(m.greeting[1], rb'^SPID\t[1-9][0-9]*$')
            self.assertEqual(len(m.greeting), 2, m.greeting)
            self.assertTrue(m.is_open(0.3), 'nothing may follow SPID: %r' % m.pending())

    def test_49_spid_matches_client_socket(self):
        from tests.daemon.dtest import AuthClient
        m = self.master('auth-userdb', hello=False)
        c = AuthClient(self.srv.path('auth-client'))
        self._conns.append(c)
        self.assertEqual(m.spid, c.handshake.spid)

    # --- 50: line limit
    def test_50_line_1023_accepted(self):
        m = self.master()
        data = user_line_of_length(1023)
        self.assertEqual(len(data), 1023)
        m.send(data + b'\n')
        r = m.reply()
        self.assertEqual(r.cmd, b'USER', r)
        self.assertEqual(sorted(r.words[1:]), ALICE_USER)

    def test_50_line_1024_closes(self):
        for n in (1024, 1127, 5000):
            m = self.master()
            m.send(user_line_of_length(n) + b'\n')
            self.assertClosed(m, what='for a %d-byte master line' % n)

    # --- 51: replies
    def test_51_user(self):
        m = self.master()
        m.user(1, 'alice', service='lda')
        r = m.reply()
        self.assertEqual(r.fields[:3], [b'USER', b'1', b'alice'])
        self.assertEqual(sorted(r.words[1:]), ALICE_USER)

    def test_51_user_normalised(self):
        m = self.master()
        m.user(2, 'ALICE', service='doveadm',
               params=('lip=127.0.0.1', 'rip=127.0.0.2', 'lport=143', 'rport=5000',
                       'session=abc', 'debug'))
        r = m.reply()
        self.assertEqual(r.fields[:3], [b'USER', b'2', b'alice'])
        self.assertEqual(sorted(r.words[1:]), ALICE_USER)

    def test_51_user_notfound_cases(self):
        m = self.master()
        for i, name in enumerate(('nosuch', 'alice*admin', 'al ice', 'dave'), 3):
            m.user(i, name, service='lda')
            self.assertEqual(m.reply().raw, b'NOTFOUND\t%d' % i, name)

    def test_51_pass(self):
        m = self.master()
        m.passdb(6, 'alice')
        r = m.reply()
        self.assertEqual(r.cmd, b'PASS')
        self.assertEqual(r.id, 6)
        self.assertEqual(r.fieldset(), [b'user=alice'])
        m.passdb(7, 'gina')
        r = m.reply()
        self.assertEqual(r.fieldset(), sorted([b'user=gina', b'nologin', b'reason=Accountoved',
                                               b'proxy', b'host=10.0.0.1']))
        m.passdb(8, 'nosuch')
        self.assertEqual(m.reply().raw, b'NOTFOUND\t8')
        m.passdb(9, 'bob')
        r = m.reply()
        self.assertEqual(r.fieldset(), [b'user=bob'])
        self.assertNotIn(b'cb63714f', r.raw, 'PASS must not return the password')

    def test_51_list(self):
        m = self.master()
        users, done = m.list_all(10)
        self.assertEqual(done.raw, b'DONE\t10\t')
        self.assertIn(b'alice', users)
        self.assertIn(b'yuri', users)
        users2, done = m.list_all(11, params=('user=s*',), service='doveadm')
        self.assertEqual(done.raw, b'DONE\t11\t')
        self.assertIn(b'alice', users2, 'passwd-file ignores the mask')

    def test_51_ids_echoed_pipelined(self):
        m = self.master()
        m.send(b''.join(line('USER', i, 'alice', 'service=lda') for i in (0, 7, 4294967295)))
        got = [m.reply() for _ in range(3)]
        self.assertEqual(sorted(r.id for r in got), [0, 7, 4294967295])
        for r in got:
            self.assertEqual(r.cmd, b'USER')

    # --- 52: socket types
    def test_52_userdb_refuses_request_and_cache_flush(self):
        for data in (b'CACHE-FLUSH\t12\n',
                     b'REQUEST\t1\t99999\t1\t00112233445566778899aabbccddeeff\n'):
            for sock in ('auth-userdb', 'restricted-userdb'):
                m = self.master(sock)
                m.send(data)
                self.assertClosed(m, what='for %r on %s' % (data, sock))

    def test_52_master_accepts_request_and_cache_flush(self):
        m = self.master('auth-master')
        m.cache_flush(12)
        self.assertEqual(m.reply().raw, b'OK\t12\t0')
        m.cache_flush(13, ['alice', 'bob'])
        self.assertEqual(m.reply().raw, b'OK\t13\t0')
        m.request(1, 99999, 1, '00112233445566778899aabbccddeeff')
        self.assertEqual(m.reply().raw, b'FAIL\t1')
        self.assertOpen(m)
        m.user(2, 'alice')
        self.assertEqual(m.reply().fields[:3], [b'USER', b'2', b'alice'])

    def test_52_request_malformed_closes(self):
        for args in ((b'1',), (b'1', b'99999', b'1'), (b'1', b'x', b'1', b'00' * 16),
                     (b'1', b'99999', b'1', b'zz' * 16)):
            m = self.master('auth-master')
            m.send(line(b'REQUEST', *args))
            self.assertClosed(m, what='for REQUEST %r' % (args,))

    def test_52_cpid_closes_both(self):
        for sock in ('auth-userdb', 'auth-master'):
            m = self.master(sock)
            m.send(b'CPID\t123\n')
            self.assertClosed(m, what='for CPID on ' + sock)

    # --- 53: VERSION
    def test_53_first_line_must_be_version(self):
        cases = [b'USER\t1\talice\tservice=lda\n',
                 b'VERSION\t2\t0\nUSER\t1\talice\tservice=lda\n',
                 b'VERSION\tx\t0\nUSER\t1\talice\tservice=lda\n',
                 b'\n']
        for data in cases:
            m = self.master(hello=False)
            m.send(data)
            self.assertClosed(m, what='for %r' % data)

    def test_53_bare_version_accepted(self):
        m = self.master(hello=False)
        m.send(b'VERSION\t1\nUSER\t1\talice\tservice=lda\n')
        self.assertEqual(m.reply().fields[:3], [b'USER', b'1', b'alice'])
        m = self.master(hello=False)
        m.send(b'VERSION\t1\t1\nUSER\t1\talice\tservice=lda\n')
        self.assertEqual(m.reply().fields[:3], [b'USER', b'1', b'alice'])

    # --- 54: malformed commands
    def test_54_missing_service_closes(self):
        for data in (b'USER\t1\talice\n', b'PASS\t1\talice\n'):
            m = self.master()
            m.send(data)
            self.assertClosed(m, what='for %r' % data)

    def test_malformed_commands_close(self):
        cases = [b'USER\t1\n', b'USER\n', b'USER\tx\talice\tservice=lda\n',
                 b'PASS\t1\n', b'PASS\tx\talice\tservice=lda\n',
                 b'LIST\tx\n', b'FOO\t1\n', b'user\t1\talice\tservice=lda\n']
        for data in cases:
            m = self.master()
            m.send(data)
            self.assertClosed(m, what='for %r' % data)

    # --- 55: peer-uid restriction on a 0666 userdb socket
    def test_55_listener_modes(self):
        st = os.stat(self.srv.path('restricted-userdb'))
        self.assertEqual(st.st_mode & 0o777, 0o666)
        self.assertEqual(st.st_uid, pwd.getpwnam('dovecot').pw_uid)
        self.assertEqual(st.st_gid, grp.getgrnam('dovecot').gr_gid)
        for name in ('auth-client', 'auth-login', 'auth-master', 'auth-userdb'):
            self.assertEqual(os.stat(self.srv.path(name)).st_mode & 0o777, 0o600, name)

    def _restricted_session(self):
        path = self.srv.path('restricted-userdb')

        def session():
            m = MasterClient(path, hello=True)
            out = []
            for cmd in (line('USER', 1, 'alice', 'service=lda'),
                        line('PASS', 2, 'alice', 'service=lda'),
                        line('LIST', 3),
                        line('USER', 4, 'nosuch', 'service=lda'),
                        line('USER', 5, 'sam', 'service=lda'),
                        line('USER', 6, 'bob', 'service=lda')):
                m.send(cmd)
                out.append(m.reply().raw)
            m.close()
            return out
        return session

    def test_55_restricted_peer(self):
        got = run_as(1001, 1001, self._restricted_session())
        self.assertIsInstance(got, list, got)
        self.assertEqual(got[0].split(b'\t')[:3], [b'USER', b'1', b'alice'], got)
        self.assertEqual(sorted(w for w in got[0].split(b'\t')[3:] if w), ALICE_USER)
        self.assertEqual(got[1:], [b'FAIL\t2', b'DONE\t3\tfail', b'NOTFOUND\t4', b'FAIL\t5',
                                   b'FAIL\t6'])

    def test_55_restricted_peer_other_uid(self):
        """uid 2018 (sam's userdb_uid): sam is allowed, alice is not."""
        got = run_as(2018, 2018, self._restricted_session())
        self.assertIsInstance(got, list, got)
        self.assertEqual(got[0], b'FAIL\t1')
        self.assertEqual(got[4].split(b'\t')[:3], [b'USER', b'5', b'sam'], got)
        self.assertEqual(got[5], b'FAIL\t6')

    def test_55_socket_group_member_unrestricted(self):
        """A peer whose gid equals the socket's group is not restricted."""
        gid = grp.getgrnam('dovecot').gr_gid
        got = run_as(1002, gid, self._restricted_session())
        self.assertIsInstance(got, list, got)
        self.assertEqual(got[0].split(b'\t')[:3], [b'USER', b'1', b'alice'], got)
        self.assertEqual(got[1].split(b'\t')[:2], [b'PASS', b'2'], got)
        self.assertEqual(got[2][:5], b'LIST\t', got)

    # --- 57: what dovecot-lda sends
    def test_57_lda_bytes(self):
        m = MasterClient(self.srv.path('auth-userdb'), read_greeting=False)
        self._conns.append(m)
        m.send(b'VERSION\t1\t0\nUSER\t1\talice\tservice=lda\n')
        m.read_greeting()
        r = m.reply()
        self.assertEqual(r.fields[:3], [b'USER', b'1', b'alice'])
        self.assertEqual(sorted(r.words[1:]), ALICE_USER)
        m2 = MasterClient(self.srv.path('auth-userdb'), read_greeting=False)
        self._conns.append(m2)
        m2.send(b'VERSION\t1\t0\nUSER\t1\tnosuch\tservice=lda\n')
        m2.read_greeting()
        self.assertEqual(m2.reply().raw, b'NOTFOUND\t1')

    def test_doveadm_bytes(self):
        """doveadm user / auth lookup / user '*' request shapes (3.9)."""
        m = MasterClient(self.srv.path('auth-userdb'), read_greeting=False)
        self._conns.append(m)
        m.send(b'VERSION\t1\t0\nUSER\t1\talice\tservice=doveadm\tdebug\n')
        m.read_greeting()
        self.assertEqual(m.reply().fields[:3], [b'USER', b'1', b'alice'])
        m.send(b'PASS\t2\talice\tservice=doveadm\tdebug\n')
        self.assertEqual(m.reply().fieldset(), [b'user=alice'])
        m.send(b'LIST\t3\tuser=*\tservice=doveadm\tdebug\n')
        lines = []
        while True:
            r = m.reply()
            lines.append(r)
            if r.cmd == b'DONE':
                break
        self.assertEqual(lines[-1].raw, b'DONE\t3\t')
        self.assertTrue(all(r.cmd == b'LIST' and r.id == 3 for r in lines[:-1]))

    def test_escaped_user_name(self):
        """User names are tab-unescaped on input: a TAB inside is not a separator."""
        m = self.master()
        m.send(b'USER\t1\t' + tab_escape(b'ali\tce') + b'\tservice=lda\n')
        self.assertEqual(m.reply().raw, b'NOTFOUND\t1')
        self.assertOpen(m)


if __name__ == '__main__':
    unittest.main()
