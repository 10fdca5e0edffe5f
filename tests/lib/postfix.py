"""A private Postfix instance and SMTP AUTH clients, for the real-peer tests.

    with AuthServer(kind, conf) as srv, Postfix(srv.path('auth-client')) as pf:
        code, out = swaks_auth(pf.port, 'PLAIN', 'alice', 'alicepw')    # 235
        reply = smtp_auth_raw(pf.port, 'plain', b64(b'\\0alice\\0alicepw'))

Postfix (the real smtpd from Debian, `smtpd_sasl_type = dovecot`) runs as its
own instance: `postfix -c DIR start` with main.cf/master.cf in DIR, its own
queue_directory, data_directory and maillog_file (through postlogd), smtpd on a
free 127.0.0.1 port, not chrooted so smtpd_sasl_path can be the absolute path of
the auth server's client socket. Nothing is delivered (discard transport).
Stopping sends SIGTERM to the pid in QUEUE_DIR/pid/master.pid, then makes sure
every process of the instance (the master's descendants) is gone.

Must run as root (postfix start does). Python 3 standard library only.
"""

import base64
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from tests.lib.peers import find_binary, free_port, descendants, same_process_alive

START_TIMEOUT = 15.0     # seconds until smtpd answers on its port
STOP_TIMEOUT = 10.0      # seconds between SIGTERM and SIGKILL of stragglers
SMTP_TIMEOUT = 20.0      # seconds for one SMTP dialogue (Postfix waits 10 s on auth)

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
maillog_file = {dir}/log/maillog
maillog_file_prefixes = {dir}
syslog_name = {syslog_name}
myhostname = authd-test.localdomain
mydomain = localdomain
myorigin = $myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
smtpd_peername_lookup = no
mynetworks = 127.0.0.0/8
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
default_transport = discard:authd test
relay_transport = discard:authd test
biff = no
smtputf8_enable = no
smtpd_banner = $myhostname ESMTP authd-test
smtpd_tls_security_level = none
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {sasl_path}
smtpd_sasl_security_options = {security_options}
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_client_auth_rate_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_event_limit_exceptions = 127.0.0.0/8
smtpd_timeout = 30s
"""

# Only the services this test needs; column 5 (chroot) is n everywhere.
MASTER_CF = """\
{host}:{port} inet n - n - - smtpd
postlog   unix-dgram n  -       n       -       1       postlogd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
"""


class PostfixError(Exception):
    """The instance could not be started (the message carries its log)."""


class Postfix:
    """A private Postfix instance whose smtpd authenticates via sasl_path.

    sasl_path:        absolute path of the auth server's auth-client socket
                      (must be connectable by the `postfix` user).
    security_options: smtpd_sasl_security_options (default noanonymous).
    main_extra:       extra main.cf lines appended verbatim.
    Attributes: dir (DIR/etc config, DIR/queue, DIR/data, DIR/log/maillog),
    conf_dir, port, host; log() returns the maillog text.
    """

    def __init__(self, sasl_path, security_options='noanonymous', main_extra=''):
        if not os.path.isabs(sasl_path):
            raise ValueError('sasl_path must be absolute: %r' % (sasl_path,))
        self.sasl_path = sasl_path
        self.security_options = security_options
        self.main_extra = main_extra
        self.host = '127.0.0.1'
        self.port = None
        self.dir = None
        self.conf_dir = None
        self.master_pid = None
        self._master_start = None
        self.postfix = find_binary('postfix')

    # -- setup
    def _write_config(self):
        d = self.dir
        name = 'postfix-authdt-%s' % os.path.basename(d).rsplit('-', 1)[-1]
        main = MAIN_CF.format(dir=d, syslog_name=name, sasl_path=self.sasl_path,
                              security_options=self.security_options)
        # config, queue, data and log live side by side: postfix-script
        # checks that everything under the config directory is root's.
        for sub, mode in (('etc', 0o755), ('queue', 0o755), ('data', 0o700), ('log', 0o755)):
            os.makedirs(os.path.join(d, sub), mode=mode)
            os.chmod(os.path.join(d, sub), mode)
        shutil.chown(os.path.join(d, 'data'), 'postfix', 'postfix')
        with open(os.path.join(self.conf_dir, 'main.cf'), 'w') as f:
            f.write(main + self.main_extra + '\n')
        with open(os.path.join(self.conf_dir, 'master.cf'), 'w') as f:
            f.write(MASTER_CF.format(host=self.host, port=self.port))

    def _run(self, *args):
        return subprocess.run([self.postfix, '-c', self.conf_dir] + list(args),
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=60)

    def start(self):
        self.dir = tempfile.mkdtemp(prefix='authdt-pf-', dir='/tmp')
        os.chmod(self.dir, 0o755)
        self.conf_dir = os.path.join(self.dir, 'etc')
        self.port = free_port()
        self._write_config()
        for step in ('check', 'start'):
            r = self._run(step)
            if r.returncode != 0:
                msg = 'postfix %s failed (%d):\n%s\nmaillog:\n%s' % (
                    step, r.returncode, r.stdout.decode('utf-8', 'replace'), self.log())
                self.stop()
                raise PostfixError(msg)
        try:
            self._read_master_pid()
            self._wait_smtpd()
        except BaseException:
            self.stop()
            raise
        return self

    def _read_master_pid(self):
        pidfile = os.path.join(self.dir, 'queue', 'pid', 'master.pid')
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with open(pidfile) as f:
                    pid = int(f.read().strip())
                st = _starttime(pid)
                if st is not None:
                    self.master_pid, self._master_start = pid, st
                    return
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise PostfixError('no master pid in %s; maillog:\n%s' % (pidfile, self.log()))
            time.sleep(0.05)

    def _adopt_master(self):
        """Pick up a master that a failed start() left behind, if any."""
        try:
            with open(os.path.join(self.dir, 'queue', 'pid', 'master.pid')) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return
        st = _starttime(pid)
        if st is not None and _is_postfix_master(pid):
            self.master_pid, self._master_start = pid, st

    def _wait_smtpd(self):
        deadline = time.monotonic() + START_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=5) as s:
                    banner = s.recv(512)
                    if banner.startswith(b'220'):
                        s.sendall(b'QUIT\r\n')
                        return
                    last = banner
            except OSError as e:
                last = e
            time.sleep(0.1)
        raise PostfixError('smtpd on %s:%s not answering (%r); maillog:\n%s'
                           % (self.host, self.port, last, self.log()))

    # -- teardown
    def stop(self):
        """SIGTERM the master by the pid in its pid file, wait for every
        process of the instance to go, SIGKILL stragglers. Idempotent."""
        if self.master_pid is not None and same_process_alive(self.master_pid,
                                                              self._master_start):
            kids = descendants(self.master_pid)
            try:
                os.kill(self.master_pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            kids[self.master_pid] = self._master_start
            deadline = time.monotonic() + STOP_TIMEOUT
            while time.monotonic() < deadline:
                kids = {p: s for p, s in kids.items() if same_process_alive(p, s)}
                if not kids:
                    break
                time.sleep(0.05)
            for pid, st in kids.items():
                if same_process_alive(pid, st):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        self.master_pid = None
        if self.dir and os.path.isdir(self.dir) and not os.environ.get('AUTHD_KEEP_TMP'):
            shutil.rmtree(self.dir, ignore_errors=True)

    def processes(self):
        """{pid: starttime} of the live processes of this instance (master and
        its descendants); feed to same_process_alive() to check they are gone."""
        if self.master_pid is None or not same_process_alive(self.master_pid,
                                                             self._master_start):
            return {}
        procs = descendants(self.master_pid)
        procs[self.master_pid] = self._master_start
        return procs

    def log(self):
        if not self.dir:
            return ''
        try:
            with open(os.path.join(self.dir, 'log', 'maillog'), 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def wait_log(self, pattern, timeout=5.0):
        """Wait until the regex appears in the maillog; returns the match or None."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.log())
            if m or time.monotonic() > deadline:
                return m
            time.sleep(0.05)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def _is_postfix_master(pid):
    try:
        with open('/proc/%d/comm' % pid) as f:
            return f.read().strip() == 'master'
    except OSError:
        return False


