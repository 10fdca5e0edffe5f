"""passdb and userdb vpopmail through authd's sockets and real peers.

The vpopmail tree is the fixture of shared/spec/vpopmail.md section 10
(tests/lib/vpopmail.py writes it under the server's temporary directory,
with users/cdb and vpasswd.cdb). Checked here:
  - every expected passdb result of the spec's table (AUTH PLAIN on
    auth-client with service= and rip=; CRAM-MD5 for the credentials rows),
    including the webmail= cases on a second server;
  - every expected userdb result (USER on auth-userdb);
  - Postfix + swaks with PLAIN, LOGIN, CRAM-MD5 and DIGEST-MD5 for vpopmail
    users (seed 001's setup), a NO_SMTP user refused by Postfix but accepted
    by `doveadm auth test -x service=imap`;
  - dovecot-lda delivering into a vpopmail user's Maildir as the uid/gid of
    the assign entry (the vmail user here), with the opt-in lastauth and
    home creation done by an auth process running as that user;
  - bad trees: missing vpasswd, truncated cdb, lines with missing fields, a
    1 MB line, directories outside the tree, login names that try to walk
    out of it, and reload after a change.
Always runs authd: Dovecot 2.3.19 has no vpopmail driver to compare with.
"""

import base64
import hmac
import os
import time
import unittest

from tests.lib.authproto import AuthClient, MasterClient
from tests.lib.peers import (DovecotClientConfig, dovecot_lda, doveadm, find_binary,
                             parse_auth_test, user_ids)
from tests.lib.postfix import Postfix, swaks_auth
from tests.lib.server import AuthServer
from tests.lib.vpopmail import DOMAIN_DIRS, VpopmailTree, cdb_write, vpasswd_records

RIP = '192.0.2.10'
NP = 'no-penalty'
COM = DOMAIN_DIRS['example.com']
NET = DOMAIN_DIRS['example.net']


def vpopmail_conf(passdb_args, userdb_args, mechs='plain login cram-md5', extra=''):
    return '''
auth_mechanisms = %s
auth_failure_delay = 0
auth_verbose = yes
auth_username_chars =
passdb {
  driver = vpopmail
  args = %s
}
userdb {
  driver = vpopmail
  args = %s
}
%s
''' % (mechs, passdb_args, userdb_args, extra)


SOCKETS = '''
service auth {
  unix_listener auth-client {
    mode = 0666
  }
  unix_listener auth-userdb {
    mode = 0600
  }
}
'''


def start_server(tree_setup, conf_fn, wait=None):
    """An authd whose tree is written by tree_setup(tree) before it starts;
    conf_fn(tree) returns the config body."""
    srv = AuthServer('authd', '', wait_sockets=wait)
    tree = VpopmailTree(srv.tmp)
    tree_setup(tree)
    srv.body = conf_fn(tree)
    srv.start()
    return srv, tree


def cram_response(user, password, challenge):
    digest = hmac.new(password.encode(), challenge, 'md5').hexdigest()
    return ('%s %s' % (user, digest)).encode()


class Base(unittest.TestCase):
    srv = None

    def ctx(self, extra=''):
        return '%s\n--- authd log (tail):\n%s' % (extra, self.srv.log()[-4000:])

    def auth_plain(self, user, password, service, rip=RIP):
        params = [NP] + (['rip=' + rip] if rip else [])
        with AuthClient(self.srv.path('auth-client'), hello=True) as c:
            return c.plain(1, user, password, service=service, params=params)

    def auth_cram(self, user, password, service):
        with AuthClient(self.srv.path('auth-client'), hello=True) as c:
            c.auth(1, 'CRAM-MD5', service, [NP, 'rip=' + RIP])
            r = c.reply()
            if r.cmd != b'CONT':
                return r
            c.cont(1, cram_response(user, password, r.data()))
            return c.reply()

    def check_verdict(self, r, want, login):
        """want: OK, FAIL (mismatch/unknown) or DISABLED (code=user_disabled)
        or TEMPFAIL (code=temp_fail)."""
        got = r.cmd.decode()
        code = r.get('code')
        if got == 'FAIL' and code == b'user_disabled':
            got = 'DISABLED'
        elif got == 'FAIL' and code == b'temp_fail':
            got = 'TEMPFAIL'
        elif got == 'FAIL' and code is not None:
            got = 'FAIL code=%s' % code.decode()
        self.assertEqual(got, want, '%s: got %r, want %s%s' % (login, r, want, self.ctx()))
        if want == 'OK':
            self.assertEqual(r.get('user'), login.lower().encode(), self.ctx(repr(r)))

    def user_lookup(self, user):
        with MasterClient(self.srv.path('auth-userdb'), hello=True) as m:
            m.user(1, user, service='lda')
            return m.reply()


