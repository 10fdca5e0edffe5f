"""LDAP over TLS: StartTLS (tls = yes) and ldaps:// URIs against a slapd
with a self-signed certificate, verified through tls_ca_cert_file with
tls_require_cert = demand; a certificate that cannot be verified makes the
connection fail (temp failure), never a silent plaintext fallback; a
second, dead URI before the good one shows failover.
"""

import unittest

from tests.lib.ldaptest import ldap_server_conf, params, plain, verdict
from tests.lib.peers import AuthClient, find_binary, free_port
from tests.lib.server import AuthServer, server_kind
from tests.lib.slapd import Slapd

SLAPD = None


def setUpModule():
    global SLAPD
    find_binary('slapd')
    SLAPD = Slapd(tls=True)
    SLAPD.start()


def tearDownModule():
    if SLAPD is not None:
        SLAPD.cleanup()


def pass_conf(uris, extra):
    text = SLAPD.conf_ext('pass')
    text = text.replace('uris = ' + SLAPD.uri, 'uris = ' + uris)
    return text + extra + '\n'


class LdapTLS(unittest.TestCase):
    def login(self, conf_ext):
        conf, files = ldap_server_conf(SLAPD, 'pass')
        files['ldap-pass.conf.ext'] = conf_ext
        with AuthServer(server_kind(), conf, files=files) as srv:
            with AuthClient(srv.path('auth-client')) as c:
                line = c.request('PLAIN', params(), resp=plain('alice', 'alicepw'))[-1]
            return line, srv.log()

    def test_cases(self):
        ca = 'tls_ca_cert_file = %s\ntls_require_cert = demand' % SLAPD.ca_file
        dead = 'ldap://127.0.0.1:%d' % free_port()
        cases = [
            ('StartTLS', pass_conf(SLAPD.uri, 'tls = yes\n' + ca), 'OK'),
            ('ldaps', pass_conf(SLAPD.ldaps_uri, ca), 'OK'),
            ('failover to the second URI', pass_conf(dead + ' ' + SLAPD.ldaps_uri, ca), 'OK'),
            ('StartTLS, unverifiable certificate',
             pass_conf(SLAPD.uri, 'tls = yes\ntls_require_cert = demand\n'
                       'tls_ca_cert_file = /etc/ssl/certs/ca-certificates.crt'), 'FAIL temp_fail'),
            ('ldaps, unverifiable certificate',
             pass_conf(SLAPD.ldaps_uri, 'tls_require_cert = demand\n'
                       'tls_ca_cert_file = /etc/ssl/certs/ca-certificates.crt'), 'FAIL temp_fail'),
        ]
        for name, conf_ext, want in cases:
            with self.subTest(name=name):
                line, log = self.login(conf_ext)
                self.assertEqual(verdict(line), want, '%s: got %r\n--- log:\n%s'
                                 % (name, line, log[-2500:]))


if __name__ == '__main__':
    unittest.main()
