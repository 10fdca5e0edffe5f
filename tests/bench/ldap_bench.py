#!/usr/bin/env python3
"""PLAIN logins per second through LDAP, authd against Dovecot 2.3 +
dovecot-ldap, on one private slapd, in password-lookup and auth_bind mode.
Not a test: prints a table.

    python3 tests/bench/ldap_bench.py [--seconds 5] [--conns 8] [--window 16]

AUTHD_BIN picks the authd binary (default build/authd, the optimised
build, else build/san/authd). Each of --conns auth-client connections keeps
--window PLAIN requests for alice (right password, distinct rip so no
penalty) in flight; the rate is answers per second over --seconds after a
short warm-up. Every answer must be OK, else the run is reported as broken.
"""

import argparse
import os
import selectors
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import base64  # noqa: E402
from tests.lib.ldaptest import ldap_server_conf  # noqa: E402
from tests.lib.server import REPO, AuthServer  # noqa: E402
from tests.lib.slapd import Slapd  # noqa: E402


def run_load(path, seconds, conns, window):
    sel = selectors.DefaultSelector()
    state = {}
    payload = base64.b64encode(b'\0alice\0alicepw').decode()
    for n in range(conns):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.sendall(b'VERSION\t1\t2\nCPID\t%d\n' % (os.getpid() * 100 + n))
        buf = b''
        while b'\nDONE\n' not in b'\n' + buf:
            buf += s.recv(65536)
        st = {'sock': s, 'next': 1, 'buf': b'', 'n': n}
        state[s] = st
        sel.register(s, selectors.EVENT_READ)

    def send(st, count):
        lines = []
        for _ in range(count):
            i = st['next']
            st['next'] += 1
            lines.append('AUTH\t%d\tPLAIN\tservice=smtp\trip=127.9.%d.%d\tresp=%s\n'
                         % (i, st['n'] % 250, 1 + i % 250, payload))
        st['sock'].sendall(''.join(lines).encode())

    for st in state.values():
        send(st, window)
    done = bad = 0
    start = time.monotonic()
    warm = start + 1.0
    end = warm + seconds
    counted = 0
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=1.0):
            st = state[key.fileobj]
            data = st['sock'].recv(65536)
            if not data:
                raise RuntimeError('server closed a connection')
            st['buf'] += data
            *lines, st['buf'] = st['buf'].split(b'\n')
            for line in lines:
                done += 1
                if not line.startswith(b'OK\t'):
                    bad += 1
                if time.monotonic() >= warm:
                    counted += 1
            send(st, len(lines))
    for st in state.values():
        st['sock'].close()
    return counted / seconds, bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seconds', type=float, default=5.0)
    ap.add_argument('--conns', type=int, default=8)
    ap.add_argument('--window', type=int, default=16)
    args = ap.parse_args()
    if 'AUTHD_BIN' not in os.environ:
        opt = os.path.join(REPO, 'build', 'authd')
        os.environ['AUTHD_BIN'] = opt if os.access(opt, os.X_OK) else \
            os.path.join(REPO, 'build', 'san', 'authd')
    print('authd binary: %s' % os.environ['AUTHD_BIN'])
    print('%-8s %-8s %12s' % ('mode', 'server', 'logins/s'))
    with Slapd() as ldap:
        for mode in ('pass', 'bind'):
            rates = {}
            for kind in ('dovecot', 'authd'):
                conf, files = ldap_server_conf(ldap, mode, mechanisms='plain')
                conf = conf.replace('auth_verbose = yes', 'auth_verbose = no')
                with AuthServer(kind, conf, files=files) as srv:
                    rate, bad = run_load(srv.path('auth-client'), args.seconds, args.conns,
                                         args.window)
                rates[kind] = rate
                print('%-8s %-8s %12.0f%s' % (mode, kind, rate,
                                              '  (BROKEN: %d non-OK answers)' % bad if bad else ''))
            if rates.get('dovecot'):
                print('%-8s %-8s %12.2fx' % (mode, 'ratio', rates['authd'] / rates['dovecot']))


if __name__ == '__main__':
    main()
