"""Client sides of the SASL mechanisms, for the protocol and real-peer tests.

PLAIN, LOGIN, CRAM-MD5 (RFC 2195), DIGEST-MD5 (RFC 2831, auth only),
SCRAM-SHA-1/256/512 (RFC 5802/7677), ANONYMOUS and EXTERNAL, written from the
RFCs with hashlib/hmac only, so the server's answers (rspauth=, v=) are
checked against an independent computation. Also: stored-credential
generators ({SCRAM-SHA-*} like `doveadm pw`), and two drivers that run a
whole exchange, one over the auth-client protocol (tests/lib/authproto.py
AuthClient) and one over SMTP AUTH (tests/lib/postfix.py SMTPClient).

    cl = ScramClient('SHA-256', 'alice', 'alicepw')
    res = run_auth(conn, 1, cl, params=('no-penalty',), final_resp_ok=True)
    res.reply          # the OK/FAIL Reply
    res.final_via      # 'resp' (OK resp=), 'cont' (extra CONT round trip) or None
    res.final_valid    # True if rspauth=/v= was what the password implies

A client object has: name (the mechanism), initial() (bytes, or None for no
initial response), step(challenge) -> response bytes, done (True once its
last message was sent; a CONT after that carries the server's final data),
check_final(data) -> bool. Python 3 standard library only.
"""

import base64
import hashlib
import hmac
import os
import re

SCRAM_HASHES = {'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-512': 'sha512'}
SCRAM_DEFAULT_ITER = 4096
SALT_LEN = 16


class SaslError(Exception):
    """A server message the client cannot use (e.g. bad server-first)."""


def _b(v):
    if isinstance(v, bytes):
        return v
    return str(v).encode('utf-8')


# ---------------------------------------------------------------- simple mechanisms

class PlainClient:
    """RFC 4616: authzid NUL authcid NUL password, as initial response."""
    name = 'PLAIN'

    def __init__(self, user, password, authzid=''):
        self.msg = _b(authzid) + b'\0' + _b(user) + b'\0' + _b(password)
        self.done = False

    def initial(self):
        self.done = True
        return self.msg

    def step(self, challenge):
        self.done = True
        return self.msg

    def check_final(self, data):
        return False     # PLAIN has no final data


class LoginClient:
    """Username:/Password: prompts (no initial response)."""
    name = 'LOGIN'

    def __init__(self, user, password):
        self.user, self.password = _b(user), _b(password)
        self.done = False

    def initial(self):
        return None

    def step(self, challenge):
        if challenge.lower().startswith(b'user'):
            return self.user
        self.done = True
        return self.password

    def check_final(self, data):
        return False


class AnonymousClient:
    name = 'ANONYMOUS'

    def __init__(self, trace=b''):
        self.trace = _b(trace)
        self.done = False

    def initial(self):
        self.done = True
        return self.trace

    def step(self, challenge):
        self.done = True
        return self.trace

    def check_final(self, data):
        return False


class ExternalClient(AnonymousClient):
    """EXTERNAL: the message is the (optional) authzid."""
    name = 'EXTERNAL'


# ---------------------------------------------------------------- CRAM-MD5

CRAM_CHALLENGE_RE = re.compile(rb'^<(\d{16})\.(\d+)@([^>]+)>$')


def cram_md5_digest(password, challenge):
    """hex HMAC-MD5(password, challenge) (RFC 2195)."""
    return hmac.new(_b(password), _b(challenge), hashlib.md5).hexdigest()


class CramMD5Client:
    name = 'CRAM-MD5'

    def __init__(self, user, password):
        self.user, self.password = _b(user), _b(password)
        self.done = False
        self.challenge = None

    def initial(self):
        return None

    def step(self, challenge):
        self.challenge = challenge
        self.done = True
        return self.user + b' ' + cram_md5_digest(self.password, challenge).encode()

    def check_final(self, data):
        return False


# ---------------------------------------------------------------- DIGEST-MD5

def parse_directives(data):
    """DIGEST-MD5 directive list -> [(key lower-cased, value)] in order
    (quoted values unescaped). Raises SaslError on bad syntax."""
    out = []
    s = _b(data).decode('utf-8', 'surrogateescape')
    i, n = 0, len(s)
    while i < n:
        while i < n and s[i] in ' \t,':
            i += 1
        if i >= n:
            break
        j = s.find('=', i)
        if j < 0:
            raise SaslError('directive without "=": %r' % s[i:])
        key = s[i:j].strip().lower()
        i = j + 1
        if i < n and s[i] == '"':
            i += 1
            val = []
            while True:
                if i >= n:
                    raise SaslError('unterminated quote in %r' % s)
                if s[i] == '\\' and i + 1 < n:
                    val.append(s[i + 1])
                    i += 2
                elif s[i] == '"':
                    i += 1
                    break
                else:
                    val.append(s[i])
                    i += 1
            value = ''.join(val)
        else:
            j = s.find(',', i)
            j = n if j < 0 else j
            value = s[i:j].strip()
            i = j
        out.append((key, value))
    return out


