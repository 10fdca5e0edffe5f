"""No memcmp/strcmp/strncmp/bcmp on a secret in common/, mechanisms/, passdb/.

House rule 6 (shared/DESIGN.md): secrets are compared only with
secret_equal() (constant time).  This test reads every .c/.h file of those
directories and flags each call of memcmp, strcmp, strncmp or bcmp (and
their case-insensitive strcasecmp/strncasecmp cousins) whose
arguments mention a secret-like name: an identifier with a component (split
at '_') from KEYWORDS (pass, password, secret, cred, hash, digest, key, proof,
cookie, nonce, response and their plurals/variants).

Refinements of a plain `grep` so that it flags what matters, not file names:
  * comments and string literals are ignored (a comment may say "never
    memcmp a password"; a literal like "scheme=" is not a variable);
  * only the call's arguments count, not the rest of its line (in
    `e->hash == hash && memcmp(e->user, user, len)` the compared bytes are a
    user name; the hash is a hash-table bucket);
  * identifiers match by component: `passdb_drivers` is not a password,
    `stored_key` and `client_proof` are;
  * "key" alone is the key of a key=value pair or a lookup key (`key`,
    `ldap_keys`, `key_off`): it counts only next to a component that makes
    it cryptographic (KEY_QUALIFIERS: `stored_key`, `server_key`,
    `hmac_key`, ...);
  * "digest" followed by "md5" is the DIGEST-MD5 mechanism's name
    (`digest_md5_service_aliases`), not a digest.

A harmless comparison is exempted with the marker comment `/* not secret */`
on one of the call's lines, e.g. comparing scheme names or config keys.

Run: python3 -m unittest tests.daemon.test_no_secret_compare -v
"""

import os
import re
import unittest

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DIRS = ('common', 'mechanisms', 'passdb')
MARKER = '/* not secret */'
FUNCS = ('memcmp', 'strcmp', 'strncmp', 'bcmp', 'strcasecmp', 'strncasecmp')
KEYWORDS = frozenset('''
    pass passwd password passwords passphrase pw pwd plaintext
    secret secrets cred creds credential credentials
    hash hashes hashed digest digests hmac
    proof proofs cookie cookies nonce nonces cnonce snonce
    response responses signature
'''.split())
KEY_WORDS = frozenset(('key', 'keys'))
KEY_QUALIFIERS = frozenset('''
    stored server client salted secret session hmac private priv master shared
    cipher enc sign signing mac auth derived
'''.split())
CALL_RE = re.compile(r'\b(%s)\s*\(' % '|'.join(FUNCS))
IDENT_RE = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')
MAX_CALL_CHARS = 2000     # a call's argument text longer than this is cut


def strip_code(text):
    """Blanks out comments and string/char literals, keeping every newline
    (so offsets and line numbers stay valid)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('/*', i):
            end = text.find('*/', i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:end]))
            i = end
        elif text.startswith('//', i):
            end = text.find('\n', i)
            end = n if end < 0 else end
            out.append(' ' * (end - i))
            i = end
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r'[^\n]', ' ', text[i + 1:j - 1]) + (c if j - 1 > i else ''))
            i = j
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def call_args(code, open_paren):
    """The text between the call's parentheses (balanced), or to the cap."""
    depth, i = 0, open_paren
    end = min(len(code), open_paren + MAX_CALL_CHARS)
    while i < end:
        if code[i] == '(':
            depth += 1
        elif code[i] == ')':
            depth -= 1
            if depth == 0:
                return code[open_paren + 1:i], i
        i += 1
    return code[open_paren + 1:end], end


def secret_words(args):
    """The KEYWORDS components of the identifiers in args."""
    found = []
    for ident in IDENT_RE.findall(args):
        parts = ident.lower().split('_')
        for i, part in enumerate(parts):
            if part == 'digest' and parts[i + 1:i + 2] == ['md5']:
                continue
            if part in KEYWORDS or (part in KEY_WORDS and KEY_QUALIFIERS.intersection(parts)):
                found.append(ident)
                break
    return found


