"""A private OpenLDAP slapd for the LDAP tests.

    with Slapd() as ldap:                 # fixture of spec B.8 + EXTRA_USERS
        conf = ldap.conf_ext('pass')      # ldap-pass.conf.ext text, our port
        ldap.stop(); ldap.start()         # same port and database
        ldap.pause(); ldap.resume()       # SIGSTOP / SIGCONT
    Slapd(extra_ldif=numbered_users('ldap', 1000))   # + ldap<i> / pw<i>

Its own slapd.conf (shared/spec/fixtures/ldap-fixture-slapd.conf with the
paths moved into a temporary directory), mdb backend, listening on a free
127.0.0.1 port; the database is filled offline with slapadd from
shared/spec/fixtures/ldap-fixture.ldif plus EXTRA_USERS before the first
start. Every process is started here and ended by its pid.

Python 3 standard library only.
"""

import base64
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from tests.lib.peers import find_binary, free_port

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Copies of the spec's LDAP fixture files (shared/spec/fixtures/ldap-*), kept
# in the tree so a clean clone runs the tests on its own.
SPEC_FIXTURES = os.environ.get('AUTHD_SPEC_FIXTURES',
                               os.path.join(REPO, 'tests', 'fixtures', 'ldap'))
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
BASE = 'ou=people,dc=example,dc=com'
SERVICE_DN = 'cn=dovecot,ou=services,dc=example,dc=com'

# Passwords of the fixture's users and of the extra ones.
PASSWORDS = {'alice': 'alicepw', 'bob': 'bobpw', 'carol': 'carolpw', 'dave': 'davepw',
             'star*': 'starpw', 'frank': 'frankpw', 'paula': 'paulapw', 'a,b': 'abpw',
             'x(y)': 'xypw', 'j\u00fcrgen': 'jpw', 'b\\s': 'bspw'}


def ssha(password, salt=b'authdsal'):
    """{SSHA} value as slappasswd makes it."""
    digest = hashlib.sha1(password.encode() + salt).digest()
    return '{SSHA}' + base64.b64encode(digest + salt).decode()


def numbered_users(prefix, count, first_number=100000):
    """LDIF of count users <prefix><i> (i = 0..count-1) with password pw<i>
    as {SSHA} (a salt of their own), the naming of tests/bench/loadgen."""
    out = []
    for i in range(count):
        uid = '%s%d' % (prefix, i)
        salt = hashlib.sha1(uid.encode()).digest()[:8]
        out.append(_user(uid, 'uid=' + uid, first_number + i, ssha('pw%d' % i, salt)))
    return '\n'.join(out)


def _attr(name, value):
    """One LDIF line; non-ASCII or special values are base64-encoded."""
    if value.isascii() and not value.startswith((' ', ':', '<')):
        return '%s: %s' % (name, value)
    return '%s:: %s' % (name, base64.b64encode(value.encode()).decode())


def _user(uid, rdn, number, password=None, mails=()):
    lines = ['dn: %s,%s' % (rdn, BASE) if rdn.isascii() else
             'dn:: ' + base64.b64encode(('%s,%s' % (rdn, BASE)).encode()).decode(),
             'objectClass: inetOrgPerson', 'objectClass: posixAccount',
             _attr('uid', uid), _attr('cn', uid), 'sn: Extra',
             'uidNumber: %d' % number, 'gidNumber: 2000',
             _attr('homeDirectory', '/var/vmail/example.com/' + uid)]
    lines += ['mail: %s' % m for m in mails]
    if password is not None:
        lines.append(_attr('userPassword', password))
    return '\n'.join(lines) + '\n'


# Beyond the spec's LDIF: a {PLAIN} user (CRAM-MD5 in lookup mode), and
# names that only a correct escaper finds (DN and filter specials, UTF-8).
EXTRA_USERS = '\n'.join([
    _user('paula', 'uid=paula', 2010, '{PLAIN}paulapw', ('paula@example.com',)),
    _user('a,b', 'uid=a\\2Cb', 2011, ssha('abpw')),
    _user('x(y)', 'uid=x(y)', 2012, ssha('xypw')),
    _user('j\u00fcrgen', 'uid=j\u00fcrgen', 2013, ssha('jpw')),
    _user('b\\s', 'uid=b\\5Cs', 2014, ssha('bspw')),
])


def conf_ext(kind, port):
    """Text of the spec's ldap-<kind>.conf.ext (pass, bind, binddn, user)
    pointed at 127.0.0.1:port."""
    with open(os.path.join(SPEC_FIXTURES, 'ldap-%s.conf.ext' % kind)) as f:
        text = f.read()
    return text.replace('ldap://127.0.0.1:3899', 'ldap://127.0.0.1:%d' % port)