def quote(value):
    """A DIGEST-MD5 quoted-string: backslash before '"' and '\\'."""
    return '"' + str(value).replace('\\', '\\\\').replace('"', '\\"') + '"'


def _md5(data):
    return hashlib.md5(_b(data)).digest()


def _md5hex(data):
    return hashlib.md5(_b(data)).hexdigest()


def digest_md5_secret(user, realm, password):
    """MD5(user:realm:password), the {DIGEST-MD5} credential (16 bytes)."""
    return _md5(_b(user) + b':' + _b(realm) + b':' + _b(password))


def digest_md5_response(secret, nonce, cnonce, nc, qop, digest_uri, authzid=None,
                        rspauth=False):
    """The md5-sess response value (or rspauth= with rspauth=True), hex."""
    a1 = secret + b':' + _b(nonce) + b':' + _b(cnonce)
    if authzid:
        a1 += b':' + _b(authzid)
    a2 = (b'' if rspauth else b'AUTHENTICATE') + b':' + _b(digest_uri)
    kd = (_md5hex(a1) + ':' + nonce + ':' + nc + ':' + cnonce + ':' + qop + ':'
          + _md5hex(a2))
    return _md5hex(kd)


class DigestMD5Client:
    """RFC 2831 client, qop=auth. realm=None sends no realm directive (the
    hash then uses an empty realm). overrides: {directive: value or None}
    replaces (None: drops) a directive of the response after it is computed
    (for negative tests); extra: raw text appended to the response."""
    name = 'DIGEST-MD5'

    def __init__(self, user, password, realm=None, authzid=None, service='smtp',
                 host='localhost', cnonce=None, nc='00000001', qop='auth',
                 charset='utf-8', overrides=None, extra=''):
        self.user, self.password, self.realm = user, password, realm
        self.authzid = authzid
        self.digest_uri = '%s/%s' % (service, host) if service is not None else None
        self.cnonce = cnonce or base64.b64encode(os.urandom(12)).decode()
        self.nc, self.qop, self.charset = nc, qop, charset
        self.overrides = overrides or {}
        self.extra = extra
        self.challenge = None    # [(key, value)] of the server's challenge
        self.nonce = None
        self.done = False
        self.response_text = None

    def initial(self):
        return None

    def step(self, challenge):
        self.challenge = parse_directives(challenge)
        nonces = [v for k, v in self.challenge if k == 'nonce']
        if len(nonces) != 1:
            raise SaslError('challenge needs one nonce: %r' % challenge)
        self.nonce = nonces[0]
        self.done = True
        self.response_text = self.build()
        return self.response_text.encode('utf-8')

    def secret(self):
        return digest_md5_secret(self.user, self.realm or '', self.password)

    def build(self):
        uri = self.digest_uri or ''
        resp = digest_md5_response(self.secret(), self.nonce, self.cnonce, self.nc,
                                   self.qop, uri, self.authzid)
        items = [('username', quote(self.user))]
        if self.realm is not None:
            items.append(('realm', quote(self.realm)))
        items += [('nonce', quote(self.nonce)), ('cnonce', quote(self.cnonce)),
                  ('nc', self.nc), ('qop', self.qop)]
        if self.digest_uri is not None:
            items.append(('digest-uri', quote(self.digest_uri)))
        items.append(('response', resp))
        if self.charset is not None:
            items.append(('charset', self.charset))
        if self.authzid:
            items.append(('authzid', quote(self.authzid)))
        for key, value in self.overrides.items():
            items = [(k, v) for k, v in items if k != key]
            if value is not None:
                items.append((key, value))
        text = ','.join('%s=%s' % kv for kv in items)
        return text + self.extra

    def expected_rspauth(self):
        return 'rspauth=' + digest_md5_response(self.secret(), self.nonce, self.cnonce,
                                                self.nc, self.qop, self.digest_uri or '',
                                                self.authzid, rspauth=True)

    def check_final(self, data):
        return data == self.expected_rspauth().encode()


# ---------------------------------------------------------------- SCRAM

def saslname(name):
    """RFC 5802 saslname: ',' -> '=2C', '=' -> '=3D'."""
    return _b(name).replace(b'=', b'=3D').replace(b',', b'=2C')


