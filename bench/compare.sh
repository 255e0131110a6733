#!/usr/bin/env bash
# bench/compare.sh: smimectl against `openssl cms` on the same inputs.
#
#   bench/compare.sh                      # build ./cmd/smimectl, compare both
#   SMIMECTL=/path/to/smimectl bench/compare.sh
#   ONLY=openssl bench/compare.sh         # openssl half alone (no smimectl)
#
# For 1 KB, 1 MB and 100 MB text messages (CRLF lines) it clear-signs,
# opaque-signs and verifies both forms, encrypts with AES-256-CBC and
# AES-256-GCM and decrypts both, triple-wraps (sign, encrypt, sign) and
# unwraps, with each tool, and prints, best of $RUNS
# runs (default 3; 10 for messages up to 1 MB, whose times are short), wall
# seconds from the shell clock and peak RSS as /usr/bin/time reports
# them. SIZES overrides the sizes ("1K 1M 100M"); KEEP=1 keeps the work
# directory. Both verifiers read the same openssl-signed messages, both
# decrypters the same openssl-encrypted ones (RSA PKCS#1 v1.5). SPEC's
# bar: memory flat as messages grow, throughput at least OpenSSL's.
# Needs openssl and /usr/bin/time (Debian packages openssl, time).
set -euo pipefail

RUNS=${RUNS:-3}
SIZES=${SIZES:-"1K 1M 100M"}
ONLY=${ONLY:-}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

for tool in openssl /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "compare.sh: $tool is missing (apt-get install ${tool##*/})" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/smimectl-bench.XXXXXX")
# Command lines below are split on spaces: keep paths free of them.
[[ $work != *" "* ]] || { echo "compare.sh: TMPDIR must not contain spaces" >&2; exit 2; }
if [[ -n ${KEEP:-} ]]; then
	echo "compare.sh: keeping $work" >&2
else
	trap 'rm -rf "$work"' EXIT
fi

with_smimectl=1
[[ $ONLY == openssl ]] && with_smimectl=0
if ((with_smimectl)); then
	if [[ -z ${SMIMECTL:-} ]]; then
		SMIMECTL=$work/smimectl
		(cd "$root" && go build -o "$SMIMECTL" ./cmd/smimectl)
	fi
	[[ -x $SMIMECTL ]] || { echo "compare.sh: $SMIMECTL is not executable" >&2; exit 2; }
fi

# --- the lab ----------------------------------------------------------------
lab=$work/lab
if ((with_smimectl)); then
	"$SMIMECTL" lab init "$lab" --seed 1 >/dev/null
else
	# Without smimectl, an openssl-made lab with the same file names.
	mkdir -p "$lab"
	(
		cd "$lab"
		q() { "$@" 2>/dev/null >/dev/null; }
		q openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.crt -days 30 \
			-subj "/CN=Bench Root" -addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign"
		q openssl req -newkey rsa:2048 -nodes -keyout inter.key -out inter.csr -subj "/CN=Bench Intermediate"
		printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' >inter.ext
		q openssl x509 -req -in inter.csr -CA root.crt -CAkey root.key -set_serial 2 -days 30 \
			-extfile inter.ext -out chain.pem
		q openssl req -newkey rsa:2048 -nodes -keyout alice-sign.key -out alice.csr \
			-subj "/CN=Alice/emailAddress=alice@example.com"
		printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=emailProtection\nsubjectAltName=email:alice@example.com\n' >leaf.ext
		q openssl x509 -req -in alice.csr -CA chain.pem -CAkey inter.key -set_serial 3 -days 30 \
			-extfile leaf.ext -out alice-sign.crt
		cp alice-sign.crt alice-encrypt.crt
		cp alice-sign.key alice-encrypt.key
	)
fi
cert=$lab/alice-sign.crt key=$lab/alice-sign.key
ecert=$lab/alice-encrypt.crt ekey=$lab/alice-encrypt.key
for f in "$cert" "$key" "$ecert" "$ekey" "$lab/root.crt" "$lab/chain.pem"; do
	[[ -s $f ]] || { echo "compare.sh: lab file $f is missing" >&2; exit 2; }
