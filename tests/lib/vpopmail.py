"""A vpopmail tree for tests: the fixture of shared/spec/vpopmail.md section
10 (users/assign, two domains, one of them in a hashed directory, eleven
users, a .qmailadmin-limits file, etc/defaultdomain) written under a
directory of the test's choosing, with users/cdb and vpasswd.cdb made by
this module's own cdb writer the way qmail-newu and vpopmail make them.

    tree = VpopmailTree(srv.tmp)                # paths under srv.tmp
    tree.build()                                # text files + cdb files
    conf = 'passdb {\\n driver = vpopmail\\n args = %s\\n}' % tree.args()

Every '/home/vpopmail' and '/var/qmail' of the fixture becomes
ROOT/home/vpopmail and ROOT/var/qmail. uid/gid of the assign entries are
the spec's 89:89 unless given (the LDA test uses the vmail user's ids).
Directories are created 0755 and files 0644 so an unprivileged auth
process can read them; chown_tree() hands a tree to a user.

The cdb format (D. J. Bernstein's): a 2048-byte table of 256 (position,
slots) pairs, records (key length, data length, key, data), then 256 hash
tables of (hash, position) slots, all integers 32-bit little-endian; hash
h = 5381, h = ((h << 5) + h) ^ c. Checked against the spec's vectors by
cdb_selftest().

Python 3 standard library only.
"""

import os
import struct

FIXTURE_ASSIGN = (
    '=alias:alias:7790:2108:/var/qmail/alias:-::\n'
    '+example.com-:example.com:{uid}:{gid}:/home/vpopmail/domains/example.com:-::\n'
    '+example.net-:example.net:{uid}:{gid}:/home/vpopmail/domains/0/example.net:-::\n'
    '+alias.example.com-:example.com:{uid}:{gid}:/home/vpopmail/domains/example.com:-::\n'
    '.\n')

FIXTURE_EXAMPLE_COM = (
    'postmaster:$1$pmsalt01$RLIlQo.IXHp6e/CBkLUZs0:1:0:Postmaster:/home/vpopmail/domains/example.com/postmaster:NOQUOTA:pmsecret\n'
    'alice:$1$alsalt01$9GkvwIWGrZGJAj/V1IEFn.:1:0:Alice Example:/home/vpopmail/domains/example.com/alice:52428800S,1000C:alicepw\n'
    'bob:$1$bosalt01$6VrpyL89wVdGiDUnHCxgk.:1:2:Bob NoPOP:/home/vpopmail/domains/example.com/bob:50M:bobpw\n'
    'carol:$6$carolsaltcarolsa$Bh4bgLr3OIAd6nQbKjX0I9u4EbxiyFh/sRMVabdgHGj4fLSDnUYHoNjJoU50i9bxcR0FoacUUci4ILGsdWuMT0:1:8:Carol NoIMAP:/home/vpopmail/domains/example.com/carol:NOQUOTA:\n'
    'dave:$6$davesaltdavesalt$YueDhYoG.cF.cSP2EncY7.t5ohNO9aojpMvm.CGMLyB.g2MULa.zqCzwV/xAOa2v.0E8mMXVYxnTdnrxqePyB/:1:2048:Dave NoSMTP:/home/vpopmail/domains/example.com/dave:1000KB:\n'
    'erin:$6$erinsalterinsalt$ynNqtkON0w5qSlAoDegHitDeVB9NCEUNTmUtSjo0KqpsPUN7pf/jW5VXk4QixuEetU/W5MD6pZOYPa5LZ8Av8/:1:4:Erin NoWebmail:/home/vpopmail/domains/example.com/erin:10485760S:\n'
    'frank:$1$frsalt01$x6sKCtZ6sdo1gd4jMSxSH1:1:16:Frank Bounce:/home/vpopmail/domains/example.com/frank:NOQUOTA:frankpw\n'
    'gina:$6$ginasaltginasalt$SVGLtywgQN6Wp7m9PJebMvie0vrbbEC884NIsIglhYMya3wBjVSoUNX8TVgia.GHedy.tveq2O5oSjTolaCCW1:1:0:Gina NoDir::NOQUOTA:\n')

