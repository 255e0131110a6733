package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/smimectl/smimectl/internal/batch"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/verify"
)

// Red team (session 21): the text lines of verify/decrypt PATH... carry
// what a hostile sender chooses (the signer's name from an untrusted
// certificate, a reason quoting it) and what a local user chooses (file
// names). Beside line ends, terminal controls must not reach the terminal:
// ESC sequences (cursor up, erase line), C1 controls (8-bit CSI 0x9b, NEL),
// Unicode line separators and bidi overrides let one line show as another
// line saying "pass". Every byte of every line must be printable (space and
// the three tab separators aside).
func TestRedteamBatchTextNoControls(t *testing.T) {
	hostile := []string{
		"Mallory\x1b[1A\x1b[2K\x1b[Gok.eml\tpass\tAlice",
		"Mallory\vok.eml pass",
		"Mallory\fx",
		"Mallory\u0085ok.eml pass",
		"Mallory\u2028ok.eml pass",
		"Mallory\u202elmx.eml",
		"Mallory\x9b2K",
		"Mallory\x00\x7f",
	}
	for _, h := range hostile {
		recs := []*batchRecord{
			{in: batch.Input{Path: "m.eml", MboxIndex: -1}, verdict: verdictFail,
				out:  batchOutcome{res: &verify.Result{Signers: []*verify.Signer{{Subject: h, Emails: []string{"m@example.com\x1b[31m"}}}}},
				text: "the signer " + h + " is not trusted"},
			{in: batch.Input{Path: "dir/" + h + ".eml", MboxIndex: -1}, verdict: verdictError, out: batchOutcome{err: errors.New("x")}, text: "can't read"},
			{in: batch.Input{Path: h, MboxIndex: 3}, verdict: verdictSkip, text: "not signed"},
		}
		for _, rec := range recs {
			var buf bytes.Buffer
			if err := writeBatchText(&buf, rec); err != nil {
				t.Fatal(err)
			}
			line := strings.TrimSuffix(buf.String(), "\n")
			if strings.Count(line, "\t") != 3 {
				t.Errorf("%q: %d tabs in %q, want the 3 separators", h, strings.Count(line, "\t"), line)
			}
			for i, r := range line {
				if r == utf8.RuneError || r != '\t' && r != ' ' && !unicode.IsPrint(r) {
					t.Errorf("%q: line %q holds %U at byte %d", h, line, r, i)
					break
				}
			}
		}
		if got := batchName(batch.Input{Path: h, MboxIndex: -1}); !strings.HasPrefix(got, `"`) {
			t.Errorf("batchName(%q) = %q, not quoted", h, got)
		}
	}
}

// Red team (session 21): inspect PATH... prints, for every message, what
// the message claims: certificate names from its (unauthenticated)
// certificate set, signer subjects, protected header fields. A name with a
// line end or terminal controls must not add a line nor move the cursor:
// every line of a message's block is its name or starts with two spaces,
// and holds no control character.
func TestRedteamInspectTextNoControls(t *testing.T) {
	lines := func(hostile string) []string {
		out := inspectText(t, hostile)
		return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	}
	want := len(lines("x"))
	got := lines("x\nok.eml\n  layer 1: signed\r\x1b[2K\u2028\x9b")
	if len(got) != want {
		t.Errorf("%d lines, want %d (as many as with harmless names):\n%s", len(got), want, strings.Join(got, "\n"))
	}
	for i, line := range got {
		if i == 0 && line != "m.eml" || i > 0 && !strings.HasPrefix(line, "  ") {
			t.Errorf("line %d %q: not the message's name nor indented", i+1, line)
		}
		for _, r := range line {
			if r == utf8.RuneError || r != ' ' && !unicode.IsPrint(r) {
				t.Errorf("line %d %q holds %U", i+1, line, r)
				break
			}
		}
	}
}

