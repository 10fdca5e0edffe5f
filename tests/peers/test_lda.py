"""Real dovecot-lda delivering through the auth server's userdb.

dovecot-lda -c CFG -d USER runs as the vmail user (setpriv), connects to the
auth-userdb listener (mode 0600, owned by vmail), sends
`VERSION\\t1\\t0` + `USER\\t1\\t<user>\\tservice=lda`, and delivers into
<home>/Maildir with the uid/gid the userdb returned (vmail's ids, from the
passwd-file). A user the socket mode shuts out (nobody) gets exit 75 and
"Permission denied". Server kind from AUTHD_TEST_SERVER. Facts:
shared/spec/real-clients.md, dovecot-auth-protocol.md sections 3.3 and 3.9.
"""

import glob
import os
import unittest
import uuid

from tests.lib.peers import (DovecotClientConfig, dovecot_lda, find_binary, standard_conf,
                             standard_users, user_ids)
from tests.lib.server import AuthServer, server_kind

EX_NOUSER = 67
EX_TEMPFAIL = 75


class DovecotLDA(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.kind = server_kind()
        find_binary('dovecot-lda')      # a missing peer fails the class, never skips it
        find_binary('setpriv')
        cls.uid, cls.gid = user_ids('vmail')
        cls.nobody = user_ids('nobody')
        cls.srv = AuthServer(cls.kind, standard_conf(), files=standard_users(cls.uid, cls.gid))
        cls.srv.start()
        cls.addClassCleanup(cls.srv.stop)
        home = os.path.join(cls.srv.tmp, 'home')
        os.makedirs(home, mode=0o755, exist_ok=True)
        for user in ('alice', 'carol'):
            os.makedirs(os.path.join(home, user), mode=0o700)
            os.chown(os.path.join(home, user), cls.uid, cls.gid)
        cls.cfg = DovecotClientConfig(cls.srv.tmp, cls.srv.path('auth-userdb'),
                                      first_valid_uid=min(100, cls.uid))

    def deliver(self, user, as_ids):
        token = uuid.uuid4().hex
        msg = ('From: sender@example.com\nTo: %s@example.com\nSubject: authd test %s\n'
               'Message-ID: <%s@authd.test>\n\nbody %s\n' % (user, token, token, token))
        r = dovecot_lda(self.cfg, user, 'sender@example.com', msg.encode(),
                        uid=as_ids[0], gid=as_ids[1])
        ctx = '\n--- dovecot-lda -d %s as %s -> exit %d\nstdout:\n%s\nstderr:\n%s\n--- %s log ' \
              '(tail):\n%s' % (user, as_ids, r.returncode, r.stdout, r.stderr, self.kind,
                               self.srv.log()[-3000:])
        return r, token, ctx

    def delivered(self, home_user, token):
        """Files under home_user's Maildir/new that carry token."""
        found = []
        for path in glob.glob(os.path.join(self.srv.tmp, 'home', home_user, 'Maildir', 'new',
                                           '*')):
            with open(path, 'rb') as f:
                if token.encode() in f.read():
                    found.append(path)
        return found

    def test_deliver_as_vmail(self):
        cases = [
            dict(user='alice', home='alice'),     # userdb mail=maildir:~/Maildir
            dict(user='ALICE', home='alice'),     # name normalised by the server
            dict(user='carol', home='carol'),     # mail_location of LDA's config
        ]
        for c in cases:
            with self.subTest(**c):
                r, token, ctx = self.deliver(c['user'], (self.uid, self.gid))
                self.assertEqual(r.returncode, 0, 'exit: got %d, want 0%s' % (r.returncode, ctx))
                files = self.delivered(c['home'], token)
                self.assertEqual(len(files), 1, 'messages with token in %s/Maildir/new: got '
                                 '%r, want one%s' % (c['home'], files, ctx))
                st = os.stat(files[0])
                self.assertEqual((st.st_uid, st.st_gid), (self.uid, self.gid),
                                 'owner of %s: got %d:%d, want vmail %d:%d%s' % (
                                     files[0], st.st_uid, st.st_gid, self.uid, self.gid, ctx))

    def test_unknown_user(self):
        r, _, ctx = self.deliver('nosuch', (self.uid, self.gid))
        self.assertEqual(r.returncode, EX_NOUSER, 'exit: got %d, want %d (EX_NOUSER)%s'
                         % (r.returncode, EX_NOUSER, ctx))

    def test_socket_mode_excludes_nobody(self):
        r, token, ctx = self.deliver('alice', self.nobody)
        self.assertEqual(r.returncode, EX_TEMPFAIL, 'exit: got %d, want %d (EX_TEMPFAIL)%s'
                         % (r.returncode, EX_TEMPFAIL, ctx))
        self.assertIn('Permission denied', r.stderr, ctx)
        self.assertIn(self.srv.path('auth-userdb'), r.stderr, ctx)
        self.assertEqual(self.delivered('alice', token), [], ctx)


if __name__ == '__main__':
    unittest.main()
