"""`make bench`: authd against Dovecot's auth service, side by side, one run.

    python3 tests/bench/bench.py [--build build] [--quick] [--only REGEX] [--json FILE]
    BENCH_QUICK=1 is the same as --quick (a representative subset, < 3 min).

What it does, in order:
  1. the crypt ceiling: build/bench/cryptbench (SHA512-CRYPT and BLF-CRYPT
     verifications per second through libxcrypt on one and on all CPUs);
  2. passwd-files through build/bench/usersgen (authd's own scheme
     generator): "small" with 1000 users for each of {PLAIN}, {SSHA256},
     {SHA512-CRYPT}, {BLF-CRYPT}, {CRAM-MD5}, {DIGEST-MD5}, {SCRAM-SHA-256}
     (user <prefix><i>, password pw<i>), and "big" with 1 000 000 {PLAIN}
     users;
  3. both servers at once (authd = build/authd; dovecot = `dovecot -F -c`
     with protocols = none, when installed) on the same config: passwd-file
     passdb and userdb, auth_failure_delay = 0, no cache, every request
     carrying no-penalty. For each cell, back to back: its ceiling (the echo
     server build/bench/echo with the same request lines for the no-hash
     cells, cryptbench for the hash cells), authd, Dovecot; each through
     build/bench/loadgen, which checks every reply. Server CPU (whole
     process tree, % of one CPU), RSS (the serving process: authd's auth
     child, Dovecot's `auth`), and "other": CPUs busy with anything else on
     the machine meanwhile (a shared machine makes numbers noisy; the
     interleaving makes the noise fall on both servers alike; a full run
     repeats each cell, servers in the other order, and keeps the best);
  4. with 1M users: startup to the first OK, RSS, the 1M cells, and the
     file replaced under load (one user added): the time until that user
     logs in and the worst latency of a steady 16x1 load meanwhile;
  5. LDAP: one private slapd (tests/lib/slapd.py, its default config) with
     LDAP_USERS users ldap<i> / pw<i> ({SSHA}); both servers on it with
     tests/lib/ldaptest.py's config (the fixture's ldap-pass.conf.ext:
     password lookup, ldap-bind.conf.ext: auth_bind with a DN search),
     auth_verbose off; slapd's CPU is reported in its own column;
  6. memory on fresh servers: at idle and per idle auth-client and
     auth-userdb connection (10 000 of each held open);
  7. one table, with authd/Dovecot per cell and authd against the ceiling.

The numbers are reported, never asserted: a cell that fails (wrong reply,
server gone) shows "ERR" with the reason below the table, and the run goes
on. Results also go to build/bench/results.json.

Python 3 standard library only. Every process started here is ended by pid.
"""

import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.lib.ldaptest import ldap_server_conf  # noqa: E402
from tests.lib.server import AuthServer, ServerError, dovecot_bin  # noqa: E402
from tests.lib.slapd import Slapd, numbered_users  # noqa: E402

SMALL_GROUPS = [('plain', 'PLAIN'), ('ssha', 'SSHA256'), ('sha512c', 'SHA512-CRYPT'),
                ('blf', 'BLF-CRYPT'), ('cram', 'CRAM-MD5'), ('digest', 'DIGEST-MD5'),
                ('scram', 'SCRAM-SHA-256')]
SMALL_USERS = 1000
BIG_USERS = 1000000
IDLE_CONNS = 10000
POSTFIX_CELL = 'PLAIN {PLAIN} 1k 16x8 Postfix-style'
POSTFIX_BASE = 'PLAIN {PLAIN} 1k 16x8'
POSTFIX_RIPS = 10000     # distinct client addresses of the Postfix-style cell
LDAP_USERS = 1000        # ldap<i> / pw<i> ({SSHA}) in the private slapd
REPEATS = 2              # full run: each cell twice, the best kept
CLK_TCK = os.sysconf('SC_CLK_TCK')
PAGE = os.sysconf('SC_PAGE_SIZE')