def scram_keys(hash_name, password, salt, iterations):
    """(StoredKey, ServerKey, SaltedPassword) for SCRAM-<hash_name>."""
    h = SCRAM_HASHES[hash_name]
    salted = hashlib.pbkdf2_hmac(h, _b(password), salt, iterations)
    client_key = hmac.new(salted, b'Client Key', h).digest()
    stored = hashlib.new(h, client_key).digest()
    server = hmac.new(salted, b'Server Key', h).digest()
    return stored, server, salted


def scram_stored(hash_name, password, salt=None, iterations=SCRAM_DEFAULT_ITER):
    """'{SCRAM-SHA-n}iter,b64 salt,b64 StoredKey,b64 ServerKey' (doveadm pw form)."""
    salt = os.urandom(SALT_LEN) if salt is None else salt
    stored, server, _ = scram_keys(hash_name, password, salt, iterations)
    e = lambda b: base64.b64encode(b).decode()    # noqa: E731
    return '{SCRAM-%s}%d,%s,%s,%s' % (hash_name, iterations, e(salt), e(stored), e(server))


class ScramClient:
    """RFC 5802 client without channel binding. gs2: the cbind flag ('n',
    'y' or e.g. 'p=tls-unique'); proof_override: bytes sent as the proof
    instead of the right one; final_tweak: fn(text) -> text applied to the
    client-final message before sending."""

    def __init__(self, hash_name, user, password, authzid=None, gs2='n', cnonce=None,
                 proof_override=None, final_tweak=None):
        self.hash_name = hash_name
        self.h = SCRAM_HASHES[hash_name]
        self.name = 'SCRAM-' + hash_name
        self.user, self.password, self.authzid = user, password, authzid
        self.gs2 = _b(gs2) + b',' + (b'a=' + saslname(authzid) if authzid else b'') + b','
        self.cnonce = _b(cnonce or base64.b64encode(os.urandom(18)).decode())
        self.bare = b'n=' + saslname(user) + b',r=' + self.cnonce
        self.proof_override = proof_override
        self.final_tweak = final_tweak
        self.sent_first = False
        self.done = False
        self.server_first = None
        self.attrs = None
        self.expected_v = None

    def first(self):
        self.sent_first = True
        return self.gs2 + self.bare

    def initial(self):
        return self.first()

    def step(self, challenge):
        if not self.sent_first:
            return self.first()     # empty challenge before client-first
        self.server_first = challenge
        self.attrs = dict(a.split(b'=', 1) for a in challenge.split(b',') if b'=' in a)
        nonce = self.attrs.get(b'r', b'')
        if not nonce.startswith(self.cnonce) or len(nonce) <= len(self.cnonce):
            raise SaslError('server nonce %r does not extend ours %r' % (nonce, self.cnonce))
        salt = base64.b64decode(self.attrs[b's'])
        iters = int(self.attrs[b'i'])
        _, server_key, salted = scram_keys(self.hash_name, self.password, salt, iters)
        client_key = hmac.new(salted, b'Client Key', self.h).digest()
        stored = hashlib.new(self.h, client_key).digest()
        without_proof = b'c=' + base64.b64encode(self.gs2) + b',r=' + nonce
        auth_msg = self.bare + b',' + challenge + b',' + without_proof
        sig = hmac.new(stored, auth_msg, self.h).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, sig))
        if self.proof_override is not None:
            proof = self.proof_override
        self.expected_v = b'v=' + base64.b64encode(
            hmac.new(server_key, auth_msg, self.h).digest())
        self.done = True
        text = without_proof + b',p=' + base64.b64encode(proof)
        return self.final_tweak(text) if self.final_tweak else text

    def check_final(self, data):
        return self.expected_v is not None and data == self.expected_v


# ---------------------------------------------------------------- drivers

class AuthResult:
    """Outcome of run_auth / run_smtp_auth.
    reply:       the final Reply (auth-client) or (code, texts) (SMTP)
    challenges:  server challenges (decoded) in order, final data included
    final_data:  the server's final data (rspauth=/v=), or None
    final_via:   'resp' (OK resp=), 'cont' (one more CONT / 334) or None
    final_valid: check_final(final_data), or None without final data"""

    def __init__(self):
        self.reply = None
        self.challenges = []
        self.final_data = None
        self.final_via = None
        self.final_valid = None

    def verdict(self):
        """'OK'/'FAIL'/... (auth-client) or the SMTP code."""
        if isinstance(self.reply, tuple):
            return self.reply[0]
        return self.reply.cmd.decode() if self.reply is not None else None

    def __repr__(self):
        return 'AuthResult(reply=%r, final_via=%r, final_valid=%r)' % (
            self.reply, self.final_via, self.final_valid)


MAX_ROUNDS = 8


