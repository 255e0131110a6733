#!/usr/bin/env bash
# Deliver mail with the real procmail through examples/procmailrc: smimectl
# checks each message as a filter (verify --annotate, or decrypt --annotate with
# a key), adds an Authentication-Results field, and the rcfile files the
# message by the verdict: smime=pass to the inbox, smime=fail to quarantine/.
# When smimectl can't run at all, procmail delivers the original unchanged.
#
# Needs smimectl and procmail on PATH; with CI=true a missing procmail fails,
# otherwise the script skips. Delivers only into Maildirs in a temporary
# directory (procmail -m: no system rcfile, no mail sent), removed at the end.
# cmd/smimectl/examples_test.go runs this script.
set -euo pipefail

if ! command -v procmail >/dev/null 2>&1; then
	if [[ ${CI:-} == true ]]; then
		echo "procmail-verify: procmail is not installed (apt-get install procmail, see .ci/packages.txt)" >&2
		exit 1
	fi
	echo "skipping: procmail is not installed"
	exit 0
fi

rcfile="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/procmailrc"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# procmail refuses an rcfile others may write to: use a copy of our own.
cp "$rcfile" procmailrc
chmod 644 procmailrc

smimectl lab init lab
lab=$work/lab

cat > msg.eml <<'MSG'
From: Alice <alice@example.com>
To: Bob <bob@example.com>
Subject: quarterly figures

The figures are attached.
MSG

# Mail reaches procmail with LF line ends, as an MTA stores it.
smimectl clear-sign --p12 lab/alice-sign.p12 --pass-file lab/p12.pass < msg.eml | tr -d '\r' > signed.eml
sed 's/attached/lost/' signed.eml > tampered.eml
smimectl triple-wrap --p12 lab/alice-sign.p12 --pass-file lab/p12.pass --recipient-cert lab/bob.crt < msg.eml 2>/dev/null |
	tr -d '\r' > triple.eml

# deliver NAME MESSAGE [VAR=value...]: procmail delivers MESSAGE into the
# Maildir NAME/ (the inbox; quarantine is NAME/quarantine/) and logs to
# NAME.log. The lab's CRLs are given as files (--offline: its CRL URLs are
# not real); drop --offline for real mail.
deliver() {
	local box=$work/$1 msg=$2
	shift 2
	mkdir "$box"
	procmail -m PATH="$PATH" MAILDIR="$box" DEFAULT="$box/" LOGFILE="$box.log" \
		AUTHSERV_ID=mx.example.net SMIMECTL_TRUST="$lab/root.crt" \
		SMIMECTL_FLAGS="--crl $lab/root.crl --crl $lab/intermediate.crl --offline" \
		"$@" "$work/procmailrc" < "$msg"
}

# only DIR: the one message delivered into Maildir DIR, failing unless there
# is exactly one.
only() {
	local files=("$1"/new/*)
	[[ ${#files[@]} == 1 && -f ${files[0]} ]] || {
		echo "expected one message in $1/new, found: ${files[*]}" >&2
		return 1
	}
	echo "${files[0]}"
}

# unannotated FILE: FILE without the Authentication-Results field smimectl
# put at the top.
unannotated() {
	awk 'NR == 1 && /^Authentication-Results:/ { skip = 1; next }
		skip && /^[ \t]/ { next }
		{ skip = 0; print }' "$1"
}

fail() {
	echo "procmail-verify: $*" >&2
	exit 1
}

# 1. A good signature: the inbox, with smime=pass, the message as received
# below the field (so the mail client can check the signature again).
deliver good signed.eml
got=$(only good)
head -n 1 "$got" | grep -qx 'Authentication-Results: mx.example.net;' || fail "no field at the top of $got"
grep -q $'^\tsmime=pass body.smime-identifier=alice@example.com' "$got" || fail "no smime=pass in $got"
unannotated "$got" | cmp -s - signed.eml || fail "the inbox copy is not the message as received"
[[ ! -e good/quarantine ]] || fail "a good message was quarantined"

# 2. Changed on the way: quarantine/, with smime=fail and the reason; the
# message itself is kept as it came.
deliver bad tampered.eml
got=$(only bad/quarantine)
grep -q $'^\tsmime=fail reason="the message was changed after it was signed"' "$got" || fail "no smime=fail in $got"
unannotated "$got" | cmp -s - tampered.eml || fail "the quarantined copy is not the message as received"
[[ ! -e bad/new ]] || fail "a tampered message reached the inbox"

# 3. Not signed at all: smime=none, the inbox.
deliver plain msg.eml
grep -q $'^\tsmime=none' "$(only plain)" || fail "no smime=none for an unsigned message"

# 4. Fields someone else wrote don't count: a good message arriving with a
# forged smime=fail for this host (smimectl drops it) and another host's
# smime=fail (not ours to trust) still reaches the inbox.
{
	printf 'Authentication-Results: mx.example.net;\n\tsmime=fail\n'
	printf 'Authentication-Results: elsewhere.example;\n\tsmime=fail\n'
	cat signed.eml
} > forged.eml
deliver forged forged.eml
got=$(only forged)
[[ ! -e forged/quarantine ]] || fail "forged fields quarantined a good message"
[[ $(grep -c '^Authentication-Results: mx.example.net;' "$got") == 1 ]] || fail "the forged field for this host was kept"
grep -q $'^\tsmime=pass' "$got" || fail "no smime=pass for the good message with forged fields"

# 5. Never lose a message: with a trust file that isn't there, smimectl exits 2
# and writes nothing; procmail (flag w) sees the failure and delivers the
# original, byte for byte, to the inbox. procmail's log says why.
deliver broken signed.eml SMIMECTL_TRUST="$work/no-such-root.crt"
cmp -s "$(only broken)" signed.eml || fail "the original was not delivered unchanged when smimectl failed"
grep -q 'smimectl: error:' broken.log || fail "smimectl's error is not in procmail's log"
grep -q 'Program failure (2) of "smimectl"' broken.log || fail "procmail did not see smimectl fail"
grep -q 'Rescue of unfiltered data succeeded' broken.log || fail "procmail did not keep the original"

# 6. With bob's key: a triple-wrapped message (signed, encrypted for bob,
# signed again) is decrypted, both signatures are checked, and the plain
# message reaches the inbox with one smime=pass per signed layer.
deliver sealed triple.eml SMIMECTL_P12="$lab/bob.p12" SMIMECTL_PASS_FILE="$lab/p12.pass"
got=$(only sealed)
[[ $(grep -c $'^\tsmime=pass reason="layer' "$got") == 2 ]] || fail "expected two passing layers in $got"
grep -q '^The figures are attached' "$got" || fail "the triple-wrapped message was not decrypted"

# 7. The same key with the wrong password file: decrypt can't load the key,
# writes nothing, and the sealed original is delivered as it came.
echo wrong > wrong.pass
deliver sealed-broken triple.eml SMIMECTL_P12="$lab/bob.p12" SMIMECTL_PASS_FILE="$work/wrong.pass"
cmp -s "$(only sealed-broken)" triple.eml || fail "the sealed original was not delivered unchanged"

echo "procmail-verify: ok"