CONF = '''
auth_mechanisms = plain login cram-md5 digest-md5 scram-sha-256
auth_failure_delay = 0
auth_cache_size = 0
passdb {
  driver = passwd-file
  args = %(users)s
}
userdb {
  driver = passwd-file
  args = %(users)s
}
service auth {
  client_limit = 12000
  vsz_limit = 0
  unix_listener auth-client {
    mode = 0666
  }
  unix_listener auth-userdb {
    mode = 0666
  }
}
'''


# ---------------------------------------------------------------- cells

class Cell:
    """One measured configuration. args go to loadgen; instance is 'small',
    'big' or 'ldap:MODE' (run_ldap); ceiling names the ceiling ('echo-auth',
    'echo-user', 'crypt:SCHEME' or None)."""

    def __init__(self, name, args, instance='small', ceiling=None, quick=False, warmup=None):
        self.name, self.args, self.instance = name, args, instance
        self.ceiling, self.quick, self.warmup = ceiling, quick, warmup


def _cells():
    cells = []
    for c, d in ((1, 1), (1, 8), (16, 1), (16, 8), (256, 1), (256, 8)):
        q = (c, d) == (16, 8)
        cells.append(Cell('PLAIN {PLAIN} 1k %dx%d' % (c, d),
                          ['-k', 'auth', '-m', 'PLAIN', '-u', 'plain', '-c', str(c), '-d', str(d)],
                          ceiling='echo-auth', quick=q))
        cells.append(Cell('USER 1k %dx%d' % (c, d),
                          ['-k', 'user', '-u', 'plain', '-c', str(c), '-d', str(d)],
                          ceiling='echo-user', quick=q))
    mech = [('LOGIN {PLAIN}', 'LOGIN', 'plain', None, False),
            ('CRAM-MD5 {CRAM-MD5}', 'CRAM-MD5', 'cram', None, True),
            ('DIGEST-MD5 {DIGEST-MD5}', 'DIGEST-MD5', 'digest', None, False),
            ('SCRAM-SHA-256 {SCRAM-SHA-256}', 'SCRAM-SHA-256', 'scram', None, False),
            ('PLAIN {SSHA256}', 'PLAIN', 'ssha', None, False),
            ('PLAIN {SHA512-CRYPT}', 'PLAIN', 'sha512c', 'crypt:SHA512-CRYPT', True),
            ('PLAIN {BLF-CRYPT}', 'PLAIN', 'blf', 'crypt:BLF-CRYPT', True)]
    for label, m, prefix, ceil, q in mech:
        cells.append(Cell('%s 1k 16x8' % label,
                          ['-k', 'auth', '-m', m, '-u', prefix, '-c', '16', '-d', '8'],
                          ceiling=ceil, quick=q, warmup=3.0 if m == 'SCRAM-SHA-256' else None))
    cells.append(Cell('PLAIN {PLAIN} 1k 16x8 10% wrong',
                      ['-k', 'auth', '-m', 'PLAIN', '-u', 'plain', '-c', '16', '-d', '8',
                       '-W', '10'], ceiling='echo-auth', quick=True))
    cells.append(Cell(POSTFIX_CELL,
                      ['-k', 'auth', '-m', 'PLAIN', '-u', 'plain', '-c', '16', '-d', '8',
                       '-R', str(POSTFIX_RIPS)], ceiling='echo-auth', quick=True))
    cells.append(Cell('PLAIN {PLAIN} 1M 16x8',
                      ['-k', 'auth', '-m', 'PLAIN', '-u', 'big', '-n', str(BIG_USERS),
                       '-c', '16', '-d', '8'], instance='big', ceiling='echo-auth', quick=True))
    cells.append(Cell('USER 1M 16x8',
                      ['-k', 'user', '-u', 'big', '-n', str(BIG_USERS), '-c', '16', '-d', '8'],
                      instance='big', ceiling='echo-user', quick=True))
    # ---- LDAP: both servers on one private slapd (instance 'ldap:MODE',
    # MODE = the tests/fixtures/ldap/ldap-MODE.conf.ext both read): password
    # lookup (search as the service DN, the {SSHA} checked by the server)
    # and auth_bind (search for the DN, then a bind as the user: slapd checks).
    for label, mode in (('lookup', 'pass'), ('auth_bind', 'bind')):
        cells.append(Cell('LDAP %s 16x8' % label,
                          ['-k', 'auth', '-m', 'PLAIN', '-u', 'ldap', '-n', str(LDAP_USERS),
                           '-c', '16', '-d', '8'], instance='ldap:' + mode, quick=True))
    return cells