class VpopmailSpec(Base):
    """The spec's tables through the sockets (tree with cdb files)."""

    @classmethod
    def setUpClass(cls):
        cls.srv, cls.tree = start_server(
            lambda t: t.build(),
            lambda t: vpopmail_conf(t.args(), t.args('quota_template=quota_rule=*:backend=%q'),
                                    extra=SOCKETS))
        cls.addClassCleanup(cls.srv.stop)

    def test_passdb_table(self):
        cases = [
            # login, service, password, rip, want
            ('alice@example.com', 'imap', 'alicepw', RIP, 'OK'),
            ('alice@example.com', 'imap', 'wrong', RIP, 'FAIL'),
            ('alice@alias.example.com', 'imap', 'alicepw', RIP, 'OK'),
            ('ALICE@EXAMPLE.COM', 'pop3', 'alicepw', RIP, 'OK'),
            ('alice', 'imap', 'alicepw', RIP, 'OK'),
            ('alice%example.com', 'imap', 'alicepw', RIP, 'OK'),
            ('postmaster@example.com', 'smtp', 'pmsecret', RIP, 'OK'),
            ('bob@example.com', 'pop3', 'bobpw', RIP, 'DISABLED'),
            ('bob@example.com', 'imap', 'bobpw', RIP, 'OK'),
            ('carol@example.com', 'imap', 'carolpw', RIP, 'DISABLED'),
            ('carol@example.com', 'pop3', 'carolpw', RIP, 'OK'),
            ('carol@example.com', 'pop3', 'wrong', RIP, 'FAIL'),
            ('dave@example.com', 'smtp', 'davepw', RIP, 'DISABLED'),
            # A wrong password for a disabled service is an ordinary failure:
            # the answer must not reveal that the account exists.
            ('dave@example.com', 'smtp', 'wrong', RIP, 'FAIL'),
            ('dave@example.com', 'imap', 'davepw', RIP, 'OK'),
            ('erin@example.com', 'imap', 'erinpw', RIP, 'OK'),
            ('erin@example.com', 'imap', 'erinpw', None, 'DISABLED'),   # quirk, 9.2
            ('frank@example.com', 'pop3', 'frankpw', RIP, 'OK'),
            ('gina@example.com', 'imap', 'ginapw', RIP, 'OK'),
            ('info@example.net', 'imap', 'infopw', RIP, 'DISABLED'),
            ('info@example.net', 'pop3', 'infopw', RIP, 'OK'),
            ('user150@example.net', 'imap', 'u150pw', RIP, 'OK'),
            ('sales@example.net', 'smtp', 'salespw', RIP, 'OK'),
            ('sales@example.net', 'imap', 'salespw', RIP, 'DISABLED'),
            ('sales@example.net', 'pop3', 'salespw', RIP, 'DISABLED'),
            ('sales@example.net', 'submission', 'salespw', RIP, 'OK'),
            ('nobody@example.com', 'imap', 'x', RIP, 'FAIL'),
            ('alice@unknown.org', 'imap', 'alicepw', RIP, 'FAIL'),
        ]
        for login, service, password, rip, want in cases:
            with self.subTest(login=login, service=service, password=password, rip=rip):
                self.check_verdict(self.auth_plain(login, password, service, rip), want, login)

    def test_disabled_log_lines(self):
        self.auth_plain('bob@example.com', 'bobpw', 'pop3')
        self.auth_plain('dave@example.com', 'wrong', 'smtp')
        for want in (r'vpopmail\(bob@example\.com,192\.0\.2\.10\): pop3 disabled in vpopmail '
                     r'for this user',
                     r'vpopmail\(dave@example\.com,192\.0\.2\.10\): smtp disabled in vpopmail '
                     r'for this user'):
            self.assertIsNotNone(self.srv.wait_log(want), 'log line %r%s' % (want, self.ctx()))
        self.assertNotIn('bobpw', self.srv.log())

    def test_credentials(self):
        cases = [
            ('alice@example.com', 'alicepw', 'imap', 'OK'),      # clear-text field
            ('alice@example.com', 'wrong', 'imap', 'FAIL'),
            ('carol@example.com', 'carolpw', 'pop3', 'FAIL'),    # $6$ only: not available
            ('bob@example.com', 'bobpw', 'pop3', 'DISABLED'),
            ('bob@example.com', 'wrong', 'pop3', 'FAIL'),
        ]
        for login, password, service, want in cases:
            with self.subTest(login=login, password=password):
                self.check_verdict(self.auth_cram(login, password, service), want, login)
        self.assertIsNotNone(self.srv.wait_log(r'vpopmail\(carol@example\.com,[^)]*\): '
                                               r'.*(CRAM-MD5|scheme)'), self.ctx())

    def test_userdb_table(self):
        home = self.tree.home
        q = 'quota_rule'
        cases = [
            ('alice@example.com', {'home': home('example.com', 'alice'),
                                   q: '*:backend=52428800S,1000C'}),
            ('alice@alias.example.com', {'home': home('example.com', 'alice'),
                                         q: '*:backend=52428800S,1000C'}),
            ('bob@example.com', {'home': home('example.com', 'bob'), q: '*:backend=52428800S'}),
            ('carol@example.com', {'home': home('example.com', 'carol')}),   # NO_IMAP: still answered
            ('dave@example.com', {'home': home('example.com', 'dave'), q: '*:backend=1024000S'}),
            ('erin@example.com', {'home': home('example.com', 'erin'), q: '*:backend=10485760S'}),
            ('info@example.net', {'home': home('example.net', 'info')}),
            ('user150@example.net', {'home': home('example.net', '0/user150')}),
            ('sales@example.net', {'home': home('example.net', 'sales'), q: '*:backend=20971520S'}),
        ]
        for user, fields in cases:
            with self.subTest(user=user):
                r = self.user_lookup(user)
                want = dict(fields, uid='89', gid='89', mail='maildir:~/Maildir')
                got = {k.decode(): (v or b'').decode() for k, v in r.kv.items()
                       if v is not None}     # the first arg is the user name
                self.assertEqual(r.cmd, b'USER', self.ctx(repr(r)))
                self.assertEqual(got, want, '%s: got %r, want %r%s' % (user, got, want, self.ctx()))
        r = self.user_lookup('nobody@example.net')
        self.assertEqual(r.cmd, b'NOTFOUND', self.ctx(repr(r)))
        r = self.user_lookup('gina@example.com')     # empty pw_dir, no create mode
        self.assertEqual(r.cmd, b'FAIL', self.ctx(repr(r)))
        self.assertIsNotNone(self.srv.wait_log(r"vpopmail\(gina@example\.com\): pw_dir isn't set"),
                             self.ctx())

    def test_no_crash(self):
        self.assertEqual(self.srv.crash_report(), '', self.ctx())


