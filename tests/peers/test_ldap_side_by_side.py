"""Side by side with real Dovecot 2.3 + dovecot-ldap: the same slapd, the
same .conf.ext files (spec B.8), the same requests; every answer must be
the same, request ids aside. Both kinds are always started here.

Compared per mode (pass, bind, binddn): PLAIN and LOGIN for the users of
spec B.8's table and the extra ones (escaping), injection logins, CRAM-MD5,
USER lookups and LIST on auth-userdb.
"""

import re
import unittest

from tests.lib.ldaptest import MODES, cram_md5, ldap_server_conf, params, plain
from tests.lib.peers import AuthClient, MasterClient, find_binary
from tests.lib.server import AuthServer
from tests.lib.slapd import PASSWORDS, Slapd

SLAPD = None


def setUpModule():
    global SLAPD
    find_binary('dovecot')
    find_binary('slapd')
    SLAPD = Slapd()
    SLAPD.start()


def tearDownModule():
    if SLAPD is not None:
        SLAPD.cleanup()


LOGINS = sorted(PASSWORDS.items()) + [
    ('alice', 'wrong'), ('ALICE', 'alicepw'), ('erin', 'x'), ('nobody', 'x'), ('alice', ''),
    ('*', 'alicepw'), ('ali*', 'alicepw'), ('alice)(uid=*', 'alicepw'), ('a\\,b', 'abpw'),
    ('alice,ou=people', 'alicepw'), ('uid=alice', 'alicepw'), ('x(y', 'xypw'),
]
USERS = ['alice', 'carol', 'ALICE', 'nobody', 'frank', 'star*', 'a,b', '*', 'paula']


def normalise(line):
    """A reply with its id replaced and empty fields dropped."""
    fields = [f for f in line.split('\t') if f != '']
    if len(fields) > 1 and fields[1].isdigit():
        fields[1] = 'ID'
    return '\t'.join(fields)


def answers(srv):
    out = []
    path = srv.path('auth-client')
    for user, password in LOGINS:
        with AuthClient(path) as c:
            out.append(('PLAIN %s/%s' % (user, password),
                        normalise(c.request('PLAIN', params(), resp=plain(user, password))[-1])))
    for user, password in (('alice', 'alicepw'), ('bob', 'wrong')):
        with AuthClient(path) as c:
            line = c.request('LOGIN', params(), conts=[user.encode(), password.encode()])[-1]
            out.append(('LOGIN %s/%s' % (user, password), normalise(line)))
    with AuthClient(path) as c:
        out.append(('CRAM-MD5 paula', normalise(cram_md5(c, 'paula', 'paulapw'))))
    with MasterClient(srv.path('auth-userdb')) as m:
        for user in USERS:
            out.append(('USER ' + user, '\n'.join(normalise(l) for l in
                                                  m.command('USER', user, 'service=lda'))))
        out.append(('LIST', '\n'.join(normalise(l) for l in m.command('LIST', 'service=lda'))))
    return out


class LdapSideBySide(unittest.TestCase):
    maxDiff = None

    def test_modes(self):
        for mode in MODES:
            with self.subTest(mode=mode):
                conf, files = ldap_server_conf(SLAPD, mode)
                with AuthServer('dovecot', conf, files=files) as ref:
                    want = answers(ref)
                    ref_log = ref.log()
                with AuthServer('authd', conf, files=files) as srv:
                    got = answers(srv)
                    log = srv.log()
                # the reference really ran: alice logs in, nobody is unknown
                self.assertTrue(dict(want)['PLAIN alice/alicepw'].startswith('OK'), ref_log)
                self.assertEqual(dict(want)['USER nobody'], 'NOTFOUND\tID', ref_log)
                self.assertEqual(len(got), len(want))
                for (label, w), (_, g) in zip(want, got):
                    self.assertEqual(g, w, '%s %s: authd %r, Dovecot %r\n--- authd log:\n%s\n'
                                     '--- dovecot log:\n%s' % (mode, label, g, w, log[-2000:],
                                                               ref_log[-2000:]))
                self.assertNotRegex(log, AuthServer.CRASH_PATTERN)


if __name__ == '__main__':
    unittest.main()