def scan_text(text, name='<text>'):
    """Returns "name:line: call -- mentions x" for every flagged call."""
    code = strip_code(text)
    lines = text.split('\n')
    problems = []
    for m in CALL_RE.finditer(code):
        args, end = call_args(code, m.end() - 1)
        first = code.count('\n', 0, m.start())
        last = code.count('\n', 0, end)
        if any(MARKER in lines[k] for k in range(first, min(last, len(lines) - 1) + 1)):
            continue
        words = secret_words(args)
        if words:
            problems.append('%s:%d: %s(%s) -- mentions %s' % (
                name, first + 1, m.group(1), ' '.join(args.split())[:80], ', '.join(words)))
    return problems


def source_files():
    for d in DIRS:
        path = os.path.join(_REPO, d)
        if not os.path.isdir(path):
            continue
        for f in sorted(os.listdir(path)):
            if f.endswith(('.c', '.h')):
                yield os.path.join(d, f)


class NoSecretCompare(unittest.TestCase):
    def test_tree(self):
        problems = []
        files = list(source_files())
        self.assertTrue(any(f.startswith('common/') for f in files), 'no sources found')
        for rel in files:
            with open(os.path.join(_REPO, rel), encoding='utf-8', errors='replace') as fh:
                problems += scan_text(fh.read(), rel)
        self.assertEqual(problems, [], 'compare secrets with secret_equal() (common/secret.h), '
                         'or mark a harmless line with %s:\n  %s' % (MARKER, '\n  '.join(problems)))


class CheckerSelfTest(unittest.TestCase):
    """The checker itself: what it must flag and what it must let pass."""

    FLAGGED = [
        'if (memcmp(digest, stored, 16) == 0)',
        'return strcmp(password, want) == 0;',
        'ok = strncmp(p->client_proof, buf, n);',
        'ok = bcmp(a, b->stored_key, 20);',
        'x = memcmp (resp,\n    expected_response, 32);',
        'if (!memcmp(nonce, s->nonce, len))',
        'return strcmp(cred, "x") == 0;',
        'memcmp(a, b, sizeof(struct cookie));',
        'int r = strcmp(user_pw, other);',
        'if (strcasecmp(otp->hash, x) == 0)',
        'if (memcmp(client_key, x, 20) == 0)',
        'if (memcmp(digest, x, 16) == 0)',
        'if (memcmp(md5_digest, x, 16) == 0)',
    ]
    PASSED = [
        '/* never memcmp(password, ...) */',
        '// strcmp(password, x)',
        'if (strcmp(name, "password") == 0)',
        'if (strncmp(tok, "scheme=", 7) == 0)',
        'if (strcmp(passdb_drivers[i]->name, name) == 0)',
        'if (e->hash == hash && memcmp(e->user, user, len) == 0)',
        'return strcmp(a->cred_class, b->cred_class) == 0; /* not secret */',
        'x = memcmp(key,\n  other, 4);   /* not secret */',
        'ok = secret_equal(password, len, stored, slen);',
        'char *s = "memcmp(password, x)";',
        'if (memcmp(t->data + l->key_off, key, n) == 0)',
        'if (strcmp(ldap_keys[i].name, key) == 0)',
        'if (strcasecmp(service, digest_md5_service_aliases[i].service) == 0)',
    ]

    def test_flagged(self):
        for src in self.FLAGGED:
            self.assertNotEqual(scan_text(src), [], 'should be flagged: %r' % src)

    def test_passed(self):
        for src in self.PASSED:
            self.assertEqual(scan_text(src), [], 'should pass: %r' % src)

    def test_line_numbers(self):
        got = scan_text('a\n/* x\n y */\nz = "s";\nif (memcmp(secret, k, 1))\n', 'f.c')
        self.assertEqual(len(got), 1)
        self.assertTrue(got[0].startswith('f.c:5: memcmp('), got[0])


if __name__ == '__main__':
    unittest.main()
