"""Start authd or Dovecot's auth service on one config, for daemon tests.

The same config body (Dovecot 2.3 syntax: auth_* settings, passdb/userdb
blocks, `service auth { ... }`) runs either the daemon under test
(kind='authd', AUTHD_BIN -F -c FILE) or the reference, real Dovecot 2.3
(kind='dovecot', dovecot -F -c FILE).  Which one is chosen by the test
environment: AUTHD_TEST_SERVER=authd|dovecot (default authd).

    with AuthServer(server_kind(), '''
            auth_mechanisms = plain login
            auth_failure_delay = 0
            passdb {
              driver = passwd-file
              args = scheme=CRYPT username_format=%u {tmp}/users
            }
            userdb {
              driver = passwd-file
              args = username_format=%u {tmp}/users
            }''', files={'users': 'alice:{PLAIN}alicepw:1001:1001::/home/alice\\n'}) as srv:
        sock = srv.path('auth-client')

'{tmp}' in the config and in file contents is replaced by the temporary
directory.  A prelude is prepended: `base_dir = {tmp}/run` and
`log_path = {tmp}/auth.log` for both kinds, plus, for Dovecot, what its master
needs to run a private instance (protocols = none, ssl = no, state_dir,
instance_name, ...).  authd runs with -F, which logs to stderr; stderr of
either program is appended to {tmp}/auth.log, so log() shows everything.

Environment:
    AUTHD_TEST_SERVER  authd (default) | dovecot
    AUTHD_BIN          authd binary (default <repo>/build/san/authd)
    AUTHCTL_BIN        authctl binary (default <repo>/build/san/authctl)
    DOVECOT_BIN        dovecot binary (default: `dovecot` on PATH or /usr/sbin/dovecot)
    AUTHD_KEEP_TMP     if set (non-empty), the temporary directory is kept

Python 3 standard library only.  Every process started is ended by its pid.
"""

import atexit
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

START_TIMEOUT = 10.0     # seconds until the sockets must exist and answer
STOP_TIMEOUT = 5.0       # seconds between SIGTERM and SIGKILL


def server_kind():
    """'authd' or 'dovecot', from AUTHD_TEST_SERVER (default 'authd')."""
    return os.environ.get('AUTHD_TEST_SERVER', 'authd')


def authd_bin():
    return os.environ.get('AUTHD_BIN', os.path.join(REPO, 'build', 'san', 'authd'))


def authctl_bin():
    return os.environ.get('AUTHCTL_BIN', os.path.join(REPO, 'build', 'san', 'authctl'))


def dovecot_bin():
    if os.environ.get('DOVECOT_BIN'):
        return os.environ['DOVECOT_BIN']
    found = shutil.which('dovecot')
    return found or '/usr/sbin/dovecot'


def server_available(kind=None):
    """True if the binary for kind (default server_kind()) exists and is executable."""
    kind = kind or server_kind()
    path = authd_bin() if kind == 'authd' else dovecot_bin()
    return os.path.isfile(path) and os.access(path, os.X_OK)


class ServerError(Exception):
    """The server could not be started (the message carries its log)."""


# ---------------------------------------------------------------- /proc helpers

