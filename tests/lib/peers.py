"""Helpers for the real-peer tests: finding the peers' binaries, doveadm and
dovecot-lda with configs of their own, running as another user, and small raw
clients for the auth-client and auth-master/userdb protocols.

    cfg = DovecotClientConfig(tmpdir, srv.path('auth-userdb'))
    r = doveadm(cfg, 'user', 'alice')              # CompletedProcess
    r = dovecot_lda(cfg, 'alice', 'from@x', msg, uid=vmail_uid, gid=vmail_gid)
    with AuthClient(srv.path('auth-client')) as c:
        c.request('PLAIN', resp=b'\\0alice\\0pw')      # -> 'OK\\t1\\tuser=alice'
    with MasterClient(srv.path('auth-userdb')) as m:
        m.command('USER', 'alice', 'service=lda')     # -> ['USER\\t1\\talice\\t...']

A peer binary that is missing is a test FAILURE (PeerMissing is an
AssertionError): `make check` installs the peers, so a missing one means a
broken install step, never a reason to skip.

Python 3 standard library only.
"""

import base64
import grp
import os
import pwd
import shutil
import socket
import subprocess
import time

# Where Debian puts binaries that are not on a normal user's PATH.
EXTRA_BIN_DIRS = ('/usr/sbin', '/sbin', '/usr/lib/dovecot', '/usr/lib/postfix/sbin')
PEER_TIMEOUT = 60.0      # seconds for one peer command
SOCK_TIMEOUT = 15.0      # seconds for one raw protocol reply (failure delay is 2 s)


class PeerMissing(AssertionError):
    """A peer program the tests need is not installed."""


def find_binary(name):
    """Absolute path of the program name; raises PeerMissing if not found."""
    found = shutil.which(name)
    if found:
        return found
    for d in EXTRA_BIN_DIRS:
        p = os.path.join(d, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    raise PeerMissing('%s is not installed (make check installs it via '
                      'scripts/deps.sh test)' % name)


def free_port(host='127.0.0.1'):
    """A TCP port on host that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- processes

def _proc_stat(pid):
    """(ppid, starttime, zombie) of pid, or None if it is gone."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rfind(b')') + 2:].split()
    return int(rest[1]), int(rest[19]), rest[0] == b'Z'


def descendants(root):
    """{pid: starttime} of every live descendant of pid root."""
    children = {}
    for name in os.listdir('/proc'):
        if name.isdigit():
            st = _proc_stat(int(name))
            if st is not None:
                children.setdefault(st[0], []).append((int(name), st[1]))
    out = {}
    todo = [root]
    while todo:
        for child, start in children.get(todo.pop(), ()):
            if child not in out:
                out[child] = start
                todo.append(child)
    return out


def same_process_alive(pid, starttime):
    """True if pid is still the process that started at starttime (not a zombie)."""
    st = _proc_stat(pid)
    return st is not None and st[1] == starttime and not st[2]


# ---------------------------------------------------------------- users

def user_ids(name):
    """(uid, gid) of the system user name; PeerMissing if it does not exist."""
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        raise PeerMissing('system user %s is missing (scripts/deps.sh test creates vmail)'
                          % name) from None
    return pw.pw_uid, pw.pw_gid


def group_id(name):
    return grp.getgrnam(name).gr_gid


def as_user_argv(argv, uid, gid):
    """argv wrapped in setpriv so it runs with uid/gid and no extra groups."""
    return [find_binary('setpriv'), '--reuid=%d' % uid, '--regid=%d' % gid,
            '--clear-groups', '--'] + list(argv)


# ---------------------------------------------------------------- doveadm / LDA

class DovecotClientConfig:
    """A minimal dovecot.conf for doveadm and dovecot-lda as *clients*: no
    passdb/userdb, auth_socket_path = the server's userdb socket. Written to
    dir/client/dovecot.conf (dir/client and its run/state dirs are 0755)."""

    def __init__(self, tmpdir, userdb_socket, first_valid_uid=100):
        self.dir = os.path.join(tmpdir, 'client')
        for sub in ('', 'run', 'state'):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
            os.chmod(os.path.join(self.dir, sub), 0o755)
        self.path = os.path.join(self.dir, 'dovecot.conf')
        text = '\n'.join([
            'base_dir = %s/run' % self.dir,
            'state_dir = %s/state' % self.dir,
            'instance_name = authdt-client-%s' % os.path.basename(tmpdir),
            'protocols = none',
            'ssl = no',
            'log_path = /dev/stderr',
            'auth_socket_path = %s' % userdb_socket,
            'mail_location = maildir:~/Maildir',
            'postmaster_address = postmaster@example.com',
            'hostname = authd-test.example.com',
            'first_valid_uid = %d' % first_valid_uid,
            'lda_mailbox_autocreate = yes',
            'version_ignore = yes',
            ''])
        with open(self.path, 'w') as f:
            f.write(text)
        os.chmod(self.path, 0o644)


def run(argv, input=None, timeout=PEER_TIMEOUT, env=None):
    """Run argv; returns CompletedProcess with str stdout/stderr."""
    return subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, env=env,
                          stdin=None if input is not None else subprocess.DEVNULL)


