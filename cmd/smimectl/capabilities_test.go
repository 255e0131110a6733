package main

import (
	"bytes"
	crand "crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/smimectl/smimectl/internal/keys"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/capabilities"
)

func init() {
	scriptCmds["capsign"] = cmdCapSign
	scriptCmds["capcert"] = cmdCapCert
}

// cmdCapCert reissues a certificate with the RFC 4262 smimeCapabilities
// extension (issue #18 item 1): "capcert CAPS CERT ISSUERCERT ISSUERKEY OUT"
// copies CERT's subject, addresses, key, usages and validity into a new
// certificate signed by ISSUERKEY, advertising CAPS (as for capsign).
func cmdCapCert(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 5 {
		ts.Fatalf("usage: capcert <caps> <cert> <issuer-cert> <issuer-key> <out>")
	}
	var caps []capabilities.Capability
	for name := range strings.SplitSeq(args[0], ",") {
		oid, ok := capabilityOIDs[name]
		if !ok {
			ts.Fatalf("capcert: unknown capability %q", name)
		}
		caps = append(caps, capabilities.Capability{OID: oid})
	}
	ext, err := capabilities.Marshal(caps)
	ts.Check(err)
	certs, err := keys.LoadCertificates(ts.MkAbs(args[1]))
	ts.Check(err)
	issuer, err := keys.LoadIdentity(ts.MkAbs(args[3]), ts.MkAbs(args[2]), nil)
	ts.Check(err)
	c := certs[0]
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).Add(c.SerialNumber, big.NewInt(1)), Subject: c.Subject, EmailAddresses: c.EmailAddresses,
		NotBefore: c.NotBefore, NotAfter: c.NotAfter, KeyUsage: c.KeyUsage, ExtKeyUsage: c.ExtKeyUsage,
		ExtraExtensions: []pkix.Extension{{Id: capabilities.OIDSMIMECapabilities, Value: ext}},
	}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, issuer.Certificate, c.PublicKey, issuer.Signer)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[4]), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
}

// capabilityOIDs names the capabilities capsign can advertise.
var capabilityOIDs = map[string]asn1.ObjectIdentifier{
	"aes-256-gcm":  {2, 16, 840, 1, 101, 3, 4, 1, 46},
	"aes-128-gcm":  {2, 16, 840, 1, 101, 3, 4, 1, 6},
	"aes-256-cbc":  {2, 16, 840, 1, 101, 3, 4, 1, 42},
	"aes-128-cbc":  {2, 16, 840, 1, 101, 3, 4, 1, 2},
	"des-ede3-cbc": {1, 2, 840, 113549, 3, 7},
	"rsaes-oaep":   capabilities.OIDRSAESOAEP,
}

// cmdCapSign clear-signs a message advertising chosen S/MIME capabilities, as
// another client would (issue #18 tests): "capsign AT CAPS IN OUT CHAIN KEY
// CERT", CAPS a comma-separated list of aes-256-gcm, aes-128-gcm, aes-256-cbc,
// aes-128-cbc, des-ede3-cbc and rsaes-oaep, or "none" for no attribute; AT the
// signing time (RFC 3339).
func cmdCapSign(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 7 {
		ts.Fatalf("usage: capsign <at> <caps> <in> <out> <chain> <key> <cert>")
	}
	at, err := time.Parse(time.RFC3339, args[0])
	ts.Check(err)
	var caps []asn1.ObjectIdentifier
	if args[1] != "none" {
		for name := range strings.SplitSeq(args[1], ",") {
			oid, ok := capabilityOIDs[name]
			if !ok {
				ts.Fatalf("capsign: unknown capability %q", name)
			}
			caps = append(caps, oid)
		}
	}
	msg, err := os.ReadFile(ts.MkAbs(args[2]))
	ts.Check(err)
	chain, err := keys.LoadCertificates(ts.MkAbs(args[4]))
	ts.Check(err)
	id, err := keys.LoadIdentity(ts.MkAbs(args[5]), ts.MkAbs(args[6]), nil)
	ts.Check(err)
	out, err := labtest.CoSign(msg, at, chain, labtest.CoSigner{Key: id.Signer, Certificate: id.Certificate, Capabilities: caps})
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[3]), out, 0o644))
}

