"""The passwd-file fixture (spec/passwd-file-and-ldap.md A.7) over the wire:
PLAIN and LOGIN results and userdb (USER/PASS/LIST) answers.

All requests of a table are pipelined (distinct ids, or one connection per
LOGIN dialogue) so the failure-delay flushes overlap."""

import pwd
import grp
import unittest

from tests.daemon.dtest import NP, ServerTestCase, plain_data

DOVECOT_UID = str(pwd.getpwnam('dovecot').pw_uid)
DOVECOT_GID = str(grp.getgrnam('dovecot').gr_gid)

OK, FAIL = 'OK', 'FAIL'

# (user as sent, password, extra AUTH params, expected cmd, expected fields
#  (None: the default user=<user>), {mechanism: fields} overrides)
AUTH_TABLE = [
    ('alice', 'alicepw', (), OK, None),
    ('alice', 'secondalice', (), FAIL, None),          # duplicate line ignored
    ('bob', 'bobpw', (), OK, None),                    # {CRAM-MD5} verified by recomputation
    ('bob', 'bobpx', (), FAIL, None),
    ('carol', 'carolpw', (), OK, None),                # no prefix: default scheme CRYPT ($6$)
    ('carol', 'carolpx', (), FAIL, None),
    ('dave', 'davepw', (), OK, None),                  # passdb-only line
    ('erin', 'anything', (), OK, None),                # nopassword
    ('erin', '', (), OK, None),
    ('frank', 'frankpw', ('rip=10.1.2.3',), OK, None),  # allow_nets
    ('frank', 'frankpw', ('rip=192.168.1.1',), OK, None),
    ('frank', 'frankpw', ('rip=192.168.1.2',), FAIL, None),
    ('frank', 'frankpw', ('rip=127.0.0.1',), FAIL, None),
    ('frank', 'frankpw', (), FAIL, None),              # no remote ip
    ('gina', 'ginapw', (), OK, 'gina'),                # nologin reason=... proxy host=...
    ('ivan', 'ivanpw', (), OK, None),
    ('judy', 'judypw', (), OK, None),                  # [34] = PLAIN-MD5
    ('paul', 'paulpw', (), OK, None),                  # [13] = CRYPT (DES)
    ('oscar@example.com', 'oscarpw', (), OK, None),    # [56] = DIGEST-MD5
    ('kate', 'katepw', (), OK, None),
    ('leo', 'leopw', (), FAIL, None),                  # uid 0 line rejected
    ('mike', 'mikepw', (), OK, None),
    ('nina', 'ninapw', (), OK, None),
    ('olga@example.com', 'olgapw', (), OK, ['user=olga@example.com', 'nodelay']),
    ('quinn', 'quinnpw', (), OK, ['user=quinn2', 'original_user=quinn']),
    ('rita', 'noschemecrypt', (), FAIL, None),         # cleartext under CRYPT
    ('sam', 'sampw', (), OK, None),
    ('tom', 'secret', (), OK, None),                   # SHA256-CRYPT
    ('tom', 'secreT', (), FAIL, None),
    ('uma', 'umapw', (), FAIL, None),                  # extra field "fail"
    ('vic', 'vicpw', (), OK, None),                    # nopassword but password set
    ('vic', 'other', (), FAIL, None),
    ('wendy', 'wendypw', (), FAIL, None),              # invalid gid: line rejected
    ('yuri', 'yuripw', (), OK, None),                  # CRLF line
    ('zack', 'zackpw', (), OK, None),                  # last line, no final LF
    ('nouser', 'nouser', (), FAIL, None),              # line with empty name skipped
    ('ALICE', 'alicepw', (), OK, ['user=alice', 'original_user=ALICE']),   # 47
]

GINA_FIELDS = {
    'PLAIN': ['user=gina', 'nologin', 'reason=AccountPLAINoved', 'proxy', 'host=10.0.0.1'],
    'LOGIN': ['user=gina', 'nologin', 'reason=AccountLOGINoved', 'proxy', 'host=10.0.0.1'],
}

# USER lookups on the userdb (passwd-file, username_format=%u)
USERDB_TABLE = [
    ('alice', ['uid=1001', 'gid=1001', 'home=/home/alice', 'mail=maildir:~/Maildir']),
    ('bob', ['uid=1002', 'gid=1002', 'home=/home/bob']),
    ('carol', ['uid=1003', 'gid=1003', 'home=/home/carol', 'quota_rule=*:storage=1G']),
    ('dave', None),                                   # missing userdb info: NOTFOUND
    ('erin', ['uid=1005', 'gid=1005', 'home=/home/erin']),
    ('ivan', ['uid=1009', 'gid=1009', 'home=/home/ivan', 'mail=maildir:~/Mail']),
    ('kate', ['uid=' + DOVECOT_UID, 'gid=' + DOVECOT_GID, 'home=/home/kate']),
    ('leo', None),
    ('mike', ['uid=1014', 'gid=1014', 'home=/srv/mike', 'mail=maildir:/var/mail//mike']),
    ('nina', []),
    ('olga@example.com', ['uid=1015', 'gid=1015', 'quota_rule=*:bytes=100M']),
    ('quinn', ['uid=1016', 'gid=1016', 'home=/home/quinn', 'mail=mbox:~/mail']),
    ('sam', ['uid=2018', 'gid=2018', 'home=/home/sam']),
    ('vic', ['uid=1021', 'gid=1021', 'home=/home/vic', 'mail=maildir:~/M']),
    ('wendy', None),
    ('yuri', ['uid=1024', 'gid=1024', 'home=/home/yuri']),
    ('zack', ['uid=1025', 'gid=1025', 'home=/home/zack']),
    ('nosuch', None),
]