def doveadm(cfg, *args):
    """doveadm -c cfg.path ARGS; returns CompletedProcess (text)."""
    r = run([find_binary('doveadm'), '-c', cfg.path] + list(args))
    return _text(r)


def dovecot_lda(cfg, user, sender, message, uid=None, gid=None, extra=()):
    """Deliver message (bytes) to user with dovecot-lda -c cfg.path -d user -f
    sender, run as uid/gid through setpriv when given; returns CompletedProcess
    (text)."""
    argv = [find_binary('dovecot-lda'), '-c', cfg.path, '-d', user, '-f', sender] + list(extra)
    if uid is not None:
        argv = as_user_argv(argv, uid, gid)
    return _text(run(argv, input=message))


def _text(r):
    r.stdout = r.stdout.decode('utf-8', 'replace')
    r.stderr = r.stderr.decode('utf-8', 'replace')
    return r


# ---------------------------------------------------------------- raw protocols

def b64(data):
    return base64.b64encode(data).decode('ascii')


class _LineSocket:
    def __init__(self, path, timeout=SOCK_TIMEOUT):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b''

    def send(self, text):
        self.sock.sendall(text.encode() if isinstance(text, str) else text)

    def line(self):
        """One line without its LF, as str; ConnectionError on EOF."""
        while b'\n' not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError('auth server closed the connection (pending %r)'
                                      % (self.buf,))
            self.buf += chunk
        line, self.buf = self.buf.split(b'\n', 1)
        return line.decode('utf-8', 'surrogateescape')

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class AuthClient(_LineSocket):
    """auth-client protocol: reads the handshake to DONE, sends VERSION/CPID.
    handshake: the server's handshake lines."""

    def __init__(self, path, minor=2, cpid=None, timeout=SOCK_TIMEOUT):
        super().__init__(path, timeout)
        self.send('VERSION\t1\t%d\nCPID\t%d\n' % (minor, cpid or os.getpid()))
        self.handshake = []
        while True:
            line = self.line()
            self.handshake.append(line)
            if line == 'DONE':
                break
        self.next_id = 1

    def mechs(self):
        return [l.split('\t')[1] for l in self.handshake if l.startswith('MECH\t')]

    def auth(self, mech, params=('service=smtp',), resp=None, id=None):
        """Send AUTH; resp is bytes (base64-encoded here) or None. Returns the id."""
        if id is None:
            id = self.next_id
            self.next_id += 1
        fields = ['AUTH', str(id), mech] + list(params)
        if resp is not None:
            fields.append('resp=' + b64(resp))
        self.send('\t'.join(fields) + '\n')
        return id

    def cont(self, id, data):
        self.send('CONT\t%d\t%s\n' % (id, b64(data)))

    def reply(self, id):
        """Next reply line for id (other ids' lines are an error)."""
        line = self.line()
        if line.split('\t')[1:2] != [str(id)]:
            raise AssertionError('reply for another id: %r (want %d)' % (line, id))
        return line

    def request(self, mech, params=('service=smtp',), resp=None, conts=()):
        """A whole dialogue: AUTH, then each of conts (bytes) after each CONT.
        Returns the list of server lines (the last is OK or FAIL)."""
        id = self.auth(mech, params, resp)
        out = [self.reply(id)]
        pending = list(conts)
        while out[-1].startswith('CONT\t') and pending:
            self.cont(id, pending.pop(0))
            out.append(self.reply(id))
        return out


class MasterClient(_LineSocket):
    """auth-master / auth-userdb protocol: reads VERSION and SPID."""

    def __init__(self, path, timeout=SOCK_TIMEOUT):
        super().__init__(path, timeout)
        self.greeting = [self.line(), self.line()]
        self.send('VERSION\t1\t0\n')
        self.next_id = 1

    def command(self, cmd, *args):
        """Send `cmd id args...`; returns the reply lines (a LIST runs to DONE)."""
        id = self.next_id
        self.next_id += 1
        self.send('\t'.join([cmd, str(id)] + list(args)) + '\n')
        out = []
        while True:
            line = self.line()
            out.append(line)
            if cmd != 'LIST' or line.startswith('DONE\t'):
                return out


