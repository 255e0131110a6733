package main

import (
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/testpeer"
)

// TestVerifyLDAPCRL verifies messages whose signers' distribution point is an
// ldap:// URL served by a real slapd (issue #7): revoked → exit 1 with the
// date and reason, not revoked → 0, the directory stopped → 75 in hard mode.
func TestVerifyLDAPCRL(t *testing.T) {
	// The CRL does not depend on the URLs, so it can go into the directory
	// before the lab that names the server's port is made.
	first, err := lab.New(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := testpeer.StartSLAPD(t, fmt.Sprintf("dn: cn=intermediate,%s\nobjectClass: cRLDistributionPoint\ncn: intermediate\ncertificateRevocationList;binary:: %s\n",
		testpeer.SLAPDSuffix, base64.StdEncoding.EncodeToString(first.Intermediate.CRL)))
	crlURL := "ldap://" + srv.Addr + "/cn=intermediate," + testpeer.SLAPDSuffix + "?certificateRevocationList;binary"
	l, err := lab.New(lab.Options{IntermediateCRLURL: crlURL})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ld := filepath.Join(dir, "lab")
	if err := l.WriteDir(ld, "pw"); err != nil {
		t.Fatal(err)
	}
	alice := signAs(t, ld, "alice-sign", "alice@example.com", "2026-01-01")
	eve := signAs(t, ld, "eve-revoked", "eve@example.com", "2025-03-01")
	// The root's CRL stays at the unreachable default URL; give it by hand.
	verify := func(in string, extra ...string) (int, string, string) {
		return cliRun(append([]string{"verify", "--trust", filepath.Join(ld, "root.crt"), "--crl", filepath.Join(ld, "root.crl"),
			"--crl-cache", "none", "--crl-timeout", "5s", "--at", "2026-01-01T00:00:00Z", "--in", in}, extra...)...)
	}

	code, _, stderr := verify(eve)
	if code != exitFailed || !strings.Contains(stderr, "smimectl: error: the signer's certificate was revoked on 2025-04-01T00:00:00Z (keyCompromise)") {
		t.Errorf("eve: exit %d: %s", code, stderr)
	}
	code, out, stderr := verify(alice, "--revocation", "hard", "--json")
	if code != exitOK || !strings.Contains(out, `"certificate":"Alice","revocation":{"status":"good","source":"url","url":"`+crlURL+`"`) {
		t.Errorf("alice: exit %d\n%s%s", code, out, stderr)
	}

	srv.Stop()
	start := time.Now()
	code, _, stderr = verify(alice, "--revocation", "hard")
	if code != exitTempFail || !strings.Contains(stderr, "no revocation information for \"Alice\"") || time.Since(start) > 5*time.Second {
		t.Errorf("stopped, hard: exit %d after %v: %s", code, time.Since(start), stderr)
	}
	code, _, stderr = verify(alice)
	if code != exitOK || !strings.Contains(stderr, "smimectl: warning: revocation of \"Alice\" not checked") {
		t.Errorf("stopped, soft: exit %d: %s", code, stderr)
	}
}
