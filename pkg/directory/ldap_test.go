package directory

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/smimectl/smimectl/internal/testpeer"
)

func adminConfig(url string) Config {
	return Config{URL: url, BindDN: "cn=admin," + testpeer.SLAPDSuffix, Password: func() ([]byte, error) { return []byte("secret"), nil }, Timeout: 10 * time.Second}
}

// TestApplySLAPDConcurrentChange: a value removed by someone else between
// the scan and the modify makes the server refuse the user's whole modify,
// so the user's other value stays: no user is left half-changed, and the
// final backup does not claim the refused change (issue #14 item 2).
func TestApplySLAPDConcurrentChange(t *testing.T) {
	f := newFixture(t)
	a, b := f.p7(t, f.other, "carol"), f.p7(t, f.other, "bob")
	srv := testpeer.StartSLAPDWith(t, fmt.Sprintf("dn: uid=x,%s\nobjectClass: inetOrgPerson\nuid: x\ncn: X\nsn: X\nuserSMIMECertificate:: %s\nuserSMIMECertificate:: %s\n",
		testpeer.SLAPDSuffix, base64.StdEncoding.EncodeToString(a), base64.StdEncoding.EncodeToString(b)), testpeer.SLAPDOptions{SMIMEEquality: true})
	ctx := context.Background()
	c, err := Dial(ctx, adminConfig(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var changes []*Change
	if _, err := Scan(ctx, c, ScanOptions{Base: testpeer.SLAPDSuffix, Judge: f.judge()}, func(u *User) error {
		ch, err := PlanClean(u, OnlyUntrusted)
		changes = append(changes, ch)
		return err
	}); err != nil || len(changes) != 1 || len(changes[0].Removed) != 2 {
		t.Fatalf("scan: %v, %d changes", err, len(changes))
	}
	// Someone else removes value a meanwhile.
	other, err := Dial(ctx, adminConfig(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Modify(ctx, "uid=x,"+testpeer.SLAPDSuffix, []Mod{{Op: Delete, Attr: AttrSMIME, Values: [][]byte{a}}}); err != nil {
		t.Fatal(err)
	}
	bf := &BackupFile{Path: filepath.Join(t.TempDir(), "b.ldif")}
	outs, err := Apply(ctx, c, changes, bf)
	if err != nil || outs[0].Err == nil || outs[0].Unknown {
		t.Fatalf("apply: %v, outcome %+v", err, outs)
	}
	var left [][]byte
	if err := readValues(ctx, c, &left); err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || !bytes.Equal(left[0], b) {
		t.Fatalf("%d values left, want b only: the refused modify changed the entry", len(left))
	}
}

func readValues(ctx context.Context, c Conn, out *[][]byte) error {
	e, err := c.Read(ctx, "uid=x,"+testpeer.SLAPDSuffix, []string{AttrSMIME})
	if err != nil {
		return err
	}
	*out = e.Get(AttrSMIME)
	return nil
}

// TestDialTLS: ldaps:// and StartTLS check the server's certificate against
// RootCAs; another CA is refused, as a setup fault, not "unavailable".
func TestDialTLS(t *testing.T) {
	f := newFixture(t)
	opts := testpeer.ServerCertificate(t, f.l.Root.Cert, f.l.Root.Key)
	opts.SMIMEEquality = true
	srv := testpeer.StartSLAPDWith(t, "", opts)
	roots := x509.NewCertPool()
	roots.AddCert(f.l.Root.Cert)
	wrong := x509.NewCertPool()
	wrong.AddCert(f.other.Root.Cert)
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		cfg      Config
		ok       bool
		tempFail bool
	}{
		{"ldaps", Config{URL: srv.TLSURL, RootCAs: roots}, true, false},
		{"starttls", Config{URL: srv.URL, StartTLS: true, RootCAs: roots}, true, false},
		{"ldaps, wrong CA", Config{URL: srv.TLSURL, RootCAs: wrong}, false, false},
		{"starttls, wrong CA", Config{URL: srv.URL, StartTLS: true, RootCAs: wrong}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Timeout = 5 * time.Second
			c, err := Dial(ctx, tc.cfg)
			if err == nil {
				defer c.Close()
				_, err = DefaultBase(ctx, c)
			}
			var ue *UnavailableError
			if (err == nil) != tc.ok || errors.As(err, &ue) != tc.tempFail {
				t.Fatalf("got %v", err)
			}
		})
	}
}

// TestResponseBudget: a server that answers with an endless value is cut
// off at MaxResponseBytes, quickly, with ErrResponseTooLarge, and the client
// holds no more than that (issue #14, hostile directory).
func TestResponseBudget(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = c.Read(make([]byte, 4096))
				// LDAPMessage SEQUENCE of (almost) 2 GiB: message ID 2, a
				// SearchResultEntry whose DN never ends.
				_, _ = c.Write([]byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xf0, 0x02, 0x01, 0x01, 0x64, 0x84, 0x7f, 0xff, 0xff, 0xe0, 0x04, 0x84, 0x7f, 0xff, 0xff, 0xd0})
				junk := bytes.Repeat([]byte("A"), 1<<16)
				for {
					if _, err := c.Write(junk); err != nil {
						return
					}
				}
			}()
		}
	}()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	c, err := Dial(context.Background(), Config{URL: "ldap://" + l.Addr().String(), Timeout: 20 * time.Second, MaxResponseBytes: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Search(context.Background(), SearchRequest{Base: "dc=x", Filter: "(objectClass=*)"}, func(*Entry) error { return nil })
	if !errors.Is(err, ErrResponseTooLarge) || time.Since(start) > 10*time.Second {
		t.Fatalf("got %v after %v, want ErrResponseTooLarge", err, time.Since(start))
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := int64(after.TotalAlloc - before.TotalAlloc); grew > 64<<20 {
		t.Errorf("allocated %d MiB for an 8 MiB budget", grew>>20)
	}
	if !strings.Contains(err.Error(), "8388608 bytes") {
		t.Errorf("error does not name the limit: %v", err)
	}
}

// TestClassifyPermission (issue #17 item 4): what the server refused is an
// Operation a caller compares with the constants, a refused bind OpBind.
func TestClassifyPermission(t *testing.T) {
	refused := &ldap.Error{ResultCode: ldap.LDAPResultInvalidCredentials, Err: errors.New("invalid credentials")}
	tests := []struct {
		op, dn string
		want   Operation
	}{
		{"binding as", "cn=reader", OpBind},
		{"modifying", "uid=a", OpModify},
		{"searching", "dc=example", OpSearch},
		{"reading the root DSE", "", OpReadRootDSE},
	}
	for _, tc := range tests {
		var pe *PermissionError
		if err := classify(tc.op, tc.dn, refused); !errors.As(err, &pe) || pe.Op != tc.want || pe.DN != tc.dn {
			t.Errorf("classify(%q) = %v, want a *PermissionError for %q", tc.op, err, tc.want)
		}
	}
}