done
# openssl builds chains from -CAfile only (-certfile just finds the signer):
# the CA file holds the root and the intermediates.
cafile=$work/ca.pem
cat "$lab/root.crt" "$lab/chain.pem" >"$cafile"

# --- messages ---------------------------------------------------------------
bytes_of() {
	local n=${1%[KMG]}
	case $1 in
	*K) echo $((n * 1024)) ;;
	*M) echo $((n * 1024 * 1024)) ;;
	*G) echo $((n * 1024 * 1024 * 1024)) ;;
	*) echo "$n" ;;
	esac
}
make_message() { # SIZE FILE: a text/plain entity of about SIZE bytes in 64-byte CRLF lines
	local lines=$(($(bytes_of "$1") / 64))
	{
		printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\n'
		# yes dies of SIGPIPE when head has enough, which pipefail would report.
		{ yes $'The quick brown fox jumps over the lazy dog; 0123456789 abcdef\r' || true; } | head -n "$lines"
	} >"$2"
}

# --- measuring --------------------------------------------------------------
failures=0
# measure NAME CMD...: best-of-$RUNS wall seconds and peak RSS (MiB) in
# ${best_s} and ${best_mib}; "FAIL" if the command fails.
measure() {
	local name=$1 t s kib
	shift
	best_s="" best_kib=""
	local runs=$RUNS
	[[ $name == *-1K-* || $name == *-1M-* ]] && ((runs < 10)) && runs=10
	for ((i = 0; i < runs; i++)); do
		t=$work/time.out
		local t0 t1
		t0=$(date +%s%N)
		if ! /usr/bin/time -f '%M' -o "$t" "$@" >"$work/$name.log" 2>&1; then
			echo "compare.sh: $name failed: $*" >&2
			sed 's/^/  /' "$work/$name.log" >&2
			best_s=FAIL best_mib=FAIL
			failures=$((failures + 1))
			return 0
		fi
		t1=$(date +%s%N)
		# Wall time from the shell's clock (nanoseconds; /usr/bin/time's %e has
		# only 10 ms resolution, too coarse for 1 KB messages).
		s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", (b-a)/1e9}')
		read -r kib <"$t"
		if [[ -z $best_s ]] || awk -v a="$s" -v b="$best_s" 'BEGIN{exit !(a<b)}'; then best_s=$s; fi
		if [[ -z $best_kib ]] || ((kib < best_kib)); then best_kib=$kib; fi
	done
	best_mib=$(awk -v k="$best_kib" 'BEGIN{printf "%.1f", k/1024}')
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN{ if (a=="-"||a=="FAIL"||b=="FAIL"||b+0==0) print "n/a"; else printf "%.2f", a/b }'
}

row() { printf '%-14s %6s %12s %12s %7s %14s %14s\n' "$@"; }

row op size "smimectl s" "openssl s" ratio "smimectl MiB" "openssl MiB"
# compare OP SIZE "SMIMECTL ARGS" "OPENSSL ARGS" (arguments split on spaces)
compare() {
	local op=$1 size=$2 s_s=- s_mib=-
	# shellcheck disable=SC2086 # argument lists are split on purpose
	if ((with_smimectl)); then
		measure "$op-$size-smimectl" "$SMIMECTL" $3
		s_s=$best_s s_mib=$best_mib
	fi
	# shellcheck disable=SC2086
	measure "$op-$size-openssl" openssl $4
	row "$op" "$size" "$s_s" "$best_s" "$(ratio "$s_s" "$best_s")" "$s_mib" "$best_mib"
}