FIXTURE_EXAMPLE_NET = (
    'info:$6$infosaltinfosalt$KGswhu51s9d7D2WMEFZk4g3pBRw6vBhScG0RJJ2CF.B89f.LlqxVpZ4MrU5YAcoAV.2x8JOMriiLeVOV9VW6C1:1:0:Info:/home/vpopmail/domains/0/example.net/info:NOQUOTA\n'
    'user150:$6$u150saltu150salt$w2nNl7gcLa7iHoHx//42rY4Yib6M7a7Q0Ef8afVvFtLivXp8NQQNIEFP2DCx48sqghLxyXmB73wzrriHK0zZm0:1:8192:Override:/home/vpopmail/domains/0/example.net/0/user150:NOQUOTA\n'
    'sales:{SHA512-CRYPT}$6$salessaltsalessa$T5vL08hDXv0Ml81LeUeQfxPcu5LjzqFnp9T.4U/ydwBd5p1jaHCQonkORjZqj/XF.iFKy4eTjz.PQ298o5oXn0:1:2:Sales:/home/vpopmail/domains/0/example.net/sales:20MB\n')

PASSWORDS = {
    'postmaster': 'pmsecret', 'alice': 'alicepw', 'bob': 'bobpw', 'carol': 'carolpw',
    'dave': 'davepw', 'erin': 'erinpw', 'frank': 'frankpw', 'gina': 'ginapw',
    'info': 'infopw', 'user150': 'u150pw', 'sales': 'salespw',
}

DOMAIN_DIRS = {
    'example.com': 'home/vpopmail/domains/example.com',
    'example.net': 'home/vpopmail/domains/0/example.net',
}


# ---------------------------------------------------------------- cdb

def cdb_hash(key):
    h = 5381
    for c in key:
        h = (((h << 5) + h) ^ c) & 0xffffffff
    return h


def cdb_bytes(records):
    """The cdb image of records, a list of (key bytes, data bytes)."""
    out = bytearray(2048)
    tables = [[] for _ in range(256)]
    for key, data in records:
        pos = len(out)
        out += struct.pack('<II', len(key), len(data)) + key + data
        h = cdb_hash(key)
        tables[h & 255].append((h, pos))
    toc = []
    for entries in tables:
        slots = [(0, 0)] * (2 * len(entries))
        for h, pos in entries:
            i = (h >> 8) % len(slots)
            while slots[i][1] != 0:
                i = (i + 1) % len(slots)
            slots[i] = (h, pos)
        toc.append(struct.pack('<II', len(out), len(slots)))
        for h, pos in slots:
            out += struct.pack('<II', h, pos)
    out[0:2048] = b''.join(toc)
    return bytes(out)


def cdb_write(path, records, mode=0o644):
    """Write the cdb atomically (temporary file + rename, as vpopmail does)."""
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(cdb_bytes(records))
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def cdb_get(image, key):
    """First value of key in a cdb image, or None (for self-checks)."""
    h = cdb_hash(key)
    pos, slots = struct.unpack_from('<II', image, (h & 255) * 8)
    for k in range(slots):
        hh, rpos = struct.unpack_from('<II', image, pos + ((h >> 8) + k) % slots * 8)
        if rpos == 0:
            return None
        if hh == h:
            klen, dlen = struct.unpack_from('<II', image, rpos)
            if image[rpos + 8:rpos + 8 + klen] == key:
                return image[rpos + 8 + klen:rpos + 8 + klen + dlen]
    return None


def cdb_selftest():
    """Raises AssertionError unless the hash matches the spec's vectors and
    a written image reads back."""
    vectors = {b'': 0x00001505, b'a': 0x0002b5c4, b'alice': 0x0a20fb27,
               b'postmaster': 0x54383801, b'!example.com-': 0x5ed6e12e,
               b'!alias.example.com-': 0x81d3ded6}
    for key, want in vectors.items():
        got = cdb_hash(key)
        assert got == want, 'cdb_hash(%r): got %#x, want %#x' % (key, got, want)
    image = cdb_bytes([(b'alice', b'1'), (b'bob', b'2'), (b'alice', b'3')])
    assert cdb_get(image, b'alice') == b'1' and cdb_get(image, b'bob') == b'2'
    assert cdb_get(image, b'carol') is None