# ---------------------------------------------------------------- /proc

def _proc_tree(root):
    kids, out, todo = {}, [], [root]
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                with open('/proc/%s/stat' % name, 'rb') as f:
                    rest = f.read().rsplit(b')', 1)[1].split()
                kids.setdefault(int(rest[1]), []).append(int(name))
            except (OSError, IndexError):
                pass
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, ()))
    return out


def _cpu_ticks(pids):
    total = 0
    for p in pids:
        try:
            with open('/proc/%d/stat' % p, 'rb') as f:
                rest = f.read().rsplit(b')', 1)[1].split()
            total += int(rest[11]) + int(rest[12])
        except (OSError, IndexError):
            pass
    return total


def _rss_kb(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _comm(pid):
    try:
        with open('/proc/%d/comm' % pid) as f:
            return f.read().strip()
    except OSError:
        return ''


def serving_pid(srv):
    """authd: its auth child (a descendant); Dovecot: the process named auth."""
    tree = _proc_tree(srv.pid)
    if srv.kind == 'dovecot':
        cands = [p for p in tree if _comm(p) == 'auth']
    else:
        cands = [p for p in tree if p != srv.pid]
    return cands[0] if cands else srv.pid


# ---------------------------------------------------------------- runner

def _machine_busy_ticks():
    """CPU ticks all processes on the machine used so far (/proc/stat)."""
    with open('/proc/stat') as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)