def run_auth(conn, id, client, service='smtp', params=(), initial=True, final_resp_ok=False,
             timeout=None):
    """Runs client's whole exchange as request id on an auth-client connection
    (tests.lib.authproto.AuthClient after hello()). initial=False sends no
    initial response even if the mechanism has one."""
    res = AuthResult()
    params = list(params) + (['final-resp-ok'] if final_resp_ok else [])
    init = client.initial() if initial else None
    conn.auth(id, client.name, service, params, resp=init)
    for _ in range(MAX_ROUNDS):
        r = conn.reply(timeout)
        if r.cmd != b'CONT':
            res.reply = r
            if r.cmd == b'OK' and r.has('resp'):
                res.final_data = base64.b64decode(r.get('resp'))
                res.final_via = 'resp'
                res.final_valid = client.check_final(res.final_data)
            return res
        chal = r.data()
        res.challenges.append(chal)
        if client.done:
            res.final_data, res.final_via = chal, 'cont'
            res.final_valid = client.check_final(chal)
            conn.cont(id, b'')
        else:
            conn.cont(id, client.step(chal))
    raise SaslError('no verdict after %d rounds' % MAX_ROUNDS)


def run_smtp_auth(smtp, client, initial=True):
    """The same over SMTP AUTH (tests.lib.postfix.SMTPClient after EHLO):
    `AUTH MECH [initial]`, then one line per 334. res.reply is (code, texts)."""
    res = AuthResult()
    init = client.initial() if initial else None
    line = 'AUTH ' + client.name
    if init is not None:
        line += ' ' + (base64.b64encode(init).decode() if init else '=')
    rep = smtp.cmd(line)
    for _ in range(MAX_ROUNDS):
        if rep[0] != 334:
            res.reply = rep
            return res
        text = rep[1][0] if rep[1] else ''
        chal = base64.b64decode(text) if text else b''
        res.challenges.append(chal)
        if client.done:
            res.final_data, res.final_via = chal, 'cont'
            res.final_valid = client.check_final(chal)
            rep = smtp.cmd('')
        else:
            rep = smtp.cmd(base64.b64encode(client.step(chal)).decode())
    raise SaslError('no verdict after %d rounds' % MAX_ROUNDS)


# ---------------------------------------------------------------- gsasl through a relay

class SourceRelay:
    """Forwards one TCP connection made to 127.0.0.1:<self.port> on to
    (host, port), connecting out from the address `source` (a 127.x.y.z):
    for clients that cannot choose their source address (gsasl), so that the
    auth server sees a rip= of the test's choosing (its failure penalty is
    keyed on it). Use as a context manager; the relay thread ends when either
    side closes or at exit."""

    def __init__(self, port, source, host='127.0.0.1', timeout=60.0):
        import socket
        import threading
        self.target = (host, port)
        self.source = source
        self.timeout = timeout
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(1)
        self.listener.settimeout(timeout)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.error = None
        self.thread.start()

    def _run(self):
        import select
        import socket
        try:
            a, _ = self.listener.accept()
        except OSError as e:
            self.error = e
            return
        try:
            b = socket.create_connection(self.target, self.timeout,
                                         source_address=(self.source, 0))
        except OSError as e:
            self.error = e
            a.close()
            return
        peers = {a: b, b: a}
        try:
            while True:
                r, _, _ = select.select(list(peers), [], [], self.timeout)
                if not r:
                    return
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    peers[s].sendall(data)
        except OSError as e:
            self.error = e
        finally:
            a.close()
            b.close()

    def close(self):
        self.listener.close()
        self.thread.join(self.timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


GSASL_TIMEOUT = 60


def gsasl_smtp(port, mech, user=None, password=None, authzid=None, realm=None,
               anonymous_token=None, source=None, hostname='localhost'):
    """Runs `gsasl --smtp` against 127.0.0.1:port (through a SourceRelay from
    `source` when given). Returns (code of the last 235/535/454/5xx reply
    after AUTH, or None; gsasl's output)."""
    import shutil
    import subprocess
    gsasl = shutil.which('gsasl')
    if gsasl is None:
        raise AssertionError('gsasl is not installed (make check installs it)')
    relay = SourceRelay(port, source) if source else None
    try:
        argv = [gsasl, '--smtp', '--connect', '127.0.0.1:%d' % (relay.port if relay else port),
                '--no-starttls', '-m', mech, '--quality-of-protection=qop-auth',
                '--hostname=' + hostname]
        for flag, value in (('-a', user), ('-p', password), ('-z', authzid), ('-r', realm),
                            ('-n', anonymous_token)):
            if value is not None:
                argv += [flag, value]
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=GSASL_TIMEOUT)
    finally:
        if relay:
            relay.close()
    out = r.stdout.decode('utf-8', 'replace')
    after = out.split('AUTH ', 1)[1] if 'AUTH ' in out else ''
    codes = re.findall(r'^(235|454|5\d\d)[ -]', after, re.M)
    return (int(codes[0]) if codes else None), out
