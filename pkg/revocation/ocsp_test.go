package revocation

import (
	"context"
	"crypto"
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

// responder answers OCSP requests at /ocsp with the status status(serial),
// signed by signer with key, embedding embed (nil: no certificate); the
// lab's CRLs stay available for the fallback.
func responder(t *testing.T, l *lab.Lab, signer *x509.Certificate, key crypto.Signer, embed *x509.Certificate,
	tmpl func(serial *big.Int) ocsp.Response) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", labCRLs(l))
	mux.HandleFunc("POST /ocsp", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := ocsp.ParseRequest(body)
		if err != nil {
			t.Errorf("responder: %v", err)
			http.Error(w, "bad request", 400)
			return
		}
		resp := tmpl(req.SerialNumber)
		resp.SerialNumber = req.SerialNumber
		resp.Certificate = embed
		der, err := ocsp.CreateResponse(l.Intermediate.Cert, signer, resp, key)
		if err != nil {
			t.Errorf("responder: %v", err)
			return
		}
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Write(der)
	})
	return mux
}

func TestOCSP(t *testing.T) {
	f := setup(t, nil)
	l := f.lab
	other, err := lab.New(lab.Options{Seed: "2"})
	if err != nil {
		t.Fatal(err)
	}
	delegate := func(eku []x509.ExtKeyUsage) *x509.Certificate {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(77), Subject: pkix.Name{CommonName: "lab OCSP responder"},
			NotBefore: l.Options.Epoch, NotAfter: l.Options.Epoch.AddDate(3, 0, 0), ExtKeyUsage: eku}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, l.Intermediate.Cert, l.User("bob").Key.Public(), l.Intermediate.Key)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c
	}
	authorised := delegate([]x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning})
	unauthorised := delegate([]x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection})
	eve := f.user(t, "eve-revoked").SerialNumber
	produced := at.AddDate(0, 0, -1)
	answer := func(serial *big.Int) ocsp.Response {
		r := ocsp.Response{Status: ocsp.Good, ThisUpdate: produced, NextUpdate: at.AddDate(0, 0, 7), ProducedAt: produced}
		if serial.Cmp(eve) == 0 {
			r.Status, r.RevokedAt, r.RevocationReason = ocsp.Revoked, at.AddDate(0, -2, 0), ocsp.Superseded
		}
		return r
	}
	stale := func(serial *big.Int) ocsp.Response {
		r := answer(serial)
		r.NextUpdate = at.AddDate(0, 0, -1)
		return r
	}
	unknown := func(serial *big.Int) ocsp.Response { r := answer(serial); r.Status = ocsp.Unknown; return r }
	ik := l.Intermediate.Key
	ic := l.Intermediate.Cert

	tests := []struct {
		name    string
		handler http.Handler
		cert    string
		status  Status
		source  Source
		reason  int
		refusal string // why the OCSP answer was refused, for a fallback to the CRL
	}{
		{"issuer signs, embeds itself", responder(t, l, ic, ik, ic, answer), "alice-sign", Good, SourceOCSP, 0, ""},
		{"issuer signs, no certificate", responder(t, l, ic, ik, nil, answer), "alice-sign", Good, SourceOCSP, 0, ""},
		{"revoked", responder(t, l, ic, ik, ic, answer), "eve-revoked", Revoked, SourceOCSP, ocsp.Superseded, ""},
		{"delegated responder", responder(t, l, authorised, l.User("bob").Key, authorised, answer), "alice-sign", Good, SourceOCSP, 0, ""},
		{"responder without OCSPSigning", responder(t, l, unauthorised, l.User("bob").Key, unauthorised, answer), "alice-sign", Good, SourceURL, 0, "not authorised to sign OCSP responses"},
		{"another CA's key", responder(t, l, other.Intermediate.Cert, other.Intermediate.Key, nil, answer), "alice-sign", Good, SourceURL, 0, "signature does not verify with the key of"},
		{"another CA embedded", responder(t, l, other.Intermediate.Cert, other.Intermediate.Key, other.Intermediate.Cert, answer), "eve-revoked", Revoked, SourceURL, 1, "is not certified by"},
		{"expired response", responder(t, l, ic, ik, ic, stale), "alice-sign", Good, SourceURL, 0, "the response expired at"},
		{"status unknown", responder(t, l, ic, ik, ic, unknown), "alice-sign", Good, SourceURL, 0, "does not know the certificate"},
		{"responder down", labCRLs(l), "alice-sign", Good, SourceURL, 0, "HTTP status 404"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.handler.Store(&tc.handler)
			cert := f.user(t, tc.cert)
			o, err := New(Options{OCSP: true, Mode: Hard}).Check(context.Background(), cert, ic, at)
			if o.Status != tc.status || o.Source != tc.source || o.Reason != tc.reason {
				t.Errorf("%v from %q reason %d (%s), want %v from %q reason %d", o.Status, o.Source, o.Reason, o.Detail, tc.status, tc.source, tc.reason)
			}
			if tc.status == Revoked {
				checkErr(t, err, new(*RevokedError))
			} else if err != nil {
				t.Errorf("error %v", err)
			}
			if len(o.Fetches) == 0 || o.Fetches[0].Source != SourceOCSP || o.Fetches[0].URL != cert.OCSPServer[0] {
				t.Fatalf("fetches %+v, want the OCSP request first", o.Fetches)
			}
			if tc.refusal == "" {
				if o.Fetches[0].Err != nil || len(o.Fetches) != 1 || o.Produced.IsZero() || o.URL != cert.OCSPServer[0] {
					t.Errorf("fetches %+v, produced %v url %q; want one good OCSP fetch with a time", o.Fetches, o.Produced, o.URL)
				}
				return
			}
			if o.Fetches[0].Err == nil || !strings.Contains(o.Fetches[0].Err.Error(), tc.refusal) {
				t.Errorf("OCSP fetch error %v, want %q", o.Fetches[0].Err, tc.refusal)
			}
		})
	}
}

// TestOCSPOnlyWhenAsked checks that without Options.OCSP no OCSP request is made.
func TestOCSPOnlyWhenAsked(t *testing.T) {
	f := setup(t, nil)
	f.handler.Store(new(responder(t, f.lab, f.lab.Intermediate.Cert, f.lab.Intermediate.Key, nil, func(*big.Int) ocsp.Response {
		t.Error("OCSP asked without Options.OCSP")
		return ocsp.Response{}
	})))
	o, err := New(Options{}).Check(context.Background(), f.user(t, "alice-sign"), f.lab.Intermediate.Cert, at)
	if err != nil || o.Source != SourceURL || len(o.Fetches) != 1 {
		t.Errorf("%v from %q, %d fetches, %v; want good from one CRL fetch", o.Status, o.Source, len(o.Fetches), err)
	}
}