class Slapd:
    """tls=True: a self-signed certificate for 127.0.0.1 (self.ca_file),
    StartTLS on self.uri and ldaps:// on self.ldaps_uri."""

    def __init__(self, extra_ldif=EXTRA_USERS, port=None, tls=False):
        self.extra_ldif = extra_ldif
        self.port = port or free_port()
        self.uri = 'ldap://127.0.0.1:%d' % self.port
        self.tls = tls
        self.ldaps_port = free_port() if tls else None
        self.ldaps_uri = 'ldaps://127.0.0.1:%d' % self.ldaps_port if tls else None
        self.ca_file = None
        self.dir = None
        self.proc = None
        self.log_path = None
        self._logf = None

    def _write_config(self):
        with open(os.path.join(SPEC_FIXTURES, 'ldap-fixture-slapd.conf')) as f:
            conf = f.read()
        conf = conf.replace('/srv/schemes-ref/ldap', self.dir)
        conf = conf.replace('loglevel stats', 'loglevel none')
        if self.tls:
            self.ca_file = os.path.join(self.dir, 'cert.pem')
            key = os.path.join(self.dir, 'key.pem')
            r = subprocess.run([find_binary('openssl'), 'req', '-x509', '-newkey', 'rsa:2048',
                                '-nodes', '-keyout', key, '-out', self.ca_file, '-days', '30',
                                '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            if r.returncode != 0:
                raise RuntimeError('openssl req failed: %s' % r.stdout.decode())
            # the auth process runs unprivileged: it must read the CA file
            os.chmod(self.dir, 0o755)
            os.chmod(self.ca_file, 0o644)
            conf = conf.replace('database mdb', 'TLSCertificateFile %s\nTLSCertificateKeyFile %s\n'
                                'database mdb' % (self.ca_file, key), 1)
        self.conf_path = os.path.join(self.dir, 'slapd.conf')
        with open(self.conf_path, 'w') as f:
            f.write(conf)
        os.makedirs(os.path.join(self.dir, 'db'), exist_ok=True)
        with open(os.path.join(SPEC_FIXTURES, 'ldap-fixture.ldif')) as f:
            ldif = f.read().rstrip('\n') + '\n\n' + self.extra_ldif
        ldif_path = os.path.join(self.dir, 'users.ldif')
        with open(ldif_path, 'w') as f:
            f.write(ldif)
        r = subprocess.run([find_binary('slapadd'), '-q', '-f', self.conf_path, '-l', ldif_path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        if r.returncode != 0:
            raise RuntimeError('slapadd failed (%d): %s' % (r.returncode, r.stdout.decode()))

    def start(self):
        if self.dir is None:
            self.dir = tempfile.mkdtemp(prefix='authd-slapd-')
            self.log_path = os.path.join(self.dir, 'slapd.log')
            self._write_config()
        self._logf = open(self.log_path, 'ab')
        self.proc = subprocess.Popen(
            [find_binary('slapd'), '-f', self.conf_path, '-h',
             self.uri + '/' + (' %s/' % self.ldaps_uri if self.tls else ''), '-d', '0'],
            stdin=subprocess.DEVNULL, stdout=self._logf, stderr=self._logf, close_fds=True)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError('slapd exited with %s: %s' % (self.proc.returncode, self.log()))
            try:
                with socket.create_connection(('127.0.0.1', self.port), timeout=0.5):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError('slapd did not listen on %d: %s' % (self.port, self.log()))
                time.sleep(0.05)

    def stop(self):
        """SIGTERM by pid (SIGCONT first in case it is paused), SIGKILL after
        STOP_TIMEOUT. The database stays for the next start()."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            for sig in (signal.SIGCONT, signal.SIGTERM):
                try:
                    os.kill(self.proc.pid, sig)
                except ProcessLookupError:
                    pass
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        if self._logf is not None:
            self._logf.close()
            self._logf = None

    def kill(self):
        """SIGKILL by pid: connections drop at once, as with a crash."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.stop()

    def pause(self):
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def cleanup(self):
        self.stop()
        if self.dir is not None and not os.environ.get('AUTHD_KEEP_TMP'):
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def conf_ext(self, kind):
        return conf_ext(kind, self.port)

    def log(self):
        try:
            with open(self.log_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')[-4000:]
        except (OSError, TypeError):
            return ''

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
        return False