def _children_cpu_s():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class Bench:
    """Runs everything; cells run interleaved (ceiling, authd, Dovecot back
    to back for each cell) so that load from elsewhere on the machine weighs
    on all three alike; the 'other' column shows how much there was."""

    def __init__(self, opts):
        self.opts = opts
        self.quick = opts.quick
        self.bindir = os.path.join(REPO, opts.build, 'bench')
        self.work = tempfile.mkdtemp(prefix='authd-bench-', dir='/tmp')
        os.chmod(self.work, 0o755)
        self.duration = 1.5 if self.quick else 3.0
        self.warmup = 0.5
        self.results = {'quick': self.quick, 'cells': {}, 'extra': {}, 'errors': []}
        self.cells = [c for c in _cells() if (c.quick or not self.quick) and
                      (opts.only is None or re.search(opts.only, c.name))]
        self.kinds = ['authd']
        if os.access(dovecot_bin(), os.X_OK):
            self.kinds.append('dovecot')
        else:
            self.results['errors'].append('dovecot not installed: no comparison')
        self.echo_proc = None
        self.slapd = None

    def wanted(self, phase):
        """Whether a phase runs: 'small' and 'big' (the cells of that
        instance; 'big' also measures startup, RSS and reload with 1M
        users) when --only selects one of their cells, 'idle' (memory per
        connection) when --only is not given or matches 'idle'."""
        if phase == 'idle':
            return self.opts.only is None or re.search(self.opts.only, 'idle') is not None
        return any(c.instance == phase for c in self.cells)

    def tool(self, name):
        return os.path.join(self.bindir, name)

    def log(self, msg):
        print('bench: %s' % msg, file=sys.stderr, flush=True)

    def loadgen(self, sock, args, duration=None, warmup=None, timeout=120):
        argv = [self.tool('loadgen'), '-s', sock, '-T', str(duration or self.duration),
                '-w', str(warmup or self.warmup)] + args
        if '-n' not in args:
            argv += ['-n', str(SMALL_USERS)]
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError('loadgen %s: %s' % (' '.join(args),
                                                   p.stderr.decode(errors='replace').strip()))
        return json.loads(p.stdout.decode())

    def measured(self, tree_root, fn, side=None):
        """Runs fn() (a loadgen run); adds the CPU of tree_root's process
        tree (% of one CPU) and the other load on the machine (CPUs). side:
        the pid of a backend the server uses (slapd): its CPU goes to
        side_cpu_pct instead of other_cpus."""
        tree = _proc_tree(tree_root) if tree_root else []
        side_tree = _proc_tree(side) if side else []
        t0, c0, m0, l0 = time.monotonic(), _cpu_ticks(tree), _machine_busy_ticks(), \
            _children_cpu_s()
        s0 = _cpu_ticks(side_tree)
        res = fn()
        wall = time.monotonic() - t0
        server = (_cpu_ticks(_proc_tree(tree_root)) - c0) / CLK_TCK if tree_root else 0.0
        backend = (_cpu_ticks(side_tree) - s0) / CLK_TCK
        other = (_machine_busy_ticks() - m0) / CLK_TCK - server - backend - \
            (_children_cpu_s() - l0)
        res['cpu_pct'] = 100.0 * server / wall
        res['other_cpus'] = max(0.0, other / wall)
        if side:
            res['side_cpu_pct'] = 100.0 * backend / wall
        return res

    # -- setup
    def generate_users(self):
        self.small = os.path.join(self.work, 'users-small')
        groups = ['%s:%s:%d' % (p, s, SMALL_USERS) for p, s in SMALL_GROUPS]
        subprocess.run([self.tool('usersgen'), self.small] + groups, check=True)
        self.big = os.path.join(self.work, 'users-big')
        self.big_new = os.path.join(self.work, 'users-big-new')
        subprocess.run([self.tool('usersgen'), self.big, 'big:PLAIN:%d' % BIG_USERS], check=True)
        subprocess.run([self.tool('usersgen'), self.big_new, 'big:PLAIN:%d' % BIG_USERS,
                        'fresh:PLAIN:1'], check=True)
        for p in (self.small, self.big, self.big_new):
            os.chmod(p, 0o644)

    def crypt_ceiling(self, scheme=None):
        argv = [self.tool('cryptbench'), '2' if scheme is None else '1']
        p = subprocess.run(argv + ([scheme] if scheme else []), stdout=subprocess.PIPE,
                           check=True)
        return json.loads(p.stdout.decode())

    def start_echo(self):
        d = os.path.join(self.work, 'echo')
        os.makedirs(d, exist_ok=True)
        self.echo_paths = {'echo-auth': os.path.join(d, 'client'),
                           'echo-user': os.path.join(d, 'master')}
        self.echo_proc = subprocess.Popen([self.tool('echo'), self.echo_paths['echo-auth'],
                                           self.echo_paths['echo-user']])
        deadline = time.monotonic() + 5
        while not all(os.path.exists(p) for p in self.echo_paths.values()):
            if time.monotonic() > deadline:
                raise RuntimeError('echo server did not start')
            time.sleep(0.02)

    def stop_echo(self):
        if self.echo_proc is not None:
            self.echo_proc.send_signal(signal.SIGTERM)
            self.echo_proc.wait()
            self.echo_proc = None

    def ceiling(self, cell):
        """The cell's ceiling measured now: echo req/s or crypt verify/s."""
        if cell.ceiling is None:
            return None
        if cell.ceiling.startswith('crypt:'):
            scheme = cell.ceiling[6:]
            return self.crypt_ceiling(scheme)[scheme]['all']
        a = cell.args
        args = ['-k', cell.ceiling, '-c', a[a.index('-c') + 1], '-d', a[a.index('-d') + 1],
                '-u', 'plain']
        res = self.measured(self.echo_proc.pid,
                            lambda: self.loadgen(self.echo_paths[cell.ceiling], args))
        return res['rps']

    # -- servers
    def start(self, kind, users, name):
        d = os.path.join(self.work, '%s-%s' % (kind, name))
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        srv = AuthServer(kind, CONF % {'users': users}, tmpdir=d,
                         wait_sockets=['auth-client', 'auth-userdb'])
        srv.start()
        return srv

    def run_cell(self, srv, cell):
        sock = srv.path('auth-userdb' if cell.args[cell.args.index('-k') + 1] == 'user'
                        else 'auth-client')
        side = self.slapd.proc.pid if cell.instance.startswith('ldap:') else None
        res = self.measured(srv.pid, lambda: self.loadgen(sock, cell.args, warmup=cell.warmup),
                            side=side)
        res['rss_kb'] = _rss_kb(serving_pid(srv))
        return res

    def run_cells(self, servers, instance):
        """Each cell REPEATS times (order of the servers alternating); the
        best run of each side is kept, as the one least disturbed."""
        for cell in self.cells:
            if cell.instance != instance:
                continue
            out = self.results['cells'].setdefault(cell.name, {})
            self.log(cell.name)
            for rep in range(1 if self.quick else REPEATS):
                self.run_cell_once(servers, cell, out, rep)

    def run_cell_once(self, servers, cell, out, rep):
        try:
            ceil = self.ceiling(cell)
            if ceil is not None and ceil > (out.get('ceiling') or 0):
                out['ceiling'] = ceil
        except (RuntimeError, subprocess.TimeoutExpired, ValueError,
                subprocess.CalledProcessError) as e:
            self.results['errors'].append('ceiling %s: %s' % (cell.name, e))
        order = list(servers.items())
        for kind, srv in (order if rep % 2 == 0 else order[::-1]):
            if 'error' in out.get(kind, {}):
                continue
            try:
                res = self.run_cell(srv, cell)
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
                res = {'error': str(e)}
                self.results['errors'].append('%s %s: %s' % (kind, cell.name, e))
            if 'error' in res or res['rps'] > out.get(kind, {}).get('rps', -1):
                out[kind] = res

    def idle_memory(self, kind, extra):
        """A fresh server per socket type (freed memory is reused, so one
        measurement would hide the next): RSS at idle, then per connection
        with IDLE_CONNS handshaken connections held open."""
        for sockname, k in (('auth-client', 'auth'), ('auth-userdb', 'user')):
            srv = self.start(kind, self.small, 'idle-' + k)
            try:
                pid = serving_pid(srv)
                before = _rss_kb(pid)
                extra.setdefault('rss_idle_kb', before)
                argv = [self.tool('loadgen'), '-s', srv.path(sockname), '-k', k,
                        '--idle', str(IDLE_CONNS), '--hold', '600']
                p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                try:
                    line = p.stdout.readline().decode()
                    if not line.startswith('READY'):
                        raise RuntimeError(p.stderr.read().decode(errors='replace').strip())
                    time.sleep(0.5)
                    extra['per_conn_bytes_%s' % k] = \
                        (_rss_kb(pid) - before) * 1024.0 / IDLE_CONNS
                except RuntimeError as e:
                    self.results['errors'].append('%s idle %s: %s' % (kind, k, e))
                finally:
                    p.send_signal(signal.SIGTERM)
                    p.wait()
            finally:
                srv.stop()

    def start_big(self, kind, extra):
        """The 1M-user server; startup = start until big999999 logs in."""
        bigdir = os.path.join(self.work, '%s-big' % kind)
        os.makedirs(bigdir, exist_ok=True)
        users = os.path.join(bigdir, 'users-big')
        shutil.copy(self.big, users)
        os.chmod(users, 0o644)
        t0 = time.monotonic()
        srv = self.start(kind, users, 'big')
        probe = subprocess.run([self.tool('loadgen'), '-s', srv.path('auth-client'), '-T', '30',
                                '-n', '1', '--probe', 'big999999', 'pw999999'],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if probe.returncode == 0:
            extra['startup_1m_ms'] = (time.monotonic() - t0) * 1000.0
        else:
            self.results['errors'].append('%s startup probe: %s' % (kind, probe.stderr.decode()))
        extra['rss_1m_kb'] = _rss_kb(serving_pid(srv))
        return srv

    def reload(self, kind, srv, extra):
        """Steady load on big users; the file is replaced (fresh0 added);
        time until fresh0 logs in and the worst latency of the load."""
        users = os.path.join(srv.tmp, 'users-big')
        load = subprocess.Popen([self.tool('loadgen'), '-s', srv.path('auth-client'), '-k', 'auth',
                                 '-u', 'big', '-n', str(BIG_USERS), '-c', '16', '-d', '1',
                                 '-w', '0', '-T', '6' if not self.quick else '4'],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.5)
        shutil.copy(self.big_new, users + '.new')
        os.chmod(users + '.new', 0o644)
        os.rename(users + '.new', users)
        probe = subprocess.run([self.tool('loadgen'), '-s', srv.path('auth-client'), '-T', '10',
                                '-n', '1', '--probe', 'fresh0', 'pw0'],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        out, err = load.communicate(timeout=120)
        if probe.returncode == 0:
            extra['reload_first_ms'] = json.loads(probe.stdout.decode())['probe_ms']
        else:
            self.results['errors'].append('%s reload probe: %s' % (kind, probe.stderr.decode().strip()))
        if load.returncode == 0:
            r = json.loads(out.decode())
            extra['reload_load_max_ms'] = r['max_us'] / 1000.0
            extra['reload_load_rps'] = r['rps']
        else:
            self.results['errors'].append('%s reload load: %s' % (kind, err.decode().strip()))

    def start_ldap(self, kind, mode):
        """A server on self.slapd in one LDAP mode (tests/lib/ldaptest.py's
        config, as the LDAP tests run it), auth_verbose off."""
        conf, files = ldap_server_conf(self.slapd, mode, mechanisms='plain', verbose=False)
        d = os.path.join(self.work, '%s-ldap-%s' % (kind, mode))
        os.makedirs(d, exist_ok=True)
        srv = AuthServer(kind, conf, files=files, tmpdir=d, wait_sockets=['auth-client'])
        srv.start()
        return srv

    def run_ldap(self):
        """The LDAP cells: one slapd with LDAP_USERS users for every mode
        and both servers."""
        modes = sorted({c.instance for c in self.cells if c.instance.startswith('ldap:')})
        if not modes:
            return
        self.slapd = Slapd(extra_ldif=numbered_users('ldap', LDAP_USERS))
        try:
            self.slapd.start()
            for inst in modes:
                self.run_servers(lambda k: self.start_ldap(k, inst[5:]), inst)
        except (RuntimeError, OSError, ServerError) as e:
            self.results['errors'].append('LDAP cells: %s' % e)
        finally:
            self.slapd.cleanup()
            self.slapd = None

    def run_servers(self, starter, instance, after=None):
        servers = {}
        try:
            for kind in self.kinds:
                servers[kind] = starter(kind)
            self.run_cells(servers, instance)
            for kind, srv in servers.items():
                if after is not None:
                    after(kind, srv)
        finally:
            for srv in servers.values():
                srv.stop()

    def run(self):
        t0 = time.monotonic()
        self.log('work directory %s' % self.work)
        self.crypt = self.crypt_ceiling()
        self.results['extra']['cryptbench'] = self.crypt
        self.generate_users()
        extra = {k: self.results['extra'].setdefault(k, {}) for k in self.kinds}
        self.start_echo()
        try:
            if self.wanted('small'):
                self.run_servers(lambda k: self.start(k, self.small, 'small'), 'small')
            if self.wanted('big'):
                self.run_servers(lambda k: self.start_big(k, extra[k]), 'big',
                                 after=lambda k, srv: self.reload(k, srv, extra[k]))
            self.run_ldap()
        finally:
            self.stop_echo()
        if self.wanted('idle'):
            for kind in self.kinds:
                self.idle_memory(kind, extra[kind])
        self.results['seconds'] = time.monotonic() - t0
        return self.results

    def cleanup(self):
        shutil.rmtree(self.work, ignore_errors=True)


# ---------------------------------------------------------------- report

def _fmt_rate(v):
    return '-' if v is None else ('%.0f' % v if v < 10000 else '%.1fk' % (v / 1000.0))


def _fmt_us(v):
    if v is None:
        return '-'
    return '%.0fus' % v if v < 1000 else ('%.1fms' % (v / 1000.0) if v < 1e6 else '%.1fs' % (v / 1e6))


def _side(r):
    if r is None:
        return ['-'] * 6
    if 'error' in r:
        return ['ERR'] + ['-'] * 5
    return [_fmt_rate(r['rps']), _fmt_us(r['p50_us']), _fmt_us(r['p99_us']), _fmt_us(r['max_us']),
            '%.0f%%' % r['cpu_pct'], '%.0fM' % (r['rss_kb'] / 1024.0)]


def _backend_cpu(a, d):
    """slapd's CPU during the authd run | during the Dovecot run."""
    v = ['%.0f%%' % x['side_cpu_pct'] if x is not None and 'side_cpu_pct' in x else '-'
         for x in (a, d)]
    return '-' if v == ['-', '-'] else '|'.join(v)


def table(bench):
    res = bench.results
    head = ['cell', 'authd req/s', 'p50', 'p99', 'max', 'CPU', 'RSS',
            'dovecot req/s', 'p50', 'p99', 'max', 'CPU', 'RSS', 'a/d', 'ceiling', 'a/ceil',
            'slapd a|d', 'other']
    rows = []
    for cell in bench.cells:
        r = res['cells'].get(cell.name, {})
        a, d = r.get('authd'), r.get('dovecot')
        ok = lambda x: x is not None and 'error' not in x  # noqa: E731
        ratio = '%.2f' % (a['rps'] / d['rps']) if ok(a) and ok(d) and d['rps'] > 0 else '-'
        ceil = r.get('ceiling')
        frac = '%.0f%%' % (100.0 * a['rps'] / ceil) if ok(a) and ceil else '-'
        other = max([x.get('other_cpus', 0.0) for x in (a, d) if ok(x)] or [0.0])
        rows.append([cell.name] + _side(a) + _side(d) + [ratio, _fmt_rate(ceil), frac,
                                                          _backend_cpu(a, d), '%.1f' % other])
    widths = [max(len(str(x[i])) for x in [head] + rows) for i in range(len(head))]
    lines = ['  '.join(str(x[i]).ljust(widths[i]) if i == 0 else str(x[i]).rjust(widths[i])
                       for i in range(len(head))) for x in [head] + rows]
    lines.insert(1, '-' * len(lines[0]))
    return '\n'.join(lines)


def _penalty_cost(bench, a, d):
    """The price of the per-IP penalty bookkeeping: the Postfix-style cell
    (nologin, lip=, rip= one of POSTFIX_RIPS addresses, no no-penalty) over
    the same cell with no-penalty, per server."""
    cells = bench.results['cells']
    for kind, ex in (('authd', a), ('dovecot', d)):
        on = cells.get(POSTFIX_CELL, {}).get(kind)
        off = cells.get(POSTFIX_BASE, {}).get(kind)
        if on and off and 'error' not in on and 'error' not in off and off['rps'] > 0:
            ex['penalty_rate_ratio'] = on['rps'] / off['rps']


def extra_table(bench):
    ex = bench.results['extra']
    a, d = ex.get('authd', {}), ex.get('dovecot', {})
    rows = [('RSS at idle (small users file)', 'rss_idle_kb', lambda v: '%.1f MB' % (v / 1024.0)),
            ('RSS with 1M users loaded', 'rss_1m_kb', lambda v: '%.1f MB' % (v / 1024.0)),
            ('RSS per idle auth-client connection', 'per_conn_bytes_auth', lambda v: '%.0f B' % v),
            ('RSS per idle auth-userdb connection', 'per_conn_bytes_user', lambda v: '%.0f B' % v),
            ('startup to first OK, 1M users', 'startup_1m_ms', lambda v: '%.0f ms' % v),
            ('1M file replaced: first OK of the new user', 'reload_first_ms',
             lambda v: '%.0f ms' % v),
            ('1M file replaced: max latency of 16x1 load', 'reload_load_max_ms',
             lambda v: '%.1f ms' % v)]
    _penalty_cost(bench, a, d)
    rows.append(('penalty on: Postfix-style rate / no-penalty rate', 'penalty_rate_ratio',
                 lambda v: '%.2f' % v))
    out = []
    for label, key, fmt in rows:
        av, dv = a.get(key), d.get(key)
        ratio = '%.2f' % (av / dv) if av is not None and dv else '-'
        out.append('%-45s %14s %14s %8s' % (label, fmt(av) if av is not None else '-',
                                            fmt(dv) if dv is not None else '-', ratio))
    cb = bench.crypt
    out.append('crypt ceiling at the start (libxcrypt, %d CPUs): SHA512-CRYPT %.0f/s (1 CPU %.0f/s), '
               'BLF-CRYPT %.0f/s (1 CPU %.0f/s)' % (cb['cpus'], cb['SHA512-CRYPT']['all'],
                                                     cb['SHA512-CRYPT']['1'],
                                                     cb['BLF-CRYPT']['all'], cb['BLF-CRYPT']['1']))
    head = '%-45s %14s %14s %8s' % ('', 'authd', 'dovecot', 'a/d')
    return '\n'.join([head, '-' * len(head)] + out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--quick', action='store_true',
                    default=os.environ.get('BENCH_QUICK', '') not in ('', '0'))
    ap.add_argument('--only', default=None, help='regex: run only the cells it matches')
    ap.add_argument('--json', default=None, help='results file (default BUILD/bench/results.json)')
    ap.add_argument('--keep', action='store_true', help='keep the work directory')
    opts = ap.parse_args()
    os.environ.setdefault('AUTHD_BIN', os.path.join(REPO, opts.build, 'authd'))
    bench = Bench(opts)
    try:
        bench.run()
    finally:
        if not opts.keep:
            bench.cleanup()
    print()
    print('authd vs Dovecot %s auth service, %s run, %.0f s (same machine, same run; '
          'loadgen checks every reply)' % (_dovecot_version(), 'QUICK' if bench.quick else 'full',
                                           bench.results['seconds']))
    print(table(bench))
    print('(a/d: authd req/s / Dovecot req/s; ceiling: echo server req/s, or libxcrypt '
          'verifications/s on all CPUs, measured just before the cell; slapd a|d: CPU of the '
          'LDAP cells\' slapd (% of one CPU) during the authd | the Dovecot run, not counted '
          'in CPU nor in other; other: CPUs used by other processes meanwhile)')
    print()
    print(extra_table(bench))
    for e in bench.results['errors']:
        print('ERROR: %s' % e)
    path = opts.json or os.path.join(REPO, opts.build, 'bench', 'results.json')
    with open(path, 'w') as f:
        json.dump(bench.results, f, indent=1, default=str)
    return 0


def _dovecot_version():
    try:
        return subprocess.run([dovecot_bin(), '--version'], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL).stdout.decode().split()[0]
    except (OSError, IndexError):
        return '(not installed)'


if __name__ == '__main__':
    sys.exit(main())
