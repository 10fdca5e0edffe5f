#!/bin/sh
# Installs what authd needs from Debian's packages, idempotently.
#   sh scripts/deps.sh build   compiler, pkg-config and the -dev libraries
#   sh scripts/deps.sh test    build deps plus cmocka, clang, python3 and the
#                              real peers the tests start (Postfix, swaks,
#                              gsasl, Dovecot, slapd, pam/nss wrappers)
# apt-get runs only when a package is missing (checked with dpkg-query), with
# one `apt-get update` first. Not root and something missing: prints the
# command to run and exits 1. POSIX sh: the Makefile runs it with `sh`.
set -eu

BUILD_PKGS="gcc make pkg-config libssl-dev libsodium-dev libcrypt-dev libldap-dev
libpam0g-dev libcdb-dev libsystemd-dev"
TEST_PKGS="libcmocka-dev clang python3 postfix swaks libauthen-sasl-perl
libio-socket-ssl-perl gsasl dovecot-core libpam-wrapper libnss-wrapper slapd
ldap-utils util-linux dovecot-ldap"
# Daemons some of these packages ship; none may be left running by an install.
DAEMONS="master dovecot slapd postlogd qmgr pickup anvil"

usage() {
	echo "usage: $0 build|test" >&2
	exit 2
}

# Prints the packages of "$@" that dpkg does not know as installed.
missing_pkgs() {
	for p in "$@"; do
		st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
		case "$st" in
		ii*) ;;
		*) printf '%s\n' "$p" ;;
		esac
	done
}

# Prints "pid comm" of every running process named like one of $DAEMONS.
daemon_pids() {
	for d in /proc/[0-9]*; do
		c=$(cat "$d/comm" 2>/dev/null || true)
		for n in $DAEMONS; do
			if [ "$c" = "$n" ]; then
				printf '%s %s\n' "${d#/proc/}" "$c"
			fi
		done
	done | sort
}

preseed() {
	command -v debconf-set-selections >/dev/null 2>&1 || return 0
	printf '%s\n' \
		"postfix postfix/main_mailer_type select No configuration" \
		"slapd slapd/no_configuration boolean true" |
		debconf-set-selections
}

# policy-rc.d exit 101 tells invoke-rc.d not to start any service; we only
# add one if none exists, and remove only the one we added.
POLICY=/usr/sbin/policy-rc.d
POLICY_ADDED=0
policy_block() {
	if [ ! -e "$POLICY" ]; then
		printf '#!/bin/sh\n# added by authd scripts/deps.sh during apt-get install\nexit 101\n' >"$POLICY"
		chmod 755 "$POLICY"
		POLICY_ADDED=1
	fi
}
policy_restore() {
	if [ "$POLICY_ADDED" = 1 ]; then
		rm -f "$POLICY"
		POLICY_ADDED=0
	fi
}

install_pkgs() {
	before=$(daemon_pids)
	preseed
	policy_block
	trap policy_restore EXIT
	trap 'policy_restore; exit 130' INT TERM
	export DEBIAN_FRONTEND=noninteractive
	echo "deps.sh: installing: $*"
	apt-get update -q
	apt-get install -y -q "$@"
	policy_restore
	trap - EXIT INT TERM
	after=$(daemon_pids)
	started=$(printf '%s\n' "$after" | while read -r line; do
		[ -n "$line" ] || continue
		printf '%s\n' "$before" | grep -qxF "$line" || printf '%s\n' "$line"
	done)
	if [ -n "$started" ]; then
		# Not ours to kill: report it so the operator can decide.
		echo "deps.sh: WARNING: these processes appeared during the install:" >&2
		printf '  %s\n' "$started" >&2
	fi
}

ensure_vmail() {
	if ! getent group vmail >/dev/null 2>&1 || ! getent passwd vmail >/dev/null 2>&1; then
		if [ "$(id -u)" != 0 ]; then
			echo "deps.sh: user vmail is missing; run as root:" >&2
			echo "  useradd --system --user-group --home-dir /nonexistent --shell /usr/sbin/nologin vmail" >&2
			exit 1
		fi
		if getent group vmail >/dev/null 2>&1; then
			useradd --system --gid vmail --home-dir /nonexistent \
				--shell /usr/sbin/nologin vmail
		else
			useradd --system --user-group --home-dir /nonexistent \
				--shell /usr/sbin/nologin vmail
		fi
		echo "deps.sh: created system user vmail"
	fi
}

[ $# -eq 1 ] || usage
case "$1" in
build) pkgs=$BUILD_PKGS ;;
test) pkgs="$BUILD_PKGS $TEST_PKGS" ;;
*) usage ;;
esac

# shellcheck disable=SC2086  # word splitting of the package lists is intended
missing=$(missing_pkgs $pkgs | tr '\n' ' ')
missing=${missing% }
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps.sh: missing packages: $missing" >&2
		echo "deps.sh: run as root:" >&2
		echo "  echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections" >&2
		echo "  echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections" >&2
		echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $missing" >&2
		exit 1
	fi
	# shellcheck disable=SC2086
	install_pkgs $missing
	# shellcheck disable=SC2086
	still=$(missing_pkgs $missing | tr '\n' ' ')
	if [ -n "$still" ]; then
		echo "deps.sh: still missing after install: $still" >&2
		exit 1
	fi
fi

if [ "$1" = test ]; then
	ensure_vmail
fi
exit 0
