"""Run authd under pam_wrapper, nss_wrapper and the tests' preload library,
and find out which process did what (tests of issue 7: auth workers).

    env = preload_env([PAM_WRAPPER_LIB, testlib('authdtest_preload.so')])
    env.update(pam_wrapper_env('{tmp}/pam.d'))
    with AuthServer(kind, conf, files=..., env=env) as srv:
        apid = auth_pid(srv)                    # from the SPID greeting line
        ...
        for rec in read_records(path):           # lines "fn key=value ..."

LD_PRELOAD and the sanitizers: `make check` builds authd with ASan, whose
runtime insists on coming first in the initial library list ("ASan runtime
does not come first..."). preload_env() therefore puts the libasan that the
binary links (found with ldd) in front of the wrappers. That works;
ASAN_OPTIONS=verify_asan_link_order=0 with the wrapper first does not for
pam_wrapper, which then dlopen()s libpam with RTLD_DEEPBIND, which ASan
refuses - hence also PAM_WRAPPER_DISABLE_DEEPBIND=1.

pam_wrapper copies libpam and the service files into /tmp/pam.X (one letter:
a small namespace) when a process first calls pam_start() - in authd that is
each auth worker - and removes it only on a normal exit of that process;
workers that are killed leave theirs. pam_wrapper clears stale ones itself
for pids below 65536; clean_pam_wrapper_dirs() removes every stale one.

The helpers are for test code; Python 3 standard library only.
"""

import glob
import os
import re
import shutil
import signal
import subprocess
import time

from tests.lib.server import authd_bin

PAM_WRAPPER_LIB = 'libpam_wrapper.so'
NSS_WRAPPER_LIB = 'libnss_wrapper.so'


class WrapperMissing(AssertionError):
    """A wrapper library or test library is not installed/built (a failure,
    never a skip: make check installs and builds them)."""


def build_dir():
    """The build the tests run against ($BUILD, else the directory of authd)."""
    b = os.environ.get('BUILD')
    if b:
        return os.path.abspath(b)
    return os.path.dirname(os.path.abspath(authd_bin()))


def testlib(name):
    """Absolute path of a tests/testlib/*.c object built by `make tests`."""
    path = os.path.join(build_dir(), 'testlib', name)
    if not os.path.isfile(path):
        raise WrapperMissing('%s is not built (make tests builds %s)' % (path, name))
    return path


def system_lib(pattern):
    """First file matching a glob under the multiarch library dirs."""
    for base in ('/usr/lib/*-linux-gnu', '/usr/lib', '/lib/*-linux-gnu'):
        found = sorted(glob.glob(os.path.join(base, pattern)))
        if found:
            return found[0]
    raise WrapperMissing('%s not found (packages libpam-wrapper / libnss-wrapper)' % pattern)


def pam_matrix():
    return system_lib('pam_wrapper/pam_matrix.so')


def sanitizer_runtime(binary=None):
    """Path of the libasan the binary is linked with, or None."""
    binary = binary or authd_bin()
    try:
        out = subprocess.run(['ldd', binary], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r'^\s*libasan\.so\S*\s+=>\s+(\S+)', out, re.M)
    return m.group(1) if m else None


def preload_env(libs, binary=None):
    """{'LD_PRELOAD': ...} with the sanitizer runtime first when needed."""
    first = sanitizer_runtime(binary)
    return {'LD_PRELOAD': ':'.join(([first] if first else []) + list(libs))}


def pam_wrapper_env(service_dir):
    """pam_wrapper's switches: PAM service files come from service_dir."""
    return {'PAM_WRAPPER': '1', 'PAM_WRAPPER_SERVICE_DIR': service_dir,
            'PAM_WRAPPER_DISABLE_DEEPBIND': '1'}


def nss_wrapper_env(passwd, group):
    return {'NSS_WRAPPER_PASSWD': passwd, 'NSS_WRAPPER_GROUP': group}


def clean_pam_wrapper_dirs():
    """Remove pam_wrapper's /tmp/pam.X directories of processes that are gone."""
    for d in glob.glob('/tmp/pam.?'):
        try:
            with open(os.path.join(d, 'pid')) as f:
                pid = int(f.read().strip() or 0)
        except (OSError, ValueError):
            continue
        if pid > 0 and not os.path.exists('/proc/%d' % pid):
            shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- processes

def auth_pid(srv):
    """The auth process's pid: SPID of the auth-client greeting."""
    from tests.lib.authproto import AuthClient
    with AuthClient(srv.path('auth-client')) as c:
        return int(c.handshake.spid)


def parent_of(pid):
    """ppid of a live pid, or None."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            data = f.read()
    except OSError:
        return None
    return int(data[data.rfind(b')') + 2:].split()[1])


def alive(pid):
    """True if pid runs (a zombie does not; zombies re-parented to the test
    process, a subreaper, are collected)."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            data = f.read()
    except OSError:
        return False
    if data[data.rfind(b')') + 2:].split()[0] != b'Z':
        return True
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    return False


def workers(srv, apid=None):
    """pids of the server's live auth workers: children of the root parent
    other than the auth process."""
    apid = apid or auth_pid(srv)
    out = []
    for name in os.listdir('/proc'):
        if name.isdigit() and int(name) != apid and parent_of(int(name)) == srv.pid:
            out.append(int(name))
    return sorted(out)


def wait_for(predicate, timeout=10.0, step=0.05):
    """Poll predicate() until it returns something true; returns that or None."""
    deadline = time.monotonic() + timeout
    while True:
        got = predicate()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(step)


def kill(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


# ---------------------------------------------------------------- logs

def read_records(path):
    """Lines "fn key=value key=value ..." as dicts (fn under '_')."""
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    out = []
    for ln in lines:
        words = ln.split(' ')
        rec = {'_': words[0]}
        for w in words[1:]:
            k, _, v = w.partition('=')
            rec[k] = v
        out.append(rec)
    return out
