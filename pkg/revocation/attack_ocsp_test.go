package revocation

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/smimectl/smimectl/internal/lab"
)

// TestOCSPAnswerForAnotherIssuer: an OCSP response is about the
// certificate whose CertID it carries, issuer and serial number. A
// responder that answers for two CAs (a delegated responder key certified
// by both, as shared responders are) signs "good" for serial S of the
// other CA; replayed for the revoked certificate of serial S of this CA,
// with this CA's delegation embedded, it was taken as this certificate's
// answer: x/crypto/ocsp matches the serial number only (RFC 6960 4.1.1,
// 4.2.2.1: the CertID is issuerNameHash, issuerKeyHash and serial).
func TestOCSPAnswerForAnotherIssuer(t *testing.T) {
	f := setup(t, nil)
	l := f.lab
	other, err := lab.New(lab.Options{Seed: "2"})
	if err != nil {
		t.Fatal(err)
	}
	// The shared responder's key is Bob's; this lab's intermediate
	// certifies it for OCSP signing.
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(78), Subject: pkix.Name{CommonName: "shared OCSP responder"},
		NotBefore: l.Options.Epoch, NotAfter: l.Options.Epoch.AddDate(3, 0, 0), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, l.Intermediate.Cert, l.User("bob").Key.Public(), l.Intermediate.Key)
	if err != nil {
		t.Fatal(err)
	}
	delegate, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	eve := f.user(t, "eve-revoked")
	produced := at.AddDate(0, 0, -1)
	for _, tc := range []struct {
		name   string
		issuer *x509.Certificate // the CA the CertID names
		status Status
		source Source
	}{
		{"this issuer", l.Intermediate.Cert, Good, SourceOCSP}, // the control: the same answer for this CA is used
		{"another issuer", other.Intermediate.Cert, Revoked, SourceURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.Handle("/", labCRLs(l))
			mux.HandleFunc("POST /ocsp", func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				req, err := ocsp.ParseRequest(body)
				if err != nil {
					t.Errorf("responder: %v", err)
					return
				}
				resp := ocsp.Response{Status: ocsp.Good, SerialNumber: req.SerialNumber, ThisUpdate: produced,
					NextUpdate: at.AddDate(0, 0, 7), ProducedAt: produced, Certificate: delegate}
				der, err := ocsp.CreateResponse(tc.issuer, delegate, resp, l.User("bob").Key)
				if err != nil {
					t.Errorf("responder: %v", err)
					return
				}
				w.Write(der)
			})
			var h http.Handler = mux
			f.handler.Store(&h)
			o, err := New(Options{OCSP: true, Mode: Hard}).Check(context.Background(), eve, l.Intermediate.Cert, at)
			if o.Status != tc.status || o.Source != tc.source {
				t.Fatalf("%v from %q (%s), %v; want %v from %q", o.Status, o.Source, o.Detail, err, tc.status, tc.source)
			}
			if tc.source == SourceURL && (o.Fetches[0].Err == nil || !strings.Contains(o.Fetches[0].Err.Error(), "another issuer")) {
				t.Errorf("OCSP fetch error %v, want the answer refused as being about another issuer", o.Fetches[0].Err)
			}
		})
	}
}