# PASS lookups (passdb without authentication)
PASSDB_TABLE = [
    ('alice', ['user=alice']),
    ('bob', ['user=bob']),
    ('dave', ['user=dave']),
    ('gina', ['user=gina', 'nologin', 'reason=Accountoved', 'proxy', 'host=10.0.0.1']),
    ('olga@example.com', ['user=olga@example.com', 'nodelay']),
    ('quinn', ['user=quinn2']),
    ('uma', None),
    ('leo', None),
    ('nosuch', None),
]

VALID_USERS = {b'alice', b'bob', b'carol', b'dave', b'erin', b'frank', b'gina', b'ivan',
               b'judy', b'paul', b'oscar@example.com', b'kate', b'mike', b'nina',
               b'olga@example.com', b'quinn', b'rita', b'sam', b'tom', b'uma', b'vic',
               b'xena', b'yuri', b'tabby'}


class FixtureUsers(ServerTestCase):

    def expected(self, mech, user, cmd, fields):
        if fields == 'gina':
            return GINA_FIELDS[mech]
        if fields is None:
            return ['user=' + user]
        return fields

    def test_a7_plain(self):
        c = self.client()
        want = {}
        for i, (user, pw, params, cmd, fields) in enumerate(AUTH_TABLE, 1):
            c.auth(i, 'PLAIN', params=NP + params, resp=plain_data(user, pw))
            want[i] = (user, pw, params, cmd, self.expected('PLAIN', user, cmd, fields))
        got = {}
        for r in c.replies(len(want), timeout=10):
            got[r.id] = r
        problems = []
        for i, (user, pw, params, cmd, fields) in sorted(want.items()):
            r = got.get(i)
            if r is None or r.cmd != cmd.encode() or r.fieldset() != sorted(f.encode() for f in fields):
                problems.append('PLAIN %s/%s %s: got %r, want %s %s' % (user, pw, params, r, cmd, fields))
            elif cmd == OK and r.words[0] != fields[0].encode():
                problems.append('PLAIN %s: user= must come first: %r' % (user, r))
        self.assertEqual(problems, [])

    def test_a7_login(self):
        conns = []
        for user, pw, params, cmd, fields in AUTH_TABLE:
            if pw == '':          # LOGIN cannot carry an empty initial response here
                continue
            c = self.client()
            c.auth(1, 'LOGIN', params=NP + params, resp=user)
            conns.append((c, user, pw, params, cmd, self.expected('LOGIN', user, cmd, fields)))
        problems = []
        for c, user, pw, params, cmd, fields in conns:
            r = c.reply()
            if r.raw != b'CONT\t1\tUGFzc3dvcmQ6':
                if cmd == OK:
                    problems.append('LOGIN %s: want the Password: prompt, got %r' % (user, r))
                continue
            c.cont(1, pw)
        for c, user, pw, params, cmd, fields in conns:
            if c.eof and not c.pending():
                continue
            r = c.reply(10)
            if r.cmd != cmd.encode() or r.fieldset() != sorted(f.encode() for f in fields):
                problems.append('LOGIN %s/%s %s: got %r, want %s %s' % (user, pw, params, r, cmd, fields))
        self.assertEqual(problems, [])

    def test_a7_userdb(self):
        m = self.master('auth-userdb')
        problems = []
        for i, (user, fields) in enumerate(USERDB_TABLE, 1):
            m.user(i, user, service='lda')
            r = m.reply()
            if fields is None:
                if r.raw != b'NOTFOUND\t%d' % i:
                    problems.append('USER %s: got %r, want NOTFOUND' % (user, r))
                continue
            if r.cmd != b'USER' or r.id != i or r.args[:1] != [user.encode()] \
                    or sorted(r.words[1:]) != sorted(f.encode() for f in fields):
                problems.append('USER %s: got %r, want %s' % (user, r, fields))
        self.assertEqual(problems, [])

    def test_a7_passdb_lookup(self):
        m = self.master('auth-userdb')
        problems = []
        for i, (user, fields) in enumerate(PASSDB_TABLE, 1):
            m.passdb(i, user)
            r = m.reply()
            if fields is None:
                if r.raw != b'NOTFOUND\t%d' % i:
                    problems.append('PASS %s: got %r, want NOTFOUND' % (user, r))
                continue
            if r.cmd != b'PASS' or r.id != i or r.fieldset() != sorted(f.encode() for f in fields) \
                    or r.words[0] != fields[0].encode():
                problems.append('PASS %s: got %r, want %s' % (user, r, fields))
        self.assertEqual(problems, [])

    def test_a7_list(self):
        """LIST returns every valid user once or more; it may also return what
        2.3 returns for odd lines (duplicates, rejected lines), nothing else."""
        m = self.master('auth-userdb')
        users, done = m.list_all(1, params=('user=*',), service='doveadm')
        self.assertEqual(done.raw, b'DONE\t1\t')
        names = set(users)
        self.assertLessEqual(VALID_USERS, names, 'missing: %r' % (VALID_USERS - names))
        tolerated = VALID_USERS | {b'leo', b'wendy', b'zack', b'   # not a comment (leading spaces)'}
        self.assertLessEqual(names, tolerated, 'unexpected: %r' % (names - tolerated))


if __name__ == '__main__':
    unittest.main()
