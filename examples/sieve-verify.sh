#!/usr/bin/env bash
# Run examples/sieve-verify.sieve with Dovecot Pigeonhole's sieve-test on real
# messages: the vnd.dovecot.filter extension pipes each one through
# examples/sieve-filter/smimectl-verify (smimectl verify --annotate), and the
# script files it by the verdict in the Authentication-Results field:
# smime=fail to Quarantine, the rest to INBOX. sieve-test -e really runs the
# filter program and stores the filtered message in a Maildir, which is what
# is checked. When smimectl can't run, the message is stored as it came.
#
# Needs smimectl and sieve-test (Debian: dovecot-sieve) on PATH; with CI=true
# a missing sieve-test fails, otherwise the script skips. No Dovecot server is
# started: sieve-test reads a minimal dovecot.conf written here, and stores
# into a Maildir in a temporary directory, removed at the end. Dovecot won't
# touch mail as root, so as root sieve-test runs in a user namespace as
# "nobody" (unshare), keeping root's access to the files.
# cmd/smimectl/examples_test.go runs this script.
set -euo pipefail

if ! command -v sieve-test >/dev/null 2>&1; then
	if [[ ${CI:-} == true ]]; then
		echo "sieve-verify: sieve-test is not installed (apt-get install dovecot-sieve, see .ci/packages.txt)" >&2
		exit 1
	fi
	echo "skipping: sieve-test is not installed (Debian package dovecot-sieve)"
	exit 0
fi

examples="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

fail() {
	echo "sieve-verify: $*" >&2
	exit 1
}

run_as=()
if [[ $(id -u) == 0 ]]; then
	run_as=(unshare --user --map-user=65534 --map-group=65534)
	"${run_as[@]}" true 2>/dev/null ||
		fail "running as root and can't make a user namespace (unshare --user) to run sieve-test as a user; run as a normal user"
fi

smimectl lab init lab
lab=$work/lab

# The filter program as an administrator would install it, with this lab's
# settings (Dovecot gives it no PATH, so smimectl's full path).
mkdir sieve-filter
sed -e "s|^SMIMECTL=.*|SMIMECTL=$(command -v smimectl)|" \
	-e "s|^TRUST=.*|TRUST=$lab/root.crt|" \
	-e "s|^CRL_CACHE=.*|CRL_CACHE=$work/crl|" \
	-e "s|^FLAGS=.*|FLAGS=\"--crl $lab/root.crl --crl $lab/intermediate.crl --offline\"|" \
	"$examples/sieve-filter/smimectl-verify" > sieve-filter/smimectl-verify
chmod 755 sieve-filter/smimectl-verify
grep -q "^TRUST=$lab/root.crt$" sieve-filter/smimectl-verify || fail "could not set TRUST in smimectl-verify"

# sieve-test compiles the script to a .svbin beside it: use a copy.
cp "$examples/sieve-verify.sieve" sieve-verify.sieve

# A minimal Dovecot configuration: the plugin block of sieve-verify.sieve's
# header, and where mail goes.
cat > dovecot.conf <<CONF
ssl = no
log_path = /dev/stderr
mail_location = maildir:$work/Maildir
plugin {
  sieve_plugins = sieve_extprograms
  sieve_global_extensions = +vnd.dovecot.filter
  sieve_filter_bin_dir = $work/sieve-filter
}
CONF

cat > msg.eml <<'MSG'
From: Alice <alice@example.com>
To: Bob <bob@example.com>
Subject: quarterly figures

The figures are attached.
MSG

# Mail reaches Dovecot's delivery with LF line ends, as an MTA stores it.
smimectl clear-sign --p12 lab/alice-sign.p12 --pass-file lab/p12.pass < msg.eml | tr -d '\r' > signed.eml
sed 's/attached/lost/' signed.eml > tampered.eml
# Unsigned, with fields another host (or a forger) wrote: neither may count.
{
	printf 'Authentication-Results: mx.example.net; smime=pass\n'
	printf 'Authentication-Results: elsewhere.example;\n\tsmime=pass\n'
	cat msg.eml
} > forged.eml

