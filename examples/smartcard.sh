#!/usr/bin/env bash
# Sign and decrypt with keys on a smart card, using SoftHSM2 as the card: the
# README's "Smart cards and tokens" set-up, step by step. With a real card
# (PIV, YubiKey, a national ID) skip the SoftHSM2 part and give OpenSC's module,
# e.g. --pkcs11-module /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so.
#
# Needs smimectl, softhsm2-util and pkcs11-tool (Debian softhsm2 and opensc) on
# PATH; with CI=true a missing one fails, otherwise the script skips. The token
# lives in a temporary directory (its own SOFTHSM2_CONF), removed at the end.
# cmd/smimectl/examples_test.go runs this script.
set -euo pipefail

module=""
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so; do
	[[ -e $m ]] && module=$m && break
done
if [[ -z $module ]] || ! command -v softhsm2-util >/dev/null 2>&1 || ! command -v pkcs11-tool >/dev/null 2>&1; then
	if [[ ${CI:-} == true ]]; then
		echo "smartcard: softhsm2 or opensc is not installed (apt-get install softhsm2 opensc, see .ci/packages.txt)" >&2
		exit 1
	fi
	echo "skipping: softhsm2 or opensc is not installed"
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# 1. A software token of our own (never the system's tokens).
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\n' "$work" > softhsm2.conf
export SOFTHSM2_CONF=$work/softhsm2.conf
softhsm2-util --init-token --free --label "My Card" --so-pin 87654321 --pin 123456 >/dev/null

# 2. The lab's bob (RSA) and carol (EC) with their certificates on the card,
#    key and certificate sharing a CKA_ID, as card enrolment tools do.
smimectl lab init lab
printf '123456\n' > pin
chmod 600 pin
put() { # key cert label id
	pkcs11-tool --module "$module" --token-label "My Card" --login --pin "$(cat pin)" \
		--write-object "$1" --type privkey --label "$3" --id "$4" --usage-sign --usage-decrypt --usage-derive >/dev/null
	openssl x509 -in "$2" -outform DER -out cert.der
	pkcs11-tool --module "$module" --token-label "My Card" --login --pin "$(cat pin)" \
		--write-object cert.der --type cert --label "$3" --id "$4" >/dev/null
}
put lab/bob.key lab/bob.crt bob 01
put lab/carol.key lab/carol.crt carol 02

cat > msg.eml <<'MSG'
From: Bob <bob@example.com>
To: Carol <carol@example.com>
Subject: signed on the card

The key never left the card.
MSG

# 3. Sign with the card's key: a pkcs11: URI (RFC 7512) names it, the PIN comes
#    from a file (or --pin-env, or a prompt on the terminal), never the command line.
card="pkcs11:token=My%20Card;object=bob?module-path=$module"
smimectl clear-sign --pkcs11 "$card" --pin-file pin --intermediates lab/intermediate.crt < msg.eml > signed.eml
smimectl verify --trust lab/root.crt --revocation off < signed.eml | grep -q '^The key never left the card'

# 4. A policy that admits only card keys (the guide's SmartCardOnly).
smimectl clear-sign --smartcard-only --pkcs11 "$card" --pin-file pin < msg.eml > /dev/null
if smimectl clear-sign --smartcard-only --key lab/bob.key --cert lab/bob.crt < msg.eml > /dev/null 2> refused.txt; then
	echo "smartcard: a file key passed --smartcard-only" >&2
	exit 1
fi
grep -q 'a smart-card-based certificate is required' refused.txt

# 5. Decrypt mail for carol with her card's EC key (ECDH runs on the card).
smimectl encrypt --recipient-cert lab/carol.crt < msg.eml > encrypted.eml
smimectl decrypt --pkcs11 "pkcs11:token=My%20Card;object=carol?module-path=$module" --pin-file pin < encrypted.eml |
	grep -q '^The key never left the card'

# 6. Which certificate would sign for bob? The card's, and --explain says why.
smimectl cert-match bob@example.com --purpose sign --smartcard-only --certs lab \
	--certs "pkcs11:token=My%20Card?module-path=$module" --pin-file pin --explain --revocation off
echo "smart card example: ok"