def vpasswd_records(text):
    """vpasswd.cdb records: key = name, data = the rest of the line."""
    out = []
    for line in text.encode().split(b'\n'):
        name, colon, rest = line.partition(b':')
        if colon:
            out.append((name, rest))
    return out


def assign_records(text):
    """users/cdb records the way qmail-newu makes them (spec 2.2)."""
    out = []
    for line in text.encode().split(b'\n'):
        if line == b'.':
            break
        if not line or line[:1] not in (b'+', b'='):
            continue
        local, _, rest = line[1:].partition(b':')
        key = b'!' + local.lower() + (b'\0' if line[:1] == b'=' else b'')
        fields = rest.split(b':')[:6]
        out.append((key, b'\0'.join(fields[:5]) + b'\0'))
    out.append((b'', b''))      # the wildcard-characters record
    return out


# ---------------------------------------------------------------- the tree

class VpopmailTree:
    """The spec's fixture under root (ROOT/home/vpopmail, ROOT/var/qmail)."""

    def __init__(self, root, uid=89, gid=89):
        self.root = root
        self.uid, self.gid = uid, gid
        self.vpopmail_dir = os.path.join(root, 'home', 'vpopmail')
        self.qmail_dir = os.path.join(root, 'var', 'qmail')

    def subst(self, text):
        return (text.replace('{uid}', str(self.uid)).replace('{gid}', str(self.gid))
                .replace('/home/vpopmail', self.vpopmail_dir)
                .replace('/var/qmail', self.qmail_dir))

    def path(self, rel):
        return os.path.join(self.root, rel)

    def write(self, rel, text, subst=True, mode=0o644):
        """Write ROOT/rel (parents 0755); returns the path."""
        path = self.path(rel)
        d = os.path.dirname(path)
        os.makedirs(d, exist_ok=True)
        while d.startswith(self.root) and d != self.root:
            os.chmod(d, 0o755)
            d = os.path.dirname(d)
        data = self.subst(text) if subst else text
        with open(path, 'wb') as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.chmod(path, mode)
        return path

    def write_vpasswd(self, domain_rel, text, cdb=True):
        """vpasswd (and vpasswd.cdb made from it) in ROOT/domain_rel."""
        self.write(domain_rel + '/vpasswd', text)
        if cdb:
            cdb_write(self.path(domain_rel + '/vpasswd.cdb'),
                      vpasswd_records(self.subst(text)), mode=0o644)

    def write_assign(self, text, cdb=True):
        self.write('var/qmail/users/assign', text)
        if cdb:
            cdb_write(os.path.join(self.qmail_dir, 'users', 'cdb'),
                      assign_records(self.subst(text)))

    def build(self, cdb=True):
        """The whole fixture; cdb=False writes the text files only."""
        cdb_selftest()
        self.write('home/vpopmail/etc/defaultdomain', 'example.com\n')
        self.write(DOMAIN_DIRS['example.net'] + '/.qmailadmin-limits', 'disable_imap\n')
        self.write_vpasswd(DOMAIN_DIRS['example.com'], FIXTURE_EXAMPLE_COM, cdb)
        self.write_vpasswd(DOMAIN_DIRS['example.net'], FIXTURE_EXAMPLE_NET, cdb)
        self.write_assign(FIXTURE_ASSIGN, cdb)
        return self

    def home(self, domain, user):
        return os.path.join(self.root, DOMAIN_DIRS[domain], user)

    def args(self, extra=''):
        """The tree settings of passdb/userdb vpopmail args."""
        text = 'vpopmail_dir=%s qmail_dir=%s' % (self.vpopmail_dir, self.qmail_dir)
        return text + (' ' + extra if extra else '')

    def chown_tree(self, rel, uid, gid):
        """chown -R ROOT/rel to uid:gid."""
        top = self.path(rel)
        os.chown(top, uid, gid)
        for d, dirs, files in os.walk(top):
            for n in dirs + files:
                os.chown(os.path.join(d, n), uid, gid)