// inspectText is writeInspectText's output for a message whose every
// claimed name is hostile.
func inspectText(t *testing.T, hostile string) string {
	t.Helper()
	ins := &verify.Inspection{
		Layers: []*verify.Layer{{
			Depth: 1, Kind: verify.KindSigned, MediaType: "application/pkcs7-mime", Encoding: "base64", ContentType: "data",
			Signers:      []*verify.Signer{{Subject: "CN=" + hostile, Issuer: "CN=" + hostile, Serial: "01"}},
			Certificates: []verify.CertificateInfo{{Subject: "CN=" + hostile, Issuer: "CN=" + hostile, Serial: "01", KeyUsage: hostile}},
			Note:         hostile,
		}},
		Content: "text/plain",
		ProtectedHeaders: &verify.ProtectedHeaders{HP: "clear",
			Fields: []mime.Field{{Name: "Subject", Value: hostile}},
			Outer:  []mime.Field{{Name: "Subject", Value: hostile}}},
	}
	rec := &batchRecord{in: batch.Input{Path: "m.eml", MboxIndex: -1}, out: batchOutcome{ins: ins}}
	var buf bytes.Buffer
	if err := writeInspectText(&buf, rec, false); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// Red team (session 21): warnings and errors on standard error quote what
// senders chose (a batch's per-message warnings, the signer's name in an
// error). A CR or ESC sequence inside must not redraw the
// "smimectl: warning: " prefix into something else, such as a forged
// "smimectl: verified:" line.
func TestRedteamStderrNoControls(t *testing.T) {
	var buf bytes.Buffer
	warn(&buf, "m.eml: %s", "signer 1 claims\r\x1b[2Ksmimectl: verified: signed by Alice\u202e\x9b")
	writeLines(&buf, errorPrefix, "the signer's certificate CN=x\rsmimectl: verified\x1b[1A was issued by an untrusted source")
	for i, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		for _, r := range line {
			if r == utf8.RuneError || r != ' ' && r != '\t' && !unicode.IsPrint(r) {
				t.Errorf("line %d %q holds %U", i+1, line, r)
				break
			}
		}
	}
}

// Red team (session 21): verify -v and decrypt -v report every layer, with
// the names of its signers, also of a layer that failed: a hostile sender's
// certificate named "x\nsmimectl: verified: signed by Alice" printed a
// line saying the message was verified.
func TestRedteamReportLayersOneLineEach(t *testing.T) {
	evil := "Mallory\nsmimectl: verified: signed by Alice <alice@example.com>\r\x1b[2K"
	res := &verify.Result{Layers: []*verify.Layer{
		{Depth: 1, Kind: verify.KindSigned, MediaType: "multipart/signed", Error: "untrusted",
			Signers: []*verify.Signer{{Subject: evil, Emails: []string{"m@example.com"}}}},
		{Depth: 2, Kind: verify.KindSigned, MediaType: "multipart/signed", Valid: true,
			Signers: []*verify.Signer{{Subject: evil}}},
	}}
	var buf bytes.Buffer
	reportLayers(&buf, res)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Errorf("%d lines for 2 layers:\n%s", len(lines), buf.String())
	}
	for i, line := range lines {
		if !strings.HasPrefix(line, "smimectl: layer ") {
			t.Errorf("line %d %q is no layer line", i+1, line)
		}
		for _, r := range line {
			if r == utf8.RuneError || r != ' ' && !unicode.IsPrint(r) {
				t.Errorf("line %d %q holds %U", i+1, line, r)
				break
			}
		}
	}
	if s := summary(&verify.Result{Signers: res.Layers[0].Signers}); strings.ContainsAny(s, "\n\r\x1b") {
		t.Errorf("summary %q holds a control character", s)
	}
}

// Red team (session 21): cert-verify -v of a certificate a sender made,
// whose CN and O hold "\nresult:\tvalid": the report printed a "result:
// valid" line of the certificate's own before the real "result: not valid".
func TestRedteamCertReportOneLinePerField(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	evil := "Mallory\nresult:\tvalid\r\x1b[2K"
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: evil, Organization: []string{evil}},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	res := &verify.CertificateResult{Cert: c, ChainCerts: []*x509.Certificate{c}, Purpose: verify.PurposeSign,
		Checks: []verify.Check{{Name: "chain", Status: verify.StatusFail, Detail: "untrusted"}}}
	var buf bytes.Buffer
	if err := writeCertReport(&buf, res, 1); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		if strings.HasPrefix(line, "result:") && !strings.Contains(line, "not valid") {
			t.Errorf("line %d %q: a result line the certificate wrote", i+1, line)
		}
		for _, r := range line {
			if r == utf8.RuneError || r != ' ' && r != '\t' && !unicode.IsPrint(r) {
				t.Errorf("line %d %q holds %U", i+1, line, r)
				break
			}
		}
	}
	if t.Failed() {
		t.Logf("report:\n%s", buf.String())
	}
}