def _starttime(pid):
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            data = f.read()
    except OSError:
        return None
    return int(data[data.rfind(b')') + 2:].split()[19])


# ---------------------------------------------------------------- clients

_SOURCE_SEQ = itertools.count(1)


def source_ip():
    """A loopback address not used before by this process (127.0.X.Y), to
    connect from: the auth server keys its failure penalty on the client
    address Postfix reports (rip=), so each test can start from a clean slate."""
    n = next(_SOURCE_SEQ)
    base = (os.getpid() % 200) + 20
    return '127.%d.%d.%d' % (base, 1 + n // 250, 1 + n % 250)


def swaks_auth(port, mech, user, password, host='127.0.0.1', source=None, extra=()):
    """Run swaks --quit-after AUTH from the loopback address source (default: a
    fresh source_ip()); returns (SMTP code of the reply that ended the AUTH
    exchange, or None; full swaks transcript). swaks upper-cases mech."""
    argv = [find_binary('swaks'), '--server', host, '--port', str(port),
            '--local-interface', source or source_ip(),
            '--auth', mech, '--auth-user', user, '--auth-password', password,
            '--quit-after', 'AUTH', '--timeout', '30', '--helo', 'client.test'] + list(extra)
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=SMTP_TIMEOUT + 30)
    out = r.stdout.decode('utf-8', 'replace')
    return auth_code(out), out