# compare_scripts OP SIZE "SMIMECTL COMMAND" "OPENSSL COMMAND": as compare,
# for whole command lines (split on spaces).
compare_scripts() {
	local op=$1 size=$2 s_s=- s_mib=-
	# shellcheck disable=SC2086 # command lines are split on purpose
	if ((with_smimectl)); then
		measure "$op-$size-smimectl" $3
		s_s=$best_s s_mib=$best_mib
	fi
	# shellcheck disable=SC2086
	measure "$op-$size-openssl" $4
	row "$op" "$size" "$s_s" "$best_s" "$(ratio "$s_s" "$best_s")" "$s_mib" "$best_mib"
}
# openssl's triple wrap and unwrap, three commands each; peak RSS is that of
# the largest of them.
cat >"$work/wrap-openssl.sh" <<WRAP
set -eo pipefail
openssl cms -sign -signer $cert -inkey $key -md sha256 -in "\$1" |
	openssl cms -encrypt -aes-256-cbc $ecert |
	openssl cms -sign -nodetach -signer $cert -inkey $key -md sha256 -out "\$2"
WRAP
cat >"$work/unwrap-openssl.sh" <<UNWRAP
set -eo pipefail
openssl cms -verify -CAfile $cafile -purpose any -in "\$1" 2>/dev/null |
	openssl cms -decrypt -recip $ecert -inkey $ekey |
	openssl cms -verify -CAfile $cafile -purpose any -out "\$2" 2>/dev/null
UNWRAP

for size in $SIZES; do
	m=$work/msg-$size.txt
	make_message "$size" "$m"
	clear=$work/clear-$size.eml opaque=$work/opaque-$size.eml
	compare clear-sign "$size" \
		"clear-sign --cert $cert --key $key --in $m --out $work/s-clear-$size.eml" \
		"cms -sign -signer $cert -inkey $key -md sha256 -in $m -out $clear"
	compare opaque-sign "$size" \
		"opaque-sign --cert $cert --key $key --in $m --out $work/s-opaque-$size.eml" \
		"cms -sign -nodetach -signer $cert -inkey $key -md sha256 -in $m -out $opaque"
	compare verify-clear "$size" \
		"verify --trust $lab/root.crt --intermediates $lab/intermediate.crt --sender-check off --in $clear --out $work/out.tmp" \
		"cms -verify -CAfile $cafile -certfile $lab/chain.pem -purpose any -in $clear -out /dev/null"
	compare verify-opaque "$size" \
		"verify --trust $lab/root.crt --intermediates $lab/intermediate.crt --sender-check off --in $opaque --out $work/out.tmp" \
		"cms -verify -CAfile $cafile -certfile $lab/chain.pem -purpose any -in $opaque -out /dev/null"
	# Encryption to one RSA recipient; each tool decrypts what openssl wrote.
	# (smimectl --out never goes to /dev/null here: older builds replaced it.)
	for c in aes-256-cbc aes-256-gcm; do
		enc=$work/enc-$c-$size.eml
		compare "encrypt-${c#aes-256-}" "$size" \
			"encrypt --recipient-cert $ecert --cipher $c --in $m --out $work/s-enc-$size.eml" \
			"cms -encrypt -$c -in $m -out $enc $ecert"
		compare "decrypt-${c#aes-256-}" "$size" \
			"decrypt --key $ekey --cert $ecert --in $enc --out $work/out.tmp" \
			"cms -decrypt -recip $ecert -inkey $ekey -in $enc -out $work/out.tmp"
	done
	# The triple wrap (RFC 2634: sign, encrypt, sign): one smimectl command
	# against three openssl commands in a pipeline, each way; both unwrap
	# the message openssl wrapped.
	tw=$work/triple-$size.eml
	compare_scripts triple-wrap "$size" \
		"$SMIMECTL triple-wrap --cert $cert --key $key --recipient-cert $ecert --no-self --in $m --out $work/s-tw-$size.eml" \
		"bash $work/wrap-openssl.sh $m $tw"
	compare_scripts unwrap "$size" \
		"$SMIMECTL decrypt --key $ekey --cert $ecert --trust $lab/root.crt --intermediates $lab/intermediate.crt --revocation off --sender-check off --in $tw --out $work/out.tmp" \
		"bash $work/unwrap-openssl.sh $tw $work/out.tmp"
	rm -f "$m" "$work"/*-"$size".eml "$work/out.tmp"
done

if ((failures)); then
	echo "compare.sh: $failures command(s) failed" >&2
	exit 1
fi
