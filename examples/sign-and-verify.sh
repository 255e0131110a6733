#!/usr/bin/env bash
# Sign a message and verify it, from a shell, with the test lab as the PKI.
#
# Needs smimectl on PATH (go install ./cmd/smimectl). Runs in a temporary directory
# and removes it at the end. cmd/smimectl/examples_test.go runs this script.
set -euo pipefail

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# The guide's Chapter 7 lab: a root, an issuing CA and test users.
smimectl lab init lab

cat > msg.eml <<'MSG'
From: Alice <alice@example.com>
To: Bob <bob@example.com>
Subject: quarterly figures

The figures are attached.
MSG

# Clear-sign as alice (her PKCS#12 file carries the chain), then verify against
# the lab's root and CRLs; the verified content comes out on standard output.
smimectl clear-sign --p12 lab/alice-sign.p12 --pass-file lab/p12.pass < msg.eml > signed.eml
smimectl verify --trust lab/root.crt --crl lab/root.crl --crl lab/intermediate.crl < signed.eml > verified.eml
grep -q '^The figures are attached' verified.eml

# The same as a pipeline, opaque-signed, with a one-line summary on stderr.
smimectl opaque-sign --key lab/alice-sign.key --cert lab/alice-sign.crt --intermediates lab/chain.pem < msg.eml |
	smimectl verify --trust lab/root.crt --crl lab/root.crl --crl lab/intermediate.crl -v > /dev/null

# A message changed on the way fails with exit status 1 and says why.
sed 's/attached/lost/' signed.eml > tampered.eml
status=0
smimectl verify --trust lab/root.crt --revocation off < tampered.eml > /dev/null 2> why.txt || status=$?
test "$status" -eq 1
grep -q 'the message was changed after it was signed' why.txt

# A certificate that may not sign is refused with exit status 3.
status=0
smimectl clear-sign --key lab/alice-encrypt.key --cert lab/alice-encrypt.crt < msg.eml > /dev/null 2>/dev/null || status=$?
test "$status" -eq 3

echo "sign-and-verify: ok"
