"""Small wire clients for Dovecot 2.3's auth protocols, for daemon tests.

AuthClient speaks the auth-client protocol (what Postfix, Exim and doveadm
use on auth-client / auth-login sockets); MasterClient speaks the
auth-master / auth-userdb protocol (LDA, doveadm user).  Both deal in bytes:
lines are sent exactly as given (no escaping unless asked for), replies are
returned as Reply objects that keep the raw line.

    c = AuthClient(srv.path('auth-client'))       # connects, reads to DONE
    c.hello(minor=0)                                # VERSION\\t1\\t0, CPID\\t<pid>
    c.auth(1, 'PLAIN', resp=plain_data('alice', 'alicepw'))
    r = c.reply()                                   # Reply: r.cmd, r.id, r.kv ...
    assert r.cmd == b'OK' and r.kv[b'user'] == b'alice'

    m = MasterClient(srv.path('auth-userdb'))      # connects, reads VERSION+SPID
    m.hello()
    m.user(1, 'alice', service='lda')
    r = m.reply()                                   # USER 1 alice uid=... ...

Python 3 standard library only.
"""

import base64
import os
import select
import socket
import time

DEFAULT_TIMEOUT = 5.0


class ProtoError(Exception):
    """Unexpected protocol data (bad greeting, EOF where a line was expected)."""


class ProtoTimeout(ProtoError):
    """No complete line within the timeout."""


# ---------------------------------------------------------------- encodings

_ESC = {0x01: b'\x011', 0x09: b'\x01t', 0x0d: b'\x01r', 0x0a: b'\x01n', 0x00: b'\x010'}
_UNESC = {ord('1'): 0x01, ord('t'): 0x09, ord('r'): 0x0d, ord('n'): 0x0a, ord('0'): 0x00}


