#!/usr/bin/env bash
# bench/limits.sh: what a hostile message costs after issue #11's bounds, as
# wall time and peak RSS (/usr/bin/time). Every row must fail fast with a clear
# error and stay under 64 MiB.
#
#   bench/limits.sh                 # build ./cmd/smimectl and the inputs
#   SMIMECTL=/path/to/smimectl bench/limits.sh
#
# Item 12 (counts): the CLI on 100,000 SignerInfos (72 MB), 1,000,000 bogus
# certificates, 40,000 RSA-OAEP recipients (refused) and 1,000 (the most
# allowed) with --try-all. Item 11 (path building): pkg/verify's
# BenchmarkCrossSigned, a whole verification of a message carrying 16, 32 or
# 200 untrusted mutually cross-signed CA certificates, per operation.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
if [[ -z ${SMIMECTL:-} ]]; then
	go build -o "$work/smimectl" ./cmd/smimectl
	SMIMECTL=$work/smimectl
fi
go test ./internal/cms -count=1 -run '^TestWriteLimitInputs$' -limits.out="$work" >/dev/null
"$SMIMECTL" lab init "$work/lab" >/dev/null

measure() { # label, then the command; prints status, seconds, peak RSS and the error line
	local label=$1
	shift
	local status=0
	/usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>"$work/err" || status=$?
	read -r secs kib < <(tail -n 1 "$work/time")
	printf '%-34s exit %-3s %7.2f s %7.1f MiB  %s\n' "$label" "$status" "$secs" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" \
		"$(grep -m1 'error:' "$work/err" | cut -c1-110)"
}

printf '%-34s %-8s %9s %11s  %s\n' input status time "peak RSS" "first error line"
measure "verify, 100,000 signers" "$SMIMECTL" verify --trust "$work/lab/root.crt" --in "$work/signers.eml"
measure "verify, 1,000,000 certificates" "$SMIMECTL" verify --trust "$work/lab/root.crt" --in "$work/certs.eml"
measure "decrypt --try-all, 40,000 OAEP" "$SMIMECTL" decrypt --key "$work/lab/bob.key" --cert "$work/lab/bob.crt" --try-all --in "$work/oaep.eml"
measure "decrypt --try-all, 1,000 OAEP" "$SMIMECTL" decrypt --key "$work/lab/bob.key" --cert "$work/lab/bob.crt" --try-all --in "$work/oaep1000.eml"

echo
echo "item 11: whole verifications of cross-signed sets (Go benchmark, ns/op; peak RSS of the benchmark process)"
go test -c -o "$work/verify.test" ./pkg/verify
for set in pairs-16 pairs-32 pairs-200 mesh-16 mesh-32 mesh-200; do
	(cd pkg/verify && /usr/bin/time -f '%M' -o "$work/time" "$work/verify.test" -test.run '^$' \
		-test.bench "^BenchmarkCrossSigned/$set\$" -test.benchtime 20x -test.benchmem) | grep -E '^Benchmark' || true
	printf '    peak RSS %.1f MiB\n' "$(tail -n 1 "$work/time" | awk '{ print $1 / 1024 }')"
done
