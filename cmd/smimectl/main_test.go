package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"github.com/smimectl/smimectl/internal/testpeer"
	"os"
	"path/filepath"
	"runtime"
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
	// Scripts never read this machine's /etc/smimectl/config.toml: they
	// name the system file (issue #16 item 3).
	if p, ok := os.LookupEnv("SMIMECTL_TEST_SYSTEM_CONFIG"); ok {
		systemConfigPath = p
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
	e.Setenv("SMIMECTL_TEST_SYSTEM_CONFIG", filepath.Join(e.WorkDir, "etc", "smimectl", "config.toml"))
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