class VpopmailWebmail(Base):
    """passdb args webmail=127.0.0.1 (spec 9.2)."""

    @classmethod
    def setUpClass(cls):
        cls.srv, cls.tree = start_server(
            lambda t: t.build(),
            lambda t: vpopmail_conf(t.args('webmail=127.0.0.1'), t.args(), extra=SOCKETS))
        cls.addClassCleanup(cls.srv.stop)

    def test_webmail(self):
        cases = [
            ('erin@example.com', 'erinpw', '127.0.0.1', 'DISABLED'),   # NO_WEBMAIL from webmail
            ('erin@example.com', 'erinpw', RIP, 'OK'),
            ('erin@example.com', 'erinpw', None, 'OK'),                # webmail= set: no quirk
            ('carol@example.com', 'carolpw', '127.0.0.1', 'OK'),       # NO_IMAP: webmail allowed
            ('carol@example.com', 'carolpw', RIP, 'DISABLED'),
        ]
        for login, password, rip, want in cases:
            with self.subTest(login=login, rip=rip):
                self.check_verdict(self.auth_plain(login, password, 'imap', rip), want, login)


class VpopmailBadTrees(Base):
    """Broken domains next to a working one; reload after a change."""

    BIG_LINE = 'huge:' + 'x' * (1024 * 1024) + ':1:0:H:/d:NOQUOTA\n'

    @classmethod
    def setUpClass(cls):
        cls.srv, cls.tree = start_server(cls.setup_tree,
                                         lambda t: vpopmail_conf(t.args(), t.args(), extra=SOCKETS))
        cls.addClassCleanup(cls.srv.stop)

    @classmethod
    def setup_tree(cls, t):
        t.build()
        d = 'home/vpopmail/domains/'
        t.write_assign(
            '+example.com-:example.com:89:89:/home/vpopmail/domains/example.com:-::\n'
            '+novpasswd.test-:novpasswd.test:89:89:/home/vpopmail/domains/novpasswd.test:-::\n'
            '+trunc.test-:trunc.test:89:89:/home/vpopmail/domains/trunc.test:-::\n'
            '+lines.test-:lines.test:89:89:/home/vpopmail/domains/lines.test:-::\n'
            '+escape.test-:escape.test:89:89:/home/vpopmail/domains/../../../etc:-::\n'
            '+outside.test-:outside.test:89:89:/etc:-::\n'
            '.\n')
        t.write(d + 'novpasswd.test/.qmail-default', '| vdelivermail\n')
        t.write_vpasswd(d + 'trunc.test', 'tina:x:1:0:T:/home/vpopmail/domains/trunc.test/tina:NOQUOTA:tinapw\n')
        cdb = t.path(d + 'trunc.test/vpasswd.cdb')
        with open(cdb, 'r+b') as f:
            f.truncate(2100)
        t.write_vpasswd(d + 'lines.test',
                        'first:x:1:0:F:/home/vpopmail/domains/lines.test/first:NOQUOTA:firstpw\n'
                        'short:x:1:0\n'
                        'six:x:1:0:S:/d\n'
                        + cls.BIG_LINE +
                        'last:x:1:0:L:/home/vpopmail/domains/lines.test/last:NOQUOTA:lastpw\n',
                        cdb=False)

    def test_bad_domains(self):
        cases = [
            ('a@novpasswd.test', 'x', 'TEMPFAIL'),
            ('tina@trunc.test', 'tinapw', 'TEMPFAIL'),
            ('root@escape.test', 'x', 'TEMPFAIL'),
            ('root@outside.test', 'x', 'TEMPFAIL'),
            ('first@lines.test', 'firstpw', 'OK'),
            ('last@lines.test', 'lastpw', 'OK'),
            ('short@lines.test', 'x', 'FAIL'),
            ('six@lines.test', 'x', 'FAIL'),
            ('huge@lines.test', 'x', 'FAIL'),
            ('alice@example.com', 'alicepw', 'OK'),
        ]
        for login, password, want in cases:
            with self.subTest(login=login):
                self.check_verdict(self.auth_plain(login, password, 'imap'), want, login)
        for pattern in (r'vpopmail\(a@novpasswd\.test,[^)]*\): domain novpasswd\.test: neither',
                        r'trunc\.test/vpasswd\.cdb',
                        r'lines\.test/vpasswd:\d+: line too long',
                        r'vpopmail\(root@escape\.test,[^)]*\): .*not a clean path'):
            self.assertIsNotNone(self.srv.wait_log(pattern), 'log %r%s' % (pattern, self.ctx()))
        self.assertEqual(self.srv.crash_report(), '', self.ctx())

    def test_traversal_logins(self):
        logins = ['../../etc/passwd@example.com', 'alice@../../etc', '..@example.com',
                  'alice@example.com/../x', 'al/ice@example.com', 'alice@exa..mple.com',
                  '.alice@example.com', 'a' * 65 + '@example.com', 'alice@' + 'd' * 300]
        for login in logins:
            with self.subTest(login=login):
                self.check_verdict(self.auth_plain(login, 'alicepw', 'imap'), 'FAIL', login)
        self.assertEqual(self.srv.crash_report(), '', self.ctx())

    def test_reload(self):
        rel = 'home/vpopmail/domains/lines.test/vpasswd'
        self.check_verdict(self.auth_plain('newbie@lines.test', 'newpw', 'imap'), 'FAIL',
                           'newbie@lines.test')
        with open(self.tree.path(rel), 'a') as f:
            f.write(self.tree.subst('newbie:x:1:0:N:/home/vpopmail/domains/lines.test/newbie:'
                                    'NOQUOTA:newpw\n'))
        time.sleep(1.1)     # files are stat()ed at most once a second
        self.check_verdict(self.auth_plain('newbie@lines.test', 'newpw', 'imap'), 'OK',
                           'newbie@lines.test')
        # a repaired cdb (renamed over the broken one, as vpopmail does) is picked up
        trunc = self.tree.path('home/vpopmail/domains/trunc.test/vpasswd.cdb')
        text = 'tina:x:1:0:T:%s/home/vpopmail/domains/trunc.test/tina:NOQUOTA:tinapw2\n' % (
            self.tree.root)
        cdb_write(trunc, vpasswd_records(text))
        time.sleep(1.1)
        self.check_verdict(self.auth_plain('tina@trunc.test', 'tinapw2', 'imap'), 'OK',
                           'tina@trunc.test')


