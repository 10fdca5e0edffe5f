"""Shared pieces of the LDAP tests: auth server configs that use the spec's
.conf.ext files against a tests.lib.slapd.Slapd, and small clients.

    conf, files = ldap_server_conf(slapd, 'bind')     # passdb mode
    with AuthServer(kind, conf, files=files) as srv: ...

Modes: 'pass' (password lookup), 'bind' (auth_bind with search), 'binddn'
(auth_bind_userdn). The userdb is always ldap-user.conf.ext. Python 3
standard library only.
"""

import base64
import hashlib
import hmac
import itertools
import os

MODES = ('pass', 'bind', 'binddn')


def ldap_server_conf(slapd, mode, mechanisms='plain login cram-md5', user_conf=None,
                     extra='', vmail=None, verbose=True):
    """(config body, files) for AuthServer: passdb ldap-<mode>.conf.ext,
    userdb ldap-user.conf.ext (or user_conf text), auth_username_chars
    emptied (so escaping is what keeps the queries intact), listeners set up
    like tests.lib.peers.standard_conf (auth-client for Postfix, auth-userdb
    for vmail when vmail=True); verbose=False turns auth_verbose off (the
    benchmark)."""
    files = {'ldap-%s.conf.ext' % mode: slapd.conf_ext(mode),
             'ldap-user.conf.ext': user_conf if user_conf is not None else slapd.conf_ext('user')}
    conf = '''
auth_mechanisms = %(mechs)s
auth_failure_delay = 0
auth_verbose = %(verbose)s
auth_username_chars =
passdb {
  driver = ldap
  args = {tmp}/ldap-%(mode)s.conf.ext
}
userdb {
  driver = ldap
  args = {tmp}/ldap-user.conf.ext
}
service auth {
  unix_listener auth-client {
    mode = 0666
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
''' % dict(mechs=mechanisms, mode=mode, extra=extra, verbose='yes' if verbose else 'no',
           userdb_mode='0600' if vmail else '0666', userdb_user='vmail' if vmail else '')
    if not vmail:
        conf = conf.replace('    user = \n', '')
    return conf, files


_RIP_SEQ = itertools.count()


def params():
    """AUTH parameters with a remote address not used before: the failure
    penalty is keyed on rip, so one case's failure cannot slow the next."""
    n = next(_RIP_SEQ)
    return ('service=smtp', 'rip=127.%d.%d.%d' % (100 + os.getpid() % 100, 1 + n // 250,
                                                   1 + n % 250))


def plain(user, password):
    return b'\0' + user.encode() + b'\0' + password.encode()


def cram_md5(client, user, password):
    """One CRAM-MD5 dialogue on an authproto-like AuthClient (tests.lib.peers);
    returns the server's final line."""
    id = client.auth('CRAM-MD5', params())
    line = client.reply(id)
    if not line.startswith('CONT\t'):
        return line
    challenge = base64.b64decode(line.split('\t')[2])
    digest = hmac.new(password.encode(), challenge, hashlib.md5).hexdigest()
    client.cont(id, ('%s %s' % (user, digest)).encode())
    return client.reply(id)


def verdict(line):
    """'OK' / 'FAIL' / 'FAIL temp_fail' / 'CONT' of a reply line."""
    fields = line.split('\t')
    if fields[0] == 'FAIL' and 'code=temp_fail' in fields:
        return 'FAIL temp_fail'
    return fields[0]