def wait_for(pred, timeout=5.0, step=0.05):
    """Poll pred() until it returns a true value or timeout; returns the value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


# ---------------------------------------------------------------- shared test setup

# Passwords of the standard users (see standard_users()).
PASSWORDS = {'alice': 'alicepw', 'carol': 'carolpw', 'eve': 'evepw', 'frank': 'frankpw',
             'quinn': 'quinnpw'}
NOLOGIN_REASON = 'Account-moved-elsewhere'   # passwd-file values cannot hold spaces
CAROL_HASH = ('{SHA512-CRYPT}$6$/fuY.2EhWNhcXaBB$WDpXH3OsYbjXRw1PXU8y6ju.VRnrkNi7rG/61qIym'
              'DoGYJw.wDPA7uJnnhIvmVAWtoTMZ4A6zp1i9gZje7rUz1')   # doveadm pw, "carolpw"


def standard_conf(mechanisms='plain login', client_user='postfix', client_group='postfix',
                  client_mode='0660', userdb_user='vmail', userdb_mode='0600', extra=''):
    """The config body the peer tests share (Dovecot 2.3 syntax, '{tmp}' for
    the server's temp dir): a deny passdb ({tmp}/denied) before a passwd-file
    passdb ({tmp}/users), a passwd-file userdb, and auth-client (for Postfix:
    owned by postfix, 0660), auth-userdb (0600, vmail: dovecot-lda runs as
    vmail) and auth-master (0600, root) listeners. auth_failure_delay = 0
    keeps failures at the 0.5 s flush tick."""
    return '''
auth_mechanisms = %(mechanisms)s
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = {tmp}/denied
  deny = yes
}
passdb {
  driver = passwd-file
  args = scheme=CRYPT username_format=%%u {tmp}/users
}
userdb {
  driver = passwd-file
  args = username_format=%%u {tmp}/users
}
service auth {
  unix_listener auth-client {
    mode = %(client_mode)s
    user = %(client_user)s
    group = %(client_group)s
  }
  unix_listener auth-userdb {
    mode = %(userdb_mode)s
    user = %(userdb_user)s
  }
  unix_listener auth-master {
    mode = 0600
  }
}
%(extra)s
''' % dict(mechanisms=mechanisms, client_user=client_user, client_group=client_group,
           client_mode=client_mode, userdb_user=userdb_user, userdb_mode=userdb_mode,
           extra=extra)


def standard_users(uid, gid):
    """{'users': ..., 'denied': ...} files for AuthServer(files=...):
    alice   {PLAIN}, userdb_mail=maildir:~/Maildir, home {tmp}/home/alice
    carol   {SHA512-CRYPT}
    eve     listed in the deny passdb -> code=user_disabled
    frank   nologin reason=NOLOGIN_REASON
    quinn   user=quinn2 (passdb renames the user)
    uid/gid: the numeric ids every user gets (the vmail user's, for LDA)."""
    def line(user, password, extra=''):
        text = '%s:%s:%d:%d::{tmp}/home/%s' % (user, password, uid, gid, user)
        return text + ('::' + extra if extra else '') + '\n'
    users = ''.join([
        line('alice', '{PLAIN}alicepw', 'userdb_mail=maildir:~/Maildir'),
        line('carol', CAROL_HASH),
        line('eve', '{PLAIN}evepw'),
        line('frank', '{PLAIN}frankpw', 'nologin reason=' + NOLOGIN_REASON),
        line('quinn', '{PLAIN}quinnpw', 'user=quinn2'),
    ])
    return {'users': users, 'denied': 'eve\n'}


# ---------------------------------------------------------------- doveadm output

def parse_auth_test(stdout):
    """`doveadm auth test` output -> (verdict line, [extra fields]); empty
    fields (Dovecot's trailing-TAB quirk) are dropped."""
    lines = stdout.splitlines()
    verdict = lines[0] if lines else ''
    fields = [l.strip() for l in lines[1:] if l.startswith('  ') and l.strip()]
    return verdict, fields


def parse_field_table(stdout):
    """`doveadm user` default output ("field\\tvalue" table) -> dict."""
    out = {}
    for line in stdout.splitlines()[1:]:
        if '\t' in line:
            k, v = line.split('\t', 1)
            out[k] = v
    return out


def parse_colon_list(stdout):
    """`doveadm auth lookup` / `doveadm user -u` output ("  key : value" lines,
    bare "  key" for flags) -> (header line, dict)."""
    lines = stdout.splitlines()
    out = {}
    for line in lines[1:]:
        if not line.strip():
            continue
        k, _, v = line.strip().partition(':')
        out[k.strip()] = v.strip()
    return (lines[0] if lines else ''), out