# deliver MESSAGE: run the script on MESSAGE with sieve-test, executing its
# actions (-e) into the Maildir (-l), a new one each time; sieve-test's log
# goes to MESSAGE.log, its trace of the commands run to MESSAGE.trace.
deliver() {
	rm -rf Maildir "$1.log" "$1.trace"
	"${run_as[@]}" sieve-test -c dovecot.conf -C -e -l "maildir:$work/Maildir" \
		-t "$1.trace" -Tlevel=actions sieve-verify.sieve "$1" > "$1.log" 2>&1 || {
		cat "$1.log" >&2
		fail "sieve-test failed on $1"
	}
}

# only FOLDER: the one message stored in FOLDER (INBOX is the Maildir itself,
# Quarantine is Maildir/.Quarantine), failing unless there is exactly one
# message in the whole Maildir.
only() {
	local dir=Maildir
	[[ $1 == INBOX ]] || dir=Maildir/.$1
	local all=(Maildir/new/* Maildir/.*/new/*) files=("$dir"/new/*) f n=0
	for f in "${all[@]}"; do [[ -f $f ]] && n=$((n + 1)); done
	[[ $n == 1 && ${#files[@]} == 1 && -f ${files[0]} ]] || {
		echo "expected one message, in $1; found:" "${all[@]}" >&2
		return 1
	}
	echo "${files[0]}"
}

# unannotated FILE: FILE without the Authentication-Results field smimectl put
# at the top.
unannotated() {
	awk 'NR == 1 && /^Authentication-Results:/ { skip = 1; next }
		skip && /^[ \t]/ { next }
		{ skip = 0; print }' "$1"
}

# 1. A good signature: the filter changed the message, the smime=pass rule
# kept it in INBOX, and that is smime=pass with the message as received below.
deliver signed.eml
got=$(only INBOX)
head -n 1 "$got" | grep -qx 'Authentication-Results: mx.example.net;' || fail "no field at the top of $got"
grep -q $'^\tsmime=pass body.smime-identifier=alice@example.com' "$got" || fail "no smime=pass in $got"
unannotated "$got" | cmp -s - signed.eml || fail "the INBOX copy is not the message as received"
grep -q 'changed message' signed.eml.trace || fail "sieve-test did not report the filter changing the message"
grep -q 'keep action' signed.eml.trace || fail "the smime=pass rule did not keep the message"
grep -q "stored mail into mailbox 'INBOX'" signed.eml.log || fail "sieve-test did not report storing into INBOX"

# 2. Changed on the way: Quarantine, with smime=fail and the reason; the
# message itself as it came.
deliver tampered.eml
got=$(only Quarantine)
grep -q $'^\tsmime=fail reason="the message was changed after it was signed"' "$got" || fail "no smime=fail in $got"
unannotated "$got" | cmp -s - tampered.eml || fail "the quarantined copy is not the message as received"
grep -q "stored mail into mailbox 'Quarantine'" tampered.eml.log || fail "sieve-test did not report the quarantine"

# 3. Forged fields: smimectl drops the one claiming this host, the other host's
# smime=pass doesn't count, and the unsigned message gets smime=none: no rule
# takes it, and Sieve's implicit keep stores it in INBOX.
deliver forged.eml
got=$(only INBOX)
[[ $(grep -c '^Authentication-Results: mx.example.net;' "$got") == 1 ]] || fail "the forged field for this host was kept"
grep -q $'^\tsmime=none' "$got" || fail "no smime=none for an unsigned message"
grep -q '^Authentication-Results: elsewhere.example;' "$got" || fail "another host's field was lost"
! grep -q 'keep action' forged.eml.trace || fail "a forged smime=pass was taken for ours"

# 4. Never lose a message: with a trust file that isn't there, smimectl exits 2
# and writes nothing; the filter fails (sieve-test logs the exit code) and the
# original is stored, byte for byte.
sed -i "s|^TRUST=.*|TRUST=$work/no-such-root.crt|" sieve-filter/smimectl-verify
deliver signed.eml
cmp -s "$(only INBOX)" signed.eml || fail "the original was not stored unchanged when smimectl failed"
grep -q 'smimectl: error:' signed.eml.log || fail "smimectl's error is not in sieve-test's log"
grep -q 'Terminated with non-zero exit code 2' signed.eml.log || fail "sieve-test did not see the filter fail"
grep -q 'program indicated false result' signed.eml.trace || fail "sieve-test did not report the filter's failure"
! grep -q 'changed message' signed.eml.trace || fail "sieve-test changed the message though the filter failed"

echo "sieve-verify: ok"
