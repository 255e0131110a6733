package main

// The custom commands of the testscript files (Params.Cmds).

import (
	"bytes"
	"errors"
	"github.com/smimectl/smimectl/internal/keys"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/internal/testpeer"
	"maps"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// allCmds adds the peer drivers of internal/testpeer to scriptCmds.
func allCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	cmds := testpeer.Cmds()
	maps.Copy(cmds, scriptCmds)
	return cmds
}

// scriptCmds are the commands scripts have besides testscript's own.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"exitcode": cmdExitcode,
	"crlf2lf":  cmdCRLF2LF,
	"lf2crlf":  cmdLF2CRLF,
	"replace":  cmdReplace,
	// Local servers for revocation scripts: see serve_test.go.
	"httpserve": cmdHTTPServe,
	"httphits":  cmdHTTPHits,
	"mangle":    cmdMangle,
	// Certificate files for cert-verify scripts: see cert_verify_test.go.
	"concat":  cmdConcat,
	"pem2der": cmdPEM2DER,
	"bigfile": cmdBigfile,
	"mkcrl":   cmdMkCRL, // mkcrl_test.go
	"cosign":  cmdCoSign,
	// ML-KEM identities and a tampered KEM entry: see mlkem_test.go.
	"mlkemuser": cmdMLKEMUser,
	"kemtamper": cmdKEMTamper,
	// decrypt --out-dir's files: see decrypt_batch_test.go.
	"filemode": cmdFilemode,
}

// cmdCoSign clear-signs a message by several signers in one SignedData, which no
// smimectl command writes (issue #11 item 2: co-signers): "cosign AT IN OUT CHAIN
// KEY CERT [KEY CERT]...". AT is the signing time (RFC 3339), CHAIN the
// intermediates to carry; nothing is checked, so a co-signer's address need not be
// in From.
func cmdCoSign(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 6 || len(args)%2 != 0 {
		ts.Fatalf("usage: cosign <at> <in> <out> <chain> <key> <cert> [<key> <cert>]...")
	}
	at, err := time.Parse(time.RFC3339, args[0])
	ts.Check(err)
	msg, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	chain, err := keys.LoadCertificates(ts.MkAbs(args[3]))
	ts.Check(err)
	var signers []labtest.CoSigner
	for i := 4; i < len(args); i += 2 {
		id, err := keys.LoadIdentity(ts.MkAbs(args[i]), ts.MkAbs(args[i+1]), nil)
		ts.Check(err)
		signers = append(signers, labtest.CoSigner{Key: id.Signer, Certificate: id.Certificate})
	}
	out, err := labtest.CoSign(msg, at, chain, signers...)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), out, 0o644))
}

// cmdMangle damages a binary file in place, as a transmission error or an attacker
// might: "mangle flip -40 c.p7m" flips the low bit of the byte 40 from the end
// (a negative offset counts from the end), "mangle cut 100 c.p7m" drops the last
// 100 bytes.
func cmdMangle(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 || (args[0] != "flip" && args[0] != "cut" && args[0] != "b64") {
		ts.Fatalf("usage: mangle {flip <offset> | b64 <offset> | cut <n>} <file>")
	}
	path := ts.MkAbs(args[2])
	data, err := os.ReadFile(path)
	ts.Check(err)
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	if args[0] == "cut" {
		if n < 0 || n > len(data) {
			ts.Fatalf("mangle: can't cut %d of %d bytes", n, len(data))
		}
		data = data[:len(data)-n]
	} else {
		if n < 0 {
			n += len(data)
		}
		if n < 0 || n >= len(data) {
			ts.Fatalf("mangle: offset %s outside %d bytes", args[1], len(data))
		}
		if args[0] == "flip" {
			data[n] ^= 1
		} else {
			// b64: the base64 letter at or before the offset becomes the next
			// letter of the alphabet, so the text stays valid base64 and only
			// the decoded bytes change, whatever the (random) letter was.
			const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
			for n >= 0 && strings.IndexByte(alphabet, data[n]) < 0 {
				n--
			}
			if n < 0 {
				ts.Fatalf("mangle: no base64 letter at or before offset %s", args[1])
			}
			data[n] = alphabet[(strings.IndexByte(alphabet, data[n])+1)%len(alphabet)]
		}
	}
	ts.Check(os.WriteFile(path, data, 0o644))
}

// cmdReplace changes a file in place, as a mail system on the way might:
// "replace 'Meet at noon' 'Meet at nine' signed.eml". The old text must occur.
func cmdReplace(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: replace <old> <new> <file>")
	}
	path := ts.MkAbs(args[2])
	data, err := os.ReadFile(path)
	ts.Check(err)
	if !bytes.Contains(data, []byte(args[0])) {
		ts.Fatalf("replace: %q not in %s", args[0], args[2])
	}
	ts.Check(os.WriteFile(path, bytes.Replace(data, []byte(args[0]), []byte(args[1]), 1), 0o644))
}

// cmdCRLF2LF copies a file with CRLF line ends turned into LF, as a mail store or a
// Unix mail tool may keep a message: "crlf2lf signed.eml signed-lf.eml".
func cmdCRLF2LF(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: crlf2lf <in> <out>")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), 0o644))
}

// cmdLF2CRLF writes IN to OUT with every line ending in CRLF, as mail travels:
// txtar files hold LF lines, and peers sign the bytes they are given.
func cmdLF2CRLF(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: lf2crlf <in> <out>")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	data = bytes.ReplaceAll(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), data, 0o644))
}

// cmdExitcode runs a program and checks its exact exit status, which testscript's "!"
// can't: "exitcode 2 exec smimectl --bogus" or "exitcode 2 smimectl --bogus". Its
// stdout and stderr are kept for the stdout and stderr commands that follow.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exitcode")
	}
	if len(args) >= 2 && args[1] == "exec" {
		args = append(args[:1], args[2:]...)
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode <status> [exec] <program> [<arg>...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: bad status %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}