// TestCapabilitiesConcurrentVerify is issue #18's Must show: 50 verify
// processes of the built binary, started together on one store, leave no
// corrupt file and no temporary file, and each signer's record is that of its
// newest mail, whichever process finished last. The newest mail of bob is the
// only one advertising AES-256-GCM, carol's newest the only one advertising
// AES-128-GCM; older ones, started after it in shuffled order, must not
// replace it.
func TestCapabilitiesConcurrentVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "smimectl")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	l := labtest.Seeded(t, "capabilities-concurrent")
	rootFile := filepath.Join(dir, "root.crt")
	if err := os.WriteFile(rootFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: l.Root.Cert.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	const n = 50
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	newest := map[string]int{"bob": 18, "carol": 43} // bob signs the even messages, carol the odd
	advertise := map[string]string{"bob": "aes-256-gcm", "carol": "aes-128-gcm"}
	var files []string
	for i := range n {
		who := "bob"
		if i%2 == 1 {
			who = "carol"
		}
		u := l.User(who)
		at := base.Add(time.Duration(i%7) * time.Hour) // older than every newest
		caps := []asn1.ObjectIdentifier{capabilityOIDs["aes-256-cbc"]}
		if i == newest[who] {
			at = base.AddDate(0, 1, 0)
			caps = []asn1.ObjectIdentifier{capabilityOIDs[advertise[who]], capabilityOIDs["aes-256-cbc"]}
		}
		msg := fmt.Sprintf("From: %s\r\nTo: alice@example.com\r\nSubject: %d\r\nContent-Type: text/plain\r\n\r\nMessage %d.\r\n", u.Email, i, i)
		signed, err := labtest.CoSign([]byte(msg), at, []*x509.Certificate{l.Intermediate.Cert},
			labtest.CoSigner{Key: u.Key, Certificate: u.Cert, Capabilities: caps})
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, fmt.Sprintf("m%02d.eml", i))
		if err := os.WriteFile(f, signed, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	// The newest mail is started among the first, so that older mail
	// finishes after it.
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
	store := filepath.Join(dir, "store")
	cmds := make([]*exec.Cmd, len(files))
	outs := make([]*bytes.Buffer, len(files))
	for i, f := range files {
		outs[i] = &bytes.Buffer{}
		cmds[i] = exec.Command(bin, "verify", "--trust", rootFile, "--revocation", "off", "--capabilities-db", store, "--in", f, "--out", os.DevNull)
		cmds[i].Stderr = outs[i]
		cmds[i].Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+filepath.Join(dir, "data"))
	}
	for i, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatalf("starting verify %d: %v", i, err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("verify %s: %v\n%s", files[i], err, outs[i])
		}
		if outs[i].Len() != 0 {
			t.Errorf("verify %s wrote to standard error:\n%s", files[i], outs[i])
		}
	}
	entries, err := os.ReadDir(store)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	want := []string{".lock", capabilities.Fingerprint(l.User("bob").Cert) + ".json", capabilities.Fingerprint(l.User("carol").Cert) + ".json"}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("store holds %q, want %q (no temporary files)", names, want)
	}
	s, err := capabilities.Open(store, capabilities.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for who, adv := range advertise {
		r, err := s.Lookup(l.User(who).Cert)
		if err != nil || r == nil {
			t.Fatalf("%s: record %v, %v", who, r, err)
		}
		if got := capabilities.Names(r.Capabilities); got != adv+", aes-256-cbc" || !r.Time.Equal(base.AddDate(0, 1, 0)) {
			t.Errorf("%s: record of %v advertising %q, want the newest mail's (%v, %q)", who, r.Time, got, base.AddDate(0, 1, 0), adv+", aes-256-cbc")
		}
	}
}