def auth_code(swaks_output):
    """The SMTP code of the server reply that ended the AUTH exchange in a
    swaks transcript (' -> AUTH PLAIN ...', then '<-  334 ...' challenges, then
    '<-  235 ...' or '<** 535 ...'), or None if there was no such reply."""
    verdict = _auth_verdict(swaks_output)
    return verdict[0] if verdict else None


def auth_reply_text(swaks_output):
    """Text of that reply (e.g. '5.7.8 Error: authentication failed: ...'), or None."""
    verdict = _auth_verdict(swaks_output)
    return verdict[1] if verdict else None


def _auth_verdict(swaks_output):
    seen_auth = False
    for line in swaks_output.splitlines():
        if re.match(r'^ ?[-~*]{1,2}> AUTH ', line):
            seen_auth = True
            continue
        m = re.match(r'^<[-~*]{1,2}\s+(\d{3})[ -](.*)$', line)
        if seen_auth and m and m.group(1) != '334':
            return int(m.group(1)), m.group(2)
    return None


def b64(data):
    return base64.b64encode(data).decode('ascii')


class SMTPClient:
    """A raw SMTP dialogue on a socket: bytes go out as typed, so the AUTH
    mechanism name keeps its case (swaks upper-cases it)."""

    def __init__(self, port, host='127.0.0.1', source=None, timeout=SMTP_TIMEOUT):
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source or source_ip(), 0))
        self.buf = b''
        self.banner = self.reply()

    def reply(self):
        """Read one (possibly multi-line) reply; returns (code, [texts])."""
        lines = []
        while True:
            while b'\r\n' not in self.buf:
                chunk = self.sock.recv(4096)
                if not chunk:
                    raise ConnectionError('SMTP server closed; got %r' % (self.buf,))
                self.buf += chunk
            line, self.buf = self.buf.split(b'\r\n', 1)
            text = line.decode('utf-8', 'replace')
            lines.append(text[4:])
            if len(text) < 4 or text[3] != '-':
                return int(text[:3]), lines

    def cmd(self, line):
        self.sock.sendall(line.encode() + b'\r\n')
        return self.reply()

    def ehlo(self, name='client.test'):
        return self.cmd('EHLO ' + name)

    def close(self):
        try:
            self.sock.sendall(b'QUIT\r\n')
        except OSError:
            pass
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def ehlo_auth_mechs(port, host='127.0.0.1', source=None):
    """The mechanism list of the EHLO `AUTH` line, or None if there is none."""
    with SMTPClient(port, host, source) as c:
        code, lines = c.ehlo()
    for text in lines:
        if text.upper().startswith('AUTH '):
            return text[5:].split()
    return None


def smtp_auth_raw(port, mech, initial=None, responses=(), host='127.0.0.1', source=None):
    """EHLO, then `AUTH <mech>[ <initial>]` exactly as given, then one line per
    334 challenge from responses. Returns the list of (code, texts) replies
    from the AUTH on; the last one is the verdict."""
    out = []
    with SMTPClient(port, host, source) as c:
        c.ehlo()
        line = 'AUTH ' + mech + ('' if initial is None else ' ' + initial)
        rep = c.cmd(line)
        out.append(rep)
        pending = list(responses)
        while rep[0] == 334 and pending:
            rep = c.cmd(pending.pop(0))
            out.append(rep)
    return out
