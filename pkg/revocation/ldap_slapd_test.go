package revocation

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/testpeer"
)

// slapdCRLLab starts a real slapd holding the lab intermediate's CRL in
// certificateRevocationList;binary of cn=intermediate,SUFFIX (a
// cRLDistributionPoint entry, core.schema), and returns a lab whose user
// certificates name that entry as their distribution point by LDAP URL.
func slapdCRLLab(t *testing.T) (*lab.Lab, *testpeer.SLAPD, string) {
	t.Helper()
	// The CRL does not depend on the distribution point URLs, so it can be
	// taken from a lab made before the server's port is known.
	first, err := lab.New(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := testpeer.StartSLAPD(t, fmt.Sprintf("dn: cn=intermediate,%s\nobjectClass: cRLDistributionPoint\ncn: intermediate\ncertificateRevocationList;binary:: %s\n",
		testpeer.SLAPDSuffix, base64.StdEncoding.EncodeToString(first.Intermediate.CRL)))
	u := "ldap://" + srv.Addr + "/cn=intermediate," + testpeer.SLAPDSuffix + "?certificateRevocationList;binary"
	l, err := lab.New(lab.Options{IntermediateCRLURL: u})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(l.Intermediate.CRL, first.Intermediate.CRL) {
		t.Fatal("the lab's CRL changed with its distribution point URL")
	}
	return l, srv, u
}

// TestLDAPCRLSlapd fetches the intermediate's CRL from a real OpenLDAP
// server by the certificates' ldap:// distribution point.
func TestLDAPCRLSlapd(t *testing.T) {
	l, srv, u := slapdCRLLab(t)
	ctx := context.Background()
	check := func(mode Mode, user string) (Outcome, error) {
		return New(Options{Mode: mode, URLTimeout: 5 * time.Second}).Check(ctx, l.User(user).Cert, l.Intermediate.Cert, at)
	}

	o, err := check(Hard, "eve-revoked")
	var re *RevokedError
	if !errors.As(err, &re) || !re.At.Equal(time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)) || re.Reason != 1 {
		t.Fatalf("eve: %v; want revoked on 2025-04-01 for keyCompromise", err)
	}
	if o.Status != Revoked || o.Source != SourceURL || o.URL != u || o.Produced.IsZero() {
		t.Errorf("eve: %v from %q at %q produced %v", o.Status, o.Source, o.URL, o.Produced)
	}
	if !strings.Contains(err.Error(), "keyCompromise") {
		t.Errorf("eve: %q does not name the reason", err)
	}

	o, err = check(Hard, "alice-sign")
	if err != nil || o.Status != Good || o.URL != u || len(o.Fetches) != 1 || o.Fetches[0].Err != nil {
		t.Fatalf("alice: %v (%s), %v, fetches %+v; want good from %s", o.Status, o.Detail, err, o.Fetches, u)
	}

	// A DN with no such entry, and an entry without the attribute.
	for _, tc := range []struct{ url, detail string }{
		{"ldap://" + srv.Addr + "/cn=nobody," + testpeer.SLAPDSuffix + "?certificateRevocationList;binary", "No Such Object"},
		{"ldap://" + srv.Addr + "/" + testpeer.SLAPDSuffix + "?certificateRevocationList;binary", "has no certificateRevocationList;binary value"},
	} {
		leaf := leafWith(t, l, 9001, []string{tc.url})
		o, err := New(Options{Mode: Hard, URLTimeout: 5 * time.Second}).Check(ctx, leaf, l.Intermediate.Cert, at)
		var ue *UnavailableError
		if !errors.As(err, &ue) || !strings.Contains(o.Detail, tc.detail) {
			t.Errorf("%s: %v (%s); want unavailable saying %q", tc.url, err, o.Detail, tc.detail)
		}
	}

	// Stopped: unavailable at once in hard mode, a warning in soft mode.
	srv.Stop()
	start := time.Now()
	o, err = check(Hard, "alice-sign")
	var ue *UnavailableError
	if !errors.As(err, &ue) || o.Status != Unknown || len(ue.URLs) != 1 || ue.URLs[0] != u {
		t.Fatalf("stopped, hard: %v (%s); want unavailable naming %s", err, o.Detail, u)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stopped: took %v, more than the per-URL timeout", d)
	}
	if o, err := check(Soft, "alice-sign"); err != nil || o.Status != Unknown {
		t.Errorf("stopped, soft: %v, %v; want unknown and no error", o.Status, err)
	}
}

// TestLDAPCRLSilent checks the per-URL timeout against an LDAP server that
// accepts the connection and never answers.
func TestLDAPCRLSilent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, unanswered, until the test ends
		}
	}()
	f := setup(t, nil)
	leaf := leafWith(t, f.lab, 9002, []string{"ldap://" + ln.Addr().String() + "/cn=intermediate,dc=example,dc=com?certificateRevocationList;binary"})
	start := time.Now()
	o, err := New(Options{Mode: Hard, URLTimeout: 300 * time.Millisecond}).Check(context.Background(), leaf, f.lab.Intermediate.Cert, at)
	d := time.Since(start)
	var ue *UnavailableError
	if !errors.As(err, &ue) || !strings.Contains(o.Detail, "per-URL timeout (300ms)") {
		t.Fatalf("%v (%s); want unavailable after the per-URL timeout", err, o.Detail)
	}
	if d < 250*time.Millisecond || d > 3*time.Second {
		t.Errorf("took %v; want about 300ms", d)
	}
}