class VpopmailPostfix(Base):
    """Seed 001: Postfix SMTP AUTH through authd for vpopmail users."""

    @classmethod
    def setUpClass(cls):
        for prog in ('postfix', 'swaks', 'doveadm'):
            find_binary(prog)     # a missing peer fails the class, never skips it
        sockets = '''
auth_realms = example.com
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
        cls.srv, cls.tree = start_server(
            lambda t: t.build(),
            lambda t: vpopmail_conf(t.args(), t.args(), mechs='plain login cram-md5 digest-md5',
                                    extra=sockets))
        cls.addClassCleanup(cls.srv.stop)
        cls.pf = Postfix(cls.srv.path('auth-client'))
        cls.pf.start()
        cls.addClassCleanup(cls.pf.stop)
        cls.cfg = DovecotClientConfig(cls.srv.tmp, cls.srv.path('auth-userdb'))

    def pctx(self, out=''):
        return '\n--- swaks:\n%s\n--- maillog (tail):\n%s%s' % (out, self.pf.log()[-2000:],
                                                              self.ctx())

    def test_swaks(self):
        realm = ['--auth-extra', 'realm=example.com']
        cases = [
            ('PLAIN', 'alice@example.com', 'alicepw', [], 235),
            ('LOGIN', 'postmaster@example.com', 'pmsecret', [], 235),
            ('PLAIN', 'sales@example.net', 'salespw', [], 235),     # {SHA512-CRYPT}, smtp ok
            ('LOGIN', 'carol@example.com', 'carolpw', [], 235),     # $6$, NO_IMAP only
            ('CRAM-MD5', 'alice@example.com', 'alicepw', [], 235),
            ('CRAM-MD5', 'frank@example.com', 'frankpw', [], 235),
            ('DIGEST-MD5', 'alice@example.com', 'alicepw', [], 235),
            ('DIGEST-MD5', 'postmaster', 'pmsecret', realm, 235),
            ('PLAIN', 'alice@example.com', 'wrong', [], 535),
            ('CRAM-MD5', 'carol@example.com', 'carolpw', [], 535),   # no clear-text field
            ('PLAIN', 'dave@example.com', 'davepw', [], 535),        # NO_SMTP
            ('LOGIN', 'dave@example.com', 'davepw', [], 535),
        ]
        for mech, user, password, extra, want in cases:
            with self.subTest(mech=mech, user=user, password=password):
                got, out = swaks_auth(self.pf.port, mech, user, password, extra=extra)
                self.assertEqual(got, want, '%s %s: got %s, want %s%s' % (
                    mech, user, got, want, self.pctx(out)))

    def test_doveadm_service(self):
        def auth_test(service, rip):
            r = doveadm(self.cfg, 'auth', 'test', '-a', self.srv.path('auth-client'),
                        '-x', 'service=' + service, '-x', 'rip=' + rip,
                        'dave@example.com', 'davepw')
            return r, '\n--- doveadm -> %d\n%s%s%s' % (r.returncode, r.stdout, r.stderr,
                                                         self.ctx())
        r, ctx = auth_test('imap', '192.0.2.31')
        self.assertEqual(r.returncode, 0, ctx)
        self.assertEqual(parse_auth_test(r.stdout), ('passdb: dave@example.com auth succeeded',
                                                     ['user=dave@example.com']), ctx)
        r, ctx = auth_test('smtp', '192.0.2.32')
        self.assertEqual(r.returncode, 77, ctx)
        self.assertEqual(parse_auth_test(r.stdout)[1],
                         ['user=dave@example.com', 'code=user_disabled'], ctx)


class VpopmailLDA(Base):
    """dovecot-lda delivers as the assign uid/gid (the vmail user here, whose
    ids the tree's assign carries); the auth process runs as that user, as
    it would run as vpopmail, and does the opt-in writes."""

    @classmethod
    def setUpClass(cls):
        find_binary('dovecot-lda')
        find_binary('setpriv')
        cls.uid, cls.gid = user_ids('vmail')
        sockets = '''
