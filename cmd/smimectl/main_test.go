package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"github.com/smimectl/smimectl/internal/keys"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/internal/testpeer"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite golden output in testdata/*.txtar and the man pages in doc/")

func TestMain(m *testing.M) {
	// In-process runs (run(), cert-match and encrypt tests) use the process
	// environment for HTTP proxies: keep them on this machine too.
	for k, v := range noNetwork {
		os.Setenv(k, v)
	}
	// testscript.Main (RunMain is deprecated) runs "smimectl" inside the scripts as
	// this test binary, calling Main.
	testscript.Main(m, map[string]func(){
		"smimectl": func() { os.Exit(Main()) },
	})
}

// TestScript runs the CLI scripts in testdata: one per command or concern.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup:               setupScript,
		Cmds:                allCmds(),
		Condition:           scriptCondition,
	})
}

// setupScript gives every script a private HOME and a clean SMIMECTL_ environment.
func setupScript(e *testscript.Env) error {
	home := filepath.Join(e.WorkDir, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		return err
	}
	e.Setenv("HOME", home)
	e.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	e.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	e.Setenv("SMIMECTL_DEBUG", "")
	// Scripts never reach beyond this machine: certificates name CRL and OCSP
	// servers (crl.lab.example, the 2013 vector's startssl.com), and any fetch
	// not answered from --crl or the cache goes to a closed local port.
	for k, v := range noNetwork {
		e.Setenv(k, v)
	}
	shared, err := filepath.Abs(sharedDir)
	if err != nil {
		return err
	}
	e.Setenv("SHARED", shared)
	// The Go version this test binary was built with, for version's output.
	e.Setenv("GOVERSION", runtime.Version())
	return nil
}

// noNetwork sends HTTP(S) through a proxy that refuses connections, except
// to the loopback servers tests start themselves.
var noNetwork = map[string]string{
	"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
	"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
	"NO_PROXY": "127.0.0.1,localhost,::1", "no_proxy": "127.0.0.1,localhost,::1",
}

// sharedDir holds the third-party vectors, beside the repository (see
// ../shared/vectors/README.md); scripts see it as $SHARED.
const sharedDir = "../../../shared"

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

// scriptCondition answers the conditions testscript does not know.
// [peer:openssl], [peer:gpgsm] and [peer:cmsutil] come from testpeer: true when
// the peer is installed; missing, false on a developer's machine but a failure
// under CI=true, so CI never skips interop silently. [vectors] is true when
// $SHARED/vectors (the third-party messages beside the checkout) exists, and a
// failure under CI=true when it does not. [cgo] is true when the binary was
// built with cgo, which PKCS#11 needs.
func scriptCondition(cond string) (bool, error) {
	if ok, err := testpeer.Condition(cond); !errors.Is(err, testpeer.ErrUnknownCondition) {
		return ok, err
	}
	if cond == "cgo" {
		return cgoEnabled, nil // smart cards (PKCS#11) need cgo
	}
	if cond == "vectors" {
		_, err := os.Stat(filepath.Join(sharedDir, "vectors"))
		if err != nil && os.Getenv("CI") == "true" {
			return false, fmt.Errorf("the shared vectors are required under CI=true: %v", err)
		}
		return err == nil, nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

// testNow is the fixed clock of in-process test runs.
var testNow = time.Date(2024, time.May, 1, 12, 0, 0, 0, time.UTC)

// testEnv returns an env with buffers for streams, testNow for the clock and vars
// for the environment.
func testEnv(stdin string, vars map[string]string) (e *env, stdout, stderr *bytes.Buffer) {
	stdout, stderr = new(bytes.Buffer), new(bytes.Buffer)
	e = &env{
		Stdin:    strings.NewReader(stdin),
		Stdout:   stdout,
		Stderr:   stderr,
		Now:      func() time.Time { return testNow },
		Getenv:   func(k string) string { return vars[k] },
		Hostname: func() (string, error) { return "mx.test.example", nil },
	}
	return e, stdout, stderr
}

// runArgs runs one command line in process and returns its output and exit status.
func runArgs(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	e, out, errOut := testEnv("", nil)
	code = run(e, args)
	return out.String(), errOut.String(), code
}

func TestScriptCondition(t *testing.T) {
	if _, err := scriptCondition("no-such-condition"); err == nil {
		t.Error("unknown condition: got no error")
	}
	if _, err := scriptCondition("peer:no-such-peer"); err == nil {
		t.Error("unknown peer: got no error")
	}
}