def _proc_stat(pid):
    """(ppid, starttime) of pid, or None if it is gone."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rfind(b')') + 2:].split()
    # rest[0] = state, rest[1] = ppid, ..., starttime is field 22 => rest[19]
    if rest[0] == b'Z':
        return (int(rest[1]), int(rest[19]), True)
    return (int(rest[1]), int(rest[19]), False)


def _descendants(root):
    """{pid: starttime} of every live descendant of root."""
    children = {}
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        st = _proc_stat(int(name))
        if st is not None:
            children.setdefault(st[0], []).append((int(name), st[1]))
    out = {}
    todo = [root]
    while todo:
        p = todo.pop()
        for child, start in children.get(p, ()):
            if child not in out:
                out[child] = start
                todo.append(child)
    return out


_subreaper_set = False


def _become_subreaper():
    """Make this process the reaper of orphaned descendants (Linux), so the
    server's children that outlive their parent can be waited for here."""
    global _subreaper_set
    if _subreaper_set:
        return
    _subreaper_set = True
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)          # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _die_with_parent():
    """preexec_fn: SIGTERM the server if the test process dies (Linux), so a
    killed test run does not leave daemons behind."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGTERM, 0, 0, 0)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


_running = set()


@atexit.register
def _stop_leftovers():
    for srv in list(_running):
        srv.stop()


def _same_process_alive(pid, starttime):
    st = _proc_stat(pid)
    return st is not None and st[1] == starttime and not st[2]


# ---------------------------------------------------------------- config helpers

def _listener_names(conf):
    """Unix listener paths named in `unix_listener NAME {` lines of conf."""
    return re.findall(r'^\s*unix_listener\s+(\S+)\s*\{', conf, re.M)


def _is_client_socket(name):
    suffix = name.rsplit('/', 1)[-1].rsplit('-', 1)[-1]
    return suffix not in ('master', 'userdb', 'worker', 'token', 'tokenlogin', 'writer')


def _is_master_socket(name):
    suffix = name.rsplit('/', 1)[-1].rsplit('-', 1)[-1]
    return suffix in ('master', 'userdb')


class AuthServer:
    """Runs authd (kind='authd') or Dovecot's auth service (kind='dovecot') on one config.

    conf:   config body text; '{tmp}' is replaced by the temp dir path.
    files:  {relative name: content} written under tmpdir before start; content
            is str or bytes ('{tmp}' replaced), or a (content, mode) tuple to
            choose the file mode (default 0644).
    tmpdir: use this directory instead of a fresh one (not removed at stop).
    wait_sockets: socket names (relative to base_dir, or absolute) start() waits
            for; default: every `unix_listener` of conf, else 'auth-client'.
    probe:  after the sockets exist, connect once and read the greeting, so a
            daemon that dies on its first client is reported by start().
    env:    extra environment variables for the server ('{tmp}' replaced),
            e.g. pam_wrapper's (tests/lib/wrappers.py).
    """

    def __init__(self, kind=None, conf='', files=None, tmpdir=None,
                 wait_sockets=None, probe=True, env=None):
        self.kind = kind or server_kind()
        if self.kind not in ('authd', 'dovecot'):
            raise ValueError('kind must be authd or dovecot, not %r' % (self.kind,))
        self._own_tmp = tmpdir is None
        if tmpdir is None:
            tmpdir = tempfile.mkdtemp(prefix='authdt-', dir='/tmp')
        os.chmod(tmpdir, 0o755)
        self.tmp = tmpdir
        self.body = conf
        self.files = files or {}
        self.pid = None
        self.proc = None
        self.conf_path = os.path.join(self.tmp, 'auth.conf')
        self.log_path = os.path.join(self.tmp, 'auth.log')
        self._wait_sockets = wait_sockets
        self._probe = probe
        self._env = dict(env or {})
        self._logf = None
        self.killed_children = []   # descendants that needed SIGKILL at stop()
        self.exit_status = None      # main process exit status after stop()
        self._final_log = None

    # -- substitution and files
    def subst(self, text):
        if isinstance(text, bytes):
            return text.replace(b'{tmp}', self.tmp.encode())
        return text.replace('{tmp}', self.tmp)

    def write_file(self, name, content, mode=0o644):
        """Write tmp/name (parents 0755); '{tmp}' substituted; returns the path."""
        path = os.path.join(self.tmp, name)
        d = os.path.dirname(path)
        os.makedirs(d, exist_ok=True)
        p = d
        while p.startswith(self.tmp) and p != self.tmp:
            os.chmod(p, 0o755)
            p = os.path.dirname(p)
        data = self.subst(content)
        if isinstance(data, str):
            data = data.encode()
        with open(path, 'wb') as f:
            f.write(data)
        os.chmod(path, mode)
        return path

    def prelude(self):
        lines = ['base_dir = %s/run' % self.tmp,
                 'log_path = %s' % self.log_path]
        if self.kind == 'dovecot':
            lines += ['protocols = none',
                      'ssl = no',
                      'state_dir = %s/state' % self.tmp,
                      'instance_name = %s' % os.path.basename(self.tmp),
                      'default_internal_user = dovecot',
                      'default_login_user = dovenull',
                      'shutdown_clients = yes',
                      'version_ignore = yes']
        return '\n'.join(lines) + '\n'

    def config_text(self):
        return self.prelude() + self.subst(self.body) + '\n'

    # -- lifecycle
    def start(self):
        for name, content in self.files.items():
            if isinstance(content, tuple):
                self.write_file(name, content[0], content[1])
            else:
                self.write_file(name, content)
        os.makedirs(os.path.join(self.tmp, 'run'), exist_ok=True)
        os.chmod(os.path.join(self.tmp, 'run'), 0o755)
        if self.kind == 'dovecot':
            os.makedirs(os.path.join(self.tmp, 'state'), exist_ok=True)
        with open(self.conf_path, 'w') as f:
            f.write(self.config_text())
        os.chmod(self.conf_path, 0o644)
        if self.kind == 'authd':
            argv = [authd_bin(), '-F', '-c', self.conf_path]
        else:
            argv = [dovecot_bin(), '-F', '-c', self.conf_path]
        _become_subreaper()
        self._logf = open(self.log_path, 'ab')
        os.chmod(self.log_path, 0o666)
        env = None
        if self._env:
            env = dict(os.environ)
            env.update({k: self.subst(v) for k, v in self._env.items()})
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._logf,
                                     stderr=self._logf, cwd=self.tmp, close_fds=True,
                                     preexec_fn=_die_with_parent, env=env)
        self.pid = self.proc.pid
        _running.add(self)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _socket_names(self):
        if self._wait_sockets is not None:
            return list(self._wait_sockets)
        names = [n for n in _listener_names(self.subst(self.body))]
        return names or ['auth-client']

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        names = self._socket_names()
        while True:
            if self.proc.poll() is not None:
                raise ServerError('%s exited with status %s before it was ready; log:\n%s'
                                  % (self.kind, self.proc.returncode, self.log()))
            missing = [n for n in names if not self._is_socket(self.path(n))]
            if not missing:
                break
            if time.monotonic() > deadline:
                raise ServerError('%s: sockets %s not created within %.0f s; log:\n%s'
                                  % (self.kind, missing, START_TIMEOUT, self.log()))
            time.sleep(0.02)
        if self._probe:
            self._probe_greeting(names, deadline)

    @staticmethod
    def _is_socket(path):
        try:
            return stat.S_ISSOCK(os.stat(path).st_mode)
        except OSError:
            return False

    def _probe_greeting(self, names, deadline):
        """Read one greeting from a client (or master) socket to prove the auth
        process runs; raises ServerError with the log if it does not."""
        order = [n for n in names if _is_client_socket(n)] + \
                [n for n in names if _is_master_socket(n)]
        if not order:
            return
        name = order[0]
        want = b'\nDONE\n' if _is_client_socket(name) else b'\nSPID\t'
        data = b''
        err = None
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(max(0.5, deadline - time.monotonic()))
            s.connect(self.path(name))
            while want not in b'\n' + data:
                chunk = s.recv(65536)
                if not chunk:
                    err = 'connection closed during greeting'
                    break
                data += chunk
        except OSError as e:
            err = str(e)
        finally:
            s.close()
        if err is not None:
            raise ServerError('%s: no greeting on %s (%s, got %r); log:\n%s'
                              % (self.kind, name, err, data, self.log()))

    def stop(self):
        """SIGTERM the main process by pid, SIGKILL after STOP_TIMEOUT; then make
        sure every descendant recorded before the stop is gone. Idempotent."""
        if self.proc is not None:
            kids = {}
            if self.proc.poll() is None:
                kids = _descendants(self.pid)
                try:
                    os.kill(self.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                if self.kind == 'dovecot':
                    # Dovecot's master lingers ~1 s for its children unless
                    # they are told too; authd must stop its own children.
                    for pid, start in kids.items():
                        if _same_process_alive(pid, start):
                            try:
                                os.kill(pid, signal.SIGTERM)
                            except ProcessLookupError:
                                pass
                try:
                    self.proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    kids.update(_descendants(self.pid))
                    try:
                        os.kill(self.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    self.proc.wait()
            self.killed_children = self._reap_kids(kids)
            self.exit_status = self.proc.returncode
            self.proc = None
        _running.discard(self)
        if self._logf is not None:
            self._logf.close()
            self._logf = None
        if self._own_tmp and not os.environ.get('AUTHD_KEEP_TMP') and os.path.isdir(self.tmp):
            self._final_log = self.log()      # log() keeps working after stop()
            shutil.rmtree(self.tmp, ignore_errors=True)

    @staticmethod
    def _reap_kids(kids):
        """Wait for kids to exit; SIGKILL those that outlive STOP_TIMEOUT.
        Returns the pids that had to be killed."""
        leftover = []
        all_kids = list(kids)
        deadline = time.monotonic() + STOP_TIMEOUT
        while kids and time.monotonic() < deadline:
            kids = {p: s for p, s in kids.items() if _same_process_alive(p, s)}
            if kids:
                time.sleep(0.05)
        for pid, start in kids.items():
            if _same_process_alive(pid, start):
                leftover.append(pid)
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for pid in all_kids:
            # orphans were re-parented to us (subreaper): collect the zombies
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        return leftover

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def children(self):
        """pids of the server's live descendants (auth process, workers...)."""
        return sorted(_descendants(self.pid)) if self.alive() else []

    # -- access
    def path(self, name):
        """Absolute socket path: name as is if absolute, else under base_dir."""
        if os.path.isabs(name):
            return name
        return os.path.join(self.tmp, 'run', name)

    def log(self):
        """Log text so far (bytes decoded leniently); after stop() the final log."""
        if self._final_log is not None:
            return self._final_log
        try:
            with open(self.log_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    CRASH_PATTERN = (r'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|'
                     r'runtime error:|Panic:|killed with signal (?!15\b)\d+|'
                     r'terminated by signal|core dumped')

    def crash_report(self):
        """Log lines that show a crash or a sanitizer finding ('' if none)."""
        return '\n'.join(l for l in self.log().splitlines()
                         if re.search(self.CRASH_PATTERN, l))

    def wait_log(self, pattern, timeout=5.0):
        """Wait until the regex pattern appears in the log; returns the match or None."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.log())
            if m or time.monotonic() > deadline:
                return m
            time.sleep(0.05)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def __repr__(self):
        return '<AuthServer %s pid=%s tmp=%s>' % (self.kind, self.pid, self.tmp)
