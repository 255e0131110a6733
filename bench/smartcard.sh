#!/usr/bin/env bash
# bench/smartcard.sh: N signatures (default 100), one smimectl process each,
# with bob's RSA key on a SoftHSM2 token (--pkcs11) against the same key from
# a PEM file (--key), and the ratio (issue #12). Each process logs in to the
# token once; the figure is the cost of loading the module, opening a session
# and logging in, per signature, on top of signing.
#
#   bench/smartcard.sh                    # build ./cmd/smimectl, 100 each
#   N=20 SMIMECTL=/path/to/smimectl bench/smartcard.sh
#
# Needs softhsm2, opensc (pkcs11-tool) and openssl; the token lives in a
# temporary directory with its own SOFTHSM2_CONF.
set -euo pipefail
N=${N:-100}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ -z ${SMIMECTL:-} ]]; then
	(cd "$root" && go build -o "$work/smimectl" ./cmd/smimectl)
	SMIMECTL=$work/smimectl
fi
module=""
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
	[[ -e $m ]] && module=$m && break
done
[[ -n $module ]] || { echo "bench/smartcard.sh: install softhsm2" >&2; exit 1; }
cd "$work"
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\n' "$work" > softhsm2.conf
export SOFTHSM2_CONF=$work/softhsm2.conf
softhsm2-util --init-token --free --label bench --so-pin 87654321 --pin 123456 >/dev/null
"$SMIMECTL" lab init lab >/dev/null
printf '123456\n' > pin
pkcs11-tool --module "$module" --token-label bench --login --pin 123456 --write-object lab/bob.key --type privkey --label bob --id 01 --usage-sign >/dev/null
openssl x509 -in lab/bob.crt -outform DER -out bob.der
pkcs11-tool --module "$module" --token-label bench --login --pin 123456 --write-object bob.der --type cert --label bob --id 01 >/dev/null
printf 'From: bob@example.com\r\nSubject: bench\r\n\r\nHello.\r\n' > msg.eml
uri="pkcs11:token=bench;object=bob?module-path=$module"

run() { # label, then the key flags
	local label=$1 start end
	shift
	start=$(date +%s.%N)
	for ((i = 0; i < N; i++)); do
		"$SMIMECTL" clear-sign "$@" --in msg.eml --out out.eml
	done
	end=$(date +%s.%N)
	awk -v a="$start" -v b="$end" -v l="$label" 'BEGIN { printf "%s %.3f\n", l, b - a }'
}
file=$(run file --key lab/bob.key --cert lab/bob.crt)
token=$(run token --pkcs11 "$uri" --pin-file pin)
f=${file#file }
t=${token#token }
awk -v n="$N" -v f="$f" -v t="$t" 'BEGIN {
	printf "%d signatures, one process each\n", n
	printf "  file key  (--key):    %6.2f s  %6.1f ms/signature\n", f, f * 1000 / n
	printf "  token key (--pkcs11): %6.2f s  %6.1f ms/signature\n", t, t * 1000 / n
	printf "  ratio token/file:     %6.2f\n", t / f
}'
openssl cms -verify -noverify -in out.eml -out /dev/null 2>/dev/null && echo "  (the last token signature verifies with openssl cms)"