service auth {
  user = vmail
  unix_listener auth-userdb {
    mode = 0600
    user = vmail
  }
  unix_listener auth-master {
    mode = 0600
  }
  unix_listener auth-login {
    mode = 0666
  }
}
'''
        userdb = 'quota_template=quota_rule=*:backend=%q last_auth=yes create_missing_home=yes'
        cls.srv, cls.tree = start_server(
            cls.setup_tree,
            lambda t: vpopmail_conf(t.args(), t.args(userdb), extra=sockets),
            wait=['auth-userdb', 'auth-master', 'auth-login'])
        cls.addClassCleanup(cls.srv.stop)
        cls.cfg = DovecotClientConfig(cls.srv.tmp, cls.srv.path('auth-userdb'),
                                      first_valid_uid=min(100, cls.uid))

    @classmethod
    def setup_tree(cls, t):
        t.uid, t.gid = cls.uid, cls.gid
        t.build()
        home = t.home('example.com', 'alice')
        os.makedirs(home, mode=0o700)
        t.chown_tree('home/vpopmail/domains', cls.uid, cls.gid)

    def deliver(self, user):
        token = base64.b32encode(os.urandom(10)).decode()
        msg = 'From: s@example.org\nTo: %s\nSubject: %s\n\nbody %s\n' % (user, token, token)
        r = dovecot_lda(self.cfg, user, 's@example.org', msg.encode(), uid=self.uid, gid=self.gid)
        return r, token, '\n--- dovecot-lda -d %s -> %d\n%s%s%s' % (
            user, r.returncode, r.stdout, r.stderr, self.ctx())

    def delivered(self, home, token):
        new = os.path.join(home, 'Maildir', 'new')
        found = []
        for name in os.listdir(new) if os.path.isdir(new) else []:
            with open(os.path.join(new, name), 'rb') as f:
                if token.encode() in f.read():
                    found.append(os.path.join(new, name))
        return found

    def test_deliver(self):
        for user, home in (('alice@example.com', self.tree.home('example.com', 'alice')),
                           ('ALICE@alias.example.com', self.tree.home('example.com', 'alice')),
                           ('gina@example.com', self.tree.home('example.com', 'gina'))):
            with self.subTest(user=user):
                r, token, ctx = self.deliver(user)
                self.assertEqual(r.returncode, 0, ctx)
                files = self.delivered(home, token)
                self.assertEqual(len(files), 1, 'delivered: %r%s' % (files, ctx))
                st = os.stat(files[0])
                self.assertEqual((st.st_uid, st.st_gid), (self.uid, self.gid), ctx)
        # gina's home was created by authd (create_missing_home), owned by vmail
        st = os.stat(self.tree.home('example.com', 'gina'))
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777),
                         (self.uid, self.gid, 0o700), self.ctx())
        r, _, ctx = self.deliver('nobody@example.com')
        self.assertEqual(r.returncode, 67, ctx)     # EX_NOUSER

    def test_lastauth(self):
        cpid = 424242
        with AuthClient(self.srv.path('auth-login'), hello=True, cpid=cpid) as c:
            r = c.plain(1, 'alice@example.com', 'alicepw', service='imap',
                        params=[NP, 'rip=192.0.2.77'])
            self.assertEqual(r.cmd, b'OK', self.ctx(repr(r)))
            cookie = c.handshake.cookie
            with MasterClient(self.srv.path('auth-master'), hello=True) as m:
                m.request(1, cpid, 1, cookie.decode())
                u = m.reply()
        self.assertEqual(u.cmd, b'USER', self.ctx(repr(u)))
        self.assertEqual(u.get('uid'), str(self.uid).encode(), self.ctx(repr(u)))
        path = os.path.join(self.tree.home('example.com', 'alice'), 'lastauth')
        with open(path) as f:
            self.assertEqual(f.read(), '192.0.2.77', self.ctx())
        st = os.stat(path)
        self.assertEqual((st.st_uid, st.st_gid), (self.uid, self.gid), self.ctx())
        # a plain USER lookup (LDA) does not touch it
        mtime = st.st_mtime_ns
        self.user_lookup('alice@example.com')
        self.assertEqual(os.stat(path).st_mtime_ns, mtime, self.ctx())


if __name__ == '__main__':
    unittest.main()