def to_bytes(v):
    if isinstance(v, bytes):
        return v
    if isinstance(v, (bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, int):
        return str(v).encode()
    return str(v).encode('utf-8', 'surrogateescape')


def tab_escape(value):
    """Dovecot tab-escaping of one value: 0x01 TAB CR LF NUL -> 0x01 + 1 t r n 0."""
    out = bytearray()
    for b in to_bytes(value):
        esc = _ESC.get(b)
        if esc is None:
            out.append(b)
        else:
            out += esc
    return bytes(out)


def tab_unescape(value):
    """Inverse of tab_escape; 0x01 + other byte gives that byte, a lone
    trailing 0x01 is dropped (Dovecot's rules)."""
    value = to_bytes(value)
    out = bytearray()
    i = 0
    while i < len(value):
        b = value[i]
        if b == 0x01:
            if i + 1 < len(value):
                nxt = value[i + 1]
                out.append(_UNESC.get(nxt, nxt))
            i += 2
            continue
        out.append(b)
        i += 1
    return bytes(out)


def b64(data):
    """Standard base64 (with padding) of data, as bytes."""
    return base64.b64encode(to_bytes(data))


def unb64(data):
    return base64.b64decode(to_bytes(data), validate=True)


def plain_data(authcid, password, authzid=b''):
    """RFC 4616 PLAIN message (raw, not base64): authzid NUL authcid NUL password."""
    return to_bytes(authzid) + b'\0' + to_bytes(authcid) + b'\0' + to_bytes(password)


def line(*fields):
    """Join fields (bytes/str/int, not escaped) with TAB and add LF."""
    return b'\t'.join(to_bytes(f) for f in fields) + b'\n'


# ---------------------------------------------------------------- replies

class Reply:
    """One reply line.

    raw:    the line without LF
    fields: raw.split(b'\\t')
    cmd:    fields[0] (b'OK', b'FAIL', b'CONT', b'USER', ...)
    id:     int(fields[1]) if it is a number, else None
    args:   fields[2:] as sent (empty fields kept)
    kv:     {name: unescaped value} for name=value args; bare words map to None
            (first occurrence wins)
    words:  the non-empty args, in order (for order-insensitive comparison use
            set(r.words) or r.fieldset())
    """

    def __init__(self, raw):
        self.raw = raw
        self.fields = raw.split(b'\t')
        self.cmd = self.fields[0]
        self.id = None
        if len(self.fields) > 1 and self.fields[1].isdigit():
            self.id = int(self.fields[1])
        self.args = self.fields[2:]
        self.words = [a for a in self.args if a != b'']
        self.kv = {}
        for a in self.words:
            name, eq, value = a.partition(b'=')
            if name not in self.kv:
                self.kv[name] = tab_unescape(value) if eq else None

    def get(self, name, default=None):
        v = self.kv.get(to_bytes(name), default)
        return v

    def has(self, name):
        return to_bytes(name) in self.kv

    def fieldset(self):
        """Non-empty args as a sorted list (field order/empty fields free to differ)."""
        return sorted(self.words)

    def data(self):
        """CONT: the base64-decoded challenge (third field)."""
        return unb64(self.fields[2]) if len(self.fields) > 2 else None

    def __repr__(self):
        return 'Reply(%r)' % (self.raw,)

    def __eq__(self, other):
        if isinstance(other, Reply):
            return self.raw == other.raw
        if isinstance(other, (bytes, str)):
            return self.raw == to_bytes(other)
        return NotImplemented

    __hash__ = None


# ---------------------------------------------------------------- connection base

class LineConn:
    """A unix (or TCP) stream connection with a line reader."""

    def __init__(self, path=None, timeout=DEFAULT_TIMEOUT, sock=None, addr=None):
        self.timeout = timeout
        self.buf = b''
        self.eof = False
        self.eof_error = None
        if sock is not None:
            self.sock = sock
        elif addr is not None:
            self.sock = socket.create_connection(addr, timeout)
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(path)
        self.sock.setblocking(False)

    # -- output
    def send(self, data):
        """Send raw bytes. Returns False if the peer already closed (EPIPE/ECONNRESET)."""
        data = to_bytes(data)
        view = memoryview(data)
        deadline = time.monotonic() + self.timeout
        while view:
            try:
                n = self.sock.send(view)
                view = view[n:]
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ProtoTimeout('send blocked for %.1f s' % self.timeout)
                select.select([], [self.sock], [], left)
            except (BrokenPipeError, ConnectionResetError) as e:
                self.eof_error = e
                return False
        return True

    def send_line(self, *fields):
        """Send fields joined with TAB plus LF (fields are not escaped)."""
        return self.send(line(*fields))

    # -- input
    def _fill(self, timeout):
        """Read what is available within timeout. Returns False on timeout."""
        if self.eof:
            return True
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not r:
            return False
        try:
            chunk = self.sock.recv(65536)
        except BlockingIOError:
            return True
        except (ConnectionResetError, BrokenPipeError) as e:
            self.eof, self.eof_error = True, e
            return True
        if not chunk:
            self.eof = True
        self.buf += chunk
        return True

    def read_line(self, timeout=None):
        """Next line without its LF (CR kept), or None at EOF.
        Raises ProtoTimeout if no complete line arrives in time."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            i = self.buf.find(b'\n')
            if i >= 0:
                out, self.buf = self.buf[:i], self.buf[i + 1:]
                return out
            if self.eof:
                return None
            left = deadline - time.monotonic()
            if left <= 0 or not self._fill(left):
                if time.monotonic() >= deadline:
                    raise ProtoTimeout('no line within %.1f s (buffered %r)' % (timeout, self.buf[:200]))

    def reply(self, timeout=None):
        """Next line as a Reply. Raises ProtoError at EOF, ProtoTimeout on timeout."""
        raw = self.read_line(timeout)
        if raw is None:
            raise ProtoError('connection closed while waiting for a reply (%r)' % (self.eof_error,))
        return Reply(raw)

    def replies(self, n, timeout=None):
        """n replies (in arrival order)."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        return [self.reply(max(0.01, deadline - time.monotonic())) for _ in range(n)]

    def closed(self, timeout=2.0):
        """True if the peer closes the connection within timeout, with no
        further complete line before the close; False if a line arrives or the
        connection stays open. Lines that arrived stay readable via read_line()."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            if b'\n' in self.buf:
                return False
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._fill(left)
        return b'\n' not in self.buf

    def is_open(self, wait=0.3):
        """True if no EOF and no data arrived within wait seconds."""
        if self.eof or self.buf:
            return False
        self._fill(wait)
        return not self.eof and not self.buf

    def pending(self):
        """Bytes received but not yet consumed."""
        return self.buf

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# ---------------------------------------------------------------- auth-client

class Handshake:
    """Parsed server greeting of an auth-client socket."""

    def __init__(self, lines):
        self.lines = lines            # raw lines, DONE included
        self.version = None           # (major, minor) as bytes
        self.mechs = []               # [(NAME, [flags])] in order
        self.spid = self.cuid = self.cookie = None
        for ln in lines:
            f = ln.split(b'\t')
            if f[0] == b'VERSION':
                self.version = tuple(f[1:])
            elif f[0] == b'MECH':
                self.mechs.append((f[1] if len(f) > 1 else b'', f[2:]))
            elif f[0] == b'SPID':
                self.spid = f[1] if len(f) > 1 else b''
            elif f[0] == b'CUID':
                self.cuid = f[1] if len(f) > 1 else b''
            elif f[0] == b'COOKIE':
                self.cookie = f[1] if len(f) > 1 else b''

    def mech_names(self):
        return [m[0] for m in self.mechs]


class AuthClient(LineConn):
    """auth-client protocol client.

    AuthClient(path) connects and reads the greeting up to DONE
    (self.handshake).  With hello=True (default False) it also sends
    VERSION/CPID with the given minor."""

    def __init__(self, path=None, timeout=DEFAULT_TIMEOUT, read_handshake=True,
                 hello=False, minor=2, cpid=None, **kw):
        super().__init__(path, timeout, **kw)
        self.minor = minor
        self.handshake = None
        if read_handshake:
            self.read_handshake()
        if hello:
            self.hello(minor, cpid)

    def read_handshake(self, timeout=None):
        """Read lines up to DONE; returns (and stores) a Handshake."""
        lines = []
        while True:
            ln = self.read_line(timeout)
            if ln is None:
                raise ProtoError('EOF during handshake after %r' % (lines,))
            lines.append(ln)
            if ln == b'DONE':
                break
            if len(lines) > 1000:
                raise ProtoError('no DONE in handshake')
        self.handshake = Handshake(lines)
        return self.handshake

    def hello(self, minor=2, cpid=None):
        """Send VERSION\\t1\\t<minor> and CPID\\t<cpid> (default: our pid) in one write."""
        self.minor = minor
        cpid = os.getpid() if cpid is None else cpid
        return self.send(line('VERSION', 1, minor) + line('CPID', cpid))

    def auth_line(self, id, mech, service='smtp', params=(), resp=None, resp_raw=None):
        fields = [b'AUTH', to_bytes(id), to_bytes(mech)]
        if service is not None:
            fields.append(b'service=' + to_bytes(service))
        fields += [to_bytes(p) for p in params]
        if resp_raw is not None:
            fields.append(b'resp=' + to_bytes(resp_raw))
        elif resp is not None:
            fields.append(b'resp=' + b64(resp))
        return b'\t'.join(fields) + b'\n'

    def auth(self, id, mech, service='smtp', params=(), resp=None, resp_raw=None):
        """Send AUTH. params: extra fields (bytes/str, sent as is, e.g. 'no-penalty',
        'rip=10.0.0.1'). resp: raw initial response (base64-encoded here);
        resp_raw: the resp= value exactly as given (e.g. b'', b'=', b'@@@@')."""
        return self.send(self.auth_line(id, mech, service, params, resp, resp_raw))

    def cont(self, id, data=None, raw=None):
        """Send CONT\\t<id>\\t<base64(data)>; raw= sends the value verbatim."""
        if raw is None:
            raw = b64(data if data is not None else b'')
        return self.send(b'CONT\t' + to_bytes(id) + b'\t' + to_bytes(raw) + b'\n')

    def cancel(self, id):
        return self.send(line('CANCEL', id))

    # -- dialogues
    def plain(self, id, user, password, authzid=b'', service='smtp', params=(),
              initial=True, timeout=None):
        """Full PLAIN exchange; returns the final Reply (OK/FAIL, or whatever
        unexpected came)."""
        data = plain_data(user, password, authzid)
        if initial:
            self.auth(id, 'PLAIN', service, params, resp=data)
            return self.reply(timeout)
        self.auth(id, 'PLAIN', service, params)
        r = self.reply(timeout)
        if r.cmd != b'CONT':
            return r
        self.cont(id, data)
        return self.reply(timeout)

    def login(self, id, user, password, service='smtp', params=(), initial=False,
              timeout=None):
        """Full LOGIN exchange (Username:/Password: prompts); returns the final
        Reply. initial=True sends the user name as initial response."""
        if initial:
            self.auth(id, 'LOGIN', service, params, resp=user)
        else:
            self.auth(id, 'LOGIN', service, params)
            r = self.reply(timeout)
            if r.cmd != b'CONT':
                return r
            self.cont(id, user)
        r = self.reply(timeout)
        if r.cmd != b'CONT':
            return r
        self.cont(id, password)
        return self.reply(timeout)


# ---------------------------------------------------------------- auth-master / auth-userdb

class MasterClient(LineConn):
    """auth-master / auth-userdb protocol client.

    MasterClient(path) connects and reads the greeting (VERSION + SPID lines,
    self.greeting); hello=True also sends VERSION\\t1\\t<minor>."""

    def __init__(self, path=None, timeout=DEFAULT_TIMEOUT, read_greeting=True,
                 hello=False, minor=0, **kw):
        super().__init__(path, timeout, **kw)
        self.greeting = None
        self.spid = None
        if read_greeting:
            self.read_greeting()
        if hello:
            self.hello(minor)

    def read_greeting(self, timeout=None):
        """Read lines up to and including SPID; returns the raw lines."""
        lines = []
        while True:
            ln = self.read_line(timeout)
            if ln is None:
                raise ProtoError('EOF during master greeting after %r' % (lines,))
            lines.append(ln)
            if ln.startswith(b'SPID\t') or ln == b'SPID':
                self.spid = ln[5:]
                break
            if len(lines) > 100:
                raise ProtoError('no SPID in master greeting')
        self.greeting = lines
        return lines

    def hello(self, minor=0):
        return self.send(line('VERSION', 1, minor))

    def _cmd(self, cmd, id, user, service, params):
        fields = [to_bytes(cmd), to_bytes(id)]
        if user is not None:
            fields.append(tab_escape(user))
        if service is not None:
            fields.append(b'service=' + tab_escape(service))
        fields += [to_bytes(p) for p in params]
        return self.send(b'\t'.join(fields) + b'\n')

    def user(self, id, user, service='lda', params=()):
        """USER lookup (user name tab-escaped; params sent as is)."""
        return self._cmd('USER', id, user, service, params)

    def passdb(self, id, user, service='doveadm', params=()):
        """PASS lookup."""
        return self._cmd('PASS', id, user, service, params)

    def list(self, id, params=(), service=None):
        """Send LIST; params like ('user=*',)."""
        return self._cmd('LIST', id, None, service, params)

    def list_all(self, id, params=(), service=None, timeout=None):
        """LIST and collect replies up to DONE. Returns (user names, DONE Reply)."""
        self.list(id, params, service)
        users = []
        while True:
            r = self.reply(timeout)
            if r.cmd == b'DONE':
                return users, r
            if r.cmd != b'LIST':
                raise ProtoError('unexpected reply to LIST: %r' % (r,))
            users.append(tab_unescape(r.fields[2]) if len(r.fields) > 2 else b'')

    def cache_flush(self, id, users=()):
        return self.send(line('CACHE-FLUSH', id, *[tab_escape(u) for u in users]))

    def request(self, id, client_pid, client_id, cookie, params=()):
        return self.send(line('REQUEST', id, client_pid, client_id, cookie, *params))
