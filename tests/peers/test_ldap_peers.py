"""Real peers against driver = ldap: Postfix smtpd (smtpd_sasl_type =
dovecot) driven by swaks with PLAIN and LOGIN in each of the three modes,
and dovecot-lda delivering to LDAP users (home, uid and gid from a userdb
.conf.ext whose templates use %{ldap:uid}).
"""

import glob
import os
import unittest
import uuid

from tests.lib.ldaptest import MODES, ldap_server_conf
from tests.lib.peers import DovecotClientConfig, dovecot_lda, find_binary, user_ids
from tests.lib.postfix import Postfix, swaks_auth
from tests.lib.server import AuthServer, server_kind
from tests.lib.slapd import SERVICE_DN, Slapd

SLAPD = None


def setUpModule():
    global SLAPD
    find_binary('slapd')
    SLAPD = Slapd()
    SLAPD.start()


def tearDownModule():
    if SLAPD is not None:
        SLAPD.cleanup()


def _read(path):
    with open(path, 'rb') as f:
        return f.read()


class LdapPostfix(unittest.TestCase):
    def test_swaks_each_mode(self):
        find_binary('swaks')
        cases = [('PLAIN', 'alice', 'alicepw', 235), ('LOGIN', 'bob', 'bobpw', 235),
                 ('PLAIN', 'alice', 'wrong', 535), ('LOGIN', 'nobody', 'x', 535),
                 ('PLAIN', 'frank', 'frankpw', None)]
        for mode in MODES:
            conf, files = ldap_server_conf(SLAPD, mode)
            with AuthServer(server_kind(), conf, files=files) as srv, \
                    Postfix(srv.path('auth-client')) as pf:
                for mech, user, password, want in cases:
                    if want is None:
                        # two entries: FAIL code=temp_fail, which Postfix 3.7
                        # reports as 535 too; a DN template finds no duplicate
                        want = 235 if mode == 'binddn' else 535
                    with self.subTest(mode=mode, mech=mech, user=user, password=password):
                        code, out = swaks_auth(pf.port, mech, user, password)
                        self.assertEqual(code, want, '%s %s %s/%s: got %s, want %s\n%s\n--- log:\n%s'
                                         % (mode, mech, user, password, code, want, out[-1500:],
                                            srv.log()[-2000:]))


class LdapLDA(unittest.TestCase):
    def test_deliver(self):
        find_binary('dovecot-lda')
        uid, gid = user_ids('vmail')
        user_conf = '\n'.join([
            'uris = ' + SLAPD.uri, 'dn = ' + SERVICE_DN, 'dnpass = dovecotpw',
            'base = ou=people,dc=example,dc=com',
            'user_attrs = =home={tmp}/home/%%{ldap:uid}, =uid=%d, =gid=%d, '
            '=mail=maildir:~/Maildir' % (uid, gid),
            'user_filter = (&(objectClass=posixAccount)(uid=%n))', ''])
        conf, files = ldap_server_conf(SLAPD, 'pass', user_conf=user_conf, vmail=True)
        with AuthServer(server_kind(), conf, files=files) as srv:
            home = os.path.join(srv.tmp, 'home')
            os.makedirs(home, mode=0o755)
            for user in ('alice', 'carol'):
                os.makedirs(os.path.join(home, user), mode=0o700)
                os.chown(os.path.join(home, user), uid, gid)
            cfg = DovecotClientConfig(srv.tmp, srv.path('auth-userdb'),
                                      first_valid_uid=min(100, uid))
            for user, home_user, want in (('alice', 'alice', 0), ('CAROL', 'carol', 0),
                                          ('nobody', None, 67)):
                token = uuid.uuid4().hex
                msg = ('From: s@example.com\nTo: %s@example.com\nSubject: %s\n\nbody %s\n'
                       % (user, token, token)).encode()
                r = dovecot_lda(cfg, user, 's@example.com', msg, uid=uid, gid=gid)
                ctx = '\nstdout %s\nstderr %s\n--- log:\n%s' % (r.stdout, r.stderr,
                                                               srv.log()[-2000:])
                self.assertEqual(r.returncode, want, 'deliver to %s%s' % (user, ctx))
                if home_user is None:
                    continue
                found = [p for p in glob.glob(os.path.join(home, home_user, 'Maildir', 'new', '*'))
                         if token.encode() in _read(p)]
                self.assertEqual(len(found), 1, 'message for %s in %s/Maildir/new%s'
                                 % (user, home_user, ctx))
                st = os.stat(found[0])
                self.assertEqual((st.st_uid, st.st_gid), (uid, gid))


if __name__ == '__main__':
    unittest.main()
